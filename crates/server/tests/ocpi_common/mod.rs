//! An OCPI eMSP peer for the tests: a real HTTP server on a loopback port that serves its own
//! versions, version details and credentials (so the CPO can register with it and it with the
//! CPO), receives CommandResults, and calls the CPO as a partner platform does.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use reqwest::Client;
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// What the peer received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
}

/// A push the CPO sent to one of our Receiver endpoints (answered or refused).
#[derive(Debug, Clone)]
pub struct Pushed {
    pub method: String,
    /// OCPI module of the endpoint: locations, sessions, cdrs, tariffs.
    pub module: String,
    /// The rest of the path after the module's endpoint URL (`/NL/UNI/LOC1/CP*1`, or empty).
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
    /// The body as sent, octet for octet (what a signature covers).
    pub raw: Vec<u8>,
    /// Whether we answered 200 / 1000 (false: we were "down" and answered 500).
    pub accepted: bool,
}

impl Pushed {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone)]
struct PeerState {
    /// Tokens the CPO may call us with (our token A for it, then the token B/C we gave it).
    accepted: Arc<Mutex<Vec<String>>>,
    /// The token C we answer a credentials POST with.
    token_c: String,
    /// Our credentials' party.
    country_code: String,
    party_id: String,
    base: Arc<Mutex<String>>,
    /// The credentials the CPO POSTed to us.
    posted: Arc<Mutex<Option<Value>>>,
    results: mpsc::UnboundedSender<Received>,
    pushes: mpsc::UnboundedSender<Pushed>,
    /// Answer the next N pushes with HTTP 500.
    fail_next: Arc<std::sync::atomic::AtomicUsize>,
    /// Answer every push with HTTP 500 while set (the eMSP is down).
    down: Arc<std::sync::atomic::AtomicBool>,
    /// Answer the next N CommandResults with HTTP 500; counts those refused.
    fail_results: Arc<std::sync::atomic::AtomicUsize>,
    refused_results: Arc<std::sync::atomic::AtomicUsize>,
    /// The JWK we publish in an `x-unicharge-signing` module (B8.5), when we sign.
    signing_jwk: Arc<Mutex<Option<Value>>>,
}

/// A running eMSP peer.
pub struct Peer {
    pub base: String,
    /// Our token B: what we give the CPO to call us with.
    pub token_b: String,
    /// The token we call the CPO with (A, then C); set by [`Peer::register`].
    pub token: String,
    pub country_code: String,
    pub party_id: String,
    /// The role we register with (EMSP unless [`Peer::with_role`] says otherwise).
    pub role: String,
    pub results: mpsc::UnboundedReceiver<Received>,
    pub pushes: mpsc::UnboundedReceiver<Pushed>,
    state: PeerState,
    pub client: Client,
    /// The CPO's endpoints (module id + role → url) after registration.
    pub endpoints: Vec<Value>,
    pub version: String,
    /// The body text of the last answer (to check decimals as they were written).
    pub last_raw: Mutex<String>,
}

fn b64(token: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(token)
}

fn envelope(data: Value) -> Json<Value> {
    Json(json!({
        "data": data, "status_code": 1000, "timestamp": "2026-12-06T12:00:00Z"
    }))
}

fn authorized(state: &PeerState, headers: &HeaderMap) -> bool {
    let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    state
        .accepted
        .lock()
        .unwrap()
        .iter()
        .any(|t| auth == format!("Token {}", b64(t)))
}

