//! `cargo xtask conformance-report`: run the OCTT CSMS conformance tests and write
//! `docs/conformance/ocpp201-csms.md`.
//!
//! The report is only ever produced from a real libtest run, so the claims it makes ("this case
//! passes") are evidence, not intentions. Each OCTT case is one test named after its id in lower
//! case (`TC_A_01_CSMS` → `tc_a_01_csms`); the case list comes from `crates/sim/src/octt/cases.tsv`
//! (read directly, so xtask needs neither the sim crate nor anything outside the repository). A case
//! with no test is "not implemented"; a test that matches no case is listed separately so a typo in
//! a test name cannot silently make a case look unimplemented.
//!
//! ```text
//! cargo xtask conformance-report [--from FILE] [-- LIBTEST_ARGS...]
//! ```
//!
//! - without `--from`: runs `cargo test -p unicharge-server --test ocpp201_csms -- --test-threads 2
//!   [LIBTEST_ARGS...]` and prints one progress line per finished test;
//! - `--from FILE`: reads saved libtest output instead (CI that already ran the suite, tests).
//!
//! Failing cases are reported, not fatal: the command fails only when the tests could not be run or
//! their output holds no libtest results.

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

const CASES_TSV: &str = "crates/sim/src/octt/cases.tsv";
const REPORT: &str = "docs/conformance/ocpp201-csms.md";
const CARGO_TEST: &[&str] = &["test", "-p", "unicharge-server", "--test", "ocpp201_csms"];

/// OCPP 2.0.1 functional block titles, for headings (the TSV only carries the letter).
const BLOCK_TITLES: &[(&str, &str)] = &[
    ("A", "Security"),
    ("B", "Provisioning"),
    ("C", "Authorization"),
    ("D", "Local Authorization List Management"),
    ("E", "Transactions"),
    ("F", "Remote Control"),
    ("G", "Availability"),
    ("H", "Reservation"),
    ("I", "Tariff and Cost"),
    ("J", "Meter Values"),
    ("K", "Smart Charging"),
    ("L", "Firmware Management"),
    ("M", "ISO 15118 Certificate Management"),
    ("N", "Diagnostics"),
    ("O", "Display Message"),
    ("P", "Data Transfer"),
];

/// Which edition of a case the tests follow, where the seed documents disagree.
const EDITION_NOTES: &[&str] = &[
    "TC_C_47_CSMS follows the FINAL 2023-06-30 edition (seed 001): step 3 carries the \
     masterpass idToken, where the draft has the valid idToken.",
];

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let opts = Options::parse(args)?;
    let cases = parse_cases(
        &std::fs::read_to_string(root.join(CASES_TSV))
            .with_context(|| format!("reading {CASES_TSV}"))?,
    )?;

    let (output, source) = match &opts.from {
        Some(file) => (
            std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?,
            format!("libtest output read from `{file}`"),
        ),
        None => (
            run_tests(root, &opts.libtest_args)?,
            format!(
                "`{}` run by this command",
                cargo_test_command(&opts.libtest_args).join(" ")
            ),
        ),
    };
    let run = parse_output(&output);
    if !run.started && run.results.is_empty() {
        bail!("no libtest results in the test output (expected `running N tests` and `test ... ok` lines)");
    }

    let meta = Meta::collect(root, source);
    let report = Report::new(&cases, &run);
    let path = root.join(REPORT);
    std::fs::create_dir_all(path.parent().expect("report path has a parent"))?;
    std::fs::write(&path, report.render(&meta)).with_context(|| format!("writing {REPORT}"))?;

    let [pass, fail, ignored, missing] = report.totals();
    let mut summary = format!("pass {pass}, fail {fail}, not implemented {missing}");
    if ignored > 0 {
        write!(summary, ", ignored {ignored}")?;
    }
    if !report.unmatched.is_empty() {
        write!(
            summary,
            ", tests matching no case {}",
            report.unmatched.len()
        )?;
    }
    eprintln!("{summary} (written to {REPORT})");
    Ok(())
}

