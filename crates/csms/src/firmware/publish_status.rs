//! PublishFirmwareStatusNotification (L03): a local controller's progress publishing a
//! firmware file, tracked under the requestId of the PublishFirmware.

use chrono::Utc;
use unicharge_ocpp::v201::{
    PublishFirmwareStatusEnumType, PublishFirmwareStatusNotificationRequest,
    PublishFirmwareStatusNotificationResponse,
};
use unicharge_store::{StationNotice, TrackedKind, TrackedPart, Write};

use crate::dispatch::{internal, CallRefusal, Handled, StationContext};

pub async fn handle(
    ctx: &mut StationContext,
    req: PublishFirmwareStatusNotificationRequest,
) -> Result<Handled<PublishFirmwareStatusNotificationResponse>, CallRefusal> {
    use PublishFirmwareStatusEnumType as S;
    tracing::info!(station = %ctx.station_id, status = req.status.as_str(),
        request_id = ?req.request_id, "PublishFirmwareStatusNotification");
    let data = serde_json::to_string(&req).map_err(internal)?;
    let now = Utc::now();
    let mut writes = vec![Write::StationNotice(StationNotice {
        station_id: ctx.station_id.clone(),
        kind: "PublishFirmwareStatusNotification".into(),
        status: req.status.as_str().to_string(),
        request_id: req.request_id,
        data: data.clone(),
        received_at: now,
    })];
    if let Some(request_id) = req.request_id {
        let final_status = matches!(
            req.status,
            S::Published | S::DownloadFailed | S::InvalidChecksum | S::PublishFailed
        );
        writes.push(Write::TrackedPart(TrackedPart {
            station_id: ctx.station_id.clone(),
            kind: TrackedKind::PublishFirmware,
            request_id,
            seq_no: None,
            tbc: false,
            status: Some(req.status.as_str().to_string()),
            final_status,
            data,
            received_at: now,
        }));
    }
    Ok(Handled::durable(
        PublishFirmwareStatusNotificationResponse { custom_data: None },
        writes,
    ))
}
