//! Credentials module: registration with tokens A / B / C in both directions, update (PUT),
//! unregister (DELETE).
//!
//! *A partner registers with us*: the operator created the partner and handed over token A
//! with our versions URL. The partner POSTs its credentials (its token B and versions URL)
//! with token A; we read its versions and version details with token B, pick the highest
//! version both speak, issue token C and answer with our credentials. Token A stops working;
//! from then on the partner calls us with C and we call it with B.
//!
//! *We register with a partner* ([`register_with`]): the operator gives us the partner's
//! versions URL and the token A it issued; we read its versions and details, issue our token
//! B, POST our credentials, and keep the token C it answers with.
//!
//! Our credentials list one role (CPO or EMSP, as configured) per party of ours the partner is
//! registered with.

use axum::body::Bytes;
use axum::extract::{Path, State};
use chrono::Utc;
use unicharge_ocpi::credentials::{Credentials, CredentialsRole};
use unicharge_ocpi::locations::BusinessDetails;
use unicharge_ocpi::transport::{HttpReply, StatusCode};
use unicharge_ocpi::versions::{Endpoint, ModuleId, VersionDetails, VersionInfo};
use unicharge_ocpi::Version;
use unicharge_store::ocpi::Partner;

use crate::auth::{Caller, PENDING, REGISTERED, UNREGISTERED};
use crate::client::{call, ClientError};
use crate::reply::{self, Answer, Reply};
use crate::scope;
use crate::secrets::{new_token, token_hash};
use crate::Ocpi;

/// Our credentials for `partner`, carrying `token`.
pub fn ours(ocpi: &Ocpi, partner: &Partner, token: String) -> Credentials {
    // Only parties still in our configuration: one removed from it is no longer ours to
    // publish (B8.2, see crate::roles).
    let roles = partner
        .parties
        .iter()
        .filter_map(|p| {
            let s = ocpi.settings().parties.iter().find(|s| {
                s.country_code.eq_ignore_ascii_case(&p.country_code)
                    && s.party_id.eq_ignore_ascii_case(&p.party_id)
            })?;
            Some(CredentialsRole {
                role: s.role.clone(),
                business_details: BusinessDetails {
                    name: s.name.clone(),
                    website: s.website.clone(),
                    logo: None,
                },
                party_id: p.party_id.clone(),
                country_code: p.country_code.clone(),
            })
        })
        .collect();
    Credentials {
        token,
        url: ocpi.versions_url(),
        hub_party_id: None,
        roles,
    }
}

/// What a partner's versions endpoint told us.
pub struct Discovered {
    pub version: Version,
    pub endpoints: Vec<Endpoint>,
}

/// Read the partner's versions and the details of the version to use: `prefer` (the version
/// of the endpoint the partner called) when the partner lists it, else the highest both speak.
pub async fn discover(
    ocpi: &Ocpi,
    versions_url: &str,
    token: &str,
    prefer: Option<&Version>,
) -> Result<Discovered, (StatusCode, String)> {
    // Both versions we speak send the token Base64-encoded; 2.2.1 stands for either here.
    let bootstrap = Version::V2_2_1;
    let unusable = |e: ClientError| (StatusCode::UNABLE_TO_USE_CLIENT_API, e.to_string());
    let versions: Vec<VersionInfo> = call(
        ocpi,
        reqwest::Method::GET,
        versions_url,
        token,
        &bootstrap,
        None::<&()>,
    )
    .await
    .map_err(unusable)?;
    let preferred = prefer
        .filter(|p| versions.iter().any(|v| &v.version == *p))
        .cloned();
    let version = preferred
        .or_else(|| Version::negotiate(&versions))
        .ok_or_else(|| {
            (
                StatusCode::UNSUPPORTED_VERSION,
                "no version in common: we speak 2.3.0 and 2.2.1".to_string(),
            )
        })?;
    let url = versions
        .iter()
        .find(|v| v.version == version)
        .map(|v| v.url.clone())
        .unwrap_or_default();
    let details: VersionDetails = call(
        ocpi,
        reqwest::Method::GET,
        &url,
        token,
        &version,
        None::<&()>,
    )
    .await
    .map_err(unusable)?;
    Ok(Discovered {
        version,
        endpoints: details.endpoints,
    })
}

