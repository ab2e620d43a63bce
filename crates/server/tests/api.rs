//! The operator REST API, driven over real HTTP the way an operator's script would, against a
//! real server whose OCPP side talks to a simulated charging station.
//!
//! Covered: API keys and roles (401/403), the station registry (create, read, update, delete,
//! the live `connected` flag, passwords that work — or stop working — for real connections),
//! what stations reported (connectors, events, security events), the generic command endpoint
//! with every outcome in its status table, the command log, the OpenAPI document and Swagger UI,
//! `/health` and `/metrics`.
//!
//! Every test runs its own server on ephemeral loopback ports (plain ws only: no TLS material to
//! generate). Nothing sleeps except bounded polling for the live `connected` flag.

#[path = "common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use unicharge_core::api_keys::ApiRole;
use unicharge_core::credentials::check_password_policy;
use unicharge_ocpp::v201::{
    BootNotificationResponse, ConnectorStatusEnumType, GetVariablesRequest, HeartbeatRequest,
    RegistrationStatusEnumType, ResetEnumType, ResetRequest, ResetResponse,
};
use unicharge_ocpp::Frame;
use unicharge_server::Settings;
use unicharge_sim::octt::{states, Target};
use unicharge_sim::{ConnectError, ConnectOptions, Station};
use unicharge_store::ApiKeyRecord;

use common::{StationSpec, TestCsms, PASSWORD};

/// How long any single expected thing may take before a test fails.
const BOUND: Duration = Duration::from_secs(2);

/// A password that meets the BasicAuthPassword policy (16–40 identifierString characters).
const OTHER_PASSWORD: &str = "operator-Chosen-Password-02";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A running server with its HTTP port, and the admin key its first start printed.
struct Api {
    csms: TestCsms,
    base: String,
    admin: String,
    http: Client,
}

/// One HTTP answer: status, headers, the body as JSON (or as a JSON string when it is not JSON).
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    text: String,
}

impl Reply {
    async fn read(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response
            .text()
            .await
            .expect("the answer's body is readable");
        let body = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// Assert a success status; returns the JSON body.
    fn ok(self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text);
        self.body
    }

    /// Assert an error answer with this status and `error` code in the API's error body;
    /// returns the body.
    fn error(self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text);
        assert_eq!(
            self.content_type(),
            "application/json",
            "error answers are JSON: {}",
            self.text
        );
        assert_eq!(self.body["error"], code, "error code: {}", self.text);
        assert!(
            self.body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "an error body carries a message: {}",
            self.text
        );
        self.body
    }

    fn content_type(&self) -> String {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }
}

