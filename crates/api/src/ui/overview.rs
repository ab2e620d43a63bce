//! The overview: how many stations are online, offline and faulted, how many transactions run,
//! and the energy and revenue of today's charge records, with energy per day as a chart.

use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use maud::html;
use rust_decimal::prelude::ToPrimitive;

use crate::ui::layout::{kwh, money, Nav, Page};
use crate::ui::session::Viewer;
use crate::ui::{chart, error_page, UiState};
use unicharge_store::views::day_start;

/// How many days the energy chart covers (today included).
pub const CHART_DAYS: i64 = 14;

pub async fn overview(State(state): State<UiState>, viewer: Viewer) -> Response {
    let now = Utc::now();
    let today = day_start(now);
    let store = &state.api.store;
    let figures = match store.fleet_figures(today).await {
        Ok(f) => f,
        Err(e) => return error_page(&state, &viewer, e.into()),
    };
    let daily = match store
        .daily_figures(today - chrono::Duration::days(CHART_DAYS - 1))
        .await
    {
        Ok(d) => d,
        Err(e) => return error_page(&state, &viewer, e.into()),
    };
    let online = state.api.csms.connected_stations().len() as u64;
    let offline = figures.stations.saturating_sub(online);
    let bars: Vec<(String, f64)> = (0..CHART_DAYS)
        .rev()
        .map(|ago| {
            let day = (today - chrono::Duration::days(ago)).date_naive();
            let wh = daily
                .iter()
                .find(|d| d.day == day)
                .map(|d| d.energy_wh)
                .unwrap_or_default();
            (
                day.format("%Y-%m-%d").to_string(),
                (wh / rust_decimal::Decimal::from(1000))
                    .to_f64()
                    .unwrap_or(0.0),
            )
        })
        .collect();
    // One revenue chart per currency the period's records were charged in.
    let currencies: std::collections::BTreeSet<&str> = daily
        .iter()
        .flat_map(|d| d.revenue.iter().map(|(c, _)| c.as_str()))
        .collect();
    let revenue_bars = |currency: &str| -> Vec<(String, f64)> {
        (0..CHART_DAYS)
            .rev()
            .map(|ago| {
                let day = (today - chrono::Duration::days(ago)).date_naive();
                let amount = daily
                    .iter()
                    .find(|d| d.day == day)
                    .and_then(|d| d.revenue.iter().find(|(c, _)| c == currency))
                    .map(|(_, a)| *a)
                    .unwrap_or_default();
                (
                    day.format("%Y-%m-%d").to_string(),
                    amount.to_f64().unwrap_or(0.0),
                )
            })
            .collect()
    };
    let card = |label: &str, value: String, href: Option<&str>, id: &str| {
        html! {
            div.card {
                dt { (label) }
                dd id=(id) {
                    @if let Some(href) = href { a href=(href) { (value) } } @else { (value) }
                }
            }
        }
    };
    let body = html! {
        section aria-labelledby="fleet" {
            h2 id="fleet" { "Stations" }
            dl.cards {
                (card("Registered", figures.stations.to_string(), Some("/ui/stations"), "count-stations"))
                (card("Online", online.to_string(), Some("/ui/stations?status=online"), "count-online"))
                (card("Offline", offline.to_string(), Some("/ui/stations?status=offline"), "count-offline"))
                (card("Faulted", figures.faulted.to_string(), Some("/ui/stations?status=faulted"), "count-faulted"))
            }
        }
        section aria-labelledby="today" {
            h2 id="today" { "Today (UTC)" }
            dl.cards {
                (card("Active transactions", figures.active_transactions.to_string(), Some("/ui/transactions?active=1"), "count-active"))
                (card("Charge records", figures.records.to_string(), Some("/ui/charge-records"), "count-records"))
                (card("Energy", kwh(figures.energy_wh), None, "energy-today"))
                @if figures.revenue.is_empty() {
                    (card("Revenue", "—".into(), None, "revenue-today"))
                } @else {
                    (card("Revenue", figures.revenue.iter().map(|(c, a)| money(*a, c)).collect::<Vec<_>>().join(", "), None, "revenue-today"))
                }
            }
        }
        section aria-labelledby="per-day" {
            h2 id="per-day" { "Energy per day" }
            (chart::bar_chart(&format!("Energy of charge records, last {CHART_DAYS} days"), "kWh", &bars))
            @for currency in &currencies {
                h2 { "Revenue per day (" (currency) ")" }
                (chart::bar_chart(&format!("Revenue incl. VAT of charge records, last {CHART_DAYS} days"), currency, &revenue_bars(currency)))
            }
        }
    };
    Page::new("Overview", Nav::Overview, body).render(Some(&viewer), state.demo)
}
