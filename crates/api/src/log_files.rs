//! N01 log uploads to unicharge itself (`unicharge_csms::diagnostics::log_upload`), and the
//! uploaded files for operators.
//!
//! Stations upload to the URL their GetLog carried: `/files/logs/<station>/<requestId>/
//! <expires>/<token>` (optionally followed by `/<filename>`, as some stations append it), with
//! `PUT` or `POST`, the body being the file itself or a `multipart/form-data` form whose file
//! part is the log (what most stations send). No API key: the token is the credential. Answers:
//! 201 once the file is durable and recorded; 403 wrong or expired token; 404 no such GetLog;
//! 413 beyond `csms.log_upload_max_bytes`. FTP(S) upload targets are not served by unicharge:
//! give such a `remoteLocation` explicitly.
//!
//! Operators list them at `GET /api/v1/stations/{id}/log-files` and fetch one at
//! `GET /api/v1/log-files/{id}/content`.

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use unicharge_core::api_keys::ApiRole;
use unicharge_csms::diagnostics::log_upload::{self, LogSink, UploadRefused};
use unicharge_store::LogFileRecord;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::stations::{existing_station, Limit};
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/files/logs/{station}/{requestId}/{expires}/{token}",
            put(upload).post(upload),
        )
        .route(
            "/files/logs/{station}/{requestId}/{expires}/{token}/{filename}",
            put(upload_named).post(upload_named),
        )
        .route("/api/v1/stations/{id}/log-files", get(list_log_files))
        .route("/api/v1/log-files/{id}", get(get_log_file))
        .route("/api/v1/log-files/{id}/content", get(log_file_content))
}

/// A log file a station uploaded.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogFileView {
    pub id: i64,
    pub station_id: String,
    /// The GetLog it answers (see `…/stations/{id}/logs/{requestId}`).
    pub request_id: i64,
    /// The name the station gave it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    pub size: i64,
    /// Hex SHA-256 of the content as received.
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
}

impl From<LogFileRecord> for LogFileView {
    fn from(f: LogFileRecord) -> Self {
        LogFileView {
            id: f.id,
            station_id: f.station_id.to_string(),
            request_id: f.request_id,
            filename: f.filename,
            content_type: f.content_type,
            size: f.size,
            sha256: f.sha256,
            uploaded_at: f.uploaded_at,
        }
    }
}

/// Log files of a station, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogFileList {
    pub log_files: Vec<LogFileView>,
}

#[utoipa::path(get, path = "/api/v1/stations/{id}/log-files", tag = "diagnostics",
    params(("id" = String, Path, description = "Station id"), Limit),
    responses((status = 200, body = LogFileList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_log_files(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(limit): Query<Limit>,
) -> Result<Json<LogFileList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let files = state.store.log_files(&station, limit.get()).await?;
    Ok(Json(LogFileList {
        log_files: files.into_iter().map(LogFileView::from).collect(),
    }))
}

async fn one(state: &ApiState, id: i64) -> Result<LogFileRecord, ApiError> {
    state
        .store
        .log_file(id)
        .await?
        .ok_or_else(|| ApiError::not_found("unknown_log_file", format!("no log file {id}")))
}

#[utoipa::path(get, path = "/api/v1/log-files/{id}", tag = "diagnostics",
    params(("id" = i64, Path, description = "Log file id")),
    responses((status = 200, body = LogFileView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_log_file(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<LogFileView>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(one(&state, id).await?.into()))
}

/// The content of an uploaded log file, as the station sent it.
#[utoipa::path(get, path = "/api/v1/log-files/{id}/content", tag = "diagnostics",
    params(("id" = i64, Path, description = "Log file id")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn log_file_content(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let file = one(&state, id).await?;
    let path = log_upload::content_path(&state.csms, &file)?;
    let content = tokio::fs::read(&path).await.map_err(ApiError::internal)?;
    let name = file
        .filename
        .as_deref()
        .map(|n| n.replace(['"', '\\', '/'], "_"))
        .unwrap_or_else(|| format!("log-{id}"));
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, content.len())
        .header(header::ETAG, format!("\"{}\"", file.sha256))
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        )
        .body(Body::from(content))
        .map_err(ApiError::internal)
}

fn refused(e: UploadRefused) -> Response {
    let status = match e {
        UploadRefused::BadToken | UploadRefused::Expired => StatusCode::FORBIDDEN,
        UploadRefused::NotRequested | UploadRefused::NoFiles => StatusCode::NOT_FOUND,
        UploadRefused::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        UploadRefused::Malformed(_) => StatusCode::BAD_REQUEST,
        UploadRefused::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(error = %e, "log upload not stored");
    }
    (status, format!("{e}\n")).into_response()
}

/// What a station answers with after a stored upload.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    id: i64,
    size: i64,
    sha256: String,
}