/// Send one request (free function so that it can run in a spawned task).
async fn send(
    http: &Client,
    method: Method,
    url: String,
    token: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let mut request = http.request(method.clone(), &url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {url} failed: {e}"));
    Reply::read(response).await
}

async fn start(stations: &[StationSpec]) -> Api {
    start_with(stations, |_| {}).await
}

/// A server with the HTTP port on, plain ws only, and adjusted settings.
async fn start_with(stations: &[StationSpec], adjust: impl FnOnce(&mut Settings)) -> Api {
    let csms = TestCsms::start_with(stations, |s| {
        s.csms.wss_listen = None;
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        adjust(s);
    })
    .await;
    let addr = csms.server.http_addr.expect("the HTTP port is on");
    let admin = csms
        .server
        .initial_admin_key
        .clone()
        .expect("the first start creates an admin key");
    let http = Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    Api {
        csms,
        base: format!("http://{addr}"),
        admin,
        http,
    }
}

impl Api {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        send(&self.http, method, self.url(path), token, body).await
    }

    /// GET with the admin key.
    async fn get(&self, path: &str) -> Reply {
        self.request(Method::GET, path, Some(&self.admin), None)
            .await
    }

    /// POST with the admin key.
    async fn post(&self, path: &str, body: Value) -> Reply {
        self.request(Method::POST, path, Some(&self.admin), Some(&body))
            .await
    }

    /// PATCH with the admin key.
    async fn patch(&self, path: &str, body: Value) -> Reply {
        self.request(Method::PATCH, path, Some(&self.admin), Some(&body))
            .await
    }

    /// DELETE with the admin key.
    async fn delete(&self, path: &str) -> Reply {
        self.request(Method::DELETE, path, Some(&self.admin), None)
            .await
    }

    /// `POST /api/v1/stations/{station}/ocpp/{action}` with `token`.
    async fn command_as(&self, token: &str, station: &str, action: &str, body: Value) -> Reply {
        self.request(
            Method::POST,
            &format!("/api/v1/stations/{station}/ocpp/{action}"),
            Some(token),
            Some(&body),
        )
        .await
    }

    async fn command(&self, station: &str, action: &str, body: Value) -> Reply {
        self.command_as(&self.admin, station, action, body).await
    }

    /// Send a command in a task, so that the simulated station can answer it meanwhile.
    fn spawn_command(
        &self,
        token: &str,
        station: &str,
        action: &str,
        body: Value,
    ) -> JoinHandle<Reply> {
        let http = self.http.clone();
        let url = self.url(&format!("/api/v1/stations/{station}/ocpp/{action}"));
        let token = token.to_string();
        tokio::spawn(async move { send(&http, Method::POST, url, Some(&token), Some(&body)).await })
    }

    /// A new API key with this role: its token and its record.
    async fn key(&self, role: ApiRole) -> (String, ApiKeyRecord) {
        unicharge_api::auth::create_key(self.csms.server.store.as_ref(), "test key", role)
            .await
            .unwrap_or_else(|e| panic!("creating a {role} key failed: {e:?}"))
    }

    /// The station as the API shows it (panics unless 200).
    async fn station(&self, id: &str) -> Value {
        self.get(&format!("/api/v1/stations/{id}"))
            .await
            .ok(StatusCode::OK)
    }

    /// Wait (bounded, in 10 ms steps) until the API shows the station (dis)connected.
    async fn wait_connected(&self, id: &str, connected: bool) {
        let deadline = Instant::now() + BOUND;
        loop {
            let station = self.station(id).await;
            if station["connected"] == connected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "GET /api/v1/stations/{id} still shows connected = {} after {BOUND:?}",
                station["connected"]
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn ws_options(&self, id: &str, password: &str) -> ConnectOptions {
        let mut options =
            ConnectOptions::new(format!("{}/{id}", self.csms.ws_base())).basic(id, password);
        options.timeout = Duration::from_secs(5);
        options
    }

    /// Connect a simulated station over ws with Basic `id:password`.
    async fn connect(&self, id: &str, password: &str) -> Station {
        let options = self.ws_options(id, password);
        Station::connect(&options)
            .await
            .unwrap_or_else(|e| panic!("{id} could not connect: {e}"))
    }

    /// The HTTP status the upgrade is refused with (panics if it is accepted).
    async fn refusal(&self, id: &str, password: &str) -> u16 {
        match Station::connect(&self.ws_options(id, password)).await {
            Err(ConnectError::Http(status)) => status,
            Err(other) => panic!("expected an HTTP refusal for {id}, got {other}"),
            Ok(_) => panic!("{id} was let in with password {password:?}"),
        }
    }

    /// Connect and play the OCTT's *Booted* state: boot (Accepted), StatusNotification
    /// Available and NotifyEvent AvailabilityState for EVSE 1 connector 1.
    async fn booted(&self, id: &str, password: &str) -> Station {
        let mut station = self.connect(id, password).await;
        states::booted(&mut station, &Target::new(id))
            .await
            .unwrap_or_else(|e| panic!("{id} did not boot: {e}"));
        station
    }
}

/// Send a BootNotification and return the CSMS's answer.
///
/// Each boot gets a message id never used before: the CSMS answers a CALL whose id and payload
/// it has already answered for this station (on any connection, as OCPP 2.0.1 Part 4 section
/// 4.1.3 allows) with the stored answer, as a retransmission. A new simulated connection numbers
/// its messages from `sim-1` again, so a second identical boot would get the first one's answer.
async fn boot(station: &mut Station, id: &str) -> BootNotificationResponse {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let message_id = format!("boot-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let frame = Frame::Call {
        id: message_id.clone(),
        action: "BootNotification".into(),
        payload: serde_json::to_value(states::boot_request(&Target::new(id))).unwrap(),
    };
    station.send_text(&frame.to_text()).await.unwrap();
    match station.await_answer(&message_id).await {
        Ok(Frame::CallResult { payload, .. }) => {
            serde_json::from_value(payload).expect("a BootNotificationResponse")
        }
        other => panic!("{id}'s boot was answered {other:?}"),
    }
}

/// Prove the CSMS sent the station nothing: a Heartbeat sent now is answered by the very next
/// frame (one connection's frames arrive in order, so an earlier CALL would come first).
async fn assert_nothing_sent(station: &mut Station, probe_id: &str) {
    station
        .send_text(&format!(r#"[2,"{probe_id}","Heartbeat",{{}}]"#))
        .await
        .unwrap();
    let frame = station
        .next_frame(&format!("the answer to {probe_id}"))
        .await
        .unwrap_or_else(|e| panic!("no answer to {probe_id}: {e}"));
    assert_eq!(
        frame.id(),
        probe_id,
        "the CSMS sent the station something: {frame:?}"
    );
}

fn reset(kind: &str) -> Value {
    json!({ "type": kind })
}

fn get_variables() -> Value {
    json!({"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]})
}

fn reset_accepted() -> ResetResponse {
    serde_json::from_value(json!({"status": "Accepted"})).unwrap()
}

// ---------------------------------------------------------------------------------------------
// 1. API keys: 401
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_request_without_an_api_key_is_refused_with_401_and_a_bearer_challenge() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    for (method, path, body) in [
        (Method::GET, "/api/v1/stations", None),
        (Method::GET, "/api/v1/stations/CP001", None),
        (Method::GET, "/api/v1/stations/CP001/commands", None),
        (
            Method::POST,
            "/api/v1/stations",
            Some(json!({"id": "CPNEW", "generatePassword": true})),
        ),
        (
            Method::POST,
            "/api/v1/stations/CP001/ocpp/Reset",
            Some(reset("Immediate")),
        ),
        (Method::DELETE, "/api/v1/stations/CP001", None),
    ] {
        let reply = api.request(method.clone(), path, None, body.as_ref()).await;
        let challenge = reply
            .headers
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        assert!(
            challenge
                .as_deref()
                .is_some_and(|c| c.starts_with("Bearer")),
            "{method} {path}: a 401 must carry a Bearer challenge, got {challenge:?}"
        );
        reply.error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    // Nothing was done on the unauthenticated requests' behalf.
    api.station("CP001").await;
    api.get("/api/v1/stations/CPNEW")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_station");
}

#[tokio::test]
async fn a_malformed_authorization_header_is_refused_with_401() {
    let api = start(&[]).await;
    let admin = api.admin.clone();
    for header in [
        "Bearer".to_string(),
        "Bearer ".to_string(),
        "Bearer nonsense".to_string(),
        "Bearer uc_".to_string(),
        "Bearer uc_short_secret".to_string(),
        format!("Basic {admin}"),
        // The right token without a scheme.
        admin.clone(),
        // The right token with something glued on.
        format!("Bearer {admin}x"),
    ] {
        let response = api
            .http
            .get(api.url("/api/v1/stations"))
            .header(AUTHORIZATION, &header)
            .send()
            .await
            .unwrap();
        let reply = Reply::read(response).await;
        assert!(
            reply.headers.contains_key(WWW_AUTHENTICATE),
            "{header:?}: a 401 carries a challenge"
        );
        reply.error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    // The admin key itself works, so the refusals above are about the header.
    api.get("/api/v1/stations").await.ok(StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_api_key_is_refused_with_401() {
    let api = start(&[]).await;
    // Well-formed, but no such key id.
    let unknown = format!("uc_{}_{}", "A".repeat(12), "b".repeat(32));
    api.request(Method::GET, "/api/v1/stations", Some(&unknown), None)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
    // The admin key's id with another secret.
    let mut forged = api.admin.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'a' { 'b' } else { 'a' });
    api.request(Method::GET, "/api/v1/stations", Some(&forged), None)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn a_revoked_api_key_is_refused_with_401() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let (token, record) = api.key(ApiRole::Operator).await;
    api.request(Method::GET, "/api/v1/stations", Some(&token), None)
        .await
        .ok(StatusCode::OK);
    assert!(api
        .csms
        .server
        .store
        .revoke_api_key(&record.id)
        .await
        .unwrap());
    api.request(Method::GET, "/api/v1/stations", Some(&token), None)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
    api.command_as(&token, "CP001", "Reset", reset("Immediate"))
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
    // Other keys are unaffected.
    api.get("/api/v1/stations").await.ok(StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// 2. Roles: 403
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_read_only_key_may_read_but_not_change_anything() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = api.booted("CP001", PASSWORD).await;
    let (ro, _) = api.key(ApiRole::ReadOnly).await;
    let read = |path: &'static str| {
        let ro = ro.clone();
        let api = &api;
        async move {
            api.request(Method::GET, path, Some(&ro), None)
                .await
                .ok(StatusCode::OK)
        }
    };
    assert!(read("/api/v1/stations").await.is_array());
    assert_eq!(read("/api/v1/stations/CP001").await["id"], "CP001");
    for path in [
        "/api/v1/stations/CP001/connectors",
        "/api/v1/stations/CP001/events",
        "/api/v1/stations/CP001/security-events",
        "/api/v1/stations/CP001/commands",
    ] {
        assert!(read(path).await.is_array(), "{path}");
    }

    let forbidden = [
        (
            Method::POST,
            "/api/v1/stations",
            Some(json!({"id": "CPNEW", "generatePassword": true})),
        ),
        (
            Method::PATCH,
            "/api/v1/stations/CP001",
            Some(json!({"registration": "Rejected"})),
        ),
        (Method::DELETE, "/api/v1/stations/CP001", None),
        (
            Method::POST,
            "/api/v1/stations/CP001/ocpp/Reset",
            Some(reset("Immediate")),
        ),
    ];
    for (method, path, body) in forbidden {
        api.request(method, path, Some(&ro), body.as_ref())
            .await
            .error(StatusCode::FORBIDDEN, "forbidden");
    }

    // Nothing changed: no new station, CP001 still there, still Accepted, still connected, and
    // the station was sent nothing.
    api.get("/api/v1/stations/CPNEW")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_station");
    let cp001 = api.station("CP001").await;
    assert_eq!(cp001["registration"], "Accepted");
    assert_eq!(cp001["connected"], true);
    assert_nothing_sent(&mut station, "probe-ro").await;
    assert_eq!(
        api.get("/api/v1/stations/CP001/commands")
            .await
            .ok(StatusCode::OK),
        json!([])
    );
}

#[tokio::test]
async fn an_operator_key_may_send_commands_and_manage_stations() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let (op, op_record) = api.key(ApiRole::Operator).await;
    let mut station = api.booted("CP001", PASSWORD).await;

    let pending = api.spawn_command(&op, "CP001", "Reset", reset("OnIdle"));
    let (id, request) = station.expect_call::<ResetRequest>().await.unwrap();
    assert_eq!(request.r#type, ResetEnumType::OnIdle);
    station
        .respond::<ResetRequest>(&id, &reset_accepted())
        .await
        .unwrap();
    assert_eq!(
        pending.await.unwrap().ok(StatusCode::OK),
        json!({"status": "Accepted"})
    );
    let log = api
        .get("/api/v1/stations/CP001/commands")
        .await
        .ok(StatusCode::OK);
    assert_eq!(log[0]["requestedBy"], op_record.id.as_str());

    let created = api
        .request(
            Method::POST,
            "/api/v1/stations",
            Some(&op),
            Some(&json!({"id": "CP002", "password": OTHER_PASSWORD})),
        )
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(created["station"]["id"], "CP002");
    api.request(
        Method::PATCH,
        "/api/v1/stations/CP002",
        Some(&op),
        Some(&json!({"registration": "Pending"})),
    )
    .await
    .ok(StatusCode::OK);
    let reply = api
        .request(Method::DELETE, "/api/v1/stations/CP002", Some(&op), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
}

// ---------------------------------------------------------------------------------------------
// 3. The station registry
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_created_station_gets_a_generated_password_that_a_real_station_can_use() {
    let api = start(&[]).await;
    let reply = api
        .post(
            "/api/v1/stations",
            json!({"id": "CPNEW", "generatePassword": true}),
        )
        .await;
    let created = reply.ok(StatusCode::CREATED);
    let password = created["password"]
        .as_str()
        .expect("the generated password is returned")
        .to_string();
    check_password_policy(&password).expect("the generated password meets the policy");
    let view = &created["station"];
    assert_eq!(view["id"], "CPNEW");
    assert_eq!(view["securityProfile"], 1);
    assert_eq!(view["registration"], "Accepted");
    assert_eq!(view["hasPassword"], true);
    assert_eq!(view["connected"], false);

    // Shown once: reading the station never shows it again.
    let shown = api.station("CPNEW").await;
    assert!(shown.get("password").is_none(), "{shown}");
    assert!(
        !shown.to_string().contains(&password),
        "the password leaks: {shown}"
    );
    let list = api.get("/api/v1/stations").await.ok(StatusCode::OK);
    assert!(!list.to_string().contains(&password));

    // A wrong password is refused; the generated one lets a real station in, and it boots.
    assert_eq!(api.refusal("CPNEW", OTHER_PASSWORD).await, 401);
    let station = api.booted("CPNEW", &password).await;
    let booted = api.station("CPNEW").await;
    assert_eq!(booted["connected"], true);
    assert_eq!(booted["model"], "unicharge-sim");
    assert_eq!(booted["vendorName"], "unicharge");
    assert_eq!(booted["lastBootReason"], "PowerUp");
    assert_eq!(booted["lastBootStatus"], "Accepted");
    assert!(booted["lastBootAt"].is_string(), "{booted}");
    drop(station);
}

#[tokio::test]
async fn a_station_created_with_a_chosen_password_can_connect_with_it() {
    let api = start(&[]).await;
    let created = api
        .post(
            "/api/v1/stations",
            json!({"id": "CP-chosen", "password": OTHER_PASSWORD, "registration": "Pending"}),
        )
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(
        created["password"],
        Value::Null,
        "a chosen password is not echoed"
    );
    assert_eq!(created["station"]["registration"], "Pending");
    let mut station = api.connect("CP-chosen", OTHER_PASSWORD).await;
    assert_eq!(
        boot(&mut station, "CP-chosen").await.status,
        RegistrationStatusEnumType::Pending
    );
}

#[tokio::test]
async fn creating_a_station_twice_is_409() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    // Provisioned by the bootstrap file.
    api.post(
        "/api/v1/stations",
        json!({"id": "CP001", "generatePassword": true}),
    )
    .await
    .error(StatusCode::CONFLICT, "station_exists");
    // Created through the API.
    api.post(
        "/api/v1/stations",
        json!({"id": "CP002", "password": OTHER_PASSWORD}),
    )
    .await
    .ok(StatusCode::CREATED);
    api.post(
        "/api/v1/stations",
        json!({"id": "CP002", "generatePassword": true}),
    )
    .await
    .error(StatusCode::CONFLICT, "station_exists");
    // The first registration stands: its password still works.
    let _station = api.booted("CP002", OTHER_PASSWORD).await;
    // And the bootstrap station's too.
    let _station = api.booted("CP001", PASSWORD).await;
}

#[tokio::test]
async fn creating_a_station_with_an_invalid_id_is_400() {
    let api = start(&[]).await;
    for id in [
        String::new(),
        "has space".into(),
        "slash/y".into(),
        "CP#1".into(),
        "Ümlaut".into(),
        "x".repeat(49),
    ] {
        api.post(
            "/api/v1/stations",
            json!({"id": id, "generatePassword": true}),
        )
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_station_id");
    }
    // 48 characters of the full alphabet is fine.
    let longest = format!("{}*-_=:+|@.", "a".repeat(39));
    assert_eq!(longest.len(), 48);
    api.post(
        "/api/v1/stations",
        json!({"id": longest, "generatePassword": true}),
    )
    .await
    .ok(StatusCode::CREATED);
    assert_eq!(
        api.get("/api/v1/stations")
            .await
            .ok(StatusCode::OK)
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_basic_auth_station_without_a_password_is_400() {
    let api = start(&[]).await;
    for profile in [None, Some(1), Some(2)] {
        let mut body = json!({"id": "CPX"});
        if let Some(p) = profile {
            body["securityProfile"] = json!(p);
        }
        api.post("/api/v1/stations", body)
            .await
            .error(StatusCode::BAD_REQUEST, "password_required");
    }
    api.get("/api/v1/stations/CPX")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_station");
    // Profile 3 authenticates with a client certificate: no password needed.
    let created = api
        .post(
            "/api/v1/stations",
            json!({"id": "CPX", "securityProfile": 3}),
        )
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(created["station"]["hasPassword"], false);
    assert_eq!(created["station"]["securityProfile"], 3);
    // Profiles other than 1–3 are not.
    for profile in [0, 4] {
        api.post(
            "/api/v1/stations",
            json!({"id": "CPY", "securityProfile": profile, "generatePassword": true}),
        )
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_security_profile");
    }
    api.post(
        "/api/v1/stations",
        json!({"id": "CPY", "generatePassword": true, "registration": "Maybe"}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_registration");
    api.get("/api/v1/stations/CPY")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_station");
}

#[tokio::test]
async fn a_weak_password_is_400() {
    let api = start(&[]).await;
    for password in [
        "short".to_string(),
        "a".repeat(15),
        "a".repeat(41),
        "has spaces in it, sixteen+".to_string(),
        "hash#is-not-allowed-here".to_string(),
        "ümlauts-are-not-allowed-x".to_string(),
    ] {
        let body = api
            .post(
                "/api/v1/stations",
                json!({"id": "CPW", "password": password}),
            )
            .await
            .error(StatusCode::BAD_REQUEST, "invalid_password");
        assert!(!body.to_string().contains(&password), "{body}");
    }
    api.get("/api/v1/stations/CPW")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_station");
    // The bounds themselves are fine.
    for (id, password) in [("CPW16", "a".repeat(16)), ("CPW40", "b".repeat(40))] {
        api.post("/api/v1/stations", json!({"id": id, "password": password}))
            .await
            .ok(StatusCode::CREATED);
    }
}

#[tokio::test]
async fn an_unknown_station_is_404_everywhere() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    for path in [
        "/api/v1/stations/CP404",
        "/api/v1/stations/CP404/connectors",
        "/api/v1/stations/CP404/events",
        "/api/v1/stations/CP404/security-events",
        "/api/v1/stations/CP404/commands",
        // Not even a valid station id.
        "/api/v1/stations/bad%20id",
    ] {
        api.get(path)
            .await
            .error(StatusCode::NOT_FOUND, "unknown_station");
    }
    api.patch(
        "/api/v1/stations/CP404",
        json!({"registration": "Accepted"}),
    )
    .await
    .error(StatusCode::NOT_FOUND, "unknown_station");
    api.delete("/api/v1/stations/CP404")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_station");
}

#[tokio::test]
async fn the_connected_flag_is_live() {
    let api = start(&[StationSpec::new("CP001", 1), StationSpec::new("CP002", 1)]).await;
    assert_eq!(api.station("CP001").await["connected"], false);

    let station = api.connect("CP001", PASSWORD).await;
    api.wait_connected("CP001", true).await;
    let list = api.get("/api/v1/stations").await.ok(StatusCode::OK);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let by_id = |id: &str| list.iter().find(|s| s["id"] == id).unwrap().clone();
    assert_eq!(by_id("CP001")["connected"], true);
    assert_eq!(by_id("CP002")["connected"], false);

    station.close().await;
    api.wait_connected("CP001", false).await;

    // Dropping the TCP connection without a close frame is noticed as well.
    let station = api.connect("CP001", PASSWORD).await;
    api.wait_connected("CP001", true).await;
    drop(station);
    api.wait_connected("CP001", false).await;
}

#[tokio::test]
async fn patching_the_registration_changes_the_answer_to_the_next_boot() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    for registration in ["Pending", "Rejected", "Accepted"] {
        let view = api
            .patch(
                "/api/v1/stations/CP001",
                json!({"registration": registration}),
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(view["registration"], registration);
        let mut station = api.connect("CP001", PASSWORD).await;
        let answer = boot(&mut station, "CP001").await;
        assert_eq!(answer.status.as_str(), registration);
        station.close().await;
        api.wait_connected("CP001", false).await;
    }
    api.patch("/api/v1/stations/CP001", json!({"registration": "Maybe"}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_registration");
    assert_eq!(api.station("CP001").await["registration"], "Accepted");
}

#[tokio::test]
async fn patching_the_security_profile_refuses_weaker_connections() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let view = api
        .patch("/api/v1/stations/CP001", json!({"securityProfile": 2}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(view["securityProfile"], 2);
    // Profile 2 needs TLS: plain ws with the right password is no longer enough.
    assert_eq!(api.refusal("CP001", PASSWORD).await, 401);
    api.patch("/api/v1/stations/CP001", json!({"securityProfile": 1}))
        .await
        .ok(StatusCode::OK);
    let _station = api.booted("CP001", PASSWORD).await;
    api.patch("/api/v1/stations/CP001", json!({"securityProfile": 7}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_security_profile");
    assert_eq!(api.station("CP001").await["securityProfile"], 1);
}

#[tokio::test]
async fn a_patched_password_is_required_from_the_next_connection_on() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let station = api.booted("CP001", PASSWORD).await;

    // A weak password is refused and changes nothing.
    api.patch("/api/v1/stations/CP001", json!({"password": "weak"}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_password");

    let view = api
        .patch(
            "/api/v1/stations/CP001",
            json!({"password": OTHER_PASSWORD}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(view["hasPassword"], true);
    assert!(!view.to_string().contains(OTHER_PASSWORD));
    station.close().await;
    api.wait_connected("CP001", false).await;

    assert_eq!(
        api.refusal("CP001", PASSWORD).await,
        401,
        "the old password must no longer work"
    );
    let _station = api.booted("CP001", OTHER_PASSWORD).await;
    api.wait_connected("CP001", true).await;
}

#[tokio::test]
async fn a_rejected_patch_changes_nothing() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    // Every field valid but the password: the whole request is refused...
    api.patch(
        "/api/v1/stations/CP001",
        json!({"securityProfile": 2, "registration": "Rejected", "password": "weak"}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_password");
    // ...and nothing of it is applied.
    let view = api.station("CP001").await;
    assert_eq!(view["securityProfile"], 1, "{view}");
    assert_eq!(view["registration"], "Accepted", "{view}");
    // Likewise with an invalid registration behind a valid profile.
    api.patch(
        "/api/v1/stations/CP001",
        json!({"securityProfile": 2, "registration": "Maybe"}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_registration");
    assert_eq!(api.station("CP001").await["securityProfile"], 1);
    let _station = api.booted("CP001", PASSWORD).await;
}

#[tokio::test]
async fn deleting_a_station_closes_its_connection_and_forgets_it() {
    let api = start(&[StationSpec::new("CP001", 1), StationSpec::new("CP002", 1)]).await;
    let mut station = api.booted("CP001", PASSWORD).await;
    station
        .call_raw(
            "SecurityEventNotification",
            json!({"type": "SettingSystemTime", "timestamp": "2024-05-01T10:00:00Z"}),
        )
        .await
        .unwrap();
    let _other = api.booted("CP002", PASSWORD).await;
    api.wait_connected("CP001", true).await;

    let reply = api.delete("/api/v1/stations/CP001").await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    assert_eq!(reply.text, "");
    station
        .expect_closed(BOUND)
        .await
        .expect("deleting the station closes its connection");

    api.get("/api/v1/stations/CP001")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_station");
    api.delete("/api/v1/stations/CP001")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_station");
    let list = api.get("/api/v1/stations").await.ok(StatusCode::OK);
    assert_eq!(
        list.as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].clone())
            .collect::<Vec<_>>(),
        vec![json!("CP002")]
    );
    // The other station is untouched.
    assert_eq!(api.station("CP002").await["connected"], true);

    // Coming back, it is a stranger now (default policy: answered Rejected, not registered).
    let mut back = api.connect("CP001", PASSWORD).await;
    assert_eq!(
        boot(&mut back, "CP001").await.status,
        RegistrationStatusEnumType::Rejected
    );
    api.get("/api/v1/stations/CP001")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_station");
    back.close().await;

    // Registered again, it starts with a clean slate: nothing of the old one's reports.
    api.post(
        "/api/v1/stations",
        json!({"id": "CP001", "password": PASSWORD}),
    )
    .await
    .ok(StatusCode::CREATED);
    for what in ["connectors", "events", "security-events", "commands"] {
        assert_eq!(
            api.get(&format!("/api/v1/stations/CP001/{what}"))
                .await
                .ok(StatusCode::OK),
            json!([]),
            "{what} of the deleted station survived"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 4. What stations reported
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn reports_show_what_the_station_sent() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    for what in ["connectors", "events", "security-events"] {
        assert_eq!(
            api.get(&format!("/api/v1/stations/CP001/{what}"))
                .await
                .ok(StatusCode::OK),
            json!([])
        );
    }
    // Boot; StatusNotification Available; NotifyEvent AvailabilityState = Available.
    let mut station = api.booted("CP001", PASSWORD).await;
    let connectors = api
        .get("/api/v1/stations/CP001/connectors")
        .await
        .ok(StatusCode::OK);
    let connectors = connectors.as_array().unwrap();
    assert_eq!(connectors.len(), 1, "{connectors:?}");
    assert_eq!(connectors[0]["evseId"], 1);
    assert_eq!(connectors[0]["connectorId"], 1);
    assert_eq!(connectors[0]["status"], "Available");

    // The connector becomes Occupied: the connector shows its latest status, the events both.
    states::notify_connector_status(&mut station, 1, 1, ConnectorStatusEnumType::Occupied)
        .await
        .unwrap();
    station
        .call_raw(
            "SecurityEventNotification",
            json!({"type": "SettingSystemTime", "timestamp": "2024-05-01T10:00:00Z", "techInfo": "clock moved"}),
        )
        .await
        .unwrap();
    station
        .call_raw(
            "SecurityEventNotification",
            json!({"type": "ReconfigurationOfSecurityParameters", "timestamp": "2024-05-01T10:05:00Z"}),
        )
        .await
        .unwrap();

    let connectors = api
        .get("/api/v1/stations/CP001/connectors")
        .await
        .ok(StatusCode::OK);
    assert_eq!(connectors.as_array().unwrap().len(), 1, "{connectors}");
    assert_eq!(connectors[0]["status"], "Occupied");

    let events = api
        .get("/api/v1/stations/CP001/events")
        .await
        .ok(StatusCode::OK);
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    for event in events {
        assert_eq!(event["component"], "Connector");
        assert_eq!(event["variable"], "AvailabilityState");
        assert_eq!(event["trigger"], "Delta");
        assert_eq!(event["evseId"], 1);
        assert_eq!(event["connectorId"], 1);
    }
    assert_eq!(events[0]["actualValue"], "Occupied", "newest first");
    assert_eq!(events[1]["actualValue"], "Available");
    let newest = api
        .get("/api/v1/stations/CP001/events?limit=1")
        .await
        .ok(StatusCode::OK);
    assert_eq!(newest.as_array().unwrap().len(), 1);
    assert_eq!(newest[0]["actualValue"], "Occupied");

    let security = api
        .get("/api/v1/stations/CP001/security-events")
        .await
        .ok(StatusCode::OK);
    let security = security.as_array().unwrap();
    assert_eq!(security.len(), 2, "{security:?}");
    assert_eq!(security[0]["type"], "ReconfigurationOfSecurityParameters");
    assert_eq!(security[0]["techInfo"], Value::Null);
    assert_eq!(security[1]["type"], "SettingSystemTime");
    assert_eq!(security[1]["techInfo"], "clock moved");
    assert_eq!(security[1]["timestamp"], "2024-05-01T10:00:00Z");
    assert!(security[1]["receivedAt"].is_string());
}

// ---------------------------------------------------------------------------------------------
// 5. The generic command endpoint
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_command_to_an_unknown_station_is_404() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    api.command("CP404", "Reset", reset("Immediate"))
        .await
        .error(StatusCode::NOT_FOUND, "unknown_station");
}

#[tokio::test]
async fn an_unknown_action_is_404() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = api.booted("CP001", PASSWORD).await;
    for action in ["Frobnicate", "ResetRequest", "RemoteStartTransaction"] {
        api.command("CP001", action, json!({}))
            .await
            .error(StatusCode::NOT_FOUND, "unknown_action");
    }
    assert_nothing_sent(&mut station, "probe-unknown").await;
}

#[tokio::test]
async fn a_station_initiated_action_is_400() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = api.booted("CP001", PASSWORD).await;
    for (action, body) in [
        ("Heartbeat", json!({})),
        (
            "BootNotification",
            json!({"reason": "PowerUp", "chargingStation": {"model": "m", "vendorName": "v"}}),
        ),
        (
            "StatusNotification",
            json!({"timestamp": "2024-05-01T10:00:00Z", "connectorStatus": "Available", "evseId": 1, "connectorId": 1}),
        ),
    ] {
        api.command("CP001", action, body)
            .await
            .error(StatusCode::BAD_REQUEST, "not_a_csms_action");
    }
    assert_nothing_sent(&mut station, "probe-initiator").await;
}

#[tokio::test]
async fn an_invalid_body_is_400_naming_the_path_and_nothing_is_sent() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = api.booted("CP001", PASSWORD).await;
    for (action, body, path) in [
        ("Reset", json!({"type": "Sometime"}), "/type"),
        ("Reset", json!({"type": 1}), "/type"),
        (
            "Reset",
            json!({"type": "Immediate", "evseId": "one"}),
            "/evseId",
        ),
        (
            "GetVariables",
            json!({"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": 5}}]}),
            "/getVariableData/0/variable/name",
        ),
    ] {
        let error = api
            .command("CP001", action, body.clone())
            .await
            .error(StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(error["detail"]["path"], path, "{action} {body}: {error}");
        assert!(error["detail"]["code"].is_string(), "{error}");
    }
    // Missing required fields, additional properties, not an object at all: 400 as well.
    for body in [
        json!({}),
        json!({"type": "Immediate", "extra": true}),
        json!([]),
        json!("Immediate"),
    ] {
        let error = api
            .command("CP001", "Reset", body.clone())
            .await
            .error(StatusCode::BAD_REQUEST, "invalid_request");
        assert!(error["detail"]["path"].is_string(), "{body}: {error}");
    }
    assert_nothing_sent(&mut station, "probe-invalid").await;
    // Nothing that was not sent is in the command log.
    assert_eq!(
        api.get("/api/v1/stations/CP001/commands")
            .await
            .ok(StatusCode::OK),
        json!([])
    );
}

#[tokio::test]
async fn a_command_to_a_station_not_connected_is_409() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    api.command("CP001", "Reset", reset("Immediate"))
        .await
        .error(StatusCode::CONFLICT, "station_not_connected");
    // The same after a connection came and went.
    let station = api.booted("CP001", PASSWORD).await;
    station.close().await;
    api.wait_connected("CP001", false).await;
    api.command("CP001", "Reset", reset("Immediate"))
        .await
        .error(StatusCode::CONFLICT, "station_not_connected");
}

#[tokio::test]
async fn a_connected_station_answer_is_returned_with_200() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = api.booted("CP001", PASSWORD).await;

    let pending = api.spawn_command(&api.admin, "CP001", "Reset", reset("Immediate"));
    let (id, request) = station.expect_call::<ResetRequest>().await.unwrap();
    assert_eq!(request.r#type, ResetEnumType::Immediate);
    assert_eq!(request.evse_id, None);
    station
        .respond::<ResetRequest>(&id, &reset_accepted())
        .await
        .unwrap();
    let reply = pending.await.unwrap();
    assert!(reply.content_type().starts_with("application/json"));
    assert_eq!(reply.ok(StatusCode::OK), json!({"status": "Accepted"}));

    // The station's payload comes back as it is, optional fields included.
    let pending = api.spawn_command(&api.admin, "CP001", "GetVariables", get_variables());
    let (id, request) = station.expect_call::<GetVariablesRequest>().await.unwrap();
    assert_eq!(
        request.get_variable_data[0].variable.name,
        "HeartbeatInterval"
    );
    let answer = json!({"getVariableResult": [{
        "attributeStatus": "Accepted",
        "attributeType": "Actual",
        "attributeValue": "300",
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "HeartbeatInterval"}
    }]});
    station
        .respond::<GetVariablesRequest>(&id, &serde_json::from_value(answer.clone()).unwrap())
        .await
        .unwrap();
    assert_eq!(pending.await.unwrap().ok(StatusCode::OK), answer);
}

#[tokio::test]
async fn a_station_callerror_is_502_with_its_code() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = api.booted("CP001", PASSWORD).await;
    let pending = api.spawn_command(&api.admin, "CP001", "Reset", reset("OnIdle"));
    let (id, _) = station.expect_call::<ResetRequest>().await.unwrap();
    station
        .send_text(&format!(r#"[4,"{id}","NotSupported","x",{{}}]"#))
        .await
        .unwrap();
    let error = pending
        .await
        .unwrap()
        .error(StatusCode::BAD_GATEWAY, "call_error");
    assert_eq!(error["detail"]["code"], "NotSupported", "{error}");
    assert_eq!(error["detail"]["description"], "x", "{error}");
    // The connection is still fine.
    station.call(&HeartbeatRequest::default()).await.unwrap();
}

#[tokio::test]
async fn a_station_that_never_answers_is_504() {
    let api = start_with(&[StationSpec::new("CP001", 1)], |s| {
        s.csms.call_timeout = Duration::from_millis(300)
    })
    .await;
    let mut station = api.booted("CP001", PASSWORD).await;
    let since = Instant::now();
    let pending = api.spawn_command(&api.admin, "CP001", "Reset", reset("Immediate"));
    let (id, _) = station.expect_call::<ResetRequest>().await.unwrap();
    let reply = pending.await.unwrap();
    assert!(
        since.elapsed() >= Duration::from_millis(300),
        "answered before the call timeout"
    );
    reply.error(StatusCode::GATEWAY_TIMEOUT, "station_timeout");

    // An answer arriving too late is dropped, and the connection stays usable.
    station
        .respond::<ResetRequest>(&id, &reset_accepted())
        .await
        .unwrap();
    station.call(&HeartbeatRequest::default()).await.unwrap();
    let pending = api.spawn_command(&api.admin, "CP001", "Reset", reset("OnIdle"));
    let (id, _) = station.expect_call::<ResetRequest>().await.unwrap();
    station
        .respond::<ResetRequest>(&id, &reset_accepted())
        .await
        .unwrap();
    pending.await.unwrap().ok(StatusCode::OK);
}

#[tokio::test]
async fn the_command_log_lists_every_outcome_newest_first() {
    let api = start_with(&[StationSpec::new("CP001", 1)], |s| {
        s.csms.call_timeout = Duration::from_secs(1)
    })
    .await;
    let (op, op_record) = api.key(ApiRole::Operator).await;

    // 1. Not connected.
    api.command_as(&op, "CP001", "Reset", reset("Immediate"))
        .await
        .error(StatusCode::CONFLICT, "station_not_connected");

    let mut station = api.booted("CP001", PASSWORD).await;
    // 2. Answered.
    let pending = api.spawn_command(&op, "CP001", "Reset", reset("OnIdle"));
    let (id, _) = station.expect_call::<ResetRequest>().await.unwrap();
    station
        .respond::<ResetRequest>(&id, &reset_accepted())
        .await
        .unwrap();
    pending.await.unwrap().ok(StatusCode::OK);
    // 3. CALLERROR.
    let with_evse = json!({"type": "Immediate", "evseId": 1});
    let pending = api.spawn_command(&op, "CP001", "Reset", with_evse.clone());
    let (id, _) = station.expect_call::<ResetRequest>().await.unwrap();
    station
        .send_text(&format!(r#"[4,"{id}","NotSupported","x",{{}}]"#))
        .await
        .unwrap();
    pending
        .await
        .unwrap()
        .error(StatusCode::BAD_GATEWAY, "call_error");
    // 4. No answer.
    let pending = api.spawn_command(&op, "CP001", "GetVariables", get_variables());
    station.expect_call::<GetVariablesRequest>().await.unwrap();
    pending
        .await
        .unwrap()
        .error(StatusCode::GATEWAY_TIMEOUT, "station_timeout");
    // Refused before sending: not logged.
    api.command_as(&op, "CP001", "Reset", reset("Never"))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_request");

    let log = api
        .get("/api/v1/stations/CP001/commands")
        .await
        .ok(StatusCode::OK);
    let log = log.as_array().unwrap();
    let summary: Vec<(String, String)> = log
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap().to_string(),
                c["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("GetVariables", "timeout"),
            ("Reset", "call_error"),
            ("Reset", "result"),
            ("Reset", "not_connected"),
        ]
        .map(|(a, o)| (a.to_string(), o.to_string())),
        "{log:?}"
    );
    assert_eq!(log[0]["request"], get_variables());
    assert_eq!(log[0]["response"], Value::Null);
    assert_eq!(log[1]["request"], with_evse);
    assert_eq!(log[1]["response"]["code"], "NotSupported");
    assert_eq!(log[1]["response"]["description"], "x");
    assert_eq!(log[2]["request"], reset("OnIdle"));
    assert_eq!(log[2]["response"], json!({"status": "Accepted"}));
    assert_eq!(log[3]["request"], reset("Immediate"));
    assert_eq!(log[3]["response"], Value::Null);
    for entry in log {
        assert_eq!(entry["requestedBy"], op_record.id.as_str(), "{entry}");
        let sent: chrono::DateTime<chrono::Utc> =
            serde_json::from_value(entry["sentAt"].clone()).unwrap();
        let completed: chrono::DateTime<chrono::Utc> =
            serde_json::from_value(entry["completedAt"].clone()).unwrap();
        assert!(sent <= completed, "{entry}");
    }
    let seqs: Vec<i64> = log.iter().map(|c| c["seq"].as_i64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seqs:?}"
    );
    let timed_out: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(log[0]["completedAt"].clone()).unwrap();
    let sent: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(log[0]["sentAt"].clone()).unwrap();
    assert!(timed_out - sent >= chrono::Duration::milliseconds(900));

    let newest = api
        .get("/api/v1/stations/CP001/commands?limit=2")
        .await
        .ok(StatusCode::OK);
    assert_eq!(newest.as_array().unwrap().as_slice(), &log[..2]);
}

// ---------------------------------------------------------------------------------------------
// 6. Error bodies for requests axum refuses before a handler runs
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_body_that_is_not_the_expected_json_gets_the_api_error_body() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    // Not JSON at all.
    let response = api
        .http
        .post(api.url("/api/v1/stations/CP001/ocpp/Reset"))
        .bearer_auth(&api.admin)
        .header(CONTENT_TYPE, "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let reply = Reply::read(response).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.content_type(), "application/json", "{}", reply.text);
    assert!(reply.body["error"].is_string(), "{}", reply.text);
    // An unknown field in a station to create (`deny_unknown_fields`).
    let reply = api
        .post(
            "/api/v1/stations",
            json!({"id": "CPNEW", "generatePassword": true, "pasword": "typo"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.content_type(), "application/json", "{}", reply.text);
    assert!(reply.body["error"].is_string(), "{}", reply.text);
}

// ---------------------------------------------------------------------------------------------
// 7. OpenAPI, Swagger UI, health, metrics
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_openapi_document_is_public_and_describes_the_api() {
    let api = start(&[]).await;
    let reply = api
        .request(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert!(reply.content_type().starts_with("application/json"));
    let doc = reply.ok(StatusCode::OK);
    assert!(doc.is_object(), "not a JSON document: {doc}");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let command = &paths["/api/v1/stations/{id}/ocpp/{action}"];
    assert!(command["post"].is_object(), "{command}");
    for path in [
        "/api/v1/stations",
        "/api/v1/stations/{id}",
        "/api/v1/stations/{id}/connectors",
        "/api/v1/stations/{id}/events",
        "/api/v1/stations/{id}/security-events",
        "/api/v1/stations/{id}/commands",
    ] {
        assert!(paths.contains_key(path), "{path} missing from the document");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer",
        "{}",
        doc["components"]["securitySchemes"]
    );
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let api = start(&[]).await;
    let reply = api.request(Method::GET, "/api/v1/docs/", None, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(
        reply.content_type().starts_with("text/html"),
        "{}",
        reply.content_type()
    );
    assert!(
        reply.text.to_lowercase().contains("swagger"),
        "{}",
        reply.text
    );
    // Its assets come from the server itself, and point at our document.
    for asset in ["swagger-ui.css", "swagger-ui-bundle.js"] {
        let reply = api
            .request(Method::GET, &format!("/api/v1/docs/{asset}"), None, None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{asset}");
        assert!(reply.text.len() > 1000, "{asset} is served");
    }
    let init = api
        .request(
            Method::GET,
            "/api/v1/docs/swagger-initializer.js",
            None,
            None,
        )
        .await;
    assert_eq!(init.status, StatusCode::OK);
    assert!(init.text.contains("/api/v1/openapi.json"), "{}", init.text);
}

#[tokio::test]
async fn health_and_metrics_answer_without_a_key() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let health = api.request(Method::GET, "/health", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.text.trim(), "ok");
    let metrics = api.request(Method::GET, "/metrics", None, None).await;
    assert_eq!(metrics.status, StatusCode::OK, "{}", metrics.text);
}

/// Tokens managed through the API are what Authorize answers from.
#[tokio::test]
async fn tokens_put_through_the_api_answer_authorize() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let body = json!({"status": "Accepted", "groupIdToken": "FLEET-1"});
    let reply = api
        .request(
            Method::PUT,
            "/api/v1/tokens/ISO14443/04A2B3C4",
            Some(&api.admin),
            Some(&body),
        )
        .await;
    let token = reply.ok(StatusCode::OK);
    assert_eq!(token["status"], "Accepted");
    let list = api.get("/api/v1/tokens").await.ok(StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);

    let mut station = api.booted("CP001", crate::common::PASSWORD).await;
    let answer = station
        .call_raw(
            "Authorize",
            json!({"idToken": {"idToken": "04A2B3C4", "type": "ISO14443"}}),
        )
        .await
        .unwrap();
    assert_eq!(answer["idTokenInfo"]["status"], "Accepted");
    assert_eq!(answer["idTokenInfo"]["groupIdToken"]["idToken"], "FLEET-1");

    api.request(
        Method::PUT,
        "/api/v1/tokens/ISO14443/04A2B3C4",
        Some(&api.admin),
        Some(&json!({"status": "Blocked"})),
    )
    .await
    .ok(StatusCode::OK);
    let answer = station
        .call_raw(
            "Authorize",
            json!({"idToken": {"idToken": "04A2B3C4", "type": "ISO14443"}}),
        )
        .await
        .unwrap();
    assert_eq!(answer["idTokenInfo"]["status"], "Blocked");

    api.request(
        Method::PUT,
        "/api/v1/tokens/ISO14443/X",
        Some(&api.admin),
        Some(&json!({"status": "Maybe"})),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_status");
    api.request(
        Method::PUT,
        "/api/v1/tokens/Badge/X",
        Some(&api.admin),
        Some(&json!({"status": "Accepted"})),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_token_type");
    assert_eq!(
        api.delete("/api/v1/tokens/ISO14443/04A2B3C4").await.status,
        StatusCode::NO_CONTENT
    );
    api.delete("/api/v1/tokens/ISO14443/04A2B3C4")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_token");
}

/// One GetVariables for the same variable on two EVSEs: each value lands in the device model
/// under its own EVSE (results are matched back to request items by their whole identity, not
/// by component and variable name).
#[tokio::test]
async fn variables_read_on_two_evses_are_kept_apart_in_the_device_model() {
    use unicharge_ocpp::v201::GetVariablesRequest;
    use unicharge_sim::DeviceDataLimits;
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = api.booted("CP001", PASSWORD).await;
    let http = api.http.clone();
    let url = api.url("/api/v1/stations/CP001/variables/get");
    let token = api.admin.clone();
    let body = json!({"items": [
        {"component": "EVSE", "evseId": 1, "variable": "AvailabilityState"},
        {"component": "EVSE", "evseId": 2, "variable": "AvailabilityState"},
    ]});
    let pending =
        tokio::spawn(
            async move { send(&http, Method::POST, url, Some(&token), Some(&body)).await },
        );
    // Two items: the CSMS reads the station's DeviceDataCtrlr message limits first (B06.FR.05),
    // which the station answers with room for both in one request.
    let ((id, request), _) = station
        .expect_call_answering_limits::<GetVariablesRequest>(&DeviceDataLimits::GENEROUS)
        .await
        .unwrap();
    assert_eq!(request.get_variable_data.len(), 2);
    // The station answers in reverse order, each result naming its EVSE.
    let result = |evse: i64, value: &str| {
        json!({"attributeStatus": "Accepted", "attributeValue": value,
               "component": {"name": "EVSE", "evse": {"id": evse}},
               "variable": {"name": "AvailabilityState"}})
    };
    let answer = json!({"getVariableResult": [result(2, "Unavailable"), result(1, "Available")]});
    station
        .send_text(
            &Frame::CallResult {
                id,
                payload: answer,
            }
            .to_text(),
        )
        .await
        .unwrap();
    pending.await.unwrap().ok(StatusCode::OK);

    let model = api
        .get("/api/v1/stations/CP001/device-model")
        .await
        .ok(StatusCode::OK);
    let value = |evse: i64| {
        model["variables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["evseId"] == json!(evse) && v["variable"] == "AvailabilityState")
            .map(|v| v["value"].clone())
    };
    assert_eq!(value(1), Some(json!("Available")));
    assert_eq!(value(2), Some(json!("Unavailable")));
}
