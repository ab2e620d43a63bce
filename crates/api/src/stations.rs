//! The station registry and what stations reported.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicharge_core::api_keys::ApiRole;
use unicharge_core::credentials::{check_password_policy, GeneratedPassword, NewPassword};
use unicharge_core::{RegistrationStatus, SecurityProfile, Station, StationId};
use unicharge_store::StoreError;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::ApiJson;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/stations", get(list_stations).post(create_station))
        .route(
            "/api/v1/stations/{id}",
            get(get_station)
                .patch(update_station)
                .delete(delete_station),
        )
        .route("/api/v1/stations/{id}/connectors", get(connectors))
        .route("/api/v1/stations/{id}/events", get(events))
        .route(
            "/api/v1/stations/{id}/security-events",
            get(security_events),
        )
        .route("/api/v1/stations/{id}/commands", get(command_log))
}

/// A station as operators see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StationView {
    pub id: String,
    /// Lowest security profile its connections must use (1, 2 or 3).
    pub security_profile: u8,
    /// `Accepted`, `Pending` or `Rejected`: what its next boot is answered.
    pub registration: String,
    /// Whether a password is set (the password itself is never shown).
    pub has_password: bool,
    /// Connected right now (live).
    pub connected: bool,
    pub model: Option<String>,
    pub vendor_name: Option<String>,
    pub serial_number: Option<String>,
    pub firmware_version: Option<String>,
    pub last_boot_at: Option<DateTime<Utc>>,
    pub last_boot_reason: Option<String>,
    pub last_boot_status: Option<String>,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// OCPP version of its newest connection: `"1.6"` or `"2.0.1"` (null before it connected).
    pub ocpp_version: Option<String>,
    /// The version it gets when it offers both (null: 2.0.1).
    pub preferred_ocpp_version: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl StationView {
    fn new(state: &ApiState, s: Station) -> Self {
        StationView {
            connected: state.csms.is_connected(&s.id),
            id: s.id.to_string(),
            security_profile: s.security_profile.number(),
            registration: s.registration.as_str().into(),
            has_password: s.password_hash.is_some(),
            model: s.model,
            vendor_name: s.vendor_name,
            serial_number: s.serial_number,
            firmware_version: s.firmware_version,
            last_boot_at: s.last_boot_at,
            last_boot_reason: s.last_boot_reason,
            last_boot_status: s.last_boot_status.map(|r| r.as_str().into()),
            last_seen_at: s.last_seen_at,
            ocpp_version: s.ocpp_version,
            preferred_ocpp_version: s.preferred_ocpp_version,
            created_at: s.created_at,
        }
    }
}

/// Register a station.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateStation {
    /// 1–48 characters of `a-z A-Z 0-9 * - _ = : + | @ .`
    pub id: String,
    /// 1 (ws + Basic, the default), 2 (wss + Basic) or 3 (wss + client certificate).
    pub security_profile: Option<u8>,
    /// Basic password (16–40 characters); or set `generatePassword`.
    pub password: Option<String>,
    /// Generate a strong password and return it once.
    #[serde(default)]
    pub generate_password: bool,
    /// `Accepted` (default), `Pending` or `Rejected`.
    pub registration: Option<String>,
}

/// A registered station, with its generated password if one was asked for (shown only now).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedStation {
    pub station: StationView,
    pub password: Option<String>,
}

/// Change a station's settings; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateStation {
    pub security_profile: Option<u8>,
    pub registration: Option<String>,
    /// A new Basic password. Only its salted hash is stored; the station must use it from its
    /// next connection on. (To change the password on the station too, use the password
    /// rotation operation.)
    pub password: Option<String>,
    /// `"1.6"` or `"2.0.1"`: the version the station gets when it offers both; `""` resets to
    /// the default (2.0.1). Takes effect at its next connection.
    pub preferred_ocpp_version: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorView {
    pub evse_id: i64,
    pub connector_id: i64,
    pub status: String,
    pub status_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    pub generated_at: DateTime<Utc>,
    pub event_id: i64,
    pub timestamp: DateTime<Utc>,
    pub trigger: String,
    pub component: String,
    pub evse_id: Option<i64>,
    pub connector_id: Option<i64>,
    pub variable: String,
    pub actual_value: String,
    pub event_notification_type: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityEventView {
    #[serde(rename = "type")]
    pub kind: String,
    pub timestamp: DateTime<Utc>,
    pub tech_info: Option<String>,
    pub received_at: DateTime<Utc>,
}

/// One CSMS→station request and its outcome.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommandView {
    pub seq: i64,
    pub action: String,
    pub request: serde_json::Value,
    /// `result`, `call_error`, `timeout`, `not_connected`, `invalid_response`, `closed`.
    pub outcome: String,
    pub response: Option<serde_json::Value>,
    pub requested_by: Option<String>,
    pub sent_at: DateTime<Utc>,
    pub completed_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct Limit {
    /// How many, newest first (default 100, at most 1000).
    pub limit: Option<u32>,
}

impl Limit {
    pub(crate) fn get(&self) -> u32 {
        self.limit.unwrap_or(100).min(1000)
    }
}

fn parse_id(id: &str) -> Result<StationId, ApiError> {
    StationId::new(id).map_err(|e| ApiError::bad_request("invalid_station_id", e.to_string()))
}

fn parse_profile(n: u8) -> Result<SecurityProfile, ApiError> {
    SecurityProfile::try_from(n)
        .map_err(|e| ApiError::bad_request("invalid_security_profile", e.to_string()))
}

fn parse_registration(s: &str) -> Result<RegistrationStatus, ApiError> {
    RegistrationStatus::parse(s).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_registration",
            format!("registration {s:?}: use Accepted, Pending or Rejected"),
        )
    })
}

