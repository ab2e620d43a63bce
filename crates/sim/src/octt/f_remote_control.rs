//! Block F, Remote control: starting a transaction remotely with the cable plugged in first
//! (TC_F_01) or the remote start first (TC_F_02/03, and the plug-in timeout TC_F_04), unlocking a
//! connector (TC_F_06), and the messages a TriggerMessageRequest asks for (TC_F_11 … TC_F_27).
//!
//! Readings taken where the draft is inconsistent:
//!
//! * Every case boots first (Reusable State *Booted*): a CSMS need not talk to a station that has
//!   not booted, and "Before: N/a" does not say the station is offline.
//! * The operator asks for the remote start on the configured EVSE (`evseId` given); the tables
//!   validate only the idToken, so `evseId` is not checked.
//! * F_02/03/04 say the TransactionEvent carries a remoteStartId "By OCTT generated"; F_01 says
//!   "By CSMS provided". OCPP (use cases F01, F02) has the station return the remoteStartId of the
//!   RequestStartTransactionRequest, which is the only one the CSMS can link: the CSMS's is sent
//!   in all four.
//! * The RemoteStart TransactionEvent carries the idToken of the request: the tables list none,
//!   but it is the event in which the transaction becomes authorized (OCPP sends the idToken in
//!   that event), and the step after ("State is Authorized") needs the transaction authorized by
//!   it. Its answer is not validated (the tables do not).
//! * F_02's prerequisite (AuthEnabled not read-only false) and title (AuthorizeRemoteStart true)
//!   are the station's own configuration: nothing is asked of the CSMS; the OCTT authorizes the
//!   idToken before starting, as a station with AuthorizeRemoteStart true does.
//! * F_04's EVConnectTimeout event is Updated as printed, with neither chargingState nor idToken;
//!   it deauthorizes the transaction. It is sent after `<Configured Transaction Duration>`
//!   ([`Session::wait`], zero unless configured).
//! * F_12's "evseId omitted" cannot be sent: MeterValuesRequest.evseId is required by the schema.
//!   "Executed for every EVSE" is read as one MeterValuesRequest per EVSE with its own `evseId`:
//!   the configured EVSE, the only one.
//! * F_14's "for every EVSE" is the one ongoing transaction, on the configured EVSE, sent with
//!   `evse` omitted as printed.
//! * The triggered MeterValues and TransactionEvent carry one sampledValue, an
//!   Energy.Active.Import.Register reading in Wh with `context` Trigger.
//! * F_15 and F_18 omit `requestId`: OCPP makes it optional exactly when the notification is
//!   triggered and no upload/update is running.
//! * F_24's validation "Step 1" is the TriggerMessageRequest of step 3 (step 1 is the OCTT's
//!   own StatusNotification).
//! * F_27 does not say which message is requested: the operator asks for
//!   PublishFirmwareStatusNotification, which only a Local Controller implements, so a plain
//!   station's NotImplemented is the realistic answer.

use std::sync::Arc;

use chrono::Utc;
use serde_json::json;
use unicharge_ocpp::v201::{
    AuthorizationStatusEnumType, AuthorizeRequest, ChargingStateEnumType, ConnectorStatusEnumType,
    FirmwareStatusEnumType, FirmwareStatusNotificationRequest, HeartbeatRequest, IdTokenType,
    LogStatusNotificationRequest, MessageTriggerEnumType, MeterValueType, MeterValuesRequest,
    RequestStartStopStatusEnumType, RequestStartTransactionRequest,
    RequestStartTransactionResponse, TriggerMessageRequest, TriggerMessageResponse,
    TriggerMessageStatusEnumType, TriggerReasonEnumType, UnlockConnectorRequest,
    UnlockConnectorResponse, UnlockStatusEnumType, UploadLogStatusEnumType,
};

use super::operator::{Operator, OperatorAction};
use super::states::{self, Session, TxState};
use super::{with_operator, CaseError, OperatorTask, ScenarioFuture, Target};
use crate::ensure;
use crate::station::Station;

