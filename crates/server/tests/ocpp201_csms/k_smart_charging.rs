//! Block K, Smart charging. Every case starts with the REST operator (or the station); after
//! it, the test checks what the CSMS kept, read back through the operator API: the profiles
//! the station holds with its answers, the assembled GetChargingProfiles reports, the
//! composite schedules, the external limits per EVSE and source, and the ChargingRateChanged
//! event. The CSMS's token store knows the OCTT's valid idToken.

use std::sync::Arc;

use serde_json::{json, Value};
use unicharge_core::tokens::IdTokenRecord;
use unicharge_core::StationId;
use unicharge_sim::octt;
use unicharge_store::CommandRecord;

use crate::common::{assert_pass, StationSpec, TestCsms};
use crate::rest_operator::{self, RestOperator};

const CP: &str = "CP001";
const VALID: &str = "OCTT-VALID-001";
/// <Configured chargingProfileId> of `SmartChargingConfig::octt`.
const PROFILE_ID: i64 = 100;

fn id() -> StationId {
    StationId::new(CP).unwrap()
}

async fn start() -> (TestCsms, Arc<RestOperator>) {
    let (csms, operator) = rest_operator::start(&[StationSpec::new(CP, 1)]).await;
    csms.server
        .store
        .upsert_token(&IdTokenRecord {
            id_token: VALID.into(),
            kind: "ISO14443".into(),
            status: "Accepted".into(),
            expiry: None,
            group_id_token: None,
        })
        .await
        .unwrap();
    (csms, operator)
}

/// Start a server with CP001 and the valid idToken, and play `case` with the REST operator.
async fn play(case: &str) -> (TestCsms, Arc<RestOperator>) {
    let (csms, operator) = start().await;
    assert_pass(
        case,
        octt::run(case, &csms.target(CP, 1), operator.as_operator()).await,
    );
    (csms, operator)
}

/// The logged commands of `action`, oldest first.
async fn commands(csms: &TestCsms, action: &str) -> Vec<CommandRecord> {
    let mut commands: Vec<CommandRecord> = csms
        .server
        .store
        .commands(&id(), 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.action == action)
        .collect();
    commands.reverse();
    commands
}

/// The station's profiles as the API shows them.
async fn profiles(operator: &RestOperator) -> Vec<Value> {
    let list = operator
        .get(&format!("/stations/{CP}/charging-profiles"))
        .await
        .unwrap();
    list["profiles"].as_array().cloned().unwrap_or_default()
}

/// The one profile the API shows with `id`.
async fn profile(operator: &RestOperator, id: i64) -> Value {
    let all = profiles(operator).await;
    let found: Vec<&Value> = all
        .iter()
        .filter(|p| p["chargingProfile"]["id"] == id)
        .collect();
    assert_eq!(found.len(), 1, "{all:?}");
    found[0].clone()
}

