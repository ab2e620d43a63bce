//! OCPI (Open Charge Point Interface) 2.2.1 and 2.3.0 for unicharge, the pure part: no sockets,
//! no HTTP server, no store.
//!
//! * [`transport`]: the rules every OCPI request and response follows (response envelope, status
//!   codes and the HTTP status they go with, the `Authorization: Token` header, pagination,
//!   `date_from` / `date_to`, routing and tracing headers).
//! * One module per OCPI module, named as the spec names it, holding its typed objects:
//!   [`versions`], [`credentials`], [`locations`], [`tariffs`], [`sessions`], [`cdrs`], [`tokens`],
//!   [`commands`], [`charging_profiles`], [`hub_client_info`]; shared classes in [`types`].
//! * [`driver_messages`], [`gdpr`], [`cdr_verdicts`], [`location_energy`]: unicharge extension
//!   modules (B4.4 / B4.5, B3.4, B5.2, B7.4 of the OCPI 3.0 use cases).
//! * [`patch`]: applying a PATCH body to a stored object; [`raw`]: the same on stored JSON text.
//!
//! ## Versions
//!
//! One set of types serves 2.2.1 and 2.3.0. Where 2.3.0 adds a field it is an `Option` (or a
//! possibly empty list) documented with "2.3.0"; where 2.3.0 changes a shape (prices with taxes,
//! tariff price limits) the type holds both spellings as optional fields and documents which
//! version uses which. [`Version`] names the version a peer negotiated; writers pick the fields
//! of that version. 2.3.0 turns most enums into "OpenEnum"s (unknown values must be accepted):
//! every enum here keeps an unknown value as `Other(String)` and writes it back unchanged, so a
//! 2.2.1 peer that sends a value from a later release does not make us reject the object.
//!
//! Money and energy are [`rust_decimal::Decimal`]: exact, never a binary float in our hands.
//! OCPI writes them as JSON numbers; [`number`] reads and writes the number's text, never an
//! `f64`, so every digit the peer sent is kept and a number too large to hold is refused (ADR 0032).

#[macro_use]
mod open_enum;
pub mod datetime;

pub mod cdr_verdicts;
pub mod cdrs;
pub mod charging_profiles;
pub mod commands;
pub mod credentials;
pub mod driver_messages;
pub mod gdpr;
pub mod hub_client_info;
pub mod location_energy;
pub mod locations;
pub mod number;
pub mod patch;
pub mod raw;
pub mod session_limits;
pub mod sessions;
pub mod signing;
pub mod tariffs;
pub mod tokens;
pub mod transport;
pub mod types;
pub mod versions;

pub use versions::Version;
