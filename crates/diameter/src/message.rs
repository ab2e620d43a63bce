//! Messages: framing, decode, encode, command-level checks, and builders for requests and
//! answers (including the error answers of RFC 6733 §7).

use crate::avp::{self, decode_avps, Avp, AvpFlags, DecodeOptions, Value};
use crate::dictionary::{self, AvpDef};
use crate::error::{result_code, AvpError, FrameError, MessageError};
use crate::header::{CommandFlags, Header, HEADER_LEN, VERSION};

/// Default largest message a peer accepts (octets). Rf/Ro messages are a few hundred octets;
/// 1 MiB bounds what one peer can make us buffer.
pub const DEFAULT_MAX_MESSAGE_LEN: u32 = 1 << 20;

/// How many octets the next message occupies, once 4 octets of it are buffered.
///
/// `Ok(None)`: fewer than 4 octets buffered yet. `Err`: the length can never be valid and the
/// stream cannot be resynchronised, so the connection must close. Everything else (bad version,
/// length not a multiple of 4, garbage AVPs) is left to [`Message::decode`], which can answer it
/// because the frame boundary is known.
pub fn frame_length(buf: &[u8], max_len: u32) -> Result<Option<usize>, FrameError> {
    let Some(b) = buf.get(..4) else {
        return Ok(None);
    };
    let len = u32::from_be_bytes([0, b[1], b[2], b[3]]);
    if (len as usize) < HEADER_LEN {
        return Err(FrameError::TooShort(len));
    }
    if len > max_len {
        return Err(FrameError::TooLong(len, max_len));
    }
    Ok(Some(len as usize))
}

/// A Diameter message: the header and its top-level AVPs in wire order.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub header: Header,
    pub avps: Vec<Avp>,
}

impl Message {
    /// A new request with T, E clear and the given identifiers.
    pub fn request(
        command_code: u32,
        application_id: u32,
        hop_by_hop: u32,
        end_to_end: u32,
    ) -> Message {
        let proxiable = dictionary::command(command_code).is_some_and(|c| c.proxiable);
        Message {
            header: Header {
                version: VERSION,
                length: 0,
                flags: CommandFlags(CommandFlags::REQUEST).with(CommandFlags::PROXIABLE, proxiable),
                command_code,
                application_id,
                hop_by_hop,
                end_to_end,
            },
            avps: Vec::new(),
        }
    }

    /// The answer skeleton for `request`: same command, application and identifiers, R and T
    /// clear, P copied, reserved bits zero (RFC 6733 §6.2), Session-Id first if the request
    /// had one (§8.8).
    pub fn answer_to(request: &Message) -> Message {
        let mut answer = Message {
            header: Header {
                version: VERSION,
                length: 0,
                flags: CommandFlags(request.header.flags.0 & CommandFlags::PROXIABLE),
                command_code: request.header.command_code,
                application_id: request.header.application_id,
                hop_by_hop: request.header.hop_by_hop,
                end_to_end: request.header.end_to_end,
            },
            avps: Vec::new(),
        };
        if let Some(sid) = request.session_id() {
            answer.avps.push(Avp::utf8("Session-Id", sid));
        }
        answer
    }

    /// The answer to a request that failed decoding or checking: Result-Code, the E bit for
    /// 3xxx codes, Origin-Host/Realm, Failed-AVP when known, and an Error-Message.
    pub fn error_answer(
        header: &Header,
        session_id: Option<&str>,
        error: &AvpError,
        origin_host: &str,
        origin_realm: &str,
    ) -> Message {
        let mut flags = header.flags.0 & CommandFlags::PROXIABLE;
        if result_code::is_protocol_error(error.result_code) {
            flags |= CommandFlags::ERROR;
        }
        let mut m = Message {
            header: Header {
                version: VERSION,
                length: 0,
                flags: CommandFlags(flags),
                ..*header
            },
            avps: Vec::new(),
        };
        if let Some(sid) = session_id {
            m.avps.push(Avp::utf8("Session-Id", sid));
        }
        m.avps.push(Avp::u32("Result-Code", error.result_code));
        m.avps.push(Avp::identity("Origin-Host", origin_host));
        m.avps.push(Avp::identity("Origin-Realm", origin_realm));
        m.avps.push(Avp::utf8("Error-Message", error.reason));
        if let Some(failed) = &error.failed_avp {
            m.avps
                .push(Avp::grouped("Failed-AVP", vec![failed.clone()]));
        }
        m
    }

