//! Signed payloads (B8.5, ADR 0051): we sign what we send, publish our public key, fetch the
//! keys of partners that sign, and refuse a body from such a partner whose signature does not
//! verify. The format (detached JWS, EdDSA) is in [`unicharge_ocpi::signing`].
//!
//! * **Our key** is an Ed25519 key in `<data_dir>/ocpi-signing.key` (PKCS#8, created 0600 on
//!   first start, its path logged). Every request body we send carries its signature, every
//!   response to a partner that publishes the module too; a plain partner ignores the header.
//! * **Their keys**: a partner that publishes [`MODULE_ID`] in its version details signs its
//!   payloads; its keys are fetched from that module after each credentials exchange and again
//!   when a signature names a key we do not know (it rotated), at most once per
//!   [`REFRESH_EVERY`] per partner after a successful fetch.
//! * **Trusted enrichers**: the operator may trust further keys for a partner (a hub that
//!   enriches the partner's data and signs the result), through the API. A partner with
//!   trusted keys must sign too, even without the module.
//! * **On receipt** ([`guard`]): a request with a body from a partner that signs must carry a
//!   signature that verifies with one of its keys, else HTTP 400 with OCPI 2001, a warning
//!   naming the partner, and nothing stored. The eMSP role checks the pages it pulls the same
//!   way ([`check_response`]).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode as Http};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use unicharge_ocpi::signing::{self, Jwk, PublicKey, SignatureError, SigningKey, MODULE_ID};
use unicharge_ocpi::versions::{Endpoint, InterfaceRole};
use unicharge_store::ocpi::Partner;
use unicharge_store::ocpi_signing::{SigningKeyRow, PUBLISHED};

use crate::auth::Caller;
use crate::reply::{bounded, Answer, Reply};
use crate::Ocpi;

/// The header in the lower case `http` wants.
const HEADER_LC: &str = "x-unicharge-signature";
/// The largest body we buffer to verify or sign (OCPI pages are bounded far below this).
const MAX_BODY: usize = 16 * 1024 * 1024;
/// How soon after a successful fetch a partner's keys are fetched again for an unknown kid.
pub const REFRESH_EVERY: Duration = Duration::from_secs(30);

/// Our key and the pace of key fetches.
pub struct Signatures {
    key: SigningKey,
    fetched: Mutex<HashMap<i64, Instant>>,
}

impl Signatures {
    /// Read `path`, or create it (0600) with a new key.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Signatures> {
        let pkcs8 = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let pkcs8 = SigningKey::generate_pkcs8()?;
                crate::secrets::create_private(path, &pkcs8, "OCPI signing key")?;
                tracing::info!(path = %path.display(),
                    "OCPI: created our signing key (Ed25519, B8.5); back it up with the database");
                pkcs8
            }
            Err(e) => anyhow::bail!("cannot read the OCPI signing key {}: {e}", path.display()),
        };
        let key = SigningKey::from_pkcs8(&pkcs8).map_err(|e| {
            anyhow::anyhow!(
                "{}: {e}; restore it from a backup, or delete it to make a new one (partners \
                 fetch the new public key on the next signature they cannot check)",
                path.display()
            )
        })?;
        Ok(Signatures {
            key,
            fetched: Mutex::new(HashMap::new()),
        })
    }

    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The header value for `body`.
    pub fn sign(&self, body: &[u8]) -> String {
        self.key.sign(body)
    }
}

/// `GET {version}/{cpo|emsp}/x-unicharge-signing`: our public keys (any valid token: they are
/// public, and a partner may want them before it finishes registering).
pub async fn keys(State(ocpi): State<Ocpi>, _caller: Caller) -> Answer {
    Ok(Reply::ok(&[ocpi.signatures().key().jwk().clone()]))
}

/// The partner publishes the signing module: it signs what it sends and wants our signatures.
pub fn partner_signs(partner: &Partner) -> bool {
    key_endpoint(partner).is_some()
}

