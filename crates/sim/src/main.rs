//! `unicharge-sim`: play the OCTT CSMS test cases against any OCPP 2.0.1 CSMS.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
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
    /// Generate load: many stations boot, then each sends StatusNotifications back to back;
    /// prints durable messages/s and round-trip percentiles. The CSMS must admit the stations:
    /// provision `<prefix>0..N` with the password, or run it with `unknown_stations = "accept"`.
    Load(LoadArgs),
}

#[derive(Debug, clap::Args)]
struct LoadArgs {
    /// Plain WebSocket endpoint without the station id.
    #[arg(long, default_value = "ws://127.0.0.1:8180/ocpp")]
    ws_url: String,
    /// Number of stations.
    #[arg(long, default_value = "100")]
    stations: usize,
    /// StatusNotifications per station after its boot.
    #[arg(long, default_value = "100")]
    messages: usize,
    /// Station ids are PREFIX0, PREFIX1, ...
    #[arg(long, default_value = "LOAD")]
    prefix: String,
    /// Basic password of every station.
    #[arg(long, default_value = "load-test-password-0001")]
    password: String,
    /// Stations connecting at the same time.
    #[arg(long, default_value = "32")]
    connect_concurrency: usize,
    /// Seconds to keep all connections open (idle) after sending.
    #[arg(long, default_value = "0")]
    hold: u64,
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

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let cli = Cli::parse();
    match cli.command {
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
        }
        Command::Run(args) => std::process::exit(run(*args).await),
        Command::Load(args) => {
            let plan = unicharge_sim::load::LoadPlan {
                ws_url: args.ws_url,
                id_prefix: args.prefix,
                password: args.password,
                stations: args.stations,
                messages_per_station: args.messages,
                connect_concurrency: args.connect_concurrency,
                timeout: Duration::from_secs(30),
                hold: Duration::from_secs(args.hold),
            };
            match unicharge_sim::load::run(&plan).await {
                Ok(report) => println!("{report}"),
                Err(e) => {
                    eprintln!("load run failed: {e:#}");
                    std::process::exit(1);
                }
            }
        }
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
