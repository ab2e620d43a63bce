//! OCPP 1.6J Core profile, station-initiated, against a real server over real sockets (issue
//! 18). A simulated 1.6 charge point (`ConnectOptions::ocpp16`) plays each use case of the 1.6
//! specification; each test is named after the 1.6 message it checks (section 4 of the 1.6
//! specification) and asserts what a wrong answer would get wrong: the allocated transactionId
//! and its retransmission, the parentIdTag of a group, the priced charge record.
//!
//! Amounts (tariff ENERGY: 0.39 / kWh, session fee 0.50, VAT 19 %, no time components):
//! 10 000 → 22 345 Wh = 12.345 kWh → 4.81455 → 4.81; + 0.50 = 5.31 excl. VAT; VAT 1.0089 → 1.01;
//! **6.32** incl. VAT.

#[path = "common/mod.rs"]
mod common;
#[path = "ocpp16_common/mod.rs"]
mod ocpp16_common;

use chrono::Utc;
use reqwest::Method;
use serde_json::json;
use unicharge_ocpp::v16::{
    AuthorizationStatus, AuthorizeRequest, ChargePointStatus, HeartbeatRequest, Measurand,
    MeterValue, MeterValuesRequest, ReadingContext, Reason, RegistrationStatus, SampledValue,
    TransactionData, TransactionDataSampledValue, UnitOfMeasure,
};
use unicharge_ocpp::ErrorCode;
use unicharge_sim::{ConnectError, SimError, Station};

use ocpp16_common::{
    amount, boot_request, booted16, connect16, options16, start, start_request, status,
    stop_request, Api,
};

const CP: &str = "CP16-1";

/// The operator's tokens and the energy tariff of the module docs.
async fn tokens_and_tariff(api: &Api) {
    api.ok(
        Method::PUT,
        "/tokens/ISO14443/DRIVER-16",
        Some(json!({"status": "Accepted", "groupIdToken": "FLEET-16"})),
    )
    .await;
    api.ok(
        Method::PUT,
        "/tokens/ISO14443/BLOCKED-16",
        Some(json!({"status": "Blocked"})),
    )
    .await;
    api.ok(
        Method::POST,
        "/tariffs",
        Some(
            json!({"id": "ENERGY", "currency": "EUR", "vatPercent": "19",
            "pricePerKwh": "0.39", "pricePerChargingMinute": "0", "pricePerIdleMinute": "0",
            "sessionFee": "0.50"}),
        ),
    )
    .await;
    api.ok(
        Method::POST,
        "/tariff-assignments",
        Some(json!({"tariffId": "ENERGY", "scope": {"scope": "default"}})),
    )
    .await;
}

