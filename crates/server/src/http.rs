//! The HTTP port: the operator REST API under `/api/v1` (OpenAPI at `/api/v1/openapi.json`,
//! Swagger UI at `/api/v1/docs`), `/metrics` (Prometheus text) and `/health`.
//!
//! Every route runs behind [`catch_panics`]: a handler that panics (a bug, or input nobody
//! foresaw) answers 500 with the API's JSON error body instead of dropping the connection, and
//! the panic is logged.

use std::any::Any;
use std::net::SocketAddr;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use unicharge_api::error::ApiError;
use unicharge_ocpp::peer_text::Bounded;

pub async fn serve(
    addr: SocketAddr,
    metrics: PrometheusHandle,
    api: Router,
) -> anyhow::Result<SocketAddr> {
    let app = api
        .route("/metrics", get(move || async move { metrics.render() }))
        .route("/health", get(|| async { "ok\n" }));
    let app = catch_panics(app);
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!("cannot listen for HTTP on {addr}: {e} (set [http] listen, \"\" disables)")
    })?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "HTTP server stopped");
        }
    });
    Ok(bound)
}

/// Answer a panicking request with 500 and `{"error":"internal","message":…}` (the panic
/// message goes to the log only, bounded: it may quote request data).
pub fn catch_panics(router: Router) -> Router {
    router.layer(CatchPanicLayer::custom(panic_response))
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = %Bounded(message), "HTTP handler panicked; answered 500");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error; see the server log",
    )
    .into_response()
}

/// Install the process-wide Prometheus recorder once; later calls return the same handle.
pub fn metrics_handle() -> PrometheusHandle {
    use std::sync::OnceLock;
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (tests embedding several servers).
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_500_with_the_api_error_body() {
        let api = Router::new().route(
            "/boom",
            get(|| async {
                let empty: Vec<u8> = Vec::new();
                empty[3].to_string() // index out of bounds, as a careless handler would
            }),
        );
        let addr = serve("127.0.0.1:0".parse().unwrap(), metrics_handle(), api)
            .await
            .unwrap();
        let client = reqwest::Client::new();
        let response = client
            .get(format!("http://{addr}/boom"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 500);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "internal");
        assert!(body["message"].is_string());
        // The server is still there.
        let health = client
            .get(format!("http://{addr}/health"))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
    }
}
