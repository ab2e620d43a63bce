//! Fleet helpers for the log-upload and rollout-campaign tests: an operator API client, and
//! simulated stations that boot with given boot data and then act as devices
//! (`unicharge_sim::device`): download firmware and upload logs over real HTTP.
#![allow(dead_code)]

use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::Value;
use unicharge_ocpp::v201::{
    BootNotificationRequest, BootReasonEnumType, ChargingStationType, RegistrationStatusEnumType,
};
use unicharge_sim::{ConnectOptions, Station};

use crate::common::{TestCsms, PASSWORD};

/// The operator API of a test server, with its admin key.
pub struct Api {
    pub client: Client,
    /// `http://127.0.0.1:<port>`
    pub base: String,
    pub key: String,
}

impl Api {
    pub fn new(csms: &TestCsms) -> Api {
        Api {
            client: Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            base: format!("http://{}", csms.server.http_addr.expect("[http] listen")),
            key: csms.server.initial_admin_key.clone().expect("admin key"),
        }
    }

    /// `method /api/v1/{path}` with an optional JSON body: status and JSON answer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}/api/v1/{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Raw bytes of `GET /api/v1/{path}`.
    pub async fn bytes(&self, path: &str) -> (StatusCode, Vec<u8>) {
        let response = self
            .client
            .get(format!("{}/api/v1/{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        (response.status(), response.bytes().await.unwrap().to_vec())
    }

    /// Keep a firmware file to serve; its id (SHA-256).
    pub async fn upload_firmware(&self, name: &str, content: &[u8]) -> String {
        let response = self
            .client
            .post(format!("{}/api/v1/firmware?name={name}", self.base))
            .bearer_auth(&self.key)
            .body(content.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["sha256"].as_str().unwrap().to_string()
    }
}

/// Connect `id` over ws (Basic auth with the test password) and boot it with this boot data.
pub async fn boot(csms: &TestCsms, id: &str, firmware_version: &str) -> Station {
    let mut options = ConnectOptions::new(format!("{}/{id}", csms.ws_base())).basic(id, PASSWORD);
    options.timeout = Duration::from_secs(5);
    let mut station = Station::connect(&options)
        .await
        .unwrap_or_else(|e| panic!("{id} could not connect: {e}"));
    let answer = station
        .call(&BootNotificationRequest {
            custom_data: None,
            charging_station: ChargingStationType {
                custom_data: None,
                serial_number: None,
                model: "AC22".into(),
                modem: None,
                vendor_name: "Acme".into(),
                firmware_version: Some(firmware_version.into()),
            },
            reason: BootReasonEnumType::PowerUp,
        })
        .await
        .unwrap();
    assert_eq!(answer.status, RegistrationStatusEnumType::Accepted, "{id}");
    station
}

/// Poll `check` (reading the API) until it returns `Some`, for at most `within`.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {within:?} for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Hex SHA-256.
pub fn sha256(bytes: &[u8]) -> String {
    openssl::sha::sha256(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
