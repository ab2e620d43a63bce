//! StatusNotification (G01): the status of one connector, kept per (EVSE, connector).

use unicharge_ocpp::v201::{StatusNotificationRequest, StatusNotificationResponse};
use unicharge_store::Write;

use crate::dispatch::{CallRefusal, Handled, StationContext};
use crate::facts::Fact;

pub async fn handle(
    ctx: &mut StationContext,
    req: StatusNotificationRequest,
) -> Result<Handled<StatusNotificationResponse>, CallRefusal> {
    tracing::debug!(station = %ctx.station_id, evse = req.evse_id, connector = req.connector_id,
        status = req.connector_status.as_str(), "StatusNotification");
    let fact = Fact::ConnectorStatusChanged {
        station: ctx.station_id.clone(),
        evse_id: req.evse_id,
        connector_id: req.connector_id,
        status: req.connector_status.as_str().to_string(),
    };
    Ok(Handled::durable(
        StatusNotificationResponse { custom_data: None },
        vec![Write::ConnectorStatus {
            station_id: ctx.station_id.clone(),
            evse_id: req.evse_id,
            connector_id: req.connector_id,
            status: req.connector_status.as_str().to_string(),
            at: req.timestamp,
        }],
    )
    .with_fact(fact))
}
