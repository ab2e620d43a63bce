//! The configuration file (TOML). Every key has a default, so no file is needed to start.
//!
//! ```toml
//! data_dir = "./data"            # database, generated TLS material
//! bootstrap = "stations.toml"    # optional: stations to provision at start
//!
//! [csms]
//! ws_listen = "0.0.0.0:8180"     # security profile 1 ("" disables)
//! wss_listen = "0.0.0.0:8443"    # security profiles 2 and 3 ("" disables)
//! heartbeat_interval = "5m"
//! ping_interval = "30s"
//! supply_voltage = 230          # V phase to neutral: A <-> W in charging limits
//! unknown_stations = "reject"    # boot Rejected; "refuse" (HTTP 404), "pending" / "accept" (auto-registration)
//! server_names = ["localhost"]   # names in generated server certificates
//!
//! [csms.tls]                     # omit to generate a local CA and server certificates
//! server_certs = [{ cert = "rsa.pem", key = "rsa.key" }, { cert = "ec.pem", key = "ec.key" }]
//! client_ca = "stations-ca.pem"
//!
//! [store]
//! durability = "full"            # or "normal"
//!
//! [http]
//! listen = "0.0.0.0:8080"        # /metrics and /health ("" disables)
//!
//! [efc]                          # ISO 17575-1 road-usage charging back end
//! tcp_listen = "0.0.0.0:17575"   # 4-octet length + frame ("" disables)
//! http_listen = "0.0.0.0:17576"  # POST /efc/adu, application/octet-stream ("" disables)
//! time_tolerance_secs = 900      # timeOfReport vs local time
//! status_when_low = 0            # obeStatusForDriver per accountStatus (0 ok, 1 nok, 2 contactOperator)
//! [diameter]                     # Rf offline charging: the CDF
//! listen = "0.0.0.0:3868"        # Diameter over TCP ("" disables)
//! origin_host = "cdf.unicharge.localdomain"
//! origin_realm = "unicharge.localdomain"
//! acct_interim_interval = 300    # seconds, sent in ACA to START/INTERIM (0: none)
//! supervision = ""               # silence before ASR; "" = 2 x acct_interim_interval
//! watchdog_interval = "30s"      # Tw of RFC 3539
//! allowed_peers = []             # Origin-Host names, or "@realm"; empty admits every peer
//!
//! [cluster]                      # several nodes behind a load balancer (docs/scaling.md)
//! nats_url = "nats://127.0.0.1:4222"  # unset: a single node, no NATS
//! node_id = "node-1"             # default: <hostname>-<pid>
//! presence_ttl = "30s"           # a dead node's stations are unreachable after this at most
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use unicharge_csms::config::{RunningCost, TransactionStatusCheck};
use unicharge_csms::{CsmsConfig, TlsConfig, UnknownStationPolicy};
use unicharge_store::sqlite::Durability;

/// Everything `unicharge serve` reads from its configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where the database and generated TLS material live.
    pub data_dir: PathBuf,
    /// A bootstrap file of stations to provision at start (see `bootstrap.rs`).
    pub bootstrap: Option<PathBuf>,
    pub csms: CsmsSettings,
    pub store: StoreSettings,
    pub http: HttpSettings,
    /// ISO 17575-1 road-usage charging back end (TCP and HTTP listeners, checks, policy).
    pub efc: unicharge_efc_backend::EfcSettings,
    pub diameter: DiameterSettings,
    /// C07 Plug & Charge: what contract certificates are checked against.
    pub plug_and_charge: PlugAndChargeSettings,
    /// `serve --demo`: simulated stations in-process, marked as demo data in the UI. Only from
    /// the command line, never from a file.
    #[serde(skip)]
    pub demo: bool,
    /// OCPI 2.2.1 / 2.3.0 roaming, served under `/ocpi` on the HTTP listener.
    pub ocpi: unicharge_ocpi_server::OcpiSettings,
    /// Several nodes routed over NATS (ADR 0048); unset `nats_url`: a single node.
    pub cluster: crate::cluster::ClusterSettings,
}

