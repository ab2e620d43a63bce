//! OCPI 2.2.1 / 2.3.0 as CPO, over real HTTP: an eMSP peer (tests/ocpi_common) registers with
//! unicharge and the other way round, reads locations built from stations, starts a session
//! with a command, and reads the session and CDR of a station played by the simulator over a
//! real WebSocket. Each test is named after the OCPI 3.0 business use case (seed 003) it
//! checks; the BUC each also touches is in its doc comment.
//!
//! Amounts: the tariff and the charging are those of `money_path.rs` (one hour, 12.345 kWh,
//! 45 min charging, 15 min idle, fee 0.50, VAT 19 %: 7.71 excl. VAT, 9.17 incl. VAT), so the
//! CDR must carry exactly those decimals.

#[path = "common/mod.rs"]
mod common;
#[path = "ocpi_common/mod.rs"]
mod ocpi_common;

use chrono::Utc;
use reqwest::Method;
use serde_json::json;
use unicharge_ocpp::v201::{
    AuthorizationStatusEnumType, AuthorizeRequest, ChargingStateEnumType, ConnectorStatusEnumType,
    EvseType, IdTokenEnumType, IdTokenType, ReadingContextEnumType, ReasonEnumType,
    RequestStartStopStatusEnumType, RequestStartTransactionRequest,
    RequestStartTransactionResponse, RequestStopTransactionRequest, RequestStopTransactionResponse,
    StatusNotificationRequest, TransactionEventEnumType, TriggerReasonEnumType,
};
use unicharge_sim::octt::states;
use unicharge_sim::Station;

use common::payloads::{energy, transaction_event as event};
use common::{StationSpec, TestCsms};
use ocpi_common::{Operator, Peer};

const CP1: &str = "CP-OCPI-1";
const CP2: &str = "CP-OCPI-2";
const CP3: &str = "CP-OCPI-3";

/// A CPO platform with two parties (NL*UNI, DE*ABC) and three stations: CP1 at NL*UNI/LOC1,
/// CP3 at NL*UNI/LOC3, CP2 at DE*ABC/LOC2.
async fn cpo(max_page: u64) -> (TestCsms, Operator) {
    let csms = TestCsms::start_with(
        &[
            StationSpec::new(CP1, 1),
            StationSpec::new(CP2, 1),
            StationSpec::new(CP3, 1),
        ],
        |s| {
            s.http.listen = Some("127.0.0.1:0".parse().unwrap());
            s.ocpi.max_page = max_page;
            // Pushes and CommandResults refused by a peer are retried at once (ADR 0038).
            s.ocpi.push_retry_initial = std::time::Duration::from_millis(20);
            s.ocpi.push_retry_max = std::time::Duration::from_millis(100);
            s.ocpi.parties = vec![
                party("NL", "UNI", "Unicharge NL"),
                party("DE", "ABC", "Abc Laden"),
            ];
        },
    )
    .await;
    let operator = Operator::new(
        csms.server.http_addr.unwrap(),
        csms.server.initial_admin_key.as_ref().unwrap(),
    );
    operator.location("NL*UNI", "LOC1", &[CP1]).await;
    operator.location("DE*ABC", "LOC2", &[CP2]).await;
    operator.location("NL*UNI", "LOC3", &[CP3]).await;
    (csms, operator)
}

fn party(cc: &str, pid: &str, name: &str) -> unicharge_ocpi_server::settings::PartySettings {
    unicharge_ocpi_server::settings::PartySettings {
        country_code: cc.into(),
        party_id: pid.into(),
        name: name.into(),
        website: None,
        role: unicharge_ocpi_server::settings::Role::Cpo,
    }
}

async fn status(station: &mut Station, evse: i64, status: ConnectorStatusEnumType) {
    station
        .call(&StatusNotificationRequest {
            custom_data: None,
            timestamp: Utc::now(),
            connector_status: status,
            evse_id: evse,
            connector_id: 1,
        })
        .await
        .unwrap();
}

