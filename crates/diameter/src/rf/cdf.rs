//! The Charging Data Function: answers Accounting-Requests (TS 32.299 §6.1.2, RFC 6733 §9).
//!
//! * **Durable before acknowledged**: each ACR is handed to the [`AccountingSink`] and the ACA
//!   is built only after the sink reports it committed. If the sink fails, no answer is sent:
//!   the CTF retransmits (T flag) rather than believe a record exists that does not.
//! * **Retransmissions**: the peer layer replays the stored ACA for the same (Origin-Host,
//!   End-to-End-Id); here a repeat of (Session-Id, Accounting-Record-Number) that arrives with
//!   a new End-to-End id (e.g. after the CTF restarted) is answered 2001 without a second
//!   record (TP_RF_CDF_EC_03/04; TS 32.299 §6.1.3.3).
//! * **Sequencing**: Accounting-Record-Number should grow by one per record of a session; a
//!   gap or a number going backwards is logged and counted, and the record is still kept.
//! * **Supervision** (TP_RF_CDF_EC_01/02): a session that sent START but neither INTERIM nor
//!   STOP within the supervision time is aborted with an ASR and closed.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::{Acr, RecordType, SubscriptionId};
use crate::avp::Avp;
use crate::dictionary::{app, cmd};
use crate::error::{result_code, AvpError};
use crate::message::Message;
use crate::peer::{PeerHandle, PeerTable, RequestHandler};

/// A boxed future, so the sink can live behind `dyn`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One accounting record as received, for durable storage.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountingRecord {
    pub acr: Acr,
    pub received_at: DateTime<Utc>,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    StopRecord,
    EventRecord,
    /// No INTERIM/STOP within the supervision time; an ASR was sent.
    SupervisionTimeout,
}

impl CloseReason {
    pub fn name(self) -> &'static str {
        match self {
            CloseReason::StopRecord => "STOP_RECORD",
            CloseReason::EventRecord => "EVENT_RECORD",
            CloseReason::SupervisionTimeout => "SUPERVISION_TIMEOUT",
        }
    }
}

/// A completed session, from which the core's charge record is built.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedSession {
    pub session_id: String,
    pub origin_host: String,
    pub service_context_id: Option<String>,
    pub subscription_id: Option<SubscriptionId>,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub records: u32,
    pub reason: CloseReason,
}

/// Where the CDF commits records. `record` must return only once the record (and the
/// closed session, if any) is durable.
pub trait AccountingSink: Send + Sync + 'static {
    fn record<'a>(
        &'a self,
        record: &'a AccountingRecord,
        closed: Option<&'a ClosedSession>,
    ) -> BoxFuture<'a, Result<(), String>>;
    /// A session closed without a record of its own (supervision timeout).
    fn close<'a>(&'a self, closed: &'a ClosedSession) -> BoxFuture<'a, Result<(), String>>;
}

/// CDF settings (the `[diameter]` section of the server configuration).
#[derive(Debug, Clone)]
pub struct CdfConfig {
    pub origin_host: String,
    pub origin_realm: String,
    /// Sent as Acct-Interim-Interval in the ACA to START and INTERIM (seconds); `None` sends
    /// none and lets the CTF choose.
    pub acct_interim_interval: Option<u32>,
    /// How long an open session may stay silent before the ASR (default: 2 × the interim
    /// interval, else 1 h).
    pub supervision: Duration,
    /// How long to wait for the ASA.
    pub request_timeout: Duration,
}

impl CdfConfig {
    pub fn new(origin_host: &str, origin_realm: &str, interim: Option<u32>) -> Self {
        CdfConfig {
            origin_host: origin_host.into(),
            origin_realm: origin_realm.into(),
            acct_interim_interval: interim,
            supervision: interim.map_or(Duration::from_secs(3600), |i| {
                Duration::from_secs(2 * u64::from(i))
            }),
            request_timeout: Duration::from_secs(10),
        }
    }
}

struct Session {
    origin_host: String,
    origin_realm: String,
    service_context_id: Option<String>,
    subscription_id: Option<SubscriptionId>,
    started_at: DateTime<Utc>,
    numbers: BTreeSet<u32>,
    last_number: u32,
    deadline: Instant,
    aborting: bool,
}

/// The CDF: a [`RequestHandler`] for the peer layer.
pub struct Cdf {
    config: CdfConfig,
    sink: Arc<dyn AccountingSink>,
    sessions: Mutex<HashMap<String, Session>>,
    /// EVENT/STOP records recently closed, so a late duplicate is still recognised.
    closed: Mutex<HashMap<(String, u32), Instant>>,
}

/// A sanity bound on how many closed (Session-Id, number) pairs are remembered in memory.
const CLOSED_MEMORY: usize = 100_000;

impl Cdf {
    pub fn new(config: CdfConfig, sink: Arc<dyn AccountingSink>) -> Arc<Cdf> {
        Arc::new(Cdf {
            config,
            sink,
            sessions: Mutex::new(HashMap::new()),
            closed: Mutex::new(HashMap::new()),
        })
    }

    pub fn config(&self) -> &CdfConfig {
        &self.config
    }

