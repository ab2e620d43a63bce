//! Defects an outside test found at the edges of the CSMS (issue 8, part 5), each pinned over
//! real sockets against a real server on loopback: unbounded logs, over-long and unparsable
//! message ids, station ids that forge log lines, unregistered connections held without bound,
//! password guessing, DataTransfer and unbuilt actions, private data files.
//!
//! Log assertions capture what the server logs through a subscriber set as the default of the
//! test's thread: `#[tokio::test]` runs on one thread, so every task of the server logs there.

#[path = "common/mod.rs"]
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use unicharge_core::StationId;
use unicharge_ocpp::{ErrorCode, Frame};
use unicharge_server::Settings;
use unicharge_sim::{ConnectError, ConnectOptions, Station};

use common::{StationSpec, TestCsms, PASSWORD};

/// How long any single expected thing may take before a test fails.
const BOUND: Duration = Duration::from_secs(5);

/// What the server may log for one refused request or CALL, however large the request.
const LOG_BUDGET: usize = 4 * 1024;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

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

impl CapturedLog {
    fn install() -> (CapturedLog, tracing::subscriber::DefaultGuard) {
        let log = CapturedLog::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (log, tracing::subscriber::set_default(subscriber))
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// The text logged since `from` bytes.
    fn since(&self, from: usize) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()[from..]).into_owned()
    }
}

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

async fn connect(options: &ConnectOptions) -> Station {
    match Station::connect(options).await {
        Ok(station) => station,
        Err(e) => panic!("connecting to {} failed: {e}", options.url),
    }
}

/// The HTTP status of a refused upgrade, or 101 when it was accepted.
async fn upgrade_status(options: &ConnectOptions) -> u16 {
    match Station::connect(options).await {
        Ok(station) => {
            station.close().await;
            101
        }
        Err(ConnectError::Http(status)) => status,
        Err(other) => panic!("{}: {other}", options.url),
    }
}

/// Send raw bytes to the ws listener and read everything answered until the server closes.
async fn raw_exchange(csms: &TestCsms, request: &[u8]) -> String {
    let mut tcp = TcpStream::connect(csms.server.ws_addr().unwrap())
        .await
        .unwrap();
    // The server may answer (431) and close before it has read everything: ignore write errors.
    let _ = tcp.write_all(request).await;
    let mut response = Vec::new();
    let _ = tokio::time::timeout(BOUND, tcp.read_to_end(&mut response))
        .await
        .expect("the server closes after a refusal");
    String::from_utf8_lossy(&response).into_owned()
}

fn upgrade_head(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Protocol: ocpp2.0.1\r\n{extra}\r\n"
    )
}

/// Send a raw text and return the frame answering `id`.
async fn answer(station: &mut Station, id: &str, text: &str) -> Frame {
    station.send_text(text).await.unwrap();
    let frame = station
        .next_frame(&format!("the answer to {id}"))
        .await
        .unwrap_or_else(|e| panic!("no answer to {id}: {e}"));
    assert_eq!(frame.id(), id, "{frame:?}");
    frame
}

fn code_of(frame: &Frame) -> ErrorCode {
    match frame {
        Frame::CallError { code, .. } => *code,
        other => panic!("expected a CALLERROR, got {other:?}"),
    }
}

async fn boot(station: &mut Station) {
    let boot =
        json!({"reason": "PowerUp", "chargingStation": {"model": "Edge-1", "vendorName": "Edge"}});
    station
        .call_raw("BootNotification", boot)
        .await
        .expect("boot answered");
}

// ---------------------------------------------------------------------------------------------
// 1. Bounded logs
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_call_with_a_megabyte_value_breaking_the_schema_logs_a_few_kb() {
    let (log, _guard) = CapturedLog::install();
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "CP001", PASSWORD)).await;
    let huge = "A".repeat(1 << 20);
    let text = Frame::Call {
        id: "big-1".into(),
        action: "BootNotification".into(),
        payload: json!({"reason": huge, "chargingStation": {"model": "M", "vendorName": "V"}}),
    }
    .to_text();
    let before = log.len();
    let frame = answer(&mut station, "big-1", &text).await;
    assert_eq!(code_of(&frame), ErrorCode::PropertyConstraintViolation);
    let logged = log.since(before);
    assert!(
        logged.len() < LOG_BUDGET,
        "{} bytes logged for one refused CALL",
        logged.len()
    );
    assert!(logged.contains("…(+"), "the cut is shown: {logged}");
}

