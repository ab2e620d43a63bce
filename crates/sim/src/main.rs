//! `unicharge-sim`: play the OCTT CSMS test cases against any OCPP 2.0.1 CSMS.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use unicharge_sim::load::{self, Endpoint, StationCredentials};
use unicharge_sim::octt::{self, catalog, InvalidCertificate, Target, Verdict};

/// A charging-station simulator that plays the OCTT CSMS test cases (OCPP 2.0.1 Part 6).
///
/// Example, against a CSMS that has station CP001 at security profile 1:
///
///   unicharge-sim run --ws-url ws://localhost:8180/ocpp --station CP001 --password 'its-password-16+' TC_A_01_CSMS TC_B_01_CSMS
#[derive(Debug, Parser)]
#[command(name = "unicharge-sim", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the test cases of the seed and whether the simulator can play them.
    List,
    /// Play test cases against a CSMS.
    Run(Box<RunArgs>),
    /// Generate load: N stations boot, report their connector, then play charging sessions
    /// (the mix: docs/load-testing.md) at a fixed aggregate rate or closed loop; prints
    /// msgs/s, latency percentiles, errors by kind and behind-schedule sends.
    ///
    /// Runs on one thread: pin it with `taskset -c 1`.
    Load(Box<LoadArgs>),
    /// Reconnect storm: N stations connect and boot as fast as the concurrency allows; prints
    /// the time until all are Accepted, connects/s and failures.
    Storm(Box<StormArgs>),
    /// ISO 17575-1 road-usage charging: play OBE front ends against a back end.
    #[command(subcommand)]
    Efc(EfcCommand),
    /// Diameter Rf: play the CTF against a CDF and generate accounting load.
    #[command(subcommand)]
    Diameter(DiameterCommand),
}

#[derive(Debug, Subcommand)]
enum DiameterCommand {
    /// N accounting sessions (START, INTERIM…, STOP) at a fixed rate; prints ACR/s and the
    /// ACR→ACA latency p50/p99/p99.9 with a progress line every second.
    Load(Box<unicharge_sim::diameter::DiameterLoadArgs>),
    /// Play the CTF-role test purposes of ETSI TS 103 374-2 (MS, TC) against a CDF; one
    /// verdict line per TP.
    Tps(Box<unicharge_sim::diameter::DiameterTpsArgs>),
    /// Ro: N credit-control sessions (CCR-Initial, CCR-Update…, CCR-Termination) at a fixed
    /// rate against an OCF; prints CCR/s and the CCR→CCA latency p50/p99/p99.9.
    RoLoad(Box<unicharge_sim::diameter_ro::RoLoadArgs>),
}

/// Which stations, where, and how they connect (load and storm).
#[derive(Debug, clap::Args)]
struct StationArgs {
    /// Plain WebSocket endpoint without the station id (security profile 1).
    #[arg(long, default_value = "ws://127.0.0.1:8180/ocpp")]
    ws_url: String,
    /// TLS WebSocket endpoint without the station id (profiles 2 and 3).
    #[arg(long)]
    wss_url: Option<String>,
    /// 1: ws + Basic, 2: wss + Basic, 3: wss + client certificate.
    #[arg(long, default_value = "1", value_parser = clap::value_parser!(u8).range(1..=3))]
    profile: u8,
    /// CA certificate (PEM) of the CSMS's server certificate (wss); without it, not verified.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Profile 3: folder with `<id>.pem` and `<id>.key.pem` per station
    /// (`unicharge station issue-cert <id> --out DIR`).
    #[arg(long)]
    cert_dir: Option<PathBuf>,
    /// Number of stations (default 100; with --credentials: every row).
    #[arg(long)]
    stations: Option<usize>,
    /// Station ids are PREFIX0, PREFIX1, … (without --credentials).
    #[arg(long, default_value = "LOAD")]
    prefix: String,
    /// Basic password of every station (without --credentials).
    #[arg(
        long,
        env = "UNICHARGE_SIM_PASSWORD",
        default_value = "load-test-password-0001"
    )]
    password: String,
    /// CSV file `station_id,password` (header, one row per station), as
    /// `unicharge station add-many … --credentials-out FILE` writes it.
    #[arg(long)]
    credentials: Option<PathBuf>,
    /// Seconds to wait for a connection or an answer.
    #[arg(long, default_value = "10")]
    timeout: f64,
    /// Print the report as one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct LoadArgs {
    #[command(flatten)]
    stations: StationArgs,
    /// Aggregate CALLs per second over all stations; 0: closed loop (each station sends its
    /// next CALL as soon as the answer arrives).
    #[arg(long, default_value = "1000")]
    rate: f64,
    /// Seconds to reach the rate (linear ramp from 0).
    #[arg(long, default_value = "0")]
    ramp: f64,
    /// Seconds of load (ramp included; connecting comes first).
    #[arg(long, default_value = "30")]
    duration: f64,
    /// Stations connecting at the same time.
    #[arg(long, default_value = "64")]
    connect_concurrency: usize,
    /// TransactionEvent Updated per charging session.
    #[arg(long, default_value = "30")]
    updates_per_session: u32,
    /// One MeterValues after every this many Updated (0: none).
    #[arg(long, default_value = "2")]
    meter_values_every: u32,
    /// Percentage of sessions that begin with Authorize.
    #[arg(long, default_value = "50", value_parser = clap::value_parser!(u32).range(0..=100))]
    authorize_percent: u32,
    /// Heartbeat every this many seconds (default: the interval the CSMS gives at boot).
    #[arg(long)]
    heartbeat_interval: Option<u64>,
    /// Percentage of the stations that speak OCPP 1.6J (the same sessions as StartTransaction /
    /// MeterValues / StopTransaction), evenly spread: 50 is a half-and-half fleet.
    #[arg(long, default_value = "0", value_parser = clap::value_parser!(u32).range(0..=100))]
    ocpp16_percent: u32,
    /// No progress line on stderr.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, clap::Args)]
