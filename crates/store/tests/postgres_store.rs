//! The PostgreSQL store's CSMS core against a real server (`UNICHARGE_TEST_POSTGRES_URL`; each
//! test in its own schema, skipped without it): the station registry, the writes of
//! BootNotification (B01), StatusNotification (G01), TransactionEvent (E01–E07) and stored
//! answers (OCPP-J retransmissions), and the group-commit writer's contract.

mod pg_support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use pg_support::TestSchema;
use unicharge_core::{RegistrationStatus, SecurityProfile, Station, StationId};
use unicharge_store::postgres::{PgStore, StoreConfig, WriterConfig};
use unicharge_store::{
    ApiKeyRecord, CommandRecord, EventRecord, IssuedCertificate, ReportPart, ReportRecord,
    SecurityEventRecord, StationNotice, StoreError, StoredAnswer, TransactionEventRecord,
    VariableRecord, Write,
};

fn id(s: &str) -> StationId {
    StationId::new(s).unwrap()
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

async fn store_with(test: &str, writer: WriterConfig) -> Option<(TestSchema, PgStore)> {
    let schema = TestSchema::create(test).await?;
    let config = StoreConfig {
        writer,
        ..StoreConfig::default()
    };
    let store = PgStore::open_with(schema.options(), config).await.unwrap();
    Some((schema, store))
}

async fn store(test: &str) -> Option<(TestSchema, PgStore)> {
    store_with(test, WriterConfig::default()).await
}

async fn station(store: &PgStore, name: &str) {
    let mut s = Station::new(
        id(name),
        SecurityProfile::BasicAuth,
        at("2026-03-01T10:00:00Z"),
    );
    s.password_hash = Some("$argon2id$fake".into());
    store.create_station(&s).await.unwrap();
}

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
async fn a_write_not_supported_yet_fails_and_keeps_nothing() {
    let Some((_schema, store)) = store("unsupported").await else {
        return;
    };
    station(&store, "CP1").await;
    let outcome = store
        .write(vec![
            answer("CP1", "m1", "r", Utc::now()),
            Write::ReservationStatus {
                station_id: id("CP1"),
                reservation_id: 1,
                status: "Expired".into(),
            },
        ])
        .await;
    let error = outcome.unwrap_err().to_string();
    assert!(error.contains("Write::ReservationStatus"), "{error}");
    assert!(store.find_answer(&id("CP1"), "m1").await.unwrap().is_none());
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
async fn a05_b02_station_columns_change_one_at_a_time() {
    let Some((_schema, store)) = store("station_columns").await else {
        return;
    };
    station(&store, "CP1").await;
    let cp1 = id("CP1");
    let provisioned = at("2026-03-02T08:00:00.5Z");
    assert!(store
        .set_password_hash(&cp1, Some("$argon2id$new"))
        .await
        .unwrap());
    assert!(store
        .set_security_profile(&cp1, SecurityProfile::TlsBasicAuth)
        .await
        .unwrap());
    assert!(store
        .set_pending_security_profile(&cp1, Some(SecurityProfile::TlsClientCert))
        .await
        .unwrap());
    assert!(store.set_provisioned(&cp1, provisioned).await.unwrap());
    assert!(store
        .set_preferred_ocpp_version(&cp1, Some("1.6"))
        .await
        .unwrap());
    assert!(store
        .set_registration(&cp1, RegistrationStatus::Pending)
        .await
        .unwrap());
    let s = store.get_station(&cp1).await.unwrap().unwrap();
    assert_eq!(s.password_hash.as_deref(), Some("$argon2id$new"));
    assert_eq!(s.security_profile, SecurityProfile::TlsBasicAuth);
    assert_eq!(
        s.pending_security_profile,
        Some(SecurityProfile::TlsClientCert)
    );
    assert_eq!(s.provisioned_at, Some(provisioned));
    assert_eq!(s.preferred_ocpp_version.as_deref(), Some("1.6"));
    assert_eq!(s.registration, RegistrationStatus::Pending);

    assert!(store.set_password_hash(&cp1, None).await.unwrap());
    assert!(store
        .set_pending_security_profile(&cp1, None)
        .await
        .unwrap());
    let s = store.get_station(&cp1).await.unwrap().unwrap();
    assert_eq!(s.password_hash, None);
    assert_eq!(s.pending_security_profile, None);
    assert!(!store
        .set_registration(&id("NOPE"), RegistrationStatus::Accepted)
        .await
        .unwrap());
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

#[tokio::test]
async fn n07_a04_events_security_events_commands_and_notices_newest_first() {
    let Some((_schema, store)) = store("reported").await else {
        return;
    };
    station(&store, "CP1").await;
    let t0 = at("2026-03-01T10:00:00Z");
    let mut batch = Vec::new();
    for n in 0..3 {
        let when = t0 + TimeDelta::seconds(n);
        batch.push(Write::Event(EventRecord {
            station_id: id("CP1"),
            generated_at: when,
            report_seq_no: n,
            event_id: 100 + n,
            timestamp: when,
            trigger: "Delta".into(),
            event_notification_type: "HardWiredNotification".into(),
            component: "Connector".into(),
            evse_id: Some(1),
            connector_id: (n != 1).then_some(1),
            variable: "AvailabilityState".into(),
            actual_value: format!("value-{n}"),
            cleared: [None, Some(true), Some(false)][n as usize],
            data: format!("{{\"eventId\":{}}}", 100 + n),
        }));
        batch.push(Write::SecurityEvent(SecurityEventRecord {
            station_id: id("CP1"),
            kind: format!("Kind{n}"),
            timestamp: when,
            tech_info: (n == 2).then(|| "tech".to_owned()),
            received_at: when,
        }));
        batch.push(Write::Command(CommandRecord {
            seq: 0,
            station_id: id("CP1"),
            action: "Reset".into(),
            request: format!("{{\"n\":{n}}}"),
            outcome: "Accepted".into(),
            response: (n > 0).then(|| "{}".to_owned()),
            requested_by: Some("admin".into()),
            sent_at: when,
            completed_at: when + TimeDelta::milliseconds(250),
        }));
        batch.push(Write::StationNotice(StationNotice {
            station_id: id("CP1"),
            kind: "FirmwareStatus".into(),
            status: format!("Status{n}"),
            request_id: Some(n),
            data: "{}".into(),
            received_at: when,
        }));
    }
    store.write(batch).await.unwrap();

    let events = store.events(&id("CP1"), 2).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].event_id, 102, "newest first");
    assert_eq!(events[0].cleared, Some(false));
    assert_eq!(events[1].cleared, Some(true));
    assert_eq!(events[1].connector_id, None);
    assert_eq!(events[1].actual_value, "value-1");
    assert_eq!(events[1].generated_at, t0 + TimeDelta::seconds(1));

    let security = store.security_events(&id("CP1"), 10).await.unwrap();
    let kinds: Vec<&str> = security.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["Kind2", "Kind1", "Kind0"]);
    assert_eq!(security[0].tech_info.as_deref(), Some("tech"));

    let commands = store.commands(&id("CP1"), 10).await.unwrap();
    assert_eq!(commands.len(), 3);
    assert!(commands[0].seq > commands[1].seq);
    assert_eq!(commands[0].request, "{\"n\":2}");
    assert_eq!(commands[2].response, None);
    assert_eq!(
        commands[0].completed_at,
        t0 + TimeDelta::seconds(2) + TimeDelta::milliseconds(250)
    );

    let notices = store.station_notices(&id("CP1"), 2).await.unwrap();
    let statuses: Vec<(&str, Option<i64>)> = notices
        .iter()
        .map(|n| (n.status.as_str(), n.request_id))
        .collect();
    assert_eq!(statuses, [("Status2", Some(2)), ("Status1", Some(1))]);
}

