//! Block B, Provisioning.

use serde_json::Value;
use unicharge_core::tokens::IdTokenRecord;
use unicharge_core::{RegistrationStatus, StationId};
use unicharge_ocpp::v201::ReportBaseEnumType;
use unicharge_sim::octt::operator::OperatorAction;
use unicharge_sim::octt::{self, b_provisioning};
use unicharge_store::TransactionEventRecord;

use crate::common::{assert_pass, StationSpec, TestCsms};
use crate::rest_operator::{self, RestOperator};

const CP: &str = "CP001";

fn id() -> StationId {
    StationId::new(CP).unwrap()
}

/// Start a server with CP001 at profile 1 and the operator API, and play `case`.
async fn play(case: &str) -> (TestCsms, std::sync::Arc<RestOperator>) {
    let (csms, operator) = rest_operator::start(&[StationSpec::new(CP, 1)]).await;
    assert_pass(
        case,
        octt::run(case, &csms.target(CP, 1), operator.as_operator()).await,
    );
    (csms, operator)
}

/// The value of `component`.`variable` (Actual) in the device model the API shows.
async fn device_model_value(
    operator: &RestOperator,
    component: &str,
    variable: &str,
) -> Option<String> {
    let model = operator
        .get(&format!("/stations/{CP}/device-model"))
        .await
        .expect("GET device-model");
    model["variables"]
        .as_array()
        .unwrap_or_else(|| panic!("device-model has no variables array: {model}"))
        .iter()
        .find(|v| {
            v["component"] == component
                && v["variable"] == variable
                && matches!(v["attributeType"].as_str(), None | Some("Actual"))
        })
        .and_then(|v| v["value"].as_str().map(str::to_string))
}

/// The attributeValue the station answered for `component`.`variable`, as the operator got it.
fn read_value(answer: &Value, component: &str, variable: &str) -> String {
    answer["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {answer}"))
        .iter()
        .find(|r| r["component"]["name"] == component && r["variable"]["name"] == variable)
        .and_then(|r| r["attributeValue"].as_str())
        .unwrap_or_else(|| panic!("no {component}.{variable} value in {answer}"))
        .to_string()
}

/// (component, evse, connector, variable, value) of one reportData entry.
type Entry = (String, Option<i64>, Option<i64>, String, String);

