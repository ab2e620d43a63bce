//! The running aggregate of a session's metering ([`MeteredUsage`]): what [`super::usage`]
//! needs, kept up to date one reading and one state change at a time, so that pricing a
//! session (OCPP I02 running cost, I03 final cost, the charge record) costs the same at its
//! first event as at its ten-thousandth.
//!
//! [`super::usage`] reduces a whole series; this module folds the same series step by step and
//! must give the same [`Usage`] (property-tested below). Folding is O(1) for an input that
//! comes at or after the aggregate's last point on the timeline, which is how stations report:
//! in order, also when they replay an offline queue. An input that would land *before* that
//! point (a late offline event, a reading older than the last one) cannot be folded exactly
//! from the summary alone; [`MeteredUsage::fold_reading`] and [`MeteredUsage::fold_change`]
//! then refuse it with [`OutOfOrder`] and leave the aggregate untouched, and the caller rebuilds
//! it once from the whole stored series with [`MeteredUsage::from_series`] — the rare path, never
//! a silently wrong figure.

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;

use super::{EnergyReading, PlugState, StateChange, Usage};

/// An input that lies before the aggregate's last point: folding it would need the readings or
/// changes around it, which the aggregate does not keep. Rebuild with
/// [`MeteredUsage::from_series`] instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfOrder;

/// A plug-state change with the sequence number of the message that reported it (OCPP
/// `seqNo`): changes with the same timestamp are ordered by it, the later one giving the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequencedChange {
    pub seq_no: i64,
    pub change: StateChange,
}

/// A session's metering so far, reduced to what rating needs.
///
/// Energy: the first and last reading of the billing register (in timestamp order, ties in the
/// order folded), the sum of the non-negative steps between consecutive readings and whether
/// any step went backwards — exactly [`super::usage`]'s energy rule.
///
/// Time: the seconds spent charging and idle (EV connected, not charging) up to the last plug
/// state change, that change (its state runs on until the session's end or the next change)
/// and the first change. Before the first change the EV counts as unplugged, as in
/// [`super::usage`]; so the session start is not needed here, only checked when asked for a
/// [`Usage`] (it must not lie after the first change).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MeteredUsage {
    pub first_reading: Option<EnergyReading>,
    pub last_reading: Option<EnergyReading>,
    /// Energy in Wh between `first_reading` and `last_reading`, backwards steps not counted.
    pub energy_wh: Decimal,
    pub energy_went_backwards: bool,
    /// When the first plug-state change happened.
    pub first_change_at: Option<DateTime<Utc>>,
    /// The last plug-state change folded, with its seqNo.
    pub last_change: Option<SequencedChange>,
    /// Time charging up to `last_change` (exact, truncated to seconds only in [`Usage`]).
    pub charging: TimeDelta,
    /// Time idle (plugged in, not charging) up to `last_change`.
    pub idle: TimeDelta,
}

impl MeteredUsage {
    /// The aggregate of a whole series, in any order: readings are taken in timestamp order
    /// (stable, so equal timestamps keep the order given: the order they were stored in), changes
    /// in (timestamp, seqNo) order. Never fails: sorted input is always in order.
    pub fn from_series(readings: &[EnergyReading], changes: &[SequencedChange]) -> Self {
        let mut readings: Vec<&EnergyReading> = readings.iter().collect();
        readings.sort_by_key(|r| r.timestamp);
        let mut changes: Vec<&SequencedChange> = changes.iter().collect();
        changes.sort_by_key(|c| (c.change.timestamp, c.seq_no));
        let mut aggregate = MeteredUsage::default();
        for r in readings {
            // In order by construction; an Err cannot happen and would leave the input out.
            let _ = aggregate.fold_reading(r);
        }
        for c in changes {
            let _ = aggregate.fold_change(&c.change, c.seq_no);
        }
        aggregate
    }

    /// Add a billing-register reading taken at or after the last one.
    ///
    /// A reading with the same timestamp as the last one comes after it (the order it arrived
    /// in), as in [`super::usage`]'s stable sort. An earlier reading is refused.
    pub fn fold_reading(&mut self, reading: &EnergyReading) -> Result<(), OutOfOrder> {
        match &self.last_reading {
            Some(last) if reading.timestamp < last.timestamp => return Err(OutOfOrder),
            Some(last) => match reading.wh.checked_sub(last.wh) {
                // Saturating like `usage`: beyond 7.9e28 Wh is bad data that rating bounds.
                Some(step) if step >= Decimal::ZERO => {
                    self.energy_wh = self.energy_wh.saturating_add(step)
                }
                _ => self.energy_went_backwards = true,
            },
            None => self.first_reading = Some(reading.clone()),
        }
        self.last_reading = Some(reading.clone());
        Ok(())
    }

