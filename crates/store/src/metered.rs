//! The `metered_usage` row of a transaction ([`MeteredUsage`], the running aggregate the
//! writer keeps in the same commit as the rows it summarises) as both stores encode and
//! decode it, and the fold of one new input into it. Moved from `sqlite/metered_usage.rs` so
//! that the PostgreSQL store keeps the same aggregate in the same columns.

use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use unicharge_core::metering::{
    plug_state, EnergyReading, MeteredUsage, OutOfOrder, PlugState, SequencedChange, StateChange,
};

use crate::columns::Columns;
use crate::{Result, StoreError};

/// What the table holds for a transaction.
pub(crate) enum Stored {
    Current(MeteredUsage),
    /// Not computed yet from the stored series.
    Stale,
}

/// One new input of a transaction's series.
pub(crate) enum Input<'a> {
    Reading(&'a EnergyReading),
    Change(&'a SequencedChange),
}

/// The stored aggregate with `input` folded in, or `None` when it must be rebuilt from the
/// stored series: the input is out of order, or the row is stale.
pub(crate) fn folded(stored: Stored, input: Input<'_>) -> Option<MeteredUsage> {
    let Stored::Current(mut aggregate) = stored else {
        return None;
    };
    let outcome = match input {
        Input::Reading(r) => aggregate.fold_reading(r),
        Input::Change(c) => aggregate.fold_change(&c.change, c.seq_no),
    };
    match outcome {
        Ok(()) => Some(aggregate),
        Err(OutOfOrder) => None,
    }
}

pub(crate) fn stored(row: &impl Columns) -> Result<Stored> {
    if row.flag("stale")? {
        Ok(Stored::Stale)
    } else {
        Ok(Stored::Current(decode(row)?))
    }
}

/// A stored chargingState as a plug-state change, `None` for states that are not one.
pub(crate) fn change(
    seq_no: i64,
    timestamp: DateTime<Utc>,
    state: &str,
) -> Option<SequencedChange> {
    plug_state(state).map(|state| SequencedChange {
        seq_no,
        change: StateChange { timestamp, state },
    })
}

pub(crate) fn decode(row: &impl Columns) -> Result<MeteredUsage> {
    let reading = |at: &str, wh: &str| -> Result<Option<EnergyReading>> {
        match (row.time(at)?, row.text(wh)?) {
            (Some(timestamp), Some(value)) => Ok(Some(EnergyReading {
                timestamp,
                wh: decimal(value, wh)?,
            })),
            _ => Ok(None),
        }
    };
    let last_change = match (
        row.time("last_change_at")?,
        row.text("last_change_state")?,
        row.int("last_change_seq_no")?,
    ) {
        (Some(timestamp), Some(state), Some(seq_no)) => Some(SequencedChange {
            seq_no,
            change: StateChange {
                timestamp,
                state: PlugState::from_name(&state).ok_or_else(|| {
                    StoreError::Corrupt(format!("metered_usage.last_change_state: {state:.40}"))
                })?,
            },
        }),
        _ => None,
    };
    Ok(MeteredUsage {
        first_reading: reading("first_reading_at", "first_reading_wh")?,
        last_reading: reading("last_reading_at", "last_reading_wh")?,
        energy_wh: decimal(row.required_text("energy_wh")?, "energy_wh")?,
        energy_went_backwards: row.flag("energy_backwards")?,
        first_change_at: row.time("first_change_at")?,
        last_change,
        charging: join(
            row.required_int("charging_secs")?,
            row.required_int("charging_nanos")?,
        )?,
        idle: join(
            row.required_int("idle_secs")?,
            row.required_int("idle_nanos")?,
        )?,
    })
}

fn decimal(raw: String, column: &str) -> Result<Decimal> {
    Decimal::from_str(&raw).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// A duration as whole seconds and the nanoseconds beyond them (same sign), exactly.
pub(crate) fn split(d: TimeDelta) -> (i64, i64) {
    (d.num_seconds(), i64::from(d.subsec_nanos()))
}

fn join(secs: i64, nanos: i64) -> Result<TimeDelta> {
    TimeDelta::try_seconds(secs)
        .and_then(|s| s.checked_add(&TimeDelta::nanoseconds(nanos)))
        .ok_or_else(|| StoreError::Corrupt(format!("metered_usage duration {secs}s {nanos}ns")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_split_and_join_exactly() {
        for d in [
            TimeDelta::zero(),
            TimeDelta::nanoseconds(1),
            TimeDelta::milliseconds(1_500),
            TimeDelta::seconds(86_400 * 365 * 200) + TimeDelta::nanoseconds(999_999_999),
            TimeDelta::milliseconds(-1_500),
        ] {
            let (s, n) = split(d);
            assert_eq!(join(s, n).unwrap(), d);
        }
    }
}
