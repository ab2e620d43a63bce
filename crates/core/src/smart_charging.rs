//! The composite schedule (OCPP 2.0.1 K08): what an EVSE may draw at any moment, combining
//! the charging profiles it holds.
//!
//! The rules, as K08 describes the combination:
//!
//! * Within one purpose, the profile in force at a moment is the one with the highest
//!   `stackLevel` among those that are valid then (`validFrom` ≤ t < `validTo`) and whose
//!   schedule covers that moment (from its start, for its `duration`). When it ends, the next
//!   lower stack level applies again.
//! * A schedule starts at its `startSchedule` (Absolute), at the last recurrence of it before
//!   the moment (Recurring Daily / Weekly), or at the start of the transaction (Relative).
//!   Within a schedule, the period in force is the last one whose `startPeriod` has begun.
//! * A TxProfile overrides the TxDefaultProfile; the result is the lowest of that, the
//!   ChargingStationMaxProfile and the ChargingStationExternalConstraints.
//! * Limits in A and W are converted with the configured voltage and the period's number of
//!   phases (3 when not given): W = A × V × phases.
//!
//! [`limit_at`] evaluates one moment directly from these rules; [`composite`] computes a whole
//! window at once, evaluating only at the moments where something can change (a validity
//! bound, a schedule start or end, a period start). The property test in
//! `tests/composite_schedule.rs` checks that the two agree at every second.

use chrono::{DateTime, Duration, Utc};

/// ChargingProfilePurposeEnumType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    ChargingStationMaxProfile,
    TxDefaultProfile,
    TxProfile,
    ChargingStationExternalConstraints,
}

/// ChargingProfileKindEnumType with RecurrencyKindEnumType.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Absolute,
    /// Repeats every day (`Daily`) or week (`Weekly`) from `startSchedule`.
    Recurring(Recurrency),
    Relative,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recurrency {
    Daily,
    Weekly,
}

impl Recurrency {
    fn period(self) -> Duration {
        match self {
            Recurrency::Daily => Duration::days(1),
            Recurrency::Weekly => Duration::weeks(1),
        }
    }
}

/// ChargingRateUnitEnumType.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    A,
    W,
}

/// One chargingSchedulePeriod.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    /// Seconds from the schedule's start.
    pub start: i64,
    pub limit: f64,
    /// Phases for A↔W conversion; `None`: 3.
    pub number_phases: Option<u8>,
}

/// One chargingSchedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// `startSchedule` (Absolute and Recurring).
    pub start: Option<DateTime<Utc>>,
    /// Seconds; `None`: the last period lasts indefinitely.
    pub duration: Option<i64>,
    pub unit: Unit,
    /// Ordered by `start`, the first at 0.
    pub periods: Vec<Period>,
}

/// A charging profile as the calculator needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub id: i64,
    pub stack_level: i64,
    pub purpose: Purpose,
    pub kind: Kind,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
    pub schedule: Schedule,
}

/// How A and W convert: the supply voltage (phase to neutral).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Supply {
    pub voltage: f64,
}

impl Default for Supply {
    fn default() -> Self {
        Supply { voltage: 230.0 }
    }
}

impl Supply {
    fn convert(self, limit: f64, from: Unit, to: Unit, phases: Option<u8>) -> f64 {
        let factor = self.voltage * f64::from(phases.unwrap_or(3));
        match (from, to) {
            (Unit::A, Unit::W) => limit * factor,
            (Unit::W, Unit::A) => limit / factor,
            _ => limit,
        }
    }
}

/// What a composite is computed for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Context {
    /// Start of the transaction, for Relative schedules; `None`: they do not apply.
    pub transaction_start: Option<DateTime<Utc>>,
    pub unit: Unit,
    pub supply: Supply,
}

/// The start of the profile's schedule as it applies at `t`, if it has begun.
fn schedule_start(profile: &Profile, t: DateTime<Utc>, ctx: &Context) -> Option<DateTime<Utc>> {
    match profile.kind {
        Kind::Absolute => profile.schedule.start,
        Kind::Relative => ctx.transaction_start,
        Kind::Recurring(recurrency) => {
            let first = profile.schedule.start?;
            if t < first {
                return Some(first);
            }
            let step = recurrency.period().num_seconds();
            let n = (t - first).num_seconds().div_euclid(step);
            Some(first + Duration::seconds(n * step))
        }
    }
}

/// The limit the profile sets at `t` in its own unit, with the period's phases; `None` when
/// it is not valid or its schedule does not cover `t`.
fn profile_limit(profile: &Profile, t: DateTime<Utc>, ctx: &Context) -> Option<(f64, Option<u8>)> {
    if profile.valid_from.is_some_and(|from| t < from) || profile.valid_to.is_some_and(|to| t >= to)
    {
        return None;
    }
    let start = schedule_start(profile, t, ctx)?;
    if t < start {
        return None;
    }
    let offset = (t - start).num_seconds();
    if let Some(duration) = profile.schedule.duration {
        // A recurring schedule longer than its recurrence is cut by the next recurrence.
        if offset >= duration {
            return None;
        }
    }
    profile
        .schedule
        .periods
        .iter()
        .rev()
        .find(|p| p.start <= offset)
        .map(|p| (p.limit, p.number_phases))
}