#[tokio::test]
async fn upgrades_with_huge_paths_and_headers_from_unregistered_ids_log_a_few_kb() {
    let (log, _guard) = CapturedLog::install();
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let requests = [
        // A 1 MB path: too large a head.
        upgrade_head(&format!("/ocpp/{}", "A".repeat(1 << 20)), ""),
        // An id of 15 KB: not a station id.
        upgrade_head(&format!("/ocpp/{}", "B".repeat(15_000)), ""),
        // An unknown id with no password and 15 KB of headers.
        upgrade_head(
            "/ocpp/STRANGER",
            &format!("X-Junk: {}\r\n", "C".repeat(15_000)),
        ),
        // A Basic username of 10 KB that is not the id.
        upgrade_head(
            "/ocpp/STRANGER",
            &format!(
                "Authorization: Basic {}\r\n",
                base64(&format!("{}:pw", "D".repeat(10_000)))
            ),
        ),
    ];
    for request in &requests {
        let before = log.len();
        let response = raw_exchange(&csms, request.as_bytes()).await;
        assert!(response.starts_with("HTTP/1.1 4"), "{response}");
        let logged = log.since(before);
        assert!(
            logged.len() < LOG_BUDGET,
            "{} bytes logged: {}",
            logged.len(),
            &logged[..200.min(logged.len())]
        );
    }
}

fn base64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// 2, 3. Message ids
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn message_ids_longer_than_36_characters_are_answered_format_violation_cut_to_36() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "CP001", PASSWORD)).await;
    let long_id = format!("{}{}", "a".repeat(36), "z".repeat(10_000));
    let frame = answer(
        &mut station,
        &long_id[..36],
        &format!(r#"[2,"{long_id}","Heartbeat",{{}}]"#),
    )
    .await;
    assert_eq!(code_of(&frame), ErrorCode::FormatViolation);
}

#[tokio::test]
async fn unparsable_json_with_a_readable_message_id_is_answered_format_violation() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "CP001", PASSWORD)).await;
    let huge_number = r#"[2,"num-1","MeterValues",{"evseId":1,"meterValue":[{"timestamp":"2024-05-01T10:00:00Z","sampledValue":[{"value":1e400}]}]}]"#;
    assert_eq!(
        code_of(&answer(&mut station, "num-1", huge_number).await),
        ErrorCode::FormatViolation
    );
    let truncated = r#"[2,"cut-1","Heartbeat",{"#;
    assert_eq!(
        code_of(&answer(&mut station, "cut-1", truncated).await),
        ErrorCode::FormatViolation
    );
    // The connection still works.
    let frame = answer(&mut station, "hb-1", r#"[2,"hb-1","Heartbeat",{}]"#).await;
    assert!(matches!(frame, Frame::CallResult { .. }), "{frame:?}");
}