fn key_endpoint(partner: &Partner) -> Option<String> {
    let endpoints: Vec<Endpoint> = serde_json::from_str(&partner.endpoints).ok()?;
    endpoints
        .into_iter()
        .find(|e| e.identifier.as_str() == MODULE_ID && e.role == InterfaceRole::Sender)
        .map(|e| e.url)
}

/// Fetch the partner's published keys and store them (replacing the ones before). Nothing is
/// done for a partner without the module. Returns how many keys it published.
pub async fn fetch_keys(ocpi: &Ocpi, partner: &Partner) -> Result<usize, String> {
    let Some(url) = key_endpoint(partner) else {
        return Ok(0);
    };
    let (token, version) = crate::credentials::outgoing(ocpi, partner)
        .ok_or("no credentials to call the partner with")?;
    let jwks: Vec<Jwk> = crate::client::call(
        ocpi,
        reqwest::Method::GET,
        &url,
        &token,
        &version,
        None::<&()>,
    )
    .await
    .map_err(|e| e.to_string())?;
    let now = Utc::now();
    let mut rows = Vec::new();
    for jwk in jwks.iter().take(16) {
        match jwk.public_key() {
            Ok(key) => rows.push(SigningKeyRow {
                partner_id: partner.id,
                source: PUBLISHED.into(),
                kid: key.kid.clone(),
                public_key: key.x(),
                label: None,
                added_at: now,
            }),
            Err(e) => tracing::warn!(partner = partner.id, error = %bounded(&e.to_string()),
                "OCPI: the partner published a signing key we cannot use; skipped"),
        }
    }
    ocpi.ocpi_store()
        .replace_ocpi_published_keys(partner.id, &rows)
        .await
        .map_err(|e| e.to_string())?;
    if let Ok(mut fetched) = ocpi.signatures().fetched.lock() {
        fetched.insert(partner.id, Instant::now());
    }
    tracing::info!(
        partner = partner.id,
        keys = rows.len(),
        "OCPI: partner signing keys fetched"
    );
    Ok(rows.len())
}

/// After a credentials exchange: fetch the partner's keys in the background.
pub fn refresh_in_background(ocpi: &Ocpi, partner: &Partner) {
    if !partner_signs(partner) {
        return;
    }
    let (ocpi, partner) = (ocpi.clone(), partner.clone());
    tokio::spawn(async move {
        if let Err(e) = fetch_keys(&ocpi, &partner).await {
            tracing::warn!(partner = partner.id, error = %bounded(&e),
                "OCPI: cannot fetch the partner's signing keys; retried on its next signed call");
        }
    });
}

/// The keys the partner's payloads may be signed with (published and trusted).
async fn keys_of(ocpi: &Ocpi, partner_id: i64) -> Result<Vec<PublicKey>, String> {
    let rows = ocpi
        .ocpi_store()
        .ocpi_signing_keys(partner_id)
        .await
        .map_err(|e| e.to_string())?;
    Ok(rows
        .iter()
        .filter_map(|row| PublicKey::from_x(&row.public_key).ok())
        .collect())
}

/// What a partner's payload must satisfy: None when the partner does not sign.
async fn expected_keys(ocpi: &Ocpi, partner: &Partner) -> Result<Option<Vec<PublicKey>>, String> {
    let keys = keys_of(ocpi, partner.id).await?;
    Ok((partner_signs(partner) || !keys.is_empty()).then_some(keys))
}

