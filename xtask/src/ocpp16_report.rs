//! `cargo xtask ocpp16-report`: run the OCPP 1.6J tests and write `docs/conformance/ocpp16.md`,
//! listing every message of the six 1.6 feature profiles and of the security whitepaper
//! (edition 3) as pass / fail / not implemented, with the test(s) that cover it (issue 18).
//!
//! A test is named `ocpp16_<profile>_<message in snake case>[_<variant>]`
//! (`ocpp16_core_boot_notification_pending` → BootNotification); the endpoint-level cases
//! (negotiation, the 1.6 → 2.0.1 switch) are rows of their own. Only a real run fills the table.
//!
//! ```text
//! cargo xtask ocpp16-report [--from FILE]...
//! ```
//!
//! Without `--from` it runs `cargo test -p unicharge-server --test ocpp16_core`,
//! `--test ocpp16_operator`, `--test ocpp16_profiles` and `--test ocpp16_security`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use crate::conformance_report::{git_output, parse_output, suite_outputs, Outcome, TestResult};

const REPORT: &str = "docs/conformance/ocpp16.md";
const SUITES: &[&[&str]] = &[
    &["test", "-p", "unicharge-server", "--test", "ocpp16_core"],
    &[
        "test",
        "-p",
        "unicharge-server",
        "--test",
        "ocpp16_operator",
    ],
    &[
        "test",
        "-p",
        "unicharge-server",
        "--test",
        "ocpp16_profiles",
    ],
    &[
        "test",
        "-p",
        "unicharge-server",
        "--test",
        "ocpp16_security",
    ],
];

/// (feature profile, test-name prefix, message, sent by).
const MESSAGES: &[(&str, &str, &str, &str)] = &[
    ("Core", "core", "Authorize", "Charge Point"),
    ("Core", "core", "BootNotification", "Charge Point"),
    ("Core", "core", "ChangeAvailability", "Central System"),
    ("Core", "core", "ChangeConfiguration", "Central System"),
    ("Core", "core", "ClearCache", "Central System"),
    ("Core", "core", "DataTransfer", "both"),
    ("Core", "core", "GetConfiguration", "Central System"),
    ("Core", "core", "Heartbeat", "Charge Point"),
    ("Core", "core", "MeterValues", "Charge Point"),
    ("Core", "core", "RemoteStartTransaction", "Central System"),
    ("Core", "core", "RemoteStopTransaction", "Central System"),
    ("Core", "core", "Reset", "Central System"),
    ("Core", "core", "StartTransaction", "Charge Point"),
    ("Core", "core", "StatusNotification", "Charge Point"),
    ("Core", "core", "StopTransaction", "Charge Point"),
    ("Core", "core", "UnlockConnector", "Central System"),
    (
        "Firmware Management",
        "firmware",
        "GetDiagnostics",
        "Central System",
    ),
    (
        "Firmware Management",
        "firmware",
        "DiagnosticsStatusNotification",
        "Charge Point",
    ),
    (
        "Firmware Management",
        "firmware",
        "FirmwareStatusNotification",
        "Charge Point",
    ),
    (
        "Firmware Management",
        "firmware",
        "UpdateFirmware",
        "Central System",
    ),
    (
        "Local Auth List Management",
        "local_auth_list",
        "GetLocalListVersion",
        "Central System",
    ),
    (
        "Local Auth List Management",
        "local_auth_list",
        "SendLocalList",
        "Central System",
    ),
    (
        "Reservation",
        "reservation",
        "CancelReservation",
        "Central System",
    ),
    ("Reservation", "reservation", "ReserveNow", "Central System"),
    (
        "Smart Charging",
        "smart_charging",
        "ClearChargingProfile",
        "Central System",
    ),
    (
        "Smart Charging",
        "smart_charging",
        "GetCompositeSchedule",
        "Central System",
    ),
    (
        "Smart Charging",
        "smart_charging",
        "SetChargingProfile",
        "Central System",
    ),
    (
        "Remote Trigger",
        "remote_trigger",
        "TriggerMessage",
        "Central System",
    ),
    (
        "Security (whitepaper ed. 3)",
        "security",
        "CertificateSigned",
        "Central System",
    ),
    (
        "Security (whitepaper ed. 3)",
        "security",
        "DeleteCertificate",
        "Central System",
    ),
    (
        "Security (whitepaper ed. 3)",
        "security",
        "ExtendedTriggerMessage",
        "Central System",
    ),
    (
        "Security (whitepaper ed. 3)",
        "security",
        "GetInstalledCertificateIds",
        "Central System",
    ),
    (
        "Security (whitepaper ed. 3)",
        "security",
        "GetLog",
        "Central System",
    ),
    (
        "Security (whitepaper ed. 3)",
        "security",
        "InstallCertificate",
        "Central System",
    ),
    (
        "Security (whitepaper ed. 3)",
        "security",
        "LogStatusNotification",
        "Charge Point",
    ),
    (
        "Security (whitepaper ed. 3)",
        "security",
        "SecurityEventNotification",
        "Charge Point",
    ),
    (
        "Security (whitepaper ed. 3)",
        "security",
        "SignCertificate",
        "Charge Point",
    ),
    (
        "Security (whitepaper ed. 3)",
        "security",
        "SignedFirmwareStatusNotification",
        "Charge Point",
    ),
    (
        "Security (whitepaper ed. 3)",
        "security",
        "SignedUpdateFirmware",
        "Central System",
    ),
];

