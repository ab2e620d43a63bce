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
    /// Issue a client certificate from the local CA that `serve` generated (data directory,
    /// `tls/`): for a Diameter peer when `[diameter] tls_require_client_certificate` is on
    /// (`unicharge-sim diameter load --tls --tls-cert … --tls-key …`), or a lab station on
    /// security profile 3. Writes NAME.pem and NAME.key.pem (0600) to --out.
    ///
    /// With your own CA configured (`[csms.tls] client_ca`), issue certificates from that CA
    /// instead: this command only knows the generated one.
    ClientCert {
        /// Common name: the peer's Origin-Host, or the station id.
        name: String,
        /// Directory to write to (created; existing files are never overwritten).
        #[arg(long)]
        out: PathBuf,
        /// Validity in days.
        #[arg(long, default_value_t = 365)]
        days: i64,
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

pub fn pki(settings: &crate::Settings, command: &PkiCommand) -> anyhow::Result<()> {
    match command {
        PkiCommand::ClientCert { name, out, days } => client_cert(settings, name, out, *days),
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

fn client_cert(
    settings: &crate::Settings,
    name: &str,
    out: &std::path::Path,
    days: i64,
) -> anyhow::Result<()> {
    use unicharge_csms::security::pki;
    let tls = settings.data_dir.join("tls");
    let paths = pki::PkiPaths::in_dir(&tls);
    if !paths.ca_cert.exists() {
        anyhow::bail!(
            "no local CA in {}: start `unicharge serve` once (with the same --data-dir) so it \
             generates one",
            tls.display()
        );
    }
    let ca = pki::load_ca(&paths.ca_cert, &paths.ca_key)
        .map_err(|e| anyhow::anyhow!("cannot read the local CA in {}: {e}", tls.display()))?;
    let (cert, key) = pki::issue_client_certificate(&ca, pki::KeyKind::EcP256, name, 0, days)
        .map_err(|e| anyhow::anyhow!("cannot issue the certificate: {e}"))?;
    std::fs::create_dir_all(out)?;
    let file = |suffix: &str| out.join(format!("{}{suffix}", segment(name)));
    let (cert_path, key_path) = (file(".pem"), file(".key.pem"));
    for p in [&cert_path, &key_path] {
        if p.exists() {
            anyhow::bail!("{} exists: choose another --out or remove it", p.display());
        }
    }
    pki::write_pem(&cert_path, &pki::certificate_to_pem(&cert)?, false)?;
    pki::write_pem(&key_path, &pki::private_key_to_pem(&key)?, true)?;
    println!(
        "client certificate for {name:?}, valid {days} days, issued by {}",
        paths.ca_cert.display()
    );
    println!("  certificate: {}", cert_path.display());
    println!("  private key: {} (0600)", key_path.display());
    println!(
        "  the CA to verify the server with: {}",
        paths.ca_cert.display()
    );
    Ok(())
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
