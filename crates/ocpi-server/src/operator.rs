//! What the operator does with OCPI (REST API and CLI call these): create a partner and get
//! its token A, register with a partner's platform, place stations in locations.

use chrono::Utc;
use serde::Serialize;
use unicharge_core::StationId;
use unicharge_store::ocpi::{LocationRow, Partner, Party};

use crate::auth::PENDING;
use crate::locations::LocationData;
use crate::secrets::{new_token, token_hash};
use crate::Ocpi;

pub use crate::credentials::{register_with, RegisterError};

/// Why an operator request is refused.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(String),
    /// The partner's platform refused or did not answer.
    #[error("the partner's platform: {0}")]
    Partner(String),
    #[error("store: {0}")]
    Store(#[from] unicharge_store::StoreError),
    /// The partner does not support what was asked (e.g. an extension module it does not
    /// publish).
    #[error("{0}")]
    Unsupported(String),
    /// Our own OCPI side failed (the OCPI error it would have answered a partner with).
    #[error("OCPI: {0}")]
    Internal(String),
}

impl From<crate::reply::Reply> for OperatorError {
    fn from(reply: crate::reply::Reply) -> Self {
        OperatorError::Internal(crate::reply::bounded(&reply.body))
    }
}

/// A partner as the operator sees it: never a token.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerView {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub version: Option<String>,
    pub versions_url: Option<String>,
    /// Our parties it is registered with, `CC*PID`.
    pub parties: Vec<String>,
    /// Its own roles, `CC*PID ROLE`.
    pub roles: Vec<String>,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<&Partner> for PartnerView {
    fn from(p: &Partner) -> Self {
        PartnerView {
            id: p.id,
            name: p.name.clone(),
            status: p.status.clone(),
            version: p.version.clone(),
            versions_url: p.versions_url.clone(),
            parties: p
                .parties
                .iter()
                .map(|p| format!("{}*{}", p.country_code, p.party_id))
                .collect(),
            roles: crate::scope::partner_roles(p)
                .iter()
                .map(|r| format!("{}*{} {}", r.country_code, r.party_id, r.role))
                .collect(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A new partner and the token A to hand it with our versions URL (shown once).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewPartner {
    pub partner: PartnerView,
    pub token_a: String,
    pub versions_url: String,
}

/// `CC*PID` or `CC-PID` → a party.
pub fn parse_party(text: &str) -> Option<Party> {
    let (cc, pid) = text.split_once(['*', '-', '/'])?;
    (cc.len() == 2 && pid.len() == 3).then(|| Party::new(cc, pid))
}

fn own_party(ocpi: &Ocpi, party: &Party) -> Result<(), OperatorError> {
    if ocpi.settings().own_parties().contains(party) {
        Ok(())
    } else {
        Err(OperatorError::Invalid(format!(
            "{}*{} is not one of our parties (ocpi.parties in the configuration)",
            party.country_code, party.party_id
        )))
    }
}

/// Create a partner registered with `parties` of ours (all of them when empty).
pub async fn create_partner(
    ocpi: &Ocpi,
    name: &str,
    parties: &[Party],
) -> Result<NewPartner, OperatorError> {
    if name.trim().is_empty() {
        return Err(OperatorError::Invalid("name must not be empty".into()));
    }
    let parties = if parties.is_empty() {
        ocpi.settings().own_parties()
    } else {
        for p in parties {
            own_party(ocpi, p)?;
        }
        parties.to_vec()
    };
    let token_a = new_token();
    let now = Utc::now();
    let mut partner = Partner {
        id: 0,
        name: name.trim().to_string(),
        status: PENDING.into(),
        incoming_token_hash: Some(token_hash(&token_a)),
        outgoing_token_sealed: None,
        version: None,
        versions_url: None,
        endpoints: "[]".into(),
        roles: "[]".into(),
        parties,
        created_at: now,
        updated_at: now,
    };
    partner.id = ocpi.ocpi_store().create_ocpi_partner(&partner).await?;
    tracing::info!(partner = partner.id, name = %partner.name, "OCPI partner created (token A issued)");
    Ok(NewPartner {
        partner: PartnerView::from(&partner),
        token_a,
        versions_url: ocpi.versions_url(),
    })
}

pub async fn partners(ocpi: &Ocpi) -> Result<Vec<PartnerView>, OperatorError> {
    Ok(ocpi
        .ocpi_store()
        .ocpi_partners()
        .await?
        .iter()
        .map(PartnerView::from)
        .collect())
}

/// Create or replace a location of one of our parties, with the stations it holds.
pub async fn put_location(
    ocpi: &Ocpi,
    party: &Party,
    id: &str,
    data: &LocationData,
    stations: &[String],
) -> Result<(), OperatorError> {
    own_party(ocpi, party)?;
    if ocpi.settings().role_of(party) != Some(unicharge_ocpi::types::Role::Cpo) {
        return Err(OperatorError::Invalid(format!(
            "{}*{} is an eMSP party of ours: locations belong to CPO parties",
            party.country_code, party.party_id
        )));
    }
    if id.is_empty() || id.len() > 36 {
        return Err(OperatorError::Invalid(
            "a location id has 1 to 36 characters".into(),
        ));
    }
    let mut ids = Vec::new();
    for s in stations {
        let station = StationId::new(s.clone())
            .map_err(|e| OperatorError::Invalid(format!("station {s:?}: {e}")))?;
        if ocpi.store().get_station(&station).await?.is_none() {
            return Err(OperatorError::NotFound(format!("station {s}")));
        }
        ids.push(station);
    }
    let row = LocationRow {
        party: party.clone(),
        id: id.to_string(),
        data: serde_json::to_string(data).map_err(|e| OperatorError::Invalid(e.to_string()))?,
        last_updated: Utc::now(),
        stations: ids,
    };
    let _ordered = ocpi.location_pushes().await;
    ocpi.ocpi_store().put_ocpi_location(&row).await?;
    // Partners hear of it now, not at their next GET (Locations push, ADR 0038).
    if let Err(e) = crate::push::location_changed(ocpi, party, id).await {
        tracing::warn!(location = id, error = %e.body, "OCPI: cannot enqueue the location push");
    }
    Ok(())
}

/// One push in a partner's outbox, as the operator sees it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushView {
    pub id: i64,
    /// OCPI module: `locations`, `sessions`, `cdrs`, `tariffs`.
    pub module: String,
    pub object_key: String,
    pub method: String,
    /// Appended to the partner's Receiver endpoint.
    pub path: String,
    /// `PENDING` or `DELIVERED`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: chrono::DateTime<Utc>,
    /// Why the last attempt failed (bounded), while it is pending.
    pub last_error: Option<String>,
    pub created_at: chrono::DateTime<Utc>,
    pub delivered_at: Option<chrono::DateTime<Utc>>,
}

/// A partner's outbox: depth, failing pushes, and the most recent pushes (newest first).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxView {
    pub partner_id: i64,
    pub pending: i64,
    pub delivered: i64,
    /// Pending pushes that failed at least once (the partner is down or refuses them).
    pub failing: i64,
    pub pushes: Vec<PushView>,
}

/// The partner's outbox with its `limit` most recent pushes.
pub async fn outbox(ocpi: &Ocpi, partner_id: i64, limit: u32) -> Result<OutboxView, OperatorError> {
    let store = ocpi.ocpi_store();
    if store.ocpi_partner(partner_id).await?.is_none() {
        return Err(OperatorError::NotFound(format!(
            "OCPI partner {partner_id}"
        )));
    }
    let counts = store.ocpi_push_counts(partner_id).await?;
    let pushes = store
        .ocpi_pushes(partner_id, limit)
        .await?
        .into_iter()
        .map(|p| PushView {
            id: p.id,
            module: p.module,
            object_key: p.object_key,
            method: p.method,
            path: p.path,
            status: p.status,
            attempts: p.attempts,
            next_attempt_at: p.next_attempt_at,
            last_error: p.last_error,
            created_at: p.created_at,
            delivered_at: p.delivered_at,
        })
        .collect();
    Ok(OutboxView {
        partner_id,
        pending: counts.pending,
        delivered: counts.delivered,
        failing: counts.failing,
        pushes,
    })
}

/// A party connected to a hub partner, as the hub last reported it (HubClientInfo).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfoView {
    /// `CC*PID`.
    pub party: String,
    /// OCPI role: CPO, EMSP, NSP…
    pub role: String,
    /// CONNECTED, OFFLINE, PLANNED, SUSPENDED.
    pub status: String,
    pub last_updated: chrono::DateTime<Utc>,
}

/// What a hub partner told us about the parties connected to it.
pub async fn hub_clients(
    ocpi: &Ocpi,
    partner_id: i64,
) -> Result<Vec<ClientInfoView>, OperatorError> {
    let store = ocpi.ocpi_store();
    if store.ocpi_partner(partner_id).await?.is_none() {
        return Err(OperatorError::NotFound(format!(
            "OCPI partner {partner_id}"
        )));
    }
    let mut out = Vec::new();
    for row in store.ocpi_client_infos(partner_id).await? {
        let Ok(info) =
            serde_json::from_str::<unicharge_ocpi::hub_client_info::ClientInfo>(&row.data)
        else {
            continue;
        };
        out.push(ClientInfoView {
            party: format!("{}*{}", row.party.country_code, row.party.party_id),
            role: info.role.as_str().to_string(),
            status: info.status.as_str().to_string(),
            last_updated: row.last_updated,
        });
    }
    Ok(out)
}
