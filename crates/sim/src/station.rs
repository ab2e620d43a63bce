//! One simulated charging station's OCPP-J connection.
//!
//! The station is the peer the CSMS sees: it upgrades with the `ocpp2.0.1` subprotocol and
//! optional HTTP Basic credentials, over ws or wss, then exchanges typed messages. It is strict
//! about the CSMS: every CALLRESULT and every CSMS CALL is checked against the official schema,
//! and a CALLERROR where a result was due is an error the scenario sees.

use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use openssl::ssl::SslVersion;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_openssl::SslStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;
use unicharge_ocpp::v201::{
    GetVariableResultType, GetVariableStatusEnumType, GetVariablesRequest, GetVariablesResponse,
    OcppRequest,
};
use unicharge_ocpp::{
    Direction, ErrorCode, Frame, OcppVersion, Validator, SUBPROTOCOL_V16, SUBPROTOCOL_V201,
};

use crate::tls::{TlsClientOptions, TlsInfo};

/// Any byte stream a WebSocket can run over (TCP or TLS over TCP).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// How to reach the CSMS.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Full endpoint URL including the station id: `ws://host:8180/ocpp/CP001`.
    pub url: String,
    /// HTTP Basic username and password.
    pub basic: Option<(String, String)>,
    /// Subprotocols offered; OCPP 2.0.1 stations offer `ocpp2.0.1`.
    pub subprotocols: Vec<String>,
    /// TLS settings for `wss://` URLs.
    pub tls: TlsClientOptions,
    /// How long to wait for anything (connect, answers, expected CALLs).
    pub timeout: Duration,
}

impl ConnectOptions {
    pub fn new(url: impl Into<String>) -> Self {
        ConnectOptions {
            url: url.into(),
            basic: None,
            subprotocols: vec![SUBPROTOCOL_V201.to_string()],
            tls: TlsClientOptions::default(),
            timeout: Duration::from_secs(10),
        }
    }

    /// Speak OCPP 1.6J: offer only `ocpp1.6` (see [`Station::call16`]).
    pub fn ocpp16(mut self) -> Self {
        self.subprotocols = vec![SUBPROTOCOL_V16.to_string()];
        self
    }

    pub fn basic(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.basic = Some((user.into(), password.into()));
        self
    }

    pub fn tls(mut self, tls: TlsClientOptions) -> Self {
        self.tls = tls;
        self
    }

    pub fn max_tls_version(mut self, v: SslVersion) -> Self {
        self.tls.max_version = Some(v);
        self
    }
}

/// Why a connection was not established.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error("bad URL: {0}")]
    Url(String),
    #[error("TCP connect failed: {0}")]
    Tcp(String),
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    /// The CSMS answered the upgrade with an HTTP error status.
    #[error("upgrade refused with HTTP {0}")]
    Http(u16),
    #[error("WebSocket upgrade failed: {0}")]
    WebSocket(String),
    #[error("CSMS selected subprotocol {0:?}, not one the station offered")]
    Subprotocol(Option<String>),
    #[error("no connection within {0:?}")]
    Timeout(Duration),
}

/// What went wrong after connecting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    #[error("connection closed")]
    Closed,
    #[error("waited {0:?} for {1}")]
    Timeout(Duration, String),
    #[error("I/O: {0}")]
    Io(String),
    #[error("CSMS sent a malformed frame: {0}")]
    Malformed(String),
    #[error("CSMS message breaks the schema: {0}")]
    Schema(String),
    #[error("CSMS answered CALLERROR {code}: {description}")]
    CallError {
        code: ErrorCode,
        description: String,
    },
    #[error("unexpected: {0}")]
    Unexpected(String),
}

/// What a simulated station declares in its device model as `DeviceDataCtrlr.ItemsPerMessage`
/// and `DeviceDataCtrlr.BytesPerMessage` (the same for the `GetVariables` and `SetVariables`
/// instances); `None`: the station does not have that variable and answers UnknownVariable.
///
/// A CSMS that does not know them reads them before a multi-item GetVariables / SetVariables
/// (B06.FR.05), so scenarios that are not about those limits answer such reads with
/// [`Station::expect_call_answering_limits`], as a real station would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceDataLimits {
    pub items_per_message: Option<u32>,
    pub bytes_per_message: Option<u32>,
}

impl DeviceDataLimits {
    /// Large enough for anything a scenario sends in one message.
    pub const GENEROUS: DeviceDataLimits = DeviceDataLimits {
        items_per_message: Some(20),
        bytes_per_message: Some(65_536),
    };

