//! The 1.6 translation of CSMS-initiated calls (`unicharge_csms::v16::outgoing`, issue 18): what
//! an operator (or the generic command endpoint) sends to a 1.6 charge point, and what the charge
//! point answers.
//!
//! Input: a first line naming a 2.0.1 action (or picking one of the CSMS-initiated actions by a
//! hash of its bytes), then two JSON texts separated by a line `---`: the 2.0.1 request and the
//! station's 1.6 answer.
//!
//! Checked beyond "never panics": when the request is schema-valid 2.0.1 and translated, the
//! 1.6 request is schema-valid 1.6 (the CSMS never sends an invalid 1.6 message it built from a
//! valid 2.0.1 one); when the answer is then schema-valid 1.6, its translation back is a
//! schema-valid 2.0.1 response of the original action.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use unicharge_csms::v16::outgoing;
use unicharge_ocpp::v201::{Action, Initiator};
use unicharge_ocpp::{v16, Direction, Validator};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (head, rest) = text.split_once('\n').unwrap_or((text, ""));
    let (request, answer) = rest.split_once("\n---\n").unwrap_or((rest, "{}"));
    let csms_actions: Vec<Action> = Action::ALL
        .into_iter()
        .filter(|a| a.initiator() != Initiator::ChargingStation)
        .collect();
    let action = Action::from_str(head.trim()).unwrap_or_else(|_| {
        let h = head.bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
        csms_actions[h % csms_actions.len()]
    });
    let Ok(request) = serde_json::from_str::<Value>(request) else {
        return;
    };
    let valid201 = Validator::global()
        .validate(action.as_str(), Direction::Request, &request)
        .is_ok();
    let Ok(translated) = outgoing::request(action, &request) else {
        return;
    };
    if valid201 {
        if let Err(v) = v16::Validator::global().validate(
            translated.action.as_str(),
            Direction::Request,
            &translated.payload,
        ) {
            panic!("valid 2.0.1 {} became an invalid 1.6 {}: {v}", action.as_str(), translated.action.as_str());
        }
    }
    let Ok(answer) = serde_json::from_str::<Value>(answer) else {
        return;
    };
    let valid16 = v16::Validator::global()
        .validate(translated.action.as_str(), Direction::Response, &answer)
        .is_ok();
    let back = translated.answer(answer);
    // Production only translates schema-valid 2.0.1 requests (the operation validates first), so
    // the answer is held to the 2.0.1 schema only for those: an over-long component name in an
    // invalid request is echoed back over-long, which no real call can do.
    if valid16 && valid201 {
        let back = back.unwrap_or_else(|e| panic!("valid 1.6 answer not translated: {e}"));
        if let Err(v) = Validator::global().validate(action.as_str(), Direction::Response, &back) {
            panic!("valid 1.6 answer became an invalid 2.0.1 {} response: {v}", action.as_str());
        }
    }
});
