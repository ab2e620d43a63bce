//! The CSMS's typed operations, effects and facts, driven from outside as a station, an
//! operator and an in-process subscriber would: a real server on loopback ports, a simulated
//! station over real sockets, the operations called through the `Csms` handle (as OCPI, smart
//! charging and firmware campaigns will call them) and the REST API over real HTTP.
//!
//! Regression tests of issue 8's defects: B02.FR.09 (a Pending station cannot transact),
//! A05 (the raised profile applies once the station connected at it), E14 (the status check
//! waits for an Accepted station; forgotten transactions are marked, not asked forever), the
//! bounded per-station call queue, the generic endpoint refusing stateful actions, and no
//! password in the command log.

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokio::sync::broadcast;
use unicharge_core::{RegistrationStatus, SecurityProfile, StationId};
use unicharge_csms::{Fact, OpError, Requester};
use unicharge_ocpp::v201::{
    AuthorizeRequest, BootNotificationRequest, GetTransactionStatusRequest,
    GetTransactionStatusResponse, HeartbeatRequest, IdTokenEnumType, IdTokenType,
    MessageTriggerEnumType, NetworkConnectionProfileType, ResetRequest, ResetResponse,
    ResetStatusEnumType, SetNetworkProfileRequest, SetNetworkProfileResponse,
    SetNetworkProfileStatusEnumType, SetVariableResultType, SetVariableStatusEnumType,
    SetVariablesRequest, SetVariablesResponse, StatusNotificationRequest, TransactionEventRequest,
    TriggerMessageRequest, TriggerMessageResponse, TriggerMessageStatusEnumType,
};
use unicharge_ocpp::ErrorCode;
use unicharge_server::Settings;
use unicharge_sim::tls::TlsClientOptions;
use unicharge_sim::{ConnectError, ConnectOptions, SimError, Station};

use common::{StationSpec, TestCsms, PASSWORD};

/// How long any single expected thing may take before a test fails.
const BOUND: Duration = Duration::from_secs(5);

fn sid(id: &str) -> StationId {
    StationId::new(id).unwrap()
}

async fn start(stations: &[StationSpec], adjust: impl FnOnce(&mut Settings)) -> TestCsms {
    TestCsms::start_with(stations, |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        adjust(s);
    })
    .await
}

fn ws_options(csms: &TestCsms, id: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(format!("{}/{id}", csms.ws_base())).basic(id, PASSWORD);
    options.timeout = BOUND;
    options
}

fn wss_options(csms: &TestCsms, id: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(format!("{}/{id}", csms.wss_base()))
        .basic(id, PASSWORD)
        .tls(TlsClientOptions {
            ca: Some(csms.tls.ca_cert.clone()),
            ..TlsClientOptions::default()
        });
    options.timeout = BOUND;
    options
}

async fn connect(options: &ConnectOptions) -> Station {
    Station::connect(options)
        .await
        .unwrap_or_else(|e| panic!("connecting to {} failed: {e}", options.url))
}

fn boot_request() -> BootNotificationRequest {
    serde_json::from_value(json!({
        "reason": "PowerUp",
        "chargingStation": {"model": "Ops-1", "vendorName": "Operations Inc"}
    }))
    .unwrap()
}

fn token(id: &str) -> IdTokenType {
    IdTokenType {
        custom_data: None,
        additional_info: None,
        id_token: id.into(),
        r#type: IdTokenEnumType::Iso14443,
    }
}

fn authorize(id: &str) -> AuthorizeRequest {
    AuthorizeRequest {
        custom_data: None,
        id_token: token(id),
        certificate: None,
        iso15118_certificate_hash_data: None,
    }
}

