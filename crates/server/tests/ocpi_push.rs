//! OCPI Sender pushes (CPO → eMSP, ADR 0038) over real HTTP: a station played by the
//! simulator over a real WebSocket changes status and charges; the eMSP peer
//! (tests/ocpi_common, an axum server on a loopback port) publishes Receiver endpoints for
//! locations, sessions, CDRs and tariffs and records what arrives there. Retries run on
//! millisecond backoff (`ocpi.push_retry_*`), so nothing here sleeps.
//!
//! Amounts are those of `ocpi_cpo.rs` / `money_path.rs`: one hour, 12.345 kWh, 45 min
//! charging, 15 min idle, fee 0.50, VAT 19 % → 7.71 excl. VAT, 9.17 incl. VAT.

#[path = "common/mod.rs"]
mod common;
#[path = "ocpi_common/mod.rs"]
mod ocpi_common;

use std::time::Duration;

use chrono::Utc;
use reqwest::Method;
use serde_json::json;
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

const CP1: &str = "CP-PUSH-1";

/// A CPO with party NL*UNI, station CP1 at location LOC1, pushes retried after 20–100 ms.
async fn cpo() -> (TestCsms, Operator) {
    let csms = TestCsms::start_with(&[StationSpec::new(CP1, 1)], |s| {
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
    (csms, operator)
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

fn base64_of(token: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(token)
}

/// The partner's outbox once `ready` holds for it (within 10 s): the eMSP sees a push a moment
/// before the worker records the answer, so the API is read again until it has. No sleep: each
/// read is an HTTP round trip.
async fn outbox_when(
    operator: &Operator,
    partner_id: i64,
    ready: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let outbox = operator
            .send(
                Method::GET,
                &format!("/ocpi/partners/{partner_id}/outbox"),
                None,
            )
            .await;
        if ready(&outbox) || std::time::Instant::now() > deadline {
            return outbox;
        }
        tokio::task::yield_now().await;
    }
}

/// The outbox's pushes of one module, newest first.
fn pushes_of<'a>(outbox: &'a serde_json::Value, module: &str) -> Vec<&'a serde_json::Value> {
    outbox["pushes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["module"] == module)
        .collect()
}

fn evse_path() -> String {
    format!("/NL/UNI/LOC1/{CP1}*1")
}

fn is_evse(p: &Pushed) -> bool {
    p.module == "locations" && p.path == evse_path()
}

/// B1.1 up-to-date location information, pushed: a location the operator changes is PUT to
/// the eMSP's Locations Receiver; a StatusNotification becomes a PATCH of the
/// EVSE at the eMSP's Locations Receiver (AVAILABLE, then CHARGING for Occupied), with the
/// token the eMSP gave us, X-Request-ID / X-Correlation-ID and OCPI-from / to. The eMSP answers
/// the first PATCH with HTTP 500: it gets the same PATCH again (same correlation id, new request
/// id) before the CHARGING one — one EVSE's updates arrive in order. The outbox in the API
/// shows the retried push delivered after two attempts.
#[tokio::test]
async fn b1_1_evse_status_pushed_in_order_and_retried_after_500() {
    let (csms, operator) = cpo().await;
    let (token_a, versions_url, partner_id) = operator.partner("Peer eMSP", &["NL*UNI"]).await;
    let mut peer = Peer::start("NL", "EMA").await;
    peer.register(&versions_url, &token_a, "2.2.1").await;
    // Registered, the eMSP gets the CPO's full view: LOC1 as it is.
    let (_, full) = peer.next_push(|p| p.module == "locations").await;
    assert_eq!(
        (full.method.as_str(), full.path.as_str()),
        ("PUT", "/NL/UNI/LOC1")
    );
    // The operator changes the location: the whole Location is PUT to the eMSP.
    operator.location("NL*UNI", "LOC1", &[CP1]).await;
    let (_, location) = peer.next_push(|p| p.module == "locations").await;
    assert_eq!(location.method, "PUT");
    assert_eq!(location.path, "/NL/UNI/LOC1");
    assert!(location.accepted);
    assert_eq!(location.body["id"], "LOC1");
    assert_eq!(location.body["name"], "Site LOC1");
    assert_eq!(location.body["address"], "Stationsplein 1");
    assert_eq!(location.body["coordinates"]["latitude"], "52.089444");
    peer.fail_next_pushes(1);

    let target = csms.target(CP1, 1);
    let mut station: Station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    status(&mut station, ConnectorStatusEnumType::Available).await;
    let (_, refused) = peer.next_push(is_evse).await;
    assert!(!refused.accepted);
    assert_eq!(refused.method, "PATCH");
    assert_eq!(refused.body["status"], "AVAILABLE", "{:?}", refused.body);
    let (_, again) = peer.next_push(is_evse).await;
    assert!(again.accepted, "the retry is accepted");
    assert_eq!(again.body, refused.body, "the retry sends the same PATCH");
    assert_eq!(
        again.header("x-correlation-id"),
        refused.header("x-correlation-id")
    );
    assert_ne!(again.header("x-request-id"), refused.header("x-request-id"));
    assert!(again.header("x-request-id").is_some());
    assert_eq!(
        again.header("authorization"),
        Some(format!("Token {}", base64_of(&peer.token_b)).as_str()),
        "pushed with the token the eMSP gave us (Base64 in 2.2.1)"
    );
    assert_eq!(again.header("ocpi-from-country-code"), Some("NL"));
    assert_eq!(again.header("ocpi-from-party-id"), Some("UNI"));
    assert_eq!(again.header("ocpi-to-country-code"), Some("NL"));
    assert_eq!(again.header("ocpi-to-party-id"), Some("EMA"));
    assert!(
        again.body["last_updated"].is_string(),
        "PATCH carries last_updated"
    );

    status(&mut station, ConnectorStatusEnumType::Occupied).await;
    let (before, charging) = peer
        .next_push(|p| is_evse(p) && p.body["status"] == "CHARGING")
        .await;
    assert!(charging.accepted);
    for p in before.iter().filter(|p| is_evse(p)) {
        assert_eq!(
            p.body["status"], "AVAILABLE",
            "no update overtakes an older one"
        );
    }

    let outbox = operator
        .send(
            Method::GET,
            &format!("/ocpi/partners/{partner_id}/outbox"),
            None,
        )
        .await;
    assert_eq!(outbox["partnerId"], partner_id);
    // The worker records a delivery before it sends the next push, so the refused-then-retried
    // row (the oldest) is recorded by the time CHARGING arrived.
    assert!(outbox["delivered"].as_i64().unwrap() >= 1, "{outbox}");
    let first = outbox["pushes"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|p| p["module"] == "locations" && p["method"] == "PATCH")
        .unwrap()
        .clone();
    assert_eq!(first["status"], "DELIVERED", "{outbox}");
    assert_eq!(first["attempts"], 2, "{outbox}");
    assert_eq!(first["method"], "PATCH");
    assert!(
        first["lastError"]
            .as_str()
            .unwrap_or_default()
            .contains("500"),
        "{first}"
    );
    station.close().await;
}

/// B5.2 all CDRs for invoicing, pushed: a transaction with the eMSP's token becomes Session
/// PUTs at its Sessions Receiver (ACTIVE, then COMPLETED with the priced total) and one CDR
/// POST whose total_cost is the amount the core rated, exact. The eMSP is down when the
/// transaction ends: the outbox shows the pushes failing, and when the eMSP is back it gets
/// the session update and the CDR, once.
#[tokio::test]
async fn b5_2_session_and_cdr_pushed_with_priced_total_after_emsp_outage() {
    let (csms, operator) = cpo().await;
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
    let (token_a, versions_url, partner_id) = operator.partner("Peer eMSP", &["NL*UNI"]).await;
    let mut peer = Peer::start("NL", "EMA").await;
    peer.register(&versions_url, &token_a, "2.2.1").await;
    let tokens = peer.endpoint("tokens");
    let (code, _, put) = peer
        .call(
            Method::PUT,
            &format!("{tokens}/NL/EMA/04A1B2C3D4?type=RFID"),
            Some(json!({
                "country_code": "NL", "party_id": "EMA", "uid": "04A1B2C3D4", "type": "RFID",
                "contract_id": "NL-EMA-C12345678-X", "issuer": "Peer eMSP", "valid": true,
                "whitelist": "ALWAYS", "last_updated": "2026-12-06T10:00:00Z",
            })),
        )
        .await;
    assert_eq!((code, put["status_code"].as_i64()), (200, Some(1000)));

    let target = csms.target(CP1, 1);
    let mut station: Station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    const TX: &str = "TX-PUSH-1";
    let t0 = Utc::now() - chrono::Duration::hours(2);
    let minutes = |m: i64| t0 + chrono::Duration::minutes(m);
    let mut first = event(
        TX,
        0,
        TransactionEventEnumType::Started,
        TriggerReasonEnumType::Authorized,
        t0,
        ChargingStateEnumType::Charging,
    );
    first.id_token = Some(IdTokenType {
        custom_data: None,
        additional_info: None,
        id_token: "04A1B2C3D4".into(),
        r#type: IdTokenEnumType::Iso14443,
    });
    first.evse = Some(EvseType {
        custom_data: None,
        id: 1,
        connector_id: Some(1),
    });
    first.meter_value = Some(energy(t0, 10_000, ReadingContextEnumType::TransactionBegin));
    station.call(&first).await.unwrap();
    let is_session = |p: &Pushed| p.module == "sessions";
    let (_, active) = peer.next_push(is_session).await;
    assert_eq!(active.method, "PUT");
    assert!(active.accepted);
    let session_id = active.body["id"].as_str().unwrap().to_string();
    assert_eq!(active.path, format!("/NL/UNI/{session_id}"));
    assert_eq!(active.body["status"], "ACTIVE");
    assert_eq!(active.body["cdr_token"]["uid"], "04A1B2C3D4");
    assert_eq!(active.body["location_id"], "LOC1");
    assert_eq!(active.header("ocpi-to-party-id"), Some("EMA"));

    // The eMSP goes down; the station charges on and ends the transaction.
    peer.set_down(true);
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

    // The CDR is tried while the eMSP is down: refused, kept pending in the outbox.
    let (_, refused) = peer.next_push(|p| p.module == "cdrs").await;
    assert!(!refused.accepted);
    assert_eq!(refused.method, "POST");
    let outbox = outbox_when(&operator, partner_id, |o| {
        pushes_of(o, "cdrs")
            .first()
            .is_some_and(|c| c["lastError"].is_string())
    })
    .await;
    assert!(outbox["pending"].as_i64().unwrap() >= 2, "{outbox}");
    assert!(outbox["failing"].as_i64().unwrap() >= 2, "{outbox}");
    let cdr_row = outbox["pushes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["module"] == "cdrs")
        .unwrap_or_else(|| panic!("the CDR is in the outbox while the eMSP is down: {outbox}"))
        .clone();
    assert_eq!(cdr_row["method"], "POST");
    assert_eq!(cdr_row["status"], "PENDING");
    assert!(
        cdr_row["lastError"].as_str().unwrap().contains("500"),
        "{cdr_row}"
    );

    // The failures are in /metrics (Prometheus text): attempts by module and outcome, and the
    // outbox depth per partner.
    let metrics = csms.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("ocpi_push_attempts_total{")
                && l.contains(r#"module="cdrs""#)
                && l.contains(r#"outcome="failed""#)),
        "{metrics}"
    );
    assert!(
        metrics.contains("ocpi_outbox_pending{partner="),
        "{metrics}"
    );

    // Back up: everything arrives, the session updates in order, the CDR once.
    peer.set_down(false);
    let mut accepted: Vec<Pushed> = Vec::new();
    let done = |seen: &[Pushed]| {
        seen.iter().any(|p| p.module == "cdrs")
            && seen
                .iter()
                .any(|p| p.module == "sessions" && p.body["total_cost"].is_object())
    };
    while !done(&accepted) {
        let (_, p) = peer.next_push(|p| p.accepted).await;
        accepted.push(p);
    }
    let sessions: Vec<&Pushed> = accepted.iter().filter(|p| p.module == "sessions").collect();
    let kwh: Vec<f64> = sessions
        .iter()
        .map(|p| p.body["kwh"].as_f64().unwrap())
        .collect();
    assert!(
        kwh.windows(2).all(|w| w[0] <= w[1]),
        "session updates arrive in the order they happened: {kwh:?}"
    );
    let completed = sessions.last().unwrap();
    assert_eq!(completed.body["id"], session_id.as_str());
    assert_eq!(
        completed.body["status"], "COMPLETED",
        "{:?}",
        completed.body
    );
    assert_eq!(completed.body["kwh"].to_string(), "12.345");
    assert_eq!(completed.body["total_cost"]["excl_vat"].to_string(), "7.71");
    assert_eq!(completed.body["total_cost"]["incl_vat"].to_string(), "9.17");
    let cdr = accepted.iter().find(|p| p.module == "cdrs").unwrap();
    assert_eq!(cdr.method, "POST");
    assert_eq!(cdr.path, "");
    assert_eq!(
        cdr.body, refused.body,
        "the CDR sent is the one refused before"
    );
    assert_eq!(cdr.body["id"].as_str().unwrap().len(), 32);
    assert_eq!(cdr.body["session_id"], session_id.as_str());
    assert_eq!(cdr.body["total_cost"]["excl_vat"].to_string(), "7.71");
    assert_eq!(cdr.body["total_cost"]["incl_vat"].to_string(), "9.17");
    assert_eq!(cdr.body["total_energy"].to_string(), "12.345");
    assert_eq!(
        cdr.body["total_energy_cost"]["excl_vat"].to_string(),
        "4.81"
    );
    assert_eq!(cdr.body["total_fixed_cost"]["excl_vat"].to_string(), "0.5");
    assert_eq!(cdr.body["cdr_token"]["contract_id"], "NL-EMA-C12345678-X");
    assert_eq!(cdr.header("ocpi-to-party-id"), Some("EMA"));

    // Once: the outbox holds one CDR push, delivered (the eMSP may see the POST a moment
    // before the worker records the answer: read the outbox again until it has).
    let outbox = outbox_when(&operator, partner_id, |o| {
        pushes_of(o, "cdrs")
            .first()
            .is_some_and(|c| c["status"] == "DELIVERED")
    })
    .await;
    let cdrs = pushes_of(&outbox, "cdrs");
    assert_eq!(cdrs.len(), 1, "{outbox}");
    assert_eq!(cdrs[0]["status"], "DELIVERED");
    assert!(cdrs[0]["attempts"].as_i64().unwrap() >= 2);
    station.close().await;
}

/// B2.1 the CPO informs MSPs about the roaming tariff: the core tariff that prices sessions is
/// served at the Tariffs Sender (paged, date filters, 2.2.1 and 2.3.0 spelling) with exact
/// per-unit prices (per kWh, per hour charging and parking, per session, VAT), and every
/// create / change / delete is pushed to the eMSP's Tariffs Receiver (PUT / DELETE).
#[tokio::test]
async fn b2_1_tariffs_served_paged_and_pushed_on_change() {
    let (_csms, operator) = cpo().await;
    let (token_a, versions_url, _) = operator.partner("Peer eMSP", &["NL*UNI"]).await;
    let mut peer = Peer::start("NL", "EMA").await;
    peer.register(&versions_url, &token_a, "2.2.1").await;
    // The full view at registration (LOC1, no tariff yet) is out before tariffs change.
    let (_, full) = peer.next_push(|p| p.module == "locations").await;
    assert_eq!(full.path, "/NL/UNI/LOC1");
    let tariff = |id: &str, per_kwh: &str| {
        json!({
            "id": id, "currency": "EUR", "vatPercent": "19", "pricePerKwh": per_kwh,
            "pricePerChargingMinute": "0.02", "pricePerIdleMinute": "0.10",
            "sessionFee": "0.50",
            "displayText": [{"language": "en", "text": "Roaming price"}],
        })
    };
    let is_tariff = |p: &Pushed| p.module == "tariffs";

    operator
        .send(Method::POST, "/tariffs", Some(tariff("ROAMING", "0.39")))
        .await;
    let (_, put) = peer.next_push(is_tariff).await;
    assert_eq!(put.method, "PUT");
    assert_eq!(put.path, "/NL/UNI/ROAMING");
    assert!(put.accepted);
    assert_eq!(put.header("ocpi-from-party-id"), Some("UNI"));
    let t = &put.body;
    assert_eq!(t["country_code"], "NL");
    assert_eq!(t["party_id"], "UNI");
    assert_eq!(t["id"], "ROAMING");
    assert_eq!(t["currency"], "EUR");
    assert_eq!(t["tariff_alt_text"][0]["text"], "Roaming price");
    assert!(t.get("tax_included").is_none(), "2.2.1 has no tax_included");
    let components: Vec<String> = t["elements"][0]["price_components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} vat {} step {}",
                c["type"].as_str().unwrap(),
                c["price"],
                c["vat"],
                c["step_size"]
            )
        })
        .collect();
    assert_eq!(
        components,
        [
            "ENERGY 0.39 vat 19 step 1",
            "TIME 1.2 vat 19 step 1",
            "PARKING_TIME 6 vat 19 step 1",
            "FLAT 0.5 vat 19 step 1",
        ]
    );

    operator
        .send(Method::POST, "/tariffs", Some(tariff("NIGHT", "0.25")))
        .await;
    let (_, night) = peer.next_push(is_tariff).await;
    assert_eq!(night.path, "/NL/UNI/NIGHT");

    // The Sender GET: paged, the endpoint published in version details.
    let tariffs = peer.endpoint("tariffs");
    let (code, headers, page) = peer
        .call(Method::GET, &format!("{tariffs}?limit=1"), None)
        .await;
    assert_eq!(code, 200, "{page}");
    assert_eq!(headers["x-total-count"], "2");
    assert_eq!(
        headers["x-limit"], "100",
        "X-Limit: the server's maximum page"
    );
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    let link = headers["link"].to_str().unwrap().to_string();
    assert!(link.contains("offset=1"), "{link}");
    // Exact as written on the wire.
    let (_, _, all) = peer.call(Method::GET, &tariffs, None).await;
    let raw = peer.raw();
    assert!(raw.contains(r#""price":0.39"#), "{raw}");
    assert!(raw.contains(r#""price":1.2,"#), "{raw}");
    let ids: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ROAMING", "NIGHT"], "ordered by last_updated");
    // 2.3.0 spelling.
    let (_, _, v230) = peer
        .call(Method::GET, &tariffs.replace("/2.2.1/", "/2.3.0/"), None)
        .await;
    assert_eq!(v230["data"][0]["tax_included"], "NO", "{v230}");

    // A price change: pushed again, with a later last_updated; date_from sees only it.
    operator
        .send(Method::POST, "/tariffs", Some(tariff("ROAMING", "0.45")))
        .await;
    let (_, changed) = peer.next_push(is_tariff).await;
    assert_eq!(changed.path, "/NL/UNI/ROAMING");
    assert_eq!(
        changed.body["elements"][0]["price_components"][0]["price"].to_string(),
        "0.45"
    );
    let since = changed.body["last_updated"].as_str().unwrap().to_string();
    assert!(since.as_str() > put.body["last_updated"].as_str().unwrap());
    let (_, _, recent) = peer
        .call(Method::GET, &format!("{tariffs}?date_from={since}"), None)
        .await;
    let ids: Vec<&str> = recent["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ROAMING"], "{recent}");

    // Unchanged tariffs are not pushed again; a deleted one is DELETEd at the eMSP.
    operator.send(Method::DELETE, "/tariffs/NIGHT", None).await;
    let (skipped, deleted) = peer.next_push(is_tariff).await;
    assert!(skipped.iter().all(|p| !is_tariff(p)), "{skipped:?}");
    assert_eq!(deleted.method, "DELETE");
    assert_eq!(deleted.path, "/NL/UNI/NIGHT");
    let (_, _, left) = peer.call(Method::GET, &tariffs, None).await;
    assert_eq!(left["data"].as_array().unwrap().len(), 1, "{left}");
}

/// B5.2, a CDR is never lost: the CDR of a finished transaction reaches the eMSP, then the
/// process "crashes" between the fact and the outbox row (the row is removed from the
/// database while the server is down). On the next start the CDR sweep finds the charge
/// record with no CDR push and the eMSP gets the same CDR again.
#[tokio::test]
async fn b5_2_cdr_missing_from_the_outbox_is_swept_at_start() {
    let (csms, operator) = cpo().await;
    let (token_a, versions_url, partner_id) = operator.partner("Peer eMSP", &["NL*UNI"]).await;
    let mut peer = Peer::start("NL", "EMA").await;
    peer.register(&versions_url, &token_a, "2.2.1").await;
    let tokens = peer.endpoint("tokens");
    let (code, _, _) = peer
        .call(
            Method::PUT,
            &format!("{tokens}/NL/EMA/04A1B2C3D4?type=RFID"),
            Some(json!({
                "country_code": "NL", "party_id": "EMA", "uid": "04A1B2C3D4", "type": "RFID",
                "contract_id": "NL-EMA-C12345678-X", "issuer": "Peer eMSP", "valid": true,
                "whitelist": "ALWAYS", "last_updated": "2026-12-06T10:00:00Z",
            })),
        )
        .await;
    assert_eq!(code, 200);
    let target = csms.target(CP1, 1);
    let mut station: Station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    let t0 = Utc::now() - chrono::Duration::hours(1);
    let mut first = event(
        "TX-SWEEP-1",
        0,
        TransactionEventEnumType::Started,
        TriggerReasonEnumType::Authorized,
        t0,
        ChargingStateEnumType::Charging,
    );
    first.id_token = Some(IdTokenType {
        custom_data: None,
        additional_info: None,
        id_token: "04A1B2C3D4".into(),
        r#type: IdTokenEnumType::Iso14443,
    });
    first.evse = Some(EvseType {
        custom_data: None,
        id: 1,
        connector_id: Some(1),
    });
    first.meter_value = Some(energy(t0, 1_000, ReadingContextEnumType::TransactionBegin));
    station.call(&first).await.unwrap();
    let end = t0 + chrono::Duration::minutes(30);
    let mut ended = event(
        "TX-SWEEP-1",
        1,
        TransactionEventEnumType::Ended,
        TriggerReasonEnumType::EvDeparted,
        end,
        ChargingStateEnumType::Idle,
    );
    ended.transaction_info.stopped_reason = Some(ReasonEnumType::EvDisconnected);
    ended.meter_value = Some(energy(end, 8_500, ReadingContextEnumType::TransactionEnd));
    station.call(&ended).await.unwrap();
    let (_, cdr) = peer.next_push(|p| p.module == "cdrs" && p.accepted).await;
    assert_eq!(cdr.body["total_energy"].to_string(), "7.5");
    station.close().await;

    // The crash: the server stops and its CDR push row is gone.
    let common::TestCsms { server, dir, .. } = csms;
    server.shutdown().await;
    let mut settings = common::test_settings(dir.path());
    let removed = common::execute_in_store(
        dir.path(),
        "DELETE FROM ocpi_outbox WHERE partner_id = $1 AND module = 'cdrs'",
        partner_id,
    );
    assert_eq!(removed, 1);

    settings.http.listen = Some("127.0.0.1:0".parse().unwrap());
    settings.ocpi.push_retry_initial = Duration::from_millis(20);
    settings.ocpi.push_retry_max = Duration::from_millis(100);
    settings.ocpi.parties = vec![unicharge_ocpi_server::settings::PartySettings {
        country_code: "NL".into(),
        party_id: "UNI".into(),
        name: "Unicharge NL".into(),
        website: None,
        role: unicharge_ocpi_server::settings::Role::Cpo,
    }];
    let _restarted = unicharge_server::start(settings).await.unwrap();
    let (_, again) = peer.next_push(|p| p.module == "cdrs" && p.accepted).await;
    assert_eq!(
        again.body, cdr.body,
        "the same CDR, swept from the charge record"
    );
}
