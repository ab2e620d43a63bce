//! The OCTT CSMS test cases (OCPP 2.0.1 Part 6, draft 2023-05; TC_C_47 from the FINAL edition)
//! as scenarios a simulated station plays against a CSMS.
//!
//! A scenario follows its test case table step by step and checks what the table's "Tool
//! validations" check, plus that every CSMS message conforms to the official schemas. It needs
//! only a [`Target`]: where the CSMS is and what it was configured with (station id, password,
//! certificates), as the OCTT's own configuration does.
//!
//! Cases whose trigger is an operator action ("Manual Action: request the CSMS to …") need an
//! [`Operator`]: something that makes the CSMS act. unicharge's conformance tests drive its REST
//! API; against another CSMS a person or a script does.

pub mod a_security;
pub mod b_provisioning;
pub mod c_authorization;
pub mod catalog;
pub mod d_local_list;
pub mod e_transactions;
pub mod f_remote_control;
pub mod g_availability;
pub mod h_reservation;
pub mod i_tariff_cost;
pub mod j_meter_values;
pub mod k_smart_charging;
pub mod l_firmware;
pub mod m_certificates;
pub mod n_diagnostics;
pub mod o_display_messages;
pub mod operator;
mod operator_task;
pub mod p_data_transfer;
pub mod states;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use unicharge_ocpp::SUBPROTOCOL_V201;

use crate::station::{ConnectError, ConnectOptions, SimError, Station};
use crate::tls::TlsClientOptions;
use operator::Operator;
pub(crate) use operator_task::OperatorTask;

