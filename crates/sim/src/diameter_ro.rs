//! `unicharge-sim diameter ro-load`: the Ro CTF as a load generator against any OCF.
//!
//! Each session is a Session Charging with Unit Reservation exchange (TS 32.299 §6.3.5):
//! CCR-Initial asking for `--seconds` of a rating group, `--updates` CCR-Updates each reporting
//! the granted units as used and asking again, and a CCR-Termination reporting the last ones.
//! Sessions start at a fixed rate over one capabilities-exchanged connection (Auth-Application-Id
//! 4); subscribers are `--msisdn-prefix` + session index modulo `--subscribers`, so the OCF must
//! know them (e.g. provisioned through `/api/v1/ro/subscribers`). Prints a progress line every
//! second, then CCR/s and the CCR→CCA latency p50 / p99 / p99.9 / max and the outcome counts.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Mutex;
use unicharge_diameter::cc::{CcRequestType, Ccr, Mscc, ServiceUnit};
use unicharge_diameter::peer::{
    Dialer, DuplicateCache, PeerConfig, PeerHandle, PeerTable, RequestHandler, Shared,
};
use unicharge_diameter::rf::cdf::BoxFuture;
use unicharge_diameter::rf::SubscriptionId;
use unicharge_diameter::{app, Avp, Message};

/// Arguments of `unicharge-sim diameter ro-load`.
#[derive(Debug, Clone, clap::Args)]
pub struct RoLoadArgs {
    /// The OCF, e.g. 127.0.0.1:3868.
    #[arg(long, default_value = "127.0.0.1:3868")]
    pub ocf: SocketAddr,
    /// How many credit-control sessions to play.
    #[arg(long, default_value_t = 1000)]
    pub sessions: u32,
    /// New sessions per second.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// CCR-Updates per session (between INITIAL and TERMINATION, back to back).
    #[arg(long, default_value_t = 1)]
    pub updates: u32,
    /// Rating-Group asked for.
    #[arg(long, default_value_t = 10)]
    pub rating_group: u32,
    /// CC-Time asked for in each request (seconds).
    #[arg(long, default_value_t = 60)]
    pub seconds: u32,
    /// Subscribers are <prefix><n> (END_USER_E164), n = session index modulo `--subscribers`.
    #[arg(long, default_value = "4917")]
    pub msisdn_prefix: String,
    #[arg(long, default_value_t = 100)]
    pub subscribers: u32,
    #[arg(long, default_value = "ctf.sim.localdomain")]
    pub origin_host: String,
    #[arg(long, default_value = "sim.localdomain")]
    pub origin_realm: String,
    #[arg(long, default_value = "unicharge.localdomain")]
    pub destination_realm: String,
    /// Stop starting sessions after this many seconds; absent: start all `--sessions`.
    #[arg(long)]
    pub duration: Option<f64>,
    /// No progress line every second.
    #[arg(long)]
    pub quiet: bool,
    /// Diameter connections to open (sessions are spread over them round-robin); each is its
    /// own peer, Origin-Host `c<k>.<origin-host>` when more than one.
    #[arg(long, default_value_t = 1)]
    pub connections: u32,
    /// TLS to the OCF.
    #[command(flatten)]
    pub tls: crate::diameter_tls::DiameterTlsArgs,
}

/// The subscriber of session `i`: what the OCF must know for the load to succeed.
pub fn msisdn(args: &RoLoadArgs, i: u32) -> String {
    format!("{}{:08}", args.msisdn_prefix, i % args.subscribers.max(1))
}

