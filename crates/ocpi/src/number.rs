//! Money, energy and other decimals as exact JSON numbers (ADR 0032).
//!
//! OCPI writes amounts as JSON numbers. `serde_json` hands a number to a visitor as an `f64`
//! unless the workspace-wide `arbitrary_precision` feature is on (which would change
//! `serde_json::Value` for every crate, the OCPP schema validation included). Instead these
//! functions read and write the number's *text* through `serde_json::value::RawValue` (feature
//! `raw_value`, additive): `0.1` is read as the decimal 0.1, 19 significant digits stay 19, and a
//! number that a [`Decimal`] cannot hold exactly is refused rather than rounded.
//!
//! Use with `#[serde(with = "crate::number::exact")]` or, for optional fields,
//! `#[serde(default, with = "crate::number::exact_option")]`. These types are JSON-only.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{de::Error as _, Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// Parse the text of a JSON number exactly; `None` when it is not a number or does not fit.
pub fn parse(text: &str) -> Option<Decimal> {
    let t = text.trim();
    let first = t.as_bytes().first()?;
    if !(first.is_ascii_digit() || *first == b'-') {
        return None;
    }
    if t.contains(['e', 'E']) {
        Decimal::from_scientific(t).ok()
    } else {
        Decimal::from_str_exact(t).ok()
    }
}

fn raw(d: &Decimal) -> Box<RawValue> {
    // A Decimal's Display is always a valid JSON number: optional '-', digits, optional '.digits'.
    RawValue::from_string(d.to_string()).expect("a decimal's text is a JSON number")
}

pub mod exact {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        raw(d).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let r: Box<RawValue> = Deserialize::deserialize(d)?;
        parse(r.get()).ok_or_else(|| {
            D::Error::custom(format_args!(
                "expected an exact decimal number, got {}",
                super::bounded(r.get())
            ))
        })
    }
}

pub mod exact_option {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => raw(d).serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        let r: Option<Box<RawValue>> = Deserialize::deserialize(d)?;
        match r {
            None => Ok(None),
            Some(r) if r.get().trim() == "null" => Ok(None),
            Some(r) => parse(r.get()).map(Some).ok_or_else(|| {
                D::Error::custom(format_args!(
                    "expected an exact decimal number, got {}",
                    super::bounded(r.get())
                ))
            }),
        }
    }
}

/// At most 40 characters of peer input in an error message.
fn bounded(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Exact decimal from text the store or the operator gave (not JSON).
pub fn from_text(s: &str) -> Option<Decimal> {
    Decimal::from_str(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Amount {
        #[serde(with = "exact")]
        a: Decimal,
        #[serde(
            default,
            with = "exact_option",
            skip_serializing_if = "Option::is_none"
        )]
        b: Option<Decimal>,
    }

    #[test]
    fn digits_beyond_f64_survive_both_ways() {
        let text = r#"{"a":12345678901234567.89,"b":0.1}"#;
        let v: Amount = serde_json::from_str(text).unwrap();
        assert_eq!(v.a, Decimal::from_str("12345678901234567.89").unwrap());
        assert_eq!(v.b, Some(Decimal::from_str("0.1").unwrap()));
        assert_eq!(serde_json::to_string(&v).unwrap(), text);
    }

    #[test]
    fn through_a_value_too() {
        let v: Amount = serde_json::from_value(serde_json::json!({"a": 1.25})).unwrap();
        assert_eq!(v.a, Decimal::new(125, 2));
        assert_eq!(v.b, None);
    }

    #[test]
    fn strings_and_overflow_are_refused() {
        assert!(serde_json::from_str::<Amount>(r#"{"a":"1.5"}"#).is_err());
        assert!(serde_json::from_str::<Amount>(r#"{"a":1e40}"#).is_err());
        assert!(serde_json::from_str::<Amount>(r#"{"a":1.5,"b":null}"#)
            .unwrap()
            .b
            .is_none());
        let e: Amount = serde_json::from_str(r#"{"a":2.5E2}"#).unwrap();
        assert_eq!(e.a, Decimal::new(250, 0));
    }
}