/// A client certificate the CSMS must refuse, and what is wrong with it (TC_A_08).
#[derive(Debug, Clone)]
pub struct InvalidCertificate {
    /// "unknown CA", "expired", "commonName is not the station id", …
    pub kind: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The CSMS under test and what it was configured with (the OCTT's configuration screen).
#[derive(Debug, Clone)]
pub struct Target {
    /// `ws://host:port/ocpp` — the station id is appended.
    pub ws_url: Option<String>,
    /// `wss://host:port/ocpp` — the station id is appended.
    pub wss_url: Option<String>,
    /// <Configured ChargingStationId>.
    pub station_id: String,
    /// <Configured BasicAuthPassword> (security profiles 1 and 2).
    pub password: Option<String>,
    /// The security profile the CSMS has the station at (1, 2 or 3).
    pub security_profile: u8,
    /// CA that issued the CSMS's server certificate.
    pub ca: Option<PathBuf>,
    /// <Configured client certificate> (security profile 3).
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// <Configured invalid client certificate>s (TC_A_08), one run of the case each.
    pub invalid_client_certs: Vec<InvalidCertificate>,
    /// <Configured model> / <Configured vendorName> sent in BootNotification.
    pub model: String,
    pub vendor_name: String,
    /// <Configured evseId> / <Configured connectorId>.
    pub evse_id: i64,
    pub connector_id: i64,
    /// How long to wait for any answer.
    pub timeout: Duration,
    /// <Configured configurationSlot> for SetNetworkProfileRequest (TC_B_42, TC_A_19).
    pub configuration_slot: i64,
    /// <Configured messageTimeout> of a NetworkConnectionProfile, in seconds.
    pub message_timeout: i64,
    /// <Configured ocppCsmsUrl> of a NetworkConnectionProfile. `None`: the endpoint (without the
    /// station id) of the profile the NetworkConnectionProfile is for: `ws_url` for profile 1,
    /// `wss_url` for 2 and 3.
    pub ocpp_csms_url: Option<String>,
    /// <Configured ocppInterface> of a NetworkConnectionProfile (`Wired0`, `Wireless0`, …).
    pub ocpp_interface: String,
}

impl Target {
    /// A target with the usual OCTT defaults; fill in the URLs and credentials.
    pub fn new(station_id: impl Into<String>) -> Self {
        Target {
            ws_url: None,
            wss_url: None,
            station_id: station_id.into(),
            password: None,
            security_profile: 1,
            ca: None,
            client_cert: None,
            invalid_client_certs: Vec::new(),
            model: "unicharge-sim".into(),
            vendor_name: "unicharge".into(),
            evse_id: 1,
            connector_id: 1,
            timeout: Duration::from_secs(10),
            configuration_slot: 1,
            message_timeout: 30,
            ocpp_csms_url: None,
            ocpp_interface: "Wired0".into(),
        }
    }

    /// <Configured ocppCsmsUrl> for a NetworkConnectionProfile at `profile`.
    pub fn csms_url(&self, profile: u8) -> Result<String, CaseError> {
        if let Some(url) = &self.ocpp_csms_url {
            return Ok(url.clone());
        }
        let url = self.url(profile)?;
        let base = url
            .strip_suffix(&self.station_id)
            .unwrap_or(&url)
            .trim_end_matches('/');
        Ok(base.to_string())
    }

    /// The OCPP `NetworkConnectionProfileType` the OCTT is configured with, at `profile`
    /// (`ocppVersion` OCPP20, `ocppTransport` JSON, the configured URL, timeout and interface).
    pub fn network_connection_profile(&self, profile: u8) -> Result<Value, CaseError> {
        Ok(serde_json::json!({
            "ocppVersion": "OCPP20",
            "ocppTransport": "JSON",
            "ocppCsmsUrl": self.csms_url(profile)?,
            "messageTimeout": self.message_timeout,
            "securityProfile": profile,
            "ocppInterface": self.ocpp_interface,
        }))
    }

    /// The endpoint URL for this station at `profile`.
    pub fn url(&self, profile: u8) -> Result<String, CaseError> {
        let base = if profile == 1 {
            &self.ws_url
        } else {
            &self.wss_url
        };
        let base = base.as_deref().ok_or_else(|| {
            CaseError::NotApplicable(format!(
                "no {} URL configured for security profile {profile}",
                if profile == 1 { "ws" } else { "wss" }
            ))
        })?;
        Ok(format!(
            "{}/{}",
            base.trim_end_matches('/'),
            self.station_id
        ))
    }

    /// Connection options for this station at `profile`, with the credentials that profile
    /// uses: Basic for 1 and 2, the client certificate for 3.
    pub fn options(&self, profile: u8) -> Result<ConnectOptions, CaseError> {
        let mut options = ConnectOptions::new(self.url(profile)?);
        options.timeout = self.timeout;
        options.subprotocols = vec![SUBPROTOCOL_V201.into()];
        if profile <= 2 {
            let password = self.password.clone().ok_or_else(|| {
                CaseError::NotApplicable("no BasicAuthPassword configured".into())
            })?;
            options = options.basic(self.station_id.clone(), password);
        }
        if profile >= 2 {
            options.tls = TlsClientOptions {
                ca: self.ca.clone(),
                ..TlsClientOptions::default()
            };
        }
        if profile == 3 {
            options.tls.client_cert = Some(self.client_cert.clone().ok_or_else(|| {
                CaseError::NotApplicable("no client certificate configured".into())
            })?);
        }
        Ok(options)
    }

    /// Connect at the configured profile.
    pub async fn connect(&self) -> Result<Station, CaseError> {
        Ok(Station::connect(&self.options(self.security_profile)?).await?)
    }

    /// Fail as not applicable unless the CSMS runs the station at one of `profiles`.
    pub fn require_profile(&self, profiles: &[u8]) -> Result<(), CaseError> {
        if profiles.contains(&self.security_profile) {
            Ok(())
        } else {
            Err(CaseError::NotApplicable(format!(
                "needs security profile {profiles:?}; the station is configured at {}",
                self.security_profile
            )))
        }
    }
}

/// Why a case did not pass.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CaseError {
    /// A tool validation failed, or the CSMS misbehaved.
    #[error("FAIL: {0}")]
    Fail(String),
    /// The case does not apply to this target (e.g. needs another security profile).
    #[error("not applicable: {0}")]
    NotApplicable(String),
}

impl From<SimError> for CaseError {
    fn from(e: SimError) -> Self {
        CaseError::Fail(e.to_string())
    }
}

impl From<ConnectError> for CaseError {
    fn from(e: ConnectError) -> Self {
        CaseError::Fail(format!("connecting: {e}"))
    }
}

impl CaseError {
    /// The same error, a failure's message prefixed with the step it happened at.
    pub fn at_step(self, step: u32) -> CaseError {
        match self {
            CaseError::Fail(message) => CaseError::Fail(format!("step {step}: {message}")),
            other => other,
        }
    }
}

/// Fail the case with a message unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err($crate::octt::CaseError::Fail(format!($($msg)+)));
        }
    };
}

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Pass,
    Fail(String),
    NotApplicable(String),
    /// The simulator has no scenario for this case yet.
    NotImplemented,
}

