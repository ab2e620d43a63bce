//! The operator's reference data, read-only: tokens, tariffs, site limits with their latest
//! allocation, and firmware campaigns with their progress (live on the campaign page).
//!
//! Changing these stays with the REST API and the CLI (`unicharge token …`, `tariff …`,
//! `firmware campaign …`): one place where their validation lives. These pages show what the
//! store holds, as those commands left it.

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{html, Markup};
use unicharge_store::CampaignStationRecord;

use crate::ui::layout::{badge, opt, opt_time, seg, time, Nav, Page};
use crate::ui::session::Viewer;
use crate::ui::{error_page, UiState};
use crate::ApiError;

/// At most this many rows on one reference page; the page says when there are more.
pub const MAX_ROWS: usize = 500;

/// "Showing the first N of M" when a list is cut.
fn cut_note(total: usize) -> Markup {
    html! {
        @if total > MAX_ROWS {
            p.hint { "Showing the first " (MAX_ROWS) " of " (total) "; the REST API pages through all of them." }
        }
    }
}

pub async fn tokens(State(state): State<UiState>, viewer: Viewer) -> Response {
    let tokens = match state.api.store.list_tokens().await {
        Ok(t) => t,
        Err(e) => return error_page(&state, &viewer, e.into()),
    };
    let body = html! {
        p { (tokens.len()) " idTokens · add or block one with " code { "PUT /api/v1/tokens/{type}/{idToken}" } }
        (cut_note(tokens.len()))
        @if tokens.is_empty() { p.empty { "No idToken yet." } } @else {
            div.scroll { table {
                thead { tr {
                    th scope="col" { "idToken" } th scope="col" { "Type" } th scope="col" { "Status" }
                    th scope="col" { "Group" } th scope="col" { "Expires" }
                } }
                tbody { @for t in tokens.iter().take(MAX_ROWS) { tr {
                    td { (t.id_token) } td { (t.kind) } td { (badge(&t.status)) }
                    td { (opt(t.group_id_token.as_deref())) } td { (opt_time(t.expiry.as_ref())) }
                } } }
            } }
        }
    };
    Page::new("Tokens", Nav::Tokens, body).render(Some(&viewer), state.demo)
}

pub async fn tariffs(State(state): State<UiState>, viewer: Viewer) -> Response {
    let tariffs = match state.api.store.tariffs().await {
        Ok(t) => t,
        Err(e) => return error_page(&state, &viewer, e.into()),
    };
    let body = html! {
        p { "Prices as charged (excl. VAT). Set them with " code { "POST /api/v1/tariffs" } " and assign them with " code { "POST /api/v1/tariff-assignments" } "." }
        @if tariffs.is_empty() { p.empty { "No tariff: transactions are not rated." } } @else {
            div.scroll { table {
                thead { tr {
                    th scope="col" { "Tariff" } th scope="col" { "Per kWh" } th scope="col" { "Per charging min" }
                    th scope="col" { "Per idle min" } th scope="col" { "Session fee" } th scope="col" { "VAT" }
                    th scope="col" { "Valid" }
                } }
                tbody { @for t in &tariffs { tr {
                    td { (t.id) }
                    td.num { (t.price_per_kwh) " " (t.currency) }
                    td.num { (t.price_per_charging_minute) " " (t.currency) }
                    td.num { (t.price_per_idle_minute) " " (t.currency) }
                    td.num { (t.session_fee) " " (t.currency) }
                    td.num { (t.vat_percent) " %" }
                    td { (opt_time(t.valid_from.as_ref())) " – " (opt_time(t.valid_to.as_ref())) }
                } } }
            } }
        }
    };
    Page::new("Tariffs", Nav::Tariffs, body).render(Some(&viewer), state.demo)
}

pub async fn site_limits(State(state): State<UiState>, viewer: Viewer) -> Response {
    let store = &state.api.store;
    let groups = match store.site_groups().await {
        Ok(g) => g,
        Err(e) => return error_page(&state, &viewer, e.into()),
    };
    let mut latest = Vec::with_capacity(groups.len());
    for g in &groups {
        match store.site_allocations(&g.id, 1).await {
            Ok(mut a) => latest.push(a.pop()),
            Err(e) => return error_page(&state, &viewer, e.into()),
        }
    }
    let body = html! {
        p { "Each group shares one limit among its stations; the CSMS re-allocates when a transaction starts or ends." }
        @if groups.is_empty() { p.empty { "No site group. Create one with " code { "unicharge site-group set" } " or " code { "PUT /api/v1/site-groups/{id}" } "." } } @else {
            div.scroll { table {
                thead { tr {
                    th scope="col" { "Group" } th scope="col" { "Limit" } th scope="col" { "Stations" }
                    th scope="col" { "Latest allocation" }
                } }
                tbody { @for (g, a) in groups.iter().zip(&latest) { tr {
                    td { (g.id) }
                    td.num { (g.limit) " " (g.unit) }
                    td { @for (i, s) in g.stations.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href={ "/ui/stations/" (seg(s.as_str())) } { (s.as_str()) }
                    } }
                    td { @match a {
                        Some(a) => { (time(&a.at)) ": " (a.rate) " " (a.unit) " to " (a.station_id.as_str()) " EVSE " (a.evse_id) " (" (a.reason) ")" }
                        None => { "—" }
                    } }
                } } }
            } }
        }
    };
    Page::new("Site limits", Nav::SiteLimits, body).render(Some(&viewer), state.demo)
}

