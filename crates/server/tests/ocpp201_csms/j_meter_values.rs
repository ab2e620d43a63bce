//! Block J, Meter values. The cases have no tool validations: the CSMS passes by answering. What
//! it must keep is checked here through the store: every sampled value once, with its EVSE, its
//! transaction (none for MeterValuesRequest), its context, measurand, unit and value as sent,
//! whether it was signed, and where it came from (MeterValues or TransactionEvent).

use unicharge_core::tokens::IdTokenRecord;
use unicharge_core::StationId;
use unicharge_sim::octt;
use unicharge_store::{MeterValueFilter, MeterValueRecord, TransactionRecord};

use crate::common::{assert_pass, StationSpec, TestCsms};

const CP: &str = "CP001";
const ENERGY: &str = "Energy.Active.Import.Register";
const POWER: &str = "Power.Active.Import";

fn id() -> StationId {
    StationId::new(CP).unwrap()
}

/// Start a server with CP001 at profile 1 and the valid token (Accepted), and play `case`.
async fn play(case: &str) -> TestCsms {
    let csms = TestCsms::start(&[StationSpec::new(CP, 1)]).await;
    csms.server
        .store
        .upsert_token(&IdTokenRecord {
            id_token: "OCTT-VALID-001".into(),
            kind: "ISO14443".into(),
            status: "Accepted".into(),
            expiry: None,
            group_id_token: None,
        })
        .await
        .unwrap();
    assert_pass(case, octt::run(case, &csms.target(CP, 1), None).await);
    csms
}

/// The station's one transaction.
async fn the_transaction(csms: &TestCsms) -> TransactionRecord {
    let transactions = csms.server.store.transactions(&id(), 10).await.unwrap();
    assert_eq!(transactions.len(), 1, "{transactions:?}");
    transactions.into_iter().next().unwrap()
}

/// Every sample the CSMS keeps for the station (of one EVSE, if given), oldest first.
async fn samples(csms: &TestCsms, evse_id: Option<i64>) -> Vec<MeterValueRecord> {
    csms.server
        .store
        .meter_values(
            &id(),
            &MeterValueFilter {
                transaction_id: None,
                evse_id,
                limit: 0,
                until: None,
            },
        )
        .await
        .unwrap()
}

/// A transaction's samples, oldest first.
async fn transaction_samples(csms: &TestCsms, tx: &TransactionRecord) -> Vec<MeterValueRecord> {
    csms.server
        .store
        .meter_values(
            &id(),
            &MeterValueFilter {
                transaction_id: Some(tx.transaction_id.clone()),
                evse_id: None,
                limit: 0,
                until: None,
            },
        )
        .await
        .unwrap()
}

/// (context, measurand, value as kept) of each sample.
fn readings(samples: &[MeterValueRecord]) -> Vec<(String, String, String)> {
    samples
        .iter()
        .map(|s| (s.context.clone(), s.measurand.clone(), s.value.to_string()))
        .collect()
}

/// The simulator sends whole numbers; the CSMS keeps the value exactly as reported.
fn reading(context: &str, measurand: &str, value: i64) -> (String, String, String) {
    (context.into(), measurand.into(), value.to_string())
}

/// Every sample came from `source` for `tx` on `evse_id`, in the unit its measurand is reported
/// in, signed as `signed`, the register never going backwards, timestamps not decreasing.
fn kept_as_sent(
    samples: &[MeterValueRecord],
    source: &str,
    tx: Option<&str>,
    evse_id: i64,
    signed: bool,
) {
    for s in samples {
        assert_eq!(s.source, source, "{s:?}");
        assert_eq!(s.transaction_id.as_deref(), tx, "{s:?}");
        assert_eq!(s.evse_id, evse_id, "{s:?}");
        assert_eq!(s.signed, signed, "{s:?}");
        assert!(!s.energy_backwards, "{s:?}");
        assert_eq!(s.multiplier, 0, "{s:?}");
        let unit = if s.measurand == POWER { "W" } else { "Wh" };
        assert_eq!(s.unit.as_deref(), Some(unit), "{s:?}");
        if s.measurand == ENERGY {
            assert_eq!(s.wh, Some(s.value), "{s:?}");
        }
    }
    assert!(
        samples.windows(2).all(|w| w[0].timestamp <= w[1].timestamp),
        "{samples:?}"
    );
}

