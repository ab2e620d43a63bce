//! ISO 15118 PKI beyond the OCTT cases: A02/A03 SignCertificate for a V2GCertificate, signed by
//! the configured V2G sub-CA (a test PKI made as `unicharge pki v2g-test-ca` makes it), and
//! M01/M02 Get15118EVCertificate forwarded to a contract-certificate service (an axum server in
//! the test plays it). The station is the simulator over a real WebSocket.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509NameBuilder, X509Req, X509ReqBuilder, X509StoreContext, X509};
use serde_json::{json, Value};
use unicharge_csms::certificate_management::v2g_ca;
use unicharge_ocpp::v201::{
    CertificateActionEnumType, CertificateSignedRequest, CertificateSignedResponse,
    CertificateSignedStatusEnumType, CertificateSigningUseEnumType, GenericStatusEnumType,
    Get15118EvCertificateRequest, Iso15118EvCertificateStatusEnumType, SignCertificateRequest,
};
use unicharge_server::Settings;
use unicharge_sim::octt::states;
use unicharge_sim::station::Station;

use crate::common::{StationSpec, TestCsms};

const CP: &str = "CP001";

/// A P-256 key and a PEM CSR for it with this CN and O.
fn v2g_csr(cn: &str, org: &str) -> (PKey<Private>, String) {
    v2g_csr_with(cn, Some(org))
}

fn v2g_csr_with(cn: &str, org: Option<&str>) -> (PKey<Private>, String) {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
    if let Some(org) = org {
        name.append_entry_by_nid(Nid::ORGANIZATIONNAME, org)
            .unwrap();
    }
    name.append_entry_by_nid(Nid::COUNTRYNAME, "DE").unwrap();
    name.append_entry_by_nid(Nid::DOMAINCOMPONENT, "CPO")
        .unwrap();
    let mut req = X509ReqBuilder::new().unwrap();
    req.set_subject_name(&name.build()).unwrap();
    req.set_pubkey(&key).unwrap();
    req.sign(&key, MessageDigest::sha256()).unwrap();
    let pem = String::from_utf8(req.build().to_pem().unwrap()).unwrap();
    (key, pem)
}

/// The same CSR with one bit of its signature flipped (the last byte of the DER is in it).
fn with_bad_signature(pem: &str) -> String {
    let mut der = X509Req::from_pem(pem.as_bytes()).unwrap().to_der().unwrap();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let req = X509Req::from_der(&der).expect("still a CSR, only the signature changed");
    String::from_utf8(req.to_pem().unwrap()).unwrap()
}

struct V2gPki {
    root: X509,
}

/// A server whose V2G sub-CA is a test PKI written to files (key 0600), CP001 booted.
async fn start_with_sub_ca(adjust: impl FnOnce(&mut Settings)) -> (TestCsms, Station, V2gPki) {
    let pki_dir = tempfile::tempdir().unwrap();
    let pki = v2g_ca::generate_test_pki("unicharge test CPO", 30).unwrap();
    let files = v2g_ca::write_test_pki(pki_dir.path(), &pki).unwrap();
    let csms = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        s.plug_and_charge.v2g_sub_ca_chain = Some(files.sub_ca_chain.clone());
        s.plug_and_charge.v2g_sub_ca_key = Some(files.sub_ca_key.clone());
        adjust(s);
    })
    .await;
    let target = csms.target(CP, 1);
    let mut station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    drop(pki_dir); // loaded at start
    (csms, station, V2gPki { root: pki.root })
}

async fn sign(station: &mut Station, csr: String) -> unicharge_ocpp::v201::SignCertificateResponse {
    station
        .call(&SignCertificateRequest {
            custom_data: None,
            csr,
            certificate_type: Some(CertificateSigningUseEnumType::V2GCertificate),
        })
        .await
        .unwrap()
}

/// The chain verifies against `root` (OpenSSL path validation, leaf first, then the sub-CAs).
fn verify_chain(chain: &[X509], root: &X509) -> Result<(), String> {
    let mut store = X509StoreBuilder::new().unwrap();
    store.add_cert(root.clone()).unwrap();
    let store = store.build();
    let mut untrusted = Stack::new().unwrap();
    for c in &chain[1..] {
        untrusted.push(c.clone()).unwrap();
    }
    let mut ctx = X509StoreContext::new().unwrap();
    ctx.init(&store, &chain[0], &untrusted, |c| {
        let ok = c.verify_cert()?;
        Ok(if ok {
            Ok(())
        } else {
            Err(c.error().to_string())
        })
    })
    .unwrap()
}

