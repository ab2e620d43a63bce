//! Driver messages, a unicharge extension module (`unicharge_ocpi::driver_messages`), eMSP
//! role, both directions:
//!
//! * B4.4, sent: our operator (for the driver's app or the helpdesk) asks the CPO to show a
//!   message at the EVSE during a session the CPO pushed us ([`send`]). It travels like a
//!   command: a row in our commands (labelled [`LABEL`]), the CPO's CommandResponse, and its
//!   CommandResult at our Commands `response_url`.
//! * B4.5, received: a CPO's message for one of our drivers ([`post`]), kept once per id (a
//!   retried push changes nothing) and listed with what the partner pushed
//!   (`received/drivermessages`), for the app to show.

use axum::body::Bytes;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use unicharge_ocpi::driver_messages::{
    DriverMessage, DriverMessageRequest, MessagePriority, MODULE_ID,
};
use unicharge_ocpi::types::DisplayText;
use unicharge_store::ocpi::ReceivedRow;

use super::commands::{dispatch, new_response_url, target, CommandView};
use super::preferences::known_session;
use super::scope::cpo_party;
use super::DRIVER_MESSAGES;
use crate::auth::Registered;
use crate::operator::OperatorError;
use crate::reply::{self, bounded, Answer, Reply};
use crate::{scope, Ocpi};

/// How a driver message is named among the commands sent.
pub const LABEL: &str = "DRIVER_MESSAGE";

/// What the operator sends.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DriverMessageBody {
    /// The text in one or more languages (`[{"language": "en", "text": "…"}]`).
    pub message: Vec<DisplayText>,
    /// `NORMAL` (default), `IN_FRONT`, `ALWAYS_FRONT`.
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub display_until: Option<DateTime<Utc>>,
}

/// B4.4: send `body` to CPO partner `partner_id` for its session `session_id`.
pub async fn send(
    ocpi: &Ocpi,
    partner_id: i64,
    session_id: &str,
    body: DriverMessageBody,
) -> Result<CommandView, OperatorError> {
    if body.message.is_empty() || body.message.iter().any(|t| t.text.is_empty()) {
        return Err(OperatorError::Invalid(
            "message needs at least one non-empty text".into(),
        ));
    }
    let priority = match body.priority.as_deref() {
        None => None,
        Some(p @ ("NORMAL" | "IN_FRONT" | "ALWAYS_FRONT")) => Some(
            p.parse::<MessagePriority>()
                .unwrap_or(MessagePriority::Normal),
        ),
        Some(other) => {
            return Err(OperatorError::Invalid(format!(
                "priority {other:?}: use NORMAL, IN_FRONT or ALWAYS_FRONT"
            )))
        }
    };
    let target = target(ocpi, partner_id, MODULE_ID, "driver messages").await?;
    known_session(ocpi, partner_id, session_id).await?;
    let (id, response_url) = new_response_url(ocpi, &target);
    let request = serde_json::to_string(&DriverMessageRequest {
        response_url,
        message: body.message,
        priority,
        display_until: body.display_until,
    })
    .map_err(|e| OperatorError::Invalid(e.to_string()))?;
    let url = format!("{}/{session_id}", target.url);
    dispatch(ocpi, &target, id, LABEL, &url, request).await
}

/// `POST {drivermessages}/{country_code}/{party_id}/{session_id}` (B4.5).
pub async fn post(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, session_id)): Path<(String, String, String, String)>,
    bytes: Bytes,
) -> Answer {
    scope::version(&version)?;
    let party = cpo_party(&ocpi, &caller, &cc, &pid)?;
    let message: DriverMessage = reply::body(&bytes, "DriverMessage")?;
    if message.session_id != session_id {
        return Err(Reply::invalid(
            "the message's session_id must be that of the URL",
        ));
    }
    if message.id.is_empty() || message.id.len() > 36 || message.message.is_empty() {
        return Err(Reply::invalid(
            "a DriverMessage needs an id (1 to 36 characters) and at least one text",
        ));
    }
    let row = ReceivedRow {
        partner_id: caller.partner.id,
        module: DRIVER_MESSAGES.into(),
        party,
        id: message.id.clone(),
        data: serde_json::to_string(&message).map_err(Reply::server_error)?,
        last_updated: message.created_at,
        received_at: Utc::now(),
    };
    let first = ocpi
        .ocpi_store()
        .insert_ocpi_received_once(&row)
        .await
        .map_err(Reply::server_error)?;
    if first {
        tracing::info!(partner = caller.partner.id, session = %bounded(&session_id),
            id = %bounded(&message.id), "OCPI driver message received");
    } else {
        tracing::debug!(partner = caller.partner.id, id = %bounded(&message.id),
            "OCPI driver message received again: kept the first");
    }
    Ok(Reply::ok_empty())
}