    /// Add a plug-state change reported by message `seq_no`, at or after the last change
    /// (the same timestamp with a higher seqNo counts as after). An earlier one is refused.
    pub fn fold_change(&mut self, change: &StateChange, seq_no: i64) -> Result<(), OutOfOrder> {
        match &self.last_change {
            Some(last) if (change.timestamp, seq_no) < (last.change.timestamp, last.seq_no) => {
                return Err(OutOfOrder)
            }
            Some(last) => {
                let (state, from) = (last.change.state, last.change.timestamp);
                self.add_span(state, from, change.timestamp);
            }
            None => self.first_change_at = Some(change.timestamp),
        }
        self.last_change = Some(SequencedChange {
            seq_no,
            change: change.clone(),
        });
        Ok(())
    }

    fn add_span(&mut self, state: PlugState, from: DateTime<Utc>, to: DateTime<Utc>) {
        let span = to.signed_duration_since(from);
        if span <= TimeDelta::zero() {
            return;
        }
        let slot = match state {
            PlugState::Charging => &mut self.charging,
            PlugState::Idle => &mut self.idle,
            PlugState::Unplugged => return,
        };
        // Same rule as `usage`: disjoint spans cannot overflow in practice; checked anyway.
        *slot = slot.checked_add(&span).unwrap_or(*slot);
    }

