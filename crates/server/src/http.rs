//! The HTTP port: the operator REST API under `/api/v1` (OpenAPI at `/api/v1/openapi.json`,
//! Swagger UI at `/api/v1/docs`), `/metrics` (Prometheus text) and `/health`.

use std::net::SocketAddr;

use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

pub async fn serve(
    addr: SocketAddr,
    metrics: PrometheusHandle,
    api: Router,
) -> anyhow::Result<SocketAddr> {
    let app = api
        .route("/metrics", get(move || async move { metrics.render() }))
        .route("/health", get(|| async { "ok\n" }));
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