/// TC_J_01_CSMS: three clock-aligned rounds for the main meter and EVSE 1, no transaction; the
/// FiscalMetering events are kept too.
#[tokio::test]
async fn tc_j_01_csms() {
    let csms = play("TC_J_01_CSMS").await;
    assert!(csms
        .server
        .store
        .transactions(&id(), 10)
        .await
        .unwrap()
        .is_empty());
    for (evse, base) in [(0, 120_000), (1, 4_000)] {
        let kept = samples(&csms, Some(evse)).await;
        kept_as_sent(&kept, "MeterValues", None, evse, false);
        let want: Vec<_> = (1..=3)
            .map(|n| reading("Sample.Clock", ENERGY, base + 25 * n))
            .collect();
        assert_eq!(readings(&kept), want, "EVSE {evse}");
    }
    assert_eq!(samples(&csms, None).await.len(), 6);
    let events = csms.server.store.events(&id(), 50).await.unwrap();
    let fiscal: Vec<_> = events
        .iter()
        .filter(|e| e.component == "FiscalMetering")
        .collect();
    assert_eq!(fiscal.len(), 6, "{events:?}");
    assert!(fiscal.iter().all(|e| e.trigger == "Periodic"), "{fiscal:?}");
    let mut evses: Vec<Option<i64>> = fiscal.iter().map(|e| e.evse_id).collect();
    evses.sort();
    assert_eq!(evses, [None, None, None, Some(1), Some(1), Some(1)]);
}

/// TC_J_02_CSMS: clock-aligned values for the main meter (MeterValues) and the charging EVSE
/// (MeterValueClock events), each kept under its source, the latter with its transaction.
#[tokio::test]
async fn tc_j_02_csms() {
    let csms = play("TC_J_02_CSMS").await;
    let tx = the_transaction(&csms).await;
    assert!(tx.ended_at.is_none(), "{tx:?}");
    assert_eq!(tx.events, 6, "{tx:?}");
    let main = samples(&csms, Some(0)).await;
    kept_as_sent(&main, "MeterValues", None, 0, false);
    assert_eq!(
        readings(&main),
        (1..=3)
            .map(|n| reading("Sample.Clock", ENERGY, 120_000 + 25 * n))
            .collect::<Vec<_>>()
    );
    let kept = transaction_samples(&csms, &tx).await;
    kept_as_sent(
        &kept,
        "TransactionEvent",
        Some(&tx.transaction_id),
        1,
        false,
    );
    assert_eq!(
        readings(&kept),
        (1..=3)
            .map(|n| reading("Sample.Clock", ENERGY, 1_500 * n))
            .collect::<Vec<_>>()
    );
}

/// J_03/04/10/11: the Ended event's samples (`context` three times, then Transaction.End) are
/// kept with the ended transaction, signed or not.
async fn ended_with_samples(case: &str, context: &str, signed: bool) {
    let csms = play(case).await;
    let tx = the_transaction(&csms).await;
    assert!(tx.ended_at.is_some(), "{tx:?}");
    assert_eq!(
        tx.stopped_reason.as_deref(),
        Some("EVDisconnected"),
        "{tx:?}"
    );
    let kept = transaction_samples(&csms, &tx).await;
    kept_as_sent(
        &kept,
        "TransactionEvent",
        Some(&tx.transaction_id),
        1,
        signed,
    );
    assert_eq!(
        readings(&kept),
        [
            reading(context, ENERGY, 1_500),
            reading(context, ENERGY, 3_000),
            reading(context, ENERGY, 4_500),
            reading("Transaction.End", ENERGY, 4_500),
        ]
    );
    for s in &kept {
        assert_eq!(s.signed_data.is_some(), signed, "{s:?}");
        if let Some(data) = &s.signed_data {
            let data: serde_json::Value = serde_json::from_str(data).unwrap();
            assert_eq!(data["encodingMethod"], "OCMF", "{data}");
            assert!(data["signedMeterData"]
                .as_str()
                .is_some_and(|d| !d.is_empty()));
        }
    }
    // Nothing else was sampled: all of it came in the Ended event.
    assert_eq!(samples(&csms, None).await.len(), 4);
}

