//! Online charging (Diameter Ro, TS 32.299 / RFC 8506) in terms of the ledger: who pays
//! ([`Subscriber`], found by Subscription-Id), what a service costs ([`OnlineTariff`], per
//! rating group or service identifier, with a tariff switch), and how much may be granted
//! ([`quota`]: the smallest of what was asked, what the account can pay for and the configured
//! maximum). No I/O and no Diameter types: the OCF in the server turns CCRs into these calls
//! and the results into ledger operations and CCAs.
//!
//! Prices are exact decimals. A tariff charges per *block* of units (e.g. 0.05 EUR per 60 s):
//! used units are rounded up to whole blocks, and a grant is what whole blocks the account can
//! pay for, so the reserved money always covers the granted units.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ledger::Unit;

/// Subscription-Id-Type (RFC 8506 §8.47).
pub const SUBSCRIPTION_ID_TYPES: [&str; 5] = [
    "END_USER_E164",
    "END_USER_IMSI",
    "END_USER_SIP_URI",
    "END_USER_NAI",
    "END_USER_PRIVATE",
];

/// The name of a Subscription-Id-Type value (0–4), `None` for others.
pub fn subscription_id_type_name(kind: i32) -> Option<&'static str> {
    usize::try_from(kind)
        .ok()
        .and_then(|k| SUBSCRIPTION_ID_TYPES.get(k).copied())
}

/// The value of a Subscription-Id-Type name (`END_USER_E164` → 0).
pub fn subscription_id_type_value(name: &str) -> Option<i32> {
    SUBSCRIPTION_ID_TYPES
        .iter()
        .position(|n| n.eq_ignore_ascii_case(name))
        .map(|p| p as i32)
}

/// A subscriber of the online charging service: one Subscription-Id (type and data) mapped to
/// the ledger account its services are paid from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscriber {
    /// Subscription-Id-Type name, e.g. `END_USER_E164`.
    pub id_type: String,
    /// Subscription-Id-Data, e.g. the MSISDN `4915112345678`.
    pub id_data: String,
    /// The ledger account debited for this subscriber.
    pub account: String,
    /// A barred subscriber is refused every service (4010 END_USER_SERVICE_DENIED).
    pub barred: bool,
}

/// What a tariff counts (and which Granted-Service-Unit field carries it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum QuotaUnit {
    /// Seconds (CC-Time).
    Time,
    /// Octets (CC-Total-Octets).
    Volume,
    /// Events / service-specific units (CC-Service-Specific-Units).
    ServiceSpecific,
    /// Money (CC-Money, RFC 8506 §8.22), counted in minor units of the tariff's currency
    /// (cents for EUR): a money quota of 5.00 EUR is 500 units. Priced like the others, so
    /// `price` 0.01 per `block` 1 charges the amount itself.
    Money,
}

impl QuotaUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaUnit::Time => "time",
            QuotaUnit::Volume => "volume",
            QuotaUnit::ServiceSpecific => "serviceSpecific",
            QuotaUnit::Money => "money",
        }
    }

    pub fn parse(s: &str) -> Option<QuotaUnit> {
        Some(match s {
            "time" => QuotaUnit::Time,
            "volume" => QuotaUnit::Volume,
            "serviceSpecific" | "events" | "event" => QuotaUnit::ServiceSpecific,
            "money" => QuotaUnit::Money,
            _ => return None,
        })
    }

    /// Whether an account in `unit` counts these units directly (a bundle of minutes, octets
    /// or events), so one unit costs one unit of the account.
    fn counted_by(self, unit: &Unit) -> bool {
        matches!(
            (self, unit),
            (QuotaUnit::Time, Unit::Time)
                | (QuotaUnit::Volume, Unit::Volume)
                | (QuotaUnit::ServiceSpecific, Unit::Events)
                | (QuotaUnit::ServiceSpecific, Unit::Service(_))
        )
    }
}

/// The price of a service from `from` on (for a tariff switch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TariffSwitch {
    pub at: DateTime<Utc>,
    pub price: Decimal,
}

