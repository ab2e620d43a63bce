//! The charging core: the domain every front door shares, free of I/O.
//!
//! Today it holds what the CSMS foundation needs — station identity, security profiles,
//! credentials and the station registry record. Tokens, tariffs and rating, sessions and
//! charge records join it with the authorization and transaction work, and are reused by the
//! OCPI, Diameter and EFC front doors.

pub mod api_keys;
pub mod charge_record;
pub mod credentials;
pub mod ids;
pub mod ledger;
pub mod metering;
pub mod online;
pub mod rating;
pub mod security_profile;
pub mod smart_charging;
pub mod station;
pub mod tariff;
pub mod tokens;

pub use ids::{InvalidStationId, StationId};
pub use security_profile::SecurityProfile;
pub use station::{RegistrationStatus, Station};
