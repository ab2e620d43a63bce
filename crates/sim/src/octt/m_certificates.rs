//! Block M, ISO 15118 certificate management: TC_M_01–TC_M_21 as the OCTT plays them.
//!
//! The operator makes the CSMS act ([`OperatorAction::InstallCertificate`],
//! [`OperatorAction::GetInstalledCertificateIds`], [`OperatorAction::DeleteCertificate`]);
//! the station answers as the table says and checks the table's tool validations.
//!
//! Readings taken:
//!
//! * Every scenario boots first (Reusable State *Booted*).
//! * <Configured CSMSRootCertificate> is the CA of the CSMS's server certificate (the target's
//!   `ca`), or, without one, a self-signed root made for the run; the
//!   ManufacturerRootCertificate is a self-signed root made for the run.
//! * TC_M_05 and TC_M_19 give no tool validations for the station's Failed / NotFound: the
//!   operator must be told them (a report with that status), as in every other case.
//! * TC_M_18: the OCTT truststore holds the CSMS and manufacturer roots; both are reported.
//! * TC_M_20 / TC_M_21: the operator asks to delete "the CSMSRootCertificate"; the CSMS looks
//!   its hash data up (GetInstalledCertificateIds, type CSMSRootCertificate or omitted) and
//!   must send DeleteCertificate with exactly the hash data returned. TC_M_20 repeats
//!   install, lookup and delete for SHA-256, SHA-384 and SHA-512.

use std::sync::Arc;

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::x509::extension::BasicConstraints;
use openssl::x509::{X509NameBuilder, X509};
use serde_json::Value;
use unicharge_ocpp::v201::{
    CertificateHashDataChainType, DeleteCertificateRequest, DeleteCertificateResponse,
    DeleteCertificateStatusEnumType, GetCertificateIdUseEnumType,
    GetInstalledCertificateIdsRequest, GetInstalledCertificateIdsResponse,
    GetInstalledCertificateStatusEnumType, HashAlgorithmEnumType, InstallCertificateRequest,
    InstallCertificateResponse, InstallCertificateStatusEnumType, InstallCertificateUseEnumType,
};

use super::operator::{Operator, OperatorAction};
use super::states;
use super::{reports_field, with_operator, CaseError, OperatorTask, ScenarioFuture, Target};
use crate::ensure;
use crate::station::Station;

/// The OCTT's configured root certificates (PEM).
#[derive(Debug, Clone, PartialEq)]
pub struct CertificateConfig {
    pub csms_root: String,
    pub manufacturer_root: String,
}

impl CertificateConfig {
    /// The target's CA as the CSMS root (else a new one), and a new manufacturer root.
    pub fn for_target(target: &Target) -> Result<Self, CaseError> {
        let csms_root = match target
            .ca
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
        {
            Some(pem) if X509::from_pem(pem.as_bytes()).is_ok() => pem,
            _ => self_signed_root("OCTT CSMS Root")?,
        };
        Ok(CertificateConfig {
            csms_root,
            manufacturer_root: self_signed_root("OCTT Manufacturer Root")?,
        })
    }
}

/// A new self-signed EC P-256 CA certificate, valid for a year, as PEM.
pub fn self_signed_root(common_name: &str) -> Result<String, CaseError> {
    let build = || -> Result<String, openssl::error::ErrorStack> {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
        let key = PKey::from_ec_key(EcKey::generate(&group)?)?;
        let mut name = X509NameBuilder::new()?;
        name.append_entry_by_nid(Nid::COMMONNAME, common_name)?;
        let name = name.build();
        let mut serial = BigNum::new()?;
        serial.rand(64, MsbOption::MAYBE_ZERO, false)?;
        let mut b = X509::builder()?;
        b.set_version(2)?;
        let serial = serial.to_asn1_integer()?;
        b.set_serial_number(&serial)?;
        b.set_subject_name(&name)?;
        b.set_issuer_name(&name)?;
        b.set_pubkey(&key)?;
        let not_before = Asn1Time::days_from_now(0)?;
        let not_after = Asn1Time::days_from_now(365)?;
        b.set_not_before(&not_before)?;
        b.set_not_after(&not_after)?;
        b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
        b.sign(&key, MessageDigest::sha256())?;
        Ok(String::from_utf8_lossy(&b.build().to_pem()?).into_owned())
    };
    build().map_err(|e| CaseError::Fail(format!("making a root certificate: {e}")))
}

