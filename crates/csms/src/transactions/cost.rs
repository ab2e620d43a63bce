//! Block I, Tariff and cost: which tariff a transaction is charged with, what it has cost so
//! far (I02), and its charge record when it ends (I03) — all computed by the core
//! (`unicharge_core::{tariff, metering, rating, charge_record}`) from the transaction's running
//! aggregate of metered usage ([`MeteredUsage`], one stored row) plus the event being answered
//! (which is not stored yet: it is committed with the answer). Pricing an event costs the same
//! at the first event of a session as at the ten-thousandth.

use chrono::{DateTime, Utc};
use unicharge_core::charge_record::{charge_record_of_usage, ChargeRecord, SessionFacts};
use unicharge_core::metering::{
    plug_state, usage, MeteredUsage, OutOfOrder, SequencedChange, StateChange, Usage,
};
use unicharge_core::tariff::{select_tariff, Tariff};
use unicharge_core::StationId;
use unicharge_store::{MeterValueRecord, MeteredSeries, Store, TransactionRecord};

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

/// The TransactionEvent being answered, as far as metering goes: it is not stored yet (it is
/// committed with the answer), so its samples and charging state are added here to what the
/// store holds.
pub struct CurrentEvent<'a> {
    pub seq_no: i64,
    pub timestamp: DateTime<Utc>,
    /// Its meterValue samples (only the billing register counts).
    pub samples: &'a [MeterValueRecord],
    /// Its `chargingState`, as OCPP names it.
    pub charging_state: Option<&'a str>,
    /// The same seqNo is already stored (sent again under another message id): it adds
    /// nothing, its samples are the stored ones.
    pub duplicate: bool,
}

/// What a transaction has used from `start` up to `until`, including the current event.
///
/// The usual path is O(1): the transaction's running aggregate (one row, kept by the store in
/// the same commit as every event and sample) with the current event folded in. When the
/// current event lies before the aggregate's last point (a late offline event, also one
/// arriving after Ended), or `until` lies before it, the aggregate cannot answer exactly; the
/// usage is then computed once from the transaction's whole stored series plus the event —
/// the rare path, with no cap on the series. Either way the figure is that of
/// [`unicharge_core::metering::usage`] over every stored reading and change.
pub async fn usage_until(
    store: &dyn Store,
    station: &StationId,
    existing: Option<&TransactionRecord>,
    current: &CurrentEvent<'_>,
    until: DateTime<Utc>,
) -> Result<Usage, CallRefusal> {
    let start = session_start(existing, current.timestamp);
    let aggregate = match existing {
        Some(t) => store
            .metered_usage(station, &t.transaction_id)
            .await
            .map_err(internal)?,
        None => Some(MeteredUsage::default()),
    };
    if let Some(mut aggregate) = aggregate {
        if fold(&mut aggregate, current).is_ok() {
            if let Some(usage) = aggregate.usage_between(start, until) {
                return Ok(usage);
            }
        }
    }
    let mut series = match existing {
        Some(t) => store
            .metered_series(station, &t.transaction_id)
            .await
            .map_err(internal)?,
        None => MeteredSeries::default(),
    };
    tracing::info!(station = %station,
        transaction = existing.map_or("-", |t| t.transaction_id.as_str()), seq_no = current.seq_no,
        readings = series.readings.len(), changes = series.changes.len(),
        "running cost computed from the stored series (event before the aggregate's last point)");
    if !current.duplicate {
        series
            .readings
            .extend(current.samples.iter().filter_map(|s| s.billing_reading()));
        series.changes.extend(change(current));
    }
    series
        .changes
        .sort_by_key(|c| (c.change.timestamp, c.seq_no));
    let changes: Vec<StateChange> = series.changes.into_iter().map(|c| c.change).collect();
    Ok(usage(&series.readings, &changes, start, until))
}

/// When a session starts: at its earliest event, the current one included.
pub fn session_start(
    existing: Option<&TransactionRecord>,
    event_time: DateTime<Utc>,
) -> DateTime<Utc> {
    existing.map_or(event_time, |t| t.started_at.min(event_time))
}

/// Fold the current event into the aggregate. On `Err` the aggregate is partly folded: the
/// caller (which folds into its own copy) drops it.
fn fold(aggregate: &mut MeteredUsage, current: &CurrentEvent<'_>) -> Result<(), OutOfOrder> {
    if current.duplicate {
        return Ok(());
    }
    for reading in current.samples.iter().filter_map(|s| s.billing_reading()) {
        aggregate.fold_reading(&reading)?;
    }
    if let Some(c) = change(current) {
        aggregate.fold_change(&c.change, c.seq_no)?;
    }
    Ok(())
}

fn change(current: &CurrentEvent<'_>) -> Option<SequencedChange> {
    let state = current.charging_state.and_then(plug_state)?;
    Some(SequencedChange {
        seq_no: current.seq_no,
        change: StateChange {
            timestamp: current.timestamp,
            state,
        },
    })
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

/// The charge record of a transaction that ran from `started_at` to `ended_at` with `usage`.
pub fn record(
    party: Party,
    usage: Usage,
    started_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
    tariff: Option<&Tariff>,
) -> ChargeRecord {
    charge_record_of_usage(
        SessionFacts {
            station_id: party.station_id.as_str().to_string(),
            evse_id: party.evse_id,
            connector_id: party.connector_id,
            transaction_id: party.transaction_id,
            id_token: party.id_token,
            id_token_type: party.id_token_type,
            group_id_token: party.group_id_token,
            started_at,
            ended_at,
            stopped_reason: party.stopped_reason,
            readings: Vec::new(),
            changes: Vec::new(),
        },
        usage,
        tariff,
        Utc::now(),
    )
}

/// What a running transaction has used and cost from its start up to `until`: the figures its
/// next `TransactionEventResponse.totalCost` would give, priced with the tariff fixed on it (or
/// the one that applies when none is fixed yet). `None` cost when no tariff applies. For
/// watchers outside the message path (an MSP's session limits, OCPI B4.2).
pub async fn so_far(
    store: &dyn Store,
    station: &StationId,
    tx: &TransactionRecord,
    until: DateTime<Utc>,
) -> Result<(Usage, Option<unicharge_core::rating::CostBreakdown>), CallRefusal> {
    let tariff = match tx.tariff_id.as_deref() {
        Some(id) => by_id(store, id).await?,
        None => None,
    };
    let tariff = match tariff {
        Some(t) => Some(t),
        None => {
            select(
                store,
                station,
                tx.evse_id,
                tx.group_id_token.as_deref(),
                tx.started_at,
            )
            .await?
        }
    };
    // No event being answered: a "duplicate" current event adds nothing to what is stored.
    let nothing = CurrentEvent {
        seq_no: tx.last_seq_no,
        timestamp: tx.started_at,
        samples: &[],
        charging_state: None,
        duplicate: true,
    };
    let until = until.max(tx.started_at);
    let usage = usage_until(store, station, Some(tx), &nothing, until).await?;
    let cost = tariff.map(|t| unicharge_core::rating::rate(&t, &usage));
    Ok((usage, cost))
}
