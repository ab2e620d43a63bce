//! Publishing our roles to partners (seed 003 B8.2, "publish an updated list of roles"), with
//! the OCPI 2.2.1 credentials PUT: its `roles` list is how a platform tells the other which
//! parties it speaks for (§7.3.1 CredentialsRole), and a PUT makes the other side store the new
//! list and fetch our endpoints again.
//!
//! The roles we publish to a partner are our configured parties (`[[ocpi.parties]]`, each CPO
//! or EMSP) that the partner is registered with ([`crate::credentials::ours`]). They change
//! when
//!
//! * the operator changes which of our parties a partner is registered with ([`set_parties`],
//!   `PUT /api/v1/ocpi/partners/{id}/parties`): published at once;
//! * the configuration changes (a party removed, renamed, or its role changed) and the server
//!   restarts: [`run`] compares, per registered partner, what we last published
//!   (`ocpi_published_roles`, migration 0097) with what we would publish now, and publishes the
//!   difference. A publication the partner did not take is retried every
//!   `ocpi.push_retry_max` until it does.
//!
//! A party added to a partner also reaches it as objects: once the partner took the new roles
//! (so it accepts pushes of the new party), our full view is enqueued for it
//! ([`crate::full_view`]). A party removed is out of the partner's reach at once, as any party
//! it is not registered with ([`crate::scope`]). Remove a party when none of its sessions with
//! the partner is running: their later pushes stop with it (seed 003 asks that a removal be
//! "published in time").
//!
//! Receiving side: a partner's PUT with other roles than it had is stored by
//! [`crate::credentials::put`]; every check of a partner's roles reads the stored list, so what
//! it may push (eMSP Receivers accept objects of its CPO roles only), what `OCPI-from` may name
//! and whom we pull from change with it. [`received`] logs the change and, when the partner is
//! a CPO we pull from, pulls its lists again (objects of a new role would otherwise be missed
//! by an incremental pull).

use std::collections::BTreeSet;

use chrono::Utc;
use serde::Serialize;
use unicharge_ocpi::credentials::CredentialsRole;
use unicharge_store::ocpi::{Partner, Party};
use unicharge_store::ocpi_buc::PublishedRolesRow;

use crate::auth::REGISTERED;
use crate::emsp::sync::{self, Mode};
use crate::operator::OperatorError;
use crate::reply::bounded;
use crate::{credentials, full_view, rotation, scope, Ocpi};

/// The roles we would publish to `partner` now.
pub fn current(ocpi: &Ocpi, partner: &Partner) -> Vec<CredentialsRole> {
    credentials::ours(ocpi, partner, String::new()).roles
}

/// `CC*PID ROLE` of each role, sorted: what is compared and shown.
fn names(roles: &[CredentialsRole]) -> BTreeSet<String> {
    roles
        .iter()
        .map(|r| {
            format!(
                "{}*{} {} {}",
                r.country_code.to_ascii_uppercase(),
                r.party_id.to_ascii_uppercase(),
                r.role,
                r.business_details.name
            )
        })
        .collect()
}

/// Record that the partner took `roles` (`error`: that it has not taken them yet).
pub async fn published(
    ocpi: &Ocpi,
    partner_id: i64,
    roles: &[CredentialsRole],
    error: Option<String>,
) {
    let row = PublishedRolesRow {
        partner_id,
        roles: serde_json::to_string(roles).unwrap_or_else(|_| "[]".into()),
        published_at: Utc::now(),
        last_error: error,
    };
    if let Err(e) = ocpi.ocpi_store().put_ocpi_published_roles(&row).await {
        tracing::warn!(partner = partner_id, error = %e, "OCPI: cannot record the roles published");
    }
}

/// What the operator sees of a partner's published roles.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedView {
    pub partner_id: i64,
    /// Our parties the partner is registered with, `CC*PID`.
    pub parties: Vec<String>,
    /// The roles the partner last took, `CC*PID ROLE`.
    pub published: Vec<String>,
    pub published_at: Option<chrono::DateTime<Utc>>,
    /// Why the partner has not taken the current roles yet (retried).
    pub last_error: Option<String>,
    /// What we publish now differs from what the partner took.
    pub pending: bool,
}

