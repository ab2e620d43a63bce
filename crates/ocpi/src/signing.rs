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
//! protected header = {"alg":"EdDSA","kid":"<RFC 7638 thumbprint of the signer's JWK>"}
//! ```
//!
//! Any JOSE library verifies it: put the body back between the two dots. A payload that passed
//! through an enriching party may carry several signatures, comma-separated; one that verifies
//! with a key the receiver trusts is enough.
//!
//! Keys are published as JWKs (RFC 7517, `kty` OKP, `crv` Ed25519) by the Sender interface of
//! [`MODULE_ID`]: `GET {endpoint}` answers the list in an OCPI envelope. The `kid` is the key's
//! RFC 7638 thumbprint, so a key names itself and a receiver recomputes it rather than trust it.
//! Plain 2.2.1 / 2.3.0 partners never publish the module and are never asked for a signature.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};

/// The module identifier in version details.
pub const MODULE_ID: &str = "x-unicharge-signing";
/// The HTTP header that carries the signature(s) of the body.
pub const HEADER: &str = "X-Unicharge-Signature";
/// The JWS algorithm (RFC 8037).
pub const ALG: &str = "EdDSA";
/// The most signatures one header may carry (source + enrichers); more is refused unread.
pub const MAX_SIGNATURES: usize = 8;

/// A public key as published: a JWK of an Ed25519 key (RFC 8037 section 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// `OKP`.
    pub kty: String,
    /// `Ed25519`.
    pub crv: String,
    /// The 32-octet public key, base64url without padding.
    pub x: String,
    /// The RFC 7638 thumbprint of the key.
    pub kid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

impl Jwk {
    /// The JWK of an Ed25519 public key, with its thumbprint as `kid`.
    pub fn of(public_key: &[u8; 32]) -> Jwk {
        let x = URL_SAFE_NO_PAD.encode(public_key);
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            kid: thumbprint(&x),
            x,
            alg: Some(ALG.into()),
            use_: Some("sig".into()),
        }
    }

    /// The key this JWK holds, checked: an Ed25519 key of 32 octets whose `kid` is its
    /// thumbprint (a partner cannot name its key after somebody else's).
    pub fn public_key(&self) -> Result<PublicKey, SignatureError> {
        if self.kty != "OKP" || self.crv != "Ed25519" {
            return Err(SignatureError::Malformed(format!(
                "key {}: only OKP / Ed25519 keys are used, not {} / {}",
                self.kid, self.kty, self.crv
            )));
        }
        let key = PublicKey::from_x(&self.x)?;
        if key.kid != self.kid {
            return Err(SignatureError::Malformed(format!(
                "key {}: kid is not the key's RFC 7638 thumbprint ({})",
                self.kid, key.kid
            )));
        }
        Ok(key)
    }
}

/// The RFC 7638 thumbprint of an Ed25519 JWK with public value `x`: SHA-256 over the required
/// members in lexicographic order, base64url.
pub fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        canonical.as_bytes(),
    ))
}

/// A public key a signature can be checked with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub kid: String,
    pub bytes: [u8; 32],
}

impl PublicKey {
    /// From the JWK's `x` (base64url of the 32 octets); the kid is computed.
    pub fn from_x(x: &str) -> Result<PublicKey, SignatureError> {
        let raw = URL_SAFE_NO_PAD
            .decode(x.trim())
            .map_err(|e| SignatureError::Malformed(format!("public key is not base64url: {e}")))?;
        let bytes: [u8; 32] = raw.try_into().map_err(|raw: Vec<u8>| {
            SignatureError::Malformed(format!(
                "an Ed25519 public key has 32 octets, not {}",
                raw.len()
            ))
        })?;
        Ok(PublicKey {
            kid: thumbprint(&URL_SAFE_NO_PAD.encode(bytes)),
            bytes,
        })
    }

    /// The JWK's `x`.
    pub fn x(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.bytes)
    }
}

/// Our private key: signs what we send.
pub struct SigningKey {
    pair: Ed25519KeyPair,
    jwk: Jwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private half.
        f.debug_struct("SigningKey")
            .field("kid", &self.jwk.kid)
            .finish()
    }
}

impl SigningKey {
    /// A new key as PKCS#8 (v2) octets, to be written to a private file.
    pub fn generate_pkcs8() -> Result<Vec<u8>, SignatureError> {
        let rng = ring::rand::SystemRandom::new();
        Ed25519KeyPair::generate_pkcs8(&rng)
            .map(|doc| doc.as_ref().to_vec())
            .map_err(|_| SignatureError::Malformed("cannot generate an Ed25519 key".into()))
    }