/// A03 with certificateType V2GCertificate: the CSR is Accepted, CertificateSigned brings the
/// SECC leaf and the sub-CA chain, which verifies against the V2G root; the leaf holds the
/// CSR's key and subject, is no CA, has keyUsage digitalSignature + keyAgreement and EKU
/// serverAuth; a foreign root does not verify it; the CSMS keeps it as a V2GCertificate with
/// the station's verdict.
#[tokio::test]
async fn a03_v2g_certificate_signed_by_the_v2g_sub_ca() {
    let (csms, mut station, pki) = start_with_sub_ca(|_| {}).await;
    let (key, csr) = v2g_csr(CP, "unicharge test CPO");
    let answer = sign(&mut station, csr).await;
    assert_eq!(answer.status, GenericStatusEnumType::Accepted, "{answer:?}");

    let (id, signed) = station
        .expect_call::<CertificateSignedRequest>()
        .await
        .unwrap();
    station
        .respond::<CertificateSignedRequest>(
            &id,
            &CertificateSignedResponse {
                custom_data: None,
                status: CertificateSignedStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        signed.certificate_type,
        Some(CertificateSigningUseEnumType::V2GCertificate)
    );
    let chain = X509::stack_from_pem(signed.certificate_chain.as_bytes()).unwrap();
    assert_eq!(chain.len(), 3, "leaf, sub-CA 2, sub-CA 1 (no root)");
    verify_chain(&chain, &pki.root).expect("the chain verifies against the V2G root");
    let foreign = v2g_ca::generate_test_pki("someone else", 30).unwrap().root;
    assert!(
        verify_chain(&chain, &foreign).is_err(),
        "a foreign root must not verify it"
    );

    let leaf = &chain[0];
    assert!(
        leaf.public_key().unwrap().public_eq(&key),
        "the leaf holds the CSR's key"
    );
    let cn = leaf
        .subject_name()
        .entries_by_nid(Nid::COMMONNAME)
        .next()
        .unwrap();
    assert_eq!(cn.data().to_string().unwrap(), CP);
    let usage = leaf.key_usage().expect("keyUsage present");
    use openssl::x509::{X509ExtendedKeyUsage, X509KeyUsage};
    assert_eq!(
        usage,
        X509KeyUsage::DIGITAL_SIGNATURE | X509KeyUsage::KEY_AGREEMENT
    );
    assert_eq!(
        leaf.extended_key_usage(),
        Some(X509ExtendedKeyUsage::SSL_SERVER)
    );
    assert!(leaf.pathlen().is_none(), "the SECC certificate is no CA");
    let days = leaf.not_before().diff(leaf.not_after()).unwrap().days;
    assert_eq!(
        days,
        v2g_ca::DEFAULT_SECC_DAYS as i32,
        "validity from the settings"
    );

    // Recorded once the station's answer is in.
    let deadline = Instant::now() + Duration::from_secs(5);
    let stored = loop {
        let issued = csms
            .server
            .store
            .issued_certificates(&CP.parse().unwrap())
            .await
            .unwrap();
        if issued.iter().any(|c| c.station_status.is_some()) || Instant::now() > deadline {
            break issued;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].certificate_type, "V2GCertificate");
    assert_eq!(stored[0].station_status.as_deref(), Some("Accepted"));
    assert_eq!(stored[0].certificate, signed.certificate_chain);
    assert!(
        stored[0].subject.contains(&format!("CN={CP}")),
        "{}",
        stored[0].subject
    );
}

/// A CSR whose signature does not verify, one for another station's SECC id, one with an RSA
/// key: each Rejected with its reason, and no CertificateSigned follows.
#[tokio::test]
async fn a03_v2g_csr_refused_bad_signature_foreign_cn_rsa_key() {
    let (_csms, mut station, _pki) = start_with_sub_ca(|_| {}).await;
    let (_, csr) = v2g_csr(CP, "unicharge test CPO");
    let answer = sign(&mut station, with_bad_signature(&csr)).await;
    assert_eq!(answer.status, GenericStatusEnumType::Rejected);
    assert_eq!(answer.status_info.unwrap().reason_code, "InvalidSignature");

    let (_, csr) = v2g_csr("CP999", "unicharge test CPO");
    let answer = sign(&mut station, csr).await;
    assert_eq!(answer.status, GenericStatusEnumType::Rejected);
    assert_eq!(answer.status_info.unwrap().reason_code, "InvalidCommonName");

    let rsa = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_nid(Nid::COMMONNAME, CP).unwrap();
    name.append_entry_by_nid(Nid::ORGANIZATIONNAME, "x")
        .unwrap();
    let mut req = X509ReqBuilder::new().unwrap();
    req.set_subject_name(&name.build()).unwrap();
    req.set_pubkey(&rsa).unwrap();
    req.sign(&rsa, MessageDigest::sha256()).unwrap();
    let csr = String::from_utf8(req.build().to_pem().unwrap()).unwrap();
    let answer = sign(&mut station, csr).await;
    assert_eq!(answer.status, GenericStatusEnumType::Rejected);
    assert_eq!(answer.status_info.unwrap().reason_code, "InvalidKey");

    // Nothing was signed: the next thing the station gets is the answer to its next call.
    let (_, csr) = v2g_csr_with(CP, None);
    let answer = sign(&mut station, csr).await;
    assert_eq!(answer.status_info.unwrap().reason_code, "InvalidSubject");
}

/// Without a V2G sub-CA configured, the V2G CSR is Rejected (as before), naming why.
#[tokio::test]
async fn a03_v2g_certificate_without_sub_ca_rejected() {
    let csms = TestCsms::start(&[StationSpec::new(CP, 1)]).await;
    let target = csms.target(CP, 1);
    let mut station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    let (_, csr) = v2g_csr(CP, "unicharge test CPO");
    let answer = sign(&mut station, csr).await;
    assert_eq!(answer.status, GenericStatusEnumType::Rejected);
    assert_eq!(answer.status_info.unwrap().reason_code, "NoV2GSubCA");
}

/// A sub-CA key others can read is refused at start, with the fix in the error.
#[tokio::test]
async fn v2g_sub_ca_key_must_be_0600() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let pki = v2g_ca::generate_test_pki("unicharge test CPO", 30).unwrap();
    let files = v2g_ca::write_test_pki(dir.path(), &pki).unwrap();
    std::fs::set_permissions(&files.sub_ca_key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut settings = crate::common::test_settings(dir.path());
    settings.plug_and_charge.v2g_sub_ca_chain = Some(files.sub_ca_chain.clone());
    settings.plug_and_charge.v2g_sub_ca_key = Some(files.sub_ca_key.clone());
    let error = match unicharge_server::start(settings).await {
        Ok(_) => panic!("a world-readable sub-CA key was accepted"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        error.contains(&format!("chmod 600 {}", files.sub_ca_key.display())),
        "{error}"
    );
}

/// What the test contract-certificate service saw, and what it answers.
#[derive(Clone, Default)]
struct Service {
    seen: Arc<Mutex<Vec<Value>>>,
}

async fn serve_contract_service(service: Service, answer: Value) -> String {
    let app = Router::new().route(
        "/v1/contract-certificate",
        post(move |Json(body): Json<Value>| {
            let service = service.clone();
            let answer = answer.clone();
            async move {
                service.seen.lock().unwrap().push(body);
                Json(answer)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/v1/contract-certificate")
}

async fn booted(csms: &TestCsms) -> Station {
    let target = csms.target(CP, 1);
    let mut station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    station
}

fn ev_request(exi: &[u8]) -> Get15118EvCertificateRequest {
    Get15118EvCertificateRequest {
        custom_data: None,
        iso15118_schema_version: "urn:iso:15118:2:2013:MsgDef".into(),
        action: CertificateActionEnumType::Install,
        exi_request: base64::engine::general_purpose::STANDARD.encode(exi),
    }
}

/// M01: Get15118EVCertificate goes to the configured service with the station's exiRequest
/// byte for byte, and the station receives the service's status and exiResponse.
#[tokio::test]
async fn m01_get_15118_ev_certificate_forwarded_to_the_contract_service() {
    let service = Service::default();
    let exi_response: Vec<u8> = (0..=255u8).rev().cycle().take(1500).collect();
    let exi_response = base64::engine::general_purpose::STANDARD.encode(&exi_response);
    let url = serve_contract_service(
        service.clone(),
        json!({"status": "Accepted", "exiResponse": exi_response}),
    )
    .await;
    let csms = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        s.plug_and_charge.contract_service_url = Some(url);
    })
    .await;
    let mut station = booted(&csms).await;
    let exi_request: Vec<u8> = (0..700u32).map(|i| (i * 7 % 251) as u8).collect();
    let answer = station.call(&ev_request(&exi_request)).await.unwrap();
    assert_eq!(answer.status, Iso15118EvCertificateStatusEnumType::Accepted);
    assert_eq!(answer.exi_response, exi_response);

    let seen = service.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0]["iso15118SchemaVersion"],
        "urn:iso:15118:2:2013:MsgDef"
    );
    assert_eq!(seen[0]["action"], "Install");
    assert_eq!(seen[0]["stationId"], CP);
    let forwarded = base64::engine::general_purpose::STANDARD
        .decode(seen[0]["exiRequest"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        forwarded, exi_request,
        "the exiRequest bytes are forwarded unchanged"
    );
}

/// M01: the service answers Failed (its exiResponse still passed on); the service answers
/// garbage → Failed with ServiceBadAnswer.
#[tokio::test]
async fn m01_contract_service_failed_and_bad_answers() {
    let failed = serve_contract_service(
        Service::default(),
        json!({"status": "Failed", "exiResponse": "AAEC"}),
    )
    .await;
    let csms = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        s.plug_and_charge.contract_service_url = Some(failed);
    })
    .await;
    let mut station = booted(&csms).await;
    let answer = station.call(&ev_request(b"exi")).await.unwrap();
    assert_eq!(answer.status, Iso15118EvCertificateStatusEnumType::Failed);
    assert_eq!(answer.exi_response, "AAEC");

    let garbage = serve_contract_service(
        Service::default(),
        json!({"status": "Maybe", "exiResponse": "AAEC"}),
    )
    .await;
    let csms = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        s.plug_and_charge.contract_service_url = Some(garbage);
    })
    .await;
    let mut station = booted(&csms).await;
    let answer = station.call(&ev_request(b"exi")).await.unwrap();
    assert_eq!(answer.status, Iso15118EvCertificateStatusEnumType::Failed);
    assert_eq!(answer.status_info.unwrap().reason_code, "ServiceBadAnswer");
}