pub async fn get(State(ocpi): State<Ocpi>, caller: Caller, Path(version): Path<String>) -> Answer {
    scope::version(&version)?;
    Ok(Reply::ok(&ours(&ocpi, &caller.partner, caller.token)))
}

/// POST: the partner registers (token A). 405 when it is registered already.
pub async fn post(
    State(ocpi): State<Ocpi>,
    caller: Caller,
    Path(version): Path<String>,
    bytes: Bytes,
) -> Answer {
    scope::version(&version)?;
    if caller.partner.status != PENDING {
        return Err(Reply::http(
            HttpReply::MethodNotAllowed,
            "already registered: use PUT to update the credentials, DELETE to unregister",
        ));
    }
    exchange(ocpi, caller, version, bytes).await
}

/// PUT: a registered partner updates its credentials (new token B, versions URL, roles) and
/// gets a new token C. 405 when not registered.
pub async fn put(
    State(ocpi): State<Ocpi>,
    caller: Caller,
    Path(version): Path<String>,
    bytes: Bytes,
) -> Answer {
    scope::version(&version)?;
    if caller.partner.status != REGISTERED {
        return Err(Reply::http(
            HttpReply::MethodNotAllowed,
            "not registered: POST the credentials first",
        ));
    }
    exchange(ocpi, caller, version, bytes).await
}

async fn exchange(ocpi: Ocpi, caller: Caller, called: String, bytes: Bytes) -> Answer {
    let called = scope::version(&called)?;
    let theirs: Credentials = reply::body(&bytes, "credentials")?;
    let how = if caller.partner.status == REGISTERED {
        crate::onboard::Registration::UpdatedByThem
    } else {
        crate::onboard::Registration::ByThem
    };
    if theirs.roles.is_empty() {
        return Err(Reply::invalid(
            "credentials.roles is empty: list at least one role",
        ));
    }
    let found = discover(&ocpi, &theirs.url, &theirs.token, Some(&called))
        .await
        .map_err(|(code, message)| Reply::error(code, message))?;
    let token_c = new_token();
    let roles_before = scope::partner_roles(&caller.partner);
    let mut partner = caller.partner;
    partner.status = REGISTERED.into();
    partner.incoming_token_hash = Some(token_hash(&token_c));
    partner.outgoing_token_sealed = Some(ocpi.sealer().seal(&theirs.token));
    partner.version = Some(found.version.as_str().to_string());
    partner.versions_url = Some(theirs.url.clone());
    partner.endpoints = serde_json::to_string(&found.endpoints).map_err(Reply::server_error)?;
    partner.roles = serde_json::to_string(&theirs.roles).map_err(Reply::server_error)?;
    partner.updated_at = Utc::now();
    ocpi.ocpi_store()
        .save_ocpi_partner(&partner)
        .await
        .map_err(Reply::server_error)?;
    tracing::info!(
        partner = partner.id,
        name = %partner.name,
        version = found.version.as_str(),
        "OCPI partner registered with us"
    );
    crate::emsp::tokens::partner_registered(&ocpi, &partner).await;
    crate::onboard::credentials_set(&ocpi, &partner, how).await;
    if how == crate::onboard::Registration::UpdatedByThem {
        crate::roles::received(&ocpi, &partner, &roles_before).await;
    }
    Ok(Reply::ok(&ours(&ocpi, &partner, token_c)))
}

/// DELETE: the partner unregisters; its token stops working and we stop calling it.
pub async fn delete(
    State(ocpi): State<Ocpi>,
    caller: Caller,
    Path(version): Path<String>,
) -> Answer {
    scope::version(&version)?;
    if caller.partner.status != REGISTERED {
        return Err(Reply::http(
            HttpReply::MethodNotAllowed,
            "not registered: nothing to unregister",
        ));
    }
    let mut partner = caller.partner;
    unregister(&ocpi, &mut partner).await?;
    Ok(Reply::ok_empty())
}

