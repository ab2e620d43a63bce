//! Several nodes, one CSMS (ADR 0048): where a station's connection is held, and a CALL to a
//! station whose connection another node holds.
//!
//! A station keeps one WebSocket to one node, but an operation may start on any node (the
//! operator's API call lands wherever the load balancer sends it; an OCPI command, a campaign or
//! a site-limit rebalance runs where it runs). The operation's logic and its store writes run on
//! the node where it started — the store is shared — and only the CALL and its answer travel to
//! the node holding the socket, which sends it exactly as it would its own.
//!
//! The CSMS does not know the transport: the server implements [`Cluster`] over NATS (a
//! key-value bucket of holders, request / reply between nodes). The CSMS tells it when a
//! connection starts and ends here ([`Cluster::held`], [`Cluster::released`]), asks it who holds
//! a station this node does not ([`Cluster::holder`]), and hands it the CALL
//! ([`Cluster::call`]). On the holding node the transport gives the call to
//! [`crate::Csms::call_for_node`], which answers with a [`RemoteOutcome`].

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use unicharge_core::StationId;
use unicharge_ocpp::v201::Action;
use unicharge_ocpp::{ErrorCode, OcppVersion};

use crate::request::OpError;

/// Another node that holds a station's connection, and what the station speaks there (so an
/// operation can pick its 1.6 / 2.0.1 path without asking).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub node: String,
    pub version: OcppVersion,
}

/// The transport between nodes, as the CSMS sees it.
#[async_trait]
pub trait Cluster: Send + Sync + 'static {
    /// This node now holds the station's connection. Must not block (called under the
    /// registry's lock order, on connect).
    fn held(&self, station: &StationId, version: OcppVersion);
    /// This node no longer holds the station's connection. Must not block.
    fn released(&self, station: &StationId);
    /// Another node that holds the station's connection right now, if one does. Answered from
    /// memory: this is asked before every operation.
    fn holder(&self, station: &StationId) -> Option<Holder>;
    /// Stations whose connections other nodes hold.
    fn held_elsewhere(&self) -> Vec<StationId>;
    /// A fact this node committed, for the other nodes' cluster views. Must not block; may be
    /// dropped under overload (views re-read the store when they miss facts).
    fn fact(&self, fact: &crate::facts::Fact);
    /// Send the CALL through the holding node and return its outcome. `deadline` is how long
    /// the station may take (the holder's own call timeout); the transport adds its margin.
    async fn call(&self, holder: &Holder, call: RemoteCall, deadline: Duration) -> RemoteOutcome;
    /// Ask the holding node to close the station's connection; true if it had one.
    async fn disconnect(&self, holder: &Holder, station: &StationId, reason: &'static str) -> bool;
    /// Take the cluster-wide lease `name` for this node, if no node holds it: `None` when
    /// another node does. Kept (renewed) while the returned guard lives, released when it is
    /// dropped; the lease of a node that dies ends on its own after a while (the transport's
    /// TTL). Work that must not run on two nodes at once (a campaign step, one site group's
    /// rebalance) runs under one.
    async fn lease(&self, name: &str) -> Option<Lease>;
}

/// A cluster-wide lease held by this node (see [`Cluster::lease`]); released on drop.
pub struct Lease {
    _held: Box<dyn Send + Sync>,
}

impl Lease {
    /// A lease whose release is dropping `held` (the transport's guard).
    pub fn new(held: impl Send + Sync + 'static) -> Self {
        Lease {
            _held: Box::new(held),
        }
    }

    /// The lease of a node that is alone: there is nobody to exclude.
    pub fn alone() -> Self {
        Lease::new(())
    }
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lease")
    }
}

/// The reasons a connection is closed for on another node's request, as the static texts the
/// connection task logs; any other is named generically.
pub fn disconnect_reason(reason: &str) -> &'static str {
    match reason {
        "station removed" => "station removed",
        _ => "closed at another node's request",
    }
}

/// A CALL for a station held by another node, in the 2.0.1 vocabulary (the holding node
/// translates for a 1.6 station, as it does for its own calls).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteCall {
    pub station: StationId,
    pub action: Action,
    pub payload: Value,
}

/// What came of a [`RemoteCall`]: the answer, or the failure in [`OpError`]'s vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "outcome",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum RemoteOutcome {
    Answer {
        payload: Value,
    },
    /// The holding node does not hold the station (any more), or no node answered.
    NotConnected,
    Busy {
        queued: usize,
    },
    Timeout {
        after_ms: u64,
    },
    CallError {
        code: String,
        description: String,
        details: Value,
    },
    InvalidResponse {
        violation: String,
    },
    InvalidRequest {
        path: String,
        message: String,
        code: String,
    },
    Refused {
        code: String,
        message: String,
        detail: Option<Value>,
    },
    /// Anything else (a store error on the holding node, a transport failure): the message.
    Failed {
        message: String,
    },
}

