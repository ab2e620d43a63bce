//! Block L: firmware — the HTTP mapping of `unicharge_csms::firmware`.
//!
//! An update is sent under a requestId the CSMS allocates; its progress (the station's
//! FirmwareStatusNotifications) is read at `firmware/updates/{requestId}`. With a configured
//! firmware-signing certificate every update is a secure one (signingCertificate + signature).

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicharge_csms::firmware::{self as l, FirmwarePublication, FirmwareUpdate};
use unicharge_store::TrackedKind;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiJson;
use crate::remote_control::StatusAnswer;
use crate::stations::station_id;
use crate::tracked::{self, RequestSent, TrackedList, TrackedView};
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v1/stations/{id}/firmware/updates",
            get(list_updates).post(update_firmware),
        )
        .route(
            "/api/v1/stations/{id}/firmware/updates/{requestId}",
            get(get_update),
        )
        .route(
            "/api/v1/stations/{id}/firmware/publications",
            get(list_publications).post(publish_firmware),
        )
        .route(
            "/api/v1/stations/{id}/firmware/publications/{requestId}",
            get(get_publication),
        )
        .route(
            "/api/v1/stations/{id}/firmware/unpublish",
            post(unpublish_firmware),
        )
}

/// Install firmware (L01).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateFirmwareBody {
    /// URI the station downloads the firmware from (absent with `file`).
    pub location: Option<String>,
    /// A firmware file unicharge serves (its `sha256`, from POST /api/v1/firmware): the
    /// station gets a download URL of its own and the file's signature is sent.
    pub file: Option<String>,
    /// When to download; absent: now.
    pub retrieve_date_time: Option<DateTime<Utc>>,
    /// When to install; absent: once downloaded and verified.
    pub install_date_time: Option<DateTime<Utc>>,
    pub retries: Option<i64>,
    /// Seconds between download attempts.
    pub retry_interval: Option<i64>,
    /// Base64 signature of the firmware file (required when a firmware-signing certificate is
    /// configured).
    pub signature: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/stations/{id}/firmware/updates", tag = "firmware",
    params(("id" = String, Path, description = "Station id")), request_body = UpdateFirmwareBody,
    responses(
        (status = 200, description = "UpdateFirmwareResponse status and the requestId", body = RequestSent),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn update_firmware(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateFirmwareBody>,
) -> Result<Json<RequestSent>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    let sent = l::update_firmware(
        &state.csms,
        &station,
        FirmwareUpdate {
            location: body.location.unwrap_or_default(),
            file: body.file,
            retrieve_date_time: body.retrieve_date_time,
            install_date_time: body.install_date_time,
            retries: body.retries,
            retry_interval: body.retry_interval,
            signature: body.signature,
        },
        &by,
    )
    .await?;
    Ok(Json(RequestSent {
        request_id: sent.request_id,
        status: sent.status.as_str().to_string(),
    }))
}

#[utoipa::path(get, path = "/api/v1/stations/{id}/firmware/updates", tag = "firmware",
    params(("id" = String, Path, description = "Station id")),
    responses((status = 200, body = TrackedList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_updates(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<TrackedList>, ApiError> {
    tracked::list(&state, &caller, &id, TrackedKind::UpdateFirmware).await
}

/// An update with every FirmwareStatusNotification the station sent for it.
#[utoipa::path(get, path = "/api/v1/stations/{id}/firmware/updates/{requestId}", tag = "firmware",
    params(("id" = String, Path, description = "Station id"), ("requestId" = i64, Path)),
    responses((status = 200, body = TrackedView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_update(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, request_id)): Path<(String, i64)>,
) -> Result<Json<TrackedView>, ApiError> {
    tracked::one(
        &state,
        &caller,
        &id,
        TrackedKind::UpdateFirmware,
        request_id,
    )
    .await
}

/// Publish a firmware file on a local controller (L03).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishFirmwareBody {
    pub location: String,
    /// MD5 of the file, 32 hex digits.
    pub checksum: String,
    pub retries: Option<i64>,
    pub retry_interval: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/stations/{id}/firmware/publications", tag = "firmware",
    params(("id" = String, Path, description = "Station id")), request_body = PublishFirmwareBody,
    responses(
        (status = 200, body = RequestSent),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn publish_firmware(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PublishFirmwareBody>,
) -> Result<Json<RequestSent>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    let sent = l::publish_firmware(
        &state.csms,
        &station,
        FirmwarePublication {
            location: body.location,
            checksum: body.checksum,
            retries: body.retries,
            retry_interval: body.retry_interval,
        },
        &by,
    )
    .await?;
    Ok(Json(RequestSent {
        request_id: sent.request_id,
        status: sent.status,
    }))
}

#[utoipa::path(get, path = "/api/v1/stations/{id}/firmware/publications", tag = "firmware",
    params(("id" = String, Path, description = "Station id")),
    responses((status = 200, body = TrackedList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_publications(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<TrackedList>, ApiError> {
    tracked::list(&state, &caller, &id, TrackedKind::PublishFirmware).await
}

#[utoipa::path(get, path = "/api/v1/stations/{id}/firmware/publications/{requestId}", tag = "firmware",
    params(("id" = String, Path, description = "Station id"), ("requestId" = i64, Path)),
    responses((status = 200, body = TrackedView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_publication(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, request_id)): Path<(String, i64)>,
) -> Result<Json<TrackedView>, ApiError> {
    tracked::one(
        &state,
        &caller,
        &id,
        TrackedKind::PublishFirmware,
        request_id,
    )
    .await
}

/// Stop publishing a firmware file (L04).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UnpublishFirmwareBody {
    /// MD5 of the file, 32 hex digits.
    pub checksum: String,
}

#[utoipa::path(post, path = "/api/v1/stations/{id}/firmware/unpublish", tag = "firmware",
    params(("id" = String, Path, description = "Station id")), request_body = UnpublishFirmwareBody,
    responses(
        (status = 200, description = "UnpublishFirmwareResponse (`Unpublished`, `NoFirmware`, `DownloadOngoing`)", body = StatusAnswer),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn unpublish_firmware(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UnpublishFirmwareBody>,
) -> Result<Json<StatusAnswer>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    let response = l::unpublish_firmware(&state.csms, &station, body.checksum, &by).await?;
    Ok(Json(StatusAnswer {
        status: response.status.as_str().to_string(),
        status_info: None,
    }))
}
