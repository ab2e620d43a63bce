//! Station passwords: stored only as salted hashes, of one of two kinds (ADR 9).
//!
//! - A password the CSMS **generated** ([`GeneratedPassword`]: 32 characters drawn uniformly from a
//!   72-character alphabet, ≈ 197 bits of entropy) is stored as a salted SHA-256
//!   (`$generated-sha256$…`). Nothing can enumerate 2^197 candidates, so a memory-hard hash buys
//!   no protection for it, and checking it costs a microsecond: a reconnect storm of 10,000
//!   stations after a restart is admitted in well under a second of CPU.
//! - A password an **operator chose** may be guessable: it keeps Argon2id (OWASP parameters),
//!   milliseconds of CPU and 19 MiB of memory per check, run on the hashing threads.
//!
//! [`verify_password`] recognises both from the stored string.

use std::cell::RefCell;

use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::Rng;

/// The `identifierString` alphabet (OCPP 2.0.1 Part 2, 2.1.3) that BasicAuthPassword uses.
pub const PASSWORD_ALPHABET: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*-_=:+|@.";

/// Shortest and longest BasicAuthPassword (SecurityCtrlr.BasicAuthPassword: 16 to 40 characters).
pub const MIN_PASSWORD_LEN: usize = 16;
pub const MAX_PASSWORD_LEN: usize = 40;

/// A password could not be hashed (bad parameters only; never the password's fault).
#[derive(Debug, thiserror::Error)]
#[error("could not hash the password: {0}")]
pub struct HashError(String);

thread_local! {
    /// Argon2's working memory (19 MiB with the default parameters), kept per thread and reused.
    /// Allocating it afresh for every hash let glibc keep ~150 MiB per thread that had ever
    /// hashed (measured), which a reconnect storm of stations turns into gigabytes.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn argon2_into(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &str,
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    let blocks_needed = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    BLOCKS.with(|cell| {
        let mut blocks = cell.borrow_mut();
        if blocks.len() < blocks_needed {
            blocks.resize(blocks_needed, Block::default());
        }
        argon2.hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            out,
            &mut blocks[..blocks_needed],
        )
    })
}

/// Hash a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`: the OWASP
/// parameters) with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let err = |e: &dyn std::fmt::Display| HashError(e.to_string());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(|e| err(&e))?;
    let params = Params::default();
    let mut out = [0u8; 32];
    argon2_into(
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        password,
        salt_bytes,
        &mut out,
    )
    .map_err(|e| err(&e))?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| err(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| err(&e))?),
    };
    Ok(phc.to_string())
}

/// Identifies the stored form of a [`GeneratedPassword`].
const GENERATED_PREFIX: &str = "$generated-sha256$";

/// Length of the passwords the CSMS generates: 32 × log2(72) ≈ 197 bits of entropy.
pub const GENERATED_PASSWORD_LEN: usize = 32;

/// A BasicAuthPassword the CSMS drew itself (station registration, A01 rotation). Only this
/// type can produce the fast `$generated-sha256$` hash, so an operator-chosen (possibly weak)
/// password can never end up stored under it.
#[derive(Clone, PartialEq, Eq)]
pub struct GeneratedPassword(String);

impl GeneratedPassword {
    /// A fresh random password of [`GENERATED_PASSWORD_LEN`] characters from the OS RNG.
    pub fn new() -> Self {
        GeneratedPassword(generate_password(GENERATED_PASSWORD_LEN))
    }

    /// The password itself: shown once to the operator or sent to the station, never stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its salted SHA-256 in the stored form `$generated-sha256$<salt hex>$<digest hex>`.
    pub fn hash(&self) -> String {
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill(&mut salt);
        format!(
            "{GENERATED_PREFIX}{}${}",
            hex::encode(salt),
            hex::encode(salted_sha256(&salt, &self.0))
        )
    }
}

impl Default for GeneratedPassword {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for GeneratedPassword {
    /// Never printed by accident (logs, panics).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GeneratedPassword(..)")
    }
}

/// A password about to be stored: who chose it decides how it is hashed.
#[derive(Debug, Clone)]
pub enum NewPassword {
    /// Drawn by the CSMS: salted SHA-256.
    Generated(GeneratedPassword),
    /// Chosen by an operator (checked against [`check_password_policy`] first): Argon2id.
    Chosen(String),
}

impl NewPassword {
    pub fn as_str(&self) -> &str {
        match self {
            NewPassword::Generated(p) => p.as_str(),
            NewPassword::Chosen(p) => p,
        }
    }

    /// The form to store. An operator-chosen password costs an Argon2 run (milliseconds).
    pub fn hash(&self) -> Result<String, HashError> {
        match self {
            NewPassword::Generated(p) => Ok(p.hash()),
            NewPassword::Chosen(p) => hash_password(p),
        }
    }
}

fn salted_sha256(salt: &[u8], password: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    digest.update(salt);
    digest.update(password.as_bytes());
    digest.finalize().into()
}

/// True when checking a password against `hash` is cheap (a generated password's SHA-256):
/// it may run inline, without the hashing threads.
pub fn is_cheap_to_verify(hash: &str) -> bool {
    hash.starts_with(GENERATED_PREFIX)
}

