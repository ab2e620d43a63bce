//! API errors: an HTTP status and a JSON body `{ "error": code, "message": text, … }` whose
//! message names the fix where there is one.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Machine-readable code, e.g. `station_not_connected`.
    pub error: String,
    /// What happened and, where possible, what to do.
    pub message: String,
    /// More detail: the schema path of an invalid request, a station's CALLERROR, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                error: error.into(),
                message: message.into(),
                detail: None,
            },
        }
    }

    pub fn with_detail(mut self, detail: Value) -> Self {
        self.body.detail = Some(detail);
        self
    }

    pub fn bad_request(error: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, message)
    }

    pub fn not_found(error: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, error, message)
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "API request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the server log",
        )
    }
}

impl From<unicharge_store::StoreError> for ApiError {
    fn from(e: unicharge_store::StoreError) -> Self {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"unicharge\""),
            );
        }
        response
    }
}

/// `Json<T>` whose rejections (not JSON, wrong content type, unknown or missing fields) are
/// answered with the API's error body instead of axum's plain text.
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match <Json<T> as axum::extract::FromRequest<S>>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            // A missing `Content-Type: application/json` keeps its 415; every other body problem
            // (not JSON, wrong shape, unknown field) is a plain 400, like schema violations.
            Err(rejection) => Err(ApiError::new(
                if rejection.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE
                } else {
                    StatusCode::BAD_REQUEST
                },
                "invalid_body",
                format!(
                    "{} (see /api/v1/docs for the expected body)",
                    rejection.body_text()
                ),
            )),
        }
    }
}

/// The one conversion of an operation's failure into an HTTP answer.
///
/// | failure | status |
/// |---|---|
/// | unknown station, unknown reservation / report | 404 |
/// | input refused, request breaking the schema | 400 |
/// | station not connected | 409 |
/// | station's call queue full, or another node stuck holding the lease the work needs | 503 |
/// | station answered CALLERROR, or an answer breaking the schema | 502 |
/// | no answer in time | 504 |
impl From<unicharge_csms::OpError> for ApiError {
    fn from(e: unicharge_csms::OpError) -> Self {
        use unicharge_csms::OpError as E;
        let message = e.to_string();
        match e {
            E::UnknownStation(_) => ApiError::not_found("unknown_station", message),
            E::NotConnected(_) => ApiError::new(StatusCode::CONFLICT, "station_not_connected", message),
            E::Busy { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "station_busy", message)
            }
            E::Contended { code, .. } => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message),
            E::Timeout { .. } => {
                ApiError::new(StatusCode::GATEWAY_TIMEOUT, "station_timeout", message)
            }
            E::CallError {
                code,
                description,
                details,
                ..
            } => ApiError::new(StatusCode::BAD_GATEWAY, "call_error", message).with_detail(
                serde_json::json!({"code": code.as_str(), "description": description, "details": details}),
            ),
            E::InvalidResponse { .. } => {
                ApiError::new(StatusCode::BAD_GATEWAY, "invalid_response", message)
            }
            E::InvalidRequest { path, code, .. } => {
                ApiError::bad_request("invalid_request", message)
                    .with_detail(serde_json::json!({ "path": path, "code": code.as_str() }))
            }
            E::Refused { code, detail, .. } => {
                let error = ApiError::bad_request(code, message);
                match detail {
                    Some(detail) => error.with_detail(detail),
                    None => error,
                }
            }
            E::NotFound { code, .. } => ApiError::not_found(code, message),
            E::Store(e) => ApiError::internal(e),
        }
    }
}

/// A value of an OCPP type given in a request body (an enum spelled as OCPP spells it, or an
/// OCPP object such as `connectionData`), decoded into the generated type; a 400 that names the
/// field and what it must be otherwise.
pub fn ocpp_value<T: serde::de::DeserializeOwned>(
    field: &str,
    value: Value,
) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| {
        ApiError::bad_request(
            "invalid_request",
            format!("`{field}` is not a valid OCPP 2.0.1 value: {e} (see /api/v1/docs)"),
        )
        .with_detail(serde_json::json!({ "path": format!("/{field}") }))
    })
}

/// [`ocpp_value`] for an enum given as a string.
pub fn ocpp_enum<T: serde::de::DeserializeOwned>(field: &str, value: &str) -> Result<T, ApiError> {
    ocpp_value(field, Value::String(value.to_string()))
}
