//! Diameter peers (RFC 6733 §5): the connection state machine, free of I/O ([`state`]), the
//! duplicate-request cache ([`duplicates`]) and the thin tokio task that drives both over TCP
//! ([`driver`]). The split follows quinn / quinn-proto: everything that decides is testable
//! with plain values and a fake clock; the driver only moves octets and fires timers.

pub mod driver;
pub mod duplicates;
pub mod state;

pub use driver::{
    accept_over, command_label, connect, connect_over, connect_to, serve, Dialer, PeerHandle,
    PeerInfo, PeerTable, RequestError, RequestHandler, Shared, TcpDialer,
};
pub use duplicates::DuplicateCache;
pub use state::{
    wins_election, AllowedPeer, Dialling, Output, Peer, PeerConfig, PeerState, Role, WatchdogState,
};
