//! The Charging Trigger Function side of Rf: a client that opens accounting sessions and sends
//! ACRs to a CDF (TS 32.299 §6.1.1), with what the CTF-role TPs ask of it:
//!
//! * a unique Session-Id per session and Accounting-Record-Number 0, 1, 2, … (MS_01);
//! * request headers with Version 1, T = 0, E = 0, reserved bits 0 (MS_02);
//! * retransmission of an unanswered ACR with the T flag and the same End-to-End id (EC_05),
//!   up to `max_retransmissions`;
//! * failover to the secondary CDF when the primary stops answering (EC_02), and back to the
//!   primary once it answers again (EC_03);
//! * with no CDF answering, the ACR is appended to a non-volatile buffer file and replayed in
//!   order once a CDF is reachable (EC_04, EC_06; RFC 6733 §9.4).
//!
//! The watchdog (EC_01) runs in the peer layer underneath ([`crate::peer`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use super::RecordType;
use crate::avp::{Avp, Time};
use crate::dictionary::{app, cmd};
use crate::header::CommandFlags;
use crate::message::Message;
use crate::peer::driver::Shared;
use crate::peer::{
    Dialer, DuplicateCache, PeerConfig, PeerHandle, PeerTable, RequestHandler, TcpDialer,
};

/// CTF settings.
#[derive(Debug, Clone)]
pub struct CtfConfig {
    pub peer: PeerConfig,
    pub destination_realm: String,
    pub primary: SocketAddr,
    pub secondary: Option<SocketAddr>,
    /// How long to wait for an ACA before retransmitting (RFC 4006 Tx-like).
    pub request_timeout: Duration,
    pub max_retransmissions: u32,
    /// Non-volatile buffer for ACRs no CDF accepted (one hex-encoded message per line).
    pub buffer_path: Option<PathBuf>,
    /// What one unit of Acct-Interim-Interval lasts (RFC 6733: a second). Tests shrink it.
    pub interim_unit: Duration,
    /// How connections to the CDFs are opened: TCP unless the application supplies TLS.
    pub dialer: Arc<dyn Dialer>,
}

impl CtfConfig {
    pub fn new(
        origin_host: &str,
        origin_realm: &str,
        destination_realm: &str,
        primary: SocketAddr,
    ) -> Self {
        let mut peer = PeerConfig::cdf(origin_host, origin_realm);
        peer.product_name = "unicharge-sim".into();
        CtfConfig {
            peer,
            destination_realm: destination_realm.into(),
            primary,
            secondary: None,
            request_timeout: Duration::from_secs(5),
            max_retransmissions: 2,
            buffer_path: None,
            interim_unit: Duration::from_secs(1),
            dialer: Arc::new(TcpDialer),
        }
    }
}

/// How an ACR ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// Answered; `via_secondary` when the primary had failed.
    Answered {
        answer: Message,
        via_secondary: bool,
        retransmissions: u32,
    },
    /// No CDF answered: stored in the buffer file for replay.
    Buffered,
}

/// An ACR could not be sent nor buffered.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CtfError(pub String);

/// Answers requests a CDF sends to the CTF (ASR → ASA 2001).
struct CtfRequests {
    origin_host: String,
    origin_realm: String,
    asr: Arc<AtomicU32>,
    rar: Arc<std::sync::Mutex<Vec<String>>>,
}

impl RequestHandler for CtfRequests {
    fn handle(
        &self,
        request: Message,
        _peer: PeerHandle,
    ) -> super::cdf::BoxFuture<'_, Option<Message>> {
        Box::pin(async move {
            let code = match request.header.command_code {
                cmd::ABORT_SESSION => {
                    self.asr.fetch_add(1, Ordering::Relaxed);
                    2001
                }
                // Ro (RFC 8506 §5.5): the OCF asks for re-authorization; the client answers
                // and re-authorizes with a CCR-Update (queued for the session's owner).
                cmd::RE_AUTH => {
                    if let Some(id) = request.session_id() {
                        self.rar
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(id.to_owned());
                    }
                    2001
                }
                _ => 3001,
            };
            tracing::info!(session_id = ?request.session_id(), command = request.header.command_code, "request from the CDF");
            let mut a = Message::answer_to(&request)
                .with(Avp::u32("Result-Code", code))
                .with(Avp::identity("Origin-Host", &self.origin_host))
                .with(Avp::identity("Origin-Realm", &self.origin_realm));
            if code == 3001 {
                a.header.flags = a.header.flags.with(CommandFlags::ERROR, true);
            }
            Some(a)
        })
    }
}