/// B8.1 secure connection: the credentials handshake with tokens A / B / C in both directions,
/// token A dead after use, PUT rotating token C, DELETE ending access; 401 for a missing or
/// wrong token; X-Request-ID / X-Correlation-ID echoed. Also B8.3 (versions and modules
/// published in version details for 2.2.1 and 2.3.0).
#[tokio::test]
async fn b8_1_credentials_handshake_tokens_a_b_c_both_directions() {
    let (csms, operator) = cpo(100).await;
    let (token_a, versions_url, _) = operator.partner("Peer eMSP", &["NL*UNI"]).await;

    // No token, a wrong token: 401.
    let mut peer = Peer::start("NL", "EMA").await;
    let (code, _, _) = peer
        .call_with("", Method::GET, &versions_url, None, &[])
        .await;
    assert_eq!(code, 401);
    let (code, _, _) = peer
        .call_with("not-a-token", Method::GET, &versions_url, None, &[])
        .await;
    assert_eq!(code, 401);
    // Token A opens versions but no module.
    let (code, headers, body) = peer
        .call_with(&token_a, Method::GET, &versions_url, None, &[])
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(headers["x-request-id"], "req-1");
    assert_eq!(headers["x-correlation-id"], "corr-1");
    let versions: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["2.3.0", "2.2.1"]);
    let base = versions_url.trim_end_matches("/versions").to_string();
    let (code, _, _) = peer
        .call_with(
            &token_a,
            Method::GET,
            &format!("{base}/2.2.1/cpo/locations"),
            None,
            &[],
        )
        .await;
    assert_eq!(code, 401, "token A must not open modules");

    // The peer registers (2.3.0): we fetched its versions with its token B.
    let answer = peer.register(&versions_url, &token_a, "2.3.0").await;
    let token_c = peer.token.clone();
    assert_ne!(token_c, token_a);
    assert_eq!(answer["data"]["url"], versions_url);
    let roles = answer["data"]["roles"].as_array().unwrap();
    assert_eq!(
        roles.len(),
        1,
        "only the party it is registered with: {answer}"
    );
    assert_eq!(roles[0]["role"], "CPO");
    assert_eq!(roles[0]["country_code"], "NL");
    assert_eq!(roles[0]["party_id"], "UNI");
    assert_eq!(roles[0]["business_details"]["name"], "Unicharge NL");
    let modules: Vec<String> = peer
        .endpoints
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["identifier"].as_str().unwrap(),
                e["role"].as_str().unwrap()
            )
        })
        .collect();
    for m in [
        "credentials SENDER",
        "locations SENDER",
        "sessions SENDER",
        "cdrs SENDER",
        "tariffs SENDER",
        "commands RECEIVER",
        "tokens RECEIVER",
        "hubclientinfo RECEIVER",
    ] {
        assert!(
            modules.contains(&m.to_string()),
            "{m} missing in {modules:?}"
        );
    }
    // Token A is spent; C works; a second POST is 405.
    let credentials = peer.endpoint("credentials");
    let (code, _, _) = peer
        .call_with(&token_a, Method::GET, &credentials, None, &[])
        .await;
    assert_eq!(code, 401);
    let (code, _, got) = peer.call(Method::GET, &credentials, None).await;
    assert_eq!(code, 200);
    assert_eq!(got["data"]["token"], token_c.as_str());
    let (code, _, _) = peer
        .call(
            Method::POST,
            &credentials,
            Some(json!({"token": "x", "url": "y", "roles": []})),
        )
        .await;
    assert_eq!(code, 405);

    // PUT: new token C, the old one stops working.
    let (code, _, updated) = peer
        .call(
            Method::PUT,
            &credentials,
            Some(json!({
                "token": peer.token_b, "url": format!("{}/versions", peer.base),
                "roles": [{"role": "EMSP", "country_code": "NL", "party_id": "EMA",
                           "business_details": {"name": "Peer eMSP renamed"}}],
            })),
        )
        .await;
    assert_eq!(code, 200, "{updated}");
    let new_c = updated["data"]["token"].as_str().unwrap().to_string();
    assert_ne!(new_c, token_c);
    let (code, _, _) = peer.call(Method::GET, &credentials, None).await;
    assert_eq!(code, 401, "the old token C is replaced");
    peer.token = new_c;
    let partners = operator.send(Method::GET, "/ocpi/partners", None).await;
    assert_eq!(partners[0]["status"], "REGISTERED");
    assert_eq!(partners[0]["version"], "2.3.0");
    assert_eq!(partners[0]["roles"][0], "NL*EMA EMSP");
    assert!(
        !partners.to_string().contains(&peer.token),
        "listings never show tokens"
    );

    // DELETE: unregistered, the token is dead, a second DELETE is 401 (no such token).
    let (code, _, _) = peer.call(Method::DELETE, &credentials, None).await;
    assert_eq!(code, 200);
    let (code, _, _) = peer.call(Method::GET, &credentials, None).await;
    assert_eq!(code, 401);

    // The other direction: we register with a peer platform that gave the operator token A.
    let other = Peer::start("DE", "EMB").await;
    other.issue_token_a("peer-issued-token-a-0123456789");
    let (_, _, id) = operator.partner("Other eMSP", &["DE*ABC"]).await;
    let registered = operator
        .send(
            Method::POST,
            &format!("/ocpi/partners/{id}/register"),
            Some(json!({"versionsUrl": format!("{}/versions", other.base),
                        "token": "peer-issued-token-a-0123456789"})),
        )
        .await;
    assert_eq!(registered["status"], "REGISTERED", "{registered}");
    assert_eq!(
        registered["version"], "2.3.0",
        "the highest version both speak"
    );
    assert_eq!(registered["roles"][0], "DE*EMB EMSP");
    // Our credentials carried our token B; the peer can call us with it.
    let posted = other
        .posted_credentials()
        .expect("we POSTed our credentials");
    let token_b = posted["token"].as_str().unwrap();
    assert_eq!(posted["roles"][0]["party_id"], "ABC");
    let (code, _, body) = other
        .call_with(token_b, Method::GET, &versions_url, None, &[])
        .await;
    assert_eq!(code, 200, "{body}");
    drop(csms);
}

