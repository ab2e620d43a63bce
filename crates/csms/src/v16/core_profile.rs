//! The 1.6 Core profile messages a charge point sends outside transactions: BootNotification,
//! Heartbeat, StatusNotification, Authorize. Each is translated to the 2.0.1 request it
//! corresponds to and answered by that block's handler (registration rules, token store,
//! connector status): the 1.6 answer is the 2.0.1 answer translated back.

use chrono::Utc;
use unicharge_ocpp::v16;
use unicharge_ocpp::v201::{
    self, BootReasonEnumType, ChargingStationType, ConnectorStatusEnumType,
};

use super::convert;
use crate::dispatch::{CallRefusal, Handled, StationContext};
use crate::{authorization, availability, provisioning};

/// BootNotification (1.6 section 4.2): B01/B02/B03 of the core. 1.6 gives no boot reason;
/// `PowerUp` is recorded (reading taken: a 1.6 boot is a (re)start of the charge point).
pub async fn boot_notification(
    ctx: &mut StationContext,
    req: v16::BootNotificationRequest,
) -> Result<Handled<v16::BootNotificationResponse>, CallRefusal> {
    let request = v201::BootNotificationRequest {
        custom_data: None,
        charging_station: ChargingStationType {
            custom_data: None,
            // The charge point's own serial; the box's when only that is given.
            serial_number: req
                .charge_point_serial_number
                .or(req.charge_box_serial_number),
            model: req.charge_point_model,
            modem: None,
            vendor_name: req.charge_point_vendor,
            firmware_version: req.firmware_version,
        },
        reason: BootReasonEnumType::PowerUp,
    };
    let handled = provisioning::boot_notification::handle(ctx, request).await?;
    let status = match handled.response.status {
        v201::RegistrationStatusEnumType::Accepted => v16::RegistrationStatus::Accepted,
        v201::RegistrationStatusEnumType::Pending => v16::RegistrationStatus::Pending,
        v201::RegistrationStatusEnumType::Rejected => v16::RegistrationStatus::Rejected,
    };
    Ok(map(handled, |r| v16::BootNotificationResponse {
        status,
        current_time: r.current_time,
        interval: r.interval,
    }))
}

/// Heartbeat (1.6 section 4.6): the time, and the station noted alive.
pub async fn heartbeat(
    ctx: &mut StationContext,
    _req: v16::HeartbeatRequest,
) -> Result<Handled<v16::HeartbeatResponse>, CallRefusal> {
    let handled =
        availability::heartbeat::handle(ctx, v201::HeartbeatRequest { custom_data: None }).await?;
    Ok(map(handled, |r| v16::HeartbeatResponse {
        current_time: r.current_time,
    }))
}

/// StatusNotification (1.6 section 4.9). Connector 0 is the charge point (EVSE 0). The nine
/// 1.6 states fold into 2.0.1's five connector states: Preparing, Charging, SuspendedEV(SE)
/// and Finishing all mean a vehicle occupies the connector. The error code is logged. Charging,
/// SuspendedEV and SuspendedEVSE also move the connector's ongoing transaction's charging state
/// ([`super::transactions::charging_state_changed`]), so time-based tariffs price 1.6 sessions.
pub async fn status_notification(
    ctx: &mut StationContext,
    req: v16::StatusNotificationRequest,
) -> Result<Handled<v16::StatusNotificationResponse>, CallRefusal> {
    use v16::ChargePointStatus as S;
    let connector_status = match req.status {
        S::Available => ConnectorStatusEnumType::Available,
        S::Preparing | S::Charging | S::SuspendedEvse | S::SuspendedEv | S::Finishing => {
            ConnectorStatusEnumType::Occupied
        }
        S::Reserved => ConnectorStatusEnumType::Reserved,
        S::Unavailable => ConnectorStatusEnumType::Unavailable,
        S::Faulted => ConnectorStatusEnumType::Faulted,
    };
    if req.error_code != v16::ChargePointErrorCode::NoError {
        tracing::warn!(station = %ctx.station_id, connector = req.connector_id,
            error_code = req.error_code.as_str(), status = req.status.as_str(),
            "1.6 StatusNotification reports an error");
    }
    let evse = convert::evse(req.connector_id);
    let at = req.timestamp.unwrap_or_else(Utc::now);
    let request = v201::StatusNotificationRequest {
        custom_data: None,
        timestamp: at,
        connector_status,
        evse_id: evse.id,
        connector_id: evse.connector_id.unwrap_or(0),
    };
    let mut handled = availability::status_notification::handle(ctx, request).await?;
    // The charging state of the connector's transaction, committed with this answer.
    if let Some(event) =
        super::transactions::charging_state_changed(ctx, req.connector_id, req.status, at).await?
    {
        handled.writes.extend(event.writes);
        handled.facts.extend(event.facts);
        handled.effects.extend(event.effects);
    }
    Ok(map(handled, |_| v16::StatusNotificationResponse {}))
}

/// Authorize (1.6 section 4.1): the token store's answer as idTagInfo (group → parentIdTag).
pub async fn authorize(
    ctx: &mut StationContext,
    req: v16::AuthorizeRequest,
) -> Result<Handled<v16::AuthorizeResponse>, CallRefusal> {
    let id_token = convert::id_token(ctx, &req.id_tag).await?;
    let request = v201::AuthorizeRequest {
        custom_data: None,
        id_token,
        certificate: None,
        iso15118_certificate_hash_data: None,
    };
    let handled = authorization::authorize::handle(ctx, request).await?;
    let id_tag_info = convert::id_tag_info(&handled.response.id_token_info);
    Ok(map(handled, |_| v16::AuthorizeResponse { id_tag_info }))
}

/// A 2.0.1 handler's decision with its answer translated: the same writes, effects and facts.
pub fn map<A, B>(handled: Handled<A>, f: impl FnOnce(A) -> B) -> Handled<B> {
    Handled {
        response: f(handled.response),
        writes: handled.writes,
        remember: handled.remember,
        effects: handled.effects,
        facts: handled.facts,
    }
}

/// DataTransfer (1.6 section 4.3): routed by vendorId / messageId to the same registered
/// handlers as 2.0.1 (P02). 1.6 data is a string: it is handed over as a JSON string, and an
/// answer that is not a string is sent as its JSON text.
pub async fn data_transfer(
    ctx: &mut StationContext,
    req: v16::DataTransferRequest,
) -> Result<Handled<v16::DataTransferResponse>, CallRefusal> {
    let request = v201::DataTransferRequest {
        custom_data: None,
        message_id: req.message_id,
        data: req.data.map(serde_json::Value::String),
        vendor_id: req.vendor_id,
    };
    let handled = crate::data_transfer::incoming::handle(ctx, request).await?;
    let status = match handled.response.status {
        v201::DataTransferStatusEnumType::Accepted => v16::DataTransferStatus::Accepted,
        v201::DataTransferStatusEnumType::Rejected => v16::DataTransferStatus::Rejected,
        v201::DataTransferStatusEnumType::UnknownMessageId => {
            v16::DataTransferStatus::UnknownMessageId
        }
        v201::DataTransferStatusEnumType::UnknownVendorId => {
            v16::DataTransferStatus::UnknownVendorId
        }
    };
    Ok(map(handled, |r| v16::DataTransferResponse {
        status,
        data: r.data.map(|d| match d {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        }),
    }))
}
