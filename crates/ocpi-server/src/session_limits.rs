//! Session limits, a unicharge extension module (`unicharge_ocpi::session_limits`, ADR 0045),
//! CPO role: an eMSP caps one of its running sessions (B4.2, pre-paid: max cost, energy,
//! duration) and may give its driver's own tariff to show at the EVSE (B2.4).
//!
//! * [`put`] / [`get`] / [`delete`]: `{endpoint}/{session_id}`, only on the caller's own
//!   sessions (anyone else's is answered like one that does not exist). The limits are kept
//!   per (partner, session) in `ocpi_session_limits` (migration 0098, side RECEIVED).
//! * [`run`], the enforcer: on every transaction fact of the CSMS, when limits are set, and
//!   every `ocpi.session_limit_check`, it prices each watched session so far exactly as the
//!   CSMS prices its running cost (`unicharge_csms::transactions::cost::so_far`) and, at the
//!   first limit reached, shows the MSP's stop message at the EVSE (OCPP SetDisplayMessage) and
//!   stops the transaction with OCPP RequestStopTransaction — the remote stop of the operator
//!   API and of the STOP_SESSION command. A stop the station refused or could not receive is
//!   tried again at the next check; the CDR's `remark` names the limit.
//!
//! B2.4: a `driver_tariff` in the limits is shown at the EVSE for the session's transaction
//! (bound to it, so the station drops it when the session ends).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use chrono::Utc;
use rust_decimal::Decimal;
use tokio::sync::broadcast::error::RecvError;
use unicharge_core::StationId;
use unicharge_csms::display::{self as o, DisplayMessage};
use unicharge_csms::request::Requester;
use unicharge_csms::Fact;
use unicharge_ocpi::session_limits::{LimitKind, LimitStatus, SessionLimits, SessionLimitsState};
use unicharge_ocpi::transport::StatusCode;
use unicharge_ocpi::types::DisplayText;
use unicharge_ocpp::v201::{MessageContentType, MessageFormatEnumType, MessagePriorityEnumType};
use unicharge_store::ocpi_buc::SessionLimitRow;
use unicharge_store::records::TransactionRecord;

use crate::auth::Registered;
use crate::reply::{self, bounded, Answer, Reply};
use crate::sessions::{self, kwh, Roamed};
use crate::{scope, Ocpi};

pub const RECEIVED: &str = "RECEIVED";
pub const SENT: &str = "SENT";

/// How long the stop message stays on the display after the session was stopped.
const STOP_MESSAGE_FOR: chrono::Duration = chrono::Duration::minutes(5);

/// Wakes the enforcer: limits were set.
#[derive(Clone, Default)]
pub struct Wakeup(Arc<tokio::sync::Notify>);

/// What a session has used so far: cost incl. VAT (None: no tariff), its currency, kWh,
/// seconds since its start.
struct SoFar {
    cost: Option<Decimal>,
    currency: String,
    energy: Decimal,
    duration: i64,
}

async fn so_far(ocpi: &Ocpi, station: &StationId, tx: &TransactionRecord) -> Result<SoFar, Reply> {
    let until = tx.ended_at.unwrap_or_else(Utc::now);
    let (usage, cost) =
        unicharge_csms::transactions::cost::so_far(ocpi.store().as_ref(), station, tx, until)
            .await
            .map_err(|e| Reply::server_error(e.description))?;
    Ok(SoFar {
        currency: cost
            .as_ref()
            .map_or_else(|| ocpi.settings().currency.clone(), |c| c.currency.clone()),
        cost: cost.map(|c| c.total_incl_vat),
        energy: kwh(usage.energy_wh),
        duration: (until - tx.started_at).num_seconds().max(0),
    })
}

fn limits_of(row: &SessionLimitRow) -> Result<SessionLimits, Reply> {
    serde_json::from_str(&row.data).map_err(Reply::server_error)
}

