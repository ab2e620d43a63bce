//! Commands module, Receiver (CPO): START_SESSION and STOP_SESSION become the CSMS's typed
//! remote start / stop (`unicharge_csms::remote_control`, the same operation the operator API
//! uses, with `Requester::RoamingPartner`). The CommandResponse says whether we took the
//! command; the station's answer follows as a CommandResult POSTed to `response_url`.
//!
//! RESERVE_NOW and CANCEL_RESERVATION ([`reservation`]) become the CSMS's H01 / H02, and
//! UNLOCK_CONNECTOR ([`unlock`]) its F05, in the same way.

mod reservation;
mod unlock;

use axum::body::Bytes;
use axum::extract::{Path, State};
use unicharge_core::StationId;
use unicharge_csms::remote_control::{self as f, request_start::StartRequest};
use unicharge_csms::request::{OpError, Requester};
use unicharge_ocpi::commands::{
    Command, CommandError, CommandResponse, CommandResponseType, CommandResult, CommandResultType,
    CommandType, StartSession, StopSession,
};
use unicharge_ocpi::tokens::Token;
use unicharge_ocpi::types::DisplayText;
use unicharge_ocpp::v201::{IdTokenType, RequestStartStopStatusEnumType};
use unicharge_store::ocpi::{LocationRow, Party};

use crate::auth::{Caller, Registered};
use crate::locations::parse_evse_uid;
use crate::reply::{self, Answer, Reply};
use crate::{scope, sessions, tokens, Ocpi};

pub(crate) fn text(message: &str) -> Option<Vec<DisplayText>> {
    Some(vec![DisplayText {
        language: "en".into(),
        text: message.into(),
    }])
}

pub(crate) fn response(ocpi: &Ocpi, result: CommandResponseType, message: Option<&str>) -> Reply {
    Reply::ok(&CommandResponse {
        result,
        timeout: u32::try_from(ocpi.settings().command_timeout.as_secs()).unwrap_or(u32::MAX),
        message: message.and_then(text),
    })
}

pub async fn post(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, command)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    scope::version(&version)?;
    let kind: CommandType = command
        .parse()
        .unwrap_or(CommandType::Other(command.clone()));
    let command = match Command::from_body(&kind, &bytes) {
        Ok(c) => c,
        Err(CommandError::NotSupported(_)) => {
            return Ok(response(&ocpi, CommandResponseType::NotSupported, None))
        }
        Err(e @ CommandError::InvalidBody { .. }) => {
            return Err(Reply::invalid(reply::bounded(&e.to_string())))
        }
    };
    match command {
        Command::StartSession(s) => start_session(ocpi, caller, s).await,
        Command::StopSession(s) => stop_session(ocpi, caller, s).await,
        Command::ReserveNow(r) => reservation::reserve_now(ocpi, caller, r).await,
        Command::CancelReservation(c) => reservation::cancel(ocpi, caller, c).await,
        Command::UnlockConnector(u) => unlock::unlock_connector(ocpi, caller, u).await,
    }
}

/// The location `id` of one of the parties the caller is registered with (2003 otherwise: a
/// partner never learns that another party's location exists).
async fn location(ocpi: &Ocpi, caller: &Caller, id: &str) -> Result<LocationRow, Reply> {
    for party in &scope::visible_parties(caller)? {
        if let Some(row) = ocpi
            .ocpi_store()
            .ocpi_location(party, id)
            .await
            .map_err(Reply::server_error)?
        {
            return Ok(row);
        }
    }
    Err(Reply::unknown_location(format!(
        "no location {}",
        reply::bounded(id)
    )))
}

/// The eMSP may only vouch for tokens of the roles it registered.
fn token_of_partner(caller: &Caller, token: &Token) -> Result<(), Reply> {
    if scope::is_partner_party(
        &caller.partner,
        &Party::new(&token.country_code, &token.party_id),
    ) {
        Ok(())
    } else {
        Err(Reply::invalid(
            "the token's country_code / party_id is not one of the roles you registered",
        ))
    }
}

/// The station and EVSE an `evse_uid` of the location names: one the location publishes (a
/// connector of it has reported), 2003 otherwise.
async fn named_evse(
    ocpi: &Ocpi,
    location: &LocationRow,
    uid: &str,
) -> Result<(StationId, i64), Reply> {
    let unknown = || {
        Reply::unknown_location(format!(
            "location {} has no EVSE {}",
            location.id,
            reply::bounded(uid)
        ))
    };
    let (station, evse) = parse_evse_uid(uid, &location.stations).ok_or_else(unknown)?;
    let connectors = ocpi
        .csms()
        .store()
        .connectors(station)
        .await
        .map_err(Reply::server_error)?;
    if !connectors.iter().any(|c| c.evse_id == evse) {
        return Err(unknown());
    }
    Ok((station.clone(), evse))
}

/// [`named_evse`]; without an `evse_uid`, the location's only station (any EVSE of it).
async fn evse(
    ocpi: &Ocpi,
    location: &LocationRow,
    evse_uid: Option<&str>,
) -> Result<(StationId, Option<i64>), Reply> {
    match evse_uid {
        Some(uid) => named_evse(ocpi, location, uid)
            .await
            .map(|(station, evse)| (station, Some(evse))),
        None if location.stations.len() == 1 => Ok((location.stations[0].clone(), None)),
        None => Err(Reply::invalid(
            "evse_uid is required: the location has several stations",
        )),
    }
}

