//! OCPI partners whose roles are not CPO / eMSP (issue 12, ADR 0049): Navigation Service
//! Providers (NSP), National Access Points (NAP), data aggregators (OTHER) and Smart Charging
//! Service Providers (SCSP), each played by the peer of tests/ocpi_common registering with the
//! role in its credentials, over real HTTP; stations played by the simulator over a real
//! WebSocket. Pushes are retried on millisecond backoff, so nothing here sleeps.
//!
//! One test per business use case of seed 003: B1.2 / B1.3 / B1.4 (locations), B2.2 / B2.3
//! (the ad-hoc tariff), B4.3 / B7.3 (pseudonymised sessions), B1.5 (data sharing approved or
//! not by the CPO on behalf of the owner).

#[path = "common/mod.rs"]
mod common;
#[path = "ocpi_common/mod.rs"]
mod ocpi_common;

use std::time::Duration;

use chrono::Utc;
use reqwest::Method;
use serde_json::{json, Value};
use unicharge_ocpp::v201::{
    ChargingStateEnumType, ConnectorStatusEnumType, EvseType, IdTokenEnumType, IdTokenType,
    ReadingContextEnumType, ReasonEnumType, StatusNotificationRequest, TransactionEventEnumType,
    TriggerReasonEnumType,
};
use unicharge_sim::octt::states;
use unicharge_sim::Station;

use common::payloads::{energy, transaction_event as event};
use common::{StationSpec, TestCsms};
use ocpi_common::{Operator, Peer, Pushed};

const CP1: &str = "CP-ROLE-1";
const CP2: &str = "CP-ROLE-2";
const UID: &str = "04A1B2C3D4";
const CONTRACT: &str = "NL-EMA-C12345678-X";

/// A CPO with party NL*UNI: CP1 at LOC1, CP2 at LOC2, tariff ROAMING (0.39 / kWh) at CP1.
async fn cpo() -> (TestCsms, Operator) {
    let csms = TestCsms::start_with(&[StationSpec::new(CP1, 1), StationSpec::new(CP2, 1)], |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        s.ocpi.push_retry_initial = Duration::from_millis(20);
        s.ocpi.push_retry_max = Duration::from_millis(100);
        s.ocpi.parties = vec![unicharge_ocpi_server::settings::PartySettings {
            country_code: "NL".into(),
            party_id: "UNI".into(),
            name: "Unicharge NL".into(),
            website: None,
            role: unicharge_ocpi_server::settings::Role::Cpo,
        }];
    })
    .await;
    let operator = Operator::new(
        csms.server.http_addr.unwrap(),
        csms.server.initial_admin_key.as_ref().unwrap(),
    );
    operator.location("NL*UNI", "LOC1", &[CP1]).await;
    operator.location("NL*UNI", "LOC2", &[CP2]).await;
    tariff(&operator, "0.39").await;
    operator
        .send(
            Method::POST,
            "/tariff-assignments",
            Some(json!({"tariffId": "ROAMING", "scope": {"scope": "station", "stationId": CP1}})),
        )
        .await;
    (csms, operator)
}

/// Create or change tariff ROAMING.
async fn tariff(operator: &Operator, per_kwh: &str) {
    operator
        .send(
            Method::POST,
            "/tariffs",
            Some(json!({
                "id": "ROAMING", "currency": "EUR", "vatPercent": "19", "pricePerKwh": per_kwh,
                "pricePerChargingMinute": "0.02", "pricePerIdleMinute": "0.10",
                "sessionFee": "0.50",
            })),
        )
        .await;
}

/// A partner of `role` (party NL/`party_id`) registered with NL*UNI in `version`.
async fn partner(operator: &Operator, role: &str, party_id: &str, version: &str) -> (Peer, i64) {
    let (token_a, versions_url, id) = operator.partner(&format!("Peer {role}"), &["NL*UNI"]).await;
    let mut peer = Peer::start("NL", party_id).await.with_role(role);
    peer.register(&versions_url, &token_a, version).await;
    (peer, id)
}

