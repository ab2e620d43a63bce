//! A built-in OCSP responder for one issuing CA: for tests, development and small test PKIs
//! (the built-in contract PKI of [`super::contract`]). It answers for certificates of its CA
//! by serial number: `revoked` ones Revoked, every other Good (the CA signs only what it
//! issued, so a serial it does not know is still its own); a CertID for another issuer is
//! answered Unknown. Answers are signed by the CA itself and valid for `validity`.
//!
//! Served over real HTTP ([`OcspResponder::serve`]): POST of a DER OCSP request, DER answer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use num_bigint::BigInt;
use openssl::hash::{hash, MessageDigest};
use rasn::types::OctetString;
use rasn_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponseStatus, ResponderId,
    ResponseData, RevokedInfo, SingleResponse,
};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use unicharge_ocpp::v201::HashAlgorithmEnumType;

use super::hash::hash_data;
use super::ocsp::{response_der, sign, signature_algorithm};
use crate::security::pki::CaMaterial;

/// An OCSP responder for the certificates of one CA.
pub struct OcspResponder {
    ca: Arc<CaMaterial>,
    /// A delegated responder (RFC 6960 §4.2.2.2) that signs instead of the CA, its
    /// certificate sent in `certs`.
    delegate: Option<CaMaterial>,
    /// Revoked serials (lower-case hex without leading zeros) and when.
    revoked: Mutex<HashMap<String, DateTime<Utc>>>,
    validity: Duration,
}

/// A responder listening for HTTP; dropping it stops it.
pub struct RunningResponder {
    pub url: String,
    pub responder: Arc<OcspResponder>,
    task: JoinHandle<()>,
}

impl Drop for RunningResponder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn serial_key(serial: &BigInt) -> String {
    serial.to_str_radix(16)
}

impl OcspResponder {
    pub fn new(ca: Arc<CaMaterial>, validity: Duration) -> Self {
        OcspResponder {
            ca,
            delegate: None,
            revoked: Mutex::new(HashMap::new()),
            validity,
        }
    }

    /// Sign with a delegated responder's certificate and key instead of the CA's (see
    /// [`issue_delegate`]); its certificate goes with every answer.
    pub fn with_delegate(mut self, delegate: CaMaterial) -> Self {
        self.delegate = Some(delegate);
        self
    }

    /// From now on, answer Revoked for the certificate with this serial (hex).
    pub fn revoke(&self, serial_hex: &str) {
        let serial = BigInt::parse_bytes(serial_hex.trim().as_bytes(), 16).unwrap_or_default();
        self.revoked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(serial_key(&serial), Utc::now());
    }

    /// Whether `id` names a certificate of this CA: its name and key hashes under the id's
    /// algorithm.
    fn issued_by_us(&self, id: &CertId) -> bool {
        let arcs: &[u32] = id.hash_algorithm.algorithm.as_ref();
        let algorithm = match arcs.last() {
            Some(1) => HashAlgorithmEnumType::Sha256,
            Some(2) => HashAlgorithmEnumType::Sha384,
            Some(3) => HashAlgorithmEnumType::Sha512,
            _ => return false,
        };
        if arcs.len() != 9 || arcs[..8] != [2, 16, 840, 1, 101, 3, 4, 2] {
            return false;
        }
        // The CA's own hash data: issuer (= the CA) name and key hashes.
        match hash_data(&self.ca.cert, &self.ca.cert, algorithm) {
            Ok(ours) => {
                hex::decode(&ours.issuer_name_hash).ok().as_deref()
                    == Some(&id.issuer_name_hash[..])
                    && hex::decode(&ours.issuer_key_hash).ok().as_deref()
                        == Some(&id.issuer_key_hash[..])
            }
            Err(_) => false,
        }
    }

