//! OCSP (RFC 6960) for Plug & Charge: the client the CSMS asks a contract certificate's status
//! with, and the signature and matching checks of the answer.
//!
//! Messages are built and read with `rasn-ocsp` (DER); signatures are made and checked with
//! OpenSSL over the DER of `tbsResponseData`. The transport is plain HTTP/1.1 POST
//! (`application/ocsp-request`), as OCSP responders serve it ([`super::http`]).
//!
//! Fail closed: an answer that is not a successful basic response, is not signed by the
//! certificate's issuer (or by a responder it delegated to, RFC 6960 §4.2.2.2), does not name the certificate asked about, or is outside its validity
//! window, is an [`OcspError`] — never a "good".

use std::time::Duration;

use chrono::{DateTime, Utc};
use num_bigint::BigInt;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKeyRef, Private, Public};
use openssl::sign::{Signer, Verifier};
use openssl::x509::X509Ref;
use rasn::types::{BitString, Integer, ObjectIdentifier, OctetString};
use rasn_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus, Request,
    ResponseBytes, TbsRequest,
};
use rasn_pkix::AlgorithmIdentifier;
use unicharge_ocpp::v201::{CertificateHashDataType, HashAlgorithmEnumType};

/// id-pkix-ocsp-basic.
pub const OCSP_BASIC: &[u32] = &[1, 3, 6, 1, 5, 5, 7, 48, 1, 1];
const SHA256: &[u32] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];
const SHA384: &[u32] = &[2, 16, 840, 1, 101, 3, 4, 2, 2];
const SHA512: &[u32] = &[2, 16, 840, 1, 101, 3, 4, 2, 3];
const ECDSA_SHA256: &[u32] = &[1, 2, 840, 10045, 4, 3, 2];
const ECDSA_SHA384: &[u32] = &[1, 2, 840, 10045, 4, 3, 3];
const ECDSA_SHA512: &[u32] = &[1, 2, 840, 10045, 4, 3, 4];
const RSA_SHA256: &[u32] = &[1, 2, 840, 113549, 1, 1, 11];
const RSA_SHA384: &[u32] = &[1, 2, 840, 113549, 1, 1, 12];
const RSA_SHA512: &[u32] = &[1, 2, 840, 113549, 1, 1, 13];

/// The status an OCSP responder gave a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OcspStatus {
    Good,
    Revoked { at: DateTime<Utc> },
    Unknown,
}

/// Why no status could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OcspError {
    #[error("OCSP responder {url} unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("OCSP answer unusable: {0}")]
    BadResponse(String),
    #[error("OCSP responder answered {0:?}")]
    NotSuccessful(String),
    #[error("OCSP answer not signed by the certificate's issuer")]
    BadSignature,
    #[error("OCSP answer does not name the certificate asked about")]
    NotAnswered,
    #[error("OCSP answer outside its validity window (thisUpdate {this_update}, nextUpdate {next_update:?})")]
    Stale {
        this_update: DateTime<Utc>,
        next_update: Option<DateTime<Utc>>,
    },
}

fn oid(arcs: &'static [u32]) -> ObjectIdentifier {
    ObjectIdentifier::new(arcs).expect("a valid OID")
}

fn hash_oid(algorithm: HashAlgorithmEnumType) -> ObjectIdentifier {
    oid(match algorithm {
        HashAlgorithmEnumType::Sha256 => SHA256,
        HashAlgorithmEnumType::Sha384 => SHA384,
        HashAlgorithmEnumType::Sha512 => SHA512,
    })
}

/// An OCSP CertID from OCPP hash data (hex strings). `None` when a field is not hex.
pub fn cert_id(hash: &CertificateHashDataType) -> Option<CertId> {
    let name = hex::decode(hash.issuer_name_hash.trim()).ok()?;
    let key = hex::decode(hash.issuer_key_hash.trim()).ok()?;
    let serial = BigInt::parse_bytes(hash.serial_number.trim().as_bytes(), 16)?;
    Some(CertId {
        hash_algorithm: AlgorithmIdentifier {
            algorithm: hash_oid(hash.hash_algorithm),
            parameters: None,
        },
        issuer_name_hash: OctetString::from(name),
        issuer_key_hash: OctetString::from(key),
        serial_number: Integer::from(serial),
    })
}

/// The OCPP hash data of a CertID (for logs and matching).
pub fn serial_hex(id: &CertId) -> String {
    BigInt::from(id.serial_number.clone()).to_str_radix(16)
}

