//! Block B operations: device model reads and writes (B05, B06), reports (B07, B08), resets
//! (B11, B12) and network connection profiles (B09). The CSMS adds what a bare OCPP request
//! would not: values are merged into the stored device model, report request ids are allocated
//! and their NotifyReport parts assembled.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use unicharge_core::api_keys::ApiRole;
use unicharge_store::{ReportRecord, VariableRecord, Write};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::commands::{operate, run_command};
use crate::error::ApiJson;
use crate::stations::existing_station;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/stations/{id}/variables/get", post(get_variables))
        .route("/api/v1/stations/{id}/variables/set", post(set_variables))
        .route("/api/v1/stations/{id}/device-model", get(device_model))
        .route("/api/v1/stations/{id}/reports", post(request_report))
        .route(
            "/api/v1/stations/{id}/reports/{request_id}",
            get(get_report),
        )
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
    fn component_json(&self) -> Value {
        let mut c = Map::new();
        c.insert("name".into(), json!(self.component));
        if let Some(i) = &self.component_instance {
            c.insert("instance".into(), json!(i));
        }
        if let Some(evse) = self.evse_id {
            let mut e = Map::new();
            e.insert("id".into(), json!(evse));
            if let Some(conn) = self.connector_id {
                e.insert("connectorId".into(), json!(conn));
            }
            c.insert("evse".into(), Value::Object(e));
        }
        Value::Object(c)
    }

    fn variable_json(&self) -> Value {
        let mut v = Map::new();
        v.insert("name".into(), json!(self.variable));
        if let Some(i) = &self.variable_instance {
            v.insert("instance".into(), json!(i));
        }
        Value::Object(v)
    }

    /// OCPP `getVariableData` / `setVariableData` entry for this variable.
    fn data(&self, value: Option<&str>) -> Value {
        let mut d = Map::new();
        d.insert("component".into(), self.component_json());
        d.insert("variable".into(), self.variable_json());
        if let Some(v) = value {
            d.insert("attributeValue".into(), json!(v));
        }
        if let Some(t) = &self.attribute_type {
            d.insert("attributeType".into(), json!(t));
        }
        Value::Object(d)
    }

    /// Whether an OCPP result is the answer for this variable: same component (name, instance,
    /// EVSE, connector), variable (name, instance) and attribute type (absent = `Actual`).
    /// Matching on names alone would file EVSE 2's value under EVSE 1's request item.
    fn matches(&self, result: &Value) -> bool {
        let c = &result["component"];
        let v = &result["variable"];
        let attribute = |t: Option<&str>| t.unwrap_or("Actual").to_string();
        c["name"] == json!(self.component)
            && c["instance"].as_str() == self.component_instance.as_deref()
            && c["evse"]["id"].as_i64() == self.evse_id
            && c["evse"]["connectorId"].as_i64() == self.connector_id
            && v["name"] == json!(self.variable)
            && v["instance"].as_str() == self.variable_instance.as_deref()
            && attribute(result["attributeType"].as_str())
                == attribute(self.attribute_type.as_deref())
    }

    fn record(
        &self,
        station: &unicharge_core::StationId,
        value: Option<String>,
        source: &str,
    ) -> VariableRecord {
        VariableRecord {
            station_id: station.clone(),
            component: self.component.clone(),
            component_instance: self.component_instance.clone(),
            evse_id: self.evse_id,
            connector_id: self.connector_id,
            variable: self.variable.clone(),
            variable_instance: self.variable_instance.clone(),
            attribute_type: self
                .attribute_type
                .clone()
                .unwrap_or_else(|| "Actual".into()),
            value,
            mutability: None,
            source: source.into(),
            updated_at: Utc::now(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GetVariablesBody {
    pub items: Vec<VariableRef>,
}

/// A value to write.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetVariableItem {
    #[serde(flatten)]
    pub target: VariableRef,
    pub value: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetVariablesBody {
    pub items: Vec<SetVariableItem>,
}

/// The station's per-item results, as OCPP spells them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VariableResults {
    pub results: Vec<Value>,
}

fn status_ok(result: &Value, accepted: &[&str]) -> bool {
    result
        .get("attributeStatus")
        .and_then(Value::as_str)
        .is_some_and(|s| accepted.contains(&s))
}

/// Which device-model request an answer belongs to.
#[derive(Clone, Copy)]
enum VariablesOp {
    Get,
    Set,
}

impl VariablesOp {
    fn action(self) -> &'static str {
        match self {
            VariablesOp::Get => "GetVariables",
            VariablesOp::Set => "SetVariables",
        }
    }

    fn result_key(self) -> &'static str {
        match self {
            VariablesOp::Get => "getVariableResult",
            VariablesOp::Set => "setVariableResult",
        }
    }

    /// `attributeStatus` values after which the value is the station's.
    fn accepted(self) -> &'static [&'static str] {
        match self {
            VariablesOp::Get => &["Accepted"],
            VariablesOp::Set => &["Accepted", "RebootRequired"],
        }
    }
}

