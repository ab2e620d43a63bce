//! The OCPI transport rules ("Transport and format", "Status codes"): what every request and
//! response carries, independent of the module.

use std::fmt;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::types::PartyId;
use crate::Version;

// ---------------------------------------------------------------------------------------------
// Response envelope
// ---------------------------------------------------------------------------------------------

/// The JSON object every OCPI response body is: `data`, `status_code`, `status_message`,
/// `timestamp`. `data` is what the module defines on success; on error the spec leaves it
/// unspecified, so it is optional and left out when absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response<T> {
    #[serde(default = "Option::default", skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
    pub status_code: StatusCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(with = "crate::datetime")]
    pub timestamp: DateTime<Utc>,
}

impl<T> Response<T> {
    /// A 1000 answer carrying `data`.
    pub fn success(data: T, now: DateTime<Utc>) -> Self {
        Response {
            data: Some(data),
            status_code: StatusCode::SUCCESS,
            status_message: None,
            timestamp: now,
        }
    }

    /// An error answer: no `data`, a message that tells the peer what to fix.
    pub fn error(status_code: StatusCode, message: impl Into<String>, now: DateTime<Utc>) -> Self {
        Response {
            data: None,
            status_code,
            status_message: Some(message.into()),
            timestamp: now,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Status codes
// ---------------------------------------------------------------------------------------------

/// An OCPI status code (the `status_code` of the envelope). A number, not an enum: the ranges
/// 1900–1999, 2900–2999, 3900–3999 and 4900–4999 are custom codes a peer may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StatusCode(pub u16);

/// The class a status code belongs to (its thousands digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    Success,
    ClientError,
    ServerError,
    HubError,
    /// Outside 1000–4999: not an OCPI status code.
    Unknown,
}

impl StatusCode {
    /// 1000 Generic success code.
    pub const SUCCESS: Self = Self(1000);
    /// 2000 Generic client error.
    pub const CLIENT_ERROR: Self = Self(2000);
    /// 2001 Invalid or missing parameters (e.g. missing `last_updated` in a PATCH, or an
    /// object id in the body that differs from the one in the URL).
    pub const INVALID_OR_MISSING_PARAMETERS: Self = Self(2001);
    /// 2002 Not enough information (e.g. an authorization request with too little information).
    pub const NOT_ENOUGH_INFORMATION: Self = Self(2002);
    /// 2003 Unknown Location (e.g. START_SESSION with an unknown location).
    pub const UNKNOWN_LOCATION: Self = Self(2003);
    /// 2004 Unknown Token (e.g. real-time authorization of an unknown Token).
    pub const UNKNOWN_TOKEN: Self = Self(2004);
    /// 3000 Generic server error.
    pub const SERVER_ERROR: Self = Self(3000);
    /// 3001 Unable to use the client's API (e.g. a GET to the client failed during registration).
    pub const UNABLE_TO_USE_CLIENT_API: Self = Self(3001);
    /// 3002 Unsupported version.
    pub const UNSUPPORTED_VERSION: Self = Self(3002);
    /// 3003 No matching endpoints or expected endpoints missing between parties.
    pub const NO_MATCHING_ENDPOINTS: Self = Self(3003);
    /// 4000 Generic (hub) error.
    pub const HUB_ERROR: Self = Self(4000);
    /// 4001 Unknown receiver (TO address is unknown).
    pub const UNKNOWN_RECEIVER: Self = Self(4001);
    /// 4002 Timeout on forwarded request.
    pub const TIMEOUT_ON_FORWARDED_REQUEST: Self = Self(4002);
    /// 4003 Connection problem (receiving party is not connected).
    pub const CONNECTION_PROBLEM: Self = Self(4003);

    pub fn class(self) -> StatusClass {
        match self.0 {
            1000..=1999 => StatusClass::Success,
            2000..=2999 => StatusClass::ClientError,
            3000..=3999 => StatusClass::ServerError,
            4000..=4999 => StatusClass::HubError,
            _ => StatusClass::Unknown,
        }
    }

    pub fn is_success(self) -> bool {
        self.class() == StatusClass::Success
    }

    /// In a reserved custom range (x900–x999)?
    pub fn is_custom(self) -> bool {
        (1000..=4999).contains(&self.0) && self.0 % 1000 >= 900
    }

    /// The spec's description of a standard code.
    pub fn description(self) -> Option<&'static str> {
        Some(match self.0 {
            1000 => "Generic success code",
            2000 => "Generic client error",
            2001 => "Invalid or missing parameters",
            2002 => "Not enough information",
            2003 => "Unknown Location",
            2004 => "Unknown Token",
            3000 => "Generic server error",
            3001 => "Unable to use the client's API",
            3002 => "Unsupported version",
            3003 => "No matching endpoints or expected endpoints missing between parties",
            4000 => "Generic error",
            4001 => "Unknown receiver (TO address is unknown)",
            4002 => "Timeout on forwarded request",
            4003 => "Connection problem (receiving party is not connected)",
            _ => return None,
        })
    }

    /// The HTTP status that goes with this code when the request reached the OCPI layer.
    ///
    /// "Status codes": a request that is valid JSON and addresses an existing resource MUST NOT
    /// get an HTTP error, so every OCPI status code, success or error, travels with HTTP 200.
    /// The cases where HTTP carries the answer are [`HttpReply`]: 201 for a newly created
    /// object, 400 for a body that is not JSON, 401 for a missing or unknown credentials token,
    /// 404 for a GET of an object that does not exist (or belongs to a party the client is not
    /// registered with), 405 for credentials calls in the wrong registration state.
    pub fn http_status(self) -> u16 {
        200
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The answers OCPI gives at the HTTP level, with the status the spec names for each, and the
/// OCPI status code that goes in the body when there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpReply {
    /// The object already existed and was updated: HTTP 200 (with 1000).
    Updated,
    /// The object was newly created: HTTP 201 (with 1000).
    Created,
    /// The body is not valid JSON: HTTP 400, before the OCPI layer (no OCPI status code).
    NotJson,
    /// Missing `Authorization` header, unknown credentials token, or token A used on a module
    /// other than versions / credentials: HTTP 401.
    Unauthorized,
    /// GET of a resource that does not exist, or an object of a party the client is not
    /// registered with: HTTP 404, with the OCPI code that names what is unknown.
    NotFound(StatusCode),
    /// Credentials POST when already registered, PUT / DELETE when not registered: HTTP 405.
    MethodNotAllowed,
}

impl HttpReply {
    pub fn http_status(self) -> u16 {
        match self {
            HttpReply::Updated => 200,
            HttpReply::Created => 201,
            HttpReply::NotJson => 400,
            HttpReply::Unauthorized => 401,
            HttpReply::NotFound(_) => 404,
            HttpReply::MethodNotAllowed => 405,
        }
    }

    /// The OCPI status code for the body, where the answer has one.
    pub fn status_code(self) -> Option<StatusCode> {
        match self {
            HttpReply::Updated | HttpReply::Created => Some(StatusCode::SUCCESS),
            HttpReply::NotFound(code) => Some(code),
            HttpReply::NotJson | HttpReply::Unauthorized | HttpReply::MethodNotAllowed => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Authorization: Token
// ---------------------------------------------------------------------------------------------

/// Why an `Authorization` header gives no credentials token (answer: HTTP 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error(
        "the Authorization header is missing; send `Authorization: Token <credentials token>`"
    )]
    Missing,
    #[error("the Authorization header does not use the Token scheme; send `Authorization: Token <credentials token>`")]
    NotTokenScheme,
    #[error("the Authorization header has an empty token")]
    Empty,
}

/// The credentials token read from an `Authorization: Token ...` header.
///
/// OCPI 2.2 and later send the token Base64 encoded; 2.1.1 sent it as is, and some 2.2.x
/// peers still do. Reading is tolerant: [`ReceivedToken::candidates`] gives the decoded token
/// (when the parameter is Base64 of printable ASCII) and the raw parameter, and the server
/// accepts the request when one of them is a token it issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedToken {
    /// The header's parameter as sent.
    pub raw: String,
    /// The parameter Base64-decoded, when it decodes to printable, non-whitespace ASCII.
    pub decoded: Option<String>,
}

impl ReceivedToken {
    /// Parses the value of an `Authorization` header (`None` when the header is missing).
    pub fn from_header(value: Option<&str>) -> Result<Self, AuthError> {
        let value = value.ok_or(AuthError::Missing)?.trim();
        let (scheme, parameter) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("Token") {
            return Err(AuthError::NotTokenScheme);
        }
        let raw = parameter.trim();
        if raw.is_empty() {
            return Err(AuthError::Empty);
        }
        Ok(ReceivedToken {
            raw: raw.to_owned(),
            decoded: decode_base64_token(raw),
        })
    }

