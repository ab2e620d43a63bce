//! Block N, Diagnostics. After each case the test reads back through the operator API what
//! the CSMS kept: log requests with their LogStatusNotifications, monitoring reports with
//! their parts and the monitors they named, alerts with the monitor that fired them, and
//! customer-information requests with the data reported.

use std::sync::Arc;

use serde_json::Value;
use unicharge_core::tokens::IdTokenRecord;
use unicharge_core::StationId;
use unicharge_sim::octt;
use unicharge_sim::octt::n_diagnostics::{CUSTOMER_DATA, CUSTOMER_IDENTIFIER, LOG_LOCATION};

use crate::common::{assert_pass, StationSpec, TestCsms};
use crate::rest_operator::{self, RestOperator};

const CP: &str = "CP001";

async fn start() -> (TestCsms, Arc<RestOperator>) {
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
    (csms, operator)
}

async fn run(csms: &TestCsms, operator: &Arc<RestOperator>, case: &str) {
    assert_pass(
        case,
        octt::run(case, &csms.target(CP, 1), operator.as_operator()).await,
    );
}

async fn play(case: &str) -> (TestCsms, Arc<RestOperator>) {
    let (csms, operator) = start().await;
    run(&csms, &operator, case).await;
    (csms, operator)
}

async fn get(operator: &RestOperator, path: &str) -> Value {
    operator
        .get(&format!("/stations/{CP}/{path}"))
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

fn statuses(tracked: &Value) -> Vec<String> {
    tracked["parts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p["status"].as_str().map(str::to_string))
        .collect()
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

/// The monitoring report `request_id`: the station's answer, complete, how many parts.
async fn check_report(operator: &RestOperator, request_id: i64, answer: &str, parts: usize) {
    let r = get(operator, &format!("monitoring/reports/{request_id}")).await;
    assert_eq!(r["answer"], answer, "{r}");
    assert_eq!(r["complete"], true, "{r}");
    assert_eq!(
        r["parts"].as_array().map(Vec::len).unwrap_or(0),
        parts,
        "{r}"
    );
}

/// TC_N_01_CSMS: the Delta request is ended by EmptyResultSet; the Threshold report is
/// assembled and its UpperThreshold monitor shown.
#[tokio::test]
async fn tc_n_01_csms() {
    let (_csms, operator) = play("TC_N_01_CSMS").await;
    check_report(&operator, 1, "EmptyResultSet", 0).await;
    check_report(&operator, 2, "Accepted", 1).await;
    let r = get(&operator, "monitoring/reports/2").await;
    assert_eq!(r["request"]["monitoringCriteria"][0], "ThresholdMonitoring");
    let monitors = get(&operator, "monitoring/monitors").await;
    assert_eq!(ids(&monitors), vec![1], "{monitors}");
    let m = &monitors[0];
    assert_eq!(m["type"], "UpperThreshold");
    assert_eq!(m["component"], "ChargingStation");
    assert_eq!(m["variable"], "Power");
    assert_eq!(m["value"], 22000.0);
    assert_eq!(m["severity"], 4);
    assert_eq!(m["origin"], "report");
}

/// TC_N_02_CSMS: the AvailabilityState monitor of EVSE 1 is shown.
#[tokio::test]
async fn tc_n_02_csms() {
    let (_csms, operator) = play("TC_N_02_CSMS").await;
    check_report(&operator, 1, "EmptyResultSet", 0).await;
    check_report(&operator, 2, "Accepted", 1).await;
    let monitors = get(&operator, "monitoring/monitors").await;
    assert_eq!(ids(&monitors), vec![2], "{monitors}");
    assert_eq!(monitors[0]["component"], "EVSE");
    assert_eq!(monitors[0]["evseId"], 1);
    assert_eq!(monitors[0]["variable"], "AvailabilityState");
    assert_eq!(monitors[0]["type"], "Delta");
}

/// TC_N_03_CSMS: the Threshold monitor of ChargingStation.Power is shown.
#[tokio::test]
async fn tc_n_03_csms() {
    let (_csms, operator) = play("TC_N_03_CSMS").await;
    check_report(&operator, 1, "EmptyResultSet", 0).await;
    check_report(&operator, 2, "Accepted", 1).await;
    let monitors = get(&operator, "monitoring/monitors").await;
    assert_eq!(ids(&monitors), vec![1], "{monitors}");
    assert_eq!(monitors[0]["variable"], "Power");
}

/// The logged commands of `action`, oldest first.
async fn commands(csms: &TestCsms, action: &str) -> Vec<unicharge_store::CommandRecord> {
    let mut c: Vec<_> = csms
        .server
        .store
        .commands(&StationId::new(CP).unwrap(), 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.action == action)
        .collect();
    c.reverse();
    c
}

/// TC_N_05_CSMS: three SetMonitoringBase, in order, each answered.
#[tokio::test]
async fn tc_n_05_csms() {
    let (csms, _operator) = play("TC_N_05_CSMS").await;
    let sent: Vec<String> = commands(&csms, "SetMonitoringBase")
        .await
        .iter()
        .map(|c| {
            assert_eq!(c.outcome, "result");
            serde_json::from_str::<Value>(&c.request).unwrap()["monitoringBase"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(sent, ["All", "FactoryDefault", "HardWiredOnly"]);
}

/// TC_N_16_CSMS: severity 4 Accepted; the API refuses an out-of-range severity before
/// anything is sent.
#[tokio::test]
async fn tc_n_16_csms() {
    let (csms, operator) = play("TC_N_16_CSMS").await;
    let err = operator
        .post(
            &format!("/stations/{CP}/monitoring/level"),
            serde_json::json!({"severity": 10}),
        )
        .await
        .unwrap_err();
    assert!(err.contains("severity_out_of_range"), "{err}");
    assert_eq!(commands(&csms, "SetMonitoringLevel").await.len(), 1);
}

/// TC_N_17_CSMS: the station's Rejected reaches the operator (checked by the scenario).
#[tokio::test]
async fn tc_n_17_csms() {
    let (csms, _operator) = play("TC_N_17_CSMS").await;
    let c = commands(&csms, "SetMonitoringLevel").await;
    assert!(c[0].response.as_deref().unwrap().contains("Rejected"));
}

/// The alerts as the API shows them, newest first.
async fn alerts(operator: &RestOperator) -> Vec<Value> {
    get(operator, "alerts").await.as_array().unwrap().clone()
}

/// TC_N_20_CSMS: the hard-wired alert is shown with the monitor id that fired.
#[tokio::test]
async fn tc_n_20_csms() {
    let (_csms, operator) = play("TC_N_20_CSMS").await;
    let a = alerts(&operator).await;
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0]["eventNotificationType"], "HardWiredMonitor");
    assert_eq!(a[0]["trigger"], "Alerting");
    assert_eq!(a[0]["actualValue"], "23500");
    assert_eq!(a[0]["monitorId"], 1);
    assert_eq!(a[0]["event"]["techCode"], "OverPower");
}

/// An alert of a monitor the CSMS knows (reported in TC_N_47 first) is shown with the
/// monitor and its severity.
#[tokio::test]
async fn alert_shows_the_monitor_and_its_severity() {
    let (csms, operator) = play("TC_N_47_CSMS").await;
    run(&csms, &operator, "TC_N_20_CSMS").await;
    let a = alerts(&operator).await;
    assert_eq!(a[0]["monitorId"], 1);
    assert_eq!(a[0]["severity"], 4, "{:?}", a[0]);
    assert_eq!(a[0]["monitor"]["type"], "UpperThreshold");
}

/// TC_N_24_CSMS: three periodic events kept.
#[tokio::test]
async fn tc_n_24_csms() {
    let (_csms, operator) = play("TC_N_24_CSMS").await;
    let a = alerts(&operator).await;
    assert_eq!(a.len(), 3, "{a:?}");
    assert!(a.iter().all(|e| e["trigger"] == "Periodic"));
}

/// A log request: answer, statuses in order, complete.
async fn check_log(
    operator: &RestOperator,
    request_id: i64,
    answer: &str,
    expected: &[&str],
    log_type: &str,
) {
    let l = get(operator, &format!("logs/{request_id}")).await;
    assert_eq!(l["answer"], answer, "{l}");
    assert_eq!(statuses(&l), expected, "{l}");
    assert_eq!(l["complete"], true, "{l}");
    assert_eq!(l["request"]["logType"], log_type);
    assert_eq!(l["request"]["log"]["remoteLocation"], LOG_LOCATION);
}

/// TC_N_25_CSMS: Uploading then Uploaded tracked under the requestId.
#[tokio::test]
async fn tc_n_25_csms() {
    let (_csms, operator) = play("TC_N_25_CSMS").await;
    check_log(
        &operator,
        1,
        "Accepted",
        &["Uploading", "Uploaded"],
        "DiagnosticsLog",
    )
    .await;
}

/// TC_N_35_CSMS: the security log likewise.
#[tokio::test]
async fn tc_n_35_csms() {
    let (_csms, operator) = play("TC_N_35_CSMS").await;
    check_log(
        &operator,
        1,
        "Accepted",
        &["Uploading", "Uploaded"],
        "SecurityLog",
    )
    .await;
}

/// TC_N_34_CSMS: Rejected ends the request.
#[tokio::test]
async fn tc_n_34_csms() {
    let (_csms, operator) = play("TC_N_34_CSMS").await;
    check_log(&operator, 1, "Rejected", &[], "DiagnosticsLog").await;
}

/// TC_N_36_CSMS: the first upload ends AcceptedCanceled, the second completes.
#[tokio::test]
async fn tc_n_36_csms() {
    let (_csms, operator) = play("TC_N_36_CSMS").await;
    check_log(
        &operator,
        1,
        "Accepted",
        &["Uploading", "AcceptedCanceled"],
        "DiagnosticsLog",
    )
    .await;
    check_log(
        &operator,
        2,
        "AcceptedCanceled",
        &["Uploading", "Uploaded"],
        "DiagnosticsLog",
    )
    .await;
    let list = get(&operator, "logs").await;
    assert_eq!(list["requests"].as_array().unwrap().len(), 2);
}

/// A customer-information request: answer, complete, the data reported.
async fn check_customer(operator: &RestOperator, answer: &str, data: Option<&str>) -> Value {
    let c = get(operator, "customer-information/1").await;
    assert_eq!(c["answer"], answer, "{c}");
    assert_eq!(c["complete"], true, "{c}");
    let parts = c["parts"].as_array().cloned().unwrap_or_default();
    match data {
        Some(d) => {
            assert_eq!(parts.len(), 1, "{c}");
            assert_eq!(parts[0]["message"]["data"], d, "{c}");
        }
        None => assert!(parts.is_empty(), "{c}"),
    }
    c
}

/// TC_N_27_CSMS: the data reported is assembled under the requestId.
#[tokio::test]
async fn tc_n_27_csms() {
    let (_csms, operator) = play("TC_N_27_CSMS").await;
    let c = check_customer(&operator, "Accepted", Some(CUSTOMER_DATA)).await;
    assert_eq!(c["request"]["idToken"]["idToken"], "OCTT-VALID-001");
}

/// TC_N_28_CSMS: an empty report completes the request.
#[tokio::test]
async fn tc_n_28_csms() {
    let (_csms, operator) = play("TC_N_28_CSMS").await;
    check_customer(&operator, "Accepted", Some("")).await;
}

/// TC_N_29_CSMS: Rejected ends the request, nothing reported.
#[tokio::test]
async fn tc_n_29_csms() {
    let (_csms, operator) = play("TC_N_29_CSMS").await;
    check_customer(&operator, "Rejected", None).await;
}

/// TC_N_62_CSMS: report and clear by customerIdentifier.
#[tokio::test]
async fn tc_n_62_csms() {
    let (_csms, operator) = play("TC_N_62_CSMS").await;
    let c = check_customer(&operator, "Accepted", Some(CUSTOMER_DATA)).await;
    assert_eq!(c["request"]["clear"], true);
    assert_eq!(c["request"]["customerIdentifier"], CUSTOMER_IDENTIFIER);
}

/// TC_N_44_CSMS: a Rejected clear leaves the monitor the CSMS knows in place.
#[tokio::test]
async fn tc_n_44_csms() {
    let (csms, operator) = play("TC_N_47_CSMS").await;
    run(&csms, &operator, "TC_N_44_CSMS").await;
    let monitors = get(&operator, "monitoring/monitors").await;
    assert_eq!(ids(&monitors), vec![1, 2, 3], "{monitors}");
}

/// TC_N_47_CSMS: a report in two parts, complete only with the second; every monitor shown.
#[tokio::test]
async fn tc_n_47_csms() {
    let (_csms, operator) = play("TC_N_47_CSMS").await;
    check_report(&operator, 1, "Accepted", 2).await;
    let r = get(&operator, "monitoring/reports/1").await;
    assert_eq!(r["parts"][0]["tbc"], true);
    assert_eq!(r["parts"][1]["tbc"], false);
    assert!(r["request"].get("monitoringCriteria").is_none(), "{r}");
    let monitors = get(&operator, "monitoring/monitors").await;
    assert_eq!(ids(&monitors), vec![1, 2, 3], "{monitors}");
}

/// TC_N_48_CSMS: an alert without a value (write-only variable) is kept.
#[tokio::test]
async fn tc_n_48_csms() {
    let (_csms, operator) = play("TC_N_48_CSMS").await;
    let a = alerts(&operator).await;
    assert_eq!(a[0]["actualValue"], "");
    assert_eq!(a[0]["variable"], "BasicAuthPassword");
}

/// TC_N_49_CSMS: a cleared alert is shown as cleared.
#[tokio::test]
async fn tc_n_49_csms() {
    let (_csms, operator) = play("TC_N_49_CSMS").await;
    let a = alerts(&operator).await;
    assert_eq!(a[0]["cleared"], true);
}

/// TC_N_50_CSMS: a periodic event is shown.
#[tokio::test]
async fn tc_n_50_csms() {
    let (_csms, operator) = play("TC_N_50_CSMS").await;
    let a = alerts(&operator).await;
    assert_eq!(a[0]["trigger"], "Periodic");
    assert_eq!(a[0]["monitorId"], 3);
}