pub async fn view(ocpi: &Ocpi, partner_id: i64) -> Result<PublishedView, OperatorError> {
    let store = ocpi.ocpi_store();
    let partner = store
        .ocpi_partner(partner_id)
        .await?
        .ok_or_else(|| OperatorError::NotFound(format!("OCPI partner {partner_id}")))?;
    let row = store.ocpi_published_roles(partner_id).await?;
    let took: Vec<CredentialsRole> = row
        .as_ref()
        .and_then(|r| serde_json::from_str(&r.roles).ok())
        .unwrap_or_default();
    let short = |roles: &[CredentialsRole]| {
        roles
            .iter()
            .map(|r| format!("{}*{} {}", r.country_code, r.party_id, r.role))
            .collect::<Vec<_>>()
    };
    Ok(PublishedView {
        partner_id,
        parties: partner
            .parties
            .iter()
            .map(|p| format!("{}*{}", p.country_code, p.party_id))
            .collect(),
        published: short(&took),
        published_at: row.as_ref().map(|r| r.published_at),
        last_error: row.as_ref().and_then(|r| r.last_error.clone()),
        pending: partner.status == REGISTERED
            && (row.is_none() || names(&took) != names(&current(ocpi, &partner))),
    })
}

/// Publish our current roles to the partner now (credentials PUT). Nothing is sent when the
/// partner already took them, unless `force`.
pub async fn publish(ocpi: &Ocpi, partner_id: i64, force: bool) -> Result<bool, OperatorError> {
    let _one_at_a_time = ocpi.rotating().lock().await;
    let store = ocpi.ocpi_store();
    let partner = store
        .ocpi_partner(partner_id)
        .await?
        .ok_or_else(|| OperatorError::NotFound(format!("OCPI partner {partner_id}")))?;
    if partner.status != REGISTERED {
        return Err(OperatorError::Invalid(format!(
            "partner {partner_id} is {}: roles are published to registered partners \
             (they get them when they register)",
            partner.status
        )));
    }
    let roles = current(ocpi, &partner);
    if roles.is_empty() {
        return Err(OperatorError::Invalid(format!(
            "partner {partner_id} is registered with none of our configured parties: \
             give it one (PUT …/parties) or unregister it"
        )));
    }
    let took = store.ocpi_published_roles(partner_id).await?;
    let same = took.as_ref().is_some_and(|r| {
        r.last_error.is_none()
            && serde_json::from_str::<Vec<CredentialsRole>>(&r.roles)
                .is_ok_and(|t| names(&t) == names(&roles))
    });
    if same && !force {
        return Ok(false);
    }
    let previous = store.ocpi_rotation(partner_id).await?;
    match rotation::put_credentials(ocpi, partner, previous).await {
        Ok(_) => {
            tracing::info!(partner = partner_id, roles = ?names(&roles),
                "OCPI roles published to the partner (credentials PUT)");
            Ok(true)
        }
        Err(e) => {
            let error = bounded(&e.to_string());
            // Keep what the partner took; note that the current list is still to publish.
            let kept: Vec<CredentialsRole> = took
                .as_ref()
                .and_then(|r| serde_json::from_str(&r.roles).ok())
                .unwrap_or_default();
            published(ocpi, partner_id, &kept, Some(error)).await;
            Err(e)
        }
    }
}

