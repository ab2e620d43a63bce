//! ETSI TS 103 374-2 (Ro, CTF role), the procedures that need the client to *behave*:
//! quota holding and consumption time, reporting reasons, envelopes, time-quota mechanisms,
//! tariff changes, final units, re-authorization, refused updates, refunds, failover to a
//! secondary OCF and failure handling (CCFH / DDFH).
//!
//! The tester plays the OCF: a scripted Diameter server on real TCP answers each CCR with the
//! CCA the TP prescribes and records what the CTF (`unicharge_sim::diameter_ro::client`,
//! whose quota logic is `unicharge_diameter::cc::quota`) puts on the wire. Time is the
//! test's: traffic and checks carry explicit time stamps, so nothing sleeps.
//!
//! Readings taken where the TP text is not usable as written (see the catalog's notes):
//! OP_01 / OP_03 expect "Volume-Quota-Threshold; Granted-Service-Unit" in a CCR, which a client
//! never sends; TS 32.299 §5.1.2.2.4 returns the quota with a Used-Service-Unit and
//! Reporting-Reason QHT, which is what is asserted. CH_03 / CH_06's rejecting CCR is a
//! CCR-Termination with Termination-Cause DIAMETER_BAD_ANSWER (RFC 8506 §5.1.2). FH_01's last
//! CCR carries Alternate-Charged-Party-Address "indicating a different OCF server", an IMS
//! charged-party AVP that cannot mean that; the test asserts what RFC 8506 §5.7 asks instead:
//! the T-flagged failover to the secondary and the OCF's CCFH overriding the local one. OP_09's
//! "user B" / "user C" are read as the charged session that ends (CCR-T) and the new session
//! towards the redirect target (CCR-I).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use unicharge_diameter::cc::quota::{Due, QuotaPolicy, ReportingReason};
use unicharge_diameter::cc::{CcRequestType, Mscc, RequestedAction, ServiceUnit};
use unicharge_diameter::peer::{
    serve, DuplicateCache, PeerConfig, PeerHandle, PeerTable, RequestHandler, Shared,
};
use unicharge_diameter::rf::cdf::BoxFuture;
use unicharge_diameter::rf::ctf::CtfConfig;
use unicharge_diameter::tap::{Direction, Mode, Tap};
use unicharge_diameter::{app, cmd, Avp, Message, Time};
use unicharge_sim::diameter_ro::client::{FailureAction, Outcome, RoClient, RoSession};

const CTF_HOST: &str = "ctf.iut.example";
const DATA: u32 = 20;
const VOICE: u32 = 10;

type Script = dyn Fn(&Message) -> (u32, Vec<Avp>) + Send + Sync;

/// The tester's OCF: answers every CCR with the Result-Code and extra AVPs `script` gives.
struct Ocf {
    script: Box<Script>,
    seen: Arc<Mutex<Vec<Message>>>,
}

impl RequestHandler for Ocf {
    fn handle(&self, request: Message, _peer: PeerHandle) -> BoxFuture<'_, Option<Message>> {
        Box::pin(async move {
            self.seen.lock().unwrap().push(request.clone());
            let (code, extra) = (self.script)(&request);
            let mut a = Message::answer_to(&request)
                .with(Avp::u32("Result-Code", code))
                .with(Avp::identity("Origin-Host", "ocf.tester.example"))
                .with(Avp::identity("Origin-Realm", "tester.example"))
                .with(Avp::u32("Auth-Application-Id", app::CREDIT_CONTROL));
            for n in ["CC-Request-Type", "CC-Request-Number"] {
                if let Some(v) = request.avp(n) {
                    a.avps.push(v.clone());
                }
            }
            a.avps.extend(extra);
            Some(a)
        })
    }
}

struct Rig {
    ctf: RoClient,
    seen: Arc<Mutex<Vec<Message>>>,
    table: Arc<PeerTable>,
}

/// A scripted OCF on loopback: its address, what it received, its peer table.
async fn ocf(
    script: impl Fn(&Message) -> (u32, Vec<Avp>) + Send + Sync + 'static,
) -> (
    std::net::SocketAddr,
    Arc<Mutex<Vec<Message>>>,
    Arc<PeerTable>,
) {
    ocf_at("127.0.0.1:0".parse().unwrap(), script).await
}

/// [`ocf`] on a given address (a primary that comes up on the port the CTF was given).
async fn ocf_at(
    at: std::net::SocketAddr,
    script: impl Fn(&Message) -> (u32, Vec<Avp>) + Send + Sync + 'static,
) -> (
    std::net::SocketAddr,
    Arc<Mutex<Vec<Message>>>,
    Arc<PeerTable>,
) {
    let listener = tokio::net::TcpListener::bind(at).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let table = Arc::new(PeerTable::default());
    let mut config = PeerConfig::cdf("ocf.tester.example", "tester.example");
    config.acct_application_ids = vec![];
    config.auth_application_ids = vec![app::CREDIT_CONTROL];
    tokio::spawn(serve(
        listener,
        Shared {
            config,
            handler: Arc::new(Ocf {
                script: Box::new(script),
                seen: seen.clone(),
            }),
            table: table.clone(),
            duplicates: Arc::new(DuplicateCache::default()),
        },
    ));
    (addr, seen, table)
}

fn ctf_config(primary: std::net::SocketAddr) -> CtfConfig {
    let mut c = CtfConfig::new(CTF_HOST, "iut.example", "tester.example", primary);
    c.request_timeout = Duration::from_millis(500);
    c.max_retransmissions = 0;
    c
}

async fn rig_with(
    policy: QuotaPolicy,
    script: impl Fn(&Message) -> (u32, Vec<Avp>) + Send + Sync + 'static,
) -> Rig {
    let (addr, seen, table) = ocf(script).await;
    let mut ctf = RoClient::connect(ctf_config(addr), "4915100000002")
        .await
        .unwrap();
    ctf.quota_policy = policy;
    Rig { ctf, seen, table }
}

async fn rig(script: impl Fn(&Message) -> (u32, Vec<Avp>) + Send + Sync + 'static) -> Rig {
    rig_with(QuotaPolicy::default(), script).await
}

fn t(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_733_486_400 + s, 0).unwrap()
}

fn kind(m: &Message) -> i32 {
    m.i32("CC-Request-Type").unwrap()
}

/// The MSCC a CCA-Initial grants on `rating_group`: `gsu` plus the TS 32.299 extras.
fn grant(rating_group: u32, gsu: ServiceUnit, extra: Vec<Avp>) -> Avp {
    Mscc {
        rating_group: Some(rating_group),
        granted: Some(gsu),
        result_code: Some(2001),
        ..Default::default()
    }
    .to_avp_with(extra)
}

fn volume(octets: u64) -> ServiceUnit {
    ServiceUnit {
        cc_total_octets: Some(octets),
        ..Default::default()
    }
}

fn time(s: u32) -> ServiceUnit {
    ServiceUnit {
        cc_time: Some(s),
        ..Default::default()
    }
}

/// A script granting `mscc` to the CCR-Initial and answering the rest 2001.
fn initial_grants(mscc: Avp) -> impl Fn(&Message) -> (u32, Vec<Avp>) + Send + Sync {
    move |m| {
        if kind(m) == CcRequestType::Initial as i32 {
            (2001, vec![mscc.clone()])
        } else {
            (2001, vec![])
        }
    }
}

fn requested(rating_group: u32, unit: ServiceUnit) -> Mscc {
    Mscc {
        rating_group: Some(rating_group),
        requested: Some(unit),
        ..Default::default()
    }
}

