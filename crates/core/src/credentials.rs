//! Station passwords: generated strong, stored only as salted Argon2id hashes.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use rand::Rng;

/// The `identifierString` alphabet (OCPP 2.0.1 Part 2, 2.1.3) that BasicAuthPassword uses.
pub const PASSWORD_ALPHABET: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*-_=:+|@.";

/// Shortest and longest BasicAuthPassword (SecurityCtrlr.BasicAuthPassword: 16 to 40 characters).
pub const MIN_PASSWORD_LEN: usize = 16;
pub const MAX_PASSWORD_LEN: usize = 40;

/// A password could not be hashed (only on allocation failure or bad parameters).
#[derive(Debug, thiserror::Error)]
#[error("could not hash the password: {0}")]
pub struct HashError(String);

/// Hash a password into a PHC string (`$argon2id$v=19$...`) with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// True when `password` matches the stored PHC `hash`. A malformed hash never matches.
///
/// This costs a few milliseconds of CPU by design: call it off the async runtime's workers.
pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
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
