//! Block G and F operations: change availability (G03, G04) and trigger messages (F06).

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use unicharge_csms::{availability as g, remote_control as f};
use unicharge_ocpp::v201::{
    ChangeAvailabilityRequest, ChangeAvailabilityResponse, EvseType, TriggerMessageRequest,
    TriggerMessageResponse,
};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ocpp_enum, ApiJson};
use crate::stations::station_id;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v1/stations/{id}/availability",
            post(change_availability),
        )
        .route("/api/v1/stations/{id}/trigger", post(trigger_message))
}

fn evse(evse_id: Option<i64>, connector_id: Option<i64>) -> Result<Option<EvseType>, ApiError> {
    let evse = |id, connector_id| EvseType {
        custom_data: None,
        id,
        connector_id,
    };
    match (evse_id, connector_id) {
        (None, None) => Ok(None),
        (Some(id), c) => Ok(Some(evse(id, c))),
        (None, Some(_)) => Err(ApiError::bad_request(
            "connector_without_evse",
            "a connectorId needs the evseId it belongs to",
        )),
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AvailabilityBody {
    /// `Operative` or `Inoperative`.
    pub operational_status: String,
    /// Absent: the whole station.
    pub evse_id: Option<i64>,
    /// Absent: the whole EVSE.
    pub connector_id: Option<i64>,
}

/// Make the station, an EVSE or a connector (in)operative (G03, G04). `Scheduled` means it
/// happens when the running transaction ends.
#[utoipa::path(post, path = "/api/v1/stations/{id}/availability", tag = "availability",
    params(("id" = String, Path)), request_body = AvailabilityBody,
    responses((status = 200, description = "ChangeAvailabilityResponse", body = Object)))]
pub async fn change_availability(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AvailabilityBody>,
) -> Result<Json<ChangeAvailabilityResponse>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    let request = ChangeAvailabilityRequest {
        custom_data: None,
        evse: evse(body.evse_id, body.connector_id)?,
        operational_status: ocpp_enum("operationalStatus", &body.operational_status)?,
    };
    Ok(Json(
        g::change_availability(&state.csms, &station, request, &by).await?,
    ))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TriggerBody {
    /// As OCPP spells it: `BootNotification`, `Heartbeat`, `StatusNotification`,
    /// `MeterValues`, `TransactionEvent`, `LogStatusNotification`, `FirmwareStatusNotification`,
    /// `SignChargingStationCertificate`, `SignV2GCertificate`, `SignCombinedCertificate`,
    /// `PublishFirmwareStatusNotification`.
    pub requested_message: String,
    pub evse_id: Option<i64>,
    pub connector_id: Option<i64>,
}

/// Ask the station to send a message now (F06).
#[utoipa::path(post, path = "/api/v1/stations/{id}/trigger", tag = "remote control",
    params(("id" = String, Path)), request_body = TriggerBody,
    responses((status = 200, description = "TriggerMessageResponse", body = Object)))]
pub async fn trigger_message(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TriggerBody>,
) -> Result<Json<TriggerMessageResponse>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    let request = TriggerMessageRequest {
        custom_data: None,
        evse: evse(body.evse_id, body.connector_id)?,
        requested_message: ocpp_enum("requestedMessage", &body.requested_message)?,
    };
    Ok(Json(
        f::trigger_message(&state.csms, &station, request, &by).await?,
    ))
}
