//! AVPs (RFC 6733 §4): header, vendor id, padding, and the base data types (§4.2, §4.3).
//!
//! ```text
//! |                           AVP Code                            |
//! |V M P r r r r r|                  AVP Length                   |
//! |                        Vendor-ID (opt)                        |
//! |    Data ...  (padded to 32 bits; the padding is not counted in AVP Length)
//! ```
//!
//! Values are decoded by the type the [`crate::dictionary`] gives the (code, vendor) pair; an AVP
//! the dictionary does not know keeps its octets ([`Value::Unknown`]) so it can be echoed back in
//! Failed-AVP or relayed unchanged.

use std::net::IpAddr;

use crate::dictionary::{self, AvpType, FlagRule};
use crate::error::{result_code, AvpError};

/// AVP flags octet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AvpFlags(pub u8);

impl AvpFlags {
    /// V: a Vendor-ID field follows the length.
    pub const VENDOR: u8 = 0x80;
    /// M: the receiver must understand this AVP or reject the message (5001).
    pub const MANDATORY: u8 = 0x40;
    /// P: reserved for end-to-end security (RFC 6733 keeps the bit, defines nothing).
    pub const PROTECTED: u8 = 0x20;

    pub fn vendor(self) -> bool {
        self.0 & Self::VENDOR != 0
    }
    pub fn mandatory(self) -> bool {
        self.0 & Self::MANDATORY != 0
    }
}

/// An `Address` (RFC 6733 §4.3.1): a 2-octet IANA address family followed by the address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address {
    pub family: u16,
    pub octets: Vec<u8>,
}

impl Address {
    /// IANA "Address Family Numbers": 1 = IPv4, 2 = IPv6.
    pub const IPV4: u16 = 1;
    pub const IPV6: u16 = 2;

    pub fn ip(&self) -> Option<IpAddr> {
        match (self.family, self.octets.len()) {
            (Self::IPV4, 4) => {
                let o: [u8; 4] = self.octets.as_slice().try_into().ok()?;
                Some(IpAddr::from(o))
            }
            (Self::IPV6, 16) => {
                let o: [u8; 16] = self.octets.as_slice().try_into().ok()?;
                Some(IpAddr::from(o))
            }
            _ => None,
        }
    }
}

impl From<IpAddr> for Address {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Address {
                family: Self::IPV4,
                octets: v4.octets().to_vec(),
            },
            IpAddr::V6(v6) => Address {
                family: Self::IPV6,
                octets: v6.octets().to_vec(),
            },
        }
    }
}

/// Seconds between the NTP epoch (1900-01-01) and the Unix epoch.
pub const NTP_UNIX_OFFSET: i64 = 2_208_988_800;

/// A `Time` value (RFC 6733 §4.3.1): the 32-bit NTP seconds count since 1900-01-01 UTC.
/// Kept raw so that decode ∘ encode is the identity; [`Time::to_utc`] converts (values with
/// the top bit clear are the era after 2036, as RFC 5905 and RFC 6733 say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Time(pub u32);

impl Time {
    pub fn from_utc(t: chrono::DateTime<chrono::Utc>) -> Time {
        Time((t.timestamp() + NTP_UNIX_OFFSET) as u32)
    }
    pub fn to_utc(self) -> chrono::DateTime<chrono::Utc> {
        let mut secs = i64::from(self.0) - NTP_UNIX_OFFSET;
        if self.0 & 0x8000_0000 == 0 {
            // NTP era 1 (from 2036-02-07).
            secs += 1 << 32;
        }
        chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default()
    }
}

/// A decoded AVP value, one variant per RFC 6733 data type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    OctetString(Vec<u8>),
    Integer32(i32),
    Integer64(i64),
    Unsigned32(u32),
    Unsigned64(u64),
    Float32(f32),
    Float64(f64),
    Grouped(Vec<Avp>),
    Address(Address),
    Time(Time),
    Utf8String(String),
    DiameterIdentity(String),
    DiameterUri(String),
    Enumerated(i32),
    /// An AVP the dictionary does not know (only legal without the M bit): its raw octets.
    Unknown(Vec<u8>),
}

