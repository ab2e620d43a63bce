//! # unicharge-efc-backend: the ISO 17575-1 road-usage charging back end
//!
//! Receives `ChargeReport` / `AuthenticatedChargeReport` ADUs from OBE front ends, and for each:
//!
//! 1. decodes it (UPER, [`unicharge_efc`]); a malformed frame gets an error frame and a log line,
//!    and the connection stays open;
//! 2. verifies the MAC of an authenticated report with the key registered for the OBE
//!    (`keyDerivationID` = the OBE key); refuses plain reports from OBEs that must authenticate;
//! 3. checks structure and values ([`checks`]): timeOfReport against local time ± tolerance,
//!    unique usageStatementIds, begin < end of every period, vehicleLPNr not repeated, tariff
//!    classes defined, mileage never decreasing within a contract (with roll-over), reserved
//!    accountStatus values;
//! 4. tracks `chargeReportCounter` per OBE (+1, 4294967295 → 0): a repeated counter is answered
//!    with the stored response byte for byte; a jump is recorded as a gap (not refused);
//! 5. stores the report, its answer and its usage statements as charge records **durably before
//!    answering** (`unicharge_store`; the reports that arrive while a commit is under way go
//!    to the store together as one writer job, [`batcher`]);
//! 6. answers `ChargeReportResponse` with the `dataReceived` echo (counter, else mileage, else
//!    timeOfReport), `obeStatusForDriver` and `accountUpdate` from the operator's queued update
//!    for the OBE, else from policy ([`EfcConfig`]: nok when a rule is broken, else the status
//!    configured for the reported account status). A contract registered with core-ledger
//!    accounts ([`ledger_feedback`]) has them debited by each report in the same durable write,
//!    and their standing chooses obeStatusForDriver and, when the OBE is out of step, a
//!    `setAccount` with what the ledger has available.
//!
//! Transports ([`transport`]): TCP with a 4-octet length prefix, and HTTP POST; both carry the
//! same frame (`docs/efc-transport.md`).

pub mod backend;
pub mod batcher;
pub mod checks;
pub mod keys;
pub mod ledger_feedback;
pub mod transport;
pub mod updates;

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};
use unicharge_efc::dsrc::{set_mmi, CountryCode};
use unicharge_efc::{account_status, Provider};

pub use backend::{Backend, Clock, Refusal};
pub use checks::TariffClasses;

/// The `[efc]` section of the server configuration. Every key has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EfcSettings {
    /// TCP listener (4-octet length prefix per frame); "" disables.
    #[serde(with = "optional_addr")]
    pub tcp_listen: Option<SocketAddr>,
    /// HTTP listener (`POST /efc/adu`, application/octet-stream); "" disables.
    #[serde(with = "optional_addr")]
    pub http_listen: Option<SocketAddr>,
    /// How far timeOfReport may be from the back end's clock, in seconds.
    pub time_tolerance_secs: u32,
    /// Largest frame accepted, in octets.
    pub max_frame: u32,
    /// `chargeReportRespSender`: country code and provider id of this back end; absent if unset.
    pub sender_country_code: Option<u16>,
    pub sender_provider_id: Option<u16>,
    /// obeStatusForDriver (ISO 14906 SetMMIRq: 0 ok, 1 nok, 2 contactOperator, 255
    /// noSignalling) answered for each reported accountStatus, when nothing is queued.
    pub status_when_ok: u8,
    pub status_when_low: u8,
    pub status_when_empty: u8,
    pub status_when_negative: u8,
    /// obeStatusForDriver when the contract has ledger accounts and one of them is below its
    /// `lowBelow` (default ok) or has nothing left above its floor (default contactOperator).
    pub status_when_account_low: u8,
    pub status_when_account_empty: u8,
    /// Tariff classes the toll context defines; empty lists accept any class.
    pub tariff_classes: TariffClasses,
}

impl Default for EfcSettings {
    fn default() -> Self {
        EfcSettings {
            tcp_listen: Some(SocketAddr::from(([0, 0, 0, 0], 17575))),
            http_listen: Some(SocketAddr::from(([0, 0, 0, 0], 17576))),
            time_tolerance_secs: 900,
            max_frame: 65_536,
            sender_country_code: None,
            sender_provider_id: None,
            status_when_ok: set_mmi::OK,
            status_when_low: set_mmi::OK,
            status_when_empty: set_mmi::OK,
            status_when_negative: set_mmi::OK,
            status_when_account_low: set_mmi::OK,
            status_when_account_empty: set_mmi::CONTACT_OPERATOR,
            tariff_classes: TariffClasses::default(),
        }
    }
}

/// The back end's run-time configuration (derived from [`EfcSettings`]).
#[derive(Debug, Clone)]
pub struct EfcConfig {
    pub settings: EfcSettings,
    pub sender: Option<Provider>,
    pub tariff_classes: TariffClasses,
}

impl From<EfcSettings> for EfcConfig {
    fn from(settings: EfcSettings) -> Self {
        let sender = match (settings.sender_country_code, settings.sender_provider_id) {
            (Some(c), Some(p)) => Some(Provider {
                country_code: CountryCode::from_u16(c),
                provider_identifier: p.min(16383),
            }),
            _ => None,
        };
        EfcConfig {
            tariff_classes: settings.tariff_classes.clone(),
            sender,
            settings,
        }
    }
}

impl Default for EfcConfig {
    fn default() -> Self {
        EfcSettings::default().into()
    }
}

impl EfcConfig {
    pub fn time_tolerance(&self) -> chrono::Duration {
        chrono::Duration::seconds(i64::from(self.settings.time_tolerance_secs))
    }

    /// obeStatusForDriver by reported account status (policy).
    pub fn status_for(&self, status: Option<u8>) -> u8 {
        let s = &self.settings;
        match status {
            Some(account_status::LOW) => s.status_when_low,
            Some(account_status::EMPTY) => s.status_when_empty,
            Some(account_status::NEGATIVE) => s.status_when_negative,
            _ => s.status_when_ok,
        }
    }
}

mod optional_addr {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::net::SocketAddr;

    pub fn serialize<S: Serializer>(v: &Option<SocketAddr>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(a) => s.serialize_str(&a.to_string()),
            None => s.serialize_str(""),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
        let text = String::deserialize(d)?;
        if text.is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|e| {
            serde::de::Error::custom(format!(
                "{text:?} is not host:port ({e}); use \"\" to disable"
            ))
        })
    }
}