/// M01: a service that accepts the connection but never answers → Failed within the configured
/// timeout; a service that is down (connection refused) → Failed at once; none configured →
/// Failed naming it (the message is supported, so never NotSupported).
#[tokio::test]
async fn m01_contract_service_down_or_silent_answers_failed_within_timeout() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}/x", silent.local_addr().unwrap());
    let _hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let timeout = Duration::from_millis(300);
    let csms = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        s.plug_and_charge.contract_service_url = Some(silent_url);
        s.plug_and_charge.contract_service_timeout = timeout;
    })
    .await;
    let mut station = booted(&csms).await;
    let started = Instant::now();
    let answer = station.call(&ev_request(b"exi")).await.unwrap();
    let took = started.elapsed();
    assert_eq!(answer.status, Iso15118EvCertificateStatusEnumType::Failed);
    assert_eq!(answer.status_info.unwrap().reason_code, "ServiceTimeout");
    assert!(
        took >= timeout && took < timeout * 5,
        "answered after {took:?}"
    );

    // Down: a port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down_url = format!("http://{}/x", closed.local_addr().unwrap());
    drop(closed);
    let csms = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        s.plug_and_charge.contract_service_url = Some(down_url);
        s.plug_and_charge.contract_service_timeout = Duration::from_secs(5);
    })
    .await;
    let mut station = booted(&csms).await;
    let started = Instant::now();
    let answer = station.call(&ev_request(b"exi")).await.unwrap();
    assert_eq!(answer.status, Iso15118EvCertificateStatusEnumType::Failed);
    assert_eq!(
        answer.status_info.unwrap().reason_code,
        "ServiceUnavailable"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    let csms = TestCsms::start(&[StationSpec::new(CP, 1)]).await;
    let mut station = booted(&csms).await;
    let answer = station.call(&ev_request(b"exi")).await.unwrap();
    assert_eq!(answer.status, Iso15118EvCertificateStatusEnumType::Failed);
    assert_eq!(answer.status_info.unwrap().reason_code, "NoContractService");
}

