//! ChargingProfiles module, Receiver (CPO), 2.2.1 / 2.3.0 §mod_charging_profiles: an eMSP (or
//! SCSP) sets, reads and clears the charging profile of one of its running sessions. Each
//! call becomes the CSMS's typed block-K operation on the session's EVSE, with
//! `Requester::RoamingPartner` (the same operations the operator API uses, so the K01 checks
//! apply and the CSMS keeps every profile it sent):
//!
//! * `GET {session_id}?duration=&response_url=` → K08 GetCompositeSchedule → an
//!   ActiveChargingProfileResult with the schedule the station computed;
//! * `PUT {session_id}` (SetChargingProfile) → K01 SetChargingProfile of a TxProfile for the
//!   session's transaction, limits in the unit the OCPI profile names → ChargingProfileResult;
//! * `DELETE {session_id}?response_url=` → K10 ClearChargingProfile of that TxProfile →
//!   ClearProfileResult.
//!
//! The ChargingProfileResponse says at once whether we took the request (ACCEPTED, or
//! UNKNOWN_SESSION for a session that is not the caller's — another party's session does not
//! exist for it —, REJECTED for an ended session or an offline station); the station's answer
//! follows through the outbox to `response_url`, retried until the partner takes it.
//!
//! OCPP 1.6 stations are covered too: the CSMS translates these 2.0.1 requests for them
//! (`unicharge_csms::v16::profiles`; 1.6 transaction ids are integers, as the TxProfile needs).

pub mod convert;
pub mod updates;

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use unicharge_csms::request::{OpError, Requester};
use unicharge_csms::smart_charging::{self as k, ClearRequest, ProfileRequest};
use unicharge_ocpi::charging_profiles::{
    ActiveChargingProfileResult, ChargingProfileResponse, ChargingProfileResponseType,
    ChargingProfileResult, ChargingProfileResultType, ClearProfileResult, SetChargingProfile,
};
use unicharge_ocpp::v201::{
    ChargingProfileStatusEnumType, ClearChargingProfileStatusEnumType, GenericStatusEnumType,
};

use crate::auth::{Caller, Registered};
use crate::reply::{self, Answer, Reply};
use crate::sessions::{self, Roamed};
use crate::{scope, Ocpi};
pub use convert::{
    active_profile, profile_id, tx_profile, ROAMING_PROFILE_ID_BASE, ROAMING_STACK_LEVEL,
};

