//! Block E, Transactions. The token store holds the valid idToken (Accepted); the invalid one is
//! unknown. After each case the test reads back what the CSMS kept of the transaction: its
//! events once each in seqNo order, the state of its last event, how and whether it ended, and
//! for the GetTransactionStatus cases what the CSMS asked and was told.

use serde_json::Value;
use unicharge_core::tokens::IdTokenRecord;
use unicharge_core::StationId;
use unicharge_csms::config::TransactionStatusCheck;
use unicharge_sim::octt;
use unicharge_sim::octt::operator::OperatorAction;
use unicharge_store::{
    CommandRecord, MeterValueFilter, MeterValueRecord, TransactionEventRecord, TransactionRecord,
};

use crate::common::{assert_pass, StationSpec, TestCsms};
use crate::rest_operator;

const CP: &str = "CP001";
const VALID: &str = "OCTT-VALID-001";
const INVALID: &str = "OCTT-INVALID-001";

fn id() -> StationId {
    StationId::new(CP).unwrap()
}

/// Store the valid idToken (ISO14443, Accepted).
async fn valid_token(csms: &TestCsms) {
    csms.server
        .store
        .upsert_token(&IdTokenRecord {
            id_token: VALID.into(),
            kind: "ISO14443".into(),
            status: "Accepted".into(),
            expiry: None,
            group_id_token: None,
        })
        .await
        .unwrap();
}

/// Start a server with CP001 at profile 1 and the valid token, and play `case` (no operator).
async fn play(case: &str) -> TestCsms {
    let csms = TestCsms::start(&[StationSpec::new(CP, 1)]).await;
    valid_token(&csms).await;
    assert_pass(case, octt::run(case, &csms.target(CP, 1), None).await);
    csms
}

/// As [`play`], with the REST operator.
async fn play_with_operator(case: &str) -> (TestCsms, std::sync::Arc<rest_operator::RestOperator>) {
    let (csms, operator) = rest_operator::start(&[StationSpec::new(CP, 1)]).await;
    valid_token(&csms).await;
    assert_pass(
        case,
        octt::run(case, &csms.target(CP, 1), operator.as_operator()).await,
    );
    (csms, operator)
}

/// The station's one transaction.
async fn the_transaction(csms: &TestCsms) -> TransactionRecord {
    let transactions = csms.server.store.transactions(&id(), 10).await.unwrap();
    assert_eq!(transactions.len(), 1, "{transactions:?}");
    transactions.into_iter().next().unwrap()
}

async fn stored_events(csms: &TestCsms, tx: &TransactionRecord) -> Vec<TransactionEventRecord> {
    csms.server
        .store
        .transaction_events(&id(), &tx.transaction_id)
        .await
        .unwrap()
}

type Ev = (i64, String, String, Option<String>);

/// (seqNo, eventType, triggerReason, idToken) of a transaction's events.
async fn events(csms: &TestCsms, tx: &TransactionRecord) -> Vec<Ev> {
    stored_events(csms, tx)
        .await
        .into_iter()
        .map(|e| (e.seq_no, e.event_type, e.trigger_reason, e.id_token))
        .collect()
}

fn ev(seq_no: i64, event_type: &str, trigger: &str, id_token: Option<&str>) -> Ev {
    (
        seq_no,
        event_type.into(),
        trigger.into(),
        id_token.map(str::to_string),
    )
}

/// Authorized, EVConnectedPreSession part, Charging: the events of EnergyTransferStarted on a
/// fresh session.
fn charging() -> Vec<Ev> {
    vec![
        ev(0, "Started", "Authorized", Some(VALID)),
        ev(1, "Updated", "CablePluggedIn", None),
        ev(2, "Updated", "ChargingStateChanged", None),
    ]
}

/// `charging()` followed by `more`, numbered on.
fn charging_then(more: &[(&str, &str, Option<&str>)]) -> Vec<Ev> {
    let mut all = charging();
    for (event_type, trigger, token) in more {
        all.push(ev(all.len() as i64, event_type, trigger, *token));
    }
    all
}

