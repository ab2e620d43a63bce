//! ETSI TS 103 374-2 (Rf, CTF role): the TP_RF_CTF_* test purposes for our CTF client against
//! our CDF over real TCP, observed (and, for the failure cases, disturbed) by a frame-aware
//! tap between them. The SIP triggers of the TPs are calls of the CTF API; what is asserted is
//! the Diameter the CTF puts on the wire.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use unicharge_diameter::peer::{serve, DuplicateCache, PeerConfig, Shared};
use unicharge_diameter::rf::cdf::{Cdf, CdfConfig, MemorySink};
use unicharge_diameter::rf::ctf::{Ctf, CtfConfig, Delivery};
use unicharge_diameter::rf::RecordType;
use unicharge_diameter::tap::{Direction, Mode, Tap};
use unicharge_diameter::{cmd, Message};

struct TestCdf {
    addr: SocketAddr,
    sink: Arc<MemorySink>,
}

async fn cdf(interim: Option<u32>) -> TestCdf {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sink = Arc::new(MemorySink::default());
    let cdf = Cdf::new(
        CdfConfig::new("cdf.test.example", "test.example", interim),
        sink.clone(),
    );
    let mut peer = PeerConfig::cdf("cdf.test.example", "test.example");
    peer.watchdog_interval = Duration::from_secs(30);
    tokio::spawn(serve(
        listener,
        Shared {
            config: peer,
            handler: cdf,
            table: Arc::default(),
            duplicates: Arc::new(DuplicateCache::default()),
        },
    ));
    TestCdf { addr, sink }
}

fn config(primary: SocketAddr) -> CtfConfig {
    let mut c = CtfConfig::new("ctf.test.example", "test.example", "test.example", primary);
    c.request_timeout = Duration::from_millis(200);
    c.max_retransmissions = 2;
    c.peer.watchdog_interval = Duration::from_millis(50);
    c.interim_unit = Duration::from_millis(20);
    c
}

fn answered(d: &Delivery) -> &Message {
    match d {
        Delivery::Answered { answer, .. } => answer,
        Delivery::Buffered => panic!("not answered: buffered"),
    }
}

fn up_acrs(tap: &Tap) -> Vec<Message> {
    tap.seen(Direction::Up, cmd::ACCOUNTING)
        .into_iter()
        .map(|s| s.message)
        .collect()
}

fn record_types(sink: &MemorySink) -> Vec<(RecordType, u32)> {
    sink.records
        .lock()
        .unwrap()
        .iter()
        .map(|r| (r.acr.record_type, r.acr.record_number))
        .collect()
}

#[tokio::test]
async fn tp_rf_ctf_ms_01() {
    let cdf = cdf(None).await;
    let tap = Tap::start(cdf.addr).await.unwrap();
    let ctf = Ctf::connect(config(tap.addr)).await.unwrap();
    let mut s = ctf.new_session();
    ctf.send(ctf.build_acr(&mut s, RecordType::Event, None))
        .await
        .unwrap();
    let acr = &up_acrs(&tap)[0];
    assert!(acr.is_request());
    assert_eq!(acr.session_id(), Some(s.session_id.as_str()));
    assert_eq!(acr.origin_host(), Some("ctf.test.example"));
    assert_eq!(acr.origin_realm(), Some("test.example"));
    assert_eq!(acr.str("Destination-Realm"), Some("test.example"));
    assert_eq!(acr.i32("Accounting-Record-Type"), Some(1));
    assert_eq!(acr.u32("Accounting-Record-Number"), Some(0));
    assert_eq!(acr.u32("Acct-Application-Id"), Some(3));
    acr.check_request().unwrap();
}

#[tokio::test]
async fn tp_rf_ctf_ms_02() {
    let cdf = cdf(None).await;
    let tap = Tap::start(cdf.addr).await.unwrap();
    let ctf = Ctf::connect(config(tap.addr)).await.unwrap();
    let mut s = ctf.new_session();
    ctf.send(ctf.build_acr(&mut s, RecordType::Start, None))
        .await
        .unwrap();
    let h = up_acrs(&tap)[0].header;
    assert_eq!(h.version, 1);
    assert!(h.flags.request());
    assert!(!h.flags.retransmit(), "T = 0");
    assert!(!h.flags.error(), "E = 0");
    assert_eq!(h.flags.reserved(), 0, "reserved bits 0000");
}