async fn versions(
    State(s): State<PeerState>,
    headers: HeaderMap,
) -> (axum::http::StatusCode, Json<Value>) {
    if !authorized(&s, &headers) {
        return (axum::http::StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    let base = s.base.lock().unwrap().clone();
    (
        axum::http::StatusCode::OK,
        envelope(json!([
            {"version": "2.2.1", "url": format!("{base}/2.2.1")},
            {"version": "2.3.0", "url": format!("{base}/2.3.0")},
        ])),
    )
}

async fn details(
    State(s): State<PeerState>,
    Path(version): Path<String>,
    headers: HeaderMap,
) -> (axum::http::StatusCode, Json<Value>) {
    if !authorized(&s, &headers) {
        return (axum::http::StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    let base = s.base.lock().unwrap().clone();
    let answer = (
        axum::http::StatusCode::OK,
        envelope(json!({"version": version, "endpoints": [
            {"identifier": "credentials", "role": "RECEIVER", "url": format!("{base}/{version}/credentials")},
            {"identifier": "commands", "role": "SENDER", "url": format!("{base}/{version}/commands")},
            {"identifier": "locations", "role": "RECEIVER", "url": format!("{base}/{version}/receiver/locations")},
            {"identifier": "sessions", "role": "RECEIVER", "url": format!("{base}/{version}/receiver/sessions")},
            {"identifier": "cdrs", "role": "RECEIVER", "url": format!("{base}/{version}/receiver/cdrs")},
            {"identifier": "tariffs", "role": "RECEIVER", "url": format!("{base}/{version}/receiver/tariffs")},
            // Where a CPO PUTs ActiveChargingProfile updates (recorded as pushes).
            {"identifier": "chargingprofiles", "role": "SENDER", "url": format!("{base}/{version}/receiver/chargingprofiles")},
        ]})),
    );
    let mut answer = answer;
    if s.signing_jwk.lock().unwrap().is_some() {
        answer.1 .0["data"]["endpoints"]
            .as_array_mut()
            .unwrap()
            .push(
                json!({"identifier": "x-unicharge-signing", "role": "SENDER",
                         "url": format!("{base}/{version}/signing")}),
            );
    }
    answer
}

/// Our signing keys (B8.5), when we publish the module.
async fn signing_keys(
    State(s): State<PeerState>,
    headers: HeaderMap,
) -> (axum::http::StatusCode, Json<Value>) {
    if !authorized(&s, &headers) {
        return (axum::http::StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    let jwk = s.signing_jwk.lock().unwrap().clone();
    (axum::http::StatusCode::OK, envelope(json!([jwk])))
}

async fn credentials(
    State(s): State<PeerState>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (axum::http::StatusCode, Json<Value>) {
    if !authorized(&s, &headers) {
        return (axum::http::StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    *s.posted.lock().unwrap() = Some(body);
    s.accepted.lock().unwrap().push(s.token_c.clone());
    let base = s.base.lock().unwrap().clone();
    (
        axum::http::StatusCode::OK,
        envelope(json!({
            "token": s.token_c, "url": format!("{base}/versions"),
            "roles": [{"role": "EMSP", "country_code": s.country_code, "party_id": s.party_id,
                       "business_details": {"name": "Peer eMSP"}}],
        })),
    )
}

async fn command_result(
    State(s): State<PeerState>,
    Path((_version, id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (axum::http::StatusCode, Json<Value>) {
    use std::sync::atomic::Ordering;
    if s.fail_results
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        s.refused_results.fetch_add(1, Ordering::SeqCst);
        return (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"status_code": 3000, "timestamp": "2026-12-06T12:00:00Z"})),
        );
    }
    let _ = s.results.send(Received {
        path: id,
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body,
    });
    (
        axum::http::StatusCode::OK,
        Json(json!({"status_code": 1000, "timestamp": "2026-12-06T12:00:00Z"})),
    )
}

/// Any call to one of our Receiver endpoints: recorded, then answered 1000 or (down) 500.
async fn receiver(
    State(s): State<PeerState>,
    method: axum::http::Method,
    Path(params): Path<Vec<(String, String)>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (axum::http::StatusCode, Json<Value>) {
    use std::sync::atomic::Ordering;
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let rest = param("rest");
    let failing = s.down.load(Ordering::SeqCst)
        || s.fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
    let _ = s.pushes.send(Pushed {
        method: method.to_string(),
        module: param("module"),
        path: if rest.is_empty() {
            rest
        } else {
            format!("/{rest}")
        },
        accepted: !failing && authorized(&s, &headers),
        headers: headers.clone(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        raw: body.to_vec(),
    });
    if !authorized(&s, &headers) {
        return (axum::http::StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    if failing {
        return (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"status_code": 3000, "timestamp": "2026-12-06T12:00:00Z"})),
        );
    }
    (
        axum::http::StatusCode::OK,
        Json(json!({"status_code": 1000, "timestamp": "2026-12-06T12:00:00Z"})),
    )
}

impl Peer {
    /// Start a peer for eMSP party `country_code`/`party_id`.
    pub async fn start(country_code: &str, party_id: &str) -> Peer {
        let (tx, rx) = mpsc::unbounded_channel();
        let (push_tx, push_rx) = mpsc::unbounded_channel();
        let token_b = format!("peer-token-b-{party_id}-0123456789");
        let state = PeerState {
            accepted: Arc::new(Mutex::new(vec![token_b.clone()])),
            token_c: format!("peer-token-c-{party_id}-0123456789"),
            country_code: country_code.into(),
            party_id: party_id.into(),
            base: Arc::new(Mutex::new(String::new())),
            posted: Arc::new(Mutex::new(None)),
            results: tx,
            pushes: push_tx,
            fail_next: Arc::default(),
            down: Arc::default(),
            fail_results: Arc::default(),
            refused_results: Arc::default(),
            signing_jwk: Arc::default(),
        };
        let app = Router::new()
            .route("/emsp/versions", get(versions))
            .route("/emsp/{version}", get(details))
            .route("/emsp/{version}/credentials", post(credentials))
            .route("/emsp/{version}/commands/{id}", post(command_result))
            .route("/emsp/{version}/signing", get(signing_keys))
            .route(
                "/emsp/{version}/receiver/{module}",
                axum::routing::any(receiver),
            )
            .route(
                "/emsp/{version}/receiver/{module}/{*rest}",
                axum::routing::any(receiver),
            )
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let base = format!("http://{addr}/emsp");
        *state.base.lock().unwrap() = base.clone();
        Peer {
            base,
            token_b,
            token: String::new(),
            country_code: country_code.into(),
            party_id: party_id.into(),
            role: "EMSP".into(),
            results: rx,
            pushes: push_rx,
            state,
            client: Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            endpoints: Vec::new(),
            version: String::new(),
            last_raw: Mutex::new(String::new()),
        }
    }

    /// Publish `jwk` in an `x-unicharge-signing` module (B8.5): we sign what we send.
    pub fn publish_signing_key(&self, jwk: Value) {
        *self.state.signing_jwk.lock().unwrap() = Some(jwk);
    }

    /// Answer the next `n` CommandResults with HTTP 500.
    pub fn fail_next_results(&self, n: usize) {
        self.state
            .fail_results
            .store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// How many CommandResults we refused so far.
    pub fn refused_results(&self) -> usize {
        self.state
            .refused_results
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Register with another role than EMSP (e.g. HUB).
    pub fn with_role(mut self, role: &str) -> Peer {
        self.role = role.into();
        self
    }

    /// Answer the next `n` pushes with HTTP 500.
    pub fn fail_next_pushes(&self, n: usize) {
        self.state
            .fail_next
            .store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// While `down`, answer every push with HTTP 500.
    pub fn set_down(&self, down: bool) {
        self.state
            .down
            .store(down, std::sync::atomic::Ordering::SeqCst);
    }

    /// The next push (accepted or refused) that `wanted` picks, within 20 s; the ones it
    /// skips are returned too, in arrival order, as the first element.
    pub async fn next_push(&mut self, wanted: impl Fn(&Pushed) -> bool) -> (Vec<Pushed>, Pushed) {
        let mut skipped = Vec::new();
        loop {
            let p = tokio::time::timeout(Duration::from_secs(20), self.pushes.recv())
                .await
                .unwrap_or_else(|_| panic!("no wanted push within 20 s; got {skipped:#?}"))
                .expect("peer running");
            if wanted(&p) {
                return (skipped, p);
            }
            skipped.push(p);
        }
    }

    /// Accept this token A from the CPO (when the CPO registers with us).
    pub fn issue_token_a(&self, token: &str) {
        self.state.accepted.lock().unwrap().push(token.into());
    }

    /// The credentials the CPO POSTed when it registered with us.
    pub fn posted_credentials(&self) -> Option<Value> {
        self.state.posted.lock().unwrap().clone()
    }

    pub fn token_c_we_issued(&self) -> String {
        self.state.token_c.clone()
    }

    /// A raw call to the CPO with `token`; returns (HTTP status, headers, body).
    pub async fn call_with(
        &self,
        token: &str,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut request = self
            .client
            .request(method, url)
            .header("Authorization", format!("Token {}", b64(token)))
            .header("X-Request-ID", "req-1")
            .header("X-Correlation-ID", "corr-1");
        for (k, v) in extra {
            request = request.header(*k, *v);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        *self.last_raw.lock().unwrap() = text.clone();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    /// A call with our current token.
    pub async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        self.call_with(&self.token, method, url, body, &[]).await
    }

    /// The CPO's endpoint url for a module.
    pub fn endpoint(&self, module: &str) -> String {
        self.endpoints
            .iter()
            .find(|e| e["identifier"] == module)
            .and_then(|e| e["url"].as_str())
            .unwrap_or_else(|| panic!("no {module} endpoint in {:?}", self.endpoints))
            .to_string()
    }

    /// Register with the CPO: versions and details with token A, POST our credentials (token
    /// B), keep the token C it answers with. `version` picks 2.2.1 or 2.3.0.
    pub async fn register(&mut self, versions_url: &str, token_a: &str, version: &str) -> Value {
        let (status, _, versions) = self
            .call_with(token_a, reqwest::Method::GET, versions_url, None, &[])
            .await;
        assert_eq!(status, 200, "{versions}");
        let url = versions["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["version"] == version)
            .unwrap_or_else(|| panic!("no {version} in {versions}"))["url"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, _, details) = self
            .call_with(token_a, reqwest::Method::GET, &url, None, &[])
            .await;
        assert_eq!(status, 200, "{details}");
        self.endpoints = details["data"]["endpoints"].as_array().unwrap().clone();
        self.version = version.into();
        let credentials_url = self.endpoint("credentials");
        let (status, _, answer) = self
            .call_with(
                token_a,
                reqwest::Method::POST,
                &credentials_url,
                Some(json!({
                    "token": self.token_b, "url": format!("{}/versions", self.base),
                    "roles": [{"role": self.role, "country_code": self.country_code,
                               "party_id": self.party_id,
                               "business_details": {"name": "Peer eMSP"}}],
                })),
                &[],
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["status_code"], 1000, "{answer}");
        self.token = answer["data"]["token"].as_str().unwrap().to_string();
        answer
    }

    pub fn raw(&self) -> String {
        self.last_raw.lock().unwrap().clone()
    }

    /// The next CommandResult, within 20 s.
    pub async fn next_result(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(20), self.results.recv())
            .await
            .expect("a CommandResult within 20 s")
            .expect("peer running")
    }

    pub fn response_url(&self, id: &str) -> String {
        format!("{}/2.2.1/commands/{id}", self.base)
    }
}

/// The operator's REST API.
pub struct Operator {
    pub client: Client,
    pub base: String,
    pub key: String,
}

impl Operator {
    pub fn new(http: std::net::SocketAddr, key: &str) -> Operator {
        Operator {
            client: Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            base: format!("http://{http}/api/v1"),
            key: key.into(),
        }
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(
            status.is_success(),
            "{method} {path}: HTTP {status}: {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// GET `path` until `ready` says yes (20 s at most, no sleeps: the server is local).
    pub async fn until(&self, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let value = self.send(reqwest::Method::GET, path, None).await;
            if ready(&value) {
                return value;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{path} never got there: {value:#}"
            );
            tokio::task::yield_now().await;
        }
    }

    /// A location of party `party` (`CC*PID`) holding `stations`.
    pub async fn location(&self, party: &str, id: &str, stations: &[&str]) {
        self.send(
            reqwest::Method::PUT,
            &format!("/ocpi/locations/{party}/{id}"),
            Some(json!({
                "location": {
                    "name": format!("Site {id}"), "address": "Stationsplein 1", "city": "Utrecht",
                    "postal_code": "3511 ED", "country": "NLD",
                    "coordinates": {"latitude": "52.089444", "longitude": "5.110278"},
                    "time_zone": "Europe/Amsterdam", "parking_type": "ON_STREET",
                    "facilities": ["TRAIN_STATION"],
                    "opening_times": {"twentyfourseven": true},
                },
                "stations": stations,
            })),
        )
        .await;
    }

    /// Create a partner registered with `parties`; returns (token A, versions URL, id).
    pub async fn partner(&self, name: &str, parties: &[&str]) -> (String, String, i64) {
        let created = self
            .send(
                reqwest::Method::POST,
                "/ocpi/partners",
                Some(json!({"name": name, "parties": parties})),
            )
            .await;
        (
            created["tokenA"].as_str().unwrap().to_string(),
            created["versionsUrl"].as_str().unwrap().to_string(),
            created["partner"]["id"].as_i64().unwrap(),
        )
    }
}

/// Two unicharge instances registered with each other, as [`register_emsp`] left them.
pub struct Registration {
    /// The CPO's partner id at the eMSP.
    pub cpo_at_emsp: i64,
    /// The eMSP's partner id at the CPO.
    pub emsp_at_cpo: i64,
    /// The CPO's versions URL.
    pub versions_url: String,
    /// The eMSP's answer to `POST …/register` (status, version, roles).
    pub answer: Value,
}

/// The eMSP instance (party NL*EMS) registers with the CPO instance (party NL*CPO) through both
/// operators' APIs: the CPO's operator issues token A, the eMSP's creates the partner and
/// registers with it.
pub async fn register_emsp(cpo: &Operator, emsp: &Operator) -> Registration {
    let (token_a, versions_url, emsp_at_cpo) = cpo.partner("Unicharge eMSP", &["NL*CPO"]).await;
    let created = emsp
        .send(
            reqwest::Method::POST,
            "/ocpi/partners",
            Some(json!({"name": "Unicharge CPO", "parties": ["NL*EMS"]})),
        )
        .await;
    let cpo_at_emsp = created["partner"]["id"].as_i64().unwrap();
    let answer = emsp
        .send(
            reqwest::Method::POST,
            &format!("/ocpi/partners/{cpo_at_emsp}/register"),
            Some(json!({"versionsUrl": versions_url, "token": token_a})),
        )
        .await;
    assert_eq!(answer["status"], "REGISTERED", "{answer}");
    Registration {
        cpo_at_emsp,
        emsp_at_cpo,
        versions_url,
        answer,
    }
}
