//! The extension modules (ADR 0042: `x-unicharge-drivermessages`, `x-unicharge-gdpr`,
//! `x-unicharge-cdrverdicts`) between
//! two unicharge instances over real HTTP — one CPO (NL*CPO, a station played by the simulator
//! over a real WebSocket), one eMSP (NL*EMS) — for the OCPI 3.0 business use cases B4.4 (the
//! MSP's message reaches its driver on the EVSE's display), B4.5 (the CPO's message reaches
//! the MSP, for its app), B3.4 (GDPR access and erasure of a driver's token at the CPO) and B5.2
//! (the MSP disputes a CDR with a reason).

#[path = "common/mod.rs"]
mod common;
#[path = "ocpi_common/mod.rs"]
mod ocpi_common;

use std::time::Duration;

use chrono::Utc;
use reqwest::Method;
use serde_json::{json, Value};
use unicharge_ocpi_server::settings::PartySettings;
use unicharge_ocpp::v201::{
    AuthorizationStatusEnumType, ChargingStateEnumType, ConnectorStatusEnumType,
    CustomerInformationRequest, CustomerInformationResponse, CustomerInformationStatusEnumType,
    DisplayMessageStatusEnumType, EvseType, IdTokenEnumType, IdTokenType, MessagePriorityEnumType,
    ReadingContextEnumType, ReasonEnumType, SetDisplayMessageRequest, SetDisplayMessageResponse,
    StatusNotificationRequest, TransactionEventEnumType, TriggerReasonEnumType,
};
use unicharge_sim::octt::states;
use unicharge_sim::Station;

use common::payloads::{energy, transaction_event as event};
use common::{StationSpec, TestCsms};
use ocpi_common::{Operator, Peer};

const CP: &str = "CP-MSG-1";
const TX: &str = "TX-MSG-1";

fn operator_of(csms: &TestCsms) -> Operator {
    Operator::new(
        csms.server.http_addr.unwrap(),
        csms.server.initial_admin_key.as_ref().unwrap(),
    )
}

/// Both instances, the eMSP registered with the CPO, the eMSP's driver token pushed, and a
/// transaction of that driver running at CP. Returns the station, the CPO's id of the eMSP
/// partner, the eMSP's id of the CPO partner and the OCPI session id.
struct Roaming {
    _cpo: TestCsms,
    _emsp: TestCsms,
    cpo_op: Operator,
    emsp_op: Operator,
    station: Station,
    emsp_at_cpo: i64,
    cpo_at_emsp: i64,
    session_id: String,
}

async fn roaming() -> Roaming {
    let quick = |s: &mut unicharge_server::settings::Settings| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        s.ocpi.push_retry_initial = Duration::from_millis(20);
        s.ocpi.push_retry_max = Duration::from_millis(100);
    };
    let cpo = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        quick(s);
        s.ocpi.parties = vec![PartySettings::cpo("NL", "CPO", "Unicharge CPO")];
    })
    .await;
    let emsp = TestCsms::start_with(&[], |s| {
        quick(s);
        s.ocpi.parties = vec![PartySettings::emsp("NL", "EMS", "Unicharge eMSP")];
    })
    .await;
    let (cpo_op, emsp_op) = (operator_of(&cpo), operator_of(&emsp));
    cpo_op.location("NL*CPO", "LOC1", &[CP]).await;

    let ocpi_common::Registration {
        cpo_at_emsp,
        emsp_at_cpo,
        ..
    } = ocpi_common::register_emsp(&cpo_op, &emsp_op).await;
    emsp_op
        .send(
            Method::PUT,
            "/ocpi/tokens/NL*EMS/DRIVER-7",
            Some(json!({
                "country_code": "NL", "party_id": "EMS", "uid": "DRIVER-7", "type": "RFID",
                "contract_id": "NL-EMS-C00000007-X", "issuer": "Unicharge eMSP", "valid": true,
                "whitelist": "ALLOWED", "last_updated": "2026-12-06T10:00:00Z",
            })),
        )
        .await;
    cpo_op
        .until("/tokens", |t| t.to_string().contains("DRIVER-7"))
        .await;

    let target = cpo.target(CP, 1);
    let mut station: Station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    station
        .call(&StatusNotificationRequest {
            custom_data: None,
            timestamp: Utc::now(),
            connector_status: ConnectorStatusEnumType::Occupied,
            evse_id: 1,
            connector_id: 1,
        })
        .await
        .unwrap();
    let mut started = event(
        TX,
        0,
        TransactionEventEnumType::Started,
        TriggerReasonEnumType::Authorized,
        Utc::now(),
        ChargingStateEnumType::Charging,
    );
    started.id_token = Some(IdTokenType {
        custom_data: None,
        additional_info: None,
        id_token: "DRIVER-7".into(),
        r#type: IdTokenEnumType::Iso14443,
    });
    started.evse = Some(EvseType {
        custom_data: None,
        id: 1,
        connector_id: Some(1),
    });
    let answer = station.call(&started).await.unwrap();
    assert_eq!(
        answer.id_token_info.unwrap().status,
        AuthorizationStatusEnumType::Accepted
    );
    let sessions = emsp_op
        .until(
            &format!("/ocpi/partners/{cpo_at_emsp}/received/sessions"),
            |s| s.as_array().is_some_and(|a| !a.is_empty()),
        )
        .await;
    let session_id = sessions[0]["id"].as_str().unwrap().to_string();
    Roaming {
        _cpo: cpo,
        _emsp: emsp,
        cpo_op,
        emsp_op,
        station,
        emsp_at_cpo,
        cpo_at_emsp,
        session_id,
    }
}

