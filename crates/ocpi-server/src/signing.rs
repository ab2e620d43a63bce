//! Signed payloads (B8.5, ADR 0051): we sign what we send, publish our public key, fetch the
//! keys of partners that sign, and refuse a body from such a partner whose signature does not
//! verify. The format (detached JWS, EdDSA, bound to the request) is in
//! [`unicharge_ocpi::signing`].
//!
//! * **Our key** is an Ed25519 key in `<data_dir>/ocpi-signing.key` (PKCS#8, created 0600 on
//!   first start, its path logged). Every request body we send carries its signature, every
//!   response to a partner that publishes the module too; a plain partner ignores the header.
//! * **Their keys**: a partner that publishes [`MODULE_ID`] in its version details signs its
//!   payloads; its keys are fetched from that module after each credentials exchange (and
//!   dropped when it no longer publishes it) and again when a signature names a key we do not
//!   know (it rotated): at most once per [`REFRESH_EVERY`] per partner after a success, once
//!   per [`RETRY_EVERY`] after a failure.
//! * **Trusted enrichers**: the operator may trust further keys for a partner (a hub that
//!   enriches the partner's data and signs the result), through the API. A partner with
//!   trusted keys must sign too, even without the module.
//! * **On receipt** ([`guard`]): a request with a body from a partner that signs must carry a
//!   signature that verifies with one of its keys and is bound to this request, else HTTP 400
//!   with OCPI 2001, a warning naming the partner, and nothing stored. The eMSP role checks the
//!   pages it pulls the same way ([`check_response`]).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode as Http};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::value::RawValue;
use unicharge_ocpi::signing::{
    self, path_and_query, target_after, Binding, Jwk, PageHeaders, PublicKey, SignatureError,
    SigningKey, MODULE_ID,
};
use unicharge_ocpi::versions::{Endpoint, InterfaceRole};
use unicharge_store::ocpi::Partner;
use unicharge_store::ocpi_signing::{SigningKeyRow, PUBLISHED, TRUSTED};

use crate::auth::Caller;
use crate::reply::{bounded, Answer, Reply};
use crate::Ocpi;

/// The header in the lower case `http` wants.
const HEADER_LC: &str = "x-unicharge-signature";
/// The largest body we buffer to verify or sign: axum's default limit for a request body, the
/// one the handlers would apply anyway. (Our pages are bounded far below it.)
const MAX_BODY: usize = 2 * 1024 * 1024;
/// The most keys read from a partner's module.
const MAX_KEYS: usize = 16;
/// How soon after a successful fetch a partner's keys are fetched again for an unknown kid.
pub const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// How soon after a failed fetch (the partner's key endpoint down or still registering us).
pub const RETRY_EVERY: Duration = Duration::from_secs(2);

/// Our key and the pace of key fetches.
pub struct Signatures {
    key: SigningKey,
    /// Per partner: when its keys were last fetched, and whether that worked.
    fetched: Mutex<HashMap<i64, (Instant, bool)>>,
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

    /// Our key (its public half is what the module publishes).
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The header value for `body` sent as `binding`.
    pub fn sign(&self, body: &[u8], binding: &Binding) -> String {
        self.key.sign(body, binding)
    }

    /// May the partner's keys be fetched now? Marks the attempt, so concurrent requests that
    /// name the same unknown key make one fetch.
    fn may_fetch(&self, partner_id: i64) -> bool {
        let Ok(mut fetched) = self.fetched.lock() else {
            return true;
        };
        let due = fetched
            .get(&partner_id)
            .is_none_or(|(at, ok)| at.elapsed() >= if *ok { REFRESH_EVERY } else { RETRY_EVERY });
        if due {
            fetched.insert(partner_id, (Instant::now(), false));
        }
        due
    }