/// Command-line options.
#[derive(Debug, Default)]
struct Options {
    from: Option<String>,
    libtest_args: Vec<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self> {
        let mut opts = Options::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--from" => opts.from = Some(it.next().context("--from needs a file")?.clone()),
                "--" => opts.libtest_args = it.by_ref().cloned().collect(),
                "-h" | "--help" => {
                    eprintln!("usage: cargo xtask conformance-report [--from FILE] [-- LIBTEST_ARGS...]");
                    std::process::exit(0);
                }
                other => bail!("unknown argument {other:?} (usage: conformance-report [--from FILE] [-- LIBTEST_ARGS...])"),
            }
        }
        Ok(opts)
    }
}

/// `cargo test ...` arguments; two test threads unless the caller chose a number (libtest rejects
/// the option twice).
/// A git command's trimmed stdout in `root`, `None` when git is missing or fails (a report
/// then says the commit is unknown rather than failing).
pub fn git_output(root: &Path, args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// The libtest output of a report's suites: read from each `--from FILE`, or (without one) from
/// running each `cargo <suite>` in `root`. `None` when `--help` was asked for. Shared by the
/// Diameter and OCPI reports, which take the same arguments.
pub fn suite_outputs(
    root: &Path,
    name: &str,
    args: &[String],
    suites: &[&[&str]],
) -> Result<Option<Vec<(String, String)>>> {
    let mut from = vec![];
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--from" => from.push(it.next().context("--from needs a file")?.clone()),
            "-h" | "--help" => {
                eprintln!("usage: cargo xtask {name} [--from FILE]...");
                return Ok(None);
            }
            other => bail!("unknown argument {other:?} (usage: {name} [--from FILE]...)"),
        }
    }
    if !from.is_empty() {
        return from
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(f).with_context(|| format!("reading {f}"))?;
                Ok((f.clone(), text))
            })
            .collect::<Result<_>>()
            .map(Some);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    suites
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
        .collect::<Result<_>>()
        .map(Some)
}

fn cargo_test_command(libtest_args: &[String]) -> Vec<String> {
    let mut cmd: Vec<String> = std::iter::once("cargo")
        .chain(CARGO_TEST.iter().copied())
        .chain(["--"])
        .map(String::from)
        .collect();
    if !libtest_args.iter().any(|a| a.starts_with("--test-threads")) {
        cmd.extend(["--test-threads".into(), "2".into()]);
    }
    cmd.extend(libtest_args.iter().cloned());
    cmd
}

/// Runs the suite, returning its stdout. Compiler and cargo chatter on stderr is kept back (shown
/// only if the run produced nothing usable) so the terminal shows just one line per finished test.
fn run_tests(root: &Path, libtest_args: &[String]) -> Result<String> {
    let cmd = cargo_test_command(libtest_args);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut child = Command::new(cargo)
        .args(&cmd[1..])
        .current_dir(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("could not run cargo")?;
    let mut stderr = child.stderr.take().expect("piped stderr");
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    let mut stdout = String::new();
    let (mut done, mut total) = (0, String::from("?"));
    for line in BufReader::new(child.stdout.take().expect("piped stdout")).lines() {
        let line = line.context("reading cargo test output")?;
        if let Some(n) = running_count(&line) {
            total = n.to_string();
        } else if let Some(t) = parse_line(&line) {
            done += 1;
            eprintln!("[{done}/{total}] {} {}", t.name, t.outcome.label());
        }
        stdout.push_str(&line);
        stdout.push('\n');
    }
    let status = child.wait().context("waiting for cargo test")?;
    let stderr = stderr_reader.join().unwrap_or_default();

    if running_count_any(&stdout).is_none() && done == 0 {
        let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "`{}` produced no test results ({status}):\n{}",
            cmd.join(" "),
            tail.join("\n")
        );
    }
    Ok(stdout)
}

/// `running 12 tests` → 12.
fn running_count(line: &str) -> Option<usize> {
    let rest = line.strip_prefix("running ")?;
    let n = rest
        .strip_suffix(" tests")
        .or_else(|| rest.strip_suffix(" test"))?;
    n.parse().ok()
}

fn running_count_any(text: &str) -> Option<usize> {
    text.lines().find_map(running_count)
}

/// Outcome of one test as libtest printed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Pass,
    Fail,
    /// With the reason given by `#[ignore = "..."]`, if any.
    Ignored(Option<String>),
}

