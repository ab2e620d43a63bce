//! CSMS behaviour the OCTT cases do not pin down, driven from outside over real sockets the way
//! a charging station and an operator would: upgrade refusals, malformed frames, retransmissions,
//! reconnects, dead connections, CSMS-initiated calls, registration at boot, durable state.
//!
//! Every test runs its own server on ephemeral loopback ports. Timers are configured tiny where
//! waiting for one is the point; everything else waits on events with a bound.

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use unicharge_core::{RegistrationStatus, StationId};
use unicharge_csms::{Csms, OpError, Requester, UnknownStationPolicy};
use unicharge_ocpp::v201::{
    BootNotificationRequest, BootNotificationResponse, GetVariablesRequest, GetVariablesResponse,
    HeartbeatRequest, RegistrationStatusEnumType,
};
use unicharge_ocpp::{ErrorCode, Frame};
use unicharge_server::Settings;
use unicharge_sim::tls::TlsClientOptions;
use unicharge_sim::{ConnectError, ConnectOptions, SimError, Station};

use common::{StationSpec, TestCsms, PASSWORD};

/// How long any single expected thing may take before a test fails.
const BOUND: Duration = Duration::from_secs(2);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn sid(id: &str) -> StationId {
    StationId::new(id).unwrap()
}

/// A server with only the plain-ws listener (no TLS material to generate: faster).
async fn start_ws(stations: &[StationSpec], adjust: impl FnOnce(&mut Settings)) -> TestCsms {
    TestCsms::start_with(stations, |s| {
        s.csms.wss_listen = None;
        adjust(s);
    })
    .await
}

/// ws, Basic with the station id and the harness password.
fn ws_options(csms: &TestCsms, id: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(format!("{}/{id}", csms.ws_base())).basic(id, PASSWORD);
    options.timeout = Duration::from_secs(5);
    options
}

/// wss trusting the server's CA, no credentials yet.
fn wss_options(csms: &TestCsms, id: &str) -> ConnectOptions {
    let mut options =
        ConnectOptions::new(format!("{}/{id}", csms.wss_base())).tls(TlsClientOptions {
            ca: Some(csms.tls.ca_cert.clone()),
            ..TlsClientOptions::default()
        });
    options.timeout = Duration::from_secs(5);
    options
}

async fn connect(options: &ConnectOptions) -> Station {
    match Station::connect(options).await {
        Ok(station) => station,
        Err(e) => panic!("connecting to {} failed: {e}", options.url),
    }
}

/// The HTTP status the upgrade was refused with (panics if it was accepted or failed otherwise).
async fn refusal_status(options: &ConnectOptions) -> u16 {
    match Station::connect(options).await {
        Err(ConnectError::Http(status)) => status,
        Err(other) => panic!("expected an HTTP refusal for {}, got {other}", options.url),
        Ok(_) => panic!("the upgrade to {} was accepted", options.url),
    }
}

/// Send raw bytes to the ws listener and read everything the server answers until it closes.
async fn raw_exchange(csms: &TestCsms, request: &str) -> String {
    let mut tcp = TcpStream::connect(csms.server.ws_addr().unwrap())
        .await
        .unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(BOUND, tcp.read_to_end(&mut response))
        .await
        .expect("the server closes after a refusal")
        .unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

fn upgrade_head(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Protocol: ocpp2.0.1\r\n{extra}\r\n"
    )
}

fn boot_request() -> BootNotificationRequest {
    serde_json::from_value(json!({
        "reason": "PowerUp",
        "chargingStation": {"model": "Behave-1", "vendorName": "Behaviour Inc", "serialNumber": "SN-7"}
    }))
    .unwrap()
}

async fn boot(station: &mut Station) -> BootNotificationResponse {
    station.call(&boot_request()).await.expect("boot answered")
}

async fn heartbeat(station: &mut Station) -> Result<(), SimError> {
    station.call(&HeartbeatRequest::default()).await.map(|_| ())
}

/// The next frame, which must be an answer (CALLRESULT or CALLERROR) to `id`.
async fn answer_to(station: &mut Station, id: &str) -> Frame {
    let frame = station
        .next_frame(&format!("the answer to {id}"))
        .await
        .unwrap_or_else(|e| panic!("no answer to {id}: {e}"));
    assert_eq!(frame.id(), id, "answer to the wrong message: {frame:?}");
    frame
}

/// Send a raw CALL text and return the CALLERROR code it got (panics on a CALLRESULT).
async fn error_code_for(station: &mut Station, id: &str, text: &str) -> ErrorCode {
    station.send_text(text).await.unwrap();
    match answer_to(station, id).await {
        Frame::CallError { code, details, .. } => {
            assert_eq!(details, json!({}), "errorDetails must be an object");
            code
        }
        other => panic!("{text} was answered with {other:?}, not a CALLERROR"),
    }
}

