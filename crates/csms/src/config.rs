//! CSMS settings. Every duration is configurable so tests never sleep for real.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What to do with a station that connects but is not registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownStationPolicy {
    /// The default. Let it in (it must still present a credential of the right form: a Basic
    /// username equal to its id, or a verified client certificate), store nothing about it,
    /// answer its BootNotification Rejected, refuse anything else with SecurityError and close
    /// the connection after the Rejected answer. The station learns why it is not served, and the
    /// operator sees the attempt in the log (model, vendor, serial).
    #[default]
    Reject,
    /// Refuse the WebSocket upgrade with HTTP 404, as OCPP-J Part 4 recommends for unknown ids.
    Refuse,
    /// Register it on first contact (trusting the credentials it presents) and answer its
    /// boots Pending until an operator accepts it.
    Pending,
    /// Register it on first contact and accept it at once (test benches, closed networks).
    Accept,
}

/// E14: what the CSMS asks a station that reconnects while the store holds transactions of it
/// that have not ended (the station may have queued events while it was offline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransactionStatusCheck {
    /// One GetTransactionStatusRequest per ongoing transaction, with its transactionId: learns
    /// per transaction whether it is still ongoing and whether messages are queued.
    #[default]
    PerTransaction,
    /// One GetTransactionStatusRequest without transactionId: only whether anything is queued.
    Station,
    /// Ask nothing.
    Off,
}

/// I02: how the driver learns the running cost while a transaction is ongoing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunningCost {
    /// `totalCost` in every TransactionEventResponse of a priced transaction.
    #[default]
    InResponse,
    /// A CostUpdatedRequest after each periodic / clock-aligned meter update (the responses
    /// carry no `totalCost` until the Ended one).
    CostUpdated,
    /// Only the final cost, in the answer to the Ended event (I03).
    Off,
}

/// TLS material for the wss listener. Paths to PEM files.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// Server certificate chains with their keys: typically one RSA and one ECDSA.
    pub server_certs: Vec<ServerCertConfig>,
    /// CA that issues station client certificates (security profile 3).
    pub client_ca: Option<PathBuf>,
}

