//! `cargo xtask diameter-report`: run the Diameter Rf/Ro conformance tests and write
//! `docs/conformance/diameter-rf-ro.md`, listing every test purpose of ETSI TS 103 374-2
//! (`crates/diameter/tests/ts-103-374-2-tps.tsv`, 118 TPs) as pass / fail / not implemented.
//!
//! Like `conformance-report` (whose libtest parser it shares), the report only comes from a
//! real run. A TP's test is named after it in lower case (`TP_RF_CDF_EC_01` → `tp_rf_cdf_ec_01`);
//! one test may cover several TPs of the same interface and role, joined with `_and_`
//! (`tp_rf_ctf_ec_02_and_ec_03`).
//!
//! ```text
//! cargo xtask diameter-report [--from FILE]...
//! ```
//!
//! Without `--from` it runs `cargo test -p unicharge-diameter --test tp_rf_ctf` and
//! `cargo test -p unicharge-server --test diameter_rf_cdf` and `--test diameter_ro_ocf` /
//! `--test diameter_ro_ctf` (the Ro OCF and CTF TPs, issue 14).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::conformance_report::{parse_output, Outcome, TestResult};

const TPS_TSV: &str = "crates/diameter/tests/ts-103-374-2-tps.tsv";
const REPORT: &str = "docs/conformance/diameter-rf-ro.md";
const SUITES: &[&[&str]] = &[
    &["test", "-p", "unicharge-diameter", "--test", "tp_rf_ctf"],
    &[
        "test",
        "-p",
        "unicharge-server",
        "--test",
        "diameter_rf_cdf",
    ],
    &[
        "test",
        "-p",
        "unicharge-server",
        "--test",
        "diameter_ro_ocf",
    ],
    &[
        "test",
        "-p",
        "unicharge-server",
        "--test",
        "diameter_ro_ctf",
    ],
];

struct Tp {
    id: String,
    interface: String,
    role: String,
    group: String,
    summary: String,
}

fn parse_tps(text: &str) -> Result<Vec<Tp>> {
    let mut tps = vec![];
    for line in text.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 5 {
            bail!("{TPS_TSV}: short row {line:?}");
        }
        tps.push(Tp {
            id: f[0].into(),
            interface: f[1].into(),
            role: f[2].into(),
            group: f[3].into(),
            summary: f[4].into(),
        });
    }
    Ok(tps)
}

/// The TP ids (lower case) a test name covers: `tp_rf_ctf_ec_02_and_ec_03` → both.
fn covered(test: &str) -> Vec<String> {
    let mut parts = test.split("_and_");
    let Some(first) = parts.next() else {
        return vec![];
    };
    let mut ids = vec![first.to_string()];
    // The prefix up to the role: tp_<if>_<role>_
    let prefix: String = first.splitn(4, '_').take(3).collect::<Vec<_>>().join("_") + "_";
    ids.extend(parts.map(|p| format!("{prefix}{p}")));
    ids
}

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let mut from = vec![];
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--from" => from.push(it.next().context("--from needs a file")?.clone()),
            "-h" | "--help" => {
                eprintln!("usage: cargo xtask diameter-report [--from FILE]...");
                return Ok(());
            }
            other => bail!("unknown argument {other:?} (usage: diameter-report [--from FILE]...)"),
        }
    }
    let outputs: Vec<(String, String)> = if from.is_empty() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        SUITES
            .iter()
            .map(|args| {
                let cmd = format!("cargo {}", args.join(" "));
                eprintln!("running `{cmd}`");
                let out = Command::new(&cargo)
                    .args(*args)
                    .current_dir(root)
                    .output()
                    .context("could not run cargo")?;
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                if !text.lines().any(|l| l.starts_with("running ")) {
                    bail!(
                        "`{cmd}` produced no test results:\n{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                Ok((cmd, text))
            })
            .collect::<Result<_>>()?
    } else {
        from.iter()
            .map(|f| {
                Ok((
                    f.clone(),
                    std::fs::read_to_string(f).with_context(|| format!("reading {f}"))?,
                ))
            })
            .collect::<Result<_>>()?
    };
    let mut results: BTreeMap<String, TestResult> = BTreeMap::new();
    let mut unfinished = vec![];
    for (source, text) in &outputs {
        let run = parse_output(text);
        if !run.finished {
            unfinished.push(source.clone());
        }
        for r in run.results {
            for id in covered(&r.name) {
                results.insert(id, r.clone());
            }
        }
    }
    let tps = parse_tps(&std::fs::read_to_string(root.join(TPS_TSV)).context(TPS_TSV)?)?;
    let report = render(&tps, &results, &outputs, &unfinished, root);
    std::fs::create_dir_all(root.join("docs/conformance"))?;
    std::fs::write(root.join(REPORT), report)?;
    eprintln!("wrote {REPORT}");
    Ok(())
}

