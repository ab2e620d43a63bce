//! N01 log uploads to unicharge itself.
//!
//! A GetLog sent without an operator-given `remoteLocation` carries an upload URL on
//! unicharge's own HTTP listener: `<public base>/files/logs/<station>/<requestId>/<expires>/
//! <token>`, where `expires` is a Unix time and the token an HMAC of the other parts under the
//! files key (the same keyed-token scheme as firmware downloads, ADR 0023): good for that
//! station and request only, until `expires`, with no table of tokens.
//!
//! An upload is accepted only for a GetLog the CSMS sent (and the station did not reject); it is
//! bounded (`csms.log_upload_max_bytes`), written to `<files>/logs/<station>/` readable by the
//! owner only (0600), fsynced and renamed into place, and its SHA-256 recorded in the store —
//! all before the station is answered 2xx.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use tokio::io::AsyncWriteExt;
use unicharge_core::StationId;
use unicharge_store::{LogFileRecord, TrackedKind};

use crate::firmware::files::Files;
use crate::request::OpError;
use crate::Csms;

/// The URL a station uploads the log of `request_id` to, valid until `expires`.
pub fn upload_url(
    files: &Files,
    station: &str,
    request_id: i64,
    expires: DateTime<Utc>,
) -> Result<String, OpError> {
    let base = files.public_base()?;
    let expires = expires.timestamp();
    let token = files.token(&[
        "log",
        station,
        &request_id.to_string(),
        &expires.to_string(),
    ]);
    Ok(format!(
        "{base}/files/logs/{station}/{request_id}/{expires}/{token}"
    ))
}

/// Why an upload is refused (mapped to HTTP by the API).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadRefused {
    /// Wrong token for these parts (HTTP 403).
    #[error("this upload URL was not issued by unicharge")]
    BadToken,
    /// The URL's validity ended (HTTP 403).
    #[error("this upload URL expired; ask for the log again (GetLog)")]
    Expired,
    /// No GetLog with this requestId was sent to the station, or it rejected it (HTTP 404).
    #[error("no log was requested from this station under this requestId")]
    NotRequested,
    /// More than `csms.log_upload_max_bytes` (HTTP 413).
    #[error("the log exceeds the {0}-byte limit (csms.log_upload_max_bytes)")]
    TooLarge(u64),
    /// A broken form or an interrupted body (HTTP 400).
    #[error("{0}")]
    Malformed(String),
    /// The files directory is not configured (HTTP 404).
    #[error("this server keeps no files")]
    NoFiles,
    /// Writing or recording failed (HTTP 500).
    #[error("the log could not be stored: {0}")]
    Storage(String),
}

/// Check an upload URL: token, expiry, and that a GetLog was sent under it and not rejected.
pub async fn check_upload(
    csms: &Csms,
    station: &str,
    request_id: i64,
    expires: i64,
    token: &str,
) -> Result<StationId, UploadRefused> {
    let files = csms.files().ok_or(UploadRefused::NoFiles)?;
    let parts = [
        "log",
        station,
        &request_id.to_string(),
        &expires.to_string(),
    ];
    if !files.check_token(&parts, token) {
        return Err(UploadRefused::BadToken);
    }
    if Utc::now().timestamp() > expires {
        return Err(UploadRefused::Expired);
    }
    let station: StationId = station.parse().map_err(|_| UploadRefused::BadToken)?;
    let tracked = csms
        .store()
        .tracked_request(&station, TrackedKind::GetLog, request_id)
        .await
        .map_err(|e| UploadRefused::Storage(e.to_string()))?;
    match tracked {
        Some((r, _)) if r.answer.as_deref() != Some("Rejected") => Ok(station),
        _ => Err(UploadRefused::NotRequested),
    }
}

/// An upload being received: bytes go to a private temporary file as they arrive, with their
/// SHA-256 and count; [`LogSink::finish`] makes it durable and records it.
pub struct LogSink {
    station: StationId,
    request_id: i64,
    file: tokio::fs::File,
    tmp: PathBuf,
    target: PathBuf,
    relative: String,
    hasher: openssl::sha::Sha256,
    size: u64,
    max: u64,
}

