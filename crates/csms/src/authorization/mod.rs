//! Functional block C, Authorization: who may charge, answered from the token store (C01),
//! with a cache expiry when configured (C10). Local lists (D) are pushed by the operator API;
//! ClearCache is an operator command.

pub mod authorize;

use chrono::Utc;
use unicharge_core::tokens::decide;
use unicharge_ocpp::v201::{
    AuthorizationStatusEnumType, IdTokenEnumType, IdTokenInfoType, IdTokenType,
};

use crate::dispatch::{internal, CallRefusal, StationContext};

/// The `idTokenInfo` for a presented token: `Unknown` when the CSMS does not know it, `Expired`
/// past its expiry, otherwise its stored status, with its group (`groupIdToken`). A
/// `NoAuthorization` token (free charging, no token presented) is always Accepted.
pub async fn id_token_info(
    ctx: &StationContext,
    token: &IdTokenType,
) -> Result<IdTokenInfoType, CallRefusal> {
    let (status, group) = if token.r#type == IdTokenEnumType::NoAuthorization {
        ("Accepted".to_string(), None)
    } else {
        let record = ctx
            .store
            .find_token(&token.id_token, token.r#type.as_str())
            .await
            .map_err(internal)?;
        let decision = decide(record.as_ref(), Utc::now());
        (decision.status, decision.group_id_token)
    };
    let status: AuthorizationStatusEnumType = serde_json::from_value(serde_json::json!(status))
        .unwrap_or(AuthorizationStatusEnumType::Invalid);
    // C01/C10: how long the station may keep an Accepted answer in its Authorization Cache.
    let cache_expiry_date_time = match ctx.config.auth_cache_lifetime {
        Some(lifetime) if status == AuthorizationStatusEnumType::Accepted => {
            chrono::Duration::from_std(lifetime)
                .ok()
                .and_then(|d| Utc::now().checked_add_signed(d))
        }
        _ => None,
    };
    Ok(IdTokenInfoType {
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
    })
}
