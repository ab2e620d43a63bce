//! The `Authenticated*` wrappers: the inner ADU's complete UPER encoding (octet-padded, per
//! X.691 §11.1) carried as a BIT STRING, and a MAC over exactly those octets.
//!
//! The MAC alternative of `MessageAuthenticator` names its key by `masterKeyRef` and
//! `keyDerivationID`; which key that is, is the back end's business (keys per OBE or contract).
//! The algorithm is HMAC-SHA-256 (OID 1.2.840.113549.2.9): ISO 17575-1 leaves the algorithm to
//! the `AlgorithmIdentifier`, and a receiver rejects any other identifier.

use crate::charging::{
    AlgorithmIdentifier, AuthenticatedChargeReport, AuthenticatedChargeReportResponse,
    ChargeReport, ChargeReportResponse, MacMessageAuthenticator, MessageAuthenticator,
};
use crate::AduError;
use hmac::{Hmac, Mac};
use rasn::types::{BitString, ObjectIdentifier, OctetString};
use sha2::Sha256;

/// OID arcs of hmacWithSHA256 (RFC 4231 / PKCS #5): 1.2.840.113549.2.9.
pub const HMAC_SHA256_OID: &[u32] = &[1, 2, 840, 113549, 2, 9];

/// Which key a MAC was made with, as carried in `MacMessageAuthenticator`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyRef {
    /// `masterKeyRef`.
    pub master_key_ref: i64,
    /// `keyDerivationID` (e.g. the OBE id or contract the key was derived for).
    pub key_derivation_id: Vec<u8>,
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Builds a MAC authenticator over `per` with `key`.
pub fn mac_authenticator(key: &[u8], key_ref: &KeyRef, per: &[u8]) -> MessageAuthenticator {
    let oid = ObjectIdentifier::new(HMAC_SHA256_OID).expect("valid OID");
    MessageAuthenticator::Mac(MacMessageAuthenticator {
        algorithm_identifier: AlgorithmIdentifier::new(oid),
        master_key_ref: key_ref.master_key_ref.into(),
        key_derivation_id: OctetString::from(key_ref.key_derivation_id.clone()),
        authenticator: BitString::from_slice(&hmac_sha256(key, per)),
    })
}

/// The key reference a wrapper claims, so the receiver can look the key up.
pub fn key_ref(authenticator: &MessageAuthenticator) -> Result<KeyRef, AduError> {
    match authenticator {
        MessageAuthenticator::Mac(m) => Ok(KeyRef {
            master_key_ref: i64::try_from(&m.master_key_ref).map_err(|_| {
                AduError::Authentication(
                    "messageAuthenticator.mac.masterKeyRef out of range".into(),
                )
            })?,
            key_derivation_id: m.key_derivation_id.to_vec(),
        }),
        MessageAuthenticator::Signature(s) => match *s {},
    }
}

/// Checks `authenticator` over `per` with `key` (constant-time comparison).
pub fn verify_mac(
    key: &[u8],
    authenticator: &MessageAuthenticator,
    per: &[u8],
) -> Result<(), AduError> {
    let MessageAuthenticator::Mac(m) = authenticator else {
        unreachable!("the signature alternative is uninhabited")
    };
    if m.algorithm_identifier.algorithm.as_ref() != HMAC_SHA256_OID {
        return Err(AduError::Authentication(format!(
            "messageAuthenticator.mac.algorithmIdentifier {:?} is not hmacWithSHA256",
            m.algorithm_identifier.algorithm.as_ref()
        )));
    }
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(per);
    let tag = m.authenticator.as_raw_slice();
    if m.authenticator.len() != 256 {
        return Err(AduError::Authentication(
            "messageAuthenticator.mac.authenticator is not 256 bits".into(),
        ));
    }
    mac.verify_slice(tag).map_err(|_| {
        AduError::Authentication("messageAuthenticator.mac.authenticator does not verify".into())
    })
}

/// Wraps a charge report: encodes it and MACs the bytes.
pub fn authenticate_charge_report(
    report: &ChargeReport,
    key: &[u8],
    key_ref: &KeyRef,
) -> Result<AuthenticatedChargeReport, AduError> {
    let per = crate::encode(report)?;
    Ok(AuthenticatedChargeReport {
        message_authenticator: mac_authenticator(key, key_ref, &per),
        charge_report_per: BitString::from_vec(per),
    })
}

/// Wraps a charge report response.
pub fn authenticate_response(
    response: &ChargeReportResponse,
    key: &[u8],
    key_ref: &KeyRef,
) -> Result<AuthenticatedChargeReportResponse, AduError> {
    let per = crate::encode(response)?;
    Ok(AuthenticatedChargeReportResponse {
        message_authenticator: mac_authenticator(key, key_ref, &per),
        charge_report_response_per: BitString::from_vec(per),
    })
}

/// The inner PER octets of a wrapper's BIT STRING; a length that is not a whole number of
/// octets cannot be a complete UPER encoding.
pub fn inner_octets<'a>(bits: &'a BitString, field: &'static str) -> Result<&'a [u8], AduError> {
    if bits.len() % 8 != 0 {
        return Err(AduError::Decode {
            field: field.into(),
            detail: format!(
                "{} bits is not a whole number of octets (a complete UPER encoding is octet-padded)",
                bits.len()
            ),
        });
    }
    Ok(bits.as_raw_slice())
}

/// Verifies and opens an authenticated charge report with `key`.
pub fn open_charge_report(
    wrapper: &AuthenticatedChargeReport,
    key: &[u8],
) -> Result<ChargeReport, AduError> {
    let per = inner_octets(&wrapper.charge_report_per, "chargeReportPer")?;
    verify_mac(key, &wrapper.message_authenticator, per)?;
    crate::decode::<ChargeReport>(per).map_err(|e| e.within("chargeReportPer"))
}

/// Verifies and opens an authenticated charge report response with `key`.
pub fn open_response(
    wrapper: &AuthenticatedChargeReportResponse,
    key: &[u8],
) -> Result<ChargeReportResponse, AduError> {
    let per = inner_octets(
        &wrapper.charge_report_response_per,
        "chargeReportResponsePer",
    )?;
    verify_mac(key, &wrapper.message_authenticator, per)?;
    crate::decode::<ChargeReportResponse>(per).map_err(|e| e.within("chargeReportResponsePer"))
}

/// Wraps a usage statement (the `authenticatedUsageStatement` alternative of a report's
/// usage statement list): its own UPER encoding and a MAC over those octets.
pub fn authenticate_usage_statement(
    statement: &crate::charging::UsageStatement,
    key: &[u8],
    key_ref: &KeyRef,
) -> Result<crate::charging::AuthenticatedUsageStatement, AduError> {
    let per = crate::encode(statement)?;
    Ok(crate::charging::AuthenticatedUsageStatement {
        message_authenticator: mac_authenticator(key, key_ref, &per),
        usage_statement_per: BitString::from_vec(per),
    })
}

/// Verifies and opens an authenticated usage statement with `key`.
pub fn open_usage_statement(
    wrapper: &crate::charging::AuthenticatedUsageStatement,
    key: &[u8],
) -> Result<crate::charging::UsageStatement, AduError> {
    let per = inner_octets(&wrapper.usage_statement_per, "usageStatementPer")?;
    verify_mac(key, &wrapper.message_authenticator, per)?;
    crate::decode::<crate::charging::UsageStatement>(per).map_err(|e| e.within("usageStatementPer"))
}
