//! K08: the composite schedule computed from breakpoints agrees, at every second of the
//! window, with the rules evaluated directly at that second (brute force).

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use unicharge_core::smart_charging::{
    composite, limit_at, Context, Kind, Period, Profile, Purpose, Recurrency, Schedule, Supply,
    Unit,
};

fn t(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
}

const DAY: i64 = 86_400;

fn purpose() -> impl Strategy<Value = Purpose> {
    prop_oneof![
        Just(Purpose::ChargingStationMaxProfile),
        Just(Purpose::TxDefaultProfile),
        Just(Purpose::TxProfile),
        Just(Purpose::ChargingStationExternalConstraints),
    ]
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Absolute),
        Just(Kind::Relative),
        Just(Kind::Recurring(Recurrency::Daily)),
        Just(Kind::Recurring(Recurrency::Weekly)),
    ]
}

prop_compose! {
    fn period_list()(mut starts in prop::collection::vec(1i64..4000, 0..4),
                     limits in prop::collection::vec((1u32..64, prop::option::of(1u8..=3)), 5))
        -> Vec<Period> {
        starts.sort();
        starts.dedup();
        std::iter::once(0).chain(starts).zip(limits)
            .map(|(start, (limit, number_phases))| Period { start, limit: f64::from(limit), number_phases })
            .collect()
    }
}

prop_compose! {
    fn profile()(id in 0i64..1000, stack_level in 0i64..3, purpose in purpose(), kind in kind(),
                 // Recurring schedules may start days before the window.
                 start in -2 * DAY..3000i64, duration in prop::option::of(1i64..5000),
                 valid_from in prop::option::of(-100i64..3000), valid_for in prop::option::of(1i64..4000),
                 watts in any::<bool>(), periods in period_list()) -> Profile {
        Profile {
            id,
            stack_level,
            purpose,
            kind,
            valid_from: valid_from.map(t),
            valid_to: valid_from.zip(valid_for).map(|(f, d)| t(f + d)),
            schedule: Schedule {
                start: (kind != Kind::Relative).then(|| t(start)),
                duration,
                unit: if watts { Unit::W } else { Unit::A },
                periods,
            },
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn composite_matches_every_second(
        profiles in prop::collection::vec(profile(), 0..6),
        window_start in -500i64..2000,
        duration in 1i64..3600,
        tx_start in prop::option::of(-1000i64..2000),
        watts in any::<bool>(),
    ) {
        let ctx = Context {
            transaction_start: tx_start.map(t),
            unit: if watts { Unit::W } else { Unit::A },
            supply: Supply::default(),
        };
        let start = t(window_start);
        let periods = composite(&profiles, start, duration, &ctx);
        prop_assert_eq!(periods.first().map(|p| p.start), Some(0));
        for s in 0..duration {
            let covering = periods.iter().rev().find(|p| p.start <= s).unwrap();
            let want = limit_at(&profiles, start + Duration::seconds(s), &ctx);
            prop_assert_eq!(covering.limit, want, "second {}", s);
        }
        // Consecutive periods differ (the composite is minimal).
        for w in periods.windows(2) {
            prop_assert_ne!(&w[0].limit, &w[1].limit);
        }
    }
}

proptest! {
    /// Site load management: the shares never exceed the limit, every EVSE that got anything
    /// got at least its minimum, and when the limit covers every minimum, everyone charges.
    #[test]
    fn allocation_respects_limit_and_minimums(
        limit in 0.0f64..500.0,
        demands in prop::collection::vec((0.0f64..16.0, 0.0f64..64.0, 0i64..3), 0..12),
    ) {
        use unicharge_core::smart_charging::{allocate, Demand};
        let demands: Vec<Demand<usize>> = demands
            .into_iter()
            .enumerate()
            .map(|(key, (min, extra, priority))| Demand { key, min, max: min + extra, priority })
            .collect();
        let shares = allocate(limit, &demands);
        let total: f64 = shares.iter().map(|s| s.1).sum();
        prop_assert!(total <= limit + 1e-6, "{} > {}", total, limit);
        for ((_, share), d) in shares.iter().zip(&demands) {
            prop_assert!(*share <= d.max + 1e-9);
            prop_assert!(*share == 0.0 || *share + 1e-9 >= d.min);
        }
        let mins: f64 = demands.iter().filter(|d| d.max > 0.0).map(|d| d.min).sum();
        if mins <= limit {
            for ((_, share), d) in shares.iter().zip(&demands) {
                prop_assert!(d.max == 0.0 || *share + 1e-9 >= d.min);
            }
        }
    }
}
