//! Site load management: groups of stations behind one grid connection share a power or
//! current limit, which the CSMS enforces by giving every EVSE with an ongoing transaction a
//! TxProfile (K01 SetChargingProfile, the same checked path the operator uses).
//!
//! When: a transaction of a member station starts, ends or changes the number of phases it
//! uses (numberOfPhasesUsed; the committed facts, [`run`]), the
//! group is created or changed ([`put_group`]), or on start and after missed facts (every
//! group). The share is [`unicharge_core::smart_charging::allocate`]: minimum rates first, by
//! priority of the token group, then the rest equally up to each EVSE's maximum.
//!
//! The sum of the limits in force never exceeds the group limit, also while the allocation
//! changes: lowered limits are sent (and answered) before raised ones, and an EVSE whose lower
//! limit was not accepted is counted at its old limit, so the raises shrink to what is left.
//! An EVSE that started charging before its first profile reached it is counted at 0 (what it
//! draws then is the station's own default or TxDefaultProfile: give group stations a low
//! TxDefaultProfile to cover those seconds).
//!
//! Every change is kept ([`unicharge_store::SiteAllocationRecord`]) with the station's answer:
//! the API shows the current allocation per EVSE and the history.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::{Decimal, RoundingStrategy};
use tokio::sync::broadcast::error::RecvError;
use unicharge_core::smart_charging::{allocate, Demand};
use unicharge_core::StationId;
use unicharge_ocpp::v201::{
    ChargingProfileKindEnumType, ChargingProfilePurposeEnumType, ChargingProfileStatusEnumType,
    ChargingProfileType, ChargingRateUnitEnumType, ChargingSchedulePeriodType,
    ChargingScheduleType,
};
use unicharge_store::{SiteAllocationRecord, SiteGroup};

use super::{set_charging_profile, ProfileRequest};
use crate::facts::Fact;
use crate::request::{OpError, Requester};
use crate::Csms;

/// Profile ids the site manager uses: this plus the EVSE id, one per EVSE, so a new limit
/// replaces the previous one on the station (K01.FR.05) instead of stacking up.
pub const SITE_PROFILE_ID_BASE: i64 = 1_900_000_000;

/// The site manager's state in the CSMS: one rebalancing at a time, and the groups cached (so
/// a transaction start at a station in no group costs no store read).
#[derive(Default)]
pub struct SiteLoadState {
    serial: tokio::sync::Mutex<()>,
    groups: std::sync::Mutex<Option<Arc<Vec<SiteGroup>>>>,
    /// numberOfPhasesUsed per ongoing transaction, as the station last reported it.
    phases: std::sync::Mutex<HashMap<(StationId, String), i64>>,
    /// The same from other nodes' facts ([`SiteLoadState::seen_elsewhere`]): a group's
    /// stations may be held by several nodes, and the node that rebalances must know the
    /// phases of them all.
    phases_elsewhere: std::sync::Mutex<HashMap<(StationId, String), i64>>,
}

impl SiteLoadState {
    fn forget_groups(&self) {
        *self.groups.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Note the phases a transaction uses; true if that changed what was known.
    fn phases_reported(&self, station: &StationId, transaction_id: &str, phases: i64) -> bool {
        let mut known = self.phases.lock().unwrap_or_else(|e| e.into_inner());
        let key = (station.clone(), transaction_id.to_string());
        known.insert(key, phases) != Some(phases)
    }

    /// This node's own report first, else another node's.
    fn phases_used(&self, station: &StationId, transaction_id: &str) -> Option<i64> {
        let key = (station.clone(), transaction_id.to_string());
        let own = self
            .phases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .copied();
        own.or_else(|| {
            self.phases_elsewhere
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&key)
                .copied()
        })
    }

    /// A fact another node committed ([`crate::Csms::publish_from_node`]): keep the phases
    /// its transactions use, forget them when they end.
    pub(crate) fn seen_elsewhere(&self, fact: &Fact) {
        let mut known = self
            .phases_elsewhere
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match fact {
            Fact::TransactionStarted {
                station,
                transaction_id,
                phases_used: Some(phases),
                ..
            }
            | Fact::TransactionUpdated {
                station,
                transaction_id,
                phases_used: Some(phases),
                ..
            } => {
                known.insert((station.clone(), transaction_id.clone()), *phases);
            }
            Fact::TransactionEnded {
                station,
                transaction_id,
                ..
            } => {
                known.remove(&(station.clone(), transaction_id.clone()));
            }
            _ => {}
        }
    }

