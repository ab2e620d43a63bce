//! What an account counts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::LedgerError;

/// The unit of an account's balance. The text form ([`Unit::code`]) is what the store and the
/// operator API use: `money:EUR`, `time`, `volume`, `distance`, `events`, `service:<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unit {
    /// Money in an ISO 4217 currency (three letters), in the currency's main unit (1.50 EUR).
    Money(String),
    /// Seconds.
    Time,
    /// Octets.
    Volume,
    /// Metres.
    Distance,
    /// Counted events (service units of an event-based tariff, tolling events).
    Events,
    /// A service's own units (Diameter CC-Service-Specific-Units, with the service id).
    Service(u32),
}

impl Unit {
    pub fn code(&self) -> String {
        match self {
            Unit::Money(c) => format!("money:{c}"),
            Unit::Time => "time".into(),
            Unit::Volume => "volume".into(),
            Unit::Distance => "distance".into(),
            Unit::Events => "events".into(),
            Unit::Service(id) => format!("service:{id}"),
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

impl FromStr for Unit {
    type Err = LedgerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || LedgerError::InvalidUnit(s.chars().take(40).collect());
        Ok(match s {
            "time" => Unit::Time,
            "volume" => Unit::Volume,
            "distance" => Unit::Distance,
            "events" => Unit::Events,
            _ => {
                if let Some(c) = s.strip_prefix("money:") {
                    if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                        return Err(bad());
                    }
                    Unit::Money(c.to_string())
                } else if let Some(id) = s.strip_prefix("service:") {
                    Unit::Service(id.parse().map_err(|_| bad())?)
                } else {
                    return Err(bad());
                }
            }
        })
    }
}

impl Serialize for Unit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code())
    }
}

impl<'de> Deserialize<'de> for Unit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
