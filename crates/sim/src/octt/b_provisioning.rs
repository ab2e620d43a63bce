//! Block B, Provisioning: boot (TC_B_01), reading and writing variables (TC_B_06/07/09/10),
//! reports (TC_B_12/13/14/18), resets without a transaction (TC_B_20/25) and during one
//! (TC_B_21/22/26/27), and network connection profiles (TC_B_42/44).
//!
//! Readings taken where the draft is terse:
//!
//! * "Manually validate that CSMS has correctly read / set the requested variables" (B_06, B_07,
//!   B_09, B_10) is checked on the operator's report: it must show, for each variable, the value
//!   the OCTT answered (read) or the status it answered (set). Any JSON that names the component
//!   and variable next to the value does (see [`super::reports_value`]).
//! * "CSMS receives all NotifyReportRequest messages … and is able to show the result" (B_12–14)
//!   happens after the operator's request has returned, so the scenario sends the report (in two
//!   parts, `tbc` true then absent) and the CSMS must answer each part; what the CSMS assembled is
//!   for the operator to look at afterwards (unicharge's conformance tests read it back through
//!   the API and compare it with [`inventory`]).
//! * B_06/B_07 "in arbitrary order": every requested component/variable must be asked for, and
//!   nothing else; an attributeType must be absent or Actual, Target, MinSet or MaxSet (which is
//!   every value the schema allows, so only the schema check can fail it).
//! * B_18 validates `componentCriteria` = Problem / Available: the list must be exactly that one
//!   criterion. `evse.id` is 1 as printed ("EVSE #1"), not the configured EVSE.
//! * B_20 reboots with BootNotification `reason` RemoteReset (what a station that was reset by
//!   the CSMS sends, B11.FR.04 with B01); the table only says "a BootNotificationRequest". The
//!   manual action asks for type OnIdle but only the reboot is validated, so any type is taken.
//! * B_44 has no tool validations: the operator must see the Failed status.
//! * B_07 / B_10 send "one" GetVariablesRequest / SetVariablesRequest with two items. A CSMS
//!   that respects the station's `DeviceDataCtrlr.ItemsPerMessage` / `BytesPerMessage`
//!   (B06.FR.05) and does not know them yet reads them first; the draft does not mention that
//!   read. The OCTT station answers such reads (GetVariablesRequests that ask for nothing but
//!   those two variables) with `OCTT_LIMITS` before the request the case is about, which must
//!   still carry both items in one message. A CSMS that had the station's base report (e.g. at
//!   first boot) knows the limits and reads nothing. Single-item B_06 / B_09 need no limits.
//! * B_21/22/26/27 print "ResetRequest with status OnIdle / Immediate" and "evseld": the
//!   ResetRequest's `type` and `evseId`. Only the tables' validations are checked, so a station
//!   reset (B_21/22) does not check that `evseId` is absent.
//! * B_21/22/26/27 start from "State is EnergyTransferStarted": the station boots (Booted) and
//!   plays EnergyTransferStarted on a fresh session, which authorizes the configured valid
//!   idToken first. The events that end the transaction are the tables' own, not the
//!   StopAuthorized / EVDisconnected states: B_21/26 step 3 is TransactionEvent Updated
//!   StopAuthorized with `chargingState` EVConnected and the idToken, without a wait and without
//!   validating its answer's `idTokenInfo`; step 5 is the Ended event without a
//!   StatusNotification before it. No step sends the configured connector's status before B_21's
//!   reboot.
//! * B_21 reboots with reason ScheduledReset and B_22 with RemoteReset, as printed. B_26/27 (an
//!   EVSE reset) end with the transaction: nothing reboots.
//! * B_22 step 7 "For <Other connector(s)>": the station has only the configured connector, so
//!   it reports that one Occupied (the EV is still plugged in) and nothing else.

use std::sync::Arc;

use chrono::Utc;
use rand::Rng;
use serde_json::json;
use unicharge_ocpp::v201::{
    AttributeEnumType, BootReasonEnumType, ChargingStateEnumType, ComponentCriterionEnumType,
    ComponentType, ConnectorStatusEnumType, DataEnumType, EvseType,
    GenericDeviceModelStatusEnumType, GetBaseReportRequest, GetBaseReportResponse,
    GetReportRequest, GetReportResponse, GetVariableResultType, GetVariableStatusEnumType,
    GetVariablesRequest, GetVariablesResponse, MutabilityEnumType, NotifyReportRequest,
    OcppTransportEnumType, OcppVersionEnumType, ReasonEnumType, RegistrationStatusEnumType,
    ReportBaseEnumType, ReportDataType, ResetEnumType, ResetRequest, ResetResponse,
    ResetStatusEnumType, SetNetworkProfileRequest, SetNetworkProfileResponse,
    SetNetworkProfileStatusEnumType, SetVariableResultType, SetVariableStatusEnumType,
    SetVariablesRequest, SetVariablesResponse, TriggerReasonEnumType, VariableAttributeType,
    VariableCharacteristicsType, VariableType,
};

use super::operator::{Operator, OperatorAction};
use super::states::{Session, TxState};
use super::{reports_field, reports_value, states, CaseError, OperatorTask, Target};
use crate::ensure;
use crate::station::{DeviceDataLimits, Station};

/// The message limits the simulated OCTT station declares when a CSMS reads them
/// (`DeviceDataCtrlr.ItemsPerMessage`, the value its FullInventory reports, and
/// `BytesPerMessage`): room for every multi-item request of B_07 / B_10 in one message.
const OCTT_LIMITS: DeviceDataLimits = DeviceDataLimits::GENEROUS;

/// TC_B_01_CSMS Cold Boot Charge Point - Accepted (B01.FR.02): execute Reusable State Booted.
pub async fn tc_b_01(target: &Target) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    station.close().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Get / Set Variables (B05, B06)
// ---------------------------------------------------------------------------------------------

/// TC_B_06_CSMS Get Variables – single value: the operator asks for
/// OCPPCommCtrlr.OfflineThreshold; the OCTT answers it (a random number of seconds) and the
/// operator must see that value.
pub async fn tc_b_06(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let offline_threshold = rand::thread_rng().gen_range(60..=3600).to_string();
    get_variables(
        target,
        operator,
        &[("OCPPCommCtrlr", "OfflineThreshold", offline_threshold)],
    )
    .await
}

