//! Rating cost: what the CSMS spends per TransactionEvent to compute a running cost from a
//! session's course (usage from readings and state changes, then the exact decimal rating).
//!
//! `cargo bench -p unicharge-core --bench rating`

use std::str::FromStr;

use chrono::{Duration, TimeZone, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rust_decimal::Decimal;
use unicharge_core::metering::{usage, EnergyReading, PlugState, StateChange};
use unicharge_core::rating::rate;
use unicharge_core::tariff::Tariff;

fn tariff() -> Tariff {
    let d = |s: &str| Decimal::from_str(s).unwrap();
    Tariff {
        id: "BENCH".into(),
        currency: "EUR".into(),
        vat_percent: d("19"),
        price_per_kwh: d("0.39"),
        price_per_charging_minute: d("0.02"),
        price_per_idle_minute: d("0.10"),
        session_fee: d("0.50"),
        valid_from: None,
        valid_to: None,
        display_text: Vec::new(),
    }
}

/// A session of `n` one-minute periodic readings with a state change every 10 minutes.
fn course(n: i64) -> (Vec<EnergyReading>, Vec<StateChange>) {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).unwrap();
    let readings = (0..n)
        .map(|i| EnergyReading {
            timestamp: t0 + Duration::minutes(i),
            wh: Decimal::new(10_000 + i * 183, 0),
        })
        .collect();
    let changes = (0..n / 10)
        .map(|i| StateChange {
            timestamp: t0 + Duration::minutes(i * 10),
            state: if i % 2 == 0 {
                PlugState::Charging
            } else {
                PlugState::Idle
            },
        })
        .collect();
    (readings, changes)
}

fn bench(c: &mut Criterion) {
    let tariff = tariff();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).unwrap();
    for n in [4_i64, 60, 600] {
        let (readings, changes) = course(n);
        let end = t0 + Duration::minutes(n);
        c.bench_function(&format!("usage + rate, {n} readings"), |b| {
            b.iter(|| {
                let u = usage(black_box(&readings), black_box(&changes), t0, end);
                rate(black_box(&tariff), &u)
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
