//! One task per station connection (the shape of mini-redis's `Handler`).
//!
//! The task owns the WebSocket, the CSMS's outstanding call to the station and its queue, and the
//! ping timer. Everything else reaches it through a [`ConnectionHandle`]. OCPP-J allows one CALL
//! in flight per direction: calls the CSMS wants to make while one is outstanding wait in order.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use unicharge_core::{RegistrationStatus, SecurityProfile, StationId};
use unicharge_ocpp::v201::{Action, Initiator};
use unicharge_ocpp::{v16, Direction, ErrorCode, Frame, FrameError, OcppVersion, Validator};
use unicharge_store::Write;

use crate::dispatch::{dispatch, StationContext};
use crate::effects::Effect;
use crate::facts::Fact;
use crate::registry::Registry;

/// The payload of the CALLRESULT a station answered.
pub type CallOutcome = Value;

/// Why a CSMS-initiated call did not get a CALLRESULT.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallFailure {
    #[error("station is not connected")]
    NotConnected,
    #[error("request does not conform to the schema: {0}")]
    InvalidRequest(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("station answered CALLERROR {code}: {description}")]
    CallError {
        code: ErrorCode,
        description: String,
        details: Value,
    },
    #[error("station's answer does not conform to the schema: {0}")]
    InvalidResponse(String),
    #[error("connection closed before the answer arrived")]
    ConnectionClosed,
    /// The station's queue of CSMS calls waiting to be sent is full (holds this many).
    #[error("{0} calls are waiting for this station already")]
    Busy(usize),
}

/// What reaches a connection's task. Kept small (a box and a tag): the channel allocates a
/// block of slots per connection up front, and idle stations must cost little memory.
enum Command {
    Call(Box<CallCommand>),
    Close { reason: &'static str },
}

struct CallCommand {
    action: String,
    payload: Value,
    reply: oneshot::Sender<Result<CallOutcome, CallFailure>>,
    requested_at: Instant,
}

/// Commands waiting for a connection's task; callers beyond it wait (the task drains it at
/// once into its own queue, bounded by `max_queued_calls`).
const COMMAND_CHANNEL: usize = 8;

/// A way to reach a connected station's task.
#[derive(Clone)]
pub struct ConnectionHandle {
    pub station_id: StationId,
    pub generation: u64,
    /// The security profile this connection offered.
    pub profile: SecurityProfile,
    /// The OCPP version this connection speaks (chosen by the subprotocol at the upgrade).
    pub version: OcppVersion,
    pub connected_at: DateTime<Utc>,
    commands: mpsc::Sender<Command>,
}

impl ConnectionHandle {
    /// Send a CALL to the station and wait for its answer. The request is checked against its
    /// schema first: nothing invalid is ever sent. The one caller is the send path of
    /// [`crate::request`], which adds the command log and the error vocabulary.
    pub(crate) async fn call(
        &self,
        action: &str,
        payload: Value,
    ) -> Result<CallOutcome, CallFailure> {
        check_outgoing(self.version, action, &payload)?;
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Call(Box::new(CallCommand {
                action: action.to_string(),
                payload,
                reply,
                requested_at: Instant::now(),
            })))
            .await
            .map_err(|_| CallFailure::NotConnected)?;
        answer.await.map_err(|_| CallFailure::ConnectionClosed)?
    }

    /// Ask the task to close the connection (e.g. replaced by a newer one).
    pub async fn close(&self, reason: &'static str) {
        let _ = self.commands.send(Command::Close { reason }).await;
    }
}

/// A CSMS-initiated CALL must be one a CSMS sends, in the connection's version, and conform to
/// that version's schema: nothing invalid is ever sent.
fn check_outgoing(version: OcppVersion, action: &str, payload: &Value) -> Result<(), CallFailure> {
    let from_station = match version {
        OcppVersion::V201 => {
            let known: Action = action.parse().map_err(|_| {
                CallFailure::InvalidRequest(format!("{action} is not an OCPP 2.0.1 action"))
            })?;
            known.initiator() == Initiator::ChargingStation
        }
        OcppVersion::V16 => {
            let known: v16::Action = action.parse().map_err(|_| {
                CallFailure::InvalidRequest(format!("{action} is not an OCPP 1.6 action"))
            })?;
            known.initiator() == v16::Initiator::ChargePoint
        }
    };
    if from_station {
        return Err(CallFailure::InvalidRequest(format!(
            "{action} is sent by charging stations, not by a CSMS"
        )));
    }
    validate(version, action, Direction::Request, payload).map_err(CallFailure::InvalidRequest)
}

