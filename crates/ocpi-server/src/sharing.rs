//! B1.5: the CPO approves or not the sharing of a location's data, on request and on behalf of
//! its owner (ADR 0049, migration 0100).
//!
//! **Default: shared.** The locations we serve are public charging locations the operator
//! placed in a CPO party to publish them to the roaming market (and EU AFIR art. 20 asks that
//! their static and dynamic data reach National Access Points). The owner's wish not to share
//! — with everyone, or with one partner (an aggregator it has no agreement with) — is the
//! exception the operator records: a row for the location (every partner) or for (location,
//! partner), the partner's row winning. A location not shared with a partner does not exist
//! for it: not listed, its GET answered 404 / 2003 like an unknown one, no PUT or PATCH pushed,
//! and its sessions left out of the pseudonymised feeds. When sharing is withdrawn, partners
//! that had the location are sent its EVSEs as `REMOVED` (2.2.1 §8.2: an EVSE is never
//! deleted, it is marked removed), so a navigation app stops showing it; when it is granted,
//! they are sent the whole location.

use chrono::Utc;
use serde::Serialize;
use unicharge_ocpi::locations::Status;
use unicharge_store::ocpi::{LocationRow, Partner, Party};
use unicharge_store::ocpi_buc::SharingRow;

use crate::operator::OperatorError;
use crate::push::{self, EvseStatusPatch, Push};
use crate::reply::Reply;
use crate::{locations, Ocpi};

/// The operator's decisions, read once per request or push.
pub struct Sharing(Vec<SharingRow>);

impl Sharing {
    pub async fn load(ocpi: &Ocpi) -> Result<Sharing, Reply> {
        Ok(Sharing(
            ocpi.ocpi_store()
                .ocpi_location_sharing()
                .await
                .map_err(Reply::server_error)?,
        ))
    }

    /// Is the location shared with the partner?
    pub fn allows(&self, partner_id: i64, party: &Party, location_id: &str) -> bool {
        let of_location = |p: Option<i64>| {
            self.0
                .iter()
                .find(|r| r.partner_id == p && &r.party == party && r.location_id == location_id)
        };
        of_location(Some(partner_id))
            .or_else(|| of_location(None))
            .is_none_or(|r| r.approved)
    }

    pub fn allows_row(&self, partner_id: i64, row: &LocationRow) -> bool {
        self.allows(partner_id, &row.party, &row.id)
    }
}

/// One decision, as the operator reads it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleView {
    /// None: every partner.
    pub partner_id: Option<i64>,
    pub approved: bool,
    pub reason: Option<String>,
    pub updated_at: chrono::DateTime<Utc>,
}

/// A location's sharing: the decisions and, per registered partner of its party, the outcome.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SharingView {
    pub location: String,
    /// What applies without a decision: `shared`.
    pub default: &'static str,
    pub rules: Vec<RuleView>,
    /// Partner id → shared with it now.
    pub partners: Vec<PartnerSharing>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerSharing {
    pub partner_id: i64,
    pub name: String,
    pub shared: bool,
}

async fn location_row(ocpi: &Ocpi, party: &Party, id: &str) -> Result<LocationRow, OperatorError> {
    ocpi.ocpi_store()
        .ocpi_location(party, id)
        .await?
        .ok_or_else(|| {
            OperatorError::NotFound(format!(
                "location {}*{}/{id}",
                party.country_code, party.party_id
            ))
        })
}

pub async fn view(ocpi: &Ocpi, party: &Party, id: &str) -> Result<SharingView, OperatorError> {
    location_row(ocpi, party, id).await?;
    let sharing = Sharing::load(ocpi).await?;
    let rules = sharing
        .0
        .iter()
        .filter(|r| &r.party == party && r.location_id == id)
        .map(|r| RuleView {
            partner_id: r.partner_id,
            approved: r.approved,
            reason: r.reason.clone(),
            updated_at: r.updated_at,
        })
        .collect();
    let partners = push::partners_of(ocpi, party)
        .await?
        .into_iter()
        .map(|p| PartnerSharing {
            shared: sharing.allows(p.id, party, id),
            partner_id: p.id,
            name: p.name,
        })
        .collect();
    Ok(SharingView {
        location: format!("{}*{}/{id}", party.country_code, party.party_id),
        default: "shared",
        rules,
        partners,
    })
}

