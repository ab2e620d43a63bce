//! Block I, Tariff and cost: which tariff a transaction is charged with, what it has cost so
//! far, and its charge record when it ends — all computed by the core (`unicharge_core::{tariff,
//! metering, rating, charge_record}`) from what the store holds of the transaction plus the
//! event being answered (which is not stored yet: it is committed with the answer).

use chrono::{DateTime, Utc};
use unicharge_core::charge_record::{charge_record, ChargeRecord, SessionFacts};
use unicharge_core::metering::{plug_state, usage, EnergyReading, StateChange, Usage};
use unicharge_core::rating::{rate, CostBreakdown};
use unicharge_core::tariff::{select_tariff, Tariff};
use unicharge_core::StationId;
use unicharge_store::{
    MeterValueFilter, MeterValueRecord, Store, TransactionEventRecord, TransactionRecord,
};

use crate::dispatch::{internal, CallRefusal};

/// The tariff that applies now to a session at (station, EVSE) for a token group.
pub async fn select(
    store: &dyn Store,
    station: &StationId,
    evse_id: Option<i64>,
    group_id_token: Option<&str>,
    at: DateTime<Utc>,
) -> Result<Option<Tariff>, CallRefusal> {
    let tariffs = store.tariffs().await.map_err(internal)?;
    if tariffs.is_empty() {
        return Ok(None);
    }
    let assignments: Vec<_> = store
        .tariff_assignments()
        .await
        .map_err(internal)?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    Ok(select_tariff(
        &tariffs,
        &assignments,
        station.as_str(),
        evse_id,
        group_id_token,
        at,
    )
    .cloned())
}

/// A tariff by id (the one fixed for a transaction), if it still exists.
pub async fn by_id(store: &dyn Store, id: &str) -> Result<Option<Tariff>, CallRefusal> {
    Ok(store
        .tariffs()
        .await
        .map_err(internal)?
        .into_iter()
        .find(|t| t.id == id))
}

/// What is known of a transaction's course: its main energy register readings and its
/// charging-state changes, including the event being answered.
pub struct Course {
    pub started_at: DateTime<Utc>,
    pub readings: Vec<EnergyReading>,
    pub changes: Vec<StateChange>,
}

/// Whether a sample is the main import register of the EVSE (what energy is billed on):
/// no phase, measured at the outlet (OCPP's default location).
fn is_billing_register(m: &MeterValueRecord) -> bool {
    m.measurand == "Energy.Active.Import.Register"
        && m.phase.is_none()
        && matches!(m.location.as_deref(), None | Some("Outlet"))
        && m.wh.is_some()
}

impl Course {
    /// Gather the stored course of a transaction (its stored samples and `events`, read once by
    /// the caller) and add the current event's samples and charging state.
    pub async fn load(
        store: &dyn Store,
        station: &StationId,
        existing: Option<&TransactionRecord>,
        events: &[TransactionEventRecord],
        current_samples: &[MeterValueRecord],
        current_state: Option<(DateTime<Utc>, &str)>,
        current_timestamp: DateTime<Utc>,
    ) -> Result<Course, CallRefusal> {
        let mut readings = Vec::new();
        let mut changes = Vec::new();
        let mut started_at = current_timestamp;
        if let Some(t) = existing {
            started_at = started_at.min(t.started_at);
            let stored = store
                .meter_values(
                    station,
                    &MeterValueFilter {
                        transaction_id: Some(t.transaction_id.clone()),
                        evse_id: None,
                        limit: 100_000,
                    },
                )
                .await
                .map_err(internal)?;
            readings.extend(
                stored
                    .iter()
                    .filter(|m| is_billing_register(m))
                    .filter_map(|m| {
                        m.wh.map(|wh| EnergyReading {
                            timestamp: m.timestamp,
                            wh,
                        })
                    }),
            );
            for e in events {
                if let Some(state) = e.charging_state.as_deref().and_then(plug_state) {
                    changes.push(StateChange {
                        timestamp: e.timestamp,
                        state,
                    });
                }
            }
        }
        readings.extend(
            current_samples
                .iter()
                .filter(|m| is_billing_register(m))
                .filter_map(|m| {
                    m.wh.map(|wh| EnergyReading {
                        timestamp: m.timestamp,
                        wh,
                    })
                }),
        );
        if let Some((at, state)) = current_state {
            if let Some(state) = plug_state(state) {
                changes.push(StateChange {
                    timestamp: at,
                    state,
                });
            }
        }
        readings.sort_by_key(|r| r.timestamp);
        changes.sort_by_key(|c| c.timestamp);
        Ok(Course {
            started_at,
            readings,
            changes,
        })
    }

    /// Usage from the start up to `until`.
    pub fn usage(&self, until: DateTime<Utc>) -> Usage {
        usage(&self.readings, &self.changes, self.started_at, until)
    }
}

/// The running (or final) cost of a course under a tariff, up to `until`.
pub fn cost(tariff: &Tariff, course: &Course, until: DateTime<Utc>) -> CostBreakdown {
    rate(tariff, &course.usage(until))
}

/// Who / where of the charge record.
pub struct Party {
    pub station_id: StationId,
    pub transaction_id: String,
    pub evse_id: Option<i64>,
    pub connector_id: Option<i64>,
    pub id_token: Option<String>,
    pub id_token_type: Option<String>,
    pub group_id_token: Option<String>,
    pub stopped_reason: Option<String>,
}

/// The charge record of a transaction that ended at `ended_at`.
pub fn record(
    party: Party,
    course: Course,
    ended_at: DateTime<Utc>,
    tariff: Option<&Tariff>,
) -> ChargeRecord {
    charge_record(
        SessionFacts {
            station_id: party.station_id.as_str().to_string(),
            evse_id: party.evse_id,
            connector_id: party.connector_id,
            transaction_id: party.transaction_id,
            id_token: party.id_token,
            id_token_type: party.id_token_type,
            group_id_token: party.group_id_token,
            started_at: course.started_at,
            ended_at,
            stopped_reason: party.stopped_reason,
            readings: course.readings,
            changes: course.changes,
        },
        tariff,
        Utc::now(),
    )
}
