//! Wiring of the Diameter Rf CDF: the `[diameter]` listeners (TCP, and TLS with optional
//! mutual authentication), the store as the CDF's durable sink, and completed sessions turned
//! into the core's charge records.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use openssl::ssl::{Ssl, SslAcceptor, SslVerifyMode};
use tokio::net::TcpListener;
use tokio_openssl::SslStream;
use unicharge_core::charge_record::{charge_record_id, ChargeRecord};
use unicharge_core::metering::Usage;
use unicharge_csms::security::tls::{build_acceptor, TlsSettings};
use unicharge_diameter::peer::{
    accept_over, serve, AllowedPeer, DuplicateCache, PeerConfig, PeerTable, Shared,
};
use unicharge_diameter::rf::cdf::{
    AccountingRecord, AccountingSink, BoxFuture, Cdf, CdfConfig, ClosedSession,
};
use unicharge_store::{
    AccountingRecordData, AccountingRecordRow, Store, SubscriptionIdData, Write,
};

use crate::settings::DiameterSettings;
use crate::Settings;

pub mod ro;

/// The running CDF.
pub struct RunningDiameter {
    pub addr: SocketAddr,
    /// The TLS listener's address, when `[diameter] tls_listen` is set.
    pub tls_addr: Option<SocketAddr>,
    pub cdf: Arc<Cdf>,
    /// The Ro OCF, unless `[diameter.ro] enabled = false`.
    pub ocf: Option<Arc<ro::Ocf>>,
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

/// The certificates of the TLS listener: `[diameter] tls_cert` / `tls_key` / `tls_client_ca`
/// where set, else the wss listener's material (the same files, generated on first start when
/// none are configured), so one local CA serves stations and Diameter peers alike.
pub fn tls_settings(settings: &Settings) -> anyhow::Result<TlsSettings> {
    let d = &settings.diameter;
    let (shared, _) = crate::tls_material::resolve(settings)?;
    let server_certs = match (&d.tls_cert, &d.tls_key) {
        (Some(cert), Some(key)) => vec![(cert.clone(), key.clone())],
        (None, None) => shared
            .server_certs
            .iter()
            .map(|c| (c.cert.clone(), c.key.clone()))
            .collect(),
        _ => anyhow::bail!("set both [diameter] tls_cert and tls_key, or neither"),
    };
    Ok(TlsSettings {
        server_certs,
        client_ca: d.tls_client_ca.clone().or(shared.client_ca),
    })
}

/// Binds the listeners and starts the CDF; `None` when `[diameter] listen = ""`. `tls` is
/// [`tls_settings`] when `tls_listen` is set.
pub async fn start(
    settings: &DiameterSettings,
    store: Arc<dyn Store>,
    tls: Option<TlsSettings>,
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
    let ocf = if settings.ro.enabled {
        let c = ro::OcfConfig::from_settings(
            &settings.ro,
            &settings.origin_host,
            &settings.origin_realm,
            settings.request_timeout,
        )?;
        peer.auth_application_ids
            .push(unicharge_diameter::app::CREDIT_CONTROL);
        Some(ro::Ocf::new(c, store.clone()))
    } else {
        None
    };
    let cdf = Cdf::new(config, Arc::new(StoreSink(store)));
    let peers = Arc::new(PeerTable::default());
    let shared = Shared {
        config: peer,
        handler: Arc::new(ro::Dispatch {
            cdf: cdf.clone(),
            ocf: ocf.clone(),
        }),
        table: peers.clone(),
        duplicates: Arc::new(DuplicateCache::default()),
    };
    let mut tls_addr = None;
    let mut tasks = vec![];
    if let (Some(tls_listen), Some(tls)) = (settings.tls_listen, tls) {
        let acceptor = build_acceptor(&tls).context("cannot set up TLS for Diameter")?;
        let l = TcpListener::bind(tls_listen).await.with_context(|| {
            format!("cannot listen for Diameter over TLS on {tls_listen} (set [diameter] tls_listen to another address, or \"\" to disable)")
        })?;
        tls_addr = Some(l.local_addr()?);
        tracing::info!(addr = %l.local_addr()?, mutual = settings.tls_require_client_certificate, "Diameter over TLS listening");
        tasks.push(tokio::spawn(serve_tls(
            l,
            Arc::new(acceptor),
            settings.tls_require_client_certificate,
            settings.watchdog_interval,
            shared.clone(),
        )));
    }
    tasks.extend([
        tokio::spawn(serve(listener, shared)),
        tokio::spawn(
            cdf.clone()
                .run_supervision(peers.clone(), settings.supervision_check),
        ),
    ]);
    if let Some(ocf) = &ocf {
        tasks.push(tokio::spawn(
            ocf.clone().run_supervision(settings.ro.tcc_check),
        ));
    }
    tracing::info!(%addr, origin_host = %settings.origin_host, ro = ocf.is_some(), "Diameter Rf CDF listening");
    Ok(Some(RunningDiameter {
        addr,
        tls_addr,
        cdf,
        ocf,
        peers,
        tasks,
    }))
}

/// Accepts Diameter over TLS until the task is dropped: the TLS handshake first (bounded by
/// `handshake_timeout`), then the same peer task as on TCP. With `require_client_certificate`
/// a peer without a certificate chaining to the client CA fails the handshake.
async fn serve_tls(
    listener: TcpListener,
    acceptor: Arc<SslAcceptor>,
    require_client_certificate: bool,
    handshake_timeout: Duration,
    shared: Shared,
) {
    loop {
        let (tcp, addr) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "diameter TLS accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            let handshake = async {
                let mut ssl = Ssl::new(acceptor.context()).map_err(|e| e.to_string())?;
                if require_client_certificate {
                    ssl.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
                }
                let mut stream = SslStream::new(ssl, tcp).map_err(|e| e.to_string())?;
                match tokio::time::timeout(handshake_timeout, Pin::new(&mut stream).accept()).await
                {
                    Ok(Ok(())) => Ok(stream),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("TLS handshake not completed in time".to_owned()),
                }
            };
            match handshake.await {
                Ok(stream) => accept_over(stream, addr, true, shared).await,
                Err(reason) => {
                    metrics::counter!("diameter_tls_handshake_failures_total").increment(1);
                    tracing::info!(%addr, %reason, "Diameter TLS handshake refused");
                }
            }
        });
    }
}

