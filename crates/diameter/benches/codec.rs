//! Encode and decode of a typical Rf ACR (INTERIM with IMS Service-Information), and of a
//! typical Ro CCR-U (two MSCCs, each with Used- and Requested-Service-Unit), including the typed
//! read. Run: `cargo bench -p unicharge-diameter --bench codec`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use unicharge_diameter::cc::{CcRequestType, Ccr, Mscc, ServiceUnit};
use unicharge_diameter::rf::SubscriptionId;
use unicharge_diameter::{testing::typical_acr, Message, Time};

fn typical_ccr() -> Ccr {
    let mscc = |rg: u32| Mscc {
        rating_group: Some(rg),
        service_identifiers: vec![rg * 10],
        requested: Some(ServiceUnit {
            cc_total_octets: Some(1_000_000),
            ..ServiceUnit::default()
        }),
        used: vec![ServiceUnit {
            cc_total_octets: Some(734_211),
            cc_input_octets: Some(120_000),
            cc_output_octets: Some(614_211),
            tariff_change_usage: Some(0),
            ..ServiceUnit::default()
        }],
        ..Mscc::default()
    };
    Ccr {
        session_id: "pgw.operator.net;1876543210;42".into(),
        origin_host: "pgw.operator.net".into(),
        origin_realm: "operator.net".into(),
        destination_realm: "ocs.operator.net".into(),
        service_context_id: "32251@3gpp.org".into(),
        request_type: CcRequestType::Update,
        request_number: 3,
        requested_action: None,
        event_timestamp: Some(Time(3_900_000_000)),
        subscription_ids: vec![
            SubscriptionId {
                kind: 0,
                data: "491701234567".into(),
            },
            SubscriptionId {
                kind: 1,
                data: "262011234567890".into(),
            },
        ],
        mscc: vec![mscc(1), mscc(2)],
    }
}

fn codec(c: &mut Criterion) {
    let acr = typical_acr(3, 7);
    let bytes = acr.encode();
    c.bench_function(&format!("acr_encode ({} octets)", bytes.len()), |b| {
        b.iter(|| black_box(&acr).encode())
    });
    c.bench_function("acr_decode", |b| {
        b.iter(|| Message::decode(black_box(&bytes)).unwrap())
    });
    let ccr = typical_ccr();
    let ccr_bytes = ccr.to_message().encode();
    c.bench_function(
        &format!("ccr_encode typed ({} octets)", ccr_bytes.len()),
        |b| b.iter(|| black_box(&ccr).to_message().encode()),
    );
    c.bench_function("ccr_decode typed", |b| {
        b.iter(|| Ccr::parse(&Message::decode(black_box(&ccr_bytes)).unwrap()).unwrap())
    });
}

criterion_group!(benches, codec);
criterion_main!(benches);