/// The [`Entry`] of each reportData entry, sorted.
fn entries(report_data: &Value) -> Vec<Entry> {
    let mut entries: Vec<_> = report_data
        .as_array()
        .unwrap_or_else(|| panic!("reportData is not an array: {report_data}"))
        .iter()
        .map(|e| {
            (
                e["component"]["name"].as_str().unwrap_or("").to_string(),
                e["component"]["evse"]["id"].as_i64(),
                e["component"]["evse"]["connectorId"].as_i64(),
                e["variable"]["name"].as_str().unwrap_or("").to_string(),
                e["variableAttribute"][0]["value"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    entries.sort();
    entries
}

/// The last command the CSMS sent CP001 on the operator's behalf, from its command log.
async fn last_command(csms: &TestCsms, action: &str) -> unicharge_store::CommandRecord {
    csms.server
        .store
        .commands(&id(), 50)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.action == action)
        .unwrap_or_else(|| panic!("no {action} in the command log"))
}

/// TC_B_01_CSMS Cold Boot Charge Point - Accepted: the Booted state; what the station said of
/// itself is kept.
#[tokio::test]
async fn tc_b_01_csms() {
    let csms = TestCsms::start(&[StationSpec::new("CP001", 1)]).await;
    assert_pass(
        "TC_B_01_CSMS",
        octt::run("TC_B_01_CSMS", &csms.target("CP001", 1), None).await,
    );
    let station = csms
        .server
        .store
        .get_station(&StationId::new("CP001").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(station.last_boot_status, Some(RegistrationStatus::Accepted));
    assert_eq!(station.last_boot_reason.as_deref(), Some("PowerUp"));
    assert_eq!(station.model.as_deref(), Some("unicharge-sim"));
}

/// TC_B_06_CSMS: OCPPCommCtrlr.OfflineThreshold is read and lands in the stored device model.
#[tokio::test]
async fn tc_b_06_csms() {
    let (_csms, operator) = play("TC_B_06_CSMS").await;
    let answers = operator.answers(|a| matches!(a, OperatorAction::GetVariables { .. }));
    let value = read_value(&answers[0], "OCPPCommCtrlr", "OfflineThreshold");
    assert_eq!(
        device_model_value(&operator, "OCPPCommCtrlr", "OfflineThreshold").await,
        Some(value)
    );
}

/// TC_B_07_CSMS: both values are read and stored.
#[tokio::test]
async fn tc_b_07_csms() {
    let (_csms, operator) = play("TC_B_07_CSMS").await;
    let answers = operator.answers(|a| matches!(a, OperatorAction::GetVariables { .. }));
    for (component, variable) in [
        ("OCPPCommCtrlr", "OfflineThreshold"),
        ("AuthCtrlr", "AuthorizeRemoteStart"),
    ] {
        let value = read_value(&answers[0], component, variable);
        assert_eq!(
            device_model_value(&operator, component, variable).await,
            Some(value),
            "{component}.{variable}"
        );
    }
}

/// TC_B_09_CSMS: OfflineThreshold = 123 is set (Accepted) and kept in the device model.
#[tokio::test]
async fn tc_b_09_csms() {
    let (_csms, operator) = play("TC_B_09_CSMS").await;
    assert_eq!(
        device_model_value(&operator, "OCPPCommCtrlr", "OfflineThreshold").await,
        Some("123".into())
    );
}

/// TC_B_10_CSMS: both values are set and kept.
#[tokio::test]
async fn tc_b_10_csms() {
    let (_csms, operator) = play("TC_B_10_CSMS").await;
    assert_eq!(
        device_model_value(&operator, "OCPPCommCtrlr", "OfflineThreshold").await,
        Some("123".into())
    );
    assert_eq!(
        device_model_value(&operator, "AuthCtrlr", "AuthorizeRemoteStart").await,
        Some("false".into())
    );
}

/// A base report case: the CSMS assembled both NotifyReport parts under the requestId it told
/// the operator, and shows exactly what the station reported.
async fn base_report(case: &str, base: ReportBaseEnumType) {
    let (csms, operator) = play(case).await;
    let answers = operator.answers(|a| matches!(a, OperatorAction::GetBaseReport { .. }));
    assert_eq!(answers[0]["status"], "Accepted", "{}", answers[0]);
    let request_id = answers[0]["requestId"]
        .as_i64()
        .unwrap_or_else(|| panic!("no requestId in {}", answers[0]));
    let report = operator
        .get(&format!("/stations/{CP}/reports/{request_id}"))
        .await
        .expect("GET the report");
    assert_eq!(report["requestId"], request_id);
    assert_eq!(report["complete"], true, "{report}");
    let sent = b_provisioning::inventory(base, &csms.target(CP, 1));
    assert_eq!(report["parts"], if sent.len() > 1 { 2 } else { 1 });
    assert_eq!(
        entries(&report["reportData"]),
        entries(&serde_json::to_value(&sent).unwrap())
    );
}

/// TC_B_12_CSMS: ConfigurationInventory.
#[tokio::test]
async fn tc_b_12_csms() {
    base_report("TC_B_12_CSMS", ReportBaseEnumType::ConfigurationInventory).await;
}

/// TC_B_13_CSMS: FullInventory.
#[tokio::test]
async fn tc_b_13_csms() {
    base_report("TC_B_13_CSMS", ReportBaseEnumType::FullInventory).await;
}

/// TC_B_14_CSMS: SummaryInventory.
#[tokio::test]
async fn tc_b_14_csms() {
    base_report("TC_B_14_CSMS", ReportBaseEnumType::SummaryInventory).await;
}

/// TC_B_18_CSMS: the EmptyResultSet request and the Accepted one get different requestIds, and
/// the report of the second holds EVSE #1 AvailabilityState.
#[tokio::test]
async fn tc_b_18_csms() {
    let (_csms, operator) = play("TC_B_18_CSMS").await;
    let answers = operator.answers(|a| matches!(a, OperatorAction::GetCustomReport { .. }));
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0]["status"], "EmptyResultSet", "{}", answers[0]);
    assert_eq!(answers[1]["status"], "Accepted", "{}", answers[1]);
    let request_id = answers[1]["requestId"].as_i64().expect("requestId");
    let report = operator
        .get(&format!("/stations/{CP}/reports/{request_id}"))
        .await
        .expect("GET the report");
    assert_eq!(report["complete"], true, "{report}");
    assert_eq!(
        entries(&report["reportData"]),
        entries(&serde_json::to_value([b_provisioning::evse_1_availability()]).unwrap())
    );
}

/// TC_B_20_CSMS: the reset is answered Accepted and the reboot is stored (reason RemoteReset,
/// Accepted).
#[tokio::test]
async fn tc_b_20_csms() {
    let (csms, operator) = play("TC_B_20_CSMS").await;
    let answers = operator.answers(|a| matches!(a, OperatorAction::Reset { .. }));
    assert_eq!(answers[0]["status"], "Accepted", "{}", answers[0]);
    let station = csms.server.store.get_station(&id()).await.unwrap().unwrap();
    assert_eq!(station.last_boot_reason.as_deref(), Some("RemoteReset"));
    assert_eq!(station.last_boot_status, Some(RegistrationStatus::Accepted));
}

/// TC_B_25_CSMS: the EVSE reset (OnIdle, EVSE 1) is sent, answered and logged.
#[tokio::test]
async fn tc_b_25_csms() {
    let (csms, operator) = play("TC_B_25_CSMS").await;
    let answers = operator.answers(|a| matches!(a, OperatorAction::Reset { .. }));
    assert_eq!(answers[0]["status"], "Accepted", "{}", answers[0]);
    let command = last_command(&csms, "Reset").await;
    let request: Value = serde_json::from_str(&command.request).unwrap();
    assert_eq!(request["type"], "OnIdle");
    assert_eq!(request["evseId"], 1);
    assert_eq!(command.outcome, "result");
}

/// TC_B_42_CSMS: the profile is sent and the station's Accepted is logged.
#[tokio::test]
async fn tc_b_42_csms() {
    let (csms, _operator) = play("TC_B_42_CSMS").await;
    let command = last_command(&csms, "SetNetworkProfile").await;
    assert_eq!(command.outcome, "result");
    let response: Value = serde_json::from_str(command.response.as_deref().unwrap()).unwrap();
    assert_eq!(response["status"], "Accepted");
}

/// TC_B_44_CSMS: the station's Failed is reported to the operator and logged.
#[tokio::test]
async fn tc_b_44_csms() {
    let (csms, operator) = play("TC_B_44_CSMS").await;
    let answers = operator.answers(|a| matches!(a, OperatorAction::SetNetworkProfile { .. }));
    assert_eq!(answers[0]["status"], "Failed", "{}", answers[0]);
    let command = last_command(&csms, "SetNetworkProfile").await;
    let response: Value = serde_json::from_str(command.response.as_deref().unwrap()).unwrap();
    assert_eq!(response["status"], "Failed");
}

// ---------------------------------------------------------------------------------------------
// Reset during a transaction (B12)
// ---------------------------------------------------------------------------------------------

/// Start a server with CP001 and the operator API, let the CSMS know the OCTT's valid idToken
/// (ISO14443 `OCTT-VALID-001`, Accepted: EnergyTransferStarted authorizes it), and play `case`.
async fn play_with_transaction(case: &str) -> (TestCsms, std::sync::Arc<RestOperator>) {
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
    (csms, operator)
}

/// The station's only transaction, which must have ended with `stopped_reason` after events
/// with these trigger reasons (in seqNo order, Started first, Ended last); returns its events.
async fn ended_transaction(
    csms: &TestCsms,
    stopped_reason: &str,
    triggers: &[&str],
) -> Vec<TransactionEventRecord> {
    let transactions = csms.server.store.transactions(&id(), 10).await.unwrap();
    assert_eq!(transactions.len(), 1, "{transactions:?}");
    let tx = &transactions[0];
    assert_eq!(tx.stopped_reason.as_deref(), Some(stopped_reason), "{tx:?}");
    assert!(
        tx.ended_at.is_some(),
        "the transaction is not ended: {tx:?}"
    );
    assert_eq!((tx.evse_id, tx.connector_id), (Some(1), Some(1)), "{tx:?}");
    assert_eq!(tx.id_token.as_deref(), Some("OCTT-VALID-001"), "{tx:?}");
    assert!(!tx.started_unseen, "{tx:?}");
    assert_eq!(tx.events, triggers.len() as i64, "{tx:?}");
    assert_eq!(tx.last_seq_no, triggers.len() as i64 - 1, "{tx:?}");
    let looked_up = csms
        .server
        .store
        .transaction(&id(), &tx.transaction_id)
        .await
        .unwrap();
    assert_eq!(looked_up.as_ref(), Some(tx));
    let events = csms
        .server
        .store
        .transaction_events(&id(), &tx.transaction_id)
        .await
        .unwrap();
    let got: Vec<(i64, &str, &str)> = events
        .iter()
        .map(|e| (e.seq_no, e.event_type.as_str(), e.trigger_reason.as_str()))
        .collect();
    let want: Vec<(i64, &str, &str)> = triggers
        .iter()
        .enumerate()
        .map(|(i, trigger)| {
            let event_type = match i {
                0 => "Started",
                i if i == triggers.len() - 1 => "Ended",
                _ => "Updated",
            };
            (i as i64, event_type, *trigger)
        })
        .collect();
    assert_eq!(got, want);
    let ended = events.last().unwrap();
    assert_eq!(ended.stopped_reason.as_deref(), Some(stopped_reason));
    events
}

/// EnergyTransferStarted on a fresh session: Authorized (Started), CablePluggedIn, Charging.
const ENERGY_TRANSFER_STARTED: [&str; 3] = ["Authorized", "CablePluggedIn", "ChargingStateChanged"];

/// The events of a transaction ended OnIdle (B_21/26): StopAuthorized, then Ended
/// EVCommunicationLost.
fn ended_on_idle() -> Vec<&'static str> {
    [
        &ENERGY_TRANSFER_STARTED[..],
        &["StopAuthorized", "EVCommunicationLost"],
    ]
    .concat()
}

/// The events of a transaction ended by an Immediate reset (B_22/27): Ended ResetCommand.
fn ended_immediately() -> Vec<&'static str> {
    [&ENERGY_TRANSFER_STARTED[..], &["ResetCommand"]].concat()
}