async fn status(station: &mut Station, status: ConnectorStatusEnumType) {
    station
        .call(&StatusNotificationRequest {
            custom_data: None,
            timestamp: Utc::now(),
            connector_status: status,
            evse_id: 1,
            connector_id: 1,
        })
        .await
        .unwrap();
}

async fn boot(csms: &TestCsms, id: &str) -> Station {
    let target = csms.target(id, 1);
    let mut station: Station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    station
}

/// GET `{module endpoint}{rest}` as the peer: (HTTP status, body).
async fn get(peer: &Peer, module: &str, rest: &str) -> (u16, Value) {
    let (code, _, body) = peer
        .call(
            Method::GET,
            &format!("{}{rest}", peer.endpoint(module)),
            None,
        )
        .await;
    (code, body)
}

/// Our version's base URL (`…/ocpi`), from the credentials endpoint the peer was given.
fn versions_url_of(peer: &Peer) -> String {
    let credentials = peer.endpoint("credentials");
    let base = credentials.rsplit_once('/').unwrap().0;
    base.rsplit_once('/').unwrap().0.to_string()
}

fn location_put(p: &Pushed, id: &str) -> bool {
    p.module == "locations" && p.method == "PUT" && p.path == format!("/NL/UNI/{id}")
}

fn evse_path(station: &str, location: &str) -> String {
    format!("/NL/UNI/{location}/{station}*1")
}

/// Everything a non-roaming role may not reach is refused with HTTP 403 and OCPI 2000 before
/// anything is read: tokens, CDRs, commands, charging profiles, hub client info.
async fn assert_refused_driver_and_control_modules(peer: &Peer) {
    let token = format!("{}/NL/EMA/{UID}?type=RFID", peer.endpoint("tokens"));
    for (method, url, body) in [
        (Method::GET, token.clone(), None),
        (
            Method::PUT,
            token,
            Some(json!({"country_code": "NL", "party_id": "EMA", "uid": UID})),
        ),
        (Method::GET, peer.endpoint("cdrs"), None),
        (
            Method::POST,
            format!("{}/START_SESSION", peer.endpoint("commands")),
            Some(json!({"response_url": peer.response_url("c1"), "location_id": "LOC1"})),
        ),
        (
            Method::PUT,
            format!("{}/SESSION1", peer.endpoint("chargingprofiles")),
            Some(json!({})),
        ),
    ] {
        let (code, _, answer) = peer.call(method.clone(), &url, body).await;
        assert_eq!(
            (code, answer["status_code"].as_i64()),
            (403, Some(2000)),
            "{method} {url}: {answer}"
        );
        assert!(
            answer["status_message"]
                .as_str()
                .unwrap()
                .contains(&peer.role),
            "{answer}"
        );
    }
}

/// The partner's outbox rows (newest first) as the operator sees them.
async fn outbox(operator: &Operator, partner_id: i64) -> Vec<Value> {
    operator
        .send(
            Method::GET,
            &format!("/ocpi/partners/{partner_id}/outbox"),
            None,
        )
        .await["pushes"]
        .as_array()
        .unwrap()
        .clone()
}

