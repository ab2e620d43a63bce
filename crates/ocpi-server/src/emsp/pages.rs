//! Reading a partner's paged Sender list (OCPI 2.2.1 §4.1.3 pagination), for [`super::sync`]:
//! one GET per page with our token, the objects kept as their own JSON text, and the rule for
//! the next page — the `Link: <…>; rel="next"` URL, only on the endpoint's own origin (a link
//! elsewhere would carry our token there); without a Link, the next offset while
//! `X-Total-Count` says there is more, with the server's `X-Limit`.

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use unicharge_ocpi::transport::{self, authorization_header};
use unicharge_ocpi::Version;
use unicharge_store::ocpi::Partner;

use crate::reply::bounded;
use crate::Ocpi;

/// One page of a Sender GET.
pub(super) struct PageOf {
    pub items: Vec<Box<RawValue>>,
    pub next: Option<String>,
    pub total: Option<u64>,
    pub limit: Option<u64>,
}

pub(super) fn query_url(
    endpoint: &str,
    offset: u64,
    limit: u64,
    date_from: Option<DateTime<Utc>>,
) -> String {
    let mut url = format!("{endpoint}?offset={offset}&limit={limit}");
    if let Some(from) = date_from {
        url.push_str("&date_from=");
        url.push_str(&unicharge_ocpi::datetime::format(&from).replace('+', "%2B"));
    }
    url
}

/// The URL of the page after `page`, having read `read` objects in all: the `Link` (on the
/// endpoint's origin only), else the next offset when `X-Total-Count` says there is more.
pub(super) fn next_url(
    endpoint: &str,
    page: &PageOf,
    read: u64,
    limit: u64,
    date_from: Option<DateTime<Utc>>,
) -> Result<Option<String>, String> {
    match &page.next {
        Some(next) if same_origin(next, endpoint) => Ok(Some(next.clone())),
        Some(next) => Err(format!(
            "the next page {} is not on the endpoint's host: not followed",
            bounded(next)
        )),
        None => Ok(page
            .total
            .filter(|total| !page.items.is_empty() && read < *total)
            .map(|_| query_url(endpoint, read, page.limit.unwrap_or(limit), date_from))),
    }
}

/// Same scheme, host and port: a Link elsewhere would get our token.
fn same_origin(a: &str, b: &str) -> bool {
    match (reqwest::Url::parse(a), reqwest::Url::parse(b)) {
        (Ok(a), Ok(b)) => {
            a.scheme() == b.scheme()
                && a.host_str() == b.host_str()
                && a.port_or_known_default() == b.port_or_known_default()
        }
        _ => false,
    }
}

pub(super) async fn get_page(
    ocpi: &Ocpi,
    partner: &Partner,
    url: &str,
    token: &str,
    version: &Version,
) -> Result<PageOf, String> {
    let request_id = crate::secrets::new_token()[..16].to_string();
    let response = ocpi
        .http()
        .get(url)
        .header("Authorization", authorization_header(token, version))
        .header(transport::X_REQUEST_ID, &request_id)
        .header(transport::X_CORRELATION_ID, &request_id)
        .send()
        .await
        .map_err(|e| format!("cannot reach {url}: {e}"))?;
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let next = header(transport::LINK).and_then(|l| transport::next_link(&l).map(str::to_string));
    let total = header(transport::X_TOTAL_COUNT).and_then(|v| v.trim().parse().ok());
    let limit = header(transport::X_LIMIT).and_then(|v| v.trim().parse().ok());
    let headers = response.headers().clone();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("cannot read {url}: {e}"))?;
    if !(200..300).contains(&status) {
        return Err(format!("{url} answered HTTP {status}"));
    }
    // A partner that signs signs its pages too: an altered page is not stored (B8.5). The
    // octets as received are checked, before any decoding.
    crate::signing::check_response(ocpi, partner, url, &headers, &bytes)
        .await
        .map_err(|e| format!("{url}: page refused: {e}"))?;
    let text =
        String::from_utf8(bytes.to_vec()).map_err(|_| format!("{url}: the page is not UTF-8"))?;
    let envelope: transport::Response<Vec<Box<RawValue>>> = serde_json::from_str(&text)
        .map_err(|e| format!("{url}: not an OCPI list: {}", bounded(&e.to_string())))?;
    if !envelope.status_code.is_success() {
        return Err(format!(
            "{url} answered OCPI status {}: {}",
            envelope.status_code,
            bounded(&envelope.status_message.unwrap_or_default())
        ));
    }
    Ok(PageOf {
        items: envelope.data.unwrap_or_default(),
        next,
        total,
        limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn links_to_another_origin_are_not_followed() {
        let endpoint = "https://cpo.example.com/ocpi/2.2.1/locations";
        assert!(same_origin(
            "https://cpo.example.com:443/ocpi/2.2.1/locations?offset=2&limit=2",
            endpoint
        ));
        assert!(!same_origin(
            "https://evil.example.com/ocpi/2.2.1/locations?offset=2",
            endpoint
        ));
        assert!(!same_origin(
            "http://cpo.example.com/ocpi/2.2.1/locations",
            endpoint
        ));
        assert!(!same_origin("not a url", endpoint));
    }

    fn page(n: usize, next: Option<&str>, total: Option<u64>, limit: Option<u64>) -> PageOf {
        PageOf {
            items: (0..n)
                .map(|_| RawValue::from_string("{}".into()).unwrap())
                .collect(),
            next: next.map(str::to_string),
            total,
            limit,
        }
    }

    #[test]
    fn the_next_page_is_the_link_else_the_next_offset_while_the_total_says_more() {
        let e = "http://cpo/ocpi/2.2.1/locations";
        let link = "http://cpo/ocpi/2.2.1/locations?offset=2&limit=2";
        assert_eq!(
            next_url(e, &page(2, Some(link), Some(3), Some(2)), 2, 100, None),
            Ok(Some(link.to_string()))
        );
        assert!(next_url(
            e,
            &page(2, Some("http://elsewhere/x"), None, None),
            2,
            100,
            None
        )
        .is_err());
        // No Link: X-Total-Count and X-Limit give the next request.
        assert_eq!(
            next_url(e, &page(2, None, Some(5), Some(2)), 4, 100, None),
            Ok(Some(format!("{e}?offset=4&limit=2")))
        );
        assert_eq!(
            next_url(e, &page(1, None, Some(5), Some(2)), 5, 100, None),
            Ok(None)
        );
        assert_eq!(
            next_url(e, &page(0, None, Some(5), None), 3, 100, None),
            Ok(None),
            "an empty page ends"
        );
        assert_eq!(
            next_url(e, &page(2, None, None, None), 2, 100, None),
            Ok(None)
        );
    }

    #[test]
    fn the_query_carries_offset_limit_and_date_from() {
        let from = Utc.with_ymd_and_hms(2026, 12, 6, 10, 0, 0).unwrap();
        assert_eq!(
            query_url("http://h/l", 4, 2, Some(from)),
            "http://h/l?offset=4&limit=2&date_from=2026-12-06T10:00:00Z"
        );
        assert_eq!(
            query_url("http://h/l", 0, 5, None),
            "http://h/l?offset=0&limit=5"
        );
    }
}
