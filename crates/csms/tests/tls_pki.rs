//! The OCPP wss TLS acceptor and the local PKI over real TCP sockets on 127.0.0.1.
//!
//! Mirrors the OCTT CSMS test cases TC_A_04 (server certificate, the four A00.FR.318 cipher
//! suites), TC_A_06 (TLS version too low), TC_A_07/TC_A_08 (client certificates) and the
//! certificate properties of A00.FR.5xx.

use std::fs;
use std::net::IpAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::rsa::Rsa;
use openssl::ssl::{Ssl, SslAcceptor, SslConnector, SslConnectorBuilder, SslMethod, SslVersion};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509NameBuilder, X509ReqBuilder, X509StoreContext, X509};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_openssl::SslStream;
use unicharge_csms::security::pki::{self, CaMaterial, KeyKind, PkiError, PkiPaths};
use unicharge_csms::security::tls::{self, TlsError, TlsSettings};

// ------------------------------------------------------------------------------------------
// Fixtures

fn server_names() -> Vec<String> {
    vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]
}

struct Fixture {
    _dir: tempfile::TempDir,
    paths: PkiPaths,
    ca: CaMaterial,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (paths, created) = pki::load_or_create(dir.path(), &server_names()).unwrap();
    assert!(created);
    let ca = pki::load_ca(&paths.ca_cert, &paths.ca_key).unwrap();
    Fixture {
        _dir: dir,
        paths,
        ca,
    }
}

impl Fixture {
    /// The acceptor as the listener builds it; `mtls` adds the local CA as client CA.
    fn acceptor(&self, mtls: bool) -> Arc<SslAcceptor> {
        Arc::new(tls::build_acceptor(&TlsSettings::from_pki(&self.paths, mtls)).unwrap())
    }

    /// A client that trusts the local CA and checks the host name "localhost".
    fn client(&self, configure: impl FnOnce(&mut SslConnectorBuilder)) -> Ssl {
        let mut builder = SslConnector::builder(SslMethod::tls_client()).unwrap();
        builder.set_ca_file(&self.paths.ca_cert).unwrap();
        configure(&mut builder);
        builder
            .build()
            .configure()
            .unwrap()
            .into_ssl("localhost")
            .unwrap()
    }
}

fn with_client_cert(builder: &mut SslConnectorBuilder, cert: &X509, key: &PKey<Private>) {
    builder.set_certificate(cert).unwrap();
    builder.set_private_key(key).unwrap();
}

fn tls12_only(builder: &mut SslConnectorBuilder) {
    builder
        .set_max_proto_version(Some(SslVersion::TLS1_2))
        .unwrap();
}

#[derive(Debug)]
struct ServerSide {
    common_name: Option<String>,
    version: String,
    cipher: String,
}

#[derive(Debug)]
struct ClientSide {
    version: String,
    cipher: String,
    server_key: Id,
}

/// One TLS connection over a real socket. The server accepts with `acceptor`, reports the peer
/// CN and then sends one byte; the client must complete the handshake *and* read that byte.
/// The read matters for TLS 1.3, where the server judges the client certificate only after the
/// client has sent its Finished: a rejection reaches the client as an alert on the first read.
/// The server waits for the client to hang up before closing, so no RST races the byte.
async fn handshake(
    acceptor: Arc<SslAcceptor>,
    client: Ssl,
) -> (Result<ServerSide, String>, Result<ClientSide, String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let ssl = Ssl::new(acceptor.context()).unwrap();
        let mut stream = SslStream::new(ssl, tcp).unwrap();
        if let Err(e) = Pin::new(&mut stream).accept().await {
            return Err(format!(
                "{e}; verify result: {}",
                stream.ssl().verify_result().error_string()
            ));
        }
        let ssl = stream.ssl();
        let side = ServerSide {
            common_name: tls::peer_certificate_common_name(ssl),
            version: ssl.version_str().to_owned(),
            cipher: ssl
                .current_cipher()
                .and_then(|c| c.standard_name())
                .unwrap_or_default()
                .to_owned(),
        };
        stream.write_all(b"k").await.map_err(|e| e.to_string())?;
        stream.flush().await.map_err(|e| e.to_string())?;
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
        Ok(side)
    });

    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut stream = SslStream::new(client, tcp).unwrap();
    let client_side = async {
        Pin::new(&mut stream)
            .connect()
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let mut byte = [0u8; 1];
        stream
            .read_exact(&mut byte)
            .await
            .map_err(|e| format!("read: {e}"))?;
        assert_eq!(&byte, b"k");
        let ssl = stream.ssl();
        Ok(ClientSide {
            version: ssl.version_str().to_owned(),
            cipher: ssl
                .current_cipher()
                .and_then(|c| c.standard_name())
                .unwrap_or_default()
                .to_owned(),
            server_key: ssl.peer_certificate().unwrap().public_key().unwrap().id(),
        })
    }
    .await;
    drop(stream);
    (server.await.unwrap(), client_side)
}

