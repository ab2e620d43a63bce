//! SignCertificate (A02 update by request of the CSMS, A03 initiated by the station).
//!
//! The CSR must be PEM PKCS#10 (RFC 2986), signed by its own key, with an RSA ≥ 2048 or EC ≥ 224
//! bit key (A00.FR.502/503), and its subject CN must be the station's identity (A00.FR.405).
//! A good CSR is answered Accepted; the CSMS's CA signs it (SHA-256 with the CA's key: ECDSA
//! here, never RSA-PSS) and, once the answer is sent, a CertificateSignedRequest delivers the
//! certificate (the [`Effect::DeliverCertificate`], see [`super::certificate_signed`]). The certificate and the station's verdict on it are kept per station.

use chrono::{DateTime, Utc};
use unicharge_ocpp::v201::{
    CertificateSigningUseEnumType, GenericStatusEnumType, SignCertificateRequest,
    SignCertificateResponse, StatusInfoType,
};

use super::certificate_signed::Delivery;
use super::pki::{self, PkiError};
use crate::dispatch::{CallRefusal, Handled, StationContext};
use crate::effects::Effect;

pub(crate) fn rejected(reason: &str, detail: String) -> SignCertificateResponse {
    SignCertificateResponse {
        custom_data: None,
        status: GenericStatusEnumType::Rejected,
        status_info: Some(StatusInfoType {
            custom_data: None,
            reason_code: reason.into(),
            additional_info: Some(detail.chars().take(512).collect()),
        }),
    }
}

pub async fn handle(
    ctx: &mut StationContext,
    req: SignCertificateRequest,
) -> Result<Handled<SignCertificateResponse>, CallRefusal> {
    let kind = req
        .certificate_type
        .unwrap_or(CertificateSigningUseEnumType::ChargingStationCertificate);
    if kind == CertificateSigningUseEnumType::V2GCertificate {
        return crate::certificate_management::sign_v2g::handle(ctx, req).await;
    }
    let Some(ca) = ctx.ca.clone() else {
        tracing::warn!(station = %ctx.station_id, "SignCertificate Rejected: no certificate authority configured");
        return Ok(Handled::durable(
            rejected(
                "NoCertificateAuthority",
                "the CSMS has no CA configured".into(),
            ),
            vec![],
        ));
    };
    let days = ctx.config.station_certificate_days;
    let cert = match pki::sign_csr(&ca, req.csr.as_bytes(), days) {
        Ok(cert) => cert,
        Err(e) => {
            let reason = match e {
                PkiError::WeakKey { .. } => "WeakKey",
                PkiError::CsrBadSignature => "InvalidSignature",
                _ => "InvalidCSR",
            };
            tracing::warn!(station = %ctx.station_id, error = %e, "SignCertificate Rejected");
            return Ok(Handled::durable(rejected(reason, e.to_string()), vec![]));
        }
    };
    let cn = pki::common_name(cert.subject_name());
    if cn.as_deref() != Some(ctx.station_id.as_str()) {
        tracing::warn!(station = %ctx.station_id, cn = ?cn, "SignCertificate Rejected: CN is not the station id");
        return Ok(Handled::durable(
            rejected(
                "InvalidCSR",
                format!("the CSR's commonName {cn:?} is not the station id"),
            ),
            vec![],
        ));
    }
    let pem = pki::certificate_to_pem(&cert)
        .map_err(crate::dispatch::internal)
        .map(|b| String::from_utf8_lossy(&b).into_owned())?;
    let serial = cert
        .serial_number()
        .to_bn()
        .and_then(|bn| bn.to_hex_str().map(|s| s.to_string()))
        .unwrap_or_default();
    let not_after = asn1_to_utc(cert.not_after()).unwrap_or_else(Utc::now);
    tracing::info!(station = %ctx.station_id, serial = %serial, "CSR accepted; delivering the signed certificate");

    Ok(Handled::durable(
        SignCertificateResponse {
            custom_data: None,
            status: GenericStatusEnumType::Accepted,
            status_info: None,
        },
        vec![],
    )
    .with_effect(Effect::DeliverCertificate(Box::new(Delivery {
        certificate_chain: pem,
        certificate_type: CertificateSigningUseEnumType::ChargingStationCertificate,
        subject: format!("CN={}", ctx.station_id),
        serial,
        not_after,
    }))))
}

/// An ASN.1 time as UTC (OpenSSL gives no direct conversion).
pub(crate) fn asn1_to_utc(t: &openssl::asn1::Asn1TimeRef) -> Option<DateTime<Utc>> {
    let epoch = openssl::asn1::Asn1Time::from_unix(0).ok()?;
    let diff = epoch.diff(t).ok()?;
    DateTime::from_timestamp(i64::from(diff.days) * 86_400 + i64::from(diff.secs), 0)
}
