//! Block B, Provisioning.

use serde_json::Value;
use unicharge_core::{RegistrationStatus, StationId};
use unicharge_ocpp::v201::ReportBaseEnumType;
use unicharge_sim::octt::operator::OperatorAction;
use unicharge_sim::octt::{self, b_provisioning};

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
