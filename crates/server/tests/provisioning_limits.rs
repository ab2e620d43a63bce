//! B06.FR.05 / B05: GetVariables and SetVariables requests respect the station's
//! `DeviceDataCtrlr.ItemsPerMessage` and `BytesPerMessage` (instances `GetVariables` /
//! `SetVariables`). Driven over the operator REST API (`POST /api/v1/stations/{id}/variables/get`
//! and `/set`) against a real server whose OCPP side talks to a simulated station that checks
//! every CALL it gets.
//!
//! Covered: limits unknown → read first (one item per read) and kept, then the split; limits
//! known (from that read, or from a base report) → nothing read; the split by encoded size, with
//! an item too big for the limit sent alone; a failing part fails the operation and keeps what
//! the parts before it read; one item needs no limits.
//!
//! Every test runs its own server on ephemeral loopback ports. Nothing sleeps.

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use chrono::Utc;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use unicharge_ocpp::v201::{
    AttributeEnumType, ComponentType, DataEnumType, GetVariableResultType,
    GetVariableStatusEnumType, GetVariablesRequest, GetVariablesResponse, MutabilityEnumType,
    NotifyReportRequest, ReportDataType, SetVariableResultType, SetVariableStatusEnumType,
    SetVariablesRequest, SetVariablesResponse, VariableAttributeType, VariableCharacteristicsType,
    VariableType,
};
use unicharge_ocpp::{ErrorCode, Frame};
use unicharge_sim::octt::{states, Target};
use unicharge_sim::{ConnectOptions, DeviceDataLimits, Station};

use common::{StationSpec, TestCsms, PASSWORD};

const CP: &str = "CP001";

struct Api {
    csms: TestCsms,
    base: String,
    admin: String,
    http: Client,
}

async fn start() -> Api {
    let csms = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        s.csms.wss_listen = None;
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let addr = csms.server.http_addr.expect("the HTTP port is on");
    let admin = csms
        .server
        .initial_admin_key
        .clone()
        .expect("the first start creates an admin key");
    let http = Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    Api {
        csms,
        base: format!("http://{addr}/api/v1"),
        admin,
        http,
    }
}

impl Api {
    /// POST under the station in a task, so that the station can answer the CALLs meanwhile;
    /// the task gives the HTTP status and JSON body.
    fn spawn_post(&self, path: &str, body: Value) -> JoinHandle<(StatusCode, Value)> {
        let request = self
            .http
            .post(format!("{}/stations/{CP}/{path}", self.base))
            .bearer_auth(&self.admin)
            .json(&body);
        tokio::spawn(async move {
            let response = request.send().await.expect("the API answers");
            let status = response.status();
            (status, response.json().await.expect("a JSON body"))
        })
    }

