//! The money path end to end, as an operator and a station see it: tariffs and a driver's
//! token set up through the REST API, a transaction started remotely through the REST API and
//! played by the simulated station over a real WebSocket, and the charge record read back
//! through the REST API — its cost must match the tariff to the cent.
//!
//! The station reports its own timestamps (one hour of charging, played without waiting), so
//! every amount below is computed by hand from the tariff:
//!
//! | component | usage | price (excl. VAT) | amount |
//! |---|---|---|---|
//! | energy | 10 000 → 22 345 Wh = 12.345 kWh | 0.39 / kWh | 4.81455 → 4.81 |
//! | charging time | 45 min (Charging) | 0.02 / min | 0.90 |
//! | idle time | 15 min (SuspendedEV) | 0.10 / min | 1.50 |
//! | session fee | once | 0.50 | 0.50 |
//! | total excl. VAT | | | 7.71 |
//! | VAT 19 % | | | 1.4649 → 1.46 |
//! | total incl. VAT | | | **9.17** |

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Client;
use serde_json::{json, Value};
use unicharge_ocpp::v201::{
    ChargingStateEnumType, EvseType, IdTokenEnumType, IdTokenType, ReadingContextEnumType,
    ReasonEnumType, RequestStartStopStatusEnumType, RequestStartTransactionRequest,
    RequestStartTransactionResponse, TransactionEventEnumType, TransactionEventRequest,
    TriggerReasonEnumType,
};
use unicharge_sim::octt::states;
use unicharge_sim::Station;

use common::payloads::{energy, transaction_event};
use common::{StationSpec, TestCsms};

const CP: &str = "CP010";
const TX: &str = "TX-MONEY-1";

struct Api {
    client: Client,
    base: String,
    key: String,
}