fn verify_generated(password: &str, hash: &str) -> bool {
    let Some((salt, digest)) = hash[GENERATED_PREFIX.len()..].split_once('$') else {
        return false;
    };
    let (Ok(salt), Ok(expected)) = (hex::decode(salt), hex::decode(digest)) else {
        return false;
    };
    let computed = salted_sha256(&salt, password);
    expected.len() == computed.len()
        && expected
            .iter()
            .zip(computed.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// True when `password` matches the stored `hash`: a generated password's salted SHA-256, or a
/// PHC string of any Argon2 variant and parameters. A malformed hash never matches. The
/// comparison is constant-time.
///
/// An Argon2 hash costs milliseconds of CPU by design: unless [`is_cheap_to_verify`], call it
/// off the async runtime's workers.
pub fn verify_password(password: &str, hash: &str) -> bool {
    if is_cheap_to_verify(hash) {
        return verify_generated(password, hash);
    }
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    if argon2_into(algorithm, version, params, password, salt_bytes, &mut out).is_err() {
        return false;
    }
    // Output's equality is constant-time.
    Output::new(&out).is_ok_and(|computed| computed == expected)
}

/// A random password of `len` characters from [`PASSWORD_ALPHABET`], for BasicAuthPassword
/// rotation (A01) and for stations added without one.
pub fn generate_password(len: usize) -> String {
    let len = len.clamp(MIN_PASSWORD_LEN, MAX_PASSWORD_LEN);
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| PASSWORD_ALPHABET[rng.gen_range(0..PASSWORD_ALPHABET.len())] as char)
        .collect()
}

/// Check that a password an operator chose is one a station can be configured with.
pub fn check_password_policy(password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&len) {
        return Err(format!(
            "a BasicAuthPassword has {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters, this one has {len}"
        ));
    }
    if let Some(bad) = password
        .chars()
        .find(|c| !PASSWORD_ALPHABET.contains(&(*c as u8)) || !c.is_ascii())
    {
        return Err(format!(
            "a BasicAuthPassword may only contain a-z A-Z 0-9 * - _ = : + | @ . (found {bad:?})"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_own_password_and_is_salted() {
        let h1 = hash_password("correct-horse-battery").unwrap();
        let h2 = hash_password("correct-horse-battery").unwrap();
        assert_ne!(h1, h2, "two hashes of one password differ by their salt");
        assert!(h1.starts_with("$argon2id$"));
        assert!(verify_password("correct-horse-battery", &h1));
        assert!(!verify_password("correct-horse-batterY", &h1));
        assert!(!verify_password("anything", "not a hash"));
    }

    /// Hashes made by the argon2 crate's own high-level API verify here, and ours verify there:
    /// our buffer-reusing path is the same algorithm (checked against an independent code path).
    #[test]
    fn interoperates_with_the_argon2_crates_own_phc_api() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::default()
            .hash_password(b"interop-password-123", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify_password("interop-password-123", &theirs));
        assert!(!verify_password("interop-password-124", &theirs));
        let ours = hash_password("interop-password-123").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"interop-password-123", &parsed)
            .is_ok());
        // Other parameters (as an older deployment may have stored) still verify.
        let argon2i = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x10,
            Params::new(8, 1, 1, None).unwrap(),
        );
        let old = argon2i
            .hash_password(b"interop-password-123", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify_password("interop-password-123", &old));
    }

    #[test]
    fn a_generated_password_is_stored_as_a_salted_sha256_and_verifies_only_itself() {
        let password = GeneratedPassword::new();
        assert_eq!(password.as_str().len(), GENERATED_PASSWORD_LEN);
        assert!(check_password_policy(password.as_str()).is_ok());
        let (h1, h2) = (password.hash(), password.hash());
        assert_ne!(h1, h2, "salted");
        assert!(is_cheap_to_verify(&h1));
        assert!(verify_password(password.as_str(), &h1));
        assert!(verify_password(password.as_str(), &h2));
        let mut wrong = password.as_str().to_string();
        wrong.replace_range(0..1, if wrong.starts_with('a') { "b" } else { "a" });
        assert!(!verify_password(&wrong, &h1));
        // Independent check of the stored form: SHA-256 over salt bytes then the password.
        let parts: Vec<&str> = h1.split('$').collect();
        assert_eq!(parts[1], "generated-sha256");
        let salt = hex::decode(parts[2]).unwrap();
        let mut input = salt.clone();
        input.extend_from_slice(password.as_str().as_bytes());
        use sha2::Digest;
        assert_eq!(parts[3], hex::encode(sha2::Sha256::digest(&input)));
        // Malformed fast hashes never match; Debug never shows the password.
        assert!(!verify_password(
            password.as_str(),
            "$generated-sha256$zz$00"
        ));
        assert!(!verify_password(password.as_str(), "$generated-sha256$"));
        assert!(!format!("{password:?}").contains(password.as_str()));
        // An operator-chosen password keeps Argon2 (slow to verify by design).
        assert!(!is_cheap_to_verify(
            &hash_password("operator-chose-this").unwrap()
        ));
    }

    #[test]
    fn generated_passwords_follow_the_policy() {
        for len in [0, 16, 24, 40, 100] {
            let p = generate_password(len);
            assert!(check_password_policy(&p).is_ok(), "{p}");
        }
        assert!(check_password_policy("short").is_err());
        assert!(check_password_policy("sixteen chars!!!").is_err());
    }
}
