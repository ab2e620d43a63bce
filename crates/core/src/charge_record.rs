//! Charge records (CDRs): what a finished session is owed, built once from its facts.
//!
//! A charge record answers who (token, group), where (station, EVSE, connector), when (start,
//! end), what (energy, charging and idle time) and for how much (tariff and cost breakdown). It
//! is the document a driver is billed from and that roaming (OCPI `CDR`), telecom charging
//! (Diameter Rf accounting) and tolling report onwards, so it carries a snapshot of the tariff
//! it was rated with: the bill can be recomputed by hand ([`crate::rating::rate`] documents the
//! rule) even after the tariff has changed.
//!
//! Building is pure: same facts, same tariff, same `created_at` → the same record, so a
//! retransmitted end-of-transaction produces an identical record under the same id.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::metering::{usage, EnergyReading, StateChange, Usage};
use crate::rating::{rate, CostBreakdown};
use crate::tariff::Tariff;

/// A charge record for one finished transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargeRecord {
    /// `<station_id>:<transaction_id>`, see [`charge_record_id`].
    pub id: String,
    pub station_id: String,
    pub evse_id: Option<i64>,
    pub connector_id: Option<i64>,
    /// The station's transaction id (unique per station only, hence the composite `id`).
    pub transaction_id: String,
    /// The token that authorized the session, if any.
    pub id_token: Option<String>,
    /// The token's type (OCPP `IdTokenEnumType`, e.g. `ISO14443`, `eMAID`).
    pub id_token_type: Option<String>,
    /// The token's group (OCPP `groupIdToken`), which may have selected the tariff.
    pub group_id_token: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    /// Why the session ended, as reported (OCPP `stoppedReason`, e.g. `EVDisconnected`).
    pub stopped_reason: Option<String>,
    /// Energy and durations, with the flag for a register that went backwards.
    pub usage: Usage,
    /// The tariff the session was rated with; `None` = not rated (no tariff applied).
    pub tariff_id: Option<String>,
    /// The cost under that tariff; `None` exactly when `tariff_id` is `None`.
    pub cost: Option<CostBreakdown>,
    /// When the record was built.
    pub created_at: DateTime<Utc>,
    /// A copy of the tariff as it was when rated, so the record stays self-explaining after
    /// the tariff is edited or retired (OCPI CDRs carry their tariffs the same way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tariff: Option<Tariff>,
}

/// Everything known about a finished session, as the front door collected it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionFacts {
    pub station_id: String,
    pub evse_id: Option<i64>,
    pub connector_id: Option<i64>,
    pub transaction_id: String,
    pub id_token: Option<String>,
    pub id_token_type: Option<String>,
    pub group_id_token: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub stopped_reason: Option<String>,
    /// Every energy register reading of the session, in any order.
    #[serde(default)]
    pub readings: Vec<EnergyReading>,
    /// Every plug-state change of the session, in any order.
    #[serde(default)]
    pub changes: Vec<StateChange>,
}

/// The id of the charge record of a transaction: `<station_id>:<transaction_id>`.
///
/// One record per transaction: the store keys on this id, so a retransmitted end of
/// transaction cannot create a second record. A transaction id is only unique within its
/// station, hence the station prefix. Station ids may themselves contain `:` (the OCPP
/// identifier alphabet allows it), which would make `A:B` + `C` and `A` + `B:C` collide; so
/// `%` and `:` in the station id are percent-encoded (`%25`, `%3A`) — the first `:` of the id
/// then always ends the station part. Ordinary station ids are unchanged.
pub fn charge_record_id(station_id: &str, transaction_id: &str) -> String {
    let mut id = String::with_capacity(station_id.len() + transaction_id.len() + 1);
    for c in station_id.chars() {
        match c {
            '%' => id.push_str("%25"),
            ':' => id.push_str("%3A"),
            c => id.push(c),
        }
    }
    id.push(':');
    id.push_str(transaction_id);
    id
}

