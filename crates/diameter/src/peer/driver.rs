//! The tokio task that owns one peer connection: reads frames, feeds the [`Peer`] state
//! machine, writes what it outputs, fires its timer, runs the application handler for each
//! request (concurrently, so a slow durable write does not stall the connection) and delivers
//! answers to the requests the application sent through a [`PeerHandle`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use super::duplicates::{with_hop_by_hop, DuplicateCache, Seen};
use super::state::{Output, Peer, PeerConfig, PeerState, Role, WatchdogState};
use crate::dictionary::cmd;
use crate::message::{frame_length, Message, DEFAULT_MAX_MESSAGE_LEN};

/// What the operator sees of one open peer connection (the API's peer list).
#[derive(Debug, Clone, PartialEq)]
pub struct PeerInfo {
    pub origin_host: String,
    pub origin_realm: String,
    /// The transport address of the other end.
    pub address: SocketAddr,
    /// The applications both sides advertised (3 = base accounting, 4 = credit control, …).
    pub applications: Vec<u32>,
    pub state: PeerState,
    pub watchdog: WatchdogState,
    pub opened_at: DateTime<Utc>,
    /// When a DWR was last answered or a DWA last received on this connection.
    pub last_watchdog_at: Option<DateTime<Utc>>,
    /// Whether the transport is TLS.
    pub tls: bool,
}

/// The metric label of a command: the request's abbreviation (`ACR`, `CCR`, `DWR`, …) for
/// the commands we know, the code otherwise (bounded: a peer cannot mint label values
/// beyond the 2^24 codes, and unknown commands are answered 3001 before the application).
pub fn command_label(code: u32) -> std::borrow::Cow<'static, str> {
    std::borrow::Cow::Borrowed(match code {
        cmd::CAPABILITIES_EXCHANGE => "CER",
        cmd::RE_AUTH => "RAR",
        cmd::ACCOUNTING => "ACR",
        cmd::CREDIT_CONTROL => "CCR",
        cmd::ABORT_SESSION => "ASR",
        cmd::SESSION_TERMINATION => "STR",
        cmd::DEVICE_WATCHDOG => "DWR",
        cmd::DISCONNECT_PEER => "DPR",
        _ => return std::borrow::Cow::Owned(code.to_string()),
    })
}