/// Send a frame that must be dropped, then prove that nothing answered it: the very next frame
/// is the answer to a Heartbeat sent behind it (one connection's messages are handled in order).
async fn assert_dropped(station: &mut Station, text: &str, probe_id: &str) {
    station.send_text(text).await.unwrap();
    station
        .send_text(&format!(r#"[2,"{probe_id}","Heartbeat",{{}}]"#))
        .await
        .unwrap();
    let frame = station
        .next_frame(&format!("the answer to {probe_id}"))
        .await
        .unwrap_or_else(|e| panic!("connection unusable after {text:?}: {e}"));
    assert_eq!(
        frame.id(),
        probe_id,
        "{text:?} must be dropped silently, but it was answered: {frame:?}"
    );
    assert!(matches!(frame, Frame::CallResult { .. }), "{frame:?}");
}

/// Wait (bounded, in 10 ms steps) until the CSMS shows the station (dis)connected.
async fn wait_until_registry_shows(csms: &TestCsms, id: &StationId, connected: bool) {
    let deadline = Instant::now() + BOUND;
    while csms.server.handle().is_connected(id) != connected {
        assert!(
            Instant::now() < deadline,
            "{id} still shown {} after {BOUND:?}",
            if connected {
                "disconnected"
            } else {
                "connected"
            }
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Wait (bounded) until the stored station record says (dis)connected.
async fn wait_until_store_shows(csms: &TestCsms, id: &StationId, connected: bool) {
    let deadline = Instant::now() + BOUND;
    loop {
        let station = csms.server.store.get_station(id).await.unwrap().unwrap();
        if station.connected == connected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "stored {id}.connected still {} after {BOUND:?}",
            station.connected
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn get_variables(variable: &str) -> Value {
    json!({"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": variable}}]})
}

/// An Accepted GetVariables answer echoing what was asked, with `value`.
fn get_variables_answer(request: &GetVariablesRequest, value: &str) -> GetVariablesResponse {
    let results: Vec<Value> = request
        .get_variable_data
        .iter()
        .map(|d| {
            json!({
                "attributeStatus": "Accepted",
                "attributeValue": value,
                "component": {"name": d.component.name},
                "variable": {"name": d.variable.name},
            })
        })
        .collect();
    serde_json::from_value(json!({ "getVariableResult": results })).unwrap()
}

fn asked_variable(request: &GetVariablesRequest) -> String {
    request.get_variable_data[0].variable.name.clone()
}

fn status_notification(status: &str) -> Value {
    json!({"timestamp": "2024-05-01T10:00:00Z", "connectorStatus": status, "evseId": 1, "connectorId": 1})
}

fn notify_event(event_id: i64) -> Value {
    json!({
        "generatedAt": "2024-05-01T10:00:00Z",
        "seqNo": 0,
        "eventData": [{
            "eventId": event_id,
            "timestamp": "2024-05-01T10:00:00Z",
            "trigger": "Delta",
            "actualValue": "Available",
            "eventNotificationType": "HardWiredNotification",
            "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
            "variable": {"name": "AvailabilityState"}
        }]
    })
}

fn call_text(id: &str, action: &str, payload: &Value) -> String {
    Frame::Call {
        id: id.into(),
        action: action.into(),
        payload: payload.clone(),
    }
    .to_text()
}

// ---------------------------------------------------------------------------------------------
// 1. Upgrade refusals
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn upgrade_without_any_subprotocol_is_refused_with_400() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut options = ws_options(&csms, "CP001");
    options.subprotocols.clear();
    assert_eq!(refusal_status(&options).await, 400);
    assert!(!csms.server.handle().is_connected(&sid("CP001")));
}

#[tokio::test]
async fn upgrade_offering_no_ocpp_version_served_is_refused_with_400() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut options = ws_options(&csms, "CP001");
    // Issue 18: ocpp1.6 is served now (tests/ocpp16_core.rs); 1.5 and 2.1 are not.
    options.subprotocols = vec!["ocpp1.5".into(), "ocpp2.1".into()];
    assert_eq!(refusal_status(&options).await, 400);
    // Subprotocol names are case-sensitive (RFC 6455).
    options.subprotocols = vec!["OCPP2.0.1".into()];
    assert_eq!(refusal_status(&options).await, 400);
    // Offering 1.6 as well as 2.0.1 is fine: the CSMS selects ocpp2.0.1.
    options.subprotocols = vec!["ocpp1.6".into(), "ocpp2.0.1".into()];
    let mut station = connect(&options).await;
    heartbeat(&mut station).await.unwrap();
}

#[tokio::test]
async fn upgrade_for_an_unknown_station_is_refused_with_404_under_the_refuse_policy() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |s| {
        s.csms.unknown_stations = UnknownStationPolicy::Refuse
    })
    .await;
    assert_eq!(refusal_status(&ws_options(&csms, "CP404")).await, 404);
    assert!(csms
        .server
        .store
        .get_station(&sid("CP404"))
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn upgrade_on_a_wrong_path_is_refused_with_404() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let port = csms.server.ws_addr().unwrap().port();
    for path in ["/other/CP001", "/ocpp", "/ocpp/", "/ocpp/CP001/extra", "/"] {
        let mut options = ws_options(&csms, "CP001");
        options.url = format!("ws://127.0.0.1:{port}{path}");
        assert_eq!(refusal_status(&options).await, 404, "path {path}");
    }
}

#[tokio::test]
async fn upgrade_without_basic_credentials_is_refused_with_401() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut options = ws_options(&csms, "CP001");
    options.basic = None;
    assert_eq!(refusal_status(&options).await, 401);
}

#[tokio::test]
async fn profile_2_station_over_plain_ws_is_refused_with_401() {
    let csms = TestCsms::start(&[StationSpec::new("CP002", 2)]).await;
    // Right id, right password, but ws offers only profile 1: no downgrade.
    assert_eq!(refusal_status(&ws_options(&csms, "CP002")).await, 401);
    // The same credentials over wss are fine.
    let mut station = connect(&wss_options(&csms, "CP002").basic("CP002", PASSWORD)).await;
    heartbeat(&mut station).await.unwrap();
}

#[tokio::test]
async fn profile_3_station_with_another_stations_certificate_is_refused() {
    let csms = TestCsms::start(&[StationSpec::new("CP3A", 3), StationSpec::new("CP3B", 3)]).await;
    let options = wss_options(&csms, "CP3A").tls(TlsClientOptions {
        ca: Some(csms.tls.ca_cert.clone()),
        client_cert: Some(csms.client_cert("CP3B", false)),
        ..TlsClientOptions::default()
    });
    assert_eq!(refusal_status(&options).await, 401);
    assert!(!csms.server.handle().is_connected(&sid("CP3A")));
    assert!(!csms.server.handle().is_connected(&sid("CP3B")));
}

#[tokio::test]
async fn profile_3_station_presenting_only_basic_is_refused_with_401() {
    let csms = TestCsms::start(&[StationSpec::new("CP3A", 3)]).await;
    let options = wss_options(&csms, "CP3A").basic("CP3A", PASSWORD);
    assert_eq!(refusal_status(&options).await, 401);
    // Over plain ws as well.
    assert_eq!(refusal_status(&ws_options(&csms, "CP3A")).await, 401);
}

#[tokio::test]
async fn a_401_asks_for_basic_credentials_and_closes() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let response = raw_exchange(&csms, &upgrade_head("/ocpp/CP001", "")).await;
    assert!(response.starts_with("HTTP/1.1 401 "), "{response}");
    assert!(
        response.contains("WWW-Authenticate: Basic"),
        "a 401 must carry a Basic challenge: {response}"
    );
}

#[tokio::test]
async fn a_non_get_upgrade_is_refused_with_405() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let head = upgrade_head("/ocpp/CP001", "").replacen("GET", "POST", 1);
    let response = raw_exchange(&csms, &head).await;
    assert!(response.starts_with("HTTP/1.1 405 "), "{response}");
}

