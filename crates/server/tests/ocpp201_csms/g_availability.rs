//! Block G, Availability.

use serde_json::{json, Value};
use unicharge_core::tokens::IdTokenRecord;
use unicharge_core::StationId;
use unicharge_sim::octt;
use unicharge_sim::octt::operator::OperatorAction;

use crate::common::{assert_pass, StationSpec, TestCsms};
use crate::rest_operator;

const CP: &str = "CP001";

fn id() -> StationId {
    StationId::new(CP).unwrap()
}

/// Play `case` with the REST operator, then check the operator saw Accepted and the CSMS keeps
/// the connector's last reported status.
async fn change_availability(case: &str, connector_status: &str) -> TestCsms {
    let (csms, operator) = rest_operator::start(&[StationSpec::new(CP, 1)]).await;
    assert_pass(
        case,
        octt::run(case, &csms.target(CP, 1), operator.as_operator()).await,
    );
    let answers = operator.answers(|a| matches!(a, OperatorAction::ChangeAvailability { .. }));
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0]["status"], "Accepted", "{}", answers[0]);
    let connectors = csms.server.store.connectors(&id()).await.unwrap();
    assert_eq!(connectors.len(), 1);
    assert_eq!((connectors[0].evse_id, connectors[0].connector_id), (1, 1));
    assert_eq!(connectors[0].status, connector_status);
    let events = csms.server.store.events(&id(), 10).await.unwrap();
    assert_eq!(events[0].variable, "AvailabilityState");
    assert_eq!(events[0].actual_value, connector_status);
    csms
}

/// TC_G_03_CSMS: EVSE 1 Operative → Inoperative (Reusable State Unavailable).
#[tokio::test]
async fn tc_g_03_csms() {
    change_availability("TC_G_03_CSMS", "Unavailable").await;
}

/// TC_G_04_CSMS: EVSE 1 Inoperative → Operative.
#[tokio::test]
async fn tc_g_04_csms() {
    change_availability("TC_G_04_CSMS", "Available").await;
}

/// TC_G_05_CSMS: the station Operative → Inoperative.
#[tokio::test]
async fn tc_g_05_csms() {
    change_availability("TC_G_05_CSMS", "Unavailable").await;
}

/// TC_G_06_CSMS: the station Inoperative → Operative.
#[tokio::test]
async fn tc_g_06_csms() {
    change_availability("TC_G_06_CSMS", "Available").await;
}

/// TC_G_07_CSMS: connector 1 of EVSE 1 Operative → Inoperative.
#[tokio::test]
async fn tc_g_07_csms() {
    change_availability("TC_G_07_CSMS", "Unavailable").await;
}

/// TC_G_08_CSMS: connector 1 of EVSE 1 Inoperative → Operative.
#[tokio::test]
async fn tc_g_08_csms() {
    change_availability("TC_G_08_CSMS", "Available").await;
}

/// TC_G_20_CSMS: the lock failure event is answered and kept.
#[tokio::test]
async fn tc_g_20_csms() {
    let csms = TestCsms::start(&[StationSpec::new(CP, 1)]).await;
    assert_pass(
        "TC_G_20_CSMS",
        octt::run("TC_G_20_CSMS", &csms.target(CP, 1), None).await,
    );
    let events = csms.server.store.events(&id(), 10).await.unwrap();
    let lock = events
        .iter()
        .find(|e| e.component == "ConnectorPlugRetentionLock")
        .expect("the lock failure event is stored");
    assert_eq!(lock.variable, "Problem");
    assert_eq!(lock.actual_value, "true");
    assert_eq!(lock.trigger, "Delta");
    assert_eq!((lock.evse_id, lock.connector_id), (Some(1), Some(1)));
}

// ---------------------------------------------------------------------------------------------
// Change availability during a transaction (G03, G04)
// ---------------------------------------------------------------------------------------------

