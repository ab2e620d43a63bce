//! Several nodes behind a load balancer, routed over NATS (issue 17, ADR 0048).
//!
//! With `[cluster] nats_url` set, a node
//! - announces the stations connected to it in a NATS key-value bucket (station → node, OCPP
//!   version), renewed while they stay connected; the entries of a node that dies age out
//!   ([`presence`]);
//! - keeps a mirror of that bucket in memory, so "who holds this station?" is a map lookup;
//! - answers CALLs other nodes send for its stations on `<prefix>.node.<node>.call` (NATS
//!   request / reply), through the same send path as its own ([`calls`]);
//! - sends its own CALLs for stations held elsewhere there, and fails fast (409
//!   `station_not_connected`) when no node holds the station or its node does not answer;
//! - publishes its committed facts and feeds the others' into its cluster view ([`facts`]).
//!
//! Without it the node is alone and nothing here runs.

pub mod calls;
pub mod facts;
pub mod leases;
pub mod presence;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use unicharge_core::StationId;
use unicharge_csms::cluster::{Cluster, Holder, RemoteCall, RemoteOutcome};
use unicharge_csms::Csms;
use unicharge_ocpp::OcppVersion;

use presence::{Announcement, Mirror};

/// `[cluster]`: how this node finds the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSettings {
    /// `nats://host:4222` of the NATS server (with JetStream, `nats-server -js`). Unset: this
    /// node is alone. A server with authentication: `nats://user:password@host:4222` — keep the
    /// configuration file private (0600), or give the URL as `UNICHARGE_NATS_URL` in the
    /// environment, which overrides this.
    pub nats_url: Option<String>,
    /// This node's name, unique in the cluster: letters, digits, `-` and `_`. Default: the host
    /// name and the process id.
    pub node_id: Option<String>,
    /// How long a station's entry lives without renewal: a dead node's stations count as
    /// unreachable this long after its last renewal, at the latest ("30s").
    #[serde(with = "crate::settings::duration")]
    pub presence_ttl: Duration,
    /// The key-value bucket of station holders.
    pub bucket: String,
    /// The first token of every subject the nodes use.
    pub subject_prefix: String,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            nats_url: None,
            node_id: None,
            presence_ttl: Duration::from_secs(30),
            bucket: "unicharge_stations".into(),
            subject_prefix: "unicharge".into(),
        }
    }
}

/// The environment variable that overrides `[cluster] nats_url`.
pub const NATS_URL_VAR: &str = "UNICHARGE_NATS_URL";

impl ClusterSettings {
    /// These settings with `UNICHARGE_NATS_URL` applied, when it is set and not empty.
    pub fn with_environment(&self) -> ClusterSettings {
        let mut settings = self.clone();
        if let Some(url) = std::env::var(NATS_URL_VAR)
            .ok()
            .filter(|u| !u.trim().is_empty())
        {
            settings.nats_url = Some(url);
        }
        settings
    }

    /// This node's id: the configured one (checked) or `<hostname>-<pid>`.
    pub fn node_id(&self) -> anyhow::Result<String> {
        match &self.node_id {
            Some(id) => {
                anyhow::ensure!(
                    is_token(id),
                    "cluster.node_id = {id:?}: use letters, digits, '-' and '_' only (it is a \
                     NATS subject token)"
                );
                Ok(id.clone())
            }
            None => {
                let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .unwrap_or_else(|_| "node".into());
                let host: String = host
                    .trim()
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '-' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                Ok(format!("{host}-{}", std::process::id()))
            }
        }
    }
}

