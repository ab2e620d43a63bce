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
pub mod catalog;
pub mod operator;
pub mod states;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use unicharge_ocpp::SUBPROTOCOL_V201;

use crate::station::{ConnectError, ConnectOptions, SimError, Station};
use crate::tls::TlsClientOptions;

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
        }
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

type ScenarioFuture<'a> = Pin<Box<dyn Future<Output = Result<(), CaseError>> + Send + 'a>>;

/// The scenario for a case id, if the simulator has one.
fn scenario<'a>(id: &str, target: &'a Target) -> Option<ScenarioFuture<'a>> {
    Some(match id.to_ascii_uppercase().as_str() {
        "TC_A_01_CSMS" => Box::pin(a_security::tc_a_01(target)),
        "TC_A_02_CSMS" => Box::pin(a_security::tc_a_02(target)),
        "TC_A_03_CSMS" => Box::pin(a_security::tc_a_03(target)),
        "TC_A_04_CSMS" => Box::pin(a_security::tc_a_04(target)),
        "TC_A_06_CSMS" => Box::pin(a_security::tc_a_06(target)),
        "TC_A_07_CSMS" => Box::pin(a_security::tc_a_07(target)),
        "TC_A_08_CSMS" => Box::pin(a_security::tc_a_08(target)),
        "TC_B_01_CSMS" => Box::pin(b_provisioning::tc_b_01(target)),
        _ => return None,
    })
}

/// Case ids the simulator can play.
pub fn implemented() -> Vec<&'static str> {
    catalog::all()
        .iter()
        .map(|c| c.id)
        .filter(|id| scenario(id, &Target::new("x")).is_some())
        .collect()
}

/// Play one case against the target.
pub async fn run(case_id: &str, target: &Target) -> Verdict {
    match scenario(case_id, target) {
        None => Verdict::NotImplemented,
        Some(future) => match future.await {
            Ok(()) => Verdict::Pass,
            Err(CaseError::Fail(reason)) => Verdict::Fail(reason),
            Err(CaseError::NotApplicable(reason)) => Verdict::NotApplicable(reason),
        },
    }
}
