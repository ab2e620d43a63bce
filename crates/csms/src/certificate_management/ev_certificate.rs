//! M01 / M02 Get15118EVCertificate: an EV asks, through the station, for a contract certificate
//! to be installed or updated (ISO 15118-2 CertificateInstallationReq / CertificateUpdateReq,
//! EXI, base64). The CSMS does not decode the EXI: it forwards it to a configured
//! contract-certificate service and passes that service's answer back.
//!
//! # The contract-certificate service interface
//!
//! One HTTP POST per request (`http://`, JSON, `Connection: close`; a pool reached over mTLS,
//! such as Hubject's, sits behind an adapter next to unicharge):
//!
//! ```text
//! POST <plug_and_charge.contract_service_url>
//! Content-Type: application/json
//!
//! {"iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef",
//!  "action": "Install",                 // or "Update" (OCPP CertificateActionEnumType)
//!  "exiRequest": "<base64 EXI>",        // exactly as the station sent it
//!  "stationId": "CP001"}                // who asks (for the adapter's logs and contracts)
//!
//! 200 OK
//! {"status": "Accepted",                // or "Failed" (OCPP Iso15118EVCertificateStatusEnumType)
//!  "exiResponse": "<base64 EXI>"}       // CertificateInstallationRes / UpdateRes, ≤ 7500 chars
//! ```
//!
//! Anything else — no service configured, not reachable, not answering within
//! `contract_service_timeout`, an HTTP status other than 200, a body that is not that JSON, an
//! `exiResponse` that is not base64 or too long — is answered `Failed` with `statusInfo` saying
//! why, and one log line. The station's request is never left unanswered.

use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use unicharge_ocpp::v201::{
    Get15118EvCertificateRequest, Get15118EvCertificateResponse,
    Iso15118EvCertificateStatusEnumType, StatusInfoType,
};

use super::http;
use crate::dispatch::{CallRefusal, Handled, StationContext};

/// Longest `exiResponse` OCPP 2.0.1 allows (Get15118EVCertificateResponse schema).
const MAX_EXI_RESPONSE: usize = 7500;

/// Where Get15118EVCertificate requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractServiceConfig {
    /// `http://host:port/path` of the service (or of the adapter to a pool).
    pub url: String,
    /// How long the service may take. The EV waits 5 s for CertificateInstallationRes
    /// (ISO 15118-2 V2G_EVCC_Msg_Timeout), the station's relay takes some of that.
    pub timeout: Duration,
}

/// The body POSTed to the service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRequest {
    pub iso15118_schema_version: String,
    pub action: String,
    pub exi_request: String,
    pub station_id: String,
}

/// The service's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceResponse {
    pub status: String,
    #[serde(default)]
    pub exi_response: String,
}

fn failed(reason: &str, detail: String) -> Get15118EvCertificateResponse {
    Get15118EvCertificateResponse {
        custom_data: None,
        status: Iso15118EvCertificateStatusEnumType::Failed,
        status_info: Some(StatusInfoType {
            custom_data: None,
            reason_code: reason.into(),
            additional_info: Some(detail.chars().take(512).collect()),
        }),
        exi_response: String::new(),
    }
}

/// Ask the service; its answer, checked, or why not (reason code, detail).
pub async fn ask(
    service: &ContractServiceConfig,
    request: &ServiceRequest,
) -> Result<Get15118EvCertificateResponse, (&'static str, String)> {
    let body = serde_json::to_vec(request).map_err(|e| ("InternalError", e.to_string()))?;
    let answer = tokio::time::timeout(
        service.timeout,
        http::post(&service.url, "application/json", &body),
    )
    .await
    .map_err(|_| {
        (
            "ServiceTimeout",
            format!(
                "the contract-certificate service did not answer within {:?}",
                service.timeout
            ),
        )
    })?
    .map_err(|e| {
        (
            "ServiceUnavailable",
            format!("contract-certificate service {}: {e}", service.url),
        )
    })?;
    read_answer(&answer)
}

