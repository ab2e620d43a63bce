//! OCPI initial exchange and credentials rotation, the operator's side: pull a CPO partner's
//! Sender lists now (`POST …/sync`, `{"full": true}` for everything, else what changed since
//! the last pull) and see the last pull per module; rotate a partner's credentials now (B8.1)
//! and see the token's age. Tokens are never shown.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use unicharge_core::api_keys::ApiRole;
use unicharge_ocpi_server::emsp::sync::{self, Mode, SyncView};
use unicharge_ocpi_server::operator::PartnerView;
use unicharge_ocpi_server::rotation::{self, RotationView};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::ocpi::{ocpi, refused};
use crate::{ApiError, ApiState};

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v1/ocpi/partners/{id}/sync",
            post(start_sync).get(sync_status),
        )
        .route(
            "/api/v1/ocpi/partners/{id}/rotate-credentials",
            post(rotate_now),
        )
        .route(
            "/api/v1/ocpi/partners/{id}/credentials-rotation",
            get(rotation_status),
        )
}

/// The last complete pull of one module (OpenAPI description of `sync::ModuleView`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiPulledModule)]
pub struct ModuleDoc {
    /// locations, tariffs, sessions or cdrs.
    pub module: String,
    /// `date_from` the next incremental pull asks for.
    pub date_from: chrono::DateTime<chrono::Utc>,
    pub synced_at: chrono::DateTime<chrono::Utc>,
    /// Objects the pull read.
    pub objects: i64,
    /// Of those, new or changed.
    pub stored: i64,
}

/// A CPO partner's pulls (OpenAPI description of `sync::SyncView`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiSync)]
pub struct SyncDoc {
    pub partner_id: i64,
    /// A pull is under way.
    pub running: bool,
    pub modules: Vec<ModuleDoc>,
}

/// A partner's credentials rotation (OpenAPI description of `rotation::RotationView`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiCredentialsRotation)]
pub struct RotationDoc {
    pub partner_id: i64,
    /// We registered with the partner, so we rotate (else the partner does).
    pub initiated_by_us: bool,
    /// When the partner's current token for us was issued.
    pub issued_at: chrono::DateTime<chrono::Utc>,
    /// A rotation the partner has not acknowledged yet.
    pub pending_since: Option<chrono::DateTime<chrono::Utc>>,
    pub last_error: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = OcpiSyncRequest)]
pub struct SyncBody {
    /// Pull everything, not only what changed since the last pull.
    #[serde(default)]
    pub full: bool,
}

/// Start a pull of the CPO partner's Locations, Tariffs, Sessions and CDRs (202; it runs in the
/// background: `GET` the same path to follow it). Without a body: what changed since the last
/// pull; `{"full": true}`: everything. Pulled objects are stored like pushed ones, never twice.
#[utoipa::path(post, path = "/api/v1/ocpi/partners/{id}/sync", tag = "ocpi",
    params(("id" = i64, Path, description = "The CPO partner's id")),
    request_body(content = Option<SyncBody>, description = "Optional"),
    responses(
        (status = 202, body = SyncDoc),
        (status = 400, description = "Not a registered CPO of one of our eMSP parties", body = crate::error::ErrorBody),
        (status = 404, description = "No such partner", body = crate::error::ErrorBody),
    ))]
pub async fn start_sync(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<SyncView>), ApiError> {
    caller.require(ApiRole::Operator)?;
    // The body is optional: none is an incremental pull.
    let body: SyncBody = if body.iter().all(u8::is_ascii_whitespace) {
        SyncBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(
                "invalid",
                format!("body: {e} (expected {{\"full\": true}})"),
            )
        })?
    };
    let mode = match body.full {
        true => Mode::Full,
        false => Mode::Incremental,
    };
    let view = sync::request(ocpi(&state)?, id, mode)
        .await
        .map_err(refused)?;
    Ok((StatusCode::ACCEPTED, Json(view)))
}

/// The partner's pulls: whether one runs, and the last complete pull of each module.
#[utoipa::path(get, path = "/api/v1/ocpi/partners/{id}/sync", tag = "ocpi",
    params(("id" = i64, Path, description = "The CPO partner's id")),
    responses(
        (status = 200, body = SyncDoc),
        (status = 404, description = "No such partner", body = crate::error::ErrorBody),
    ))]
pub async fn sync_status(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<SyncView>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(
        sync::status(ocpi(&state)?, id).await.map_err(refused)?,
    ))
}

/// Rotate the partner's credentials now (B8.1): a new token for it, sent in a credentials PUT;
/// its answer carries its new token for us. 502 when the partner refused (the current tokens
/// stay).
#[utoipa::path(post, path = "/api/v1/ocpi/partners/{id}/rotate-credentials", tag = "ocpi",
    params(("id" = i64, Path, description = "The partner's id")),
    responses(
        (status = 200, description = "Rotated: the partner as after the exchange"),
        (status = 400, description = "Not registered, or it registered with us (it rotates)", body = crate::error::ErrorBody),
        (status = 404, description = "No such partner", body = crate::error::ErrorBody),
        (status = 502, description = "The partner refused or did not answer", body = crate::error::ErrorBody),
    ))]
pub async fn rotate_now(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<PartnerView>, ApiError> {
    caller.require(ApiRole::Admin)?;
    let partner = rotation::rotate(ocpi(&state)?, id).await.map_err(refused)?;
    Ok(Json(PartnerView::from(&partner)))
}

/// The partner's token age, a rotation not acknowledged yet, and the last error.
#[utoipa::path(get, path = "/api/v1/ocpi/partners/{id}/credentials-rotation", tag = "ocpi",
    params(("id" = i64, Path, description = "The partner's id")),
    responses(
        (status = 200, body = RotationDoc),
        (status = 404, description = "No such partner", body = crate::error::ErrorBody),
    ))]
pub async fn rotation_status(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<RotationView>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(
        rotation::view(ocpi(&state)?, id).await.map_err(refused)?,
    ))
}
