//! Block O, Display Message: TC_O_01–TC_O_28 as the OCTT plays them.
//!
//! The operator makes the CSMS act ([`OperatorAction::SetDisplayMessage`],
//! [`OperatorAction::GetDisplayMessages`], [`OperatorAction::ClearDisplayMessage`]); the
//! station answers as the table says and checks the table's tool validations. The configured
//! values (<Configured Priority>, <Configured Format>, <Configured state>, …) are those of
//! [`DisplayConfig::octt`].
//!
//! Readings taken:
//!
//! * Every scenario boots first (Reusable State *Booted*).
//! * <Generated Id> is the CSMS's: the operator gives no id, and the id in the request must be
//!   the one the CSMS reports back to the operator.
//! * "Memory State: a display message is configured" (TC_O_02, 04, 07, 08, 09): the CSMS set it
//!   earlier in the session (a SetDisplayMessage the station accepted, with the configured
//!   priority and state); TC_O_04's "<Generated Id from set display message>" is its id, and
//!   TC_O_07's <Configured_Id> likewise. The station's NotifyDisplayMessages reports that
//!   message under the requestId the CSMS sent.
//! * TC_O_04's optional GetDisplayMessages help step is not needed: the CSMS knows the id.
//! * TC_O_05: the unknown id is [`DisplayConfig::unknown_id`]; the CSMS may send it (no check
//!   against what it sent), and must tell the operator the station's Unknown.
//! * TC_O_10: the operator knowingly asks for a transactionId the CSMS does not know (the
//!   case's prerequisite), and a fresh one the station does not know either.
//! * TC_O_28 gives no charging state although transactionId is required: the transaction of
//!   Reusable State *EnergyTransferStarted* is used, as in TC_O_27.
//! * Every status the station answers must reach the operator (a report with that status).

use std::sync::Arc;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::{json, Value};
use unicharge_ocpp::v201::{
    ClearDisplayMessageRequest, ClearDisplayMessageResponse, ClearMessageStatusEnumType,
    DisplayMessageStatusEnumType, GetDisplayMessagesRequest, GetDisplayMessagesResponse,
    GetDisplayMessagesStatusEnumType, MessageInfoType, NotifyDisplayMessagesRequest,
    SetDisplayMessageRequest, SetDisplayMessageResponse,
};

use super::operator::{Operator, OperatorAction};
use super::states::{self, Session};
use super::{reports_field, with_operator, CaseError, OperatorTask, ScenarioFuture, Target};
use crate::ensure;
use crate::station::Station;

/// The OCTT's display message configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct DisplayConfig {
    /// <Configured Priority> (TC_O_26: "a Normal Cycle priority").
    pub priority: String,
    /// <Configured Format>.
    pub format: String,
    /// <Configured_State> of a configured message (TC_O_09, TC_O_28).
    pub state: String,
    /// The content and language of the messages.
    pub content: String,
    pub language: String,
    /// <Configured priority> the station does not support (TC_O_17).
    pub unsupported_priority: String,
    /// <Configured state> the station does not support (TC_O_18).
    pub unsupported_state: String,
    /// A message format the station does not support (TC_O_19).
    pub unsupported_format: String,
    /// <Configured endTime> / <Configured endDateTime>: from now, in seconds.
    pub end_after: i64,
    /// <Configured startDateTime>: from now, in seconds.
    pub start_after: i64,
    /// The id TC_O_05 clears, unknown to the station.
    pub unknown_id: i64,
}

impl DisplayConfig {
    pub fn octt() -> Self {
        DisplayConfig {
            priority: "NormalCycle".into(),
            format: "UTF8".into(),
            state: "Idle".into(),
            content: "OCTT display message: welcome".into(),
            language: "en".into(),
            unsupported_priority: "AlwaysFront".into(),
            unsupported_state: "Unavailable".into(),
            unsupported_format: "HTML".into(),
            end_after: 3600,
            start_after: 60,
            unknown_id: 987_654,
        }
    }

    /// A MessageInfoType without id, as the operator asks for it.
    pub fn message(&self) -> Value {
        json!({
            "priority": self.priority,
            "message": {"format": self.format, "language": self.language, "content": self.content},
        })
    }

    /// A time `seconds` from now, whole seconds (as configured times are).
    pub fn at(seconds: i64) -> DateTime<Utc> {
        (Utc::now() + Duration::seconds(seconds)).trunc_subsecs(0)
    }
}