struct StormArgs {
    #[command(flatten)]
    stations: StationArgs,
    /// Connections (connect + boot) in progress at once.
    #[arg(long, default_value = "256")]
    concurrency: usize,
    /// Seconds to keep every connection open (idle) after the storm, e.g. to read the CSMS's
    /// memory per idle station.
    #[arg(long, default_value = "0")]
    hold: u64,
    /// No progress line on stderr.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Case ids (e.g. TC_A_01_CSMS); none = every case the simulator can play.
    cases: Vec<String>,
    /// Plain WebSocket endpoint without the station id (security profile 1).
    #[arg(long)]
    ws_url: Option<String>,
    /// TLS WebSocket endpoint without the station id (security profiles 2 and 3).
    #[arg(long)]
    wss_url: Option<String>,
    /// <Configured ChargingStationId>.
    #[arg(long, default_value = "CP001")]
    station: String,
    /// <Configured BasicAuthPassword> (profiles 1 and 2).
    #[arg(long, env = "UNICHARGE_SIM_PASSWORD")]
    password: Option<String>,
    /// The security profile the CSMS has the station at.
    #[arg(long, default_value = "1")]
    profile: u8,
    /// CA certificate (PEM) that issued the CSMS's server certificate.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Client certificate (PEM) for profile 3.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// Client private key (PEM) for profile 3.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// An invalid client certificate for TC_A_08 as KIND=CERT.pem,KEY.pem (repeatable).
    #[arg(long = "invalid-cert", value_parser = parse_invalid_cert)]
    invalid_certs: Vec<InvalidCertificate>,
    /// Seconds to wait for any answer.
    #[arg(long, default_value = "10")]
    timeout: u64,
}

fn parse_invalid_cert(s: &str) -> Result<InvalidCertificate, String> {
    let (kind, files) = s.split_once('=').ok_or("expected KIND=CERT,KEY")?;
    let (cert, key) = files.split_once(',').ok_or("expected KIND=CERT,KEY")?;
    Ok(InvalidCertificate {
        kind: kind.into(),
        cert: cert.into(),
        key: key.into(),
    })
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let cli = Cli::parse();
    // Load and storm run every station on one thread (no cross-thread wake-ups): the generator
    // must be cheap enough to drive the CSMS from one core. The OCTT cases keep the default.
    let runtime = match cli.command {
        Command::Load(_) | Command::Storm(_) => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    }
    .enable_all()
    .build()
    .expect("tokio runtime");
    std::process::exit(runtime.block_on(dispatch(cli.command)));
}

async fn dispatch(command: Command) -> i32 {
    match command {
        Command::List => {
            let implemented = octt::implemented();
            for case in catalog::all() {
                let mark = if implemented.contains(&case.id) {
                    "playable"
                } else {
                    "-"
                };
                println!("{:<14} {:<9} {}", case.id, mark, case.name);
            }
            0
        }
        Command::Run(args) => run(*args).await,
        Command::Load(args) => load(*args).await,
        Command::Storm(args) => storm(*args).await,
        Command::Diameter(DiameterCommand::Load(args)) => {
            unicharge_sim::diameter::load(*args).await
        }
        Command::Diameter(DiameterCommand::Tps(args)) => unicharge_sim::diameter::tps(*args).await,
        Command::Diameter(DiameterCommand::RoLoad(args)) => {
            unicharge_sim::diameter_ro::load(*args).await
        }
        Command::Efc(command) => efc_main(command).await,
    }
}

