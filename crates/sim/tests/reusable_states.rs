//! The simulator's reusable states (Part 6 section 18) against a stub CSMS: what the station
//! sends, in which order and with which key fields, and which CSMS answers fail which tool
//! validation. No unicharge server is involved: the stub records every CALL, answers it with a
//! fixed schema-valid response, and sends the CSMS CALLs a stub operator asks for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::{SinkExt, StreamExt};
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::rsa::Rsa;
use openssl::sha::sha256;
use openssl::x509::extension::BasicConstraints;
use openssl::x509::{X509Builder, X509NameBuilder, X509NameRef, X509Req, X509};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use unicharge_ocpp::v201::{
    GetCertificateIdUseEnumType, HashAlgorithmEnumType, IdTokenEnumType,
    InstallCertificateUseEnumType,
};
use unicharge_sim::octt::operator::{Operator, OperatorAction};
use unicharge_sim::octt::states::{self, MockEv, Session, TxState};
use unicharge_sim::octt::{CaseError, Target};
use unicharge_sim::station::Station;

// ---------------------------------------------------------------------------------------------
// Stub CSMS
// ---------------------------------------------------------------------------------------------

/// Overrides the stub's answer to a station CALL: `Some(payload)` replaces the default.
type AnswerFn = dyn Fn(&str, &Value) -> Option<Value> + Send + Sync;
/// A CALL the stub sends after answering a station CALL, given (action, payload, all CALLs so
/// far).
type FollowUpFn = dyn Fn(&str, &Value, &[(String, Value)]) -> Option<(String, Value)> + Send + Sync;

struct Command {
    action: String,
    payload: Value,
    reply: oneshot::Sender<Value>,
}

#[derive(Default)]
struct StubOptions {
    answer: Option<Box<AnswerFn>>,
    follow_up: Option<Box<FollowUpFn>>,
}

struct StubCsms {
    url: String,
    /// Every CALL the station sent: (action, payload).
    calls: Arc<Mutex<Vec<(String, Value)>>>,
    /// The station's answers to the stub's CALLs: (action of the CALL, CALLRESULT payload).
    results: Arc<Mutex<Vec<(String, Value)>>>,
    commands: mpsc::UnboundedSender<Command>,
    /// How many answers `results` holds (the station answers without waiting for the stub).
    answered: watch::Receiver<usize>,
}

impl StubCsms {
    async fn start(options: StubOptions) -> StubCsms {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/ocpp", listener.local_addr().unwrap());
        let calls = Arc::new(Mutex::new(Vec::new()));
        let results = Arc::new(Mutex::new(Vec::new()));
        let (commands, rx) = mpsc::unbounded_channel();
        let (count, answered) = watch::channel(0);
        tokio::spawn(serve(
            listener,
            options,
            calls.clone(),
            results.clone(),
            count,
            rx,
        ));
        StubCsms {
            url,
            calls,
            results,
            commands,
            answered,
        }
    }

    fn target(&self) -> Target {
        let mut target = Target::new("CP-STATES");
        target.ws_url = Some(self.url.clone());
        target.password = Some("a-password-of-16chars".into());
        target.timeout = Duration::from_secs(5);
        target
    }

    fn operator(&self) -> Arc<StubOperator> {
        Arc::new(StubOperator {
            commands: self.commands.clone(),
            performed: Mutex::new(Vec::new()),
            mutate: None,
            fail: None,
        })
    }

    fn calls(&self) -> Vec<(String, Value)> {
        self.calls.lock().unwrap().clone()
    }

    /// The station's answers to the stub's CALLs, once there are `n` of them.
    async fn results(&self, n: usize) -> Vec<(String, Value)> {
        let mut answered = self.answered.clone();
        tokio::time::timeout(Duration::from_secs(5), answered.wait_for(|c| *c >= n))
            .await
            .expect("the station answers the stub's CALLs")
            .unwrap();
        self.results.lock().unwrap().clone()
    }

    /// One line per CALL the station sent from `from` on.
    fn summary_from(&self, from: usize) -> Vec<String> {
        self.calls()[from..]
            .iter()
            .map(|(action, payload)| summarize(action, payload))
            .collect()
    }
}

// The handshake callback's error type is tungstenite's (large) ErrorResponse.
#[allow(clippy::result_large_err)]
async fn serve(
    listener: TcpListener,
    options: StubOptions,
    calls: Arc<Mutex<Vec<(String, Value)>>>,
    results: Arc<Mutex<Vec<(String, Value)>>>,
    answered: watch::Sender<usize>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let (tcp, _) = listener.accept().await.unwrap();
    let callback = |_request: &Request, mut response: Response| {
        response.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("ocpp2.0.1"),
        );
        Ok(response)
    };
    let mut ws = tokio_tungstenite::accept_hdr_async(tcp, callback)
        .await
        .unwrap();
    let mut pending: HashMap<String, (String, Option<oneshot::Sender<Value>>)> = HashMap::new();
    let mut next_id = 0u64;
    let mut commands_open = true;
    loop {
        let mut outgoing: Vec<(String, Value, Option<oneshot::Sender<Value>>)> = Vec::new();
        tokio::select! {
            message = ws.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text.to_string(),
                    Some(Ok(_)) => continue,
                    _ => break,
                };
                let frame: Value = serde_json::from_str(&text).unwrap();
                let id = frame[1].as_str().unwrap().to_string();
                match frame[0].as_i64() {
                    Some(2) => {
                        let action = frame[2].as_str().unwrap().to_string();
                        let payload = frame[3].clone();
                        let history = {
                            let mut calls = calls.lock().unwrap();
                            calls.push((action.clone(), payload.clone()));
                            calls.clone()
                        };
                        let answer = options
                            .answer
                            .as_ref()
                            .and_then(|f| f(&action, &payload))
                            .unwrap_or_else(|| default_answer(&action, &payload));
                        ws.send(Message::Text(json!([3, id, answer]).to_string().into()))
                            .await
                            .unwrap();
                        if let Some(follow_up) = &options.follow_up {
                            if let Some((action, payload)) = follow_up(&action, &payload, &history) {
                                outgoing.push((action, payload, None));
                            }
                        }
                    }
                    Some(3) | Some(4) => {
                        if let Some((action, reply)) = pending.remove(&id) {
                            let payload = if frame[0] == 3 {
                                frame[2].clone()
                            } else {
                                json!({ "CALLERROR": frame[2] })
                            };
                            let n = {
                                let mut results = results.lock().unwrap();
                                results.push((action, payload.clone()));
                                results.len()
                            };
                            answered.send_replace(n);
                            if let Some(reply) = reply {
                                let _ = reply.send(payload);
                            }
                        }
                    }
                    _ => panic!("the station sent {text}"),
                }
            }
            command = commands.recv(), if commands_open => match command {
                Some(c) => outgoing.push((c.action, c.payload, Some(c.reply))),
                None => commands_open = false,
            },
        }
        for (action, payload, reply) in outgoing {
            next_id += 1;
            let id = format!("csms-{next_id}");
            ws.send(Message::Text(
                json!([2, id, action, payload]).to_string().into(),
            ))
            .await
            .unwrap();
            pending.insert(id, (action, reply));
        }
    }
}

