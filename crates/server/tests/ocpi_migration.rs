//! Seed 003 B3.2, an MSP migrates its EV drivers to another MSP platform (issue 12, ADR 0050):
//! two eMSP platforms, each the peer of tests/ocpi_common over real HTTP, speak for the same
//! MSP party NL*EMA; the station is played by the simulator over a real WebSocket. The old
//! platform pushed the driver's token, the new one registers with the MSP's role and pushes the
//! token again: from then on the driver's sessions and CDRs are pushed to the new platform
//! only. Pushes are retried on millisecond backoff, so nothing here sleeps.

#[path = "common/mod.rs"]
mod common;
#[path = "ocpi_common/mod.rs"]
mod ocpi_common;

use std::time::Duration;

use chrono::Utc;
use reqwest::Method;
use serde_json::{json, Value};
use unicharge_ocpp::v201::{
    ChargingStateEnumType, EvseType, IdTokenEnumType, IdTokenType, ReadingContextEnumType,
    ReasonEnumType, TransactionEventEnumType, TriggerReasonEnumType,
};
use unicharge_sim::octt::states;
use unicharge_sim::Station;

use common::payloads::{energy, transaction_event as event};
use common::{StationSpec, TestCsms};
use ocpi_common::{Operator, Peer, Pushed};

const CP1: &str = "CP-MIG-1";
const UID: &str = "04A1B2C3D4";
const CONTRACT: &str = "NL-EMA-C12345678-X";
const TX: &str = "TX-MIG-1";

/// A CPO with party NL*UNI, CP1 at LOC1 priced by tariff ROAMING.
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
    (csms, operator)
}

/// An eMSP platform speaking for NL*EMA, registered with NL*UNI.
async fn platform(operator: &Operator, name: &str) -> (Peer, i64) {
    let (token_a, versions_url, id) = operator.partner(name, &["NL*UNI"]).await;
    let mut peer = Peer::start("NL", "EMA").await;
    peer.register(&versions_url, &token_a, "2.2.1").await;
    (peer, id)
}

/// The platform pushes the driver's token (`issuer` tells the two pushes apart).
async fn push_token(platform: &Peer, issuer: &str, last_updated: &str) {
    let (code, _, put) = platform
        .call(
            Method::PUT,
            &format!("{}/NL/EMA/{UID}?type=RFID", platform.endpoint("tokens")),
            Some(json!({
                "country_code": "NL", "party_id": "EMA", "uid": UID, "type": "RFID",
                "contract_id": CONTRACT, "issuer": issuer, "valid": true,
                "whitelist": "ALWAYS", "last_updated": last_updated,
            })),
        )
        .await;
    assert_eq!(
        (code, put["status_code"].as_i64()),
        (200, Some(1000)),
        "{put}"
    );
}

/// A transaction event of TX at `at` with the meter at `wh`.
async fn charge(
    station: &mut Station,
    seq: i64,
    kind: TransactionEventEnumType,
    at: chrono::DateTime<Utc>,
    wh: i64,
) {
    let (trigger, state, context) = match kind {
        TransactionEventEnumType::Started => (
            TriggerReasonEnumType::Authorized,
            ChargingStateEnumType::Charging,
            ReadingContextEnumType::TransactionBegin,
        ),
        TransactionEventEnumType::Ended => (
            TriggerReasonEnumType::EvDeparted,
            ChargingStateEnumType::Idle,
            ReadingContextEnumType::TransactionEnd,
        ),
        _ => (
            TriggerReasonEnumType::MeterValuePeriodic,
            ChargingStateEnumType::Charging,
            ReadingContextEnumType::SamplePeriodic,
        ),
    };
    let mut e = event(TX, seq, kind, trigger, at, state);
    match kind {
        TransactionEventEnumType::Started => {
            e.id_token = Some(IdTokenType {
                custom_data: None,
                additional_info: None,
                id_token: UID.into(),
                r#type: IdTokenEnumType::Iso14443,
            });
            e.evse = Some(EvseType {
                custom_data: None,
                id: 1,
                connector_id: Some(1),
            });
        }
        TransactionEventEnumType::Ended => {
            e.transaction_info.stopped_reason = Some(ReasonEnumType::EvDisconnected);
        }
        _ => e.transaction_info.charging_state = None,
    }
    e.meter_value = Some(energy(at, wh, context));
    station.call(&e).await.unwrap();
}