impl Outcome {
    pub(crate) fn label(&self) -> String {
        match self {
            Outcome::Pass => "pass".into(),
            Outcome::Fail => "fail".into(),
            Outcome::Ignored(None) => "ignored".into(),
            Outcome::Ignored(Some(reason)) => format!("ignored ({reason})"),
        }
    }

    /// When a name occurs twice (same test name in two modules) the worse outcome wins, so a
    /// failure is never hidden by a pass.
    fn rank(&self) -> u8 {
        match self {
            Outcome::Pass => 0,
            Outcome::Ignored(_) => 1,
            Outcome::Fail => 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TestResult {
    /// Full libtest path, e.g. `a_security::tc_a_01_csms`.
    pub(crate) path: String,
    /// Last path segment, e.g. `tc_a_01_csms`: what cases are matched on.
    pub(crate) name: String,
    pub(crate) outcome: Outcome,
}

/// Parsed libtest output.
#[derive(Debug, Default)]
pub(crate) struct TestRun {
    /// A `running N tests` line was seen: the binary started (possibly with zero tests).
    pub(crate) started: bool,
    /// A `test result:` line was seen: the binary ran to the end. Without it, cases after the
    /// interruption would wrongly show as "not implemented", so the report says so.
    pub(crate) finished: bool,
    pub(crate) results: Vec<TestResult>,
}

pub(crate) fn parse_output(text: &str) -> TestRun {
    TestRun {
        started: running_count_any(text).is_some(),
        finished: text.lines().any(|l| l.starts_with("test result: ")),
        results: text.lines().filter_map(parse_line).collect(),
    }
}

/// Parses `test <path> ... ok|FAILED|ignored[, <reason>]`. The text before `test ` is ignored
/// because output a test writes past libtest's capture (a server log line without a newline, say)
/// can end up in front of the result on the same line.
fn parse_line(line: &str) -> Option<TestResult> {
    let (head, result) = line.split_once(" ... ")?;
    let (_, path) = head.rsplit_once("test ")?;
    let path = path.strip_suffix(" - should panic").unwrap_or(path).trim();
    if path.is_empty() || path.contains(char::is_whitespace) {
        return None;
    }
    let word = result.split_whitespace().next()?;
    let outcome = match word.trim_end_matches(',') {
        "ok" => Outcome::Pass,
        "FAILED" => Outcome::Fail,
        "ignored" => Outcome::Ignored(
            result
                .split_once(", ")
                .map(|(_, reason)| reason.trim().to_string())
                .filter(|r| !r.is_empty()),
        ),
        _ => return None,
    };
    let name = path.rsplit("::").next().unwrap_or(path).to_string();
    Some(TestResult {
        path: path.to_string(),
        name,
        outcome,
    })
}

/// One row of `cases.tsv` (only the columns the report shows).
#[derive(Debug, Clone)]
struct Case {
    id: String,
    seed_id: String,
    block: String,
    name: String,
}

/// Parses `cases.tsv` by header name, so column order changes in the file do not break xtask.
fn parse_cases(tsv: &str) -> Result<Vec<Case>> {
    let mut lines = tsv.lines();
    let header: Vec<&str> = lines
        .next()
        .context("cases.tsv is empty")?
        .split('\t')
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .with_context(|| format!("cases.tsv has no `{name}` column"))
    };
    let (id, seed_id, block, name) = (col("id")?, col("seed_id")?, col("block")?, col("name")?);
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let get = |i: usize| {
                f.get(i)
                    .map(|s| s.to_string())
                    .with_context(|| format!("cases.tsv: short line {line:?}"))
            };
            Ok(Case {
                id: get(id)?,
                seed_id: get(seed_id)?,
                block: get(block)?,
                name: get(name)?,
            })
        })
        .collect()
}

/// Where and on what the report was produced.
#[derive(Debug)]
struct Meta {
    date: String,
    commit: String,
    rustc: String,
    machine: String,
    source: String,
}