/// One accounting session of the CTF.
#[derive(Debug, Clone)]
pub struct CtfSession {
    pub session_id: String,
    pub next_record_number: u32,
}

/// The Rf client.
pub struct Ctf {
    config: CtfConfig,
    shared: Shared,
    primary: Mutex<Option<PeerHandle>>,
    secondary: Mutex<Option<PeerHandle>>,
    sessions: AtomicU32,
    buffer_lock: Mutex<()>,
    /// ASRs received from the CDF, for tests and the sim's report.
    pub asr_received: Arc<AtomicU32>,
    /// Session-Ids of RARs received (Ro), oldest first, until taken by the client.
    pub rar_received: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Ctf {
    /// Connects to the primary CDF (and the secondary, if configured and reachable).
    pub async fn connect(config: CtfConfig) -> Result<Arc<Ctf>, CtfError> {
        let asr_received = Arc::new(AtomicU32::new(0));
        let rar_received = Arc::new(std::sync::Mutex::new(Vec::new()));
        let shared = Shared {
            config: config.peer.clone(),
            handler: Arc::new(CtfRequests {
                origin_host: config.peer.origin_host.clone(),
                origin_realm: config.peer.origin_realm.clone(),
                asr: asr_received.clone(),
                rar: rar_received.clone(),
            }),
            table: Arc::new(PeerTable::default()),
            duplicates: Arc::new(DuplicateCache::default()),
        };
        let primary = config
            .dialer
            .dial(config.primary, shared.clone())
            .await
            .ok();
        let secondary = match config.secondary {
            Some(a) => config.dialer.dial(a, shared.clone()).await.ok(),
            None => None,
        };
        if primary.is_none() && secondary.is_none() && config.buffer_path.is_none() {
            return Err(CtfError(format!("no CDF reachable at {}", config.primary)));
        }
        Ok(Arc::new(Ctf {
            config,
            shared,
            primary: Mutex::new(primary),
            secondary: Mutex::new(secondary),
            sessions: AtomicU32::new(0),
            buffer_lock: Mutex::new(()),
            asr_received,
            rar_received,
        }))
    }

    /// A new session: Session-Id `<Origin-Host>;<high 32 bits>;<low 32 bits>` (RFC 6733 §8.8).
    pub fn new_session(&self) -> CtfSession {
        let n = self.sessions.fetch_add(1, Ordering::Relaxed);
        let high = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as u32)
            .unwrap_or(0);
        CtfSession {
            session_id: format!("{};{high};{n}", self.config.peer.origin_host),
            next_record_number: 0,
        }
    }

    /// The ACR for the next record of `session` (the number is consumed).
    pub fn build_acr(
        &self,
        session: &mut CtfSession,
        record_type: RecordType,
        service_information: Option<Vec<Avp>>,
    ) -> Message {
        let number = session.next_record_number;
        session.next_record_number = number.wrapping_add(1);
        let mut acr = Message::request(cmd::ACCOUNTING, app::BASE_ACCOUNTING, 0, 0)
            .with(Avp::utf8("Session-Id", &session.session_id))
            .with(Avp::identity("Origin-Host", &self.config.peer.origin_host))
            .with(Avp::identity(
                "Origin-Realm",
                &self.config.peer.origin_realm,
            ))
            .with(Avp::identity(
                "Destination-Realm",
                &self.config.destination_realm,
            ))
            .with(Avp::enumerated(
                "Accounting-Record-Type",
                record_type as i32,
            ))
            .with(Avp::u32("Accounting-Record-Number", number))
            .with(Avp::u32("Acct-Application-Id", app::BASE_ACCOUNTING))
            .with(Avp::utf8("Service-Context-Id", "32260@3gpp.org"))
            .with(Avp::time(
                "Event-Timestamp",
                Time::from_utc(chrono::Utc::now()),
            ));
        if let Some(si) = service_information {
            acr.push(Avp::grouped("Service-Information", si));
        }
        acr
    }