/// Build the charge record of a finished session: usage from [`usage`] over
/// `[started_at, ended_at]`, cost from [`rate`] when a tariff is given (the caller selects it
/// with [`crate::tariff::select_tariff`], normally at the session start, so the driver pays
/// the price shown at Authorize). `created_at` is passed in rather than read from the clock so
/// that building stays deterministic and testable.
pub fn charge_record(
    facts: SessionFacts,
    tariff: Option<&Tariff>,
    created_at: DateTime<Utc>,
) -> ChargeRecord {
    let usage = usage(
        &facts.readings,
        &facts.changes,
        facts.started_at,
        facts.ended_at,
    );
    charge_record_of_usage(facts, usage, tariff, created_at)
}

/// [`charge_record`] for a session whose usage is already reduced — by a running aggregate
/// ([`crate::metering::MeteredUsage::usage_between`] over `[started_at, ended_at]`) that
/// equals [`usage`] of the series without keeping it. `facts.readings` and `facts.changes` are
/// not looked at (leave them empty). Same rating, same record.
pub fn charge_record_of_usage(
    facts: SessionFacts,
    usage: Usage,
    tariff: Option<&Tariff>,
    created_at: DateTime<Utc>,
) -> ChargeRecord {
    let cost = tariff.map(|t| rate(t, &usage));
    ChargeRecord {
        id: charge_record_id(&facts.station_id, &facts.transaction_id),
        station_id: facts.station_id,
        evse_id: facts.evse_id,
        connector_id: facts.connector_id,
        transaction_id: facts.transaction_id,
        id_token: facts.id_token,
        id_token_type: facts.id_token_type,
        group_id_token: facts.group_id_token,
        started_at: facts.started_at,
        ended_at: facts.ended_at,
        stopped_reason: facts.stopped_reason,
        usage,
        tariff_id: tariff.map(|t| t.id.clone()),
        cost,
        created_at,
        tariff: tariff.cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metering::PlugState;
    use chrono::{TimeDelta, TimeZone};
    use rust_decimal::Decimal;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn at(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, 8, 0, 0).unwrap() + TimeDelta::minutes(min)
    }

    fn facts() -> SessionFacts {
        SessionFacts {
            station_id: "CP001".into(),
            evse_id: Some(1),
            connector_id: Some(1),
            transaction_id: "tx-42".into(),
            id_token: Some("04A1B2C3".into()),
            id_token_type: Some("ISO14443".into()),
            group_id_token: Some("FLEET".into()),
            started_at: at(0),
            ended_at: at(70),
            stopped_reason: Some("EVDisconnected".into()),
            readings: vec![
                EnergyReading {
                    timestamp: at(70),
                    wh: dec("112345"),
                },
                EnergyReading {
                    timestamp: at(0),
                    wh: dec("100000"),
                },
            ],
            changes: vec![
                StateChange {
                    timestamp: at(0),
                    state: PlugState::Idle,
                },
                StateChange {
                    timestamp: at(5),
                    state: PlugState::Charging,
                },
                StateChange {
                    timestamp: at(65),
                    state: PlugState::Idle,
                },
            ],
        }
    }

    fn tariff() -> Tariff {
        Tariff {
            id: "STD".into(),
            currency: "EUR".into(),
            vat_percent: dec("20"),
            price_per_kwh: dec("0.30"),
            price_per_charging_minute: dec("0.01"),
            price_per_idle_minute: dec("0.10"),
            session_fee: dec("0.50"),
            valid_from: None,
            valid_to: None,
            display_text: vec![],
        }
    }

    #[test]
    fn record_with_tariff() {
        let created = at(71);
        let r = charge_record(facts(), Some(&tariff()), created);
        assert_eq!(r.id, "CP001:tx-42");
        assert_eq!(r.station_id, "CP001");
        assert_eq!(r.transaction_id, "tx-42");
        assert_eq!(r.evse_id, Some(1));
        assert_eq!(r.group_id_token.as_deref(), Some("FLEET"));
        assert_eq!(r.stopped_reason.as_deref(), Some("EVDisconnected"));
        assert_eq!(r.usage.energy_wh, dec("12345"));
        assert_eq!(r.usage.charging_seconds, 3600);
        assert_eq!(r.usage.idle_seconds, 600);
        assert!(!r.usage.energy_went_backwards);
        assert_eq!(r.tariff_id.as_deref(), Some("STD"));
        assert_eq!(r.tariff.as_ref(), Some(&tariff()));
        let cost = r.cost.as_ref().unwrap();
        // 3.70 energy + 0.60 charging + 1.00 idle + 0.50 fee = 5.80; VAT 1.16; 6.96
        assert_eq!(cost.energy, dec("3.70"));
        assert_eq!(cost.charging_time, dec("0.60"));
        assert_eq!(cost.idle_time, dec("1.00"));
        assert_eq!(cost.session_fee, dec("0.50"));
        assert_eq!(cost.total_excl_vat, dec("5.80"));
        assert_eq!(cost.vat, dec("1.16"));
        assert_eq!(cost.total_incl_vat, dec("6.96"));
        assert_eq!(r.created_at, created);
        // deterministic: the same facts give the same record
        assert_eq!(charge_record(facts(), Some(&tariff()), created), r);
    }

    #[test]
    fn record_of_the_running_aggregate_equals_record_of_the_series() {
        use crate::metering::{MeteredUsage, SequencedChange};
        let f = facts();
        let changes: Vec<SequencedChange> = f
            .changes
            .iter()
            .enumerate()
            .map(|(seq_no, change)| SequencedChange {
                seq_no: seq_no as i64,
                change: change.clone(),
            })
            .collect();
        let aggregate = MeteredUsage::from_series(&f.readings, &changes);
        let usage = aggregate.usage_between(f.started_at, f.ended_at).unwrap();
        let bare = SessionFacts {
            readings: vec![],
            changes: vec![],
            ..f.clone()
        };
        let created = at(71);
        assert_eq!(
            charge_record_of_usage(bare, usage, Some(&tariff()), created),
            charge_record(f, Some(&tariff()), created)
        );
    }

    #[test]
    fn record_without_tariff_is_not_rated() {
        let r = charge_record(facts(), None, at(71));
        assert_eq!(r.tariff_id, None);
        assert_eq!(r.cost, None);
        assert_eq!(r.tariff, None);
        assert_eq!(r.usage.energy_wh, dec("12345"));
    }

    #[test]
    fn backwards_energy_is_flagged_in_the_record_and_costs_nothing() {
        let mut f = facts();
        f.readings[0].wh = dec("90000"); // end reading below the start reading
        let r = charge_record(f, Some(&tariff()), at(71));
        assert!(r.usage.energy_went_backwards);
        assert_eq!(r.usage.energy_wh, Decimal::ZERO);
        assert_eq!(r.cost.unwrap().energy, Decimal::ZERO);
    }

    #[test]
    fn ids_cannot_collide() {
        assert_eq!(charge_record_id("CP001", "tx:1"), "CP001:tx:1");
        assert_eq!(charge_record_id("A:B", "C"), "A%3AB:C");
        assert_ne!(charge_record_id("A:B", "C"), charge_record_id("A", "B:C"));
        assert_ne!(charge_record_id("A%3AB", "C"), charge_record_id("A:B", "C"));
    }

    #[test]
    fn serde_round_trip() {
        let r = charge_record(facts(), Some(&tariff()), at(71));
        let json = serde_json::to_string(&r).unwrap();
        for key in [
            "\"stationId\"",
            "\"transactionId\"",
            "\"idTokenType\"",
            "\"startedAt\"",
            "\"tariffId\"",
            "\"totalInclVat\":\"6.96\"",
            "\"createdAt\"",
        ] {
            assert!(json.contains(key), "{key} missing in {json}");
        }
        assert_eq!(serde_json::from_str::<ChargeRecord>(&json).unwrap(), r);
        // records stored before the tariff snapshot existed still load
        let unrated = charge_record(facts(), None, at(71));
        let json = serde_json::to_string(&unrated).unwrap();
        assert!(!json.contains("\"tariff\""), "{json}");
        assert_eq!(
            serde_json::from_str::<ChargeRecord>(&json).unwrap(),
            unrated
        );
    }
}
