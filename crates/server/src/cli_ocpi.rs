//! `unicharge ocpi …`: roaming partners and locations, through the running server's API.
//!
//! ```text
//! unicharge ocpi partner-add "Some eMSP" --party NL*UNI   # prints token A + our versions URL
//! unicharge ocpi register 2 --versions-url https://emsp.example/ocpi/versions --token <their A>
//! unicharge ocpi location NL*UNI LOC1 --file loc1.json --station CP001 --station CP002
//! unicharge ocpi partners
//! unicharge ocpi outbox 2 --limit 20          # pushes to partner 2: pending, failing, last error
//! unicharge ocpi clients 3                    # parties a hub partner reported (HubClientInfo)
//! unicharge ocpi sync 2 [--full]              # pull CPO partner 2's locations, tariffs, sessions, CDRs
//! unicharge ocpi sync-status 2                # the last pull per module
//! unicharge ocpi rotate-credentials 2         # new tokens with partner 2 now (B8.1)
//! unicharge ocpi partner-parties 2 --party NL*CPO --party NL*CPB   # publish our roles (B8.2)
//! unicharge ocpi published-roles 2            # the roles partner 2 last took from us
//! unicharge ocpi session-limits 3 <session> --max-cost 20.00 --currency EUR   # B4.2
//! unicharge ocpi location-sharing NL*UNI LOC1 --refuse --partner 4 --reason "owner"  # B1.5
//! unicharge ocpi signing-keys 2 --trust <base64url key> --label "Hub"   # B8.5 enricher
//! ```

use anyhow::Context;
use clap::Subcommand;

use rust_decimal::Decimal;
use unicharge_api::ocpi::{LocationBody, PartnerBody, RegisterBody};
use unicharge_api::ocpi_buc::{PartiesBody, SharingBody};
use unicharge_api::ocpi_signing::TrustBody;
use unicharge_api::ocpi_sync::SyncBody;
use unicharge_ocpi_server::emsp::session_limits::LimitsBody;
use unicharge_ocpi_server::locations::LocationData;

use crate::cli::ApiArgs;

/// A request body of the REST API, written from the API's own request type (so the CLI and
/// the API cannot disagree on a field's name).
fn to_body(body: &impl serde::Serialize) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::to_value(body)?)
}

