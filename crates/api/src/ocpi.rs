//! OCPI roaming, the operator's side: partners (create one and get its token A, register with
//! a partner's platform, list them) and locations (place stations, add address, coordinates,
//! opening times…). The OCPI front door itself is `unicharge_ocpi_server`; these routes call
//! its operator operations. Tokens are shown once, on creation; listings never carry them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use unicharge_core::api_keys::ApiRole;
use unicharge_ocpi_server::locations::LocationData;
use unicharge_ocpi_server::operator::{self as op, NewPartner, OperatorError, PartnerView};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::ApiJson;
use crate::{ApiError, ApiState};

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v1/ocpi/partners",
            post(create_partner).get(list_partners),
        )
        .route("/api/v1/ocpi/partners/{id}/register", post(register))
        .route("/api/v1/ocpi/partners/{id}/outbox", get(outbox))
        .route("/api/v1/ocpi/partners/{id}/clients", get(hub_clients))
        .route(
            "/api/v1/ocpi/locations/{party}/{location_id}",
            put(put_location),
        )
        .route("/api/v1/ocpi/versions-url", get(versions_url))
        // The eMSP role (ADR 0039).
        .route(
            "/api/v1/ocpi/partners/{id}/received/{module}",
            get(received),
        )
        .route("/api/v1/ocpi/partners/{id}/commands", get(list_commands))
        .route(
            "/api/v1/ocpi/partners/{id}/commands/{command}",
            post(send_command),
        )
        .route(
            "/api/v1/ocpi/partners/{id}/sessions/{session_id}/charging-preferences",
            put(put_charging_preferences),
        )
        .route(
            "/api/v1/ocpi/partners/{id}/sessions/{session_id}/charging-profile",
            put(put_charging_profile).delete(clear_charging_profile),
        )
        .route(
            "/api/v1/ocpi/partners/{id}/sessions/{session_id}/charging-profile/active",
            post(get_active_charging_profile),
        )
        .route(
            "/api/v1/ocpi/partners/{id}/charging-profiles",
            get(list_charging_profiles),
        )
        .route("/api/v1/ocpi/tokens", get(list_tokens))
        .route("/api/v1/ocpi/tokens/{party}/{uid}", put(put_token))
        // The driver-messages extension module (B4.4 / B4.5).
        .route(
            "/api/v1/ocpi/partners/{id}/sessions/{session_id}/driver-messages",
            post(send_driver_message),
        )
        .route("/api/v1/ocpi/driver-messages", post(push_driver_message))
        // The CDR-verdicts extension module (B5.2): received (CPO role) and sent (eMSP role).
        .route("/api/v1/ocpi/cdr-verdicts", get(list_cdr_verdicts))
        .route(
            "/api/v1/ocpi/partners/{id}/cdrs/{cdr_id}/verdict",
            put(put_cdr_verdict),
        )
        // The GDPR extension module (B3.4), eMSP role.
        .route(
            "/api/v1/ocpi/partners/{id}/personal-data/{party}/{uid}",
            get(partner_personal_data),
        )
        .route(
            "/api/v1/ocpi/partners/{id}/personal-data/{party}/{uid}/erase",
            post(partner_erase),
        )
}

pub(crate) fn ocpi(state: &ApiState) -> Result<&unicharge_ocpi_server::Ocpi, ApiError> {
    state.ocpi.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ocpi_not_running",
            "OCPI is not served by this server (set [ocpi] enabled = true and an [http] listen)",
        )
    })
}

