//! The OpenSSL TLS acceptor of the OCPP wss listener (security profiles 2 and 3).
//!
//! What OCPP 2.0.1 Part 2 A00 asks of the CSMS as TLS server, and where it is handled:
//!
//! * A00.FR.306/307 (A00.FR.409/410 for profile 3): the CSMS is the TLS server and authenticates
//!   with its server certificate -> [`TlsSettings::server_certs`].
//! * A00.FR.313/416: TLS 1.2 or above only; A00.FR.314/315 (A00.FR.417/418): a station that only
//!   offers an older TLS version or SSL is refused -> minimum protocol TLS 1.2, so the handshake
//!   fails with a `protocol_version` alert (OCTT TC_A_06).
//! * A00.FR.318: at least TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
//!   TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_RSA_WITH_AES_128_GCM_SHA256 and
//!   TLS_RSA_WITH_AES_256_GCM_SHA384, which needs an ECDSA *and* an RSA certificate
//!   -> [`TLS12_CIPHER_LIST`], both certificates loaded side by side (OCTT TC_A_04).
//! * A00.FR.321: no TLS compression -> `SslOptions::NO_COMPRESSION`.
//! * A00.FR.401-407: profile-3 stations authenticate with a client certificate whose path is
//!   verified by the CSMS; an invalid, unknown or expired certificate terminates the connection
//!   (OCTT TC_A_07/TC_A_08) -> [`TlsSettings::client_ca`]. Matching the CN against the
//!   station identity (A00.FR.405) is done by the listener with
//!   [`peer_certificate_common_name`].

use std::collections::HashMap;
use std::path::PathBuf;

use openssl::error::ErrorStack;
use openssl::pkey::Id;
use openssl::ssl::{SslAcceptor, SslMethod, SslOptions, SslRef, SslVerifyMode, SslVersion};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::X509VerifyResult;

use super::pki::{self, PkiError, PkiPaths};

/// The TLS 1.2 cipher suites, exactly the four of A00.FR.318, in server preference order
/// (forward-secret ECDHE first). IANA names: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
/// TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_RSA_WITH_AES_128_GCM_SHA256,
/// TLS_RSA_WITH_AES_256_GCM_SHA384.
pub const TLS12_CIPHER_LIST: &str =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:AES128-GCM-SHA256:AES256-GCM-SHA384";

/// The TLS 1.3 suites: OpenSSL's default list, spelled out so the configuration does not depend
/// on the library defaults. OCPP 2.0.1 sets no TLS 1.3 requirement beyond "TLS 1.2 or above".
pub const TLS13_CIPHERSUITES: &str =
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";

/// OpenSSL security level of the acceptor.
///
/// Level 2 (112-bit security): RSA/DH keys >= 2048 bits and EC keys >= 224 bits, which is
/// A00.FR.502/503, applied to our own certificates and to station client certificates alike.
/// Level 2 still permits the non-forward-secret static-RSA key exchange that A00.FR.318 requires
/// (TLS_RSA_WITH_AES_*_GCM_*); level 3 and above would silently drop those two suites. Setting
/// the level explicitly keeps a system-wide OpenSSL configuration with a higher default
/// (`CipherString = ...@SECLEVEL=3`, crypto policies) from removing them.
pub const SECURITY_LEVEL: u32 = 2;

/// Session id context: required by OpenSSL for session resumption when peer verification is on
/// (otherwise resumed handshakes fail with "session id context uninitialized").
const SESSION_ID_CONTEXT: &[u8] = b"unicharge-ocpp-wss";

/// Where the listener's certificates come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// (certificate chain PEM, private key PEM) pairs; at most one RSA and one ECDSA pair.
    /// The chain file holds the leaf first, then intermediates (the root may be omitted).
    pub server_certs: Vec<(PathBuf, PathBuf)>,
    /// CA certificate(s) PEM that station client certificates must chain to (profile 3). When
    /// `None` no client certificate is requested.
    pub client_ca: Option<PathBuf>,
}

impl TlsSettings {
    /// Settings for the local PKI of [`pki::load_or_create`]: both server certificates and,
    /// with `verify_clients`, the local CA as the client CA.
    pub fn from_pki(paths: &PkiPaths, verify_clients: bool) -> Self {
        Self {
            server_certs: paths.server_pairs(),
            client_ca: verify_clients.then(|| paths.ca_cert.clone()),
        }
    }
}

