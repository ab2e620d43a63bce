//! The OCPP front door: accept TCP, optionally TLS, then the HTTP upgrade, then hand the
//! WebSocket to its connection task.
//!
//! Every refusal is logged with the station id and the reason, and answered the way OCPP asks
//! (a failed TLS handshake simply ends; a refused upgrade gets its HTTP status).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use openssl::ssl::{Ssl, SslAcceptor};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::OwnedSemaphorePermit;
use tokio_openssl::SslStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;
use unicharge_ocpp::peer_text::Bounded;

use crate::connection::{ConnectionSettings, Registration};
use crate::csms::Shared;
use crate::dispatch::StationContext;
use crate::handshake;
use crate::security::admission::{admit, Presented};
use crate::security::guard::Guarded;
use crate::security::tls::peer_certificate_common_name;

/// Accept plain-WebSocket connections (security profile 1) until the task is aborted.
pub async fn serve_ws(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((tcp, peer)) => {
                let shared = shared.clone();
                let slot = shared.guard.connection_slot();
                tokio::spawn(async move {
                    let _ = tcp.set_nodelay(true);
                    upgrade(tcp, peer, None, slot, shared).await;
                });
            }
            Err(e) => accept_error(e).await,
        }
    }
}

/// Accept TLS WebSocket connections (security profiles 2 and 3) until the task is aborted.
pub async fn serve_wss(listener: TcpListener, acceptor: Arc<SslAcceptor>, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((tcp, peer)) => {
                let shared = shared.clone();
                let acceptor = acceptor.clone();
                let slot = shared.guard.connection_slot();
                tokio::spawn(async move {
                    let _ = tcp.set_nodelay(true);
                    match tls_handshake(tcp, &acceptor, &shared).await {
                        Ok(stream) => {
                            let cn = peer_certificate_common_name(stream.ssl());
                            upgrade(stream, peer, Some(cn), slot, shared).await;
                        }
                        Err(reason) => {
                            metrics::counter!("ocpp_tls_handshake_failures_total").increment(1);
                            tracing::info!(%peer, "TLS handshake refused: {}", Bounded(&reason));
                        }
                    }
                });
            }
            Err(e) => accept_error(e).await,
        }
    }
}

async fn tls_handshake(
    tcp: TcpStream,
    acceptor: &SslAcceptor,
    shared: &Shared,
) -> Result<SslStream<TcpStream>, String> {
    let ssl = Ssl::new(acceptor.context()).map_err(|e| e.to_string())?;
    let mut stream = SslStream::new(ssl, tcp).map_err(|e| e.to_string())?;
    match tokio::time::timeout(
        shared.config.handshake_timeout,
        Pin::new(&mut stream).accept(),
    )
    .await
    {
        Ok(Ok(())) => Ok(stream),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("TLS handshake not completed in time".into()),
    }
}

/// Too many open files and the like: log and back off briefly instead of spinning.
async fn accept_error(e: std::io::Error) {
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
}