fn transaction_event(
    tx: &str,
    seq_no: i64,
    event_type: &str,
    trigger: &str,
) -> TransactionEventRequest {
    let mut event = json!({
        "eventType": event_type,
        "timestamp": "2026-12-06T10:00:00Z",
        "triggerReason": trigger,
        "seqNo": seq_no,
        "transactionInfo": {"transactionId": tx},
        "evse": {"id": 1, "connectorId": 1},
        "idToken": {"idToken": "DRIVER-1", "type": "ISO14443"},
    });
    if event_type == "Ended" {
        event["transactionInfo"]["stoppedReason"] = json!("Local");
    }
    serde_json::from_value(event).unwrap()
}

/// The CALLERROR code the CSMS answered `request` with (panics on a CALLRESULT).
async fn refused_with<R: unicharge_ocpp::v201::OcppRequest>(
    station: &mut Station,
    request: &R,
) -> ErrorCode {
    match station.call(request).await {
        Err(SimError::CallError { code, .. }) => code,
        Err(other) => panic!("expected a CALLERROR for {:?}, got {other}", R::ACTION),
        Ok(_) => panic!("expected a CALLERROR for {:?}, got a CALLRESULT", R::ACTION),
    }
}

/// The next fact, within the bound.
async fn next_fact(facts: &mut broadcast::Receiver<Fact>) -> Fact {
    tokio::time::timeout(BOUND, facts.recv())
        .await
        .expect("a fact within the bound")
        .expect("the fact channel is open")
}

// ---------------------------------------------------------------------------------------------
// B02.FR.09
// ---------------------------------------------------------------------------------------------

