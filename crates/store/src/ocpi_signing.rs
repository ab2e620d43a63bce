//! Keys that sign OCPI payloads (migration 0101, B8.5, ADR 0051): per partner, the public keys
//! it publishes in the `x-unicharge-signing` module and the keys the operator trusts to sign
//! on its behalf (a hub that enriches data). Public keys only: our own private key is a file in
//! the data directory, never in the store.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

/// The partner published the key in its signing module (replaced on every fetch).
pub const PUBLISHED: &str = "PUBLISHED";
/// The operator trusts the key for this partner's data (an enricher, e.g. a hub).
pub const TRUSTED: &str = "TRUSTED";

/// One Ed25519 public key a partner's payloads may be signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRow {
    pub partner_id: i64,
    /// [`PUBLISHED`] or [`TRUSTED`].
    pub source: String,
    /// The JWS `kid`: the key's JWK thumbprint (RFC 7638).
    pub kid: String,
    /// The raw 32-octet public key, base64url without padding (the JWK's `x`).
    pub public_key: String,
    /// Who the key belongs to, as the operator wrote it (trusted keys).
    pub label: Option<String>,
    pub added_at: DateTime<Utc>,
}

#[async_trait]
pub trait OcpiSigningKeys: Send + Sync + 'static {
    /// Every key of the partner, published and trusted.
    async fn ocpi_signing_keys(&self, partner_id: i64) -> Result<Vec<SigningKeyRow>>;
    /// Replace the partner's published keys with `keys` (one transaction: a verifier never
    /// sees the set half replaced).
    async fn replace_ocpi_published_keys(
        &self,
        partner_id: i64,
        keys: &[SigningKeyRow],
    ) -> Result<()>;
    /// Add (or relabel) a key the operator trusts for the partner.
    async fn put_ocpi_trusted_key(&self, row: &SigningKeyRow) -> Result<()>;
    /// Remove a trusted key; true if there was one.
    async fn delete_ocpi_trusted_key(&self, partner_id: i64, kid: &str) -> Result<bool>;
}
