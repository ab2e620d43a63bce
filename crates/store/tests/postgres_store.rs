//! The PostgreSQL store's CSMS core against a real server (`UNICHARGE_TEST_POSTGRES_URL`; each
//! test in its own schema, skipped without it): the station registry, the writes of
//! BootNotification (B01), StatusNotification (G01), TransactionEvent (E01–E07) and stored
//! answers (OCPP-J retransmissions), and the group-commit writer's contract.

mod pg_support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use pg_support::{at, id, station, store, store_with};
use unicharge_core::{RegistrationStatus, SecurityProfile, Station};
use unicharge_store::postgres::{PgStore, StoreConfig, WriterConfig};
use unicharge_store::{StoreError, StoredAnswer, TransactionEventRecord, Write};

fn event(station: &str, seq_no: i64, event_type: &str, when: &str) -> Write {
    Write::TransactionEvent(TransactionEventRecord {
        station_id: id(station),
        transaction_id: "TX-1".into(),
        seq_no,
        event_type: event_type.into(),
        trigger_reason: "Authorized".into(),
        timestamp: at(when),
        offline: false,
        evse_id: Some(1),
        connector_id: Some(1),
        id_token: Some("AABBCC".into()),
        charging_state: Some(format!("state-{seq_no}")),
        stopped_reason: (event_type == "Ended").then(|| "Local".to_owned()),
        data: "{}".into(),
        meter_values: seq_no,
        received_at: at(when),
    })
}

fn answer(station: &str, message_id: &str, response: &str, when: DateTime<Utc>) -> Write {
    Write::Answer(StoredAnswer {
        station_id: id(station),
        message_id: message_id.into(),
        action: "Heartbeat".into(),
        request_hash: format!("hash-{message_id}"),
        response: response.into(),
        answered_at: when,
    })
}

#[tokio::test]
async fn stations_are_created_read_updated_and_deleted() {
    let Some((_schema, store)) = store("registry").await else {
        return;
    };
    station(&store, "CP2").await;
    station(&store, "CP1").await;
    let again = Station::new(id("CP1"), SecurityProfile::BasicAuth, Utc::now());
    assert!(matches!(
        store.create_station(&again).await,
        Err(StoreError::StationExists(s)) if s == id("CP1")
    ));
    let got = store.get_station(&id("CP1")).await.unwrap().unwrap();
    assert_eq!(got.password_hash.as_deref(), Some("$argon2id$fake"));
    assert_eq!(got.registration, RegistrationStatus::Accepted);
    assert_eq!(got.created_at, at("2026-03-01T10:00:00Z"));
    assert!(!got.connected);

    let mut changed = got.clone();
    changed.security_profile = SecurityProfile::TlsClientCert;
    changed.password_hash = None;
    changed.registration = RegistrationStatus::Rejected;
    changed.created_at = Utc::now();
    store.upsert_station(&changed).await.unwrap();
    let got = store.get_station(&id("CP1")).await.unwrap().unwrap();
    assert_eq!(got.security_profile, SecurityProfile::TlsClientCert);
    assert_eq!(got.password_hash, None);
    assert_eq!(got.registration, RegistrationStatus::Rejected);
    assert_eq!(
        got.created_at,
        at("2026-03-01T10:00:00Z"),
        "creation time kept"
    );

    let ids: Vec<String> = store
        .list_stations()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id.as_str().to_owned())
        .collect();
    assert_eq!(ids, ["CP1", "CP2"]);

    store
        .write(vec![answer("CP1", "m1", "[3,\"m1\",{}]", Utc::now())])
        .await
        .unwrap();
    assert!(store.delete_station(&id("CP1")).await.unwrap());
    assert!(!store.delete_station(&id("CP1")).await.unwrap());
    assert!(store.get_station(&id("CP1")).await.unwrap().is_none());
    assert!(store.find_answer(&id("CP1"), "m1").await.unwrap().is_none());
    assert_eq!(store.list_stations().await.unwrap().len(), 1);
}

