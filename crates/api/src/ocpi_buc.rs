//! OCPI business use cases beyond the 2.2.1 modules, the operator's side: which of our parties
//! a partner is registered with, published to it as our roles (B8.2, `PUT …/parties`), and
//! what it last took (`GET …/published-roles`); the limits our eMSP sets on a CPO partner's
//! session (B4.2 / B2.4, `…/sessions/{session_id}/limits`); the approval of a location's data
//! sharing on behalf of its owner (B1.5, `/api/v1/ocpi/locations/{party}/{id}/sharing`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use unicharge_core::api_keys::ApiRole;
use unicharge_ocpi_server::operator as op;

use unicharge_ocpi_server::emsp::session_limits::{self as limits, LimitsBody, LimitsView};
use unicharge_ocpi_server::roles::{self, PublishedView};
use unicharge_ocpi_server::sharing;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiJson;
use crate::ocpi::{ocpi, refused};
use crate::{ApiError, ApiState};

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/ocpi/partners/{id}/parties", put(put_parties))
        .route(
            "/api/v1/ocpi/partners/{id}/published-roles",
            get(published_roles),
        )
        .route(
            "/api/v1/ocpi/partners/{id}/sessions/{session_id}/limits",
            put(put_limits).get(get_limits).delete(delete_limits),
        )
        .route(
            "/api/v1/ocpi/locations/{party}/{location_id}/sharing",
            put(put_sharing).get(get_sharing),
        )
}

/// The operator's decision on sharing a location's data (B1.5).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = OcpiLocationSharingRequest)]
pub struct SharingBody {
    /// The partner the decision is for; absent: every partner (a partner's own decision wins).
    #[serde(default)]
    pub partner_id: Option<i64>,
    /// true: shared; false: not shared; null: remove the decision (back to the default,
    /// shared, or to the location-wide decision).
    pub approved: Option<bool>,
    /// Why (the owner's request, a legal ground), at most 512 characters.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A location's sharing (OpenAPI description of `sharing::SharingView`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiLocationSharing)]
pub struct SharingDoc {
    /// `CC*PID/location_id`.
    pub location: String,
    /// `shared`: what applies without a decision.
    pub default: String,
    /// `[{partnerId (null: every partner), approved, reason, updatedAt}]`.
    pub rules: Vec<serde_json::Value>,
    /// `[{partnerId, name, shared}]` for every registered partner of the location's party.
    pub partners: Vec<serde_json::Value>,
}

fn location_party(party: &str) -> Result<unicharge_store::ocpi::Party, ApiError> {
    op::parse_party(party).ok_or_else(|| {
        ApiError::bad_request(
            "invalid",
            format!("party {party:?}: write it as CC*PID, e.g. NL*UNI"),
        )
    })
}

/// B1.5: approve or not the sharing of a location's data with every partner or one, on behalf
/// of its owner. Partners it is no longer shared with get its EVSEs as REMOVED, partners it is
/// now shared with get the location; Sender GETs and pseudonymised session feeds follow.
#[utoipa::path(put, path = "/api/v1/ocpi/locations/{party}/{location_id}/sharing", tag = "ocpi",
    params(("party" = String, Path, description = "Our CPO party, CC*PID"),
           ("location_id" = String, Path, description = "The location's id")),
    request_body = SharingBody,
    responses(
        (status = 200, body = SharingDoc),
        (status = 400, description = "Bad party or reason", body = crate::error::ErrorBody),
        (status = 404, description = "No such location or partner", body = crate::error::ErrorBody),
    ))]
pub async fn put_sharing(
    State(state): State<ApiState>,
    caller: Caller,
    Path((party, location_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<SharingBody>,
) -> Result<Json<sharing::SharingView>, ApiError> {
    caller.require(ApiRole::Admin)?;
    let party = location_party(&party)?;
    Ok(Json(
        sharing::decide(
            ocpi(&state)?,
            &party,
            &location_id,
            body.partner_id,
            body.approved,
            body.reason,
        )
        .await
        .map_err(refused)?,
    ))
}

/// The sharing decisions of a location and, per partner of its party, whether it is shared.
#[utoipa::path(get, path = "/api/v1/ocpi/locations/{party}/{location_id}/sharing", tag = "ocpi",
    params(("party" = String, Path, description = "Our CPO party, CC*PID"),
           ("location_id" = String, Path, description = "The location's id")),
    responses(
        (status = 200, body = SharingDoc),
        (status = 404, description = "No such location", body = crate::error::ErrorBody),
    ))]