    fn transaction_ended(&self, station: &StationId, transaction_id: &str) {
        let mut known = self.phases.lock().unwrap_or_else(|e| e.into_inner());
        known.remove(&(station.clone(), transaction_id.to_string()));
    }
}

/// How much allocation history is read to know what each EVSE holds.
const HISTORY: u32 = 10_000;

/// An EVSE with an ongoing transaction in a group, and what it is given.
#[derive(Debug, Clone, PartialEq)]
pub struct EvseAllocation {
    pub station_id: StationId,
    pub evse_id: i64,
    pub transaction_id: String,
    pub group_id_token: Option<String>,
    /// Phases the EV charges on (numberOfPhasesUsed as reported; the group's phases until
    /// the station says).
    pub phases: i64,
    /// The limit in force as far as the CSMS knows (the last one the station accepted).
    pub rate: f64,
    /// The station's answer to the last limit sent.
    pub status: String,
}

/// A group with its current allocation.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupView {
    pub group: SiteGroup,
    pub evses: Vec<EvseAllocation>,
    /// Sum of the limits in force.
    pub allocated: f64,
}

/// Check a group's settings; the message names the fix.
pub fn check_group(group: &SiteGroup) -> Result<(), OpError> {
    let bad = |code, message: &str| Err(OpError::refused(code, message.to_string()));
    if group.id.is_empty() || group.id.len() > 64 {
        return bad("bad_group_id", "the group id must be 1 to 64 characters");
    }
    if group.unit != "A" && group.unit != "W" {
        return bad("bad_unit", "unit must be \"A\" (per phase) or \"W\"");
    }
    if !(group.limit.is_finite() && group.limit >= 0.0) {
        return bad("bad_limit", "limit must be a number ≥ 0");
    }
    let rates_ok = group.min_rate.is_finite()
        && group.max_rate.is_finite()
        && 0.0 <= group.min_rate
        && group.min_rate <= group.max_rate
        && group.max_rate > 0.0;
    if !rates_ok {
        return bad(
            "bad_rates",
            "minRate and maxRate must satisfy 0 ≤ minRate ≤ maxRate and maxRate > 0",
        );
    }
    if !(1..=3).contains(&group.phases) {
        return bad("bad_phases", "phases must be 1, 2 or 3");
    }
    if group.stack_level < 0 {
        return bad("bad_stack_level", "stackLevel must be ≥ 0");
    }
    Ok(())
}

/// Create or replace a group (operator API), then enforce it.
pub async fn put_group(csms: &Csms, mut group: SiteGroup) -> Result<GroupView, OpError> {
    check_group(&group)?;
    for station in &group.stations {
        csms.registered(station).await?;
    }
    group.updated_at = Utc::now();
    csms.store().put_site_group(&group).await?;
    csms.shared().site_load.forget_groups();
    tracing::info!(group = %group.id, limit = group.limit, unit = %group.unit,
        stations = group.stations.len(), "site group set");
    rebalance(csms, &group, "group_changed").await?;
    group_view(csms, &group.id).await
}

/// Delete a group. The profiles already sent stay until their transactions end.
pub async fn delete_group(csms: &Csms, id: &str) -> Result<(), OpError> {
    let _serial = csms.shared().site_load.serial.lock().await;
    let deleted = csms.store().delete_site_group(id).await?;
    csms.shared().site_load.forget_groups();
    if deleted {
        tracing::info!(group = %id, "site group deleted");
        Ok(())
    } else {
        Err(not_found(id))
    }
}

fn not_found(id: &str) -> OpError {
    OpError::NotFound {
        code: "unknown_site_group",
        message: format!("no site group {id}; list them with GET /api/v1/site-groups"),
    }
}

pub async fn groups(csms: &Csms) -> Result<Arc<Vec<SiteGroup>>, OpError> {
    let state = &csms.shared().site_load;
    // In a cluster another node may change a group: read the shared store every time.
    if csms.in_cluster() {
        return Ok(Arc::new(csms.store().site_groups().await?));
    }
    if let Some(groups) = state
        .groups
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
    {
        return Ok(groups);
    }
    let groups = Arc::new(csms.store().site_groups().await?);
    *state.groups.lock().unwrap_or_else(|e| e.into_inner()) = Some(groups.clone());
    Ok(groups)
}

async fn group(csms: &Csms, id: &str) -> Result<SiteGroup, OpError> {
    groups(csms)
        .await?
        .iter()
        .find(|g| g.id == id)
        .cloned()
        .ok_or_else(|| not_found(id))
}

