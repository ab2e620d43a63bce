//! GDPR for a driver's token: a unicharge extension module (not in OCPI 2.2.1 / 2.3.0) for the
//! OCPI 3.0 business use case B3.4 (the CPO provides the right of access and the right to be
//! forgotten for an EV driver of an MSP).
//!
//! The MSP holds the relationship with the driver, so the request reaches the CPO through it:
//! `GET {cpo endpoint}/{country_code}/{party_id}/{uid}` answers everything the CPO keeps about
//! the token (its records, its transactions and charge records, the OCPP messages naming it),
//! `DELETE` on the same URL erases it — what only lets the token charge is deleted, what
//! billing law keeps is pseudonymised — and asks the stations that knew the token to forget it
//! (OCPP CustomerInformation with `clear`). Only the token's own MSP (the partner that pushed
//! it, or one registered with its party) reaches it. Published as [`MODULE_ID`] in version
//! details by the CPO role; plain partners never see it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The module identifier in version details.
pub const MODULE_ID: &str = "x-unicharge-gdpr";

/// What a `DELETE` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GdprErasure {
    /// False when nothing was kept (erased before, or never stored): erasing is idempotent.
    pub found: bool,
    /// Stands for the token in what is kept for billing (a keyed hash: the same token always
    /// gets the same one, the database alone does not give the token back).
    pub pseudonym: String,
    /// Stations asked to clear what they keep about the token (CustomerInformation clear).
    pub stations_cleared: Vec<String>,
    /// Stations that knew the token but are offline now: the CPO's operator must clear them
    /// when they are back.
    #[serde(default)]
    pub stations_offline: Vec<String>,
    pub erased_at: DateTime<Utc>,
}