/// The stored form of a new password: an operator's choice is checked against the policy and
/// hashed with Argon2, a generated one with salted SHA-256 (ADR 9).
fn hash(password: &NewPassword) -> Result<String, ApiError> {
    check_password_policy(password.as_str())
        .map_err(|e| ApiError::bad_request("invalid_password", e))?;
    password.hash().map_err(ApiError::internal)
}

/// A station id from the path; 404 when it cannot be one (no station can have it).
pub fn station_id(id: &str) -> Result<StationId, ApiError> {
    StationId::new(id)
        .map_err(|_| ApiError::not_found("unknown_station", format!("no station {id:?}")))
}

/// The id of a registered station, or 404.
pub async fn existing_station(state: &ApiState, id: &str) -> Result<StationId, ApiError> {
    let id = station_id(id)?;
    match state.store.get_station(&id).await? {
        Some(_) => Ok(id),
        None => Err(ApiError::not_found(
            "unknown_station",
            format!("station {id} is not registered"),
        )),
    }
}

/// List registered stations.
#[utoipa::path(get, path = "/api/v1/stations", tag = "stations",
    responses((status = 200, body = [StationView])))]
pub async fn list_stations(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<StationView>>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let stations = state.store.list_stations().await?;
    Ok(Json(
        stations
            .into_iter()
            .map(|s| StationView::new(&state, s))
            .collect(),
    ))
}

/// Register a station.
#[utoipa::path(post, path = "/api/v1/stations", tag = "stations", request_body = CreateStation,
    responses((status = 201, body = CreatedStation), (status = 400, body = crate::error::ErrorBody),
              (status = 409, description = "Already registered", body = crate::error::ErrorBody)))]