/// The scenario for a case id of this block, if the simulator has one.
pub(crate) fn scenario<'a>(
    id: &str,
    target: &'a Target,
    op: Option<Arc<dyn Operator>>,
) -> Option<ScenarioFuture<'a>> {
    Some(match id {
        "TC_F_01_CSMS" => with_operator(op, |op| tc_f_01(target, op)),
        "TC_F_02_CSMS" => with_operator(op, |op| tc_f_02(target, op)),
        "TC_F_03_CSMS" => with_operator(op, |op| tc_f_03(target, op)),
        "TC_F_04_CSMS" => with_operator(op, |op| tc_f_04(target, op)),
        "TC_F_06_CSMS" => with_operator(op, |op| tc_f_06(target, op)),
        "TC_F_11_CSMS" => with_operator(op, |op| tc_f_11(target, op)),
        "TC_F_12_CSMS" => with_operator(op, |op| tc_f_12(target, op)),
        "TC_F_13_CSMS" => with_operator(op, |op| tc_f_13(target, op)),
        "TC_F_14_CSMS" => with_operator(op, |op| tc_f_14(target, op)),
        "TC_F_15_CSMS" => with_operator(op, |op| tc_f_15(target, op)),
        "TC_F_18_CSMS" => with_operator(op, |op| tc_f_18(target, op)),
        "TC_F_20_CSMS" => with_operator(op, |op| tc_f_20(target, op)),
        "TC_F_23_CSMS" => with_operator(op, |op| tc_f_23(target, op)),
        "TC_F_24_CSMS" => with_operator(op, |op| tc_f_24(target, op)),
        "TC_F_27_CSMS" => with_operator(op, |op| tc_f_27(target, op)),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Remote start (F01, F02) and unlock (F05)
// ---------------------------------------------------------------------------------------------

/// Steps 1 and 2 of the remote start cases: the operator has the CSMS start a transaction for
/// the session's valid idToken on its EVSE; the OCTT answers Accepted with `transaction_id`
/// (None: omitted). Step 1 validation: `idToken.idToken` / `idToken.type` the configured valid
/// idToken (idTokens compare case-insensitively). Returns the request and the operator's task.
async fn remote_start(
    station: &mut Station,
    target: &Target,
    operator: &Arc<dyn Operator>,
    session: &Session,
    transaction_id: Option<String>,
) -> Result<(RequestStartTransactionRequest, OperatorTask), CaseError> {
    let token = &session.valid_id_token;
    let mut task = OperatorTask::start(
        operator,
        target,
        OperatorAction::RequestStartTransaction {
            id_token: token.id_token.clone(),
            id_token_type: token.r#type.as_str().into(),
            evse_id: Some(session.evse_id),
            charging_profile: None,
        },
        "have the CSMS send RequestStartTransactionRequest",
    );
    let (id, request) = task
        .expect_call::<RequestStartTransactionRequest>(station)
        .await?;
    station
        .respond::<RequestStartTransactionRequest>(
            &id,
            &RequestStartTransactionResponse {
                custom_data: None,
                status: RequestStartStopStatusEnumType::Accepted,
                status_info: None,
                transaction_id,
            },
        )
        .await?;
    check_id_token(
        "step 1: RequestStartTransactionRequest.idToken",
        &request.id_token,
        token,
    )?;
    Ok((request, task))
}

fn check_id_token(field: &str, got: &IdTokenType, want: &IdTokenType) -> Result<(), CaseError> {
    ensure!(
        got.id_token.eq_ignore_ascii_case(&want.id_token),
        "{field}.idToken must be {:?}, was {:?}",
        want.id_token,
        got.id_token
    );
    ensure!(
        got.r#type == want.r#type,
        "{field}.type must be {}, was {}",
        want.r#type.as_str(),
        got.r#type.as_str()
    );
    Ok(())
}

/// TransactionEvent `triggerReason` RemoteStart with the request's `remoteStartId` and idToken
/// (Started, or Updated when the transaction already runs); the session is then authorized by
/// that idToken.
async fn remote_start_event(
    station: &mut Station,
    session: &mut Session,
    request: &RequestStartTransactionRequest,
) -> Result<(), CaseError> {
    let mut event = session.next_event(TriggerReasonEnumType::RemoteStart, None);
    event.transaction_info.remote_start_id = Some(request.remote_start_id);
    event.id_token = Some(request.id_token.clone());
    station.call(&event).await?;
    session.authorized = true;
    session.id_token = Some(request.id_token.clone());
    session.state = Some(TxState::Authorized);
    Ok(())
}

/// TC_F_01_CSMS Remote start transaction - Cable plugin first. From EVConnectedPreSession, the
/// operator has the CSMS start a transaction; the OCTT answers Accepted with the ongoing
/// transaction's id, sends TransactionEvent Updated RemoteStart with the CSMS's remoteStartId,
/// and plays EnergyTransferStarted. Step 1 validation: the configured valid idToken.
pub async fn tc_f_01(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut session = Session::new(target);
    states::ev_connected_pre_session(&mut station, target, &mut session).await?;
    let transaction_id = Some(session.transaction_id.clone());
    let (request, task) =
        remote_start(&mut station, target, &operator, &session, transaction_id).await?;
    remote_start_event(&mut station, &mut session, &request).await?;
    task.finish(target.timeout).await?;
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    station.close().await;
    Ok(())
}

/// TC_F_02/03/04: the operator has the CSMS start a transaction before anything is plugged in;
/// the OCTT answers Accepted without a transactionId, authorizes the idToken first when
/// `authorize` (step 4 validation: AuthorizeResponse.idTokenInfo.status Accepted) and sends
/// TransactionEvent Started RemoteStart with the CSMS's remoteStartId.
async fn remote_start_first(
    station: &mut Station,
    target: &Target,
    operator: Arc<dyn Operator>,
    session: &mut Session,
    authorize: bool,
) -> Result<(), CaseError> {
    let (request, task) = remote_start(station, target, &operator, session, None).await?;
    task.finish(target.timeout).await?;
    if authorize {
        let answer = station
            .call(&AuthorizeRequest {
                custom_data: None,
                id_token: session.valid_id_token.clone(),
                certificate: None,
                iso15118_certificate_hash_data: None,
            })
            .await?;
        let status = answer.id_token_info.status;
        ensure!(
            status == AuthorizationStatusEnumType::Accepted,
            "step 4: AuthorizeResponse.idTokenInfo.status must be Accepted, was {}",
            status.as_str()
        );
    }
    remote_start_event(station, session, &request).await
}

/// TC_F_02_CSMS Remote start transaction - Remote start first - AuthorizeRemoteStart is true:
/// remote start (answered without a transactionId), AuthorizeRequest with the valid idToken,
/// TransactionEvent Started RemoteStart, then EnergyTransferStarted (plugging in first).
/// Validations: step 1 the configured valid idToken; step 4 AuthorizeResponse Accepted.
pub async fn tc_f_02(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    remote_start_then_charge(target, operator, true).await
}

/// TC_F_03_CSMS Remote start transaction - Remote start first - AuthorizeRemoteStart is false:
/// as TC_F_02 without the AuthorizeRequest. Validation: step 1 the configured valid idToken.
pub async fn tc_f_03(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    remote_start_then_charge(target, operator, false).await
}

async fn remote_start_then_charge(
    target: &Target,
    operator: Arc<dyn Operator>,
    authorize: bool,
) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut session = Session::new(target);
    remote_start_first(&mut station, target, operator, &mut session, authorize).await?;
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    station.close().await;
    Ok(())
}

/// TC_F_04_CSMS Remote start transaction - Remote start first - Cable plugin timeout: as
/// TC_F_03 up to the Started event, then, after `<Configured Transaction Duration>`,
/// TransactionEvent Updated EVConnectTimeout. Validation: step 1 the configured valid idToken.
pub async fn tc_f_04(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut session = Session::new(target);
    remote_start_first(&mut station, target, operator, &mut session, false).await?;
    states::pause(session.wait).await;
    let event = session.next_event(TriggerReasonEnumType::EvConnectTimeout, None);
    station.call(&event).await?;
    session.authorized = false;
    station.close().await;
    Ok(())
}

/// TC_F_06_CSMS Remote unlock Connector - Without ongoing transaction - Accepted: the CSMS
/// sends UnlockConnectorRequest, answered Unlocked. Step 1 validation: `evseId` and
/// `connectorId` the configured ones.
pub async fn tc_f_06(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::UnlockConnector {
            evse_id: target.evse_id,
            connector_id: target.connector_id,
        },
        "have the CSMS send UnlockConnectorRequest",
    );
    let (id, request) = task
        .expect_call::<UnlockConnectorRequest>(&mut station)
        .await?;
    station
        .respond::<UnlockConnectorRequest>(
            &id,
            &UnlockConnectorResponse {
                custom_data: None,
                status: UnlockStatusEnumType::Unlocked,
                status_info: None,
            },
        )
        .await?;
    ensure!(
        request.evse_id == target.evse_id,
        "step 1: UnlockConnectorRequest.evseId must be {}, was {}",
        target.evse_id,
        request.evse_id
    );
    ensure!(
        request.connector_id == target.connector_id,
        "step 1: UnlockConnectorRequest.connectorId must be {}, was {}",
        target.connector_id,
        request.connector_id
    );
    task.finish(target.timeout).await?;
    station.close().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Trigger message (F06)
// ---------------------------------------------------------------------------------------------

/// The TriggerMessage cases' first steps: the operator has the CSMS ask for `requested`
/// (for the configured EVSE when `evse`, else for all); the OCTT answers `answer`.
/// Validation at `step`: `requestedMessage` = `requested` and, when `evse`, `evse.id` the
/// configured EVSE. Returns the operator's task, to be finished after the triggered message.
async fn trigger(
    station: &mut Station,
    target: &Target,
    operator: &Arc<dyn Operator>,
    requested: MessageTriggerEnumType,
    evse: bool,
    answer: TriggerMessageStatusEnumType,
    step: u32,
) -> Result<OperatorTask, CaseError> {
    let mut task = OperatorTask::start(
        operator,
        target,
        OperatorAction::TriggerMessage {
            requested_message: requested.as_str().into(),
            evse_id: evse.then_some(target.evse_id),
            connector_id: None,
        },
        format!(
            "have the CSMS send TriggerMessageRequest {}",
            requested.as_str()
        ),
    );
    let (id, request) = task.expect_call::<TriggerMessageRequest>(station).await?;
    station
        .respond::<TriggerMessageRequest>(
            &id,
            &TriggerMessageResponse {
                custom_data: None,
                status: answer,
                status_info: None,
            },
        )
        .await?;
    ensure!(
        request.requested_message == requested,
        "step {step}: TriggerMessageRequest.requestedMessage must be {}, was {}",
        requested.as_str(),
        request.requested_message.as_str()
    );
    if evse {
        let got = request.evse.as_ref().map(|e| e.id);
        ensure!(
            got == Some(target.evse_id),
            "step {step}: TriggerMessageRequest.evse.id must be {}, was {got:?}",
            target.evse_id
        );
    }
    Ok(task)
}

/// Boot, have the CSMS trigger `requested` (answered Accepted, validated as in [`trigger`] at
/// step 1), send what was asked for with `send`, and collect the operator's report.
async fn triggered<F>(
    target: &Target,
    operator: Arc<dyn Operator>,
    requested: MessageTriggerEnumType,
    evse: bool,
    send: F,
) -> Result<(), CaseError>
where
    F: for<'s> FnOnce(&'s mut Station) -> ScenarioFuture<'s>,
{
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let task = trigger(
        &mut station,
        target,
        &operator,
        requested,
        evse,
        TriggerMessageStatusEnumType::Accepted,
        1,
    )
    .await?;
    send(&mut station).await?;
    task.finish(target.timeout).await?;
    station.close().await;
    Ok(())
}

