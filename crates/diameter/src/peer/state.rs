//! The peer connection state machine (RFC 6733 §5.6) with the RFC 3539 watchdog, free of I/O.
//!
//! The driver feeds it decoded frames ([`Peer::on_frame`]), the passage of time
//! ([`Peer::on_timeout`] at [`Peer::next_timeout`]) and local intents ([`Peer::send_request`],
//! [`Peer::disconnect`]); it answers with [`Output`]s: octets to write, application requests
//! to hand up, answers to deliver, state changes, and when to close the transport.
//!
//! Election (§5.6.4): when two nodes dial each other at once, the responder side of each
//! compares Origin-Hosts ([`wins_election`]). The node tells a responder which hosts it is
//! dialling ([`Peer::with_dialling`]); on a CER from one of them the winner answers and asks
//! the driver to drop its own outgoing connection ([`Output::ElectionWon`]), the loser closes
//! the incoming one without a CEA and keeps its outgoing one.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::avp::{Address, Avp};
use crate::dictionary::{app, cmd, VENDOR_3GPP};
use crate::error::{result_code, AvpError};
use crate::message::Message;

/// RFC 6733 §5.6.4: the local node wins when its Origin-Host, compared with the peer's as
/// octet strings, is the greater.
pub fn wins_election(local_origin_host: &str, peer_origin_host: &str) -> bool {
    local_origin_host.as_bytes() > peer_origin_host.as_bytes()
}

/// Whether this node has a CER outstanding to a host (an initiator connection in Wait-I-CEA).
pub type Dialling = std::sync::Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Who opened the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// We connected and send the CER.
    Initiator,
    /// The peer connected; we wait for its CER.
    Responder,
}

/// Peer state (RFC 6733 §5.6, the states one connection can be in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerState {
    /// Initiator: CER sent, waiting for the CEA.
    WaitCea,
    /// Responder: connection accepted, waiting for the CER.
    WaitCer,
    Open,
    /// DPR sent, waiting for the DPA.
    Closing,
    Closed,
}

/// RFC 3539 §3.4.1 watchdog states (REOPEN is the initiator reconnecting, done by the driver).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchdogState {
    Okay,
    /// A DWR went unanswered for Tw: fail over, keep the connection one more Tw.
    Suspect,
    Down,
}

/// Local identity, capabilities and policy.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    pub origin_host: String,
    pub origin_realm: String,
    pub host_ip_addresses: Vec<IpAddr>,
    pub vendor_id: u32,
    pub product_name: String,
    pub firmware_revision: Option<u32>,
    /// Origin-State-Id: changes when the node restarts (RFC 6733 §8.16).
    pub origin_state_id: u32,
    pub auth_application_ids: Vec<u32>,
    pub acct_application_ids: Vec<u32>,
    /// (vendor, application) advertised in Vendor-Specific-Application-Id as Auth or Acct.
    pub vendor_specific_acct: Vec<(u32, u32)>,
    pub supported_vendor_ids: Vec<u32>,
    /// Peers allowed to connect, by Origin-Host or `*.realm`-less Origin-Realm match; empty
    /// allows every peer. A CER from anyone else gets 3010 and the connection closes.
    pub allowed_peers: Vec<AllowedPeer>,
    /// Tw, the watchdog interval (RFC 3539 recommends 30 s; tests use milliseconds).
    pub watchdog_interval: Duration,
}

/// One allow-list entry: a host, a realm, or both must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedPeer {
    pub origin_host: Option<String>,
    pub origin_realm: Option<String>,
}

impl PeerConfig {
    /// A CDF for Rf: accounting (application 3), 3GPP as supported vendor.
    pub fn cdf(origin_host: &str, origin_realm: &str) -> Self {
        PeerConfig {
            origin_host: origin_host.to_owned(),
            origin_realm: origin_realm.to_owned(),
            host_ip_addresses: vec![IpAddr::from([127, 0, 0, 1])],
            vendor_id: 0,
            product_name: "unicharge".to_owned(),
            firmware_revision: None,
            origin_state_id: 1,
            auth_application_ids: vec![],
            acct_application_ids: vec![app::BASE_ACCOUNTING],
            vendor_specific_acct: vec![],
            supported_vendor_ids: vec![VENDOR_3GPP],
            allowed_peers: vec![],
            watchdog_interval: Duration::from_secs(30),
        }
    }