/// The service's HTTP body, checked against the interface: the station's answer, or why not.
pub fn read_answer(body: &[u8]) -> Result<Get15118EvCertificateResponse, (&'static str, String)> {
    let answer: ServiceResponse = serde_json::from_slice(body).map_err(|e| {
        (
            "ServiceBadAnswer",
            format!("the contract-certificate service's answer is not the documented JSON: {e}"),
        )
    })?;
    let status = match answer.status.as_str() {
        "Accepted" => Iso15118EvCertificateStatusEnumType::Accepted,
        "Failed" => Iso15118EvCertificateStatusEnumType::Failed,
        other => {
            return Err((
                "ServiceBadAnswer",
                format!(
                    "status {:?}: the service must answer Accepted or Failed",
                    other.chars().take(40).collect::<String>()
                ),
            ))
        }
    };
    if answer.exi_response.len() > MAX_EXI_RESPONSE {
        return Err((
            "ServiceBadAnswer",
            format!(
                "exiResponse of {} characters is over OCPP's {MAX_EXI_RESPONSE}",
                answer.exi_response.len()
            ),
        ));
    }
    if base64::engine::general_purpose::STANDARD
        .decode(&answer.exi_response)
        .is_err()
    {
        return Err((
            "ServiceBadAnswer",
            "exiResponse is not base64 (RFC 4648, with padding)".into(),
        ));
    }
    if status == Iso15118EvCertificateStatusEnumType::Accepted && answer.exi_response.is_empty() {
        return Err(("ServiceBadAnswer", "Accepted without an exiResponse".into()));
    }
    Ok(Get15118EvCertificateResponse {
        custom_data: None,
        status,
        status_info: None,
        exi_response: answer.exi_response,
    })
}

pub async fn handle(
    ctx: &mut StationContext,
    req: Get15118EvCertificateRequest,
) -> Result<Handled<Get15118EvCertificateResponse>, CallRefusal> {
    let Some(service) = ctx.csms.shared().contract_service.clone() else {
        tracing::warn!(station = %ctx.station_id, action = req.action.as_str(),
            "Get15118EVCertificate Failed: no contract-certificate service configured; set \
             plug_and_charge.contract_service_url");
        return Ok(Handled::durable(
            failed(
                "NoContractService",
                "this CSMS has no contract-certificate service configured".into(),
            ),
            vec![],
        ));
    };
    tracing::debug!(station = %ctx.station_id, action = req.action.as_str(),
        schema = %req.iso15118_schema_version, exi_len = req.exi_request.len(),
        "Get15118EVCertificate forwarded to the contract-certificate service");
    let request = ServiceRequest {
        iso15118_schema_version: req.iso15118_schema_version,
        action: req.action.as_str().to_string(),
        exi_request: req.exi_request,
        station_id: ctx.station_id.as_str().to_string(),
    };
    let response = match ask(&service, &request).await {
        Ok(response) => {
            tracing::info!(station = %ctx.station_id, action = %request.action,
                status = response.status.as_str(), "Get15118EVCertificate answered");
            response
        }
        Err((reason, detail)) => {
            tracing::warn!(station = %ctx.station_id, action = %request.action,
                reason, error = %detail, "Get15118EVCertificate Failed");
            failed(reason, detail)
        }
    };
    // Remembered: a retransmission gets this answer, the service is not asked twice.
    Ok(Handled::durable(response, vec![]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_checked_against_the_interface() {
        let ok = read_answer(br#"{"status":"Accepted","exiResponse":"AAEC"}"#).unwrap();
        assert_eq!(ok.status, Iso15118EvCertificateStatusEnumType::Accepted);
        assert_eq!(ok.exi_response, "AAEC");
        let failed = read_answer(br#"{"status":"Failed"}"#).unwrap();
        assert_eq!(failed.status, Iso15118EvCertificateStatusEnumType::Failed);
        for bad in [
            &br#"{"status":"Accepted"}"#[..],
            br#"{"status":"accepted","exiResponse":"AAEC"}"#,
            br#"{"status":"Accepted","exiResponse":"not base64!"}"#,
            br#"<html>"#,
        ] {
            assert_eq!(read_answer(bad).unwrap_err().0, "ServiceBadAnswer");
        }
        let long = format!(
            r#"{{"status":"Accepted","exiResponse":"{}"}}"#,
            "A".repeat(7504)
        );
        assert_eq!(
            read_answer(long.as_bytes()).unwrap_err().0,
            "ServiceBadAnswer"
        );
    }
}
