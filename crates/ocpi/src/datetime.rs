//! OCPI DateTime: RFC 3339 in UTC, "the absence of the timezone designator implies a UTC
//! timestamp", fractional seconds allowed. chrono's own serde impl rejects a missing `Z`, so
//! fields use `#[serde(with = "crate::datetime")]` (or `crate::datetime::option`). We always
//! write the `Z`.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// Parses an OCPI DateTime: with an offset (converted to UTC) or without one (taken as UTC).
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc())
}

/// Formats as OCPI writes it: UTC with `Z`, fractional seconds only when there are some.
pub fn format(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(at))
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    parse(&text)
        .ok_or_else(|| serde::de::Error::custom(format_args!("not an OCPI DateTime: {text:?}")))
}

/// The same for optional fields (`Option<DateTime<Utc>>`, with `default`).
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(
        at: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => super::serialize(at, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        match <Option<std::borrow::Cow<'de, str>>>::deserialize(deserializer)? {
            None => Ok(None),
            Some(text) => parse(&text).map(Some).ok_or_else(|| {
                serde::de::Error::custom(format_args!("not an OCPI DateTime: {text:?}"))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_zone_means_utc_and_offsets_are_converted() {
        assert_eq!(
            parse("2015-06-29T20:39:09").unwrap(),
            parse("2015-06-29T20:39:09Z").unwrap()
        );
        assert_eq!(
            parse("2015-06-29T22:39:09+02:00").unwrap(),
            parse("2015-06-29T20:39:09Z").unwrap()
        );
        assert_eq!(
            format(&parse("2015-06-29T20:39:09.500").unwrap()),
            "2015-06-29T20:39:09.500Z"
        );
        assert!(parse("2015-06-29").is_none());
    }
}