/// The peer table (and the Ro OCF, when it runs) as the operator API sees them.
pub struct ApiPeers {
    pub peers: Arc<PeerTable>,
    pub ocf: Option<Arc<ro::Ocf>>,
}

/// Open sessions an RAR sweep looks at, at most (most recently active first).
const RAR_SWEEP: u32 = 10_000;

impl ApiPeers {
    fn ocf(&self) -> Result<&Arc<ro::Ocf>, RoCallError> {
        self.ocf.as_ref().ok_or(RoCallError::Off)
    }
}

use unicharge_api::diameter::RoCallError;

/// What a background sweep over open Ro sessions sends to each session's CTF.
#[derive(Debug, Clone, Copy)]
enum Sweep {
    /// RAR: a top-up or a tariff change.
    Reauthorize,
    /// ASR: the subscriber was barred.
    Abort,
}

impl ApiPeers {
    /// Sends `what` for each session in the background, one at a time: the operator's request
    /// does not wait for every CTF, and a sweep never floods the peers. How many sessions.
    fn sweep(&self, ocf: &Arc<ro::Ocf>, ids: Vec<String>, what: Sweep) -> usize {
        let count = ids.len();
        let (ocf, peers) = (ocf.clone(), self.peers.clone());
        tokio::spawn(async move {
            for id in ids {
                let result = match what {
                    Sweep::Reauthorize => ocf.reauthorize(&peers, &id).await,
                    Sweep::Abort => ocf.abort_session(&peers, &id).await,
                };
                match result {
                    Ok(code) => {
                        tracing::debug!(session_id = %id, request = ?what, result_code = ?code, "answered")
                    }
                    Err(reason) => {
                        tracing::info!(session_id = %id, request = ?what, %reason, "not delivered")
                    }
                }
            }
        });
        count
    }
}

