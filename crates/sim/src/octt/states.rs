//! The reusable states of Part 6, section 18 (Tables 198–211), that the CSMS cases start from,
//! played from the station's side.
//!
//! * [`booted`] (Table 198) powers the station up.
//! * The transaction states — [`ev_connected_pre_session`] (201), [`authorized`] (202),
//!   [`energy_transfer_started`] (203), [`energy_transfer_suspended`] (204),
//!   [`stop_authorized`] (205), [`ev_connected_post_session`] (206) and [`ev_disconnected`]
//!   (207) — work on a station-side [`Session`]: the transaction id, the next `seqNo`, what is
//!   plugged in and authorized. Each runs the states its "Before" row requires when the session
//!   is not there yet, so `ev_disconnected` on a fresh session plays a whole charging session.
//! * The states the CSMS starts — [`reserved`] (199), [`unavailable`] (200),
//!   [`get_installed_certificates`] (208), [`certificate_installed`] (209) and
//!   [`renew_charging_station_certificate`] (211) — ask an [`Operator`] for the manual action,
//!   answer the CSMS's CALL and send what follows. [`iso15118_smart_charging`] (210) has no
//!   manual action: the station starts it and the CSMS answers on its own.
//!
//! Every table's "Tool validations" are checked (failing the case with [`CaseError::Fail`]
//! naming the field), and every CSMS message is schema-checked by the [`Station`].
//!
//! # Readings taken where the draft is ambiguous
//!
//! * "If State is NOT *X*" is read as "the session has not reached *X*": `Authorized` means the
//!   ongoing transaction is authorized (whatever state was played last, so Authorized followed by
//!   EVConnectedPreSession still counts as Authorized), and `EnergyTransferStarted` means energy
//!   transfer has begun and not been stopped, so EnergyTransferSuspended still counts (TC_E_20
//!   "State is EnergyTransferSuspended; execute EVDisconnected" goes SuspendedEV → StopAuthorized
//!   without a Charging event in between).
//! * `eventType` is *Started* for the first TransactionEvent of a transaction and *Updated*
//!   after, which is what Tables 201/202 say ("If State is Authorized / EVConnectedPreSession")
//!   under TxStartPoint "EVConnected,Authorized" (section 1.3), and what Tables 204 and 210, which
//!   give no `eventType`, leave to the rule.
//! * `evse` (configured evseId/connectorId) is sent in the first TransactionEvent of a
//!   transaction and in every CablePluggedIn event (Tables 201, 203), nowhere else.
//! * StopAuthorized (Table 205) carries the idToken that authorized the transaction: the table
//!   lists no idToken, but its validation (`idTokenInfo.status` Accepted) needs one.
//! * Table 200 validates a "connectorId omitted"; ChangeAvailabilityRequest has no top-level
//!   connectorId (catalog: field-name deviations), so `evse.connectorId` must be omitted.
//!   Of "ChargingStation / EVSE / Connector" the station reports the Connector only (the EVSE
//!   is "optionally" reported).
//! * Table 210's validation "Step 4: NotifyEVChargingScheduleResponse" is step 6 (step 4 is the
//!   OCTT's own SetChargingProfileResponse). It lists no "Before" state but validates
//!   "transactionId from before": without an ongoing transaction the session plays
//!   EVConnectedPreSession and Authorized first.
//! * Table 211 ("Memory State", SUT "Charging Station") validates the OCTT's own messages; the
//!   CSMS-side statements become the checks: TriggerMessage `requestedMessage`
//!   SignChargingStationCertificate, SignCertificateResponse Accepted, CertificateSigned
//!   `certificateType` ChargingStationCertificate and a chain whose first certificate holds the
//!   CSR's key.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509NameBuilder, X509ReqBuilder, X509VerifyResult, X509};
use rand::Rng;
use serde_json::json;
use unicharge_ocpp::v201::{
    AcChargingParametersType, AuthorizationStatusEnumType, AuthorizeRequest,
    BootNotificationRequest, BootReasonEnumType, CertificateHashDataChainType,
    CertificateHashDataType, CertificateSignedRequest, CertificateSignedResponse,
    CertificateSignedStatusEnumType, CertificateSigningUseEnumType, ChangeAvailabilityRequest,
    ChangeAvailabilityResponse, ChangeAvailabilityStatusEnumType, ChargingNeedsType,
    ChargingProfilePurposeEnumType, ChargingProfileStatusEnumType, ChargingStateEnumType,
    ChargingStationType, ComponentType, ConnectorStatusEnumType, EnergyTransferModeEnumType,
    EventDataType, EventNotificationEnumType, EventTriggerEnumType, EvseType,
    GenericStatusEnumType, GetCertificateIdUseEnumType, GetInstalledCertificateIdsRequest,
    GetInstalledCertificateIdsResponse, GetInstalledCertificateStatusEnumType,
    HashAlgorithmEnumType, IdTokenEnumType, IdTokenInfoType, IdTokenType,
    InstallCertificateRequest, InstallCertificateResponse, InstallCertificateStatusEnumType,
    InstallCertificateUseEnumType, MessageTriggerEnumType, NotifyEvChargingNeedsRequest,
    NotifyEvChargingNeedsStatusEnumType, NotifyEvChargingScheduleRequest, NotifyEventRequest,
    OcppRequest, OperationalStatusEnumType, ReasonEnumType, RegistrationStatusEnumType,
    ReserveNowRequest, ReserveNowResponse, ReserveNowStatusEnumType, SetChargingProfileRequest,
    SetChargingProfileResponse, SignCertificateRequest, StatusNotificationRequest,
    TransactionEventEnumType, TransactionEventRequest, TransactionType, TriggerMessageRequest,
    TriggerMessageResponse, TriggerMessageStatusEnumType, TriggerReasonEnumType, VariableType,
};

use super::operator::{Operator, OperatorAction};
use super::{CaseError, OperatorTask, Target};
use crate::ensure;
use crate::station::{SimError, Station};

