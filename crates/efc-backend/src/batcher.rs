//! Reports that arrive while the store is busy go to it together, as **one** writer job.
//!
//! Each charge report is durable before it is answered: its report row, charge records and
//! ledger debits are committed, then the answer leaves. Committing every report as its own
//! writer job costs a channel hop to the writer thread, a SAVEPOINT / RELEASE and a wake-up per
//! report, and with hundreds of OBEs reporting at once that per-job cost, not SQLite, was the
//! limit (docs/benchmarks.md, EFC section).
//!
//! So the back end queues each report's writes here. When nothing is being committed, the
//! first report starts a flush task at once (no waiting on an idle server). While that flush is
//! at the store, later reports queue; when it returns, everything queued goes as the next job.
//! Every report is answered only after the job carrying it committed, with its own outcome.
//!
//! A job is all or nothing. If a combined job fails (one report's write refused, say), its
//! reports are committed again one job each, so one bad report fails alone, as before batching.
//!
//! Order per OBE is kept by the caller: the back end holds the OBE's lock from reading its
//! state until its report committed, so two reports of one OBE are never in flight together.

use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;
use unicharge_store::{Store, StoreError, Write};

/// Most reports put into one writer job (a bound on one transaction's size and on the latency
/// of the reports at its end).
pub const MAX_BATCH: usize = 1024;

struct Item {
    writes: Vec<Write>,
    done: oneshot::Sender<Result<(), StoreError>>,
}

#[derive(Default)]
struct Queue {
    items: Vec<Item>,
    /// A flush task is running (it takes what is queued until the queue is empty).
    flushing: bool,
}

/// The per-back-end queue of report writes waiting for the store.
pub struct Batcher {
    store: Arc<dyn Store>,
    queue: Mutex<Queue>,
    max_batch: usize,
}

impl Batcher {
    pub fn new(store: Arc<dyn Store>, max_batch: usize) -> Arc<Self> {
        Arc::new(Batcher {
            store,
            queue: Mutex::new(Queue::default()),
            max_batch: max_batch.max(1),
        })
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        // Every change under the lock is one push or one drain: a poisoned lock is usable.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Commit `writes` atomically, together with whatever other reports are queued; returns
    /// when they are durable (or failed, alone).
    pub async fn commit(self: &Arc<Self>, writes: Vec<Write>) -> Result<(), StoreError> {
        let (done, committed) = oneshot::channel();
        let start = {
            let mut queue = self.queue();
            queue.items.push(Item { writes, done });
            !std::mem::replace(&mut queue.flushing, true)
        };
        if start {
            // A task of its own: a caller that goes away (its connection dropped) must not take
            // the other reports' outcomes with it.
            tokio::spawn(self.clone().flush());
        }
        committed.await.map_err(|_| StoreError::Closed)?
    }

    async fn flush(self: Arc<Self>) {
        loop {
            let items: Vec<Item> = {
                let mut queue = self.queue();
                if queue.items.is_empty() {
                    queue.flushing = false;
                    return;
                }
                let n = queue.items.len().min(self.max_batch);
                queue.items.drain(..n).collect()
            };
            metrics::histogram!("efc_store_batch_reports").record(items.len() as f64);
            if items.len() == 1 {
                let Item { writes, done } = items.into_iter().next().expect("one item");
                let _ = done.send(self.store.write(writes).await);
                continue;
            }
            let mut writes = Vec::with_capacity(items.iter().map(|i| i.writes.len()).sum());
            let mut waiting = Vec::with_capacity(items.len());
            for item in items {
                // Kept for a retry one by one if the combined job fails.
                writes.extend(item.writes.iter().cloned());
                waiting.push(item);
            }
            match self.store.write(writes).await {
                Ok(()) => {
                    for item in waiting {
                        // The caller may have gone away: its report is stored all the same.
                        let _ = item.done.send(Ok(()));
                    }
                }
                Err(e) => {
                    tracing::warn!(reports = waiting.len(), error = %e,
                        "a batch of EFC reports failed; committing them one by one");
                    let retries: Vec<_> = waiting
                        .into_iter()
                        .map(|item| {
                            let store = self.store.clone();
                            tokio::spawn(async move {
                                let _ = item.done.send(store.write(item.writes).await);
                            })
                        })
                        .collect();
                    for retry in retries {
                        let _ = retry.await;
                    }
                }
            }
        }
    }
}
