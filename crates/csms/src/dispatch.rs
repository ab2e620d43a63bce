//! From an incoming CALL to its answer.
//!
//! 1. The action must be one of OCPP 2.0.1's and one a station may send (else `NotImplemented` /
//!    `NotSupported`), and one the station may send now: a Rejected or unregistered station only
//!    BootNotification (B03), a Pending one only BootNotification and what the CSMS asked of it
//!    (B02.FR.09: else `SecurityError`).
//! 2. The payload must conform to the official schema (else the Part 4 code for the failure).
//! 3. A retransmission — same message id, action and payload as a CALL already answered — gets
//!    the stored answer and changes nothing.
//! 4. The handler of the action's functional block decides the answer and the writes.
//! 5. The writes, with the answer itself, are committed before the answer is sent
//!    ("durable before acknowledged"). A failed commit is an `InternalError`, never an answer.
//! 6. The answer is checked against the response schema before it leaves.
//! 7. Only after the commit: the handler's committed facts are published ([`crate::facts`]) and
//!    its effects — follow-up calls such as CostUpdated or CertificateSigned — are handed back to
//!    the connection task, which runs them once the answer is sent ([`crate::effects`]). A
//!    handler never sends anything itself.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;

use chrono::Utc;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use unicharge_core::{RegistrationStatus, StationId};
use unicharge_ocpp::peer_text::Bounded;
use unicharge_ocpp::v201::{Action, Initiator};
use unicharge_ocpp::{Direction, ErrorCode, Frame, Validator};
use unicharge_store::{Store, StoredAnswer, Write};

use crate::connection::ConnectionHandle;
use crate::effects::Effect;
use crate::facts::Fact;
use crate::security::pki::CaMaterial;
use crate::{
    authorization, availability, certificate_management, data_transfer, diagnostics, display,
    firmware, metering, provisioning, reservation, security, smart_charging, transactions, Csms,
    CsmsConfig,
};

/// What a handler works with: the station and the services around it.
pub struct StationContext {
    pub station_id: StationId,
    pub store: Arc<dyn Store>,
    pub config: Arc<CsmsConfig>,
    /// Status answered to the station's last BootNotification (kept across connections).
    pub boot_status: Option<RegistrationStatus>,
    /// False for an unknown station admitted only to be answered Rejected: nothing it says is
    /// stored, and its connection is closed after that answer.
    pub registered: bool,
    /// The CA that signs station certificates, if one is configured.
    pub ca: Option<Arc<CaMaterial>>,
    /// This connection's own handle.
    pub connection: Option<ConnectionHandle>,
    /// The CSMS, for the effects that run after an answer and the facts published.
    pub csms: Csms,
    /// Actions the CSMS asked of the station on this connection (TriggerMessage, or the
    /// notifications that follow a request such as NotifyReport after GetBaseReport): what a
    /// Pending station may send besides BootNotification (B02.FR.09).
    pub solicited: HashSet<Action>,
    /// E14: the transaction status check of this connection has been scheduled (at connection
    /// for a station whose last boot was Accepted, else at its Accepted boot): once only.
    pub status_check_scheduled: bool,
    /// The OCPP version of this connection: 1.6 CALLs go through [`crate::v16`], which
    /// translates them to the handlers here.
    pub version: unicharge_ocpp::OcppVersion,
}

impl StationContext {
    /// Note what a CALL the CSMS is sending asks the station to send back.
    pub fn solicited(&mut self, action: &str, payload: &Value) {
        let Ok(action) = Action::from_str(action) else {
            return;
        };
        self.solicited
            .extend(crate::provisioning::pending_boot::solicited_by(
                action, payload,
            ));
    }
}

/// A handler's decision: the answer, what must be durable before it is sent, and what happens
/// after the commit.
pub struct Handled<T> {
    pub response: T,
    pub writes: Vec<Write>,
    /// Keep the answer so a retransmission of this CALL gets it again (state-changing actions).
    pub remember: bool,
    /// Follow-up work, run after the commit and after the answer has left.
    pub effects: Vec<Effect>,
    /// What became true, published after the commit.
    pub facts: Vec<Fact>,
}

