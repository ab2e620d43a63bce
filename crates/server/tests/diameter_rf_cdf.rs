//! ETSI TS 103 374-2 (Rf, CDF role): the TP_RF_CDF_* test purposes against `unicharge serve`'s
//! CDF over real TCP, with the tester playing the CTF through the project's own Diameter peer
//! (CER/CEA first, as any CTF would). Assertions check the values a wrong CDF would get wrong
//! and, behind the ACA, what was made durable in the store.

mod common;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use unicharge_diameter::peer::{
    connect, DuplicateCache, PeerConfig, PeerHandle, PeerTable, RequestHandler, Shared,
};
use unicharge_diameter::rf::cdf::BoxFuture;
use unicharge_diameter::{app, cmd, Avp, CommandFlags, Message, Time};
use unicharge_server::Server;

const CDF_HOST: &str = "cdf.unicharge.localdomain";
const CDF_REALM: &str = "unicharge.localdomain";
const CTF_HOST: &str = "ctf.tester.example";
const CTF_REALM: &str = "tester.example";
const INTERIM: u32 = 7;

/// The tester's side: records every request the CDF sends (ASR) and answers it 2001.
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

async fn rig(supervision: Duration) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let mut s = common::test_settings(dir.path());
    s.diameter.listen = Some("127.0.0.1:0".parse().unwrap());
    s.diameter.acct_interim_interval = INTERIM;
    s.diameter.supervision = Some(supervision);
    s.diameter.supervision_check = Duration::from_millis(20);
    let server = unicharge_server::start(s).await.unwrap();
    let addr = server.diameter.as_ref().unwrap().addr;
    let (tx, requests) = mpsc::unbounded_channel();
    let mut config = PeerConfig::cdf(CTF_HOST, CTF_REALM);
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

fn acr(session: &str, record_type: i32, number: u32) -> Message {
    Message::request(cmd::ACCOUNTING, app::BASE_ACCOUNTING, 0, 0)
        .with(Avp::utf8("Session-Id", session))
        .with(Avp::identity("Origin-Host", CTF_HOST))
        .with(Avp::identity("Origin-Realm", CTF_REALM))
        .with(Avp::identity("Destination-Realm", CDF_REALM))
        .with(Avp::enumerated("Accounting-Record-Type", record_type))
        .with(Avp::u32("Accounting-Record-Number", number))
        .with(Avp::u32("Acct-Application-Id", 3))
}

fn with_service_information(m: Message, msisdn: &str) -> Message {
    m.with(Avp::time(
        "Event-Timestamp",
        Time::from_utc(chrono::Utc::now()),
    ))
    .with(Avp::utf8("Service-Context-Id", "32260@3gpp.org"))
    .with(Avp::grouped(
        "Service-Information",
        vec![
            Avp::grouped(
                "Subscription-Id",
                vec![
                    Avp::enumerated("Subscription-Id-Type", 0),
                    Avp::utf8("Subscription-Id-Data", msisdn),
                ],
            ),
            Avp::grouped(
                "IMS-Information",
                vec![Avp::enumerated("Node-Functionality", 3)],
            ),
        ],
    ))
}

impl Rig {
    async fn send(&self, m: Message) -> Message {
        self.peer.request(m, Duration::from_secs(5)).await.unwrap()
    }
    async fn records(&self, session: &str) -> Vec<unicharge_store::AccountingRecordRow> {
        let mut r = self
            .server
            .store
            .accounting_records(Some(session), 100)
            .await
            .unwrap();
        r.sort_by_key(|r| r.record_number);
        r
    }
    async fn charge_record(
        &self,
        session: &str,
    ) -> Option<unicharge_core::charge_record::ChargeRecord> {
        let id = unicharge_core::charge_record::charge_record_id(
            &format!("diameter:{CTF_HOST}"),
            session,
        );
        self.server.store.charge_record(&id).await.unwrap()
    }
}

