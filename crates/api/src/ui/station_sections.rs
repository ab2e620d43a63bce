//! The lower half of a station's page: what the CSMS keeps per station besides connectors and
//! transactions — security events, reservations, the local list, charging profiles and the last
//! composite schedule (drawn), certificates, uploaded log files and display messages.
//!
//! Each section reads one bounded store query; together they answer "what does this station
//! hold and what did it tell us" without the operator reaching for the REST API.

use maud::{html, Markup};
use unicharge_core::StationId;
use unicharge_store::Store;

use rust_decimal::prelude::ToPrimitive;
use unicharge_ocpp::v201::CompositeScheduleType;
use unicharge_store::CompositeScheduleRecord;

use crate::ui::chart::{line_chart, Point};
use crate::ui::layout::{badge, opt, opt_time, time};

/// Security events shown (newest first).
const SECURITY_EVENTS: u32 = 20;
/// Log files shown (newest first).
const LOG_FILES: u32 = 10;
/// Device-model variables shown; the REST API has them all.
const VARIABLES: usize = 200;

pub async fn render(store: &dyn Store, station: &StationId) -> Result<Markup, crate::ApiError> {
    let security = store.security_events(station, SECURITY_EVENTS).await?;
    let reservations = store.reservations(station).await?;
    let local_list = store.local_list(station).await?;
    let profiles = store.charging_profiles(station).await?;
    let schedules = store.composite_schedules(station, 1).await?;
    let certificates = store.installed_certificates(station).await?;
    let logs = store.log_files(station, LOG_FILES).await?;
    let messages = store.display_messages(station).await?;
    let variables = store.device_model(station).await?;
    let sid = station.as_str();
    Ok(html! {
        section aria-labelledby="device-model" {
            h2 id="device-model" { "Device model" }
            @if variables.is_empty() { p.empty { "Nothing reported yet (GetBaseReport / GetVariables fill it)." } } @else {
                @if variables.len() > VARIABLES {
                    p.hint { "The first " (VARIABLES) " of " (variables.len()) " variables; " code { "GET /api/v1/stations/" (station.as_str()) "/device-model" } " has all." }
                }
                div.scroll { table {
                    thead { tr {
                        th scope="col" { "Component" } th scope="col" { "EVSE" } th scope="col" { "Variable" }
                        th scope="col" { "Attribute" } th scope="col" { "Value" } th scope="col" { "Mutability" }
                    } }
                    tbody { @for v in variables.iter().take(VARIABLES) { tr {
                        td { (v.component) @if let Some(i) = &v.component_instance { " (" (i) ")" } }
                        td { (opt(v.evse_id)) @if let Some(c) = v.connector_id { "/" (c) } }
                        td { (v.variable) @if let Some(i) = &v.variable_instance { " (" (i) ")" } }
                        td { (v.attribute_type) } td { (opt(v.value.as_deref())) } td { (opt(v.mutability.as_deref())) }
                    } } }
                } }
            }
        }
        section aria-labelledby="security" {
            h2 id="security" { "Security events" }
            @if security.is_empty() { p.empty { "No SecurityEventNotification received." } } @else {
                div.scroll { table {
                    thead { tr { th scope="col" { "Time" } th scope="col" { "Type" } th scope="col" { "Detail" } } }
                    tbody { @for e in &security { tr {
                        td { (time(&e.timestamp)) } td { (e.kind) } td { (opt(e.tech_info.as_deref())) }
                    } } }
                } }
            }
        }
        section aria-labelledby="reservations" {
            h2 id="reservations" { "Reservations" }
            @if reservations.is_empty() { p.empty { "No reservation." } } @else {
                div.scroll { table {
                    thead { tr {
                        th scope="col" { "Id" } th scope="col" { "EVSE" } th scope="col" { "idToken" }
                        th scope="col" { "Expires" } th scope="col" { "Status" }
                    } }
                    tbody { @for r in &reservations { tr {
                        td.num { (r.id) } td { (opt(r.evse_id)) } td { (r.id_token) }
                        td { (time(&r.expires_at)) } td { (badge(&r.status)) }
                    } } }
                } }
            }
        }
        section aria-labelledby="local-list" {
            h2 id="local-list" { "Local authorization list" }
            p {
                "Version " (local_list.version) " in the CSMS, "
                (opt(local_list.station_version)) " on the station"
                @if let Some(s) = &local_list.last_status { " (last SendLocalList: " (s) ")" }
                ", " (local_list.entries.len()) " entries."
            }
        }
        section aria-labelledby="profiles" {
            h2 id="profiles" { "Charging profiles" }
            @if profiles.is_empty() { p.empty { "No charging profile sent." } } @else {
                div.scroll { table {
                    thead { tr {
                        th scope="col" { "Id" } th scope="col" { "EVSE" } th scope="col" { "Purpose" }
                        th scope="col" { "Stack level" } th scope="col" { "Valid" } th scope="col" { "Status" }
                    } }
                    tbody { @for p in &profiles { tr {
                        td.num { (p.profile_id) } td.num { (p.evse_id) } td { (p.purpose) }
                        td.num { (p.stack_level) }
                        td { (opt_time(p.valid_from.as_ref())) " – " (opt_time(p.valid_to.as_ref())) }
                        td { (badge(&p.status)) @if p.cleared_at.is_some() { " cleared" } }
                    } } }
                } }
            }
            @if let Some((record, schedule)) = schedules.first().and_then(|r| Some((r, parse_schedule(r)?))) {
                h3 { "Last composite schedule, EVSE " (record.evse_id) " (GetCompositeSchedule at " (time(&record.requested_at)) ")" }
                (line_chart("Composite schedule limit", &schedule.charging_rate_unit.to_string(), &steps(&schedule)))
            }
        }
        section aria-labelledby="certificates" {
            h2 id="certificates" { "Certificates on the station" }
            @if certificates.is_empty() { p.empty { "None known (GetInstalledCertificateIds reports them)." } } @else {
                div.scroll { table {
                    thead { tr { th scope="col" { "Type" } th scope="col" { "Serial" } th scope="col" { "Source" } th scope="col" { "Seen" } th scope="col" { "Deleted" } } }
                    tbody { @for c in &certificates { tr {
                        td { (c.certificate_type) } td { code { (c.serial_number) } } td { (c.source) }
                        td { (time(&c.seen_at)) } td { (opt_time(c.deleted_at.as_ref())) }
                    } } }
                } }
            }
        }
        section aria-labelledby="logs" {
            h2 id="logs" { "Uploaded log files" }
            @if logs.is_empty() { p.empty { "No log uploaded (GetLog without a remote location uploads here)." } } @else {
                div.scroll { table {
                    thead { tr { th scope="col" { "Uploaded" } th scope="col" { "Request" } th scope="col" { "File" } th scope="col" { "Size" } th scope="col" { "SHA-256" } } }
                    tbody { @for l in &logs { tr {
                        td { (time(&l.uploaded_at)) } td.num { (l.request_id) }
                        td { a href={ "/api/v1/log-files/" (l.id) "/content" } { (opt(l.filename.as_deref())) } }
                        td.num { (l.size) " B" } td { code { (l.sha256.chars().take(16).collect::<String>()) "…" } }
                    } } }
                } }
            }
        }
        section aria-labelledby="messages" {
            h2 id="messages" { "Display messages" }
            @if messages.is_empty() { p.empty { "No display message set." } } @else {
                div.scroll { table {
                    thead { tr { th scope="col" { "Id" } th scope="col" { "Priority" } th scope="col" { "Message" } th scope="col" { "Status" } } }
                    tbody { @for m in &messages { tr {
                        td.num { (m.message_id) } td { (m.priority) } td { (m.message) }
                        td { (badge(&m.status)) @if m.cleared_at.is_some() { " cleared" } }
                    } } }
                } }
            }
        }
        p.hint { "Station " (sid) ": the REST API at " code { "/api/v1/stations/" (sid) } " has every record." }
    })
}

/// The stored CompositeScheduleType of an accepted GetCompositeSchedule, if it parses.
fn parse_schedule(record: &CompositeScheduleRecord) -> Option<CompositeScheduleType> {
    serde_json::from_str(record.schedule.as_deref()?).ok()
}

/// The schedule as a step line: each period's limit from its start until the next one starts
/// (or the schedule's duration ends).
fn steps(schedule: &CompositeScheduleType) -> Vec<Point> {
    let start = schedule.schedule_start;
    let periods = &schedule.charging_schedule_period;
    let mut points = Vec::with_capacity(periods.len() * 2);
    for (i, p) in periods.iter().enumerate() {
        let end = periods
            .get(i + 1)
            .map_or(schedule.duration, |next| next.start_period);
        let limit = p.limit.to_f64().unwrap_or(0.0);
        points.push((start + chrono::Duration::seconds(p.start_period), limit));
        points.push((start + chrono::Duration::seconds(end), limit));
    }
    points
}
