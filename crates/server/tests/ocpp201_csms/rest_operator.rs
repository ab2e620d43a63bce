//! The operator of the OCTT cases ("Manual Action: request the CSMS to …"), played through
//! unicharge's operator REST API with the admin key the server created on its first start.
//!
//! Every action and the API's answer are kept, so a test can look at what the CSMS told the
//! operator (e.g. the requestId of a report) and then read back what it kept.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use unicharge_sim::octt::operator::{Operator, OperatorAction};

use crate::common::{StationSpec, TestCsms};

/// `messageTimeout` and `ocppInterface` of the NetworkConnectionProfiles the operator asks for:
/// the OCTT's configured values in these tests (the `Target` defaults).
pub const MESSAGE_TIMEOUT: i64 = 30;
pub const OCPP_INTERFACE: &str = "Wired0";

/// Start a server with the operator API on an ephemeral loopback port, and its operator.
pub async fn start(stations: &[StationSpec]) -> (TestCsms, Arc<RestOperator>) {
    let csms = TestCsms::start_with(stations, |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let operator = RestOperator::new(&csms);
    (csms, operator)
}

/// One action and what the API answered (the JSON body of a 2xx, else the error).
pub type Performed = (OperatorAction, Result<Value, String>);

pub struct RestOperator {
    client: reqwest::Client,
    /// `http://127.0.0.1:<port>/api/v1`
    base: String,
    key: String,
    ws_base: String,
    wss_base: String,
    log: Mutex<Vec<Performed>>,
}

impl RestOperator {
    pub fn new(csms: &TestCsms) -> Arc<Self> {
        let addr = csms
            .server
            .http_addr
            .expect("the operator API must be enabled (rest_operator::start)");
        let key = csms
            .server
            .initial_admin_key
            .clone()
            .expect("a fresh server creates an admin key");
        Arc::new(RestOperator {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            base: format!("http://{addr}/api/v1"),
            key,
            ws_base: csms.ws_base(),
            wss_base: csms.wss_base(),
            log: Mutex::new(Vec::new()),
        })
    }

    /// As the `Option<Arc<dyn Operator>>` that `octt::run` takes.
    pub fn as_operator(self: &Arc<Self>) -> Option<Arc<dyn Operator>> {
        Some(self.clone() as Arc<dyn Operator>)
    }

    /// Everything performed so far, oldest first.
    pub fn performed(&self) -> Vec<Performed> {
        self.log.lock().unwrap().clone()
    }

    /// The API's answers to the actions `matching` picks, oldest first.
    pub fn answers(&self, matching: impl Fn(&OperatorAction) -> bool) -> Vec<Value> {
        self.performed()
            .into_iter()
            .filter(|(action, _)| matching(action))
            .map(|(action, outcome)| {
                outcome.unwrap_or_else(|e| panic!("the operator failed to {action:?}: {e}"))
            })
            .collect()
    }

    /// `GET /api/v1{path}`: the JSON body of a 2xx, else `Err("HTTP <status>: <body>")`.
    pub async fn get(&self, path: &str) -> Result<Value, String> {
        let request = self.client.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    /// `POST /api/v1{path}` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        let request = self.client.post(format!("{}{path}", self.base)).json(&body);
        self.send(request).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, String> {
        let response = request
            .bearer_auth(&self.key)
            .send()
            .await
            .map_err(|e| format!("HTTP request failed: {e}"))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            if text.trim().is_empty() {
                Ok(Value::Null)
            } else {
                serde_json::from_str(&text).map_err(|e| format!("HTTP {status}, not JSON: {e}"))
            }
        } else {
            Err(format!("HTTP {status}: {text}"))
        }
    }

    /// The `connectionData` of a NetworkConnectionProfile at `profile` for this server.
    fn connection_data(&self, profile: u8) -> Value {
        json!({
            "ocppVersion": "OCPP20",
            "ocppTransport": "JSON",
            "ocppCsmsUrl": if profile == 1 { &self.ws_base } else { &self.wss_base },
            "messageTimeout": MESSAGE_TIMEOUT,
            "securityProfile": profile,
            "ocppInterface": OCPP_INTERFACE,
        })
    }

    /// The API call for an action: path under the station, and body.
    fn request_for(&self, action: &OperatorAction) -> (String, Value) {
        match action {
            OperatorAction::Ocpp { action, payload } => (format!("ocpp/{action}"), payload.clone()),
            OperatorAction::GetVariables { items } => (
                "variables/get".into(),
                json!({"items": items.iter().map(|(component, variable, attribute_type)| {
                    let mut item = Map::new();
                    item.insert("component".into(), json!(component));
                    item.insert("variable".into(), json!(variable));
                    if let Some(t) = attribute_type {
                        item.insert("attributeType".into(), json!(t));
                    }
                    Value::Object(item)
                }).collect::<Vec<_>>()}),
            ),
            OperatorAction::SetVariables { items } => (
                "variables/set".into(),
                json!({"items": items.iter().map(|(component, variable, value, attribute_type)| {
                    let mut item = Map::new();
                    item.insert("component".into(), json!(component));
                    item.insert("variable".into(), json!(variable));
                    item.insert("value".into(), json!(value));
                    if let Some(t) = attribute_type {
                        item.insert("attributeType".into(), json!(t));
                    }
                    Value::Object(item)
                }).collect::<Vec<_>>()}),
            ),
            OperatorAction::GetBaseReport { report_base } => {
                ("reports".into(), json!({ "reportBase": report_base }))
            }
            OperatorAction::GetCustomReport { request } => ("reports".into(), request.clone()),
            OperatorAction::Reset {
                reset_type,
                evse_id,
            } => {
                let mut body = json!({ "type": reset_type });
                if let Some(evse) = evse_id {
                    body["evseId"] = json!(evse);
                }
                ("reset".into(), body)
            }
            OperatorAction::ChangeAvailability {
                operational_status,
                evse_id,
                connector_id,
            } => {
                let mut body = json!({ "operationalStatus": operational_status });
                if let Some(evse) = evse_id {
                    body["evseId"] = json!(evse);
                }
                if let Some(connector) = connector_id {
                    body["connectorId"] = json!(connector);
                }
                ("availability".into(), body)
            }
            OperatorAction::TriggerMessage {
                requested_message,
                evse_id,
                connector_id,
            } => {
                let mut body = json!({ "requestedMessage": requested_message });
                if let Some(evse) = evse_id {
                    body["evseId"] = json!(evse);
                }
                if let Some(connector) = connector_id {
                    body["connectorId"] = json!(connector);
                }
                ("trigger".into(), body)
            }
            OperatorAction::RotateBasicAuthPassword => ("password/rotate".into(), json!({})),
            OperatorAction::RenewStationCertificate => ("certificate/renew".into(), json!({})),
            OperatorAction::SetNetworkProfile {
                configuration_slot,
                connection_data,
            } => (
                "network-profile".into(),
                json!({
                    "configurationSlot": configuration_slot,
                    "connectionData": connection_data,
                }),
            ),
            OperatorAction::SendLocalList {
                update_type,
                entries,
            } => {
                let entries: Vec<Value> = entries
                    .iter()
                    .map(|(id_token, kind)| json!({"idToken": id_token, "type": kind}))
                    .collect();
                if update_type == "Full" {
                    ("local-list".into(), json!({ "entries": entries }))
                } else {
                    (
                        "local-list/differential".into(),
                        json!({ "upsert": entries }),
                    )
                }
            }
            OperatorAction::GetLocalListVersion => ("local-list/version".into(), json!({})),
            OperatorAction::RequestStartTransaction {
                id_token,
                id_token_type,
                evse_id,
                charging_profile,
            } => {
                let mut body = json!({ "idToken": {"idToken": id_token, "type": id_token_type} });
                if let Some(evse) = evse_id {
                    body["evseId"] = json!(evse);
                }
                if let Some(profile) = charging_profile {
                    body["chargingProfile"] = profile.clone();
                }
                ("transactions/start".into(), body)
            }
            OperatorAction::RequestStopTransaction { transaction_id } => {
                (format!("transactions/{transaction_id}/stop"), json!({}))
            }
            OperatorAction::GetTransactionStatus { transaction_id } => {
                let mut body = json!({});
                if let Some(tx) = transaction_id {
                    body["transactionId"] = json!(tx);
                }
                ("transactions/status".into(), body)
            }
            OperatorAction::UnlockConnector {
                evse_id,
                connector_id,
            } => (
                "unlock".into(),
                json!({ "evseId": evse_id, "connectorId": connector_id }),
            ),
            OperatorAction::ReserveNow {
                id_token,
                id_token_type,
                group_id_token,
                evse_id,
                connector_type,
                expires_in_seconds,
            } => {
                let mut body = json!({
                    "idToken": {"idToken": id_token, "type": id_token_type},
                    "expiresInSeconds": expires_in_seconds,
                });
                if let Some(group) = group_id_token {
                    body["groupIdToken"] = json!({"idToken": group, "type": "Central"});
                }
                if let Some(evse) = evse_id {
                    body["evseId"] = json!(evse);
                }
                if let Some(connector_type) = connector_type {
                    body["connectorType"] = json!(connector_type);
                }
                ("reservations".into(), body)
            }
            OperatorAction::CancelReservation { reservation_id } => {
                (format!("reservations/{reservation_id}/cancel"), json!({}))
            }
            OperatorAction::ClearCache => ("clear-cache".into(), json!({})),
            OperatorAction::SetChargingProfile {
                evse_id,
                charging_profile,
                allow_without_transaction,
            } => {
                let mut body = json!({ "evseId": evse_id, "chargingProfile": charging_profile });
                if *allow_without_transaction {
                    body["allowWithoutTransaction"] = json!(true);
                }
                ("charging-profiles".into(), body)
            }
            OperatorAction::ClearChargingProfile {
                charging_profile_id,
                evse_id,
                charging_profile_purpose,
                stack_level,
            } => {
                let mut body = json!({});
                if let Some(id) = charging_profile_id {
                    body["chargingProfileId"] = json!(id);
                }
                if let Some(evse) = evse_id {
                    body["evseId"] = json!(evse);
                }
                if let Some(purpose) = charging_profile_purpose {
                    body["chargingProfilePurpose"] = json!(purpose);
                }
                if let Some(level) = stack_level {
                    body["stackLevel"] = json!(level);
                }
                ("charging-profiles/clear".into(), body)
            }
            OperatorAction::GetChargingProfiles {
                evse_id,
                charging_profile,
            } => {
                let mut body = json!({ "chargingProfile": charging_profile });
                if let Some(evse) = evse_id {
                    body["evseId"] = json!(evse);
                }
                ("charging-profiles/reports".into(), body)
            }
            OperatorAction::GetCompositeSchedule {
                evse_id,
                duration,
                charging_rate_unit,
            } => {
                let mut body = json!({ "evseId": evse_id, "duration": duration });
                if let Some(unit) = charging_rate_unit {
                    body["chargingRateUnit"] = json!(unit);
                }
                ("composite-schedules".into(), body)
            }
            OperatorAction::InstallCertificate {
                certificate_type,
                certificate,
            } => (
                "certificates/install".into(),
                json!({"certificateType": certificate_type, "certificate": certificate}),
            ),
            OperatorAction::GetInstalledCertificateIds { certificate_types } => {
                let mut body = json!({});
                if let Some(types) = certificate_types {
                    body["certificateType"] = json!(types);
                }
                ("certificates/installed".into(), body)
            }
            OperatorAction::DeleteCertificate {
                certificate_type,
                serial_number,
            } => {
                let mut body = json!({});
                if let Some(t) = certificate_type {
                    body["certificateType"] = json!(t);
                }
                if let Some(s) = serial_number {
                    body["serialNumber"] = json!(s);
                }
                ("certificates/delete".into(), body)
            }
            OperatorAction::SetDisplayMessage {
                message,
                allow_unknown_transaction,
            } => {
                let mut body = message.clone();
                if *allow_unknown_transaction {
                    body["allowUnknownTransaction"] = json!(true);
                }
                ("display-messages".into(), body)
            }
            OperatorAction::GetDisplayMessages {
                ids,
                priority,
                state,
            } => {
                let mut body = json!({});
                if let Some(ids) = ids {
                    body["id"] = json!(ids);
                }
                if let Some(priority) = priority {
                    body["priority"] = json!(priority);
                }
                if let Some(state) = state {
                    body["state"] = json!(state);
                }
                ("display-messages/reports".into(), body)
            }
            OperatorAction::ClearDisplayMessage { id } => {
                (format!("display-messages/{id}/clear"), json!({}))
            }
            OperatorAction::UpgradeSecurityProfile {
                security_profile,
                configuration_slot,
            } => (
                "security-profile".into(),
                json!({
                    "securityProfile": security_profile,
                    "configurationSlot": configuration_slot,
                    "connectionData": self.connection_data(*security_profile),
                }),
            ),
            OperatorAction::UpdateFirmware {
                location,
                retrieve_date_time,
                install_date_time,
                retries,
                retry_interval,
                signature,
            } => {
                let mut body = json!({ "location": location });
                if let Some(t) = retrieve_date_time {
                    body["retrieveDateTime"] = json!(t);
                }
                if let Some(t) = install_date_time {
                    body["installDateTime"] = json!(t);
                }
                if let Some(n) = retries {
                    body["retries"] = json!(n);
                }
                if let Some(n) = retry_interval {
                    body["retryInterval"] = json!(n);
                }
                if let Some(s) = signature {
                    body["signature"] = json!(s);
                }
                ("firmware/updates".into(), body)
            }
            OperatorAction::GetLog {
                log_type,
                remote_location,
            } => {
                let mut body = json!({ "logType": log_type });
                if let Some(l) = remote_location {
                    body["remoteLocation"] = json!(l);
                }
                ("logs".into(), body)
            }
            OperatorAction::GetMonitoringReport {
                monitoring_criteria,
                component_variable,
            } => {
                let mut body = json!({});
                if !monitoring_criteria.is_empty() {
                    body["monitoringCriteria"] = json!(monitoring_criteria);
                }
                if let Some(cv) = component_variable {
                    body["componentVariable"] = cv.clone();
                }
                ("monitoring/reports".into(), body)
            }
            OperatorAction::SetMonitoringBase { monitoring_base } => (
                "monitoring/base".into(),
                json!({ "monitoringBase": monitoring_base }),
            ),
            OperatorAction::SetMonitoringLevel { severity } => {
                ("monitoring/level".into(), json!({ "severity": severity }))
            }
            OperatorAction::SetVariableMonitoring {
                set_monitoring_data,
            } => (
                "monitoring/monitors".into(),
                json!({ "setMonitoringData": set_monitoring_data }),
            ),
            OperatorAction::ClearVariableMonitoring { ids } => {
                ("monitoring/monitors/clear".into(), json!({ "ids": ids }))
            }
            OperatorAction::CustomerInformation {
                report,
                clear,
                id_token,
                customer_identifier,
                customer_certificate,
            } => {
                let mut body = json!({ "report": report, "clear": clear });
                if let Some((token, kind)) = id_token {
                    body["idToken"] = json!({"idToken": token, "type": kind});
                }
                if let Some(c) = customer_identifier {
                    body["customerIdentifier"] = json!(c);
                }
                if let Some(c) = customer_certificate {
                    body["customerCertificate"] = c.clone();
                }
                ("customer-information".into(), body)
            }
        }
    }
}

#[async_trait]
impl Operator for RestOperator {
    async fn perform(&self, station_id: &str, action: OperatorAction) -> Result<Value, String> {
        let (path, body) = self.request_for(&action);
        let outcome = self
            .post(&format!("/stations/{station_id}/{path}"), body)
            .await;
        self.log.lock().unwrap().push((action, outcome.clone()));
        outcome
    }
}
