//! The other front doors, as far as they run in this process: OCPI roaming partners, the
//! Diameter peers with their latest accounting sessions, and the EFC (road tolling) OBEs with
//! their latest charge reports. A door that is off says how to turn
//! it on instead of showing an empty table.
//!
//! The views are the REST API's own (`/api/v1/ocpi/partners`, `/api/v1/diameter/peers`,
//! `/api/v1/diameter/sessions`), so the page and the API never disagree.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use crate::diameter::AccountingSessionView;
use crate::ui::layout::{badge, opt, opt_time, time, Nav, Page};
use crate::ui::session::Viewer;
use crate::ui::{error_page, UiState};

/// Accounting sessions shown, newest first.
const SESSIONS: u32 = 50;
/// EFC charge reports shown, newest first.
const REPORTS: u32 = 50;

pub async fn roaming(State(state): State<UiState>, viewer: Viewer) -> Response {
    let Some(ocpi) = &state.api.ocpi else {
        let body = html! {
            p.hint { "OCPI is off on this server. Turn it on with " code { "[ocpi] enabled = true" } " in the configuration file and restart." }
        };
        return Page::new("Roaming partners", Nav::Roaming, body).render(Some(&viewer), state.demo);
    };
    let partners = match unicharge_ocpi_server::operator::partners(ocpi).await {
        Ok(p) => p,
        Err(e) => return error_page(&state, &viewer, crate::ocpi::refused(e)),
    };
    // Each partner's push outbox: what is still to be delivered, and what keeps failing.
    let mut outboxes = Vec::with_capacity(partners.len());
    for p in &partners {
        match unicharge_ocpi_server::operator::outbox(ocpi, p.id, 0).await {
            Ok(o) => outboxes.push(o),
            Err(e) => return error_page(&state, &viewer, crate::ocpi::refused(e)),
        }
    }
    let body = html! {
        p { "OCPI parties this CPO exchanges credentials with. Add one with " code { "unicharge ocpi partner-add" } "." }
        @if partners.is_empty() { p.empty { "No partner yet." } } @else {
            div.scroll { table {
                thead { tr {
                    th scope="col" { "Partner" } th scope="col" { "Status" } th scope="col" { "Version" }
                    th scope="col" { "Their roles" } th scope="col" { "Pushes pending" }
                    th scope="col" { "Failing" } th scope="col" { "Delivered" } th scope="col" { "Updated" }
                } }
                tbody { @for (p, o) in partners.iter().zip(&outboxes) { tr {
                    td { (p.name) } td { (badge(&p.status)) } td { (opt(p.version.as_deref())) }
                    td { (p.roles.join(", ")) }
                    td.num data-outbox-pending=(p.id) { (o.pending) }
                    td.num { @if o.failing > 0 { span.warn { (o.failing) } } @else { "0" } }
                    td.num { (o.delivered) }
                    td { (time(&p.updated_at)) }
                } } }
            } }
        }
    };
    Page::new("Roaming partners", Nav::Roaming, body).render(Some(&viewer), state.demo)
}

