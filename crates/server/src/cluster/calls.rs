//! CALLs between nodes: NATS request / reply on `<prefix>.node.<node>.call` (ADR 0048).
//!
//! The request is a [`RemoteCall`] (JSON), the reply a [`RemoteOutcome`] (JSON). Closing a
//! station's connection (it was removed) goes the same way on `<prefix>.node.<node>.disconnect`
//! ([`Disconnect`], answered `true` / `false`). The calling
//! node waits the station's call timeout plus a margin; a node that is gone is known at once
//! (NATS answers "no responders"), so a call to a station whose node died fails fast as not
//! connected instead of waiting for the timeout.

use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use unicharge_core::StationId;
use unicharge_csms::cluster::{disconnect_reason, RemoteCall, RemoteOutcome};
use unicharge_csms::Csms;

/// What the calling node adds to the station's deadline for the trip to the holding node.
const TRANSIT_MARGIN: Duration = Duration::from_secs(2);

/// The largest request another node may send (a CALL is bounded by the station's frame limit
/// long before this).
const MAX_REQUEST: usize = 4 * 1024 * 1024;

/// Send `call` to the node answering on `subject` and wait for its outcome.
pub async fn send(
    client: &async_nats::Client,
    subject: &str,
    call: RemoteCall,
    deadline: Duration,
) -> RemoteOutcome {
    use async_nats::RequestErrorKind;
    let payload = match serde_json::to_vec(&call) {
        Ok(p) => p,
        Err(e) => {
            return RemoteOutcome::Failed {
                message: format!("cannot encode the call: {e}"),
            }
        }
    };
    let request = async_nats::Request::new()
        .payload(payload.into())
        .timeout(Some(deadline + TRANSIT_MARGIN));
    let outcome = match client.send_request(subject.to_string(), request).await {
        Ok(reply) => match serde_json::from_slice::<RemoteOutcome>(&reply.payload) {
            Ok(outcome) => outcome,
            Err(e) => RemoteOutcome::Failed {
                message: format!("the holding node's answer does not decode: {e}"),
            },
        },
        Err(e) => match e.kind() {
            // The node is gone (its entry has not aged out yet).
            RequestErrorKind::NoResponders => RemoteOutcome::NotConnected,
            RequestErrorKind::TimedOut => RemoteOutcome::Timeout {
                after_ms: (deadline + TRANSIT_MARGIN).as_millis() as u64,
            },
            _ => RemoteOutcome::Failed {
                message: format!("NATS request failed: {e}"),
            },
        },
    };
    let label = match &outcome {
        RemoteOutcome::Answer { .. } => "answer",
        RemoteOutcome::NotConnected => "not_connected",
        RemoteOutcome::Timeout { .. } => "timeout",
        _ => "failed",
    };
    metrics::counter!("cluster_calls_sent_total", "outcome" => label).increment(1);
    outcome
}

/// Answer the CALLs other nodes send this node, each in its own task (a station that is slow
/// to answer must not hold up calls to the others).
pub async fn serve(
    client: async_nats::Client,
    subject: String,
    csms: Csms,
    node: String,
) -> anyhow::Result<JoinHandle<()>> {
    let mut requests = client.subscribe(subject.clone()).await?;
    Ok(tokio::spawn(async move {
        while let Some(message) = requests.next().await {
            let Some(reply) = message.reply.clone() else {
                continue;
            };
            let (client, csms) = (client.clone(), csms.clone());
            let node = node.clone();
            tokio::spawn(async move {
                let outcome = if message.payload.len() > MAX_REQUEST {
                    RemoteOutcome::Failed {
                        message: format!("call of {} octets refused", message.payload.len()),
                    }
                } else {
                    match serde_json::from_slice::<RemoteCall>(&message.payload) {
                        Ok(call) => {
                            tracing::debug!(node = %node, station = %call.station,
                                action = call.action.as_str(), "CALL for another node");
                            csms.call_for_node(call).await
                        }
                        Err(e) => {
                            tracing::warn!(node = %node, error = %e,
                                "cluster: a call that does not decode; answered Failed");
                            RemoteOutcome::Failed {
                                message: format!("call does not decode: {e}"),
                            }
                        }
                    }
                };
                metrics::counter!("cluster_calls_served_total").increment(1);
                let body = serde_json::to_vec(&outcome).unwrap_or_default();
                if let Err(e) = client.publish(reply, body.into()).await {
                    tracing::warn!(node = %node, error = %e, "cluster: reply not sent");
                }
            });
        }
    }))
}

/// A request to close a station's connection on the node that holds it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Disconnect {
    pub station: StationId,
    pub reason: String,
}

/// Ask the node answering on `subject` to close the station's connection; true if it had one.
pub async fn send_disconnect(
    client: &async_nats::Client,
    subject: &str,
    station: &StationId,
    reason: &str,
) -> bool {
    let request = Disconnect {
        station: station.clone(),
        reason: reason.to_string(),
    };
    let Ok(body) = serde_json::to_vec(&request) else {
        return false;
    };
    let request = async_nats::Request::new()
        .payload(body.into())
        .timeout(Some(TRANSIT_MARGIN));
    match client.send_request(subject.to_string(), request).await {
        Ok(reply) => serde_json::from_slice(&reply.payload).unwrap_or(false),
        Err(e) => {
            tracing::debug!(station = %station, error = %e, "cluster: disconnect not delivered");
            false
        }
    }
}

/// Close the connections other nodes ask this node to close.
pub async fn serve_disconnects(
    client: async_nats::Client,
    subject: String,
    csms: Csms,
) -> anyhow::Result<JoinHandle<()>> {
    let mut requests = client.subscribe(subject).await?;
    Ok(tokio::spawn(async move {
        while let Some(message) = requests.next().await {
            let Some(reply) = message.reply.clone() else {
                continue;
            };
            let closed = match serde_json::from_slice::<Disconnect>(&message.payload) {
                Ok(request) => {
                    csms.disconnect_here(&request.station, disconnect_reason(&request.reason))
                        .await
                }
                Err(_) => false,
            };
            let body = serde_json::to_vec(&closed).unwrap_or_default();
            let _ = client.publish(reply, body.into()).await;
        }
    }))
}