/// C07 Plug & Charge. Without `roots`, every Authorize carrying a contract certificate is
/// refused (CertChainError, idToken Invalid): a contract is never accepted unchecked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlugAndChargeSettings {
    /// PEM files of the V2G and MO root certificates contract chains must lead to.
    pub roots: Vec<PathBuf>,
    /// PEM files of known sub-CAs (to check OCSP answers for `iso15118CertificateHashData`).
    pub intermediates: Vec<PathBuf>,
    /// Ask this OCSP responder (`http://…`) instead of the one a certificate or station names.
    pub ocsp_responder: Option<String>,
    /// How long an OCSP answer may take ("5s").
    #[serde(with = "duration")]
    pub ocsp_timeout: Duration,
    /// A02/A03 SignCertificate V2GCertificate: PEM chain of the V2G sub-CA that signs SECC
    /// certificates (that sub-CA first, then the sub-CAs above it; not the root). With
    /// `v2g_sub_ca_key`. Unset: such requests are Rejected. A test PKI:
    /// `unicharge pki v2g-test-ca --out DIR`.
    pub v2g_sub_ca_chain: Option<PathBuf>,
    /// PEM private key of that sub-CA; must be mode 0600.
    pub v2g_sub_ca_key: Option<PathBuf>,
    /// Validity of the SECC certificates issued, in days (ISO 15118-2 keeps them short).
    pub v2g_certificate_days: u32,
    /// M01/M02 Get15118EVCertificate: `http://…` of the contract-certificate service (the JSON
    /// interface documented in `docs/plug-and-charge.md`). Unset: answered Failed.
    pub contract_service_url: Option<String>,
    /// How long that service may take ("4s"; the EV gives up after 5 s).
    #[serde(with = "duration")]
    pub contract_service_timeout: Duration,
}

impl Default for PlugAndChargeSettings {
    fn default() -> Self {
        PlugAndChargeSettings {
            roots: Vec::new(),
            intermediates: Vec::new(),
            ocsp_responder: None,
            ocsp_timeout: Duration::from_secs(5),
            v2g_sub_ca_chain: None,
            v2g_sub_ca_key: None,
            v2g_certificate_days: unicharge_csms::certificate_management::v2g_ca::DEFAULT_SECC_DAYS,
            contract_service_url: None,
            contract_service_timeout: Duration::from_secs(4),
        }
    }
}

/// The `[diameter]` section: the Rf CDF (issue 13).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiameterSettings {
    /// TCP listen address; the IANA port for Diameter is 3868.
    #[serde(with = "optional_addr")]
    pub listen: Option<SocketAddr>,
    pub origin_host: String,
    pub origin_realm: String,
    /// Acct-Interim-Interval (seconds) in the ACA to START and INTERIM; 0 sends none.
    pub acct_interim_interval: u32,
    /// How long an open accounting session may stay silent before the CDF sends an ASR and
    /// closes it; empty = twice the interim interval (one hour without one).
    #[serde(with = "optional_duration")]
    pub supervision: Option<Duration>,
    /// How often sessions are checked against their supervision time.
    #[serde(with = "duration")]
    pub supervision_check: Duration,
    /// Tw, the RFC 3539 watchdog interval.
    #[serde(with = "duration")]
    pub watchdog_interval: Duration,
    /// How long to wait for an answer to a request the CDF sends (ASR).
    #[serde(with = "duration")]
    pub request_timeout: Duration,
    /// Peers admitted by their CER: an Origin-Host, or "@realm" for a whole Origin-Realm.
    /// Empty admits every peer; others get 3010 DIAMETER_UNKNOWN_PEER.
    pub allowed_peers: Vec<String>,
    /// Diameter over TLS (RFC 6733 §2.1, TLS 1.2 or 1.3 from the first octet; IANA port
    /// 5658); empty = off.
    #[serde(with = "optional_addr")]
    pub tls_listen: Option<SocketAddr>,
    /// Server certificate chain (PEM) for TLS, with `tls_key`; empty = the `[csms.tls]`
    /// certificates (generated under `<data_dir>/tls` when none are configured).
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// CA (PEM) that peers' client certificates must chain to; empty = `[csms.tls] client_ca`
    /// or the local CA generated under `<data_dir>/tls`.
    pub tls_client_ca: Option<PathBuf>,
    /// Mutual TLS: refuse peers without a client certificate. Off: a certificate is verified
    /// when presented, and the allow-list decides by Origin-Host.
    pub tls_require_client_certificate: bool,
    /// `[diameter.ro]`: Ro online charging (the OCF, Credit-Control application 4).
    pub ro: RoSettings,
}