pub(crate) type ScenarioFuture<'a> =
    Pin<Box<dyn Future<Output = Result<(), CaseError>> + Send + 'a>>;

/// A scenario that needs an operator: not applicable without one.
pub(crate) fn with_operator<'a, F, Fut>(
    operator: Option<Arc<dyn Operator>>,
    scenario: F,
) -> ScenarioFuture<'a>
where
    F: FnOnce(Arc<dyn Operator>) -> Fut,
    Fut: Future<Output = Result<(), CaseError>> + Send + 'a,
{
    match operator {
        Some(operator) => Box::pin(scenario(operator)),
        None => Box::pin(async {
            Err(CaseError::NotApplicable(
                "the case starts with an operator action; no operator was given".into(),
            ))
        }),
    }
}

/// The scenario for a case id, if the simulator has one.
fn scenario<'a>(
    id: &str,
    target: &'a Target,
    op: Option<Arc<dyn Operator>>,
) -> Option<ScenarioFuture<'a>> {
    Some(match id.to_ascii_uppercase().as_str() {
        "TC_A_01_CSMS" => Box::pin(a_security::tc_a_01(target)),
        "TC_A_02_CSMS" => Box::pin(a_security::tc_a_02(target)),
        "TC_A_03_CSMS" => Box::pin(a_security::tc_a_03(target)),
        "TC_A_04_CSMS" => Box::pin(a_security::tc_a_04(target)),
        "TC_A_06_CSMS" => Box::pin(a_security::tc_a_06(target)),
        "TC_A_07_CSMS" => Box::pin(a_security::tc_a_07(target)),
        "TC_A_08_CSMS" => Box::pin(a_security::tc_a_08(target)),
        "TC_A_09_CSMS" => with_operator(op, |op| a_security::tc_a_09(target, op)),
        "TC_A_10_CSMS" => with_operator(op, |op| a_security::tc_a_10(target, op)),
        "TC_A_11_CSMS" => with_operator(op, |op| a_security::tc_a_11(target, op)),
        "TC_A_14_CSMS" => with_operator(op, |op| a_security::tc_a_14(target, op)),
        "TC_A_19_CSMS" => with_operator(op, |op| a_security::tc_a_19(target, op)),
        "TC_B_01_CSMS" => Box::pin(b_provisioning::tc_b_01(target)),
        "TC_B_06_CSMS" => with_operator(op, |op| b_provisioning::tc_b_06(target, op)),
        "TC_B_07_CSMS" => with_operator(op, |op| b_provisioning::tc_b_07(target, op)),
        "TC_B_09_CSMS" => with_operator(op, |op| b_provisioning::tc_b_09(target, op)),
        "TC_B_10_CSMS" => with_operator(op, |op| b_provisioning::tc_b_10(target, op)),
        "TC_B_12_CSMS" => with_operator(op, |op| b_provisioning::tc_b_12(target, op)),
        "TC_B_13_CSMS" => with_operator(op, |op| b_provisioning::tc_b_13(target, op)),
        "TC_B_14_CSMS" => with_operator(op, |op| b_provisioning::tc_b_14(target, op)),
        "TC_B_18_CSMS" => with_operator(op, |op| b_provisioning::tc_b_18(target, op)),
        "TC_B_20_CSMS" => with_operator(op, |op| b_provisioning::tc_b_20(target, op)),
        "TC_B_21_CSMS" => with_operator(op, |op| b_provisioning::tc_b_21(target, op)),
        "TC_B_22_CSMS" => with_operator(op, |op| b_provisioning::tc_b_22(target, op)),
        "TC_B_25_CSMS" => with_operator(op, |op| b_provisioning::tc_b_25(target, op)),
        "TC_B_26_CSMS" => with_operator(op, |op| b_provisioning::tc_b_26(target, op)),
        "TC_B_27_CSMS" => with_operator(op, |op| b_provisioning::tc_b_27(target, op)),
        "TC_B_42_CSMS" => with_operator(op, |op| b_provisioning::tc_b_42(target, op)),
        "TC_B_44_CSMS" => with_operator(op, |op| b_provisioning::tc_b_44(target, op)),
        "TC_C_02_CSMS" => Box::pin(c_authorization::tc_c_02(
            target,
            c_authorization::AuthConfig::octt(),
        )),
        "TC_C_06_CSMS" => Box::pin(c_authorization::tc_c_06(
            target,
            c_authorization::AuthConfig::octt(),
        )),
        "TC_C_07_CSMS" => Box::pin(c_authorization::tc_c_07(
            target,
            c_authorization::AuthConfig::octt(),
        )),
        "TC_C_08_CSMS" => Box::pin(c_authorization::tc_c_08(
            target,
            c_authorization::AuthConfig::octt(),
        )),
        "TC_C_20_CSMS" => Box::pin(c_authorization::tc_c_20(
            target,
            c_authorization::AuthConfig::octt(),
        )),
        "TC_C_37_CSMS" => with_operator(op, |op| c_authorization::tc_c_37(target, op)),
        "TC_C_38_CSMS" => with_operator(op, |op| c_authorization::tc_c_38(target, op)),
        "TC_C_39_CSMS" => Box::pin(c_authorization::tc_c_39(
            target,
            c_authorization::AuthConfig::octt(),
        )),
        "TC_C_40_CSMS" => Box::pin(c_authorization::tc_c_40(
            target,
            c_authorization::AuthConfig::octt(),
        )),
        "TC_C_43_CSMS" => Box::pin(c_authorization::tc_c_43(
            target,
            c_authorization::AuthConfig::octt(),
        )),
        "TC_C_47_CSMS" => Box::pin(c_authorization::tc_c_47(
            target,
            c_authorization::AuthConfig::octt(),
        )),
        "TC_C_48_CSMS" => Box::pin(c_authorization::tc_c_48(
            target,
            c_authorization::AuthConfig::octt(),
        )),
        "TC_C_49_CSMS" => Box::pin(c_authorization::tc_c_49(
            target,
            c_authorization::AuthConfig::octt(),
        )),
        "TC_G_03_CSMS" => with_operator(op, |op| g_availability::tc_g_03(target, op)),
        "TC_G_04_CSMS" => with_operator(op, |op| g_availability::tc_g_04(target, op)),
        "TC_G_05_CSMS" => with_operator(op, |op| g_availability::tc_g_05(target, op)),
        "TC_G_06_CSMS" => with_operator(op, |op| g_availability::tc_g_06(target, op)),
        "TC_G_07_CSMS" => with_operator(op, |op| g_availability::tc_g_07(target, op)),
        "TC_G_08_CSMS" => with_operator(op, |op| g_availability::tc_g_08(target, op)),
        "TC_G_11_CSMS" => with_operator(op, |op| g_availability::tc_g_11(target, op)),
        "TC_G_14_CSMS" => with_operator(op, |op| g_availability::tc_g_14(target, op)),
        "TC_G_17_CSMS" => with_operator(op, |op| g_availability::tc_g_17(target, op)),
        "TC_G_20_CSMS" => Box::pin(g_availability::tc_g_20(target)),
        other => {
            return d_local_list::scenario(other, target, op.clone())
                .or_else(|| e_transactions::scenario(other, target, op.clone()))
                .or_else(|| f_remote_control::scenario(other, target, op.clone()))
                .or_else(|| i_tariff_cost::scenario(other, target, op.clone()))
                .or_else(|| j_meter_values::scenario(other, target, op.clone()))
                .or_else(|| k_smart_charging::scenario(other, target, op.clone()))
                .or_else(|| l_firmware::scenario(other, target, op.clone()))
                .or_else(|| n_diagnostics::scenario(other, target, op.clone()))
                .or_else(|| m_certificates::scenario(other, target, op.clone()))
                .or_else(|| o_display_messages::scenario(other, target, op.clone()))
                .or_else(|| p_data_transfer::scenario(other, target))
        }
    })
}

