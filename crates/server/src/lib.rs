//! The `unicharge` server: configuration, wiring of the store and the front doors, and the CLI.
//!
//! [`start`] is what `unicharge serve` runs, and what the conformance tests run in-process on
//! ephemeral ports — one code path for both.

pub mod bootstrap;
pub mod cli;
pub mod cli_efc;
pub mod cli_firmware;
pub mod cli_ocpi;
pub mod cli_pki;
pub mod cluster;
pub mod demo;
pub mod diameter;
pub mod http;
pub mod settings;
pub mod store;
pub mod tls_material;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use unicharge_csms::{Csms, RunningCsms};
use unicharge_store::Store;

pub use settings::Settings;

/// A running server.
pub struct Server {
    pub csms: RunningCsms,
    pub store: Arc<dyn Store>,
    pub http_addr: Option<SocketAddr>,
    /// TLS material generated on this start (to print its paths), if any.
    pub generated_tls: Option<tls_material::Generated>,
    /// The admin API key created on this (first) start, to print once. Only its hash is kept.
    pub initial_admin_key: Option<String>,
    /// The ISO 17575-1 back end and its listeners.
    pub efc: unicharge_efc_backend::Backend,
    pub efc_listeners: unicharge_efc_backend::transport::Listeners,
    /// The Diameter Rf CDF, unless `[diameter] listen = ""`.
    pub diameter: Option<diameter::RunningDiameter>,
    /// The OCPI front door (under `/ocpi` on the HTTP listener), unless `[ocpi] enabled = false`
    /// or there is no HTTP listener.
    pub ocpi: Option<unicharge_ocpi_server::Ocpi>,
    /// This node's membership in a cluster, when `[cluster] nats_url` is set (ADR 0048).
    pub cluster: Option<cluster::RunningCluster>,
}

impl Server {
    pub fn ws_addr(&self) -> Option<SocketAddr> {
        self.csms.ws_addr
    }

    pub fn wss_addr(&self) -> Option<SocketAddr> {
        self.csms.wss_addr
    }

    pub fn handle(&self) -> &Csms {
        &self.csms.csms
    }

    pub async fn shutdown(self) {
        if let Some(c) = &self.cluster {
            c.shutdown();
        }
        self.efc_listeners.shutdown();
        if let Some(d) = self.diameter {
            d.shutdown();
        }
        self.csms.shutdown().await;
    }
}

/// Open the store, apply the bootstrap file, prepare TLS, start the CSMS and the HTTP side door.
pub async fn start(settings: Settings) -> anyhow::Result<Server> {
    if let Some(report) = &settings.csms.boot_provisioning_report {
        const BASES: [&str; 3] = [
            "ConfigurationInventory",
            "FullInventory",
            "SummaryInventory",
        ];
        anyhow::ensure!(
            BASES.contains(&report.as_str()),
            "csms.boot_provisioning_report = {report:?}: use one of {BASES:?}"
        );
    }
    create_private_dir(&settings.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {} (set data_dir in the configuration)",
            settings.data_dir.display()
        )
    })?;
    let stores = store::open(&settings).await?;
    tracing::info!(store = %stores.described, "store opened");
    let (store, ocpi_store) = (stores.store, stores.ocpi);
    if let Some(path) = &settings.bootstrap {
        let n = bootstrap::Bootstrap::load(path)?
            .apply(store.as_ref())
            .await?;
        tracing::info!(file = %path.display(), stations = n, "bootstrap file applied");
    }
    let (tls, generated_tls) = if settings.csms.wss_listen.is_some() {
        tls_material::resolve(&settings)?
    } else {
        (settings.csms.tls.clone(), None)
    };
    let certificate_authority = match (&settings.csms.ca_cert, &settings.csms.ca_key) {
        (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        (None, None) => generated_tls
            .as_ref()
            .map(|g| (g.paths.ca_cert.clone(), g.paths.ca_key.clone())),
        _ => anyhow::bail!("set both csms.ca_cert and csms.ca_key, or neither"),
    };
    let contract_trust = plug_and_charge_trust(&settings.plug_and_charge)?;
    check_plug_and_charge_services(&settings.plug_and_charge)?;
    let csms = Csms::start(
        settings.csms_config(tls, certificate_authority),
        store.clone(),
    )
    .await?;
    csms.csms.contract_trust().configure(contract_trust);
    let cluster_settings = settings.cluster.with_environment();
    let cluster = match cluster_settings.nats_url {
        Some(_) => Some(cluster::join(&cluster_settings, &csms.csms).await?),
        None => None,
    };
    let initial_admin_key = unicharge_api::ensure_admin_key(store.as_ref())
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot create the initial admin API key: {}",
                e.body.message
            )
        })?;
    let efc = unicharge_efc_backend::Backend::new(store.clone(), settings.efc.clone().into());
    let diameter_tls = match (settings.diameter.listen, settings.diameter.tls_listen) {
        (Some(_), Some(_)) => Some(diameter::tls_settings(&settings)?),
        _ => None,
    };
    let diameter = diameter::start(&settings.diameter, store.clone(), diameter_tls).await?;
    let ocpi = match (settings.ocpi.enabled, settings.http.listen) {
        (true, Some(_)) => Some(
            unicharge_ocpi_server::Ocpi::new(
                settings.ocpi.clone(),
                store.clone(),
                ocpi_store,
                csms.csms.clone(),
                &settings.data_dir,
            )
            .context("ocpi")?,
        ),
        _ => None,
    };
    let http_addr = match settings.http.listen {
        Some(addr) => {
            let key = pseudonym_key(&settings.data_dir)?;
            if let Some(o) = &ocpi {
                o.set_pseudonym_key(key.clone());
            }
            let mut api_state = unicharge_api::ApiState::new(csms.csms.clone(), store.clone())
                .with_efc(efc.clone())
                .with_demo(settings.demo)
                .with_pseudonym_key(key);
            if let Some(d) = &diameter {
                api_state = api_state.with_diameter(Arc::new(diameter::ApiPeers {
                    peers: d.peers.clone(),
                    ocf: d.ocf.clone(),
                }));
            }
            if let Some(o) = &ocpi {
                api_state = api_state.with_ocpi(o.clone());
            }
            let mut api = unicharge_api::router(api_state);
            if let Some(o) = &ocpi {
                api = api.merge(o.router());
            }
            let bound = http::serve(addr, http::metrics_handle(), api).await?;
            if let Some(o) = &ocpi {
                o.set_listen_addr(bound);
            }
            if let Some(files) = csms.csms.files() {
                files.set_public_base(
                    settings
                        .csms
                        .files_public_url
                        .clone()
                        .unwrap_or_else(|| format!("http://{bound}")),
                );
            }
            Some(bound)
        }
        None => None,
    };
    let efc_listeners = unicharge_efc_backend::transport::start(
        efc.clone(),
        settings.efc.tcp_listen,
        settings.efc.http_listen,
        settings.efc.max_frame,
    )
    .await?;
    Ok(Server {
        csms,
        store,
        http_addr,
        generated_tls,
        initial_admin_key,
        efc,
        efc_listeners,
        diameter,
        ocpi,
        cluster,
    })
}

