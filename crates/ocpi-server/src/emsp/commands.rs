//! Commands Sender of the eMSP role (2.2.1 §13): the operator (for a driver) asks a CPO
//! partner to START_SESSION, STOP_SESSION, RESERVE_NOW, CANCEL_RESERVATION or
//! UNLOCK_CONNECTOR. We POST the command to the partner's Commands Receiver with our own
//! `response_url` (`{base}/{version}/emsp/commands/{id}`), keep the CommandResponse it answers
//! with, and store the CommandResult it POSTs to that URL later.
//!
//! The command row is written before the POST: a CommandResult that overtakes the
//! CommandResponse still finds its command. A START_SESSION / RESERVE_NOW carries one of our
//! own tokens (see [`super::tokens`]), looked up by uid.

use axum::body::Bytes;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicharge_ocpi::commands::{
    CancelReservation, CommandResponse, CommandResult, CommandType, ReserveNow, StartSession,
    StopSession, UnlockConnector,
};
use unicharge_ocpi::tokens::Token;
use unicharge_ocpi::transport::StatusCode;
use unicharge_store::ocpi::CommandSentRow;

use crate::auth::{Registered, REGISTERED};
use crate::client;
use crate::operator::OperatorError;
use crate::outbox::receiver_url;
use crate::reply::{self, bounded, Answer, Reply};
use crate::{scope, Ocpi};

/// What the operator asks for; which fields a command needs is the OCPI command's.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommandRequest {
    pub location_id: Option<String>,
    pub evse_uid: Option<String>,
    pub connector_id: Option<String>,
    /// One of our own tokens (START_SESSION, RESERVE_NOW).
    pub token_uid: Option<String>,
    /// Its type when the uid is ambiguous (`RFID`, `APP_USER`, …).
    pub token_type: Option<String>,
    pub session_id: Option<String>,
    pub reservation_id: Option<String>,
    pub expiry_date: Option<DateTime<Utc>>,
    pub authorization_reference: Option<String>,
}

/// A command as the operator sees it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandView {
    pub id: String,
    pub partner_id: i64,
    pub command: String,
    /// The CPO's CommandResponse result (`ACCEPTED`, `REJECTED`, `UNKNOWN_SESSION`, …).
    pub response: Option<String>,
    /// The CommandResult, once the CPO sent it (`ACCEPTED`, `FAILED`, `TIMEOUT`, …).
    pub result: Option<String>,
    /// Text the CPO gave with the response or result.
    pub message: Option<String>,
    pub created_at: DateTime<Utc>,
    pub result_at: Option<DateTime<Utc>>,
}

fn message(m: &Option<Vec<unicharge_ocpi::types::DisplayText>>) -> Option<String> {
    m.as_ref()?.first().map(|t| t.text.clone())
}

impl From<&CommandSentRow> for CommandView {
    fn from(row: &CommandSentRow) -> Self {
        let response: Option<CommandResponse> = row
            .response
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok());
        let result: Option<CommandResult> = row
            .result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok());
        CommandView {
            id: row.id.clone(),
            partner_id: row.partner_id,
            command: row.command.clone(),
            response: response.as_ref().map(|r| r.result.as_str().to_string()),
            result: result.as_ref().map(|r| r.result.as_str().to_string()),
            message: result
                .as_ref()
                .and_then(|r| message(&r.message))
                .or_else(|| response.as_ref().and_then(|r| message(&r.message))),
            created_at: row.created_at,
            result_at: row.result_at,
        }
    }
}

fn need<'a>(
    value: &'a Option<String>,
    name: &str,
    kind: &CommandType,
) -> Result<&'a str, OperatorError> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| OperatorError::Invalid(format!("{kind} needs {name}")))
}

async fn own_token(
    ocpi: &Ocpi,
    req: &CommandRequest,
    kind: &CommandType,
) -> Result<Token, OperatorError> {
    let uid = need(&req.token_uid, "tokenUid", kind)?;
    let tokens = ocpi.ocpi_store().ocpi_own_tokens().await?;
    tokens
        .iter()
        .filter(|t| t.uid == uid)
        .filter(|t| req.token_type.as_deref().is_none_or(|k| k == t.kind))
        .find_map(|t| serde_json::from_str::<Token>(&t.data).ok())
        .ok_or_else(|| OperatorError::NotFound(format!("token {uid} of our eMSP parties")))
}