/// Case ids the simulator can play.
pub fn implemented() -> Vec<&'static str> {
    catalog::all()
        .iter()
        .map(|c| c.id)
        .filter(|id| scenario(id, &Target::new("x"), None).is_some())
        .collect()
}

/// Play one case against the target. Cases that start with an operator action ("Manual
/// Action: request the CSMS to …") need `operator`; without one they are not applicable.
pub async fn run(case_id: &str, target: &Target, operator: Option<Arc<dyn Operator>>) -> Verdict {
    match scenario(case_id, target, operator) {
        None => Verdict::NotImplemented,
        Some(future) => match future.await {
            Ok(()) => Verdict::Pass,
            Err(CaseError::Fail(reason)) => Verdict::Fail(reason),
            Err(CaseError::NotApplicable(reason)) => Verdict::NotApplicable(reason),
        },
    }
}

/// Whether the operator's report shows, for `component`.`variable`, `field` = `value`: some
/// JSON object in it names the component and the variable (as OCPP objects `{"name": …}` or as
/// plain strings) and has `field` (or, for an attribute value, `value`) equal to `value`.
/// How an operator shows what the CSMS read or set is its own business; this accepts the OCPP
/// result types and flat `{component, variable, value}` views alike.
pub(crate) fn reports_value(
    report: &Value,
    component: &str,
    variable: &str,
    field: &str,
    value: &str,
) -> bool {
    fn name_of(v: Option<&Value>) -> Option<&str> {
        match v? {
            Value::String(s) => Some(s),
            Value::Object(o) => o.get("name").and_then(Value::as_str),
            _ => None,
        }
    }
    match report {
        Value::Object(o) => {
            let names = name_of(o.get("component")) == Some(component)
                && name_of(o.get("variable")) == Some(variable);
            let holds = |key: &str| o.get(key).and_then(Value::as_str) == Some(value);
            let found = names && (holds(field) || (field == "attributeValue" && holds("value")));
            found
                || o.values()
                    .any(|v| reports_value(v, component, variable, field, value))
        }
        Value::Array(items) => items
            .iter()
            .any(|v| reports_value(v, component, variable, field, value)),
        _ => false,
    }
}

