//! Wiring of the Diameter Rf CDF: the `[diameter]` listener, the store as the CDF's durable
//! sink, and completed sessions turned into the core's charge records.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use unicharge_core::charge_record::{charge_record_id, ChargeRecord};
use unicharge_core::metering::Usage;
use unicharge_diameter::peer::{serve, AllowedPeer, DuplicateCache, PeerConfig, PeerTable, Shared};
use unicharge_diameter::rf::cdf::{
    AccountingRecord, AccountingSink, BoxFuture, Cdf, CdfConfig, ClosedSession,
};
use unicharge_store::{AccountingRecordRow, Store, Write};

use crate::settings::DiameterSettings;

/// The running CDF.
pub struct RunningDiameter {
    pub addr: SocketAddr,
    pub cdf: Arc<Cdf>,
    pub peers: Arc<PeerTable>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningDiameter {
    pub fn shutdown(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

/// Binds the listener and starts the CDF; `None` when `[diameter] listen = ""`.
pub async fn start(
    settings: &DiameterSettings,
    store: Arc<dyn Store>,
) -> anyhow::Result<Option<RunningDiameter>> {
    let Some(listen) = settings.listen else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| {
        format!("cannot listen for Diameter on {listen} (set [diameter] listen to another address, or \"\" to disable)")
    })?;
    let addr = listener.local_addr()?;
    let mut peer = PeerConfig::cdf(&settings.origin_host, &settings.origin_realm);
    peer.watchdog_interval = settings.watchdog_interval;
    peer.host_ip_addresses = vec![if addr.ip().is_unspecified() {
        [127, 0, 0, 1].into()
    } else {
        addr.ip()
    }];
    peer.origin_state_id = Utc::now().timestamp() as u32;
    peer.allowed_peers = settings
        .allowed_peers
        .iter()
        .map(|p| match p.strip_prefix('@') {
            Some(realm) => AllowedPeer {
                origin_host: None,
                origin_realm: Some(realm.into()),
            },
            None => AllowedPeer {
                origin_host: Some(p.clone()),
                origin_realm: None,
            },
        })
        .collect();
    let interim = (settings.acct_interim_interval > 0).then_some(settings.acct_interim_interval);
    let mut config = CdfConfig::new(&settings.origin_host, &settings.origin_realm, interim);
    if let Some(s) = settings.supervision {
        config.supervision = s;
    }
    config.request_timeout = settings.request_timeout;
    let cdf = Cdf::new(config, Arc::new(StoreSink(store)));
    let peers = Arc::new(PeerTable::default());
    let shared = Shared {
        config: peer,
        handler: cdf.clone(),
        table: peers.clone(),
        duplicates: Arc::new(DuplicateCache::default()),
    };
    let tasks = vec![
        tokio::spawn(serve(listener, shared)),
        tokio::spawn(
            cdf.clone()
                .run_supervision(peers.clone(), settings.supervision_check),
        ),
    ];
    tracing::info!(%addr, origin_host = %settings.origin_host, "Diameter Rf CDF listening");
    Ok(Some(RunningDiameter {
        addr,
        cdf,
        peers,
        tasks,
    }))
}

/// The store as the CDF's durable sink: the record and, for a completed session, its charge
/// record go in one batch, committed before the ACA leaves.
struct StoreSink(Arc<dyn Store>);

fn row(r: &AccountingRecord) -> AccountingRecordRow {
    let a = &r.acr;
    AccountingRecordRow {
        session_id: a.session_id.clone(),
        record_number: i64::from(a.record_number),
        record_type: a.record_type as i64,
        origin_host: a.origin_host.clone(),
        origin_realm: a.origin_realm.clone(),
        received_at: r.received_at,
        data: serde_json::json!({
            "recordType": a.record_type.name(),
            "eventTimestamp": a.event_timestamp.map(|t| t.to_utc()),
            "serviceContextId": a.service_context_id,
            "subscriptionIds": a.subscription_ids.iter().map(|s| serde_json::json!({"type": s.kind_name(), "data": s.data})).collect::<Vec<_>>(),
            "nodeFunctionality": a.node_functionality,
            "userName": a.user_name,
        }),
    }
}

/// A completed accounting session as a core charge record. The CTF's Origin-Host stands where
/// a station id stands for OCPP (prefixed `diameter:`), the Session-Id where the transaction id
/// does, and the subscriber (Subscription-Id) where the token does; Diameter Rf carries no
/// energy, so usage is the session's duration only and the record is not rated.
pub fn charge_record(c: &ClosedSession) -> ChargeRecord {
    let station_id = format!("diameter:{}", c.origin_host);
    ChargeRecord {
        id: charge_record_id(&station_id, &c.session_id),
        station_id,
        evse_id: None,
        connector_id: None,
        transaction_id: c.session_id.clone(),
        id_token: c.subscription_id.as_ref().map(|s| s.data.clone()),
        id_token_type: c.subscription_id.as_ref().map(|s| s.kind_name().to_owned()),
        group_id_token: None,
        started_at: c.started_at,
        ended_at: c.ended_at,
        stopped_reason: Some(c.reason.name().to_owned()),
        usage: Usage {
            energy_wh: rust_decimal::Decimal::ZERO,
            charging_seconds: (c.ended_at - c.started_at).num_seconds().max(0),
            idle_seconds: 0,
            energy_went_backwards: false,
        },
        tariff_id: None,
        cost: None,
        created_at: Utc::now(),
        tariff: None,
    }
}

impl AccountingSink for StoreSink {
    fn record<'a>(
        &'a self,
        record: &'a AccountingRecord,
        closed: Option<&'a ClosedSession>,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let mut batch = vec![Write::AccountingRecord(Box::new(row(record)))];
            if let Some(c) = closed {
                batch.push(Write::ChargeRecord(Box::new(charge_record(c))));
            }
            self.0.write(batch).await.map_err(|e| e.to_string())
        })
    }

    fn close<'a>(&'a self, closed: &'a ClosedSession) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.0
                .write(vec![Write::ChargeRecord(Box::new(charge_record(closed)))])
                .await
                .map_err(|e| e.to_string())
        })
    }
}
