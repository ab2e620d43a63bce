//! The two bearers (ISO 17575-2 leaves the bearer open; see `docs/efc-transport.md`).
//!
//! Both carry one *frame* per ADU: an ADU-kind octet ([`unicharge_efc::adu::AduKind`]) followed
//! by the UPER encoding.
//!
//! - **TCP**: each frame is preceded by its length as a 4-octet big-endian unsigned integer.
//!   Frames on one connection are answered in order. A malformed frame gets an error frame
//!   (kind 0xFF + UTF-8 reason) and the connection stays open; a length above `max_frame` gets
//!   an error frame, its octets are skipped, and the connection stays open (a length above
//!   16 MiB closes it: the stream cannot be trusted to resynchronise).
//! - **HTTP/1.1**: `POST /efc/adu` with `Content-Type: application/octet-stream`, one frame per
//!   request; the answer frame comes back as `200` (or `400` for an error frame), keep-alive.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::Backend;

/// A hard ceiling on a declared TCP frame length we are willing to skip over.
const SKIP_LIMIT: u32 = 16 * 1024 * 1024;

/// Listeners started by [`start`].
pub struct Listeners {
    pub tcp_addr: Option<SocketAddr>,
    pub http_addr: Option<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl Listeners {
    pub fn shutdown(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

/// Bind and serve the configured listeners.
pub async fn start(
    backend: Backend,
    tcp: Option<SocketAddr>,
    http: Option<SocketAddr>,
    max_frame: u32,
) -> anyhow::Result<Listeners> {
    let mut tasks = Vec::new();
    let tcp_addr = match tcp {
        Some(addr) => {
            let listener = TcpListener::bind(addr).await.map_err(|e| {
                anyhow::anyhow!("EFC TCP listener {addr}: {e} (set efc.tcp_listen, \"\" disables)")
            })?;
            let local = listener.local_addr()?;
            let b = backend.clone();
            tasks.push(tokio::spawn(serve_tcp(listener, b, max_frame)));
            Some(local)
        }
        None => None,
    };
    let http_addr = match http {
        Some(addr) => {
            let listener = TcpListener::bind(addr).await.map_err(|e| {
                anyhow::anyhow!(
                    "EFC HTTP listener {addr}: {e} (set efc.http_listen, \"\" disables)"
                )
            })?;
            let local = listener.local_addr()?;
            let app = router(backend.clone());
            tasks.push(tokio::spawn(async move {
                let _ = axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .await;
            }));
            Some(local)
        }
        None => None,
    };
    Ok(Listeners {
        tcp_addr,
        http_addr,
        tasks,
    })
}

async fn serve_tcp(listener: TcpListener, backend: Backend, max_frame: u32) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let b = backend.clone();
                tokio::spawn(async move {
                    if let Err(e) = connection(stream, peer, b, max_frame).await {
                        tracing::debug!(%peer, error = %e, "EFC TCP connection ended");
                    }
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "EFC TCP accept failed");
                tokio::task::yield_now().await;
            }
        }
    }
}

async fn write_frame(stream: &mut TcpStream, frame: &[u8]) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(frame.len() + 4);
    out.extend_from_slice(&(frame.len() as u32).to_be_bytes());
    out.extend_from_slice(frame);
    stream.write_all(&out).await
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    backend: Backend,
    max_frame: u32,
) -> std::io::Result<()> {
    let peer_text = peer.to_string();
    tracing::debug!(peer = %peer_text, "EFC TCP connection");
    let mut buf = Vec::new();
    loop {
        let mut len = [0u8; 4];
        match stream.read_exact(&mut len).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        let len = u32::from_be_bytes(len);
        if len > max_frame {
            tracing::warn!(peer = %peer_text, len, max_frame, "EFC frame too long");
            let answer = unicharge_efc::adu::Adu::Error(format!(
                "frame of {len} octets is longer than the {max_frame} accepted"
            ))
            .to_frame()
            .unwrap_or_default();
            if len > SKIP_LIMIT {
                write_frame(&mut stream, &answer).await?;
                return Ok(());
            }
            let mut left = u64::from(len);
            let mut sink = [0u8; 8192];
            while left > 0 {
                let n = stream.read(&mut sink[..left.min(8192) as usize]).await?;
                if n == 0 {
                    return Ok(());
                }
                left -= n as u64;
            }
            write_frame(&mut stream, &answer).await?;
            continue;
        }
        buf.resize(len as usize, 0);
        stream.read_exact(&mut buf).await?;
        let answer = backend.handle_frame(&buf, &peer_text).await;
        write_frame(&mut stream, &answer).await?;
    }
}

/// `POST /efc/adu`.
pub fn router(backend: Backend) -> Router {
    Router::new()
        .route("/efc/adu", post(post_adu))
        .with_state(backend)
}

async fn post_adu(
    State(backend): State<Backend>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> impl IntoResponse {
    let answer = backend.handle_frame(&body, &peer.to_string()).await;
    let status = if answer.first() == Some(&(unicharge_efc::adu::AduKind::Error as u8)) {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/octet-stream")],
        answer,
    )
}
