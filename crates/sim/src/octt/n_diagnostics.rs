//! Block N, Diagnostics: TC_N_01–TC_N_62 as the OCTT plays them.
//!
//! The operator makes the CSMS act ([`OperatorAction::GetLog`],
//! [`OperatorAction::GetMonitoringReport`], [`OperatorAction::SetMonitoringBase`],
//! [`OperatorAction::SetMonitoringLevel`], [`OperatorAction::ClearVariableMonitoring`],
//! [`OperatorAction::CustomerInformation`]); the station answers as the table says, sends what
//! follows under the received requestId, and checks the table's tool validations.
//!
//! Readings taken:
//!
//! * TC_N_01–03's memory state ("CSMS requests ClearVariableMonitoring ItemsPerMessage from
//!   CS") is a preparation of the CSMS, not a step: nothing is expected for it.
//! * TC_N_02 step 3's validation names `componentVariable[1]`; the second request is a request
//!   of its own whose only (first) entry is EVSE #1 AvailabilityState, so `componentVariable[0]`
//!   is checked (a misprint).
//! * TC_N_05 numbers the FactoryDefault / HardWiredOnly validations steps 3 and 6 and says the
//!   OCTT sends them: the CSMS sends all three requests; the station answers Accepted.
//! * The monitors reported (TC_N_01/02/03/47) are [`reported_monitors`]' — the post-scenario
//!   validations ("CSMS shows the Threshold monitors") are the caller's to check through the
//!   operator, as the case table leaves them to the tester.
//! * "NotifyEventResponse with empty body" (TC_N_20/24): the answer's payload must be `{}`.
//! * TC_N_24's *n*: three periodic events, seqNo 0, 1, 2.
//! * TC_N_44: the operator clears monitor id [`CLEARED_MONITOR_ID`].
//! * The upload location of GetLog is the operator's ([`LOG_LOCATION`]).
//! * The operator must be told the requestId the station was sent for every request that has
//!   one.

use std::sync::Arc;

use chrono::Utc;
use serde_json::{json, Value};
use unicharge_ocpp::v201::{
    ClearMonitoringResultType, ClearMonitoringStatusEnumType, ClearVariableMonitoringRequest,
    ClearVariableMonitoringResponse, CustomerInformationRequest, CustomerInformationResponse,
    CustomerInformationStatusEnumType, GenericDeviceModelStatusEnumType, GenericStatusEnumType,
    GetLogRequest, GetLogResponse, GetMonitoringReportRequest, GetMonitoringReportResponse,
    LogEnumType, LogStatusEnumType, LogStatusNotificationRequest, MonitoringBaseEnumType,
    MonitoringCriterionEnumType, NotifyCustomerInformationRequest, NotifyMonitoringReportRequest,
    SetMonitoringBaseRequest, SetMonitoringBaseResponse, SetMonitoringLevelRequest,
    SetMonitoringLevelResponse, UploadLogStatusEnumType,
};

use super::operator::{Operator, OperatorAction};
use super::{with_operator, CaseError, OperatorTask, ScenarioFuture, Target};
use crate::ensure;
use crate::station::Station;

/// Where the operator has logs uploaded.
pub const LOG_LOCATION: &str = "https://logs.octt.invalid/upload";
/// The monitor TC_N_44 clears.
pub const CLEARED_MONITOR_ID: i64 = 1;
/// <Configured valid_idtoken_idtoken> / <Configured valid_idtoken_type>.
pub const VALID_ID_TOKEN: (&str, &str) = ("OCTT-VALID-001", "ISO14443");
/// The customerIdentifier of TC_N_62.
pub const CUSTOMER_IDENTIFIER: &str = "OpenChargeAlliance";
/// What the station reports about the customer (TC_N_27, TC_N_62).
pub const CUSTOMER_DATA: &str = "idToken OCTT-VALID-001: 3 transactions, last 2024-01-01";

