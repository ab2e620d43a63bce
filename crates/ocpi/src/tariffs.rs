//! Tariffs module: Tariff, TariffElement, PriceComponent, TariffRestrictions.
//!
//! 2.3.0 differences: `tax_included` (required in 2.3.0, absent in 2.2.1) says whether
//! component prices include taxes; `min_price` / `max_price` become PriceLimit
//! (`before_taxes`, `after_taxes`) instead of Price (`excl_vat`, `incl_vat`);
//! `preauthorize_amount` is new.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::locations::EnergyMix;
use crate::types::DisplayText;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tariff {
    pub country_code: String,
    pub party_id: String,
    pub id: String,
    /// ISO 4217.
    pub currency: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<TariffType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tariff_alt_text: Option<Vec<DisplayText>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tariff_alt_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_price: Option<PriceLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_price: Option<PriceLimit>,
    /// 2.3.0: what a payment terminal should preauthorize for a session with this tariff.
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub preauthorize_amount: Option<Decimal>,
    pub elements: Vec<TariffElement>,
    /// 2.3.0 (required there): do the component prices include taxes?
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_included: Option<TaxIncluded>,
    #[serde(
        with = "crate::datetime::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub start_date_time: Option<DateTime<Utc>>,
    #[serde(
        with = "crate::datetime::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub end_date_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy_mix: Option<EnergyMix>,
    #[serde(with = "crate::datetime")]
    pub last_updated: DateTime<Utc>,
}

/// A tariff's minimum or maximum session cost: 2.2.1 Price (`excl_vat`, `incl_vat`) or 2.3.0
/// PriceLimit (`before_taxes`, `after_taxes`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PriceLimit {
    /// 2.2.1.
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub excl_vat: Option<Decimal>,
    /// 2.2.1.
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub incl_vat: Option<Decimal>,
    /// 2.3.0.
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub before_taxes: Option<Decimal>,
    /// 2.3.0.
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub after_taxes: Option<Decimal>,
}

impl PriceLimit {
    pub fn before_taxes(&self) -> Option<Decimal> {
        self.before_taxes.or(self.excl_vat)
    }

    pub fn after_taxes(&self) -> Option<Decimal> {
        self.after_taxes.or(self.incl_vat)
    }
}

/// Price components that apply together while the restrictions hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TariffElement {
    pub price_components: Vec<PriceComponent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrictions: Option<TariffRestrictions>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceComponent {
    #[serde(rename = "type")]
    pub kind: TariffDimensionType,
    /// Per unit of the dimension (kWh, hour, or per session for FLAT), excluding VAT in
    /// 2.2.1; in 2.3.0 including or excluding taxes as the tariff's `tax_included` says.
    #[serde(with = "crate::number::exact")]
    pub price: Decimal,
    /// VAT percentage for this component.
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub vat: Option<Decimal>,
    /// Billing step: seconds for TIME / PARKING_TIME, Wh for ENERGY, 1 for FLAT.
    pub step_size: u32,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TariffRestrictions {
    /// Local time "HH:MM".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// Local date "YYYY-MM-DD".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub min_kwh: Option<Decimal>,
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_kwh: Option<Decimal>,
    /// A.
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub min_current: Option<Decimal>,
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_current: Option<Decimal>,
    /// kW.
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub min_power: Option<Decimal>,
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_power: Option<Decimal>,
    /// Seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_week: Option<Vec<DayOfWeek>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<ReservationRestrictionType>,
}

ocpi_enum! {
    DayOfWeek {
        Monday => "MONDAY",
        Tuesday => "TUESDAY",
        Wednesday => "WEDNESDAY",
        Thursday => "THURSDAY",
        Friday => "FRIDAY",
        Saturday => "SATURDAY",
        Sunday => "SUNDAY",
    }
}

ocpi_enum! {
    ReservationRestrictionType {
        Reservation => "RESERVATION",
        ReservationExpires => "RESERVATION_EXPIRES",
    }
}

ocpi_enum! {
    TariffDimensionType {
        Energy => "ENERGY",
        Flat => "FLAT",
        ParkingTime => "PARKING_TIME",
        Time => "TIME",
    }
}

ocpi_enum! {
    TariffType {
        AdHocPayment => "AD_HOC_PAYMENT",
        ProfileCheap => "PROFILE_CHEAP",
        ProfileFast => "PROFILE_FAST",
        ProfileGreen => "PROFILE_GREEN",
        Regular => "REGULAR",
    }
}

ocpi_enum! {
    /// 2.3.0.
    TaxIncluded {
        Yes => "YES",
        No => "NO",
    }
}