/// Whether some object in the operator's report has `field` = `value` (e.g. `status` =
/// `Failed`).
pub(crate) fn reports_field(report: &Value, field: &str, value: &str) -> bool {
    match report {
        Value::Object(o) => {
            o.get(field).and_then(Value::as_str) == Some(value)
                || o.values().any(|v| reports_field(v, field, value))
        }
        Value::Array(items) => items.iter().any(|v| reports_field(v, field, value)),
        _ => false,
    }
}

/// A stub CSMS for the scenarios' unit tests: it accepts one connection after another, answers
/// every station CALL with a fixed schema-valid answer (Authorize, and TransactionEvents that
/// carry an idToken, with `idTokenInfo.status` Accepted, as the transaction states require), and
/// sends the CALLs its operator asks for (an action mapped to OCPP as unicharge's REST API does
/// it, optionally corrupted first). It keeps the station's CALLs and its answers to the stub's.
#[cfg(test)]
pub(crate) mod stub {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use async_trait::async_trait;
    use futures_util::{SinkExt, StreamExt};
    use serde_json::{json, Value};
    use tokio::net::TcpListener;
    use tokio::sync::{mpsc, oneshot};
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    use tokio_tungstenite::tungstenite::Message;

    use super::operator::{Operator, OperatorAction};
    use super::{CaseError, Target};

    struct Command {
        action: String,
        payload: Value,
        reply: oneshot::Sender<Value>,
    }

    type Mutate = dyn Fn(&str, &mut Value) + Send + Sync;
    type Log = Arc<Mutex<Vec<(String, Value)>>>;

    pub(crate) struct Stub {
        url: String,
        commands: mpsc::UnboundedSender<Command>,
        /// Every CALL a station sent: (action, payload).
        calls: Log,
        /// The station's answers to the stub's CALLs: (action, payload).
        results: Log,
    }

    impl Stub {
        pub(crate) async fn start() -> Stub {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("ws://{}/ocpp", listener.local_addr().unwrap());
            let (commands, rx) = mpsc::unbounded_channel();
            let calls = Log::default();
            let results = Log::default();
            tokio::spawn(serve(listener, rx, calls.clone(), results.clone()));
            Stub {
                url,
                commands,
                calls,
                results,
            }
        }

        pub(crate) fn target(&self) -> Target {
            let mut target = Target::new("CP-STUB");
            target.ws_url = Some(self.url.clone());
            target.wss_url = Some("wss://stub.invalid:1/ocpp".into());
            target.password = Some("a-password-of-16chars".into());
            target.timeout = Duration::from_secs(3);
            target
        }

        /// An operator whose CALLs are sent as mapped.
        pub(crate) fn operator(&self) -> Arc<dyn Operator> {
            self.operator_with(|_, _| {})
        }

