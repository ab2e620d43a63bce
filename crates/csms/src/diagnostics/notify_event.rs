//! NotifyEvent (N07, N08): each EventData is stored whole, with the fields operators filter on
//! (component, variable, value, trigger) in columns of their own.

use unicharge_ocpp::v201::{EventDataType, NotifyEventRequest, NotifyEventResponse};
use unicharge_store::{EventRecord, Write};

use crate::dispatch::{internal, CallRefusal, Handled, StationContext};

pub async fn handle(
    ctx: &mut StationContext,
    req: NotifyEventRequest,
) -> Result<Handled<NotifyEventResponse>, CallRefusal> {
    let mut writes = Vec::with_capacity(req.event_data.len());
    for event in &req.event_data {
        let evse = event.component.evse.as_ref();
        writes.push(Write::Event(EventRecord {
            station_id: ctx.station_id.clone(),
            generated_at: req.generated_at,
            report_seq_no: req.seq_no,
            event_id: event.event_id,
            timestamp: event.timestamp,
            trigger: event.trigger.as_str().to_string(),
            event_notification_type: event.event_notification_type.as_str().to_string(),
            component: event.component.name.clone(),
            evse_id: evse.map(|e| e.id),
            connector_id: evse.and_then(|e| e.connector_id),
            variable: event.variable.name.clone(),
            actual_value: event.actual_value.clone(),
            cleared: event.cleared,
            data: serde_json::to_string(event).map_err(internal)?,
        }));
    }
    tracing::debug!(station = %ctx.station_id, events = writes.len(), seq_no = req.seq_no,
        "NotifyEvent");
    Ok(Handled::durable(
        NotifyEventResponse { custom_data: None },
        writes,
    ))
}

/// An event raised by a monitor (N07): what fired, the monitor that fired it and how severe
/// it is, as far as the CSMS knows the monitor.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub event: EventRecord,
    /// `variableMonitoringId` of the EventData.
    pub monitor_id: Option<i64>,
    /// The monitor, if the CSMS knows it (set by it, or reported by the station).
    pub monitor: Option<unicharge_store::VariableMonitorRecord>,
    /// 0 (Danger) … 9 (Debug), from the monitor; `None` when the monitor is unknown.
    pub severity: Option<i64>,
    pub cleared: bool,
}

/// The station's newest `limit` monitor events (trigger Alerting or Periodic, or a monitor type
/// named in `eventNotificationType`), newest first, each with its monitor.
pub async fn alerts(
    csms: &crate::Csms,
    station: &unicharge_core::StationId,
    limit: u32,
) -> Result<Vec<Alert>, crate::OpError> {
    csms.registered(station).await?;
    let store = csms.store();
    let monitors = store.variable_monitors(station).await?;
    let events = store.events(station, limit).await?;
    Ok(events
        .into_iter()
        .filter(|e| {
            matches!(e.trigger.as_str(), "Alerting" | "Periodic")
                || e.event_notification_type.ends_with("Monitor")
        })
        .map(|event| {
            // `data` is the EventDataType the station sent, stored whole.
            let monitor_id = serde_json::from_str::<EventDataType>(&event.data)
                .ok()
                .and_then(|d| d.variable_monitoring_id);
            let monitor = monitor_id
                .and_then(|id| monitors.iter().find(|m| m.monitor_id == id))
                .cloned();
            Alert {
                severity: monitor.as_ref().map(|m| m.severity),
                cleared: event.cleared.unwrap_or(false),
                monitor_id,
                monitor,
                event,
            }
        })
        .collect())
}
