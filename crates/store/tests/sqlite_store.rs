//! The SQLite store against a real database file.

use std::sync::Arc;

use chrono::Utc;
use unicharge_core::{RegistrationStatus, SecurityProfile, Station, StationId};
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::{EventRecord, Store, StoreError, StoredAnswer, Write};

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("unicharge.db"), Durability::Full)
        .await
        .unwrap();
    (dir, store)
}

fn id(s: &str) -> StationId {
    StationId::new(s).unwrap()
}

async fn station(store: &SqliteStore, name: &str) {
    let mut s = Station::new(id(name), SecurityProfile::BasicAuth, Utc::now());
    s.password_hash = Some("$argon2id$fake".into());
    store.create_station(&s).await.unwrap();
}

#[tokio::test]
async fn stations_are_created_read_updated_and_deleted() {
    let (_dir, store) = store().await;
    station(&store, "CP1").await;
    let again = Station::new(id("CP1"), SecurityProfile::BasicAuth, Utc::now());
    assert!(matches!(
        store.create_station(&again).await,
        Err(StoreError::StationExists(_))
    ));
    let got = store.get_station(&id("CP1")).await.unwrap().unwrap();
    assert_eq!(got.password_hash.as_deref(), Some("$argon2id$fake"));
    assert_eq!(got.registration, RegistrationStatus::Accepted);

    assert!(store
        .set_security_profile(&id("CP1"), SecurityProfile::TlsClientCert)
        .await
        .unwrap());
    assert!(store.set_password_hash(&id("CP1"), None).await.unwrap());
    assert!(!store.set_password_hash(&id("nope"), None).await.unwrap());
    let got = store.get_station(&id("CP1")).await.unwrap().unwrap();
    assert_eq!(got.security_profile, SecurityProfile::TlsClientCert);
    assert_eq!(got.password_hash, None);

    assert_eq!(store.list_stations().await.unwrap().len(), 1);
    assert!(store.delete_station(&id("CP1")).await.unwrap());
    assert!(!store.delete_station(&id("CP1")).await.unwrap());
    assert!(store.get_station(&id("CP1")).await.unwrap().is_none());
}

#[tokio::test]
async fn boots_statuses_and_answers_are_written_and_read_back() {
    let (_dir, store) = store().await;
    station(&store, "CP1").await;
    let now = Utc::now();
    store
        .write(vec![
            Write::StationBooted {
                station_id: id("CP1"),
                at: now,
                reason: "PowerUp".into(),
                model: "M1".into(),
                vendor_name: "V1".into(),
                serial_number: Some("S1".into()),
                firmware_version: None,
                status: RegistrationStatus::Accepted,
            },
            Write::ConnectorStatus {
                station_id: id("CP1"),
                evse_id: 1,
                connector_id: 1,
                status: "Available".into(),
                at: now,
            },
            Write::Answer(StoredAnswer {
                station_id: id("CP1"),
                message_id: "m1".into(),
                action: "StatusNotification".into(),
                request_hash: "h".into(),
                response: "{}".into(),
                answered_at: now,
            }),
        ])
        .await
        .unwrap();
    let s = store.get_station(&id("CP1")).await.unwrap().unwrap();
    assert_eq!(s.model.as_deref(), Some("M1"));
    assert_eq!(s.last_boot_status, Some(RegistrationStatus::Accepted));
    let connectors = store.connectors(&id("CP1")).await.unwrap();
    assert_eq!(connectors.len(), 1);
    assert_eq!(connectors[0].status, "Available");
    let answer = store.find_answer(&id("CP1"), "m1").await.unwrap().unwrap();
    assert_eq!(answer.action, "StatusNotification");
    assert!(store.find_answer(&id("CP1"), "m2").await.unwrap().is_none());
}

fn event(station: &str, n: i64) -> Write {
    let now = Utc::now();
    Write::Event(EventRecord {
        station_id: id(station),
        generated_at: now,
        report_seq_no: 0,
        event_id: n,
        timestamp: now,
        trigger: "Delta".into(),
        event_notification_type: "HardWiredNotification".into(),
        component: "Connector".into(),
        evse_id: Some(1),
        connector_id: Some(1),
        variable: "AvailabilityState".into(),
        actual_value: "Available".into(),
        cleared: None,
        data: "{}".into(),
    })
}

#[tokio::test]
async fn a_failing_batch_is_rolled_back_alone_while_others_in_the_group_commit() {
    let (_dir, store) = store().await;
    station(&store, "CP1").await;
    let store = Arc::new(store);
    let mut tasks = Vec::new();
    for n in 0..200 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            // Every tenth batch names an unregistered station: the foreign key refuses it, and its
            // first event (which alone would be fine) must be rolled back with it.
            let batch = if n % 10 == 0 {
                vec![event("CP1", n), event("GHOST", n)]
            } else {
                vec![event("CP1", n)]
            };
            store.write(batch).await.is_ok()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() {
            ok += 1;
        }
    }
    assert_eq!(ok, 180);
    let events = store.events(&id("CP1"), 1000).await.unwrap();
    assert_eq!(events.len(), 180);
    assert!(events.iter().all(|e| e.event_id % 10 != 0));
}

#[tokio::test]
async fn data_survives_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unicharge.db");
    {
        let store = SqliteStore::open(&path, Durability::Full).await.unwrap();
        station(&store, "CP9").await;
        store.write(vec![event("CP9", 1)]).await.unwrap();
    }
    let store = SqliteStore::open(&path, Durability::Full).await.unwrap();
    assert_eq!(store.events(&id("CP9"), 10).await.unwrap().len(), 1);
}
