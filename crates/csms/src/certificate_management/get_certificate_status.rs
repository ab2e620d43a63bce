//! GetCertificateStatus (M06): a station asks for the OCSP status of one of its V2G
//! certificates, to staple it for EVs. The CSMS asks the responder (the configured one, else
//! the station's responderURL) and passes on the DER answer, base64, when it is a successful
//! OCSP response that the issuer — a configured root or sub-CA found by the request's hashes —
//! signed, for exactly the certificate asked about. Anything else is Failed, with the reason in
//! statusInfo and the log. Nothing is stored: the answer is recomputed for a retransmission.

use base64::Engine;
use chrono::Utc;
use unicharge_ocpp::v201::{
    CertificateHashDataType, GetCertificateStatusEnumType, GetCertificateStatusRequest,
    GetCertificateStatusResponse, StatusInfoType,
};

use super::hash::issuer_hashes;
use super::ocsp;
use crate::dispatch::{CallRefusal, Handled, StationContext};

/// The schema's limit on `ocspResult`.
const OCSP_RESULT_MAX: usize = 5500;

fn failed(reason: &str, detail: String) -> GetCertificateStatusResponse {
    GetCertificateStatusResponse {
        custom_data: None,
        status: GetCertificateStatusEnumType::Failed,
        status_info: Some(StatusInfoType {
            custom_data: None,
            reason_code: reason.into(),
            additional_info: Some(detail.chars().take(512).collect()),
        }),
        ocsp_result: None,
    }
}

pub async fn handle(
    ctx: &mut StationContext,
    req: GetCertificateStatusRequest,
) -> Result<Handled<GetCertificateStatusResponse>, CallRefusal> {
    let entry = req.ocsp_request_data;
    let config = ctx.csms.contract_trust().config();
    let answer = 'answer: {
        let issuer = config.roots.iter().chain(&config.intermediates).find(|ca| {
            issuer_hashes(ca, entry.hash_algorithm).is_ok_and(|(name, key)| {
                name.eq_ignore_ascii_case(&entry.issuer_name_hash)
                    && key.eq_ignore_ascii_case(&entry.issuer_key_hash)
            })
        });
        let Some(issuer) = issuer else {
            break 'answer failed(
                "UnknownIssuer",
                "the issuer is not a configured V2G / MO root or sub-CA".into(),
            );
        };
        let Some(id) = ocsp::cert_id(&CertificateHashDataType {
            custom_data: None,
            hash_algorithm: entry.hash_algorithm,
            issuer_name_hash: entry.issuer_name_hash.clone(),
            issuer_key_hash: entry.issuer_key_hash.clone(),
            serial_number: entry.serial_number.clone(),
        }) else {
            break 'answer failed("InvalidHashData", "hash data is not hex".into());
        };
        let url = config
            .ocsp_responder
            .clone()
            .unwrap_or_else(|| entry.responder_url.clone());
        let body = match ocsp::request_der(&id) {
            Ok(body) => body,
            Err(e) => break 'answer failed("InternalError", e.to_string()),
        };
        let fetched = tokio::time::timeout(
            config.ocsp_timeout,
            super::http::post(&url, "application/ocsp-request", &body),
        )
        .await;
        let der = match fetched {
            Ok(Ok(der)) => der,
            Ok(Err(e)) => break 'answer failed("ResponderUnreachable", format!("{url}: {e}")),
            Err(_) => break 'answer failed("ResponderTimeout", url),
        };
        if let Err(e) = ocsp::read_response(&der, &id, issuer, Utc::now()) {
            break 'answer failed("InvalidOcspResponse", e.to_string());
        }
        let encoded = base64::engine::general_purpose::STANDARD.encode(&der);
        if encoded.len() > OCSP_RESULT_MAX {
            break 'answer failed(
                "OcspResponseTooLarge",
                format!("{} characters over {OCSP_RESULT_MAX}", encoded.len()),
            );
        }
        GetCertificateStatusResponse {
            custom_data: None,
            status: GetCertificateStatusEnumType::Accepted,
            status_info: None,
            ocsp_result: Some(encoded),
        }
    };
    tracing::info!(station = %ctx.station_id, serial = %entry.serial_number,
        status = answer.status.as_str(), "GetCertificateStatus");
    Ok(Handled::pure(answer))
}