/// What a load run measured.
#[derive(Debug, Clone, Default)]
pub struct RoLoadReport {
    pub sessions: u32,
    /// CCAs with Result-Code 2001.
    pub ok: u64,
    /// Sessions ended by another answer, or none.
    pub failed: u64,
    /// Of `failed`: answered 3004 DIAMETER_TOO_BUSY (the OCF shed the load).
    pub shed: u64,
    pub elapsed: Duration,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl RoLoadReport {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Answers what an OCF sends a CTF (RAR, ASR) with 2001.
struct Answerer {
    host: String,
    realm: String,
}

impl RequestHandler for Answerer {
    fn handle(&self, request: Message, _peer: PeerHandle) -> BoxFuture<'_, Option<Message>> {
        Box::pin(async move {
            Some(
                Message::answer_to(&request)
                    .with(Avp::u32("Result-Code", 2001))
                    .with(Avp::identity("Origin-Host", &self.host))
                    .with(Avp::identity("Origin-Realm", &self.realm)),
            )
        })
    }
}

/// Opens a Ro connection (CER with Auth-Application-Id 4) to an OCF, over TCP or what
/// `dialer` opens (TLS).
pub async fn connect_ocf(
    ocf: SocketAddr,
    origin_host: &str,
    origin_realm: &str,
    dialer: &dyn Dialer,
) -> Result<PeerHandle, String> {
    let mut config = PeerConfig::cdf(origin_host, origin_realm);
    config.acct_application_ids = vec![];
    config.auth_application_ids = vec![app::CREDIT_CONTROL];
    config.product_name = "unicharge-sim".into();
    let shared = Shared {
        config,
        handler: Arc::new(Answerer {
            host: origin_host.into(),
            realm: origin_realm.into(),
        }),
        table: Arc::new(PeerTable::default()),
        duplicates: Arc::new(DuplicateCache::default()),
    };
    dialer.dial(ocf, shared).await
}

/// Runs the load and returns what it measured.
pub async fn run(args: &RoLoadArgs) -> Result<RoLoadReport, String> {
    let dialer = args.tls.dialer()?;
    // Each connection is its own peer: its CCRs carry its Origin-Host (a CCR's Origin-Host is
    // the peer that sent it, and the OCF tells retransmissions apart by it).
    let mut peers = Vec::new();
    for k in 0..args.connections.max(1) {
        let host = if args.connections > 1 {
            format!("c{k}.{}", args.origin_host)
        } else {
            args.origin_host.clone()
        };
        let peer = connect_ocf(args.ocf, &host, &args.origin_realm, &*dialer).await?;
        peers.push((peer, host));
    }
    let hist = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram"),
    ));
    let counts = Arc::new(Mutex::new((0u64, 0u64, 0u64)));
    let started = Instant::now();
    let period = Duration::from_secs_f64(1.0 / args.rate.max(0.001));
    let stop_at = args
        .duration
        .map(|d| started + Duration::from_secs_f64(d.max(0.0)));
    let mut tasks = tokio::task::JoinSet::new();
    let mut last_progress = Instant::now();
    let mut sessions = 0;
    for i in 0..args.sessions {
        let due = started + period * i;
        if stop_at.is_some_and(|t| due >= t) {
            break;
        }
        sessions += 1;
        tokio::time::sleep_until(due.into()).await;
        let (peer, host) = peers[i as usize % peers.len()].clone();
        let (hist, task_counts, args2) = (hist.clone(), counts.clone(), args.clone());
        tasks.spawn(async move {
            let sid = format!("{host};{};{i}", started.elapsed().as_nanos());
            let time = |s: u32| ServiceUnit {
                cc_time: Some(s),
                ..Default::default()
            };
            let steps = std::iter::once(CcRequestType::Initial)
                .chain(std::iter::repeat_n(
                    CcRequestType::Update,
                    args2.updates as usize,
                ))
                .chain(std::iter::once(CcRequestType::Termination));
            for (n, kind) in steps.enumerate() {
                let mscc = Mscc {
                    rating_group: Some(args2.rating_group),
                    requested: (kind != CcRequestType::Termination).then(|| time(args2.seconds)),
                    used: if kind == CcRequestType::Initial {
                        vec![]
                    } else {
                        vec![time(args2.seconds)]
                    },
                    ..Default::default()
                };
                let ccr = Ccr {
                    session_id: sid.clone(),
                    origin_host: host.clone(),
                    origin_realm: args2.origin_realm.clone(),
                    destination_realm: args2.destination_realm.clone(),
                    service_context_id: "32260@3gpp.org".into(),
                    request_type: kind,
                    request_number: n as u32,
                    requested_action: None,
                    event_timestamp: None,
                    subscription_ids: vec![SubscriptionId {
                        kind: 0,
                        data: msisdn(&args2, i),
                    }],
                    mscc: vec![mscc],
                };
                let t0 = Instant::now();
                let outcome = peer
                    .request(ccr.to_message(), Duration::from_secs(10))
                    .await;
                let us = t0.elapsed().as_micros() as u64;
                let mut c = task_counts.lock().await;
                match outcome {
                    Ok(a) if a.result_code() == Some(2001) => {
                        c.0 += 1;
                        let _ = hist.lock().await.record(us.max(1));
                    }
                    Ok(a) => {
                        c.1 += 1;
                        if a.result_code() == Some(3004) {
                            c.2 += 1;
                        }
                        break;
                    }
                    Err(_) => {
                        c.1 += 1;
                        break;
                    }
                }
            }
        });
        if !args.quiet && last_progress.elapsed() >= Duration::from_secs(1) {
            last_progress = Instant::now();
            let c = counts.lock().await;
            eprintln!(
                "[{:>6.1}s] sessions started {}/{} CCA ok {} failed {}",
                started.elapsed().as_secs_f64(),
                i + 1,
                args.sessions,
                c.0,
                c.1
            );
        }
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed();
    let (ok, failed, shed) = *counts.lock().await;
    let h = hist.lock().await;
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    Ok(RoLoadReport {
        sessions,
        ok,
        failed,
        shed,
        elapsed,
        p50_ms: ms(0.5),
        p99_ms: ms(0.99),
        p999_ms: ms(0.999),
        max_ms: h.max() as f64 / 1000.0,
    })
}

