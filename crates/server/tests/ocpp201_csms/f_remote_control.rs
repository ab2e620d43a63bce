//! Block F, Remote control. The CSMS's token store knows the OCTT's valid idToken (ISO14443
//! `OCTT-VALID-001`, Accepted). Every case starts with the REST operator; after it, the test
//! checks what the operator was told and what the CSMS kept: the command log, the remote start
//! linked to its transaction, the triggered messages (meter values, notices, statuses).

use std::sync::Arc;

use serde_json::{json, Value};
use unicharge_core::tokens::IdTokenRecord;
use unicharge_core::StationId;
use unicharge_sim::octt;
use unicharge_sim::octt::operator::OperatorAction;
use unicharge_store::{
    CommandRecord, MeterValueFilter, MeterValueRecord, TransactionEventRecord, TransactionRecord,
};

use crate::common::{assert_pass, StationSpec, TestCsms};
use crate::rest_operator::{self, RestOperator};

const CP: &str = "CP001";
const VALID: &str = "OCTT-VALID-001";

fn id() -> StationId {
    StationId::new(CP).unwrap()
}

/// Start a server with CP001 at profile 1 and the valid idToken, and play `case` with the REST
/// operator.
async fn play(case: &str) -> (TestCsms, Arc<RestOperator>) {
    let (csms, operator) = rest_operator::start(&[StationSpec::new(CP, 1)]).await;
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
    assert_pass(
        case,
        octt::run(case, &csms.target(CP, 1), operator.as_operator()).await,
    );
    (csms, operator)
}

/// The one logged command of `action`, answered (outcome `result`); its request and response.
async fn command(csms: &TestCsms, action: &str) -> (Value, Value) {
    let commands: Vec<CommandRecord> = csms
        .server
        .store
        .commands(&id(), 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.action == action)
        .collect();
    assert_eq!(commands.len(), 1, "{action}: {commands:?}");
    let command = &commands[0];
    assert_eq!(command.outcome, "result", "{command:?}");
    let request = serde_json::from_str(&command.request).unwrap();
    let response = serde_json::from_str(command.response.as_deref().unwrap()).unwrap();
    (request, response)
}

/// The one answer the operator got for actions `matching`.
fn answer(operator: &RestOperator, matching: impl Fn(&OperatorAction) -> bool) -> Value {
    let answers = operator.answers(matching);
    assert_eq!(answers.len(), 1, "{answers:?}");
    answers.into_iter().next().unwrap()
}

/// The station's one transaction.
async fn the_transaction(csms: &TestCsms) -> TransactionRecord {
    let transactions = csms.server.store.transactions(&id(), 10).await.unwrap();
    assert_eq!(transactions.len(), 1, "{transactions:?}");
    transactions.into_iter().next().unwrap()
}

async fn events(csms: &TestCsms, tx: &TransactionRecord) -> Vec<TransactionEventRecord> {
    csms.server
        .store
        .transaction_events(&id(), &tx.transaction_id)
        .await
        .unwrap()
}

