//! `unicharge firmware campaign …` (L01 rollout campaigns) and `unicharge log-files …` (N01
//! logs stations uploaded to unicharge): both talk to the running server's operator API.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Subcommand;
use serde_json::{json, Value};

use unicharge_api::campaigns::{StartCampaignBody, StationFilter};

use crate::cli::ApiArgs;

#[derive(Debug, Subcommand)]
pub enum FirmwareCommand {
    /// Rollout campaigns: one firmware to many stations, a few at a time.
    #[command(subcommand)]
    Campaign(CampaignCommand),
}

// Built once per process from the command line: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Start a campaign, e.g. `firmware campaign start --name acme-2.0 --file <sha256>
    /// --vendor Acme --firmware-version 1.9 --concurrency 20`. Stations are chosen by
    /// `--station` (repeat it) or by boot data (`--vendor`, `--model`, `--firmware-version`).
    Start {
        #[arg(long)]
        name: String,
        /// A firmware file unicharge serves (its SHA-256, from `POST /api/v1/firmware`).
        #[arg(long, conflicts_with = "location")]
        file: Option<String>,
        /// Or the URI stations download the firmware from.
        #[arg(long)]
        location: Option<String>,
        /// Base64 signature of the firmware (secure update), unless the served file has one.
        #[arg(long)]
        signature: Option<String>,
        #[arg(long = "station", conflicts_with_all = ["vendor", "model", "firmware_version"])]
        stations: Vec<String>,
        #[arg(long)]
        vendor: Option<String>,
        #[arg(long)]
        model: Option<String>,
        /// The firmware version the stations run now (from their BootNotification).
        #[arg(long)]
        firmware_version: Option<String>,
        /// Stations updating at once, at most.
        #[arg(long, default_value = "10")]
        concurrency: i64,
        /// UpdateFirmware attempts per station (1: no retry).
        #[arg(long, default_value = "2")]
        max_attempts: i64,
        /// Seconds an update may take to reach a final status before it counts as failed.
        #[arg(long, default_value = "3600")]
        station_timeout: u64,
        /// When stations install once downloaded (RFC 3339, e.g. 2027-01-10T02:00:00Z); absent:
        /// at once.
        #[arg(long = "install-at")]
        install_at: Option<chrono::DateTime<chrono::Utc>>,
        /// The station's own download retries (UpdateFirmware `retries`); absent: its default.
        #[arg(long)]
        retries: Option<i64>,
        /// Seconds between the station's own download retries (`retryInterval`).
        #[arg(long)]
        retry_interval: Option<i64>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// List campaigns with their counts.
    List {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Show a campaign and the state of each station; `--watch` draws a progress bar until it
    /// ends (plain lines when stdout is not a terminal).
    Show {
        id: i64,
        #[arg(long)]
        watch: bool,
        /// Seconds between two reads with `--watch`.
        #[arg(long, default_value = "2")]
        interval: u64,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Start no more stations (updates under way are still followed).
    Pause {
        id: i64,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Continue a paused campaign.
    Resume {
        id: i64,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// End a campaign: pending stations end Aborted; updates already sent are followed.
    Abort {
        id: i64,
        #[command(flatten)]
        api: ApiArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum LogFilesCommand {
    /// The log files a station uploaded (ask for one with `POST /api/v1/stations/{id}/logs`
    /// without `remoteLocation`).
    List {
        station: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Write a log file's content to `--out` (default: its name, or `log-<id>`).
    Download {
        id: i64,
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        api: ApiArgs,
    },
}

/// The API client of these commands.
struct Client<'a> {
    api: &'a ApiArgs,
    http: reqwest::Client,
}

impl<'a> Client<'a> {
    fn new(api: &'a ApiArgs) -> Self {
        Client {
            api,
            http: reqwest::Client::new(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<reqwest::Response> {
        let Some(key) = &self.api.api_key else {
            bail!("this command talks to the running server: give --api-key or set UNICHARGE_API_KEY (`unicharge api-key create --name cli`)");
        };
        let url = format!("{}/api/v1/{path}", self.api.api_url.trim_end_matches('/'));
        let mut request = self.http.request(method, &url).bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.with_context(|| {
            format!(
                "cannot reach the server at {url} (is `unicharge serve` running? set --api-url)"
            )
        })?;
        if !response.status().is_success() {
            let status = response.status();
            bail!(
                "HTTP {status}: {}",
                response.text().await.unwrap_or_default()
            );
        }
        Ok(response)
    }

    async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        Ok(self.send(method, path, body).await?.json().await?)
    }
}

fn print(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}

pub async fn firmware(command: &FirmwareCommand) -> anyhow::Result<()> {
    let FirmwareCommand::Campaign(command) = command;
    use reqwest::Method;
    match command {
        CampaignCommand::Start {
            name,
            file,
            location,
            signature,
            stations,
            vendor,
            model,
            firmware_version,
            concurrency,
            max_attempts,
            station_timeout,
            install_at,
            retries,
            retry_interval,
            api,
        } => {
            if stations.is_empty()
                && vendor.is_none()
                && model.is_none()
                && firmware_version.is_none()
            {
                bail!("choose the stations: --station ID (repeat it), or a filter on their boot data (--vendor, --model, --firmware-version)");
            }
            // The API's own request type: the CLI cannot misname a field.
            let (stations, filter) = if stations.is_empty() {
                let filter = StationFilter {
                    vendor: vendor.clone(),
                    model: model.clone(),
                    firmware_version: firmware_version.clone(),
                };
                (None, Some(filter))
            } else {
                (Some(stations.clone()), None)
            };
            let body = StartCampaignBody {
                name: name.clone(),
                location: location.clone(),
                file: file.clone(),
                signature: signature.clone(),
                install_date_time: *install_at,
                retries: *retries,
                retry_interval: *retry_interval,
                stations,
                filter,
                concurrency: Some(*concurrency),
                max_attempts: Some(*max_attempts),
                station_timeout_secs: Some(*station_timeout),
            };
            let created = Client::new(api)
                .json(
                    Method::POST,
                    "firmware-campaigns",
                    Some(serde_json::to_value(&body)?),
                )
                .await?;
            println!(
                "campaign {} started on {} stations; follow it with `unicharge firmware campaign show {} --watch`",
                created["id"], created["counts"]["total"], created["id"]
            );
            Ok(())
        }
        CampaignCommand::List { api } => {
            let list = Client::new(api)
                .json(Method::GET, "firmware-campaigns", None)
                .await?;
            for c in list["campaigns"].as_array().into_iter().flatten() {
                println!("{}", summary(c));
            }
            Ok(())
        }
        CampaignCommand::Show {
            id,
            watch,
            interval,
            api,
        } => {
            let client = Client::new(api);
            let path = format!("firmware-campaigns/{id}");
            if !watch {
                print(&client.json(Method::GET, &path, None).await?);
                return Ok(());
            }
            watch_campaign(&client, &path, Duration::from_secs((*interval).max(1))).await
        }
        CampaignCommand::Pause { id, api } => steer(api, *id, "pause").await,
        CampaignCommand::Resume { id, api } => steer(api, *id, "resume").await,
        CampaignCommand::Abort { id, api } => steer(api, *id, "abort").await,
    }
}

async fn steer(api: &ApiArgs, id: i64, what: &str) -> anyhow::Result<()> {
    let c = Client::new(api)
        .json(
            reqwest::Method::POST,
            &format!("firmware-campaigns/{id}/{what}"),
            Some(json!({})),
        )
        .await?;
    println!("{}", summary(&c));
    Ok(())
}

/// `#id name state: installed/total, failed, skipped, aborted, in progress, pending`.
fn summary(c: &Value) -> String {
    let n = &c["counts"];
    format!(
        "#{} {} {}: {}/{} installed, {} failed, {} skipped, {} aborted, {} in progress, {} pending",
        c["id"],
        c["name"].as_str().unwrap_or(""),
        c["state"].as_str().unwrap_or(""),
        n["installed"],
        n["total"],
        n["failed"],
        n["skipped"],
        n["aborted"],
        n["inProgress"],
        n["pending"]
    )
}

fn finished(c: &Value) -> u64 {
    let n = &c["counts"];
    ["installed", "failed", "skipped", "aborted"]
        .iter()
        .map(|k| n[*k].as_u64().unwrap_or(0))
        .sum()
}

fn over(c: &Value) -> bool {
    c["state"] == "Completed" || (c["state"] == "Aborted" && c["counts"]["inProgress"] == 0)
}

/// Redraw progress until the campaign is over; then list the stations that did not install.
async fn watch_campaign(client: &Client<'_>, path: &str, every: Duration) -> anyhow::Result<()> {
    let tty = std::io::stdout().is_terminal();
    let mut c = client.json(reqwest::Method::GET, path, None).await?;
    let total = c["counts"]["total"].as_u64().unwrap_or(0);
    let bar = if tty {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("#{} {}", c["id"], c["name"].as_str().unwrap_or("")));
        Some(bar)
    } else {
        None
    };
    let mut last = String::new();
    loop {
        let line = summary(&c);
        match &bar {
            Some(bar) => {
                bar.set_position(finished(&c));
                let n = &c["counts"];
                bar.set_message(format!(
                    "{} | {} installed, {} failed, {} skipped, {} in progress",
                    c["state"].as_str().unwrap_or(""),
                    n["installed"],
                    n["failed"],
                    n["skipped"],
                    n["inProgress"]
                ));
            }
            None if line != last => println!("{line}"),
            None => {}
        }
        last = line;
        if over(&c) {
            break;
        }
        tokio::time::sleep(every).await;
        c = client.json(reqwest::Method::GET, path, None).await?;
    }
    if let Some(bar) = bar {
        bar.finish();
    }
    for s in c["stations"].as_array().into_iter().flatten() {
        if s["state"] != "Installed" {
            println!(
                "{} {} (last status {}, attempts {}): {}",
                s["stationId"].as_str().unwrap_or(""),
                s["state"].as_str().unwrap_or(""),
                s["lastStatus"].as_str().unwrap_or("-"),
                s["attempts"],
                s["reason"].as_str().unwrap_or("")
            );
        }
    }
    Ok(())
}

pub async fn log_files(command: &LogFilesCommand) -> anyhow::Result<()> {
    match command {
        LogFilesCommand::List { station, api } => {
            let list = Client::new(api)
                .json(
                    reqwest::Method::GET,
                    &format!("stations/{station}/log-files"),
                    None,
                )
                .await?;
            for f in list["logFiles"].as_array().into_iter().flatten() {
                println!(
                    "{}\t{}\trequest {}\t{} bytes\tsha256 {}\t{}",
                    f["id"],
                    f["uploadedAt"].as_str().unwrap_or(""),
                    f["requestId"],
                    f["size"],
                    f["sha256"].as_str().unwrap_or(""),
                    f["filename"].as_str().unwrap_or("-")
                );
            }
            Ok(())
        }
        LogFilesCommand::Download { id, out, api } => {
            let client = Client::new(api);
            let meta = client
                .json(reqwest::Method::GET, &format!("log-files/{id}"), None)
                .await?;
            let content = client
                .send(
                    reqwest::Method::GET,
                    &format!("log-files/{id}/content"),
                    None,
                )
                .await?
                .bytes()
                .await?;
            let out = out.clone().unwrap_or_else(|| {
                let name = meta["filename"].as_str().unwrap_or("");
                let safe: String = name
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
                    .collect();
                PathBuf::from(if safe.is_empty() || safe.starts_with('.') {
                    format!("log-{id}")
                } else {
                    safe
                })
            });
            std::fs::write(&out, &content)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "{} bytes written to {} (sha256 {})",
                content.len(),
                out.display(),
                meta["sha256"].as_str().unwrap_or("")
            );
            Ok(())
        }
    }
}