/// `unicharge-sim diameter ro-load`.
pub async fn load(args: RoLoadArgs) -> i32 {
    match run(&args).await {
        Ok(r) => {
            println!(
                "diameter ro-load: {} sessions, {} CCRs answered 2001 in {:.2}s ({:.0} CCR/s); failed {} (of which {} shed with 3004)",
                r.sessions,
                r.ok,
                r.elapsed.as_secs_f64(),
                r.per_second(),
                r.failed,
                r.shed
            );
            println!(
                "CCR->CCA latency ms: p50 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
                r.p50_ms, r.p99_ms, r.p999_ms, r.max_ms
            );
            i32::from(r.failed > 0)
        }
        Err(e) => {
            eprintln!(
                "error: {e} (is `unicharge serve` running with [diameter] listen = \"{}\" and [diameter.ro] enabled?)",
                args.ocf
            );
            1
        }
    }
}

/// The Ro CTF as a client: typed CCRs over the project's CTF transport
/// ([`unicharge_diameter::rf::ctf::Ctf`]: retransmission with the T flag and the same
/// End-to-End id, failover to a secondary OCF, a non-volatile buffer when no OCF answers),
/// with the per-session state the CTF-role TPs ask of it: CC-Request-Number 0, 1, 2, …, and the
/// Credit-Control-Failure-Handling / Direct-Debiting-Failure-Handling the OCF sent overriding
/// the local values (TP_RO_CTF_FH_01/02).
pub mod client {
    use std::sync::Arc;

    use chrono::{DateTime, Utc};
    use unicharge_diameter::cc::quota::{Due, GrantRejected, Quota, QuotaPolicy, ReportingReason};
    use unicharge_diameter::cc::{CcRequestType, Cca, Ccr, Mscc, RequestedAction};
    use unicharge_diameter::rf::ctf::{Ctf, CtfConfig, Delivery};
    use unicharge_diameter::rf::SubscriptionId;
    use unicharge_diameter::{app, Avp, Message, Time, Value};

    /// One credit-control session of the CTF.
    #[derive(Debug, Clone)]
    pub struct RoSession {
        pub session_id: String,
        pub next_number: u32,
        /// CCFH in force: the OCF's value once it sent one, else the local default.
        pub ccfh: i32,
        /// DDFH in force, likewise.
        pub ddfh: i32,
        /// The last grants, per MSCC, as the OCF sent them.
        pub grants: Vec<Mscc>,
        /// The quotas being consumed (one per granted MSCC), see [`Quota`].
        pub quotas: Vec<Quota>,
        /// Set when a CCA carried a grant the client cannot take (the session must end,
        /// RFC 8506 §5.1.2: Termination-Cause DIAMETER_BAD_ANSWER).
        pub rejected_grant: Option<GrantRejected>,
        /// Set when the OCF refused an interim request (5003 DIAMETER_AUTHORIZATION_REJECTED,
        /// 5030 USER_UNKNOWN, 4012 CREDIT_LIMIT_REACHED): the service ends with a CCR-T.
        pub must_terminate: Option<u32>,
        /// Refund-Information from the last CCA (TS 32.299 §7.2.182), to be sent back
        /// unchanged with a refund (TP_RO_CTF_TC_05).
        pub refund_information: Option<Vec<u8>>,
    }

