//! OCPI roaming records (issue 12, migration 0060): partners, the parties they are registered
//! with, locations, tokens. The OCPI objects themselves are JSON text here; the typed objects
//! and every rule live in `unicharge-ocpi` / `unicharge-ocpi-server`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use unicharge_core::StationId;

use crate::Result;

/// One of our parties or a partner's: ISO 3166 alpha-2 country code and the 3-character id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Party {
    pub country_code: String,
    pub party_id: String,
}

impl Party {
    pub fn new(country_code: &str, party_id: &str) -> Party {
        Party {
            country_code: country_code.to_ascii_uppercase(),
            party_id: party_id.to_ascii_uppercase(),
        }
    }
}

/// A platform we roam with.
#[derive(Debug, Clone, PartialEq)]
pub struct Partner {
    pub id: i64,
    pub name: String,
    /// `PENDING` (token A issued), `REGISTERED`, `UNREGISTERED`.
    pub status: String,
    /// SHA-256 hex of the token the partner calls us with.
    pub incoming_token_hash: Option<String>,
    /// The token we call the partner with, sealed (see the migration).
    pub outgoing_token_sealed: Option<String>,
    pub version: Option<String>,
    pub versions_url: Option<String>,
    /// Their endpoints (OCPI `Endpoint` list), JSON.
    pub endpoints: String,
    /// Their roles (OCPI `CredentialsRole` list), JSON.
    pub roles: String,
    /// Our parties the partner is registered with.
    pub parties: Vec<Party>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A location of one of our parties.
#[derive(Debug, Clone, PartialEq)]
pub struct LocationRow {
    pub party: Party,
    pub id: String,
    /// Operator-added location data, JSON.
    pub data: String,
    pub last_updated: DateTime<Utc>,
    pub stations: Vec<StationId>,
}

/// A token an eMSP gave us.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRow {
    pub party: Party,
    pub uid: String,
    pub kind: String,
    pub partner_id: Option<i64>,
    /// The OCPI `Token` object, JSON.
    pub data: String,
    pub last_updated: DateTime<Utc>,
}

#[async_trait]
pub trait OcpiStore: Send + Sync + 'static {
    /// Create a partner (its `id` is ignored); returns the new id.
    async fn create_ocpi_partner(&self, partner: &Partner) -> Result<i64>;
    /// Replace a partner's row and parties. True if it exists.
    async fn save_ocpi_partner(&self, partner: &Partner) -> Result<bool>;
    async fn ocpi_partner(&self, id: i64) -> Result<Option<Partner>>;
    async fn ocpi_partner_by_token_hash(&self, hash: &str) -> Result<Option<Partner>>;
    async fn ocpi_partners(&self) -> Result<Vec<Partner>>;

    /// Create or replace a location and the stations it holds.
    async fn put_ocpi_location(&self, location: &LocationRow) -> Result<()>;
    async fn ocpi_location(&self, party: &Party, id: &str) -> Result<Option<LocationRow>>;
    /// Every location, ordered by (last_updated, country_code, party_id, id).
    async fn ocpi_locations(&self) -> Result<Vec<LocationRow>>;
    /// The location a station is in.
    async fn ocpi_location_of_station(
        &self,
        station: &StationId,
    ) -> Result<Option<(Party, String)>>;

    async fn put_ocpi_token(&self, token: &TokenRow) -> Result<()>;
    async fn ocpi_token(&self, party: &Party, uid: &str, kind: &str) -> Result<Option<TokenRow>>;
    /// Every token with this uid (any party, any type).
    async fn ocpi_tokens_by_uid(&self, uid: &str) -> Result<Vec<TokenRow>>;
}