/// ACA{Session-Id; Result-Code 2001; no Experimental-Result; Origin-Host; Origin-Realm;
/// Accounting-Record-Type; Accounting-Record-Number; Acct-Application-Id 3}.
fn assert_aca(aca: &Message, session: &str, record_type: i32, number: u32) {
    assert_eq!(aca.header.command_code, cmd::ACCOUNTING);
    assert!(!aca.is_request());
    assert_eq!(aca.session_id(), Some(session));
    assert_eq!(aca.result_code(), Some(2001));
    assert!(aca.avp("Experimental-Result").is_none());
    assert_eq!(aca.origin_host(), Some(CDF_HOST));
    assert_eq!(aca.origin_realm(), Some(CDF_REALM));
    assert_eq!(aca.i32("Accounting-Record-Type"), Some(record_type));
    assert_eq!(aca.u32("Accounting-Record-Number"), Some(number));
    assert_eq!(aca.u32("Acct-Application-Id"), Some(3));
}

#[tokio::test]
async fn tp_rf_cdf_ms_01() {
    let rig = rig(Duration::from_secs(60)).await;
    // Mandatory AVPs only; the TP leaves the record type open: EVENT.
    let aca = rig.send(acr("ctf;ms01;1", 1, 0)).await;
    assert_aca(&aca, "ctf;ms01;1", 1, 0);
    assert_eq!(
        rig.records("ctf;ms01;1").await.len(),
        1,
        "stored before the ACA"
    );
    rig.server.shutdown().await;
}

#[tokio::test]
async fn tp_rf_cdf_ms_02() {
    let rig = rig(Duration::from_secs(60)).await;
    let aca = rig.send(acr("ctf;ms02;1", 2, 0)).await;
    assert_eq!(aca.header.version, 1);
    assert!(!aca.header.flags.request(), "R bit clear: an answer");
    assert!(!aca.header.flags.retransmit(), "T bit 0");
    assert!(!aca.header.flags.error());
    assert_eq!(aca.header.flags.reserved(), 0, "reserved bits 0000");
    // Even when the request had T set, the answer has T = 0.
    let mut again = acr("ctf;ms02;2", 1, 0);
    again.header.flags = again.header.flags.with(CommandFlags::RETRANSMIT, true);
    let aca = rig.send(again).await;
    assert!(!aca.header.flags.retransmit());
    assert_eq!(aca.header.flags.reserved(), 0);
    rig.server.shutdown().await;
}

#[tokio::test]
async fn tp_rf_cdf_tc_01() {
    let rig = rig(Duration::from_secs(60)).await;
    let sid = "ctf;tc01;1";
    let aca = rig
        .send(with_service_information(acr(sid, 1, 0), "491701111111"))
        .await;
    assert_aca(&aca, sid, 1, 0);
    assert!(
        aca.avp("Acct-Interim-Interval").is_none(),
        "no interim interval for an EVENT"
    );
    let records = rig.records(sid).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].record_type, 1);
    assert_eq!(records[0].data.record_type, "EVENT_RECORD");
    assert_eq!(records[0].data.node_functionality, Some(3));
    assert_eq!(
        records[0].data.service_context_id.as_deref(),
        Some("32260@3gpp.org")
    );
    assert_eq!(
        records[0].data.subscription_ids,
        [unicharge_store::SubscriptionIdData {
            kind: "END_USER_E164".into(),
            data: "491701111111".into()
        }]
    );
    let cr = rig
        .charge_record(sid)
        .await
        .expect("an EVENT completes a charge record");
    assert_eq!(cr.id_token.as_deref(), Some("491701111111"));
    assert_eq!(cr.id_token_type.as_deref(), Some("END_USER_E164"));
    assert_eq!(cr.stopped_reason.as_deref(), Some("EVENT_RECORD"));
    rig.server.shutdown().await;
}

#[tokio::test]
async fn tp_rf_cdf_tc_02() {
    let rig = rig(Duration::from_secs(60)).await;
    let sid = "ctf;tc02;1";
    let aca = rig
        .send(with_service_information(acr(sid, 2, 0), "491702222222"))
        .await;
    assert_aca(&aca, sid, 2, 0);
    assert_eq!(
        aca.u32("Acct-Interim-Interval"),
        Some(INTERIM),
        "the configured interval"
    );
    assert!(
        rig.charge_record(sid).await.is_none(),
        "a START does not complete the session"
    );
    assert_eq!(rig.records(sid).await.len(), 1);
    rig.server.shutdown().await;
}