/// The operator's one Reset answer has `status`, and the logged ResetRequest has `type` and
/// `evseId` (None: absent).
async fn check_reset(
    csms: &TestCsms,
    operator: &RestOperator,
    status: &str,
    reset_type: &str,
    evse_id: Option<i64>,
) {
    let answers = operator.answers(|a| matches!(a, OperatorAction::Reset { .. }));
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0]["status"], status, "{}", answers[0]);
    let command = last_command(csms, "Reset").await;
    assert_eq!(command.outcome, "result");
    let request: Value = serde_json::from_str(&command.request).unwrap();
    assert_eq!(request["type"], reset_type);
    assert_eq!(request["evseId"].as_i64(), evse_id, "{request}");
}

/// The connector's last reported status.
async fn connector_status(csms: &TestCsms) -> String {
    let connectors = csms.server.store.connectors(&id()).await.unwrap();
    assert_eq!(connectors.len(), 1, "{connectors:?}");
    assert_eq!((connectors[0].evse_id, connectors[0].connector_id), (1, 1));
    connectors[0].status.clone()
}

/// TC_B_21_CSMS: the station reset OnIdle is Scheduled; the transaction ends (StopAuthorized,
/// then Ended EVDisconnected); the reboot (ScheduledReset) is Accepted and kept; the connector
/// is Available.
#[tokio::test]
async fn tc_b_21_csms() {
    let (csms, operator) = play_with_transaction("TC_B_21_CSMS").await;
    check_reset(&csms, &operator, "Scheduled", "OnIdle", None).await;
    let events = ended_transaction(&csms, "EVDisconnected", &ended_on_idle()).await;
    let stop = &events[3];
    assert_eq!(stop.id_token.as_deref(), Some("OCTT-VALID-001"));
    assert_eq!(stop.charging_state.as_deref(), Some("EVConnected"));
    let station = csms.server.store.get_station(&id()).await.unwrap().unwrap();
    assert_eq!(station.last_boot_reason.as_deref(), Some("ScheduledReset"));
    assert_eq!(station.last_boot_status, Some(RegistrationStatus::Accepted));
    assert_eq!(connector_status(&csms).await, "Available");
}