/// Accepted everywhere; `idTokenInfo.status` Accepted where an idToken was sent.
fn default_answer(action: &str, payload: &Value) -> Value {
    let now = chrono::Utc::now().to_rfc3339();
    match action {
        "BootNotification" => json!({"currentTime": now, "interval": 300, "status": "Accepted"}),
        "Heartbeat" => json!({ "currentTime": now }),
        "Authorize" => json!({"idTokenInfo": {"status": "Accepted"}}),
        "TransactionEvent" if payload.get("idToken").is_some() => {
            json!({"idTokenInfo": {"status": "Accepted"}})
        }
        "SignCertificate" | "NotifyEVChargingNeeds" | "NotifyEVChargingSchedule" => {
            json!({"status": "Accepted"})
        }
        _ => json!({}),
    }
}

/// The key fields of one station CALL.
fn summarize(action: &str, p: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or("?").to_string();
    match action {
        "Authorize" => format!(
            "Authorize {}/{}",
            s(&p["idToken"]["idToken"]),
            s(&p["idToken"]["type"])
        ),
        "StatusNotification" => format!(
            "StatusNotification {} {}/{}",
            s(&p["connectorStatus"]),
            p["evseId"],
            p["connectorId"]
        ),
        "NotifyEvent" => {
            let e = &p["eventData"][0];
            format!(
                "NotifyEvent {} {}.{}={} {}/{}",
                s(&e["trigger"]),
                s(&e["component"]["name"]),
                s(&e["variable"]["name"]),
                s(&e["actualValue"]),
                e["component"]["evse"]["id"],
                e["component"]["evse"]["connectorId"]
            )
        }
        "TransactionEvent" => {
            let info = &p["transactionInfo"];
            let mut parts = vec![
                "TransactionEvent".to_string(),
                s(&p["eventType"]),
                s(&p["triggerReason"]),
                format!("seq={}", p["seqNo"]),
            ];
            if let Some(state) = info.get("chargingState") {
                parts.push(format!("state={}", s(state)));
            }
            if let Some(reason) = info.get("stoppedReason") {
                parts.push(format!("stopped={}", s(reason)));
            }
            if let Some(evse) = p.get("evse") {
                parts.push(format!("evse={}/{}", evse["id"], evse["connectorId"]));
            }
            if let Some(token) = p.get("idToken") {
                parts.push(format!("idToken={}", s(&token["idToken"])));
            }
            parts.join(" ")
        }
        other => other.to_string(),
    }
}

