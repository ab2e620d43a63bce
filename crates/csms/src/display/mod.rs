//! Functional block O, Display Message, CSMS side, both directions.
//!
//! What the CSMS starts (typed operations the REST API, the CLI and automation call):
//! O01/O02 [`set_display_message`] (checked before it is sent: a transaction the CSMS knows
//! is ongoing, an end after the start; an id is allocated when none is given; several languages
//! become one message per language, [`set_display_messages`]), O03/O04
//! [`get_display_messages`] (the NotifyDisplayMessages parts are assembled under the
//! CSMS-allocated requestId by [`notify_display_messages`]), O05 [`clear_display_message`].
//!
//! The CSMS keeps every message it sent, per station, with what the station answered, so it
//! knows what the station shows ([`unicharge_store::DisplayMessageRecord`]); [`shown`] says
//! whether a kept message is still on the station's display list (not cleared, not past its
//! end, its transaction not ended — O02: a transaction's messages go with it).

pub mod notify_display_messages;

use chrono::{DateTime, Utc};
use unicharge_core::StationId;
use unicharge_ocpp::v201::{
    ClearDisplayMessageRequest, ClearDisplayMessageResponse, ClearMessageStatusEnumType,
    ComponentType, DisplayMessageStatusEnumType, GetDisplayMessagesRequest,
    GetDisplayMessagesStatusEnumType, MessageContentType, MessageInfoType, MessagePriorityEnumType,
    MessageStateEnumType, SetDisplayMessageRequest, SetDisplayMessageResponse,
};
use unicharge_store::{DisplayMessageRecord, DisplayMessageReport, TransactionRecord};

use crate::request::{check_request, OpError, Requester};
use crate::Csms;

/// What to show (O01, O02). `id` `None`: the CSMS allocates one above every id it sent the
/// station.
#[derive(Debug, Clone, PartialEq)]
pub struct DisplayMessage {
    pub id: Option<i64>,
    pub priority: MessagePriorityEnumType,
    pub state: Option<MessageStateEnumType>,
    pub start_date_time: Option<DateTime<Utc>>,
    pub end_date_time: Option<DateTime<Utc>>,
    /// O02: shown during this transaction only (removed when it ends).
    pub transaction_id: Option<String>,
    /// The display to use, when the station has several.
    pub display: Option<ComponentType>,
    pub message: MessageContentType,
    /// Send a transactionId the CSMS does not know as ongoing at the station (the station will
    /// normally answer UnknownTransaction; TC_O_10 reads that answer).
    pub allow_unknown_transaction: bool,
}

/// The CSMS's answer to a set: the id used, and the station's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageSet {
    pub id: i64,
    pub response: SetDisplayMessageResponse,
}

fn json(value: &impl serde::Serialize) -> Result<String, OpError> {
    serde_json::to_string(value).map_err(|e| OpError::Store(e.to_string()))
}

/// Whether a transaction is ongoing as the CSMS knows it.
fn ongoing(t: &TransactionRecord) -> bool {
    t.ended_at.is_none() && t.station_forgot_at.is_none()
}

