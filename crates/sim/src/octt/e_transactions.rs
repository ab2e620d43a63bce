//! Block E, Transactions: the transaction start points (TC_E_01/02/09/10/11/12), local starts
//! cable-first and authorization-first (TC_E_03/04/38), the stop points and stop reasons
//! (TC_E_07/08/14/15/16/17/19/20/22/39), a remote stop (TC_E_21), an EV-side unplug that
//! suspends the transaction (TC_E_26), GetTransactionStatus with and without a transactionId,
//! with and without queued messages, after a reconnection (TC_E_29/30/31/33/34), and seqNo 0 for
//! every new transaction (TC_E_53).
//!
//! The configured idTokens are [`AuthConfig::octt`]'s (valid: ISO14443 `OCTT-VALID-001`,
//! invalid: `OCTT-INVALID-001`); the configured durations are a [`TxConfig`]'s.
//!
//! Readings taken where the draft is inconsistent or silent:
//!
//! * Every case boots first (Reusable State *Booted*), as in block C.
//! * The durations the OCTT waits (`<Configured EV connection timeout>` before E_39's Ended
//!   event, `<Configured Transaction Duration>` offline in E_29/31/33 and in the suspended and
//!   stop-authorized states) are [`TxConfig`]'s, zero in [`TxConfig::octt`] as in
//!   [`Session::wait`].
//! * Where a table gives no `chargingState` (E_10/12/15/07/16/21/39, E_11's Started event) none
//!   is sent. Where it gives no `evse`, the first event of a transaction still carries it, as
//!   the reusable states do (E_10, E_12, E_16).
//! * The TransactionEvents with `triggerReason` StopAuthorized that the tables print without an
//!   idToken (E_07, E_15, E_31 step 7) carry the idToken that authorized the transaction, as
//!   Table 205 (StopAuthorized) does: the driver presented it to stop.
//! * E_19 ("State is EVDisconnected", then an Ended event EVDeparted) would end the transaction
//!   twice. The case is about TxStopPoint ParkingBayOccupancy (E06 S1): unplugging does not end
//!   the transaction there, the EV leaving the bay does. So the EVDisconnected state is played
//!   with its last event as *Updated* (EVCommunicationLost / Idle, no stoppedReason) and the
//!   transaction ends with the case's own Ended EVDeparted / Local.
//! * E_26 step 5 (CablePluggedIn) carries `evse`, as every CablePluggedIn event of the states
//!   does; no StatusNotification Occupied is sent before it, as the table sends none.
//! * E_29/E_33 "reconnect" opens a new WebSocket without a BootNotification (the station did not
//!   reboot). Their queued event (Updated, "meterValues is present", `offline` true) has
//!   `triggerReason` MeterValuePeriodic and one `Sample.Periodic` reading, dated while offline.
//! * E_31's offline events happened in the order StopAuthorized, EVConnected, Ended (seqNo n,
//!   n+1, n+2) and are dated so; the station sends Ended first ("skips two sequence number
//!   values"), then the two others. The Ended event carries `stoppedReason` EVDisconnected: the
//!   table gives none, and an omitted stoppedReason means Local, which EVCommunicationLost / Idle
//!   is not.
//! * E_29/31/33: the GetTransactionStatusRequest the CSMS sends by itself after the reconnection
//!   is taken wherever it arrives — before, while or after the station sends its first queued
//!   event (the tables order it after the station's step in E_31 and before it in E_29/33, but a
//!   CSMS cannot know what the station holds before asking or before reading what it sends).
//!   E_30 and E_34 name no trigger: the operator asks for it
//!   ([`OperatorAction::GetTransactionStatus`]).
//! * E_53 validates "CSMS accepts the message … and answers with a TransactionEventResponse": the
//!   schema-valid CALLRESULT to each Started event (seqNo 0) of both transactions.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::Utc;
use unicharge_ocpp::v201::{
    AuthorizationStatusEnumType, AuthorizeRequest, ChargingStateEnumType, ConnectorStatusEnumType,
    GetTransactionStatusRequest, GetTransactionStatusResponse, IdTokenInfoType, IdTokenType,
    MeterValueType, ReadingContextEnumType, ReasonEnumType, RequestStartStopStatusEnumType,
    RequestStopTransactionRequest, RequestStopTransactionResponse, TransactionEventRequest,
    TriggerReasonEnumType,
};

use super::c_authorization::AuthConfig;
use super::j_meter_values::{energy_and_power, energy_value, Meter};
use super::operator::{Operator, OperatorAction};
use super::states::{self, pause, Session, TxState};
use super::{with_operator, CaseError, OperatorTask, ScenarioFuture, Target};
use crate::ensure;
use crate::station::{SimError, Station};