/// DER of an unsigned OCSP request for `id`.
pub fn request_der(id: &CertId) -> Result<Vec<u8>, OcspError> {
    let request = OcspRequest {
        tbs_request: TbsRequest {
            version: Integer::from(0),
            requestor_name: None,
            request_list: vec![Request {
                req_cert: id.clone(),
                single_request_extensions: None,
            }],
            request_extensions: None,
        },
        optional_signature: None,
    };
    rasn::der::encode(&request).map_err(|e| OcspError::BadResponse(format!("encoding: {e}")))
}

/// The signature algorithm OpenSSL's `key` signs with under SHA-256.
pub fn signature_algorithm<T: openssl::pkey::HasPublic>(key: &PKeyRef<T>) -> AlgorithmIdentifier {
    if key.id() == openssl::pkey::Id::RSA {
        AlgorithmIdentifier {
            algorithm: oid(RSA_SHA256),
            // NULL parameters.
            parameters: Some(rasn::types::Any::new(vec![0x05, 0x00])),
        }
    } else {
        AlgorithmIdentifier {
            algorithm: oid(ECDSA_SHA256),
            parameters: None,
        }
    }
}

/// Sign `data` with `key` (SHA-256) for [`signature_algorithm`].
pub fn sign(key: &PKeyRef<Private>, data: &[u8]) -> Result<BitString, String> {
    let mut signer = Signer::new(MessageDigest::sha256(), key).map_err(|e| e.to_string())?;
    signer.update(data).map_err(|e| e.to_string())?;
    let signature = signer.sign_to_vec().map_err(|e| e.to_string())?;
    Ok(BitString::from_vec(signature))
}

fn digest_of(algorithm: &ObjectIdentifier) -> Option<MessageDigest> {
    let arcs: &[u32] = algorithm.as_ref();
    Some(if arcs == ECDSA_SHA256 || arcs == RSA_SHA256 {
        MessageDigest::sha256()
    } else if arcs == ECDSA_SHA384 || arcs == RSA_SHA384 {
        MessageDigest::sha384()
    } else if arcs == ECDSA_SHA512 || arcs == RSA_SHA512 {
        MessageDigest::sha512()
    } else {
        return None;
    })
}

fn verify(key: &PKeyRef<Public>, basic: &BasicOcspResponse) -> Result<bool, OcspError> {
    let digest = digest_of(&basic.signature_algorithm.algorithm).ok_or_else(|| {
        OcspError::BadResponse(format!(
            "signature algorithm {} not supported",
            basic.signature_algorithm.algorithm
        ))
    })?;
    let tbs = rasn::der::encode(&basic.tbs_response_data)
        .map_err(|e| OcspError::BadResponse(format!("re-encoding tbsResponseData: {e}")))?;
    let signature: Vec<u8> = basic.signature.as_raw_slice().to_vec();
    let mut verifier =
        Verifier::new(digest, key).map_err(|e| OcspError::BadResponse(e.to_string()))?;
    verifier
        .update(&tbs)
        .map_err(|e| OcspError::BadResponse(e.to_string()))?;
    Ok(verifier.verify(&signature).unwrap_or(false))
}

fn same_id(a: &CertId, b: &CertId) -> bool {
    a.hash_algorithm.algorithm == b.hash_algorithm.algorithm
        && a.issuer_name_hash == b.issuer_name_hash
        && a.issuer_key_hash == b.issuer_key_hash
        && a.serial_number == b.serial_number
}

