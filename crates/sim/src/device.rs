//! A simulated station that *does* what blocks L and N ask, over real HTTP: it downloads the
//! firmware an UpdateFirmware points to and reports FirmwareStatusNotification as it goes, and
//! it uploads a log file to the location a GetLog gives (multipart/form-data, PUT or POST) and
//! reports LogStatusNotification. Tests and fleet runs use it to exercise unicharge's served
//! files, upload endpoint and rollout campaigns end to end.
//!
//! [`serve`] answers the CSMS's calls on a connected [`Station`] until the connection closes;
//! anything other than UpdateFirmware and GetLog is answered with a CALLERROR
//! (`NotImplemented`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use unicharge_ocpp::v201::{
    FirmwareStatusEnumType, FirmwareStatusNotificationRequest, GetLogRequest, GetLogResponse,
    LogStatusEnumType, LogStatusNotificationRequest, OcppRequest, UpdateFirmwareRequest,
    UpdateFirmwareResponse, UpdateFirmwareStatusEnumType, UploadLogStatusEnumType,
};
use unicharge_ocpp::{ErrorCode, Frame};

use crate::station::{SimError, Station};

/// How the station's firmware update ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirmwareOutcome {
    /// Download (checked against `expect_sha256`, if given), install: `Installed`.
    Install,
    /// The download fails: `Downloading`, `DownloadFailed`.
    DownloadFailed,
    /// Downloads, then the installation fails: … `Installing`, `InstallationFailed`.
    InstallationFailed,
    /// Answers UpdateFirmware `Rejected`.
    Reject,
}

/// How a log upload is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadStyle {
    /// POST multipart/form-data with one file part (what most stations do).
    Multipart,
    /// PUT with the file as the body.
    Put,
    /// POST with the file as the body.
    Post,
}

/// What the simulated station does when asked.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub firmware: FirmwareOutcome,
    /// Hex SHA-256 the downloaded firmware must have (else `DownloadFailed`).
    pub expect_sha256: Option<String>,
    /// The log file it uploads, and its name.
    pub log: Vec<u8>,
    pub log_name: String,
    pub upload: UploadStyle,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            firmware: FirmwareOutcome::Install,
            expect_sha256: None,
            log: b"2026-01-01T00:00:00Z simulated station log\n".to_vec(),
            log_name: "diagnostics.log".into(),
            upload: UploadStyle::Multipart,
        }
    }
}

/// What happened, for the test to check.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    /// Firmware updates in flight across every station sharing these counters (accepted, no
    /// final status sent yet), and the most ever seen at once.
    pub in_flight: Arc<AtomicUsize>,
    pub max_in_flight: Arc<AtomicUsize>,
    /// UpdateFirmware requests received.
    pub updates: Arc<AtomicUsize>,
}

/// Answer UpdateFirmware and GetLog until the connection closes. Returns the HTTP status of
/// each upload made (in order).
pub async fn serve(
    station: &mut Station,
    behaviour: &Behaviour,
    counters: &Counters,
) -> Result<Vec<u16>, SimError> {
    let http = reqwest::Client::new();
    let mut uploads = Vec::new();
    loop {
        let action = match station.next_call_action().await {
            Ok(a) => a,
            Err(SimError::Timeout(..)) => continue,
            Err(SimError::Closed) => return Ok(uploads),
            Err(e) => return Err(e),
        };
        if action == UpdateFirmwareRequest::ACTION.as_str() {
            let (id, request) = station.expect_call::<UpdateFirmwareRequest>().await?;
            update_firmware(station, &http, behaviour, counters, id, request).await?;
        } else if action == GetLogRequest::ACTION.as_str() {
            let (id, request) = station.expect_call::<GetLogRequest>().await?;
            uploads.push(get_log(station, &http, behaviour, id, request).await?);
        } else {
            let (id, _) = station.take_call()?;
            let frame = Frame::CallError {
                id,
                code: ErrorCode::NotImplemented,
                description: format!("the simulated device does not do {action}"),
                details: serde_json::json!({}),
            };
            station.send_text(&frame.to_text()).await?;
        }
    }
}

async fn firmware_status(
    station: &mut Station,
    request_id: i64,
    status: FirmwareStatusEnumType,
) -> Result<(), SimError> {
    station
        .call(&FirmwareStatusNotificationRequest {
            custom_data: None,
            status,
            request_id: Some(request_id),
        })
        .await
        .map(|_| ())
}

