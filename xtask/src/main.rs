//! Project chores, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! - `codegen-ocpp`: regenerate `crates/ocpp/src/v201/messages.rs` from the official schemas in
//!   `crates/ocpp/schemas/v201/`. The output is committed; CI checks it is up to date.
//! - `conformance-report`: run the OCTT conformance tests and write `docs/conformance/ocpp201-csms.md`.
//! - `diameter-report`: run the Diameter Rf/Ro TP tests and write `docs/conformance/diameter-rf-ro.md`.
//! - `efc-conformance-report`: run the ISO/TS 16407-1 EFC tests and write `docs/conformance/efc-17575.md`.
//! - `ocpi-report`: run the OCPI tests and write `docs/conformance/ocpi.md` (seed 003 BUCs).
//! - `ocpp16-report`: run the OCPP 1.6J tests and write `docs/conformance/ocpp16.md`.

mod codegen_ocpp;
mod conformance_report;
mod diameter_report;
mod efc_conformance_report;
mod ocpi_report;
mod ocpp16_report;

use std::path::PathBuf;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("codegen-ocpp") => codegen_ocpp::run(&workspace_root(), &args[1..]),
        Some("conformance-report") => conformance_report::run(&workspace_root(), &args[1..]),
        Some("efc-conformance-report") => {
            efc_conformance_report::run(&workspace_root(), &args[1..])
        }
        Some("diameter-report") => diameter_report::run(&workspace_root(), &args[1..]),
        Some("ocpi-report") => ocpi_report::run(&workspace_root(), &args[1..]),
        Some("ocpp16-report") => ocpp16_report::run(&workspace_root(), &args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n\
                 commands:\n  \
                 codegen-ocpp [--check]   regenerate OCPP 2.0.1 message types from the schemas\n  \
                 conformance-report       run the OCTT CSMS conformance tests, write docs/conformance/ocpp201-csms.md\n  \
                 diameter-report          run the Diameter Rf/Ro TP tests, write docs/conformance/diameter-rf-ro.md\n  \
                 efc-conformance-report   run the ISO/TS 16407-1 EFC tests, write docs/conformance/efc-17575.md\n  \
                 ocpi-report              run the OCPI tests, write docs/conformance/ocpi.md\n  \
                 ocpp16-report            run the OCPP 1.6J tests, write docs/conformance/ocpp16.md\n\n\
                 Every report command takes --from LOG to read a saved `cargo test` output instead of running."
            );
            std::process::exit(2);
        }
    }
}