impl Rig {
    async fn initial(&self, s: &mut RoSession, rg: u32, unit: ServiceUnit) -> Message {
        let ccr = self
            .ctf
            .ccr(s, CcRequestType::Initial, None, vec![requested(rg, unit)]);
        self.send(s, ccr.to_message(), t(0)).await
    }
    async fn send(&self, s: &mut RoSession, m: Message, now: DateTime<Utc>) -> Message {
        match self.ctf.send_message(s, m, now).await.unwrap() {
            Outcome::Answered { answer, .. } => answer,
            Outcome::Buffered => panic!("no CCA"),
        }
    }
    fn last(&self) -> Message {
        self.seen.lock().unwrap().last().cloned().expect("a CCR")
    }
    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
    /// Sends a RAR for `s` (AUTHORIZE_ONLY) and returns the RAA.
    async fn rar(&self, s: &RoSession) -> Message {
        let peer = self.table.get(CTF_HOST).expect("the CTF is connected");
        let rar = Message::request(cmd::RE_AUTH, app::CREDIT_CONTROL, 0, 0)
            .with(Avp::utf8("Session-Id", s.session_id.clone()))
            .with(Avp::identity("Origin-Host", "ocf.tester.example"))
            .with(Avp::identity("Origin-Realm", "tester.example"))
            .with(Avp::identity("Destination-Realm", "iut.example"))
            .with(Avp::identity("Destination-Host", CTF_HOST))
            .with(Avp::u32("Auth-Application-Id", app::CREDIT_CONTROL))
            .with(Avp::enumerated("Re-Auth-Request-Type", 0));
        peer.request(rar, Duration::from_secs(5)).await.unwrap()
    }
}

fn msccs(m: &Message) -> Vec<&Avp> {
    m.avps_named("Multiple-Services-Credit-Control").collect()
}

fn usus(mscc: &Avp) -> Vec<&Avp> {
    mscc.children()
        .unwrap()
        .iter()
        .filter(|c| c.name() == "Used-Service-Unit")
        .collect()
}

fn child_u64(a: &Avp, n: &str) -> Option<u64> {
    a.child(n).and_then(Avp::as_u64)
}

fn mscc_reason(mscc: &Avp) -> Option<i32> {
    mscc.child("Reporting-Reason").and_then(Avp::as_i32)
}

// --- Quota-Holding-Time -------------------------------------------------------------------

async fn quota_holding(qht_in_cca: Option<u32>, local: u32) -> (Rig, RoSession) {
    let extra = qht_in_cca
        .map(|q| vec![Avp::u32("Quota-Holding-Time", q)])
        .unwrap_or_default();
    let r = rig_with(
        QuotaPolicy {
            local_quota_holding_time: local,
            ..QuotaPolicy::default()
        },
        initial_grants(grant(DATA, volume(100_000), extra)),
    )
    .await;
    let mut s = r.ctf.new_session();
    r.initial(&mut s, DATA, volume(100_000)).await;
    r.ctf.traffic(&mut s, DATA, t(1), 1_000, 3_000, 0);
    r.ctf.traffic(&mut s, DATA, t(4), 500, 500, 0);
    (r, s)
}

async fn assert_quota_returned_after(r: &Rig, s: &mut RoSession, qht: i64) {
    assert!(
        r.ctf.update_for_due(s, t(4 + qht - 1)).is_none(),
        "nothing due before the holding time elapsed"
    );
    let ccr = r
        .ctf
        .update_for_due(s, t(4 + qht))
        .expect("QHT expiry reports");
    r.send(s, ccr, t(4 + qht)).await;
    let ccr = r.last();
    assert_eq!(kind(&ccr), CcRequestType::Update as i32);
    let m = msccs(&ccr);
    assert_eq!(m.len(), 1);
    assert_eq!(
        mscc_reason(m[0]),
        Some(ReportingReason::QuotaHoldingTime as i32)
    );
    let u = usus(m[0]);
    assert_eq!(child_u64(u[0], "CC-Total-Octets"), Some(5_000));
    assert_eq!(child_u64(u[0], "CC-Input-Octets"), Some(1_500));
    assert_eq!(child_u64(u[0], "CC-Output-Octets"), Some(3_500));
    assert!(
        m[0].child("Requested-Service-Unit").is_none(),
        "the quota is handed back"
    );
}

#[tokio::test]
async fn tp_ro_ctf_op_01() {
    let (r, mut s) = quota_holding(Some(30), 0).await;
    assert_quota_returned_after(&r, &mut s, 30).await;
}

#[tokio::test]
async fn tp_ro_ctf_op_02() {
    let (r, mut s) = quota_holding(Some(0), 45).await;
    // QHT 0 from the OCF overrides the local value: idle for an hour, nothing is returned.
    assert!(r.ctf.update_for_due(&mut s, t(3_600)).is_none());
    let before = r.count();
    let ccr = r
        .ctf
        .update_reporting(&mut s, ReportingReason::RatingConditionChange, t(3_600));
    r.send(&mut s, ccr, t(3_600)).await;
    assert_eq!(r.count(), before + 1);
    let ccr = r.last();
    assert_eq!(kind(&ccr), CcRequestType::Update as i32);
    let m = msccs(&ccr);
    assert_ne!(
        mscc_reason(m[0]),
        Some(ReportingReason::QuotaHoldingTime as i32)
    );
    assert!(m[0].child("Volume-Quota-Threshold").is_none());
    assert!(m[0].child("Granted-Service-Unit").is_none());
}

#[tokio::test]
async fn tp_ro_ctf_op_03() {
    // No QHT in the CCA: the local 20 s applies.
    let (r, mut s) = quota_holding(None, 20).await;
    assert_quota_returned_after(&r, &mut s, 20).await;
}

// --- Reporting reasons ----------------------------------------------------------------------

#[tokio::test]
async fn tp_ro_ctf_op_05() {
    // VA_01 QHT is op_01; VA_02 FINAL, VA_03 VALIDITY_TIME, VA_04 FORCED_REAUTHORISATION here.
    let r = rig(initial_grants(grant(
        DATA,
        volume(100_000),
        vec![
            Avp::u32("Validity-Time", 60),
            Avp::u32("Quota-Holding-Time", 10),
        ],
    )))
    .await;
    // VA_01: QHT.
    let mut s = r.ctf.new_session();
    r.initial(&mut s, DATA, volume(100_000)).await;
    r.ctf.traffic(&mut s, DATA, t(1), 10, 10, 0);
    let ccr = r.ctf.update_for_due(&mut s, t(11)).unwrap();
    r.send(&mut s, ccr, t(11)).await;
    assert_eq!(mscc_reason(msccs(&r.last())[0]), Some(1));
    // VA_02: FINAL — the service of the rating group ends while the session goes on.
    let mut s = r.ctf.new_session();
    r.initial(&mut s, DATA, volume(100_000)).await;
    r.ctf.traffic(&mut s, DATA, t(1), 10, 10, 0);
    let ccr = r.ctf.update_reporting(&mut s, ReportingReason::Final, t(5));
    r.send(&mut s, ccr, t(5)).await;
    assert_eq!(mscc_reason(msccs(&r.last())[0]), Some(2));
    // VA_03: VALIDITY_TIME, due exactly when the 60 s run out (traffic keeps QHT away).
    let mut s = r.ctf.new_session();
    r.initial(&mut s, DATA, volume(100_000)).await;
    for at in (1..60).step_by(5) {
        r.ctf.traffic(&mut s, DATA, t(at), 10, 10, 0);
    }
    assert!(r.ctf.update_for_due(&mut s, t(59)).is_none());
    let ccr = r.ctf.update_for_due(&mut s, t(60)).unwrap();
    r.send(&mut s, ccr, t(60)).await;
    assert_eq!(mscc_reason(msccs(&r.last())[0]), Some(4));
    // VA_04: FORCED_REAUTHORISATION after a RAR.
    let mut s = r.ctf.new_session();
    r.initial(&mut s, DATA, volume(100_000)).await;
    r.ctf.traffic(&mut s, DATA, t(1), 10, 10, 0);
    let raa = r.rar(&s).await;
    assert_eq!(raa.result_code(), Some(2001));
    assert_eq!(r.ctf.take_reauthorizations(), vec![s.session_id.clone()]);
    let ccr = r
        .ctf
        .update_reporting(&mut s, ReportingReason::ForcedReauthorisation, t(2));
    r.send(&mut s, ccr, t(2)).await;
    let last = r.last();
    let m = msccs(&last);
    assert_eq!(mscc_reason(m[0]), Some(7));
    assert!(
        usus(m[0])[0].child("Reporting-Reason").is_none(),
        "MSCC level only"
    );
}