#[tokio::test]
async fn b01_boot_notification_and_g01_status_notification_are_stored() {
    let Some((_schema, store)) = store("boot_status").await else {
        return;
    };
    station(&store, "CP1").await;
    let booted = at("2026-03-01T11:00:00.250Z");
    store
        .write(vec![
            Write::Connection {
                station_id: id("CP1"),
                at: booted,
                connected: true,
            },
            Write::StationOcppVersion {
                station_id: id("CP1"),
                version: "2.0.1".into(),
            },
            Write::StationBooted {
                station_id: id("CP1"),
                at: booted,
                reason: "PowerUp".into(),
                model: "Wallbox-7".into(),
                vendor_name: "ACME".into(),
                serial_number: Some("SN-42".into()),
                firmware_version: None,
                status: RegistrationStatus::Pending,
            },
            Write::ConnectorStatus {
                station_id: id("CP1"),
                evse_id: 2,
                connector_id: 1,
                status: "Available".into(),
                at: booted,
            },
            Write::ConnectorStatus {
                station_id: id("CP1"),
                evse_id: 1,
                connector_id: 1,
                status: "Available".into(),
                at: booted,
            },
        ])
        .await
        .unwrap();
    let later = booted + TimeDelta::seconds(30);
    store
        .write(vec![Write::ConnectorStatus {
            station_id: id("CP1"),
            evse_id: 1,
            connector_id: 1,
            status: "Occupied".into(),
            at: later,
        }])
        .await
        .unwrap();

    let s = store.get_station(&id("CP1")).await.unwrap().unwrap();
    assert_eq!(s.model.as_deref(), Some("Wallbox-7"));
    assert_eq!(s.vendor_name.as_deref(), Some("ACME"));
    assert_eq!(s.serial_number.as_deref(), Some("SN-42"));
    assert_eq!(s.firmware_version, None);
    assert_eq!(s.last_boot_at, Some(booted));
    assert_eq!(s.last_boot_reason.as_deref(), Some("PowerUp"));
    assert_eq!(s.last_boot_status, Some(RegistrationStatus::Pending));
    assert_eq!(s.last_seen_at, Some(booted));
    assert_eq!(s.ocpp_version.as_deref(), Some("2.0.1"));
    assert!(s.connected);

    let connectors = store.connectors(&id("CP1")).await.unwrap();
    let seen: Vec<(i64, &str, DateTime<Utc>)> = connectors
        .iter()
        .map(|c| (c.evse_id, c.status.as_str(), c.status_at))
        .collect();
    assert_eq!(
        seen,
        [(1, "Occupied", later), (2, "Available", booted)],
        "by EVSE, the newest status of each"
    );
}

