//! OCPI initial full exchange and credentials rotation (issue 12 items 1–3, seed 003 B1.1,
//! B5.2, B8.1), over real HTTP between two running unicharge instances.
//!
//! * A CPO instance holds 3 locations, 2 tariffs and a finished, priced session with its CDR
//!   *before* a unicharge eMSP registers with it. Its Sender pages hold 2 objects
//!   (`ocpi.max_page = 2`), so the eMSP's pull must follow `Link` (and the CPO caps the eMSP's
//!   asked limit of 100 to its `X-Limit` 2). After registration the eMSP has exactly those
//!   objects; pulls again (incremental, then full) add nothing.
//! * The session and CDR ran with a token of the eMSP's party NL*EMS that an earlier platform
//!   of that eMSP (the test peer, tests/ocpi_common) pushed to the CPO: the reading taken is a
//!   migrating eMSP, the case where a pull is the only way to get the past CDRs (B5.2: all
//!   CDRs for invoicing) — the CPO never pushes them to the new platform.
//! * The CPO enqueues its full view (the locations and tariffs of the party the eMSP is
//!   registered with) for the eMSP once, without duplicate pushes.
//! * Credentials rotation: the eMSP (which registered) PUTs new credentials on request or on
//!   schedule; afterwards each side's old token gets 401 and the new one works. The tokens the
//!   two instances exchanged are not shown by any API (by design), so the test reads them the
//!   way each platform's owner could: the sealed token from the store, opened with the
//!   instance's own `ocpi.key`.
//!
//! Amounts are those of `ocpi_push.rs`: one hour, 12.345 kWh, 45 min charging, 15 min idle,
//! 0.39 / kWh, 0.02 / min charging, 0.10 / min idle, fee 0.50, VAT 19 % → 7.71 excl. VAT,
//! 9.17 incl. VAT. Nothing sleeps: every wait reads the API until a deadline.

#[path = "common/mod.rs"]
mod common;
#[path = "ocpi_common/mod.rs"]
mod ocpi_common;

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use unicharge_ocpi_server::settings::PartySettings;
use unicharge_ocpp::v201::{
    ChargingStateEnumType, EvseType, IdTokenEnumType, IdTokenType, ReadingContextEnumType,
    ReasonEnumType, TransactionEventEnumType, TriggerReasonEnumType,
};
use unicharge_sim::octt::states;
use unicharge_sim::Station;

use common::payloads::{energy, transaction_event as event};
use common::{StationSpec, TestCsms};
use ocpi_common::{Operator, Peer};

const CP: &str = "CP-SYNC-1";

fn operator(csms: &TestCsms) -> Operator {
    Operator::new(
        csms.server.http_addr.unwrap(),
        csms.server.initial_admin_key.as_ref().unwrap(),
    )
}

/// A CPO instance with party NL*CPO, station CP, Sender pages of 2.
async fn cpo() -> TestCsms {
    TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        s.ocpi.push_retry_initial = Duration::from_millis(20);
        s.ocpi.push_retry_max = Duration::from_millis(100);
        s.ocpi.max_page = 2;
        s.ocpi.parties = vec![PartySettings::cpo("NL", "CPO", "Unicharge CPO")];
    })
    .await
}

/// An eMSP instance with party NL*EMS; `rotation` is `ocpi.credentials_rotation`.
async fn emsp(rotation: Duration) -> TestCsms {
    TestCsms::start_with(&[], |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        s.ocpi.push_retry_initial = Duration::from_millis(20);
        s.ocpi.push_retry_max = Duration::from_millis(100);
        s.ocpi.credentials_rotation = rotation;
        s.ocpi.parties = vec![PartySettings::emsp("NL", "EMS", "Unicharge eMSP")];
    })
    .await
}

/// The eMSP registers with the CPO through both operators' APIs; returns (the CPO's partner
/// id at the eMSP, the eMSP's partner id at the CPO, the CPO's versions URL).
async fn register(cpo_op: &Operator, emsp_op: &Operator) -> (i64, i64, String) {
    let r = ocpi_common::register_emsp(cpo_op, emsp_op).await;
    (r.cpo_at_emsp, r.emsp_at_cpo, r.versions_url)
}