#[tokio::test]
async fn tp_ro_ctf_op_06() {
    // Trigger-Type 2 = CHANGE_IN_QOS (TS 32.299 §7.2.209).
    let r = rig(initial_grants(grant(
        DATA,
        volume(100_000),
        vec![Avp::grouped(
            "Trigger",
            vec![Avp::enumerated("Trigger-Type", 2)],
        )],
    )))
    .await;
    let mut s = r.ctf.new_session();
    r.initial(&mut s, DATA, volume(100_000)).await;
    r.ctf.traffic(&mut s, DATA, t(1), 100, 200, 0);
    // A change the OCF did not arm is no reason to report.
    s.quotas[0].rating_condition_changed(5);
    assert!(r.ctf.update_for_due(&mut s, t(2)).is_none());
    s.quotas[0].rating_condition_changed(2);
    let ccr = r
        .ctf
        .update_for_due(&mut s, t(2))
        .expect("the armed trigger fired");
    r.send(&mut s, ccr, t(2)).await;
    let last = r.last();
    let m = msccs(&last)[0];
    assert_eq!(mscc_reason(m), Some(6));
    assert_eq!(
        m.child("Trigger")
            .and_then(|t| t.child("Trigger-Type"))
            .and_then(Avp::as_i32),
        Some(2)
    );
    assert_eq!(child_u64(usus(m)[0], "CC-Total-Octets"), Some(300));
}

