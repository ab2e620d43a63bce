//! The HTTP/1.1 WebSocket upgrade, done by hand so that authentication can be asynchronous.
//!
//! tungstenite's own accept callback is synchronous, but deciding whether a station may in means
//! a store lookup and an Argon2 verification (milliseconds of CPU, run off the async workers).
//! So the request head is read and checked here, refused with the HTTP status OCPP-J Part 4
//! asks for, or answered `101 Switching Protocols` before the stream is handed to tungstenite.
//!
//! | refusal | status |
//! |---|---|
//! | not `GET {prefix}/{stationId}`, a station id that is not an OCPP identifierString once
//! percent-decoded (control characters, spaces, more than 48 characters), or an unknown station | 404 |
//! | not a WebSocket upgrade, or neither `ocpp2.0.1` nor `ocpp1.6` offered | 400 |
//! | missing or wrong credentials, username ≠ station id, profile too low, certificate CN ≠ id, too many wrong passwords | 401 |
//! | too many unregistered stations held, or too many password checks at once | 503 |
//!
//! Nothing a client sends reaches a log line unbounded or unescaped: the station id is validated
//! here (a `%0D%0A` in it once forged a whole log line), and refusal reasons quoting the request
//! print through [`Bounded`].
//!
//! Version negotiation (issue 18): one endpoint serves OCPP 2.0.1 and 1.6. The station's offer
//! picks the version of the connection; a station offering both gets 2.0.1 (the richer protocol,
//! and what a dual-protocol charger is expected to prefer), see [`negotiate`].

use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use unicharge_core::StationId;
use unicharge_ocpp::peer_text::Bounded;
use unicharge_ocpp::{OcppVersion, SUBPROTOCOL_V16, SUBPROTOCOL_V201};

/// Largest request head read before giving up (OCTT and real stations send well under 2 KiB).
const MAX_HEAD: usize = 16 * 1024;

/// What the station asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeRequest {
    /// The last path segment, percent-decoded; a valid [`StationId`] (registration unchecked).
    pub station_id: String,
    /// `Authorization: Basic` credentials, if any.
    pub basic: Option<BasicCredentials>,
    /// `Sec-WebSocket-Key`.
    pub key: String,
    /// The OCPP version the offered subprotocols select ([`negotiate`]).
    pub version: OcppVersion,
    /// Every OCPP version offered (for a station whose operator prefers another, see
    /// [`prefer`]).
    pub offered: Vec<OcppVersion>,
    /// Bytes read past the request head (a well-behaved client sends none before the 101).
    pub leftover: Vec<u8>,
}

/// HTTP Basic credentials (RFC 7617).
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password, not even in a debug log.
        f.debug_struct("BasicCredentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A refused upgrade: the HTTP status to answer and why (for the log; not sent in detail).
/// Displayed with the reason bounded and escaped: it may quote the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub reason: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}: {}", self.status, Bounded(&self.reason))
    }
}

impl std::error::Error for Refusal {}

impl Refusal {
    pub fn new(status: u16, reason: impl Into<String>) -> Self {
        Refusal {
            status,
            reason: reason.into(),
        }
    }
}

