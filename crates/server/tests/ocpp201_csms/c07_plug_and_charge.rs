//! C07 Authorization using contract certificates (Plug & Charge), against the built-in OCSP
//! responder over real HTTP: a test MO root issues contract certificates; the CSMS trusts the
//! root and asks the responder. The station sends Authorize with the contract certificate
//! (PEM) or with its OCSP request data; the CSMS must check both before accepting.

use std::sync::Arc;
use std::time::Duration;

use unicharge_core::tokens::IdTokenRecord;
use unicharge_csms::certificate_management::contract::TrustConfig;
use unicharge_csms::certificate_management::hash::hash_data;
use unicharge_csms::certificate_management::responder::{OcspResponder, RunningResponder};
use unicharge_csms::security::pki::{self, CaMaterial, KeyKind};
use unicharge_ocpp::v201::{
    AuthorizationStatusEnumType, AuthorizeCertificateStatusEnumType, AuthorizeRequest,
    AuthorizeResponse, HashAlgorithmEnumType, IdTokenEnumType, IdTokenType, OcspRequestDataType,
};
use unicharge_sim::octt::states;
use unicharge_sim::station::Station;

use crate::common::{StationSpec, TestCsms};

const CP: &str = "CP001";
const EMAID: &str = "DEUNIE1234567890";

/// A contract certificate issued by `ca`, PEM.
fn contract(ca: &CaMaterial, cn: &str) -> (openssl::x509::X509, String) {
    let (cert, _key) = pki::issue_client_certificate(ca, KeyKind::EcP256, cn, 0, 30).unwrap();
    let pem = String::from_utf8(cert.to_pem().unwrap()).unwrap();
    (cert, pem)
}

struct Pki {
    ca: Arc<CaMaterial>,
    responder: RunningResponder,
}

/// A server with CP001 booted, the eMAID Accepted in the token store, an MO root and its OCSP
/// responder; `trusted`: the CSMS trusts the root and asks the responder.
async fn start(trusted: bool) -> (TestCsms, Station, Pki) {
    let csms = TestCsms::start(&[StationSpec::new(CP, 1)]).await;
    csms.server
        .store
        .upsert_token(&IdTokenRecord {
            id_token: EMAID.into(),
            kind: "eMAID".into(),
            status: "Accepted".into(),
            expiry: None,
            group_id_token: None,
        })
        .await
        .unwrap();
    let ca = Arc::new(pki::generate_ca("unicharge test MO root", 30).unwrap());
    let responder = Arc::new(OcspResponder::new(ca.clone(), Duration::from_secs(3600)))
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    if trusted {
        csms.server
            .csms
            .csms
            .contract_trust()
            .configure(TrustConfig {
                roots: vec![ca.cert.clone()],
                intermediates: vec![],
                ocsp_responder: Some(responder.url.clone()),
                ocsp_timeout: Duration::from_secs(5),
            });
    }
    let target = csms.target(CP, 1);
    let mut station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    (csms, station, Pki { ca, responder })
}

fn emaid() -> IdTokenType {
    IdTokenType {
        custom_data: None,
        additional_info: None,
        id_token: EMAID.into(),
        r#type: IdTokenEnumType::EMaid,
    }
}

async fn authorize_with_certificate(station: &mut Station, pem: &str) -> AuthorizeResponse {
    station
        .call(&AuthorizeRequest {
            custom_data: None,
            id_token: emaid(),
            certificate: Some(pem.into()),
            iso15118_certificate_hash_data: None,
        })
        .await
        .unwrap()
}

fn serial_hex(cert: &openssl::x509::X509) -> String {
    cert.serial_number()
        .to_bn()
        .unwrap()
        .to_hex_str()
        .unwrap()
        .to_string()
}

/// C07: a good contract certificate (chain to the trusted root, Good at the responder) is
/// Accepted with the token store's answer.
#[tokio::test]
async fn c07_good_contract_certificate_is_accepted() {
    let (_csms, mut station, pki) = start(true).await;
    let (_, pem) = contract(&pki.ca, EMAID);
    let answer = authorize_with_certificate(&mut station, &pem).await;
    assert_eq!(
        answer.certificate_status,
        Some(AuthorizeCertificateStatusEnumType::Accepted)
    );
    assert_eq!(
        answer.id_token_info.status,
        AuthorizationStatusEnumType::Accepted
    );
}

/// C07.FR.16: a revoked contract certificate is CertificateRevoked and the idToken Invalid,
/// although the token store accepts the eMAID.
#[tokio::test]
async fn c07_fr_16_revoked_contract_certificate_is_refused() {
    let (_csms, mut station, pki) = start(true).await;
    let (cert, pem) = contract(&pki.ca, EMAID);
    pki.responder.responder.revoke(&serial_hex(&cert));
    let answer = authorize_with_certificate(&mut station, &pem).await;
    assert_eq!(
        answer.certificate_status,
        Some(AuthorizeCertificateStatusEnumType::CertificateRevoked)
    );
    assert_eq!(
        answer.id_token_info.status,
        AuthorizationStatusEnumType::Invalid
    );
    // Another certificate of the same root is still good.
    let (_, other) = contract(&pki.ca, EMAID);
    let answer = authorize_with_certificate(&mut station, &other).await;
    assert_eq!(
        answer.certificate_status,
        Some(AuthorizeCertificateStatusEnumType::Accepted)
    );
}