/// The group with what each EVSE with an ongoing transaction holds now.
pub async fn group_view(csms: &Csms, id: &str) -> Result<GroupView, OpError> {
    let group = group(csms, id).await?;
    let evses = current(csms, &group).await?.evses;
    // A fold from +0.0: `sum` of no f64 is -0.0, which the API would show as such.
    let allocated = evses.iter().fold(0.0, |sum, e| sum + e.rate);
    Ok(GroupView {
        group,
        evses,
        allocated,
    })
}

/// The group's allocation changes, oldest first (the latest `limit`).
pub async fn history(
    csms: &Csms,
    id: &str,
    limit: u32,
) -> Result<Vec<SiteAllocationRecord>, OpError> {
    group(csms, id).await?;
    Ok(csms.store().site_allocations(id, limit).await?)
}

type EvseKey = (StationId, i64, String);

/// What a group's allocation is now: its EVSEs with ongoing transactions, and the limits still
/// recorded for transactions that have ended since (to be withdrawn in the history).
struct Current {
    evses: Vec<EvseAllocation>,
    ended: Vec<EvseKey>,
}

/// The ongoing transactions of the group's stations with the limit each holds, read from the
/// allocation history. Reads only: [`rebalance`] records the withdrawals.
async fn current(csms: &Csms, group: &SiteGroup) -> Result<Current, OpError> {
    let store = csms.store();
    let mut held: HashMap<EvseKey, (f64, String)> = HashMap::new();
    for a in store.site_allocations(&group.id, HISTORY).await? {
        let key = (a.station_id, a.evse_id, a.transaction_id);
        let in_force = held.get(&key).map_or(0.0, |h| h.0);
        // A limit the station did not accept leaves the previous one in force.
        let rate = if a.status == ChargingProfileStatusEnumType::Accepted.as_str() {
            a.rate
        } else {
            in_force
        };
        held.insert(key, (rate, a.status));
    }
    let mut evses = Vec::new();
    for station in &group.stations {
        for t in crate::transactions::ongoing(store.as_ref(), station).await? {
            let Some(evse_id) = t.evse_id else {
                continue;
            };
            let key = (station.clone(), evse_id, t.transaction_id.clone());
            let (rate, status) = held.remove(&key).unwrap_or((0.0, "none".into()));
            let phases = csms
                .shared()
                .site_load
                .phases_used(station, &t.transaction_id)
                .filter(|p| (1..=3).contains(p))
                .unwrap_or(group.phases);
            evses.push(EvseAllocation {
                station_id: station.clone(),
                evse_id,
                transaction_id: t.transaction_id,
                group_id_token: t.group_id_token,
                phases,
                rate,
                status,
            });
        }
    }
    evses.sort_by(|a, b| (&a.station_id, a.evse_id).cmp(&(&b.station_id, b.evse_id)));
    // Still holding a limit but no longer ongoing: withdrawn with the transaction.
    let ended = held
        .into_iter()
        .filter(|(_, (rate, status))| *rate > 0.0 && status != "ended")
        .map(|(key, _)| key)
        .collect();
    Ok(Current { evses, ended })
}

/// Limits are sent with one decimal, rounded down: rounding never exceeds the group limit.
fn rate_decimal(rate: f64) -> Decimal {
    Decimal::from_f64(rate.max(0.0))
        .unwrap_or_default()
        .round_dp_with_strategy(1, RoundingStrategy::ToZero)
}

/// A per-EVSE rate of the group for an EV on `phases` phases: a W rate is for the group's
/// phases and scales with the phases used (an EV on one phase of three draws a third of the
/// power at the same current); an A rate is per phase and does not change.
fn per_evse(group: &SiteGroup, rate: f64, phases: i64) -> f64 {
    if group.unit == "W" && group.phases > 0 {
        rate * phases as f64 / group.phases as f64
    } else {
        rate
    }
}