pub(crate) fn refused(e: OperatorError) -> ApiError {
    match e {
        OperatorError::Invalid(m) => ApiError::bad_request("invalid", m),
        OperatorError::NotFound(m) => ApiError::not_found("not_found", format!("{m} not found")),
        OperatorError::Store(e) => e.into(),
        OperatorError::Partner(m) => ApiError::new(StatusCode::BAD_GATEWAY, "partner_refused", m),
        OperatorError::Unsupported(m) => {
            ApiError::new(StatusCode::CONFLICT, "partner_unsupported", m)
        }
        OperatorError::Internal(m) => {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "ocpi_failed", m)
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartnerBody {
    pub name: String,
    /// Our parties the partner is registered with, `CC*PID`; absent: all of ours.
    #[serde(default)]
    pub parties: Vec<String>,
}

/// Create a partner: the answer carries its token A (shown once) and our versions URL.
pub async fn create_partner(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<PartnerBody>,
) -> Result<(StatusCode, Json<NewPartner>), ApiError> {
    caller.require(ApiRole::Admin)?;
    let ocpi = ocpi(&state)?;
    let mut parties = Vec::new();
    for p in &body.parties {
        parties.push(op::parse_party(p).ok_or_else(|| {
            ApiError::bad_request(
                "invalid",
                format!("party {p:?}: write it as CC*PID, e.g. NL*UNI"),
            )
        })?);
    }
    let created = op::create_partner(ocpi, &body.name, &parties)
        .await
        .map_err(refused)?;
    Ok((StatusCode::CREATED, Json(created)))
}

pub async fn list_partners(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<PartnerView>>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(op::partners(ocpi(&state)?).await.map_err(refused)?))
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterBody {
    /// The partner's versions endpoint.
    pub versions_url: String,
    /// The token A the partner issued to us.
    pub token: String,
}

/// Register with the partner's platform (we send our token B, keep its token C).
pub async fn register(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<Json<PartnerView>, ApiError> {
    caller.require(ApiRole::Admin)?;
    let ocpi = ocpi(&state)?;
    match op::register_with(ocpi, id, &body.versions_url, &body.token).await {
        Ok(p) => Ok(Json(PartnerView::from(&p))),
        Err(op::RegisterError::UnknownPartner(id)) => Err(ApiError::not_found(
            "not_found",
            format!("no OCPI partner {id}"),
        )),
        Err(op::RegisterError::Store(e)) => Err(e.into()),
        Err(e @ op::RegisterError::AlreadyRegistered(_)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_registered",
            e.to_string(),
        )),
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "partner_refused",
            e.to_string(),
        )),
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocationBody {
    /// The location as OCPI spells it (snake_case): address, city, country, coordinates,
    /// time_zone, opening_times, facilities, parking_type, connector…
    pub location: LocationData,
    /// The stations at this location; their EVSEs become the location's EVSEs.
    #[serde(default)]
    pub stations: Vec<String>,
}

/// Create or replace a location of one of our parties (`CC*PID`).
pub async fn put_location(
    State(state): State<ApiState>,
    caller: Caller,
    Path((party, location_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<LocationBody>,
) -> Result<StatusCode, ApiError> {
    caller.require(ApiRole::Operator)?;
    let ocpi = ocpi(&state)?;
    let party = op::parse_party(&party).ok_or_else(|| {
        ApiError::bad_request("invalid", format!("party {party:?}: write it as CC*PID"))
    })?;
    op::put_location(ocpi, &party, &location_id, &body.location, &body.stations)
        .await
        .map_err(refused)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct OutboxQuery {
    /// Most recent pushes to list (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// One push to a roaming partner (OpenAPI description of `op::PushView`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiPush)]
pub struct PushDoc {
    pub id: i64,
    /// OCPI module: `locations`, `sessions`, `cdrs`, `tariffs`.
    pub module: String,
    /// The object pushed; pushes of one object go out in order.
    pub object_key: String,
    /// `PUT`, `PATCH`, `POST`, `DELETE`.
    pub method: String,
    /// Appended to the partner's Receiver endpoint URL.
    pub path: String,
    /// `PENDING` or `DELIVERED`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: chrono::DateTime<chrono::Utc>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A partner's push outbox (OpenAPI description of `op::OutboxView`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiOutbox)]
pub struct OutboxDoc {
    pub partner_id: i64,
    pub pending: i64,
    pub delivered: i64,
    /// Pending pushes that failed at least once (the partner is down or refuses them).
    pub failing: i64,
    /// Most recent first.
    pub pushes: Vec<PushDoc>,
}

/// The partner's push outbox (ADR 0038): pending / delivered / failing counts and the most
/// recent pushes with their attempts and last error, to see why a partner is behind.
#[utoipa::path(get, path = "/api/v1/ocpi/partners/{id}/outbox", tag = "ocpi",
    params(("id" = i64, Path, description = "The partner's id"), OutboxQuery),
    responses(
        (status = 200, body = OutboxDoc),
        (status = 404, description = "No such partner", body = crate::error::ErrorBody),
        (status = 503, description = "OCPI is not served", body = crate::error::ErrorBody),
    ))]
pub async fn outbox(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
    axum::extract::Query(query): axum::extract::Query<OutboxQuery>,
) -> Result<Json<op::OutboxView>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(
        op::outbox(ocpi(&state)?, id, limit)
            .await
            .map_err(refused)?,
    ))
}

/// A party behind a hub partner (OpenAPI description of `op::ClientInfoView`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiHubClient)]
pub struct ClientInfoDoc {
    /// `CC*PID`.
    pub party: String,
    /// OCPI role: CPO, EMSP, NSP…
    pub role: String,
    /// CONNECTED, OFFLINE, PLANNED, SUSPENDED.
    pub status: String,
    pub last_updated: chrono::DateTime<chrono::Utc>,
}

/// The parties a hub partner reported through HubClientInfo (B8.4), with their connection
/// status at the hub.
#[utoipa::path(get, path = "/api/v1/ocpi/partners/{id}/clients", tag = "ocpi",
    params(("id" = i64, Path, description = "The hub partner's id")),
    responses(
        (status = 200, body = Vec<ClientInfoDoc>),
        (status = 404, description = "No such partner", body = crate::error::ErrorBody),
        (status = 503, description = "OCPI is not served", body = crate::error::ErrorBody),
    ))]
pub async fn hub_clients(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<op::ClientInfoView>>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(
        op::hub_clients(ocpi(&state)?, id).await.map_err(refused)?,
    ))
}

