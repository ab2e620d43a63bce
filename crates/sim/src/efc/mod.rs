//! An ISO 17575-1 **Front End** simulator: OBEs that send `ChargeReport`s to a back end over TCP
//! (length-prefixed frames) or HTTP POST, check every `ChargeReportResponse`, and keep an
//! on-board account that the back end steers with `accountUpdate` (ISO/TS 16407-1 CR and BEF
//! scenarios). Used by unicharge's conformance tests and as a load generator (`unicharge-sim efc`).

pub mod account;
pub mod client;
pub mod front_end;
pub mod load;

pub use account::{AccountKind, OnBoardAccount};
pub use client::{Bearer, Client};
pub use front_end::{FrontEnd, ResponseError};