/// `[diameter.ro]`: the Online Charging Function answering CCRs from the ledger (issue 14).
/// Names of enumerated values are the AVP value names of RFC 8506 / TS 32.299.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoSettings {
    /// Answer CCRs and advertise application 4 in CER/CEA.
    pub enabled: bool,
    /// Tcc, the session supervision time (RFC 8506 §13): a session with no CCR for this long
    /// is ended and its reservations released.
    #[serde(with = "duration")]
    pub tcc: Duration,
    /// How often sessions are checked against Tcc.
    #[serde(with = "duration")]
    pub tcc_check: Duration,
    /// Validity-Time of each grant (seconds); 0 sends none.
    pub validity_time: u32,
    /// Quota-Holding-Time (idle timeout of a grant, seconds); 0 sends none.
    pub quota_holding_time: u32,
    /// Quota-Consumption-Time (seconds) for time grants; 0 sends none.
    pub quota_consumption_time: u32,
    /// Time-/Volume-/Unit-Quota-Threshold sent with grants of that kind; 0 sends none.
    pub time_quota_threshold: u32,
    pub volume_quota_threshold: u32,
    pub unit_quota_threshold: u32,
    /// Credit-Control-Failure-Handling in every CCA: TERMINATE, CONTINUE, RETRY_AND_TERMINATE;
    /// empty sends none.
    pub credit_control_failure_handling: String,
    /// Direct-Debiting-Failure-Handling in direct-debiting CCAs: TERMINATE_OR_BUFFER,
    /// CONTINUE; empty sends none.
    pub direct_debiting_failure_handling: String,
    /// CC-Session-Failover in every CCA: FAILOVER_NOT_SUPPORTED, FAILOVER_SUPPORTED; empty
    /// sends none.
    pub cc_session_failover: String,
    /// Final-Unit-Action when credit runs out: TERMINATE, REDIRECT, RESTRICT_ACCESS.
    pub final_unit_action: String,
    /// Redirect-Server-Address for REDIRECT (a URL).
    pub redirect_server_address: String,
    /// Restriction-Filter-Rule (IPFilterRule) for RESTRICT_ACCESS.
    pub restriction_filter_rules: Vec<String>,
    /// The rating group granted for a CCR-Initial without Multiple-Services-Credit-Control.
    pub default_rating_group: Option<u32>,
    /// Grants carry G-S-U-Pool-Reference: the rating groups of a session draw on one pool
    /// (the subscriber's account), each with its price as multiplier (RFC 8506 §5.1.2).
    pub credit_pooling: bool,
    /// Envelope-Reporting in grants: DO_NOT_REPORT_ENVELOPES, REPORT_ENVELOPES,
    /// REPORT_ENVELOPES_WITH_VOLUME, REPORT_ENVELOPES_WITH_EVENTS,
    /// REPORT_ENVELOPES_WITH_VOLUME_AND_EVENTS; empty sends none.
    pub envelope_reporting: String,
    /// Time-Quota-Mechanism in time grants: DISCRETE_TIME_PERIOD or CONTINUOUS_TIME_PERIOD
    /// with `base_time_interval` seconds; empty sends none.
    pub time_quota_type: String,
    pub base_time_interval: u32,
    /// Trigger-Type values (TS 32.299 §7.2.236, e.g. 2 CHANGE_IN_QOS, 3 CHANGE_IN_LOCATION)
    /// armed in every grant.
    pub triggers: Vec<i32>,
    /// CCA-Update resets the triggers armed at INITIAL: an empty Trigger (TS 32.299
    /// §7.2.235) instead of the Trigger-Types above.
    pub reset_triggers_on_update: bool,
    /// Control offline charging from the OCF (TS 32.299 §6.5.8): CCA-Initial carries
    /// Service-Information{PS-Information{Offline-Charging}} with the Quota-Consumption-Time,
    /// Time-Quota-Mechanism and Envelope-Reporting configured above.
    pub offline_charging: bool,
    /// CCRs being worked on at once before new ones are answered 3004 DIAMETER_TOO_BUSY
    /// (RFC 6733 §7.1.3: the CTF tries another OCF or later) instead of queueing until the
    /// CTF's own timeout; 0 never sheds.
    pub max_pending_ccrs: usize,
}