#[tokio::test]
async fn tp_rf_cdf_tc_03() {
    let rig = rig(Duration::from_secs(60)).await;
    let sid = "ctf;tc03;1";
    rig.send(with_service_information(acr(sid, 2, 0), "491703333333"))
        .await;
    let aca = rig
        .send(with_service_information(acr(sid, 3, 1), "491703333333"))
        .await;
    assert_aca(&aca, sid, 3, 1);
    assert_eq!(aca.u32("Acct-Interim-Interval"), Some(INTERIM));
    let types: Vec<i64> = rig
        .records(sid)
        .await
        .iter()
        .map(|r| r.record_type)
        .collect();
    assert_eq!(types, [2, 3]);
    rig.server.shutdown().await;
}

#[tokio::test]
async fn tp_rf_cdf_tc_04() {
    let rig = rig(Duration::from_secs(60)).await;
    let sid = "ctf;tc04;1";
    rig.send(with_service_information(acr(sid, 2, 0), "491704444444"))
        .await;
    rig.send(with_service_information(acr(sid, 3, 1), "491704444444"))
        .await;
    let aca = rig
        .send(with_service_information(acr(sid, 4, 2), "491704444444"))
        .await;
    assert_aca(&aca, sid, 4, 2);
    assert!(
        aca.avp("Acct-Interim-Interval").is_none(),
        "no interim interval after STOP"
    );
    let types: Vec<i64> = rig
        .records(sid)
        .await
        .iter()
        .map(|r| r.record_type)
        .collect();
    assert_eq!(types, [2, 3, 4]);
    let cr = rig
        .charge_record(sid)
        .await
        .expect("STOP completes the charge record");
    assert_eq!(cr.stopped_reason.as_deref(), Some("STOP_RECORD"));
    assert_eq!(cr.transaction_id, sid);
    assert_eq!(cr.id_token.as_deref(), Some("491704444444"));
    // Listed through the operator API's store query like every charge record.
    let listed = rig.server.store.charge_records(None, 10).await.unwrap();
    assert!(listed.iter().any(|c| c.transaction_id == sid));
    rig.server.shutdown().await;
}