/// Check a payload against the schema of the connection's version; the violation as text.
pub(crate) fn validate(
    version: OcppVersion,
    action: &str,
    direction: Direction,
    payload: &Value,
) -> Result<(), String> {
    match version {
        OcppVersion::V201 => Validator::global()
            .validate(action, direction, payload)
            .map_err(|v| v.to_string()),
        OcppVersion::V16 => v16::Validator::global()
            .validate(action, direction, payload)
            .map_err(|v| v.to_string()),
    }
}

/// Settings the task needs.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionSettings {
    pub ping_interval: Duration,
    /// How long a CSMS call may wait for its answer once sent, and, separately, how long it may
    /// wait in the queue behind other calls before it is given up (answered `Timeout`).
    pub call_timeout: Duration,
    /// How many CSMS calls may wait for one station; more are refused at once (`Busy`), so a
    /// slow or silent station cannot make its callers pile up without bound.
    pub max_queued_calls: usize,
    /// An unregistered station is closed if it has not booted this long after connecting.
    pub unregistered_boot_timeout: Duration,
}

struct PendingCall {
    action: String,
    payload: Value,
    reply: oneshot::Sender<Result<CallOutcome, CallFailure>>,
    /// Until when it may wait in the queue.
    deadline: Instant,
}

struct InFlight {
    id: String,
    action: String,
    deadline: Instant,
    reply: oneshot::Sender<Result<CallOutcome, CallFailure>>,
}

/// A connection registered for a station whose WebSocket is not running yet.
///
/// Registering happens before the `101 Switching Protocols` is sent, so that the moment a station
/// has its upgrade answered, the CSMS shows it connected and can call it.
pub struct Registration {
    handle: ConnectionHandle,
    commands: mpsc::Receiver<Command>,
    replaced: Option<ConnectionHandle>,
    registry: Arc<Registry>,
}

impl Registration {
    /// Make a new connection the station's current one (the previous one, if any, is closed
    /// once this one starts).
    pub fn new(
        station_id: StationId,
        profile: SecurityProfile,
        version: OcppVersion,
        registry: Arc<Registry>,
    ) -> Self {
        let (commands_tx, commands) = mpsc::channel(COMMAND_CHANNEL);
        let handle = ConnectionHandle {
            station_id,
            generation: registry.next_generation(),
            profile,
            version,
            connected_at: Utc::now(),
            commands: commands_tx,
        };
        let replaced = registry.insert(handle.clone());
        Registration {
            handle,
            commands,
            replaced,
            registry,
        }
    }

    /// The handle of the connection being registered.
    pub fn handle(&self) -> ConnectionHandle {
        self.handle.clone()
    }

    /// The upgrade failed after all: forget this connection.
    pub fn abandon(self) {
        self.registry
            .remove(&self.handle.station_id, self.handle.generation);
    }

    /// Run the connection's task over the upgraded WebSocket.
    pub fn start<S>(
        self,
        ws: WebSocketStream<S>,
        ctx: StationContext,
        settings: ConnectionSettings,
    ) -> ConnectionHandle
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Registration {
            handle,
            commands,
            replaced,
            registry,
        } = self;
        let generation = handle.generation;
        let profile = handle.profile;
        // `run` itself is the task: no wrapping future that would keep a second copy of its
        // arguments for the connection's whole life.
        tokio::spawn(run(
            ws,
            ctx,
            commands,
            settings,
            Superseded {
                registry,
                generation,
                replaced,
            },
            profile,
        ));
        handle
    }
}