#[tokio::test]
async fn a_client_that_never_finishes_the_upgrade_is_cut_off() {
    let handshake_timeout = Duration::from_millis(200);
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |s| {
        s.csms.handshake_timeout = handshake_timeout
    })
    .await;
    let since = Instant::now();
    // Half a request head, then silence.
    let response = raw_exchange(&csms, "GET /ocpp/CP001 HTTP/1.1\r\nHost: localhost\r\n").await;
    assert_eq!(
        response, "",
        "nothing is answered to a client too slow to ask"
    );
    assert!(
        since.elapsed() >= handshake_timeout / 2,
        "cut off before the timeout"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Upgrades are allowed
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn profile_1_station_may_connect_over_wss_with_basic() {
    let csms = TestCsms::start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = connect(&wss_options(&csms, "CP001").basic("CP001", PASSWORD)).await;
    assert!(station.tls_info().is_some());
    heartbeat(&mut station).await.unwrap();
    let handle = csms.server.handle().connection(&sid("CP001")).unwrap();
    assert_eq!(
        handle.profile.number(),
        2,
        "the connection offers profile 2"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Malformed frames
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn unreadable_frames_are_dropped_without_answer_or_disconnect() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    let dropped = [
        "not json",
        "[2]",
        "{}",
        "[]",
        r#"[2,17,"Heartbeat",{}]"#,
        // Answers to calls the CSMS never made are not answered either.
        r#"[3,"nobody-asked",{}]"#,
        r#"[4,"nobody-asked","GenericError","",{}]"#,
    ];
    for (n, text) in dropped.iter().enumerate() {
        assert_dropped(&mut station, text, &format!("probe-{n}")).await;
    }
    assert!(csms.server.handle().is_connected(&sid("CP001")));
}

#[tokio::test]
async fn broken_calls_get_the_part_4_error_code_and_the_connection_stays_open() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    let station_info = r#"{"model":"M","vendorName":"V"}"#;
    let long_id = "x".repeat(37);
    let cases: Vec<(String, String, ErrorCode)> = vec![
        (
            "m1".into(),
            r#"[2,"m1","Heartbeat"]"#.into(),
            ErrorCode::RpcFrameworkError,
        ),
        (
            "m1b".into(),
            r#"[2,"m1b",42,{}]"#.into(),
            ErrorCode::RpcFrameworkError,
        ),
        (
            // Answered with the id cut to the 36 characters Part 4 allows (frame.rs docs).
            long_id[..36].to_string(),
            format!(r#"[2,"{long_id}","Heartbeat",{{}}]"#),
            ErrorCode::FormatViolation,
        ),
        (
            "m2".into(),
            r#"[9,"m2","Heartbeat",{}]"#.into(),
            ErrorCode::MessageTypeNotSupported,
        ),
        (
            "m2b".into(),
            r#"[2,"m2b","Heartbeat",[]]"#.into(),
            ErrorCode::FormatViolation,
        ),
        (
            "m3".into(),
            r#"[2,"m3","BootNotification",{"reason":"PowerUp"}]"#.into(),
            ErrorCode::OccurrenceConstraintViolation,
        ),
        (
            "m3b".into(),
            format!(
                r#"[2,"m3b","BootNotification",{{"reason":5,"chargingStation":{station_info}}}]"#
            ),
            ErrorCode::TypeConstraintViolation,
        ),
        (
            "m3c".into(),
            format!(
                r#"[2,"m3c","BootNotification",{{"reason":"Sneezing","chargingStation":{station_info}}}]"#
            ),
            ErrorCode::PropertyConstraintViolation,
        ),
        (
            "m3d".into(),
            format!(
                r#"[2,"m3d","BootNotification",{{"reason":"PowerUp","chargingStation":{station_info},"mood":"grumpy"}}]"#
            ),
            ErrorCode::FormatViolation,
        ),
        (
            "m4".into(),
            r#"[2,"m4","Sneeze",{}]"#.into(),
            ErrorCode::NotImplemented,
        ),
        (
            "m5".into(),
            r#"[2,"m5","Reset",{"type":"Immediate"}]"#.into(),
            ErrorCode::NotSupported,
        ),
    ];
    for (id, text, expected) in &cases {
        assert_eq!(
            error_code_for(&mut station, id, text).await,
            *expected,
            "{text}"
        );
    }
    // None of it was stored as a boot, and the connection still works.
    let stored = csms
        .server
        .store
        .get_station(&sid("CP001"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.last_boot_at, None);
    station
        .send_text(r#"[2,"m7","Heartbeat",{}]"#)
        .await
        .unwrap();
    let Frame::CallResult { payload, .. } = answer_to(&mut station, "m7").await else {
        panic!("Heartbeat after the broken calls was not answered with a CALLRESULT");
    };
    assert!(payload["currentTime"].is_string(), "{payload}");
}

// ---------------------------------------------------------------------------------------------
// 4. Retransmissions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn retransmitted_boot_gets_the_byte_identical_stored_answer() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    let text = call_text(
        "boot-1",
        "BootNotification",
        &serde_json::to_value(boot_request()).unwrap(),
    );
    station.send_text(&text).await.unwrap();
    let first = station.next_text("first answer").await.unwrap();
    station.send_text(&text).await.unwrap();
    let second = station.next_text("second answer").await.unwrap();
    assert!(first.starts_with(r#"[3,"boot-1","#), "{first}");
    assert_eq!(first, second, "a retransmission must get the stored answer");
}

#[tokio::test]
async fn retransmitted_status_notification_is_answered_identically_and_applied_once() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let id = sid("CP001");
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    let available = call_text(
        "sn-1",
        "StatusNotification",
        &status_notification("Available"),
    );
    station.send_text(&available).await.unwrap();
    let first = station.next_text("answer to sn-1").await.unwrap();
    // A newer status, then the old CALL again: the retransmission must not roll it back.
    let mut occupied = status_notification("Occupied");
    occupied["timestamp"] = json!("2024-05-01T10:05:00Z");
    station
        .send_text(&call_text("sn-2", "StatusNotification", &occupied))
        .await
        .unwrap();
    answer_to(&mut station, "sn-2").await;
    station.send_text(&available).await.unwrap();
    let second = station
        .next_text("answer to the retransmitted sn-1")
        .await
        .unwrap();
    assert_eq!(first, second);
    let connectors = csms.server.store.connectors(&id).await.unwrap();
    assert_eq!(connectors.len(), 1);
    assert_eq!(
        connectors[0].status, "Occupied",
        "the retransmission was applied again"
    );
}

#[tokio::test]
async fn retransmitted_notify_event_is_stored_once() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let id = sid("CP001");
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    let text = call_text("ev-1", "NotifyEvent", &notify_event(1));
    station.send_text(&text).await.unwrap();
    let first = station.next_text("answer to ev-1").await.unwrap();
    station.send_text(&text).await.unwrap();
    let second = station
        .next_text("answer to the retransmitted ev-1")
        .await
        .unwrap();
    assert_eq!(first, second);
    assert_eq!(csms.server.store.events(&id, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn reused_message_id_with_another_payload_is_a_new_call() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let id = sid("CP001");
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    for event_id in [1, 2] {
        station
            .send_text(&call_text("ev-1", "NotifyEvent", &notify_event(event_id)))
            .await
            .unwrap();
        assert!(
            matches!(
                answer_to(&mut station, "ev-1").await,
                Frame::CallResult { .. }
            ),
            "NotifyEvent with eventId {event_id} was refused"
        );
    }
    let events = csms.server.store.events(&id, 10).await.unwrap();
    let mut ids: Vec<i64> = events.iter().map(|e| e.event_id).collect();
    ids.sort();
    assert_eq!(ids, vec![1, 2]);
    // And the stored answer now belongs to the second payload: it is the one deduplicated.
    station
        .send_text(&call_text("ev-1", "NotifyEvent", &notify_event(2)))
        .await
        .unwrap();
    answer_to(&mut station, "ev-1").await;
    assert_eq!(csms.server.store.events(&id, 10).await.unwrap().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// 5. Reconnects
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_reconnect_replaces_the_previous_connection() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let id = sid("CP001");
    let mut first = connect(&ws_options(&csms, "CP001")).await;
    heartbeat(&mut first).await.unwrap();
    let first_generation = csms.server.handle().connection(&id).unwrap().generation;

    let mut second = connect(&ws_options(&csms, "CP001")).await;
    first
        .expect_closed(BOUND)
        .await
        .expect("the CSMS closes the replaced connection");
    heartbeat(&mut second).await.unwrap();
    let handle = csms.server.handle().connection(&id).expect("connected");
    assert_ne!(handle.generation, first_generation);
    assert_eq!(csms.server.handle().connected_stations(), vec![id.clone()]);
    wait_until_store_shows(&csms, &id, true).await;

    second.close().await;
    wait_until_registry_shows(&csms, &id, false).await;
    wait_until_store_shows(&csms, &id, false).await;
    assert!(csms.server.handle().connected_stations().is_empty());
}

/// The upgrade's `101` goes out before the connection is registered (listener.rs), so on a
/// multi-threaded runtime — the one `unicharge serve` runs — an operator call made right after
/// a station connected can be refused with `NotConnected`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_is_shown_connected_as_soon_as_its_upgrade_completes() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let id = sid("CP001");
    for attempt in 0..200 {
        let station = connect(&ws_options(&csms, "CP001")).await;
        assert!(
            csms.server.handle().is_connected(&id),
            "attempt {attempt}: upgraded, but not shown connected"
        );
        station.close().await;
        wait_until_registry_shows(&csms, &id, false).await;
    }
}

/// RFC 6455, 5.5.1: an endpoint that receives a Close frame (and sent none) must answer with a
/// Close frame before closing the TCP connection.
#[tokio::test]
async fn a_close_from_the_station_is_answered_with_a_close() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let credentials = openssl::base64::encode_block(format!("CP001:{PASSWORD}").as_bytes());
    let head = upgrade_head(
        "/ocpp/CP001",
        &format!("Authorization: Basic {credentials}\r\n"),
    );
    let mut tcp = TcpStream::connect(csms.server.ws_addr().unwrap())
        .await
        .unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    while !response.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        tokio::time::timeout(BOUND, tcp.read_exact(&mut byte))
            .await
            .expect("the 101")
            .unwrap();
        response.push(byte[0]);
    }
    assert!(response.starts_with(b"HTTP/1.1 101 "));
    // A masked client Close frame with status 1000 (Normal).
    let mask = [0x12u8, 0x34, 0x56, 0x78];
    let mut frame = vec![0x88, 0x82];
    frame.extend_from_slice(&mask);
    frame.extend([0x03 ^ mask[0], 0xE8 ^ mask[1]]);
    tcp.write_all(&frame).await.unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(BOUND, tcp.read_to_end(&mut rest))
        .await
        .expect("the server closes")
        .unwrap();
    assert_eq!(
        rest.first(),
        Some(&0x88),
        "the server must answer the Close frame with a Close frame, sent {rest:02x?}"
    );
    wait_until_registry_shows(&csms, &sid("CP001"), false).await;
}

#[tokio::test]
async fn operator_disconnect_closes_the_station() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let id = sid("CP001");
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    heartbeat(&mut station).await.unwrap();
    assert!(
        csms.server
            .handle()
            .disconnect(&id, "credentials changed")
            .await
    );
    station.expect_closed(BOUND).await.unwrap();
    wait_until_registry_shows(&csms, &id, false).await;
    assert!(!csms.server.handle().disconnect(&id, "again").await);
}

// ---------------------------------------------------------------------------------------------
// 6. Dead connections
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_station_that_stops_answering_pings_is_dropped() {
    let interval = Duration::from_millis(150);
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |s| {
        s.csms.ping_interval = interval
    })
    .await;
    let id = sid("CP001");
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    heartbeat(&mut station).await.unwrap();
    let since = Instant::now();
    // From here on nobody reads the station's socket, so no pong ever goes back.
    wait_until_registry_shows(&csms, &id, false).await;
    let took = since.elapsed();
    assert!(
        took >= interval,
        "dropped after {took:?}, before a ping could go unanswered"
    );
    wait_until_store_shows(&csms, &id, false).await;
    drop(station);
}

