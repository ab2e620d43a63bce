//! Functional block N, Diagnostics, both directions.
//!
//! - [`get_log`] (N01): the CSMS allocates the requestId, keeps the request, sends GetLog; the
//!   station's LogStatusNotifications are tracked under it ([`log_status`]). A second request
//!   while one uploads is sent as asked: `AcceptedCanceled` ends the running one (the station
//!   confirms with a LogStatusNotification AcceptedCanceled for it).
//! - Monitoring (N02–N06): [`get_monitoring_report`] with the NotifyMonitoringReport parts
//!   assembled under its requestId and the monitors they name kept ([`monitoring_report`]);
//!   [`set_variable_monitoring`] keeps the monitors the station accepted,
//!   [`clear_variable_monitoring`] marks the ones it cleared; [`set_monitoring_base`],
//!   [`set_monitoring_level`].
//! - Events (N07/N08): [`notify_event`]; alerts are read with the monitor that fired them.
//! - Customer information (N09/N10): [`customer_information`] with the
//!   NotifyCustomerInformation parts assembled ([`customer_data`]).

pub mod customer_data;
pub mod log_status;
pub mod log_upload;
pub mod monitoring_report;
pub mod notify_event;

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use unicharge_core::StationId;
use unicharge_ocpp::v201::{CertificateHashDataType, IdTokenType};
use unicharge_ocpp::v201::{
    ClearMonitoringResultType, ClearMonitoringStatusEnumType, ClearVariableMonitoringRequest,
    ComponentVariableType, CustomerInformationRequest, CustomerInformationStatusEnumType,
    GenericDeviceModelStatusEnumType, GenericStatusEnumType, GetLogRequest, GetLogResponse,
    GetMonitoringReportRequest, LogEnumType, LogParametersType, LogStatusEnumType,
    MonitoringBaseEnumType, MonitoringCriterionEnumType, SetMonitoringBaseRequest,
    SetMonitoringDataType, SetMonitoringLevelRequest, SetMonitoringResultType,
    SetMonitoringStatusEnumType, SetVariableMonitoringRequest,
};
use unicharge_store::{TrackedKind, TrackedPart, VariableMonitorRecord};

use crate::request::{OpError, Requester};
use crate::tracked::{self, send_tracked, Sent};
use crate::Csms;

/// Which log, where to, and what period (N01).
#[derive(Debug, Clone, PartialEq)]
pub struct LogRequest {
    pub log_type: LogEnumType,
    /// URL the station uploads the log to.
    pub remote_location: String,
    pub oldest_timestamp: Option<DateTime<Utc>>,
    pub latest_timestamp: Option<DateTime<Utc>>,
    pub retries: Option<i64>,
    pub retry_interval: Option<i64>,
}

/// N01: ask the station to upload a log. See the module documentation. Without a
/// `remote_location` the station uploads to unicharge itself ([`log_upload`]). Returns what was
/// sent, the filename the station announced and the upload location it was given.
pub async fn get_log(
    csms: &Csms,
    station: &StationId,
    log: LogRequest,
    by: &Requester,
) -> Result<(Sent<LogStatusEnumType>, Option<String>, String), OpError> {
    csms.registered(station).await?;
    let store = csms.store();
    let allocated = tracked::allocate(csms, station, TrackedKind::GetLog).await?;
    let request_id = allocated.id;
    let mut log = log;
    if log.remote_location.trim().is_empty() {
        // Upload to unicharge itself: a URL for this station and request only, expiring.
        let files = csms.files().ok_or_else(|| {
            OpError::refused(
                "remote_location_missing",
                "give remoteLocation (the URL the station uploads the log to): this server \
                 keeps no files to receive it itself",
            )
        })?;
        let validity = chrono::Duration::from_std(csms.config().log_upload_validity)
            .unwrap_or_else(|_| chrono::Duration::hours(24));
        log.remote_location =
            log_upload::upload_url(files, station.as_str(), request_id, Utc::now() + validity)?;
    }
    let running: Vec<i64> = store
        .tracked_requests(station, TrackedKind::GetLog, 20)
        .await?
        .into_iter()
        .filter(|r| !r.complete)
        .map(|r| r.request_id)
        .collect();
    let remote_location = log.remote_location.clone();
    let request = GetLogRequest {
        custom_data: None,
        log: LogParametersType {
            custom_data: None,
            remote_location: log.remote_location,
            oldest_timestamp: log.oldest_timestamp,
            latest_timestamp: log.latest_timestamp,
        },
        log_type: log.log_type,
        request_id,
        retries: log.retries,
        retry_interval: log.retry_interval,
    };
    let response: GetLogResponse = send_tracked(csms, station, allocated, &request, by, |r| {
        (
            r.status.as_str().to_string(),
            r.status == LogStatusEnumType::Rejected,
        )
    })
    .await?;
    if response.status == LogStatusEnumType::AcceptedCanceled && !running.is_empty() {
        tracing::info!(%station, request_id, canceled = ?running,
            "log request replaced a running upload (AcceptedCanceled)");
    }
    Ok((
        Sent {
            request_id,
            status: response.status,
        },
        response.filename,
        remote_location,
    ))
}