/// `nats://user:***@host`: a NATS URL as it may be logged.
fn without_password(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, rest)), Some((_, host))) if rest.contains('@') => {
            let user = rest.split(['@', ':']).next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The NATS side of [`Cluster`].
pub struct NatsCluster {
    node: String,
    client: async_nats::Client,
    prefix: String,
    mirror: Arc<Mirror>,
    announcements: mpsc::UnboundedSender<Announcement>,
    facts: mpsc::Sender<unicharge_csms::Fact>,
    js: jetstream::Context,
    settings: ClusterSettings,
    /// The bucket of leases ([`leases`]), opened again after a write to it fails.
    leases: std::sync::Mutex<jetstream::kv::Store>,
}

impl NatsCluster {
    /// The subject a node answers CALLs on.
    fn call_subject(&self, node: &str) -> String {
        format!("{}.node.{node}.call", self.prefix)
    }

    /// The subject a node closes connections on request on.
    fn disconnect_subject(&self, node: &str) -> String {
        format!("{}.node.{node}.disconnect", self.prefix)
    }
}

#[async_trait]
impl Cluster for NatsCluster {
    fn held(&self, station: &StationId, version: OcppVersion) {
        let _ = self
            .announcements
            .send(Announcement::Held(station.clone(), version));
    }

    fn released(&self, station: &StationId) {
        let _ = self
            .announcements
            .send(Announcement::Released(station.clone()));
    }

    fn holder(&self, station: &StationId) -> Option<Holder> {
        self.mirror.holder(station)
    }

    fn held_elsewhere(&self) -> Vec<StationId> {
        self.mirror.held_elsewhere()
    }

    fn fact(&self, fact: &unicharge_csms::Fact) {
        if self.facts.try_send(fact.clone()).is_err() {
            metrics::counter!("cluster_facts_dropped_total").increment(1);
        }
    }

    async fn call(&self, holder: &Holder, call: RemoteCall, deadline: Duration) -> RemoteOutcome {
        calls::send(
            &self.client,
            &self.call_subject(&holder.node),
            call,
            deadline,
        )
        .await
    }

    async fn lease(&self, name: &str) -> Option<unicharge_csms::cluster::Lease> {
        let ttl = self.settings.presence_ttl;
        let store = self
            .leases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match leases::take(&store, &self.node, name, ttl).await {
            Ok(lease) => return lease,
            Err(e) => tracing::warn!(node = %self.node, lease = %name, error = %e,
                "cluster lease cannot be taken; opening the lease bucket again"),
        }
        let store = leases::open(&self.js, &self.settings).await.ok()?;
        *self.leases.lock().unwrap_or_else(|e| e.into_inner()) = store.clone();
        leases::take(&store, &self.node, name, ttl)
            .await
            .ok()
            .flatten()
    }

    async fn disconnect(&self, holder: &Holder, station: &StationId, reason: &'static str) -> bool {
        let subject = self.disconnect_subject(&holder.node);
        calls::send_disconnect(&self.client, &subject, station, reason).await
    }
}

/// A node's membership in the cluster: its tasks, stopped with it.
pub struct RunningCluster {
    pub node: String,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningCluster {
    pub fn shutdown(&self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Drop for RunningCluster {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Connect to NATS, create or open the bucket, and make `csms` a member of the cluster.
pub async fn join(settings: &ClusterSettings, csms: &Csms) -> anyhow::Result<RunningCluster> {
    let Some(url) = &settings.nats_url else {
        anyhow::bail!("cluster.nats_url is not set");
    };
    let node = settings.node_id()?;
    // What may be logged: the URL without its password.
    let shown = without_password(url);
    anyhow::ensure!(
        is_token(&settings.subject_prefix),
        "cluster.subject_prefix = {:?}: use letters, digits, '-' and '_' only",
        settings.subject_prefix
    );
    anyhow::ensure!(
        settings.presence_ttl >= Duration::from_secs(1),
        "cluster.presence_ttl must be at least 1s"
    );
    let client = async_nats::ConnectOptions::new()
        .name(format!("unicharge {node}"))
        .connect(url.as_str())
        .await
        .with_context(|| {
            format!(
                "cannot reach NATS at {shown} (cluster.nats_url): start `nats-server -js` there, \
                 or remove [cluster] to run a single node"
            )
        })?;
    let js = jetstream::new(client.clone());
    let bucket = open_bucket(&js, settings).await.with_context(|| {
        format!(
            "cannot open or create the key-value bucket {} on {shown}: is JetStream enabled \
                 (`nats-server -js`)?",
            settings.bucket
        )
    })?;
    let lease_bucket = leases::open(&js, settings).await.with_context(|| {
        format!(
            "cannot open or create the key-value bucket {} on {shown}",
            leases::bucket_name(settings)
        )
    })?;
    let mirror = Arc::new(Mirror::new(node.clone(), settings.presence_ttl));
    let (tx, rx) = mpsc::unbounded_channel();
    let (facts_tx, facts_rx) = mpsc::channel(facts::OUTGOING_BUFFER);
    let cluster = Arc::new(NatsCluster {
        node: node.clone(),
        client: client.clone(),
        prefix: settings.subject_prefix.clone(),
        mirror: mirror.clone(),
        announcements: tx,
        facts: facts_tx,
        js: js.clone(),
        settings: settings.clone(),
        leases: std::sync::Mutex::new(lease_bucket),
    });
    let responder = calls::serve(
        client.clone(),
        cluster.call_subject(&node),
        csms.clone(),
        node.clone(),
    )
    .await?;
    let disconnects = calls::serve_disconnects(
        client.clone(),
        cluster.disconnect_subject(&node),
        csms.clone(),
    )
    .await?;
    let mut tasks = vec![
        responder,
        disconnects,
        facts::follow(
            client.clone(),
            &settings.subject_prefix,
            &node,
            csms.clone(),
        )
        .await?,
        facts::publish(
            client.clone(),
            facts::subject(&settings.subject_prefix, &node),
            facts_rx,
        ),
        tokio::spawn(presence::follow(bucket.clone(), mirror.clone())),
        tokio::spawn(presence::announce(bucket.clone(), mirror, node.clone(), rx)),
    ];
    tasks.push(tokio::spawn(renew(
        js,
        settings.clone(),
        csms.clone(),
        node.clone(),
    )));
    csms.join_cluster(cluster.clone());
    tracing::info!(node = %cluster.node, nats = %shown, bucket = %settings.bucket,
        "joined the cluster");
    Ok(RunningCluster { node, tasks })
}

/// Open the bucket of station holders, creating it when missing.
///
/// Created as the stream a key-value bucket is (`KV_<bucket>` on `$KV.<bucket>.>`, one message
/// per subject, rollups allowed, direct gets) rather than through `create_key_value`, which
/// first asks for the account's API level — an answer NATS 2.9 (Debian 12's) does not give in
/// the shape this client expects. The same bucket works with 2.9 and later servers.
async fn open_bucket(
    js: &jetstream::Context,
    settings: &ClusterSettings,
) -> anyhow::Result<jetstream::kv::Store> {
    if let Ok(bucket) = js.get_key_value(settings.bucket.as_str()).await {
        return Ok(bucket);
    }
    js.get_or_create_stream(jetstream::stream::Config {
        name: format!("KV_{}", settings.bucket),
        description: Some("unicharge: which node holds each station's connection".into()),
        subjects: vec![format!("$KV.{}.>", settings.bucket)],
        max_messages_per_subject: 1,
        max_age: settings.presence_ttl,
        // Renewed every third of the TTL: a restarted NATS server is refilled by then.
        storage: jetstream::stream::StorageType::Memory,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: jetstream::stream::DiscardPolicy::New,
        num_replicas: 1,
        ..Default::default()
    })
    .await?;
    Ok(js.get_key_value(settings.bucket.as_str()).await?)
}

/// Put every station held here again, every third of the TTL, so that the entries outlive the
/// TTL while the stations stay connected. When puts fail (the bucket lives in the NATS server's
/// memory: a restarted server has lost it) the bucket is created again, and the next round
/// refills it.
async fn renew(js: jetstream::Context, settings: ClusterSettings, csms: Csms, node: String) {
    use futures_util::StreamExt as _;
    let mut bucket: Option<jetstream::kv::Store> = None;
    let mut tick = tokio::time::interval(settings.presence_ttl / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let store = match &bucket {
            Some(store) => store.clone(),
            None => match open_bucket(&js, &settings).await {
                Ok(store) => {
                    bucket = Some(store.clone());
                    store
                }
                Err(e) => {
                    tracing::warn!(node = %node, error = %e,
                        "cluster: the station bucket cannot be opened; retrying");
                    continue;
                }
            },
        };
        let failed = std::sync::atomic::AtomicUsize::new(0);
        futures_util::stream::iter(csms.stations_held_here())
            .for_each_concurrent(64, |(station, version)| {
                let (store, node, failed) = (&store, &node, &failed);
                async move {
                    if !presence::put(store, node, &station, version).await {
                        failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            })
            .await;
        if failed.into_inner() > 0 {
            // Open (and if need be create) the bucket again before the next round.
            bucket = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn a_nats_url_is_logged_without_its_password() {
        assert_eq!(
            without_password("nats://unicharge:s3cret@10.0.0.5:4222"),
            "nats://unicharge:***@10.0.0.5:4222"
        );
        assert_eq!(
            without_password("nats://10.0.0.5:4222"),
            "nats://10.0.0.5:4222"
        );
    }
}
