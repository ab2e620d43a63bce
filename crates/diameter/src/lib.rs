//! Diameter for unicharge.
//!
//! * [`header`], [`avp`], [`message`], [`dictionary`], [`error`]: the codec, free of I/O.
//!   Every length is checked before it is used; bad input yields the RFC 6733 §7 Result-Code
//!   and Failed-AVP the answer needs, never a panic.

pub mod avp;
pub mod cc;
pub mod dictionary;
pub mod error;
pub mod header;
pub mod message;
pub mod peer;
pub mod rf;
pub mod tap;
pub mod testing;

pub use avp::{Address, Avp, AvpFlags, DecodeOptions, Time, Value};
pub use dictionary::{app, cmd, VENDOR_3GPP};
pub use error::{result_code, AvpError, FrameError, MessageError};
pub use header::{CommandFlags, Header};
pub use message::{frame_length, Message, DEFAULT_MAX_MESSAGE_LEN};
