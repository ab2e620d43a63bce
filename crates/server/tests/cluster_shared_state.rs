//! Shared state stays exact when two nodes touch it at once (issue 17, part 3), driven from
//! outside: two servers on one PostgreSQL schema, joined over one NATS server.
//!
//! - The cluster lease: one node at a time holds it; released, the other node gets it.
//! - A site group whose stations are split across the two nodes, all starting to charge at the
//!   same moment: every limit the stations accepted, replayed in order, never sums above the
//!   group limit, and the allocation settles at the equal share.
//! - One station's local authorization list, updated through both nodes' APIs at once: every
//!   SendLocalList the station receives carries a new, higher version (no version sent twice),
//!   and the stored list is the last one sent.
//! - Reports asked for through both nodes at once: distinct requestIds, every one recorded.
//!
//! (Concurrent debits of one account by two nodes: `crates/store/tests/postgres_ledger.rs`,
//! `two_nodes_debiting_one_account_never_double_spend`; site allocation rows written by two
//! nodes at once: `postgres_usage.rs`.)
//!
//! Runs when `UNICHARGE_TEST_POSTGRES_URL` and `UNICHARGE_TEST_NATS_URL` are set (`.ci/run`
//! sets both); otherwise it says why it skipped and passes.

#[path = "common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{json, Value};
use unicharge_ocpp::v201::{
    BootNotificationRequest, ChargingProfileStatusEnumType, GenericDeviceModelStatusEnumType,
    GetBaseReportRequest, GetBaseReportResponse, GetLocalListVersionRequest,
    GetLocalListVersionResponse, SendLocalListRequest, SendLocalListResponse,
    SendLocalListStatusEnumType, SetChargingProfileRequest, SetChargingProfileResponse,
    TransactionEventRequest,
};
use unicharge_sim::{ConnectOptions, SimError, Station};

use common::{StationSpec, TestCsms, PASSWORD};

const BOUND: Duration = Duration::from_secs(20);
const STATIONS: usize = 10;
const LIMIT: f64 = 100.0;

fn nats_url(test: &str) -> Option<String> {
    let url = std::env::var("UNICHARGE_TEST_NATS_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        eprintln!("{test}: skipped, UNICHARGE_TEST_NATS_URL is not set (.ci/run sets it)");
    }
    url
}