// ---------------------------------------------------------------------------------------------
// 4. Station ids
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn station_ids_with_control_characters_are_refused_404_and_cannot_forge_a_log_line() {
    let (log, _guard) = CapturedLog::install();
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let forged =
        "2024-05-01T10:00:00.000000Z  INFO unicharge_csms::listener: station=CP001 connected";
    let path = format!("/ocpp/CP001%0D%0A{}", forged.replace(' ', "%20"));
    let auth = format!(
        "Authorization: Basic {}\r\n",
        base64(&format!("CP001\r\n{forged}:x"))
    );
    let response = raw_exchange(&csms, upgrade_head(&path, &auth).as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 404 "), "{response}");
    let logged = log.text();
    assert!(
        !logged
            .lines()
            .any(|line| line.starts_with("2024-05-01T10:00:00")),
        "a forged line reached the log: {logged}"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Unregistered connections
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn unregistered_connections_beyond_the_cap_are_refused_with_503() {
    let csms = start_ws(&[], |s| s.csms.max_unregistered_connections = 2).await;
    let first = connect(&ws_options(&csms, "STRANGER-1", "whatever")).await;
    let _second = connect(&ws_options(&csms, "STRANGER-2", "whatever")).await;
    assert_eq!(
        upgrade_status(&ws_options(&csms, "STRANGER-3", "whatever")).await,
        503
    );
    // A slot comes back when a stranger leaves.
    first.close().await;
    let deadline = Instant::now() + BOUND;
    while csms.server.handle().guard().unregistered_slots_free() == 0 {
        assert!(Instant::now() < deadline, "the slot was never released");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        upgrade_status(&ws_options(&csms, "STRANGER-3", "whatever")).await,
        101
    );
}

#[tokio::test]
async fn an_unregistered_station_that_does_not_boot_is_closed_at_the_deadline() {
    let csms = start_ws(&[], |s| {
        s.csms.unregistered_boot_timeout = Duration::from_millis(200)
    })
    .await;
    let mut station = connect(&ws_options(&csms, "STRANGER-1", "whatever")).await;
    station
        .expect_closed(BOUND)
        .await
        .expect("closed at the boot deadline");
}

// ---------------------------------------------------------------------------------------------
// 6. Password guessing
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn after_the_threshold_wrong_passwords_are_refused_unchecked_with_a_security_event_and_metric(
) {
    let metrics = unicharge_server::http::metrics_handle();
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |s| {
        s.csms.auth_failures_per_station = 3
    })
    .await;
    let guard = || csms.server.handle().guard();
    for n in 1..=3 {
        assert_eq!(
            upgrade_status(&ws_options(&csms, "CP001", "guess-guess-guess")).await,
            401
        );
        assert_eq!(
            guard().password_checks(),
            n,
            "each of the first 3 is checked"
        );
    }
    // Locked: refused without Argon2, even with the right password.
    assert_eq!(
        upgrade_status(&ws_options(&csms, "CP001", "guess-again-guess")).await,
        401
    );
    assert_eq!(
        upgrade_status(&ws_options(&csms, "CP001", PASSWORD)).await,
        401
    );
    assert_eq!(guard().password_checks(), 3);
    let events = csms
        .server
        .store
        .security_events(&sid("CP001"), 10)
        .await
        .unwrap();
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(events
        .iter()
        .all(|e| e.kind == "FailedToAuthenticateAtCsms"));
    assert!(
        events[0]
            .tech_info
            .as_deref()
            .unwrap_or("")
            .contains("refused unchecked"),
        "{events:?}"
    );
    let rendered = metrics.render();
    for reason in ["wrong_password", "locked_out"] {
        assert!(
            rendered.contains(&format!("ocpp_auth_failures_total{{reason=\"{reason}\"}}")),
            "{reason} missing in {rendered}"
        );
    }
}

#[tokio::test]
async fn a_guessing_burst_with_a_tiny_hash_queue_gets_503s() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |s| {
        s.csms.password_hash_queue = 1;
        s.csms.auth_failures_per_station = 1_000;
        s.csms.auth_failures_per_address = 1_000;
    })
    .await;
    let mut attempts = tokio::task::JoinSet::new();
    for n in 0..24 {
        let options = ws_options(&csms, "CP001", &format!("guess-{n:04}-guess-guess"));
        attempts.spawn(async move { upgrade_status(&options).await });
    }
    let statuses = attempts.join_all().await;
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 503),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&503),
        "no attempt was turned away: {statuses:?}"
    );
    assert!(statuses.contains(&401), "{statuses:?}");
}