#[tokio::test]
async fn a_station_that_answers_pings_stays_connected() {
    let interval = Duration::from_millis(150);
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |s| {
        s.csms.ping_interval = interval
    })
    .await;
    let id = sid("CP001");
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    heartbeat(&mut station).await.unwrap();
    // Reading answers pings; for five ping intervals the CSMS must not close.
    match station.expect_closed(interval * 5).await {
        Err(SimError::Timeout(..)) => {}
        other => panic!("a live station was disconnected: {other:?}"),
    }
    assert!(csms.server.handle().is_connected(&id));
    heartbeat(&mut station).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// 7. CSMS-initiated calls (the one send path, `Csms::request_untyped`)
// ---------------------------------------------------------------------------------------------

/// A CSMS-initiated call by action name, as the CSMS itself makes it.
trait CsmsCall {
    async fn call(
        &self,
        station: &StationId,
        action: &str,
        payload: Value,
    ) -> Result<Value, OpError>;
}

impl CsmsCall for Csms {
    async fn call(
        &self,
        station: &StationId,
        action: &str,
        payload: Value,
    ) -> Result<Value, OpError> {
        let Ok(action) = action.parse() else {
            return Err(OpError::refused("unknown_action", action.to_string()));
        };
        self.request_untyped(station, action, payload, &Requester::Csms)
            .await
    }
}

