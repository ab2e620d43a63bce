//! LogStatusNotification (N01): the progress of a log upload, kept as a station notice
//! (`Idle` when no upload is going on, as a triggered notification reports).

use chrono::Utc;
use unicharge_ocpp::v201::{LogStatusNotificationRequest, LogStatusNotificationResponse};
use unicharge_store::{StationNotice, Write};

use crate::dispatch::{internal, CallRefusal, Handled, StationContext};

pub async fn handle(
    ctx: &mut StationContext,
    req: LogStatusNotificationRequest,
) -> Result<Handled<LogStatusNotificationResponse>, CallRefusal> {
    tracing::info!(station = %ctx.station_id, status = req.status.as_str(),
        request_id = ?req.request_id, "LogStatusNotification");
    Ok(Handled::durable(
        LogStatusNotificationResponse { custom_data: None },
        vec![Write::StationNotice(StationNotice {
            station_id: ctx.station_id.clone(),
            kind: "LogStatusNotification".into(),
            status: req.status.as_str().to_string(),
            request_id: req.request_id,
            data: serde_json::to_string(&req).map_err(internal)?,
            received_at: Utc::now(),
        })],
    ))
}