/// The pull of every module finished (no run under way, each module with a mark newer than
/// `after`).
async fn pulled(operator: &Operator, partner: i64, after: DateTime<Utc>) -> Value {
    operator
        .until(&format!("/ocpi/partners/{partner}/sync"), |v| {
            v["running"] == false
                && v["modules"]
                    .as_array()
                    .is_some_and(|m| m.len() == 4 && m.iter().all(|m| at(&m["syncedAt"]) > after))
        })
        .await
}

/// A time the API wrote.
fn at(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a time: {value}"))
}

fn module<'a>(sync: &'a Value, name: &str) -> &'a Value {
    sync["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == name)
        .unwrap_or_else(|| panic!("no {name} in {sync}"))
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

fn ids(rows: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = rows
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// One transaction of the token 04A1B2C3D4 at CP: 12.345 kWh in an hour, ended.
async fn charge(csms: &TestCsms) -> Station {
    let target = csms.target(CP, 1);
    let mut station: Station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    const TX: &str = "TX-SYNC-1";
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
    let mut suspended = event(
        TX,
        1,
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
    let last = station.call(&ended).await.unwrap();
    assert_eq!(last.total_cost, Some("9.17".parse().unwrap()));
    station
}

async fn tariff(cpo_op: &Operator, id: &str, per_kwh: &str) {
    cpo_op
        .send(
            Method::POST,
            "/tariffs",
            Some(json!({
                "id": id, "currency": "EUR", "vatPercent": "19", "pricePerKwh": per_kwh,
                "pricePerChargingMinute": "0.02", "pricePerIdleMinute": "0.10",
                "sessionFee": "0.50",
            })),
        )
        .await;
}

/// B1.1 (the MSP has up-to-date information about *all* charging locations of the CPO) and
/// B5.2 (all CDRs for invoicing), for what existed before the partnership: 3 locations, 2
/// tariffs, a completed session and its CDR are at the CPO before the eMSP registers. Right
/// after registration the eMSP pulls them in the background, page by page (pages of 2: the
/// third location comes from the `Link` page); it then holds exactly those ids, the session,
/// and the CDR with the priced total 7.71 / 9.17. The CPO enqueued its full view for the eMSP:
/// one PUT per location and tariff, no more. An incremental pull (`date_from`) and a full pull
/// afterwards store nothing new and the CDR is there once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b1_1_b5_2_existing_objects_pulled_paged_after_registration_and_idempotent() {
    let cpo = cpo().await;
    let cpo_op = operator(&cpo);
    cpo_op.location("NL*CPO", "LOC1", &[CP]).await;
    cpo_op.location("NL*CPO", "LOC2", &[]).await;
    cpo_op.location("NL*CPO", "LOC3", &[]).await;
    tariff(&cpo_op, "ROAMING", "0.39").await;
    tariff(&cpo_op, "NIGHT", "0.29").await;
    cpo_op
        .send(
            Method::POST,
            "/tariff-assignments",
            Some(json!({"tariffId": "ROAMING", "scope": {"scope": "station", "stationId": CP}})),
        )
        .await;
    // The eMSP's earlier platform pushes its driver's token, and the driver charges.
    let (token_a, versions_url, _) = cpo_op.partner("Old eMSP platform", &["NL*CPO"]).await;
    let mut old = Peer::start("NL", "EMS").await;
    old.register(&versions_url, &token_a, "2.2.1").await;
    let (code, _, put) = old
        .call(
            Method::PUT,
            &format!("{}/NL/EMS/04A1B2C3D4?type=RFID", old.endpoint("tokens")),
            Some(json!({
                "country_code": "NL", "party_id": "EMS", "uid": "04A1B2C3D4", "type": "RFID",
                "contract_id": "NL-EMS-C12345678-X", "issuer": "Unicharge eMSP", "valid": true,
                "whitelist": "ALWAYS", "last_updated": "2026-12-06T10:00:00Z",
            })),
        )
        .await;
    assert_eq!((code, put["status_code"].as_i64()), (200, Some(1000)));
    let station = charge(&cpo).await;
    let (_, cdr_push) = old.next_push(|p| p.module == "cdrs").await;
    let cdr_id = cdr_push.body["id"].as_str().unwrap().to_string();

    // The new platform registers; the pull runs in the background.
    let emsp = emsp(Duration::ZERO).await;
    let emsp_op = operator(&emsp);
    let before = Utc::now();
    let (cpo_at_emsp, emsp_at_cpo, _) = register(&cpo_op, &emsp_op).await;
    let first = pulled(&emsp_op, cpo_at_emsp, before).await;
    assert_eq!(module(&first, "locations")["objects"], 3, "{first}");
    assert_eq!(module(&first, "tariffs")["objects"], 2, "{first}");
    assert_eq!(module(&first, "sessions")["objects"], 1, "{first}");
    assert_eq!(module(&first, "cdrs")["objects"], 1, "{first}");
    assert_eq!(module(&first, "cdrs")["stored"], 1, "{first}");
    assert_eq!(module(&first, "sessions")["stored"], 1, "{first}");

    let locations = received(&emsp_op, cpo_at_emsp, "locations").await;
    assert_eq!(ids(&locations), ["LOC1", "LOC2", "LOC3"]);
    assert!(locations.iter().all(|l| l["party"] == "NL*CPO"));
    let tariffs = received(&emsp_op, cpo_at_emsp, "tariffs").await;
    assert_eq!(ids(&tariffs), ["NIGHT", "ROAMING"]);
    let sessions = received(&emsp_op, cpo_at_emsp, "sessions").await;
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0]["status"], "COMPLETED");
    assert_eq!(sessions[0]["object"]["cdr_token"]["uid"], "04A1B2C3D4");
    let cdrs = received(&emsp_op, cpo_at_emsp, "cdrs").await;
    assert_eq!(ids(&cdrs), [cdr_id.as_str()]);
    assert_eq!(cdrs[0]["kwh"], "12.345");
    assert_eq!(cdrs[0]["totalCost"]["exclVat"], "7.71", "{}", cdrs[0]);
    assert_eq!(cdrs[0]["totalCost"]["inclVat"], "9.17", "{}", cdrs[0]);
    assert_eq!(cdrs[0]["sessionId"], sessions[0]["id"]);

    // The CPO's full view for the eMSP: each location and tariff once, delivered.
    let outbox = cpo_op
        .until(&format!("/ocpi/partners/{emsp_at_cpo}/outbox"), |o| {
            o["pending"] == 0 && o["delivered"].as_i64() >= Some(5)
        })
        .await;
    let mut puts: Vec<String> = outbox["pushes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{} {} {}", p["module"], p["method"], p["path"]))
        .collect();
    puts.sort();
    assert_eq!(
        puts,
        [
            r#""locations" "PUT" "/NL/CPO/LOC1""#,
            r#""locations" "PUT" "/NL/CPO/LOC2""#,
            r#""locations" "PUT" "/NL/CPO/LOC3""#,
            r#""tariffs" "PUT" "/NL/CPO/NIGHT""#,
            r#""tariffs" "PUT" "/NL/CPO/ROAMING""#,
        ]
    );

    // Again: incremental (date_from of the first pull), then everything. Nothing new.
    for full in [false, true] {
        let before = Utc::now();
        let started = emsp_op
            .client
            .post(format!("{}/ocpi/partners/{cpo_at_emsp}/sync", emsp_op.base))
            .bearer_auth(&emsp_op.key)
            .json(&json!({"full": full}))
            .send()
            .await
            .unwrap();
        assert_eq!(started.status(), 202);
        let again = pulled(&emsp_op, cpo_at_emsp, before).await;
        for name in ["locations", "tariffs", "sessions", "cdrs"] {
            assert_eq!(module(&again, name)["stored"], 0, "full {full}: {again}");
        }
        if full {
            assert_eq!(module(&again, "locations")["objects"], 3, "{again}");
            assert_eq!(module(&again, "cdrs")["objects"], 1, "{again}");
        }
        assert_eq!(
            ids(&received(&emsp_op, cpo_at_emsp, "locations").await),
            ["LOC1", "LOC2", "LOC3"]
        );
        assert_eq!(
            ids(&received(&emsp_op, cpo_at_emsp, "tariffs").await),
            ["NIGHT", "ROAMING"]
        );
        assert_eq!(received(&emsp_op, cpo_at_emsp, "sessions").await.len(), 1);
        assert_eq!(
            ids(&received(&emsp_op, cpo_at_emsp, "cdrs").await),
            [cdr_id.as_str()]
        );
    }
    // The second pull asked only for what changed since the first one's start.
    let marks = emsp_op
        .send(
            Method::GET,
            &format!("/ocpi/partners/{cpo_at_emsp}/sync"),
            None,
        )
        .await;
    assert!(module(&marks, "cdrs")["dateFrom"].as_str().unwrap() > "2026-01-01");
    // A partner that is not a CPO of ours cannot be pulled from: the CPO's view of the eMSP.
    let refused = cpo_op
        .client
        .post(format!("{}/ocpi/partners/{emsp_at_cpo}/sync", cpo_op.base))
        .bearer_auth(&cpo_op.key)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    station.close().await;
}