#[tokio::test]
async fn tp_rf_ctf_tc_01() {
    let cdf = cdf(None).await;
    let tap = Tap::start(cdf.addr).await.unwrap();
    let ctf = Ctf::connect(config(tap.addr)).await.unwrap();
    // VA_01..VA_04: 200 OK to MESSAGE, REGISTER, SUBSCRIBE, PUBLISH.
    for method in ["MESSAGE", "REGISTER", "SUBSCRIBE", "PUBLISH"] {
        let mut s = ctf.new_session();
        let si = Ctf::ims_service_information("491711234567", Some(method));
        let d = ctf
            .send(ctf.build_acr(&mut s, RecordType::Event, Some(si)))
            .await
            .unwrap();
        let aca = answered(&d);
        assert_eq!(
            (aca.result_code(), aca.i32("Accounting-Record-Type")),
            (Some(2001), Some(1))
        );
        let acr = up_acrs(&tap).pop().unwrap();
        assert_eq!(acr.i32("Accounting-Record-Type"), Some(1));
        assert_eq!(acr.u32("Accounting-Record-Number"), Some(0));
        assert!(acr.avp("Event-Timestamp").is_some());
        assert_eq!(acr.str("Service-Context-Id"), Some("32260@3gpp.org"));
        let si = acr.avp("Service-Information").unwrap();
        assert_eq!(
            si.child("Subscription-Id")
                .unwrap()
                .child("Subscription-Id-Data")
                .unwrap()
                .as_str(),
            Some("491711234567")
        );
        let ims = si.child("IMS-Information").unwrap();
        assert_eq!(ims.child("Node-Functionality").unwrap().as_i32(), Some(3));
        assert_eq!(
            ims.child("Event-Type")
                .unwrap()
                .child("SIP-Method")
                .unwrap()
                .as_str(),
            Some(method)
        );
    }
    assert_eq!(
        cdf.sink.closed.lock().unwrap().len(),
        4,
        "the CDF completed four event records"
    );
}

#[tokio::test]
async fn tp_rf_ctf_tc_02() {
    let cdf = cdf(Some(5)).await;
    let tap = Tap::start(cdf.addr).await.unwrap();
    let ctf = Ctf::connect(config(tap.addr)).await.unwrap();
    let mut s = ctf.new_session();
    let si = Ctf::ims_service_information("491712222222", Some("INVITE"));
    let d = ctf
        .send(ctf.build_acr(&mut s, RecordType::Start, Some(si)))
        .await
        .unwrap();
    assert_eq!(answered(&d).u32("Acct-Interim-Interval"), Some(5));
    let acr = &up_acrs(&tap)[0];
    assert_eq!(acr.i32("Accounting-Record-Type"), Some(2));
    assert_eq!(acr.u32("Accounting-Record-Number"), Some(0));
    assert!(acr.avp("Event-Timestamp").is_some() && acr.avp("Service-Information").is_some());
}

#[tokio::test]
async fn tp_rf_ctf_tc_03() {
    // INTERIM_INTERVAL = 3 units of 20 ms (the unit is a second outside tests).
    let cdf = cdf(Some(3)).await;
    let tap = Tap::start(cdf.addr).await.unwrap();
    let ctf = Ctf::connect(config(tap.addr)).await.unwrap();
    let deliveries = ctf.run_session("491713333333", 3, 10).await.unwrap();
    assert_eq!(deliveries.len(), 5);
    let acrs = tap.seen(Direction::Up, cmd::ACCOUNTING);
    let kinds: Vec<i32> = acrs
        .iter()
        .map(|s| s.message.i32("Accounting-Record-Type").unwrap())
        .collect();
    assert_eq!(
        kinds,
        [2, 3, 3, 3, 4],
        "START, periodic INTERIMs, then no ACR after STOP"
    );
    let interval = Duration::from_millis(60);
    for w in acrs[..4].windows(2) {
        assert!(
            w[1].at.duration_since(w[0].at) >= interval,
            "INTERIM sooner than the interval"
        );
    }
    let numbers: Vec<u32> = acrs
        .iter()
        .map(|s| s.message.u32("Accounting-Record-Number").unwrap())
        .collect();
    assert_eq!(numbers, [0, 1, 2, 3, 4]);
    for s in &acrs[1..4] {
        assert!(
            s.message.avp("Service-Information").is_some()
                && s.message.avp("Event-Timestamp").is_some()
        );
    }
}

