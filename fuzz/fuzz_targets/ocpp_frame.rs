//! OCPP-J framing: `Frame::parse` on whatever a station sends in a WebSocket text message.
//!
//! Checked beyond "never panics":
//! - `parse(text)` and `from_value(serde_json::from_str(text))` agree;
//! - a parsed frame re-encoded with `to_text` parses again to the same frame;
//! - a CALLERROR the parser asks to send is itself a well-formed frame that parses back to
//!   itself, with an id of at most 36 and a description of at most 255 characters;
//! - `salvage_id` (the id read off text that is not JSON) only yields 1..=36 character ids;
//! - a CALL always has a 1..=36 character message id and an object payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unicharge_ocpp::frame::{salvage_id, MAX_ERROR_DESCRIPTION_LEN, MAX_MESSAGE_ID_LEN};
use unicharge_ocpp::{Frame, FrameError};

fuzz_target!(|data: &[u8]| {
    // WebSocket text messages are UTF-8; other bytes still exercise the parser after a lossy read.
    let text = String::from_utf8_lossy(data);
    let parsed = Frame::parse(&text);

    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
        assert_eq!(
            Frame::from_value(value),
            parsed,
            "parse and from_value disagree"
        );
    }

    if let Some((_, id)) = salvage_id(&text) {
        assert!((1..=MAX_MESSAGE_ID_LEN).contains(&id.chars().count()));
    }

    match &parsed {
        Ok(frame) => {
            if let Frame::Call { id, payload, .. } = frame {
                let len = id.chars().count();
                assert!(
                    (1..=MAX_MESSAGE_ID_LEN).contains(&len),
                    "CALL id length {len}"
                );
                assert!(payload.is_object(), "CALL payload not an object");
            }
            let again = Frame::parse(&frame.to_text());
            assert_eq!(again.as_ref(), Ok(frame), "to_text does not round-trip");
        }
        Err(error) => {
            let answer = error.to_call_error();
            assert_eq!(answer.is_some(), matches!(error, FrameError::Reply { .. }));
            if let Some(answer) = answer {
                if let Frame::CallError { description, .. } = &answer {
                    assert!(description.chars().count() <= MAX_ERROR_DESCRIPTION_LEN);
                } else {
                    panic!("to_call_error gave {answer:?}");
                }
                assert_eq!(answer.id(), error_id(error));
                // Part 4: never answer with an id longer than 36 characters, whatever was sent.
                assert!(answer.id().chars().count() <= MAX_MESSAGE_ID_LEN);
                let again = Frame::parse(&answer.to_text());
                assert_eq!(
                    again.as_ref(),
                    Ok(&answer),
                    "our CALLERROR does not round-trip"
                );
            }
        }
    }
});

fn error_id(error: &FrameError) -> &str {
    match error {
        FrameError::Reply { id, .. } => id,
        FrameError::Drop { id, .. } => id.as_deref().unwrap_or(""),
    }
}