#[tokio::test]
async fn an_honest_station_reconnects_during_a_guessing_burst() {
    let csms = start_ws(
        &[StationSpec::new("CP001", 1), StationSpec::new("CP002", 1)],
        |s| {
            s.csms.password_hash_queue = 1;
            s.csms.auth_failures_per_station = 1_000;
            s.csms.auth_failures_per_address = 1_000;
        },
    )
    .await;
    connect(&ws_options(&csms, "CP001", PASSWORD))
        .await
        .close()
        .await;
    // A burst against another station keeps the one hash slot busy.
    let burst: Vec<_> = (0..16)
        .map(|n| {
            let options = ws_options(&csms, "CP002", &format!("guess-{n:04}-guess-guess"));
            tokio::spawn(async move { upgrade_status(&options).await })
        })
        .collect();
    let mut station = connect(&ws_options(&csms, "CP001", PASSWORD)).await;
    boot(&mut station).await;
    for attempt in burst {
        let status = attempt.await.unwrap();
        assert!(status == 401 || status == 503, "{status}");
    }
    assert!(csms.server.handle().is_connected(&sid("CP001")));
}

#[tokio::test]
async fn a_second_connect_skips_argon2_through_the_credential_cache() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let guard = || csms.server.handle().guard();
    connect(&ws_options(&csms, "CP001", PASSWORD))
        .await
        .close()
        .await;
    assert_eq!(guard().password_checks(), 1);
    connect(&ws_options(&csms, "CP001", PASSWORD))
        .await
        .close()
        .await;
    assert_eq!(
        guard().password_checks(),
        1,
        "the reconnect ran Argon2 again"
    );
    // A new password hash invalidates what was remembered.
    let hash = unicharge_core::credentials::hash_password("a-new-password-for-cp001").unwrap();
    csms.server
        .store
        .set_password_hash(&sid("CP001"), Some(&hash))
        .await
        .unwrap();
    assert_eq!(
        upgrade_status(&ws_options(&csms, "CP001", PASSWORD)).await,
        401
    );
    assert_eq!(guard().password_checks(), 2);
}

// ---------------------------------------------------------------------------------------------
// 9. DataTransfer and actions not built yet
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn p02_fr_06_data_transfer_with_any_vendor_id_is_answered_unknown_vendor_id() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "CP001", PASSWORD)).await;
    boot(&mut station).await;
    for request in [
        json!({"vendorId": "com.example.fancy", "messageId": "Hello", "data": {"any": [1, 2]}}),
        json!({"vendorId": "x"}),
    ] {
        let response = station
            .call_raw("DataTransfer", request)
            .await
            .expect("a CALLRESULT");
        assert_eq!(response["status"], "UnknownVendorId", "{response}");
    }
}

#[tokio::test]
async fn supported_actions_never_answer_not_supported_and_unknown_names_not_implemented() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "CP001", PASSWORD)).await;
    boot(&mut station).await;
    // M01/M02 is served even without a contract-certificate service: answered Failed, naming
    // the setting, never CALLERROR NotSupported.
    let served = r#"[2,"u1","Get15118EVCertificate",{"iso15118SchemaVersion":"urn:iso:15118:2:2013:MsgDef","action":"Install","exiRequest":"AAAA"}]"#;
    match answer(&mut station, "u1", served).await {
        Frame::CallResult { payload, .. } => {
            assert_eq!(payload["status"], "Failed", "{payload}");
            assert_eq!(payload["statusInfo"]["reasonCode"], "NoContractService");
        }
        other => panic!("expected a CALLRESULT, got {other:?}"),
    }
    let unknown = r#"[2,"u2","Sneeze",{}]"#;
    assert_eq!(
        code_of(&answer(&mut station, "u2", unknown).await),
        ErrorCode::NotImplemented
    );
}

// ---------------------------------------------------------------------------------------------
// 7. Private files
// ---------------------------------------------------------------------------------------------

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_and_the_database_are_created_private() {
    use std::os::unix::fs::PermissionsExt;
    // The SQLite files themselves are what is checked.
    let csms = start_ws(&[StationSpec::new("CP001", 1)], common::sqlite_only).await;
    // A write makes sure the WAL and SHM files exist.
    connect(&ws_options(&csms, "CP001", PASSWORD))
        .await
        .close()
        .await;
    let data = csms.dir.path().join("data");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    for file in ["unicharge.db", "unicharge.db-wal", "unicharge.db-shm"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
}