#[tokio::test]
async fn csms_call_returns_the_stations_answer() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    heartbeat(&mut station).await.unwrap();
    let handle = csms.server.handle().clone();
    let call = tokio::spawn(async move {
        handle
            .call(
                &sid("CP001"),
                "GetVariables",
                get_variables("HeartbeatInterval"),
            )
            .await
    });
    let (msg_id, request) = station.expect_call::<GetVariablesRequest>().await.unwrap();
    assert_eq!(asked_variable(&request), "HeartbeatInterval");
    station
        .respond::<GetVariablesRequest>(&msg_id, &get_variables_answer(&request, "300"))
        .await
        .unwrap();
    let outcome = call.await.unwrap().expect("a CALLRESULT");
    assert_eq!(outcome["getVariableResult"][0]["attributeValue"], "300");
    assert_eq!(
        outcome["getVariableResult"][0]["attributeStatus"],
        "Accepted"
    );
}

#[tokio::test]
async fn csms_call_answered_with_callerror_fails_with_call_error() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    heartbeat(&mut station).await.unwrap();
    let handle = csms.server.handle().clone();
    let call = tokio::spawn(async move {
        handle
            .call(
                &sid("CP001"),
                "GetVariables",
                get_variables("HeartbeatInterval"),
            )
            .await
    });
    let (msg_id, _) = station.expect_call::<GetVariablesRequest>().await.unwrap();
    station
        .send_text(&Frame::call_error(&msg_id, ErrorCode::NotSupported, "not today").to_text())
        .await
        .unwrap();
    match call.await.unwrap() {
        Err(OpError::CallError {
            code, description, ..
        }) => {
            assert_eq!(code, ErrorCode::NotSupported);
            assert_eq!(description, "not today");
        }
        other => panic!("expected OpError::CallError, got {other:?}"),
    }
}

#[tokio::test]
async fn csms_call_with_a_schema_breaking_answer_fails_with_invalid_response() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    heartbeat(&mut station).await.unwrap();
    let handle = csms.server.handle().clone();
    let call = tokio::spawn(async move {
        handle
            .call(
                &sid("CP001"),
                "GetVariables",
                get_variables("HeartbeatInterval"),
            )
            .await
    });
    let (msg_id, _) = station.expect_call::<GetVariablesRequest>().await.unwrap();
    station
        .send_text(&format!(r#"[3,"{msg_id}",{{}}]"#))
        .await
        .unwrap();
    assert!(
        matches!(call.await.unwrap(), Err(OpError::InvalidResponse { .. })),
        "an answer without getVariableResult must not reach the caller as a success"
    );
}

#[tokio::test]
async fn csms_call_without_answer_times_out_and_the_connection_goes_on() {
    let timeout = Duration::from_millis(200);
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |s| {
        s.csms.call_timeout = timeout
    })
    .await;
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    heartbeat(&mut station).await.unwrap();
    let handle = csms.server.handle().clone();
    let call = tokio::spawn(async move {
        handle
            .call(
                &sid("CP001"),
                "GetVariables",
                get_variables("HeartbeatInterval"),
            )
            .await
    });
    let (late_id, late_request) = station.expect_call::<GetVariablesRequest>().await.unwrap();
    assert!(matches!(call.await.unwrap(), Err(OpError::Timeout { after, .. }) if after == timeout));

    // The late answer is dropped; the next call is sent and answered normally.
    station
        .respond::<GetVariablesRequest>(&late_id, &get_variables_answer(&late_request, "late"))
        .await
        .unwrap();
    let handle = csms.server.handle().clone();
    let call = tokio::spawn(async move {
        handle
            .call(
                &sid("CP001"),
                "GetVariables",
                get_variables("OfflineThreshold"),
            )
            .await
    });
    let (msg_id, request) = station.expect_call::<GetVariablesRequest>().await.unwrap();
    assert_ne!(msg_id, late_id, "message ids are never reused");
    assert_eq!(asked_variable(&request), "OfflineThreshold");
    station
        .respond::<GetVariablesRequest>(&msg_id, &get_variables_answer(&request, "60"))
        .await
        .unwrap();
    let outcome = call.await.unwrap().expect("a CALLRESULT");
    assert_eq!(outcome["getVariableResult"][0]["attributeValue"], "60");
}

#[tokio::test]
async fn csms_call_with_an_invalid_request_is_refused_and_nothing_is_sent() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    heartbeat(&mut station).await.unwrap();
    let id = sid("CP001");
    let handle = csms.server.handle();
    for payload in [
        json!({"getVariableData": []}),
        json!({}),
        json!({"getVariableData": [{"component": {}}]}),
    ] {
        assert!(
            matches!(
                handle.call(&id, "GetVariables", payload.clone()).await,
                Err(OpError::InvalidRequest { .. } | OpError::Refused { .. })
            ),
            "{payload}"
        );
    }
    // The first CALL the station ever sees is the valid one that follows.
    let handle = handle.clone();
    let call = tokio::spawn(async move {
        handle
            .call(
                &sid("CP001"),
                "GetVariables",
                get_variables("OfflineThreshold"),
            )
            .await
    });
    let (msg_id, request) = station.expect_call::<GetVariablesRequest>().await.unwrap();
    assert_eq!(asked_variable(&request), "OfflineThreshold");
    station
        .respond::<GetVariablesRequest>(&msg_id, &get_variables_answer(&request, "60"))
        .await
        .unwrap();
    call.await.unwrap().unwrap();
}

