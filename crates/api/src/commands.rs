//! CSMS→station OCPP requests on an operator's behalf, for actions without CSMS state.
//!
//! `POST /api/v1/stations/{id}/ocpp/{Action}` sends a CSMS-initiated OCPP 2.0.1 request through
//! the CSMS's one send path (`Csms::request_untyped`): the body is validated against the
//! official schema (nothing invalid is sent), the station's answer is returned, and request and
//! outcome are kept in the station's command log (secrets redacted).
//!
//! Actions whose use case keeps state at the CSMS — a local list version, a remoteStartId, a
//! reservation, a report request id, the password the CSMS expects, a security profile, a
//! certificate it issued — are refused here with a 400 that names their typed endpoint: sent
//! raw, they would leave the CSMS believing something the station does not.
//!
//! | outcome | status |
//! |---|---|
//! | the station's CALLRESULT | 200, its payload |
//! | the station answered CALLERROR | 502, `call_error` with code and description |
//! | the station's answer breaks the schema | 502, `invalid_response` |
//! | body breaks the schema | 400, `invalid_request`, with the JSON pointer |
//! | an action with a typed endpoint | 400, `use_typed_endpoint`, naming it |
//! | unknown station / action | 404 |
//! | station not connected | 409 |
//! | no answer in time | 504 |

use std::str::FromStr;

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;
use unicharge_csms::request::is_secret_variable;
use unicharge_ocpp::v201::{Action, SetVariablesRequest};

use crate::auth::Caller;
use crate::error::ApiJson;
use crate::stations::existing_station;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new().route("/api/v1/stations/{id}/ocpp/{action}", post(ocpp_command))
}

/// Send a CSMS-initiated OCPP request without CSMS state to a station and return its answer.
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
        (status = 400, description = "The body breaks the schema (detail names the path), the action is not one a CSMS sends, or it has a typed endpoint (`use_typed_endpoint`)", body = crate::error::ErrorBody),
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
    let by = caller.operator()?;
    let action = Action::from_str(&action).map_err(|_| {
        ApiError::not_found(
            "unknown_action",
            format!("{action} is not an OCPP 2.0.1 action"),
        )
    })?;
    let station = existing_station(&state, &id).await?;
    if let Some(endpoint) = typed_endpoint(action, &payload) {
        return Err(ApiError::bad_request(
            "use_typed_endpoint",
            format!(
                "{} keeps state at the CSMS; use {endpoint}",
                action.as_str()
            ),
        ));
    }
    Ok(Json(
        state
            .csms
            .request_untyped(&station, action, payload, &by)
            .await?,
    ))
}

/// The typed endpoint of an action whose use case keeps CSMS state, if it is one.
fn typed_endpoint(action: Action, payload: &Value) -> Option<&'static str> {
    Some(match action {
        Action::SetVariables => {
            let request: SetVariablesRequest = serde_json::from_value(payload.clone()).ok()?;
            if !request
                .set_variable_data
                .iter()
                .any(|i| is_secret_variable(&i.component.name, &i.variable.name))
            {
                return None;
            }
            "POST /api/v1/stations/{id}/password/rotate (A01: the CSMS must learn the new password)"
        }
        Action::SendLocalList => {
            "POST /api/v1/stations/{id}/local-list or …/local-list/differential (D01: versions)"
        }
        Action::RequestStartTransaction => {
            "POST /api/v1/stations/{id}/transactions/start (F01: the CSMS allocates the remoteStartId)"
        }
        Action::ReserveNow => {
            "POST /api/v1/stations/{id}/reservations (H01: the CSMS allocates the reservation id)"
        }
        Action::CancelReservation => "POST /api/v1/stations/{id}/reservations/{reservationId}/cancel",
        Action::SetNetworkProfile => {
            "POST /api/v1/stations/{id}/network-profile, or …/security-profile to raise the profile (A05)"
        }
        Action::CertificateSigned => {
            "POST /api/v1/stations/{id}/certificate/renew (A02: the CSMS signs and delivers the certificate)"
        }
        Action::GetBaseReport | Action::GetReport => {
            "POST /api/v1/stations/{id}/reports (B07/B08: the CSMS allocates the requestId and assembles the parts)"
        }
        Action::CostUpdated => "none: the CSMS sends CostUpdated itself (I02)",
        Action::InstallCertificate => {
            "POST /api/v1/stations/{id}/certificates/install (M05: the CSMS records what the station holds)"
        }
        Action::GetInstalledCertificateIds => {
            "POST /api/v1/stations/{id}/certificates/installed (M03: the CSMS keeps what the station reports)"
        }
        Action::DeleteCertificate => {
            "POST /api/v1/stations/{id}/certificates/delete (M04: the CSMS looks the hash data up and records the deletion)"
        }
        Action::SetDisplayMessage => {
            "POST /api/v1/stations/{id}/display-messages (O01: the CSMS allocates the id and keeps the answer)"
        }
        Action::GetDisplayMessages => {
            "POST /api/v1/stations/{id}/display-messages/reports (O03: the CSMS allocates the requestId and assembles the parts)"
        }
        Action::ClearDisplayMessage => {
            "POST /api/v1/stations/{id}/display-messages/{messageId}/clear (O05: the CSMS records the removal)"
        }
        _ => return None,
    })
}
