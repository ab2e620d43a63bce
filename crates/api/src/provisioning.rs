//! Block B operations: device model reads and writes (B05, B06), reports (B07, B08), resets
//! (B11, B12) and network connection profiles (B09): the HTTP mapping of the block's operations
//! in `unicharge_csms::provisioning` (which merge values into the stored device model, allocate
//! report request ids and assemble their NotifyReport parts).

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use unicharge_core::api_keys::ApiRole;
use unicharge_csms::provisioning::{self as b, reports::ReportRequest};
use unicharge_ocpp::v201::{
    AttributeEnumType, ComponentType, EvseType, GetVariableDataType, ResetRequest, ResetResponse,
    SetNetworkProfileRequest, SetNetworkProfileResponse, SetVariableDataType, VariableType,
};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ocpp_enum, ocpp_value, ApiJson};
use crate::stations::{existing_station, station_id};
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/stations/{id}/variables/get", post(get_variables))
        .route("/api/v1/stations/{id}/variables/set", post(set_variables))
        .route("/api/v1/stations/{id}/device-model", get(device_model))
        .route("/api/v1/stations/{id}/reports", post(request_report))
        .route("/api/v1/stations/{id}/reports/{requestId}", get(get_report))
        .route("/api/v1/stations/{id}/reset", post(reset))
        .route(
            "/api/v1/stations/{id}/network-profile",
            post(set_network_profile),
        )
}

/// One component variable, as operators name it.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VariableRef {
    pub component: String,
    pub component_instance: Option<String>,
    pub evse_id: Option<i64>,
    pub connector_id: Option<i64>,
    pub variable: String,
    pub variable_instance: Option<String>,
    /// `Actual` (the default when absent), `Target`, `MinSet`, `MaxSet`.
    pub attribute_type: Option<String>,
}

impl VariableRef {
    /// The OCPP component this names.
    fn component(&self) -> ComponentType {
        ComponentType {
            custom_data: None,
            evse: self.evse_id.map(|id| EvseType {
                custom_data: None,
                id,
                connector_id: self.connector_id,
            }),
            name: self.component.clone(),
            instance: self.component_instance.clone(),
        }
    }

    fn variable(&self) -> VariableType {
        VariableType {
            custom_data: None,
            name: self.variable.clone(),
            instance: self.variable_instance.clone(),
        }
    }

    fn attribute_type(&self) -> Result<Option<AttributeEnumType>, ApiError> {
        self.attribute_type
            .as_deref()
            .map(|t| ocpp_enum("attributeType", t))
            .transpose()
    }

    fn get(&self) -> Result<GetVariableDataType, ApiError> {
        Ok(GetVariableDataType {
            custom_data: None,
            attribute_type: self.attribute_type()?,
            component: self.component(),
            variable: self.variable(),
        })
    }

    fn set(&self, value: String) -> Result<SetVariableDataType, ApiError> {
        Ok(SetVariableDataType {
            custom_data: None,
            attribute_type: self.attribute_type()?,
            attribute_value: value,
            component: self.component(),
            variable: self.variable(),
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GetVariablesBody {
    pub items: Vec<VariableRef>,
}

/// A value to write.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetVariableItem {
    #[serde(flatten)]
    pub target: VariableRef,
    pub value: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetVariablesBody {
    pub items: Vec<SetVariableItem>,
}

/// The station's per-item results, as OCPP spells them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VariableResults {
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<Value>,
}

fn results<T: Serialize>(items: Vec<T>) -> Result<Json<VariableResults>, ApiError> {
    let results = items
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()
        .map_err(ApiError::internal)?;
    Ok(Json(VariableResults { results }))
}

/// Read variables (GetVariables, B06); values read are kept in the device model.
#[utoipa::path(post, path = "/api/v1/stations/{id}/variables/get", tag = "provisioning",
    params(("id" = String, Path)), request_body = GetVariablesBody,
    responses((status = 200, body = VariableResults), (status = 409, body = crate::error::ErrorBody)))]
pub async fn get_variables(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GetVariablesBody>,
) -> Result<Json<VariableResults>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    let items = body
        .items
        .iter()
        .map(VariableRef::get)
        .collect::<Result<_, _>>()?;
    results(b::variables::get_variables(&state.csms, &station, items, &by).await?)
}

/// Write variables (SetVariables, B05); accepted values are kept in the device model.
#[utoipa::path(post, path = "/api/v1/stations/{id}/variables/set", tag = "provisioning",
    params(("id" = String, Path)), request_body = SetVariablesBody,
    responses((status = 200, body = VariableResults), (status = 409, body = crate::error::ErrorBody)))]
pub async fn set_variables(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetVariablesBody>,
) -> Result<Json<VariableResults>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    let items = body
        .items
        .iter()
        .map(|item| item.target.set(item.value.clone()))
        .collect::<Result<_, _>>()?;
    results(b::variables::set_variables(&state.csms, &station, items, &by).await?)
}

/// One stored device-model attribute.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeviceModelEntry {
    pub component: String,
    pub component_instance: Option<String>,
    pub evse_id: Option<i64>,
    pub connector_id: Option<i64>,
    pub variable: String,
    pub variable_instance: Option<String>,
    pub attribute_type: String,
    pub value: Option<String>,
    pub mutability: Option<String>,
    pub source: String,
    pub updated_at: chrono::DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceModel {
    pub variables: Vec<DeviceModelEntry>,
}

/// What the CSMS knows of the station's device model.
#[utoipa::path(get, path = "/api/v1/stations/{id}/device-model", tag = "provisioning",
    params(("id" = String, Path)), responses((status = 200, body = DeviceModel)))]