#[tokio::test]
async fn csms_call_of_an_unknown_action_is_refused_and_nothing_is_sent() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    heartbeat(&mut station).await.unwrap();
    let handle = csms.server.handle();
    assert!(matches!(
        handle.call(&sid("CP001"), "Sneeze", json!({})).await,
        Err(OpError::InvalidRequest { .. } | OpError::Refused { .. })
    ));
    let handle = handle.clone();
    let call = tokio::spawn(async move {
        handle
            .call(
                &sid("CP001"),
                "GetVariables",
                get_variables("OfflineThreshold"),
            )
            .await
    });
    let (msg_id, request) = station.expect_call::<GetVariablesRequest>().await.unwrap();
    station
        .respond::<GetVariablesRequest>(&msg_id, &get_variables_answer(&request, "60"))
        .await
        .unwrap();
    call.await.unwrap().unwrap();
}

/// A CSMS never sends the station's own actions (BootNotification, Heartbeat, ...): a
/// schema-valid payload does not make such a CALL valid.
#[tokio::test]
async fn csms_call_of_a_station_initiated_action_is_refused_and_nothing_is_sent() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    heartbeat(&mut station).await.unwrap();
    let handle = csms.server.handle().clone();
    let wrong =
        tokio::spawn(async move { handle.call(&sid("CP001"), "Heartbeat", json!({})).await });
    let outcome = tokio::time::timeout(BOUND, wrong).await;
    let sent = tokio::time::timeout(Duration::from_millis(100), station.next_frame("a CALL"))
        .await
        .ok();
    assert!(
        matches!(outcome, Ok(Ok(Err(OpError::InvalidRequest { .. } | OpError::Refused { .. })))),
        "a Heartbeat CALL from the CSMS must be refused before sending: {outcome:?}; the station got {sent:?}"
    );
}

#[tokio::test]
async fn csms_call_to_a_station_without_connection_fails_with_not_connected() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let handle = csms.server.handle();
    for station in ["NOBODY", "CP001"] {
        assert!(
            matches!(
                handle
                    .call(
                        &sid(station),
                        "GetVariables",
                        get_variables("HeartbeatInterval")
                    )
                    .await,
                Err(OpError::NotConnected(_))
            ),
            "{station}"
        );
    }
}

#[tokio::test]
async fn csms_call_outstanding_when_the_station_leaves_fails_with_connection_closed() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    heartbeat(&mut station).await.unwrap();
    let handle = csms.server.handle().clone();
    let call = tokio::spawn(async move {
        handle
            .call(
                &sid("CP001"),
                "GetVariables",
                get_variables("HeartbeatInterval"),
            )
            .await
    });
    station.expect_call::<GetVariablesRequest>().await.unwrap();
    station.close().await;
    assert!(matches!(
        tokio::time::timeout(BOUND, call)
            .await
            .expect("the caller is told")
            .unwrap(),
        Err(OpError::NotConnected(_))
    ));
}

#[tokio::test]
async fn station_calls_are_answered_while_a_csms_call_is_outstanding() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    heartbeat(&mut station).await.unwrap();
    let handle = csms.server.handle().clone();
    let call = tokio::spawn(async move {
        handle
            .call(
                &sid("CP001"),
                "GetVariables",
                get_variables("HeartbeatInterval"),
            )
            .await
    });
    let (msg_id, request) = station.expect_call::<GetVariablesRequest>().await.unwrap();
    // One CALL in flight per direction: the station's own CALL is answered meanwhile.
    boot(&mut station).await;
    heartbeat(&mut station).await.unwrap();
    station
        .respond::<GetVariablesRequest>(&msg_id, &get_variables_answer(&request, "300"))
        .await
        .unwrap();
    call.await.unwrap().expect("a CALLRESULT");
}

#[tokio::test]
async fn concurrent_csms_calls_are_sent_one_at_a_time() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    heartbeat(&mut station).await.unwrap();
    let handle = csms.server.handle().clone();
    // Both calls are queued on the first poll of this task.
    let calls = tokio::spawn(async move {
        let id = sid("CP001");
        tokio::join!(
            handle.call(&id, "GetVariables", get_variables("HeartbeatInterval")),
            handle.call(&id, "GetVariables", get_variables("OfflineThreshold")),
        )
    });
    let (first_id, first) = station.expect_call::<GetVariablesRequest>().await.unwrap();
    // While the first is unanswered, nothing else may arrive (OCPP-J: one CALL in flight).
    let early = tokio::time::timeout(
        Duration::from_millis(300),
        station.next_frame("a second CALL"),
    )
    .await;
    assert!(
        early.is_err(),
        "a second CALL arrived before the first was answered: {early:?}"
    );
    station
        .respond::<GetVariablesRequest>(&first_id, &get_variables_answer(&first, "first"))
        .await
        .unwrap();
    let (second_id, second) = station.expect_call::<GetVariablesRequest>().await.unwrap();
    assert_ne!(first_id, second_id);
    assert_ne!(asked_variable(&first), asked_variable(&second));
    station
        .respond::<GetVariablesRequest>(&second_id, &get_variables_answer(&second, "second"))
        .await
        .unwrap();
    let (a, b) = calls.await.unwrap();
    let (a, b) = (a.unwrap(), b.unwrap());
    // Each caller got the answer to its own request.
    for (outcome, variable) in [(&a, "HeartbeatInterval"), (&b, "OfflineThreshold")] {
        assert_eq!(
            outcome["getVariableResult"][0]["variable"]["name"],
            variable
        );
    }
    let value_of = |v: &Value| {
        v["getVariableResult"][0]["attributeValue"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut values = vec![value_of(&a), value_of(&b)];
    values.sort();
    assert_eq!(values, vec!["first", "second"]);
}

// ---------------------------------------------------------------------------------------------
// 8. Registration at boot
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_station_is_registered_pending_and_its_password_pinned() {
    let csms = start_ws(&[], |s| {
        s.csms.unknown_stations = UnknownStationPolicy::Pending
    })
    .await;
    let id = sid("NEW01");
    let mut station = connect(&ws_options(&csms, "NEW01")).await;
    let answer = boot(&mut station).await;
    assert_eq!(answer.status, RegistrationStatusEnumType::Pending);
    let stored = csms.server.store.get_station(&id).await.unwrap().unwrap();
    assert_eq!(stored.registration, RegistrationStatus::Pending);
    assert!(stored.password_hash.is_some());

    // From now on the first password is the password.
    let other = ConnectOptions::new(format!("{}/NEW01", csms.ws_base()))
        .basic("NEW01", "Another-Password-0123456789");
    assert_eq!(refusal_status(&other).await, 401);
    let mut again = connect(&ws_options(&csms, "NEW01")).await;
    assert_eq!(
        boot(&mut again).await.status,
        RegistrationStatusEnumType::Pending
    );
}

#[tokio::test]
async fn unknown_station_is_accepted_under_the_accept_policy() {
    let csms = start_ws(&[], |s| {
        s.csms.unknown_stations = UnknownStationPolicy::Accept
    })
    .await;
    let mut station = connect(&ws_options(&csms, "NEW02")).await;
    assert_eq!(
        boot(&mut station).await.status,
        RegistrationStatusEnumType::Accepted
    );
    heartbeat(&mut station).await.unwrap();
}

#[tokio::test]
async fn unknown_station_under_the_default_policy_is_booted_rejected_closed_and_forgotten() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let id = sid("STRANGER");
    let mut station = connect(&ws_options(&csms, "STRANGER")).await;
    assert_eq!(
        boot(&mut station).await.status,
        RegistrationStatusEnumType::Rejected
    );
    let boot_id = station.last_call_id().unwrap();
    station
        .expect_closed(BOUND)
        .await
        .expect("the CSMS closes after the Rejected answer");
    wait_until_registry_shows(&csms, &id, false).await;
    assert!(csms.server.store.get_station(&id).await.unwrap().is_none());
    assert!(csms
        .server
        .store
        .find_answer(&id, &boot_id)
        .await
        .unwrap()
        .is_none());
}

