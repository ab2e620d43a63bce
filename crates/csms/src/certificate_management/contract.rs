//! Plug & Charge authorization (C07): an Authorize that carries a contract certificate
//! (`certificate`, PEM chain, leaf first) or its OCSP request data
//! (`iso15118CertificateHashData`) is accepted only after the CSMS checked it:
//!
//! 1. the chain leads to a configured trust anchor (a V2G or MO root; [`ContractTrust`]),
//!    every certificate valid now, signatures good — else CertChainError, CertificateExpired
//!    or SignatureError;
//! 2. every certificate below the root is Good at its issuer's OCSP responder (the configured
//!    responder, else the certificate's AIA, else the station's responderURL) — Revoked is
//!    CertificateRevoked (C07.FR.16); no answer, a bad answer or Unknown is CertChainError.
//!
//! Anything short of that is not Accepted, and the idTokenInfo is then Invalid: a contract
//! certificate the CSMS did not check is never accepted. Without trust anchors configured,
//! every contract certificate is refused (CertChainError) and the log says what to configure.

use std::sync::RwLock;
use std::time::Duration;

use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509Ref, X509StoreContext, X509VerifyResult, X509};
use unicharge_ocpp::v201::{AuthorizeCertificateStatusEnumType, OcspRequestDataType};

use super::hash::{hash_data, issuer_hashes};
use super::ocsp::{self, OcspStatus};

/// Where contract certificates are checked against.
#[derive(Debug, Clone)]
pub struct TrustConfig {
    /// V2G and MO root certificates a contract chain must lead to.
    pub roots: Vec<X509>,
    /// Known sub-CAs: the issuers the hash-data path can verify OCSP answers of.
    pub intermediates: Vec<X509>,
    /// Ask this OCSP responder instead of the one the certificate or station names.
    pub ocsp_responder: Option<String>,
    /// How long an OCSP answer may take.
    pub ocsp_timeout: Duration,
}

impl Default for TrustConfig {
    fn default() -> Self {
        TrustConfig {
            roots: Vec::new(),
            intermediates: Vec::new(),
            ocsp_responder: None,
            ocsp_timeout: Duration::from_secs(5),
        }
    }
}

impl TrustConfig {
    /// Roots and sub-CAs from PEM files (each may hold several certificates). The error names
    /// the file and the fix.
    pub fn from_pem_files(
        roots: &[std::path::PathBuf],
        intermediates: &[std::path::PathBuf],
        ocsp_responder: Option<String>,
        ocsp_timeout: Duration,
    ) -> Result<Self, String> {
        let read = |paths: &[std::path::PathBuf]| -> Result<Vec<X509>, String> {
            let mut certs = Vec::new();
            for path in paths {
                let pem = std::fs::read(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let found = X509::stack_from_pem(&pem).map_err(|e| {
                    format!(
                        "{} is not PEM X.509 ({e}); give the V2G / MO root certificates as PEM files",
                        path.display()
                    )
                })?;
                if found.is_empty() {
                    return Err(format!("{} holds no certificate", path.display()));
                }
                certs.extend(found);
            }
            Ok(certs)
        };
        if let Some(url) = &ocsp_responder {
            if !url.starts_with("http://") {
                return Err(format!(
                    "ocsp_responder {url:?}: give an http:// URL (OCSP answers are signed)"
                ));
            }
        }
        Ok(TrustConfig {
            roots: read(roots)?,
            intermediates: read(intermediates)?,
            ocsp_responder,
            ocsp_timeout,
        })
    }
}

/// The CSMS's contract-certificate trust, replaceable at run time.
#[derive(Debug, Default)]
pub struct ContractTrust {
    config: RwLock<TrustConfig>,
}

impl ContractTrust {
    pub fn configure(&self, config: TrustConfig) {
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = config;
    }