/// The BootNotificationRequest the OCTT sends (reason PowerUp, configured model and vendor).
pub fn boot_request(target: &Target) -> BootNotificationRequest {
    BootNotificationRequest {
        custom_data: None,
        charging_station: ChargingStationType {
            custom_data: None,
            serial_number: None,
            model: target.model.clone(),
            modem: None,
            vendor_name: target.vendor_name.clone(),
            firmware_version: None,
        },
        reason: BootReasonEnumType::PowerUp,
    }
}

/// Table 198, Reusable State *Booted*: boot, then report the connector Available.
///
/// Tool validation: step 2, BootNotificationResponse.status must be Accepted.
pub async fn booted(station: &mut Station, target: &Target) -> Result<(), CaseError> {
    boot(station, target).await?;
    notify_connector_available(station, target).await
}

/// Table 198's boot without the connector report: BootNotificationRequest PowerUp, whose
/// answer must be Accepted.
pub(crate) async fn boot(station: &mut Station, target: &Target) -> Result<(), CaseError> {
    let boot = station.call(&boot_request(target)).await?;
    ensure!(
        boot.status == RegistrationStatusEnumType::Accepted,
        "BootNotificationResponse.status must be Accepted, was {}",
        boot.status.as_str()
    );
    Ok(())
}

/// "The OCTT notifies the CSMS about the current state of all connectors": StatusNotification
/// Available and NotifyEvent Delta Connector.AvailabilityState = "Available"; the CSMS must
/// answer both (with schema-valid CALLRESULTs).
pub async fn notify_connector_available(
    station: &mut Station,
    target: &Target,
) -> Result<(), CaseError> {
    notify_connector_status(
        station,
        target.evse_id,
        target.connector_id,
        ConnectorStatusEnumType::Available,
    )
    .await
}

/// "The OCTT notifies the CSMS about the status change of the connector": StatusNotification
/// `connectorStatus` = `status`, then NotifyEvent `trigger` Delta, `actualValue` = `status`,
/// `component.name` "Connector" (with the EVSE and connector), `variable.name`
/// "AvailabilityState". The CSMS must answer both.
pub async fn notify_connector_status(
    station: &mut Station,
    evse_id: i64,
    connector_id: i64,
    status: ConnectorStatusEnumType,
) -> Result<(), CaseError> {
    let now = Utc::now();
    station
        .call(&StatusNotificationRequest {
            custom_data: None,
            timestamp: now,
            connector_status: status,
            evse_id,
            connector_id,
        })
        .await?;
    station
        .call(&NotifyEventRequest {
            custom_data: None,
            generated_at: now,
            tbc: None,
            seq_no: 0,
            event_data: vec![EventDataType {
                custom_data: None,
                event_id: next_event_id(),
                timestamp: now,
                trigger: EventTriggerEnumType::Delta,
                cause: None,
                actual_value: status.as_str().into(),
                tech_code: None,
                tech_info: None,
                cleared: None,
                transaction_id: None,
                component: ComponentType {
                    custom_data: None,
                    evse: Some(EvseType {
                        custom_data: None,
                        id: evse_id,
                        connector_id: Some(connector_id),
                    }),
                    name: "Connector".into(),
                    instance: None,
                },
                variable_monitoring_id: None,
                event_notification_type: EventNotificationEnumType::HardWiredNotification,
                variable: VariableType {
                    custom_data: None,
                    name: "AvailabilityState".into(),
                    instance: None,
                },
            }],
        })
        .await?;
    Ok(())
}

/// NotifyEvent `eventId`s, unique within the process.
fn next_event_id() -> i64 {
    static NEXT: AtomicI64 = AtomicI64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

// ---------------------------------------------------------------------------------------------
// The transaction states (Tables 201–207)
// ---------------------------------------------------------------------------------------------

/// The last transaction state a [`Session`] played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxState {
    EvConnectedPreSession,
    Authorized,
    EnergyTransferStarted,
    EnergyTransferSuspended,
    StopAuthorized,
    EvConnectedPostSession,
    EvDisconnected,
}

/// The station's side of one EVSE's charging session: what the OCTT keeps between reusable
/// states.
///
/// Scenarios that send transaction messages of their own build them with
/// [`Session::next_event`] / [`Session::end_event`] (which keep `seqNo` and `eventType` right)
/// and update the flags they change (e.g. `authorized = false` and
/// `state = Some(TxState::StopAuthorized)` after a StopAuthorized event of their own).
#[derive(Debug, Clone)]
pub struct Session {
    /// The current (or last) transaction's id, generated by the station.
    pub transaction_id: String,
    /// The `seqNo` of the next TransactionEventRequest (0 for a transaction's first).
    pub seq_no: i64,
    /// `<Configured evseId>` / `<Configured connectorId>`.
    pub evse_id: i64,
    pub connector_id: i64,
    /// `<Configured valid_idtoken_idtoken>` / `<Configured valid_idtoken_type>`.
    pub valid_id_token: IdTokenType,
    /// The idToken the ongoing transaction was authorized with.
    pub id_token: Option<IdTokenType>,
    /// The EV and EVSE are connected.
    pub ev_connected: bool,
    /// The ongoing transaction is authorized (until StopAuthorized or its end).
    pub authorized: bool,
    /// The last `transactionInfo.chargingState` sent.
    pub charging_state: Option<ChargingStateEnumType>,
    /// A TransactionEvent (Started) was sent for `transaction_id`.
    pub started: bool,
    /// The Ended TransactionEvent was sent for `transaction_id`: the next transaction state
    /// starts a new transaction.
    pub ended: bool,
    /// The last transaction state played.
    pub state: Option<TxState>,
    /// The id of the reservation made in [`reserved`], if any.
    pub reservation_id: Option<i64>,
    /// `<Configured Transaction Duration>`: how long EnergyTransferSuspended and StopAuthorized
    /// wait before their first step. Zero (the default) does not wait.
    pub wait: Duration,
}

