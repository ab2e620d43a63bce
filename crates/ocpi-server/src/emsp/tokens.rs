//! Our drivers' tokens (eMSP role, 2.2.1 §12): kept per eMSP party of ours, pushed to every
//! CPO partner registered with that party (PUT to its Tokens Receiver, through the outbox:
//! retried until taken, in order per token), served by the Tokens Sender (`GET {tokens}`,
//! paged, `date_from` / `date_to`), and answered in real-time authorization
//! (`POST {tokens}/{uid}/authorize[?type=]`, 404 / 2004 for a token we do not know).
//!
//! A partner registering with us later gets every token of the parties it is registered with.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
pub use unicharge_ocpi::tokens::Token;
use unicharge_ocpi::tokens::{AllowedType, AuthorizationInfo, LocationReferences};
use unicharge_ocpi::transport::StatusCode;
use unicharge_ocpi::types::Role;
use unicharge_store::ocpi::{OwnTokenRow, Partner, Party};

use crate::auth::{Caller, Registered};
use crate::operator::OperatorError;
use crate::push::{self, Push};
use crate::reply::{self, bounded, Answer, Reply};
use crate::{locations, scope, Ocpi};

/// Our eMSP parties the caller may read tokens of.
fn emsp_parties(ocpi: &Ocpi, caller: &Caller) -> Result<Vec<Party>, Reply> {
    let emsp = ocpi.settings().parties_with_role(&Role::Emsp);
    Ok(scope::visible_parties(caller)?
        .into_iter()
        .filter(|p| emsp.contains(p))
        .collect())
}

fn push_for(party: &Party, token: &Token, body: String, partner: &Partner) -> Push<'static> {
    Push {
        module: "tokens",
        key: format!(
            "token:{}/{}/{}/{}",
            party.country_code,
            party.party_id,
            token.uid,
            token.kind.as_str()
        ),
        method: "PUT",
        path: format!(
            "/{}/{}/{}?type={}",
            party.country_code,
            party.party_id,
            token.uid,
            token.kind.as_str()
        ),
        body: Some(body),
        from: party.clone(),
        to: push::partner_party(partner),
    }
}

/// Create or replace a token of one of our eMSP parties and push it to the CPO partners
/// registered with that party.
pub async fn put(ocpi: &Ocpi, token: &Token) -> Result<(), OperatorError> {
    let party = Party::new(&token.country_code, &token.party_id);
    if ocpi.settings().role_of(&party) != Some(Role::Emsp) {
        return Err(OperatorError::Invalid(format!(
            "{}*{} is not an eMSP party of ours (ocpi.parties with role = \"EMSP\")",
            party.country_code, party.party_id
        )));
    }
    if token.uid.is_empty() || token.uid.len() > 36 {
        return Err(OperatorError::Invalid(
            "a token uid has 1 to 36 characters".into(),
        ));
    }
    let body = serde_json::to_string(token).map_err(|e| OperatorError::Invalid(e.to_string()))?;
    ocpi.ocpi_store()
        .put_ocpi_own_token(&OwnTokenRow {
            party: party.clone(),
            uid: token.uid.clone(),
            kind: token.kind.as_str().to_string(),
            data: body.clone(),
            last_updated: token.last_updated,
        })
        .await?;
    let partners = push::partners_of(ocpi, &party)
        .await
        .map_err(|e| OperatorError::Invalid(e.body))?;
    for partner in partners {
        push::enqueue(
            ocpi,
            &partner,
            push_for(&party, token, body.clone(), &partner),
        )
        .await
        .map_err(|e| OperatorError::Invalid(e.body))?;
    }
    Ok(())
}

/// A partner just registered (either direction): push it every token of our eMSP parties it
/// is registered with.
pub async fn partner_registered(ocpi: &Ocpi, partner: &Partner) {
    let emsp = ocpi.settings().parties_with_role(&Role::Emsp);
    if !partner.parties.iter().any(|p| emsp.contains(p)) {
        return;
    }
    let rows = match ocpi.ocpi_store().ocpi_own_tokens().await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(partner = partner.id, error = %e, "OCPI: cannot read our tokens to push");
            return;
        }
    };
    for row in rows.iter().filter(|r| partner.parties.contains(&r.party)) {
        let Ok(token) = serde_json::from_str::<Token>(&row.data) else {
            continue;
        };
        let push = push_for(&row.party, &token, row.data.clone(), partner);
        if let Err(e) = push::enqueue(ocpi, partner, push).await {
            tracing::warn!(partner = partner.id, error = %e.body, "OCPI: cannot enqueue a token push");
        }
    }
}

/// Every token of our eMSP parties.
pub async fn all(ocpi: &Ocpi) -> Result<Vec<Token>, OperatorError> {
    Ok(ocpi
        .ocpi_store()
        .ocpi_own_tokens()
        .await?
        .iter()
        .filter_map(|r| serde_json::from_str(&r.data).ok())
        .collect())
}

/// `GET {tokens}`: the tokens of our eMSP parties the caller is registered with, paged.
pub async fn list(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path(version): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Answer {
    let version = scope::version(&version)?;
    let query = locations::list_query(&pairs)?;
    let parties = emsp_parties(&ocpi, &caller)?;
    let rows = ocpi
        .ocpi_store()
        .ocpi_own_tokens()
        .await
        .map_err(Reply::server_error)?;
    let mut items = Vec::new();
    for row in rows.into_iter().filter(|r| parties.contains(&r.party)) {
        let token: Token = serde_json::from_str(&row.data).map_err(Reply::server_error)?;
        let key = format!(
            "{}/{}/{}/{}",
            row.party.country_code, row.party.party_id, row.uid, row.kind
        );
        items.push((row.last_updated, key, token));
    }
    let endpoint = format!("{}/{}/emsp/tokens", ocpi.base_url(), version.as_str());
    Ok(locations::page(
        items,
        &query,
        ocpi.settings().max_page,
        &endpoint,
    ))
}

/// `POST {tokens}/{uid}/authorize[?type=RFID]`: may this token charge (at this location)?
pub async fn authorize(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, uid)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
    bytes: Bytes,
) -> Answer {
    scope::version(&version)?;
    let kind = pairs
        .iter()
        .find(|(k, _)| k == "type")
        .map_or("RFID", |(_, v)| v.as_str());
    let location: Option<LocationReferences> = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(reply::body(&bytes, "LocationReferences")?)
    };
    let parties = emsp_parties(&ocpi, &caller)?;
    let mut found = None;
    for party in &parties {
        if let Some(row) = ocpi
            .ocpi_store()
            .ocpi_own_token(party, &uid, kind)
            .await
            .map_err(Reply::server_error)?
        {
            found = Some(row);
            break;
        }
    }
    let row = found.ok_or_else(|| {
        Reply::not_found_object(
            StatusCode::UNKNOWN_TOKEN,
            format!("no token {} of type {}", bounded(&uid), bounded(kind)),
        )
    })?;
    let token: Token = serde_json::from_str(&row.data).map_err(Reply::server_error)?;
    let allowed = if token.valid {
        AllowedType::Allowed
    } else {
        AllowedType::Blocked
    };
    tracing::info!(partner = caller.partner.id, uid = %bounded(&uid), allowed = %allowed,
        "OCPI real-time authorization");
    Ok(Reply::ok(&AuthorizationInfo {
        authorization_reference: (allowed == AllowedType::Allowed)
            .then(|| crate::secrets::new_token()[..24].to_string()),
        allowed,
        token,
        location,
        info: None,
    }))
}