/// One meter value taken now: an Energy.Active.Import.Register reading in Wh with `context`
/// Trigger (built through JSON: `value` is a decimal number).
fn trigger_meter_value() -> Result<MeterValueType, CaseError> {
    serde_json::from_value(json!({
        "timestamp": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "sampledValue": [{
            "value": 1000,
            "context": "Trigger",
            "measurand": "Energy.Active.Import.Register",
            "unitOfMeasure": {"unit": "Wh"}
        }]
    }))
    .map_err(|e| CaseError::Fail(format!("building a MeterValue: {e}")))
}

/// MeterValuesRequest for `evse_id` with one Trigger reading.
async fn send_meter_values(station: &mut Station, evse_id: i64) -> Result<(), CaseError> {
    station
        .call(&MeterValuesRequest {
            custom_data: None,
            evse_id,
            meter_value: vec![trigger_meter_value()?],
        })
        .await?;
    Ok(())
}

/// TC_F_11_CSMS Trigger message - MeterValues - Specific EVSE: the OCTT answers Accepted and
/// sends MeterValuesRequest for the configured EVSE with context Trigger. Step 1 validation:
/// `requestedMessage` MeterValues, `evse.id` the configured EVSE.
pub async fn tc_f_11(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let evse_id = target.evse_id;
    triggered(
        target,
        operator,
        MessageTriggerEnumType::MeterValues,
        true,
        |station| Box::pin(send_meter_values(station, evse_id)),
    )
    .await
}