/// ADR 0005 / `UnknownStationPolicy::Reject`: anything but BootNotification gets SecurityError.
#[tokio::test]
async fn unknown_station_under_the_default_policy_gets_security_error_before_booting() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "STRANGER")).await;
    match heartbeat(&mut station).await {
        Err(SimError::CallError { code, .. }) => assert_eq!(code, ErrorCode::SecurityError),
        other => {
            panic!("an unregistered station's Heartbeat must be a SecurityError, got {other:?}")
        }
    }
    station
        .send_text(&call_text(
            "sn-1",
            "StatusNotification",
            &status_notification("Available"),
        ))
        .await
        .unwrap();
    match answer_to(&mut station, "sn-1").await {
        Frame::CallError { code, .. } => assert_eq!(code, ErrorCode::SecurityError),
        other => panic!("an unregistered station's StatusNotification was answered {other:?}"),
    }
}

#[tokio::test]
async fn unknown_station_without_credentials_is_not_registered() {
    let csms = start_ws(&[], |s| {
        s.csms.unknown_stations = UnknownStationPolicy::Accept
    })
    .await;
    let mut options = ws_options(&csms, "NEW03");
    options.basic = None;
    assert_eq!(refusal_status(&options).await, 401);
    assert!(csms
        .server
        .store
        .get_station(&sid("NEW03"))
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn rejected_station_may_only_boot() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let id = sid("CP001");
    assert!(csms
        .server
        .store
        .set_registration(&id, RegistrationStatus::Rejected)
        .await
        .unwrap());
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    assert_eq!(
        boot(&mut station).await.status,
        RegistrationStatusEnumType::Rejected
    );
    match heartbeat(&mut station).await {
        Err(SimError::CallError { code, .. }) => assert_eq!(code, ErrorCode::SecurityError),
        other => panic!("a rejected station's Heartbeat must be a SecurityError, got {other:?}"),
    }
    // The verdict outlives the connection.
    drop(station);
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    match heartbeat(&mut station).await {
        Err(SimError::CallError { code, .. }) => assert_eq!(code, ErrorCode::SecurityError),
        other => panic!("after reconnecting, still a SecurityError expected, got {other:?}"),
    }
    // Once the operator accepts it, the next boot is Accepted and everything works.
    csms.server
        .store
        .set_registration(&id, RegistrationStatus::Accepted)
        .await
        .unwrap();
    let mut request = serde_json::to_value(boot_request()).unwrap();
    request["reason"] = json!("ApplicationReset"); // another CALL, not a retransmission
    let answer = station.call_raw("BootNotification", request).await.unwrap();
    assert_eq!(answer["status"], "Accepted");
    heartbeat(&mut station).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// 9. Durable state
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn boot_and_connection_state_are_stored() {
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let id = sid("CP001");
    let before = csms.server.store.get_station(&id).await.unwrap().unwrap();
    assert!(!before.connected);

    let mut station = connect(&ws_options(&csms, "CP001")).await;
    let answer = boot(&mut station).await;
    assert_eq!(answer.status, RegistrationStatusEnumType::Accepted);
    let stored = csms.server.store.get_station(&id).await.unwrap().unwrap();
    assert!(stored.connected);
    assert_eq!(stored.model.as_deref(), Some("Behave-1"));
    assert_eq!(stored.vendor_name.as_deref(), Some("Behaviour Inc"));
    assert_eq!(stored.serial_number.as_deref(), Some("SN-7"));
    assert_eq!(stored.last_boot_reason.as_deref(), Some("PowerUp"));
    assert_eq!(stored.last_boot_status, Some(RegistrationStatus::Accepted));
    assert!(stored.last_seen_at.is_some());

    station.close().await;
    wait_until_store_shows(&csms, &id, false).await;
    // What the station said about itself stays.
    let after = csms.server.store.get_station(&id).await.unwrap().unwrap();
    assert_eq!(after.model.as_deref(), Some("Behave-1"));
}

/// B02 with `boot_provisioning_report`: the first boot is Pending, the CSMS asks for the base
/// report, and when its last part arrives it marks the station provisioned and triggers a new
/// boot, which is Accepted; the reported values land in the device model.
#[tokio::test]
async fn first_boot_is_pending_until_the_provisioning_report_is_in() {
    use unicharge_ocpp::v201::{
        GenericDeviceModelStatusEnumType, GetBaseReportRequest, GetBaseReportResponse,
        TriggerMessageRequest, TriggerMessageResponse, TriggerMessageStatusEnumType,
    };
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |s| {
        s.csms.boot_provisioning_report = Some("FullInventory".into());
    })
    .await;
    let id = sid("CP001");
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    assert_eq!(
        boot(&mut station).await.status,
        RegistrationStatusEnumType::Pending
    );

    let (call_id, request) = station.expect_call::<GetBaseReportRequest>().await.unwrap();
    assert_eq!(request.report_base.as_str(), "FullInventory");
    station
        .respond::<GetBaseReportRequest>(
            &call_id,
            &GetBaseReportResponse {
                custom_data: None,
                status: GenericDeviceModelStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await
        .unwrap();
    let part = |seq_no: i64, tbc: bool, variable: &str, value: &str| {
        json!({
            "requestId": request.request_id,
            "generatedAt": "2026-11-21T10:00:00Z",
            "seqNo": seq_no,
            "tbc": tbc,
            "reportData": [{
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": variable},
                "variableAttribute": [{"type": "Actual", "value": value, "mutability": "ReadWrite"}]
            }]
        })
    };
    station
        .call_raw("NotifyReport", part(0, true, "OfflineThreshold", "60"))
        .await
        .unwrap();
    let still = csms.server.store.get_station(&id).await.unwrap().unwrap();
    assert!(
        still.provisioned_at.is_none(),
        "not provisioned before the last part"
    );
    station
        .call_raw("NotifyReport", part(1, false, "HeartbeatInterval", "300"))
        .await
        .unwrap();

    let (call_id, trigger) = station
        .expect_call::<TriggerMessageRequest>()
        .await
        .unwrap();
    assert_eq!(trigger.requested_message.as_str(), "BootNotification");
    station
        .respond::<TriggerMessageRequest>(
            &call_id,
            &TriggerMessageResponse {
                custom_data: None,
                status: TriggerMessageStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        boot(&mut station).await.status,
        RegistrationStatusEnumType::Accepted
    );

    let stored = csms.server.store.get_station(&id).await.unwrap().unwrap();
    assert!(stored.provisioned_at.is_some());
    let model = csms.server.store.device_model(&id).await.unwrap();
    let value = |name: &str| {
        model
            .iter()
            .find(|v| v.variable == name)
            .and_then(|v| v.value.clone())
    };
    assert_eq!(value("OfflineThreshold").as_deref(), Some("60"));
    assert_eq!(value("HeartbeatInterval").as_deref(), Some("300"));
    let (report, parts) = csms
        .server
        .store
        .report(&id, request.request_id)
        .await
        .unwrap()
        .unwrap();
    assert!(report.complete);
    assert_eq!(parts.len(), 2);
}

/// Authorize and the idToken in a TransactionEvent are answered from the token store: known →
/// its status and group, unknown → Unknown, expired → Expired (C01); every TransactionEvent is
/// stored, and the same seqNo under a new message id is not counted twice.
#[tokio::test]
async fn tokens_are_answered_from_the_store_and_transaction_events_are_kept_once() {
    use unicharge_core::tokens::IdTokenRecord;
    let csms = start_ws(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let store = &csms.server.store;
    let token =
        |id: &str, status: &str, expiry: Option<chrono::DateTime<chrono::Utc>>| IdTokenRecord {
            id_token: id.into(),
            kind: "ISO14443".into(),
            status: status.into(),
            expiry,
            group_id_token: Some("GROUP-A".into()),
        };
    store
        .upsert_token(&token("VALID01", "Accepted", None))
        .await
        .unwrap();
    store
        .upsert_token(&token("BLOCKED1", "Blocked", None))
        .await
        .unwrap();
    store
        .upsert_token(&token(
            "OLD01",
            "Accepted",
            Some(chrono::Utc::now() - chrono::Duration::days(1)),
        ))
        .await
        .unwrap();
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    boot(&mut station).await;
    let authorize = |id: &str| json!({"idToken": {"idToken": id, "type": "ISO14443"}});
    let status = |answer: &Value| {
        answer["idTokenInfo"]["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let answer = station
        .call_raw("Authorize", authorize("valid01"))
        .await
        .unwrap();
    assert_eq!(status(&answer), "Accepted", "idTokens are case-insensitive");
    assert_eq!(answer["idTokenInfo"]["groupIdToken"]["idToken"], "GROUP-A");
    let answer = station
        .call_raw("Authorize", authorize("BLOCKED1"))
        .await
        .unwrap();
    assert_eq!(status(&answer), "Blocked");
    let answer = station
        .call_raw("Authorize", authorize("OLD01"))
        .await
        .unwrap();
    assert_eq!(status(&answer), "Expired");
    let answer = station
        .call_raw("Authorize", authorize("NOBODY"))
        .await
        .unwrap();
    assert_eq!(status(&answer), "Unknown");

    let event = |seq_no: i64, event_type: &str, trigger: &str| {
        json!({
            "eventType": event_type, "timestamp": "2026-11-21T10:00:00Z", "triggerReason": trigger,
            "seqNo": seq_no, "transactionInfo": {"transactionId": "TX-1", "chargingState": "Charging"},
            "idToken": {"idToken": "VALID01", "type": "ISO14443"}, "evse": {"id": 1, "connectorId": 1}
        })
    };
    let answer = station
        .call_raw("TransactionEvent", event(0, "Started", "Authorized"))
        .await
        .unwrap();
    assert_eq!(status(&answer), "Accepted");
    station
        .call_raw(
            "TransactionEvent",
            event(1, "Updated", "ChargingStateChanged"),
        )
        .await
        .unwrap();
    // The same event again under a new message id (a station that lost our answer and queued it).
    station
        .call_raw(
            "TransactionEvent",
            event(1, "Updated", "ChargingStateChanged"),
        )
        .await
        .unwrap();
    let mut ended = event(2, "Ended", "EVCommunicationLost");
    ended["transactionInfo"]["stoppedReason"] = json!("EVDisconnected");
    station.call_raw("TransactionEvent", ended).await.unwrap();

    let id = sid("CP001");
    let tx = store.transaction(&id, "TX-1").await.unwrap().unwrap();
    assert_eq!(tx.events, 3);
    assert_eq!(tx.last_seq_no, 2);
    assert_eq!(tx.stopped_reason.as_deref(), Some("EVDisconnected"));
    assert!(tx.ended_at.is_some());
    assert!(!tx.started_unseen);
    assert_eq!(
        store.transaction_events(&id, "TX-1").await.unwrap().len(),
        3
    );

    // A transaction first seen through an Updated event is created and flagged.
    let mut late = event(5, "Updated", "MeterValuePeriodic");
    late["transactionInfo"]["transactionId"] = json!("TX-LOST-START");
    station.call_raw("TransactionEvent", late).await.unwrap();
    let flagged = store
        .transaction(&id, "TX-LOST-START")
        .await
        .unwrap()
        .unwrap();
    assert!(flagged.started_unseen);
}