/// Our OCPI versions URL, as `GET /api/v1/ocpi/versions-url` answers it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionsUrl {
    /// What partners are given with token A.
    pub versions_url: String,
}

/// Our OCPI versions URL (what partners are given with token A).
pub async fn versions_url(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<VersionsUrl>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(VersionsUrl {
        versions_url: ocpi(&state)?.versions_url(),
    }))
}

/// What CPO partner `id` pushed to our eMSP Receiver endpoints: `locations`, `tariffs`,
/// `sessions` or `cdrs` (sessions and CDRs with kWh and total cost), in arrival order.
#[utoipa::path(get, path = "/api/v1/ocpi/partners/{id}/received/{module}", tag = "ocpi",
    params(("id" = i64, Path, description = "The CPO partner's id"),
        ("module" = String, Path, description = "locations, tariffs, sessions or cdrs")),
    responses(
        (status = 200, body = Vec<ReceivedDoc>),
        (status = 404, description = "No such partner or module", body = crate::error::ErrorBody),
        (status = 503, description = "OCPI is not served", body = crate::error::ErrorBody),
    ))]
pub async fn received(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, module)): Path<(i64, String)>,
) -> Result<Json<Vec<unicharge_ocpi_server::emsp::views::ReceivedView>>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(
        unicharge_ocpi_server::emsp::views::received(ocpi(&state)?, id, &module)
            .await
            .map_err(refused)?,
    ))
}

/// Send a command (START_SESSION, STOP_SESSION, RESERVE_NOW, CANCEL_RESERVATION,
/// UNLOCK_CONNECTOR) to CPO partner `id`; answers with the CPO's CommandResponse. The
/// CommandResult arrives later: `GET …/commands` shows it.
#[utoipa::path(post, path = "/api/v1/ocpi/partners/{id}/commands/{command}", tag = "ocpi",
    params(("id" = i64, Path, description = "The CPO partner's id"),
        ("command" = String, Path, description = "START_SESSION, STOP_SESSION, RESERVE_NOW, CANCEL_RESERVATION or UNLOCK_CONNECTOR")),
    request_body = CommandRequestDoc,
    responses(
        (status = 200, body = CommandDoc),
        (status = 400, description = "A field the command needs is missing", body = crate::error::ErrorBody),
        (status = 404, description = "No such partner or token", body = crate::error::ErrorBody),
        (status = 502, description = "The CPO refused or did not answer", body = crate::error::ErrorBody),
    ))]
