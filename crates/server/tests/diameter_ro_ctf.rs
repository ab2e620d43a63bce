//! ETSI TS 103 374-2 (Ro, CTF role): the TP_RO_CTF_* test purposes for the project's Ro CTF
//! (`unicharge_sim::diameter_ro::client`) against `unicharge serve`'s OCF, through a
//! frame-aware tap that records what the CTF puts on the wire and plays the OCF that withholds
//! answers or goes silent. SIP triggers are calls on the client.

mod common;

use std::str::FromStr;
use std::time::Duration;

use rust_decimal::Decimal;
use unicharge_core::online::{OnlineTariff, QuotaUnit};
use unicharge_diameter::cc::{CcRequestType, Mscc, RequestedAction, ServiceUnit};
use unicharge_diameter::rf::ctf::CtfConfig;
use unicharge_diameter::tap::{Direction, Mode, Tap};
use unicharge_diameter::{cmd, Avp, Message};
use unicharge_server::Server;
use unicharge_sim::diameter_ro::client::{Outcome, RoClient, RoSession};

const MSISDN: &str = "4915100000002";
const ACCOUNT: &str = "ro-bob";
const VOICE: u32 = 10;
const DATA: u32 = 20;
const SMS: u32 = 30;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

struct Rig {
    server: Server,
    tap: Tap,
    ctf: RoClient,
    _dir: tempfile::TempDir,
}

async fn rig_with(max_retransmissions: u32, buffer: bool) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let mut s = common::test_settings(dir.path());
    s.diameter.listen = Some("127.0.0.1:0".parse().unwrap());
    let server = unicharge_server::start(s).await.unwrap();
    let store = server.store.clone();
    common::ro_subscriber(&*store, ACCOUNT, MSISDN, d("10")).await;
    let t = |id: &str, rg: Option<u32>, si: Option<u32>, unit, price: &str, block| OnlineTariff {
        id: id.into(),
        rating_group: rg,
        service_identifier: si,
        unit,
        currency: "EUR".into(),
        price: d(price),
        block,
        max_grant: None,
        default_grant: 1,
        switch: None,
    };
    for tariff in [
        t("voice", Some(VOICE), None, QuotaUnit::Time, "0.10", 60),
        t(
            "data",
            Some(DATA),
            None,
            QuotaUnit::Volume,
            "0.01",
            1_000_000,
        ),
        t(
            "sms",
            None,
            Some(SMS),
            QuotaUnit::ServiceSpecific,
            "0.09",
            1,
        ),
    ] {
        store.ro_put_tariff(&tariff).await.unwrap();
    }
    let tap = Tap::start(server.diameter.as_ref().unwrap().addr)
        .await
        .unwrap();
    let mut config = CtfConfig::new(
        "ctf.iut.example",
        "iut.example",
        "unicharge.localdomain",
        tap.addr,
    );
    config.request_timeout = Duration::from_millis(300);
    config.max_retransmissions = max_retransmissions;
    if buffer {
        config.buffer_path = Some(dir.path().join("ro-buffer"));
    }
    let ctf = RoClient::connect(config, MSISDN).await.unwrap();
    Rig {
        server,
        tap,
        ctf,
        _dir: dir,
    }
}

async fn rig() -> Rig {
    rig_with(2, false).await
}

