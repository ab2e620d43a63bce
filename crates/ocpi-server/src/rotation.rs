//! Scheduled credentials rotation (seed 003 B8.1; OCPI 2.2.1 §7.2.3 credentials PUT).
//!
//! For a partner *we* registered with (we sent the POST, so we send the PUT), once the token it
//! calls us with is older than `ocpi.credentials_rotation` (or when the operator asks,
//! `POST /api/v1/ocpi/partners/{id}/rotate-credentials`):
//!
//! 1. a new token is made and its hash stored as *pending*: from now on both the current and
//!    the new token open our endpoints (the partner may call our versions with the new one
//!    while it handles the PUT, as unicharge itself does);
//! 2. our credentials with the new token are PUT to the partner's credentials endpoint, with
//!    the token we call it with;
//! 3. the partner's answer carries its new token for us: it is sealed and kept, the pending
//!    hash becomes the partner's only token, and the old one stops working. The old token is
//!    dropped only then — after the partner acknowledged the new one.
//!
//! If the PUT fails the current token stays and the pending one stays accepted; the next try
//! (after `ocpi.push_retry_max`) starts over with a fresh token. Tokens are never logged and
//! only their SHA-256 is stored ([`crate::secrets`]).
//!
//! Partners that registered with us rotate on their side: their PUT reaches
//! [`crate::credentials::put`] and resets the age here.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use unicharge_ocpi::credentials::Credentials;
use unicharge_ocpi::versions::{Endpoint, ModuleId};
use unicharge_store::ocpi::{Partner, RotationRow};

use crate::auth::REGISTERED;
use crate::client::call;
use crate::credentials::{ours, outgoing};
use crate::operator::OperatorError;
use crate::reply::bounded;
use crate::secrets::{new_token, token_hash};
use crate::Ocpi;

/// How a partner's credentials were set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// We POSTed our credentials to the partner.
    ByUs,
    /// The partner POSTed its credentials to us.
    ByThem,
    /// The partner PUT new credentials (its own rotation).
    UpdatedByThem,
}

/// Record that the partner's token for us was (re)issued now.
pub async fn record(ocpi: &Ocpi, partner: &Partner, how: Registration) {
    let store = ocpi.ocpi_store();
    let previous = store.ocpi_rotation(partner.id).await.ok().flatten();
    let initiated_by_us = match how {
        Registration::ByUs => true,
        Registration::ByThem => false,
        Registration::UpdatedByThem => previous.as_ref().is_some_and(|r| r.initiated_by_us),
    };
    let row = RotationRow {
        partner_id: partner.id,
        initiated_by_us,
        issued_at: Utc::now(),
        pending_token_hash: None,
        pending_since: None,
        last_error: None,
    };
    if let Err(e) = store.put_ocpi_rotation(&row).await {
        tracing::warn!(partner = partner.id, error = %e, "OCPI: cannot record the token's age");
    }
}

/// Is the partner's token due for rotation at `now`?
pub fn due(row: &RotationRow, now: DateTime<Utc>, every: Duration, retry: Duration) -> bool {
    let age = |since: DateTime<Utc>| (now - since).to_std().unwrap_or(Duration::ZERO);
    row.initiated_by_us
        && !every.is_zero()
        && age(row.issued_at) >= every
        && row.pending_since.is_none_or(|since| age(since) >= retry)
}

fn credentials_url(partner: &Partner) -> Option<String> {
    let endpoints: Vec<Endpoint> = serde_json::from_str(&partner.endpoints).ok()?;
    endpoints
        .into_iter()
        .find(|e| e.identifier == ModuleId::Credentials)
        .map(|e| e.url)
}

/// Rotate the partner's credentials now; returns the partner with its new tokens.
pub async fn rotate(ocpi: &Ocpi, partner_id: i64) -> Result<Partner, OperatorError> {
    let _one_at_a_time = ocpi.rotating().lock().await;
    let store = ocpi.ocpi_store();
    let partner = store
        .ocpi_partner(partner_id)
        .await?
        .ok_or_else(|| OperatorError::NotFound(format!("OCPI partner {partner_id}")))?;
    if partner.status != REGISTERED {
        return Err(OperatorError::Invalid(format!(
            "partner {partner_id} is {}: only a registered partner's credentials rotate",
            partner.status
        )));
    }
    let previous = store.ocpi_rotation(partner_id).await?;
    if previous.as_ref().is_some_and(|r| !r.initiated_by_us) {
        return Err(OperatorError::Invalid(format!(
            "partner {partner_id} registered with us: it sends the credentials PUT \
             (ask its operator to rotate)"
        )));
    }
    put_credentials(ocpi, partner, previous).await
}

