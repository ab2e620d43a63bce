//! Transactions of every station (a page at a time) and one transaction: its events, a chart
//! of energy and power over time from its meter values, its running cost (live while it runs)
//! and, once ended, its charge record.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::Utc;
use maud::html;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Deserialize;
use unicharge_core::rating::rate;
use unicharge_store::{MeterValueFilter, MeterValueRecord, TransactionRecord};

use crate::stations::existing_station;
use crate::ui::layout::{money, opt, opt_time, seg, time, Nav, Page};
use crate::ui::records::{breakdown, record_href};
use crate::ui::session::Viewer;
use crate::ui::stations::transaction_table;
use crate::ui::{chart, error_page, UiState};
use crate::ApiError;

/// Transactions per page.
pub const PAGE_SIZE: u32 = 50;
/// At most this many samples are drawn (the latest).
pub const MAX_SAMPLES: u32 = 5000;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// `1`: only running transactions.
    pub active: Option<String>,
    pub page: Option<u64>,
}

pub async fn list(
    State(state): State<UiState>,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
) -> Response {
    let page = query.page.unwrap_or(1).max(1);
    let active = query.active.as_deref() == Some("1");
    let offset = (page - 1) * u64::from(PAGE_SIZE);
    let result = match state
        .api
        .store
        .transaction_page(active, PAGE_SIZE, offset)
        .await
    {
        Ok(r) => r,
        Err(e) => return error_page(&state, &viewer, e.into()),
    };
    let pages = result.total.div_ceil(u64::from(PAGE_SIZE)).max(1);
    let href = |p: u64| {
        format!(
            "/ui/transactions?{}page={p}",
            if active { "active=1&" } else { "" }
        )
    };
    let body = html! {
        p {
            @if active { a href="/ui/transactions" { "Show all" } " · running only" }
            @else { "All · " a href="/ui/transactions?active=1" { "running only" } }
        }
        p id="transaction-count" { (result.total) " transactions" }
        (transaction_table(&result.transactions))
        nav.pager aria-label="Pages" {
            @if page > 1 { a rel="prev" href=(href(page - 1)) { "← Previous" } }
            span { "Page " (page) " of " (pages) }
            @if page < pages { a rel="next" href=(href(page + 1)) { "Next →" } }
        }
    };
    Page::new("Transactions", Nav::Transactions, body).render(Some(&viewer), state.demo)
}

/// The cost of a transaction so far under its tariff (`None`: no tariff, or the aggregate is
/// not built yet), as the CSMS rates it: from the running aggregate, up to now.
pub async fn running_cost(
    state: &UiState,
    t: &TransactionRecord,
) -> Result<Option<(Decimal, String)>, ApiError> {
    let Some(tariff_id) = &t.tariff_id else {
        return Ok(None);
    };
    let store = &state.api.store;
    let Some(tariff) = store
        .tariffs()
        .await?
        .into_iter()
        .find(|x| &x.id == tariff_id)
    else {
        return Ok(None);
    };
    let Some(aggregate) = store
        .metered_usage(&t.station_id, &t.transaction_id)
        .await?
    else {
        return Ok(None);
    };
    let until = t.ended_at.unwrap_or_else(Utc::now);
    Ok(aggregate.usage_between(t.started_at, until).map(|usage| {
        (
            rate(&tariff, &usage).total_incl_vat,
            tariff.currency.clone(),
        )
    }))
}

/// A cost that the live stream updates (`data-cost`), in the tariff's currency.
pub fn cost_span(key: &str, cost: Option<&(Decimal, String)>) -> maud::Markup {
    html! {
        span.cost data-cost=(key) data-currency=[cost.map(|c| &c.1)] aria-live="polite" {
            @match cost {
                Some((total, currency)) => { (money(*total, currency)) }
                None => { "not priced" }
            }
        }
    }
}

/// (energy in kWh, power in kW) series of the samples without a phase.
fn series(samples: &[MeterValueRecord]) -> (Vec<chart::Point>, Vec<chart::Point>) {
    let mut energy = Vec::new();
    let mut power = Vec::new();
    for s in samples.iter().filter(|s| s.phase.is_none()) {
        match s.measurand.as_str() {
            "Energy.Active.Import.Register" => {
                if let Some(wh) = s.wh.filter(|_| !s.energy_backwards) {
                    energy.push((
                        s.timestamp,
                        (wh / Decimal::from(1000)).to_f64().unwrap_or(0.0),
                    ));
                }
            }
            "Power.Active.Import" => {
                let scaled = s.value.to_f64().unwrap_or(0.0) * 10f64.powi(s.multiplier);
                let kw = match s.unit.as_deref() {
                    Some("kW") => scaled,
                    _ => scaled / 1000.0, // OCPP's default unit for power is W
                };
                power.push((s.timestamp, kw));
            }
            _ => {}
        }
    }
    (energy, power)
}

