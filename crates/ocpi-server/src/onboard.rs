//! What follows a credentials exchange, in either direction: the token's age for rotation
//! ([`crate::rotation`]) and, on a first registration, the initial full exchange — our full
//! view enqueued for the partner ([`crate::full_view`], CPO role) and a pull of its Sender
//! lists started in the background ([`crate::emsp::sync`], eMSP role).

use unicharge_store::ocpi::Partner;

use crate::emsp::sync::{self, Mode};
pub use crate::rotation::Registration;
use crate::{full_view, rotation, Ocpi};

/// Called once the partner's new credentials are stored. The initial exchange runs in the
/// background: a CPO with thousands of locations must not hold the partner's credentials
/// request (or our operator's register call) until every push is written.
pub async fn credentials_set(ocpi: &Ocpi, partner: &Partner, how: Registration) {
    rotation::record(ocpi, partner, how).await;
    // Its version details may have changed with the credentials: its signing keys too (B8.5).
    crate::signing::refresh_in_background(ocpi, partner);
    // Our answer (or our POST) carried our roles: the partner has them (B8.2).
    crate::roles::published(
        ocpi,
        partner.id,
        &crate::roles::current(ocpi, partner),
        None,
    )
    .await;
    if how == Registration::UpdatedByThem {
        return;
    }
    if sync::pulls_from(ocpi, partner) {
        sync::start(ocpi, partner, Mode::Full);
    }
    let (ocpi, partner) = (ocpi.clone(), partner.clone());
    tokio::spawn(async move {
        match full_view::enqueue(&ocpi, &partner).await {
            Ok(done) if done == full_view::Enqueued::default() => {}
            Ok(done) => tracing::info!(
                partner = partner.id,
                locations = done.locations,
                tariffs = done.tariffs,
                already_pending = done.already_pending,
                "OCPI: full view enqueued for the new partner"
            ),
            Err(e) => tracing::warn!(partner = partner.id, error = %e.body,
                "OCPI: cannot enqueue the full view for the new partner"),
        }
    });
}