pub(crate) fn scenario<'a>(
    id: &str,
    target: &'a Target,
    op: Option<Arc<dyn Operator>>,
) -> Option<ScenarioFuture<'a>> {
    Some(match id {
        "TC_M_01_CSMS" => with_operator(op, move |op| tc_m_01(target, op)),
        "TC_M_02_CSMS" => with_operator(op, move |op| tc_m_02(target, op)),
        "TC_M_05_CSMS" => with_operator(op, move |op| tc_m_05(target, op)),
        "TC_M_12_CSMS" => with_operator(op, move |op| tc_m_12(target, op)),
        "TC_M_13_CSMS" => with_operator(op, move |op| tc_m_13(target, op)),
        "TC_M_18_CSMS" => with_operator(op, move |op| tc_m_18(target, op)),
        "TC_M_19_CSMS" => with_operator(op, move |op| tc_m_19(target, op)),
        "TC_M_20_CSMS" => with_operator(op, move |op| tc_m_20(target, op)),
        "TC_M_21_CSMS" => with_operator(op, move |op| tc_m_21(target, op)),
        _ => return None,
    })
}

async fn booted(target: &Target) -> Result<(Station, CertificateConfig), CaseError> {
    let cfg = CertificateConfig::for_target(target)?;
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    Ok((station, cfg))
}

fn told(report: &Value, status: &str) -> Result<(), CaseError> {
    ensure!(
        reports_field(report, "status", status),
        "the operator was not told the station's answer {status}: {report}"
    );
    Ok(())
}