/// Errors of [`build_acceptor`]; messages name the files and the fix.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(
        "no TLS server certificate configured; configure at least one (certificate, key) pair \
         (an RSA and an ECDSA one for the four OCPP cipher suites, A00.FR.318)"
    )]
    NoServerCertificate,
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(
        "certificate {} has an unsupported {key_type} key; use RSA (>= 2048 bits) or ECDSA \
         (P-256) certificates",
        cert.display()
    )]
    UnsupportedKeyType { cert: PathBuf, key_type: String },
    #[error(
        "{} and {} both hold an {kind} certificate; OpenSSL serves one certificate per key type, \
         configure at most one RSA and one ECDSA pair",
        first.display(),
        second.display()
    )]
    DuplicateKeyType {
        kind: &'static str,
        first: PathBuf,
        second: PathBuf,
    },
    #[error(
        "OpenSSL rejected certificate {} / key {}: {source}; check that the certificate is \
         RSA >= 2048 or EC >= 224 bits and that the key belongs to it",
        cert.display(),
        key.display()
    )]
    ServerCertificate {
        cert: PathBuf,
        key: PathBuf,
        #[source]
        source: ErrorStack,
    },
    #[error("OpenSSL rejected client CA {}: {source}", path.display())]
    ClientCa {
        path: PathBuf,
        #[source]
        source: ErrorStack,
    },
    #[error("OpenSSL failed while {what}: {source}")]
    OpenSsl {
        what: &'static str,
        #[source]
        source: ErrorStack,
    },
}

pub type Result<T, E = TlsError> = std::result::Result<T, E>;

fn ossl<T>(result: Result<T, ErrorStack>, what: &'static str) -> Result<T> {
    result.map_err(|source| TlsError::OpenSsl { what, source })
}

