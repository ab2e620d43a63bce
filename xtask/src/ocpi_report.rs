//! `cargo xtask ocpi-report`: run the OCPI tests and write `docs/conformance/ocpi.md`, listing
//! every business use case (BUC) of the OCPI 3.0 requirements (seed 003, B1.1–B9.1) as
//! pass / fail / not implemented, with the test(s) that cover it.
//!
//! A test is named after the BUC it checks in lower case (`b6_1_…` → B6.1). A test that also
//! exercises other BUCs on its way lists them in [`ALSO`] (e.g. the START_SESSION test also
//! reads the running session, B4.1, and the CDR, B5.1 / B5.2). Only a real run fills the table.
//!
//! ```text
//! cargo xtask ocpi-report [--from FILE]...
//! ```
//!
//! Without `--from` it runs `cargo test -p unicharge-server --test ocpi_cpo`, `--test
//! ocpi_push` (the Sender pushes to a mock eMSP), `--test ocpi_emsp` (the eMSP role, two
//! unicharge instances roaming), `--test ocpi_commands` (reservations and unlock), `--test
//! ocpi_charging_profiles`, `--test ocpi_extensions` (the extension modules), `--test
//! ocpi_sync` (initial exchange, credentials rotation), `--test ocpi_buc_more` (roles
//! published, session limits) and `--test ocpi_roles` (NSP, NAP, data aggregator and SCSP
//! partners, location sharing approval).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use crate::conformance_report::{git_output, parse_output, suite_outputs, Outcome, TestResult};

const REPORT: &str = "docs/conformance/ocpi.md";
const SUITES: &[&[&str]] = &[
    &["test", "-p", "unicharge-server", "--test", "ocpi_cpo"],
    &["test", "-p", "unicharge-server", "--test", "ocpi_push"],
    // The eMSP role: unicharge's Receivers, and two unicharge instances roaming (ADR 0039).
    &["test", "-p", "unicharge-server", "--test", "ocpi_emsp"],
    // RESERVE_NOW, CANCEL_RESERVATION, UNLOCK_CONNECTOR at the CPO.
    &["test", "-p", "unicharge-server", "--test", "ocpi_commands"],
    // ChargingProfiles, CPO Receiver and eMSP Sender (B7.1, B7.2).
    &[
        "test",
        "-p",
        "unicharge-server",
        "--test",
        "ocpi_charging_profiles",
    ],
    // The extension modules (ADR 0042), two instances.
    &[
        "test",
        "-p",
        "unicharge-server",
        "--test",
        "ocpi_extensions",
    ],
    // The initial full exchange after registration and credentials rotation (ADR 0041).
    &["test", "-p", "unicharge-server", "--test", "ocpi_sync"],
    // More business use cases (B8.2 roles published, ADR 0044; B4.2 / B2.4 session limits,
    // ADR 0045), instances over HTTP.
    &["test", "-p", "unicharge-server", "--test", "ocpi_buc_more"],
    // Partners of roles beyond CPO / eMSP: NSP, NAP, data aggregator, SCSP; location sharing
    // approval (ADR 0049).
    &["test", "-p", "unicharge-server", "--test", "ocpi_roles"],
    // B3.2: an MSP's tokens migrated to another platform take its sessions and CDRs along
    // (ADR 0050).
    &["test", "-p", "unicharge-server", "--test", "ocpi_migration"],
];

