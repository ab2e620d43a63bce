//! Identifiers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The identity of a charging station: the last path segment of its OCPP URL, and the
/// username of its HTTP Basic credentials.
///
/// OCPP 2.0.1 makes it an `identifierString` of at most 48 characters from
/// `a-z A-Z 0-9 * - _ = : + | @ .` (Part 2, section 2.1.3 and Part 4, section 3.1.1).
/// Everything else — control characters, spaces, non-ASCII — is refused: the id comes from a
/// percent-decoded URL segment, is logged and shown to operators, and a `%0D%0A` in it once
/// forged a complete log line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StationId(String);

/// Longest station id OCPP allows.
pub const MAX_STATION_ID_LEN: usize = 48;

/// Why a string is not a valid station id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidStationId {
    #[error("a station id may not be empty")]
    Empty,
    #[error("a station id has at most 48 characters, this one has {0}")]
    TooLong(usize),
    #[error("a station id may only contain a-z A-Z 0-9 * - _ = : + | @ . (found {0:?})")]
    BadCharacter(char),
}

/// True for the characters of the OCPP `identifierString` alphabet.
pub fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "*-_=:+|@.".contains(c)
}

impl StationId {
    /// Check and wrap a station id.
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidStationId> {
        let id = id.into();
        if id.is_empty() {
            return Err(InvalidStationId::Empty);
        }
        let len = id.chars().count();
        if len > MAX_STATION_ID_LEN {
            return Err(InvalidStationId::TooLong(len));
        }
        if let Some(bad) = id.chars().find(|c| !is_identifier_char(*c)) {
            return Err(InvalidStationId::BadCharacter(bad));
        }
        Ok(StationId(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for StationId {
    type Err = InvalidStationId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StationId::new(s)
    }
}

impl TryFrom<String> for StationId {
    type Error = InvalidStationId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        StationId::new(s)
    }
}

impl From<StationId> for String {
    fn from(id: StationId) -> String {
        id.0
    }
}

impl AsRef<str> for StationId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_identifier_alphabet_and_refuses_the_rest() {
        assert!(StationId::new("CP-001_a*b=c:d+e|f@g.h").is_ok());
        assert_eq!(StationId::new(""), Err(InvalidStationId::Empty));
        assert_eq!(
            StationId::new("a b"),
            Err(InvalidStationId::BadCharacter(' '))
        );
        assert_eq!(
            StationId::new("x/y"),
            Err(InvalidStationId::BadCharacter('/'))
        );
        assert_eq!(
            StationId::new("x".repeat(49)),
            Err(InvalidStationId::TooLong(49))
        );
        assert!(StationId::new("x".repeat(48)).is_ok());
    }

    /// A percent-decoded URL segment can carry anything; CR/LF once forged a whole log line.
    #[test]
    fn control_and_non_printable_characters_are_refused() {
        for id in [
            "CP1\r\nINFO forged",
            "CP\0",
            "CP\x1b[31m",
            "CP\u{85}",
            "CP\u{200b}",
            "ÇP",
        ] {
            assert!(
                matches!(StationId::new(id), Err(InvalidStationId::BadCharacter(_))),
                "{id:?}"
            );
        }
        // The error names the character escaped, so it is safe to log.
        let shown = StationId::new("CP1\r\n").unwrap_err().to_string();
        assert!(shown.contains("'\\r'") && !shown.contains('\r'), "{shown}");
    }

    proptest! {
        #[test]
        fn never_panics_and_valid_ids_round_trip(s in ".{0,60}") {
            if let Ok(id) = StationId::new(s.clone()) {
                prop_assert_eq!(id.as_str(), s.as_str());
                prop_assert_eq!(id.to_string().parse::<StationId>(), Ok(id));
            }
        }
    }
}
