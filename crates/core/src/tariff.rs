//! Tariffs: what charging costs, where, and when.
//!
//! A tariff is deliberately small — a price per kWh, per minute charging, per minute idle
//! (plugged in but not charging, the "parking" component that keeps a full car from blocking a
//! charger) and a fee per session, in one currency, with a VAT rate and a validity window. That
//! is the common denominator of the OCPP 2.0.1 tariff/cost use cases (block I), the OCPI
//! `Tariff` module (which is richer, and maps onto this for the flat case) and the per-unit
//! prices a Diameter OCF or an EFC back end rates with. Keeping the names generic (no OCPP
//! field names) lets every front door reuse the same rules.
//!
//! Prices are held EXCLUDING VAT as exact decimals ([`rust_decimal::Decimal`], never binary
//! floats): VAT is added once, on the total, by [`crate::rating::rate`], so a charge record
//! can be recomputed by hand and per-component rounding never compounds with VAT rounding.
//!
//! JSON shape: field names are camelCase and decimals serialize as strings (`"0.30"`), which
//! keeps them exact across every JSON parser; decimals given as JSON numbers are accepted too.

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Longest tariff id (the OCPI `Tariff.id` limit, so an id can travel unchanged to roaming).
pub const MAX_TARIFF_ID_LEN: usize = 36;

/// Longest text shown to a driver: OCPP 2.0.1 `MessageContentType.content` (the
/// `personalMessage` of an `IdTokenInfo`) allows 512 characters.
pub const MAX_DRIVER_TEXT_CHARS: usize = 512;

/// Longest language code of a display text: OCPP 2.0.1 `MessageContentType.language` allows 8
/// characters (RFC 5646 tags such as `en`, `de-CH`).
pub const MAX_LANGUAGE_LEN: usize = 8;

/// Highest price a tariff may carry for any one component, in the currency's major unit.
///
/// Generous on purpose — 10⁹ covers a session fee in the currencies with the smallest units
/// (VND, IRR, LBP) — but bounded so that rating can prove it never overflows `Decimal`
/// (see [`crate::rating`]).
pub const MAX_PRICE: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// Per-language text describing a tariff to the driver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TariffText {
    /// Language code, e.g. `en`, `de`, `fr-CH` (at most [`MAX_LANGUAGE_LEN`] characters).
    pub language: String,
    /// The text itself (at most [`MAX_DRIVER_TEXT_CHARS`] characters).
    pub text: String,
}

/// A flat tariff. All prices are EXCLUDING VAT and in `currency`'s major unit (e.g. euros).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tariff {
    /// Operator-chosen id, 1..=36 characters from `A-Z a-z 0-9 . _ -`.
    pub id: String,
    /// ISO 4217 currency code, three upper-case letters.
    pub currency: String,
    /// VAT in percent (0..=100), added on top of the prices below.
    pub vat_percent: Decimal,
    /// Price per kWh of energy delivered.
    pub price_per_kwh: Decimal,
    /// Price per minute while energy flows (OCPP `chargingState` `Charging`).
    pub price_per_charging_minute: Decimal,
    /// Price per minute plugged in but not charging (`EVConnected`, `SuspendedEV`,
    /// `SuspendedEVSE`): the parking / blocking fee.
    pub price_per_idle_minute: Decimal,
    /// Fee charged once per session.
    pub session_fee: Decimal,
    /// First instant the tariff applies (inclusive); `None` = always has.
    #[serde(default)]
    pub valid_from: Option<DateTime<Utc>>,
    /// First instant the tariff no longer applies (exclusive); `None` = open-ended.
    #[serde(default)]
    pub valid_to: Option<DateTime<Utc>>,
    /// Texts for the driver, one per language; may be empty (a text is then generated from the
    /// prices, see [`Tariff::driver_text`]).
    #[serde(default)]
    pub display_text: Vec<TariffText>,
}