pub async fn send_command(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, command)): Path<(i64, String)>,
    ApiJson(body): ApiJson<unicharge_ocpi_server::emsp::commands::CommandRequest>,
) -> Result<Json<unicharge_ocpi_server::emsp::commands::CommandView>, ApiError> {
    caller.require(ApiRole::Operator)?;
    Ok(Json(
        unicharge_ocpi_server::emsp::commands::send(ocpi(&state)?, id, &command, &body)
            .await
            .map_err(refused)?,
    ))
}

/// The commands sent to CPO partner `id`, newest first, with response and result.
#[utoipa::path(get, path = "/api/v1/ocpi/partners/{id}/commands", tag = "ocpi",
    params(("id" = i64, Path, description = "The CPO partner's id")),
    responses((status = 200, body = Vec<CommandDoc>)))]
pub async fn list_commands(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<unicharge_ocpi_server::emsp::commands::CommandView>>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(
        unicharge_ocpi_server::emsp::commands::list(ocpi(&state)?, id)
            .await
            .map_err(refused)?,
    ))
}

/// Create or replace a token of one of our eMSP parties (`CC*PID`); the body is the OCPI
/// Token (OCPI spelling). It is pushed to the CPO partners registered with that party.
pub async fn put_token(
    State(state): State<ApiState>,
    caller: Caller,
    Path((party, uid)): Path<(String, String)>,
    ApiJson(token): ApiJson<unicharge_ocpi_server::emsp::tokens::Token>,
) -> Result<StatusCode, ApiError> {
    caller.require(ApiRole::Operator)?;
    let party = op::parse_party(&party).ok_or_else(|| {
        ApiError::bad_request("invalid", format!("party {party:?}: write it as CC*PID"))
    })?;
    if op::parse_party(&format!("{}*{}", token.country_code, token.party_id)) != Some(party)
        || token.uid != uid
    {
        return Err(ApiError::bad_request(
            "invalid",
            "the token's country_code, party_id and uid must be those of the URL",
        ));
    }
    unicharge_ocpi_server::emsp::tokens::put(ocpi(&state)?, &token)
        .await
        .map_err(refused)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tokens of our eMSP parties (OCPI spelling).
pub async fn list_tokens(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<unicharge_ocpi_server::emsp::tokens::Token>>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(
        unicharge_ocpi_server::emsp::tokens::all(ocpi(&state)?)
            .await
            .map_err(refused)?,
    ))
}

/// Send the driver's charging preferences for a session CPO partner `id` pushed to us; answers
/// with the CPO's ChargingPreferencesResponse (`ACCEPTED`, `NOT_POSSIBLE`, …).
pub async fn put_charging_preferences(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, session_id)): Path<(i64, String)>,
    ApiJson(body): ApiJson<unicharge_ocpi_server::emsp::preferences::PreferencesRequest>,
) -> Result<Json<unicharge_ocpi_server::emsp::preferences::PreferencesView>, ApiError> {
    caller.require(ApiRole::Operator)?;
    Ok(Json(
        unicharge_ocpi_server::emsp::preferences::set(ocpi(&state)?, id, &session_id, &body)
            .await
            .map_err(refused)?,
    ))
}

/// eMSP role, B4.4: ask CPO partner `id` to show a message to the driver of session
/// `session_id` (one it pushed us) at the EVSE. Travels as a command: the answer is the CPO's
/// CommandResponse, the CommandResult follows (`GET …/commands`, command `DRIVER_MESSAGE`).
#[utoipa::path(post, path = "/api/v1/ocpi/partners/{id}/sessions/{session_id}/driver-messages",
    tag = "ocpi",
    params(("id" = i64, Path, description = "The CPO partner's id"),
        ("session_id" = String, Path, description = "A session the CPO pushed us")),
    request_body = DriverMessageDoc,
    responses(
        (status = 200, body = CommandDoc),
        (status = 400, description = "No text, or an unknown priority", body = crate::error::ErrorBody),
        (status = 404, description = "No such partner or session", body = crate::error::ErrorBody),
        (status = 409, description = "The CPO does not publish the driver-messages extension", body = crate::error::ErrorBody),
        (status = 502, description = "The CPO refused or did not answer", body = crate::error::ErrorBody),
    ))]