/// Create the data directory (and missing parents) readable by its owner only (0700): it holds
/// the database, private keys and the CA. An existing one is left as the operator set it.
pub fn create_private_dir(path: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// The key of the GDPR pseudonyms (`<data_dir>/pseudonym.key`, 32 random bytes as hex, mode
/// 0600), created on first start. Kept outside the database: a copy of the database alone does
/// not turn pseudonyms back into idTokens (not even by trying every card UID). Losing it only
/// means later erasures of the same token get another pseudonym.
pub fn pseudonym_key(data_dir: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Write as _;
    let path = data_dir.join("pseudonym.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    anyhow::bail!(
                        "{} is readable by others (mode {mode:o}): run `chmod 600 {}`",
                        path.display(),
                        path.display()
                    );
                }
            }
            let key = hex::decode(text.trim()).ok().filter(|k| k.len() >= 32);
            key.ok_or_else(|| {
                anyhow::anyhow!(
                    "{} is not 64 hex digits; restore it from the backup (a new key gives \
                     later erasures other pseudonyms)",
                    path.display()
                )
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = vec![0u8; 32];
            openssl::rand::rand_bytes(&mut key)?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(&path)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
            file.write_all(hex::encode(&key).as_bytes())?;
            file.sync_all()?;
            tracing::info!(file = %path.display(), "GDPR pseudonym key created; back it up with the database");
            Ok(key)
        }
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

/// A02/A03 V2G sub-CA and M01/M02 contract-certificate service settings: complete, or the
/// error names the missing half; what is not configured is logged with the setting to set.
fn check_plug_and_charge_services(s: &settings::PlugAndChargeSettings) -> anyhow::Result<()> {
    match (&s.v2g_sub_ca_chain, &s.v2g_sub_ca_key) {
        (Some(_), Some(_)) => {}
        (None, None) => tracing::info!(
            "plug_and_charge.v2g_sub_ca_chain / v2g_sub_ca_key not set: SignCertificate for \
             V2G certificates will be Rejected"
        ),
        _ => anyhow::bail!(
            "set both plug_and_charge.v2g_sub_ca_chain and plug_and_charge.v2g_sub_ca_key, or \
             neither"
        ),
    }
    match &s.contract_service_url {
        Some(url) if !url.starts_with("http://") => anyhow::bail!(
            "plug_and_charge.contract_service_url = {url:?}: give an http:// URL (a pool \
             reached over TLS sits behind an adapter; see docs/plug-and-charge.md)"
        ),
        Some(_) => {}
        None => tracing::info!(
            "plug_and_charge.contract_service_url not set: Get15118EVCertificate will be \
             answered Failed"
        ),
    }
    Ok(())
}

/// C07: the contract-certificate trust from the settings; an unreadable file names itself.
fn plug_and_charge_trust(
    s: &settings::PlugAndChargeSettings,
) -> anyhow::Result<unicharge_csms::certificate_management::contract::TrustConfig> {
    let trust = unicharge_csms::certificate_management::contract::TrustConfig::from_pem_files(
        &s.roots,
        &s.intermediates,
        s.ocsp_responder.clone(),
        s.ocsp_timeout,
    )
    .map_err(|e| anyhow::anyhow!("plug_and_charge: {e}"))?;
    if trust.roots.is_empty() {
        tracing::info!("plug_and_charge.roots not set: contract certificates will be refused");
    }
    Ok(trust)
}