/// Why a tariff is rejected. Each message names the field (in its JSON spelling, which is what
/// an operator typed) and says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TariffError {
    #[error("id {id:?} is invalid: use 1 to 36 characters from A-Z a-z 0-9 . _ -")]
    InvalidId { id: String },
    #[error("currency {currency:?} is invalid: use an ISO 4217 code of three upper-case letters such as \"EUR\"")]
    InvalidCurrency { currency: String },
    #[error(
        "vatPercent {value} is out of range: use a percentage from 0 to 100, e.g. 20 for 20 % VAT"
    )]
    InvalidVatPercent { value: Decimal },
    #[error("{field} is negative ({value}): use a price of 0 or more")]
    NegativePrice { field: &'static str, value: Decimal },
    #[error("{field} is {value}: use a price of at most {max}")]
    PriceTooHigh {
        field: &'static str,
        value: Decimal,
        max: Decimal,
    },
    #[error("validTo ({valid_to}) is not after validFrom ({valid_from}): make validTo later than validFrom or leave one of them out")]
    EmptyValidity {
        valid_from: DateTime<Utc>,
        valid_to: DateTime<Utc>,
    },
    #[error("displayText[{index}].language {language:?} is invalid: use a language code of 1 to 8 characters such as \"en\"")]
    InvalidDisplayLanguage { index: usize, language: String },
    #[error(
        "displayText[{index}].language {language:?} appears twice: give one text per language"
    )]
    DuplicateDisplayLanguage { index: usize, language: String },
    #[error("displayText[{index}].text is empty: give the text or remove the entry")]
    EmptyDisplayText { index: usize },
    #[error("displayText[{index}].text has {chars} characters: shorten it to at most 512 (the OCPP personalMessage limit)")]
    DisplayTextTooLong { index: usize, chars: usize },
}

impl Tariff {
    /// Check every field. A store should refuse an invalid tariff at the edge;
    /// [`select_tariff`] additionally skips invalid ones so a bad row can never be billed.
    pub fn validate(&self) -> Result<(), TariffError> {
        let id_ok = !self.id.is_empty()
            && self.id.chars().count() <= MAX_TARIFF_ID_LEN
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !id_ok {
            return Err(TariffError::InvalidId {
                id: self.id.clone(),
            });
        }
        if !(self.currency.len() == 3 && self.currency.chars().all(|c| c.is_ascii_uppercase())) {
            return Err(TariffError::InvalidCurrency {
                currency: self.currency.clone(),
            });
        }
        if self.vat_percent < Decimal::ZERO || self.vat_percent > Decimal::ONE_HUNDRED {
            return Err(TariffError::InvalidVatPercent {
                value: self.vat_percent,
            });
        }
        for (field, value) in self.prices() {
            if value < Decimal::ZERO {
                return Err(TariffError::NegativePrice { field, value });
            }
            if value > MAX_PRICE {
                return Err(TariffError::PriceTooHigh {
                    field,
                    value,
                    max: MAX_PRICE,
                });
            }
        }
        if let (Some(valid_from), Some(valid_to)) = (self.valid_from, self.valid_to) {
            if valid_to <= valid_from {
                return Err(TariffError::EmptyValidity {
                    valid_from,
                    valid_to,
                });
            }
        }
        for (index, t) in self.display_text.iter().enumerate() {
            let lang_ok = !t.language.is_empty()
                && t.language.len() <= MAX_LANGUAGE_LEN
                && t.language
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !lang_ok {
                return Err(TariffError::InvalidDisplayLanguage {
                    index,
                    language: t.language.clone(),
                });
            }
            if self.display_text[..index]
                .iter()
                .any(|earlier| earlier.language.eq_ignore_ascii_case(&t.language))
            {
                return Err(TariffError::DuplicateDisplayLanguage {
                    index,
                    language: t.language.clone(),
                });
            }
            if t.text.trim().is_empty() {
                return Err(TariffError::EmptyDisplayText { index });
            }
            let chars = t.text.chars().count();
            if chars > MAX_DRIVER_TEXT_CHARS {
                return Err(TariffError::DisplayTextTooLong { index, chars });
            }
        }
        Ok(())
    }