/// TC_B_07_CSMS Get Variables – multiple values: OCPPCommCtrlr.OfflineThreshold and
/// AuthCtrlr.AuthorizeRemoteStart in one GetVariablesRequest; the operator must see both values.
pub async fn tc_b_07(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let offline_threshold = rand::thread_rng().gen_range(60..=3600).to_string();
    get_variables(
        target,
        operator,
        &[
            ("OCPPCommCtrlr", "OfflineThreshold", offline_threshold),
            ("AuthCtrlr", "AuthorizeRemoteStart", "false".to_string()),
        ],
    )
    .await
}

/// Booted; the operator asks for `variables` (component, variable, the value the OCTT holds);
/// the GetVariablesRequest must ask for exactly those; the OCTT answers them Accepted with its
/// values (anything else UnknownVariable) and the operator's report must show the values.
async fn get_variables(
    target: &Target,
    operator: Arc<dyn Operator>,
    variables: &[(&str, &str, String)],
) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::GetVariables {
            items: variables
                .iter()
                .map(|(c, v, _)| (c.to_string(), v.to_string(), None))
                .collect(),
        },
        "have the CSMS send GetVariablesRequest",
    );
    let (id, request) = task
        .expect_call_answering_limits::<GetVariablesRequest>(&mut station, &OCTT_LIMITS)
        .await?;
    let results = request
        .get_variable_data
        .iter()
        .map(|data| {
            let known = variables
                .iter()
                .find(|(c, v, _)| data.component.name == *c && data.variable.name == *v);
            GetVariableResultType {
                custom_data: None,
                attribute_status_info: None,
                attribute_status: if known.is_some() {
                    GetVariableStatusEnumType::Accepted
                } else {
                    GetVariableStatusEnumType::UnknownVariable
                },
                attribute_type: data.attribute_type,
                attribute_value: known.map(|(_, _, value)| value.clone()),
                component: data.component.clone(),
                variable: data.variable.clone(),
            }
        })
        .collect();
    station
        .respond::<GetVariablesRequest>(
            &id,
            &GetVariablesResponse {
                custom_data: None,
                get_variable_result: results,
            },
        )
        .await?;
    let asked: Vec<(&str, &str)> = request
        .get_variable_data
        .iter()
        .map(|d| (d.component.name.as_str(), d.variable.name.as_str()))
        .collect();
    for (i, data) in request.get_variable_data.iter().enumerate() {
        ensure!(
            variables
                .iter()
                .any(|(c, v, _)| data.component.name == *c && data.variable.name == *v),
            "GetVariablesRequest.getVariableData[{i}] asks for {}.{}, which was not requested",
            data.component.name,
            data.variable.name
        );
        // Absent, Actual, Target, MinSet and MaxSet are all allowed: every value of the enum.
        ensure!(
            matches!(
                data.attribute_type,
                None | Some(
                    AttributeEnumType::Actual
                        | AttributeEnumType::Target
                        | AttributeEnumType::MinSet
                        | AttributeEnumType::MaxSet
                )
            ),
            "GetVariablesRequest.getVariableData[{i}].attributeType must be absent, Actual, \
             Target, MinSet or MaxSet"
        );
    }
    for (component, variable, _) in variables {
        ensure!(
            asked.contains(&(component, variable)),
            "GetVariablesRequest must ask for component.name {component:?} variable.name \
             {variable:?}; it asked for {asked:?}"
        );
    }
    let report = task.finish(target.timeout).await?;
    for (component, variable, value) in variables {
        ensure!(
            reports_value(&report, component, variable, "attributeValue", value),
            "post scenario: the CSMS did not show the operator {component}.{variable} = \
             {value:?} (it reported {report})"
        );
    }
    station.close().await;
    Ok(())
}

/// TC_B_09_CSMS Set Variables - single value: OCPPCommCtrlr.OfflineThreshold = "123".
pub async fn tc_b_09(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    set_variables(
        target,
        operator,
        &[("OCPPCommCtrlr", "OfflineThreshold", "123")],
    )
    .await
}

/// TC_B_10_CSMS Set Variables - multiple values: OCPPCommCtrlr.OfflineThreshold = "123" and
/// AuthCtrlr.AuthorizeRemoteStart = "false" in one SetVariablesRequest.
pub async fn tc_b_10(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    set_variables(
        target,
        operator,
        &[
            ("OCPPCommCtrlr", "OfflineThreshold", "123"),
            ("AuthCtrlr", "AuthorizeRemoteStart", "false"),
        ],
    )
    .await
}

/// Booted; the operator sets `variables` (component, variable, value); the SetVariablesRequest
/// must set exactly those to those values with attributeType absent or Actual; the OCTT accepts
/// them and the operator's report must show each Accepted.
async fn set_variables(
    target: &Target,
    operator: Arc<dyn Operator>,
    variables: &[(&str, &str, &str)],
) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::SetVariables {
            items: variables
                .iter()
                .map(|(c, v, value)| (c.to_string(), v.to_string(), value.to_string(), None))
                .collect(),
        },
        "have the CSMS send SetVariablesRequest",
    );
    let (id, request) = task
        .expect_call_answering_limits::<SetVariablesRequest>(&mut station, &OCTT_LIMITS)
        .await?;
    answer_set_variables(
        &mut station,
        &id,
        &request,
        SetVariableStatusEnumType::Accepted,
    )
    .await?;
    for (i, data) in request.set_variable_data.iter().enumerate() {
        let wanted = variables
            .iter()
            .find(|(c, v, _)| data.component.name == *c && data.variable.name == *v);
        let Some((_, _, value)) = wanted else {
            return Err(CaseError::Fail(format!(
                "SetVariablesRequest.setVariableData[{i}] sets {}.{}, which was not requested",
                data.component.name, data.variable.name
            )));
        };
        ensure!(
            data.attribute_value == *value,
            "SetVariablesRequest: {}.{} attributeValue must be {value:?}, was {:?}",
            data.component.name,
            data.variable.name,
            data.attribute_value
        );
        ensure!(
            matches!(data.attribute_type, None | Some(AttributeEnumType::Actual)),
            "SetVariablesRequest: {}.{} attributeType must be absent or Actual, was {}",
            data.component.name,
            data.variable.name,
            data.attribute_type.map_or("", |t| t.as_str())
        );
    }
    for (component, variable, _) in variables {
        ensure!(
            request
                .set_variable_data
                .iter()
                .any(|d| d.component.name == *component && d.variable.name == *variable),
            "SetVariablesRequest must set component.name {component:?} variable.name \
             {variable:?}"
        );
    }
    let report = task.finish(target.timeout).await?;
    for (component, variable, _) in variables {
        ensure!(
            reports_value(&report, component, variable, "attributeStatus", "Accepted"),
            "post scenario: the CSMS did not show the operator that {component}.{variable} was \
             set (Accepted); it reported {report}"
        );
    }
    station.close().await;
    Ok(())
}