/// The `result_code` label of an answer: its Result-Code, or Experimental-Result-Code, or
/// `none`.
fn result_label(answer: &Message) -> String {
    answer
        .result_code()
        .or_else(|| {
            answer
                .avp("Experimental-Result")
                .and_then(|e| e.child("Experimental-Result-Code"))
                .and_then(crate::avp::Avp::as_u32)
        })
        .map_or_else(|| "none".to_owned(), |c| c.to_string())
}

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
    info: Arc<Mutex<PeerInfo>>,
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

    /// A snapshot of the connection for the operator.
    pub fn info(&self) -> PeerInfo {
        self.info.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sends a request and waits for its answer (matched by hop-by-hop id). Leave the
    /// End-to-End id 0 to have one assigned; set it (and the T flag) to retransmit.
    pub async fn request(
        &self,
        request: Message,
        timeout: Duration,
    ) -> Result<Message, RequestError> {
        let (tx, rx) = oneshot::channel();
        let command = command_label(request.header.command_code);
        let started = std::time::Instant::now();
        self.tx
            .send(Command::Request(request, tx))
            .await
            .map_err(|_| RequestError::Closed)?;
        metrics::counter!("diameter_requests_sent_total", "peer" => self.origin_host.to_string(), "command" => command.clone()).increment(1);
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(answer)) => {
                metrics::histogram!("diameter_answer_latency_seconds", "peer" => self.origin_host.to_string(), "command" => command.clone())
                    .record(started.elapsed().as_secs_f64());
                metrics::counter!("diameter_answers_received_total", "peer" => self.origin_host.to_string(), "command" => command, "result_code" => result_label(&answer)).increment(1);
                Ok(answer)
            }
            Ok(Err(_)) => Err(RequestError::Closed),
            Err(_) => {
                metrics::counter!("diameter_requests_timed_out_total", "peer" => self.origin_host.to_string(), "command" => command).increment(1);
                Err(RequestError::Timeout(timeout))
            }
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

/// Open peers by Origin-Host, and the hosts we are dialling (for the election).
#[derive(Default)]
pub struct PeerTable {
    peers: Mutex<HashMap<String, PeerHandle>>,
    /// Outgoing connections waiting for their CEA, by the Origin-Host dialled; notified when
    /// they lose an election to an incoming connection.
    dialling: Mutex<HashMap<String, Arc<tokio::sync::Notify>>>,
}

impl PeerTable {
    /// Whether an outgoing connection to `host` waits for its CEA.
    pub fn is_dialling(&self, host: &str) -> bool {
        self.dialling
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .any(|h| h.eq_ignore_ascii_case(host))
    }
    fn dial(&self, host: &str) -> Arc<tokio::sync::Notify> {
        let n = Arc::new(tokio::sync::Notify::new());
        self.dialling
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(host.to_owned(), n.clone());
        n
    }
    fn dialled(&self, host: &str) {
        self.dialling
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(host);
    }
    /// An incoming connection from `host` won the election: drop the outgoing one.
    fn election_won(&self, host: &str) {
        let d = self.dialling.lock().unwrap_or_else(|p| p.into_inner());
        for (h, n) in d.iter() {
            if h.eq_ignore_ascii_case(host) {
                n.notify_one();
            }
        }
    }

    pub fn get(&self, origin_host: &str) -> Option<PeerHandle> {
        self.peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(origin_host)
            .cloned()
    }
    /// Every open peer, by Origin-Host.
    pub fn list(&self) -> Vec<PeerInfo> {
        let handles: Vec<PeerHandle> = self
            .peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        let mut v: Vec<PeerInfo> = handles.iter().map(PeerHandle::info).collect();
        v.sort_by(|a, b| a.origin_host.cmp(&b.origin_host));
        v
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
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                tokio::spawn(async move {
                    run(stream, addr, false, Role::Responder, shared, None).await;
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
    let _ = stream.set_nodelay(true);
    connect_over(stream, addr, false, shared).await
}

/// How a client opens its transport to a peer. [`TcpDialer`] is plain TCP; TLS is supplied by
/// the application (this crate carries no TLS library): it dials, completes its handshake and
/// hands the stream to [`connect_over`] with `tls = true`.
pub trait Dialer: Send + Sync + std::fmt::Debug + 'static {
    /// Opens the transport to `addr` and exchanges capabilities over it.
    fn dial(
        &self,
        addr: SocketAddr,
        shared: Shared,
    ) -> crate::rf::cdf::BoxFuture<'static, Result<PeerHandle, String>>;
}

/// Plain TCP (RFC 6733 §2.1), the default transport of clients.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpDialer;

impl Dialer for TcpDialer {
    fn dial(
        &self,
        addr: SocketAddr,
        shared: Shared,
    ) -> crate::rf::cdf::BoxFuture<'static, Result<PeerHandle, String>> {
        Box::pin(connect(addr, shared))
    }
}

/// Like [`connect`], naming the Origin-Host expected at `addr`, so that if that host dials us
/// at the same moment the two connections hold an election (RFC 6733 §5.6.4): the loser's
/// outgoing connection is dropped and this returns `Err`, the peer then being reachable over
/// the incoming one (see [`PeerTable::get`]).
pub async fn connect_to(
    addr: SocketAddr,
    expected_host: &str,
    shared: Shared,
) -> Result<PeerHandle, String> {
    let lost = shared.table.dial(expected_host);
    let table = shared.table.clone();
    let stream = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => {
            table.dialled(expected_host);
            return Err(format!("connect {addr}: {e}"));
        }
    };
    let _ = stream.set_nodelay(true);
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        run_with(
            stream,
            addr,
            false,
            Role::Initiator,
            shared,
            Some(tx),
            Some(lost),
        )
        .await
    });
    let result = rx
        .await
        .map_err(|_| format!("{addr}: connection closed before the CEA"))?;
    table.dialled(expected_host);
    result
}