/// Record the operator's decision (`approved` None removes it, back to what applies without
/// it) and tell the partners whose outcome changed: the whole location to those it is now
/// shared with, its EVSEs as REMOVED to those it no longer is.
pub async fn decide(
    ocpi: &Ocpi,
    party: &Party,
    id: &str,
    partner_id: Option<i64>,
    approved: Option<bool>,
    reason: Option<String>,
) -> Result<SharingView, OperatorError> {
    let row = location_row(ocpi, party, id).await?;
    if let Some(pid) = partner_id {
        if ocpi.ocpi_store().ocpi_partner(pid).await?.is_none() {
            return Err(OperatorError::NotFound(format!("partner {pid}")));
        }
    }
    if reason.as_ref().is_some_and(|r| r.chars().count() > 512) {
        return Err(OperatorError::Invalid(
            "reason: at most 512 characters".into(),
        ));
    }
    let ordered = ocpi.location_pushes().await;
    let partners = push::partners_of(ocpi, party).await?;
    let before = Sharing::load(ocpi).await?;
    let store = ocpi.ocpi_store();
    match approved {
        Some(approved) => {
            store
                .put_ocpi_location_sharing(&SharingRow {
                    party: party.clone(),
                    location_id: id.to_string(),
                    partner_id,
                    approved,
                    reason,
                    updated_at: Utc::now(),
                })
                .await?
        }
        None => {
            store
                .delete_ocpi_location_sharing(party, id, partner_id)
                .await?;
        }
    }
    let after = Sharing::load(ocpi).await?;
    let location = locations::build(ocpi, &row).await?;
    if location.publish {
        for partner in &partners {
            match (
                before.allows(partner.id, party, id),
                after.allows(partner.id, party, id),
            ) {
                (false, true) => push_location(ocpi, partner, party, &location).await?,
                (true, false) => withdraw(ocpi, partner, party, &location).await?,
                _ => {}
            }
        }
    }
    drop(ordered);
    view(ocpi, party, id).await
}

async fn push_location(
    ocpi: &Ocpi,
    partner: &Partner,
    party: &Party,
    location: &unicharge_ocpi::locations::Location,
) -> Result<(), Reply> {
    push::enqueue(
        ocpi,
        partner,
        Push {
            module: "locations",
            key: push::location_key(party, &location.id),
            method: "PUT",
            path: format!("/{}/{}/{}", party.country_code, party.party_id, location.id),
            body: Some(push::json(location)?),
            from: party.clone(),
            to: push::partner_party(partner),
        },
    )
    .await
}

/// PATCH every EVSE of the location to REMOVED at the partner.
async fn withdraw(
    ocpi: &Ocpi,
    partner: &Partner,
    party: &Party,
    location: &unicharge_ocpi::locations::Location,
) -> Result<(), Reply> {
    let now = Utc::now();
    for evse in location.evses.iter().flatten() {
        let patch = EvseStatusPatch {
            status: Status::Removed,
            last_updated: now,
        };
        push::enqueue(
            ocpi,
            partner,
            Push {
                module: "locations",
                key: push::location_key(party, &location.id),
                method: "PATCH",
                path: format!(
                    "/{}/{}/{}/{}",
                    party.country_code, party.party_id, location.id, evse.uid
                ),
                body: Some(push::json(&patch)?),
                from: party.clone(),
                to: push::partner_party(partner),
            },
        )
        .await?;
    }
    Ok(())
}
