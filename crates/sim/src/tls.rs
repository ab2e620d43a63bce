//! Client-side TLS for simulated stations, with the knobs the OCTT security cases turn:
//! protocol versions, a single cipher suite, client certificates.

use std::path::PathBuf;

use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use openssl::x509::X509;

/// How a simulated station sets up TLS.
#[derive(Debug, Clone, Default)]
pub struct TlsClientOptions {
    /// CA that must have issued the CSMS's server certificate. `None` = verify nothing
    /// (only sensible against a CSMS whose certificate is checked some other way).
    pub ca: Option<PathBuf>,
    /// Client certificate chain and key (security profile 3).
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// Highest protocol offered (e.g. TLS 1.1 to play TC_A_06's outdated station).
    pub max_version: Option<SslVersion>,
    /// Lowest protocol offered.
    pub min_version: Option<SslVersion>,
    /// OpenSSL TLS 1.2 cipher list to offer (e.g. one suite to probe TC_A_04's four suites).
    pub cipher_list: Option<String>,
}

impl TlsClientOptions {
    /// An OpenSSL connector for these options.
    pub fn connector(&self) -> Result<SslConnector, openssl::error::ErrorStack> {
        let mut builder = SslConnector::builder(SslMethod::tls_client())?;
        let legacy = self.max_version.is_some_and(|v| {
            v == SslVersion::TLS1_1 || v == SslVersion::TLS1 || v == SslVersion::SSL3
        });
        if legacy {
            // OpenSSL 3 refuses TLS < 1.2 at its default security level even as a client; the
            // point of such a station is to be refused by the CSMS, so allow it on our side.
            builder.set_cipher_list("DEFAULT:@SECLEVEL=0")?;
        }
        if let Some(list) = &self.cipher_list {
            builder.set_cipher_list(list)?;
        }
        builder.set_min_proto_version(self.min_version)?;
        builder.set_max_proto_version(self.max_version)?;
        match &self.ca {
            Some(ca) => {
                builder.set_ca_file(ca)?;
                builder.set_verify(SslVerifyMode::PEER);
            }
            None => builder.set_verify(SslVerifyMode::NONE),
        }
        if let Some((cert, key)) = &self.client_cert {
            builder.set_certificate_chain_file(cert)?;
            builder.set_private_key_file(key, openssl::ssl::SslFiletype::PEM)?;
        }
        Ok(builder.build())
    }
}

/// What a TLS handshake produced, for the OCTT's checks on the server.
#[derive(Debug, Clone)]
pub struct TlsInfo {
    /// `"TLSv1.2"`, `"TLSv1.3"`.
    pub version: String,
    /// IANA name of the negotiated suite (`TLS_RSA_WITH_AES_128_GCM_SHA256`).
    pub cipher: String,
    /// The server's leaf certificate.
    pub server_certificate: Option<X509>,
}

/// Do only a TLS handshake with `host:port` (no HTTP upgrade) and report what it negotiated.
/// The OCTT security cases probe the server's versions and cipher suites this way.
pub async fn probe(host: &str, port: u16, options: &TlsClientOptions) -> Result<TlsInfo, String> {
    use std::pin::Pin;
    let connector = options.connector().map_err(|e| e.to_string())?;
    let ssl = connector
        .configure()
        .and_then(|c| c.into_ssl(host))
        .map_err(|e| e.to_string())?;
    let tcp = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("TCP: {e}"))?;
    let mut stream = tokio_openssl::SslStream::new(ssl, tcp).map_err(|e| e.to_string())?;
    Pin::new(&mut stream)
        .connect()
        .await
        .map_err(|e| e.to_string())?;
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
    let _ = tokio::io::AsyncWriteExt::shutdown(&mut stream).await;
    Ok(info)
}
