//! ETSI TS 103 374-2 (Ro, OCF role): the TP_RO_OCF_* test purposes against `unicharge serve`'s
//! OCF over real TCP, the tester playing the CTF through the project's own Diameter peer (CER
//! with Auth-Application-Id 4 first). Assertions check granted units, result codes and, behind
//! the CCA, the ledger: balances after reservations and debits, and that a retransmission is
//! never debited twice.

mod common;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rust_decimal::Decimal;
use tokio::sync::mpsc;
use unicharge_core::ledger::Account;
use unicharge_core::online::{OnlineTariff, QuotaUnit, Subscriber, TariffSwitch};
use unicharge_diameter::cc::{CcRequestType, Ccr, Mscc, RequestedAction, ServiceUnit};
use unicharge_diameter::peer::{
    connect, DuplicateCache, PeerConfig, PeerHandle, PeerTable, RequestHandler, Shared,
};
use unicharge_diameter::rf::cdf::BoxFuture;
use unicharge_diameter::rf::SubscriptionId;
use unicharge_diameter::{app, cmd, Avp, CommandFlags, Message, Time};
use unicharge_server::settings::RoSettings;
use unicharge_server::Server;

const OCF_REALM: &str = "unicharge.localdomain";
const CTF_HOST: &str = "ctf.tester.example";
const CTF_REALM: &str = "tester.example";
const MSISDN: &str = "4915100000001";
const ACCOUNT: &str = "ro-alice";
const VOICE: u32 = 10;
const DATA: u32 = 20;
const SMS_SERVICE: u32 = 30;
const FREE: u32 = 40;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// The tester's side: records every request the OCF sends (RAR, ASR) and answers it 2001.
struct Tester(mpsc::UnboundedSender<Message>);

impl RequestHandler for Tester {
    fn handle(&self, request: Message, _peer: PeerHandle) -> BoxFuture<'_, Option<Message>> {
        Box::pin(async move {
            let _ = self.0.send(request.clone());
            Some(
                Message::answer_to(&request)
                    .with(Avp::u32("Result-Code", 2001))
                    .with(Avp::identity("Origin-Host", CTF_HOST))
                    .with(Avp::identity("Origin-Realm", CTF_REALM)),
            )
        })
    }
}

struct Rig {
    server: Server,
    peer: PeerHandle,
    requests: mpsc::UnboundedReceiver<Message>,
    _dir: tempfile::TempDir,
}

fn tariff(
    id: &str,
    rg: Option<u32>,
    si: Option<u32>,
    unit: QuotaUnit,
    price: &str,
    block: u64,
    default_grant: u64,
) -> OnlineTariff {
    OnlineTariff {
        id: id.into(),
        rating_group: rg,
        service_identifier: si,
        unit,
        currency: "EUR".into(),
        price: d(price),
        block,
        max_grant: Some(3600),
        default_grant,
        switch: None,
    }
}

/// Voice (RG 10): 0.10 EUR per 60 s. Data (RG 20): 0.01 EUR per 1 000 000 octets. SMS
/// (service 30): 0.09 EUR per event. RG 40: free.
fn tariffs() -> Vec<OnlineTariff> {
    let mut data = tariff(
        "data",
        Some(DATA),
        None,
        QuotaUnit::Volume,
        "0.01",
        1_000_000,
        10_000_000,
    );
    data.max_grant = None;
    vec![
        tariff("voice", Some(VOICE), None, QuotaUnit::Time, "0.10", 60, 300),
        data,
        tariff(
            "sms",
            None,
            Some(SMS_SERVICE),
            QuotaUnit::ServiceSpecific,
            "0.09",
            1,
            1,
        ),
        tariff("free", Some(FREE), None, QuotaUnit::Time, "0", 1, 300),
    ]
}

async fn rig_with(
    balance: &str,
    adjust: impl FnOnce(&mut RoSettings),
    tariffs: Vec<OnlineTariff>,
) -> Rig {
    start_rig(None, Some((balance, tariffs)), adjust).await
}

/// An OCF node: on its own store, or on the store at `store_url` (PostgreSQL, shared with other
/// nodes); `setup` creates the subscriber with its balance and the tariffs (once per store).
async fn start_rig(
    store_url: Option<&str>,
    setup: Option<(&str, Vec<OnlineTariff>)>,
    adjust: impl FnOnce(&mut RoSettings),
) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let mut s = common::test_settings(dir.path());
    if let Some(url) = store_url {
        s.store.url = Some(url.to_string());
    }
    s.diameter.listen = Some("127.0.0.1:0".parse().unwrap());
    s.diameter.ro.tcc_check = Duration::from_millis(20);
    // The operator API too, for the tests that drive the OCF as the operator does.
    s.http.listen = Some("127.0.0.1:0".parse().unwrap());
    adjust(&mut s.diameter.ro);
    let server = unicharge_server::start(s).await.unwrap();
    if let Some((balance, tariffs)) = setup {
        let store = server.store.clone();
        common::ro_subscriber(&*store, ACCOUNT, MSISDN, d(balance)).await;
        for t in tariffs {
            store.ro_put_tariff(&t).await.unwrap();
        }
    }
    let addr = server.diameter.as_ref().unwrap().addr;
    let (tx, requests) = mpsc::unbounded_channel();
    let mut config = PeerConfig::cdf(CTF_HOST, CTF_REALM);
    config.acct_application_ids = vec![];
    config.auth_application_ids = vec![app::CREDIT_CONTROL];
    config.product_name = "ts-103-374-tester".into();
    let shared = Shared {
        config,
        handler: Arc::new(Tester(tx)),
        table: Arc::new(PeerTable::default()),
        duplicates: Arc::new(DuplicateCache::default()),
    };
    let peer = connect(addr, shared).await.unwrap();
    Rig {
        server,
        peer,
        requests,
        _dir: dir,
    }
}

async fn rig() -> Rig {
    rig_with("10.00", |_| {}, tariffs()).await
}

fn ccr(session: &str, request_type: CcRequestType, number: u32) -> Ccr {
    Ccr {
        session_id: session.into(),
        origin_host: CTF_HOST.into(),
        origin_realm: CTF_REALM.into(),
        destination_realm: OCF_REALM.into(),
        service_context_id: "32260@3gpp.org".into(),
        request_type,
        request_number: number,
        requested_action: None,
        event_timestamp: Some(Time::from_utc(Utc::now())),
        subscription_ids: vec![SubscriptionId {
            kind: 0,
            data: MSISDN.into(),
        }],
        mscc: vec![],
    }
}

fn time(seconds: u32) -> ServiceUnit {
    ServiceUnit {
        cc_time: Some(seconds),
        ..Default::default()
    }
}

fn events(n: u64) -> ServiceUnit {
    ServiceUnit {
        cc_service_specific_units: Some(n),
        ..Default::default()
    }
}

fn rsu(rg: u32, unit: ServiceUnit) -> Mscc {
    Mscc {
        rating_group: Some(rg),
        requested: Some(unit),
        ..Default::default()
    }
}

fn usu(rg: u32, unit: ServiceUnit) -> Mscc {
    Mscc {
        rating_group: Some(rg),
        used: vec![unit],
        ..Default::default()
    }
}

fn sms(requested: u64) -> Mscc {
    Mscc {
        service_identifiers: vec![SMS_SERVICE],
        requested: Some(events(requested)),
        ..Default::default()
    }
}

impl Rig {
    async fn send(&self, m: Message) -> Message {
        self.peer.request(m, Duration::from_secs(5)).await.unwrap()
    }
    async fn send_ccr(&self, c: &Ccr) -> Message {
        self.send(c.to_message()).await
    }
    /// The same CCR again with the T flag and a new End-to-End id (as after a failover), so
    /// that it is the OCF, not the peer layer's cache, that must recognise it.
    async fn retransmit(&self, c: &Ccr) -> Message {
        let mut m = c.to_message();
        m.header.flags = m.header.flags.with(CommandFlags::RETRANSMIT, true);
        m.header.end_to_end = 0x7e57_0000 | c.request_number;
        self.send(m).await
    }
    async fn account(&self) -> Account {
        self.server
            .store
            .ledger_account(ACCOUNT)
            .await
            .unwrap()
            .unwrap()
    }
    async fn movements(&self) -> Vec<unicharge_core::ledger::Movement> {
        self.server
            .store
            .ledger_movements(ACCOUNT, 1000)
            .await
            .unwrap()
    }
    fn ocf(&self) -> &Arc<unicharge_server::diameter::ro::Ocf> {
        self.server.diameter.as_ref().unwrap().ocf.as_ref().unwrap()
    }
    fn peers(&self) -> Arc<PeerTable> {
        self.server.diameter.as_ref().unwrap().peers.clone()
    }
    /// INITIAL for 120 s of voice; returns the CCA.
    async fn initial(&self, session: &str) -> Message {
        let mut c = ccr(session, CcRequestType::Initial, 0);
        c.mscc = vec![rsu(VOICE, time(120))];
        let a = self.send_ccr(&c).await;
        assert_eq!(a.result_code(), Some(2001), "{a:?}");
        a
    }
}