/// The BUCs of seed 003 (OCPI 3.0 requirements, section "Business use cases").
const BUCS: &[(&str, &str)] = &[
    ("B1.1", "MSP: up-to-date Charging Location information"),
    ("B1.2", "NSP: up-to-date Charging Location information"),
    ("B1.3", "NAP: up-to-date Charging Location information"),
    (
        "B1.4",
        "Data Aggregator: Charging Location information to monitor and forecast",
    ),
    (
        "B1.5",
        "CPO: approve or not approve data sharing on behalf of the owner",
    ),
    ("B2.1", "CPO informs MSPs about the roaming tariff"),
    ("B2.2", "CPO informs NSPs about the ad-hoc tariff"),
    ("B2.3", "CPO informs NAPs about the ad-hoc tariff"),
    (
        "B2.4",
        "CPO receives the EV Driver specific tariff from the MSP",
    ),
    ("B3.1", "MSP: EV Drivers charge using local authorization"),
    ("B3.2", "MSP migrates its EV Drivers to another MSP"),
    ("B3.3", "Roaming Hub provides whitelist Token services"),
    (
        "B3.4",
        "CPO provides GDPR right of access / right to be forgotten",
    ),
    (
        "B3.5",
        "MSP creates a Contract Certificate Bundle in the CCP",
    ),
    (
        "B3.6",
        "CCP provides new signed Contract Certificate Bundles",
    ),
    ("B4.1", "MSP informed about ongoing charging sessions"),
    ("B4.2", "MSP sets charging limits on the session (pre-paid)"),
    (
        "B4.3",
        "Data Aggregator informed about ongoing charging sessions",
    ),
    ("B4.4", "MSP sends a message to its EV Driver at an EVSE"),
    ("B4.5", "CPO sends a message to an EV Driver of an MSP"),
    ("B5.1", "MSP receives a 'receipt' after the session ended"),
    ("B5.2", "MSP receives all the CDRs for invoicing"),
    ("B6.1", "EV Drivers charge using the MSP's mobile app"),
    ("B6.2", "MSP helpdesk remote-controls an EVSE"),
    ("B6.3", "MSP reserves an EVSE for the EV Driver"),
    ("B7.1", "MSP provides an optimized charging experience"),
    ("B7.2", "SCSP influences an ongoing charging session"),
    ("B7.3", "SCSP informed about ongoing charging sessions"),
    (
        "B7.4",
        "Grid Operator receives meter values from Charging Locations",
    ),
    ("B8.1", "Secure connection between OCPI platforms"),
    ("B8.2", "Publish an updated list of roles"),
    ("B8.3", "Publish an updated list of modules and/or versions"),
    ("B8.4", "Kept updated of connections to a Hub"),
    ("B8.5", "Validate that received OCPI data was not altered"),
    ("B9.1", "CPO gives loyalty to EV drivers"),
];

/// Further BUCs a test exercises besides the one it is named after.
const ALSO: &[(&str, &[&str])] = &[
    ("b6_1_", &["B4.1", "B5.1", "B5.2"]),
    ("b8_1_", &["B8.3"]),
    // The pushed session updates and the pushed CDR (the receipt).
    ("b5_2_", &["B4.1", "B5.1"]),
    // The existing CDRs pulled after registration: all CDRs for invoicing.
    ("b1_1_b5_2_", &["B5.2"]),
];

/// Why a BUC without a test is not covered (shown in the report).
const NOT_COVERED: &[(&str, &str)] = &[
    ("B3.3", "hub role not built"),
    ("B3.5", "Plug & Charge CCP: outside OCPI (ISO 15118 PKI)"),
    ("B3.6", "Plug & Charge CCP: outside OCPI (ISO 15118 PKI)"),
    (
        "B7.1",
        "charging preferences accepted for the caller's sessions only, answered NOT_POSSIBLE",
    ),
    (
        "B7.2",
        "ChargingProfiles Receiver built; its test did not run",
    ),
    (
        "B7.4",
        "location energy extension built; its test did not run",
    ),
    (
        "B8.5",
        "signed payloads extension built; its test did not run",
    ),
    ("B9.1", "loyalty: not in any OCPI module"),
];

