//! CSMS→station OCPP requests on an operator's behalf.
//!
//! `POST /api/v1/stations/{id}/ocpp/{Action}` sends any CSMS-initiated OCPP 2.0.1 request: the
//! body is validated against the official schema (nothing invalid is sent), the station's answer
//! is returned, and request and outcome are kept in the station's command log.
//!
//! | outcome | status |
//! |---|---|
//! | the station's CALLRESULT | 200, its payload |
//! | the station answered CALLERROR | 502, `call_error` with code and description |
//! | the station's answer breaks the schema | 502, `invalid_response` |
//! | body breaks the schema | 400, `invalid_request`, with the JSON pointer |
//! | unknown station / action | 404 |
//! | station not connected | 409 |
//! | no answer in time | 504 |

use std::str::FromStr;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{json, Value};
use unicharge_core::api_keys::ApiRole;
use unicharge_core::StationId;
use unicharge_csms::CallFailure;
use unicharge_ocpp::v201::{Action, Initiator};
use unicharge_ocpp::{Direction, SchemaViolation, Validator};
use unicharge_store::{CommandRecord, Write};

use crate::auth::Caller;
use crate::error::ApiJson;
use crate::stations::existing_station;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new().route("/api/v1/stations/{id}/ocpp/{action}", post(ocpp_command))
}

/// Send any CSMS-initiated OCPP request to a station and return its answer.
#[utoipa::path(
    post,
    path = "/api/v1/stations/{id}/ocpp/{action}",
    params(
        ("id" = String, Path, description = "Station id"),
        ("action" = String, Path, description = "OCPP 2.0.1 action sent by a CSMS, e.g. `GetVariables`, `Reset`"),
    ),
    request_body(content = Object, description = "The OCPP request payload, as the official schema defines it"),
    responses(
        (status = 200, description = "The station's CALLRESULT payload", body = Object),
        (status = 400, description = "The body breaks the schema (detail names the path), or the action is not one a CSMS sends", body = crate::error::ErrorBody),
        (status = 404, description = "Unknown station or action", body = crate::error::ErrorBody),
        (status = 409, description = "The station is not connected", body = crate::error::ErrorBody),
        (status = 502, description = "The station answered CALLERROR, or an answer that breaks the schema", body = crate::error::ErrorBody),
        (status = 504, description = "No answer within the call timeout", body = crate::error::ErrorBody),
    ),
    tag = "commands"
)]
pub async fn ocpp_command(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
    ApiJson(payload): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    operate(&state, &caller, &id, &action, payload).await
}

/// The shape of a simple operation: operator role, a registered station, one request whose
/// answer is returned as it is.
pub async fn operate(
    state: &ApiState,
    caller: &Caller,
    id: &str,
    action: &str,
    payload: Value,
) -> Result<Json<Value>, ApiError> {
    caller.require(ApiRole::Operator)?;
    let station = existing_station(state, id).await?;
    Ok(Json(
        run_command(state, &station, action, payload, Some(&caller.key_id)).await?,
    ))
}

/// Validate, send, log. The building block of every operator command.
pub async fn run_command(
    state: &ApiState,
    station: &StationId,
    action: &str,
    payload: Value,
    requested_by: Option<&str>,
) -> Result<Value, ApiError> {
    let logged = payload.clone();
    run_command_logged_as(state, station, action, payload, logged, requested_by).await
}

/// [`run_command`], keeping `logged` in the command log instead of the payload (for requests
/// that carry a secret, such as a new BasicAuthPassword).
pub async fn run_command_logged_as(
    state: &ApiState,
    station: &StationId,
    action: &str,
    payload: Value,
    logged: Value,
    requested_by: Option<&str>,
) -> Result<Value, ApiError> {
    let known = Action::from_str(action).map_err(|_| {
        ApiError::not_found(
            "unknown_action",
            format!("{action} is not an OCPP 2.0.1 action"),
        )
    })?;
    if known.initiator() == Initiator::ChargingStation {
        return Err(ApiError::bad_request(
            "not_a_csms_action",
            format!("{action} is sent by charging stations, not by a CSMS"),
        ));
    }
    if let Err(violation) = Validator::global().validate(action, Direction::Request, &payload) {
        let (path, message) = match &violation {
            SchemaViolation::Invalid { path, message, .. } => (path.clone(), message.clone()),
            other => (String::new(), other.to_string()),
        };
        return Err(ApiError::bad_request(
            "invalid_request",
            format!("the {action}Request breaks the OCPP 2.0.1 schema at '{path}': {message}"),
        )
        .with_detail(json!({ "path": path, "code": violation.code().as_str() })));
    }
    let sent_at = Utc::now();
    let outcome = state.csms.call(station, action, payload).await;
    let (label, response) = match &outcome {
        Ok(answer) => ("result", Some(answer.to_string())),
        Err(CallFailure::CallError {
            code,
            description,
            details,
        }) => (
            "call_error",
            Some(
                json!({"code": code.as_str(), "description": description, "details": details})
                    .to_string(),
            ),
        ),
        Err(CallFailure::Timeout(_)) => ("timeout", None),
        Err(CallFailure::NotConnected) => ("not_connected", None),
        Err(CallFailure::InvalidResponse(v)) => (
            "invalid_response",
            Some(json!({"violation": v}).to_string()),
        ),
        Err(CallFailure::ConnectionClosed) => ("closed", None),
        Err(CallFailure::InvalidRequest(_)) => ("invalid_request", None),
    };
    let record = CommandRecord {
        seq: 0,
        station_id: station.clone(),
        action: action.to_string(),
        request: logged.to_string(),
        outcome: label.to_string(),
        response,
        requested_by: requested_by.map(str::to_string),
        sent_at,
        completed_at: Utc::now(),
    };
    if let Err(e) = state.store.write(vec![Write::Command(record)]).await {
        tracing::error!(station = %station, action, error = %e, "command log write failed");
    }
    outcome.map_err(|failure| failure_to_error(station, action, failure))
}

fn failure_to_error(station: &StationId, action: &str, failure: CallFailure) -> ApiError {
    match failure {
        CallFailure::NotConnected | CallFailure::ConnectionClosed => ApiError::new(
            StatusCode::CONFLICT,
            "station_not_connected",
            format!("station {station} is not connected; retry when it is"),
        ),
        CallFailure::Timeout(after) => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "station_timeout",
            format!("station {station} did not answer {action} within {after:?}"),
        ),
        CallFailure::CallError {
            code,
            description,
            details,
        } => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "call_error",
            format!("station {station} answered {action} with CALLERROR {code}: {description}"),
        )
        .with_detail(
            json!({"code": code.as_str(), "description": description, "details": details}),
        ),
        CallFailure::InvalidResponse(v) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "invalid_response",
            format!(
                "station {station} answered {action} with a payload that breaks the schema: {v}"
            ),
        ),
        CallFailure::InvalidRequest(v) => ApiError::bad_request("invalid_request", v),
    }
}
