//! Metering: turning what a charger reports into usage that can be rated.
//!
//! Two kinds of input, both as the station reported them and in whatever order they arrived
//! (offline stations queue events; retransmissions repeat them):
//!
//! - readings of the cumulative energy import register ([`EnergyReading`], OCPP measurand
//!   `Energy.Active.Import.Register`, normalised to Wh by [`to_wh`]);
//! - changes of the plug/charging state ([`StateChange`], OCPP `chargingState`, mapped by
//!   [`plug_state`]).
//!
//! [`usage`] reduces them to a [`Usage`]: energy, seconds charging, seconds idle. The types are
//! generic on purpose — an OCPI session, a Diameter service-usage report or a toll charge
//! report reduce to the same shape and are rated by the same [`crate::rating::rate`].

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub mod metered_usage;
pub use metered_usage::{MeteredUsage, OutOfOrder, SequencedChange};

/// One reading of a cumulative energy import register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnergyReading {
    /// When the station took the reading (its clock, not ours).
    pub timestamp: DateTime<Utc>,
    /// The register value in Wh (see [`to_wh`]).
    pub wh: Decimal,
}

/// Convert a reported energy value to Wh.
///
/// `unit` is `"Wh"` (also when `None`, the OCPP default) or `"kWh"`, compared
/// case-insensitively since neither has a look-alike; `multiplier` is a power of ten (OCPP
/// `unitOfMeasure.multiplier`, default 0). Returns `None` for any other unit, a multiplier
/// outside ±28 (beyond what a `Decimal` can scale by) or a result that does not fit — the caller
/// should then keep the raw value and not rate it, rather than guess.
pub fn to_wh(value: Decimal, unit: Option<&str>, multiplier: Option<i32>) -> Option<Decimal> {
    let unit_factor = match unit {
        None => Decimal::ONE,
        Some(u) if u.eq_ignore_ascii_case("Wh") => Decimal::ONE,
        Some(u) if u.eq_ignore_ascii_case("kWh") => Decimal::ONE_THOUSAND,
        Some(_) => return None,
    };
    let m = multiplier.unwrap_or(0);
    if !(-28..=28).contains(&m) {
        return None;
    }
    let power = if m >= 0 {
        Decimal::try_from_i128_with_scale(10i128.pow(m.unsigned_abs()), 0).ok()?
    } else {
        Decimal::try_new(1, m.unsigned_abs()).ok()?
    };
    value.checked_mul(unit_factor)?.checked_mul(power)
}

/// Where the EV is, for pricing time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PlugState {
    /// Energy is flowing (OCPP `Charging`): priced per charging minute.
    Charging,
    /// Plugged in but not charging (OCPP `EVConnected`, `SuspendedEV`, `SuspendedEVSE`): the
    /// EV occupies the charger, priced per idle minute.
    Idle,
    /// Not plugged in (OCPP `chargingState` `Idle` — note the different meaning of "idle"):
    /// never priced.
    Unplugged,
}

impl PlugState {
    /// The variant's name, as stored (`Charging`, `Idle`, `Unplugged`).
    pub fn as_str(self) -> &'static str {
        match self {
            PlugState::Charging => "Charging",
            PlugState::Idle => "Idle",
            PlugState::Unplugged => "Unplugged",
        }
    }

    /// The inverse of [`PlugState::as_str`] (not of [`plug_state`], which reads OCPP names).
    pub fn from_name(name: &str) -> Option<PlugState> {
        match name {
            "Charging" => Some(PlugState::Charging),
            "Idle" => Some(PlugState::Idle),
            "Unplugged" => Some(PlugState::Unplugged),
            _ => None,
        }
    }
}