    /// The four price components with their JSON field names, for validation and display.
    fn prices(&self) -> [(&'static str, Decimal); 4] {
        [
            ("pricePerKwh", self.price_per_kwh),
            ("pricePerChargingMinute", self.price_per_charging_minute),
            ("pricePerIdleMinute", self.price_per_idle_minute),
            ("sessionFee", self.session_fee),
        ]
    }

    /// Whether the tariff applies at `at`: `valid_from <= at < valid_to`, each bound optional.
    /// The end is exclusive so that one tariff can end exactly where its successor starts.
    pub fn is_valid_at(&self, at: DateTime<Utc>) -> bool {
        self.valid_from.is_none_or(|from| from <= at) && self.valid_to.is_none_or(|to| at < to)
    }

    /// Text for the driver (OCPP `personalMessage`, at most 512 characters; longer texts are
    /// cut at 512 characters).
    ///
    /// The operator's own display text wins: the one in `language` (compared
    /// case-insensitively, then by primary subtag so `de-CH` finds `de`), else the first one.
    /// Without display texts the text is generated from the prices INCLUDING VAT — what the
    /// driver will actually pay — e.g. `0.36 EUR/kWh + 0.06 EUR/min charging + 0.12 EUR/min
    /// idle + 1.00 EUR per session (incl. 20% VAT)`. Zero components are left out, the VAT note
    /// is left out at 0 % VAT, and an all-zero tariff reads `Free charging`. Prices show the
    /// currency's minor units (2 for EUR) and up to 4 decimals when a per-unit price needs them
    /// (rounded half-up), so a price of 0.2499 is not shown as 0.25.
    pub fn driver_text(&self, language: Option<&str>) -> String {
        let texts: Vec<&TariffText> = self
            .display_text
            .iter()
            .filter(|t| !t.text.trim().is_empty())
            .collect();
        let chosen = language
            .and_then(|lang| {
                texts
                    .iter()
                    .find(|t| t.language.eq_ignore_ascii_case(lang))
                    .or_else(|| {
                        let primary = primary_subtag(lang);
                        texts
                            .iter()
                            .find(|t| primary_subtag(&t.language).eq_ignore_ascii_case(primary))
                    })
            })
            .or(texts.first());
        let text = match chosen {
            Some(t) => t.text.clone(),
            None => self.generated_text(),
        };
        truncate_chars(text, MAX_DRIVER_TEXT_CHARS)
    }

    fn generated_text(&self) -> String {
        let minor = currency_minor_units(&self.currency);
        let vat_factor = Decimal::ONE_HUNDRED
            .checked_add(self.vat_percent.max(Decimal::ZERO))
            .and_then(|p| p.checked_div(Decimal::ONE_HUNDRED))
            .unwrap_or(Decimal::ONE);
        let suffixes = ["/kWh", "/min charging", "/min idle", " per session"];
        let parts: Vec<String> = self
            .prices()
            .iter()
            .zip(suffixes)
            .filter(|((_, price), _)| *price > Decimal::ZERO)
            .map(|((_, price), suffix)| {
                let gross = price.checked_mul(vat_factor).unwrap_or(*price);
                format!("{} {}{}", format_price(gross, minor), self.currency, suffix)
            })
            .collect();
        if parts.is_empty() {
            return "Free charging".to_string();
        }
        let mut text = parts.join(" + ");
        if self.vat_percent > Decimal::ZERO {
            text.push_str(&format!(" (incl. {}% VAT)", self.vat_percent.normalize()));
        }
        text
    }
}

fn primary_subtag(language: &str) -> &str {
    language.split(['-', '_']).next().unwrap_or(language)
}

fn truncate_chars(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => text[..cut].to_string(),
        None => text,
    }
}

/// A price for display: at least `minor` decimals, more (up to 4) when the price has them,
/// rounded half-up.
fn format_price(price: Decimal, minor: u32) -> String {
    let mut shown =
        price.round_dp_with_strategy(minor.max(4), RoundingStrategy::MidpointAwayFromZero);
    let dp = shown.normalize().scale().max(minor);
    shown.rescale(dp);
    shown.to_string()
}

/// Where a tariff applies. More specific wins: token group > EVSE > station > default.
///
/// The token group is the most specific because it expresses a contract (a fleet, a
/// subscription) that should follow the driver to every station; EVSE beats station because
/// one station may have a fast and a slow outlet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "scope",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum TariffScope {
    /// Everywhere, for everyone (the fallback).
    Default,
    /// Every EVSE of one station.
    Station { station_id: String },
    /// One EVSE of one station.
    Evse { station_id: String, evse_id: i64 },
    /// Drivers whose token belongs to this group (OCPP `groupIdToken`), at any station.
    TokenGroup { group_id_token: String },
}