/// TC_F_12_CSMS Trigger message - MeterValues - All EVSE: as TC_F_11 without an EVSE; one
/// MeterValuesRequest per EVSE (see the module's readings). Step 1 validation:
/// `requestedMessage` MeterValues.
pub async fn tc_f_12(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let evse_id = target.evse_id;
    triggered(
        target,
        operator,
        MessageTriggerEnumType::MeterValues,
        false,
        |station| Box::pin(send_meter_values(station, evse_id)),
    )
    .await
}

/// TC_F_13_CSMS Trigger message - TransactionEvent - Specific EVSE: from EnergyTransferStarted,
/// the OCTT answers Accepted and sends TransactionEvent Updated Trigger / Charging with the
/// configured `evse` and a Trigger meter value. Step 1 validation: `requestedMessage`
/// TransactionEvent, `evse.id` the configured EVSE.
pub async fn tc_f_13(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    triggered_transaction_event(target, operator, true).await
}

/// TC_F_14_CSMS Trigger message - TransactionEvent - All EVSE: as TC_F_13 without an EVSE, the
/// event sent with `evse` omitted. Step 1 validation: `requestedMessage` TransactionEvent.
pub async fn tc_f_14(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    triggered_transaction_event(target, operator, false).await
}

async fn triggered_transaction_event(
    target: &Target,
    operator: Arc<dyn Operator>,
    evse: bool,
) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut session = Session::new(target);
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    let task = trigger(
        &mut station,
        target,
        &operator,
        MessageTriggerEnumType::TransactionEvent,
        evse,
        TriggerMessageStatusEnumType::Accepted,
        1,
    )
    .await?;
    let mut event = session.next_event(
        TriggerReasonEnumType::Trigger,
        Some(ChargingStateEnumType::Charging),
    );
    event.evse = evse.then(|| session.evse());
    event.meter_value = Some(vec![trigger_meter_value()?]);
    station.call(&event).await?;
    task.finish(target.timeout).await?;
    station.close().await;
    Ok(())
}

