//! Operator API keys: `uc_<id>_<secret>` bearer tokens.
//!
//! The id (12 characters) is public and finds the key; the secret (32 characters, ~190 bits) is
//! shown once at creation and stored only as a salted SHA-256. A slow hash such as Argon2 adds
//! nothing for a random secret of that entropy and would cost milliseconds per API request.

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApiRole {
    /// Read anything.
    ReadOnly,
    /// Read anything and act on stations (commands, station settings).
    Operator,
    /// Everything, including API keys.
    Admin,
}

impl ApiRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiRole::ReadOnly => "read-only",
            ApiRole::Operator => "operator",
            ApiRole::Admin => "admin",
        }
    }
}

impl fmt::Display for ApiRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ApiRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "read-only" => Ok(ApiRole::ReadOnly),
            "operator" => Ok(ApiRole::Operator),
            "admin" => Ok(ApiRole::Admin),
            other => Err(format!(
                "unknown role {other:?}: use admin, operator or read-only"
            )),
        }
    }
}

/// A freshly generated key: `token` is shown once, the rest is stored.
pub struct NewApiKey {
    pub id: String,
    pub token: String,
    pub salt: String,
    pub secret_hash: String,
}

const ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn random_string(len: usize) -> String {
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| ALPHANUMERIC[rng.gen_range(0..ALPHANUMERIC.len())] as char)
        .collect()
}

/// Generate a new key.
pub fn generate_api_key() -> NewApiKey {
    let id = random_string(12);
    let secret = random_string(32);
    let salt = random_string(16);
    let secret_hash = hash_secret(&salt, &secret);
    NewApiKey {
        token: format!("uc_{id}_{secret}"),
        id,
        salt,
        secret_hash,
    }
}

/// Split a bearer token into (id, secret).
pub fn parse_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix("uc_")?;
    let (id, secret) = rest.split_once('_')?;
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

/// Hex SHA-256 of salt || secret.
pub fn hash_secret(salt: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(secret.as_bytes());
    hex::encode(h.finalize())
}

/// Constant-time check of a presented secret against the stored hash.
pub fn verify_secret(salt: &str, secret: &str, secret_hash: &str) -> bool {
    let computed = hash_secret(salt, secret);
    computed.len() == secret_hash.len()
        && computed
            .bytes()
            .zip(secret_hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_parses_and_verifies_only_itself() {
        let key = generate_api_key();
        let (id, secret) = parse_token(&key.token).unwrap();
        assert_eq!(id, key.id);
        assert!(verify_secret(&key.salt, secret, &key.secret_hash));
        assert!(!verify_secret(&key.salt, "x", &key.secret_hash));
        assert!(!key.secret_hash.contains(secret));
        assert!(parse_token("Bearer nonsense").is_none());
        assert!(parse_token("uc__x").is_none());
    }

    #[test]
    fn roles_are_ordered_by_power_and_parse() {
        assert!(ApiRole::ReadOnly < ApiRole::Operator && ApiRole::Operator < ApiRole::Admin);
        for r in [ApiRole::ReadOnly, ApiRole::Operator, ApiRole::Admin] {
            assert_eq!(r.as_str().parse::<ApiRole>(), Ok(r));
        }
    }
}
