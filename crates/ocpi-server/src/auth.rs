//! Who is calling: the partner whose credentials token is in `Authorization: Token …`.
//!
//! The header may carry the token Base64-encoded (2.2.x) or as is (2.1.1 habit); each reading
//! is hashed and looked up. A missing or unknown token is HTTP 401. Token A (partner still
//! `PENDING`) opens only versions, version details and the credentials module.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use unicharge_ocpi::transport::ReceivedToken;
use unicharge_store::ocpi::Partner;

use crate::reply::Reply;
use crate::secrets::token_hash;
use crate::Ocpi;

pub const PENDING: &str = "PENDING";
pub const REGISTERED: &str = "REGISTERED";
pub const UNREGISTERED: &str = "UNREGISTERED";

/// A partner with a valid token (A, B or C).
#[derive(Debug, Clone)]
pub struct Caller {
    pub partner: Partner,
    /// The token as the partner presented it (credentials GET returns it).
    pub token: String,
    pub headers: axum::http::HeaderMap,
}

/// A partner that completed the credentials exchange.
#[derive(Debug, Clone)]
pub struct Registered(pub Caller);

impl FromRequestParts<Ocpi> for Caller {
    type Rejection = Reply;

    async fn from_request_parts(parts: &mut Parts, ocpi: &Ocpi) -> Result<Self, Reply> {
        // Found already by the signing middleware (crate::signing::guard).
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let received =
            ReceivedToken::from_header(header).map_err(|e| Reply::unauthorized(e.to_string()))?;
        for candidate in received.candidates() {
            let found = ocpi
                .ocpi_store()
                .ocpi_partner_by_token_hash(&token_hash(candidate))
                .await
                .map_err(Reply::server_error)?;
            if let Some(partner) = found {
                tracing::debug!(partner = partner.id, name = %partner.name, "OCPI request");
                return Ok(Caller {
                    partner,
                    token: candidate.to_string(),
                    headers: parts.headers.clone(),
                });
            }
        }
        // A new token sent in a credentials PUT the partner has not acknowledged yet opens
        // our endpoints too (B8.1, see crate::rotation).
        for candidate in received.candidates() {
            let store = ocpi.ocpi_store();
            let pending = store
                .ocpi_partner_by_pending_token_hash(&token_hash(candidate))
                .await
                .map_err(Reply::server_error)?;
            if let Some(id) = pending {
                let partner = store.ocpi_partner(id).await.map_err(Reply::server_error)?;
                // Only while the partnership lasts: unregistering voids it with the others.
                if let Some(partner) = partner.filter(|p| p.status == REGISTERED) {
                    tracing::debug!(partner = partner.id, "OCPI request with the rotating token");
                    return Ok(Caller {
                        partner,
                        token: candidate.to_string(),
                        headers: parts.headers.clone(),
                    });
                }
            }
        }
        Err(Reply::unauthorized(
            "unknown credentials token; use the token you were given (token A) or the one \
             the credentials exchange returned",
        ))
    }
}

impl FromRequestParts<Ocpi> for Registered {
    type Rejection = Reply;

    async fn from_request_parts(parts: &mut Parts, ocpi: &Ocpi) -> Result<Self, Reply> {
        let caller = Caller::from_request_parts(parts, ocpi).await?;
        if caller.partner.status != REGISTERED {
            return Err(Reply::unauthorized(
                "this token only opens versions and credentials: register first \
                 (POST credentials)",
            ));
        }
        Ok(Registered(caller))
    }
}