impl LogSink {
    /// Start receiving the log of a checked upload URL.
    pub async fn open(
        csms: &Csms,
        station: StationId,
        request_id: i64,
    ) -> Result<LogSink, UploadRefused> {
        let files = csms.files().ok_or(UploadRefused::NoFiles)?;
        let dir = files.dir().join("logs").join(station.as_str());
        create_private_dir(&dir)
            .await
            .map_err(|e| UploadRefused::Storage(format!("{}: {e}", dir.display())))?;
        let mut nonce = [0u8; 6];
        openssl::rand::rand_bytes(&mut nonce).map_err(|e| UploadRefused::Storage(e.to_string()))?;
        let name = format!(
            "{request_id}-{}-{}",
            Utc::now().format("%Y%m%dT%H%M%S"),
            hex::encode(nonce)
        );
        let target = dir.join(&name);
        let tmp = dir.join(format!("{name}.part"));
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let file = options
            .open(&tmp)
            .await
            .map_err(|e| UploadRefused::Storage(format!("{}: {e}", tmp.display())))?;
        Ok(LogSink {
            relative: format!("logs/{}/{name}", station.as_str()),
            station,
            request_id,
            file,
            tmp,
            target,
            hasher: openssl::sha::Sha256::new(),
            size: 0,
            max: csms.config().log_upload_max_bytes,
        })
    }

    /// Bytes received so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Append a chunk; beyond the limit the upload is refused (and the partial file removed).
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), UploadRefused> {
        self.size += chunk.len() as u64;
        if self.size > self.max {
            self.discard().await;
            return Err(UploadRefused::TooLarge(self.max));
        }
        self.hasher.update(chunk);
        self.file
            .write_all(chunk)
            .await
            .map_err(|e| UploadRefused::Storage(e.to_string()))
    }

    /// Throw the partial file away (refused or broken upload).
    pub async fn discard(&mut self) {
        let _ = tokio::fs::remove_file(&self.tmp).await;
    }

    /// fsync, rename into place, fsync the directory, record the file; returns the record.
    pub async fn finish(
        mut self,
        csms: &Csms,
        filename: Option<String>,
        content_type: Option<String>,
    ) -> Result<LogFileRecord, UploadRefused> {
        let storage = |e: std::io::Error| UploadRefused::Storage(e.to_string());
        self.file.flush().await.map_err(storage)?;
        self.file.sync_all().await.map_err(storage)?;
        tokio::fs::rename(&self.tmp, &self.target)
            .await
            .map_err(storage)?;
        if let Some(dir) = self.target.parent() {
            tokio::fs::File::open(dir)
                .await
                .map_err(storage)?
                .sync_all()
                .await
                .map_err(storage)?;
        }
        let sha256 = hex::encode(self.hasher.finish());
        let mut record = LogFileRecord {
            id: 0,
            station_id: self.station.clone(),
            request_id: self.request_id,
            filename: filename.map(|f| bounded_name(&f)),
            content_type: content_type.map(|c| bounded_name(&c)),
            size: self.size as i64,
            sha256,
            path: self.relative.clone(),
            uploaded_at: Utc::now(),
        };
        record.id = csms
            .store()
            .add_log_file(&record)
            .await
            .map_err(|e| UploadRefused::Storage(e.to_string()))?;
        tracing::info!(station = %self.station, request_id = self.request_id, id = record.id,
            size = record.size, sha256 = %record.sha256, "log file uploaded");
        Ok(record)
    }
}

/// A station-given name kept for operators: at most 200 characters, no control characters.
fn bounded_name(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(200).collect()
}

async fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = tokio::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir).await
}

/// Where an uploaded log file's content is.
pub fn content_path(csms: &Csms, file: &LogFileRecord) -> Result<PathBuf, OpError> {
    let files = csms.files().ok_or_else(|| {
        OpError::refused(
            "files_not_served",
            "this server keeps no files (no data directory configured)",
        )
    })?;
    if file.path.split('/').any(|p| p == ".." || p.is_empty()) {
        return Err(OpError::Store(format!("log file path {:?}", file.path)));
    }
    Ok(files.dir().join(&file.path))
}
