//! TLS material for the wss listener: the configured files, or — when none are configured — a
//! local CA and RSA + ECDSA server certificates generated under `<data_dir>/tls` on first start
//! (and reused afterwards). The local CA also verifies station client certificates (profile 3)
//! unless another `client_ca` is configured.

use std::path::PathBuf;

use unicharge_csms::security::pki;
use unicharge_csms::{ServerCertConfig, TlsConfig};

use crate::Settings;

/// Paths of generated material, printed at start so an operator can install the CA on stations.
#[derive(Debug, Clone)]
pub struct Generated {
    pub paths: pki::PkiPaths,
    /// False when the files already existed from an earlier start.
    pub created_now: bool,
}

/// The TLS settings to use, and what was generated for them.
pub fn resolve(settings: &Settings) -> anyhow::Result<(TlsConfig, Option<Generated>)> {
    let configured = &settings.csms.tls;
    if !configured.server_certs.is_empty() {
        return Ok((configured.clone(), None));
    }
    let dir: PathBuf = settings.data_dir.join("tls");
    let (paths, created_now) = pki::load_or_create(&dir, &settings.csms.server_names)
        .map_err(|e| anyhow::anyhow!("cannot prepare TLS material in {}: {e}", dir.display()))?;
    let tls = TlsConfig {
        server_certs: vec![
            ServerCertConfig {
                cert: paths.server_rsa_cert.clone(),
                key: paths.server_rsa_key.clone(),
            },
            ServerCertConfig {
                cert: paths.server_ecdsa_cert.clone(),
                key: paths.server_ecdsa_key.clone(),
            },
        ],
        client_ca: configured
            .client_ca
            .clone()
            .or_else(|| Some(paths.ca_cert.clone())),
    };
    Ok((tls, Some(Generated { paths, created_now })))
}