/// Share the group's limit among its ongoing transactions and send what changed.
///
/// One rebalance of a group at a time in the whole cluster: each node serialises its own, and
/// the group's cluster lease keeps two nodes from planning from the same limits in force at
/// once (each would count only its own changes, and together they could exceed the limit).
pub async fn rebalance(csms: &Csms, group: &SiteGroup, reason: &str) -> Result<(), OpError> {
    let _serial = csms.shared().site_load.serial.lock().await;
    let patience = csms.config().call_timeout * 4;
    let Some(_lease) = csms
        .lease_waiting(&format!("site.{}", group.id), patience)
        .await
    else {
        return Err(OpError::Contended {
            code: "site_group_busy",
            message: format!(
                "another node has been rebalancing site group {} for over {}s; retried on the \
                 next change",
                group.id,
                patience.as_secs()
            ),
        });
    };
    let Current { evses, ended } = current(csms, group).await?;
    for (station_id, evse_id, transaction_id) in ended {
        let withdrawn = SiteAllocationRecord {
            group_id: group.id.clone(),
            at: Utc::now(),
            station_id,
            evse_id,
            transaction_id,
            rate: 0.0,
            unit: group.unit.clone(),
            reason: "transaction_ended".into(),
            status: "ended".into(),
        };
        csms.store().add_site_allocation(&withdrawn).await?;
    }
    let demands: Vec<Demand<usize>> = evses
        .iter()
        .enumerate()
        .map(|(i, e)| Demand {
            key: i,
            min: per_evse(group, group.min_rate, e.phases),
            max: per_evse(group, group.max_rate, e.phases),
            priority: e
                .group_id_token
                .as_ref()
                .and_then(|g| group.priorities.get(g).copied())
                .unwrap_or(0),
        })
        .collect();
    let target: Vec<f64> = allocate(group.limit, &demands)
        .into_iter()
        .map(|(_, rate)| rate_decimal(rate).to_f64().unwrap_or(0.0))
        .collect();
    let mut in_force: Vec<f64> = evses.iter().map(|e| e.rate).collect();
    // Lower first, so the sum in force only goes down until every lowering is answered.
    let mut order: Vec<usize> = (0..evses.len()).collect();
    order.sort_by(|&a, &b| {
        (target[a] - in_force[a])
            .partial_cmp(&(target[b] - in_force[b]))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    for i in order {
        let want = target[i];
        if (want - in_force[i]).abs() < 0.05 && evses[i].status != "none" {
            continue;
        }
        let others: f64 = in_force
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, r)| r)
            .sum();
        // A lowering always goes out as planned; a raise only to what fits next to the limits
        // in force now (a lowering that was not accepted keeps its old limit in force).
        let fits = if want <= in_force[i] {
            want
        } else {
            rate_decimal(want.min((group.limit - others).max(0.0)))
                .to_f64()
                .unwrap_or(0.0)
        };
        let status = send(csms, group, &evses[i], fits).await;
        if status == ChargingProfileStatusEnumType::Accepted.as_str() {
            in_force[i] = fits;
        }
        let record = SiteAllocationRecord {
            group_id: group.id.clone(),
            at: Utc::now(),
            station_id: evses[i].station_id.clone(),
            evse_id: evses[i].evse_id,
            transaction_id: evses[i].transaction_id.clone(),
            rate: fits,
            unit: group.unit.clone(),
            reason: reason.to_string(),
            status,
        };
        csms.store().add_site_allocation(&record).await?;
    }
    Ok(())
}

/// Send one EVSE its limit as a TxProfile; the station's answer or why there was none.
async fn send(csms: &Csms, group: &SiteGroup, evse: &EvseAllocation, rate: f64) -> String {
    let unit = if group.unit == "W" {
        ChargingRateUnitEnumType::W
    } else {
        ChargingRateUnitEnumType::A
    };
    let profile = ChargingProfileType {
        custom_data: None,
        id: SITE_PROFILE_ID_BASE + evse.evse_id,
        stack_level: group.stack_level,
        charging_profile_purpose: ChargingProfilePurposeEnumType::TxProfile,
        charging_profile_kind: ChargingProfileKindEnumType::Relative,
        recurrency_kind: None,
        valid_from: None,
        valid_to: None,
        charging_schedule: vec![ChargingScheduleType {
            custom_data: None,
            id: 1,
            start_schedule: None,
            duration: None,
            charging_rate_unit: unit,
            charging_schedule_period: vec![ChargingSchedulePeriodType {
                custom_data: None,
                start_period: 0,
                limit: rate_decimal(rate),
                number_phases: Some(evse.phases),
                phase_to_use: None,
            }],
            min_charging_rate: None,
            sales_tariff: None,
        }],
        transaction_id: Some(evse.transaction_id.clone()),
    };
    let request = ProfileRequest {
        evse_id: evse.evse_id,
        profile,
        allow_without_transaction: false,
    };
    let by = Requester::Automation {
        rule: format!("site:{}", group.id),
    };
    match set_charging_profile(csms, &evse.station_id, request, &by).await {
        Ok(response) => {
            tracing::info!(station = %evse.station_id, group = %group.id, evse = evse.evse_id,
                transaction = %evse.transaction_id, rate, unit = %group.unit,
                status = response.status.as_str(), "site limit sent");
            response.status.as_str().to_string()
        }
        Err(OpError::Refused { code, message, .. }) => {
            tracing::warn!(station = %evse.station_id, group = %group.id, evse = evse.evse_id,
                "site limit not sent: {message}");
            format!("refused:{code}")
        }
        Err(e) => {
            tracing::warn!(station = %evse.station_id, group = %group.id, evse = evse.evse_id,
                "site limit not delivered: {e}");
            e.label().to_string()
        }
    }
}

