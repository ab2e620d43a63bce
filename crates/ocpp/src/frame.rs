//! OCPP-J RPC framing (OCPP 2.0.1 Part 4, section 4).
//!
//! Three message types travel as JSON arrays over the WebSocket:
//!
//! | type | shape |
//! |---|---|
//! | CALL (2) | `[2, "<messageId>", "<Action>", {payload}]` |
//! | CALLRESULT (3) | `[3, "<messageId>", {payload}]` |
//! | CALLERROR (4) | `[4, "<messageId>", "<errorCode>", "<errorDescription>", {errorDetails}]` |
//!
//! [`Frame::parse`] never panics. What it cannot accept it classifies in a [`FrameError`] that tells
//! the connection what the protocol wants done: answer a CALLERROR (only ever in reply to a CALL
//! whose message id could be read), or log and drop (an unreadable id, or a broken CALLRESULT /
//! CALLERROR, which must never be answered).
//!
//! Two refinements, both so that a broken CALL is answered rather than ignored, without letting
//! the peer decide how much we write:
//!
//! - **Message ids longer than 36 characters** (Part 4: a messageId is at most 36 characters)
//!   are answered with CALLERROR `FormatViolation`, the id cut to its first 36 characters. The id
//!   *could* be read, so `RpcFrameworkError` ("MessageId could not be read") does not apply; the
//!   frame breaks a length constraint of the format. Echoing it whole would make our own
//!   CALLERROR break Part 4 too, and hand the peer control over the size of our answers and logs;
//!   the 36-character prefix still lets the station correlate.
//! - **Text that is not JSON but starts like a CALL** (`[2,"id","Action",` followed by a truncated
//!   payload, or a number such as `1e400` that does not fit an f64) is answered with CALLERROR
//!   `FormatViolation` carrying the id read from that prefix ([`salvage_id`]), instead of silence
//!   that leaves the station waiting for its timeout.
//!
//! Every reason text is bounded ([`crate::peer_text`]): it is logged, and it may quote the peer.

use serde_json::{Map, Value};

use crate::peer_text::bounded;
use crate::{ErrorCode, OcppVersion};

/// The unique id of a CALL, echoed by its CALLRESULT or CALLERROR. At most 36 characters.
pub type MessageId = String;

/// Longest message id Part 4 allows (a UUID in text form).
pub const MAX_MESSAGE_ID_LEN: usize = 36;

/// Longest `errorDescription` Part 4 allows.
pub const MAX_ERROR_DESCRIPTION_LEN: usize = 255;

/// One OCPP-J message.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A request: `[2, id, action, payload]`.
    Call {
        id: MessageId,
        action: String,
        payload: Value,
    },
    /// The answer to a CALL: `[3, id, payload]`.
    CallResult { id: MessageId, payload: Value },
    /// The refusal of a CALL: `[4, id, code, description, details]`.
    CallError {
        id: MessageId,
        code: ErrorCode,
        description: String,
        details: Value,
    },
}

/// What to do with a frame that could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The frame is a CALL (or of an unknown type) whose message id could be read: answer it with
    /// a CALLERROR carrying `code`.
    #[error("{code}: {reason}")]
    Reply {
        id: MessageId,
        code: ErrorCode,
        reason: String,
    },
    /// Nothing may be answered (no readable message id, or a broken CALLRESULT / CALLERROR):
    /// log it and carry on. The connection stays open.
    #[error("dropped: {reason}")]
    Drop {
        id: Option<MessageId>,
        reason: String,
    },
}

impl FrameError {
    fn reply(id: &str, code: ErrorCode, reason: impl Into<String>) -> Self {
        FrameError::Reply {
            id: id.to_string(),
            code,
            reason: reason.into(),
        }
    }

    /// The id kept in a dropped frame's error is only ever logged: keep it bounded.
    fn drop(id: Option<&str>, reason: impl Into<String>) -> Self {
        FrameError::Drop {
            id: id.map(bounded),
            reason: reason.into(),
        }
    }

