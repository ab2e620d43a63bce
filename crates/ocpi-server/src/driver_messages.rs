//! Driver messages, a unicharge extension module (`unicharge_ocpi::driver_messages`), CPO
//! role, both directions:
//!
//! * B4.4, received: an eMSP asks us to show its driver a message at the EVSE during one of
//!   its sessions ([`post`]). It becomes the CSMS's O02 SetDisplayMessage bound to the
//!   session's transaction (so the station drops it when the transaction ends), one message per
//!   language; the station's answer comes back as a CommandResult through the outbox, as a
//!   command's does.
//! * B4.5, sent: our operator sends a message to the driver of a roaming session ([`send`]);
//!   it is pushed, through the outbox, to the eMSP whose token runs the session, if that eMSP
//!   publishes the module. A plain OCPI partner does not: the operator is told so (409).

use axum::body::Bytes;
use axum::extract::{Path, State};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use unicharge_core::StationId;
use unicharge_csms::display::{self as o, DisplayMessage};
use unicharge_csms::request::OpError;
use unicharge_ocpi::commands::{CommandResponseType, CommandResultType};
use unicharge_ocpi::driver_messages::{
    DriverMessage, DriverMessageRequest, MessagePriority, MODULE_ID,
};
use unicharge_ocpi::types::DisplayText;
use unicharge_ocpp::v201::{
    DisplayMessageStatusEnumType, MessageContentType, MessageFormatEnumType,
    MessagePriorityEnumType,
};

use crate::auth::Registered;
use crate::commands::{failed, offline, requester, response, send_result_saying};
use crate::operator::OperatorError;
use crate::outbox::receiver_url;
use crate::push::{self, Push};
use crate::reply::{self, Answer, Reply};
use crate::{scope, sessions, Ocpi};

/// OCPP 2.0.1 message content is at most 512 characters (MessageContentType.content).
const MAX_CONTENT: usize = 512;

fn content(text: &DisplayText) -> MessageContentType {
    MessageContentType {
        custom_data: None,
        format: MessageFormatEnumType::Utf8,
        language: Some(text.language.clone()).filter(|l| !l.is_empty()),
        content: text.text.clone(),
    }
}

fn priority(p: Option<&MessagePriority>) -> MessagePriorityEnumType {
    match p {
        Some(MessagePriority::AlwaysFront) => MessagePriorityEnumType::AlwaysFront,
        Some(MessagePriority::InFront) => MessagePriorityEnumType::InFront,
        _ => MessagePriorityEnumType::NormalCycle,
    }
}

/// The OCPI result of the station's answers (one per language): all Accepted is ACCEPTED.
fn shown(answers: &[o::MessageSet]) -> (CommandResultType, Option<&'static str>) {
    use DisplayMessageStatusEnumType as S;
    let refusal = answers
        .iter()
        .map(|a| &a.response.status)
        .find(|s| **s != S::Accepted);
    match refusal {
        None => (CommandResultType::Accepted, None),
        Some(S::NotSupportedMessageFormat | S::NotSupportedPriority | S::NotSupportedState) => (
            CommandResultType::NotSupported,
            Some("the station cannot show this message (format, priority or state)"),
        ),
        Some(S::UnknownTransaction) => (
            CommandResultType::Rejected,
            Some("the station no longer runs this session"),
        ),
        Some(_) => (CommandResultType::Rejected, None),
    }
}

/// `POST {drivermessages}/{session_id}` (B4.4).
pub async fn post(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, session_id)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    scope::version(&version)?;
    let request: DriverMessageRequest = reply::body(&bytes, "DriverMessageRequest")?;
    if request.message.is_empty() {
        return Err(Reply::invalid("message needs at least one DisplayText"));
    }
    if let Some(long) = request
        .message
        .iter()
        .find(|t| t.text.chars().count() > MAX_CONTENT)
    {
        return Err(Reply::invalid(format!(
            "a message ({}) is longer than the {MAX_CONTENT} characters a station shows",
            long.language
        )));
    }
    let Ok(session) = sessions::find(&ocpi, &caller, &session_id).await else {
        return Ok(response(&ocpi, CommandResponseType::UnknownSession, None));
    };
    if session.tx.ended_at.is_some() {
        return Ok(response(
            &ocpi,
            CommandResponseType::Rejected,
            Some("the session has ended"),
        ));
    }
    if !ocpi.csms().is_connected(&session.station) {
        return Ok(offline(&ocpi));
    }
    let by = requester(&caller);
    let task_ocpi = ocpi.clone();
    tokio::spawn(async move {
        let mut texts = request.message.iter().map(content);
        let first = texts.next().expect("checked: at least one text");
        let m = DisplayMessage {
            id: None,
            priority: priority(request.priority.as_ref()),
            state: None,
            start_date_time: None,
            end_date_time: request.display_until,
            transaction_id: Some(session.tx.transaction_id.clone()),
            display: None,
            message: first,
            allow_unknown_transaction: false,
        };
        let csms = task_ocpi.csms();
        let (result, message) =
            match o::set_display_messages(csms, &session.station, m, texts.collect(), &by).await {
                Ok(answers) => shown(&answers),
                Err(OpError::Refused { message, .. }) => {
                    tracing::info!(partner = caller.partner.id, station = %session.station,
                        reason = %message, "driver message refused");
                    (CommandResultType::Rejected, None)
                }
                Err(e) => (failed(&e), None),
            };
        send_result_saying(&task_ocpi, &caller, &request.response_url, result, message).await;
    });
    Ok(response(&ocpi, CommandResponseType::Accepted, None))
}

