//! Signed payloads: a unicharge extension module (not in OCPI 2.2.1 / 2.3.0) for the OCPI 3.0
//! business use case B8.5 (a platform validates that the OCPI data it received was not altered,
//! and who signed it — the source, or a party it trusts to enrich the data, such as a hub).
//!
//! The signature is a JSON Web Signature with a **detached payload** (RFC 7515, appendix F),
//! algorithm EdDSA over Ed25519 (RFC 8037), carried in the [`HEADER`] HTTP header of a request
//! or response whose body it covers, byte for byte:
//!
//! ```text
//! X-Unicharge-Signature: <base64url(protected header)>..<base64url(signature)>
//! signature = Ed25519(private key, base64url(protected header) || "." || base64url(body))
//! protected header = {"alg":"EdDSA","kid":"<RFC 7638 thumbprint of the signer's JWK>",
//!                     "htm":"PUT","ocpi-target":"/NL/EMS/012345?type=RFID",
//!                     "ocpi-page":{"x-total-count":"120","x-limit":"50","link":"<…>; rel=\"next\""}}
//! ```
//!
//! A body alone does not say where it belongs (a token PATCH `{"valid":false}` names no
//! token), so the protected header also binds the request: `htm` (the method, as RFC 9449
//! names it) and `ocpi-target`, the path and query **after the module's endpoint URL** — the
//! part a hub keeps when it forwards to another base URL (the path as sent is accepted too,
//! for a sender that does not know the endpoint). A response is bound to the request it
//! answers and to its pagination headers (`ocpi-page`), so a page cannot be replayed for
//! another request nor cut short by dropping its `Link`.
//!
//! Any JOSE library verifies it: put the body back between the two dots and compare the
//! protected members. A payload that passed through an enriching party may carry several
//! signatures, comma-separated (or in several header lines); one that verifies with a key the
//! receiver trusts, bound to this request, is enough.
//!
//! Keys are published as JWKs ([`keys`]: RFC 7517, `kty` OKP, `crv` Ed25519) by the Sender
//! interface of [`MODULE_ID`]: `GET {endpoint}` answers the list in an OCPI envelope. The `kid`
//! is the key's RFC 7638 thumbprint, so a key names itself and a receiver recomputes it rather
//! than trust it. Plain 2.2.1 / 2.3.0 partners never publish the module and are never asked
//! for a signature.

pub mod keys;
#[cfg(test)]
mod tests;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};

pub use keys::{thumbprint, Jwk, PublicKey, SigningKey};

/// The module identifier in version details.
pub const MODULE_ID: &str = "x-unicharge-signing";
/// The HTTP header that carries the signature(s) of the body.
pub const HEADER: &str = "X-Unicharge-Signature";
/// The JWS algorithm (RFC 8037).
pub const ALG: &str = "EdDSA";
/// The most signatures one header may carry (source + enrichers); more is refused unread.
pub const MAX_SIGNATURES: usize = 8;

/// What a signature is bound to besides the body: the request (and a response's pages).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The HTTP method of the request (of the request answered, for a response).
    pub htm: String,
    /// Path and query after the module's endpoint URL (`""` for the endpoint itself), or the
    /// path and query as sent.
    #[serde(rename = "ocpi-target")]
    pub target: String,
    /// A response's pagination headers, as sent.
    #[serde(
        rename = "ocpi-page",
        default,
        skip_serializing_if = "PageHeaders::is_empty"
    )]
    pub page: PageHeaders,
}

/// The headers of a paginated answer (OCPI 2.2.1 §4.1.5), absent ones as None.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageHeaders {
    #[serde(
        rename = "x-total-count",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub total: Option<String>,
    #[serde(rename = "x-limit", default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl PageHeaders {
    pub fn is_empty(&self) -> bool {
        self.total.is_none() && self.limit.is_none() && self.link.is_none()
    }
}

impl Binding {
    pub fn new(method: &str, target: impl Into<String>) -> Binding {
        Binding {
            htm: method.to_ascii_uppercase(),
            target: target.into(),
            page: PageHeaders::default(),
        }
    }

    pub fn with_page(mut self, page: PageHeaders) -> Binding {
        self.page = page;
        self
    }
}

/// The part of `url` after `endpoint` (at a path-segment boundary), with the query: what
/// `ocpi-target` holds. None when `url` is not under `endpoint`.
pub fn target_after(endpoint: &str, url: &str) -> Option<String> {
    let endpoint = endpoint.trim_end_matches('/');
    let rest = url.strip_prefix(endpoint)?;
    (rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')).then(|| rest.to_string())
}

/// The path and query of an absolute URL (`http://host/a/b?c` → `/a/b?c`).
pub fn path_and_query(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme
        .find(['/', '?'])
        .map_or("", |at| &after_scheme[at..])
}

/// At most 64 characters of a value a peer chose, for our messages.
pub(crate) fn bounded(text: &str) -> String {
    text.chars().take(64).collect()
}

/// Sign: the protected header with kid and binding, then Ed25519 over the JWS signing input.
fn sign_with(key: &SigningKey, body: &[u8], binding: &Binding) -> String {
    #[derive(Serialize)]
    struct Header<'a> {
        alg: &'a str,
        kid: &'a str,
        #[serde(flatten)]
        binding: &'a Binding,
    }
    let header = Header {
        alg: ALG,
        kid: key.kid(),
        binding,
    };
    let json = serde_json::to_vec(&header).expect("a protected header is JSON");
    let header = URL_SAFE_NO_PAD.encode(json);
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(body));
    let signature = key.pair.sign(input.as_bytes());
    format!("{header}..{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
}

