//! The 1.6 Firmware Management notifications a charge point sends: FirmwareStatusNotification
//! (1.6 section 4.5) and DiagnosticsStatusNotification (4.4), kept by the same handlers as
//! 2.0.1's FirmwareStatusNotification (L01) and LogStatusNotification (N01) as station notices.
//! 1.6 carries no requestId, so they are not matched to a tracked request.

use unicharge_ocpp::v16;
use unicharge_ocpp::v201::{self, FirmwareStatusEnumType, UploadLogStatusEnumType};

use super::convert::by_name;
use super::core_profile::map;
use crate::dispatch::{CallRefusal, Handled, StationContext};
use crate::{diagnostics, firmware};

/// FirmwareStatusNotification: the seven 1.6 statuses all have a 2.0.1 namesake.
pub async fn firmware_status_notification(
    ctx: &mut StationContext,
    req: v16::FirmwareStatusNotificationRequest,
) -> Result<Handled<v16::FirmwareStatusNotificationResponse>, CallRefusal> {
    let status = by_name(&FirmwareStatusEnumType::ALL, req.status.as_str(), |s| {
        s.as_str()
    })
    .unwrap_or(FirmwareStatusEnumType::Idle);
    let request = v201::FirmwareStatusNotificationRequest {
        custom_data: None,
        status,
        request_id: None,
    };
    let handled = firmware::firmware_status::handle(ctx, request).await?;
    Ok(map(handled, |_| v16::FirmwareStatusNotificationResponse {}))
}

/// DiagnosticsStatusNotification: a diagnostics upload is 2.0.1's log upload; `UploadFailed`
/// is `UploadFailure`.
pub async fn diagnostics_status_notification(
    ctx: &mut StationContext,
    req: v16::DiagnosticsStatusNotificationRequest,
) -> Result<Handled<v16::DiagnosticsStatusNotificationResponse>, CallRefusal> {
    let status = match req.status {
        v16::DiagnosticsStatus::Idle => UploadLogStatusEnumType::Idle,
        v16::DiagnosticsStatus::Uploaded => UploadLogStatusEnumType::Uploaded,
        v16::DiagnosticsStatus::UploadFailed => UploadLogStatusEnumType::UploadFailure,
        v16::DiagnosticsStatus::Uploading => UploadLogStatusEnumType::Uploading,
    };
    let request = v201::LogStatusNotificationRequest {
        custom_data: None,
        status,
        request_id: None,
    };
    let handled = diagnostics::log_status::handle(ctx, request).await?;
    Ok(map(handled, |_| {
        v16::DiagnosticsStatusNotificationResponse {}
    }))
}
