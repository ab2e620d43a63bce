//! The reads of the message path are answered from memory; these tests hold the caches to the
//! tables: after every change, through the writer or an operator-side method, what the store
//! answers equals what a fresh store opened on the same file (empty caches, so every answer is
//! read from the tables) answers. And the caches stay within their bounds.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use unicharge_core::tariff::{Tariff, TariffAssignment, TariffScope};
use unicharge_core::tokens::IdTokenRecord;
use unicharge_core::{RegistrationStatus, SecurityProfile, Station, StationId};
use unicharge_store::sqlite::{
    CacheConfig, CheckpointConfig, Durability, SqliteStore, StoreConfig,
};
use unicharge_store::{
    MeterValueRecord, Store, StoredAnswer, TransactionEventRecord, TransactionFacts, Write,
};

fn at(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 8, 0, 0).unwrap() + Duration::minutes(min)
}

fn cp(name: &str) -> StationId {
    StationId::new(name).unwrap()
}

async fn open(dir: &tempfile::TempDir, config: StoreConfig) -> SqliteStore {
    SqliteStore::open_with(&dir.path().join("unicharge.db"), Durability::Normal, config)
        .await
        .unwrap()
}

async fn with_station(config: StoreConfig) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, config).await;
    store
        .create_station(&Station::new(cp("CP1"), SecurityProfile::BasicAuth, at(0)))
        .await
        .unwrap();
    (dir, store)
}

fn event(tx: &str, seq_no: i64, kind: &str, min: i64, state: Option<&str>) -> Write {
    Write::TransactionEvent(TransactionEventRecord {
        station_id: cp("CP1"),
        transaction_id: tx.into(),
        seq_no,
        event_type: kind.into(),
        trigger_reason: "MeterValuePeriodic".into(),
        timestamp: at(min),
        offline: false,
        evse_id: Some(1),
        connector_id: Some(1),
        id_token: (kind == "Started").then(|| "DRIVER-1".into()),
        charging_state: state.map(str::to_string),
        stopped_reason: (kind == "Ended").then(|| "Local".into()),
        data: serde_json::json!({"transactionInfo": {"transactionId": tx, "chargingState": state}})
            .to_string(),
        meter_values: 0,
        received_at: at(min),
    })
}

fn reading(tx: &str, min: i64, wh: i64) -> Write {
    Write::MeterValue(Box::new(MeterValueRecord {
        station_id: cp("CP1"),
        evse_id: 1,
        transaction_id: Some(tx.into()),
        timestamp: at(min),
        context: "Sample.Periodic".into(),
        measurand: "Energy.Active.Import.Register".into(),
        phase: None,
        location: None,
        unit: Some("Wh".into()),
        multiplier: 0,
        value: Decimal::from(wh),
        wh: Some(Decimal::from(wh)),
        signed: false,
        signed_data: None,
        source: "TransactionEvent".into(),
        energy_backwards: false,
    }))
}

/// What the message path reads of a transaction, from `store`.
async fn seen(
    store: &SqliteStore,
    tx: &str,
) -> (
    Option<unicharge_store::TransactionRecord>,
    Option<unicharge_core::metering::MeteredUsage>,
    Vec<bool>,
) {
    let mut seqs = Vec::new();
    for seq_no in 0..8 {
        seqs.push(
            store
                .transaction_event_seen(&cp("CP1"), tx, seq_no)
                .await
                .unwrap(),
        );
    }
    (
        store.transaction(&cp("CP1"), tx).await.unwrap(),
        store.metered_usage(&cp("CP1"), tx).await.unwrap(),
        seqs,
    )
}

/// The cached answers equal a fresh store's (which reads every one from the tables).
async fn assert_transaction_coherent(dir: &tempfile::TempDir, store: &SqliteStore, tx: &str) {
    let fresh = open(dir, StoreConfig::default()).await;
    assert_eq!(seen(store, tx).await, seen(&fresh, tx).await, "{tx}");
}

