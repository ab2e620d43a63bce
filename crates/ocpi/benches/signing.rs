//! What B8.5's signatures cost per payload (ADR 0051): signing a body we send and verifying a
//! body a partner sent, for a location as pushed (one EVSE, ~1 KB) and a full page of 50
//! locations (~50 KB, the eMSP's pull), against one trusted key and behind a hub (two
//! signatures, the first by a key we do not hold).
//!
//! `cargo bench -p unicharge-ocpi --bench signing -- --warm-up-time 1 --measurement-time 3`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use unicharge_ocpi::signing::{verify, Binding, SigningKey};

fn key() -> SigningKey {
    SigningKey::from_pkcs8(&SigningKey::generate_pkcs8().unwrap()).unwrap()
}

fn location(i: usize) -> String {
    format!(
        r#"{{"country_code":"NL","party_id":"CPO","id":"LOC{i}","publish":true,"name":"Site {i}","address":"Stationsplein 1","city":"Utrecht","postal_code":"3511 ED","country":"NLD","coordinates":{{"latitude":"52.089444","longitude":"5.110278"}},"parking_type":"ON_STREET","evses":[{{"uid":"CP{i}*1","evse_id":"NL*CPO*E{i}*1","status":"AVAILABLE","capabilities":["RFID_READER","REMOTE_START_STOP_CAPABLE"],"connectors":[{{"id":"1","standard":"IEC_62196_T2","format":"SOCKET","power_type":"AC_3_PHASE","max_voltage":230,"max_amperage":32,"max_electric_power":22000,"tariff_ids":["T1"],"last_updated":"2026-12-07T10:00:00Z"}}],"last_updated":"2026-12-07T10:00:00Z"}}],"facilities":["TRAIN_STATION"],"time_zone":"Europe/Amsterdam","opening_times":{{"twentyfourseven":true}},"last_updated":"2026-12-07T10:00:00Z"}}"#
    )
}

fn signing(c: &mut Criterion) {
    let ours = key();
    let hub = key();
    let public = [ours.jwk().public_key().unwrap()];
    let one = location(1).into_bytes();
    let page = format!(
        r#"{{"data":[{}],"status_code":1000,"timestamp":"2026-12-07T10:00:00Z"}}"#,
        (0..50).map(location).collect::<Vec<_>>().join(",")
    )
    .into_bytes();
    // Where a push goes, as the signature binds it (a page's headers would add ~100 octets).
    let at = [Binding::new("PUT", "/NL/CPO/LOC1")];
    for (name, body) in [("location", &one), ("page_of_50", &page)] {
        c.bench_function(&format!("sign_{name}"), |b| {
            b.iter(|| ours.sign(black_box(body), &at[0]))
        });
        let signature = ours.sign(body, &at[0]);
        c.bench_function(&format!("verify_{name}"), |b| {
            b.iter(|| verify(Some(black_box(&signature)), black_box(body), &public, &at).unwrap())
        });
        let behind_hub = format!("{}, {signature}", hub.sign(body, &at[0]));
        c.bench_function(&format!("verify_{name}_behind_a_hub"), |b| {
            b.iter(|| verify(Some(black_box(&behind_hub)), black_box(body), &public, &at).unwrap())
        });
    }
    eprintln!(
        "sizes: location {} octets, page {} octets",
        one.len(),
        page.len()
    );
}

criterion_group!(benches, signing);
criterion_main!(benches);