/// C07: the same with the OCSP request data instead of the certificate.
#[tokio::test]
async fn c07_hash_data_good_and_revoked() {
    let (_csms, mut station, pki) = start(true).await;
    let (good, _) = contract(&pki.ca, EMAID);
    let (revoked, _) = contract(&pki.ca, EMAID);
    pki.responder.responder.revoke(&serial_hex(&revoked));
    for (cert, want, token) in [
        (
            &good,
            AuthorizeCertificateStatusEnumType::Accepted,
            AuthorizationStatusEnumType::Accepted,
        ),
        (
            &revoked,
            AuthorizeCertificateStatusEnumType::CertificateRevoked,
            AuthorizationStatusEnumType::Invalid,
        ),
    ] {
        let hash = hash_data(cert, &pki.ca.cert, HashAlgorithmEnumType::Sha256).unwrap();
        let answer = station
            .call(&AuthorizeRequest {
                custom_data: None,
                id_token: emaid(),
                certificate: None,
                iso15118_certificate_hash_data: Some(vec![OcspRequestDataType {
                    custom_data: None,
                    hash_algorithm: hash.hash_algorithm,
                    issuer_name_hash: hash.issuer_name_hash,
                    issuer_key_hash: hash.issuer_key_hash,
                    serial_number: hash.serial_number,
                    responder_url: "http://127.0.0.1:1/not-asked".into(),
                }]),
            })
            .await
            .unwrap();
        assert_eq!(answer.certificate_status, Some(want));
        assert_eq!(answer.id_token_info.status, token);
    }
}

/// Never an unchecked contract certificate: without trust anchors, from an untrusted root,
/// or with the responder unreachable, the answer is not Accepted and the token Invalid.
#[tokio::test]
async fn c07_unchecked_contract_certificates_are_never_accepted() {
    let (csms, mut station, pki) = start(false).await;
    let (_, pem) = contract(&pki.ca, EMAID);
    let answer = authorize_with_certificate(&mut station, &pem).await;
    assert_eq!(
        answer.certificate_status,
        Some(AuthorizeCertificateStatusEnumType::CertChainError)
    );
    assert_eq!(
        answer.id_token_info.status,
        AuthorizationStatusEnumType::Invalid
    );

    // Trusted root, but a certificate from another one.
    let trust = csms.server.csms.csms.contract_trust();
    trust.configure(TrustConfig {
        roots: vec![pki.ca.cert.clone()],
        intermediates: vec![],
        ocsp_responder: Some(pki.responder.url.clone()),
        ocsp_timeout: Duration::from_secs(5),
    });
    let stranger = pki::generate_ca("stranger root", 30).unwrap();
    let (_, foreign) = contract(&stranger, EMAID);
    let answer = authorize_with_certificate(&mut station, &foreign).await;
    assert_eq!(
        answer.certificate_status,
        Some(AuthorizeCertificateStatusEnumType::CertChainError)
    );
    assert_eq!(
        answer.id_token_info.status,
        AuthorizationStatusEnumType::Invalid
    );

    // The responder unreachable: no answer is not a good answer.
    trust.configure(TrustConfig {
        roots: vec![pki.ca.cert.clone()],
        intermediates: vec![],
        ocsp_responder: Some("http://127.0.0.1:1/ocsp".into()),
        ocsp_timeout: Duration::from_secs(2),
    });
    let answer = authorize_with_certificate(&mut station, &pem).await;
    assert_eq!(
        answer.certificate_status,
        Some(AuthorizeCertificateStatusEnumType::CertChainError)
    );
    assert_eq!(
        answer.id_token_info.status,
        AuthorizationStatusEnumType::Invalid
    );

    // A responder that is not the issuer (another CA's, signing its own answers): refused.
    let impostor = Arc::new(OcspResponder::new(
        Arc::new(stranger),
        Duration::from_secs(3600),
    ))
    .serve("127.0.0.1:0".parse().unwrap())
    .await
    .unwrap();
    trust.configure(TrustConfig {
        roots: vec![pki.ca.cert.clone()],
        intermediates: vec![],
        ocsp_responder: Some(impostor.url.clone()),
        ocsp_timeout: Duration::from_secs(5),
    });
    let answer = authorize_with_certificate(&mut station, &pem).await;
    assert_ne!(
        answer.certificate_status,
        Some(AuthorizeCertificateStatusEnumType::Accepted)
    );
    assert_eq!(
        answer.id_token_info.status,
        AuthorizationStatusEnumType::Invalid
    );
}
