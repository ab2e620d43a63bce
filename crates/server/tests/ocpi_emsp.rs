//! OCPI as eMSP (issue 12 item 3, ADR 0039), over real HTTP.
//!
//! * A CPO platform played by the test peer (tests/ocpi_common, registering with role CPO)
//!   pushes locations, EVSEs, connectors, tariffs, sessions and CDRs to unicharge's eMSP
//!   Receiver endpoints; they are stored per partner and per CPO party, retransmissions are
//!   answered as the first, and another CPO sees none of them.
//! * Two unicharge instances roam with each other: one CPO (a station played by the simulator
//!   over a real WebSocket), one eMSP (its own SQLite file, in its own runtime so it can be
//!   stopped and started again). The eMSP registers with the CPO (token A → versions →
//!   credentials → token C), pushes its driver's token, starts the session with START_SESSION;
//!   the CDR reaches the eMSP with the cost of the tariff the eMSP received, even though the
//!   eMSP was down when the session ended.
//!
//! Amounts are those of `ocpi_push.rs`: one hour, 12.345 kWh, 45 min charging, 15 min idle,
//! 0.39 / kWh, 0.02 / min charging, 0.10 / min idle, fee 0.50, VAT 19 % → 7.71 excl. VAT,
//! 9.17 incl. VAT.

#[path = "common/mod.rs"]
mod common;
#[path = "ocpi_common/mod.rs"]
mod ocpi_common;

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use unicharge_ocpi_server::settings::PartySettings;

use common::TestCsms;
use ocpi_common::{Operator, Peer};

/// An eMSP platform with eMSP party NL*EMS (and no CPO party).
async fn emsp() -> (TestCsms, Operator) {
    let csms = TestCsms::start_with(&[], |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        s.ocpi.push_retry_initial = Duration::from_millis(20);
        s.ocpi.push_retry_max = Duration::from_millis(100);
        s.ocpi.parties = vec![PartySettings::emsp("NL", "EMS", "Unicharge eMSP")];
    })
    .await;
    let operator = Operator::new(
        csms.server.http_addr.unwrap(),
        csms.server.initial_admin_key.as_ref().unwrap(),
    );
    (csms, operator)
}

/// A CPO peer registered with our eMSP party; returns it and its partner id at the eMSP.
async fn cpo_peer(operator: &Operator, country_code: &str, party_id: &str) -> (Peer, i64) {
    let (token_a, versions_url, id) = operator
        .partner(&format!("CPO {party_id}"), &["NL*EMS"])
        .await;
    let mut peer = Peer::start(country_code, party_id).await.with_role("CPO");
    peer.register(&versions_url, &token_a, "2.2.1").await;
    (peer, id)
}

fn connector(id: &str, at: &str) -> Value {
    json!({"id": id, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE",
           "max_voltage": 230, "max_amperage": 32, "last_updated": at})
}

fn evse(uid: &str, status: &str, at: &str) -> Value {
    json!({"uid": uid, "evse_id": format!("NL*TNM*E{uid}"), "status": status,
           "connectors": [connector("1", at)], "last_updated": at})
}

fn location(cc: &str, pid: &str, id: &str, at: &str) -> Value {
    json!({
        "country_code": cc, "party_id": pid, "id": id, "publish": true, "name": "Station Square",
        "address": "Stationsplein 1", "city": "Utrecht", "postal_code": "3511 ED",
        "country": "NLD", "coordinates": {"latitude": "52.089444", "longitude": "5.110278"},
        "time_zone": "Europe/Amsterdam", "evses": [evse("3256", "AVAILABLE", at)],
        "last_updated": at,
    })
}

fn tariff(cc: &str, pid: &str, id: &str, at: &str) -> Value {
    json!({
        "country_code": cc, "party_id": pid, "id": id, "currency": "EUR",
        "elements": [{"price_components": [
            {"type": "ENERGY", "price": 0.39, "vat": 19.0, "step_size": 1},
            {"type": "FLAT", "price": 0.50, "vat": 19.0, "step_size": 1},
        ]}],
        "last_updated": at,
    })
}

fn session(cc: &str, pid: &str, id: &str, kwh: &str, status: &str, at: &str) -> Value {
    serde_json::from_str(&format!(
        r#"{{"country_code": "{cc}", "party_id": "{pid}", "id": "{id}",
            "start_date_time": "2026-12-06T10:00:00Z", "kwh": {kwh},
            "cdr_token": {{"uid": "04A1B2C3D4", "type": "RFID", "contract_id": "NL-EMS-C1"}},
            "auth_method": "WHITELIST", "location_id": "LOC1", "evse_uid": "3256",
            "connector_id": "1", "currency": "EUR", "status": "{status}",
            "charging_periods": [{{"start_date_time": "2026-12-06T10:00:00Z",
                "dimensions": [{{"type": "ENERGY", "volume": 1.5}}]}}],
            "last_updated": "{at}"}}"#
    ))
    .unwrap()
}

fn cdr_text(cc: &str, pid: &str, id: &str) -> String {
    // Written as text: 7.71 and 12.345 must arrive as these decimals.
    format!(
        r#"{{"country_code": "{cc}", "party_id": "{pid}", "id": "{id}",
            "start_date_time": "2026-12-06T10:00:00Z", "end_date_time": "2026-12-06T11:00:00Z",
            "session_id": "S-1",
            "cdr_token": {{"uid": "04A1B2C3D4", "type": "RFID", "contract_id": "NL-EMS-C1"}},
            "auth_method": "WHITELIST",
            "cdr_location": {{"id": "LOC1", "address": "Stationsplein 1", "city": "Utrecht",
                "country": "NLD", "coordinates": {{"latitude": "52.089444", "longitude": "5.110278"}},
                "evse_uid": "3256", "evse_id": "NL*TNM*E3256", "connector_id": "1",
                "connector_standard": "IEC_62196_T2", "connector_format": "SOCKET",
                "connector_power_type": "AC_3_PHASE"}},
            "currency": "EUR",
            "charging_periods": [{{"start_date_time": "2026-12-06T10:00:00Z",
                "dimensions": [{{"type": "ENERGY", "volume": 12.345}}]}}],
            "total_cost": {{"excl_vat": 7.71, "incl_vat": 9.17}},
            "total_energy": 12.345, "total_time": 1,
            "last_updated": "2026-12-06T11:00:05Z"}}"#
    )
}

