//! Calls to a partner's endpoints: the `Authorization: Token` header (Base64 for 2.2.x), a
//! fresh `X-Request-ID`, the body signed (B8.5, [`crate::signing`]), the envelope read back and
//! its status code checked.

use serde::de::DeserializeOwned;
use serde::Serialize;
use unicharge_ocpi::transport::{self, authorization_header, Routing, StatusCode};
use unicharge_ocpi::Version;

/// Why a call to a partner gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach {url}: {source}")]
    Unreachable { url: String, source: reqwest::Error },
    #[error("{url} answered HTTP {status}")]
    Http {
        url: String,
        status: u16,
        /// The OCPI status code of the envelope that came with it, if any (a 404 carries
        /// 2003 for an unknown location).
        code: Option<StatusCode>,
    },
    #[error(
        "{url} answered something that is not an OCPI envelope of the expected data: {detail}"
    )]
    Malformed { url: String, detail: String },
    #[error("{url} answered OCPI status {code}: {message}")]
    Status {
        url: String,
        code: StatusCode,
        message: String,
    },
}

pub async fn call<T: DeserializeOwned, B: Serialize>(
    ocpi: &crate::Ocpi,
    method: reqwest::Method,
    url: &str,
    token: &str,
    version: &Version,
    body: Option<&B>,
) -> Result<T, ClientError> {
    let request_id = crate::secrets::new_token()[..16].to_string();
    let to = Addressed {
        routing: &Routing::default(),
        correlation_id: &request_id,
        partner: None,
    };
    call_addressed(ocpi, method, url, token, version, body, &to).await
}

/// Who a call is from and to, and the conversation it belongs to.
pub struct Addressed<'a> {
    /// `OCPI-from-*` / `OCPI-to-*` (none on a plain peer-to-peer call).
    pub routing: &'a Routing,
    /// `X-Correlation-ID`: the same on every retry of one push, so the partner can tie them.
    pub correlation_id: &'a str,
    /// The partner called, when the caller has it at hand: the signature's target is then
    /// found among its endpoints without reading the partner list (the outbox's every push).
    pub partner: Option<&'a unicharge_store::ocpi::Partner>,
}

/// [`call`] with routing headers and a given correlation id; `X-Request-ID` is fresh per call.
pub async fn call_addressed<T: DeserializeOwned, B: Serialize>(
    ocpi: &crate::Ocpi,
    method: reqwest::Method,
    url: &str,
    token: &str,
    version: &Version,
    body: Option<&B>,
    to: &Addressed<'_>,
) -> Result<T, ClientError> {
    let request_id = crate::secrets::new_token()[..16].to_string();
    let mut request = ocpi
        .http()
        .request(method.clone(), url)
        .header("Authorization", authorization_header(token, version))
        .header(transport::X_REQUEST_ID, &request_id)
        .header(transport::X_CORRELATION_ID, to.correlation_id);
    for (name, value) in to.routing.headers() {
        request = request.header(name, value);
    }
    if let Some(body) = body {
        // Serialised here (not by `.json`) so that the signature covers the very octets sent
        // (B8.5): every body is signed, bound to this method and target; a partner that does
        // not check ignores the header.
        let target = match to.partner {
            Some(partner) => crate::signing::target_at(partner, url),
            None => crate::signing::target_of(ocpi, url).await,
        };
        let binding = unicharge_ocpi::signing::Binding::new(method.as_str(), target);
        let bytes = serde_json::to_vec(body).map_err(|e| ClientError::Malformed {
            url: url.to_string(),
            detail: format!("cannot write the request body: {e}"),
        })?;
        request = request
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                unicharge_ocpi::signing::HEADER,
                ocpi.signatures().sign(&bytes, &binding),
            )
            .body(bytes);
    }
    let response = request
        .send()
        .await
        .map_err(|source| ClientError::Unreachable {
            url: url.to_string(),
            source,
        })?;
    let status = response.status().as_u16();
    let text = response
        .text()
        .await
        .map_err(|source| ClientError::Unreachable {
            url: url.to_string(),
            source,
        })?;
    if !(200..300).contains(&status) {
        let code = serde_json::from_str::<transport::Response<serde::de::IgnoredAny>>(&text)
            .ok()
            .map(|e| e.status_code);
        return Err(ClientError::Http {
            url: url.to_string(),
            status,
            code,
        });
    }
    // `data` is kept as its raw text and read from it: through a `serde_json::Value` a number
    // would pass through an f64, and exact amounts (ADR 0032) would lose their scale.
    let envelope: transport::Response<Box<serde_json::value::RawValue>> =
        serde_json::from_str(&text).map_err(|e| ClientError::Malformed {
            url: url.to_string(),
            detail: crate::reply::bounded(&e.to_string()),
        })?;
    if !envelope.status_code.is_success() {
        return Err(ClientError::Status {
            url: url.to_string(),
            code: envelope.status_code,
            message: crate::reply::bounded(&envelope.status_message.unwrap_or_default()),
        });
    }
    let data = envelope.data.as_deref().map_or("null", |raw| raw.get());
    serde_json::from_str(data).map_err(|e| ClientError::Malformed {
        url: url.to_string(),
        detail: crate::reply::bounded(&e.to_string()),
    })
}