pub async fn get_sharing(
    State(state): State<ApiState>,
    caller: Caller,
    Path((party, location_id)): Path<(String, String)>,
) -> Result<Json<sharing::SharingView>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let party = location_party(&party)?;
    Ok(Json(
        sharing::view(ocpi(&state)?, &party, &location_id)
            .await
            .map_err(refused)?,
    ))
}

/// Our parties a partner is registered with.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = OcpiPartnerParties)]
pub struct PartiesBody {
    /// `CC*PID` of our configured parties (at least one); replaces the partner's list.
    pub parties: Vec<String>,
}

/// The roles published to a partner (OpenAPI description of `roles::PublishedView`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiPublishedRoles)]
pub struct PublishedDoc {
    pub partner_id: i64,
    /// Our parties the partner is registered with, `CC*PID`.
    pub parties: Vec<String>,
    /// The roles the partner last took, `CC*PID ROLE`.
    pub published: Vec<String>,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the partner has not taken the current roles yet (retried every push_retry_max).
    pub last_error: Option<String>,
    /// What we publish now differs from what the partner took.
    pub pending: bool,
}

/// Register the partner with these parties of ours (B8.2): the list replaces the old one and,
/// if the partner is registered, is published to it at once as our roles in a credentials PUT
/// (which also renews both tokens). Parties added bring their locations and tariffs to it;
/// parties removed are out of its reach at once. 502 when the partner did not take the PUT
/// (the new list is kept and published again every `ocpi.push_retry_max`).
#[utoipa::path(put, path = "/api/v1/ocpi/partners/{id}/parties", tag = "ocpi",
    params(("id" = i64, Path, description = "The partner's id")),
    request_body = PartiesBody,
    responses(
        (status = 200, body = PublishedDoc),
        (status = 400, description = "Empty list, or not one of our configured parties", body = crate::error::ErrorBody),
        (status = 404, description = "No such partner", body = crate::error::ErrorBody),
        (status = 502, description = "The partner did not take the credentials PUT", body = crate::error::ErrorBody),
    ))]
pub async fn put_parties(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<PartiesBody>,
) -> Result<Json<PublishedView>, ApiError> {
    caller.require(ApiRole::Admin)?;
    let mut parties = Vec::new();
    for p in &body.parties {
        parties.push(op::parse_party(p).ok_or_else(|| {
            ApiError::bad_request(
                "invalid",
                format!("party {p:?}: write it as CC*PID, e.g. NL*UNI"),
            )
        })?);
    }
    Ok(Json(
        roles::set_parties(ocpi(&state)?, id, &parties)
            .await
            .map_err(refused)?,
    ))
}

/// The roles the partner last took from us, and whether newer ones wait to be published.
#[utoipa::path(get, path = "/api/v1/ocpi/partners/{id}/published-roles", tag = "ocpi",
    params(("id" = i64, Path, description = "The partner's id")),
    responses(
        (status = 200, body = PublishedDoc),
        (status = 404, description = "No such partner", body = crate::error::ErrorBody),
    ))]
pub async fn published_roles(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<PublishedView>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(roles::view(ocpi(&state)?, id).await.map_err(refused)?))
}

/// Limits on a session (OpenAPI description of `emsp::session_limits::LimitsBody`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiSessionLimitsRequest)]
pub struct LimitsDoc {
    /// Most the session may cost, including VAT, decimal string (e.g. "12.50").
    pub max_cost: Option<String>,
    /// ISO 4217: the session's currency (required with maxCost).
    pub currency: Option<String>,
    /// Most energy, kWh, decimal string.
    pub max_energy: Option<String>,
    /// Longest duration from the session's start, seconds.
    pub max_duration: Option<i64>,
    /// Shown at the EVSE when a limit stops the session: `[{"language", "text"}]`.
    pub stop_message: Option<Vec<serde_json::Value>>,
    /// B2.4: the driver's tariff, shown at the EVSE during the session.
    pub driver_tariff: Option<Vec<serde_json::Value>>,
}