/// What to report (N02): criteria and/or component variables; both empty: every monitor.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MonitoringQuery {
    pub criteria: Vec<MonitoringCriterionEnumType>,
    pub component_variables: Vec<ComponentVariableType>,
}

/// N02: ask for the station's monitors; parts are assembled under the requestId.
pub async fn get_monitoring_report(
    csms: &Csms,
    station: &StationId,
    query: MonitoringQuery,
    by: &Requester,
) -> Result<Sent<GenericDeviceModelStatusEnumType>, OpError> {
    csms.registered(station).await?;
    let allocated = tracked::allocate(csms, station, TrackedKind::GetMonitoringReport).await?;
    let request_id = allocated.id;
    let request = GetMonitoringReportRequest {
        custom_data: None,
        component_variable: (!query.component_variables.is_empty())
            .then_some(query.component_variables),
        request_id,
        monitoring_criteria: (!query.criteria.is_empty()).then_some(query.criteria),
    };
    let response = send_tracked(csms, station, allocated, &request, by, |r| {
        (
            r.status.as_str().to_string(),
            r.status != GenericDeviceModelStatusEnumType::Accepted,
        )
    })
    .await?;
    Ok(Sent {
        request_id,
        status: response.status,
    })
}

/// N03: which monitors the station activates.
pub async fn set_monitoring_base(
    csms: &Csms,
    station: &StationId,
    monitoring_base: MonitoringBaseEnumType,
    by: &Requester,
) -> Result<GenericDeviceModelStatusEnumType, OpError> {
    csms.registered(station).await?;
    let request = SetMonitoringBaseRequest {
        custom_data: None,
        monitoring_base,
    };
    Ok(csms.request(station, &request, by).await?.status)
}

/// N05: report only events of `severity` (0 Danger … 9 Debug) and more severe.
pub async fn set_monitoring_level(
    csms: &Csms,
    station: &StationId,
    severity: i64,
    by: &Requester,
) -> Result<GenericStatusEnumType, OpError> {
    csms.registered(station).await?;
    if !(0..=9).contains(&severity) {
        return Err(OpError::refused(
            "severity_out_of_range",
            format!("severity {severity}: give 0 (Danger) to 9 (Debug)"),
        ));
    }
    let request = SetMonitoringLevelRequest {
        custom_data: None,
        severity,
    };
    Ok(csms.request(station, &request, by).await?.status)
}

fn monitor_record(
    station: &StationId,
    id: i64,
    data: &SetMonitoringResultType,
    value: f64,
    transaction: bool,
) -> VariableMonitorRecord {
    let evse = data.component.evse.as_ref();
    VariableMonitorRecord {
        station_id: station.clone(),
        monitor_id: id,
        component: data.component.name.clone(),
        component_instance: data.component.instance.clone(),
        evse_id: evse.map(|e| e.id),
        connector_id: evse.and_then(|e| e.connector_id),
        variable: data.variable.name.clone(),
        variable_instance: data.variable.instance.clone(),
        monitor_type: data.r#type.as_str().to_string(),
        value,
        severity: data.severity,
        transaction_only: transaction,
        origin: "set".into(),
        updated_at: Utc::now(),
        cleared_at: None,
    }
}

