//! Functional block A, Security: who may connect (security profiles 1–3, [`admission`]), TLS,
//! the local certificate authority ([`pki`]), security event notifications, and the CSMS's
//! security operations: password rotation (A01, [`password`]), certificate renewal and delivery
//! (A02/A03: [`renew_certificate`], [`sign_certificate`], [`certificate_signed`]) and the
//! security profile upgrade (A05, [`profile_upgrade`]); the front door's limits against
//! strangers and password guessing ([`guard`]).

pub mod admission;
pub mod backoff;
pub mod certificate_signed;
pub mod credential_cache;
pub mod guard;
pub mod hashing;
pub mod password;
pub mod pki;
pub mod profile_upgrade;
pub mod renew_certificate;
pub mod security_event;
pub mod sign_certificate;
pub mod tls;