impl Session {
    /// A session on the target's configured EVSE and connector with the default valid idToken
    /// (ISO14443 `OCTT-VALID-001`), nothing connected, no transaction yet.
    pub fn new(target: &Target) -> Self {
        Session {
            transaction_id: new_transaction_id(),
            seq_no: 0,
            evse_id: target.evse_id,
            connector_id: target.connector_id,
            valid_id_token: IdTokenType {
                custom_data: None,
                additional_info: None,
                id_token: "OCTT-VALID-001".into(),
                r#type: IdTokenEnumType::Iso14443,
            },
            id_token: None,
            ev_connected: false,
            authorized: false,
            charging_state: None,
            started: false,
            ended: false,
            state: None,
            reservation_id: None,
            wait: Duration::ZERO,
        }
    }

    /// Use another configured valid idToken.
    pub fn with_id_token(mut self, id_token: impl Into<String>, r#type: IdTokenEnumType) -> Self {
        self.valid_id_token = IdTokenType {
            custom_data: None,
            additional_info: None,
            id_token: id_token.into(),
            r#type,
        };
        self
    }

    /// Wait this long where the tables say "`<Configured Transaction Duration>`".
    pub fn with_wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// A transaction was started and has not ended.
    pub fn ongoing(&self) -> bool {
        self.started && !self.ended
    }

    /// Energy transfer has begun in the ongoing, authorized transaction (Charging or suspended):
    /// the "State is EnergyTransferStarted" of Tables 204 and 205.
    pub fn energy_transfer_started(&self) -> bool {
        !self.ended
            && self.authorized
            && self.ev_connected
            && matches!(
                self.charging_state,
                Some(
                    ChargingStateEnumType::Charging
                        | ChargingStateEnumType::SuspendedEv
                        | ChargingStateEnumType::SuspendedEvse
                )
            )
    }

    /// Forget the ended transaction: a new id, `seqNo` 0, nothing authorized. What is plugged
    /// in stays plugged in.
    pub fn new_transaction(&mut self) {
        self.transaction_id = new_transaction_id();
        self.seq_no = 0;
        self.id_token = None;
        self.authorized = false;
        self.charging_state = None;
        self.started = false;
        self.ended = false;
        self.state = None;
    }

    /// The next TransactionEventRequest of the transaction (a new one if the last has ended):
    /// `eventType` Started for its first event and Updated after, the next `seqNo`, the
    /// configured `evse` on the first event, `chargingState` if given (and remembered).
    pub fn next_event(
        &mut self,
        trigger_reason: TriggerReasonEnumType,
        charging_state: Option<ChargingStateEnumType>,
    ) -> TransactionEventRequest {
        if self.ended {
            self.new_transaction();
        }
        let first = !self.started;
        let event_type = if first {
            TransactionEventEnumType::Started
        } else {
            TransactionEventEnumType::Updated
        };
        self.started = true;
        let seq_no = self.seq_no;
        self.seq_no += 1;
        if charging_state.is_some() {
            self.charging_state = charging_state;
        }
        TransactionEventRequest {
            custom_data: None,
            event_type,
            meter_value: None,
            timestamp: Utc::now(),
            trigger_reason,
            seq_no,
            offline: None,
            number_of_phases_used: None,
            cable_max_current: None,
            reservation_id: None,
            transaction_info: TransactionType {
                custom_data: None,
                transaction_id: self.transaction_id.clone(),
                charging_state,
                time_spent_charging: None,
                stopped_reason: None,
                remote_start_id: None,
            },
            evse: first.then(|| self.evse()),
            id_token: None,
        }
    }

    /// The Ended TransactionEventRequest of the transaction, with `stoppedReason`; marks the
    /// transaction ended and no longer authorized.
    pub fn end_event(
        &mut self,
        trigger_reason: TriggerReasonEnumType,
        charging_state: Option<ChargingStateEnumType>,
        stopped_reason: ReasonEnumType,
    ) -> TransactionEventRequest {
        let mut event = self.next_event(trigger_reason, charging_state);
        event.event_type = TransactionEventEnumType::Ended;
        event.transaction_info.stopped_reason = Some(stopped_reason);
        self.ended = true;
        self.authorized = false;
        event
    }

    /// The configured EVSE and connector.
    pub fn evse(&self) -> EvseType {
        EvseType {
            custom_data: None,
            id: self.evse_id,
            connector_id: Some(self.connector_id),
        }
    }
}