/// N04: set monitors; those the station accepted are kept with the id it gave them.
pub async fn set_variable_monitoring(
    csms: &Csms,
    station: &StationId,
    monitors: Vec<SetMonitoringDataType>,
    by: &Requester,
) -> Result<Vec<SetMonitoringResultType>, OpError> {
    csms.registered(station).await?;
    if monitors.is_empty() {
        return Err(OpError::refused(
            "no_monitors",
            "give at least one monitor in setMonitoringData",
        ));
    }
    let request = SetVariableMonitoringRequest {
        custom_data: None,
        set_monitoring_data: monitors.clone(),
    };
    let response = csms.request(station, &request, by).await?;
    let store = csms.store();
    // Results answer the request's items in order (N04.FR.11: same component/variable/type).
    for (i, result) in response.set_monitoring_result.iter().enumerate() {
        if result.status != SetMonitoringStatusEnumType::Accepted {
            continue;
        }
        let Some(id) = result.id else {
            tracing::warn!(%station, "an Accepted SetMonitoringResult without id: not kept");
            continue;
        };
        let asked = monitors.get(i);
        let value = asked
            .map(|m| m.value.to_f64().unwrap_or_default())
            .unwrap_or_default();
        let transaction = asked.and_then(|m| m.transaction).unwrap_or(false);
        store
            .put_variable_monitor(&monitor_record(station, id, result, value, transaction))
            .await?;
    }
    Ok(response.set_monitoring_result)
}

/// N06: clear monitors by id; those the station cleared are marked so.
pub async fn clear_variable_monitoring(
    csms: &Csms,
    station: &StationId,
    ids: Vec<i64>,
    by: &Requester,
) -> Result<Vec<ClearMonitoringResultType>, OpError> {
    csms.registered(station).await?;
    if ids.is_empty() {
        return Err(OpError::refused(
            "no_monitor_ids",
            "give the ids of the monitors to clear",
        ));
    }
    let request = ClearVariableMonitoringRequest {
        custom_data: None,
        id: ids,
    };
    let response = csms.request(station, &request, by).await?;
    let cleared: Vec<i64> = response
        .clear_monitoring_result
        .iter()
        .filter(|r| r.status == ClearMonitoringStatusEnumType::Accepted)
        .map(|r| r.id)
        .collect();
    if !cleared.is_empty() {
        csms.store()
            .clear_variable_monitors(station, &cleared, Utc::now())
            .await?;
    }
    Ok(response.clear_monitoring_result)
}

/// Whose data (N09/N10): exactly one of an idToken, a customer identifier or a certificate.
#[derive(Debug, Clone, PartialEq)]
pub enum Customer {
    IdToken(IdTokenType),
    Identifier(String),
    Certificate(CertificateHashDataType),
}

/// N09/N10: have the station report and/or clear what it keeps about a customer; the
/// NotifyCustomerInformation parts are assembled under the requestId.
pub async fn customer_information(
    csms: &Csms,
    station: &StationId,
    customer: Customer,
    report: bool,
    clear: bool,
    by: &Requester,
) -> Result<Sent<CustomerInformationStatusEnumType>, OpError> {
    csms.registered(station).await?;
    if !report && !clear {
        return Err(OpError::refused(
            "report_or_clear",
            "ask for a report, a clear, or both (report: true and/or clear: true)",
        ));
    }
    let allocated = tracked::allocate(csms, station, TrackedKind::CustomerInformation).await?;
    let request_id = allocated.id;
    let (id_token, customer_identifier, customer_certificate) = match customer {
        Customer::IdToken(t) => (Some(t), None, None),
        Customer::Identifier(c) => (None, Some(c), None),
        Customer::Certificate(c) => (None, None, Some(c)),
    };
    let request = CustomerInformationRequest {
        custom_data: None,
        customer_certificate,
        id_token,
        request_id,
        report,
        clear,
        customer_identifier,
    };
    let response = send_tracked(csms, station, allocated, &request, by, |r| {
        // Without a report, nothing follows the answer.
        let accepted = r.status == CustomerInformationStatusEnumType::Accepted;
        (r.status.as_str().to_string(), !(accepted && report))
    })
    .await?;
    Ok(Sent {
        request_id,
        status: response.status,
    })
}

/// A part under a tracked request with nothing but its message; callers fill in the rest.
pub(crate) fn part(
    station: &StationId,
    kind: TrackedKind,
    request_id: i64,
    data: String,
) -> TrackedPart {
    TrackedPart {
        station_id: station.clone(),
        kind,
        request_id,
        seq_no: None,
        tbc: false,
        status: None,
        final_status: false,
        data,
        received_at: Utc::now(),
    }
}