impl<T> Handled<T> {
    /// An answer that changes nothing (Heartbeat): not stored, recomputed on retransmission.
    pub fn pure(response: T) -> Self {
        Handled {
            response,
            writes: Vec::new(),
            remember: false,
            effects: Vec::new(),
            facts: Vec::new(),
        }
    }

    /// An answer that depends on `writes` being committed first; remembered for retransmissions.
    pub fn durable(response: T, writes: Vec<Write>) -> Self {
        Handled {
            response,
            writes,
            remember: true,
            effects: Vec::new(),
            facts: Vec::new(),
        }
    }

    /// Run `effect` once the answer is committed and sent.
    pub fn with_effect(mut self, effect: Effect) -> Self {
        self.effects.push(effect);
        self
    }

    /// Publish `fact` once the answer is committed.
    pub fn with_fact(mut self, fact: Fact) -> Self {
        self.facts.push(fact);
        self
    }
}

/// A CALL that is answered with a CALLERROR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRefusal {
    pub code: ErrorCode,
    pub description: String,
}

impl CallRefusal {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        CallRefusal {
            code,
            description: description.into(),
        }
    }
}

/// Answer one CALL: a CALLRESULT or a CALLERROR frame, and the effects to run once it is sent.
pub async fn dispatch(
    ctx: &mut StationContext,
    id: &str,
    action: &str,
    payload: Value,
) -> (Frame, Vec<Effect>) {
    match answer(ctx, id, action, payload).await {
        Ok((response, effects)) => (
            Frame::CallResult {
                id: id.to_string(),
                payload: response,
            },
            effects,
        ),
        Err(refusal) => {
            tracing::warn!(station = %ctx.station_id, message_id = id, action = %Bounded(action),
                code = %refusal.code, "CALL refused: {}", Bounded(&refusal.description));
            metrics::counter!("ocpp_call_errors_sent_total", "code" => refusal.code.as_str())
                .increment(1);
            (
                Frame::call_error(id, refusal.code, &refusal.description),
                Vec::new(),
            )
        }
    }
}

async fn answer(
    ctx: &mut StationContext,
    id: &str,
    action_name: &str,
    payload: Value,
) -> Result<(Value, Vec<Effect>), CallRefusal> {
    let action = Action::from_str(action_name).map_err(|_| {
        CallRefusal::new(
            ErrorCode::NotImplemented,
            format!("{} is not an OCPP 2.0.1 action", Bounded(action_name)),
        )
    })?;
    if action.initiator() == Initiator::Csms {
        return Err(CallRefusal::new(
            ErrorCode::NotSupported,
            format!("{action_name} is sent by a CSMS, not to it"),
        ));
    }
    admit_call(ctx, action)?;
    Validator::global()
        .validate(action_name, Direction::Request, &payload)
        .map_err(|v| CallRefusal::new(v.code(), v.to_string()))?;

    let request_hash = hash_payload(&payload);
    if remembers(action) {
        if let Some(response) = stored_answer(ctx, id, action_name, &request_hash).await? {
            return Ok((response, Vec::new()));
        }
    }

    let handled = route(ctx, action, payload).await?;
    let response = handled.response;
    Validator::global()
        .validate(action_name, Direction::Response, &response)
        .map_err(|v| {
            tracing::error!(station = %ctx.station_id, action = action_name, violation = %v,
                "our own answer breaks the schema");
            CallRefusal::new(
                ErrorCode::InternalError,
                "the CSMS produced an invalid answer",
            )
        })?;
    commit(
        ctx,
        id,
        action_name,
        request_hash,
        Handled {
            response,
            ..handled
        },
    )
    .await
}