/// One AVP. `vendor_id` is `Some` exactly when the V flag is set.
#[derive(Debug, Clone, PartialEq)]
pub struct Avp {
    pub code: u32,
    pub flags: AvpFlags,
    pub vendor_id: Option<u32>,
    pub value: Value,
}

/// Rounds an AVP length up to the 32-bit boundary.
pub(crate) fn padded(len: usize) -> usize {
    (len + 3) & !3
}

/// Decoder choices where RFC 6733 leaves room.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Answer 3009 (DIAMETER_INVALID_AVP_BITS) to an M bit on an AVP whose definition says
    /// "MUST NOT" (Product-Name, Firmware-Revision, Error-Message, Error-Reporting-Host).
    /// Off by default: python-diameter, for one, sets M on Product-Name in its CER, and
    /// refusing a peer's capabilities over a flag we would ignore anyway helps nobody.
    pub reject_forbidden_m_bit: bool,
}

/// How deep grouped AVPs may nest before the decoder gives up (5004); real dictionaries stop
/// at 5 or 6 levels, an attacker's message could otherwise recurse until the stack ends.
pub const MAX_GROUP_DEPTH: usize = 16;

impl Avp {
    /// An AVP with the flags the dictionary prescribes: V when `vendor_id != 0`, M when the
    /// dictionary says the M bit must be set.
    pub fn new(code: u32, vendor_id: u32, value: Value) -> Avp {
        let mut flags = 0;
        if vendor_id != 0 {
            flags |= AvpFlags::VENDOR;
        }
        if let Some(def) = dictionary::lookup(code, vendor_id) {
            if def.m == FlagRule::Must {
                flags |= AvpFlags::MANDATORY;
            }
        }
        Avp {
            code,
            flags: AvpFlags(flags),
            vendor_id: (vendor_id != 0).then_some(vendor_id),
            value,
        }
    }

    /// Builds an AVP by its dictionary name, checking that `value` has the dictionary's type.
    /// Panics only on a programming error (a name or type that is not in the dictionary),
    /// never on input from the network.
    pub fn named(name: &str, value: Value) -> Avp {
        let def = dictionary::by_name(name).unwrap_or_else(|| panic!("no AVP named {name}"));
        assert!(
            def.ty.accepts(&value),
            "{name} is {:?}, not {value:?}",
            def.ty
        );
        Avp::new(def.code, def.vendor_id, value)
    }

    pub fn u32(name: &str, v: u32) -> Avp {
        Avp::named(name, Value::Unsigned32(v))
    }
    pub fn u64(name: &str, v: u64) -> Avp {
        Avp::named(name, Value::Unsigned64(v))
    }
    pub fn enumerated(name: &str, v: i32) -> Avp {
        Avp::named(name, Value::Enumerated(v))
    }
    pub fn utf8(name: &str, v: impl Into<String>) -> Avp {
        Avp::named(name, Value::Utf8String(v.into()))
    }
    pub fn identity(name: &str, v: impl Into<String>) -> Avp {
        Avp::named(name, Value::DiameterIdentity(v.into()))
    }
    pub fn octets(name: &str, v: impl Into<Vec<u8>>) -> Avp {
        Avp::named(name, Value::OctetString(v.into()))
    }
    pub fn time(name: &str, v: Time) -> Avp {
        Avp::named(name, Value::Time(v))
    }
    pub fn address(name: &str, v: impl Into<Address>) -> Avp {
        Avp::named(name, Value::Address(v.into()))
    }
    pub fn grouped(name: &str, children: Vec<Avp>) -> Avp {
        Avp::named(name, Value::Grouped(children))
    }