/// The HTTP upgrade and admission. `tls` is `Some(client certificate CN)` on wss.
/// `connection_slot` is this connection's place under `max_connections` (`None`: none was free,
/// the upgrade is answered 503 once its request has been read).
async fn upgrade<S>(
    mut stream: S,
    peer: SocketAddr,
    tls: Option<Option<String>>,
    connection_slot: Option<OwnedSemaphorePermit>,
    shared: Arc<Shared>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let config = &shared.config;
    let request =
        match handshake::read_request(&mut stream, &config.path_prefix, config.handshake_timeout)
            .await
        {
            Ok(request) => request,
            Err(refusal) => {
                tracing::info!(%peer, "upgrade refused: {refusal}");
                handshake::refuse(&mut stream, &refusal).await;
                return;
            }
        };
    let Some(connection_slot) = connection_slot else {
        let refusal = handshake::Refusal::new(
            503,
            format!(
                "the CSMS holds its maximum of {} connections; retry later",
                shared.guard.max_connections()
            ),
        );
        metrics::counter!("ocpp_connections_refused_total", "status" => "503").increment(1);
        tracing::warn!(station = %Bounded(&request.station_id), %peer, "connection refused: {refusal}");
        handshake::refuse(&mut stream, &refusal).await;
        return;
    };
    let presented = Presented {
        tls: tls.is_some(),
        certificate_cn: tls.flatten(),
        basic: request.basic.clone(),
        address: peer.ip(),
    };
    let admitted = match admit(
        &shared.store,
        &shared.guard,
        config.unknown_stations,
        &request.station_id,
        presented,
    )
    .await
    {
        Ok(admitted) => admitted,
        Err(refusal) => {
            metrics::counter!("ocpp_connections_refused_total", "status" => refusal.status.to_string())
                .increment(1);
            tracing::warn!(station = %Bounded(&request.station_id), %peer, "connection refused: {refusal}");
            handshake::refuse(&mut stream, &refusal).await;
            return;
        }
    };
    // An unknown station held only to be answered Rejected takes one of a bounded number of
    // slots, released when its connection ends (the slot lives in the stream).
    let slot = if admitted.registered {
        None
    } else {
        match shared.guard.unregistered_slot() {
            Some(slot) => Some(slot),
            None => {
                let refusal =
                    handshake::Refusal::new(503, "too many unregistered stations connected");
                metrics::counter!("ocpp_connections_refused_total", "status" => "503").increment(1);
                tracing::warn!(station = %request.station_id, %peer, "connection refused: {refusal}");
                handshake::refuse(&mut stream, &refusal).await;
                return;
            }
        }
    };
    let station = admitted.station;
    let mut request = request;
    request.version = handshake::prefer(&request, station.preferred_ocpp_version.as_deref());
    let csms = crate::Csms::from_shared(shared.clone());
    if admitted.registered {
        // A05: a pending profile upgrade takes effect once the station connected at it.
        crate::security::profile_upgrade::apply_on_connect(
            &csms,
            &station.id,
            station.pending_security_profile,
            admitted.profile,
        )
        .await;
    }
    let registration = Registration::new(
        station.id.clone(),
        admitted.profile,
        request.version,
        shared.registry.clone(),
    );
    if let Err(e) = handshake::accept(&mut stream, &request.key, request.version).await {
        tracing::info!(station = %station.id, %peer, "upgrade failed: {e}");
        registration.abandon();
        return;
    }
    let ws_config = WebSocketConfig::default()
        // tungstenite reserves 128 KiB per connection by default. The buffer is allocated (and
        // zeroed) for the connection's life and grows only for a larger frame, so its size is
        // most of an idle station's cost: 1 KiB holds a Heartbeat or StatusNotification whole;
        // a TransactionEvent with meter values (~1.5 KiB) takes a second read (measured in
        // docs/benchmarks.md: ≈ 3 KB per idle station saved against 4 KiB).
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .max_write_buffer_size(config.max_message_size * 2)
        .max_message_size(Some(config.max_message_size))
        .max_frame_size(Some(config.max_message_size));
    let ws = WebSocketStream::from_partially_read(
        Guarded::new(stream, slot).holding(Some(connection_slot)),
        request.leftover,
        Role::Server,
        Some(ws_config),
    )
    .await;
    tracing::info!(station = %station.id, %peer, profile = %admitted.profile,
        ocpp = %request.version, "connected");
    let ctx = StationContext {
        station_id: station.id.clone(),
        store: shared.store.clone(),
        config: shared.config.clone(),
        boot_status: station.last_boot_status,
        registered: admitted.registered,
        ca: shared.ca.clone(),
        connection: Some(registration.handle()),
        csms,
        solicited: Default::default(),
        status_check_scheduled: false,
        version: request.version,
    };
    registration.start(
        ws,
        ctx,
        ConnectionSettings {
            ping_interval: config.ping_interval,
            call_timeout: config.call_timeout,
            max_queued_calls: config.max_queued_calls,
            unregistered_boot_timeout: config.unregistered_boot_timeout,
        },
    );
}