/// (seqNo, eventType, triggerReason) of each event.
fn shape(events: &[TransactionEventRecord]) -> Vec<(i64, &str, &str)> {
    events
        .iter()
        .map(|e| (e.seq_no, e.event_type.as_str(), e.trigger_reason.as_str()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Remote start (F01, F02) and unlock (F05)
// ---------------------------------------------------------------------------------------------

/// Play a remote start case; check the operator learnt the remoteStartId the station was sent
/// and the station's answer (with `transaction_id` or none), the CSMS kept the remote start
/// Accepted, and the transaction carries that remoteStartId, the valid idToken and `events`.
async fn remote_start(case: &str, transaction_id_answered: bool, expected: &[(i64, &str, &str)]) {
    let (csms, operator) = play(case).await;
    let answer = answer(&operator, |a| {
        matches!(a, OperatorAction::RequestStartTransaction { .. })
    });
    assert_eq!(answer["status"], "Accepted", "{answer}");
    let remote_start_id = answer["remoteStartId"].as_i64().expect("a remoteStartId");

    let (request, response) = command(&csms, "RequestStartTransaction").await;
    assert_eq!(request["remoteStartId"], remote_start_id, "{request}");
    assert_eq!(
        request["idToken"],
        json!({"idToken": VALID, "type": "ISO14443"})
    );
    assert_eq!(request["evseId"], 1, "{request}");
    assert_eq!(response["status"], "Accepted");

    let tx = the_transaction(&csms).await;
    assert_eq!(tx.remote_start_id, Some(remote_start_id), "{tx:?}");
    assert_eq!(tx.id_token.as_deref(), Some(VALID), "{tx:?}");
    assert_eq!(shape(&events(&csms, &tx).await), expected);
    if transaction_id_answered {
        assert_eq!(
            answer["transactionId"],
            json!(tx.transaction_id),
            "{answer}"
        );
    } else {
        assert!(answer.get("transactionId").is_none(), "{answer}");
    }

    let kept = csms
        .server
        .store
        .remote_start(remote_start_id)
        .await
        .unwrap()
        .expect("the remote start is kept");
    assert_eq!(kept.status, "Accepted", "{kept:?}");
    assert_eq!(
        (kept.id_token.as_str(), kept.evse_id),
        (VALID, Some(1)),
        "{kept:?}"
    );
    if transaction_id_answered {
        assert_eq!(
            kept.transaction_id.as_deref(),
            Some(tx.transaction_id.as_str())
        );
    }
}

/// TC_F_01_CSMS: the cable is plugged in first; the station answers with its transaction, which
/// then carries the CSMS's remoteStartId.
#[tokio::test]
async fn tc_f_01_csms() {
    remote_start(
        "TC_F_01_CSMS",
        true,
        &[
            (0, "Started", "CablePluggedIn"),
            (1, "Updated", "RemoteStart"),
            (2, "Updated", "ChargingStateChanged"),
        ],
    )
    .await;
}

/// The events of a transaction started remotely before the EV is plugged in, then charging.
const REMOTE_START_FIRST: [(i64, &str, &str); 3] = [
    (0, "Started", "RemoteStart"),
    (1, "Updated", "CablePluggedIn"),
    (2, "Updated", "ChargingStateChanged"),
];

/// TC_F_02_CSMS: remote start first, the station authorizes the idToken before starting.
#[tokio::test]
async fn tc_f_02_csms() {
    remote_start("TC_F_02_CSMS", false, &REMOTE_START_FIRST).await;
}

/// TC_F_03_CSMS: remote start first, no AuthorizeRequest.
#[tokio::test]
async fn tc_f_03_csms() {
    remote_start("TC_F_03_CSMS", false, &REMOTE_START_FIRST).await;
}

/// TC_F_04_CSMS: remote start first, the EV never comes: EVConnectTimeout is kept.
#[tokio::test]
async fn tc_f_04_csms() {
    remote_start(
        "TC_F_04_CSMS",
        false,
        &[
            (0, "Started", "RemoteStart"),
            (1, "Updated", "EVConnectTimeout"),
        ],
    )
    .await;
}

/// TC_F_06_CSMS: UnlockConnector for EVSE 1 / connector 1, Unlocked.
#[tokio::test]
async fn tc_f_06_csms() {
    let (csms, operator) = play("TC_F_06_CSMS").await;
    let answer = answer(&operator, |a| {
        matches!(a, OperatorAction::UnlockConnector { .. })
    });
    assert_eq!(answer["status"], "Unlocked", "{answer}");
    let (request, response) = command(&csms, "UnlockConnector").await;
    assert_eq!(request, json!({"evseId": 1, "connectorId": 1}));
    assert_eq!(response["status"], "Unlocked");
}

// ---------------------------------------------------------------------------------------------
// Trigger message (F06)
// ---------------------------------------------------------------------------------------------

/// Play a TriggerMessage case; check the operator and the command log saw `status`, and the
/// logged request asked for `requested` with `evse` (None: absent).
async fn trigger(
    case: &str,
    requested: &str,
    evse: Option<Value>,
    status: &str,
) -> (TestCsms, Arc<RestOperator>) {
    let (csms, operator) = play(case).await;
    let answer = answer(&operator, |a| {
        matches!(a, OperatorAction::TriggerMessage { .. })
    });
    assert_eq!(answer["status"], status, "{answer}");
    let (request, response) = command(&csms, "TriggerMessage").await;
    assert_eq!(request["requestedMessage"], requested, "{request}");
    assert_eq!(request.get("evse").cloned(), evse, "{request}");
    assert_eq!(response["status"], status);
    (csms, operator)
}

/// The station's samples, oldest first.
async fn samples(csms: &TestCsms, transaction_id: Option<String>) -> Vec<MeterValueRecord> {
    csms.server
        .store
        .meter_values(
            &id(),
            &MeterValueFilter {
                transaction_id,
                evse_id: None,
                limit: 0,
                until: None,
            },
        )
        .await
        .unwrap()
}

/// The one Trigger reading the OCTT sends: 1000 Wh on the import register, from `source`.
fn check_trigger_sample(samples: &[MeterValueRecord], source: &str) {
    assert_eq!(samples.len(), 1, "{samples:?}");
    let s = &samples[0];
    assert_eq!(
        (s.evse_id, s.context.as_str(), s.measurand.as_str()),
        (1, "Trigger", "Energy.Active.Import.Register"),
        "{s:?}"
    );
    assert_eq!(s.source, source, "{s:?}");
    assert_eq!(
        s.wh.map(|wh| wh.normalize().to_string()).as_deref(),
        Some("1000")
    );
}

/// TC_F_11_CSMS: MeterValues for EVSE 1; the triggered reading is kept.
#[tokio::test]
async fn tc_f_11_csms() {
    let (csms, _) = trigger(
        "TC_F_11_CSMS",
        "MeterValues",
        Some(json!({"id": 1})),
        "Accepted",
    )
    .await;
    check_trigger_sample(&samples(&csms, None).await, "MeterValues");
}

/// TC_F_12_CSMS: MeterValues for every EVSE; the reading of the only EVSE is kept.
#[tokio::test]
async fn tc_f_12_csms() {
    let (csms, _) = trigger("TC_F_12_CSMS", "MeterValues", None, "Accepted").await;
    check_trigger_sample(&samples(&csms, None).await, "MeterValues");
}

/// TC_F_13_CSMS / TC_F_14_CSMS: the triggered TransactionEvent is kept in the charging
/// transaction (with the EVSE when `evse`), with its Trigger reading.
async fn triggered_transaction_event(case: &str, evse: Option<Value>) {
    let with_evse = evse.is_some();
    let (csms, _) = trigger(case, "TransactionEvent", evse, "Accepted").await;
    let tx = the_transaction(&csms).await;
    let events = events(&csms, &tx).await;
    assert_eq!(
        shape(&events),
        [
            (0, "Started", "Authorized"),
            (1, "Updated", "CablePluggedIn"),
            (2, "Updated", "ChargingStateChanged"),
            (3, "Updated", "Trigger"),
        ]
    );
    let triggered = events.last().unwrap();
    assert_eq!(triggered.charging_state.as_deref(), Some("Charging"));
    assert_eq!(triggered.evse_id, with_evse.then_some(1), "{triggered:?}");
    check_trigger_sample(
        &samples(&csms, Some(tx.transaction_id.clone())).await,
        "TransactionEvent",
    );
}

/// TC_F_13_CSMS: TransactionEvent for EVSE 1.
#[tokio::test]
async fn tc_f_13_csms() {
    triggered_transaction_event("TC_F_13_CSMS", Some(json!({"id": 1}))).await;
}

/// TC_F_14_CSMS: TransactionEvent for every EVSE.
#[tokio::test]
async fn tc_f_14_csms() {
    triggered_transaction_event("TC_F_14_CSMS", None).await;
}

/// The station's one FirmwareStatus / LogStatus notice: (kind, status, requestId).
async fn the_notice(csms: &TestCsms) -> (String, String, Option<i64>) {
    let notices = csms.server.store.station_notices(&id(), 10).await.unwrap();
    assert_eq!(notices.len(), 1, "{notices:?}");
    let n = &notices[0];
    (n.kind.clone(), n.status.clone(), n.request_id)
}

/// TC_F_15_CSMS: LogStatusNotification Idle is kept.
#[tokio::test]
async fn tc_f_15_csms() {
    let (csms, _) = trigger("TC_F_15_CSMS", "LogStatusNotification", None, "Accepted").await;
    assert_eq!(
        the_notice(&csms).await,
        ("LogStatusNotification".into(), "Idle".into(), None)
    );
}

/// TC_F_18_CSMS: FirmwareStatusNotification Idle is kept.
#[tokio::test]
async fn tc_f_18_csms() {
    let (csms, _) = trigger(
        "TC_F_18_CSMS",
        "FirmwareStatusNotification",
        None,
        "Accepted",
    )
    .await;
    assert_eq!(
        the_notice(&csms).await,
        ("FirmwareStatusNotification".into(), "Idle".into(), None)
    );
}

/// TC_F_20_CSMS: Heartbeat, answered; the station was seen.
#[tokio::test]
async fn tc_f_20_csms() {
    let (csms, _) = trigger("TC_F_20_CSMS", "Heartbeat", None, "Accepted").await;
    let station = csms.server.store.get_station(&id()).await.unwrap().unwrap();
    assert!(station.last_seen_at.is_some(), "{station:?}");
}

/// TC_F_23_CSMS / TC_F_24_CSMS: StatusNotification for EVSE 1; the connector is kept with
/// `status`, reported `reports` times in NotifyEvent (the Booted report included).
async fn triggered_status(case: &str, status: &str, reports: usize) {
    let (csms, _) = trigger(
        case,
        "StatusNotification",
        Some(json!({"id": 1})),
        "Accepted",
    )
    .await;
    let connectors = csms.server.store.connectors(&id()).await.unwrap();
    assert_eq!(connectors.len(), 1, "{connectors:?}");
    assert_eq!(
        (
            connectors[0].evse_id,
            connectors[0].connector_id,
            connectors[0].status.as_str()
        ),
        (1, 1, status)
    );
    let events = csms.server.store.events(&id(), 10).await.unwrap();
    let reported = events
        .iter()
        .filter(|e| e.variable == "AvailabilityState" && e.actual_value == status)
        .count();
    assert_eq!(reported, reports, "{events:?}");
}

/// TC_F_23_CSMS: the available connector reported again on request.
#[tokio::test]
async fn tc_f_23_csms() {
    triggered_status("TC_F_23_CSMS", "Available", 2).await;
}

/// TC_F_24_CSMS: the occupied connector reported again on request.
#[tokio::test]
async fn tc_f_24_csms() {
    triggered_status("TC_F_24_CSMS", "Occupied", 2).await;
}

/// TC_F_27_CSMS: the station does not implement the requested message; the operator is told.
#[tokio::test]
async fn tc_f_27_csms() {
    trigger(
        "TC_F_27_CSMS",
        "PublishFirmwareStatusNotification",
        None,
        "NotImplemented",
    )
    .await;
}