/// Answer SetVariablesRequest `id` with every `setVariableData` entry at `status`.
pub(crate) async fn answer_set_variables(
    station: &mut Station,
    id: &str,
    request: &SetVariablesRequest,
    status: SetVariableStatusEnumType,
) -> Result<(), CaseError> {
    let results = request
        .set_variable_data
        .iter()
        .map(|data| SetVariableResultType {
            custom_data: None,
            attribute_type: data.attribute_type,
            attribute_status: status,
            attribute_status_info: None,
            component: data.component.clone(),
            variable: data.variable.clone(),
        })
        .collect();
    station
        .respond::<SetVariablesRequest>(
            id,
            &SetVariablesResponse {
                custom_data: None,
                set_variable_result: results,
            },
        )
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reports (B07, B08)
// ---------------------------------------------------------------------------------------------

/// TC_B_12_CSMS Get Base Report - ConfigurationInventory.
pub async fn tc_b_12(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    base_report(target, operator, ReportBaseEnumType::ConfigurationInventory).await
}

/// TC_B_13_CSMS Get Base Report - FullInventory.
pub async fn tc_b_13(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    base_report(target, operator, ReportBaseEnumType::FullInventory).await
}

/// TC_B_14_CSMS Get Base Report - SummaryInventory (for a CSMS that supports that optional
/// report).
pub async fn tc_b_14(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    base_report(target, operator, ReportBaseEnumType::SummaryInventory).await
}

/// Booted; the operator asks for a `base` report; GetBaseReportRequest must have `requestId`
/// ≥ 0 and that `reportBase`; the OCTT answers Accepted and sends the [`inventory`] in two
/// NotifyReportRequests for that requestId, which the CSMS must answer.
async fn base_report(
    target: &Target,
    operator: Arc<dyn Operator>,
    base: ReportBaseEnumType,
) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::GetBaseReport {
            report_base: base.as_str().into(),
        },
        "have the CSMS send GetBaseReportRequest",
    );
    let (id, request) = task
        .expect_call::<GetBaseReportRequest>(&mut station)
        .await?;
    station
        .respond::<GetBaseReportRequest>(
            &id,
            &GetBaseReportResponse {
                custom_data: None,
                status: GenericDeviceModelStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await?;
    ensure!(
        request.request_id >= 0,
        "GetBaseReportRequest.requestId must be an integer >= 0, was {}",
        request.request_id
    );
    ensure!(
        request.report_base == base,
        "GetBaseReportRequest.reportBase must be {}, was {}",
        base.as_str(),
        request.report_base.as_str()
    );
    let report = task.finish(target.timeout).await?;
    if let Some(reported) = report.get("requestId").and_then(|v| v.as_i64()) {
        ensure!(
            reported == request.request_id,
            "the CSMS told the operator requestId {reported}, but sent {}",
            request.request_id
        );
    }
    send_report(&mut station, request.request_id, inventory(base, target)).await?;
    station.close().await;
    Ok(())
}

/// NotifyReportRequests for `request_id` carrying `data`: two parts when there is more than one
/// entry (seqNo 0 with `tbc` true, seqNo 1 without `tbc`), else one.
pub async fn send_report(
    station: &mut Station,
    request_id: i64,
    data: Vec<ReportDataType>,
) -> Result<(), CaseError> {
    let split = data.len().div_ceil(2).max(1).min(data.len());
    let (first, second) = data.split_at(split);
    let parts: Vec<&[ReportDataType]> = if second.is_empty() {
        vec![first]
    } else {
        vec![first, second]
    };
    let count = parts.len();
    for (seq_no, part) in parts.into_iter().enumerate() {
        station
            .call(&NotifyReportRequest {
                custom_data: None,
                request_id,
                generated_at: Utc::now(),
                report_data: Some(part.to_vec()),
                tbc: (seq_no + 1 < count).then_some(true),
                seq_no: seq_no as i64,
            })
            .await?;
    }
    Ok(())
}

fn component(name: &str, evse: Option<(i64, Option<i64>)>) -> ComponentType {
    ComponentType {
        custom_data: None,
        evse: evse.map(|(id, connector_id)| EvseType {
            custom_data: None,
            id,
            connector_id,
        }),
        name: name.into(),
        instance: None,
    }
}

fn variable(name: &str) -> VariableType {
    VariableType {
        custom_data: None,
        name: name.into(),
        instance: None,
    }
}

fn report_entry(
    component: ComponentType,
    name: &str,
    value: &str,
    mutability: MutabilityEnumType,
    data_type: DataEnumType,
) -> ReportDataType {
    ReportDataType {
        custom_data: None,
        component,
        variable: variable(name),
        variable_attribute: vec![VariableAttributeType {
            custom_data: None,
            r#type: Some(AttributeEnumType::Actual),
            value: Some(value.into()),
            mutability: Some(mutability),
            persistent: Some(true),
            constant: Some(mutability == MutabilityEnumType::ReadOnly),
        }],
        variable_characteristics: Some(VariableCharacteristicsType {
            custom_data: None,
            unit: None,
            data_type,
            min_limit: None,
            max_limit: None,
            values_list: None,
            supports_monitoring: false,
        }),
    }
}

/// What the OCTT's station reports for a base report: ConfigurationInventory = its read-write
/// configuration variables; FullInventory = those plus its read-only ones (availability of the
/// station, the configured EVSE and connector, identity); SummaryInventory = the availability
/// variables.
pub fn inventory(base: ReportBaseEnumType, target: &Target) -> Vec<ReportDataType> {
    use DataEnumType as D;
    use MutabilityEnumType as M;
    let evse = Some((target.evse_id, None));
    let connector = Some((target.evse_id, Some(target.connector_id)));
    let configuration = vec![
        report_entry(
            component("OCPPCommCtrlr", None),
            "OfflineThreshold",
            "300",
            M::ReadWrite,
            D::Integer,
        ),
        report_entry(
            component("OCPPCommCtrlr", None),
            "HeartbeatInterval",
            "600",
            M::ReadWrite,
            D::Integer,
        ),
        report_entry(
            component("AuthCtrlr", None),
            "AuthorizeRemoteStart",
            "false",
            M::ReadWrite,
            D::Boolean,
        ),
        report_entry(
            component("AuthCtrlr", None),
            "AuthEnabled",
            "true",
            M::ReadWrite,
            D::Boolean,
        ),
        report_entry(
            component("TxCtrlr", None),
            "TxStartPoint",
            "EVConnected,Authorized",
            M::ReadWrite,
            D::MemberList,
        ),
        report_entry(
            component("TxCtrlr", None),
            "TxStopPoint",
            "EVConnected",
            M::ReadWrite,
            D::MemberList,
        ),
    ];
    let summary = vec![
        report_entry(
            component("ChargingStation", None),
            "AvailabilityState",
            "Available",
            M::ReadOnly,
            D::OptionList,
        ),
        report_entry(
            component("EVSE", evse),
            "AvailabilityState",
            "Available",
            M::ReadOnly,
            D::OptionList,
        ),
        report_entry(
            component("Connector", connector),
            "AvailabilityState",
            "Available",
            M::ReadOnly,
            D::OptionList,
        ),
    ];
    match base {
        ReportBaseEnumType::ConfigurationInventory => configuration,
        ReportBaseEnumType::SummaryInventory => summary,
        ReportBaseEnumType::FullInventory => {
            let mut full = configuration;
            full.extend(summary);
            full.push(report_entry(
                component("Connector", connector),
                "ConnectorType",
                "cType2",
                M::ReadOnly,
                D::String,
            ));
            full.push(report_entry(
                component("SecurityCtrlr", None),
                "SecurityProfile",
                &target.security_profile.to_string(),
                M::ReadOnly,
                D::Integer,
            ));
            full.push(report_entry(
                component("DeviceDataCtrlr", None),
                "ItemsPerMessage",
                "20",
                M::ReadOnly,
                D::Integer,
            ));
            full
        }
    }
}

/// The value TC_B_18's station reports for EVSE #1 AvailabilityState.
pub fn evse_1_availability() -> ReportDataType {
    report_entry(
        component("EVSE", Some((1, None))),
        "AvailabilityState",
        "Available",
        MutabilityEnumType::ReadOnly,
        DataEnumType::OptionList,
    )
}

/// TC_B_18_CSMS Get Custom Report - with componentCriteria and component/variables (B08.FR.01,
/// B08.FR.03). Booted; the operator asks for EVSE #1 AvailabilityState of all Problem
/// components (the OCTT answers EmptyResultSet), then of all Available components (Accepted),
/// and the OCTT sends the NotifyReportRequest, which the CSMS answers.
pub async fn tc_b_18(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let problem = custom_report(
        &mut station,
        target,
        &operator,
        ComponentCriterionEnumType::Problem,
        GenericDeviceModelStatusEnumType::EmptyResultSet,
        1,
    )
    .await?;
    let available = custom_report(
        &mut station,
        target,
        &operator,
        ComponentCriterionEnumType::Available,
        GenericDeviceModelStatusEnumType::Accepted,
        3,
    )
    .await?;
    ensure!(
        available != problem,
        "the two GetReportRequests must have different requestIds, both were {problem}"
    );
    send_report(&mut station, available, vec![evse_1_availability()]).await?;
    station.close().await;
    Ok(())
}

/// One GetReportRequest of TC_B_18 (step `step`), answered `status`; returns its requestId.
async fn custom_report(
    station: &mut Station,
    target: &Target,
    operator: &Arc<dyn Operator>,
    criterion: ComponentCriterionEnumType,
    status: GenericDeviceModelStatusEnumType,
    step: u8,
) -> Result<i64, CaseError> {
    let mut task = OperatorTask::start(
        operator,
        target,
        OperatorAction::GetCustomReport {
            request: json!({
                "componentCriteria": [criterion.as_str()],
                "componentVariable": [{
                    "component": {"name": "EVSE", "evse": {"id": 1}},
                    "variable": {"name": "AvailabilityState"}
                }]
            }),
        },
        format!(
            "have the CSMS send GetReportRequest for {} components",
            criterion.as_str()
        ),
    );
    let (id, request) = task.expect_call::<GetReportRequest>(station).await?;
    station
        .respond::<GetReportRequest>(
            &id,
            &GetReportResponse {
                custom_data: None,
                status,
                status_info: None,
            },
        )
        .await?;
    let criteria = request.component_criteria.clone().unwrap_or_default();
    ensure!(
        criteria == [criterion],
        "step {step}: GetReportRequest.componentCriteria must be {}, was {:?}",
        criterion.as_str(),
        criteria.iter().map(|c| c.as_str()).collect::<Vec<_>>()
    );
    let first = request
        .component_variable
        .as_ref()
        .and_then(|cv| cv.first())
        .ok_or_else(|| {
            CaseError::Fail(format!(
                "step {step}: GetReportRequest.componentVariable[0] is missing"
            ))
        })?;
    ensure!(
        first.component.name == "EVSE",
        "step {step}: GetReportRequest.componentVariable[0].component.name must be \"EVSE\", \
         was {:?}",
        first.component.name
    );
    ensure!(
        first.component.evse.as_ref().map(|e| e.id) == Some(1),
        "step {step}: GetReportRequest.componentVariable[0].component.evse.id must be 1, was \
         {:?}",
        first.component.evse.as_ref().map(|e| e.id)
    );
    ensure!(
        first.variable.as_ref().map(|v| v.name.as_str()) == Some("AvailabilityState"),
        "step {step}: GetReportRequest.componentVariable[0].variable.name must be \
         \"AvailabilityState\", was {:?}",
        first.variable.as_ref().map(|v| v.name.as_str())
    );
    let report = task.finish(target.timeout).await?;
    ensure!(
        reports_field(&report, "status", status.as_str()),
        "step {step}: the CSMS did not show the operator the status {} (it reported {report})",
        status.as_str()
    );
    Ok(request.request_id)
}

// ---------------------------------------------------------------------------------------------
// Reset without a transaction (B11)
// ---------------------------------------------------------------------------------------------

/// TC_B_20_CSMS Reset Charging Station - Without ongoing transaction (B11.FR.04). Booted; the
/// operator asks for a reboot (OnIdle); the OCTT answers Accepted, reboots (closes and
/// reconnects), boots with reason RemoteReset — the answer must be Accepted — and reports its
/// connector Available.
pub async fn tc_b_20(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::Reset {
            reset_type: "OnIdle".into(),
            evse_id: None,
        },
        "have the CSMS send ResetRequest",
    );
    let (id, _request) = task.expect_call::<ResetRequest>(&mut station).await?;
    station
        .respond::<ResetRequest>(&id, &accepted_reset())
        .await?;
    task.finish(target.timeout).await?;
    let mut station = reboot(station, target, BootReasonEnumType::RemoteReset, 4).await?;
    states::notify_connector_available(&mut station, target).await?;
    station.close().await;
    Ok(())
}