/// The transactionIds of the TransactionEvents among `calls`.
fn transaction_ids(calls: &[(String, Value)]) -> Vec<String> {
    calls
        .iter()
        .filter(|(a, _)| a == "TransactionEvent")
        .map(|(_, p)| {
            p["transactionInfo"]["transactionId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Stub operator
// ---------------------------------------------------------------------------------------------

type MutateFn = dyn Fn(&str, &mut Value) + Send + Sync;

/// Makes the stub CSMS send the CALL an action stands for and returns the station's answer.
struct StubOperator {
    commands: mpsc::UnboundedSender<Command>,
    performed: Mutex<Vec<OperatorAction>>,
    /// Corrupts the CALL before the "CSMS" sends it.
    mutate: Option<Box<MutateFn>>,
    /// Report this error instead of acting.
    fail: Option<String>,
}

impl StubOperator {
    fn mutating(
        stub: &StubCsms,
        f: impl Fn(&str, &mut Value) + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(StubOperator {
            commands: stub.commands.clone(),
            performed: Mutex::new(Vec::new()),
            mutate: Some(Box::new(f)),
            fail: None,
        })
    }

    fn performed(&self) -> Vec<OperatorAction> {
        self.performed.lock().unwrap().clone()
    }
}

#[async_trait]
impl Operator for StubOperator {
    async fn perform(&self, _station_id: &str, action: OperatorAction) -> Result<Value, String> {
        self.performed.lock().unwrap().push(action.clone());
        if let Some(e) = &self.fail {
            return Err(e.clone());
        }
        let (name, mut payload) = match action {
            OperatorAction::Ocpp { action, payload } => (action, payload),
            OperatorAction::ChangeAvailability {
                operational_status,
                evse_id,
                connector_id,
            } => {
                let mut payload = json!({ "operationalStatus": operational_status });
                if let Some(id) = evse_id {
                    payload["evse"] = json!({ "id": id });
                    if let Some(c) = connector_id {
                        payload["evse"]["connectorId"] = json!(c);
                    }
                }
                ("ChangeAvailability".to_string(), payload)
            }
            OperatorAction::RenewStationCertificate => (
                "TriggerMessage".to_string(),
                json!({ "requestedMessage": "SignChargingStationCertificate" }),
            ),
            OperatorAction::InstallCertificate {
                certificate_type,
                certificate,
            } => (
                "InstallCertificate".to_string(),
                json!({"certificateType": certificate_type, "certificate": certificate}),
            ),
            OperatorAction::GetInstalledCertificateIds { certificate_types } => (
                "GetInstalledCertificateIds".to_string(),
                match certificate_types {
                    Some(types) => json!({ "certificateType": types }),
                    None => json!({}),
                },
            ),
            other => return Err(format!("the stub cannot {other:?}")),
        };
        if let Some(mutate) = &self.mutate {
            mutate(&name, &mut payload);
        }
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command {
                action: name,
                payload,
                reply,
            })
            .map_err(|_| "the stub CSMS is gone".to_string())?;
        answer
            .await
            .map_err(|_| "the station never answered".to_string())
    }
}

fn as_operator(op: &Arc<StubOperator>) -> Arc<dyn Operator> {
    op.clone()
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

async fn connect(stub: &StubCsms) -> (Station, Target) {
    let target = stub.target();
    let station = target.connect().await.expect("connects to the stub");
    (station, target)
}

/// Connected and booted; returns the number of CALLs Booted sent.
async fn booted(stub: &StubCsms) -> (Station, Target, usize) {
    let (mut station, target) = connect(stub).await;
    states::booted(&mut station, &target).await.unwrap();
    let n = stub.calls().len();
    (station, target, n)
}

fn fail_message(result: Result<impl std::fmt::Debug, CaseError>) -> String {
    match result {
        Err(CaseError::Fail(message)) => message,
        other => panic!("expected a Fail, got {other:?}"),
    }
}

fn rsa_key() -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
}

fn name(cn: &str) -> openssl::x509::X509Name {
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
    name.build()
}

/// A certificate for `subject`'s key `public`, issued by (`issuer_name`, `issuer_key`).
fn certificate(
    subject: &X509NameRef,
    public: &PKey<Private>,
    issuer_name: &X509NameRef,
    issuer_key: &PKey<Private>,
    serial: u32,
    ca: bool,
) -> X509 {
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&BigNum::from_u32(serial).unwrap().to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(subject).unwrap();
    b.set_issuer_name(issuer_name).unwrap();
    b.set_pubkey(public).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
        .unwrap();
    if ca {
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
            .unwrap();
    }
    b.sign(issuer_key, MessageDigest::sha256()).unwrap();
    b.build()
}

fn self_signed(cn: &str, serial: u32) -> (PKey<Private>, X509) {
    let key = rsa_key();
    let n = name(cn);
    let cert = certificate(&n, &key, &n, &key, serial, true);
    (key, cert)
}

fn pem(cert: &X509) -> String {
    String::from_utf8(cert.to_pem().unwrap()).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// Transaction states
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn booted_sends_boot_then_connector_available() {
    let stub = StubCsms::start(StubOptions::default()).await;
    let (_station, _target, _) = booted(&stub).await;
    assert_eq!(
        stub.summary_from(0),
        [
            "BootNotification",
            "StatusNotification Available 1/1",
            "NotifyEvent Delta Connector.AvailabilityState=Available 1/1",
        ]
    );
}

/// Table 207 from scratch: EVDisconnected → EVConnectedPostSession → StopAuthorized →
/// EnergyTransferStarted → Authorized (Tables 202, 203 part 1 + 2, 205, 206, 207).
#[tokio::test]
async fn ev_disconnected_from_scratch_plays_a_whole_session() {
    let stub = StubCsms::start(StubOptions::default()).await;
    let (mut station, target, from) = booted(&stub).await;
    let mut session = Session::new(&target);
    states::ev_disconnected(&mut station, &target, &mut session)
        .await
        .unwrap();
    assert_eq!(
        stub.summary_from(from),
        [
            "Authorize OCTT-VALID-001/ISO14443",
            "TransactionEvent Started Authorized seq=0 evse=1/1 idToken=OCTT-VALID-001",
            "StatusNotification Occupied 1/1",
            "NotifyEvent Delta Connector.AvailabilityState=Occupied 1/1",
            "TransactionEvent Updated CablePluggedIn seq=1 state=EVConnected evse=1/1",
            "TransactionEvent Updated ChargingStateChanged seq=2 state=Charging",
            "TransactionEvent Updated StopAuthorized seq=3 idToken=OCTT-VALID-001",
            "TransactionEvent Updated ChargingStateChanged seq=4 state=EVConnected",
            "StatusNotification Available 1/1",
            "NotifyEvent Delta Connector.AvailabilityState=Available 1/1",
            "TransactionEvent Ended EVCommunicationLost seq=5 state=Idle stopped=EVDisconnected",
        ]
    );
    let ids = transaction_ids(&stub.calls());
    assert_eq!(ids.len(), 6);
    assert!(ids.iter().all(|id| *id == session.transaction_id));
    assert!(session.transaction_id.len() <= 36);
    assert!(session.ended && !session.ev_connected && !session.authorized);
    assert_eq!(session.state, Some(TxState::EvDisconnected));
    assert_eq!(session.seq_no, 6);
}

/// TC_E_03 order: EVConnectedPreSession (Started), then Authorized (Updated), then
/// EnergyTransferStarted part 2 only, EnergyTransferSuspended, then EVDisconnected from the
/// suspended state (StopAuthorized without a new Charging event).
#[tokio::test]
async fn ev_connected_first_then_authorized_charging_suspended_disconnected() {
    let stub = StubCsms::start(StubOptions::default()).await;
    let (mut station, target, from) = booted(&stub).await;
    let mut session = Session::new(&target);
    states::ev_connected_pre_session(&mut station, &target, &mut session)
        .await
        .unwrap();
    assert_eq!(session.state, Some(TxState::EvConnectedPreSession));
    states::authorized(&mut station, &target, &mut session)
        .await
        .unwrap();
    states::energy_transfer_started(&mut station, &target, &mut session)
        .await
        .unwrap();
    states::energy_transfer_suspended(&mut station, &target, &mut session)
        .await
        .unwrap();
    assert_eq!(session.state, Some(TxState::EnergyTransferSuspended));
    states::ev_disconnected(&mut station, &target, &mut session)
        .await
        .unwrap();
    assert_eq!(
        stub.summary_from(from),
        [
            "StatusNotification Occupied 1/1",
            "NotifyEvent Delta Connector.AvailabilityState=Occupied 1/1",
            "TransactionEvent Started CablePluggedIn seq=0 state=EVConnected evse=1/1",
            "Authorize OCTT-VALID-001/ISO14443",
            "TransactionEvent Updated Authorized seq=1 idToken=OCTT-VALID-001",
            "TransactionEvent Updated ChargingStateChanged seq=2 state=Charging",
            "TransactionEvent Updated ChargingStateChanged seq=3 state=SuspendedEV",
            "TransactionEvent Updated StopAuthorized seq=4 idToken=OCTT-VALID-001",
            "TransactionEvent Updated ChargingStateChanged seq=5 state=EVConnected",
            "StatusNotification Available 1/1",
            "NotifyEvent Delta Connector.AvailabilityState=Available 1/1",
            "TransactionEvent Ended EVCommunicationLost seq=6 state=Idle stopped=EVDisconnected",
        ]
    );
}

/// Authorized (Started), then EVConnectedPreSession is an Updated event (Table 201: "If State is
/// Authorized"), so EnergyTransferStarted skips part 1; StopAuthorized and
/// EVConnectedPostSession from there.
#[tokio::test]
async fn authorized_first_then_ev_connected_is_updated() {
    let stub = StubCsms::start(StubOptions::default()).await;
    let (mut station, target, from) = booted(&stub).await;
    let mut session = Session::new(&target).with_id_token("04A2B3C4", IdTokenEnumType::Iso15693);
    states::authorized(&mut station, &target, &mut session)
        .await
        .unwrap();
    states::ev_connected_pre_session(&mut station, &target, &mut session)
        .await
        .unwrap();
    states::energy_transfer_started(&mut station, &target, &mut session)
        .await
        .unwrap();
    states::stop_authorized(&mut station, &target, &mut session)
        .await
        .unwrap();
    states::ev_connected_post_session(&mut station, &target, &mut session)
        .await
        .unwrap();
    assert_eq!(
        stub.summary_from(from),
        [
            "Authorize 04A2B3C4/ISO15693",
            "TransactionEvent Started Authorized seq=0 evse=1/1 idToken=04A2B3C4",
            "StatusNotification Occupied 1/1",
            "NotifyEvent Delta Connector.AvailabilityState=Occupied 1/1",
            "TransactionEvent Updated CablePluggedIn seq=1 state=EVConnected evse=1/1",
            "TransactionEvent Updated ChargingStateChanged seq=2 state=Charging",
            "TransactionEvent Updated StopAuthorized seq=3 idToken=04A2B3C4",
            "TransactionEvent Updated ChargingStateChanged seq=4 state=EVConnected",
        ]
    );
    assert!(session.ongoing() && session.ev_connected && !session.authorized);
    assert_eq!(session.state, Some(TxState::EvConnectedPostSession));
}

/// StopAuthorized on a fresh session runs EnergyTransferStarted (and so Authorized) first.
#[tokio::test]
async fn stop_authorized_runs_its_prerequisites() {
    let stub = StubCsms::start(StubOptions::default()).await;
    let (mut station, target, from) = booted(&stub).await;
    let mut session = Session::new(&target);
    states::stop_authorized(&mut station, &target, &mut session)
        .await
        .unwrap();
    let summary = stub.summary_from(from);
    assert_eq!(summary.len(), 7);
    assert_eq!(summary[0], "Authorize OCTT-VALID-001/ISO14443");
    assert_eq!(
        summary[6],
        "TransactionEvent Updated StopAuthorized seq=3 idToken=OCTT-VALID-001"
    );
}

/// After EVDisconnected ended the transaction, the next state starts a new one: new id,
/// seqNo from 0, eventType Started.
#[tokio::test]
async fn a_new_transaction_after_ev_disconnected() {
    let stub = StubCsms::start(StubOptions::default()).await;
    let (mut station, target, _) = booted(&stub).await;
    let mut session = Session::new(&target);
    states::ev_disconnected(&mut station, &target, &mut session)
        .await
        .unwrap();
    let first = session.transaction_id.clone();
    let from = stub.calls().len();
    states::energy_transfer_started(&mut station, &target, &mut session)
        .await
        .unwrap();
    assert_ne!(session.transaction_id, first);
    assert_eq!(
        stub.summary_from(from),
        [
            "Authorize OCTT-VALID-001/ISO14443",
            "TransactionEvent Started Authorized seq=0 evse=1/1 idToken=OCTT-VALID-001",
            "StatusNotification Occupied 1/1",
            "NotifyEvent Delta Connector.AvailabilityState=Occupied 1/1",
            "TransactionEvent Updated CablePluggedIn seq=1 state=EVConnected evse=1/1",
            "TransactionEvent Updated ChargingStateChanged seq=2 state=Charging",
        ]
    );
    let ids = transaction_ids(&stub.calls()[from..]);
    assert!(ids.iter().all(|id| *id == session.transaction_id));
}

#[tokio::test]
async fn authorize_answered_invalid_fails_step_2() {
    let stub = StubCsms::start(StubOptions {
        answer: Some(Box::new(|action, _| {
            (action == "Authorize").then(|| json!({"idTokenInfo": {"status": "Invalid"}}))
        })),
        ..StubOptions::default()
    })
    .await;
    let (mut station, target, from) = booted(&stub).await;
    let mut session = Session::new(&target);
    let message = fail_message(states::authorized(&mut station, &target, &mut session).await);
    assert_eq!(
        message,
        "AuthorizeResponse.idTokenInfo.status must be Accepted, was Invalid"
    );
    // The case stops at the failed validation: no TransactionEvent follows.
    assert_eq!(
        stub.summary_from(from),
        ["Authorize OCTT-VALID-001/ISO14443"]
    );
    assert!(!session.authorized && !session.started);

    // The same failure surfaces from a state that needs Authorized.
    let message = fail_message(states::ev_disconnected(&mut station, &target, &mut session).await);
    assert!(
        message.contains("AuthorizeResponse.idTokenInfo.status"),
        "{message}"
    );
}

#[tokio::test]
async fn transaction_event_answered_blocked_fails_step_4() {
    let stub = StubCsms::start(StubOptions {
        answer: Some(Box::new(|action, _| {
            (action == "TransactionEvent").then(|| json!({"idTokenInfo": {"status": "Blocked"}}))
        })),
        ..StubOptions::default()
    })
    .await;
    let (mut station, target, _) = booted(&stub).await;
    let mut session = Session::new(&target);
    let message = fail_message(states::authorized(&mut station, &target, &mut session).await);
    assert_eq!(
        message,
        "TransactionEventResponse.idTokenInfo.status must be Accepted, was Blocked"
    );
}

/// Table 205's validation: a StopAuthorized answer without idTokenInfo fails.
#[tokio::test]
async fn stop_authorized_answer_without_id_token_info_fails() {
    let stub = StubCsms::start(StubOptions {
        answer: Some(Box::new(|action, payload| {
            (action == "TransactionEvent" && payload["triggerReason"] == "StopAuthorized")
                .then(|| json!({}))
        })),
        ..StubOptions::default()
    })
    .await;
    let (mut station, target, _) = booted(&stub).await;
    let mut session = Session::new(&target);
    let message = fail_message(states::stop_authorized(&mut station, &target, &mut session).await);
    assert_eq!(
        message,
        "TransactionEventResponse.idTokenInfo.status must be Accepted, was absent"
    );
}

// ---------------------------------------------------------------------------------------------
// CSMS-triggered states
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn reserved_answers_and_reports_the_connector_reserved() {
    let stub = StubCsms::start(StubOptions::default()).await;
    let (mut station, target, from) = booted(&stub).await;
    let operator = stub.operator();
    let mut session = Session::new(&target);
    let request = states::reserved(&mut station, &target, as_operator(&operator), &mut session)
        .await
        .unwrap();
    assert_eq!(request.evse_id, Some(1));
    assert_eq!(session.reservation_id, Some(request.id));
    match &operator.performed()[..] {
        [OperatorAction::Ocpp { action, payload }] => {
            assert_eq!(action, "ReserveNow");
            assert_eq!(payload["evseId"], 1);
            assert_eq!(payload["idToken"]["idToken"], "OCTT-VALID-001");
            assert_eq!(payload["idToken"]["type"], "ISO14443");
            assert!(payload.get("connectorType").is_none());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        stub.results(1).await,
        [("ReserveNow".to_string(), json!({"status": "Accepted"}))]
    );
    assert_eq!(
        stub.summary_from(from),
        [
            "StatusNotification Reserved 1/1",
            "NotifyEvent Delta Connector.AvailabilityState=Reserved 1/1",
        ]
    );
}

#[tokio::test]
async fn reserved_with_a_connector_type_fails() {
    let stub = StubCsms::start(StubOptions::default()).await;
    let (mut station, target, from) = booted(&stub).await;
    let operator = StubOperator::mutating(&stub, |_, payload| {
        payload["connectorType"] = json!("cType2");
    });
    let mut session = Session::new(&target);
    let message = fail_message(
        states::reserved(&mut station, &target, as_operator(&operator), &mut session).await,
    );
    assert_eq!(
        message,
        "ReserveNowRequest.connectorType must be omitted, was cType2"
    );
    // The OCTT still answered (Accepted), but reported nothing after the failed validation.
    assert_eq!(stub.results(1).await.len(), 1);
    assert!(stub.summary_from(from).is_empty());
}

#[tokio::test]
async fn reserved_for_another_id_token_or_evse_fails() {
    let stub = StubCsms::start(StubOptions::default()).await;
    let (mut station, target, _) = booted(&stub).await;
    let mut session = Session::new(&target);
    let operator = StubOperator::mutating(&stub, |_, payload| {
        payload["idToken"]["idToken"] = json!("SOMEONE-ELSE");
    });
    let message = fail_message(
        states::reserved(&mut station, &target, as_operator(&operator), &mut session).await,
    );
    assert_eq!(
        message,
        "ReserveNowRequest.idToken.idToken must be \"OCTT-VALID-001\", was \"SOMEONE-ELSE\""
    );
    let operator = StubOperator::mutating(&stub, |_, payload| {
        payload["evseId"] = json!(2);
    });
    let message = fail_message(
        states::reserved(&mut station, &target, as_operator(&operator), &mut session).await,
    );
    assert_eq!(message, "ReserveNowRequest.evseId must be 1, was Some(2)");
}

#[tokio::test]
async fn unavailable_answers_and_reports_the_connector_unavailable() {
    let stub = StubCsms::start(StubOptions::default()).await;
    let (mut station, target, from) = booted(&stub).await;
    let operator = stub.operator();
    let request = states::unavailable(&mut station, &target, as_operator(&operator), 1, 1)
        .await
        .unwrap();
    assert_eq!(request.evse.as_ref().map(|e| e.id), Some(1));
    assert_eq!(
        operator.performed(),
        [OperatorAction::ChangeAvailability {
            operational_status: "Inoperative".into(),
            evse_id: Some(1),
            connector_id: None,
        }]
    );
    assert_eq!(
        stub.results(1).await,
        [(
            "ChangeAvailability".to_string(),
            json!({"status": "Accepted"})
        )]
    );
    assert_eq!(
        stub.summary_from(from),
        [
            "StatusNotification Unavailable 1/1",
            "NotifyEvent Delta Connector.AvailabilityState=Unavailable 1/1",
        ]
    );
}

#[tokio::test]
async fn unavailable_with_a_connector_or_operative_fails() {
    let stub = StubCsms::start(StubOptions::default()).await;
    let (mut station, target, _) = booted(&stub).await;
    let operator = StubOperator::mutating(&stub, |_, payload| {
        payload["evse"]["connectorId"] = json!(1);
    });
    let message = fail_message(
        states::unavailable(&mut station, &target, as_operator(&operator), 1, 1).await,
    );
    assert_eq!(
        message,
        "ChangeAvailabilityRequest.evse.connectorId must be omitted, was Some(1)"
    );
    let operator = StubOperator::mutating(&stub, |_, payload| {
        payload["operationalStatus"] = json!("Operative");
    });
    let message = fail_message(
        states::unavailable(&mut station, &target, as_operator(&operator), 1, 1).await,
    );
    assert_eq!(
        message,
        "ChangeAvailabilityRequest.operationalStatus must be Inoperative, was Operative"
    );
}

/// An operator that reports an error fails the state at once (not after the station's
/// timeout), naming the operator.
#[tokio::test]
async fn an_operator_error_fails_the_state() {
    let stub = StubCsms::start(StubOptions::default()).await;
    let (mut station, target, _) = booted(&stub).await;
    let operator = Arc::new(StubOperator {
        commands: stub.commands.clone(),
        performed: Mutex::new(Vec::new()),
        mutate: None,
        fail: Some("HTTP 404: unknown station".into()),
    });
    let started = std::time::Instant::now();
    let message = fail_message(
        states::unavailable(&mut station, &target, as_operator(&operator), 1, 1).await,
    );
    assert_eq!(
        message,
        "the operator could not have the CSMS send ChangeAvailabilityRequest: HTTP 404: unknown \
         station"
    );
    assert!(started.elapsed() < target.timeout);
}

#[tokio::test]
async fn get_installed_certificates_answers_with_the_configured_hash_data() {
    let stub = StubCsms::start(StubOptions::default()).await;
    let (mut station, target, _) = booted(&stub).await;
    let (key, root) = self_signed("CSMS Root", 0x00ab_cdef);
    let operator = stub.operator();
    let entry = states::get_installed_certificates(
        &mut station,
        &target,
        as_operator(&operator),
        GetCertificateIdUseEnumType::CsmsRootCertificate,
        &pem(&root),
    )
    .await
    .unwrap();
    match &operator.performed()[..] {
        [OperatorAction::GetInstalledCertificateIds { certificate_types }] => {
            assert_eq!(
                certificate_types.as_deref(),
                Some(&["CSMSRootCertificate".to_string()][..])
            );
        }
        other => panic!("{other:?}"),
    }
    // The hash data, computed independently: SHA-256 of the issuer's DER name, of the
    // issuer's RSAPublicKey (the subjectPublicKey bits), and the serial in hex.
    let hash = &entry.certificate_hash_data;
    assert_eq!(hash.hash_algorithm, HashAlgorithmEnumType::Sha256);
    assert_eq!(
        hash.issuer_name_hash,
        hex(&sha256(&root.issuer_name().to_der().unwrap()))
    );
    assert_eq!(
        hash.issuer_key_hash,
        hex(&sha256(
            &key.rsa().unwrap().public_key_to_der_pkcs1().unwrap()
        ))
    );
    assert_eq!(hash.serial_number, "abcdef");
    let results = stub.results(1).await;
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].0, "GetInstalledCertificateIds");
    assert_eq!(
        results[0].1,
        json!({
            "status": "Accepted",
            "certificateHashDataChain": [{
                "certificateType": "CSMSRootCertificate",
                "certificateHashData": {
                    "hashAlgorithm": "SHA256",
                    "issuerNameHash": hash.issuer_name_hash,
                    "issuerKeyHash": hash.issuer_key_hash,
                    "serialNumber": "abcdef",
                },
            }],
        })
    );
}

#[tokio::test]
async fn get_installed_certificates_of_another_type_fails() {
    let stub = StubCsms::start(StubOptions::default()).await;
    let (mut station, target, _) = booted(&stub).await;
    let (_, root) = self_signed("CSMS Root", 7);
    let operator = StubOperator::mutating(&stub, |_, payload| {
        payload["certificateType"] = json!(["V2GRootCertificate", "CSMSRootCertificate"]);
    });
    let message = fail_message(
        states::get_installed_certificates(
            &mut station,
            &target,
            as_operator(&operator),
            GetCertificateIdUseEnumType::CsmsRootCertificate,
            &pem(&root),
        )
        .await,
    );
    assert_eq!(
        message,
        "GetInstalledCertificateIdsRequest.certificateType must be [CSMSRootCertificate], was \
         [\"V2GRootCertificate\", \"CSMSRootCertificate\"]"
    );
}

/// Hash data of a certificate whose issuer follows it in the PEM: the issuer's name and key.
#[test]
fn certificate_hash_data_uses_the_issuer_that_follows() {
    let (ca_key, ca) = self_signed("Sub CA", 1);
    let leaf_key = rsa_key();
    let leaf = certificate(
        &name("leaf"),
        &leaf_key,
        ca.subject_name(),
        &ca_key,
        0x0102,
        false,
    );
    let hash = states::certificate_hash_data(&format!("{}{}", pem(&leaf), pem(&ca))).unwrap();
    assert_eq!(
        hash.issuer_name_hash,
        hex(&sha256(&ca.subject_name().to_der().unwrap()))
    );
    assert_eq!(
        hash.issuer_key_hash,
        hex(&sha256(
            &ca_key.rsa().unwrap().public_key_to_der_pkcs1().unwrap()
        ))
    );
    assert_eq!(hash.serial_number, "0102");
    // Without its issuer, a certificate that is not self-signed has no issuerKeyHash.
    assert!(states::certificate_hash_data(&pem(&leaf)).is_err());
}

#[tokio::test]
async fn certificate_installed_accepts_the_configured_certificate() {
    let stub = StubCsms::start(StubOptions::default()).await;
    let (mut station, target, _) = booted(&stub).await;
    let (_, root) = self_signed("MO Root", 3);
    let operator = stub.operator();
    let request = states::certificate_installed(
        &mut station,
        &target,
        as_operator(&operator),
        InstallCertificateUseEnumType::MoRootCertificate,
        &pem(&root),
    )
    .await
    .unwrap();
    assert_eq!(request.certificate, pem(&root));
    assert_eq!(
        stub.results(1).await,
        [(
            "InstallCertificate".to_string(),
            json!({"status": "Accepted"})
        )]
    );
    match &operator.performed()[..] {
        [OperatorAction::InstallCertificate {
            certificate_type, ..
        }] => {
            assert_eq!(certificate_type, "MORootCertificate");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn certificate_installed_with_another_certificate_or_type_fails() {
    let stub = StubCsms::start(StubOptions::default()).await;
    let (mut station, target, _) = booted(&stub).await;
    let (_, root) = self_signed("MO Root", 3);
    let (_, other) = self_signed("Other Root", 4);
    let other_pem = pem(&other);
    let operator = StubOperator::mutating(&stub, move |_, payload| {
        payload["certificate"] = json!(other_pem);
    });
    let message = fail_message(
        states::certificate_installed(
            &mut station,
            &target,
            as_operator(&operator),
            InstallCertificateUseEnumType::MoRootCertificate,
            &pem(&root),
        )
        .await,
    );
    assert_eq!(
        message,
        "InstallCertificateRequest.certificate must be the configured MORootCertificate \
         certificate"
    );
    let operator = StubOperator::mutating(&stub, |_, payload| {
        payload["certificateType"] = json!("V2GRootCertificate");
    });
    let message = fail_message(
        states::certificate_installed(
            &mut station,
            &target,
            as_operator(&operator),
            InstallCertificateUseEnumType::MoRootCertificate,
            &pem(&root),
        )
        .await,
    );
    assert_eq!(
        message,
        "InstallCertificateRequest.certificateType must be MORootCertificate, was \
         V2GRootCertificate"
    );
}

/// The stub CA signs the CSR of a SignCertificateRequest and sends CertificateSigned.
fn signing_follow_up(certificate_type: Option<&'static str>) -> (Box<FollowUpFn>, X509) {
    let (ca_key, ca) = self_signed("Stub CSMS Root", 99);
    let ca_for_hook = ca.clone();
    let hook = move |action: &str, payload: &Value, _: &[(String, Value)]| {
        if action != "SignCertificate" {
            return None;
        }
        let csr = X509Req::from_pem(payload["csr"].as_str()?.as_bytes()).unwrap();
        let public = csr.public_key().unwrap();
        let mut b = X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&BigNum::from_u32(5).unwrap().to_asn1_integer().unwrap())
            .unwrap();
        b.set_subject_name(csr.subject_name()).unwrap();
        b.set_issuer_name(ca_for_hook.subject_name()).unwrap();
        b.set_pubkey(&public).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
            .unwrap();
        b.sign(&ca_key, MessageDigest::sha256()).unwrap();
        let chain = format!("{}{}", pem(&b.build()), pem(&ca_for_hook));
        let mut signed = json!({ "certificateChain": chain });
        if let Some(t) = certificate_type {
            signed["certificateType"] = json!(t);
        }
        Some(("CertificateSigned".to_string(), signed))
    };
    (Box::new(hook), ca)
}

#[tokio::test]
async fn renew_charging_station_certificate_sends_a_csr_and_accepts_the_certificate() {
    let (hook, ca) = signing_follow_up(Some("ChargingStationCertificate"));
    let stub = StubCsms::start(StubOptions {
        follow_up: Some(hook),
        ..StubOptions::default()
    })
    .await;
    let (mut station, target, from) = booted(&stub).await;
    let operator = stub.operator();
    let renewed =
        states::renew_charging_station_certificate(&mut station, &target, as_operator(&operator))
            .await
            .unwrap();
    assert_eq!(
        operator.performed(),
        [OperatorAction::RenewStationCertificate]
    );
    assert_eq!(stub.summary_from(from), ["SignCertificate"]);
    let (_, sign) = &stub.calls()[from];
    assert_eq!(sign["certificateType"], "ChargingStationCertificate");
    // RFC 2986 CSR in PEM, RSA ≥ 2048 bits, CN = station id, for the returned key.
    let csr_pem = sign["csr"].as_str().unwrap();
    assert!(csr_pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
    assert_eq!(csr_pem, renewed.csr_pem);
    let csr = X509Req::from_pem(csr_pem.as_bytes()).unwrap();
    let public = csr.public_key().unwrap();
    assert!(csr.verify(&public).unwrap());
    assert_eq!(public.id(), Id::RSA);
    assert!(public.bits() >= 2048);
    assert!(public.public_eq(&renewed.key));
    let cn = csr
        .subject_name()
        .entries_by_nid(Nid::COMMONNAME)
        .next()
        .unwrap()
        .data()
        .to_string()
        .unwrap();
    assert_eq!(cn, target.station_id);
    // Both CSMS CALLs were answered Accepted.
    assert_eq!(
        stub.results(2).await,
        [
            ("TriggerMessage".to_string(), json!({"status": "Accepted"})),
            (
                "CertificateSigned".to_string(),
                json!({"status": "Accepted"})
            ),
        ]
    );
    let leaf = X509::stack_from_pem(renewed.certificate_chain.as_bytes()).unwrap();
    assert!(leaf[0].verify(&ca.public_key().unwrap()).unwrap());
}

#[tokio::test]
async fn renew_without_certificate_type_fails() {
    let (hook, _) = signing_follow_up(None);
    let stub = StubCsms::start(StubOptions {
        follow_up: Some(hook),
        ..StubOptions::default()
    })
    .await;
    let (mut station, target, _) = booted(&stub).await;
    let operator = stub.operator();
    let message = fail_message(
        states::renew_charging_station_certificate(&mut station, &target, as_operator(&operator))
            .await,
    );
    assert_eq!(
        message,
        "CertificateSignedRequest.certificateType must be ChargingStationCertificate, was absent"
    );
}

#[tokio::test]
async fn renew_with_sign_certificate_rejected_or_wrong_trigger_fails() {
    let stub = StubCsms::start(StubOptions {
        answer: Some(Box::new(|action, _| {
            (action == "SignCertificate").then(|| json!({"status": "Rejected"}))
        })),
        ..StubOptions::default()
    })
    .await;
    let (mut station, target, _) = booted(&stub).await;
    let operator = stub.operator();
    let message = fail_message(
        states::renew_charging_station_certificate(&mut station, &target, as_operator(&operator))
            .await,
    );
    assert_eq!(
        message,
        "SignCertificateResponse.status must be Accepted, was Rejected"
    );
    let operator = StubOperator::mutating(&stub, |_, payload| {
        payload["requestedMessage"] = json!("SignV2GCertificate");
    });
    let message = fail_message(
        states::renew_charging_station_certificate(&mut station, &target, as_operator(&operator))
            .await,
    );
    assert_eq!(
        message,
        "TriggerMessageRequest.requestedMessage must be SignChargingStationCertificate, was \
         SignV2GCertificate"
    );
}

// ---------------------------------------------------------------------------------------------
// ISO15118SmartCharging
// ---------------------------------------------------------------------------------------------

/// After NotifyEVChargingNeeds the stub sends a TxProfile for the last transaction seen,
/// `periods` as (startPeriod, limit, phaseToUse).
fn tx_profile_follow_up(
    transaction_id: Option<&'static str>,
    periods: Vec<(i64, f64, Option<i64>)>,
) -> Box<FollowUpFn> {
    Box::new(move |action, _, history| {
        if action != "NotifyEVChargingNeeds" {
            return None;
        }
        let seen = history
            .iter()
            .rev()
            .find(|(a, _)| a == "TransactionEvent")
            .map(|(_, p)| p["transactionInfo"]["transactionId"].clone())
            .unwrap();
        let periods: Vec<Value> = periods
            .iter()
            .map(|(start, limit, phase)| {
                let mut p = json!({ "startPeriod": start, "limit": limit });
                if let Some(phase) = phase {
                    p["phaseToUse"] = json!(phase);
                }
                p
            })
            .collect();
        Some((
            "SetChargingProfile".to_string(),
            json!({
                "evseId": 1,
                "chargingProfile": {
                    "id": 11,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Absolute",
                    "transactionId": transaction_id.map_or(seen, |t| json!(t)),
                    "chargingSchedule": [{
                        "id": 21,
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": periods,
                    }],
                },
            }),
        ))
    })
}

#[tokio::test]
async fn iso15118_smart_charging_plays_table_210() {
    let stub = StubCsms::start(StubOptions {
        follow_up: Some(tx_profile_follow_up(
            None,
            vec![(0, 16.0, None), (1800, 32.0, None)],
        )),
        ..StubOptions::default()
    })
    .await;
    let (mut station, target, from) = booted(&stub).await;
    let mut session = Session::new(&target);
    let request =
        states::iso15118_smart_charging(&mut station, &target, &mut session, &MockEv::default())
            .await
            .unwrap();
    assert_eq!(
        request.charging_profile.transaction_id.as_deref(),
        Some(session.transaction_id.as_str())
    );
    // No transaction yet: EVConnectedPreSession and Authorized come first.
    assert_eq!(
        stub.summary_from(from),
        [
            "StatusNotification Occupied 1/1",
            "NotifyEvent Delta Connector.AvailabilityState=Occupied 1/1",
            "TransactionEvent Started CablePluggedIn seq=0 state=EVConnected evse=1/1",
            "Authorize OCTT-VALID-001/ISO14443",
            "TransactionEvent Updated Authorized seq=1 idToken=OCTT-VALID-001",
            "NotifyEVChargingNeeds",
            "NotifyEVChargingSchedule",
            "TransactionEvent Updated ChargingStateChanged seq=2 state=Charging",
        ]
    );
    let calls = stub.calls();
    let (_, needs) = &calls[from + 5];
    assert_eq!(needs["evseId"], 1);
    assert_eq!(needs["maxScheduleTuples"], 3);
    assert_eq!(
        needs["chargingNeeds"]["requestedEnergyTransfer"],
        "AC_three_phase"
    );
    let (_, schedule) = &calls[from + 6];
    assert_eq!(schedule["evseId"], 1);
    assert_eq!(schedule["chargingSchedule"]["id"], 21);
    let periods = &schedule["chargingSchedule"]["chargingSchedulePeriod"];
    assert_eq!(periods[1]["startPeriod"], 1800);
    assert_eq!(periods[1]["limit"].as_f64(), Some(32.0));
    assert_eq!(
        stub.results(1).await,
        [(
            "SetChargingProfile".to_string(),
            json!({"status": "Accepted"})
        )]
    );
}

#[tokio::test]
async fn iso15118_smart_charging_with_processing_then_profile() {
    let stub = StubCsms::start(StubOptions {
        answer: Some(Box::new(|action, _| {
            (action == "NotifyEVChargingNeeds").then(|| json!({"status": "Processing"}))
        })),
        follow_up: Some(tx_profile_follow_up(None, vec![(0, 10.0, None)])),
    })
    .await;
    let (mut station, target, _) = booted(&stub).await;
    let mut session = Session::new(&target);
    states::energy_transfer_started(&mut station, &target, &mut session)
        .await
        .unwrap();
    let seq_before = session.seq_no;
    states::iso15118_smart_charging(&mut station, &target, &mut session, &MockEv::default())
        .await
        .unwrap();
    assert_eq!(session.seq_no, seq_before + 1);
}

#[tokio::test]
async fn iso15118_smart_charging_validations() {
    // Wrong transactionId.
    let stub = StubCsms::start(StubOptions {
        follow_up: Some(tx_profile_follow_up(
            Some("not-the-tx"),
            vec![(0, 10.0, None)],
        )),
        ..StubOptions::default()
    })
    .await;
    let (mut station, target, _) = booted(&stub).await;
    let mut session = Session::new(&target);
    let message = fail_message(
        states::iso15118_smart_charging(&mut station, &target, &mut session, &MockEv::default())
            .await,
    );
    assert_eq!(
        message,
        format!(
            "SetChargingProfileRequest.chargingProfile.transactionId must be {:?}, was \
             Some(\"not-the-tx\")",
            session.transaction_id
        )
    );

    // Periods out of order (general tool validation 1).
    let stub = StubCsms::start(StubOptions {
        follow_up: Some(tx_profile_follow_up(
            None,
            vec![(600, 10.0, None), (0, 16.0, None)],
        )),
        ..StubOptions::default()
    })
    .await;
    let (mut station, target, _) = booted(&stub).await;
    let mut session = Session::new(&target);
    let message = fail_message(
        states::iso15118_smart_charging(&mut station, &target, &mut session, &MockEv::default())
            .await,
    );
    assert!(message.contains("increasing startPeriod"), "{message}");

    // phaseToUse with numberPhases absent (general tool validation 2).
    let stub = StubCsms::start(StubOptions {
        follow_up: Some(tx_profile_follow_up(None, vec![(0, 10.0, Some(1))])),
        ..StubOptions::default()
    })
    .await;
    let (mut station, target, _) = booted(&stub).await;
    let mut session = Session::new(&target);
    let message = fail_message(
        states::iso15118_smart_charging(&mut station, &target, &mut session, &MockEv::default())
            .await,
    );
    assert!(message.contains("phaseToUse"), "{message}");

    // NotifyEVChargingNeeds Rejected.
    let stub = StubCsms::start(StubOptions {
        answer: Some(Box::new(|action, _| {
            (action == "NotifyEVChargingNeeds").then(|| json!({"status": "Rejected"}))
        })),
        ..StubOptions::default()
    })
    .await;
    let (mut station, target, _) = booted(&stub).await;
    let mut session = Session::new(&target);
    let message = fail_message(
        states::iso15118_smart_charging(&mut station, &target, &mut session, &MockEv::default())
            .await,
    );
    assert_eq!(
        message,
        "NotifyEVChargingNeedsResponse.status must be Accepted or Processing, was Rejected"
    );
}
