//! Block H, Reservation. Part 6 has no OCTT cases for it: the simulator plays the use cases
//! H01–H04 of Part 2 (`unicharge_sim::octt::h_reservation`), one test each, named after the use
//! case and what happens. The CSMS's token store knows the OCTT's valid idTokens
//! (`OCTT-VALID-001`, `OCTT-VALID-002`, Accepted in group `OCTT-GROUP-001`). After each scenario
//! the test reads the reservation back as the operator sees it (`GET …/reservations`) and
//! checks what the CSMS kept around it (command log, connector status, transaction).

use std::future::Future;
use std::sync::Arc;

use serde_json::{json, Value};
use unicharge_core::tokens::IdTokenRecord;
use unicharge_core::StationId;
use unicharge_sim::octt::c_authorization::AuthConfig;
use unicharge_sim::octt::h_reservation as h;
use unicharge_sim::octt::operator::{Operator, OperatorAction};
use unicharge_sim::octt::{CaseError, Target, Verdict};
use unicharge_store::TransactionRecord;

use crate::common::{assert_pass, StationSpec, TestCsms};
use crate::rest_operator::{self, RestOperator};

const CP: &str = "CP001";
const VALID: &str = "OCTT-VALID-001";

fn id() -> StationId {
    StationId::new(CP).unwrap()
}

/// Start a server with CP001 at profile 1 and the valid idTokens, and play `scenario` (named
/// `name`) with the REST operator.
async fn play<F, Fut>(name: &str, scenario: F) -> (TestCsms, Arc<RestOperator>)
where
    F: FnOnce(Target, Arc<dyn Operator>) -> Fut,
    Fut: Future<Output = Result<(), CaseError>>,
{
    let (csms, operator) = rest_operator::start(&[StationSpec::new(CP, 1)]).await;
    let config = AuthConfig::octt();
    for token in [&config.valid, &config.valid2] {
        csms.server
            .store
            .upsert_token(&IdTokenRecord {
                id_token: token.id_token.clone(),
                kind: "ISO14443".into(),
                status: "Accepted".into(),
                expiry: None,
                group_id_token: Some(config.group_id_token.clone()),
            })
            .await
            .unwrap();
    }
    let verdict = match scenario(csms.target(CP, 1), operator.as_operator().unwrap()).await {
        Ok(()) => Verdict::Pass,
        Err(CaseError::Fail(reason)) => Verdict::Fail(reason),
        Err(CaseError::NotApplicable(reason)) => Verdict::NotApplicable(reason),
    };
    assert_pass(name, verdict);
    (csms, operator)
}

/// The station's one reservation as the operator sees it. It is the one the operator was told
/// of (id, and the station's ReserveNow answer `answered`), and the one the logged
/// ReserveNowRequest carried, for the valid idToken.
async fn the_reservation(csms: &TestCsms, operator: &RestOperator, answered: &str) -> Value {
    let list = operator
        .get(&format!("/stations/{CP}/reservations"))
        .await
        .unwrap();
    let reservations = list["reservations"].as_array().expect("a list").clone();
    assert_eq!(reservations.len(), 1, "{list}");
    let reservation = reservations.into_iter().next().unwrap();

    let answers = operator.answers(|a| matches!(a, OperatorAction::ReserveNow { .. }));
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0]["id"], reservation["id"], "{}", answers[0]);
    assert_eq!(answers[0]["status"], answered, "{}", answers[0]);

    let command = csms
        .server
        .store
        .commands(&id(), 50)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.action == "ReserveNow")
        .expect("the ReserveNowRequest is logged");
    let request: Value = serde_json::from_str(&command.request).unwrap();
    assert_eq!(request["id"], reservation["id"], "{request}");
    assert_eq!(
        request["idToken"],
        json!({"idToken": VALID, "type": "ISO14443"})
    );
    assert_eq!(reservation["idToken"], VALID, "{reservation}");
    assert_eq!(reservation["idTokenType"], "ISO14443", "{reservation}");
    reservation
}

/// The last status the CSMS keeps for connector 1 of EVSE 1.
async fn connector_status(csms: &TestCsms) -> String {
    let connectors = csms.server.store.connectors(&id()).await.unwrap();
    assert_eq!(connectors.len(), 1, "{connectors:?}");
    assert_eq!((connectors[0].evse_id, connectors[0].connector_id), (1, 1));
    connectors[0].status.clone()
}