    /// The dictionary name, or `"Unknown"`.
    pub fn name(&self) -> &'static str {
        dictionary::lookup(self.code, self.vendor_id.unwrap_or(0)).map_or("Unknown", |d| d.name)
    }
    pub fn vendor(&self) -> u32 {
        self.vendor_id.unwrap_or(0)
    }

    pub fn as_u32(&self) -> Option<u32> {
        match self.value {
            Value::Unsigned32(v) => Some(v),
            _ => None,
        }
    }
    pub fn as_u64(&self) -> Option<u64> {
        match self.value {
            Value::Unsigned64(v) => Some(v),
            Value::Unsigned32(v) => Some(u64::from(v)),
            _ => None,
        }
    }
    pub fn as_i32(&self) -> Option<i32> {
        match self.value {
            Value::Integer32(v) | Value::Enumerated(v) => Some(v),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Integer64(v) => Some(v),
            Value::Integer32(v) | Value::Enumerated(v) => Some(i64::from(v)),
            _ => None,
        }
    }
    /// Text of a UTF8String, DiameterIdentity or DiameterURI.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Utf8String(s) | Value::DiameterIdentity(s) | Value::DiameterUri(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.value {
            Value::OctetString(b) | Value::Unknown(b) => Some(b),
            Value::Utf8String(s) | Value::DiameterIdentity(s) | Value::DiameterUri(s) => {
                Some(s.as_bytes())
            }
            _ => None,
        }
    }
    pub fn as_time(&self) -> Option<Time> {
        match self.value {
            Value::Time(t) => Some(t),
            _ => None,
        }
    }
    pub fn as_address(&self) -> Option<&Address> {
        match &self.value {
            Value::Address(a) => Some(a),
            _ => None,
        }
    }
    pub fn children(&self) -> Option<&[Avp]> {
        match &self.value {
            Value::Grouped(c) => Some(c),
            _ => None,
        }
    }
    /// First child with this dictionary name (grouped AVPs only).
    pub fn child(&self, name: &str) -> Option<&Avp> {
        find(self.children()?, name)
    }

    /// Octets of the data field, without padding.
    fn data_len(&self) -> usize {
        match &self.value {
            Value::OctetString(b) | Value::Unknown(b) => b.len(),
            Value::Integer32(_) | Value::Unsigned32(_) | Value::Float32(_) | Value::Time(_) => 4,
            Value::Enumerated(_) => 4,
            Value::Integer64(_) | Value::Unsigned64(_) | Value::Float64(_) => 8,
            Value::Grouped(c) => c.iter().map(|a| padded(a.encoded_len())).sum(),
            Value::Address(a) => 2 + a.octets.len(),
            Value::Utf8String(s) | Value::DiameterIdentity(s) | Value::DiameterUri(s) => s.len(),
        }
    }

    fn header_len(&self) -> usize {
        if self.vendor_id.is_some() {
            12
        } else {
            8
        }
    }

    /// AVP Length as written on the wire (header + data, no padding).
    pub fn encoded_len(&self) -> usize {
        self.header_len() + self.data_len()
    }

    /// Appends the AVP and its padding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let len = self.encoded_len();
        let mut flags = self.flags.0 & !AvpFlags::VENDOR;
        if self.vendor_id.is_some() {
            flags |= AvpFlags::VENDOR;
        }
        out.extend_from_slice(&self.code.to_be_bytes());
        out.extend_from_slice(
            &((u32::from(flags) << 24) | (len as u32 & 0x00ff_ffff)).to_be_bytes(),
        );
        if let Some(v) = self.vendor_id {
            out.extend_from_slice(&v.to_be_bytes());
        }
        match &self.value {
            Value::OctetString(b) | Value::Unknown(b) => out.extend_from_slice(b),
            Value::Integer32(v) | Value::Enumerated(v) => out.extend_from_slice(&v.to_be_bytes()),
            Value::Integer64(v) => out.extend_from_slice(&v.to_be_bytes()),
            Value::Unsigned32(v) => out.extend_from_slice(&v.to_be_bytes()),
            Value::Unsigned64(v) => out.extend_from_slice(&v.to_be_bytes()),
            Value::Float32(v) => out.extend_from_slice(&v.to_bits().to_be_bytes()),
            Value::Float64(v) => out.extend_from_slice(&v.to_bits().to_be_bytes()),
            Value::Time(t) => out.extend_from_slice(&t.0.to_be_bytes()),
            Value::Address(a) => {
                out.extend_from_slice(&a.family.to_be_bytes());
                out.extend_from_slice(&a.octets);
            }
            Value::Utf8String(s) | Value::DiameterIdentity(s) | Value::DiameterUri(s) => {
                out.extend_from_slice(s.as_bytes())
            }
            Value::Grouped(children) => {
                for c in children {
                    c.encode(out);
                }
            }
        }
        out.resize(out.len() + (padded(len) - len), 0);
    }

    /// This AVP as RFC 6733 §7.5 wants it inside Failed-AVP when its value was wrong: the
    /// header with a zero-filled data field of `min_data` octets.
    pub(crate) fn zeroed(
        code: u32,
        flags: AvpFlags,
        vendor_id: Option<u32>,
        min_data: usize,
    ) -> Avp {
        Avp {
            code,
            flags,
            vendor_id,
            value: Value::Unknown(vec![0; min_data]),
        }
    }
}