/// The transaction is kept as started on EVSE 1, connector 1, every event once.
fn started_on_the_evse(tx: &TransactionRecord, events: usize) {
    assert_eq!((tx.evse_id, tx.connector_id), (Some(1), Some(1)), "{tx:?}");
    assert_eq!(tx.events, events as i64, "{tx:?}");
    assert_eq!(tx.last_seq_no, events as i64 - 1, "{tx:?}");
    assert!(!tx.started_unseen, "{tx:?}");
}

/// The transaction is still going, its last chargingState `state`.
fn ongoing(tx: &TransactionRecord, state: Option<&str>) {
    assert!(tx.ended_at.is_none(), "{tx:?}");
    assert_eq!(tx.stopped_reason, None, "{tx:?}");
    assert_eq!(tx.charging_state.as_deref(), state, "{tx:?}");
}

/// The transaction has ended with `reason`.
fn ended(tx: &TransactionRecord, reason: &str) {
    assert!(tx.ended_at.is_some(), "{tx:?}");
    assert_eq!(tx.stopped_reason.as_deref(), Some(reason), "{tx:?}");
}

/// The CSMS's logged CALLs of `action` to the station, oldest first.
async fn commands(csms: &TestCsms, action: &str) -> Vec<CommandRecord> {
    let mut commands: Vec<CommandRecord> = csms
        .server
        .store
        .commands(&id(), 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.action == action)
        .collect();
    commands.sort_by_key(|c| c.seq);
    commands
}