    /// The stored device model as the API shows it.
    async fn device_model(&self) -> Vec<Value> {
        let model: Value = self
            .http
            .get(format!("{}/stations/{CP}/device-model", self.base))
            .bearer_auth(&self.admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        model["variables"].as_array().cloned().unwrap_or_default()
    }

    /// The stored DeviceDataCtrlr `variable`[`instance`] row: `None` if there is none,
    /// `Some(value)` (itself `None` for a row without a value) otherwise.
    async fn limit_row(&self, variable: &str, instance: &str) -> Option<Option<String>> {
        self.device_model()
            .await
            .into_iter()
            .find(|v| {
                v["component"] == "DeviceDataCtrlr"
                    && v["variable"] == variable
                    && v["variableInstance"] == instance
            })
            .map(|v| v["value"].as_str().map(str::to_string))
    }

    /// Connect the simulated station over ws and play the OCTT's Booted state.
    async fn booted(&self) -> Station {
        let mut options =
            ConnectOptions::new(format!("{}/{CP}", self.csms.ws_base())).basic(CP, PASSWORD);
        options.timeout = Duration::from_secs(5);
        let mut station = Station::connect(&options).await.expect("connects");
        states::booted(&mut station, &Target::new(CP))
            .await
            .expect("boots");
        station
    }
}

/// `{"items": [...]}` reading OCPPCommCtrlr.`names`.
fn get_body(names: &[&str]) -> Value {
    json!({"items": names.iter().map(|n| json!({"component": "OCPPCommCtrlr", "variable": n})).collect::<Vec<_>>()})
}

/// `{"items": [...]}` writing OCPPCommCtrlr.`name` = `value`.
fn set_body(items: &[(&str, &str)]) -> Value {
    json!({"items": items.iter().map(|(n, v)| json!({"component": "OCPPCommCtrlr", "variable": n, "value": v})).collect::<Vec<_>>()})
}

/// The station's answer to a GetVariablesRequest: each item Accepted with value `<name>-value`.
fn values(request: &GetVariablesRequest) -> GetVariablesResponse {
    GetVariablesResponse {
        custom_data: None,
        get_variable_result: request
            .get_variable_data
            .iter()
            .map(|d| GetVariableResultType {
                custom_data: None,
                attribute_status: GetVariableStatusEnumType::Accepted,
                attribute_status_info: None,
                attribute_type: d.attribute_type,
                attribute_value: Some(format!("{}-value", d.variable.name)),
                component: d.component.clone(),
                variable: d.variable.clone(),
            })
            .collect(),
    }
}

/// The station's answer to a SetVariablesRequest: every item at `status`.
fn statuses(
    request: &SetVariablesRequest,
    status: SetVariableStatusEnumType,
) -> SetVariablesResponse {
    SetVariablesResponse {
        custom_data: None,
        set_variable_result: request
            .set_variable_data
            .iter()
            .map(|d| SetVariableResultType {
                custom_data: None,
                attribute_type: d.attribute_type,
                attribute_status: status,
                attribute_status_info: None,
                component: d.component.clone(),
                variable: d.variable.clone(),
            })
            .collect(),
    }
}

/// Take the CSMS's read of one DeviceDataCtrlr limit: it must ask for `variable`[`instance`]
/// alone (a station with ItemsPerMessage 1 can answer it); answer it with `limits`.
async fn answer_limit_read(
    station: &mut Station,
    variable: &str,
    instance: &str,
    limits: &DeviceDataLimits,
) {
    let (id, request) = station
        .expect_call::<GetVariablesRequest>()
        .await
        .unwrap_or_else(|e| panic!("the CSMS should read DeviceDataCtrlr.{variable}: {e}"));
    assert_eq!(request.get_variable_data.len(), 1, "{request:?}");
    let item = &request.get_variable_data[0];
    assert_eq!(item.component.name, "DeviceDataCtrlr");
    assert!(item.component.evse.is_none() && item.component.instance.is_none());
    assert_eq!(item.variable.name, variable);
    assert_eq!(item.variable.instance.as_deref(), Some(instance));
    assert!(matches!(
        item.attribute_type,
        None | Some(AttributeEnumType::Actual)
    ));
    station
        .respond::<GetVariablesRequest>(&id, &limits.answer(&request))
        .await
        .unwrap();
}

/// Take the next GetVariablesRequest, answer every item with [`values`]; returns the names asked.
async fn answer_get(station: &mut Station) -> Vec<String> {
    let (id, request) = station.expect_call::<GetVariablesRequest>().await.unwrap();
    station
        .respond::<GetVariablesRequest>(&id, &values(&request))
        .await
        .unwrap();
    request
        .get_variable_data
        .iter()
        .map(|d| d.variable.name.clone())
        .collect()
}

/// The variable names of the operator's results, in order.
fn result_names(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {body}"))
        .iter()
        .map(|r| r["variable"]["name"].as_str().unwrap().to_string())
        .collect()
}

/// The bytes of the CALL frame `[2,"<36-character id>","<action>",<payload>]`, counted here
/// independently of the CSMS's splitter.
fn frame_bytes(action: &str, payload: Value) -> usize {
    Frame::Call {
        id: "0".repeat(36),
        action: action.into(),
        payload,
    }
    .to_text()
    .len()
}

/// Limits unknown: the CSMS reads ItemsPerMessage and BytesPerMessage (GetVariables instance)
/// first, each in its own one-item request, keeps what it learned (2, and "no such variable"),
/// then sends the 5 items as 2 + 2 + 1; the operator gets all 5 results in order.
#[tokio::test]
async fn b06_fr_05_get_variables_split_by_items_per_message() {
    let api = start().await;
    let mut station = api.booted().await;
    let limits = DeviceDataLimits {
        items_per_message: Some(2),
        bytes_per_message: None,
    };
    let names = ["A1", "A2", "A3", "A4", "A5"];
    let pending = api.spawn_post("variables/get", get_body(&names));

    answer_limit_read(&mut station, "ItemsPerMessage", "GetVariables", &limits).await;
    answer_limit_read(&mut station, "BytesPerMessage", "GetVariables", &limits).await;
    assert_eq!(answer_get(&mut station).await, ["A1", "A2"]);
    assert_eq!(answer_get(&mut station).await, ["A3", "A4"]);
    assert_eq!(answer_get(&mut station).await, ["A5"]);

    let (status, body) = pending.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(result_names(&body), names);
    for (result, name) in body["results"].as_array().unwrap().iter().zip(names) {
        assert_eq!(result["attributeValue"], format!("{name}-value"), "{body}");
    }
    // What the station said of its limits is kept, the refusal as a row without a value.
    assert_eq!(
        api.limit_row("ItemsPerMessage", "GetVariables").await,
        Some(Some("2".into()))
    );
    assert_eq!(
        api.limit_row("BytesPerMessage", "GetVariables").await,
        Some(None)
    );
    // The values read in every part are kept.
    let model = api.device_model().await;
    for name in names {
        assert!(
            model
                .iter()
                .any(|v| v["variable"] == name && v["value"] == format!("{name}-value")),
            "{name} not in the device model"
        );
    }
}

/// Limits known from an earlier read: a second operation reads nothing and splits at once.
#[tokio::test]
async fn b06_fr_05_known_limits_are_not_read_again() {
    let api = start().await;
    let mut station = api.booted().await;
    let limits = DeviceDataLimits {
        items_per_message: Some(2),
        bytes_per_message: Some(65_536),
    };
    let pending = api.spawn_post("variables/get", get_body(&["A1", "A2", "A3"]));
    answer_limit_read(&mut station, "ItemsPerMessage", "GetVariables", &limits).await;
    answer_limit_read(&mut station, "BytesPerMessage", "GetVariables", &limits).await;
    assert_eq!(answer_get(&mut station).await, ["A1", "A2"]);
    assert_eq!(answer_get(&mut station).await, ["A3"]);
    assert_eq!(pending.await.unwrap().0, StatusCode::OK);

    // Second operation: the first CALL is already the first part.
    let pending = api.spawn_post("variables/get", get_body(&["B1", "B2", "B3"]));
    assert_eq!(answer_get(&mut station).await, ["B1", "B2"]);
    assert_eq!(answer_get(&mut station).await, ["B3"]);
    let (status, body) = pending.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(result_names(&body), ["B1", "B2", "B3"]);
}

/// A station that sent its base report (e.g. the B02 provisioning report at first boot) has
/// told its limits already: nothing is read, the SetVariables limits apply to SetVariables.
#[tokio::test]
async fn b05_limits_from_a_base_report_need_no_read() {
    let api = start().await;
    let mut station = api.booted().await;
    let entry = |variable: &str, instance: &str, value: &str| ReportDataType {
        custom_data: None,
        component: ComponentType {
            custom_data: None,
            evse: None,
            instance: None,
            name: "DeviceDataCtrlr".into(),
        },
        variable: VariableType {
            custom_data: None,
            instance: Some(instance.into()),
            name: variable.into(),
        },
        variable_attribute: vec![VariableAttributeType {
            custom_data: None,
            constant: None,
            mutability: Some(MutabilityEnumType::ReadOnly),
            persistent: None,
            r#type: None,
            value: Some(value.into()),
        }],
        variable_characteristics: Some(VariableCharacteristicsType {
            custom_data: None,
            data_type: DataEnumType::Integer,
            max_limit: None,
            min_limit: None,
            supports_monitoring: false,
            unit: None,
            values_list: None,
        }),
    };
    station
        .call(&NotifyReportRequest {
            custom_data: None,
            generated_at: Utc::now(),
            report_data: Some(vec![
                entry("ItemsPerMessage", "GetVariables", "10"),
                entry("BytesPerMessage", "GetVariables", "10000"),
                entry("ItemsPerMessage", "SetVariables", "1"),
                entry("BytesPerMessage", "SetVariables", "10000"),
            ]),
            request_id: 1,
            seq_no: 0,
            tbc: None,
        })
        .await
        .unwrap();

    let pending = api.spawn_post("variables/set", set_body(&[("S1", "1"), ("S2", "2")]));
    for name in ["S1", "S2"] {
        let (id, request) = station.expect_call::<SetVariablesRequest>().await.unwrap();
        assert_eq!(request.set_variable_data.len(), 1, "{request:?}");
        assert_eq!(request.set_variable_data[0].variable.name, name);
        station
            .respond::<SetVariablesRequest>(
                &id,
                &statuses(&request, SetVariableStatusEnumType::Accepted),
            )
            .await
            .unwrap();
    }
    let (status, body) = pending.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(result_names(&body), ["S1", "S2"]);
}

/// BytesPerMessage small: the parts are cut by the encoded size of the whole frame (counted
/// with a 36-character message id), and an item larger than the limit on its own goes alone —
/// the station's answer to it (Rejected) is what the operator gets.
#[tokio::test]
async fn b05_set_variables_split_by_bytes_per_message() {
    let api = start().await;
    let mut station = api.booted().await;
    let item = |name: &str, value: &str| json!({"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": name}, "attributeValue": value});
    // Room for exactly two items like these in one frame.
    let bytes = frame_bytes(
        "SetVariables",
        json!({"setVariableData": [item("S1", "1"), item("S2", "2")]}),
    );
    let big = "x".repeat(bytes);
    let limits = DeviceDataLimits {
        items_per_message: None,
        bytes_per_message: Some(bytes as u32),
    };
    let items = [
        ("S1", "1"),
        ("S2", "2"),
        ("S3", "3"),
        ("Big", big.as_str()),
        ("S4", "4"),
    ];
    let pending = api.spawn_post("variables/set", set_body(&items));
    answer_limit_read(&mut station, "ItemsPerMessage", "SetVariables", &limits).await;
    answer_limit_read(&mut station, "BytesPerMessage", "SetVariables", &limits).await;
    let mut parts = Vec::new();
    for _ in 0..4 {
        let (id, request) = station.expect_call::<SetVariablesRequest>().await.unwrap();
        let names: Vec<String> = request
            .set_variable_data
            .iter()
            .map(|d| d.variable.name.clone())
            .collect();
        let size = frame_bytes("SetVariables", serde_json::to_value(&request).unwrap());
        let status = if names == ["Big"] {
            SetVariableStatusEnumType::Rejected
        } else {
            assert!(size <= bytes, "{names:?} is {size} bytes, over {bytes}");
            SetVariableStatusEnumType::Accepted
        };
        station
            .respond::<SetVariablesRequest>(&id, &statuses(&request, status))
            .await
            .unwrap();
        parts.push(names);
    }
    assert_eq!(
        parts,
        [vec!["S1", "S2"], vec!["S3"], vec!["Big"], vec!["S4"]]
    );
    let (status, body) = pending.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(result_names(&body), ["S1", "S2", "S3", "Big", "S4"]);
    assert_eq!(body["results"][3]["attributeStatus"], "Rejected", "{body}");
    assert_eq!(body["results"][4]["attributeStatus"], "Accepted", "{body}");
}