async fn node(
    name: &str,
    store: Option<String>,
    nats: &str,
    ns: &str,
    stations: &[StationSpec],
) -> TestCsms {
    let (name, nats, ns) = (name.to_string(), nats.to_string(), ns.to_string());
    TestCsms::start_with(stations, move |s| {
        if store.is_some() {
            s.store.url = store;
        }
        s.csms.wss_listen = None;
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        s.cluster.nats_url = Some(nats);
        s.cluster.node_id = Some(name);
        s.cluster.bucket = ns.clone();
        s.cluster.subject_prefix = ns;
        s.cluster.presence_ttl = Duration::from_secs(3);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_never_hold_one_cluster_lease_at_once() {
    let Some(nats) = nats_url("two_nodes_never_hold_one_cluster_lease_at_once") else {
        return;
    };
    let ns = format!("lease{}", std::process::id());
    let a = node("a", None, &nats, &ns, &[]).await;
    let b = node("b", None, &nats, &ns, &[]).await;
    let (a, b) = (a.server.handle(), b.server.handle());
    let held = a.lease("site.Depot 1").await.expect("free at first");
    assert!(b.lease("site.Depot 1").await.is_none(), "held by a");
    assert!(
        a.lease("site.Depot 1").await.is_none(),
        "not twice, even by its holder"
    );
    let other = b.lease("campaigns").await.expect("another lease is free");
    // Held past the TTL: renewed, so still a's.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        b.lease("site.Depot 1").await.is_none(),
        "renewed past the TTL"
    );
    drop(held);
    let taken = b
        .lease_waiting("site.Depot 1", BOUND)
        .await
        .expect("released: b takes it");
    assert!(a.lease("site.Depot 1").await.is_none());
    drop((taken, other));
}

/// What the stations accepted, in the order they accepted it: (station, limit).
type Log = Arc<Mutex<Vec<(usize, f64)>>>;

fn event(index: usize, seq_no: i64, event_type: &str) -> TransactionEventRequest {
    serde_json::from_value(json!({
        "eventType": event_type,
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "triggerReason": "CablePluggedIn",
        "seqNo": seq_no,
        "transactionInfo": {"transactionId": format!("TX-{index}"), "chargingState": "Charging"},
        "evse": {"id": 1, "connectorId": 1},
    }))
    .unwrap()
}

/// Boot, start charging when `go` opens, and accept every SetChargingProfile (logging it).
///
/// `go` is a watch rather than a `Notify`: a station still booting when it opens sees it open
/// (a `Notify` wakes only those already waiting, and a station it missed would never start).
async fn station(index: usize, ws: String, log: Log, mut go: tokio::sync::watch::Receiver<bool>) {
    let id = format!("SHARED{index:02}");
    let mut options = ConnectOptions::new(format!("{ws}/{id}")).basic(&id, PASSWORD);
    // Long enough for a TransactionEvent on a loaded machine: a station whose call timed out
    // would stop, and the test would wait for an allocation that never comes.
    options.timeout = BOUND;
    let mut station = Station::connect(&options).await.unwrap();
    let boot: BootNotificationRequest = serde_json::from_value(json!({
        "reason": "PowerUp", "chargingStation": {"model": "Shared", "vendorName": "unicharge"},
    }))
    .unwrap();
    station.call(&boot).await.unwrap();
    go.wait_for(|open| *open).await.unwrap();
    station.call(&event(index, 0, "Started")).await.unwrap();
    loop {
        let action = match station.next_call_action().await {
            Ok(action) => action,
            Err(SimError::Timeout(..)) => continue,
            Err(_) => return,
        };
        assert_eq!(action, "SetChargingProfile");
        let (call, request) = station
            .expect_call::<SetChargingProfileRequest>()
            .await
            .unwrap();
        let limit: f64 = request.charging_profile.charging_schedule[0].charging_schedule_period[0]
            .limit
            .to_string()
            .parse()
            .unwrap();
        log.lock().unwrap().push((index, limit));
        let answer = SetChargingProfileResponse {
            custom_data: None,
            status: ChargingProfileStatusEnumType::Accepted,
            status_info: None,
        };
        if station
            .respond::<SetChargingProfileRequest>(&call, &answer)
            .await
            .is_err()
        {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_starting_at_once_never_exceed_a_site_limit() {
    let Some(nats) = nats_url("two_nodes_starting_at_once_never_exceed_a_site_limit") else {
        return;
    };
    let Some(store) = common::shared_postgres_store("shared_site") else {
        return;
    };
    let ns = format!("site{}", std::process::id());
    let ids: Vec<String> = (0..STATIONS).map(|i| format!("SHARED{i:02}")).collect();
    let specs: Vec<StationSpec> = ids
        .iter()
        .map(|id| StationSpec::new(Box::leak(id.clone().into_boxed_str()), 1))
        .collect();
    let a = node("a", Some(store.clone()), &nats, &ns, &specs).await;
    let b = node("b", Some(store), &nats, &ns, &[]).await;
    let http = Client::builder().no_proxy().timeout(BOUND).build().unwrap();
    let key = a.server.initial_admin_key.clone().unwrap();
    let api = |node: &TestCsms| format!("http://{}/api/v1", node.server.http_addr.unwrap());
    let response = http
        .put(format!("{}/site-groups/shared", api(&a)))
        .bearer_auth(&key)
        .json(&json!({
            "limit": LIMIT, "unit": "A", "stations": ids,
            "minRate": 6.0, "maxRate": 32.0, "phases": 3,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // Half the stations on each node; all start charging at the same moment.
    let log: Log = Arc::default();
    let (go, opened) = tokio::sync::watch::channel(false);
    for i in 0..STATIONS {
        let ws = if i % 2 == 0 { a.ws_base() } else { b.ws_base() };
        tokio::spawn(station(i, ws, log.clone(), opened.clone()));
    }
    let started = Instant::now();
    while a.server.handle().connected_stations().len() < STATIONS {
        assert!(started.elapsed() < BOUND, "stations not all connected");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    go.send(true).unwrap();

    // Settles at the equal share, 10 A each, seen through node b's API (the shared store).
    let settled = loop {
        let group: Value = http
            .get(format!("{}/site-groups/shared", api(&b)))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let evses = group["evses"].as_array().cloned().unwrap_or_default();
        let accepted: Vec<f64> = evses
            .iter()
            .filter(|e| e["status"] == "Accepted")
            .map(|e| e["rate"].as_f64().unwrap())
            .collect();
        if accepted.len() == STATIONS && accepted.iter().all(|r| (*r - 10.0).abs() < 1e-9) {
            break group;
        }
        assert!(started.elapsed() < BOUND * 2, "did not settle: {group}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(settled["allocated"].as_f64().unwrap() <= LIMIT, "{settled}");

    // Replayed in the order the stations accepted them, the limits never exceed the group's.
    let log = log.lock().unwrap().clone();
    let mut in_force: HashMap<usize, f64> = HashMap::new();
    for (n, (station, limit)) in log.iter().enumerate() {
        in_force.insert(*station, *limit);
        let sum: f64 = in_force.values().sum();
        assert!(
            sum <= LIMIT + 1e-9,
            "after limit {n} ({station} at {limit} A) the limits in force sum to {sum} A: {log:?}"
        );
    }
    assert_eq!(in_force.len(), STATIONS);
}

/// Requests sent through each node's API at once.
const PER_NODE: usize = 4;

/// A station on node b that numbers things the CSMS sends: answers GetLocalListVersion with
/// the version it holds, accepts every SendLocalList and GetBaseReport after `pause` (long
/// enough for two nodes that picked the same number to both send it) and logs the local-list
/// versions and report requestIds in the order they arrive.
async fn numbered_station(
    id: &'static str,
    ws: String,
    numbers: Arc<Mutex<Vec<i64>>>,
    pause: Duration,
) {
    let mut options = ConnectOptions::new(format!("{ws}/{id}")).basic(id, PASSWORD);
    options.timeout = BOUND;
    let mut station = Station::connect(&options).await.unwrap();
    let boot: BootNotificationRequest = serde_json::from_value(json!({
        "reason": "PowerUp", "chargingStation": {"model": "Numbered", "vendorName": "unicharge"},
    }))
    .unwrap();
    station.call(&boot).await.unwrap();
    let mut held = 0;
    loop {
        let action = match station.next_call_action().await {
            Ok(action) => action,
            Err(SimError::Timeout(..)) => continue,
            Err(_) => return,
        };
        let sent = match action.as_str() {
            "GetLocalListVersion" => {
                let (call, _) = station
                    .expect_call::<GetLocalListVersionRequest>()
                    .await
                    .unwrap();
                let answer = GetLocalListVersionResponse {
                    custom_data: None,
                    version_number: held,
                };
                station
                    .respond::<GetLocalListVersionRequest>(&call, &answer)
                    .await
            }
            "SendLocalList" => {
                let (call, request) = station.expect_call::<SendLocalListRequest>().await.unwrap();
                numbers.lock().unwrap().push(request.version_number);
                held = request.version_number;
                tokio::time::sleep(pause).await;
                let answer = SendLocalListResponse {
                    custom_data: None,
                    status: SendLocalListStatusEnumType::Accepted,
                    status_info: None,
                };
                station
                    .respond::<SendLocalListRequest>(&call, &answer)
                    .await
            }
            other => {
                assert_eq!(other, "GetBaseReport");
                let (call, request) = station.expect_call::<GetBaseReportRequest>().await.unwrap();
                numbers.lock().unwrap().push(request.request_id);
                tokio::time::sleep(pause).await;
                let answer = GetBaseReportResponse {
                    custom_data: None,
                    status: GenericDeviceModelStatusEnumType::Accepted,
                    status_info: None,
                };
                station
                    .respond::<GetBaseReportRequest>(&call, &answer)
                    .await
            }
        };
        if sent.is_err() {
            return;
        }
    }
}

/// Two nodes on one store and one NATS, `station` registered, and an API client for both.
struct Pair {
    a: TestCsms,
    b: TestCsms,
    http: Client,
    key: String,
}

impl Pair {
    async fn start(test: &str, station: &'static str) -> Option<Pair> {
        let nats = nats_url(test)?;
        let store = common::shared_postgres_store(&format!("shared_{}", station.to_lowercase()))?;
        let ns = format!("{}{}", station.to_lowercase(), std::process::id());
        let a = node(
            "a",
            Some(store.clone()),
            &nats,
            &ns,
            &[StationSpec::new(station, 1)],
        )
        .await;
        let b = node("b", Some(store), &nats, &ns, &[]).await;
        let http = Client::builder().no_proxy().timeout(BOUND).build().unwrap();
        let key = a.server.initial_admin_key.clone().unwrap();
        Some(Pair { a, b, http, key })
    }

    /// The API of node a (`true`) or b.
    fn api(&self, on_a: bool) -> String {
        let node = if on_a { &self.a } else { &self.b };
        format!("http://{}/api/v1", node.server.http_addr.unwrap())
    }

    /// `station` connected to node b, logging what it numbers; back once node a sees it.
    async fn connect_to_b(&self, station: &'static str) -> Arc<Mutex<Vec<i64>>> {
        let numbers: Arc<Mutex<Vec<i64>>> = Arc::default();
        tokio::spawn(numbered_station(
            station,
            self.b.ws_base(),
            numbers.clone(),
            Duration::from_millis(50),
        ));
        let started = Instant::now();
        while self.a.server.handle().connected_stations().is_empty() {
            assert!(started.elapsed() < BOUND, "{station} not connected");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        numbers
    }

    /// POST `body(n)` to `path` through each node in turn, `count` times, all at once; the
    /// `field` of every 200 answer.
    async fn post_at_once(
        &self,
        count: usize,
        path: &str,
        body: impl Fn(usize) -> Value,
        field: &str,
    ) -> Vec<i64> {
        let updating: Vec<_> = (0..count)
            .map(|n| {
                let body = body(n);
                let request = self
                    .http
                    .post(format!("{}{path}", self.api(n % 2 == 0)))
                    .bearer_auth(&self.key)
                    .json(&body);
                let field = field.to_string();
                tokio::spawn(async move {
                    let response = request.send().await.unwrap();
                    let status = response.status();
                    let body: Value = response.json().await.unwrap();
                    assert_eq!(status, 200, "{body}");
                    assert_eq!(body["status"], "Accepted", "{body}");
                    body[&field].as_i64().unwrap()
                })
            })
            .collect();
        let mut answered = Vec::new();
        for update in updating {
            answered.push(update.await.unwrap());
        }
        answered.sort();
        answered
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_updating_one_local_list_never_send_one_version_twice() {
    let test = "two_nodes_updating_one_local_list_never_send_one_version_twice";
    let Some(pair) = Pair::start(test, "LIST01").await else {
        return;
    };
    let updates = 2 * PER_NODE;
    for n in 0..updates {
        let response = pair
            .http
            .put(format!("{}/tokens/ISO14443/TOK{n}", pair.api(true)))
            .bearer_auth(&pair.key)
            .json(&json!({"status": "Accepted"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    // Held by node b; its list is changed through both nodes at once.
    let received = pair.connect_to_b("LIST01").await;
    let answered = pair
        .post_at_once(
            updates,
            "/stations/LIST01/local-list/differential",
            |n| json!({"upsert": [{"idToken": format!("TOK{n}"), "type": "ISO14443"}]}),
            "versionNumber",
        )
        .await;

    let all: Vec<i64> = (1..=updates as i64).collect();
    assert_eq!(
        *received.lock().unwrap(),
        all,
        "the versions the station received, in order: each once, each higher"
    );
    assert_eq!(answered, all, "the versions the two APIs answered");
    let list: Value = pair
        .http
        .get(format!("{}/stations/LIST01/local-list", pair.api(false)))
        .bearer_auth(&pair.key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["versionNumber"], updates as i64, "{list}");
    assert_eq!(
        list["entries"].as_array().map(Vec::len),
        Some(updates),
        "every token of every update is in the stored list: {list}"
    );
}

/// RequestIds (reports, tracked requests, profile reports) are picked as one above the highest
/// recorded; picked by two nodes at once, one of them would be refused by the store (or, on a
/// station that numbers reports itself, two reports would merge). Reports asked for through
/// both nodes at once get distinct ids, and every request is recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_requesting_reports_at_once_never_share_a_request_id() {
    let test = "two_nodes_requesting_reports_at_once_never_share_a_request_id";
    let Some(pair) = Pair::start(test, "REPORT01").await else {
        return;
    };
    let received = pair.connect_to_b("REPORT01").await;
    let requests = 2 * PER_NODE;
    let answered = pair
        .post_at_once(
            requests,
            "/stations/REPORT01/reports",
            |_| json!({"reportBase": "SummaryInventory"}),
            "requestId",
        )
        .await;
    let all: Vec<i64> = (1..=requests as i64).collect();
    assert_eq!(answered, all, "the requestIds the two APIs answered");
    let mut received = received.lock().unwrap().clone();
    received.sort();
    assert_eq!(received, all, "the requestIds the station received");
    for id in all {
        let response = pair
            .http
            .get(format!(
                "{}/stations/REPORT01/reports/{id}",
                pair.api(id % 2 == 0)
            ))
            .bearer_auth(&pair.key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "report {id} recorded");
    }
}
