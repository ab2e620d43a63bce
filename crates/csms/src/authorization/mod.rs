//! Functional block C, Authorization: who may charge, answered from the token store (C01), with
//! a cache expiry when configured (C10), and the Authorization Cache operation (C11,
//! [`clear_cache`]). The one builder of `idTokenInfo` lives here: Authorize, TransactionEvent
//! and the local authorization list (block D) all describe a token the same way.

pub mod authorize;
pub mod clear_cache;

use chrono::{DateTime, Utc};
use unicharge_core::tokens::{decide, IdTokenRecord};
use unicharge_ocpp::v201::{
    AuthorizationStatusEnumType, IdTokenEnumType, IdTokenInfoType, IdTokenType,
};

use crate::dispatch::{internal, CallRefusal, StationContext};

/// Until when a station may keep an answer about a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheExpiry {
    /// C01/C10: an Accepted answer may be cached this long from now (`None`: the station's own
    /// AuthCacheLifeTime applies).
    Lifetime(Option<std::time::Duration>),
    /// D01: a local-list entry is valid until the token itself expires.
    TokenExpiry,
}

/// The `idTokenInfo` describing a token as the token store has it now: `Unknown` when the CSMS
/// does not know it, `Expired` past its expiry, otherwise its stored status, with its group
/// (`groupIdToken`, type Central). A `NoAuthorization` token (free charging, no token
/// presented) is always Accepted.
pub fn describe(
    kind: IdTokenEnumType,
    record: Option<&IdTokenRecord>,
    now: DateTime<Utc>,
    expiry: CacheExpiry,
) -> IdTokenInfoType {
    let (status, group) = if kind == IdTokenEnumType::NoAuthorization {
        (AuthorizationStatusEnumType::Accepted, None)
    } else {
        let decision = decide(record, now);
        let status = serde_json::from_value(serde_json::Value::String(decision.status))
            .unwrap_or(AuthorizationStatusEnumType::Invalid);
        (status, decision.group_id_token)
    };
    let cache_expiry_date_time = match expiry {
        CacheExpiry::Lifetime(Some(lifetime))
            if status == AuthorizationStatusEnumType::Accepted =>
        {
            chrono::Duration::from_std(lifetime)
                .ok()
                .and_then(|d| now.checked_add_signed(d))
        }
        CacheExpiry::Lifetime(_) => None,
        // The station must not accept the token from its list after it expires.
        CacheExpiry::TokenExpiry => record.and_then(|r| r.expiry).filter(|e| *e > now),
    };
    IdTokenInfoType {
        custom_data: None,
        status,
        cache_expiry_date_time,
        charging_priority: None,
        language1: None,
        evse_id: None,
        group_id_token: group.map(|g| IdTokenType {
            custom_data: None,
            additional_info: None,
            id_token: g,
            r#type: IdTokenEnumType::Central,
        }),
        language2: None,
        personal_message: None,
    }
}

/// The `idTokenInfo` answered for a token a station presents (Authorize, TransactionEvent).
pub async fn id_token_info(
    ctx: &StationContext,
    token: &IdTokenType,
) -> Result<IdTokenInfoType, CallRefusal> {
    let record = if token.r#type == IdTokenEnumType::NoAuthorization {
        None
    } else {
        ctx.store
            .find_token(&token.id_token, token.r#type.as_str())
            .await
            .map_err(internal)?
    };
    Ok(describe(
        token.r#type,
        record.as_ref(),
        Utc::now(),
        CacheExpiry::Lifetime(ctx.config.auth_cache_lifetime),
    ))
}
