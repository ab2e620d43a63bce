//! The hand-written HTTP/1.1 WebSocket upgrade (`unicharge_csms::handshake`): everything a peer
//! sends before it is a station.
//!
//! Input: one byte choosing how the bytes arrive (1 to 255 bytes per read, 0 = as much as the
//! reader asks for), then the bytes the peer sends. `read_request` runs over an in-memory reader
//! inside a current-thread runtime, as the listener runs it over a socket.
//!
//! Checked beyond "never panics":
//! - when the head ends (first `\r\n\r\n`) within the 16 KiB limit, `read_request` gives exactly
//!   what `parse_request` gives on that head, with the bytes read past it as leftover; when there
//!   is no head end, it refuses (431 or connection closed) and never succeeds;
//! - an accepted request names a station in one path segment and carries a non-empty key;
//!   its station id goes through `StationId::new` and the key through the 101 answer;
//! - `parse_basic` on the raw text (an Authorization value a peer controls) never panics and
//!   never yields a username containing ':'.
#![no_main]

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncRead, ReadBuf};
use unicharge_core::StationId;
use unicharge_csms::handshake::{self, parse_basic, parse_request, Refusal, UpgradeRequest};

const PREFIX: &str = "/ocpp";
/// `handshake::MAX_HEAD`, which is private.
const MAX_HEAD: usize = 16 * 1024;
/// The read size `read_request` uses.
const READ_SIZE: usize = 1024;

/// Hands out `data` at most `chunk` bytes per read, then end of stream.
struct Trickle<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl AsyncRead for Trickle<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self.chunk.min(self.data.len()).min(buf.remaining());
        let (now, later) = self.data.split_at(n);
        buf.put_slice(now);
        self.data = later;
        Poll::Ready(Ok(()))
    }
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime");
}

fn read(data: &[u8], chunk: usize) -> Result<UpgradeRequest, Refusal> {
    RUNTIME.with(|rt| {
        rt.block_on(async {
            let mut reader = Trickle { data, chunk };
            handshake::read_request(&mut reader, PREFIX, Duration::from_secs(10)).await
        })
    })
}

fuzz_target!(|input: &[u8]| {
    let Some((&first, data)) = input.split_first() else {
        return;
    };
    let chunk = if first == 0 {
        usize::MAX
    } else {
        first as usize
    };
    let got = read(data, chunk);

    let head_end = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4);
    match head_end {
        Some(end) if end <= MAX_HEAD + 1 => {
            // The reader hands out `step` bytes per read until the head end is in the buffer.
            let step = chunk.min(READ_SIZE);
            let buffered = end.div_ceil(step).saturating_mul(step).min(data.len());
            let expected = parse_request(&data[..end], PREFIX, data[end..buffered].to_vec());
            assert_eq!(got, expected, "read_request and parse_request disagree");
        }
        Some(_) => {}
        None => {
            let refusal = got.as_ref().expect_err("no head end, yet an upgrade");
            assert!(refusal.status == 0 || refusal.status == 431, "{refusal:?}");
        }
    }

    if let Ok(request) = &got {
        assert!(!request.station_id.is_empty());
        assert!(!request.station_id.contains('/'));
        assert!(!request.key.is_empty());
        let _ = StationId::new(request.station_id.as_str());
        // The negotiated version is one the station offered.
        assert!(request.offered.contains(&request.version), "{request:?}");
        RUNTIME.with(|rt| {
            rt.block_on(handshake::accept(
                &mut tokio::io::sink(),
                &request.key,
                request.version,
            ))
            .expect("writing to a sink")
        });
    }

    let text = String::from_utf8_lossy(data);
    if let Some(credentials) = parse_basic(&text) {
        assert!(!credentials.username.contains(':'));
    }
});
