//! The operator's view of Diameter Rf over real HTTP: peers connected to the CDF, accounting
//! sessions, the charge records the CDF produced (JSON and CSV) and the per-peer metrics —
//! after a CTF drove the CDF over real TCP.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::Value;
use unicharge_diameter::peer::{
    connect, DuplicateCache, PeerConfig, PeerHandle, PeerTable, RequestHandler, Shared,
};
use unicharge_diameter::rf::cdf::BoxFuture;
use unicharge_diameter::{app, cmd, Avp, Message, Time};
use unicharge_server::Server;

const CTF_HOST: &str = "ctf.api-test.example";
const CTF_REALM: &str = "api-test.example";

/// The CTF answers nothing the CDF sends in these tests (no supervision runs out).
struct Silent;

impl RequestHandler for Silent {
    fn handle(&self, _request: Message, _peer: PeerHandle) -> BoxFuture<'_, Option<Message>> {
        Box::pin(async { None })
    }
}

struct Rig {
    server: Server,
    peer: PeerHandle,
    base: String,
    key: String,
    http: Client,
    _dir: tempfile::TempDir,
}

async fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let mut s = common::test_settings(dir.path());
    s.csms.wss_listen = None;
    s.http.listen = Some("127.0.0.1:0".parse().unwrap());
    s.diameter.listen = Some("127.0.0.1:0".parse().unwrap());
    s.diameter.acct_interim_interval = 30;
    let server = unicharge_server::start(s).await.unwrap();
    let addr = server.diameter.as_ref().unwrap().addr;
    let mut config = PeerConfig::cdf(CTF_HOST, CTF_REALM);
    // The CTF's watchdog fires quickly, so the CDF answers DWRs during the test.
    config.watchdog_interval = Duration::from_millis(40);
    let shared = Shared {
        config,
        handler: Arc::new(Silent),
        table: Arc::new(PeerTable::default()),
        duplicates: Arc::new(DuplicateCache::default()),
    };
    let peer = connect(addr, shared).await.unwrap();
    Rig {
        base: format!("http://{}", server.http_addr.unwrap()),
        key: server.initial_admin_key.clone().unwrap(),
        server,
        peer,
        http: Client::builder().no_proxy().build().unwrap(),
        _dir: dir,
    }
}

fn acr(session: &str, record_type: i32, number: u32, msisdn: Option<&str>) -> Message {
    let mut m = Message::request(cmd::ACCOUNTING, app::BASE_ACCOUNTING, 0, 0)
        .with(Avp::utf8("Session-Id", session))
        .with(Avp::identity("Origin-Host", CTF_HOST))
        .with(Avp::identity("Origin-Realm", CTF_REALM))
        .with(Avp::identity("Destination-Realm", "unicharge.localdomain"))
        .with(Avp::enumerated("Accounting-Record-Type", record_type))
        .with(Avp::u32("Accounting-Record-Number", number))
        .with(Avp::u32("Acct-Application-Id", 3))
        .with(Avp::time(
            "Event-Timestamp",
            Time::from_utc(chrono::Utc::now()),
        ));
    if let Some(msisdn) = msisdn {
        m = m
            .with(Avp::utf8("Service-Context-Id", "32260@3gpp.org"))
            .with(Avp::grouped(
                "Subscription-Id",
                vec![
                    Avp::enumerated("Subscription-Id-Type", 0),
                    Avp::utf8("Subscription-Id-Data", msisdn),
                ],
            ));
    }
    m
}

impl Rig {
    async fn send(&self, m: Message) {
        let aca = self.peer.request(m, Duration::from_secs(5)).await.unwrap();
        assert_eq!(aca.result_code(), Some(2001));
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap()
    }