pub(crate) fn scenario<'a>(
    id: &str,
    target: &'a Target,
    op: Option<Arc<dyn Operator>>,
) -> Option<ScenarioFuture<'a>> {
    let cfg = DisplayConfig::octt();
    Some(match id {
        "TC_O_01_CSMS" => with_operator(op, move |op| tc_o_01(target, op, cfg)),
        "TC_O_02_CSMS" => with_operator(op, move |op| tc_o_02(target, op, cfg)),
        "TC_O_03_CSMS" => with_operator(op, move |op| tc_o_03(target, op)),
        "TC_O_04_CSMS" => with_operator(op, move |op| tc_o_04(target, op, cfg)),
        "TC_O_05_CSMS" => with_operator(op, move |op| tc_o_05(target, op, cfg)),
        "TC_O_06_CSMS" => with_operator(op, move |op| tc_o_06(target, op, cfg)),
        "TC_O_07_CSMS" => with_operator(op, move |op| tc_o_07(target, op, cfg)),
        "TC_O_08_CSMS" => with_operator(op, move |op| tc_o_08(target, op, cfg)),
        "TC_O_09_CSMS" => with_operator(op, move |op| tc_o_09(target, op, cfg)),
        "TC_O_10_CSMS" => with_operator(op, move |op| tc_o_10(target, op, cfg)),
        "TC_O_14_CSMS" => with_operator(op, move |op| tc_o_14(target, op, cfg)),
        "TC_O_17_CSMS" => with_operator(op, move |op| tc_o_17(target, op, cfg)),
        "TC_O_18_CSMS" => with_operator(op, move |op| tc_o_18(target, op, cfg)),
        "TC_O_19_CSMS" => with_operator(op, move |op| tc_o_19(target, op, cfg)),
        "TC_O_26_CSMS" => with_operator(op, move |op| tc_o_26(target, op, cfg)),
        "TC_O_27_CSMS" => with_operator(op, move |op| tc_o_27(target, op, cfg)),
        "TC_O_28_CSMS" => with_operator(op, move |op| tc_o_28(target, op, cfg)),
        _ => return None,
    })
}

async fn booted(target: &Target) -> Result<Station, CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    Ok(station)
}

/// Whether some object in the report has `id` = `id`.
fn reports_id(report: &Value, id: i64) -> bool {
    match report {
        Value::Object(o) => {
            o.get("id").and_then(Value::as_i64) == Some(id) || o.values().any(|v| reports_id(v, id))
        }
        Value::Array(items) => items.iter().any(|v| reports_id(v, id)),
        _ => false,
    }
}

/// The operator has the CSMS send `message` (MessageInfoType JSON without id); the station
/// answers `status`. The request must carry what was asked (priority, state, times,
/// transactionId, content) and an id the CSMS reports back with the station's answer.
pub async fn set_message(
    station: &mut Station,
    target: &Target,
    op: &Arc<dyn Operator>,
    message: Value,
    allow_unknown_transaction: bool,
    status: DisplayMessageStatusEnumType,
) -> Result<MessageInfoType, CaseError> {
    let mut task = OperatorTask::start(
        op,
        target,
        OperatorAction::SetDisplayMessage {
            message: message.clone(),
            allow_unknown_transaction,
        },
        "have the CSMS send SetDisplayMessageRequest",
    );
    let (id, request) = task
        .expect_call::<SetDisplayMessageRequest>(station)
        .await?;
    station
        .respond::<SetDisplayMessageRequest>(
            &id,
            &SetDisplayMessageResponse {
                custom_data: None,
                status,
                status_info: None,
            },
        )
        .await?;
    let sent = request.message;
    let mut asked = message;
    asked["id"] = json!(sent.id);
    let asked: MessageInfoType =
        serde_json::from_value(asked).map_err(|e| CaseError::Fail(e.to_string()))?;
    ensure!(
        sent == asked,
        "SetDisplayMessageRequest.message must be the message asked for with the CSMS's id; \
         sent {}",
        serde_json::to_string(&sent).unwrap_or_default()
    );
    let report = task.finish(target.timeout).await?;
    ensure!(
        reports_field(&report, "status", status.as_str()),
        "the operator was not told the station's answer {}: {report}",
        status.as_str()
    );
    ensure!(
        reports_id(&report, sent.id),
        "message.id must be the id the CSMS generated and reported ({}): {report}",
        sent.id
    );
    Ok(sent)
}

