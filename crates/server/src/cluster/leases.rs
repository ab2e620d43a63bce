//! Cluster-wide leases ([`unicharge_csms::cluster::Cluster::lease`]) over NATS: a key-value
//! bucket `<bucket>_leases` whose entries age out after the presence TTL, like the station
//! entries.
//!
//! Taking a lease is creating its key (refused while another node's entry lives); the holder
//! updates the entry every third of the TTL (against the revision it wrote, so a holder that
//! lost its entry learns it), and deletes it when the guard is dropped. A node that dies stops
//! renewing: its leases end one TTL after its last renewal at the latest, and another node
//! takes them at its next attempt.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, kv};
use tokio::task::JoinHandle;
use unicharge_csms::cluster::Lease;

use super::ClusterSettings;

/// The bucket of leases next to the bucket of station holders.
pub fn bucket_name(settings: &ClusterSettings) -> String {
    format!("{}_leases", settings.bucket)
}

/// Open the bucket of leases, creating it when missing (as [`super::open_bucket`] does, for the
/// same NATS 2.9 reason).
pub async fn open(
    js: &jetstream::Context,
    settings: &ClusterSettings,
) -> anyhow::Result<kv::Store> {
    let name = bucket_name(settings);
    if let Ok(bucket) = js.get_key_value(name.as_str()).await {
        return Ok(bucket);
    }
    js.get_or_create_stream(jetstream::stream::Config {
        name: format!("KV_{name}"),
        description: Some("unicharge: cluster-wide leases (one node at a time)".into()),
        subjects: vec![format!("$KV.{name}.>")],
        max_messages_per_subject: 1,
        max_age: settings.presence_ttl,
        storage: jetstream::stream::StorageType::Memory,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: jetstream::stream::DiscardPolicy::New,
        num_replicas: 1,
        ..Default::default()
    })
    .await?;
    Ok(js.get_key_value(name.as_str()).await?)
}

/// A lease name as a bucket key: `[A-Za-z0-9_-]` kept, every other byte `=XX`.
fn key_of(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' {
            key.push(byte as char);
        } else {
            key.push_str(&format!("={byte:02X}"));
        }
    }
    key
}

/// What a held lease keeps: its renewal task and the revision last written (to delete only
/// our own entry).
struct Held {
    store: kv::Store,
    key: String,
    revision: Arc<AtomicU64>,
    renewal: JoinHandle<()>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.renewal.abort();
        let (store, key) = (self.store.clone(), std::mem::take(&mut self.key));
        let revision = self.revision.load(Ordering::Relaxed);
        // Released in the background: a failed delete only means the entry ages out.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = store.delete_expect_revision(&key, Some(revision)).await {
                    tracing::debug!(lease = %key, error = %e, "lease not deleted; it ages out");
                }
            });
        }
    }
}

/// Take the lease `name` for `node`: `Ok(None)` if another node holds it, `Err` if the bucket
/// could not be written (NATS down, or the bucket lost with a restarted NATS server).
pub async fn take(
    store: &kv::Store,
    node: &str,
    name: &str,
    ttl: Duration,
) -> Result<Option<Lease>, kv::CreateError> {
    let key = key_of(name);
    let revision = match store.create(&key, node.to_string().into()).await {
        Ok(revision) => revision,
        Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => return Ok(None),
        Err(e) => return Err(e),
    };
    let revision = Arc::new(AtomicU64::new(revision));
    let renewal = tokio::spawn(renew(
        store.clone(),
        key.clone(),
        node.to_string(),
        revision.clone(),
        ttl / 3,
    ));
    Ok(Some(Lease::new(Held {
        store: store.clone(),
        key,
        revision,
        renewal,
    })))
}

/// Write the entry again every `every` while the lease is held.
async fn renew(
    store: kv::Store,
    key: String,
    node: String,
    revision: Arc<AtomicU64>,
    every: Duration,
) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        let last = revision.load(Ordering::Relaxed);
        match store.update(&key, node.clone().into(), last).await {
            Ok(next) => revision.store(next, Ordering::Relaxed),
            Err(e) => {
                tracing::warn!(node = %node, lease = %key, error = %e,
                    "cluster lease lost (not renewed in time); another node may take it");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_keys_are_valid_nats_keys() {
        assert_eq!(key_of("campaigns"), "campaigns");
        assert_eq!(key_of("site.Depot 1"), "site=2EDepot=201");
    }
}
