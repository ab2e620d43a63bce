//! ISO 15118 PKI input from peers: what a contract-certificate service answers
//! (Get15118EVCertificate, M01/M02) and the CSR a station sends for its SECC certificate
//! (SignCertificate V2GCertificate).
//!
//! Checked beyond "never panics":
//! - an answer the CSMS passes on to the station is within OCPP's limits: status Accepted or
//!   Failed, exiResponse base64 of at most 7500 characters, non-empty when Accepted;
//! - a CSR is only ever signed for one of the allowed commonNames, and the certificate holds
//!   the CSR's own key.
#![no_main]

use std::sync::OnceLock;

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use unicharge_csms::certificate_management::ev_certificate::read_answer;
use unicharge_csms::certificate_management::v2g_ca::{generate_test_pki, V2gSubCa};
use unicharge_ocpp::v201::Iso15118EvCertificateStatusEnumType;

fn sub_ca() -> &'static V2gSubCa {
    static CA: OnceLock<V2gSubCa> = OnceLock::new();
    CA.get_or_init(|| {
        let pki = generate_test_pki("fuzz CPO", 30).expect("a test PKI");
        V2gSubCa::from_parts(pki.sub_cas, pki.sub_ca_key, 30)
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(answer) = read_answer(data) {
        assert!(answer.exi_response.len() <= 7500);
        assert!(base64::engine::general_purpose::STANDARD
            .decode(&answer.exi_response)
            .is_ok());
        if answer.status == Iso15118EvCertificateStatusEnumType::Accepted {
            assert!(!answer.exi_response.is_empty());
        }
    }
    let text = String::from_utf8_lossy(data);
    let allowed = ["CP001".to_string()];
    if let Ok(leaf) = sub_ca().sign(&text, &allowed) {
        let cn = leaf
            .subject_name()
            .entries_by_nid(openssl::nid::Nid::COMMONNAME)
            .next()
            .and_then(|e| e.data().to_string().ok());
        assert!(cn.is_some_and(|cn| cn.eq_ignore_ascii_case("CP001")));
        let req = openssl::x509::X509Req::from_pem(text.as_bytes()).expect("it parsed before");
        assert!(leaf
            .public_key()
            .unwrap()
            .public_eq(&req.public_key().unwrap()));
    }
});