async fn update_firmware(
    station: &mut Station,
    http: &reqwest::Client,
    behaviour: &Behaviour,
    counters: &Counters,
    id: String,
    request: UpdateFirmwareRequest,
) -> Result<(), SimError> {
    use FirmwareStatusEnumType as S;
    counters.updates.fetch_add(1, Ordering::SeqCst);
    let status = if behaviour.firmware == FirmwareOutcome::Reject {
        UpdateFirmwareStatusEnumType::Rejected
    } else {
        UpdateFirmwareStatusEnumType::Accepted
    };
    station
        .respond::<UpdateFirmwareRequest>(
            &id,
            &UpdateFirmwareResponse {
                custom_data: None,
                status,
                status_info: None,
            },
        )
        .await?;
    if status == UpdateFirmwareStatusEnumType::Rejected {
        return Ok(());
    }
    let now = counters.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    counters.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let rid = request.request_id;
    let progress = async {
        firmware_status(station, rid, S::Downloading).await?;
        let downloaded = behaviour.firmware != FirmwareOutcome::DownloadFailed
            && download(http, &request.firmware.location, &behaviour.expect_sha256).await;
        if downloaded {
            firmware_status(station, rid, S::Downloaded).await?;
            firmware_status(station, rid, S::Installing).await?;
        }
        Ok::<_, SimError>(downloaded)
    }
    .await;
    // Counted out before the final status: once the CSMS sees it, the slot is free.
    counters.in_flight.fetch_sub(1, Ordering::SeqCst);
    let last = match (progress?, behaviour.firmware) {
        (false, _) => S::DownloadFailed,
        (true, FirmwareOutcome::InstallationFailed) => S::InstallationFailed,
        (true, _) => S::Installed,
    };
    firmware_status(station, rid, last).await
}

/// GET the firmware; true if it arrived (and has the expected SHA-256).
async fn download(http: &reqwest::Client, location: &str, expect: &Option<String>) -> bool {
    let Ok(response) = http.get(location).send().await else {
        return false;
    };
    if !response.status().is_success() {
        return false;
    }
    let Ok(bytes) = response.bytes().await else {
        return false;
    };
    match expect {
        Some(sha) => openssl::sha::sha256(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .eq_ignore_ascii_case(sha),
        None => true,
    }
}

async fn get_log(
    station: &mut Station,
    http: &reqwest::Client,
    behaviour: &Behaviour,
    id: String,
    request: GetLogRequest,
) -> Result<u16, SimError> {
    station
        .respond::<GetLogRequest>(
            &id,
            &GetLogResponse {
                custom_data: None,
                status: LogStatusEnumType::Accepted,
                status_info: None,
                filename: Some(behaviour.log_name.clone()),
            },
        )
        .await?;
    let rid = request.request_id;
    log_status(station, rid, UploadLogStatusEnumType::Uploading).await?;
    let code = upload_log(
        http,
        &request.log.remote_location,
        &behaviour.log_name,
        &behaviour.log,
        behaviour.upload,
    )
    .await
    .unwrap_or(0);
    let last = if (200..300).contains(&code) {
        UploadLogStatusEnumType::Uploaded
    } else {
        UploadLogStatusEnumType::UploadFailure
    };
    log_status(station, rid, last).await?;
    Ok(code)
}

async fn log_status(
    station: &mut Station,
    request_id: i64,
    status: UploadLogStatusEnumType,
) -> Result<(), SimError> {
    station
        .call(&LogStatusNotificationRequest {
            custom_data: None,
            status,
            request_id: Some(request_id),
        })
        .await
        .map(|_| ())
}

/// Upload `content` to `location` as a station would; returns the HTTP status code.
pub async fn upload_log(
    http: &reqwest::Client,
    location: &str,
    name: &str,
    content: &[u8],
    style: UploadStyle,
) -> Result<u16, reqwest::Error> {
    let request = match style {
        UploadStyle::Put => http.put(location).body(content.to_vec()),
        UploadStyle::Post => http
            .post(location)
            .header("Content-Type", "application/octet-stream")
            .body(content.to_vec()),
        UploadStyle::Multipart => {
            let boundary = format!("----unicharge-sim-{:016x}", rand::random::<u64>());
            http.post(location)
                .header(
                    "Content-Type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(multipart_body(&boundary, name, content))
        }
    };
    Ok(request.send().await?.status().as_u16())
}

/// A multipart/form-data body with one text field and one file part (RFC 7578).
pub fn multipart_body(boundary: &str, name: &str, content: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(content.len() + 512);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"station\"\r\n\r\nsim\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}