#[tokio::test]
async fn a_transaction_read_from_the_cache_equals_the_table_after_every_write() {
    let (dir, store) = with_station(StoreConfig::default()).await;
    let steps: Vec<Vec<Write>> = vec![
        vec![
            event("TX-1", 0, "Started", 0, Some("EVConnected")),
            reading("TX-1", 0, 1_000),
        ],
        vec![Write::TransactionFacts(TransactionFacts {
            station_id: cp("CP1"),
            transaction_id: "TX-1".into(),
            id_token_type: Some("ISO14443".into()),
            group_id_token: Some("FLEET".into()),
            remote_start_id: None,
            reservation_id: None,
            tariff_id: Some("STD".into()),
        })],
        // seqNo 1 and 2 still queued at the station: a gap, then a late one.
        vec![
            event("TX-1", 3, "Updated", 20, Some("Charging")),
            reading("TX-1", 20, 4_000),
        ],
        vec![event("TX-1", 1, "Updated", 5, Some("Charging"))],
        // A duplicate seqNo changes nothing.
        vec![event("TX-1", 3, "Updated", 20, Some("Charging"))],
        vec![
            event("TX-1", 4, "Ended", 30, Some("EVConnected")),
            reading("TX-1", 30, 6_000),
        ],
    ];
    assert_transaction_coherent(&dir, &store, "TX-1").await;
    for step in steps {
        store.write(step).await.unwrap();
        assert_eq!(store.cached().0, 1, "answered from the cache");
        assert_transaction_coherent(&dir, &store, "TX-1").await;
    }
    let t = store
        .transaction(&cp("CP1"), "TX-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.seq_no_gaps, vec![2]);
    assert_eq!(t.tariff_id.as_deref(), Some("STD"));
    assert!(t.ended_at.is_some());

    // E14 through the operator side.
    store
        .write(vec![event("TX-2", 0, "Started", 40, None)])
        .await
        .unwrap();
    assert!(store
        .mark_transaction_forgotten(&cp("CP1"), "TX-2", at(50))
        .await
        .unwrap());
    assert_transaction_coherent(&dir, &store, "TX-2").await;
    assert_eq!(
        store
            .transaction(&cp("CP1"), "TX-2")
            .await
            .unwrap()
            .unwrap()
            .station_forgot_at,
        Some(at(50))
    );
}

#[tokio::test]
async fn stations_tokens_and_tariffs_follow_every_change() {
    let (dir, store) = with_station(StoreConfig::default()).await;
    let id = cp("CP1");
    let station = |s: &SqliteStore| {
        let s = s.clone();
        let id = id.clone();
        async move { s.get_station(&id).await.unwrap() }
    };
    let fresh = || open(&dir, StoreConfig::default());

    // Stations: read (cached), then changed by the writer and by each operator method.
    assert!(station(&store).await.is_some());
    store
        .write(vec![
            Write::StationBooted {
                station_id: id.clone(),
                at: at(1),
                reason: "PowerUp".into(),
                model: "M".into(),
                vendor_name: "V".into(),
                serial_number: None,
                firmware_version: Some("1.0".into()),
                status: RegistrationStatus::Accepted,
            },
            Write::Connection {
                station_id: id.clone(),
                at: at(1),
                connected: true,
            },
        ])
        .await
        .unwrap();
    assert_eq!(station(&store).await, station(&fresh().await).await);
    assert!(station(&store).await.unwrap().connected);
    store
        .set_password_hash(&id, Some("$argon2id$x"))
        .await
        .unwrap();
    store
        .set_security_profile(&id, SecurityProfile::TlsBasicAuth)
        .await
        .unwrap();
    store
        .set_pending_security_profile(&id, Some(SecurityProfile::TlsClientCert))
        .await
        .unwrap();
    store.set_provisioned(&id, at(2)).await.unwrap();
    store
        .set_registration(&id, RegistrationStatus::Pending)
        .await
        .unwrap();
    let got = station(&store).await.unwrap();
    assert_eq!(Some(&got), station(&fresh().await).await.as_ref());
    assert_eq!(got.registration, RegistrationStatus::Pending);
    assert_eq!(got.provisioned_at, Some(at(2)));
    let mut replaced = got.clone();
    replaced.password_hash = None;
    store.upsert_station(&replaced).await.unwrap();
    assert_eq!(station(&store).await.unwrap().password_hash, None);
    assert!(store.delete_station(&id).await.unwrap());
    assert_eq!(station(&store).await, None);

    // Tokens: an unknown one is remembered as unknown until it is created.
    assert_eq!(
        store.find_token("driver-1", "ISO14443").await.unwrap(),
        None
    );
    let token = IdTokenRecord {
        id_token: "DRIVER-1".into(),
        kind: "ISO14443".into(),
        status: "Accepted".into(),
        expiry: Some(at(60)),
        group_id_token: Some("FLEET".into()),
    };
    store.upsert_token(&token).await.unwrap();
    assert_eq!(
        store.find_token("driver-1", "ISO14443").await.unwrap(),
        Some(token.clone())
    );
    // Case-insensitively the same token: the stored value keeps its first spelling.
    let blocked = IdTokenRecord {
        id_token: "driver-1".into(),
        status: "Blocked".into(),
        ..token.clone()
    };
    store.upsert_token(&blocked).await.unwrap();
    let cached = store.find_token("DRIVER-1", "ISO14443").await.unwrap();
    assert_eq!(cached.as_ref().map(|t| t.status.as_str()), Some("Blocked"));
    assert_eq!(
        cached,
        fresh()
            .await
            .find_token("DRIVER-1", "ISO14443")
            .await
            .unwrap()
    );
    assert!(store.delete_token("Driver-1", "ISO14443").await.unwrap());
    assert_eq!(
        store.find_token("DRIVER-1", "ISO14443").await.unwrap(),
        None
    );

    // Tariffs and assignments: one snapshot, replaced by every change.
    assert!(store.tariffs().await.unwrap().is_empty());
    let tariff = Tariff {
        id: "STD".into(),
        currency: "EUR".into(),
        vat_percent: Decimal::from(19),
        price_per_kwh: Decimal::new(39, 2),
        price_per_charging_minute: Decimal::ZERO,
        price_per_idle_minute: Decimal::ZERO,
        session_fee: Decimal::ZERO,
        valid_from: None,
        valid_to: None,
        display_text: Vec::new(),
    };
    store.put_tariff(&tariff).await.unwrap();
    assert_eq!(store.tariffs().await.unwrap(), vec![tariff.clone()]);
    let assignment = TariffAssignment {
        tariff_id: "STD".into(),
        scope: TariffScope::Default,
    };
    let n = store.add_tariff_assignment(&assignment).await.unwrap();
    assert_eq!(
        store.tariff_assignments().await.unwrap(),
        vec![(n, assignment)]
    );
    assert_eq!(
        store.tariff_assignments().await.unwrap(),
        fresh().await.tariff_assignments().await.unwrap()
    );
    assert!(store.delete_tariff("STD").await.unwrap());
    assert!(store.tariffs().await.unwrap().is_empty());
    assert!(
        store.tariff_assignments().await.unwrap().is_empty(),
        "cascaded"
    );
}

fn answer(message_id: &str) -> Write {
    Write::Answer(StoredAnswer {
        station_id: cp("CP1"),
        message_id: message_id.into(),
        action: "StatusNotification".into(),
        request_hash: "h".into(),
        response: "{}".into(),
        answered_at: Utc::now(),
    })
}

fn remembering(k: usize) -> StoreConfig {
    StoreConfig {
        cache: CacheConfig {
            answers_per_station: k,
            ..CacheConfig::default()
        },
        ..StoreConfig::default()
    }
}

async fn found(store: &SqliteStore, ids: std::ops::Range<usize>) -> Vec<bool> {
    let mut out = Vec::new();
    for i in ids {
        let got = store
            .find_answer(&cp("CP1"), &format!("m{i}"))
            .await
            .unwrap();
        out.push(got.is_some());
    }
    out
}

#[tokio::test]
async fn a_retransmission_within_the_last_k_calls_is_found_and_beyond_k_is_not() {
    let (dir, store) = with_station(remembering(4)).await;
    for i in 0..6 {
        store.write(vec![answer(&format!("m{i}"))]).await.unwrap();
    }
    // First use loads the fingerprints of m2..m5; later answers are added by the writer.
    assert_eq!(
        found(&store, 0..6).await,
        [false, false, true, true, true, true]
    );
    for i in 6..8 {
        store.write(vec![answer(&format!("m{i}"))]).await.unwrap();
    }
    assert_eq!(
        found(&store, 0..8).await,
        [false, false, false, false, true, true, true, true]
    );
    drop(store);
    // Across a reopen: the last K are loaded from the table.
    let again = open(&dir, remembering(4)).await;
    assert_eq!(
        found(&again, 0..8).await,
        [false, false, false, false, true, true, true, true]
    );
    // With a larger K the older ones are retransmissions again.
    let wider = open(&dir, remembering(16)).await;
    assert_eq!(found(&wider, 0..8).await, [true; 8]);
    assert_eq!(wider.cached().3, 1, "one station's fingerprints");
}

#[tokio::test]
async fn caches_stay_within_their_bounds_and_fall_back_to_the_tables() {
    let config = StoreConfig {
        cache: CacheConfig {
            transactions: 3,
            tokens: 2,
            ended_transaction_linger: std::time::Duration::ZERO,
            ..CacheConfig::default()
        },
        ..StoreConfig::default()
    };
    let (dir, store) = with_station(config).await;
    for n in 0..10 {
        let tx = format!("TX-{n}");
        store
            .write(vec![
                event(&tx, 0, "Started", n, Some("Charging")),
                reading(&tx, n, 100 * n),
            ])
            .await
            .unwrap();
    }
    assert_eq!(store.cached().0, 3);
    // Evicted ones are read from the table, and equal.
    for n in 0..10 {
        assert_transaction_coherent(&dir, &store, &format!("TX-{n}")).await;
    }
    // An ended transaction leaves the cache after the linger (zero here): at the next batch.
    store
        .write(vec![event("TX-9", 1, "Ended", 20, None)])
        .await
        .unwrap();
    store.write(vec![answer("m0")]).await.unwrap();
    assert_eq!(store.cached().0, 2);
    assert_transaction_coherent(&dir, &store, "TX-9").await;

    for n in 0..5 {
        store
            .find_token(&format!("T{n}"), "ISO14443")
            .await
            .unwrap();
    }
    assert_eq!(store.cached().1, 2);
}

fn wal_bytes(dir: &tempfile::TempDir) -> u64 {
    std::fs::metadata(dir.path().join("unicharge.db-wal")).map_or(0, |m| m.len())
}

/// Rounds of sustained writes (each ~100 KB of WAL), the checkpointer driven by a call after
/// each; returns the largest WAL seen.
async fn largest_wal(store: &SqliteStore, dir: &tempfile::TempDir, checkpoint: bool) -> u64 {
    let mut largest = 0;
    let padding = "x".repeat(2_000);
    if checkpoint {
        // The schema the migrations wrote at open is a one-time cost, not sustained writes:
        // it grows with every migration and would eat into the bound below.
        store.checkpoint().await.unwrap();
    }
    for round in 0..30 {
        for n in 0..20 {
            let mut w = event(&format!("TX-{round}-{n}"), 0, "Started", 0, None);
            if let Write::TransactionEvent(e) = &mut w {
                e.data = serde_json::json!({ "padding": padding }).to_string();
            }
            store.write(vec![w]).await.unwrap();
        }
        largest = largest.max(wal_bytes(dir));
        if checkpoint {
            store.checkpoint().await.unwrap();
        }
    }
    largest
}

fn checkpointing(passive_above: u64, truncate_above: u64) -> StoreConfig {
    StoreConfig {
        checkpoint: CheckpointConfig {
            // Never on its own during the test: driven by `checkpoint()`.
            interval: std::time::Duration::from_secs(3600),
            passive_above,
            truncate_above,
        },
        ..StoreConfig::default()
    }
}

#[tokio::test]
async fn the_wal_stays_bounded_under_sustained_writes_because_the_checkpointer_runs() {
    let bound = 1 << 20;
    let (dir, store) = with_station(checkpointing(0, 512 << 10)).await;
    let checkpointed = largest_wal(&store, &dir, true).await;
    assert!(checkpointed < bound, "WAL grew to {checkpointed} bytes");

    // The same load without the checkpointer: nobody else checkpoints (autocheckpoint is off).
    let (dir, store) = with_station(checkpointing(0, 512 << 10)).await;
    let unchecked = largest_wal(&store, &dir, false).await;
    assert!(unchecked > 2 * bound, "WAL only {unchecked} bytes");

    // Past the larger bound the file is truncated.
    let outcome = store.checkpoint().await.unwrap();
    assert_eq!(outcome.mode, Some("TRUNCATE"));
    assert_eq!(wal_bytes(&dir), 0);
}

/// Diameter Ro reads its tariffs and the subscriber on every CCR: both come from a cache that
/// must follow the operator's changes (a barred subscriber is barred on the next CCR, a new
/// price applies to the next grant), and a miss must not hide a subscriber added later.
#[tokio::test]
async fn ro_subscribers_and_tariffs_follow_every_change() {
    use unicharge_core::online::{OnlineTariff, QuotaUnit, Subscriber};
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, StoreConfig::default()).await;
    let msisdn = ("END_USER_E164", "491701234567");
    assert_eq!(store.ro_subscriber(msisdn.0, msisdn.1).await.unwrap(), None);
    let mut sub = Subscriber {
        id_type: msisdn.0.into(),
        id_data: msisdn.1.into(),
        account: "acct-1".into(),
        barred: false,
    };
    store.ro_put_subscriber(&sub).await.unwrap();
    assert_eq!(
        store.ro_subscriber(msisdn.0, msisdn.1).await.unwrap(),
        Some(sub.clone()),
        "a cached miss must not hide a subscriber added later"
    );
    sub.barred = true;
    store.ro_put_subscriber(&sub).await.unwrap();
    assert_eq!(
        store.ro_subscriber(msisdn.0, msisdn.1).await.unwrap(),
        Some(sub.clone())
    );

    let mut tariff = OnlineTariff {
        id: "voice".into(),
        rating_group: Some(1),
        service_identifier: None,
        unit: QuotaUnit::Time,
        currency: "EUR".into(),
        price: Decimal::new(5, 2),
        block: 60,
        max_grant: None,
        default_grant: 300,
        switch: None,
    };
    assert!(store.ro_tariffs().await.unwrap().is_empty());
    store.ro_put_tariff(&tariff).await.unwrap();
    assert_eq!(*store.ro_tariffs().await.unwrap(), vec![tariff.clone()]);
    tariff.price = Decimal::new(7, 2);
    store.ro_put_tariff(&tariff).await.unwrap();
    assert_eq!(*store.ro_tariffs().await.unwrap(), vec![tariff.clone()]);
    // Reopened, the table says the same as the cache did.
    drop(store);
    let reopened = open(&dir, StoreConfig::default()).await;
    assert_eq!(*reopened.ro_tariffs().await.unwrap(), vec![tariff]);
    assert_eq!(
        reopened.ro_subscriber(msisdn.0, msisdn.1).await.unwrap(),
        Some(sub)
    );
}