/// First AVP named `name` in a list.
pub fn find<'a>(avps: &'a [Avp], name: &str) -> Option<&'a Avp> {
    let def = dictionary::by_name(name)?;
    avps.iter()
        .find(|a| a.code == def.code && a.vendor() == def.vendor_id)
}

/// Every AVP named `name` in a list.
pub fn find_all<'a>(avps: &'a [Avp], name: &str) -> impl Iterator<Item = &'a Avp> {
    let def = dictionary::by_name(name);
    avps.iter()
        .filter(move |a| def.is_some_and(|d| a.code == d.code && a.vendor() == d.vendor_id))
}

/// Decodes a sequence of AVPs that fills `buf` exactly (a message body or a grouped AVP's data).
///
/// Every length is checked against what is left before anything is read, so a lying length
/// yields 5014 instead of a panic or a read past the AVP. The first error wins; an error inside
/// a grouped AVP is reported with the offending child wrapped in its parent (RFC 6733 §7.5).
pub fn decode_avps(buf: &[u8], depth: usize, opts: DecodeOptions) -> Result<Vec<Avp>, AvpError> {
    decode_avps_in(buf, depth, opts, false)
}

/// `lenient`: inside Failed-AVP, where the content is a report of what was wrong, an unknown
/// M-bit AVP or a bad value is kept as raw octets instead of failing the whole answer.
fn decode_avps_in(
    buf: &[u8],
    depth: usize,
    opts: DecodeOptions,
    lenient: bool,
) -> Result<Vec<Avp>, AvpError> {
    let mut avps = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let rest = &buf[pos..];
        if rest.len() < 8 {
            // Trailing octets too short to be an AVP header.
            return Err(AvpError::new(
                result_code::DIAMETER_INVALID_AVP_LENGTH,
                None,
                "trailing octets shorter than an AVP header",
            ));
        }
        let code = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let flags = AvpFlags(rest[4]);
        let len = u32::from_be_bytes([0, rest[5], rest[6], rest[7]]) as usize;
        let (vendor_id, hdr) = if flags.vendor() {
            if rest.len() < 12 {
                return Err(AvpError::new(
                    result_code::DIAMETER_INVALID_AVP_LENGTH,
                    Some(Avp::zeroed(code, flags, None, 0)),
                    "AVP header cut short before its Vendor-ID",
                ));
            }
            (
                Some(u32::from_be_bytes([rest[8], rest[9], rest[10], rest[11]])),
                12,
            )
        } else {
            (None, 8)
        };
        if len < hdr || len > rest.len() {
            return Err(AvpError::new(
                result_code::DIAMETER_INVALID_AVP_LENGTH,
                Some(Avp::zeroed(code, flags, vendor_id, 0)),
                "AVP Length smaller than its header or beyond the enclosing data",
            ));
        }
        let data = &rest[hdr..len];
        let avp = match decode_value(code, flags, vendor_id, data, depth, opts) {
            Ok(avp) => avp,
            Err(_) if lenient => Avp {
                code,
                flags,
                vendor_id,
                value: Value::Unknown(data.to_vec()),
            },
            Err(e) => return Err(e),
        };
        avps.push(avp);
        // The last AVP of a grouped value may legitimately lack padding on the wire of some
        // implementations; accept that, never read past the buffer.
        pos += padded(len).min(rest.len());
    }
    Ok(avps)
}

fn fixed<const N: usize>(
    data: &[u8],
    code: u32,
    flags: AvpFlags,
    vendor_id: Option<u32>,
) -> Result<[u8; N], AvpError> {
    data.try_into().map_err(|_| {
        AvpError::new(
            result_code::DIAMETER_INVALID_AVP_LENGTH,
            Some(Avp::zeroed(code, flags, vendor_id, N)),
            "AVP Length does not match the fixed size of its type",
        )
    })
}