/// Memory State "a display message is configured": the CSMS set `message`, Accepted.
async fn configured(
    station: &mut Station,
    target: &Target,
    op: &Arc<dyn Operator>,
    message: Value,
) -> Result<MessageInfoType, CaseError> {
    set_message(
        station,
        target,
        op,
        message,
        false,
        DisplayMessageStatusEnumType::Accepted,
    )
    .await
}

/// The operator has the CSMS send GetDisplayMessagesRequest with the criteria; the station
/// answers `status` and, when Accepted, reports `held` in one NotifyDisplayMessagesRequest under
/// the request's requestId. The request's criteria must be exactly those asked for, and its
/// requestId the one the CSMS reports to the operator.
async fn get_messages(
    station: &mut Station,
    target: &Target,
    op: &Arc<dyn Operator>,
    ids: Option<Vec<i64>>,
    priority: Option<&str>,
    state: Option<&str>,
    held: Vec<MessageInfoType>,
) -> Result<GetDisplayMessagesRequest, CaseError> {
    let mut task = OperatorTask::start(
        op,
        target,
        OperatorAction::GetDisplayMessages {
            ids: ids.clone(),
            priority: priority.map(str::to_string),
            state: state.map(str::to_string),
        },
        "have the CSMS send GetDisplayMessagesRequest",
    );
    let (id, request) = task
        .expect_call::<GetDisplayMessagesRequest>(station)
        .await
        .map_err(|e| e.at_step(1))?;
    let status = if held.is_empty() {
        GetDisplayMessagesStatusEnumType::Unknown
    } else {
        GetDisplayMessagesStatusEnumType::Accepted
    };
    station
        .respond::<GetDisplayMessagesRequest>(
            &id,
            &GetDisplayMessagesResponse {
                custom_data: None,
                status,
                status_info: None,
            },
        )
        .await?;
    ensure!(
        request.id == ids,
        "step 1: GetDisplayMessagesRequest.id must be {ids:?}, was {:?}",
        request.id
    );
    let sent_priority = request.priority.map(|p| p.as_str());
    ensure!(
        sent_priority == priority,
        "step 1: GetDisplayMessagesRequest.priority must be {priority:?}, was {sent_priority:?}"
    );
    let sent_state = request.state.map(|s| s.as_str());
    ensure!(
        sent_state == state,
        "step 1: GetDisplayMessagesRequest.state must be {state:?}, was {sent_state:?}"
    );
    if !held.is_empty() {
        station
            .call(&NotifyDisplayMessagesRequest {
                custom_data: None,
                message_info: Some(held),
                request_id: request.request_id,
                tbc: None,
            })
            .await
            .map_err(|e| CaseError::from(e).at_step(4))?;
    }
    let report = task.finish(target.timeout).await?;
    ensure!(
        report.get("requestId").and_then(Value::as_i64) == Some(request.request_id),
        "requestId must be the CSMS's generated id, reported to the operator ({}): {report}",
        request.request_id
    );
    ensure!(
        reports_field(&report, "status", status.as_str()),
        "the operator was not told the station's answer {}: {report}",
        status.as_str()
    );
    Ok(request)
}

/// The operator has the CSMS clear message `id`; the station answers `status`.
async fn clear_message(
    station: &mut Station,
    target: &Target,
    op: &Arc<dyn Operator>,
    id: i64,
    status: ClearMessageStatusEnumType,
) -> Result<(), CaseError> {
    let mut task = OperatorTask::start(
        op,
        target,
        OperatorAction::ClearDisplayMessage { id },
        "have the CSMS send ClearDisplayMessageRequest",
    );
    let (call, request) = task
        .expect_call::<ClearDisplayMessageRequest>(station)
        .await?;
    station
        .respond::<ClearDisplayMessageRequest>(
            &call,
            &ClearDisplayMessageResponse {
                custom_data: None,
                status,
                status_info: None,
            },
        )
        .await?;
    ensure!(
        request.id == id,
        "step 1: ClearDisplayMessageRequest.id must be {id}, was {}",
        request.id
    );
    let report = task.finish(target.timeout).await?;
    ensure!(
        reports_field(&report, "status", status.as_str()),
        "the operator was not told the station's answer {}: {report}",
        status.as_str()
    );
    Ok(())
}

/// TC_O_01_CSMS Set Display Message - Success.
pub async fn tc_o_01(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: DisplayConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let sent = configured(&mut station, target, &op, cfg.message()).await?;
    ensure!(
        sent.priority.as_str() == cfg.priority,
        "message.priority must be {}, was {}",
        cfg.priority,
        sent.priority.as_str()
    );
    ensure!(
        sent.message.format.as_str() == cfg.format,
        "message.message.format must be {}, was {}",
        cfg.format,
        sent.message.format.as_str()
    );
    station.close().await;
    Ok(())
}