/// This connection's place in the registry, and the one it replaces.
struct Superseded {
    registry: Arc<Registry>,
    generation: u64,
    replaced: Option<ConnectionHandle>,
}

async fn run<S>(
    ws: WebSocketStream<S>,
    mut ctx: StationContext,
    mut commands: mpsc::Receiver<Command>,
    settings: ConnectionSettings,
    place: Superseded,
    profile: SecurityProfile,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Superseded {
        registry,
        generation,
        replaced,
    } = place;
    if let Some(old) = replaced {
        tracing::info!(station = %ctx.station_id, "new connection replaces the previous one");
        old.close("replaced by a new connection").await;
    }
    let station = ctx.station_id.clone();
    metrics::gauge!("ocpp_connections").increment(1.0);
    if ctx.registered {
        let written = ctx
            .store
            .write(vec![
                Write::Connection {
                    station_id: station.clone(),
                    at: Utc::now(),
                    connected: true,
                },
                // The version is the station's until its next connection says otherwise.
                Write::StationOcppVersion {
                    station_id: station.clone(),
                    version: ctx.version.as_str().to_string(),
                },
            ])
            .await;
        if written.is_ok() {
            ctx.csms.publish(Fact::StationConnected {
                station: station.clone(),
                profile,
            });
        }
    }

    // 1.6 has no GetTransactionStatus: E14 is 2.0.1 only.
    if ctx.registered
        && ctx.boot_status == Some(RegistrationStatus::Accepted)
        && ctx.version == OcppVersion::V201
    {
        // E14: a station that was Accepted and merely reconnected (no boot) may have queued
        // transaction events; ask about its transactions (after the configured delay, and only
        // if it is still Accepted then). Otherwise the check waits for an Accepted boot.
        ctx.status_check_scheduled = true;
        let connected_at = ctx
            .connection
            .as_ref()
            .map_or_else(Utc::now, |c| c.connected_at);
        crate::effects::spawn(&ctx, vec![Effect::TransactionStatusCheck { connected_at }]);
    }
    let (mut sink, mut stream) = ws.split();
    let mut ping = tokio::time::interval_at(
        Instant::now() + settings.ping_interval,
        settings.ping_interval,
    );
    let mut heard_since_ping = true;
    let mut in_flight: Option<InFlight> = None;
    let mut queue: VecDeque<PendingCall> = VecDeque::new();
    let mut next_id: u64 = 0;
    let id_prefix = format!("{:08x}", rand_u32());
    // An unregistered station must boot by then.
    let boot_by = Instant::now() + settings.unregistered_boot_timeout;
    // One timer for everything due (the outstanding call's answer, the oldest queued call's
    // patience, an unregistered station's boot deadline), re-armed only when that moment
    // changes: an idle connection holds one timer entry, not one per concern.
    let timer = tokio::time::sleep_until(boot_by);
    tokio::pin!(timer);
    let mut armed: Option<Instant> = Some(boot_by);

    let reason: String = loop {
        // Start the next queued call when none is outstanding.
        while in_flight.is_none() {
            let Some(call) = queue.pop_front() else { break };
            if call.reply.is_closed() {
                continue; // the caller gave up while it waited
            }
            if call.deadline <= Instant::now() {
                tracing::warn!(station = %station, action = %call.action,
                    "CALL not sent: it waited {:?} in the queue", settings.call_timeout);
                let _ = call
                    .reply
                    .send(Err(CallFailure::Timeout(settings.call_timeout)));
                continue;
            }
            ctx.solicited(&call.action, &call.payload);
            next_id += 1;
            let id = format!("{id_prefix}-{next_id}");
            let frame = Frame::Call {
                id: id.clone(),
                action: call.action.clone(),
                payload: call.payload,
            };
            tracing::debug!(station = %station, message_id = %id, action = %call.action, "CALL sent");
            if let Err(e) = sink
                .send(Message::Text(frame.to_text_for(ctx.version).into()))
                .await
            {
                let _ = call.reply.send(Err(CallFailure::ConnectionClosed));
                tracing::info!(station = %station, error = %e, "send failed");
                break;
            }
            in_flight = Some(InFlight {
                id,
                action: call.action,
                deadline: Instant::now() + settings.call_timeout,
                reply: call.reply,
            });
        }
        // The next moment something is due.
        let deadline = [
            in_flight.as_ref().map(|f| f.deadline),
            queue.front().map(|c| c.deadline),
            (!ctx.registered).then_some(boot_by),
        ]
        .into_iter()
        .flatten()
        .min();
        if deadline != armed {
            if let Some(at) = deadline {
                timer.as_mut().reset(at);
            }
            armed = deadline;
        }

        tokio::select! {
            incoming = stream.next() => {
                let message = match incoming {
                    None => break "closed by the station".into(),
                    Some(Err(e)) => break format!("read error: {e}"),
                    Some(Ok(message)) => message,
                };
                heard_since_ping = true;
                match message {
                    Message::Text(text) => {
                        metrics::counter!("ocpp_messages_received_total").increment(1);
                        // Boxed: the handlers' futures are large and exist only while a message
                        // is being answered; an idle connection's task stays small.
                        let (reply, effects) =
                            Box::pin(on_text(&mut ctx, text.as_str(), &mut in_flight)).await;
                        if let Some(frame) = reply {
                            if let Err(e) = sink.send(Message::Text(frame.to_text_for(ctx.version).into())).await {
                                break format!("send failed: {e}");
                            }
                        }
                        // Effects run only now: their writes were committed with the answer,
                        // and their calls queue behind it (CertificateSigned after the
                        // SignCertificateResponse).
                        crate::effects::spawn(&ctx, effects);
                        if !ctx.registered && ctx.boot_status.is_some() {
                            // B03: the unknown station has its Rejected answer; free the slot.
                            let _ = sink.send(Message::Close(Some(CloseFrame {
                                code: CloseCode::Policy,
                                reason: "station is not registered".into(),
                            }))).await;
                            break "unregistered station answered Rejected".into();
                        }
                    }
                    Message::Binary(_) => {
                        tracing::warn!(station = %station, "binary frame ignored: OCPP-J uses text frames");
                    }
                    Message::Close(_) => {
                        // tungstenite queued the Close reply RFC 6455 5.5.1 asks for: send it.
                        let _ = sink.close().await;
                        break "closed by the station".into();
                    }
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                }
            }
            command = commands.recv() => match command {
                Some(Command::Call(call)) => {
                    let CallCommand { action, payload, reply, requested_at } = *call;
                    if queue.len() >= settings.max_queued_calls {
                        tracing::warn!(station = %station, action = %action, queued = queue.len(),
                            "CALL refused: the station's queue is full");
                        let _ = reply.send(Err(CallFailure::Busy(queue.len())));
                    } else {
                        let deadline = requested_at + settings.call_timeout;
                        queue.push_back(PendingCall { action, payload, reply, deadline });
                    }
                }
                Some(Command::Close { reason }) => {
                    let _ = sink.send(Message::Close(Some(CloseFrame {
                        code: CloseCode::Normal,
                        reason: reason.into(),
                    }))).await;
                    break reason.into();
                }
                None => break "CSMS shutting down".into(),
            },
            _ = ping.tick() => {
                if !heard_since_ping {
                    break format!("no pong or message for {:?}: connection dead", settings.ping_interval * 2);
                }
                heard_since_ping = false;
                if let Err(e) = sink.send(Message::Ping(Vec::new().into())).await {
                    break format!("ping failed: {e}");
                }
            }
            _ = &mut timer, if armed.is_some() => {
                armed = None; // fired: re-armed at the next turn if anything is still due
                let now = Instant::now();
                if !ctx.registered && boot_by <= now {
                    let _ = sink.send(Message::Close(Some(CloseFrame { code: CloseCode::Policy, reason: "no BootNotification in time".into() }))).await;
                    break format!("unregistered station sent no BootNotification within {:?}", settings.unregistered_boot_timeout);
                }
                if in_flight.as_ref().is_some_and(|f| f.deadline <= now) {
                    if let Some(call) = in_flight.take() {
                        tracing::warn!(station = %station, message_id = %call.id, action = %call.action,
                            "no answer to CALL within {:?}", settings.call_timeout);
                        let _ = call.reply.send(Err(CallFailure::Timeout(settings.call_timeout)));
                    }
                }
                while queue.front().is_some_and(|c| c.deadline <= now) {
                    if let Some(call) = queue.pop_front() {
                        tracing::warn!(station = %station, action = %call.action,
                            "CALL not sent: it waited {:?} in the queue", settings.call_timeout);
                        let _ = call.reply.send(Err(CallFailure::Timeout(settings.call_timeout)));
                    }
                }
            }
        }
    };

    if let Some(call) = in_flight.take() {
        let _ = call.reply.send(Err(CallFailure::ConnectionClosed));
    }
    for call in queue.drain(..) {
        let _ = call.reply.send(Err(CallFailure::ConnectionClosed));
    }
    metrics::gauge!("ocpp_connections").decrement(1.0);
    if registry.remove(&station, generation) && ctx.registered {
        let written = ctx
            .store
            .write(vec![Write::Connection {
                station_id: station.clone(),
                at: Utc::now(),
                connected: false,
            }])
            .await;
        if written.is_ok() {
            ctx.csms.publish(Fact::StationDisconnected {
                station: station.clone(),
                reason: reason.clone(),
            });
        }
    }
    tracing::info!(station = %station, "disconnected: {reason}");
}