/// The tariff of one service: a rating group, or a service identifier, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OnlineTariff {
    pub id: String,
    /// Rating-Group this tariff applies to (`None`: any, when the service identifier matches).
    pub rating_group: Option<u32>,
    /// Service-Identifier this tariff applies to (`None`: any in the rating group).
    pub service_identifier: Option<u32>,
    pub unit: QuotaUnit,
    /// ISO 4217 code of `price`.
    pub currency: String,
    /// Price of one block of `block` units (0: the service is free, credit control does not
    /// apply: 4011).
    pub price: Decimal,
    /// Units per block (e.g. 60 seconds, 1 048 576 octets, 1 event). At least 1.
    pub block: u64,
    /// Grant at most this many units per request (`None`: no cap).
    pub max_grant: Option<u64>,
    /// Units granted when the request names no amount.
    pub default_grant: u64,
    /// A change of price at a given time: grants carry Tariff-Time-Change, and usage reported
    /// before / after it is rated at its own price.
    pub switch: Option<TariffSwitch>,
}

/// Why a service could not be rated (5031 DIAMETER_RATING_FAILED).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    #[error("no tariff for rating group {rating_group:?} / service {service_identifier:?}")]
    NoTariff {
        rating_group: Option<u32>,
        service_identifier: Option<u32>,
    },
    #[error("tariff {tariff} is priced in {currency}, the account counts {unit}")]
    UnitMismatch {
        tariff: String,
        currency: String,
        unit: String,
    },
}

/// Which side of a tariff switch used units fell on (Tariff-Change-Usage, RFC 8506 §8.27).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchSide {
    /// UNIT_BEFORE_TARIFF_CHANGE (0).
    Before,
    /// UNIT_AFTER_TARIFF_CHANGE (1).
    After,
    /// UNIT_INDETERMINATE (2): rated at the higher of the two prices.
    Indeterminate,
    /// No Tariff-Change-Usage: rated at the price in force at `at`.
    At(DateTime<Utc>),
}

impl SwitchSide {
    pub fn from_tariff_change_usage(v: Option<i32>, at: DateTime<Utc>) -> SwitchSide {
        match v {
            Some(0) => SwitchSide::Before,
            Some(1) => SwitchSide::After,
            Some(2) => SwitchSide::Indeterminate,
            _ => SwitchSide::At(at),
        }
    }
}

impl OnlineTariff {
    /// Does this tariff rate (rating group, service identifier)? An exact match on both beats
    /// one on the rating group alone, which beats one on the service alone ([`find_tariff`]).
    fn score(&self, rating_group: Option<u32>, service: Option<u32>) -> Option<u8> {
        let rg = match (self.rating_group, rating_group) {
            (Some(a), Some(b)) if a == b => 2,
            (None, _) => 0,
            _ => return None,
        };
        let si = match (self.service_identifier, service) {
            (Some(a), Some(b)) if a == b => 1,
            (None, _) => 0,
            _ => return None,
        };
        if rg + si == 0 {
            return None;
        }
        Some(rg + si)
    }

    /// The price per block at `at`.
    pub fn price_at(&self, at: DateTime<Utc>) -> Decimal {
        match &self.switch {
            Some(s) if at >= s.at => s.price,
            _ => self.price,
        }
    }

    /// The price per block for usage on `side` of the switch.
    pub fn price_for(&self, side: SwitchSide) -> Decimal {
        match (&self.switch, side) {
            (_, SwitchSide::At(at)) => self.price_at(at),
            (None, _) => self.price,
            (Some(_), SwitchSide::Before) => self.price,
            (Some(s), SwitchSide::After) => s.price,
            (Some(s), SwitchSide::Indeterminate) => self.price.max(s.price),
        }
    }

    /// The switch still to come after `now`, for Tariff-Time-Change in a grant.
    pub fn pending_switch(&self, now: DateTime<Utc>) -> Option<&TariffSwitch> {
        self.switch.as_ref().filter(|s| s.at > now)
    }

    /// The price a grant made at `now` is reserved at: the higher of now's price and the
    /// pending switch's, so that units used on either side are covered.
    pub fn reservation_price(&self, now: DateTime<Utc>) -> Decimal {
        match self.pending_switch(now) {
            Some(s) => self.price_at(now).max(s.price),
            None => self.price_at(now),
        }
    }

    /// Whether credit control applies at all (a free service is answered 4011).
    pub fn is_free(&self) -> bool {
        self.price.is_zero() && self.switch.as_ref().is_none_or(|s| s.price.is_zero())
    }

    fn blocks(&self, units: u64) -> Decimal {
        let block = self.block.max(1);
        Decimal::from(units.div_ceil(block))
    }

