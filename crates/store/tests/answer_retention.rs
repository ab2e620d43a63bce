//! Stored answers (kept to recognise retransmitted CALLs) are pruned after their retention, so
//! the table does not grow by one row per message forever.

use chrono::{Duration, Utc};
use unicharge_core::{SecurityProfile, Station, StationId};
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::{Store, StoredAnswer, Write};

fn answer(station: &StationId, message_id: &str, age: Duration) -> Write {
    Write::Answer(StoredAnswer {
        station_id: station.clone(),
        message_id: message_id.into(),
        action: "StatusNotification".into(),
        request_hash: "h".into(),
        response: "{}".into(),
        answered_at: Utc::now() - age,
    })
}

#[tokio::test]
async fn answers_older_than_the_retention_are_pruned_and_newer_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("unicharge.db"), Durability::Normal)
        .await
        .unwrap();
    let id = StationId::new("CP1").unwrap();
    store
        .create_station(&Station::new(
            id.clone(),
            SecurityProfile::BasicAuth,
            Utc::now(),
        ))
        .await
        .unwrap();
    store
        .write(vec![
            answer(&id, "old-1", Duration::hours(30)),
            answer(&id, "old-2", Duration::hours(25)),
            answer(&id, "new-1", Duration::hours(1)),
        ])
        .await
        .unwrap();
    let pruned = store
        .prune_answers(Utc::now() - Duration::hours(24))
        .await
        .unwrap();
    assert_eq!(pruned, 2);
    assert!(store.find_answer(&id, "old-1").await.unwrap().is_none());
    assert!(store.find_answer(&id, "old-2").await.unwrap().is_none());
    assert!(store.find_answer(&id, "new-1").await.unwrap().is_some());
}
