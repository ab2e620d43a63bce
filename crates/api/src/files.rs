//! Files unicharge serves itself: firmware uploaded by operators (`POST /api/v1/firmware`,
//! listed at `GET /api/v1/firmware`) and downloaded by stations from the per-request URL an
//! UpdateFirmware carries (`GET /files/firmware/<sha256>/<station>/<requestId>/<token>`).
//!
//! The download needs no API key — the token in the path is the credential, good for that
//! station and request only — and supports single byte ranges (`Range: bytes=a-b`, `a-`,
//! `-n`) so a station can resume an interrupted download. `ETag` is the file's SHA-256 and
//! `Digest` its SHA-256 in Base64, so the station can check what it got.

use std::io::{Read, Seek, SeekFrom};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use unicharge_core::api_keys::ApiRole;
use unicharge_csms::firmware::files::FirmwareFile;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::{ApiError, ApiState};

/// Largest firmware file accepted.
pub const MAX_FIRMWARE_BYTES: usize = 512 << 20;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v1/firmware",
            get(list_firmware)
                .post(upload_firmware)
                .layer(DefaultBodyLimit::max(MAX_FIRMWARE_BYTES)),
        )
        .route(
            "/files/firmware/{sha256}/{station}/{requestId}/{token}",
            get(download_firmware),
        )
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UploadQuery {
    /// The file's name, for operators (e.g. `station-fw-2.1.bin`).
    pub name: String,
}

/// Keep a firmware file to serve; the body is the file. Answered with its id (`sha256`),
/// MD5, size and — with a firmware-signing key configured — its signature.
#[utoipa::path(post, path = "/api/v1/firmware", tag = "firmware", params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody)))]
pub async fn upload_firmware(
    State(state): State<ApiState>,
    caller: Caller,
    Query(query): Query<UploadQuery>,
    body: Bytes,
) -> Result<Json<FirmwareFile>, ApiError> {
    caller.operator()?;
    let csms = state.csms.clone();
    let file = tokio::task::spawn_blocking(move || {
        unicharge_csms::firmware::store_firmware(&csms, &query.name, &body)
    })
    .await
    .map_err(|e| ApiError::bad_request("internal", e.to_string()))??;
    Ok(Json(file))
}

/// The firmware files kept, newest first.
#[utoipa::path(get, path = "/api/v1/firmware", tag = "firmware",
    responses((status = 200, body = [Object])))]
pub async fn list_firmware(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<FirmwareFile>>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    match state.csms.files() {
        Some(files) => Ok(Json(files.firmware_files()?)),
        None => Ok(Json(Vec::new())),
    }
}

/// A Range header that no byte of the file satisfies (answered 416).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

/// A single byte range of a `size`-byte file: `Ok(None)` for no (or an ignored multi-) range,
/// `Err(Unsatisfiable)` when unsatisfiable.
pub fn byte_range(header: Option<&str>, size: u64) -> Result<Option<(u64, u64)>, Unsatisfiable> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (start, end) = spec.split_once('-').ok_or(Unsatisfiable)?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", n) => {
            let n: u64 = n.parse().map_err(|_| Unsatisfiable)?;
            if n == 0 {
                return Err(Unsatisfiable);
            }
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        (a, "") => (
            a.parse().map_err(|_| Unsatisfiable)?,
            size.saturating_sub(1),
        ),
        (a, b) => {
            let a: u64 = a.parse().map_err(|_| Unsatisfiable)?;
            let b: u64 = b.parse().map_err(|_| Unsatisfiable)?;
            if b < a {
                return Err(Unsatisfiable);
            }
            (a, b.min(size.saturating_sub(1)))
        }
    };
    if size == 0 || start >= size {
        return Err(Unsatisfiable);
    }
    Ok(Some((start, end)))
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such file\n").into_response()
}

/// A station downloads a firmware file with the URL of its update.
pub async fn download_firmware(
    State(state): State<ApiState>,
    Path((sha256, station, request_id, token)): Path<(String, String, i64, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(files) = state.csms.files() else {
        return not_found();
    };
    if !files.firmware_token_ok(&sha256, &station, request_id, &token) {
        tracing::info!(station = %unicharge_ocpp::peer_text::Bounded(&station), request_id,
            "firmware download with a wrong token refused");
        return not_found();
    }
    let (file, path) = match files.firmware(&sha256) {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "firmware file unreadable");
            return (StatusCode::INTERNAL_SERVER_ERROR, "file unreadable\n").into_response();
        }
    };
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, start, end) = match byte_range(range, file.size) {
        Ok(None) => (StatusCode::OK, 0, file.size.saturating_sub(1)),
        Ok(Some((a, b))) => (StatusCode::PARTIAL_CONTENT, a, b),
        Err(Unsatisfiable) => {
            return (
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{}", file.size))],
            )
                .into_response()
        }
    };
    let len = if file.size == 0 { 0 } else { end - start + 1 };
    let content = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        let mut f = std::fs::File::open(&path)?;
        f.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::with_capacity(len as usize);
        f.take(len).read_to_end(&mut buf)?;
        Ok(buf)
    })
    .await;
    let content = match content {
        Ok(Ok(c)) => c,
        _ => return (StatusCode::INTERNAL_SERVER_ERROR, "file unreadable\n").into_response(),
    };
    tracing::info!(station = %station, request_id, sha256 = %file.sha256, start, bytes = len,
        "firmware download");
    let digest = {
        let raw = hex::decode(&file.sha256).unwrap_or_default();
        base64_std(&raw)
    };
    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, len)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, format!("\"{}\"", file.sha256))
        .header("Digest", format!("sha-256={digest}"));
    if status == StatusCode::PARTIAL_CONTENT {
        response = response.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{end}/{}", file.size),
        );
    }
    response
        .body(Body::from(content))
        .unwrap_or_else(|_| not_found())
}

/// Standard Base64 (with padding), without another dependency.
fn base64_std(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges() {
        assert_eq!(byte_range(None, 10), Ok(None));
        assert_eq!(byte_range(Some("bytes=0-3"), 10), Ok(Some((0, 3))));
        assert_eq!(byte_range(Some("bytes=4-"), 10), Ok(Some((4, 9))));
        assert_eq!(byte_range(Some("bytes=-3"), 10), Ok(Some((7, 9))));
        assert_eq!(byte_range(Some("bytes=8-100"), 10), Ok(Some((8, 9))));
        assert_eq!(byte_range(Some("bytes=10-"), 10), Err(Unsatisfiable));
        assert_eq!(byte_range(Some("bytes=5-2"), 10), Err(Unsatisfiable));
        assert_eq!(byte_range(Some("bytes=0-1,4-5"), 10), Ok(None));
        assert_eq!(byte_range(Some("bytes=x-"), 10), Err(Unsatisfiable));
    }

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64_std(b""), "");
        assert_eq!(base64_std(b"f"), "Zg==");
        assert_eq!(base64_std(b"fo"), "Zm8=");
        assert_eq!(base64_std(b"foobar"), "Zm9vYmFy");
    }
}