/// The token `partner` of `csms` uses to call its partner, opened with the instance's key.
async fn outgoing_token(csms: &TestCsms, partner: i64) -> String {
    let ocpi = csms.server.ocpi.as_ref().unwrap();
    let row = ocpi
        .ocpi_store()
        .ocpi_partner(partner)
        .await
        .unwrap()
        .unwrap();
    let sealer = unicharge_ocpi_server::secrets::Sealer::load_or_create(
        &csms.dir.path().join("data/ocpi.key"),
    )
    .unwrap();
    sealer
        .open(row.outgoing_token_sealed.as_deref().unwrap())
        .unwrap()
}

/// HTTP status of `GET url` with `token` (2.2.x: Base64 in the Authorization header).
async fn status_with(url: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(url)
        .header(
            "Authorization",
            format!(
                "Token {}",
                base64::engine::general_purpose::STANDARD.encode(token)
            ),
        )
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// B8.1 secure connection maintained over time: the eMSP (which registered) rotates its
/// credentials with the CPO on the operator's request — a new token for the CPO to call it
/// with, sent in a credentials PUT; the CPO answers with its new token for the eMSP. Then, on
/// both sides, the old token gets 401 and the new one works, and the eMSP still pulls from the
/// CPO with its new token. The CPO cannot start a rotation towards a partner that registered
/// with it (400): that partner sends the PUT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b8_1_credentials_rotated_on_request_old_tokens_refused_on_both_sides() {
    let cpo = cpo().await;
    let cpo_op = operator(&cpo);
    let emsp = emsp(Duration::ZERO).await;
    let emsp_op = operator(&emsp);
    let registering = Utc::now();
    let (cpo_at_emsp, emsp_at_cpo, cpo_versions) = register(&cpo_op, &emsp_op).await;
    pulled(&emsp_op, cpo_at_emsp, registering).await;
    let emsp_versions = format!("http://{}/ocpi/versions", emsp.server.http_addr.unwrap());
    let old_c = outgoing_token(&emsp, cpo_at_emsp).await; // the eMSP calls the CPO with it
    let old_b = outgoing_token(&cpo, emsp_at_cpo).await; // the CPO calls the eMSP with it
    assert_eq!(status_with(&cpo_versions, &old_c).await, 200);
    assert_eq!(status_with(&emsp_versions, &old_b).await, 200);
    let before = emsp_op
        .send(
            Method::GET,
            &format!("/ocpi/partners/{cpo_at_emsp}/credentials-rotation"),
            None,
        )
        .await;
    assert_eq!(before["initiatedByUs"], true, "{before}");

    let rotated = emsp_op
        .send(
            Method::POST,
            &format!("/ocpi/partners/{cpo_at_emsp}/rotate-credentials"),
            None,
        )
        .await;
    assert_eq!(rotated["status"], "REGISTERED", "{rotated}");
    let new_c = outgoing_token(&emsp, cpo_at_emsp).await;
    let new_b = outgoing_token(&cpo, emsp_at_cpo).await;
    assert_ne!(new_c, old_c);
    assert_ne!(new_b, old_b);
    assert_eq!(
        status_with(&cpo_versions, &old_c).await,
        401,
        "old token at the CPO"
    );
    assert_eq!(
        status_with(&cpo_versions, &new_c).await,
        200,
        "new token at the CPO"
    );
    assert_eq!(
        status_with(&emsp_versions, &old_b).await,
        401,
        "old token at the eMSP"
    );
    assert_eq!(
        status_with(&emsp_versions, &new_b).await,
        200,
        "new token at the eMSP"
    );
    let after = emsp_op
        .send(
            Method::GET,
            &format!("/ocpi/partners/{cpo_at_emsp}/credentials-rotation"),
            None,
        )
        .await;
    assert!(at(&after["issuedAt"]) > at(&before["issuedAt"]), "{after}");
    assert_eq!(after["pendingSince"], Value::Null);
    assert_eq!(after["lastError"], Value::Null);

    // The connection still works: a pull with the new token.
    let started = Utc::now();
    emsp_op
        .send(
            Method::POST,
            &format!("/ocpi/partners/{cpo_at_emsp}/sync"),
            None,
        )
        .await;
    pulled(&emsp_op, cpo_at_emsp, started).await;

    let refused = cpo_op
        .client
        .post(format!(
            "{}/ocpi/partners/{emsp_at_cpo}/rotate-credentials",
            cpo_op.base
        ))
        .bearer_auth(&cpo_op.key)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    // The operator's routes are in the API document.
    let doc = emsp_op.send(Method::GET, "/openapi.json", None).await;
    for path in [
        "/api/v1/ocpi/partners/{id}/sync",
        "/api/v1/ocpi/partners/{id}/rotate-credentials",
        "/api/v1/ocpi/partners/{id}/credentials-rotation",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} not documented");
    }
}

