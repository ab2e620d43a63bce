//! OCSP: what an OCSP responder answers (C07, M06) and what a client asks the built-in
//! responder.
//!
//! Checked beyond "never panics":
//! - an answer that is not signed by the issuer is never read as a status: with a fresh CA as
//!   issuer, arbitrary bytes always give an error;
//! - the built-in responder answers every request with a DER OCSP response that decodes
//!   (successful for a well-formed request, malformedRequest otherwise).
#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use unicharge_csms::certificate_management::hash::hash_data;
use unicharge_csms::certificate_management::ocsp::{cert_id, read_response};
use unicharge_csms::certificate_management::responder::OcspResponder;
use unicharge_csms::security::pki::{generate_ca, CaMaterial};
use unicharge_ocpp::v201::HashAlgorithmEnumType;

fn ca() -> &'static Arc<CaMaterial> {
    static CA: OnceLock<Arc<CaMaterial>> = OnceLock::new();
    CA.get_or_init(|| Arc::new(generate_ca("fuzz root", 30).expect("a CA")))
}

fuzz_target!(|data: &[u8]| {
    let ca = ca();
    let hash = hash_data(&ca.cert, &ca.cert, HashAlgorithmEnumType::Sha256).expect("hash data");
    let id = cert_id(&hash).expect("a CertID");
    assert!(
        read_response(data, &id, &ca.cert, chrono::Utc::now()).is_err(),
        "unsigned bytes were read as a status"
    );
    let responder = OcspResponder::new(ca.clone(), Duration::from_secs(60));
    let answer = responder.answer(data);
    assert!(!answer.is_empty());
    assert!(rasn::der::decode::<rasn_ocsp::OcspResponse>(&answer).is_ok());
});