pub(crate) fn scenario<'a>(
    id: &str,
    target: &'a Target,
    op: Option<Arc<dyn Operator>>,
) -> Option<ScenarioFuture<'a>> {
    Some(match id {
        "TC_N_01_CSMS" => with_operator(op, move |op| tc_n_01(target, op)),
        "TC_N_02_CSMS" => with_operator(op, move |op| tc_n_02(target, op)),
        "TC_N_03_CSMS" => with_operator(op, move |op| tc_n_03(target, op)),
        "TC_N_05_CSMS" => with_operator(op, move |op| tc_n_05(target, op)),
        "TC_N_16_CSMS" => with_operator(op, move |op| {
            monitoring_level(target, op, GenericStatusEnumType::Accepted)
        }),
        "TC_N_17_CSMS" => with_operator(op, move |op| {
            monitoring_level(target, op, GenericStatusEnumType::Rejected)
        }),
        "TC_N_20_CSMS" => Box::pin(events(target, "TC_N_20", vec![hard_wired_alert()])),
        "TC_N_24_CSMS" => Box::pin(periodic(target)),
        "TC_N_25_CSMS" => with_operator(op, move |op| {
            log_success(target, op, LogEnumType::DiagnosticsLog)
        }),
        "TC_N_27_CSMS" => with_operator(op, move |op| {
            customer(
                target,
                op,
                CustomerInformationStatusEnumType::Accepted,
                Some(CUSTOMER_DATA),
            )
        }),
        "TC_N_28_CSMS" => with_operator(op, move |op| {
            customer(
                target,
                op,
                CustomerInformationStatusEnumType::Accepted,
                Some(""),
            )
        }),
        "TC_N_29_CSMS" => with_operator(op, move |op| {
            customer(
                target,
                op,
                CustomerInformationStatusEnumType::Rejected,
                None,
            )
        }),
        "TC_N_62_CSMS" => with_operator(op, move |op| tc_n_62(target, op)),
        "TC_N_34_CSMS" => with_operator(op, move |op| tc_n_34(target, op)),
        "TC_N_35_CSMS" => with_operator(op, move |op| {
            log_success(target, op, LogEnumType::SecurityLog)
        }),
        "TC_N_36_CSMS" => with_operator(op, move |op| tc_n_36(target, op)),
        "TC_N_44_CSMS" => with_operator(op, move |op| tc_n_44(target, op)),
        "TC_N_47_CSMS" => with_operator(op, move |op| tc_n_47(target, op)),
        "TC_N_48_CSMS" => Box::pin(events(target, "TC_N_48", vec![write_only_alert()])),
        "TC_N_49_CSMS" => Box::pin(events(target, "TC_N_49", vec![cleared_alert()])),
        "TC_N_50_CSMS" => Box::pin(events(target, "TC_N_50", vec![periodic_event(0)])),
        _ => return None,
    })
}

async fn booted(target: &Target) -> Result<Station, CaseError> {
    let mut station = target.connect().await?;
    super::states::booted(&mut station, target).await?;
    Ok(station)
}