/// The scenario for a case id of this block, if the simulator has one.
pub(crate) fn scenario<'a>(
    id: &str,
    target: &'a Target,
    op: Option<Arc<dyn Operator>>,
) -> Option<ScenarioFuture<'a>> {
    let c = TxConfig::octt();
    Some(match id {
        "TC_E_01_CSMS" => Box::pin(tc_e_01(target, c)),
        "TC_E_02_CSMS" => Box::pin(tc_e_02(target, c)),
        "TC_E_03_CSMS" => Box::pin(tc_e_03(target, c)),
        "TC_E_04_CSMS" => Box::pin(tc_e_04(target, c)),
        "TC_E_39_CSMS" => Box::pin(tc_e_39(target, c)),
        "TC_E_14_CSMS" => Box::pin(tc_e_14(target, c)),
        "TC_E_20_CSMS" => Box::pin(tc_e_20(target, c)),
        "TC_E_15_CSMS" => Box::pin(tc_e_15(target, c)),
        "TC_E_21_CSMS" => with_operator(op, |op| tc_e_21(target, c, op)),
        "TC_E_09_CSMS" => Box::pin(tc_e_09(target, c)),
        "TC_E_10_CSMS" => Box::pin(tc_e_10(target, c)),
        "TC_E_11_CSMS" => Box::pin(tc_e_11(target, c)),
        "TC_E_12_CSMS" => Box::pin(tc_e_12(target, c)),
        "TC_E_38_CSMS" => Box::pin(tc_e_38(target, c)),
        "TC_E_07_CSMS" => Box::pin(tc_e_07(target, c)),
        "TC_E_08_CSMS" => Box::pin(tc_e_08(target, c)),
        "TC_E_16_CSMS" => Box::pin(tc_e_16(target, c)),
        "TC_E_17_CSMS" => Box::pin(tc_e_17(target, c)),
        "TC_E_22_CSMS" => Box::pin(tc_e_22(target, c)),
        "TC_E_19_CSMS" => Box::pin(tc_e_19(target, c)),
        "TC_E_26_CSMS" => Box::pin(tc_e_26(target, c)),
        "TC_E_29_CSMS" => Box::pin(tc_e_29(target, c)),
        "TC_E_30_CSMS" => with_operator(op, |op| tc_e_30(target, c, op)),
        "TC_E_31_CSMS" => Box::pin(tc_e_31(target, c)),
        "TC_E_33_CSMS" => Box::pin(tc_e_33(target, c)),
        "TC_E_34_CSMS" => with_operator(op, |op| tc_e_34(target, c, op)),
        "TC_E_53_CSMS" => Box::pin(tc_e_53(target, c)),
        _ => return None,
    })
}

/// What the OCTT is configured with for the transaction cases.
#[derive(Debug, Clone, PartialEq)]
pub struct TxConfig {
    /// The configured idTokens (valid and invalid are used here).
    pub auth: AuthConfig,
    /// <Configured EV connection timeout> (E_39).
    pub ev_connection_timeout: Duration,
    /// <Configured Transaction Duration>: how long the station stays offline in E_29/31/33, and
    /// the suspended and stop-authorized states' wait.
    pub transaction_duration: Duration,
}

impl Default for TxConfig {
    fn default() -> Self {
        TxConfig {
            auth: AuthConfig::default(),
            ev_connection_timeout: Duration::ZERO,
            transaction_duration: Duration::ZERO,
        }
    }
}

impl TxConfig {
    /// The defaults (block C's idTokens, no waiting), shared.
    pub fn octt() -> &'static TxConfig {
        static CONFIG: OnceLock<TxConfig> = OnceLock::new();
        CONFIG.get_or_init(TxConfig::default)
    }

    /// A fresh session on the target's EVSE with the valid idToken and the configured
    /// transaction duration.
    fn session(&self, target: &Target) -> Session {
        let valid = &self.auth.valid;
        Session::new(target)
            .with_id_token(valid.id_token.clone(), valid.r#type)
            .with_wait(self.transaction_duration)
    }
}

/// Connect, boot, and a fresh session.
async fn boot(target: &Target, config: &TxConfig) -> Result<(Station, Session), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    Ok((station, config.session(target)))
}

/// `<message>.idTokenInfo.status` must be one of `allowed`.
fn check_status(
    message: &str,
    info: Option<&IdTokenInfoType>,
    allowed: &[AuthorizationStatusEnumType],
) -> Result<(), CaseError> {
    let status = info.map(|i| i.status);
    ensure!(
        status.is_some_and(|s| allowed.contains(&s)),
        "{message}.idTokenInfo.status must be {}, was {}",
        allowed
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" or "),
        status.map_or("absent", |s| s.as_str())
    );
    Ok(())
}

/// AuthorizeRequest with `token`, whose status must be Accepted (validated as `step`).
async fn authorize_accepted(
    station: &mut Station,
    token: &IdTokenType,
    step: u32,
) -> Result<(), CaseError> {
    let answer = station
        .call(&AuthorizeRequest {
            custom_data: None,
            id_token: token.clone(),
            certificate: None,
            iso15118_certificate_hash_data: None,
        })
        .await?;
    check_status(
        "AuthorizeResponse",
        Some(&answer.id_token_info),
        &[AuthorizationStatusEnumType::Accepted],
    )
    .map_err(|e| e.at_step(step))
}

/// The session is authorized by its valid idToken (after an event of the case's own).
fn mark_authorized(session: &mut Session) {
    session.authorized = true;
    session.id_token = Some(session.valid_id_token.clone());
    session.state = Some(TxState::Authorized);
}

