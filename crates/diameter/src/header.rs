//! The 20-octet Diameter header (RFC 6733 §3).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |    Version    |                 Message Length                |
//! | Command Flags |                  Command Code                 |
//! |                         Application-ID                        |
//! |                      Hop-by-Hop Identifier                    |
//! |                      End-to-End Identifier                    |
//! ```

/// Length of the fixed header in octets.
pub const HEADER_LEN: usize = 20;
/// The only version RFC 6733 defines.
pub const VERSION: u8 = 1;

/// Command flags (RFC 6733 §3): R(equest), P(roxiable), E(rror), T (potentially
/// retransmitted), then four reserved bits that must be zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CommandFlags(pub u8);

impl CommandFlags {
    pub const REQUEST: u8 = 0x80;
    pub const PROXIABLE: u8 = 0x40;
    pub const ERROR: u8 = 0x20;
    pub const RETRANSMIT: u8 = 0x10;
    /// The four `r` bits; RFC 6733 says senders set them to 0.
    pub const RESERVED: u8 = 0x0f;

    pub fn request(self) -> bool {
        self.0 & Self::REQUEST != 0
    }
    pub fn proxiable(self) -> bool {
        self.0 & Self::PROXIABLE != 0
    }
    pub fn error(self) -> bool {
        self.0 & Self::ERROR != 0
    }
    /// The T flag: the sender may have sent this request before (failover or retransmission).
    pub fn retransmit(self) -> bool {
        self.0 & Self::RETRANSMIT != 0
    }
    pub fn reserved(self) -> u8 {
        self.0 & Self::RESERVED
    }
    pub fn with(self, bit: u8, on: bool) -> Self {
        if on {
            Self(self.0 | bit)
        } else {
            Self(self.0 & !bit)
        }
    }
}

/// A decoded header. `length` is the whole message length including this header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    pub version: u8,
    pub length: u32,
    pub flags: CommandFlags,
    /// 24-bit command code.
    pub command_code: u32,
    pub application_id: u32,
    pub hop_by_hop: u32,
    pub end_to_end: u32,
}

impl Header {
    /// Reads the fixed header. The caller has checked `buf.len() >= HEADER_LEN`; returns `None`
    /// otherwise so that a short buffer can never panic.
    pub fn parse(buf: &[u8]) -> Option<Header> {
        let b = buf.get(..HEADER_LEN)?;
        let w = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Some(Header {
            version: b[0],
            length: w(0) & 0x00ff_ffff,
            flags: CommandFlags(b[4]),
            command_code: w(4) & 0x00ff_ffff,
            application_id: w(8),
            hop_by_hop: w(12),
            end_to_end: w(16),
        })
    }

    /// Appends the 20 octets. `length` is written as given; [`crate::Message::encode`] patches
    /// it once the AVPs are written.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(
            &((u32::from(self.version) << 24) | (self.length & 0x00ff_ffff)).to_be_bytes(),
        );
        out.extend_from_slice(
            &((u32::from(self.flags.0) << 24) | (self.command_code & 0x00ff_ffff)).to_be_bytes(),
        );
        out.extend_from_slice(&self.application_id.to_be_bytes());
        out.extend_from_slice(&self.hop_by_hop.to_be_bytes());
        out.extend_from_slice(&self.end_to_end.to_be_bytes());
    }
}