impl Default for RoSettings {
    fn default() -> Self {
        RoSettings {
            enabled: true,
            tcc: Duration::from_secs(600),
            tcc_check: Duration::from_secs(1),
            validity_time: 1800,
            quota_holding_time: 0,
            quota_consumption_time: 0,
            time_quota_threshold: 0,
            volume_quota_threshold: 0,
            unit_quota_threshold: 0,
            credit_control_failure_handling: String::new(),
            direct_debiting_failure_handling: String::new(),
            cc_session_failover: String::new(),
            final_unit_action: "TERMINATE".into(),
            redirect_server_address: String::new(),
            restriction_filter_rules: vec![],
            default_rating_group: None,
            credit_pooling: false,
            envelope_reporting: String::new(),
            time_quota_type: String::new(),
            base_time_interval: 0,
            triggers: vec![],
            reset_triggers_on_update: false,
            offline_charging: false,
            max_pending_ccrs: 4096,
        }
    }
}

impl Default for DiameterSettings {
    fn default() -> Self {
        DiameterSettings {
            listen: Some(([0, 0, 0, 0], 3868).into()),
            origin_host: "cdf.unicharge.localdomain".into(),
            origin_realm: "unicharge.localdomain".into(),
            acct_interim_interval: 300,
            supervision: None,
            supervision_check: Duration::from_secs(1),
            watchdog_interval: Duration::from_secs(30),
            request_timeout: Duration::from_secs(10),
            allowed_peers: vec![],
            tls_listen: None,
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
            tls_require_client_certificate: false,
            ro: RoSettings::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CsmsSettings {
    #[serde(with = "optional_addr")]
    pub ws_listen: Option<SocketAddr>,
    #[serde(with = "optional_addr")]
    pub wss_listen: Option<SocketAddr>,
    pub path_prefix: String,
    #[serde(with = "duration")]
    pub heartbeat_interval: Duration,
    #[serde(with = "duration")]
    pub boot_retry_interval: Duration,
    #[serde(with = "duration")]
    pub ping_interval: Duration,
    #[serde(with = "duration")]
    pub call_timeout: Duration,
    /// How many CSMS calls may wait for one station; more are refused at once (HTTP 503).
    pub max_queued_calls: usize,
    /// How long the answers kept to recognise retransmissions are kept ("24h").
    #[serde(with = "duration")]
    pub answer_retention: Duration,
    #[serde(with = "duration")]
    pub handshake_timeout: Duration,
    pub unknown_stations: UnknownStationPolicy,
    /// Host names and addresses written into generated server certificates.
    pub server_names: Vec<String>,
    /// TLS material; when no server certificate is given, a local CA and server certificates are
    /// generated under `<data_dir>/tls` on first start.
    pub tls: TlsConfig,
    /// CA certificate and key (PEM) that sign station certificates (SignCertificate). Default:
    /// the local CA generated under `<data_dir>/tls`, when TLS material is generated.
    pub ca_cert: Option<PathBuf>,
    pub ca_key: Option<PathBuf>,
    /// L01 secure firmware update: the firmware-signing certificate (PEM) sent with every
    /// UpdateFirmware as `signingCertificate`, and its key (PEM) that signs the firmware files
    /// unicharge serves. Unset: updates carry no signing certificate.
    pub firmware_signing_cert: Option<PathBuf>,
    pub firmware_signing_key: Option<PathBuf>,
    /// The URL stations reach the HTTP listener under, for the files unicharge serves
    /// (`http://cs.example:8080`). Default: the listener's own address.
    pub files_public_url: Option<String>,
    /// N01: the largest log file a station may upload to unicharge (bytes; beyond it HTTP 413).
    pub log_upload_max_bytes: u64,
    /// N01: how long the upload URL a GetLog carries stays valid ("24h").
    #[serde(with = "duration")]
    pub log_upload_validity: Duration,
    /// L01 rollout campaigns: how often they are looked at when no station reports ("10s").
    #[serde(with = "duration")]
    pub campaign_tick: Duration,
    /// Validity of issued station certificates, in days.
    pub station_certificate_days: u32,
    /// B02: a base report (`FullInventory`, `ConfigurationInventory`, `SummaryInventory`) a
    /// station must deliver at its first boot before it is Accepted (answered Pending until then).
    pub boot_provisioning_report: Option<String>,
    /// E14: on reconnection of a station with ongoing transactions, send GetTransactionStatus
    /// `per-transaction` (default), once for the `station`, or `off`.
    pub transaction_status_check: TransactionStatusCheck,
    /// Supply voltage, phase to neutral (V), for converting charging limits between A and W
    /// (default 230; 120 or 277 for North American supplies).
    pub supply_voltage: f64,
    /// Delay before that check (lets a rebooting station send BootNotification first; the
    /// check runs only for a station that is Accepted then).
    #[serde(with = "duration")]
    pub transaction_status_delay: Duration,
    /// I02: running cost `in-response` (totalCost in every TransactionEventResponse, default),
    /// `cost-updated` (CostUpdatedRequest after meter updates) or `off` (final cost only).
    pub running_cost: RunningCost,
    /// C01: `cacheExpiryDateTime` given with Accepted tokens, this long from now ("24h").
    /// Unset: the station's own AuthCacheLifeTime applies.
    #[serde(with = "optional_duration")]
    pub auth_cache_lifetime: Option<Duration>,
    /// Unknown stations held open at once under `unknown_stations = "reject"` (then HTTP 503).
    pub max_unregistered_connections: usize,
    /// Station connections held at once (ws + wss); beyond it new upgrades get HTTP 503.
    /// 0: the open-file limit (raised to its hard maximum at start) minus 256.
    pub max_connections: usize,
    /// An unknown station that has not booted this long after connecting is disconnected.
    #[serde(with = "duration")]
    pub unregistered_boot_timeout: Duration,
    /// Wrong passwords per station / per source address within `auth_failure_window` before
    /// further attempts are refused unchecked for `auth_lockout` (doubling up to
    /// `auth_lockout_max`).
    pub auth_failures_per_station: u32,
    pub auth_failures_per_address: u32,
    #[serde(with = "duration")]
    pub auth_failure_window: Duration,
    #[serde(with = "duration")]
    pub auth_lockout: Duration,
    #[serde(with = "duration")]
    pub auth_lockout_max: Duration,
    /// Password hashes queued or running at once (beyond: HTTP 503 to the upgrade).
    pub password_hash_queue: usize,
    /// How long a verified credential spares a reconnect the Argon2 check ("0s" disables).
    #[serde(with = "duration")]
    pub credential_cache_ttl: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// SQLite only: when a commit is flushed to disk (`Full`: every commit; `Normal`: at
    /// checkpoints).
    pub durability: Durability,
    /// Unset (the default): one SQLite file in `data_dir`, for a single node. A
    /// `postgres://user:password@host:port/database` URL: the PostgreSQL store, which several
    /// nodes share (issue 17; docs/scaling.md). The URL holds a password: keep this file
    /// private (0600). `UNICHARGE_DATABASE_URL` in the environment overrides it.
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    #[serde(with = "optional_addr")]
    pub listen: Option<SocketAddr>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: PathBuf::from("./data"),
            bootstrap: None,
            csms: CsmsSettings::default(),
            store: StoreSettings::default(),
            http: HttpSettings::default(),
            efc: unicharge_efc_backend::EfcSettings::default(),
            diameter: DiameterSettings::default(),
            plug_and_charge: PlugAndChargeSettings::default(),
            demo: false,
            ocpi: unicharge_ocpi_server::OcpiSettings::default(),
            cluster: crate::cluster::ClusterSettings::default(),
        }
    }
}

impl Default for CsmsSettings {
    fn default() -> Self {
        let d = CsmsConfig::default();
        CsmsSettings {
            ws_listen: d.ws_listen,
            wss_listen: d.wss_listen,
            path_prefix: d.path_prefix,
            heartbeat_interval: d.heartbeat_interval,
            boot_retry_interval: d.boot_retry_interval,
            ping_interval: d.ping_interval,
            call_timeout: d.call_timeout,
            max_queued_calls: d.max_queued_calls,
            answer_retention: d.answer_retention,
            handshake_timeout: d.handshake_timeout,
            unknown_stations: d.unknown_stations,
            server_names: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            tls: TlsConfig::default(),
            ca_cert: None,
            ca_key: None,
            firmware_signing_cert: None,
            firmware_signing_key: None,
            files_public_url: None,
            log_upload_max_bytes: d.log_upload_max_bytes,
            log_upload_validity: d.log_upload_validity,
            campaign_tick: d.campaign_tick,
            station_certificate_days: d.station_certificate_days,
            boot_provisioning_report: None,
            transaction_status_check: d.transaction_status_check,
            supply_voltage: d.supply_voltage,
            transaction_status_delay: d.transaction_status_delay,
            running_cost: d.running_cost,
            auth_cache_lifetime: d.auth_cache_lifetime,
            max_unregistered_connections: d.max_unregistered_connections,
            max_connections: d.max_connections,
            unregistered_boot_timeout: d.unregistered_boot_timeout,
            auth_failures_per_station: d.auth_failures_per_station,
            auth_failures_per_address: d.auth_failures_per_address,
            auth_failure_window: d.auth_failure_window,
            auth_lockout: d.auth_lockout,
            auth_lockout_max: d.auth_lockout_max,
            password_hash_queue: d.password_hash_queue,
            credential_cache_ttl: d.credential_cache_ttl,
        }
    }
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            durability: Durability::Full,
            url: None,
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            listen: Some(([0, 0, 0, 0], 8080).into()),
        }
    }
}

