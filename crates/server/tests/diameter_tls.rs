//! Diameter over TLS (RFC 6733 §2.1, §13): the CDF's TLS listener with mutual authentication,
//! driven by a real OpenSSL client: a peer with a certificate from the configured CA is served
//! (CER/CEA and an ACR over TLS), a peer without one or offering only TLS 1.1 is refused; the
//! simulator's CTF (`unicharge-sim diameter load --tls …`) runs its load over mutual TLS.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use openssl::ssl::{SslConnector, SslMethod, SslVersion};
use tokio::net::TcpStream;
use tokio_openssl::SslStream;
use unicharge_csms::security::pki::{self, KeyKind, PkiPaths};
use unicharge_diameter::peer::{
    connect_over, DuplicateCache, PeerConfig, PeerHandle, PeerTable, RequestHandler, Shared,
};
use unicharge_diameter::rf::cdf::BoxFuture;
use unicharge_diameter::{app, cmd, Avp, Message};
use unicharge_server::Server;

const CTF_HOST: &str = "ctf.tls-test.example";

struct Silent;

impl RequestHandler for Silent {
    fn handle(&self, _request: Message, _peer: PeerHandle) -> BoxFuture<'_, Option<Message>> {
        Box::pin(async { None })
    }
}

async fn server(dir: &Path) -> (Server, SocketAddr, PkiPaths) {
    let mut s = common::test_settings(dir);
    s.csms.wss_listen = None;
    s.diameter.listen = Some("127.0.0.1:0".parse().unwrap());
    s.diameter.tls_listen = Some("127.0.0.1:0".parse().unwrap());
    s.diameter.tls_require_client_certificate = true;
    s.diameter.watchdog_interval = Duration::from_secs(5);
    let tls_dir = s.data_dir.join("tls");
    let server = unicharge_server::start(s).await.unwrap();
    let addr = server.diameter.as_ref().unwrap().tls_addr.unwrap();
    (server, addr, PkiPaths::in_dir(&tls_dir))
}

/// A client certificate from the server's local CA, written under `dir`.
fn client_cert(dir: &Path, paths: &PkiPaths) -> (std::path::PathBuf, std::path::PathBuf) {
    let ca = pki::load_ca(&paths.ca_cert, &paths.ca_key).unwrap();
    let (cert, key) = pki::issue_client_certificate(&ca, KeyKind::EcP256, CTF_HOST, 0, 30).unwrap();
    let (c, k) = (dir.join("ctf.pem"), dir.join("ctf.key.pem"));
    pki::write_pem(&c, &pki::certificate_to_pem(&cert).unwrap(), false).unwrap();
    pki::write_pem(&k, &pki::private_key_to_pem(&key).unwrap(), true).unwrap();
    (c, k)
}

/// TLS handshake as a client verifying the server as `localhost` against the local CA.
async fn tls(
    addr: SocketAddr,
    paths: &PkiPaths,
    client: Option<(&Path, &Path)>,
    max_version: Option<SslVersion>,
) -> Result<SslStream<TcpStream>, String> {
    let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
    b.set_ca_file(&paths.ca_cert).unwrap();
    if let Some(v) = max_version {
        b.set_min_proto_version(Some(SslVersion::TLS1)).unwrap();
        b.set_max_proto_version(Some(v)).unwrap();
        b.set_security_level(0);
    }
    if let Some((cert, key)) = client {
        b.set_certificate_chain_file(cert).unwrap();
        b.set_private_key_file(key, openssl::ssl::SslFiletype::PEM)
            .unwrap();
    }
    let ssl = b
        .build()
        .configure()
        .unwrap()
        .into_ssl("localhost")
        .unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut stream = SslStream::new(ssl, tcp).unwrap();
    Pin::new(&mut stream)
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    Ok(stream)
}

fn shared() -> Shared {
    Shared {
        config: PeerConfig::cdf(CTF_HOST, "tls-test.example"),
        handler: Arc::new(Silent),
        table: Arc::new(PeerTable::default()),
        duplicates: Arc::new(DuplicateCache::default()),
    }
}