/// The CPO's state of a session's limits (OpenAPI description of
/// `emsp::session_limits::LimitsView`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiSessionLimitsState)]
pub struct LimitsStateDoc {
    pub session_id: String,
    /// Decimal string, including VAT.
    pub max_cost: Option<String>,
    /// kWh, decimal string.
    pub max_energy: Option<String>,
    /// Seconds.
    pub max_duration: Option<i64>,
    pub stop_message: Vec<serde_json::Value>,
    pub driver_tariff: Vec<serde_json::Value>,
    /// ARMED, REACHED, ENDED.
    pub status: String,
    /// COST, ENERGY, DURATION.
    pub reached: Option<String>,
    pub reached_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The station's answer to the stop (Accepted, Rejected) or why it failed.
    pub stop_result: Option<String>,
    /// Cost so far including VAT, decimal string.
    pub cost: Option<String>,
    /// The session's currency.
    pub currency: String,
    /// kWh so far, decimal string.
    pub energy: String,
    /// Seconds since the session started.
    pub duration: i64,
}

/// B4.2 (pre-paid): cap a session the CPO partner pushed us — max cost (incl. VAT, in the
/// session's currency), energy (kWh), duration (s) — replacing earlier limits; the CPO stops
/// the session when one is reached. B2.4: `driverTariff` is shown at the EVSE. 409 when the
/// partner does not publish the `x-unicharge-sessionlimits` extension; 502 when it refused.
#[utoipa::path(put, path = "/api/v1/ocpi/partners/{id}/sessions/{session_id}/limits", tag = "ocpi",
    params(("id" = i64, Path, description = "The CPO partner's id"),
           ("session_id" = String, Path, description = "The OCPI session id the partner pushed")),
    request_body = LimitsDoc,
    responses(
        (status = 200, body = LimitsStateDoc),
        (status = 400, description = "No limit, a limit not above zero, no currency", body = crate::error::ErrorBody),
        (status = 404, description = "No such partner or session", body = crate::error::ErrorBody),
        (status = 409, description = "The CPO does not publish the session-limits extension", body = crate::error::ErrorBody),
        (status = 502, description = "The CPO refused (e.g. another currency, session ended)", body = crate::error::ErrorBody),
    ))]
pub async fn put_limits(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, session_id)): Path<(i64, String)>,
    ApiJson(body): ApiJson<LimitsBody>,
) -> Result<Json<LimitsView>, ApiError> {
    caller.require(ApiRole::Operator)?;
    Ok(Json(
        limits::set(ocpi(&state)?, id, &session_id, body)
            .await
            .map_err(refused)?,
    ))
}

/// The session's limits as the CPO holds them, with the cost, energy and duration so far.
#[utoipa::path(get, path = "/api/v1/ocpi/partners/{id}/sessions/{session_id}/limits", tag = "ocpi",
    params(("id" = i64, Path, description = "The CPO partner's id"),
           ("session_id" = String, Path, description = "The OCPI session id")),
    responses(
        (status = 200, body = LimitsStateDoc),
        (status = 404, description = "No such partner or session", body = crate::error::ErrorBody),
        (status = 502, description = "The CPO refused (e.g. no limits set)", body = crate::error::ErrorBody),
    ))]
pub async fn get_limits(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, session_id)): Path<(i64, String)>,
) -> Result<Json<LimitsView>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(
        limits::read(ocpi(&state)?, id, &session_id)
            .await
            .map_err(refused)?,
    ))
}

/// Lift the session's limits (refused by the CPO once one was reached).
#[utoipa::path(delete, path = "/api/v1/ocpi/partners/{id}/sessions/{session_id}/limits", tag = "ocpi",
    params(("id" = i64, Path, description = "The CPO partner's id"),
           ("session_id" = String, Path, description = "The OCPI session id")),
    responses(
        (status = 204, description = "Lifted"),
        (status = 404, description = "No such partner or session", body = crate::error::ErrorBody),
        (status = 502, description = "The CPO refused", body = crate::error::ErrorBody),
    ))]
pub async fn delete_limits(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, session_id)): Path<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    caller.require(ApiRole::Operator)?;
    limits::lift(ocpi(&state)?, id, &session_id)
        .await
        .map_err(refused)?;
    Ok(StatusCode::NO_CONTENT)
}
