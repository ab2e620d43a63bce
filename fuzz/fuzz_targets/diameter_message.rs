//! Diameter: framing and decoding of whatever a peer sends on the TCP stream.
//!
//! Checked beyond "never panics":
//! - `frame_length` never announces a frame shorter than the header or over the limit;
//! - a decoded message re-encodes to exactly the frame's length, and that encoding decodes
//!   back to the same message (decode ∘ encode ∘ decode = decode);
//! - a decode error always carries an RFC 6733 §7 Result-Code, and the error answer built from
//!   it encodes and decodes as an answer with the same hop-by-hop id.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unicharge_diameter::{frame_length, Message};

const MAX: u32 = 1 << 16;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(len)) = frame_length(data, MAX) {
        assert!((20..=MAX as usize).contains(&len));
    }
    match Message::decode(data) {
        Ok(m) => {
            let again = m.encode();
            assert_eq!(again.len(), data.len(), "re-encoding changes the length");
            let m2 = Message::decode(&again).expect("our own encoding must decode");
            assert_eq!(m2, m);
            let _ = m.check_request();
        }
        Err(e) => {
            let code = e.error.result_code;
            assert!((3000..6000).contains(&code), "odd Result-Code {code}");
            let answer = Message::error_answer(
                &e.header,
                e.session_id.as_deref(),
                &e.error,
                "cdf.example.net",
                "example.net",
            );
            let decoded = Message::decode(&answer.encode()).expect("error answer must decode");
            assert!(!decoded.is_request());
            assert_eq!(decoded.header.hop_by_hop, e.header.hop_by_hop);
        }
    }
});