    /// What the service does when no OCF answered a CCR (RFC 8506 §5.7 for sessions by
    /// Credit-Control-Failure-Handling, §6.5 for events by Direct-Debiting-Failure-Handling).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum FailureAction {
        /// CCFH TERMINATE / RETRY_AND_TERMINATE (the alternate was tried), or DDFH
        /// TERMINATE_OR_BUFFER when the request is known not to have been delivered.
        TerminateService,
        /// CCFH CONTINUE: the service goes on without credit control.
        ContinueService,
        /// DDFH CONTINUE: the service is granted and the request kept for later delivery.
        ContinueAndBuffer,
        /// DDFH TERMINATE_OR_BUFFER when the request may have been delivered: keep it.
        Buffer,
    }

    /// What became of a CCR.
    #[derive(Debug, Clone)]
    pub enum Outcome {
        Answered {
            cca: Cca,
            answer: Message,
            retransmissions: u32,
            via_secondary: bool,
        },
        /// No OCF answered: kept in the buffer file for replay.
        Buffered,
    }

    pub struct RoClient {
        pub ctf: Arc<Ctf>,
        origin_host: String,
        origin_realm: String,
        destination_realm: String,
        /// The subscriber (END_USER_E164) put in Subscription-Id.
        pub msisdn: String,
        /// Local CCFH / DDFH until the OCF says otherwise (RFC 8506 §5.7, §6.5).
        pub local_ccfh: i32,
        pub local_ddfh: i32,
        /// Quota handling where the OCF says nothing (local QHT, tariff-change support).
        pub quota_policy: QuotaPolicy,
    }

    impl RoClient {
        /// `config` as for Rf; its peer advertises Auth-Application-Id 4 instead of 3.
        pub async fn connect(mut config: CtfConfig, msisdn: &str) -> Result<RoClient, String> {
            config.peer.acct_application_ids = vec![];
            config.peer.auth_application_ids = vec![app::CREDIT_CONTROL];
            let (h, r, d) = (
                config.peer.origin_host.clone(),
                config.peer.origin_realm.clone(),
                config.destination_realm.clone(),
            );
            let ctf = Ctf::connect(config).await.map_err(|e| e.0)?;
            Ok(RoClient {
                ctf,
                origin_host: h,
                origin_realm: r,
                destination_realm: d,
                msisdn: msisdn.into(),
                local_ccfh: 0,
                local_ddfh: 0,
                quota_policy: QuotaPolicy::default(),
            })
        }

        pub fn new_session(&self) -> RoSession {
            RoSession {
                session_id: self.ctf.new_session().session_id,
                next_number: 0,
                ccfh: self.local_ccfh,
                ddfh: self.local_ddfh,
                grants: vec![],
                quotas: vec![],
                rejected_grant: None,
                must_terminate: None,
                refund_information: None,
            }
        }

        /// The next CCR of `session` (its CC-Request-Number taken).
        pub fn ccr(
            &self,
            session: &mut RoSession,
            request_type: CcRequestType,
            requested_action: Option<RequestedAction>,
            mscc: Vec<Mscc>,
        ) -> Ccr {
            let number = session.next_number;
            session.next_number += 1;
            Ccr {
                session_id: session.session_id.clone(),
                origin_host: self.origin_host.clone(),
                origin_realm: self.origin_realm.clone(),
                destination_realm: self.destination_realm.clone(),
                service_context_id: "32260@3gpp.org".into(),
                request_type,
                request_number: number,
                requested_action,
                event_timestamp: Some(Time::from_utc(chrono::Utc::now())),
                subscription_ids: vec![SubscriptionId {
                    kind: 0,
                    data: self.msisdn.clone(),
                }],
                mscc,
            }
        }

        /// Sends a CCR and keeps what its CCA tells the session.
        pub async fn send(&self, session: &mut RoSession, ccr: &Ccr) -> Result<Outcome, String> {
            self.send_message(session, ccr.to_message(), Utc::now())
                .await
        }

        /// Sends a CCR built as a message (with AVPs the typed [`Ccr`] does not carry: usage
        /// reports, Termination-Cause), taking its CCA's grants as of `now`.
        pub async fn send_message(
            &self,
            session: &mut RoSession,
            ccr: Message,
            now: DateTime<Utc>,
        ) -> Result<Outcome, String> {
            match self.ctf.send(ccr).await.map_err(|e| e.0)? {
                Delivery::Buffered => Ok(Outcome::Buffered),
                Delivery::Answered {
                    answer,
                    via_secondary,
                    retransmissions,
                } => {
                    let cca = Cca::parse(&answer)
                        .ok_or_else(|| format!("not a valid CCA: {answer:?}"))?;
                    if let Some(v) = cca.credit_control_failure_handling {
                        session.ccfh = v;
                    }
                    if let Some(v) = answer.i32("Direct-Debiting-Failure-Handling") {
                        session.ddfh = v;
                    }
                    if !cca.mscc.is_empty() {
                        session.grants = cca.mscc.clone();
                    }
                    self.take_grants(session, &cca, &answer, now);
                    if matches!(cca.result_code, 5003 | 5030 | 4012)
                        && cca.request_type == CcRequestType::Update
                    {
                        session.must_terminate = Some(cca.result_code);
                    }
                    if let Some(r) = answer
                        .avps_named("Multiple-Services-Credit-Control")
                        .find_map(|m| m.child("Refund-Information"))
                        .and_then(Avp::as_bytes)
                    {
                        session.refund_information = Some(r.to_vec());
                    }
                    Ok(Outcome::Answered {
                        cca,
                        answer,
                        retransmissions,
                        via_secondary,
                    })
                }
            }
        }

        /// Replaces the quota of each MSCC that carries a grant (same rating group and
        /// service identifiers), or refuses the grant as the policy says.
        fn take_grants(
            &self,
            session: &mut RoSession,
            cca: &Cca,
            answer: &Message,
            now: DateTime<Utc>,
        ) {
            let raws: Vec<&Avp> = answer
                .avps_named("Multiple-Services-Credit-Control")
                .collect();
            for (typed, raw) in cca.mscc.iter().zip(raws) {
                if typed.granted.is_none() {
                    continue;
                }
                match Quota::grant(typed, raw, now, self.quota_policy) {
                    Ok(q) => {
                        session.quotas.retain(|o| {
                            o.rating_group != q.rating_group
                                || o.service_identifiers != q.service_identifiers
                        });
                        session.quotas.push(q);
                    }
                    Err(e) => session.rejected_grant = Some(e),
                }
            }
        }

        /// User traffic on the quota of `rating_group`: octets each way and service events.
        pub fn traffic(
            &self,
            session: &mut RoSession,
            rating_group: u32,
            at: DateTime<Utc>,
            input: u64,
            output: u64,
            events: u64,
        ) {
            if let Some(q) = session
                .quotas
                .iter_mut()
                .find(|q| q.rating_group == Some(rating_group))
            {
                q.traffic(at, input, output, events);
            }
        }

        /// What the quotas ask for at `now`.
        pub fn due(&self, session: &RoSession, now: DateTime<Utc>) -> Vec<Due> {
            session.quotas.iter().filter_map(|q| q.due(now)).collect()
        }

        /// A CCR-Update reporting every quota with something due at `now` (its reason),
        /// or `None` when nothing is due. Final units are not reported here: the caller
        /// applies the Final-Unit-Action (see [`Self::termination`]).
        pub fn update_for_due(
            &self,
            session: &mut RoSession,
            now: DateTime<Utc>,
        ) -> Option<Message> {
            // Credit pools (RFC 8506 §5.1.2): exhausted when their quotas used the credits
            // they brought together.
            let mut pools: std::collections::HashMap<u32, (f64, f64)> = Default::default();
            for (id, granted, used) in session.quotas.iter().filter_map(|q| q.pool_credits(now)) {
                let e = pools.entry(id).or_default();
                e.0 += granted;
                e.1 += used;
            }
            let mut reports = vec![];
            for q in &mut session.quotas {
                let pool_out = q
                    .pool_id()
                    .and_then(|p| pools.get(&p))
                    .is_some_and(|(granted, used)| used >= granted);
                if pool_out {
                    reports.push(q.report(ReportingReason::PoolExhausted, now));
                } else if let Some(Due::Report(reason)) = q.due(now) {
                    reports.push(q.report(reason, now));
                }
            }
            if reports.is_empty() {
                return None;
            }
            let mut m = self
                .ccr(session, CcRequestType::Update, None, vec![])
                .to_message();
            m.avps.extend(reports);
            Some(m)
        }

        /// A CCR-Update reporting every quota for `reason` (FORCED_REAUTHORISATION after a
        /// RAR, RATING_CONDITION_CHANGE, …).
        pub fn update_reporting(
            &self,
            session: &mut RoSession,
            reason: ReportingReason,
            now: DateTime<Utc>,
        ) -> Message {
            let reports: Vec<Avp> = session
                .quotas
                .iter_mut()
                .map(|q| q.report(reason, now))
                .collect();
            let mut m = self
                .ccr(session, CcRequestType::Update, None, vec![])
                .to_message();
            m.avps.extend(reports);
            m
        }

        /// The CCR-Termination: each quota's last usage (Reporting-Reason FINAL), and the
        /// Termination-Cause when given (DIAMETER_BAD_ANSWER after a refused grant).
        pub fn termination(
            &self,
            session: &mut RoSession,
            now: DateTime<Utc>,
            termination_cause: Option<i32>,
        ) -> Message {
            let reports: Vec<Avp> = session
                .quotas
                .iter_mut()
                .map(|q| q.report(ReportingReason::Final, now))
                .collect();
            session.quotas.clear();
            let mut m = self
                .ccr(session, CcRequestType::Termination, None, vec![])
                .to_message();
            if let Some(c) = termination_cause {
                m.avps.push(Avp::enumerated("Termination-Cause", c));
            }
            m.avps.extend(reports);
            m
        }

        /// What to do after no OCF answered a CCR of `session` (primary, retransmissions and
        /// the alternate exhausted by [`Ctf::send`]): the OCF's CCFH / DDFH if it sent one,
        /// else the local value. `maybe_delivered`: the request went out and timed out (it
        /// may have reached an OCF), as opposed to never leaving (no connection).
        pub fn on_no_answer(
            &self,
            session: &RoSession,
            event: bool,
            maybe_delivered: bool,
        ) -> FailureAction {
            if event {
                match session.ddfh {
                    1 => FailureAction::ContinueAndBuffer,
                    _ if maybe_delivered => FailureAction::Buffer,
                    _ => FailureAction::TerminateService,
                }
            } else {
                match session.ccfh {
                    1 => FailureAction::ContinueService,
                    _ => FailureAction::TerminateService,
                }
            }
        }

        /// Credit control resumed on a new session after a CCR that reported usage got no
        /// answer and the service went on (CCFH CONTINUE, RFC 8506 §5.7): the new session's
        /// CCR-Initial asks for `requested` and reports the units `unanswered` reported, which
        /// the OCF never acknowledged — each Used-Service-Unit as it was, so a split at a
        /// Tariff-Time-Change keeps its Tariff-Change-Usage per side, and nothing at the MSCC
        /// level (TS 32.299 §6.3.7.1; TP_RO_CTF_CH_01 / CH_04). Usage of a rating group /
        /// service not asked for again travels in an MSCC of its own.
        pub fn initial_with_unacknowledged(
            &self,
            unanswered: &Message,
            requested: Vec<Mscc>,
        ) -> (RoSession, Message) {
            let mut session = self.new_session();
            let mut m = self
                .ccr(&mut session, CcRequestType::Initial, None, requested)
                .to_message();
            let key = |mscc: &Avp| {
                (
                    mscc.child("Rating-Group").and_then(Avp::as_u32),
                    mscc.child("Service-Identifier").and_then(Avp::as_u32),
                )
            };
            for old in unanswered.avps_named("Multiple-Services-Credit-Control") {
                let usus: Vec<Avp> = old
                    .children()
                    .unwrap_or_default()
                    .iter()
                    .filter(|c| c.name() == "Used-Service-Unit")
                    .cloned()
                    .collect();
                if usus.is_empty() {
                    continue;
                }
                let target = m
                    .avps
                    .iter_mut()
                    .find(|a| a.name() == "Multiple-Services-Credit-Control" && key(a) == key(old));
                match target {
                    Some(Avp {
                        value: Value::Grouped(children),
                        ..
                    }) => children.extend(usus),
                    _ => {
                        let mut children = usus;
                        children.extend(
                            old.children()
                                .unwrap_or_default()
                                .iter()
                                .filter(|c| {
                                    matches!(c.name(), "Rating-Group" | "Service-Identifier")
                                })
                                .cloned(),
                        );
                        m.avps
                            .push(Avp::grouped("Multiple-Services-Credit-Control", children));
                    }
                }
            }
            (session, m)
        }

        /// Session-Ids the OCF sent a RAR for since the last call (RFC 8506 §5.5).
        pub fn take_reauthorizations(&self) -> Vec<String> {
            std::mem::take(
                &mut *self
                    .ctf
                    .rar_received
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()),
            )
        }
    }
}
