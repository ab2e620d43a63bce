//! A small, fixed pool of threads for password hashing.
//!
//! Argon2id costs milliseconds of CPU and 19 MiB of memory per hash, by design. Run on tokio's
//! blocking pool, a reconnect storm spreads those 19 MiB blocks over hundreds of threads, each
//! with its own malloc arena that keeps the memory afterwards (measured: 200 simultaneous
//! registrations left the process at 3.5 GB, 630 MB with a semaphore in front of the blocking
//! pool). One long-lived thread per core bounds both the concurrency — more would not finish
//! sooner — and the memory that hashing can ever hold.

use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

use tokio::sync::oneshot;

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

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn jobs_run_and_return_their_results() {
        let results =
            futures_util::future::join_all((0..20).map(|n| super::run(move || n * 2))).await;
        assert_eq!(results, (0..20).map(|n| Some(n * 2)).collect::<Vec<_>>());
    }
}
