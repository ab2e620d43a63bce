//! # unicharge-efc: ISO 17575-1 application data units
//!
//! Rust types for ISO 17575-1:2016, module `EfcAutonomousCharging` version 2
//! (`{iso(1) standard(0) 17575 part1(1) version2(2)}`), and the parts of ISO 14906,
//! ISO 14816, ISO 12813 and ISO 17575-3 it imports, with unaligned PER (UPER) encoding and
//! decoding through [rasn](https://docs.rs/rasn). No I/O: transports and the back end live in
//! `unicharge-server`, the front-end simulator in `unicharge-sim`.
//!
//! * [`charging`]: `ChargeReport`, `ChargeReportResponse`, the `Authenticated*` wrappers,
//!   `AccountUpdate`, `UsageStatement` and the rest of the module.
//! * [`dsrc`], [`ccc`]: imported ISO 14906 / 14816 / 12813 types.
//! * [`auth`]: building and verifying the MAC wrappers.
//! * [`adu`]: the one-octet ADU kind our transports put in front of the PER bytes.
//!
//! ## Version 1 (2010) names used by the conformance suite
//!
//! The test suite (ISO/TS 16407-1:2011, seed 002) was written against ISO/TS 17575-1:2010.
//! We implement version 2 and read the suite's names through this mapping:
//!
//! | version 1 (2010, test suite) | version 2 (2016, this crate) |
//! |---|---|
//! | — | `protocolVersion` (added; 0 = iso17575-1-2016) |
//! | `tollCharger` | `tollContext` |
//! | — | `chargeReportFinalRecipient` (added) |
//! | `vatForThisSession` | `sumVatForThisSession` |
//! | `transactionCounter` | `chargeReportCounter` |
//! | `listOfCCCAttributes` | `listOfCccAttributes` |
//! | `authenticator` / `responseAuthenticator` fields | `Authenticated*` wrappers (PER as BIT STRING + `MessageAuthenticator`) |
//! | `reportRecipientId` | `chargeReportRespSender` |
//! | `obeStatusForDriver` incl. `nokInLocalContext` (3) | `obeStatusForDriver` is ISO 14906 `SetMMIRq` (ok 0 / nok 1 / contactOperator 2 / noSignalling 255); 3 is still in its 0..255 range |
//! | `Distance.dist` `Int3` (roll-over at 16777215) | `Distance.dist` `Int4` (roll-over at 4294967295) |
//!
//! Consequences the back end documents: the mileage wrap is at the v2 maximum
//! (4294967295); a v1 report's 24-bit roll-over (16777215 → small) is also accepted as a wrap.
//! `PaymentFee.paymentFeeAmount` and `Distance.dist`/`Duration.dur` are unsigned in v2, so the
//! "negative limit" test purposes for credit, distance and duration accounts (TP/BEF/FE/BV/09,
//! 13, 21) cannot be expressed in v2; event limits (`INTEGER`) and time limits can.
//!
//! ## What is not modelled
//!
//! `ListOfDsrcUsageData` (ISO 14906 `AttributeList{}` containers) and the `signature`
//! alternative of `MessageAuthenticator` (X.509 names and certificates) are uninhabited types:
//! decoding a report that contains them fails with an error naming the element. See
//! `docs/adr/0014-efc-adus-with-rasn.md`.

pub mod adu;
pub mod auth;
pub mod ccc;
pub mod charging;
pub mod dsrc;
mod unsupported;

pub use charging::*;
pub use dsrc::{EfcContextMark, PaymentFee, Provider};

/// `AidIdentifier` value `iso17575-1-2016`.
pub const AID_ISO17575_1_2016: u8 = 0;

/// Why an ADU could not be decoded, encoded or authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AduError {
    /// The bytes are not a valid UPER encoding of the expected type. `field` is the path of
    /// ASN.1 field names (dot-separated) where decoding stopped; empty at the top level.
    #[error("malformed ADU at `{field}`: {detail}")]
    Decode {
        /// Dotted path of the field, e.g. `usageStatementList.usageStatement.aggregatedFee`.
        field: String,
        /// What was wrong there.
        detail: String,
    },
    /// The value cannot be encoded (a constraint is violated).
    #[error("cannot encode ADU: {0}")]
    Encode(String),
    /// The MAC does not verify or uses an unknown algorithm.
    #[error("authentication failed: {0}")]
    Authentication(String),
}

impl AduError {
    /// Prefixes the field path with `outer` (for ADUs nested in a BIT STRING).
    pub fn within(self, outer: &str) -> Self {
        match self {
            AduError::Decode { field, detail } => AduError::Decode {
                field: if field.is_empty() {
                    outer.to_string()
                } else {
                    format!("{outer}.{field}")
                },
                detail,
            },
            other => other,
        }
    }
}

fn from_rasn(error: rasn::error::DecodeError) -> AduError {
    use rasn::error::DecodeErrorKind;
    let mut path = Vec::new();
    let mut root = &error;
    while let DecodeErrorKind::FieldError { name, nested } = &*root.kind {
        path.push(*name);
        root = nested;
    }
    let detail = root.kind.to_string();
    // rasn reports the Rust field names; give the ASN.1 (lowerCamelCase) names of the standard.
    let field = path
        .iter()
        .map(|n| snake_to_camel(n))
        .collect::<Vec<_>>()
        .join(".");
    AduError::Decode { field, detail }
}

fn snake_to_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Decodes one complete UPER encoding of `T`; trailing octets are an error (one ADU per frame).
pub fn decode<T: rasn::Decode>(bytes: &[u8]) -> Result<T, AduError> {
    let (value, rest) = rasn::uper::decode_with_remainder::<T>(bytes).map_err(from_rasn)?;
    if !rest.is_empty() {
        return Err(AduError::Decode {
            field: String::new(),
            detail: format!("{} octets after the end of the ADU", rest.len()),
        });
    }
    Ok(value)
}

/// Encodes `value` in canonical UPER, padded to whole octets.
pub fn encode<T: rasn::Encode>(value: &T) -> Result<Vec<u8>, AduError> {
    rasn::uper::encode(value).map_err(|e| AduError::Encode(e.to_string()))
}