/// B1.1 up-to-date location information: locations built from stations and operator data,
/// EVSE status following the station's StatusNotification, pagination (Link, X-Total-Count,
/// X-Limit) and date filters; and party isolation: a partner registered with NL*UNI walking
/// ids of DE*ABC's location gets 404 / 2003, and OCPI-to a party it is not registered with
/// gets 4001.
#[tokio::test]
async fn b1_1_locations_from_stations_paginated_and_isolated_per_party() {
    let (csms, operator) = cpo(1).await;
    let (token_a, versions_url, _) = operator.partner("Peer eMSP", &["NL*UNI"]).await;
    let mut peer = Peer::start("NL", "EMA").await;
    peer.register(&versions_url, &token_a, "2.2.1").await;
    let locations = peer.endpoint("locations");

    let target = csms.target(CP1, 1);
    let mut station: Station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    status(&mut station, 1, ConnectorStatusEnumType::Available).await;

    // Page 1 of 2 (X-Limit 1): LOC1 and LOC3 are NL*UNI's, LOC2 is not listed.
    let (code, headers, page1) = peer.call(Method::GET, &locations, None).await;
    assert_eq!(code, 200, "{page1}");
    assert_eq!(headers["x-total-count"], "2");
    assert_eq!(headers["x-limit"], "1");
    let link = headers["link"].to_str().unwrap().to_string();
    assert!(
        link.contains("offset=1") && link.ends_with("rel=\"next\""),
        "{link}"
    );
    let next = link
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_string();
    let (_, headers2, page2) = peer.call(Method::GET, &next, None).await;
    assert!(headers2.get("link").is_none(), "last page has no Link");
    let ids: Vec<&str> = [&page1, &page2]
        .iter()
        .map(|p| p["data"][0]["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"LOC1") && ids.contains(&"LOC3"), "{ids:?}");

    // LOC1 with CP1's EVSE, AVAILABLE; then CHARGING after the station says Occupied.
    let (code, _, loc1) = peer
        .call(Method::GET, &format!("{locations}/LOC1"), None)
        .await;
    assert_eq!(code, 200, "{loc1}");
    let l = &loc1["data"];
    assert_eq!(l["country_code"], "NL");
    assert_eq!(l["party_id"], "UNI");
    assert_eq!(l["coordinates"]["latitude"], "52.089444");
    assert_eq!(l["time_zone"], "Europe/Amsterdam");
    assert_eq!(l["opening_times"]["twentyfourseven"], true);
    assert_eq!(l["evses"][0]["uid"], format!("{CP1}*1"));
    assert_eq!(l["evses"][0]["status"], "AVAILABLE");
    assert_eq!(l["evses"][0]["connectors"][0]["standard"], "IEC_62196_T2");
    let before = l["last_updated"].as_str().unwrap().to_string();
    status(&mut station, 1, ConnectorStatusEnumType::Occupied).await;
    let (_, _, evse) = peer
        .call(Method::GET, &format!("{locations}/LOC1/{CP1}*1"), None)
        .await;
    assert_eq!(evse["data"]["status"], "CHARGING", "{evse}");
    let (_, _, connector) = peer
        .call(Method::GET, &format!("{locations}/LOC1/{CP1}*1/1"), None)
        .await;
    assert_eq!(connector["data"]["id"], "1");
    // date_from after the change: only LOC1 changed since `before`.
    let (_, headers, changed) = peer
        .call(
            Method::GET,
            &format!("{locations}?date_from={}", before.replace('+', "%2B")),
            None,
        )
        .await;
    assert_eq!(headers["x-total-count"], "1", "{changed}");
    assert_eq!(changed["data"][0]["id"], "LOC1");
    let (_, _, none) = peer
        .call(
            Method::GET,
            &format!("{locations}?date_to=2000-01-01T00:00:00Z"),
            None,
        )
        .await;
    assert_eq!(none["data"], json!([]));
    let (code, _, bad) = peer
        .call(Method::GET, &format!("{locations}?limit=x"), None)
        .await;
    assert_eq!((code, bad["status_code"].as_i64()), (200, Some(2001)));

    // Isolation: DE*ABC's LOC2 does not exist for this partner.
    for path in [
        "LOC2",
        &format!("LOC2/{CP2}*1"),
        &format!("LOC2/{CP2}*1/1"),
        "NOPE",
    ] {
        let (code, _, body) = peer
            .call(Method::GET, &format!("{locations}/{path}"), None)
            .await;
        assert_eq!(code, 404, "{path}: {body}");
        assert_eq!(body["status_code"], 2003, "{path}: {body}");
    }
    let (_, _, routed) = peer
        .call_with(
            &peer.token,
            Method::GET,
            &locations,
            None,
            &[("OCPI-to-country-code", "DE"), ("OCPI-to-party-id", "ABC")],
        )
        .await;
    assert_eq!(routed["status_code"], 4001, "{routed}");
    // A partner of DE*ABC sees LOC2 only.
    let (token_b, _, _) = operator.partner("Other eMSP", &["DE*ABC"]).await;
    let mut other = Peer::start("DE", "EMB").await;
    other.register(&versions_url, &token_b, "2.2.1").await;
    let (_, headers, listed) = other.call(Method::GET, &locations, None).await;
    assert_eq!(headers["x-total-count"], "1");
    assert_eq!(listed["data"][0]["id"], "LOC2");
    let (code, _, _) = other
        .call(Method::GET, &format!("{locations}/LOC1"), None)
        .await;
    assert_eq!(code, 404);
    station.close().await;
}

/// B3.1 local authorization: tokens the eMSP pushes (Tokens receiver) authorize an OCPP
/// station's Authorize; PATCH valid=false blocks it; a partner cannot write another party's
/// tokens.
#[tokio::test]
async fn b3_1_pushed_tokens_authorize_at_ocpp_stations() {
    let (csms, operator) = cpo(100).await;
    let (token_a, versions_url, _) = operator.partner("Peer eMSP", &["NL*UNI"]).await;
    let mut peer = Peer::start("NL", "EMA").await;
    peer.register(&versions_url, &token_a, "2.2.1").await;
    let tokens = peer.endpoint("tokens");
    let token = json!({
        "country_code": "NL", "party_id": "EMA", "uid": "04A1B2C3D4", "type": "RFID",
        "contract_id": "NL-EMA-C12345678-X", "issuer": "Peer eMSP", "valid": true,
        "whitelist": "ALWAYS", "last_updated": "2026-12-06T10:00:00Z",
    });
    let (code, _, put) = peer
        .call(
            Method::PUT,
            &format!("{tokens}/NL/EMA/04A1B2C3D4?type=RFID"),
            Some(token.clone()),
        )
        .await;
    assert_eq!(
        (code, put["status_code"].as_i64()),
        (200, Some(1000)),
        "{put}"
    );
    let (_, _, got) = peer
        .call(
            Method::GET,
            &format!("{tokens}/NL/EMA/04A1B2C3D4?type=RFID"),
            None,
        )
        .await;
    assert_eq!(got["data"]["contract_id"], "NL-EMA-C12345678-X");
    // Another party's token: refused, nothing stored.
    let mut foreign = token.clone();
    foreign["party_id"] = json!("XYZ");
    let (code, _, _) = peer
        .call(
            Method::PUT,
            &format!("{tokens}/NL/XYZ/04A1B2C3D4?type=RFID"),
            Some(foreign),
        )
        .await;
    assert_eq!(code, 404);
    // URL and body disagree: 2001.
    let (_, _, mismatch) = peer
        .call(
            Method::PUT,
            &format!("{tokens}/NL/EMA/OTHER?type=RFID"),
            Some(token.clone()),
        )
        .await;
    assert_eq!(mismatch["status_code"], 2001);

    let target = csms.target(CP1, 1);
    let mut station: Station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    let authorize = AuthorizeRequest {
        custom_data: None,
        id_token: IdTokenType {
            custom_data: None,
            additional_info: None,
            id_token: "04A1B2C3D4".into(),
            r#type: IdTokenEnumType::Iso14443,
        },
        certificate: None,
        iso15118_certificate_hash_data: None,
    };
    let answer = station.call(&authorize).await.unwrap();
    assert_eq!(
        answer.id_token_info.status,
        AuthorizationStatusEnumType::Accepted
    );
    let (code, _, patched) = peer
        .call(
            Method::PATCH,
            &format!("{tokens}/NL/EMA/04A1B2C3D4?type=RFID"),
            Some(json!({"valid": false, "last_updated": "2026-12-06T11:00:00Z"})),
        )
        .await;
    assert_eq!(code, 200, "{patched}");
    let answer = station.call(&authorize).await.unwrap();
    assert_eq!(
        answer.id_token_info.status,
        AuthorizationStatusEnumType::Blocked
    );
    let (_, _, no_date) = peer
        .call(
            Method::PATCH,
            &format!("{tokens}/NL/EMA/04A1B2C3D4?type=RFID"),
            Some(json!({"valid": true})),
        )
        .await;
    assert_eq!(no_date["status_code"], 2001, "PATCH without last_updated");
    station.close().await;
}

/// B6.1 charging with the MSP's app: START_SESSION → the CSMS's remote start → the station
/// accepts → CommandResult ACCEPTED at response_url (sent with the token the eMSP gave us).
/// Then B4.1 (the session while charging, kWh so far), STOP_SESSION → RequestStopTransaction,
/// and B5.1 / B5.2 (the CDR with the tariff's exact amounts, in 2.2.1 and 2.3.0 spelling).
/// Isolation: another partner walking the session and CDR ids gets 404, and its STOP_SESSION
/// gets UNKNOWN_SESSION.
#[tokio::test]
async fn b6_1_start_session_command_to_cdr_with_exact_amounts() {
    let (csms, operator) = cpo(100).await;
    // The tariff of money_path.rs, for the station.
    operator
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
    operator
        .send(
            Method::POST,
            "/tariff-assignments",
            Some(json!({"tariffId": "ROAMING", "scope": {"scope": "station", "stationId": CP1}})),
        )
        .await;
    let (token_a, versions_url, _) = operator.partner("Peer eMSP", &["NL*UNI"]).await;
    let mut peer = Peer::start("NL", "EMA").await;
    peer.register(&versions_url, &token_a, "2.2.1").await;
    let commands = peer.endpoint("commands");

    let target = csms.target(CP1, 1);
    let mut station: Station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    status(&mut station, 1, ConnectorStatusEnumType::Available).await;

    // START_SESSION.
    let (code, _, response) = peer
        .call(
            Method::POST,
            &format!("{commands}/START_SESSION"),
            Some(json!({
                "response_url": peer.response_url("start-1"),
                "token": {
                    "country_code": "NL", "party_id": "EMA", "uid": "APP-USER-7", "type": "APP_USER",
                    "contract_id": "NL-EMA-C00000007-A", "issuer": "Peer eMSP", "valid": true,
                    "whitelist": "ALLOWED", "last_updated": "2026-12-06T10:00:00Z",
                },
                "location_id": "LOC1", "evse_uid": format!("{CP1}*1"),
            })),
        )
        .await;
    assert_eq!(code, 200, "{response}");
    assert_eq!(response["data"]["result"], "ACCEPTED", "{response}");
    let (call_id, request) = station
        .expect_call::<RequestStartTransactionRequest>()
        .await
        .unwrap();
    assert_eq!(request.id_token.id_token, "APP-USER-7");
    assert_eq!(request.id_token.r#type, IdTokenEnumType::Central);
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
    let result = peer.next_result().await;
    assert_eq!(result.path, "start-1");
    assert_eq!(result.body["result"], "ACCEPTED");
    assert_eq!(
        result.authorization.as_deref(),
        Some(format!("Token {}", base64_of(&peer.token_b)).as_str()),
        "the CommandResult is sent with the token the eMSP gave us"
    );

    // The station charges: 10 000 → 20 000 Wh in 30 min, then 22 345 Wh, idle 15 min.
    const TX: &str = "TX-OCPI-1";
    let t0 = Utc::now() - chrono::Duration::hours(2);
    let minutes = |m: i64| t0 + chrono::Duration::minutes(m);
    let mut first = event(
        TX,
        0,
        TransactionEventEnumType::Started,
        TriggerReasonEnumType::RemoteStart,
        t0,
        ChargingStateEnumType::EvConnected,
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
        AuthorizationStatusEnumType::Accepted,
        "the eMSP's token is accepted"
    );
    status(&mut station, 1, ConnectorStatusEnumType::Occupied).await;
    station
        .call(&event(
            TX,
            1,
            TransactionEventEnumType::Updated,
            TriggerReasonEnumType::ChargingStateChanged,
            t0,
            ChargingStateEnumType::Charging,
        ))
        .await
        .unwrap();
    let mut periodic = event(
        TX,
        2,
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

    // B4.1: the running session.
    let sessions = peer.endpoint("sessions");
    let (code, _, missing_from) = peer.call(Method::GET, &sessions, None).await;
    assert_eq!(
        (code, missing_from["status_code"].as_i64()),
        (200, Some(2001)),
        "date_from is required"
    );
    let since = format!("{sessions}?date_from=2020-01-01T00:00:00Z");
    let (_, headers, running) = peer.call(Method::GET, &since, None).await;
    assert_eq!(headers["x-total-count"], "1", "{running}");
    let s = &running["data"][0];
    assert_eq!(s["status"], "ACTIVE");
    assert_eq!(s["kwh"].to_string(), "10", "{s}");
    assert_eq!(s["location_id"], "LOC1");
    assert_eq!(s["evse_uid"], format!("{CP1}*1"));
    assert_eq!(s["auth_method"], "COMMAND");
    assert_eq!(s["cdr_token"]["uid"], "APP-USER-7");
    assert_eq!(s["cdr_token"]["contract_id"], "NL-EMA-C00000007-A");
    let session_id = s["id"].as_str().unwrap().to_string();
    let locations = peer.endpoint("locations");
    let (_, _, evse) = peer
        .call(Method::GET, &format!("{locations}/LOC1/{CP1}*1"), None)
        .await;
    assert_eq!(evse["data"]["status"], "CHARGING");

    // Isolation: a partner of DE*ABC does not see the session.
    let (token_b, _, _) = operator.partner("Other eMSP", &["DE*ABC"]).await;
    let mut other = Peer::start("DE", "EMB").await;
    other.register(&versions_url, &token_b, "2.2.1").await;
    let (_, _, theirs) = other.call(Method::GET, &since, None).await;
    assert_eq!(theirs["data"], json!([]));
    let (code, _, _) = other
        .call(Method::GET, &format!("{sessions}/{session_id}"), None)
        .await;
    assert_eq!(code, 404);
    let (_, _, stop) = other
        .call(
            Method::POST,
            &format!("{commands}/STOP_SESSION"),
            Some(json!({"response_url": other.response_url("x"), "session_id": session_id})),
        )
        .await;
    assert_eq!(stop["data"]["result"], "UNKNOWN_SESSION");

    // STOP_SESSION by the owner → RequestStopTransaction. The eMSP refuses the first
    // CommandResult (HTTP 500): it is sent again from the outbox.
    peer.fail_next_results(1);
    let (_, _, stop) = peer
        .call(
            Method::POST,
            &format!("{commands}/STOP_SESSION"),
            Some(json!({"response_url": peer.response_url("stop-1"), "session_id": session_id})),
        )
        .await;
    assert_eq!(stop["data"]["result"], "ACCEPTED", "{stop}");
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
    let result = peer.next_result().await;
    assert_eq!(
        (result.path.as_str(), &result.body["result"]),
        ("stop-1", &json!("ACCEPTED"))
    );
    assert_eq!(peer.refused_results(), 1, "delivered on the retry");

    let mut suspended = event(
        TX,
        3,
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
        4,
        TransactionEventEnumType::Ended,
        TriggerReasonEnumType::RemoteStop,
        minutes(60),
        ChargingStateEnumType::EvConnected,
    );
    ended.transaction_info.stopped_reason = Some(ReasonEnumType::Remote);
    ended.meter_value = Some(energy(
        minutes(60),
        22_345,
        ReadingContextEnumType::TransactionEnd,
    ));
    let last = station.call(&ended).await.unwrap();
    assert_eq!(last.total_cost, Some("9.17".parse().unwrap()));

    // B4.1 / B5.1: the completed session with its cost.
    let (_, _, done) = peer
        .call(Method::GET, &format!("{sessions}/{session_id}"), None)
        .await;
    let s = &done["data"];
    assert_eq!(s["status"], "COMPLETED", "{done}");
    assert_eq!(s["kwh"].to_string(), "12.345");
    assert_eq!(s["total_cost"]["excl_vat"].to_string(), "7.71");
    assert_eq!(s["total_cost"]["incl_vat"].to_string(), "9.17");

    // B5.2: the CDR, exact amounts as JSON numbers.
    let cdrs = peer.endpoint("cdrs");
    let (_, headers, listed) = peer.call(Method::GET, &cdrs, None).await;
    assert_eq!(headers["x-total-count"], "1", "{listed}");
    // Exact decimals as written on the wire (a JSON parser here would read 0.90 as 0.9).
    let raw = peer.raw();
    for text in [
        r#""total_cost":{"excl_vat":7.71,"incl_vat":9.17}"#,
        r#""total_energy":12.345"#,
        r#""total_energy_cost":{"excl_vat":4.81}"#,
        r#""total_time_cost":{"excl_vat":0.90}"#,
        r#""total_parking_cost":{"excl_vat":1.50}"#,
        r#""total_fixed_cost":{"excl_vat":0.50}"#,
    ] {
        assert!(raw.contains(text), "{text} not in {raw}");
    }
    let cdr = &listed["data"][0];
    assert_eq!(cdr["session_id"], session_id.as_str());
    assert_eq!(cdr["currency"], "EUR");
    assert_eq!(cdr["total_cost"]["excl_vat"].to_string(), "7.71");
    assert_eq!(cdr["total_cost"]["incl_vat"].to_string(), "9.17");
    assert_eq!(cdr["total_energy"].to_string(), "12.345");
    assert_eq!(cdr["total_energy_cost"]["excl_vat"].to_string(), "4.81");
    assert_eq!(cdr["total_time"].to_string(), "1");
    assert_eq!(cdr["total_parking_time"].to_string(), "0.25");
    assert_eq!(cdr["cdr_location"]["id"], "LOC1");
    assert_eq!(cdr["cdr_location"]["evse_uid"], format!("{CP1}*1"));
    assert_eq!(cdr["cdr_location"]["connector_standard"], "IEC_62196_T2");
    assert_eq!(cdr["cdr_token"]["uid"], "APP-USER-7");
    assert_eq!(cdr["auth_method"], "COMMAND");
    let dims: Vec<String> = cdr["charging_periods"][0]["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{} {}", d["type"].as_str().unwrap(), d["volume"]))
        .collect();
    assert_eq!(dims, ["ENERGY 12.345", "TIME 0.75", "PARKING_TIME 0.25"]);
    // The same CDR in 2.3.0 spelling: before / after taxes.
    let cdrs_230 = cdrs.replace("/2.2.1/", "/2.3.0/");
    let (_, _, listed) = peer.call(Method::GET, &cdrs_230, None).await;
    let total = &listed["data"][0]["total_cost"];
    assert_eq!(total["before_taxes"].to_string(), "7.71", "{total}");
    assert_eq!(total["taxes"][0]["amount"].to_string(), "1.46", "{total}");
    // Isolation: the other partner cannot fetch it.
    let cdr_id = cdr["id"].as_str().unwrap();
    let (code, _, _) = other
        .call(Method::GET, &format!("{cdrs}/{cdr_id}"), None)
        .await;
    assert_eq!(code, 404);
    let (_, _, theirs) = other.call(Method::GET, &cdrs, None).await;
    assert_eq!(theirs["data"], json!([]));
    let (code, _, mine) = peer
        .call(Method::GET, &format!("{cdrs}/{cdr_id}"), None)
        .await;
    assert_eq!(code, 200);
    assert_eq!(mine["data"]["id"], cdr_id);
    station.close().await;
}

fn base64_of(token: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(token)
}

/// B8.4 kept updated of connections to a Hub: a hub partner (HUB role in its credentials) PUTs
/// ClientInfo for the parties connected to it at our HubClientInfo Receiver (published in
/// version details); we answer GET with what it said and show it to the operator. A URL / body
/// mismatch gets 2001; a partner without a HUB role is refused (404).
#[tokio::test]
async fn b8_4_hub_client_info_received_from_the_hub_only() {
    let (_csms, operator) = cpo(100).await;
    let (token_a, versions_url, hub_id) = operator.partner("Roaming hub", &["NL*UNI"]).await;
    let mut hub = Peer::start("DE", "HUB").await.with_role("HUB");
    hub.register(&versions_url, &token_a, "2.2.1").await;
    let receiver = hub.endpoint("hubclientinfo");
    let info = |status: &str| {
        json!({
            "country_code": "NL", "party_id": "EMB", "role": "EMSP", "status": status,
            "last_updated": "2026-12-06T12:00:00Z",
        })
    };
    let (code, _, put) = hub
        .call(
            Method::PUT,
            &format!("{receiver}/NL/EMB"),
            Some(info("CONNECTED")),
        )
        .await;
    assert_eq!(
        (code, put["status_code"].as_i64()),
        (200, Some(1000)),
        "{put}"
    );
    let (_, _, got) = hub
        .call(Method::GET, &format!("{receiver}/NL/EMB"), None)
        .await;
    assert_eq!(got["data"]["status"], "CONNECTED", "{got}");
    assert_eq!(got["data"]["role"], "EMSP");
    // The party goes offline at the hub.
    hub.call(
        Method::PUT,
        &format!("{receiver}/NL/EMB"),
        Some(info("OFFLINE")),
    )
    .await;
    let (_, _, got) = hub
        .call(Method::GET, &format!("{receiver}/NL/EMB"), None)
        .await;
    assert_eq!(got["data"]["status"], "OFFLINE");
    let clients = operator
        .send(
            Method::GET,
            &format!("/ocpi/partners/{hub_id}/clients"),
            None,
        )
        .await;
    assert_eq!(
        clients,
        json!([{"party": "NL*EMB", "role": "EMSP", "status": "OFFLINE",
                "lastUpdated": "2026-12-06T12:00:00Z"}])
    );
    // URL and body disagree: 2001, nothing stored.
    let (_, _, mismatch) = hub
        .call(
            Method::PUT,
            &format!("{receiver}/NL/XYZ"),
            Some(info("CONNECTED")),
        )
        .await;
    assert_eq!(mismatch["status_code"], 2001);
    let (code, _, _) = hub
        .call(Method::GET, &format!("{receiver}/NL/XYZ"), None)
        .await;
    assert_eq!(code, 404);

    // An eMSP is not a hub.
    let (token_a, _, _) = operator.partner("Peer eMSP", &["NL*UNI"]).await;
    let mut emsp = Peer::start("NL", "EMA").await;
    emsp.register(&versions_url, &token_a, "2.2.1").await;
    let (code, _, refused) = emsp
        .call(
            Method::PUT,
            &format!("{receiver}/NL/EMB"),
            Some(info("SUSPENDED")),
        )
        .await;
    assert_eq!(code, 404, "{refused}");
    let (_, _, got) = hub
        .call(Method::GET, &format!("{receiver}/NL/EMB"), None)
        .await;
    assert_eq!(got["data"]["status"], "OFFLINE", "unchanged by the eMSP");
}

/// The operator's CLI writes its OCPI request bodies from the API's own request types: a
/// partner created by `unicharge ocpi partner-add` registers and sees the parties given, a
/// location from a JSON file reaches the partner with its data, a misspelt field in that file is
/// named by the CLI before anything is sent, and `unicharge ocpi register` registers with a
/// platform that issued a token A.
#[tokio::test]
async fn the_cli_creates_partners_locations_and_registrations_the_api_accepts() {
    let (csms, operator) = cpo(10).await;
    let (api_url, key) = (operator.base.trim_end_matches("/api/v1"), &operator.key);

    // partner-add: the answer carries token A and our versions URL; the partner sees NL*UNI only.
    let (ok, out, err) = common::cli(
        api_url,
        key,
        &["ocpi", "partner-add", "CLI eMSP", "--party", "NL*UNI"],
    )
    .await;
    assert!(ok, "{out}{err}");
    let created: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut peer = Peer::start("NL", "CLI").await;
    peer.register(
        created["versionsUrl"].as_str().unwrap(),
        created["tokenA"].as_str().unwrap(),
        "2.2.1",
    )
    .await;
    let locations = peer.endpoint("locations");
    let (code, _, _) = peer
        .call(Method::GET, &format!("{locations}/LOC2"), None)
        .await;
    assert_eq!(code, 404, "LOC2 is DE*ABC's: the CLI's --party was applied");

    // location: the file's data, with the station given, is what the partner reads.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("loc9.json");
    std::fs::write(
        &file,
        json!({
            "name": "CLI Site", "address": "Oudegracht 9", "city": "Utrecht",
            "postal_code": "3511 AB", "country": "NLD",
            "coordinates": {"latitude": "52.090000", "longitude": "5.120000"},
            "time_zone": "Europe/Amsterdam", "parking_type": "ON_STREET",
        })
        .to_string(),
    )
    .unwrap();
    let (ok, out, err) = common::cli(
        api_url,
        key,
        &[
            "ocpi",
            "location",
            "NL*UNI",
            "LOC9",
            "--file",
            file.to_str().unwrap(),
        ],
    )
    .await;
    assert!(ok, "{out}{err}");
    let (code, _, loc9) = peer
        .call(Method::GET, &format!("{locations}/LOC9"), None)
        .await;
    assert_eq!(code, 200, "{loc9}");
    assert_eq!(loc9["data"]["name"], "CLI Site");
    assert_eq!(loc9["data"]["address"], "Oudegracht 9");
    assert_eq!(loc9["data"]["coordinates"]["longitude"], "5.120000");

    // A misspelt field: the CLI names it and sends nothing.
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"name": "Typo", "adress": "Oudegracht 10", "city": "Utrecht", "country": "NLD",
            "coordinates": {"latitude": "52.0", "longitude": "5.1"}}"#,
    )
    .unwrap();
    let (ok, out, err) = common::cli(
        api_url,
        key,
        &[
            "ocpi",
            "location",
            "NL*UNI",
            "LOC10",
            "--file",
            bad.to_str().unwrap(),
        ],
    )
    .await;
    assert!(!ok, "{out}");
    assert!(err.contains("adress"), "the CLI names the field: {err}");
    let (code, _, _) = peer
        .call(Method::GET, &format!("{locations}/LOC10"), None)
        .await;
    assert_eq!(code, 404, "nothing was sent");

    // register: with a platform whose operator gave ours a token A.
    let other = Peer::start("DE", "EMD").await;
    other.issue_token_a("cli-issued-token-a-0123456789");
    let (_, _, id) = operator.partner("Other by CLI", &["DE*ABC"]).await;
    let (ok, out, err) = common::cli(
        api_url,
        key,
        &[
            "ocpi",
            "register",
            &id.to_string(),
            "--versions-url",
            &format!("{}/versions", other.base),
            "--token",
            "cli-issued-token-a-0123456789",
        ],
    )
    .await;
    assert!(ok, "{out}{err}");
    let registered: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(registered["status"], "REGISTERED", "{registered}");
    assert_eq!(registered["roles"][0], "DE*EMD EMSP");
    drop(csms);
}