    pub fn push(&mut self, avp: Avp) -> &mut Self {
        self.avps.push(avp);
        self
    }
    pub fn with(mut self, avp: Avp) -> Self {
        self.avps.push(avp);
        self
    }

    pub fn is_request(&self) -> bool {
        self.header.flags.request()
    }

    /// Decodes one framed message (`buf` is exactly the frame [`frame_length`] announced).
    pub fn decode(buf: &[u8]) -> Result<Message, MessageError> {
        Self::decode_with(buf, DecodeOptions::default())
    }

    /// [`Message::decode`] with explicit [`DecodeOptions`].
    pub fn decode_with(buf: &[u8], opts: DecodeOptions) -> Result<Message, MessageError> {
        let Some(header) = Header::parse(buf) else {
            // frame_length guarantees 20 octets; a direct caller with less gets an error, not
            // a panic.
            let header = Header {
                version: 0,
                length: buf.len() as u32,
                flags: CommandFlags(0),
                command_code: 0,
                application_id: 0,
                hop_by_hop: 0,
                end_to_end: 0,
            };
            return Err(MessageError {
                header,
                session_id: None,
                error: AvpError::new(
                    result_code::DIAMETER_INVALID_MESSAGE_LENGTH,
                    None,
                    "message shorter than the Diameter header",
                ),
            });
        };
        let fail = |code, failed, reason| MessageError {
            header,
            session_id: scan_session_id(buf),
            error: AvpError::new(code, failed, reason),
        };
        if header.version != VERSION {
            return Err(fail(
                result_code::DIAMETER_UNSUPPORTED_VERSION,
                None,
                "Version is not 1",
            ));
        }
        if header.length as usize != buf.len() || header.length % 4 != 0 {
            return Err(fail(
                result_code::DIAMETER_INVALID_MESSAGE_LENGTH,
                None,
                "Message Length is not the frame length or not a multiple of 4",
            ));
        }
        if header.flags.request() && header.flags.error() {
            return Err(fail(
                result_code::DIAMETER_INVALID_HDR_BITS,
                None,
                "E bit set on a request",
            ));
        }
        let avps = decode_avps(&buf[HEADER_LEN..], 0, opts).map_err(|error| MessageError {
            header,
            session_id: scan_session_id(buf),
            error,
        })?;
        Ok(Message { header, avps })
    }

    /// Command-level checks of a decoded request: known command (3001), P bit allowed (3008),
    /// required AVPs present (5005) and not repeated (5009).
    pub fn check_request(&self) -> Result<(), AvpError> {
        let Some(def) = dictionary::command(self.header.command_code) else {
            return Err(AvpError::new(
                result_code::DIAMETER_COMMAND_UNSUPPORTED,
                None,
                "command code not supported",
            ));
        };
        if self.header.flags.proxiable() && !def.proxiable {
            return Err(AvpError::new(
                result_code::DIAMETER_INVALID_HDR_BITS,
                None,
                "P bit set on a command that is not proxiable",
            ));
        }
        check_required(&self.avps, def.request_required)
    }

    /// Command-level checks of a decoded answer (required AVPs unless the E bit is set).
    pub fn check_answer(&self) -> Result<(), AvpError> {
        let Some(def) = dictionary::command(self.header.command_code) else {
            return Err(AvpError::new(
                result_code::DIAMETER_COMMAND_UNSUPPORTED,
                None,
                "command code not supported",
            ));
        };
        if self.header.flags.error() {
            return check_required(&self.avps, &["Result-Code"]);
        }
        check_required(&self.avps, def.answer_required)
    }

