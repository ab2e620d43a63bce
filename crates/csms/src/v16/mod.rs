//! OCPP 1.6J on the same core (issue 18, ADR 0036).
//!
//! A 1.6 connection is served by the same connection task, registry, admission rules, store and
//! functional blocks as a 2.0.1 one. This module is only translation, in both directions:
//!
//! - **Incoming** ([`dispatch`]): a 1.6 CALL is validated against the official 1.6 schema,
//!   checked against the same registration rules (a Pending station may not transact), answered
//!   from the stored answer if it is a retransmission, then translated into the 2.0.1 request it
//!   amounts to and handed to that block's handler ([`core_profile`], [`transactions`]). The
//!   handler's writes are committed with the 1.6 answer before it is sent, exactly as for 2.0.1.
//! - **Outgoing** ([`outgoing`]): every operation (REST, CLI, OCPI, automation) builds its
//!   2.0.1 request as always; the one send path translates it for a 1.6 station, and the 1.6
//!   confirmation back, or refuses with a clear reason when 1.6 cannot express the request.
//!
//! So there is no second copy of any business rule: cost, tariffs, charge records, token
//! decisions and registration live once, in the 2.0.1-shaped blocks.

pub mod convert;
pub mod core_profile;
pub mod firmware;
pub mod outgoing;
pub mod profiles;
pub mod security;
pub mod transactions;

use std::str::FromStr;

use serde_json::Value;
use unicharge_ocpp::peer_text::Bounded;
use unicharge_ocpp::v16::{self, Action, Initiator};
use unicharge_ocpp::v201;
use unicharge_ocpp::{Direction, ErrorCode, Frame};

use crate::dispatch::{
    admit_call, commit, decode, encode, hash_payload, stored_answer, CallRefusal, Handled,
    StationContext,
};
use crate::effects::Effect;

/// Answer one 1.6 CALL: a CALLRESULT or a CALLERROR frame (written with 1.6 error codes by the
/// connection), and the effects to run once it is sent.
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
                code = %v16::ErrorCode::from_v201(refusal.code), "1.6 CALL refused: {}",
                Bounded(&refusal.description));
            metrics::counter!("ocpp_call_errors_sent_total",
                "code" => v16::ErrorCode::from_v201(refusal.code).as_str())
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
            format!("{} is not an OCPP 1.6 action", Bounded(action_name)),
        )
    })?;
    if action.initiator() == Initiator::CentralSystem {
        return Err(CallRefusal::new(
            ErrorCode::NotSupported,
            format!("{action_name} is sent by a Central System, not to it"),
        ));
    }
    let Some(core_action) = core_action(action) else {
        return Err(CallRefusal::new(
            ErrorCode::NotSupported,
            format!("{action_name} is not supported for OCPP 1.6 stations yet"),
        ));
    };
    admit_call(ctx, core_action)?;
    v16::Validator::global()
        .validate(action_name, Direction::Request, &payload)
        .map_err(|v| CallRefusal::new(v.code().to_v201(), v.to_string()))?;

    let request_hash = hash_payload(&payload);
    if remembers(action) {
        if let Some(response) = stored_answer(ctx, id, action_name, &request_hash).await? {
            return Ok((response, Vec::new()));
        }
    }
    let mut handled = route(ctx, action, payload).await?;
    v16::Validator::global()
        .validate(action_name, Direction::Response, &handled.response)
        .map_err(|v| {
            tracing::error!(station = %ctx.station_id, action = action_name, violation = %v,
                "our own 1.6 answer breaks the schema");
            CallRefusal::new(
                ErrorCode::InternalError,
                "the CSMS produced an invalid answer",
            )
        })?;
    handled.remember = handled.remember && remembers(action);
    // Follow-ups 1.6 has no message for: the E14 transaction status check (GetTransactionStatus)
    // and I02 CostUpdated.
    handled.effects.retain(|e| {
        !matches!(
            e,
            Effect::TransactionStatusCheck { .. } | Effect::CostUpdated(_)
        )
    });
    commit(ctx, id, action_name, request_hash, handled).await
}

/// The 2.0.1 action a 1.6 action is answered as; it decides the registration rules (B02.FR.09:
/// what a Pending station may send). `None`: not served for 1.6 yet.
fn core_action(action: Action) -> Option<v201::Action> {
    Some(match action {
        Action::BootNotification => v201::Action::BootNotification,
        Action::Heartbeat => v201::Action::Heartbeat,
        Action::StatusNotification => v201::Action::StatusNotification,
        Action::Authorize => v201::Action::Authorize,
        Action::StartTransaction | Action::StopTransaction => v201::Action::TransactionEvent,
        // A MeterValues of a transaction is a TransactionEvent in the core; admitted the same.
        Action::MeterValues => v201::Action::MeterValues,
        Action::DataTransfer => v201::Action::DataTransfer,
        Action::FirmwareStatusNotification => v201::Action::FirmwareStatusNotification,
        Action::DiagnosticsStatusNotification => v201::Action::LogStatusNotification,
        Action::SecurityEventNotification => v201::Action::SecurityEventNotification,
        Action::SignCertificate => v201::Action::SignCertificate,
        Action::LogStatusNotification => v201::Action::LogStatusNotification,
        Action::SignedFirmwareStatusNotification => v201::Action::FirmwareStatusNotification,
        _ => return None,
    })
}

/// Answers kept for retransmissions: everything that changes state (not Heartbeat, Authorize,
/// and DataTransfer, whose handler decides what it keeps, as in 2.0.1).
fn remembers(action: Action) -> bool {
    !matches!(
        action,
        Action::Heartbeat | Action::Authorize | Action::DataTransfer
    )
}

async fn route(
    ctx: &mut StationContext,
    action: Action,
    payload: Value,
) -> Result<Handled<Value>, CallRefusal> {
    match action {
        Action::BootNotification => {
            encode(core_profile::boot_notification(ctx, decode(payload)?).await?)
        }
        Action::Heartbeat => encode(core_profile::heartbeat(ctx, decode(payload)?).await?),
        Action::StatusNotification => {
            encode(core_profile::status_notification(ctx, decode(payload)?).await?)
        }
        Action::Authorize => encode(core_profile::authorize(ctx, decode(payload)?).await?),
        Action::StartTransaction => {
            encode(transactions::start_transaction(ctx, decode(payload)?).await?)
        }
        Action::MeterValues => encode(transactions::meter_values(ctx, decode(payload)?).await?),
        Action::StopTransaction => {
            encode(transactions::stop_transaction(ctx, decode(payload)?).await?)
        }
        Action::DataTransfer => encode(core_profile::data_transfer(ctx, decode(payload)?).await?),
        Action::FirmwareStatusNotification => {
            encode(firmware::firmware_status_notification(ctx, decode(payload)?).await?)
        }
        Action::DiagnosticsStatusNotification => {
            encode(firmware::diagnostics_status_notification(ctx, decode(payload)?).await?)
        }
        Action::SecurityEventNotification => {
            encode(security::security_event_notification(ctx, decode(payload)?).await?)
        }
        Action::SignCertificate => encode(security::sign_certificate(ctx, decode(payload)?).await?),
        Action::LogStatusNotification => {
            encode(security::log_status_notification(ctx, decode(payload)?).await?)
        }
        Action::SignedFirmwareStatusNotification => {
            encode(security::signed_firmware_status_notification(ctx, decode(payload)?).await?)
        }
        other => Err(CallRefusal::new(
            ErrorCode::NotSupported,
            format!(
                "{} is not supported for OCPP 1.6 stations yet",
                other.as_str()
            ),
        )),
    }
}
