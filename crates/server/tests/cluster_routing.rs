//! Several nodes routed over NATS (issue 17, ADR 0048), driven from outside: real servers on
//! loopback ports joined to a real `nats-server -js`, simulated stations over real WebSockets,
//! the operator's REST API over real HTTP.
//!
//! Runs when `UNICHARGE_TEST_NATS_URL` is set (`.ci/run` starts a NATS server and sets it);
//! without it each test prints why it skipped and passes. Each test uses its own bucket and
//! subject prefix, so tests run in parallel on one NATS server.
//!
//! Until the PostgreSQL store lands, each node here has its own SQLite store, provisioned with
//! the same stations (what a shared store gives for free): these tests are about routing.

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use unicharge_core::StationId;
use unicharge_ocpp::v201::{
    BootNotificationRequest, RegistrationStatusEnumType, ResetRequest, ResetResponse,
    ResetStatusEnumType,
};
use unicharge_sim::{ConnectOptions, Station};

use common::{StationSpec, TestCsms, PASSWORD};

/// How long any single expected thing may take before a test fails.
const BOUND: Duration = Duration::from_secs(10);

fn nats_url(test: &str) -> Option<String> {
    let url = std::env::var("UNICHARGE_TEST_NATS_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        eprintln!("{test}: skipped, UNICHARGE_TEST_NATS_URL is not set (.ci/run sets it)");
    }
    url
}

/// A bucket and subject prefix no other test uses.
fn namespace(test: &str) -> String {
    format!("t{}_{}", std::process::id(), test.replace('-', "_"))
}

/// One node of the cluster `ns`, with the API on an ephemeral port.
async fn node(name: &str, url: &str, ns: &str, stations: &[StationSpec]) -> TestCsms {
    node_with_ttl(name, url, ns, stations, Duration::from_secs(3)).await
}

async fn node_with_ttl(
    name: &str,
    url: &str,
    ns: &str,
    stations: &[StationSpec],
    ttl: Duration,
) -> TestCsms {
    let (name, url, ns) = (name.to_string(), url.to_string(), ns.to_string());
    TestCsms::start_with(stations, move |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        s.cluster.nats_url = Some(url);
        s.cluster.node_id = Some(name);
        s.cluster.bucket = ns.clone();
        s.cluster.subject_prefix = ns;
        s.cluster.presence_ttl = ttl;
        s.csms.call_timeout = Duration::from_secs(5);
    })
    .await
}

struct Api {
    base: String,
    key: String,
    http: Client,
}

impl Api {
    fn of(node: &TestCsms) -> Api {
        Api {
            base: format!("http://{}", node.server.http_addr.unwrap()),
            key: node.server.initial_admin_key.clone().expect("admin key"),
            http: Client::new(),
        }
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }
}

/// Connect `id` to `node` and boot it (Accepted).
async fn boot(node: &TestCsms, id: &str) -> Station {
    let mut options = ConnectOptions::new(format!("{}/{id}", node.ws_base())).basic(id, PASSWORD);
    options.timeout = BOUND;
    let mut station = Station::connect(&options)
        .await
        .unwrap_or_else(|e| panic!("{id} cannot connect: {e}"));
    let boot: BootNotificationRequest = serde_json::from_value(json!({
        "reason": "PowerUp",
        "chargingStation": {"model": "Cluster-1", "vendorName": "unicharge"},
    }))
    .unwrap();
    let answer = station.call(&boot).await.expect("boot answered");
    assert_eq!(answer.status, RegistrationStatusEnumType::Accepted);
    station
}

