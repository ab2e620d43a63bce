//! The start-up CDR sweep (ADR 0038): a CDR is never lost.
//!
//! A fact is published after its commit, and the outbox row is written after the fact, so a
//! crash between the two would lose a CDR push. At start-up every charge record of a
//! transaction that ran with a partner's token, at a location of a party the partner is
//! registered with, and that was recorded after the partner was created, is enqueued again. The
//! outbox's unique index for POSTs makes that a no-op for every CDR already enqueued, so the
//! sweep only fills gaps and never bills twice.

use unicharge_store::ocpi::Partner;

use crate::outbox::receiver_url;
use crate::reply::Reply;
use crate::sessions::{self, Roamed};
use crate::{locations, push, Ocpi};

/// Most transactions per station the sweep looks at (newest first).
const PER_STATION: u32 = 10_000;

/// Enqueue every CDR a partner should have; returns how many were looked at.
pub async fn cdrs(ocpi: &Ocpi) -> Result<usize, Reply> {
    let partners: Vec<Partner> = ocpi
        .ocpi_store()
        .ocpi_partners()
        .await
        .map_err(Reply::server_error)?
        .into_iter()
        .filter(|p| p.status == crate::auth::REGISTERED && receiver_url(p, "cdrs").is_some())
        .collect();
    if partners.is_empty() {
        return Ok(0);
    }
    let mut seen = 0;
    for partner in &partners {
        let version = crate::credentials::outgoing(ocpi, partner)
            .map(|(_, v)| v)
            .unwrap_or(unicharge_ocpi::Version::V2_2_1);
        for location in locations::visible_rows(ocpi, &partner.parties).await? {
            let data = locations::data(&location)?;
            for station in &location.stations {
                let txs = ocpi
                    .store()
                    .transactions(station, PER_STATION)
                    .await
                    .map_err(Reply::server_error)?;
                for tx in txs {
                    let Some(uid) = tx.id_token.clone().filter(|_| tx.ended_at.is_some()) else {
                        continue;
                    };
                    let Some(token) = sessions::managed_token(ocpi, partner, &uid).await? else {
                        continue;
                    };
                    let roamed = Roamed {
                        location: location.clone(),
                        data: data.clone(),
                        station: station.clone(),
                        tx,
                        token,
                    };
                    // Recorded (by our clock) after the partner was created: earlier CDRs
                    // predate the partnership and are only served by GET.
                    let recorded_after = sessions::charge_record(ocpi, &roamed)
                        .await?
                        .is_some_and(|r| r.created_at >= partner.created_at);
                    if !recorded_after {
                        continue;
                    }
                    push::enqueue_cdr(ocpi, partner, &roamed, &version).await?;
                    seen += 1;
                }
            }
        }
    }
    Ok(seen)
}

/// Run the sweep once, logging the outcome.
pub async fn run(ocpi: Ocpi) {
    match cdrs(&ocpi).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            cdrs = n,
            "OCPI CDR sweep: every roamed CDR is in the outbox"
        ),
        Err(e) => tracing::warn!(error = %e.body, "OCPI CDR sweep failed; CDRs of facts lost \
            in a crash may be missing at partners until the next start"),
    }
}
