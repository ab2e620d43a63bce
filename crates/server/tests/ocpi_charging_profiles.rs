//! OCPI ChargingProfiles (2.2.1 / 2.3.0), over real HTTP, with a station played by the
//! simulator over a real WebSocket.
//!
//! * CPO Receiver: an eMSP peer (tests/ocpi_common) sets, reads and clears the profile of its
//!   running session; the station receives the TxProfile with the peer's limits and unit,
//!   answers the composite schedule whose values come back in the ActiveChargingProfileResult,
//!   and the results arrive at the peer's response_url. Another party's session is
//!   UNKNOWN_SESSION; an ended session or an offline station is REJECTED.
//! * eMSP Sender: two unicharge instances (CPO with the station, eMSP) — the eMSP's operator
//!   sets, reads and clears a profile for the session the CPO pushed it, and reads the stored
//!   results back; a CPO's ActiveChargingProfile update is stored for the session it pushed.

#[path = "common/mod.rs"]
mod common;
#[path = "ocpi_common/mod.rs"]
mod ocpi_common;
#[path = "ocpp16_common/mod.rs"]
mod ocpp16_common;

use std::time::Duration;

use chrono::Utc;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use unicharge_ocpi_server::settings::PartySettings;
use unicharge_ocpp::v201::{
    ChargingProfileKindEnumType, ChargingProfilePurposeEnumType, ChargingProfileStatusEnumType,
    ChargingRateUnitEnumType, ChargingSchedulePeriodType, ClearChargingProfileRequest,
    ClearChargingProfileResponse, ClearChargingProfileStatusEnumType, CompositeScheduleType,
    EvseType, GenericStatusEnumType, GetCompositeScheduleRequest, GetCompositeScheduleResponse,
    IdTokenEnumType, IdTokenType, SetChargingProfileRequest, SetChargingProfileResponse,
    TransactionEventEnumType, TriggerReasonEnumType,
};
use unicharge_sim::octt::states;
use unicharge_sim::Station;

use common::payloads::transaction_event as event;
use common::{StationSpec, TestCsms};
use ocpi_common::{Operator, Peer};

const CP: &str = "CP-PROFILES-1";

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// A JSON number as an exact decimal.
fn num(v: &Value) -> Decimal {
    v.to_string().parse().unwrap()
}

/// A station's Accepted composite schedule in A on EVSE 1.
fn composite(start: &str, duration: i64, periods: &[(i64, &str)]) -> GetCompositeScheduleResponse {
    GetCompositeScheduleResponse {
        custom_data: None,
        status: GenericStatusEnumType::Accepted,
        status_info: None,
        schedule: Some(CompositeScheduleType {
            custom_data: None,
            charging_schedule_period: periods
                .iter()
                .map(|(s, l)| ChargingSchedulePeriodType {
                    custom_data: None,
                    start_period: *s,
                    limit: dec(l),
                    number_phases: None,
                    phase_to_use: None,
                })
                .collect(),
            evse_id: 1,
            duration,
            schedule_start: start.parse().unwrap(),
            charging_rate_unit: ChargingRateUnitEnumType::A,
        }),
    }
}

/// A CPO platform (party NL*CPO) with station CP at NL*CPO/LOC1.
async fn cpo() -> (TestCsms, Operator) {
    let csms = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        s.ocpi.push_retry_initial = Duration::from_millis(20);
        s.ocpi.push_retry_max = Duration::from_millis(100);
        s.ocpi.parties = vec![PartySettings::cpo("NL", "CPO", "Unicharge CPO")];
    })
    .await;
    let operator = Operator::new(
        csms.server.http_addr.unwrap(),
        csms.server.initial_admin_key.as_ref().unwrap(),
    );
    operator.location("NL*CPO", "LOC1", &[CP]).await;
    (csms, operator)
}

/// The station starts transaction `tx` on EVSE 1 with token `uid`.
async fn start_transaction(station: &mut Station, tx: &str, uid: &str) {
    let mut first = event(
        tx,
        0,
        TransactionEventEnumType::Started,
        TriggerReasonEnumType::Authorized,
        Utc::now(),
        unicharge_ocpp::v201::ChargingStateEnumType::Charging,
    );
    first.id_token = Some(IdTokenType {
        custom_data: None,
        additional_info: None,
        id_token: uid.into(),
        r#type: IdTokenEnumType::Iso14443,
    });
    first.evse = Some(EvseType {
        custom_data: None,
        id: 1,
        connector_id: Some(1),
    });
    station.call(&first).await.unwrap();
}

async fn end_transaction(station: &mut Station, tx: &str, seq_no: i64) {
    station
        .call(&event(
            tx,
            seq_no,
            TransactionEventEnumType::Ended,
            TriggerReasonEnumType::EvDeparted,
            Utc::now(),
            unicharge_ocpp::v201::ChargingStateEnumType::Idle,
        ))
        .await
        .unwrap();
}