/// Verify `body` from the partner, fetching its keys again once when the signature names a
/// key we do not have (a rotation) and the last fetch is older than [`REFRESH_EVERY`].
pub async fn check(
    ocpi: &Ocpi,
    partner: &Partner,
    header: Option<&str>,
    body: &[u8],
) -> Result<Option<String>, SignatureError> {
    let keys = match expected_keys(ocpi, partner).await {
        Ok(Some(keys)) => keys,
        Ok(None) => return Ok(None),
        Err(e) => return Err(SignatureError::Malformed(format!("keys unavailable: {e}"))),
    };
    match signing::verify(header, body, &keys) {
        Err(SignatureError::UnknownKey(kid)) if may_refresh(ocpi, partner.id) => {
            if let Err(e) = fetch_keys(ocpi, partner).await {
                tracing::warn!(partner = partner.id, error = %bounded(&e),
                    "OCPI: cannot fetch the partner's signing keys");
                return Err(SignatureError::UnknownKey(kid));
            }
            let keys = keys_of(ocpi, partner.id)
                .await
                .map_err(|e| SignatureError::Malformed(format!("keys unavailable: {e}")))?;
            signing::verify(header, body, &keys).map(Some)
        }
        other => other.map(Some),
    }
}

fn may_refresh(ocpi: &Ocpi, partner_id: i64) -> bool {
    let fetched = ocpi.signatures().fetched.lock();
    fetched
        .map(|f| {
            f.get(&partner_id)
                .is_none_or(|at| at.elapsed() >= REFRESH_EVERY)
        })
        .unwrap_or(true)
}

/// A page (or object) the eMSP role pulled from the partner: checked like a request body.
pub async fn check_response(
    ocpi: &Ocpi,
    partner: &Partner,
    header: Option<&str>,
    body: &[u8],
) -> Result<(), String> {
    check(ocpi, partner, header, body)
        .await
        .map(|_| ())
        .map_err(|e| {
            refused(partner.id);
            e.to_string()
        })
}

/// The middleware on every OCPI route: verify what a signing partner sends, sign what we answer
/// it. Requests without a valid token pass untouched (the handlers answer 401).
pub async fn guard(State(ocpi): State<Ocpi>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let caller =
        <Caller as axum::extract::FromRequestParts<Ocpi>>::from_request_parts(&mut parts, &ocpi)
            .await;
    let Ok(caller) = caller else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let partner = caller.partner.clone();
    // The handlers find the caller here rather than looking the token up again.
    parts.extensions.insert(caller);
    let body = if carries_body(&parts.method) {
        let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
            return Reply::invalid(format!("the body is over {MAX_BODY} octets")).into_response();
        };
        let header = parts.headers.get(HEADER_LC).and_then(|v| v.to_str().ok());
        match check(&ocpi, &partner, header, &bytes).await {
            Ok(Some(kid)) => {
                tracing::debug!(partner = partner.id, kid = %kid, "OCPI: signature verified");
            }
            Ok(None) => {}
            Err(e) => {
                refused(partner.id);
                tracing::warn!(partner = partner.id, method = %parts.method,
                    path = %bounded(parts.uri.path()), error = %bounded(&e.to_string()),
                    "OCPI: payload refused, its signature does not verify (B8.5)");
                let mut reply = Reply::invalid(e.to_string());
                reply.http = Http::BAD_REQUEST;
                return reply.into_response();
            }
        }
        Body::from(bytes)
    } else {
        body
    };
    let response = next.run(Request::from_parts(parts, body)).await;
    if partner_signs(&partner) {
        sign_response(&ocpi, response).await
    } else {
        response
    }
}

/// `ocpi_signatures_refused_total{partner}` in `/metrics`: payloads refused for their signature.
fn refused(partner_id: i64) {
    metrics::counter!("ocpi_signatures_refused_total", "partner" => partner_id.to_string())
        .increment(1);
}

fn carries_body(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH)
}

async fn sign_response(ocpi: &Ocpi, response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(e) => {
            return Reply::server_error(format!("cannot sign the answer: {e}")).into_response()
        }
    };
    if let Ok(value) = HeaderValue::from_str(&ocpi.signatures().sign(&bytes)) {
        parts.headers.insert(HEADER_LC, value);
    }
    Response::from_parts(parts, Body::from(bytes))
}
