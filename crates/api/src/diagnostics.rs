//! Block N: diagnostics — the HTTP mapping of `unicharge_csms::diagnostics`.
//!
//! Log uploads (`logs`), monitoring (`monitoring/…`), monitor alerts (`alerts`) and customer
//! information (`customer-information`). Requests the station follows up on are read back at
//! their `…/{requestId}` resource with everything the station sent under them.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use unicharge_core::api_keys::ApiRole;
use unicharge_csms::diagnostics::{self as n, Customer, LogRequest, MonitoringQuery};
use unicharge_ocpp::v201::{
    CertificateHashDataType, ComponentVariableType, IdTokenType, MonitoringCriterionEnumType,
    SetMonitoringDataType,
};
use unicharge_store::TrackedKind;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ocpp_enum, ocpp_value, ApiJson};
use crate::remote_control::StatusAnswer;
use crate::stations::{existing_station, station_id, Limit};
use crate::tracked::{self, RequestSent, TrackedList, TrackedView};
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/stations/{id}/logs", get(list_logs).post(get_log))
        .route("/api/v1/stations/{id}/logs/{requestId}", get(log_request))
        .route(
            "/api/v1/stations/{id}/monitoring/reports",
            post(get_monitoring_report),
        )
        .route(
            "/api/v1/stations/{id}/monitoring/reports/{requestId}",
            get(monitoring_report),
        )
        .route(
            "/api/v1/stations/{id}/monitoring/base",
            post(set_monitoring_base),
        )
        .route(
            "/api/v1/stations/{id}/monitoring/level",
            post(set_monitoring_level),
        )
        .route(
            "/api/v1/stations/{id}/monitoring/monitors",
            get(list_monitors).post(set_variable_monitoring),
        )
        .route(
            "/api/v1/stations/{id}/monitoring/monitors/clear",
            post(clear_variable_monitoring),
        )
        .route("/api/v1/stations/{id}/alerts", get(alerts))
        .route(
            "/api/v1/stations/{id}/customer-information",
            post(customer_information),
        )
        .route(
            "/api/v1/stations/{id}/customer-information/{requestId}",
            get(customer_information_report),
        )
}

/// Have the station upload a log (N01).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetLogBody {
    /// `DiagnosticsLog` or `SecurityLog`.
    pub log_type: String,
    /// URL the station uploads the log to. Absent: the station uploads to unicharge itself
    /// (a per-request, expiring URL on this API's port); the files are then listed at
    /// `GET /api/v1/stations/{id}/log-files`.
    pub remote_location: Option<String>,
    pub oldest_timestamp: Option<DateTime<Utc>>,
    pub latest_timestamp: Option<DateTime<Utc>>,
    pub retries: Option<i64>,
    pub retry_interval: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogRequested {
    pub request_id: i64,
    /// `Accepted`, `Rejected` or `AcceptedCanceled` (a running upload was cancelled for it).
    pub status: String,
    /// The name of the file the station will upload, if it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    pub remote_location: String,
}

#[utoipa::path(post, path = "/api/v1/stations/{id}/logs", tag = "diagnostics",
    params(("id" = String, Path, description = "Station id")), request_body = GetLogBody,
    responses((status = 200, body = LogRequested), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody), (status = 504, body = crate::error::ErrorBody)))]
pub async fn get_log(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GetLogBody>,
) -> Result<Json<LogRequested>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    let (sent, filename, remote_location) = n::get_log(
        &state.csms,
        &station,
        LogRequest {
            log_type: ocpp_enum("logType", &body.log_type)?,
            remote_location: body.remote_location.unwrap_or_default(),
            oldest_timestamp: body.oldest_timestamp,
            latest_timestamp: body.latest_timestamp,
            retries: body.retries,
            retry_interval: body.retry_interval,
        },
        &by,
    )
    .await?;
    Ok(Json(LogRequested {
        request_id: sent.request_id,
        status: sent.status.as_str().to_string(),
        filename,
        remote_location,
    }))
}