/// Read and check the request head. I/O errors and timeouts are refusals with status 0
/// (nothing to answer: the peer is gone or too slow).
pub async fn read_request<S>(
    stream: &mut S,
    path_prefix: &str,
    timeout: Duration,
) -> Result<UpgradeRequest, Refusal>
where
    S: AsyncRead + Unpin,
{
    let mut buf = Vec::with_capacity(1024);
    let head_len = tokio::time::timeout(timeout, async {
        let mut chunk = [0u8; 1024];
        loop {
            let n = stream
                .read(&mut chunk)
                .await
                .map_err(|e| Refusal::new(0, format!("read failed: {e}")))?;
            if n == 0 {
                return Err(Refusal::new(0, "connection closed during the upgrade"));
            }
            let searched_from = buf.len().saturating_sub(3);
            buf.extend_from_slice(&chunk[..n]);
            if let Some(pos) = find_head_end(&buf[searched_from..]) {
                return Ok(searched_from + pos);
            }
            if buf.len() > MAX_HEAD {
                return Err(Refusal::new(431, "request head too large"));
            }
        }
    })
    .await
    .map_err(|_| Refusal::new(0, "upgrade not completed in time"))??;
    let leftover = buf.split_off(head_len);
    parse_request(&buf, path_prefix, leftover)
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Check a complete request head.
pub fn parse_request(
    head: &[u8],
    path_prefix: &str,
    leftover: Vec<u8>,
) -> Result<UpgradeRequest, Refusal> {
    let mut headers = [httparse::EMPTY_HEADER; 48];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(Refusal::new(400, "incomplete request")),
        Err(e) => return Err(Refusal::new(400, format!("malformed request: {e}"))),
    }
    if req.method != Some("GET") {
        return Err(Refusal::new(405, "the upgrade must be a GET"));
    }
    let path = req.path.unwrap_or("");
    let path = path.split(['?', '#']).next().unwrap_or("");
    let station_id = station_from_path(path, path_prefix)
        .ok_or_else(|| Refusal::new(404, format!("no OCPP endpoint at {}", Bounded(path))))?;
    // Part 4: the id is an identifierString; anything else names no station (and a control
    // character in it must never reach a log line).
    if let Err(e) = StationId::new(station_id.as_str()) {
        return Err(Refusal::new(404, format!("not a station id: {e}")));
    }

    let header = |name: &str| {
        req.headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .filter_map(|h| std::str::from_utf8(h.value).ok())
            .collect::<Vec<_>>()
    };
    let has_token = |name: &str, token: &str| {
        header(name)
            .iter()
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    if !has_token("upgrade", "websocket") || !has_token("connection", "upgrade") {
        return Err(Refusal::new(400, "not a WebSocket upgrade request"));
    }
    if !header("sec-websocket-version")
        .iter()
        .any(|v| v.trim() == "13")
    {
        return Err(Refusal::new(400, "Sec-WebSocket-Version must be 13"));
    }
    let key = header("sec-websocket-key")
        .first()
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
        .ok_or_else(|| Refusal::new(400, "Sec-WebSocket-Key missing"))?;
    let protocols = header("sec-websocket-protocol");
    let offered: Vec<OcppVersion> = protocols
        .iter()
        .flat_map(|v| v.split(','))
        .filter_map(|p| OcppVersion::from_subprotocol(p.trim()))
        .collect();
    let version = negotiate(protocols.iter().flat_map(|v| v.split(','))).ok_or_else(|| {
        Refusal::new(
            400,
            format!("Sec-WebSocket-Protocol must offer {SUBPROTOCOL_V201} or {SUBPROTOCOL_V16}"),
        )
    })?;
    let basic = match header("authorization").first() {
        Some(value) => Some(
            parse_basic(value)
                .ok_or_else(|| Refusal::new(401, "Authorization header is not valid Basic"))?,
        ),
        None => None,
    };
    Ok(UpgradeRequest {
        station_id,
        basic,
        key,
        version,
        offered,
        leftover,
    })
}

/// The version of a connection once the station is known: its operator's preference
/// (`"1.6"` / `"2.0.1"`) when the station offered it, else the negotiated one.
pub fn prefer(request: &UpgradeRequest, preferred: Option<&str>) -> OcppVersion {
    preferred
        .and_then(|p| request.offered.iter().copied().find(|v| v.as_str() == p))
        .unwrap_or(request.version)
}

/// The version a station's subprotocol offer selects: 2.0.1 when offered, else 1.6, else none.
/// Names are exact and case-sensitive (RFC 6455, 4.1); the order of the offer does not matter
/// (a charger lists what it speaks, the server chooses).
pub fn negotiate<'a>(offered: impl Iterator<Item = &'a str>) -> Option<OcppVersion> {
    offered
        .filter_map(|p| OcppVersion::from_subprotocol(p.trim()))
        // 2.0.1 sorts after 1.6: the highest offered wins.
        .max()
}

/// `/ocpp/CP001` → `CP001` (percent-decoded) when the prefix matches and one segment follows.
fn station_from_path(path: &str, prefix: &str) -> Option<String> {
    let prefix = prefix.trim_end_matches('/');
    let rest = path.strip_prefix(prefix)?.strip_prefix('/')?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() || rest.contains('/') {
        return None;
    }
    percent_decode(rest)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `Basic base64(user:password)` → credentials. The password may contain ':'.
pub fn parse_basic(value: &str) -> Option<BasicCredentials> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (username, password) = text.split_once(':')?;
    Some(BasicCredentials {
        username: username.to_string(),
        password: password.to_string(),
    })
}

/// Answer `101 Switching Protocols`, selecting the negotiated version's subprotocol.
pub async fn accept<S: AsyncWrite + Unpin>(
    stream: &mut S,
    key: &str,
    version: OcppVersion,
) -> std::io::Result<()> {
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\
         Sec-WebSocket-Protocol: {}\r\n\r\n",
        derive_accept_key(key.as_bytes()),
        version.subprotocol()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.flush().await
}