/// Handle one text message; returns the frame to answer with, if any, and the effects to run
/// once it is sent.
async fn on_text(
    ctx: &mut StationContext,
    text: &str,
    in_flight: &mut Option<InFlight>,
) -> (Option<Frame>, Vec<Effect>) {
    let reply = match Frame::parse(text) {
        Ok(Frame::Call {
            id,
            action,
            payload,
        }) => {
            let (frame, effects) = match ctx.version {
                OcppVersion::V201 => dispatch(ctx, &id, &action, payload).await,
                OcppVersion::V16 => crate::v16::dispatch(ctx, &id, &action, payload).await,
            };
            return (Some(frame), effects);
        }
        Ok(Frame::CallResult { id, payload }) => {
            match take_matching(in_flight, &id) {
                Some(call) => {
                    let outcome =
                        validate(ctx.version, &call.action, Direction::Response, &payload)
                            .map(|_| payload)
                            .map_err(|v| {
                                tracing::warn!(station = %ctx.station_id, message_id = %id,
                                action = %call.action, violation = %v, "invalid CALLRESULT");
                                CallFailure::InvalidResponse(v)
                            });
                    let _ = call.reply.send(outcome);
                }
                None => tracing::warn!(station = %ctx.station_id, message_id = %id,
                    "CALLRESULT for no outstanding call dropped"),
            }
            None
        }
        Ok(Frame::CallError {
            id,
            code,
            description,
            details,
        }) => {
            match take_matching(in_flight, &id) {
                Some(call) => {
                    let _ = call.reply.send(Err(CallFailure::CallError {
                        code,
                        description,
                        details,
                    }));
                }
                None => tracing::warn!(station = %ctx.station_id, message_id = %id,
                    "CALLERROR for no outstanding call dropped"),
            }
            None
        }
        Err(error) => {
            match &error {
                FrameError::Reply { id, code, reason } => tracing::warn!(
                    station = %ctx.station_id, message_id = %id, %code, "malformed CALL: {reason}"),
                FrameError::Drop { id, reason } => tracing::warn!(
                    station = %ctx.station_id, message_id = ?id, "malformed message dropped: {reason}"),
            }
            error.to_call_error()
        }
    };
    (reply, Vec::new())
}

fn take_matching(in_flight: &mut Option<InFlight>, id: &str) -> Option<InFlight> {
    if in_flight.as_ref().map(|f| f.id.as_str()) == Some(id) {
        in_flight.take()
    } else {
        None
    }
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded per process from the OS: enough to keep message ids of two CSMS
    // processes apart; they need not be secret.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id().into());
    h.finish() as u32
}