/// TC_O_02_CSMS Get all Display Messages - Success.
pub async fn tc_o_02(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: DisplayConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let held = configured(&mut station, target, &op, cfg.message()).await?;
    get_messages(&mut station, target, &op, None, None, None, vec![held]).await?;
    station.close().await;
    Ok(())
}

/// TC_O_03_CSMS Get all Display Messages - No DisplayMessages configured.
pub async fn tc_o_03(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    get_messages(&mut station, target, &op, None, None, None, vec![]).await?;
    station.close().await;
    Ok(())
}

/// TC_O_04_CSMS Clear a Display Message - Success.
pub async fn tc_o_04(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: DisplayConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let held = configured(&mut station, target, &op, cfg.message()).await?;
    clear_message(
        &mut station,
        target,
        &op,
        held.id,
        ClearMessageStatusEnumType::Accepted,
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_O_05_CSMS Clear a Display Message - Unknown Key.
pub async fn tc_o_05(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: DisplayConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    clear_message(
        &mut station,
        target,
        &op,
        cfg.unknown_id,
        ClearMessageStatusEnumType::Unknown,
    )
    .await?;
    station.close().await;
    Ok(())
}

/// A message for the transaction of `session`, with the configured priority.
fn for_transaction(cfg: &DisplayConfig, transaction_id: &str) -> Value {
    let mut message = cfg.message();
    message["transactionId"] = json!(transaction_id);
    message
}

fn check_transaction(sent: &MessageInfoType, want: &str) -> Result<(), CaseError> {
    ensure!(
        sent.transaction_id.as_deref() == Some(want),
        "message.transactionId must be {want}, was {:?}",
        sent.transaction_id
    );
    Ok(())
}

fn check_priority(sent: &MessageInfoType, want: &str) -> Result<(), CaseError> {
    ensure!(
        sent.priority.as_str() == want,
        "message.priority must be {want}, was {}",
        sent.priority.as_str()
    );
    Ok(())
}

/// TC_O_06_CSMS Set Display Message - Specific transaction - Success.
pub async fn tc_o_06(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: DisplayConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let mut session = Session::new(target);
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    let sent = configured(
        &mut station,
        target,
        &op,
        for_transaction(&cfg, &session.transaction_id),
    )
    .await?;
    check_transaction(&sent, &session.transaction_id)?;
    check_priority(&sent, &cfg.priority)?;
    states::ev_disconnected(&mut station, target, &mut session)
        .await
        .map_err(|e| e.at_step(3))?;
    station.close().await;
    Ok(())
}

/// TC_O_07_CSMS Get a Specific Display Message - Id.
pub async fn tc_o_07(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: DisplayConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let held = configured(&mut station, target, &op, cfg.message()).await?;
    let id = held.id;
    get_messages(
        &mut station,
        target,
        &op,
        Some(vec![id]),
        None,
        None,
        vec![held],
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_O_08_CSMS Get a Specific Display Message - Priority.
pub async fn tc_o_08(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: DisplayConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let held = configured(&mut station, target, &op, cfg.message()).await?;
    let priority = Some(cfg.priority.as_str());
    get_messages(&mut station, target, &op, None, priority, None, vec![held]).await?;
    station.close().await;
    Ok(())
}

/// TC_O_09_CSMS Get a Specific Display Message - State.
pub async fn tc_o_09(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: DisplayConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let mut message = cfg.message();
    message["state"] = json!(cfg.state);
    let held = configured(&mut station, target, &op, message).await?;
    let state = Some(cfg.state.as_str());
    get_messages(&mut station, target, &op, None, None, state, vec![held]).await?;
    station.close().await;
    Ok(())
}

/// TC_O_10_CSMS Set Display Message - Specific transaction - Unknown Transaction Id.
pub async fn tc_o_10(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: DisplayConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let mut session = Session::new(target);
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    let unknown = Session::new(target).transaction_id;
    let sent = set_message(
        &mut station,
        target,
        &op,
        for_transaction(&cfg, &unknown),
        true,
        DisplayMessageStatusEnumType::UnknownTransaction,
    )
    .await?;
    ensure!(
        sent.transaction_id.is_some(),
        "message.transactionId must not be omitted"
    );
    check_priority(&sent, &cfg.priority)?;
    station.close().await;
    Ok(())
}

/// TC_O_14_CSMS Set Display Message - Remove message after EndTime.
pub async fn tc_o_14(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: DisplayConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let end = DisplayConfig::at(cfg.end_after);
    let mut message = cfg.message();
    message["endDateTime"] = json!(end);
    let sent = configured(&mut station, target, &op, message).await?;
    ensure!(
        sent.end_date_time == Some(end),
        "message.endDateTime must be {end}, was {:?}",
        sent.end_date_time
    );
    station.close().await;
    Ok(())
}

/// A set the station refuses with `status` (TC_O_17/18/19/26); returns the request.
async fn refused(
    target: &Target,
    op: &Arc<dyn Operator>,
    message: Value,
    status: DisplayMessageStatusEnumType,
) -> Result<MessageInfoType, CaseError> {
    let mut station = booted(target).await?;
    let sent = set_message(&mut station, target, op, message, false, status).await?;
    station.close().await;
    Ok(sent)
}

/// TC_O_17_CSMS Set Display Message - NotSupportedPriority.
pub async fn tc_o_17(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: DisplayConfig,
) -> Result<(), CaseError> {
    let mut message = cfg.message();
    message["priority"] = json!(cfg.unsupported_priority);
    let sent = refused(
        target,
        &op,
        message,
        DisplayMessageStatusEnumType::NotSupportedPriority,
    )
    .await?;
    check_priority(&sent, &cfg.unsupported_priority)
}

/// TC_O_18_CSMS Set Display Message - NotSupportedState.
pub async fn tc_o_18(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: DisplayConfig,
) -> Result<(), CaseError> {
    let mut message = cfg.message();
    message["state"] = json!(cfg.unsupported_state);
    let sent = refused(
        target,
        &op,
        message,
        DisplayMessageStatusEnumType::NotSupportedState,
    )
    .await?;
    let state = sent.state.map(|s| s.as_str());
    ensure!(
        state == Some(cfg.unsupported_state.as_str()),
        "message.state must be {}, was {state:?}",
        cfg.unsupported_state
    );
    Ok(())
}

/// TC_O_19_CSMS Set Display Message - NotSupportedMessageFormat.
pub async fn tc_o_19(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: DisplayConfig,
) -> Result<(), CaseError> {
    let mut message = cfg.message();
    message["message"]["format"] = json!(cfg.unsupported_format);
    message["message"]["content"] = json!("<p>OCTT</p>");
    refused(
        target,
        &op,
        message,
        DisplayMessageStatusEnumType::NotSupportedMessageFormat,
    )
    .await?;
    Ok(())
}

/// TC_O_26_CSMS Set Display Message - Rejected.
pub async fn tc_o_26(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: DisplayConfig,
) -> Result<(), CaseError> {
    let sent = refused(
        target,
        &op,
        cfg.message(),
        DisplayMessageStatusEnumType::Rejected,
    )
    .await?;
    check_priority(&sent, &cfg.priority)
}

/// TC_O_27_CSMS Set Display Message - Specific transaction - Display message at StartTime.
pub async fn tc_o_27(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: DisplayConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let mut session = Session::new(target);
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    let start = DisplayConfig::at(cfg.start_after);
    let mut message = for_transaction(&cfg, &session.transaction_id);
    message["startDateTime"] = json!(start);
    let sent = configured(&mut station, target, &op, message).await?;
    ensure!(
        sent.start_date_time == Some(start),
        "message.startDateTime must be {start}, was {:?}",
        sent.start_date_time
    );
    check_transaction(&sent, &session.transaction_id)?;
    station.close().await;
    Ok(())
}

/// TC_O_28_CSMS Set Display Message - Specific transaction - Remove message after EndTime.
pub async fn tc_o_28(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: DisplayConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let mut session = Session::new(target);
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    let end = DisplayConfig::at(cfg.end_after);
    let mut message = for_transaction(&cfg, &session.transaction_id);
    message["endDateTime"] = json!(end);
    message["state"] = json!("Charging");
    let sent = configured(&mut station, target, &op, message).await?;
    check_priority(&sent, &cfg.priority)?;
    ensure!(
        sent.end_date_time == Some(end),
        "message.endDateTime must be {end}, was {:?}",
        sent.end_date_time
    );
    ensure!(
        sent.state.map(|s| s.as_str()) == Some("Charging"),
        "message.state must be Charging, was {:?}",
        sent.state
    );
    check_transaction(&sent, &session.transaction_id)?;
    station.close().await;
    Ok(())
}