/// Builds the acceptor for the OCPP wss listener. See the module documentation for the OCPP
/// requirements behind each setting.
///
/// * TLS 1.2 minimum, TLS 1.3 allowed (A00.FR.313/314/315).
/// * TLS 1.2 suites exactly [`TLS12_CIPHER_LIST`] with server preference; TLS 1.3 suites
///   [`TLS13_CIPHERSUITES`] (A00.FR.318).
/// * Every (certificate, key) pair is loaded into the same context; OpenSSL keeps one slot per
///   key type and picks the certificate that fits the suite negotiated with the client, so an
///   ECDSA and an RSA certificate are served side by side on one port.
/// * With `client_ca`, a client certificate is *requested but not required*
///   (`SslVerifyMode::PEER` without `FAIL_IF_NO_PEER_CERT`): profile-2 stations (Basic auth, no
///   certificate) and profile-3 stations (mTLS) share the port. A certificate that is presented
///   but does not chain to `client_ca`, or is expired / not yet valid, fails the handshake
///   (A00.FR.407). Whether a station *had* to present one is decided by the listener from the
///   station's registered security profile, using [`peer_certificate_common_name`].
pub fn build_acceptor(settings: &TlsSettings) -> Result<SslAcceptor> {
    if settings.server_certs.is_empty() {
        return Err(TlsError::NoServerCertificate);
    }
    // mozilla_intermediate_v5 gives a sane base (ECDH auto curves, no compression, no TLS < 1.2);
    // everything OCPP-relevant is set explicitly below.
    let mut builder = ossl(
        SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()),
        "creating the TLS context",
    )?;
    ossl(
        builder.set_min_proto_version(Some(SslVersion::TLS1_2)),
        "setting the minimum TLS version",
    )?;
    ossl(
        builder.set_max_proto_version(None),
        "setting the maximum TLS version",
    )?;
    builder.set_options(
        SslOptions::NO_SSLV3
            | SslOptions::NO_TLSV1
            | SslOptions::NO_TLSV1_1
            | SslOptions::NO_COMPRESSION
            | SslOptions::CIPHER_SERVER_PREFERENCE
            | SslOptions::NO_RENEGOTIATION,
    );
    builder.set_security_level(SECURITY_LEVEL);
    // An idle TLS connection gives its ~34 KiB of record buffers back to the allocator until
    // its next record: most of 100,000 connected stations are idle most of the time.
    builder.set_mode(openssl::ssl::SslMode::RELEASE_BUFFERS);
    ossl(
        builder.set_cipher_list(TLS12_CIPHER_LIST),
        "setting the TLS 1.2 cipher list",
    )?;
    ossl(
        builder.set_ciphersuites(TLS13_CIPHERSUITES),
        "setting the TLS 1.3 cipher suites",
    )?;
    ossl(
        builder.set_session_id_context(SESSION_ID_CONTEXT),
        "setting the session id context",
    )?;

    let mut slots: HashMap<&'static str, PathBuf> = HashMap::new();
    for (cert_path, key_path) in &settings.server_certs {
        let chain = pki::read_certificates(cert_path)?;
        let key = pki::read_private_key(key_path)?;
        // Checked here (not only by OpenSSL) so the error names both files: with a key of the
        // other type OpenSSL would put it into another slot and fail obscurely.
        pki::ensure_key_matches(&chain[0], &key, cert_path, key_path)?;
        let kind = match key.id() {
            Id::RSA => "RSA",
            Id::EC => "ECDSA",
            other => {
                return Err(TlsError::UnsupportedKeyType {
                    cert: cert_path.clone(),
                    key_type: format!("{other:?}"),
                })
            }
        };
        if let Some(first) = slots.insert(kind, cert_path.clone()) {
            return Err(TlsError::DuplicateKeyType {
                kind,
                first,
                second: cert_path.clone(),
            });
        }
        let now = ossl(
            openssl::asn1::Asn1Time::days_from_now(0),
            "reading the clock",
        )?;
        if chain[0].not_after() < now {
            tracing::warn!(
                cert = %cert_path.display(),
                not_after = %chain[0].not_after(),
                "TLS server certificate has expired; stations will refuse the connection"
            );
        }
        let cert_err = |source| TlsError::ServerCertificate {
            cert: cert_path.clone(),
            key: key_path.clone(),
            source,
        };
        // SSL_CTX_use_certificate_chain_file stores the leaf in the slot of its key type and the
        // rest of the file as that slot's own chain (unlike add_extra_chain_cert, which would be
        // shared by both certificates).
        builder
            .set_certificate_chain_file(cert_path)
            .map_err(cert_err)?;
        builder.set_private_key(&key).map_err(cert_err)?;
        builder.check_private_key().map_err(cert_err)?;
    }

    if let Some(ca_path) = &settings.client_ca {
        let cas = pki::read_certificates(ca_path)?;
        let ca_err = |source| TlsError::ClientCa {
            path: ca_path.clone(),
            source,
        };
        // A separate verification store: the station CA is trusted only for verifying client
        // certificates, not mixed into the store used to build our own chain.
        let mut store = X509StoreBuilder::new().map_err(ca_err)?;
        for ca in &cas {
            store.add_cert(ca.clone()).map_err(ca_err)?;
            // Listed in the CertificateRequest so a station picks the right certificate.
            builder.add_client_ca(ca).map_err(ca_err)?;
        }
        builder
            .set_verify_cert_store(store.build())
            .map_err(ca_err)?;
        // PEER alone: request a certificate, verify it if presented, but accept clients
        // without one (profile 2 and 3 share the port). See the function documentation.
        builder.set_verify(SslVerifyMode::PEER);
    } else {
        builder.set_verify(SslVerifyMode::NONE);
    }

    Ok(builder.build())
}

/// The subject CN of the station's client certificate, if one was presented *and* verified
/// against the client CA (`verify_result() == OK`). `None` for stations without a certificate
/// (profile 2) or when the acceptor does not verify clients.
///
/// The listener compares it with the station identity from the URL (A00.FR.405) for stations
/// registered with security profile 3, and closes the connection if it is `None` or differs.
pub fn peer_certificate_common_name(ssl: &SslRef) -> Option<String> {
    if !ssl.verify_mode().contains(SslVerifyMode::PEER) {
        return None;
    }
    if ssl.verify_result() != X509VerifyResult::OK {
        return None;
    }
    let cert = ssl.peer_certificate()?;
    pki::common_name(cert.subject_name())
}