    /// The usage of the session `[start, end]`, equal to [`super::usage`] over the folded
    /// series; `None` when the aggregate cannot tell it exactly: `end` lies before the last
    /// change (changes after the end would have to be left out) or `start` after the first
    /// one (the state at the start would be needed). The caller then computes from the series.
    pub fn usage_between(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Usage> {
        let (mut charging, mut idle) = (TimeDelta::zero(), TimeDelta::zero());
        if let (Some(first), Some(last)) = (self.first_change_at, &self.last_change) {
            if start > first || end < last.change.timestamp {
                return None;
            }
            if end > start {
                let mut until_end = self.clone();
                until_end.add_span(last.change.state, last.change.timestamp, end);
                (charging, idle) = (until_end.charging, until_end.idle);
            }
        }
        Some(Usage {
            energy_wh: self.energy_wh,
            charging_seconds: charging.num_seconds(),
            idle_seconds: idle.num_seconds(),
            energy_went_backwards: self.energy_went_backwards,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::usage;
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;
    use PlugState::*;

    fn at(ms: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 0).unwrap() + TimeDelta::milliseconds(ms)
    }

    fn r(ms: i64, wh: i64) -> EnergyReading {
        EnergyReading {
            timestamp: at(ms),
            wh: Decimal::new(wh, 1),
        }
    }

    fn c(ms: i64, state: PlugState) -> StateChange {
        StateChange {
            timestamp: at(ms),
            state,
        }
    }

    #[test]
    fn in_order_folding_equals_usage_of_the_series() {
        let readings = [r(0, 10_000), r(60_000, 15_000), r(120_000, 22_505)];
        let changes = [c(0, Idle), c(1_500, Charging), c(90_000, Idle)];
        let mut m = MeteredUsage::default();
        for x in &readings {
            m.fold_reading(x).unwrap();
        }
        for (seq, x) in changes.iter().enumerate() {
            m.fold_change(x, seq as i64).unwrap();
        }
        let expected = usage(&readings, &changes, at(0), at(130_000));
        assert_eq!(m.usage_between(at(0), at(130_000)), Some(expected.clone()));
        assert_eq!(expected.energy_wh, Decimal::new(12_505, 1));
        assert_eq!((expected.charging_seconds, expected.idle_seconds), (88, 41));
        assert_eq!(m.first_reading, Some(r(0, 10_000)));
        assert_eq!(m.last_reading, Some(r(120_000, 22_505)));
    }

    #[test]
    fn an_earlier_input_is_refused_and_changes_nothing() {
        let mut m = MeteredUsage::default();
        m.fold_reading(&r(60_000, 2_000)).unwrap();
        m.fold_change(&c(60_000, Charging), 2).unwrap();
        let before = m.clone();
        assert_eq!(m.fold_reading(&r(30_000, 1_500)), Err(OutOfOrder));
        assert_eq!(m.fold_change(&c(30_000, Idle), 1), Err(OutOfOrder));
        // same timestamp, lower seqNo: it came before the last change
        assert_eq!(m.fold_change(&c(60_000, Idle), 1), Err(OutOfOrder));
        assert_eq!(m, before);
        // same timestamp, higher seqNo: after, and it sets the state
        m.fold_change(&c(60_000, Idle), 3).unwrap();
        let u = m.usage_between(at(0), at(120_000)).unwrap();
        assert_eq!((u.charging_seconds, u.idle_seconds), (0, 60));
    }

    #[test]
    fn usage_before_the_last_change_or_from_after_the_first_is_not_guessed() {
        let m = MeteredUsage::from_series(
            &[],
            &[
                SequencedChange {
                    seq_no: 0,
                    change: c(10_000, Charging),
                },
                SequencedChange {
                    seq_no: 1,
                    change: c(20_000, Idle),
                },
            ],
        );
        assert_eq!(m.usage_between(at(0), at(15_000)), None);
        assert_eq!(m.usage_between(at(11_000), at(30_000)), None);
        let u = m.usage_between(at(10_000), at(30_000)).unwrap();
        assert_eq!((u.charging_seconds, u.idle_seconds), (10, 10));
        // no changes: nothing to clip, any window works
        let m = MeteredUsage::default();
        assert_eq!(m.usage_between(at(5), at(0)), Some(Usage::default()));
    }

    #[test]
    fn backwards_steps_are_flagged_like_usage() {
        let readings = [r(0, 10_000), r(10, 15_000), r(20, 200), r(30, 5_200)];
        let m = MeteredUsage::from_series(&readings, &[]);
        let u = m.usage_between(at(0), at(30)).unwrap();
        assert_eq!(u, usage(&readings, &[], at(0), at(30)));
        assert!(u.energy_went_backwards);
        assert_eq!(u.energy_wh, Decimal::new(1_000, 0));
    }

    fn state() -> impl Strategy<Value = PlugState> {
        prop_oneof![Just(Charging), Just(Idle), Just(Unplugged)]
    }

    /// One input of a session as it arrives: a reading or a state change (with its seqNo).
    #[derive(Debug, Clone)]
    enum Input {
        Reading(EnergyReading),
        Change(SequencedChange),
    }

    fn inputs() -> impl Strategy<Value = Vec<Input>> {
        // Millisecond timestamps in a small range so that ties are frequent; values that go
        // backwards now and then.
        let reading = (0i64..5_000, -50i64..500);
        let change = (0i64..5_000, state());
        prop::collection::vec(
            prop_oneof![
                reading.prop_map(|(t, wh)| Input::Reading(EnergyReading {
                    timestamp: at(t * 7),
                    wh: Decimal::new(1_000_000 + wh * 37, 2),
                })),
                change.prop_map(|(t, s)| Input::Change(SequencedChange {
                    seq_no: 0,
                    change: c(t * 7, s),
                })),
            ],
            0..60,
        )
        .prop_map(|mut inputs| {
            // seqNos in arrival order, as a station numbers its messages.
            for (seq, input) in inputs.iter_mut().enumerate() {
                if let Input::Change(ch) = input {
                    ch.seq_no = seq as i64;
                }
            }
            inputs
        })
    }

    /// The series as `usage` sees it: readings in arrival order, changes in seqNo order.
    fn series(inputs: &[Input]) -> (Vec<EnergyReading>, Vec<StateChange>, Vec<SequencedChange>) {
        let mut readings = Vec::new();
        let mut changes = Vec::new();
        let mut sequenced = Vec::new();
        for i in inputs {
            match i {
                Input::Reading(x) => readings.push(x.clone()),
                Input::Change(x) => {
                    changes.push(x.change.clone());
                    sequenced.push(x.clone());
                }
            }
        }
        (readings, changes, sequenced)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// In arrival order, folding step by step — and rebuilding from the series whenever a
        /// fold is refused, as the store does — always gives the aggregate of the whole series,
        /// and its usage equals `usage` of the whole series for any session window the
        /// aggregate can answer.
        #[test]
        fn folded_step_by_step_equals_usage_of_the_whole_series(
            inputs in inputs(),
            end_after in 0i64..40_000,
        ) {
            let mut folded = MeteredUsage::default();
            for (n, input) in inputs.iter().enumerate() {
                let ok = match input {
                    Input::Reading(x) => folded.fold_reading(x),
                    Input::Change(x) => folded.fold_change(&x.change, x.seq_no),
                };
                if ok.is_err() {
                    let (readings, _, changes) = series(&inputs[..=n]);
                    folded = MeteredUsage::from_series(&readings, &changes);
                }
                let (readings, _, changes) = series(&inputs[..=n]);
                prop_assert_eq!(&folded, &MeteredUsage::from_series(&readings, &changes));
            }
            let (readings, changes, _) = series(&inputs);
            // a transaction starts at its earliest event, so at or before every change
            let start = changes.iter().map(|c| c.timestamp).min().unwrap_or(at(0)).min(at(0));
            let last = changes.iter().map(|c| c.timestamp).max().unwrap_or(at(0));
            let end = last + TimeDelta::milliseconds(end_after);
            prop_assert_eq!(
                folded.usage_between(start, end),
                Some(usage(&readings, &changes, start, end))
            );
        }

        /// In-order input (sorted by time, as stations send it) never needs a rebuild.
        #[test]
        fn in_order_input_is_always_folded(mut inputs in inputs()) {
            inputs.sort_by_key(|i| match i {
                Input::Reading(x) => x.timestamp,
                Input::Change(x) => x.change.timestamp,
            });
            for (seq, input) in inputs.iter_mut().enumerate() {
                if let Input::Change(x) = input {
                    x.seq_no = seq as i64;
                }
            }
            let mut folded = MeteredUsage::default();
            for input in &inputs {
                let ok = match input {
                    Input::Reading(x) => folded.fold_reading(x),
                    Input::Change(x) => folded.fold_change(&x.change, x.seq_no),
                };
                prop_assert!(ok.is_ok());
            }
        }
    }
}