    /// The tokens this header may stand for, the Base64 reading first.
    pub fn candidates(&self) -> impl Iterator<Item = &str> {
        self.decoded
            .as_deref()
            .into_iter()
            .chain(std::iter::once(self.raw.as_str()))
    }

    /// Does the header carry `token` (in either encoding)? Constant-time per candidate.
    pub fn matches(&self, token: &str) -> bool {
        self.candidates()
            .any(|candidate| constant_time_eq(candidate.as_bytes(), token.as_bytes()))
    }
}

fn decode_base64_token(text: &str) -> Option<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let bytes = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())?;
    let token = String::from_utf8(bytes).ok()?;
    let printable = !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic());
    printable.then_some(token)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `Authorization` header value to send with `token` to a peer speaking `version`:
/// Base64 for 2.2 and later, the token as is for 2.1.1 and earlier.
pub fn authorization_header(token: &str, version: &Version) -> String {
    if version.encodes_token_base64() {
        format!(
            "Token {}",
            base64::engine::general_purpose::STANDARD.encode(token)
        )
    } else {
        format!("Token {token}")
    }
}

// ---------------------------------------------------------------------------------------------
// Pagination and date filters
// ---------------------------------------------------------------------------------------------

/// `Link` header: the next page's URL.
pub const LINK: &str = "Link";
/// Custom header: how many objects match the query (filters included, offset / limit not).
pub const X_TOTAL_COUNT: &str = "X-Total-Count";
/// Custom header: the most objects the server returns per page (not how many it returned).
pub const X_LIMIT: &str = "X-Limit";

