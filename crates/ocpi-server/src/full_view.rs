//! The CPO's full current view for an eMSP that just registered (issue 12 item 2): every
//! published location and every tariff of the parties the eMSP is registered with, PUT through
//! the outbox (for partners of other roles, what their roles open, ADR 0049; locations the
//! operator does not share with the partner left out, B1.5).
//!
//! Why: pushes ([`crate::push`]) carry *changes*; an eMSP that registers after our locations
//! and tariffs were written, and that does not pull our Sender lists, would otherwise never
//! see them. Party isolation holds as everywhere ([`crate::scope`]): only the partner's own
//! parties of ours, only CPO parties.
//!
//! No duplicates in the outbox: an object whose newest push for this partner — among those
//! still pending and those made since the registration (the view runs in the background, a
//! change pushed meanwhile may be delivered already) — is the very same PUT (same key, same
//! body) is not enqueued again; any other push of it (a status PATCH, an older version) is
//! followed by this PUT in the same per-object order, so the partner ends with the current
//! object. Pushes delivered before the registration do not count: a partner registering again
//! may have lost them. The location lock is held while enqueueing, as
//! for every location PUT, so no EVSE PATCH can overtake it.

use unicharge_ocpi::types::Role;
use unicharge_ocpi::Version;
use unicharge_store::ocpi::{Partner, Party, PushRow};

use crate::push::{self, Push};
use crate::reply::Reply;
use crate::{locations, tariffs, Ocpi};

/// What [`enqueue`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Enqueued {
    pub locations: usize,
    pub tariffs: usize,
    /// Already pending, or delivered since the registration, as the same PUT.
    pub already_pending: usize,
}

/// Is the newest of `known` (pending or since the registration) pushes of `key` this very PUT?
fn pending_same(known: &[PushRow], key: &str, body: &str) -> bool {
    known
        .iter()
        .rev()
        .find(|p| p.object_key == key)
        .is_some_and(|p| p.method == "PUT" && p.body.as_deref() == Some(body))
}

/// Enqueue the partner's full view (nothing when it is registered with no CPO party of ours).
/// `partner` as stored by the registration: its `updated_at` is when it registered.
pub async fn enqueue(ocpi: &Ocpi, partner: &Partner) -> Result<Enqueued, Reply> {
    let cpo = ocpi.settings().parties_with_role(&Role::Cpo);
    let parties: Vec<Party> = partner
        .parties
        .iter()
        .filter(|p| cpo.contains(p))
        .cloned()
        .collect();
    let mut done = Enqueued::default();
    if parties.is_empty() {
        return Ok(done);
    }
    let version = crate::credentials::outgoing(ocpi, partner)
        .map(|(_, v)| v)
        .unwrap_or(Version::V2_2_1);
    let to = push::partner_party(partner);
    let _ordered = ocpi.location_pushes().await;
    // Records tariff versions first (a change found now is pushed by `sync` itself, and then
    // is pending below).
    let tariffs = tariffs::sync(ocpi).await?;
    let pending = ocpi
        .ocpi_store()
        .ocpi_pushes_since(partner.id, partner.updated_at)
        .await
        .map_err(Reply::server_error)?;
    let mut put = |module: &'static str, key: String, path: String, body: String, from: &Party| {
        if pending_same(&pending, &key, &body) {
            done.already_pending += 1;
            return None;
        }
        Some(Push {
            module,
            key,
            method: "PUT",
            path,
            body: Some(body),
            from: from.clone(),
            to: to.clone(),
        })
    };
    let mut pushes = Vec::new();
    let sharing = crate::sharing::Sharing::load(ocpi).await?;
    let kind = crate::access::Access::of(partner).tariff_type();
    for row in locations::visible_rows(ocpi, &parties).await? {
        if !sharing.allows_row(partner.id, &row) {
            continue;
        }
        let location = locations::build(ocpi, &row).await?;
        if !location.publish {
            continue;
        }
        let path = format!(
            "/{}/{}/{}",
            row.party.country_code, row.party.party_id, row.id
        );
        let key = push::location_key(&row.party, &row.id);
        if let Some(p) = put("locations", key, path, push::json(&location)?, &row.party) {
            pushes.push(p);
        }
    }
    for party in &parties {
        for (t, at) in &tariffs {
            let mut tariff = tariffs::to_ocpi(t, party, *at, &version);
            tariff.kind = Some(kind.clone());
            let path = format!("/{}/{}/{}", party.country_code, party.party_id, t.id);
            let key = format!("tariff:{path}");
            if let Some(p) = put("tariffs", key, path, push::json(&tariff)?, party) {
                pushes.push(p);
            }
        }
    }
    let access = crate::access::Access::of(partner);
    for p in pushes {
        // What its roles do not open is not pushed (ADR 0049).
        if !access.pushed(p.module) {
            continue;
        }
        match p.module {
            "locations" => done.locations += 1,
            _ => done.tariffs += 1,
        }
        push::enqueue(ocpi, partner, p).await?;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, key: &str, method: &str, body: &str) -> PushRow {
        let now = chrono::Utc::now();
        PushRow {
            id,
            partner_id: 1,
            module: "locations".into(),
            object_key: key.into(),
            method: method.into(),
            path: String::new(),
            body: Some(body.into()),
            from: None,
            to: None,
            status: "PENDING".into(),
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            created_at: now,
            delivered_at: None,
        }
    }

    #[test]
    fn only_the_same_put_as_the_newest_pending_push_is_skipped() {
        let pending = vec![
            row(1, "location:/NL/CPO/L1", "PUT", "{\"v\":1}"),
            row(2, "location:/NL/CPO/L2", "PUT", "{\"v\":1}"),
            row(
                3,
                "location:/NL/CPO/L2",
                "PATCH",
                "{\"status\":\"CHARGING\"}",
            ),
        ];
        assert!(pending_same(&pending, "location:/NL/CPO/L1", "{\"v\":1}"));
        assert!(!pending_same(&pending, "location:/NL/CPO/L1", "{\"v\":2}"));
        // A PATCH is pending after the PUT: the full PUT goes behind it.
        assert!(!pending_same(&pending, "location:/NL/CPO/L2", "{\"v\":1}"));
        assert!(!pending_same(&pending, "location:/NL/CPO/L3", "{\"v\":1}"));
    }
}
