//! The operator API speaks one casing: camelCase property names everywhere, in what it
//! documents (the OpenAPI document) and in what it actually sends and accepts.
//!
//! Why a test of its own: serde's default is the Rust field name, so every new view or body
//! without `#[serde(rename_all = "camelCase")]` silently answers in snake_case. The station
//! views and `PATCH /api/v1/stations/{id}` once did, while the rest of the API was camelCase;
//! an operator's script then needs to know which endpoint speaks which.

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use unicharge_ocpp::v201::{ResetRequest, ResetResponse, ResetStatusEnumType};
use unicharge_sim::octt::{states, Target};

use common::{StationSpec, TestCsms, PASSWORD};

/// A running server with its operator API on a loopback port and the admin key.
struct Api {
    csms: TestCsms,
    base: String,
    admin: String,
    http: Client,
}

impl Api {
    async fn start(stations: &[StationSpec]) -> Api {
        let csms = TestCsms::start_with(stations, |s| {
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
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Api {
            csms,
            base: format!("http://{addr}"),
            admin,
            http,
        }
    }

    /// The status and the JSON body (`Null` when empty).
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.admin);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }

    /// GET, asserting 200.
    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.send(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }
}

/// A property name in snake_case (or any name with an underscore): not camelCase.
fn is_snake(name: &str) -> bool {
    name.contains('_')
}

/// Every snake_case property name a schema anywhere in `doc` declares, as JSON pointers:
/// `properties` keys and `required` entries of every (nested, inline or component) schema, and
/// the names of query and header parameters. Walks the whole document so that inline request
/// and response schemas count as much as the named components.
fn snake_case_names(doc: &Value) -> Vec<String> {
    fn walk(value: &Value, pointer: &str, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Object(properties)) = map.get("properties") {
                    for name in properties.keys().filter(|n| is_snake(n)) {
                        found.push(format!("{pointer}/properties/{name}"));
                    }
                }
                if let Some(Value::Array(required)) = map.get("required") {
                    for name in required
                        .iter()
                        .filter_map(Value::as_str)
                        .filter(|n| is_snake(n))
                    {
                        found.push(format!("{pointer}/required/{name}"));
                    }
                }
                let parameter_in = map.get("in").and_then(Value::as_str);
                if matches!(parameter_in, Some("query" | "header")) {
                    if let Some(name) = map.get("name").and_then(Value::as_str) {
                        // Header names are case-insensitive and hyphenated by convention; only
                        // an underscore is out of place in either.
                        if is_snake(name) {
                            found.push(format!("{pointer}/name ({name})"));
                        }
                    }
                }
                for (key, child) in map {
                    // JSON pointer escaping: `~` → `~0`, `/` → `~1` (paths are keys here).
                    let key = key.replace('~', "~0").replace('/', "~1");
                    walk(child, &format!("{pointer}/{key}"), found);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, &format!("{pointer}/{i}"), found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(doc, "#", &mut found);
    found.sort();
    found.dedup();
    found
}

/// Every object key with an underscore in a JSON value, with where it was.
fn snake_case_keys(value: &Value, at: &str) -> Vec<String> {
    let mut found = Vec::new();
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if is_snake(key) {
                    found.push(format!("{at}.{key}"));
                }
                found.extend(snake_case_keys(child, &format!("{at}.{key}")));
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                found.extend(snake_case_keys(child, &format!("{at}[{i}]")));
            }
        }
        _ => {}
    }
    found
}

#[test]
fn the_walkers_find_snake_case_where_it_hides() {
    let doc = json!({
        "paths": {"/api/v1/x": {"get": {
            "parameters": [{"name": "station_id", "in": "query"}, {"name": "id", "in": "path"}],
            "responses": {"200": {"content": {"application/json": {"schema": {
                "type": "array",
                "items": {"type": "object", "properties": {"evse_id": {"type": "integer"}}}
            }}}}}
        }}},
        "components": {"schemas": {"View": {
            "type": "object",
            "required": ["has_password"],
            "properties": {
                "hasPassword": {"type": "boolean"},
                "inner": {"type": "object", "properties": {"last_seen_at": {}}}
            }
        }}}
    });
    assert_eq!(
        snake_case_names(&doc),
        [
            "#/components/schemas/View/properties/inner/properties/last_seen_at",
            "#/components/schemas/View/required/has_password",
            "#/paths/~1api~1v1~1x/get/parameters/0/name (station_id)",
            "#/paths/~1api~1v1~1x/get/responses/200/content/application~1json/schema/items/properties/evse_id",
        ]
    );
    assert_eq!(
        snake_case_keys(&json!([{"a": {"b_c": 1}}]), "$"),
        ["$[0].a.b_c"]
    );
}

