//! Functional block M, ISO 15118 certificate management, CSMS side, both directions.
//!
//! What the CSMS starts (typed operations the REST API and automation call):
//! M05 [`install_certificate`] (a root certificate of any type, checked to be one before it is
//! sent), M03 [`get_installed_certificate_ids`] (SHA-256/384/512 hash data as the station
//! chooses; what it reports is kept), M04 [`delete_certificate`] (by hash data, or by type
//! and serial number after looking the hash data up at the station, so the DeleteCertificate
//! carries exactly the hash data the station uses).
//!
//! What stations send: M06 GetCertificateStatus ([`get_certificate_status`]: the OCSP
//! answer for a V2G certificate, checked, passed on); M01/M02 Get15118EVCertificate
//! ([`ev_certificate`]: forwarded to the configured contract-certificate service); A02/A03
//! SignCertificate for a V2GCertificate ([`sign_v2g`]: signed by the configured V2G sub-CA,
//! [`v2g_ca`]).
//!
//! C07 Plug & Charge: [`contract`] checks a contract certificate (chain to a configured V2G
//! / MO root, OCSP through [`ocsp`]) before an Authorize that carries one is accepted; a
//! built-in OCSP [`responder`] serves test PKIs over HTTP.
//!
//! The CSMS keeps what it knows each station holds ([`unicharge_store::InstalledCertificate`]).

pub mod contract;
pub mod ev_certificate;
pub mod get_certificate_status;
pub mod hash;
pub mod http;
pub mod ocsp;
pub mod responder;
pub mod sign_v2g;
pub mod v2g_ca;

use chrono::Utc;
use openssl::x509::{X509VerifyResult, X509};
use unicharge_core::StationId;
use unicharge_ocpp::v201::{
    CertificateHashDataChainType, CertificateHashDataType, DeleteCertificateRequest,
    DeleteCertificateResponse, DeleteCertificateStatusEnumType, GetCertificateIdUseEnumType,
    GetInstalledCertificateIdsRequest, GetInstalledCertificateIdsResponse,
    GetInstalledCertificateStatusEnumType, HashAlgorithmEnumType, InstallCertificateRequest,
    InstallCertificateResponse, InstallCertificateStatusEnumType, InstallCertificateUseEnumType,
};
use unicharge_store::{CertificateHash, InstalledCertificate};

use crate::request::{OpError, Requester};
use crate::Csms;

/// The one root certificate in `pem`, checked: PEM X.509, exactly one certificate, self-signed
/// (its signature verifies with its own key), currently valid.
pub fn parse_root(pem: &str) -> Result<X509, OpError> {
    let refused = |code, message: String| Err(OpError::refused(code, message));
    let certs = match X509::stack_from_pem(pem.as_bytes()) {
        Ok(certs) if !certs.is_empty() => certs,
        _ => {
            return refused(
                "not_a_pem_certificate",
                "certificate must be one PEM X.509 certificate (-----BEGIN CERTIFICATE-----)"
                    .into(),
            )
        }
    };
    if certs.len() != 1 {
        return refused(
            "not_one_certificate",
            format!(
                "certificate holds {} certificates; InstallCertificate installs one root",
                certs.len()
            ),
        );
    }
    let cert = certs.into_iter().next().expect("one certificate");
    let self_signed = cert.issued(&cert) == X509VerifyResult::OK
        && cert
            .public_key()
            .and_then(|k| cert.verify(&k))
            .unwrap_or(false);
    if !self_signed {
        return refused(
            "not_a_root_certificate",
            "certificate is not self-signed: InstallCertificate installs root certificates \
             (M05); a station's own certificate is renewed with A02"
                .into(),
        );
    }
    let now =
        openssl::asn1::Asn1Time::days_from_now(0).map_err(|e| OpError::Store(e.to_string()))?;
    if cert.not_after() < now || cert.not_before() > now {
        return refused(
            "certificate_not_valid_now",
            format!(
                "certificate is valid from {} to {}, not now",
                cert.not_before(),
                cert.not_after()
            ),
        );
    }
    Ok(cert)
}