fn first_limit(profile: &Value) -> f64 {
    profile["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"]
        .as_f64()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// K01 Set charging profile
// ---------------------------------------------------------------------------------------------

/// TC_K_01_CSMS: a TxDefaultProfile on EVSE 1 is kept with the station's Accepted.
#[tokio::test]
async fn tc_k_01_csms() {
    let (_csms, operator) = play("TC_K_01_CSMS").await;
    let p = profile(&operator, PROFILE_ID).await;
    assert_eq!(p["evseId"], 1, "{p}");
    assert_eq!(p["status"], "Accepted", "{p}");
    assert_eq!(
        p["chargingProfile"]["chargingProfilePurpose"],
        "TxDefaultProfile"
    );
    assert_eq!(p["chargingProfile"]["chargingProfileKind"], "Absolute");
    assert_eq!(first_limit(&p), 6.0);
    assert!(p["answeredAt"].is_string(), "{p}");
    // The CSMS's own composite of what it holds: 6 A now, unlimited after the schedule's
    // 300 s.
    let allowed = operator
        .get(&format!("/stations/{CP}/evses/1/allowed?duration=600"))
        .await
        .unwrap();
    let periods = allowed["periods"].as_array().unwrap();
    assert_eq!(periods[0]["limit"], 6.0, "{allowed}");
    assert_eq!(periods.len(), 2, "{allowed}");
    assert!(periods[1]["limit"].is_null(), "{allowed}");
    let ends = periods[1]["startPeriod"].as_i64().unwrap();
    assert!((295..=300).contains(&ends), "{allowed}");
}

/// TC_K_02_CSMS: the TxProfile without a transaction is sent only because the operator asked
/// for it explicitly; the station's Rejected is kept. Without that flag, the API refuses it
/// and names the rule.
#[tokio::test]
async fn tc_k_02_csms() {
    let (csms, operator) = play("TC_K_02_CSMS").await;
    let p = profile(&operator, PROFILE_ID).await;
    assert_eq!(p["status"], "Rejected", "{p}");
    assert_eq!(p["chargingProfile"]["chargingProfilePurpose"], "TxProfile");
    let sent = commands(&csms, "SetChargingProfile").await.len();
    let refused = operator
        .post(
            &format!("/stations/{CP}/charging-profiles"),
            json!({"evseId": 1, "chargingProfile": p["chargingProfile"]}),
        )
        .await
        .unwrap_err();
    assert!(refused.starts_with("HTTP 400"), "{refused}");
    assert!(
        refused.contains("tx_profile_without_transaction"),
        "{refused}"
    );
    assert!(refused.contains("K01.FR.03"), "{refused}");
    assert_eq!(commands(&csms, "SetChargingProfile").await.len(), sent);
}

/// TC_K_03_CSMS: a ChargingStationMaxProfile on evseId 0. The same profile for an EVSE is
/// refused before sending (K01.FR.38).
#[tokio::test]
async fn tc_k_03_csms() {
    let (_csms, operator) = play("TC_K_03_CSMS").await;
    let p = profile(&operator, PROFILE_ID).await;
    assert_eq!(p["evseId"], 0, "{p}");
    assert_eq!(p["status"], "Accepted", "{p}");
    assert_eq!(first_limit(&p), 8.0);
    let refused = operator
        .post(
            &format!("/stations/{CP}/charging-profiles"),
            json!({"evseId": 1, "chargingProfile": p["chargingProfile"]}),
        )
        .await
        .unwrap_err();
    assert!(
        refused.contains("station_max_profile_not_on_station") && refused.contains("K01.FR.38"),
        "{refused}"
    );
}

/// TC_K_04_CSMS: the second profile with the same id replaces the first: one profile, limit 6.
#[tokio::test]
async fn tc_k_04_csms() {
    let (csms, operator) = play("TC_K_04_CSMS").await;
    assert_eq!(commands(&csms, "SetChargingProfile").await.len(), 2);
    let all = profiles(&operator).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(first_limit(&all[0]), 6.0);
    assert_eq!(all[0]["status"], "Accepted");
}

/// TC_K_10_CSMS: a TxDefaultProfile for every EVSE (evseId 0).
#[tokio::test]
async fn tc_k_10_csms() {
    let (_csms, operator) = play("TC_K_10_CSMS").await;
    let p = profile(&operator, PROFILE_ID).await;
    assert_eq!(
        (p["evseId"].clone(), p["status"].clone()),
        (json!(0), json!("Accepted"))
    );
    assert_eq!(
        p["chargingProfile"]["chargingProfilePurpose"],
        "TxDefaultProfile"
    );
}

/// TC_K_15_CSMS: the station answers CALLERROR NotSupported: the profile is kept as not held
/// (`call_error`), the command log says why.
#[tokio::test]
async fn tc_k_15_csms() {
    let (csms, operator) = play("TC_K_15_CSMS").await;
    let p = profile(&operator, PROFILE_ID).await;
    assert_eq!(p["status"], "call_error", "{p}");
    let logged = commands(&csms, "SetChargingProfile").await;
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].outcome, "call_error", "{:?}", logged[0]);
}

/// TC_K_19_CSMS: a Recurring Daily profile.
#[tokio::test]
async fn tc_k_19_csms() {
    let (_csms, operator) = play("TC_K_19_CSMS").await;
    let p = profile(&operator, PROFILE_ID).await;
    assert_eq!(p["chargingProfile"]["chargingProfileKind"], "Recurring");
    assert_eq!(p["chargingProfile"]["recurrencyKind"], "Daily");
    assert_eq!(p["status"], "Accepted");
}

