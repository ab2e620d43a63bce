//! The tokio task that owns one peer connection: reads frames, feeds the [`Peer`] state
//! machine, writes what it outputs, fires its timer, runs the application handler for each
//! request (concurrently, so a slow durable write does not stall the connection) and delivers
//! answers to the requests the application sent through a [`PeerHandle`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use super::duplicates::{with_hop_by_hop, DuplicateCache, Seen};
use super::state::{Output, Peer, PeerConfig, Role};
use crate::message::{frame_length, Message, DEFAULT_MAX_MESSAGE_LEN};

/// What the application does with requests that reach an open peer.
pub trait RequestHandler: Send + Sync + 'static {
    /// Answers one request. `None`: no answer (the peer will retransmit); the request is not
    /// remembered as answered.
    fn handle(
        &self,
        request: Message,
        peer: PeerHandle,
    ) -> crate::rf::cdf::BoxFuture<'_, Option<Message>>;
}

enum Command {
    Request(Message, oneshot::Sender<Message>),
    Disconnect,
}

/// A handle on an open peer connection, to send requests (ASR, ACR, DWR-independent traffic).
#[derive(Clone)]
pub struct PeerHandle {
    origin_host: Arc<str>,
    tx: mpsc::Sender<Command>,
    /// RFC 3539: the watchdog is not OKAY (a DWR went unanswered for Tw).
    suspect: Arc<std::sync::atomic::AtomicBool>,
}

/// Why a request through a [`PeerHandle`] got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("the peer connection is closed")]
    Closed,
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

impl PeerHandle {
    pub fn origin_host(&self) -> &str {
        &self.origin_host
    }