impl unicharge_api::diameter::DiameterPeers for ApiPeers {
    fn ro_abort<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<u32>, RoCallError>> {
        Box::pin(async move { self.ocf()?.abort_session(&self.peers, session_id).await })
    }

    fn ro_reauthorize<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<u32>, RoCallError>> {
        Box::pin(async move { self.ocf()?.reauthorize(&self.peers, session_id).await })
    }

    fn ro_barred<'a>(&'a self, subscriber: &'a str, account: &'a str) -> BoxFuture<'a, usize> {
        Box::pin(async move {
            let Ok(ocf) = self.ocf() else { return 0 };
            let ids: Vec<String> = match ocf.store().ro_open_sessions_of(account, RAR_SWEEP).await {
                Ok(s) => s
                    .into_iter()
                    .filter(|s| s.subscriber.as_deref() == Some(subscriber))
                    .map(|s| s.session_id)
                    .collect(),
                Err(e) => {
                    tracing::error!(error = %e, "open Ro sessions not read: no ASR sent");
                    return 0;
                }
            };
            self.sweep(ocf, ids, Sweep::Abort)
        })
    }

    fn ro_changed(&self, account: Option<&str>) -> BoxFuture<'_, usize> {
        let account = account.map(str::to_owned);
        Box::pin(async move {
            let Ok(ocf) = self.ocf() else { return 0 };
            // A top-up concerns one account's sessions (found by index); a tariff change
            // every open session.
            let sessions = match &account {
                Some(a) => ocf.store().ro_open_sessions_of(a, RAR_SWEEP).await,
                None => ocf.store().ro_sessions(Some("OPEN"), RAR_SWEEP).await,
            };
            let sessions = match sessions {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "open Ro sessions not read: no RAR sent");
                    return 0;
                }
            };
            let ids: Vec<String> = sessions.into_iter().map(|s| s.session_id).collect();
            self.sweep(ocf, ids, Sweep::Reauthorize)
        })
    }

    fn peers(&self) -> Vec<unicharge_api::diameter::DiameterPeerView> {
        self.peers
            .list()
            .into_iter()
            .map(|p| unicharge_api::diameter::DiameterPeerView {
                origin_host: p.origin_host,
                origin_realm: p.origin_realm,
                address: p.address.to_string(),
                tls: p.tls,
                state: format!("{:?}", p.state),
                watchdog: format!("{:?}", p.watchdog),
                applications: p.applications,
                opened_at: p.opened_at,
                last_watchdog_at: p.last_watchdog_at,
            })
            .collect()
    }
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
        data: AccountingRecordData {
            record_type: a.record_type.name().to_owned(),
            event_timestamp: a.event_timestamp.map(|t| t.to_utc()),
            service_context_id: a.service_context_id.clone(),
            subscription_ids: a
                .subscription_ids
                .iter()
                .map(|s| SubscriptionIdData {
                    kind: s.kind_name().to_owned(),
                    data: s.data.clone(),
                })
                .collect(),
            node_functionality: a.node_functionality,
            user_name: a.user_name.clone(),
            acct_interim_interval: a.acct_interim_interval,
        },
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
                .write(vec![
                    Write::AccountingSessionClosed {
                        session_id: closed.session_id.clone(),
                        reason: closed.reason.name().to_owned(),
                        at: closed.ended_at,
                    },
                    Write::ChargeRecord(Box::new(charge_record(closed))),
                ])
                .await
                .map_err(|e| e.to_string())
        })
    }
}