/// The operator registers the partner with `parties` of ours (replacing the list) and the
/// partner hears of it at once. Parties added bring their locations and tariffs to it.
pub async fn set_parties(
    ocpi: &Ocpi,
    partner_id: i64,
    parties: &[Party],
) -> Result<PublishedView, OperatorError> {
    if parties.is_empty() {
        return Err(OperatorError::Invalid(
            "parties is empty: a partner is registered with at least one of our parties \
             (to end the partnership, unregister it)"
                .into(),
        ));
    }
    let own = ocpi.settings().own_parties();
    let mut wanted: Vec<Party> = Vec::new();
    for p in parties {
        if !own.contains(p) {
            return Err(OperatorError::Invalid(format!(
                "{}*{} is not one of our parties (ocpi.parties in the configuration)",
                p.country_code, p.party_id
            )));
        }
        if !wanted.contains(p) {
            wanted.push(p.clone());
        }
    }
    let store = ocpi.ocpi_store();
    let mut partner = store
        .ocpi_partner(partner_id)
        .await?
        .ok_or_else(|| OperatorError::NotFound(format!("OCPI partner {partner_id}")))?;
    let added = wanted.iter().any(|p| !partner.parties.contains(p));
    partner.parties = wanted;
    partner.updated_at = Utc::now();
    store.save_ocpi_partner(&partner).await?;
    tracing::info!(partner = partner_id, parties = ?partner.parties, "OCPI partner's parties changed");
    if partner.status == REGISTERED {
        publish(ocpi, partner_id, false).await?;
        if added {
            let (ocpi, partner) = (ocpi.clone(), partner.clone());
            tokio::spawn(async move {
                if let Err(e) = full_view::enqueue(&ocpi, &partner).await {
                    tracing::warn!(partner = partner.id, error = %e.body,
                        "OCPI: cannot enqueue the full view for the partner's new parties");
                }
            });
        }
    }
    view(ocpi, partner_id).await
}

/// A registered partner PUT credentials whose roles differ from those it had (`before`).
pub async fn received(ocpi: &Ocpi, partner: &Partner, before: &[CredentialsRole]) {
    let now = scope::partner_roles(partner);
    let (old, new) = (names(before), names(&now));
    if old == new {
        return;
    }
    tracing::info!(partner = partner.id, name = %partner.name,
        added = ?new.difference(&old).collect::<Vec<_>>(),
        removed = ?old.difference(&new).collect::<Vec<_>>(),
        "OCPI partner published new roles");
    if sync::pulls_from(ocpi, partner) {
        sync::start(ocpi, partner, Mode::Full);
    }
}

/// At start, and then every `ocpi.push_retry_max`: publish to every registered partner the
/// roles it has not taken yet (the configuration changed, or an earlier publication failed).
/// The first look waits `ocpi.push_retry_initial`, so that our endpoints answer the partner
/// when it reads them during the PUT.
pub async fn run(ocpi: Ocpi) {
    tokio::time::sleep(ocpi.settings().push_retry_initial).await;
    loop {
        match ocpi.ocpi_store().ocpi_partners().await {
            Ok(partners) => {
                for partner in partners.iter().filter(|p| p.status == REGISTERED) {
                    publish_if_changed(&ocpi, partner).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "OCPI roles: cannot read the partners"),
        }
        tokio::time::sleep(ocpi.settings().push_retry_max).await;
    }
}

async fn publish_if_changed(ocpi: &Ocpi, partner: &Partner) {
    // A party taken out of the configuration is no longer the partner's to see.
    let own = ocpi.settings().own_parties();
    if partner.parties.iter().any(|p| !own.contains(p)) {
        let mut pruned = partner.clone();
        pruned.parties.retain(|p| own.contains(p));
        pruned.updated_at = Utc::now();
        tracing::info!(partner = partner.id, parties = ?pruned.parties,
            "OCPI: parties no longer configured taken off the partner");
        if let Err(e) = ocpi.ocpi_store().save_ocpi_partner(&pruned).await {
            tracing::warn!(partner = partner.id, error = %e, "OCPI roles: cannot save the partner");
            return;
        }
    }
    let took = match ocpi.ocpi_store().ocpi_published_roles(partner.id).await {
        Ok(took) => took,
        Err(e) => {
            tracing::warn!(partner = partner.id, error = %e, "OCPI roles: cannot read");
            return;
        }
    };
    let Some(took) = took else {
        // Registered before roles were recorded: what it has is what we publish now.
        published(ocpi, partner.id, &current(ocpi, partner), None).await;
        return;
    };
    let roles: Vec<CredentialsRole> = serde_json::from_str(&took.roles).unwrap_or_default();
    if took.last_error.is_none() && names(&roles) == names(&current(ocpi, partner)) {
        return;
    }
    // Failures are recorded on the row and logged; the next round tries again.
    if let Err(e) = publish(ocpi, partner.id, false).await {
        tracing::warn!(partner = partner.id, error = %e, "OCPI roles not published yet");
    }
}
