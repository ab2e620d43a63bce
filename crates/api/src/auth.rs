//! API keys and roles.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use chrono::Utc;
use unicharge_core::api_keys::{generate_api_key, parse_token, verify_secret, ApiRole};
use unicharge_store::{ApiKeyRecord, Store};

use crate::{ApiError, ApiState};

/// Who is calling: the key that authenticated the request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: String,
    pub role: ApiRole,
}

impl Caller {
    /// The caller as the CSMS's operations name who asked (kept in the command log).
    pub fn requester(&self) -> unicharge_csms::Requester {
        unicharge_csms::Requester::operator(self.key_id.clone())
    }

    /// `require`, then the caller as a requester: the start of every operator operation.
    pub fn operator(&self) -> Result<unicharge_csms::Requester, ApiError> {
        self.require(ApiRole::Operator)?;
        Ok(self.requester())
    }

    /// Refuse with 403 unless the caller's role is at least `needed`.
    pub fn require(&self, needed: ApiRole) -> Result<(), ApiError> {
        if self.role >= needed {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "this needs the {needed} role; key {} is {}",
                    self.key_id, self.role
                ),
            ))
        }
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                unauthorized(
                    "send an API key: `Authorization: Bearer uc_…` (`unicharge api-key create`)",
                )
            })?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| unauthorized("use the Bearer scheme"))?
            .trim();
        verify_token(state.store.as_ref(), token).await
    }
}

/// The caller an API key token (`uc_<id>_<secret>`) names, if it is a valid, unrevoked key:
/// the one check behind the `Authorization` header and the web UI's login form.
pub async fn verify_token(store: &dyn Store, token: &str) -> Result<Caller, ApiError> {
    let (id, secret) = parse_token(token).ok_or_else(|| unauthorized("not an API key"))?;
    let key = store
        .get_api_key(id)
        .await?
        .filter(|k| k.revoked_at.is_none())
        .filter(|k| verify_secret(&k.salt, secret, &k.secret_hash))
        .ok_or_else(|| unauthorized("unknown or revoked API key"))?;
    let role = key.role.parse().map_err(ApiError::internal)?;
    Ok(Caller {
        key_id: key.id,
        role,
    })
}

/// Create an API key; returns the token, which is shown once and stored only as a hash.
pub async fn create_key(
    store: &dyn Store,
    name: &str,
    role: ApiRole,
) -> Result<(String, ApiKeyRecord), ApiError> {
    let key = generate_api_key();
    let record = ApiKeyRecord {
        id: key.id,
        name: name.to_string(),
        role: role.as_str().to_string(),
        salt: key.salt,
        secret_hash: key.secret_hash,
        created_at: Utc::now(),
        revoked_at: None,
    };
    store.create_api_key(&record).await?;
    Ok((key.token, record))
}

/// On first start (no active admin key), create one and return its token to print once.
pub async fn ensure_admin_key(store: &dyn Store) -> Result<Option<String>, ApiError> {
    let keys = store.list_api_keys().await?;
    if keys
        .iter()
        .any(|k| k.role == ApiRole::Admin.as_str() && k.revoked_at.is_none())
    {
        return Ok(None);
    }
    let (token, _) = create_key(store, "initial admin", ApiRole::Admin).await?;
    Ok(Some(token))
}