        /// An operator whose CALLs `mutate` corrupts before the stub sends them.
        pub(crate) fn operator_with(
            &self,
            mutate: impl Fn(&str, &mut Value) + Send + Sync + 'static,
        ) -> Arc<dyn Operator> {
            Arc::new(StubOperator {
                commands: self.commands.clone(),
                mutate: Box::new(mutate),
                report: None,
                next_request_id: AtomicI64::new(1),
            })
        }

        /// An operator that acts but tells the scenario `report` whatever the station answered.
        pub(crate) fn operator_reporting(&self, report: Value) -> Arc<dyn Operator> {
            Arc::new(StubOperator {
                commands: self.commands.clone(),
                mutate: Box::new(|_, _| {}),
                report: Some(report),
                next_request_id: AtomicI64::new(1),
            })
        }

        pub(crate) fn calls(&self) -> Vec<(String, Value)> {
            self.calls.lock().unwrap().clone()
        }

        pub(crate) fn results(&self) -> Vec<(String, Value)> {
            self.results.lock().unwrap().clone()
        }

        /// One line per CALL the station sent: the action and its key fields.
        pub(crate) fn summary(&self) -> Vec<String> {
            self.calls()
                .iter()
                .map(|(action, p)| {
                    let fields: &[&str] = match action.as_str() {
                        "BootNotification" => &["/reason"],
                        "StatusNotification" => &["/connectorStatus"],
                        "NotifyEvent" => &["/eventData/0/actualValue"],
                        "TransactionEvent" => &[
                            "/eventType",
                            "/triggerReason",
                            "/transactionInfo/chargingState",
                            "/transactionInfo/stoppedReason",
                            "/idToken/idToken",
                        ],
                        _ => &[],
                    };
                    let values: Vec<&str> = fields
                        .iter()
                        .filter_map(|f| p.pointer(f).and_then(Value::as_str))
                        .collect();
                    if values.is_empty() {
                        action.clone()
                    } else {
                        format!("{action} {}", values.join(" "))
                    }
                })
                .collect()
        }
    }

