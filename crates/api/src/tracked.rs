//! The view of a tracked request (blocks L and N): a request the CSMS sent under a requestId,
//! the station's answer, and what it sent under it since (statuses, report parts).

use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use unicharge_core::api_keys::ApiRole;
use unicharge_store::{TrackedKind, TrackedPart, TrackedRequest};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::stations::existing_station;
use crate::{ApiError, ApiState};

/// The requestId an operation was sent under, and the station's answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestSent {
    /// Follow the request at its `…/{requestId}` resource.
    pub request_id: i64,
    /// The station's answer (`Accepted`, `Rejected`, …).
    pub status: String,
}

/// One message the station sent under a request.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq_no: Option<i64>,
    pub tbc: bool,
    /// The OCPP message as received.
    #[schema(value_type = Object)]
    pub message: Value,
    pub received_at: DateTime<Utc>,
}

impl PartView {
    fn of(p: TrackedPart) -> Self {
        PartView {
            status: p.status,
            seq_no: p.seq_no,
            tbc: p.tbc,
            message: serde_json::from_str(&p.data).unwrap_or(Value::String(p.data)),
            received_at: p.received_at,
        }
    }
}

/// A tracked request.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrackedView {
    pub request_id: i64,
    /// The OCPP request sent.
    #[schema(value_type = Object)]
    pub request: Value,
    /// The station's answer, or why there was none; absent while unanswered.
    pub answer: Option<String>,
    /// The latest status the station notified under the requestId.
    pub status: Option<String>,
    /// Nothing more is expected under it.
    pub complete: bool,
    pub requested_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// In arrival order (only in the view of one request).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<PartView>,
}

impl TrackedView {
    pub fn of(r: TrackedRequest, parts: Vec<TrackedPart>) -> Self {
        TrackedView {
            request_id: r.request_id,
            request: serde_json::from_str(&r.request).unwrap_or_default(),
            answer: r.answer,
            status: r.status,
            complete: r.complete,
            requested_at: r.requested_at,
            updated_at: r.updated_at,
            parts: parts.into_iter().map(PartView::of).collect(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrackedList {
    /// Newest first.
    pub requests: Vec<TrackedView>,
}

pub(crate) async fn list(
    state: &ApiState,
    caller: &Caller,
    id: &str,
    kind: TrackedKind,
) -> Result<Json<TrackedList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(state, id).await?;
    let requests = state
        .store
        .tracked_requests(&station, kind, 100)
        .await?
        .into_iter()
        .map(|r| TrackedView::of(r, Vec::new()))
        .collect();
    Ok(Json(TrackedList { requests }))
}

pub(crate) async fn one(
    state: &ApiState,
    caller: &Caller,
    id: &str,
    kind: TrackedKind,
    request_id: i64,
) -> Result<Json<TrackedView>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(state, id).await?;
    match state
        .store
        .tracked_request(&station, kind, request_id)
        .await?
    {
        Some((r, parts)) => Ok(Json(TrackedView::of(r, parts))),
        None => Err(ApiError::not_found(
            "unknown_request",
            format!("station {id} has no {} request {request_id}", kind.as_str()),
        )),
    }
}