impl Settings {
    /// Read a configuration file; relative paths in it are taken from the file's folder.
    pub fn load(path: &Path) -> anyhow::Result<Settings> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the configuration file {}: {e} (run `unicharge config show` for a complete example)",
                path.display()
            )
        })?;
        let mut settings: Settings = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("configuration file {}: {e}", path.display()))?;
        if let Some(base) = path.parent() {
            settings.resolve_relative_to(base);
        }
        Ok(settings)
    }

    fn resolve_relative_to(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        fix(&mut self.data_dir);
        if let Some(b) = self.bootstrap.as_mut() {
            fix(b);
        }
        for p in [
            &mut self.diameter.tls_cert,
            &mut self.diameter.tls_key,
            &mut self.diameter.tls_client_ca,
        ]
        .into_iter()
        .flatten()
        {
            fix(p);
        }
        for c in &mut self.csms.tls.server_certs {
            fix(&mut c.cert);
            fix(&mut c.key);
        }
        if let Some(ca) = self.csms.tls.client_ca.as_mut() {
            fix(ca);
        }
        for p in [
            self.csms.firmware_signing_cert.as_mut(),
            self.csms.firmware_signing_key.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            fix(p);
        }
        for p in [self.csms.ca_cert.as_mut(), self.csms.ca_key.as_mut()]
            .into_iter()
            .flatten()
        {
            fix(p);
        }
        for p in self
            .plug_and_charge
            .roots
            .iter_mut()
            .chain(self.plug_and_charge.intermediates.iter_mut())
        {
            fix(p);
        }
        for p in [
            self.plug_and_charge.v2g_sub_ca_chain.as_mut(),
            self.plug_and_charge.v2g_sub_ca_key.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            fix(p);
        }
    }

    /// The database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("unicharge.db")
    }

    /// The CSMS part, with TLS material and the signing CA filled in by the caller.
    pub fn csms_config(
        &self,
        tls: TlsConfig,
        certificate_authority: Option<(PathBuf, PathBuf)>,
    ) -> CsmsConfig {
        let c = &self.csms;
        CsmsConfig {
            certificate_authority,
            station_certificate_days: c.station_certificate_days,
            boot_provisioning_report: c.boot_provisioning_report.clone(),
            ws_listen: c.ws_listen,
            wss_listen: c.wss_listen,
            tls,
            path_prefix: c.path_prefix.clone(),
            heartbeat_interval: c.heartbeat_interval,
            boot_retry_interval: c.boot_retry_interval,
            ping_interval: c.ping_interval,
            call_timeout: c.call_timeout,
            max_queued_calls: c.max_queued_calls,
            answer_retention: c.answer_retention,
            handshake_timeout: c.handshake_timeout,
            unknown_stations: c.unknown_stations,
            transaction_status_check: c.transaction_status_check,
            supply_voltage: c.supply_voltage,
            transaction_status_delay: c.transaction_status_delay,
            running_cost: c.running_cost,
            auth_cache_lifetime: c.auth_cache_lifetime,
            max_unregistered_connections: c.max_unregistered_connections,
            max_connections: c.max_connections,
            unregistered_boot_timeout: c.unregistered_boot_timeout,
            auth_failures_per_station: c.auth_failures_per_station,
            auth_failures_per_address: c.auth_failures_per_address,
            auth_failure_window: c.auth_failure_window,
            auth_lockout: c.auth_lockout,
            auth_lockout_max: c.auth_lockout_max,
            password_hash_queue: c.password_hash_queue,
            credential_cache_ttl: c.credential_cache_ttl,
            files_dir: Some(self.data_dir.join("files")),
            log_upload_max_bytes: c.log_upload_max_bytes,
            log_upload_validity: c.log_upload_validity,
            campaign_tick: c.campaign_tick,
            firmware_signing: c
                .firmware_signing_cert
                .clone()
                .map(|cert| (cert, c.firmware_signing_key.clone())),
            v2g_sub_ca: self
                .plug_and_charge
                .v2g_sub_ca_chain
                .clone()
                .zip(self.plug_and_charge.v2g_sub_ca_key.clone()),
            v2g_certificate_days: self.plug_and_charge.v2g_certificate_days,
            contract_service: self
                .plug_and_charge
                .contract_service_url
                .clone()
                .map(|url| {
                    unicharge_csms::certificate_management::ev_certificate::ContractServiceConfig {
                        url,
                        timeout: self.plug_and_charge.contract_service_timeout,
                    }
                }),
            ..CsmsConfig::default()
        }
    }
}