async fn answer_display(
    station: &mut Station,
    status: DisplayMessageStatusEnumType,
) -> SetDisplayMessageRequest {
    let (call_id, request) = station
        .expect_call::<SetDisplayMessageRequest>()
        .await
        .unwrap();
    station
        .respond::<SetDisplayMessageRequest>(
            &call_id,
            &SetDisplayMessageResponse {
                custom_data: None,
                status,
                status_info: None,
            },
        )
        .await
        .unwrap();
    request
}

async fn result_of(r: &Roaming, id: &str) -> Value {
    let commands = r
        .emsp_op
        .until(&format!("/ocpi/partners/{}/commands", r.cpo_at_emsp), |c| {
            c.as_array()
                .is_some_and(|all| all.iter().any(|c| c["id"] == id && c["result"].is_string()))
        })
        .await;
    commands
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
        .clone()
}

/// B4.4: the eMSP's operator sends a message in two languages for its driver's session; the
/// station gets one SetDisplayMessage per language, bound to the session's transaction, with
/// the priority asked; the station's answers come back as the CommandResult (ACCEPTED; a
/// station that cannot show the priority → NOT_SUPPORTED). A session the eMSP was never told
/// of is 404 at the eMSP.
#[tokio::test]
async fn b4_4_msp_message_shown_to_its_driver_at_the_evse() {
    let mut r = roaming().await;
    let path = format!(
        "/ocpi/partners/{}/sessions/{}/driver-messages",
        r.cpo_at_emsp, r.session_id
    );
    let sent = r
        .emsp_op
        .send(
            Method::POST,
            &path,
            Some(json!({
                "message": [
                    {"language": "en", "text": "Your car is charged: please move it within 15 minutes"},
                    {"language": "nl", "text": "Uw auto is geladen: verplaats hem binnen 15 minuten"},
                ],
                "priority": "IN_FRONT",
            })),
        )
        .await;
    assert_eq!(sent["command"], "DRIVER_MESSAGE", "{sent}");
    assert_eq!(sent["response"], "ACCEPTED", "{sent}");
    let en = answer_display(&mut r.station, DisplayMessageStatusEnumType::Accepted).await;
    let nl = answer_display(&mut r.station, DisplayMessageStatusEnumType::Accepted).await;
    for (request, language, start) in [(&en, "en", "Your car"), (&nl, "nl", "Uw auto")] {
        let m = &request.message;
        assert_eq!(m.transaction_id.as_deref(), Some(TX));
        assert_eq!(m.priority, MessagePriorityEnumType::InFront);
        assert_eq!(m.message.language.as_deref(), Some(language));
        assert!(m.message.content.starts_with(start), "{:?}", m.message);
    }
    assert_ne!(en.message.id, nl.message.id, "one message per language");
    let done = result_of(&r, sent["id"].as_str().unwrap()).await;
    assert_eq!(done["result"], "ACCEPTED", "{done}");

    let sent = r
        .emsp_op
        .send(
            Method::POST,
            &path,
            Some(
                json!({"message": [{"language": "en", "text": "Charging paused"}],
                        "priority": "ALWAYS_FRONT"}),
            ),
        )
        .await;
    let refused = answer_display(
        &mut r.station,
        DisplayMessageStatusEnumType::NotSupportedPriority,
    )
    .await;
    assert_eq!(
        refused.message.priority,
        MessagePriorityEnumType::AlwaysFront
    );
    let done = result_of(&r, sent["id"].as_str().unwrap()).await;
    assert_eq!(done["result"], "NOT_SUPPORTED", "{done}");

    let unknown = r
        .emsp_op
        .client
        .post(format!(
            "{}/ocpi/partners/{}/sessions/NO-SUCH/driver-messages",
            r.emsp_op.base, r.cpo_at_emsp
        ))
        .bearer_auth(&r.emsp_op.key)
        .json(&json!({"message": [{"language": "en", "text": "hello"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

/// B4.5: the CPO's operator sends a message for the driver of a roaming transaction; it is
/// pushed to the eMSP whose token runs it (and only there), which keeps it with the session id
/// the eMSP knows; the CPO's outbox shows it delivered.
#[tokio::test]
async fn b4_5_cpo_message_reaches_the_msp_of_the_driver() {
    let r = roaming().await;
    let text = "Parking fees start at 18:00 at this location";
    let queued = r
        .cpo_op
        .send(
            Method::POST,
            "/ocpi/driver-messages",
            Some(json!({"stationId": CP, "transactionId": TX,
                        "message": [{"language": "en", "text": text}]})),
        )
        .await;
    assert_eq!(queued["sessionId"], r.session_id.as_str(), "{queued}");
    assert_eq!(queued["partnerIds"], json!([r.emsp_at_cpo]));
    let received = r
        .emsp_op
        .until(
            &format!("/ocpi/partners/{}/received/drivermessages", r.cpo_at_emsp),
            |m| m.as_array().is_some_and(|a| !a.is_empty()),
        )
        .await;
    let m = &received[0];
    assert_eq!(m["id"], queued["id"]);
    assert_eq!(m["party"], "NL*CPO");
    assert_eq!(m["sessionId"], r.session_id.as_str());
    assert_eq!(m["object"]["message"][0]["text"], text);
    let outbox = r
        .cpo_op
        .send(
            Method::GET,
            &format!("/ocpi/partners/{}/outbox", r.emsp_at_cpo),
            None,
        )
        .await;
    let push = outbox["pushes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["module"] == "x-unicharge-drivermessages")
        .unwrap_or_else(|| panic!("{outbox:#}"));
    assert_eq!(push["status"], "DELIVERED", "{push}");

    // A transaction nobody roams: 404, nothing queued.
    let missing = r
        .cpo_op
        .client
        .post(format!("{}/ocpi/driver-messages", r.cpo_op.base))
        .bearer_auth(&r.cpo_op.key)
        .json(&json!({"stationId": CP, "transactionId": "NOPE",
                      "message": [{"language": "en", "text": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

/// B3.4 (the CPO provides the right of access and to be forgotten for a driver of an MSP):
/// through the eMSP's operator API, the CPO answers everything it keeps about the driver's
/// token (its transaction included); another eMSP asking for that token gets 404 / 2004; the
/// erasure leaves no trace of the token in the CPO's database (the transaction is kept under
/// the pseudonym), and the station it charged at is asked to clear it (CustomerInformation).
#[tokio::test]
async fn b3_4_gdpr_access_and_erasure_of_a_drivers_token_at_the_cpo() {
    let mut r = roaming().await;
    let path = format!(
        "/ocpi/partners/{}/personal-data/NL*EMS/DRIVER-7",
        r.cpo_at_emsp
    );
    let data = r.emsp_op.send(Method::GET, &path, None).await;
    assert_eq!(data["idToken"], "DRIVER-7", "{data:#}");
    assert_eq!(data["transactions"][0]["transactionId"], TX, "{data:#}");
    assert_eq!(data["tokens"][0]["idToken"], "DRIVER-7", "{data:#}");
    assert!(
        data["roaming"].to_string().contains("NL-EMS-C00000007-X"),
        "the OCPI token record is listed: {data:#}"
    );

    // Another eMSP, registered with the same CPO party, cannot read it.
    let (token_a, versions_url, _) = r.cpo_op.partner("Other eMSP", &["NL*CPO"]).await;
    let mut other = Peer::start("NL", "OTH").await;
    other.register(&versions_url, &token_a, "2.2.1").await;
    let (code, _, refused) = other
        .call(
            Method::GET,
            &format!("{}/NL/EMS/DRIVER-7", other.endpoint("x-unicharge-gdpr")),
            None,
        )
        .await;
    assert_eq!(
        (code, &refused["status_code"]),
        (404, &json!(2004)),
        "{refused}"
    );

    let erased = r
        .emsp_op
        .send(Method::POST, &format!("{path}/erase"), None)
        .await;
    assert_eq!(erased["found"], true, "{erased}");
    assert_eq!(erased["stationsCleared"], json!([CP]), "{erased}");
    let pseudonym = erased["pseudonym"].as_str().unwrap().to_string();
    assert!(pseudonym.starts_with("erased-"), "{erased}");
    let (call_id, clear) = r
        .station
        .expect_call::<CustomerInformationRequest>()
        .await
        .unwrap();
    assert!(clear.clear && !clear.report, "{clear:?}");
    assert_eq!(clear.id_token.as_ref().unwrap().id_token, "DRIVER-7");
    r.station
        .respond::<CustomerInformationRequest>(
            &call_id,
            &CustomerInformationResponse {
                custom_data: None,
                status: CustomerInformationStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await
        .unwrap();

    // The CPO's database: the token is nowhere, the transaction is kept under the pseudonym.
    let db = r._cpo.dir.path().join("data/unicharge.db");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = common::db_occurrences(&db, "DRIVER-7");
        if left.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still stored: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let kept = r
        .cpo_op
        .send(Method::GET, &format!("/stations/{CP}/transactions"), None)
        .await;
    assert!(kept.to_string().contains(&pseudonym), "{kept:#}");
    // Asked again: nothing left to read about the token.
    let gone = r
        .emsp_op
        .client
        .get(format!("{}{path}", r.emsp_op.base))
        .bearer_auth(&r.emsp_op.key)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404, "the CPO no longer holds the token");
}

/// B5.2 (the MSP receives all CDRs for invoicing, and accepts or disputes them): the session
/// ends, the CDR reaches the eMSP, whose operator disputes it with a reason; the CPO's operator
/// sees the dispute on that CDR with the reason; an ACCEPTED verdict later replaces it. A
/// dispute without a reason, or on a CDR the eMSP never received, is refused before anything
/// is sent.
#[tokio::test]
async fn b5_2_cdr_disputed_with_a_reason_then_accepted() {
    let mut r = roaming().await;
    let mut ended = event(
        TX,
        1,
        TransactionEventEnumType::Ended,
        TriggerReasonEnumType::EvCommunicationLost,
        Utc::now(),
        ChargingStateEnumType::Idle,
    );
    ended.transaction_info.stopped_reason = Some(ReasonEnumType::EvDisconnected);
    ended.meter_value = Some(energy(
        Utc::now(),
        7_500,
        ReadingContextEnumType::TransactionEnd,
    ));
    r.station.call(&ended).await.unwrap();
    let cdrs = r
        .emsp_op
        .until(
            &format!("/ocpi/partners/{}/received/cdrs", r.cpo_at_emsp),
            |c| c.as_array().is_some_and(|a| !a.is_empty()),
        )
        .await;
    let cdr_id = cdrs[0]["id"].as_str().unwrap().to_string();
    let verdict = format!("/ocpi/partners/{}/cdrs/{cdr_id}/verdict", r.cpo_at_emsp);

    let refused = r
        .emsp_op
        .client
        .put(format!("{}{verdict}", r.emsp_op.base))
        .bearer_auth(&r.emsp_op.key)
        .json(&json!({"result": "DISPUTED"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400, "a dispute needs a reason");
    let unknown = r
        .emsp_op
        .client
        .put(format!(
            "{}/ocpi/partners/{}/cdrs/NO-SUCH-CDR/verdict",
            r.emsp_op.base, r.cpo_at_emsp
        ))
        .bearer_auth(&r.emsp_op.key)
        .json(&json!({"result": "ACCEPTED"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let reason = "the driver's car logged 6.1 kWh, the CDR bills 7.5";
    let sent = r
        .emsp_op
        .send(
            Method::PUT,
            &verdict,
            Some(json!({"result": "DISPUTED", "reason": reason})),
        )
        .await;
    assert_eq!(sent["result"], "DISPUTED", "{sent}");
    let disputes = r
        .cpo_op
        .send(Method::GET, "/ocpi/cdr-verdicts?result=DISPUTED", None)
        .await;
    assert_eq!(disputes.as_array().map(Vec::len), Some(1), "{disputes:#}");
    assert_eq!(disputes[0]["cdrId"], cdr_id.as_str());
    assert_eq!(disputes[0]["partnerId"], r.emsp_at_cpo);
    assert_eq!(disputes[0]["reason"], reason);
    let ours = r
        .emsp_op
        .send(Method::GET, "/ocpi/cdr-verdicts?side=SENT", None)
        .await;
    assert_eq!(ours[0]["cdrId"], cdr_id.as_str(), "{ours:#}");

    r.emsp_op
        .send(Method::PUT, &verdict, Some(json!({"result": "ACCEPTED"})))
        .await;
    let disputes = r
        .cpo_op
        .send(Method::GET, "/ocpi/cdr-verdicts?result=DISPUTED", None)
        .await;
    assert_eq!(disputes, json!([]), "the dispute was withdrawn");
    let all = r.cpo_op.send(Method::GET, "/ocpi/cdr-verdicts", None).await;
    assert_eq!(all[0]["result"], "ACCEPTED", "{all:#}");
}