/// TC_K_60_CSMS: a TxProfile for the ongoing transaction, kept with its transactionId.
#[tokio::test]
async fn tc_k_60_csms() {
    let (csms, operator) = play("TC_K_60_CSMS").await;
    let transactions = csms.server.store.transactions(&id(), 10).await.unwrap();
    assert_eq!(transactions.len(), 1);
    let p = profile(&operator, PROFILE_ID).await;
    assert_eq!(p["status"], "Accepted", "{p}");
    assert_eq!(
        p["chargingProfile"]["transactionId"],
        json!(transactions[0].transaction_id)
    );
    // A TxProfile naming another transaction is refused.
    let mut other = p["chargingProfile"].clone();
    other["transactionId"] = json!("not-a-transaction");
    other["id"] = json!(PROFILE_ID + 1);
    let refused = operator
        .post(
            &format!("/stations/{CP}/charging-profiles"),
            json!({"evseId": 1, "chargingProfile": other}),
        )
        .await
        .unwrap_err();
    assert!(refused.contains("unknown_transaction"), "{refused}");
}

/// TC_K_70_CSMS: two profiles, different ids and stack levels, both held.
#[tokio::test]
async fn tc_k_70_csms() {
    let (_csms, operator) = play("TC_K_70_CSMS").await;
    let all = profiles(&operator).await;
    let mut held: Vec<(i64, i64)> = all
        .iter()
        .map(|p| {
            (
                p["chargingProfile"]["id"].as_i64().unwrap(),
                p["chargingProfile"]["stackLevel"].as_i64().unwrap(),
            )
        })
        .collect();
    held.sort();
    assert_eq!(held, vec![(PROFILE_ID, 0), (PROFILE_ID + 1, 1)]);
    // A third of the same purpose and stack level on the same EVSE would be ambiguous.
    let mut third = all[0]["chargingProfile"].clone();
    third["id"] = json!(PROFILE_ID + 2);
    let refused = operator
        .post(
            &format!("/stations/{CP}/charging-profiles"),
            json!({"evseId": 1, "chargingProfile": third}),
        )
        .await
        .unwrap_err();
    assert!(
        refused.contains("same_purpose_and_stack_level"),
        "{refused}"
    );
}

// ---------------------------------------------------------------------------------------------
// K10 Clear charging profile
// ---------------------------------------------------------------------------------------------

/// The station's one answer to ClearChargingProfile and the request.
async fn cleared(csms: &TestCsms) -> (Value, Value) {
    let logged = commands(csms, "ClearChargingProfile").await;
    assert_eq!(logged.len(), 1, "{logged:?}");
    let request = serde_json::from_str(&logged[0].request).unwrap();
    let response = serde_json::from_str(logged[0].response.as_deref().unwrap()).unwrap();
    (request, response)
}

/// TC_K_05_CSMS: the id learnt from the report is cleared.
#[tokio::test]
async fn tc_k_05_csms() {
    let (csms, operator) = play("TC_K_05_CSMS").await;
    let report = operator
        .get(&format!("/stations/{CP}/charging-profiles/reports/1"))
        .await
        .unwrap();
    assert_eq!(
        report["parts"][0]["chargingProfile"][0]["id"], 4242,
        "{report}"
    );
    let (request, response) = cleared(&csms).await;
    assert_eq!(request, json!({"chargingProfileId": 4242}));
    assert_eq!(response["status"], "Accepted");
}

/// TC_K_06_CSMS: cleared by purpose, stack level and EVSE.
#[tokio::test]
async fn tc_k_06_csms() {
    let (csms, _operator) = play("TC_K_06_CSMS").await;
    let (request, response) = cleared(&csms).await;
    assert_eq!(
        request,
        json!({"chargingProfileCriteria": {
            "evseId": 1, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 0}})
    );
    assert_eq!(response["status"], "Accepted");
}

/// TC_K_08_CSMS: the station holds none: Unknown.
#[tokio::test]
async fn tc_k_08_csms() {
    let (csms, _operator) = play("TC_K_08_CSMS").await;
    let (_, response) = cleared(&csms).await;
    assert_eq!(response["status"], "Unknown");
}