fn record(
    station: &StationId,
    hash: &CertificateHashDataType,
    certificate_type: &str,
    certificate: Option<String>,
    source: &str,
) -> InstalledCertificate {
    InstalledCertificate {
        station_id: station.clone(),
        hash_algorithm: hash.hash_algorithm.as_str().to_string(),
        issuer_name_hash: hash.issuer_name_hash.to_ascii_lowercase(),
        issuer_key_hash: hash.issuer_key_hash.to_ascii_lowercase(),
        serial_number: hash::normal_serial(&hash.serial_number),
        certificate_type: certificate_type.to_string(),
        certificate,
        source: source.to_string(),
        seen_at: Utc::now(),
        deleted_at: None,
    }
}

/// M05: install a root certificate (CSMSRootCertificate, ManufacturerRootCertificate,
/// V2GRootCertificate, MORootCertificate). What is not a single, self-signed, currently valid
/// certificate is refused before sending. Accepted: the CSMS records the station holds it
/// (SHA-256 hash data, with the PEM).
pub async fn install_certificate(
    csms: &Csms,
    station: &StationId,
    certificate_type: InstallCertificateUseEnumType,
    certificate: String,
    by: &Requester,
) -> Result<InstallCertificateResponse, OpError> {
    csms.registered(station).await?;
    let cert = parse_root(&certificate)?;
    let request = InstallCertificateRequest {
        custom_data: None,
        certificate_type,
        certificate: certificate.clone(),
    };
    let response = csms.request(station, &request, by).await?;
    if response.status == InstallCertificateStatusEnumType::Accepted {
        let hash =
            hash::hash_data(&cert, &cert, HashAlgorithmEnumType::Sha256).map_err(OpError::Store)?;
        csms.store()
            .put_installed_certificate(&record(
                station,
                &hash,
                certificate_type.as_str(),
                Some(certificate),
                "install",
            ))
            .await?;
    } else {
        tracing::info!(%station, certificate_type = certificate_type.as_str(),
            status = response.status.as_str(), "certificate not installed");
    }
    Ok(response)
}

/// M03: ask which certificates the station holds (of `types`, or all). The hash data it
/// reports (and that of the child certificates of a V2G chain) is kept.
pub async fn get_installed_certificate_ids(
    csms: &Csms,
    station: &StationId,
    types: Option<Vec<GetCertificateIdUseEnumType>>,
    by: &Requester,
) -> Result<GetInstalledCertificateIdsResponse, OpError> {
    csms.registered(station).await?;
    if types.as_ref().is_some_and(Vec::is_empty) {
        return Err(OpError::refused(
            "empty_type_list",
            "give at least one certificateType, or none to ask for every type",
        ));
    }
    let request = GetInstalledCertificateIdsRequest {
        custom_data: None,
        certificate_type: types,
    };
    let response = csms.request(station, &request, by).await?;
    if response.status == GetInstalledCertificateStatusEnumType::Accepted {
        let store = csms.store();
        for entry in response.certificate_hash_data_chain.iter().flatten() {
            let kind = entry.certificate_type.as_str();
            store
                .put_installed_certificate(&record(
                    station,
                    &entry.certificate_hash_data,
                    kind,
                    None,
                    "reported",
                ))
                .await?;
            for child in entry.child_certificate_hash_data.iter().flatten() {
                store
                    .put_installed_certificate(&record(station, child, kind, None, "reported"))
                    .await?;
            }
        }
    }
    Ok(response)
}

/// Which certificate to delete (M04).
#[derive(Debug, Clone, PartialEq)]
pub enum DeleteTarget {
    /// Exactly this hash data.
    Hash(CertificateHashDataType),
    /// Look it up at the station first (GetInstalledCertificateIds): the one certificate of
    /// this type (if given) with this serial number (if given).
    Lookup {
        certificate_type: Option<GetCertificateIdUseEnumType>,
        serial_number: Option<String>,
    },
}