/// One server certificate chain and its private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerCertConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Settings of the OCPP front door.
#[derive(Debug, Clone)]
pub struct CsmsConfig {
    /// Plain WebSocket listener (security profile 1). `None` disables it.
    pub ws_listen: Option<SocketAddr>,
    /// TLS WebSocket listener (security profiles 2 and 3). `None` disables it.
    pub wss_listen: Option<SocketAddr>,
    /// TLS material; required when `wss_listen` is set.
    pub tls: TlsConfig,
    /// URL path prefix before the station id: `/ocpp` serves `/ocpp/{stationId}`.
    pub path_prefix: String,
    /// `interval` answered to an Accepted BootNotification (heartbeat period).
    pub heartbeat_interval: Duration,
    /// `interval` answered to a Pending or Rejected BootNotification (retry period).
    pub boot_retry_interval: Duration,
    /// Period of the CSMS's WebSocket pings; a connection silent for two periods is dropped.
    pub ping_interval: Duration,
    /// How long a CSMS-initiated CALL waits for its answer (and, before that, at most as long
    /// in the station's queue behind other calls).
    pub call_timeout: Duration,
    /// How many CSMS-initiated calls may wait for one station; more are refused at once.
    pub max_queued_calls: usize,
    /// How long the answers kept for retransmission detection are kept. A station retransmits
    /// within minutes (its own message timeout); a day covers long offline queues too.
    pub answer_retention: Duration,
    /// How often answers older than `answer_retention` are pruned.
    pub answer_prune_interval: Duration,
    /// How long a client has to finish the TLS and HTTP upgrade handshakes.
    pub handshake_timeout: Duration,
    pub unknown_stations: UnknownStationPolicy,
    /// Largest WebSocket message accepted from a station.
    pub max_message_size: usize,
    /// CA that signs station certificates (SignCertificate, A02/A03): PEM certificate and key.
    /// `None`: SignCertificate requests are Rejected.
    pub certificate_authority: Option<(PathBuf, PathBuf)>,
    /// Validity of the station certificates it issues, in days.
    pub station_certificate_days: u32,
    /// B02 provisioning: the base report (`FullInventory`, `ConfigurationInventory`,
    /// `SummaryInventory`) a registered station must deliver at its first boot before it is
    /// Accepted. Until then its boots are answered Pending. `None`: accept at once.
    pub boot_provisioning_report: Option<String>,
    /// E14: GetTransactionStatus on reconnection.
    pub transaction_status_check: TransactionStatusCheck,
    /// K08: the supply voltage (phase to neutral, V) that converts limits between A and W
    /// (W = A × V × phases) in composite schedules and ISO 15118 charging plans.
    pub supply_voltage: f64,
    /// How long after a (re)connection to ask (lets a rebooting station send its
    /// BootNotification first).
    pub transaction_status_delay: Duration,
    /// I02: running cost delivery.
    pub running_cost: RunningCost,
    /// C01: `cacheExpiryDateTime` given with an Accepted idTokenInfo, this long from now.
    /// `None`: none given (the station's own AuthCacheLifeTime applies).
    pub auth_cache_lifetime: Option<Duration>,
    /// Unknown stations held open at once under the `reject` policy (waiting to be answered
    /// Rejected); beyond this the upgrade is answered HTTP 503.
    pub max_unregistered_connections: usize,
    /// Station connections (ws and wss together, including ones still in their handshakes) held
    /// at once; beyond this a new upgrade is answered HTTP 503 with Retry-After, so running out
    /// of file descriptors never stops the server. 0: the process's open-file limit minus a
    /// reserve of 256 for the database, listeners and the operator API.
    pub max_connections: usize,
    /// An unknown station that has not sent its BootNotification this long after the upgrade
    /// is disconnected.
    pub unregistered_boot_timeout: Duration,
    /// Wrong Basic-auth passwords for one station within `auth_failure_window` before further
    /// attempts are refused for `auth_lockout` without being checked.
    pub auth_failures_per_station: u32,
    /// The same, counted per source address (over all station ids it tries).
    pub auth_failures_per_address: u32,
    pub auth_failure_window: Duration,
    /// First lockout; each further one doubles, up to `auth_lockout_max`.
    pub auth_lockout: Duration,
    pub auth_lockout_max: Duration,
    /// Password hashes (Argon2) queued or running at once; a connection that would exceed it is
    /// answered HTTP 503, so a guessing burst cannot delay every honest reconnect.
    pub password_hash_queue: usize,
    /// How long a verified Basic credential is remembered (as a keyed digest, never the
    /// password) so that a reconnect skips Argon2. Zero disables the cache.
    pub credential_cache_ttl: Duration,
    /// L01 secure firmware update: the firmware-signing certificate (PEM) sent as
    /// `firmware.signingCertificate` with every UpdateFirmware, and its private key (PEM), with
    /// which unicharge signs the firmware files it serves itself. `None`: updates are sent
    /// without a signing certificate (the station then checks nothing but its own rules).
    pub firmware_signing: Option<(PathBuf, Option<PathBuf>)>,
    /// Where the files unicharge serves (firmware) are kept. `None`: none are served.
    pub files_dir: Option<PathBuf>,
    /// A02/A03 V2GCertificate: the V2G sub-CA chain (PEM, the signing sub-CA first) and its
    /// key (PEM, mode 0600) that sign SECC certificates. `None`: such requests are Rejected.
    pub v2g_sub_ca: Option<(PathBuf, PathBuf)>,
    /// Validity of the SECC certificates the V2G sub-CA issues, in days.
    pub v2g_certificate_days: u32,
    /// M01/M02: where Get15118EVCertificate is forwarded. `None`: answered Failed.
    pub contract_service:
        Option<crate::certificate_management::ev_certificate::ContractServiceConfig>,
    /// N01 log uploads to unicharge itself: the largest file a station may upload (beyond it:
    /// HTTP 413) and how long the upload URL a GetLog carries stays valid.
    pub log_upload_max_bytes: u64,
    pub log_upload_validity: Duration,
    /// L01 rollout campaigns: how often running campaigns are looked at even when no station
    /// reported anything (timeouts, stations coming back online).
    pub campaign_tick: Duration,
}

impl Default for CsmsConfig {
    fn default() -> Self {
        CsmsConfig {
            ws_listen: Some(([0, 0, 0, 0], 8180).into()),
            wss_listen: Some(([0, 0, 0, 0], 8443).into()),
            tls: TlsConfig::default(),
            path_prefix: "/ocpp".into(),
            heartbeat_interval: Duration::from_secs(300),
            boot_retry_interval: Duration::from_secs(30),
            ping_interval: Duration::from_secs(30),
            call_timeout: Duration::from_secs(30),
            max_queued_calls: 32,
            answer_retention: Duration::from_secs(24 * 3600),
            answer_prune_interval: Duration::from_secs(3600),
            handshake_timeout: Duration::from_secs(10),
            unknown_stations: UnknownStationPolicy::Reject,
            max_message_size: 4 << 20,
            certificate_authority: None,
            station_certificate_days: 365,
            boot_provisioning_report: None,
            transaction_status_check: TransactionStatusCheck::PerTransaction,
            supply_voltage: 230.0,
            transaction_status_delay: Duration::from_secs(5),
            running_cost: RunningCost::InResponse,
            auth_cache_lifetime: None,
            max_unregistered_connections: 1_000,
            max_connections: 0,
            unregistered_boot_timeout: Duration::from_secs(30),
            auth_failures_per_station: 5,
            auth_failures_per_address: 20,
            auth_failure_window: Duration::from_secs(60),
            auth_lockout: Duration::from_secs(60),
            auth_lockout_max: Duration::from_secs(3600),
            password_hash_queue: 32,
            credential_cache_ttl: Duration::from_secs(600),
            firmware_signing: None,
            files_dir: None,
            v2g_sub_ca: None,
            v2g_certificate_days: crate::certificate_management::v2g_ca::DEFAULT_SECC_DAYS,
            contract_service: None,
            log_upload_max_bytes: 64 << 20,
            log_upload_validity: Duration::from_secs(24 * 3600),
            campaign_tick: Duration::from_secs(10),
        }
    }
}