/// After a clear the station accepted, the profiles it matched are no longer shown as held
/// (K10 by criteria): set two, clear one by purpose and stack level.
#[tokio::test]
async fn k10_accepted_clear_removes_the_matching_profiles() {
    let (csms, operator) = play("TC_K_70_CSMS").await;
    let all = profiles(&operator).await;
    assert_eq!(all.len(), 2);
    // Play TC_K_06 on the same server: it clears TxDefaultProfile at stack level 0 on EVSE 1.
    assert_pass(
        "TC_K_06_CSMS",
        octt::run("TC_K_06_CSMS", &csms.target(CP, 1), operator.as_operator()).await,
    );
    let left = profiles(&operator).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["chargingProfile"]["stackLevel"], 1);
}

// ---------------------------------------------------------------------------------------------
// K09 Get charging profiles
// ---------------------------------------------------------------------------------------------

/// The one assembled report: its request as sent, and its parts.
async fn report(operator: &RestOperator) -> Value {
    let answers = operator.answers(|a| {
        matches!(
            a,
            octt::operator::OperatorAction::GetChargingProfiles { .. }
        )
    });
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0]["status"], "Accepted");
    let request_id = answers[0]["requestId"].as_i64().unwrap();
    let report = operator
        .get(&format!(
            "/stations/{CP}/charging-profiles/reports/{request_id}"
        ))
        .await
        .unwrap();
    assert_eq!(report["requestId"], request_id);
    assert_eq!(report["status"], "Accepted", "{report}");
    assert_eq!(report["complete"], true, "{report}");
    assert_eq!(report["request"]["requestId"], request_id);
    report
}

/// A one-part report of the configured profile on `evse`, asked with `request` fields.
async fn get_case(case: &str, evse: i64, request: Value) {
    let (_csms, operator) = play(case).await;
    let report = report(&operator).await;
    let parts = report["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 1, "{report}");
    assert_eq!(parts[0]["evseId"], evse);
    assert_eq!(parts[0]["tbc"], false);
    assert_eq!(parts[0]["chargingProfile"][0]["id"], PROFILE_ID);
    for (key, value) in request.as_object().unwrap() {
        assert_eq!(&report["request"][key], value, "{key}: {report}");
    }
}

/// TC_K_29_CSMS: evseId 0 and the purpose, while charging.
#[tokio::test]
async fn tc_k_29_csms() {
    get_case(
        "TC_K_29_CSMS",
        0,
        json!({"evseId": 0, "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"}}),
    )
    .await;
}

/// TC_K_30_CSMS: evseId 1.
#[tokio::test]
async fn tc_k_30_csms() {
    get_case(
        "TC_K_30_CSMS",
        1,
        json!({"evseId": 1, "chargingProfile": {}}),
    )
    .await;
}

/// TC_K_31_CSMS: no evseId: one part per EVSE, assembled in order.
#[tokio::test]
async fn tc_k_31_csms() {
    let (_csms, operator) = play("TC_K_31_CSMS").await;
    let report = report(&operator).await;
    assert!(report["request"].get("evseId").is_none(), "{report}");
    let parts: Vec<(i64, bool)> = report["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["evseId"].as_i64().unwrap(), p["tbc"].as_bool().unwrap()))
        .collect();
    assert_eq!(parts, vec![(0, true), (1, false)]);
}

/// TC_K_32_CSMS: by chargingProfileId.
#[tokio::test]
async fn tc_k_32_csms() {
    get_case(
        "TC_K_32_CSMS",
        1,
        json!({"chargingProfile": {"chargingProfileId": [PROFILE_ID]}}),
    )
    .await;
}

/// TC_K_33_CSMS: evseId and stackLevel.
#[tokio::test]
async fn tc_k_33_csms() {
    get_case(
        "TC_K_33_CSMS",
        1,
        json!({"evseId": 1, "chargingProfile": {"stackLevel": 0}}),
    )
    .await;
}

/// TC_K_34_CSMS: evseId and chargingLimitSource.
#[tokio::test]
async fn tc_k_34_csms() {
    get_case(
        "TC_K_34_CSMS",
        1,
        json!({"evseId": 1, "chargingProfile": {"chargingLimitSource": ["CSO"]}}),
    )
    .await;
}

/// TC_K_35_CSMS: evseId and purpose.
#[tokio::test]
async fn tc_k_35_csms() {
    get_case(
        "TC_K_35_CSMS",
        1,
        json!({"evseId": 1, "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"}}),
    )
    .await;
}