/// TC_M_01_CSMS Install CA certificate - CSMSRootCertificate.
pub async fn tc_m_01(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    let (mut station, cfg) = booted(target).await?;
    states::certificate_installed(
        &mut station,
        target,
        op,
        InstallCertificateUseEnumType::CsmsRootCertificate,
        &cfg.csms_root,
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_M_02_CSMS Install CA certificate - ManufacturerRootCertificate.
pub async fn tc_m_02(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    let (mut station, cfg) = booted(target).await?;
    states::certificate_installed(
        &mut station,
        target,
        op,
        InstallCertificateUseEnumType::ManufacturerRootCertificate,
        &cfg.manufacturer_root,
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_M_05_CSMS Install CA certificate - Failed.
pub async fn tc_m_05(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    let (mut station, cfg) = booted(target).await?;
    let mut task = OperatorTask::start(
        &op,
        target,
        OperatorAction::InstallCertificate {
            certificate_type: "CSMSRootCertificate".into(),
            certificate: cfg.csms_root.clone(),
        },
        "have the CSMS send InstallCertificateRequest",
    );
    let (id, request) = task
        .expect_call::<InstallCertificateRequest>(&mut station)
        .await?;
    station
        .respond::<InstallCertificateRequest>(
            &id,
            &InstallCertificateResponse {
                custom_data: None,
                status: InstallCertificateStatusEnumType::Failed,
                status_info: None,
            },
        )
        .await?;
    ensure!(
        request.certificate_type == InstallCertificateUseEnumType::CsmsRootCertificate,
        "step 1: InstallCertificateRequest.certificateType must be CSMSRootCertificate, was {}",
        request.certificate_type.as_str()
    );
    told(&task.finish(target.timeout).await?, "Failed")?;
    station.close().await;
    Ok(())
}

/// TC_M_12_CSMS Retrieve certificates - CSMSRootCertificate, hashed SHA-256, 384, 512.
pub async fn tc_m_12(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    let (mut station, cfg) = booted(target).await?;
    for (step, algorithm) in [
        (1, HashAlgorithmEnumType::Sha256),
        (2, HashAlgorithmEnumType::Sha384),
        (3, HashAlgorithmEnumType::Sha512),
    ] {
        states::get_installed_certificates_hashed(
            &mut station,
            target,
            op.clone(),
            GetCertificateIdUseEnumType::CsmsRootCertificate,
            &cfg.csms_root,
            algorithm,
        )
        .await
        .map_err(|e| e.at_step(step))?;
    }
    station.close().await;
    Ok(())
}

/// TC_M_13_CSMS Retrieve certificates - ManufacturerRootCertificate.
pub async fn tc_m_13(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    let (mut station, cfg) = booted(target).await?;
    states::get_installed_certificates(
        &mut station,
        target,
        op,
        GetCertificateIdUseEnumType::ManufacturerRootCertificate,
        &cfg.manufacturer_root,
    )
    .await?;
    station.close().await;
    Ok(())
}

fn entry(
    pem: &str,
    kind: GetCertificateIdUseEnumType,
    algorithm: HashAlgorithmEnumType,
) -> Result<CertificateHashDataChainType, CaseError> {
    Ok(CertificateHashDataChainType {
        custom_data: None,
        certificate_hash_data: states::certificate_hash_data_with(pem, algorithm)
            .map_err(CaseError::Fail)?,
        certificate_type: kind,
        child_certificate_hash_data: None,
    })
}

/// The operator asks for `types`; the station answers `status` with `entries`. Returns the
/// request and the operator's report.
async fn installed_ids(
    station: &mut Station,
    target: &Target,
    op: &Arc<dyn Operator>,
    types: Option<Vec<String>>,
    entries: Vec<CertificateHashDataChainType>,
) -> Result<(GetInstalledCertificateIdsRequest, Value), CaseError> {
    let mut task = OperatorTask::start(
        op,
        target,
        OperatorAction::GetInstalledCertificateIds {
            certificate_types: types,
        },
        "have the CSMS send GetInstalledCertificateIdsRequest",
    );
    let (id, request) = task
        .expect_call::<GetInstalledCertificateIdsRequest>(station)
        .await?;
    let status = if entries.is_empty() {
        GetInstalledCertificateStatusEnumType::NotFound
    } else {
        GetInstalledCertificateStatusEnumType::Accepted
    };
    station
        .respond::<GetInstalledCertificateIdsRequest>(
            &id,
            &GetInstalledCertificateIdsResponse {
                custom_data: None,
                status,
                status_info: None,
                certificate_hash_data_chain: (!entries.is_empty()).then_some(entries),
            },
        )
        .await?;
    let report = task.finish(target.timeout).await?;
    told(&report, status.as_str())?;
    Ok((request, report))
}

/// TC_M_18_CSMS Retrieve certificates - All certificateTypes.
pub async fn tc_m_18(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    let (mut station, cfg) = booted(target).await?;
    let all = vec![
        entry(
            &cfg.csms_root,
            GetCertificateIdUseEnumType::CsmsRootCertificate,
            HashAlgorithmEnumType::Sha256,
        )?,
        entry(
            &cfg.manufacturer_root,
            GetCertificateIdUseEnumType::ManufacturerRootCertificate,
            HashAlgorithmEnumType::Sha256,
        )?,
    ];
    let (request, _) = installed_ids(&mut station, target, &op, None, all).await?;
    ensure!(
        request.certificate_type.is_none(),
        "step 1: GetInstalledCertificateIdsRequest.certificateType must be omitted, was {:?}",
        request.certificate_type
    );
    station.close().await;
    Ok(())
}

/// TC_M_19_CSMS Retrieve certificates - No matching certificate found.
pub async fn tc_m_19(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    let (mut station, _) = booted(target).await?;
    let wanted = GetCertificateIdUseEnumType::ManufacturerRootCertificate;
    let types = Some(vec![wanted.as_str().to_string()]);
    let (request, _) = installed_ids(&mut station, target, &op, types, vec![]).await?;
    ensure!(
        request.certificate_type == Some(vec![wanted]),
        "step 1: GetInstalledCertificateIdsRequest.certificateType must be \
         [ManufacturerRootCertificate], was {:?}",
        request.certificate_type
    );
    station.close().await;
    Ok(())
}

/// Install the CSMS root, then the operator deletes it: the CSMS looks it up (the station
/// reports it hashed with `algorithm`) and deletes it with that hash data; the station answers
/// `status`.
async fn delete_round(
    station: &mut Station,
    target: &Target,
    op: &Arc<dyn Operator>,
    cfg: &CertificateConfig,
    algorithm: HashAlgorithmEnumType,
    status: DeleteCertificateStatusEnumType,
) -> Result<(), CaseError> {
    states::certificate_installed(
        station,
        target,
        op.clone(),
        InstallCertificateUseEnumType::CsmsRootCertificate,
        &cfg.csms_root,
    )
    .await
    .map_err(|e| e.at_step(1))?;
    let reported = entry(
        &cfg.csms_root,
        GetCertificateIdUseEnumType::CsmsRootCertificate,
        algorithm,
    )?;
    let mut task = OperatorTask::start(
        op,
        target,
        OperatorAction::DeleteCertificate {
            certificate_type: Some("CSMSRootCertificate".into()),
            serial_number: None,
        },
        "have the CSMS delete the CSMSRootCertificate",
    );
    let (id, lookup) = task
        .expect_call::<GetInstalledCertificateIdsRequest>(station)
        .await
        .map_err(|e| e.at_step(2))?;
    station
        .respond::<GetInstalledCertificateIdsRequest>(
            &id,
            &GetInstalledCertificateIdsResponse {
                custom_data: None,
                status: GetInstalledCertificateStatusEnumType::Accepted,
                status_info: None,
                certificate_hash_data_chain: Some(vec![reported.clone()]),
            },
        )
        .await?;
    let types = lookup.certificate_type.clone();
    ensure!(
        types
            .as_ref()
            .is_none_or(|t| t.contains(&GetCertificateIdUseEnumType::CsmsRootCertificate)),
        "step 2: GetInstalledCertificateIdsRequest.certificateType must contain \
         CSMSRootCertificate or be omitted, was {types:?}"
    );
    let (id, delete) = task
        .expect_call::<DeleteCertificateRequest>(station)
        .await
        .map_err(|e| e.at_step(4))?;
    station
        .respond::<DeleteCertificateRequest>(
            &id,
            &DeleteCertificateResponse {
                custom_data: None,
                status,
                status_info: None,
            },
        )
        .await?;
    ensure!(
        delete.certificate_hash_data == reported.certificate_hash_data,
        "step 4: DeleteCertificateRequest.certificateHashData must be the hash data returned \
         at step 3 ({:?}), was {:?}",
        reported.certificate_hash_data,
        delete.certificate_hash_data
    );
    told(&task.finish(target.timeout).await?, status.as_str())
}

/// TC_M_20_CSMS Delete a certificate - Success (SHA-256, SHA-384, SHA-512).
pub async fn tc_m_20(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    let (mut station, cfg) = booted(target).await?;
    for algorithm in [
        HashAlgorithmEnumType::Sha256,
        HashAlgorithmEnumType::Sha384,
        HashAlgorithmEnumType::Sha512,
    ] {
        delete_round(
            &mut station,
            target,
            &op,
            &cfg,
            algorithm,
            DeleteCertificateStatusEnumType::Accepted,
        )
        .await
        .map_err(|e| match e {
            CaseError::Fail(m) => CaseError::Fail(format!("{}: {m}", algorithm.as_str())),
            other => other,
        })?;
    }
    station.close().await;
    Ok(())
}

/// TC_M_21_CSMS Delete a certificate - Failed.
pub async fn tc_m_21(target: &Target, op: Arc<dyn Operator>) -> Result<(), CaseError> {
    let (mut station, cfg) = booted(target).await?;
    delete_round(
        &mut station,
        target,
        &op,
        &cfg,
        HashAlgorithmEnumType::Sha256,
        DeleteCertificateStatusEnumType::Failed,
    )
    .await?;
    station.close().await;
    Ok(())
}
