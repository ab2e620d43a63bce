//! A frame-aware TCP proxy for conformance tests: sits between a CTF and a CDF, records every
//! Diameter message in both directions (with when it passed) and can play the misbehaving
//! peer the CTF TPs need: withhold answers to requests of one command, or go silent in both
//! directions (a CDF that stopped, as far as the CTF can tell, while the socket stays up).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::message::{frame_length, Message, DEFAULT_MAX_MESSAGE_LEN};

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client (CTF) to server (CDF).
    Up,
    /// Server to client.
    Down,
}

/// How the tap treats traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Forward,
    /// Drop everything, both ways (the peer looks dead; DWRs go unanswered).
    Blackhole,
    /// Drop the next `n` answers (server to client) of this command code.
    WithholdAnswers {
        command_code: u32,
        n: u32,
    },
}

#[derive(Debug, Clone)]
pub struct Seen {
    pub direction: Direction,
    pub at: Instant,
    pub message: Message,
    /// False when the tap dropped it.
    pub forwarded: bool,
}

/// A running tap.
#[derive(Clone)]
pub struct Tap {
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Seen>>>,
    mode: Arc<Mutex<Mode>>,
}

impl Tap {
    /// Listens on 127.0.0.1 (ephemeral port) and forwards each connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Tap> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let tap = Tap {
            addr: listener.local_addr()?,
            log: Arc::default(),
            mode: Arc::new(Mutex::new(Mode::Forward)),
        };
        let t = tap.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(t.clone().pump(cr, sw, Direction::Up));
                tokio::spawn(t.clone().pump(sr, cw, Direction::Down));
            }
        });
        Ok(tap)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap_or_else(|p| p.into_inner()) = mode;
    }

    /// Everything seen so far.
    pub fn log(&self) -> Vec<Seen> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Messages seen in one direction with this command code.
    pub fn seen(&self, direction: Direction, command_code: u32) -> Vec<Seen> {
        self.log()
            .into_iter()
            .filter(|s| s.direction == direction && s.message.header.command_code == command_code)
            .collect()
    }

    fn decide(&self, direction: Direction, m: &Message) -> bool {
        let mut mode = self.mode.lock().unwrap_or_else(|p| p.into_inner());
        match *mode {
            Mode::Forward => true,
            Mode::Blackhole => false,
            Mode::WithholdAnswers { command_code, n } => {
                if direction == Direction::Down
                    && !m.is_request()
                    && m.header.command_code == command_code
                    && n > 0
                {
                    *mode = if n == 1 {
                        Mode::Forward
                    } else {
                        Mode::WithholdAnswers {
                            command_code,
                            n: n - 1,
                        }
                    };
                    false
                } else {
                    true
                }
            }
        }
    }

    async fn pump(
        self,
        mut rd: tokio::net::tcp::OwnedReadHalf,
        mut wr: tokio::net::tcp::OwnedWriteHalf,
        direction: Direction,
    ) {
        let mut buf = Vec::new();
        loop {
            match rd.read_buf(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let mut start = 0;
            while let Ok(Some(len)) = frame_length(&buf[start..], DEFAULT_MAX_MESSAGE_LEN) {
                if buf.len() - start < len {
                    break;
                }
                let frame = buf[start..start + len].to_vec();
                start += len;
                let Ok(message) = Message::decode(&frame) else {
                    let _ = wr.write_all(&frame).await;
                    continue;
                };
                let forwarded = self.decide(direction, &message);
                self.log
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(Seen {
                        direction,
                        at: Instant::now(),
                        message,
                        forwarded,
                    });
                if forwarded && wr.write_all(&frame).await.is_err() {
                    return;
                }
            }
            buf.drain(..start);
        }
        let _ = wr.shutdown().await;
    }
}