fn check_request_id(report: &Value, request_id: i64) -> Result<(), CaseError> {
    ensure!(
        report.get("requestId") == Some(&json!(request_id)),
        "the operator must be told the requestId the station was sent ({request_id}): {report}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// N02 Get monitoring report
// ---------------------------------------------------------------------------------------------

/// The monitors the station reports: an UpperThreshold on ChargingStation.Power (id 1), a
/// Delta on EVSE #1's AvailabilityState (id 2) and a Periodic on ChargingStation.Power (id 3).
pub fn reported_monitors(target: &Target) -> Vec<Value> {
    vec![
        json!({
            "component": {"name": "ChargingStation"},
            "variable": {"name": "Power"},
            "variableMonitoring": [
                {"id": 1, "transaction": false, "value": 22000.0, "type": "UpperThreshold", "severity": 4},
            ],
        }),
        json!({
            "component": {"name": "EVSE", "evse": {"id": target.evse_id}},
            "variable": {"name": "AvailabilityState"},
            "variableMonitoring": [
                {"id": 2, "transaction": false, "value": 1.0, "type": "Delta", "severity": 5},
            ],
        }),
        json!({
            "component": {"name": "ChargingStation"},
            "variable": {"name": "Power"},
            "variableMonitoring": [
                {"id": 3, "transaction": false, "value": 60.0, "type": "Periodic", "severity": 8},
            ],
        }),
    ]
}

/// One monitoring report request: the operator asks (`criteria`, `component_variable`), the
/// station answers `status` and, if Accepted, reports `parts` (each a list of
/// MonitoringDataType), all but the last with tbc true. Returns the request.
async fn monitoring_report(
    station: &mut Station,
    target: &Target,
    op: &Arc<dyn Operator>,
    criteria: &[&str],
    component_variable: Option<Value>,
    status: GenericDeviceModelStatusEnumType,
    parts: &[Vec<Value>],
) -> Result<GetMonitoringReportRequest, CaseError> {
    let mut task = OperatorTask::start(
        op,
        target,
        OperatorAction::GetMonitoringReport {
            monitoring_criteria: criteria.iter().map(|c| c.to_string()).collect(),
            component_variable,
        },
        "have the CSMS send GetMonitoringReportRequest",
    );
    let (id, request) = task
        .expect_call::<GetMonitoringReportRequest>(station)
        .await?;
    station
        .respond::<GetMonitoringReportRequest>(
            &id,
            &GetMonitoringReportResponse {
                custom_data: None,
                status,
                status_info: None,
            },
        )
        .await?;
    if status == GenericDeviceModelStatusEnumType::Accepted {
        for (i, monitors) in parts.iter().enumerate() {
            let part: NotifyMonitoringReportRequest = serde_json::from_value(json!({
                "requestId": request.request_id,
                "tbc": i + 1 < parts.len(),
                "seqNo": i,
                "generatedAt": Utc::now(),
                "monitor": monitors,
            }))
            .map_err(|e| CaseError::Fail(format!("a reported monitor: {e}")))?;
            station.call(&part).await?;
        }
    }
    let report = task.finish(target.timeout).await?;
    check_request_id(&report, request.request_id)?;
    Ok(request)
}

fn criteria_of(request: &GetMonitoringReportRequest) -> Vec<MonitoringCriterionEnumType> {
    request.monitoring_criteria.clone().unwrap_or_default()
}

fn check_criteria(
    step: u32,
    request: &GetMonitoringReportRequest,
    expected: MonitoringCriterionEnumType,
) -> Result<(), CaseError> {
    ensure!(
        criteria_of(request) == vec![expected],
        "step {step}: GetMonitoringReportRequest.monitoringCriteria must be {}, was {:?}",
        expected.as_str(),
        request.monitoring_criteria
    );
    Ok(())
}

/// componentVariable[0] must name `component` (on `evse`, if given) and `variable`.
fn check_component_variable(
    step: u32,
    request: &GetMonitoringReportRequest,
    component: &str,
    evse: Option<i64>,
    variable: &str,
) -> Result<(), CaseError> {
    let cv = request.component_variable.as_deref().unwrap_or_default();
    let first = cv.first().ok_or_else(|| {
        CaseError::Fail(format!(
            "step {step}: GetMonitoringReportRequest.componentVariable is missing"
        ))
    })?;
    ensure!(
        first.component.name == component
            && first.component.evse.as_ref().map(|e| e.id) == evse
            && first.variable.as_ref().map(|v| v.name.as_str()) == Some(variable),
        "step {step}: componentVariable[0] must be {component} (evse {evse:?}) / {variable}, \
         was {}",
        serde_json::to_string(first).unwrap_or_default()
    );
    Ok(())
}

fn cv(component: &str, evse: Option<i64>, variable: &str) -> Value {
    let mut c = json!({"name": component});
    if let Some(id) = evse {
        c["evse"] = json!({ "id": id });
    }
    json!([{ "component": c, "variable": {"name": variable} }])
}

/// TC_N_01_CSMS Get Monitoring Report - with component criteria.
pub async fn tc_n_01(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    use MonitoringCriterionEnumType as C;
    let mut station = booted(target).await?;
    let monitors = reported_monitors(target);
    let first = monitoring_report(
        &mut station,
        target,
        &op,
        &["DeltaMonitoring"],
        None,
        GenericDeviceModelStatusEnumType::EmptyResultSet,
        &[],
    )
    .await?;
    check_criteria(1, &first, C::DeltaMonitoring)?;
    let second = monitoring_report(
        &mut station,
        target,
        &op,
        &["ThresholdMonitoring"],
        None,
        GenericDeviceModelStatusEnumType::Accepted,
        &[vec![monitors[0].clone()]],
    )
    .await?;
    check_criteria(3, &second, C::ThresholdMonitoring)?;
    station.close().await;
    Ok(())
}

/// TC_N_02_CSMS Get Monitoring Report - with component/variable.
pub async fn tc_n_02(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let monitors = reported_monitors(target);
    let first = monitoring_report(
        &mut station,
        target,
        &op,
        &[],
        Some(cv("ChargingStation", None, "Power")),
        GenericDeviceModelStatusEnumType::EmptyResultSet,
        &[],
    )
    .await?;
    check_component_variable(1, &first, "ChargingStation", None, "Power")?;
    let second = monitoring_report(
        &mut station,
        target,
        &op,
        &[],
        Some(cv("EVSE", Some(1), "AvailabilityState")),
        GenericDeviceModelStatusEnumType::Accepted,
        &[vec![monitors[1].clone()]],
    )
    .await?;
    check_component_variable(3, &second, "EVSE", Some(1), "AvailabilityState")?;
    station.close().await;
    Ok(())
}

/// TC_N_03_CSMS Get Monitoring Report - with component criteria and component/variable.
pub async fn tc_n_03(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    use MonitoringCriterionEnumType as C;
    let mut station = booted(target).await?;
    let monitors = reported_monitors(target);
    let first = monitoring_report(
        &mut station,
        target,
        &op,
        &["DeltaMonitoring"],
        Some(cv("EVSE", Some(target.evse_id), "AvailabilityState")),
        GenericDeviceModelStatusEnumType::EmptyResultSet,
        &[],
    )
    .await?;
    check_criteria(1, &first, C::DeltaMonitoring)?;
    check_component_variable(1, &first, "EVSE", Some(target.evse_id), "AvailabilityState")?;
    let second = monitoring_report(
        &mut station,
        target,
        &op,
        &["ThresholdMonitoring"],
        Some(cv("ChargingStation", None, "Power")),
        GenericDeviceModelStatusEnumType::Accepted,
        &[vec![monitors[0].clone()]],
    )
    .await?;
    check_criteria(3, &second, C::ThresholdMonitoring)?;
    check_component_variable(3, &second, "ChargingStation", None, "Power")?;
    station.close().await;
    Ok(())
}

/// TC_N_47_CSMS Get Monitoring report - Report all: no criteria, no componentVariable; the
/// report comes in two parts (tbc true, then false).
pub async fn tc_n_47(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let monitors = reported_monitors(target);
    let request = monitoring_report(
        &mut station,
        target,
        &op,
        &[],
        None,
        GenericDeviceModelStatusEnumType::Accepted,
        &[monitors[..2].to_vec(), monitors[2..].to_vec()],
    )
    .await?;
    ensure!(
        request.monitoring_criteria.is_none() && request.component_variable.is_none(),
        "step 1: monitoringCriteria and componentVariable must be omitted, were {:?} / {:?}",
        request.monitoring_criteria,
        request.component_variable
    );
    station.close().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// N03 / N05 / N06 monitoring base, level, clear
// ---------------------------------------------------------------------------------------------

/// TC_N_05_CSMS Set Monitoring Base – success: All, FactoryDefault, HardWiredOnly.
pub async fn tc_n_05(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    use MonitoringBaseEnumType as B;
    let mut station = booted(target).await?;
    for (step, base) in [(1, B::All), (3, B::FactoryDefault), (5, B::HardWiredOnly)] {
        let mut task = OperatorTask::start(
            &op,
            target,
            OperatorAction::SetMonitoringBase {
                monitoring_base: base.as_str().into(),
            },
            "have the CSMS send SetMonitoringBaseRequest",
        );
        let (id, request) = task
            .expect_call::<SetMonitoringBaseRequest>(&mut station)
            .await?;
        ensure!(
            request.monitoring_base == base,
            "step {step}: SetMonitoringBaseRequest.monitoringBase must be {}, was {}",
            base.as_str(),
            request.monitoring_base.as_str()
        );
        station
            .respond::<SetMonitoringBaseRequest>(
                &id,
                &SetMonitoringBaseResponse {
                    custom_data: None,
                    status: GenericDeviceModelStatusEnumType::Accepted,
                    status_info: None,
                },
            )
            .await?;
        task.finish(target.timeout).await?;
    }
    station.close().await;
    Ok(())
}

/// TC_N_16/17_CSMS Set Monitoring Level: severity 4, answered `status`.
pub async fn monitoring_level(
    target: &Target,
    op: Arc<dyn Operator>,
    status: GenericStatusEnumType,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let mut task = OperatorTask::start(
        &op,
        target,
        OperatorAction::SetMonitoringLevel { severity: 4 },
        "have the CSMS send SetMonitoringLevelRequest",
    );
    let (id, request) = task
        .expect_call::<SetMonitoringLevelRequest>(&mut station)
        .await?;
    ensure!(
        request.severity == 4,
        "step 1: SetMonitoringLevelRequest.severity must be 4, was {}",
        request.severity
    );
    station
        .respond::<SetMonitoringLevelRequest>(
            &id,
            &SetMonitoringLevelResponse {
                custom_data: None,
                status,
                status_info: None,
            },
        )
        .await?;
    let report = task.finish(target.timeout).await?;
    ensure!(
        report.get("status") == Some(&json!(status.as_str())),
        "the operator must be told the station's answer {}: {report}",
        status.as_str()
    );
    station.close().await;
    Ok(())
}

/// TC_N_44_CSMS Clear / Remove Monitoring - Rejected.
pub async fn tc_n_44(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let mut task = OperatorTask::start(
        &op,
        target,
        OperatorAction::ClearVariableMonitoring {
            ids: vec![CLEARED_MONITOR_ID],
        },
        "have the CSMS send ClearVariableMonitoringRequest",
    );
    let (id, request) = task
        .expect_call::<ClearVariableMonitoringRequest>(&mut station)
        .await?;
    ensure!(
        request.id == vec![CLEARED_MONITOR_ID],
        "ClearVariableMonitoringRequest.id must be [{CLEARED_MONITOR_ID}], was {:?}",
        request.id
    );
    station
        .respond::<ClearVariableMonitoringRequest>(
            &id,
            &ClearVariableMonitoringResponse {
                custom_data: None,
                clear_monitoring_result: vec![ClearMonitoringResultType {
                    custom_data: None,
                    status: ClearMonitoringStatusEnumType::Rejected,
                    id: CLEARED_MONITOR_ID,
                    status_info: None,
                }],
            },
        )
        .await?;
    task.finish(target.timeout).await?;
    station.close().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// N07 / N08 events
// ---------------------------------------------------------------------------------------------

fn event(trigger: &str, kind: &str, actual: &str, monitor: Option<i64>) -> Value {
    let mut e = json!({
        "eventId": 1,
        "timestamp": Utc::now(),
        "trigger": trigger,
        "actualValue": actual,
        "component": {"name": "ChargingStation"},
        "variable": {"name": "Power"},
        "eventNotificationType": kind,
    });
    if let Some(id) = monitor {
        e["variableMonitoringId"] = json!(id);
    }
    e
}

/// TC_N_20: a hard-wired monitor alert (ChargingStation.Power over its threshold).
pub fn hard_wired_alert() -> Value {
    let mut e = event("Alerting", "HardWiredMonitor", "23500", Some(1));
    e["techCode"] = json!("OverPower");
    e
}

/// TC_N_48: a monitor on a write-only variable: the value is not reported.
pub fn write_only_alert() -> Value {
    let mut e = event("Alerting", "CustomMonitor", "", Some(4));
    e["variable"] = json!({"name": "BasicAuthPassword"});
    e["component"] = json!({"name": "SecurityCtrlr"});
    e
}

/// TC_N_49: an UpperThreshold alert cleared (after a reboot the value is below it again).
pub fn cleared_alert() -> Value {
    let mut e = event("Alerting", "CustomMonitor", "11000", Some(1));
    e["cleared"] = json!(true);
    e
}

/// TC_N_24/50: a periodic report of ChargingStation.Power.
pub fn periodic_event(event_id: i64) -> Value {
    let mut e = event("Periodic", "CustomMonitor", "7400", Some(3));
    e["eventId"] = json!(event_id + 1);
    e
}

/// Send each event in its own NotifyEventRequest (seqNo 0, 1, …); every answer must be the
/// empty NotifyEventResponse `{}`.
async fn send_events(station: &mut Station, events: &[Value]) -> Result<(), CaseError> {
    for (seq, e) in events.iter().enumerate() {
        let answer = station
            .call_raw(
                "NotifyEvent",
                json!({"generatedAt": Utc::now(), "seqNo": seq, "eventData": [e]}),
            )
            .await?;
        ensure!(
            answer == json!({}),
            "step 2: NotifyEventResponse must have an empty body, was {answer}"
        );
    }
    Ok(())
}

/// TC_N_20/48/49/50: boot, send the events, each answered with an empty NotifyEventResponse.
pub async fn events(target: &Target, _case: &str, events: Vec<Value>) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    send_events(&mut station, &events).await?;
    station.close().await;
    Ok(())
}

/// TC_N_24_CSMS Periodic events: three periodic NotifyEvents.
pub async fn periodic(target: &Target) -> Result<(), CaseError> {
    let evs: Vec<Value> = (0..3).map(periodic_event).collect();
    events(target, "TC_N_24", evs).await
}

// ---------------------------------------------------------------------------------------------
// N01 logs
// ---------------------------------------------------------------------------------------------

/// The operator asks for `log_type`; the station answers `status`. Returns the request.
async fn get_log(
    station: &mut Station,
    target: &Target,
    op: &Arc<dyn Operator>,
    log_type: LogEnumType,
    status: LogStatusEnumType,
) -> Result<GetLogRequest, CaseError> {
    let mut task = OperatorTask::start(
        op,
        target,
        OperatorAction::GetLog {
            log_type: log_type.as_str().into(),
            remote_location: Some(LOG_LOCATION.into()),
        },
        "have the CSMS send GetLogRequest",
    );
    let (id, request) = task.expect_call::<GetLogRequest>(station).await?;
    ensure!(
        request.log_type == log_type,
        "step 1: GetLogRequest.logType must be {}, was {}",
        log_type.as_str(),
        request.log_type.as_str()
    );
    station
        .respond::<GetLogRequest>(
            &id,
            &GetLogResponse {
                custom_data: None,
                status,
                status_info: None,
                filename: (status != LogStatusEnumType::Rejected)
                    .then(|| format!("{}-{}.log", log_type.as_str(), request.request_id)),
            },
        )
        .await?;
    let report = task.finish(target.timeout).await?;
    check_request_id(&report, request.request_id)?;
    Ok(request)
}

async fn log_status(
    station: &mut Station,
    request_id: i64,
    statuses: &[UploadLogStatusEnumType],
) -> Result<(), CaseError> {
    for status in statuses {
        station
            .call(&LogStatusNotificationRequest {
                custom_data: None,
                status: *status,
                request_id: Some(request_id),
            })
            .await?;
    }
    Ok(())
}

/// TC_N_25/35_CSMS Retrieve Log Information - Success.
pub async fn log_success(
    target: &Target,
    op: Arc<dyn Operator>,
    log_type: LogEnumType,
) -> Result<(), CaseError> {
    use UploadLogStatusEnumType as U;
    let mut station = booted(target).await?;
    let request = get_log(
        &mut station,
        target,
        &op,
        log_type,
        LogStatusEnumType::Accepted,
    )
    .await?;
    log_status(
        &mut station,
        request.request_id,
        &[U::Uploading, U::Uploaded],
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_N_34_CSMS Retrieve Log Information - Rejected.
pub async fn tc_n_34(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    get_log(
        &mut station,
        target,
        &op,
        LogEnumType::DiagnosticsLog,
        LogStatusEnumType::Rejected,
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_N_36_CSMS Retrieve Log Information - Second Request.
pub async fn tc_n_36(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    use UploadLogStatusEnumType as U;
    let mut station = booted(target).await?;
    let first = get_log(
        &mut station,
        target,
        &op,
        LogEnumType::DiagnosticsLog,
        LogStatusEnumType::Accepted,
    )
    .await?;
    log_status(&mut station, first.request_id, &[U::Uploading]).await?;
    let second = get_log(
        &mut station,
        target,
        &op,
        LogEnumType::DiagnosticsLog,
        LogStatusEnumType::AcceptedCanceled,
    )
    .await?;
    ensure!(
        second.request_id != first.request_id,
        "step 5: the second GetLogRequest must carry a new requestId, both had {}",
        first.request_id
    );
    log_status(&mut station, first.request_id, &[U::AcceptedCanceled]).await?;
    log_status(
        &mut station,
        second.request_id,
        &[U::Uploading, U::Uploaded],
    )
    .await?;
    station.close().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// N09 / N10 customer information
// ---------------------------------------------------------------------------------------------

/// The operator asks about a customer (`action`); the station answers `status` and, with
/// `data`, reports it in one NotifyCustomerInformation. Returns the request.
async fn customer_request(
    station: &mut Station,
    target: &Target,
    op: &Arc<dyn Operator>,
    action: OperatorAction,
    status: CustomerInformationStatusEnumType,
    data: Option<&str>,
) -> Result<CustomerInformationRequest, CaseError> {
    let mut task = OperatorTask::start(
        op,
        target,
        action,
        "have the CSMS send CustomerInformationRequest",
    );
    let (id, request) = task
        .expect_call::<CustomerInformationRequest>(station)
        .await?;
    station
        .respond::<CustomerInformationRequest>(
            &id,
            &CustomerInformationResponse {
                custom_data: None,
                status,
                status_info: None,
            },
        )
        .await?;
    if let Some(data) = data {
        station
            .call(&NotifyCustomerInformationRequest {
                custom_data: None,
                data: data.into(),
                tbc: None,
                seq_no: 0,
                generated_at: Utc::now(),
                request_id: request.request_id,
            })
            .await?;
    }
    let report = task.finish(target.timeout).await?;
    check_request_id(&report, request.request_id)?;
    Ok(request)
}

/// TC_N_27/28/29_CSMS Get Customer Information by the configured valid idToken.
pub async fn customer(
    target: &Target,
    op: Arc<dyn Operator>,
    status: CustomerInformationStatusEnumType,
    data: Option<&str>,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let request = customer_request(
        &mut station,
        target,
        &op,
        OperatorAction::CustomerInformation {
            report: true,
            clear: false,
            id_token: Some((VALID_ID_TOKEN.0.into(), VALID_ID_TOKEN.1.into())),
            customer_identifier: None,
            customer_certificate: None,
        },
        status,
        data,
    )
    .await?;
    let token = request.id_token.as_ref();
    ensure!(
        request.report
            && token.map(|t| t.id_token.as_str()) == Some(VALID_ID_TOKEN.0)
            && token.map(|t| t.r#type.as_str()) == Some(VALID_ID_TOKEN.1),
        "step 1: CustomerInformationRequest must have report true and idToken {} / {}, was \
         report {} idToken {:?}",
        VALID_ID_TOKEN.0,
        VALID_ID_TOKEN.1,
        request.report,
        token.map(|t| (&t.id_token, t.r#type.as_str()))
    );
    station.close().await;
    Ok(())
}

/// TC_N_62_CSMS Clear Customer Information - Clear and report - customerIdentifier.
pub async fn tc_n_62(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let request = customer_request(
        &mut station,
        target,
        &op,
        OperatorAction::CustomerInformation {
            report: true,
            clear: true,
            id_token: None,
            customer_identifier: Some(CUSTOMER_IDENTIFIER.into()),
            customer_certificate: None,
        },
        CustomerInformationStatusEnumType::Accepted,
        Some(CUSTOMER_DATA),
    )
    .await?;
    ensure!(
        request.report
            && request.clear
            && request.customer_identifier.as_deref() == Some(CUSTOMER_IDENTIFIER),
        "step 1: CustomerInformationRequest must have report true, clear true and \
         customerIdentifier {CUSTOMER_IDENTIFIER:?}, was report {} clear {} customerIdentifier \
         {:?}",
        request.report,
        request.clear,
        request.customer_identifier
    );
    station.close().await;
    Ok(())
}