impl Meta {
    fn collect(root: &Path, source: String) -> Self {
        let out = |prog: &str, args: &[&str]| {
            Command::new(prog)
                .args(args)
                .current_dir(root)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        };
        // The report itself is excluded from the dirty check: it is this command's output, so a
        // second run before committing the first report would otherwise call a clean tree dirty.
        let report_excluded = format!(":(exclude){REPORT}");
        let status = out(
            "git",
            &["status", "--porcelain", "--", ".", &report_excluded],
        );
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        Meta {
            date: out("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_else(|| "unknown".into()),
            commit: commit_line(
                out("git", &["rev-parse", "HEAD"]).as_deref(),
                status.as_deref(),
            ),
            rustc: out("rustc", &["--version"]).unwrap_or_else(|| "unknown".into()),
            machine: format!(
                "{cores} cores, {}",
                out("uname", &["-sm"]).unwrap_or_else(|| "unknown OS".into())
            ),
            source,
        }
    }
}

/// The report's "Commit" line: the full `git rev-parse HEAD` (a short id can become ambiguous
/// as the history grows), marked when `git status --porcelain` listed anything, because then
/// the tests ran on code that no commit holds. Without git, says so instead of guessing.
fn commit_line(head: Option<&str>, porcelain_status: Option<&str>) -> String {
    let Some(head) = head.filter(|h| !h.is_empty()) else {
        return "unknown (not a git work tree, or git is not installed)".into();
    };
    match porcelain_status {
        Some(s) if !s.trim().is_empty() => format!("`{head}` (with uncommitted changes)"),
        Some(_) => format!("`{head}`"),
        None => format!("`{head}` (working tree state unknown: `git status` failed)"),
    }
}

/// What produced the results, said at the top of the report so that nobody mistakes it for an
/// OCA certification result.
const TOOL_STATEMENT: &str = "The test tool is **unicharge-sim**, the project's own \
re-implementation of the OCTT CSMS test cases (OCPP 2.0.1 Part 6) from their published \
descriptions (`crates/sim/src/octt/`), playing the charging station against a real unicharge \
server on loopback. It is **not** the Open Charge Alliance's OCPP Compliance Test Tool (OCTT), \
and these results are not an OCA certification.";

/// Result of one case in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Ran(Outcome),
    NotImplemented,
}

impl Status {
    pub(crate) fn label(&self) -> String {
        match self {
            Status::Ran(o) => o.label(),
            Status::NotImplemented => "not implemented".into(),
        }
    }

    /// Index into the `[pass, fail, ignored, not implemented]` counters.
    fn slot(&self) -> usize {
        match self {
            Status::Ran(Outcome::Pass) => 0,
            Status::Ran(Outcome::Fail) => 1,
            Status::Ran(Outcome::Ignored(_)) => 2,
            Status::NotImplemented => 3,
        }
    }
}

/// Cases joined with test results.
struct Report<'a> {
    /// Block letter → its cases with their status, in catalog order.
    blocks: BTreeMap<&'a str, Vec<(&'a Case, Status)>>,
    /// Tests whose name is no case's test name.
    unmatched: Vec<&'a TestResult>,
    finished: bool,
}

impl<'a> Report<'a> {
    fn new(cases: &'a [Case], run: &'a TestRun) -> Self {
        let mut by_name: BTreeMap<&str, &Outcome> = BTreeMap::new();
        for t in &run.results {
            let slot = by_name.entry(&t.name).or_insert(&t.outcome);
            if t.outcome.rank() > slot.rank() {
                *slot = &t.outcome;
            }
        }
        let mut blocks: BTreeMap<&str, Vec<(&Case, Status)>> = BTreeMap::new();
        for case in cases {
            let status = by_name
                .get(case.id.to_ascii_lowercase().as_str())
                .map_or(Status::NotImplemented, |o| Status::Ran((*o).clone()));
            blocks.entry(&case.block).or_default().push((case, status));
        }
        // Sorted by path and listed once: a server suite runs once per store engine (SQLite,
        // then PostgreSQL), and the order tests finish in changes from run to run. The row shows
        // the worst of its runs.
        let mut unmatched: BTreeMap<&str, &TestResult> = BTreeMap::new();
        for t in &run.results {
            if cases.iter().any(|c| c.id.eq_ignore_ascii_case(&t.name)) {
                continue;
            }
            let slot = unmatched.entry(&t.path).or_insert(t);
            if t.outcome.rank() > slot.outcome.rank() {
                *slot = t;
            }
        }
        let unmatched = unmatched.into_values().collect();
        Report {
            blocks,
            unmatched,
            finished: run.finished,
        }
    }

