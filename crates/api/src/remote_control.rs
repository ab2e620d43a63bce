//! Block F and C operations without CSMS-side state: unlock a connector (F05) and clear the
//! station's Authorization Cache (C11). The use cases live in `unicharge_csms::remote_control`
//! and `unicharge_csms::authorization`; this is their HTTP mapping.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use unicharge_csms::{authorization, remote_control as f};
use unicharge_ocpp::v201::{ClearCacheResponse, UnlockConnectorResponse};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiJson;
use crate::stations::station_id;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/stations/{id}/unlock", post(unlock_connector))
        .route("/api/v1/stations/{id}/clear-cache", post(clear_cache))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UnlockBody {
    pub evse_id: i64,
    pub connector_id: i64,
}

/// A station's answer that carries a status (OCPP spelling), e.g. `Unlocked`, `Accepted`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusAnswer {
    pub status: String,
    /// The station's `statusInfo`, when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_info: Option<Value>,
}

/// Unlock a connector (F05), e.g. to free a cable stuck after a session. The station answers
/// `Unlocked`, `UnlockFailed`, `OngoingAuthorizedTransaction` or `UnknownConnector`.
#[utoipa::path(post, path = "/api/v1/stations/{id}/unlock", tag = "remote control",
    params(("id" = String, Path, description = "Station id")), request_body = UnlockBody,
    responses(
        (status = 200, description = "UnlockConnectorResponse", body = StatusAnswer),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn unlock_connector(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UnlockBody>,
) -> Result<Json<UnlockConnectorResponse>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    Ok(Json(
        f::unlock_connector(&state.csms, &station, body.evse_id, body.connector_id, &by).await?,
    ))
}

/// Clear the station's Authorization Cache (C11). Any body is ignored.
#[utoipa::path(post, path = "/api/v1/stations/{id}/clear-cache", tag = "remote control",
    params(("id" = String, Path, description = "Station id")),
    responses(
        (status = 200, description = "ClearCacheResponse (`Accepted` / `Rejected`)", body = StatusAnswer),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn clear_cache(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ClearCacheResponse>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    Ok(Json(
        authorization::clear_cache::clear_cache(&state.csms, &station, &by).await?,
    ))
}
