//! `unicharge-sim diameter load`: the Rf CTF client as a load generator against any CDF, and
//! `unicharge-sim diameter tps`: the CTF-role test purposes of ETSI TS 103 374-2 played against
//! any CDF.
//!
//! Load: N sessions (START, INTERIMs, STOP) started at a fixed rate (for at most a duration),
//! each ACR sent through one capabilities-exchanged connection; prints a progress line every
//! second, then ACR/s and the ACR→ACA latency p50 / p99 / p99.9 / max and the outcome counts.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Mutex;
use unicharge_diameter::rf::ctf::{Ctf, CtfConfig, Delivery};
use unicharge_diameter::rf::RecordType;

/// Arguments of `unicharge-sim diameter load`.
#[derive(Debug, clap::Args)]
pub struct DiameterLoadArgs {
    /// The CDF, e.g. 127.0.0.1:3868.
    #[arg(long, default_value = "127.0.0.1:3868")]
    pub cdf: SocketAddr,
    /// How many accounting sessions to play.
    #[arg(long, default_value_t = 1000)]
    pub sessions: u32,
    /// New sessions per second.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// INTERIM records per session (between START and STOP, sent back to back).
    #[arg(long, default_value_t = 1)]
    pub interims: u32,
    #[arg(long, default_value = "ctf.sim.localdomain")]
    pub origin_host: String,
    #[arg(long, default_value = "sim.localdomain")]
    pub origin_realm: String,
    #[arg(long, default_value = "unicharge.localdomain")]
    pub destination_realm: String,
    /// Stop starting sessions after this many seconds (the ones started still finish);
    /// absent: start all `--sessions`.
    #[arg(long)]
    pub duration: Option<f64>,
    /// TLS to the CDF.
    #[command(flatten)]
    pub tls: crate::diameter_tls::DiameterTlsArgs,
}

#[derive(Default)]
struct Stats {
    ok: u64,
    failed: u64,
    buffered: u64,
}

pub async fn load(args: DiameterLoadArgs) -> i32 {
    let mut config = CtfConfig::new(
        &args.origin_host,
        &args.origin_realm,
        &args.destination_realm,
        args.cdf,
    );
    config.max_retransmissions = 1;
    config.dialer = match args.tls.dialer() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let ctf = match Ctf::connect(config).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "error: {e} (is `unicharge serve` running with [diameter] listen = \"{}\"?)",
                args.cdf
            );
            return 1;
        }
    };
    let hist = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram"),
    ));
    let stats = Arc::new(Mutex::new(Stats::default()));
    let started = Instant::now();
    let period = Duration::from_secs_f64(1.0 / args.rate.max(0.001));
    let mut tasks = tokio::task::JoinSet::new();
    let mut last_progress = Instant::now();
    let stop_at = args
        .duration
        .map(|d| started + Duration::from_secs_f64(d.max(0.0)));
    let mut started_sessions = 0u32;
    for i in 0..args.sessions {
        let due = started + period * i;
        if stop_at.is_some_and(|t| due >= t) {
            break;
        }
        started_sessions += 1;
        tokio::time::sleep_until(due.into()).await;
        let (ctf, hist, task_stats) = (ctf.clone(), hist.clone(), stats.clone());
        let interims = args.interims;
        tasks.spawn(async move {
            let mut session = ctf.new_session();
            let msisdn = format!("4917{:08}", i);
            let kinds = std::iter::once(RecordType::Start)
                .chain(std::iter::repeat_n(RecordType::Interim, interims as usize))
                .chain(std::iter::once(RecordType::Stop));
            for kind in kinds {
                let acr = ctf.build_acr(
                    &mut session,
                    kind,
                    Some(Ctf::ims_service_information(&msisdn, Some("INVITE"))),
                );
                let t0 = Instant::now();
                let outcome = ctf.send(acr).await;
                let us = t0.elapsed().as_micros() as u64;
                let mut s = task_stats.lock().await;
                match outcome {
                    Ok(Delivery::Answered { answer, .. }) if answer.result_code() == Some(2001) => {
                        s.ok += 1;
                        let _ = hist.lock().await.record(us.max(1));
                    }
                    Ok(Delivery::Buffered) => s.buffered += 1,
                    _ => s.failed += 1,
                }
            }
        });
        if last_progress.elapsed() >= Duration::from_secs(1) {
            last_progress = Instant::now();
            let s = stats.lock().await;
            eprintln!(
                "[{:>6.1}s] sessions started {}/{} ACA ok {} failed {}",
                started.elapsed().as_secs_f64(),
                i + 1,
                args.sessions,
                s.ok,
                s.failed
            );
        }
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed().as_secs_f64();
    let s = stats.lock().await;
    let h = hist.lock().await;
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "diameter load: {} sessions, {} ACRs answered 2001 in {elapsed:.2}s ({:.0} ACR/s); failed {}, buffered {}",
        started_sessions,
        s.ok,
        s.ok as f64 / elapsed,
        s.failed,
        s.buffered
    );
    println!(
        "ACR->ACA latency ms: p50 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        ms(0.5),
        ms(0.99),
        ms(0.999),
        h.max() as f64 / 1000.0
    );
    i32::from(s.failed > 0)
}

