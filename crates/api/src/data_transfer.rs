//! Block P: send a vendor-specific DataTransfer to a station (P01) — the HTTP mapping of
//! `unicharge_csms::data_transfer`.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use unicharge_csms::data_transfer as p;
use unicharge_ocpp::v201::{DataTransferRequest, DataTransferResponse};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiJson;
use crate::stations::station_id;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new().route("/api/v1/stations/{id}/data-transfer", post(data_transfer))
}

/// A DataTransferRequest (P01).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataTransferBody {
    /// The vendor extension, e.g. `com.example.display` (at most 255 characters).
    pub vendor_id: String,
    /// The message within it (at most 50 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Any JSON the vendor extension defines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
}

/// The station's DataTransferResponse.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataTransferAnswerView {
    /// `Accepted`, `Rejected`, `UnknownMessageId` or `UnknownVendorId`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub status_info: Option<Value>,
}

impl From<DataTransferResponse> for DataTransferAnswerView {
    fn from(r: DataTransferResponse) -> Self {
        DataTransferAnswerView {
            status: r.status.as_str().to_string(),
            data: r.data,
            status_info: r.status_info.and_then(|i| serde_json::to_value(i).ok()),
        }
    }
}

/// Send a vendor-specific message (P01). The station's Unknown… and Rejected statuses are
/// answers (200); a bad vendorId / messageId length is 400 naming the field.
#[utoipa::path(post, path = "/api/v1/stations/{id}/data-transfer", tag = "data transfer",
    params(("id" = String, Path, description = "Station id")), request_body = DataTransferBody,
    responses(
        (status = 200, body = DataTransferAnswerView),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn data_transfer(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DataTransferBody>,
) -> Result<Json<DataTransferAnswerView>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    let request = DataTransferRequest {
        custom_data: None,
        message_id: body.message_id,
        data: body.data,
        vendor_id: body.vendor_id,
    };
    Ok(Json(
        p::data_transfer(&state.csms, &station, &request, &by)
            .await?
            .into(),
    ))
}