/// The command body for `kind`, with our `response_url`.
async fn body(
    ocpi: &Ocpi,
    kind: &CommandType,
    req: &CommandRequest,
    response_url: String,
) -> Result<String, OperatorError> {
    let json =
        |v: Result<String, serde_json::Error>| v.map_err(|e| OperatorError::Invalid(e.to_string()));
    match kind {
        CommandType::StartSession => json(serde_json::to_string(&StartSession {
            response_url,
            token: own_token(ocpi, req, kind).await?,
            location_id: need(&req.location_id, "locationId", kind)?.into(),
            evse_uid: req.evse_uid.clone(),
            connector_id: req.connector_id.clone(),
            authorization_reference: req.authorization_reference.clone(),
        })),
        CommandType::StopSession => json(serde_json::to_string(&StopSession {
            response_url,
            session_id: need(&req.session_id, "sessionId", kind)?.into(),
        })),
        CommandType::ReserveNow => json(serde_json::to_string(&ReserveNow {
            response_url,
            token: own_token(ocpi, req, kind).await?,
            expiry_date: req
                .expiry_date
                .ok_or_else(|| OperatorError::Invalid(format!("{kind} needs expiryDate")))?,
            reservation_id: need(&req.reservation_id, "reservationId", kind)?.into(),
            location_id: need(&req.location_id, "locationId", kind)?.into(),
            evse_uid: req.evse_uid.clone(),
            authorization_reference: req.authorization_reference.clone(),
        })),
        CommandType::CancelReservation => json(serde_json::to_string(&CancelReservation {
            response_url,
            reservation_id: need(&req.reservation_id, "reservationId", kind)?.into(),
        })),
        CommandType::UnlockConnector => json(serde_json::to_string(&UnlockConnector {
            response_url,
            location_id: need(&req.location_id, "locationId", kind)?.into(),
            evse_uid: need(&req.evse_uid, "evseUid", kind)?.into(),
            connector_id: need(&req.connector_id, "connectorId", kind)?.into(),
        })),
        CommandType::Other(other) => Err(OperatorError::Invalid(format!(
            "unknown command {other:?}: START_SESSION, STOP_SESSION, RESERVE_NOW, \
             CANCEL_RESERVATION or UNLOCK_CONNECTOR"
        ))),
    }
}

/// A registered CPO partner's Receiver endpoint of a module, and how to call it.
pub(super) struct Target {
    pub partner_id: i64,
    pub url: String,
    pub token: String,
    pub version: unicharge_ocpi::Version,
}

/// Partner `partner_id`, registered, with a `module` RECEIVER endpoint (`what` names it for
/// the operator when it has none).
pub(super) async fn target(
    ocpi: &Ocpi,
    partner_id: i64,
    module: &str,
    what: &str,
) -> Result<Target, OperatorError> {
    let partner = ocpi
        .ocpi_store()
        .ocpi_partner(partner_id)
        .await?
        .ok_or_else(|| OperatorError::NotFound(format!("OCPI partner {partner_id}")))?;
    if partner.status != REGISTERED {
        return Err(OperatorError::Invalid(format!(
            "OCPI partner {partner_id} is {}: register with it first",
            partner.status
        )));
    }
    let url = receiver_url(&partner, module).ok_or_else(|| {
        OperatorError::Unsupported(format!(
            "OCPI partner {partner_id} publishes no {what} RECEIVER endpoint ({module})"
        ))
    })?;
    let (token, version) = crate::credentials::outgoing(ocpi, &partner).ok_or_else(|| {
        OperatorError::Invalid("we hold no token to call the partner with (register again)".into())
    })?;
    Ok(Target {
        partner_id,
        url,
        token,
        version,
    })
}

/// A new command id and the `response_url` its CommandResult is to be POSTed to.
pub(super) fn new_response_url(ocpi: &Ocpi, target: &Target) -> (String, String) {
    let id = crate::secrets::new_token()[..24].to_string();
    let url = format!(
        "{}/{}/emsp/commands/{id}",
        ocpi.base_url(),
        target.version.as_str()
    );
    (id, url)
}