    fn fetched(&self, partner_id: i64, ok: bool) {
        if let Ok(mut fetched) = self.fetched.lock() {
            fetched.insert(partner_id, (Instant::now(), ok));
        }
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

fn endpoints(partner: &Partner) -> Vec<Endpoint> {
    serde_json::from_str(&partner.endpoints).unwrap_or_default()
}

fn key_endpoint(partner: &Partner) -> Option<String> {
    endpoints(partner)
        .into_iter()
        .find(|e| e.identifier.as_str() == MODULE_ID && e.role == InterfaceRole::Sender)
        .map(|e| e.url)
}

/// `ocpi-target` of a call to `url` at the partner: what follows the longest of its endpoint
/// URLs, or the path and query as sent when `url` is under none of them.
pub fn target_at(partner: &Partner, url: &str) -> String {
    endpoints(partner)
        .iter()
        .filter_map(|e| target_after(&e.url, url).map(|rest| (e.url.len(), rest)))
        .max_by_key(|(len, _)| *len)
        .map_or_else(|| path_and_query(url).to_string(), |(_, rest)| rest)
}

/// `ocpi-target` of a call to `url` at whichever partner publishes the endpoint it is under.
pub async fn target_of(ocpi: &Ocpi, url: &str) -> String {
    let partners = ocpi.ocpi_store().ocpi_partners().await.unwrap_or_default();
    partners
        .iter()
        .map(|p| target_at(p, url))
        .min_by_key(String::len)
        .unwrap_or_else(|| path_and_query(url).to_string())
}

/// Fetch the partner's published keys and store them (replacing the ones before); a partner
/// that no longer publishes the module keeps none. Returns how many keys are stored.
pub async fn fetch_keys(ocpi: &Ocpi, partner: &Partner) -> Result<usize, String> {
    let store = ocpi.ocpi_store();
    let Some(url) = key_endpoint(partner) else {
        store
            .replace_ocpi_published_keys(partner.id, &[])
            .await
            .map_err(|e| e.to_string())?;
        return Ok(0);
    };
    let fetched = fetch(ocpi, partner, &url).await;
    ocpi.signatures().fetched(partner.id, fetched.is_ok());
    let rows = fetched?;
    store
        .replace_ocpi_published_keys(partner.id, &rows)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(
        partner = partner.id,
        keys = rows.len(),
        "OCPI: partner signing keys fetched"
    );
    Ok(rows.len())
}

async fn fetch(ocpi: &Ocpi, partner: &Partner, url: &str) -> Result<Vec<SigningKeyRow>, String> {
    let (token, version) = crate::credentials::outgoing(ocpi, partner)
        .ok_or("no credentials to call the partner with")?;
    // Each key read on its own: one key we cannot use does not lose the others.
    let listed: Vec<Box<RawValue>> = crate::client::call(
        ocpi,
        reqwest::Method::GET,
        url,
        &token,
        &version,
        None::<&()>,
    )
    .await
    .map_err(|e| e.to_string())?;
    let now = Utc::now();
    let mut rows = Vec::new();
    for raw in listed.iter().take(MAX_KEYS) {
        let key = serde_json::from_str::<Jwk>(raw.get())
            .map_err(|e| SignatureError::Malformed(e.to_string()))
            .and_then(|jwk| jwk.public_key());
        match key {
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
    Ok(rows)
}

/// After a credentials exchange: fetch (or drop) the partner's keys in the background.
pub fn refresh_in_background(ocpi: &Ocpi, partner: &Partner) {
    let (ocpi, partner) = (ocpi.clone(), partner.clone());
    tokio::spawn(async move {
        if let Err(e) = fetch_keys(&ocpi, &partner).await {
            tracing::warn!(partner = partner.id, error = %bounded(&e),
                "OCPI: cannot fetch the partner's signing keys; retried on its next signed call");
        }
    });
}

/// The keys the partner's payloads must verify with, or None when it need not sign: it signs
/// when it publishes the module or the operator trusts a key for it. Published keys of a
/// partner that no longer publishes the module do not count.
pub async fn required_keys(
    ocpi: &Ocpi,
    partner: &Partner,
) -> Result<Option<Vec<PublicKey>>, unicharge_store::StoreError> {
    let rows = ocpi.ocpi_store().ocpi_signing_keys(partner.id).await?;
    let signs = partner_signs(partner);
    let trusted = rows.iter().any(|r| r.source == TRUSTED);
    if !signs && !trusted {
        return Ok(None);
    }
    Ok(Some(
        rows.iter()
            .filter(|r| signs || r.source == TRUSTED)
            .filter_map(|r| PublicKey::from_x(&r.public_key).ok())
            .collect(),
    ))
}

/// Why a payload was not taken.
#[derive(Debug)]
pub enum Refusal {
    /// The partner's signature: OCPI 2001.
    Signature(SignatureError),
    /// Our side failed (the store): OCPI 3000, the partner may retry.
    Ours(String),
}

/// Verify `body` from the partner, bound to one of `accepted`; fetches its keys again once
/// when a signature names a key we do not have (a rotation). `Ok(None)`: the partner does not
/// sign.
pub async fn check(
    ocpi: &Ocpi,
    partner: &Partner,
    header: Option<&str>,
    body: &[u8],
    accepted: &[Binding],
) -> Result<Option<String>, Refusal> {
    let required =
        |r: Result<_, unicharge_store::StoreError>| r.map_err(|e| Refusal::Ours(e.to_string()));
    let Some(keys) = required(required_keys(ocpi, partner).await)? else {
        return Ok(None);
    };
    match signing::verify(header, body, &keys, accepted) {
        Ok(kid) => Ok(Some(kid)),
        Err(first) => {
            let unknown = signing::unknown_kids(header, &keys);
            if unknown.is_empty() || !ocpi.signatures().may_fetch(partner.id) {
                return Err(Refusal::Signature(first));
            }
            if let Err(e) = fetch_keys(ocpi, partner).await {
                tracing::warn!(partner = partner.id, error = %bounded(&e),
                    "OCPI: cannot fetch the partner's signing keys");
                return Err(Refusal::Signature(first));
            }
            let Some(keys) = required(required_keys(ocpi, partner).await)? else {
                return Ok(None);
            };
            signing::verify(header, body, &keys, accepted)
                .map(Some)
                .map_err(Refusal::Signature)
        }
    }
}

/// Every value of the signature header, joined as one list (a hub may add its own line).
pub fn header_value(headers: &HeaderMap) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(HEADER_LC)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// The pagination headers of an answer, as they travel.
pub fn page_headers(headers: &HeaderMap) -> PageHeaders {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    PageHeaders {
        total: get("x-total-count"),
        limit: get("x-limit"),
        link: get("link"),
    }
}

/// A page the eMSP role pulled from the partner at `url`: checked like a request body, bound
/// to the GET and the page's headers.
pub async fn check_response(
    ocpi: &Ocpi,
    partner: &Partner,
    url: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    let page = page_headers(headers);
    let accepted = [
        Binding::new("GET", target_at(partner, url)).with_page(page.clone()),
        Binding::new("GET", path_and_query(url)).with_page(page),
    ];
    let header = header_value(headers);
    match check(ocpi, partner, header.as_deref(), body, &accepted).await {
        Ok(_) => Ok(()),
        Err(Refusal::Signature(e)) => {
            refused(partner.id);
            Err(e.to_string())
        }
        Err(Refusal::Ours(e)) => Err(format!("store: {e}")),
    }
}

/// `ocpi-target` of a request to one of our routes: what follows the module in
/// `/{version}/{cpo|emsp}/{module}/…` (or `/{version}/{module}/…`), with the query.
fn route_target(path: &str, query: Option<&str>) -> String {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let skip = match segments.get(1) {
        Some(&"cpo") | Some(&"emsp") => 3,
        _ => 2,
    };
    let rest: Vec<&str> = segments.into_iter().skip(skip).collect();
    let mut target = if rest.is_empty() {
        String::new()
    } else {
        format!("/{}", rest.join("/"))
    };
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        target.push('?');
        target.push_str(query);
    }
    target
}

/// The middleware on every OCPI route: verify what a signing partner sends, sign what we answer
/// it. Requests without a valid token pass untouched (the handlers answer 401).
pub async fn guard(State(ocpi): State<Ocpi>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let caller =
        <Caller as axum::extract::FromRequestParts<Ocpi>>::from_request_parts(&mut parts, &ocpi)
            .await;
    let caller = match caller {
        Ok(caller) => caller,
        // No valid token: the handler answers 401 as before.
        Err(reply) if reply.http == Http::UNAUTHORIZED => {
            return next.run(Request::from_parts(parts, body)).await
        }
        // Our store failed: answer so, rather than let the body through unchecked.
        Err(reply) => return reply.into_response(),
    };
    let partner = caller.partner.clone();
    // The handlers find the caller here rather than looking the token up again.
    parts.extensions.insert(caller);
    let method = parts.method.clone();
    let target = route_target(parts.uri.path(), parts.uri.query());
    // The path as a sender that does not know our endpoints signs it (we are nested under
    // /ocpi; behind a reverse proxy with a prefix of its own, senders use the relative target).
    let as_sent = format!(
        "/ocpi{}",
        parts.uri.path_and_query().map_or("", |p| p.as_str())
    );
    let required = match required_keys(&ocpi, &partner).await {
        Ok(required) => required.is_some(),
        Err(e) => return Reply::server_error(e).into_response(),
    };
    let body = if required && carries_body(&method) {
        let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
            let mut reply = Reply::invalid(format!("the body is over {MAX_BODY} octets"));
            reply.http = Http::PAYLOAD_TOO_LARGE;
            return reply.into_response();
        };
        let accepted = [
            Binding::new(method.as_str(), target.clone()),
            Binding::new(method.as_str(), as_sent),
        ];
        let header = header_value(&parts.headers);
        match check(&ocpi, &partner, header.as_deref(), &bytes, &accepted).await {
            Ok(kid) => {
                tracing::debug!(partner = partner.id, kid = ?kid, "OCPI: signature verified");
            }
            Err(Refusal::Ours(e)) => return Reply::server_error(e).into_response(),
            Err(Refusal::Signature(e)) => {
                refused(partner.id);
                tracing::warn!(partner = partner.id, method = %method,
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
        sign_response(&ocpi, response, Binding::new(method.as_str(), target)).await
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

async fn sign_response(ocpi: &Ocpi, response: Response, binding: Binding) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => {
            return Reply::server_error(format!("cannot sign the answer: {e}")).into_response()
        }
    };
    let binding = binding.with_page(page_headers(&parts.headers));
    if let Ok(value) = HeaderValue::from_str(&ocpi.signatures().sign(&bytes, &binding)) {
        parts.headers.insert(HEADER_LC, value);
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::route_target;

    #[test]
    fn route_targets_follow_the_module() {
        assert_eq!(
            route_target("/2.2.1/cpo/tokens/NL/EMS/T1", Some("type=RFID")),
            "/NL/EMS/T1?type=RFID"
        );
        assert_eq!(route_target("/2.2.1/emsp/cdrs", None), "");
        assert_eq!(
            route_target("/2.2.1/cpo/locations", Some("limit=5")),
            "?limit=5"
        );
        assert_eq!(route_target("/2.3.0/credentials", None), "");
    }
}