#[utoipa::path(get, path = "/api/v1/stations/{id}/logs", tag = "diagnostics",
    params(("id" = String, Path, description = "Station id")),
    responses((status = 200, body = TrackedList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_logs(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<TrackedList>, ApiError> {
    tracked::list(&state, &caller, &id, TrackedKind::GetLog).await
}

/// A log request with every LogStatusNotification sent for it.
#[utoipa::path(get, path = "/api/v1/stations/{id}/logs/{requestId}", tag = "diagnostics",
    params(("id" = String, Path, description = "Station id"), ("requestId" = i64, Path)),
    responses((status = 200, body = TrackedView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn log_request(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, request_id)): Path<(String, i64)>,
) -> Result<Json<TrackedView>, ApiError> {
    tracked::one(&state, &caller, &id, TrackedKind::GetLog, request_id).await
}

/// Ask for the station's monitors (N02); both absent: all of them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MonitoringReportBody {
    /// `ThresholdMonitoring`, `DeltaMonitoring`, `PeriodicMonitoring`.
    #[serde(default)]
    pub monitoring_criteria: Vec<String>,
    /// OCPP ComponentVariableType array.
    #[schema(value_type = Option<Vec<Object>>)]
    pub component_variable: Option<Value>,
}

#[utoipa::path(post, path = "/api/v1/stations/{id}/monitoring/reports", tag = "diagnostics",
    params(("id" = String, Path, description = "Station id")), request_body = MonitoringReportBody,
    responses((status = 200, description = "`Accepted`, `EmptyResultSet`, `Rejected`, `NotSupported`", body = RequestSent),
        (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody)))]
pub async fn get_monitoring_report(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MonitoringReportBody>,
) -> Result<Json<RequestSent>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    let criteria = body
        .monitoring_criteria
        .iter()
        .map(|c| ocpp_enum::<MonitoringCriterionEnumType>("monitoringCriteria", c))
        .collect::<Result<Vec<_>, _>>()?;
    let component_variables: Vec<ComponentVariableType> = match body.component_variable {
        Some(v) => ocpp_value("componentVariable", v)?,
        None => Vec::new(),
    };
    let sent = n::get_monitoring_report(
        &state.csms,
        &station,
        MonitoringQuery {
            criteria,
            component_variables,
        },
        &by,
    )
    .await?;
    Ok(Json(RequestSent {
        request_id: sent.request_id,
        status: sent.status.as_str().to_string(),
    }))
}

/// A monitoring report assembled from its NotifyMonitoringReport parts.
#[utoipa::path(get, path = "/api/v1/stations/{id}/monitoring/reports/{requestId}", tag = "diagnostics",
    params(("id" = String, Path, description = "Station id"), ("requestId" = i64, Path)),
    responses((status = 200, body = TrackedView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn monitoring_report(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, request_id)): Path<(String, i64)>,
) -> Result<Json<TrackedView>, ApiError> {
    tracked::one(
        &state,
        &caller,
        &id,
        TrackedKind::GetMonitoringReport,
        request_id,
    )
    .await
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MonitoringBaseBody {
    /// `All`, `FactoryDefault`, `HardWiredOnly`.
    pub monitoring_base: String,
}

#[utoipa::path(post, path = "/api/v1/stations/{id}/monitoring/base", tag = "diagnostics",
    params(("id" = String, Path, description = "Station id")), request_body = MonitoringBaseBody,
    responses((status = 200, body = StatusAnswer), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody), (status = 504, body = crate::error::ErrorBody)))]
pub async fn set_monitoring_base(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MonitoringBaseBody>,
) -> Result<Json<StatusAnswer>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    let base = ocpp_enum("monitoringBase", &body.monitoring_base)?;
    let status = n::set_monitoring_base(&state.csms, &station, base, &by).await?;
    Ok(Json(StatusAnswer {
        status: status.as_str().to_string(),
        status_info: None,
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MonitoringLevelBody {
    /// 0 (Danger) … 9 (Debug).
    pub severity: i64,
}

#[utoipa::path(post, path = "/api/v1/stations/{id}/monitoring/level", tag = "diagnostics",
    params(("id" = String, Path, description = "Station id")), request_body = MonitoringLevelBody,
    responses((status = 200, body = StatusAnswer), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody), (status = 504, body = crate::error::ErrorBody)))]
