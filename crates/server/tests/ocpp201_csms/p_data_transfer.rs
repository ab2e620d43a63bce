//! Block P, DataTransfer. Without vendor extensions every vendorId is unknown to the CSMS
//! (TC_P_02 reads UnknownVendorId); with a handler registered, DataTransfer is routed by
//! vendorId and messageId. P01 goes out through the operator API.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};
use unicharge_core::StationId;
use unicharge_csms::data_transfer::{DataTransferAnswer, DataTransferHandler};
use unicharge_csms::Csms;
use unicharge_ocpp::v201::{DataTransferRequest, DataTransferResponse, DataTransferStatusEnumType};
use unicharge_sim::octt;
use unicharge_sim::octt::p_data_transfer::DataTransferConfig;
use unicharge_sim::octt::states;

use crate::common::{assert_pass, StationSpec, TestCsms};
use crate::rest_operator;

const CP: &str = "CP001";

fn id() -> StationId {
    StationId::new(CP).unwrap()
}

/// TC_P_02_CSMS: no handler for the configured vendorId: UnknownVendorId (P02.FR.06), read
/// back from the station's own message.
#[tokio::test]
async fn tc_p_02_csms() {
    let csms = TestCsms::start(&[StationSpec::new(CP, 1)]).await;
    let target = csms.target(CP, 1);
    assert_pass(
        "TC_P_02_CSMS",
        octt::run("TC_P_02_CSMS", &target, None).await,
    );
    // The table allows three statuses; this CSMS has no vendor extension, so exactly one.
    let mut station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    let cfg = DataTransferConfig::octt();
    let answer = station
        .call(&DataTransferRequest {
            custom_data: None,
            message_id: Some(cfg.message_id),
            data: None,
            vendor_id: cfg.vendor_id,
        })
        .await
        .unwrap();
    assert_eq!(answer.status, DataTransferStatusEnumType::UnknownVendorId);
    assert_eq!(answer.data, None);
}

/// TC_P_03_CSMS: the StatusNotification and the TransactionEvent with customData are answered
/// and kept like any other.
#[tokio::test]
async fn tc_p_03_csms() {
    let csms = TestCsms::start(&[StationSpec::new(CP, 1)]).await;
    assert_pass(
        "TC_P_03_CSMS",
        octt::run("TC_P_03_CSMS", &csms.target(CP, 1), None).await,
    );
    let store = &csms.server.store;
    let connectors = store.connectors(&id()).await.unwrap();
    assert!(
        connectors.iter().any(|c| c.status == "Occupied"),
        "{connectors:?}"
    );
    let transactions = store.transactions(&id(), 10).await.unwrap();
    assert_eq!(transactions.len(), 1, "{transactions:?}");
}

/// Answers `Ping` with the data it got, under `pong`.
struct Echo;

#[async_trait]
impl DataTransferHandler for Echo {
    async fn handle(
        &self,
        _: &Csms,
        station: &StationId,
        _: Option<&str>,
        data: Option<&Value>,
    ) -> DataTransferAnswer {
        DataTransferAnswer {
            accepted: data.is_some(),
            data: Some(json!({"pong": data, "station": station.as_str()})),
        }
    }
}

/// P02 with a registered vendor extension: its messageId reaches the handler (Accepted with the
/// handler's data, Rejected when the handler says so); another messageId of the vendor is
/// UnknownMessageId; another vendor UnknownVendorId.
#[tokio::test]
async fn data_transfer_is_routed_by_vendor_and_message_id() {
    let csms = TestCsms::start(&[StationSpec::new(CP, 1)]).await;
    csms.server.csms.csms.data_transfer_handlers().register(
        "com.example",
        Some("Ping"),
        Arc::new(Echo),
    );
    let target = csms.target(CP, 1);
    let mut station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    let send = |vendor: &str, message: &str, data: Option<Value>| DataTransferRequest {
        custom_data: None,
        message_id: Some(message.into()),
        data,
        vendor_id: vendor.into(),
    };
    let ping = station
        .call(&send("com.example", "Ping", Some(json!({"n": 7}))))
        .await
        .unwrap();
    assert_eq!(ping.status, DataTransferStatusEnumType::Accepted);
    assert_eq!(ping.data, Some(json!({"pong": {"n": 7}, "station": CP})));
    let empty = station
        .call(&send("com.example", "Ping", None))
        .await
        .unwrap();
    assert_eq!(empty.status, DataTransferStatusEnumType::Rejected);
    let other = station
        .call(&send("com.example", "Pong", None))
        .await
        .unwrap();
    assert_eq!(other.status, DataTransferStatusEnumType::UnknownMessageId);
    let vendor = station
        .call(&send("com.other", "Ping", None))
        .await
        .unwrap();
    assert_eq!(vendor.status, DataTransferStatusEnumType::UnknownVendorId);
}

/// P01: the operator's DataTransfer reaches the station as sent, and the station's answer
/// (status and data) comes back; a vendorId over 255 characters is refused before sending.
#[tokio::test]
async fn data_transfer_to_a_station_through_the_api() {
    let (csms, operator) = rest_operator::start(&[StationSpec::new(CP, 1)]).await;
    let target = csms.target(CP, 1);
    let mut station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    let api = {
        let operator = operator.clone();
        tokio::spawn(async move {
            operator
                .post(
                    &format!("/stations/{CP}/data-transfer"),
                    json!({"vendorId": "com.example", "messageId": "SetLogo", "data": {"url": "x"}}),
                )
                .await
        })
    };
    let (call_id, request) = station.expect_call::<DataTransferRequest>().await.unwrap();
    assert_eq!(request.vendor_id, "com.example");
    assert_eq!(request.message_id.as_deref(), Some("SetLogo"));
    assert_eq!(request.data, Some(json!({"url": "x"})));
    station
        .respond::<DataTransferRequest>(
            &call_id,
            &DataTransferResponse {
                custom_data: None,
                status: DataTransferStatusEnumType::UnknownMessageId,
                status_info: None,
                data: Some(json!("no such message")),
            },
        )
        .await
        .unwrap();
    let answer = api.await.unwrap().unwrap();
    assert_eq!(answer["status"], "UnknownMessageId", "{answer}");
    assert_eq!(answer["data"], "no such message", "{answer}");
    let refused = operator
        .post(
            &format!("/stations/{CP}/data-transfer"),
            json!({"vendorId": "v".repeat(256)}),
        )
        .await
        .unwrap_err();
    assert!(refused.starts_with("HTTP 400"), "{refused}");
    assert!(refused.contains("vendorId"), "{refused}");
}
