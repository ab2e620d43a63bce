//! The "Improved security for OCPP 1.6-J" (edition 3) messages a charge point sends, answered
//! by the 2.0.1 security, diagnostics and firmware blocks they were modelled on: the whitepaper
//! took them from 2.0.1 nearly field for field.
//!
//! - SecurityEventNotification → A04 handler (stored, critical ones logged).
//! - SignCertificate → A02/A03 handler: the CSR is signed by the same CA and delivered with
//!   CertificateSigned (translated for 1.6 in [`super::outgoing`]). 1.6 signs only the charge
//!   point certificate (no certificateType).
//! - LogStatusNotification → N01 handler, SignedFirmwareStatusNotification → L01 handler,
//!   matched to the tracked GetLog / SignedUpdateFirmware by requestId.

use unicharge_ocpp::v16;
use unicharge_ocpp::v201::{self, FirmwareStatusEnumType, UploadLogStatusEnumType};

use super::convert::by_name;
use super::core_profile::map;
use crate::dispatch::{CallRefusal, Handled, StationContext};
use crate::{diagnostics, firmware, security};

pub async fn security_event_notification(
    ctx: &mut StationContext,
    req: v16::SecurityEventNotificationRequest,
) -> Result<Handled<v16::SecurityEventNotificationResponse>, CallRefusal> {
    let request = v201::SecurityEventNotificationRequest {
        custom_data: None,
        r#type: req.r#type,
        timestamp: req.timestamp,
        tech_info: req.tech_info,
    };
    let handled = security::security_event::handle(ctx, request).await?;
    Ok(map(handled, |_| v16::SecurityEventNotificationResponse {}))
}

pub async fn sign_certificate(
    ctx: &mut StationContext,
    req: v16::SignCertificateRequest,
) -> Result<Handled<v16::SignCertificateResponse>, CallRefusal> {
    let request = v201::SignCertificateRequest {
        custom_data: None,
        csr: req.csr,
        certificate_type: Some(v201::CertificateSigningUseEnumType::ChargingStationCertificate),
    };
    let handled = security::sign_certificate::handle(ctx, request).await?;
    let status = match handled.response.status {
        v201::GenericStatusEnumType::Accepted => v16::GenericStatusEnumType::Accepted,
        v201::GenericStatusEnumType::Rejected => v16::GenericStatusEnumType::Rejected,
    };
    Ok(map(handled, |_| v16::SignCertificateResponse { status }))
}

pub async fn log_status_notification(
    ctx: &mut StationContext,
    req: v16::LogStatusNotificationRequest,
) -> Result<Handled<v16::LogStatusNotificationResponse>, CallRefusal> {
    let status = by_name(&UploadLogStatusEnumType::ALL, req.status.as_str(), |s| {
        s.as_str()
    })
    .unwrap_or(UploadLogStatusEnumType::UploadFailure);
    let request = v201::LogStatusNotificationRequest {
        custom_data: None,
        status,
        request_id: req.request_id,
    };
    let handled = diagnostics::log_status::handle(ctx, request).await?;
    Ok(map(handled, |_| v16::LogStatusNotificationResponse {}))
}

pub async fn signed_firmware_status_notification(
    ctx: &mut StationContext,
    req: v16::SignedFirmwareStatusNotificationRequest,
) -> Result<Handled<v16::SignedFirmwareStatusNotificationResponse>, CallRefusal> {
    let status = by_name(&FirmwareStatusEnumType::ALL, req.status.as_str(), |s| {
        s.as_str()
    })
    .unwrap_or(FirmwareStatusEnumType::Idle);
    let request = v201::FirmwareStatusNotificationRequest {
        custom_data: None,
        status,
        request_id: req.request_id,
    };
    let handled = firmware::firmware_status::handle(ctx, request).await?;
    Ok(map(handled, |_| {
        v16::SignedFirmwareStatusNotificationResponse {}
    }))
}
