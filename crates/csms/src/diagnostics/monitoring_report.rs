//! NotifyMonitoringReport (N02): every part is kept under the requestId of the
//! GetMonitoringReport until the part with `tbc` false completes it, and each monitor it names
//! is kept as one the station holds.

use chrono::Utc;
use rust_decimal::prelude::ToPrimitive;
use unicharge_ocpp::v201::{NotifyMonitoringReportRequest, NotifyMonitoringReportResponse};
use unicharge_store::{TrackedKind, TrackedPart, VariableMonitorRecord, Write};

use crate::dispatch::{internal, CallRefusal, Handled, StationContext};

pub async fn handle(
    ctx: &mut StationContext,
    req: NotifyMonitoringReportRequest,
) -> Result<Handled<NotifyMonitoringReportResponse>, CallRefusal> {
    let tbc = req.tbc.unwrap_or(false);
    let monitors = req.monitor.as_deref().unwrap_or_default();
    tracing::debug!(station = %ctx.station_id, request_id = req.request_id, seq_no = req.seq_no,
        monitored = monitors.len(), tbc, "NotifyMonitoringReport");
    let now = Utc::now();
    let mut writes = vec![Write::TrackedPart(TrackedPart {
        seq_no: Some(req.seq_no),
        tbc,
        ..super::part(
            &ctx.station_id,
            TrackedKind::GetMonitoringReport,
            req.request_id,
            serde_json::to_string(&req).map_err(internal)?,
        )
    })];
    for data in monitors {
        let evse = data.component.evse.as_ref();
        for m in &data.variable_monitoring {
            writes.push(Write::VariableMonitor(VariableMonitorRecord {
                station_id: ctx.station_id.clone(),
                monitor_id: m.id,
                component: data.component.name.clone(),
                component_instance: data.component.instance.clone(),
                evse_id: evse.map(|e| e.id),
                connector_id: evse.and_then(|e| e.connector_id),
                variable: data.variable.name.clone(),
                variable_instance: data.variable.instance.clone(),
                monitor_type: m.r#type.as_str().to_string(),
                value: m.value.to_f64().unwrap_or_default(),
                severity: m.severity,
                transaction_only: m.transaction,
                origin: "report".into(),
                updated_at: now,
                cleared_at: None,
            }));
        }
    }
    Ok(Handled::durable(
        NotifyMonitoringReportResponse { custom_data: None },
        writes,
    ))
}
