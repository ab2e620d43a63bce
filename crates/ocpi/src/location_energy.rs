//! Location energy reports: a unicharge extension module (not in OCPI 2.2.1 / 2.3.0) for the
//! OCPI 3.0 business use case B7.4 (a grid operator receives meter value information from
//! charging locations, for balancing the grid and local electricity markets).
//!
//! The CPO is the Sender: `GET {endpoint}?date_from=…&date_to=…&interval=900` lists one
//! [`LocationEnergyReport`] per location and interval (default 15 minutes, the settlement
//! period the use case names), every interval of the window, also those where nothing charged
//! (energy 0): a grid operator needs the zeros as much as the peaks. The energy of a location
//! is the sum over its EVSEs' energy registers (the use case's "combined values of all meters
//! at the location"); a station that reports its own main meter (evseId 0) counts with that
//! instead of its EVSEs. Energy between two readings is spread evenly over the time between
//! them, so an interval gets its share of a reading that straddles it.
//!
//! Published as [`MODULE_ID`] in version details by the CPO role; plain partners never see it.
//! Pagination, `date_from` / `date_to` (which bound the intervals, not `last_updated`) and the
//! response envelope are OCPI's.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The module identifier in version details.
pub const MODULE_ID: &str = "x-unicharge-locationenergy";

/// The interval when the request names none: 15 minutes, in seconds.
pub const DEFAULT_INTERVAL: u32 = 900;
/// The shortest and the longest interval a request may ask for, in seconds.
pub const MIN_INTERVAL: u32 = 60;
pub const MAX_INTERVAL: u32 = 86_400;
/// The most intervals one request covers (per location): a day of minutes is 1,440.
pub const MAX_INTERVALS: i64 = 1_440;

/// The energy used at one location during one interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationEnergyReport {
    pub country_code: String,
    pub party_id: String,
    pub location_id: String,
    /// Start of the interval (inclusive).
    pub period_start: DateTime<Utc>,
    /// End of the interval (exclusive).
    pub period_end: DateTime<Utc>,
    /// Energy taken from the grid during the interval, kWh (exact decimal, 3 places).
    #[serde(with = "crate::number::exact")]
    pub energy_kwh: Decimal,
    /// Where the figure comes from.
    pub source: EnergySource,
    /// EVSEs (or main meters) that took energy during the interval.
    pub meters_active: u32,
    /// When the figure was computed.
    pub last_updated: DateTime<Utc>,
}

ocpi_enum! {
    /// The meters behind a report.
    EnergySource {
        /// The sum of the EVSEs' energy registers (and of the stations' main meters where they
        /// report one).
        CombinedMeters => "COMBINED_METERS",
    }
}