/// ResetResponse Accepted.
pub(crate) fn accepted_reset() -> ResetResponse {
    ResetResponse {
        custom_data: None,
        status: ResetStatusEnumType::Accepted,
        status_info: None,
    }
}

/// TC_B_25_CSMS Reset EVSE - Without ongoing transaction (B11.FR.04). Booted; the operator asks
/// for an OnIdle reset of the configured EVSE; ResetRequest must have `type` OnIdle and `evseId`
/// the configured EVSE; the OCTT answers Accepted.
pub async fn tc_b_25(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::Reset {
            reset_type: "OnIdle".into(),
            evse_id: Some(target.evse_id),
        },
        "have the CSMS send ResetRequest for an EVSE",
    );
    let (id, request) = task.expect_call::<ResetRequest>(&mut station).await?;
    station
        .respond::<ResetRequest>(&id, &accepted_reset())
        .await?;
    ensure!(
        request.r#type == ResetEnumType::OnIdle,
        "ResetRequest.type must be OnIdle, was {}",
        request.r#type.as_str()
    );
    ensure!(
        request.evse_id == Some(target.evse_id),
        "ResetRequest.evseId must be {}, was {:?}",
        target.evse_id,
        request.evse_id
    );
    task.finish(target.timeout).await?;
    station.close().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reset during a transaction (B12)