    pub fn config(&self) -> TrustConfig {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// The outcome of a check, with the reason for the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub status: AuthorizeCertificateStatusEnumType,
    pub reason: String,
}

fn outcome(status: AuthorizeCertificateStatusEnumType, reason: impl Into<String>) -> Checked {
    Checked {
        status,
        reason: reason.into(),
    }
}

use AuthorizeCertificateStatusEnumType as S;

/// Step 1: the chain to a trust anchor. Returns the certificates below the root with their
/// issuers, leaf first.
fn verify_chain(config: &TrustConfig, pem: &str) -> Result<Vec<(X509, X509)>, Checked> {
    let certs = X509::stack_from_pem(pem.as_bytes())
        .ok()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| outcome(S::CertChainError, "certificate is not a PEM X.509 chain"))?;
    if let Err((raw, text)) = verify(config, &certs) {
        // X509_V_ERR_CERT_NOT_YET_VALID 9, X509_V_ERR_CERT_HAS_EXPIRED 10,
        // X509_V_ERR_CERT_SIGNATURE_FAILURE 7.
        let status = match raw {
            9 | 10 => S::CertificateExpired,
            7 => S::SignatureError,
            _ => S::CertChainError,
        };
        return Err(outcome(status, format!("contract chain: {text}")));
    }
    // Pair every certificate below the root with its issuer.
    let mut pairs = Vec::new();
    for (i, cert) in certs.iter().enumerate() {
        if config.roots.iter().any(|r| same_cert(r, cert)) {
            break;
        }
        let issuer = certs
            .get(i + 1)
            .filter(|next| next.issued(cert) == X509VerifyResult::OK)
            .or_else(|| {
                config
                    .roots
                    .iter()
                    .find(|r| r.issued(cert) == X509VerifyResult::OK)
            })
            .ok_or_else(|| outcome(S::CertChainError, "an issuer of the chain is missing"))?;
        pairs.push((cert.clone(), issuer.clone()));
        if config.roots.iter().any(|r| same_cert(r, issuer)) {
            break;
        }
    }
    Ok(pairs)
}

/// OpenSSL's path validation of `chain` (leaf first) to the roots: the error code and text.
fn verify(config: &TrustConfig, chain: &[X509]) -> Result<(), (i32, String)> {
    let failed = |e: openssl::error::ErrorStack| (-1, e.to_string());
    let mut store = X509StoreBuilder::new().map_err(failed)?;
    for root in &config.roots {
        store.add_cert(root.clone()).map_err(failed)?;
    }
    let store = store.build();
    let mut untrusted = Stack::new().map_err(failed)?;
    for c in chain.iter().skip(1) {
        untrusted.push(c.clone()).map_err(failed)?;
    }
    let mut ctx = X509StoreContext::new().map_err(failed)?;
    let result = ctx.init(&store, &chain[0], &untrusted, |c| {
        let ok = c.verify_cert()?;
        Ok(if ok { None } else { Some(c.error()) })
    });
    match result {
        Ok(None) => Ok(()),
        Ok(Some(e)) => Err((e.as_raw(), e.error_string().to_string())),
        Err(e) => Err(failed(e)),
    }
}

fn same_cert(a: &X509Ref, b: &X509Ref) -> bool {
    matches!((a.to_der(), b.to_der()), (Ok(a), Ok(b)) if a == b)
}

fn from_ocsp(result: Result<OcspStatus, ocsp::OcspError>, what: &str) -> Option<Checked> {
    match result {
        Ok(OcspStatus::Good) => None,
        Ok(OcspStatus::Revoked { at }) => Some(outcome(
            S::CertificateRevoked,
            format!("{what} revoked at {at}"),
        )),
        Ok(OcspStatus::Unknown) => Some(outcome(
            S::CertChainError,
            format!("{what}: the OCSP responder does not know it"),
        )),
        Err(e) => Some(outcome(S::CertChainError, format!("{what}: {e}"))),
    }
}

/// C07 with `certificate`: the chain, then OCSP for every certificate below the root.
pub async fn check_certificate(trust: &ContractTrust, pem: &str) -> Checked {
    let config = trust.config();
    if config.roots.is_empty() {
        return outcome(
            S::CertChainError,
            "no contract-certificate trust anchors configured (V2G / MO roots): Plug & Charge \
             is refused until they are",
        );
    }
    let pairs = match verify_chain(&config, pem) {
        Ok(pairs) => pairs,
        Err(checked) => return checked,
    };
    for (cert, issuer) in &pairs {
        let what = format!(
            "certificate {}",
            crate::security::pki::common_name(cert.subject_name()).unwrap_or_default()
        );
        let url = config.ocsp_responder.clone().or_else(|| {
            cert.ocsp_responders()
                .ok()
                .and_then(|urls| urls.iter().next().map(|u| u.to_string()))
        });
        let Some(url) = url else {
            return outcome(
                S::CertChainError,
                format!("{what} names no OCSP responder and none is configured"),
            );
        };
        let id = hash_data(
            cert,
            issuer,
            unicharge_ocpp::v201::HashAlgorithmEnumType::Sha256,
        )
        .ok()
        .and_then(|h| ocsp::cert_id(&h));
        let Some(id) = id else {
            return outcome(S::CertChainError, format!("{what}: no OCSP CertID"));
        };
        if let Some(refused) = from_ocsp(
            ocsp::check(&url, &id, issuer, config.ocsp_timeout).await,
            &what,
        ) {
            return refused;
        }
    }
    outcome(S::Accepted, "chain and OCSP good")
}

/// C07 with `iso15118CertificateHashData`: every entry Good at its responder, the answer
/// signed by an issuer the CSMS knows (a configured root or sub-CA) by the entry's hashes.
pub async fn check_hash_data(trust: &ContractTrust, entries: &[OcspRequestDataType]) -> Checked {
    let config = trust.config();
    if entries.is_empty() {
        return outcome(S::NoCertificateAvailable, "no hash data given");
    }
    if config.roots.is_empty() {
        return outcome(
            S::CertChainError,
            "no contract-certificate trust anchors configured (V2G / MO roots)",
        );
    }
    for entry in entries {
        let what = format!("certificate with serial {}", entry.serial_number);
        let issuer = config.roots.iter().chain(&config.intermediates).find(|ca| {
            issuer_hashes(ca, entry.hash_algorithm).is_ok_and(|(name, key)| {
                name.eq_ignore_ascii_case(&entry.issuer_name_hash)
                    && key.eq_ignore_ascii_case(&entry.issuer_key_hash)
            })
        });
        let Some(issuer) = issuer else {
            return outcome(
                S::CertChainError,
                format!("{what}: its issuer is not a configured root or sub-CA"),
            );
        };
        let id = ocsp::cert_id(&unicharge_ocpp::v201::CertificateHashDataType {
            custom_data: None,
            hash_algorithm: entry.hash_algorithm,
            issuer_name_hash: entry.issuer_name_hash.clone(),
            issuer_key_hash: entry.issuer_key_hash.clone(),
            serial_number: entry.serial_number.clone(),
        });
        let Some(id) = id else {
            return outcome(S::CertChainError, format!("{what}: hash data is not hex"));
        };
        let url = config
            .ocsp_responder
            .clone()
            .unwrap_or_else(|| entry.responder_url.clone());
        if let Some(refused) = from_ocsp(
            ocsp::check(&url, &id, issuer, config.ocsp_timeout).await,
            &what,
        ) {
            return refused;
        }
    }
    outcome(S::Accepted, "every certificate good")
}