async fn upload(
    State(state): State<ApiState>,
    Path((station, request_id, expires, token)): Path<(String, i64, i64, String)>,
    request: Request,
) -> Response {
    receive(state, station, request_id, expires, token, None, request).await
}

async fn upload_named(
    State(state): State<ApiState>,
    Path((station, request_id, expires, token, filename)): Path<(String, i64, i64, String, String)>,
    request: Request,
) -> Response {
    receive(
        state,
        station,
        request_id,
        expires,
        token,
        Some(filename),
        request,
    )
    .await
}

async fn receive(
    state: ApiState,
    station: String,
    request_id: i64,
    expires: i64,
    token: String,
    filename: Option<String>,
    request: Request,
) -> Response {
    let csms = &state.csms;
    let station_id =
        match log_upload::check_upload(csms, &station, request_id, expires, &token).await {
            Ok(s) => s,
            Err(e) => {
                tracing::info!(station = %unicharge_ocpp::peer_text::Bounded(&station),
                request_id, reason = %e, "log upload refused");
                return refused(e);
            }
        };
    let max = csms.config().log_upload_max_bytes;
    let headers = request.headers().clone();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let boundary = content_type
        .as_deref()
        .and_then(|ct| multer::parse_boundary(ct).ok());
    // A form carries a little more than the file (part headers, other fields).
    let allowed = match boundary {
        Some(_) => max.saturating_add(FORM_OVERHEAD),
        None => max,
    };
    if content_length(&headers).is_some_and(|n| n > allowed) {
        tracing::info!(station = %station_id, request_id, max, "log upload too large (Content-Length)");
        return refused(UploadRefused::TooLarge(max));
    }
    let mut sink = match LogSink::open(csms, station_id.clone(), request_id).await {
        Ok(s) => s,
        Err(e) => return refused(e),
    };
    let body = request.into_body().into_data_stream();
    let received = match boundary {
        Some(boundary) => receive_multipart(&mut sink, body, boundary, max)
            .await
            .map(|(name, ct)| (name.or(filename), ct)),
        None => receive_body(&mut sink, body)
            .await
            .map(|()| (filename, content_type)),
    };
    let (filename, content_type) = match received {
        Ok(r) => r,
        Err(e) => {
            sink.discard().await;
            tracing::info!(station = %station_id, request_id, reason = %e, "log upload failed");
            return refused(e);
        }
    };
    match sink.finish(csms, filename, content_type).await {
        Ok(file) => (
            StatusCode::CREATED,
            Json(Stored {
                id: file.id,
                size: file.size,
                sha256: file.sha256,
            }),
        )
            .into_response(),
        Err(e) => refused(e),
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

type BodyError = axum::Error;

/// What a multipart form may carry beyond the file itself.
const FORM_OVERHEAD: u64 = 64 << 10;

/// A plain body: the file itself.
async fn receive_body(
    sink: &mut LogSink,
    mut body: impl Stream<Item = Result<axum::body::Bytes, BodyError>> + Unpin,
) -> Result<(), UploadRefused> {
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|e| UploadRefused::Malformed(format!("upload interrupted: {e}")))?;
        sink.write(&chunk).await?;
    }
    Ok(())
}

/// A multipart/form-data form: the first part with a filename is the log; other fields are
/// read past. Returns the part's filename and content type.
async fn receive_multipart(
    sink: &mut LogSink,
    body: impl Stream<Item = Result<axum::body::Bytes, BodyError>> + Send + Unpin + 'static,
    boundary: String,
    max: u64,
) -> Result<(Option<String>, Option<String>), UploadRefused> {
    let too_large = |e: &multer::Error| {
        matches!(
            e,
            multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. }
        )
    };
    let constraints = multer::Constraints::new().size_limit(
        // The whole form may carry a little more than the file (headers, other fields).
        multer::SizeLimit::new().whole_stream(max.saturating_add(FORM_OVERHEAD)),
    );
    let mut form = multer::Multipart::with_constraints(body, boundary, constraints);
    let mut chosen: Option<(Option<String>, Option<String>)> = None;
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if too_large(&e) => return Err(UploadRefused::TooLarge(max)),
            Err(e) => return Err(UploadRefused::Malformed(format!("malformed form: {e}"))),
        };
        if chosen.is_some() || field.file_name().is_none() {
            continue;
        }
        let meta = (
            field.file_name().map(str::to_string),
            field.content_type().map(|m| m.to_string()),
        );
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => sink.write(&chunk).await?,
                Ok(None) => break,
                Err(e) if too_large(&e) => return Err(UploadRefused::TooLarge(max)),
                Err(e) => return Err(UploadRefused::Malformed(format!("upload interrupted: {e}"))),
            }
        }
        chosen = Some(meta);
    }
    chosen.ok_or_else(|| {
        UploadRefused::Malformed("the form has no file part (a part with a filename)".into())
    })
}
