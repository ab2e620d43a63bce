//! The two bearers, client side: TCP with a 4-octet big-endian length per frame, or HTTP POST
//! `/efc/adu` (application/octet-stream). One frame out, one frame back.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where and how to reach the back end.
#[derive(Debug, Clone)]
pub enum Bearer {
    Tcp(SocketAddr),
    /// Base URL, e.g. `http://127.0.0.1:17576`.
    Http(String),
}

/// A connection to the back end.
pub enum Client {
    Tcp(TcpStream),
    Http { url: String, http: reqwest::Client },
}

impl Client {
    pub async fn connect(bearer: &Bearer) -> anyhow::Result<Client> {
        Ok(match bearer {
            Bearer::Tcp(addr) => {
                let s = TcpStream::connect(addr).await?;
                s.set_nodelay(true)?;
                Client::Tcp(s)
            }
            Bearer::Http(base) => Client::Http {
                url: format!("{}/efc/adu", base.trim_end_matches('/')),
                http: reqwest::Client::new(),
            },
        })
    }

    /// Send one frame, return the answer frame.
    pub async fn exchange(&mut self, frame: &[u8]) -> anyhow::Result<Vec<u8>> {
        match self {
            Client::Tcp(s) => {
                let mut out = Vec::with_capacity(frame.len() + 4);
                out.extend_from_slice(&(frame.len() as u32).to_be_bytes());
                out.extend_from_slice(frame);
                s.write_all(&out).await?;
                read_frame(s).await
            }
            Client::Http { url, http } => {
                let r = http
                    .post(url.as_str())
                    .header("content-type", "application/octet-stream")
                    .body(frame.to_vec())
                    .send()
                    .await?;
                Ok(r.bytes().await?.to_vec())
            }
        }
    }

    /// TCP only: send raw octets (a test of the back end's framing), read one answer frame.
    pub async fn raw(&mut self, bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
        match self {
            Client::Tcp(s) => {
                s.write_all(bytes).await?;
                read_frame(s).await
            }
            Client::Http { .. } => anyhow::bail!("raw octets only over TCP"),
        }
    }
}

async fn read_frame(s: &mut TcpStream) -> anyhow::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).await?;
    let mut buf = vec![0u8; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut buf).await?;
    Ok(buf)
}