/// GET a Sender list as the platform: its `data` array.
async fn list(platform: &Peer, module: &str) -> Vec<Value> {
    let url = format!(
        "{}?date_from=2020-01-01T00:00:00Z",
        platform.endpoint(module)
    );
    let (code, _, body) = platform.call(Method::GET, &url, None).await;
    assert_eq!(
        (code, body["status_code"].as_i64()),
        (200, Some(1000)),
        "{body}"
    );
    body["data"].as_array().unwrap().clone()
}

/// The partner's outbox (every push enqueued for it) as the operator's API shows it.
async fn outbox(operator: &Operator, partner_id: i64) -> Vec<Value> {
    let outbox = operator
        .send(
            Method::GET,
            &format!("/ocpi/partners/{partner_id}/outbox"),
            None,
        )
        .await;
    outbox["pushes"].as_array().unwrap().clone()
}

fn kwh(v: &Value) -> String {
    v["kwh"].to_string()
}

/// B3.2: the old platform's token starts a session, which goes to the old platform. The new
/// platform registers for the same MSP party: while the old one still manages the token, the
/// session stays with it. Once the new platform pushes the token, the session's next update,
/// its completion and the CDR are pushed to the new platform only (12.345 kWh, 4.81 EUR energy
/// cost): the old platform's outbox never held the CDR, the new one got no session push
/// before the migration, and it pulls the session and the CDR.
#[tokio::test]
async fn b3_2_sessions_and_cdrs_follow_tokens_migrated_to_another_msp_platform() {
    let (csms, operator) = cpo().await;
    let (mut old, old_id) = platform(&operator, "Old MSP platform").await;
    push_token(&old, "Old platform", "2026-12-06T10:00:00Z").await;

    let target = csms.target(CP1, 1);
    let mut station: Station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    let t0 = Utc::now() - chrono::Duration::hours(2);
    let minutes = |m: i64| t0 + chrono::Duration::minutes(m);
    charge(
        &mut station,
        0,
        TransactionEventEnumType::Started,
        t0,
        10_000,
    )
    .await;
    let is_session = |p: &Pushed| p.module == "sessions" && p.accepted;
    let (_, active) = old.next_push(is_session).await;
    assert_eq!(active.body["status"], "ACTIVE");
    assert_eq!(active.body["cdr_token"]["uid"], UID);
    let session_id = active.body["id"].as_str().unwrap().to_string();

    // The new platform registers with the MSP's role; the old one still manages the token.
    let (mut new, new_id) = platform(&operator, "New MSP platform").await;
    charge(
        &mut station,
        1,
        TransactionEventEnumType::Updated,
        minutes(10),
        15_123,
    )
    .await;
    let (_, update) = old
        .next_push(|p| is_session(p) && kwh(&p.body) == "5.123")
        .await;
    assert_eq!(update.body["id"], session_id.as_str());

    // Migration: the new platform pushes the token. The session now goes to it.
    push_token(&new, "New platform", "2026-12-07T09:00:00Z").await;
    charge(
        &mut station,
        2,
        TransactionEventEnumType::Updated,
        minutes(30),
        20_456,
    )
    .await;
    let (before, moved) = new
        .next_push(|p| is_session(p) && kwh(&p.body) == "10.456")
        .await;
    assert!(
        !before.iter().any(|p| p.module == "sessions"),
        "no session pushed to the new platform before it took the token: {before:?}"
    );
    assert_eq!(moved.body["id"], session_id.as_str());
    assert_eq!(moved.body["cdr_token"]["uid"], UID);
    assert_eq!(moved.body["cdr_token"]["contract_id"], CONTRACT);
    assert_eq!(moved.header("ocpi-to-party-id"), Some("EMA"));
    charge(
        &mut station,
        3,
        TransactionEventEnumType::Ended,
        minutes(60),
        22_345,
    )
    .await;
    let (_, cdr) = new.next_push(|p| p.module == "cdrs" && p.accepted).await;
    assert_eq!(cdr.body["session_id"], session_id.as_str());
    assert_eq!(cdr.body["total_energy"].to_string(), "12.345");
    assert_eq!(
        cdr.body["total_energy_cost"]["excl_vat"].to_string(),
        "4.81"
    );
    assert_eq!(cdr.body["cdr_token"]["contract_id"], CONTRACT);

    // Pulled: the new platform, which speaks for the MSP, gets the session and the CDR.
    let sessions = list(&new, "sessions").await;
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0]["id"], session_id.as_str());
    assert_eq!(kwh(&sessions[0]), "12.345");
    assert_eq!(list(&new, "cdrs").await.len(), 1);

    // Pushed: the old platform's outbox (enqueued in the same pass as the new one's, so
    // complete now) holds no CDR, the new one's exactly one.
    let pushes = outbox(&operator, old_id).await;
    assert!(
        !pushes.iter().any(|p| p["module"] == "cdrs"),
        "no CDR for the old platform: {pushes:?}"
    );
    let to_new = outbox(&operator, new_id).await;
    assert_eq!(
        to_new.iter().filter(|p| p["module"] == "cdrs").count(),
        1,
        "{to_new:?}"
    );
    station.close().await;
}