#[tokio::test]
async fn tp_rf_ctf_tc_04() {
    let cdf = cdf(None).await;
    let tap = Tap::start(cdf.addr).await.unwrap();
    let ctf = Ctf::connect(config(tap.addr)).await.unwrap();
    let mut s = ctf.new_session();
    let si = || Some(Ctf::ims_service_information("491714444444", Some("INVITE")));
    ctf.send(ctf.build_acr(&mut s, RecordType::Start, si()))
        .await
        .unwrap();
    // 200 OK to a re-INVITE: one INTERIM.
    let d = ctf
        .send(ctf.build_acr(&mut s, RecordType::Interim, si()))
        .await
        .unwrap();
    assert_eq!(
        (
            answered(&d).result_code(),
            answered(&d).i32("Accounting-Record-Type")
        ),
        (Some(2001), Some(3))
    );
    let acr = up_acrs(&tap).pop().unwrap();
    assert_eq!(
        (
            acr.i32("Accounting-Record-Type"),
            acr.u32("Accounting-Record-Number")
        ),
        (Some(3), Some(1))
    );
    assert!(acr.avp("Service-Information").is_some() && acr.avp("Event-Timestamp").is_some());
    assert_eq!(up_acrs(&tap).len(), 2, "no further ACR");
}

#[tokio::test]
async fn tp_rf_ctf_tc_05() {
    let cdf = cdf(None).await;
    let tap = Tap::start(cdf.addr).await.unwrap();
    let ctf = Ctf::connect(config(tap.addr)).await.unwrap();
    let mut s = ctf.new_session();
    ctf.send(ctf.build_acr(&mut s, RecordType::Start, None))
        .await
        .unwrap();
    // BYE: STOP.
    let d = ctf
        .send(ctf.build_acr(&mut s, RecordType::Stop, None))
        .await
        .unwrap();
    assert_eq!(
        (
            answered(&d).result_code(),
            answered(&d).i32("Accounting-Record-Type")
        ),
        (Some(2001), Some(4))
    );
    let acr = up_acrs(&tap).pop().unwrap();
    assert_eq!(acr.i32("Accounting-Record-Type"), Some(4));
    assert_eq!(acr.u32("Accounting-Record-Number"), Some(1));
    assert_eq!(acr.u32("Acct-Application-Id"), Some(3));
    assert_eq!(
        record_types(&cdf.sink),
        [(RecordType::Start, 0), (RecordType::Stop, 1)]
    );
}

async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn tp_rf_ctf_ec_01() {
    let cdf = cdf(None).await;
    let tap = Tap::start(cdf.addr).await.unwrap();
    let ctf = Ctf::connect(config(tap.addr)).await.unwrap();
    let mut s = ctf.new_session();
    ctf.send(ctf.build_acr(&mut s, RecordType::Start, None))
        .await
        .unwrap();
    eventually("three DWRs", || {
        tap.seen(Direction::Up, cmd::DEVICE_WATCHDOG).len() >= 3
    })
    .await;
    let dwrs = tap.seen(Direction::Up, cmd::DEVICE_WATCHDOG);
    for w in dwrs.windows(2) {
        assert!(
            w[1].at.duration_since(w[0].at) >= Duration::from_millis(45),
            "periodic, every Tw"
        );
    }
    eventually("DWAs", || {
        tap.seen(Direction::Down, cmd::DEVICE_WATCHDOG).len() >= 2
    })
    .await;
    for dwa in tap.seen(Direction::Down, cmd::DEVICE_WATCHDOG) {
        let dwr = dwrs
            .iter()
            .find(|d| d.message.header.hop_by_hop == dwa.message.header.hop_by_hop)
            .expect("DWA matches a DWR");
        assert_eq!(dwr.message.header.end_to_end, dwa.message.header.end_to_end);
        assert_eq!(dwr.message.origin_host(), Some("ctf.test.example"));
        assert_eq!(dwr.message.origin_realm(), Some("test.example"));
        assert_eq!(dwa.message.result_code(), Some(2001));
    }
    assert!(!ctf.primary_suspect().await, "the CTF accepted the DWAs");
}