/// B8.1 on a schedule: with `ocpi.credentials_rotation` = 1 s the eMSP rotates by itself once
/// the token is a second old; the token it held before gets 401 at the CPO afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b8_1_credentials_rotated_on_schedule() {
    let cpo = cpo().await;
    let cpo_op = operator(&cpo);
    let emsp = emsp(Duration::from_secs(1)).await;
    let emsp_op = operator(&emsp);
    let (cpo_at_emsp, _, cpo_versions) = register(&cpo_op, &emsp_op).await;
    // The token first, then its age: a rotation in between only makes the token older.
    let old_c = outgoing_token(&emsp, cpo_at_emsp).await;
    let path = format!("/ocpi/partners/{cpo_at_emsp}/credentials-rotation");
    let issued = at(&emsp_op.send(Method::GET, &path, None).await["issuedAt"]);
    emsp_op.until(&path, |r| at(&r["issuedAt"]) > issued).await;
    assert_eq!(status_with(&cpo_versions, &old_c).await, 401);
}

/// B8.1, the old token stops working only once the partner acknowledged the new one: a partner
/// platform (the test peer) that does not take credentials PUTs answers the rotation with 405;
/// the operator gets 502, the token the partner holds for us still opens our endpoints, and
/// the rotation state shows the error and the pending attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b8_1_rotation_refused_by_the_partner_keeps_the_current_token() {
    let emsp = emsp(Duration::ZERO).await;
    let emsp_op = operator(&emsp);
    let peer = Peer::start("NL", "TNM").await;
    let token_a = "token-a-for-unicharge-0123456789";
    peer.issue_token_a(token_a);
    let created = emsp_op
        .send(
            Method::POST,
            "/ocpi/partners",
            Some(json!({"name": "Peer platform", "parties": ["NL*EMS"]})),
        )
        .await;
    let id = created["partner"]["id"].as_i64().unwrap();
    let registered = emsp_op
        .send(
            Method::POST,
            &format!("/ocpi/partners/{id}/register"),
            Some(json!({"versionsUrl": format!("{}/versions", peer.base), "token": token_a})),
        )
        .await;
    assert_eq!(registered["status"], "REGISTERED", "{registered}");
    let token_b = peer.posted_credentials().unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let emsp_versions = format!("http://{}/ocpi/versions", emsp.server.http_addr.unwrap());
    assert_eq!(status_with(&emsp_versions, &token_b).await, 200);
    let path = format!("/ocpi/partners/{id}/credentials-rotation");
    let before = emsp_op.send(Method::GET, &path, None).await;

    let refused = emsp_op
        .client
        .post(format!(
            "{}/ocpi/partners/{id}/rotate-credentials",
            emsp_op.base
        ))
        .bearer_auth(&emsp_op.key)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 502);
    assert_eq!(
        status_with(&emsp_versions, &token_b).await,
        200,
        "the partner never acknowledged a new token: its current one still works"
    );
    let after = emsp_op.send(Method::GET, &path, None).await;
    assert!(
        after["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("405")),
        "{after}"
    );
    assert!(after["pendingSince"].is_string(), "{after}");
    assert_eq!(after["issuedAt"], before["issuedAt"]);
    assert_eq!(
        status_with(&emsp_versions, "not-a-token-we-issued-0123456789").await,
        401
    );
}