/// Where the EFC back end listens.
#[derive(Debug, clap::Args)]
struct EfcTarget {
    /// TCP listener of the back end (4-octet length-prefixed frames).
    #[arg(long, default_value = "127.0.0.1:17575", conflicts_with = "http")]
    tcp: std::net::SocketAddr,
    /// Use HTTP instead: base URL of the back end, e.g. http://127.0.0.1:17576 (POST /efc/adu).
    #[arg(long)]
    http: Option<String>,
}

impl EfcTarget {
    fn bearer(&self) -> unicharge_sim::efc::Bearer {
        match &self.http {
            Some(url) => unicharge_sim::efc::Bearer::Http(url.clone()),
            None => unicharge_sim::efc::Bearer::Tcp(self.tcp),
        }
    }
}

#[derive(Debug, Subcommand)]
enum EfcCommand {
    /// Charge Report scenario (TP/CR/FE/BV/03, 04, 06, 07): one OBE sends REPORTS reports,
    /// starting at --counter and --mileage (try 4294967294 / 16777200 to cross both wraps);
    /// every answer must be CRR_ACK echoing the counter. Exit status 1 on the first bad answer.
    Cr {
        #[command(flatten)]
        target: EfcTarget,
        #[arg(long, default_value = "5")]
        reports: u32,
        #[arg(long, default_value = "0")]
        counter: u32,
        #[arg(long, default_value = "1000")]
        mileage: u32,
        /// OBE serial (equipmentObuId), as text.
        #[arg(long, default_value = "SIM-OBE-1")]
        obe: String,
    },
    /// Back End Feedback scenario: one OBE with an on-board credit account (THR 1000, starting
    /// at --balance) sends reports until the back end's accountUpdates bring it to ok, printing
    /// every accountStatus transition (queue the update with the operator first).
    Bef {
        #[command(flatten)]
        target: EfcTarget,
        #[arg(long, default_value = "-500", allow_hyphen_values = true)]
        balance: i64,
        #[arg(long, default_value = "20")]
        max_reports: u32,
        #[arg(long, default_value = "SIM-OBE-1")]
        obe: String,
    },
    /// Load: OBES front ends on their own connections send REPORTS reports each as fast as
    /// answers come back; prints a progress line every second and reports/s at the end.
    Load {
        #[command(flatten)]
        target: EfcTarget,
        #[arg(long, default_value = "100")]
        obes: usize,
        #[arg(long, default_value = "100")]
        reports: u64,
    },
}