/// B1.2 / B1.3 / B1.4 for one role: the full view of both locations pushed at registration,
/// the Sender list and one location by GET, an EVSE status change PATCHed; nothing else.
async fn location_information(role: &str, party_id: &str, version: &str) {
    let (csms, operator) = cpo().await;
    let (mut peer, partner_id) = partner(&operator, role, party_id, version).await;
    let (skipped, loc1) = peer.next_push(|p| location_put(p, "LOC1")).await;
    assert!(loc1.accepted);
    assert_eq!(loc1.body["name"], "Site LOC1");
    assert_eq!(loc1.body["address"], "Stationsplein 1");
    assert_eq!(loc1.body["coordinates"]["latitude"], "52.089444");
    assert_eq!(loc1.header("ocpi-to-party-id"), Some(party_id));
    if !skipped.iter().any(|p| location_put(p, "LOC2")) {
        peer.next_push(|p| location_put(p, "LOC2")).await;
    }

    let (code, list) = get(&peer, "locations", "").await;
    assert_eq!((code, list["status_code"].as_i64()), (200, Some(1000)));
    let mut ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["LOC1", "LOC2"]);
    let (code, one) = get(&peer, "locations", "/LOC2").await;
    assert_eq!(code, 200, "{one}");
    assert_eq!(one["data"]["name"], "Site LOC2");

    // Up to date: a status change reaches the partner as a PATCH of the EVSE.
    let mut station = boot(&csms, CP1).await;
    status(&mut station, ConnectorStatusEnumType::Occupied).await;
    let (_, patch) = peer
        .next_push(|p| p.path == evse_path(CP1, "LOC1") && p.body["status"] == "CHARGING")
        .await;
    assert_eq!(patch.method, "PATCH");
    assert!(patch.accepted);
    let (_, evse) = get(&peer, "locations", &format!("/LOC1/{CP1}*1")).await;
    assert_eq!(evse["data"]["status"], "CHARGING");

    assert_refused_driver_and_control_modules(&peer).await;
    // Registered, its version details list only what its role opens.
    let details = format!("{}/{version}", versions_url_of(&peer));
    let (code, _, answer) = peer.call(Method::GET, &details, None).await;
    assert_eq!(code, 200, "{answer}");
    let mut listed: Vec<&str> = answer["data"]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["identifier"].as_str().unwrap())
        .collect();
    listed.sort();
    listed.dedup();
    // Every role may fetch our signing keys (B8.5) to check what we send it.
    let expected: &[&str] = if role == "OTHER" {
        // B7.4's energy per location goes with the session feed.
        &[
            "credentials",
            "locations",
            "sessions",
            "x-unicharge-locationenergy",
            "x-unicharge-signing",
        ]
    } else {
        &["credentials", "locations", "tariffs", "x-unicharge-signing"]
    };
    assert_eq!(listed, expected);
    let modules: Vec<String> = outbox(&operator, partner_id)
        .await
        .iter()
        .map(|p| p["module"].as_str().unwrap().to_string())
        .collect();
    assert!(
        modules.iter().all(|m| m == "locations" || m == "tariffs"),
        "{modules:?}"
    );
}

/// B1.2: an NSP has up-to-date Charging Location information (2.2.1).
#[tokio::test]
async fn b1_2_nsp_gets_locations_pulled_and_pushed_and_no_driver_modules() {
    location_information("NSP", "NSP", "2.2.1").await;
}

/// B1.3: a NAP has up-to-date Charging Location information (2.3.0).
#[tokio::test]
async fn b1_3_nap_gets_locations_pulled_and_pushed_and_no_driver_modules() {
    location_information("NAP", "NAP", "2.3.0").await;
}

/// B1.4: a data aggregator (OCPI role OTHER) has up-to-date locations to monitor and forecast
/// usage and availability; tariffs are not among what its role opens (not pulled, not pushed).
#[tokio::test]
async fn b1_4_data_aggregator_gets_locations_and_status_but_no_tariffs() {
    location_information("OTHER", "AGG", "2.2.1").await;
    let (_csms, operator) = cpo().await;
    let (mut peer, partner_id) = partner(&operator, "OTHER", "AGG", "2.2.1").await;
    peer.next_push(|p| location_put(p, "LOC1")).await;
    let (code, answer) = get(&peer, "tariffs", "").await;
    assert_eq!((code, answer["status_code"].as_i64()), (403, Some(2000)));
    // A tariff change is pushed to partners before the operator's call returns.
    tariff(&operator, "0.45").await;
    let rows = outbox(&operator, partner_id).await;
    assert!(rows.iter().any(|p| p["module"] == "locations"), "{rows:?}");
    assert!(!rows.iter().any(|p| p["module"] == "tariffs"), "{rows:?}");
}