/// Negotiation: `ocpp1.6` alone selects 1.6, both select 2.0.1 unless the operator prefers 1.6
/// for the station; the API shows the version of the newest connection; the same admission
/// rules (a wrong password is 401 in 1.6 too).
#[tokio::test]
async fn ocpp16_core_negotiation() {
    let (csms, api) = start(&[CP]).await;
    let station = booted16(&csms, CP).await;
    let view = api.ok(Method::GET, &format!("/stations/{CP}"), None).await;
    assert_eq!(view["ocppVersion"], "1.6", "{view}");
    station.close().await;

    let mut both = options16(&csms, CP);
    both.subprotocols = vec!["ocpp1.6".into(), "ocpp2.0.1".into()];
    let mut station = Station::connect(&both).await.unwrap();
    assert_eq!(station.version(), unicharge_ocpp::OcppVersion::V201);
    // Once a CALL is answered, the connection's start (and its version) is committed.
    station
        .call(&unicharge_ocpp::v201::HeartbeatRequest { custom_data: None })
        .await
        .unwrap();
    let view = api.ok(Method::GET, &format!("/stations/{CP}"), None).await;
    assert_eq!(view["ocppVersion"], "2.0.1", "{view}");
    station.close().await;

    // The operator prefers 1.6 for this station: offering both now selects 1.6.
    let (status, body) = api
        .call(
            Method::PATCH,
            &format!("/stations/{CP}"),
            Some(json!({"preferredOcppVersion": "1.5"})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{body}");
    let view = api
        .ok(
            Method::PATCH,
            &format!("/stations/{CP}"),
            Some(json!({"preferredOcppVersion": "1.6"})),
        )
        .await;
    assert_eq!(view["preferredOcppVersion"], "1.6", "{view}");
    let station = Station::connect(&both).await.unwrap();
    assert_eq!(station.version(), unicharge_ocpp::OcppVersion::V16);
    station.close().await;
    // A preference the station does not offer is not forced on it.
    let mut only201 = options16(&csms, CP);
    only201.subprotocols = vec!["ocpp2.0.1".into()];
    let station = Station::connect(&only201).await.unwrap();
    assert_eq!(station.version(), unicharge_ocpp::OcppVersion::V201);
    station.close().await;

    let mut wrong = options16(&csms, CP);
    wrong.basic = Some((CP.into(), "not-the-password-at-all".into()));
    match Station::connect(&wrong).await {
        Err(ConnectError::Http(401)) => {}
        other => panic!(
            "a wrong password over 1.6 must be 401, got {:?}",
            other.err()
        ),
    }
}

/// BootNotification.conf: Accepted with the heartbeat interval and the time; what the charge
/// point says it is lands in the station record.
#[tokio::test]
async fn ocpp16_core_boot_notification() {
    let (csms, api) = start(&[CP]).await;
    let mut station = connect16(&csms, CP).await;
    let before = Utc::now();
    let answer = station.call16(&boot_request()).await.unwrap();
    assert_eq!(answer.status, RegistrationStatus::Accepted);
    assert!(answer.interval > 0);
    assert!((answer.current_time - before).num_seconds().abs() < 5);
    let view = api.ok(Method::GET, &format!("/stations/{CP}"), None).await;
    assert_eq!(view["model"], "AC-22-1.6", "{view}");
    assert_eq!(view["vendorName"], "Unicharge-Sim");
    assert_eq!(view["serialNumber"], "SN-16-0001");
    assert_eq!(view["firmwareVersion"], "1.6.0-test");
    assert_eq!(view["lastBootStatus"], "Accepted");
}

/// A Pending charge point (the operator parked it) is answered Pending and may not authorize
/// or transact until accepted: the same admission rule as 2.0.1 (B02.FR.09).
#[tokio::test]
async fn ocpp16_core_boot_notification_pending() {
    let (csms, api) = start(&[CP]).await;
    tokens_and_tariff(&api).await;
    api.ok(
        Method::PATCH,
        &format!("/stations/{CP}"),
        Some(json!({"registration": "Pending"})),
    )
    .await;
    let mut station = connect16(&csms, CP).await;
    let answer = station.call16(&boot_request()).await.unwrap();
    assert_eq!(answer.status, RegistrationStatus::Pending);
    let refused = station
        .call16(&start_request("DRIVER-16", 0, Utc::now()))
        .await;
    assert!(
        matches!(
            refused,
            Err(SimError::CallError {
                code: ErrorCode::SecurityError,
                ..
            })
        ),
        "{refused:?}"
    );
    let refused = station
        .call16(&AuthorizeRequest {
            id_tag: "DRIVER-16".into(),
        })
        .await;
    assert!(matches!(
        refused,
        Err(SimError::CallError {
            code: ErrorCode::SecurityError,
            ..
        })
    ));
    let (_, listed) = api
        .call(Method::GET, &format!("/stations/{CP}/transactions"), None)
        .await;
    assert_eq!(
        listed["transactions"].as_array().map(Vec::len),
        Some(0),
        "{listed}"
    );

    // Accepted by the operator: the next boot is Accepted and the start goes through.
    api.ok(
        Method::PATCH,
        &format!("/stations/{CP}"),
        Some(json!({"registration": "Accepted"})),
    )
    .await;
    let answer = station.call16(&boot_request()).await.unwrap();
    assert_eq!(answer.status, RegistrationStatus::Accepted);
    let started = station
        .call16(&start_request("DRIVER-16", 0, Utc::now()))
        .await
        .unwrap();
    assert_eq!(started.id_tag_info.status, AuthorizationStatus::Accepted);
}

/// Heartbeat.conf carries the Central System's time.
#[tokio::test]
async fn ocpp16_core_heartbeat() {
    let (csms, _api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let answer = station.call16(&HeartbeatRequest {}).await.unwrap();
    assert!((answer.current_time - Utc::now()).num_seconds().abs() < 5);
}

/// StatusNotification: connector 0 is the charge point (EVSE 0), connector n is EVSE n; the
/// 1.6 states that mean a vehicle is there are Occupied.
#[tokio::test]
async fn ocpp16_core_status_notification() {
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    station
        .call16(&status(0, ChargePointStatus::Available))
        .await
        .unwrap();
    station
        .call16(&status(1, ChargePointStatus::Charging))
        .await
        .unwrap();
    station
        .call16(&status(2, ChargePointStatus::Faulted))
        .await
        .unwrap();
    let connectors = api
        .ok(Method::GET, &format!("/stations/{CP}/connectors"), None)
        .await;
    let of = |evse: i64| {
        connectors
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["evseId"] == evse)
            .map(|c| c["status"].as_str().unwrap().to_string())
    };
    assert_eq!(of(0).as_deref(), Some("Available"), "{connectors}");
    assert_eq!(of(1).as_deref(), Some("Occupied"), "{connectors}");
    assert_eq!(of(2).as_deref(), Some("Faulted"), "{connectors}");
}

/// Authorize.conf: idTagInfo from the token store, the group as parentIdTag; unknown is
/// Invalid, blocked is Blocked.
#[tokio::test]
async fn ocpp16_core_authorize() {
    let (csms, api) = start(&[CP]).await;
    tokens_and_tariff(&api).await;
    let mut station = booted16(&csms, CP).await;
    let authorize = |tag: &str| AuthorizeRequest { id_tag: tag.into() };
    let accepted = station.call16(&authorize("DRIVER-16")).await.unwrap();
    assert_eq!(accepted.id_tag_info.status, AuthorizationStatus::Accepted);
    assert_eq!(
        accepted.id_tag_info.parent_id_tag.as_deref(),
        Some("FLEET-16")
    );
    // idTags are case-insensitive.
    let lower = station.call16(&authorize("driver-16")).await.unwrap();
    assert_eq!(lower.id_tag_info.status, AuthorizationStatus::Accepted);
    let unknown = station.call16(&authorize("NOBODY")).await.unwrap();
    assert_eq!(unknown.id_tag_info.status, AuthorizationStatus::Invalid);
    assert_eq!(unknown.id_tag_info.parent_id_tag, None);
    let blocked = station.call16(&authorize("BLOCKED-16")).await.unwrap();
    assert_eq!(blocked.id_tag_info.status, AuthorizationStatus::Blocked);
}

/// StartTransaction.conf: a CSMS-allocated integer transactionId, durable before answered; the
/// same CALL retransmitted gets the same answer, and the same start under a new message id
/// (after a reconnect) the same id; another start another id.
#[tokio::test]
async fn ocpp16_core_start_transaction() {
    let (csms, api) = start(&[CP]).await;
    tokens_and_tariff(&api).await;
    let mut station = booted16(&csms, CP).await;
    let at = Utc::now() - chrono::Duration::minutes(5);
    let request = start_request("DRIVER-16", 10_000, at);
    let first = station.call16(&request).await.unwrap();
    assert_eq!(first.id_tag_info.status, AuthorizationStatus::Accepted);
    assert_eq!(first.id_tag_info.parent_id_tag.as_deref(), Some("FLEET-16"));
    assert!(first.transaction_id > 0);

    // The same CALL (same message id and payload) again: the stored answer.
    let id = station.last_call_id().unwrap();
    let frame = unicharge_ocpp::Frame::Call {
        id: id.clone(),
        action: "StartTransaction".into(),
        payload: serde_json::to_value(&request).unwrap(),
    };
    station.send_text(&frame.to_text()).await.unwrap();
    let again = match station.await_answer(&id).await.unwrap() {
        unicharge_ocpp::Frame::CallResult { payload, .. } => payload,
        other => panic!("{other:?}"),
    };
    assert_eq!(again["transactionId"], json!(first.transaction_id));

    // The same start after a reconnect, under a new message id: the same transactionId.
    station.close().await;
    let mut station = booted16(&csms, CP).await;
    let resent = station.call16(&request).await.unwrap();
    assert_eq!(resent.transaction_id, first.transaction_id);

    // Another start: another id.
    let other = station
        .call16(&start_request("DRIVER-16", 30_000, Utc::now()))
        .await
        .unwrap();
    assert_ne!(other.transaction_id, first.transaction_id);

    let tx = api
        .ok(
            Method::GET,
            &format!("/stations/{CP}/transactions/{}", first.transaction_id),
            None,
        )
        .await;
    assert_eq!(tx["idToken"], "DRIVER-16", "{tx}");
    assert_eq!(tx["evseId"], 1, "{tx}");
    assert_eq!(tx["groupIdToken"], "FLEET-16", "{tx}");
}

/// MeterValues of a transaction join its meter series (and its running cost); MeterValues
/// without a transaction are the charge point's own.
#[tokio::test]
async fn ocpp16_core_meter_values() {
    let (csms, api) = start(&[CP]).await;
    tokens_and_tariff(&api).await;
    let mut station = booted16(&csms, CP).await;
    let t0 = Utc::now() - chrono::Duration::hours(1);
    let started = station
        .call16(&start_request("DRIVER-16", 10_000, t0))
        .await
        .unwrap();
    let tx = started.transaction_id;
    let sample = |value: &str, measurand, unit| SampledValue {
        value: value.into(),
        context: Some(ReadingContext::SamplePeriodic),
        format: None,
        measurand: Some(measurand),
        phase: None,
        location: None,
        unit: Some(unit),
    };
    station
        .call16(&MeterValuesRequest {
            connector_id: 1,
            transaction_id: Some(tx),
            meter_value: vec![MeterValue {
                timestamp: t0 + chrono::Duration::minutes(30),
                sampled_value: vec![
                    sample(
                        "15.5",
                        Measurand::EnergyActiveImportRegister,
                        UnitOfMeasure::KWh,
                    ),
                    sample("11000", Measurand::PowerActiveImport, UnitOfMeasure::W),
                ],
            }],
        })
        .await
        .unwrap();
    station
        .call16(&MeterValuesRequest {
            connector_id: 0,
            transaction_id: None,
            meter_value: vec![MeterValue {
                timestamp: t0,
                sampled_value: vec![sample("230.1", Measurand::Voltage, UnitOfMeasure::V)],
            }],
        })
        .await
        .unwrap();
    let series = api
        .ok(
            Method::GET,
            &format!("/stations/{CP}/meter-values?transactionId={tx}"),
            None,
        )
        .await;
    // meterStart, the kWh register (15.5 kWh = 15 500 Wh) and the power sample.
    let series = series["meterValues"].as_array().unwrap().clone();
    assert_eq!(series.len(), 3, "{series:?}");
    assert_eq!(series[1]["wh"], "15500.0", "{series:?}");
    assert_eq!(series[2]["measurand"], "Power.Active.Import", "{series:?}");
    let station_meter = api
        .ok(
            Method::GET,
            &format!("/stations/{CP}/meter-values?evseId=0"),
            None,
        )
        .await;
    assert!(
        station_meter.to_string().contains("Voltage"),
        "{station_meter}"
    );
    let detail = api
        .ok(
            Method::GET,
            &format!("/stations/{CP}/transactions/{tx}"),
            None,
        )
        .await;
    assert_eq!(
        detail["events"].as_array().map(Vec::len),
        Some(2),
        "{detail}"
    );
}

/// StopTransaction with transactionData ends the transaction; the charge record is priced from
/// meterStart / meterStop with the same tariff as 2.0.1 (6.32, see the module docs).
#[tokio::test]
async fn ocpp16_core_stop_transaction() {
    let (csms, api) = start(&[CP]).await;
    tokens_and_tariff(&api).await;
    let mut station = booted16(&csms, CP).await;
    let t0 = Utc::now() - chrono::Duration::hours(2);
    let started = station
        .call16(&start_request("DRIVER-16", 10_000, t0))
        .await
        .unwrap();
    let tx = started.transaction_id;
    let mut stop = stop_request(tx, 22_345, t0 + chrono::Duration::hours(1));
    stop.id_tag = Some("DRIVER-16".into());
    stop.reason = Some(Reason::EvDisconnected);
    stop.transaction_data = Some(vec![TransactionData {
        timestamp: t0 + chrono::Duration::minutes(30),
        sampled_value: vec![TransactionDataSampledValue {
            value: "16000".into(),
            context: Some(ReadingContext::SamplePeriodic),
            format: None,
            measurand: Some(Measurand::EnergyActiveImportRegister),
            phase: None,
            location: None,
            unit: None,
        }],
    }]);
    let answer = station.call16(&stop).await.unwrap();
    assert_eq!(
        answer.id_tag_info.map(|i| i.status),
        Some(AuthorizationStatus::Accepted)
    );

    let record = api
        .ok(Method::GET, &format!("/charge-records/{CP}%3A{tx}"), None)
        .await;
    let cost = &record["cost"];
    assert_eq!(record["idToken"], "DRIVER-16", "{record}");
    assert_eq!(record["groupIdToken"], "FLEET-16");
    assert_eq!(record["stoppedReason"], "EVDisconnected");
    assert_eq!(record["tariffId"], "ENERGY");
    assert_eq!(amount(&cost["energy"]), "4.81", "{record}");
    assert_eq!(amount(&cost["sessionFee"]), "0.50");
    assert_eq!(amount(&cost["totalExclVat"]), "5.31");
    assert_eq!(amount(&cost["vat"]), "1.01");
    assert_eq!(amount(&cost["totalInclVat"]), "6.32");
    let detail = api
        .ok(
            Method::GET,
            &format!("/stations/{CP}/transactions/{tx}"),
            None,
        )
        .await;
    assert!(detail["endedAt"].is_string(), "{detail}");
    // meterStart, the transactionData sample, meterStop.
    assert_eq!(
        detail["meterValues"].as_array().map(Vec::len),
        Some(3),
        "{detail}"
    );

    // A retransmitted stop (new message id) does not make a second record or change the cost.
    station.call16(&stop).await.unwrap();
    let records = api
        .ok(
            Method::GET,
            &format!("/charge-records?stationId={CP}"),
            None,
        )
        .await;
    let ours = records["chargeRecords"]
        .as_array()
        .unwrap_or_else(|| panic!("{records}"))
        .iter()
        .filter(|r| r["transactionId"] == json!(tx.to_string()))
        .count();
    assert_eq!(ours, 1, "{records}");
}

/// An unknown or Central-System action from a 1.6 charge point gets the 1.6 error codes.
#[tokio::test]
async fn ocpp16_core_unknown_action_is_not_implemented() {
    let (csms, _api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let unknown = station.call_raw("TransactionEvent", json!({})).await;
    assert!(
        matches!(
            unknown,
            Err(SimError::CallError {
                code: ErrorCode::NotImplemented,
                ..
            })
        ),
        "{unknown:?}"
    );
    // A payload that breaks the 1.6 schema: FormationViolation / TypeConstraint family.
    let bad = station
        .call_raw("Heartbeat", json!({"unexpected": true}))
        .await;
    assert!(matches!(bad, Err(SimError::CallError { .. })), "{bad:?}");
    // The connection stays up.
    station.call16(&HeartbeatRequest {}).await.unwrap();
}

/// Issue 18's switch: a charge point boots in 1.6 and charges, reconnects speaking 2.0.1 and
/// charges again. One station (same id, same record), two transactions, two charge records,
/// each priced by the same tariff: 12.345 kWh → 6.32 (module docs); 10 kWh → 3.90 + 0.50 =
/// 4.40, VAT 0.836 → 0.84, 5.24.
#[tokio::test]
async fn ocpp16_core_switch_to_ocpp201_keeps_identity_and_records() {
    use common::payloads::{energy, transaction_event};
    use unicharge_ocpp::v201::{
        self, ChargingStateEnumType, IdTokenEnumType, IdTokenType, ReadingContextEnumType,
        TransactionEventEnumType as E, TriggerReasonEnumType as T,
    };

    let (csms, api) = start(&[CP]).await;
    tokens_and_tariff(&api).await;
    let t0 = Utc::now() - chrono::Duration::hours(3);
    let hour = |h: i64| t0 + chrono::Duration::hours(h);

    // 1.6: boot, charge 12.345 kWh, stop.
    let mut station = booted16(&csms, CP).await;
    let started = station
        .call16(&start_request("DRIVER-16", 10_000, hour(0)))
        .await
        .unwrap();
    let tx16 = started.transaction_id;
    station
        .call16(&stop_request(tx16, 22_345, hour(1)))
        .await
        .unwrap();
    station.close().await;

    // 2.0.1: the same station id and password, another protocol.
    let target = csms.target(CP, 1);
    let mut station = target.connect().await.unwrap();
    assert_eq!(station.version(), unicharge_ocpp::OcppVersion::V201);
    unicharge_sim::octt::states::booted(&mut station, &target)
        .await
        .unwrap();
    let mut first = transaction_event(
        "TX-201",
        0,
        E::Started,
        T::Authorized,
        hour(2),
        ChargingStateEnumType::EvConnected,
    );
    first.id_token = Some(IdTokenType {
        custom_data: None,
        additional_info: None,
        id_token: "DRIVER-16".into(),
        r#type: IdTokenEnumType::Iso14443,
    });
    first.evse = Some(v201::EvseType {
        custom_data: None,
        id: 1,
        connector_id: Some(1),
    });
    first.meter_value = Some(energy(hour(2), 0, ReadingContextEnumType::TransactionBegin));
    station.call(&first).await.unwrap();
    let mut ended = transaction_event(
        "TX-201",
        1,
        E::Ended,
        T::StopAuthorized,
        hour(3),
        ChargingStateEnumType::EvConnected,
    );
    ended.meter_value = Some(energy(
        hour(3),
        10_000,
        ReadingContextEnumType::TransactionEnd,
    ));
    let last = station.call(&ended).await.unwrap();
    assert_eq!(last.total_cost, Some("5.24".parse().unwrap()));

    let view = api.ok(Method::GET, &format!("/stations/{CP}"), None).await;
    assert_eq!(view["ocppVersion"], "2.0.1", "{view}");
    let listed = api
        .ok(Method::GET, &format!("/stations/{CP}/transactions"), None)
        .await;
    let ids: Vec<_> = listed["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["transactionId"].as_str().unwrap().to_string())
        .collect();
    assert!(
        ids.contains(&tx16.to_string()) && ids.contains(&"TX-201".to_string()),
        "{listed}"
    );
    for (tx, total) in [(tx16.to_string(), "6.32"), ("TX-201".to_string(), "5.24")] {
        let record = api
            .ok(Method::GET, &format!("/charge-records/{CP}%3A{tx}"), None)
            .await;
        assert_eq!(record["stationId"], CP, "{record}");
        assert_eq!(record["idToken"], "DRIVER-16", "{record}");
        assert_eq!(amount(&record["cost"]["totalInclVat"]), total, "{record}");
    }
}

/// StatusNotification Charging / SuspendedEV during a transaction is its charging state, so a
/// time-based tariff prices a 1.6 session exactly like the 2.0.1 one of `money_path.rs`:
/// 12.345 kWh × 0.39 = 4.81, 45 charging min × 0.02 = 0.90, 15 idle min × 0.10 = 1.50, fee
/// 0.50: 7.71 excl. VAT, 1.46 VAT, **9.17**.
#[tokio::test]
async fn ocpp16_core_status_notification_prices_charging_and_idle_time() {
    let (csms, api) = start(&[CP]).await;
    tokens_and_tariff(&api).await;
    api.ok(
        Method::POST,
        "/tariffs",
        Some(
            json!({"id": "FLEET", "currency": "EUR", "vatPercent": "19", "pricePerKwh": "0.39",
            "pricePerChargingMinute": "0.02", "pricePerIdleMinute": "0.10", "sessionFee": "0.50"}),
        ),
    )
    .await;
    api.ok(
        Method::POST,
        "/tariff-assignments",
        Some(json!({"tariffId": "FLEET", "scope": {"scope": "tokenGroup", "groupIdToken": "FLEET-16"}})),
    )
    .await;
    let mut station = booted16(&csms, CP).await;
    let t0 = Utc::now() - chrono::Duration::hours(2);
    let minutes = |m: i64| t0 + chrono::Duration::minutes(m);
    let at = |connector, state, m| {
        let mut s = status(connector, state);
        s.timestamp = Some(minutes(m));
        s
    };
    station
        .call16(&at(1, ChargePointStatus::Preparing, 0))
        .await
        .unwrap();
    let tx = station
        .call16(&start_request("DRIVER-16", 10_000, t0))
        .await
        .unwrap()
        .transaction_id;
    station
        .call16(&at(1, ChargePointStatus::Charging, 0))
        .await
        .unwrap();
    let energy = |m: i64, wh: &str| MeterValuesRequest {
        connector_id: 1,
        transaction_id: Some(tx),
        meter_value: vec![MeterValue {
            timestamp: minutes(m),
            sampled_value: vec![SampledValue {
                value: wh.into(),
                context: Some(ReadingContext::SamplePeriodic),
                format: None,
                measurand: Some(Measurand::EnergyActiveImportRegister),
                phase: None,
                location: None,
                unit: None,
            }],
        }],
    };
    station.call16(&energy(30, "20000")).await.unwrap();
    station.call16(&energy(45, "22345")).await.unwrap();
    station
        .call16(&at(1, ChargePointStatus::SuspendedEv, 45))
        .await
        .unwrap();
    station
        .call16(&stop_request(tx, 22_345, minutes(60)))
        .await
        .unwrap();
    station
        .call16(&at(1, ChargePointStatus::Finishing, 60))
        .await
        .unwrap();

    let record = api
        .ok(Method::GET, &format!("/charge-records/{CP}%3A{tx}"), None)
        .await;
    let cost = &record["cost"];
    assert_eq!(record["tariffId"], "FLEET", "{record}");
    assert_eq!(amount(&cost["energy"]), "4.81", "{record}");
    assert_eq!(amount(&cost["chargingTime"]), "0.90", "{record}");
    assert_eq!(amount(&cost["idleTime"]), "1.50", "{record}");
    assert_eq!(amount(&cost["totalExclVat"]), "7.71", "{record}");
    assert_eq!(amount(&cost["totalInclVat"]), "9.17", "{record}");
    assert_eq!(record["usage"]["chargingSeconds"], 45 * 60, "{record}");
    assert_eq!(record["usage"]["idleSeconds"], 15 * 60, "{record}");
}

/// DataTransfer goes to the same vendor routing as 2.0.1: an unknown vendor is UnknownVendorId
/// (not a CALLERROR).
#[tokio::test]
async fn ocpp16_core_data_transfer() {
    let (csms, _api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let answer = station
        .call16(&unicharge_ocpp::v16::DataTransferRequest {
            vendor_id: "com.example.nobody".into(),
            message_id: Some("Ping".into()),
            data: Some("{\"x\":1}".into()),
        })
        .await
        .unwrap();
    assert_eq!(
        answer.status,
        unicharge_ocpp::v16::DataTransferStatus::UnknownVendorId
    );
}

/// The load generator's half-and-half fleet (`unicharge-sim load --ocpp16-percent 50`) against
/// a real server: every other station speaks 1.6 and plays the same sessions as
/// StartTransaction / MeterValues / StopTransaction with the transactionId the CSMS allocated;
/// no message is refused, and the 1.6 stations' transactions are stored with their events.
/// (The figures are measured with a release build: docs/benchmarks.md.)
#[tokio::test]
async fn load_mix_with_half_the_stations_on_ocpp16() {
    use unicharge_sim::load;
    const IDS: [&str; 4] = ["LOAD16-0", "LOAD16-1", "LOAD16-2", "LOAD16-3"];
    let (csms, api) = start(&IDS).await;
    let mix = load::Mix {
        updates_per_session: 2,
        meter_values_every: 1,
        authorize_percent: 50,
        ..load::Mix::default()
    };
    // Closed loop for as long as it takes the 4 stations to play a few sessions each.
    let report =
        common::play_load(&csms, &IDS, mix, std::time::Duration::from_millis(1500), 50).await;
    assert_eq!(report.connected, 4, "{report:?}");
    assert!(report.errors.is_empty(), "{report:?}");
    for kind in [
        "StartTransaction (1.6)",
        "MeterValues of a transaction (1.6)",
        "StopTransaction (1.6)",
        "TransactionEvent Started",
        "TransactionEvent Ended",
    ] {
        assert!(report.by_kind[kind] > 0, "{kind}: {report:?}");
    }
    // Stations 1 and 3 spoke 1.6: their transactions are the core's, with integer ids and
    // their StartTransaction, MeterValues and StopTransaction as events.
    for id in ["LOAD16-1", "LOAD16-3"] {
        let station = api.ok(Method::GET, &format!("/stations/{id}"), None).await;
        assert_eq!(station["ocppVersion"], "1.6", "{station}");
        let list = api
            .ok(Method::GET, &format!("/stations/{id}/transactions"), None)
            .await;
        // The newest may be the session the deadline interrupted: look at one that ended.
        let ended = list["transactions"]
            .as_array()
            .expect("transactions")
            .iter()
            .find(|t| !t["endedAt"].is_null())
            .unwrap_or_else(|| panic!("no ended transaction: {list}"));
        assert!(
            ended["transactionId"]
                .as_str()
                .unwrap()
                .parse::<i64>()
                .is_ok(),
            "{list}"
        );
        assert!(ended["events"].as_i64().unwrap() >= 2, "{list}");
    }
}