/// Durations as `"300ms"`, `"30s"`, `"5m"`, `"1h"` (or a bare number of seconds).
pub(crate) mod duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        let ms = d.as_millis();
        let text = if ms.is_multiple_of(3_600_000) && ms > 0 {
            format!("{}h", ms / 3_600_000)
        } else if ms.is_multiple_of(60_000) && ms > 0 {
            format!("{}m", ms / 60_000)
        } else if ms.is_multiple_of(1000) {
            format!("{}s", ms / 1000)
        } else {
            format!("{ms}ms")
        };
        s.serialize_str(&text)
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Seconds(u64),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        match Raw::deserialize(d)? {
            Raw::Seconds(s) => Ok(Duration::from_secs(s)),
            Raw::Text(t) => parse(&t).map_err(serde::de::Error::custom),
        }
    }

    pub fn parse(text: &str) -> Result<Duration, String> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let n: u64 = number
            .parse()
            .map_err(|_| format!("{text:?} is not a duration like \"30s\", \"500ms\" or \"5m\""))?;
        match unit.trim() {
            "ms" => Ok(Duration::from_millis(n)),
            "" | "s" => Ok(Duration::from_secs(n)),
            "m" => Ok(Duration::from_secs(n * 60)),
            "h" => Ok(Duration::from_secs(n * 3600)),
            other => Err(format!(
                "unknown duration unit {other:?} in {text:?} (use ms, s, m or h)"
            )),
        }
    }
}

