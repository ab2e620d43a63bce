//! Block F and C operations without CSMS-side state: unlock a connector (F05) and clear the
//! station's Authorization Cache (C11). Also the checks the money-path operations share before
//! they keep anything: the request must pass the schema and the station must be connected, so
//! that nothing is stored (a version bumped, an id allocated) for a request that cannot go out.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use unicharge_core::StationId;
use unicharge_ocpp::{Direction, SchemaViolation, Validator};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::commands::operate;
use crate::error::ApiJson;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/stations/{id}/unlock", post(unlock_connector))
        .route("/api/v1/stations/{id}/clear-cache", post(clear_cache))
}

/// Refuse with 400 a request that breaks the OCPP 2.0.1 schema, exactly as the generic command
/// endpoint would — but before anything is stored for it.
pub(crate) fn check_request(action: &str, payload: &Value) -> Result<(), ApiError> {
    match Validator::global().validate(action, Direction::Request, payload) {
        Ok(()) => Ok(()),
        Err(violation) => {
            let (path, message) = match &violation {
                SchemaViolation::Invalid { path, message, .. } => (path.clone(), message.clone()),
                other => (String::new(), other.to_string()),
            };
            Err(ApiError::bad_request(
                "invalid_request",
                format!("the {action}Request breaks the OCPP 2.0.1 schema at '{path}': {message}"),
            )
            .with_detail(json!({ "path": path, "code": violation.code().as_str() })))
        }
    }
}

/// Refuse with 409 when the station is not connected (the same answer a failed call gets), so
/// that no version or id is allocated for a request that cannot be sent. A station that drops
/// between this check and the call still gets its 409 from the call itself.
pub(crate) fn require_connected(state: &ApiState, station: &StationId) -> Result<(), ApiError> {
    if state.csms.is_connected(station) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            "station_not_connected",
            format!("station {station} is not connected; retry when it is"),
        ))
    }
}

/// The `status` of a station's answer (`""` if it has none, which the schema check rules out).
pub(crate) fn answer_status(answer: &Value) -> String {
    answer["status"].as_str().unwrap_or_default().to_string()
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
) -> Result<Json<Value>, ApiError> {
    let payload = json!({"evseId": body.evse_id, "connectorId": body.connector_id});
    operate(&state, &caller, &id, "UnlockConnector", payload).await
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
) -> Result<Json<Value>, ApiError> {
    operate(&state, &caller, &id, "ClearCache", json!({})).await
}