fn state(row: &SessionLimitRow, limits: SessionLimits, now: SoFar) -> SessionLimitsState {
    let status = match (&row.reached, row.stop_result.as_deref()) {
        (Some(_), _) => LimitStatus::Reached,
        (None, Some("ENDED")) => LimitStatus::Ended,
        _ => LimitStatus::Armed,
    };
    SessionLimitsState {
        session_id: row.session_id.clone(),
        limits,
        status,
        reached: row.reached.as_deref().and_then(|r| r.parse().ok()),
        reached_at: row.reached_at,
        stop_result: row.stop_result.clone().filter(|r| r != "ENDED"),
        cost: now.cost,
        currency: now.currency,
        energy: now.energy,
        duration: now.duration,
    }
}

fn no_limits(session_id: &str) -> Reply {
    Reply::not_found_object(
        StatusCode::CLIENT_ERROR,
        format!("no limits on session {}", bounded(session_id)),
    )
}

/// `PUT {sessionlimits}/{session_id}`: set (replace) the limits of one of the caller's running
/// sessions.
pub async fn put(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, session_id)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    scope::version(&version)?;
    let limits: SessionLimits = reply::body(&bytes, "SessionLimits")?;
    limits.check().map_err(Reply::invalid)?;
    let session = sessions::find(&ocpi, &caller, &session_id).await?;
    if session.tx.ended_at.is_some() {
        return Err(Reply::invalid("the session has ended: nothing to limit"));
    }
    let store = ocpi.ocpi_store();
    let existing = store
        .ocpi_session_limit(caller.partner.id, RECEIVED, &session_id)
        .await
        .map_err(Reply::server_error)?;
    if let Some(reached) = existing.as_ref().and_then(|r| r.reached.clone()) {
        return Err(Reply::invalid(format!(
            "the {reached} limit was reached: the session is being stopped"
        )));
    }
    let now = so_far(&ocpi, &session.station, &session.tx).await?;
    if let Some(currency) = limits.currency.as_deref() {
        if !currency.eq_ignore_ascii_case(&now.currency) {
            return Err(Reply::invalid(format!(
                "max_cost is in {}: the session is priced in {}",
                bounded(currency),
                now.currency
            )));
        }
    }
    let tariff_changed = existing
        .as_ref()
        .and_then(|r| limits_of(r).ok())
        .is_none_or(|old| old.driver_tariff != limits.driver_tariff);
    let row = SessionLimitRow {
        partner_id: caller.partner.id,
        side: RECEIVED.into(),
        session_id: session_id.clone(),
        station_id: Some(session.station.clone()),
        transaction_id: Some(session.tx.transaction_id.clone()),
        data: serde_json::to_string(&limits).map_err(Reply::server_error)?,
        reached: None,
        reached_at: None,
        stop_requested_at: None,
        stop_result: None,
        last_updated: Utc::now(),
    };
    store
        .put_ocpi_session_limit(&row)
        .await
        .map_err(Reply::server_error)?;
    tracing::info!(partner = caller.partner.id, station = %session.station,
        transaction = %session.tx.transaction_id, max_cost = ?limits.max_cost,
        max_energy = ?limits.max_energy, max_duration = ?limits.max_duration,
        "OCPI session limits set");
    if tariff_changed && !limits.driver_tariff.is_empty() {
        show_driver_tariff(&ocpi, &session, &limits.driver_tariff, caller.partner.id);
    }
    ocpi.0.limits.0.notify_one();
    Ok(Reply::ok(&state(&row, limits, now)))
}

/// `GET {sessionlimits}/{session_id}`: the limits with what the session used so far.
pub async fn get(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, session_id)): Path<(String, String)>,
) -> Answer {
    scope::version(&version)?;
    let session = sessions::find(&ocpi, &caller, &session_id).await?;
    let row = ocpi
        .ocpi_store()
        .ocpi_session_limit(caller.partner.id, RECEIVED, &session_id)
        .await
        .map_err(Reply::server_error)?
        .ok_or_else(|| no_limits(&session_id))?;
    let now = so_far(&ocpi, &session.station, &session.tx).await?;
    Ok(Reply::ok(&state(&row, limits_of(&row)?, now)))
}