    /// The CALLERROR frame this error asks to send, if any.
    pub fn to_call_error(&self) -> Option<Frame> {
        match self {
            FrameError::Reply { id, code, reason } => Some(Frame::call_error(id, *code, reason)),
            FrameError::Drop { .. } => None,
        }
    }
}

impl Frame {
    /// The message type id of this frame (2, 3 or 4).
    pub fn type_id(&self) -> u8 {
        match self {
            Frame::Call { .. } => 2,
            Frame::CallResult { .. } => 3,
            Frame::CallError { .. } => 4,
        }
    }

    /// The message id this frame carries.
    pub fn id(&self) -> &str {
        match self {
            Frame::Call { id, .. } | Frame::CallResult { id, .. } | Frame::CallError { id, .. } => {
                id
            }
        }
    }

    /// A CALLERROR with empty details and a description cut to the 255 characters Part 4 allows.
    pub fn call_error(id: &str, code: ErrorCode, description: &str) -> Frame {
        Frame::CallError {
            id: id.to_string(),
            code,
            description: truncate_chars(description, MAX_ERROR_DESCRIPTION_LEN),
            details: Value::Object(Map::new()),
        }
    }

    /// Parse one WebSocket text message.
    pub fn parse(text: &str) -> Result<Frame, FrameError> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            let reason = format!("not JSON: {e}");
            match salvage_id(text) {
                Some((2, id)) => FrameError::reply(&id, ErrorCode::FormatViolation, reason),
                Some((_, id)) => FrameError::drop(Some(&id), reason),
                None => FrameError::drop(None, reason),
            }
        })?;
        Frame::from_value(value)
    }

    /// Classify an already-parsed JSON value (see [`Frame::parse`]).
    pub fn from_value(value: Value) -> Result<Frame, FrameError> {
        let Value::Array(mut items) = value else {
            return Err(FrameError::drop(None, "not a JSON array"));
        };
        let id = match items.get(1) {
            Some(Value::String(id)) => id.clone(),
            Some(other) => {
                return Err(FrameError::drop(
                    None,
                    format!(
                        "message id is not a string: {}",
                        bounded(&other.to_string())
                    ),
                ))
            }
            None => return Err(FrameError::drop(None, "no message id")),
        };
        let type_id = match items.first() {
            Some(Value::Number(n)) => n.as_u64(),
            _ => None,
        };
        match type_id {
            // Longer than Part 4 allows: answered, but never echoed whole (see the module docs).
            Some(2) if id.chars().count() > MAX_MESSAGE_ID_LEN => Err(FrameError::reply(
                &truncate_chars(&id, MAX_MESSAGE_ID_LEN),
                ErrorCode::FormatViolation,
                format!(
                    "message id has {} characters; at most {MAX_MESSAGE_ID_LEN} are allowed",
                    id.chars().count()
                ),
            )),
            // Our own ids are short: an answer with a longer one can match no outstanding call.
            Some(3 | 4) if id.chars().count() > MAX_MESSAGE_ID_LEN => Err(FrameError::drop(
                Some(&id),
                "answer with a message id longer than 36 characters",
            )),
            Some(2) => {
                if id.is_empty() {
                    return Err(FrameError::reply(
                        &id,
                        ErrorCode::RpcFrameworkError,
                        "message id must be 1 to 36 characters",
                    ));
                }
                if items.len() != 4 {
                    return Err(FrameError::reply(
                        &id,
                        ErrorCode::RpcFrameworkError,
                        format!("a CALL has 4 elements, this one has {}", items.len()),
                    ));
                }
                let payload = items.pop().unwrap_or(Value::Null);
                let action = match items.pop() {
                    Some(Value::String(action)) => action,
                    _ => {
                        return Err(FrameError::reply(
                            &id,
                            ErrorCode::RpcFrameworkError,
                            "action is not a string",
                        ))
                    }
                };
                if !payload.is_object() {
                    return Err(FrameError::reply(
                        &id,
                        ErrorCode::FormatViolation,
                        "payload is not a JSON object",
                    ));
                }
                Ok(Frame::Call {
                    id,
                    action,
                    payload,
                })
            }
            Some(3) => {
                if items.len() != 3 {
                    return Err(FrameError::drop(
                        Some(&id),
                        format!("a CALLRESULT has 3 elements, this one has {}", items.len()),
                    ));
                }
                let payload = items.pop().unwrap_or(Value::Null);
                if !payload.is_object() {
                    return Err(FrameError::drop(
                        Some(&id),
                        "CALLRESULT payload is not a JSON object",
                    ));
                }
                Ok(Frame::CallResult { id, payload })
            }
            Some(4) => {
                if items.len() != 5 {
                    return Err(FrameError::drop(
                        Some(&id),
                        format!("a CALLERROR has 5 elements, this one has {}", items.len()),
                    ));
                }
                let details = items.pop().unwrap_or(Value::Null);
                let description = match items.pop() {
                    Some(Value::String(d)) => d,
                    _ => {
                        return Err(FrameError::drop(
                            Some(&id),
                            "CALLERROR description is not a string",
                        ))
                    }
                };
                let code = match items.pop() {
                    // A 1.6 peer's codes are read too ("OccurenceConstraintViolation" is the
                    // same code); a peer may invent codes: keep the message, file it under
                    // GenericError.
                    Some(Value::String(c)) => c
                        .parse()
                        .or_else(|_| c.parse::<crate::v16::ErrorCode>().map(ErrorCode::from))
                        .unwrap_or(ErrorCode::GenericError),
                    _ => {
                        return Err(FrameError::drop(
                            Some(&id),
                            "CALLERROR code is not a string",
                        ))
                    }
                };
                Ok(Frame::CallError {
                    id,
                    code,
                    description,
                    details,
                })
            }
            _ => Err(FrameError::reply(
                &truncate_chars(&id, MAX_MESSAGE_ID_LEN),
                ErrorCode::MessageTypeNotSupported,
                format!(
                    "message type id {} is not 2, 3 or 4",
                    bounded(&items.first().map(Value::to_string).unwrap_or_default())
                ),
            )),
        }
    }

    /// The frame as WebSocket text (2.0.1 spelling of error codes; see [`Frame::to_text_for`]).
    pub fn to_text(&self) -> String {
        self.to_text_for(OcppVersion::V201)
    }

    /// The frame as WebSocket text for a peer speaking `version`: the same JSON, except that a
    /// CALLERROR's code is written as that version spells it (1.6: `FormationViolation`,
    /// `OccurenceConstraintViolation`, and `ProtocolError` for the two framing codes 1.6 lacks;
    /// see [`crate::v16::ErrorCode::from_v201`]).
    pub fn to_text_for(&self, version: OcppVersion) -> String {
        let result = match self {
            Frame::Call {
                id,
                action,
                payload,
            } => serde_json::to_string(&(2, id, action, payload)),
            Frame::CallResult { id, payload } => serde_json::to_string(&(3, id, payload)),
            Frame::CallError {
                id,
                code,
                description,
                details,
            } => {
                let code = match version {
                    OcppVersion::V201 => code.as_str(),
                    OcppVersion::V16 => crate::v16::ErrorCode::from_v201(*code).as_str(),
                };
                serde_json::to_string(&(4, id, code, description, details))
            }
        };
        // Serialising strings and `Value`s into a String cannot fail.
        result.unwrap_or_default()
    }
}