    /// Open sessions: (Session-Id, Origin-Host, last Accounting-Record-Number).
    pub fn open_sessions(&self) -> Vec<(String, String, u32)> {
        let s = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<_> = s
            .iter()
            .map(|(k, v)| (k.clone(), v.origin_host.clone(), v.last_number))
            .collect();
        v.sort();
        v
    }

    fn aca(&self, req: &Message, acr: &Acr) -> Message {
        let mut a = Message::answer_to(req)
            .with(Avp::u32("Result-Code", result_code::DIAMETER_SUCCESS))
            .with(Avp::identity("Origin-Host", &self.config.origin_host))
            .with(Avp::identity("Origin-Realm", &self.config.origin_realm))
            .with(Avp::enumerated(
                "Accounting-Record-Type",
                acr.record_type as i32,
            ))
            .with(Avp::u32("Accounting-Record-Number", acr.record_number))
            .with(Avp::u32("Acct-Application-Id", app::BASE_ACCOUNTING));
        // RFC 6733 §9.7.2: echo the session identifiers the ACR carried.
        for name in [
            "Acct-Session-Id",
            "Acct-Multi-Session-Id",
            "Accounting-Sub-Session-Id",
            "User-Name",
        ] {
            if let Some(x) = req.avp(name) {
                a.push(x.clone());
            }
        }
        if matches!(acr.record_type, RecordType::Start | RecordType::Interim) {
            if let Some(i) = self.config.acct_interim_interval {
                a.push(Avp::u32("Acct-Interim-Interval", i));
            }
        }
        for p in req.avps_named("Proxy-Info") {
            a.push(p.clone());
        }
        a
    }

    fn error(&self, req: &Message, e: &AvpError) -> Message {
        Message::error_answer(
            &req.header,
            req.session_id(),
            e,
            &self.config.origin_host,
            &self.config.origin_realm,
        )
    }

    /// Handles one ACR; `None` when the record could not be made durable (no answer).
    pub async fn on_acr(&self, req: Message) -> Option<Message> {
        let acr = match Acr::parse(&req) {
            Ok(a) => a,
            Err(e) => return Some(self.error(&req, &e)),
        };
        let now = Instant::now();
        let received_at = Utc::now();
        let key = (acr.session_id.clone(), acr.record_number);
        // Duplicate of a record already committed?
        let duplicate = {
            let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
            sessions
                .get(&acr.session_id)
                .is_some_and(|s| s.numbers.contains(&acr.record_number))
                || self
                    .closed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .contains_key(&key)
        };
        if duplicate {
            tracing::info!(session_id = %acr.session_id, peer = %acr.origin_host, record_number = acr.record_number,
                retransmitted = req.header.flags.retransmit(),
                "duplicate ACR: answered 2001 without a second record");
            metrics::counter!("diameter_rf_duplicate_acr_total").increment(1);
            return Some(self.aca(&req, &acr));
        }
        // Sequencing and the session's state after this record.
        let closed = {
            let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
            let started = acr
                .event_timestamp
                .map(|t| t.to_utc())
                .unwrap_or(received_at);
            let s = sessions
                .entry(acr.session_id.clone())
                .or_insert_with(|| Session {
                    origin_host: acr.origin_host.clone(),
                    origin_realm: acr.origin_realm.clone(),
                    service_context_id: acr.service_context_id.clone(),
                    subscription_id: acr.subscription_ids.first().cloned(),
                    started_at: started,
                    numbers: BTreeSet::new(),
                    last_number: acr.record_number,
                    deadline: now + self.config.supervision,
                    aborting: false,
                });
            if let Some(&last) = s.numbers.iter().next_back() {
                if acr.record_number != last.wrapping_add(1) {
                    tracing::warn!(session_id = %acr.session_id, peer = %acr.origin_host,
                        expected = last.wrapping_add(1), got = acr.record_number,
                        "Accounting-Record-Number out of sequence (gap or repeat); record kept");
                    metrics::counter!("diameter_rf_sequence_anomalies_total").increment(1);
                }
            }
            if s.subscription_id.is_none() {
                s.subscription_id = acr.subscription_ids.first().cloned();
            }
            let reason = match acr.record_type {
                RecordType::Stop => Some(CloseReason::StopRecord),
                RecordType::Event => Some(CloseReason::EventRecord),
                _ => None,
            };
            reason.map(|reason| ClosedSession {
                session_id: acr.session_id.clone(),
                origin_host: s.origin_host.clone(),
                service_context_id: s.service_context_id.clone(),
                subscription_id: s.subscription_id.clone(),
                started_at: s.started_at,
                ended_at: acr
                    .event_timestamp
                    .map(|t| t.to_utc())
                    .unwrap_or(received_at),
                records: s.numbers.len() as u32 + 1,
                reason,
            })
        };
        let record = AccountingRecord {
            acr: acr.clone(),
            received_at,
        };
        if let Err(e) = self.sink.record(&record, closed.as_ref()).await {
            tracing::error!(session_id = %acr.session_id, peer = %acr.origin_host, error = %e,
                "accounting record not stored: no ACA (the CTF will retransmit)");
            let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
            if sessions
                .get(&acr.session_id)
                .is_some_and(|s| s.numbers.is_empty())
            {
                sessions.remove(&acr.session_id);
            }
            return None;
        }
        tracing::debug!(session_id = %acr.session_id, peer = %acr.origin_host,
            record_type = acr.record_type.name(), record_number = acr.record_number, "ACR stored");
        metrics::counter!("diameter_rf_acr_total", "record_type" => acr.record_type.name())
            .increment(1);
        {
            let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
            if closed.is_some() {
                sessions.remove(&acr.session_id);
                let mut c = self.closed.lock().unwrap_or_else(|p| p.into_inner());
                if c.len() >= CLOSED_MEMORY {
                    let cutoff = now - Duration::from_secs(600);
                    c.retain(|_, at| *at > cutoff);
                    if c.len() >= CLOSED_MEMORY {
                        c.clear();
                    }
                }
                c.insert(key, now);
            } else if let Some(s) = sessions.get_mut(&acr.session_id) {
                s.numbers.insert(acr.record_number);
                s.last_number = acr.record_number;
                s.deadline = now + self.config.supervision;
            }
        }
        Some(self.aca(&req, &acr))
    }

