//! One node at scale (issue 9): the limits and costs that decide how many stations one server
//! holds and how fast a fleet gets back in — over real sockets against a real server.
//!
//! - a connection limit answered with HTTP 503, never a crash or a stuck listener;
//! - passwords the CSMS generated admitted without Argon2 (ADR 9), operator-chosen ones still
//!   Argon2, wrong ones still refused and counted;
//! - `unicharge station add-many` for fleets, credentials written private;
//! - per-message detail at DEBUG only, so the INFO log does not grow with the message rate.

#[path = "common/mod.rs"]
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;
use unicharge_core::credentials::{is_cheap_to_verify, GeneratedPassword};
use unicharge_core::StationId;
use unicharge_server::Settings;
use unicharge_sim::{ConnectError, ConnectOptions, Station};

use common::{StationSpec, TestCsms, PASSWORD};

const BOUND: Duration = Duration::from_secs(5);

fn sid(id: &str) -> StationId {
    StationId::new(id).unwrap()
}

async fn start_ws(stations: &[StationSpec], adjust: impl FnOnce(&mut Settings)) -> TestCsms {
    TestCsms::start_with(stations, |s| {
        s.csms.wss_listen = None;
        adjust(s);
    })
    .await
}

fn ws_options(csms: &TestCsms, id: &str, password: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(format!("{}/{id}", csms.ws_base())).basic(id, password);
    options.timeout = BOUND;
    options
}

/// The HTTP status of a refused upgrade, or 101 when it was accepted (the station is kept).
async fn try_connect(options: &ConnectOptions) -> Result<Station, u16> {
    match Station::connect(options).await {
        Ok(station) => Ok(station),
        Err(ConnectError::Http(status)) => Err(status),
        Err(other) => panic!("{}: {other}", options.url),
    }
}

async fn boot(station: &mut Station) {
    let boot = json!({"reason": "PowerUp", "chargingStation": {"model": "Scale-1", "vendorName": "Scale"}});
    station
        .call_raw("BootNotification", boot)
        .await
        .expect("boot answered");
}

#[tokio::test]
async fn beyond_max_connections_upgrades_get_503_and_a_freed_slot_admits_again() {
    let stations = [
        StationSpec::new("CP001", 1),
        StationSpec::new("CP002", 1),
        StationSpec::new("CP003", 1),
    ];
    let csms = start_ws(&stations, |s| s.csms.max_connections = 2).await;
    assert_eq!(csms.server.handle().guard().max_connections(), 2);
    let mut first = try_connect(&ws_options(&csms, "CP001", PASSWORD))
        .await
        .unwrap();
    let mut second = try_connect(&ws_options(&csms, "CP002", PASSWORD))
        .await
        .unwrap();
    boot(&mut first).await;
    match try_connect(&ws_options(&csms, "CP003", PASSWORD)).await {
        Err(status) => assert_eq!(status, 503),
        Ok(_) => panic!("a third connection was admitted over max_connections = 2"),
    }
    // The connections already in keep being served.
    boot(&mut second).await;
    first.close().await;
    let deadline = Instant::now() + BOUND;
    loop {
        match try_connect(&ws_options(&csms, "CP003", PASSWORD)).await {
            Ok(mut third) => {
                boot(&mut third).await;
                break;
            }
            Err(503) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(10)).await
            }
            Err(status) => panic!("the freed slot never admitted CP003 (last status {status})"),
        }
    }
}

#[tokio::test]
async fn a_generated_password_is_admitted_without_argon2_and_a_wrong_one_is_still_refused() {
    // No credential cache: every connect must check the password itself.
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |s| {
        s.csms.credential_cache_ttl = Duration::ZERO
    })
    .await;
    let guard = || csms.server.handle().guard();
    let password = GeneratedPassword::new();
    let hash = password.hash();
    assert!(is_cheap_to_verify(&hash));
    csms.server
        .store
        .set_password_hash(&sid("CP001"), Some(&hash))
        .await
        .unwrap();
    for _ in 0..3 {
        let mut station = try_connect(&ws_options(&csms, "CP001", password.as_str()))
            .await
            .expect("generated password admitted");
        boot(&mut station).await;
        station.close().await;
    }
    assert_eq!(
        guard().password_checks(),
        0,
        "Argon2 ran for a generated password"
    );
    // The old (operator-chosen) password no longer works, a near miss neither.
    let mut near_miss = password.as_str().to_string();
    near_miss.pop();
    near_miss.push('#');
    for wrong in [PASSWORD, near_miss.as_str()] {
        match try_connect(&ws_options(&csms, "CP001", wrong)).await {
            Err(status) => assert_eq!(status, 401),
            Ok(_) => panic!("a wrong password was admitted"),
        }
    }
    let events = csms
        .server
        .store
        .security_events(&sid("CP001"), 10)
        .await
        .unwrap();
    assert_eq!(events.len(), 2, "each wrong password is a security event");
    assert_eq!(guard().password_checks(), 0);
}