/// Map an OCPP 2.0.1 `ChargingStateEnumType` value to a [`PlugState`]: `Charging` →
/// `Charging`; `EVConnected` | `SuspendedEV` | `SuspendedEVSE` → `Idle`; `Idle` → `Unplugged`.
/// `None` for anything else (the caller ignores unknown states rather than mis-price them).
pub fn plug_state(charging_state: &str) -> Option<PlugState> {
    match charging_state {
        "Charging" => Some(PlugState::Charging),
        "EVConnected" | "SuspendedEV" | "SuspendedEVSE" => Some(PlugState::Idle),
        "Idle" => Some(PlugState::Unplugged),
        _ => None,
    }
}

/// The plug state changed to `state` at `timestamp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateChange {
    pub timestamp: DateTime<Utc>,
    pub state: PlugState,
}

/// What a session consumed: the input of rating.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Energy delivered in Wh (never negative when produced by [`usage`]).
    pub energy_wh: Decimal,
    /// Seconds the EV was charging.
    pub charging_seconds: i64,
    /// Seconds the EV was plugged in but not charging.
    pub idle_seconds: i64,
    /// The register went backwards (or jumped by more than a `Decimal` holds) at least once:
    /// a meter swap, a reset or bad data. The energy of such a step is not counted, the raw
    /// readings stay where they were stored, and this flag tells an operator to look.
    pub energy_went_backwards: bool,
}