/// What a delete did: the hash data sent and the station's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Deleted {
    pub certificate_hash_data: CertificateHashDataType,
    pub certificate_type: Option<GetCertificateIdUseEnumType>,
    pub response: DeleteCertificateResponse,
}

/// The one entry that matches, or why not.
fn pick(
    entries: &[CertificateHashDataChainType],
    certificate_type: Option<GetCertificateIdUseEnumType>,
    serial_number: Option<&str>,
) -> Result<CertificateHashDataChainType, OpError> {
    let matching: Vec<&CertificateHashDataChainType> = entries
        .iter()
        .filter(|e| certificate_type.is_none_or(|t| t == e.certificate_type))
        .filter(|e| {
            serial_number.is_none_or(|s| {
                hash::normal_serial(s)
                    == hash::normal_serial(&e.certificate_hash_data.serial_number)
            })
        })
        .collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(OpError::NotFound {
            code: "certificate_not_at_station",
            message: format!(
                "the station reports no {} certificate{}",
                certificate_type.map_or("installed", |t| t.as_str()),
                serial_number.map_or(String::new(), |s| format!(" with serial number {s}"))
            ),
        }),
        several => {
            let serials: Vec<String> = several
                .iter()
                .map(|e| {
                    format!(
                        "{} {}",
                        e.certificate_type.as_str(),
                        e.certificate_hash_data.serial_number
                    )
                })
                .collect();
            Err(OpError::refused(
                "ambiguous_certificate",
                format!(
                    "{} certificates match: {}; give certificateType and serialNumber",
                    several.len(),
                    serials.join(", ")
                ),
            ))
        }
    }
}

/// M04: delete a certificate. By lookup, the hash data sent is exactly the one the station
/// reported (M04.FR.01: the station finds it by its own hashes). Accepted: the CSMS records the
/// station no longer holds it.
pub async fn delete_certificate(
    csms: &Csms,
    station: &StationId,
    target: DeleteTarget,
    by: &Requester,
) -> Result<Deleted, OpError> {
    csms.registered(station).await?;
    let (hash, certificate_type) = match target {
        DeleteTarget::Hash(hash) => (hash, None),
        DeleteTarget::Lookup {
            certificate_type,
            serial_number,
        } => {
            let ids =
                get_installed_certificate_ids(csms, station, certificate_type.map(|t| vec![t]), by)
                    .await?;
            let entries = match ids.status {
                GetInstalledCertificateStatusEnumType::Accepted => {
                    ids.certificate_hash_data_chain.unwrap_or_default()
                }
                GetInstalledCertificateStatusEnumType::NotFound => Vec::new(),
            };
            let entry = pick(&entries, certificate_type, serial_number.as_deref())?;
            (entry.certificate_hash_data, Some(entry.certificate_type))
        }
    };
    let request = DeleteCertificateRequest {
        custom_data: None,
        certificate_hash_data: hash.clone(),
    };
    let response = csms.request(station, &request, by).await?;
    if response.status == DeleteCertificateStatusEnumType::Accepted {
        csms.store()
            .mark_certificate_deleted(
                station,
                &CertificateHash {
                    hash_algorithm: hash.hash_algorithm.as_str().to_string(),
                    issuer_name_hash: hash.issuer_name_hash.clone(),
                    issuer_key_hash: hash.issuer_key_hash.clone(),
                    serial_number: hash::normal_serial(&hash.serial_number),
                },
                Utc::now(),
            )
            .await?;
    } else {
        tracing::info!(%station, serial = %hash.serial_number, status = response.status.as_str(),
            "certificate not deleted");
    }
    Ok(Deleted {
        certificate_hash_data: hash,
        certificate_type,
        response,
    })
}