/// A fresh transaction id in UUID form (36 characters, the schema's maximum).
fn new_transaction_id() -> String {
    let n: u128 = rand::thread_rng().gen();
    let hex = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `<Configured Transaction Duration>`.
pub(crate) async fn pause(wait: Duration) {
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
}

/// The "`<message>`.idTokenInfo.status must be Accepted" validation.
fn check_id_token_info(message: &str, info: Option<&IdTokenInfoType>) -> Result<(), CaseError> {
    let status = info.map(|i| i.status);
    ensure!(
        status == Some(AuthorizationStatusEnumType::Accepted),
        "{message}.idTokenInfo.status must be Accepted, was {}",
        status.map_or("absent", |s| s.as_str())
    );
    Ok(())
}

/// Table 201, Reusable State *EVConnectedPreSession*: StatusNotification Occupied and NotifyEvent
/// "Occupied", then TransactionEvent `triggerReason` CablePluggedIn, `chargingState`
/// EVConnected, `evse` the configured EVSE/connector; `eventType` Updated if the transaction was
/// already started (by Authorized), else Started. No tool validations.
pub async fn ev_connected_pre_session(
    station: &mut Station,
    _target: &Target,
    session: &mut Session,
) -> Result<(), CaseError> {
    plug_in(station, session).await?;
    session.state = Some(TxState::EvConnectedPreSession);
    Ok(())
}

/// The EV is plugged in: StatusNotification Occupied and NotifyEvent "Occupied", then
/// TransactionEvent CablePluggedIn / EVConnected with the configured `evse`.
async fn plug_in(station: &mut Station, session: &mut Session) -> Result<(), CaseError> {
    notify_connector_status(
        station,
        session.evse_id,
        session.connector_id,
        ConnectorStatusEnumType::Occupied,
    )
    .await?;
    let mut event = session.next_event(
        TriggerReasonEnumType::CablePluggedIn,
        Some(ChargingStateEnumType::EvConnected),
    );
    event.evse = Some(session.evse());
    station.call(&event).await?;
    session.ev_connected = true;
    Ok(())
}

/// Table 202, Reusable State *Authorized*: AuthorizeRequest with the configured valid idToken,
/// then TransactionEvent `triggerReason` Authorized with the same idToken; `eventType` Updated
/// if the transaction was already started (by EVConnectedPreSession), else Started.
///
/// Tool validations: step 2, AuthorizeResponse.idTokenInfo.status Accepted; step 4,
/// TransactionEventResponse.idTokenInfo.status Accepted.
pub async fn authorized(
    station: &mut Station,
    _target: &Target,
    session: &mut Session,
) -> Result<(), CaseError> {
    let token = session.valid_id_token.clone();
    let answer = station
        .call(&AuthorizeRequest {
            custom_data: None,
            id_token: token.clone(),
            certificate: None,
            iso15118_certificate_hash_data: None,
        })
        .await?;
    check_id_token_info("AuthorizeResponse", Some(&answer.id_token_info))?;
    let mut event = session.next_event(TriggerReasonEnumType::Authorized, None);
    event.id_token = Some(token.clone());
    let answer = station.call(&event).await?;
    check_id_token_info("TransactionEventResponse", answer.id_token_info.as_ref())?;
    session.authorized = true;
    session.id_token = Some(token);
    session.state = Some(TxState::Authorized);
    Ok(())
}

/// Table 203, Reusable State *EnergyTransferStarted*. Before: Authorized unless the transaction
/// is authorized. Part 1, only if the EV is not connected: StatusNotification Occupied and
/// NotifyEvent "Occupied", then TransactionEvent Updated CablePluggedIn / EVConnected with the
/// configured `evse`. Part 2: TransactionEvent Updated ChargingStateChanged / Charging. Post
/// condition: EVConnected is true. No tool validations beyond Authorized's.
pub async fn energy_transfer_started(
    station: &mut Station,
    target: &Target,
    session: &mut Session,
) -> Result<(), CaseError> {
    if session.ended || !session.authorized {
        authorized(station, target, session).await?;
    }
    if !session.ev_connected {
        plug_in(station, session).await?;
    }
    let event = session.next_event(
        TriggerReasonEnumType::ChargingStateChanged,
        Some(ChargingStateEnumType::Charging),
    );
    station.call(&event).await?;
    session.state = Some(TxState::EnergyTransferStarted);
    Ok(())
}

/// Table 204, Reusable State *EnergyTransferSuspended*. Before: EnergyTransferStarted unless
/// energy transfer has started. Waits `<Configured Transaction Duration>` ([`Session::wait`]),
/// then TransactionEvent (Updated) ChargingStateChanged / SuspendedEV. No tool validations.
pub async fn energy_transfer_suspended(
    station: &mut Station,
    target: &Target,
    session: &mut Session,
) -> Result<(), CaseError> {
    if !session.energy_transfer_started() {
        energy_transfer_started(station, target, session).await?;
    }
    pause(session.wait).await;
    let event = session.next_event(
        TriggerReasonEnumType::ChargingStateChanged,
        Some(ChargingStateEnumType::SuspendedEv),
    );
    station.call(&event).await?;
    session.state = Some(TxState::EnergyTransferSuspended);
    Ok(())
}

/// Table 205, Reusable State *StopAuthorized*. Before: EnergyTransferStarted unless energy
/// transfer has started (a suspended transfer counts). Waits `<Configured Transaction Duration>`,
/// then TransactionEvent Updated StopAuthorized with the idToken that authorized the
/// transaction (see the module's readings).
///
/// Tool validation: step 2, TransactionEventResponse.idTokenInfo.status Accepted.
pub async fn stop_authorized(
    station: &mut Station,
    target: &Target,
    session: &mut Session,
) -> Result<(), CaseError> {
    if !session.energy_transfer_started() {
        energy_transfer_started(station, target, session).await?;
    }
    pause(session.wait).await;
    let token = session
        .id_token
        .clone()
        .unwrap_or_else(|| session.valid_id_token.clone());
    let mut event = session.next_event(TriggerReasonEnumType::StopAuthorized, None);
    event.id_token = Some(token);
    let answer = station.call(&event).await?;
    check_id_token_info("TransactionEventResponse", answer.id_token_info.as_ref())?;
    session.authorized = false;
    session.state = Some(TxState::StopAuthorized);
    Ok(())
}

/// Table 206, Reusable State *EVConnectedPostSession*. Before: StopAuthorized unless the ongoing
/// transaction is stop-authorized (or already post-session). Then TransactionEvent Updated
/// ChargingStateChanged / EVConnected. No tool validations.
pub async fn ev_connected_post_session(
    station: &mut Station,
    target: &Target,
    session: &mut Session,
) -> Result<(), CaseError> {
    let stop_authorized_already = session.ongoing()
        && matches!(
            session.state,
            Some(TxState::StopAuthorized | TxState::EvConnectedPostSession)
        );
    if !stop_authorized_already {
        stop_authorized(station, target, session).await?;
    }
    let event = session.next_event(
        TriggerReasonEnumType::ChargingStateChanged,
        Some(ChargingStateEnumType::EvConnected),
    );
    station.call(&event).await?;
    session.state = Some(TxState::EvConnectedPostSession);
    Ok(())
}

/// Table 207, Reusable State *EVDisconnected*. Before: EVConnectedPostSession unless the ongoing
/// transaction is there. StatusNotification Available and NotifyEvent "Available", then
/// TransactionEvent Ended EVCommunicationLost / Idle with `stoppedReason` EVDisconnected.
/// No tool validations.
pub async fn ev_disconnected(
    station: &mut Station,
    target: &Target,
    session: &mut Session,
) -> Result<(), CaseError> {
    if !(session.ongoing() && session.state == Some(TxState::EvConnectedPostSession)) {
        ev_connected_post_session(station, target, session).await?;
    }
    notify_connector_status(
        station,
        session.evse_id,
        session.connector_id,
        ConnectorStatusEnumType::Available,
    )
    .await?;
    unplug(station, session).await
}

/// The EV is unplugged and the transaction ends: TransactionEvent Ended EVCommunicationLost /
/// Idle, `stoppedReason` EVDisconnected.
pub(crate) async fn unplug(station: &mut Station, session: &mut Session) -> Result<(), CaseError> {
    let event = session.end_event(
        TriggerReasonEnumType::EvCommunicationLost,
        Some(ChargingStateEnumType::Idle),
        ReasonEnumType::EvDisconnected,
    );
    station.call(&event).await?;
    session.ev_connected = false;
    session.state = Some(TxState::EvDisconnected);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The states the CSMS starts (Tables 199, 200, 208, 209, 211)
// ---------------------------------------------------------------------------------------------

/// Table 199, Reusable State *Reserved*. Manual action: the CSMS sends a ReserveNowRequest for
/// the session's EVSE (as [`OperatorAction::Ocpp`] `ReserveNow` with a generated reservation id,
/// one hour's expiry, the valid idToken and `evseId`). The OCTT answers Accepted, then sends
/// StatusNotification Reserved and NotifyEvent "Reserved". The reservation id is kept in
/// [`Session::reservation_id`].
///
/// Tool validations (step 1): `evseId` the specified EVSE; `connectorType` omitted;
/// `idToken.idToken` / `idToken.type` the configured valid idToken (idTokens compare
/// case-insensitively, as OCPP defines them).
pub async fn reserved(
    station: &mut Station,
    target: &Target,
    operator: Arc<dyn Operator>,
    session: &mut Session,
) -> Result<ReserveNowRequest, CaseError> {
    let reservation_id: i64 = rand::thread_rng().gen_range(1..=i64::from(i32::MAX));
    let expiry = Utc::now() + chrono::Duration::hours(1);
    let payload = json!({
        "id": reservation_id,
        "expiryDateTime": expiry.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "idToken": session.valid_id_token,
        "evseId": session.evse_id,
    });
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::Ocpp {
            action: "ReserveNow".into(),
            payload,
        },
        "have the CSMS send ReserveNowRequest",
    );
    let (id, request) = task.expect_call::<ReserveNowRequest>(station).await?;
    station
        .respond::<ReserveNowRequest>(
            &id,
            &ReserveNowResponse {
                custom_data: None,
                status: ReserveNowStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await?;
    ensure!(
        request.evse_id == Some(session.evse_id),
        "ReserveNowRequest.evseId must be {}, was {:?}",
        session.evse_id,
        request.evse_id
    );
    ensure!(
        request.connector_type.is_none(),
        "ReserveNowRequest.connectorType must be omitted, was {}",
        request.connector_type.map_or("", |c| c.as_str())
    );
    check_id_token(
        "ReserveNowRequest.idToken",
        &request.id_token,
        &session.valid_id_token,
    )?;
    notify_connector_status(
        station,
        session.evse_id,
        session.connector_id,
        ConnectorStatusEnumType::Reserved,
    )
    .await?;
    task.finish(target.timeout).await?;
    session.reservation_id = Some(request.id);
    Ok(request)
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

/// Table 200, Reusable State *Unavailable*. Manual action: change the availability of the EVSE
/// to Inoperative ([`OperatorAction::ChangeAvailability`]). The OCTT answers Accepted, then
/// sends StatusNotification Unavailable and NotifyEvent "Unavailable" for the connector.
///
/// Tool validations (step 1): `operationalStatus` Inoperative; `evse.id` the specified EVSE;
/// `evse.connectorId` omitted (the table's "connectorId", see the module's readings).
pub async fn unavailable(
    station: &mut Station,
    target: &Target,
    operator: Arc<dyn Operator>,
    evse_id: i64,
    connector_id: i64,
) -> Result<ChangeAvailabilityRequest, CaseError> {
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::ChangeAvailability {
            operational_status: "Inoperative".into(),
            evse_id: Some(evse_id),
            connector_id: None,
        },
        "have the CSMS send ChangeAvailabilityRequest",
    );
    let (id, request) = task
        .expect_call::<ChangeAvailabilityRequest>(station)
        .await?;
    station
        .respond::<ChangeAvailabilityRequest>(
            &id,
            &ChangeAvailabilityResponse {
                custom_data: None,
                status: ChangeAvailabilityStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await?;
    ensure!(
        request.operational_status == OperationalStatusEnumType::Inoperative,
        "ChangeAvailabilityRequest.operationalStatus must be Inoperative, was {}",
        request.operational_status.as_str()
    );
    let evse = request.evse.as_ref();
    ensure!(
        evse.map(|e| e.id) == Some(evse_id),
        "ChangeAvailabilityRequest.evse.id must be {evse_id}, was {:?}",
        evse.map(|e| e.id)
    );
    ensure!(
        evse.and_then(|e| e.connector_id).is_none(),
        "ChangeAvailabilityRequest.evse.connectorId must be omitted, was {:?}",
        evse.and_then(|e| e.connector_id)
    );
    notify_connector_status(
        station,
        evse_id,
        connector_id,
        ConnectorStatusEnumType::Unavailable,
    )
    .await?;
    task.finish(target.timeout).await?;
    Ok(request)
}

/// Table 208, Reusable State *GetInstalledCertificates*. Manual action: the CSMS sends
/// GetInstalledCertificateIdsRequest with `certificateType` `certificate_type`
/// ([`OperatorAction::Ocpp`] `GetInstalledCertificateIds`). The OCTT answers Accepted with one
/// `certificateHashDataChain` entry: `certificate_type` and the SHA-256 hash data of
/// `certificate_pem` (the configured certificate; an issuer may follow it in the PEM, else it
/// must be self-signed). Returns that entry.
///
/// Tool validation (step 1): `certificateType` must be the specified type (exactly that one).
pub async fn get_installed_certificates(
    station: &mut Station,
    target: &Target,
    operator: Arc<dyn Operator>,
    certificate_type: GetCertificateIdUseEnumType,
    certificate_pem: &str,
) -> Result<CertificateHashDataChainType, CaseError> {
    get_installed_certificates_hashed(
        station,
        target,
        operator,
        certificate_type,
        certificate_pem,
        HashAlgorithmEnumType::Sha256,
    )
    .await
}

/// [`get_installed_certificates`], the OCTT answering with hash data of `algorithm` (TC_M_12
/// plays SHA-256, SHA-384 and SHA-512).
pub async fn get_installed_certificates_hashed(
    station: &mut Station,
    target: &Target,
    operator: Arc<dyn Operator>,
    certificate_type: GetCertificateIdUseEnumType,
    certificate_pem: &str,
    algorithm: HashAlgorithmEnumType,
) -> Result<CertificateHashDataChainType, CaseError> {
    let hash_data = certificate_hash_data_with(certificate_pem, algorithm).map_err(|e| {
        CaseError::NotApplicable(format!("the configured certificate is unusable: {e}"))
    })?;
    let entry = CertificateHashDataChainType {
        custom_data: None,
        certificate_hash_data: hash_data,
        certificate_type,
        child_certificate_hash_data: None,
    };
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::GetInstalledCertificateIds {
            certificate_types: Some(vec![certificate_type.as_str().to_string()]),
        },
        "have the CSMS send GetInstalledCertificateIdsRequest",
    );
    let (id, request) = task
        .expect_call::<GetInstalledCertificateIdsRequest>(station)
        .await?;
    station
        .respond::<GetInstalledCertificateIdsRequest>(
            &id,
            &GetInstalledCertificateIdsResponse {
                custom_data: None,
                status: GetInstalledCertificateStatusEnumType::Accepted,
                status_info: None,
                certificate_hash_data_chain: Some(vec![entry.clone()]),
            },
        )
        .await?;
    let types: Vec<&str> = request
        .certificate_type
        .iter()
        .flatten()
        .map(|t| t.as_str())
        .collect();
    ensure!(
        types == [certificate_type.as_str()],
        "GetInstalledCertificateIdsRequest.certificateType must be [{}], was {types:?}",
        certificate_type.as_str()
    );
    task.finish(target.timeout).await?;
    Ok(entry)
}

/// Table 209, Reusable State *CertificateInstalled*. Manual action: the CSMS sends
/// InstallCertificateRequest with `certificateType` `certificate_type` and the configured
/// certificate ([`OperatorAction::Ocpp`] `InstallCertificate`). The OCTT answers Accepted.
///
/// Tool validations (step 1): `certificateType` the specified type; `certificate` the
/// configured certificate (compared as DER, so PEM line wrapping does not matter).
pub async fn certificate_installed(
    station: &mut Station,
    target: &Target,
    operator: Arc<dyn Operator>,
    certificate_type: InstallCertificateUseEnumType,
    certificate_pem: &str,
) -> Result<InstallCertificateRequest, CaseError> {
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::InstallCertificate {
            certificate_type: certificate_type.as_str().to_string(),
            certificate: certificate_pem.to_string(),
        },
        "have the CSMS send InstallCertificateRequest",
    );
    let (id, request) = task
        .expect_call::<InstallCertificateRequest>(station)
        .await?;
    station
        .respond::<InstallCertificateRequest>(
            &id,
            &InstallCertificateResponse {
                custom_data: None,
                status: InstallCertificateStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await?;
    ensure!(
        request.certificate_type == certificate_type,
        "InstallCertificateRequest.certificateType must be {}, was {}",
        certificate_type.as_str(),
        request.certificate_type.as_str()
    );
    ensure!(
        same_certificates(&request.certificate, certificate_pem),
        "InstallCertificateRequest.certificate must be the configured {} certificate",
        certificate_type.as_str()
    );
    task.finish(target.timeout).await?;
    Ok(request)
}

/// The same certificates (as DER), or the same text when either does not parse.
fn same_certificates(a: &str, b: &str) -> bool {
    let der = |pem: &str| -> Option<Vec<Vec<u8>>> {
        let stack = X509::stack_from_pem(pem.as_bytes()).ok()?;
        if stack.is_empty() {
            return None;
        }
        stack.iter().map(|c| c.to_der().ok()).collect()
    };
    match (der(a), der(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a.trim() == b.trim(),
    }
}

/// What [`renew_charging_station_certificate`] leaves behind: the new key, the CSR sent and the
/// certificate chain the CSMS installed.
#[derive(Debug, Clone)]
pub struct RenewedCertificate {
    pub key: PKey<Private>,
    pub csr_pem: String,
    pub certificate_chain: String,
}

/// Table 211, Memory State *RenewChargingStationCertificate* (A02/A03). Manual action: the CSMS
/// sends TriggerMessageRequest SignChargingStationCertificate
/// ([`OperatorAction::RenewStationCertificate`]); the OCTT answers Accepted, sends
/// SignCertificateRequest with a PEM (RFC 2986) CSR for a new RSA-2048 key, CN = the station
/// id, `certificateType` ChargingStationCertificate; the CSMS answers Accepted and sends
/// CertificateSignedRequest; the OCTT answers Accepted.
///
/// Checks (the table's CSMS-side statements, see the module's readings): `requestedMessage`
/// SignChargingStationCertificate; SignCertificateResponse.status Accepted;
/// CertificateSignedRequest.certificateType ChargingStationCertificate and a
/// `certificateChain` whose first certificate carries the CSR's public key.
pub async fn renew_charging_station_certificate(
    station: &mut Station,
    target: &Target,
    operator: Arc<dyn Operator>,
) -> Result<RenewedCertificate, CaseError> {
    let (key, csr_pem) = station_csr(&target.station_id)
        .map_err(|e| CaseError::Fail(format!("generating the CSR: {e}")))?;
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::RenewStationCertificate,
        "have the CSMS send TriggerMessageRequest SignChargingStationCertificate",
    );
    let (id, trigger) = task.expect_call::<TriggerMessageRequest>(station).await?;
    station
        .respond::<TriggerMessageRequest>(
            &id,
            &TriggerMessageResponse {
                custom_data: None,
                status: TriggerMessageStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await?;
    ensure!(
        trigger.requested_message == MessageTriggerEnumType::SignChargingStationCertificate,
        "TriggerMessageRequest.requestedMessage must be SignChargingStationCertificate, was {}",
        trigger.requested_message.as_str()
    );
    let answer = station
        .call(&SignCertificateRequest {
            custom_data: None,
            csr: csr_pem.clone(),
            certificate_type: Some(CertificateSigningUseEnumType::ChargingStationCertificate),
        })
        .await?;
    ensure!(
        answer.status == GenericStatusEnumType::Accepted,
        "SignCertificateResponse.status must be Accepted, was {}",
        answer.status.as_str()
    );
    let (id, signed) = station.expect_call::<CertificateSignedRequest>().await?;
    station
        .respond::<CertificateSignedRequest>(
            &id,
            &CertificateSignedResponse {
                custom_data: None,
                status: CertificateSignedStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await?;
    ensure!(
        signed.certificate_type == Some(CertificateSigningUseEnumType::ChargingStationCertificate),
        "CertificateSignedRequest.certificateType must be ChargingStationCertificate, was {}",
        signed.certificate_type.map_or("absent", |t| t.as_str())
    );
    let leaf_key = X509::stack_from_pem(signed.certificate_chain.as_bytes())
        .ok()
        .and_then(|chain| chain.into_iter().next())
        .and_then(|leaf| leaf.public_key().ok());
    ensure!(
        leaf_key.is_some_and(|k| k.public_eq(&key)),
        "CertificateSignedRequest.certificateChain must start with a certificate generated \
         from the CSR of step 3 (PEM, holding the CSR's public key)"
    );
    task.finish(target.timeout).await?;
    Ok(RenewedCertificate {
        key,
        csr_pem,
        certificate_chain: signed.certificate_chain,
    })
}

/// A new RSA-2048 key and a PEM CSR for it with CN = `common_name`, signed with SHA-256.
pub fn station_csr(
    common_name: &str,
) -> Result<(PKey<Private>, String), openssl::error::ErrorStack> {
    let key = PKey::from_rsa(Rsa::generate(2048)?)?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COMMONNAME, common_name)?;
    let name = name.build();
    let mut req = X509ReqBuilder::new()?;
    req.set_subject_name(&name)?;
    req.set_pubkey(&key)?;
    req.sign(&key, MessageDigest::sha256())?;
    let pem = String::from_utf8(req.build().to_pem()?).expect("PEM is ASCII");
    Ok((key, pem))
}

/// OCPP `CertificateHashDataType` (SHA-256) of the first certificate in `pem`: hash of its
/// issuer's DER name, hash of its issuer's public key (the subjectPublicKey bits, as in OCSP's
/// CertID), and its serial number in lowercase hex. The issuer is the next certificate in
/// `pem`, or the certificate itself when it is self-signed.
pub fn certificate_hash_data(pem: &str) -> Result<CertificateHashDataType, String> {
    certificate_hash_data_with(pem, HashAlgorithmEnumType::Sha256)
}

/// [`certificate_hash_data`] with SHA-256, SHA-384 or SHA-512.
pub fn certificate_hash_data_with(
    pem: &str,
    algorithm: HashAlgorithmEnumType,
) -> Result<CertificateHashDataType, String> {
    let chain = X509::stack_from_pem(pem.as_bytes()).map_err(|e| format!("not PEM: {e}"))?;
    let cert = chain.first().ok_or("no certificate in the PEM")?;
    let issuer = match chain.get(1) {
        Some(issuer) => issuer,
        None if cert.issued(cert) == X509VerifyResult::OK => cert,
        None => return Err("not self-signed, and its issuer does not follow it".into()),
    };
    let issuer_name = cert.issuer_name().to_der().map_err(|e| e.to_string())?;
    let issuer_spki = issuer
        .public_key()
        .and_then(|k| k.public_key_to_der())
        .map_err(|e| e.to_string())?;
    let key_bits = spki_key_bits(&issuer_spki).ok_or("unreadable issuer public key")?;
    let serial = cert
        .serial_number()
        .to_bn()
        .and_then(|bn| bn.to_hex_str().map(|s| s.to_ascii_lowercase()))
        .map_err(|e| e.to_string())?;
    Ok(CertificateHashDataType {
        custom_data: None,
        hash_algorithm: algorithm,
        issuer_name_hash: hex(&digest(algorithm, &issuer_name)?),
        issuer_key_hash: hex(&digest(algorithm, key_bits)?),
        serial_number: serial,
    })
}

/// `data` hashed with `algorithm`.
fn digest(algorithm: HashAlgorithmEnumType, data: &[u8]) -> Result<Vec<u8>, String> {
    let md = match algorithm {
        HashAlgorithmEnumType::Sha256 => MessageDigest::sha256(),
        HashAlgorithmEnumType::Sha384 => MessageDigest::sha384(),
        HashAlgorithmEnumType::Sha512 => MessageDigest::sha512(),
    };
    openssl::hash::hash(md, data)
        .map(|d| d.to_vec())
        .map_err(|e| e.to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The subjectPublicKey BIT STRING contents of a DER SubjectPublicKeyInfo.
fn spki_key_bits(spki: &[u8]) -> Option<&[u8]> {
    let (tag, body, _) = der_tlv(spki)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, _algorithm, rest) = der_tlv(body)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, bits, _) = der_tlv(rest)?;
    if tag != 0x03 {
        return None;
    }
    match bits.split_first() {
        Some((0, key)) => Some(key),
        _ => None,
    }
}

/// One DER tag-length-value: (tag, value, what follows).
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

// ---------------------------------------------------------------------------------------------
// ISO 15118 smart charging (Table 210)
// ---------------------------------------------------------------------------------------------

/// The OCTT's mock EV: what it reports in NotifyEVChargingNeedsRequest.
#[derive(Debug, Clone, PartialEq)]
pub struct MockEv {
    pub max_schedule_tuples: Option<i64>,
    pub charging_needs: ChargingNeedsType,
}

impl Default for MockEv {
    /// AC three-phase, 20 kWh requested, 6–32 A at up to 400 V, three schedule tuples.
    fn default() -> Self {
        MockEv {
            max_schedule_tuples: Some(3),
            charging_needs: ChargingNeedsType {
                custom_data: None,
                ac_charging_parameters: Some(AcChargingParametersType {
                    custom_data: None,
                    energy_amount: 20_000,
                    ev_min_current: 6,
                    ev_max_current: 32,
                    ev_max_voltage: 400,
                }),
                dc_charging_parameters: None,
                requested_energy_transfer: EnergyTransferModeEnumType::AcThreePhase,
                departure_time: None,
            },
        }
    }
}

/// How long the OCTT waits for SetChargingProfileRequest after NotifyEVChargingNeeds Processing.
pub const PROCESSING_WAIT: Duration = Duration::from_secs(60);

/// Table 210, Reusable State *ISO15118SmartCharging*: NotifyEVChargingNeedsRequest (`evseId`,
/// the mock EV's `maxScheduleTuples` and `chargingNeeds`); the CSMS answers and sends
/// SetChargingProfileRequest (the OCTT waits [`PROCESSING_WAIT`] for it after Processing) and
/// the OCTT answers Accepted; NotifyEVChargingScheduleRequest with the profile's (first)
/// charging schedule; TransactionEvent ChargingStateChanged / Charging. Without an ongoing
/// transaction, EVConnectedPreSession and Authorized are played first. Returns the CSMS's
/// SetChargingProfileRequest.
///
/// Tool validations: step 2 NotifyEVChargingNeedsResponse.status Accepted or Processing;
/// step 3 `chargingProfile.chargingProfilePurpose` TxProfile and `transactionId` the
/// session's; step 6 (printed "Step 4") NotifyEVChargingScheduleResponse.status Accepted. Plus
/// the general validations of section 1.3: periods by increasing `startPeriod`, no
/// `phaseToUse` unless `numberPhases` is 1.
pub async fn iso15118_smart_charging(
    station: &mut Station,
    target: &Target,
    session: &mut Session,
    ev: &MockEv,
) -> Result<SetChargingProfileRequest, CaseError> {
    if !session.ongoing() {
        ev_connected_pre_session(station, target, session).await?;
        authorized(station, target, session).await?;
    }
    let answer = station
        .call(&NotifyEvChargingNeedsRequest {
            custom_data: None,
            max_schedule_tuples: ev.max_schedule_tuples,
            charging_needs: ev.charging_needs.clone(),
            evse_id: session.evse_id,
        })
        .await?;
    ensure!(
        matches!(
            answer.status,
            NotifyEvChargingNeedsStatusEnumType::Accepted
                | NotifyEvChargingNeedsStatusEnumType::Processing
        ),
        "NotifyEVChargingNeedsResponse.status must be Accepted or Processing, was {}",
        answer.status.as_str()
    );
    let (id, request) = if answer.status == NotifyEvChargingNeedsStatusEnumType::Processing {
        expect_call_within::<SetChargingProfileRequest>(station, PROCESSING_WAIT).await?
    } else {
        station.expect_call::<SetChargingProfileRequest>().await?
    };
    station
        .respond::<SetChargingProfileRequest>(
            &id,
            &SetChargingProfileResponse {
                custom_data: None,
                status: ChargingProfileStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await?;
    let profile = &request.charging_profile;
    ensure!(
        profile.charging_profile_purpose == ChargingProfilePurposeEnumType::TxProfile,
        "SetChargingProfileRequest.chargingProfile.chargingProfilePurpose must be TxProfile, \
         was {}",
        profile.charging_profile_purpose.as_str()
    );
    ensure!(
        profile.transaction_id.as_deref() == Some(session.transaction_id.as_str()),
        "SetChargingProfileRequest.chargingProfile.transactionId must be {:?}, was {:?}",
        session.transaction_id,
        profile.transaction_id
    );
    check_general_schedule_rules(&request)?;
    let schedule = profile.charging_schedule.first().cloned().ok_or_else(|| {
        CaseError::Fail("SetChargingProfileRequest has no chargingSchedule".into())
    })?;
    let answer = station
        .call(&NotifyEvChargingScheduleRequest {
            custom_data: None,
            time_base: Utc::now(),
            charging_schedule: schedule,
            evse_id: session.evse_id,
        })
        .await?;
    ensure!(
        answer.status == GenericStatusEnumType::Accepted,
        "NotifyEVChargingScheduleResponse.status must be Accepted, was {}",
        answer.status.as_str()
    );
    let event = session.next_event(
        TriggerReasonEnumType::ChargingStateChanged,
        Some(ChargingStateEnumType::Charging),
    );
    station.call(&event).await?;
    Ok(request)
}

/// Section 1.3's general tool validations of a SetChargingProfileRequest.
fn check_general_schedule_rules(request: &SetChargingProfileRequest) -> Result<(), CaseError> {
    for schedule in &request.charging_profile.charging_schedule {
        let periods = &schedule.charging_schedule_period;
        ensure!(
            periods
                .windows(2)
                .all(|w| w[0].start_period < w[1].start_period),
            "chargingSchedule {}: chargingSchedulePeriod must be ordered by increasing \
             startPeriod",
            schedule.id
        );
        for period in periods {
            ensure!(
                period.phase_to_use.is_none() || period.number_phases == Some(1),
                "chargingSchedule {}: phaseToUse must not be set when numberPhases is not 1",
                schedule.id
            );
        }
    }
    Ok(())
}

/// [`Station::expect_call`], waiting at least `within` however short the station's timeout.
async fn expect_call_within<R: OcppRequest>(
    station: &mut Station,
    within: Duration,
) -> Result<(String, R), CaseError> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match station.expect_call::<R>().await {
            Err(SimError::Timeout(..)) if tokio::time::Instant::now() < deadline => continue,
            other => return Ok(other?),
        }
    }
}