pub async fn create_station(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateStation>,
) -> Result<(StatusCode, Json<CreatedStation>), ApiError> {
    caller.require(ApiRole::Operator)?;
    let id = parse_id(&body.id)?;
    let profile = parse_profile(body.security_profile.unwrap_or(1))?;
    let mut station = Station::new(id, profile, Utc::now());
    if let Some(r) = &body.registration {
        station.registration = parse_registration(r)?;
    }
    let password = match (&body.password, body.generate_password) {
        (Some(p), _) => Some(NewPassword::Chosen(p.clone())),
        (None, true) => Some(NewPassword::Generated(GeneratedPassword::new())),
        (None, false) => None,
    };
    let generated = match &password {
        Some(NewPassword::Generated(p)) => Some(p.as_str().to_string()),
        _ => None,
    };
    match &password {
        Some(p) => station.password_hash = Some(hash(p)?),
        None if profile != SecurityProfile::TlsClientCert => {
            return Err(ApiError::bad_request(
                "password_required",
                format!("security profile {profile} uses HTTP Basic: give `password` or set `generatePassword`"),
            ))
        }
        None => {}
    }
    match state.store.create_station(&station).await {
        Ok(()) => {}
        Err(StoreError::StationExists(id)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "station_exists",
                format!("station {id} is already registered"),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(station = %station.id, by = %caller.key_id, "station registered through the API");
    Ok((
        StatusCode::CREATED,
        Json(CreatedStation {
            station: StationView::new(&state, station),
            password: generated,
        }),
    ))
}

/// Show one station.
#[utoipa::path(get, path = "/api/v1/stations/{id}", tag = "stations",
    params(("id" = String, Path)),
    responses((status = 200, body = StationView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_station(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<StationView>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let id = existing_station(&state, &id).await?;
    let station = state
        .store
        .get_station(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("unknown_station", "gone"))?;
    Ok(Json(StationView::new(&state, station)))
}

/// Change a station's profile, registration or password.
#[utoipa::path(patch, path = "/api/v1/stations/{id}", tag = "stations", request_body = UpdateStation,
    params(("id" = String, Path)),
    responses((status = 200, body = StationView), (status = 400, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn update_station(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateStation>,
) -> Result<Json<StationView>, ApiError> {
    caller.require(ApiRole::Operator)?;
    let id = existing_station(&state, &id).await?;
    // Check every field before changing anything: a refused PATCH changes nothing.
    let profile = body.security_profile.map(parse_profile).transpose()?;
    let registration = body
        .registration
        .as_deref()
        .map(parse_registration)
        .transpose()?;
    let password_hash = body
        .password
        .clone()
        .map(NewPassword::Chosen)
        .as_ref()
        .map(hash)
        .transpose()?;
    let preferred = match body.preferred_ocpp_version.as_deref() {
        None => None,
        Some("") => Some(None),
        Some(v @ ("1.6" | "2.0.1")) => Some(Some(v)),
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_ocpp_version",
                format!("preferredOcppVersion {other:?}: use \"1.6\", \"2.0.1\" or \"\" (default)"),
            ))
        }
    };
    if let Some(p) = profile.filter(|p| *p != SecurityProfile::TlsClientCert) {
        let current = state.store.get_station(&id).await?;
        if password_hash.is_none() && current.is_some_and(|s| s.password_hash.is_none()) {
            return Err(ApiError::bad_request(
                "password_required",
                format!("security profile {p} uses HTTP Basic and station {id} has no password: add `password`"),
            ));
        }
    }
    if let Some(p) = profile {
        state.store.set_security_profile(&id, p).await?;
    }
    if let Some(r) = registration {
        state.store.set_registration(&id, r).await?;
    }
    if let Some(h) = &password_hash {
        state.store.set_password_hash(&id, Some(h)).await?;
    }
    if let Some(v) = preferred {
        state.store.set_preferred_ocpp_version(&id, v).await?;
    }
    get_station(State(state), caller, Path(id.to_string())).await
}

/// Remove a station and everything it reported; an open connection is closed.
#[utoipa::path(delete, path = "/api/v1/stations/{id}", tag = "stations",
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_station(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(ApiRole::Operator)?;
    let id = existing_station(&state, &id).await?;
    state.csms.disconnect(&id, "station removed").await;
    state.store.delete_station(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Latest status of each connector (from StatusNotification).
#[utoipa::path(get, path = "/api/v1/stations/{id}/connectors", tag = "stations",
    params(("id" = String, Path)),
    responses((status = 200, body = [ConnectorView]), (status = 404, body = crate::error::ErrorBody)))]
pub async fn connectors(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<ConnectorView>>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let id = existing_station(&state, &id).await?;
    let rows = state.store.connectors(&id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|c| ConnectorView {
                evse_id: c.evse_id,
                connector_id: c.connector_id,
                status: c.status,
                status_at: c.status_at,
            })
            .collect(),
    ))
}

/// Events the station reported (NotifyEvent), newest first.
#[utoipa::path(get, path = "/api/v1/stations/{id}/events", tag = "stations",
    params(("id" = String, Path), Limit),
    responses((status = 200, body = [EventView]), (status = 404, body = crate::error::ErrorBody)))]
pub async fn events(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(limit): Query<Limit>,
) -> Result<Json<Vec<EventView>>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let id = existing_station(&state, &id).await?;
    let rows = state.store.events(&id, limit.get()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|e| EventView {
                generated_at: e.generated_at,
                event_id: e.event_id,
                timestamp: e.timestamp,
                trigger: e.trigger,
                component: e.component,
                evse_id: e.evse_id,
                connector_id: e.connector_id,
                variable: e.variable,
                actual_value: e.actual_value,
                event_notification_type: e.event_notification_type,
            })
            .collect(),
    ))
}

/// Security events the station reported, newest first.
#[utoipa::path(get, path = "/api/v1/stations/{id}/security-events", tag = "stations",
    params(("id" = String, Path), Limit),
    responses((status = 200, body = [SecurityEventView]), (status = 404, body = crate::error::ErrorBody)))]
pub async fn security_events(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(limit): Query<Limit>,
) -> Result<Json<Vec<SecurityEventView>>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let id = existing_station(&state, &id).await?;
    let rows = state.store.security_events(&id, limit.get()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|e| SecurityEventView {
                kind: e.kind,
                timestamp: e.timestamp,
                tech_info: e.tech_info,
                received_at: e.received_at,
            })
            .collect(),
    ))
}

/// Requests the CSMS sent the station and their outcomes, newest first.
#[utoipa::path(get, path = "/api/v1/stations/{id}/commands", tag = "stations",
    params(("id" = String, Path), Limit),
    responses((status = 200, body = [CommandView]), (status = 404, body = crate::error::ErrorBody)))]
pub async fn command_log(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(limit): Query<Limit>,
) -> Result<Json<Vec<CommandView>>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let id = existing_station(&state, &id).await?;
    let rows = state.store.commands(&id, limit.get()).await?;
    let parse = |s: &str| serde_json::from_str(s).unwrap_or(serde_json::Value::String(s.into()));
    Ok(Json(
        rows.into_iter()
            .map(|c| CommandView {
                seq: c.seq,
                action: c.action,
                request: parse(&c.request),
                outcome: c.outcome,
                response: c.response.as_deref().map(parse),
                requested_by: c.requested_by,
                sent_at: c.sent_at,
                completed_at: c.completed_at,
            })
            .collect(),
    ))
}