async fn efc_main(command: EfcCommand) -> i32 {
    use unicharge_sim::efc::{AccountKind, Client, FrontEnd, OnBoardAccount};
    let result: anyhow::Result<()> = async {
        match command {
            EfcCommand::Cr {
                target,
                reports,
                counter,
                mileage,
                obe,
            } => {
                let mut client = Client::connect(&target.bearer()).await?;
                let mut fe = FrontEnd::new(1, obe.as_bytes(), 1);
                fe.counter = counter;
                fe.mileage = mileage;
                for _ in 0..reports {
                    let (r, crr) = fe.report(&mut client, chrono::Utc::now()).await?;
                    println!(
                        "counter {:>10} mileage {:>10} -> obeStatusForDriver {:?} accountUpdate {}",
                        r.charge_report_counter.unwrap_or_default(),
                        r.mileage.as_ref().map(|m| m.dist).unwrap_or_default(),
                        crr.obe_status_for_driver,
                        crr.account_update.is_some()
                    );
                    anyhow::ensure!(
                        crr.obe_status_for_driver == Some(0) && crr.account_update.is_none(),
                        "not a CRR_ACK: {crr:?}"
                    );
                }
                Ok(())
            }
            EfcCommand::Bef {
                target,
                balance,
                max_reports,
                obe,
            } => {
                let mut client = Client::connect(&target.bearer()).await?;
                let mut fe = FrontEnd::new(1, obe.as_bytes(), 1);
                fe.account = Some(OnBoardAccount {
                    kind: AccountKind::Credit,
                    remaining: balance,
                    threshold: 1000,
                    reload_value: 250,
                });
                for _ in 0..max_reports {
                    let (r, crr) = fe.report(&mut client, chrono::Utc::now()).await?;
                    println!(
                        "accountStatus {:?} -> obeStatusForDriver {:?} accountUpdate {:?}",
                        r.account_status, crr.obe_status_for_driver, crr.account_update
                    );
                    if r.account_status == Some(0) {
                        return Ok(());
                    }
                }
                anyhow::bail!("account did not reach ok within {max_reports} reports")
            }
            EfcCommand::Load {
                target,
                obes,
                reports,
            } => {
                let summary = unicharge_sim::efc::load::run(target.bearer(), obes, reports, |s| {
                    eprintln!(
                        "{:>6.1}s sent {} ok {} failed {} ({:.0} reports/s)",
                        s.elapsed.as_secs_f64(),
                        s.sent,
                        s.ok,
                        s.failed,
                        s.per_second()
                    )
                })
                .await?;
                println!(
                    "{} reports answered, {} failed, {:.2}s, {:.0} reports/s",
                    summary.ok,
                    summary.failed,
                    summary.elapsed.as_secs_f64(),
                    summary.per_second()
                );
                Ok(())
            }
        }
    }
    .await;
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

/// The stations and endpoint the arguments describe.
fn stations(args: &StationArgs) -> Result<(Vec<StationCredentials>, Endpoint), String> {
    let mut list = match &args.credentials {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            load::stations::parse_csv(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => load::stations::numbered(
            &args.prefix,
            args.stations.unwrap_or(100),
            (args.profile < 3).then_some(args.password.as_str()),
        ),
    };
    if let Some(n) = args.stations {
        if n > list.len() {
            return Err(format!(
                "--stations {n}, but only {} credentials",
                list.len()
            ));
        }
        list.truncate(n);
    }
    if args.profile == 3 {
        list.iter_mut().for_each(|s| s.password = None);
        if args.cert_dir.is_none() {
            return Err("profile 3 needs --cert-dir".into());
        }
    }
    if args.profile > 1 && args.wss_url.is_none() {
        return Err(format!("profile {} needs --wss-url", args.profile));
    }
    let endpoint = Endpoint {
        ws_url: Some(args.ws_url.clone()),
        wss_url: args.wss_url.clone(),
        profile: args.profile,
        ca: args.ca.clone(),
        cert_dir: args.cert_dir.clone(),
        timeout: Duration::from_secs_f64(args.timeout.max(0.001)),
    };
    Ok((list, endpoint))
}

async fn load(args: LoadArgs) -> i32 {
    let (list, endpoint) = match stations(&args.stations) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let plan = load::LoadPlan {
        endpoint,
        stations: list,
        mix: load::Mix {
            updates_per_session: args.updates_per_session,
            meter_values_every: args.meter_values_every,
            authorize_percent: args.authorize_percent,
            heartbeat_interval: args.heartbeat_interval.map(Duration::from_secs),
            ..load::Mix::default()
        },
        pace: if args.rate > 0.0 {
            load::Pace::Fixed {
                rate: args.rate,
                ramp: Duration::from_secs_f64(args.ramp.max(0.0)),
            }
        } else {
            load::Pace::ClosedLoop
        },
        duration: Duration::from_secs_f64(args.duration.max(0.0)),
        connect_concurrency: args.connect_concurrency,
        progress: (!args.quiet).then_some(Duration::from_secs(1)),
        ocpp16_percent: args.ocpp16_percent,
    };
    let report = load::run(&plan).await;
    print_report(&report, args.stations.json);
    i32::from(report.connected == 0)
}

async fn storm(args: StormArgs) -> i32 {
    let (list, endpoint) = match stations(&args.stations) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let plan = load::storm::StormPlan {
        endpoint,
        stations: list,
        concurrency: args.concurrency,
        hold: Duration::from_secs(args.hold),
        progress: (!args.quiet).then_some(Duration::from_secs(1)),
    };
    let report = load::storm::storm(&plan).await;
    print_report(&report, args.stations.json);
    i32::from(report.seconds_until_all_accepted.is_none())
}

fn print_report<R: std::fmt::Display + serde::Serialize>(report: &R, json: bool) {
    if json {
        match serde_json::to_string(report) {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("report not serialisable: {e}"),
        }
    } else {
        println!("{report}");
    }
}

async fn run(args: RunArgs) -> i32 {
    let mut target = Target::new(args.station);
    target.ws_url = args.ws_url;
    target.wss_url = args.wss_url;
    target.password = args.password;
    target.security_profile = args.profile;
    target.ca = args.ca;
    target.client_cert = args.cert.zip(args.key);
    target.invalid_client_certs = args.invalid_certs;
    target.timeout = Duration::from_secs(args.timeout);
    let cases: Vec<String> = if args.cases.is_empty() {
        octt::implemented().iter().map(|s| s.to_string()).collect()
    } else {
        args.cases
    };
    let (mut passed, mut failed) = (0, 0);
    for case in &cases {
        let verdict = octt::run(case, &target, None).await;
        match &verdict {
            Verdict::Pass => {
                passed += 1;
                println!("{case}: pass");
            }
            Verdict::Fail(reason) => {
                failed += 1;
                println!("{case}: FAIL — {reason}");
            }
            Verdict::NotApplicable(reason) => println!("{case}: not applicable — {reason}"),
            Verdict::NotImplemented => println!("{case}: not implemented in the simulator"),
        }
    }
    println!("{passed} passed, {failed} failed");
    i32::from(failed > 0)
}
