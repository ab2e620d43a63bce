//! The little HTTP/1.1 an OCSP exchange needs: a POST with a body and its answer, both ways
//! (the client of [`super::ocsp`] and the built-in [`super::responder`]). One request per
//! connection (`Connection: close`), bodies by Content-Length, sizes bounded: no general HTTP
//! stack for two DER blobs.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The most an OCSP request or answer may be (real ones are a few KiB).
pub const MAX_BODY: usize = 64 * 1024;
const MAX_HEAD: usize = 8 * 1024;

/// `http://host[:port][/path]` → (host:port, path).
fn split_url(url: &str) -> Result<(String, String), String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        format!("{url}: only http:// OCSP responders are supported (OCSP answers are signed)")
    })?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(format!("{url}: no host"));
    }
    let authority = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    Ok((authority, path.to_string()))
}

/// Read a head (until CRLFCRLF) and the Content-Length body that follows.
async fn read_message(
    stream: &mut TcpStream,
    parse_length: impl Fn(&[u8]) -> Result<Option<(usize, usize)>, String>,
) -> Result<(Vec<u8>, usize, usize), String> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some((head_len, body_len)) = parse_length(&buf)? {
            if body_len > MAX_BODY {
                return Err(format!("body of {body_len} bytes is over {MAX_BODY}"));
            }
            while buf.len() < head_len + body_len {
                let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
                if n == 0 {
                    return Err("connection closed before the body ended".into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok((buf, head_len, body_len));
        }
        if buf.len() > MAX_HEAD {
            return Err("header over 8 KiB".into());
        }
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before the header ended".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn content_length(headers: &[httparse::Header<'_>]) -> Result<usize, String> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .ok_or("no Content-Length")?
        .value
        .iter()
        .try_fold(0usize, |n, b| {
            if b.is_ascii_digit() {
                n.checked_mul(10)
                    .and_then(|n| n.checked_add(usize::from(b - b'0')))
                    .ok_or("Content-Length too large")
            } else {
                Err("Content-Length is not a number")
            }
        })
        .map_err(str::to_string)
}

/// POST `body` to `url`; the answer's body if its status is 200.
pub async fn post(url: &str, content_type: &str, body: &[u8]) -> Result<Vec<u8>, String> {
    let (authority, path) = split_url(url)?;
    let mut stream = TcpStream::connect(&authority)
        .await
        .map_err(|e| format!("connecting to {authority}: {e}"))?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    stream.write_all(body).await.map_err(|e| e.to_string())?;
    let status = std::sync::Mutex::new(0u16);
    let (buf, head_len, body_len) = read_message(&mut stream, |buf| {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(buf).map_err(|e| e.to_string())? {
            httparse::Status::Partial => Ok(None),
            httparse::Status::Complete(n) => {
                *status.lock().unwrap_or_else(|p| p.into_inner()) = response.code.unwrap_or(0);
                Ok(Some((n, content_length(response.headers)?)))
            }
        }
    })
    .await?;
    let code = *status.lock().unwrap_or_else(|p| p.into_inner());
    if code != 200 {
        return Err(format!("HTTP status {code}"));
    }
    Ok(buf[head_len..head_len + body_len].to_vec())
}

/// Read one POST from `stream`: its path and body.
pub async fn read_post(stream: &mut TcpStream) -> Result<(String, Vec<u8>), String> {
    let path = std::sync::Mutex::new(String::new());
    let (buf, head_len, body_len) = read_message(stream, |buf| {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(buf).map_err(|e| e.to_string())? {
            httparse::Status::Partial => Ok(None),
            httparse::Status::Complete(n) => {
                if request.method != Some("POST") {
                    return Err(format!("method {:?} is not POST", request.method));
                }
                *path.lock().unwrap_or_else(|p| p.into_inner()) =
                    request.path.unwrap_or("/").to_string();
                Ok(Some((n, content_length(request.headers)?)))
            }
        }
    })
    .await?;
    let path = path.into_inner().unwrap_or_else(|p| p.into_inner());
    Ok((path, buf[head_len..head_len + body_len].to_vec()))
}

/// Answer with `status` and `body` of `content_type`, then close.
pub async fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            split_url("http://ocsp.example:8080/v2g").unwrap(),
            ("ocsp.example:8080".into(), "/v2g".into())
        );
        assert_eq!(
            split_url("http://ocsp.example").unwrap(),
            ("ocsp.example:80".into(), "/".into())
        );
        assert!(split_url("https://ocsp.example").is_err());
        assert!(split_url("http:///x").is_err());
    }
}