/// The message type id and message id of text that is not JSON but starts like an OCPP-J
/// message: `[`, an integer, `,`, a JSON string of 1 to 36 characters. Whatever follows is
/// ignored (that is the part that broke). `None` when the prefix is not readable.
pub fn salvage_id(text: &str) -> Option<(u64, MessageId)> {
    let rest = text.trim_start().strip_prefix('[')?.trim_start();
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let type_id: u64 = rest.get(..digits.min(3))?.parse().ok()?;
    let rest = rest[digits..].trim_start().strip_prefix(',')?.trim_start();
    let body = rest.strip_prefix('"')?;
    // The id ends at the first quote not escaped by a backslash; ids are short, look no further.
    let mut escaped = false;
    let end = body
        .char_indices()
        .take(4 * MAX_MESSAGE_ID_LEN + 8)
        .find(|&(_, c)| {
            let closes = c == '"' && !escaped;
            escaped = c == '\\' && !escaped;
            closes
        })?
        .0;
    let id: String = serde_json::from_str(&rest[..end + 2]).ok()?;
    (!id.is_empty() && id.chars().count() <= MAX_MESSAGE_ID_LEN).then_some((type_id, id))
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => s[..cut].to_string(),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn parses_the_three_message_types() {
        let call = Frame::parse(r#"[2,"19223201","BootNotification",{"reason":"PowerUp"}]"#);
        assert_eq!(
            call,
            Ok(Frame::Call {
                id: "19223201".into(),
                action: "BootNotification".into(),
                payload: json!({"reason": "PowerUp"}),
            })
        );
        let result = Frame::parse(r#"[3,"19223201",{"status":"Accepted"}]"#).unwrap();
        assert_eq!(result.id(), "19223201");
        let error =
            Frame::parse(r#"[4,"1","NotSupported","no",{}]"#).expect("a valid CALLERROR parses");
        assert!(matches!(
            error,
            Frame::CallError {
                code: ErrorCode::NotSupported,
                ..
            }
        ));
    }

    #[test]
    fn unreadable_message_ids_are_dropped_not_answered() {
        for text in [
            "{}",
            "nonsense",
            "[]",
            "[2]",
            "[2,5,\"Heartbeat\",{}]",
            "\"x\"",
        ] {
            assert!(
                matches!(Frame::parse(text), Err(FrameError::Drop { id: None, .. })),
                "{text}"
            );
        }
    }

    #[test]
    fn broken_calls_with_a_readable_id_get_the_part_4_error_code() {
        let code = |text: &str| match Frame::parse(text) {
            Err(FrameError::Reply { code, .. }) => code,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            code(r#"[7,"a","Heartbeat",{}]"#),
            ErrorCode::MessageTypeNotSupported
        );
        assert_eq!(
            code(r#"["2","a","Heartbeat",{}]"#),
            ErrorCode::MessageTypeNotSupported
        );
        assert_eq!(code(r#"[2,"a","Heartbeat"]"#), ErrorCode::RpcFrameworkError);
        assert_eq!(code(r#"[2,"a",17,{}]"#), ErrorCode::RpcFrameworkError);
        assert_eq!(
            code(r#"[2,"a","Heartbeat",[]]"#),
            ErrorCode::FormatViolation
        );
    }

    #[test]
    fn message_ids_longer_than_36_characters_are_answered_format_violation_cut_to_36() {
        let long_id = format!("{}{}", "a".repeat(36), "x".repeat(1 << 20));
        let error = Frame::parse(&format!(r#"[2,"{long_id}","Heartbeat",{{}}]"#)).unwrap_err();
        let Some(Frame::CallError {
            id,
            code,
            description,
            ..
        }) = error.to_call_error()
        else {
            panic!("{error:?} is not answered");
        };
        assert_eq!(
            (id.as_str(), code),
            ("a".repeat(36).as_str(), ErrorCode::FormatViolation)
        );
        assert!(error.to_string().len() < 512 && description.len() < 512);
        // An answer with such an id matches no call of ours: dropped, the id kept bounded.
        for text in [
            format!(r#"[3,"{long_id}",{{}}]"#),
            format!(r#"[4,"{long_id}","X","",{{}}]"#),
        ] {
            match Frame::parse(&text) {
                Err(FrameError::Drop { id: Some(id), .. }) => assert!(id.len() < 512),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn unparsable_json_with_a_readable_call_prefix_is_answered_format_violation() {
        for text in [
            r#"[2,"big-1","MeterValues",{"evseId":1e400}]"#,
            r#"[2, "big-1" ,"Heartbeat",{"#,
            r#" [ 2 , "big-1", "Authorize", {"idToken": {"idToken": "A"#,
        ] {
            match Frame::parse(text) {
                Err(FrameError::Reply { id, code, .. }) => {
                    assert_eq!(
                        (id.as_str(), code),
                        ("big-1", ErrorCode::FormatViolation),
                        "{text}"
                    )
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        assert_eq!(
            salvage_id(r#"[2,"a\"b\\",1e400]"#),
            Some((2, "a\"b\\".to_string()))
        );
        // Answers and unreadable prefixes are still never answered.
        for text in [
            r#"[3,"big-1",{"x":1e400}]"#,
            r#"[2,"#,
            r#"[2,"unterminated"#,
            "nonsense",
        ] {
            assert!(
                matches!(Frame::parse(text), Err(FrameError::Drop { .. })),
                "{text}"
            );
        }
        let too_long = format!(r#"[2,"{}",1e400]"#, "x".repeat(37));
        assert!(matches!(
            Frame::parse(&too_long),
            Err(FrameError::Drop { id: None, .. })
        ));
    }

    #[test]
    fn reasons_quoting_the_peer_are_bounded() {
        let huge = "9".repeat(1 << 20);
        for text in [
            format!(r#"[2,[{huge}],"Heartbeat",{{}}]"#),
            format!(r#"[{huge},"a","Heartbeat",{{}}]"#),
        ] {
            let error = Frame::parse(&text).unwrap_err();
            assert!(
                error.to_string().len() < 512,
                "{} bytes",
                error.to_string().len()
            );
        }
    }

    #[test]
    fn broken_results_and_errors_are_never_answered() {
        for text in [
            r#"[3,"a"]"#,
            r#"[3,"a",5]"#,
            r#"[4,"a","X"]"#,
            r#"[4,"a",1,"d",{}]"#,
        ] {
            assert!(
                matches!(
                    Frame::parse(text),
                    Err(FrameError::Drop { id: Some(_), .. })
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn call_error_descriptions_are_cut_to_255_characters() {
        let frame = Frame::call_error("1", ErrorCode::GenericError, &"é".repeat(400));
        let Frame::CallError { description, .. } = frame else {
            unreachable!()
        };
        assert_eq!(description.chars().count(), 255);
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|n| json!(n)),
            ".{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(".{0,8}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any text at all: parse never panics.
        #[test]
        fn parse_never_panics_on_arbitrary_text(text in ".{0,200}") {
            let _ = Frame::parse(&text);
        }

        /// Any text after a CALL prefix: never a panic, and an answer only ever echoes an id of
        /// at most 36 characters.
        #[test]
        fn salvage_never_panics_and_never_echoes_long_ids(prefix in r#"\[ ?[0-9]{0,3} ?, ?"[^"]{0,50}"?"#, tail in ".{0,40}") {
            if let Err(FrameError::Reply { id, .. }) = Frame::parse(&format!("{prefix}{tail}")) {
                prop_assert!(id.chars().count() <= MAX_MESSAGE_ID_LEN);
            }
        }

        /// Any JSON at all: parse never panics, and an answer is only ever asked for when the id was
        /// readable.
        #[test]
        fn parse_never_panics_on_arbitrary_json(value in arb_json()) {
            if let Err(FrameError::Reply { id, .. }) = Frame::from_value(value.clone()) {
                let sent = value.as_array().and_then(|a| a.get(1)).and_then(Value::as_str);
                prop_assert!(sent.is_some_and(|sent| sent.starts_with(&id)));
                prop_assert!(id.chars().count() <= MAX_MESSAGE_ID_LEN);
            }
        }

        /// Every well-formed frame survives a trip to text and back.
        #[test]
        fn well_formed_frames_round_trip(
            id in "[a-zA-Z0-9-]{1,36}",
            action in "[A-Za-z]{1,30}",
            key in "[a-z]{1,10}",
            n in any::<i32>(),
            kind in 0u8..3,
        ) {
            let payload = json!({ key: n });
            let frame = match kind {
                0 => Frame::Call { id, action, payload },
                1 => Frame::CallResult { id, payload },
                _ => Frame::call_error(&id, ErrorCode::FormatViolation, &action),
            };
            prop_assert_eq!(Frame::parse(&frame.to_text()), Ok(frame));
        }
    }
}