pub async fn detail(
    State(state): State<UiState>,
    viewer: Viewer,
    Path((id, transaction_id)): Path<(String, String)>,
) -> Response {
    match detail_page(&state, &id, &transaction_id).await {
        Ok(page) => page.render(Some(&viewer), state.demo),
        Err(e) => error_page(&state, &viewer, e),
    }
}

async fn detail_page(state: &UiState, id: &str, transaction_id: &str) -> Result<Page, ApiError> {
    let station = existing_station(&state.api, id).await?;
    let store = &state.api.store;
    let t = store
        .transaction(&station, transaction_id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "unknown_transaction",
                format!("station {station} has no transaction {transaction_id:?}"),
            )
        })?;
    let events = store.transaction_events(&station, transaction_id).await?;
    let samples = store
        .meter_values(
            &station,
            &MeterValueFilter {
                transaction_id: Some(transaction_id.to_string()),
                evse_id: None,
                limit: MAX_SAMPLES,
                until: None,
            },
        )
        .await?;
    let record_id = format!("{station}:{transaction_id}");
    let record = store.charge_record(&record_id).await?;
    let cost = running_cost(state, &t).await?;
    let (energy, power) = series(&samples);
    let key = format!("{}/{}", station.as_str(), transaction_id);
    let body = html! {
        dl.facts {
            dt { "Station" } dd { a href={ "/ui/stations/" (seg(station.as_str())) } { (station.as_str()) } }
            dt { "EVSE / connector" } dd { (opt(t.evse_id)) " / " (opt(t.connector_id)) }
            dt { "Token" } dd { (opt(t.id_token.as_deref())) " " (opt(t.id_token_type.as_deref())) }
            dt { "Started" } dd { (time(&t.started_at)) }
            dt { "Ended" } dd data-ended=(key) { (opt_time(t.ended_at.as_ref())) }
            dt { "Charging state" } dd { (opt(t.charging_state.as_deref())) }
            dt { "Stopped reason" } dd { (opt(t.stopped_reason.as_deref())) }
            dt { "Tariff" } dd { (opt(t.tariff_id.as_deref())) }
            dt { "Remote start id" } dd { (opt(t.remote_start_id)) }
            dt { @if t.ended_at.is_some() { "Cost" } @else { "Running cost" } }
            dd { (cost_span(&key, cost.as_ref())) }
        }
        p {
            a id="charge-record-link" data-record=(key) href=(record_href(&record_id)) hidden[record.is_none()] {
                "Charge record " (record_id)
            }
        }
        section aria-labelledby="meter" {
            h2 id="meter" { "Meter values" }
            (chart::line_chart("Energy delivered (register)", "kWh", &energy))
            (chart::line_chart("Power", "kW", &power))
        }
        @if let Some(record) = &record {
            section aria-labelledby="cost" {
                h2 id="cost" { "Cost breakdown" }
                (breakdown(record))
            }
        }
        section aria-labelledby="events" {
            h2 id="events" { "Events" }
            div.scroll { table {
                thead { tr {
                    th scope="col" { "seqNo" } th scope="col" { "Type" } th scope="col" { "Trigger" }
                    th scope="col" { "Time" } th scope="col" { "Charging state" } th scope="col" { "Samples" } th scope="col" { "Offline" }
                } }
                tbody { @for e in &events { tr {
                    td.num { (e.seq_no) } td { (e.event_type) } td { (e.trigger_reason) } td { (time(&e.timestamp)) }
                    td { (opt(e.charging_state.as_deref())) } td.num { (e.meter_values) } td { @if e.offline { "yes" } @else { "no" } }
                } } }
            } }
        }
    };
    Ok(Page::new(
        format!("Transaction {transaction_id}"),
        Nav::Transactions,
        body,
    )
    .live(format!("/ui/live?station={}", seg(station.as_str()))))
}
