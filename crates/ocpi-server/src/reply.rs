//! The answers OCPI gives: the response envelope with its status code, and the few cases where
//! HTTP itself carries the answer (400 not JSON, 401 token, 404 unknown object, 405 wrong
//! registration state), as `unicharge_ocpi::transport` names them.

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode as Http};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde::Serialize;
use unicharge_ocpi::transport::{self, HttpReply, StatusCode};

/// An OCPI answer. Handlers return `Result<Reply, Reply>`: the error side is an answer too.
/// The body is kept as JSON text, never as a `serde_json::Value`: a `Value` holds numbers as
/// `f64` and would turn an exact 0.90 into 0.9 (ADR 0032).
#[derive(Debug)]
pub struct Reply {
    pub http: Http,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
}

pub type Answer = Result<Reply, Reply>;

fn envelope<T: Serialize>(
    data: Option<&T>,
    code: StatusCode,
    message: Option<String>,
) -> serde_json::Result<String> {
    serde_json::to_string(&transport::Response {
        data,
        status_code: code,
        status_message: message,
        timestamp: Utc::now(),
    })
}

fn plain(code: StatusCode, message: Option<String>) -> String {
    envelope::<()>(None, code, message).expect("an envelope without data is JSON")
}

impl Reply {
    /// 1000 with `data`, HTTP 200.
    pub fn ok<T: Serialize>(data: &T) -> Reply {
        match envelope(Some(data), StatusCode::SUCCESS, None) {
            Ok(body) => Reply {
                http: Http::OK,
                body,
                headers: Vec::new(),
            },
            Err(e) => Reply::server_error(format!("cannot write the answer: {e}")),
        }
    }

    /// 1000 without data.
    pub fn ok_empty() -> Reply {
        Reply {
            http: Http::OK,
            body: plain(StatusCode::SUCCESS, None),
            headers: Vec::new(),
        }
    }

    /// An OCPI error in the envelope (HTTP 200, as the spec pairs every status code).
    pub fn error(code: StatusCode, message: impl Into<String>) -> Reply {
        Reply {
            http: Http::from_u16(code.http_status()).unwrap_or(Http::OK),
            body: plain(code, Some(message.into())),
            headers: Vec::new(),
        }
    }

    /// HTTP carries the answer (401, 404, 405, 400), with the OCPI code when it has one.
    pub fn http(reply: HttpReply, message: impl Into<String>) -> Reply {
        Reply {
            http: Http::from_u16(reply.http_status()).unwrap_or(Http::BAD_REQUEST),
            body: plain(
                reply.status_code().unwrap_or(StatusCode::CLIENT_ERROR),
                Some(message.into()),
            ),
            headers: Vec::new(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Reply {
        Reply::http(HttpReply::Unauthorized, message)
    }

    /// HTTP 404 with 2003 (unknown location) — also what an object of a party the partner is
    /// not registered with looks like: it does not exist for that partner.
    pub fn unknown_location(message: impl Into<String>) -> Reply {
        Reply::http(HttpReply::NotFound(StatusCode::UNKNOWN_LOCATION), message)
    }

    /// HTTP 404 with 2000 for an object that is not a location (session, CDR, token).
    pub fn not_found_object(code: StatusCode, message: impl Into<String>) -> Reply {
        Reply::http(HttpReply::NotFound(code), message)
    }

    pub fn invalid(message: impl Into<String>) -> Reply {
        Reply::error(StatusCode::INVALID_OR_MISSING_PARAMETERS, message)
    }

    /// 3000; the detail is logged, the partner gets a bounded message.
    pub fn server_error(detail: impl std::fmt::Display) -> Reply {
        tracing::warn!(detail = %bounded(&detail.to_string()), "OCPI request failed on our side");
        Reply::error(StatusCode::SERVER_ERROR, "internal error; retry later")
    }

    pub fn with_headers(mut self, headers: Vec<(&'static str, String)>) -> Reply {
        self.headers.extend(headers);
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = (
            self.http,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            self.body,
        )
            .into_response();
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static(lower(name)), v);
            }
        }
        response
    }
}

fn lower(name: &'static str) -> &'static str {
    match name {
        transport::LINK => "link",
        transport::X_TOTAL_COUNT => "x-total-count",
        transport::X_LIMIT => "x-limit",
        transport::X_REQUEST_ID => "x-request-id",
        transport::X_CORRELATION_ID => "x-correlation-id",
        transport::OCPI_FROM_COUNTRY_CODE => "ocpi-from-country-code",
        transport::OCPI_FROM_PARTY_ID => "ocpi-from-party-id",
        transport::OCPI_TO_COUNTRY_CODE => "ocpi-to-country-code",
        transport::OCPI_TO_PARTY_ID => "ocpi-to-party-id",
        crate::emsp::cdrs::LOCATION => "location",
        _ => "x-ocpi-unknown",
    }
}

/// At most 200 characters of anything a peer sent, for logs and messages.
pub fn bounded(text: &str) -> String {
    text.chars().take(200).collect()
}

/// Read a request body: not JSON is HTTP 400; JSON of the wrong shape is 2001.
pub fn body<T: DeserializeOwned>(bytes: &Bytes, what: &str) -> Result<T, Reply> {
    // Checked as JSON first (400 when it is not), then read from the text itself: through a
    // `Value` an amount would pass through an f64.
    let _: &serde_json::value::RawValue = serde_json::from_slice(bytes)
        .map_err(|e| Reply::http(HttpReply::NotJson, format!("the body is not JSON: {e}")))?;
    serde_json::from_slice(bytes)
        .map_err(|e| Reply::invalid(format!("invalid {what}: {}", bounded(&e.to_string()))))
}

/// Any path under /ocpi we do not serve.
pub async fn not_found() -> Reply {
    Reply::http(
        HttpReply::NotFound(StatusCode::CLIENT_ERROR),
        "no such OCPI endpoint; start from GET /ocpi/versions",
    )
}

/// Every response repeats the request's `X-Request-ID` and `X-Correlation-ID` (and gets a
/// fresh request id when the request had none).
pub async fn echo_request_ids(request: Request, next: Next) -> Response {
    let ids = transport::RequestIds::from_headers(|name| {
        request.headers().get(name).and_then(|v| v.to_str().ok())
    });
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let request_id = ids
        .request_id
        .unwrap_or_else(|| crate::secrets::new_token()[..16].to_string());
    for (name, value) in [
        ("x-request-id", Some(request_id)),
        ("x-correlation-id", ids.correlation_id),
    ] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(HeaderName::from_static(name), v);
        }
    }
    response
}
