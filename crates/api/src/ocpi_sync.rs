//! OCPI initial exchange and credentials rotation, the operator's side: pull a CPO partner's
//! Sender lists now (`POST …/sync`, `{"full": true}` for everything, else what changed since
//! the last pull) and see the last pull per module; rotate a partner's credentials now (B8.1)
//! and see the token's age. Tokens are never shown.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use unicharge_core::api_keys::ApiRole;
use unicharge_ocpi_server::emsp::sync::{self, Mode, SyncView};
use unicharge_ocpi_server::operator::PartnerView;
use unicharge_ocpi_server::rotation::{self, RotationView};

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

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncBody {
    /// Pull everything, not only what changed since the last pull.
    #[serde(default)]
    pub full: bool,
}

/// Start a pull of the partner's Locations, Tariffs, Sessions and CDRs (202; it runs in the
/// background: `GET` the same path to follow it).
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

/// Rotate the partner's credentials now: a new token for it, sent in a credentials PUT; its
/// answer carries its new token for us. 502 when the partner refused (the current tokens stay).
pub async fn rotate_now(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<PartnerView>, ApiError> {
    caller.require(ApiRole::Admin)?;
    let partner = rotation::rotate(ocpi(&state)?, id).await.map_err(refused)?;
    Ok(Json(PartnerView::from(&partner)))
}

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