/// The peer's token, pushed to the CPO's Tokens Receiver.
async fn push_token(peer: &Peer, uid: &str) {
    let tokens = peer.endpoint("tokens");
    let (code, _, put) = peer
        .call(
            Method::PUT,
            &format!(
                "{tokens}/{}/{}/{uid}?type=RFID",
                peer.country_code, peer.party_id
            ),
            Some(json!({
                "country_code": peer.country_code, "party_id": peer.party_id, "uid": uid,
                "type": "RFID", "contract_id": format!("NL-{}-C00000001-X", peer.party_id),
                "issuer": "Peer eMSP", "valid": true, "whitelist": "ALWAYS",
                "last_updated": "2026-12-06T10:00:00Z",
            })),
        )
        .await;
    assert_eq!(
        (code, put["status_code"].as_i64()),
        (200, Some(1000)),
        "{put}"
    );
}

/// The id of the peer's only session with status `status`.
async fn session_id(peer: &Peer, status: &str) -> String {
    let sessions = peer.endpoint("sessions");
    let (_, _, list) = peer
        .call(
            Method::GET,
            &format!("{sessions}?date_from=2020-01-01T00:00:00Z"),
            None,
        )
        .await;
    let found: Vec<&Value> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == status)
        .collect();
    assert_eq!(found.len(), 1, "{list}");
    found[0]["id"].as_str().unwrap().to_string()
}

/// The ChargingProfileResponse `result` of a call, checking the envelope.
fn response_result(code: u16, body: &Value) -> String {
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status_code"], 1000, "{body}");
    assert_eq!(body["data"]["timeout"], 30, "the command timeout: {body}");
    body["data"]["result"].as_str().unwrap().to_string()
}

