//! The OCPI push outbox (migration 0061, ADR 0038) as the worker relies on it: only the oldest
//! pending push of an object is due (order per object), a failed push waits for its retry time,
//! a CDR POST is enqueued once per partner, and the counts follow.

use chrono::{Duration, TimeZone, Utc};
use unicharge_store::ocpi::{OcpiOutbox, OcpiStore, Partner, Party, PushRow};
use unicharge_store::sqlite::{Durability, SqliteStore};

fn at(second: i64) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap() + Duration::seconds(second)
}

fn push(partner_id: i64, key: &str, method: &str, body: &str) -> PushRow {
    PushRow {
        id: 0,
        partner_id,
        module: if method == "POST" {
            "cdrs"
        } else {
            "locations"
        }
        .into(),
        object_key: key.into(),
        method: method.into(),
        path: format!("/NL/UNI/{key}"),
        body: Some(body.into()),
        from: Some(Party::new("NL", "UNI")),
        to: Some(Party::new("NL", "EMA")),
        status: "PENDING".into(),
        attempts: 0,
        next_attempt_at: at(0),
        last_error: None,
        created_at: at(0),
        delivered_at: None,
    }
}

async fn store_with_partner(dir: &tempfile::TempDir) -> (SqliteStore, i64) {
    let store = SqliteStore::open(&dir.path().join("unicharge.db"), Durability::Normal)
        .await
        .unwrap();
    let id = store
        .create_ocpi_partner(&Partner {
            id: 0,
            name: "eMSP".into(),
            status: "REGISTERED".into(),
            incoming_token_hash: None,
            outgoing_token_sealed: None,
            version: Some("2.2.1".into()),
            versions_url: None,
            endpoints: "[]".into(),
            roles: "[]".into(),
            parties: vec![Party::new("NL", "UNI")],
            created_at: at(0),
            updated_at: at(0),
        })
        .await
        .unwrap();
    (store, id)
}

#[tokio::test]
async fn one_objects_pushes_are_due_one_at_a_time_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (store, p) = store_with_partner(&dir).await;
    let a1 = store
        .enqueue_ocpi_push(&push(p, "evse-a", "PATCH", r#"{"status":"AVAILABLE"}"#))
        .await
        .unwrap()
        .unwrap();
    let a2 = store
        .enqueue_ocpi_push(&push(p, "evse-a", "PATCH", r#"{"status":"CHARGING"}"#))
        .await
        .unwrap()
        .unwrap();
    let b1 = store
        .enqueue_ocpi_push(&push(p, "evse-b", "PATCH", r#"{"status":"AVAILABLE"}"#))
        .await
        .unwrap()
        .unwrap();
    let due: Vec<i64> = store
        .due_ocpi_pushes(at(0), 10)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(
        due,
        [a1, b1],
        "the second push of evse-a waits for the first"
    );

    // a1 fails: retried at +10 s; until then nothing of evse-a is due, evse-b still is.
    store
        .ocpi_push_failed(a1, "HTTP 500", at(10))
        .await
        .unwrap();
    let due: Vec<i64> = store
        .due_ocpi_pushes(at(5), 10)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(due, [b1]);
    assert_eq!(store.next_ocpi_push_due().await.unwrap(), Some(at(0)));
    store.ocpi_push_delivered(b1, at(5)).await.unwrap();
    assert_eq!(
        store.next_ocpi_push_due().await.unwrap(),
        Some(at(10)),
        "a1's retry; a2 waits behind it"
    );
    let counts = store.ocpi_push_counts(p).await.unwrap();
    assert_eq!(
        (counts.pending, counts.delivered, counts.failing),
        (2, 1, 1)
    );

    let due = store.due_ocpi_pushes(at(10), 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].id, due[0].attempts), (a1, 1));
    assert_eq!(due[0].last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(due[0].to, Some(Party::new("NL", "EMA")));
    store.ocpi_push_delivered(a1, at(10)).await.unwrap();
    let due: Vec<i64> = store
        .due_ocpi_pushes(at(10), 10)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(due, [a2], "now the newer update of evse-a");
}

#[tokio::test]
async fn a_cdr_post_is_enqueued_once_per_partner() {
    let dir = tempfile::tempdir().unwrap();
    let (store, p) = store_with_partner(&dir).await;
    let first = store
        .enqueue_ocpi_push(&push(p, "cdr:1", "POST", "{}"))
        .await
        .unwrap();
    assert!(first.is_some());
    assert_eq!(
        store
            .enqueue_ocpi_push(&push(p, "cdr:1", "POST", "{}"))
            .await
            .unwrap(),
        None,
        "the same CDR again is ignored"
    );
    // PUTs of one object are not deduplicated: each is a later state.
    for _ in 0..2 {
        assert!(store
            .enqueue_ocpi_push(&push(p, "session:1", "PUT", "{}"))
            .await
            .unwrap()
            .is_some());
    }
    assert_eq!(store.ocpi_pushes(p, 10).await.unwrap().len(), 3);
}