#[tokio::test]
async fn an_operator_chosen_password_still_costs_argon2() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |s| {
        s.csms.credential_cache_ttl = Duration::ZERO
    })
    .await;
    let station = try_connect(&ws_options(&csms, "CP001", PASSWORD))
        .await
        .expect("admitted");
    station.close().await;
    assert_eq!(csms.server.handle().guard().password_checks(), 1);
}

#[tokio::test]
async fn station_add_many_registers_a_fleet_whose_private_credentials_connect() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let credentials = dir.path().join("fleet.csv");
    // The store the server below will use (PostgreSQL in the PostgreSQL pass; empty = SQLite).
    let store_url = common::test_settings(dir.path())
        .store
        .url
        .unwrap_or_default();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_unicharge"))
        .env(unicharge_server::store::DATABASE_URL_VAR, &store_url)
        .arg("--data-dir")
        .arg(&data)
        .args(["station", "add-many", "--prefix", "FLEET-", "--count", "5"])
        .args(["--start", "10", "--credentials-out"])
        .arg(&credentials)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&credentials)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "credentials readable by others");
    let text = std::fs::read_to_string(&credentials).unwrap();
    let rows: Vec<(String, String)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let (id, password) = l.split_once(',').unwrap();
            (id.to_string(), password.to_string())
        })
        .collect();
    assert_eq!(text.lines().next(), Some("station_id,password"));
    let ids: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        ["FLEET-10", "FLEET-11", "FLEET-12", "FLEET-13", "FLEET-14"]
    );
    // Running it again refuses to overwrite the credentials file.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_unicharge"))
        .arg("--data-dir")
        .arg(&data)
        .args(["station", "add-many", "--prefix", "FLEET-", "--count", "5"])
        .arg("--credentials-out")
        .arg(&credentials)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("must not exist yet"));

    // The server started on that data directory admits each with its own password only.
    let csms = TestCsms::start_with(&[], |s| {
        s.data_dir = data.clone();
        s.store.url = Some(store_url.clone()).filter(|u| !u.is_empty());
        s.csms.wss_listen = None;
        s.csms.credential_cache_ttl = Duration::ZERO;
    })
    .await;
    for (id, password) in &rows {
        let stored = csms
            .server
            .store
            .get_station(&sid(id))
            .await
            .unwrap()
            .unwrap();
        assert!(is_cheap_to_verify(stored.password_hash.as_deref().unwrap()));
        let mut station = try_connect(&ws_options(&csms, id, password)).await.unwrap();
        boot(&mut station).await;
        station.close().await;
    }
    match try_connect(&ws_options(&csms, &rows[0].0, &rows[1].1)).await {
        Err(status) => assert_eq!(status, 401),
        Ok(_) => panic!("one station's password admitted another"),
    }
    assert_eq!(csms.server.handle().guard().password_checks(), 0);
}

/// Everything logged on this thread while the guard lives.
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn per_message_detail_is_logged_at_debug_so_info_does_not_grow_with_the_message_rate() {
    let log = CapturedLog::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = try_connect(&ws_options(&csms, "CP001", PASSWORD))
        .await
        .unwrap();
    boot(&mut station).await;
    let before = log.0.lock().unwrap().len();
    let token = json!({"idToken": "DRIVER-1", "type": "ISO14443"});
    station
        .call_raw("Authorize", json!({"idToken": token}))
        .await
        .unwrap();
    for seq_no in 0..50 {
        let event_type = match seq_no {
            0 => "Started",
            49 => "Ended",
            _ => "Updated",
        };
        let mut event = json!({
            "eventType": event_type, "timestamp": chrono::Utc::now().to_rfc3339(),
            "triggerReason": "MeterValuePeriodic", "seqNo": seq_no,
            "transactionInfo": {"transactionId": "TX-LOG-1"},
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [{"timestamp": chrono::Utc::now().to_rfc3339(),
                "sampledValue": [{"value": 1000.0 + f64::from(seq_no), "measurand": "Energy.Active.Import.Register"}]}]
        });
        if seq_no == 0 {
            event["idToken"] = token.clone();
        }
        station.call_raw("TransactionEvent", event).await.unwrap();
        station.call_raw("Heartbeat", json!({})).await.unwrap();
    }
    let logged = String::from_utf8_lossy(&log.0.lock().unwrap()[before..]).into_owned();
    // 101 messages; what INFO may say about them is the one charge record of the session.
    assert!(
        logged.lines().count() <= 2,
        "INFO lines grew with the messages:\n{logged}"
    );
    assert!(!logged.contains("TransactionEvent"), "{logged}");
}
