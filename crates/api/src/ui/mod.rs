//! The operator web UI, served from the binary on the API port (ADR 0034).
//!
//! Server-rendered HTML (maud templates compiled into the binary), one stylesheet and one small
//! script embedded with `include_str!`, charts as SVG drawn on the server: nothing is fetched
//! at run time and nothing needs a build step. Operators log in with an API key posted in a
//! form ([`session`]); pages read the store a page at a time; actions go through the same typed
//! CSMS operations as the REST API ([`actions`]) and show errors as the API states them; live
//! updates come from the CSMS's committed facts over server-sent events ([`live`]).
//!
//! Paths: `/` is the overview, everything else lives under `/ui/`.

pub mod action_forms;
pub mod actions;
pub mod campaign_start;
pub mod catalog;
pub mod chart;
pub mod front_doors;
pub mod layout;
pub mod live;
pub mod overview;
pub mod records;
pub mod session;
pub mod station_sections;
pub mod stations;
pub mod transactions;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::html;
use serde::Deserialize;

use crate::ApiState;
use layout::{Nav, Page};
use session::{Sessions, Viewer};

/// What the UI's handlers reach.
#[derive(Clone)]
pub struct UiState {
    pub api: ApiState,
    pub sessions: Sessions,
    /// The data shown is simulated (`unicharge serve --demo`): every page says so.
    pub demo: bool,
}

/// The UI's routes, merged into the API router.
pub fn routes(api: ApiState) -> Router {
    let state = UiState {
        demo: api.demo,
        api,
        sessions: Sessions::default(),
    };
    Router::new()
        .route("/", get(overview::overview))
        .route("/ui", get(|| async { Redirect::to("/") }))
        .route("/ui/login", get(login_form).post(login))
        .route("/ui/logout", post(logout))
        .route("/ui/assets/style.css", get(style))
        .route("/ui/assets/live.js", get(script))
        .route("/ui/live", get(live::stream))
        .route("/ui/stations", get(stations::list))
        .route("/ui/stations/{id}", get(stations::detail))
        .route("/ui/stations/{id}/actions/{action}", post(actions::act))
        .route("/ui/transactions", get(transactions::list))
        .route(
            "/ui/stations/{id}/transactions/{transaction}",
            get(transactions::detail),
        )
        .route("/ui/tokens", get(catalog::tokens))
        .route("/ui/tariffs", get(catalog::tariffs))
        .route("/ui/site-limits", get(catalog::site_limits))
        .route("/ui/accounts", get(catalog::accounts))
        .route(
            "/ui/firmware-campaigns",
            get(catalog::campaigns).post(campaign_start::start),
        )
        .route("/ui/firmware-campaigns/{id}", get(catalog::campaign))
        .route("/ui/roaming", get(front_doors::roaming))
        .route("/ui/diameter", get(front_doors::diameter))
        .route("/ui/efc", get(front_doors::efc))
        .route("/ui/charge-records", get(records::list))
        .route("/ui/charge-records.csv", get(records::csv))
        .route("/ui/charge-records/{id}", get(records::detail))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// Every UI answer: no framing, no foreign scripts or styles, no referrer leaks.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // `same-origin`, not `no-referrer`: with no-referrer browsers send `Origin: null` on the
    // page's own form posts, which the same-origin check must refuse.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        include_str!("assets/style.css"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        include_str!("assets/live.js"),
    )
}

fn login_page(state: &UiState, error: Option<&str>, status: StatusCode) -> Response {
    Page::new(
        "Log in",
        Nav::None,
        html! {
            form.login method="post" action="/ui/login" {
                p { "Log in with an operator API key (" code { "unicharge api-key create" } "; the first start prints an admin key)." }
                @if let Some(error) = error {
                    p.error role="alert" id="login-error" { (error) }
                }
                label for="token" { "API key" }
                input id="token" name="token" type="password" autocomplete="off" required
                    aria-describedby=[error.map(|_| "login-error")];
                button type="submit" { "Log in" }
            }
        },
    )
    .status(status)
    .render(None, state.demo)
}

async fn login_form(State(state): State<UiState>) -> Response {
    login_page(&state, None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

async fn login(
    State(state): State<UiState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if !session::same_origin(&headers) {
        return login_page(
            &state,
            Some("refused: the form came from another site"),
            StatusCode::FORBIDDEN,
        );
    }
    match crate::auth::verify_token(state.api.store.as_ref(), form.token.trim()).await {
        Ok(caller) => {
            let (id, _) = state.sessions.open(&caller.key_id);
            tracing::info!(key = %caller.key_id, role = %caller.role, "UI login");
            let mut response = Redirect::to("/").into_response();
            if let Ok(cookie) = session::set_cookie(&headers, &id).parse() {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(e) => login_page(&state, Some(&e.body.message), e.status),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

async fn logout(
    State(state): State<UiState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !session::same_origin(&headers) || !viewer.csrf_ok(form.csrf.as_deref()) {
        return forbidden(&state, &viewer);
    }
    state.sessions.close(&viewer.session_id);
    let mut response = Redirect::to("/ui/login").into_response();
    if let Ok(cookie) = session::clear_cookie().parse() {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// A form without this session's CSRF token, or from another site.
pub(crate) fn forbidden(state: &UiState, viewer: &Viewer) -> Response {
    Page::new(
        "Refused",
        Nav::None,
        html! {
            p.error role="alert" {
                "This form is not from your current session (or came from another site), so nothing was done. "
                "Reload the page and try again."
            }
        },
    )
    .status(StatusCode::FORBIDDEN)
    .render(Some(viewer), state.demo)
}

/// An error page with the API's words.
pub(crate) fn error_page(state: &UiState, viewer: &Viewer, error: crate::ApiError) -> Response {
    let status = error.status;
    Page::new("Error", Nav::None, layout::api_error(&error))
        .status(status)
        .render(Some(viewer), state.demo)
}