/// Answer a refusal and close. Status 0 means "just close".
pub async fn refuse<S: AsyncWrite + Unpin>(stream: &mut S, refusal: &Refusal) {
    if refusal.status != 0 {
        let (reason, extra) = match refusal.status {
            400 => ("Bad Request", ""),
            401 => (
                "Unauthorized",
                "WWW-Authenticate: Basic realm=\"OCPP\", charset=\"UTF-8\"\r\n",
            ),
            404 => ("Not Found", ""),
            503 => ("Service Unavailable", "Retry-After: 10\r\n"),
            405 => ("Method Not Allowed", "Allow: GET\r\n"),
            431 => ("Request Header Fields Too Large", ""),
            _ => ("Error", ""),
        };
        let response = format!(
            "HTTP/1.1 {} {reason}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n",
            refusal.status
        );
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.flush().await;
    }
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(lines: &[&str]) -> Vec<u8> {
        let mut s = String::from("GET /ocpp/CP%2D1 HTTP/1.1\r\nHost: x\r\n");
        for l in lines {
            s.push_str(l);
            s.push_str("\r\n");
        }
        s.push_str("\r\n");
        s.into_bytes()
    }

    const UPGRADE: [&str; 4] = [
        "Upgrade: websocket",
        "Connection: keep-alive, Upgrade",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    ];

    #[test]
    fn a_good_upgrade_yields_the_decoded_station_id_and_credentials() {
        let mut lines = UPGRADE.to_vec();
        lines.push("Sec-WebSocket-Protocol: ocpp1.6, ocpp2.0.1");
        lines.push("Authorization: Basic Q1AtMTpzZWNyZXQ6d2l0aDpjb2xvbnM="); // CP-1:secret:with:colons
        let req = parse_request(&head(&lines), "/ocpp", vec![]).unwrap();
        assert_eq!(req.station_id, "CP-1");
        let basic = req.basic.unwrap();
        assert_eq!(basic.username, "CP-1");
        assert_eq!(basic.password, "secret:with:colons");
    }

    #[test]
    fn the_offer_picks_the_version_and_both_prefer_2_0_1() {
        for (offer, version) in [
            ("ocpp1.6, ocpp2.0.1", OcppVersion::V201),
            ("ocpp2.0.1,ocpp1.6", OcppVersion::V201),
            ("ocpp1.6", OcppVersion::V16),
            ("ocpp1.5, ocpp1.6", OcppVersion::V16),
        ] {
            let mut lines = UPGRADE.to_vec();
            let header = format!("Sec-WebSocket-Protocol: {offer}");
            lines.push(&header);
            let req = parse_request(&head(&lines), "/ocpp", vec![]).unwrap();
            assert_eq!(req.version, version, "{offer}");
        }
    }

    #[test]
    fn an_operator_preference_wins_only_when_offered() {
        let mut lines = UPGRADE.to_vec();
        lines.push("Sec-WebSocket-Protocol: ocpp2.0.1, ocpp1.6");
        let both = parse_request(&head(&lines), "/ocpp", vec![]).unwrap();
        assert_eq!(prefer(&both, Some("1.6")), OcppVersion::V16);
        assert_eq!(prefer(&both, None), OcppVersion::V201);
        let mut lines = UPGRADE.to_vec();
        lines.push("Sec-WebSocket-Protocol: ocpp2.0.1");
        let one = parse_request(&head(&lines), "/ocpp", vec![]).unwrap();
        assert_eq!(prefer(&one, Some("1.6")), OcppVersion::V201);
    }

    #[test]
    fn without_an_ocpp_subprotocol_the_upgrade_is_a_400() {
        let mut lines = UPGRADE.to_vec();
        lines.push("Sec-WebSocket-Protocol: OCPP1.6, ocpp1.5, ocpp2.1");
        assert_eq!(
            parse_request(&head(&lines), "/ocpp", vec![])
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            parse_request(&head(&UPGRADE), "/ocpp", vec![])
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn wrong_paths_are_404() {
        for path in [
            "/",
            "/ocpp",
            "/ocpp/",
            "/other/CP1",
            "/ocpp/a/b",
            "/ocppCP1",
        ] {
            assert_eq!(station_from_path(path, "/ocpp"), None, "{path}");
        }
        assert_eq!(
            station_from_path("/ocpp/CP1/", "/ocpp").as_deref(),
            Some("CP1")
        );
    }

    #[test]
    fn station_ids_with_control_characters_are_refused_with_404() {
        for path in [
            "/ocpp/CP1%0D%0A2024-01-01T00:00:00Z%20INFO%20forged",
            "/ocpp/CP1%00",
            "/ocpp/CP%201",
            "/ocpp/%1b%5b31m",
        ] {
            let head = String::from_utf8(head(&UPGRADE))
                .unwrap()
                .replace("/ocpp/CP%2D1", path);
            let refusal = parse_request(&head.into_bytes(), "/ocpp", vec![]).unwrap_err();
            assert_eq!(refusal.status, 404, "{path}");
            let logged = refusal.to_string();
            assert!(!logged.contains(['\r', '\n', '\0', '\x1b']), "{logged:?}");
        }
    }

    #[test]
    fn refusals_quoting_the_request_display_bounded() {
        let path = format!("/other/{}", "x".repeat(15_000));
        let head = String::from_utf8(head(&UPGRADE))
            .unwrap()
            .replace("/ocpp/CP%2D1", &path);
        let refusal = parse_request(&head.into_bytes(), "/ocpp", vec![]).unwrap_err();
        assert_eq!(refusal.status, 404);
        assert!(
            refusal.to_string().len() < 512,
            "{}",
            refusal.to_string().len()
        );
    }

    #[test]
    fn garbage_never_panics() {
        for bytes in [
            &b"\x00\xff\r\n\r\n"[..],
            b"GET\r\n\r\n",
            b"POST /ocpp/x HTTP/1.1\r\n\r\n",
        ] {
            assert!(parse_request(bytes, "/ocpp", vec![]).is_err());
        }
        assert!(parse_basic("Basic !!!").is_none());
        assert!(parse_basic("Bearer abc").is_none());
        assert!(percent_decode("%zz").is_none());
    }
}