/// Send `event` (built from the session) and return the answer's idTokenInfo.
async fn send(
    station: &mut Station,
    event: &TransactionEventRequest,
) -> Result<Option<IdTokenInfoType>, CaseError> {
    Ok(station.call(event).await?.id_token_info)
}

/// The connector is Occupied: StatusNotification and NotifyEvent "Occupied".
async fn occupied(station: &mut Station, session: &Session) -> Result<(), CaseError> {
    states::notify_connector_status(
        station,
        session.evse_id,
        session.connector_id,
        ConnectorStatusEnumType::Occupied,
    )
    .await
}

/// The connector is Available: StatusNotification and NotifyEvent "Available".
async fn available(station: &mut Station, session: &Session) -> Result<(), CaseError> {
    states::notify_connector_status(
        station,
        session.evse_id,
        session.connector_id,
        ConnectorStatusEnumType::Available,
    )
    .await
}

/// The Ended TransactionEventRequest `trigger` / `charging_state` / `reason` of the session's
/// transaction, sent; the answer's idTokenInfo.
async fn end(
    station: &mut Station,
    session: &mut Session,
    trigger: TriggerReasonEnumType,
    charging_state: Option<ChargingStateEnumType>,
    reason: ReasonEnumType,
    with_token: bool,
) -> Result<Option<IdTokenInfoType>, CaseError> {
    let token = session.id_token.clone();
    let mut event = session.end_event(trigger, charging_state, reason);
    if with_token {
        event.id_token = token;
    }
    send(station, &event).await
}

/// E_01 / E_02 / E_11: AuthorizeRequest (step 1, Accepted at step 2), the connector Occupied
/// (3), TransactionEvent Started `trigger` with the valid idToken, the configured EVSE,
/// `charging_state` and `meter_value` (5, Accepted at step 6), and, if `then_charging`,
/// TransactionEvent Updated ChargingStateChanged / Charging (7).
async fn start_on(
    target: &Target,
    config: &TxConfig,
    trigger: TriggerReasonEnumType,
    charging_state: Option<ChargingStateEnumType>,
    meter_value: Option<Vec<MeterValueType>>,
    then_charging: bool,
) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    authorize_accepted(&mut station, &session.valid_id_token, 2).await?;
    occupied(&mut station, &session).await?;
    let mut event = session.next_event(trigger, charging_state);
    event.id_token = Some(session.valid_id_token.clone());
    event.meter_value = meter_value;
    let info = send(&mut station, &event).await?;
    check_status(
        "TransactionEventResponse",
        info.as_ref(),
        &[AuthorizationStatusEnumType::Accepted],
    )
    .map_err(|e| e.at_step(6))?;
    mark_authorized(&mut session);
    session.ev_connected = true;
    if then_charging {
        let event = session.next_event(
            TriggerReasonEnumType::ChargingStateChanged,
            Some(ChargingStateEnumType::Charging),
        );
        send(&mut station, &event).await?;
        session.state = Some(TxState::EnergyTransferStarted);
    }
    station.close().await;
    Ok(())
}

/// TC_E_01_CSMS Start transaction options - PowerPathClosed: Authorize, Occupied, Started
/// ChargingStateChanged / SuspendedEVSE with the valid idToken and the configured EVSE, then
/// Updated ChargingStateChanged / Charging. Steps 2 and 6 must be Accepted.
pub async fn tc_e_01(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    start_on(
        target,
        config,
        TriggerReasonEnumType::ChargingStateChanged,
        Some(ChargingStateEnumType::SuspendedEvse),
        None,
        true,
    )
    .await
}

/// TC_E_02_CSMS Start transaction options - EnergyTransfer: Authorize, Occupied, Started
/// ChargingStateChanged / Charging with the valid idToken. Steps 2 and 6 must be Accepted.
pub async fn tc_e_02(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    start_on(
        target,
        config,
        TriggerReasonEnumType::ChargingStateChanged,
        Some(ChargingStateEnumType::Charging),
        None,
        false,
    )
    .await
}

/// TC_E_11_CSMS Start transaction options - DataSigned: Authorize, Occupied, Started
/// SignedDataReceived with the valid idToken and a signed `Transaction.Begin` reading of 0, then
/// Updated ChargingStateChanged / Charging. Steps 2 and 6 must be Accepted.
pub async fn tc_e_11(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    let begin = energy_value(
        Utc::now(),
        0,
        ReadingContextEnumType::TransactionBegin,
        true,
    );
    start_on(
        target,
        config,
        TriggerReasonEnumType::SignedDataReceived,
        None,
        Some(vec![begin]),
        true,
    )
    .await
}

/// TC_E_03_CSMS Local start transaction - Cable plugin first: EVConnectedPreSession, Authorized,
/// EnergyTransferStarted (Authorized's validations: Accepted twice).
pub async fn tc_e_03(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    states::ev_connected_pre_session(&mut station, target, &mut session).await?;
    states::authorized(&mut station, target, &mut session)
        .await
        .map_err(|e| e.at_step(1))?;
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    station.close().await;
    Ok(())
}

/// TC_E_04_CSMS Local start transaction - Authorization first - Success: Authorized, then
/// EnergyTransferStarted (which plugs the EV in). Authorized's validations: Accepted twice.
pub async fn tc_e_04(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    states::authorized(&mut station, target, &mut session)
        .await
        .map_err(|e| e.at_step(1))?;
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    station.close().await;
    Ok(())
}