fn decode_value(
    code: u32,
    flags: AvpFlags,
    vendor_id: Option<u32>,
    data: &[u8],
    depth: usize,
    opts: DecodeOptions,
) -> Result<Avp, AvpError> {
    let raw = || Avp {
        code,
        flags,
        vendor_id,
        value: Value::Unknown(data.to_vec()),
    };
    let Some(def) = dictionary::lookup(code, vendor_id.unwrap_or(0)) else {
        if flags.mandatory() {
            return Err(AvpError::new(
                result_code::DIAMETER_AVP_UNSUPPORTED,
                Some(raw()),
                "AVP with the M bit that this node does not support",
            ));
        }
        return Ok(raw());
    };
    if opts.reject_forbidden_m_bit && def.m == FlagRule::MustNot && flags.mandatory() {
        return Err(AvpError::new(
            result_code::DIAMETER_INVALID_AVP_BITS,
            Some(raw()),
            "M bit set on an AVP whose definition forbids it",
        ));
    }
    let invalid = |why: &'static str| {
        AvpError::new(result_code::DIAMETER_INVALID_AVP_VALUE, Some(raw()), why)
    };
    let text = || {
        std::str::from_utf8(data)
            .map(str::to_owned)
            .map_err(|_| invalid("not valid UTF-8"))
    };
    let value = match def.ty {
        AvpType::OctetString => Value::OctetString(data.to_vec()),
        AvpType::Integer32 => {
            Value::Integer32(i32::from_be_bytes(fixed(data, code, flags, vendor_id)?))
        }
        AvpType::Enumerated => {
            Value::Enumerated(i32::from_be_bytes(fixed(data, code, flags, vendor_id)?))
        }
        AvpType::Integer64 => {
            Value::Integer64(i64::from_be_bytes(fixed(data, code, flags, vendor_id)?))
        }
        AvpType::Unsigned32 => {
            Value::Unsigned32(u32::from_be_bytes(fixed(data, code, flags, vendor_id)?))
        }
        AvpType::Unsigned64 => {
            Value::Unsigned64(u64::from_be_bytes(fixed(data, code, flags, vendor_id)?))
        }
        AvpType::Float32 => Value::Float32(f32::from_bits(u32::from_be_bytes(fixed(
            data, code, flags, vendor_id,
        )?))),
        AvpType::Float64 => Value::Float64(f64::from_bits(u64::from_be_bytes(fixed(
            data, code, flags, vendor_id,
        )?))),
        AvpType::Time => Value::Time(Time(u32::from_be_bytes(fixed(
            data, code, flags, vendor_id,
        )?))),
        AvpType::Address => {
            if data.len() < 2 {
                return Err(AvpError::new(
                    result_code::DIAMETER_INVALID_AVP_LENGTH,
                    Some(Avp::zeroed(code, flags, vendor_id, 2)),
                    "Address shorter than its address family",
                ));
            }
            let family = u16::from_be_bytes([data[0], data[1]]);
            let octets = data[2..].to_vec();
            let ok = match family {
                Address::IPV4 => octets.len() == 4,
                Address::IPV6 => octets.len() == 16,
                _ => true,
            };
            if !ok {
                return Err(AvpError::new(
                    result_code::DIAMETER_INVALID_AVP_LENGTH,
                    Some(raw()),
                    "Address length does not match its family",
                ));
            }
            Value::Address(Address { family, octets })
        }
        AvpType::Utf8String => Value::Utf8String(text()?),
        AvpType::DiameterIdentity => Value::DiameterIdentity(text()?),
        AvpType::DiameterUri => Value::DiameterUri(text()?),
        AvpType::Grouped => {
            if depth >= MAX_GROUP_DEPTH {
                return Err(invalid("grouped AVPs nested too deeply"));
            }
            let in_failed_avp = code == 279 && vendor_id.is_none();
            match decode_avps_in(data, depth + 1, opts, in_failed_avp) {
                Ok(children) => Value::Grouped(children),
                Err(mut e) => {
                    // Wrap the offending child in its parent (RFC 6733 §7.5).
                    e.failed_avp = e.failed_avp.map(|child| Avp {
                        code,
                        flags,
                        vendor_id,
                        value: Value::Grouped(vec![child]),
                    });
                    return Err(e);
                }
            }
        }
    };
    Ok(Avp {
        code,
        flags,
        vendor_id,
        value,
    })
}