#[tokio::test]
async fn a_peer_with_a_client_certificate_exchanges_capabilities_and_accounting_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr, paths) = server(dir.path()).await;
    let (cert, key) = client_cert(dir.path(), &paths);
    let stream = tls(addr, &paths, Some((&cert, &key)), None)
        .await
        .expect("mutual TLS handshake");
    let version = stream.ssl().version_str().to_owned();
    assert!(
        version == "TLSv1.3" || version == "TLSv1.2",
        "negotiated {version}"
    );
    let peer = connect_over(stream, addr, true, shared())
        .await
        .expect("CER/CEA over TLS");
    let acr = Message::request(cmd::ACCOUNTING, app::BASE_ACCOUNTING, 0, 0)
        .with(Avp::utf8("Session-Id", "ctf;tls;1"))
        .with(Avp::identity("Origin-Host", CTF_HOST))
        .with(Avp::identity("Origin-Realm", "tls-test.example"))
        .with(Avp::identity("Destination-Realm", "unicharge.localdomain"))
        .with(Avp::enumerated("Accounting-Record-Type", 1))
        .with(Avp::u32("Accounting-Record-Number", 0))
        .with(Avp::u32("Acct-Application-Id", 3));
    let aca = peer.request(acr, Duration::from_secs(5)).await.unwrap();
    assert_eq!(aca.result_code(), Some(2001));
    let records = server
        .store
        .accounting_records(Some("ctf;tls;1"), 10)
        .await
        .unwrap();
    assert_eq!(records.len(), 1, "stored before the ACA");
    let listed = server.diameter.as_ref().unwrap().peers.list();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].origin_host, CTF_HOST);
    assert!(listed[0].tls, "listed as a TLS peer");
    server.shutdown().await;
}

#[tokio::test]
async fn a_peer_without_a_client_certificate_is_refused_when_mutual_tls_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr, paths) = server(dir.path()).await;
    // With TLS 1.3 the client may finish its side before the server's alert arrives: the
    // refusal then shows as the connection closing before the CEA.
    let refused = match tls(addr, &paths, None, None).await {
        Err(_) => true,
        Ok(stream) => connect_over(stream, addr, true, shared()).await.is_err(),
    };
    assert!(refused, "no client certificate, no Diameter");
    assert!(server.diameter.as_ref().unwrap().peers.list().is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn a_peer_offering_only_tls_1_1_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr, paths) = server(dir.path()).await;
    let (cert, key) = client_cert(dir.path(), &paths);
    let result = tls(addr, &paths, Some((&cert, &key)), Some(SslVersion::TLS1_1)).await;
    assert!(result.is_err(), "TLS 1.1 must not be accepted");
    server.shutdown().await;
}

#[tokio::test]
async fn the_sim_ctf_runs_its_load_and_tps_over_mutual_tls() {
    use unicharge_sim::diameter::{load, tps, DiameterLoadArgs, DiameterTpsArgs};
    use unicharge_sim::diameter_tls::DiameterTlsArgs;
    let dir = tempfile::tempdir().unwrap();
    let (server, addr, paths) = server(dir.path()).await;
    let (cert, key) = client_cert(dir.path(), &paths);
    let tls = DiameterTlsArgs {
        tls: true,
        tls_ca: Some(paths.ca_cert.clone()),
        tls_cert: Some(cert),
        tls_key: Some(key),
        tls_server_name: "localhost".into(),
    };
    let status = load(DiameterLoadArgs {
        cdf: addr,
        sessions: 10,
        rate: 10_000.0,
        interims: 2,
        origin_host: CTF_HOST.into(),
        origin_realm: "tls-test.example".into(),
        destination_realm: "unicharge.localdomain".into(),
        duration: None,
        tls: tls.clone(),
    })
    .await;
    assert_eq!(status, 0, "every ACR answered 2001 over TLS");
    let closed = server
        .store
        .accounting_sessions(Some("CLOSED"), 100)
        .await
        .unwrap();
    assert_eq!(closed.len(), 10);
    assert!(
        closed.iter().all(|s| s.records == 4),
        "START, 2 INTERIM, STOP"
    );
    let peers = server.diameter.as_ref().unwrap().peers.list();
    assert!(peers.iter().all(|p| p.tls), "only TLS peers: {peers:?}");

    // The server certificate is checked against the CA and the name: a wrong name fails.
    let status = tps(DiameterTpsArgs {
        cdf: addr,
        origin_host: CTF_HOST.into(),
        origin_realm: "tls-test.example".into(),
        destination_realm: "unicharge.localdomain".into(),
        msisdn: "491700000042".into(),
        tls: DiameterTlsArgs {
            tls_server_name: "not-the-cdf.example".into(),
            ..tls.clone()
        },
    })
    .await;
    assert_ne!(
        status, 0,
        "a server certificate for another name is refused"
    );
    // And without the client certificate the CDF refuses the sim.
    let status = tps(DiameterTpsArgs {
        cdf: addr,
        origin_host: CTF_HOST.into(),
        origin_realm: "tls-test.example".into(),
        destination_realm: "unicharge.localdomain".into(),
        msisdn: "491700000042".into(),
        tls: DiameterTlsArgs {
            tls_cert: None,
            tls_key: None,
            ..tls.clone()
        },
    })
    .await;
    assert_ne!(status, 0, "mutual TLS: no client certificate, no Diameter");
    let status = tps(DiameterTpsArgs {
        cdf: addr,
        origin_host: CTF_HOST.into(),
        origin_realm: "tls-test.example".into(),
        destination_realm: "unicharge.localdomain".into(),
        msisdn: "491700000042".into(),
        tls,
    })
    .await;
    assert_eq!(status, 0, "the CTF TPs pass over TLS");
    server.shutdown().await;
}