/// TC_K_36_CSMS: evseId, purpose and stackLevel.
#[tokio::test]
async fn tc_k_36_csms() {
    get_case(
        "TC_K_36_CSMS",
        1,
        json!({"evseId": 1, "chargingProfile": {
            "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 0}}),
    )
    .await;
}

/// TC_K_52_CSMS: the report carries a ChargingStationExternalConstraints profile from the EMS.
#[tokio::test]
async fn tc_k_52_csms() {
    let (_csms, operator) = play("TC_K_52_CSMS").await;
    let report = report(&operator).await;
    let part = &report["parts"][0];
    assert_eq!(part["chargingLimitSource"], "EMS", "{report}");
    assert_eq!(
        part["chargingProfile"][0]["chargingProfilePurpose"],
        "ChargingStationExternalConstraints"
    );
}

// ---------------------------------------------------------------------------------------------
// K05 Remote start with a TxProfile
// ---------------------------------------------------------------------------------------------

/// TC_K_37_CSMS: the TxProfile of an accepted remote start is kept on its EVSE, and the
/// transaction carries the remoteStartId.
#[tokio::test]
async fn tc_k_37_csms() {
    let (csms, operator) = play("TC_K_37_CSMS").await;
    let p = profile(&operator, PROFILE_ID).await;
    assert_eq!(p["evseId"], 1, "{p}");
    assert_eq!(p["status"], "Accepted", "{p}");
    assert_eq!(p["chargingProfile"]["chargingProfilePurpose"], "TxProfile");
    let transactions = csms.server.store.transactions(&id(), 10).await.unwrap();
    assert_eq!(transactions.len(), 1);
    assert!(
        transactions[0].remote_start_id.is_some(),
        "{transactions:?}"
    );
    // A remote start with a profile that is not a TxProfile is refused before sending.
    let mut wrong = p["chargingProfile"].clone();
    wrong["chargingProfilePurpose"] = json!("TxDefaultProfile");
    let refused = operator
        .post(
            &format!("/stations/{CP}/transactions/start"),
            json!({"idToken": {"idToken": VALID, "type": "ISO14443"}, "evseId": 1,
                   "chargingProfile": wrong}),
        )
        .await
        .unwrap_err();
    assert!(
        refused.contains("start_profile_not_tx_profile"),
        "{refused}"
    );
}

// ---------------------------------------------------------------------------------------------
// K08 Composite schedule
// ---------------------------------------------------------------------------------------------

async fn composite_case(case: &str, evse: i64) {
    let (_csms, operator) = play(case).await;
    let list = operator
        .get(&format!("/stations/{CP}/composite-schedules"))
        .await
        .unwrap();
    let schedules = list["schedules"].as_array().unwrap();
    assert_eq!(schedules.len(), 1, "{list}");
    let s = &schedules[0];
    assert_eq!(s["status"], "Accepted");
    assert_eq!(
        (s["evseId"].clone(), s["duration"].clone()),
        (json!(evse), json!(300))
    );
    assert_eq!(s["schedule"]["evseId"], evse);
    assert_eq!(s["schedule"]["chargingSchedulePeriod"][0]["limit"], 10.0);
}

/// TC_K_43_CSMS: the composite schedule of EVSE 1, kept and shown.
#[tokio::test]
async fn tc_k_43_csms() {
    composite_case("TC_K_43_CSMS", 1).await;
}

/// TC_K_44_CSMS: the composite schedule of the station.
#[tokio::test]
async fn tc_k_44_csms() {
    composite_case("TC_K_44_CSMS", 0).await;
}

// ---------------------------------------------------------------------------------------------
// K12/K13 External charging limits
// ---------------------------------------------------------------------------------------------

async fn limits(operator: &RestOperator) -> Vec<Value> {
    let list = operator
        .get(&format!("/stations/{CP}/charging-limits"))
        .await
        .unwrap();
    list["limits"].as_array().cloned().unwrap()
}

/// TC_K_48_CSMS: the EMS limit is kept on EVSE 1 with its schedule.
#[tokio::test]
async fn tc_k_48_csms() {
    let (_csms, operator) = play("TC_K_48_CSMS").await;
    let all = limits(&operator).await;
    assert_eq!(all.len(), 1, "{all:?}");
    let l = &all[0];
    assert_eq!(
        (l["evseId"].clone(), l["source"].clone()),
        (json!(1), json!("EMS"))
    );
    assert_eq!(l["isGridCritical"], true);
    assert!(l["clearedAt"].is_null(), "{l}");
    assert_eq!(
        l["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"],
        16.0
    );
}

/// TC_K_50_CSMS: the EMS release is kept for EVSE 1.
#[tokio::test]
async fn tc_k_50_csms() {
    let (_csms, operator) = play("TC_K_50_CSMS").await;
    let all = limits(&operator).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(
        (all[0]["evseId"].clone(), all[0]["source"].clone()),
        (json!(1), json!("EMS"))
    );
    assert!(all[0]["clearedAt"].is_string(), "{all:?}");
}

/// A limit set and then released is shown released (K12 then K13 on one connection).
#[tokio::test]
async fn k12_limit_then_k13_release() {
    let (csms, operator) = play("TC_K_48_CSMS").await;
    assert_pass(
        "TC_K_50_CSMS",
        octt::run("TC_K_50_CSMS", &csms.target(CP, 1), operator.as_operator()).await,
    );
    let all = limits(&operator).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0]["clearedAt"].is_string(), "{all:?}");
    assert_eq!(
        all[0]["isGridCritical"], true,
        "the set limit's row is the one released"
    );
}

/// TC_K_51_CSMS: released during a transaction; the ChargingRateChanged event is kept.
#[tokio::test]
async fn tc_k_51_csms() {
    let (csms, operator) = play("TC_K_51_CSMS").await;
    let all = limits(&operator).await;
    assert!(all[0]["clearedAt"].is_string(), "{all:?}");
    let tx = &csms.server.store.transactions(&id(), 10).await.unwrap()[0];
    let events = csms
        .server
        .store
        .transaction_events(&id(), &tx.transaction_id)
        .await
        .unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (last.event_type.as_str(), last.trigger_reason.as_str()),
        ("Updated", "ChargingRateChanged")
    );
}

