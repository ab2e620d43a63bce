//! The keys of signed payloads: JWKs as published (RFC 7517 / RFC 8037), the public keys they
//! hold, their RFC 7638 thumbprints (the `kid`), and our private key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};

use super::{bounded, sign_with, Binding, SignatureError, ALG};

/// A public key as published: a JWK of an Ed25519 key (RFC 8037 section 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// `OKP`.
    pub kty: String,
    /// `Ed25519`.
    pub crv: String,
    /// The 32-octet public key, base64url without padding.
    pub x: String,
    /// The RFC 7638 thumbprint of the key. Optional in RFC 7517: computed when absent.
    #[serde(default)]
    pub kid: String,
    /// `EdDSA` when present (RFC 7517 4.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// `sig` when present (RFC 7517 4.2).
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// The private part: a published key that carries it is refused (somebody leaked it).
    #[serde(default, skip_serializing)]
    pub d: Option<String>,
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
            d: None,
        }
    }

    /// The key this JWK holds, checked: an Ed25519 signing key of 32 octets, no private part,
    /// and a `kid` that is its thumbprint when one is given (a partner cannot name its key
    /// after somebody else's).
    pub fn public_key(&self) -> Result<PublicKey, SignatureError> {
        let refuse =
            |why: String| SignatureError::Malformed(format!("key {}: {why}", bounded(&self.kid)));
        if self.kty != "OKP" || self.crv != "Ed25519" {
            return Err(refuse(format!(
                "only OKP / Ed25519 keys are used, not {} / {}",
                bounded(&self.kty),
                bounded(&self.crv)
            )));
        }
        if self.alg.as_deref().is_some_and(|a| a != ALG)
            || self.use_.as_deref().is_some_and(|u| u != "sig")
        {
            return Err(refuse("not a key for EdDSA signatures (alg / use)".into()));
        }
        if self.d.is_some() {
            return Err(refuse(
                "the JWK carries its private part (d): not used".into(),
            ));
        }
        let key = PublicKey::from_x(&self.x)?;
        if !self.kid.is_empty() && key.kid != self.kid {
            return Err(refuse(format!(
                "kid is not the key's RFC 7638 thumbprint ({})",
                key.kid
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
    pub(super) pair: Ed25519KeyPair,
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

    /// The key in PKCS#8 octets (v2 as [`Self::generate_pkcs8`] writes them, or v1).
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

    /// The key's id in our signatures: its RFC 7638 thumbprint.
    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }

    /// The detached JWS of `body` bound to `binding` (the value of [`super::HEADER`]).
    pub fn sign(&self, body: &[u8], binding: &Binding) -> String {
        sign_with(self, body, binding)
    }
}