impl TariffScope {
    /// How specific the scope is; higher wins in [`select_tariff`].
    pub fn specificity(&self) -> u8 {
        match self {
            TariffScope::Default => 0,
            TariffScope::Station { .. } => 1,
            TariffScope::Evse { .. } => 2,
            TariffScope::TokenGroup { .. } => 3,
        }
    }

    /// Whether the scope covers a session at `station_id` / `evse_id` by a token of
    /// `group_id_token`. Station ids compare exactly (they are the OCPP URL path); token
    /// groups compare case-insensitively, as OCPP compares idTokens.
    pub fn matches(&self, station_id: &str, evse_id: Option<i64>, group: Option<&str>) -> bool {
        match self {
            TariffScope::Default => true,
            TariffScope::Station { station_id: s } => s == station_id,
            TariffScope::Evse {
                station_id: s,
                evse_id: e,
            } => s == station_id && evse_id == Some(*e),
            TariffScope::TokenGroup { group_id_token } => {
                group.is_some_and(|g| g.eq_ignore_ascii_case(group_id_token))
            }
        }
    }
}

/// A tariff bound to a scope. Serialized flat:
/// `{"tariffId": "T1", "scope": "evse", "stationId": "CP001", "evseId": 1}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TariffAssignment {
    pub tariff_id: String,
    #[serde(flatten)]
    pub scope: TariffScope,
}

/// Pick the tariff for a session: among the assignments whose scope matches and whose tariff
/// exists, passes [`Tariff::validate`] and is valid at `at`, the most specific one
/// ([`TariffScope::specificity`]); ties go to the later assignment in the slice (the one
/// added last). When several tariffs share the id, the last one valid at `at` is used, so a
/// price change can be stored as a new version with a later validity window.
///
/// Falling through to a less specific scope when the specific tariff has expired is
/// deliberate: a driver should get the station price rather than no price at all.
pub fn select_tariff<'a>(
    tariffs: &'a [Tariff],
    assignments: &[TariffAssignment],
    station_id: &str,
    evse_id: Option<i64>,
    group_id_token: Option<&str>,
    at: DateTime<Utc>,
) -> Option<&'a Tariff> {
    let mut best: Option<(u8, &'a Tariff)> = None;
    for assignment in assignments {
        if !assignment
            .scope
            .matches(station_id, evse_id, group_id_token)
        {
            continue;
        }
        let Some(tariff) = tariffs
            .iter()
            .rev()
            .find(|t| t.id == assignment.tariff_id && t.is_valid_at(at) && t.validate().is_ok())
        else {
            continue;
        };
        let rank = assignment.scope.specificity();
        if best.is_none_or(|(best_rank, _)| rank >= best_rank) {
            best = Some((rank, tariff));
        }
    }
    best.map(|(_, t)| t)
}

