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
