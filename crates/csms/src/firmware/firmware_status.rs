//! FirmwareStatusNotification (L01): the progress of a firmware update, kept as a station
//! notice (`Idle` when nothing is going on, as a triggered notification reports) and, when it
//! carries the requestId of an UpdateFirmware, as the latest status of that request.

use chrono::Utc;
use unicharge_ocpp::v201::{
    FirmwareStatusEnumType, FirmwareStatusNotificationRequest, FirmwareStatusNotificationResponse,
};
use unicharge_store::{StationNotice, TrackedKind, TrackedPart, Write};

use crate::dispatch::{internal, CallRefusal, Handled, StationContext};

/// Statuses after which the station sends nothing more for the request.
pub fn is_final(status: FirmwareStatusEnumType) -> bool {
    use FirmwareStatusEnumType as S;
    matches!(
        status,
        S::Installed
            | S::InstallationFailed
            | S::InstallVerificationFailed
            | S::InvalidSignature
            | S::DownloadFailed
    )
}

pub async fn handle(
    ctx: &mut StationContext,
    req: FirmwareStatusNotificationRequest,
) -> Result<Handled<FirmwareStatusNotificationResponse>, CallRefusal> {
    tracing::info!(station = %ctx.station_id, status = req.status.as_str(),
        request_id = ?req.request_id, "FirmwareStatusNotification");
    let data = serde_json::to_string(&req).map_err(internal)?;
    let now = Utc::now();
    let mut writes = vec![Write::StationNotice(StationNotice {
        station_id: ctx.station_id.clone(),
        kind: "FirmwareStatusNotification".into(),
        status: req.status.as_str().to_string(),
        request_id: req.request_id,
        data: data.clone(),
        received_at: now,
    })];
    if let Some(request_id) = req.request_id {
        writes.push(Write::TrackedPart(TrackedPart {
            station_id: ctx.station_id.clone(),
            kind: TrackedKind::UpdateFirmware,
            request_id,
            seq_no: None,
            tbc: false,
            status: Some(req.status.as_str().to_string()),
            final_status: is_final(req.status),
            data,
            received_at: now,
        }));
    }
    Ok(Handled::durable(
        FirmwareStatusNotificationResponse { custom_data: None },
        writes,
    )
    .with_fact(crate::facts::Fact::FirmwareStatus {
        station: ctx.station_id.clone(),
        request_id: req.request_id,
        status: req.status.as_str().to_string(),
    }))
}