    /// The DER answer to a DER request.
    pub fn answer(&self, request: &[u8]) -> Vec<u8> {
        let malformed =
            || response_der(OcspResponseStatus::MalformedRequest, None).unwrap_or_default();
        let Ok(request) = rasn::der::decode::<OcspRequest>(request) else {
            return malformed();
        };
        if request.tbs_request.request_list.is_empty() {
            return malformed();
        }
        let now = Utc::now();
        let offset = FixedOffset::east_opt(0).expect("UTC");
        let next =
            now + chrono::Duration::from_std(self.validity).unwrap_or(chrono::Duration::hours(1));
        let revoked = self
            .revoked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let responses = request
            .tbs_request
            .request_list
            .iter()
            .map(|r| {
                let id = &r.req_cert;
                let status = if !self.issued_by_us(id) {
                    CertStatus::Unknown(())
                } else {
                    let serial = BigInt::from(id.serial_number.clone());
                    match revoked.get(&serial_key(&serial)) {
                        Some(at) => CertStatus::Revoked(RevokedInfo {
                            revocation_time: at.with_timezone(&offset),
                            revocation_reason: None,
                        }),
                        None => CertStatus::Good,
                    }
                };
                SingleResponse {
                    cert_id: id.clone(),
                    cert_status: status,
                    this_update: now.with_timezone(&offset),
                    next_update: Some(next.with_timezone(&offset)),
                    single_extensions: None,
                }
            })
            .collect();
        let signer = self.delegate.as_ref().unwrap_or(&self.ca);
        let key_hash = signer
            .cert
            .public_key()
            .and_then(|k| k.public_key_to_der())
            .ok()
            .and_then(|spki| hash(MessageDigest::sha1(), &spki).ok())
            .map(|d| d.to_vec())
            .unwrap_or_default();
        let tbs = ResponseData {
            version: 0.into(),
            responder_id: ResponderId::ByKey(OctetString::from(key_hash)),
            produced_at: now.with_timezone(&offset),
            responses,
            response_extensions: None,
        };
        let signed = rasn::der::encode(&tbs)
            .map_err(|e| e.to_string())
            .and_then(|der| sign(&signer.key, &der));
        let Ok(signature) = signed else {
            return response_der(OcspResponseStatus::InternalError, None).unwrap_or_default();
        };
        let certs = match &self.delegate {
            Some(d) => match d
                .cert
                .to_der()
                .map_err(|e| e.to_string())
                .and_then(|der| rasn::der::decode(&der).map_err(|e| e.to_string()))
            {
                Ok(cert) => Some(vec![cert]),
                Err(_) => {
                    return response_der(OcspResponseStatus::InternalError, None)
                        .unwrap_or_default()
                }
            },
            None => None,
        };
        let basic = BasicOcspResponse {
            tbs_response_data: tbs,
            signature_algorithm: signature_algorithm(&signer.key),
            signature,
            certs,
        };
        response_der(OcspResponseStatus::Successful, Some(&basic)).unwrap_or_else(|_| malformed())
    }

    /// Serve over HTTP on `addr` (port 0: any free one). The URL to configure is returned.
    pub async fn serve(self: Arc<Self>, addr: SocketAddr) -> std::io::Result<RunningResponder> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let responder = self.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, peer)) = listener.accept().await else {
                    return;
                };
                let responder = responder.clone();
                tokio::spawn(async move {
                    let read = tokio::time::timeout(
                        Duration::from_secs(10),
                        super::http::read_post(&mut stream),
                    )
                    .await;
                    let answer = match read {
                        Ok(Ok((_, body))) => responder.answer(&body),
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, "OCSP request refused: {e}");
                            let _ = super::http::respond(
                                &mut stream,
                                "400 Bad Request",
                                "text/plain",
                                e.as_bytes(),
                            )
                            .await;
                            return;
                        }
                        Err(_) => return,
                    };
                    let _ = super::http::respond(
                        &mut stream,
                        "200 OK",
                        "application/ocsp-response",
                        &answer,
                    )
                    .await;
                });
            }
        });
        Ok(RunningResponder {
            url: format!("http://{local}/ocsp"),
            responder: self,
            task,
        })
    }
}

/// Issues a delegated OCSP responder certificate (RFC 6960 §4.2.2.2) from `ca`: a fresh P-256
/// key, CN `common_name`, extendedKeyUsage id-kp-OCSPSigning when `ocsp_signing` (without it,
/// clients must refuse its answers), valid for `days`. For test PKIs.
pub fn issue_delegate(
    ca: &CaMaterial,
    common_name: &str,
    ocsp_signing: bool,
    days: u32,
) -> Result<CaMaterial, String> {
    use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
    use openssl::x509::{X509Builder, X509Name};
    let e = |e: openssl::error::ErrorStack| e.to_string();
    let key = crate::security::pki::KeyKind::EcP256
        .generate()
        .map_err(|e| e.to_string())?;
    let mut name = X509Name::builder().map_err(e)?;
    name.append_entry_by_nid(openssl::nid::Nid::COMMONNAME, common_name)
        .map_err(e)?;
    let name = name.build();
    let mut b = X509Builder::new().map_err(e)?;
    b.set_version(2).map_err(e)?;
    let mut serial = openssl::bn::BigNum::new().map_err(e)?;
    serial
        .rand(64, openssl::bn::MsbOption::ONE, false)
        .map_err(e)?;
    let serial = serial.to_asn1_integer().map_err(e)?;
    b.set_serial_number(&serial).map_err(e)?;
    b.set_subject_name(&name).map_err(e)?;
    b.set_issuer_name(ca.cert.subject_name()).map_err(e)?;
    b.set_pubkey(&key).map_err(e)?;
    let now = Utc::now().timestamp();
    let not_before = openssl::asn1::Asn1Time::from_unix(now - 3600).map_err(e)?;
    let not_after =
        openssl::asn1::Asn1Time::from_unix(now + i64::from(days) * 86_400).map_err(e)?;
    b.set_not_before(&not_before).map_err(e)?;
    b.set_not_after(&not_after).map_err(e)?;
    b.append_extension(BasicConstraints::new().critical().build().map_err(e)?)
        .map_err(e)?;
    b.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .build()
            .map_err(e)?,
    )
    .map_err(e)?;
    let mut eku = ExtendedKeyUsage::new();
    if ocsp_signing {
        eku.other("OCSPSigning");
    } else {
        eku.client_auth();
    }
    b.append_extension(eku.build().map_err(e)?).map_err(e)?;
    b.sign(&ca.key, MessageDigest::sha256()).map_err(e)?;
    Ok(CaMaterial {
        cert: b.build(),
        key,
    })
}
