//! Committed facts shared between nodes (ADR 0048): each node publishes its own on
//! `<prefix>.facts.<node>` and feeds the other nodes' into its cluster view
//! ([`Csms::subscribe_cluster`], what the operator UI's live updates read).
//!
//! Best effort, like the in-process broadcast it extends: a fact is published after its write
//! committed, and a view that misses one re-reads the store. Work that must happen once (OCPI
//! pushes, site rebalancing) stays on the node where the fact happened and does not read these.

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use unicharge_csms::{Csms, Fact};

/// Facts waiting to be published; beyond this they are dropped (and counted).
pub const OUTGOING_BUFFER: usize = 4096;

/// The subject a node publishes its facts on.
pub fn subject(prefix: &str, node: &str) -> String {
    format!("{prefix}.facts.{node}")
}

/// Publish this node's facts, in order.
pub fn publish(
    client: async_nats::Client,
    subject: String,
    mut facts: mpsc::Receiver<Fact>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(fact) = facts.recv().await {
            let Ok(body) = serde_json::to_vec(&fact) else {
                continue;
            };
            if let Err(e) = client.publish(subject.clone(), body.into()).await {
                tracing::debug!(error = %e, "cluster: fact not published");
            }
        }
    })
}

/// Feed the other nodes' facts into this node's cluster view.
pub async fn follow(
    client: async_nats::Client,
    prefix: &str,
    node: &str,
    csms: Csms,
) -> anyhow::Result<JoinHandle<()>> {
    let own = subject(prefix, node);
    let mut incoming = client.subscribe(format!("{prefix}.facts.*")).await?;
    let node = node.to_string();
    Ok(tokio::spawn(async move {
        while let Some(message) = incoming.next().await {
            if message.subject.as_str() == own {
                continue;
            }
            match serde_json::from_slice::<Fact>(&message.payload) {
                Ok(fact) => csms.publish_from_node(fact),
                Err(e) => tracing::warn!(node = %node, error = %e,
                    subject = %message.subject.as_str().chars().take(80).collect::<String>(),
                    "cluster: a fact that does not decode; ignored"),
            }
        }
    }))
}
