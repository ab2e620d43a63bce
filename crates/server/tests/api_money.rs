//! The operator REST API of the money path, driven over real HTTP against a real server whose
//! OCPP side talks to a simulated charging station that answers the CSMS's calls.
//!
//! Covered: local authorization lists (Full and Differential updates, strictly increasing
//! versions, the Full resend after VersionMismatch / Failed, serialized per station, nothing
//! stored for a station that is not connected), remote start (CSMS-allocated remoteStartIds,
//! outcome recorded, linked to the transaction that follows) and stop, transactions with their
//! events, meter values and charge record, transaction status, unlock, clear cache,
//! reservations (create, list, cancel, expiry shown as Expired), tariffs (CRUD, validation,
//! assignment precedence through `/stations/{id}/tariff`), roles (a read-only key reads but
//! cannot write) and the OpenAPI document.
//!
//! Every test runs its own server on ephemeral loopback ports. Nothing sleeps except bounded
//! polling.

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use unicharge_core::api_keys::ApiRole;
use unicharge_core::StationId;
use unicharge_ocpp::v201::{
    CancelReservationRequest, ClearCacheRequest, GetLocalListVersionRequest,
    GetTransactionStatusRequest, OcppRequest, RequestStartTransactionRequest,
    RequestStopTransactionRequest, ReserveNowRequest, SendLocalListRequest, UnlockConnectorRequest,
};
use unicharge_sim::octt::{states, Target};
use unicharge_sim::{ConnectOptions, Station};

use common::{StationSpec, TestCsms, PASSWORD};

/// How long any single expected thing may take before a test fails.
const BOUND: Duration = Duration::from_secs(3);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

struct Api {
    csms: TestCsms,
    base: String,
    admin: String,
    http: Client,
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    content_type: String,
    body: Value,
    text: String,
}

impl Reply {
    async fn read(response: reqwest::Response) -> Reply {
        let status = response.status();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = response.text().await.expect("a readable body");
        let body = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
        Reply {
            status,
            content_type,
            body,
            text,
        }
    }

    /// Assert this success status; returns the JSON body.
    #[track_caller]
    fn ok(self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text);
        self.body
    }

    /// Assert an error answer with this status and `error` code; returns the body.
    #[track_caller]
    fn error(self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text);
        assert_eq!(self.content_type, "application/json", "{}", self.text);
        assert_eq!(self.body["error"], code, "error code: {}", self.text);
        assert!(
            self.body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "an error carries a message: {}",
            self.text
        );
        self.body
    }
}