pub async fn send_driver_message(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, session_id)): Path<(i64, String)>,
    ApiJson(body): ApiJson<unicharge_ocpi_server::emsp::driver_messages::DriverMessageBody>,
) -> Result<Json<unicharge_ocpi_server::emsp::commands::CommandView>, ApiError> {
    caller.require(ApiRole::Operator)?;
    Ok(Json(
        unicharge_ocpi_server::emsp::driver_messages::send(ocpi(&state)?, id, &session_id, body)
            .await
            .map_err(refused)?,
    ))
}

/// CPO role, B4.5: a message for the driver of a roaming transaction (OpenAPI description of
/// `driver_messages::PushRequest`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiDriverMessageToMsp)]
pub struct PushDriverMessageDoc {
    pub station_id: String,
    pub transaction_id: String,
    /// `[{"language": "en", "text": "…"}]`
    #[schema(value_type = Vec<Object>)]
    pub message: Vec<serde_json::Value>,
}

/// CPO role, B4.5: queue a message for the driver of a roaming transaction to the eMSP whose
/// token runs it (through the outbox; `GET …/partners/{id}/outbox` shows the delivery).
#[utoipa::path(post, path = "/api/v1/ocpi/driver-messages", tag = "ocpi",
    request_body = PushDriverMessageDoc,
    responses(
        (status = 200, body = DriverMessageSentDoc),
        (status = 404, description = "No such station, transaction or roaming token", body = crate::error::ErrorBody),
        (status = 409, description = "The eMSP does not publish the driver-messages extension", body = crate::error::ErrorBody),
    ))]
pub async fn push_driver_message(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<unicharge_ocpi_server::driver_messages::PushRequest>,
) -> Result<Json<unicharge_ocpi_server::driver_messages::SentDriverMessage>, ApiError> {
    caller.require(ApiRole::Operator)?;
    Ok(Json(
        unicharge_ocpi_server::driver_messages::send(ocpi(&state)?, body)
            .await
            .map_err(refused)?,
    ))
}

/// eMSP role, B3.4: everything CPO partner `id` keeps about our driver's token `party` / `uid`
/// (GDPR right of access), as the CPO answered.
#[utoipa::path(get, path = "/api/v1/ocpi/partners/{id}/personal-data/{party}/{uid}", tag = "ocpi",
    params(("id" = i64, Path, description = "The CPO partner's id"),
        ("party" = String, Path, description = "Our eMSP party of the token, CC*PID"),
        ("uid" = String, Path, description = "The token's uid")),
    responses(
        (status = 200, description = "The CPO's personal data of the token", body = Object),
        (status = 404, description = "No such partner, or not one of our tokens", body = crate::error::ErrorBody),
        (status = 409, description = "The CPO does not publish the GDPR extension", body = crate::error::ErrorBody),
        (status = 502, description = "The CPO refused or did not answer", body = crate::error::ErrorBody),
    ))]
pub async fn partner_personal_data(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, party, uid)): Path<(i64, String, String)>,
) -> Result<Json<Box<serde_json::value::RawValue>>, ApiError> {
    caller.require(ApiRole::Operator)?;
    Ok(Json(
        unicharge_ocpi_server::emsp::gdpr::personal_data(ocpi(&state)?, id, &party, &uid)
            .await
            .map_err(refused)?,
    ))
}

/// eMSP role, B3.4: have CPO partner `id` erase our driver's token (GDPR right to be
/// forgotten). Admin role, as the local erasure.
#[utoipa::path(post, path = "/api/v1/ocpi/partners/{id}/personal-data/{party}/{uid}/erase",
    tag = "ocpi",
    params(("id" = i64, Path, description = "The CPO partner's id"),
        ("party" = String, Path, description = "Our eMSP party of the token, CC*PID"),
        ("uid" = String, Path, description = "The token's uid")),
    responses(
        (status = 200, description = "What the CPO erased (found, pseudonym, stations asked to clear)", body = Object),
        (status = 404, description = "No such partner, or not one of our tokens", body = crate::error::ErrorBody),
        (status = 409, description = "The CPO does not publish the GDPR extension", body = crate::error::ErrorBody),
        (status = 502, description = "The CPO refused or did not answer", body = crate::error::ErrorBody),
    ))]