/// Runs the initiator side over an established transport (TCP, or TLS on top of it).
pub async fn connect_over<S>(
    stream: S,
    addr: SocketAddr,
    tls: bool,
    shared: Shared,
) -> Result<PeerHandle, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move { run(stream, addr, tls, Role::Initiator, shared, Some(tx)).await });
    rx.await
        .map_err(|_| format!("{addr}: connection closed before the CEA"))?
}

/// Runs the responder side of one accepted transport (TCP, or TLS on top of it) until it
/// closes.
pub async fn accept_over<S>(stream: S, addr: SocketAddr, tls: bool, shared: Shared)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    run(stream, addr, tls, Role::Responder, shared, None).await
}

async fn run<S>(
    stream: S,
    addr: SocketAddr,
    tls: bool,
    role: Role,
    shared: Shared,
    opened: Option<oneshot::Sender<Result<PeerHandle, String>>>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    run_with(stream, addr, tls, role, shared, opened, None).await
}

async fn run_with<S>(
    stream: S,
    addr: SocketAddr,
    tls: bool,
    role: Role,
    shared: Shared,
    mut opened: Option<oneshot::Sender<Result<PeerHandle, String>>>,
    election_lost: Option<Arc<tokio::sync::Notify>>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(stream);
    let info = Arc::new(Mutex::new(PeerInfo {
        origin_host: String::new(),
        origin_realm: String::new(),
        address: addr,
        applications: vec![],
        state: PeerState::Closed,
        watchdog: WatchdogState::Okay,
        opened_at: Utc::now(),
        last_watchdog_at: None,
        tls,
    }));
    let mut watchdog_exchanges = 0u64;
    let now = || tokio::time::Instant::now().into_std();
    let mut peer = Peer::new(shared.config.clone(), role, now());
    if role == Role::Responder {
        let table = shared.table.clone();
        peer = peer.with_dialling(Arc::new(move |host| table.is_dialling(host)));
    }
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
                                let command = command_label(req.header.command_code);
                                let started = std::time::Instant::now();
                                metrics::counter!("diameter_requests_received_total", "peer" => host.clone(), "command" => command.clone()).increment(1);
                                match shared.handler.handle(req, h).await {
                                    Some(answer) => {
                                        metrics::histogram!("diameter_request_duration_seconds", "peer" => host.clone(), "command" => command.clone())
                                            .record(started.elapsed().as_secs_f64());
                                        metrics::counter!("diameter_answers_sent_total", "peer" => host.clone(), "command" => command, "result_code" => result_label(&answer)).increment(1);
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
                            metrics::counter!("diameter_duplicates_replayed_by_peer_total", "peer" => host.clone(), "command" => command_label(req.header.command_code)).increment(1);
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
                    tracing::info!(peer = %origin_host, %addr, tls, ?applications, "diameter peer open");
                    {
                        let mut i = info.lock().unwrap_or_else(|p| p.into_inner());
                        i.origin_host = origin_host.clone();
                        i.origin_realm = peer.peer_realm().unwrap_or_default().to_owned();
                        i.applications = applications.clone();
                        i.opened_at = Utc::now();
                    }
                    metrics::counter!("diameter_peer_connections_opened_total", "peer" => origin_host.clone()).increment(1);
                    let h = PeerHandle {
                        origin_host: origin_host.into(),
                        tx: cmd_tx.clone(),
                        suspect: suspect.clone(),
                        info: info.clone(),
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
                Output::ElectionWon { origin_host } => shared.table.election_won(&origin_host),
            }
        }
        suspect.store(
            peer.watchdog() != WatchdogState::Okay,
            std::sync::atomic::Ordering::Relaxed,
        );
        {
            let mut i = info.lock().unwrap_or_else(|p| p.into_inner());
            i.state = peer.state();
            i.watchdog = peer.watchdog();
            if peer.watchdog_exchanges() != watchdog_exchanges {
                watchdog_exchanges = peer.watchdog_exchanges();
                i.last_watchdog_at = Some(Utc::now());
            }
        }
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
            _ = async { match (&election_lost, peer.state()) { (Some(n), super::state::PeerState::WaitCea) => n.notified().await, _ => std::future::pending().await } } => {
                close_reason = Some("election lost: the peer's own connection is used".into());
            }
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