pub async fn set_monitoring_level(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MonitoringLevelBody>,
) -> Result<Json<StatusAnswer>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    let status = n::set_monitoring_level(&state.csms, &station, body.severity, &by).await?;
    Ok(Json(StatusAnswer {
        status: status.as_str().to_string(),
        status_info: None,
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetMonitorsBody {
    /// OCPP SetMonitoringDataType array.
    #[schema(value_type = Vec<Object>)]
    pub set_monitoring_data: Value,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MonitorResults {
    /// The station's results (OCPP SetMonitoringResultType / ClearMonitoringResultType).
    #[schema(value_type = Vec<Object>)]
    pub results: Value,
}

#[utoipa::path(post, path = "/api/v1/stations/{id}/monitoring/monitors", tag = "diagnostics",
    params(("id" = String, Path, description = "Station id")), request_body = SetMonitorsBody,
    responses((status = 200, body = MonitorResults), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody), (status = 504, body = crate::error::ErrorBody)))]
pub async fn set_variable_monitoring(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetMonitorsBody>,
) -> Result<Json<MonitorResults>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    let data: Vec<SetMonitoringDataType> =
        ocpp_value("setMonitoringData", body.set_monitoring_data)?;
    let results = n::set_variable_monitoring(&state.csms, &station, data, &by).await?;
    Ok(Json(MonitorResults {
        results: serde_json::to_value(results).unwrap_or_default(),
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClearMonitorsBody {
    pub ids: Vec<i64>,
}

#[utoipa::path(post, path = "/api/v1/stations/{id}/monitoring/monitors/clear", tag = "diagnostics",
    params(("id" = String, Path, description = "Station id")), request_body = ClearMonitorsBody,
    responses((status = 200, body = MonitorResults), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody), (status = 504, body = crate::error::ErrorBody)))]
pub async fn clear_variable_monitoring(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ClearMonitorsBody>,
) -> Result<Json<MonitorResults>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    let results = n::clear_variable_monitoring(&state.csms, &station, body.ids, &by).await?;
    Ok(Json(MonitorResults {
        results: serde_json::to_value(results).unwrap_or_default(),
    }))
}

/// A monitor the station holds.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MonitorView {
    pub id: i64,
    pub component: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<i64>,
    pub variable: String,
    /// MonitorEnumType (`UpperThreshold`, `Delta`, …).
    pub r#type: String,
    pub value: f64,
    pub severity: i64,
    pub transaction: bool,
    /// `set` (by the CSMS) or `report` (NotifyMonitoringReport).
    pub origin: String,
    pub updated_at: DateTime<Utc>,
}

fn monitor_view(m: unicharge_store::VariableMonitorRecord) -> MonitorView {
    MonitorView {
        id: m.monitor_id,
        component: m.component,
        evse_id: m.evse_id,
        connector_id: m.connector_id,
        variable: m.variable,
        r#type: m.monitor_type,
        value: m.value,
        severity: m.severity,
        transaction: m.transaction_only,
        origin: m.origin,
        updated_at: m.updated_at,
    }
}

#[utoipa::path(get, path = "/api/v1/stations/{id}/monitoring/monitors", tag = "diagnostics",
    params(("id" = String, Path, description = "Station id")),
    responses((status = 200, body = [MonitorView]), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_monitors(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<MonitorView>>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let monitors = state.store.variable_monitors(&station).await?;
    Ok(Json(monitors.into_iter().map(monitor_view).collect()))
}

/// An event a monitor raised (N07/N08).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertView {
    pub timestamp: DateTime<Utc>,
    pub event_id: i64,
    /// `Alerting`, `Periodic`, `Delta`.
    pub trigger: String,
    /// `HardWiredMonitor`, `PreconfiguredMonitor`, `CustomMonitor`, `HardWiredNotification`.
    pub event_notification_type: String,
    pub component: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<i64>,
    pub variable: String,
    pub actual_value: String,
    /// The problem went away (a threshold no longer exceeded).
    pub cleared: bool,
    /// The monitor that fired (`variableMonitoringId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_id: Option<i64>,
    /// 0 (Danger) … 9 (Debug), when the monitor is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor: Option<MonitorView>,
    /// The whole EventData.
    #[schema(value_type = Object)]
    pub event: Value,
}