    /// Whether `request` only reads `DeviceDataCtrlr` `ItemsPerMessage` / `BytesPerMessage`.
    pub fn is_read_of_limits(request: &GetVariablesRequest) -> bool {
        !request.get_variable_data.is_empty()
            && request.get_variable_data.iter().all(|d| {
                d.component.name == "DeviceDataCtrlr"
                    && matches!(
                        d.variable.name.as_str(),
                        "ItemsPerMessage" | "BytesPerMessage"
                    )
            })
    }

    /// The station's answer to a read of its limits: each known one Accepted with its value,
    /// the others UnknownVariable.
    pub fn answer(&self, request: &GetVariablesRequest) -> GetVariablesResponse {
        let get_variable_result = request
            .get_variable_data
            .iter()
            .map(|d| {
                let value = match d.variable.name.as_str() {
                    "ItemsPerMessage" => self.items_per_message,
                    "BytesPerMessage" => self.bytes_per_message,
                    _ => None,
                }
                .filter(|_| d.component.name == "DeviceDataCtrlr");
                GetVariableResultType {
                    custom_data: None,
                    attribute_status: if value.is_some() {
                        GetVariableStatusEnumType::Accepted
                    } else {
                        GetVariableStatusEnumType::UnknownVariable
                    },
                    attribute_status_info: None,
                    attribute_type: d.attribute_type,
                    attribute_value: value.map(|v| v.to_string()),
                    component: d.component.clone(),
                    variable: d.variable.clone(),
                }
            })
            .collect();
        GetVariablesResponse {
            custom_data: None,
            get_variable_result,
        }
    }
}

/// A connected simulated station.
pub struct Station {
    ws: WebSocketStream<Box<dyn Io>>,
    tls: Option<TlsInfo>,
    timeout: Duration,
    /// Message ids are `<prefix>-<n>`: OCPP-J Part 4 wants a station's CALL ids unique across all
    /// its connections, and the CSMS answers a repeated id + payload from its stored answers.
    id_prefix: String,
    next_id: u64,
    /// CALLs from the CSMS that arrived while we waited for something else.
    pub(crate) inbox: VecDeque<(String, String, Value)>,
    /// The version the CSMS selected; it decides which schemas check the CSMS's messages.
    version: OcppVersion,
}

impl Station {
    /// Open the connection and complete the upgrade.
    pub async fn connect(opts: &ConnectOptions) -> Result<Station, ConnectError> {
        tokio::time::timeout(opts.timeout, Self::connect_inner(opts))
            .await
            .map_err(|_| ConnectError::Timeout(opts.timeout))?
    }