/// TC_F_15_CSMS Trigger message - LogStatusNotification - Idle: the OCTT answers Accepted and
/// sends LogStatusNotificationRequest Idle (no requestId). Step 1 validation:
/// `requestedMessage` LogStatusNotification.
pub async fn tc_f_15(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    triggered(
        target,
        operator,
        MessageTriggerEnumType::LogStatusNotification,
        false,
        |station| {
            Box::pin(async move {
                station
                    .call(&LogStatusNotificationRequest {
                        custom_data: None,
                        status: UploadLogStatusEnumType::Idle,
                        request_id: None,
                    })
                    .await?;
                Ok(())
            })
        },
    )
    .await
}

/// TC_F_18_CSMS Trigger message - FirmwareNotification - Idle: the OCTT answers Accepted and
/// sends FirmwareStatusNotificationRequest Idle (no requestId). Step 1 validation:
/// `requestedMessage` FirmwareStatusNotification.
pub async fn tc_f_18(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    triggered(
        target,
        operator,
        MessageTriggerEnumType::FirmwareStatusNotification,
        false,
        |station| {
            Box::pin(async move {
                station
                    .call(&FirmwareStatusNotificationRequest {
                        custom_data: None,
                        status: FirmwareStatusEnumType::Idle,
                        request_id: None,
                    })
                    .await?;
                Ok(())
            })
        },
    )
    .await
}

/// TC_F_20_CSMS Trigger message - Heartbeat: the OCTT answers Accepted and sends
/// HeartbeatRequest. Step 1 validation: `requestedMessage` Heartbeat.
pub async fn tc_f_20(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    triggered(
        target,
        operator,
        MessageTriggerEnumType::Heartbeat,
        false,
        |station| {
            Box::pin(async move {
                station
                    .call(&HeartbeatRequest { custom_data: None })
                    .await?;
                Ok(())
            })
        },
    )
    .await
}

