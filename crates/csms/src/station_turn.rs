//! Work on one station that must not run twice at once anywhere in the cluster: it reads a
//! number from the shared store, picks the next one and records it (a local-list version, a
//! requestId). Two requests doing that at once — on one node, or on two nodes sharing the
//! store — would pick the same number.
//!
//! A [`Turn`] is a per-station lock on this node (cheap, and it keeps one node's own requests
//! from racing for the cluster lease) and then the station's cluster lease for that kind of
//! work (see [`crate::cluster::Cluster::lease`]); a node that is alone gets the lease at once.

use std::collections::HashMap;
use std::sync::Arc;

use unicharge_core::StationId;

use crate::request::OpError;
use crate::Csms;

/// One lock per station for one kind of work on this node.
#[derive(Clone, Default)]
pub struct StationLocks(Arc<std::sync::Mutex<HashMap<StationId, Arc<tokio::sync::Mutex<()>>>>>);

impl StationLocks {
    async fn lock(&self, station: &StationId) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(station.clone())
            .or_default()
            .clone();
        lock.lock_owned().await
    }
}

/// The kinds of work that take turns, each with its own locks and lease names.
#[derive(Debug, Clone, Copy)]
pub enum Work {
    /// Block D: picking the next local-list version and sending the list.
    LocalList,
    /// Picking the next requestId of a report, a tracked request or a profile report, and
    /// recording the request under it.
    RequestId,
}

impl Work {
    fn lease_prefix(self) -> &'static str {
        match self {
            Work::LocalList => "local-list",
            Work::RequestId => "request-ids",
        }
    }

    fn busy_code(self) -> &'static str {
        match self {
            Work::LocalList => "local_list_busy",
            Work::RequestId => "request_ids_busy",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Work::LocalList => "updating the local list",
            Work::RequestId => "allocating a requestId",
        }
    }
}

/// This node's per-station locks, one set per [`Work`].
#[derive(Clone, Default)]
pub struct TurnLocks {
    local_list: StationLocks,
    request_id: StationLocks,
}

/// The right to do [`Work`] on one station; released when dropped.
pub struct Turn {
    _local: tokio::sync::OwnedMutexGuard<()>,
    _cluster: crate::cluster::Lease,
}

impl std::fmt::Debug for Turn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Turn")
    }
}

/// Wait for the station's [`Turn`] at `work`: refused (`<work>_busy`, 503 at the API) when
/// another node has held the station's lease for longer than four call timeouts, i.e. is stuck
/// rather than busy.
pub async fn take(csms: &Csms, work: Work, station: &StationId) -> Result<Turn, OpError> {
    let locks = &csms.shared().turns;
    let local = match work {
        Work::LocalList => locks.local_list.lock(station).await,
        Work::RequestId => locks.request_id.lock(station).await,
    };
    let patience = csms.config().call_timeout * 4;
    let name = format!("{}.{station}", work.lease_prefix());
    let Some(lease) = csms.lease_waiting(&name, patience).await else {
        return Err(OpError::Contended {
            code: work.busy_code(),
            message: format!(
                "another node has been {} of station {station} for over {}s; retry later",
                work.what(),
                patience.as_secs()
            ),
        });
    };
    Ok(Turn {
        _local: local,
        _cluster: lease,
    })
}