/// CCA{Session-Id; Result-Code; Origin-Host; Origin-Realm; Auth-Application-Id 4;
/// CC-Request-Type; CC-Request-Number} and the answer header of RFC 6733 §3.
fn assert_cca(a: &Message, c: &Ccr, result: u32) {
    assert_eq!(a.header.command_code, cmd::CREDIT_CONTROL);
    assert_eq!(a.header.application_id, app::CREDIT_CONTROL);
    assert!(!a.header.flags.request());
    assert_eq!(a.avps[0].name(), "Session-Id", "Session-Id first");
    assert_eq!(a.session_id(), Some(c.session_id.as_str()));
    assert_eq!(a.avps_named("Session-Id").count(), 1);
    assert_eq!(a.result_code(), Some(result), "{a:?}");
    assert!(a.avp("Experimental-Result").is_none());
    assert_eq!(a.origin_host(), Some("cdf.unicharge.localdomain"));
    assert_eq!(a.origin_realm(), Some(OCF_REALM));
    assert_eq!(a.u32("Auth-Application-Id"), Some(app::CREDIT_CONTROL));
    assert_eq!(a.i32("CC-Request-Type"), Some(c.request_type as i32));
    assert_eq!(a.u32("CC-Request-Number"), Some(c.request_number));
}

/// The MSCCs of an answer.
fn msccs(a: &Message) -> Vec<&Avp> {
    a.avps_named("Multiple-Services-Credit-Control").collect()
}

fn mscc_for(a: &Message, rg: u32) -> &Avp {
    msccs(a)
        .into_iter()
        .find(|m| m.child("Rating-Group").and_then(Avp::as_u32) == Some(rg))
        .unwrap_or_else(|| panic!("no MSCC for rating group {rg} in {a:?}"))
}

fn granted_time(m: &Avp) -> Option<u32> {
    m.child("Granted-Service-Unit")?.child("CC-Time")?.as_u32()
}

fn unit_value(a: &Avp) -> Decimal {
    let digits = a.child("Value-Digits").and_then(Avp::as_i64).unwrap();
    let exp = a.child("Exponent").and_then(Avp::as_i32).unwrap_or(0);
    let mut v = Decimal::from(digits);
    if exp < 0 {
        v.set_scale((-exp) as u32).unwrap();
    } else {
        v *= Decimal::from(10i64.pow(exp as u32));
    }
    v
}

// --- MS: message syntax ---

#[tokio::test]
async fn tp_ro_ocf_ms_01() {
    let r = rig().await;
    // Only the mandatory AVPs (no MSCC, no Subscription-Id needed for this session type).
    let mut c = ccr("ms01;1", CcRequestType::Initial, 0);
    c.event_timestamp = None;
    let a = r.send_ccr(&c).await;
    assert_cca(&a, &c, 2001);
    let s = r.server.store.ro_session("ms01;1").await.unwrap().unwrap();
    assert_eq!((s.state.as_str(), s.last_request_number), ("OPEN", 0));
}

#[tokio::test]
async fn tp_ro_ocf_ms_02() {
    let r = rig().await;
    let c = ccr("ms02;1", CcRequestType::Initial, 0);
    let a = r.send_ccr(&c).await;
    assert_cca(&a, &c, 2001);
    // Version 1, T bit clear, reserved bits zero, R clear, E clear.
    let bytes = a.encode();
    assert_eq!(bytes[0], 1);
    let flags = CommandFlags(bytes[4]);
    assert!(!flags.request() && !flags.retransmit() && !flags.error());
    assert_eq!(flags.reserved(), 0);
}

// --- TC: types of charging ---

#[tokio::test]
async fn tp_ro_ocf_tc_01() {
    let r = rig().await;
    let mut c = ccr("tc01;1", CcRequestType::Event, 0);
    c.requested_action = Some(RequestedAction::DirectDebiting);
    c.mscc = vec![sms(3)];
    let a = r.send_ccr(&c).await;
    assert_cca(&a, &c, 2001);
    let m = msccs(&a)[0];
    assert_eq!(
        m.child("Granted-Service-Unit")
            .unwrap()
            .child("CC-Service-Specific-Units")
            .unwrap()
            .as_u64(),
        Some(3)
    );
    // 3 × 0.09 debited at once.
    let acc = r.account().await;
    assert_eq!((acc.balance, acc.reserved), (d("9.73"), d("0")));
}

#[tokio::test]
async fn tp_ro_ocf_tc_02() {
    let r = rig().await;
    let mut c = ccr("tc02;1", CcRequestType::Event, 0);
    c.requested_action = Some(RequestedAction::PriceEnquiry);
    c.mscc = vec![Mscc {
        service_identifiers: vec![SMS_SERVICE],
        ..Default::default()
    }];
    let a = r.send_ccr(&c).await;
    assert_cca(&a, &c, 2001);
    let ci = a.avp("Cost-Information").expect("Cost-Information");
    assert_eq!(unit_value(ci.child("Unit-Value").unwrap()), d("0.09"));
    assert_eq!(ci.child("Currency-Code").unwrap().as_u32(), Some(978));
    assert_eq!(
        r.account().await.balance,
        d("10.00"),
        "an enquiry debits nothing"
    );
}

#[tokio::test]
async fn tp_ro_ocf_tc_03() {
    let r = rig().await;
    let mut c = ccr("tc03;1", CcRequestType::Event, 0);
    c.requested_action = Some(RequestedAction::CheckBalance);
    let a = r.send_ccr(&c).await;
    assert_cca(&a, &c, 2001);
    let rb = a.avp("Remaining-Balance").expect("Remaining-Balance");
    assert_eq!(unit_value(rb.child("Unit-Value").unwrap()), d("10"));
    assert_eq!(rb.child("Currency-Code").unwrap().as_u32(), Some(978));
    assert_eq!(a.i32("Check-Balance-Result"), Some(0));
}

#[tokio::test]
async fn tp_ro_ocf_tc_04() {
    let r = rig().await;
    let mut c = ccr("tc04;1", CcRequestType::Event, 0);
    c.requested_action = Some(RequestedAction::DirectDebiting);
    c.mscc = vec![sms(2)];
    assert_eq!(r.send_ccr(&c).await.result_code(), Some(2001));
    assert_eq!(r.account().await.balance, d("9.82"));
    let mut c = ccr("tc04;2", CcRequestType::Event, 0);
    c.requested_action = Some(RequestedAction::RefundAccount);
    c.mscc = vec![sms(2)];
    let a = r.send_ccr(&c).await;
    assert_cca(&a, &c, 2001);
    let gsu = msccs(&a)[0].child("Granted-Service-Unit").unwrap();
    assert_eq!(
        gsu.child("CC-Service-Specific-Units").unwrap().as_u64(),
        Some(2)
    );
    assert_eq!(r.account().await.balance, d("10.00"), "refunded");
}

#[tokio::test]
async fn tp_ro_ocf_tc_05() {
    // ECUR: INITIAL reserves.
    let r = rig().await;
    let mut c = ccr("tc05;1", CcRequestType::Initial, 0);
    c.mscc = vec![sms(4)];
    let a = r.send_ccr(&c).await;
    assert_cca(&a, &c, 2001);
    let gsu = msccs(&a)[0].child("Granted-Service-Unit").unwrap();
    assert_eq!(
        gsu.child("CC-Service-Specific-Units").unwrap().as_u64(),
        Some(4)
    );
    let acc = r.account().await;
    assert_eq!((acc.balance, acc.reserved), (d("10.00"), d("0.36")));
    let rb = a.avp("Remaining-Balance").unwrap();
    assert_eq!(unit_value(rb.child("Unit-Value").unwrap()), d("9.64"));
}

