//! The operator views' queries (see [`crate::views`]): each page is one `LIMIT/OFFSET` query
//! plus one `COUNT(*)` with the same filter, both served by indexes (migration 0070), so a
//! page of 100,000 stations costs what a page of 100 does, give or take the count.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{Row, SqlitePool};
use unicharge_core::StationId;

use super::columns::{self, like_pattern, station_id, timestamp};
use crate::views::{
    add_charge_record, ChargeRecordPage, DailyFigures, FleetFigures, StationPage, StationQuery,
    StationSort, StationStatusFilter, TransactionPage,
};
use crate::{Result, StoreError};

fn ids_json(ids: &[StationId]) -> String {
    serde_json::Value::Array(
        ids.iter()
            .map(|id| serde_json::Value::String(id.as_str().to_string()))
            .collect(),
    )
    .to_string()
}

pub(super) async fn station_page(pool: &SqlitePool, query: &StationQuery) -> Result<StationPage> {
    // ?1 search pattern (or NULL), ?2 the live set as a JSON array.
    let status = match query.status {
        StationStatusFilter::All => "1",
        StationStatusFilter::Online => "s.id IN (SELECT value FROM json_each(?2))",
        StationStatusFilter::Offline => "s.id NOT IN (SELECT value FROM json_each(?2))",
        // One pass over the status index, not a lookup per station (0.2 ms against 14 ms for
        // 100,000 stations with 1,000 faulted).
        StationStatusFilter::Faulted => {
            "s.id IN (SELECT station_id FROM connectors WHERE status = 'Faulted')"
        }
    };
    let filter = format!(
        "(?1 IS NULL OR s.id LIKE ?1 ESCAPE '\\' OR s.model LIKE ?1 ESCAPE '\\'
          OR s.vendor_name LIKE ?1 ESCAPE '\\' OR s.serial_number LIKE ?1 ESCAPE '\\')
         AND (?2 IS NOT NULL) AND {status}"
    );
    let dir = if query.descending { "DESC" } else { "ASC" };
    let order = match query.sort {
        StationSort::Id => format!("s.id {dir}"),
        StationSort::LastSeen => format!("s.last_seen_at {dir}, s.id {dir}"),
        StationSort::Created => format!("s.created_at {dir}, s.id {dir}"),
    };
    let search = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(like_pattern);
    let live = ids_json(&query.connected);
    let rows = sqlx::query(&format!(
        "SELECT s.* FROM stations s WHERE {filter} ORDER BY {order} LIMIT ?3 OFFSET ?4"
    ))
    .bind(search.as_deref())
    .bind(&live)
    .bind(i64::from(query.limit))
    .bind(i64::try_from(query.offset).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    let stations = rows
        .iter()
        .map(columns::station)
        .collect::<Result<Vec<_>>>()?;
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM stations s WHERE {filter}"))
        .bind(search.as_deref())
        .bind(&live)
        .fetch_one(pool)
        .await?;
    let shown: Vec<StationId> = stations.iter().map(|s| s.id.clone()).collect();
    let faulted_rows = sqlx::query(
        "SELECT DISTINCT station_id FROM connectors
         WHERE status = 'Faulted' AND station_id IN (SELECT value FROM json_each(?))",
    )
    .bind(ids_json(&shown))
    .fetch_all(pool)
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

pub(super) async fn fleet_figures(pool: &SqlitePool, since: DateTime<Utc>) -> Result<FleetFigures> {
    let stations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stations")
        .fetch_one(pool)
        .await?;
    let faulted: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT station_id) FROM connectors WHERE status = 'Faulted'",
    )
    .fetch_one(pool)
    .await?;
    let active: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM transactions WHERE ended_at IS NULL")
            .fetch_one(pool)
            .await?;
    // Revenue is summed exactly (the stored decimal text), never as floating point.
    let rows = sqlx::query(
        "SELECT currency, total_incl_vat,
                CAST(json_extract(data, '$.usage.energyWh') AS TEXT) AS energy_wh
         FROM charge_records WHERE created_at >= ?",
    )
    .bind(timestamp(&since))
    .fetch_all(pool)
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

pub(super) async fn daily_figures(
    pool: &SqlitePool,
    since: DateTime<Utc>,
) -> Result<Vec<DailyFigures>> {
    // Summed here, exactly (the stored decimal texts), never as floating point in SQL.
    let rows = sqlx::query(
        "SELECT substr(created_at, 1, 10) AS day, currency, total_incl_vat,
                CAST(json_extract(data, '$.usage.energyWh') AS TEXT) AS energy_wh
         FROM charge_records WHERE created_at >= ? ORDER BY created_at",
    )
    .bind(timestamp(&since))
    .fetch_all(pool)
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

pub(super) async fn transaction_page(
    pool: &SqlitePool,
    active_only: bool,
    limit: u32,
    offset: u64,
) -> Result<TransactionPage> {
    let filter = if active_only { "ended_at IS NULL" } else { "1" };
    let rows = sqlx::query(&format!(
        "SELECT * FROM transactions WHERE {filter} ORDER BY started_at DESC LIMIT ? OFFSET ?"
    ))
    .bind(i64::from(limit))
    .bind(i64::try_from(offset).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    let transactions = rows
        .iter()
        .map(columns::transaction)
        .collect::<Result<Vec<_>>>()?;
    let total: i64 =
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM transactions WHERE {filter}"))
            .fetch_one(pool)
            .await?;
    Ok(TransactionPage {
        transactions,
        total: u64::try_from(total).unwrap_or(0),
    })
}

pub(super) async fn charge_record_page(
    pool: &SqlitePool,
    limit: u32,
    offset: u64,
) -> Result<ChargeRecordPage> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT data FROM charge_records ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
    )
    .bind(i64::from(limit))
    .bind(i64::try_from(offset).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    let records = rows
        .iter()
        .map(|raw| {
            serde_json::from_str(raw)
                .map_err(|e| StoreError::Corrupt(format!("charge record: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM charge_records")
        .fetch_one(pool)
        .await?;
    Ok(ChargeRecordPage {
        records,
        total: u64::try_from(total).unwrap_or(0),
    })
}