pub async fn device_model(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DeviceModel>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let variables = state
        .store
        .device_model(&station)
        .await?
        .into_iter()
        .map(|v| DeviceModelEntry {
            component: v.component,
            component_instance: v.component_instance,
            evse_id: v.evse_id,
            connector_id: v.connector_id,
            variable: v.variable,
            variable_instance: v.variable_instance,
            attribute_type: v.attribute_type,
            value: v.value,
            mutability: v.mutability,
            source: v.source,
            updated_at: v.updated_at,
        })
        .collect();
    Ok(Json(DeviceModel { variables }))
}

/// Ask for a report: `reportBase` (GetBaseReport, B07) or criteria (GetReport, B08).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportBody {
    /// `ConfigurationInventory`, `FullInventory` or `SummaryInventory`.
    pub report_base: Option<String>,
    /// OCPP `componentCriteria` (GetReport).
    pub component_criteria: Option<Vec<String>>,
    /// OCPP `componentVariable` (GetReport), as OCPP JSON.
    pub component_variable: Option<Vec<Value>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportRequested {
    pub request_id: i64,
    /// The station's answer: `Accepted`, `Rejected`, `NotSupported`, `EmptyResultSet`.
    pub status: String,
}

/// Request a report; its NotifyReport parts are assembled under the returned request id.
#[utoipa::path(post, path = "/api/v1/stations/{id}/reports", tag = "provisioning",
    params(("id" = String, Path)), request_body = ReportBody,
    responses((status = 200, body = ReportRequested), (status = 400, body = crate::error::ErrorBody)))]
pub async fn request_report(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReportBody>,
) -> Result<Json<ReportRequested>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    let what = match (
        body.report_base,
        body.component_criteria,
        body.component_variable,
    ) {
        (Some(base), None, None) => ReportRequest::Base(ocpp_enum("reportBase", &base)?),
        (None, criteria, variables) if criteria.is_some() || variables.is_some() => {
            ReportRequest::Custom {
                component_criteria: criteria
                    .map(|c| ocpp_value("componentCriteria", Value::from(c)))
                    .transpose()?,
                component_variable: variables
                    .map(|v| ocpp_value("componentVariable", Value::Array(v)))
                    .transpose()?,
            }
        }
        _ => {
            return Err(ApiError::bad_request(
                "invalid_report_request",
                "give either `reportBase`, or `componentCriteria` and/or `componentVariable`",
            ))
        }
    };
    let requested = b::reports::request(&state.csms, &station, what, &by).await?;
    Ok(Json(ReportRequested {
        request_id: requested.request_id,
        status: requested.status,
    }))
}

/// A report, assembled from all its NotifyReport parts received so far.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub request_id: i64,
    pub request: Value,
    pub status: Option<String>,
    /// True once the part with `tbc` false arrived.
    pub complete: bool,
    pub parts: usize,
    /// All ReportDataType entries of all parts, in seqNo order.
    pub report_data: Vec<Value>,
}

#[utoipa::path(get, path = "/api/v1/stations/{id}/reports/{requestId}", tag = "provisioning",
    params(("id" = String, Path), ("requestId" = i64, Path)),
    responses((status = 200, body = Report), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_report(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, request_id)): Path<(String, i64)>,
) -> Result<Json<Report>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let (report, parts) = state
        .store
        .report(&station, request_id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "unknown_report",
                format!("no report {request_id} for {station}"),
            )
        })?;
    let mut report_data = Vec::new();
    for part in &parts {
        if let Ok(Value::Array(items)) = serde_json::from_str(&part.report_data) {
            report_data.extend(items);
        }
    }
    Ok(Json(Report {
        request_id,
        request: serde_json::from_str(&report.request).unwrap_or(Value::Null),
        status: report.status,
        complete: report.complete,
        parts: parts.len(),
        report_data,
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResetBody {
    /// `OnIdle` or `Immediate`.
    #[serde(rename = "type")]
    pub reset_type: String,
    /// Reset only this EVSE.
    pub evse_id: Option<i64>,
}

/// Reset the station or one EVSE (B11, B12). A `Scheduled` answer means it resets when idle.
#[utoipa::path(post, path = "/api/v1/stations/{id}/reset", tag = "provisioning",
    params(("id" = String, Path)), request_body = ResetBody,
    responses((status = 200, description = "ResetResponse", body = Object)))]
pub async fn reset(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<Json<ResetResponse>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    let request = ResetRequest {
        custom_data: None,
        r#type: ocpp_enum("type", &body.reset_type)?,
        evse_id: body.evse_id,
    };
    Ok(Json(
        b::reset::reset(&state.csms, &station, request, &by).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkProfileBody {
    pub configuration_slot: i64,
    /// OCPP NetworkConnectionProfileType.
    pub connection_data: Value,
}

/// Install a network connection profile in a configuration slot (B09).
#[utoipa::path(post, path = "/api/v1/stations/{id}/network-profile", tag = "provisioning",
    params(("id" = String, Path)), request_body = NetworkProfileBody,
    responses((status = 200, description = "SetNetworkProfileResponse", body = Object)))]
pub async fn set_network_profile(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NetworkProfileBody>,
) -> Result<Json<SetNetworkProfileResponse>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    let request = SetNetworkProfileRequest {
        custom_data: None,
        configuration_slot: body.configuration_slot,
        connection_data: ocpp_value("connectionData", body.connection_data)?,
    };
    Ok(Json(
        b::network_profile::set_network_profile(&state.csms, &station, request, &by).await?,
    ))
}