/// Wait (polling, bounded) until `node` sees `id` connected somewhere, or not.
async fn until_seen(node: &TestCsms, id: &str, connected: bool) {
    let station = StationId::new(id).unwrap();
    let start = Instant::now();
    while node.server.handle().is_connected(&station) != connected {
        assert!(
            start.elapsed() < BOUND,
            "{id} never seen {}",
            if connected { "connected" } else { "gone" }
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Answer the next Reset with `status`.
async fn answer_reset(station: &mut Station, status: ResetStatusEnumType) -> ResetRequest {
    let (id, request) = tokio::time::timeout(BOUND, station.expect_call::<ResetRequest>())
        .await
        .expect("Reset reached the station")
        .unwrap();
    station
        .respond::<ResetRequest>(
            &id,
            &ResetResponse {
                custom_data: None,
                status,
                status_info: None,
            },
        )
        .await
        .unwrap();
    request
}

/// An operator's Reset through node A reaches a station connected to node B, with the
/// station's own answer; node A's command log keeps it, and A's station list shows the
/// station online although its socket is on B.
#[tokio::test]
async fn an_operation_through_one_node_reaches_a_station_on_another() {
    let Some(url) = nats_url("an_operation_through_one_node_reaches_a_station_on_another") else {
        return;
    };
    let ns = namespace("route");
    let stations = [StationSpec::new("CL-1", 1)];
    let a = node("a", &url, &ns, &stations).await;
    let b = node("b", &url, &ns, &stations).await;
    let mut facts_on_a = a.server.handle().subscribe_cluster();
    let mut work_on_a = a.server.handle().subscribe();
    let mut station = boot(&b, "CL-1").await;
    until_seen(&a, "CL-1", true).await;
    // B's committed facts reach A's cluster view (what A's UI live updates show).
    let booted = tokio::time::timeout(BOUND, async {
        loop {
            match facts_on_a.recv().await.unwrap() {
                unicharge_csms::Fact::StationBooted { station, status } => break (station, status),
                _ => continue,
            }
        }
    })
    .await
    .expect("B's StationBooted reached A");
    assert_eq!(booted.0.as_str(), "CL-1");
    assert_eq!(booted.1, unicharge_core::RegistrationStatus::Accepted);
    // A's own facts (what work that must happen once reads) do not include B's.
    while let Ok(fact) = work_on_a.try_recv() {
        assert_ne!(fact.station().as_str(), "CL-1", "{fact:?}");
    }

    let api = Api::of(&a);
    let call = tokio::spawn(async move {
        let answer = api
            .post(
                "/api/v1/stations/CL-1/reset",
                json!({"type": "OnIdle", "evseId": 1}),
            )
            .await;
        (answer, api)
    });
    // `Scheduled`, not the default Accepted: the answer must be the station's own.
    let request = answer_reset(&mut station, ResetStatusEnumType::Scheduled).await;
    assert_eq!(request.evse_id, Some(1));
    let ((status, body), api) = call.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "Scheduled", "{body}");

    let log = api.get("/api/v1/stations/CL-1/commands").await;
    let first = &log
        .as_array()
        .unwrap_or_else(|| log["items"].as_array().unwrap())[0];
    assert_eq!(first["action"], "Reset", "{log}");
    assert_eq!(first["outcome"], "result", "{log}");

    let list = api.get("/api/v1/stations").await;
    let listed = list
        .as_array()
        .unwrap_or_else(|| list["items"].as_array().unwrap())
        .iter()
        .find(|s| s["id"] == "CL-1")
        .cloned()
        .unwrap();
    assert_eq!(listed["connected"], true, "{list}");

    // A CALLERROR from the station travels back as one too (502 with the station's code).
    let api2 = Api::of(&a);
    let call = tokio::spawn(async move {
        api2.post("/api/v1/stations/CL-1/reset", json!({"type": "Immediate"}))
            .await
    });
    let (id, _) = tokio::time::timeout(BOUND, station.expect_call::<ResetRequest>())
        .await
        .unwrap()
        .unwrap();
    let error = json!([4, id, "NotSupported", "not here", {}]).to_string();
    station.send_text(&error).await.unwrap();
    let (status, body) = call.await.unwrap();
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(body.to_string().contains("NotSupported"), "{body}");
}

/// A station no node holds fails at once (409), not after the call timeout; when the node
/// holding a station dies, calls to it fail fast too, and once the station has reconnected to
/// another node the same operation works again.
#[tokio::test]
async fn a_dead_nodes_station_fails_fast_then_works_again_after_it_reconnects() {
    let Some(url) =
        nats_url("a_dead_nodes_station_fails_fast_then_works_again_after_it_reconnects")
    else {
        return;
    };
    let ns = namespace("failover");
    let stations = [StationSpec::new("CL-2", 1), StationSpec::new("CL-3", 1)];
    let a = node("a", &url, &ns, &stations).await;
    let b = node("b", &url, &ns, &stations).await;
    let api = Api::of(&a);

    // Registered, connected nowhere.
    let started = Instant::now();
    let (status, body) = api
        .post("/api/v1/stations/CL-3/reset", json!({"type": "OnIdle"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(started.elapsed() < Duration::from_secs(2));

    let station = boot(&b, "CL-2").await;
    until_seen(&a, "CL-2", true).await;
    // Node B dies: its tasks stop without deleting its entries (as after SIGKILL); the
    // station's socket closes.
    b.server.shutdown().await;
    drop(station);
    let started = Instant::now();
    let (status, body) = api
        .post("/api/v1/stations/CL-2/reset", json!({"type": "OnIdle"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a dead node must fail fast, took {:?}",
        started.elapsed()
    );

    // The station reconnects (the load balancer sends it to A): reachable again.
    let mut station = boot(&a, "CL-2").await;
    let call = tokio::spawn(async move {
        api.post("/api/v1/stations/CL-2/reset", json!({"type": "OnIdle"}))
            .await
    });
    answer_reset(&mut station, ResetStatusEnumType::Accepted).await;
    let (status, body) = call.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "Accepted");
}

/// Entries are renewed while the station stays connected: well past the TTL it is still
/// reachable from the other node (and its entry on NATS is still the holder's).
#[tokio::test]
async fn a_connected_station_stays_reachable_past_the_presence_ttl() {
    let Some(url) = nats_url("a_connected_station_stays_reachable_past_the_presence_ttl") else {
        return;
    };
    let ns = namespace("renew");
    let stations = [StationSpec::new("CL-4", 1)];
    let ttl = Duration::from_secs(1);
    let a = node_with_ttl("a", &url, &ns, &stations, ttl).await;
    let b = node_with_ttl("b", &url, &ns, &stations, ttl).await;
    let _station = boot(&b, "CL-4").await;
    until_seen(&a, "CL-4", true).await;
    // The one wait that must be real: the TTL has to pass on the NATS server's clock.
    tokio::time::sleep(ttl * 5 / 2).await;
    let station = StationId::new("CL-4").unwrap();
    let holder = a.server.handle().is_connected(&station);
    assert!(
        holder,
        "the entry aged out although the station is connected"
    );

    let client = async_nats::connect(url.as_str()).await.unwrap();
    let kv = async_nats::jetstream::new(client)
        .get_key_value(ns.as_str())
        .await
        .unwrap();
    let entry: Value = serde_json::from_slice(&kv.get("CL-4").await.unwrap().unwrap()).unwrap();
    assert_eq!(entry, json!({"node": "b", "version": "2.0.1"}));
}

/// Removing a station through node A closes its connection on node B (which holds it).
#[tokio::test]
async fn removing_a_station_through_one_node_closes_its_socket_on_another() {
    let Some(url) = nats_url("removing_a_station_through_one_node_closes_its_socket_on_another")
    else {
        return;
    };
    let ns = namespace("remove");
    let stations = [StationSpec::new("CL-5", 1)];
    let a = node("a", &url, &ns, &stations).await;
    let b = node("b", &url, &ns, &stations).await;
    let mut station = boot(&b, "CL-5").await;
    until_seen(&a, "CL-5", true).await;
    let api = Api::of(&a);
    let response = api
        .http
        .delete(format!("{}/api/v1/stations/CL-5", api.base))
        .bearer_auth(&api.key)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    station
        .expect_closed(BOUND)
        .await
        .expect("B closed the removed station's socket");
    until_seen(&a, "CL-5", false).await;
}

/// NATS keeps the bucket in memory: a restarted NATS server has lost it. The nodes create it
/// again and refill it with their stations at the next renewal (simulated here by deleting the
/// bucket's stream under the running nodes).
#[tokio::test]
async fn a_bucket_lost_by_nats_is_recreated_and_refilled() {
    let Some(url) = nats_url("a_bucket_lost_by_nats_is_recreated_and_refilled") else {
        return;
    };
    let ns = namespace("lost");
    let stations = [StationSpec::new("CL-6", 1)];
    let ttl = Duration::from_secs(1);
    let a = node_with_ttl("a", &url, &ns, &stations, ttl).await;
    let b = node_with_ttl("b", &url, &ns, &stations, ttl).await;
    let _station = boot(&b, "CL-6").await;
    until_seen(&a, "CL-6", true).await;

    let js = async_nats::jetstream::new(async_nats::connect(url.as_str()).await.unwrap());
    js.delete_stream(format!("KV_{ns}")).await.unwrap();
    let start = Instant::now();
    let entry = loop {
        assert!(
            start.elapsed() < BOUND,
            "the bucket was not recreated and refilled"
        );
        if let Ok(kv) = js.get_key_value(ns.as_str()).await {
            if let Ok(Some(value)) = kv.get("CL-6").await {
                break serde_json::from_slice::<Value>(&value).unwrap();
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(entry["node"], "b");
    // And node A still routes to it after the stale mirror entries aged out.
    tokio::time::sleep(ttl).await;
    until_seen(&a, "CL-6", true).await;
}

/// Issue 17's scenario at its size, for routing: three nodes, 300 stations spread across them,
/// operations driven through node 1 to the stations on nodes 2 and 3; node 2 dies; its
/// stations reconnect to the others (as behind a load balancer) and the same operations work
/// again for all 300. (Each node has its own store here; the check that no acknowledged
/// TransactionEvent is lost or doubled joins this test with the shared PostgreSQL store.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_300_stations_survive_a_dead_node() {
    use std::sync::{Arc, Mutex};
    use unicharge_core::credentials::GeneratedPassword;

    let Some(url) = nats_url("three_nodes_300_stations_survive_a_dead_node") else {
        return;
    };
    const N: usize = 300;
    let ns = namespace("three");
    let password = GeneratedPassword::new();
    let hash = password.hash();
    let ids: Vec<String> = (0..N).map(|i| format!("C3-{i:03}")).collect();
    let mut bootstrap = String::new();
    for id in &ids {
        bootstrap.push_str(&format!(
            "[[stations]]\nid = {id:?}\nsecurity_profile = 1\npassword_hash = {hash:?}\n"
        ));
    }
    let mut nodes = Vec::new();
    for name in ["n1", "n2", "n3"] {
        let (bootstrap, url, ns) = (bootstrap.clone(), url.clone(), ns.clone());
        let node = TestCsms::start_with(&[], move |s| {
            let path = s.data_dir.with_file_name("cluster-bootstrap.toml");
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bootstrap).unwrap();
            s.bootstrap = Some(path);
            s.http.listen = Some("127.0.0.1:0".parse().unwrap());
            s.cluster.nats_url = Some(url);
            s.cluster.node_id = Some(name.into());
            s.cluster.bucket = ns.clone();
            s.cluster.subject_prefix = ns;
            s.cluster.presence_ttl = Duration::from_secs(3);
        })
        .await;
        nodes.push(node);
    }
    // The load balancer: where a (re)connecting station may go.
    let alive: Arc<Mutex<Vec<String>>> =
        Arc::new(Mutex::new(nodes.iter().map(|n| n.ws_base()).collect()));
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for (i, id) in ids.iter().enumerate() {
        let (alive, id, password) = (alive.clone(), id.clone(), password.as_str().to_string());
        let answered = answered.clone();
        tokio::spawn(async move {
            let mut attempt = i;
            loop {
                let base = {
                    let alive = alive.lock().unwrap();
                    alive[attempt % alive.len()].clone()
                };
                attempt += 1;
                let mut options = ConnectOptions::new(format!("{base}/{id}")).basic(&id, &password);
                options.timeout = Duration::from_secs(3600);
                let Ok(mut station) = Station::connect(&options).await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let boot: BootNotificationRequest = serde_json::from_value(json!({
                    "reason": "PowerUp",
                    "chargingStation": {"model": "Cluster-3", "vendorName": "unicharge"},
                }))
                .unwrap();
                if station.call(&boot).await.is_err() {
                    continue;
                }
                // Answer Resets until the connection ends, then reconnect elsewhere.
                while let Ok((call, _)) = station.expect_call::<ResetRequest>().await {
                    let answer = ResetResponse {
                        custom_data: None,
                        status: ResetStatusEnumType::Accepted,
                        status_info: None,
                    };
                    if station
                        .respond::<ResetRequest>(&call, &answer)
                        .await
                        .is_err()
                    {
                        break;
                    }
                    answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        });
    }
    let all_seen_by_n1 = |nodes: &[TestCsms]| nodes[0].server.handle().connected_stations().len();
    let start = Instant::now();
    while all_seen_by_n1(&nodes) < N {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "n1 sees {} of {N} stations",
            all_seen_by_n1(&nodes)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Every station, through node 1 (two thirds of them held by n2 and n3).
    let reset_all = |api: Arc<Api>, ids: Vec<String>| async move {
        let mut failures = Vec::new();
        for chunk in ids.chunks(30) {
            let calls: Vec<_> = chunk
                .iter()
                .map(|id| {
                    let api = api.clone();
                    let id = id.clone();
                    tokio::spawn(async move {
                        let (status, body) = api
                            .post(
                                &format!("/api/v1/stations/{id}/reset"),
                                json!({"type": "OnIdle"}),
                            )
                            .await;
                        (id, status, body)
                    })
                })
                .collect();
            for call in calls {
                let (id, status, body) = call.await.unwrap();
                if status != StatusCode::OK || body["status"] != "Accepted" {
                    failures.push(format!("{id}: {status} {body}"));
                }
            }
        }
        failures
    };
    let api = Arc::new(Api::of(&nodes[0]));
    let failures = reset_all(api.clone(), ids.clone()).await;
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_eq!(answered.load(std::sync::atomic::Ordering::Relaxed), N);

    // Node 2 dies (its tasks stop, its entries stay until they age out; its sockets close).
    let n2 = nodes.remove(1);
    alive.lock().unwrap().retain(|b| *b != n2.ws_base());
    n2.server.shutdown().await;

    // Its stations reconnect to n1 and n3; n1 sees all 300 held by live nodes again.
    let js = async_nats::jetstream::new(async_nats::connect(url.as_str()).await.unwrap());
    let kv = js.get_key_value(ns.as_str()).await.unwrap();
    let start = Instant::now();
    loop {
        let mut on_dead = 0;
        for id in &ids {
            let entry = kv.get(id.as_str()).await.unwrap();
            let node = entry
                .map(|e| serde_json::from_slice::<Value>(&e).unwrap()["node"].clone())
                .unwrap_or(Value::Null);
            if node != "n1" && node != "n3" {
                on_dead += 1;
            }
        }
        if on_dead == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{on_dead} stations still not held by a live node"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let failures = reset_all(api, ids.clone()).await;
    assert!(
        failures.is_empty(),
        "{} failed after n2 died: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_eq!(answered.load(std::sync::atomic::Ordering::Relaxed), 2 * N);
}
