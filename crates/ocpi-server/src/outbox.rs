//! The push outbox worker (ADR 0038): delivers the rows [`crate::push`] wrote to
//! `ocpi_outbox` to each partner's Receiver endpoint, with the token the partner gave us, the
//! OCPI headers and, on failure, a retry after a doubling wait (`ocpi.push_retry_initial` up to
//! `ocpi.push_retry_max`).
//!
//! Why an outbox and not a direct call from the fact handler: a partner that is down must get
//! everything when it is back (a CDR is never lost), in order per object, and a restart of
//! unicharge must not forget what was still to send. The row is written before the first try;
//! the worker only ever reads what is due, woken by a [`Notify`] when a row is added and by a
//! timer for the next retry, so it does not poll the database per message.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use tokio::sync::Notify;
use unicharge_ocpi::transport::{Routing, StatusCode};
use unicharge_ocpi::types::PartyId;
use unicharge_ocpi::versions::{Endpoint, InterfaceRole};
use unicharge_store::ocpi::{Partner, Party, PushRow};

use crate::auth::REGISTERED;
use crate::client::{self, Addressed};
use crate::Ocpi;

/// The outbox module of CommandResults: their `path` is the absolute `response_url` the partner
/// gave with the command, not a path under a Receiver endpoint.
pub const COMMAND_RESULT: &str = "commands";

/// The outbox module of ChargingProfiles results (ActiveChargingProfileResult,
/// ChargingProfileResult, ClearProfileResult): like CommandResults, their `path` is the
/// absolute `response_url` the partner gave.
pub const CHARGING_PROFILE_RESULT: &str = "chargingprofiles";

/// Whether rows of `module` carry an absolute URL (a partner's `response_url`) as `path`.
pub fn to_response_url(module: &str) -> bool {
    module == COMMAND_RESULT || module == CHARGING_PROFILE_RESULT
}

/// Wakes the worker when a push is enqueued.
#[derive(Clone, Default)]
pub struct Wakeup(Arc<Notify>);

impl Wakeup {
    pub fn wake(&self) {
        // A stored permit: a row added while the worker is busy is seen on its next round.
        self.0.notify_one();
    }
}

/// The partner's Receiver endpoint of `module`, from the version details it published at the
/// credentials exchange.
pub fn receiver_url(partner: &Partner, module: &str) -> Option<String> {
    let endpoints: Vec<Endpoint> = serde_json::from_str(&partner.endpoints).ok()?;
    endpoints
        .into_iter()
        .find(|e| e.identifier.as_str() == module && e.role == InterfaceRole::Receiver)
        .map(|e| e.url.trim_end_matches('/').to_string())
}

/// The partner's Sender endpoint of `module` (where a Receiver answers it, e.g. the
/// ActiveChargingProfile updates of ChargingProfiles).
pub fn sender_url(partner: &Partner, module: &str) -> Option<String> {
    let endpoints: Vec<Endpoint> = serde_json::from_str(&partner.endpoints).ok()?;
    endpoints
        .into_iter()
        .find(|e| e.identifier.as_str() == module && e.role == InterfaceRole::Sender)
        .map(|e| e.url.trim_end_matches('/').to_string())
}

/// How long to wait after the `attempts`-th failure.
pub fn backoff(initial: Duration, max: Duration, attempts: i64) -> Duration {
    let doublings = attempts.clamp(0, 30) as u32;
    initial
        .checked_mul(1u32 << doublings)
        .map_or(max, |d| d.min(max))
}