fn token(value: &str, kind: &str, status: &str) -> unicharge_core::tokens::IdTokenRecord {
    unicharge_core::tokens::IdTokenRecord {
        id_token: value.into(),
        kind: kind.into(),
        status: status.into(),
        expiry: None,
        group_id_token: None,
    }
}

#[tokio::test]
async fn c01_id_tokens_are_found_whatever_their_case() {
    let Some((_schema, store)) = store("tokens").await else {
        return;
    };
    store
        .upsert_token(&token("04A2B3C4", "ISO14443", "Accepted"))
        .await
        .unwrap();
    store
        .upsert_token(&token("04a2b3c4", "eMAID", "Accepted"))
        .await
        .unwrap();
    // The same token in another case is the same row: updated, not added.
    let mut blocked = token("04a2b3c4", "ISO14443", "Blocked");
    blocked.expiry = Some(at("2027-01-01T00:00:00Z"));
    blocked.group_id_token = Some("FLEET-1".into());
    store.upsert_token(&blocked).await.unwrap();

    let found = store
        .find_token("04A2b3C4", "ISO14443")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id_token, "04A2B3C4", "stored as first written");
    assert_eq!(found.status, "Blocked");
    assert_eq!(found.expiry, Some(at("2027-01-01T00:00:00Z")));
    assert_eq!(found.group_id_token.as_deref(), Some("FLEET-1"));
    assert!(store
        .find_token("04A2B3C4", "Central")
        .await
        .unwrap()
        .is_none());

    let listed: Vec<(String, String)> = store
        .list_tokens()
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.id_token, t.kind))
        .collect();
    assert_eq!(
        listed,
        [
            ("04A2B3C4".to_owned(), "ISO14443".to_owned()),
            ("04a2b3c4".to_owned(), "eMAID".to_owned()),
        ]
    );
    assert!(store.delete_token("04A2B3C4", "eMAID").await.unwrap());
    assert!(!store.delete_token("04A2B3C4", "eMAID").await.unwrap());
    assert_eq!(store.list_tokens().await.unwrap().len(), 1);
}