fn verifies_against(ca: &X509, cert: &X509) -> bool {
    let mut store = X509StoreBuilder::new().unwrap();
    store.add_cert(ca.clone()).unwrap();
    let store = store.build();
    let mut ctx = X509StoreContext::new().unwrap();
    ctx.init(&store, cert, &Stack::new().unwrap(), |c| c.verify_cert())
        .unwrap()
}

fn csr_pem(common_name: &str, key: &PKey<Private>, signer: &PKey<Private>) -> Vec<u8> {
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_nid(Nid::COMMONNAME, common_name)
        .unwrap();
    let mut req = X509ReqBuilder::new().unwrap();
    req.set_subject_name(&name.build()).unwrap();
    req.set_pubkey(key).unwrap();
    req.sign(signer, MessageDigest::sha256()).unwrap();
    req.build().to_pem().unwrap()
}

fn all_files(paths: &PkiPaths) -> [&Path; 6] {
    [
        &paths.ca_cert,
        &paths.ca_key,
        &paths.server_rsa_cert,
        &paths.server_rsa_key,
        &paths.server_ecdsa_cert,
        &paths.server_ecdsa_key,
    ]
}

// ------------------------------------------------------------------------------------------
// 1. Local PKI on disk

#[test]
fn load_or_create_creates_the_six_files_then_reuses_them() {
    let dir = tempfile::tempdir().unwrap();
    let (paths, created) = pki::load_or_create(dir.path(), &server_names()).unwrap();
    assert!(created);
    assert_eq!(paths, PkiPaths::in_dir(dir.path()));
    for file in all_files(&paths) {
        let text = fs::read_to_string(file).unwrap();
        assert!(
            text.starts_with("-----BEGIN "),
            "{} is not PEM",
            file.display()
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for key in [
            &paths.ca_key,
            &paths.server_rsa_key,
            &paths.server_ecdsa_key,
        ] {
            let mode = fs::metadata(key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", key.display());
        }
    }

    let ca = pki::load_ca(&paths.ca_cert, &paths.ca_key).unwrap();
    assert_eq!(
        pki::common_name(ca.cert.subject_name()).as_deref(),
        Some(pki::LOCAL_CA_COMMON_NAME)
    );
    assert_eq!(ca.key.id(), Id::EC);
    for (cert, key, id, bits) in [
        (&paths.server_rsa_cert, &paths.server_rsa_key, Id::RSA, 2048),
        (
            &paths.server_ecdsa_cert,
            &paths.server_ecdsa_key,
            Id::EC,
            256,
        ),
    ] {
        let cert = pki::read_certificate(cert).unwrap();
        let key = pki::read_private_key(key).unwrap();
        assert_eq!((key.id(), key.bits()), (id, bits));
        assert!(cert.public_key().unwrap().public_eq(&key));
        assert!(verifies_against(&ca.cert, &cert));
        // A00.FR.510: CN = FQDN (first name); A00.FR.508: a serial number.
        assert_eq!(
            pki::common_name(cert.subject_name()).as_deref(),
            Some("localhost")
        );
        assert!(cert.serial_number().to_bn().unwrap().num_bits() > 0);
        let sans = cert.subject_alt_names().unwrap();
        let dns: Vec<_> = sans.iter().filter_map(|n| n.dnsname()).collect();
        let ips: Vec<IpAddr> = sans
            .iter()
            .filter_map(|n| n.ipaddress())
            .map(|b| match b.len() {
                4 => IpAddr::from(<[u8; 4]>::try_from(b).unwrap()),
                _ => IpAddr::from(<[u8; 16]>::try_from(b).unwrap()),
            })
            .collect();
        assert_eq!(dns, ["localhost"]);
        assert_eq!(
            ips,
            [
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
    }

    // Second start: everything reused byte for byte.
    let before: Vec<Vec<u8>> = all_files(&paths)
        .iter()
        .map(|f| fs::read(f).unwrap())
        .collect();
    let (again, created) = pki::load_or_create(dir.path(), &server_names()).unwrap();
    assert!(!created);
    assert_eq!(again, paths);
    let after: Vec<Vec<u8>> = all_files(&paths)
        .iter()
        .map(|f| fs::read(f).unwrap())
        .collect();
    assert_eq!(before, after);

    // A deleted server pair is reissued from the same CA.
    fs::remove_file(&paths.server_ecdsa_cert).unwrap();
    fs::remove_file(&paths.server_ecdsa_key).unwrap();
    let (_, created) = pki::load_or_create(dir.path(), &server_names()).unwrap();
    assert!(created);
    assert_eq!(fs::read(&paths.ca_cert).unwrap(), before[0]);
    let reissued = pki::read_certificate(&paths.server_ecdsa_cert).unwrap();
    assert!(verifies_against(&ca.cert, &reissued));
    assert_ne!(fs::read(&paths.server_ecdsa_cert).unwrap(), before[4]);
}

#[test]
fn load_or_create_reports_incomplete_directories() {
    let dir = tempfile::tempdir().unwrap();
    let (paths, _) = pki::load_or_create(dir.path(), &server_names()).unwrap();

    fs::remove_file(&paths.server_rsa_key).unwrap();
    let err = pki::load_or_create(dir.path(), &server_names()).unwrap_err();
    assert!(matches!(err, PkiError::IncompletePair { .. }), "{err}");
    assert!(err.to_string().contains("server-rsa.key.pem"), "{err}");

    // The CA the stations trust is never silently replaced.
    fs::remove_file(&paths.ca_key).unwrap();
    let err = pki::load_or_create(dir.path(), &server_names()).unwrap_err();
    assert!(err.to_string().contains("ca.key.pem"), "{err}");

    let err = pki::load_or_create(dir.path(), &[]).unwrap_err();
    assert!(matches!(err, PkiError::NoServerNames), "{err}");
}

// ------------------------------------------------------------------------------------------
// 2.-4. Protocol versions and cipher suites (TC_A_04, TC_A_06)

#[tokio::test]
async fn tls12_offers_each_of_the_four_ocpp_cipher_suites() {
    let f = fixture();
    let acceptor = f.acceptor(false);
    for (openssl_name, iana_name, server_key) in [
        (
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            Id::EC,
        ),
        (
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            Id::EC,
        ),
        (
            "AES128-GCM-SHA256",
            "TLS_RSA_WITH_AES_128_GCM_SHA256",
            Id::RSA,
        ),
        (
            "AES256-GCM-SHA384",
            "TLS_RSA_WITH_AES_256_GCM_SHA384",
            Id::RSA,
        ),
    ] {
        let client = f.client(|b| {
            tls12_only(b);
            b.set_cipher_list(openssl_name).unwrap();
        });
        let (server, client) = handshake(acceptor.clone(), client).await;
        let server = server.unwrap_or_else(|e| panic!("{openssl_name}: server: {e}"));
        let client = client.unwrap_or_else(|e| panic!("{openssl_name}: client: {e}"));
        assert_eq!(client.version, "TLSv1.2");
        assert_eq!(client.cipher, iana_name);
        assert_eq!(server.cipher, iana_name);
        assert_eq!(server.version, "TLSv1.2");
        // The RSA and the ECDSA certificate are served side by side, chosen by the suite.
        assert_eq!(client.server_key, server_key, "{openssl_name}");
        assert_eq!(server.common_name, None);
    }
}

#[tokio::test]
async fn tls12_suites_outside_the_ocpp_list_are_refused() {
    let f = fixture();
    let acceptor = f.acceptor(false);
    for suite in [
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "AES128-SHA256",
    ] {
        let client = f.client(|b| {
            tls12_only(b);
            b.set_cipher_list(suite).unwrap();
        });
        let (server, client) = handshake(acceptor.clone(), client).await;
        let err = server.expect_err(suite);
        assert!(err.contains("no shared cipher"), "{suite}: {err}");
        assert!(client.is_err(), "{suite}");
    }
}

#[tokio::test]
async fn tls13_handshake_works() {
    let f = fixture();
    let client = f.client(|b| {
        b.set_min_proto_version(Some(SslVersion::TLS1_3)).unwrap();
    });
    let (server, client) = handshake(f.acceptor(true), client).await;
    let server = server.unwrap();
    let client = client.unwrap();
    assert_eq!(client.version, "TLSv1.3");
    assert_eq!(server.version, "TLSv1.3");
    assert!(client.cipher.starts_with("TLS_AES_") || client.cipher.starts_with("TLS_CHACHA20"));
    assert_eq!(server.common_name, None);
}

#[tokio::test]
async fn tls11_client_is_refused() {
    let f = fixture();
    let client = f.client(|b| {
        b.set_min_proto_version(Some(SslVersion::TLS1_1)).unwrap();
        b.set_max_proto_version(Some(SslVersion::TLS1_1)).unwrap();
        // Let the client itself offer TLS 1.1 (OpenSSL 3 forbids it at security level >= 1).
        b.set_cipher_list("DEFAULT:@SECLEVEL=0").unwrap();
    });
    let (server, client) = handshake(f.acceptor(true), client).await;
    let err = server.unwrap_err();
    assert!(err.contains("unsupported protocol"), "{err}");
    let err = client.unwrap_err();
    assert!(err.contains("protocol version"), "{err}");
}

// ------------------------------------------------------------------------------------------
// 5. Client certificates (TC_A_07, TC_A_08)

#[tokio::test]
async fn client_certificate_from_the_ca_is_accepted_and_named() {
    let f = fixture();
    let acceptor = f.acceptor(true);
    for (kind, tls12) in [
        (KeyKind::EcP256, true),
        (KeyKind::Rsa2048, true),
        (KeyKind::EcP256, false),
    ] {
        let (cert, key) = pki::issue_client_certificate(&f.ca, kind, "CP001", -1, 365).unwrap();
        let client = f.client(|b| {
            if tls12 {
                tls12_only(b);
            }
            with_client_cert(b, &cert, &key);
        });
        let (server, client) = handshake(acceptor.clone(), client).await;
        let server = server.unwrap_or_else(|e| panic!("{kind:?} tls12={tls12}: {e}"));
        client.unwrap_or_else(|e| panic!("{kind:?} tls12={tls12}: {e}"));
        assert_eq!(server.common_name.as_deref(), Some("CP001"));
    }
}

#[tokio::test]
async fn expired_client_certificate_fails_the_handshake() {
    let f = fixture();
    let acceptor = f.acceptor(true);
    // Valid from 30 to 20 days ago.
    let (cert, key) =
        pki::issue_client_certificate(&f.ca, KeyKind::EcP256, "CP001", -30, 10).unwrap();
    for tls12 in [true, false] {
        let client = f.client(|b| {
            if tls12 {
                tls12_only(b);
            }
            with_client_cert(b, &cert, &key);
        });
        let (server, client) = handshake(acceptor.clone(), client).await;
        let err = server.unwrap_err();
        assert!(
            err.contains("certificate has expired"),
            "tls12={tls12}: {err}"
        );
        assert!(client.is_err(), "tls12={tls12}");
    }
}

#[tokio::test]
async fn client_certificate_from_an_unknown_ca_fails_the_handshake() {
    let f = fixture();
    let acceptor = f.acceptor(true);
    let other_ca = pki::generate_ca("some other CA", 30).unwrap();
    let (cert, key) =
        pki::issue_client_certificate(&other_ca, KeyKind::EcP256, "CP001", -1, 30).unwrap();
    for tls12 in [true, false] {
        let client = f.client(|b| {
            if tls12 {
                tls12_only(b);
            }
            with_client_cert(b, &cert, &key);
        });
        let (server, client) = handshake(acceptor.clone(), client).await;
        let err = server.unwrap_err();
        assert!(
            err.contains("unable to get local issuer certificate"),
            "tls12={tls12}: {err}"
        );
        assert!(client.is_err(), "tls12={tls12}");
    }
}

#[tokio::test]
async fn no_client_certificate_is_accepted_without_a_name() {
    // Security profile 2 stations share the port with profile 3 stations.
    let f = fixture();
    let acceptor = f.acceptor(true);
    for tls12 in [true, false] {
        let client = f.client(|b| {
            if tls12 {
                tls12_only(b);
            }
        });
        let (server, client) = handshake(acceptor.clone(), client).await;
        assert_eq!(server.unwrap().common_name, None);
        client.unwrap();
    }
}

#[tokio::test]
async fn without_client_ca_a_client_certificate_yields_no_name() {
    let f = fixture();
    let (cert, key) =
        pki::issue_client_certificate(&f.ca, KeyKind::EcP256, "CP001", -1, 30).unwrap();
    let client = f.client(|b| with_client_cert(b, &cert, &key));
    let (server, client) = handshake(f.acceptor(false), client).await;
    assert_eq!(server.unwrap().common_name, None);
    client.unwrap();
}

// ------------------------------------------------------------------------------------------
// Acceptor configuration errors

fn build_err(settings: &TlsSettings) -> TlsError {
    match tls::build_acceptor(settings) {
        Ok(_) => panic!("build_acceptor accepted {settings:?}"),
        Err(e) => e,
    }
}

#[test]
fn build_acceptor_names_the_files_of_a_bad_pair() {
    let f = fixture();
    let mismatched = TlsSettings {
        server_certs: vec![(
            f.paths.server_rsa_cert.clone(),
            f.paths.server_ecdsa_key.clone(),
        )],
        client_ca: None,
    };
    let err = build_err(&mismatched);
    assert!(
        matches!(err, TlsError::Pki(PkiError::KeyMismatch { .. })),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("server-rsa.pem") && msg.contains("server-ecdsa.key.pem"),
        "{msg}"
    );

    let missing = TlsSettings {
        server_certs: vec![(
            f.paths.ca_cert.with_file_name("nope.pem"),
            f.paths.ca_key.clone(),
        )],
        client_ca: None,
    };
    let msg = build_err(&missing).to_string();
    assert!(msg.contains("nope.pem"), "{msg}");

    let twice = TlsSettings {
        server_certs: vec![
            (
                f.paths.server_rsa_cert.clone(),
                f.paths.server_rsa_key.clone(),
            ),
            (
                f.paths.server_rsa_cert.clone(),
                f.paths.server_rsa_key.clone(),
            ),
        ],
        client_ca: None,
    };
    let err = build_err(&twice);
    assert!(matches!(err, TlsError::DuplicateKeyType { .. }), "{err}");

    let none = TlsSettings::default();
    let err = build_err(&none);
    assert!(matches!(err, TlsError::NoServerCertificate), "{err}");
}

// ------------------------------------------------------------------------------------------
// 6. Signing station CSRs (SignCertificate)

#[tokio::test]
async fn sign_csr_issues_a_usable_client_certificate() {
    let f = fixture();
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let cert = pki::sign_csr(&f.ca, &csr_pem("CP001", &key, &key), 365).unwrap();
    assert!(verifies_against(&f.ca.cert, &cert));
    assert_eq!(
        pki::common_name(cert.subject_name()).as_deref(),
        Some("CP001")
    );
    assert!(cert.public_key().unwrap().public_eq(&key));
    assert_eq!(
        cert.issuer_name().to_der().unwrap(),
        f.ca.cert.subject_name().to_der().unwrap()
    );

    // The signed certificate works for mTLS (clientAuth purpose).
    let client = f.client(|b| {
        tls12_only(b);
        with_client_cert(b, &cert, &key);
    });
    let (server, client) = handshake(f.acceptor(true), client).await;
    assert_eq!(server.unwrap().common_name.as_deref(), Some("CP001"));
    client.unwrap();
}

#[test]
fn sign_csr_rejects_weak_keys_bad_signatures_and_garbage() {
    let f = fixture();

    let rsa1024 = PKey::from_rsa(Rsa::generate(1024).unwrap()).unwrap();
    let err = pki::sign_csr(&f.ca, &csr_pem("CP001", &rsa1024, &rsa1024), 365).unwrap_err();
    assert!(
        matches!(
            err,
            PkiError::WeakKey {
                algorithm: "RSA",
                bits: 1024
            }
        ),
        "{err}"
    );

    let group = openssl::ec::EcGroup::from_curve_name(Nid::X9_62_PRIME192V1).unwrap();
    let ec192 = PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap()).unwrap();
    let err = pki::sign_csr(&f.ca, &csr_pem("CP001", &ec192, &ec192), 365).unwrap_err();
    assert!(
        matches!(
            err,
            PkiError::WeakKey {
                algorithm: "EC",
                bits: 192
            }
        ),
        "{err}"
    );

    // Public key of one key pair, signed by another: no proof of possession.
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let other = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let err = pki::sign_csr(&f.ca, &csr_pem("CP001", &key, &other), 365).unwrap_err();
    assert!(matches!(err, PkiError::CsrBadSignature), "{err}");

    for garbage in [
        &b"not a csr"[..],
        b"",
        b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
    ] {
        let err = pki::sign_csr(&f.ca, garbage, 365).unwrap_err();
        assert!(matches!(err, PkiError::MalformedCsr(_)), "{err}");
    }
}
