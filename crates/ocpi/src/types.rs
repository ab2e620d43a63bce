//! Classes shared by several modules ("Types" chapter, plus the location classes the CDR and
//! tariff modules reuse).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A party on a platform: ISO 3166-1 alpha-2 country code and the 3-character party id.
/// Both are CiStrings: compare with [`PartyId::same`], not `==`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PartyId {
    pub country_code: String,
    pub party_id: String,
}

impl PartyId {
    pub fn new(country_code: impl Into<String>, party_id: impl Into<String>) -> Self {
        PartyId {
            country_code: country_code.into(),
            party_id: party_id.into(),
        }
    }

    /// Case-insensitive equality, as CiString asks.
    pub fn same(&self, other: &PartyId) -> bool {
        self.country_code.eq_ignore_ascii_case(&other.country_code)
            && self.party_id.eq_ignore_ascii_case(&other.party_id)
    }
}

/// Text in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayText {
    /// ISO 639-1 language code.
    pub language: String,
    pub text: String,
}

/// An amount of money.
///
/// 2.2.1: `excl_vat` (required) and `incl_vat`. 2.3.0: `before_taxes` (required) and `taxes`
/// (a list, since a price can carry several taxes, e.g. in North America). One type holds both
/// spellings; a reader uses [`Price::before_taxes`] / [`Price::after_taxes`], a writer fills the
/// fields of the version the peer negotiated ([`Price::for_version`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Price {
    /// 2.2.1: price excluding VAT.
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub excl_vat: Option<Decimal>,
    /// 2.2.1: price including VAT.
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub incl_vat: Option<Decimal>,
    /// 2.3.0: price before taxes.
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub before_taxes: Option<Decimal>,
    /// 2.3.0: the taxes applied, each with its amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxes: Option<Vec<TaxAmount>>,
}

impl Price {
    /// The amount without taxes, whichever version wrote it.
    pub fn before_taxes(&self) -> Option<Decimal> {
        self.before_taxes.or(self.excl_vat)
    }

    /// The amount with taxes: `incl_vat` (2.2.1) or `before_taxes` plus every tax (2.3.0).
    pub fn after_taxes(&self) -> Option<Decimal> {
        if let Some(incl) = self.incl_vat {
            return Some(incl);
        }
        let taxes = self.taxes.as_ref()?;
        Some(self.before_taxes()? + taxes.iter().map(|t| t.amount).sum::<Decimal>())
    }

    /// The same amount written for `version` (one VAT-like tax named "VAT" when converting
    /// 2.2.1 to 2.3.0; `incl_vat` summed from the taxes the other way).
    pub fn for_version(&self, version: &crate::Version) -> Price {
        if version.prices_with_taxes() {
            let taxes = self.taxes.clone().or_else(|| {
                let (excl, incl) = (self.excl_vat?, self.incl_vat?);
                Some(vec![TaxAmount {
                    name: "VAT".into(),
                    account_number: None,
                    percentage: None,
                    amount: incl - excl,
                }])
            });
            Price {
                excl_vat: None,
                incl_vat: None,
                before_taxes: self.before_taxes(),
                taxes,
            }
        } else {
            Price {
                excl_vat: self.before_taxes(),
                incl_vat: self.after_taxes(),
                before_taxes: None,
                taxes: None,
            }
        }
    }
}

/// 2.3.0: one tax on a price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxAmount {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_number: Option<String>,
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub percentage: Option<Decimal>,
    #[serde(with = "crate::number::exact")]
    pub amount: Decimal,
}

ocpi_enum! {
    /// The role of a party (Role). `HUB` is 2.2.1 only: 2.3.0 dropped it and names a hub by
    /// `Credentials.hub_party_id`; it stays here so 2.2.1 hubs are understood.
    Role {
        Cpo => "CPO",
        Emsp => "EMSP",
        Hub => "HUB",
        Nap => "NAP",
        Nsp => "NSP",
        OtherRole => "OTHER",
        Scsp => "SCSP",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Version;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn amounts_are_written_as_their_decimal_text() {
        for (amount, text) in [
            (d("0.1") + d("0.2"), "0.3"),
            (d("9.35"), "9.35"),
            (d("123456789.123456"), "123456789.123456"),
            // Plain decimal text, never an exponent or a binary float's rounding (ADR 0032).
            (d("0.000001"), "0.000001"),
            (d("1234567890123456.789"), "1234567890123456.789"),
        ] {
            let price = Price {
                before_taxes: Some(amount),
                ..Default::default()
            };
            let json = serde_json::to_string(&price).unwrap();
            assert_eq!(json, format!("{{\"before_taxes\":{text}}}"));
            let back: Price = serde_json::from_str(&json).unwrap();
            assert_eq!(back.before_taxes, Some(amount));
        }
    }

    #[test]
    fn price_converts_between_versions() {
        let old = Price {
            excl_vat: Some(d("8.50")),
            incl_vat: Some(d("9.35")),
            ..Default::default()
        };
        let new = old.for_version(&Version::V2_3_0);
        assert_eq!(new.before_taxes, Some(d("8.50")));
        assert_eq!(new.taxes.as_ref().unwrap()[0].amount, d("0.85"));
        assert_eq!(new.after_taxes(), Some(d("9.35")));
        assert_eq!(new.for_version(&Version::V2_2_1), old);
    }
}