/// TC_F_23_CSMS Trigger message - StatusNotification - Specific EVSE - Available: the OCTT
/// answers Accepted and reports the configured connector Available (StatusNotification and
/// NotifyEvent). Step 1 validation: `requestedMessage` StatusNotification, `evse.id` the
/// configured EVSE.
pub async fn tc_f_23(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let (evse_id, connector_id) = (target.evse_id, target.connector_id);
    triggered(
        target,
        operator,
        MessageTriggerEnumType::StatusNotification,
        true,
        move |station| {
            Box::pin(states::notify_connector_status(
                station,
                evse_id,
                connector_id,
                ConnectorStatusEnumType::Available,
            ))
        },
    )
    .await
}

/// TC_F_24_CSMS Trigger message - StatusNotification - Specific EVSE - Occupied: the OCTT
/// reports the configured connector Occupied, the CSMS triggers StatusNotification for the
/// configured EVSE (answered Accepted) and the OCTT reports Occupied again. Validation (step 3,
/// printed "Step 1"): `requestedMessage` StatusNotification, `evse.id` the configured EVSE.
pub async fn tc_f_24(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let occupied = ConnectorStatusEnumType::Occupied;
    let (evse_id, connector_id) = (target.evse_id, target.connector_id);
    states::notify_connector_status(&mut station, evse_id, connector_id, occupied).await?;
    let task = trigger(
        &mut station,
        target,
        &operator,
        MessageTriggerEnumType::StatusNotification,
        true,
        TriggerMessageStatusEnumType::Accepted,
        3,
    )
    .await?;
    states::notify_connector_status(&mut station, evse_id, connector_id, occupied).await?;
    task.finish(target.timeout).await?;
    station.close().await;
    Ok(())
}

/// TC_F_27_CSMS Trigger message - NotImplemented: the CSMS sends a TriggerMessageRequest (for
/// PublishFirmwareStatusNotification, see the module's readings), answered NotImplemented. No
/// tool validations; the operator must still get the CSMS's report.
pub async fn tc_f_27(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::TriggerMessage {
            requested_message: MessageTriggerEnumType::PublishFirmwareStatusNotification
                .as_str()
                .into(),
            evse_id: None,
            connector_id: None,
        },
        "have the CSMS send TriggerMessageRequest",
    );
    let (id, _request) = task
        .expect_call::<TriggerMessageRequest>(&mut station)
        .await?;
    station
        .respond::<TriggerMessageRequest>(
            &id,
            &TriggerMessageResponse {
                custom_data: None,
                status: TriggerMessageStatusEnumType::NotImplemented,
                status_info: None,
            },
        )
        .await?;
    task.finish(target.timeout).await?;
    station.close().await;
    Ok(())
}

/// For the unit tests of blocks D, F and H: an operator that does what unicharge's typed
/// operations do (allocate the remoteStartId, the reservation id and the list version, fill in
/// the local list's idTokenInfo) with the stub CSMS's generic OCPP command, and reports what the
/// REST API reports.
#[cfg(test)]
pub(crate) mod typed_stub {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;

    use async_trait::async_trait;
    use chrono::Utc;
    use serde_json::{json, Value};

    use crate::octt::operator::{Operator, OperatorAction};

    pub(crate) struct TypedStub {
        inner: Arc<dyn Operator>,
        next_id: AtomicI64,
    }

    impl TypedStub {
        /// Typed actions done through `inner` (a stub operator, possibly corrupting CALLs).
        pub(crate) fn wrap(inner: Arc<dyn Operator>) -> Arc<dyn Operator> {
            Arc::new(TypedStub {
                inner,
                next_id: AtomicI64::new(1),
            })
        }

        async fn ocpp(&self, station: &str, action: &str, payload: Value) -> Result<Value, String> {
            let action = OperatorAction::Ocpp {
                action: action.into(),
                payload,
            };
            self.inner.perform(station, action).await
        }
    }

    fn token(id_token: &str, kind: &str) -> Value {
        json!({"idToken": id_token, "type": kind})
    }

