//! Read models for operator views (the web UI): one page of a large list at a time, and the
//! fleet's headline figures, each answered by the database with LIMIT/OFFSET and indexed
//! counts, never by loading every row.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use unicharge_core::{Station, StationId};

/// Which stations a station page shows, by live state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StationStatusFilter {
    #[default]
    All,
    /// Connected now (the caller passes the live set).
    Online,
    /// Not connected now.
    Offline,
    /// At least one connector reports `Faulted`.
    Faulted,
}

/// How a station page is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StationSort {
    #[default]
    Id,
    LastSeen,
    Created,
}

/// One page of the station registry.
#[derive(Debug, Clone, Default)]
pub struct StationQuery {
    /// Case-insensitive substring of the id, model, vendor or serial number.
    pub search: Option<String>,
    pub status: StationStatusFilter,
    /// The stations connected right now: the CSMS knows this, the store does not (its
    /// `connected` column is not cleared by a crash).
    pub connected: Vec<StationId>,
    pub sort: StationSort,
    pub descending: bool,
    pub limit: u32,
    pub offset: u64,
}

/// A page of stations and how many match in all.
#[derive(Debug, Clone)]
pub struct StationPage {
    pub stations: Vec<Station>,
    /// Stations with a `Faulted` connector, among `stations`.
    pub faulted: Vec<StationId>,
    pub total: u64,
}

/// The fleet's headline figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetFigures {
    pub stations: u64,
    /// Stations with at least one connector reporting `Faulted`.
    pub faulted: u64,
    /// Transactions without an end.
    pub active_transactions: u64,
    /// Charge records created since the given moment.
    pub records: u64,
    /// Energy of those records, Wh.
    pub energy_wh: Decimal,
    /// Revenue of those records (incl. VAT), per currency, sorted by currency.
    pub revenue: Vec<(String, Decimal)>,
}

/// Energy and revenue of one day (UTC).
#[derive(Debug, Clone, PartialEq)]
pub struct DailyFigures {
    pub day: chrono::NaiveDate,
    pub energy_wh: Decimal,
    pub records: u64,
    /// Revenue of the day's records (incl. VAT), per currency, sorted by currency.
    pub revenue: Vec<(String, Decimal)>,
}

/// A page of transactions of all stations, newest first.
#[derive(Debug, Clone)]
pub struct TransactionPage {
    pub transactions: Vec<crate::TransactionRecord>,
    pub total: u64,
}

/// A page of charge records, newest first.
#[derive(Debug, Clone)]
pub struct ChargeRecordPage {
    pub records: Vec<unicharge_core::charge_record::ChargeRecord>,
    pub total: u64,
}

/// The moment a UTC day starts.
pub fn day_start(at: DateTime<Utc>) -> DateTime<Utc> {
    at.date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
}

/// Add one charge-record row (`currency`, `total_incl_vat`, `energy_wh` as stored decimal
/// texts) to running sums: energy, and the total per currency. Both stores sum this way,
/// exactly, never as floating point in SQL.
pub(crate) fn add_charge_record(
    row: &impl crate::columns::Columns,
    energy_wh: &mut rust_decimal::Decimal,
    revenue: &mut std::collections::BTreeMap<String, rust_decimal::Decimal>,
) -> crate::Result<()> {
    use crate::columns::decimal;
    *energy_wh += decimal(row.text("energy_wh")?, "charge record energy")?;
    if let Some(currency) = row.text("currency")? {
        *revenue.entry(currency).or_default() +=
            decimal(row.text("total_incl_vat")?, "charge record total")?;
    }
    Ok(())
}