pub(crate) async fn unregister(ocpi: &Ocpi, partner: &mut Partner) -> Result<(), Reply> {
    partner.status = UNREGISTERED.into();
    partner.incoming_token_hash = None;
    partner.outgoing_token_sealed = None;
    partner.updated_at = Utc::now();
    ocpi.ocpi_store()
        .save_ocpi_partner(partner)
        .await
        .map_err(Reply::server_error)?;
    tracing::info!(partner = partner.id, name = %partner.name, "OCPI partner unregistered");
    Ok(())
}

/// Why registering with a partner failed.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("no partner {0}")]
    UnknownPartner(i64),
    #[error("partner {0} is registered already; unregister it first")]
    AlreadyRegistered(i64),
    #[error("the partner's platform: {1} (OCPI {0})")]
    Partner(StatusCode, String),
    #[error("the partner's version details list no credentials endpoint")]
    NoCredentialsEndpoint,
    #[error("store: {0}")]
    Store(#[from] unicharge_store::StoreError),
}

/// We register with a partner: its versions URL and the token A it gave the operator.
pub async fn register_with(
    ocpi: &Ocpi,
    partner_id: i64,
    versions_url: &str,
    token_a: &str,
) -> Result<Partner, RegisterError> {
    let store = ocpi.ocpi_store();
    let mut partner = store
        .ocpi_partner(partner_id)
        .await?
        .ok_or(RegisterError::UnknownPartner(partner_id))?;
    if partner.status == REGISTERED {
        return Err(RegisterError::AlreadyRegistered(partner_id));
    }
    let found = discover(ocpi, versions_url, token_a, None)
        .await
        .map_err(|(c, m)| RegisterError::Partner(c, m))?;
    let credentials_url = found
        .endpoints
        .iter()
        .find(|e| e.identifier == ModuleId::Credentials)
        .map(|e| e.url.clone())
        .ok_or(RegisterError::NoCredentialsEndpoint)?;
    // Token B is valid before we send it: the partner may call our versions with it while it
    // handles our POST.
    let token_b = new_token();
    partner.incoming_token_hash = Some(token_hash(&token_b));
    partner.updated_at = Utc::now();
    store.save_ocpi_partner(&partner).await?;
    let ours = ours(ocpi, &partner, token_b);
    let theirs: Credentials = call(
        ocpi,
        reqwest::Method::POST,
        &credentials_url,
        token_a,
        &found.version,
        Some(&ours),
    )
    .await
    .map_err(|e| RegisterError::Partner(StatusCode::UNABLE_TO_USE_CLIENT_API, e.to_string()))?;
    partner.status = REGISTERED.into();
    partner.outgoing_token_sealed = Some(ocpi.sealer().seal(&theirs.token));
    partner.version = Some(found.version.as_str().to_string());
    partner.versions_url = Some(versions_url.to_string());
    partner.endpoints = serde_json::to_string(&found.endpoints).unwrap_or_else(|_| "[]".into());
    partner.roles = serde_json::to_string(&theirs.roles).unwrap_or_else(|_| "[]".into());
    partner.updated_at = Utc::now();
    store.save_ocpi_partner(&partner).await?;
    tracing::info!(
        partner = partner.id,
        name = %partner.name,
        version = found.version.as_str(),
        "registered with OCPI partner"
    );
    crate::emsp::tokens::partner_registered(ocpi, &partner).await;
    crate::onboard::credentials_set(ocpi, &partner, crate::onboard::Registration::ByUs).await;
    Ok(partner)
}

/// The token we call `partner` with, and the version it speaks.
pub fn outgoing(ocpi: &Ocpi, partner: &Partner) -> Option<(String, Version)> {
    let token = ocpi
        .sealer()
        .open(partner.outgoing_token_sealed.as_deref()?)?;
    let version = partner
        .version
        .as_deref()
        .and_then(|v| v.parse().ok())
        .unwrap_or(Version::V2_2_1);
    Some((token, version))
}
