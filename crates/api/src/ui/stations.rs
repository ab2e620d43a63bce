//! The station list (search, filter by live status, sort, pages of 50 read from the store with
//! LIMIT/OFFSET: as fast for 100,000 stations as for 10) and a station's page (connectors live,
//! transactions, recent events and commands, and the operator's actions).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use unicharge_core::Station;
use unicharge_store::views::{StationQuery, StationSort, StationStatusFilter};
use unicharge_store::TransactionRecord;

use crate::stations::existing_station;
use crate::ui::layout::{badge, opt, opt_time, seg, time, Nav, Page};
use crate::ui::session::Viewer;
use crate::ui::transactions::{cost_span, running_cost};
use crate::ui::{error_page, UiState};

/// Stations per page.
pub const PAGE_SIZE: u32 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub q: Option<String>,
    /// `all`, `online`, `offline`, `faulted`.
    pub status: Option<String>,
    /// `id`, `last-seen`, `created`.
    pub sort: Option<String>,
    /// `asc` or `desc`.
    pub dir: Option<String>,
    /// 1-based.
    pub page: Option<u64>,
}

impl ListQuery {
    fn status(&self) -> StationStatusFilter {
        match self.status.as_deref() {
            Some("online") => StationStatusFilter::Online,
            Some("offline") => StationStatusFilter::Offline,
            Some("faulted") => StationStatusFilter::Faulted,
            _ => StationStatusFilter::All,
        }
    }

    fn sort(&self) -> StationSort {
        match self.sort.as_deref() {
            Some("last-seen") => StationSort::LastSeen,
            Some("created") => StationSort::Created,
            _ => StationSort::Id,
        }
    }

    /// This query's link with another page number.
    fn href(&self, page: u64) -> String {
        let mut parts = Vec::new();
        let mut push = |k: &str, v: Option<&str>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", seg(v)));
            }
        };
        push("q", self.q.as_deref());
        push("status", self.status.as_deref());
        push("sort", self.sort.as_deref());
        push("dir", self.dir.as_deref());
        parts.push(format!("page={page}"));
        format!("/ui/stations?{}", parts.join("&"))
    }
}