    async fn json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    /// Three sessions: A open (START, INTERIM), B an EVENT, C START + STOP.
    async fn traffic(&self) {
        self.send(acr("ctf;a", 2, 0, Some("491700000001"))).await;
        self.send(acr("ctf;a", 3, 1, None)).await;
        self.send(acr("ctf;b", 1, 0, Some("491700000002"))).await;
        self.send(acr("ctf;c", 2, 0, Some("491700000003"))).await;
        self.send(acr("ctf;c", 4, 1, None)).await;
    }
}

#[tokio::test]
async fn diameter_peers_are_listed_with_realm_state_applications_and_last_watchdog() {
    let rig = rig().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let peer = loop {
        let list = rig.json("/api/v1/diameter/peers").await;
        let peers = list["peers"].as_array().unwrap().clone();
        assert_eq!(peers.len(), 1, "{list}");
        if !peers[0]["lastWatchdogAt"].is_null() || Instant::now() > deadline {
            break peers[0].clone();
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(peer["originHost"], CTF_HOST);
    assert_eq!(peer["originRealm"], CTF_REALM);
    assert_eq!(peer["state"], "Open");
    assert_eq!(peer["watchdog"], "Okay");
    assert_eq!(peer["tls"], false);
    assert_eq!(peer["applications"], serde_json::json!([3]));
    assert!(
        peer["lastWatchdogAt"].is_string(),
        "the CDF answered a DWR: {peer}"
    );
    assert!(peer["address"].as_str().unwrap().starts_with("127.0.0.1:"));
    // After an orderly DPR the peer is gone from the list.
    rig.peer.disconnect().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let list = rig.json("/api/v1/diameter/peers").await;
        if list["peers"].as_array().unwrap().is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "peer still listed: {list}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    rig.server.shutdown().await;
}

#[tokio::test]
async fn accounting_sessions_are_listed_with_subscriber_service_record_numbers_and_state() {
    let rig = rig().await;
    rig.traffic().await;
    // A retransmitted INTERIM of A (same record number) is not a second record.
    rig.send(acr("ctf;a", 3, 1, None)).await;
    let list = rig.json("/api/v1/diameter/sessions").await;
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3, "{list}");
    let by_id = |id: &str| {
        sessions
            .iter()
            .find(|s| s["sessionId"] == id)
            .unwrap_or_else(|| panic!("{id} listed: {list}"))
            .clone()
    };
    let a = by_id("ctf;a");
    assert_eq!(a["state"], "open");
    assert_eq!(a["subscriber"], "491700000001");
    assert_eq!(a["subscriberType"], "END_USER_E164");
    assert_eq!(a["serviceContextId"], "32260@3gpp.org");
    assert_eq!(a["originHost"], CTF_HOST);
    assert_eq!(a["firstRecordNumber"], 0);
    assert_eq!(a["lastRecordNumber"], 1);
    assert_eq!(a["records"], 2, "the retransmission is not counted");
    assert!(a["closedReason"].is_null());
    assert!(a["lastRecordAt"].is_string());
    let b = by_id("ctf;b");
    assert_eq!(b["state"], "closed");
    assert_eq!(b["closedReason"], "EVENT_RECORD");
    assert_eq!(b["records"], 1);
    let c = by_id("ctf;c");
    assert_eq!(c["state"], "closed");
    assert_eq!(c["closedReason"], "STOP_RECORD");
    assert_eq!(c["subscriber"], "491700000003", "kept from the START");
    assert_eq!(c["lastRecordNumber"], 1);

    let open = rig.json("/api/v1/diameter/sessions?state=open").await;
    assert_eq!(open["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(open["sessions"][0]["sessionId"], "ctf;a");
    let closed = rig
        .json("/api/v1/diameter/sessions?state=closed&limit=1")
        .await;
    assert_eq!(closed["sessions"].as_array().unwrap().len(), 1, "limit");
    let bad = rig.get("/api/v1/diameter/sessions?state=ended").await;
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"], "invalid_query");
    rig.server.shutdown().await;
}

#[tokio::test]
async fn the_cdfs_charge_records_are_exported_as_json_and_csv() {
    let rig = rig().await;
    rig.traffic().await;
    let list = rig.json("/api/v1/diameter/charge-records").await;
    let records = list["chargeRecords"].as_array().unwrap();
    assert_eq!(records.len(), 2, "B and C completed, A is open: {list}");
    let c = records
        .iter()
        .find(|r| r["transactionId"] == "ctf;c")
        .unwrap();
    assert_eq!(c["stationId"], format!("diameter:{CTF_HOST}"));
    assert_eq!(c["idToken"], "491700000003");
    assert_eq!(c["stoppedReason"], "STOP_RECORD");

    let r = rig.get("/api/v1/diameter/charge-records?format=csv").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "header and two records: {csv}");
    assert!(lines[0].starts_with("id,stationId,transactionId,idToken,idTokenType,startedAt"));
    let b = lines
        .iter()
        .find(|l| l.contains(",ctf;b,"))
        .expect("B exported");
    let cells: Vec<&str> = b.split(',').collect();
    assert_eq!(cells[1], format!("diameter:{CTF_HOST}"));
    assert_eq!(cells[3], "491700000002");
    assert_eq!(cells[4], "END_USER_E164");
    assert_eq!(cells[7], "EVENT_RECORD");
    // The general charge-record list exports the same way.
    let all = rig.get("/api/v1/charge-records?format=csv").await;
    assert_eq!(all.status(), 200);
    assert_eq!(all.text().await.unwrap().lines().count(), 3);
    let bad = rig.get("/api/v1/diameter/charge-records?format=xml").await;
    assert_eq!(bad.status(), 400);
    rig.server.shutdown().await;
}

#[tokio::test]
async fn metrics_count_requests_and_answers_per_peer_command_and_result_code() {
    let rig = rig().await;
    rig.traffic().await;
    let text = rig.get("/metrics").await.text().await.unwrap();
    let value = |prefix: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
    };
    // The recorder is process-wide and the other tests here use the same CTF name: only
    // lower bounds hold.
    assert!(
        value(&format!(
            "diameter_requests_received_total{{peer=\"{CTF_HOST}\",command=\"ACR\"}}"
        )) >= 5.0
    );
    assert!(
        value(&format!(
            "diameter_answers_sent_total{{peer=\"{CTF_HOST}\",command=\"ACR\",result_code=\"2001\"}}"
        )) >= 5.0
    );
    assert!(text.contains(&format!(
        "diameter_request_duration_seconds{{peer=\"{CTF_HOST}\",command=\"ACR\",quantile=\"0.99\"}}"
    )));
    rig.server.shutdown().await;
}

#[tokio::test]
async fn the_cli_lists_sessions_and_exports_the_cdfs_charge_records() {
    let rig = rig().await;
    rig.traffic().await;
    let data_dir = rig._dir.path().join("data");
    // The store the server used (PostgreSQL in the PostgreSQL pass; empty = SQLite).
    let store_url = common::test_settings(rig._dir.path())
        .store
        .url
        .unwrap_or_default();
    rig.server.shutdown().await;
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_unicharge"))
            .env(unicharge_server::store::DATABASE_URL_VAR, &store_url)
            .arg("--data-dir")
            .arg(&data_dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let sessions = run(&["diameter", "sessions", "--state", "open"]);
    assert_eq!(sessions.lines().count(), 1, "{sessions}");
    assert!(sessions.starts_with("ctf;a  OPEN  "), "{sessions}");
    assert!(sessions.contains("subscriber 491700000001 (END_USER_E164)"));
    assert!(sessions.contains("records 2 (#0..#1)"));
    let csv = run(&["diameter", "charge-records"]);
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.contains(",ctf;c,491700000003,END_USER_E164,"), "{csv}");
    let json: Value =
        serde_json::from_str(&run(&["diameter", "charge-records", "--format", "json"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
}