// ---------------------------------------------------------------------------------------------
// K15–K17 ISO 15118 charging needs (Reusable State ISO15118SmartCharging)
// ---------------------------------------------------------------------------------------------

/// K15/K17: the EV's needs (20 kWh, 6–32 A three-phase) get a TxProfile for the transaction at
/// the EV's maximum, capped by the station's ChargingStationMaxProfile (16 A), lasting until
/// the energy is delivered; the EV's schedule within it is Accepted; one above it is Rejected.
#[tokio::test]
async fn k15_k17_ev_charging_needs_get_a_tx_profile_within_the_station_maximum() {
    use unicharge_sim::octt::states::{self, MockEv, Session};
    let (csms, operator) = start().await;
    let target = csms.target(CP, 1);
    let mut station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    // The station maximum: 16 A from now on, set through the API while the station answers.
    let max = json!({"id": 1, "stackLevel": 0, "chargingProfilePurpose": "ChargingStationMaxProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": [{"id": 1,
        "startSchedule": "2020-01-01T00:00:00Z", "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}]});
    let api = operator.clone();
    let set = tokio::spawn(async move {
        api.post(
            &format!("/stations/{CP}/charging-profiles"),
            json!({"evseId": 0, "chargingProfile": max}),
        )
        .await
    });
    let (call_id, _) = station
        .expect_call::<unicharge_ocpp::v201::SetChargingProfileRequest>()
        .await
        .unwrap();
    station
        .respond::<unicharge_ocpp::v201::SetChargingProfileRequest>(
            &call_id,
            &serde_json::from_value(json!({"status": "Accepted"})).unwrap(),
        )
        .await
        .unwrap();
    set.await.unwrap().unwrap();

    let mut session = Session::new(&target);
    let request =
        states::iso15118_smart_charging(&mut station, &target, &mut session, &MockEv::default())
            .await
            .unwrap();
    let profile = serde_json::to_value(&request.charging_profile).unwrap();
    assert_eq!(profile["transactionId"], json!(session.transaction_id));
    let schedule = &profile["chargingSchedule"][0];
    assert_eq!(schedule["chargingRateUnit"], "A");
    assert_eq!(
        schedule["chargingSchedulePeriod"][0]["limit"], 16.0,
        "{profile}"
    );
    assert_eq!(schedule["chargingSchedulePeriod"][0]["numberPhases"], 3);
    // 20 kWh at 16 A × 230 V × 3 phases.
    assert_eq!(schedule["duration"], 6522, "{profile}");
    let logged = commands(&csms, "SetChargingProfile").await;
    assert_eq!(
        logged.last().unwrap().requested_by.as_deref(),
        Some("rule:iso15118-charging-needs")
    );

    // An EV schedule above the profile is Rejected (renegotiation).
    let mut above = request.charging_profile.charging_schedule[0].clone();
    above.charging_schedule_period[0].limit = rust_decimal::Decimal::from(20);
    let answer = station
        .call(&unicharge_ocpp::v201::NotifyEvChargingScheduleRequest {
            custom_data: None,
            time_base: chrono::Utc::now(),
            charging_schedule: above,
            evse_id: 1,
        })
        .await
        .unwrap();
    assert_eq!(answer.status.as_str(), "Rejected");
    // K17: the CSMS sends the TxProfile again, which makes the station renegotiate with the EV.
    let (call_id, again) = station
        .expect_call::<unicharge_ocpp::v201::SetChargingProfileRequest>()
        .await
        .unwrap();
    assert_eq!(again.charging_profile.id, request.charging_profile.id);
    assert_eq!(
        again.charging_profile.charging_schedule[0].charging_schedule_period[0].limit,
        rust_decimal::Decimal::from(16)
    );
    station
        .respond::<unicharge_ocpp::v201::SetChargingProfileRequest>(
            &call_id,
            &serde_json::from_value(json!({"status": "Accepted"})).unwrap(),
        )
        .await
        .unwrap();
    station.close().await;
}

/// K09 reconciliation: a complete report of everything the station holds corrects the CSMS's
/// copy — a profile the CSMS believed accepted but the station no longer reports is no longer
/// shown as held, and one the station holds that the CSMS never sent is kept.
#[tokio::test]
async fn k09_a_full_report_reconciles_what_the_csms_believes_the_station_holds() {
    use unicharge_ocpp::v201::{
        GetChargingProfilesRequest, ReportChargingProfilesRequest, SetChargingProfileRequest,
    };
    use unicharge_sim::octt::states;
    let (csms, operator) = start().await;
    let target = csms.target(CP, 1);
    let mut station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    let profile = |id: i64| {
        json!({"id": id, "stackLevel": id, "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute", "chargingSchedule": [{"id": 1,
            "startSchedule": "2026-01-01T00:00:00Z", "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}]}]})
    };
    let api = operator.clone();
    let set = tokio::spawn(async move {
        api.post(
            &format!("/stations/{CP}/charging-profiles"),
            json!({"evseId": 1, "chargingProfile": profile(5)}),
        )
        .await
    });
    let (call_id, _) = station
        .expect_call::<SetChargingProfileRequest>()
        .await
        .unwrap();
    station
        .respond::<SetChargingProfileRequest>(
            &call_id,
            &serde_json::from_value(json!({"status": "Accepted"})).unwrap(),
        )
        .await
        .unwrap();
    set.await.unwrap().unwrap();
    assert_eq!(profiles(&operator).await.len(), 1);

    // Everything the station holds: it lost 5 (e.g. a reset) and holds 9 the CSMS never sent.
    let api = operator.clone();
    let ask = tokio::spawn(async move {
        api.post(
            &format!("/stations/{CP}/charging-profiles/reports"),
            json!({}),
        )
        .await
    });
    let (call_id, request) = station
        .expect_call::<GetChargingProfilesRequest>()
        .await
        .unwrap();
    station
        .respond::<GetChargingProfilesRequest>(
            &call_id,
            &serde_json::from_value(json!({"status": "Accepted"})).unwrap(),
        )
        .await
        .unwrap();
    ask.await.unwrap().unwrap();
    let report: ReportChargingProfilesRequest = serde_json::from_value(json!({
        "requestId": request.request_id, "chargingLimitSource": "CSO", "evseId": 1,
        "tbc": false, "chargingProfile": [profile(9)]
    }))
    .unwrap();
    station.call(&report).await.unwrap();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let held = loop {
        let held = profiles(&operator).await;
        let ids: Vec<i64> = held
            .iter()
            .map(|p| p["chargingProfile"]["id"].as_i64().unwrap())
            .collect();
        if ids == [9] {
            break held;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not reconciled: {held:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(held[0]["status"], "Accepted", "{held:?}");
    assert_eq!(held[0]["evseId"], 1, "{held:?}");
    station.close().await;
}