    /// Service-Information with one Subscription-Id (E.164) and IMS-Information carrying
    /// Node-Functionality 3 (as in TP_RF_CTF_TC_01) and, for a SIP-triggered record, the SIP
    /// method in Event-Type.
    pub fn ims_service_information(msisdn: &str, sip_method: Option<&str>) -> Vec<Avp> {
        let mut ims = vec![Avp::enumerated("Node-Functionality", 3)];
        if let Some(m) = sip_method {
            ims.insert(
                0,
                Avp::grouped("Event-Type", vec![Avp::utf8("SIP-Method", m)]),
            );
        }
        vec![
            Avp::grouped(
                "Subscription-Id",
                vec![
                    Avp::enumerated("Subscription-Id-Type", 0),
                    Avp::utf8("Subscription-Id-Data", msisdn),
                ],
            ),
            Avp::grouped("IMS-Information", ims),
        ]
    }

    /// A whole session: START, then `interims` INTERIMs spaced by the Acct-Interim-Interval
    /// the CDF granted (or `default_interval` units), then STOP. Returns every delivery.
    pub async fn run_session(
        &self,
        msisdn: &str,
        interims: u32,
        default_interval: u32,
    ) -> Result<Vec<Delivery>, CtfError> {
        let mut session = self.new_session();
        let si = || Some(Self::ims_service_information(msisdn, Some("INVITE")));
        let mut out = vec![];
        let start = self
            .send(self.build_acr(&mut session, RecordType::Start, si()))
            .await?;
        let interval = match &start {
            Delivery::Answered { answer, .. } => answer
                .u32("Acct-Interim-Interval")
                .unwrap_or(default_interval),
            Delivery::Buffered => default_interval,
        };
        out.push(start);
        for _ in 0..interims {
            tokio::time::sleep(self.config.interim_unit * interval).await;
            out.push(
                self.send(self.build_acr(&mut session, RecordType::Interim, si()))
                    .await?,
            );
        }
        out.push(
            self.send(self.build_acr(&mut session, RecordType::Stop, si()))
                .await?,
        );
        Ok(out)
    }

    async fn live(slot: &Mutex<Option<PeerHandle>>) -> Option<PeerHandle> {
        slot.lock().await.clone().filter(|h| !h.is_closed())
    }

    async fn reconnect(
        &self,
        addr: SocketAddr,
        slot: &Mutex<Option<PeerHandle>>,
    ) -> Option<PeerHandle> {
        if let Some(h) = Self::live(slot).await {
            return Some(h);
        }
        let h = self
            .config
            .dialer
            .dial(addr, self.shared.clone())
            .await
            .ok()?;
        *slot.lock().await = Some(h.clone());
        Some(h)
    }

    /// Sends one ACR: to the primary with up to `max_retransmissions` T-flagged resends, then
    /// to the secondary, then into the buffer.
    pub async fn send(&self, mut acr: Message) -> Result<Delivery, CtfError> {
        acr.header.end_to_end = next_e2e();
        let mut retransmissions = 0;
        let primary = self.reconnect(self.config.primary, &self.primary).await;
        // RFC 3539: a suspect primary gets no new traffic while a secondary is configured.
        let primary = primary.filter(|p| !(p.is_suspect() && self.config.secondary.is_some()));
        if let Some(p) = primary {
            for attempt in 0..=self.config.max_retransmissions {
                if attempt > 0 {
                    acr.header.flags = acr.header.flags.with(CommandFlags::RETRANSMIT, true);
                    retransmissions += 1;
                    tracing::info!(session_id = ?acr.session_id(), attempt, "ACR unanswered: retransmitting with the T flag");
                }
                match p.request(acr.clone(), self.config.request_timeout).await {
                    Ok(answer) => {
                        return Ok(Delivery::Answered {
                            answer,
                            via_secondary: false,
                            retransmissions,
                        })
                    }
                    Err(crate::peer::RequestError::Closed) => break,
                    Err(_) => continue,
                }
            }
        }
        if let Some(addr) = self.config.secondary {
            if let Some(s) = self.reconnect(addr, &self.secondary).await {
                // Failover: the request may have reached the primary, so it carries T.
                acr.header.flags = acr.header.flags.with(CommandFlags::RETRANSMIT, true);
                if let Ok(answer) = s.request(acr.clone(), self.config.request_timeout).await {
                    return Ok(Delivery::Answered {
                        answer,
                        via_secondary: true,
                        retransmissions,
                    });
                }
            }
        }
        self.buffer(&acr).await?;
        Ok(Delivery::Buffered)
    }