    fn allows(&self, host: &str, realm: &str) -> bool {
        self.allowed_peers.is_empty()
            || self.allowed_peers.iter().any(|p| {
                p.origin_host
                    .as_deref()
                    .is_none_or(|h| h.eq_ignore_ascii_case(host))
                    && p.origin_realm
                        .as_deref()
                        .is_none_or(|r| r.eq_ignore_ascii_case(realm))
                    && (p.origin_host.is_some() || p.origin_realm.is_some())
            })
    }

    fn local_apps(&self) -> HashSet<u32> {
        self.auth_application_ids
            .iter()
            .chain(&self.acct_application_ids)
            .copied()
            .chain(self.vendor_specific_acct.iter().map(|(_, a)| *a))
            .collect()
    }

    /// The capability AVPs of a CER or CEA (RFC 6733 §5.3.1/§5.3.2).
    fn capability_avps(&self) -> Vec<Avp> {
        let mut avps = vec![
            Avp::identity("Origin-Host", &self.origin_host),
            Avp::identity("Origin-Realm", &self.origin_realm),
        ];
        avps.extend(
            self.host_ip_addresses
                .iter()
                .map(|ip| Avp::address("Host-IP-Address", Address::from(*ip))),
        );
        avps.push(Avp::u32("Vendor-Id", self.vendor_id));
        avps.push(Avp::utf8("Product-Name", &self.product_name));
        avps.push(Avp::u32("Origin-State-Id", self.origin_state_id));
        avps.extend(
            self.supported_vendor_ids
                .iter()
                .map(|v| Avp::u32("Supported-Vendor-Id", *v)),
        );
        avps.extend(
            self.auth_application_ids
                .iter()
                .map(|a| Avp::u32("Auth-Application-Id", *a)),
        );
        avps.extend(
            self.acct_application_ids
                .iter()
                .map(|a| Avp::u32("Acct-Application-Id", *a)),
        );
        avps.extend(self.vendor_specific_acct.iter().map(|(v, a)| {
            Avp::grouped(
                "Vendor-Specific-Application-Id",
                vec![
                    Avp::u32("Vendor-Id", *v),
                    Avp::u32("Acct-Application-Id", *a),
                ],
            )
        }));
        if let Some(fw) = self.firmware_revision {
            avps.push(Avp::u32("Firmware-Revision", fw));
        }
        avps
    }
}

/// What the state machine asks of its driver.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Write these octets.
    Send(Vec<u8>),
    /// An application request (after CER/CEA, decoded and checked) for the upper layer, which
    /// answers through [`Peer::answer`].
    Request(Message),
    /// The answer to a request sent with [`Peer::send_request`], matched by hop-by-hop id.
    Answer(Message),
    /// Capabilities exchanged: the peer's Origin-Host and the common applications.
    Opened {
        origin_host: String,
        applications: Vec<u32>,
    },
    /// RFC 3539: the peer stopped answering DWRs; move traffic to an alternate peer.
    Failover,
    /// Close the transport (after writing what was output before).
    Close(String),
    /// This responder won an election against our own outgoing connection to `origin_host`:
    /// that connection must be dropped (RFC 6733 §5.6.4, I-Disc).
    ElectionWon { origin_host: String },
}

/// One peer connection.
pub struct Peer {
    config: PeerConfig,
    role: Role,
    state: PeerState,
    watchdog: WatchdogState,
    peer_host: Option<String>,
    peer_realm: Option<String>,
    applications: Vec<u32>,
    /// DWR answered plus DWA received: the driver stamps the wall-clock time when it grows.
    watchdog_exchanges: u64,
    next_hop_by_hop: u32,
    next_end_to_end: u32,
    /// Requests we sent, by hop-by-hop id → command code.
    outstanding: HashMap<u32, u32>,
    /// When the watchdog fires next (Tw after the last message received or DWR sent).
    watchdog_at: Instant,
    dwr_pending: bool,
    dialling: Option<Dialling>,
}

