//! The `unicharge` command line.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use chrono::Utc;
use clap::{Args, Parser, Subcommand};
use unicharge_api::availability::{AvailabilityBody, TriggerBody};
use unicharge_api::provisioning::{
    GetVariablesBody, ReportBody, ResetBody, SetVariableItem, SetVariablesBody, VariableRef,
};
use unicharge_api::smart_charging as sc;
use unicharge_core::api_keys::ApiRole;
use unicharge_core::credentials::{check_password_policy, GeneratedPassword, NewPassword};
use unicharge_core::{RegistrationStatus, SecurityProfile, Station, StationId};
use unicharge_store::Store;

use crate::Settings;

/// unicharge: an open charging back end: an OCPP 2.0.1 and 1.6J CSMS, OCPI roaming, Diameter
/// Rf / Ro charging and ISO 17575 road-tolling in one server.
///
/// Start with `unicharge serve` (no configuration needed), then register a station with
/// `unicharge station add CP001 --generate-password` and point it at ws://HOST:8180/ocpp/CP001.
#[derive(Debug, Parser)]
#[command(name = "unicharge", version, propagate_version = true)]
pub struct Cli {
    /// Configuration file (TOML). Without one, built-in defaults are used:
    /// see `unicharge config show`.
    #[arg(long, short, global = true, env = "UNICHARGE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory (database, generated TLS material); overrides the configuration.
    #[arg(long, global = true, env = "UNICHARGE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: OCPP on ws :8180 and wss :8443, /metrics and /health on :8080.
    ///
    /// On first start it creates the data directory, the database and, if no TLS material is
    /// configured, a local CA with RSA and ECDSA server certificates (their paths are printed).
    ///
    /// The web UI is at http://HOST:8080/ (log in with an API key).
    Serve {
        /// Also run five simulated stations in-process (DEMO-01…DEMO-05) that boot, charge,
        /// accept remote starts and go offline now and then, so the web UI shows a living
        /// system. The UI marks everything as demo data. Never use on a production database.
        #[arg(long)]
        demo: bool,
    },
    /// Register and manage charging stations (works whether or not the server runs).
    #[command(subcommand)]
    Station(StationCommand),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage operator API keys (bearer tokens for /api/v1).
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Ledger accounts: balances in money or units, top-ups, movements (via the running server).
    #[command(subcommand)]
    Account(crate::cli_efc::AccountCommand),
    /// ISO 17575-1 road tolling: OBEs, contracts, queued account updates, reports (via the
    /// running server).
    #[command(subcommand)]
    Efc(crate::cli_efc::EfcCommand),
    /// Site load management: stations behind one grid connection share a limit, enforced
    /// with TxProfiles as transactions start and end (via the REST API).
    #[command(subcommand)]
    SiteGroup(SiteGroupCommand),
    /// Diameter Rf / Ro: connected peers, accounting sessions, the CDF's charge records, and
    /// re-authorizing or aborting credit-control sessions.
    #[command(subcommand)]
    Diameter(DiameterCommand),
    /// OCPI roaming: partner platforms (token A, registration) and locations (via the REST API).
    #[command(subcommand)]
    Ocpi(crate::cli_ocpi::OcpiCommand),
    /// Certificates: `pki client-cert NAME --out DIR` from the local CA (Diameter mutual TLS,
    /// lab stations), `pki v2g-test-ca --out DIR` for an ISO 15118-2 V2G test root and sub-CAs.
    #[command(subcommand)]
    Pki(crate::cli_pki::PkiCommand),
    /// Personal data of an idToken (GDPR): `token personal-data ID`, `token erase ID --yes`
    /// (via the running server).
    #[command(subcommand)]
    Token(crate::cli_pki::TokenCommand),
    /// Firmware rollout campaigns: start, list, show (`--watch`: a progress bar), pause,
    /// resume, abort (via the REST API).
    #[command(subcommand)]
    Firmware(crate::cli_firmware::FirmwareCommand),
    /// Log files stations uploaded to unicharge (GetLog without remoteLocation): list and
    /// download (via the REST API).
    #[command(subcommand)]
    LogFiles(crate::cli_firmware::LogFilesCommand),
}

