//! Session limits: a unicharge extension module (not in OCPI 2.2.1 / 2.3.0) for the OCPI 3.0
//! business use case B4.2 (the MSP sets charging limits on a session, so that it can offer its
//! driver a pre-paid contract: "charging should stop before the pre-paid account is empty").
//!
//! `PUT {cpo endpoint}/{session_id}` with [`SessionLimits`] sets (replaces) the limits of one
//! of the MSP's running sessions; `GET` reads them with what the session used so far
//! ([`SessionLimitsState`]); `DELETE` lifts them. The CPO stops the session, with the same
//! remote stop a STOP_SESSION command uses, as soon as it sees one limit reached; the CDR's
//! `remark` says which. Published as [`MODULE_ID`] in version details by the CPO role; plain
//! partners never see it.
//!
//! Semantics (ADR 0045): `max_cost` is the session's total *including* VAT (2.3.0: after
//! taxes), in the session's currency, as the CPO prices it with its tariff; `max_energy` is kWh
//! delivered; `max_duration` is seconds since the session started. At least one is given, each
//! above zero. Metering is sampled, so the final figures may pass a limit by what the EV took
//! between the last meter value and the stop: an MSP that must never be overdrawn keeps a
//! margin.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::types::DisplayText;

/// The module identifier in version details.
pub const MODULE_ID: &str = "x-unicharge-sessionlimits";

/// What the MSP sets on a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionLimits {
    /// Most the session may cost, including VAT, in `currency`.
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_cost: Option<Decimal>,
    /// ISO 4217 code of `max_cost`: must be the session's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Most energy the session may deliver, kWh.
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_energy: Option<Decimal>,
    /// Longest the session may last from its start, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<i64>,
    /// Shown to the driver at the EVSE when a limit stops the session (one text per
    /// language).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop_message: Vec<DisplayText>,
    /// B2.4: the driver's own tariff at its MSP, shown at the EVSE while the session runs
    /// (one text per language).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub driver_tariff: Vec<DisplayText>,
    pub last_updated: DateTime<Utc>,
}

ocpi_enum! {
    /// Which limit was reached.
    LimitKind {
        Cost => "COST",
        Energy => "ENERGY",
        Duration => "DURATION",
    }
}

ocpi_enum! {
    /// Where a session's limits stand.
    LimitStatus {
        /// Watched: none reached yet.
        Armed => "ARMED",
        /// One was reached; the CPO stopped (or is stopping) the session.
        Reached => "REACHED",
        /// The session ended before any was reached.
        Ended => "ENDED",
    }
}

/// The limits of a session as the CPO holds them, with what the session used so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionLimitsState {
    pub session_id: String,
    pub limits: SessionLimits,
    pub status: LimitStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reached: Option<LimitKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reached_at: Option<DateTime<Utc>>,
    /// The station's answer to the stop (`Accepted`, `Rejected`) or why it failed (retried).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_result: Option<String>,
    /// The session's cost so far, including VAT (absent when no tariff prices it).
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cost: Option<Decimal>,
    pub currency: String,
    /// kWh delivered so far.
    #[serde(with = "crate::number::exact")]
    pub energy: Decimal,
    /// Seconds since the session started.
    pub duration: i64,
}

/// Longest text of a stop message or driver tariff (OCPP 2.0.1 message content).
pub const MAX_TEXT: usize = 512;

impl SessionLimits {
    /// At least one limit, each above zero, a currency with a cost, texts a station can show.
    pub fn check(&self) -> Result<(), String> {
        if self.max_cost.is_none() && self.max_energy.is_none() && self.max_duration.is_none() {
            return Err("set at least one of max_cost, max_energy, max_duration".into());
        }
        if self.max_cost.is_some_and(|c| c <= Decimal::ZERO)
            || self.max_energy.is_some_and(|e| e <= Decimal::ZERO)
            || self.max_duration.is_some_and(|d| d <= 0)
        {
            return Err("limits must be above zero".into());
        }
        if self.max_cost.is_some() && self.currency.as_deref().is_none_or(|c| c.len() != 3) {
            return Err("max_cost needs the currency (ISO 4217, three letters)".into());
        }
        if let Some(long) = self
            .stop_message
            .iter()
            .chain(&self.driver_tariff)
            .find(|t| t.text.is_empty() || t.text.chars().count() > MAX_TEXT)
        {
            return Err(format!(
                "a text ({}) is empty or longer than the {MAX_TEXT} characters a station shows",
                long.language
            ));
        }
        Ok(())
    }

    /// The first limit that `cost`, `energy` (kWh) and `duration` (seconds) reach.
    pub fn reached(
        &self,
        cost: Option<Decimal>,
        energy: Decimal,
        duration: i64,
    ) -> Option<LimitKind> {
        if let (Some(max), Some(cost)) = (self.max_cost, cost) {
            if cost >= max {
                return Some(LimitKind::Cost);
            }
        }
        if self.max_energy.is_some_and(|max| energy >= max) {
            return Some(LimitKind::Energy);
        }
        if self.max_duration.is_some_and(|max| duration >= max) {
            return Some(LimitKind::Duration);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(json: &str) -> SessionLimits {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn limits_read_exactly_and_checked() {
        let l = limits(
            r#"{"max_cost": 5.10, "currency": "EUR", "max_energy": 12.345,
                "last_updated": "2026-12-07T08:00:00Z"}"#,
        );
        assert_eq!(l.max_cost, Some(Decimal::new(510, 2)));
        assert_eq!(l.max_energy, Some(Decimal::new(12345, 3)));
        assert!(l.check().is_ok());
        let none = limits(r#"{"last_updated": "2026-12-07T08:00:00Z"}"#);
        assert!(none.check().is_err());
        let no_currency = limits(r#"{"max_cost": 5, "last_updated": "2026-12-07T08:00:00Z"}"#);
        assert!(no_currency.check().unwrap_err().contains("currency"));
        let zero = limits(r#"{"max_duration": 0, "last_updated": "2026-12-07T08:00:00Z"}"#);
        assert!(zero.check().is_err());
    }

    #[test]
    fn the_first_limit_reached_is_named() {
        let l = limits(
            r#"{"max_cost": 5.00, "currency": "EUR", "max_energy": 10, "max_duration": 3600,
                "last_updated": "2026-12-07T08:00:00Z"}"#,
        );
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(l.reached(Some(d("4.99")), d("9.999"), 3599), None);
        assert_eq!(
            l.reached(Some(d("5.00")), d("1"), 10),
            Some(LimitKind::Cost)
        );
        assert_eq!(l.reached(None, d("10.000"), 10), Some(LimitKind::Energy));
        assert_eq!(
            l.reached(Some(d("1")), d("1"), 3600),
            Some(LimitKind::Duration)
        );
    }
}