async fn received(operator: &Operator, partner: i64, module: &str) -> Vec<Value> {
    operator
        .send(
            Method::GET,
            &format!("/ocpi/partners/{partner}/received/{module}"),
            None,
        )
        .await
        .as_array()
        .unwrap()
        .clone()
}

/// The eMSP publishes its Receiver endpoints (and the Tokens / Commands Sender) in version
/// details; a CPO pushes a location, then an EVSE, a status PATCH, a connector; the EVSE and
/// connector writes move the parents' last_updated; each level can be read back. A second CPO
/// party and an unknown location get the spec's errors (2001, 404 / 2003), and the other CPO
/// cannot read the first one's location.
#[tokio::test]
async fn emsp_locations_receiver_put_patch_evse_connector_per_party() {
    let (_emsp, operator) = emsp().await;
    let (peer, partner) = cpo_peer(&operator, "NL", "TNM").await;
    let roles: Vec<(String, String)> = peer
        .endpoints
        .iter()
        .map(|e| {
            (
                e["identifier"].as_str().unwrap().to_string(),
                e["role"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (module, role) in [
        ("locations", "RECEIVER"),
        ("tariffs", "RECEIVER"),
        ("sessions", "RECEIVER"),
        ("cdrs", "RECEIVER"),
        ("commands", "SENDER"),
        ("tokens", "SENDER"),
    ] {
        assert!(
            roles.contains(&(module.to_string(), role.to_string())),
            "{module} {role} in {roles:?}"
        );
    }
    assert!(
        !roles.contains(&("locations".into(), "SENDER".into())),
        "no CPO party: no Locations Sender"
    );
    let locations = peer.endpoint("locations");
    let loc1 = format!("{locations}/NL/TNM/LOC1");

    let (code, _, put) = peer
        .call(
            Method::PUT,
            &loc1,
            Some(location("NL", "TNM", "LOC1", "2026-12-06T10:00:00Z")),
        )
        .await;
    assert_eq!(
        (code, put["status_code"].as_i64()),
        (200, Some(1000)),
        "{put}"
    );
    // A new EVSE, then its status, then a new connector.
    let (code, _, put) = peer
        .call(
            Method::PUT,
            &format!("{loc1}/3257"),
            Some(evse("3257", "AVAILABLE", "2026-12-06T10:05:00Z")),
        )
        .await;
    assert_eq!(
        (code, put["status_code"].as_i64()),
        (200, Some(1000)),
        "{put}"
    );
    let (code, _, patch) = peer
        .call(
            Method::PATCH,
            &format!("{loc1}/3256"),
            Some(json!({"status": "CHARGING", "last_updated": "2026-12-06T10:10:00Z"})),
        )
        .await;
    assert_eq!(
        (code, patch["status_code"].as_i64()),
        (200, Some(1000)),
        "{patch}"
    );
    let (code, _, put) = peer
        .call(
            Method::PUT,
            &format!("{loc1}/3257/2"),
            Some(connector("2", "2026-12-06T10:15:00Z")),
        )
        .await;
    assert_eq!(
        (code, put["status_code"].as_i64()),
        (200, Some(1000)),
        "{put}"
    );
    let (_, _, patch) = peer
        .call(
            Method::PATCH,
            &format!("{loc1}/3257/2"),
            Some(json!({"max_amperage": 16, "last_updated": "2026-12-06T10:20:00Z"})),
        )
        .await;
    assert_eq!(patch["status_code"], 1000, "{patch}");

    let (_, _, got) = peer.call(Method::GET, &loc1, None).await;
    let l = &got["data"];
    assert_eq!(l["name"], "Station Square");
    assert_eq!(
        l["last_updated"], "2026-12-06T10:20:00Z",
        "moved by the connector PATCH"
    );
    let evses = l["evses"].as_array().unwrap();
    assert_eq!(evses.len(), 2, "{l}");
    assert_eq!(evses[0]["status"], "CHARGING");
    assert_eq!(evses[0]["last_updated"], "2026-12-06T10:10:00Z");
    assert_eq!(evses[1]["last_updated"], "2026-12-06T10:20:00Z");
    let (_, _, c) = peer
        .call(Method::GET, &format!("{loc1}/3257/2"), None)
        .await;
    assert_eq!(c["data"]["max_amperage"], 16, "{c}");
    assert_eq!(c["data"]["standard"], "IEC_62196_T2");
    let (_, _, e) = peer.call(Method::GET, &format!("{loc1}/3256"), None).await;
    assert_eq!(e["data"]["status"], "CHARGING", "{e}");

    // Errors: an EVSE of a location we do not have; a party that is not the caller's; a body
    // of another location; a PATCH without last_updated.
    let (code, _, unknown) = peer
        .call(
            Method::PATCH,
            &format!("{locations}/NL/TNM/NOPE/3256"),
            Some(json!({"status": "CHARGING", "last_updated": "2026-12-06T10:10:00Z"})),
        )
        .await;
    assert_eq!((code, unknown["status_code"].as_i64()), (404, Some(2003)));
    let (code, _, other_party) = peer
        .call(
            Method::PUT,
            &format!("{locations}/DE/OTH/LOC1"),
            Some(location("DE", "OTH", "LOC1", "2026-12-06T10:00:00Z")),
        )
        .await;
    assert_eq!(
        (code, other_party["status_code"].as_i64()),
        (200, Some(2001))
    );
    let (_, _, mismatch) = peer
        .call(
            Method::PUT,
            &format!("{locations}/NL/TNM/LOC2"),
            Some(location("NL", "TNM", "LOC1", "2026-12-06T10:00:00Z")),
        )
        .await;
    assert_eq!(mismatch["status_code"], 2001, "{mismatch}");
    let (_, _, no_date) = peer
        .call(Method::PATCH, &loc1, Some(json!({"name": "x"})))
        .await;
    assert_eq!(no_date["status_code"], 2001, "{no_date}");

    // Another CPO (another partner) has its own store: it cannot read the first one's.
    let (other, other_partner) = cpo_peer(&operator, "DE", "OTH").await;
    let (code, _, theirs) = other.call(Method::GET, &loc1, None).await;
    assert_eq!((code, theirs["status_code"].as_i64()), (404, Some(2003)));
    let (code, _, _) = other
        .call(
            Method::PUT,
            &format!("{locations}/DE/OTH/LOC1"),
            Some(location("DE", "OTH", "LOC1", "2026-12-06T09:00:00Z")),
        )
        .await;
    assert_eq!(code, 200);

    // The operator sees each partner's locations.
    let mine = received(&operator, partner, "locations").await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["party"], "NL*TNM");
    assert_eq!(mine[0]["id"], "LOC1");
    assert_eq!(mine[0]["object"]["evses"].as_array().unwrap().len(), 2);
    let theirs = received(&operator, other_partner, "locations").await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["party"], "DE*OTH");
}

/// Tariffs (PUT, GET, DELETE), sessions (PUT, PATCH adding charging periods, exact kWh) and
/// CDRs (POST answered with a Location header, GET of that URL, a retransmitted POST stored
/// once) at the eMSP's Receivers; the operator API lists sessions and CDRs with their total
/// cost as the CPO wrote it.
#[tokio::test]
async fn emsp_tariffs_sessions_cdrs_received_cdr_stored_once() {
    let (_emsp, operator) = emsp().await;
    let (peer, partner) = cpo_peer(&operator, "NL", "TNM").await;
    let tariffs = peer.endpoint("tariffs");
    let t1 = format!("{tariffs}/NL/TNM/T1");
    let (code, _, put) = peer
        .call(
            Method::PUT,
            &t1,
            Some(tariff("NL", "TNM", "T1", "2026-12-06T09:00:00Z")),
        )
        .await;
    assert_eq!(
        (code, put["status_code"].as_i64()),
        (200, Some(1000)),
        "{put}"
    );
    peer.call(Method::GET, &t1, None).await;
    let raw = peer.raw();
    assert!(raw.contains(r#""price":0.39"#), "{raw}");
    let (_, _, deleted) = peer.call(Method::DELETE, &t1, None).await;
    assert_eq!(deleted["status_code"], 1000);
    let (code, _, gone) = peer.call(Method::GET, &t1, None).await;
    assert_eq!((code, gone["status_code"].as_i64()), (404, Some(2000)));
    peer.call(
        Method::PUT,
        &t1,
        Some(tariff("NL", "TNM", "T1", "2026-12-06T09:30:00Z")),
    )
    .await;

    let sessions = peer.endpoint("sessions");
    let s1 = format!("{sessions}/NL/TNM/S-1");
    let (_, _, put) = peer
        .call(
            Method::PUT,
            &s1,
            Some(session(
                "NL",
                "TNM",
                "S-1",
                "1.5",
                "ACTIVE",
                "2026-12-06T10:00:00Z",
            )),
        )
        .await;
    assert_eq!(put["status_code"], 1000, "{put}");
    let (_, _, patch) = peer
        .call(
            Method::PATCH,
            &s1,
            Some(
                serde_json::from_str(
                    r#"{"kwh": 12.345, "status": "COMPLETED",
                    "total_cost": {"excl_vat": 7.71, "incl_vat": 9.17},
                    "charging_periods": [{"start_date_time": "2026-12-06T10:30:00Z",
                        "dimensions": [{"type": "ENERGY", "volume": 10.845}]}],
                    "last_updated": "2026-12-06T11:00:00Z"}"#,
                )
                .unwrap(),
            ),
        )
        .await;
    assert_eq!(patch["status_code"], 1000, "{patch}");
    let (_, _, got) = peer.call(Method::GET, &s1, None).await;
    assert_eq!(
        got["data"]["charging_periods"].as_array().unwrap().len(),
        2,
        "a PATCH adds charging periods: {got}"
    );
    assert!(peer.raw().contains(r#""kwh":12.345"#), "{}", peer.raw());
    let (code, _, unknown) = peer
        .call(
            Method::PATCH,
            &format!("{sessions}/NL/TNM/S-404"),
            Some(json!({"kwh": 1, "last_updated": "2026-12-06T11:00:00Z"})),
        )
        .await;
    assert_eq!((code, unknown["status_code"].as_i64()), (404, Some(2000)));

    // CDR: POST, Location header, GET, POST again.
    let cdrs = peer.endpoint("cdrs");
    let cdr: Value = serde_json::from_str(&cdr_text("NL", "TNM", "CDR-1")).unwrap();
    let post = |body: Value| {
        let client = peer.client.clone();
        let token = peer.token.clone();
        let url = cdrs.clone();
        async move {
            use base64::Engine;
            client
                .post(url)
                .header(
                    "Authorization",
                    format!(
                        "Token {}",
                        base64::engine::general_purpose::STANDARD.encode(token)
                    ),
                )
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap()
        }
    };
    // Sent as text so the decimals are the CDR's.
    let text_post = |text: String| {
        let client = peer.client.clone();
        let token = peer.token.clone();
        let url = cdrs.clone();
        async move {
            use base64::Engine;
            client
                .post(url)
                .header(
                    "Authorization",
                    format!(
                        "Token {}",
                        base64::engine::general_purpose::STANDARD.encode(token)
                    ),
                )
                .header("Content-Type", "application/json")
                .body(text)
                .send()
                .await
                .unwrap()
        }
    };
    let first = text_post(cdr_text("NL", "TNM", "CDR-1")).await;
    assert_eq!(first.status(), 200);
    let location = first.headers()["location"].to_str().unwrap().to_string();
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["status_code"], 1000, "{body}");
    assert!(
        location.ends_with("/2.2.1/emsp/cdrs/NL/TNM/CDR-1"),
        "{location}"
    );
    let (code, _, got) = peer.call(Method::GET, &location, None).await;
    assert_eq!(code, 200);
    assert_eq!(got["data"]["id"], "CDR-1");
    // Served exactly as the CPO wrote it.
    assert!(
        peer.raw()
            .contains(r#""total_cost": {"excl_vat": 7.71, "incl_vat": 9.17}"#),
        "{}",
        peer.raw()
    );
    // The CPO did not get our answer and sends the CDR again (here with another total):
    // answered the same, kept once, the first one stays.
    let mut changed = cdr.clone();
    changed["total_cost"] = json!({"excl_vat": 1, "incl_vat": 1.19});
    let again = post(changed).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["location"].to_str().unwrap(), location);
    let stored = received(&operator, partner, "cdrs").await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0]["totalCost"]["exclVat"], "7.71");
    assert_eq!(stored[0]["totalCost"]["inclVat"], "9.17");
    assert_eq!(stored[0]["kwh"], "12.345");
    assert_eq!(stored[0]["currency"], "EUR");
    assert_eq!(stored[0]["sessionId"], "S-1");
    // A CDR of a party that is not the caller's: 2001, not stored.
    let foreign = text_post(cdr_text("DE", "OTH", "CDR-2")).await;
    let foreign: Value = foreign.json().await.unwrap();
    assert_eq!(foreign["status_code"], 2001, "{foreign}");
    // Another CPO cannot read the CDR by its URL.
    let (other, _) = cpo_peer(&operator, "DE", "OTH").await;
    let (code, _, _) = other.call(Method::GET, &location, None).await;
    assert_eq!(code, 404);

    let sessions = received(&operator, partner, "sessions").await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["status"], "COMPLETED");
    assert_eq!(sessions[0]["kwh"], "12.345");
    assert_eq!(sessions[0]["totalCost"]["inclVat"], "9.17");
    let tariffs = received(&operator, partner, "tariffs").await;
    assert_eq!(tariffs.len(), 1);
    assert_eq!(tariffs[0]["lastUpdated"], "2026-12-06T09:30:00Z");
}

// ------------------------------------------------------------ two unicharge instances

const CP: &str = "CP-EMSP-1";

/// A free loopback port (the eMSP restarts on the same one: its partners keep its URLs).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A unicharge eMSP in a runtime of its own, so that stopping it stops everything it runs
/// (HTTP listener, outbox worker) as a process exit would; its database stays in `dir`.
struct EmspInstance {
    runtime: Option<tokio::runtime::Runtime>,
    http: std::net::SocketAddr,
    admin_key: Option<String>,
}

impl EmspInstance {
    async fn start(dir: &std::path::Path, port: u16) -> EmspInstance {
        let mut settings = common::test_settings(dir);
        settings.http.listen = Some(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
        settings.ocpi.push_retry_initial = Duration::from_millis(20);
        settings.ocpi.push_retry_max = Duration::from_millis(100);
        settings.ocpi.parties = vec![PartySettings::emsp("NL", "EMS", "Unicharge eMSP")];
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        runtime.spawn(async move {
            let server = unicharge_server::start(settings)
                .await
                .expect("the eMSP starts");
            let _ = tx.send((server.http_addr.unwrap(), server.initial_admin_key.clone()));
            let _running = server;
            std::future::pending::<()>().await;
        });
        let (http, admin_key) = rx.await.unwrap();
        EmspInstance {
            runtime: Some(runtime),
            http,
            admin_key,
        }
    }

    /// Stop it: every task of its runtime ends, its listener closes.
    async fn stop(mut self) {
        let runtime = self.runtime.take().unwrap();
        tokio::task::spawn_blocking(move || runtime.shutdown_timeout(Duration::from_secs(10)))
            .await
            .unwrap();
    }
}

fn component(tariff: &Value, kind: &str) -> rust_decimal::Decimal {
    let c = tariff["elements"][0]["price_components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {tariff}"));
    c["price"].to_string().parse().unwrap()
}

fn dimension(cdr: &Value, kind: &str) -> rust_decimal::Decimal {
    cdr["charging_periods"][0]["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["type"] == kind)
        .map_or(rust_decimal::Decimal::ZERO, |d| {
            d["volume"].to_string().parse().unwrap()
        })
}

/// B6.1 / B5.2 / B8.1 between two unicharge instances: the eMSP registers with the CPO
/// (token A from the CPO's operator API → versions → credentials → token C, 2.3.0, the
/// highest both speak), pushes its driver's token to the CPO's Tokens Receiver, receives
/// the location (and EVSE status) and the tariff, starts the session with START_SESSION
/// (CommandResponse ACCEPTED, CommandResult ACCEPTED at its response_url) and receives the
/// ACTIVE session. The eMSP is stopped; the session ends at the station; the CPO's pushes
/// fail; the eMSP starts again on its database and gets the COMPLETED session and the CDR,
/// once, whose total is what the tariff the eMSP received gives for the CDR's energy and
/// times: 7.71 excl. VAT, 9.17 incl. VAT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b6_1_two_instances_start_session_cdr_priced_after_emsp_restart() {
    use chrono::Utc;
    use rust_decimal::Decimal;
    use unicharge_ocpp::v201::{
        AuthorizationStatusEnumType, ChargingStateEnumType, ConnectorStatusEnumType, EvseType,
        ReadingContextEnumType, ReasonEnumType, RequestStartStopStatusEnumType,
        RequestStartTransactionRequest, RequestStartTransactionResponse,
        RequestStopTransactionRequest, RequestStopTransactionResponse, ReserveNowRequest,
        ReserveNowResponse, ReserveNowStatusEnumType, StatusNotificationRequest,
        TransactionEventEnumType, TriggerReasonEnumType, UnlockConnectorRequest,
        UnlockConnectorResponse, UnlockStatusEnumType,
    };
    use unicharge_sim::octt::states;
    use unicharge_sim::Station;

    use common::payloads::{energy, transaction_event as event};

    // The CPO instance: party NL*CPO, station CP.
    let cpo = TestCsms::start_with(&[common::StationSpec::new(CP, 1)], |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        s.ocpi.push_retry_initial = Duration::from_millis(20);
        s.ocpi.push_retry_max = Duration::from_millis(100);
        s.ocpi.parties = vec![PartySettings::cpo("NL", "CPO", "Unicharge CPO")];
    })
    .await;
    let cpo_op = Operator::new(
        cpo.server.http_addr.unwrap(),
        cpo.server.initial_admin_key.as_ref().unwrap(),
    );
    // The CPO's operator places the station in a location before it ever booted (and before
    // the eMSP registered): the eMSP gets the location without EVSEs with the CPO's full view
    // at registration, then hears of the EVSE as a status PATCH, which it refuses as unknown
    // (2003); the CPO then PUTs the whole location.
    cpo_op.location("NL*CPO", "LOC1", &[CP]).await;
    // The eMSP instance: party NL*EMS, its own database.
    let emsp_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let emsp = EmspInstance::start(emsp_dir.path(), port).await;
    let key = emsp.admin_key.clone().unwrap();
    let emsp_op = Operator::new(emsp.http, &key);

    // A token the eMSP has before it knows the CPO: pushed when the registration completes.
    emsp_op
        .send(
            Method::PUT,
            "/ocpi/tokens/NL*EMS/04AABBCCDD",
            Some(json!({
                "country_code": "NL", "party_id": "EMS", "uid": "04AABBCCDD", "type": "RFID",
                "contract_id": "NL-EMS-C00000002-Y", "issuer": "Unicharge eMSP", "valid": true,
                "whitelist": "ALWAYS", "last_updated": "2026-12-06T09:00:00Z",
            })),
        )
        .await;

    // Registration: the CPO's operator issues token A; the eMSP's operator registers with it.
    let ocpi_common::Registration {
        cpo_at_emsp,
        emsp_at_cpo,
        answer: registered,
        ..
    } = ocpi_common::register_emsp(&cpo_op, &emsp_op).await;
    assert_eq!(registered["version"], "2.3.0");
    assert_eq!(registered["roles"], json!(["NL*CPO CPO"]));
    let partners = cpo_op.send(Method::GET, "/ocpi/partners", None).await;
    let at_cpo = partners
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == emsp_at_cpo)
        .unwrap();
    assert_eq!(at_cpo["status"], "REGISTERED");
    assert_eq!(at_cpo["roles"], json!(["NL*EMS EMSP"]));

    // The eMSP's driver token, pushed to the CPO (through the eMSP's outbox).
    emsp_op
        .send(
            Method::PUT,
            "/ocpi/tokens/NL*EMS/APP-USER-1",
            Some(json!({
                "country_code": "NL", "party_id": "EMS", "uid": "APP-USER-1", "type": "APP_USER",
                "contract_id": "NL-EMS-C00000001-X", "issuer": "Unicharge eMSP", "valid": true,
                "whitelist": "ALLOWED", "last_updated": "2026-12-06T10:00:00Z",
            })),
        )
        .await;
    let outbox = emsp_op
        .until(&format!("/ocpi/partners/{cpo_at_emsp}/outbox"), |o| {
            o["delivered"] == 2
        })
        .await;
    let token_push = outbox["pushes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["module"] == "tokens")
        .unwrap();
    assert_eq!(token_push["path"], "/NL/EMS/APP-USER-1?type=APP_USER");
    let csms_tokens = cpo_op.send(Method::GET, "/tokens", None).await;
    assert!(
        csms_tokens.to_string().contains("APP-USER-1"),
        "the pushed token is a CSMS token at the CPO: {csms_tokens}"
    );
    assert!(
        csms_tokens.to_string().contains("04AABBCCDD"),
        "the token held before registration too: {csms_tokens}"
    );

    // The CPO's full view for the eMSP (LOC1, still without EVSEs) is enqueued at registration,
    // in the background: it is there before the station boots.
    cpo_op
        .until(&format!("/ocpi/partners/{emsp_at_cpo}/outbox"), |o| {
            o["pushes"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["module"] == "locations"))
        })
        .await;

    // The station is up; the CPO's operator prices it.
    let target = cpo.target(CP, 1);
    let mut station: Station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    let status = |s: ConnectorStatusEnumType| StatusNotificationRequest {
        custom_data: None,
        timestamp: Utc::now(),
        connector_status: s,
        evse_id: 1,
        connector_id: 1,
    };
    station
        .call(&status(ConnectorStatusEnumType::Available))
        .await
        .unwrap();
    cpo_op
        .send(
            Method::POST,
            "/tariffs",
            Some(json!({
                "id": "ROAMING", "currency": "EUR", "vatPercent": "19", "pricePerKwh": "0.39",
                "pricePerChargingMinute": "0.02", "pricePerIdleMinute": "0.10",
                "sessionFee": "0.50",
            })),
        )
        .await;
    cpo_op
        .send(
            Method::POST,
            "/tariff-assignments",
            Some(json!({"tariffId": "ROAMING", "scope": {"scope": "station", "stationId": CP}})),
        )
        .await;
    let received_path = |module: &str| format!("/ocpi/partners/{cpo_at_emsp}/received/{module}");
    let locations = emsp_op
        .until(&received_path("locations"), |l| {
            l[0]["object"]["evses"][0]["status"] == "AVAILABLE"
        })
        .await;
    let location = &locations[0];
    assert_eq!(location["party"], "NL*CPO");
    assert_eq!(location["id"], "LOC1");
    assert_eq!(location["object"]["address"], "Stationsplein 1");
    let evse_uid = format!("{CP}*1");
    assert_eq!(location["object"]["evses"][0]["uid"], evse_uid.as_str());
    assert_eq!(location["object"]["evses"][0]["status"], "AVAILABLE");
    let outbox = cpo_op
        .send(
            Method::GET,
            &format!("/ocpi/partners/{emsp_at_cpo}/outbox"),
            None,
        )
        .await;
    let location_pushes: Vec<String> = outbox["pushes"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .filter(|p| p["module"] == "locations")
        .map(|p| {
            format!(
                "{} {}",
                p["method"].as_str().unwrap(),
                p["path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        location_pushes[0], "PUT /NL/CPO/LOC1",
        "the full view at registration"
    );
    assert_eq!(location_pushes[1], format!("PATCH /NL/CPO/LOC1/{evse_uid}"));
    assert!(
        location_pushes[2..].contains(&"PUT /NL/CPO/LOC1".to_string()),
        "the refused PATCH, then the whole location: {location_pushes:?}"
    );
    let tariffs = emsp_op
        .until(&received_path("tariffs"), |t| {
            t.as_array().is_some_and(|t| !t.is_empty())
        })
        .await;
    let tariff = tariffs[0]["object"].clone();
    assert_eq!(tariff["id"], "ROAMING");

    // START_SESSION from the eMSP's operator API.
    let command = emsp_op
        .send(
            Method::POST,
            &format!("/ocpi/partners/{cpo_at_emsp}/commands/START_SESSION"),
            Some(json!({"locationId": "LOC1", "evseUid": evse_uid, "tokenUid": "APP-USER-1"})),
        )
        .await;
    assert_eq!(command["command"], "START_SESSION");
    assert_eq!(command["response"], "ACCEPTED", "{command}");
    let command_id = command["id"].as_str().unwrap().to_string();
    let (call_id, request) = station
        .expect_call::<RequestStartTransactionRequest>()
        .await
        .unwrap();
    assert_eq!(request.id_token.id_token, "APP-USER-1");
    assert_eq!(request.evse_id, Some(1));
    station
        .respond::<RequestStartTransactionRequest>(
            &call_id,
            &RequestStartTransactionResponse {
                custom_data: None,
                status: RequestStartStopStatusEnumType::Accepted,
                status_info: None,
                transaction_id: None,
            },
        )
        .await
        .unwrap();
    let commands = emsp_op
        .until(&format!("/ocpi/partners/{cpo_at_emsp}/commands"), |c| {
            c[0]["result"].is_string()
        })
        .await;
    assert_eq!(commands[0]["id"], command_id.as_str());
    assert_eq!(commands[0]["result"], "ACCEPTED", "{commands}");

    // The station charges.
    const TX: &str = "TX-EMSP-1";
    let t0 = Utc::now() - chrono::Duration::hours(2);
    let minutes = |m: i64| t0 + chrono::Duration::minutes(m);
    let mut first = event(
        TX,
        0,
        TransactionEventEnumType::Started,
        TriggerReasonEnumType::RemoteStart,
        t0,
        ChargingStateEnumType::Charging,
    );
    first.transaction_info.remote_start_id = Some(request.remote_start_id);
    first.id_token = Some(request.id_token.clone());
    first.evse = Some(EvseType {
        custom_data: None,
        id: 1,
        connector_id: Some(1),
    });
    first.meter_value = Some(energy(t0, 10_000, ReadingContextEnumType::TransactionBegin));
    let answer = station.call(&first).await.unwrap();
    assert_eq!(
        answer.id_token_info.unwrap().status,
        AuthorizationStatusEnumType::Accepted
    );
    let sessions = emsp_op
        .until(&received_path("sessions"), |s| {
            s.as_array().is_some_and(|s| !s.is_empty())
        })
        .await;
    assert_eq!(sessions[0]["status"], "ACTIVE", "{sessions}");
    assert_eq!(sessions[0]["object"]["cdr_token"]["uid"], "APP-USER-1");
    assert_eq!(sessions[0]["object"]["auth_method"], "COMMAND");
    let session_id = sessions[0]["id"].as_str().unwrap().to_string();

    // Charging preferences for the running session, to the CPO's Sessions Sender: this CPO
    // does not turn them into a charging profile yet and answers NOT_POSSIBLE.
    let preferences = emsp_op
        .send(
            Method::PUT,
            &format!("/ocpi/partners/{cpo_at_emsp}/sessions/{session_id}/charging-preferences"),
            Some(json!({"profileType": "FAST", "energyNeed": "20.5",
                        "departureTime": "2026-12-06T18:00:00Z"})),
        )
        .await;
    assert_eq!(preferences["sessionId"], session_id.as_str());
    assert_eq!(preferences["result"], "NOT_POSSIBLE", "{preferences}");
    let unknown_session = emsp_op
        .client
        .put(format!(
            "{}/ocpi/partners/{cpo_at_emsp}/sessions/NOPE/charging-preferences",
            emsp_op.base
        ))
        .bearer_auth(&emsp_op.key)
        .json(&json!({"profileType": "FAST"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_session.status(), 404);

    // UNLOCK_CONNECTOR while charging: the station refuses, and the eMSP's command row gets
    // the CommandResult REJECTED.
    let unlock = emsp_op
        .send(
            Method::POST,
            &format!("/ocpi/partners/{cpo_at_emsp}/commands/UNLOCK_CONNECTOR"),
            Some(json!({"locationId": "LOC1", "evseUid": evse_uid, "connectorId": "1"})),
        )
        .await;
    assert_eq!(unlock["response"], "ACCEPTED", "{unlock}");
    let (call_id, unlock_request) = station
        .expect_call::<UnlockConnectorRequest>()
        .await
        .unwrap();
    assert_eq!(
        (unlock_request.evse_id, unlock_request.connector_id),
        (1, 1)
    );
    station
        .respond::<UnlockConnectorRequest>(
            &call_id,
            &UnlockConnectorResponse {
                custom_data: None,
                status: UnlockStatusEnumType::OngoingAuthorizedTransaction,
                status_info: None,
            },
        )
        .await
        .unwrap();
    let unlock_id = unlock["id"].as_str().unwrap().to_string();
    let commands = emsp_op
        .until(&format!("/ocpi/partners/{cpo_at_emsp}/commands"), |c| {
            c[0]["id"] == unlock_id.as_str() && c[0]["result"].is_string()
        })
        .await;
    assert_eq!(commands[0]["result"], "REJECTED", "{commands}");
    // RESERVE_NOW on the occupied EVSE: the station says Occupied → EVSE_OCCUPIED.
    let expiry = (Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let reserve = emsp_op
        .send(
            Method::POST,
            &format!("/ocpi/partners/{cpo_at_emsp}/commands/RESERVE_NOW"),
            Some(
                json!({"locationId": "LOC1", "evseUid": evse_uid, "tokenUid": "04AABBCCDD",
                        "reservationId": "R-1", "expiryDate": expiry}),
            ),
        )
        .await;
    assert_eq!(reserve["response"], "ACCEPTED", "{reserve}");
    let (call_id, reserve_request) = station.expect_call::<ReserveNowRequest>().await.unwrap();
    assert_eq!(reserve_request.id_token.id_token, "04AABBCCDD");
    station
        .respond::<ReserveNowRequest>(
            &call_id,
            &ReserveNowResponse {
                custom_data: None,
                status: ReserveNowStatusEnumType::Occupied,
                status_info: None,
            },
        )
        .await
        .unwrap();
    let reserve_id = reserve["id"].as_str().unwrap().to_string();
    let commands = emsp_op
        .until(&format!("/ocpi/partners/{cpo_at_emsp}/commands"), |c| {
            c[0]["id"] == reserve_id.as_str() && c[0]["result"].is_string()
        })
        .await;
    assert_eq!(commands[0]["result"], "EVSE_OCCUPIED", "{commands}");
    // Cancelling the reservation the station refused: UNKNOWN_RESERVATION, station not asked
    // (its next call is the RequestStopTransaction below).
    let cancel = emsp_op
        .send(
            Method::POST,
            &format!("/ocpi/partners/{cpo_at_emsp}/commands/CANCEL_RESERVATION"),
            Some(json!({"reservationId": "R-1"})),
        )
        .await;
    assert_eq!(cancel["response"], "ACCEPTED", "{cancel}");
    let cancel_id = cancel["id"].as_str().unwrap().to_string();
    let commands = emsp_op
        .until(&format!("/ocpi/partners/{cpo_at_emsp}/commands"), |c| {
            c[0]["id"] == cancel_id.as_str() && c[0]["result"].is_string()
        })
        .await;
    assert_eq!(commands[0]["result"], "UNKNOWN_RESERVATION", "{commands}");
    // STOP_SESSION for the driver → RequestStopTransaction at the station → CommandResult.
    let stop = emsp_op
        .send(
            Method::POST,
            &format!("/ocpi/partners/{cpo_at_emsp}/commands/STOP_SESSION"),
            Some(json!({"sessionId": session_id})),
        )
        .await;
    assert_eq!(stop["response"], "ACCEPTED", "{stop}");
    let (call_id, stop_request) = station
        .expect_call::<RequestStopTransactionRequest>()
        .await
        .unwrap();
    assert_eq!(stop_request.transaction_id, TX);
    station
        .respond::<RequestStopTransactionRequest>(
            &call_id,
            &RequestStopTransactionResponse {
                custom_data: None,
                status: RequestStartStopStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await
        .unwrap();
    let stop_id = stop["id"].as_str().unwrap().to_string();
    let commands = emsp_op
        .until(&format!("/ocpi/partners/{cpo_at_emsp}/commands"), |c| {
            c[0]["id"] == stop_id.as_str() && c[0]["result"].is_string()
        })
        .await;
    assert_eq!(commands[0]["command"], "STOP_SESSION");
    assert_eq!(commands[0]["result"], "ACCEPTED", "{commands}");
    let sent: Vec<&str> = commands
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        sent,
        [
            "STOP_SESSION",
            "CANCEL_RESERVATION",
            "RESERVE_NOW",
            "UNLOCK_CONNECTOR",
            "START_SESSION"
        ],
        "newest first"
    );
    // A command with a missing field is refused by the eMSP itself.
    let refused = emsp_op
        .client
        .post(format!(
            "{}/ocpi/partners/{cpo_at_emsp}/commands/STOP_SESSION",
            emsp_op.base
        ))
        .bearer_auth(&emsp_op.key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);

    // The eMSP goes down; the session ends meanwhile.
    emsp.stop().await;
    let mut periodic = event(
        TX,
        1,
        TransactionEventEnumType::Updated,
        TriggerReasonEnumType::MeterValuePeriodic,
        minutes(30),
        ChargingStateEnumType::Charging,
    );
    periodic.transaction_info.charging_state = None;
    periodic.meter_value = Some(energy(
        minutes(30),
        20_000,
        ReadingContextEnumType::SamplePeriodic,
    ));
    station.call(&periodic).await.unwrap();
    let mut suspended = event(
        TX,
        2,
        TransactionEventEnumType::Updated,
        TriggerReasonEnumType::ChargingStateChanged,
        minutes(45),
        ChargingStateEnumType::SuspendedEv,
    );
    suspended.meter_value = Some(energy(
        minutes(45),
        22_345,
        ReadingContextEnumType::SamplePeriodic,
    ));
    station.call(&suspended).await.unwrap();
    let mut ended = event(
        TX,
        3,
        TransactionEventEnumType::Ended,
        TriggerReasonEnumType::EvDeparted,
        minutes(60),
        ChargingStateEnumType::Idle,
    );
    ended.transaction_info.stopped_reason = Some(ReasonEnumType::EvDisconnected);
    ended.meter_value = Some(energy(
        minutes(60),
        22_345,
        ReadingContextEnumType::TransactionEnd,
    ));
    let last = station.call(&ended).await.unwrap();
    assert_eq!(last.total_cost, Some("9.17".parse().unwrap()));
    // The CPO tried the CDR and failed: the eMSP is not there.
    let cdr_push = |o: &Value| -> Option<Value> {
        o["pushes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["module"] == "cdrs")
            .cloned()
    };
    let outbox = cpo_op
        .until(&format!("/ocpi/partners/{emsp_at_cpo}/outbox"), |o| {
            cdr_push(o).is_some_and(|c| c["lastError"].is_string())
        })
        .await;
    assert_eq!(cdr_push(&outbox).unwrap()["status"], "PENDING");

    // The eMSP is back on its database: the CDR arrives.
    let emsp = EmspInstance::start(emsp_dir.path(), port).await;
    let emsp_op = Operator::new(emsp.http, &key);
    let cdrs = emsp_op
        .until(&received_path("cdrs"), |c| {
            c.as_array().is_some_and(|c| !c.is_empty())
        })
        .await;
    assert_eq!(cdrs.as_array().unwrap().len(), 1);
    let cdr = &cdrs[0];
    assert_eq!(cdr["party"], "NL*CPO");
    assert_eq!(cdr["sessionId"], session_id.as_str());
    assert_eq!(cdr["kwh"], "12.345");
    assert_eq!(cdr["currency"], "EUR");
    assert_eq!(cdr["totalCost"]["exclVat"], "7.71", "{cdr}");
    assert_eq!(cdr["totalCost"]["inclVat"], "9.17", "{cdr}");
    // The cost of the tariff the eMSP received, for the CDR's energy and times.
    let object = &cdr["object"];
    let cents = |d: Decimal| d.round_dp(2);
    let excl = cents(dimension(object, "ENERGY") * component(&tariff, "ENERGY"))
        + cents(dimension(object, "TIME") * component(&tariff, "TIME"))
        + cents(dimension(object, "PARKING_TIME") * component(&tariff, "PARKING_TIME"))
        + component(&tariff, "FLAT");
    let vat: Decimal = tariff["elements"][0]["price_components"][0]["vat"]
        .to_string()
        .parse()
        .unwrap_or_else(|_| "19".parse().unwrap());
    let incl = cents(excl * (Decimal::ONE + vat / Decimal::from(100)));
    assert_eq!(excl.normalize().to_string(), "7.71", "from {tariff}");
    assert_eq!(cdr["totalCost"]["exclVat"], excl.normalize().to_string());
    assert_eq!(cdr["totalCost"]["inclVat"], incl.normalize().to_string());
    let sessions = emsp_op
        .until(&received_path("sessions"), |s| {
            s[0]["status"] == "COMPLETED"
        })
        .await;
    assert_eq!(sessions[0]["totalCost"]["inclVat"], "9.17");
    // Once: one CDR push at the CPO, delivered.
    let outbox = cpo_op
        .until(&format!("/ocpi/partners/{emsp_at_cpo}/outbox"), |o| {
            cdr_push(o).is_some_and(|c| c["status"] == "DELIVERED")
        })
        .await;
    let cdr_pushes = outbox["pushes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["module"] == "cdrs")
        .count();
    assert_eq!(cdr_pushes, 1);
    station.close().await;
    emsp.stop().await;
}

/// The Tokens Sender of the eMSP: the operator's tokens of our eMSP party, served to a CPO
/// paged (X-Total-Count, Link) and filtered by last_updated (date_from inclusive, date_to
/// exclusive); real-time authorization answers ALLOWED with an authorization reference,
/// BLOCKED for an invalid token, 404 / 2004 for a token we do not have (or of another type).
/// A token of a party that is not an eMSP party of ours is refused by the operator API.
#[tokio::test]
async fn emsp_tokens_sender_paged_and_realtime_authorization() {
    let (_emsp, operator) = emsp().await;
    for (uid, valid, at) in [
        ("TOK-1", true, "2026-12-06T10:00:00Z"),
        ("TOK-2", false, "2026-12-06T11:00:00Z"),
        ("TOK-3", true, "2026-12-06T12:00:00Z"),
    ] {
        operator
            .send(
                Method::PUT,
                &format!("/ocpi/tokens/NL*EMS/{uid}"),
                Some(json!({
                    "country_code": "NL", "party_id": "EMS", "uid": uid, "type": "RFID",
                    "contract_id": format!("NL-EMS-C{uid}"), "issuer": "Unicharge eMSP",
                    "valid": valid, "whitelist": "ALWAYS", "last_updated": at,
                })),
            )
            .await;
    }
    let not_ours = operator
        .client
        .put(format!("{}/ocpi/tokens/DE*XYZ/TOK-9", operator.base))
        .bearer_auth(&operator.key)
        .json(&json!({
            "country_code": "DE", "party_id": "XYZ", "uid": "TOK-9", "type": "RFID",
            "contract_id": "C", "issuer": "x", "valid": true, "whitelist": "ALWAYS",
            "last_updated": "2026-12-06T10:00:00Z",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(not_ours.status(), 400);
    // The operator's eMSP routes are in the OpenAPI document.
    let doc = operator.send(Method::GET, "/openapi.json", None).await;
    for path in [
        "/api/v1/ocpi/partners/{id}/received/{module}",
        "/api/v1/ocpi/partners/{id}/commands",
        "/api/v1/ocpi/partners/{id}/commands/{command}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} not documented");
    }
    let listed = operator.send(Method::GET, "/ocpi/tokens", None).await;
    assert_eq!(listed.as_array().unwrap().len(), 3);

    let (peer, _) = cpo_peer(&operator, "NL", "TNM").await;
    let tokens = peer.endpoint("tokens");
    let (code, headers, page) = peer
        .call(Method::GET, &format!("{tokens}?limit=2"), None)
        .await;
    assert_eq!(code, 200, "{page}");
    assert_eq!(headers["x-total-count"], "3");
    let uids: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids, ["TOK-1", "TOK-2"]);
    assert!(
        headers["link"].to_str().unwrap().contains("offset=2"),
        "{headers:?}"
    );
    let (_, _, window) = peer
        .call(
            Method::GET,
            &format!("{tokens}?date_from=2026-12-06T11:00:00Z&date_to=2026-12-06T12:00:00Z"),
            None,
        )
        .await;
    let uids: Vec<&str> = window["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids, ["TOK-2"], "date_from inclusive, date_to exclusive");

    let (code, _, allowed) = peer
        .call(
            Method::POST,
            &format!("{tokens}/TOK-1/authorize"),
            Some(json!({"location_id": "LOC1", "evse_uids": ["3256"]})),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(allowed["data"]["allowed"], "ALLOWED", "{allowed}");
    assert_eq!(allowed["data"]["token"]["contract_id"], "NL-EMS-CTOK-1");
    assert_eq!(allowed["data"]["location"]["location_id"], "LOC1");
    assert!(allowed["data"]["authorization_reference"].is_string());
    let (_, _, blocked) = peer
        .call(
            Method::POST,
            &format!("{tokens}/TOK-2/authorize?type=RFID"),
            None,
        )
        .await;
    assert_eq!(blocked["data"]["allowed"], "BLOCKED", "{blocked}");
    assert!(blocked["data"]["authorization_reference"].is_null());
    let (code, _, unknown) = peer
        .call(Method::POST, &format!("{tokens}/TOK-404/authorize"), None)
        .await;
    assert_eq!((code, unknown["status_code"].as_i64()), (404, Some(2004)));
    let (code, _, other_type) = peer
        .call(
            Method::POST,
            &format!("{tokens}/TOK-1/authorize?type=APP_USER"),
            None,
        )
        .await;
    assert_eq!(
        (code, other_type["status_code"].as_i64()),
        (404, Some(2004))
    );
}