/// The limit of the highest stack level of `purpose` in force at `t`, in `ctx.unit`.
fn purpose_limit(
    profiles: &[Profile],
    purpose: Purpose,
    t: DateTime<Utc>,
    ctx: &Context,
) -> Option<f64> {
    profiles
        .iter()
        .filter(|p| p.purpose == purpose)
        .filter_map(|p| profile_limit(p, t, ctx).map(|l| (p.stack_level, p, l)))
        // Highest stack level; among equals (not allowed, K01), the higher id deterministically.
        .max_by_key(|(level, p, _)| (*level, p.id))
        .map(|(_, p, (limit, phases))| ctx.supply.convert(limit, p.schedule.unit, ctx.unit, phases))
}

/// What the EVSE may draw at `t` in `ctx.unit`; `None`: no profile limits it.
pub fn limit_at(profiles: &[Profile], t: DateTime<Utc>, ctx: &Context) -> Option<f64> {
    let tx = purpose_limit(profiles, Purpose::TxProfile, t, ctx)
        .or_else(|| purpose_limit(profiles, Purpose::TxDefaultProfile, t, ctx));
    [
        tx,
        purpose_limit(profiles, Purpose::ChargingStationMaxProfile, t, ctx),
        purpose_limit(
            profiles,
            Purpose::ChargingStationExternalConstraints,
            t,
            ctx,
        ),
    ]
    .into_iter()
    .flatten()
    .reduce(f64::min)
}

/// One period of a composite: from `start` seconds after the window's start, `limit` (`None`:
/// unlimited) until the next period.
#[derive(Debug, Clone, PartialEq)]
pub struct CompositePeriod {
    pub start: i64,
    pub limit: Option<f64>,
}

/// The moments in `[from, to)` where a profile's contribution can change.
fn breakpoints(
    profile: &Profile,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    ctx: &Context,
    out: &mut Vec<DateTime<Utc>>,
) {
    out.extend(profile.valid_from);
    out.extend(profile.valid_to);
    let mut starts = Vec::new();
    match profile.kind {
        Kind::Absolute => starts.extend(profile.schedule.start),
        Kind::Relative => starts.extend(ctx.transaction_start),
        Kind::Recurring(recurrency) => {
            if let Some(first) = profile.schedule.start {
                let step = recurrency.period();
                // The recurrence in force at `from`, and every one until `to`.
                let mut s = schedule_start(profile, from, ctx).unwrap_or(first);
                if s > first {
                    // The previous recurrence may still be running at `from`.
                    starts.push(s - step);
                }
                while s < to {
                    starts.push(s);
                    s += step;
                }
            }
        }
    }
    for start in starts {
        for p in &profile.schedule.periods {
            out.push(start + Duration::seconds(p.start));
        }
        if let Some(d) = profile.schedule.duration {
            out.push(start + Duration::seconds(d));
        }
    }
}