    async fn connect_inner(opts: &ConnectOptions) -> Result<Station, ConnectError> {
        let mut request = opts
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| ConnectError::Url(e.to_string()))?;
        let uri = request.uri().clone();
        let host = uri
            .host()
            .ok_or_else(|| ConnectError::Url("no host".into()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let secure = match uri.scheme_str() {
            Some("wss") => true,
            Some("ws") => false,
            other => {
                return Err(ConnectError::Url(format!(
                    "scheme {other:?}: use ws or wss"
                )))
            }
        };
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let headers = request.headers_mut();
        if !opts.subprotocols.is_empty() {
            let value = HeaderValue::from_str(&opts.subprotocols.join(", "))
                .map_err(|e| ConnectError::Url(e.to_string()))?;
            headers.insert("Sec-WebSocket-Protocol", value);
        }
        if let Some((user, password)) = &opts.basic {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            let value = HeaderValue::from_str(&format!("Basic {token}"))
                .map_err(|e| ConnectError::Url(e.to_string()))?;
            headers.insert("Authorization", value);
        }

        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| ConnectError::Tcp(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        let (stream, tls): (Box<dyn Io>, Option<TlsInfo>) = if secure {
            let connector = opts
                .tls
                .connector()
                .map_err(|e| ConnectError::Tls(e.to_string()))?;
            let ssl = connector
                .configure()
                .and_then(|c| c.into_ssl(&host))
                .map_err(|e| ConnectError::Tls(e.to_string()))?;
            let mut stream =
                SslStream::new(ssl, tcp).map_err(|e| ConnectError::Tls(e.to_string()))?;
            Pin::new(&mut stream)
                .connect()
                .await
                .map_err(|e| ConnectError::Tls(e.to_string()))?;
            let ssl = stream.ssl();
            let info = TlsInfo {
                version: ssl.version_str().to_string(),
                cipher: ssl
                    .current_cipher()
                    .and_then(|c| c.standard_name())
                    .unwrap_or("")
                    .to_string(),
                server_certificate: ssl.peer_certificate(),
            };
            (Box::new(stream), Some(info))
        } else {
            (Box::new(tcp), None)
        };

        let config = WebSocketConfig::default().read_buffer_size(16 * 1024);
        let (ws, response) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(config))
                .await
                .map_err(|e| match e {
                    tungstenite::Error::Http(response) => {
                        ConnectError::Http(response.status().as_u16())
                    }
                    other => ConnectError::WebSocket(other.to_string()),
                })?;
        let selected = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let version = selected
            .as_deref()
            .filter(|s| opts.subprotocols.iter().any(|o| o == s))
            .and_then(OcppVersion::from_subprotocol)
            .ok_or_else(|| ConnectError::Subprotocol(selected.clone()))?;
        Ok(Station {
            ws,
            tls,
            timeout: opts.timeout,
            id_prefix: format!("{:08x}", rand::random::<u32>()),
            next_id: 0,
            inbox: VecDeque::new(),
            version,
        })
    }

    /// The message id of the last CALL this station sent.
    pub fn last_call_id(&self) -> Option<String> {
        (self.next_id > 0).then(|| format!("{}-{}", self.id_prefix, self.next_id))
    }

    /// The OCPP version the CSMS selected for this connection.
    pub fn version(&self) -> OcppVersion {
        self.version
    }

    /// What the TLS handshake negotiated (wss only).
    pub fn tls_info(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }

    /// Send a typed request and wait for its typed answer.
    pub async fn call<R: OcppRequest>(&mut self, request: &R) -> Result<R::Response, SimError> {
        let payload =
            serde_json::to_value(request).map_err(|e| SimError::Unexpected(e.to_string()))?;
        let answer = self.call_raw(R::ACTION.as_str(), payload).await?;
        serde_json::from_value(answer)
            .map_err(|e| SimError::Schema(format!("{} answer not understood: {e}", R::ACTION)))
    }

    /// Send any CALL and wait for its CALLRESULT payload (schema-checked). A CALLERROR is
    /// [`SimError::CallError`].
    pub async fn call_raw(&mut self, action: &str, payload: Value) -> Result<Value, SimError> {
        self.next_id += 1;
        let id = self.last_call_id().unwrap_or_default();
        let frame = Frame::Call {
            id: id.clone(),
            action: action.to_string(),
            payload,
        };
        self.send_text(&frame.to_text()).await?;
        match self.await_answer(&id).await? {
            Frame::CallResult { payload, .. } => {
                match self.version {
                    OcppVersion::V201 => Validator::global()
                        .validate(action, Direction::Response, &payload)
                        .map_err(|v| v.to_string()),
                    OcppVersion::V16 => unicharge_ocpp::v16::Validator::global()
                        .validate(action, Direction::Response, &payload)
                        .map_err(|v| v.to_string()),
                }
                .map_err(|v| SimError::Schema(format!("{action}Response: {v}")))?;
                Ok(payload)
            }
            Frame::CallError {
                code, description, ..
            } => Err(SimError::CallError { code, description }),
            Frame::Call { .. } => unreachable!("await_answer returns only answers"),
        }
    }

    /// Send raw text (to test how the CSMS treats malformed frames).
    pub async fn send_text(&mut self, text: &str) -> Result<(), SimError> {
        self.ws
            .send(Message::Text(text.to_string().into()))
            .await
            .map_err(|e| SimError::Io(e.to_string()))
    }

    /// Wait for the CALLRESULT or CALLERROR with this message id; CSMS CALLs arriving meanwhile
    /// are kept for [`Station::expect_call`].
    pub async fn await_answer(&mut self, id: &str) -> Result<Frame, SimError> {
        let what = format!("the answer to {id}");
        loop {
            let frame = self.next_frame(&what).await?;
            match frame {
                Frame::Call {
                    id: call_id,
                    action,
                    payload,
                } => self.inbox.push_back((call_id, action, payload)),
                answer if answer.id() == id => return Ok(answer),
                other => {
                    return Err(SimError::Unexpected(format!(
                        "answer for unknown message id {}",
                        other.id()
                    )))
                }
            }
        }
    }

    /// Wait for the CSMS's next CALL and say which action it is, leaving it to be taken with
    /// [`Station::expect_call`] (for scenarios where a CSMS may send one of several actions).
    pub async fn next_call_action(&mut self) -> Result<String, SimError> {
        if let Some((_, action, _)) = self.inbox.front() {
            return Ok(action.clone());
        }
        match self.next_frame("a CALL").await? {
            Frame::Call {
                id,
                action,
                payload,
            } => {
                self.inbox.push_back((id, action.clone(), payload));
                Ok(action)
            }
            other => Err(SimError::Unexpected(format!(
                "a CALLRESULT/CALLERROR {} while waiting for a CALL",
                other.id()
            ))),
        }
    }

    /// Take the CALL waiting in the inbox (after [`Station::next_call_action`]) without
    /// decoding it: its message id and payload.
    pub fn take_call(&mut self) -> Result<(String, Value), SimError> {
        self.inbox
            .pop_front()
            .map(|(id, _, payload)| (id, payload))
            .ok_or_else(|| SimError::Unexpected("no CALL waiting".into()))
    }

    /// Wait for the CSMS to send a CALL of action `R` (schema-checked); returns its message id
    /// and typed payload.
    pub async fn expect_call<R: OcppRequest>(&mut self) -> Result<(String, R), SimError> {
        let action = R::ACTION.as_str();
        let (id, got, payload) = match self.inbox.pop_front() {
            Some(call) => call,
            None => match self.next_frame(&format!("a {action} CALL")).await? {
                Frame::Call {
                    id,
                    action,
                    payload,
                } => (id, action, payload),
                other => {
                    return Err(SimError::Unexpected(format!(
                        "a CALLRESULT/CALLERROR {} while waiting for {action}",
                        other.id()
                    )))
                }
            },
        };
        if got != action {
            return Err(SimError::Unexpected(format!(
                "CSMS sent {got} while {action} was expected"
            )));
        }
        Validator::global()
            .validate(action, Direction::Request, &payload)
            .map_err(|v| SimError::Schema(format!("{action}Request: {v}")))?;
        let typed = serde_json::from_value(payload)
            .map_err(|e| SimError::Schema(format!("{action}Request not understood: {e}")))?;
        Ok((id, typed))
    }

    /// Like [`Station::expect_call`], but every GetVariablesRequest that only reads the
    /// station's `DeviceDataCtrlr` message limits and arrives first is answered with `limits`.
    /// Returns the CALL `R` and how many such reads were answered.
    pub async fn expect_call_answering_limits<R: OcppRequest>(
        &mut self,
        limits: &DeviceDataLimits,
    ) -> Result<((String, R), usize), SimError> {
        let mut reads = 0;
        loop {
            if self.next_call_action().await? == GetVariablesRequest::ACTION.as_str() {
                let read_of_limits = self.inbox.front().is_some_and(|(_, _, payload)| {
                    serde_json::from_value::<GetVariablesRequest>(payload.clone())
                        .is_ok_and(|r| DeviceDataLimits::is_read_of_limits(&r))
                });
                if read_of_limits {
                    let (id, request) = self.expect_call::<GetVariablesRequest>().await?;
                    self.respond::<GetVariablesRequest>(&id, &limits.answer(&request))
                        .await?;
                    reads += 1;
                    continue;
                }
            }
            return Ok((self.expect_call::<R>().await?, reads));
        }
    }

    /// Answer a CSMS CALL.
    pub async fn respond<R: OcppRequest>(
        &mut self,
        id: &str,
        response: &R::Response,
    ) -> Result<(), SimError> {
        let payload =
            serde_json::to_value(response).map_err(|e| SimError::Unexpected(e.to_string()))?;
        let frame = Frame::CallResult {
            id: id.to_string(),
            payload,
        };
        self.send_text(&frame.to_text()).await
    }

    /// The next OCPP-J frame from the CSMS (pings are answered by the WebSocket layer).
    pub async fn next_frame(&mut self, what: &str) -> Result<Frame, SimError> {
        let text = self.next_text(what).await?;
        Frame::parse(&text).map_err(|e| SimError::Malformed(format!("{e}: {text}")))
    }

    /// The next text message from the CSMS, unparsed.
    pub async fn next_text(&mut self, what: &str) -> Result<String, SimError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let message = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .map_err(|_| SimError::Timeout(self.timeout, what.to_string()))?;
            match message {
                None | Some(Ok(Message::Close(_))) => return Err(SimError::Closed),
                Some(Err(e)) => return Err(SimError::Io(e.to_string())),
                Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Wait until the CSMS closes the connection (or `within` passes: then an error).
    pub async fn expect_closed(&mut self, within: Duration) -> Result<(), SimError> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Err(SimError::Timeout(within, "the CSMS to close".into())),
                Ok(None) | Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) => return Ok(()),
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Close the connection cleanly.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
