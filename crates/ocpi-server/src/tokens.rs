//! Tokens module, Receiver (CPO): eMSPs push their drivers' tokens. Each is kept as the OCPI
//! object and becomes a CSMS idToken, so an OCPP station's Authorize / TransactionEvent with
//! it is accepted (whitelist ALWAYS / ALLOWED / ALLOWED_OFFLINE and valid), blocked (not valid)
//! or left unknown (whitelist NEVER: real-time authorization with the eMSP, not built yet).
//!
//! A partner writes tokens of its own parties only (the roles of its credentials).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use unicharge_core::tokens::IdTokenRecord;
use unicharge_ocpi::tokens::{Token, TokenType, WhitelistType};
use unicharge_ocpi::transport::StatusCode;
use unicharge_ocpp::v201::IdTokenEnumType;
use unicharge_store::ocpi::{Party, TokenRow};

use crate::auth::{Caller, Registered};
use crate::reply::{self, Answer, Reply};
use crate::scope;
use crate::Ocpi;

/// OCPI token type → OCPP IdTokenEnumType.
pub fn ocpp_kind(kind: &TokenType) -> IdTokenEnumType {
    match kind {
        TokenType::Rfid => IdTokenEnumType::Iso14443,
        TokenType::Emaid => IdTokenEnumType::EMaid,
        _ => IdTokenEnumType::Central,
    }
}

/// Keep `token` and give the CSMS the matching idToken.
pub async fn accept(ocpi: &Ocpi, partner_id: i64, token: &Token) -> Result<(), Reply> {
    let row = TokenRow {
        party: Party::new(&token.country_code, &token.party_id),
        uid: token.uid.clone(),
        kind: token.kind.as_str().to_string(),
        partner_id: Some(partner_id),
        data: serde_json::to_string(token).map_err(Reply::server_error)?,
        last_updated: token.last_updated,
    };
    ocpi.ocpi_store()
        .put_ocpi_token(&row)
        .await
        .map_err(Reply::server_error)?;
    let status = if !token.valid {
        Some("Blocked")
    } else if token.whitelist == WhitelistType::Never {
        None
    } else {
        Some("Accepted")
    };
    let kind = ocpp_kind(&token.kind);
    match status {
        Some(status) => ocpi
            .store()
            .upsert_token(&IdTokenRecord {
                id_token: token.uid.clone(),
                kind: kind.as_str().into(),
                status: status.into(),
                expiry: None,
                group_id_token: token.group_id.clone(),
            })
            .await
            .map_err(Reply::server_error)?,
        None => {
            ocpi.store()
                .delete_token(&token.uid, kind.as_str())
                .await
                .map_err(Reply::server_error)?;
        }
    }
    tracing::debug!(partner = partner_id, uid = %token.uid, "OCPI token stored");
    Ok(())
}

fn token_type(pairs: &[(String, String)]) -> TokenType {
    pairs
        .iter()
        .find(|(k, _)| k == "type")
        .map(|(_, v)| v.parse().unwrap_or(TokenType::Rfid))
        .unwrap_or(TokenType::Rfid)
}

fn own_party(caller: &Caller, country_code: &str, party_id: &str) -> Result<Party, Reply> {
    let party = Party::new(country_code, party_id);
    if scope::is_partner_party(&caller.partner, &party) {
        Ok(party)
    } else {
        Err(Reply::not_found_object(
            StatusCode::CLIENT_ERROR,
            format!(
                "{}/{} is not one of the roles you registered",
                reply::bounded(country_code),
                reply::bounded(party_id)
            ),
        ))
    }
}

async fn stored(ocpi: &Ocpi, party: &Party, uid: &str, kind: &TokenType) -> Result<Token, Reply> {
    let row = ocpi
        .ocpi_store()
        .ocpi_token(party, uid, kind.as_str())
        .await
        .map_err(Reply::server_error)?
        .ok_or_else(|| {
            Reply::not_found_object(
                StatusCode::UNKNOWN_TOKEN,
                format!("no token {}", reply::bounded(uid)),
            )
        })?;
    serde_json::from_str(&row.data).map_err(Reply::server_error)
}

pub async fn get(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, country_code, party_id, uid)): Path<(String, String, String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Answer {
    scope::version(&version)?;
    let party = own_party(&caller, &country_code, &party_id)?;
    Ok(Reply::ok(
        &stored(&ocpi, &party, &uid, &token_type(&pairs)).await?,
    ))
}

pub async fn put(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, country_code, party_id, uid)): Path<(String, String, String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
    bytes: Bytes,
) -> Answer {
    scope::version(&version)?;
    let party = own_party(&caller, &country_code, &party_id)?;
    let token: Token = reply::body(&bytes, "Token")?;
    if Party::new(&token.country_code, &token.party_id) != party
        || token.uid != uid
        || token.kind != token_type(&pairs)
    {
        return Err(Reply::invalid(
            "the token's country_code, party_id, uid and type must match the URL",
        ));
    }
    accept(&ocpi, caller.partner.id, &token).await?;
    Ok(Reply::ok_empty())
}

pub async fn patch(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, country_code, party_id, uid)): Path<(String, String, String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
    bytes: Bytes,
) -> Answer {
    scope::version(&version)?;
    let party = own_party(&caller, &country_code, &party_id)?;
    let kind = token_type(&pairs);
    let current = stored(&ocpi, &party, &uid, &kind).await?;
    let body: serde_json::Value = reply::body(&bytes, "Token PATCH")?;
    let patched = unicharge_ocpi::patch::apply(&current, &body)
        .map_err(|e| Reply::error(e.status_code(), e.to_string()))?;
    if patched.uid != current.uid
        || patched.kind != current.kind
        || Party::new(&patched.country_code, &patched.party_id) != party
    {
        return Err(Reply::invalid(
            "a PATCH may not change the token's identity",
        ));
    }
    accept(&ocpi, caller.partner.id, &patched).await?;
    Ok(Reply::ok_empty())
}
