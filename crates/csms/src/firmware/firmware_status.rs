//! FirmwareStatusNotification (L01): the progress of a firmware update, kept as a station
//! notice (`Idle` when nothing is going on, as a triggered notification reports).

use chrono::Utc;
use unicharge_ocpp::v201::{FirmwareStatusNotificationRequest, FirmwareStatusNotificationResponse};
use unicharge_store::{StationNotice, Write};

use crate::dispatch::{internal, CallRefusal, Handled, StationContext};

pub async fn handle(
    ctx: &mut StationContext,
    req: FirmwareStatusNotificationRequest,
) -> Result<Handled<FirmwareStatusNotificationResponse>, CallRefusal> {
    tracing::info!(station = %ctx.station_id, status = req.status.as_str(),
        request_id = ?req.request_id, "FirmwareStatusNotification");
    Ok(Handled::durable(
        FirmwareStatusNotificationResponse { custom_data: None },
        vec![Write::StationNotice(StationNotice {
            station_id: ctx.station_id.clone(),
            kind: "FirmwareStatusNotification".into(),
            status: req.status.as_str().to_string(),
            request_id: req.request_id,
            data: serde_json::to_string(&req).map_err(internal)?,
            received_at: Utc::now(),
        })],
    ))
}