/// Endpoint-level rows: (row, test-name prefix).
const ENDPOINT: &[(&str, &str)] = &[
    (
        "Subprotocol negotiation on /ocpp/{stationId} (ocpp1.6 / ocpp2.0.1), version in the API",
        "ocpp16_core_negotiation",
    ),
    (
        "Switch 1.6 → 2.0.1: same identity, both transactions and charge records",
        "ocpp16_core_switch_to_ocpp201",
    ),
    (
        "Requests 1.6 cannot express: HTTP 400 `not_expressible_in_ocpp16`",
        "ocpp16_core_untranslatable",
    ),
    (
        "Unknown actions and schema violations: 1.6 error codes",
        "ocpp16_core_unknown_action",
    ),
];

/// `BootNotification` → `boot_notification`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `test` is named after `prefix` (whole name, or followed by `_…`).
fn named_after(test: &str, prefix: &str) -> bool {
    test == prefix
        || test
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('_'))
}

fn message_prefix(profile: &str, message: &str) -> String {
    format!("ocpp16_{profile}_{}", snake(message))
}

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let Some(outputs) = suite_outputs(root, "ocpp16-report", args, SUITES)? else {
        return Ok(());
    };
    let mut results = vec![];
    let mut unfinished = vec![];
    for (source, text) in &outputs {
        let run = parse_output(text);
        if !run.finished {
            unfinished.push(source.clone());
        }
        results.extend(run.results);
    }
    let report = render(&results, &outputs, &unfinished, root);
    std::fs::create_dir_all(root.join("docs/conformance"))?;
    std::fs::write(root.join(REPORT), report)?;
    eprintln!("wrote {REPORT}");
    Ok(())
}

/// Pass when every covering test passed, fail when one failed; no test: not implemented.
fn status(tests: &[&TestResult]) -> &'static str {
    if tests.is_empty() {
        "not implemented"
    } else if tests.iter().any(|r| matches!(r.outcome, Outcome::Fail)) {
        "fail"
    } else if tests
        .iter()
        .all(|r| matches!(r.outcome, Outcome::Ignored(_)))
    {
        "not implemented"
    } else {
        "pass"
    }
}

/// Each covering test once, sorted: a test runs once per store engine (SQLite, then
/// PostgreSQL), and every run counts for [`status`].
fn names(tests: &[&TestResult]) -> String {
    tests
        .iter()
        .map(|r| r.name.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn render(
    results: &[TestResult],
    outputs: &[(String, String)],
    unfinished: &[String],
    root: &Path,
) -> String {
    let git = |args: &[&str]| git_output(root, args);
    let head = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = git(&["status", "--porcelain"]).is_some_and(|s| !s.is_empty());
    let covering = |prefix: &str| -> Vec<&TestResult> {
        results
            .iter()
            .filter(|r| named_after(&r.name, prefix))
            .collect()
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# OCPP 1.6J conformance: feature profiles and messages\n"
    );
    let _ = writeln!(
        s,
        "Generated by `cargo xtask ocpp16-report` from a real test run; do not edit by hand.\n"
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
        "- A real unicharge server; the charge point is the project's simulator in 1.6 mode over a \
         real WebSocket; Central-System-initiated messages are started through the operator REST \
         API. This is not an OCA-certified test system (there is no OCTT for 1.6 CSMS here).\n"
    );

    let mut per_profile: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    let mut table = String::from(
        "| Feature profile | Message | Sent by | Result | Tests |\n|---|---|---|---|---|\n",
    );
    for (profile, prefix, message, by) in MESSAGES {
        let tests = covering(&message_prefix(prefix, message));
        let result = status(&tests);
        let counts = per_profile.entry(profile).or_default();
        counts[match result {
            "pass" => 0,
            "fail" => 1,
            _ => 2,
        }] += 1;
        let _ = writeln!(
            table,
            "| {profile} | {message} | {by} | {result} | {} |",
            names(&tests)
        );
    }
    let _ = writeln!(s, "## Summary\n");
    let _ = writeln!(
        s,
        "| Feature profile | pass | fail | not implemented |\n|---|---|---|---|"
    );
    for (profile, [pass, fail, none]) in &per_profile {
        let _ = writeln!(s, "| {profile} | {pass} | {fail} | {none} |");
    }
    let _ = writeln!(s, "\n## Messages\n");
    s.push_str(&table);
    let _ = writeln!(s, "\n## Endpoint\n");
    let _ = writeln!(s, "| Case | Result | Tests |\n|---|---|---|");
    for (row, prefix) in ENDPOINT {
        let tests = covering(prefix);
        let _ = writeln!(s, "| {row} | {} | {} |", status(&tests), names(&tests));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_covering_test_is_named_once_sorted_and_every_run_counts() {
        let run = parse_output(
            "running 3 tests\ntest ocpp16_core_reset_b ... ok\ntest ocpp16_core_reset ... ok\n\
             test ocpp16_core_reset ... FAILED\ntest result: ok.\n",
        );
        let tests: Vec<&TestResult> = run.results.iter().collect();
        assert_eq!(names(&tests), "`ocpp16_core_reset`, `ocpp16_core_reset_b`");
        assert_eq!(status(&tests), "fail");
    }

    #[test]
    fn tests_map_to_the_message_they_are_named_after() {
        assert_eq!(snake("BootNotification"), "boot_notification");
        let boot = message_prefix("core", "BootNotification");
        assert!(named_after("ocpp16_core_boot_notification", &boot));
        assert!(named_after("ocpp16_core_boot_notification_pending", &boot));
        let start = message_prefix("core", "StartTransaction");
        assert!(!named_after("ocpp16_core_remote_start_transaction", &start));
        assert!(!named_after("ocpp16_core_start_transactions_x", &start));
        assert_eq!(MESSAGES.len(), 28 + 11);
    }
}