    /// Sessions whose supervision time ran out (marked so they are aborted once).
    fn expired(&self, now: Instant) -> Vec<(String, String, String)> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions
            .iter_mut()
            .filter(|(_, s)| !s.aborting && s.deadline <= now)
            .map(|(id, s)| {
                s.aborting = true;
                (id.clone(), s.origin_host.clone(), s.origin_realm.clone())
            })
            .collect()
    }

    /// One supervision pass: ASR to each expired session's CTF, then close it durably.
    pub async fn supervise(&self, peers: &PeerTable, now: Instant) {
        for (session_id, host, realm) in self.expired(now) {
            tracing::warn!(%session_id, peer = %host, "accounting session silent past the supervision time: ASR");
            let asr = Message::request(cmd::ABORT_SESSION, app::BASE_ACCOUNTING, 0, 0)
                .with(Avp::utf8("Session-Id", &session_id))
                .with(Avp::identity("Origin-Host", &self.config.origin_host))
                .with(Avp::identity("Origin-Realm", &self.config.origin_realm))
                .with(Avp::identity("Destination-Realm", &realm))
                .with(Avp::identity("Destination-Host", &host))
                // TP_RF_CDF_EC_01 asks for Auth-Application-Id without a value; Rf is
                // application 3, so 3 it is.
                .with(Avp::u32("Auth-Application-Id", app::BASE_ACCOUNTING));
            match peers.get(&host) {
                Some(peer) => match peer.request(asr, self.config.request_timeout).await {
                    Ok(asa) => {
                        tracing::info!(%session_id, peer = %host, result_code = ?asa.result_code(), "ASA")
                    }
                    Err(e) => {
                        tracing::warn!(%session_id, peer = %host, error = %e, "ASR unanswered")
                    }
                },
                None => {
                    tracing::warn!(%session_id, peer = %host, "no open connection to send the ASR")
                }
            }
            let closed = {
                let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
                sessions.remove(&session_id).map(|s| ClosedSession {
                    session_id: session_id.clone(),
                    origin_host: s.origin_host,
                    service_context_id: s.service_context_id,
                    subscription_id: s.subscription_id,
                    started_at: s.started_at,
                    ended_at: Utc::now(),
                    records: s.numbers.len() as u32,
                    reason: CloseReason::SupervisionTimeout,
                })
            };
            if let Some(c) = closed {
                if let Err(e) = self.sink.close(&c).await {
                    tracing::error!(%session_id, error = %e, "closing the session failed");
                }
            }
        }
    }

    /// Runs [`Cdf::supervise`] every `every` until the task is dropped.
    pub async fn run_supervision(self: Arc<Self>, peers: Arc<PeerTable>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.supervise(&peers, Instant::now()).await;
        }
    }
}

impl RequestHandler for Cdf {
    fn handle(&self, request: Message, _peer: PeerHandle) -> BoxFuture<'_, Option<Message>> {
        Box::pin(async move {
            match request.header.command_code {
                cmd::ACCOUNTING => self.on_acr(request).await,
                _ => {
                    let e = AvpError::new(
                        result_code::DIAMETER_COMMAND_UNSUPPORTED,
                        None,
                        "the CDF answers ACR only",
                    );
                    Some(self.error(&request, &e))
                }
            }
        })
    }
}

/// A sink that keeps records in memory, for tests and for `unicharge-sim diameter cdf`.
#[derive(Default)]
pub struct MemorySink {
    pub records: Mutex<Vec<AccountingRecord>>,
    pub closed: Mutex<Vec<ClosedSession>>,
}

impl AccountingSink for MemorySink {
    fn record<'a>(
        &'a self,
        record: &'a AccountingRecord,
        closed: Option<&'a ClosedSession>,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.records
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(record.clone());
            if let Some(c) = closed {
                self.closed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(c.clone());
            }
            Ok(())
        })
    }
    fn close<'a>(&'a self, closed: &'a ClosedSession) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.closed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(closed.clone());
            Ok(())
        })
    }
}
