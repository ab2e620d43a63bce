//! Live updates: the CSMS's committed facts ([`unicharge_csms::facts::Fact`]) as server-sent
//! events, one JSON object per fact, for the page's script to apply (connector status, station
//! online, a transaction's running cost, its end and its charge record). Facts are published
//! only once durable, so the page never shows what the store could still lose.
//!
//! A subscriber that falls behind the broadcast buffer gets `{"type":"lagged"}` and the page
//! reloads to re-read the store.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use unicharge_csms::facts::Fact;

use crate::ui::layout::seg;
use crate::ui::records::record_href;
use crate::ui::session::Viewer;
use crate::ui::UiState;

/// How often an idle stream sends a comment, so proxies keep it open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

#[derive(Debug, Default, Deserialize)]
pub struct LiveQuery {
    /// Only facts about this station.
    pub station: Option<String>,
}

/// A live update as the page script (`assets/live.js`) reads it: one JSON object per event,
/// told apart by `type`. Typed so the script's contract is written down in one place.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum LiveEvent {
    /// A station came online (connected or booted) or went offline.
    Station { station: String, online: bool },
    /// A connector's status changed (e.g. `Occupied`).
    Connector {
        station: String,
        evse: i64,
        connector: i64,
        status: String,
    },
    /// A transaction started; `href` is its page.
    Started {
        station: String,
        transaction: String,
        evse: Option<i64>,
        href: String,
    },
    /// A transaction's running cost, two decimals.
    Cost {
        station: String,
        transaction: String,
        total: String,
    },
    /// A transaction ended.
    Ended {
        station: String,
        transaction: String,
    },
    /// Its charge record was committed; `href` is the record's page.
    Record {
        station: String,
        transaction: String,
        href: String,
    },
    /// A FirmwareStatusNotification (what firmware campaign pages follow).
    Firmware {
        station: String,
        request_id: Option<i64>,
        status: String,
    },
    /// This subscriber fell behind the broadcast buffer: the page reloads from the store.
    Lagged,
}

/// A fact as the page script reads it; `None` for facts no page shows.
pub fn event(fact: &Fact) -> Option<LiveEvent> {
    let station = fact.station().as_str().to_owned();
    Some(match fact {
        Fact::StationConnected { .. } | Fact::StationBooted { .. } => LiveEvent::Station {
            station,
            online: true,
        },
        Fact::StationDisconnected { .. } => LiveEvent::Station {
            station,
            online: false,
        },
        Fact::ConnectorStatusChanged {
            evse_id,
            connector_id,
            status,
            ..
        } => LiveEvent::Connector {
            station,
            evse: *evse_id,
            connector: *connector_id,
            status: status.clone(),
        },
        Fact::TransactionStarted {
            transaction_id,
            evse_id,
            ..
        } => LiveEvent::Started {
            href: format!(
                "/ui/stations/{}/transactions/{}",
                seg(&station),
                seg(transaction_id)
            ),
            station,
            transaction: transaction_id.clone(),
            evse: *evse_id,
        },
        Fact::TransactionUpdated {
            transaction_id,
            total_cost: Some(total),
            ..
        } => LiveEvent::Cost {
            station,
            transaction: transaction_id.clone(),
            total: format!("{total:.2}"),
        },
        Fact::TransactionUpdated { .. } => return None,
        Fact::TransactionEnded { transaction_id, .. } => LiveEvent::Ended {
            station,
            transaction: transaction_id.clone(),
        },
        Fact::ChargeRecordCreated {
            transaction_id,
            record_id,
            ..
        } => LiveEvent::Record {
            station,
            transaction: transaction_id.clone(),
            href: record_href(record_id),
        },
        Fact::FirmwareStatus {
            request_id, status, ..
        } => LiveEvent::Firmware {
            station,
            request_id: *request_id,
            status: status.clone(),
        },
    })
}

/// One server-sent event carrying `event` as JSON.
fn sse(event: &LiveEvent) -> Event {
    Event::default().data(serde_json::to_string(event).unwrap_or_default())
}

pub async fn stream(
    State(state): State<UiState>,
    _viewer: Viewer,
    Query(query): Query<LiveQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Every node's facts: the viewer may watch a station connected to another node.
    let receiver = state.api.csms.subscribe_cluster();
    let only = query.station;
    let events = stream::unfold((receiver, only), |(mut receiver, only)| async move {
        loop {
            match receiver.recv().await {
                Ok(fact) => {
                    if only
                        .as_deref()
                        .is_some_and(|s| s != fact.station().as_str())
                    {
                        continue;
                    }
                    if let Some(event) = event(&fact) {
                        return Some((Ok(sse(&event)), (receiver, only)));
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    return Some((Ok(sse(&LiveEvent::Lagged)), (receiver, only)));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}
