//! Commands module, Receiver (CPO): START_SESSION and STOP_SESSION become the CSMS's typed
//! remote start / stop (`unicharge_csms::remote_control`, the same operation the operator API
//! uses, with `Requester::RoamingPartner`). The CommandResponse says whether we took the
//! command; the station's answer follows as a CommandResult POSTed to `response_url`.
//!
//! RESERVE_NOW, CANCEL_RESERVATION and UNLOCK_CONNECTOR are answered NOT_SUPPORTED for now.

use axum::body::Bytes;
use axum::extract::{Path, State};
use unicharge_csms::remote_control::{self as f, request_start::StartRequest};
use unicharge_csms::request::{OpError, Requester};
use unicharge_ocpi::commands::{
    Command, CommandError, CommandResponse, CommandResponseType, CommandResult, CommandResultType,
    CommandType, StartSession, StopSession,
};
use unicharge_ocpi::types::DisplayText;
use unicharge_ocpp::v201::{IdTokenType, RequestStartStopStatusEnumType};
use unicharge_store::ocpi::Party;

use crate::auth::{Caller, Registered};
use crate::locations::parse_evse_uid;
use crate::reply::{self, Answer, Reply};
use crate::{scope, sessions, tokens, Ocpi};

fn text(message: &str) -> Option<Vec<DisplayText>> {
    Some(vec![DisplayText {
        language: "en".into(),
        text: message.into(),
    }])
}

fn response(ocpi: &Ocpi, result: CommandResponseType, message: Option<&str>) -> Reply {
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
        other => Ok(response(
            &ocpi,
            CommandResponseType::NotSupported,
            Some(&format!("{} is not supported yet", other.command_type())),
        )),
    }
}

fn requester(caller: &Caller) -> Requester {
    Requester::RoamingPartner {
        party: format!("ocpi-partner-{}", caller.partner.id),
    }
}

async fn start_session(ocpi: Ocpi, caller: Caller, s: StartSession) -> Answer {
    let parties = scope::visible_parties(&caller)?;
    let mut location = None;
    for party in &parties {
        if let Some(row) = ocpi
            .ocpi_store()
            .ocpi_location(party, &s.location_id)
            .await
            .map_err(Reply::server_error)?
        {
            location = Some(row);
            break;
        }
    }
    let location = location.ok_or_else(|| {
        Reply::unknown_location(format!("no location {}", reply::bounded(&s.location_id)))
    })?;
    if !scope::is_partner_party(
        &caller.partner,
        &Party::new(&s.token.country_code, &s.token.party_id),
    ) {
        return Err(Reply::invalid(
            "the token's country_code / party_id is not one of the roles you registered",
        ));
    }
    let (station, evse_id) = match &s.evse_uid {
        Some(uid) => {
            let (station, evse) = parse_evse_uid(uid, &location.stations).ok_or_else(|| {
                Reply::unknown_location(format!(
                    "location {} has no EVSE {}",
                    location.id,
                    reply::bounded(uid)
                ))
            })?;
            (station.clone(), Some(evse))
        }
        None if location.stations.len() == 1 => (location.stations[0].clone(), None),
        None => {
            return Err(Reply::invalid(
                "evse_uid is required: the location has several stations",
            ))
        }
    };
    if !ocpi.csms().is_connected(&station) {
        return Ok(response(
            &ocpi,
            CommandResponseType::Rejected,
            Some("the charging station is offline"),
        ));
    }
    // The eMSP vouches for the token it starts a session with.
    tokens::accept(&ocpi, caller.partner.id, &s.token).await?;
    let id_token = IdTokenType {
        custom_data: None,
        additional_info: None,
        id_token: s.token.uid.clone(),
        r#type: tokens::ocpp_kind(&s.token.kind),
    };
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

fn failed(e: &OpError) -> CommandResultType {
    match e {
        OpError::Timeout { .. } => CommandResultType::Timeout,
        _ => CommandResultType::Failed,
    }
}

/// The CommandResult goes through the outbox (ADR 0038): retried with backoff until the
/// partner's `response_url` accepts it, instead of being lost when the eMSP is briefly down.
async fn send_result(ocpi: &Ocpi, caller: &Caller, url: &str, result: CommandResultType) {
    let body = CommandResult {
        result: result.clone(),
        message: None,
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