/// The per-item results of a Get/SetVariables answer, and device-model writes for those the
/// station accepted, each matched back to the request item it answers.
fn accepted_variables<'a, T>(
    op: VariablesOp,
    station: &unicharge_core::StationId,
    answer: &Value,
    items: &'a [T],
    target: impl Fn(&'a T) -> &'a VariableRef,
    value: impl Fn(&'a T, &Value) -> Option<String>,
) -> (Vec<Value>, Vec<Write>) {
    let results = answer[op.result_key()]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let writes = results
        .iter()
        .filter(|result| status_ok(result, op.accepted()))
        .filter_map(|result| {
            let item = items.iter().find(|i| target(i).matches(result))?;
            Some(Write::Variable(target(item).record(
                station,
                value(item, result),
                op.action(),
            )))
        })
        .collect();
    (results, writes)
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
    caller.require(ApiRole::Operator)?;
    let station = existing_station(&state, &id).await?;
    let data: Vec<Value> = body.items.iter().map(|item| item.data(None)).collect();
    let answer = run_command(
        &state,
        &station,
        VariablesOp::Get.action(),
        json!({"getVariableData": data}),
        Some(&caller.key_id),
    )
    .await?;
    let (results, writes) = accepted_variables(
        VariablesOp::Get,
        &station,
        &answer,
        &body.items,
        |item| item,
        |_, result| result["attributeValue"].as_str().map(str::to_string),
    );
    state.store.write(writes).await?;
    Ok(Json(VariableResults { results }))
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
    caller.require(ApiRole::Operator)?;
    let station = existing_station(&state, &id).await?;
    if body
        .items
        .iter()
        .any(|i| i.target.component == "SecurityCtrlr" && i.target.variable == "BasicAuthPassword")
    {
        return Err(ApiError::bad_request(
            "use_password_rotation",
            "set SecurityCtrlr.BasicAuthPassword with POST /api/v1/stations/{id}/password/rotate, \
             which also updates the password the CSMS expects",
        ));
    }
    let data: Vec<Value> = body
        .items
        .iter()
        .map(|item| item.target.data(Some(&item.value)))
        .collect();
    let answer = run_command(
        &state,
        &station,
        VariablesOp::Set.action(),
        json!({"setVariableData": data}),
        Some(&caller.key_id),
    )
    .await?;
    let (results, writes) = accepted_variables(
        VariablesOp::Set,
        &station,
        &answer,
        &body.items,
        |item| &item.target,
        |item, _| Some(item.value.clone()),
    );
    state.store.write(writes).await?;
    Ok(Json(VariableResults { results }))
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
#[derive(Debug, Deserialize, ToSchema)]
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
    caller.require(ApiRole::Operator)?;
    let station = existing_station(&state, &id).await?;
    let request_id = state.store.next_report_request_id(&station).await?;
    let (action, payload) = match (
        &body.report_base,
        &body.component_criteria,
        &body.component_variable,
    ) {
        (Some(base), None, None) => (
            "GetBaseReport",
            json!({"requestId": request_id, "reportBase": base}),
        ),
        (None, criteria, variables) if criteria.is_some() || variables.is_some() => {
            let mut p = Map::new();
            p.insert("requestId".into(), json!(request_id));
            if let Some(c) = criteria {
                p.insert("componentCriteria".into(), json!(c));
            }
            if let Some(v) = variables {
                p.insert("componentVariable".into(), json!(v));
            }
            ("GetReport", Value::Object(p))
        }
        _ => {
            return Err(ApiError::bad_request(
                "invalid_report_request",
                "give either `reportBase`, or `componentCriteria` and/or `componentVariable`",
            ))
        }
    };
    // The row exists before the request leaves: NotifyReport parts may overtake the answer.
    state
        .store
        .create_report(&ReportRecord {
            station_id: station.clone(),
            request_id,
            request: payload.to_string(),
            status: None,
            complete: false,
            requested_at: Utc::now(),
        })
        .await?;
    let answer = run_command(&state, &station, action, payload, Some(&caller.key_id)).await?;
    let status = answer["status"].as_str().unwrap_or("").to_string();
    state
        .store
        .set_report_status(&station, request_id, &status)
        .await?;
    Ok(Json(ReportRequested { request_id, status }))
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

#[utoipa::path(get, path = "/api/v1/stations/{id}/reports/{request_id}", tag = "provisioning",
    params(("id" = String, Path), ("request_id" = i64, Path)),
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

#[derive(Debug, Deserialize, ToSchema)]
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
) -> Result<Json<Value>, ApiError> {
    let mut payload = json!({"type": body.reset_type});
    if let Some(evse) = body.evse_id {
        payload["evseId"] = json!(evse);
    }
    operate(&state, &caller, &id, "Reset", payload).await
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
) -> Result<Json<Value>, ApiError> {
    let payload = json!({"configurationSlot": body.configuration_slot, "connectionData": body.connection_data});
    operate(&state, &caller, &id, "SetNetworkProfile", payload).await
}