/// An Accepted reservation for the valid idToken, `evse_id` / `connector_type` as given
/// (`Value::Null`: none), its connector kept Reserved.
async fn accepted(csms: &TestCsms, operator: &RestOperator, evse_id: Value, connector_type: Value) {
    let reservation = the_reservation(csms, operator, "Accepted").await;
    assert_eq!(reservation["status"], "Accepted", "{reservation}");
    assert_eq!(reservation["evseId"], evse_id, "{reservation}");
    assert_eq!(
        reservation["connectorType"], connector_type,
        "{reservation}"
    );
    assert_eq!(connector_status(csms).await, "Reserved");
}

// ---------------------------------------------------------------------------------------------
// H01 Reservation
// ---------------------------------------------------------------------------------------------

/// H01: a reservation for any EVSE, Accepted.
#[tokio::test]
async fn h01_reserve_unspecified_evse_accepted() {
    let (csms, operator) = play("H01 unspecified EVSE", |t, o| async move {
        h::h01_reserve_unspecified_evse_accepted(&t, o).await
    })
    .await;
    accepted(&csms, &operator, Value::Null, Value::Null).await;
}

/// H01: a reservation for EVSE 1 (Reusable State Reserved), Accepted.
#[tokio::test]
async fn h01_reserve_specific_evse_accepted() {
    let (csms, operator) = play("H01 specific EVSE", |t, o| async move {
        h::h01_reserve_specific_evse_accepted(&t, o).await
    })
    .await;
    accepted(&csms, &operator, json!(1), Value::Null).await;
}

/// H01: a reservation for a connector type (cType2), Accepted.
#[tokio::test]
async fn h01_reserve_connector_type_accepted() {
    let (csms, operator) = play("H01 connector type", |t, o| async move {
        h::h01_reserve_connector_type_accepted(&t, o).await
    })
    .await;
    accepted(&csms, &operator, Value::Null, json!("cType2")).await;
}

/// H01: a reservation for an occupied EVSE is kept with the station's answer, Occupied.
#[tokio::test]
async fn h01_reserve_occupied_evse_answered_occupied() {
    let (csms, operator) = play("H01 occupied EVSE", |t, o| async move {
        h::h01_reserve_occupied_evse_answered_occupied(&t, o).await
    })
    .await;
    let reservation = the_reservation(&csms, &operator, "Occupied").await;
    assert_eq!(reservation["status"], "Occupied", "{reservation}");
    assert_eq!(reservation["evseId"], 1, "{reservation}");
    assert_eq!(connector_status(&csms).await, "Occupied");
}

// ---------------------------------------------------------------------------------------------
// H02 Cancel reservation
// ---------------------------------------------------------------------------------------------

/// Check the operator's one CancelReservation answer and the logged request for `reservation`.
async fn cancelled(csms: &TestCsms, operator: &RestOperator, reservation: &Value, status: &str) {
    let answers = operator.answers(|a| matches!(a, OperatorAction::CancelReservation { .. }));
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0]["status"], status, "{}", answers[0]);
    let command = csms
        .server
        .store
        .commands(&id(), 50)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.action == "CancelReservation")
        .expect("the CancelReservationRequest is logged");
    let request: Value = serde_json::from_str(&command.request).unwrap();
    assert_eq!(request, json!({"reservationId": reservation["id"]}));
}

/// H02: the station accepts the cancellation; the reservation is Cancelled and the connector
/// Available.
#[tokio::test]
async fn h02_cancel_reservation_accepted() {
    let (csms, operator) = play("H02 cancel accepted", |t, o| async move {
        h::h02_cancel_reservation_accepted(&t, o).await
    })
    .await;
    let reservation = the_reservation(&csms, &operator, "Accepted").await;
    cancelled(&csms, &operator, &reservation, "Accepted").await;
    assert_eq!(reservation["status"], "Cancelled", "{reservation}");
    assert_eq!(connector_status(&csms).await, "Available");
}

/// H02: the station rejects the cancellation (it does not hold the reservation); the CSMS does
/// not cancel it on its own: it stays Accepted, the connector Reserved.
#[tokio::test]
async fn h02_cancel_reservation_rejected() {
    let (csms, operator) = play("H02 cancel rejected", |t, o| async move {
        h::h02_cancel_reservation_rejected(&t, o).await
    })
    .await;
    let reservation = the_reservation(&csms, &operator, "Accepted").await;
    cancelled(&csms, &operator, &reservation, "Rejected").await;
    assert_eq!(reservation["status"], "Accepted", "{reservation}");
    assert_eq!(connector_status(&csms).await, "Reserved");
}

// ---------------------------------------------------------------------------------------------
// H03 Use a reserved EVSE
// ---------------------------------------------------------------------------------------------