/// Why a Sender GET's query is rejected (OCPI 2001, invalid or missing parameters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("{name} must be a non-negative integer, got {value:?}")]
    NotANumber { name: &'static str, value: String },
    #[error("{name} must be an OCPI DateTime (RFC 3339, UTC), got {value:?}")]
    NotADateTime { name: &'static str, value: String },
    #[error("date_from is required on this endpoint")]
    DateFromRequired,
}

impl QueryError {
    pub fn status_code(&self) -> StatusCode {
        StatusCode::INVALID_OR_MISSING_PARAMETERS
    }
}

/// The query of a paginated Sender GET: `date_from`, `date_to`, `offset`, `limit`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListQuery {
    pub dates: DateFilter,
    /// Offset of the first object returned; default 0.
    pub offset: u64,
    /// The limit the client asked for, if any.
    pub limit: Option<u64>,
}

impl ListQuery {
    /// Reads the query from its (already percent-decoded) pairs; unknown keys are left for the
    /// module (e.g. `type` on tokens).
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, QueryError> {
        let mut query = ListQuery::default();
        for (key, value) in pairs {
            match key {
                "offset" => query.offset = number("offset", value)?,
                "limit" => query.limit = Some(number("limit", value)?),
                "date_from" => query.dates.from = Some(date_time("date_from", value)?),
                "date_to" => query.dates.to = Some(date_time("date_to", value)?),
                _ => {}
            }
        }
        Ok(query)
    }

    /// The page to return given the server's own maximum page size: the client's limit capped
    /// at `max_limit`.
    pub fn page(&self, max_limit: u64) -> Page {
        let limit = self.limit.map_or(max_limit, |asked| asked.min(max_limit));
        Page {
            offset: self.offset,
            limit,
            max_limit,
        }
    }
}

fn number(name: &'static str, value: &str) -> Result<u64, QueryError> {
    value.trim().parse().map_err(|_| QueryError::NotANumber {
        name,
        value: value.to_owned(),
    })
}

fn date_time(name: &'static str, value: &str) -> Result<DateTime<Utc>, QueryError> {
    crate::datetime::parse(value.trim()).ok_or_else(|| QueryError::NotADateTime {
        name,
        value: value.to_owned(),
    })
}

