//! What the composite-schedule calculator (K08) costs: a day's composite of an EVSE holding a
//! station maximum, a daily recurring TxDefaultProfile of 24 hourly periods, a TxProfile and an
//! external constraint; and one site allocation among 100 EVSEs.
//!
//! `cargo bench -p unicharge-core --bench composite_schedule`

use chrono::{DateTime, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use unicharge_core::smart_charging::{
    allocate, composite, Context, Demand, Kind, Period, Profile, Purpose, Recurrency, Schedule,
    Supply, Unit,
};

fn t(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
}

fn profile(id: i64, purpose: Purpose, kind: Kind, unit: Unit, periods: Vec<Period>) -> Profile {
    Profile {
        id,
        stack_level: 0,
        purpose,
        kind,
        valid_from: None,
        valid_to: None,
        schedule: Schedule {
            start: (kind != Kind::Relative).then(|| t(-86_400)),
            duration: None,
            unit,
            periods,
        },
    }
}

fn flat(limit: f64) -> Vec<Period> {
    vec![Period {
        start: 0,
        limit,
        number_phases: None,
    }]
}

fn profiles() -> Vec<Profile> {
    let hourly = (0..24)
        .map(|h| Period {
            start: h * 3600,
            limit: 10.0 + f64::from((h % 5) as u8) * 3.0,
            number_phases: None,
        })
        .collect();
    vec![
        profile(
            1,
            Purpose::ChargingStationMaxProfile,
            Kind::Absolute,
            Unit::W,
            flat(22_000.0),
        ),
        profile(
            2,
            Purpose::TxDefaultProfile,
            Kind::Recurring(Recurrency::Daily),
            Unit::A,
            hourly,
        ),
        profile(3, Purpose::TxProfile, Kind::Relative, Unit::A, flat(16.0)),
        profile(
            4,
            Purpose::ChargingStationExternalConstraints,
            Kind::Absolute,
            Unit::A,
            flat(20.0),
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let profiles = profiles();
    let ctx = Context {
        transaction_start: Some(t(7200)),
        unit: Unit::A,
        supply: Supply::default(),
    };
    c.bench_function("composite_one_day_4_profiles", |b| {
        b.iter(|| composite(black_box(&profiles), t(0), 86_400, &ctx))
    });
    let demands: Vec<Demand<usize>> = (0..100)
        .map(|key| Demand {
            key,
            min: 6.0,
            max: if key % 3 == 0 { 16.0 } else { 32.0 },
            priority: (key % 2) as i64,
        })
        .collect();
    c.bench_function("allocate_100_evses", |b| {
        b.iter(|| allocate(black_box(1200.0), black_box(&demands)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