/// The groups a station belongs to.
async fn groups_of(csms: &Csms, station: &StationId) -> Vec<SiteGroup> {
    match groups(csms).await {
        Ok(groups) => groups
            .iter()
            .filter(|g| g.stations.contains(station))
            .cloned()
            .collect(),
        Err(e) => {
            tracing::warn!(station = %station, "site groups not read: {e}");
            Vec::new()
        }
    }
}

async fn rebalance_logged(csms: &Csms, group: &SiteGroup, reason: &str) {
    if let Err(e) = rebalance(csms, group, reason).await {
        tracing::warn!(group = %group.id, "site group not rebalanced: {e}");
    }
}

async fn rebalance_all(csms: &Csms) {
    for group in groups(csms).await.unwrap_or_default().iter() {
        rebalance_logged(csms, group, "rebalance").await;
    }
}

/// The site manager: reacts to transactions starting and ending at member stations. Started
/// with the CSMS; `facts` is subscribed before the CSMS accepts connections.
pub(crate) async fn run(csms: Csms, mut facts: tokio::sync::broadcast::Receiver<Fact>) {
    rebalance_all(&csms).await;
    loop {
        let state = &csms.shared().site_load;
        let (station, reason) = match facts.recv().await {
            Ok(Fact::TransactionStarted {
                station,
                transaction_id,
                phases_used,
                ..
            }) => {
                if let Some(phases) = phases_used {
                    state.phases_reported(&station, &transaction_id, phases);
                }
                (station, "transaction_started")
            }
            Ok(Fact::TransactionUpdated {
                station,
                transaction_id,
                phases_used: Some(phases),
                ..
            }) => {
                if !state.phases_reported(&station, &transaction_id, phases) {
                    continue;
                }
                (station, "phases_changed")
            }
            Ok(Fact::TransactionEnded {
                station,
                transaction_id,
                ..
            }) => {
                state.transaction_ended(&station, &transaction_id);
                (station, "transaction_ended")
            }
            // Back online: its limits may not have reached it.
            Ok(Fact::StationBooted { station, .. }) => (station, "rebalance"),
            Ok(_) => continue,
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "site manager missed facts; rebalancing every group");
                rebalance_all(&csms).await;
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        for group in groups_of(&csms, &station).await {
            rebalance_logged(&csms, &group, reason).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(station: &str, tx: &str, phases: Option<i64>) -> Fact {
        Fact::TransactionStarted {
            station: StationId::new(station).unwrap(),
            transaction_id: tx.into(),
            evse_id: Some(1),
            id_token: None,
            phases_used: phases,
        }
    }

    #[test]
    fn phases_reported_on_another_node_are_used_until_this_node_knows_better() {
        let state = SiteLoadState::default();
        let (b1, tx) = (StationId::new("B1").unwrap(), "TX-1");
        assert_eq!(state.phases_used(&b1, tx), None);
        state.seen_elsewhere(&started("B1", tx, Some(1)));
        assert_eq!(
            state.phases_used(&b1, tx),
            Some(1),
            "from the cluster's facts"
        );
        state.seen_elsewhere(&started("B1", "TX-2", None));
        assert_eq!(state.phases_used(&b1, "TX-2"), None, "nothing reported");
        assert!(state.phases_reported(&b1, tx, 3));
        assert_eq!(
            state.phases_used(&b1, tx),
            Some(3),
            "this node's own report wins"
        );
        state.transaction_ended(&b1, tx);
        state.seen_elsewhere(&Fact::TransactionEnded {
            station: b1.clone(),
            transaction_id: tx.into(),
            stopped_reason: None,
        });
        assert_eq!(state.phases_used(&b1, tx), None, "forgotten when it ends");
    }
}