/// C07 with a delegated OCSP responder (RFC 6960 §4.2.2.2): answers signed by a responder
/// certificate that the contract's issuer issued with id-kp-OCSPSigning are accepted (Good →
/// Accepted, Revoked → CertificateRevoked); the same answers from a responder certificate
/// without that EKU, or issued by another CA, are refused (CertChainError, idToken Invalid).
#[tokio::test]
async fn c07_delegated_ocsp_responder_accepted_only_when_designated_by_the_issuer() {
    use unicharge_core::tokens::IdTokenRecord;
    use unicharge_csms::certificate_management::contract::TrustConfig;
    use unicharge_csms::certificate_management::responder::{issue_delegate, OcspResponder};
    use unicharge_csms::security::pki::{self, KeyKind};
    use unicharge_ocpp::v201::{
        AuthorizationStatusEnumType, AuthorizeCertificateStatusEnumType, AuthorizeRequest,
        IdTokenEnumType, IdTokenType,
    };
    const EMAID: &str = "DEUNIE7654321098";

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
    let mut station = booted(&csms).await;
    let mo = Arc::new(pki::generate_ca("unicharge test MO root", 30).unwrap());
    let other = pki::generate_ca("someone else's CA", 30).unwrap();
    let delegates = [
        (
            "designated",
            issue_delegate(&mo, "MO OCSP responder", true, 30).unwrap(),
            true,
        ),
        (
            "no OCSPSigning EKU",
            issue_delegate(&mo, "MO TLS client", false, 30).unwrap(),
            false,
        ),
        (
            "issued by another CA",
            issue_delegate(&other, "foreign responder", true, 30).unwrap(),
            false,
        ),
    ];
    for (what, delegate, accepted) in delegates {
        let responder = Arc::new(
            OcspResponder::new(mo.clone(), Duration::from_secs(3600)).with_delegate(delegate),
        )
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
        csms.server
            .csms
            .csms
            .contract_trust()
            .configure(TrustConfig {
                roots: vec![mo.cert.clone()],
                intermediates: vec![],
                ocsp_responder: Some(responder.url.clone()),
                ocsp_timeout: Duration::from_secs(5),
            });
        for revoked in [false, true] {
            let (cert, _) =
                pki::issue_client_certificate(&mo, KeyKind::EcP256, EMAID, 0, 30).unwrap();
            if revoked {
                let serial = cert
                    .serial_number()
                    .to_bn()
                    .unwrap()
                    .to_hex_str()
                    .unwrap()
                    .to_string();
                responder.responder.revoke(&serial);
            }
            let answer = station
                .call(&AuthorizeRequest {
                    custom_data: None,
                    id_token: IdTokenType {
                        custom_data: None,
                        additional_info: None,
                        id_token: EMAID.into(),
                        r#type: IdTokenEnumType::EMaid,
                    },
                    certificate: Some(String::from_utf8(cert.to_pem().unwrap()).unwrap()),
                    iso15118_certificate_hash_data: None,
                })
                .await
                .unwrap();
            let expected = match (accepted, revoked) {
                (true, false) => AuthorizeCertificateStatusEnumType::Accepted,
                (true, true) => AuthorizeCertificateStatusEnumType::CertificateRevoked,
                (false, _) => AuthorizeCertificateStatusEnumType::CertChainError,
            };
            assert_eq!(
                answer.certificate_status,
                Some(expected),
                "{what}, revoked {revoked}"
            );
            assert_eq!(
                answer.id_token_info.status == AuthorizationStatusEnumType::Accepted,
                expected == AuthorizeCertificateStatusEnumType::Accepted,
                "{what}, revoked {revoked}"
            );
        }
    }
}