    // The handshake callback's error type is tungstenite's (large) ErrorResponse.
    #[allow(clippy::result_large_err)]
    async fn serve(
        listener: TcpListener,
        mut commands: mpsc::UnboundedReceiver<Command>,
        calls: Log,
        results: Log,
    ) {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let callback = |_: &Request, mut response: Response| {
                response.headers_mut().insert(
                    "Sec-WebSocket-Protocol",
                    HeaderValue::from_static("ocpp2.0.1"),
                );
                Ok(response)
            };
            let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await else {
                continue;
            };
            let mut pending: HashMap<String, (String, Option<oneshot::Sender<Value>>)> =
                HashMap::new();
            let mut next_id = 0u64;
            loop {
                let mut outgoing: Vec<(String, Value, Option<oneshot::Sender<Value>>)> = Vec::new();
                tokio::select! {
                    message = ws.next() => {
                        let text = match message {
                            Some(Ok(Message::Text(text))) => text.to_string(),
                            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                            Some(Ok(_)) => continue,
                        };
                        let frame: Value = serde_json::from_str(&text).unwrap();
                        let id = frame[1].as_str().unwrap().to_string();
                        if frame[0] == 2 {
                            let action = frame[2].as_str().unwrap().to_string();
                            calls.lock().unwrap().push((action.clone(), frame[3].clone()));
                            let answer = default_answer(&action, &frame[3]);
                            let text = json!([3, id, answer]).to_string();
                            if ws.send(Message::Text(text.into())).await.is_err() {
                                break;
                            }
                            if action == "SignCertificate" {
                                outgoing.push((
                                    "CertificateSigned".into(),
                                    json!({
                                        "certificateChain": "not checked by the scenarios",
                                        "certificateType": "ChargingStationCertificate"
                                    }),
                                    None,
                                ));
                            }
                        } else if let Some((action, reply)) = pending.remove(&id) {
                            let answer = if frame[0] == 3 {
                                frame[2].clone()
                            } else {
                                json!({"CALLERROR": frame[2]})
                            };
                            results.lock().unwrap().push((action, answer.clone()));
                            if let Some(reply) = reply {
                                let _ = reply.send(answer);
                            }
                        }
                    }
                    command = commands.recv() => match command {
                        Some(c) => outgoing.push((c.action, c.payload, Some(c.reply))),
                        None => return,
                    },
                }
                for (action, payload, reply) in outgoing {
                    next_id += 1;
                    let id = format!("stub-{next_id}");
                    let text = json!([2, id, action, payload]).to_string();
                    let _ = ws.send(Message::Text(text.into())).await;
                    pending.insert(id, (action, reply));
                }
            }
        }
    }

    fn default_answer(action: &str, payload: &Value) -> Value {
        let now = chrono::Utc::now().to_rfc3339();
        let accepted = json!({"idTokenInfo": {"status": "Accepted"}});
        match action {
            "BootNotification" => {
                json!({"currentTime": now, "interval": 300, "status": "Accepted"})
            }
            "Heartbeat" => json!({ "currentTime": now }),
            "SignCertificate" => json!({"status": "Accepted"}),
            "Authorize" => accepted,
            "TransactionEvent" if payload.get("idToken").is_some() => accepted,
            _ => json!({}),
        }
    }

    struct StubOperator {
        commands: mpsc::UnboundedSender<Command>,
        mutate: Box<Mutate>,
        report: Option<Value>,
        next_request_id: AtomicI64,
    }

    fn evse(evse_id: Option<i64>, connector_id: Option<i64>) -> Option<Value> {
        evse_id.map(|id| match connector_id {
            Some(c) => json!({"id": id, "connectorId": c}),
            None => json!({ "id": id }),
        })
    }

    impl StubOperator {
        fn map(&self, action: OperatorAction) -> Result<(String, Value), String> {
            let variable = |c: &str, v: &str, t: &Option<String>| {
                let mut d = json!({"component": {"name": c}, "variable": {"name": v}});
                if let Some(t) = t {
                    d["attributeType"] = json!(t);
                }
                d
            };
            Ok(match action {
                OperatorAction::Ocpp { action, payload } => (action, payload),
                OperatorAction::GetVariables { items } => (
                    "GetVariables".into(),
                    json!({"getVariableData": items.iter().map(|(c, v, t)| variable(c, v, t)).collect::<Vec<_>>()}),
                ),
                OperatorAction::SetVariables { items } => (
                    "SetVariables".into(),
                    json!({"setVariableData": items.iter().map(|(c, v, value, t)| {
                        let mut d = variable(c, v, t);
                        d["attributeValue"] = json!(value);
                        d
                    }).collect::<Vec<_>>()}),
                ),
                OperatorAction::GetBaseReport { report_base } => (
                    "GetBaseReport".into(),
                    json!({
                        "requestId": self.next_request_id.fetch_add(1, Ordering::Relaxed),
                        "reportBase": report_base
                    }),
                ),
                OperatorAction::GetCustomReport { mut request } => {
                    request["requestId"] =
                        json!(self.next_request_id.fetch_add(1, Ordering::Relaxed));
                    ("GetReport".into(), request)
                }
                OperatorAction::Reset {
                    reset_type,
                    evse_id,
                } => {
                    let mut p = json!({ "type": reset_type });
                    if let Some(e) = evse_id {
                        p["evseId"] = json!(e);
                    }
                    ("Reset".into(), p)
                }
                OperatorAction::ChangeAvailability {
                    operational_status,
                    evse_id,
                    connector_id,
                } => {
                    let mut p = json!({ "operationalStatus": operational_status });
                    if let Some(e) = evse(evse_id, connector_id) {
                        p["evse"] = e;
                    }
                    ("ChangeAvailability".into(), p)
                }
                OperatorAction::TriggerMessage {
                    requested_message,
                    evse_id,
                    connector_id,
                } => {
                    let mut p = json!({ "requestedMessage": requested_message });
                    if let Some(e) = evse(evse_id, connector_id) {
                        p["evse"] = e;
                    }
                    ("TriggerMessage".into(), p)
                }
                OperatorAction::RotateBasicAuthPassword => (
                    "SetVariables".into(),
                    json!({"setVariableData": [{
                        "component": {"name": "SecurityCtrlr"},
                        "variable": {"name": "BasicAuthPassword"},
                        "attributeValue": "a-new-password-of-27-chars1"
                    }]}),
                ),
                OperatorAction::RenewStationCertificate => (
                    "TriggerMessage".into(),
                    json!({"requestedMessage": "SignChargingStationCertificate"}),
                ),
                OperatorAction::SetNetworkProfile {
                    configuration_slot,
                    connection_data,
                } => (
                    "SetNetworkProfile".into(),
                    json!({"configurationSlot": configuration_slot, "connectionData": connection_data}),
                ),
                OperatorAction::InstallCertificate {
                    certificate_type,
                    certificate,
                } => (
                    "InstallCertificate".into(),
                    json!({"certificateType": certificate_type, "certificate": certificate}),
                ),
                OperatorAction::GetInstalledCertificateIds { certificate_types } => (
                    "GetInstalledCertificateIds".into(),
                    match certificate_types {
                        Some(types) => json!({ "certificateType": types }),
                        None => json!({}),
                    },
                ),
                other => return Err(format!("the stub cannot {other:?}")),
            })
        }
    }

    #[async_trait]
    impl Operator for StubOperator {
        async fn perform(&self, _station: &str, action: OperatorAction) -> Result<Value, String> {
            let (action, mut payload) = self.map(action)?;
            (self.mutate)(&action, &mut payload);
            let (reply, answer) = oneshot::channel();
            self.commands
                .send(Command {
                    action,
                    payload: payload.clone(),
                    reply,
                })
                .map_err(|_| "the stub is gone".to_string())?;
            let mut answer = answer
                .await
                .map_err(|_| "the station never answered".to_string())?;
            if let Some(request_id) = payload.get("requestId") {
                answer["requestId"] = request_id.clone();
            }
            Ok(self.report.clone().unwrap_or(answer))
        }
    }

    /// The [`Stub::summary`] of Booted then EnergyTransferStarted on a fresh session.
    pub(crate) const CHARGING: [&str; 9] = [
        "BootNotification PowerUp",
        "StatusNotification Available",
        "NotifyEvent Available",
        "Authorize",
        "TransactionEvent Started Authorized OCTT-VALID-001",
        "StatusNotification Occupied",
        "NotifyEvent Occupied",
        "TransactionEvent Updated CablePluggedIn EVConnected",
        "TransactionEvent Updated ChargingStateChanged Charging",
    ];

    /// The failure message of a scenario that must fail.
    pub(crate) fn failure(result: Result<(), CaseError>) -> String {
        match result {
            Err(CaseError::Fail(message)) => message,
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_value_reads_ocpp_results_and_flat_views() {
        let ocpp = json!({"results": [{
            "attributeStatus": "Accepted",
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "OfflineThreshold"},
            "attributeValue": "300"
        }]});
        assert!(reports_value(
            &ocpp,
            "OCPPCommCtrlr",
            "OfflineThreshold",
            "attributeValue",
            "300"
        ));
        assert!(!reports_value(
            &ocpp,
            "OCPPCommCtrlr",
            "OfflineThreshold",
            "attributeValue",
            "301"
        ));
        assert!(!reports_value(
            &ocpp,
            "AuthCtrlr",
            "OfflineThreshold",
            "attributeValue",
            "300"
        ));
        assert!(reports_value(
            &ocpp,
            "OCPPCommCtrlr",
            "OfflineThreshold",
            "attributeStatus",
            "Accepted"
        ));
        let flat =
            json!([{"component": "OCPPCommCtrlr", "variable": "OfflineThreshold", "value": "300"}]);
        assert!(reports_value(
            &flat,
            "OCPPCommCtrlr",
            "OfflineThreshold",
            "attributeValue",
            "300"
        ));
        assert!(reports_field(
            &json!({"status": "Failed"}),
            "status",
            "Failed"
        ));
        assert!(!reports_field(
            &json!({"status": "Accepted"}),
            "status",
            "Failed"
        ));
    }

    #[test]
    fn csms_url_is_the_endpoint_without_the_station_id() {
        let mut t = Target::new("CP001");
        t.ws_url = Some("ws://h:1/ocpp/".into());
        t.wss_url = Some("wss://h:2/ocpp".into());
        assert_eq!(t.csms_url(1).unwrap(), "ws://h:1/ocpp");
        assert_eq!(t.csms_url(3).unwrap(), "wss://h:2/ocpp");
        t.ocpp_csms_url = Some("wss://elsewhere/ocpp".into());
        assert_eq!(t.csms_url(1).unwrap(), "wss://elsewhere/ocpp");
    }

    #[test]
    fn operator_cases_without_an_operator_are_not_applicable() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let verdict = rt.block_on(run("TC_B_06_CSMS", &Target::new("CP001"), None));
        assert!(matches!(verdict, Verdict::NotApplicable(_)), "{verdict:?}");
    }
}