#[tokio::test]
async fn tp_ro_ctf_op_07() {
    // VA_01 THRESHOLD: 10 kB granted, threshold 2 kB: due once 8 kB are used.
    let r = rig(initial_grants(grant(
        DATA,
        ServiceUnit {
            cc_time: Some(600),
            cc_total_octets: Some(10_000),
            ..Default::default()
        },
        vec![Avp::u32("Volume-Quota-Threshold", 2_000)],
    )))
    .await;
    let mut s = r.ctf.new_session();
    r.initial(&mut s, DATA, volume(10_000)).await;
    r.ctf.traffic(&mut s, DATA, t(1), 3_000, 4_000, 0);
    assert!(r.ctf.update_for_due(&mut s, t(2)).is_none());
    r.ctf.traffic(&mut s, DATA, t(3), 500, 600, 0);
    let ccr = r
        .ctf
        .update_for_due(&mut s, t(3))
        .expect("threshold reached");
    r.send(&mut s, ccr, t(3)).await;
    let last = r.last();
    let m = msccs(&last)[0];
    assert_eq!(mscc_reason(m), None, "not at MSCC level");
    assert_eq!(
        usus(m)[0].child("Reporting-Reason").and_then(Avp::as_i32),
        Some(0)
    );
    // VA_02 QUOTA_EXHAUSTED and VA_03 OTHER_QUOTA_TYPE: the volume runs out, time does not.
    r.ctf.traffic(&mut s, DATA, t(4), 2_000, 1_000, 0);
    let ccr = r
        .ctf
        .update_for_due(&mut s, t(4))
        .expect("volume exhausted");
    r.send(&mut s, ccr, t(4)).await;
    let last = r.last();
    let u = usus(msccs(&last)[0]);
    let reasons: Vec<(bool, i32)> = u
        .iter()
        .map(|u| {
            (
                u.child("CC-Time").is_some(),
                u.child("Reporting-Reason").unwrap().as_i32().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        vec![(true, 5), (false, 3)],
        "time: other quota type; volume: exhausted"
    );
    assert_eq!(
        child_u64(u[1], "CC-Total-Octets"),
        Some(3_000),
        "since the last report"
    );
    // VA_04 POOL_EXHAUSTED: two rating groups share pool 7 (1 unit per octet, 2 per second).
    let pool = |rg: u32, gsu: ServiceUnit, mult: i64| {
        Mscc {
            rating_group: Some(rg),
            granted: Some(gsu),
            gsu_pool_reference: vec![unicharge_diameter::cc::GsuPoolReference {
                pool_id: 7,
                unit_type: if rg == VOICE { 0 } else { 2 },
                value_digits: mult,
                exponent: None,
            }],
            ..Default::default()
        }
        .to_avp_with(vec![])
    };
    let (a, b) = (pool(DATA, volume(1_000), 1), pool(VOICE, time(100), 2));
    let r = rig(move |m| {
        if kind(m) == CcRequestType::Initial as i32 {
            (2001, vec![a.clone(), b.clone()])
        } else {
            (2001, vec![])
        }
    })
    .await;
    let mut s = r.ctf.new_session();
    r.initial(&mut s, DATA, volume(1_000)).await;
    assert_eq!(s.quotas.len(), 2);
    // Pool credit 1000 + 2 × 100 = 1200; 700 octets (700) + 300 s (600) = 1300 > 1200.
    r.ctf.traffic(&mut s, DATA, t(0), 300, 400, 0);
    r.ctf.traffic(&mut s, VOICE, t(0), 0, 0, 0);
    assert!(
        r.ctf.update_for_due(&mut s, t(200)).is_none(),
        "1100 of 1200 used"
    );
    let ccr = r
        .ctf
        .update_for_due(&mut s, t(300))
        .expect("pool exhausted");
    r.send(&mut s, ccr, t(300)).await;
    let last = r.last();
    for m in msccs(&last) {
        assert_eq!(
            usus(m)[0].child("Reporting-Reason").and_then(Avp::as_i32),
            Some(8),
            "{m:?}"
        );
    }
}

// --- Final units, quota consumption time ----------------------------------------------------

#[tokio::test]
async fn tp_ro_ctf_op_08() {
    let r = rig(|m| {
        let fui = Avp::grouped(
            "Final-Unit-Indication",
            vec![Avp::enumerated("Final-Unit-Action", 0)],
        );
        match kind(m) {
            1 => (2001, vec![grant(VOICE, time(60), vec![])]),
            2 => (2001, vec![grant(VOICE, time(30), vec![fui])]),
            _ => (2001, vec![]),
        }
    })
    .await;
    let mut s = r.ctf.new_session();
    r.initial(&mut s, VOICE, time(60)).await;
    r.ctf.traffic(&mut s, VOICE, t(0), 0, 0, 0);
    let ccr = r.ctf.update_for_due(&mut s, t(60)).expect("60 s used");
    r.send(&mut s, ccr, t(60)).await;
    let u = usus(msccs(&r.last())[0])[0].clone();
    assert_eq!(u.child("CC-Time").and_then(Avp::as_u32), Some(60));
    // The CCA-U granted the final 30 s; when they are used, TERMINATE.
    r.ctf.traffic(&mut s, VOICE, t(60), 0, 0, 0);
    assert!(r.ctf.due(&s, t(89)).is_empty());
    let due = r.ctf.due(&s, t(90));
    assert!(
        matches!(&due[..], [Due::FinalUnits(f)] if f.action == 0),
        "{due:?}"
    );
    let ccr = r.ctf.termination(&mut s, t(90), None);
    let cca = r.send(&mut s, ccr, t(90)).await;
    assert_eq!(cca.result_code(), Some(2001));
    let last = r.last();
    assert_eq!(kind(&last), CcRequestType::Termination as i32);
    assert_eq!(
        usus(msccs(&last)[0])[0]
            .child("CC-Time")
            .and_then(Avp::as_u32),
        Some(30)
    );
}

#[tokio::test]
async fn tp_ro_ctf_op_09() {
    let r = rig(|m| {
        let fui = Avp::grouped(
            "Final-Unit-Indication",
            vec![
                Avp::enumerated("Final-Unit-Action", 1),
                Avp::grouped(
                    "Redirect-Server",
                    vec![
                        Avp::enumerated("Redirect-Address-Type", 2),
                        Avp::utf8("Redirect-Server-Address", "sip:topup@tester.example"),
                    ],
                ),
            ],
        );
        match kind(m) {
            1 => (2001, vec![grant(VOICE, time(60), vec![])]),
            2 => (2001, vec![grant(VOICE, time(20), vec![fui])]),
            _ => (2001, vec![]),
        }
    })
    .await;
    let mut b = r.ctf.new_session();
    r.initial(&mut b, VOICE, time(60)).await;
    r.ctf.traffic(&mut b, VOICE, t(0), 0, 0, 0);
    let ccr = r.ctf.update_for_due(&mut b, t(60)).expect("60 s used");
    r.send(&mut b, ccr, t(60)).await;
    // The final 20 s end in a REDIRECT: the call to user B ends (CCR-T) and the user is
    // redirected, which is a new credit-control session (CCR-I) towards the redirect target.
    r.ctf.traffic(&mut b, VOICE, t(60), 0, 0, 0);
    let due = r.ctf.due(&b, t(80));
    let target = match &due[..] {
        [Due::FinalUnits(f)] if f.action == 1 => f.redirect_server.clone().unwrap().1,
        other => panic!("expected a REDIRECT, got {other:?}"),
    };
    assert_eq!(target, "sip:topup@tester.example");
    let ccr = r.ctf.termination(&mut b, t(80), None);
    r.send(&mut b, ccr, t(80)).await;
    let t_req = r.last();
    assert_eq!(kind(&t_req), CcRequestType::Termination as i32);
    assert_eq!(t_req.u32("CC-Request-Number"), Some(2));
    assert_eq!(
        usus(msccs(&t_req)[0])[0]
            .child("CC-Time")
            .and_then(Avp::as_u32),
        Some(20)
    );
    let mut c = r.ctf.new_session();
    r.initial(&mut c, VOICE, time(60)).await;
    let i_req = r.last();
    assert_eq!(kind(&i_req), CcRequestType::Initial as i32);
    assert_eq!(i_req.u32("CC-Request-Number"), Some(0));
    assert_ne!(
        i_req.session_id(),
        t_req.session_id(),
        "a new session for user C"
    );
}

#[tokio::test]
async fn tp_ro_ctf_op_10() {
    let r = rig(initial_grants(grant(
        VOICE,
        time(600),
        vec![Avp::u32("Quota-Consumption-Time", 10)],
    )))
    .await;
    let mut s = r.ctf.new_session();
    r.initial(&mut s, VOICE, time(600)).await;
    // Packets at 0 and 5, silence, packets at 100: envelopes [0, 15] and [100, 110].
    for at in [0, 5, 100] {
        r.ctf.traffic(&mut s, VOICE, t(at), 100, 100, 0);
    }
    let ccr = r
        .ctf
        .update_reporting(&mut s, ReportingReason::RatingConditionChange, t(200));
    r.send(&mut s, ccr, t(200)).await;
    let last = r.last();
    let u = usus(msccs(&last)[0])[0].clone();
    assert_eq!(
        u.child("CC-Time").and_then(Avp::as_u32),
        Some(25),
        "15 s + 10 s, not 200 s"
    );
}

// --- Envelope reporting ---------------------------------------------------------------------

/// Grants with Envelope-Reporting `mode` and QCT 10 s, sends traffic in two bursts, reports,
/// and returns the envelopes of the CCR-Update.
async fn envelopes(mode: i32, extra: Vec<Avp>) -> Vec<Avp> {
    let mut x = vec![
        Avp::enumerated("Envelope-Reporting", mode),
        Avp::u32("Quota-Consumption-Time", 10),
    ];
    x.extend(extra);
    let r = rig(initial_grants(grant(DATA, volume(1_000_000), x))).await;
    let mut s = r.ctf.new_session();
    r.initial(&mut s, DATA, volume(1_000_000)).await;
    r.ctf.traffic(&mut s, DATA, t(0), 100, 1_000, 1);
    r.ctf.traffic(&mut s, DATA, t(4), 100, 1_000, 1);
    r.ctf.traffic(&mut s, DATA, t(60), 50, 500, 1);
    let ccr = r
        .ctf
        .update_reporting(&mut s, ReportingReason::RatingConditionChange, t(100));
    r.send(&mut s, ccr, t(100)).await;
    let last = r.last();
    let m = msccs(&last)[0];
    assert!(!usus(m).is_empty(), "usage reported alongside");
    m.children()
        .unwrap()
        .iter()
        .filter(|c| c.name() == "Envelope")
        .cloned()
        .collect()
}

fn span(e: &Avp) -> (DateTime<Utc>, DateTime<Utc>) {
    let time = |n| e.child(n).and_then(Avp::as_time).map(Time::to_utc).unwrap();
    (time("Envelope-Start-Time"), time("Envelope-End-Time"))
}

fn has(e: &Avp, names: &[&str]) -> Vec<bool> {
    names.iter().map(|n| e.child(n).is_some()).collect()
}

const VOLUMES: [&str; 3] = ["CC-Total-Octets", "CC-Input-Octets", "CC-Output-Octets"];

#[tokio::test]
async fn tp_ro_ctf_op_13() {
    assert!(
        envelopes(0, vec![]).await.is_empty(),
        "DO_NOT_REPORT_ENVELOPES"
    );
}

#[tokio::test]
async fn tp_ro_ctf_op_14() {
    let e = envelopes(1, vec![]).await;
    assert_eq!(e.len(), 2);
    assert_eq!(span(&e[0]), (t(0), t(14)));
    assert_eq!(span(&e[1]), (t(60), t(70)));
    assert_eq!(has(&e[0], &VOLUMES), [false; 3]);
    assert!(e[0].child("CC-Service-Specific-Units").is_none());
}

#[tokio::test]
async fn tp_ro_ctf_op_15() {
    let e = envelopes(2, vec![]).await;
    assert_eq!(child_u64(&e[0], "CC-Total-Octets"), Some(2_200));
    assert_eq!(child_u64(&e[0], "CC-Input-Octets"), Some(200));
    assert_eq!(child_u64(&e[0], "CC-Output-Octets"), Some(2_000));
    assert_eq!(child_u64(&e[1], "CC-Total-Octets"), Some(550));
    assert!(e[0].child("CC-Service-Specific-Units").is_none());
}

#[tokio::test]
async fn tp_ro_ctf_op_16() {
    let e = envelopes(3, vec![]).await;
    assert_eq!(has(&e[0], &VOLUMES), [false; 3]);
    assert_eq!(child_u64(&e[0], "CC-Service-Specific-Units"), Some(2));
    assert_eq!(child_u64(&e[1], "CC-Service-Specific-Units"), Some(1));
}

#[tokio::test]
async fn tp_ro_ctf_op_17() {
    let e = envelopes(4, vec![]).await;
    assert_eq!(has(&e[0], &VOLUMES), [true; 3]);
    assert_eq!(child_u64(&e[1], "CC-Output-Octets"), Some(500));
    assert_eq!(child_u64(&e[0], "CC-Service-Specific-Units"), Some(2));
}

// --- Time-Quota-Mechanism (combinational quota) ---------------------------------------------

fn mechanism(kind: i32, bti: u32) -> Avp {
    Avp::grouped(
        "Time-Quota-Mechanism",
        vec![
            Avp::enumerated("Time-Quota-Type", kind),
            Avp::u32("Base-Time-Interval", bti),
        ],
    )
}

/// Envelope lengths (s) for traffic at 0, 4 and 60 under a mechanism and optional QCT.
async fn mechanism_envelopes(kind: i32, bti: u32, qct: Option<u32>) -> Vec<i64> {
    let mut extra = vec![
        Avp::enumerated("Envelope-Reporting", 1),
        mechanism(kind, bti),
    ];
    extra.extend(qct.map(|q| Avp::u32("Quota-Consumption-Time", q)));
    let r = rig(initial_grants(grant(
        DATA,
        ServiceUnit {
            cc_time: Some(3_600),
            ..Default::default()
        },
        extra,
    )))
    .await;
    let mut s = r.ctf.new_session();
    r.initial(&mut s, DATA, time(3_600)).await;
    for at in [0, 4, 60] {
        r.ctf.traffic(&mut s, DATA, t(at), 10, 10, 0);
    }
    let ccr = r
        .ctf
        .update_reporting(&mut s, ReportingReason::RatingConditionChange, t(200));
    r.send(&mut s, ccr, t(200)).await;
    let last = r.last();
    let m = msccs(&last)[0];
    let lens: Vec<i64> = m
        .children()
        .unwrap()
        .iter()
        .filter(|c| c.name() == "Envelope")
        .map(|e| {
            let (a, b) = span(e);
            (b - a).num_seconds()
        })
        .collect();
    let used = usus(m)[0].child("CC-Time").and_then(Avp::as_u32).unwrap();
    assert_eq!(
        i64::from(used),
        lens.iter().sum::<i64>(),
        "time used = the envelopes"
    );
    lens
}

#[tokio::test]
async fn tp_ro_ctf_op_18() {
    // VA_01 DTP, BTI 10 s: periods [0,10) with traffic at 0 and 4, then [60,70).
    assert_eq!(mechanism_envelopes(0, 10, None).await, vec![10, 10]);
    // VA_02 CTP, BTI 10 s: an envelope lasts while packets come within a BTI: [0, 14] → 20.
    assert_eq!(mechanism_envelopes(1, 10, None).await, vec![20, 10]);
}

#[tokio::test]
async fn tp_ro_ctf_op_19() {
    // DTP with QCT 15 s, BTI 10 s: [0, 4 + 15 = 19] → 2 BTIs; [60, 75] → 2 BTIs.
    let lens = mechanism_envelopes(0, 10, Some(15)).await;
    assert_eq!(lens, vec![20, 20]);
    assert!(
        lens.iter().all(|l| l % 10 == 0),
        "End − Start is a whole number of DTPs"
    );
}

#[tokio::test]
async fn tp_ro_ctf_op_20() {
    // CTP with QCT 15 s, BTI 7 s: [0, 19] → 21 s (3 BTIs), [60, 75] → 21 s; never the bare
    // CTP value of one BTI.
    let lens = mechanism_envelopes(1, 7, Some(15)).await;
    assert_eq!(lens, vec![21, 21]);
    assert!(lens.iter().all(|l| *l != 7));
}

#[tokio::test]
async fn tp_ro_ctf_op_21() {
    // With QCT present, both mechanisms close envelopes QCT after the last packet.
    assert_eq!(mechanism_envelopes(0, 5, Some(30)).await, vec![35, 30]);
    assert_eq!(mechanism_envelopes(1, 5, Some(30)).await, vec![35, 30]);
}

// --- Tariff changes -------------------------------------------------------------------------

fn with_switch(mut u: ServiceUnit, at: i64) -> ServiceUnit {
    u.tariff_time_change = Some(Time::from_utc(t(at)));
    u
}

fn tcu_split(m: &Message, unit: &str) -> Vec<(i32, u64)> {
    usus(msccs(m)[0])
        .iter()
        .map(|u| {
            (
                u.child("Tariff-Change-Usage")
                    .and_then(Avp::as_i32)
                    .unwrap(),
                u.child(unit).and_then(Avp::as_u64).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn tp_ro_ctf_ch_02() {
    // Event charging with unit reservation (messages), the tariff switching at t = 60.
    let units = ServiceUnit {
        cc_service_specific_units: Some(10),
        ..Default::default()
    };
    let r = rig(initial_grants(grant(
        DATA,
        with_switch(units.clone(), 60),
        vec![],
    )))
    .await;
    let mut s = r.ctf.new_session();
    let cca = r.initial(&mut s, DATA, units).await;
    assert_eq!(cca.result_code(), Some(2001));
    assert!(
        s.rejected_grant.is_none(),
        "the tariff time change is accepted"
    );
    for at in [10, 20, 70] {
        r.ctf.traffic(&mut s, DATA, t(at), 0, 0, 1);
    }
    let ccr = r.ctf.termination(&mut s, t(80), None);
    r.send(&mut s, ccr, t(80)).await;
    let last = r.last();
    assert_eq!(kind(&last), CcRequestType::Termination as i32);
    assert_eq!(
        tcu_split(&last, "CC-Service-Specific-Units"),
        vec![(0, 2), (1, 1)]
    );
}

async fn rejected_switch(unit: ServiceUnit) {
    let r = rig_with(
        QuotaPolicy {
            supports_tariff_time_change: false,
            ..QuotaPolicy::default()
        },
        initial_grants(grant(DATA, with_switch(unit.clone(), 60), vec![])),
    )
    .await;
    let mut s = r.ctf.new_session();
    r.initial(&mut s, DATA, unit).await;
    assert!(
        s.rejected_grant.is_some(),
        "the client refuses the tariff time change"
    );
    let ccr = r.ctf.termination(
        &mut s,
        t(1),
        Some(unicharge_diameter::cc::quota::TERMINATION_CAUSE_BAD_ANSWER),
    );
    r.send(&mut s, ccr, t(1)).await;
    let last = r.last();
    assert_eq!(kind(&last), CcRequestType::Termination as i32);
    assert_eq!(
        last.i32("Termination-Cause"),
        Some(3),
        "DIAMETER_BAD_ANSWER"
    );
}

#[tokio::test]
async fn tp_ro_ctf_ch_03() {
    rejected_switch(ServiceUnit {
        cc_service_specific_units: Some(10),
        ..Default::default()
    })
    .await;
}

#[tokio::test]
async fn tp_ro_ctf_ch_05() {
    // Session charging (a call), the tariff switching 60 s in; released at 100 s.
    let r = rig(initial_grants(grant(
        VOICE,
        with_switch(time(600), 60),
        vec![],
    )))
    .await;
    let mut s = r.ctf.new_session();
    r.initial(&mut s, VOICE, time(600)).await;
    assert!(s.rejected_grant.is_none());
    r.ctf.traffic(&mut s, VOICE, t(0), 0, 0, 0);
    let ccr = r.ctf.termination(&mut s, t(100), None);
    r.send(&mut s, ccr, t(100)).await;
    let last = r.last();
    let split = tcu_split(&last, "CC-Time");
    assert_eq!(
        split,
        vec![(0, 60), (1, 40)],
        "each side rated at its own price"
    );
}

#[tokio::test]
async fn tp_ro_ctf_ch_06() {
    rejected_switch(time(600)).await;
}

/// CH_01 / CH_04, as read here: the CCR-Initial that reports usage with a Tariff-Change-Usage
/// is the one a CTF sends when it resumes credit control on a new session. The OCF granted
/// units with a Tariff-Time-Change and CCFH CONTINUE; the service used units on both sides of
/// the switch; the CCR-Termination reporting them got no answer (the OCF withheld it), so the
/// service went on without credit control (RFC 8506 §5.7). The next SIP request opens a new
/// session whose CCR-Initial asks for units (Requested-Service-Unit) and reports the units that
/// were never acknowledged, split at the switch by Tariff-Change-Usage in each
/// Used-Service-Unit and none at the MSCC level (TS 32.299 §6.3.7.1).
async fn initial_reports_unacknowledged_usage(
    rg: u32,
    units: ServiceUnit,
    consume: impl Fn(&RoClient, &mut RoSession),
    at_end: i64,
    unit_name: &str,
    split: Vec<(i32, u64)>,
) {
    let grant_avp = grant(rg, with_switch(units.clone(), 60), vec![]);
    let (addr, seen, table) = ocf(move |m| {
        if kind(m) == CcRequestType::Initial as i32 {
            (
                2001,
                vec![
                    grant_avp.clone(),
                    Avp::enumerated("Credit-Control-Failure-Handling", 1),
                ],
            )
        } else {
            (2001, vec![])
        }
    })
    .await;
    let tap = Tap::start(addr).await.unwrap();
    let mut c = ctf_config(tap.addr);
    c.request_timeout = Duration::from_millis(100);
    let ctf = RoClient::connect(c, "4915100000002").await.unwrap();
    let r = Rig { ctf, seen, table };
    let mut s = r.ctf.new_session();
    r.initial(&mut s, rg, units.clone()).await;
    assert!(
        s.rejected_grant.is_none(),
        "the tariff time change is accepted"
    );
    assert_eq!(s.ccfh, 1, "CONTINUE from the OCF");
    consume(&r.ctf, &mut s);
    tap.set_mode(Mode::WithholdAnswers {
        command_code: cmd::CREDIT_CONTROL,
        n: 1,
    });
    let term = r.ctf.termination(&mut s, t(at_end), None);
    assert!(r
        .ctf
        .send_message(&mut s, term.clone(), t(at_end))
        .await
        .is_err());
    assert_eq!(
        r.ctf.on_no_answer(&s, false, true),
        FailureAction::ContinueService
    );
    tap.set_mode(Mode::Forward);
    let (mut resumed, ccr) = r
        .ctf
        .initial_with_unacknowledged(&term, vec![requested(rg, units.clone())]);
    assert_ne!(resumed.session_id, s.session_id, "a new session");
    let cca = r.send(&mut resumed, ccr, t(at_end + 10)).await;
    assert_eq!(cca.result_code(), Some(2001));
    let last = r.last();
    assert_eq!(kind(&last), CcRequestType::Initial as i32);
    assert_eq!(last.session_id(), Some(resumed.session_id.as_str()));
    assert_eq!(last.u32("CC-Request-Number"), Some(0));
    let mscc = msccs(&last);
    assert_eq!(mscc.len(), 1, "one MSCC for the rating group");
    assert!(
        mscc[0].child("Tariff-Change-Usage").is_none(),
        "no Tariff-Change-Usage at MSCC level"
    );
    assert_eq!(
        mscc[0].child("Rating-Group").and_then(Avp::as_u32),
        Some(rg)
    );
    assert!(
        mscc[0].child("Requested-Service-Unit").is_some(),
        "units reserved for the new request"
    );
    assert_eq!(tcu_split(&last, unit_name), split);
}

#[tokio::test]
async fn tp_ro_ctf_ch_01() {
    // Event charging with unit reservation (messages): two before the switch at 60, one after.
    initial_reports_unacknowledged_usage(
        DATA,
        ServiceUnit {
            cc_service_specific_units: Some(10),
            ..Default::default()
        },
        |ctf, s| {
            for at in [10, 20, 70] {
                ctf.traffic(s, DATA, t(at), 0, 0, 1);
            }
        },
        80,
        "CC-Service-Specific-Units",
        vec![(0, 2), (1, 1)],
    )
    .await;
}

#[tokio::test]
async fn tp_ro_ctf_ch_04() {
    // Session charging (a call from t = 0), the switch at 60 s, the call ends at 100 s.
    initial_reports_unacknowledged_usage(
        VOICE,
        time(600),
        |ctf, s| ctf.traffic(s, VOICE, t(0), 0, 0, 0),
        100,
        "CC-Time",
        vec![(0, 60), (1, 40)],
    )
    .await;
}

// --- Re-authorization, refused update, abort, refund ----------------------------------------

#[tokio::test]
async fn tp_ro_ctf_re_01() {
    let r = rig(initial_grants(grant(VOICE, time(600), vec![]))).await;
    let mut s = r.ctf.new_session();
    r.initial(&mut s, VOICE, time(600)).await;
    r.ctf.traffic(&mut s, VOICE, t(0), 0, 0, 0);
    let ccr = r
        .ctf
        .update_reporting(&mut s, ReportingReason::RatingConditionChange, t(30));
    r.send(&mut s, ccr, t(30)).await;
    assert_eq!(kind(&r.last()), CcRequestType::Update as i32);
    let raa = r.rar(&s).await;
    assert_eq!(raa.result_code(), Some(2001));
    assert_eq!(raa.session_id(), Some(s.session_id.as_str()));
    assert_eq!(raa.origin_host(), Some(CTF_HOST));
    assert_eq!(raa.origin_realm(), Some("iut.example"));
    // RFC 8506 §5.5: the client re-authorizes with a CCR-Update reporting its usage.
    assert_eq!(r.ctf.take_reauthorizations(), vec![s.session_id.clone()]);
    let ccr = r
        .ctf
        .update_reporting(&mut s, ReportingReason::ForcedReauthorisation, t(40));
    r.send(&mut s, ccr, t(40)).await;
    let last = r.last();
    assert_eq!(mscc_reason(msccs(&last)[0]), Some(7));
    assert_eq!(
        usus(msccs(&last)[0])[0]
            .child("CC-Time")
            .and_then(Avp::as_u32),
        Some(10)
    );
}

#[tokio::test]
async fn tp_ro_ctf_op_04() {
    let trigger = Avp::grouped("Trigger", vec![Avp::enumerated("Trigger-Type", 1)]);
    let r = rig(move |m| match kind(m) {
        1 => (2001, vec![grant(DATA, volume(10_000), vec![])]),
        2 => (
            2001,
            vec![grant(DATA, volume(10_000), vec![trigger.clone()])],
        ),
        _ => (2001, vec![]),
    })
    .await;
    let mut s = r.ctf.new_session();
    r.initial(&mut s, DATA, volume(10_000)).await;
    r.ctf.traffic(&mut s, DATA, t(1), 10, 10, 0);
    let ccr = r
        .ctf
        .update_reporting(&mut s, ReportingReason::ValidityTime, t(2));
    r.send(&mut s, ccr, t(2)).await;
    // The CCA-U armed trigger 1 (CHANGE_IN_SGSN_IP_ADDRESS): the change makes a CCR-U.
    s.quotas[0].rating_condition_changed(1);
    let ccr = r
        .ctf
        .update_for_due(&mut s, t(3))
        .expect("change of charging conditions");
    r.send(&mut s, ccr, t(3)).await;
    assert_eq!(kind(&r.last()), CcRequestType::Update as i32);
    let raa = r.rar(&s).await;
    assert_eq!(raa.result_code(), Some(2001));
    assert_eq!(raa.origin_host(), Some(CTF_HOST));
}

#[tokio::test]
async fn tp_ro_ctf_op_11() {
    let r = rig(|m| match kind(m) {
        1 => (2001, vec![grant(VOICE, time(60), vec![])]),
        2 => (5003, vec![]),
        _ => (2001, vec![]),
    })
    .await;
    let mut s = r.ctf.new_session();
    r.initial(&mut s, VOICE, time(60)).await;
    r.ctf.traffic(&mut s, VOICE, t(0), 0, 0, 0);
    let ccr = r.ctf.update_for_due(&mut s, t(60)).expect("60 s used");
    let cca = r.send(&mut s, ccr, t(60)).await;
    assert_eq!(cca.result_code(), Some(5003));
    assert_eq!(s.must_terminate, Some(5003), "the client ends the service");
    let ccr = r.ctf.termination(&mut s, t(60), None);
    let cca = r.send(&mut s, ccr, t(60)).await;
    assert_eq!(cca.result_code(), Some(2001));
    let last = r.last();
    assert_eq!(kind(&last), CcRequestType::Termination as i32);
    assert_eq!(last.u32("CC-Request-Number"), Some(2));
}

#[tokio::test]
async fn tp_ro_ctf_op_12() {
    let r = rig(|m| match kind(m) {
        1 | 2 => (2001, vec![grant(VOICE, time(600), vec![])]),
        _ => (5003, vec![]),
    })
    .await;
    let mut s = r.ctf.new_session();
    r.initial(&mut s, VOICE, time(600)).await;
    r.ctf.traffic(&mut s, VOICE, t(0), 0, 0, 0);
    let ccr = r
        .ctf
        .update_reporting(&mut s, ReportingReason::RatingConditionChange, t(30));
    r.send(&mut s, ccr, t(30)).await;
    let peer = r.table.get(CTF_HOST).unwrap();
    let asr = Message::request(cmd::ABORT_SESSION, app::CREDIT_CONTROL, 0, 0)
        .with(Avp::utf8("Session-Id", s.session_id.clone()))
        .with(Avp::identity("Origin-Host", "ocf.tester.example"))
        .with(Avp::identity("Origin-Realm", "tester.example"))
        .with(Avp::identity("Destination-Realm", "iut.example"))
        .with(Avp::identity("Destination-Host", CTF_HOST))
        .with(Avp::u32("Auth-Application-Id", app::CREDIT_CONTROL));
    let asa = peer.request(asr, Duration::from_secs(5)).await.unwrap();
    assert_eq!(asa.result_code(), Some(2001));
    assert_eq!(asa.session_id(), Some(s.session_id.as_str()));
    assert!(asa.avp("Experimental-Result").is_none());
    assert_eq!(asa.origin_host(), Some(CTF_HOST));
    assert_eq!(
        r.ctf
            .ctf
            .asr_received
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    let ccr = r.ctf.termination(&mut s, t(45), None);
    let cca = r.send(&mut s, ccr, t(45)).await;
    assert_eq!(cca.result_code(), Some(5003), "the 5003 answer is accepted");
    assert_eq!(kind(&r.last()), CcRequestType::Termination as i32);
}

#[tokio::test]
async fn tp_ro_ctf_tc_05() {
    let token = b"refund:ocf-tx-0042".to_vec();
    let refund = Avp::octets("Refund-Information", token.clone());
    let r = rig(move |m| {
        if m.i32("Requested-Action") == Some(RequestedAction::DirectDebiting as i32) {
            let mscc = Mscc {
                service_identifiers: vec![30],
                granted: Some(ServiceUnit {
                    cc_service_specific_units: Some(1),
                    ..Default::default()
                }),
                ..Default::default()
            }
            .to_avp_with(vec![refund.clone()]);
            (2001, vec![mscc])
        } else {
            (2001, vec![])
        }
    })
    .await;
    let mut s = r.ctf.new_session();
    let one = Mscc {
        service_identifiers: vec![30],
        requested: Some(ServiceUnit {
            cc_service_specific_units: Some(1),
            ..Default::default()
        }),
        ..Default::default()
    };
    let ccr = r.ctf.ccr(
        &mut s,
        CcRequestType::Event,
        Some(RequestedAction::DirectDebiting),
        vec![one.clone()],
    );
    r.send(&mut s, ccr.to_message(), t(0)).await;
    assert_eq!(s.refund_information.as_deref(), Some(&token[..]));
    // The delivery failed: refund, sending the Refund-Information back unchanged.
    let mut m = r
        .ctf
        .ccr(
            &mut s,
            CcRequestType::Event,
            Some(RequestedAction::RefundAccount),
            vec![],
        )
        .to_message();
    m.avps.push(one.to_avp_with(vec![Avp::octets(
        "Refund-Information",
        s.refund_information.clone().unwrap(),
    )]));
    r.send(&mut s, m, t(1)).await;
    let last = r.last();
    assert_eq!(kind(&last), CcRequestType::Event as i32);
    assert_eq!(
        last.i32("Requested-Action"),
        Some(RequestedAction::RefundAccount as i32)
    );
    assert_eq!(
        msccs(&last)[0]
            .child("Refund-Information")
            .and_then(Avp::as_bytes),
        Some(&token[..])
    );
}

// --- Failover and failure handling ----------------------------------------------------------

/// An OCF's answer to an EVENT: Cost-Information (price enquiry) or Remaining-Balance.
fn money(name: &str, digits: i64) -> Avp {
    Avp::grouped(
        name,
        vec![
            Avp::grouped(
                "Unit-Value",
                vec![
                    Avp::named("Value-Digits", unicharge_diameter::Value::Integer64(digits)),
                    Avp::named("Exponent", unicharge_diameter::Value::Integer32(-2)),
                ],
            ),
            Avp::u32("Currency-Code", 978),
        ],
    )
}

fn answering_events(tag: i64) -> impl Fn(&Message) -> (u32, Vec<Avp>) + Send + Sync {
    move |m| match m.i32("Requested-Action") {
        Some(3) => (2001, vec![money("Cost-Information", tag)]),
        _ => (2001, vec![money("Remaining-Balance", tag)]),
    }
}

fn price_enquiry(r: &RoClient, s: &mut RoSession) -> Message {
    r.ccr(
        s,
        CcRequestType::Event,
        Some(RequestedAction::PriceEnquiry),
        vec![Mscc {
            service_identifiers: vec![30],
            ..Default::default()
        }],
    )
    .to_message()
}

fn cost(answer: &Message, name: &str) -> Option<i64> {
    answer
        .avp(name)?
        .child("Unit-Value")?
        .child("Value-Digits")?
        .as_i64()
}

/// Sends and returns (answer, answered by the secondary).
async fn send_routed(ctf: &RoClient, s: &mut RoSession, m: Message) -> (Message, bool) {
    match ctf.send_message(s, m, t(0)).await.unwrap() {
        Outcome::Answered {
            answer,
            via_secondary,
            ..
        } => (answer, via_secondary),
        Outcome::Buffered => panic!("no OCF answered"),
    }
}

#[tokio::test]
async fn tp_ro_ctf_fa_01_and_fa_02() {
    // Primary (behind a tap that can kill it) and secondary, telling their answers apart.
    let (primary, primary_seen, _) = ocf(answering_events(111)).await;
    let tap = Tap::start(primary).await.unwrap();
    let (secondary, secondary_seen, _) = ocf(answering_events(222)).await;
    let mut c = ctf_config(tap.addr);
    c.secondary = Some(secondary);
    c.request_timeout = Duration::from_millis(200);
    let ctf = RoClient::connect(c, "4915100000002").await.unwrap();
    let mut s = ctf.new_session();
    // FA_01: the primary stops; the price enquiry goes to the secondary.
    tap.set_mode(Mode::Blackhole);
    let m = price_enquiry(&ctf, &mut s);
    let (answer, via_secondary) = send_routed(&ctf, &mut s, m).await;
    assert!(via_secondary);
    assert_eq!(
        cost(&answer, "Cost-Information"),
        Some(222),
        "the secondary's price"
    );
    let on_secondary = secondary_seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(kind(&on_secondary), CcRequestType::Event as i32);
    assert_eq!(
        on_secondary.i32("Requested-Action"),
        Some(3),
        "PRICE_ENQUIRY"
    );
    assert_eq!(
        msccs(&on_secondary)[0]
            .child("Service-Identifier")
            .and_then(Avp::as_u32),
        Some(30)
    );
    assert!(
        primary_seen.lock().unwrap().is_empty(),
        "nothing reached the dead primary"
    );
    // FA_02: the primary is back; the next enquiry goes to it.
    tap.set_mode(Mode::Forward);
    let m = price_enquiry(&ctf, &mut s);
    let (answer, via_secondary) = send_routed(&ctf, &mut s, m).await;
    assert!(!via_secondary);
    assert_eq!(
        cost(&answer, "Cost-Information"),
        Some(111),
        "the primary's price"
    );
    assert_eq!(primary_seen.lock().unwrap().len(), 1);
    assert_eq!(secondary_seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn tp_ro_ctf_fa_03_and_fa_04() {
    // FA_03: the primary is down from the start (nothing listens on its port).
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let (secondary, secondary_seen, _) = ocf(answering_events(222)).await;
    let mut c = ctf_config(port);
    c.secondary = Some(secondary);
    let ctf = RoClient::connect(c, "4915100000002").await.unwrap();
    let mut s = ctf.new_session();
    let m = ctf
        .ccr(
            &mut s,
            CcRequestType::Initial,
            None,
            vec![requested(VOICE, time(60))],
        )
        .to_message();
    let (answer, via_secondary) = send_routed(&ctf, &mut s, m).await;
    assert!(via_secondary);
    assert_eq!(cost(&answer, "Remaining-Balance"), Some(222));
    assert_eq!(kind(secondary_seen.lock().unwrap().last().unwrap()), 1);
    // FA_04: the primary starts on its port; the balance check goes to it.
    let (_, seen, _) = ocf_at(port, answering_events(111)).await;
    let mut s = ctf.new_session();
    let m = ctf
        .ccr(
            &mut s,
            CcRequestType::Event,
            Some(RequestedAction::CheckBalance),
            vec![],
        )
        .to_message();
    let (answer, via_secondary) = send_routed(&ctf, &mut s, m).await;
    assert!(!via_secondary, "back on the primary");
    assert_eq!(cost(&answer, "Remaining-Balance"), Some(111));
    let on_primary = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(on_primary.i32("Requested-Action"), Some(2), "CHECK_BALANCE");
}

/// Primary and secondary behind taps; the primary's CCA carries `extra` (CCFH / DDFH).
async fn failing_pair(extra: Avp, buffer: Option<std::path::PathBuf>) -> (RoClient, Tap, Tap) {
    let e = extra.clone();
    let (primary, _, _) = ocf(move |m| match kind(m) {
        1 => (2001, vec![grant(VOICE, time(60), vec![]), e.clone()]),
        _ => (2001, vec![e.clone()]),
    })
    .await;
    let (secondary, _, _) = ocf(|_| (2001, vec![])).await;
    let (tp, ts) = (
        Tap::start(primary).await.unwrap(),
        Tap::start(secondary).await.unwrap(),
    );
    let mut c = ctf_config(tp.addr);
    c.secondary = Some(ts.addr);
    c.request_timeout = Duration::from_millis(200);
    c.buffer_path = buffer;
    let ctf = RoClient::connect(c, "4915100000002").await.unwrap();
    (ctf, tp, ts)
}

#[tokio::test]
async fn tp_ro_ctf_fh_01() {
    // Local CCFH TERMINATE; the OCF's CCA-I says CONTINUE, which wins.
    let (mut ctf, tp, ts) =
        failing_pair(Avp::enumerated("Credit-Control-Failure-Handling", 1), None).await;
    ctf.local_ccfh = 0;
    let mut s = ctf.new_session();
    assert_eq!(s.ccfh, 0);
    let m = ctf
        .ccr(
            &mut s,
            CcRequestType::Initial,
            None,
            vec![requested(VOICE, time(60))],
        )
        .to_message();
    send_routed(&ctf, &mut s, m).await;
    assert_eq!(s.ccfh, 1, "the OCF's CCFH overrides the local one");
    // Both OCFs stop answering: the CCR goes to the primary, then (T flag) to the secondary.
    tp.set_mode(Mode::Blackhole);
    ts.set_mode(Mode::Blackhole);
    let m = ctf
        .ccr(
            &mut s,
            CcRequestType::Initial,
            None,
            vec![requested(VOICE, time(60))],
        )
        .to_message();
    let result = ctf.send_message(&mut s, m, t(1)).await;
    assert!(result.is_err(), "no answer and no buffer: {result:?}");
    let on_secondary = ts.seen(Direction::Up, cmd::CREDIT_CONTROL);
    assert_eq!(on_secondary.len(), 1);
    assert!(
        on_secondary[0].message.header.flags.retransmit(),
        "T flag on failover"
    );
    assert_eq!(
        kind(&on_secondary[0].message),
        CcRequestType::Initial as i32
    );
    assert!(on_secondary[0]
        .message
        .avp("Multiple-Services-Credit-Control")
        .is_some());
    assert_eq!(
        ctf.on_no_answer(&s, false, true),
        FailureAction::ContinueService,
        "CONTINUE from the OCF: the service goes on"
    );
    // Without the override the local TERMINATE would have ended it.
    let fresh = ctf.new_session();
    assert_eq!(
        ctf.on_no_answer(&fresh, false, true),
        FailureAction::TerminateService
    );
}

#[tokio::test]
async fn tp_ro_ctf_fh_02() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = dir.path().join("ro-buffer");
    // Local DDFH CONTINUE; the OCF says TERMINATE_OR_BUFFER.
    let (mut ctf, tp, ts) = failing_pair(
        Avp::enumerated("Direct-Debiting-Failure-Handling", 0),
        Some(buffer.clone()),
    )
    .await;
    ctf.local_ddfh = 1;
    let mut s = ctf.new_session();
    let debit = |ctf: &RoClient, s: &mut RoSession| {
        ctf.ccr(
            s,
            CcRequestType::Event,
            Some(RequestedAction::DirectDebiting),
            vec![Mscc {
                service_identifiers: vec![30],
                requested: Some(ServiceUnit {
                    cc_service_specific_units: Some(1),
                    ..Default::default()
                }),
                ..Default::default()
            }],
        )
        .to_message()
    };
    let m = debit(&ctf, &mut s);
    send_routed(&ctf, &mut s, m).await;
    assert_eq!(s.ddfh, 0, "the OCF's DDFH overrides the local one");
    tp.set_mode(Mode::Blackhole);
    let m = debit(&ctf, &mut s);
    // The secondary is reachable but we check the T-flagged copy reached it, then make it fail
    // too so the request ends in the buffer.
    ts.set_mode(Mode::Blackhole);
    let outcome = ctf.send_message(&mut s, m, t(1)).await.unwrap();
    assert!(matches!(outcome, Outcome::Buffered));
    let on_secondary = ts.seen(Direction::Up, cmd::CREDIT_CONTROL);
    assert_eq!(on_secondary.len(), 1);
    assert!(
        on_secondary[0].message.header.flags.retransmit(),
        "T flag to the secondary"
    );
    assert_eq!(kind(&on_secondary[0].message), CcRequestType::Event as i32);
    assert_eq!(
        ctf.on_no_answer(&s, true, true),
        FailureAction::Buffer,
        "TERMINATE_OR_BUFFER, possibly delivered: kept for later"
    );
    assert_eq!(
        ctf.on_no_answer(&s, true, false),
        FailureAction::TerminateService
    );
    let stored = std::fs::read_to_string(&buffer).unwrap();
    assert_eq!(
        stored.lines().count(),
        1,
        "the debit is in the non-volatile buffer"
    );
}