    #[async_trait]
    impl Operator for TypedStub {
        async fn perform(&self, station: &str, action: OperatorAction) -> Result<Value, String> {
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            match action {
                OperatorAction::SendLocalList {
                    update_type,
                    entries,
                } => {
                    let mut payload = json!({"versionNumber": id, "updateType": update_type});
                    if !entries.is_empty() {
                        payload["localAuthorizationList"] = entries
                            .iter()
                            .map(|(t, k)| {
                                let info = json!({"status": "Accepted"});
                                json!({"idToken": token(t, k), "idTokenInfo": info})
                            })
                            .collect();
                    }
                    let mut answer = self.ocpp(station, "SendLocalList", payload).await?;
                    answer["versionNumber"] = json!(id);
                    answer["resentFull"] = json!(false);
                    Ok(answer)
                }
                OperatorAction::GetLocalListVersion => {
                    self.ocpp(station, "GetLocalListVersion", json!({})).await
                }
                OperatorAction::RequestStartTransaction {
                    id_token,
                    id_token_type,
                    evse_id,
                    ..
                } => {
                    let mut payload =
                        json!({"idToken": token(&id_token, &id_token_type), "remoteStartId": id});
                    if let Some(evse) = evse_id {
                        payload["evseId"] = json!(evse);
                    }
                    let mut answer = self
                        .ocpp(station, "RequestStartTransaction", payload)
                        .await?;
                    answer["remoteStartId"] = json!(id);
                    Ok(answer)
                }
                OperatorAction::UnlockConnector {
                    evse_id,
                    connector_id,
                } => {
                    let payload = json!({"evseId": evse_id, "connectorId": connector_id});
                    self.ocpp(station, "UnlockConnector", payload).await
                }
                OperatorAction::ReserveNow {
                    id_token,
                    id_token_type,
                    group_id_token,
                    evse_id,
                    connector_type,
                    expires_in_seconds,
                } => {
                    let expiry = Utc::now() + chrono::Duration::seconds(expires_in_seconds);
                    let mut payload = json!({
                        "id": id,
                        "expiryDateTime": expiry.to_rfc3339(),
                        "idToken": token(&id_token, &id_token_type),
                    });
                    if let Some(group) = group_id_token {
                        payload["groupIdToken"] = token(&group, "Central");
                    }
                    if let Some(evse) = evse_id {
                        payload["evseId"] = json!(evse);
                    }
                    if let Some(connector_type) = connector_type {
                        payload["connectorType"] = json!(connector_type);
                    }
                    let mut answer = self.ocpp(station, "ReserveNow", payload).await?;
                    answer["id"] = json!(id);
                    Ok(answer)
                }
                OperatorAction::CancelReservation { reservation_id } => {
                    let payload = json!({ "reservationId": reservation_id });
                    self.ocpp(station, "CancelReservation", payload).await
                }
                other => self.inner.perform(station, other).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::typed_stub::TypedStub;
    use super::*;
    use crate::octt::stub::{failure, Stub, CHARGING};
    use crate::octt::{run, Verdict};

    /// The station's CALLs of `action`.
    fn calls_of(stub: &Stub, action: &str) -> Vec<Value> {
        stub.calls()
            .into_iter()
            .filter(|(a, _)| a == action)
            .map(|(_, p)| p)
            .collect()
    }

    #[tokio::test]
    async fn every_case_passes_against_a_conforming_csms() {
        for case in [
            "TC_F_01_CSMS",
            "TC_F_02_CSMS",
            "TC_F_03_CSMS",
            "TC_F_04_CSMS",
            "TC_F_06_CSMS",
            "TC_F_11_CSMS",
            "TC_F_12_CSMS",
            "TC_F_13_CSMS",
            "TC_F_14_CSMS",
            "TC_F_15_CSMS",
            "TC_F_18_CSMS",
            "TC_F_20_CSMS",
            "TC_F_23_CSMS",
            "TC_F_24_CSMS",
            "TC_F_27_CSMS",
        ] {
            let stub = Stub::start().await;
            let operator = TypedStub::wrap(stub.operator());
            let verdict = run(case, &stub.target(), Some(operator)).await;
            assert_eq!(verdict, Verdict::Pass, "{case}");
        }
    }

    #[tokio::test]
    async fn remote_start_echoes_the_csms_remote_start_id() {
        let stub = Stub::start().await;
        tc_f_01(&stub.target(), TypedStub::wrap(stub.operator()))
            .await
            .unwrap();
        let events = calls_of(&stub, "TransactionEvent");
        let remote: Vec<&Value> = events
            .iter()
            .filter(|e| e["triggerReason"] == "RemoteStart")
            .collect();
        assert_eq!(remote.len(), 1, "{events:?}");
        assert_eq!(remote[0]["eventType"], "Updated");
        assert_eq!(remote[0]["transactionInfo"]["remoteStartId"], 1);
        assert_eq!(remote[0]["idToken"]["idToken"], "OCTT-VALID-001");
        let results = stub.results();
        assert_eq!(results[0].0, "RequestStartTransaction");
        assert_eq!(
            results[0].1["transactionId"],
            events[0]["transactionInfo"]["transactionId"]
        );

        let stub = Stub::start().await;
        tc_f_02(&stub.target(), TypedStub::wrap(stub.operator()))
            .await
            .unwrap();
        let summary = stub.summary();
        assert_eq!(
            summary[3..],
            [
                "Authorize",
                "TransactionEvent Started RemoteStart OCTT-VALID-001",
                "StatusNotification Occupied",
                "NotifyEvent Occupied",
                "TransactionEvent Updated CablePluggedIn EVConnected",
                "TransactionEvent Updated ChargingStateChanged Charging",
            ]
        );
        assert!(stub.results()[0].1.get("transactionId").is_none());

        let stub = Stub::start().await;
        tc_f_04(&stub.target(), TypedStub::wrap(stub.operator()))
            .await
            .unwrap();
        assert_eq!(
            stub.summary()[3..],
            [
                "TransactionEvent Started RemoteStart OCTT-VALID-001",
                "TransactionEvent Updated EVConnectTimeout",
            ]
        );
    }

    #[tokio::test]
    async fn remote_control_validations() {
        let stub = Stub::start().await;
        let other_token = TypedStub::wrap(stub.operator_with(|_, p| {
            if p.get("remoteStartId").is_some() {
                p["idToken"]["idToken"] = json!("SOMEONE-ELSE");
            }
        }));
        let message = failure(tc_f_03(&stub.target(), other_token).await);
        assert!(
            message.contains("step 1") && message.contains("idToken must be \"OCTT-VALID-001\""),
            "{message}"
        );

        let stub = Stub::start().await;
        let other_connector =
            TypedStub::wrap(stub.operator_with(|_, p| p["connectorId"] = json!(2)));
        let message = failure(tc_f_06(&stub.target(), other_connector).await);
        assert!(
            message.contains("connectorId must be 1, was 2"),
            "{message}"
        );

        let stub = Stub::start().await;
        let no_evse = TypedStub::wrap(stub.operator_with(|_, p| {
            p.as_object_mut().unwrap().remove("evse");
        }));
        let message = failure(tc_f_11(&stub.target(), no_evse).await);
        assert!(message.contains("evse.id must be 1, was None"), "{message}");

        let stub = Stub::start().await;
        let heartbeat =
            TypedStub::wrap(stub.operator_with(|_, p| p["requestedMessage"] = json!("Heartbeat")));
        let message = failure(tc_f_24(&stub.target(), heartbeat).await);
        assert!(
            message.contains("step 3")
                && message.contains("must be StatusNotification, was Heartbeat"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn triggered_messages_are_what_was_asked_for() {
        let stub = Stub::start().await;
        tc_f_12(&stub.target(), TypedStub::wrap(stub.operator()))
            .await
            .unwrap();
        let meter = calls_of(&stub, "MeterValues");
        assert_eq!(meter.len(), 1);
        assert_eq!(meter[0]["evseId"], 1);
        assert_eq!(
            meter[0]["meterValue"][0]["sampledValue"][0]["context"],
            "Trigger"
        );

        for (evse, scenario) in [(true, "TC_F_13_CSMS"), (false, "TC_F_14_CSMS")] {
            let stub = Stub::start().await;
            let verdict = run(
                scenario,
                &stub.target(),
                Some(TypedStub::wrap(stub.operator())),
            )
            .await;
            assert_eq!(verdict, Verdict::Pass);
            let summary = stub.summary();
            assert_eq!(summary[..CHARGING.len()], CHARGING);
            assert_eq!(
                summary[CHARGING.len()..],
                ["TransactionEvent Updated Trigger Charging"]
            );
            let events = calls_of(&stub, "TransactionEvent");
            let last = events.last().unwrap();
            assert_eq!(last.get("evse").is_some(), evse, "{scenario}: {last}");
            assert_eq!(
                last["meterValue"][0]["sampledValue"][0]["context"],
                "Trigger"
            );
        }

        let stub = Stub::start().await;
        tc_f_27(&stub.target(), TypedStub::wrap(stub.operator()))
            .await
            .unwrap();
        assert_eq!(stub.results()[0].1["status"], "NotImplemented");
    }
}