#[tokio::test]
async fn tp_ro_ocf_tc_06() {
    // ECUR: TERMINATION debits the used units and releases the rest.
    let r = rig().await;
    let mut c = ccr("tc06;1", CcRequestType::Initial, 0);
    c.mscc = vec![sms(4)];
    r.send_ccr(&c).await;
    let mut t = ccr("tc06;1", CcRequestType::Termination, 1);
    t.mscc = vec![Mscc {
        service_identifiers: vec![SMS_SERVICE],
        used: vec![events(3)],
        ..Default::default()
    }];
    let a = r.send_ccr(&t).await;
    assert_cca(&a, &t, 2001);
    let acc = r.account().await;
    assert_eq!((acc.balance, acc.reserved), (d("9.73"), d("0")));
    let ci = a.avp("Cost-Information").unwrap();
    assert_eq!(unit_value(ci.child("Unit-Value").unwrap()), d("0.27"));
    let s = r.server.store.ro_session("tc06;1").await.unwrap().unwrap();
    assert_eq!(s.state, "CLOSED");
}

#[tokio::test]
async fn tp_ro_ocf_tc_07() {
    // SCUR: INITIAL reserves 120 s = 2 blocks = 0.20.
    let r = rig().await;
    let a = r.initial("tc07;1").await;
    assert_eq!(granted_time(mscc_for(&a, VOICE)), Some(120));
    assert_eq!(
        mscc_for(&a, VOICE).child("Result-Code").unwrap().as_u32(),
        Some(2001)
    );
    assert_eq!(
        mscc_for(&a, VOICE).child("Validity-Time").unwrap().as_u32(),
        Some(1800)
    );
    let acc = r.account().await;
    assert_eq!((acc.balance, acc.reserved), (d("10.00"), d("0.20")));
}

#[tokio::test]
async fn tp_ro_ocf_tc_08() {
    let r = rig().await;
    r.initial("tc08;1").await;
    let mut u = ccr("tc08;1", CcRequestType::Update, 1);
    let mut m = usu(VOICE, time(90));
    m.requested = Some(time(180));
    u.mscc = vec![m];
    let a = r.send_ccr(&u).await;
    assert_cca(&a, &u, 2001);
    assert_eq!(granted_time(mscc_for(&a, VOICE)), Some(180));
    // 90 s used → 2 blocks = 0.20 debited; 180 s = 0.30 reserved.
    let acc = r.account().await;
    assert_eq!((acc.balance, acc.reserved), (d("9.80"), d("0.30")));
}

#[tokio::test]
async fn tp_ro_ocf_tc_09() {
    let r = rig().await;
    r.initial("tc09;1").await;
    let mut u = ccr("tc09;1", CcRequestType::Update, 1);
    let mut m = usu(VOICE, time(120));
    m.requested = Some(time(120));
    u.mscc = vec![m];
    r.send_ccr(&u).await;
    let mut t = ccr("tc09;1", CcRequestType::Termination, 2);
    t.mscc = vec![usu(VOICE, time(30))];
    let a = r.send_ccr(&t).await;
    // Reading taken: RFC 8506 grants nothing on TERMINATION; the TP's GSU is a copy-paste.
    assert_cca(&a, &t, 2001);
    let acc = r.account().await;
    assert_eq!((acc.balance, acc.reserved), (d("9.70"), d("0")));
    let ci = a.avp("Cost-Information").unwrap();
    assert_eq!(unit_value(ci.child("Unit-Value").unwrap()), d("0.30"));
}

// --- EC: duplicates ---

#[tokio::test]
async fn tp_ro_ocf_ec_01() {
    let r = rig().await;
    let mut c = ccr("ec01;1", CcRequestType::Event, 0);
    c.requested_action = Some(RequestedAction::DirectDebiting);
    c.mscc = vec![sms(1)];
    let first = r.send_ccr(&c).await;
    let again = r.retransmit(&c).await;
    assert_cca(&again, &c, 2001);
    assert_eq!(again.header.end_to_end, 0x7e57_0000);
    assert_eq!(msccs(&again), msccs(&first));
    assert_eq!(r.account().await.balance, d("9.91"), "debited once");
    let debits = r
        .movements()
        .await
        .into_iter()
        .filter(|m| m.reference.starts_with("ro:ec01;1"))
        .count();
    assert_eq!(debits, 1);
}

#[tokio::test]
async fn tp_ro_ocf_ec_02() {
    let r = rig().await;
    let mut c = ccr("ec02;1", CcRequestType::Initial, 0);
    c.mscc = vec![rsu(VOICE, time(120))];
    let first = r.send_ccr(&c).await;
    let again = r.retransmit(&c).await;
    assert_cca(&again, &c, 2001);
    assert_eq!(granted_time(mscc_for(&again, VOICE)), Some(120));
    assert_eq!(msccs(&again), msccs(&first));
    assert_eq!(r.account().await.reserved, d("0.20"), "reserved once");
}

#[tokio::test]
async fn tp_ro_ocf_ec_03() {
    let r = rig().await;
    r.initial("ec03;1").await;
    let mut t = ccr("ec03;1", CcRequestType::Termination, 1);
    t.mscc = vec![usu(VOICE, time(61))];
    let first = r.send_ccr(&t).await;
    let again = r.retransmit(&t).await;
    assert_cca(&again, &t, 2001);
    assert_eq!(again.avps[1..], first.avps[1..]);
    let acc = r.account().await;
    assert_eq!(
        (acc.balance, acc.reserved),
        (d("9.80"), d("0")),
        "debited once"
    );
}

#[tokio::test]
async fn tp_ro_ocf_ec_04() {
    let r = rig().await;
    r.initial("ec04;1").await;
    let mut u = ccr("ec04;1", CcRequestType::Update, 1);
    let mut m = usu(VOICE, time(60));
    m.requested = Some(time(60));
    u.mscc = vec![m];
    let first = r.send_ccr(&u).await;
    // The answer was "lost": the CTF sends the same CCR-U again with the T flag.
    let again = r.retransmit(&u).await;
    assert_cca(&again, &u, 2001);
    assert_eq!(granted_time(mscc_for(&again, VOICE)), Some(60));
    assert_eq!(msccs(&again), msccs(&first));
    let acc = r.account().await;
    assert_eq!(
        (acc.balance, acc.reserved),
        (d("9.90"), d("0.10")),
        "applied once"
    );
}

// --- CH: tariff changes ---

fn switching_tariffs() -> Vec<OnlineTariff> {
    let mut t = tariffs();
    for x in &mut t {
        if x.id == "voice" || x.id == "sms" {
            x.switch = Some(TariffSwitch {
                at: Utc::now() + chrono::Duration::minutes(10),
                price: if x.id == "voice" {
                    d("0.05")
                } else {
                    d("0.03")
                },
            });
        }
    }
    t
}

fn tariff_time_change(m: &Avp) -> Option<Time> {
    m.child("Granted-Service-Unit")?
        .child("Tariff-Time-Change")?
        .as_time()
}

#[tokio::test]
async fn tp_ro_ocf_ch_01() {
    let r = rig_with("10.00", |_| {}, switching_tariffs()).await;
    let mut c = ccr("ch01;1", CcRequestType::Event, 0);
    // Reading taken: CHECK_BALANCE as the TP says; the GSU tells what the balance buys and
    // when the tariff changes. The Used-Service-Unit is accepted and not debited.
    c.requested_action = Some(RequestedAction::CheckBalance);
    c.mscc = vec![Mscc {
        rating_group: Some(VOICE),
        used: vec![ServiceUnit {
            cc_time: Some(60),
            tariff_change_usage: Some(0),
            ..Default::default()
        }],
        ..Default::default()
    }];
    let a = r.send_ccr(&c).await;
    assert_cca(&a, &c, 2001);
    let m = mscc_for(&a, VOICE);
    assert!(
        tariff_time_change(m).is_some(),
        "Tariff-Time-Change in the GSU"
    );
    // 10.00 at the higher price 0.10 per minute: 100 blocks, capped at max grant 3600 s.
    assert_eq!(granted_time(m), Some(6000));
    assert_eq!(r.account().await.balance, d("10.00"));
}

