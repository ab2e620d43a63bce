//! The limits the front door keeps per CSMS, so no stranger can make it hold or compute
//! without bound:
//!
//! - **All connections**: at most `max_connections` (default: the open-file limit minus a
//!   reserve) from the TCP accept on; beyond it the upgrade is answered HTTP 503 + Retry-After.
//! - **Unregistered connections** (policy `reject`): at most `max_unregistered_connections` held
//!   at once (beyond: HTTP 503). Each holds a permit inside its stream ([`Guarded`]), released
//!   when the connection task drops the socket, however it ends. The boot deadline itself is
//!   kept by the connection task (`unregistered_boot_timeout`).
//! - **Password guessing**: failure counts and lockouts ([`super::backoff`]), the bounded hash
//!   queue ([`super::hashing::HashQueue`]) and the verified-credential cache
//!   ([`super::credential_cache`]).

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::backoff::{Backoff, Policy};
use super::credential_cache::CredentialCache;
use super::hashing::HashQueue;
use crate::CsmsConfig;

/// The front door's limits and what they count.
pub struct Guard {
    connections: Arc<Semaphore>,
    max_connections: usize,
    unregistered: Arc<Semaphore>,
    pub(crate) hash_queue: HashQueue,
    backoff: Mutex<Backoff>,
    cache: Mutex<CredentialCache>,
    password_checks: AtomicU64,
}

impl Guard {
    pub fn new(config: &CsmsConfig) -> Self {
        let max_connections = match config.max_connections {
            0 => open_file_limit().saturating_sub(FD_RESERVE).max(1),
            n => n,
        };
        Guard {
            connections: Arc::new(Semaphore::new(max_connections)),
            max_connections,
            unregistered: Arc::new(Semaphore::new(config.max_unregistered_connections)),
            hash_queue: HashQueue::new(config.password_hash_queue),
            backoff: Mutex::new(Backoff::new(Policy {
                per_station: config.auth_failures_per_station,
                per_address: config.auth_failures_per_address,
                window: config.auth_failure_window,
                lockout: config.auth_lockout,
                lockout_max: config.auth_lockout_max,
            })),
            cache: Mutex::new(CredentialCache::new(config.credential_cache_ttl)),
            password_checks: AtomicU64::new(0),
        }
    }

    /// A slot for one more connection, or `None` at `max_connections`.
    pub fn connection_slot(&self) -> Option<OwnedSemaphorePermit> {
        self.connections.clone().try_acquire_owned().ok()
    }

    /// The connection limit in force.
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// A slot for one more unregistered connection, or `None` when all are taken.
    pub fn unregistered_slot(&self) -> Option<OwnedSemaphorePermit> {
        self.unregistered.clone().try_acquire_owned().ok()
    }

    /// Unregistered connections that could still be admitted now.
    pub fn unregistered_slots_free(&self) -> usize {
        self.unregistered.available_permits()
    }

    /// Argon2 password verifications run so far (the credential cache spares reconnects).
    pub fn password_checks(&self) -> u64 {
        self.password_checks.load(Ordering::Relaxed)
    }

    pub(crate) fn count_password_check(&self) {
        self.password_checks.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn backoff(&self) -> MutexGuard<'_, Backoff> {
        self.backoff
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn cache(&self) -> MutexGuard<'_, CredentialCache> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// File descriptors kept free for everything but station connections (database, WAL,
/// listeners, the operator API and its clients).
const FD_RESERVE: usize = 256;

/// The soft limit of open files of this process.
fn open_file_limit() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own; no other memory is touched.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
}

/// A connection's stream with the slots it holds: dropping the stream frees them.
pub struct Guarded<S> {
    inner: S,
    _slot: Option<OwnedSemaphorePermit>,
    _connection: Option<OwnedSemaphorePermit>,
}

impl<S> Guarded<S> {
    pub fn new(inner: S, slot: Option<OwnedSemaphorePermit>) -> Self {
        Guarded {
            inner,
            _slot: slot,
            _connection: None,
        }
    }

    /// Also hold `connection` (the `max_connections` slot) for the connection's life.
    pub fn holding(mut self, connection: Option<OwnedSemaphorePermit>) -> Self {
        self._connection = connection;
        self
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unregistered_slots_are_capped_and_come_back_when_the_stream_is_dropped() {
        let config = CsmsConfig {
            max_unregistered_connections: 2,
            ..CsmsConfig::default()
        };
        let guard = Guard::new(&config);
        let a = Guarded::new((), guard.unregistered_slot());
        let _b = guard.unregistered_slot().expect("second slot");
        assert!(guard.unregistered_slot().is_none());
        drop(a);
        assert!(guard.unregistered_slot().is_some());
    }
}
