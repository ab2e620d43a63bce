//! CertificateSigned (A02/A03): deliver a certificate the CSMS's CA signed, and keep it with the
//! station's verdict. Runs as an effect after the SignCertificateResponse has left, so the
//! CertificateSignedRequest queues behind that answer.

use chrono::{DateTime, Utc};
use unicharge_core::StationId;
use unicharge_ocpp::v201::{CertificateSignedRequest, CertificateSigningUseEnumType};
use unicharge_store::{IssuedCertificate, Write};

use crate::request::Requester;
use crate::Csms;

/// A signed certificate waiting to be delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// PEM: the station certificate (the CA is the CSMS root the station trusts), or for a
    /// V2GCertificate the SECC leaf followed by the V2G sub-CAs.
    pub certificate_chain: String,
    /// ChargingStationCertificate or V2GCertificate, as sent in CertificateSignedRequest.
    pub certificate_type: CertificateSigningUseEnumType,
    /// The certificate's subject, as kept with it (`CN=…`).
    pub subject: String,
    /// Hex serial number.
    pub serial: String,
    pub not_after: DateTime<Utc>,
}

/// Send it, and record the certificate with the station's answer (or why it was not delivered).
pub async fn deliver(csms: &Csms, station: &StationId, delivery: Delivery) {
    let request = CertificateSignedRequest {
        custom_data: None,
        certificate_chain: delivery.certificate_chain.clone(),
        certificate_type: Some(delivery.certificate_type),
    };
    let sent_at = Utc::now();
    let station_status = match csms.request(station, &request, &Requester::Csms).await {
        Ok(answer) => answer.status.as_str().to_string(),
        Err(e) => format!("not delivered: {e}"),
    };
    tracing::info!(station = %station, status = %station_status,
        certificate_type = delivery.certificate_type.as_str(), "CertificateSigned answered");
    let record = Write::IssuedCertificate(IssuedCertificate {
        station_id: station.clone(),
        serial: delivery.serial,
        subject: delivery.subject,
        certificate_type: delivery.certificate_type.as_str().to_string(),
        not_after: delivery.not_after,
        certificate: delivery.certificate_chain,
        issued_at: sent_at,
        station_status: Some(station_status),
    });
    if let Err(e) = csms.store().write(vec![record]).await {
        tracing::error!(station = %station, error = %e, "could not record the issued certificate");
    }
}
