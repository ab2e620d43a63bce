//! Diameter over TLS for the simulator's CTF clients (Rf `load` / `tps`, Ro `ro-load`).
//!
//! RFC 6733 §2.1 and §13.1: a TLS connection is set up before the CER, on the port the peer
//! listens on for TLS (unicharge: `[diameter] tls_listen`). The handshake is done here with
//! OpenSSL (the same library the station simulator's `wss` uses) and the open stream handed to
//! the Diameter stack, which carries no TLS library of its own.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use openssl::ssl::SslConnector;
use tokio::net::TcpStream;
use tokio_openssl::SslStream;
use unicharge_diameter::peer::{connect_over, Dialer, PeerHandle, Shared, TcpDialer};
use unicharge_diameter::rf::cdf::BoxFuture;

use crate::tls::TlsClientOptions;

/// TLS options shared by the Diameter commands.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DiameterTlsArgs {
    /// Speak TLS (RFC 6733 §13.1) to the peer: point `--cdf` / `--ocf` at its TLS port
    /// (unicharge: `[diameter] tls_listen`; 5658 is the IANA port for Diameter over TLS).
    #[arg(long)]
    pub tls: bool,
    /// CA certificate (PEM) that issued the peer's server certificate; without it the
    /// certificate is not verified. unicharge prints where its generated CA is on first start.
    #[arg(long, requires = "tls")]
    pub tls_ca: Option<PathBuf>,
    /// Client certificate chain (PEM), for a peer that requires mutual TLS.
    #[arg(long, requires_all = ["tls", "tls_key"])]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) of `--tls-cert`.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The name the server certificate must carry (checked with `--tls-ca`).
    #[arg(long, default_value = "localhost")]
    pub tls_server_name: String,
}

impl DiameterTlsArgs {
    /// The dialer these options ask for: plain TCP without `--tls`.
    pub fn dialer(&self) -> Result<Arc<dyn Dialer>, String> {
        if !self.tls {
            return Ok(Arc::new(TcpDialer));
        }
        let options = TlsClientOptions {
            ca: self.tls_ca.clone(),
            client_cert: self.tls_cert.clone().zip(self.tls_key.clone()),
            ..TlsClientOptions::default()
        };
        let connector = options.connector().map_err(|e| {
            format!("cannot set up TLS (check --tls-ca / --tls-cert / --tls-key): {e}")
        })?;
        Ok(Arc::new(TlsDialer {
            connector,
            server_name: self.tls_server_name.clone(),
            verify_name: self.tls_ca.is_some(),
        }))
    }
}

/// Dials TCP, completes a TLS handshake, then exchanges capabilities over it.
pub struct TlsDialer {
    connector: SslConnector,
    server_name: String,
    verify_name: bool,
}

impl std::fmt::Debug for TlsDialer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsDialer")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl Dialer for TlsDialer {
    fn dial(
        &self,
        addr: SocketAddr,
        shared: Shared,
    ) -> BoxFuture<'static, Result<PeerHandle, String>> {
        let ssl = self.connector.configure().and_then(|mut c| {
            c.set_verify_hostname(self.verify_name);
            c.into_ssl(&self.server_name)
        });
        Box::pin(async move {
            let ssl = ssl.map_err(|e| format!("TLS setup: {e}"))?;
            let tcp = TcpStream::connect(addr)
                .await
                .map_err(|e| format!("connect {addr}: {e}"))?;
            let _ = tcp.set_nodelay(true);
            let mut stream = SslStream::new(ssl, tcp).map_err(|e| format!("TLS setup: {e}"))?;
            Pin::new(&mut stream)
                .connect()
                .await
                .map_err(|e| format!("TLS handshake with {addr}: {e}"))?;
            tracing::debug!(%addr, version = stream.ssl().version_str(), "Diameter TLS handshake done");
            connect_over(stream, addr, true, shared).await
        })
    }
}