/// The reservation was used by the one transaction, started by `driver`: it is Used and names
/// the transaction, which names it; the connector is Occupied.
async fn used_by(csms: &TestCsms, operator: &RestOperator, driver: &str) -> Value {
    let reservation = the_reservation(csms, operator, "Accepted").await;
    let transactions: Vec<TransactionRecord> =
        csms.server.store.transactions(&id(), 10).await.unwrap();
    assert_eq!(transactions.len(), 1, "{transactions:?}");
    let tx = &transactions[0];
    assert_eq!(reservation["status"], "Used", "{reservation}");
    assert_eq!(
        reservation["transactionId"],
        json!(tx.transaction_id),
        "{reservation}"
    );
    assert_eq!(tx.reservation_id, reservation["id"].as_i64(), "{tx:?}");
    assert_eq!(tx.id_token.as_deref(), Some(driver), "{tx:?}");
    assert_eq!(connector_status(csms).await, "Occupied");
    reservation
}

/// H03: the reservation's own idToken starts a transaction with the reservationId.
#[tokio::test]
async fn h03_use_reservation_with_matching_id_token() {
    let (csms, operator) = play("H03 matching idToken", |t, o| async move {
        h::h03_use_reservation_with_matching_id_token(&t, o).await
    })
    .await;
    let reservation = used_by(&csms, &operator, VALID).await;
    assert_eq!(reservation["groupIdToken"], Value::Null, "{reservation}");
}

/// H03: another idToken of the reservation's group starts a transaction with the reservationId.
#[tokio::test]
async fn h03_use_reservation_with_matching_group_id_token() {
    let (csms, operator) = play("H03 matching group", |t, o| async move {
        h::h03_use_reservation_with_matching_group_id_token(&t, o).await
    })
    .await;
    let reservation = used_by(&csms, &operator, "OCTT-VALID-002").await;
    assert_eq!(
        reservation["groupIdToken"], "OCTT-GROUP-001",
        "{reservation}"
    );
}

// ---------------------------------------------------------------------------------------------
// H04 Reservation ended, not used
// ---------------------------------------------------------------------------------------------

/// H04: the station reports the reservation Expired; it is kept Expired, the connector
/// Available.
#[tokio::test]
async fn h04_reservation_expired_reported() {
    let (csms, operator) = play("H04 expired", |t, o| async move {
        h::h04_reservation_expired_reported(&t, o).await
    })
    .await;
    let reservation = the_reservation(&csms, &operator, "Accepted").await;
    assert_eq!(reservation["status"], "Expired", "{reservation}");
    assert_eq!(connector_status(&csms).await, "Available");
}

/// H04: the station reports the reservation Removed; it is kept Removed, the connector
/// Available.
#[tokio::test]
async fn h04_reservation_removed_reported() {
    let (csms, operator) = play("H04 removed", |t, o| async move {
        h::h04_reservation_removed_reported(&t, o).await
    })
    .await;
    let reservation = the_reservation(&csms, &operator, "Accepted").await;
    assert_eq!(reservation["status"], "Removed", "{reservation}");
    assert_eq!(connector_status(&csms).await, "Available");
}

/// H04: nobody reports the one-second reservation's end. The CSMS keeps it Accepted, and shows
/// it Expired from its expiry on. Rather than wait for that second, the test asks the rule the
/// API shows reservations by (`ReservationRecord::effective_status`, which
/// `GET …/reservations` applies at the time of the request) about the moments around the
/// expiry.
#[tokio::test]
async fn h04_reservation_expiry_passes_without_update() {
    let (csms, operator) = play("H04 expiry passes", |t, o| async move {
        h::h04_reservation_expiry_passes_without_update(&t, o).await
    })
    .await;
    let reservation = the_reservation(&csms, &operator, "Accepted").await;
    let kept = csms
        .server
        .store
        .reservation(&id(), reservation["id"].as_i64().unwrap())
        .await
        .unwrap()
        .expect("the reservation is kept");
    assert_eq!(kept.status, "Accepted", "{kept:?}");
    let lasts = kept.expires_at - kept.created_at;
    assert!(
        lasts <= chrono::Duration::seconds(2),
        "a one-second reservation lasts {lasts}"
    );
    let just_before = kept.expires_at - chrono::Duration::milliseconds(1);
    assert_eq!(kept.effective_status(just_before), "Accepted");
    assert_eq!(kept.effective_status(kept.expires_at), "Expired");
    assert_eq!(connector_status(&csms).await, "Reserved");
}
