//! Charge records: the list (a page at a time), one record with its cost breakdown, and the
//! CSV export (the REST API's own CSV writer, reached with the session instead of a header).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use unicharge_core::charge_record::ChargeRecord;

use crate::export::{respond, ExportFormat};
use crate::ui::layout::{duration, kwh, money, opt, seg, time, Nav, Page};
use crate::ui::session::Viewer;
use crate::ui::{error_page, UiState};
use crate::ApiError;

/// Records per page.
pub const PAGE_SIZE: u32 = 50;
/// At most this many records in one CSV export (the REST API's cap).
pub const EXPORT_LIMIT: u32 = 1000;

pub fn record_href(id: &str) -> String {
    format!("/ui/charge-records/{}", seg(id))
}

fn total(r: &ChargeRecord) -> String {
    r.cost.as_ref().map_or_else(
        || "not rated".into(),
        |c| money(c.total_incl_vat, &c.currency),
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub page: Option<u64>,
}

pub async fn list(
    State(state): State<UiState>,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
) -> Response {
    let page = query.page.unwrap_or(1).max(1);
    let offset = (page - 1) * u64::from(PAGE_SIZE);
    let result = match state.api.store.charge_record_page(PAGE_SIZE, offset).await {
        Ok(r) => r,
        Err(e) => return error_page(&state, &viewer, e.into()),
    };
    let pages = result.total.div_ceil(u64::from(PAGE_SIZE)).max(1);
    let body = html! {
        p {
            (result.total) " charge records · "
            a href="/ui/charge-records.csv" download { "Export the latest " (EXPORT_LIMIT) " as CSV" }
        }
        @if result.records.is_empty() { p.empty { "No charge record yet." } } @else {
            div.scroll { table {
                thead { tr {
                    th scope="col" { "Record" } th scope="col" { "Station" } th scope="col" { "Ended" }
                    th scope="col" { "Energy" } th scope="col" { "Charging" } th scope="col" { "Total" }
                } }
                tbody { @for r in &result.records { tr {
                    td { a href=(record_href(&r.id)) { (r.id) } }
                    td { a href={ "/ui/stations/" (seg(&r.station_id)) } { (r.station_id) } }
                    td { (time(&r.ended_at)) }
                    td.num { (kwh(r.usage.energy_wh)) }
                    td.num { (duration(r.usage.charging_seconds)) }
                    td.num { (total(r)) }
                } } }
            } }
        }
        nav.pager aria-label="Pages" {
            @if page > 1 { a rel="prev" href={ "/ui/charge-records?page=" (page - 1) } { "← Previous" } }
            span { "Page " (page) " of " (pages) }
            @if page < pages { a rel="next" href={ "/ui/charge-records?page=" (page + 1) } { "Next →" } }
        }
    };
    Page::new("Charge records", Nav::ChargeRecords, body).render(Some(&viewer), state.demo)
}

pub async fn csv(State(state): State<UiState>, viewer: Viewer) -> Response {
    let rows = match state.api.store.charge_records(None, EXPORT_LIMIT).await {
        Ok(rows) => rows,
        Err(e) => return error_page(&state, &viewer, e.into()),
    };
    match respond(rows, ExportFormat::Csv, "charge-records") {
        Ok(response) => response,
        Err(e) => error_page(&state, &viewer, e),
    }
}

/// Usage and the cost, component by component.
pub fn breakdown(r: &ChargeRecord) -> Markup {
    html! {
        table.breakdown {
            caption { "Usage and cost" @if let Some(t) = &r.tariff_id { " (tariff " (t) ")" } }
            tbody {
                tr { th scope="row" { "Energy" } td.num { (kwh(r.usage.energy_wh)) } }
                tr { th scope="row" { "Charging time" } td.num { (duration(r.usage.charging_seconds)) } }
                tr { th scope="row" { "Idle time" } td.num { (duration(r.usage.idle_seconds)) } }
                @if r.usage.energy_went_backwards {
                    tr { th scope="row" { "Meter" } td.warn { "the register went backwards: check the readings" } }
                }
                @if let Some(c) = &r.cost {
                    tr { th scope="row" { "Energy cost" } td.num { (money(c.energy, &c.currency)) } }
                    tr { th scope="row" { "Charging-time cost" } td.num { (money(c.charging_time, &c.currency)) } }
                    tr { th scope="row" { "Idle-time cost" } td.num { (money(c.idle_time, &c.currency)) } }
                    tr { th scope="row" { "Session fee" } td.num { (money(c.session_fee, &c.currency)) } }
                    tr { th scope="row" { "Total excl. VAT" } td.num { (money(c.total_excl_vat, &c.currency)) } }
                    tr { th scope="row" { "VAT" } td.num { (money(c.vat, &c.currency)) } }
                    tr.total { th scope="row" { "Total incl. VAT" } td.num id="record-total" { (money(c.total_incl_vat, &c.currency)) } }
                } @else {
                    tr { th scope="row" { "Cost" } td { "not rated (no tariff applied)" } }
                }
            }
        }
    }
}

pub async fn detail(
    State(state): State<UiState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let record = match state.api.store.charge_record(&id).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return error_page(
                &state,
                &viewer,
                ApiError::not_found("unknown_charge_record", format!("no charge record {id:?}")),
            )
        }
        Err(e) => return error_page(&state, &viewer, e.into()),
    };
    let tx_href = format!(
        "/ui/stations/{}/transactions/{}",
        seg(&record.station_id),
        seg(&record.transaction_id)
    );
    let body = html! {
        dl.facts {
            dt { "Station" } dd { a href={ "/ui/stations/" (seg(&record.station_id)) } { (record.station_id) } }
            dt { "Transaction" } dd { a href=(tx_href) { (record.transaction_id) } }
            dt { "EVSE / connector" } dd { (opt(record.evse_id)) " / " (opt(record.connector_id)) }
            dt { "Token" } dd { (opt(record.id_token.as_deref())) " " (opt(record.id_token_type.as_deref())) }
            dt { "Started" } dd { (time(&record.started_at)) }
            dt { "Ended" } dd { (time(&record.ended_at)) }
            dt { "Stopped reason" } dd { (opt(record.stopped_reason.as_deref())) }
            dt { "Created" } dd { (time(&record.created_at)) }
        }
        (breakdown(&record))
    };
    Page::new(
        format!("Charge record {}", record.id),
        Nav::ChargeRecords,
        body,
    )
    .render(Some(&viewer), state.demo)
}
