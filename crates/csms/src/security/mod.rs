//! Functional block A, Security: who may connect (security profiles 1–3), TLS, the local
//! certificate authority, and security event notifications; the front door's limits against
//! strangers and password guessing ([`guard`]).

pub mod admission;
pub mod backoff;
pub mod credential_cache;
pub mod guard;
pub mod hashing;
pub mod pki;
pub mod security_event;
pub mod sign_certificate;
pub mod tls;