/// A CPO platform that misbehaves in its Sender lists, for the test below: a location page
/// holding a good location, one of a party that is not the CPO's, and something that is not a
/// location, whose `Link` points at another host; tariffs answered with an OCPI error;
/// sessions that are not JSON; CDRs with the same CDR twice. `stolen` counts requests to the
/// other host (our token would go with them).
struct BadCpo {
    versions_url: String,
    stolen: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

async fn bad_cpo() -> BadCpo {
    use axum::routing::{any, get, post};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let stolen = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = stolen.clone();
    let thief = axum::Router::new().fallback(any(move || {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            "{}"
        }
    }));
    let thief_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let thief_url = format!("http://{}/steal", thief_listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(thief_listener, thief).await.unwrap() });

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/cpo", listener.local_addr().unwrap());
    let ok = |data: Value| {
        axum::Json(json!({"data": data, "status_code": 1000, "timestamp": "2026-12-06T12:00:00Z"}))
    };
    let b = base.clone();
    let versions = move || {
        let b = b.clone();
        async move { ok(json!([{"version": "2.2.1", "url": format!("{b}/2.2.1")}])) }
    };
    let b = base.clone();
    let details = move || {
        let b = b.clone();
        async move {
            let e = |id: &str, role: &str| json!({"identifier": id, "role": role, "url": format!("{b}/2.2.1/{id}")});
            ok(json!({"version": "2.2.1", "endpoints": [
                e("credentials", "RECEIVER"), e("locations", "SENDER"), e("tariffs", "SENDER"),
                e("sessions", "SENDER"), e("cdrs", "SENDER"),
            ]}))
        }
    };
    let b = base.clone();
    let credentials = move || {
        let b = b.clone();
        async move {
            ok(
                json!({"token": "bad-cpo-token-c-0123456789abcdef", "url": format!("{b}/versions"),
                "roles": [{"role": "CPO", "country_code": "NL", "party_id": "BAD",
                           "business_details": {"name": "Bad CPO"}}]}),
            )
        }
    };
    let at = "2026-12-06T10:00:00Z";
    let good = json!({
        "country_code": "NL", "party_id": "BAD", "id": "GOOD", "publish": true,
        "address": "Stationsplein 1", "city": "Utrecht", "country": "NLD",
        "coordinates": {"latitude": "52.089444", "longitude": "5.110278"},
        "time_zone": "Europe/Amsterdam", "last_updated": at,
    });
    let mut foreign = good.clone();
    foreign["party_id"] = json!("OTH");
    foreign["id"] = json!("FOREIGN");
    let locations = move || {
        let (good, foreign, link) = (good.clone(), foreign.clone(), thief_url.clone());
        async move {
            (
                [("Link", format!("<{link}>; rel=\"next\""))],
                ok(json!([good, foreign, {"not": "a location"}])),
            )
        }
    };
    let cdr: Value = serde_json::from_str(&format!(
        r#"{{"country_code": "NL", "party_id": "BAD", "id": "CDR-1",
            "start_date_time": "2026-12-06T10:00:00Z", "end_date_time": "2026-12-06T11:00:00Z",
            "cdr_token": {{"uid": "04A1B2C3D4", "type": "RFID", "contract_id": "NL-EMS-C1"}},
            "auth_method": "WHITELIST",
            "cdr_location": {{"id": "GOOD", "address": "Stationsplein 1", "city": "Utrecht",
                "country": "NLD", "coordinates": {{"latitude": "52.089444", "longitude": "5.110278"}},
                "evse_uid": "3256", "evse_id": "NL*BAD*E3256", "connector_id": "1",
                "connector_standard": "IEC_62196_T2", "connector_format": "SOCKET",
                "connector_power_type": "AC_3_PHASE"}},
            "currency": "EUR",
            "charging_periods": [{{"start_date_time": "2026-12-06T10:00:00Z",
                "dimensions": [{{"type": "ENERGY", "volume": 12.345}}]}}],
            "total_cost": {{"excl_vat": 7.71, "incl_vat": 9.17}},
            "total_energy": 12.345, "total_time": 1, "last_updated": "{at}"}}"#
    ))
    .unwrap();
    let cdrs = move || {
        let cdr = cdr.clone();
        async move { ok(json!([cdr.clone(), cdr])) }
    };
    let app = axum::Router::new()
        .route("/cpo/versions", get(versions))
        .route("/cpo/2.2.1", get(details))
        .route("/cpo/2.2.1/credentials", post(credentials))
        .route("/cpo/2.2.1/locations", get(locations))
        .route(
            "/cpo/2.2.1/tariffs",
            get(|| async {
                axum::Json(json!({"status_code": 2001, "status_message": "no",
                                  "timestamp": "2026-12-06T12:00:00Z"}))
            }),
        )
        .route(
            "/cpo/2.2.1/sessions",
            get(|| async { "<html>not OCPI</html>" }),
        )
        .route("/cpo/2.2.1/cdrs", get(cdrs));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    BadCpo {
        versions_url: format!("{base}/versions"),
        stolen,
    }
}

