//! Site load management records (block K, issue 10): groups of stations sharing one limit and
//! the history of what each EVSE was given.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicharge_core::StationId;

/// A group of stations behind one grid connection (a site), sharing `limit`.
///
/// A per-station limit is a group of one station.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteGroup {
    pub id: String,
    /// The most the group's EVSEs may draw together, in `unit` (A per phase, or W).
    pub limit: f64,
    /// `A` or `W`: the unit of every rate of the group and of the profiles it sends.
    pub unit: String,
    pub stations: Vec<StationId>,
    /// The least an EVSE charges with (e.g. 6 A for AC, IEC 61851); below it, it is paused (0).
    pub min_rate: f64,
    /// The most one EVSE can use.
    pub max_rate: f64,
    /// Phases the EVSEs charge on (numberPhases of the profiles sent).
    pub phases: i64,
    /// stackLevel of the TxProfiles the CSMS sends (within the stations' ProfileStackLevel).
    pub stack_level: i64,
    /// Priority by the transaction's token group (groupIdToken): higher first when the limit
    /// does not cover every EVSE's minimum. Tokens in no listed group have priority 0.
    #[serde(default)]
    pub priorities: BTreeMap<String, i64>,
    pub updated_at: DateTime<Utc>,
}

/// One limit the CSMS gave an EVSE of a group (a TxProfile sent), or its withdrawal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteAllocationRecord {
    pub group_id: String,
    pub at: DateTime<Utc>,
    pub station_id: StationId,
    pub evse_id: i64,
    pub transaction_id: String,
    /// In the group's unit; 0 when the transaction ended (nothing allocated any more).
    pub rate: f64,
    pub unit: String,
    /// Why the allocation changed: `transaction_started`, `transaction_ended`,
    /// `phases_changed`, `group_changed`, `rebalance`.
    pub reason: String,
    /// The station's answer to the SetChargingProfile (`Accepted`, `Rejected`), why none was
    /// sent or received (`not_connected`, `refused:<rule>`, `station_timeout`, …), or `ended`.
    pub status: String,
}