pub async fn partner_erase(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, party, uid)): Path<(i64, String, String)>,
) -> Result<Json<unicharge_ocpi_server::emsp::gdpr::ErasureAtCpo>, ApiError> {
    caller.require(ApiRole::Admin)?;
    Ok(Json(
        unicharge_ocpi_server::emsp::gdpr::erase(ocpi(&state)?, id, &party, &uid)
            .await
            .map_err(refused)?,
    ))
}

/// Which CDR verdicts to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerdictQuery {
    /// `RECEIVED` (partners' verdicts on our CDRs, the default) or `SENT` (ours on partners').
    pub side: Option<String>,
    /// `ACCEPTED` or `DISPUTED`.
    pub result: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// B5.2: MSPs' verdicts on CDRs, newest first — disputes are for the operator to settle (a
/// credit CDR where the dispute holds).
#[utoipa::path(get, path = "/api/v1/ocpi/cdr-verdicts", tag = "ocpi", params(VerdictQuery),
    responses((status = 200, body = Vec<VerdictDoc>),
              (status = 400, description = "Unknown side or result", body = crate::error::ErrorBody)))]
pub async fn list_cdr_verdicts(
    State(state): State<ApiState>,
    caller: Caller,
    axum::extract::Query(q): axum::extract::Query<VerdictQuery>,
) -> Result<Json<Vec<unicharge_ocpi_server::cdr_verdicts::VerdictView>>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let side = q.side.as_deref().unwrap_or("RECEIVED");
    if !matches!(side, "RECEIVED" | "SENT") {
        return Err(ApiError::bad_request(
            "invalid",
            format!("side {side:?}: use RECEIVED or SENT"),
        ));
    }
    Ok(Json(
        unicharge_ocpi_server::cdr_verdicts::list(
            ocpi(&state)?,
            side,
            q.result.as_deref(),
            q.limit.unwrap_or(100),
        )
        .await
        .map_err(refused)?,
    ))
}

/// eMSP role, B5.2: accept or dispute (with a reason) a CDR CPO partner `id` pushed us.
#[utoipa::path(put, path = "/api/v1/ocpi/partners/{id}/cdrs/{cdr_id}/verdict", tag = "ocpi",
    params(("id" = i64, Path, description = "The CPO partner's id"),
        ("cdr_id" = String, Path, description = "A CDR the CPO pushed us")),
    request_body = VerdictRequestDoc,
    responses(
        (status = 200, body = VerdictDoc),
        (status = 400, description = "Unknown result, or a dispute without a reason", body = crate::error::ErrorBody),
        (status = 404, description = "No such partner or CDR", body = crate::error::ErrorBody),
        (status = 409, description = "The CPO does not publish the CDR-verdicts extension", body = crate::error::ErrorBody),
        (status = 502, description = "The CPO refused or did not answer", body = crate::error::ErrorBody),
    ))]
pub async fn put_cdr_verdict(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, cdr_id)): Path<(i64, String)>,
    ApiJson(body): ApiJson<unicharge_ocpi_server::emsp::cdr_verdicts::VerdictRequest>,
) -> Result<Json<unicharge_ocpi_server::cdr_verdicts::VerdictView>, ApiError> {
    caller.require(ApiRole::Operator)?;
    Ok(Json(
        unicharge_ocpi_server::emsp::cdr_verdicts::send(ocpi(&state)?, id, &cdr_id, body)
            .await
            .map_err(refused)?,
    ))
}

/// A verdict on a CDR (OpenAPI description of `cdr_verdicts::VerdictView`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiCdrVerdict)]
pub struct VerdictDoc {
    pub partner_id: i64,
    pub cdr_id: String,
    /// `ACCEPTED` or `DISPUTED`.
    pub result: String,
    pub reason: Option<String>,
    pub last_updated: chrono::DateTime<chrono::Utc>,
}

/// What the operator says of a CDR (OpenAPI description of `emsp::cdr_verdicts::VerdictRequest`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiCdrVerdictRequest)]
pub struct VerdictRequestDoc {
    /// `ACCEPTED` or `DISPUTED`.
    pub result: String,
    /// Why (required for `DISPUTED`).
    pub reason: Option<String>,
}