/// Why a payload's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no {HEADER} header: this partner signs its payloads (module {MODULE_ID})")]
    Missing,
    #[error("{HEADER}: {0}")]
    Malformed(String),
    #[error("{HEADER}: signed with key {0}, which is neither published by the partner nor trusted for it")]
    UnknownKey(String),
    #[error("{HEADER}: the signature of key {0} does not match the body (the data was altered)")]
    Altered(String),
    #[error("{HEADER}: the signature of key {0} is for another request (method, target or pages)")]
    OtherRequest(String),
}

/// The protected header we read: only what decides the check.
#[derive(Deserialize)]
struct Protected {
    alg: String,
    kid: String,
    #[serde(default)]
    htm: Option<String>,
    #[serde(rename = "ocpi-target", default)]
    target: Option<String>,
    #[serde(rename = "ocpi-page", default)]
    page: PageHeaders,
    /// Critical extensions we would have to understand; we understand none (RFC 7515 4.1.11):
    /// an unencoded payload (RFC 7797 `b64: false`) is refused this way.
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// The JWSs of a header value (several header lines joined with commas beforehand), at most
/// [`MAX_SIGNATURES`].
fn parts(header: &str) -> Result<Vec<&str>, SignatureError> {
    let parts: Vec<&str> = header
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .take(MAX_SIGNATURES + 1)
        .collect();
    if parts.len() > MAX_SIGNATURES {
        return Err(SignatureError::Malformed(format!(
            "more than {MAX_SIGNATURES} signatures"
        )));
    }
    Ok(parts)
}

/// Check the [`HEADER`] value against the body with the keys trusted for the sender, for a
/// request (or response) matching one of `accepted`. Returns the kid of the key that verified.
/// With several signatures one good one is enough; when none is good, the most telling reason
/// is given (altered, other request, malformed, unknown key).
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    keys: &[PublicKey],
    accepted: &[Binding],
) -> Result<String, SignatureError> {
    let Some(header) = header.map(str::trim).filter(|h| !h.is_empty()) else {
        return Err(SignatureError::Missing);
    };
    let body_b64 = URL_SAFE_NO_PAD.encode(body);
    let mut worst: Option<SignatureError> = None;
    for jws in parts(header)? {
        match verify_one(jws, &body_b64, keys, accepted) {
            Ok(kid) => return Ok(kid),
            Err(e) => {
                let rank = |e: &SignatureError| match e {
                    SignatureError::Altered(_) => 4,
                    SignatureError::OtherRequest(_) => 3,
                    SignatureError::Malformed(_) => 2,
                    SignatureError::UnknownKey(_) => 1,
                    SignatureError::Missing => 0,
                };
                if worst.as_ref().is_none_or(|w| rank(&e) > rank(w)) {
                    worst = Some(e);
                }
            }
        }
    }
    Err(worst.unwrap_or(SignatureError::Missing))
}

/// The kids of the header's signatures that none of `keys` has: when there are any, the
/// sender may have rotated its key, and fetching its keys again may help.
pub fn unknown_kids(header: Option<&str>, keys: &[PublicKey]) -> Vec<String> {
    let Some(Ok(parts)) = header.map(parts) else {
        return Vec::new();
    };
    parts
        .into_iter()
        .filter_map(|jws| protected(jws.split('.').next().unwrap_or_default()).ok())
        .map(|p| p.kid)
        .filter(|kid| !keys.iter().any(|k| &k.kid == kid))
        .collect()
}

fn protected(header_b64: &str) -> Result<Protected, SignatureError> {
    let json = URL_SAFE_NO_PAD
        .decode(header_b64)
        .map_err(|_| SignatureError::Malformed("protected header is not base64url".into()))?;
    serde_json::from_slice(&json).map_err(|e| {
        SignatureError::Malformed(format!("protected header: {}", bounded(&e.to_string())))
    })
}

fn verify_one(
    jws: &str,
    body_b64: &str,
    keys: &[PublicKey],
    accepted: &[Binding],
) -> Result<String, SignatureError> {
    let malformed = |why: &str| SignatureError::Malformed(why.to_string());
    let mut pieces = jws.split('.');
    let (Some(header_b64), Some(payload), Some(signature_b64), None) =
        (pieces.next(), pieces.next(), pieces.next(), pieces.next())
    else {
        return Err(malformed(
            "not a JWS in compact serialisation (three parts separated by dots)",
        ));
    };
    if !payload.is_empty() {
        return Err(malformed(
            "the payload part must be empty: the signature is detached (the body is the payload)",
        ));
    }
    let protected = protected(header_b64)?;
    if protected.alg != ALG {
        return Err(SignatureError::Malformed(format!(
            "algorithm {} is not accepted, only {ALG}",
            bounded(&protected.alg)
        )));
    }
    if protected.crit.is_some() {
        return Err(malformed(
            "protected header has critical extensions we do not understand",
        ));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| malformed("signature is not base64url"))?;
    let Some(key) = keys.iter().find(|k| k.kid == protected.kid) else {
        return Err(SignatureError::UnknownKey(bounded(&protected.kid)));
    };
    let input = format!("{header_b64}.{body_b64}");
    UnparsedPublicKey::new(&ED25519, key.bytes)
        .verify(input.as_bytes(), &signature)
        .map_err(|_| SignatureError::Altered(key.kid.clone()))?;
    let (Some(htm), Some(target)) = (protected.htm, protected.target) else {
        return Err(SignatureError::OtherRequest(key.kid.clone()));
    };
    let signed = Binding {
        htm,
        target,
        page: protected.page,
    };
    if accepted.contains(&signed) {
        Ok(key.kid.clone())
    } else {
        Err(SignatureError::OtherRequest(key.kid.clone()))
    }
}