impl Peer {
    /// Lets a responder hold an election (§5.6.4) against the node's outgoing connections.
    pub fn with_dialling(mut self, dialling: Dialling) -> Peer {
        self.dialling = Some(dialling);
        self
    }

    pub fn new(config: PeerConfig, role: Role, now: Instant) -> Peer {
        // End-to-End ids: high 12 bits from the clock, low 20 random-ish (RFC 6733 §3).
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as u32)
            .unwrap_or(0);
        Peer {
            watchdog_at: now + config.watchdog_interval,
            config,
            role,
            state: match role {
                Role::Initiator => PeerState::WaitCea,
                Role::Responder => PeerState::WaitCer,
            },
            watchdog: WatchdogState::Okay,
            peer_host: None,
            peer_realm: None,
            applications: vec![],
            watchdog_exchanges: 0,
            next_hop_by_hop: seed.wrapping_mul(2_654_435_761),
            next_end_to_end: (seed << 20) ^ (std::process::id() & 0xfffff),
            outstanding: HashMap::new(),
            dwr_pending: false,
            dialling: None,
        }
    }

    pub fn state(&self) -> PeerState {
        self.state
    }
    pub fn watchdog(&self) -> WatchdogState {
        self.watchdog
    }
    pub fn peer_host(&self) -> Option<&str> {
        self.peer_host.as_deref()
    }
    pub fn config(&self) -> &PeerConfig {
        &self.config
    }
    /// The peer's Origin-Realm from its CER / CEA.
    pub fn peer_realm(&self) -> Option<&str> {
        self.peer_realm.as_deref()
    }
    /// The applications both sides advertised (empty before the capabilities exchange).
    pub fn applications(&self) -> &[u32] {
        &self.applications
    }
    /// How many watchdog exchanges (DWR answered, DWA received) this connection has seen.
    pub fn watchdog_exchanges(&self) -> u64 {
        self.watchdog_exchanges
    }

    /// A fresh end-to-end id for a request originated here.
    pub fn next_end_to_end(&mut self) -> u32 {
        self.next_end_to_end = self.next_end_to_end.wrapping_add(1);
        self.next_end_to_end
    }

    fn next_hbh(&mut self) -> u32 {
        self.next_hop_by_hop = self.next_hop_by_hop.wrapping_add(1);
        self.next_hop_by_hop
    }

    /// Initiator: the CER to send once the transport is up.
    pub fn start(&mut self) -> Vec<Output> {
        if self.role != Role::Initiator {
            return vec![];
        }
        let hbh = self.next_hbh();
        let e2e = self.next_end_to_end();
        let mut cer = Message::request(cmd::CAPABILITIES_EXCHANGE, app::COMMON, hbh, e2e);
        cer.avps = self.config.capability_avps();
        self.outstanding.insert(hbh, cmd::CAPABILITIES_EXCHANGE);
        vec![Output::Send(cer.encode())]
    }

    /// Sends an application request (Open state only): assigns the hop-by-hop id, keeps the
    /// end-to-end id if the caller set one (a retransmission must keep it), remembers it for
    /// answer matching. `Err` when the connection is not open.
    pub fn send_request(&mut self, mut request: Message) -> Result<(u32, Vec<u8>), PeerState> {
        if self.state != PeerState::Open {
            return Err(self.state);
        }
        let hbh = self.next_hbh();
        request.header.hop_by_hop = hbh;
        if request.header.end_to_end == 0 {
            request.header.end_to_end = self.next_end_to_end();
        }
        self.outstanding.insert(hbh, request.header.command_code);
        Ok((hbh, request.encode()))
    }

    /// Forgets an outstanding request (the caller gave up waiting).
    pub fn abandon(&mut self, hop_by_hop: u32) {
        self.outstanding.remove(&hop_by_hop);
    }

    /// Encodes an application answer built by the upper layer.
    pub fn answer(&self, answer: &Message) -> Vec<u8> {
        answer.encode()
    }

    /// Starts an orderly shutdown: DPR with the given Disconnect-Cause (0 REBOOTING,
    /// 1 BUSY, 2 DO_NOT_WANT_TO_TALK_TO_YOU).
    pub fn disconnect(&mut self, cause: i32) -> Vec<Output> {
        if self.state != PeerState::Open {
            self.state = PeerState::Closed;
            return vec![Output::Close("disconnect before open".into())];
        }
        let hbh = self.next_hbh();
        let e2e = self.next_end_to_end();
        let dpr = Message::request(cmd::DISCONNECT_PEER, app::COMMON, hbh, e2e)
            .with(Avp::identity("Origin-Host", &self.config.origin_host))
            .with(Avp::identity("Origin-Realm", &self.config.origin_realm))
            .with(Avp::enumerated("Disconnect-Cause", cause));
        self.outstanding.insert(hbh, cmd::DISCONNECT_PEER);
        self.state = PeerState::Closing;
        vec![Output::Send(dpr.encode())]
    }

    pub fn next_timeout(&self) -> Option<Instant> {
        match self.state {
            PeerState::Closed => None,
            _ => Some(self.watchdog_at),
        }
    }

    /// RFC 3539 §3.4.1 on timer expiry: OKAY without a pending DWR sends one; OKAY with one
    /// pending becomes SUSPECT (fail over); SUSPECT becomes DOWN (close). Before Open, the
    /// timer bounds the capabilities exchange.
    pub fn on_timeout(&mut self, now: Instant) -> Vec<Output> {
        if now < self.watchdog_at || self.state == PeerState::Closed {
            return vec![];
        }
        let tw = self.config.watchdog_interval;
        self.watchdog_at = now + tw;
        match (self.state, self.watchdog) {
            (PeerState::WaitCea | PeerState::WaitCer, _) => {
                self.state = PeerState::Closed;
                vec![Output::Close("no capabilities exchange within Tw".into())]
            }
            (PeerState::Closing, _) => {
                self.state = PeerState::Closed;
                vec![Output::Close("no DPA within Tw".into())]
            }
            (_, WatchdogState::Okay) if !self.dwr_pending => {
                self.dwr_pending = true;
                let hbh = self.next_hbh();
                let e2e = self.next_end_to_end();
                let mut dwr = Message::request(cmd::DEVICE_WATCHDOG, app::COMMON, hbh, e2e)
                    .with(Avp::identity("Origin-Host", &self.config.origin_host))
                    .with(Avp::identity("Origin-Realm", &self.config.origin_realm));
                dwr.push(Avp::u32("Origin-State-Id", self.config.origin_state_id));
                self.outstanding.insert(hbh, cmd::DEVICE_WATCHDOG);
                vec![Output::Send(dwr.encode())]
            }
            (_, WatchdogState::Okay) => {
                self.watchdog = WatchdogState::Suspect;
                vec![Output::Failover]
            }
            (_, WatchdogState::Suspect | WatchdogState::Down) => {
                self.watchdog = WatchdogState::Down;
                self.state = PeerState::Closed;
                vec![Output::Close(
                    "watchdog: peer down (no DWA within 2 Tw)".into(),
                )]
            }
        }
    }

    /// One framed message from the transport.
    pub fn on_frame(&mut self, frame: &[u8], now: Instant) -> Vec<Output> {
        // Any traffic proves the peer alive (RFC 3539 §3.4.1 "receive non-DW message" too).
        self.watchdog_at = now + self.config.watchdog_interval;
        if self.watchdog == WatchdogState::Suspect {
            self.watchdog = WatchdogState::Okay;
        }
        let msg = match Message::decode(frame) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(peer = ?self.peer_host, error = %e, "undecodable message");
                if e.header.flags.request() {
                    let sid = e.session_id.clone();
                    return vec![self.error_answer_bytes(&e.header, sid.as_deref(), &e.error)];
                }
                // A broken answer cannot be answered; its request will time out.
                return vec![];
            }
        };
        if msg.is_request() {
            self.on_request(msg)
        } else {
            self.on_answer(msg)
        }
    }

    fn error_answer_bytes(
        &self,
        header: &crate::header::Header,
        session_id: Option<&str>,
        error: &AvpError,
    ) -> Output {
        Output::Send(
            Message::error_answer(
                header,
                session_id,
                error,
                &self.config.origin_host,
                &self.config.origin_realm,
            )
            .encode(),
        )
    }

    fn base_answer(&self, request: &Message, code: u32) -> Message {
        Message::answer_to(request)
            .with(Avp::u32("Result-Code", code))
            .with(Avp::identity("Origin-Host", &self.config.origin_host))
            .with(Avp::identity("Origin-Realm", &self.config.origin_realm))
    }

    fn on_request(&mut self, req: Message) -> Vec<Output> {
        if let Err(e) = req.check_request() {
            // CER/DWR/DPR share the checks; an unsupported command is 3001.
            return vec![self.error_answer_bytes(&req.header, req.session_id(), &e)];
        }
        match (req.header.command_code, self.state) {
            (cmd::CAPABILITIES_EXCHANGE, PeerState::WaitCer) => self.on_cer(req),
            (cmd::CAPABILITIES_EXCHANGE, _) => {
                // A second CER on an open connection: RFC 6733 §5.6.4 makes it an error.
                let e = AvpError::new(
                    result_code::DIAMETER_UNABLE_TO_COMPLY,
                    None,
                    "CER on an open connection",
                );
                vec![self.error_answer_bytes(&req.header, None, &e)]
            }
            (_, PeerState::WaitCer | PeerState::WaitCea) => {
                self.state = PeerState::Closed;
                vec![Output::Close("request before capabilities exchange".into())]
            }
            (cmd::DEVICE_WATCHDOG, _) => {
                self.watchdog_exchanges += 1;
                let a = self
                    .base_answer(&req, result_code::DIAMETER_SUCCESS)
                    .with(Avp::u32("Origin-State-Id", self.config.origin_state_id));
                vec![Output::Send(a.encode())]
            }
            (cmd::DISCONNECT_PEER, _) => {
                let a = self.base_answer(&req, result_code::DIAMETER_SUCCESS);
                self.state = PeerState::Closed;
                vec![
                    Output::Send(a.encode()),
                    Output::Close(format!(
                        "peer sent DPR (Disconnect-Cause {})",
                        req.i32("Disconnect-Cause").unwrap_or(-1)
                    )),
                ]
            }
            (_, PeerState::Open | PeerState::Closing) => {
                if !self.applications.contains(&req.header.application_id)
                    && !self.applications.contains(&app::RELAY)
                {
                    let e = AvpError::new(
                        result_code::DIAMETER_APPLICATION_UNSUPPORTED,
                        None,
                        "application not negotiated in the capabilities exchange",
                    );
                    return vec![self.error_answer_bytes(&req.header, req.session_id(), &e)];
                }
                vec![Output::Request(req)]
            }
            (_, PeerState::Closed) => vec![],
        }
    }

    /// The applications a CER/CEA advertises.
    fn advertised(m: &Message) -> HashSet<u32> {
        let mut apps: HashSet<u32> = m
            .avps_named("Auth-Application-Id")
            .chain(m.avps_named("Acct-Application-Id"))
            .filter_map(Avp::as_u32)
            .collect();
        for vsai in m.avps_named("Vendor-Specific-Application-Id") {
            for name in ["Auth-Application-Id", "Acct-Application-Id"] {
                if let Some(a) = vsai.child(name).and_then(Avp::as_u32) {
                    apps.insert(a);
                }
            }
        }
        apps
    }

    fn common(&self, theirs: &HashSet<u32>) -> Vec<u32> {
        let ours = self.config.local_apps();
        let mut common: Vec<u32> = if theirs.contains(&app::RELAY) {
            ours.into_iter().collect()
        } else {
            ours.intersection(theirs).copied().collect()
        };
        common.sort_unstable();
        common
    }

    fn on_cer(&mut self, cer: Message) -> Vec<Output> {
        let host = cer.origin_host().unwrap_or_default().to_owned();
        let realm = cer.origin_realm().unwrap_or_default().to_owned();
        if !self.config.allows(&host, &realm) {
            tracing::warn!(peer = %host, realm = %realm, "CER from a peer not in the allow-list: 3010");
            let a = self.base_answer(&cer, result_code::DIAMETER_UNKNOWN_PEER);
            let mut a = a;
            a.header.flags = a.header.flags.with(crate::CommandFlags::ERROR, true);
            self.state = PeerState::Closed;
            return vec![
                Output::Send(a.encode()),
                Output::Close(format!("unknown peer {host}")),
            ];
        }
        let common = self.common(&Self::advertised(&cer));
        if common.is_empty() {
            tracing::warn!(peer = %host, "CER without a common application: 5010");
            let mut a = self.base_answer(&cer, result_code::DIAMETER_NO_COMMON_APPLICATION);
            a.avps.truncate(0);
            a.avps.push(Avp::u32(
                "Result-Code",
                result_code::DIAMETER_NO_COMMON_APPLICATION,
            ));
            a.avps.extend(self.config.capability_avps());
            self.state = PeerState::Closed;
            return vec![
                Output::Send(a.encode()),
                Output::Close(format!("no common application with {host}")),
            ];
        }
        let election = self
            .dialling
            .as_ref()
            .is_some_and(|dialling| dialling(&host));
        let won = election && wins_election(&self.config.origin_host, &host);
        if election && !won {
            tracing::info!(peer = %host, "election lost: keeping our own connection to the peer");
            self.state = PeerState::Closed;
            return vec![Output::Close(format!(
                "election lost to {host} (our outgoing connection is kept)"
            ))];
        }
        let mut a =
            Message::answer_to(&cer).with(Avp::u32("Result-Code", result_code::DIAMETER_SUCCESS));
        a.avps.extend(self.config.capability_avps());
        self.state = PeerState::Open;
        self.peer_host = Some(host.clone());
        self.peer_realm = cer.origin_realm().map(str::to_owned);
        self.applications = common.clone();
        let mut out = vec![
            Output::Send(a.encode()),
            Output::Opened {
                origin_host: host.clone(),
                applications: common,
            },
        ];
        if won {
            tracing::info!(peer = %host, "election won: dropping our own connection to the peer");
            out.push(Output::ElectionWon { origin_host: host });
        }
        out
    }

    fn on_answer(&mut self, ans: Message) -> Vec<Output> {
        let Some(command) = self.outstanding.remove(&ans.header.hop_by_hop) else {
            tracing::debug!(peer = ?self.peer_host, hop_by_hop = ans.header.hop_by_hop,
                "answer to no outstanding request: discarded (RFC 6733 §6.2.1)");
            return vec![];
        };
        if command != ans.header.command_code {
            tracing::debug!(peer = ?self.peer_host, "answer's command does not match its request: discarded");
            return vec![];
        }
        match command {
            cmd::CAPABILITIES_EXCHANGE => {
                let code = ans.result_code().unwrap_or(0);
                if code != result_code::DIAMETER_SUCCESS {
                    self.state = PeerState::Closed;
                    return vec![Output::Close(format!("CEA with Result-Code {code}"))];
                }
                let common = self.common(&Self::advertised(&ans));
                if common.is_empty() {
                    self.state = PeerState::Closed;
                    return vec![Output::Close("CEA without a common application".into())];
                }
                let host = ans.origin_host().unwrap_or_default().to_owned();
                self.state = PeerState::Open;
                self.peer_host = Some(host.clone());
                self.peer_realm = ans.origin_realm().map(str::to_owned);
                self.applications = common.clone();
                vec![Output::Opened {
                    origin_host: host,
                    applications: common,
                }]
            }
            cmd::DEVICE_WATCHDOG => {
                self.watchdog_exchanges += 1;
                self.dwr_pending = false;
                self.watchdog = WatchdogState::Okay;
                vec![]
            }
            cmd::DISCONNECT_PEER => {
                self.state = PeerState::Closed;
                vec![Output::Close("DPA received".into())]
            }
            _ => vec![Output::Answer(ans)],
        }
    }
}