async fn expect_asr(rig: &mut Rig, sid: &str) {
    let asr = tokio::time::timeout(Duration::from_secs(5), rig.requests.recv())
        .await
        .expect("an ASR after the supervision time")
        .unwrap();
    assert_eq!(asr.header.command_code, cmd::ABORT_SESSION);
    assert!(asr.is_request());
    assert_eq!(asr.session_id(), Some(sid));
    assert_eq!(asr.origin_host(), Some(CDF_HOST));
    assert_eq!(asr.origin_realm(), Some(CDF_REALM));
    assert_eq!(asr.str("Destination-Realm"), Some(CTF_REALM));
    assert_eq!(asr.str("Destination-Host"), Some(CTF_HOST));
    assert_eq!(
        asr.u32("Auth-Application-Id"),
        Some(3),
        "reading: Rf is application 3"
    );
    // After the ASA, the session is closed in the store.
    for _ in 0..100 {
        if let Some(cr) = rig.charge_record(sid).await {
            assert_eq!(cr.stopped_reason.as_deref(), Some("SUPERVISION_TIMEOUT"));
            // The charge record and the session's closure are one batch.
            let sessions = rig
                .server
                .store
                .accounting_sessions(Some("CLOSED"), 100)
                .await
                .unwrap();
            let session = sessions.iter().find(|s| s.session_id == sid).unwrap();
            assert_eq!(
                session.closed_reason.as_deref(),
                Some("SUPERVISION_TIMEOUT")
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("session not closed after the ASA");
}

#[tokio::test]
async fn tp_rf_cdf_ec_01() {
    let mut rig = rig(Duration::from_millis(200)).await;
    let sid = "ctf;ec01;1";
    rig.send(with_service_information(acr(sid, 2, 0), "491705555555"))
        .await;
    expect_asr(&mut rig, sid).await;
    rig.server.shutdown().await;
}

#[tokio::test]
async fn tp_rf_cdf_ec_02() {
    let mut rig = rig(Duration::from_millis(200)).await;
    let sid = "ctf;ec02;1";
    rig.send(with_service_information(acr(sid, 2, 0), "491706666666"))
        .await;
    rig.send(with_service_information(acr(sid, 3, 1), "491706666666"))
        .await;
    expect_asr(&mut rig, sid).await;
    assert_eq!(rig.records(sid).await.len(), 2);
    rig.server.shutdown().await;
}

#[tokio::test]
async fn tp_rf_cdf_ec_03() {
    let rig = rig(Duration::from_secs(60)).await;
    let sid = "ctf;ec03;1";
    let mut first = with_service_information(acr(sid, 1, 0), "491707777777");
    first.header.end_to_end = 0x0ec0_0003;
    assert_aca(&rig.send(first.clone()).await, sid, 1, 0);
    // The same request again with T = 1 (same End-to-End id): replayed by the peer layer.
    let mut dup = first.clone();
    dup.header.flags = dup.header.flags.with(CommandFlags::RETRANSMIT, true);
    assert_aca(&rig.send(dup.clone()).await, sid, 1, 0);
    // And with a new End-to-End id (a CTF that restarted): recognised by Session-Id +
    // Accounting-Record-Number.
    dup.header.end_to_end = 0x0ec0_0004;
    assert_aca(&rig.send(dup).await, sid, 1, 0);
    assert_eq!(rig.records(sid).await.len(), 1, "no second record");
    assert_eq!(
        rig.server
            .store
            .charge_records(None, 100)
            .await
            .unwrap()
            .iter()
            .filter(|c| c.transaction_id == sid)
            .count(),
        1
    );
    rig.server.shutdown().await;
}

#[tokio::test]
async fn tp_rf_cdf_ec_04() {
    let rig = rig(Duration::from_secs(60)).await;
    let sid = "ctf;ec04;1";
    rig.send(with_service_information(acr(sid, 2, 0), "491708888888"))
        .await;
    let mut interim = with_service_information(acr(sid, 3, 1), "491708888888");
    interim.header.end_to_end = 0x0ec0_0014;
    assert_aca(&rig.send(interim.clone()).await, sid, 3, 1);
    interim.header.flags = interim.header.flags.with(CommandFlags::RETRANSMIT, true);
    let aca = rig.send(interim.clone()).await;
    assert_aca(&aca, sid, 3, 1);
    assert!(!aca.header.flags.retransmit());
    interim.header.end_to_end = 0x0ec0_0015;
    assert_aca(&rig.send(interim).await, sid, 3, 1);
    let types: Vec<i64> = rig
        .records(sid)
        .await
        .iter()
        .map(|r| r.record_type)
        .collect();
    assert_eq!(
        types,
        [2, 3],
        "the retransmitted INTERIM is not stored twice"
    );
    rig.server.shutdown().await;
}

/// Beyond the TPs: RFC 6733 §7 errors reach the CTF as answers and the connection stays up.
#[tokio::test]
async fn cdf_answers_malformed_acrs_with_rfc_6733_errors() {
    let rig = rig(Duration::from_secs(60)).await;
    let mut bad = acr("ctf;err;1", 9, 0);
    let a = rig.send(bad.clone()).await;
    assert_eq!(a.result_code(), Some(5004));
    assert_eq!(
        a.avp("Failed-AVP").unwrap().children().unwrap()[0].code,
        480
    );
    bad.avps.retain(|a| a.name() != "Destination-Realm");
    let a = rig.send(bad).await;
    assert_eq!(a.result_code(), Some(5005));
    let mut unknown = acr("ctf;err;2", 1, 0);
    let mut x = Avp::new(4242, 0, unicharge_diameter::Value::Unknown(vec![1, 2, 3]));
    x.flags = unicharge_diameter::AvpFlags(0x40);
    unknown.push(x);
    let a = rig.send(unknown).await;
    assert_eq!(a.result_code(), Some(5001));
    assert_eq!(
        a.avp("Failed-AVP").unwrap().children().unwrap()[0].code,
        4242
    );
    assert!(rig.records("ctf;err;2").await.is_empty());
    // Still open.
    assert_aca(&rig.send(acr("ctf;err;3", 1, 0)).await, "ctf;err;3", 1, 0);
    rig.server.shutdown().await;
}
