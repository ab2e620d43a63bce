//! The operator views' queries on PostgreSQL (see [`crate::views`]), as `sqlite/views.rs` runs
//! them: each page is one `LIMIT/OFFSET` query plus one `COUNT(*)` with the same filter. Sums
//! of money and energy are made here from the stored decimal texts, never as floats in SQL.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::Row;
use unicharge_core::StationId;

use super::PgStore;
use crate::columns::{self, like_pattern, station_id, timestamp};
use crate::views::{
    add_charge_record, ChargeRecordPage, DailyFigures, FleetFigures, StationPage, StationQuery,
    StationSort, StationStatusFilter, TransactionPage,
};
use crate::{Result, StoreError};

/// The energy of a charge record, as the JSON text of the number (exact).
const ENERGY_WH: &str = "(data::jsonb #>> '{usage,energyWh}') AS energy_wh";

impl PgStore {
    pub async fn station_page(&self, query: &StationQuery) -> Result<StationPage> {
        // $1 search pattern (or NULL), $2 the live set. SQLite's LIKE folds ASCII case: ILIKE.
        let status = match query.status {
            StationStatusFilter::All => "$2::text[] IS NOT NULL",
            StationStatusFilter::Online => "s.id = ANY($2::text[])",
            StationStatusFilter::Offline => "NOT (s.id = ANY($2::text[]))",
            StationStatusFilter::Faulted => {
                "$2::text[] IS NOT NULL
                 AND s.id IN (SELECT station_id FROM connectors WHERE status = 'Faulted')"
            }
        };
        let filter = format!(
            "($1::text IS NULL OR s.id ILIKE $1 ESCAPE '\\' OR s.model ILIKE $1 ESCAPE '\\'
              OR s.vendor_name ILIKE $1 ESCAPE '\\' OR s.serial_number ILIKE $1 ESCAPE '\\')
             AND {status}"
        );
        let dir = if query.descending { "DESC" } else { "ASC" };
        // SQLite sorts NULL lowest: first going up, last going down.
        let nulls = if query.descending {
            "NULLS LAST"
        } else {
            "NULLS FIRST"
        };
        let order = match query.sort {
            StationSort::Id => format!("s.id {dir}"),
            StationSort::LastSeen => format!("s.last_seen_at {dir} {nulls}, s.id {dir}"),
            StationSort::Created => format!("s.created_at {dir}, s.id {dir}"),
        };
        let search = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(like_pattern);
        let live: Vec<&str> = query.connected.iter().map(StationId::as_str).collect();
        let rows = sqlx::query(&format!(
            "SELECT s.* FROM stations s WHERE {filter} ORDER BY {order} LIMIT $3 OFFSET $4"
        ))
        .bind(search.as_deref())
        .bind(&live)
        .bind(i64::from(query.limit))
        .bind(i64::try_from(query.offset).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        let stations = rows
            .iter()
            .map(columns::station)
            .collect::<Result<Vec<_>>>()?;
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM stations s WHERE {filter}"))
                .bind(search.as_deref())
                .bind(&live)
                .fetch_one(&self.pool)
                .await?;
        let shown: Vec<&str> = stations.iter().map(|s| s.id.as_str()).collect();
        let faulted_rows = sqlx::query(
            "SELECT DISTINCT station_id FROM connectors
             WHERE status = 'Faulted' AND station_id = ANY($1::text[])",
        )
        .bind(&shown)
        .fetch_all(&self.pool)
        .await?;
        let faulted = faulted_rows
            .iter()
            .map(|r| station_id(r, "station_id"))
            .collect::<Result<Vec<_>>>()?;
        Ok(StationPage {
            stations,
            faulted,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    pub async fn fleet_figures(&self, since: DateTime<Utc>) -> Result<FleetFigures> {
        let stations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stations")
            .fetch_one(&self.pool)
            .await?;
        let faulted: i64 = sqlx::query_scalar(
            "SELECT COUNT(DISTINCT station_id) FROM connectors WHERE status = 'Faulted'",
        )
        .fetch_one(&self.pool)
        .await?;
        let active: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM transactions WHERE ended_at IS NULL")
                .fetch_one(&self.pool)
                .await?;
        let rows = sqlx::query(&format!(
            "SELECT currency, total_incl_vat, {ENERGY_WH}
             FROM charge_records WHERE created_at >= $1"
        ))
        .bind(timestamp(&since))
        .fetch_all(&self.pool)
        .await?;
        let mut figures = FleetFigures {
            stations: u64::try_from(stations).unwrap_or(0),
            faulted: u64::try_from(faulted).unwrap_or(0),
            active_transactions: u64::try_from(active).unwrap_or(0),
            ..FleetFigures::default()
        };
        let mut revenue = BTreeMap::<String, Decimal>::new();
        for row in &rows {
            figures.records += 1;
            add_charge_record(row, &mut figures.energy_wh, &mut revenue)?;
        }
        figures.revenue = revenue.into_iter().collect();
        Ok(figures)
    }

    pub async fn daily_figures(&self, since: DateTime<Utc>) -> Result<Vec<DailyFigures>> {
        let rows = sqlx::query(&format!(
            "SELECT substr(created_at, 1, 10) AS day, currency, total_incl_vat, {ENERGY_WH}
             FROM charge_records WHERE created_at >= $1 ORDER BY created_at"
        ))
        .bind(timestamp(&since))
        .fetch_all(&self.pool)
        .await?;
        let mut days = BTreeMap::<String, (DailyFigures, BTreeMap<String, Decimal>)>::new();
        for row in &rows {
            let day: String = row.try_get("day")?;
            let (figures, revenue) = match days.entry(day) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let date =
                        chrono::NaiveDate::parse_from_str(e.key(), "%Y-%m-%d").map_err(|err| {
                            StoreError::Corrupt(format!("charge record day {:?}: {err}", e.key()))
                        })?;
                    e.insert((
                        DailyFigures {
                            day: date,
                            energy_wh: Decimal::ZERO,
                            records: 0,
                            revenue: Vec::new(),
                        },
                        BTreeMap::new(),
                    ))
                }
            };
            figures.records += 1;
            add_charge_record(row, &mut figures.energy_wh, revenue)?;
        }
        Ok(days
            .into_values()
            .map(|(mut figures, revenue)| {
                figures.revenue = revenue.into_iter().collect();
                figures
            })
            .collect())
    }

    pub async fn transaction_page(
        &self,
        active_only: bool,
        limit: u32,
        offset: u64,
    ) -> Result<TransactionPage> {
        let filter = if active_only {
            "ended_at IS NULL"
        } else {
            "TRUE"
        };
        let rows = sqlx::query(&format!(
            "SELECT * FROM transactions WHERE {filter}
             ORDER BY started_at DESC LIMIT $1 OFFSET $2"
        ))
        .bind(i64::from(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        let transactions = rows
            .iter()
            .map(columns::transaction)
            .collect::<Result<Vec<_>>>()?;
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM transactions WHERE {filter}"))
                .fetch_one(&self.pool)
                .await?;
        Ok(TransactionPage {
            transactions,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    pub async fn charge_record_page(&self, limit: u32, offset: u64) -> Result<ChargeRecordPage> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT data FROM charge_records ORDER BY created_at DESC, id DESC
             LIMIT $1 OFFSET $2",
        )
        .bind(i64::from(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        let records = rows
            .iter()
            .map(|raw| {
                serde_json::from_str(raw)
                    .map_err(|e| StoreError::Corrupt(format!("charge record: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM charge_records")
            .fetch_one(&self.pool)
            .await?;
        Ok(ChargeRecordPage {
            records,
            total: u64::try_from(total).unwrap_or(0),
        })
    }
}
