//! Block O: display messages — the HTTP mapping of `unicharge_csms::display`.
//!
//! Messages are checked before they are sent (a transaction the CSMS knows is ongoing, an end
//! after the start); a message that fails a check is answered 400 with the check's id as
//! `code`. What the CSMS sent, with the station's answers and whether each message is still
//! shown, and the assembled GetDisplayMessages reports are readable here.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use unicharge_core::api_keys::ApiRole;
use unicharge_csms::display::{self as o, DisplayMessage, MessageCriteria};
use unicharge_ocpp::v201::{
    ClearDisplayMessageResponse, ComponentType, MessageContentType, MessagePriorityEnumType,
    MessageStateEnumType,
};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiJson;
use crate::stations::{existing_station, station_id};
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v1/stations/{id}/display-messages",
            get(list_display_messages).post(set_display_message),
        )
        .route(
            "/api/v1/stations/{id}/display-messages/reports",
            post(get_display_messages),
        )
        .route(
            "/api/v1/stations/{id}/display-messages/reports/{requestId}",
            get(display_message_report),
        )
        .route(
            "/api/v1/stations/{id}/display-messages/{messageId}/clear",
            post(clear_display_message),
        )
}

fn json_text(text: Option<&str>) -> Option<Value> {
    text.and_then(|t| serde_json::from_str(t).ok())
}

/// A message to show (O01, O02): OCPP MessageInfoType without the id (given or allocated),
/// plus translations, each sent as a message of its own.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetDisplayMessageBody {
    /// The message id; omitted: the CSMS allocates one above every id it sent the station.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// `AlwaysFront`, `InFront` or `NormalCycle`.
    #[schema(value_type = String)]
    pub priority: MessagePriorityEnumType,
    /// Show only in this station state: `Charging`, `Faulted`, `Idle`, `Unavailable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub state: Option<MessageStateEnumType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date_time: Option<DateTime<Utc>>,
    /// O02: show during this transaction only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// OCPP ComponentType of the display, when the station has several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub display: Option<ComponentType>,
    /// OCPP MessageContentType: `format` (`ASCII`, `HTML`, `URI`, `UTF8`), `language`, `content`.
    #[schema(value_type = Object)]
    pub message: MessageContentType,
    /// The same message in other languages (each with its `language`), sent as the next ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub translations: Vec<MessageContentType>,
    /// Send a transactionId the CSMS does not know as ongoing (the station will normally
    /// answer UnknownTransaction). Default false: such a message is refused before sending.
    #[serde(default)]
    pub allow_unknown_transaction: bool,
}

/// One message sent and the station's answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageSetView {
    pub id: i64,
    /// `Accepted`, `Rejected`, `NotSupportedPriority`, `NotSupportedState`,
    /// `NotSupportedMessageFormat`, `UnknownTransaction`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub status_info: Option<Value>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagesSetView {
    /// One per language, in the order sent; sending stops at the first not Accepted.
    pub messages: Vec<MessageSetView>,
}

/// Check, send and keep a display message (O01/O02). 400 names the failed check.
#[utoipa::path(post, path = "/api/v1/stations/{id}/display-messages", tag = "display messages",
    params(("id" = String, Path, description = "Station id")), request_body = SetDisplayMessageBody,
    responses(
        (status = 200, body = MessagesSetView),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn set_display_message(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetDisplayMessageBody>,
) -> Result<Json<MessagesSetView>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    let message = DisplayMessage {
        id: body.id,
        priority: body.priority,
        state: body.state,
        start_date_time: body.start_date_time,
        end_date_time: body.end_date_time,
        transaction_id: body.transaction_id,
        display: body.display,
        message: body.message,
        allow_unknown_transaction: body.allow_unknown_transaction,
    };
    let sets =
        o::set_display_messages(&state.csms, &station, message, body.translations, &by).await?;
    Ok(Json(MessagesSetView {
        messages: sets
            .into_iter()
            .map(|s| MessageSetView {
                id: s.id,
                status: s.response.status.as_str().to_string(),
                status_info: s
                    .response
                    .status_info
                    .and_then(|i| serde_json::to_value(i).ok()),
            })
            .collect(),
    }))
}

/// A message the CSMS sent, with the station's answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DisplayMessageView {
    /// OCPP MessageInfoType as sent.
    #[schema(value_type = Object)]
    pub message: Value,
    /// `Requested` (no answer yet), the station's answer, or why there was none.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub status_info: Option<Value>,
    /// Whether the station still shows it (holds it, not past its end, its transaction not
    /// ended).
    pub shown: bool,
    /// Why not: `cleared`, `not_accepted`, `ended`, `transaction_ended`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone: Option<String>,
    pub sent_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub cleared_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DisplayMessageList {
    /// By message id, cleared ones too.
    pub messages: Vec<DisplayMessageView>,
}