/// The registration rules every CALL passes, whatever its OCPP version; `action` is the 2.0.1
/// action (a 1.6 CALL is checked as the 2.0.1 action it becomes).
pub(crate) fn admit_call(ctx: &StationContext, action: Action) -> Result<(), CallRefusal> {
    let rejected = ctx.boot_status == Some(RegistrationStatus::Rejected) || !ctx.registered;
    if rejected && action != Action::BootNotification {
        // B03: a rejected (or unregistered) station may only boot again.
        return Err(CallRefusal::new(
            ErrorCode::SecurityError,
            "station not registered or its last BootNotification was Rejected; only BootNotification is accepted",
        ));
    }
    if ctx.boot_status == Some(RegistrationStatus::Pending)
        && action != Action::BootNotification
        && !ctx.solicited.contains(&action)
    {
        // B02.FR.09: a Pending station sends only what the CSMS asked of it, so it cannot
        // authorize drivers or start billable transactions before the operator accepted it.
        return Err(CallRefusal::new(
            ErrorCode::SecurityError,
            "station is Pending: only BootNotification and messages the CSMS requested are accepted",
        ));
    }
    Ok(())
}

/// The answer kept for this very CALL (same message id, action and payload), if it is a
/// retransmission of one already answered.
pub(crate) async fn stored_answer(
    ctx: &StationContext,
    id: &str,
    action_name: &str,
    request_hash: &str,
) -> Result<Option<Value>, CallRefusal> {
    if !ctx.registered {
        return Ok(None);
    }
    let Some(stored) = ctx
        .store
        .find_answer(&ctx.station_id, id)
        .await
        .map_err(internal)?
    else {
        return Ok(None);
    };
    if stored.action != action_name || stored.request_hash != request_hash {
        return Ok(None);
    }
    tracing::info!(station = %ctx.station_id, message_id = id, action = action_name,
        "retransmitted CALL answered with the stored answer");
    metrics::counter!("ocpp_retransmissions_total").increment(1);
    Ok(Some(
        serde_json::from_str(&stored.response).map_err(internal)?,
    ))
}

/// Commit a handled CALL's writes with its answer (kept for retransmissions when the handler
/// asks), then publish its facts: "durable before acknowledged", for every OCPP version.
pub(crate) async fn commit(
    ctx: &StationContext,
    id: &str,
    action_name: &str,
    request_hash: String,
    handled: Handled<Value>,
) -> Result<(Value, Vec<Effect>), CallRefusal> {
    let response = handled.response;
    if !ctx.registered {
        // An unknown station: answer, but keep nothing (no table fills up with strangers).
        return Ok((response, Vec::new()));
    }
    let mut writes = handled.writes;
    if handled.remember {
        writes.push(Write::Answer(StoredAnswer {
            station_id: ctx.station_id.clone(),
            message_id: id.to_string(),
            action: action_name.to_string(),
            request_hash,
            response: response.to_string(),
            answered_at: Utc::now(),
        }));
    }
    ctx.store.write(writes).await.map_err(internal)?;
    for fact in handled.facts {
        ctx.csms.publish(fact);
    }
    Ok((response, handled.effects))
}

/// The actions whose answers are stored for retransmissions (those that change state).
fn remembers(action: Action) -> bool {
    !matches!(action, Action::Heartbeat | Action::Authorize)
}