/// A driver message for a CPO partner (OpenAPI description of
/// `emsp::driver_messages::DriverMessageBody`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiDriverMessage)]
pub struct DriverMessageDoc {
    /// `[{"language": "en", "text": "…"}]`
    #[schema(value_type = Vec<Object>)]
    pub message: Vec<serde_json::Value>,
    /// `NORMAL` (default), `IN_FRONT`, `ALWAYS_FRONT`.
    pub priority: Option<String>,
    pub display_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// What `POST /api/v1/ocpi/driver-messages` queued.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiDriverMessageSent)]
pub struct DriverMessageSentDoc {
    pub id: String,
    pub session_id: String,
    pub partner_ids: Vec<i64>,
}

use unicharge_ocpi_server::emsp::charging_profiles as cp;

/// A profile to set (OpenAPI description of `emsp::charging_profiles::SetRequest`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiSetChargingProfile)]
pub struct SetChargingProfileDoc {
    /// The OCPI ChargingProfile, in OCPI spelling: `charging_rate_unit` (`W` or `A`),
    /// `charging_profile_period` (`start_period` in seconds, `limit`), optional
    /// `start_date_time`, `duration`, `min_charging_rate`.
    #[schema(value_type = Object)]
    pub charging_profile: serde_json::Value,
}

/// How much of the active profile to ask for.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiActiveChargingProfileRequest)]
pub struct ActiveRequestDoc {
    /// Seconds.
    pub duration: u32,
}

/// A charging-profile request sent to a CPO partner (OpenAPI description of
/// `emsp::charging_profiles::ProfileRequestView`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiChargingProfileRequest)]
pub struct ProfileRequestDoc {
    pub id: String,
    pub partner_id: i64,
    pub session_id: String,
    /// `SET_CHARGING_PROFILE`, `GET_ACTIVE_CHARGING_PROFILE` or `CLEAR_CHARGING_PROFILE`.
    pub request: String,
    /// The CPO's ChargingProfileResponse result (`ACCEPTED`, `REJECTED`, `TOO_OFTEN`,
    /// `UNKNOWN_SESSION`, `NOT_SUPPORTED`).
    pub response: Option<String>,
    /// The asynchronous result (`ACCEPTED`, `REJECTED`, `UNKNOWN`), once it arrived.
    pub result: Option<String>,
    /// A GET's ActiveChargingProfile (OCPI spelling).
    #[schema(value_type = Option<Object>)]
    pub active_profile: Option<serde_json::Value>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub result_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Set the charging profile of a session CPO partner `id` pushed to us (`chargingProfile` in
/// OCPI spelling: `charging_rate_unit` W or A, `charging_profile_period` with `start_period` and
/// `limit`); answers with the CPO's ChargingProfileResponse. The ChargingProfileResult arrives
/// later: `GET …/charging-profiles` shows it.
#[utoipa::path(put, path = "/api/v1/ocpi/partners/{id}/sessions/{session_id}/charging-profile",
    tag = "ocpi",
    params(("id" = i64, Path, description = "The CPO partner's id"),
        ("session_id" = String, Path, description = "A session that CPO pushed to us")),
    request_body = SetChargingProfileDoc,
    responses(
        (status = 200, body = ProfileRequestDoc),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, description = "No such partner, or a session it never pushed", body = crate::error::ErrorBody),
        (status = 502, description = "The CPO refused or did not answer", body = crate::error::ErrorBody),
    ))]
pub async fn put_charging_profile(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, session_id)): Path<(i64, String)>,
    ApiJson(body): ApiJson<cp::SetRequest>,
) -> Result<Json<cp::ProfileRequestView>, ApiError> {
    caller.require(ApiRole::Operator)?;
    Ok(Json(
        cp::set(ocpi(&state)?, id, &session_id, body)
            .await
            .map_err(refused)?,
    ))
}

/// Ask CPO partner `id` for the ActiveChargingProfile of a session (`{"duration": seconds}`);
/// the profile arrives later in the request's `activeProfile`.
#[utoipa::path(post,
    path = "/api/v1/ocpi/partners/{id}/sessions/{session_id}/charging-profile/active",
    tag = "ocpi",
    params(("id" = i64, Path, description = "The CPO partner's id"),
        ("session_id" = String, Path, description = "A session that CPO pushed to us")),
    request_body = ActiveRequestDoc,
    responses(
        (status = 200, body = ProfileRequestDoc),
        (status = 404, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
    ))]