/// Send our credentials, with a new token for the partner, in a credentials PUT (OCPI 2.2.1
/// §7.1.3: "the credentials (or parts thereof) can be updated by sending the new credentials
/// via a PUT request to the credentials endpoint" of the other platform; the module is
/// symmetric). Used by the rotation (B8.1) and to publish our roles (B8.2, [`crate::roles`]):
/// every PUT carries our current roles, so on success they are recorded as published. The
/// caller holds [`Ocpi::rotating`].
pub(crate) async fn put_credentials(
    ocpi: &Ocpi,
    mut partner: Partner,
    previous: Option<RotationRow>,
) -> Result<Partner, OperatorError> {
    let store = ocpi.ocpi_store();
    let partner_id = partner.id;
    let url = credentials_url(&partner).ok_or_else(|| {
        OperatorError::Invalid("the partner published no credentials endpoint".into())
    })?;
    let (token, version) = outgoing(ocpi, &partner).ok_or_else(|| {
        OperatorError::Invalid("we hold no token to call the partner with: register again".into())
    })?;
    let issued_at = previous
        .as_ref()
        .map_or(partner.updated_at, |r| r.issued_at);
    let new_b = new_token();
    let sent = ours(ocpi, &partner, new_b.clone());
    let mut row = RotationRow {
        partner_id,
        initiated_by_us: previous.as_ref().is_none_or(|r| r.initiated_by_us),
        issued_at,
        pending_token_hash: Some(token_hash(&new_b)),
        pending_since: Some(Utc::now()),
        last_error: None,
    };
    store.put_ocpi_rotation(&row).await?;
    let answer: Result<Credentials, _> = call(
        ocpi,
        reqwest::Method::PUT,
        &url,
        &token,
        &version,
        Some(&sent),
    )
    .await;
    metrics::counter!("ocpi_credentials_rotations_total",
        "outcome" => if answer.is_ok() { "acknowledged" } else { "failed" })
    .increment(1);
    let theirs = match answer {
        Ok(theirs) => theirs,
        Err(e) => {
            let error = bounded(&e.to_string());
            row.last_error = Some(error.clone());
            store.put_ocpi_rotation(&row).await?;
            tracing::warn!(partner = partner_id, %error,
                "OCPI credentials rotation: the partner did not take the new token; the current one stays");
            return Err(OperatorError::Partner(error));
        }
    };
    partner.incoming_token_hash = row.pending_token_hash.take();
    partner.outgoing_token_sealed = Some(ocpi.sealer().seal(&theirs.token));
    if !theirs.roles.is_empty() {
        partner.roles = serde_json::to_string(&theirs.roles).unwrap_or(partner.roles);
    }
    partner.updated_at = Utc::now();
    store.save_ocpi_partner(&partner).await?;
    row.issued_at = partner.updated_at;
    row.pending_since = None;
    store.put_ocpi_rotation(&row).await?;
    crate::roles::published(ocpi, partner_id, &sent.roles, None).await;
    tracing::info!(partner = partner_id, name = %partner.name,
        "OCPI credentials rotated: the partner acknowledged the new token; the old one is void");
    Ok(partner)
}

/// The rotation state as the operator sees it (never a token or hash).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationView {
    pub partner_id: i64,
    /// We registered with the partner, so we rotate (else the partner does).
    pub initiated_by_us: bool,
    /// When the partner's current token for us was issued.
    pub issued_at: DateTime<Utc>,
    /// A rotation the partner has not acknowledged yet.
    pub pending_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

pub async fn view(ocpi: &Ocpi, partner_id: i64) -> Result<RotationView, OperatorError> {
    let row = ocpi
        .ocpi_store()
        .ocpi_rotation(partner_id)
        .await?
        .ok_or_else(|| {
            OperatorError::NotFound(format!("credentials of OCPI partner {partner_id}"))
        })?;
    Ok(RotationView {
        partner_id,
        initiated_by_us: row.initiated_by_us,
        issued_at: row.issued_at,
        pending_since: row.pending_since,
        last_error: row.last_error,
    })
}

/// The schedule: look for due partners every quarter of the interval (at most hourly) until
/// the process ends. Does nothing while `ocpi.credentials_rotation` is 0.
pub async fn run(ocpi: Ocpi) {
    let every = ocpi.settings().credentials_rotation;
    if every.is_zero() {
        return;
    }
    let retry = ocpi.settings().push_retry_max;
    let tick = (every / 4).clamp(Duration::from_millis(10), Duration::from_secs(3600));
    loop {
        tokio::time::sleep(tick).await;
        let rows = match ocpi.ocpi_store().ocpi_rotations().await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "OCPI credentials rotation: cannot read the tokens' ages");
                continue;
            }
        };
        let now = Utc::now();
        for row in rows.iter().filter(|r| due(r, now, every, retry)) {
            // A failure is recorded on the row and logged by `rotate`.
            let _ = rotate(&ocpi, row.partner_id).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_when_ours_older_than_the_interval_and_no_recent_try() {
        let now = Utc::now();
        let hours = |h: i64| now - chrono::Duration::hours(h);
        let day = Duration::from_secs(86_400);
        let retry = Duration::from_secs(1800);
        let row = RotationRow {
            partner_id: 1,
            initiated_by_us: true,
            issued_at: hours(25),
            pending_token_hash: None,
            pending_since: None,
            last_error: None,
        };
        assert!(due(&row, now, day, retry));
        assert!(!due(&row, now, Duration::ZERO, retry), "0 is off");
        let young = RotationRow {
            issued_at: hours(23),
            ..row.clone()
        };
        assert!(!due(&young, now, day, retry));
        let theirs = RotationRow {
            initiated_by_us: false,
            ..row.clone()
        };
        assert!(
            !due(&theirs, now, day, retry),
            "the partner rotates its own"
        );
        let tried = RotationRow {
            pending_since: Some(now - chrono::Duration::minutes(5)),
            ..row.clone()
        };
        assert!(
            !due(&tried, now, day, retry),
            "retried after push_retry_max"
        );
        let tried_long_ago = RotationRow {
            pending_since: Some(hours(1)),
            ..row
        };
        assert!(due(&tried_long_ago, now, day, retry));
    }
}