#[derive(Debug, Subcommand)]
pub enum DiameterCommand {
    /// Peers connected to the running server's CDF: Origin-Host, realm, state, last
    /// watchdog, applications (via the REST API).
    Peers {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Accounting sessions, most recently active first (reads the database; works whether or
    /// not the server runs).
    Sessions {
        /// open or closed; both when absent.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value = "100")]
        limit: u32,
    },
    /// Charge records of completed Rf sessions, newest first, as CSV (for a spreadsheet or a
    /// billing import) or JSON.
    ChargeRecords {
        /// csv or json.
        #[arg(long, default_value = "csv")]
        format: String,
        #[arg(long, default_value = "100")]
        limit: u32,
    },
    /// Ro: map a Subscription-Id to the ledger account that pays for it (via the REST API;
    /// open and top up the account with `unicharge accounts`).
    RoSubscriber {
        /// END_USER_E164, END_USER_IMSI, END_USER_SIP_URI, END_USER_NAI or END_USER_PRIVATE.
        #[arg(long, default_value = "END_USER_E164")]
        id_type: String,
        /// The MSISDN, IMSI, SIP URI, …
        #[arg(long)]
        id_data: String,
        #[arg(long)]
        account: String,
        /// Refuse every service to this subscriber (4010).
        #[arg(long)]
        barred: bool,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Ro: create or replace a tariff from a JSON file (fields as `GET /api/v1/ro/tariffs`
    /// shows them, e.g. {"id":"voice","ratingGroup":10,"unit":"time","currency":"EUR",
    /// "price":"0.10","block":60,"defaultGrant":300}) via the REST API.
    RoTariff {
        /// The tariff as JSON.
        file: std::path::PathBuf,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Ro credit-control sessions, most recently active first, with their grants (reads the
    /// database; works whether or not the server runs).
    RoSessions {
        /// open or closed; both when absent.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value = "100")]
        limit: u32,
    },
    /// Ro: ask the CTF of an open session to re-authorize it now (RAR): it reports usage and
    /// asks for quota again. Prints the RAA's Result-Code (2001 = done).
    RoReauthorize {
        /// The Session-Id (`unicharge diameter ro-sessions --state open` lists them).
        session_id: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Ro: abort an open session now (ASR): the CTF ends the service; its next CCR is
    /// answered 5003 whatever it does. Prints the ASA's Result-Code.
    RoAbort {
        session_id: String,
        #[command(flatten)]
        api: ApiArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum SiteGroupCommand {
    /// Create or replace a group; its limit is enforced at once.
    ///
    /// Example: `unicharge site-group set depot --limit 100 --station CS1 --station CS2`
    Set {
        id: String,
        /// The most the group's EVSEs may draw together, in --unit.
        #[arg(long)]
        limit: f64,
        /// A (per phase) or W.
        #[arg(long, default_value = "A")]
        unit: String,
        /// A member station (repeat for each).
        #[arg(long = "station", required = true)]
        stations: Vec<String>,
        /// The least an EVSE charges with; below it, it gets 0.
        #[arg(long, default_value = "6")]
        min_rate: f64,
        /// The most one EVSE can use.
        #[arg(long, default_value = "32")]
        max_rate: f64,
        #[arg(long, default_value = "3")]
        phases: i64,
        /// stackLevel of the TxProfiles sent.
        #[arg(long, default_value = "0")]
        stack_level: i64,
        /// Priority of a token group, `GROUP=N` (repeat); higher first when the limit does
        /// not cover every minimum.
        #[arg(long = "priority")]
        priorities: Vec<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// A group with what each EVSE holds now.
    Show {
        id: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Every group.
    List {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// The group's allocation changes, oldest first.
    History {
        id: String,
        #[arg(long, default_value = "100")]
        limit: u32,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Delete a group (profiles already sent stay until their transactions end).
    Delete {
        id: String,
        #[command(flatten)]
        api: ApiArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print it once (only its salted hash is stored).
    Create {
        /// What the key is for (shown in listings and logs).
        #[arg(long)]
        name: String,
        /// admin (everything), operator (act on stations) or read-only.
        #[arg(long, default_value = "operator")]
        role: ApiRole,
    },
    /// List keys (ids, names, roles; never secrets).
    List,
    /// Revoke a key by its id (the part after `uc_`, before the second `_`).
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum StationCommand {
    /// Register a station. Its id is the last segment of the URL it connects to.
    Add {
        /// Station id (1–48 characters of a-z A-Z 0-9 * - _ = : + | @ .).
        id: StationId,
        /// Lowest security profile its connections must use: 1 (ws + Basic),
        /// 2 (wss + Basic) or 3 (wss + client certificate).
        #[arg(long, default_value = "1")]
        profile: u8,
        #[command(flatten)]
        password: PasswordArgs,
        /// Answer its boots Pending until accepted (`unicharge station accept`).
        #[arg(long)]
        pending: bool,
    },
    /// Register a fleet at once, each with its own generated password: ids PREFIX<START> …
    /// PREFIX<START+COUNT-1>. The passwords are written once to a CSV file (`station_id,password`,
    /// mode 0600) for provisioning the stations (or `unicharge-sim load --credentials`); only
    /// their hashes are stored. Ids already registered are skipped and reported.
    AddMany {
        /// Id prefix, e.g. `SITE7-` gives SITE7-0, SITE7-1, …
        #[arg(long)]
        prefix: String,
        /// How many stations.
        #[arg(long)]
        count: u32,
        /// First number.
        #[arg(long, default_value = "0")]
        start: u32,
        /// Lowest security profile: 1 or 2 (Basic). Profile 3 stations use certificates:
        /// register them with `station add --profile 3` and `station issue-certificate`.
        #[arg(long, default_value = "1")]
        profile: u8,
        /// Answer their boots Pending until accepted.
        #[arg(long)]
        pending: bool,
        /// Where to write the generated credentials (must not exist yet).
        #[arg(long)]
        credentials_out: PathBuf,
    },
    /// List registered stations.
    List,
    /// Show one station: identity from its last boot, connection state, connectors, events.
    Show { id: StationId },
    /// Remove a station and everything it reported.
    Remove { id: StationId },
    /// Set a new HTTP Basic password (profiles 1 and 2). Only its salted hash is stored.
    SetPassword {
        id: StationId,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Set the lowest security profile (1, 2 or 3) the station's connections must use.
    SetProfile { id: StationId, profile: u8 },
    /// Accept a pending (or rejected) station: its next boot is Accepted.
    Accept { id: StationId },
    /// Reject a station: its boots are Rejected.
    Reject { id: StationId },
    /// Read variables from the station, e.g. `OCPPCommCtrlr.OfflineThreshold` (via the REST API of
    /// the running server; needs an API key).
    GetVariables {
        id: StationId,
        /// `Component.Variable`, optionally `Component.Variable:Target` for another attribute.
        #[arg(required = true)]
        variables: Vec<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Write variables, e.g. `OCPPCommCtrlr.OfflineThreshold=123` (via the REST API).
    SetVariables {
        id: StationId,
        #[arg(required = true)]
        assignments: Vec<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Reset the station or one EVSE (via the REST API).
    Reset {
        id: StationId,
        /// on-idle or immediate.
        #[arg(long = "type", default_value = "on-idle")]
        reset_type: String,
        #[arg(long)]
        evse: Option<i64>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Make the station, an EVSE or a connector operative / inoperative (via the REST API).
    Availability {
        id: StationId,
        /// operative or inoperative.
        status: String,
        #[arg(long)]
        evse: Option<i64>,
        #[arg(long)]
        connector: Option<i64>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Ask the station to send a message now, e.g. `Heartbeat`, `StatusNotification` (via the REST API).
    Trigger {
        id: StationId,
        message: String,
        #[arg(long)]
        evse: Option<i64>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Request a base report: configuration-inventory, full-inventory or summary-inventory
    /// (via the REST API); fetch it later with `GET /api/v1/stations/{id}/reports/{requestId}`.
    Report {
        id: StationId,
        #[arg(default_value = "full-inventory")]
        base: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Give the station a new generated BasicAuthPassword (via the REST API).
    RotatePassword {
        id: StationId,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Send any CSMS-initiated OCPP request, e.g. `unicharge station ocpp CP1 GetLocalListVersion '{}'`.
    Ocpp {
        id: StationId,
        action: String,
        /// The request payload as JSON.
        payload: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Set a charging profile (K01), checked before it is sent: a broken rule is reported by
    /// name, e.g. `same_purpose_and_stack_level` (via the REST API). PROFILE is an OCPP
    /// ChargingProfileType as JSON, or `@file.json`.
    SetChargingProfile {
        id: StationId,
        /// 0: the whole station.
        #[arg(long, default_value = "0")]
        evse: i64,
        profile: String,
        /// Send a TxProfile although no transaction is ongoing on the EVSE.
        #[arg(long)]
        allow_without_transaction: bool,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Clear charging profiles (K10): one by `--profile-id`, or all that match `--evse`,
    /// `--purpose` and `--stack-level` (via the REST API).
    ClearChargingProfile {
        id: StationId,
        #[arg(long, conflicts_with_all = ["evse", "purpose", "stack_level"])]
        profile_id: Option<i64>,
        #[arg(long)]
        evse: Option<i64>,
        /// e.g. TxDefaultProfile, ChargingStationMaxProfile.
        #[arg(long)]
        purpose: Option<String>,
        #[arg(long)]
        stack_level: Option<i64>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Ask the station which profiles it holds (K09); read the assembled report at
    /// `GET /api/v1/stations/{id}/charging-profiles/reports/{requestId}` (via the REST API).
    GetChargingProfiles {
        id: StationId,
        /// Absent: every EVSE.
        #[arg(long)]
        evse: Option<i64>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Ask the station for its composite schedule (K08); the answer is kept (via the REST API).
    CompositeSchedule {
        id: StationId,
        /// 0: the grid connection.
        #[arg(long, default_value = "0")]
        evse: i64,
        /// Seconds from now.
        #[arg(long, default_value = "3600")]
        duration: i64,
        /// A or W; absent: the station chooses.
        #[arg(long)]
        unit: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// What an EVSE may draw from now on, computed by the CSMS from the profiles the station
    /// holds (K08 rules; no message to the station) (via the REST API).
    Allowed {
        id: StationId,
        #[arg(long, default_value = "1")]
        evse: i64,
        /// Seconds from now.
        #[arg(long, default_value = "86400")]
        duration: i64,
        /// A or W.
        #[arg(long, default_value = "A")]
        unit: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Issue a client certificate for a profile-3 station from the local CA.
    IssueCert {
        id: StationId,
        /// Folder to write `<id>.pem` and `<id>.key.pem` into.
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// Validity in days.
        #[arg(long, default_value = "365")]
        days: i64,
    },
}

/// Where the running server's REST API is, and the key to use.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// Base URL of the operator API.
    #[arg(
        long,
        env = "UNICHARGE_API_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub api_url: String,
    /// API key (`uc_…`); `unicharge api-key create` makes one.
    #[arg(long, env = "UNICHARGE_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
}

impl ApiArgs {
    /// GET `/api/v1/{path}` and print the answer.
    pub(crate) async fn get(&self, path: &str) -> anyhow::Result<()> {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// POST a JSON body to `/api/v1/stations/{id}/{path}` and print the answer.
    async fn post(
        &self,
        id: &StationId,
        path: &str,
        body: serde_json::Value,
    ) -> anyhow::Result<()> {
        self.send(
            reqwest::Method::POST,
            &format!("stations/{id}/{path}"),
            Some(body),
        )
        .await
    }

    /// Send `method` to `/api/v1/{path}` (with a JSON body if given) and print the answer.
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<()> {
        let Some(key) = &self.api_key else {
            bail!("this command talks to the running server: give --api-key or set UNICHARGE_API_KEY (`unicharge api-key create --name cli`)");
        };
        let url = format!("{}/api/v1/{path}", self.api_url.trim_end_matches('/'));
        let mut request = reqwest::Client::new()
            .request(method, &url)
            .bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.with_context(|| {
            format!(
                "cannot reach the server at {url} (is `unicharge serve` running? set --api-url)"
            )
        })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let pretty = serde_json::from_str::<serde_json::Value>(&text)
            .map(|v| serde_json::to_string_pretty(&v).unwrap_or(text.clone()))
            .unwrap_or(text);
        if status.is_success() {
            if !pretty.is_empty() {
                println!("{pretty}");
            }
            Ok(())
        } else {
            bail!("HTTP {status}: {pretty}")
        }
    }
}

/// `Component.Variable[:AttributeType]` → the API's variable reference.
fn variable_ref(spec: &str) -> anyhow::Result<VariableRef> {
    let (path, attribute) = match spec.split_once(':') {
        Some((p, a)) => (p, Some(a)),
        None => (spec, None),
    };
    let (component, variable) = path.split_once('.').ok_or_else(|| {
        anyhow::anyhow!("{spec:?}: write Component.Variable, e.g. OCPPCommCtrlr.OfflineThreshold")
    })?;
    Ok(VariableRef {
        component: component.into(),
        component_instance: None,
        evse_id: None,
        connector_id: None,
        variable: variable.into(),
        variable_instance: None,
        attribute_type: attribute.map(str::to_string),
    })
}

/// A request body of the operator API, as JSON.
fn body(value: impl serde::Serialize) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::to_value(value)?)
}

/// `on-idle` → `OnIdle`, `full-inventory` → `FullInventory`.
fn pascal(s: &str) -> String {
    s.split(['-', '_'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// The password (16–40 characters). Visible in process lists: prefer the options below.
    #[arg(long, conflicts_with_all = ["password_stdin", "generate_password"])]
    pub password: Option<String>,
    /// Read the password from standard input.
    #[arg(long, conflicts_with = "generate_password")]
    pub password_stdin: bool,
    /// Generate a strong 32-character password and print it once.
    #[arg(long)]
    pub generate_password: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration as TOML (a complete, commented-out-free example).
    Show,
}

impl PasswordArgs {
    /// The chosen password, if any (printing a generated one).
    fn resolve(&self) -> anyhow::Result<Option<NewPassword>> {
        let password = if let Some(p) = &self.password {
            Some(NewPassword::Chosen(p.clone()))
        } else if self.password_stdin {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            Some(NewPassword::Chosen(
                text.trim_end_matches(['\r', '\n']).to_string(),
            ))
        } else if self.generate_password {
            let p = GeneratedPassword::new();
            println!(
                "generated password (shown once, only its hash is stored): {}",
                p.as_str()
            );
            Some(NewPassword::Generated(p))
        } else {
            None
        };
        if let Some(p) = &password {
            check_password_policy(p.as_str()).map_err(anyhow::Error::msg)?;
        }
        Ok(password)
    }
}

impl Cli {
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let mut settings = match &self.config {
            Some(path) => Settings::load(path)?,
            None => Settings::default(),
        };
        if let Some(dir) = &self.data_dir {
            settings.data_dir = dir.clone();
        }
        Ok(settings)
    }
}

/// `station add-many`: register `count` stations with generated passwords and write them out.
#[allow(clippy::too_many_arguments)]
async fn add_many(
    store: &dyn Store,
    settings: &Settings,
    prefix: &str,
    start: u32,
    count: u32,
    profile_number: u8,
    pending: bool,
    credentials_out: &std::path::Path,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let profile = profile(profile_number)?;
    if profile == SecurityProfile::TlsClientCert {
        bail!("add-many registers Basic-auth stations (profile 1 or 2); profile 3 stations need a certificate each: `station add --profile 3` then `station issue-certificate`");
    }
    let end = start
        .checked_add(count)
        .ok_or_else(|| anyhow::anyhow!("--start + --count is too large"))?;
    // Check every id before writing anything.
    let ids = (start..end)
        .map(|n| StationId::new(format!("{prefix}{n}")))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{e}: choose a shorter --prefix or a smaller --count"))?;
    let mut file = private_new_file(credentials_out)?;
    writeln!(file, "station_id,password")?;
    let (mut added, mut skipped) = (0u32, 0u32);
    let began = std::time::Instant::now();
    for id in ids {
        let password = GeneratedPassword::new();
        let mut station = Station::new(id.clone(), profile, Utc::now());
        station.password_hash = Some(password.hash());
        if pending {
            station.registration = RegistrationStatus::Pending;
        }
        match store.create_station(&station).await {
            Ok(()) => {
                writeln!(file, "{id},{}", password.as_str())?;
                added += 1;
            }
            Err(unicharge_store::StoreError::StationExists(_)) => skipped += 1,
            Err(e) => return Err(e.into()),
        }
        let done = added + skipped;
        if done % 1000 == 0 {
            eprintln!("{done}/{count} stations ({:.0?})", began.elapsed());
        }
    }
    file.flush()?;
    let scheme = if profile.uses_tls() { "wss" } else { "ws" };
    println!(
        "{added} stations registered (security profile {profile}), {skipped} already existed and were left alone; \
         their passwords are in {} (mode 0600: hand them to the stations, then delete the file); \
         they connect to {scheme}://HOST:PORT{}/<id>",
        credentials_out.display(),
        settings.csms.path_prefix
    );
    Ok(())
}

/// Create a file only its owner can read; refuse to overwrite one.
fn private_new_file(path: &std::path::Path) -> anyhow::Result<std::io::BufWriter<std::fs::File>> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot create {}: {e} (it must not exist yet: choose another --credentials-out)",
            path.display()
        )
    })?;
    Ok(std::io::BufWriter::new(file))
}

/// The configured store (SQLite file or PostgreSQL, as the server would open it).
async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    Ok(crate::store::open(settings).await?.store)
}

fn profile(n: u8) -> anyhow::Result<SecurityProfile> {
    SecurityProfile::try_from(n).map_err(anyhow::Error::msg)
}

async fn must_exist(store: &dyn Store, id: &StationId) -> anyhow::Result<Station> {
    store.get_station(id).await?.ok_or_else(|| {
        anyhow::anyhow!("station {id} is not registered (see `unicharge station list`)")
    })
}

/// Run a `station` command against the store directly.
pub async fn station(settings: &Settings, command: &StationCommand) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    match command {
        StationCommand::Add {
            id,
            profile: p,
            password,
            pending,
        } => {
            let profile = profile(*p)?;
            let mut station = Station::new(id.clone(), profile, Utc::now());
            if *pending {
                station.registration = RegistrationStatus::Pending;
            }
            match password.resolve()? {
                Some(p) => station.password_hash = Some(p.hash()?),
                None if profile != SecurityProfile::TlsClientCert => bail!(
                    "profile {profile} uses HTTP Basic: give --password, --password-stdin or --generate-password"
                ),
                None => {}
            }
            store.create_station(&station).await?;
            let scheme = if profile.uses_tls() { "wss" } else { "ws" };
            let port = if profile.uses_tls() { 8443 } else { 8180 };
            println!("station {id} registered (security profile {profile}); it connects to {scheme}://HOST:{port}{}/{id}", settings.csms.path_prefix);
        }
        StationCommand::AddMany {
            prefix,
            count,
            start,
            profile: p,
            pending,
            credentials_out,
        } => {
            add_many(
                store.as_ref(),
                settings,
                prefix,
                *start,
                *count,
                *p,
                *pending,
                credentials_out,
            )
            .await?
        }
        StationCommand::List => {
            let stations = store.list_stations().await?;
            if stations.is_empty() {
                println!("no stations registered: add one with `unicharge station add CP001 --generate-password`");
            }
            println!(
                "{:<24} {:>7} {:<9} {:<9} {:<20} last seen",
                "id", "profile", "reg.", "online", "model"
            );
            for s in stations {
                println!(
                    "{:<24} {:>7} {:<9} {:<9} {:<20} {}",
                    s.id.as_str(),
                    s.security_profile.number(),
                    s.registration.as_str(),
                    if s.connected { "yes" } else { "no" },
                    s.model.as_deref().unwrap_or("-"),
                    s.last_seen_at
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_else(|| "never".into())
                );
            }
        }
        StationCommand::Show { id } => {
            let s = must_exist(store.as_ref(), id).await?;
            println!("{}", serde_json::to_string_pretty(&s)?);
            println!("connectors:");
            for c in store.connectors(id).await? {
                println!(
                    "  evse {} connector {}: {} (since {})",
                    c.evse_id,
                    c.connector_id,
                    c.status,
                    c.status_at.to_rfc3339()
                );
            }
            println!("latest events:");
            for e in store.events(id, 10).await? {
                println!(
                    "  {} {}/{} = {} ({})",
                    e.timestamp.to_rfc3339(),
                    e.component,
                    e.variable,
                    e.actual_value,
                    e.trigger
                );
            }
            println!("latest security events:");
            for e in store.security_events(id, 10).await? {
                println!(
                    "  {} {} {}",
                    e.timestamp.to_rfc3339(),
                    e.kind,
                    e.tech_info.unwrap_or_default()
                );
            }
        }
        StationCommand::Remove { id } => {
            if !store.delete_station(id).await? {
                bail!("station {id} is not registered");
            }
            println!("station {id} removed");
        }
        StationCommand::SetPassword { id, password } => {
            must_exist(store.as_ref(), id).await?;
            let Some(p) = password.resolve()? else {
                bail!("give --password, --password-stdin or --generate-password");
            };
            store.set_password_hash(id, Some(&p.hash()?)).await?;
            println!("password of {id} replaced; its next connection must use it");
        }
        StationCommand::SetProfile { id, profile: p } => {
            let profile = profile(*p)?;
            must_exist(store.as_ref(), id).await?;
            store.set_security_profile(id, profile).await?;
            println!("{id} must now connect with security profile {profile} or higher");
        }
        StationCommand::Accept { id } => {
            must_exist(store.as_ref(), id).await?;
            store
                .set_registration(id, RegistrationStatus::Accepted)
                .await?;
            println!("{id} accepted: its next BootNotification is Accepted");
        }
        StationCommand::Reject { id } => {
            must_exist(store.as_ref(), id).await?;
            store
                .set_registration(id, RegistrationStatus::Rejected)
                .await?;
            println!("{id} rejected: its BootNotifications are Rejected");
        }
        StationCommand::GetVariables { id, variables, api } => {
            let items = variables
                .iter()
                .map(|v| variable_ref(v))
                .collect::<anyhow::Result<Vec<_>>>()?;
            api.post(id, "variables/get", body(GetVariablesBody { items })?)
                .await?;
        }
        StationCommand::SetVariables {
            id,
            assignments,
            api,
        } => {
            let mut items = Vec::new();
            for a in assignments {
                let (target, value) = a
                    .split_once('=')
                    .ok_or_else(|| anyhow::anyhow!("{a:?}: write Component.Variable=value"))?;
                items.push(SetVariableItem {
                    target: variable_ref(target)?,
                    value: value.to_string(),
                });
            }
            api.post(id, "variables/set", body(SetVariablesBody { items })?)
                .await?;
        }
        StationCommand::Reset {
            id,
            reset_type,
            evse,
            api,
        } => {
            let reset = ResetBody {
                reset_type: pascal(reset_type),
                evse_id: *evse,
            };
            api.post(id, "reset", body(reset)?).await?;
        }
        StationCommand::Availability {
            id,
            status,
            evse,
            connector,
            api,
        } => {
            let availability = AvailabilityBody {
                operational_status: pascal(status),
                evse_id: *evse,
                connector_id: *connector,
            };
            api.post(id, "availability", body(availability)?).await?;
        }
        StationCommand::Trigger {
            id,
            message,
            evse,
            api,
        } => {
            let trigger = TriggerBody {
                requested_message: message.clone(),
                evse_id: *evse,
                connector_id: None,
            };
            api.post(id, "trigger", body(trigger)?).await?;
        }
        StationCommand::Report { id, base, api } => {
            let report = ReportBody {
                report_base: Some(pascal(base)),
                component_criteria: None,
                component_variable: None,
            };
            api.post(id, "reports", body(report)?).await?;
        }
        StationCommand::RotatePassword { id, api } => {
            api.post(
                id,
                "password/rotate",
                serde_json::Value::Object(Default::default()),
            )
            .await?;
        }
        StationCommand::Ocpp {
            id,
            action,
            payload,
            api,
        } => {
            let body: serde_json::Value = serde_json::from_str(payload)
                .map_err(|e| anyhow::anyhow!("the payload is not JSON: {e}"))?;
            api.post(id, &format!("ocpp/{action}"), body).await?;
        }
        StationCommand::SetChargingProfile {
            id,
            evse,
            profile,
            allow_without_transaction,
            api,
        } => {
            let text = match profile.strip_prefix('@') {
                Some(path) => std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the profile from {path}"))?,
                None => profile.clone(),
            };
            let profile: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("the profile is not JSON: {e}"))?;
            let body = body(sc::SetProfileBody {
                evse_id: *evse,
                charging_profile: profile,
                allow_without_transaction: *allow_without_transaction,
            })?;
            api.post(id, "charging-profiles", body).await?;
        }
        StationCommand::ClearChargingProfile {
            id,
            profile_id,
            evse,
            purpose,
            stack_level,
            api,
        } => {
            let body = body(sc::ClearBody {
                charging_profile_id: *profile_id,
                evse_id: *evse,
                charging_profile_purpose: purpose.clone(),
                stack_level: *stack_level,
            })?;
            api.post(id, "charging-profiles/clear", body).await?;
        }
        StationCommand::GetChargingProfiles { id, evse, api } => {
            let body = body(sc::GetProfilesBody {
                evse_id: *evse,
                charging_profile: None,
            })?;
            api.post(id, "charging-profiles/reports", body).await?;
        }
        StationCommand::CompositeSchedule {
            id,
            evse,
            duration,
            unit,
            api,
        } => {
            let body = body(sc::CompositeBody {
                evse_id: *evse,
                duration: *duration,
                charging_rate_unit: unit.clone(),
            })?;
            api.post(id, "composite-schedules", body).await?;
        }
        StationCommand::Allowed {
            id,
            evse,
            duration,
            unit,
            api,
        } => {
            let path =
                format!("stations/{id}/evses/{evse}/allowed?duration={duration}&unit={unit}");
            api.send(reqwest::Method::GET, &path, None).await?;
        }
        StationCommand::IssueCert { id, out, days } => {
            must_exist(store.as_ref(), id).await?;
            issue_cert(settings, id, out, *days)?;
        }
    }
    Ok(())
}

fn issue_cert(
    settings: &Settings,
    id: &StationId,
    out: &std::path::Path,
    days: i64,
) -> anyhow::Result<()> {
    use unicharge_csms::security::pki;
    let (paths, _) =
        pki::load_or_create(&settings.data_dir.join("tls"), &settings.csms.server_names)?;
    let ca = pki::load_ca(&paths.ca_cert, &paths.ca_key)?;
    let (cert, key) =
        pki::issue_client_certificate(&ca, pki::KeyKind::EcP256, id.as_str(), 0, days)?;
    std::fs::create_dir_all(out)?;
    let cert_path = out.join(format!("{id}.pem"));
    let key_path = out.join(format!("{id}.key.pem"));
    pki::write_pem(&cert_path, &pki::certificate_to_pem(&cert)?, false)?;
    pki::write_pem(&key_path, &pki::private_key_to_pem(&key)?, true)?;
    println!(
        "client certificate for {id}: {}\nprivate key: {}\nissuing CA: {}",
        cert_path.display(),
        key_path.display(),
        paths.ca_cert.display()
    );
    Ok(())
}

/// Run an `api-key` command against the store directly.
pub async fn api_key(settings: &Settings, command: &ApiKeyCommand) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    match command {
        ApiKeyCommand::Create { name, role } => {
            let (token, record) = unicharge_api::auth::create_key(store.as_ref(), name, *role)
                .await
                .map_err(|e| anyhow::anyhow!(e.body.message))?;
            println!(
                "API key {} ({}, role {}): {token}",
                record.id, record.name, record.role
            );
            println!("shown once; only its salted hash is stored");
        }
        ApiKeyCommand::List => {
            println!(
                "{:<14} {:<10} {:<26} {:<10} name",
                "id", "role", "created", "state"
            );
            for k in store.list_api_keys().await? {
                println!(
                    "{:<14} {:<10} {:<26} {:<10} {}",
                    k.id,
                    k.role,
                    k.created_at.to_rfc3339(),
                    if k.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    },
                    k.name
                );
            }
        }
        ApiKeyCommand::Revoke { id } => {
            if !store.revoke_api_key(id).await? {
                bail!("no active API key {id} (see `unicharge api-key list`)");
            }
            println!("API key {id} revoked");
        }
    }
    Ok(())
}

/// Run a `site-group` command against the running server's REST API.
pub async fn site_group(command: &SiteGroupCommand) -> anyhow::Result<()> {
    use reqwest::Method;
    match command {
        SiteGroupCommand::Set {
            id,
            limit,
            unit,
            stations,
            min_rate,
            max_rate,
            phases,
            stack_level,
            priorities,
            api,
        } => {
            let priorities = priorities
                .iter()
                .map(|p| {
                    let (group, n) = p.split_once('=').ok_or_else(|| {
                        anyhow::anyhow!("--priority {p:?}: write GROUP=N, e.g. fleet=10")
                    })?;
                    let n: i64 = n
                        .parse()
                        .with_context(|| format!("--priority {p:?}: N must be an integer"))?;
                    Ok((group.to_string(), n))
                })
                .collect::<anyhow::Result<_>>()?;
            let body = body(unicharge_api::site_load::SiteGroupBody {
                limit: *limit,
                unit: unit.clone(),
                stations: stations.clone(),
                min_rate: *min_rate,
                max_rate: *max_rate,
                phases: *phases,
                stack_level: *stack_level,
                priorities,
            })?;
            api.send(Method::PUT, &format!("site-groups/{id}"), Some(body))
                .await
        }
        SiteGroupCommand::Show { id, api } => {
            api.send(Method::GET, &format!("site-groups/{id}"), None)
                .await
        }
        SiteGroupCommand::List { api } => api.send(Method::GET, "site-groups", None).await,
        SiteGroupCommand::History { id, limit, api } => {
            api.send(
                Method::GET,
                &format!("site-groups/{id}/history?limit={limit}"),
                None,
            )
            .await
        }
        SiteGroupCommand::Delete { id, api } => {
            api.send(Method::DELETE, &format!("site-groups/{id}"), None)
                .await?;
            println!("site group {id} deleted");
            Ok(())
        }
    }
}

pub async fn diameter(settings: &Settings, command: &DiameterCommand) -> anyhow::Result<()> {
    match command {
        DiameterCommand::Peers { api } => api.get("diameter/peers").await,
        DiameterCommand::Sessions { state, limit } => {
            let filter = match state.as_deref() {
                None => None,
                Some("open") => Some("OPEN"),
                Some("closed") => Some("CLOSED"),
                Some(other) => bail!("--state {other}: use open or closed"),
            };
            let store = open_store(settings).await?;
            let sessions = store.accounting_sessions(filter, *limit).await?;
            if sessions.is_empty() {
                println!("no accounting sessions");
            }
            for s in sessions {
                let subscriber = s
                    .subscription_id
                    .map(|id| format!("{} ({})", id.data, id.kind))
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{}  {}  {}  subscriber {}  service {}  records {} (#{}..#{})  last {}{}",
                    s.session_id,
                    s.state,
                    s.origin_host,
                    subscriber,
                    s.service_context_id.as_deref().unwrap_or("-"),
                    s.records,
                    s.first_record_number,
                    s.last_record_number,
                    s.last_record_at.to_rfc3339(),
                    s.closed_reason
                        .map(|r| format!("  closed by {r}"))
                        .unwrap_or_default(),
                );
            }
            Ok(())
        }
        DiameterCommand::ChargeRecords { format, limit } => {
            let store = open_store(settings).await?;
            let records = store
                .charge_records_with_station_prefix("diameter:", *limit)
                .await?;
            match format.as_str() {
                "csv" => print!("{}", unicharge_api::export::charge_records_csv(&records)),
                "json" => println!("{}", serde_json::to_string_pretty(&records)?),
                other => bail!("--format {other}: use csv or json"),
            }
            Ok(())
        }
        DiameterCommand::RoSubscriber {
            id_type,
            id_data,
            account,
            barred,
            api,
        } => {
            let body = unicharge_core::online::Subscriber {
                id_type: id_type.clone(),
                id_data: id_data.clone(),
                account: account.clone(),
                barred: *barred,
            };
            api.send(
                reqwest::Method::PUT,
                "ro/subscribers",
                Some(serde_json::to_value(body)?),
            )
            .await
        }
        DiameterCommand::RoTariff { file, api } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let body: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", file.display()))?;
            api.send(reqwest::Method::PUT, "ro/tariffs", Some(body))
                .await
        }
        DiameterCommand::RoReauthorize { session_id, api } => {
            let path = format!(
                "ro/sessions/{}/reauthorize",
                crate::cli_pki::segment(session_id)
            );
            api.send(reqwest::Method::POST, &path, None).await
        }
        DiameterCommand::RoAbort { session_id, api } => {
            let path = format!("ro/sessions/{}/abort", crate::cli_pki::segment(session_id));
            api.send(reqwest::Method::POST, &path, None).await
        }
        DiameterCommand::RoSessions { state, limit } => {
            let filter = match state.as_deref() {
                None => None,
                Some("open") => Some("OPEN"),
                Some("closed") => Some("CLOSED"),
                Some(other) => bail!("--state {other}: use open or closed"),
            };
            let store = open_store(settings).await?;
            let sessions = store.ro_sessions(filter, *limit).await?;
            if sessions.is_empty() {
                println!("no credit-control sessions");
            }
            for s in sessions {
                println!(
                    "{}  {}  {}  subscriber {}  account {}  CC-Request-Number {}  debited {}  grants {}  last {}{}",
                    s.session_id,
                    s.state,
                    s.origin_host,
                    s.subscriber.as_deref().unwrap_or("-"),
                    s.account.as_deref().unwrap_or("-"),
                    s.last_request_number,
                    s.data.debited,
                    s.data.grants.len(),
                    s.updated_at.to_rfc3339(),
                    s.closed_reason
                        .map(|r| format!("  closed by {r}"))
                        .unwrap_or_default(),
                );
            }
            Ok(())
        }
    }
}