/// Run the worker until the process ends.
pub async fn run(ocpi: Ocpi, wakeup: Wakeup) {
    let settings = ocpi.settings().clone();
    loop {
        let store = ocpi.ocpi_store();
        let due = match store.due_ocpi_pushes(Utc::now(), settings.push_batch).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "OCPI outbox: cannot read due pushes; trying again");
                tokio::time::sleep(settings.push_retry_initial).await;
                continue;
            }
        };
        for row in &due {
            deliver(&ocpi, row).await;
        }
        let mut partners: Vec<i64> = due.iter().map(|r| r.partner_id).collect();
        partners.sort_unstable();
        partners.dedup();
        for partner in partners {
            record_depth(&ocpi, partner).await;
        }
        if due.len() as u32 == settings.push_batch {
            continue;
        }
        let wait = match store.next_ocpi_push_due().await {
            Ok(Some(at)) => (at - Utc::now()).to_std().unwrap_or(Duration::ZERO),
            Ok(None) => settings.push_retry_max,
            Err(_) => settings.push_retry_initial,
        };
        if wait.is_zero() {
            // Due now but held back behind an older push of the same object: wait for a wakeup
            // or a short while, not a busy loop.
            tokio::select! {
                _ = wakeup.0.notified() => {}
                _ = tokio::time::sleep(settings.push_retry_initial.min(Duration::from_secs(1))) => {}
            }
            continue;
        }
        tokio::select! {
            _ = wakeup.0.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// `ocpi_outbox_pending` / `ocpi_outbox_failing` per partner in `/metrics`, set after each
/// round that touched the partner (so a partner that is down shows its growing backlog at
/// every retry).
async fn record_depth(ocpi: &Ocpi, partner_id: i64) {
    if let Ok(counts) = ocpi.ocpi_store().ocpi_push_counts(partner_id).await {
        let partner = partner_id.to_string();
        metrics::gauge!("ocpi_outbox_pending", "partner" => partner.clone())
            .set(counts.pending as f64);
        metrics::gauge!("ocpi_outbox_failing", "partner" => partner).set(counts.failing as f64);
    }
}

fn party_id(p: &Option<Party>) -> Option<PartyId> {
    p.as_ref()
        .map(|p| PartyId::new(&p.country_code, &p.party_id))
}

/// Why a push could not be sent this time: the reason, and the OCPI status code when the
/// partner answered with one.
async fn attempt(ocpi: &Ocpi, row: &PushRow) -> Result<(), (String, Option<StatusCode>)> {
    let plain = |e: String| (e, None);
    let partner = ocpi
        .ocpi_store()
        .ocpi_partner(row.partner_id)
        .await
        .map_err(|e| plain(format!("store: {e}")))?
        .ok_or_else(|| plain("the partner was deleted".into()))?;
    if partner.status != REGISTERED {
        return Err(plain(format!(
            "the partner is {}, not REGISTERED",
            partner.status
        )));
    }
    let url = if to_response_url(&row.module) {
        row.path.clone()
    } else {
        let base = receiver_url(&partner, &row.module).ok_or_else(|| {
            plain(format!(
                "the partner published no {} RECEIVER endpoint",
                row.module
            ))
        })?;
        format!("{base}{}", row.path)
    };
    let (token, version) = crate::credentials::outgoing(ocpi, &partner).ok_or_else(|| {
        plain("we hold no token to call the partner with (register again)".into())
    })?;
    let method = reqwest::Method::from_bytes(row.method.as_bytes())
        .map_err(|_| plain(format!("bad method {}", row.method)))?;
    let body = match &row.body {
        Some(text) => Some(RawValue::from_string(text.clone()).map_err(|e| plain(e.to_string()))?),
        None => None,
    };
    let routing = Routing {
        from: party_id(&row.from),
        to: party_id(&row.to),
    };
    let correlation = format!("unicharge-push-{}", row.id);
    let to = Addressed {
        routing: &routing,
        correlation_id: &correlation,
        partner: Some(&partner),
    };
    client::call_addressed::<IgnoredAny, _>(
        ocpi,
        method,
        &url,
        &token,
        &version,
        body.as_ref(),
        &to,
    )
    .await
    .map(|_| ())
    .map_err(|e| {
        let code = match &e {
            client::ClientError::Status { code, .. } => Some(*code),
            client::ClientError::Http { code, .. } => *code,
            _ => None,
        };
        (crate::reply::bounded(&e.to_string()), code)
    })
}

async fn deliver(ocpi: &Ocpi, row: &PushRow) {
    let now: DateTime<Utc> = Utc::now();
    let store = ocpi.ocpi_store();
    let outcome = attempt(ocpi, row).await;
    metrics::counter!("ocpi_push_attempts_total",
        "module" => row.module.clone(),
        "outcome" => if outcome.is_ok() { "delivered" } else { "failed" })
    .increment(1);
    let recorded = match outcome {
        Err((error, Some(code)))
            if code == StatusCode::UNKNOWN_LOCATION
                && row.module == "locations"
                && row.method == "PATCH" =>
        {
            // The partner does not have the location or EVSE this PATCH updates (the location
            // was pushed before the EVSE existed, or before the partner registered): send it
            // the whole location instead, behind this row in the same order.
            match crate::push::resend_location(ocpi, row).await {
                Ok(()) => {
                    tracing::info!(partner = row.partner_id, push = row.id, key = %row.object_key,
                        %error, "OCPI PATCH refused as unknown; the whole location is PUT instead");
                    store.ocpi_push_delivered(row.id, now).await
                }
                Err(e) => {
                    let s = ocpi.settings();
                    let wait = backoff(s.push_retry_initial, s.push_retry_max, row.attempts);
                    let retry_at =
                        now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
                    store
                        .ocpi_push_failed(row.id, &crate::reply::bounded(&e.body), retry_at)
                        .await
                }
            }
        }
        Ok(()) => {
            tracing::debug!(partner = row.partner_id, push = row.id, module = %row.module,
                method = %row.method, key = %row.object_key, "OCPI push delivered");
            store.ocpi_push_delivered(row.id, now).await
        }
        Err((error, _)) => {
            let s = ocpi.settings();
            let wait = backoff(s.push_retry_initial, s.push_retry_max, row.attempts);
            tracing::warn!(partner = row.partner_id, push = row.id, module = %row.module,
                attempts = row.attempts + 1, retry_in_s = wait.as_secs_f64(), %error,
                "OCPI push failed; will retry");
            let retry_at = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
            store.ocpi_push_failed(row.id, &error, retry_at).await
        }
    };
    if let Err(e) = recorded {
        tracing::warn!(push = row.id, error = %e, "OCPI outbox: cannot record the attempt");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let (i, m) = (Duration::from_secs(10), Duration::from_secs(60));
        assert_eq!(backoff(i, m, 0), Duration::from_secs(10));
        assert_eq!(backoff(i, m, 1), Duration::from_secs(20));
        assert_eq!(backoff(i, m, 2), Duration::from_secs(40));
        assert_eq!(backoff(i, m, 3), Duration::from_secs(60));
        assert_eq!(backoff(i, m, 1_000), Duration::from_secs(60));
    }
}