pub async fn list(
    State(state): State<UiState>,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
) -> Response {
    let page = query.page.unwrap_or(1).max(1);
    let status = query.status();
    let connected = match status {
        StationStatusFilter::Online | StationStatusFilter::Offline => {
            state.api.csms.connected_stations()
        }
        _ => Vec::new(),
    };
    let store_query = StationQuery {
        search: query.q.clone(),
        status,
        connected,
        sort: query.sort(),
        descending: query.dir.as_deref() == Some("desc"),
        limit: PAGE_SIZE,
        offset: (page - 1) * u64::from(PAGE_SIZE),
    };
    let result = match state.api.store.station_page(&store_query).await {
        Ok(r) => r,
        Err(e) => return error_page(&state, &viewer, e.into()),
    };
    let pages = result.total.div_ceil(u64::from(PAGE_SIZE)).max(1);
    let first = store_query.offset + 1;
    let last = store_query.offset + result.stations.len() as u64;
    let selected = |value: &str, current: Option<&str>| current == Some(value);
    let body = html! {
        form.filters method="get" action="/ui/stations" role="search" {
            div {
                label for="q" { "Search" }
                input id="q" name="q" type="search" value=[query.q.as_deref()] placeholder="id, model, vendor, serial";
            }
            div {
                label for="status" { "Status" }
                select id="status" name="status" {
                    option value="all" { "All" }
                    option value="online" selected[selected("online", query.status.as_deref())] { "Online" }
                    option value="offline" selected[selected("offline", query.status.as_deref())] { "Offline" }
                    option value="faulted" selected[selected("faulted", query.status.as_deref())] { "Faulted" }
                }
            }
            div {
                label for="sort" { "Sort by" }
                select id="sort" name="sort" {
                    option value="id" { "Id" }
                    option value="last-seen" selected[selected("last-seen", query.sort.as_deref())] { "Last seen" }
                    option value="created" selected[selected("created", query.sort.as_deref())] { "Registered" }
                }
            }
            div {
                label for="dir" { "Order" }
                select id="dir" name="dir" {
                    option value="asc" { "Ascending" }
                    option value="desc" selected[selected("desc", query.dir.as_deref())] { "Descending" }
                }
            }
            button type="submit" { "Show" }
        }
        p id="station-count" aria-live="polite" {
            @if result.total == 0 { "No station matches." }
            @else { "Stations " (first) "–" (last) " of " (result.total) }
        }
        div.scroll {
            table.stations {
                caption.visually-hidden { "Stations" }
                thead { tr {
                    th scope="col" { "Station" }
                    th scope="col" { "Status" }
                    th scope="col" { "Model" }
                    th scope="col" { "Vendor" }
                    th scope="col" { "Firmware" }
                    th scope="col" { "Last seen" }
                } }
                tbody {
                    @for s in &result.stations {
                        @let online = state.api.csms.is_connected(&s.id);
                        tr {
                            td { a href={ "/ui/stations/" (seg(s.id.as_str())) } { (s.id.as_str()) } }
                            td {
                                (online_badge(s, online))
                                @if result.faulted.contains(&s.id) { " " (badge("Faulted")) }
                            }
                            td { (opt(s.model.as_deref())) }
                            td { (opt(s.vendor_name.as_deref())) }
                            td { (opt(s.firmware_version.as_deref())) }
                            td { (opt_time(s.last_seen_at.as_ref())) }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="Pages" {
            @if page > 1 { a rel="prev" href=(query.href(page - 1)) { "← Previous" } }
            span { "Page " (page) " of " (pages) }
            @if page < pages { a rel="next" href=(query.href(page + 1)) { "Next →" } }
        }
    };
    Page::new("Stations", Nav::Stations, body)
        .live("/ui/live")
        .render(Some(&viewer), state.demo)
}

/// Online / offline, updated live (`data-station`).
fn online_badge(station: &Station, online: bool) -> Markup {
    let word = if online { "Online" } else { "Offline" };
    html! {
        span class={ "status status-" (word.to_ascii_lowercase()) } data-station=(station.id.as_str()) { (word) }
    }
}

pub async fn detail(
    State(state): State<UiState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    match detail_page(&state, &viewer, &id).await {
        Ok(page) => page.render(Some(&viewer), state.demo),
        Err(e) => error_page(&state, &viewer, e),
    }
}

async fn detail_page(state: &UiState, viewer: &Viewer, id: &str) -> Result<Page, crate::ApiError> {
    let station_id = existing_station(&state.api, id).await?;
    let store = &state.api.store;
    let station = store
        .get_station(&station_id)
        .await?
        .ok_or_else(|| crate::ApiError::not_found("unknown_station", "station is gone"))?;
    let online = state.api.csms.is_connected(&station_id);
    let connectors = store.connectors(&station_id).await?;
    let transactions = store.transactions(&station_id, 20).await?;
    let events = store.events(&station_id, 20).await?;
    let commands = store.commands(&station_id, 20).await?;
    let more = crate::ui::station_sections::render(store.as_ref(), &station_id).await?;
    let mut running = Vec::new();
    for t in transactions.iter().filter(|t| t.ended_at.is_none()) {
        running.push((t, running_cost(state, t).await?));
    }
    let sid = station_id.as_str();
    let body = html! {
        section aria-labelledby="about" {
            h2 id="about" { "Station" }
            dl.facts {
                dt { "Connection" } dd { (online_badge(&station, online)) }
                dt { "Registration" } dd { (station.registration.as_str()) }
                dt { "Security profile" } dd { (station.security_profile.number()) }
                dt { "Model" } dd { (opt(station.model.as_deref())) }
                dt { "Vendor" } dd { (opt(station.vendor_name.as_deref())) }
                dt { "Serial number" } dd { (opt(station.serial_number.as_deref())) }
                dt { "Firmware" } dd { (opt(station.firmware_version.as_deref())) }
                dt { "Last boot" } dd { (opt_time(station.last_boot_at.as_ref())) " " (opt(station.last_boot_reason.as_deref())) }
                dt { "Last seen" } dd { (opt_time(station.last_seen_at.as_ref())) }
            }
        }
        section aria-labelledby="connectors" {
            h2 id="connectors" { "Connectors" }
            @if connectors.is_empty() {
                p.empty { "No StatusNotification received yet." }
            } @else {
                table {
                    thead { tr { th scope="col" { "EVSE" } th scope="col" { "Connector" } th scope="col" { "Status" } th scope="col" { "Since" } } }
                    tbody {
                        @for c in &connectors {
                            tr {
                                td { (c.evse_id) }
                                td { (c.connector_id) }
                                td {
                                    span class={ "status status-" (c.status.to_ascii_lowercase()) }
                                        data-connector={ (sid) "/" (c.evse_id) "/" (c.connector_id) } { (c.status) }
                                }
                                td { (time(&c.status_at)) }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="running" {
            h2 id="running" { "Running transactions" }
            ul.running data-running=(sid) {
                @for (t, cost) in &running {
                    li {
                        a href=(tx_href(t)) { (t.transaction_id) }
                        " on EVSE " (opt(t.evse_id)) ", cost "
                        (cost_span(&format!("{sid}/{}", t.transaction_id), cost.as_ref()))
                    }
                }
            }
            @if running.is_empty() { p.empty data-running-empty=(sid) { "None." } }
        }
        @if viewer.can_act() {
            (crate::ui::action_forms::forms(viewer, sid, &connectors, &running.iter().map(|(t, _)| t.transaction_id.clone()).collect::<Vec<_>>()))
        }
        section aria-labelledby="transactions" {
            h2 id="transactions" { "Recent transactions" }
            (transaction_table(&transactions))
        }
        section aria-labelledby="events" {
            h2 id="events" { "Recent events" }
            @if events.is_empty() { p.empty { "No NotifyEvent received." } } @else {
                div.scroll { table {
                    thead { tr { th scope="col" { "Time" } th scope="col" { "Component" } th scope="col" { "Variable" } th scope="col" { "Value" } th scope="col" { "Trigger" } } }
                    tbody { @for e in &events { tr {
                        td { (time(&e.timestamp)) } td { (e.component) } td { (e.variable) } td { (e.actual_value) } td { (e.trigger) }
                    } } }
                } }
            }
        }
        section aria-labelledby="commands" {
            h2 id="commands" { "Command log" }
            @if commands.is_empty() { p.empty { "No request sent yet." } } @else {
                div.scroll { table {
                    thead { tr { th scope="col" { "Sent" } th scope="col" { "Action" } th scope="col" { "Outcome" } th scope="col" { "By" } th scope="col" { "Answer" } } }
                    tbody { @for c in &commands { tr {
                        td { (time(&c.sent_at)) } td { (c.action) } td { (c.outcome) } td { (opt(c.requested_by.as_deref())) }
                        td { code { (c.response.as_deref().unwrap_or("—").chars().take(160).collect::<String>()) } }
                    } } }
                } }
            }
        }
        (more)
    };
    Ok(Page::new(format!("Station {sid}"), Nav::Stations, body)
        .live(format!("/ui/live?station={}", seg(sid))))
}

pub(crate) fn tx_href(t: &TransactionRecord) -> String {
    format!(
        "/ui/stations/{}/transactions/{}",
        seg(t.station_id.as_str()),
        seg(&t.transaction_id)
    )
}

/// Transactions as a table (station page, transaction list).
pub(crate) fn transaction_table(transactions: &[TransactionRecord]) -> Markup {
    html! {
        @if transactions.is_empty() { p.empty { "No transaction." } } @else {
            div.scroll { table {
                thead { tr {
                    th scope="col" { "Transaction" } th scope="col" { "Station" } th scope="col" { "EVSE" }
                    th scope="col" { "Token" } th scope="col" { "Started" } th scope="col" { "Ended" } th scope="col" { "State" }
                } }
                tbody { @for t in transactions { tr {
                    td { a href=(tx_href(t)) { (t.transaction_id) } }
                    td { a href={ "/ui/stations/" (seg(t.station_id.as_str())) } { (t.station_id.as_str()) } }
                    td { (opt(t.evse_id)) }
                    td { (opt(t.id_token.as_deref())) }
                    td { (time(&t.started_at)) }
                    td { (opt_time(t.ended_at.as_ref())) }
                    td { (opt(t.stopped_reason.as_deref().or(t.charging_state.as_deref()))) }
                } } }
            } }
        }
    }
}