/// `date_from` / `date_to` on `last_updated`: "after or equal to" `date_from` (inclusive) and
/// "up to, but not including" `date_to` (exclusive), so consecutive windows do not overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DateFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl DateFilter {
    pub fn contains(&self, last_updated: DateTime<Utc>) -> bool {
        self.from.is_none_or(|from| last_updated >= from)
            && self.to.is_none_or(|to| last_updated < to)
    }

    /// Sessions' Sender GET requires `date_from` (2.2.1 mod_sessions).
    pub fn require_from(&self) -> Result<DateTime<Utc>, QueryError> {
        self.from.ok_or(QueryError::DateFromRequired)
    }
}

/// One page of a Sender GET: which objects to return and the headers that go with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: u64,
    /// Objects in this page at most (client's limit capped by the server's).
    pub limit: u64,
    /// The server's maximum, sent as `X-Limit`.
    pub max_limit: u64,
}

impl Page {
    /// The index range of `total` matching objects this page covers.
    pub fn range(&self, total: u64) -> std::ops::Range<u64> {
        let start = self.offset.min(total);
        start..self.offset.saturating_add(self.limit).min(total)
    }

    /// The offset of the next page, or `None` when this is the last page.
    pub fn next_offset(&self, total: u64) -> Option<u64> {
        let end = self.offset.saturating_add(self.limit);
        (self.limit > 0 && end < total).then_some(end)
    }

    /// The response headers: `X-Total-Count`, `X-Limit`, and `Link` with rel="next" when there
    /// is a next page. `base_url` is the endpoint without query; the link repeats the filters of
    /// the request, as the spec asks.
    pub fn headers(
        &self,
        base_url: &str,
        query: &ListQuery,
        total: u64,
    ) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            (X_TOTAL_COUNT, total.to_string()),
            (X_LIMIT, self.max_limit.to_string()),
        ];
        if let Some(next) = self.next_offset(total) {
            let mut url = format!("{base_url}?offset={next}&limit={}", self.limit);
            for (name, at) in [("date_from", query.dates.from), ("date_to", query.dates.to)] {
                if let Some(at) = at {
                    url.push_str(&format!(
                        "&{name}={}",
                        percent_encode(&crate::datetime::format(&at))
                    ));
                }
            }
            headers.push((LINK, format!("<{url}>; rel=\"next\"")));
        }
        headers
    }
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~:".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The URL with rel="next" in a `Link` header value, if any (client side of pagination).
pub fn next_link(link_header: &str) -> Option<&str> {
    link_header.split(',').find_map(|link| {
        let (target, params) = link.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|param| {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            key.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .any(|rel| rel.eq_ignore_ascii_case("next"))
        });
        is_next.then_some(target)
    })
}

// ---------------------------------------------------------------------------------------------
// Routing headers (OCPI-to / OCPI-from) and tracing headers
// ---------------------------------------------------------------------------------------------

pub const OCPI_TO_PARTY_ID: &str = "OCPI-to-party-id";
pub const OCPI_TO_COUNTRY_CODE: &str = "OCPI-to-country-code";
pub const OCPI_FROM_PARTY_ID: &str = "OCPI-from-party-id";
pub const OCPI_FROM_COUNTRY_CODE: &str = "OCPI-from-country-code";
/// Unique per request; the response carries the same value.
pub const X_REQUEST_ID: &str = "X-Request-ID";
/// Same for every request of one flow (e.g. a command and its result); echoed in the response.
pub const X_CORRELATION_ID: &str = "X-Correlation-ID";

/// A routing header pair is half present or malformed (OCPI 2001).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    #[error("{present} is present but {missing} is not; send both or neither")]
    HalfPair {
        present: &'static str,
        missing: &'static str,
    },
}

/// The parties a message is from and to, from the `OCPI-from-*` / `OCPI-to-*` headers.
/// Both are optional on a direct (peer-to-peer) connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Routing {
    pub from: Option<PartyId>,
    pub to: Option<PartyId>,
}

impl Routing {
    /// Reads the headers through `header` (a case-insensitive lookup by name).
    pub fn from_headers<'a>(
        header: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Self, RoutingError> {
        let pair =
            |country: &'static str, party: &'static str| -> Result<Option<PartyId>, RoutingError> {
                match (header(country), header(party)) {
                    (Some(c), Some(p)) => Ok(Some(PartyId::new(c.trim(), p.trim()))),
                    (None, None) => Ok(None),
                    (Some(_), None) => Err(RoutingError::HalfPair {
                        present: country,
                        missing: party,
                    }),
                    (None, Some(_)) => Err(RoutingError::HalfPair {
                        present: party,
                        missing: country,
                    }),
                }
            };
        Ok(Routing {
            from: pair(OCPI_FROM_COUNTRY_CODE, OCPI_FROM_PARTY_ID)?,
            to: pair(OCPI_TO_COUNTRY_CODE, OCPI_TO_PARTY_ID)?,
        })
    }

