//! Functional block L, Firmware management, both directions.
//!
//! - [`update_firmware`] (L01/L02): the CSMS allocates the requestId, keeps the request before it
//!   leaves (the first FirmwareStatusNotification may overtake the answer), adds the configured
//!   firmware-signing certificate (secure firmware update) and keeps the station's answer. A new
//!   update while one runs is sent as asked: the station answers `AcceptedCanceled` (it cancelled
//!   the running one, L01.FR.24 — which is then ended here as `Canceled`) or `Rejected` (it
//!   cannot cancel it, L01.FR.27 — the running one stays tracked).
//! - [`firmware_status`]: FirmwareStatusNotification, tracked per requestId.
//! - [`campaign`]: rollout campaigns, one firmware to many stations, as a client of
//!   [`update_firmware`].
//! - [`publish_firmware`] / [`unpublish_firmware`] (L03/L04): a local controller publishes a
//!   firmware file to the stations behind it; [`publish_status`] tracks its
//!   PublishFirmwareStatusNotifications.

pub mod campaign;
pub mod files;
pub mod firmware_status;
pub mod publish_status;

use chrono::{DateTime, Utc};
use unicharge_core::StationId;
use unicharge_ocpp::v201::{
    FirmwareType, PublishFirmwareRequest, PublishFirmwareResponse, UnpublishFirmwareRequest,
    UnpublishFirmwareResponse, UpdateFirmwareRequest, UpdateFirmwareResponse,
    UpdateFirmwareStatusEnumType,
};
use unicharge_store::{TrackedKind, TrackedPart, Write};

use crate::request::{OpError, Requester};
pub use crate::tracked::Sent;
use crate::tracked::{self, send_tracked};
use crate::Csms;

/// What to install (L01). The signing certificate comes from the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct FirmwareUpdate {
    /// URI the station downloads the firmware from; empty when `file` is given.
    pub location: String,
    /// A firmware file unicharge serves (its SHA-256): the location becomes a download URL for
    /// this station and request, and the signature the file's own.
    pub file: Option<String>,
    /// When to download; `None`: now.
    pub retrieve_date_time: Option<DateTime<Utc>>,
    /// When to install; `None`: as soon as downloaded and verified.
    pub install_date_time: Option<DateTime<Utc>>,
    pub retries: Option<i64>,
    pub retry_interval: Option<i64>,
    /// Base64 signature of the firmware file, made with the key of the signing certificate.
    pub signature: Option<String>,
}

/// The configured firmware-signing certificate (PEM text), if any.
pub fn signing_certificate(csms: &Csms) -> Result<Option<String>, OpError> {
    let Some((cert, _)) = &csms.config().firmware_signing else {
        return Ok(None);
    };
    let pem = std::fs::read_to_string(cert).map_err(|e| {
        OpError::refused(
            "firmware_signing_certificate_unreadable",
            format!(
                "the firmware-signing certificate {} cannot be read ({e}); fix \
                 csms.firmware_signing_cert",
                cert.display()
            ),
        )
    })?;
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(OpError::refused(
            "firmware_signing_certificate_not_pem",
            format!(
                "{} holds no PEM certificate; fix csms.firmware_signing_cert",
                cert.display()
            ),
        ));
    }
    Ok(Some(pem))
}

/// What the CSMS records in place of a station message when a new update cancelled a running
/// one (L01.FR.24: the station sends nothing more for the cancelled request).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct CanceledBy {
    /// The requestId of the update that replaced it.
    canceled_by: i64,
}

/// L01: ask the station to download and install firmware. See the module documentation.
pub async fn update_firmware(
    csms: &Csms,
    station: &StationId,
    update: FirmwareUpdate,
    by: &Requester,
) -> Result<Sent<UpdateFirmwareStatusEnumType>, OpError> {
    csms.registered(station).await?;
    let mut update = update;
    let served = match &update.file {
        Some(sha256) => Some(served_file(csms, sha256)?),
        None => None,
    };
    if let Some((file, _)) = &served {
        if update.signature.is_none() {
            update.signature = file.signature.clone();
        }
    } else if update.location.trim().is_empty() {
        return Err(OpError::refused(
            "firmware_location_missing",
            "give the firmware's location (the URI the station downloads it from), or the \
             id (SHA-256) of a firmware file unicharge serves",
        ));
    }
    let signing_certificate = signing_certificate(csms)?;
    if signing_certificate.is_some() && update.signature.is_none() {
        return Err(OpError::refused(
            "firmware_signature_missing",
            "a firmware-signing certificate is configured, so a secure update needs the \
             firmware's signature: give `signature` (Base64, made with the signing key)",
        ));
    }
    let store = csms.store();
    let allocated = tracked::allocate(csms, station, TrackedKind::UpdateFirmware).await?;
    let request_id = allocated.id;
    if let Some((file, files)) = &served {
        update.location = files.firmware_url(&file.sha256, station.as_str(), request_id)?;
    }
    let running: Vec<i64> = store
        .tracked_requests(station, TrackedKind::UpdateFirmware, 20)
        .await?
        .into_iter()
        .filter(|r| !r.complete)
        .map(|r| r.request_id)
        .collect();
    let request = UpdateFirmwareRequest {
        custom_data: None,
        retries: update.retries,
        retry_interval: update.retry_interval,
        request_id,
        firmware: FirmwareType {
            custom_data: None,
            location: update.location,
            retrieve_date_time: update.retrieve_date_time.unwrap_or_else(Utc::now),
            install_date_time: update.install_date_time,
            signing_certificate,
            signature: update.signature,
        },
    };
    let response: UpdateFirmwareResponse =
        send_tracked(csms, station, allocated, &request, by, |r| {
            let accepted = matches!(
                r.status,
                UpdateFirmwareStatusEnumType::Accepted
                    | UpdateFirmwareStatusEnumType::AcceptedCanceled
            );
            (r.status.as_str().to_string(), !accepted)
        })
        .await?;
    if response.status == UpdateFirmwareStatusEnumType::AcceptedCanceled && !running.is_empty() {
        // L01.FR.24: the station cancelled the update that ran; it sends nothing more for it.
        let now = Utc::now();
        let note = serde_json::to_string(&CanceledBy {
            canceled_by: request_id,
        })
        .map_err(|e| OpError::Store(e.to_string()))?;
        let writes = running
            .iter()
            .map(|id| {
                Write::TrackedPart(TrackedPart {
                    station_id: station.clone(),
                    kind: TrackedKind::UpdateFirmware,
                    request_id: *id,
                    seq_no: None,
                    tbc: false,
                    status: Some("Canceled".into()),
                    final_status: true,
                    data: note.clone(),
                    received_at: now,
                })
            })
            .collect();
        store.write(writes).await?;
        tracing::info!(%station, request_id, canceled = ?running,
            "firmware update replaced a running one (AcceptedCanceled)");
    }
    tracing::info!(%station, request_id, status = response.status.as_str(), "UpdateFirmware answered");
    Ok(Sent {
        request_id,
        status: response.status,
    })
}

