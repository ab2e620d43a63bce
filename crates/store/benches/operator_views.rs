//! The web UI's station list at fleet size: one page of 50 out of 100,000 stations (issue 16,
//! "paging for 100,000 stations"), as the page asks for it — first page by id, a page deep in
//! the list, a search, and the online filter with half the fleet connected (the live set is
//! passed in, as the CSMS passes it).
//!
//! `cargo bench -p unicharge-store --bench operator_views -- --warm-up-time 1 --measurement-time 3`
//!
//! Seeding (not measured) writes the stations and a BootNotification each through the store's
//! own writes, so indexes and row shapes are the production ones.

use std::time::Instant;

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion};
use unicharge_core::{RegistrationStatus, SecurityProfile, Station, StationId};
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::views::{StationQuery, StationSort, StationStatusFilter};
use unicharge_store::{Store, Write};

const FLEET: usize = 100_000;
const PAGE: u32 = 50;

fn id(n: usize) -> StationId {
    StationId::new(format!("CP-{n:06}")).unwrap()
}

async fn seed(store: &SqliteStore) {
    let started = Instant::now();
    for n in 0..FLEET {
        store
            .create_station(&Station::new(id(n), SecurityProfile::BasicAuth, Utc::now()))
            .await
            .unwrap();
    }
    for chunk in (0..FLEET).collect::<Vec<_>>().chunks(1000) {
        let writes = chunk
            .iter()
            .map(|&n| Write::StationBooted {
                station_id: id(n),
                at: Utc::now(),
                reason: "PowerUp".into(),
                model: if n % 10 == 0 { "Wallbox X" } else { "Pillar" }.into(),
                vendor_name: "unicharge".into(),
                serial_number: Some(format!("SN{n}")),
                firmware_version: None,
                status: RegistrationStatus::Accepted,
            })
            .collect();
        store.write(writes).await.unwrap();
    }
    eprintln!("seeded {FLEET} stations in {:?}", started.elapsed());
}

fn query(search: Option<&str>, status: StationStatusFilter, offset: u64) -> StationQuery {
    StationQuery {
        search: search.map(String::from),
        status,
        connected: Vec::new(),
        sort: StationSort::Id,
        descending: false,
        limit: PAGE,
        offset,
    }
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = runtime.block_on(async {
        let store = SqliteStore::open(&dir.path().join("bench.db"), Durability::Normal)
            .await
            .unwrap();
        seed(&store).await;
        store
    });
    let online: Vec<StationId> = (0..FLEET).step_by(2).map(id).collect();
    let cases = [
        ("first page by id", query(None, StationStatusFilter::All, 0)),
        (
            "page 1,000 by id",
            query(None, StationStatusFilter::All, 999 * u64::from(PAGE)),
        ),
        (
            "search 'wallbox' (10,000 match)",
            query(Some("wallbox"), StationStatusFilter::All, 0),
        ),
        (
            "online, 50,000 connected",
            StationQuery {
                connected: online.clone(),
                ..query(None, StationStatusFilter::Online, 0)
            },
        ),
    ];
    let mut group = c.benchmark_group("station_page_100k");
    for (name, q) in &cases {
        let page = runtime.block_on(store.station_page(q)).unwrap();
        assert_eq!(page.stations.len(), PAGE as usize, "{name}");
        group.bench_function(*name, |b| {
            b.iter(|| runtime.block_on(store.station_page(q)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