fn render(
    tps: &[Tp],
    results: &BTreeMap<String, TestResult>,
    outputs: &[(String, String)],
    unfinished: &[String],
    root: &Path,
) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = git(&["status", "--porcelain"]).is_some_and(|s| !s.is_empty());
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Diameter Rf/Ro conformance (ETSI TS 103 374-2 V1.1.1)\n"
    );
    let _ = writeln!(
        s,
        "Generated by `cargo xtask diameter-report` from a real test run; do not edit by hand.\n"
    );
    let _ = writeln!(
        s,
        "- Commit: `{head}`{}",
        if dirty {
            " (with uncommitted changes)"
        } else {
            ""
        }
    );
    for (source, _) in outputs {
        let _ = writeln!(s, "- Suite: `{source}`");
    }
    for u in unfinished {
        let _ = writeln!(s, "- **Warning:** `{u}` did not run to the end; TPs after the interruption may show as not implemented.");
    }
    let _ = writeln!(
        s,
        "- The tester is the project's own: CDF TPs run against `unicharge serve`'s CDF over TCP with the \
         project's Diameter peer as the CTF; CTF TPs run the project's CTF client against its CDF through a \
         frame-aware tap that observes the wire and plays the failing peer. SIP triggers are API calls. \
         This is not an ETSI-validated test system.\n"
    );
    let mut counts: BTreeMap<(String, String), [usize; 3]> = BTreeMap::new();
    let mut table = String::new();
    let _ = writeln!(table, "| TP | Interface | Role | Group | Result | Test | Summary |\n|---|---|---|---|---|---|---|");
    for tp in tps {
        let key = tp.id.to_lowercase();
        let (label, idx, test) = match results.get(&key) {
            Some(r) => {
                let i = match r.outcome {
                    Outcome::Pass => 0,
                    _ => 1,
                };
                (r.outcome.label(), i, format!("`{}`", r.path))
            }
            None => ("not implemented".to_string(), 2, String::new()),
        };
        counts
            .entry((tp.interface.clone(), tp.role.clone()))
            .or_default()[idx] += 1;
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {} | {} | {} |",
            tp.id,
            tp.interface,
            tp.role,
            tp.group,
            label,
            test,
            tp.summary.replace('|', "\\|")
        );
    }
    let _ = writeln!(
        s,
        "| Interface / role | pass | fail or ignored | not implemented |\n|---|---|---|---|"
    );
    let mut total = [0; 3];
    for ((i, r), c) in &counts {
        let _ = writeln!(s, "| {i} / {r} | {} | {} | {} |", c[0], c[1], c[2]);
        for k in 0..3 {
            total[k] += c[k];
        }
    }
    let _ = writeln!(
        s,
        "| **all {}** | {} | {} | {} |\n",
        tps.len(),
        total[0],
        total[1],
        total[2]
    );
    let _ = writeln!(s, "Readings taken where the TP text is ambiguous (see the catalog notes): the ASR of EC_01/02 carries \
        Auth-Application-Id 3 (Rf's application); the CDF supervision timer is configurable (`[diameter] supervision`, default \
        2 × Acct-Interim-Interval); the CTF retransmission count is configurable (default 2); CTF EC_02 and EC_03 are one \
        story (failover on DWR/DWA failure, then back) and run as one test. Ro OCF: a CCR-T is granted nothing \
        (TC_09, EC_03: RFC 8506 over the TP's copy-pasted GSU); CH_01 answers CHECK_BALANCE with a GSU of what the \
        balance buys plus Tariff-Time-Change; CP_01/02 send one MSCC per rating group; RE_01 and OP_02/04/05/06 \
        trigger the RAR through the OCF's operator call; OP_10 ends the service through the store call behind `POST /api/v1/ro/sessions/{{id}}/terminate`; OP_03 resets triggers with `reset_triggers_on_update`; OP_12 \
        reads the TP's Granted-Service-Unit in a CCR as Used-Service-Unit and Envelope-Stop-Time as Envelope-End-Time.\n");
    s.push_str(&table);
    s
}

#[cfg(test)]
mod tests {
    use super::covered;

    #[test]
    fn joined_test_names_cover_each_tp() {
        assert_eq!(
            covered("tp_rf_ctf_ec_02_and_ec_03"),
            ["tp_rf_ctf_ec_02", "tp_rf_ctf_ec_03"]
        );
        assert_eq!(covered("tp_rf_cdf_ms_01"), ["tp_rf_cdf_ms_01"]);
    }
}