/// No schema in the OpenAPI document declares a snake_case property (nor a snake_case query
/// parameter). The failure lists every offender by JSON pointer.
#[tokio::test]
async fn the_openapi_document_declares_only_camel_case_names() {
    let api = Api::start(&[]).await;
    let response = api
        .http
        .get(format!("{}/api/v1/openapi.json", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.unwrap();
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    // The station shapes are in the document (else the walk would prove nothing about them).
    for name in [
        "StationView",
        "CreateStation",
        "UpdateStation",
        "ConnectorView",
        "EventView",
        "SecurityEventView",
        "CommandView",
    ] {
        assert!(
            schemas.contains_key(name),
            "{name} missing from the document"
        );
    }
    assert_eq!(
        doc["components"]["schemas"]["StationView"]["properties"]["securityProfile"]["type"],
        "integer"
    );
    let offenders = snake_case_names(&doc);
    assert!(
        offenders.is_empty(),
        "snake_case names in the OpenAPI document:\n{}",
        offenders.join("\n")
    );
}

/// The station view, exactly: every field in camelCase, none left behind.
#[tokio::test]
async fn the_station_view_is_camel_case() {
    let api = Api::start(&[StationSpec::new("CP001", 1)]).await;
    // Boot, so that every field of the view has a value.
    let mut target = Target::new("CP001");
    target.ws_url = Some(api.csms.ws_base());
    target.password = Some(PASSWORD.into());
    let mut station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();

    let view = api.get("/api/v1/stations/CP001").await;
    let mut keys: Vec<&str> = view
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "connected",
            "createdAt",
            "firmwareVersion",
            "hasPassword",
            "id",
            "lastBootAt",
            "lastBootReason",
            "lastBootStatus",
            "lastSeenAt",
            "model",
            "ocppVersion",
            "preferredOcppVersion",
            "registration",
            "securityProfile",
            "serialNumber",
            "vendorName",
        ]
    );
    assert_eq!(view["securityProfile"], 1);
    assert_eq!(view["hasPassword"], true);
    assert_eq!(view["vendorName"], "unicharge");
    assert_eq!(view["lastBootStatus"], "Accepted");
    assert_eq!(view["lastBootReason"], "PowerUp");
    assert!(view["lastBootAt"].is_string(), "{view}");
    assert_eq!(api.get("/api/v1/stations").await, json!([view]));

    // What the station reported, and the command log (a Reset the station answers).
    station
        .call_raw(
            "SecurityEventNotification",
            json!({"type": "SettingSystemTime", "timestamp": "2024-05-01T10:00:00Z", "techInfo": "x"}),
        )
        .await
        .unwrap();
    let reset = {
        let request = api
            .http
            .post(format!("{}/api/v1/stations/CP001/ocpp/Reset", api.base))
            .bearer_auth(&api.admin)
            .json(&json!({"type": "Immediate"}));
        tokio::spawn(async move { request.send().await.unwrap().status() })
    };
    let (id, _) = station.expect_call::<ResetRequest>().await.unwrap();
    station
        .respond::<ResetRequest>(
            &id,
            &ResetResponse {
                custom_data: None,
                status: ResetStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(reset.await.unwrap(), StatusCode::OK);
    let mut offenders = Vec::new();
    for path in [
        "/api/v1/stations",
        "/api/v1/stations/CP001",
        "/api/v1/stations/CP001/connectors",
        "/api/v1/stations/CP001/events",
        "/api/v1/stations/CP001/security-events",
        "/api/v1/stations/CP001/commands",
    ] {
        let body = api.get(path).await;
        assert!(
            body.as_array().is_none_or(|a| !a.is_empty()),
            "{path} is empty: the walk would prove nothing"
        );
        offenders.extend(snake_case_keys(&body, path));
    }
    assert!(offenders.is_empty(), "snake_case keys: {offenders:?}");
    station.close().await;
}

/// Create and update take camelCase, and the old snake_case spelling is refused (400, not
/// silently ignored: the bodies deny unknown fields).
#[tokio::test]
async fn station_bodies_take_camel_case_and_refuse_snake_case() {
    let api = Api::start(&[]).await;
    let (status, created) = api
        .send(
            Method::POST,
            "/api/v1/stations",
            Some(json!({"id": "CPNEW", "securityProfile": 2, "generatePassword": true})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["station"]["securityProfile"], 2);
    assert_eq!(created["station"]["hasPassword"], true);
    assert!(created["password"].is_string(), "{created}");

    let (status, body) = api
        .send(
            Method::POST,
            "/api/v1/stations",
            Some(json!({"id": "CPOLD", "generate_password": true})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, view) = api
        .send(
            Method::PATCH,
            "/api/v1/stations/CPNEW",
            Some(json!({"securityProfile": 3})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["securityProfile"], 3);

    let (status, body) = api
        .send(
            Method::PATCH,
            "/api/v1/stations/CPNEW",
            Some(json!({"security_profile": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        api.get("/api/v1/stations/CPNEW").await["securityProfile"],
        3
    );
}