/// Bad input from a CPO's Sender lists gets a bounded log line and nothing else: the eMSP
/// keeps the good location and the CDR (once, though the page lists it twice), refuses the
/// location of a party that is not the CPO's and the object that is not a location, does not
/// follow a `Link` to another host (our token would go there), and the modules the CPO
/// answers with an OCPI error or with something that is not JSON are left without a mark
/// (tried again with backoff, then given up until the next pull).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b1_1_pull_from_a_misbehaving_cpo_keeps_only_what_is_valid() {
    let bad = bad_cpo().await;
    let emsp = emsp(Duration::ZERO).await;
    let emsp_op = operator(&emsp);
    let created = emsp_op
        .send(
            Method::POST,
            "/ocpi/partners",
            Some(json!({"name": "Bad CPO", "parties": ["NL*EMS"]})),
        )
        .await;
    let id = created["partner"]["id"].as_i64().unwrap();
    let registering = Utc::now();
    emsp_op
        .send(
            Method::POST,
            &format!("/ocpi/partners/{id}/register"),
            Some(json!({"versionsUrl": bad.versions_url, "token": "any-token-a-0123456789"})),
        )
        .await;
    let done = emsp_op
        .until(&format!("/ocpi/partners/{id}/sync"), |v| {
            v["running"] == false
                && v["modules"]
                    .as_array()
                    .is_some_and(|m| m.iter().any(|m| at(&m["syncedAt"]) > registering))
        })
        .await;
    let marked: Vec<&str> = done["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["module"].as_str().unwrap())
        .collect();
    assert_eq!(marked, ["cdrs"], "{done}");
    assert_eq!(module(&done, "cdrs")["objects"], 2);
    assert_eq!(module(&done, "cdrs")["stored"], 1);
    assert_eq!(ids(&received(&emsp_op, id, "locations").await), ["GOOD"]);
    assert_eq!(ids(&received(&emsp_op, id, "cdrs").await), ["CDR-1"]);
    assert!(received(&emsp_op, id, "tariffs").await.is_empty());
    assert!(received(&emsp_op, id, "sessions").await.is_empty());
    assert_eq!(
        bad.stolen.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a Link to another host is never followed"
    );
}
