//! OCPI Commands beyond START / STOP_SESSION, CPO side, over real HTTP: an eMSP peer
//! (tests/ocpi_common) sends RESERVE_NOW, CANCEL_RESERVATION and UNLOCK_CONNECTOR; the
//! simulator plays the station over a real WebSocket and answers the OCPP ReserveNow,
//! CancelReservation and UnlockConnector it receives; the CommandResult arrives at the peer's
//! response_url. Tests are named after the business use case of seed 003 they check.

#[path = "common/mod.rs"]
mod common;
#[path = "ocpi_common/mod.rs"]
mod ocpi_common;

use chrono::{Duration, SubsecRound, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use unicharge_ocpp::v201::{
    CancelReservationRequest, CancelReservationResponse, CancelReservationStatusEnumType,
    ConnectorStatusEnumType, IdTokenEnumType, ReserveNowRequest, ReserveNowResponse,
    ReserveNowStatusEnumType, StatusNotificationRequest, UnlockConnectorRequest,
    UnlockConnectorResponse, UnlockStatusEnumType,
};
use unicharge_sim::octt::states;
use unicharge_sim::Station;

use common::{StationSpec, TestCsms};
use ocpi_common::{Operator, Peer};

const CP1: &str = "CP-CMD-1";
const CP2: &str = "CP-CMD-2";

/// A CPO with two parties: CP1 at NL*UNI/LOC1, CP2 at DE*ABC/LOC2.
async fn cpo() -> (TestCsms, Operator) {
    let csms = TestCsms::start_with(&[StationSpec::new(CP1, 1), StationSpec::new(CP2, 1)], |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        s.ocpi.push_retry_initial = std::time::Duration::from_millis(20);
        s.ocpi.push_retry_max = std::time::Duration::from_millis(100);
        s.ocpi.parties = vec![party("NL", "UNI"), party("DE", "ABC")];
    })
    .await;
    let operator = Operator::new(
        csms.server.http_addr.unwrap(),
        csms.server.initial_admin_key.as_ref().unwrap(),
    );
    operator.location("NL*UNI", "LOC1", &[CP1]).await;
    operator.location("DE*ABC", "LOC2", &[CP2]).await;
    (csms, operator)
}

fn party(cc: &str, pid: &str) -> unicharge_ocpi_server::settings::PartySettings {
    unicharge_ocpi_server::settings::PartySettings {
        country_code: cc.into(),
        party_id: pid.into(),
        name: format!("{cc} {pid}"),
        website: None,
        role: unicharge_ocpi_server::settings::Role::Cpo,
    }
}

/// An eMSP peer `NL*<party_id>` registered with NL*UNI.
async fn emsp(operator: &Operator, party_id: &str) -> Peer {
    let (token_a, versions_url, _) = operator.partner(party_id, &["NL*UNI"]).await;
    let ours = operator.send(Method::GET, "/ocpi/versions-url", None).await;
    assert_eq!(ours["versionsUrl"], versions_url.as_str(), "{ours}");
    let mut peer = Peer::start("NL", party_id).await;
    peer.register(&versions_url, &token_a, "2.2.1").await;
    peer
}

/// A booted station whose EVSE 1 reported Available (so the location publishes it).
async fn booted(csms: &TestCsms, id: &str) -> Station {
    let target = csms.target(id, 1);
    let mut station: Station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    station
        .call(&StatusNotificationRequest {
            custom_data: None,
            timestamp: Utc::now(),
            connector_status: ConnectorStatusEnumType::Available,
            evse_id: 1,
            connector_id: 1,
        })
        .await
        .unwrap();
    station
}

fn token(party_id: &str, uid: &str) -> Value {
    json!({
        "country_code": "NL", "party_id": party_id, "uid": uid, "type": "RFID",
        "contract_id": format!("NL-{party_id}-C{uid}"), "issuer": party_id, "valid": true,
        "whitelist": "ALLOWED", "last_updated": "2026-12-06T10:00:00Z",
    })
}

/// POST a command; returns the OCPI reply (status_code, data).
async fn command(peer: &Peer, kind: &str, body: Value) -> Value {
    let (code, _, reply) = peer
        .call(
            Method::POST,
            &format!("{}/{kind}", peer.endpoint("commands")),
            Some(body),
        )
        .await;
    assert_eq!(code, 200, "{kind}: {reply}");
    reply
}

async fn reserve(
    peer: &Peer,
    id: &str,
    evse: &str,
    uid: &str,
    expiry: chrono::DateTime<Utc>,
) -> Value {
    command(
        peer,
        "RESERVE_NOW",
        json!({
            "response_url": peer.response_url(id),
            "token": token("EMA", uid),
            "expiry_date": expiry.to_rfc3339(),
            "reservation_id": id, "location_id": "LOC1", "evse_uid": evse,
        }),
    )
    .await
}