/// The samples the CSMS keeps for a transaction, oldest first.
async fn samples(csms: &TestCsms, tx: &TransactionRecord) -> Vec<MeterValueRecord> {
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

/// (context, measurand, value, signed) of each sample.
fn readings(samples: &[MeterValueRecord]) -> Vec<(String, String, String, bool)> {
    samples
        .iter()
        .map(|s| {
            (
                s.context.clone(),
                s.measurand.clone(),
                s.value.to_string(),
                s.signed,
            )
        })
        .collect()
}

fn reading(
    context: &str,
    measurand: &str,
    value: &str,
    signed: bool,
) -> (String, String, String, bool) {
    (context.into(), measurand.into(), value.into(), signed)
}

fn json(text: Option<&str>) -> Value {
    serde_json::from_str(text.expect("a logged payload")).unwrap()
}

/// TC_E_01_CSMS: the transaction starts at PowerPathClosed (SuspendedEVSE) with the valid token.
#[tokio::test]
async fn tc_e_01_csms() {
    let csms = play("TC_E_01_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 2);
    ongoing(&tx, Some("Charging"));
    assert_eq!(tx.id_token.as_deref(), Some(VALID), "{tx:?}");
    assert_eq!(
        events(&csms, &tx).await,
        [
            ev(0, "Started", "ChargingStateChanged", Some(VALID)),
            ev(1, "Updated", "ChargingStateChanged", None),
        ]
    );
    let first = &stored_events(&csms, &tx).await[0];
    assert_eq!(first.charging_state.as_deref(), Some("SuspendedEVSE"));
}

/// TC_E_02_CSMS: the transaction starts with energy transfer (Charging) with the valid token.
#[tokio::test]
async fn tc_e_02_csms() {
    let csms = play("TC_E_02_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 1);
    ongoing(&tx, Some("Charging"));
    assert_eq!(tx.id_token.as_deref(), Some(VALID), "{tx:?}");
    assert_eq!(
        events(&csms, &tx).await,
        [ev(0, "Started", "ChargingStateChanged", Some(VALID))]
    );
}

/// TC_E_03_CSMS: cable first; the token arrives with an Updated event and is kept.
#[tokio::test]
async fn tc_e_03_csms() {
    let csms = play("TC_E_03_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 3);
    ongoing(&tx, Some("Charging"));
    assert_eq!(tx.id_token.as_deref(), Some(VALID), "{tx:?}");
    assert_eq!(
        events(&csms, &tx).await,
        [
            ev(0, "Started", "CablePluggedIn", None),
            ev(1, "Updated", "Authorized", Some(VALID)),
            ev(2, "Updated", "ChargingStateChanged", None),
        ]
    );
}

/// TC_E_04_CSMS: authorization first, then the cable, then charging.
#[tokio::test]
async fn tc_e_04_csms() {
    let csms = play("TC_E_04_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 3);
    ongoing(&tx, Some("Charging"));
    assert_eq!(tx.id_token.as_deref(), Some(VALID), "{tx:?}");
    assert_eq!(events(&csms, &tx).await, charging());
}

/// TC_E_39_CSMS: no EV within the connection timeout; the transaction ends with Timeout.
#[tokio::test]
async fn tc_e_39_csms() {
    let csms = play("TC_E_39_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 2);
    ended(&tx, "Timeout");
    assert_eq!(
        events(&csms, &tx).await,
        [
            ev(0, "Started", "Authorized", Some(VALID)),
            ev(1, "Ended", "EVConnectTimeout", None),
        ]
    );
}

/// The whole session of the EVDisconnected chain after `charging()` and `middle`.
fn disconnected_after(middle: &[(&str, &str, Option<&str>)]) -> Vec<Ev> {
    let mut more = middle.to_vec();
    more.extend([
        ("Updated", "StopAuthorized", Some(VALID)),
        ("Updated", "ChargingStateChanged", None),
        ("Ended", "EVCommunicationLost", None),
    ]);
    charging_then(&more)
}

/// TC_E_14_CSMS: the cable is unplugged at the station after the session; EVDisconnected ends
/// the transaction, Idle.
#[tokio::test]
async fn tc_e_14_csms() {
    let csms = play("TC_E_14_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 6);
    ended(&tx, "EVDisconnected");
    assert_eq!(tx.charging_state.as_deref(), Some("Idle"), "{tx:?}");
    assert_eq!(events(&csms, &tx).await, disconnected_after(&[]));
}

/// TC_E_20_CSMS: as E_14 from a suspended transfer.
#[tokio::test]
async fn tc_e_20_csms() {
    let csms = play("TC_E_20_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 7);
    ended(&tx, "EVDisconnected");
    assert_eq!(
        events(&csms, &tx).await,
        disconnected_after(&[("Updated", "ChargingStateChanged", None)])
    );
    let suspended = &stored_events(&csms, &tx).await[3];
    assert_eq!(suspended.charging_state.as_deref(), Some("SuspendedEV"));
}

/// TC_E_15 / TC_E_07: the driver stops locally with the token; the transaction ends Local.
async fn local_stop(case: &str) {
    let csms = play(case).await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 4);
    ended(&tx, "Local");
    assert_eq!(
        events(&csms, &tx).await,
        charging_then(&[("Ended", "StopAuthorized", Some(VALID))])
    );
    // The token that started the transaction stays its token.
    assert_eq!(tx.id_token.as_deref(), Some(VALID), "{tx:?}");
}

/// TC_E_15_CSMS: StopAuthorized - Local.
#[tokio::test]
async fn tc_e_15_csms() {
    local_stop("TC_E_15_CSMS").await;
}

/// TC_E_07_CSMS: PowerPathClosed - Local stop.
#[tokio::test]
async fn tc_e_07_csms() {
    local_stop("TC_E_07_CSMS").await;
}

/// TC_E_21_CSMS: the operator stops the transaction; the CSMS asked for the right one, the
/// station accepted, the transaction ends Remote.
#[tokio::test]
async fn tc_e_21_csms() {
    let (csms, operator) = play_with_operator("TC_E_21_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 4);
    ended(&tx, "Remote");
    assert_eq!(
        events(&csms, &tx).await,
        charging_then(&[("Ended", "RemoteStop", None)])
    );
    let answers = operator.answers(|a| matches!(a, OperatorAction::RequestStopTransaction { .. }));
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0]["status"], "Accepted", "{}", answers[0]);
    let logged = commands(&csms, "RequestStopTransaction").await;
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0].outcome, "result");
    assert_eq!(
        json(Some(&logged[0].request))["transactionId"],
        tx.transaction_id.as_str()
    );
}

/// TC_E_09_CSMS: the transaction starts when the cable is plugged in, without a token.
#[tokio::test]
async fn tc_e_09_csms() {
    let csms = play("TC_E_09_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 1);
    ongoing(&tx, Some("EVConnected"));
    assert_eq!(tx.id_token, None, "{tx:?}");
    assert_eq!(
        events(&csms, &tx).await,
        [ev(0, "Started", "CablePluggedIn", None)]
    );
}

/// TC_E_10_CSMS: the transaction starts at authorization.
#[tokio::test]
async fn tc_e_10_csms() {
    let csms = play("TC_E_10_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 1);
    ongoing(&tx, None);
    assert_eq!(tx.id_token.as_deref(), Some(VALID), "{tx:?}");
    assert_eq!(
        events(&csms, &tx).await,
        [ev(0, "Started", "Authorized", Some(VALID))]
    );
}

/// TC_E_11_CSMS: the transaction starts with signed meter data; the signed begin reading is kept
/// with the Started event.
#[tokio::test]
async fn tc_e_11_csms() {
    let csms = play("TC_E_11_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 2);
    ongoing(&tx, Some("Charging"));
    assert_eq!(
        events(&csms, &tx).await,
        [
            ev(0, "Started", "SignedDataReceived", Some(VALID)),
            ev(1, "Updated", "ChargingStateChanged", None),
        ]
    );
    // The Started event is stored once: its samples as meter values, the rest as the event.
    let started = &stored_events(&csms, &tx).await[0];
    assert_eq!(started.meter_values, 1, "{started:?}");
    assert!(json(Some(&started.data)).get("meterValue").is_none());
    let kept = samples(&csms, &tx).await;
    let signed = json(kept[0].signed_data.as_deref());
    assert_eq!(signed["encodingMethod"], "OCMF", "{signed}");
    assert_eq!(
        readings(&kept),
        [reading(
            "Transaction.Begin",
            "Energy.Active.Import.Register",
            "0",
            true
        )]
    );
    assert_eq!(kept[0].source, "TransactionEvent");
    assert_eq!(kept[0].evse_id, 1);
}

/// TC_E_12_CSMS: the transaction starts when the parking bay is occupied.
#[tokio::test]
async fn tc_e_12_csms() {
    let csms = play("TC_E_12_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 1);
    ongoing(&tx, None);
    assert_eq!(tx.id_token, None, "{tx:?}");
    assert_eq!(
        events(&csms, &tx).await,
        [ev(0, "Started", "EVDetected", None)]
    );
}

/// TC_E_38_CSMS: the EV is not ready; the transaction is SuspendedEV.
#[tokio::test]
async fn tc_e_38_csms() {
    let csms = play("TC_E_38_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 3);
    ongoing(&tx, Some("SuspendedEV"));
    let mut want = charging();
    want[2] = ev(2, "Updated", "ChargingStateChanged", None);
    assert_eq!(events(&csms, &tx).await, want);
}

/// TC_E_08_CSMS: energy transfer stops after StopAuthorized; the transaction ends Local with
/// the EV still connected.
#[tokio::test]
async fn tc_e_08_csms() {
    let csms = play("TC_E_08_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 5);
    ended(&tx, "Local");
    assert_eq!(tx.charging_state.as_deref(), Some("EVConnected"), "{tx:?}");
    assert_eq!(
        events(&csms, &tx).await,
        charging_then(&[
            ("Updated", "StopAuthorized", Some(VALID)),
            ("Ended", "ChargingStateChanged", None),
        ])
    );
}

/// TC_E_16_CSMS: the invalid token is answered Unknown and the station deauthorizes.
#[tokio::test]
async fn tc_e_16_csms() {
    let csms = play("TC_E_16_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 2);
    ended(&tx, "DeAuthorized");
    assert_eq!(
        events(&csms, &tx).await,
        [
            ev(0, "Started", "Authorized", Some(INVALID)),
            ev(1, "Ended", "Deauthorized", None),
        ]
    );
}

/// TC_E_17_CSMS: the EV side disconnects while suspended; the transaction ends EVDisconnected.
#[tokio::test]
async fn tc_e_17_csms() {
    let csms = play("TC_E_17_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 5);
    ended(&tx, "EVDisconnected");
    assert_eq!(tx.charging_state.as_deref(), Some("Idle"), "{tx:?}");
    assert_eq!(
        events(&csms, &tx).await,
        charging_then(&[
            ("Updated", "ChargingStateChanged", None),
            ("Ended", "EVCommunicationLost", None),
        ])
    );
}

/// TC_E_22_CSMS: the EV stops the energy transfer; the transaction ends StoppedByEV.
#[tokio::test]
async fn tc_e_22_csms() {
    let csms = play("TC_E_22_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 4);
    ended(&tx, "StoppedByEV");
    assert_eq!(tx.charging_state.as_deref(), Some("SuspendedEV"), "{tx:?}");
    assert_eq!(
        events(&csms, &tx).await,
        charging_then(&[("Ended", "ChargingStateChanged", None)])
    );
}

/// TC_E_19_CSMS: unplugging keeps the transaction (ParkingBayOccupancy); the EV leaving the bay
/// ends it, once.
#[tokio::test]
async fn tc_e_19_csms() {
    let csms = play("TC_E_19_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 7);
    ended(&tx, "Local");
    assert_eq!(
        events(&csms, &tx).await,
        charging_then(&[
            ("Updated", "StopAuthorized", Some(VALID)),
            ("Updated", "ChargingStateChanged", None),
            ("Updated", "EVCommunicationLost", None),
            ("Ended", "EVDeparted", None),
        ])
    );
}

/// TC_E_26_CSMS: an EV-side unplug suspends the transaction, which charges again after the
/// cable is back.
#[tokio::test]
async fn tc_e_26_csms() {
    let csms = play("TC_E_26_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 7);
    ongoing(&tx, Some("Charging"));
    assert_eq!(
        events(&csms, &tx).await,
        charging_then(&[
            ("Updated", "ChargingStateChanged", None),
            ("Updated", "EVCommunicationLost", None),
            ("Updated", "CablePluggedIn", None),
            ("Updated", "ChargingStateChanged", None),
        ])
    );
}

/// The CSMS's one GetTransactionStatusRequest, made on its own after the reconnection, and the
/// station's answer.
async fn asked_by_the_csms(csms: &TestCsms) -> (Value, Value) {
    // The command log entry is written once the station's answer is in; the station's queued
    // events, sent right after that answer, may be committed first: wait for the entry.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut logged = commands(csms, "GetTransactionStatus").await;
    while logged.is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        logged = commands(csms, "GetTransactionStatus").await;
    }
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0].outcome, "result", "{:?}", logged[0]);
    assert_eq!(
        logged[0].requested_by.as_deref(),
        Some("csms"),
        "{:?}",
        logged[0]
    );
    (
        json(Some(&logged[0].request)),
        json(logged[0].response.as_deref()),
    )
}

/// E_29 / E_33: the queued offline event with meter values is kept after the charging ones;
/// the transaction goes on.
async fn queued_event_kept(csms: &TestCsms) -> TransactionRecord {
    let tx = the_transaction(csms).await;
    started_on_the_evse(&tx, 4);
    ongoing(&tx, Some("Charging"));
    assert_eq!(
        events(csms, &tx).await,
        charging_then(&[("Updated", "MeterValuePeriodic", None)])
    );
    let stored = stored_events(csms, &tx).await;
    let offline: Vec<bool> = stored.iter().map(|e| e.offline).collect();
    assert_eq!(offline, [false, false, false, true]);
    // Its samples are kept once, as the transaction's meter values (below), not in the event.
    assert_eq!(stored[3].meter_values, 1, "{:?}", stored[3]);
    assert_eq!(
        readings(&samples(csms, &tx).await),
        [
            reading(
                "Sample.Periodic",
                "Energy.Active.Import.Register",
                "1500",
                false
            ),
            reading("Sample.Periodic", "Power.Active.Import", "11000", false),
        ]
    );
    assert!(tx.seq_no_gaps.is_empty(), "{tx:?}");
    tx
}

/// TC_E_29_CSMS: after the reconnection the CSMS asks about the ongoing transaction by id and
/// keeps the queued event.
#[tokio::test]
async fn tc_e_29_csms() {
    let csms = play("TC_E_29_CSMS").await;
    let tx = queued_event_kept(&csms).await;
    let (request, response) = asked_by_the_csms(&csms).await;
    assert_eq!(request["transactionId"], tx.transaction_id.as_str());
    assert_eq!(response["ongoingIndicator"], true);
    assert_eq!(response["messagesInQueue"], true);
}

/// TC_E_30_CSMS: the operator asks about the ongoing transaction and is told what the station
/// answered.
#[tokio::test]
async fn tc_e_30_csms() {
    let (csms, operator) = play_with_operator("TC_E_30_CSMS").await;
    let tx = the_transaction(&csms).await;
    ongoing(&tx, Some("Charging"));
    let answers = operator.answers(|a| matches!(a, OperatorAction::GetTransactionStatus { .. }));
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0]["ongoingIndicator"], true, "{}", answers[0]);
    assert_eq!(answers[0]["messagesInQueue"], false, "{}", answers[0]);
}

/// TC_E_31_CSMS: the Ended event arrives before the two events it skipped; the transaction is
/// kept ended, Idle, with all six events once and no gap left.
#[tokio::test]
async fn tc_e_31_csms() {
    let csms = play("TC_E_31_CSMS").await;
    let tx = the_transaction(&csms).await;
    started_on_the_evse(&tx, 6);
    ended(&tx, "EVDisconnected");
    // The late events (seqNo 3 and 4) do not reopen the transaction nor overwrite the state of
    // its last event (seqNo 5).
    assert_eq!(tx.charging_state.as_deref(), Some("Idle"), "{tx:?}");
    assert_eq!(
        events(&csms, &tx).await,
        charging_then(&[
            ("Updated", "StopAuthorized", Some(VALID)),
            ("Updated", "ChargingStateChanged", None),
            ("Ended", "EVCommunicationLost", None),
        ])
    );
    let offline: Vec<bool> = stored_events(&csms, &tx)
        .await
        .iter()
        .map(|e| e.offline)
        .collect();
    assert_eq!(offline, [false, false, false, true, true, true]);
    // The two skipped seqNos arrived after the Ended event: no gap is left.
    assert!(tx.seq_no_gaps.is_empty(), "{tx:?}");
    let (request, response) = asked_by_the_csms(&csms).await;
    assert_eq!(request["transactionId"], tx.transaction_id.as_str());
    assert_eq!(response["ongoingIndicator"], false);
    assert_eq!(response["messagesInQueue"], true);
}

/// TC_E_33_CSMS: with the CSMS set to ask per station, it asks without a transaction id after
/// the reconnection and keeps the queued event.
#[tokio::test]
async fn tc_e_33_csms() {
    let csms = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        s.csms.transaction_status_check = TransactionStatusCheck::Station;
    })
    .await;
    valid_token(&csms).await;
    assert_pass(
        "TC_E_33_CSMS",
        octt::run("TC_E_33_CSMS", &csms.target(CP, 1), None).await,
    );
    queued_event_kept(&csms).await;
    let (request, response) = asked_by_the_csms(&csms).await;
    assert!(request.get("transactionId").is_none(), "{request}");
    assert!(response.get("ongoingIndicator").is_none(), "{response}");
    assert_eq!(response["messagesInQueue"], true);
}

/// TC_E_34_CSMS: the operator asks without a transaction id and is told no message is queued.
#[tokio::test]
async fn tc_e_34_csms() {
    let (csms, operator) = play_with_operator("TC_E_34_CSMS").await;
    let answers = operator.answers(|a| matches!(a, OperatorAction::GetTransactionStatus { .. }));
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0]["messagesInQueue"], false, "{}", answers[0]);
    assert!(
        answers[0].get("ongoingIndicator").is_none(),
        "{}",
        answers[0]
    );
    let logged = commands(&csms, "GetTransactionStatus").await;
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(json(Some(&logged[0].request))
        .get("transactionId")
        .is_none());
}

/// TC_E_53_CSMS: two transactions, each starting at seqNo 0, both kept whole and ended.
#[tokio::test]
async fn tc_e_53_csms() {
    let csms = play("TC_E_53_CSMS").await;
    let transactions = csms.server.store.transactions(&id(), 10).await.unwrap();
    assert_eq!(transactions.len(), 2, "{transactions:?}");
    assert_ne!(
        transactions[0].transaction_id,
        transactions[1].transaction_id
    );
    for tx in &transactions {
        started_on_the_evse(tx, 6);
        ended(tx, "EVDisconnected");
        assert_eq!(events(&csms, tx).await, disconnected_after(&[]));
    }
}