/// TC_B_22_CSMS: the station reset Immediate is Accepted; the transaction ends at once (Ended
/// ResetCommand, ImmediateReset, no idToken); the reboot (RemoteReset) is Accepted and kept; the
/// connector is Occupied (the EV is still plugged in).
#[tokio::test]
async fn tc_b_22_csms() {
    let (csms, operator) = play_with_transaction("TC_B_22_CSMS").await;
    check_reset(&csms, &operator, "Accepted", "Immediate", None).await;
    let events = ended_transaction(&csms, "ImmediateReset", &ended_immediately()).await;
    let ended = events.last().unwrap();
    assert_eq!(ended.id_token, None);
    assert_eq!(ended.charging_state.as_deref(), Some("EVConnected"));
    let station = csms.server.store.get_station(&id()).await.unwrap().unwrap();
    assert_eq!(station.last_boot_reason.as_deref(), Some("RemoteReset"));
    assert_eq!(station.last_boot_status, Some(RegistrationStatus::Accepted));
    assert_eq!(connector_status(&csms).await, "Occupied");
}

/// TC_B_26_CSMS: the EVSE reset OnIdle (EVSE 1) is Scheduled and the transaction ends with
/// EVDisconnected; nothing reboots (the boot kept is the first, PowerUp) and the connector keeps
/// its last reported status, Occupied (the table reports none after the transaction).
#[tokio::test]
async fn tc_b_26_csms() {
    let (csms, operator) = play_with_transaction("TC_B_26_CSMS").await;
    check_reset(&csms, &operator, "Scheduled", "OnIdle", Some(1)).await;
    ended_transaction(&csms, "EVDisconnected", &ended_on_idle()).await;
    let station = csms.server.store.get_station(&id()).await.unwrap().unwrap();
    assert_eq!(station.last_boot_reason.as_deref(), Some("PowerUp"));
    assert_eq!(connector_status(&csms).await, "Occupied");
}

/// TC_B_27_CSMS: the EVSE reset Immediate (EVSE 1) is Accepted and the transaction ends with
/// ImmediateReset; nothing reboots and the connector stays Occupied.
#[tokio::test]
async fn tc_b_27_csms() {
    let (csms, operator) = play_with_transaction("TC_B_27_CSMS").await;
    check_reset(&csms, &operator, "Accepted", "Immediate", Some(1)).await;
    let events = ended_transaction(&csms, "ImmediateReset", &ended_immediately()).await;
    assert_eq!(events.last().unwrap().id_token, None);
    let station = csms.server.store.get_station(&id()).await.unwrap().unwrap();
    assert_eq!(station.last_boot_reason.as_deref(), Some("PowerUp"));
    assert_eq!(connector_status(&csms).await, "Occupied");
}
