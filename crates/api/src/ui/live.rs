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
use serde::Deserialize;
use serde_json::{json, Value};
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

/// A fact as the page script reads it; `None` for facts no page shows.
pub fn event(fact: &Fact) -> Option<Value> {
    let station = fact.station().as_str();
    Some(match fact {
        Fact::StationConnected { .. } | Fact::StationBooted { .. } => {
            json!({"type": "station", "station": station, "online": true})
        }
        Fact::StationDisconnected { .. } => {
            json!({"type": "station", "station": station, "online": false})
        }
        Fact::ConnectorStatusChanged {
            evse_id,
            connector_id,
            status,
            ..
        } => json!({"type": "connector", "station": station, "evse": evse_id,
                    "connector": connector_id, "status": status}),
        Fact::TransactionStarted {
            transaction_id,
            evse_id,
            ..
        } => json!({"type": "started", "station": station, "transaction": transaction_id,
                    "evse": evse_id,
                    "href": format!("/ui/stations/{}/transactions/{}", seg(station), seg(transaction_id))}),
        Fact::TransactionUpdated {
            transaction_id,
            total_cost: Some(total),
            ..
        } => json!({"type": "cost", "station": station, "transaction": transaction_id,
                    "total": format!("{total:.2}")}),
        Fact::TransactionUpdated { .. } => return None,
        Fact::TransactionEnded { transaction_id, .. } => {
            json!({"type": "ended", "station": station, "transaction": transaction_id})
        }
        Fact::ChargeRecordCreated {
            transaction_id,
            record_id,
            ..
        } => json!({"type": "record", "station": station, "transaction": transaction_id,
                    "href": record_href(record_id)}),
    })
}

pub async fn stream(
    State(state): State<UiState>,
    _viewer: Viewer,
    Query(query): Query<LiveQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.api.csms.subscribe();
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
                    if let Some(value) = event(&fact) {
                        let event = Event::default().data(value.to_string());
                        return Some((Ok(event), (receiver, only)));
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    let event = Event::default().data(json!({"type": "lagged"}).to_string());
                    return Some((Ok(event), (receiver, only)));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}
