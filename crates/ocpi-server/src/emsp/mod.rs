//! The eMSP role (issue 12 item 3, ADR 0039): what a platform with an `EMSP` party does.
//!
//! * [`receiver`]: the Receiver endpoints CPO partners push to — Locations (PUT / PATCH of a
//!   location, EVSE or connector), Tariffs (PUT / DELETE), Sessions (PUT / PATCH) — and
//!   [`cdrs`] (POST, and GET of the URL the POST answers with). Everything is stored per
//!   partner and per CPO party (the `country_code` / `party_id` of the URL), as the partner
//!   sent it (JSON text, so amounts stay exact).
//! * [`commands`]: the Commands Sender — START_SESSION, STOP_SESSION, RESERVE_NOW,
//!   CANCEL_RESERVATION, UNLOCK_CONNECTOR sent to a CPO's Commands Receiver with our own
//!   `response_url`, and the asynchronous CommandResult received there.
//! * [`tokens`]: our drivers' tokens — the Tokens Sender (GET, paged), pushes to CPO partners
//!   (through the outbox), real-time authorization.
//! * [`driver_messages`]: the driver-messages extension module (B4.4 sent, B4.5 received).
//! * [`gdpr`]: the GDPR extension module (B3.4): our drivers' data at a CPO, read or erased.
//! * [`cdr_verdicts`]: the CDR-verdicts extension module (B5.2): accept or dispute a CDR.
//! * [`charging_profiles`]: the ChargingProfiles Sender — set / read / clear the profile of a
//!   session a CPO pushed us, the asynchronous results, the CPO's ActiveChargingProfile updates.
//! * [`preferences`]: charging preferences PUT to the CPO for a session it pushed us.
//! * [`views`]: what the operator API shows of all this.
//! * [`sync`]: the pull of a CPO's Sender lists after registration and on request (ADR 0041),
//!   page by page through [`pages`].
//!
//! A partner reaches these endpoints only once registered with one of our eMSP parties, and
//! only for CPO parties among its own credentials roles ([`scope`]).

pub mod cdr_verdicts;
pub mod cdrs;
pub mod charging_profiles;
pub mod commands;
pub mod driver_messages;
pub mod gdpr;
pub mod pages;
pub mod preferences;
pub mod raw;
pub mod receiver;
pub mod scope;
pub mod session_limits;
pub mod sync;
pub mod tokens;
pub mod views;

/// Module names of the received objects (the `module` column of `ocpi_received`).
pub const LOCATIONS: &str = "locations";
pub const TARIFFS: &str = "tariffs";
pub const SESSIONS: &str = "sessions";
pub const CDRS: &str = "cdrs";
/// Driver messages a CPO sent us (the extension module `x-unicharge-drivermessages`).
pub const DRIVER_MESSAGES: &str = "drivermessages";
/// ActiveChargingProfiles a CPO PUT for one of its sessions (id = the session id).
pub const CHARGING_PROFILES: &str = "chargingprofiles";