/// Play `case` (Inoperative during a transaction) with the REST operator after letting the CSMS
/// know the OCTT's valid idToken (ISO14443 `OCTT-VALID-001`, Accepted); then check the operator
/// saw Scheduled, the logged ChangeAvailabilityRequest had `evse` = `evse` (None: absent), the
/// transaction ended through StopAuthorized, EVConnectedPostSession and EVDisconnected, and the
/// connector is kept Unavailable.
async fn inoperative_during_transaction(case: &str, evse: Option<Value>) -> TestCsms {
    let (csms, operator) = rest_operator::start(&[StationSpec::new(CP, 1)]).await;
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
    assert_pass(
        case,
        octt::run(case, &csms.target(CP, 1), operator.as_operator()).await,
    );
    let answers = operator.answers(|a| matches!(a, OperatorAction::ChangeAvailability { .. }));
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0]["status"], "Scheduled", "{}", answers[0]);
    let command = csms
        .server
        .store
        .commands(&id(), 50)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.action == "ChangeAvailability")
        .expect("the ChangeAvailabilityRequest is logged");
    assert_eq!(command.outcome, "result");
    let request: Value = serde_json::from_str(&command.request).unwrap();
    assert_eq!(request["operationalStatus"], "Inoperative");
    assert_eq!(request.get("evse").cloned(), evse, "{request}");

    let transactions = csms.server.store.transactions(&id(), 10).await.unwrap();
    assert_eq!(transactions.len(), 1, "{transactions:?}");
    let tx = &transactions[0];
    assert_eq!(
        tx.stopped_reason.as_deref(),
        Some("EVDisconnected"),
        "{tx:?}"
    );
    assert!(
        tx.ended_at.is_some(),
        "the transaction is not ended: {tx:?}"
    );
    assert_eq!((tx.evse_id, tx.connector_id), (Some(1), Some(1)), "{tx:?}");
    assert_eq!(tx.id_token.as_deref(), Some("OCTT-VALID-001"), "{tx:?}");
    assert_eq!(tx.charging_state.as_deref(), Some("Idle"), "{tx:?}");
    let events = csms
        .server
        .store
        .transaction_events(&id(), &tx.transaction_id)
        .await
        .unwrap();
    let got: Vec<(i64, &str, &str, Option<&str>)> = events
        .iter()
        .map(|e| {
            (
                e.seq_no,
                e.event_type.as_str(),
                e.trigger_reason.as_str(),
                e.charging_state.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (0, "Started", "Authorized", None),
            (1, "Updated", "CablePluggedIn", Some("EVConnected")),
            (2, "Updated", "ChargingStateChanged", Some("Charging")),
            (3, "Updated", "StopAuthorized", None),
            (4, "Updated", "ChargingStateChanged", Some("EVConnected")),
            (5, "Ended", "EVCommunicationLost", Some("Idle")),
        ]
    );

    let connectors = csms.server.store.connectors(&id()).await.unwrap();
    assert_eq!(connectors.len(), 1);
    assert_eq!((connectors[0].evse_id, connectors[0].connector_id), (1, 1));
    assert_eq!(connectors[0].status, "Unavailable");
    csms
}

/// TC_G_11_CSMS: EVSE 1 Inoperative during a transaction is Scheduled; after the transaction the
/// connector is Unavailable (StatusNotification and NotifyEvent both kept).
#[tokio::test]
async fn tc_g_11_csms() {
    let csms = inoperative_during_transaction("TC_G_11_CSMS", Some(json!({"id": 1}))).await;
    let events = csms.server.store.events(&id(), 10).await.unwrap();
    assert_eq!(events[0].variable, "AvailabilityState");
    assert_eq!(events[0].actual_value, "Unavailable");
}

/// TC_G_14_CSMS: the station Inoperative during a transaction is Scheduled; after the
/// transaction the connector is Unavailable.
#[tokio::test]
async fn tc_g_14_csms() {
    inoperative_during_transaction("TC_G_14_CSMS", None).await;
}

/// TC_G_17_CSMS: connector 1 of EVSE 1 Inoperative during a transaction is Scheduled; after the
/// transaction the connector is Unavailable.
#[tokio::test]
async fn tc_g_17_csms() {
    inoperative_during_transaction("TC_G_17_CSMS", Some(json!({"id": 1, "connectorId": 1}))).await;
}