/// A part answered with CALLERROR fails the operation with that error; what the parts before
/// it read is kept, the parts after it are not sent.
#[tokio::test]
async fn b06_fr_05_a_failing_part_fails_the_operation() {
    let api = start().await;
    let mut station = api.booted().await;
    let limits = DeviceDataLimits {
        items_per_message: Some(1),
        bytes_per_message: None,
    };
    let pending = api.spawn_post("variables/get", get_body(&["A1", "A2", "A3"]));
    answer_limit_read(&mut station, "ItemsPerMessage", "GetVariables", &limits).await;
    answer_limit_read(&mut station, "BytesPerMessage", "GetVariables", &limits).await;
    assert_eq!(answer_get(&mut station).await, ["A1"]);
    let (id, _) = station.expect_call::<GetVariablesRequest>().await.unwrap();
    station
        .send_text(
            &Frame::CallError {
                id,
                code: ErrorCode::OccurrenceConstraintViolation,
                description: "too many".into(),
                details: json!({}),
            }
            .to_text(),
        )
        .await
        .unwrap();
    let (status, body) = pending.await.unwrap();
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"], "call_error", "{body}");
    let model = api.device_model().await;
    assert!(model
        .iter()
        .any(|v| v["variable"] == "A1" && v["value"] == "A1-value"));
    // A3 was never sent: the next CALL the station sees is the next operation's.
    let pending = api.spawn_post("variables/get", get_body(&["C1"]));
    assert_eq!(answer_get(&mut station).await, ["C1"]);
    assert_eq!(pending.await.unwrap().0, StatusCode::OK);
}

/// One item is never split: no limits are read for it.
#[tokio::test]
async fn b06_fr_05_one_item_needs_no_limits() {
    let api = start().await;
    let mut station = api.booted().await;
    let pending = api.spawn_post("variables/get", get_body(&["A1"]));
    assert_eq!(answer_get(&mut station).await, ["A1"]);
    assert_eq!(pending.await.unwrap().0, StatusCode::OK);
    assert_eq!(api.limit_row("ItemsPerMessage", "GetVariables").await, None);
}