/// A duration, or `""` for "none".
mod optional_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::duration::serialize(d, s),
            None => s.serialize_str(""),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let text = String::deserialize(d)?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        super::duration::parse(&text)
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}

/// A socket address, or `""` for "disabled".
mod optional_addr {
    use std::net::SocketAddr;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(a: &Option<SocketAddr>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&a.map(|a| a.to_string()).unwrap_or_default())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
        let text = String::deserialize(d)?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|_| {
            serde::de::Error::custom(format!(
                "{text:?} is not a listen address like \"0.0.0.0:8180\" (\"\" disables)"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_through_toml() {
        let text = toml::to_string(&Settings::default()).unwrap();
        let back: Settings = toml::from_str(&text).unwrap();
        assert_eq!(back, Settings::default());
    }

    #[test]
    fn durations_and_disabled_listeners_parse() {
        let s: Settings = toml::from_str(
            "[csms]\nping_interval = \"250ms\"\nheartbeat_interval = 60\nws_listen = \"\"\n",
        )
        .unwrap();
        assert_eq!(s.csms.ping_interval, Duration::from_millis(250));
        assert_eq!(s.csms.heartbeat_interval, Duration::from_secs(60));
        assert_eq!(s.csms.ws_listen, None);
        assert!(toml::from_str::<Settings>("[csms]\nping_interval = \"5 weeks\"\n").is_err());
        assert!(toml::from_str::<Settings>("unknown_key = 1\n").is_err());
    }

    #[test]
    fn efc_section_parses_and_disables() {
        let s: Settings = toml::from_str(
            "[efc]\ntcp_listen = \"\"\nhttp_listen = \"127.0.0.1:9999\"\nstatus_when_low = 2\n\n[efc.tariff_classes]\nlocation_class = [1, 2]\n",
        )
        .unwrap();
        assert_eq!(s.efc.tcp_listen, None);
        assert_eq!(s.efc.http_listen, Some("127.0.0.1:9999".parse().unwrap()));
        assert_eq!(s.efc.status_when_low, 2);
        assert_eq!(s.efc.tariff_classes.location_class, vec![1, 2]);
        let err = toml::from_str::<Settings>("[efc]\ntcp_listen = \"nowhere\"\n").unwrap_err();
        assert!(err.to_string().contains("use \"\" to disable"), "{err}");
        assert!(toml::from_str::<Settings>("[efc]\ntypo = 1\n").is_err());
    }
}