#[tokio::test]
async fn tp_ro_ocf_ch_02() {
    let r = rig_with("10.00", |_| {}, switching_tariffs()).await;
    let mut c = ccr("ch02;1", CcRequestType::Initial, 0);
    c.mscc = vec![Mscc {
        service_identifiers: vec![SMS_SERVICE],
        requested: Some(events(2)),
        used: vec![ServiceUnit {
            cc_service_specific_units: Some(1),
            tariff_change_usage: Some(0),
            ..Default::default()
        }],
        ..Default::default()
    }];
    let a = r.send_ccr(&c).await;
    assert_cca(&a, &c, 2001);
    let m = msccs(&a)[0];
    let ttc = tariff_time_change(m).expect("Tariff-Time-Change");
    assert!(ttc.to_utc() > Utc::now());
    // The used unit before the change is debited at the old price 0.09; 2 events reserved at
    // the higher of the two prices (0.09).
    let acc = r.account().await;
    assert_eq!((acc.balance, acc.reserved), (d("9.91"), d("0.18")));
}

#[tokio::test]
async fn tp_ro_ocf_ch_03() {
    let r = rig_with("10.00", |_| {}, switching_tariffs()).await;
    let mut c = ccr("ch03;1", CcRequestType::Initial, 0);
    let mut m = rsu(VOICE, time(120));
    m.used = vec![ServiceUnit {
        cc_time: Some(60),
        tariff_change_usage: Some(0),
        ..Default::default()
    }];
    c.mscc = vec![m];
    let a = r.send_ccr(&c).await;
    assert_cca(&a, &c, 2001);
    assert!(tariff_time_change(mscc_for(&a, VOICE)).is_some());
    // Then usage split across the switch: 120 s before (0.10/min), 120 s after (0.05/min).
    let mut t = ccr("ch03;1", CcRequestType::Termination, 1);
    t.mscc = vec![Mscc {
        rating_group: Some(VOICE),
        used: vec![
            ServiceUnit {
                cc_time: Some(120),
                tariff_change_usage: Some(0),
                ..Default::default()
            },
            ServiceUnit {
                cc_time: Some(120),
                tariff_change_usage: Some(1),
                ..Default::default()
            },
        ],
        ..Default::default()
    }];
    let a = r.send_ccr(&t).await;
    assert_cca(&a, &t, 2001);
    // INITIAL: 60 s before = 0.10; TERMINATION: 0.20 + 0.10 = 0.30; total 0.40.
    let acc = r.account().await;
    assert_eq!((acc.balance, acc.reserved), (d("9.60"), d("0")));
}

// --- RE: re-authorization ---

#[tokio::test]
async fn tp_ro_ocf_re_01() {
    let mut r = rig().await;
    r.initial("re01;1").await;
    let mut u = ccr("re01;1", CcRequestType::Update, 1);
    let mut m = usu(VOICE, time(60));
    m.requested = Some(time(60));
    u.mscc = vec![m];
    r.send_ccr(&u).await;
    let rc = r.ocf().reauthorize(&r.peers(), "re01;1").await.unwrap();
    assert_eq!(rc, Some(2001), "RAA accepted");
    let rar = r.requests.recv().await.unwrap();
    assert_eq!(rar.header.command_code, cmd::RE_AUTH);
    assert!(rar.header.flags.request());
    assert_eq!(rar.session_id(), Some("re01;1"));
    assert_eq!(rar.str("Destination-Host"), Some(CTF_HOST));
    assert_eq!(rar.str("Destination-Realm"), Some(CTF_REALM));
    assert_eq!(rar.u32("Auth-Application-Id"), Some(4));
    assert_eq!(rar.i32("Re-Auth-Request-Type"), Some(0));
    assert!(rar.origin_host().is_some() && rar.origin_realm().is_some());
}

