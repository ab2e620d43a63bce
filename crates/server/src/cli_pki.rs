//! `unicharge pki …` (test PKIs) and `unicharge token …` (personal data of an idToken).

use std::path::PathBuf;

use clap::Subcommand;
use unicharge_csms::certificate_management::v2g_ca;

use crate::cli::ApiArgs;

#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Write a TEST ISO 15118-2 V2G PKI (root, CPO sub-CA 1 and 2, P-256) to --out, and print
    /// the `[plug_and_charge]` lines that make unicharge sign SECC certificates with it.
    ///
    /// For labs and tests only: no EV trusts this root. unicharge never creates or uses one on
    /// its own; production uses the sub-CA your V2G PKI operator issues.
    V2gTestCa {
        /// Directory to write to (created; existing files are never overwritten).
        #[arg(long)]
        out: PathBuf,
        /// organizationName of the test CAs.
        #[arg(long, default_value = "unicharge test CPO")]
        org: String,
        /// Validity of the test CAs, in days.
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Everything unicharge stores about an idToken (GDPR right of access), as JSON.
    PersonalData {
        id_token: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Erase an idToken (GDPR right to be forgotten): the token, its local-list entries and
    /// reservations are deleted; transactions and charge records, which billing law requires
    /// keeping, keep their amounts under a keyed pseudonym. Cannot be undone.
    Erase {
        id_token: String,
        /// Confirm: the erasure cannot be undone.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        api: ApiArgs,
    },
}

pub fn pki(command: &PkiCommand) -> anyhow::Result<()> {
    match command {
        PkiCommand::V2gTestCa { out, org, days } => {
            let pki = v2g_ca::generate_test_pki(org, *days).map_err(anyhow::Error::msg)?;
            let files = v2g_ca::write_test_pki(out, &pki).map_err(anyhow::Error::msg)?;
            println!("TEST V2G PKI written (not for production: no EV trusts this root)");
            println!(
                "  root (install with InstallCertificate V2GRootCertificate): {}",
                files.root.display()
            );
            println!();
            println!("[plug_and_charge]");
            println!(
                "v2g_sub_ca_chain = {:?}",
                files.sub_ca_chain.display().to_string()
            );
            println!(
                "v2g_sub_ca_key = {:?}",
                files.sub_ca_key.display().to_string()
            );
            Ok(())
        }
    }
}

/// Percent-encoding of one path segment (RFC 3986 unreserved characters stay).
pub(crate) fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub async fn token(command: &TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::PersonalData { id_token, api } => {
            api.get(&format!("tokens/{}/personal-data", segment(id_token)))
                .await
        }
        TokenCommand::Erase { id_token, yes, api } => {
            if !yes {
                anyhow::bail!(
                    "erasing {id_token:?} cannot be undone: add --yes (see `unicharge token \
                     personal-data {id_token}` for what would be erased)"
                );
            }
            api.send(
                reqwest::Method::POST,
                &format!("tokens/{}/erase", segment(id_token)),
                Some(serde_json::json!({})),
            )
            .await
        }
    }
}