#[tokio::test]
async fn tp_rf_ctf_ec_02_and_ec_03() {
    // Both TPs are one story: failover on DWR/DWA failure, then back on restoration.
    let primary = cdf(None).await;
    let secondary = cdf(None).await;
    let tap = Tap::start(primary.addr).await.unwrap();
    let mut c = config(tap.addr);
    c.secondary = Some(secondary.addr);
    let ctf = Ctf::connect(c).await.unwrap();
    let mut s = ctf.new_session();
    let si = || Some(Ctf::ims_service_information("491715555555", Some("INVITE")));
    ctf.send(ctf.build_acr(&mut s, RecordType::Start, si()))
        .await
        .unwrap();
    // TP_RF_CTF_EC_02: the primary stops (answers no DWR).
    tap.set_mode(Mode::Blackhole);
    for _ in 0..200 {
        if ctf.primary_suspect().await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(ctf.primary_suspect().await, "DWR/DWA failure detected");
    let d = ctf
        .send(ctf.build_acr(&mut s, RecordType::Interim, si()))
        .await
        .unwrap();
    assert!(
        matches!(
            d,
            Delivery::Answered {
                via_secondary: true,
                retransmissions: 0,
                ..
            }
        ),
        "{d:?}"
    );
    assert_eq!(answered(&d).session_id(), Some(s.session_id.as_str()));
    assert_eq!(record_types(&secondary.sink), [(RecordType::Interim, 1)]);
    let on_secondary = secondary.sink.records.lock().unwrap()[0].clone();
    assert!(
        on_secondary.acr.event_timestamp.is_some() && !on_secondary.acr.subscription_ids.is_empty()
    );
    // TP_RF_CTF_EC_03: the primary is restored; the next INTERIM goes to it.
    tap.set_mode(Mode::Forward);
    let mut back = false;
    for _ in 0..100 {
        let d = ctf
            .send(ctf.build_acr(&mut s, RecordType::Interim, si()))
            .await
            .unwrap();
        if matches!(
            d,
            Delivery::Answered {
                via_secondary: false,
                ..
            }
        ) {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(back, "traffic returned to the primary");
    let last = record_types(&primary.sink).pop().unwrap();
    assert_eq!(last.0, RecordType::Interim);
    assert!(last.1 >= 2, "numbering continues across the failover");
}

#[tokio::test]
async fn tp_rf_ctf_ec_04() {
    let cdf = cdf(None).await;
    let tap = Tap::start(cdf.addr).await.unwrap();
    let dir = tempfile_dir();
    let mut c = config(tap.addr);
    c.buffer_path = Some(dir.join("rf-buffer"));
    c.request_timeout = Duration::from_millis(100);
    c.max_retransmissions = 0;
    let ctf = Ctf::connect(c).await.unwrap();
    let mut s = ctf.new_session();
    let si = || Some(Ctf::ims_service_information("491716666666", None));
    ctf.send(ctf.build_acr(&mut s, RecordType::Start, si()))
        .await
        .unwrap();
    tap.set_mode(Mode::Blackhole);
    for _ in 0..3 {
        let d = ctf
            .send(ctf.build_acr(&mut s, RecordType::Interim, si()))
            .await
            .unwrap();
        assert_eq!(d, Delivery::Buffered);
    }
    let stored = std::fs::read_to_string(dir.join("rf-buffer")).unwrap();
    assert_eq!(stored.lines().count(), 3, "in non-volatile storage");
    tap.set_mode(Mode::Forward);
    let mut sent = 0;
    for _ in 0..50 {
        sent += ctf.flush_buffer().await.unwrap();
        if sent == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sent, 3);
    assert_eq!(
        record_types(&cdf.sink),
        [
            (RecordType::Start, 0),
            (RecordType::Interim, 1),
            (RecordType::Interim, 2),
            (RecordType::Interim, 3)
        ],
        "replayed in the order stored"
    );
    let answered_down = tap
        .seen(Direction::Down, cmd::ACCOUNTING)
        .iter()
        .filter(|s| s.forwarded)
        .count();
    assert_eq!(answered_down, 4, "one ACA per ACR");
    assert_eq!(std::fs::read_to_string(dir.join("rf-buffer")).unwrap(), "");
}

#[tokio::test]
async fn tp_rf_ctf_ec_05() {
    let cdf = cdf(None).await;
    let tap = Tap::start(cdf.addr).await.unwrap();
    let ctf = Ctf::connect(config(tap.addr)).await.unwrap();
    let mut s = ctf.new_session();
    ctf.send(ctf.build_acr(&mut s, RecordType::Start, None))
        .await
        .unwrap();
    tap.set_mode(Mode::WithholdAnswers {
        command_code: cmd::ACCOUNTING,
        n: 1,
    });
    let d = ctf
        .send(ctf.build_acr(
            &mut s,
            RecordType::Interim,
            Some(Ctf::ims_service_information("491717777777", None)),
        ))
        .await
        .unwrap();
    assert!(
        matches!(
            d,
            Delivery::Answered {
                retransmissions: 1,
                ..
            }
        ),
        "{d:?}"
    );
    let acrs = up_acrs(&tap);
    let (first, again) = (&acrs[1], &acrs[2]);
    assert!(!first.header.flags.retransmit());
    assert!(again.header.flags.retransmit(), "re-sent with T = 1");
    assert_eq!(
        first.header.end_to_end, again.header.end_to_end,
        "same End-to-End id"
    );
    assert_eq!(again.u32("Accounting-Record-Number"), Some(1));
    assert!(again.avp("Service-Information").is_some() && again.avp("Event-Timestamp").is_some());
    assert_eq!(
        record_types(&cdf.sink),
        [(RecordType::Start, 0), (RecordType::Interim, 1)],
        "the CDF counted it once"
    );
}

#[tokio::test]
async fn tp_rf_ctf_ec_06() {
    let cdf = cdf(None).await;
    let tap = Tap::start(cdf.addr).await.unwrap();
    let dir = tempfile_dir();
    let mut c = config(tap.addr);
    c.buffer_path = Some(dir.join("rf-buffer"));
    c.peer.watchdog_interval = Duration::from_secs(30);
    let ctf = Ctf::connect(c).await.unwrap();
    let mut s = ctf.new_session();
    ctf.send(ctf.build_acr(&mut s, RecordType::Start, None))
        .await
        .unwrap();
    tap.set_mode(Mode::WithholdAnswers {
        command_code: cmd::ACCOUNTING,
        n: 3,
    });
    let d = ctf
        .send(ctf.build_acr(&mut s, RecordType::Interim, None))
        .await
        .unwrap();
    assert_eq!(
        d,
        Delivery::Buffered,
        "after 1 + 2 retransmissions: the connection-failure procedure"
    );
    let tries = up_acrs(&tap).len() - 1;
    assert_eq!(tries, 3);
    assert_eq!(ctf.flush_buffer().await.unwrap(), 1);
    let acrs = up_acrs(&tap);
    let replayed = acrs.last().unwrap();
    assert_eq!(replayed.u32("Accounting-Record-Number"), Some(1));
    assert_eq!(replayed.i32("Accounting-Record-Type"), Some(3));
    assert_eq!(
        record_types(&cdf.sink),
        [(RecordType::Start, 0), (RecordType::Interim, 1)],
        "no double count"
    );
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "unicharge-rf-ctf-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