/// B7.2 (an SCSP — to the CPO an eMSP-like partner — influences an ongoing session): PUT of a
/// ChargingProfile in A reaches the station as a TxProfile of the session's transaction with
/// the same periods, limits and unit; GET returns the station's composite schedule values in
/// the ActiveChargingProfileResult; DELETE clears exactly the profile the PUT set. Every result
/// arrives at the peer's response_url. Version details list the module (2.3.0 here; 2.2.1 in
/// the isolation test).
#[tokio::test]
async fn b7_2_charging_profile_set_read_cleared_at_the_station() {
    let (csms, operator) = cpo().await;
    let (token_a, versions_url, _) = operator.partner("Peer eMSP", &["NL*CPO"]).await;
    let mut peer = Peer::start("NL", "EMA").await;
    peer.register(&versions_url, &token_a, "2.3.0").await;
    let module = peer
        .endpoints
        .iter()
        .find(|e| e["identifier"] == "chargingprofiles")
        .cloned()
        .expect("chargingprofiles in the 2.3.0 version details");
    assert_eq!(module["role"], "RECEIVER");
    let profiles = peer.endpoint("chargingprofiles");
    push_token(&peer, "04AA00BB11").await;

    let target = csms.target(CP, 1);
    let mut station: Station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    start_transaction(&mut station, "TX-CP-1", "04AA00BB11").await;
    let session = session_id(&peer, "ACTIVE").await;

    // PUT: 16 A, then 8.5 A after 30 minutes, for two hours.
    let (code, _, answer) = peer
        .call(
            Method::PUT,
            &format!("{profiles}/{session}"),
            Some(json!({
                "charging_profile": {
                    "charging_rate_unit": "A", "duration": 7200, "min_charging_rate": 6.0,
                    "charging_profile_period": [
                        {"start_period": 0, "limit": 16.0},
                        {"start_period": 1800, "limit": 8.5},
                    ],
                },
                "response_url": peer.response_url("set-1"),
            })),
        )
        .await;
    assert_eq!(response_result(code, &answer), "ACCEPTED");
    // The same again at once: TOO_OFTEN (ocpi.charging_profile_min_interval, 5 s by default);
    // it does not reach the station (the next CALL is the first PUT's).
    let (code, _, again) = peer
        .call(
            Method::PUT,
            &format!("{profiles}/{session}"),
            Some(json!({
                "charging_profile": {"charging_rate_unit": "A",
                    "charging_profile_period": [{"start_period": 0, "limit": 6}]},
                "response_url": peer.response_url("set-again"),
            })),
        )
        .await;
    assert_eq!(response_result(code, &again), "TOO_OFTEN");
    let (call_id, set) = station
        .expect_call::<SetChargingProfileRequest>()
        .await
        .unwrap();
    assert_eq!(set.evse_id, 1);
    let p = &set.charging_profile;
    assert_eq!(
        p.charging_profile_purpose,
        ChargingProfilePurposeEnumType::TxProfile
    );
    assert_eq!(
        p.charging_profile_kind,
        ChargingProfileKindEnumType::Relative
    );
    assert_eq!(p.transaction_id.as_deref(), Some("TX-CP-1"));
    assert_eq!(
        p.stack_level, 0,
        "the operator's own TxProfiles keep precedence"
    );
    let schedule = &p.charging_schedule[0];
    assert_eq!(schedule.charging_rate_unit, ChargingRateUnitEnumType::A);
    assert_eq!(schedule.duration, Some(7200));
    assert_eq!(schedule.min_charging_rate, Some(dec("6.0")));
    let periods: Vec<(i64, Decimal)> = schedule
        .charging_schedule_period
        .iter()
        .map(|q| (q.start_period, q.limit))
        .collect();
    assert_eq!(periods, [(0, dec("16")), (1800, dec("8.5"))]);
    let profile_id = p.id;
    station
        .respond::<SetChargingProfileRequest>(
            &call_id,
            &SetChargingProfileResponse {
                custom_data: None,
                status: ChargingProfileStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await
        .unwrap();
    let result = peer.next_result().await;
    assert_eq!(result.path, "set-1");
    assert_eq!(result.body, json!({"result": "ACCEPTED"}));

    // A local limit changes the rate (ChargingRateChanged): the CPO reads the composite
    // schedule and PUTs it to the peer's Sender interface as the session's ActiveChargingProfile.
    let mut changed = event(
        "TX-CP-1",
        1,
        TransactionEventEnumType::Updated,
        TriggerReasonEnumType::ChargingRateChanged,
        Utc::now(),
        unicharge_ocpp::v201::ChargingStateEnumType::Charging,
    );
    changed.transaction_info.charging_state = None;
    station.call(&changed).await.unwrap();
    let (call_id, get) = station
        .expect_call::<GetCompositeScheduleRequest>()
        .await
        .unwrap();
    assert_eq!((get.evse_id, get.duration), (1, 3600));
    station
        .respond::<GetCompositeScheduleRequest>(
            &call_id,
            &composite("2026-12-07T04:00:00Z", 3600, &[(0, "6.5")]),
        )
        .await
        .unwrap();
    let (_, update) = peer.next_push(|p| p.module == "chargingprofiles").await;
    assert_eq!(update.method, "PUT");
    assert_eq!(update.path, format!("/{session}"));
    assert_eq!(update.body["start_date_time"], "2026-12-07T04:00:00Z");
    assert_eq!(
        num(&update.body["charging_profile"]["charging_profile_period"][0]["limit"]),
        dec("6.5"),
        "{}",
        update.body
    );

    // GET: the station's composite schedule (11 A, then 7.5 A after 10 minutes).
    let (code, _, answer) = peer
        .call(
            Method::GET,
            &format!(
                "{profiles}/{session}?duration=900&response_url={}",
                peer.response_url("get-1")
            ),
            None,
        )
        .await;
    assert_eq!(response_result(code, &answer), "ACCEPTED");
    let (call_id, get) = station
        .expect_call::<GetCompositeScheduleRequest>()
        .await
        .unwrap();
    assert_eq!((get.evse_id, get.duration), (1, 900));
    let start = "2026-12-07T05:00:00Z".parse().unwrap();
    let period = |s: i64, l: &str| ChargingSchedulePeriodType {
        custom_data: None,
        start_period: s,
        limit: dec(l),
        number_phases: None,
        phase_to_use: None,
    };
    station
        .respond::<GetCompositeScheduleRequest>(
            &call_id,
            &GetCompositeScheduleResponse {
                custom_data: None,
                status: GenericStatusEnumType::Accepted,
                status_info: None,
                schedule: Some(CompositeScheduleType {
                    custom_data: None,
                    charging_schedule_period: vec![period(0, "11"), period(600, "7.5")],
                    evse_id: 1,
                    duration: 900,
                    schedule_start: start,
                    charging_rate_unit: ChargingRateUnitEnumType::A,
                }),
            },
        )
        .await
        .unwrap();
    let result = peer.next_result().await;
    assert_eq!(result.path, "get-1");
    assert_eq!(result.body["result"], "ACCEPTED", "{}", result.body);
    let active = &result.body["profile"];
    assert_eq!(active["start_date_time"], "2026-12-07T05:00:00Z");
    assert_eq!(active["charging_profile"]["charging_rate_unit"], "A");
    assert_eq!(active["charging_profile"]["duration"], 900);
    let got: Vec<(i64, Decimal)> = active["charging_profile"]["charging_profile_period"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (q["start_period"].as_i64().unwrap(), num(&q["limit"])))
        .collect();
    assert_eq!(got, [(0, dec("11")), (600, dec("7.5"))]);

    // DELETE: the profile the PUT set, by its id.
    let (code, _, answer) = peer
        .call(
            Method::DELETE,
            &format!(
                "{profiles}/{session}?response_url={}",
                peer.response_url("clear-1")
            ),
            None,
        )
        .await;
    assert_eq!(response_result(code, &answer), "ACCEPTED");
    let (call_id, clear) = station
        .expect_call::<ClearChargingProfileRequest>()
        .await
        .unwrap();
    assert_eq!(clear.charging_profile_id, Some(profile_id));
    station
        .respond::<ClearChargingProfileRequest>(
            &call_id,
            &ClearChargingProfileResponse {
                custom_data: None,
                status: ClearChargingProfileStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await
        .unwrap();
    let result = peer.next_result().await;
    assert_eq!(result.path, "clear-1");
    assert_eq!(result.body, json!({"result": "ACCEPTED"}));

    // The CSMS keeps what it sent: the roaming TxProfile, cleared.
    let held = operator
        .send(
            Method::GET,
            &format!("/stations/{CP}/charging-profiles"),
            None,
        )
        .await;
    assert!(
        held["profiles"].as_array().unwrap().is_empty(),
        "cleared: {held}"
    );
    station.close().await;
}

/// Isolation and refusals (2.2.1): another party's session is UNKNOWN_SESSION for GET, PUT and
/// DELETE (it does not exist for that partner), as is an id nobody has; missing parameters are
/// 2001; an ended session and a session on an offline station are REJECTED. None of these
/// reaches the station.
#[tokio::test]
async fn charging_profiles_unknown_session_for_another_partys_session_rejected_when_ended_or_offline(
) {
    let (csms, operator) = cpo().await;
    let (token_a, versions_url, _) = operator.partner("Peer eMSP A", &["NL*CPO"]).await;
    let mut owner = Peer::start("NL", "EMA").await;
    owner.register(&versions_url, &token_a, "2.2.1").await;
    let (token_a, versions_url, _) = operator.partner("Peer eMSP B", &["NL*CPO"]).await;
    let mut other = Peer::start("DE", "EMB").await;
    other.register(&versions_url, &token_a, "2.2.1").await;
    assert_eq!(
        other
            .endpoints
            .iter()
            .find(|e| e["identifier"] == "chargingprofiles")
            .map(|e| e["role"].clone()),
        Some(json!("RECEIVER")),
        "chargingprofiles in the 2.2.1 version details"
    );
    push_token(&owner, "04AA00BB22").await;
    let target = csms.target(CP, 1);
    let mut station: Station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    start_transaction(&mut station, "TX-CP-2", "04AA00BB22").await;
    let session = session_id(&owner, "ACTIVE").await;

    let set = |peer: &Peer, id: &str| {
        json!({
            "charging_profile": {"charging_rate_unit": "W",
                "charging_profile_period": [{"start_period": 0, "limit": 7400}]},
            "response_url": peer.response_url(id),
        })
    };
    let profiles = other.endpoint("chargingprofiles");
    for id in [session.as_str(), "NO-SUCH-SESSION"] {
        let (code, _, put) = other
            .call(
                Method::PUT,
                &format!("{profiles}/{id}"),
                Some(set(&other, "x")),
            )
            .await;
        assert_eq!(response_result(code, &put), "UNKNOWN_SESSION", "{id}");
        let (code, _, get) = other
            .call(
                Method::GET,
                &format!(
                    "{profiles}/{id}?duration=60&response_url={}",
                    other.response_url("y")
                ),
                None,
            )
            .await;
        assert_eq!(response_result(code, &get), "UNKNOWN_SESSION", "{id}");
        let (code, _, delete) = other
            .call(
                Method::DELETE,
                &format!("{profiles}/{id}?response_url={}", other.response_url("z")),
                None,
            )
            .await;
        assert_eq!(response_result(code, &delete), "UNKNOWN_SESSION", "{id}");
    }
    // Missing parameters: 2001.
    let profiles = owner.endpoint("chargingprofiles");
    let (_, _, no_url) = owner
        .call(
            Method::GET,
            &format!("{profiles}/{session}?duration=60"),
            None,
        )
        .await;
    assert_eq!(no_url["status_code"], 2001, "{no_url}");
    let (_, _, no_duration) = owner
        .call(
            Method::GET,
            &format!(
                "{profiles}/{session}?response_url={}",
                owner.response_url("g")
            ),
            None,
        )
        .await;
    assert_eq!(no_duration["status_code"], 2001, "{no_duration}");
    let (_, _, bad_body) = owner
        .call(
            Method::PUT,
            &format!("{profiles}/{session}"),
            Some(json!({"charging_profile": {}})),
        )
        .await;
    assert_eq!(bad_body["status_code"], 2001, "{bad_body}");

    // Ended: REJECTED.
    end_transaction(&mut station, "TX-CP-2", 1).await;
    let ended = session_id(&owner, "COMPLETED").await;
    assert_eq!(ended, session);
    let (code, _, put) = owner
        .call(
            Method::PUT,
            &format!("{profiles}/{session}"),
            Some(set(&owner, "ended")),
        )
        .await;
    assert_eq!(response_result(code, &put), "REJECTED");

    // A running session on a station that went offline: REJECTED.
    start_transaction(&mut station, "TX-CP-3", "04AA00BB22").await;
    let running = session_id(&owner, "ACTIVE").await;
    station.close().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while operator
        .send(Method::GET, &format!("/stations/{CP}"), None)
        .await["connected"]
        == true
    {
        assert!(std::time::Instant::now() < deadline, "station still online");
        tokio::task::yield_now().await;
    }
    let (code, _, put) = owner
        .call(
            Method::PUT,
            &format!("{profiles}/{running}"),
            Some(set(&owner, "offline")),
        )
        .await;
    assert_eq!(response_result(code, &put), "REJECTED");
    // Nothing was sent to the station for any of these.
    let held = operator
        .send(
            Method::GET,
            &format!("/stations/{CP}/charging-profiles"),
            None,
        )
        .await;
    assert!(held["profiles"].as_array().unwrap().is_empty(), "{held}");
}

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

/// B7.1 (the MSP influences its driver's charging) between two unicharge instances: the eMSP
/// registers with the CPO, its driver's token starts a session at the CPO's station, the CPO
/// pushes the session; the eMSP's operator sets a profile in W with an absolute start (the
/// station receives exactly those limits, unit and start), asks for the active profile (the
/// station's composite schedule values are stored at the eMSP and read back) and clears it
/// (the station answers Unknown: the result is UNKNOWN). The requests are listed apart from
/// OCPI commands; a session the CPO never pushed is 404 at the eMSP's operator API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b7_1_emsp_sets_reads_clears_profile_through_the_cpo_instance() {
    let (cpo_csms, cpo_op) = cpo().await;
    let (_emsp_csms, emsp_op) = emsp().await;
    let cpo_at_emsp = ocpi_common::register_emsp(&cpo_op, &emsp_op)
        .await
        .cpo_at_emsp;
    emsp_op
        .send(
            Method::PUT,
            "/ocpi/tokens/NL*EMS/04EE00FF11",
            Some(json!({
                "country_code": "NL", "party_id": "EMS", "uid": "04EE00FF11", "type": "RFID",
                "contract_id": "NL-EMS-C00000011-X", "issuer": "Unicharge eMSP", "valid": true,
                "whitelist": "ALWAYS", "last_updated": "2026-12-06T09:00:00Z",
            })),
        )
        .await;
    cpo_op
        .until("/tokens", |t| t.to_string().contains("04EE00FF11"))
        .await;

    let target = cpo_csms.target(CP, 1);
    let mut station: Station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    start_transaction(&mut station, "TX-CP-7", "04EE00FF11").await;
    let sessions = emsp_op
        .until(
            &format!("/ocpi/partners/{cpo_at_emsp}/received/sessions"),
            |s| s.as_array().is_some_and(|s| !s.is_empty()),
        )
        .await;
    let session = sessions[0]["id"].as_str().unwrap().to_string();
    let path = format!("/ocpi/partners/{cpo_at_emsp}/sessions/{session}/charging-profile");
    let list = format!("/ocpi/partners/{cpo_at_emsp}/charging-profiles");

    // Set: 11 kW from 18:00, 3.6805 kW an hour later.
    let sent = emsp_op
        .send(
            Method::PUT,
            &path,
            Some(json!({"chargingProfile": {
                "start_date_time": "2026-12-07T18:00:00Z", "charging_rate_unit": "W",
                "charging_profile_period": [
                    {"start_period": 0, "limit": 11000},
                    {"start_period": 3600, "limit": 3680.5},
                ],
            }})),
        )
        .await;
    assert_eq!(sent["request"], "SET_CHARGING_PROFILE");
    assert_eq!(sent["response"], "ACCEPTED", "{sent}");
    assert_eq!(sent["sessionId"], session.as_str());
    let (call_id, set) = station
        .expect_call::<SetChargingProfileRequest>()
        .await
        .unwrap();
    let p = &set.charging_profile;
    assert_eq!(p.transaction_id.as_deref(), Some("TX-CP-7"));
    assert_eq!(
        p.charging_profile_kind,
        ChargingProfileKindEnumType::Absolute
    );
    let schedule = &p.charging_schedule[0];
    assert_eq!(
        schedule.start_schedule,
        Some("2026-12-07T18:00:00Z".parse().unwrap())
    );
    assert_eq!(schedule.charging_rate_unit, ChargingRateUnitEnumType::W);
    let periods: Vec<(i64, Decimal)> = schedule
        .charging_schedule_period
        .iter()
        .map(|q| (q.start_period, q.limit))
        .collect();
    assert_eq!(periods, [(0, dec("11000")), (3600, dec("3680.5"))]);
    station
        .respond::<SetChargingProfileRequest>(
            &call_id,
            &SetChargingProfileResponse {
                custom_data: None,
                status: ChargingProfileStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await
        .unwrap();
    let id = sent["id"].as_str().unwrap().to_string();
    let requests = emsp_op
        .until(&list, |l| {
            l[0]["id"] == id.as_str() && l[0]["result"].is_string()
        })
        .await;
    assert_eq!(requests[0]["result"], "ACCEPTED", "{requests}");

    // The station reports a rate change: the CPO instance PUTs the new ActiveChargingProfile
    // to the eMSP instance, which keeps it for the session.
    let mut changed = event(
        "TX-CP-7",
        1,
        TransactionEventEnumType::Updated,
        TriggerReasonEnumType::ChargingRateChanged,
        Utc::now(),
        unicharge_ocpp::v201::ChargingStateEnumType::Charging,
    );
    changed.transaction_info.charging_state = None;
    station.call(&changed).await.unwrap();
    let (call_id, _) = station
        .expect_call::<GetCompositeScheduleRequest>()
        .await
        .unwrap();
    station
        .respond::<GetCompositeScheduleRequest>(
            &call_id,
            &composite("2026-12-07T18:10:00Z", 3600, &[(0, "12.5")]),
        )
        .await
        .unwrap();
    let updates = emsp_op
        .until(
            &format!("/ocpi/partners/{cpo_at_emsp}/received/chargingprofiles"),
            |u| u.as_array().is_some_and(|u| !u.is_empty()),
        )
        .await;
    assert_eq!(updates[0]["id"], session.as_str());
    assert_eq!(updates[0]["party"], "NL*CPO");
    assert_eq!(
        num(&updates[0]["object"]["charging_profile"]["charging_profile_period"][0]["limit"]),
        dec("12.5")
    );

    // The active profile.
    let asked = emsp_op
        .send(
            Method::POST,
            &format!("{path}/active"),
            Some(json!({"duration": 600})),
        )
        .await;
    assert_eq!(asked["response"], "ACCEPTED", "{asked}");
    let (call_id, get) = station
        .expect_call::<GetCompositeScheduleRequest>()
        .await
        .unwrap();
    assert_eq!(get.duration, 600);
    station
        .respond::<GetCompositeScheduleRequest>(
            &call_id,
            &GetCompositeScheduleResponse {
                custom_data: None,
                status: GenericStatusEnumType::Accepted,
                status_info: None,
                schedule: Some(CompositeScheduleType {
                    custom_data: None,
                    charging_schedule_period: vec![ChargingSchedulePeriodType {
                        custom_data: None,
                        start_period: 0,
                        limit: dec("9200.5"),
                        number_phases: None,
                        phase_to_use: None,
                    }],
                    evse_id: 1,
                    duration: 600,
                    schedule_start: "2026-12-07T18:00:00Z".parse().unwrap(),
                    charging_rate_unit: ChargingRateUnitEnumType::W,
                }),
            },
        )
        .await
        .unwrap();
    let asked_id = asked["id"].as_str().unwrap().to_string();
    let requests = emsp_op
        .until(&list, |l| {
            l[0]["id"] == asked_id.as_str() && l[0]["result"].is_string()
        })
        .await;
    let read = &requests[0];
    assert_eq!(read["request"], "GET_ACTIVE_CHARGING_PROFILE");
    assert_eq!(read["result"], "ACCEPTED");
    let active = &read["activeProfile"];
    assert_eq!(active["start_date_time"], "2026-12-07T18:00:00Z");
    assert_eq!(active["charging_profile"]["charging_rate_unit"], "W");
    assert_eq!(
        num(&active["charging_profile"]["charging_profile_period"][0]["limit"]),
        dec("9200.5"),
        "{active}"
    );

    // Clear: the station no longer holds it.
    let cleared = emsp_op
        .client
        .delete(format!("{}{path}", emsp_op.base))
        .bearer_auth(&emsp_op.key)
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 200);
    let cleared: Value = cleared.json().await.unwrap();
    assert_eq!(cleared["response"], "ACCEPTED", "{cleared}");
    let (call_id, clear) = station
        .expect_call::<ClearChargingProfileRequest>()
        .await
        .unwrap();
    assert_eq!(clear.charging_profile_id, Some(p.id));
    station
        .respond::<ClearChargingProfileRequest>(
            &call_id,
            &ClearChargingProfileResponse {
                custom_data: None,
                status: ClearChargingProfileStatusEnumType::Unknown,
                status_info: None,
            },
        )
        .await
        .unwrap();
    let cleared_id = cleared["id"].as_str().unwrap().to_string();
    let requests = emsp_op
        .until(&list, |l| {
            l[0]["id"] == cleared_id.as_str() && l[0]["result"].is_string()
        })
        .await;
    assert_eq!(requests[0]["result"], "UNKNOWN", "{requests}");
    assert_eq!(requests.as_array().unwrap().len(), 3);
    // Not OCPI commands.
    let commands = emsp_op
        .send(
            Method::GET,
            &format!("/ocpi/partners/{cpo_at_emsp}/commands"),
            None,
        )
        .await;
    assert_eq!(commands, json!([]));
    // A session this CPO never pushed.
    let unknown = emsp_op
        .client
        .put(format!(
            "{}/ocpi/partners/{cpo_at_emsp}/sessions/NOPE/charging-profile",
            emsp_op.base
        ))
        .bearer_auth(&emsp_op.key)
        .json(&json!({"chargingProfile": {"charging_rate_unit": "A",
            "charging_profile_period": [{"start_period": 0, "limit": 6}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    // The operator's routes are in the OpenAPI document.
    let doc = emsp_op.send(Method::GET, "/openapi.json", None).await;
    for path in [
        "/api/v1/ocpi/partners/{id}/sessions/{session_id}/charging-profile",
        "/api/v1/ocpi/partners/{id}/sessions/{session_id}/charging-profile/active",
        "/api/v1/ocpi/partners/{id}/charging-profiles",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} not documented");
    }
    station.close().await;
}

/// The eMSP's ChargingProfiles Sender interface: the CPO PUTs an updated ActiveChargingProfile
/// for a session it pushed (stored, read back by the operator with its limits); a session it
/// never pushed, or a result for a request we never sent it, is 404 / 2000.
#[tokio::test]
async fn charging_profiles_emsp_stores_active_profile_updates_from_its_cpo() {
    let (_emsp, operator) = emsp().await;
    let (token_a, versions_url, partner) = operator.partner("CPO TNM", &["NL*EMS"]).await;
    let mut peer = Peer::start("NL", "TNM").await.with_role("CPO");
    peer.register(&versions_url, &token_a, "2.2.1").await;
    let module = peer
        .endpoints
        .iter()
        .find(|e| e["identifier"] == "chargingprofiles")
        .cloned()
        .expect("chargingprofiles in the eMSP's version details");
    assert_eq!(module["role"], "SENDER");
    let profiles = peer.endpoint("chargingprofiles");
    let sessions = peer.endpoint("sessions");
    let (_, _, put) = peer
        .call(
            Method::PUT,
            &format!("{sessions}/NL/TNM/S-9"),
            Some(json!({"country_code": "NL", "party_id": "TNM", "id": "S-9",
                "start_date_time": "2026-12-06T10:00:00Z", "kwh": 1.5,
                "cdr_token": {"uid": "04A1B2C3D4", "type": "RFID", "contract_id": "NL-EMS-C1"},
                "auth_method": "WHITELIST", "location_id": "LOC1", "evse_uid": "3256",
                "connector_id": "1", "currency": "EUR", "status": "ACTIVE",
                "last_updated": "2026-12-06T10:00:00Z"})),
        )
        .await;
    assert_eq!(put["status_code"], 1000, "{put}");
    let active = json!({
        "start_date_time": "2026-12-06T10:05:00Z",
        "charging_profile": {"charging_rate_unit": "A", "duration": 1800,
            "charging_profile_period": [{"start_period": 0, "limit": 13.5}]},
    });
    let (code, _, answer) = peer
        .call(
            Method::PUT,
            &format!("{profiles}/S-9"),
            Some(active.clone()),
        )
        .await;
    assert_eq!(
        (code, answer["status_code"].as_i64()),
        (200, Some(1000)),
        "{answer}"
    );
    let stored = operator
        .send(
            Method::GET,
            &format!("/ocpi/partners/{partner}/received/chargingprofiles"),
            None,
        )
        .await;
    assert_eq!(stored[0]["id"], "S-9");
    assert_eq!(stored[0]["party"], "NL*TNM");
    let object = &stored[0]["object"];
    assert_eq!(
        num(&object["charging_profile"]["charging_profile_period"][0]["limit"]),
        dec("13.5")
    );
    assert_eq!(object["start_date_time"], "2026-12-06T10:05:00Z");
    // A session it never pushed.
    let (code, _, unknown) = peer
        .call(Method::PUT, &format!("{profiles}/S-NOPE"), Some(active))
        .await;
    assert_eq!((code, unknown["status_code"].as_i64()), (404, Some(2000)));
    // A result for a request we never sent.
    let (code, _, stray) = peer
        .call(
            Method::POST,
            &format!("{profiles}/results/never-sent"),
            Some(json!({"result": "ACCEPTED"})),
        )
        .await;
    assert_eq!((code, stray["status_code"].as_i64()), (404, Some(2000)));
}

/// An OCPP 1.6 charge point: the OCPI profile reaches it as a 1.6 SetChargingProfile (TxProfile
/// of its integer transactionId, connector 1, the peer's limits in A), the 1.6 composite
/// schedule comes back in the ActiveChargingProfileResult, and the clear is a 1.6
/// ClearChargingProfile of the same profile id. The CSMS's typed operations translate; OCPI
/// sees no difference.
#[tokio::test]
async fn charging_profiles_reach_an_ocpp16_charge_point() {
    use unicharge_ocpp::v16;
    let (csms, operator) = cpo().await;
    let (token_a, versions_url, _) = operator.partner("Peer eMSP", &["NL*CPO"]).await;
    let mut peer = Peer::start("NL", "EMA").await;
    peer.register(&versions_url, &token_a, "2.2.1").await;
    let profiles = peer.endpoint("chargingprofiles");
    push_token(&peer, "04AA00BB16").await;
    let mut station = ocpp16_common::booted16(&csms, CP).await;
    let started = station
        .call16(&ocpp16_common::start_request("04AA00BB16", 0, Utc::now()))
        .await
        .unwrap();
    assert_eq!(
        started.id_tag_info.status,
        v16::AuthorizationStatus::Accepted
    );
    let session = session_id(&peer, "ACTIVE").await;

    let (code, _, answer) = peer
        .call(
            Method::PUT,
            &format!("{profiles}/{session}"),
            Some(json!({
                "charging_profile": {"charging_rate_unit": "A", "charging_profile_period": [
                    {"start_period": 0, "limit": 20.0}, {"start_period": 900, "limit": 10.5}]},
                "response_url": peer.response_url("set-16"),
            })),
        )
        .await;
    assert_eq!(response_result(code, &answer), "ACCEPTED");
    let (call_id, set) = station
        .expect_call16::<v16::SetChargingProfileRequest>()
        .await
        .unwrap();
    assert_eq!(set.connector_id, 1);
    let p = &set.cs_charging_profiles;
    assert_eq!(p.transaction_id, Some(started.transaction_id));
    assert_eq!(
        p.charging_profile_purpose,
        v16::ChargingProfilePurposeType::TxProfile
    );
    assert_eq!(
        p.charging_schedule.charging_rate_unit,
        v16::ChargingRateUnitType::A
    );
    let periods: Vec<(i64, Decimal)> = p
        .charging_schedule
        .charging_schedule_period
        .iter()
        .map(|q| (q.start_period, q.limit))
        .collect();
    assert_eq!(periods, [(0, dec("20")), (900, dec("10.5"))]);
    let profile_id = p.charging_profile_id;
    station
        .respond16::<v16::SetChargingProfileRequest>(
            &call_id,
            &v16::SetChargingProfileResponse {
                status: v16::ChargingProfileStatus::Accepted,
            },
        )
        .await
        .unwrap();
    let result = peer.next_result().await;
    assert_eq!(
        (result.path.as_str(), &result.body),
        ("set-16", &json!({"result": "ACCEPTED"}))
    );

    let (code, _, answer) = peer
        .call(
            Method::GET,
            &format!(
                "{profiles}/{session}?duration=1200&response_url={}",
                peer.response_url("get-16")
            ),
            None,
        )
        .await;
    assert_eq!(response_result(code, &answer), "ACCEPTED");
    let (call_id, get) = station
        .expect_call16::<v16::GetCompositeScheduleRequest>()
        .await
        .unwrap();
    assert_eq!((get.connector_id, get.duration), (1, 1200));
    let start = "2026-12-07T06:00:00Z".parse().unwrap();
    station
        .respond16::<v16::GetCompositeScheduleRequest>(
            &call_id,
            &v16::GetCompositeScheduleResponse {
                status: v16::GetCompositeScheduleStatus::Accepted,
                connector_id: Some(1),
                schedule_start: Some(start),
                charging_schedule: Some(v16::ChargingSchedule {
                    duration: Some(1200),
                    start_schedule: Some(start),
                    charging_rate_unit: v16::ChargingRateUnitType::A,
                    charging_schedule_period: vec![v16::ChargingSchedulePeriod {
                        start_period: 0,
                        limit: dec("14.5"),
                        number_phases: None,
                    }],
                    min_charging_rate: None,
                }),
            },
        )
        .await
        .unwrap();
    let result = peer.next_result().await;
    assert_eq!(result.path, "get-16");
    assert_eq!(result.body["result"], "ACCEPTED", "{}", result.body);
    let active = &result.body["profile"];
    assert_eq!(active["start_date_time"], "2026-12-07T06:00:00Z");
    assert_eq!(
        num(&active["charging_profile"]["charging_profile_period"][0]["limit"]),
        dec("14.5"),
        "{active}"
    );

    let (code, _, answer) = peer
        .call(
            Method::DELETE,
            &format!(
                "{profiles}/{session}?response_url={}",
                peer.response_url("clear-16")
            ),
            None,
        )
        .await;
    assert_eq!(response_result(code, &answer), "ACCEPTED");
    let (call_id, clear) = station
        .expect_call16::<v16::ClearChargingProfileRequest>()
        .await
        .unwrap();
    assert_eq!(clear.id, Some(profile_id));
    station
        .respond16::<v16::ClearChargingProfileRequest>(
            &call_id,
            &v16::ClearChargingProfileResponse {
                status: v16::ClearChargingProfileStatus::Accepted,
            },
        )
        .await
        .unwrap();
    let result = peer.next_result().await;
    assert_eq!(
        (result.path.as_str(), &result.body),
        ("clear-16", &json!({"result": "ACCEPTED"}))
    );
}
