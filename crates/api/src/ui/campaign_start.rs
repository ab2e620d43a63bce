//! Starting a firmware campaign from the UI: a form on the campaigns page (operators only), a
//! confirmation that names the firmware and the stations, then the same `start_campaign` the
//! REST API calls, built from the same [`StartCampaignBody`] so defaults and checks are one.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use unicharge_csms::firmware::campaign as c;
use unicharge_csms::firmware::files::FirmwareFile;

use crate::campaigns::{spec, StartCampaignBody};
use crate::ui::actions::{confirmation, field, number, required};
use crate::ui::layout::{api_error, csrf_field, Nav, Page};
use crate::ui::session::{same_origin, Viewer};
use crate::ui::{forbidden, UiState};
use crate::ApiError;

const URL: &str = "/ui/firmware-campaigns";

/// The start form; firmware is chosen among the files uploaded to unicharge.
pub fn form(viewer: &Viewer, files: &[FirmwareFile]) -> Markup {
    html! {
        section aria-labelledby="start-campaign" {
            h2 id="start-campaign" { "Start a campaign" }
            @if files.is_empty() {
                p.hint { "Upload a firmware file first: " code { "POST /api/v1/firmware?name=FILE" } " (the file as the body)" "." }
            } @else {
                form.stacked method="post" action=(URL) {
                    (csrf_field(viewer))
                    label for="campaign-name" { "Name" }
                    input id="campaign-name" name="name" required maxlength="100";
                    label for="campaign-file" { "Firmware" }
                    select id="campaign-file" name="file" {
                        @for f in files { option value=(f.sha256) { (f.name) " (" (f.size) " B)" } }
                    }
                    label for="campaign-stations" { "Stations (ids, comma separated)" }
                    input id="campaign-stations" name="stations" required;
                    label for="campaign-concurrency" { "Stations at once" }
                    input id="campaign-concurrency" name="concurrency" type="number" min="1" value="10";
                    button type="submit" { "Start…" }
                }
            }
        }
    }
}

/// The form as the REST API's body.
fn body(form: &HashMap<String, String>) -> Result<StartCampaignBody, ApiError> {
    Ok(StartCampaignBody {
        name: required(form, "name")?.to_string(),
        location: None,
        file: Some(required(form, "file")?.to_string()),
        signature: None,
        install_date_time: None,
        retries: None,
        retry_interval: None,
        stations: Some(
            required(form, "stations")?
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        ),
        filter: None,
        concurrency: number(form, "concurrency")?,
        max_attempts: None,
        station_timeout_secs: None,
    })
}

pub async fn start(
    State(state): State<UiState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !same_origin(&headers) || !viewer.csrf_ok(form.get("csrf").map(String::as_str)) {
        return forbidden(&state, &viewer);
    }
    let page = |title: &str, body: Markup, status| {
        Page::new(title, Nav::Firmware, body)
            .status(status)
            .render(Some(&viewer), state.demo)
    };
    let refused = |e: ApiError| {
        let status = e.status;
        page(
            "Not started",
            html! { (api_error(&e)) p { a href=(URL) { "Back to the campaigns" } } },
            status,
        )
    };
    let by = match viewer.caller.operator() {
        Ok(by) => by,
        Err(e) => return refused(e),
    };
    let spec = match body(&form).and_then(spec) {
        Ok(s) => s,
        Err(e) => return refused(e),
    };
    if field(&form, "confirmed") != Some("yes") {
        let description = format!(
            "Install firmware {} on {} as campaign {:?}, {} at a time.",
            field(&form, "file").unwrap_or_default(),
            field(&form, "stations").unwrap_or_default(),
            spec.name,
            spec.concurrency
        );
        let body = confirmation(&viewer, URL, &form, &description, URL);
        return page("Confirm", body, StatusCode::OK);
    }
    tracing::info!(key = %viewer.caller.key_id, campaign = %spec.name, "UI firmware campaign");
    match c::start_campaign(&state.api.csms, spec, &by).await {
        Ok(id) => axum::response::IntoResponse::into_response(Redirect::to(&format!("{URL}/{id}"))),
        Err(e) => refused(e.into()),
    }
}
