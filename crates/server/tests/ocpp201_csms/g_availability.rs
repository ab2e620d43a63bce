//! Block G, Availability.

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