    /// Encodes the message; the header's Message Length is computed, not taken from `header`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out);
        out
    }

    /// Appends the encoded message to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let mut h = self.header;
        h.length = self.encoded_len() as u32;
        h.write(out);
        for a in &self.avps {
            a.encode(out);
        }
        debug_assert_eq!(out.len() - start, h.length as usize);
    }

    pub fn encoded_len(&self) -> usize {
        HEADER_LEN
            + self
                .avps
                .iter()
                .map(|a| avp::padded(a.encoded_len()))
                .sum::<usize>()
    }

    /// First top-level AVP with this dictionary name.
    pub fn avp(&self, name: &str) -> Option<&Avp> {
        avp::find(&self.avps, name)
    }
    pub fn avps_named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Avp> {
        avp::find_all(&self.avps, name)
    }
    pub fn u32(&self, name: &str) -> Option<u32> {
        self.avp(name)?.as_u32()
    }
    pub fn i32(&self, name: &str) -> Option<i32> {
        self.avp(name)?.as_i32()
    }
    pub fn str(&self, name: &str) -> Option<&str> {
        self.avp(name)?.as_str()
    }
    pub fn session_id(&self) -> Option<&str> {
        self.str("Session-Id")
    }
    pub fn origin_host(&self) -> Option<&str> {
        self.str("Origin-Host")
    }
    pub fn origin_realm(&self) -> Option<&str> {
        self.str("Origin-Realm")
    }
    pub fn result_code(&self) -> Option<u32> {
        self.u32("Result-Code")
    }
}

fn check_required(avps: &[Avp], required: &[&str]) -> Result<(), AvpError> {
    for name in required {
        let Some(def) = dictionary::by_name(name) else {
            continue;
        };
        let count = avps
            .iter()
            .filter(|a| a.code == def.code && a.vendor() == def.vendor_id)
            .count();
        if count == 0 {
            return Err(AvpError::new(
                result_code::DIAMETER_MISSING_AVP,
                Some(example(def)),
                "a required AVP is missing",
            ));
        }
        if count > 1 {
            let second = avps
                .iter()
                .filter(|a| a.code == def.code && a.vendor() == def.vendor_id)
                .nth(1)
                .cloned();
            return Err(AvpError::new(
                result_code::DIAMETER_AVP_OCCURS_TOO_MANY_TIMES,
                second,
                "an AVP that may occur once occurs more than once",
            ));
        }
    }
    Ok(())
}

/// RFC 6733 §7.5: for a missing AVP, Failed-AVP carries an example of it with the minimum
/// data (zero-filled for fixed-size types).
fn example(def: &AvpDef) -> Avp {
    use crate::dictionary::AvpType::*;
    let min = match def.ty {
        Integer32 | Unsigned32 | Float32 | Time | Enumerated => 4,
        Integer64 | Unsigned64 | Float64 => 8,
        Address => 6,
        _ => 0,
    };
    let mut a = Avp::new(def.code, def.vendor_id, Value::Unknown(vec![0; min]));
    a.flags = AvpFlags(a.flags.0);
    a
}

/// Finds Session-Id among the top-level AVPs without decoding anything else, so that the
/// answer to an undecodable request still carries it. Stops at the first inconsistency.
fn scan_session_id(buf: &[u8]) -> Option<String> {
    let mut pos = HEADER_LEN;
    while let Some(h) = buf.get(pos..pos + 8) {
        let code = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        let vendor = h[4] & AvpFlags::VENDOR != 0;
        let len = u32::from_be_bytes([0, h[5], h[6], h[7]]) as usize;
        let hdr = if vendor { 12 } else { 8 };
        if len < hdr {
            return None;
        }
        let data = buf.get(pos + hdr..pos + len)?;
        if code == 263 && !vendor {
            return std::str::from_utf8(data).ok().map(str::to_owned);
        }
        pos += avp::padded(len);
    }
    None
}
