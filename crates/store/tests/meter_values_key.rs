//! A sample is a duplicate only within its own transaction: the Ended reading of one session
//! and the Started reading of the next on the same EVSE in the same second are both kept (the
//! second's energy would otherwise go unbilled), while the same sample sent twice in one
//! transaction is kept once.

use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;
use unicharge_core::{SecurityProfile, Station, StationId};
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::{MeterValueFilter, MeterValueRecord, Store, Write};

fn reading(id: &StationId, tx: Option<&str>, wh: i64) -> Write {
    Write::MeterValue(Box::new(MeterValueRecord {
        station_id: id.clone(),
        evse_id: 1,
        transaction_id: tx.map(str::to_string),
        timestamp: Utc.with_ymd_and_hms(2026, 12, 6, 10, 0, 0).unwrap(),
        context: "Transaction.Begin".into(),
        measurand: "Energy.Active.Import.Register".into(),
        phase: None,
        location: None,
        unit: None,
        multiplier: 0,
        value: Decimal::from(wh),
        wh: Some(Decimal::from(wh)),
        signed: false,
        signed_data: None,
        source: "TransactionEvent".into(),
        energy_backwards: false,
    }))
}

async fn samples(store: &SqliteStore, id: &StationId, tx: &str) -> usize {
    let filter = MeterValueFilter {
        transaction_id: Some(tx.into()),
        evse_id: None,
        limit: 0,
        until: None,
    };
    store.meter_values(id, &filter).await.unwrap().len()
}

#[tokio::test]
async fn same_sample_in_two_transactions_is_kept_for_each_and_once_within_one() {
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
        .write(vec![reading(&id, Some("TX-A"), 5_000)])
        .await
        .unwrap();
    store
        .write(vec![reading(&id, Some("TX-B"), 5_000)])
        .await
        .unwrap();
    store
        .write(vec![reading(&id, Some("TX-B"), 5_000)])
        .await
        .unwrap();
    assert_eq!(samples(&store, &id, "TX-A").await, 1);
    assert_eq!(samples(&store, &id, "TX-B").await, 1);
    // Outside a transaction, a repeated sample is still a duplicate.
    store.write(vec![reading(&id, None, 7_000)]).await.unwrap();
    store.write(vec![reading(&id, None, 7_000)]).await.unwrap();
    let all = MeterValueFilter {
        transaction_id: None,
        evse_id: Some(1),
        limit: 0,
        until: None,
    };
    assert_eq!(store.meter_values(&id, &all).await.unwrap().len(), 3);
}
