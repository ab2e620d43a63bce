//! Credentials tokens: made here, verified by hash, and — for the ones we send — sealed.
//!
//! * Tokens partners call us with (A, and the C or B we issue) are only ever *verified*: the
//!   store keeps their SHA-256. They are 256-bit random strings, so a fast hash is enough (no
//!   password stretching needed), and the lookup by hash finds the partner.
//! * Tokens we call partners with (their B or C) must stay usable: they are sealed with
//!   AES-256-GCM under a key kept in `ocpi.key` in the data directory (created 0600, next to
//!   the database but not in it), so a database copy or dump alone does not reveal them.

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new credentials token: 32 random bytes, URL-safe Base64 (43 printable characters).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the store keeps of a token we only verify.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Create `path` readable by its owner only (0600) with `bytes`, synced; never overwrites (a
/// key file that appeared meanwhile is an error, not something to replace).
pub fn create_private(path: &Path, bytes: &[u8], what: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot create the {what} {}: {e}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// Seals and opens the tokens we send.
pub struct Sealer {
    key: [u8; 32],
}

const AAD: &[u8] = b"unicharge ocpi outgoing token v1";

impl Sealer {
    /// Read the key file, or create it (0600) with a fresh key.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Sealer> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    anyhow::anyhow!(
                        "{} must hold exactly 32 bytes (the key sealing OCPI tokens); \
                         restore it from a backup, or delete it and register partners again",
                        path.display()
                    )
                })?;
                Ok(Sealer { key })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut key);
                create_private(path, &key, "OCPI key file")?;
                Ok(Sealer { key })
            }
            Err(e) => Err(anyhow::anyhow!(
                "cannot read the OCPI key file {}: {e}",
                path.display()
            )),
        }
    }

    pub fn seal(&self, token: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let mut tag = [0u8; 16];
        let sealed = encrypt_aead(
            Cipher::aes_256_gcm(),
            &self.key,
            Some(&nonce),
            AAD,
            token.as_bytes(),
            &mut tag,
        )
        .expect("AES-256-GCM with a 32-byte key and a 12-byte nonce");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out.extend_from_slice(&tag);
        STANDARD.encode(out)
    }

    /// A keyed pseudonym of `value` (HMAC-SHA256 under the sealing key, `context` separating
    /// uses): stable, so a data aggregator can tell that two sessions share a driver, but not
    /// reversible without the key, which a short RFID uid hashed without one would be.
    pub fn pseudonym(&self, context: &str, value: &str) -> [u8; 32] {
        let mac = openssl::pkey::PKey::hmac(&self.key).expect("an HMAC key of 32 bytes");
        let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &mac)
            .expect("HMAC-SHA256 is available");
        let digest = signer
            .update(context.as_bytes())
            .and_then(|_| signer.update(b"\n"))
            .and_then(|_| signer.update(value.as_bytes()))
            .and_then(|_| signer.sign_to_vec())
            .expect("HMAC over memory does not fail");
        let mut out = [0u8; 32];
        out.copy_from_slice(&digest[..32]);
        out
    }

    /// `None` when the text was not sealed with this key (or was altered).
    pub fn open(&self, sealed: &str) -> Option<String> {
        let bytes = STANDARD.decode(sealed).ok()?;
        if bytes.len() < 12 + 16 {
            return None;
        }
        let (nonce, rest) = bytes.split_at(12);
        let (data, tag) = rest.split_at(rest.len() - 16);
        let plain = decrypt_aead(
            Cipher::aes_256_gcm(),
            &self.key,
            Some(nonce),
            AAD,
            data,
            tag,
        )
        .ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_tokens_open_with_the_same_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ocpi.key");
        let sealer = Sealer::load_or_create(&path).unwrap();
        let token = new_token();
        assert_eq!(token.len(), 43);
        let sealed = sealer.seal(&token);
        assert!(!sealed.contains(&token));
        assert_eq!(sealer.open(&sealed).as_deref(), Some(token.as_str()));
        // The same file gives the same key.
        let again = Sealer::load_or_create(&path).unwrap();
        assert_eq!(again.open(&sealed).as_deref(), Some(token.as_str()));
        // Another key does not open it; a changed byte does not either.
        let other = Sealer::load_or_create(&dir.path().join("other.key")).unwrap();
        assert_eq!(other.open(&sealed), None);
        let mut bytes = STANDARD.decode(&sealed).unwrap();
        bytes[14] ^= 1;
        assert_eq!(sealer.open(&STANDARD.encode(bytes)), None);
        assert_eq!(token_hash("abc").len(), 64);
    }

    #[test]
    fn pseudonyms_are_keyed_and_separated_by_context() {
        let dir = tempfile::tempdir().unwrap();
        let a = Sealer::load_or_create(&dir.path().join("a.key")).unwrap();
        let b = Sealer::load_or_create(&dir.path().join("b.key")).unwrap();
        assert_eq!(a.pseudonym("p1", "04A1"), a.pseudonym("p1", "04A1"));
        assert_ne!(a.pseudonym("p1", "04A1"), a.pseudonym("p2", "04A1"));
        assert_ne!(a.pseudonym("p1", "04A1"), b.pseudonym("p1", "04A1"));
        assert_ne!(a.pseudonym("p1", "04A1"), a.pseudonym("p1", "04A2"));
    }
}
