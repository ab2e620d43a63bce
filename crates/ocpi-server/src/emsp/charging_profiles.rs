//! ChargingProfiles Sender of the eMSP role (2.2.1 / 2.3.0 §mod_charging_profiles): the
//! operator (for a driver who agreed to smart charging) sets, reads or clears the charging
//! profile of a session a CPO partner pushed to us. We call the CPO's Receiver with our own
//! `response_url` (`{base}/{version}/emsp/chargingprofiles/results/{id}`), keep its
//! ChargingProfileResponse, and store the result it POSTs there later.
//!
//! Requests are kept in the table of commands we sent (`ocpi_commands_sent`, migration 0064):
//! the row is the same — our request, the CPO's immediate answer, its asynchronous result
//! under the id of our `response_url` — only the `command` names a charging-profile request
//! ([`SET`], [`GET`], [`CLEAR`]). The commands list leaves them out; results are only stored on
//! rows of their own kind. The row is written before the call, so a result that overtakes the
//! response still finds it.
//!
//! The CPO also PUTs an ActiveChargingProfile to `{chargingprofiles}/{session_id}` when the
//! profile of a session we set changed; it is stored as a received object (module
//! `chargingprofiles`, id = the session id) for the operator to read.

use axum::body::Bytes;
use axum::extract::{Path, State};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use unicharge_ocpi::charging_profiles::{
    ActiveChargingProfile, ActiveChargingProfileResult, ChargingProfile, ChargingProfileResponse,
    ChargingProfileResult, ClearProfileResult, SetChargingProfile,
};
use unicharge_ocpi::transport::StatusCode;
use unicharge_store::ocpi::{CommandSentRow, ReceivedRow};

use super::{CHARGING_PROFILES, SESSIONS};
use crate::auth::{Registered, REGISTERED};
use crate::client;
use crate::operator::OperatorError;
use crate::outbox::receiver_url;
use crate::reply::{self, bounded, Answer, Reply};
use crate::{scope, Ocpi};

/// `command` of a SetChargingProfile (PUT) we sent.
pub const SET: &str = "SET_CHARGING_PROFILE";
/// `command` of a GET ActiveChargingProfile we sent.
pub const GET: &str = "GET_ACTIVE_CHARGING_PROFILE";
/// `command` of a DELETE (clear) we sent.
pub const CLEAR: &str = "CLEAR_CHARGING_PROFILE";

/// Whether a sent-commands row is a charging-profile request.
pub fn is_profile_request(command: &str) -> bool {
    [SET, GET, CLEAR].contains(&command)
}

/// What the operator asks for: a profile to set (OCPI spelling), or the duration of the
/// active profile to read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetRequest {
    pub charging_profile: ChargingProfile,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActiveRequest {
    /// Seconds of schedule to ask for.
    pub duration: u32,
}

/// A charging-profile request as the operator sees it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileRequestView {
    pub id: String,
    pub partner_id: i64,
    pub session_id: String,
    /// [`SET`], [`GET`] or [`CLEAR`].
    pub request: String,
    /// The CPO's ChargingProfileResponse result (`ACCEPTED`, `UNKNOWN_SESSION`, …).
    pub response: Option<String>,
    /// The result's `result` once it arrived (`ACCEPTED`, `REJECTED`, `UNKNOWN`).
    pub result: Option<String>,
    /// The ActiveChargingProfile of a GET's result (OCPI spelling).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_profile: Option<Box<RawValue>>,
    pub created_at: chrono::DateTime<Utc>,
    pub result_at: Option<chrono::DateTime<Utc>>,
}

/// What we keep as `request` of the row: the session and what we sent.
#[derive(Debug, Serialize, Deserialize)]
struct Sent {
    session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<SetChargingProfile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    duration: Option<u32>,
}

