//! ISO 17575-1 road-usage charging: the OBEs the back end knows and the charge reports it
//! received (with the exact answer given and the usage statements as charge records).
//! Read-only for now; registering OBEs and queueing account updates go through
//! `unicharge_efc_backend::Backend` (see ADR 0015).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use unicharge_core::api_keys::ApiRole;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::transactions::{limit, ApiQuery};
use crate::{ApiError, ApiState};

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/efc/obes", get(list_obes))
        .route("/api/v1/efc/reports", get(list_reports))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EfcObeList {
    #[schema(value_type = Vec<Object>)]
    pub obes: Vec<Value>,
}

/// OBEs registered with the EFC back end (keys are not shown).
#[utoipa::path(get, path = "/api/v1/efc/obes", tag = "efc",
    responses((status = 200, body = EfcObeList)))]
pub async fn list_obes(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<EfcObeList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let obes = state
        .store
        .efc_obes()
        .await?
        .into_iter()
        .map(|mut o| {
            o.mac_key_hex = o.mac_key_hex.map(|_| "(set)".to_string());
            serde_json::to_value(o).map_err(ApiError::internal)
        })
        .collect::<Result<_, _>>()?;
    Ok(Json(EfcObeList { obes }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct EfcReportsQuery {
    /// Only this OBE's reports (`manufacturerId:equipmentObuId hex`).
    pub obe_key: Option<String>,
    /// How many, newest first (default 100, at most 1000).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EfcReportList {
    /// Newest first; `request` and `response` are the frames as hex.
    #[schema(value_type = Vec<Object>)]
    pub reports: Vec<Value>,
}

/// Charge reports received, newest first, with violations, counter gaps and charge records.
#[utoipa::path(get, path = "/api/v1/efc/reports", tag = "efc",
    params(EfcReportsQuery),
    responses((status = 200, body = EfcReportList), (status = 400, body = crate::error::ErrorBody)))]
pub async fn list_reports(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<EfcReportsQuery>,
) -> Result<Json<EfcReportList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let rows = state
        .store
        .efc_reports(query.obe_key.as_deref(), limit(query.limit))
        .await?;
    let reports = rows
        .into_iter()
        .map(|r| {
            let (request, response) = (hex::encode(&r.request), hex::encode(&r.response));
            let mut v = serde_json::to_value(r).map_err(ApiError::internal)?;
            v["request"] = Value::String(request);
            v["response"] = Value::String(response);
            Ok(v)
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(Json(EfcReportList { reports }))
}