/// Reduce readings and state changes to the usage of the session `[start, end]`.
///
/// Energy: the sum of the non-negative increments between consecutive readings in timestamp
/// order (a stable sort, so readings with equal timestamps keep their reported order). A step
/// that goes backwards contributes nothing and sets [`Usage::energy_went_backwards`]; counting
/// on from the lower value after a reset keeps the energy delivered after it. Readings are not
/// clipped to `[start, end]`: the register is authoritative and station clocks drift, so a
/// `Transaction.End` reading stamped a second after the session end still counts.
///
/// Durations: the time spent in each [`PlugState`] between `start` and `end`. Changes are
/// sorted by timestamp (stable) first, so events that arrived out of order are put back on
/// the timeline instead of producing negative intervals. The state at `start` is the last
/// change at or before `start`, or `Unplugged` when there is none; changes after `end` are
/// ignored. `end <= start` gives zero durations. Seconds are whole seconds, truncated once on
/// the total (not per interval).
pub fn usage(
    readings: &[EnergyReading],
    changes: &[StateChange],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Usage {
    let (energy_wh, energy_went_backwards) = energy(readings);
    let (charging, idle) = durations(changes, start, end);
    Usage {
        energy_wh,
        charging_seconds: charging.num_seconds(),
        idle_seconds: idle.num_seconds(),
        energy_went_backwards,
    }
}

fn energy(readings: &[EnergyReading]) -> (Decimal, bool) {
    let mut sorted: Vec<&EnergyReading> = readings.iter().collect();
    sorted.sort_by_key(|r| r.timestamp);
    let mut total = Decimal::ZERO;
    let mut backwards = false;
    for pair in sorted.windows(2) {
        match pair[1].wh.checked_sub(pair[0].wh) {
            Some(step) if step >= Decimal::ZERO => {
                // Saturate rather than fail: a total beyond 7.9e28 Wh is bad data, and rating
                // bounds the energy it prices anyway.
                total = total.saturating_add(step);
            }
            _ => backwards = true,
        }
    }
    (total, backwards)
}

fn durations(
    changes: &[StateChange],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> (TimeDelta, TimeDelta) {
    let mut charging = TimeDelta::zero();
    let mut idle = TimeDelta::zero();
    if end <= start {
        return (charging, idle);
    }
    let mut sorted: Vec<&StateChange> = changes.iter().collect();
    sorted.sort_by_key(|c| c.timestamp);

    let mut state = PlugState::Unplugged;
    let mut cursor = start;
    let mut add = |state: PlugState, from: DateTime<Utc>, to: DateTime<Utc>| {
        let span = to.signed_duration_since(from);
        if span <= TimeDelta::zero() {
            return;
        }
        let slot = match state {
            PlugState::Charging => &mut charging,
            PlugState::Idle => &mut idle,
            PlugState::Unplugged => return,
        };
        // The spans are disjoint parts of [start, end], so their sum cannot exceed end - start;
        // checked anyway to stay panic-free.
        *slot = slot.checked_add(&span).unwrap_or(*slot);
    };
    for change in sorted {
        if change.timestamp <= start {
            state = change.state;
            continue;
        }
        if change.timestamp >= end {
            break;
        }
        add(state, cursor, change.timestamp);
        cursor = change.timestamp;
        state = change.state;
    }
    add(state, cursor, end);
    (charging, idle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn at(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 0).unwrap() + TimeDelta::seconds(s)
    }

    fn r(s: i64, wh: &str) -> EnergyReading {
        EnergyReading {
            timestamp: at(s),
            wh: dec(wh),
        }
    }

    fn c(s: i64, state: PlugState) -> StateChange {
        StateChange {
            timestamp: at(s),
            state,
        }
    }

    use PlugState::*;

    #[test]
    fn to_wh_conversions() {
        assert_eq!(to_wh(dec("1234.5"), None, None), Some(dec("1234.5")));
        assert_eq!(
            to_wh(dec("1234.5"), Some("Wh"), Some(0)),
            Some(dec("1234.5"))
        );
        assert_eq!(to_wh(dec("12.345"), Some("kWh"), None), Some(dec("12345")));
        assert_eq!(to_wh(dec("12.345"), Some("KWH"), None), Some(dec("12345")));
        assert_eq!(
            to_wh(dec("12.345"), Some("Wh"), Some(3)),
            Some(dec("12345"))
        );
        assert_eq!(
            to_wh(dec("12345"), Some("Wh"), Some(-3)),
            Some(dec("12.345"))
        );
        assert_eq!(to_wh(dec("1.5"), Some("kWh"), Some(1)), Some(dec("15000")));
        assert_eq!(to_wh(dec("1"), Some("varh"), None), None);
        assert_eq!(to_wh(dec("1"), Some("W"), None), None);
        assert_eq!(to_wh(dec("1"), None, Some(29)), None);
        assert_eq!(to_wh(dec("1"), None, Some(i32::MIN)), None);
        assert_eq!(to_wh(Decimal::MAX, Some("kWh"), None), None);
        assert_eq!(to_wh(Decimal::MAX, None, Some(28)), None);
    }

    #[test]
    fn plug_state_names_round_trip() {
        for s in [Charging, Idle, Unplugged] {
            assert_eq!(PlugState::from_name(s.as_str()), Some(s));
        }
        assert_eq!(PlugState::from_name("EVConnected"), None);
    }

    #[test]
    fn plug_states() {
        assert_eq!(plug_state("Charging"), Some(Charging));
        assert_eq!(plug_state("EVConnected"), Some(Idle));
        assert_eq!(plug_state("SuspendedEV"), Some(Idle));
        assert_eq!(plug_state("SuspendedEVSE"), Some(Idle));
        assert_eq!(plug_state("Idle"), Some(Unplugged));
        assert_eq!(plug_state("charging"), None);
    }

    #[test]
    fn energy_sums_increments_in_timestamp_order() {
        let readings = [r(60, "1500"), r(0, "1000"), r(120, "2250.5")];
        let u = usage(&readings, &[], at(0), at(120));
        assert_eq!(u.energy_wh, dec("1250.5"));
        assert!(!u.energy_went_backwards);
        assert_eq!(usage(&[], &[], at(0), at(1)).energy_wh, Decimal::ZERO);
        assert_eq!(
            usage(&[r(0, "5")], &[], at(0), at(1)).energy_wh,
            Decimal::ZERO
        );
    }

    #[test]
    fn backwards_energy_is_flagged_and_not_counted() {
        // meter reset to 20 after 1500; counting resumes from the new value
        let readings = [r(0, "1000"), r(10, "1500"), r(20, "20"), r(30, "520")];
        let u = usage(&readings, &[], at(0), at(30));
        assert_eq!(u.energy_wh, dec("1000"));
        assert!(u.energy_went_backwards);
        // only backwards: zero energy, never negative
        let u = usage(&[r(0, "900"), r(10, "100")], &[], at(0), at(10));
        assert_eq!(u.energy_wh, Decimal::ZERO);
        assert!(u.energy_went_backwards);
        // a step too large for Decimal counts as bad data, not a panic
        let extreme = [
            EnergyReading {
                timestamp: at(0),
                wh: Decimal::MIN,
            },
            EnergyReading {
                timestamp: at(1),
                wh: Decimal::MAX,
            },
        ];
        let u = usage(&extreme, &[], at(0), at(1));
        assert_eq!(u.energy_wh, Decimal::ZERO);
        assert!(u.energy_went_backwards);
    }

    #[test]
    fn durations_per_state() {
        let changes = [c(0, Idle), c(60, Charging), c(660, Idle), c(720, Unplugged)];
        let u = usage(&[], &changes, at(0), at(800));
        assert_eq!((u.charging_seconds, u.idle_seconds), (600, 120));
    }

    #[test]
    fn state_before_first_change_is_unplugged_unless_at_or_before_start() {
        let u = usage(&[], &[c(100, Charging)], at(0), at(300));
        assert_eq!((u.charging_seconds, u.idle_seconds), (200, 0));
        let u = usage(&[], &[c(-50, Idle), c(-10, Charging)], at(0), at(300));
        assert_eq!((u.charging_seconds, u.idle_seconds), (300, 0));
        let u = usage(&[], &[c(0, Idle), c(100, Charging)], at(0), at(300));
        assert_eq!((u.charging_seconds, u.idle_seconds), (200, 100));
    }

    #[test]
    fn changes_outside_the_session_are_clipped() {
        let changes = [c(-100, Charging), c(200, Idle), c(400, Charging)];
        let u = usage(&[], &changes, at(0), at(300));
        assert_eq!((u.charging_seconds, u.idle_seconds), (200, 100));
    }

    #[test]
    fn out_of_order_changes_are_put_back_on_the_timeline() {
        let ordered = [c(0, Idle), c(60, Charging), c(660, Idle)];
        let shuffled = [c(660, Idle), c(0, Idle), c(60, Charging)];
        let a = usage(&[], &ordered, at(0), at(700));
        let b = usage(&[], &shuffled, at(0), at(700));
        assert_eq!(a, b);
        assert_eq!((a.charging_seconds, a.idle_seconds), (600, 100));
    }

    #[test]
    fn empty_or_inverted_session_has_no_duration() {
        let changes = [c(0, Charging)];
        assert_eq!(usage(&[], &changes, at(10), at(10)).charging_seconds, 0);
        assert_eq!(usage(&[], &changes, at(10), at(5)).charging_seconds, 0);
        assert_eq!(usage(&[], &[], at(0), at(1000)), Usage::default());
    }

    #[test]
    fn seconds_are_truncated_on_the_total() {
        let half = |s: i64| at(0) + TimeDelta::milliseconds(s);
        let changes = [
            StateChange {
                timestamp: half(0),
                state: Charging,
            },
            StateChange {
                timestamp: half(1500),
                state: Idle,
            },
            StateChange {
                timestamp: half(2000),
                state: Charging,
            },
        ];
        // charging 1.5 s + 1.5 s = 3 s (not 1 + 1), idle 0.5 s = 0
        let u = usage(&[], &changes, half(0), half(3500));
        assert_eq!((u.charging_seconds, u.idle_seconds), (3, 0));
    }

    #[test]
    fn usage_serde_round_trip() {
        let u = Usage {
            energy_wh: dec("12345.6"),
            charging_seconds: 10,
            idle_seconds: 5,
            energy_went_backwards: true,
        };
        let json = serde_json::to_string(&u).unwrap();
        assert!(json.contains("\"energyWh\":\"12345.6\""), "{json}");
        assert!(json.contains("\"energyWentBackwards\":true"), "{json}");
        assert_eq!(serde_json::from_str::<Usage>(&json).unwrap(), u);
    }
}