/// The display messages the CSMS sent the station, with whether each is still shown.
#[utoipa::path(get, path = "/api/v1/stations/{id}/display-messages", tag = "display messages",
    params(("id" = String, Path, description = "Station id")),
    responses((status = 200, body = DisplayMessageList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_display_messages(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DisplayMessageList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let kept = o::shown(&state.csms, &station).await?;
    Ok(Json(DisplayMessageList {
        messages: kept
            .into_iter()
            .map(|k| DisplayMessageView {
                message: json_text(Some(&k.record.message)).unwrap_or_default(),
                status: k.record.status,
                status_info: json_text(k.record.status_info.as_deref()),
                shown: k.gone.is_none(),
                gone: k.gone.map(str::to_string),
                sent_at: k.record.sent_at,
                answered_at: k.record.answered_at,
                cleared_at: k.record.cleared_at,
            })
            .collect(),
    }))
}

/// Ask for the station's messages (O03: all; O04: by ids, priority and/or state).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetMessagesBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub priority: Option<MessagePriorityEnumType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub state: Option<MessageStateEnumType>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagesRequestedView {
    /// The report's id: read it at `display-messages/reports/{requestId}`.
    pub request_id: i64,
    /// `Accepted` (NotifyDisplayMessages follow) or `Unknown` (no message matches).
    pub status: String,
}

/// Send GetDisplayMessages; the NotifyDisplayMessages parts are assembled under the returned
/// requestId.
#[utoipa::path(post, path = "/api/v1/stations/{id}/display-messages/reports", tag = "display messages",
    params(("id" = String, Path, description = "Station id")), request_body = GetMessagesBody,
    responses(
        (status = 200, body = MessagesRequestedView),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn get_display_messages(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GetMessagesBody>,
) -> Result<Json<MessagesRequestedView>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    let requested = o::get_display_messages(
        &state.csms,
        &station,
        MessageCriteria {
            ids: body.id,
            priority: body.priority,
            state: body.state,
        },
        &by,
    )
    .await?;
    Ok(Json(MessagesRequestedView {
        request_id: requested.request_id,
        status: requested.status,
    }))
}

/// One NotifyDisplayMessages part.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageReportPartView {
    pub tbc: bool,
    /// OCPP MessageInfoType array.
    #[schema(value_type = Vec<Object>)]
    pub message_info: Value,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DisplayMessageReportView {
    pub request_id: i64,
    /// The GetDisplayMessagesRequest sent.
    #[schema(value_type = Object)]
    pub request: Value,
    pub status: Option<String>,
    pub complete: bool,
    pub requested_at: DateTime<Utc>,
    pub parts: Vec<MessageReportPartView>,
}

/// A GetDisplayMessages report with its parts in arrival order.
#[utoipa::path(get, path = "/api/v1/stations/{id}/display-messages/reports/{requestId}", tag = "display messages",
    params(("id" = String, Path, description = "Station id"), ("requestId" = i64, Path, description = "The report's requestId")),
    responses((status = 200, body = DisplayMessageReportView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn display_message_report(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, request_id)): Path<(String, i64)>,
) -> Result<Json<DisplayMessageReportView>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let Some((report, parts)) = state
        .store
        .display_message_report(&station, request_id)
        .await?
    else {
        return Err(ApiError::not_found(
            "unknown_report",
            format!("station {station} has no display message report {request_id}"),
        ));
    };
    Ok(Json(DisplayMessageReportView {
        request_id: report.request_id,
        request: json_text(Some(&report.request)).unwrap_or_default(),
        status: report.status,
        complete: report.complete,
        requested_at: report.requested_at,
        parts: parts
            .into_iter()
            .map(|p| MessageReportPartView {
                tbc: p.tbc,
                message_info: json_text(Some(&p.messages)).unwrap_or_default(),
                received_at: p.received_at,
            })
            .collect(),
    }))
}

/// Remove a message (O05). The station answers `Accepted` or `Unknown`; either way the CSMS
/// no longer counts it as shown.
#[utoipa::path(post, path = "/api/v1/stations/{id}/display-messages/{messageId}/clear", tag = "display messages",
    params(("id" = String, Path, description = "Station id"), ("messageId" = i64, Path, description = "The message id")),
    responses(
        (status = 200, description = "ClearDisplayMessageResponse", body = crate::remote_control::StatusAnswer),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn clear_display_message(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, message_id)): Path<(String, i64)>,
) -> Result<Json<ClearDisplayMessageResponse>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    Ok(Json(
        o::clear_display_message(&state.csms, &station, message_id, &by).await?,
    ))
}
