//! ISO 17575-1 ADUs: `Adu::from_frame` on whatever a front end sends in one frame (ADU-kind
//! octet + UPER bytes, as both EFC transports carry it).
//!
//! Checked beyond "never panics":
//! - every failure is a `Decode` error (never an encode or authentication error);
//! - a frame that decodes re-encodes (canonical UPER) and decodes again to the same value,
//!   and the canonical bytes are a fixed point (encode ∘ decode ∘ encode = encode);
//! - the body alone decodes as a `ChargeReport` or `ChargeReportResponse` without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unicharge_efc::adu::Adu;
use unicharge_efc::{AduError, ChargeReport, ChargeReportResponse};

fuzz_target!(|data: &[u8]| {
    let _ = unicharge_efc::decode::<ChargeReport>(data);
    let _ = unicharge_efc::decode::<ChargeReportResponse>(data);
    match Adu::from_frame(data) {
        Err(e) => assert!(matches!(e, AduError::Decode { .. }), "{e}"),
        Ok(adu) => {
            let frame = adu.to_frame().expect("a decoded ADU re-encodes");
            let again = Adu::from_frame(&frame).expect("canonical re-encoding decodes");
            assert_eq!(again, adu, "decode(encode(x)) != x");
            assert_eq!(again.to_frame().unwrap(), frame, "canonical encoding is not a fixed point");
        }
    }
});