#[tokio::test]
async fn e01_e07_transaction_events_build_the_transaction_once_per_seq_no() {
    let Some((_schema, store)) = store("transactions").await else {
        return;
    };
    station(&store, "CP1").await;
    // seqNo 2 (Ended) arrives before seqNo 1 (an offline Updated), and seqNo 1 twice.
    for batch in [
        vec![event("CP1", 0, "Started", "2026-03-01T12:00:00Z")],
        vec![event("CP1", 2, "Ended", "2026-03-01T12:30:00Z")],
    ] {
        store.write(batch).await.unwrap();
    }
    let t = store
        .transaction(&id("CP1"), "TX-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.seq_no_gaps, [1], "seqNo 1 not received yet");
    assert_eq!(t.events, 2);
    for _ in 0..2 {
        store
            .write(vec![event("CP1", 1, "Updated", "2026-03-01T12:10:00Z")])
            .await
            .unwrap();
    }
    assert!(store
        .transaction_event_seen(&id("CP1"), "TX-1", 1)
        .await
        .unwrap());
    assert!(!store
        .transaction_event_seen(&id("CP1"), "TX-1", 3)
        .await
        .unwrap());

    let t = store
        .transaction(&id("CP1"), "TX-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.events, 3, "the retransmitted seqNo 1 is counted once");
    assert_eq!(t.last_seq_no, 2);
    assert!(t.seq_no_gaps.is_empty());
    assert_eq!(t.started_at, at("2026-03-01T12:00:00Z"));
    assert_eq!(t.ended_at, Some(at("2026-03-01T12:30:00Z")));
    assert_eq!(
        t.charging_state.as_deref(),
        Some("state-2"),
        "the highest seqNo's state, not the last to arrive"
    );
    assert_eq!(t.stopped_reason.as_deref(), Some("Local"));
    assert_eq!(t.id_token.as_deref(), Some("AABBCC"));
    assert_eq!((t.evse_id, t.connector_id), (Some(1), Some(1)));
    assert!(!t.started_unseen);

    let events = store.transaction_events(&id("CP1"), "TX-1").await.unwrap();
    let seqs: Vec<(i64, &str, i64)> = events
        .iter()
        .map(|e| (e.seq_no, e.event_type.as_str(), e.meter_values))
        .collect();
    assert_eq!(
        seqs,
        [(0, "Started", 0), (1, "Updated", 1), (2, "Ended", 2)]
    );
    assert_eq!(events[1].timestamp, at("2026-03-01T12:10:00Z"));
    let listed = store.transactions(&id("CP1"), 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].transaction_id, "TX-1");
}

#[tokio::test]
async fn a_retransmitted_call_finds_its_stored_answer() {
    let Some((_schema, store)) = store("answers").await else {
        return;
    };
    station(&store, "CP1").await;
    let old = at("2026-03-01T08:00:00Z");
    let new = at("2026-03-01T09:00:00Z");
    store
        .write(vec![
            answer("CP1", "m-old", "[3,\"m-old\",{}]", old),
            answer("CP1", "m1", "[3,\"m1\",{\"a\":1}]", new),
        ])
        .await
        .unwrap();
    let found = store.find_answer(&id("CP1"), "m1").await.unwrap().unwrap();
    assert_eq!(found.response, "[3,\"m1\",{\"a\":1}]");
    assert_eq!(found.request_hash, "hash-m1");
    assert_eq!(found.answered_at, new);
    assert!(store.find_answer(&id("CP1"), "m2").await.unwrap().is_none());

    // The same message id answered again: the newest answer replaces the stored one.
    store
        .write(vec![answer("CP1", "m1", "[3,\"m1\",{\"a\":2}]", new)])
        .await
        .unwrap();
    let found = store.find_answer(&id("CP1"), "m1").await.unwrap().unwrap();
    assert_eq!(found.response, "[3,\"m1\",{\"a\":2}]");

    assert_eq!(
        store
            .prune_answers(at("2026-03-01T08:30:00Z"))
            .await
            .unwrap(),
        1
    );
    assert!(store
        .find_answer(&id("CP1"), "m-old")
        .await
        .unwrap()
        .is_none());
    assert!(store.find_answer(&id("CP1"), "m1").await.unwrap().is_some());
}

/// A writer that waits long enough for concurrent callers to share batches.
fn grouping() -> WriterConfig {
    WriterConfig {
        max_wait: Duration::from_millis(50),
        ..WriterConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_commit_in_fewer_transactions_than_jobs() {
    let Some((_schema, store)) = store_with("group_commit", grouping()).await else {
        return;
    };
    station(&store, "CP1").await;
    let store = Arc::new(store);
    let jobs = 64;
    let mut tasks = Vec::new();
    for n in 0..jobs {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let when = Utc::now();
            store
                .write(vec![answer(
                    "CP1",
                    &format!("m{n}"),
                    &format!("r{n}"),
                    when,
                )])
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let (commits, committed) = store.group_commits();
    assert_eq!(committed, jobs);
    assert!(commits < jobs, "{commits} commits for {jobs} jobs");
    for n in [0, 31, 63] {
        let found = store
            .find_answer(&id("CP1"), &format!("m{n}"))
            .await
            .unwrap();
        assert_eq!(found.unwrap().response, format!("r{n}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_job_is_rolled_back_alone() {
    let Some((_schema, store)) = store_with("bad_job", grouping()).await else {
        return;
    };
    station(&store, "CP1").await;
    let store = Arc::new(store);
    let now = Utc::now();
    let mut tasks = Vec::new();
    for n in 0..16 {
        let store = store.clone();
        let batch = if n == 7 {
            // Its first write is valid, its second names no registered station (a foreign
            // key violation): the whole job, and only it, is rolled back.
            vec![
                answer("CP1", "bad-but-first", "r", now),
                Write::ConnectorStatus {
                    station_id: id("NOPE"),
                    evse_id: 1,
                    connector_id: 1,
                    status: "Available".into(),
                    at: now,
                },
            ]
        } else {
            vec![answer("CP1", &format!("m{n}"), &format!("r{n}"), now)]
        };
        tasks.push(tokio::spawn(async move { store.write(batch).await }));
    }
    for (n, task) in tasks.into_iter().enumerate() {
        let outcome = task.await.unwrap();
        if n == 7 {
            let error = outcome.unwrap_err().to_string();
            assert!(error.contains("foreign key"), "{error}");
        } else {
            outcome.unwrap();
        }
    }
    let (commits, jobs) = store.group_commits();
    assert!(
        commits < jobs,
        "the bad job shared a transaction: {commits}/{jobs}"
    );
    assert!(store
        .find_answer(&id("CP1"), "bad-but-first")
        .await
        .unwrap()
        .is_none());
    for n in (0..16).filter(|n| *n != 7) {
        let found = store
            .find_answer(&id("CP1"), &format!("m{n}"))
            .await
            .unwrap();
        assert_eq!(found.unwrap().response, format!("r{n}"));
    }
    assert!(store.connectors(&id("NOPE")).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unreachable_server_is_named_with_the_fix() {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    let options = unicharge_store::postgres::connect_options(
        "postgres://unicharge:secret@127.0.0.1:1/unicharge",
    )
    .unwrap();
    let config = StoreConfig {
        connect_timeout: Duration::from_millis(300),
        ..StoreConfig::default()
    };
    let error = PgStore::open_with(options, config)
        .await
        .err()
        .expect("no server there")
        .to_string();
    assert!(
        error.contains("cannot reach PostgreSQL at 127.0.0.1:1"),
        "{error}"
    );
    assert!(
        error.contains("check that the server is running"),
        "{error}"
    );
    assert!(
        !error.contains("secret"),
        "no password in messages: {error}"
    );
}

#[tokio::test]
async fn e14_an_open_transaction_the_station_forgot_is_marked() {
    let Some((_schema, store)) = store("forgotten").await else {
        return;
    };
    station(&store, "CP1").await;
    store
        .write(vec![event("CP1", 0, "Started", "2026-03-01T12:00:00Z")])
        .await
        .unwrap();
    let forgot = at("2026-03-01T13:00:00Z");
    assert!(store
        .mark_transaction_forgotten(&id("CP1"), "TX-1", forgot)
        .await
        .unwrap());
    let t = store
        .transaction(&id("CP1"), "TX-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.station_forgot_at, Some(forgot));
    assert!(!store
        .mark_transaction_forgotten(&id("CP1"), "TX-unknown", forgot)
        .await
        .unwrap());
    store
        .write(vec![event("CP1", 1, "Ended", "2026-03-01T13:05:00Z")])
        .await
        .unwrap();
    assert!(
        !store
            .mark_transaction_forgotten(&id("CP1"), "TX-1", forgot)
            .await
            .unwrap(),
        "an ended transaction is not open"
    );
}