    /// What `units` cost in the account's unit at `price` per block. Errors when the account
    /// neither holds the tariff's currency nor counts its units.
    pub fn cost(&self, account: &Unit, units: u64, price: Decimal) -> Result<Decimal, RatingError> {
        match account {
            Unit::Money(c) if c.eq_ignore_ascii_case(&self.currency) => {
                Ok(self.blocks(units) * price)
            }
            u if self.unit.counted_by(u) => Ok(Decimal::from(units)),
            u => Err(RatingError::UnitMismatch {
                tariff: self.id.clone(),
                currency: self.currency.clone(),
                unit: u.code(),
            }),
        }
    }

    /// The most units `available` (in the account's unit) pays for at `price` per block:
    /// whole blocks only, for a money account.
    pub fn affordable(
        &self,
        account: &Unit,
        available: Decimal,
        price: Decimal,
    ) -> Result<u64, RatingError> {
        let available = available.max(Decimal::ZERO);
        match account {
            Unit::Money(c) if c.eq_ignore_ascii_case(&self.currency) => {
                if price.is_zero() {
                    return Ok(u64::MAX);
                }
                let blocks = (available / price).floor();
                let blocks: u64 = blocks.try_into().unwrap_or(u64::MAX);
                Ok(blocks.saturating_mul(self.block.max(1)))
            }
            u if self.unit.counted_by(u) => Ok(available.floor().try_into().unwrap_or(u64::MAX)),
            u => Err(RatingError::UnitMismatch {
                tariff: self.id.clone(),
                currency: self.currency.clone(),
                unit: u.code(),
            }),
        }
    }
}

/// The best tariff for (rating group, service identifier), or 5031's reason.
pub fn find_tariff(
    tariffs: &[OnlineTariff],
    rating_group: Option<u32>,
    service_identifier: Option<u32>,
) -> Result<&OnlineTariff, RatingError> {
    tariffs
        .iter()
        .filter_map(|t| Some((t.score(rating_group, service_identifier)?, t)))
        .max_by_key(|(s, _)| *s)
        .map(|(_, t)| t)
        .ok_or(RatingError::NoTariff {
            rating_group,
            service_identifier,
        })
}

/// A computed grant: the units and what is reserved for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    pub units: u64,
    /// In the account's unit.
    pub cost: Decimal,
    /// Fewer units than asked because the credit ran short: these are the final units
    /// (Final-Unit-Indication).
    pub final_units: bool,
}

/// The grant for a request of `requested` units (`None`: the tariff's default) on an account
/// with `available` above its floor: min(requested, affordable, max grant), priced at the
/// reservation price at `now`.
pub fn quota(
    tariff: &OnlineTariff,
    account: &Unit,
    available: Decimal,
    requested: Option<u64>,
    now: DateTime<Utc>,
) -> Result<Quota, RatingError> {
    let asked = requested.unwrap_or(tariff.default_grant);
    let asked = tariff.max_grant.map_or(asked, |m| asked.min(m));
    let price = tariff.reservation_price(now);
    let affordable = tariff.affordable(account, available, price)?;
    let units = asked.min(affordable);
    Ok(Quota {
        units,
        cost: tariff.cost(account, units, price)?,
        final_units: affordable < asked,
    })
}

/// ISO 4217 numeric code of a currency (Currency-Code, RFC 8506 §8.11), for the common ones.
pub fn currency_numeric(code: &str) -> Option<u32> {
    Some(match code.to_ascii_uppercase().as_str() {
        "EUR" => 978,
        "USD" => 840,
        "GBP" => 826,
        "CHF" => 756,
        "SEK" => 752,
        "NOK" => 578,
        "DKK" => 208,
        "PLN" => 985,
        "CZK" => 203,
        "HUF" => 348,
        "RON" => 946,
        "JPY" => 392,
        "CNY" => 156,
        "INR" => 356,
        "AUD" => 36,
        "CAD" => 124,
        _ => return None,
    })
}