pub async fn campaigns(State(state): State<UiState>, viewer: Viewer) -> Response {
    let campaigns = match state.api.store.campaigns().await {
        Ok(c) => c,
        Err(e) => return error_page(&state, &viewer, e.into()),
    };
    let files = match state
        .api
        .csms
        .files()
        .map(|f| f.firmware_files())
        .transpose()
    {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => return error_page(&state, &viewer, e.into()),
    };
    let body = html! {
        p { "Rollouts of one firmware to many stations, a few at a time (also " code { "unicharge firmware campaign start" } ")." }
        @if viewer.can_act() { (crate::ui::campaign_start::form(&viewer, &files)) }
        @if campaigns.is_empty() { p.empty { "No firmware campaign yet." } } @else {
            div.scroll { table {
                thead { tr {
                    th scope="col" { "Campaign" } th scope="col" { "State" } th scope="col" { "Firmware" }
                    th scope="col" { "At once" } th scope="col" { "Created" }
                } }
                tbody { @for c in &campaigns { tr {
                    td { a href={ "/ui/firmware-campaigns/" (c.id) } { (c.name) } }
                    td { (badge(&c.state)) }
                    td { code { (c.firmware) } }
                    td.num { (c.concurrency) }
                    td { (time(&c.created_at)) " by " (c.created_by) }
                } } }
            } }
        }
    };
    Page::new("Firmware campaigns", Nav::Firmware, body).render(Some(&viewer), state.demo)
}

/// How many of a campaign's stations are in each state, in a stable order.
pub fn progress(stations: &[CampaignStationRecord]) -> Vec<(String, usize)> {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for s in stations {
        *counts.entry(s.state.as_str()).or_default() += 1;
    }
    counts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

pub async fn campaign(
    State(state): State<UiState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Response {
    let store = &state.api.store;
    let found = match store.campaign(id).await {
        Ok(c) => c,
        Err(e) => return error_page(&state, &viewer, e.into()),
    };
    let Some(c) = found else {
        let error = ApiError::not_found("unknown_campaign", format!("no firmware campaign {id}"));
        return error_page(&state, &viewer, error);
    };
    let stations = match store.campaign_stations(id).await {
        Ok(s) => s,
        Err(e) => return error_page(&state, &viewer, e.into()),
    };
    let body = html! {
        dl.facts {
            dt { "State" } dd { (badge(&c.state)) }
            dt { "Firmware" } dd { code { (c.firmware) } }
            dt { "Stations at once" } dd { (c.concurrency) }
            dt { "Attempts per station" } dd { (c.max_attempts) }
            dt { "Created" } dd { (time(&c.created_at)) " by " (c.created_by) }
        }
        h2 { "Progress" }
        ul.cards aria-label="Stations per state" {
            @for (state_name, n) in progress(&stations) {
                li.card { span { (state_name) } " " strong data-progress=(state_name) { (n) } }
            }
        }
        h2 { "Stations" }
        div.scroll { table {
            thead { tr {
                th scope="col" { "#" } th scope="col" { "Station" } th scope="col" { "State" }
                th scope="col" { "Firmware status" } th scope="col" { "Attempts" } th scope="col" { "Updated" }
            } }
            tbody { @for s in &stations { tr {
                td.num { (s.position) }
                td { a href={ "/ui/stations/" (seg(s.station_id.as_str())) } { (s.station_id.as_str()) } }
                td { (badge(&s.state)) @if let Some(r) = &s.reason { " " span.hint { (r) } } }
                td { span data-firmware=(s.station_id.as_str()) { (opt(s.last_status.as_deref())) } }
                td.num { (s.attempts) }
                td { (time(&s.updated_at)) }
            } } }
        } }
    };
    Page::new(format!("Firmware campaign {}", c.name), Nav::Firmware, body)
        .live("/ui/live")
        .render(Some(&viewer), state.demo)
}

pub async fn accounts(State(state): State<UiState>, viewer: Viewer) -> Response {
    let accounts = match state.api.store.ledger_accounts().await {
        Ok(a) => a,
        Err(e) => return error_page(&state, &viewer, e.into()),
    };
    let body = html! {
        p { "Prepaid and credit accounts that Diameter Ro credit control and EFC tolling debit. Open or top one up with " code { "unicharge account" } " or " code { "POST /api/v1/accounts" } "." }
        (cut_note(accounts.len()))
        @if accounts.is_empty() { p.empty { "No account yet." } } @else {
            div.scroll { table {
                thead { tr {
                    th scope="col" { "Account" } th scope="col" { "Label" } th scope="col" { "Unit" }
                    th scope="col" { "Balance" } th scope="col" { "Reserved" } th scope="col" { "Available" }
                    th scope="col" { "Floor" }
                } }
                tbody { @for a in accounts.iter().take(MAX_ROWS) { tr {
                    td { (a.id) } td { (a.label) } td { (a.unit) }
                    td.num { (a.balance) } td.num { (a.reserved) } td.num { (a.available()) }
                    td.num { (a.floor) }
                } } }
            } }
        }
    };
    Page::new("Accounts", Nav::Accounts, body).render(Some(&viewer), state.demo)
}