fn bucs_of(test: &str) -> Vec<String> {
    let mut out = vec![];
    // b6_1_… → B6.1
    let mut parts = test.splitn(3, '_');
    if let (Some(a), Some(b)) = (parts.next(), parts.next()) {
        if let (Some(rest), true) = (a.strip_prefix('b'), b.chars().all(|c| c.is_ascii_digit())) {
            if rest.chars().all(|c| c.is_ascii_digit()) && !rest.is_empty() && !b.is_empty() {
                out.push(format!("B{rest}.{b}"));
            }
        }
    }
    for (prefix, extra) in ALSO {
        if test.starts_with(prefix) {
            out.extend(extra.iter().map(|s| s.to_string()));
        }
    }
    out
}

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let Some(outputs) = suite_outputs(root, "ocpi-report", args, SUITES)? else {
        return Ok(());
    };
    let mut covered: BTreeMap<String, Vec<TestResult>> = BTreeMap::new();
    let mut unfinished = vec![];
    for (source, text) in &outputs {
        let run = parse_output(text);
        if !run.finished {
            unfinished.push(source.clone());
        }
        for r in run.results {
            for buc in bucs_of(&r.name) {
                covered.entry(buc).or_default().push(r.clone());
            }
        }
    }
    let report = render(&covered, &outputs, &unfinished, root);
    std::fs::create_dir_all(root.join("docs/conformance"))?;
    std::fs::write(root.join(REPORT), report)?;
    eprintln!("wrote {REPORT}");
    Ok(())
}

fn render(
    covered: &BTreeMap<String, Vec<TestResult>>,
    outputs: &[(String, String)],
    unfinished: &[String],
    root: &Path,
) -> String {
    let git = |args: &[&str]| git_output(root, args);
    let head = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = git(&["status", "--porcelain"]).is_some_and(|s| !s.is_empty());
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# OCPI conformance: business use cases of the OCPI 3.0 requirements (seed 003)\n"
    );
    let _ = writeln!(
        s,
        "Generated by `cargo xtask ocpi-report` from a real test run; do not edit by hand.\n"
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
        let _ = writeln!(s, "- **Warning:** `{u}` did not run to the end.");
    }
    let _ = writeln!(
        s,
        "- unicharge plays the CPO over real HTTP (OCPI 2.2.1 and 2.3.0); the eMSP is the tests' own \
         OCPI peer (crates/server/tests/ocpi_common), stations are the project's simulator over a \
         real WebSocket. This is not an OCPI-validated test system.\n"
    );
    let mut counts = [0usize; 3];
    let mut table = String::from("| BUC | Use case | Result | Tests |\n|---|---|---|---|\n");
    for (id, title) in BUCS {
        let (label, tests) = match covered.get(*id) {
            Some(results) => {
                let failed = results.iter().any(|r| matches!(r.outcome, Outcome::Fail));
                let ignored = results
                    .iter()
                    .all(|r| matches!(r.outcome, Outcome::Ignored(_)));
                let label = if failed {
                    counts[1] += 1;
                    "fail"
                } else if ignored {
                    counts[2] += 1;
                    "not implemented"
                } else {
                    counts[0] += 1;
                    "pass"
                };
                // A test runs once per store engine (SQLite, then PostgreSQL): every run counts
                // for the verdict above; each name is listed once, sorted (tests finish in a
                // different order each run).
                let names: std::collections::BTreeSet<&str> =
                    results.iter().map(|r| r.name.as_str()).collect();
                let names: Vec<String> = names.into_iter().map(|n| format!("`{n}`")).collect();
                (label.to_string(), names.join(", "))
            }
            None => {
                counts[2] += 1;
                let why = NOT_COVERED
                    .iter()
                    .find(|(b, _)| b == id)
                    .map_or("no test yet", |(_, w)| w);
                ("not implemented".to_string(), why.to_string())
            }
        };
        let _ = writeln!(table, "| {id} | {title} | {label} | {tests} |");
    }
    let _ = writeln!(
        s,
        "**{} pass, {} fail, {} not implemented** of {} business use cases.\n",
        counts[0],
        counts[1],
        counts[2],
        BUCS.len()
    );
    s.push_str(&table);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_names_map_to_bucs() {
        assert_eq!(bucs_of("b1_1_locations"), ["B1.1"]);
        assert_eq!(bucs_of("b6_1_start"), ["B6.1", "B4.1", "B5.1", "B5.2"]);
        assert!(bucs_of("helper_test").is_empty());
        assert_eq!(BUCS.len(), 35);
    }
}
