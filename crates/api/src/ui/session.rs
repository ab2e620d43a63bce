//! Logging in to the web UI: an API key posted in a form (never in a URL) opens a server-side
//! session; the browser holds only a random session id in an `HttpOnly`, `SameSite=Strict`
//! cookie (`Secure` when the request came over TLS, as a proxy reports with
//! `X-Forwarded-Proto: https`). Every action form carries the session's CSRF token, and every
//! POST whose `Origin` names another site is refused. The key behind a session is looked up on
//! every request, so revoking it ends the session at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rand::RngCore;
use unicharge_core::api_keys::ApiRole;

use crate::auth::Caller;
use crate::ui::UiState;

/// The session cookie's name.
pub const COOKIE: &str = "uc_session";
/// A session unused this long is forgotten.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(8 * 3600);
/// At most this many sessions are kept; the least recently used goes first.
pub const MAX_SESSIONS: usize = 10_000;

#[derive(Debug, Clone)]
struct Session {
    key_id: String,
    csrf: String,
    last_used: Instant,
}

/// The open sessions (in memory: a restart logs everyone out, which is the safe default).
#[derive(Clone, Default)]
pub struct Sessions {
    inner: Arc<Mutex<HashMap<String, Session>>>,
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl Sessions {
    /// Open a session for this key; returns (session id, CSRF token).
    pub fn open(&self, key_id: &str) -> (String, String) {
        let id = random_hex();
        let csrf = random_hex();
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| s.last_used.elapsed() < IDLE_TIMEOUT);
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(
            id.clone(),
            Session {
                key_id: key_id.to_string(),
                csrf: csrf.clone(),
                last_used: Instant::now(),
            },
        );
        (id, csrf)
    }

    fn touch(&self, id: &str) -> Option<Session> {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match map.get_mut(id) {
            Some(s) if s.last_used.elapsed() < IDLE_TIMEOUT => {
                s.last_used = Instant::now();
                Some(s.clone())
            }
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    pub fn close(&self, id: &str) {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

/// The session id the request's cookie names.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// Whether the browser reached us over TLS (directly or through a proxy that says so).
fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// `Set-Cookie` for a new session.
pub fn set_cookie(headers: &HeaderMap, id: &str) -> String {
    let secure = if over_tls(headers) { "; Secure" } else { "" };
    format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// A POST from another site (its `Origin` is not this host) is refused before anything else.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true; // no Origin: not a cross-site browser request (SameSite=Strict covers it)
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or("");
    !host.is_empty() && origin_host == host
}

/// The logged-in operator of a UI request.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub session_id: String,
    pub caller: Caller,
    pub csrf: String,
}

impl Viewer {
    /// Whether this viewer may act on stations (see no buttons otherwise).
    pub fn can_act(&self) -> bool {
        self.caller.role >= ApiRole::Operator
    }

    /// Constant-time comparison of a submitted CSRF token with the session's.
    pub fn csrf_ok(&self, submitted: Option<&str>) -> bool {
        let Some(submitted) = submitted else {
            return false;
        };
        let (a, b) = (submitted.as_bytes(), self.csrf.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// A request without a valid session: pages send the browser to the login form, the live
/// stream answers 401.
pub struct NotLoggedIn {
    stream: bool,
}

impl IntoResponse for NotLoggedIn {
    fn into_response(self) -> Response {
        if self.stream {
            (StatusCode::UNAUTHORIZED, "log in at /ui/login\n").into_response()
        } else {
            let mut response = Redirect::to("/ui/login").into_response();
            if let Ok(value) = clear_cookie().parse() {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
    }
}

impl FromRequestParts<UiState> for Viewer {
    type Rejection = NotLoggedIn;

    async fn from_request_parts(parts: &mut Parts, state: &UiState) -> Result<Self, NotLoggedIn> {
        let rejection = NotLoggedIn {
            stream: parts.uri.path() == "/ui/live",
        };
        let Some(id) = session_cookie(&parts.headers) else {
            return Err(rejection);
        };
        let Some(session) = state.sessions.touch(&id) else {
            return Err(rejection);
        };
        // The key may have been revoked since login: that ends the session.
        let key = match state.api.store.get_api_key(&session.key_id).await {
            Ok(Some(key)) if key.revoked_at.is_none() => key,
            Ok(_) => {
                state.sessions.close(&id);
                return Err(rejection);
            }
            Err(e) => {
                tracing::error!(error = %e, "UI session check failed");
                return Err(rejection);
            }
        };
        let Ok(role) = key.role.parse::<ApiRole>() else {
            return Err(rejection);
        };
        Ok(Viewer {
            session_id: id,
            caller: Caller {
                key_id: key.id,
                role,
            },
            csrf: session.csrf,
        })
    }
}