/// What [`send`] did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SentDriverMessage {
    /// The message's id (the same at every partner).
    pub id: String,
    /// The OCPI session id the partner knows the transaction by.
    pub session_id: String,
    /// The partners it was queued for (their outbox shows the delivery).
    pub partner_ids: Vec<i64>,
}

/// What the operator sends (B4.5).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PushRequest {
    pub station_id: StationId,
    pub transaction_id: String,
    /// The text in one or more languages.
    pub message: Vec<DisplayText>,
}

/// B4.5: queue the message for the driver of the transaction, to the eMSP whose token runs it.
pub async fn send(ocpi: &Ocpi, request: PushRequest) -> Result<SentDriverMessage, OperatorError> {
    let PushRequest {
        station_id,
        transaction_id,
        message,
    } = request;
    let (station, transaction_id) = (&station_id, transaction_id.as_str());
    if message.is_empty() {
        return Err(OperatorError::Invalid(
            "message needs at least one text".into(),
        ));
    }
    let store = ocpi.ocpi_store();
    let (party, _location) = store
        .ocpi_location_of_station(station)
        .await?
        .ok_or_else(|| OperatorError::NotFound(format!("an OCPI location of station {station}")))?;
    let tx = ocpi
        .store()
        .transaction(station, transaction_id)
        .await?
        .ok_or_else(|| {
            OperatorError::NotFound(format!("transaction {transaction_id} of {station}"))
        })?;
    let uid = tx.id_token.clone().ok_or_else(|| {
        OperatorError::Invalid(format!(
            "transaction {transaction_id} ran without an idToken: no eMSP to tell"
        ))
    })?;
    let session_id = sessions::session_id(station, transaction_id);
    let sent = DriverMessage {
        id: crate::secrets::new_token()[..24].to_string(),
        session_id: session_id.clone(),
        message,
        created_at: Utc::now(),
    };
    let body = push::json(&sent).map_err(OperatorError::from)?;
    let mut partner_ids = Vec::new();
    let mut plain = Vec::new();
    for partner in push::partners_of(ocpi, &party)
        .await
        .map_err(OperatorError::from)?
    {
        let owns = sessions::managed_token(ocpi, &partner, &uid)
            .await
            .map_err(OperatorError::from)?;
        let Some(token) = owns else { continue };
        if receiver_url(&partner, MODULE_ID).is_none() {
            plain.push(partner.name.clone());
            continue;
        }
        let to = Some(unicharge_store::ocpi::Party::new(
            &token.country_code,
            &token.party_id,
        ));
        push::enqueue(
            ocpi,
            &partner,
            Push {
                module: MODULE_ID,
                key: format!("drivermessage:{}", sent.id),
                method: "POST",
                path: format!("/{}/{}/{session_id}", party.country_code, party.party_id),
                body: Some(body.clone()),
                from: party.clone(),
                to,
            },
        )
        .await
        .map_err(OperatorError::from)?;
        partner_ids.push(partner.id);
    }
    if partner_ids.is_empty() {
        return Err(if plain.is_empty() {
            OperatorError::NotFound(format!(
                "a roaming partner whose token ({}) runs transaction {transaction_id}",
                reply::bounded(&uid)
            ))
        } else {
            OperatorError::Unsupported(format!(
                "{} does not publish the {MODULE_ID} extension module: it cannot receive \
                 driver messages (plain OCPI 2.2.1 / 2.3.0)",
                plain.join(", ")
            ))
        });
    }
    tracing::info!(station = %station, transaction = %transaction_id, partners = ?partner_ids,
        "driver message queued for the eMSP");
    Ok(SentDriverMessage {
        id: sent.id,
        session_id,
        partner_ids,
    })
}