    /// The headers to send.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(from) = &self.from {
            out.push((OCPI_FROM_COUNTRY_CODE, from.country_code.clone()));
            out.push((OCPI_FROM_PARTY_ID, from.party_id.clone()));
        }
        if let Some(to) = &self.to {
            out.push((OCPI_TO_COUNTRY_CODE, to.country_code.clone()));
            out.push((OCPI_TO_PARTY_ID, to.party_id.clone()));
        }
        out
    }

    /// The routing of the answer: from and to swapped.
    pub fn reply(&self) -> Routing {
        Routing {
            from: self.to.clone(),
            to: self.from.clone(),
        }
    }
}

/// `X-Request-ID` and `X-Correlation-ID` of a request; the response repeats both.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestIds {
    pub request_id: Option<String>,
    pub correlation_id: Option<String>,
}

impl RequestIds {
    pub fn from_headers<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Self {
        let read = |name| {
            header(name)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        RequestIds {
            request_id: read(X_REQUEST_ID),
            correlation_id: read(X_CORRELATION_ID),
        }
    }

    /// The headers for the response (or for a request built with these ids).
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(id) = &self.request_id {
            out.push((X_REQUEST_ID, id.clone()));
        }
        if let Some(id) = &self.correlation_id {
            out.push((X_CORRELATION_ID, id.clone()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        crate::datetime::parse(text).unwrap()
    }

    #[test]
    fn status_codes_class_and_http() {
        assert_eq!(
            StatusCode::UNKNOWN_LOCATION.class(),
            StatusClass::ClientError
        );
        assert_eq!(
            StatusCode::NO_MATCHING_ENDPOINTS.class(),
            StatusClass::ServerError
        );
        assert_eq!(
            StatusCode::CONNECTION_PROBLEM.class(),
            StatusClass::HubError
        );
        assert_eq!(StatusCode(999).class(), StatusClass::Unknown);
        assert!(StatusCode(2901).is_custom() && !StatusCode::UNKNOWN_TOKEN.is_custom());
        assert_eq!(StatusCode::UNKNOWN_TOKEN.http_status(), 200);
        assert_eq!(HttpReply::Created.http_status(), 201);
        assert_eq!(
            HttpReply::NotFound(StatusCode::UNKNOWN_LOCATION).http_status(),
            404
        );
        assert_eq!(
            HttpReply::NotFound(StatusCode::UNKNOWN_LOCATION).status_code(),
            Some(StatusCode(2003))
        );
        assert_eq!(HttpReply::Unauthorized.http_status(), 401);
    }

    #[test]
    fn envelope_shape() {
        let reply = Response::success(vec![1], at("2015-06-30T21:59:59Z"));
        assert_eq!(
            serde_json::to_value(&reply).unwrap(),
            serde_json::json!({"data": [1], "status_code": 1000, "timestamp": "2015-06-30T21:59:59Z"})
        );
        let error: Response<()> = Response::error(
            StatusCode::UNKNOWN_TOKEN,
            "no such token",
            at("2015-06-30T21:59:59Z"),
        );
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["status_code"], 2004);
        assert!(json.get("data").is_none());
    }

    #[test]
    fn token_header_base64_and_raw() {
        let token = "ebf3b399-779f-4497-9b9d-ac6ad3cc44d2";
        let header = authorization_header(token, &Version::V2_2_1);
        assert_eq!(
            header,
            "Token ZWJmM2IzOTktNzc5Zi00NDk3LTliOWQtYWM2YWQzY2M0NGQy"
        );
        let received = ReceivedToken::from_header(Some(&header)).unwrap();
        assert!(received.matches(token));
        assert!(!received.matches("ebf3b399-779f-4497-9b9d-ac6ad3cc44d3"));
        // A 2.1.1-style raw token is still recognised.
        let raw = ReceivedToken::from_header(Some(&format!("token  {token} "))).unwrap();
        assert!(raw.matches(token));
        assert_eq!(
            authorization_header(token, &Version::V2_1_1),
            format!("Token {token}")
        );
        assert_eq!(ReceivedToken::from_header(None), Err(AuthError::Missing));
        assert_eq!(
            ReceivedToken::from_header(Some("Bearer abc")),
            Err(AuthError::NotTokenScheme)
        );
        assert_eq!(
            ReceivedToken::from_header(Some("Token ")),
            Err(AuthError::Empty)
        );
    }

    #[test]
    fn date_filter_from_inclusive_to_exclusive() {
        let filter = DateFilter {
            from: Some(at("2016-01-01T00:00:00Z")),
            to: Some(at("2016-02-01T00:00:00Z")),
        };
        assert!(filter.contains(at("2016-01-01T00:00:00Z")));
        assert!(filter.contains(at("2016-01-31T23:59:59Z")));
        assert!(!filter.contains(at("2016-02-01T00:00:00Z")));
        assert!(!filter.contains(at("2015-12-31T23:59:59Z")));
        assert!(DateFilter::default().contains(at("2000-01-01T00:00:00Z")));
    }

    #[test]
    fn pagination_headers_follow_the_spec_example() {
        let query = ListQuery::from_pairs([
            ("date_from", "2016-01-01T00:00:00Z"),
            ("date_to", "2016-12-31T23:59:59Z"),
            ("limit", "2000"),
        ])
        .unwrap();
        let page = query.page(100);
        assert_eq!(page.limit, 100);
        assert_eq!(page.range(1000), 0..100);
        let headers = page.headers("https://www.server.com/ocpi/cpo/2.2/cdrs/", &query, 1000);
        assert_eq!(headers[0], (X_TOTAL_COUNT, "1000".to_owned()));
        assert_eq!(headers[1], (X_LIMIT, "100".to_owned()));
        assert_eq!(
            headers[2].1,
            "<https://www.server.com/ocpi/cpo/2.2/cdrs/?offset=100&limit=100&date_from=2016-01-01T00:00:00Z&date_to=2016-12-31T23:59:59Z>; rel=\"next\""
        );
        assert_eq!(
            next_link(&headers[2].1),
            Some("https://www.server.com/ocpi/cpo/2.2/cdrs/?offset=100&limit=100&date_from=2016-01-01T00:00:00Z&date_to=2016-12-31T23:59:59Z")
        );
        // Last page: no Link, X-Limit still the server's maximum.
        let last = ListQuery {
            offset: 950,
            limit: Some(50),
            ..Default::default()
        }
        .page(100);
        assert_eq!(last.range(1000), 950..1000);
        let headers = last.headers("https://x/cdrs", &query, 1000);
        assert_eq!(headers.len(), 2);
        assert_eq!(headers[1], (X_LIMIT, "100".to_owned()));
        assert_eq!(last.range(10), 10..10);
    }

    #[test]
    fn bad_query_is_2001() {
        let error = ListQuery::from_pairs([("offset", "-1")]).unwrap_err();
        assert_eq!(error.status_code(), StatusCode(2001));
        assert!(ListQuery::from_pairs([("date_from", "yesterday")]).is_err());
        assert_eq!(
            DateFilter::default().require_from(),
            Err(QueryError::DateFromRequired)
        );
    }

    #[test]
    fn routing_and_request_ids() {
        let headers = [
            ("ocpi-from-country-code", "NL"),
            ("ocpi-from-party-id", "EXA"),
            ("ocpi-to-country-code", "DE"),
            ("ocpi-to-party-id", "TNM"),
            ("x-request-id", "r1"),
            ("x-correlation-id", "c1"),
        ];
        let lookup = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        };
        let routing = Routing::from_headers(lookup).unwrap();
        assert_eq!(routing.from, Some(PartyId::new("NL", "EXA")));
        assert_eq!(routing.reply().to, Some(PartyId::new("NL", "EXA")));
        let ids = RequestIds::from_headers(lookup);
        assert_eq!(
            ids.headers(),
            vec![
                (X_REQUEST_ID, "r1".to_owned()),
                (X_CORRELATION_ID, "c1".to_owned())
            ]
        );
        let half = |name: &str| (name == OCPI_TO_PARTY_ID).then_some("TNM");
        assert!(Routing::from_headers(half).is_err());
        assert!(next_link("<https://a/b>; rel=\"prev\"").is_none());
    }
}
