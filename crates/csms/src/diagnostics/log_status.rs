//! LogStatusNotification (N01): the progress of a log upload, kept as a station notice
//! (`Idle` when no upload is going on, as a triggered notification reports) and, with a
//! requestId, as the latest status of that GetLog.

use chrono::Utc;
use unicharge_ocpp::v201::{
    LogStatusNotificationRequest, LogStatusNotificationResponse, UploadLogStatusEnumType,
};
use unicharge_store::{StationNotice, TrackedKind, TrackedPart, Write};

use crate::dispatch::{internal, CallRefusal, Handled, StationContext};

/// Statuses after which nothing more comes for the request.
pub fn is_final(status: UploadLogStatusEnumType) -> bool {
    !matches!(
        status,
        UploadLogStatusEnumType::Uploading | UploadLogStatusEnumType::Idle
    )
}

pub async fn handle(
    ctx: &mut StationContext,
    req: LogStatusNotificationRequest,
) -> Result<Handled<LogStatusNotificationResponse>, CallRefusal> {
    tracing::info!(station = %ctx.station_id, status = req.status.as_str(),
        request_id = ?req.request_id, "LogStatusNotification");
    let data = serde_json::to_string(&req).map_err(internal)?;
    let mut writes = vec![Write::StationNotice(StationNotice {
        station_id: ctx.station_id.clone(),
        kind: "LogStatusNotification".into(),
        status: req.status.as_str().to_string(),
        request_id: req.request_id,
        data: data.clone(),
        received_at: Utc::now(),
    })];
    if let Some(request_id) = req.request_id {
        writes.push(Write::TrackedPart(TrackedPart {
            status: Some(req.status.as_str().to_string()),
            final_status: is_final(req.status),
            ..super::part(&ctx.station_id, TrackedKind::GetLog, request_id, data)
        }));
    }
    Ok(Handled::durable(
        LogStatusNotificationResponse { custom_data: None },
        writes,
    ))
}