/// RFC 6960 §4.2.2.2, "CA Designated Responder": the answer is signed by a certificate in its
/// `certs` that `issuer` issued (its signature verifies with the issuer's key, its issuer name
/// is the issuer's subject), that is valid `now` and whose extendedKeyUsage holds
/// id-kp-OCSPSigning. Only such a certificate's key is tried; a certificate issued by anyone
/// else, without the EKU, or expired, cannot vouch for the answer.
fn signed_by_delegate(
    basic: &BasicOcspResponse,
    issuer: &X509Ref,
    now: DateTime<Utc>,
) -> Result<bool, OcspError> {
    use openssl::x509::{X509ExtendedKeyUsage, X509VerifyResult, X509};
    let issuer_key = issuer
        .public_key()
        .map_err(|e| OcspError::BadResponse(e.to_string()))?;
    let now = openssl::asn1::Asn1Time::from_unix(now.timestamp())
        .map_err(|e| OcspError::BadResponse(e.to_string()))?;
    for cert in basic.certs.iter().flatten() {
        let Ok(der) = rasn::der::encode(cert) else {
            continue;
        };
        let Ok(cert) = X509::from_der(&der) else {
            continue;
        };
        let delegated = issuer.issued(&cert) == X509VerifyResult::OK
            && cert.verify(&issuer_key).unwrap_or(false)
            && cert
                .extended_key_usage()
                .is_some_and(|eku| eku.contains(X509ExtendedKeyUsage::OCSP_SIGN))
            && cert.not_before() <= now
            && cert.not_after() >= now;
        if !delegated {
            continue;
        }
        let Ok(key) = cert.public_key() else {
            continue;
        };
        if verify(&key, basic)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// How far a responder's clock may be ahead of ours.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// Read a DER OCSP answer about `id`, which `issuer` must have signed.
pub fn read_response(
    der: &[u8],
    id: &CertId,
    issuer: &X509Ref,
    now: DateTime<Utc>,
) -> Result<OcspStatus, OcspError> {
    let response: OcspResponse =
        rasn::der::decode(der).map_err(|e| OcspError::BadResponse(format!("not DER OCSP: {e}")))?;
    if response.status != OcspResponseStatus::Successful {
        return Err(OcspError::NotSuccessful(format!("{:?}", response.status)));
    }
    let bytes = response
        .bytes
        .ok_or_else(|| OcspError::BadResponse("successful but no responseBytes".into()))?;
    if bytes.r#type != oid(OCSP_BASIC) {
        return Err(OcspError::BadResponse(format!(
            "response type {} is not id-pkix-ocsp-basic",
            bytes.r#type
        )));
    }
    let basic: BasicOcspResponse = rasn::der::decode(&bytes.response)
        .map_err(|e| OcspError::BadResponse(format!("basic response: {e}")))?;
    let key = issuer
        .public_key()
        .map_err(|e| OcspError::BadResponse(e.to_string()))?;
    // Signed by the issuer itself, or by a responder the issuer delegated to (RFC 6960
    // §4.2.2.2); anything else is refused (fail closed).
    if !verify(&key, &basic)? && !signed_by_delegate(&basic, issuer, now)? {
        return Err(OcspError::BadSignature);
    }
    let single = basic
        .tbs_response_data
        .responses
        .iter()
        .find(|r| same_id(&r.cert_id, id))
        .ok_or(OcspError::NotAnswered)?;
    let this_update = single.this_update.with_timezone(&Utc);
    let next_update = single.next_update.map(|t| t.with_timezone(&Utc));
    if this_update > now + CLOCK_SKEW || next_update.is_some_and(|n| n < now - CLOCK_SKEW) {
        return Err(OcspError::Stale {
            this_update,
            next_update,
        });
    }
    Ok(match &single.cert_status {
        CertStatus::Good => OcspStatus::Good,
        CertStatus::Revoked(info) => OcspStatus::Revoked {
            at: info.revocation_time.with_timezone(&Utc),
        },
        CertStatus::Unknown(_) => OcspStatus::Unknown,
    })
}

/// Ask the responder at `url` about `id` (issued by `issuer`) over HTTP.
pub async fn check(
    url: &str,
    id: &CertId,
    issuer: &X509Ref,
    timeout: Duration,
) -> Result<OcspStatus, OcspError> {
    let body = request_der(id)?;
    let answer = tokio::time::timeout(
        timeout,
        super::http::post(url, "application/ocsp-request", &body),
    )
    .await
    .map_err(|_| OcspError::Unreachable {
        url: url.to_string(),
        reason: format!("no answer within {timeout:?}"),
    })?
    .map_err(|reason| OcspError::Unreachable {
        url: url.to_string(),
        reason,
    })?;
    read_response(&answer, id, issuer, Utc::now())
}

/// Encode an OCSP answer of `status` (the built-in responder's, [`super::responder`]).
pub fn response_der(
    status: OcspResponseStatus,
    basic: Option<&BasicOcspResponse>,
) -> Result<Vec<u8>, String> {
    let bytes = match basic {
        Some(basic) => Some(ResponseBytes {
            r#type: oid(OCSP_BASIC),
            response: OctetString::from(rasn::der::encode(basic).map_err(|e| e.to_string())?),
        }),
        None => None,
    };
    rasn::der::encode(&OcspResponse { status, bytes }).map_err(|e| e.to_string())
}