impl RemoteOutcome {
    /// The holding node's side: its local outcome, for the wire.
    pub fn of(result: Result<Value, OpError>) -> Self {
        match result {
            Ok(payload) => RemoteOutcome::Answer { payload },
            Err(e) => match e {
                OpError::NotConnected(_) | OpError::UnknownStation(_) => {
                    RemoteOutcome::NotConnected
                }
                OpError::Busy { queued, .. } => RemoteOutcome::Busy { queued },
                OpError::Timeout { after, .. } => RemoteOutcome::Timeout {
                    after_ms: after.as_millis() as u64,
                },
                OpError::CallError {
                    code,
                    description,
                    details,
                    ..
                } => RemoteOutcome::CallError {
                    code: code.as_str().to_string(),
                    description,
                    details,
                },
                OpError::InvalidResponse { violation, .. } => {
                    RemoteOutcome::InvalidResponse { violation }
                }
                OpError::InvalidRequest {
                    path,
                    message,
                    code,
                    ..
                } => RemoteOutcome::InvalidRequest {
                    path,
                    message,
                    code: code.as_str().to_string(),
                },
                OpError::Refused {
                    code,
                    message,
                    detail,
                } => RemoteOutcome::Refused {
                    code: code.to_string(),
                    message,
                    detail,
                },
                OpError::NotFound { message, .. }
                | OpError::Contended { message, .. }
                | OpError::Store(message) => RemoteOutcome::Failed { message },
            },
        }
    }

    /// The calling node's side: back into the operation vocabulary, as if the call had been
    /// local.
    pub fn into_result(self, station: &StationId, action: Action) -> Result<Value, OpError> {
        let error_code = |code: &str| code.parse().unwrap_or(ErrorCode::GenericError);
        match self {
            RemoteOutcome::Answer { payload } => Ok(payload),
            RemoteOutcome::NotConnected => Err(OpError::NotConnected(station.clone())),
            RemoteOutcome::Busy { queued } => Err(OpError::Busy {
                station: station.clone(),
                queued,
            }),
            RemoteOutcome::Timeout { after_ms } => Err(OpError::Timeout {
                station: station.clone(),
                action,
                after: Duration::from_millis(after_ms),
            }),
            RemoteOutcome::CallError {
                code,
                description,
                details,
            } => Err(OpError::CallError {
                station: station.clone(),
                action,
                code: error_code(&code),
                description,
                details,
            }),
            RemoteOutcome::InvalidResponse { violation } => Err(OpError::InvalidResponse {
                station: station.clone(),
                action,
                violation,
            }),
            RemoteOutcome::InvalidRequest {
                path,
                message,
                code,
            } => Err(OpError::InvalidRequest {
                action: action.as_str().to_string(),
                path,
                message,
                code: error_code(&code),
            }),
            RemoteOutcome::Refused {
                code,
                message,
                detail,
            } => Err(OpError::Refused {
                code: refusal_code(&code),
                message,
                detail,
            }),
            RemoteOutcome::Failed { message } => Err(OpError::Store(message)),
        }
    }
}

/// The refusals the holding node's send path can give (the 1.6 translation's), as the static
/// codes [`OpError::Refused`] carries; any other is named generically (its message stays).
fn refusal_code(code: &str) -> &'static str {
    match code {
        "not_expressible_in_ocpp16" => "not_expressible_in_ocpp16",
        "not_a_csms_action" => "not_a_csms_action",
        _ => "refused_by_holding_node",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn station() -> StationId {
        "CP-7".parse().unwrap()
    }

    /// Every failure survives the trip as the same error (the API maps them to the same HTTP
    /// status whichever node the station is on).
    #[test]
    fn outcomes_round_trip_through_the_wire() {
        let cases = vec![
            Ok(serde_json::json!({"status": "Accepted"})),
            Err(OpError::NotConnected(station())),
            Err(OpError::Busy {
                station: station(),
                queued: 3,
            }),
            Err(OpError::Timeout {
                station: station(),
                action: Action::Reset,
                after: Duration::from_millis(1500),
            }),
            Err(OpError::CallError {
                station: station(),
                action: Action::Reset,
                code: ErrorCode::NotSupported,
                description: "no".into(),
                details: serde_json::json!({"k": 1}),
            }),
            Err(OpError::InvalidResponse {
                station: station(),
                action: Action::Reset,
                violation: "status missing".into(),
            }),
            Err(OpError::refused(
                "not_expressible_in_ocpp16",
                "1.6 has no such thing",
            )),
        ];
        for case in cases {
            let wire = serde_json::to_vec(&RemoteOutcome::of(case.clone())).unwrap();
            let back: RemoteOutcome = serde_json::from_slice(&wire).unwrap();
            assert_eq!(back.into_result(&station(), Action::Reset), case);
        }
    }

    #[test]
    fn an_unknown_refusal_keeps_its_message() {
        let outcome = RemoteOutcome::Refused {
            code: "something_new".into(),
            message: "why".into(),
            detail: None,
        };
        match outcome.into_result(&station(), Action::Reset) {
            Err(OpError::Refused { code, message, .. }) => {
                assert_eq!(code, "refused_by_holding_node");
                assert_eq!(message, "why");
            }
            other => panic!("{other:?}"),
        }
    }
}
