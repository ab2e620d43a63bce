//! The CSMS service: listeners plus the handle operators and other front doors use to reach
//! stations.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use unicharge_core::{Station, StationId};
use unicharge_store::Store;

use crate::connection::ConnectionHandle;
use crate::facts::{Fact, FACT_BUFFER};
use crate::listener;
use crate::registry::Registry;
use crate::request::OpError;
use crate::security::guard::Guard;
use crate::security::pki::{load_ca, CaMaterial};
use crate::security::tls::{build_acceptor, TlsSettings};
use crate::CsmsConfig;

/// What the listeners and connection tasks share.
pub struct Shared {
    pub config: Arc<CsmsConfig>,
    pub store: Arc<dyn Store>,
    pub registry: Arc<Registry>,
    /// The CA that signs station certificates, loaded once at start.
    pub ca: Option<Arc<CaMaterial>>,
    /// Committed facts, to every subscriber ([`Csms::subscribe`]).
    pub facts: broadcast::Sender<Fact>,
    /// Committed facts of every node of the cluster ([`Csms::subscribe_cluster`]).
    pub cluster_facts: broadcast::Sender<Fact>,
    /// Per-station serialisation of work that picks the next number (local-list versions,
    /// requestIds), see [`crate::station_turn`].
    pub turns: crate::station_turn::TurnLocks,
    /// Limits against strangers and password guessing (unregistered slots, lockouts, hash queue,
    /// verified-credential cache).
    pub guard: Guard,
    /// Site load management: serialised rebalancing and the cached groups.
    pub site_load: crate::smart_charging::site::SiteLoadState,
    /// The files unicharge serves (firmware), if a files directory is configured.
    pub files: Option<crate::firmware::files::Files>,
    /// Block P: the vendor extensions' DataTransfer handlers.
    pub data_transfer: crate::data_transfer::DataTransferHandlers,
    /// C07: the trust anchors and OCSP responder contract certificates are checked against.
    pub contract_trust: crate::certificate_management::contract::ContractTrust,
    /// A02/A03 V2GCertificate: the V2G sub-CA that signs SECC certificates, if configured.
    pub v2g_ca: Option<Arc<crate::certificate_management::v2g_ca::V2gSubCa>>,
    /// M01/M02: the contract-certificate service Get15118EVCertificate goes to.
    pub contract_service:
        Option<crate::certificate_management::ev_certificate::ContractServiceConfig>,
    /// L01 rollout campaigns: wakes their task after an operator's change.
    pub campaigns: crate::firmware::campaign::CampaignWake,
}

/// A cheap, cloneable handle on the running CSMS.
#[derive(Clone)]
pub struct Csms {
    shared: Arc<Shared>,
}

/// A started CSMS: its handle, the addresses it listens on, and its listener tasks.
pub struct RunningCsms {
    pub csms: Csms,
    pub ws_addr: Option<SocketAddr>,
    pub wss_addr: Option<SocketAddr>,
    listeners: Vec<JoinHandle<()>>,
}

impl Csms {
    /// Bind the configured listeners and start accepting stations.
    pub async fn start(config: CsmsConfig, store: Arc<dyn Store>) -> anyhow::Result<RunningCsms> {
        let ca = match &config.certificate_authority {
            Some((cert, key)) => Some(Arc::new(load_ca(cert, key).with_context(|| {
                format!(
                    "cannot load the certificate authority {} / {}",
                    cert.display(),
                    key.display()
                )
            })?)),
            None => None,
        };
        let files =
            match &config.files_dir {
                Some(dir) => Some(crate::firmware::files::Files::open(dir).with_context(|| {
                    format!("cannot open the files directory {}", dir.display())
                })?),
                None => None,
            };
        let v2g_ca = match &config.v2g_sub_ca {
            Some((chain, key)) => Some(Arc::new(
                crate::certificate_management::v2g_ca::V2gSubCa::load(
                    chain,
                    key,
                    config.v2g_certificate_days,
                )
                .with_context(|| {
                    format!(
                        "cannot load the V2G sub-CA {} / {} (plug_and_charge.v2g_sub_ca_chain / \
                         v2g_sub_ca_key)",
                        chain.display(),
                        key.display()
                    )
                })?,
            )),
            None => None,
        };
        let shared = Arc::new(Shared {
            v2g_ca,
            contract_service: config.contract_service.clone(),
            files,
            guard: Guard::new(&config),
            config: Arc::new(config),
            store,
            registry: Arc::new(Registry::default()),
            ca,
            facts: broadcast::channel(FACT_BUFFER).0,
            cluster_facts: broadcast::channel(FACT_BUFFER).0,
            turns: Default::default(),
            site_load: Default::default(),
            data_transfer: Default::default(),
            contract_trust: Default::default(),
            campaigns: Default::default(),
        });
        let config = shared.config.clone();
        let mut listeners = Vec::new();
        let mut ws_addr = None;
        let mut wss_addr = None;
        if let Some(addr) = config.ws_listen {
            let listener = bind(addr).with_context(|| {
                format!("cannot listen for ws on {addr}: is the port taken? Set csms.ws_listen")
            })?;
            ws_addr = Some(listener.local_addr()?);
            listeners.push(tokio::spawn(listener::serve_ws(listener, shared.clone())));
        }
        if let Some(addr) = config.wss_listen {
            let settings = TlsSettings {
                server_certs: config
                    .tls
                    .server_certs
                    .iter()
                    .map(|c| (c.cert.clone(), c.key.clone()))
                    .collect(),
                client_ca: config.tls.client_ca.clone(),
            };
            let acceptor = build_acceptor(&settings).context("cannot set up TLS for wss")?;
            let listener = bind(addr).with_context(|| {
                format!("cannot listen for wss on {addr}: is the port taken? Set csms.wss_listen")
            })?;
            wss_addr = Some(listener.local_addr()?);
            listeners.push(tokio::spawn(listener::serve_wss(
                listener,
                Arc::new(acceptor),
                shared.clone(),
            )));
        }
        listeners.push(tokio::spawn(prune_answers(shared.clone())));
        // Subscribed here, before the first station can connect: no transaction is missed.
        listeners.push(tokio::spawn(crate::smart_charging::site::run(
            Csms::from_shared(shared.clone()),
            shared.facts.subscribe(),
        )));
        // L01 rollout campaigns (resumes the ones a previous run left unfinished).
        listeners.push(tokio::spawn(crate::firmware::campaign::run(
            Csms::from_shared(shared.clone()),
            shared.facts.subscribe(),
        )));
        Ok(RunningCsms {
            csms: Csms { shared },
            ws_addr,
            wss_addr,
            listeners,
        })
    }