async fn answer_reserve(
    station: &mut Station,
    status: ReserveNowStatusEnumType,
) -> ReserveNowRequest {
    let (call_id, request) = station.expect_call::<ReserveNowRequest>().await.unwrap();
    station
        .respond::<ReserveNowRequest>(
            &call_id,
            &ReserveNowResponse {
                custom_data: None,
                status,
                status_info: None,
            },
        )
        .await
        .unwrap();
    request
}

async fn answer_cancel(station: &mut Station, status: CancelReservationStatusEnumType) -> i64 {
    let (call_id, request) = station
        .expect_call::<CancelReservationRequest>()
        .await
        .unwrap();
    station
        .respond::<CancelReservationRequest>(
            &call_id,
            &CancelReservationResponse {
                custom_data: None,
                status,
                status_info: None,
            },
        )
        .await
        .unwrap();
    request.reservation_id
}

/// B6.3 (MSP reserves an EVSE for the EV driver): RESERVE_NOW reaches the station as an OCPP
/// ReserveNow for the eMSP's token, EVSE and expiry; the station's answer comes back as the
/// CommandResult (Accepted → ACCEPTED, Occupied → EVSE_OCCUPIED); a RESERVE_NOW with the same
/// reservation_id replaces the reservation (the old one is cancelled at the station first);
/// CANCEL_RESERVATION cancels the station's reservation; an unknown reservation_id, or another
/// eMSP's, is UNKNOWN_RESERVATION without the station being asked; another party's location
/// is 2003.
#[tokio::test]
async fn b6_3_reserve_now_replace_and_cancel_reservation() {
    let (csms, operator) = cpo().await;
    let mut peer = emsp(&operator, "EMA").await;
    let mut other = emsp(&operator, "EMB").await;
    let mut station = booted(&csms, CP1).await;
    let expiry = (Utc::now() + Duration::hours(1)).trunc_subsecs(0);

    let reply = reserve(&peer, "RES-1", &format!("{CP1}*1"), "DRIVER-1", expiry).await;
    assert_eq!(reply["data"]["result"], "ACCEPTED", "{reply}");
    let first = answer_reserve(&mut station, ReserveNowStatusEnumType::Accepted).await;
    assert_eq!(first.id_token.id_token, "DRIVER-1");
    assert_eq!(first.id_token.r#type, IdTokenEnumType::Iso14443);
    assert_eq!(first.evse_id, Some(1));
    assert_eq!(first.expiry_date_time, expiry);
    let result = peer.next_result().await;
    assert_eq!(
        (result.path.as_str(), &result.body["result"]),
        ("RES-1", &json!("ACCEPTED"))
    );

    // The same reservation_id again, for another driver: the first is cancelled, then replaced.
    let later = expiry + Duration::minutes(30);
    let reply = reserve(&peer, "RES-1", &format!("{CP1}*1"), "DRIVER-2", later).await;
    assert_eq!(reply["data"]["result"], "ACCEPTED", "{reply}");
    assert_eq!(
        answer_cancel(&mut station, CancelReservationStatusEnumType::Accepted).await,
        first.id,
        "the replaced reservation is cancelled at the station"
    );
    let second = answer_reserve(&mut station, ReserveNowStatusEnumType::Accepted).await;
    assert_ne!(second.id, first.id, "a new station reservation");
    assert_eq!(second.id_token.id_token, "DRIVER-2");
    assert_eq!(second.expiry_date_time, later);
    assert_eq!(peer.next_result().await.body["result"], "ACCEPTED");

    // Another eMSP cannot cancel it (nor learn it exists): UNKNOWN_RESERVATION, station untouched.
    let reply = command(
        &other,
        "CANCEL_RESERVATION",
        json!({"response_url": other.response_url("x-1"), "reservation_id": "RES-1"}),
    )
    .await;
    assert_eq!(reply["data"]["result"], "ACCEPTED", "{reply}");
    assert_eq!(
        other.next_result().await.body["result"],
        "UNKNOWN_RESERVATION"
    );
    let reply = command(
        &peer,
        "CANCEL_RESERVATION",
        json!({"response_url": peer.response_url("c-unknown"), "reservation_id": "NO-SUCH"}),
    )
    .await;
    assert_eq!(reply["data"]["result"], "ACCEPTED", "{reply}");
    assert_eq!(
        peer.next_result().await.body["result"],
        "UNKNOWN_RESERVATION"
    );

    // The owner cancels: the station's next call is the CancelReservation of the second one,
    // so neither refused cancel above reached it.
    command(
        &peer,
        "CANCEL_RESERVATION",
        json!({"response_url": peer.response_url("c-1"), "reservation_id": "RES-1"}),
    )
    .await;
    assert_eq!(
        answer_cancel(&mut station, CancelReservationStatusEnumType::Accepted).await,
        second.id
    );
    let result = peer.next_result().await;
    assert_eq!(
        (result.path.as_str(), &result.body["result"]),
        ("c-1", &json!("ACCEPTED"))
    );
    let stored = operator
        .send(Method::GET, &format!("/stations/{CP1}/reservations"), None)
        .await;
    let status_of = |id: i64| {
        stored["reservations"]
            .as_array()
            .and_then(|all| all.iter().find(|r| r["id"] == id))
            .map(|r| r["status"].clone())
    };
    assert_eq!(status_of(first.id), Some(json!("Cancelled")), "{stored}");
    assert_eq!(status_of(second.id), Some(json!("Cancelled")), "{stored}");

    // An occupied EVSE.
    reserve(&peer, "RES-2", &format!("{CP1}*1"), "DRIVER-3", expiry).await;
    answer_reserve(&mut station, ReserveNowStatusEnumType::Occupied).await;
    assert_eq!(peer.next_result().await.body["result"], "EVSE_OCCUPIED");

    // DE*ABC's location is not visible to an eMSP registered with NL*UNI.
    let (_, _, hidden) = peer
        .call(
            Method::POST,
            &format!("{}/RESERVE_NOW", peer.endpoint("commands")),
            Some(json!({
                "response_url": peer.response_url("h"), "token": token("EMA", "DRIVER-1"),
                "expiry_date": expiry.to_rfc3339(), "reservation_id": "RES-H",
                "location_id": "LOC2", "evse_uid": format!("{CP2}*1"),
            })),
        )
        .await;
    assert_eq!(hidden["status_code"], 2003, "{hidden}");
}

/// B6.2 (MSP helpdesk remote-controls an EVSE): UNLOCK_CONNECTOR reaches the station as an
/// OCPP UnlockConnector for the EVSE and connector named; Unlocked → ACCEPTED,
/// OngoingAuthorizedTransaction → REJECTED with a message saying why, UnlockFailed → FAILED;
/// an unknown EVSE is 2003; a station that is offline is REJECTED at once.
#[tokio::test]
async fn b6_2_unlock_connector_command_reaches_station() {
    let (csms, operator) = cpo().await;
    let mut peer = emsp(&operator, "EMA").await;
    let mut station = booted(&csms, CP1).await;
    let base = peer.response_url("");
    let unlock = |id: &str, evse: &str, connector: &str| {
        json!({
            "response_url": format!("{base}{id}"), "location_id": "LOC1",
            "evse_uid": evse, "connector_id": connector,
        })
    };
    for (id, answer, expected) in [
        ("u-1", UnlockStatusEnumType::Unlocked, "ACCEPTED"),
        (
            "u-2",
            UnlockStatusEnumType::OngoingAuthorizedTransaction,
            "REJECTED",
        ),
        ("u-3", UnlockStatusEnumType::UnlockFailed, "FAILED"),
    ] {
        let reply = command(
            &peer,
            "UNLOCK_CONNECTOR",
            unlock(id, &format!("{CP1}*1"), "1"),
        )
        .await;
        assert_eq!(reply["data"]["result"], "ACCEPTED", "{reply}");
        let (call_id, request) = station
            .expect_call::<UnlockConnectorRequest>()
            .await
            .unwrap();
        assert_eq!((request.evse_id, request.connector_id), (1, 1));
        station
            .respond::<UnlockConnectorRequest>(
                &call_id,
                &UnlockConnectorResponse {
                    custom_data: None,
                    status: answer,
                    status_info: None,
                },
            )
            .await
            .unwrap();
        let result = peer.next_result().await;
        assert_eq!(result.path, id);
        assert_eq!(result.body["result"], expected, "{}", result.body);
        if expected == "REJECTED" {
            let message = result.body["message"][0]["text"]
                .as_str()
                .unwrap_or_default();
            assert!(message.contains("transaction"), "{}", result.body);
        }
    }

    let (code, _, reply) = peer
        .call(
            Method::POST,
            &format!("{}/UNLOCK_CONNECTOR", peer.endpoint("commands")),
            Some(unlock("u-4", &format!("{CP1}*9"), "1")),
        )
        .await;
    assert_eq!(
        (code, &reply["status_code"]),
        (404, &json!(2003)),
        "{reply}"
    );

    station.close().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let reply = command(
            &peer,
            "UNLOCK_CONNECTOR",
            unlock("u-5", &format!("{CP1}*1"), "1"),
        )
        .await;
        match reply["data"]["result"].as_str() {
            Some("REJECTED") => break,
            // Taken while the close was still being noticed: its result (FAILED) follows.
            Some("ACCEPTED") => {
                peer.next_result().await;
            }
            _ => panic!("{reply}"),
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still online: {reply}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