/// Keep the command row (`label` names it to the operator), POST `request` to `url`, keep the
/// CommandResponse the partner answers with.
pub(super) async fn dispatch(
    ocpi: &Ocpi,
    target: &Target,
    id: String,
    label: &str,
    url: &str,
    request: String,
) -> Result<CommandView, OperatorError> {
    let store = ocpi.ocpi_store();
    let partner_id = target.partner_id;
    let mut row = CommandSentRow {
        id: id.clone(),
        partner_id,
        command: label.to_string(),
        request: request.clone(),
        response: None,
        result: None,
        created_at: Utc::now(),
        result_at: None,
    };
    store.create_ocpi_command(&row).await?;
    let raw = serde_json::value::RawValue::from_string(request)
        .map_err(|e| OperatorError::Invalid(e.to_string()))?;
    let answer: Result<CommandResponse, _> = client::call(
        ocpi,
        reqwest::Method::POST,
        url,
        &target.token,
        &target.version,
        Some(&raw),
    )
    .await;
    match answer {
        Ok(response) => {
            let text = serde_json::to_string(&response)
                .map_err(|e| OperatorError::Invalid(e.to_string()))?;
            store.ocpi_command_response(&id, &text).await?;
            row.response = Some(text);
            tracing::info!(partner = partner_id, command = %label, id = %id,
                response = %response.result, "OCPI command sent");
            // A CommandResult may have overtaken the response: read the row back.
            Ok(CommandView::from(
                &store.ocpi_command(&id).await?.unwrap_or(row),
            ))
        }
        Err(e) => {
            tracing::warn!(partner = partner_id, command = %label, error = %e, "OCPI command not taken");
            Err(OperatorError::Partner(e.to_string()))
        }
    }
}

/// Send a command to CPO partner `partner_id`; answers once the CPO's CommandResponse is
/// stored (the CommandResult follows at our response_url).
pub async fn send(
    ocpi: &Ocpi,
    partner_id: i64,
    command: &str,
    req: &CommandRequest,
) -> Result<CommandView, OperatorError> {
    let kind: CommandType = command
        .parse()
        .unwrap_or(CommandType::Other(command.into()));
    let target = target(ocpi, partner_id, "commands", "Commands (is it a CPO?)").await?;
    let (id, response_url) = new_response_url(ocpi, &target);
    let request = body(ocpi, &kind, req, response_url).await?;
    let url = format!("{}/{}", target.url, kind.as_str());
    dispatch(ocpi, &target, id, kind.as_str(), &url, request).await
}

/// The commands sent to a partner, newest first.
pub async fn list(ocpi: &Ocpi, partner_id: i64) -> Result<Vec<CommandView>, OperatorError> {
    Ok(ocpi
        .ocpi_store()
        .ocpi_commands(partner_id)
        .await?
        .iter()
        .filter(|c| !super::charging_profiles::is_profile_request(&c.command))
        .map(CommandView::from)
        .collect())
}

/// `POST {commands}/{id}`: the CPO's CommandResult for a command we sent it. Another
/// partner's command, or one we never sent, is 404 (2000). A retransmission stores the same
/// result again.
pub async fn result(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    scope::version(&version)?;
    let result: CommandResult = reply::body(&bytes, "CommandResult")?;
    let store = ocpi.ocpi_store();
    let known = store
        .ocpi_command(&id)
        .await
        .map_err(Reply::server_error)?
        .filter(|c| c.partner_id == caller.partner.id)
        .filter(|c| !super::charging_profiles::is_profile_request(&c.command));
    if known.is_none() {
        return Err(Reply::not_found_object(
            StatusCode::CLIENT_ERROR,
            format!("no command {} sent to you", bounded(&id)),
        ));
    }
    let text = serde_json::to_string(&result).map_err(Reply::server_error)?;
    store
        .ocpi_command_result(&id, &text, Utc::now())
        .await
        .map_err(Reply::server_error)?;
    tracing::info!(partner = caller.partner.id, id = %bounded(&id), result = %result.result,
        "OCPI CommandResult received");
    Ok(Reply::ok_empty())
}