    fn counts(rows: &[(&Case, Status)]) -> [usize; 4] {
        let mut n = [0; 4];
        rows.iter().for_each(|(_, s)| n[s.slot()] += 1);
        n
    }

    /// `[pass, fail, ignored, not implemented]` over all cases.
    fn totals(&self) -> [usize; 4] {
        self.blocks
            .values()
            .map(|rows| Self::counts(rows))
            .fold([0; 4], |mut acc, n| {
                (0..4).for_each(|i| acc[i] += n[i]);
                acc
            })
    }

    fn render(&self, meta: &Meta) -> String {
        let mut md = String::new();
        // Writing to a String cannot fail.
        let mut w = |s: String| md.push_str(&s);
        w("# OCPP 2.0.1 CSMS conformance (OCTT test cases, played by unicharge-sim)\n\n".into());
        w(format!(
            "This file is GENERATED by `cargo xtask conformance-report` from a real run of the \
             conformance tests (`{}`); it is never edited by hand. Each OCTT test case is one test \
             named after the case id in lower case (`TC_A_01_CSMS` → `tc_a_01_csms`); a case without \
             such a test is *not implemented*.\n\n",
            CARGO_TEST.iter().fold("cargo".to_string(), |acc, a| acc + " " + a)
        ));
        w(format!("{TOOL_STATEMENT}\n\n"));
        w("- Tool: unicharge-sim (the project's re-implementation of the OCTT cases; not the OCA \
           tool)\n"
            .into());
        w(format!("- Generated from commit: {}\n", meta.commit));
        w(format!("- Date: {}\n", meta.date));
        w(format!("- Compiler: {}\n", meta.rustc));
        w(format!("- Machine: {}\n", meta.machine));
        w(format!("- Source: {}\n", meta.source));
        if !self.finished {
            w("- **Warning: the test run did not finish** (no `test result:` line); cases after the \
               interruption show as not implemented.\n"
                .into());
        }
        w("\nNotes:\n\n".into());
        for note in EDITION_NOTES {
            w(format!("- {note}\n"));
        }

        w("\n## Summary\n\n".into());
        w("| Block | Cases | Pass | Fail | Ignored | Not implemented |\n".into());
        w("|---|---:|---:|---:|---:|---:|\n".into());
        for (block, rows) in &self.blocks {
            let [p, f, i, n] = Self::counts(rows);
            w(format!(
                "| {} | {} | {p} | {f} | {i} | {n} |\n",
                block_title(block),
                rows.len()
            ));
        }
        let [p, f, i, n] = self.totals();
        w(format!(
            "| **Total** | {} | {p} | {f} | {i} | {n} |\n",
            p + f + i + n
        ));

        for (block, rows) in &self.blocks {
            w(format!(
                "\n## {}\n\n| Case | Name | Result |\n|---|---|---|\n",
                block_title(block)
            ));
            for (case, status) in rows {
                let mut id = case.id.clone();
                if case.seed_id != case.id {
                    id = format!("{id} (printed {} in the draft)", case.seed_id);
                }
                w(format!(
                    "| {id} | {} | {} |\n",
                    cell(&case.name),
                    cell(&status.label())
                ));
            }
        }

        w("\n## Tests that match no case\n\n".into());
        if self.unmatched.is_empty() {
            w("None.\n".into());
        } else {
            w("| Test | Result |\n|---|---|\n".into());
            for t in &self.unmatched {
                w(format!("| `{}` | {} |\n", t.path, cell(&t.outcome.label())));
            }
        }
        md
    }
}

fn block_title(letter: &str) -> String {
    match BLOCK_TITLES.iter().find(|(l, _)| *l == letter) {
        Some((_, title)) => format!("{letter}. {title}"),
        None => letter.to_string(),
    }
}