pub(crate) fn offline(ocpi: &Ocpi) -> Reply {
    response(
        ocpi,
        CommandResponseType::Rejected,
        Some("the charging station is offline"),
    )
}

/// The OCPP idToken of an OCPI token.
fn id_token(token: &Token) -> IdTokenType {
    IdTokenType {
        custom_data: None,
        additional_info: None,
        id_token: token.uid.clone(),
        r#type: tokens::ocpp_kind(&token.kind),
    }
}

pub(crate) fn requester(caller: &Caller) -> Requester {
    Requester::RoamingPartner {
        party: format!("ocpi-partner-{}", caller.partner.id),
    }
}

async fn start_session(ocpi: Ocpi, caller: Caller, s: StartSession) -> Answer {
    let location = location(&ocpi, &caller, &s.location_id).await?;
    token_of_partner(&caller, &s.token)?;
    let (station, evse_id) = evse(&ocpi, &location, s.evse_uid.as_deref()).await?;
    if !ocpi.csms().is_connected(&station) {
        return Ok(offline(&ocpi));
    }
    // The eMSP vouches for the token it starts a session with.
    tokens::accept(&ocpi, caller.partner.id, &s.token).await?;
    let id_token = id_token(&s.token);
    let by = requester(&caller);
    let task_ocpi = ocpi.clone();
    tokio::spawn(async move {
        let start = StartRequest {
            id_token,
            evse_id,
            group_id_token: None,
            charging_profile: None,
        };
        let result =
            match f::request_start::request_start(task_ocpi.csms(), &station, start, &by).await {
                Ok(r) if r.response.status == RequestStartStopStatusEnumType::Accepted => {
                    CommandResultType::Accepted
                }
                Ok(_) => CommandResultType::Rejected,
                Err(e) => failed(&e),
            };
        send_result(&task_ocpi, &caller, &s.response_url, result).await;
    });
    Ok(response(&ocpi, CommandResponseType::Accepted, None))
}

async fn stop_session(ocpi: Ocpi, caller: Caller, s: StopSession) -> Answer {
    let Ok(session) = sessions::find(&ocpi, &caller, &s.session_id).await else {
        return Ok(response(&ocpi, CommandResponseType::UnknownSession, None));
    };
    if session.tx.ended_at.is_some() {
        return Ok(response(
            &ocpi,
            CommandResponseType::Rejected,
            Some("the session has ended"),
        ));
    }
    let by = requester(&caller);
    let task_ocpi = ocpi.clone();
    tokio::spawn(async move {
        let result = match f::request_stop(
            task_ocpi.csms(),
            &session.station,
            session.tx.transaction_id.clone(),
            &by,
        )
        .await
        {
            Ok(r) if r.status == RequestStartStopStatusEnumType::Accepted => {
                CommandResultType::Accepted
            }
            Ok(_) => CommandResultType::Rejected,
            Err(e) => failed(&e),
        };
        send_result(&task_ocpi, &caller, &s.response_url, result).await;
    });
    Ok(response(&ocpi, CommandResponseType::Accepted, None))
}

/// An operation that got no answer from the station timed out; anything else failed.
pub(crate) fn failed(e: &OpError) -> CommandResultType {
    match e {
        OpError::Timeout { .. } => CommandResultType::Timeout,
        _ => CommandResultType::Failed,
    }
}

/// The CommandResult goes through the outbox (ADR 0038): retried with backoff until the
/// partner's `response_url` accepts it, instead of being lost when the eMSP is briefly down.
async fn send_result(ocpi: &Ocpi, caller: &Caller, url: &str, result: CommandResultType) {
    send_result_saying(ocpi, caller, url, result, None).await
}

/// [`send_result`] with a message for the driver or the helpdesk (why it was refused).
pub(crate) async fn send_result_saying(
    ocpi: &Ocpi,
    caller: &Caller,
    url: &str,
    result: CommandResultType,
    message: Option<&str>,
) {
    let body = CommandResult {
        result: result.clone(),
        message: message.and_then(text),
    };
    let Some(from) = caller.partner.parties.first().cloned() else {
        return;
    };
    let enqueued = match crate::push::json(&body) {
        Ok(body) => {
            let push = crate::push::Push {
                module: crate::outbox::COMMAND_RESULT,
                // A partner may reuse a response_url: each result is its own object.
                key: format!("command:{}", crate::secrets::new_token()),
                method: "POST",
                path: url.to_string(),
                body: Some(body),
                from,
                to: crate::push::partner_party(&caller.partner),
            };
            crate::push::enqueue(ocpi, &caller.partner, push).await
        }
        Err(e) => Err(e),
    };
    match enqueued {
        Ok(()) => {
            tracing::info!(partner = caller.partner.id, result = %result, "CommandResult queued")
        }
        Err(e) => {
            tracing::warn!(partner = caller.partner.id, error = %e.body, "CommandResult not queued")
        }
    }
}