    async fn buffer(&self, acr: &Message) -> Result<(), CtfError> {
        let Some(path) = &self.config.buffer_path else {
            return Err(CtfError(
                "no CDF answered and no buffer is configured".into(),
            ));
        };
        let _g = self.buffer_lock.lock().await;
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| CtfError(format!("buffer {}: {e}", path.display())))?;
        let hex: String = acr.encode().iter().map(|b| format!("{b:02x}")).collect();
        writeln!(f, "{hex}")
            .and_then(|_| f.sync_data())
            .map_err(|e| CtfError(format!("buffer {}: {e}", path.display())))?;
        tracing::warn!(session_id = ?acr.session_id(), path = %path.display(), "no CDF answered: ACR buffered");
        Ok(())
    }

    /// Replays the buffered ACRs in the order stored; stops at the first that is not
    /// answered (it stays buffered with everything after it). Returns how many were answered.
    pub async fn flush_buffer(&self) -> Result<usize, CtfError> {
        let Some(path) = self.config.buffer_path.clone() else {
            return Ok(0);
        };
        let _g = self.buffer_lock.lock().await;
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(CtfError(format!("buffer {}: {e}", path.display()))),
        };
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        let mut sent = 0;
        for line in &lines {
            let bytes: Option<Vec<u8>> = (0..line.len())
                .step_by(2)
                .map(|i| {
                    line.get(i..i + 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                })
                .collect();
            let Some(acr) = bytes.and_then(|b| Message::decode(&b).ok()) else {
                tracing::error!(path = %path.display(), "unreadable buffered ACR skipped");
                sent += 1;
                continue;
            };
            let target = match self.reconnect(self.config.primary, &self.primary).await {
                Some(p) => Some(p),
                None => match self.config.secondary {
                    Some(a) => self.reconnect(a, &self.secondary).await,
                    None => None,
                },
            };
            let Some(peer) = target else { break };
            match peer.request(acr, self.config.request_timeout).await {
                Ok(_) => sent += 1,
                Err(_) => break,
            }
        }
        let rest = lines[sent..].join("\n");
        std::fs::write(&path, if rest.is_empty() { rest } else { rest + "\n" })
            .map_err(|e| CtfError(format!("buffer {}: {e}", path.display())))?;
        Ok(sent)
    }

    /// Whether the primary's watchdog suspects it (RFC 3539), or it is not connected.
    pub async fn primary_suspect(&self) -> bool {
        Self::live(&self.primary)
            .await
            .is_none_or(|p| p.is_suspect())
    }

    /// Whether the primary connection is currently open.
    pub async fn primary_open(&self) -> bool {
        Self::live(&self.primary).await.is_some()
    }
}

/// End-to-End ids: the low 12 bits of the start time in the high 12 bits, then a counter
/// (RFC 6733 §3), unique across restarts within 4096 s.
fn next_e2e() -> u32 {
    static NEXT: std::sync::OnceLock<AtomicU32> = std::sync::OnceLock::new();
    NEXT.get_or_init(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as u32)
            .unwrap_or(0);
        AtomicU32::new((secs & 0xfff) << 20)
    })
    .fetch_add(1, Ordering::Relaxed)
}