/// `DELETE {sessionlimits}/{session_id}`: lift the limits (refused once one was reached).
pub async fn delete(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, session_id)): Path<(String, String)>,
) -> Answer {
    scope::version(&version)?;
    sessions::find(&ocpi, &caller, &session_id).await?;
    let store = ocpi.ocpi_store();
    let row = store
        .ocpi_session_limit(caller.partner.id, RECEIVED, &session_id)
        .await
        .map_err(Reply::server_error)?
        .ok_or_else(|| no_limits(&session_id))?;
    if let Some(reached) = &row.reached {
        return Err(Reply::invalid(format!(
            "the {reached} limit was reached: the session is being stopped"
        )));
    }
    store
        .delete_ocpi_session_limit(caller.partner.id, RECEIVED, &session_id)
        .await
        .map_err(Reply::server_error)?;
    Ok(Reply::ok_empty())
}

/// The CDR's remark when the MSP's limit stopped the session.
pub async fn remark(ocpi: &Ocpi, partner_id: i64, session_id: &str) -> Option<String> {
    let row = ocpi
        .ocpi_store()
        .ocpi_session_limit(partner_id, RECEIVED, session_id)
        .await
        .ok()??;
    let reached: LimitKind = row.reached.as_deref()?.parse().ok()?;
    let limits: SessionLimits = serde_json::from_str(&row.data).ok()?;
    let what = match &reached {
        LimitKind::Cost => format!(
            "max_cost {} {}",
            limits.max_cost.unwrap_or_default(),
            limits.currency.unwrap_or_default()
        ),
        LimitKind::Energy => format!("max_energy {} kWh", limits.max_energy.unwrap_or_default()),
        LimitKind::Duration => {
            format!("max_duration {} s", limits.max_duration.unwrap_or_default())
        }
        LimitKind::Other(o) => o.clone(),
    };
    Some(format!(
        "Stopped by the CPO: the MSP's {reached} limit was reached ({what})"
    ))
}

fn content(text: &DisplayText) -> MessageContentType {
    MessageContentType {
        custom_data: None,
        format: MessageFormatEnumType::Utf8,
        language: Some(text.language.clone()).filter(|l| !l.is_empty()),
        content: text.text.clone(),
    }
}

fn by(partner_id: i64) -> Requester {
    Requester::RoamingPartner {
        party: format!("ocpi-partner-{partner_id}"),
    }
}

/// Show `texts` (one message per language) at the station, best effort: the answer is logged.
async fn display(
    ocpi: &Ocpi,
    station: &StationId,
    texts: &[DisplayText],
    transaction_id: Option<String>,
    until: Option<chrono::DateTime<Utc>>,
    partner_id: i64,
) {
    let mut all = texts.iter().map(content);
    let Some(first) = all.next() else { return };
    let m = DisplayMessage {
        id: None,
        priority: MessagePriorityEnumType::InFront,
        state: None,
        start_date_time: None,
        end_date_time: until,
        transaction_id,
        display: None,
        message: first,
        allow_unknown_transaction: false,
    };
    match o::set_display_messages(ocpi.csms(), station, m, all.collect(), &by(partner_id)).await {
        Ok(answers) => {
            tracing::debug!(%station, answers = answers.len(), "session limits message shown")
        }
        Err(e) => tracing::info!(%station, error = %e, "session limits message not shown"),
    }
}

/// B2.4: the driver's tariff at its MSP, on the display during the session.
fn show_driver_tariff(ocpi: &Ocpi, session: &Roamed, texts: &[DisplayText], partner_id: i64) {
    let (ocpi, station, tx, texts) = (
        ocpi.clone(),
        session.station.clone(),
        session.tx.transaction_id.clone(),
        texts.to_vec(),
    );
    tokio::spawn(async move {
        display(&ocpi, &station, &texts, Some(tx), None, partner_id).await;
    });
}