/// The composite schedule of `profiles` for `duration` seconds from `start`: consecutive
/// periods with different limits, the first at 0.
pub fn composite(
    profiles: &[Profile],
    start: DateTime<Utc>,
    duration: i64,
    ctx: &Context,
) -> Vec<CompositePeriod> {
    let end = start + Duration::seconds(duration.max(0));
    let mut moments = vec![start];
    for p in profiles {
        breakpoints(p, start, end, ctx, &mut moments);
    }
    moments.retain(|m| *m >= start && *m < end);
    moments.sort();
    moments.dedup();
    let mut periods: Vec<CompositePeriod> = Vec::new();
    for m in moments {
        let limit = limit_at(profiles, m, ctx);
        if periods.last().is_some_and(|p| p.limit == limit) {
            continue;
        }
        periods.push(CompositePeriod {
            start: (m - start).num_seconds(),
            limit,
        });
    }
    periods
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn profile(
        id: i64,
        level: i64,
        purpose: Purpose,
        start: i64,
        periods: &[(i64, f64)],
    ) -> Profile {
        Profile {
            id,
            stack_level: level,
            purpose,
            kind: Kind::Absolute,
            valid_from: None,
            valid_to: None,
            schedule: Schedule {
                start: Some(t(start)),
                duration: None,
                unit: Unit::A,
                periods: periods
                    .iter()
                    .map(|&(start, limit)| Period {
                        start,
                        limit,
                        number_phases: None,
                    })
                    .collect(),
            },
        }
    }

    const CTX: Context = Context {
        transaction_start: None,
        unit: Unit::A,
        supply: Supply { voltage: 230.0 },
    };

    #[test]
    fn higher_stack_level_wins_and_station_max_caps() {
        let mut high = profile(2, 1, Purpose::TxDefaultProfile, 60, &[(0, 10.0)]);
        high.schedule.duration = Some(60);
        let profiles = vec![
            profile(1, 0, Purpose::TxDefaultProfile, 0, &[(0, 16.0)]),
            high,
            profile(
                3,
                0,
                Purpose::ChargingStationMaxProfile,
                0,
                &[(0, 32.0), (150, 12.0)],
            ),
        ];
        let c = composite(&profiles, t(0), 300, &CTX);
        let got: Vec<(i64, Option<f64>)> = c.iter().map(|p| (p.start, p.limit)).collect();
        assert_eq!(
            got,
            vec![
                (0, Some(16.0)),
                (60, Some(10.0)),
                (120, Some(16.0)),
                (150, Some(12.0))
            ]
        );
    }

    #[test]
    fn tx_profile_overrides_tx_default_and_watts_convert() {
        let mut tx = profile(2, 0, Purpose::TxProfile, 0, &[(0, 6900.0)]);
        tx.schedule.unit = Unit::W;
        let profiles = vec![
            profile(1, 5, Purpose::TxDefaultProfile, 0, &[(0, 16.0)]),
            tx,
        ];
        assert_eq!(limit_at(&profiles, t(10), &CTX), Some(10.0));
        let watts = Context {
            unit: Unit::W,
            ..CTX
        };
        assert_eq!(limit_at(&profiles, t(10), &watts), Some(6900.0));
    }

    #[test]
    fn daily_recurrence_repeats() {
        let mut p = profile(
            1,
            0,
            Purpose::TxDefaultProfile,
            0,
            &[(0, 10.0), (3600, 20.0)],
        );
        p.kind = Kind::Recurring(Recurrency::Daily);
        p.schedule.duration = Some(7200);
        let day = 86_400;
        assert_eq!(
            limit_at(std::slice::from_ref(&p), t(day + 10), &CTX),
            Some(10.0)
        );
        assert_eq!(
            limit_at(std::slice::from_ref(&p), t(day + 3600), &CTX),
            Some(20.0)
        );
        assert_eq!(limit_at(&[p], t(day + 7200), &CTX), None);
    }
}

/// One EVSE that shares a group limit (site load management).
#[derive(Debug, Clone, PartialEq)]
pub struct Demand<K> {
    pub key: K,
    /// The least it can charge with (e.g. 6 A for AC); below that it is paused (0).
    pub min: f64,
    /// The most it can use.
    pub max: f64,
    /// Higher first when the limit does not cover every minimum (e.g. by token group).
    pub priority: i64,
}

/// Share `limit` among `demands`: by priority (then in the given order), as many EVSEs as the
/// limit covers get their minimum; the rest of the limit is shared equally among them up to
/// each one's maximum (water-filling). The others get 0. The sum never exceeds `limit`.
pub fn allocate<K: Clone>(limit: f64, demands: &[Demand<K>]) -> Vec<(K, f64)> {
    let mut order: Vec<usize> = (0..demands.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(demands[i].priority));
    let mut given = vec![0.0; demands.len()];
    let mut admitted = Vec::new();
    let mut left = limit.max(0.0);
    for i in order {
        let d = &demands[i];
        let min = d.min.max(0.0).min(d.max.max(0.0));
        if min <= left + 1e-9 && d.max > 0.0 {
            given[i] = min;
            left -= min;
            admitted.push(i);
        }
    }
    // Water-filling of what is left.
    let mut open: Vec<usize> = admitted;
    while left > 1e-9 && !open.is_empty() {
        let share = left / open.len() as f64;
        let mut next = Vec::new();
        for &i in &open {
            let room = demands[i].max - given[i];
            let add = room.min(share);
            given[i] += add;
            left -= add;
            if room > share + 1e-9 {
                next.push(i);
            }
        }
        if next.len() == open.len() {
            break;
        }
        open = next;
    }
    demands
        .iter()
        .zip(given)
        .map(|(d, g)| (d.key.clone(), g))
        .collect()
}

#[cfg(test)]
mod allocate_tests {
    use super::*;

    fn d(key: u32, min: f64, max: f64, priority: i64) -> Demand<u32> {
        Demand {
            key,
            min,
            max,
            priority,
        }
    }

    #[test]
    fn equal_share_up_to_each_maximum() {
        let got = allocate(
            60.0,
            &[d(1, 6.0, 32.0, 0), d(2, 6.0, 10.0, 0), d(3, 6.0, 32.0, 0)],
        );
        assert_eq!(got, vec![(1, 25.0), (2, 10.0), (3, 25.0)]);
    }

    #[test]
    fn minimums_first_by_priority_then_nothing_for_the_rest() {
        let got = allocate(
            13.0,
            &[d(1, 6.0, 32.0, 0), d(2, 6.0, 32.0, 1), d(3, 6.0, 32.0, 0)],
        );
        assert_eq!(got, vec![(1, 6.5), (2, 6.5), (3, 0.0)]);
    }
}
