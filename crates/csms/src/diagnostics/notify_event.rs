//! NotifyEvent (N07, N08): each EventData is stored whole, with the fields operators filter on
//! (component, variable, value, trigger) in columns of their own.

use unicharge_ocpp::v201::{NotifyEventRequest, NotifyEventResponse};
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