/// (component, EVSE, value, mutability) of a device-model row.
type VariableRow<'a> = (&'a str, Option<i64>, Option<&'a str>, Option<&'a str>);

fn variable(component: &str, evse: Option<i64>, value: &str, mutability: Option<&str>) -> Write {
    Write::Variable(VariableRecord {
        station_id: id("CP1"),
        component: component.into(),
        component_instance: None,
        evse_id: evse,
        connector_id: None,
        variable: "AvailabilityState".into(),
        variable_instance: None,
        attribute_type: "Actual".into(),
        value: Some(value.into()),
        mutability: mutability.map(str::to_owned),
        source: "NotifyReport".into(),
        updated_at: at("2026-03-01T10:00:00Z"),
    })
}

fn part(seq_no: i64, tbc: bool, data: &str) -> Write {
    Write::ReportPart(ReportPart {
        station_id: id("CP1"),
        request_id: 1,
        seq_no,
        tbc,
        generated_at: at("2026-03-01T10:00:00Z"),
        report_data: data.into(),
    })
}

#[tokio::test]
async fn b07_b08_reports_build_the_device_model_and_a02_certificates_are_listed() {
    let Some((_schema, store)) = store("device_model").await else {
        return;
    };
    station(&store, "CP1").await;
    assert_eq!(store.next_report_request_id(&id("CP1")).await.unwrap(), 1);
    store
        .create_report(&ReportRecord {
            station_id: id("CP1"),
            request_id: 1,
            request: "{\"requestId\":1}".into(),
            status: None,
            complete: false,
            requested_at: at("2026-03-01T09:59:59Z"),
        })
        .await
        .unwrap();
    store
        .set_report_status(&id("CP1"), 1, "Accepted")
        .await
        .unwrap();
    assert_eq!(store.next_report_request_id(&id("CP1")).await.unwrap(), 2);

    store
        .write(vec![
            part(0, true, "first"),
            variable("EVSE", Some(2), "Available", Some("ReadOnly")),
            variable("ChargingStation", None, "Available", None),
        ])
        .await
        .unwrap();
    let (report, parts) = store.report(&id("CP1"), 1).await.unwrap().unwrap();
    assert!(!report.complete, "tbc: more parts to come");
    assert_eq!(report.status.as_deref(), Some("Accepted"));
    assert_eq!(report.requested_at, at("2026-03-01T09:59:59Z"));
    assert_eq!(parts.len(), 1);

    store
        .write(vec![
            part(1, false, "last"),
            part(0, true, "first again"),
            // The same attribute again: the value changes, the known mutability stays.
            variable("EVSE", Some(2), "Occupied", None),
        ])
        .await
        .unwrap();
    let (report, parts) = store.report(&id("CP1"), 1).await.unwrap().unwrap();
    assert!(report.complete);
    let data: Vec<&str> = parts.iter().map(|p| p.report_data.as_str()).collect();
    assert_eq!(data, ["first again", "last"]);
    assert!(store.report(&id("CP1"), 2).await.unwrap().is_none());

    let model = store.device_model(&id("CP1")).await.unwrap();
    let rows: Vec<VariableRow> = model
        .iter()
        .map(|v| {
            (
                v.component.as_str(),
                v.evse_id,
                v.value.as_deref(),
                v.mutability.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("ChargingStation", None, Some("Available"), None),
            ("EVSE", Some(2), Some("Occupied"), Some("ReadOnly")),
        ]
    );
    assert_eq!(model[0].component_instance, None, "'' read back as none");

    let certificate = |serial: &str, status: Option<&str>| {
        Write::IssuedCertificate(IssuedCertificate {
            station_id: id("CP1"),
            serial: serial.into(),
            subject: "CN=CP1".into(),
            not_after: at("2027-03-01T00:00:00Z"),
            certificate: "-----BEGIN CERTIFICATE-----".into(),
            issued_at: at("2026-03-01T10:00:00Z"),
            station_status: status.map(str::to_owned),
            certificate_type: "ChargingStationCertificate".into(),
        })
    };
    store
        .write(vec![
            certificate("01", Some("Accepted")),
            certificate("02", None),
        ])
        .await
        .unwrap();
    let issued = store.issued_certificates(&id("CP1")).await.unwrap();
    let serials: Vec<(&str, Option<&str>)> = issued
        .iter()
        .map(|c| (c.serial.as_str(), c.station_status.as_deref()))
        .collect();
    assert_eq!(
        serials,
        [("02", None), ("01", Some("Accepted"))],
        "newest first"
    );
    assert_eq!(issued[0].not_after, at("2027-03-01T00:00:00Z"));
}

#[tokio::test]
async fn operator_api_keys_are_kept_listed_and_revoked_once() {
    let Some((_schema, store)) = store("api_keys").await else {
        return;
    };
    let key = |id: &str, created: &str| ApiKeyRecord {
        id: id.into(),
        name: format!("key {id}"),
        role: "operator".into(),
        salt: "c2FsdA".into(),
        secret_hash: format!("hash-{id}"),
        created_at: at(created),
        revoked_at: None,
    };
    store
        .create_api_key(&key("k2", "2026-03-02T00:00:00Z"))
        .await
        .unwrap();
    store
        .create_api_key(&key("k1", "2026-03-01T00:00:00Z"))
        .await
        .unwrap();
    assert!(
        store
            .create_api_key(&key("k1", "2026-03-03T00:00:00Z"))
            .await
            .is_err(),
        "ids are unique"
    );
    let got = store.get_api_key("k1").await.unwrap().unwrap();
    assert_eq!(got, key("k1", "2026-03-01T00:00:00Z"));
    let ids: Vec<String> = store
        .list_api_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(ids, ["k1", "k2"], "oldest first");

    let before = Utc::now();
    assert!(store.revoke_api_key("k1").await.unwrap());
    assert!(
        !store.revoke_api_key("k1").await.unwrap(),
        "already revoked"
    );
    assert!(!store.revoke_api_key("nope").await.unwrap());
    let revoked = store.get_api_key("k1").await.unwrap().unwrap().revoked_at;
    assert!(revoked.is_some_and(|at| at >= before));
    assert!(store
        .get_api_key("k2")
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_none());
}