pub async fn get_active_charging_profile(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, session_id)): Path<(i64, String)>,
    ApiJson(body): ApiJson<cp::ActiveRequest>,
) -> Result<Json<cp::ProfileRequestView>, ApiError> {
    caller.require(ApiRole::Operator)?;
    Ok(Json(
        cp::active(ocpi(&state)?, id, &session_id, body)
            .await
            .map_err(refused)?,
    ))
}

/// Clear the charging profile we set on a session of CPO partner `id`.
#[utoipa::path(delete, path = "/api/v1/ocpi/partners/{id}/sessions/{session_id}/charging-profile",
    tag = "ocpi",
    params(("id" = i64, Path, description = "The CPO partner's id"),
        ("session_id" = String, Path, description = "A session that CPO pushed to us")),
    responses(
        (status = 200, body = ProfileRequestDoc),
        (status = 404, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
    ))]
pub async fn clear_charging_profile(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, session_id)): Path<(i64, String)>,
) -> Result<Json<cp::ProfileRequestView>, ApiError> {
    caller.require(ApiRole::Operator)?;
    Ok(Json(
        cp::clear(ocpi(&state)?, id, &session_id)
            .await
            .map_err(refused)?,
    ))
}

/// The charging-profile requests sent to CPO partner `id`, newest first, with the CPO's
/// response and, once it arrived, the result (and a GET's ActiveChargingProfile).
#[utoipa::path(get, path = "/api/v1/ocpi/partners/{id}/charging-profiles", tag = "ocpi",
    params(("id" = i64, Path, description = "The CPO partner's id")),
    responses((status = 200, body = Vec<ProfileRequestDoc>)))]
pub async fn list_charging_profiles(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<cp::ProfileRequestView>>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(cp::list(ocpi(&state)?, id).await.map_err(refused)?))
}

/// A price as the operator API writes money (decimal strings).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiCost)]
pub struct CostDoc {
    pub excl_vat: Option<String>,
    pub incl_vat: Option<String>,
}

/// An object a CPO partner pushed (OpenAPI description of `emsp::views::ReceivedView`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiReceived)]
pub struct ReceivedDoc {
    pub partner_id: i64,
    /// The CPO party that owns it, `CC*PID`.
    pub party: String,
    pub id: String,
    pub last_updated: chrono::DateTime<chrono::Utc>,
    pub received_at: chrono::DateTime<chrono::Utc>,
    /// Sessions: `ACTIVE`, `COMPLETED`, …
    pub status: Option<String>,
    /// Sessions: kWh so far; CDRs: total energy (decimal string).
    pub kwh: Option<String>,
    pub currency: Option<String>,
    pub total_cost: Option<CostDoc>,
    pub session_id: Option<String>,
    /// The OCPI object as the partner sent it (OCPI spelling).
    pub object: serde_json::Value,
}

/// A command for a CPO partner (OpenAPI description of `emsp::commands::CommandRequest`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiCommandRequest)]
pub struct CommandRequestDoc {
    pub location_id: Option<String>,
    pub evse_uid: Option<String>,
    pub connector_id: Option<String>,
    /// One of our own tokens (START_SESSION, RESERVE_NOW).
    pub token_uid: Option<String>,
    pub token_type: Option<String>,
    pub session_id: Option<String>,
    pub reservation_id: Option<String>,
    pub expiry_date: Option<chrono::DateTime<chrono::Utc>>,
    pub authorization_reference: Option<String>,
}

/// A command sent to a CPO partner (OpenAPI description of `emsp::commands::CommandView`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiCommand)]
pub struct CommandDoc {
    pub id: String,
    pub partner_id: i64,
    pub command: String,
    /// The CPO's CommandResponse result.
    pub response: Option<String>,
    /// The CommandResult, once the CPO sent it.
    pub result: Option<String>,
    pub message: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub result_at: Option<chrono::DateTime<chrono::Utc>>,
}