/// Send the payload to the handler of its functional block.
async fn route(
    ctx: &mut StationContext,
    action: Action,
    payload: Value,
) -> Result<Handled<Value>, CallRefusal> {
    match action {
        Action::BootNotification => {
            encode(provisioning::boot_notification::handle(ctx, decode(payload)?).await?)
        }
        Action::Heartbeat => encode(availability::heartbeat::handle(ctx, decode(payload)?).await?),
        Action::NotifyReport => {
            encode(provisioning::notify_report::handle(ctx, decode(payload)?).await?)
        }
        Action::StatusNotification => {
            encode(availability::status_notification::handle(ctx, decode(payload)?).await?)
        }
        Action::NotifyEvent => {
            encode(diagnostics::notify_event::handle(ctx, decode(payload)?).await?)
        }
        Action::Authorize => encode(authorization::authorize::handle(ctx, decode(payload)?).await?),
        Action::TransactionEvent => {
            encode(transactions::transaction_event::handle(ctx, decode(payload)?).await?)
        }
        Action::SignCertificate => {
            encode(security::sign_certificate::handle(ctx, decode(payload)?).await?)
        }
        Action::SecurityEventNotification => {
            encode(security::security_event::handle(ctx, decode(payload)?).await?)
        }
        Action::MeterValues => encode(metering::meter_values::handle(ctx, decode(payload)?).await?),
        Action::FirmwareStatusNotification => {
            encode(firmware::firmware_status::handle(ctx, decode(payload)?).await?)
        }
        Action::PublishFirmwareStatusNotification => {
            encode(firmware::publish_status::handle(ctx, decode(payload)?).await?)
        }
        Action::NotifyMonitoringReport => {
            encode(diagnostics::monitoring_report::handle(ctx, decode(payload)?).await?)
        }
        Action::NotifyCustomerInformation => {
            encode(diagnostics::customer_data::handle(ctx, decode(payload)?).await?)
        }
        Action::LogStatusNotification => {
            encode(diagnostics::log_status::handle(ctx, decode(payload)?).await?)
        }
        Action::ReservationStatusUpdate => {
            encode(reservation::reservation_status_update::handle(ctx, decode(payload)?).await?)
        }
        Action::ReportChargingProfiles => {
            encode(smart_charging::report_charging_profiles::handle(ctx, decode(payload)?).await?)
        }
        Action::NotifyChargingLimit => {
            encode(smart_charging::charging_limits::notify(ctx, decode(payload)?).await?)
        }
        Action::ClearedChargingLimit => {
            encode(smart_charging::charging_limits::cleared(ctx, decode(payload)?).await?)
        }
        Action::NotifyEvChargingNeeds => {
            encode(smart_charging::iso15118::notify_ev_charging_needs(ctx, decode(payload)?).await?)
        }
        Action::NotifyEvChargingSchedule => encode(
            smart_charging::iso15118::notify_ev_charging_schedule(ctx, decode(payload)?).await?,
        ),
        Action::GetCertificateStatus => encode(
            certificate_management::get_certificate_status::handle(ctx, decode(payload)?).await?,
        ),
        Action::Get15118EvCertificate => {
            encode(certificate_management::ev_certificate::handle(ctx, decode(payload)?).await?)
        }
        Action::NotifyDisplayMessages => {
            encode(display::notify_display_messages::handle(ctx, decode(payload)?).await?)
        }
        Action::DataTransfer => {
            encode(data_transfer::incoming::handle(ctx, decode(payload)?).await?)
        }
        // A valid 2.0.1 action a station may send, not built yet: recognised, not supported
        // (unknown action names were answered NotImplemented before routing).
        other => Err(CallRefusal::new(
            ErrorCode::NotSupported,
            format!("{} is not supported by this CSMS yet", other.as_str()),
        )),
    }
}

/// Schema-valid JSON into the typed request. Failing here means the generated types and the
/// schema disagree: a bug of ours, reported as a FormatViolation with the reason.
pub(crate) fn decode<T: DeserializeOwned>(payload: Value) -> Result<T, CallRefusal> {
    serde_json::from_value(payload).map_err(|e| {
        CallRefusal::new(
            ErrorCode::FormatViolation,
            format!("payload not understood: {e}"),
        )
    })
}

pub(crate) fn encode<T: Serialize>(handled: Handled<T>) -> Result<Handled<Value>, CallRefusal> {
    Ok(Handled {
        response: serde_json::to_value(&handled.response).map_err(internal)?,
        writes: handled.writes,
        remember: handled.remember,
        effects: handled.effects,
        facts: handled.facts,
    })
}

/// Hex SHA-256 of the payload's canonical text (serde_json sorts object keys).
pub(crate) fn hash_payload(payload: &Value) -> String {
    hex::encode(Sha256::digest(payload.to_string().as_bytes()))
}

pub(crate) fn internal(e: impl std::fmt::Display) -> CallRefusal {
    tracing::error!(error = %e, "internal error while answering a CALL");
    CallRefusal::new(ErrorCode::InternalError, "internal error; retry later")
}
