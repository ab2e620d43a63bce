//! B02 "Cold Boot Charging Station – Pending": while a station is Pending it may send only its
//! BootNotification and what the CSMS asked of it (B02.FR.09, enforced in [`crate::dispatch`]);
//! and, when configured, the CSMS provisions it before accepting it.
//!
//! With `boot_provisioning_report` set, a registered station that was never provisioned is
//! answered Pending at its boot. Once that answer is sent, the CSMS asks it for the configured
//! base report ([`crate::effects::Effect::RequestProvisioningReport`]); when the report is
//! complete (its last NotifyReport part), the station is marked provisioned and told to boot
//! again (TriggerMessage BootNotification), and that boot is Accepted. A station that refuses or
//! cannot deliver the report is not held back forever: it is marked provisioned with a warning,
//! and accepted.

use chrono::Utc;
use serde_json::Value;
use unicharge_core::StationId;
use unicharge_ocpp::v201::{
    Action, MessageTriggerEnumType, ReportBaseEnumType, TriggerMessageRequest,
};

use super::reports::{self, ReportRequest};
use crate::dispatch::StationContext;
use crate::request::Requester;
use crate::Csms;

/// True when this boot must be answered Pending for provisioning. Not for a 1.6 connection:
/// 1.6 has no device-model report to wait for (its configuration is read with
/// GetConfiguration), so it would stay Pending for ever.
pub fn pending(ctx: &StationContext, provisioned: bool) -> bool {
    ctx.registered
        && !provisioned
        && ctx.config.boot_provisioning_report.is_some()
        && ctx.version == unicharge_ocpp::OcppVersion::V201
}

/// What a station may send after the CSMS sent it `action` with `payload`: the triggered
/// message of a TriggerMessage, the notifications that report on a request.
pub fn solicited_by(action: Action, payload: &Value) -> Vec<Action> {
    match action {
        Action::TriggerMessage => {
            let Ok(request) = serde_json::from_value::<TriggerMessageRequest>(payload.clone())
            else {
                return Vec::new();
            };
            triggered(request.requested_message).into_iter().collect()
        }
        Action::GetBaseReport | Action::GetReport => vec![Action::NotifyReport],
        Action::GetMonitoringReport => vec![Action::NotifyMonitoringReport],
        Action::GetLog => vec![Action::LogStatusNotification],
        Action::UpdateFirmware => vec![Action::FirmwareStatusNotification],
        Action::PublishFirmware => vec![Action::PublishFirmwareStatusNotification],
        Action::CustomerInformation => vec![Action::NotifyCustomerInformation],
        Action::GetDisplayMessages => vec![Action::NotifyDisplayMessages],
        Action::GetChargingProfiles => vec![Action::ReportChargingProfiles],
        _ => Vec::new(),
    }
}

/// The action a TriggerMessage asks for.
fn triggered(message: MessageTriggerEnumType) -> Option<Action> {
    use MessageTriggerEnumType as M;
    Some(match message {
        M::BootNotification => Action::BootNotification,
        M::LogStatusNotification => Action::LogStatusNotification,
        M::FirmwareStatusNotification => Action::FirmwareStatusNotification,
        M::Heartbeat => Action::Heartbeat,
        M::MeterValues => Action::MeterValues,
        M::SignChargingStationCertificate | M::SignV2GCertificate | M::SignCombinedCertificate => {
            Action::SignCertificate
        }
        M::StatusNotification => Action::StatusNotification,
        M::TransactionEvent => Action::TransactionEvent,
        M::PublishFirmwareStatusNotification => Action::PublishFirmwareStatusNotification,
    })
}

/// After the Pending answer: request the provisioning report.
pub async fn request_report(csms: &Csms, station: &StationId) {
    let Some(base) = csms.config().boot_provisioning_report.clone() else {
        return;
    };
    let report_base =
        match serde_json::from_value::<ReportBaseEnumType>(Value::String(base.clone())) {
            Ok(base) => base,
            Err(_) => {
                tracing::error!(station = %station, report_base = %base,
                "boot_provisioning_report is not a ReportBase; accepting the station without it");
                finish(csms, station).await;
                return;
            }
        };
    tracing::info!(station = %station, report_base = %base, "provisioning: requesting the base report");
    let outcome = reports::request(
        csms,
        station,
        ReportRequest::Base(report_base),
        &Requester::Csms,
    )
    .await;
    match outcome {
        Ok(requested) if requested.status == "Accepted" => {}
        Ok(requested) => {
            tracing::warn!(station = %station, status = %requested.status,
                "provisioning report refused; accepting the station without it");
            finish(csms, station).await;
        }
        Err(e) => {
            tracing::warn!(station = %station,
                "provisioning report not delivered ({e}); accepting the station without it");
            finish(csms, station).await;
        }
    }
}

/// A report completed: if the station was waiting for provisioning, let it in.
pub async fn report_completed(csms: &Csms, station: &StationId) {
    if csms.config().boot_provisioning_report.is_none() {
        return;
    }
    let waiting = matches!(csms.store().get_station(station).await, Ok(Some(s)) if s.provisioned_at.is_none());
    if waiting {
        finish(csms, station).await;
    }
}

async fn finish(csms: &Csms, station: &StationId) {
    if let Err(e) = csms.store().set_provisioned(station, Utc::now()).await {
        tracing::error!(station = %station, error = %e, "could not record provisioning");
        return;
    }
    tracing::info!(station = %station, "provisioned; asking the station to boot again");
    let trigger = TriggerMessageRequest {
        custom_data: None,
        evse: None,
        requested_message: MessageTriggerEnumType::BootNotification,
    };
    if let Err(e) = csms.request(station, &trigger, &Requester::Csms).await {
        tracing::warn!(station = %station, "TriggerMessage BootNotification failed ({e}); the station is accepted at its next boot");
    }
}
