//! Connecting and booting one load station, and the one-CALL exchange the load loop uses.

use std::time::Duration;

use chrono::Utc;
use unicharge_ocpp::v201::{
    ConnectorStatusEnumType, RegistrationStatusEnumType, StatusNotificationRequest,
};
use unicharge_ocpp::{v16, ErrorCode, Frame};

use super::stations::{Endpoint, StationCredentials};
use super::stats::{ErrorKind, Stats};
use crate::octt::states::boot_request;
use crate::station::{ConnectError, SimError, Station};

/// Connect and send BootNotification PowerUp; Ok only when the CSMS answers Accepted. Returns
/// the station and the heartbeat interval the CSMS gave. The error is a short reason to count
/// failures by (`HTTP 401`, `timeout`, `boot Rejected`, …).
pub async fn connect_and_boot(
    endpoint: &Endpoint,
    credentials: &StationCredentials,
) -> Result<(Station, Duration), String> {
    connect_and_boot_as(endpoint, credentials, false).await
}

/// [`connect_and_boot`] offering only `ocpp1.6` when `ocpp16` (a 1.6 BootNotification then).
pub async fn connect_and_boot_as(
    endpoint: &Endpoint,
    credentials: &StationCredentials,
    ocpp16: bool,
) -> Result<(Station, Duration), String> {
    let mut options = endpoint.options(credentials)?;
    if ocpp16 {
        options = options.ocpp16();
    }
    let mut station = Station::connect(&options).await.map_err(connect_reason)?;
    if ocpp16 {
        let boot = station
            .call16(&v16::BootNotificationRequest {
                charge_point_vendor: "Unicharge-Sim".into(),
                charge_point_model: "Load-1.6".into(),
                charge_point_serial_number: Some(credentials.id.chars().take(25).collect()),
                charge_box_serial_number: None,
                firmware_version: None,
                iccid: None,
                imsi: None,
                meter_type: None,
                meter_serial_number: None,
            })
            .await
            .map_err(|e| format!("boot: {}", sim_reason(&e)))?;
        if boot.status != v16::RegistrationStatus::Accepted {
            return Err(format!("boot {}", boot.status.as_str()));
        }
        return Ok((
            station,
            Duration::from_secs(u64::try_from(boot.interval).unwrap_or(0)),
        ));
    }
    let target = endpoint.target(credentials);
    let boot = station
        .call(&boot_request(&target))
        .await
        .map_err(|e| format!("boot: {}", sim_reason(&e)))?;
    if boot.status != RegistrationStatusEnumType::Accepted {
        return Err(format!("boot {}", boot.status.as_str()));
    }
    Ok((
        station,
        Duration::from_secs(u64::try_from(boot.interval).unwrap_or(0)),
    ))
}

/// Report the single connector Available, as a station does after booting.
pub async fn report_connector(station: &mut Station) -> Result<(), String> {
    if station.version() == unicharge_ocpp::OcppVersion::V16 {
        return station
            .call16(&v16::StatusNotificationRequest {
                connector_id: 1,
                error_code: v16::ChargePointErrorCode::NoError,
                info: None,
                status: v16::ChargePointStatus::Available,
                timestamp: Some(Utc::now()),
                vendor_id: None,
                vendor_error_code: None,
            })
            .await
            .map(|_| ())
            .map_err(|e| format!("StatusNotification: {}", sim_reason(&e)));
    }
    station
        .call(&StatusNotificationRequest {
            custom_data: None,
            timestamp: Utc::now(),
            connector_status: ConnectorStatusEnumType::Available,
            evse_id: 1,
            connector_id: 1,
        })
        .await
        .map(|_| ())
        .map_err(|e| format!("StatusNotification: {}", sim_reason(&e)))
}

fn connect_reason(e: ConnectError) -> String {
    match e {
        ConnectError::Http(status) => format!("HTTP {status}"),
        ConnectError::Timeout(_) => "connect timeout".into(),
        ConnectError::Tcp(_) => "TCP connect".into(),
        ConnectError::Tls(_) => "TLS handshake".into(),
        ConnectError::Url(e) => format!("URL: {e}"),
        ConnectError::WebSocket(_) => "WebSocket upgrade".into(),
        ConnectError::Subprotocol(_) => "subprotocol".into(),
    }
}

fn sim_reason(e: &SimError) -> String {
    match e {
        SimError::CallError { code, .. } => format!("CALLERROR {}", code.as_str()),
        SimError::Timeout(..) => "timeout".into(),
        SimError::Closed | SimError::Io(_) => "closed".into(),
        other => other.to_string().chars().take(80).collect(),
    }
}

/// Wait for the answer to CALL `id`; its payload. CALLs from the CSMS meanwhile are refused
/// with CALLERROR NotSupported (a load station implements none) and counted.
pub async fn await_answer(
    station: &mut Station,
    id: &str,
    stats: &std::cell::RefCell<Stats>,
) -> Result<serde_json::Value, ErrorKind> {
    loop {
        let text = match station.next_text("the answer").await {
            Ok(text) => text,
            Err(SimError::Timeout(..)) => return Err(ErrorKind::Timeout),
            Err(_) => return Err(ErrorKind::Closed),
        };
        match Frame::parse(&text) {
            Ok(Frame::CallResult { id: got, payload }) if got == id => return Ok(payload),
            Ok(Frame::CallError { id: got, code, .. }) if got == id => {
                return Err(ErrorKind::CallError(code))
            }
            Ok(Frame::Call { id: call, .. }) => {
                stats.borrow_mut().csms_call_refused();
                let refusal = Frame::call_error(&call, ErrorCode::NotSupported, "load station");
                if station.send_text(&refusal.to_text()).await.is_err() {
                    return Err(ErrorKind::Closed);
                }
            }
            _ => return Err(ErrorKind::Malformed),
        }
    }
}