fn price_of(tariff: &Value, dimension: &str) -> String {
    tariff["elements"][0]["price_components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == dimension)
        .unwrap_or_else(|| panic!("no {dimension} in {tariff}"))["price"]
        .to_string()
}

/// B2.2 / B2.3 for one role: the tariff reaches it as AD_HOC_PAYMENT (pushed at registration
/// and on change, and by GET) while an eMSP gets the same prices as REGULAR.
async fn ad_hoc_tariff(role: &str, party_id: &str, version: &str) {
    let (_csms, operator) = cpo().await;
    let (mut emsp, _) = partner(&operator, "EMSP", "EMA", "2.2.1").await;
    let (mut peer, _) = partner(&operator, role, party_id, version).await;
    let is_tariff = |p: &Pushed| p.module == "tariffs" && p.path == "/NL/UNI/ROAMING";
    let (_, pushed) = peer.next_push(is_tariff).await;
    assert_eq!(pushed.method, "PUT");
    assert_eq!(pushed.body["type"], "AD_HOC_PAYMENT", "{}", pushed.body);
    assert_eq!(price_of(&pushed.body, "ENERGY"), "0.39");
    assert_eq!(price_of(&pushed.body, "FLAT"), "0.5");
    assert_eq!(pushed.body["currency"], "EUR");
    let (_, regular) = emsp.next_push(is_tariff).await;
    assert_eq!(regular.body["type"], "REGULAR");
    assert_eq!(price_of(&regular.body, "ENERGY"), "0.39");

    let (code, list) = get(&peer, "tariffs", "").await;
    assert_eq!((code, list["status_code"].as_i64()), (200, Some(1000)));
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{list}");
    assert_eq!(data[0]["id"], "ROAMING");
    assert_eq!(data[0]["type"], "AD_HOC_PAYMENT");

    // The ad-hoc price changes: the partner hears of it.
    tariff(&operator, "0.45").await;
    let (_, changed) = peer
        .next_push(|p| is_tariff(p) && price_of(&p.body, "ENERGY") == "0.45")
        .await;
    assert_eq!(changed.body["type"], "AD_HOC_PAYMENT");
    assert!(changed.accepted);
}

/// B2.2: the CPO informs NSPs about the ad-hoc tariff.
#[tokio::test]
async fn b2_2_nsp_informed_about_the_ad_hoc_tariff() {
    ad_hoc_tariff("NSP", "NSP", "2.2.1").await;
}

/// B2.3: the CPO informs NAPs about the ad-hoc tariff.
#[tokio::test]
async fn b2_3_nap_informed_about_the_ad_hoc_tariff() {
    ad_hoc_tariff("NAP", "NAP", "2.3.0").await;
}

/// The eMSP pushes its driver's token to the CPO.
async fn push_token(emsp: &Peer) {
    let (code, _, put) = emsp
        .call(
            Method::PUT,
            &format!("{}/NL/EMA/{UID}?type=RFID", emsp.endpoint("tokens")),
            Some(json!({
                "country_code": "NL", "party_id": "EMA", "uid": UID, "type": "RFID",
                "contract_id": CONTRACT, "issuer": "Peer eMSP", "valid": true,
                "visual_number": "DRIVER-CARD-42",
                "whitelist": "ALWAYS", "last_updated": "2026-12-06T10:00:00Z",
            })),
        )
        .await;
    assert_eq!((code, put["status_code"].as_i64()), (200, Some(1000)));
}

/// Start transaction `tx` at `station` with the driver's token, meter at 10 kWh.
async fn start(station: &mut Station, tx: &str, t0: chrono::DateTime<Utc>) {
    let mut first = event(
        tx,
        0,
        TransactionEventEnumType::Started,
        TriggerReasonEnumType::Authorized,
        t0,
        ChargingStateEnumType::Charging,
    );
    first.id_token = Some(IdTokenType {
        custom_data: None,
        additional_info: None,
        id_token: UID.into(),
        r#type: IdTokenEnumType::Iso14443,
    });
    first.evse = Some(EvseType {
        custom_data: None,
        id: 1,
        connector_id: Some(1),
    });
    first.meter_value = Some(energy(t0, 10_000, ReadingContextEnumType::TransactionBegin));
    station.call(&first).await.unwrap();
}

/// A periodic meter value of `wh` at `at`.
async fn meter(station: &mut Station, tx: &str, seq: i64, at: chrono::DateTime<Utc>, wh: i64) {
    let mut periodic = event(
        tx,
        seq,
        TransactionEventEnumType::Updated,
        TriggerReasonEnumType::MeterValuePeriodic,
        at,
        ChargingStateEnumType::Charging,
    );
    periodic.transaction_info.charging_state = None;
    periodic.meter_value = Some(energy(at, wh, ReadingContextEnumType::SamplePeriodic));
    station.call(&periodic).await.unwrap();
}

/// A session's `kwh` as written (a JSON number, compared as its text).
fn kwh(session: &Value) -> String {
    session["kwh"].to_string()
}

/// The session carries no identity of the driver: uid and contract id are one pseudonym,
/// neither the uid, the contract id nor the card's visual number appears anywhere in it.
fn assert_pseudonymised(session: &Value) -> String {
    let text = session.to_string();
    for secret in [UID, CONTRACT, "C12345678", "DRIVER-CARD-42"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let uid = session["cdr_token"]["uid"].as_str().unwrap().to_string();
    assert!(uid.starts_with("PSN") && uid.len() == 35, "{uid}");
    assert_eq!(session["cdr_token"]["contract_id"], uid.as_str());
    // The eMSP's party and the token type name a company and a medium, not a person.
    assert_eq!(session["cdr_token"]["party_id"], "EMA");
    assert_eq!(session["cdr_token"]["type"], "RFID");
    uid
}

/// B4.3 / B7.3 for one role: every session at a shared location, pushed on start and on each
/// update and readable by GET, pseudonymised, with the right kWh; never a CDR.
async fn pseudonymised_sessions(role: &str, party_id: &str) {
    let (csms, operator) = cpo().await;
    let (mut emsp, _) = partner(&operator, "EMSP", "EMA", "2.2.1").await;
    push_token(&emsp).await;
    let (mut peer, partner_id) = partner(&operator, role, party_id, "2.2.1").await;
    let mut station = boot(&csms, CP1).await;
    let t0 = Utc::now() - chrono::Duration::hours(2);
    let minutes = |m: i64| t0 + chrono::Duration::minutes(m);
    start(&mut station, "TX-ROLE-1", t0).await;

    let is_session = |p: &Pushed| p.module == "sessions";
    let (_, active) = peer.next_push(is_session).await;
    assert!(active.accepted);
    assert_eq!(active.method, "PUT");
    assert_eq!(active.body["status"], "ACTIVE");
    assert_eq!(active.body["location_id"], "LOC1");
    assert_eq!(active.body["evse_uid"], format!("{CP1}*1"));
    let pseudonym = assert_pseudonymised(&active.body);
    let session_id = active.body["id"].as_str().unwrap().to_string();
    assert_eq!(active.path, format!("/NL/UNI/{session_id}"));
    assert_eq!(active.header("ocpi-to-party-id"), Some(party_id));
    // The eMSP of the driver gets the same session with the real token.
    let (_, own) = emsp.next_push(is_session).await;
    assert_eq!(own.body["id"], session_id.as_str());
    assert_eq!(own.body["cdr_token"]["uid"], UID);

    // An update: 12.345 kWh charged so far.
    meter(&mut station, "TX-ROLE-1", 1, minutes(30), 22_345).await;
    let (_, update) = peer
        .next_push(|p| is_session(p) && kwh(&p.body) == "12.345")
        .await;
    assert_eq!(update.body["id"], session_id.as_str());
    assert_eq!(assert_pseudonymised(&update.body), pseudonym, "stable");

    // Pulled: the list and the session by id, the same pseudonym and energy.
    let (code, list) = get(&peer, "sessions", "?date_from=2020-01-01T00:00:00Z").await;
    assert_eq!(
        (code, list["status_code"].as_i64()),
        (200, Some(1000)),
        "{list}"
    );
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{list}");
    assert_eq!(kwh(&data[0]), "12.345");
    assert_eq!(assert_pseudonymised(&data[0]), pseudonym);
    let (code, one) = get(&peer, "sessions", &format!("/{session_id}")).await;
    assert_eq!(code, 200, "{one}");
    assert_eq!(assert_pseudonymised(&one["data"]), pseudonym);

    // Ended and priced: the COMPLETED session arrives, no CDR (a CDR is for billing).
    let mut ended = event(
        "TX-ROLE-1",
        2,
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
    station.call(&ended).await.unwrap();
    let (_, cdr) = emsp.next_push(|p| p.module == "cdrs").await;
    assert_eq!(cdr.body["cdr_token"]["uid"], UID);
    let (skipped, done) = peer
        .next_push(|p| is_session(p) && p.body["status"] == "COMPLETED")
        .await;
    assert_eq!(kwh(&done.body), "12.345");
    assert_pseudonymised(&done.body);
    assert!(skipped.iter().all(|p| p.module != "cdrs"));
    // The eMSP's CDR was enqueued with the COMPLETED session: none for this partner.
    let rows = outbox(&operator, partner_id).await;
    assert!(rows.iter().all(|p| p["module"] != "cdrs"), "{rows:?}");
    assert_refused_driver_and_control_modules(&peer).await;
}

/// B4.3: a data aggregator is informed about ongoing charging sessions, pseudonymised.
#[tokio::test]
async fn b4_3_data_aggregator_gets_pseudonymised_sessions_with_energy() {
    pseudonymised_sessions("OTHER", "AGG").await;
}

/// B7.3: an SCSP is informed about ongoing charging sessions (pseudonymised, pushed on every
/// update so it can compute profiles).
#[tokio::test]
async fn b7_3_scsp_informed_about_ongoing_sessions() {
    pseudonymised_sessions("SCSP", "SCS").await;
}

async fn sharing(operator: &Operator, location: &str, body: Value) -> Value {
    operator
        .send(
            Method::PUT,
            &format!("/ocpi/locations/NL*UNI/{location}/sharing"),
            Some(body),
        )
        .await
}

/// B1.5: the CPO approves or not data sharing on behalf of the owner. Default shared; LOC2's
/// owner refuses it to the NSP only: the NSP never gets LOC2 (not in its full view, not
/// listed, GET 404 / 2003, no status PATCH), the aggregator still does. Then LOC1 is withdrawn
/// from every partner: partners that had it get its EVSE as REMOVED, GETs stop; removing the
/// decision brings the whole location back.
#[tokio::test]
async fn b1_5_location_sharing_refused_is_not_listed_nor_pushed() {
    let (csms, operator) = cpo().await;
    let (token_a, versions_url, nsp_id) = operator.partner("Peer NSP", &["NL*UNI"]).await;
    let view = sharing(
        &operator,
        "LOC2",
        json!({"partnerId": nsp_id, "approved": false, "reason": "owner: no navigation apps"}),
    )
    .await;
    assert_eq!(view["default"], "shared");
    assert_eq!(view["rules"][0]["partnerId"], nsp_id);
    assert_eq!(view["rules"][0]["approved"], false);
    let mut nsp = Peer::start("NL", "NSP").await.with_role("NSP");
    nsp.register(&versions_url, &token_a, "2.2.1").await;
    let (mut agg, agg_id) = partner(&operator, "OTHER", "AGG", "2.2.1").await;
    let view = operator
        .send(Method::GET, "/ocpi/locations/NL*UNI/LOC2/sharing", None)
        .await;
    let shared = |id: i64| {
        view["partners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["partnerId"] == id)
            .unwrap()["shared"]
            .clone()
    };
    assert_eq!(
        (shared(nsp_id), shared(agg_id)),
        (json!(false), json!(true))
    );

    // Pull: LOC2 is not there for the NSP; it is for the aggregator.
    let (_, list) = get(&nsp, "locations", "").await;
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["LOC1"]);
    for rest in ["/LOC2".to_string(), format!("/LOC2/{CP2}*1")] {
        let (code, answer) = get(&nsp, "locations", &rest).await;
        assert_eq!((code, answer["status_code"].as_i64()), (404, Some(2003)));
    }
    let (code, _) = get(&agg, "locations", "/LOC2").await;
    assert_eq!(code, 200);

    // Push: LOC2 changes first, then LOC1; the NSP hears of LOC1 only.
    let mut cp2 = boot(&csms, CP2).await;
    status(&mut cp2, ConnectorStatusEnumType::Occupied).await;
    agg.next_push(|p| p.path == evse_path(CP2, "LOC2") && p.body["status"] == "CHARGING")
        .await;
    let mut cp1 = boot(&csms, CP1).await;
    status(&mut cp1, ConnectorStatusEnumType::Occupied).await;
    let (skipped, _) = nsp
        .next_push(|p| p.path == evse_path(CP1, "LOC1") && p.body["status"] == "CHARGING")
        .await;
    assert!(
        skipped.iter().all(|p| !p.path.contains("LOC2")),
        "{skipped:#?}"
    );
    let rows = outbox(&operator, nsp_id).await;
    assert!(
        rows.iter()
            .all(|p| !p["objectKey"].as_str().unwrap_or("").contains("LOC2")
                && !p["path"].as_str().unwrap_or("").contains("LOC2")),
        "{rows:?}"
    );

    // LOC1 withdrawn from every partner: its EVSE is REMOVED at both, GETs stop.
    sharing(
        &operator,
        "LOC1",
        json!({"approved": false, "reason": "owner withdrew consent"}),
    )
    .await;
    for peer in [&mut nsp, &mut agg] {
        let (_, removed) = peer
            .next_push(|p| p.path == evse_path(CP1, "LOC1") && p.body["status"] == "REMOVED")
            .await;
        assert_eq!(removed.method, "PATCH");
        let (code, answer) = get(peer, "locations", "/LOC1").await;
        assert_eq!((code, answer["status_code"].as_i64()), (404, Some(2003)));
    }
    let (_, list) = get(&nsp, "locations", "").await;
    assert_eq!(list["data"], json!([]));
    // No status of a withdrawn location is pushed any more: CP1's change (published before
    // CP2's) adds no row for the aggregator by the time CP2's has arrived.
    let cp1_rows = |rows: &[Value]| {
        rows.iter()
            .filter(|p| p["path"] == evse_path(CP1, "LOC1"))
            .count()
    };
    let before = cp1_rows(&outbox(&operator, agg_id).await);
    status(&mut cp1, ConnectorStatusEnumType::Available).await;
    status(&mut cp2, ConnectorStatusEnumType::Available).await;
    let (skipped, _) = agg
        .next_push(|p| p.path == evse_path(CP2, "LOC2") && p.body["status"] == "AVAILABLE")
        .await;
    assert!(
        skipped.iter().all(|p| p.body["status"] != "AVAILABLE"),
        "{skipped:#?}"
    );
    assert_eq!(cp1_rows(&outbox(&operator, agg_id).await), before);

    // The decision removed: back to the default, the whole location is PUT again.
    sharing(&operator, "LOC1", json!({"approved": null})).await;
    let (_, back) = nsp.next_push(|p| location_put(p, "LOC1")).await;
    assert_eq!(back.body["evses"][0]["status"], "AVAILABLE");
    let (code, _) = get(&nsp, "locations", "/LOC1").await;
    assert_eq!(code, 200);
}

/// B7.4: a grid operator (role OTHER) reads the energy used at each location per quarter hour
/// (the `x-unicharge-locationenergy` extension). LOC1's station charges 10,000 → 14,000 Wh
/// over 20 minutes and → 15,500 Wh 10 minutes later: the first quarter gets 3.000 kWh, the
/// second 1.000 + 1.500 = 2.500 kWh, the third 0.000 — every quarter is reported, LOC2 (nothing
/// charged) with zeros. Pagination is OCPI's; an NSP may not read it (403 / 2000).
#[tokio::test]
async fn b7_4_grid_operator_receives_location_energy_per_quarter_hour() {
    let (csms, operator) = cpo().await;
    let (dso, _) = partner(&operator, "OTHER", "DSO", "2.2.1").await;
    let mut station = boot(&csms, CP1).await;
    // On a quarter hour, two hours ago.
    let now = Utc::now().timestamp();
    let t0 = chrono::DateTime::from_timestamp(now - now.rem_euclid(900) - 7200, 0).unwrap();
    let minutes = |m: i64| t0 + chrono::Duration::minutes(m);
    start(&mut station, "TX-GRID-1", t0).await;
    meter(&mut station, "TX-GRID-1", 1, minutes(20), 14_000).await;
    meter(&mut station, "TX-GRID-1", 2, minutes(30), 15_500).await;

    let window = format!(
        "?date_from={}&date_to={}",
        t0.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        minutes(45).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let module = "x-unicharge-locationenergy";
    let (code, answer) = get(&dso, module, &window).await;
    assert_eq!(
        (code, answer["status_code"].as_i64()),
        (200, Some(1000)),
        "{answer}"
    );
    let reports = answer["data"].as_array().unwrap();
    // Numbers as the client reads them (exactly representable here: 3, 2.5, 0).
    let seen: Vec<(String, String, f64, i64)> = reports
        .iter()
        .map(|r| {
            (
                r["location_id"].as_str().unwrap().to_string(),
                r["period_start"].as_str().unwrap().to_string(),
                r["energy_kwh"].as_f64().unwrap(),
                r["meters_active"].as_i64().unwrap(),
            )
        })
        .collect();
    let quarter = |m: i64| minutes(m).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(
        seen,
        [
            ("LOC1".into(), quarter(0), 3.0, 1),
            ("LOC1".into(), quarter(15), 2.5, 1),
            ("LOC1".into(), quarter(30), 0.0, 0),
            ("LOC2".into(), quarter(0), 0.0, 0),
            ("LOC2".into(), quarter(15), 0.0, 0),
            ("LOC2".into(), quarter(30), 0.0, 0),
        ],
        "{answer}"
    );
    assert_eq!(reports[0]["period_end"], quarter(15).as_str());
    assert_eq!(reports[0]["source"], "COMBINED_METERS");
    assert_eq!(reports[0]["country_code"], "NL");
    assert_eq!(reports[0]["party_id"], "UNI");

    // Paged as every OCPI list: two at a time, the total and the next page's link.
    let url = format!("{}{window}&limit=2&offset=2", dso.endpoint(module));
    let (code, headers, page) = dso.call(Method::GET, &url, None).await;
    assert_eq!(code, 200, "{page}");
    assert_eq!(headers["x-total-count"], "6");
    assert_eq!(page["data"][0]["period_start"], quarter(30).as_str());
    assert!(
        headers["link"].to_str().unwrap().contains("offset=4"),
        "{headers:?}"
    );

    // A bad interval is the client's error (2001, as every invalid parameter), not an empty
    // answer.
    let (code, bad) = get(&dso, module, &format!("{window}&interval=7")).await;
    assert_eq!(
        (code, bad["status_code"].as_i64()),
        (200, Some(2001)),
        "{bad}"
    );
    assert!(bad["data"].is_null(), "{bad}");

    // An NSP reads locations, not their energy.
    let (nsp, _) = partner(&operator, "NSP", "NAV", "2.2.1").await;
    let (code, refused) = get(&nsp, module, &window).await;
    assert_eq!(
        (code, refused["status_code"].as_i64()),
        (403, Some(2000)),
        "{refused}"
    );
}
