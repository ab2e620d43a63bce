//! The declarative bootstrap file: stations (later tokens and tariffs) provisioned at start.
//!
//! ```toml
//! [[stations]]
//! id = "CP001"
//! security_profile = 1              # 1, 2 or 3
//! password = "a-strong-password-16-40"   # or password_hash = "$argon2id$..."
//! registration = "Accepted"         # or "Pending" / "Rejected"
//!
//! [[tokens]]
//! id_token = "04A2B3C4D5E6F7"
//! type = "ISO14443"                 # OCPP IdTokenEnumType
//! status = "Accepted"               # or Blocked, Expired, Invalid, ...
//! group_id_token = "FLEET-1"        # optional
//! expiry = "2030-01-01T00:00:00Z"   # optional
//! ```
//!
//! The file is the truth for what it states: a listed station is created when missing, and its
//! profile, registration and password are set to the file's values at every start. A plain
//! `password` is hashed (salted Argon2id) before it is stored; the stored hash is only replaced
//! when it does not already match, so restarts do not churn. Stations not listed are left alone.

use std::path::Path;

use chrono::Utc;
use serde::Deserialize;
use unicharge_core::credentials::{check_password_policy, hash_password, verify_password};
use unicharge_core::tokens::{IdTokenRecord, AUTHORIZATION_STATUSES};
use unicharge_core::{RegistrationStatus, SecurityProfile, Station, StationId};
use unicharge_store::Store;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bootstrap {
    #[serde(default)]
    pub stations: Vec<BootstrapStation>,
    #[serde(default)]
    pub tokens: Vec<IdTokenRecord>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapStation {
    pub id: StationId,
    #[serde(default = "default_profile")]
    pub security_profile: SecurityProfile,
    pub password: Option<String>,
    pub password_hash: Option<String>,
    #[serde(default = "default_registration")]
    pub registration: RegistrationStatus,
}

fn default_profile() -> SecurityProfile {
    SecurityProfile::BasicAuth
}

fn default_registration() -> RegistrationStatus {
    RegistrationStatus::Accepted
}

impl Bootstrap {
    pub fn load(path: &Path) -> anyhow::Result<Bootstrap> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read bootstrap file {}: {e}", path.display()))?;
        let bootstrap: Bootstrap = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("bootstrap file {}: {e}", path.display()))?;
        for s in &bootstrap.stations {
            if s.password.is_some() && s.password_hash.is_some() {
                anyhow::bail!(
                    "bootstrap file {}: station {} has both password and password_hash; keep one",
                    path.display(),
                    s.id
                );
            }
            if let Some(p) = &s.password {
                check_password_policy(p).map_err(|e| {
                    anyhow::anyhow!("bootstrap file {}: station {}: {e}", path.display(), s.id)
                })?;
            }
        }
        for t in &bootstrap.tokens {
            if !AUTHORIZATION_STATUSES.contains(&t.status.as_str()) {
                anyhow::bail!(
                    "bootstrap file {}: token {}: status {:?} is not one of {AUTHORIZATION_STATUSES:?}",
                    path.display(),
                    t.id_token,
                    t.status
                );
            }
        }
        Ok(bootstrap)
    }

    /// Bring the store in line with the file. Returns how many stations it names.
    pub async fn apply(&self, store: &dyn Store) -> anyhow::Result<usize> {
        for token in &self.tokens {
            store.upsert_token(token).await?;
        }
        if !self.tokens.is_empty() {
            tracing::info!(tokens = self.tokens.len(), "bootstrap: tokens provisioned");
        }
        for entry in &self.stations {
            let existing = store.get_station(&entry.id).await?;
            let mut station = existing.clone().unwrap_or_else(|| {
                Station::new(entry.id.clone(), entry.security_profile, Utc::now())
            });
            station.security_profile = entry.security_profile;
            station.registration = entry.registration;
            if let Some(hash) = &entry.password_hash {
                station.password_hash = Some(hash.clone());
            } else if let Some(password) = &entry.password {
                let matches = station
                    .password_hash
                    .as_deref()
                    .is_some_and(|h| verify_password(password, h));
                if !matches {
                    station.password_hash = Some(hash_password(password)?);
                }
            }
            store.upsert_station(&station).await?;
            tracing::info!(station = %entry.id, profile = %entry.security_profile,
                created = existing.is_none(), "bootstrap: station provisioned");
        }
        Ok(self.stations.len())
    }
}