#[utoipa::path(get, path = "/api/v1/stations/{id}/alerts", tag = "diagnostics",
    params(("id" = String, Path), Limit),
    responses((status = 200, body = [AlertView]), (status = 404, body = crate::error::ErrorBody)))]
pub async fn alerts(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(limit): Query<Limit>,
) -> Result<Json<Vec<AlertView>>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let alerts = n::notify_event::alerts(&state.csms, &station, limit.get()).await?;
    Ok(Json(
        alerts
            .into_iter()
            .map(|a| AlertView {
                timestamp: a.event.timestamp,
                event_id: a.event.event_id,
                trigger: a.event.trigger,
                event_notification_type: a.event.event_notification_type,
                component: a.event.component,
                evse_id: a.event.evse_id,
                variable: a.event.variable,
                actual_value: a.event.actual_value,
                cleared: a.cleared,
                monitor_id: a.monitor_id,
                severity: a.severity,
                monitor: a.monitor.map(monitor_view),
                event: serde_json::from_str(&a.event.data).unwrap_or_default(),
            })
            .collect(),
    ))
}

/// Report and/or clear what the station keeps about a customer (N09/N10): name the customer
/// by exactly one of idToken, customerIdentifier, customerCertificate.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomerInformationBody {
    pub report: bool,
    pub clear: bool,
    /// OCPP IdTokenType.
    #[schema(value_type = Option<Object>)]
    pub id_token: Option<Value>,
    pub customer_identifier: Option<String>,
    /// OCPP CertificateHashDataType.
    #[schema(value_type = Option<Object>)]
    pub customer_certificate: Option<Value>,
}

#[utoipa::path(post, path = "/api/v1/stations/{id}/customer-information", tag = "diagnostics",
    params(("id" = String, Path, description = "Station id")), request_body = CustomerInformationBody,
    responses((status = 200, description = "`Accepted`, `Rejected`, `Invalid`", body = RequestSent),
        (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody)))]
pub async fn customer_information(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CustomerInformationBody>,
) -> Result<Json<RequestSent>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    let customer = match (
        body.id_token,
        body.customer_identifier,
        body.customer_certificate,
    ) {
        (Some(t), None, None) => Customer::IdToken(ocpp_value::<IdTokenType>("idToken", t)?),
        (None, Some(c), None) => Customer::Identifier(c),
        (None, None, Some(c)) => Customer::Certificate(ocpp_value::<CertificateHashDataType>(
            "customerCertificate",
            c,
        )?),
        _ => {
            return Err(ApiError::bad_request(
                "customer",
                "name the customer by exactly one of idToken, customerIdentifier, \
                 customerCertificate",
            ))
        }
    };
    let sent = n::customer_information(
        &state.csms,
        &station,
        customer,
        body.report,
        body.clear,
        &by,
    )
    .await?;
    Ok(Json(RequestSent {
        request_id: sent.request_id,
        status: sent.status.as_str().to_string(),
    }))
}

/// A customer-information request with the NotifyCustomerInformation parts sent for it.
#[utoipa::path(get, path = "/api/v1/stations/{id}/customer-information/{requestId}", tag = "diagnostics",
    params(("id" = String, Path, description = "Station id"), ("requestId" = i64, Path)),
    responses((status = 200, body = TrackedView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn customer_information_report(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, request_id)): Path<(String, i64)>,
) -> Result<Json<TrackedView>, ApiError> {
    tracked::one(
        &state,
        &caller,
        &id,
        TrackedKind::CustomerInformation,
        request_id,
    )
    .await
}