/// TC_J_03_CSMS: clock-aligned samples in the Ended event.
#[tokio::test]
async fn tc_j_03_csms() {
    ended_with_samples("TC_J_03_CSMS", "Sample.Clock", false).await;
}

/// TC_J_04_CSMS: signed clock-aligned samples in the Ended event.
#[tokio::test]
async fn tc_j_04_csms() {
    ended_with_samples("TC_J_04_CSMS", "Sample.Clock", true).await;
}

/// TC_J_10_CSMS: periodic samples in the Ended event.
#[tokio::test]
async fn tc_j_10_csms() {
    ended_with_samples("TC_J_10_CSMS", "Sample.Periodic", false).await;
}

/// TC_J_11_CSMS: signed periodic samples in the Ended event.
#[tokio::test]
async fn tc_j_11_csms() {
    ended_with_samples("TC_J_11_CSMS", "Sample.Periodic", true).await;
}

/// TC_J_07_CSMS: the Transaction.Begin reading of the Started (CablePluggedIn) event.
#[tokio::test]
async fn tc_j_07_csms() {
    let csms = play("TC_J_07_CSMS").await;
    let tx = the_transaction(&csms).await;
    assert_eq!(tx.evse_id, Some(1), "{tx:?}");
    let kept = transaction_samples(&csms, &tx).await;
    kept_as_sent(
        &kept,
        "TransactionEvent",
        Some(&tx.transaction_id),
        1,
        false,
    );
    assert_eq!(readings(&kept), [reading("Transaction.Begin", ENERGY, 0)]);
}

/// TC_J_08_CSMS: the transaction started without an EVSE; the EVSE and the Transaction.Begin
/// reading come with the CablePluggedIn event, and the CSMS files both under the transaction.
#[tokio::test]
async fn tc_j_08_csms() {
    let csms = play("TC_J_08_CSMS").await;
    let tx = the_transaction(&csms).await;
    assert_eq!((tx.evse_id, tx.connector_id), (Some(1), Some(1)), "{tx:?}");
    assert_eq!(tx.charging_state.as_deref(), Some("Charging"), "{tx:?}");
    assert_eq!(tx.events, 3, "{tx:?}");
    let kept = transaction_samples(&csms, &tx).await;
    kept_as_sent(
        &kept,
        "TransactionEvent",
        Some(&tx.transaction_id),
        1,
        false,
    );
    assert_eq!(readings(&kept), [reading("Transaction.Begin", ENERGY, 0)]);
}

/// TC_J_09_CSMS: three periodic samples of energy and power during the transaction.
#[tokio::test]
async fn tc_j_09_csms() {
    let csms = play("TC_J_09_CSMS").await;
    let tx = the_transaction(&csms).await;
    assert!(tx.ended_at.is_none(), "{tx:?}");
    assert_eq!(tx.events, 6, "{tx:?}");
    let kept = transaction_samples(&csms, &tx).await;
    kept_as_sent(
        &kept,
        "TransactionEvent",
        Some(&tx.transaction_id),
        1,
        false,
    );
    let mut want = Vec::new();
    for n in 1..=3 {
        want.push(reading("Sample.Periodic", ENERGY, 1_500 * n));
        want.push(reading("Sample.Periodic", POWER, 11_000));
    }
    let mut got = readings(&kept);
    // Energy and power of one meterValue share a timestamp; their order within it is the
    // store's.
    for pair in got.chunks_mut(2) {
        pair.sort_by(|a, b| a.1.cmp(&b.1));
    }
    assert_eq!(got, want);
}