    /// The key in PKCS#8 octets (as [`Self::generate_pkcs8`] wrote them).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<SigningKey, SignatureError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8).map_err(|e| {
            SignatureError::Malformed(format!("not an Ed25519 PKCS#8 private key: {e}"))
        })?;
        let public: [u8; 32] =
            pair.public_key().as_ref().try_into().map_err(|_| {
                SignatureError::Malformed("Ed25519 public key of odd length".into())
            })?;
        Ok(SigningKey {
            jwk: Jwk::of(&public),
            pair,
        })
    }

    /// The public half, as published.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }

    /// The detached JWS of `body` (the value of [`HEADER`]).
    pub fn sign(&self, body: &[u8]) -> String {
        let header = URL_SAFE_NO_PAD.encode(
            serde_json::json!({ "alg": ALG, "kid": self.jwk.kid })
                .to_string()
                .as_bytes(),
        );
        let input = signing_input(&header, body);
        let signature = self.pair.sign(input.as_bytes());
        format!("{header}..{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

/// `base64url(header) || "." || base64url(body)`: what the signature covers.
fn signing_input(header_b64: &str, body: &[u8]) -> String {
    format!("{header_b64}.{}", URL_SAFE_NO_PAD.encode(body))
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
}

/// The protected header we read: only what decides the check.
#[derive(Deserialize)]
struct Protected {
    alg: String,
    kid: String,
    /// Critical extensions we would have to understand; we understand none (RFC 7515 4.1.11).
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// Check the [`HEADER`] value against the body with the keys trusted for the sender. Returns
/// the kid of the key that verified. With several signatures one good one is enough; when none
/// is good, an altered payload is reported before an unknown key (an unknown key alone may
/// only mean the partner rotated its key: the caller may fetch the keys again and retry).
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    keys: &[PublicKey],
) -> Result<String, SignatureError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty());
    let Some(header) = header else {
        return Err(SignatureError::Missing);
    };
    let parts: Vec<&str> = header.split(',').map(str::trim).collect();
    if parts.len() > MAX_SIGNATURES {
        return Err(SignatureError::Malformed(format!(
            "{} signatures, at most {MAX_SIGNATURES} are read",
            parts.len()
        )));
    }
    let mut worst: Option<SignatureError> = None;
    for jws in parts {
        match verify_one(jws, body, keys) {
            Ok(kid) => return Ok(kid),
            Err(e) => {
                let rank = |e: &SignatureError| match e {
                    SignatureError::Altered(_) => 3,
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

fn verify_one(jws: &str, body: &[u8], keys: &[PublicKey]) -> Result<String, SignatureError> {
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
    let header_json = URL_SAFE_NO_PAD
        .decode(header_b64)
        .map_err(|_| malformed("protected header is not base64url"))?;
    let protected: Protected = serde_json::from_slice(&header_json)
        .map_err(|e| SignatureError::Malformed(format!("protected header: {e}")))?;
    if protected.alg != ALG {
        return Err(SignatureError::Malformed(format!(
            "algorithm {} is not accepted, only {ALG}",
            protected.alg
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
        return Err(SignatureError::UnknownKey(protected.kid));
    };
    let input = signing_input(header_b64, body);
    UnparsedPublicKey::new(&ED25519, key.bytes)
        .verify(input.as_bytes(), &signature)
        .map(|()| key.kid.clone())
        .map_err(|_| SignatureError::Altered(key.kid.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_pkcs8(&SigningKey::generate_pkcs8().unwrap()).unwrap()
    }

    #[test]
    fn a_signed_body_verifies_and_an_altered_one_does_not() {
        let ours = key();
        let public = ours.jwk().public_key().unwrap();
        let body = br#"{"id":"LOC1","name":"Gent Zuid"}"#;
        let header = ours.sign(body);
        assert_eq!(
            verify(Some(&header), body, std::slice::from_ref(&public)),
            Ok(ours.kid().to_string())
        );
        let altered = br#"{"id":"LOC1","name":"Gent Noord"}"#;
        assert_eq!(
            verify(Some(&header), altered, std::slice::from_ref(&public)),
            Err(SignatureError::Altered(ours.kid().to_string()))
        );
        assert_eq!(
            verify(None, body, std::slice::from_ref(&public)),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(Some(&header), body, &[]),
            Err(SignatureError::UnknownKey(ours.kid().to_string()))
        );
    }

    #[test]
    fn one_trusted_signature_among_several_is_enough() {
        let source = key();
        let hub = key();
        let body = b"{}";
        let both = format!("{}, {}", source.sign(b"{\"before\":1}"), hub.sign(body));
        let trusted = [hub.jwk().public_key().unwrap()];
        assert_eq!(
            verify(Some(&both), body, &trusted),
            Ok(hub.kid().to_string())
        );
        // Only the source's key: its signature covers the body before the enrichment.
        let source_only = [source.jwk().public_key().unwrap()];
        assert_eq!(
            verify(Some(&both), body, &source_only),
            Err(SignatureError::Altered(source.kid().to_string()))
        );
    }

    #[test]
    fn the_kid_is_the_rfc_7638_thumbprint() {
        // RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        assert_eq!(thumbprint(x), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
        let mut jwk = Jwk::of(&PublicKey::from_x(x).unwrap().bytes);
        assert_eq!(jwk.kid, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
        jwk.kid = "someone-else".into();
        assert!(matches!(
            jwk.public_key(),
            Err(SignatureError::Malformed(_))
        ));
    }

    #[test]
    fn rfc_8037_example_signature_verifies() {
        // RFC 8037 appendix A.4: "Example Ed25519 Signing" (an attached payload "Example of
        // Ed25519 signing"); the same input as our detached form with that body.
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let key = PublicKey::from_x(x).unwrap();
        let header_b64 = "eyJhbGciOiJFZERTQSJ9";
        let signature = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
        let body = b"Example of Ed25519 signing";
        let input = signing_input(header_b64, body);
        let raw = URL_SAFE_NO_PAD.decode(signature).unwrap();
        assert!(UnparsedPublicKey::new(&ED25519, key.bytes)
            .verify(input.as_bytes(), &raw)
            .is_ok());
    }

    #[test]
    fn bad_headers_are_malformed_not_panics() {
        let public = key().jwk().public_key().unwrap();
        for bad in [
            "x",
            "a.b.c",
            "..",
            "e30..AA",
            "eyJhbGciOiJIUzI1NiIsImtpZCI6IngifQ..AA",
        ] {
            let got = verify(Some(bad), b"{}", std::slice::from_ref(&public));
            assert!(
                matches!(got, Err(SignatureError::Malformed(_))),
                "{bad}: {got:?}"
            );
        }
        let many = ["a..b"; MAX_SIGNATURES + 1].join(",");
        assert!(matches!(
            verify(Some(&many), b"{}", &[public]),
            Err(SignatureError::Malformed(_))
        ));
    }
}