impl Api {
    fn new(csms: &TestCsms) -> Api {
        Api {
            client: Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            base: format!("http://{}/api/v1", csms.server.http_addr.unwrap()),
            key: csms.server.initial_admin_key.clone().unwrap(),
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(
            status.is_success(),
            "{method} {path}: HTTP {status}: {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

fn event(
    seq_no: i64,
    event_type: TransactionEventEnumType,
    trigger: TriggerReasonEnumType,
    at: DateTime<Utc>,
    state: ChargingStateEnumType,
) -> TransactionEventRequest {
    transaction_event(TX, seq_no, event_type, trigger, at, state)
}

#[tokio::test]
async fn remote_started_transaction_ends_with_a_charge_record_priced_to_the_cent() {
    let csms = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let api = Api::new(&csms);
    use reqwest::Method;

    // The operator: a driver in fleet FLEET-A, a station tariff and a (more specific) fleet
    // tariff.
    api.send(
        Method::PUT,
        "/tokens/ISO14443/DRIVER-1",
        Some(json!({"status": "Accepted", "groupIdToken": "FLEET-A"})),
    )
    .await;
    for (id, kwh, charging, idle, fee) in [
        ("STATION-STD", "0.59", "0", "0", "0"),
        ("FLEET", "0.39", "0.02", "0.10", "0.50"),
    ] {
        api.send(
            Method::POST,
            "/tariffs",
            Some(json!({
                "id": id, "currency": "EUR", "vatPercent": "19", "pricePerKwh": kwh,
                "pricePerChargingMinute": charging, "pricePerIdleMinute": idle,
                "sessionFee": fee,
            })),
        )
        .await;
    }
    api.send(
        Method::POST,
        "/tariff-assignments",
        Some(json!({"tariffId": "STATION-STD", "scope": {"scope": "station", "stationId": CP}})),
    )
    .await;
    api.send(
        Method::POST,
        "/tariff-assignments",
        Some(json!({"tariffId": "FLEET", "scope": {"scope": "tokenGroup", "groupIdToken": "FLEET-A"}})),
    )
    .await;

    // The station boots; the operator starts a transaction remotely.
    let target = csms.target(CP, 1);
    let mut station: Station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    let start = {
        let api = Api::new(&csms);
        tokio::spawn(async move {
            api.send(
                reqwest::Method::POST,
                &format!("/stations/{CP}/transactions/start"),
                Some(json!({"idToken": {"idToken": "DRIVER-1", "type": "ISO14443"}, "evseId": 1})),
            )
            .await
        })
    };
    let (call_id, request) = station
        .expect_call::<RequestStartTransactionRequest>()
        .await
        .unwrap();
    assert_eq!(request.id_token.id_token, "DRIVER-1");
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
    let started = start.await.unwrap();
    assert_eq!(started["status"], "Accepted");
    assert_eq!(started["remoteStartId"], json!(request.remote_start_id));

    // One hour of charging, reported with the station's timestamps.
    let t0 = Utc::now() - chrono::Duration::hours(2);
    let minutes = |m: i64| t0 + chrono::Duration::minutes(m);
    let mut first = event(
        0,
        TransactionEventEnumType::Started,
        TriggerReasonEnumType::RemoteStart,
        t0,
        ChargingStateEnumType::EvConnected,
    );
    first.transaction_info.remote_start_id = Some(request.remote_start_id);
    first.id_token = Some(IdTokenType {
        custom_data: None,
        additional_info: None,
        id_token: "DRIVER-1".into(),
        r#type: IdTokenEnumType::Iso14443,
    });
    first.evse = Some(EvseType {
        custom_data: None,
        id: 1,
        connector_id: Some(1),
    });
    first.meter_value = Some(energy(t0, 10_000, ReadingContextEnumType::TransactionBegin));
    let answer = station.call(&first).await.unwrap();
    assert_eq!(
        answer
            .id_token_info
            .unwrap()
            .group_id_token
            .unwrap()
            .id_token,
        "FLEET-A"
    );

    let charging = event(
        1,
        TransactionEventEnumType::Updated,
        TriggerReasonEnumType::ChargingStateChanged,
        t0,
        ChargingStateEnumType::Charging,
    );
    station.call(&charging).await.unwrap();
    let mut periodic = event(
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
    let running = station.call(&periodic).await.unwrap();
    // 10 kWh × 0.39 + 30 min × 0.02 + 0.50 = 3.90 + 0.60 + 0.50 = 5.00; + 19 % = 5.95.
    assert_eq!(running.total_cost, Some("5.95".parse().unwrap()));

    let mut suspended = event(
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
        4,
        TransactionEventEnumType::Ended,
        TriggerReasonEnumType::StopAuthorized,
        minutes(60),
        ChargingStateEnumType::EvConnected,
    );
    ended.transaction_info.stopped_reason = Some(ReasonEnumType::Local);
    ended.meter_value = Some(energy(
        minutes(60),
        22_345,
        ReadingContextEnumType::TransactionEnd,
    ));
    let last = station.call(&ended).await.unwrap();
    assert_eq!(last.total_cost, Some("9.17".parse().unwrap()));
    station.close().await;

    // The operator reads the charge record and the transaction's timeline.
    let record = api
        .send(Method::GET, &format!("/charge-records/{CP}%3A{TX}"), None)
        .await;
    let cost = &record["cost"];
    assert_eq!(record["tariffId"], "FLEET", "{record}");
    assert_eq!(record["idToken"], "DRIVER-1");
    assert_eq!(record["groupIdToken"], "FLEET-A");
    assert_eq!(record["stoppedReason"], "Local");
    let amount = |field: &str| -> String {
        match &cost[field] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    };
    assert_eq!(cost["currency"], "EUR");
    assert_eq!(amount("energy"), "4.81");
    assert_eq!(amount("chargingTime"), "0.90");
    assert_eq!(amount("idleTime"), "1.50");
    assert_eq!(amount("sessionFee"), "0.50");
    assert_eq!(amount("totalExclVat"), "7.71");
    assert_eq!(amount("vat"), "1.46");
    assert_eq!(amount("totalInclVat"), "9.17");
    let usage = &record["usage"];
    assert_eq!(usage["chargingSeconds"], 45 * 60);
    assert_eq!(usage["idleSeconds"], 15 * 60);
    assert_eq!(usage["energyWentBackwards"], false);

    let detail = api
        .send(
            Method::GET,
            &format!("/stations/{CP}/transactions/{TX}"),
            None,
        )
        .await;
    assert_eq!(
        detail["remoteStartId"],
        json!(request.remote_start_id),
        "{detail}"
    );
    assert_eq!(detail["events"].as_array().unwrap().len(), 5);
    assert_eq!(detail["meterValues"].as_array().unwrap().len(), 4);
    assert_eq!(detail["chargeRecord"]["id"], record["id"]);
    let listed = api.send(Method::GET, "/charge-records", None).await;
    assert!(listed.to_string().contains(TX));
}

/// A register that goes backwards (a meter swap mid-session) is stored and flagged, and never
/// yields a negative cost: only the energy that went forwards is billed.
#[tokio::test]
async fn energy_going_backwards_is_flagged_and_never_billed_negative() {
    let csms = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let api = Api::new(&csms);
    use reqwest::Method;
    api.send(
        Method::POST,
        "/tariffs",
        Some(
            json!({"id": "E", "currency": "EUR", "vatPercent": "0", "pricePerKwh": "1",
            "pricePerChargingMinute": "0", "pricePerIdleMinute": "0", "sessionFee": "0"}),
        ),
    )
    .await;
    api.send(
        Method::POST,
        "/tariff-assignments",
        Some(json!({"tariffId": "E", "scope": {"scope": "default"}})),
    )
    .await;
    let target = csms.target(CP, 1);
    let mut station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    let t0 = Utc::now() - chrono::Duration::hours(1);
    let at = |m: i64| t0 + chrono::Duration::minutes(m);
    let readings = [(0, 5_000), (10, 7_000), (20, 1_000), (30, 1_500)];
    for (seq, (minute, wh)) in readings.iter().enumerate() {
        let kind = match seq {
            0 => TransactionEventEnumType::Started,
            3 => TransactionEventEnumType::Ended,
            _ => TransactionEventEnumType::Updated,
        };
        let mut e = event(
            seq as i64,
            kind,
            TriggerReasonEnumType::MeterValuePeriodic,
            at(*minute),
            ChargingStateEnumType::Charging,
        );
        if seq == 0 {
            e.evse = Some(EvseType {
                custom_data: None,
                id: 1,
                connector_id: Some(1),
            });
        }
        if seq == 3 {
            e.transaction_info.stopped_reason = Some(ReasonEnumType::Local);
        }
        e.meter_value = Some(energy(
            at(*minute),
            *wh,
            ReadingContextEnumType::SamplePeriodic,
        ));
        let answer = station.call(&e).await.unwrap();
        if let Some(cost) = answer.total_cost {
            assert!(cost >= 0.into(), "negative cost {cost}");
        }
    }
    station.close().await;
    let record = api
        .send(Method::GET, &format!("/charge-records/{CP}%3A{TX}"), None)
        .await;
    // 5000 → 7000 (+2000), 7000 → 1000 (backwards: nothing), 1000 → 1500 (+500): 2.5 kWh.
    assert_eq!(record["usage"]["energyWentBackwards"], true, "{record}");
    assert_eq!(
        record["cost"]["totalInclVat"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| record["cost"]["totalInclVat"].to_string()),
        "2.50"
    );
    let samples = api
        .send(
            Method::GET,
            &format!("/stations/{CP}/meter-values?transactionId={TX}"),
            None,
        )
        .await;
    let flagged: Vec<_> = samples["meterValues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["energyBackwards"] == true)
        .collect();
    assert_eq!(flagged.len(), 1, "{samples}");
}