/// B02.FR.09: a station whose boot was answered Pending gets CALLERROR SecurityError for every
/// CALL other than BootNotification and what the CSMS asked of it. It cannot authorize drivers
/// or record transactions before the operator accepted it.
#[tokio::test]
async fn b02_fr_09_pending_station_gets_security_error_except_boot_and_solicited() {
    let csms = start(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let id = sid("CP001");
    csms.server
        .store
        .set_registration(&id, RegistrationStatus::Pending)
        .await
        .unwrap();
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    let answer = station.call(&boot_request()).await.unwrap();
    assert_eq!(answer.status.as_str(), "Pending");

    assert_eq!(
        refused_with(&mut station, &authorize("DRIVER-1")).await,
        ErrorCode::SecurityError
    );
    assert_eq!(
        refused_with(
            &mut station,
            &transaction_event("TX-PENDING", 0, "Started", "Authorized")
        )
        .await,
        ErrorCode::SecurityError
    );
    assert_eq!(
        refused_with(&mut station, &HeartbeatRequest::default()).await,
        ErrorCode::SecurityError
    );
    assert!(
        csms.server
            .store
            .transaction(&id, "TX-PENDING")
            .await
            .unwrap()
            .is_none(),
        "nothing billable was recorded"
    );

    // The CSMS triggers a Heartbeat (an operation called in-process, no HTTP): now it may.
    let handle = csms.server.handle().clone();
    let trigger = tokio::spawn(async move {
        let request = TriggerMessageRequest {
            custom_data: None,
            evse: None,
            requested_message: MessageTriggerEnumType::Heartbeat,
        };
        unicharge_csms::remote_control::trigger_message(
            &handle,
            &sid("CP001"),
            request,
            &Requester::Automation {
                rule: "test".into(),
            },
        )
        .await
    });
    let (msg_id, _) = station
        .expect_call::<TriggerMessageRequest>()
        .await
        .unwrap();
    station
        .respond::<TriggerMessageRequest>(
            &msg_id,
            &TriggerMessageResponse {
                custom_data: None,
                status: TriggerMessageStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await
        .unwrap();
    trigger.await.unwrap().unwrap();
    station
        .call(&HeartbeatRequest::default())
        .await
        .expect("a triggered Heartbeat is answered");
    // Still not an Authorize.
    assert_eq!(
        refused_with(&mut station, &authorize("DRIVER-1")).await,
        ErrorCode::SecurityError
    );
    // BootNotification always; once Accepted, everything.
    csms.server
        .store
        .set_registration(&id, RegistrationStatus::Accepted)
        .await
        .unwrap();
    let answer = station.call(&boot_request()).await.unwrap();
    assert_eq!(answer.status.as_str(), "Accepted");
    station.call(&authorize("DRIVER-1")).await.unwrap();
    let log = csms.server.store.commands(&id, 10).await.unwrap();
    assert_eq!(log[0].requested_by.as_deref(), Some("rule:test"));
}

// ---------------------------------------------------------------------------------------------
// Facts
// ---------------------------------------------------------------------------------------------

/// Committed facts reach an in-process subscriber, in order, after the commit.
#[tokio::test]
async fn committed_facts_are_published_to_subscribers() {
    let csms = start(&[StationSpec::new("CP001", 1)], |s| {
        s.csms.transaction_status_check = unicharge_csms::config::TransactionStatusCheck::Off;
    })
    .await;
    let id = sid("CP001");
    let mut facts = csms.server.handle().subscribe();
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    assert!(matches!(
        next_fact(&mut facts).await,
        Fact::StationConnected { station, profile } if station == id && profile == SecurityProfile::BasicAuth
    ));
    station.call(&boot_request()).await.unwrap();
    assert_eq!(
        next_fact(&mut facts).await,
        Fact::StationBooted {
            station: id.clone(),
            status: RegistrationStatus::Accepted
        }
    );
    let status: StatusNotificationRequest = serde_json::from_value(json!({
        "timestamp": "2026-12-06T10:00:00Z", "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1
    }))
    .unwrap();
    station.call(&status).await.unwrap();
    assert_eq!(
        next_fact(&mut facts).await,
        Fact::ConnectorStatusChanged {
            station: id.clone(),
            evse_id: 1,
            connector_id: 1,
            status: "Occupied".into()
        }
    );
    station
        .call(&transaction_event("TX-F", 0, "Started", "Authorized"))
        .await
        .unwrap();
    match next_fact(&mut facts).await {
        Fact::TransactionStarted {
            station,
            transaction_id,
            evse_id,
            id_token,
            phases_used,
        } => {
            assert_eq!(phases_used, None);
            assert_eq!(station, id);
            assert_eq!(transaction_id, "TX-F");
            assert_eq!(evse_id, Some(1));
            assert_eq!(id_token.as_deref(), Some("DRIVER-1"));
        }
        other => panic!("expected TransactionStarted, got {other:?}"),
    }
    // The store holds the transaction by the time its fact arrived.
    assert!(csms
        .server
        .store
        .transaction(&id, "TX-F")
        .await
        .unwrap()
        .is_some());
    station
        .call(&transaction_event("TX-F", 1, "Ended", "StopAuthorized"))
        .await
        .unwrap();
    assert!(matches!(
        next_fact(&mut facts).await,
        Fact::TransactionEnded { transaction_id, .. } if transaction_id == "TX-F"
    ));
    assert!(matches!(
        next_fact(&mut facts).await,
        Fact::ChargeRecordCreated { record_id, .. } if record_id == "CP001:TX-F"
    ));
    station.close().await;
    assert!(matches!(
        next_fact(&mut facts).await,
        Fact::StationDisconnected { station, .. } if station == id
    ));
}

// ---------------------------------------------------------------------------------------------
// A05
// ---------------------------------------------------------------------------------------------

/// Answer the next SetVariablesRequest (one item) with Accepted; returns it.
async fn accept_set_variables(station: &mut Station) -> SetVariablesRequest {
    let (id, request) = station.expect_call::<SetVariablesRequest>().await.unwrap();
    let item = &request.set_variable_data[0];
    station
        .respond::<SetVariablesRequest>(
            &id,
            &SetVariablesResponse {
                custom_data: None,
                set_variable_result: vec![SetVariableResultType {
                    custom_data: None,
                    attribute_type: None,
                    attribute_status: SetVariableStatusEnumType::Accepted,
                    attribute_status_info: None,
                    component: item.component.clone(),
                    variable: item.variable.clone(),
                }],
            },
        )
        .await
        .unwrap();
    request
}

/// Answer the three A05 steps (SetNetworkProfile, SetVariables, Reset) with Accepted.
async fn accept_upgrade_steps(station: &mut Station) {
    let (id, _) = station
        .expect_call::<SetNetworkProfileRequest>()
        .await
        .unwrap();
    station
        .respond::<SetNetworkProfileRequest>(
            &id,
            &SetNetworkProfileResponse {
                custom_data: None,
                status: SetNetworkProfileStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await
        .unwrap();
    accept_set_variables(station).await;
    let (id, _) = station.expect_call::<ResetRequest>().await.unwrap();
    station
        .respond::<ResetRequest>(
            &id,
            &ResetResponse {
                custom_data: None,
                status: ResetStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await
        .unwrap();
}

/// A05: the raised profile takes effect once the station has connected at it, not when the
/// Reset is accepted: a station that falls back to its old network slot is not locked out.
#[tokio::test]
async fn a05_raised_profile_applies_once_the_station_connected_at_it() {
    let csms = start(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let id = sid("CP001");
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    station.call(&boot_request()).await.unwrap();
    let connection_data: NetworkConnectionProfileType = serde_json::from_value(json!({
        "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": csms.wss_base(),
        "messageTimeout": 30, "securityProfile": 1, "ocppInterface": "Wired0"
    }))
    .unwrap();
    let handle = csms.server.handle().clone();
    let upgrade = tokio::spawn(async move {
        unicharge_csms::security::profile_upgrade::upgrade_security_profile(
            &handle,
            &sid("CP001"),
            SecurityProfile::TlsBasicAuth,
            2,
            connection_data,
            &Requester::Csms,
        )
        .await
    });
    accept_upgrade_steps(&mut station).await;
    let outcome = upgrade.await.unwrap().unwrap();
    assert!(outcome.upgraded);
    let stored = csms.server.store.get_station(&id).await.unwrap().unwrap();
    assert_eq!(stored.security_profile, SecurityProfile::BasicAuth);
    assert_eq!(
        stored.pending_security_profile,
        Some(SecurityProfile::TlsBasicAuth)
    );
    station.close().await;

    // It falls back to its old slot (profile 1): still let in.
    let station = connect(&ws_options(&csms, "CP001")).await;
    station.close().await;
    // It connects at profile 2: from now on profile 2 is required.
    let station = connect(&wss_options(&csms, "CP001")).await;
    station.close().await;
    let stored = csms.server.store.get_station(&id).await.unwrap().unwrap();
    assert_eq!(stored.security_profile, SecurityProfile::TlsBasicAuth);
    assert_eq!(stored.pending_security_profile, None);
    match Station::connect(&ws_options(&csms, "CP001")).await {
        Err(ConnectError::Http(401)) => {}
        Err(other) => panic!("expected 401 at profile 1, got {other}"),
        Ok(_) => panic!("profile 1 must be refused after the upgrade took effect"),
    }
}

/// A05.FR.02: no downgrade, nothing sent.
#[tokio::test]
async fn a05_fr_02_no_downgrade() {
    let csms = start(&[StationSpec::new("CP002", 2)], |_| {}).await;
    let connection_data: NetworkConnectionProfileType = serde_json::from_value(json!({
        "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": csms.ws_base(),
        "messageTimeout": 30, "securityProfile": 1, "ocppInterface": "Wired0"
    }))
    .unwrap();
    let outcome = unicharge_csms::security::profile_upgrade::upgrade_security_profile(
        csms.server.handle(),
        &sid("CP002"),
        SecurityProfile::BasicAuth,
        1,
        connection_data,
        &Requester::Csms,
    )
    .await;
    assert!(
        matches!(
            outcome,
            Err(OpError::Refused {
                code: "not_an_upgrade",
                ..
            })
        ),
        "{outcome:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// E14
// ---------------------------------------------------------------------------------------------

/// E14: a station whose boot is answered Pending is not asked about its transactions; once
/// Accepted it is. A transaction the station says is neither ongoing nor queued is marked
/// forgotten and not asked about again.
#[tokio::test]
async fn e14_status_check_waits_for_an_accepted_station_and_forgotten_transactions_are_marked() {
    // A reconnecting station is given this long to boot before the check looks at its status.
    let delay = Duration::from_millis(200);
    let csms = start(&[StationSpec::new("CP001", 1)], |s| {
        s.csms.transaction_status_delay = delay;
    })
    .await;
    let id = sid("CP001");
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    station.call(&boot_request()).await.unwrap();
    station
        .call(&transaction_event("TX-LOST", 0, "Started", "Authorized"))
        .await
        .unwrap();
    station.close().await;

    // Reconnects and boots Pending: no GetTransactionStatus.
    csms.server
        .store
        .set_registration(&id, RegistrationStatus::Pending)
        .await
        .unwrap();
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    let answer = station.call(&boot_request()).await.unwrap();
    assert_eq!(answer.status.as_str(), "Pending");
    let quiet = tokio::time::timeout(delay * 3, station.next_frame("a CALL")).await;
    assert!(quiet.is_err(), "a Pending station was sent {quiet:?}");
    station.close().await;

    // Accepted: asked about TX-LOST, which it no longer knows.
    csms.server
        .store
        .set_registration(&id, RegistrationStatus::Accepted)
        .await
        .unwrap();
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    station.call(&boot_request()).await.unwrap();
    let (msg_id, request) = station
        .expect_call::<GetTransactionStatusRequest>()
        .await
        .unwrap();
    assert_eq!(request.transaction_id.as_deref(), Some("TX-LOST"));
    station
        .respond::<GetTransactionStatusRequest>(
            &msg_id,
            &GetTransactionStatusResponse {
                custom_data: None,
                ongoing_indicator: Some(false),
                messages_in_queue: false,
            },
        )
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + BOUND;
    loop {
        let tx = csms
            .server
            .store
            .transaction(&id, "TX-LOST")
            .await
            .unwrap()
            .unwrap();
        if tx.station_forgot_at.is_some() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never marked forgotten"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    station.close().await;

    // Next reconnection: not asked again.
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    station.call(&boot_request()).await.unwrap();
    let quiet = tokio::time::timeout(delay * 3, station.next_frame("a CALL")).await;
    assert!(
        quiet.is_err(),
        "asked again about a forgotten transaction: {quiet:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The send path
// ---------------------------------------------------------------------------------------------

/// The per-station queue of CSMS calls is bounded: beyond it a call is refused at once
/// (`Busy`, HTTP 503), never piled up.
#[tokio::test]
async fn per_station_call_queue_is_bounded() {
    let csms = start(&[StationSpec::new("CP001", 1)], |s| {
        s.csms.max_queued_calls = 1;
    })
    .await;
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    station.call(&boot_request()).await.unwrap();
    let reset = |n: i64| ResetRequest {
        custom_data: None,
        r#type: unicharge_ocpp::v201::ResetEnumType::OnIdle,
        evse_id: Some(n),
    };
    let spawn = |n: i64| {
        let handle = csms.server.handle().clone();
        let request = reset(n);
        tokio::spawn(async move {
            handle
                .request(&sid("CP001"), &request, &Requester::Csms)
                .await
        })
    };
    let in_flight = spawn(1);
    station.expect_call::<ResetRequest>().await.unwrap(); // sent, unanswered
    let queued = spawn(2);
    // Let the second reach the queue before the third.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let third = spawn(3).await.unwrap();
    assert!(
        matches!(third, Err(OpError::Busy { queued: 1, .. })),
        "{third:?}"
    );
    in_flight.abort();
    queued.abort();
}

/// The generic command endpoint refuses actions whose use case keeps CSMS state, naming the
/// typed endpoint; and a rotated password never reaches the command log.
#[tokio::test]
async fn generic_endpoint_refuses_stateful_actions_and_passwords_are_never_logged() {
    let csms = start(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let mut station = connect(&ws_options(&csms, "CP001")).await;
    station.call(&boot_request()).await.unwrap();
    let base = format!("http://{}/api/v1", csms.server.http_addr.unwrap());
    let admin = csms.server.initial_admin_key.clone().unwrap();
    let http = Client::builder().no_proxy().build().unwrap();
    let post = |path: String, body: Value| {
        let http = http.clone();
        let admin = admin.clone();
        async move {
            let response = http
                .post(path)
                .bearer_auth(admin)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    for (action, body, endpoint) in [
        (
            "SetVariables",
            json!({"setVariableData": [{"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}, "attributeValue": "0123456789abcdef0123"}]}),
            "password/rotate",
        ),
        (
            "SendLocalList",
            json!({"versionNumber": 1, "updateType": "Full"}),
            "local-list",
        ),
        (
            "RequestStartTransaction",
            json!({"idToken": {"idToken": "X", "type": "ISO14443"}, "remoteStartId": 1}),
            "transactions/start",
        ),
        (
            "ReserveNow",
            json!({"id": 1, "expiryDateTime": "2030-01-01T00:00:00Z", "idToken": {"idToken": "X", "type": "ISO14443"}}),
            "reservations",
        ),
        (
            "CertificateSigned",
            json!({"certificateChain": "x"}),
            "certificate/renew",
        ),
        (
            "GetBaseReport",
            json!({"requestId": 1, "reportBase": "FullInventory"}),
            "reports",
        ),
    ] {
        let (status, body) = post(format!("{base}/stations/CP001/ocpp/{action}"), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{action}: {body}");
        assert_eq!(body["error"], "use_typed_endpoint", "{action}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(endpoint),
            "{action}: {body}"
        );
    }
    let quiet =
        tokio::time::timeout(Duration::from_millis(200), station.next_frame("a CALL")).await;
    assert!(quiet.is_err(), "something was sent: {quiet:?}");

    // A01 through its typed endpoint: the password goes to the station, never to the log.
    let rotate = tokio::spawn(post(
        format!("{base}/stations/CP001/password/rotate"),
        json!({}),
    ));
    let request = accept_set_variables(&mut station).await;
    let password = request.set_variable_data[0].attribute_value.clone();
    assert!(password.len() >= 16);
    let (status, body) = rotate.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["rotated"], true);
    let log = csms.server.store.commands(&sid("CP001"), 10).await.unwrap();
    let entry = log.iter().find(|c| c.action == "SetVariables").unwrap();
    assert!(!entry.request.contains(&password), "{}", entry.request);
    assert!(entry.request.contains("<redacted>"), "{}", entry.request);
    // The new password is the one the CSMS now expects.
    station.close().await;
    let mut options = ws_options(&csms, "CP001");
    options = options.basic("CP001", password.clone());
    connect(&options).await.close().await;
}

/// `connectionData` that is not an object (or not a NetworkConnectionProfileType) is a 400 that
/// names it; it used to be indexed into and panicked the request.
#[tokio::test]
async fn a05_connection_data_that_is_not_a_profile_is_400_not_a_panic() {
    let csms = start(&[StationSpec::new("CP001", 1)], |_| {}).await;
    let base = format!("http://{}/api/v1", csms.server.http_addr.unwrap());
    let admin = csms.server.initial_admin_key.clone().unwrap();
    let http = Client::builder().no_proxy().build().unwrap();
    for connection_data in [
        json!([]),
        json!("wss://x"),
        json!(7),
        json!({"ocppVersion": "OCPP20"}),
    ] {
        let response = http
            .post(format!("{base}/stations/CP001/security-profile"))
            .bearer_auth(&admin)
            .json(&json!({"securityProfile": 2, "configurationSlot": 1, "connectionData": connection_data}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{connection_data}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("connectionData"),
            "{body}"
        );
    }
}