    /// Sends a request and waits for its answer (matched by hop-by-hop id). Leave the
    /// End-to-End id 0 to have one assigned; set it (and the T flag) to retransmit.
    pub async fn request(
        &self,
        request: Message,
        timeout: Duration,
    ) -> Result<Message, RequestError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::Request(request, tx))
            .await
            .map_err(|_| RequestError::Closed)?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err(RequestError::Closed),
            Err(_) => Err(RequestError::Timeout(timeout)),
        }
    }

    /// Orderly shutdown: DPR, then close on the DPA.
    pub async fn disconnect(&self) {
        let _ = self.tx.send(Command::Disconnect).await;
    }

    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Whether the watchdog currently suspects the peer (traffic should fail over).
    pub fn is_suspect(&self) -> bool {
        self.suspect.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Open peers by Origin-Host, with when each last answered a watchdog.
#[derive(Default)]
pub struct PeerTable {
    peers: Mutex<HashMap<String, PeerHandle>>,
}

impl PeerTable {
    pub fn get(&self, origin_host: &str) -> Option<PeerHandle> {
        self.peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(origin_host)
            .cloned()
    }
    pub fn hosts(&self) -> Vec<String> {
        let mut h: Vec<String> = self
            .peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        h.sort();
        h
    }
    fn insert(&self, handle: PeerHandle) {
        self.peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(handle.origin_host.to_string(), handle);
    }
    fn remove(&self, host: &str, tx: &mpsc::Sender<Command>) {
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        if peers.get(host).is_some_and(|h| h.tx.same_channel(tx)) {
            peers.remove(host);
        }
    }
}

/// Everything a connection task shares with the node.
#[derive(Clone)]
pub struct Shared {
    pub config: PeerConfig,
    pub handler: Arc<dyn RequestHandler>,
    pub table: Arc<PeerTable>,
    pub duplicates: Arc<DuplicateCache>,
}

/// Accepts peers on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, shared: Shared) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                let shared = shared.clone();
                tokio::spawn(async move {
                    run(stream, addr, Role::Responder, shared, None).await;
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "diameter accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Connects to a peer, exchanges capabilities, returns the handle once the connection is open.
pub async fn connect(addr: SocketAddr, shared: Shared) -> Result<PeerHandle, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move { run(stream, addr, Role::Initiator, shared, Some(tx)).await });
    rx.await
        .map_err(|_| format!("{addr}: connection closed before the CEA"))?
}

async fn run(
    stream: TcpStream,
    addr: SocketAddr,
    role: Role,
    shared: Shared,
    mut opened: Option<oneshot::Sender<Result<PeerHandle, String>>>,
) {
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let now = || tokio::time::Instant::now().into_std();
    let mut peer = Peer::new(shared.config.clone(), role, now());
    let (cmd_tx, mut cmd_rx) = mpsc::channel::<Command>(1024);
    let (ans_tx, mut ans_rx) = mpsc::channel::<Vec<u8>>(1024);
    let mut pending: HashMap<u32, oneshot::Sender<Message>> = HashMap::new();
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let mut handle: Option<PeerHandle> = None;
    let mut out: Vec<u8> = Vec::new();
    let mut close_reason: Option<String> = None;
    let suspect = Arc::new(std::sync::atomic::AtomicBool::new(false));

    let mut outputs = peer.start();
    'conn: loop {
        for o in outputs.drain(..) {
            match o {
                Output::Send(bytes) => out.extend_from_slice(&bytes),
                Output::Request(req) => {
                    let host = req.origin_host().unwrap_or_default().to_owned();
                    let (hbh, e2e) = (req.header.hop_by_hop, req.header.end_to_end);
                    match shared.duplicates.check(&host, e2e, now()) {
                        Seen::New => {
                            let Some(h) = handle.clone() else { continue };
                            let shared = shared.clone();
                            let ans_tx = ans_tx.clone();
                            tokio::spawn(async move {
                                match shared.handler.handle(req, h).await {
                                    Some(answer) => {
                                        let bytes = answer.encode();
                                        shared.duplicates.answered(&host, e2e, bytes.clone());
                                        let _ = ans_tx.send(bytes).await;
                                    }
                                    None => shared.duplicates.forget(&host, e2e),
                                }
                            });
                        }
                        Seen::Replay(bytes) => {
                            tracing::info!(peer = %host, end_to_end = e2e, "duplicate request: stored answer replayed");
                            metrics::counter!("diameter_duplicates_replayed_total").increment(1);
                            out.extend_from_slice(&with_hop_by_hop(bytes, hbh));
                        }
                        Seen::InProgress => {
                            tracing::info!(peer = %host, end_to_end = e2e, "duplicate of a request still in progress: dropped");
                        }
                    }
                }
                Output::Answer(ans) => {
                    if let Some(tx) = pending.remove(&ans.header.hop_by_hop) {
                        let _ = tx.send(ans);
                    }
                }
                Output::Opened {
                    origin_host,
                    applications,
                } => {
                    tracing::info!(peer = %origin_host, %addr, ?applications, "diameter peer open");
                    let h = PeerHandle {
                        origin_host: origin_host.into(),
                        tx: cmd_tx.clone(),
                        suspect: suspect.clone(),
                    };
                    shared.table.insert(h.clone());
                    if let Some(tx) = opened.take() {
                        let _ = tx.send(Ok(h.clone()));
                    }
                    handle = Some(h);
                }
                Output::Failover => {
                    tracing::warn!(peer = ?peer.peer_host(), "watchdog: peer suspect (no DWA within Tw)");
                }
                Output::Close(reason) => {
                    close_reason = Some(reason);
                }
            }
        }
        suspect.store(
            peer.watchdog() != super::state::WatchdogState::Okay,
            std::sync::atomic::Ordering::Relaxed,
        );
        if !out.is_empty() {
            if let Err(e) = wr.write_all(&out).await {
                close_reason.get_or_insert(format!("write failed: {e}"));
            }
            out.clear();
        }
        if close_reason.is_some() {
            break 'conn;
        }
        let deadline = peer.next_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            read = rd.read_buf(&mut buf) => {
                match read {
                    Ok(0) => { close_reason = Some("peer closed the connection".into()); }
                    Ok(_) => {
                        let mut start = 0;
                        loop {
                            match frame_length(&buf[start..], DEFAULT_MAX_MESSAGE_LEN) {
                                Ok(Some(len)) if buf.len() - start >= len => {
                                    outputs.extend(peer.on_frame(&buf[start..start + len], now()));
                                    start += len;
                                }
                                Ok(_) => break,
                                Err(e) => {
                                    tracing::warn!(peer = ?peer.peer_host(), %addr, error = %e, "stream cannot be framed: closing");
                                    close_reason = Some(e.to_string());
                                    break;
                                }
                            }
                        }
                        buf.drain(..start);
                    }
                    Err(e) => { close_reason = Some(format!("read failed: {e}")); }
                }
            }
            Some(bytes) = ans_rx.recv() => out.extend_from_slice(&bytes),
            Some(cmd) = cmd_rx.recv() => match cmd {
                Command::Request(req, tx) => match peer.send_request(req) {
                    Ok((hbh, bytes)) => { pending.insert(hbh, tx); out.extend_from_slice(&bytes); }
                    Err(state) => tracing::debug!(?state, "request on a connection that is not open"),
                },
                Command::Disconnect => outputs.extend(peer.disconnect(0)),
            },
            _ = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => {
                outputs.extend(peer.on_timeout(now()));
            }
        }
        if close_reason.is_some() && outputs.is_empty() && out.is_empty() {
            break 'conn;
        }
    }
    let reason = close_reason.unwrap_or_default();
    tracing::info!(peer = ?peer.peer_host(), %addr, %reason, "diameter peer closed");
    let _ = wr.shutdown().await;
    if let Some(host) = peer.peer_host() {
        shared.table.remove(host, &cmd_tx);
    }
    if let Some(tx) = opened.take() {
        let _ = tx.send(Err(reason));
    }
}