/// TC_E_39_CSMS Stop transaction options - Deauthorized - timeout: from Authorized, after the
/// configured EV connection timeout, Ended EVConnectTimeout with stoppedReason Timeout. No tool
/// validations.
pub async fn tc_e_39(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    states::authorized(&mut station, target, &mut session).await?;
    pause(config.ev_connection_timeout).await;
    end(
        &mut station,
        &mut session,
        TriggerReasonEnumType::EvConnectTimeout,
        None,
        ReasonEnumType::Timeout,
        false,
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_E_14_CSMS Stop transaction options - EVDisconnected - Charging Station side: from
/// EVConnectedPostSession, EVDisconnected. StopAuthorized's validation (Accepted) applies.
pub async fn tc_e_14(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    states::ev_connected_post_session(&mut station, target, &mut session).await?;
    states::ev_disconnected(&mut station, target, &mut session).await?;
    station.close().await;
    Ok(())
}

/// TC_E_20_CSMS Stop transaction options - EVDisconnected - EV side: from
/// EnergyTransferSuspended, EVDisconnected (which plays StopAuthorized and EVConnectedPostSession
/// first). StopAuthorized's validation (Accepted) applies.
pub async fn tc_e_20(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    states::energy_transfer_suspended(&mut station, target, &mut session).await?;
    states::ev_disconnected(&mut station, target, &mut session).await?;
    station.close().await;
    Ok(())
}

/// From EnergyTransferStarted, Ended StopAuthorized / stoppedReason Local with the authorizing
/// idToken (E_07, E_15). No tool validations.
async fn local_stop(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    end(
        &mut station,
        &mut session,
        TriggerReasonEnumType::StopAuthorized,
        None,
        ReasonEnumType::Local,
        true,
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_E_15_CSMS Stop transaction options - StopAuthorized - Local: from EnergyTransferStarted,
/// Ended StopAuthorized, stoppedReason Local. No tool validations.
pub async fn tc_e_15(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    local_stop(target, config).await
}

/// TC_E_07_CSMS Stop transaction options - PowerPathClosed - Local stop: as TC_E_15 (the station
/// stops at PowerPathClosed; the CSMS sees the same messages). No tool validations.
pub async fn tc_e_07(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    local_stop(target, config).await
}

/// TC_E_21_CSMS Stop transaction options - StopAuthorized - Remote: from EnergyTransferStarted,
/// the operator has the CSMS stop the transaction ([`OperatorAction::RequestStopTransaction`]);
/// the OCTT answers Accepted and sends Ended RemoteStop, stoppedReason Remote.
///
/// Tool validation: step 1, RequestStopTransactionRequest.transactionId is the transaction's.
pub async fn tc_e_21(
    target: &Target,
    config: &TxConfig,
    operator: Arc<dyn Operator>,
) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::RequestStopTransaction {
            transaction_id: session.transaction_id.clone(),
        },
        "have the CSMS send RequestStopTransactionRequest",
    );
    let (id, request) = task
        .expect_call::<RequestStopTransactionRequest>(&mut station)
        .await?;
    station
        .respond::<RequestStopTransactionRequest>(
            &id,
            &RequestStopTransactionResponse {
                custom_data: None,
                status: RequestStartStopStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await?;
    ensure!(
        request.transaction_id == session.transaction_id,
        "step 1: RequestStopTransactionRequest.transactionId must be {:?} (the ongoing \
         transaction), was {:?}",
        session.transaction_id,
        request.transaction_id
    );
    end(
        &mut station,
        &mut session,
        TriggerReasonEnumType::RemoteStop,
        None,
        ReasonEnumType::Remote,
        false,
    )
    .await?;
    task.finish(target.timeout).await?;
    station.close().await;
    Ok(())
}

/// TC_E_09_CSMS Start transaction options - EVConnected: EVConnectedPreSession on a fresh
/// session (Occupied, then Started CablePluggedIn / EVConnected with the configured EVSE, no
/// idToken). No tool validations.
pub async fn tc_e_09(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    states::ev_connected_pre_session(&mut station, target, &mut session).await?;
    station.close().await;
    Ok(())
}

/// TC_E_10_CSMS Start transaction options - Authorized - Local: AuthorizeRequest (Accepted at
/// step 2), then Started Authorized with the valid idToken (Accepted at step 4).
pub async fn tc_e_10(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    authorize_accepted(&mut station, &session.valid_id_token, 2).await?;
    let mut event = session.next_event(TriggerReasonEnumType::Authorized, None);
    event.id_token = Some(session.valid_id_token.clone());
    let info = send(&mut station, &event).await?;
    check_status(
        "TransactionEventResponse",
        info.as_ref(),
        &[AuthorizationStatusEnumType::Accepted],
    )
    .map_err(|e| e.at_step(4))?;
    mark_authorized(&mut session);
    station.close().await;
    Ok(())
}

/// TC_E_12_CSMS Start transaction options - ParkingBayOccupied: Started EVDetected (with the
/// configured EVSE, nothing else). No tool validations.
pub async fn tc_e_12(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    let event = session.next_event(TriggerReasonEnumType::EvDetected, None);
    send(&mut station, &event).await?;
    station.close().await;
    Ok(())
}

/// TC_E_38_CSMS Start Transaction - EV not ready: from Authorized, EVConnectedPreSession, then
/// Updated ChargingStateChanged / SuspendedEV. Authorized's validations (Accepted) apply.
pub async fn tc_e_38(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    states::authorized(&mut station, target, &mut session).await?;
    states::ev_connected_pre_session(&mut station, target, &mut session).await?;
    let event = session.next_event(
        TriggerReasonEnumType::ChargingStateChanged,
        Some(ChargingStateEnumType::SuspendedEv),
    );
    send(&mut station, &event).await?;
    station.close().await;
    Ok(())
}

/// TC_E_08_CSMS Stop transaction options - EnergyTransfer stopped - StopAuthorized: from
/// StopAuthorized, Ended ChargingStateChanged / EVConnected, stoppedReason Local.
/// StopAuthorized's validation (Accepted) applies.
pub async fn tc_e_08(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    states::stop_authorized(&mut station, target, &mut session).await?;
    end(
        &mut station,
        &mut session,
        TriggerReasonEnumType::ChargingStateChanged,
        Some(ChargingStateEnumType::EvConnected),
        ReasonEnumType::Local,
        false,
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_E_16_CSMS Stop transaction options - Deauthorized - Invalid idToken: Started Authorized
/// with the invalid idToken (the answer must be Invalid or Unknown at step 2), then Ended
/// Deauthorized, stoppedReason DeAuthorized.
pub async fn tc_e_16(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    use AuthorizationStatusEnumType::{Invalid, Unknown};
    let (mut station, mut session) = boot(target, config).await?;
    let mut event = session.next_event(TriggerReasonEnumType::Authorized, None);
    event.id_token = Some(config.auth.invalid.clone());
    let info = send(&mut station, &event).await?;
    check_status(
        "TransactionEventResponse",
        info.as_ref(),
        &[Invalid, Unknown],
    )
    .map_err(|e| e.at_step(2))?;
    end(
        &mut station,
        &mut session,
        TriggerReasonEnumType::Deauthorized,
        None,
        ReasonEnumType::DeAuthorized,
        false,
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_E_17_CSMS Stop transaction options - Deauthorized - EV side disconnect: from
/// EnergyTransferSuspended, Ended EVCommunicationLost / Idle, stoppedReason EVDisconnected. No
/// tool validations.
pub async fn tc_e_17(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    states::energy_transfer_suspended(&mut station, target, &mut session).await?;
    states::unplug(&mut station, &mut session).await?;
    station.close().await;
    Ok(())
}

/// TC_E_22_CSMS Stop transaction options - EnergyTransfer stopped - SuspendedEV: from
/// EnergyTransferStarted, Ended ChargingStateChanged / SuspendedEV, stoppedReason StoppedByEV.
/// No tool validations.
pub async fn tc_e_22(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    end(
        &mut station,
        &mut session,
        TriggerReasonEnumType::ChargingStateChanged,
        Some(ChargingStateEnumType::SuspendedEv),
        ReasonEnumType::StoppedByEv,
        false,
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_E_19_CSMS Stop transaction options - ParkingBayUnoccupied: EVDisconnected with its last
/// event Updated (TxStopPoint ParkingBayOccupancy, see the module's readings), then Ended
/// EVDeparted, stoppedReason Local. StopAuthorized's validation (Accepted) applies.
pub async fn tc_e_19(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    states::ev_connected_post_session(&mut station, target, &mut session).await?;
    available(&mut station, &session).await?;
    let event = session.next_event(
        TriggerReasonEnumType::EvCommunicationLost,
        Some(ChargingStateEnumType::Idle),
    );
    send(&mut station, &event).await?;
    session.ev_connected = false;
    session.state = Some(TxState::EvDisconnected);
    end(
        &mut station,
        &mut session,
        TriggerReasonEnumType::EvDeparted,
        None,
        ReasonEnumType::Local,
        false,
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_E_26_CSMS Disconnect cable on EV-side - Suspend transaction: from EnergyTransferSuspended,
/// Updated EVCommunicationLost / Idle, the connector Available, Updated CablePluggedIn /
/// EVConnected, Updated ChargingStateChanged / Charging. No tool validations.
pub async fn tc_e_26(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    states::energy_transfer_suspended(&mut station, target, &mut session).await?;
    let event = session.next_event(
        TriggerReasonEnumType::EvCommunicationLost,
        Some(ChargingStateEnumType::Idle),
    );
    send(&mut station, &event).await?;
    session.ev_connected = false;
    available(&mut station, &session).await?;
    let mut event = session.next_event(
        TriggerReasonEnumType::CablePluggedIn,
        Some(ChargingStateEnumType::EvConnected),
    );
    event.evse = Some(session.evse());
    send(&mut station, &event).await?;
    session.ev_connected = true;
    let event = session.next_event(
        TriggerReasonEnumType::ChargingStateChanged,
        Some(ChargingStateEnumType::Charging),
    );
    send(&mut station, &event).await?;
    session.state = Some(TxState::EnergyTransferStarted);
    station.close().await;
    Ok(())
}

/// The GetTransactionStatusRequest the CSMS sends after a reconnection, wherever it arrives
/// (kept by the station if it came while an answer was awaited), answered with
/// `ongoing` / `in_queue`; its `transactionId` must be `want` (`None`: omitted), validated as
/// `step`.
async fn answer_transaction_status(
    station: &mut Station,
    ongoing: Option<bool>,
    in_queue: bool,
    want: Option<&str>,
    step: u32,
) -> Result<(), CaseError> {
    let (id, request) = station
        .expect_call::<GetTransactionStatusRequest>()
        .await
        .map_err(|e| match e {
            SimError::Timeout(within, _) => CaseError::Fail(format!(
                "step {step}: the CSMS sent no GetTransactionStatusRequest within {within:?} \
                 of the station's reconnection"
            )),
            other => CaseError::from(other).at_step(step),
        })?;
    station
        .respond::<GetTransactionStatusRequest>(
            &id,
            &GetTransactionStatusResponse {
                custom_data: None,
                ongoing_indicator: ongoing,
                messages_in_queue: in_queue,
            },
        )
        .await?;
    check_transaction_id(&request, want, step)
}

/// GetTransactionStatusRequest.transactionId must be `want` (`None`: omitted).
fn check_transaction_id(
    request: &GetTransactionStatusRequest,
    want: Option<&str>,
    step: u32,
) -> Result<(), CaseError> {
    match want {
        Some(want) => ensure!(
            request.transaction_id.as_deref() == Some(want),
            "step {step}: GetTransactionStatusRequest.transactionId must be {want:?} (the \
             transaction of the Before state), was {:?}",
            request.transaction_id
        ),
        None => ensure!(
            request.transaction_id.is_none(),
            "step {step}: GetTransactionStatusRequest.transactionId must be omitted, was {:?}",
            request.transaction_id
        ),
    }
    Ok(())
}

/// The session's TransactionEvent sent while offline, flagged `offline`.
fn offline(mut event: TransactionEventRequest) -> TransactionEventRequest {
    event.offline = Some(true);
    event
}

/// E_29 / E_33: from EnergyTransferStarted the station goes offline (1), queues an Updated
/// MeterValuePeriodic event with a reading, waits the transaction duration and reconnects (2);
/// the CSMS's GetTransactionStatusRequest (3) is answered with `ongoing`, messagesInQueue true
/// (4) and its transactionId checked against `with_transaction_id`; then the queued event (5).
async fn queued_meter_values(
    target: &Target,
    config: &TxConfig,
    with_transaction_id: bool,
    ongoing: Option<bool>,
) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    station.close().await;
    let mut meter = Meter::charging(0);
    meter.advance();
    let mut queued = offline(session.next_event(TriggerReasonEnumType::MeterValuePeriodic, None));
    queued.meter_value = Some(vec![energy_and_power(
        queued.timestamp,
        &meter,
        ReadingContextEnumType::SamplePeriodic,
    )]);
    pause(config.transaction_duration).await;
    let mut station = target.connect().await.map_err(|e| e.at_step(2))?;
    let want = with_transaction_id.then_some(session.transaction_id.as_str());
    answer_transaction_status(&mut station, ongoing, true, want, 3).await?;
    send(&mut station, &queued).await?;
    station.close().await;
    Ok(())
}

/// TC_E_29_CSMS Check Transaction status - Transaction with id ongoing - with message in queue:
/// from EnergyTransferStarted the station drops the connection, waits, reconnects; the CSMS
/// sends GetTransactionStatusRequest (answered ongoingIndicator true, messagesInQueue true) and
/// gets the queued offline Updated event with meter values.
///
/// Tool validation: step 3, `transactionId` is the transaction's.
pub async fn tc_e_29(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    queued_meter_values(target, config, true, Some(true)).await
}

/// TC_E_33_CSMS Check Transaction status - Without transactionId - with message in queue: as
/// TC_E_29, answered with ongoingIndicator omitted.
///
/// Tool validation: step 3, `transactionId` omitted.
pub async fn tc_e_33(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    queued_meter_values(target, config, false, None).await
}

/// TC_E_31_CSMS Check Transaction status - Transaction with id ended - with message in queue:
/// from EnergyTransferStarted the station drops the connection; offline, the transaction is
/// stop-authorized (seqNo n), the EV stays connected (n+1) and is unplugged (n+2, Ended). After
/// the reconnection the station sends the Ended event first (3), answers the CSMS's
/// GetTransactionStatusRequest with ongoingIndicator false, messagesInQueue true (6), then sends
/// the two skipped events (7, 9). All offline.
///
/// Tool validation: step 5, `transactionId` is the transaction's.
pub async fn tc_e_31(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    station.close().await;
    let token = session.id_token.clone();
    let mut stop = offline(session.next_event(TriggerReasonEnumType::StopAuthorized, None));
    stop.id_token = token;
    session.authorized = false;
    let post = offline(session.next_event(
        TriggerReasonEnumType::ChargingStateChanged,
        Some(ChargingStateEnumType::EvConnected),
    ));
    let ended = offline(session.end_event(
        TriggerReasonEnumType::EvCommunicationLost,
        Some(ChargingStateEnumType::Idle),
        ReasonEnumType::EvDisconnected,
    ));
    session.ev_connected = false;
    session.state = Some(TxState::EvDisconnected);
    pause(config.transaction_duration).await;
    let mut station = target.connect().await.map_err(|e| e.at_step(2))?;
    send(&mut station, &ended).await.map_err(|e| e.at_step(3))?;
    let tx = session.transaction_id.clone();
    answer_transaction_status(&mut station, Some(false), true, Some(&tx), 5).await?;
    send(&mut station, &stop).await.map_err(|e| e.at_step(7))?;
    send(&mut station, &post).await.map_err(|e| e.at_step(9))?;
    station.close().await;
    Ok(())
}

/// The operator asks for the transaction status (`transaction_id`); the CSMS's request is
/// answered with `ongoing` / messagesInQueue false and its `transactionId` checked (step 1).
async fn asked_transaction_status(
    station: &mut Station,
    target: &Target,
    operator: Arc<dyn Operator>,
    transaction_id: Option<String>,
    ongoing: Option<bool>,
) -> Result<(), CaseError> {
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::GetTransactionStatus {
            transaction_id: transaction_id.clone(),
        },
        "have the CSMS send GetTransactionStatusRequest",
    );
    let (id, request) = task
        .expect_call::<GetTransactionStatusRequest>(station)
        .await?;
    station
        .respond::<GetTransactionStatusRequest>(
            &id,
            &GetTransactionStatusResponse {
                custom_data: None,
                ongoing_indicator: ongoing,
                messages_in_queue: false,
            },
        )
        .await?;
    check_transaction_id(&request, transaction_id.as_deref(), 1)?;
    task.finish(target.timeout).await?;
    Ok(())
}

/// TC_E_30_CSMS Check Transaction status - Transaction with id ongoing - without message in
/// queue: from EnergyTransferStarted, the CSMS sends GetTransactionStatusRequest (operator),
/// answered ongoingIndicator true, messagesInQueue false.
///
/// Tool validation: step 1, `transactionId` is the transaction's.
pub async fn tc_e_30(
    target: &Target,
    config: &TxConfig,
    operator: Arc<dyn Operator>,
) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    let tx = Some(session.transaction_id.clone());
    asked_transaction_status(&mut station, target, operator, tx, Some(true)).await?;
    station.close().await;
    Ok(())
}

/// TC_E_34_CSMS Check Transaction status - Without transactionId - without message in queue:
/// the CSMS sends GetTransactionStatusRequest without transactionId (operator), answered with
/// ongoingIndicator omitted, messagesInQueue false.
///
/// Tool validation: step 1, `transactionId` omitted.
pub async fn tc_e_34(
    target: &Target,
    config: &TxConfig,
    operator: Arc<dyn Operator>,
) -> Result<(), CaseError> {
    let (mut station, _session) = boot(target, config).await?;
    asked_transaction_status(&mut station, target, operator, None, None).await?;
    station.close().await;
    Ok(())
}

/// TC_E_53_CSMS CSMS accepting seqNo = 0 at start of transaction: EnergyTransferStarted,
/// EVDisconnected, twice; each transaction's first event (Started) has seqNo 0 and must be
/// answered (with a schema-valid TransactionEventResponse).
pub async fn tc_e_53(target: &Target, config: &TxConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target, config).await?;
    let mut transactions = Vec::new();
    for step in [1, 3] {
        states::energy_transfer_started(&mut station, target, &mut session)
            .await
            .map_err(|e| e.at_step(step))?;
        transactions.push(session.transaction_id.clone());
        states::ev_disconnected(&mut station, target, &mut session)
            .await
            .map_err(|e| e.at_step(step + 1))?;
    }
    ensure!(
        transactions[0] != transactions[1],
        "the simulator must play two transactions, played {transactions:?}"
    );
    station.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::octt::stub::{failure, Stub};
    use crate::octt::{run, Verdict};
    use async_trait::async_trait;
    use serde_json::{json, Value};

    /// The stub's operator, asked for the block-E actions as the generic OCPP requests the
    /// stub knows.
    struct AsOcpp(Arc<dyn Operator>);

    #[async_trait]
    impl Operator for AsOcpp {
        async fn perform(&self, station: &str, action: OperatorAction) -> Result<Value, String> {
            let action = match action {
                OperatorAction::RequestStopTransaction { transaction_id } => OperatorAction::Ocpp {
                    action: "RequestStopTransaction".into(),
                    payload: json!({ "transactionId": transaction_id }),
                },
                OperatorAction::GetTransactionStatus { transaction_id } => OperatorAction::Ocpp {
                    action: "GetTransactionStatus".into(),
                    payload: match transaction_id {
                        Some(tx) => json!({ "transactionId": tx }),
                        None => json!({}),
                    },
                },
                other => other,
            };
            self.0.perform(station, action).await
        }
    }

    fn events(stub: &Stub) -> Vec<Value> {
        stub.calls()
            .into_iter()
            .filter(|(a, _)| a == "TransactionEvent")
            .map(|(_, p)| p)
            .collect()
    }

    #[tokio::test]
    async fn station_cases_pass_against_a_stub_that_accepts() {
        for case in [
            "TC_E_01_CSMS",
            "TC_E_02_CSMS",
            "TC_E_03_CSMS",
            "TC_E_04_CSMS",
            "TC_E_39_CSMS",
            "TC_E_14_CSMS",
            "TC_E_20_CSMS",
            "TC_E_15_CSMS",
            "TC_E_09_CSMS",
            "TC_E_10_CSMS",
            "TC_E_11_CSMS",
            "TC_E_12_CSMS",
            "TC_E_38_CSMS",
            "TC_E_07_CSMS",
            "TC_E_08_CSMS",
            "TC_E_17_CSMS",
            "TC_E_22_CSMS",
            "TC_E_19_CSMS",
            "TC_E_26_CSMS",
            "TC_E_53_CSMS",
        ] {
            let stub = Stub::start().await;
            assert_eq!(
                run(case, &stub.target(), None).await,
                Verdict::Pass,
                "{case}"
            );
        }
    }

    #[tokio::test]
    async fn an_accepted_invalid_token_fails_e_16() {
        let stub = Stub::start().await;
        let message = failure(tc_e_16(&stub.target(), TxConfig::octt()).await);
        assert!(
            message.contains("step 2") && message.contains("Invalid or Unknown, was Accepted"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn e_19_ends_the_transaction_once_when_the_ev_departs() {
        let stub = Stub::start().await;
        tc_e_19(&stub.target(), TxConfig::octt()).await.unwrap();
        let events = events(&stub);
        let ended: Vec<&Value> = events
            .iter()
            .filter(|e| e["eventType"] == "Ended")
            .collect();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0]["triggerReason"], "EVDeparted");
        assert_eq!(ended[0]["transactionInfo"]["stoppedReason"], "Local");
        let before = &events[events.len() - 2];
        assert_eq!(before["eventType"], "Updated");
        assert_eq!(before["triggerReason"], "EVCommunicationLost");
    }

    #[tokio::test]
    async fn e_53_restarts_seq_no_for_the_second_transaction() {
        let stub = Stub::start().await;
        tc_e_53(&stub.target(), TxConfig::octt()).await.unwrap();
        let started: Vec<(i64, String)> = events(&stub)
            .iter()
            .filter(|e| e["eventType"] == "Started")
            .map(|e| {
                (
                    e["seqNo"].as_i64().unwrap(),
                    e["transactionInfo"]["transactionId"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
            })
            .collect();
        assert_eq!(started.len(), 2);
        assert!(started.iter().all(|(seq, _)| *seq == 0), "{started:?}");
        assert_ne!(started[0].1, started[1].1);
    }

    #[tokio::test]
    async fn remote_stop_and_status_requests_are_checked() {
        let stub = Stub::start().await;
        let operator: Arc<dyn Operator> = Arc::new(AsOcpp(stub.operator()));
        assert_eq!(
            run("TC_E_21_CSMS", &stub.target(), Some(operator)).await,
            Verdict::Pass
        );
        let last = events(&stub).pop().unwrap();
        assert_eq!(last["triggerReason"], "RemoteStop");
        assert_eq!(last["transactionInfo"]["stoppedReason"], "Remote");
        assert_eq!(stub.results()[0].1["status"], "Accepted");

        let stub = Stub::start().await;
        let wrong = stub.operator_with(|_, payload| {
            payload["transactionId"] = json!("not-the-transaction");
        });
        let verdict = run(
            "TC_E_21_CSMS",
            &stub.target(),
            Some(Arc::new(AsOcpp(wrong))),
        )
        .await;
        let Verdict::Fail(message) = verdict else {
            panic!("a wrong transactionId must fail, got {verdict:?}");
        };
        assert!(message.contains("step 1") && message.contains("not-the-transaction"));

        for case in ["TC_E_30_CSMS", "TC_E_34_CSMS"] {
            let stub = Stub::start().await;
            let operator: Arc<dyn Operator> = Arc::new(AsOcpp(stub.operator()));
            assert_eq!(
                run(case, &stub.target(), Some(operator)).await,
                Verdict::Pass,
                "{case}"
            );
            let answer = &stub.results()[0].1;
            assert_eq!(answer["messagesInQueue"], false, "{case}");
            assert_eq!(
                answer.get("ongoingIndicator").is_some(),
                case == "TC_E_30_CSMS",
                "{case}"
            );
        }

        let stub = Stub::start().await;
        let with_id = stub.operator_with(|_, payload| {
            payload["transactionId"] = json!("some-transaction");
        });
        let verdict = run(
            "TC_E_34_CSMS",
            &stub.target(),
            Some(Arc::new(AsOcpp(with_id))),
        )
        .await;
        assert!(
            matches!(&verdict, Verdict::Fail(m) if m.contains("must be omitted")),
            "{verdict:?}"
        );
    }

    #[tokio::test]
    async fn reconnection_cases_fail_when_the_csms_does_not_ask() {
        let stub = Stub::start().await;
        let mut target = stub.target();
        target.timeout = Duration::from_millis(300);
        let message = failure(tc_e_29(&target, TxConfig::octt()).await);
        assert!(
            message.contains("step 3") && message.contains("no GetTransactionStatusRequest"),
            "{message}"
        );
    }
}