/// The enforcer (see the module doc) until the process ends. The transactions under watch are
/// kept in memory, so a transaction event of an unlimited session costs no store read; the set
/// is rebuilt from the store whenever limits are set and at every periodic check.
pub async fn run(ocpi: Ocpi, mut facts: tokio::sync::broadcast::Receiver<Fact>, wakeup: Wakeup) {
    let every = ocpi
        .settings()
        .session_limit_check
        .max(Duration::from_millis(10));
    let mut watched: HashSet<(StationId, String)> = HashSet::new();
    loop {
        let only = tokio::select! {
            fact = facts.recv() => match fact {
                Ok(Fact::TransactionStarted { station, transaction_id, .. }
                | Fact::TransactionUpdated { station, transaction_id, .. }
                | Fact::TransactionEnded { station, transaction_id, .. }) => {
                    let key = (station, transaction_id);
                    if !watched.contains(&key) {
                        continue;
                    }
                    Some(key)
                }
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => None,
                Err(RecvError::Closed) => return,
            },
            _ = wakeup.0.notified() => None,
            _ = tokio::time::sleep(every) => None,
        };
        let rows = match ocpi.ocpi_store().ocpi_session_limits_armed().await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "OCPI session limits: cannot read the limits");
                continue;
            }
        };
        if only.is_none() {
            watched = rows
                .iter()
                .filter_map(|r| Some((r.station_id.clone()?, r.transaction_id.clone()?)))
                .collect();
        }
        for row in rows {
            if let Some((station, tx)) = &only {
                if row.station_id.as_ref() != Some(station)
                    || row.transaction_id.as_ref() != Some(tx)
                {
                    continue;
                }
            }
            if let Err(e) = check(&ocpi, row).await {
                tracing::warn!(error = %e.body, "OCPI session limits: check failed");
            }
        }
    }
}

/// Check one session's limits; stop it when one is reached.
async fn check(ocpi: &Ocpi, mut row: SessionLimitRow) -> Result<(), Reply> {
    let (Some(station), Some(tx_id)) = (row.station_id.clone(), row.transaction_id.clone()) else {
        return Ok(());
    };
    let store = ocpi.ocpi_store();
    let Some(tx) = ocpi
        .store()
        .transaction(&station, &tx_id)
        .await
        .map_err(Reply::server_error)?
    else {
        return Ok(());
    };
    if tx.ended_at.is_some() {
        // Stopped, by us or otherwise: nothing more to watch.
        row.stop_result = Some(match row.stop_result.take() {
            Some(r) if r == "Accepted" => r,
            _ => "ENDED".into(),
        });
        row.last_updated = Utc::now();
        return store
            .put_ocpi_session_limit(&row)
            .await
            .map_err(Reply::server_error);
    }
    let limits = limits_of(&row)?;
    if row.reached.is_none() {
        let now = so_far(ocpi, &station, &tx).await?;
        let Some(kind) = limits.reached(now.cost, now.energy, now.duration) else {
            return Ok(());
        };
        tracing::info!(partner = row.partner_id, %station, transaction = %tx_id,
            limit = kind.as_str(), cost = ?now.cost, energy = %now.energy,
            duration = now.duration, "OCPI session limit reached: stopping the session");
        row.reached = Some(kind.as_str().to_string());
        row.reached_at = Some(Utc::now());
        row.last_updated = Utc::now();
        store
            .put_ocpi_session_limit(&row)
            .await
            .map_err(Reply::server_error)?;
        if !limits.stop_message.is_empty() {
            let until = Utc::now() + STOP_MESSAGE_FOR;
            display(
                ocpi,
                &station,
                &limits.stop_message,
                None,
                Some(until),
                row.partner_id,
            )
            .await;
        }
    }
    let answer = unicharge_csms::remote_control::request_stop(
        ocpi.csms(),
        &station,
        tx_id.clone(),
        &by(row.partner_id),
    )
    .await;
    row.stop_result = Some(match answer {
        Ok(r) => r.status.as_str().to_string(),
        Err(e) => bounded(&format!("FAILED: {e}")),
    });
    row.stop_requested_at = Some(Utc::now());
    row.last_updated = Utc::now();
    tracing::info!(%station, transaction = %tx_id, result = ?row.stop_result,
        "OCPI session limit: stop requested");
    store
        .put_ocpi_session_limit(&row)
        .await
        .map_err(Reply::server_error)
}