/// An exact decimal as Unit-Value's (Value-Digits, Exponent): value = digits × 10^exponent.
pub fn unit_value(d: Decimal) -> (i64, i32) {
    let d = d.normalize();
    let digits = i64::try_from(d.mantissa()).unwrap_or(i64::MAX);
    (digits, -(d.scale() as i32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(price: &str, block: u64) -> OnlineTariff {
        OnlineTariff {
            id: "voice".into(),
            rating_group: Some(10),
            service_identifier: None,
            unit: QuotaUnit::Time,
            currency: "EUR".into(),
            price: price.parse().unwrap(),
            block,
            max_grant: Some(600),
            default_grant: 300,
            switch: None,
        }
    }
    fn eur() -> Unit {
        Unit::Money("EUR".into())
    }
    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 18, 0, 0).unwrap()
    }

    #[test]
    fn grant_is_the_smallest_of_asked_affordable_and_max() {
        let tariff = t("0.10", 60);
        // asked 120, affords 10 blocks = 600 s, max 600 → 120
        let q = quota(&tariff, &eur(), d("1.00"), Some(120), now()).unwrap();
        assert_eq!((q.units, q.cost, q.final_units), (120, d("0.20"), false));
        // asked 1000 → capped at max 600 → 10 blocks = 1.00
        let q = quota(&tariff, &eur(), d("5"), Some(1000), now()).unwrap();
        assert_eq!((q.units, q.cost, q.final_units), (600, d("1.00"), false));
        // affords 3 blocks (0.35 → 3 × 0.10) = 180 s: final units
        let q = quota(&tariff, &eur(), d("0.35"), Some(300), now()).unwrap();
        assert_eq!((q.units, q.cost, q.final_units), (180, d("0.30"), true));
        // nothing
        let q = quota(&tariff, &eur(), d("0.05"), None, now()).unwrap();
        assert_eq!((q.units, q.cost, q.final_units), (0, d("0"), true));
    }

    #[test]
    fn usage_is_rounded_up_to_blocks() {
        let tariff = t("0.10", 60);
        assert_eq!(tariff.cost(&eur(), 61, d("0.10")).unwrap(), d("0.20"));
        assert_eq!(tariff.cost(&eur(), 0, d("0.10")).unwrap(), d("0"));
        assert_eq!(tariff.cost(&Unit::Time, 61, d("0.10")).unwrap(), d("61"));
        assert!(tariff.cost(&Unit::Volume, 1, d("0.10")).is_err());
        assert!(tariff
            .cost(&Unit::Money("USD".into()), 1, d("0.10"))
            .is_err());
    }

    #[test]
    fn tariff_switch_prices_each_side_and_reserves_at_the_higher() {
        let mut tariff = t("0.10", 60);
        tariff.switch = Some(TariffSwitch {
            at: now() + chrono::Duration::minutes(5),
            price: d("0.05"),
        });
        assert_eq!(tariff.reservation_price(now()), d("0.10"));
        assert_eq!(tariff.price_for(SwitchSide::Before), d("0.10"));
        assert_eq!(tariff.price_for(SwitchSide::After), d("0.05"));
        assert_eq!(tariff.price_for(SwitchSide::Indeterminate), d("0.10"));
        assert!(tariff.pending_switch(now()).is_some());
        let later = now() + chrono::Duration::minutes(6);
        assert!(tariff.pending_switch(later).is_none());
        assert_eq!(tariff.price_for(SwitchSide::At(later)), d("0.05"));
        // switch to a dearer price: the reservation covers units after it
        tariff.switch.as_mut().unwrap().price = d("0.20");
        assert_eq!(tariff.reservation_price(now()), d("0.20"));
    }

    #[test]
    fn tariff_lookup_prefers_the_most_specific() {
        let mut a = t("1", 1);
        a.id = "rg".into();
        let mut b = t("2", 1);
        b.id = "rg+si".into();
        b.service_identifier = Some(7);
        let mut c = t("3", 1);
        c.id = "si".into();
        c.rating_group = None;
        c.service_identifier = Some(8);
        let all = [a, b, c];
        assert_eq!(find_tariff(&all, Some(10), Some(7)).unwrap().id, "rg+si");
        assert_eq!(find_tariff(&all, Some(10), Some(9)).unwrap().id, "rg");
        assert_eq!(find_tariff(&all, None, Some(8)).unwrap().id, "si");
        assert!(find_tariff(&all, Some(11), None).is_err());
    }

    #[test]
    fn unit_value_is_exact() {
        assert_eq!(unit_value(d("1.50")), (15, -1));
        assert_eq!(unit_value(d("20")), (20, 0));
        assert_eq!(unit_value(d("0.0001")), (1, -4));
        assert_eq!(currency_numeric("eur"), Some(978));
        assert_eq!(subscription_id_type_name(1), Some("END_USER_IMSI"));
        assert_eq!(subscription_id_type_value("END_USER_SIP_URI"), Some(2));
    }
}
