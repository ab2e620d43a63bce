//! Encode and decode of a typical Rf ACR (INTERIM with IMS Service-Information), and of the
//! ACA. Run: `cargo bench -p unicharge-diameter --bench codec`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use unicharge_diameter::{testing::typical_acr, Message};

fn codec(c: &mut Criterion) {
    let acr = typical_acr(3, 7);
    let bytes = acr.encode();
    c.bench_function(&format!("acr_encode ({} octets)", bytes.len()), |b| {
        b.iter(|| black_box(&acr).encode())
    });
    c.bench_function("acr_decode", |b| {
        b.iter(|| Message::decode(black_box(&bytes)).unwrap())
    });
}

criterion_group!(benches, codec);
criterion_main!(benches);