/// The last accepted request per (session, kind), to answer TOO_OFTEN
/// (`ocpi.charging_profile_min_interval`). In memory: after a restart a partner may send one
/// request sooner, which costs one station call, not correctness.
#[derive(Default)]
pub struct Pace(std::sync::Mutex<std::collections::HashMap<(String, &'static str), Instant>>);

impl Pace {
    /// True (and the time kept) when a request of `kind` for `session` may go to the station.
    fn admit(&self, session: &str, kind: &'static str, min: Duration) -> bool {
        if min.is_zero() {
            return true;
        }
        let now = Instant::now();
        let mut last = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // Forget what no longer limits anything, so the map stays as small as the traffic.
        if last.len() > 10_000 {
            last.retain(|_, at| now.duration_since(*at) < min);
        }
        match last.get(&(session.to_string(), kind)) {
            Some(at) if now.duration_since(*at) < min => false,
            _ => {
                last.insert((session.to_string(), kind), now);
                true
            }
        }
    }
}

fn response(ocpi: &Ocpi, result: ChargingProfileResponseType) -> Reply {
    Reply::ok(&ChargingProfileResponse {
        result,
        timeout: u32::try_from(ocpi.settings().command_timeout.as_secs()).unwrap_or(u32::MAX),
    })
}

fn requester(caller: &Caller) -> Requester {
    Requester::RoamingPartner {
        party: format!("ocpi-partner-{}", caller.partner.id),
    }
}

/// The caller's running session on a connected station, not asked for `kind` too often, or
/// the answer that says why not.
async fn running(
    ocpi: &Ocpi,
    caller: &Caller,
    id: &str,
    kind: &'static str,
) -> Result<Roamed, Reply> {
    let session = match sessions::find(ocpi, caller, id).await {
        Ok(session) => session,
        Err(e) if e.http == axum::http::StatusCode::NOT_FOUND => {
            return Err(response(ocpi, ChargingProfileResponseType::UnknownSession))
        }
        // Our store failed: 3000, not a claim that the session does not exist.
        Err(e) => return Err(e),
    };
    if session.tx.ended_at.is_some() || !ocpi.csms().is_connected(&session.station) {
        tracing::info!(partner = caller.partner.id, session = %id,
            ended = session.tx.ended_at.is_some(), "OCPI charging profile request rejected");
        return Err(response(ocpi, ChargingProfileResponseType::Rejected));
    }
    let min = ocpi.settings().charging_profile_min_interval;
    if !ocpi.charging_profile_pace().admit(id, kind, min) {
        tracing::info!(partner = caller.partner.id, session = %id, kind,
            "OCPI charging profile request too often");
        return Err(response(ocpi, ChargingProfileResponseType::TooOften));
    }
    Ok(session)
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Result<&'a str, Reply> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Reply::invalid(format!("the {name} parameter is required")))
}

fn evse_id(session: &Roamed) -> i64 {
    session.tx.evse_id.unwrap_or(1).max(1)
}

/// `GET {chargingprofiles}/{session_id}?duration=&response_url=`.
pub async fn get(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, id)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Answer {
    scope::version(&version)?;
    let duration = param(&pairs, "duration")?;
    let duration: i64 = duration
        .parse()
        .ok()
        .filter(|d| *d > 0)
        .ok_or_else(|| Reply::invalid("duration: a positive number of seconds"))?;
    let url = param(&pairs, "response_url")?.to_string();
    let session = match running(&ocpi, &caller, &id, "GET").await {
        Ok(s) => s,
        Err(answer) => return Ok(answer),
    };
    let task = ocpi.clone();
    tokio::spawn(async move {
        let by = requester(&caller);
        let evse = evse_id(&session);
        let asked =
            k::get_composite_schedule(task.csms(), &session.station, evse, duration, None, &by)
                .await;
        let body = match asked {
            Ok((_, r)) if r.status == GenericStatusEnumType::Accepted => {
                ActiveChargingProfileResult {
                    result: ChargingProfileResultType::Accepted,
                    profile: r.schedule.as_ref().map(active_profile),
                }
            }
            Ok(_) => ActiveChargingProfileResult {
                result: ChargingProfileResultType::Rejected,
                profile: None,
            },
            Err(e) => {
                failed(&caller, "GetCompositeSchedule", &e);
                ActiveChargingProfileResult {
                    result: ChargingProfileResultType::Rejected,
                    profile: None,
                }
            }
        };
        send_result(&task, &caller, &url, &body).await;
    });
    Ok(response(&ocpi, ChargingProfileResponseType::Accepted))
}

/// `PUT {chargingprofiles}/{session_id}` with a SetChargingProfile.
pub async fn put(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    scope::version(&version)?;
    let set: SetChargingProfile = reply::body(&bytes, "SetChargingProfile")?;
    // Checked before the session: a malformed profile does not use up the session's turn.
    tx_profile(&set.charging_profile, &id, "")?;
    let session = match running(&ocpi, &caller, &id, "PUT").await {
        Ok(s) => s,
        Err(answer) => return Ok(answer),
    };
    let profile = tx_profile(&set.charging_profile, &id, &session.tx.transaction_id)?;
    let task = ocpi.clone();
    tokio::spawn(async move {
        let by = requester(&caller);
        let request = ProfileRequest {
            evse_id: evse_id(&session),
            profile,
            allow_without_transaction: false,
        };
        let result =
            match k::set_charging_profile(task.csms(), &session.station, request, &by).await {
                Ok(r) if r.status == ChargingProfileStatusEnumType::Accepted => {
                    ChargingProfileResultType::Accepted
                }
                Ok(_) => ChargingProfileResultType::Rejected,
                Err(e) => {
                    failed(&caller, "SetChargingProfile", &e);
                    ChargingProfileResultType::Rejected
                }
            };
        let body = ChargingProfileResult { result };
        send_result(&task, &caller, &set.response_url, &body).await;
    });
    Ok(response(&ocpi, ChargingProfileResponseType::Accepted))
}

/// `DELETE {chargingprofiles}/{session_id}?response_url=`: clears the TxProfile a PUT set.
pub async fn delete(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, id)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Answer {
    scope::version(&version)?;
    let url = param(&pairs, "response_url")?.to_string();
    let session = match running(&ocpi, &caller, &id, "DELETE").await {
        Ok(s) => s,
        Err(answer) => return Ok(answer),
    };
    let task = ocpi.clone();
    tokio::spawn(async move {
        let by = requester(&caller);
        let what = ClearRequest::Id(profile_id(&id));
        let result = match k::clear_charging_profile(task.csms(), &session.station, what, &by).await
        {
            Ok(r) if r.status == ClearChargingProfileStatusEnumType::Accepted => {
                ChargingProfileResultType::Accepted
            }
            Ok(_) => ChargingProfileResultType::Unknown,
            Err(e) => {
                failed(&caller, "ClearChargingProfile", &e);
                ChargingProfileResultType::Rejected
            }
        };
        send_result(&task, &caller, &url, &ClearProfileResult { result }).await;
    });
    Ok(response(&ocpi, ChargingProfileResponseType::Accepted))
}

fn failed(caller: &Caller, operation: &str, e: &OpError) {
    tracing::warn!(partner = caller.partner.id, operation, error = %e,
        "OCPI charging profile request failed at the station");
}

/// The result goes through the outbox (ADR 0038) to the partner's `response_url`, retried
/// with backoff, as CommandResults do.
async fn send_result<T: serde::Serialize>(ocpi: &Ocpi, caller: &Caller, url: &str, body: &T) {
    let Some(from) = caller.partner.parties.first().cloned() else {
        return;
    };
    let enqueued = match crate::push::json(body) {
        Ok(body) => {
            let push = crate::push::Push {
                module: crate::outbox::CHARGING_PROFILE_RESULT,
                key: format!("chargingprofile:{}", crate::secrets::new_token()),
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
        Ok(()) => tracing::info!(
            partner = caller.partner.id,
            "charging profile result queued"
        ),
        Err(e) => tracing::warn!(partner = caller.partner.id, error = %e.body,
            "charging profile result not queued"),
    }
}