/// Decimals of a currency's minor unit (ISO 4217 exponent): money is rounded to this many
/// places. 2 unless the ISO table says otherwise (unknown codes get 2, the common case):
/// 0 for BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF;
/// 3 for BHD IQD JOD KWD LYD OMR TND; 4 for CLF UYW. Case-insensitive.
pub fn currency_minor_units(currency: &str) -> u32 {
    let code = currency.to_ascii_uppercase();
    match code.as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(crate) fn dec(s: &str) -> Decimal {
        s.parse().expect("test decimal")
    }

    pub(crate) fn tariff(id: &str) -> Tariff {
        Tariff {
            id: id.into(),
            currency: "EUR".into(),
            vat_percent: dec("20"),
            price_per_kwh: dec("0.30"),
            price_per_charging_minute: dec("0.05"),
            price_per_idle_minute: dec("0.10"),
            session_fee: dec("1.00"),
            valid_from: None,
            valid_to: None,
            display_text: vec![],
        }
    }

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, h, 0, 0).unwrap()
    }

    fn assign(id: &str, scope: TariffScope) -> TariffAssignment {
        TariffAssignment {
            tariff_id: id.into(),
            scope,
        }
    }

    fn station(s: &str) -> TariffScope {
        TariffScope::Station {
            station_id: s.into(),
        }
    }

    fn evse(s: &str, e: i64) -> TariffScope {
        TariffScope::Evse {
            station_id: s.into(),
            evse_id: e,
        }
    }

    fn group(g: &str) -> TariffScope {
        TariffScope::TokenGroup {
            group_id_token: g.into(),
        }
    }

    #[test]
    fn select_most_specific_scope() {
        let tariffs = vec![tariff("D"), tariff("S"), tariff("E"), tariff("G")];
        let assignments = vec![
            assign("G", group("Fleet")),
            assign("E", evse("CP1", 2)),
            assign("S", station("CP1")),
            assign("D", TariffScope::Default),
        ];
        let pick = |st: &str, e: Option<i64>, g: Option<&str>| {
            select_tariff(&tariffs, &assignments, st, e, g, t(12)).map(|t| t.id.as_str())
        };
        assert_eq!(pick("CP1", Some(2), Some("fleet")), Some("G"));
        assert_eq!(pick("CP1", Some(2), Some("other")), Some("E"));
        assert_eq!(pick("CP1", Some(1), None), Some("S"));
        assert_eq!(pick("CP1", None, None), Some("S"));
        assert_eq!(pick("CP2", Some(2), None), Some("D"));
        assert_eq!(
            pick("cp1", Some(2), None),
            Some("D"),
            "station ids are exact"
        );
        assert_eq!(pick("CP2", None, Some("FLEET")), Some("G"));
        assert_eq!(
            select_tariff(&tariffs, &[], "CP1", Some(1), None, t(12)),
            None
        );
    }

    #[test]
    fn select_ties_go_to_the_later_assignment() {
        let tariffs = vec![tariff("A"), tariff("B")];
        let assignments = vec![assign("A", station("CP1")), assign("B", station("CP1"))];
        let got = select_tariff(&tariffs, &assignments, "CP1", None, None, t(0)).unwrap();
        assert_eq!(got.id, "B");
        let assignments = vec![assign("B", station("CP1")), assign("A", station("CP1"))];
        let got = select_tariff(&tariffs, &assignments, "CP1", None, None, t(0)).unwrap();
        assert_eq!(got.id, "A");
    }

    #[test]
    fn select_skips_expired_missing_and_invalid_tariffs() {
        let mut expired = tariff("E");
        expired.valid_to = Some(t(10));
        let mut future = tariff("F");
        future.valid_from = Some(t(13));
        let mut invalid = tariff("I");
        invalid.price_per_kwh = dec("-1");
        let tariffs = vec![tariff("S"), expired, future, invalid];
        let assignments = vec![
            assign("S", station("CP1")),
            assign("E", evse("CP1", 1)),
            assign("F", evse("CP1", 1)),
            assign("I", evse("CP1", 1)),
            assign("MISSING", evse("CP1", 1)),
        ];
        let got = select_tariff(&tariffs, &assignments, "CP1", Some(1), None, t(12)).unwrap();
        assert_eq!(got.id, "S");
        // valid_to is exclusive, valid_from inclusive
        let got = select_tariff(&tariffs, &assignments, "CP1", Some(1), None, t(13)).unwrap();
        assert_eq!(got.id, "F");
        let got = select_tariff(&tariffs, &assignments, "CP1", Some(1), None, t(9)).unwrap();
        assert_eq!(got.id, "E");
    }

    #[test]
    fn select_uses_the_version_valid_at_the_time() {
        let mut old = tariff("T");
        old.valid_to = Some(t(12));
        old.price_per_kwh = dec("0.20");
        let mut new = tariff("T");
        new.valid_from = Some(t(12));
        new.price_per_kwh = dec("0.40");
        let tariffs = vec![old, new];
        let assignments = vec![assign("T", TariffScope::Default)];
        let at = |h| {
            select_tariff(&tariffs, &assignments, "X", None, None, t(h))
                .unwrap()
                .price_per_kwh
        };
        assert_eq!(at(11), dec("0.20"));
        assert_eq!(at(12), dec("0.40"));
    }

    #[test]
    fn validity_window() {
        let mut tr = tariff("T");
        assert!(tr.is_valid_at(t(0)));
        tr.valid_from = Some(t(8));
        tr.valid_to = Some(t(18));
        assert!(!tr.is_valid_at(t(7)));
        assert!(tr.is_valid_at(t(8)));
        assert!(tr.is_valid_at(t(17)));
        assert!(!tr.is_valid_at(t(18)));
    }

    #[test]
    fn validate_accepts_a_good_tariff() {
        let mut tr = tariff("a.B_c-9");
        tr.display_text = vec![
            TariffText {
                language: "en".into(),
                text: "x".into(),
            },
            TariffText {
                language: "de-CH".into(),
                text: "y".into(),
            },
        ];
        assert_eq!(tr.validate(), Ok(()));
        let mut zero = tariff(&"x".repeat(36));
        zero.vat_percent = Decimal::ZERO;
        zero.price_per_kwh = Decimal::ZERO;
        zero.price_per_charging_minute = Decimal::ZERO;
        zero.price_per_idle_minute = Decimal::ZERO;
        zero.session_fee = Decimal::ZERO;
        assert_eq!(zero.validate(), Ok(()));
    }

    #[test]
    fn validate_errors_name_the_field() {
        let check = |f: &dyn Fn(&mut Tariff), needle: &str| {
            let mut tr = tariff("T1");
            f(&mut tr);
            let err = tr.validate().expect_err(needle);
            assert!(
                err.to_string().contains(needle),
                "{err} should mention {needle}"
            );
        };
        check(&|t| t.id = String::new(), "id");
        check(&|t| t.id = "x".repeat(37), "1 to 36");
        check(&|t| t.id = "a b".into(), "A-Z a-z 0-9");
        check(&|t| t.currency = "eur".into(), "currency");
        check(&|t| t.currency = "EURO".into(), "ISO 4217");
        check(&|t| t.vat_percent = dec("-1"), "vatPercent");
        check(&|t| t.vat_percent = dec("100.01"), "0 to 100");
        check(&|t| t.price_per_kwh = dec("-0.01"), "pricePerKwh");
        check(
            &|t| t.price_per_charging_minute = dec("-1"),
            "pricePerChargingMinute",
        );
        check(
            &|t| t.price_per_idle_minute = dec("-1"),
            "pricePerIdleMinute",
        );
        check(&|t| t.session_fee = dec("-1"), "sessionFee");
        check(&|t| t.session_fee = dec("1000000000.01"), "at most");
        check(
            &|tr| {
                tr.valid_from = Some(t(10));
                tr.valid_to = Some(t(10));
            },
            "validTo",
        );
        check(
            &|t| {
                t.display_text = vec![TariffText {
                    language: String::new(),
                    text: "x".into(),
                }]
            },
            "displayText[0].language",
        );
        check(
            &|t| {
                t.display_text = vec![
                    TariffText {
                        language: "en".into(),
                        text: "x".into(),
                    },
                    TariffText {
                        language: "EN".into(),
                        text: "y".into(),
                    },
                ]
            },
            "appears twice",
        );
        check(
            &|t| {
                t.display_text = vec![TariffText {
                    language: "en".into(),
                    text: "  ".into(),
                }]
            },
            "displayText[0].text is empty",
        );
        check(
            &|t| {
                t.display_text = vec![TariffText {
                    language: "en".into(),
                    text: "é".repeat(513),
                }]
            },
            "513 characters",
        );
    }

    fn priced(kwh: &str, charging: &str, idle: &str, fee: &str, vat: &str) -> Tariff {
        Tariff {
            id: "T".into(),
            currency: "EUR".into(),
            vat_percent: dec(vat),
            price_per_kwh: dec(kwh),
            price_per_charging_minute: dec(charging),
            price_per_idle_minute: dec(idle),
            session_fee: dec(fee),
            valid_from: None,
            valid_to: None,
            display_text: vec![],
        }
    }

    #[test]
    fn driver_text_generated_from_prices_incl_vat() {
        let tr = priced(
            "0.30",
            "0.05",
            "0.10",
            "0.8333333333333333333333333333",
            "20",
        );
        assert_eq!(
            tr.driver_text(None),
            "0.36 EUR/kWh + 0.06 EUR/min charging + 0.12 EUR/min idle + 1.00 EUR per session (incl. 20% VAT)"
        );
        let tr = priced("0.30", "0", "0", "1", "0");
        assert_eq!(
            tr.driver_text(Some("en")),
            "0.30 EUR/kWh + 1.00 EUR per session"
        );
        let tr = priced("0", "0", "0", "0", "19");
        assert_eq!(tr.driver_text(None), "Free charging");
        let tr = priced("0.29995", "0", "0", "0", "0");
        assert_eq!(tr.driver_text(None), "0.30 EUR/kWh");
        let tr = priced("0.2499", "0", "0.1", "0", "0");
        assert_eq!(tr.driver_text(None), "0.2499 EUR/kWh + 0.10 EUR/min idle");
        let tr = priced("0.123456", "0", "0", "0", "7.7");
        assert_eq!(tr.driver_text(None), "0.133 EUR/kWh (incl. 7.7% VAT)");
        let mut jpy = priced("35", "0", "0", "100", "10");
        jpy.currency = "JPY".into();
        assert_eq!(
            jpy.driver_text(None),
            "38.5 JPY/kWh + 110 JPY per session (incl. 10% VAT)"
        );
    }

    #[test]
    fn driver_text_prefers_the_operator_text_in_the_language() {
        let mut tr = tariff("T");
        tr.display_text = vec![
            TariffText {
                language: "en".into(),
                text: "English".into(),
            },
            TariffText {
                language: "de".into(),
                text: "Deutsch".into(),
            },
            TariffText {
                language: "fr-CH".into(),
                text: "Suisse".into(),
            },
        ];
        assert_eq!(tr.driver_text(Some("de")), "Deutsch");
        assert_eq!(tr.driver_text(Some("DE")), "Deutsch");
        assert_eq!(tr.driver_text(Some("de-AT")), "Deutsch");
        assert_eq!(tr.driver_text(Some("fr")), "Suisse");
        assert_eq!(tr.driver_text(Some("nl")), "English");
        assert_eq!(tr.driver_text(None), "English");
        tr.display_text[0].text = "x".repeat(600);
        assert_eq!(tr.driver_text(None).chars().count(), 512);
    }

    #[test]
    fn minor_units() {
        assert_eq!(currency_minor_units("EUR"), 2);
        assert_eq!(currency_minor_units("HUF"), 2);
        assert_eq!(currency_minor_units("JPY"), 0);
        assert_eq!(currency_minor_units("krw"), 0);
        assert_eq!(currency_minor_units("KWD"), 3);
        assert_eq!(currency_minor_units("CLF"), 4);
        assert_eq!(currency_minor_units("???"), 2);
    }

    #[test]
    fn serde_shapes() {
        let a = assign("T1", evse("CP1", 2));
        let json = serde_json::to_string(&a).unwrap();
        assert!(json.contains("\"scope\":\"evse\""), "{json}");
        assert!(json.contains("\"stationId\":\"CP1\""), "{json}");
        assert!(json.contains("\"evseId\":2"), "{json}");
        assert!(json.contains("\"tariffId\":\"T1\""), "{json}");
        let back: TariffAssignment = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
        let d: TariffAssignment =
            serde_json::from_str(r#"{"tariffId":"D","scope":"default"}"#).unwrap();
        assert_eq!(d.scope, TariffScope::Default);
        let g: TariffAssignment =
            serde_json::from_str(r#"{"tariffId":"G","scope":"tokenGroup","groupIdToken":"F"}"#)
                .unwrap();
        assert_eq!(g.scope, group("F"));

        let tr = tariff("T1");
        let json = serde_json::to_string(&tr).unwrap();
        assert!(
            json.contains("\"pricePerKwh\":\"0.30\""),
            "decimals as strings: {json}"
        );
        assert_eq!(serde_json::from_str::<Tariff>(&json).unwrap(), tr);
        // numbers are accepted on input, optional fields may be left out
        let minimal: Tariff = serde_json::from_str(
            r#"{"id":"M","currency":"EUR","vatPercent":19,"pricePerKwh":0.39,
                "pricePerChargingMinute":"0","pricePerIdleMinute":"0.1","sessionFee":0}"#,
        )
        .unwrap();
        assert_eq!(minimal.price_per_kwh, dec("0.39"));
        assert!(minimal.display_text.is_empty() && minimal.valid_to.is_none());
    }
}