fn sms(n: u64) -> Mscc {
    Mscc {
        service_identifiers: vec![SMS],
        requested: Some(ServiceUnit {
            cc_service_specific_units: Some(n),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn sms_used(n: u64) -> Mscc {
    Mscc {
        service_identifiers: vec![SMS],
        used: vec![ServiceUnit {
            cc_service_specific_units: Some(n),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn voice(requested: Option<u32>, used: Option<u32>) -> Mscc {
    let t = |s| ServiceUnit {
        cc_time: Some(s),
        ..Default::default()
    };
    Mscc {
        rating_group: Some(VOICE),
        requested: requested.map(t),
        used: used.map(t).into_iter().collect(),
        ..Default::default()
    }
}

impl Rig {
    /// One exchange; the CCA must be 2001.
    async fn exchange(
        &self,
        s: &mut RoSession,
        kind: CcRequestType,
        action: Option<RequestedAction>,
        mscc: Vec<Mscc>,
    ) -> (Message, u32) {
        let ccr = self.ctf.ccr(s, kind, action, mscc);
        match self.ctf.send(s, &ccr).await.unwrap() {
            Outcome::Answered {
                answer,
                retransmissions,
                ..
            } => {
                assert_eq!(answer.result_code(), Some(2001), "{answer:?}");
                (answer, retransmissions)
            }
            Outcome::Buffered => panic!("no CCA"),
        }
    }
    /// The CCRs the CTF put on the wire (forwarded or not).
    fn ccrs(&self) -> Vec<Message> {
        self.tap
            .seen(Direction::Up, cmd::CREDIT_CONTROL)
            .into_iter()
            .map(|s| s.message)
            .collect()
    }
    fn last_ccr(&self) -> Message {
        self.ccrs().pop().expect("a CCR on the wire")
    }
    async fn balance(&self) -> Decimal {
        self.server
            .store
            .ledger_account(ACCOUNT)
            .await
            .unwrap()
            .unwrap()
            .balance
    }
}

/// CCR{Session-Id; Origin-Host; Origin-Realm; Destination-Realm; Auth-Application-Id 4;
/// Service-Context-Id; CC-Request-Type; CC-Request-Number} with a valid request header.
fn assert_ccr(m: &Message, kind: CcRequestType, number: u32) {
    assert_eq!(m.header.version, 1);
    assert!(m.header.flags.request());
    assert!(!m.header.flags.error());
    assert_eq!(m.header.flags.reserved(), 0);
    assert_eq!(m.header.application_id, 4);
    assert_eq!(m.avps[0].name(), "Session-Id");
    assert_eq!(m.origin_host(), Some("ctf.iut.example"));
    assert_eq!(m.origin_realm(), Some("iut.example"));
    assert_eq!(m.str("Destination-Realm"), Some("unicharge.localdomain"));
    assert_eq!(m.u32("Auth-Application-Id"), Some(4));
    assert_eq!(m.str("Service-Context-Id"), Some("32260@3gpp.org"));
    assert_eq!(m.i32("CC-Request-Type"), Some(kind as i32));
    assert_eq!(m.u32("CC-Request-Number"), Some(number));
}

fn mscc(m: &Message) -> &Avp {
    m.avp("Multiple-Services-Credit-Control").expect("MSCC")
}

#[tokio::test]
async fn tp_ro_ctf_ms_01() {
    let r = rig().await;
    let mut s = r.ctf.new_session();
    r.exchange(
        &mut s,
        CcRequestType::Event,
        Some(RequestedAction::DirectDebiting),
        vec![sms(1)],
    )
    .await;
    assert_ccr(&r.last_ccr(), CcRequestType::Event, 0);
}

#[tokio::test]
async fn tp_ro_ctf_ms_02() {
    let r = rig().await;
    let mut s = r.ctf.new_session();
    r.exchange(
        &mut s,
        CcRequestType::Initial,
        None,
        vec![voice(Some(60), None)],
    )
    .await;
    let m = r.last_ccr();
    assert!(!m.header.flags.retransmit(), "T = 0");
    assert!(!m.header.flags.error(), "E = 0");
    assert_eq!(m.header.flags.reserved(), 0);
    assert_eq!(m.encode()[0], 1, "version 1");
}

#[tokio::test]
async fn tp_ro_ctf_tc_01() {
    let r = rig().await;
    let mut s = r.ctf.new_session();
    r.exchange(
        &mut s,
        CcRequestType::Event,
        Some(RequestedAction::DirectDebiting),
        vec![sms(2)],
    )
    .await;
    let m = r.last_ccr();
    assert_ccr(&m, CcRequestType::Event, 0);
    assert_eq!(m.i32("Requested-Action"), Some(0));
    assert!(mscc(&m).child("Requested-Service-Unit").is_some());
    assert_eq!(
        mscc(&m).child("Service-Identifier").unwrap().as_u32(),
        Some(SMS)
    );
    assert_eq!(r.balance().await, d("9.82"));
}

#[tokio::test]
async fn tp_ro_ctf_tc_02() {
    let r = rig().await;
    let mut s = r.ctf.new_session();
    let only_service = Mscc {
        service_identifiers: vec![SMS],
        ..Default::default()
    };
    let (a, _) = r
        .exchange(
            &mut s,
            CcRequestType::Event,
            Some(RequestedAction::PriceEnquiry),
            vec![only_service],
        )
        .await;
    let m = r.last_ccr();
    assert_eq!(m.i32("Requested-Action"), Some(3));
    assert_eq!(
        mscc(&m).child("Service-Identifier").unwrap().as_u32(),
        Some(SMS)
    );
    assert!(a.avp("Cost-Information").is_some());
}

#[tokio::test]
async fn tp_ro_ctf_tc_03() {
    let r = rig().await;
    let mut s = r.ctf.new_session();
    r.exchange(
        &mut s,
        CcRequestType::Event,
        Some(RequestedAction::CheckBalance),
        vec![],
    )
    .await;
    let m = r.last_ccr();
    assert_ccr(&m, CcRequestType::Event, 0);
    assert_eq!(m.i32("Requested-Action"), Some(2));
}

#[tokio::test]
async fn tp_ro_ctf_tc_04() {
    let r = rig().await;
    let mut s = r.ctf.new_session();
    r.exchange(
        &mut s,
        CcRequestType::Event,
        Some(RequestedAction::DirectDebiting),
        vec![sms(1)],
    )
    .await;
    let mut s = r.ctf.new_session();
    r.exchange(
        &mut s,
        CcRequestType::Event,
        Some(RequestedAction::RefundAccount),
        vec![sms(1)],
    )
    .await;
    let m = r.last_ccr();
    assert_eq!(m.i32("Requested-Action"), Some(1));
    assert!(mscc(&m).child("Requested-Service-Unit").is_some());
    assert_eq!(r.balance().await, d("10"));
}

#[tokio::test]
async fn tp_ro_ctf_tc_06() {
    let r = rig().await;
    let mut s = r.ctf.new_session();
    r.exchange(&mut s, CcRequestType::Initial, None, vec![sms(2)])
        .await;
    let m = r.last_ccr();
    assert_ccr(&m, CcRequestType::Initial, 0);
    assert!(mscc(&m).child("Requested-Service-Unit").is_some());
    assert_eq!(s.grants.len(), 1, "the CTF keeps the grant");
}

#[tokio::test]
async fn tp_ro_ctf_tc_07() {
    let r = rig().await;
    let mut s = r.ctf.new_session();
    r.exchange(&mut s, CcRequestType::Initial, None, vec![sms(2)])
        .await;
    r.exchange(&mut s, CcRequestType::Termination, None, vec![sms_used(2)])
        .await;
    let m = r.last_ccr();
    assert_ccr(&m, CcRequestType::Termination, 1);
    assert!(mscc(&m).child("Used-Service-Unit").is_some());
    assert_eq!(r.balance().await, d("9.82"));
}

#[tokio::test]
async fn tp_ro_ctf_tc_08() {
    let r = rig().await;
    let mut s = r.ctf.new_session();
    r.exchange(
        &mut s,
        CcRequestType::Initial,
        None,
        vec![voice(Some(120), None)],
    )
    .await;
    let m = r.last_ccr();
    assert_ccr(&m, CcRequestType::Initial, 0);
    assert_eq!(
        mscc(&m)
            .child("Requested-Service-Unit")
            .unwrap()
            .child("CC-Time")
            .unwrap()
            .as_u32(),
        Some(120)
    );
}

#[tokio::test]
async fn tp_ro_ctf_tc_09() {
    let r = rig().await;
    let mut s = r.ctf.new_session();
    r.exchange(
        &mut s,
        CcRequestType::Initial,
        None,
        vec![voice(Some(120), None)],
    )
    .await;
    r.exchange(
        &mut s,
        CcRequestType::Update,
        None,
        vec![voice(Some(120), Some(120))],
    )
    .await;
    let m = r.last_ccr();
    assert_ccr(&m, CcRequestType::Update, 1);
    assert_eq!(
        mscc(&m)
            .child("Used-Service-Unit")
            .unwrap()
            .child("CC-Time")
            .unwrap()
            .as_u32(),
        Some(120)
    );
}

#[tokio::test]
async fn tp_ro_ctf_tc_10() {
    let r = rig().await;
    let mut s = r.ctf.new_session();
    r.exchange(
        &mut s,
        CcRequestType::Initial,
        None,
        vec![voice(Some(120), None)],
    )
    .await;
    r.exchange(
        &mut s,
        CcRequestType::Update,
        None,
        vec![voice(Some(120), Some(120))],
    )
    .await;
    r.exchange(
        &mut s,
        CcRequestType::Termination,
        None,
        vec![voice(None, Some(30))],
    )
    .await;
    let m = r.last_ccr();
    assert_ccr(&m, CcRequestType::Termination, 2);
    assert!(mscc(&m).child("Used-Service-Unit").is_some());
    assert_eq!(r.balance().await, d("9.70"));
}

/// The OCF withholds the CCA of the next CCR: the CTF re-sends it with the T flag and the
/// same End-to-End id and CC-Request-Number, and accepts the answer; nothing is charged twice.
async fn retransmission(
    r: &Rig,
    s: &mut RoSession,
    kind: CcRequestType,
    action: Option<RequestedAction>,
    m: Vec<Mscc>,
) -> (Message, Message) {
    let before = r.ccrs().len();
    r.tap.set_mode(Mode::WithholdAnswers {
        command_code: cmd::CREDIT_CONTROL,
        n: 1,
    });
    let (_, retransmissions) = r.exchange(s, kind, action, m).await;
    assert_eq!(retransmissions, 1);
    let sent = r.ccrs();
    assert_eq!(sent.len(), before + 2);
    let (first, again) = (sent[before].clone(), sent[before + 1].clone());
    assert!(!first.header.flags.retransmit());
    assert!(
        again.header.flags.retransmit(),
        "T flag on the retransmission"
    );
    assert_eq!(again.header.end_to_end, first.header.end_to_end);
    assert_eq!(
        again.u32("CC-Request-Number"),
        first.u32("CC-Request-Number")
    );
    assert_eq!(again.i32("CC-Request-Type"), Some(kind as i32));
    (first, again)
}

#[tokio::test]
async fn tp_ro_ctf_ec_01() {
    let r = rig().await;
    let mut s = r.ctf.new_session();
    let (_, again) = retransmission(
        &r,
        &mut s,
        CcRequestType::Event,
        Some(RequestedAction::DirectDebiting),
        vec![sms(1)],
    )
    .await;
    assert_eq!(again.i32("Requested-Action"), Some(0));
    assert_eq!(r.balance().await, d("9.91"), "debited once");
}

#[tokio::test]
async fn tp_ro_ctf_ec_02() {
    let r = rig().await;
    let mut s = r.ctf.new_session();
    let (_, again) = retransmission(
        &r,
        &mut s,
        CcRequestType::Event,
        Some(RequestedAction::PriceEnquiry),
        vec![sms(1)],
    )
    .await;
    assert_eq!(again.i32("Requested-Action"), Some(3));
}

#[tokio::test]
async fn tp_ro_ctf_ec_03() {
    let r = rig().await;
    let mut s = r.ctf.new_session();
    let (_, again) = retransmission(
        &r,
        &mut s,
        CcRequestType::Initial,
        None,
        vec![voice(Some(60), None)],
    )
    .await;
    assert!(mscc(&again).child("Requested-Service-Unit").is_some());
    assert_eq!(
        r.server
            .store
            .ledger_account(ACCOUNT)
            .await
            .unwrap()
            .unwrap()
            .reserved,
        d("0.10"),
        "reserved once"
    );
}

#[tokio::test]
async fn tp_ro_ctf_ec_04() {
    let r = rig().await;
    let mut s = r.ctf.new_session();
    r.exchange(&mut s, CcRequestType::Initial, None, vec![sms(1)])
        .await;
    retransmission(
        &r,
        &mut s,
        CcRequestType::Termination,
        None,
        vec![sms_used(1)],
    )
    .await;
    assert_eq!(r.balance().await, d("9.91"));
}

#[tokio::test]
async fn tp_ro_ctf_ec_05() {
    let r = rig().await;
    let mut s = r.ctf.new_session();
    r.exchange(
        &mut s,
        CcRequestType::Initial,
        None,
        vec![voice(Some(60), None)],
    )
    .await;
    r.exchange(
        &mut s,
        CcRequestType::Update,
        None,
        vec![voice(Some(60), Some(60))],
    )
    .await;
    retransmission(
        &r,
        &mut s,
        CcRequestType::Update,
        None,
        vec![voice(Some(60), Some(60))],
    )
    .await;
    // Two updates each committed 60 s: 0.20; the retransmission was not charged again.
    assert_eq!(r.balance().await, d("9.80"));
}

/// The OCF is unreachable (no secondary): the CTF keeps the CCR in its non-volatile buffer and
/// sends it once the OCF is back, without the T flag (it never reached an OCF).
async fn buffered(session_kind: RequestedAction) -> Rig {
    let r = rig_with(0, true).await;
    let mut s = r.ctf.new_session();
    r.tap.set_mode(Mode::Blackhole);
    let ccr = r.ctf.ccr(
        &mut s,
        CcRequestType::Event,
        Some(session_kind),
        vec![sms(1)],
    );
    assert!(matches!(
        r.ctf.send(&mut s, &ccr).await.unwrap(),
        Outcome::Buffered
    ));
    assert_eq!(r.balance().await, d("10"), "nothing reached the OCF");
    r.tap.set_mode(Mode::Forward);
    assert_eq!(r.ctf.ctf.flush_buffer().await.unwrap(), 1);
    r
}

#[tokio::test]
async fn tp_ro_ctf_ec_06() {
    let r = buffered(RequestedAction::DirectDebiting).await;
    assert_eq!(
        r.balance().await,
        d("9.91"),
        "the buffered CCR was charged once it arrived"
    );
    let forwarded: Vec<_> = r
        .tap
        .seen(Direction::Up, cmd::CREDIT_CONTROL)
        .into_iter()
        .filter(|s| s.forwarded)
        .collect();
    assert_eq!(forwarded.len(), 1);
    assert_eq!(forwarded[0].message.i32("CC-Request-Type"), Some(4));
}

#[tokio::test]
async fn tp_ro_ctf_ec_07() {
    let r = buffered(RequestedAction::DirectDebiting).await;
    let sent = r.ccrs();
    let replay = sent.last().unwrap();
    assert!(
        !replay.header.flags.retransmit(),
        "T flag not set on the replayed CCR"
    );
    assert_eq!(replay.i32("Requested-Action"), Some(0));
    let answers = r.tap.seen(Direction::Down, cmd::CREDIT_CONTROL);
    assert_eq!(answers.last().unwrap().message.result_code(), Some(2001));
}

async fn credit_pooling(scur: bool) {
    let r = rig().await;
    let mut s = r.ctf.new_session();
    let data = Mscc {
        rating_group: Some(DATA),
        requested: Some(ServiceUnit {
            cc_total_octets: Some(3_000_000),
            ..Default::default()
        }),
        ..Default::default()
    };
    let (a, _) = r
        .exchange(
            &mut s,
            CcRequestType::Initial,
            None,
            vec![voice(Some(60), None), data],
        )
        .await;
    let m = r.last_ccr();
    assert_eq!(m.i32("Multiple-Services-Indicator"), Some(1));
    assert_eq!(m.avps_named("Multiple-Services-Credit-Control").count(), 2);
    assert_eq!(
        a.avps_named("Multiple-Services-Credit-Control").count(),
        2,
        "independent grants"
    );
    if scur {
        r.exchange(
            &mut s,
            CcRequestType::Update,
            None,
            vec![voice(Some(60), Some(60))],
        )
        .await;
    }
    r.exchange(
        &mut s,
        CcRequestType::Termination,
        None,
        vec![voice(None, Some(60))],
    )
    .await;
    let expected = if scur { "9.80" } else { "9.90" };
    assert_eq!(r.balance().await, d(expected));
}

#[tokio::test]
async fn tp_ro_ctf_cp_01() {
    credit_pooling(false).await;
}

#[tokio::test]
async fn tp_ro_ctf_cp_02() {
    credit_pooling(true).await;
}
