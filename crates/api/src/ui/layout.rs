//! The page shell every UI page shares, and small formatting helpers.
//!
//! Pages are plain HTML rendered on the server (maud escapes every value it interpolates), with
//! one stylesheet and one small script, both compiled into the binary. They work without
//! JavaScript; the script only adds live updates.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};
use rust_decimal::Decimal;

use crate::ui::session::Viewer;

/// Which navigation entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Stations,
    Transactions,
    ChargeRecords,
    Tokens,
    Tariffs,
    Firmware,
    SiteLimits,
    Accounts,
    Roaming,
    Diameter,
    Efc,
    None,
}

/// A rendered page.
pub struct Page {
    pub status: StatusCode,
    pub title: String,
    pub nav: Nav,
    /// The live-update stream the page listens to (`/ui/live?…`), if any.
    pub live: Option<String>,
    pub body: Markup,
}

impl Page {
    pub fn new(title: impl Into<String>, nav: Nav, body: Markup) -> Self {
        Page {
            status: StatusCode::OK,
            title: title.into(),
            nav,
            live: None,
            body,
        }
    }

    pub fn live(mut self, url: impl Into<String>) -> Self {
        self.live = Some(url.into());
        self
    }

    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The whole document, for `viewer` (None: the login page).
    pub fn render(self, viewer: Option<&Viewer>, demo: bool) -> Response {
        let nav_item = |nav: Nav, href: &str, label: &str| {
            html! {
                li { a href=(href) aria-current=[(self.nav == nav).then_some("page")] { (label) } }
            }
        };
        let doc = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.title) " · unicharge" }
                    link rel="stylesheet" href="/ui/assets/style.css";
                    script src="/ui/assets/live.js" defer {}
                }
                body data-live=[self.live.as_deref()] {
                    a.skip href="#main" { "Skip to content" }
                    header.top {
                        a.brand href="/" { "unicharge" }
                        @if let Some(viewer) = viewer {
                            nav aria-label="Main" {
                                ul {
                                    (nav_item(Nav::Overview, "/", "Overview"))
                                    (nav_item(Nav::Stations, "/ui/stations", "Stations"))
                                    (nav_item(Nav::Transactions, "/ui/transactions", "Transactions"))
                                    (nav_item(Nav::ChargeRecords, "/ui/charge-records", "Charge records"))
                                    (nav_item(Nav::Tokens, "/ui/tokens", "Tokens"))
                                    (nav_item(Nav::Tariffs, "/ui/tariffs", "Tariffs"))
                                    (nav_item(Nav::Firmware, "/ui/firmware-campaigns", "Firmware"))
                                    (nav_item(Nav::SiteLimits, "/ui/site-limits", "Site limits"))
                                    (nav_item(Nav::Accounts, "/ui/accounts", "Accounts"))
                                    (nav_item(Nav::Roaming, "/ui/roaming", "Roaming"))
                                    (nav_item(Nav::Diameter, "/ui/diameter", "Diameter"))
                                    (nav_item(Nav::Efc, "/ui/efc", "Tolling"))
                                }
                            }
                            form.logout method="post" action="/ui/logout" {
                                input type="hidden" name="csrf" value=(viewer.csrf);
                                span.who { "key " (viewer.caller.key_id) " (" (viewer.caller.role.as_str()) ")" }
                                button type="submit" { "Log out" }
                            }
                        }
                    }
                    @if demo {
                        p.demo role="note" { "Demo mode: the stations and their data are simulated." }
                    }
                    main id="main" {
                        h1 { (self.title) }
                        (self.body)
                    }
                }
            }
        };
        let mut response = (self.status, doc.into_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// A time as operators read it (UTC, to the second).
pub fn time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub fn opt_time(at: Option<&DateTime<Utc>>) -> String {
    at.map(time).unwrap_or_else(|| "—".into())
}

pub fn opt<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "—".into(), |v| v.to_string())
}

/// Wh as kWh with three decimals.
pub fn kwh(wh: Decimal) -> String {
    format!("{:.3} kWh", wh / Decimal::from(1000))
}

/// An amount of money.
pub fn money(amount: Decimal, currency: &str) -> String {
    format!("{:.2} {currency}", amount)
}

/// Seconds as `1 h 02 min 03 s`.
pub fn duration(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, (seconds % 3600) / 60, seconds % 60);
    if h > 0 {
        format!("{h} h {m:02} min {s:02} s")
    } else if m > 0 {
        format!("{m} min {s:02} s")
    } else {
        format!("{s} s")
    }
}

/// A path segment, percent-encoded (station and transaction ids may hold `:`, `|`, `@`, …).
pub fn seg(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A status word as a badge whose class follows the word (`status-available`, …).
pub fn badge(word: &str) -> Markup {
    html! { span class={ "status status-" (word.to_ascii_lowercase()) } { (word) } }
}

/// An error as the API states it: status, code and message.
pub fn api_error(error: &crate::ApiError) -> Markup {
    html! {
        div.error role="alert" {
            p { strong { (error.status.as_u16()) " " (error.body.error) } ": " (error.body.message) }
            @if let Some(detail) = &error.body.detail {
                pre { (detail.to_string()) }
            }
        }
    }
}

/// The hidden CSRF field every action form carries.
pub fn csrf_field(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name="csrf" value=(viewer.csrf); }
}