fn view(row: &CommandSentRow) -> ProfileRequestView {
    let sent: Option<Sent> = serde_json::from_str(&row.request).ok();
    let response: Option<ChargingProfileResponse> = row
        .response
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok());
    let active: Option<ActiveChargingProfileResult> = (row.command == GET)
        .then(|| {
            row.result
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok())
        })
        .flatten();
    let result: Option<ChargingProfileResult> = row
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok());
    ProfileRequestView {
        id: row.id.clone(),
        partner_id: row.partner_id,
        session_id: sent.map(|s| s.session_id).unwrap_or_default(),
        request: row.command.clone(),
        response: response.map(|r| r.result.as_str().to_string()),
        result: result.map(|r| r.result.as_str().to_string()),
        active_profile: active
            .and_then(|a| a.profile)
            .and_then(|p| serde_json::to_string(&p).ok())
            .and_then(|t| RawValue::from_string(t).ok()),
        created_at: row.created_at,
        result_at: row.result_at,
    }
}

/// Set (`PUT`), read (`GET`) or clear (`DELETE`) the profile of session `session_id` of CPO
/// partner `partner_id`; answers once the CPO's ChargingProfileResponse is stored.
async fn send(
    ocpi: &Ocpi,
    partner_id: i64,
    session_id: &str,
    kind: &'static str,
    set: Option<ChargingProfile>,
    duration: Option<u32>,
) -> Result<ProfileRequestView, OperatorError> {
    let store = ocpi.ocpi_store();
    let partner = store
        .ocpi_partner(partner_id)
        .await?
        .filter(|p| p.status == REGISTERED)
        .ok_or_else(|| OperatorError::NotFound(format!("registered OCPI partner {partner_id}")))?;
    // Only a session this CPO pushed us: another partner's id would tell this CPO about it.
    super::preferences::known_session(ocpi, partner_id, session_id).await?;
    let url = receiver_url(&partner, CHARGING_PROFILES).ok_or_else(|| {
        OperatorError::Invalid(format!(
            "OCPI partner {partner_id} publishes no ChargingProfiles RECEIVER endpoint"
        ))
    })?;
    let (token, version) = crate::credentials::outgoing(ocpi, &partner).ok_or_else(|| {
        OperatorError::Invalid("we hold no token to call the partner with (register again)".into())
    })?;
    let id = crate::secrets::new_token()[..24].to_string();
    let response_url = format!(
        "{}/{}/emsp/chargingprofiles/results/{id}",
        ocpi.base_url(),
        version.as_str()
    );
    let body = set.map(|charging_profile| SetChargingProfile {
        charging_profile,
        response_url: response_url.clone(),
    });
    let sent = Sent {
        session_id: session_id.to_string(),
        body: body.clone(),
        duration,
    };
    let row = CommandSentRow {
        id: id.clone(),
        partner_id,
        command: kind.to_string(),
        request: serde_json::to_string(&sent).map_err(|e| OperatorError::Invalid(e.to_string()))?,
        response: None,
        result: None,
        created_at: Utc::now(),
        result_at: None,
    };
    store.create_ocpi_command(&row).await?;
    let session = urlencode(session_id);
    let target = match (kind, duration) {
        (GET, Some(d)) => format!(
            "{url}/{session}?duration={d}&response_url={}",
            urlencode(&response_url)
        ),
        (CLEAR, _) => format!("{url}/{session}?response_url={}", urlencode(&response_url)),
        _ => format!("{url}/{session}"),
    };
    let method = match kind {
        SET => reqwest::Method::PUT,
        CLEAR => reqwest::Method::DELETE,
        _ => reqwest::Method::GET,
    };
    let answer: ChargingProfileResponse =
        client::call(ocpi, method, &target, &token, &version, body.as_ref())
            .await
            .map_err(|e| {
                tracing::warn!(partner = partner_id, request = kind, error = %e,
                    "OCPI charging profile request not taken");
                OperatorError::Partner(e.to_string())
            })?;
    let text = serde_json::to_string(&answer).map_err(|e| OperatorError::Invalid(e.to_string()))?;
    store.ocpi_command_response(&id, &text).await?;
    tracing::info!(partner = partner_id, request = kind, id = %id, session = %session_id,
        response = %answer.result, "OCPI charging profile request sent");
    let row = store.ocpi_command(&id).await?.unwrap_or(row);
    Ok(view(&row))
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn set(
    ocpi: &Ocpi,
    partner_id: i64,
    session_id: &str,
    req: SetRequest,
) -> Result<ProfileRequestView, OperatorError> {
    send(
        ocpi,
        partner_id,
        session_id,
        SET,
        Some(req.charging_profile),
        None,
    )
    .await
}

pub async fn active(
    ocpi: &Ocpi,
    partner_id: i64,
    session_id: &str,
    req: ActiveRequest,
) -> Result<ProfileRequestView, OperatorError> {
    if req.duration == 0 {
        return Err(OperatorError::Invalid(
            "duration: at least one second".into(),
        ));
    }
    send(ocpi, partner_id, session_id, GET, None, Some(req.duration)).await
}

pub async fn clear(
    ocpi: &Ocpi,
    partner_id: i64,
    session_id: &str,
) -> Result<ProfileRequestView, OperatorError> {
    send(ocpi, partner_id, session_id, CLEAR, None, None).await
}

/// The charging-profile requests sent to a partner, newest first.
pub async fn list(ocpi: &Ocpi, partner_id: i64) -> Result<Vec<ProfileRequestView>, OperatorError> {
    Ok(ocpi
        .ocpi_store()
        .ocpi_commands(partner_id)
        .await?
        .iter()
        .filter(|r| is_profile_request(&r.command))
        .map(view)
        .collect())
}

/// `POST {chargingprofiles}/results/{id}`: the CPO's result for a request we sent it, typed by
/// what we asked (ActiveChargingProfileResult, ChargingProfileResult, ClearProfileResult).
/// Another partner's request, or one we never sent, is 404 (2000); a retransmission stores the
/// same result again.
pub async fn result(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    scope::version(&version)?;
    let store = ocpi.ocpi_store();
    let row = store
        .ocpi_command(&id)
        .await
        .map_err(Reply::server_error)?
        .filter(|c| c.partner_id == caller.partner.id && is_profile_request(&c.command))
        .ok_or_else(|| {
            Reply::not_found_object(
                StatusCode::CLIENT_ERROR,
                format!("no charging profile request {} sent to you", bounded(&id)),
            )
        })?;
    let (text, result) = match row.command.as_str() {
        GET => {
            let r: ActiveChargingProfileResult =
                reply::body(&bytes, "ActiveChargingProfileResult")?;
            (serde_json::to_string(&r), r.result)
        }
        SET => {
            let r: ChargingProfileResult = reply::body(&bytes, "ChargingProfileResult")?;
            (serde_json::to_string(&r), r.result)
        }
        _ => {
            let r: ClearProfileResult = reply::body(&bytes, "ClearProfileResult")?;
            (serde_json::to_string(&r), r.result)
        }
    };
    let text = text.map_err(Reply::server_error)?;
    store
        .ocpi_command_result(&id, &text, Utc::now())
        .await
        .map_err(Reply::server_error)?;
    tracing::info!(partner = caller.partner.id, id = %bounded(&id), request = %row.command,
        result = %result, "OCPI charging profile result received");
    Ok(Reply::ok_empty())
}

/// `PUT {chargingprofiles}/{session_id}`: the CPO tells us the ActiveChargingProfile of one of
/// its sessions changed. Only a session that partner pushed to us (else 404 / 2000); stored
/// under the session's CPO party, replacing the previous one.
pub async fn put_active(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, session_id)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    scope::version(&version)?;
    let profile: ActiveChargingProfile = reply::body(&bytes, "ActiveChargingProfile")?;
    let store = ocpi.ocpi_store();
    let session = store
        .ocpi_received_list(Some(caller.partner.id), SESSIONS)
        .await
        .map_err(Reply::server_error)?
        .into_iter()
        .find(|s| s.id == session_id)
        .ok_or_else(|| {
            Reply::not_found_object(
                StatusCode::CLIENT_ERROR,
                format!("no session {} of yours", bounded(&session_id)),
            )
        })?;
    let data = serde_json::to_string(&profile).map_err(Reply::server_error)?;
    store
        .put_ocpi_received(&ReceivedRow {
            partner_id: caller.partner.id,
            module: CHARGING_PROFILES.to_string(),
            party: session.party,
            id: session_id.clone(),
            data,
            last_updated: profile.start_date_time,
            received_at: Utc::now(),
        })
        .await
        .map_err(Reply::server_error)?;
    tracing::info!(partner = caller.partner.id, session = %bounded(&session_id),
        "OCPI ActiveChargingProfile received");
    Ok(Reply::ok_empty())
}
