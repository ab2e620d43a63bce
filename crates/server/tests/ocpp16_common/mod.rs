//! What the OCPP 1.6 tests share: a server with the operator API on, an API client that returns
//! status and body (refusals are asserted too), 1.6 stations connected over real WebSockets,
//! and the 1.6 messages the cases send.
#![allow(dead_code)] // each test binary uses its own part

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;
use unicharge_ocpp::v16::{
    BootNotificationRequest, ChargePointErrorCode, ChargePointStatus, RegistrationStatus,
    StartTransactionRequest, StatusNotificationRequest, StopTransactionRequest,
};
use unicharge_sim::{ConnectOptions, Station};

use crate::common::{StationSpec, TestCsms, PASSWORD};

/// A server with the REST API listening, these stations provisioned (profile 1, Basic).
pub async fn start(stations: &[&'static str]) -> (TestCsms, Api) {
    let specs: Vec<_> = stations.iter().map(|id| StationSpec::new(id, 1)).collect();
    let csms = TestCsms::start_with(&specs, |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let api = Api::new(&csms);
    (csms, api)
}

/// The options of a 1.6 station at security profile 1 (ws + Basic).
pub fn options16(csms: &TestCsms, id: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(format!("{}/{id}", csms.ws_base())).ocpp16();
    options.basic = Some((id.to_string(), PASSWORD.to_string()));
    options.timeout = Duration::from_secs(10);
    options
}

/// Connect as a 1.6 station; the CSMS must select `ocpp1.6`.
pub async fn connect16(csms: &TestCsms, id: &str) -> Station {
    let station = Station::connect(&options16(csms, id)).await.unwrap();
    assert_eq!(station.version(), unicharge_ocpp::OcppVersion::V16);
    station
}

/// Connect and boot as a 1.6 station; the boot must be Accepted.
pub async fn booted16(csms: &TestCsms, id: &str) -> Station {
    let mut station = connect16(csms, id).await;
    let answer = station.call16(&boot_request()).await.unwrap();
    assert_eq!(answer.status, RegistrationStatus::Accepted);
    station
}

pub fn boot_request() -> BootNotificationRequest {
    BootNotificationRequest {
        charge_point_vendor: "Unicharge-Sim".into(),
        charge_point_model: "AC-22-1.6".into(),
        charge_point_serial_number: Some("SN-16-0001".into()),
        charge_box_serial_number: None,
        firmware_version: Some("1.6.0-test".into()),
        iccid: None,
        imsi: None,
        meter_type: None,
        meter_serial_number: None,
    }
}

pub fn status(connector_id: i64, status: ChargePointStatus) -> StatusNotificationRequest {
    StatusNotificationRequest {
        connector_id,
        error_code: ChargePointErrorCode::NoError,
        info: None,
        status,
        timestamp: Some(Utc::now()),
        vendor_id: None,
        vendor_error_code: None,
    }
}

pub fn start_request(id_tag: &str, meter_start: i64, at: DateTime<Utc>) -> StartTransactionRequest {
    StartTransactionRequest {
        connector_id: 1,
        id_tag: id_tag.into(),
        meter_start,
        reservation_id: None,
        timestamp: at,
    }
}

pub fn stop_request(
    transaction_id: i64,
    meter_stop: i64,
    at: DateTime<Utc>,
) -> StopTransactionRequest {
    StopTransactionRequest {
        id_tag: None,
        meter_stop,
        timestamp: at,
        transaction_id,
        reason: None,
        transaction_data: None,
    }
}

/// The operator's REST client.
#[derive(Clone)]
pub struct Api {
    client: Client,
    base: String,
    key: String,
}

impl Api {
    pub fn new(csms: &TestCsms) -> Api {
        Api {
            client: Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            base: format!("http://{}/api/v1", csms.server.http_addr.unwrap()),
            key: csms.server.initial_admin_key.clone().unwrap(),
        }
    }

    /// Any request: status and JSON body (Null when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A request that must succeed; its body.
    pub async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, body) = self.call(method.clone(), path, body).await;
        assert!(
            status.is_success(),
            "{method} {path}: HTTP {status}: {body}"
        );
        body
    }
}

/// Call the API in the background while the 1.6 station takes the CALL it causes (`R`) and
/// answers `response`; returns the CALL the station got and the API's status and body.
pub async fn operate<R: unicharge_ocpp::v16::OcppRequest>(
    api: &Api,
    station: &mut Station,
    path: &str,
    body: Value,
    response: R::Response,
) -> (R, StatusCode, Value) {
    let call = {
        let api = api.clone();
        let path = path.to_string();
        tokio::spawn(async move { api.call(Method::POST, &path, Some(body)).await })
    };
    let (id, request) = station.expect_call16::<R>().await.unwrap();
    station.respond16::<R>(&id, &response).await.unwrap();
    let (status, body) = call.await.unwrap();
    (request, status, body)
}

/// The decimal text of an amount the API returns (a string or a number).
pub fn amount(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