/// A firmware file unicharge serves, by its SHA-256.
pub(crate) fn served_file<'a>(
    csms: &'a Csms,
    sha256: &str,
) -> Result<(files::FirmwareFile, &'a files::Files), OpError> {
    let files = csms.files().ok_or_else(|| {
        OpError::refused(
            "files_not_served",
            "this server keeps no files (no data directory configured)",
        )
    })?;
    match files.firmware(sha256)? {
        Some((file, _)) => Ok((file, files)),
        None => Err(OpError::NotFound {
            code: "unknown_firmware_file",
            message: format!("no firmware file {sha256}; upload it first (POST /api/v1/firmware)"),
        }),
    }
}

/// Keep a firmware file to serve (signed with the configured key, if any).
pub fn store_firmware(
    csms: &Csms,
    name: &str,
    content: &[u8],
) -> Result<files::FirmwareFile, OpError> {
    let files = csms.files().ok_or_else(|| {
        OpError::refused(
            "files_not_served",
            "this server keeps no files (no data directory configured)",
        )
    })?;
    if content.is_empty() {
        return Err(OpError::refused(
            "empty_firmware",
            "the firmware file is empty",
        ));
    }
    let key = csms
        .config()
        .firmware_signing
        .as_ref()
        .and_then(|(_, key)| key.as_deref());
    let file = files.put_firmware(name, content, key)?;
    tracing::info!(sha256 = %file.sha256, size = file.size, signed = file.signature.is_some(),
        "firmware file stored");
    Ok(file)
}

/// What a local controller should publish (L03).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmwarePublication {
    pub location: String,
    /// MD5 of the firmware file, 32 hex digits (what the stations behind it check).
    pub checksum: String,
    pub retries: Option<i64>,
    pub retry_interval: Option<i64>,
}

/// The MD5 checksum as OCPP's PublishFirmware wants it: 32 hex digits.
fn check_md5(checksum: &str) -> Result<(), OpError> {
    if checksum.len() == 32 && checksum.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(OpError::refused(
            "checksum_not_md5",
            format!("checksum {checksum:?}: give the firmware file's MD5 as 32 hex digits"),
        ))
    }
}

/// L03: ask a local controller to download a firmware file and publish it to its stations.
pub async fn publish_firmware(
    csms: &Csms,
    station: &StationId,
    publication: FirmwarePublication,
    by: &Requester,
) -> Result<Sent<String>, OpError> {
    csms.registered(station).await?;
    check_md5(&publication.checksum)?;
    let allocated = tracked::allocate(csms, station, TrackedKind::PublishFirmware).await?;
    let request_id = allocated.id;
    let request = PublishFirmwareRequest {
        custom_data: None,
        location: publication.location,
        retries: publication.retries,
        checksum: publication.checksum.to_ascii_lowercase(),
        request_id,
        retry_interval: publication.retry_interval,
    };
    let response: PublishFirmwareResponse =
        send_tracked(csms, station, allocated, &request, by, |r| {
            let status = r.status.as_str().to_string();
            let complete = status != "Accepted";
            (status, complete)
        })
        .await?;
    Ok(Sent {
        request_id,
        status: response.status.as_str().to_string(),
    })
}

/// L04: stop publishing the firmware file with this MD5 checksum.
pub async fn unpublish_firmware(
    csms: &Csms,
    station: &StationId,
    checksum: String,
    by: &Requester,
) -> Result<UnpublishFirmwareResponse, OpError> {
    csms.registered(station).await?;
    check_md5(&checksum)?;
    let request = UnpublishFirmwareRequest {
        custom_data: None,
        checksum: checksum.to_ascii_lowercase(),
    };
    csms.request(station, &request, by).await
}