/// The checks before sending (a message that fails one is not sent).
async fn check(csms: &Csms, station: &StationId, m: &DisplayMessage) -> Result<(), OpError> {
    if let (Some(start), Some(end)) = (m.start_date_time, m.end_date_time) {
        if end <= start {
            return Err(OpError::refused(
                "end_before_start",
                format!("endDateTime {end} is not after startDateTime {start}: the message would never show"),
            ));
        }
    }
    if let Some(end) = m.end_date_time {
        if end <= Utc::now() {
            return Err(OpError::refused(
                "end_in_the_past",
                format!("endDateTime {end} has passed: the message would never show"),
            ));
        }
    }
    if let Some(tx) = &m.transaction_id {
        if !m.allow_unknown_transaction {
            let known = csms.store().transaction(station, tx).await?;
            if !known.as_ref().is_some_and(ongoing) {
                return Err(OpError::refused(
                    "transaction_not_ongoing",
                    format!(
                        "transaction {tx} is not ongoing at {station} as far as the CSMS knows; \
                         set allowUnknownTransaction to send it anyway"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The next free message id of the station: one above every id the CSMS sent it.
async fn next_id(csms: &Csms, station: &StationId) -> Result<i64, OpError> {
    let used = csms.store().display_messages(station).await?;
    Ok(used.iter().map(|m| m.message_id).max().unwrap_or(0) + 1)
}

/// O01/O02: check the message, keep it, send it and keep the station's answer.
pub async fn set_display_message(
    csms: &Csms,
    station: &StationId,
    m: DisplayMessage,
    by: &Requester,
) -> Result<MessageSet, OpError> {
    csms.registered(station).await?;
    check(csms, station, &m).await?;
    let id = match m.id {
        Some(id) => id,
        None => next_id(csms, station).await?,
    };
    send(csms, station, id, &m, &m.message, by).await
}

/// O01 with several languages: one message per language (OCPP 2.0.1 carries one language per
/// message), ids allocated one after the other unless `m.id` gives the first. Stops at the
/// first answer that is not Accepted (the rest would be refused alike); returns every answer.
pub async fn set_display_messages(
    csms: &Csms,
    station: &StationId,
    m: DisplayMessage,
    translations: Vec<MessageContentType>,
    by: &Requester,
) -> Result<Vec<MessageSet>, OpError> {
    csms.registered(station).await?;
    check(csms, station, &m).await?;
    let mut languages = Vec::new();
    for content in std::iter::once(&m.message).chain(&translations) {
        let language = content.language.clone();
        if language.is_none() && !translations.is_empty() {
            return Err(OpError::refused(
                "language_missing",
                "with several translations every message needs its language",
            ));
        }
        if languages.contains(&language) {
            return Err(OpError::refused(
                "language_twice",
                format!("language {language:?} is given twice"),
            ));
        }
        languages.push(language);
    }
    let mut id = match m.id {
        Some(id) => id,
        None => next_id(csms, station).await?,
    };
    let mut sets = Vec::new();
    for content in std::iter::once(&m.message).chain(&translations) {
        let set = send(csms, station, id, &m, content, by).await?;
        let accepted = set.response.status == DisplayMessageStatusEnumType::Accepted;
        sets.push(set);
        if !accepted {
            break;
        }
        id += 1;
    }
    Ok(sets)
}

async fn send(
    csms: &Csms,
    station: &StationId,
    id: i64,
    m: &DisplayMessage,
    content: &MessageContentType,
    by: &Requester,
) -> Result<MessageSet, OpError> {
    let request = SetDisplayMessageRequest {
        custom_data: None,
        message: MessageInfoType {
            custom_data: None,
            display: m.display.clone(),
            id,
            priority: m.priority,
            state: m.state,
            start_date_time: m.start_date_time,
            end_date_time: m.end_date_time,
            transaction_id: m.transaction_id.clone(),
            message: content.clone(),
        },
    };
    let payload = serde_json::to_value(&request).map_err(|e| OpError::Store(e.to_string()))?;
    check_request("SetDisplayMessage", &payload)?;
    if !csms.is_connected(station) {
        return Err(OpError::NotConnected(station.clone()));
    }
    let store = csms.store();
    store
        .put_display_message(&DisplayMessageRecord {
            station_id: station.clone(),
            message_id: id,
            priority: m.priority.as_str().to_string(),
            state: m.state.map(|s| s.as_str().to_string()),
            transaction_id: m.transaction_id.clone(),
            start_at: m.start_date_time,
            end_at: m.end_date_time,
            message: json(&request.message)?,
            status: "Requested".into(),
            status_info: None,
            sent_at: Utc::now(),
            answered_at: None,
            cleared_at: None,
        })
        .await?;
    match csms.request(station, &request, by).await {
        Ok(response) => {
            let info = response.status_info.as_ref().map(json).transpose()?;
            store
                .set_display_message_status(station, id, response.status.as_str(), info.as_deref())
                .await?;
            tracing::info!(%station, message_id = id, status = response.status.as_str(),
                "display message answered");
            Ok(MessageSet { id, response })
        }
        Err(e) => {
            store
                .set_display_message_status(station, id, e.label(), None)
                .await?;
            Err(e)
        }
    }
}

/// Which messages to ask for (O03: all, O04: by ids, priority and/or state).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageCriteria {
    pub ids: Option<Vec<i64>>,
    pub priority: Option<MessagePriorityEnumType>,
    pub state: Option<MessageStateEnumType>,
}

/// The requestId a GetDisplayMessages report is assembled under, and the station's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagesRequested {
    pub request_id: i64,
    /// `Accepted` (NotifyDisplayMessages follow) or `Unknown` (no message matches).
    pub status: String,
}

/// O03/O04: ask the station which messages it holds. The request is kept (and its requestId
/// allocated) before it leaves: the NotifyDisplayMessages parts may overtake the answer.
pub async fn get_display_messages(
    csms: &Csms,
    station: &StationId,
    criteria: MessageCriteria,
    by: &Requester,
) -> Result<MessagesRequested, OpError> {
    csms.registered(station).await?;
    if criteria.ids.as_ref().is_some_and(Vec::is_empty) {
        return Err(OpError::refused(
            "empty_id_list",
            "give at least one message id, or none to ask for every message",
        ));
    }
    let mut request = GetDisplayMessagesRequest {
        custom_data: None,
        id: criteria.ids,
        request_id: 0,
        priority: criteria.priority,
        state: criteria.state,
    };
    check_request(
        "GetDisplayMessages",
        &serde_json::to_value(&request).map_err(|e| OpError::Store(e.to_string()))?,
    )?;
    if !csms.is_connected(station) {
        return Err(OpError::NotConnected(station.clone()));
    }
    let store = csms.store();
    let request_id = store
        .create_display_message_report(&DisplayMessageReport {
            station_id: station.clone(),
            request_id: 0,
            // The criteria; the requestId is allocated by this very insert.
            request: {
                let mut criteria =
                    serde_json::to_value(&request).map_err(|e| OpError::Store(e.to_string()))?;
                if let Some(o) = criteria.as_object_mut() {
                    o.remove("requestId");
                }
                criteria.to_string()
            },
            status: None,
            complete: false,
            requested_at: Utc::now(),
        })
        .await?;
    request.request_id = request_id;
    let response = csms.request(station, &request, by).await?;
    let status = response.status.as_str().to_string();
    store
        .set_display_message_report_status(station, request_id, &status)
        .await?;
    if response.status == GetDisplayMessagesStatusEnumType::Unknown {
        tracing::info!(%station, request_id, "no display message matches at the station");
    }
    Ok(MessagesRequested { request_id, status })
}

/// O05: remove a message. Accepted or Unknown both mean the station does not hold it (any
/// more): the kept message is marked cleared either way. An id the CSMS never sent may be
/// asked for too (another system may have set it).
pub async fn clear_display_message(
    csms: &Csms,
    station: &StationId,
    id: i64,
    by: &Requester,
) -> Result<ClearDisplayMessageResponse, OpError> {
    csms.registered(station).await?;
    let request = ClearDisplayMessageRequest {
        custom_data: None,
        id,
    };
    let response = csms.request(station, &request, by).await?;
    let cleared = csms
        .store()
        .clear_display_message(station, id, Utc::now())
        .await?;
    if response.status == ClearMessageStatusEnumType::Unknown && cleared {
        tracing::info!(%station, message_id = id,
            "the station did not know a message the CSMS had sent it; marked cleared");
    }
    Ok(response)
}

/// Why a kept message is no longer on the station's list, if it is not.
pub fn gone(
    m: &DisplayMessageRecord,
    transaction: Option<&TransactionRecord>,
    now: DateTime<Utc>,
) -> Option<&'static str> {
    if m.cleared_at.is_some() {
        return Some("cleared");
    }
    if m.status != "Accepted" {
        return Some("not_accepted");
    }
    if m.end_at.is_some_and(|end| end <= now) {
        return Some("ended");
    }
    if m.transaction_id.is_some() && transaction.is_some_and(|t| !ongoing(t)) {
        return Some("transaction_ended");
    }
    None
}

/// A kept message with whether the station still shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptMessage {
    pub record: DisplayMessageRecord,
    /// `None`: on the station's list; else why not (`cleared`, `not_accepted`, `ended`,
    /// `transaction_ended`).
    pub gone: Option<&'static str>,
}

/// The messages the CSMS sent the station, with whether each is still shown.
pub async fn shown(csms: &Csms, station: &StationId) -> Result<Vec<KeptMessage>, OpError> {
    csms.registered(station).await?;
    let store = csms.store();
    let now = Utc::now();
    let mut kept = Vec::new();
    for record in store.display_messages(station).await? {
        let transaction = match &record.transaction_id {
            Some(tx) => store.transaction(station, tx).await?,
            None => None,
        };
        let gone = gone(&record, transaction.as_ref(), now);
        kept.push(KeptMessage { record, gone });
    }
    Ok(kept)
}