/// Makes text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
running 5 tests
test a_security::tc_a_01_csms ... ok
test a_security::tc_a_02_csms ... FAILED
test b_provisioning::tc_b_01_csms ... ignored
test b_provisioning::tc_b_02_csms ... ignored, needs a station with profile 3
2024-01-01T00:00:00Z INFO server log without newline test i_tariff::tc_i_02_csms ... ok
test b_provisioning::tc_b_99_csms ... ok

failures:

---- a_security::tc_a_02_csms stdout ----
thread 'a_security::tc_a_02_csms' panicked at 'boom'

test result: FAILED. 3 passed; 1 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.01s
";

    const TSV: &str = "id\tseed_id\tblock\tname\ttrigger\tsecurity_profile_needed
TC_A_01_CSMS\tTC_A_01_CSMS\tA\tBasic auth | valid\tstation\t1 or 2
TC_A_02_CSMS\tTC_A_02_CSMS\tA\tBasic auth invalid\tstation\t1 or 2
TC_A_03_CSMS\tTC_A_03_CSMS\tA\tNot written yet\tstation\tany
TC_B_01_CSMS\tTC_B_01_CSMS\tB\tCold boot\tstation\tany
TC_B_02_CSMS\tTC_B_02_CSMS\tB\tCold boot pending\tstation\tany
TC_I_02_CSMS\tTC_L02_CSMS\tI\tFinal total cost\tstation\tany
";

    const HEAD: &str = "0123456789abcdef0123456789abcdef01234567";

    fn meta() -> Meta {
        Meta {
            date: "2024-01-01 00:00 UTC".into(),
            commit: commit_line(Some(HEAD), Some("")),
            rustc: "rustc 1.85.0".into(),
            machine: "2 cores, Linux x86_64".into(),
            source: "sample".into(),
        }
    }

    #[test]
    fn parses_libtest_lines() {
        let run = parse_output(SAMPLE);
        assert!(run.started && run.finished);
        let got: Vec<(&str, &Outcome)> = run
            .results
            .iter()
            .map(|t| (t.name.as_str(), &t.outcome))
            .collect();
        assert_eq!(
            got,
            vec![
                ("tc_a_01_csms", &Outcome::Pass),
                ("tc_a_02_csms", &Outcome::Fail),
                ("tc_b_01_csms", &Outcome::Ignored(None)),
                (
                    "tc_b_02_csms",
                    &Outcome::Ignored(Some("needs a station with profile 3".into()))
                ),
                ("tc_i_02_csms", &Outcome::Pass),
                ("tc_b_99_csms", &Outcome::Pass),
            ]
        );
        assert_eq!(run.results[0].path, "a_security::tc_a_01_csms");
        assert_eq!(parse_line("test result: ok. 1 passed"), None);
        assert_eq!(
            parse_line("test x - should panic ... ok").unwrap().name,
            "x"
        );
        assert_eq!(
            parse_line("test m::t ... ok <0.012s>").unwrap().outcome,
            Outcome::Pass
        );
        assert_eq!(running_count("running 1 test"), Some(1));
    }

    #[test]
    fn report_marks_missing_cases_and_lists_unmatched_tests() {
        let cases = parse_cases(TSV).unwrap();
        let run = parse_output(SAMPLE);
        let report = Report::new(&cases, &run);
        assert_eq!(report.totals(), [2, 1, 2, 1]);
        let md = report.render(&meta());
        assert!(md.contains("GENERATED by `cargo xtask conformance-report`"));
        assert!(md.contains("| TC_A_01_CSMS | Basic auth \\| valid | pass |"));
        assert!(md.contains("| TC_A_02_CSMS | Basic auth invalid | fail |"));
        assert!(md.contains("| TC_A_03_CSMS | Not written yet | not implemented |"));
        assert!(md.contains(
            "| TC_B_02_CSMS | Cold boot pending | ignored (needs a station with profile 3) |"
        ));
        assert!(md.contains(
            "| TC_I_02_CSMS (printed TC_L02_CSMS in the draft) | Final total cost | pass |"
        ));
        assert!(md.contains("| A. Security | 3 | 1 | 1 | 0 | 1 |"));
        assert!(md.contains("| **Total** | 6 | 2 | 1 | 2 | 1 |"));
        assert!(md.contains("| `b_provisioning::tc_b_99_csms` | pass |"));
        assert!(!md.contains("did not finish"));
    }

    #[test]
    fn unfinished_run_is_flagged_and_failure_wins_over_duplicate_pass() {
        let cases = parse_cases(TSV).unwrap();
        let run = parse_output(
            "running 2 tests\ntest a::tc_a_01_csms ... FAILED\ntest b::tc_a_01_csms ... ok\n",
        );
        let report = Report::new(&cases, &run);
        assert_eq!(report.totals(), [0, 1, 0, 5]);
        assert!(report.render(&meta()).contains("did not finish"));
    }

    #[test]
    fn unmatched_tests_are_listed_once_sorted_with_their_worst_run() {
        let cases = parse_cases(TSV).unwrap();
        // Two engines' runs of the same suite, finishing in different orders.
        let run = parse_output(
            "running 4 tests\ntest z::later ... ok\ntest a::earlier ... ok\n\
             test a::earlier ... FAILED\ntest z::later ... ok\ntest result: ok.\n",
        );
        let md = Report::new(&cases, &run).render(&meta());
        let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| `")).collect();
        assert_eq!(rows, ["| `a::earlier` | fail |", "| `z::later` | pass |"]);
    }

    #[test]
    fn report_names_its_commit_and_its_tool() {
        let cases = parse_cases(TSV).unwrap();
        let run = parse_output(SAMPLE);
        let md = Report::new(&cases, &run).render(&meta());
        let header: String = md.lines().take(12).collect::<Vec<_>>().join("\n");
        assert!(
            header.contains(&format!("- Generated from commit: `{HEAD}`\n")),
            "{header}"
        );
        assert!(header.contains("- Date: 2024-01-01 00:00 UTC"), "{header}");
        assert!(header.contains("**unicharge-sim**"), "{header}");
        assert!(
            header.contains("re-implementation of the OCTT CSMS test cases"),
            "{header}"
        );
        assert!(
            header.contains("**not** the Open Charge Alliance"),
            "{header}"
        );
        assert!(!header.contains("uncommitted"), "{header}");
    }

    #[test]
    fn commit_line_is_the_full_head_and_says_when_the_tree_is_dirty() {
        assert_eq!(commit_line(Some(HEAD), Some("")), format!("`{HEAD}`"));
        assert_eq!(
            commit_line(Some(HEAD), Some(" M crates/csms/src/lib.rs\n?? new.rs")),
            format!("`{HEAD}` (with uncommitted changes)")
        );
        assert!(commit_line(Some(HEAD), None).contains("state unknown"));
        assert!(commit_line(None, Some("")).starts_with("unknown"));
    }

    /// Against this repository: the line carries the 40-hex HEAD (whatever the tree's state).
    #[test]
    fn collected_commit_is_the_repository_head() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let head = Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(root)
            .output();
        let Some(head) = head.ok().filter(|o| o.status.success()) else {
            return; // not a git checkout (a source tarball): nothing to compare with
        };
        let head = String::from_utf8(head.stdout).unwrap();
        let meta = Meta::collect(root, "test".into());
        assert!(
            meta.commit.starts_with(&format!("`{}`", head.trim())),
            "{}",
            meta.commit
        );
    }

    #[test]
    fn options() {
        let args: Vec<String> = ["--from", "out.txt", "--", "--skip", "x"]
            .map(String::from)
            .into();
        let o = Options::parse(&args).unwrap();
        assert_eq!(o.from.as_deref(), Some("out.txt"));
        assert_eq!(o.libtest_args, ["--skip", "x"]);
        assert!(cargo_test_command(&o.libtest_args)
            .join(" ")
            .ends_with("-- --test-threads 2 --skip x"));
        let own = ["--test-threads=1".to_string()];
        assert!(!cargo_test_command(&own)
            .join(" ")
            .contains("--test-threads 2"));
        assert!(Options::parse(&["--bogus".to_string()]).is_err());
    }

    #[test]
    fn repository_cases_tsv_parses() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let cases = parse_cases(&std::fs::read_to_string(root.join(CASES_TSV)).unwrap()).unwrap();
        assert_eq!(cases.len(), 197);
    }
}