pub async fn diameter(State(state): State<UiState>, viewer: Viewer) -> Response {
    let Some(peers) = &state.api.diameter else {
        let body = html! {
            p.hint { "Diameter is off on this server. Turn it on with a " code { "[diameter]" } " section (listen address, Origin-Host, Origin-Realm) and restart." }
        };
        return Page::new("Diameter", Nav::Diameter, body).render(Some(&viewer), state.demo);
    };
    let peers = peers.peers();
    let sessions: Vec<AccountingSessionView> =
        match state.api.store.accounting_sessions(None, SESSIONS).await {
            Ok(rows) => rows.into_iter().map(AccountingSessionView::from).collect(),
            Err(e) => return error_page(&state, &viewer, e.into()),
        };
    let body = html! {
        section aria-labelledby="peers" {
            h2 id="peers" { "Peers" }
            @if peers.is_empty() { p.empty { "No peer connected." } } @else {
                div.scroll { table {
                    thead { tr {
                        th scope="col" { "Origin-Host" } th scope="col" { "Realm" } th scope="col" { "Address" }
                        th scope="col" { "State" } th scope="col" { "Watchdog" } th scope="col" { "Applications" }
                        th scope="col" { "Last watchdog" }
                    } }
                    tbody { @for p in &peers { tr {
                        td { (p.origin_host) } td { (p.origin_realm) }
                        td { (p.address) @if p.tls { " (TLS)" } }
                        td { (badge(&p.state)) } td { (badge(&p.watchdog)) }
                        td { (p.applications.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")) }
                        td { (opt_time(p.last_watchdog_at.as_ref())) }
                    } } }
                } }
            }
        }
        section aria-labelledby="sessions" {
            h2 id="sessions" { "Accounting sessions (Rf)" }
            @if sessions.is_empty() { p.empty { "No accounting session yet." } } @else {
                div.scroll { table {
                    thead { tr {
                        th scope="col" { "Session-Id" } th scope="col" { "From" } th scope="col" { "Subscriber" }
                        th scope="col" { "Records" } th scope="col" { "State" } th scope="col" { "Last record" }
                    } }
                    tbody { @for s in &sessions { tr {
                        td { code { (s.session_id) } } td { (s.origin_host) } td { (opt(s.subscriber.as_deref())) }
                        td.num { (s.records) } td { (badge(&s.state)) } td { (time(&s.last_record_at)) }
                    } } }
                } }
            }
        }
    };
    Page::new("Diameter", Nav::Diameter, body).render(Some(&viewer), state.demo)
}

pub async fn efc(State(state): State<UiState>, viewer: Viewer) -> Response {
    if state.api.efc.is_none() {
        let body = html! {
            p.hint { "The EFC back end is off on this server. Turn it on with an " code { "[efc]" } " section (listen addresses) and restart." }
        };
        return Page::new("Road tolling (EFC)", Nav::Efc, body).render(Some(&viewer), state.demo);
    }
    let store = &state.api.store;
    let (obes, reports) = match (
        store.efc_obes().await,
        store.efc_reports(None, REPORTS).await,
    ) {
        (Ok(o), Ok(r)) => (o, r),
        (Err(e), _) | (_, Err(e)) => return error_page(&state, &viewer, e.into()),
    };
    let body = html! {
        section aria-labelledby="obes" {
            h2 id="obes" { "On-board units" }
            @if obes.is_empty() { p.empty { "No OBE registered (" code { "unicharge efc obe" } ")." } } @else {
                div.scroll { table {
                    thead { tr {
                        th scope="col" { "OBE" } th scope="col" { "Label" } th scope="col" { "MAC key" }
                        th scope="col" { "Authentication" } th scope="col" { "Registered" }
                    } }
                    tbody { @for o in &obes { tr {
                        td { code { (o.obe_key) } } td { (o.label) }
                        td { @if o.mac_key_hex.is_some() { "set" } @else { "—" } }
                        td { @if o.require_auth { "required" } @else { "optional" } }
                        td { (time(&o.created_at)) }
                    } } }
                } }
            }
        }
        section aria-labelledby="reports" {
            h2 id="reports" { "Charge reports" }
            @if reports.is_empty() { p.empty { "No charge report received yet." } } @else {
                div.scroll { table {
                    thead { tr {
                        th scope="col" { "Received" } th scope="col" { "OBE" } th scope="col" { "Counter" }
                        th scope="col" { "Usage statements" } th scope="col" { "Fees (excl. VAT)" } th scope="col" { "Findings" }
                    } }
                    tbody { @for r in &reports { tr {
                        td { (time(&r.received_at)) } td { code { (r.obe_key) } }
                        td.num { (opt(r.counter)) @if let Some(gap) = r.counter_gap { " " span.warn { "(gap " (gap) ")" } } }
                        td.num { (r.charge_records.len()) }
                        td.num { (r.charge_records.iter().filter_map(|c| c.fee_excl_vat).map(u64::from).sum::<u64>()) }
                        td { @if r.violations.is_empty() { "—" } @else { span.warn { (r.violations.join(", ")) } } }
                    } } }
                } }
            }
        }
    };
    Page::new("Road tolling (EFC)", Nav::Efc, body).render(Some(&viewer), state.demo)
}