#[derive(Debug, Subcommand)]
pub enum OcpiCommand {
    /// Create a partner platform and print its token A (shown once) with our versions URL:
    /// hand both to the partner, which then registers with us.
    PartnerAdd {
        name: String,
        /// Our party the partner may see (`CC*PID`), repeatable; default: all of ours.
        #[arg(long = "party")]
        parties: Vec<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// List partners and their registration state (never tokens).
    Partners {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Register with a partner's platform, using the token A it gave you.
    Register {
        /// The partner's id (from `partner-add` / `partners`).
        id: i64,
        #[arg(long)]
        versions_url: String,
        #[arg(long)]
        token: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Show the pushes to a partner (EVSE status, sessions, CDRs, tariffs, CommandResults):
    /// how many are pending or failing, and the most recent ones with their last error. A
    /// growing `pending` with `failing` means the partner is down or refuses them; they are
    /// retried with backoff (`ocpi.push_retry_initial` / `ocpi.push_retry_max`).
    Outbox {
        /// The partner's id (from `partners`).
        id: i64,
        /// Most recent pushes to list.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// The parties a hub partner reported as connected to it (HubClientInfo).
    Clients {
        /// The hub partner's id.
        id: i64,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Pull a CPO partner's Locations, Tariffs, Sessions and CDRs into our eMSP store, in the
    /// background (`sync-status` follows it). Without --full: what changed since the last
    /// pull. Objects already held are not stored twice.
    Sync {
        /// The CPO partner's id.
        id: i64,
        #[arg(long)]
        full: bool,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// The last pull of each module from a CPO partner, and whether one is running.
    SyncStatus {
        id: i64,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Rotate the credentials with a partner we registered with, now: a new token for it, sent
    /// in a credentials PUT; it answers with its new token for us. On a schedule: set
    /// `ocpi.credentials_rotation` (seconds, 0 = off).
    RotateCredentials {
        id: i64,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Register a partner with these parties of ours (replacing its list) and publish them to
    /// it as our roles, in a credentials PUT (B8.2; it also renews both tokens). Parties
    /// added bring their locations and tariffs to it; parties removed are out of its reach.
    PartnerParties {
        id: i64,
        /// Our party (`CC*PID`), repeatable; at least one.
        #[arg(long = "party", required = true)]
        parties: Vec<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Approve or not the sharing of a location's data, on behalf of its owner (B1.5; default
    /// shared). Without --approve / --refuse / --clear, shows the decisions and, per partner,
    /// whether the location is shared with it.
    LocationSharing {
        /// Our CPO party, `CC*PID`.
        party: String,
        id: String,
        /// The decision is for this partner only (default: every partner).
        #[arg(long)]
        partner: Option<i64>,
        #[arg(long, conflicts_with_all = ["refuse", "clear"])]
        approve: bool,
        #[arg(long, conflicts_with = "clear")]
        refuse: bool,
        /// Remove the decision (back to the location-wide one, or the default).
        #[arg(long)]
        clear: bool,
        /// Why (the owner's request, a legal ground).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// The keys a partner's payloads are checked with (B8.5), and our own public key. With
    /// --trust, also trust a key to sign the partner's data (an enricher such as a hub); with
    /// --distrust, stop; with --refresh, fetch the partner's published keys now.
    SigningKeys {
        id: i64,
        /// An Ed25519 public key: its 32 octets in base64url (a JWK's `x`).
        #[arg(long, conflicts_with_all = ["distrust", "refresh"])]
        trust: Option<String>,
        /// Whose key it is (with --trust).
        #[arg(long, requires = "trust")]
        label: Option<String>,
        /// The kid of a trusted key to remove.
        #[arg(long, conflicts_with = "refresh")]
        distrust: Option<String>,
        #[arg(long)]
        refresh: bool,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// The roles a partner last took from us, and whether newer ones wait to be published
    /// (a failed publication is retried every `ocpi.push_retry_max`).
    PublishedRoles {
        id: i64,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Cap a session a CPO partner pushed us (B4.2, pre-paid; the CPO stops it when a limit is
    /// reached). Needs a CPO that publishes the x-unicharge-sessionlimits extension.
    SessionLimits {
        /// The CPO partner's id.
        id: i64,
        /// The OCPI session id (from `received/sessions`).
        session_id: String,
        /// Most the session may cost, including VAT, e.g. 20.00 (with --currency).
        #[arg(long)]
        max_cost: Option<Decimal>,
        /// The session's currency (ISO 4217).
        #[arg(long)]
        currency: Option<String>,
        /// Most energy, kWh, e.g. 30.5.
        #[arg(long)]
        max_energy: Option<Decimal>,
        /// Longest duration from the session's start, seconds.
        #[arg(long)]
        max_duration: Option<i64>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Create or replace a location of one of our parties: the OCPI location data (address,
    /// city, country, coordinates, time_zone, opening_times, …) from a JSON file, and the
    /// stations at it.
    Location {
        /// `CC*PID`, one of ours.
        party: String,
        id: String,
        /// JSON file with the location data, as OCPI spells it.
        #[arg(long)]
        file: std::path::PathBuf,
        #[arg(long = "station")]
        stations: Vec<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
}

pub async fn ocpi(command: &OcpiCommand) -> anyhow::Result<()> {
    match command {
        OcpiCommand::PartnerAdd { name, parties, api } => {
            api.send(
                reqwest::Method::POST,
                "ocpi/partners",
                Some(to_body(&PartnerBody {
                    name: name.clone(),
                    parties: parties.clone(),
                })?),
            )
            .await
        }
        OcpiCommand::Partners { api } => {
            api.send(reqwest::Method::GET, "ocpi/partners", None).await
        }
        OcpiCommand::Register {
            id,
            versions_url,
            token,
            api,
        } => {
            api.send(
                reqwest::Method::POST,
                &format!("ocpi/partners/{id}/register"),
                Some(to_body(&RegisterBody {
                    versions_url: versions_url.clone(),
                    token: token.clone(),
                })?),
            )
            .await
        }
        OcpiCommand::Outbox { id, limit, api } => {
            api.send(
                reqwest::Method::GET,
                &format!("ocpi/partners/{id}/outbox?limit={limit}"),
                None,
            )
            .await
        }
        OcpiCommand::Clients { id, api } => {
            api.send(
                reqwest::Method::GET,
                &format!("ocpi/partners/{id}/clients"),
                None,
            )
            .await
        }
        OcpiCommand::Sync { id, full, api } => {
            api.send(
                reqwest::Method::POST,
                &format!("ocpi/partners/{id}/sync"),
                Some(to_body(&SyncBody { full: *full })?),
            )
            .await
        }
        OcpiCommand::SyncStatus { id, api } => {
            api.send(
                reqwest::Method::GET,
                &format!("ocpi/partners/{id}/sync"),
                None,
            )
            .await
        }
        OcpiCommand::RotateCredentials { id, api } => {
            api.send(
                reqwest::Method::POST,
                &format!("ocpi/partners/{id}/rotate-credentials"),
                None,
            )
            .await
        }
        OcpiCommand::PartnerParties { id, parties, api } => {
            api.send(
                reqwest::Method::PUT,
                &format!("ocpi/partners/{id}/parties"),
                Some(to_body(&PartiesBody {
                    parties: parties.clone(),
                })?),
            )
            .await
        }
        OcpiCommand::LocationSharing {
            party,
            id,
            partner,
            approve,
            refuse,
            clear,
            reason,
            api,
        } => {
            let path = format!("ocpi/locations/{party}/{id}/sharing");
            if !(*approve || *refuse || *clear) {
                return api.send(reqwest::Method::GET, &path, None).await;
            }
            let approved = (!*clear).then_some(*approve);
            api.send(
                reqwest::Method::PUT,
                &path,
                Some(to_body(&SharingBody {
                    partner_id: *partner,
                    approved,
                    reason: reason.clone(),
                })?),
            )
            .await
        }
        OcpiCommand::SigningKeys {
            id,
            trust,
            label,
            distrust,
            refresh,
            api,
        } => {
            let path = format!("ocpi/partners/{id}/signing-keys");
            if let Some(key) = trust {
                let body = TrustBody {
                    public_key: key.clone(),
                    label: label.clone(),
                };
                return api
                    .send(reqwest::Method::POST, &path, Some(to_body(&body)?))
                    .await;
            }
            if let Some(kid) = distrust {
                let gone = format!("{path}/{kid}");
                api.send(reqwest::Method::DELETE, &gone, None).await?;
            } else if *refresh {
                return api
                    .send(reqwest::Method::POST, &format!("{path}/refresh"), None)
                    .await;
            }
            api.send(reqwest::Method::GET, &path, None).await
        }
        OcpiCommand::PublishedRoles { id, api } => {
            api.send(
                reqwest::Method::GET,
                &format!("ocpi/partners/{id}/published-roles"),
                None,
            )
            .await
        }
        OcpiCommand::SessionLimits {
            id,
            session_id,
            max_cost,
            currency,
            max_energy,
            max_duration,
            api,
        } => {
            api.send(
                reqwest::Method::PUT,
                &format!("ocpi/partners/{id}/sessions/{session_id}/limits"),
                Some(to_body(&LimitsBody {
                    max_cost: *max_cost,
                    currency: currency.clone(),
                    max_energy: *max_energy,
                    max_duration: *max_duration,
                    stop_message: Vec::new(),
                    driver_tariff: Vec::new(),
                })?),
            )
            .await
        }
        OcpiCommand::Location {
            party,
            id,
            file,
            stations,
            api,
        } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            // Read as the API will: a misspelt field is named here, with the file's line.
            let location: LocationData = serde_json::from_str(&text)
                .with_context(|| format!("{} is not OCPI location data", file.display()))?;
            api.send(
                reqwest::Method::PUT,
                &format!("ocpi/locations/{party}/{id}"),
                Some(to_body(&LocationBody {
                    location,
                    stations: stations.clone(),
                })?),
            )
            .await
        }
    }
}