/// B3.2, the other order: the new platform registers for the MSP party, and the old one drops
/// the MSP's role (credentials PUT, now speaking for NL*OLD only) before the new one pushed the
/// tokens. The token the old platform pushed still authorizes the driver, and its session and
/// CDR are pushed to the new platform, never to the old one.
#[tokio::test]
async fn b3_2_old_platform_drops_the_msp_role_before_the_new_one_pushes_tokens() {
    let (csms, operator) = cpo().await;
    let (old, old_id) = platform(&operator, "Old MSP platform").await;
    push_token(&old, "Old platform", "2026-12-06T10:00:00Z").await;
    let (mut new, new_id) = platform(&operator, "New MSP platform").await;
    let (code, _, answer) = old
        .call(
            Method::PUT,
            &old.endpoint("credentials"),
            Some(json!({
                "token": old.token_b, "url": format!("{}/versions", old.base),
                "roles": [{"role": "EMSP", "country_code": "NL", "party_id": "OLD",
                           "business_details": {"name": "Old MSP platform"}}],
            })),
        )
        .await;
    assert_eq!(
        (code, answer["status_code"].as_i64()),
        (200, Some(1000)),
        "{answer}"
    );

    let target = csms.target(CP1, 1);
    let mut station: Station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    let t0 = Utc::now() - chrono::Duration::hours(2);
    let minutes = |m: i64| t0 + chrono::Duration::minutes(m);
    charge(
        &mut station,
        0,
        TransactionEventEnumType::Started,
        t0,
        10_000,
    )
    .await;
    charge(
        &mut station,
        1,
        TransactionEventEnumType::Ended,
        minutes(60),
        22_345,
    )
    .await;
    let (_, cdr) = new.next_push(|p| p.module == "cdrs" && p.accepted).await;
    assert_eq!(cdr.body["total_energy"].to_string(), "12.345");
    assert_eq!(cdr.body["cdr_token"]["uid"], UID);
    assert_eq!(cdr.body["cdr_token"]["contract_id"], CONTRACT);
    assert_eq!(cdr.header("ocpi-to-party-id"), Some("EMA"));

    // The old platform's outbox (enqueued in the same passes as the new one's) holds neither
    // the session nor the CDR.
    let pushes = outbox(&operator, old_id).await;
    assert!(
        !pushes
            .iter()
            .any(|p| p["module"] == "sessions" || p["module"] == "cdrs"),
        "{pushes:?}"
    );
    let to_new = outbox(&operator, new_id).await;
    assert_eq!(
        to_new.iter().filter(|p| p["module"] == "cdrs").count(),
        1,
        "{to_new:?}"
    );
    station.close().await;
}