    /// The handle of the CSMS whose listeners share `shared`.
    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Csms { shared }
    }

    /// Receive every committed fact from now on (see [`crate::facts`]).
    pub fn subscribe(&self) -> broadcast::Receiver<Fact> {
        self.shared.facts.subscribe()
    }

    /// Committed facts of every node of the cluster (this node's included), for views that must
    /// show the whole cluster. Work that must happen once subscribes with [`Csms::subscribe`].
    /// Alone, the same facts as [`Csms::subscribe`].
    pub fn subscribe_cluster(&self) -> broadcast::Receiver<Fact> {
        self.shared.cluster_facts.subscribe()
    }

    /// Publish a committed fact. Only after the write that made it true was committed.
    pub(crate) fn publish(&self, fact: Fact) {
        if let Some(cluster) = self.shared.registry.cluster() {
            cluster.fact(&fact);
        }
        // No subscriber is not an error: nobody is interested yet.
        let _ = self.shared.cluster_facts.send(fact.clone());
        let _ = self.shared.facts.send(fact);
    }

    /// A fact another node committed (from the cluster's transport): to the cluster view only.
    pub fn publish_from_node(&self, fact: Fact) {
        // The phases another node's station uses, for this node's site rebalances.
        self.shared.site_load.seen_elsewhere(&fact);
        let _ = self.shared.cluster_facts.send(fact);
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The station's registration, or [`OpError::UnknownStation`]: every operation starts here.
    pub async fn registered(&self, station: &StationId) -> Result<Station, OpError> {
        self.store()
            .get_station(station)
            .await?
            .ok_or_else(|| OpError::UnknownStation(station.clone()))
    }

    /// The live connection of a station, if it has one.
    pub fn connection(&self, station: &StationId) -> Option<ConnectionHandle> {
        self.shared.registry.get(station)
    }

    /// Connected to this node or, in a cluster, to another one (ADR 0048): an operation can
    /// reach it.
    pub fn is_connected(&self, station: &StationId) -> bool {
        self.connection(station).is_some() || self.holder_elsewhere(station).is_some()
    }

    /// The OCPP version the station's connection speaks, wherever it is held.
    pub fn connected_version(&self, station: &StationId) -> Option<unicharge_ocpp::OcppVersion> {
        match self.connection(station) {
            Some(handle) => Some(handle.version),
            None => self.holder_elsewhere(station).map(|h| h.version),
        }
    }

    /// Stations connected right now (to any node of the cluster), sorted.
    pub fn connected_stations(&self) -> Vec<StationId> {
        let mut stations = self.shared.registry.stations();
        if let Some(cluster) = self.shared.registry.cluster() {
            stations.extend(cluster.held_elsewhere());
            stations.sort();
            stations.dedup();
        }
        stations
    }

    /// Stations whose connections this node holds, with the version each speaks.
    pub fn stations_held_here(&self) -> Vec<(StationId, unicharge_ocpp::OcppVersion)> {
        self.shared
            .registry
            .handles()
            .into_iter()
            .map(|h| (h.station_id, h.version))
            .collect()
    }

    /// Join a cluster (ADR 0048): connections held here are announced to the other nodes, and
    /// calls to stations held elsewhere go through it. False if already joined.
    pub fn join_cluster(&self, cluster: Arc<dyn crate::cluster::Cluster>) -> bool {
        self.shared.registry.join(cluster)
    }

    /// Whether this node is one of several (ADR 0048): what it caches of the shared store may
    /// be changed by another node behind its back.
    pub fn in_cluster(&self) -> bool {
        self.shared.registry.cluster().is_some()
    }

    /// The cluster-wide lease `name` for this node (see [`crate::cluster::Cluster::lease`]);
    /// always granted to a node that is alone. `None`: another node holds it now.
    pub async fn lease(&self, name: &str) -> Option<crate::cluster::Lease> {
        match self.shared.registry.cluster() {
            Some(cluster) => cluster.lease(name).await,
            None => Some(crate::cluster::Lease::alone()),
        }
    }

    /// [`Csms::lease`], waiting while another node holds it, up to `patience`: `None` if it was
    /// still held elsewhere by then.
    pub async fn lease_waiting(
        &self,
        name: &str,
        patience: std::time::Duration,
    ) -> Option<crate::cluster::Lease> {
        let deadline = tokio::time::Instant::now() + patience;
        let mut pause = std::time::Duration::from_millis(20);
        loop {
            if let Some(lease) = self.lease(name).await {
                return Some(lease);
            }
            if tokio::time::Instant::now() + pause > deadline {
                return None;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(std::time::Duration::from_millis(500));
        }
    }

    /// Another node that holds the station's connection, when this one does not.
    pub(crate) fn holder_elsewhere(&self, station: &StationId) -> Option<crate::cluster::Holder> {
        self.shared.registry.cluster()?.holder(station)
    }

    /// Close a station's connection (after it was removed, say), on whichever node holds it.
    /// True if it had one.
    pub async fn disconnect(&self, station: &StationId, reason: &'static str) -> bool {
        if self.disconnect_here(station, reason).await {
            return true;
        }
        match (
            self.shared.registry.cluster(),
            self.holder_elsewhere(station),
        ) {
            (Some(cluster), Some(holder)) => cluster.disconnect(&holder, station, reason).await,
            _ => false,
        }
    }

    /// Close the station's connection if this node holds it (the holding node's side of a
    /// [`Csms::disconnect`] made on another node). True if it had one.
    pub async fn disconnect_here(&self, station: &StationId, reason: &'static str) -> bool {
        match self.connection(station) {
            Some(handle) => {
                handle.close(reason).await;
                true
            }
            None => false,
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.shared.store
    }

    /// The files unicharge serves, if a files directory is configured.
    pub fn files(&self) -> Option<&crate::firmware::files::Files> {
        self.shared.files.as_ref()
    }

    pub fn config(&self) -> &CsmsConfig {
        &self.shared.config
    }

    /// Block P: register vendor extensions' handlers of incoming DataTransfer here.
    pub fn data_transfer_handlers(&self) -> &crate::data_transfer::DataTransferHandlers {
        &self.shared.data_transfer
    }

    /// C07: configure the V2G / MO roots and OCSP responder contract certificates are checked
    /// against (none configured: every contract certificate is refused).
    pub fn contract_trust(&self) -> &crate::certificate_management::contract::ContractTrust {
        &self.shared.contract_trust
    }

    /// The front door's limits and counters.
    pub fn guard(&self) -> &Guard {
        &self.shared.guard
    }
}

impl RunningCsms {
    /// Stop accepting and close every station connection.
    pub async fn shutdown(self) {
        for task in &self.listeners {
            task.abort();
        }
        for handle in self.csms.shared.registry.handles() {
            handle.close("CSMS shutting down").await;
        }
    }
}

impl Drop for RunningCsms {
    fn drop(&mut self) {
        for task in &self.listeners {
            task.abort();
        }
    }
}

/// Forget the answers kept for retransmission detection once they are older than
/// `answer_retention`, every `answer_prune_interval`.
async fn prune_answers(shared: Arc<Shared>) {
    let config = shared.config.clone();
    let mut every = tokio::time::interval(config.answer_prune_interval);
    loop {
        every.tick().await;
        let Ok(retention) = chrono::Duration::from_std(config.answer_retention) else {
            return;
        };
        let before = chrono::Utc::now() - retention;
        match shared.store.prune_answers(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "stored answers older than the retention pruned"),
            Err(e) => tracing::warn!(error = %e, "pruning stored answers failed"),
        }
    }
}

/// Connections the kernel may hold complete but not yet accepted. std's default (128, tokio's
/// 1,024) overflows when a fleet reconnects at once: a dropped SYN is retried by the station only
/// after a second. The kernel caps it at `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 8192;

fn bind(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}