/// The operator's side of RE and of ASR, through the REST API as an operator drives it:
/// `POST /api/v1/ro/sessions/{id}/reauthorize` sends the RAR and returns the RAA's code, a
/// top-up of the paying account re-authorizes its open sessions by itself, `…/abort` sends
/// the ASR; an unknown session is 404 and nothing is sent.
#[tokio::test]
async fn ro_operator_api_reauthorize_top_up_and_abort_reach_the_ctf() {
    let mut r = rig().await;
    r.initial("re01api;1").await;
    let base = format!("http://{}", r.server.http_addr.unwrap());
    let key = r.server.initial_admin_key.clone().unwrap();
    let http = reqwest::Client::new();
    let post = |path: String, body: Option<serde_json::Value>| {
        let request = http.post(format!("{base}{path}")).bearer_auth(&key);
        let request = match body {
            Some(b) => request.json(&b),
            None => request,
        };
        async move {
            let reply = request.send().await.unwrap();
            let status = reply.status().as_u16();
            (
                status,
                reply.json::<serde_json::Value>().await.unwrap_or_default(),
            )
        }
    };

    let (status, answer) = post("/api/v1/ro/sessions/re01api;1/reauthorize".into(), None).await;
    assert_eq!(
        (status, answer["resultCode"].as_u64()),
        (200, Some(2001)),
        "{answer}"
    );
    let rar = r.requests.recv().await.unwrap();
    assert_eq!(rar.header.command_code, cmd::RE_AUTH);
    assert_eq!(rar.session_id(), Some("re01api;1"));
    assert_eq!(rar.i32("Re-Auth-Request-Type"), Some(0));

    let (status, _) = post(
        format!("/api/v1/accounts/{ACCOUNT}/operations"),
        Some(serde_json::json!({"reference": "re01api:topup",
            "operation": {"op": "topUp", "amount": "5.00"}})),
    )
    .await;
    assert_eq!(status, 200);
    let rar = tokio::time::timeout(Duration::from_secs(5), r.requests.recv())
        .await
        .expect("the top-up re-authorizes the account's open session")
        .unwrap();
    assert_eq!(rar.header.command_code, cmd::RE_AUTH);
    assert_eq!(rar.session_id(), Some("re01api;1"));

    let (status, answer) = post("/api/v1/ro/sessions/re01api;1/abort".into(), None).await;
    assert_eq!(
        (status, answer["resultCode"].as_u64()),
        (200, Some(2001)),
        "{answer}"
    );
    let asr = r.requests.recv().await.unwrap();
    assert_eq!(asr.header.command_code, cmd::ABORT_SESSION);
    assert_eq!(asr.session_id(), Some("re01api;1"));

    // Barring the subscriber is a rule that ends its open sessions: an ASR, then 5003.
    r.initial("re01api;2").await;
    let put = http
        .put(format!("{base}/api/v1/ro/subscribers"))
        .bearer_auth(&key)
        .json(
            &serde_json::json!({"idType": "END_USER_E164", "idData": MSISDN,
            "account": ACCOUNT, "barred": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 200);
    // Both of the subscriber's sessions are still open (the CTF never sent the first one's
    // CCR-T after its abort): each gets an ASR.
    let mut aborted = vec![];
    for _ in 0..2 {
        let asr = tokio::time::timeout(Duration::from_secs(5), r.requests.recv())
            .await
            .expect("barring aborts the subscriber's open sessions")
            .unwrap();
        assert_eq!(asr.header.command_code, cmd::ABORT_SESSION);
        aborted.push(asr.session_id().unwrap().to_owned());
    }
    aborted.sort();
    assert_eq!(aborted, ["re01api;1", "re01api;2"]);

    let (status, answer) = post("/api/v1/ro/sessions/nope;1/reauthorize".into(), None).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (404, Some("unknown_session")),
        "{answer}"
    );
    assert!(
        r.requests.try_recv().is_err(),
        "nothing sent for an unknown session"
    );
}

// --- FH: failure handling ---

#[tokio::test]
async fn tp_ro_ocf_fh_01() {
    let r = rig_with(
        "10.00",
        |s| s.credit_control_failure_handling = "RETRY_AND_TERMINATE".into(),
        tariffs(),
    )
    .await;
    let mut c = ccr("fh01;1", CcRequestType::Event, 0);
    c.requested_action = Some(RequestedAction::PriceEnquiry);
    c.mscc = vec![Mscc {
        service_identifiers: vec![SMS_SERVICE],
        ..Default::default()
    }];
    let a = r.send_ccr(&c).await;
    assert_cca(&a, &c, 2001);
    assert_eq!(a.i32("Credit-Control-Failure-Handling"), Some(2));
}

#[tokio::test]
async fn tp_ro_ocf_fh_02() {
    let r = rig_with(
        "10.00",
        |s| s.direct_debiting_failure_handling = "TERMINATE_OR_BUFFER".into(),
        tariffs(),
    )
    .await;
    let mut c = ccr("fh02;1", CcRequestType::Event, 0);
    c.requested_action = Some(RequestedAction::DirectDebiting);
    c.mscc = vec![sms(1)];
    let a = r.send_ccr(&c).await;
    assert_cca(&a, &c, 2001);
    assert_eq!(a.i32("Direct-Debiting-Failure-Handling"), Some(0));
}

#[tokio::test]
async fn tp_ro_ocf_fh_03() {
    let r = rig_with(
        "10.00",
        |s| s.direct_debiting_failure_handling = "CONTINUE".into(),
        tariffs(),
    )
    .await;
    let mut c = ccr("fh03;1", CcRequestType::Event, 0);
    c.requested_action = Some(RequestedAction::DirectDebiting);
    c.mscc = vec![sms(1)];
    let a = r.send_ccr(&c).await;
    assert_cca(&a, &c, 2001);
    assert_eq!(a.i32("Direct-Debiting-Failure-Handling"), Some(1));
}

// --- FA: failover ---

#[tokio::test]
async fn tp_ro_ocf_fa_01() {
    let r = rig_with(
        "10.00",
        |s| s.cc_session_failover = "FAILOVER_SUPPORTED".into(),
        tariffs(),
    )
    .await;
    let a = r.initial("fa01;1").await;
    assert_eq!(a.i32("CC-Session-Failover"), Some(1));
}

#[tokio::test]
async fn tp_ro_ocf_fa_02() {
    let r = rig_with(
        "10.00",
        |s| s.cc_session_failover = "FAILOVER_NOT_SUPPORTED".into(),
        tariffs(),
    )
    .await;
    let mut c = ccr("fa02;1", CcRequestType::Initial, 0);
    c.requested_action = Some(RequestedAction::DirectDebiting);
    c.mscc = vec![rsu(VOICE, time(60))];
    let a = r.send_ccr(&c).await;
    assert_cca(&a, &c, 2001);
    assert_eq!(a.i32("CC-Session-Failover"), Some(0));
}

// --- CP: credit pooling ---

async fn credit_pooling(session: &str) {
    let r = rig_with("10.00", |s| s.credit_pooling = true, tariffs()).await;
    let mut c = ccr(session, CcRequestType::Initial, 0);
    // Reading taken: the TP's CCR names no MSCC; a CTF supporting several services sends one
    // per rating group with the indicator, as here.
    c.mscc = vec![
        rsu(VOICE, time(120)),
        rsu(
            DATA,
            ServiceUnit {
                cc_total_octets: Some(5_000_000),
                ..Default::default()
            },
        ),
    ];
    let m = c.to_message();
    assert_eq!(m.i32("Multiple-Services-Indicator"), Some(1));
    let a = r.send(m).await;
    assert_cca(&a, &c, 2001);
    let pool = |rg| {
        mscc_for(&a, rg)
            .child("G-S-U-Pool-Reference")
            .cloned()
            .expect("pool")
    };
    let voice = pool(VOICE);
    assert_eq!(
        voice.child("G-S-U-Pool-Identifier").unwrap().as_u32(),
        Some(1)
    );
    assert_eq!(voice.child("CC-Unit-Type").unwrap().as_i32(), Some(0));
    assert_eq!(
        unit_value(voice.child("Unit-Value").unwrap()),
        d("0.0016666667")
    );
    // Multipliers: the price of one unit, rounded up to 10 decimals (0.10 / 60 s = 1/600 EUR).
    let data = pool(DATA);
    assert_eq!(data.child("CC-Unit-Type").unwrap().as_i32(), Some(2));
    assert_eq!(
        unit_value(data.child("Unit-Value").unwrap()),
        d("0.00000001")
    );
    // Both grants are reserved on the one account: 0.20 + 0.05.
    assert_eq!(r.account().await.reserved, d("0.25"));
}

#[tokio::test]
async fn tp_ro_ocf_cp_01() {
    credit_pooling("cp01;1").await;
}

#[tokio::test]
async fn tp_ro_ocf_cp_02() {
    credit_pooling("cp02;1").await;
}

// --- OP: other procedures ---

#[tokio::test]
async fn tp_ro_ocf_op_01() {
    let r = rig_with(
        "10.00",
        |s| {
            s.quota_holding_time = 45;
            s.default_rating_group = Some(VOICE);
        },
        tariffs(),
    )
    .await;
    let c = ccr("op01;1", CcRequestType::Initial, 0);
    let a = r.send_ccr(&c).await;
    assert_cca(&a, &c, 2001);
    let m = mscc_for(&a, VOICE);
    assert_eq!(m.child("Quota-Holding-Time").unwrap().as_u32(), Some(45));
    assert_eq!(granted_time(m), Some(300), "the tariff's default grant");
}

async fn op_with_rar(
    session: &str,
    adjust: impl FnOnce(&mut RoSettings),
    requested: Mscc,
    check: impl Fn(&Avp),
) {
    let mut r = rig_with("10.00", adjust, tariffs()).await;
    let mut c = ccr(session, CcRequestType::Initial, 0);
    c.mscc = vec![requested.clone()];
    assert_eq!(r.send_ccr(&c).await.result_code(), Some(2001));
    let mut u = ccr(session, CcRequestType::Update, 1);
    u.mscc = vec![requested];
    let a = r.send_ccr(&u).await;
    assert_cca(&a, &u, 2001);
    check(msccs(&a)[0]);
    assert_eq!(
        r.ocf().reauthorize(&r.peers(), session).await.unwrap(),
        Some(2001)
    );
    let rar = r.requests.recv().await.unwrap();
    assert_eq!(rar.header.command_code, cmd::RE_AUTH);
    assert_eq!(rar.i32("Re-Auth-Request-Type"), Some(0));
    assert_eq!(rar.u32("Auth-Application-Id"), Some(4));
}

#[tokio::test]
async fn tp_ro_ocf_op_02() {
    op_with_rar(
        "op02;1",
        |s| s.triggers = vec![2, 3],
        rsu(VOICE, time(60)),
        |m| {
            let t = m.child("Trigger").expect("Trigger");
            let types: Vec<_> = t
                .children()
                .unwrap()
                .iter()
                .filter_map(Avp::as_i32)
                .collect();
            assert_eq!(types, vec![2, 3]);
        },
    )
    .await;
}

#[tokio::test]
async fn tp_ro_ocf_op_03() {
    let r = rig_with(
        "10.00",
        |s| {
            s.triggers = vec![2];
            s.reset_triggers_on_update = true;
        },
        tariffs(),
    )
    .await;
    // Preamble: the CCA-Initial arms CHANGE_IN_QOS.
    let a = r.initial("op03;1").await;
    let armed = mscc_for(&a, VOICE)
        .child("Trigger")
        .cloned()
        .expect("Trigger");
    assert_eq!(armed.children().unwrap().len(), 1);
    let mut u = ccr("op03;1", CcRequestType::Update, 1);
    let mut m = usu(VOICE, time(60));
    m.requested = Some(time(60));
    u.mscc = vec![m];
    let a = r.send_ccr(&u).await;
    assert_cca(&a, &u, 2001);
    let reset = mscc_for(&a, VOICE)
        .child("Trigger")
        .cloned()
        .expect("Trigger");
    assert!(
        reset.children().unwrap().is_empty(),
        "Trigger without Trigger-Type: reset all"
    );
}

#[tokio::test]
async fn tp_ro_ocf_op_04() {
    op_with_rar(
        "op04;1",
        |s| s.time_quota_threshold = 20,
        rsu(VOICE, time(60)),
        |m| {
            assert_eq!(granted_time(m), Some(60));
            assert_eq!(m.child("Time-Quota-Threshold").unwrap().as_u32(), Some(20));
        },
    )
    .await;
}

#[tokio::test]
async fn tp_ro_ocf_op_05() {
    let data = rsu(
        DATA,
        ServiceUnit {
            cc_total_octets: Some(2_000_000),
            ..Default::default()
        },
    );
    op_with_rar(
        "op05;1",
        |s| s.volume_quota_threshold = 100_000,
        data,
        |m| {
            let gsu = m.child("Granted-Service-Unit").unwrap();
            assert_eq!(
                gsu.child("CC-Total-Octets").unwrap().as_u64(),
                Some(2_000_000)
            );
            assert_eq!(
                m.child("Volume-Quota-Threshold").unwrap().as_u32(),
                Some(100_000)
            );
        },
    )
    .await;
}

#[tokio::test]
async fn tp_ro_ocf_op_06() {
    op_with_rar(
        "op06;1",
        |s| s.unit_quota_threshold = 1,
        sms(3),
        |m| {
            let gsu = m.child("Granted-Service-Unit").unwrap();
            assert_eq!(
                gsu.child("CC-Service-Specific-Units").unwrap().as_u64(),
                Some(3)
            );
            assert_eq!(m.child("Unit-Quota-Threshold").unwrap().as_u32(), Some(1));
        },
    )
    .await;
}

/// Credit runs out: 0.50 pays for 5 minutes; INITIAL takes 4, the UPDATE reporting them can
/// only grant the last one, with Final-Unit-Indication.
async fn credit_runs_out(session: &str, adjust: impl FnOnce(&mut RoSettings)) -> Avp {
    let r = rig_with("0.50", adjust, tariffs()).await;
    let mut c = ccr(session, CcRequestType::Initial, 0);
    c.mscc = vec![rsu(VOICE, time(240))];
    let a = r.send_ccr(&c).await;
    assert_eq!(granted_time(mscc_for(&a, VOICE)), Some(240));
    assert!(mscc_for(&a, VOICE).child("Final-Unit-Indication").is_none());
    let mut u = ccr(session, CcRequestType::Update, 1);
    let mut m = usu(VOICE, time(240));
    m.requested = Some(time(240));
    u.mscc = vec![m];
    let a = r.send_ccr(&u).await;
    assert_cca(&a, &u, 2001);
    let m = mscc_for(&a, VOICE);
    assert_eq!(
        granted_time(m),
        Some(60),
        "the last minute the credit pays for"
    );
    let acc = r.account().await;
    assert_eq!(
        (acc.balance, acc.reserved, acc.available()),
        (d("0.10"), d("0.10"), d("0"))
    );
    m.child("Final-Unit-Indication")
        .cloned()
        .expect("Final-Unit-Indication")
}

#[tokio::test]
async fn tp_ro_ocf_op_07() {
    let fui = credit_runs_out("op07;1", |_| {}).await;
    assert_eq!(fui.child("Final-Unit-Action").unwrap().as_i32(), Some(0));
}

#[tokio::test]
async fn tp_ro_ocf_op_08() {
    let fui = credit_runs_out("op08;1", |s| {
        s.final_unit_action = "REDIRECT".into();
        s.redirect_server_address = "http://topup.example/".into();
    })
    .await;
    assert_eq!(fui.child("Final-Unit-Action").unwrap().as_i32(), Some(1));
    let rs = fui.child("Redirect-Server").unwrap();
    assert_eq!(rs.child("Redirect-Address-Type").unwrap().as_i32(), Some(2));
    assert_eq!(
        rs.child("Redirect-Server-Address").unwrap().as_str(),
        Some("http://topup.example/")
    );
}

#[tokio::test]
async fn tp_ro_ocf_op_09() {
    let r = rig_with(
        "10.00",
        |s| {
            s.quota_consumption_time = 30;
            s.default_rating_group = Some(VOICE);
        },
        tariffs(),
    )
    .await;
    let c = ccr("op09;1", CcRequestType::Initial, 0);
    let a = r.send_ccr(&c).await;
    assert_cca(&a, &c, 2001);
    let m = mscc_for(&a, VOICE);
    assert_eq!(granted_time(m), Some(300));
    assert_eq!(
        m.child("Quota-Consumption-Time").unwrap().as_u32(),
        Some(30)
    );
}

#[tokio::test]
async fn tp_ro_ocf_op_10() {
    let r = rig().await;
    r.initial("op10;1").await;
    let mut u = ccr("op10;1", CcRequestType::Update, 1);
    let mut m = usu(VOICE, time(60));
    m.requested = Some(time(120));
    u.mscc = vec![m];
    r.send_ccr(&u).await;
    // Service termination requested at the OCF (operator).
    assert!(r
        .server
        .store
        .ro_request_termination("op10;1")
        .await
        .unwrap());
    let mut t = ccr("op10;1", CcRequestType::Termination, 2);
    t.mscc = vec![usu(VOICE, time(30))];
    let a = r.send_ccr(&t).await;
    assert_cca(&a, &t, 5003);
    // Usage is still charged, the rest released: 0.10 + 0.10.
    let acc = r.account().await;
    assert_eq!((acc.balance, acc.reserved), (d("9.80"), d("0")));
}

#[tokio::test]
async fn tp_ro_ocf_op_11() {
    let mut r = rig().await;
    r.initial("op11;1").await;
    let mut u = ccr("op11;1", CcRequestType::Update, 1);
    let mut m = usu(VOICE, time(60));
    m.requested = Some(time(120));
    u.mscc = vec![m];
    r.send_ccr(&u).await;
    let rc = r.ocf().abort_session(&r.peers(), "op11;1").await.unwrap();
    assert_eq!(rc, Some(2001), "ASA accepted");
    let asr = r.requests.recv().await.unwrap();
    assert_eq!(asr.header.command_code, cmd::ABORT_SESSION);
    assert_eq!(asr.session_id(), Some("op11;1"));
    assert_eq!(asr.str("Destination-Host"), Some(CTF_HOST));
    assert_eq!(asr.str("Destination-Realm"), Some(CTF_REALM));
    assert_eq!(asr.u32("Auth-Application-Id"), Some(4));
    let t = ccr("op11;1", CcRequestType::Termination, 2);
    let a = r.send_ccr(&t).await;
    assert_cca(&a, &t, 5003);
    assert_eq!(r.account().await.reserved, d("0"));
}

#[tokio::test]
async fn tp_ro_ocf_op_12() {
    let r = rig_with(
        "10.00",
        |s| s.envelope_reporting = "REPORT_ENVELOPES_WITH_VOLUME".into(),
        tariffs(),
    )
    .await;
    let mut c = ccr("op12;1", CcRequestType::Initial, 0);
    c.mscc = vec![rsu(VOICE, time(120))];
    let a = r.send_ccr(&c).await;
    assert_cca(&a, &c, 2001);
    assert_eq!(
        mscc_for(&a, VOICE)
            .child("Envelope-Reporting")
            .unwrap()
            .as_i32(),
        Some(2)
    );
    // CCR-U with the used units and an Envelope (reading taken: Used-Service-Unit, as a CCR
    // carries; Envelope-End-Time for the TP's "Envelope-Stop-Time").
    let mut u = ccr("op12;1", CcRequestType::Update, 1);
    u.mscc = vec![usu(VOICE, time(100))];
    let now = Utc::now();
    let mscc = u.mscc[0].to_avp_with(vec![Avp::grouped(
        "Envelope",
        vec![
            Avp::time(
                "Envelope-Start-Time",
                Time::from_utc(now - chrono::Duration::seconds(100)),
            ),
            Avp::time("Envelope-End-Time", Time::from_utc(now)),
            Avp::u64("CC-Total-Octets", 3000),
            Avp::u64("CC-Input-Octets", 1000),
            Avp::u64("CC-Output-Octets", 2000),
        ],
    )]);
    let mut m = u.to_message();
    m.avps
        .retain(|a| a.name() != "Multiple-Services-Credit-Control");
    m.push(mscc);
    let a = r.send(m).await;
    assert_cca(&a, &u, 2001);
    assert_eq!(
        r.account().await.balance,
        d("9.80"),
        "100 s = 2 blocks debited"
    );
}

#[tokio::test]
async fn tp_ro_ocf_op_13() {
    // Variants VA_01 DISCRETE_TIME_PERIOD (0) and VA_02 CONTINUOUS_TIME_PERIOD (1).
    for (variant, name) in [(0, "DISCRETE_TIME_PERIOD"), (1, "CONTINUOUS_TIME_PERIOD")] {
        let r = rig_with(
            "10.00",
            |s| {
                s.time_quota_type = name.into();
                s.base_time_interval = 15;
            },
            tariffs(),
        )
        .await;
        let session = format!("op13;{variant}");
        let mut c = ccr(&session, CcRequestType::Initial, 0);
        c.mscc = vec![rsu(VOICE, time(120))];
        let a = r.send_ccr(&c).await;
        assert_cca(&a, &c, 2001);
        let tqm = mscc_for(&a, VOICE)
            .child("Time-Quota-Mechanism")
            .cloned()
            .expect("TQM");
        assert_eq!(
            tqm.child("Time-Quota-Type").unwrap().as_i32(),
            Some(variant)
        );
        assert_eq!(tqm.child("Base-Time-Interval").unwrap().as_u32(), Some(15));
        let mut u = ccr(&session, CcRequestType::Update, 1);
        u.mscc = vec![usu(VOICE, time(45))];
        let a = r.send_ccr(&u).await;
        assert_cca(&a, &u, 2001);
        assert_eq!(r.account().await.balance, d("9.90"));
    }
}

#[tokio::test]
async fn tp_ro_ocf_op_14() {
    let r = rig_with(
        "10.00",
        |s| {
            s.offline_charging = true;
            s.quota_consumption_time = 30;
            s.envelope_reporting = "REPORT_ENVELOPES_WITH_VOLUME".into();
        },
        tariffs(),
    )
    .await;
    let a = r.initial("op14;1").await;
    let oc = a
        .avp("Service-Information")
        .and_then(|s| s.child("PS-Information"))
        .and_then(|p| p.child("Offline-Charging"))
        .expect("Service-Information{PS-Information{Offline-Charging}}");
    assert_eq!(
        oc.child("Quota-Consumption-Time").unwrap().as_u32(),
        Some(30)
    );
    assert_eq!(oc.child("Envelope-Reporting").unwrap().as_i32(), Some(2));
}

// --- Beyond the TPs: codes and supervision the issue asks for ---

#[tokio::test]
async fn ro_ocf_result_codes() {
    let r = rig_with("0.05", |_| {}, tariffs()).await;
    // Unknown subscriber: 5030.
    let mut c = ccr("rc;1", CcRequestType::Initial, 0);
    c.subscription_ids[0].data = "4900000".into();
    assert_eq!(r.send_ccr(&c).await.result_code(), Some(5030));
    // No tariff for the rating group: 5031. Free service: 4011. No credit: 4012.
    for (rg, code) in [(99, 5031), (FREE, 4011), (VOICE, 4012)] {
        let mut c = ccr(&format!("rc;{rg}"), CcRequestType::Initial, 0);
        c.mscc = vec![rsu(rg, time(60))];
        let a = r.send_ccr(&c).await;
        assert_eq!(a.result_code(), Some(code), "rating group {rg}");
        assert_eq!(
            mscc_for(&a, rg).child("Result-Code").unwrap().as_u32(),
            Some(code)
        );
    }
    // Barred subscriber: 4010.
    r.server
        .store
        .ro_put_subscriber(&Subscriber {
            id_type: "END_USER_E164".into(),
            id_data: MSISDN.into(),
            account: ACCOUNT.into(),
            barred: true,
        })
        .await
        .unwrap();
    assert_eq!(
        r.send_ccr(&ccr("rc;barred", CcRequestType::Initial, 0))
            .await
            .result_code(),
        Some(4010)
    );
    // UPDATE of an unknown session: 5002.
    assert_eq!(
        r.send_ccr(&ccr("rc;none", CcRequestType::Update, 1))
            .await
            .result_code(),
        Some(5002)
    );
}

#[tokio::test]
async fn ro_ocf_tcc_releases_reservations() {
    let r = rig_with("10.00", |s| s.tcc = Duration::from_millis(100), tariffs()).await;
    r.initial("tcc;1").await;
    assert_eq!(r.account().await.reserved, d("0.20"));
    let mut closed = false;
    for _ in 0..200 {
        let s = r.server.store.ro_session("tcc;1").await.unwrap().unwrap();
        if s.state == "CLOSED" {
            assert_eq!(s.closed_reason.as_deref(), Some("SUPERVISION_TIMEOUT"));
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(closed, "Tcc closed the session");
    let acc = r.account().await;
    assert_eq!((acc.balance, acc.reserved), (d("10.00"), d("0")));
}

/// The sim's Ro load mode against our OCF: every CCR answered 2001 and every account charged
/// exactly what its sessions used. `RO_LOAD_SESSIONS` / `RO_LOAD_RATE` scale it up for the
/// throughput figure in docs/benchmarks.md (measured, not asserted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ro_ocf_sim_load() {
    let env = |k: &str, d: u32| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let sessions = env("RO_LOAD_SESSIONS", 200);
    let rate = env("RO_LOAD_RATE", 2000);
    let r = rig().await;
    let args = unicharge_sim::diameter_ro::RoLoadArgs {
        ocf: r.server.diameter.as_ref().unwrap().addr,
        sessions,
        rate: f64::from(rate),
        updates: 1,
        rating_group: VOICE,
        seconds: 60,
        msisdn_prefix: "4917".into(),
        subscribers: 50,
        origin_host: "ctf.load.example".into(),
        origin_realm: "load.example".into(),
        destination_realm: OCF_REALM.into(),
        duration: None,
        quiet: true,
        connections: 2,
        tls: Default::default(),
    };
    let store = r.server.store.clone();
    for n in 0..args.subscribers {
        let msisdn = unicharge_sim::diameter_ro::msisdn(&args, n);
        common::ro_subscriber(&*store, &format!("load-{n}"), &msisdn, d("1000")).await;
    }
    let report = unicharge_sim::diameter_ro::run(&args).await.unwrap();
    eprintln!(
        "ro load: {} sessions, {} CCR in {:.2}s = {:.0} CCR/s, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms",
        report.sessions, report.ok, report.elapsed.as_secs_f64(), report.per_second(), report.p50_ms, report.p99_ms, report.p999_ms
    );
    assert_eq!((report.ok, report.failed), (u64::from(sessions) * 3, 0));
    // Each session used 2 × 60 s = 0.20 EUR; nothing stays reserved.
    let mut total = Decimal::ZERO;
    for n in 0..args.subscribers {
        let a = store
            .ledger_account(&format!("load-{n}"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a.reserved, Decimal::ZERO);
        total += d("1000") - a.balance;
    }
    assert_eq!(total, Decimal::from(sessions) * d("0.20"));
}

/// ADR 0046: a node holds its sessions and accounts in memory, so it must notice when the store
/// moved under it. Node A (the server, over Diameter) opens the session; node B (a second OCF on
/// the same store) answers the first CCR-U; the operator tops the account up; then node A gets
/// the next CCR-U and a retransmission of B's: it must plan on the store's state (not its
/// memory), replay B's answer without debiting again, and the account must end exact.
#[tokio::test]
async fn ro_ocf_memory_follows_other_nodes_and_the_operator() {
    let r = rig().await;
    let sid = "held;1";
    r.initial(sid).await;
    let node_b =
        unicharge_server::diameter::ro::Ocf::new(r.ocf().config().clone(), r.server.store.clone());
    let mut u1 = ccr(sid, CcRequestType::Update, 1);
    u1.mscc = vec![Mscc {
        used: vec![time(120)],
        ..rsu(VOICE, time(120))
    }];
    let b_answer = node_b
        .on_ccr(u1.to_message())
        .await
        .expect("node B answers");
    assert_eq!(b_answer.result_code(), Some(2001));
    // 10.00 − 0.20 used; 0.20 reserved for the next 120 s.
    let acc = r.account().await;
    assert_eq!((acc.balance, acc.reserved), (d("9.80"), d("0.20")));

    r.server
        .store
        .ledger_apply(&unicharge_core::ledger::Request {
            account: ACCOUNT.into(),
            reference: "operator-top-up-1".into(),
            operation: unicharge_core::ledger::Operation::TopUp { amount: d("5.00") },
            at: Utc::now(),
        })
        .await
        .unwrap();

    // Node A still holds the session at CCR-I and the account before B and the top-up.
    let mut u2 = ccr(sid, CcRequestType::Update, 2);
    u2.mscc = vec![Mscc {
        used: vec![time(60)],
        ..rsu(VOICE, time(120))
    }];
    let a = r.send_ccr(&u2).await;
    assert_cca(&a, &u2, 2001);
    // 9.80 + 5.00 − 0.10 = 14.70, 0.20 reserved: Remaining-Balance is what is available.
    let rb = a.avp("Remaining-Balance").expect("Remaining-Balance");
    assert_eq!(unit_value(rb.child("Unit-Value").unwrap()), d("14.50"));
    let acc = r.account().await;
    assert_eq!((acc.balance, acc.reserved), (d("14.70"), d("0.20")));

    // B's CCR-U #1 retransmitted to A: B's answer, nothing debited again.
    let again = r.retransmit(&u1).await;
    assert_eq!(again.result_code(), Some(2001));
    assert_eq!(mscc_for(&again, VOICE), mscc_for(&b_answer, VOICE));
    assert_eq!(r.account().await.balance, d("14.70"));

    let mut t = ccr(sid, CcRequestType::Termination, 3);
    t.mscc = vec![usu(VOICE, time(30))];
    let a = r.send_ccr(&t).await;
    assert_cca(&a, &t, 2001);
    let acc = r.account().await;
    // 0.20 + 0.10 + 0.10 (30 s rounds up to the 60 s unit) = 0.40 used in all.
    assert_eq!((acc.balance, acc.reserved), (d("14.60"), d("0")));
    let s = r.server.store.ro_session(sid).await.unwrap().unwrap();
    assert_eq!((s.state.as_str(), s.data.debited), ("CLOSED", d("0.40")));
    assert_eq!(s.version, 4, "I, U (B), U (A), T: one version each");
}

/// Load shedding (RFC 6733 §7.1.3): past `max_pending_ccrs` CCRs in progress the OCF answers
/// 3004 DIAMETER_TOO_BUSY with the E bit at once, charges nothing for it, and the same CCR sent
/// again later is answered normally.
#[tokio::test]
async fn ro_ocf_sheds_load_with_3004() {
    let r = rig_with("10.00", |s| s.max_pending_ccrs = 1, tariffs()).await;
    let sends: Vec<_> = (0..20)
        .map(|i| {
            let mut c = ccr(&format!("shed;{i}"), CcRequestType::Initial, 0);
            c.mscc = vec![rsu(VOICE, time(60))];
            let m = c.to_message();
            let peer = r.peer.clone();
            tokio::spawn(async move { (c, peer.request(m, Duration::from_secs(5)).await.unwrap()) })
        })
        .collect();
    let (mut ok, mut busy) = (0, vec![]);
    for send in sends {
        let (c, a) = send.await.unwrap();
        match a.result_code() {
            Some(2001) => ok += 1,
            Some(3004) => {
                assert!(
                    a.header.flags.error(),
                    "3004 is a protocol error: E bit set"
                );
                busy.push(c);
            }
            other => panic!("unexpected Result-Code {other:?}"),
        }
    }
    assert!(
        ok >= 1 && !busy.is_empty(),
        "{ok} answered, {} shed",
        busy.len()
    );
    // Only the answered sessions reserved (0.10 each for 60 s).
    assert_eq!(r.account().await.reserved, d("0.10") * Decimal::from(ok));
    for c in &busy {
        assert_eq!(r.send_ccr(c).await.result_code(), Some(2001));
    }
    assert_eq!(r.account().await.reserved, d("2.00"));
}

/// Money quotas (RFC 8506 §8.22 CC-Money): a rating group priced per cent grants, reserves and
/// debits amounts. RSU 5.00 EUR → GSU 5.00 EUR reserved; USU 3.25 EUR → 3.25 debited, the rest
/// released; an amount the balance does not cover is granted what is left; another currency
/// or a fraction of a cent is not rated.
#[tokio::test]
async fn ro_ocf_money_quotas_grant_reserve_and_debit_amounts() {
    const MONEY: u32 = 50;
    let mut t = tariffs();
    let mut money = tariff("money", Some(MONEY), None, QuotaUnit::Money, "0.01", 1, 500);
    money.max_grant = Some(100_000);
    t.push(money);
    let r = rig_with("10.00", |_| {}, t).await;
    let eur = |value_digits: i64, exponent: i32| ServiceUnit {
        cc_money: Some(unicharge_diameter::cc::CcMoney {
            value_digits,
            exponent,
            currency_code: Some(978),
        }),
        ..Default::default()
    };
    let granted = |a: &Message| {
        mscc_for(a, MONEY)
            .child("Granted-Service-Unit")
            .and_then(|g| g.child("CC-Money"))
            .map(|m| {
                let v = m.child("Unit-Value").unwrap();
                (
                    v.child("Value-Digits").and_then(Avp::as_i64).unwrap(),
                    v.child("Exponent").and_then(Avp::as_i32).unwrap_or(0),
                    m.child("Currency-Code").and_then(Avp::as_u32),
                )
            })
    };

    let mut i = ccr("money;1", CcRequestType::Initial, 0);
    i.mscc = vec![rsu(MONEY, eur(5, 0))];
    let a = r.send_ccr(&i).await;
    assert_cca(&a, &i, 2001);
    assert_eq!(granted(&a), Some((500, -2, Some(978))), "5.00 EUR granted");
    assert_eq!(r.account().await.reserved, d("5.00"));

    let mut t = ccr("money;1", CcRequestType::Termination, 1);
    t.mscc = vec![usu(MONEY, eur(325, -2))];
    assert_cca(&r.send_ccr(&t).await, &t, 2001);
    let acc = r.account().await;
    assert_eq!((acc.balance, acc.reserved), (d("6.75"), d("0")));

    // 8.00 asked, 6.75 left: 6.75 granted.
    let mut i = ccr("money;2", CcRequestType::Initial, 0);
    i.mscc = vec![rsu(MONEY, eur(800, -2))];
    let a = r.send_ccr(&i).await;
    assert_cca(&a, &i, 2001);
    assert_eq!(granted(&a), Some((675, -2, Some(978))));
    assert_eq!(r.account().await.reserved, d("6.75"));

    // USD (840) for a EUR tariff, and a tenth of a cent: not rated, nothing debited.
    for (n, unit) in [
        (
            1,
            ServiceUnit {
                cc_money: Some(unicharge_diameter::cc::CcMoney {
                    value_digits: 100,
                    exponent: -2,
                    currency_code: Some(840),
                }),
                ..Default::default()
            },
        ),
        (2, eur(1, -3)),
    ] {
        let mut u = ccr("money;2", CcRequestType::Update, n);
        u.mscc = vec![usu(MONEY, unit)];
        r.send_ccr(&u).await;
    }
    assert_eq!(r.account().await.balance, d("6.75"));
}

/// Issue 17: a credit-control session continues on another OCF node sharing the store (a CTF
/// fails over, or a Diameter agent spreads requests): INITIAL on node A, UPDATEs alternating
/// between B and A, TERMINATION on B. Each node plans from what it holds and its write is
/// guarded by the session's version and the account's last movement, so the node that is
/// behind re-reads and plans again: the money and units come out exactly as when one node
/// answers every CCR — nothing debited twice, nothing lost, nothing left reserved.
#[tokio::test]
async fn ro_session_continues_on_another_node_sharing_the_store() {
    let (Some(one), Some(two)) = (
        common::shared_postgres_store("ro_one_node"),
        common::shared_postgres_store("ro_two_nodes"),
    ) else {
        return;
    };
    async fn play(nodes: &[&Rig]) -> (Account, usize) {
        let session = "ctf.tester.example;failover;1";
        let node = |i: usize| nodes[i % nodes.len()];
        let mut c = ccr(session, CcRequestType::Initial, 0);
        c.mscc = vec![rsu(VOICE, time(120))];
        let a = node(0).send_ccr(&c).await;
        assert_cca(&a, &c, 2001);
        for (n, used) in [(1u32, 120u32), (2, 60), (3, 90)] {
            let mut c = ccr(session, CcRequestType::Update, n);
            c.mscc = vec![Mscc {
                rating_group: Some(VOICE),
                requested: Some(time(120)),
                used: vec![time(used)],
                ..Default::default()
            }];
            let a = node(n as usize).send_ccr(&c).await;
            assert_cca(&a, &c, 2001);
            assert_eq!(
                granted_time(mscc_for(&a, VOICE)),
                Some(120),
                "CCR-U {n}: {a:?}"
            );
            // A retransmission to the other node is answered, not debited again.
            let again = node(n as usize + 1).retransmit(&c).await;
            assert_eq!(again.result_code(), Some(2001), "{again:?}");
        }
        let mut c = ccr(session, CcRequestType::Termination, 4);
        c.mscc = vec![Mscc {
            rating_group: Some(VOICE),
            used: vec![time(30)],
            ..Default::default()
        }];
        let a = node(4).send_ccr(&c).await;
        assert_cca(&a, &c, 2001);
        (node(0).account().await, node(1).movements().await.len())
    }
    let setup = || Some(("10.00", tariffs()));
    let single = start_rig(Some(&one), setup(), |_| {}).await;
    let (alone, alone_movements) = play(&[&single]).await;
    let a = start_rig(Some(&two), setup(), |_| {}).await;
    let b = start_rig(Some(&two), None, |_| {}).await;
    let (shared, shared_movements) = play(&[&a, &b]).await;
    assert!(
        alone.balance < d("10.00"),
        "the calls cost something: {alone:?}"
    );
    assert_eq!(shared.reserved, d("0"), "nothing left reserved: {shared:?}");
    assert_eq!(
        (shared.balance, shared.reserved),
        (alone.balance, alone.reserved),
        "two nodes charge exactly what one does"
    );
    assert_eq!(
        shared_movements, alone_movements,
        "the same ledger movements"
    );
}