/// Arguments of `unicharge-sim diameter tps`.
#[derive(Debug, clap::Args)]
pub struct DiameterTpsArgs {
    /// The CDF under test, e.g. 127.0.0.1:3868.
    #[arg(long, default_value = "127.0.0.1:3868")]
    pub cdf: SocketAddr,
    #[arg(long, default_value = "ctf.sim.localdomain")]
    pub origin_host: String,
    #[arg(long, default_value = "sim.localdomain")]
    pub origin_realm: String,
    #[arg(long, default_value = "unicharge.localdomain")]
    pub destination_realm: String,
    /// The subscriber (E.164) put in Subscription-Id.
    #[arg(long, default_value = "491700000000")]
    pub msisdn: String,
    /// TLS to the CDF.
    #[command(flatten)]
    pub tls: crate::diameter_tls::DiameterTlsArgs,
}

/// Checks an ACA as every CTF TP expects it: an answer (R = 0, T = 0, reserved bits 0,
/// version 1), Result-Code 2001, the Session-Id, Accounting-Record-Type and -Number echoed,
/// Acct-Application-Id 3.
fn check_aca(
    aca: &unicharge_diameter::Message,
    session: &str,
    record_type: RecordType,
    number: u32,
) -> Result<(), String> {
    let h = &aca.header;
    let mut problems = vec![];
    if h.version != 1 {
        problems.push(format!("version {}", h.version));
    }
    if h.flags.request() || h.flags.retransmit() || h.flags.reserved() != 0 {
        problems.push("header flags (R/T/reserved) not 0".to_owned());
    }
    if aca.result_code() != Some(2001) {
        problems.push(format!(
            "Result-Code {:?}, expected 2001",
            aca.result_code()
        ));
    }
    if aca.session_id() != Some(session) {
        problems.push(format!("Session-Id {:?}", aca.session_id()));
    }
    if aca.i32("Accounting-Record-Type") != Some(record_type as i32) {
        problems.push(format!(
            "Accounting-Record-Type {:?}, expected {}",
            aca.i32("Accounting-Record-Type"),
            record_type as i32
        ));
    }
    if aca.u32("Accounting-Record-Number") != Some(number) {
        problems.push(format!(
            "Accounting-Record-Number {:?}, expected {number}",
            aca.u32("Accounting-Record-Number")
        ));
    }
    if aca.u32("Acct-Application-Id") != Some(3) {
        problems.push("Acct-Application-Id not 3".to_owned());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Plays the CTF-role TPs that need only a CDF (MS and TC groups); the EC group needs a CDF
/// that fails on purpose and is played by `cargo test -p unicharge-diameter --test tp_rf_ctf`
/// against a scripted peer. Prints one verdict line per TP; exit status 1 if any fails.
pub async fn tps(args: DiameterTpsArgs) -> i32 {
    let mut config = CtfConfig::new(
        &args.origin_host,
        &args.origin_realm,
        &args.destination_realm,
        args.cdf,
    );
    config.max_retransmissions = 0;
    config.dialer = match args.tls.dialer() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let ctf = match Ctf::connect(config).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e} (is a CDF listening on {}?)", args.cdf);
            return 1;
        }
    };
    let si = || Some(Ctf::ims_service_information(&args.msisdn, Some("INVITE")));
    let mut failed = 0;
    let mut verdict = |tp: &str, result: Result<(), String>| match result {
        Ok(()) => println!("{tp:<16} pass"),
        Err(why) => {
            failed += 1;
            println!("{tp:<16} FAIL  {why}");
        }
    };
    // Sends one record of `session` and checks its ACA.
    async fn exchange(
        ctf: &Ctf,
        session: &mut unicharge_diameter::rf::ctf::CtfSession,
        kind: RecordType,
        si: Option<Vec<unicharge_diameter::Avp>>,
    ) -> Result<unicharge_diameter::Message, String> {
        let number = session.next_record_number;
        let acr = ctf.build_acr(session, kind, si);
        match ctf.send(acr).await {
            Ok(Delivery::Answered { answer, .. }) => {
                check_aca(&answer, &session.session_id, kind, number)?;
                Ok(answer)
            }
            Ok(Delivery::Buffered) => Err("no ACA (the ACR was buffered)".into()),
            Err(e) => Err(e.to_string()),
        }
    }
    // MS_01: an ACR with the mandatory AVPs is answered.
    let mut s = ctf.new_session();
    verdict(
        "TP_RF_CTF_MS_01",
        exchange(&ctf, &mut s, RecordType::Event, None)
            .await
            .map(drop),
    );
    // MS_02: header parameters (checked in every ACA; here on an EVENT with service data).
    let mut s = ctf.new_session();
    verdict(
        "TP_RF_CTF_MS_02",
        exchange(&ctf, &mut s, RecordType::Event, si())
            .await
            .map(drop),
    );
    // TC_01: EVENT.
    let mut s = ctf.new_session();
    verdict(
        "TP_RF_CTF_TC_01",
        exchange(&ctf, &mut s, RecordType::Event, si())
            .await
            .map(drop),
    );
    // TC_02 / TC_03 / TC_04 / TC_05: START, INTERIM, STOP of one session; TC_03 checks that
    // the CDF's Acct-Interim-Interval is one the CTF can honour (> 0 when present).
    let mut s = ctf.new_session();
    let start = exchange(&ctf, &mut s, RecordType::Start, si()).await;
    let interval = start
        .as_ref()
        .ok()
        .and_then(|a| a.u32("Acct-Interim-Interval"));
    verdict("TP_RF_CTF_TC_02", start.map(drop));
    verdict(
        "TP_RF_CTF_TC_03",
        match interval {
            Some(0) => Err("Acct-Interim-Interval 0 in the ACA to START".into()),
            _ => Ok(()),
        },
    );
    verdict(
        "TP_RF_CTF_TC_04",
        exchange(&ctf, &mut s, RecordType::Interim, si())
            .await
            .map(drop),
    );
    verdict(
        "TP_RF_CTF_TC_05",
        exchange(&ctf, &mut s, RecordType::Stop, si())
            .await
            .map(drop),
    );
    println!(
        "TP_RF_CTF_EC_01..06: need a CDF that fails on purpose: `cargo test -p unicharge-diameter --test tp_rf_ctf`"
    );
    if let Some(i) = interval {
        println!("(the CDF granted Acct-Interim-Interval {i} s)");
    }
    i32::from(failed > 0)
}
