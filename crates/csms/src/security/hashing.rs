//! A small, fixed pool of threads for password hashing.
//!
//! Argon2id costs milliseconds of CPU and 19 MiB of memory per hash, by design. Run on tokio's
//! blocking pool, a reconnect storm spreads those 19 MiB blocks over hundreds of threads, each
//! with its own malloc arena that keeps the memory afterwards (measured: 200 simultaneous
//! registrations left the process at 3.5 GB, 630 MB with a semaphore in front of the blocking
//! pool). One long-lived thread per core bounds both the concurrency — more would not finish
//! sooner — and the memory that hashing can ever hold.
//!
//! In front of the pool, each CSMS has a [`HashQueue`]: a bound on the hashes queued or running.
//! Without it, 1,000 wrong passwords queued 1,000 Argon2 runs ahead of every honest station's
//! reconnect (an honest boot went from 23 ms to 275 ms). With it, the excess is refused at once
//! (HTTP 503) and an honest station waits behind at most `password_hash_queue` hashes.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::{oneshot, Semaphore};

type Job = Box<dyn FnOnce() + Send>;

fn pool() -> &'static Mutex<mpsc::Sender<Job>> {
    static POOL: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(Mutex::new(rx));
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        for n in 0..threads {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{n}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })
                .expect("spawn a password hashing thread");
        }
        Mutex::new(tx)
    })
}

/// Run `work` on the hashing pool and await its result. `None` only if the pool is gone.
pub async fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (done, result) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(work());
    });
    pool().lock().ok()?.send(job).ok()?;
    result.await.ok()
}

/// Why [`HashQueue::run`] gave no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// As many hashes as the queue holds are already queued or running.
    #[error("the password hashing queue is full")]
    Busy,
    /// The pool is gone (a hashing thread panicked).
    #[error("the password hashing pool is gone")]
    Gone,
}

/// A bound on the hashes one CSMS has queued or running on the pool.
#[derive(Debug, Clone)]
pub struct HashQueue {
    slots: Arc<Semaphore>,
}

impl HashQueue {
    /// At most `capacity` hashes queued or running (at least one).
    pub fn new(capacity: usize) -> Self {
        HashQueue {
            slots: Arc::new(Semaphore::new(capacity.max(1))),
        }
    }

    /// Run `work` on the pool if a slot is free, else [`HashError::Busy`] at once. The slot is
    /// held until the work has run, even if the caller stops waiting.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let slot = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| HashError::Busy)?;
        run(move || {
            let result = work();
            drop(slot);
            result
        })
        .await
        .ok_or(HashError::Gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_frees_its_slot_when_the_work_is_done() {
        let queue = HashQueue::new(1);
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let busy = tokio::spawn({
            let queue = queue.clone();
            async move { queue.run(move || wait.recv().is_ok()).await }
        });
        // The first job holds the only slot until released.
        while queue.slots.available_permits() != 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(queue.run(|| 1).await, Err(HashError::Busy));
        release.send(()).unwrap();
        assert_eq!(busy.await.unwrap(), Ok(true));
        assert_eq!(queue.run(|| 2).await, Ok(2));
    }

    #[tokio::test]
    async fn jobs_run_and_return_their_results() {
        let results =
            futures_util::future::join_all((0..20).map(|n| super::run(move || n * 2))).await;
        assert_eq!(results, (0..20).map(|n| Some(n * 2)).collect::<Vec<_>>());
    }
}