// ---------------------------------------------------------------------------------------------

/// TC_B_21_CSMS Reset Charging Station - With Ongoing Transaction - OnIdle (B12.FR.01,
/// B12.FR.03, E07.FR.03). Booted and EnergyTransferStarted; the operator asks for an OnIdle
/// reboot of the station; ResetRequest must have `type` OnIdle; the OCTT answers Scheduled, ends
/// the transaction (TransactionEvent Updated StopAuthorized / EVConnected with the idToken, then
/// Ended EVCommunicationLost / Idle, `stoppedReason` EVDisconnected), reboots with reason
/// ScheduledReset — the answer must be Accepted — and reports its connector Available.
pub async fn tc_b_21(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let (station, _session) =
        reset_during_transaction(target, operator, ResetEnumType::OnIdle, None).await?;
    let mut station = reboot(station, target, BootReasonEnumType::ScheduledReset, 8).await?;
    states::notify_connector_available(&mut station, target).await?;
    station.close().await;
    Ok(())
}

/// TC_B_22_CSMS Reset Charging Station - With Ongoing Transaction - Immediate. Booted and
/// EnergyTransferStarted; the operator asks for an Immediate reboot of the station; ResetRequest
/// must have `type` Immediate; the OCTT answers Accepted, ends the transaction (TransactionEvent
/// Ended ResetCommand / EVConnected, `stoppedReason` ImmediateReset, no idToken), reboots with
/// reason RemoteReset — the answer must be Accepted — and reports its connector Occupied (the EV
/// is still plugged in).
pub async fn tc_b_22(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let (station, session) =
        reset_during_transaction(target, operator, ResetEnumType::Immediate, None).await?;
    let mut station = reboot(station, target, BootReasonEnumType::RemoteReset, 6).await?;
    states::notify_connector_status(
        &mut station,
        session.evse_id,
        session.connector_id,
        ConnectorStatusEnumType::Occupied,
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_B_26_CSMS Reset EVSE - With Ongoing Transaction - OnIdle (B12.FR.07). Booted and
/// EnergyTransferStarted; the operator asks for an OnIdle reset of the configured EVSE;
/// ResetRequest must have `type` OnIdle and `evseId` the configured EVSE; the OCTT answers
/// Scheduled and ends the transaction as in TC_B_21 (no reboot follows).
pub async fn tc_b_26(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let (station, _session) = reset_during_transaction(
        target,
        operator,
        ResetEnumType::OnIdle,
        Some(target.evse_id),
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_B_27_CSMS Reset EVSE - With Ongoing Transaction - Immediate. Booted and
/// EnergyTransferStarted; the operator asks for an Immediate reset of the configured EVSE;
/// ResetRequest must have `type` Immediate and `evseId` the configured EVSE; the OCTT answers
/// Accepted and ends the transaction as in TC_B_22 (no reboot follows).
pub async fn tc_b_27(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let (station, _session) = reset_during_transaction(
        target,
        operator,
        ResetEnumType::Immediate,
        Some(target.evse_id),
    )
    .await?;
    station.close().await;
    Ok(())
}

/// Steps 1–6 of TC_B_21/22/26/27: Booted, Reusable State EnergyTransferStarted (on a session
/// with the configured valid idToken), then the operator resets the station (`evse_id` None) or
/// the EVSE with `reset_type`.
///
/// Step 1 validations: `type` = `reset_type`; for an EVSE, `evseId` = the configured EVSE (a
/// station reset's `evseId` is not validated: the tables check only the type). The OCTT answers
/// Scheduled to OnIdle and Accepted to Immediate, then ends the transaction:
///
/// * OnIdle: TransactionEvent Updated StopAuthorized / EVConnected with the idToken, then Ended
///   EVCommunicationLost / Idle, `stoppedReason` EVDisconnected;
/// * Immediate: TransactionEvent Ended ResetCommand / EVConnected, `stoppedReason`
///   ImmediateReset, idToken omitted.
///
/// The CSMS must answer each (schema-valid); the tables validate no answer.
async fn reset_during_transaction(
    target: &Target,
    operator: Arc<dyn Operator>,
    reset_type: ResetEnumType,
    evse_id: Option<i64>,
) -> Result<(Station, Session), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut session = Session::new(target);
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::Reset {
            reset_type: reset_type.as_str().into(),
            evse_id,
        },
        match evse_id {
            None => "have the CSMS send ResetRequest",
            Some(_) => "have the CSMS send ResetRequest for an EVSE",
        },
    );
    let (id, request) = task.expect_call::<ResetRequest>(&mut station).await?;
    let status = match reset_type {
        ResetEnumType::OnIdle => ResetStatusEnumType::Scheduled,
        ResetEnumType::Immediate => ResetStatusEnumType::Accepted,
    };
    station
        .respond::<ResetRequest>(
            &id,
            &ResetResponse {
                custom_data: None,
                status,
                status_info: None,
            },
        )
        .await?;
    ensure!(
        request.r#type == reset_type,
        "step 1: ResetRequest.type must be {}, was {}",
        reset_type.as_str(),
        request.r#type.as_str()
    );
    if let Some(evse_id) = evse_id {
        ensure!(
            request.evse_id == Some(evse_id),
            "step 1: ResetRequest.evseId must be {evse_id}, was {:?}",
            request.evse_id
        );
    }
    task.finish(target.timeout).await?;
    match reset_type {
        ResetEnumType::OnIdle => {
            let mut event = session.next_event(
                TriggerReasonEnumType::StopAuthorized,
                Some(ChargingStateEnumType::EvConnected),
            );
            event.id_token = Some(session.valid_id_token.clone());
            station.call(&event).await?;
            session.authorized = false;
            session.state = Some(TxState::StopAuthorized);
            states::unplug(&mut station, &mut session).await?;
        }
        ResetEnumType::Immediate => {
            let event = session.end_event(
                TriggerReasonEnumType::ResetCommand,
                Some(ChargingStateEnumType::EvConnected),
                ReasonEnumType::ImmediateReset,
            );
            station.call(&event).await?;
        }
    }
    Ok((station, session))
}

/// The station reboots: it closes the connection, reconnects and sends BootNotificationRequest
/// with `reason`; BootNotificationResponse.status must be Accepted (the validation of `step`).
async fn reboot(
    station: Station,
    target: &Target,
    reason: BootReasonEnumType,
    step: u32,
) -> Result<Station, CaseError> {
    station.close().await;
    let mut station = target.connect().await?;
    let mut boot = states::boot_request(target);
    boot.reason = reason;
    let answer = station.call(&boot).await?;
    ensure!(
        answer.status == RegistrationStatusEnumType::Accepted,
        "step {step}: BootNotificationResponse.status must be Accepted, was {}",
        answer.status.as_str()
    );
    Ok(station)
}

// ---------------------------------------------------------------------------------------------
// Network connection profiles (B09)
// ---------------------------------------------------------------------------------------------

/// TC_B_42_CSMS Set new NetworkConnectionProfile - Accepted (B09.FR.01). Booted; the operator
/// installs the configured profile in the configured slot; the request must carry the
/// configured values (at the configured security profile); the OCTT answers Accepted and the
/// operator must see it.
pub async fn tc_b_42(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let request =
        set_network_profile(target, operator, SetNetworkProfileStatusEnumType::Accepted).await?;
    ensure!(
        request.configuration_slot == target.configuration_slot,
        "SetNetworkProfileRequest.configurationSlot must be {}, was {}",
        target.configuration_slot,
        request.configuration_slot
    );
    check_connection_data(&request, target, target.security_profile)
}

/// TC_B_44_CSMS Set new NetworkConnectionProfile - Failed (B09.FR.03). As TC_B_42, but the
/// OCTT answers Failed; no tool validations; the operator must see Failed.
pub async fn tc_b_44(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    set_network_profile(target, operator, SetNetworkProfileStatusEnumType::Failed).await?;
    Ok(())
}

async fn set_network_profile(
    target: &Target,
    operator: Arc<dyn Operator>,
    status: SetNetworkProfileStatusEnumType,
) -> Result<SetNetworkProfileRequest, CaseError> {
    let connection_data = target.network_connection_profile(target.security_profile)?;
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::SetNetworkProfile {
            configuration_slot: target.configuration_slot,
            connection_data,
        },
        "have the CSMS send SetNetworkProfileRequest",
    );
    let (id, request) = task
        .expect_call::<SetNetworkProfileRequest>(&mut station)
        .await?;
    station
        .respond::<SetNetworkProfileRequest>(
            &id,
            &SetNetworkProfileResponse {
                custom_data: None,
                status,
                status_info: None,
            },
        )
        .await?;
    let report = task.finish(target.timeout).await?;
    ensure!(
        reports_field(&report, "status", status.as_str()),
        "the CSMS did not show the operator the SetNetworkProfileResponse status {} (it \
         reported {report})",
        status.as_str()
    );
    station.close().await;
    Ok(request)
}

/// The `connectionData` validations of TC_B_42 and TC_A_19 (step 1), at `profile`.
pub(crate) fn check_connection_data(
    request: &SetNetworkProfileRequest,
    target: &Target,
    profile: u8,
) -> Result<(), CaseError> {
    let data = &request.connection_data;
    ensure!(
        data.message_timeout == target.message_timeout,
        "SetNetworkProfileRequest.connectionData.messageTimeout must be {}, was {}",
        target.message_timeout,
        data.message_timeout
    );
    let url = target.csms_url(profile)?;
    ensure!(
        data.ocpp_csms_url == url,
        "SetNetworkProfileRequest.connectionData.ocppCsmsUrl must be {url:?}, was {:?}",
        data.ocpp_csms_url
    );
    ensure!(
        data.ocpp_interface.as_str() == target.ocpp_interface,
        "SetNetworkProfileRequest.connectionData.ocppInterface must be {}, was {}",
        target.ocpp_interface,
        data.ocpp_interface.as_str()
    );
    ensure!(
        data.ocpp_transport == OcppTransportEnumType::Json,
        "SetNetworkProfileRequest.connectionData.ocppTransport must be JSON, was {}",
        data.ocpp_transport.as_str()
    );
    ensure!(
        data.ocpp_version == OcppVersionEnumType::Ocpp20,
        "SetNetworkProfileRequest.connectionData.ocppVersion must be OCPP20, was {}",
        data.ocpp_version.as_str()
    );
    ensure!(
        data.security_profile == i64::from(profile),
        "SetNetworkProfileRequest.connectionData.securityProfile must be {profile}, was {}",
        data.security_profile
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::octt::stub::{failure, Stub, CHARGING};
    use crate::octt::{run, Verdict};

    fn actions(stub: &Stub) -> Vec<String> {
        stub.calls().into_iter().map(|(action, _)| action).collect()
    }

    #[tokio::test]
    async fn every_case_passes_against_a_conforming_csms() {
        for case in [
            "TC_B_06_CSMS",
            "TC_B_07_CSMS",
            "TC_B_09_CSMS",
            "TC_B_10_CSMS",
            "TC_B_25_CSMS",
            "TC_B_42_CSMS",
            "TC_B_44_CSMS",
        ] {
            let stub = Stub::start().await;
            let verdict = run(case, &stub.target(), Some(stub.operator())).await;
            assert_eq!(verdict, Verdict::Pass, "{case}");
        }
    }

    #[tokio::test]
    async fn base_reports_are_sent_in_two_parts() {
        for (base, case) in [
            (ReportBaseEnumType::ConfigurationInventory, "TC_B_12_CSMS"),
            (ReportBaseEnumType::FullInventory, "TC_B_13_CSMS"),
            (ReportBaseEnumType::SummaryInventory, "TC_B_14_CSMS"),
        ] {
            let stub = Stub::start().await;
            let verdict = run(case, &stub.target(), Some(stub.operator())).await;
            assert_eq!(verdict, Verdict::Pass, "{case}");
            let parts: Vec<Value> = stub
                .calls()
                .into_iter()
                .filter(|(a, _)| a == "NotifyReport")
                .map(|(_, p)| p)
                .collect();
            assert_eq!(parts.len(), 2, "{}", base.as_str());
            assert_eq!(parts[0]["tbc"], true);
            assert_eq!(parts[0]["seqNo"], 0);
            assert!(parts[1].get("tbc").is_none());
            assert_eq!(parts[1]["seqNo"], 1);
            let sent: usize = parts
                .iter()
                .map(|p| p["reportData"].as_array().unwrap().len())
                .sum();
            assert_eq!(sent, inventory(base, &stub.target()).len());
        }
    }

    #[tokio::test]
    async fn custom_report_and_reset_pass() {
        let stub = Stub::start().await;
        tc_b_18(&stub.target(), stub.operator()).await.unwrap();
        let reports: Vec<Value> = stub
            .calls()
            .into_iter()
            .filter(|(a, _)| a == "NotifyReport")
            .map(|(_, p)| p)
            .collect();
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0]["requestId"], 2, "the Available request's id");

        let stub = Stub::start().await;
        tc_b_20(&stub.target(), stub.operator()).await.unwrap();
        let calls = stub.calls();
        let boots: Vec<&Value> = calls
            .iter()
            .filter(|(a, _)| a == "BootNotification")
            .map(|(_, p)| p)
            .collect();
        assert_eq!(boots.len(), 2);
        assert_eq!(boots[1]["reason"], "RemoteReset");
        assert_eq!(
            actions(&stub)[3..],
            ["BootNotification", "StatusNotification", "NotifyEvent"]
        );
    }

    #[tokio::test]
    async fn get_variables_validations() {
        let stub = Stub::start().await;
        let wrong = stub.operator_with(|_, p| {
            p["getVariableData"][0]["variable"]["name"] = json!("HeartbeatInterval")
        });
        let message = failure(tc_b_06(&stub.target(), wrong).await);
        assert!(message.contains("HeartbeatInterval"), "{message}");

        let stub = Stub::start().await;
        let missing = stub.operator_with(|_, p| {
            p["getVariableData"].as_array_mut().unwrap().pop();
        });
        let message = failure(tc_b_07(&stub.target(), missing).await);
        assert!(message.contains("AuthorizeRemoteStart"), "{message}");

        let stub = Stub::start().await;
        let silent = stub.operator_reporting(json!({"results": []}));
        let message = failure(tc_b_06(&stub.target(), silent).await);
        assert!(message.starts_with("post scenario"), "{message}");
    }

    #[tokio::test]
    async fn set_variables_validations() {
        let stub = Stub::start().await;
        let value =
            stub.operator_with(|_, p| p["setVariableData"][0]["attributeValue"] = json!("124"));
        let message = failure(tc_b_09(&stub.target(), value).await);
        assert!(message.contains("\"123\""), "{message}");

        let stub = Stub::start().await;
        let target_type =
            stub.operator_with(|_, p| p["setVariableData"][1]["attributeType"] = json!("Target"));
        let message = failure(tc_b_10(&stub.target(), target_type).await);
        assert!(message.contains("attributeType"), "{message}");

        let stub = Stub::start().await;
        let rejected = stub.operator_reporting(json!({"results": [{
            "attributeStatus": "Rejected",
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "OfflineThreshold"}
        }]}));
        let message = failure(tc_b_09(&stub.target(), rejected).await);
        assert!(message.starts_with("post scenario"), "{message}");
    }

    #[tokio::test]
    async fn report_validations() {
        let stub = Stub::start().await;
        let base = stub.operator_with(|_, p| p["reportBase"] = json!("FullInventory"));
        let message = failure(tc_b_12(&stub.target(), base).await);
        assert!(message.contains("reportBase"), "{message}");

        let stub = Stub::start().await;
        let negative = stub.operator_with(|_, p| p["requestId"] = json!(-1));
        let message = failure(tc_b_13(&stub.target(), negative).await);
        assert!(message.contains("requestId"), "{message}");

        let stub = Stub::start().await;
        let criteria = stub.operator_with(|_, p| p["componentCriteria"] = json!(["Active"]));
        let message = failure(tc_b_18(&stub.target(), criteria).await);
        assert!(
            message.contains("step 1") && message.contains("componentCriteria"),
            "{message}"
        );

        let stub = Stub::start().await;
        let evse = stub
            .operator_with(|_, p| p["componentVariable"][0]["component"]["evse"]["id"] = json!(2));
        let message = failure(tc_b_18(&stub.target(), evse).await);
        assert!(message.contains("evse.id"), "{message}");
    }

    #[tokio::test]
    async fn reset_and_network_profile_validations() {
        let stub = Stub::start().await;
        let immediate = stub.operator_with(|_, p| p["type"] = json!("Immediate"));
        let message = failure(tc_b_25(&stub.target(), immediate).await);
        assert!(message.contains("OnIdle"), "{message}");

        let stub = Stub::start().await;
        let station = stub.operator_with(|_, p| {
            p.as_object_mut().unwrap().remove("evseId");
        });
        let message = failure(tc_b_25(&stub.target(), station).await);
        assert!(message.contains("evseId"), "{message}");

        let stub = Stub::start().await;
        let url = stub.operator_with(|_, p| {
            p["connectionData"]["ocppCsmsUrl"] = json!("ws://elsewhere/ocpp")
        });
        let message = failure(tc_b_42(&stub.target(), url).await);
        assert!(message.contains("ocppCsmsUrl"), "{message}");

        let stub = Stub::start().await;
        let profile = stub.operator_with(|_, p| p["connectionData"]["securityProfile"] = json!(2));
        let message = failure(tc_b_42(&stub.target(), profile).await);
        assert!(message.contains("securityProfile"), "{message}");

        let stub = Stub::start().await;
        let slot = stub.operator_with(|_, p| p["configurationSlot"] = json!(2));
        let message = failure(tc_b_42(&stub.target(), slot).await);
        assert!(message.contains("configurationSlot"), "{message}");
    }

    fn after_charging(rest: &[&str]) -> Vec<String> {
        CHARGING.iter().chain(rest).map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn resets_during_a_transaction_end_it_as_the_tables_say() {
        let on_idle = [
            "TransactionEvent Updated StopAuthorized EVConnected OCTT-VALID-001",
            "TransactionEvent Ended EVCommunicationLost Idle EVDisconnected",
        ];
        let immediate = ["TransactionEvent Ended ResetCommand EVConnected ImmediateReset"];
        let cases: [(&str, &str, Vec<&str>); 4] = [
            (
                "TC_B_21_CSMS",
                "Scheduled",
                [
                    &on_idle[..],
                    &[
                        "BootNotification ScheduledReset",
                        "StatusNotification Available",
                        "NotifyEvent Available",
                    ],
                ]
                .concat(),
            ),
            (
                "TC_B_22_CSMS",
                "Accepted",
                [
                    &immediate[..],
                    &[
                        "BootNotification RemoteReset",
                        "StatusNotification Occupied",
                        "NotifyEvent Occupied",
                    ],
                ]
                .concat(),
            ),
            ("TC_B_26_CSMS", "Scheduled", on_idle.to_vec()),
            ("TC_B_27_CSMS", "Accepted", immediate.to_vec()),
        ];
        for (case, status, rest) in cases {
            let stub = Stub::start().await;
            let verdict = run(case, &stub.target(), Some(stub.operator())).await;
            assert_eq!(verdict, Verdict::Pass, "{case}");
            assert_eq!(stub.summary(), after_charging(&rest), "{case}");
            let results = stub.results();
            assert_eq!(results.len(), 1, "{case}");
            assert_eq!(results[0].0, "Reset");
            assert_eq!(results[0].1["status"], status, "{case}");
            let calls = stub.calls();
            let events: Vec<&Value> = calls
                .iter()
                .filter(|(a, _)| a == "TransactionEvent")
                .map(|(_, p)| p)
                .collect();
            let transaction_id = &events[0]["transactionInfo"]["transactionId"];
            for (seq_no, event) in events.iter().enumerate() {
                assert_eq!(event["seqNo"], seq_no, "{case}");
                assert_eq!(event["transactionInfo"]["transactionId"], *transaction_id);
            }
            let ended = events.last().unwrap();
            assert!(ended.get("idToken").is_none(), "{case}: {ended}");
        }
    }

    #[tokio::test]
    async fn reset_during_a_transaction_validations() {
        let stub = Stub::start().await;
        let immediate = stub.operator_with(|_, p| p["type"] = json!("Immediate"));
        let message = failure(tc_b_21(&stub.target(), immediate).await);
        assert!(
            message.contains("step 1") && message.contains("type must be OnIdle"),
            "{message}"
        );

        let stub = Stub::start().await;
        let on_idle = stub.operator_with(|_, p| p["type"] = json!("OnIdle"));
        let message = failure(tc_b_22(&stub.target(), on_idle).await);
        assert!(message.contains("type must be Immediate"), "{message}");

        let stub = Stub::start().await;
        let other_evse = stub.operator_with(|_, p| p["evseId"] = json!(2));
        let message = failure(tc_b_26(&stub.target(), other_evse).await);
        assert!(
            message.contains("evseId must be 1, was Some(2)"),
            "{message}"
        );

        let stub = Stub::start().await;
        let station = stub.operator_with(|_, p| {
            p.as_object_mut().unwrap().remove("evseId");
        });
        let message = failure(tc_b_27(&stub.target(), station).await);
        assert!(message.contains("evseId must be 1, was None"), "{message}");
    }
}