async fn send(
    http: &Client,
    method: Method,
    url: String,
    token: &str,
    body: Option<&Value>,
) -> Reply {
    let mut request = http.request(method.clone(), &url).bearer_auth(token);
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
    let csms = TestCsms::start_with(stations, |s| {
        s.csms.wss_listen = None;
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
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
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    Api {
        csms,
        base: format!("http://{addr}/api/v1"),
        admin,
        http,
    }
}

impl Api {
    async fn request_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Reply {
        send(
            &self.http,
            method,
            format!("{}{path}", self.base),
            token,
            body,
        )
        .await
    }

    async fn get(&self, path: &str) -> Reply {
        self.request_as(&self.admin, Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.request_as(&self.admin, Method::POST, path, Some(&body))
            .await
    }

    async fn put(&self, path: &str, body: Value) -> Reply {
        self.request_as(&self.admin, Method::PUT, path, Some(&body))
            .await
    }

    async fn delete(&self, path: &str) -> Reply {
        self.request_as(&self.admin, Method::DELETE, path, None)
            .await
    }

    /// POST with the admin key in a task, so that the station can answer the CALL meanwhile.
    fn spawn_post(&self, path: &str, body: Value) -> JoinHandle<Reply> {
        let http = self.http.clone();
        let url = format!("{}{path}", self.base);
        let token = self.admin.clone();
        tokio::spawn(async move { send(&http, Method::POST, url, &token, Some(&body)).await })
    }

    async fn key(&self, role: ApiRole) -> String {
        unicharge_api::auth::create_key(self.csms.server.store.as_ref(), "test key", role)
            .await
            .unwrap_or_else(|e| panic!("creating a {role} key failed: {e:?}"))
            .0
    }

    /// Connect a simulated station over ws and play the OCTT's Booted state.
    async fn booted(&self, id: &str) -> Station {
        let mut options =
            ConnectOptions::new(format!("{}/{id}", self.csms.ws_base())).basic(id, PASSWORD);
        options.timeout = Duration::from_secs(5);
        let mut station = Station::connect(&options)
            .await
            .unwrap_or_else(|e| panic!("{id} could not connect: {e}"));
        states::booted(&mut station, &Target::new(id))
            .await
            .unwrap_or_else(|e| panic!("{id} did not boot: {e}"));
        station
    }

    /// Put a token in the token store.
    async fn token(&self, id_token: &str, status: &str, group: Option<&str>) {
        let mut body = json!({ "status": status });
        if let Some(g) = group {
            body["groupIdToken"] = json!(g);
        }
        self.put(&format!("/tokens/ISO14443/{id_token}"), body)
            .await
            .ok(StatusCode::OK);
    }
}

/// Wait for the CSMS's CALL of type `R`, answer it with `response`; returns the request as JSON.
async fn answer<R: OcppRequest>(station: &mut Station, response: Value) -> Value {
    let (id, request) = station
        .expect_call::<R>()
        .await
        .unwrap_or_else(|e| panic!("no {:?} CALL: {e}", R::ACTION));
    let response: R::Response = serde_json::from_value(response).expect("a valid response");
    station.respond::<R>(&id, &response).await.unwrap();
    serde_json::to_value(request).unwrap()
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

fn entry(id_token: &str) -> Value {
    json!({"idToken": id_token, "type": "ISO14443"})
}

/// `(idToken, status or None when sent without idTokenInfo)` of a SendLocalListRequest.
fn list_items(request: &Value) -> Vec<(String, Option<String>)> {
    request["localAuthorizationList"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    (
                        i["idToken"]["idToken"].as_str().unwrap().to_string(),
                        i["idTokenInfo"]["status"].as_str().map(str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn items(list: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
    list.iter()
        .map(|(t, s)| (t.to_string(), s.map(str::to_string)))
        .collect()
}

fn tariff(id: &str, price_per_kwh: &str) -> Value {
    json!({
        "id": id,
        "currency": "EUR",
        "vatPercent": "20",
        "pricePerKwh": price_per_kwh,
        "pricePerChargingMinute": "0",
        "pricePerIdleMinute": "0",
        "sessionFee": "1.00",
    })
}

// ---------------------------------------------------------------------------------------------
// Local authorization list (D01, D02)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn local_list_full_and_differential_updates_get_strictly_increasing_versions() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = api.booted("CP001").await;
    api.token("AAA", "Accepted", Some("FLEET")).await;
    api.token("BBB", "Blocked", None).await;
    api.token("CCC", "Accepted", None).await;

    let before = api
        .get("/stations/CP001/local-list")
        .await
        .ok(StatusCode::OK);
    assert_eq!(before["versionNumber"], 0);
    assert_eq!(before["entries"], json!([]));

    // Full: version 1, each entry with its idTokenInfo from the token store.
    let pending = api.spawn_post(
        "/stations/CP001/local-list",
        json!({"entries": [entry("AAA"), entry("BBB")]}),
    );
    // D01: the CSMS does not know the station's version yet, so it asks first.
    answer::<GetLocalListVersionRequest>(&mut station, json!({"versionNumber": 0})).await;
    let sent = answer::<SendLocalListRequest>(&mut station, json!({"status": "Accepted"})).await;
    assert_eq!(sent["versionNumber"], 1);
    assert_eq!(sent["updateType"], "Full");
    assert_eq!(
        list_items(&sent),
        items(&[("AAA", Some("Accepted")), ("BBB", Some("Blocked"))])
    );
    assert_eq!(
        sent["localAuthorizationList"][0]["idTokenInfo"]["groupIdToken"]["idToken"],
        "FLEET"
    );
    assert_eq!(
        pending.await.unwrap().ok(StatusCode::OK),
        json!({"versionNumber": 1, "status": "Accepted", "resentFull": false})
    );

    // A token the store does not know: 400 naming it, nothing sent, nothing stored.
    let refused = api
        .post(
            "/stations/CP001/local-list",
            json!({"entries": [entry("AAA"), entry("NOPE")]}),
        )
        .await
        .error(StatusCode::BAD_REQUEST, "unknown_token");
    assert!(refused["message"].as_str().unwrap().contains("NOPE"));
    api.post(
        "/stations/CP001/local-list/differential",
        json!({"upsert": [entry("NOPE")]}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "unknown_token");
    assert_nothing_sent(&mut station, "probe-1").await;

    // Differential: version 2, upserts with idTokenInfo, removals without.
    let pending = api.spawn_post(
        "/stations/CP001/local-list/differential",
        json!({"upsert": [entry("CCC")], "remove": [entry("BBB")]}),
    );
    let sent = answer::<SendLocalListRequest>(&mut station, json!({"status": "Accepted"})).await;
    assert_eq!(sent["versionNumber"], 2);
    assert_eq!(sent["updateType"], "Differential");
    assert_eq!(
        list_items(&sent),
        items(&[("CCC", Some("Accepted")), ("BBB", None)])
    );
    assert_eq!(
        pending.await.unwrap().ok(StatusCode::OK),
        json!({"versionNumber": 2, "status": "Accepted", "resentFull": false})
    );

    // The stored list: AAA and CCC at version 2, statuses as the token store says now.
    api.token("AAA", "Blocked", Some("FLEET")).await;
    let list = api
        .get("/stations/CP001/local-list")
        .await
        .ok(StatusCode::OK);
    assert_eq!(list["versionNumber"], 2);
    assert_eq!(list["lastStatus"], "Accepted");
    assert_eq!(
        list["entries"],
        json!([
            {"idToken": "AAA", "type": "ISO14443", "status": "Blocked"},
            {"idToken": "CCC", "type": "ISO14443", "status": "Accepted"},
        ])
    );

    // D02: the station reports version 7; the next list goes out as 8.
    let pending = api.spawn_post("/stations/CP001/local-list/version", json!({}));
    answer::<GetLocalListVersionRequest>(&mut station, json!({"versionNumber": 7})).await;
    assert_eq!(
        pending.await.unwrap().ok(StatusCode::OK),
        json!({"versionNumber": 7})
    );
    let list = api
        .get("/stations/CP001/local-list")
        .await
        .ok(StatusCode::OK);
    assert_eq!(list["stationVersion"], 7);

    // An empty Full list clears it and sends no localAuthorizationList.
    let pending = api.spawn_post("/stations/CP001/local-list", json!({"entries": []}));
    let sent = answer::<SendLocalListRequest>(&mut station, json!({"status": "Accepted"})).await;
    assert_eq!(sent["versionNumber"], 8);
    assert_eq!(sent["updateType"], "Full");
    assert!(sent.get("localAuthorizationList").is_none(), "{sent}");
    assert_eq!(
        pending.await.unwrap().ok(StatusCode::OK)["versionNumber"],
        8
    );
    let list = api
        .get("/stations/CP001/local-list")
        .await
        .ok(StatusCode::OK);
    assert_eq!(list["entries"], json!([]));

    // Every send is in the command log.
    let log = api.get("/stations/CP001/commands").await.ok(StatusCode::OK);
    let sends = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "SendLocalList")
        .count();
    assert_eq!(sends, 3);
}

/// D01: before its first update to a station whose list version it does not know, the CSMS
/// asks (GetLocalListVersion), and the version it sends is above the station's.
#[tokio::test]
async fn d01_the_first_update_asks_the_station_its_version_and_goes_above_it() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = api.booted("CP001").await;
    api.token("AAA", "Accepted", None).await;
    let pending = api.spawn_post(
        "/stations/CP001/local-list/differential",
        json!({"upsert": [entry("AAA")]}),
    );
    answer::<GetLocalListVersionRequest>(&mut station, json!({"versionNumber": 41})).await;
    let sent = answer::<SendLocalListRequest>(&mut station, json!({"status": "Accepted"})).await;
    assert_eq!(sent["versionNumber"], 42);
    pending.await.unwrap().ok(StatusCode::OK);
    // Known now: the next update is not preceded by another question.
    let pending = api.spawn_post("/stations/CP001/local-list", json!({"entries": []}));
    let sent = answer::<SendLocalListRequest>(&mut station, json!({"status": "Accepted"})).await;
    assert_eq!(sent["versionNumber"], 43);
    pending.await.unwrap().ok(StatusCode::OK);
}

#[tokio::test]
async fn a_refused_local_list_update_is_followed_by_the_whole_list_as_full() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = api.booted("CP001").await;
    api.token("AAA", "Accepted", None).await;
    api.token("BBB", "Accepted", None).await;

    let pending = api.spawn_post(
        "/stations/CP001/local-list",
        json!({"entries": [entry("AAA")]}),
    );
    answer::<GetLocalListVersionRequest>(&mut station, json!({"versionNumber": 0})).await;
    answer::<SendLocalListRequest>(&mut station, json!({"status": "Accepted"})).await;
    pending.await.unwrap().ok(StatusCode::OK);

    // VersionMismatch on a Differential: the whole stored list goes out as Full, version + 1.
    let pending = api.spawn_post(
        "/stations/CP001/local-list/differential",
        json!({"upsert": [entry("BBB")]}),
    );
    let first =
        answer::<SendLocalListRequest>(&mut station, json!({"status": "VersionMismatch"})).await;
    assert_eq!(first["versionNumber"], 2);
    assert_eq!(first["updateType"], "Differential");
    let resent = answer::<SendLocalListRequest>(&mut station, json!({"status": "Accepted"})).await;
    assert_eq!(resent["versionNumber"], 3);
    assert_eq!(resent["updateType"], "Full");
    assert_eq!(
        list_items(&resent),
        items(&[("AAA", Some("Accepted")), ("BBB", Some("Accepted"))])
    );
    assert_eq!(
        pending.await.unwrap().ok(StatusCode::OK),
        json!({"versionNumber": 3, "status": "Accepted", "resentFull": true})
    );
    let list = api
        .get("/stations/CP001/local-list")
        .await
        .ok(StatusCode::OK);
    assert_eq!(list["versionNumber"], 3);
    assert_eq!(list["lastStatus"], "Accepted");

    // Failed, then Failed again: resent once only, and the station's answer is reported.
    let pending = api.spawn_post(
        "/stations/CP001/local-list",
        json!({"entries": [entry("BBB")]}),
    );
    let first = answer::<SendLocalListRequest>(&mut station, json!({"status": "Failed"})).await;
    assert_eq!(first["versionNumber"], 4);
    let resent = answer::<SendLocalListRequest>(&mut station, json!({"status": "Failed"})).await;
    assert_eq!(resent["versionNumber"], 5);
    assert_eq!(resent["updateType"], "Full");
    assert_eq!(list_items(&resent), items(&[("BBB", Some("Accepted"))]));
    assert_eq!(
        pending.await.unwrap().ok(StatusCode::OK),
        json!({"versionNumber": 5, "status": "Failed", "resentFull": true})
    );
    assert_nothing_sent(&mut station, "probe-1").await;
    let list = api
        .get("/stations/CP001/local-list")
        .await
        .ok(StatusCode::OK);
    assert_eq!(list["versionNumber"], 5);
    assert_eq!(list["lastStatus"], "Failed");
}

#[tokio::test]
async fn concurrent_local_list_updates_are_sent_one_after_the_other_with_distinct_versions() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = api.booted("CP001").await;
    api.token("AAA", "Accepted", None).await;
    api.token("BBB", "Accepted", None).await;

    let a = api.spawn_post(
        "/stations/CP001/local-list",
        json!({"entries": [entry("AAA")]}),
    );
    let b = api.spawn_post(
        "/stations/CP001/local-list/differential",
        json!({"upsert": [entry("BBB")]}),
    );
    answer::<GetLocalListVersionRequest>(&mut station, json!({"versionNumber": 0})).await;
    let first = answer::<SendLocalListRequest>(&mut station, json!({"status": "Accepted"})).await;
    let second = answer::<SendLocalListRequest>(&mut station, json!({"status": "Accepted"})).await;
    assert_eq!(first["versionNumber"], 1);
    assert_eq!(second["versionNumber"], 2);
    let mut versions = vec![
        a.await.unwrap().ok(StatusCode::OK)["versionNumber"]
            .as_i64()
            .unwrap(),
        b.await.unwrap().ok(StatusCode::OK)["versionNumber"]
            .as_i64()
            .unwrap(),
    ];
    versions.sort();
    assert_eq!(versions, vec![1, 2]);
}

#[tokio::test]
async fn a_station_that_is_not_connected_gets_409_and_keeps_its_version() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    api.token("AAA", "Accepted", None).await;
    api.post(
        "/stations/CP001/local-list",
        json!({"entries": [entry("AAA")]}),
    )
    .await
    .error(StatusCode::CONFLICT, "station_not_connected");
    let list = api
        .get("/stations/CP001/local-list")
        .await
        .ok(StatusCode::OK);
    assert_eq!(list["versionNumber"], 0);
    assert_eq!(list["entries"], json!([]));
    for (path, body) in [
        (
            "/stations/CP001/transactions/start",
            json!({"idToken": entry("AAA")}),
        ),
        (
            "/stations/CP001/reservations",
            json!({"idToken": entry("AAA")}),
        ),
        (
            "/stations/CP001/unlock",
            json!({"evseId": 1, "connectorId": 1}),
        ),
        ("/stations/CP001/clear-cache", json!({})),
    ] {
        api.post(path, body)
            .await
            .error(StatusCode::CONFLICT, "station_not_connected");
    }
    let reservations = api
        .get("/stations/CP001/reservations")
        .await
        .ok(StatusCode::OK);
    assert_eq!(reservations["reservations"], json!([]), "nothing stored");
    // An unknown station is 404 on every endpoint.
    for path in [
        "/stations/NOPE/local-list",
        "/stations/NOPE/transactions",
        "/stations/NOPE/reservations",
        "/stations/NOPE/tariff",
        "/stations/NOPE/meter-values",
    ] {
        api.get(path)
            .await
            .error(StatusCode::NOT_FOUND, "unknown_station");
    }
    api.post("/stations/NOPE/clear-cache", json!({}))
        .await
        .error(StatusCode::NOT_FOUND, "unknown_station");
}

// ---------------------------------------------------------------------------------------------
// Remote start / stop, transactions, meter values, charge records
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn remote_start_allocates_distinct_ids_records_the_outcome_and_links_the_transaction() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = api.booted("CP001").await;
    api.token("AAA", "Accepted", None).await;
    api.post("/tariffs", tariff("T-DEFAULT", "0.30"))
        .await
        .ok(StatusCode::CREATED);
    api.post(
        "/tariff-assignments",
        json!({"tariffId": "T-DEFAULT", "scope": {"scope": "default"}}),
    )
    .await
    .ok(StatusCode::CREATED);

    // Rejected first, then Accepted: each request gets its own remoteStartId.
    let pending = api.spawn_post(
        "/stations/CP001/transactions/start",
        json!({"idToken": entry("AAA"), "evseId": 1}),
    );
    let rejected =
        answer::<RequestStartTransactionRequest>(&mut station, json!({"status": "Rejected"})).await;
    let rejected_reply = pending.await.unwrap().ok(StatusCode::OK);
    assert_eq!(rejected_reply["status"], "Rejected");
    assert_eq!(rejected_reply["remoteStartId"], rejected["remoteStartId"]);

    let pending = api.spawn_post(
        "/stations/CP001/transactions/start",
        json!({"idToken": entry("AAA"), "evseId": 1,
               "groupIdToken": {"idToken": "FLEET", "type": "Central"}}),
    );
    let request =
        answer::<RequestStartTransactionRequest>(&mut station, json!({"status": "Accepted"})).await;
    assert_eq!(request["idToken"], entry("AAA"));
    assert_eq!(request["evseId"], 1);
    assert_eq!(request["groupIdToken"]["idToken"], "FLEET");
    let accepted = pending.await.unwrap().ok(StatusCode::OK);
    assert_eq!(accepted["status"], "Accepted");
    let remote_start_id = accepted["remoteStartId"].as_i64().unwrap();
    assert_eq!(request["remoteStartId"], remote_start_id);
    assert_ne!(rejected_reply["remoteStartId"], remote_start_id);
    assert!(accepted.get("transactionId").is_none(), "{accepted}");

    // The outcomes are kept.
    let store = api.csms.server.store.clone();
    let first = store
        .remote_start(rejected_reply["remoteStartId"].as_i64().unwrap())
        .await
        .unwrap()
        .expect("the rejected remote start is kept");
    assert_eq!(first.status, "Rejected");
    let second = store.remote_start(remote_start_id).await.unwrap().unwrap();
    assert_eq!(second.status, "Accepted");
    assert_eq!(second.evse_id, Some(1));

    // The station starts the transaction with the remoteStartId, charges 10 kWh and stops.
    let started_at = Utc::now() - chrono::Duration::minutes(30);
    let ts = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
    let energy = |t: chrono::DateTime<Utc>, wh: f64, context: &str| {
        json!([{"timestamp": ts(t), "sampledValue": [{
            "value": wh, "context": context,
            "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}}]}])
    };
    station
        .call_raw(
            "TransactionEvent",
            json!({
                "eventType": "Started", "timestamp": ts(started_at),
                "triggerReason": "RemoteStart", "seqNo": 0,
                "transactionInfo": {"transactionId": "TX-1", "chargingState": "Charging",
                                    "remoteStartId": remote_start_id},
                "evse": {"id": 1, "connectorId": 1},
                "idToken": entry("AAA"),
                "meterValue": energy(started_at, 1000.0, "Transaction.Begin"),
            }),
        )
        .await
        .expect("Started is answered");

    // Remote stop.
    let pending = api.spawn_post("/stations/CP001/transactions/TX-1/stop", json!({}));
    let stop =
        answer::<RequestStopTransactionRequest>(&mut station, json!({"status": "Accepted"})).await;
    assert_eq!(stop["transactionId"], "TX-1");
    assert_eq!(
        pending.await.unwrap().ok(StatusCode::OK),
        json!({"status": "Accepted"})
    );

    let ended_at = Utc::now();
    station
        .call_raw(
            "TransactionEvent",
            json!({
                "eventType": "Ended", "timestamp": ts(ended_at),
                "triggerReason": "RemoteStop", "seqNo": 2,
                "transactionInfo": {"transactionId": "TX-1", "chargingState": "EVConnected",
                                    "stoppedReason": "Remote"},
                "meterValue": energy(ended_at, 11000.0, "Transaction.End"),
            }),
        )
        .await
        .expect("Ended is answered");

    // The list and the detail.
    let list = api
        .get("/stations/CP001/transactions?limit=10")
        .await
        .ok(StatusCode::OK);
    let txs = list["transactions"].as_array().unwrap();
    assert_eq!(txs.len(), 1, "{list}");
    let tx = &txs[0];
    assert_eq!(tx["transactionId"], "TX-1");
    assert_eq!(tx["remoteStartId"], remote_start_id);
    assert_eq!(tx["tariffId"], "T-DEFAULT");
    assert_eq!(tx["seqNoGaps"], json!([1]));
    assert_eq!(tx["startedUnseen"], false);
    assert_eq!(tx["events"], 2);
    assert_eq!(tx["stoppedReason"], "Remote");

    let detail = api
        .get("/stations/CP001/transactions/TX-1")
        .await
        .ok(StatusCode::OK);
    assert_eq!(detail["remoteStartId"], remote_start_id);
    let events = detail["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["seqNo"], 0);
    assert_eq!(events[0]["eventType"], "Started");
    assert_eq!(events[0]["triggerReason"], "RemoteStart");
    assert_eq!(events[0]["idToken"], "AAA");
    assert_eq!(events[0]["meterValues"], 1);
    assert_eq!(events[1]["eventType"], "Ended");
    assert_eq!(events[1]["stoppedReason"], "Remote");
    let samples = detail["meterValues"].as_array().unwrap();
    assert_eq!(samples.len(), 2, "{detail}");
    assert_eq!(
        samples[1]["wh"].as_str().map(|s| s.parse::<f64>().unwrap()),
        Some(11000.0)
    );
    let record = &detail["chargeRecord"];
    assert_eq!(record["id"], "CP001:TX-1", "{detail}");
    assert_eq!(record["tariffId"], "T-DEFAULT");

    // The remote start is linked to the transaction.
    let second = store.remote_start(remote_start_id).await.unwrap().unwrap();
    assert_eq!(second.transaction_id.as_deref(), Some("TX-1"));

    // Meter values by transaction and by EVSE.
    let by_tx = api
        .get("/stations/CP001/meter-values?transactionId=TX-1")
        .await
        .ok(StatusCode::OK);
    assert_eq!(by_tx["meterValues"].as_array().unwrap().len(), 2);
    assert_eq!(
        by_tx["meterValues"][0]["measurand"],
        "Energy.Active.Import.Register"
    );
    let by_evse = api
        .get("/stations/CP001/meter-values?evseId=2")
        .await
        .ok(StatusCode::OK);
    assert_eq!(by_evse["meterValues"], json!([]));
    api.get("/stations/CP001/meter-values?evseId=x")
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_query");

    // Charge records: listed, and found by id with the ':' encoded or not.
    let records = api
        .get("/charge-records?stationId=CP001")
        .await
        .ok(StatusCode::OK);
    assert_eq!(records["chargeRecords"][0]["id"], "CP001:TX-1");
    let none = api
        .get("/charge-records?stationId=CP002&limit=5")
        .await
        .ok(StatusCode::OK);
    assert_eq!(none["chargeRecords"], json!([]));
    for path in ["/charge-records/CP001%3ATX-1", "/charge-records/CP001:TX-1"] {
        let one = api.get(path).await.ok(StatusCode::OK);
        assert_eq!(one["id"], "CP001:TX-1");
        assert_eq!(one["transactionId"], "TX-1");
    }
    api.get("/charge-records/CP001%3ATX-2")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_charge_record");
    for tx in ["TX-2", "start", "status"] {
        api.get(&format!("/stations/CP001/transactions/{tx}"))
            .await
            .error(StatusCode::NOT_FOUND, "unknown_transaction");
    }
}

#[tokio::test]
async fn remote_start_requests_are_checked_before_anything_is_kept() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = api.booted("CP001").await;
    api.post(
        "/stations/CP001/transactions/start",
        json!({"idToken": {"idToken": "AAA", "type": "NotAType"}}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_request");
    api.post(
        "/stations/CP001/transactions/start",
        json!({"idToken": entry("AAA"), "unknownField": 1}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_body");
    assert_nothing_sent(&mut station, "probe-1").await;

    // The first id handed out after the refusals: nothing was allocated for them.
    let pending = api.spawn_post(
        "/stations/CP001/transactions/start",
        json!({"idToken": entry("AAA")}),
    );
    let request = answer::<RequestStartTransactionRequest>(
        &mut station,
        json!({"status": "Accepted", "transactionId": "TX-9"}),
    )
    .await;
    assert!(request.get("evseId").is_none());
    let reply = pending.await.unwrap().ok(StatusCode::OK);
    assert_eq!(reply["remoteStartId"], 1);
    assert_eq!(reply["transactionId"], "TX-9");
    let kept = api
        .csms
        .server
        .store
        .remote_start(1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.status, "Accepted");
    assert_eq!(kept.transaction_id.as_deref(), Some("TX-9"));
}

#[tokio::test]
async fn transaction_status_unlock_and_clear_cache_return_the_station_answer() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = api.booted("CP001").await;

    let pending = api.spawn_post(
        "/stations/CP001/transactions/status",
        json!({"transactionId": "TX-1"}),
    );
    let request = answer::<GetTransactionStatusRequest>(
        &mut station,
        json!({"ongoingIndicator": true, "messagesInQueue": false}),
    )
    .await;
    assert_eq!(request["transactionId"], "TX-1");
    assert_eq!(
        pending.await.unwrap().ok(StatusCode::OK),
        json!({"ongoingIndicator": true, "messagesInQueue": false})
    );

    let pending = api.spawn_post("/stations/CP001/transactions/status", json!({}));
    let request =
        answer::<GetTransactionStatusRequest>(&mut station, json!({"messagesInQueue": true})).await;
    assert!(request.get("transactionId").is_none());
    assert_eq!(
        pending.await.unwrap().ok(StatusCode::OK),
        json!({"messagesInQueue": true})
    );

    let pending = api.spawn_post(
        "/stations/CP001/unlock",
        json!({"evseId": 1, "connectorId": 1}),
    );
    let request =
        answer::<UnlockConnectorRequest>(&mut station, json!({"status": "Unlocked"})).await;
    assert_eq!(request, json!({"evseId": 1, "connectorId": 1}));
    assert_eq!(
        pending.await.unwrap().ok(StatusCode::OK),
        json!({"status": "Unlocked"})
    );

    let pending = api.spawn_post("/stations/CP001/clear-cache", json!({}));
    answer::<ClearCacheRequest>(&mut station, json!({"status": "Rejected"})).await;
    assert_eq!(
        pending.await.unwrap().ok(StatusCode::OK),
        json!({"status": "Rejected"})
    );

    // A station's CALLERROR is a 502, as for every command.
    let pending = api.spawn_post("/stations/CP001/clear-cache", json!({}));
    let (id, _) = station.expect_call::<ClearCacheRequest>().await.unwrap();
    station
        .send_text(&format!(r#"[4,"{id}","NotImplemented","not here",{{}}]"#))
        .await
        .unwrap();
    pending
        .await
        .unwrap()
        .error(StatusCode::BAD_GATEWAY, "call_error");

    let log = api.get("/stations/CP001/commands").await.ok(StatusCode::OK);
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec![
            "ClearCache",
            "ClearCache",
            "UnlockConnector",
            "GetTransactionStatus",
            "GetTransactionStatus"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Reservations (H01, H02, H04)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn reservations_are_created_listed_cancelled_and_shown_expired() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = api.booted("CP001").await;

    // Create: the CSMS allocates the id and sends it in ReserveNow.
    let before = Utc::now();
    let pending = api.spawn_post(
        "/stations/CP001/reservations",
        json!({"idToken": entry("AAA"), "evseId": 1, "expiresInSeconds": 600,
               "groupIdToken": {"idToken": "FLEET", "type": "Central"}}),
    );
    let request = answer::<ReserveNowRequest>(&mut station, json!({"status": "Accepted"})).await;
    let created = pending.await.unwrap().ok(StatusCode::OK);
    assert_eq!(created["status"], "Accepted");
    let first_id = created["id"].as_i64().unwrap();
    assert_eq!(request["id"], first_id);
    assert_eq!(request["idToken"], entry("AAA"));
    assert_eq!(request["evseId"], 1);
    assert_eq!(request["groupIdToken"]["idToken"], "FLEET");
    let expiry: chrono::DateTime<Utc> =
        request["expiryDateTime"].as_str().unwrap().parse().unwrap();
    let expected = before + chrono::Duration::seconds(600);
    assert!(
        (expiry - expected).num_seconds().abs() <= 5,
        "expiry {expiry} vs {expected}"
    );

    // Default expiry is 15 minutes; the station's refusal becomes the status.
    let before = Utc::now();
    let pending = api.spawn_post(
        "/stations/CP001/reservations",
        json!({"idToken": entry("BBB"), "connectorType": "cType2"}),
    );
    let request = answer::<ReserveNowRequest>(&mut station, json!({"status": "Occupied"})).await;
    assert_eq!(request["connectorType"], "cType2");
    let expiry: chrono::DateTime<Utc> =
        request["expiryDateTime"].as_str().unwrap().parse().unwrap();
    assert!(
        ((expiry - before).num_seconds() - 900).abs() <= 5,
        "{expiry}"
    );
    let occupied = pending.await.unwrap().ok(StatusCode::OK);
    assert_eq!(occupied["status"], "Occupied");
    assert_ne!(occupied["id"], first_id);

    // A past expiry, or both forms: 400, nothing sent.
    let past = (Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    api.post(
        "/stations/CP001/reservations",
        json!({"idToken": entry("AAA"), "expiresAt": past}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "expiry_in_the_past");
    api.post(
        "/stations/CP001/reservations",
        json!({"idToken": entry("AAA"), "expiresInSeconds": 0}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "expiry_in_the_past");
    api.post(
        "/stations/CP001/reservations",
        json!({"idToken": entry("AAA"), "expiresInSeconds": 60,
               "expiresAt": Utc::now().to_rfc3339()}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "ambiguous_expiry");
    assert_nothing_sent(&mut station, "probe-1").await;

    // One that expires in a second, by expiresAt.
    let soon = Utc::now() + chrono::Duration::seconds(1);
    let pending = api.spawn_post(
        "/stations/CP001/reservations",
        json!({"idToken": entry("CCC"), "expiresAt": soon.to_rfc3339()}),
    );
    answer::<ReserveNowRequest>(&mut station, json!({"status": "Accepted"})).await;
    let short_id = pending.await.unwrap().ok(StatusCode::OK)["id"]
        .as_i64()
        .unwrap();

    // Cancel the first: Accepted, so it is Cancelled.
    let pending = api.spawn_post(
        &format!("/stations/CP001/reservations/{first_id}/cancel"),
        json!({}),
    );
    let request =
        answer::<CancelReservationRequest>(&mut station, json!({"status": "Accepted"})).await;
    assert_eq!(request["reservationId"], first_id);
    assert_eq!(
        pending.await.unwrap().ok(StatusCode::OK),
        json!({"status": "Accepted"})
    );
    api.post("/stations/CP001/reservations/9999/cancel", json!({}))
        .await
        .error(StatusCode::NOT_FOUND, "unknown_reservation");
    api.post("/stations/CP001/reservations/abc/cancel", json!({}))
        .await
        .error(StatusCode::NOT_FOUND, "unknown_reservation");

    // The short one reads Expired once its time has passed (bounded polling).
    let deadline = Instant::now() + BOUND;
    let list = loop {
        let list = api
            .get("/stations/CP001/reservations")
            .await
            .ok(StatusCode::OK);
        let short = list["reservations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == short_id)
            .cloned()
            .unwrap();
        if short["status"] == "Expired" {
            break list;
        }
        assert_eq!(short["status"], "Accepted");
        assert!(Instant::now() < deadline, "never shown Expired: {short}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let statuses: Vec<(i64, &str)> = list["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_i64().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (short_id, "Expired"),
            (occupied["id"].as_i64().unwrap(), "Occupied"),
            (first_id, "Cancelled"),
        ],
        "newest first"
    );
    let first = &list["reservations"][2];
    assert_eq!(first["idToken"], "AAA");
    assert_eq!(first["idTokenType"], "ISO14443");
    assert_eq!(first["groupIdToken"], "FLEET");
    assert_eq!(first["evseId"], 1);

    // A rejected cancel leaves the reservation as it was.
    let pending = api.spawn_post(
        &format!("/stations/CP001/reservations/{short_id}/cancel"),
        json!({}),
    );
    answer::<CancelReservationRequest>(&mut station, json!({"status": "Rejected"})).await;
    assert_eq!(
        pending.await.unwrap().ok(StatusCode::OK)["status"],
        "Rejected"
    );
    let kept = api
        .csms
        .server
        .store
        .reservation(&StationId::new("CP001").unwrap(), short_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.status, "Accepted", "stored as the station answered");
}

// ---------------------------------------------------------------------------------------------
// Tariffs (I)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn tariffs_crud_validation_and_assignment_precedence() {
    let api = start(&[StationSpec::new("CP001", 1), StationSpec::new("CP002", 1)]).await;

    // Create (201), replace (200), read.
    api.post("/tariffs", tariff("T-STATION", "0.30"))
        .await
        .ok(StatusCode::CREATED);
    let replaced = api
        .post("/tariffs", tariff("T-STATION", "0.35"))
        .await
        .ok(StatusCode::OK);
    assert_eq!(replaced["pricePerKwh"], "0.35");
    assert_eq!(
        api.get("/tariffs/T-STATION").await.ok(StatusCode::OK)["pricePerKwh"],
        "0.35"
    );
    for id in ["T-DEFAULT", "T-EVSE", "T-FLEET"] {
        api.post("/tariffs", tariff(id, "0.40"))
            .await
            .ok(StatusCode::CREATED);
    }
    let mut fleet = tariff("T-FLEET", "0.20");
    fleet["displayText"] = json!([{"language": "en", "text": "Fleet rate"}]);
    api.post("/tariffs", fleet).await.ok(StatusCode::OK);
    let all = api.get("/tariffs").await.ok(StatusCode::OK);
    let ids: Vec<&str> = all["tariffs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["T-DEFAULT", "T-EVSE", "T-FLEET", "T-STATION"]);

    // Validation: the core's message, naming the field.
    let mut bad = tariff("T-BAD", "0.30");
    bad["currency"] = json!("eur");
    let refused = api
        .post("/tariffs", bad)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_tariff");
    assert!(
        refused["message"].as_str().unwrap().contains("currency"),
        "{refused}"
    );
    let mut negative = tariff("T-BAD", "-0.01");
    negative["sessionFee"] = json!("0");
    let refused = api
        .post("/tariffs", negative)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_tariff");
    assert!(refused["message"].as_str().unwrap().contains("pricePerKwh"));
    api.post("/tariffs", json!({"id": "T-BAD"}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_body");
    api.get("/tariffs/T-BAD")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_tariff");

    // No assignment yet: no tariff.
    api.get("/stations/CP001/tariff")
        .await
        .error(StatusCode::NOT_FOUND, "no_tariff");

    // Assignments: an unknown tariff is refused.
    api.post(
        "/tariff-assignments",
        json!({"tariffId": "T-NOPE", "scope": {"scope": "default"}}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "unknown_tariff");
    api.post(
        "/tariff-assignments",
        json!({"tariffId": "T-DEFAULT", "scope": {"scope": "planet"}}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_body");
    let mut assignment_ids = Vec::new();
    for (tariff_id, scope) in [
        (
            "T-FLEET",
            json!({"scope": "tokenGroup", "groupIdToken": "FLEET"}),
        ),
        (
            "T-EVSE",
            json!({"scope": "evse", "stationId": "CP001", "evseId": 2}),
        ),
        (
            "T-STATION",
            json!({"scope": "station", "stationId": "CP001"}),
        ),
        ("T-DEFAULT", json!({"scope": "default"})),
    ] {
        let created = api
            .post(
                "/tariff-assignments",
                json!({"tariffId": tariff_id, "scope": scope}),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(created["tariffId"], tariff_id);
        assert_eq!(created["scope"], scope);
        assignment_ids.push(created["id"].as_i64().unwrap());
    }
    let listed = api.get("/tariff-assignments").await.ok(StatusCode::OK);
    assert_eq!(listed["assignments"].as_array().unwrap().len(), 4);
    assert_eq!(listed["assignments"][1]["scope"]["evseId"], 2);

    // Precedence: token group > EVSE > station > default.
    let pick = |query: &'static str| {
        let api = &api;
        async move {
            api.get(&format!("/stations/{query}"))
                .await
                .ok(StatusCode::OK)
        }
    };
    let t = pick("CP001/tariff").await;
    assert_eq!(t["id"], "T-STATION");
    assert_eq!(
        t["driverText"],
        "0.42 EUR/kWh + 1.20 EUR per session (incl. 20% VAT)"
    );
    assert_eq!(pick("CP001/tariff?evseId=1").await["id"], "T-STATION");
    assert_eq!(pick("CP001/tariff?evseId=2").await["id"], "T-EVSE");
    let fleet = pick("CP001/tariff?evseId=2&groupIdToken=fleet").await;
    assert_eq!(fleet["id"], "T-FLEET");
    assert_eq!(fleet["driverText"], "Fleet rate");
    assert_eq!(pick("CP002/tariff").await["id"], "T-DEFAULT");
    assert_eq!(
        pick("CP002/tariff?groupIdToken=FLEET").await["id"],
        "T-FLEET"
    );

    // Deleting the EVSE tariff takes its assignment with it; deleting the default assignment
    // leaves CP002 without a tariff.
    api.delete("/tariffs/T-EVSE")
        .await
        .ok(StatusCode::NO_CONTENT);
    api.delete("/tariffs/T-EVSE")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_tariff");
    assert_eq!(pick("CP001/tariff?evseId=2").await["id"], "T-STATION");
    let listed = api.get("/tariff-assignments").await.ok(StatusCode::OK);
    assert_eq!(listed["assignments"].as_array().unwrap().len(), 3);
    api.delete(&format!("/tariff-assignments/{}", assignment_ids[3]))
        .await
        .ok(StatusCode::NO_CONTENT);
    api.delete(&format!("/tariff-assignments/{}", assignment_ids[3]))
        .await
        .error(StatusCode::NOT_FOUND, "unknown_tariff_assignment");
    api.get("/stations/CP002/tariff")
        .await
        .error(StatusCode::NOT_FOUND, "no_tariff");
}

// ---------------------------------------------------------------------------------------------
// Roles and the OpenAPI document
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_read_only_key_reads_the_money_path_but_cannot_change_it() {
    let api = start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = api.booted("CP001").await;
    api.post("/tariffs", tariff("T1", "0.30"))
        .await
        .ok(StatusCode::CREATED);
    let assignment = api
        .post(
            "/tariff-assignments",
            json!({"tariffId": "T1", "scope": {"scope": "default"}}),
        )
        .await
        .ok(StatusCode::CREATED);
    let reader = api.key(ApiRole::ReadOnly).await;
    let assignment_path = format!("/tariff-assignments/{}", assignment["id"]);

    for (method, path, body) in [
        (
            Method::POST,
            "/stations/CP001/local-list",
            json!({"entries": []}),
        ),
        (
            Method::POST,
            "/stations/CP001/local-list/differential",
            json!({}),
        ),
        (
            Method::POST,
            "/stations/CP001/local-list/version",
            json!({}),
        ),
        (
            Method::POST,
            "/stations/CP001/transactions/start",
            json!({"idToken": entry("AAA")}),
        ),
        (
            Method::POST,
            "/stations/CP001/transactions/TX-1/stop",
            json!({}),
        ),
        (
            Method::POST,
            "/stations/CP001/transactions/status",
            json!({}),
        ),
        (
            Method::POST,
            "/stations/CP001/unlock",
            json!({"evseId": 1, "connectorId": 1}),
        ),
        (Method::POST, "/stations/CP001/clear-cache", json!({})),
        (
            Method::POST,
            "/stations/CP001/reservations",
            json!({"idToken": entry("AAA")}),
        ),
        (
            Method::POST,
            "/stations/CP001/reservations/1/cancel",
            json!({}),
        ),
        (Method::POST, "/tariffs", tariff("T2", "0.30")),
        (Method::DELETE, "/tariffs/T1", json!(null)),
        (
            Method::POST,
            "/tariff-assignments",
            json!({"tariffId": "T1", "scope": {"scope": "default"}}),
        ),
        (Method::DELETE, assignment_path.as_str(), json!(null)),
    ] {
        let body = (!body.is_null()).then_some(body);
        api.request_as(&reader, method.clone(), path, body.as_ref())
            .await
            .error(StatusCode::FORBIDDEN, "forbidden");
    }
    assert_nothing_sent(&mut station, "probe-1").await;
    assert_eq!(
        api.get("/tariffs").await.ok(StatusCode::OK)["tariffs"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    for path in [
        "/stations/CP001/local-list",
        "/stations/CP001/transactions",
        "/stations/CP001/meter-values",
        "/stations/CP001/reservations",
        "/stations/CP001/tariff",
        "/tariffs",
        "/tariffs/T1",
        "/tariff-assignments",
        "/charge-records",
    ] {
        api.request_as(&reader, Method::GET, path, None)
            .await
            .ok(StatusCode::OK);
    }

    // An operator key may write.
    let operator = api.key(ApiRole::Operator).await;
    api.request_as(
        &operator,
        Method::POST,
        "/tariffs",
        Some(&tariff("T2", "0.30")),
    )
    .await
    .ok(StatusCode::CREATED);
}

#[tokio::test]
async fn the_openapi_document_lists_the_money_path() {
    let api = start(&[]).await;
    let doc = api.get("/openapi.json").await.ok(StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/stations/{id}/local-list", "get"),
        ("/api/v1/stations/{id}/local-list", "post"),
        ("/api/v1/stations/{id}/local-list/differential", "post"),
        ("/api/v1/stations/{id}/local-list/version", "post"),
        ("/api/v1/stations/{id}/transactions", "get"),
        ("/api/v1/stations/{id}/transactions/{transactionId}", "get"),
        ("/api/v1/stations/{id}/transactions/start", "post"),
        (
            "/api/v1/stations/{id}/transactions/{transactionId}/stop",
            "post",
        ),
        ("/api/v1/stations/{id}/transactions/status", "post"),
        ("/api/v1/stations/{id}/meter-values", "get"),
        ("/api/v1/charge-records", "get"),
        ("/api/v1/charge-records/{id}", "get"),
        ("/api/v1/stations/{id}/unlock", "post"),
        ("/api/v1/stations/{id}/clear-cache", "post"),
        ("/api/v1/stations/{id}/reservations", "get"),
        ("/api/v1/stations/{id}/reservations", "post"),
        (
            "/api/v1/stations/{id}/reservations/{reservationId}/cancel",
            "post",
        ),
        ("/api/v1/tariffs", "get"),
        ("/api/v1/tariffs", "post"),
        ("/api/v1/tariffs/{id}", "get"),
        ("/api/v1/tariffs/{id}", "delete"),
        ("/api/v1/tariff-assignments", "get"),
        ("/api/v1/tariff-assignments", "post"),
        ("/api/v1/tariff-assignments/{id}", "delete"),
        ("/api/v1/stations/{id}/tariff", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is not in the OpenAPI document"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "LocalListView",
        "LocalListSent",
        "TransactionDetail",
        "StartTransactionAnswer",
        "ReservationView",
        "Tariff",
        "AssignmentView",
        "StationTariff",
    ] {
        assert!(schemas.contains_key(name), "schema {name} missing");
    }
}
