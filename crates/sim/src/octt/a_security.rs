//! Block A, Security: Basic authentication (TC_A_01–03), server TLS (TC_A_04, TC_A_06) and
//! client certificates (TC_A_07, TC_A_08).

use chrono::Utc;
use openssl::nid::Nid;
use openssl::ssl::SslVersion;
use rand::Rng;
use unicharge_ocpp::v201::SecurityEventNotificationRequest;

use super::{states, CaseError, Target};
use crate::ensure;
use crate::station::{ConnectOptions, Station};
use crate::tls::{probe, TlsClientOptions, TlsInfo};

/// The four TLS 1.2 suites A00.FR.318 requires: (OpenSSL name, IANA name, key type of the
/// certificate that serves it).
pub const REQUIRED_TLS12_SUITES: [(&str, &str); 4] = [
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    ),
    ("AES128-GCM-SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256"),
    ("AES256-GCM-SHA384", "TLS_RSA_WITH_AES_256_GCM_SHA384"),
];

/// TC_A_01_CSMS Basic Authentication - Valid username/password combination (A00.FR.204,
/// B01.FR.02): the upgrade with `<id>:<password>` is accepted, the boot is Accepted and the
/// connector notifications are answered.
pub async fn tc_a_01(target: &Target) -> Result<(), CaseError> {
    target.require_profile(&[1, 2])?;
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    station.close().await;
    Ok(())
}

/// TC_A_02_CSMS Basic Authentication - Username does not equal ChargingStationId (A00.FR.204):
/// the upgrade with username `<id>Invalid` and the right password is rejected.
pub async fn tc_a_02(target: &Target) -> Result<(), CaseError> {
    target.require_profile(&[1, 2])?;
    let mut options = target.options(target.security_profile)?;
    let (_, password) = options.basic.clone().expect("profiles 1-2 use Basic");
    options.basic = Some((format!("{}Invalid", target.station_id), password));
    expect_refused(&options, "a Basic username that is not the station id").await
}

/// TC_A_03_CSMS Basic Authentication - Invalid password (A00.FR.204): the upgrade with a random
/// 16–40 character identifierString as password is rejected.
pub async fn tc_a_03(target: &Target) -> Result<(), CaseError> {
    target.require_profile(&[1, 2])?;
    let mut options = target.options(target.security_profile)?;
    let wrong = loop {
        let candidate = random_identifier_string();
        if Some(&candidate) != target.password.as_ref() {
            break candidate;
        }
    };
    options.basic = Some((target.station_id.clone(), wrong));
    expect_refused(&options, "a wrong password").await
}

/// TC_A_04_CSMS TLS - server-side certificate - Valid certificate (A00.FR.306, 307, 312, 318,
/// 321, 502, 503, 507, 508, 510).
///
/// Tool validations at step 3: TLS 1.2 or above; the four required suites each negotiate; the
/// server certificate's key is RSA ≥ 2048 or EC ≥ 224 bits, it has a serial number and its
/// subject CN is the server's FQDN. (That it is "PEM encoded" cannot be seen on the wire, where
/// certificates travel DER-encoded; not checked.) Step 8: the boot is Accepted.
pub async fn tc_a_04(target: &Target) -> Result<(), CaseError> {
    target.require_profile(&[2, 3])?;
    check_server_tls(target).await?;
    let mut station = target.connect().await?;
    let info = station.tls_info().cloned();
    ensure!(
        info.is_some(),
        "profile {} must run over TLS",
        target.security_profile
    );
    check_version(&info.expect("checked above"))?;
    states::booted(&mut station, target).await?;
    station.close().await;
    Ok(())
}

/// TC_A_06_CSMS TLS - server-side certificate - TLS version too low (A00.FR.314, 315, 409, 416,
/// 417, 418): a ClientHello offering at most TLS 1.1 is refused; then a TLS ≥ 1.2 connection
/// boots (Accepted) and the SecurityEventNotification InvalidTLSVersion is answered.
pub async fn tc_a_06(target: &Target) -> Result<(), CaseError> {
    target.require_profile(&[2, 3])?;
    let options = target.options(target.security_profile)?;
    let outdated = options.clone().max_tls_version(SslVersion::TLS1_1);
    let (host, port) = host_port(&options.url)?;
    if let Ok(info) = probe(&host, port, &outdated.tls).await {
        return Err(CaseError::Fail(format!(
            "the CSMS completed a {} handshake; it must terminate TLS below 1.2",
            info.version
        )));
    }
    let mut station = Station::connect(&options).await?;
    check_version(station.tls_info().expect("wss"))?;
    states::booted(&mut station, target).await?;
    station
        .call(&SecurityEventNotificationRequest {
            custom_data: None,
            r#type: "InvalidTLSVersion".into(),
            timestamp: Utc::now(),
            tech_info: Some("a ClientHello with TLS 1.1 was refused".into()),
        })
        .await?;
    station.close().await;
    Ok(())
}

/// TC_A_07_CSMS TLS - Client-side certificate - valid certificate (A00.FR.409, 410, 415, 416,
/// 421): the mutual-TLS handshake with the configured client certificate completes (TLS ≥ 1.2,
/// the four suites), the upgrade succeeds and the boot is Accepted.
pub async fn tc_a_07(target: &Target) -> Result<(), CaseError> {
    target.require_profile(&[3])?;
    check_server_tls(target).await?;
    let mut station = target.connect().await?;
    check_version(station.tls_info().expect("wss"))?;
    states::booted(&mut station, target).await?;
    station.close().await;
    Ok(())
}

/// TC_A_08_CSMS TLS - Client-side certificate - Invalid certificate (A00.FR.405, 407, 409, 410):
/// for each configured invalid certificate (unknown issuer, expired, commonName not the
/// station's) the CSMS terminates the connection; then the valid certificate connects and the
/// boot is Accepted. The seed says the commonName must equal the station's *serial number*;
/// unicharge identifies a station by its id (the URL's last segment) and requires CN = id, which
/// is the same value when the station id is its serial number, as with the OCTT's configuration.
pub async fn tc_a_08(target: &Target) -> Result<(), CaseError> {
    target.require_profile(&[3])?;
    if target.invalid_client_certs.is_empty() {
        return Err(CaseError::NotApplicable(
            "no invalid client certificates configured".into(),
        ));
    }
    let valid = target.options(3)?;
    for invalid in &target.invalid_client_certs {
        let mut options = valid.clone();
        options.tls.client_cert = Some((invalid.cert.clone(), invalid.key.clone()));
        expect_refused(
            &options,
            &format!("an invalid client certificate ({})", invalid.kind),
        )
        .await?;
    }
    let mut station = Station::connect(&valid).await?;
    states::booted(&mut station, target).await?;
    station.close().await;
    Ok(())
}

/// The connection attempt must fail: refused TLS handshake, refused upgrade (HTTP 4xx), or a
/// connection the CSMS closes before it is usable.
async fn expect_refused(options: &ConnectOptions, what: &str) -> Result<(), CaseError> {
    match Station::connect(options).await {
        Ok(mut station) => {
            // Some servers finish the handshake and close at once; that counts as terminated.
            let closed = station
                .expect_closed(options.timeout.min(std::time::Duration::from_secs(2)))
                .await;
            ensure!(closed.is_ok(), "the CSMS accepted a connection with {what}");
            Ok(())
        }
        Err(_refused) => Ok(()),
    }
}

/// A00.FR.318 and the key / certificate checks of TC_A_04's step 3, on every required suite.
async fn check_server_tls(target: &Target) -> Result<(), CaseError> {
    let options = target.options(target.security_profile)?;
    let (host, port) = host_port(&options.url)?;
    for (openssl_name, iana_name) in REQUIRED_TLS12_SUITES {
        let tls = TlsClientOptions {
            max_version: Some(SslVersion::TLS1_2),
            cipher_list: Some(openssl_name.into()),
            ..options.tls.clone()
        };
        let info = probe(&host, port, &tls)
            .await
            .map_err(|e| CaseError::Fail(format!("{iana_name} is not supported: {e}")))?;
        ensure!(
            info.cipher == iana_name,
            "offered only {iana_name} but negotiated {:?}",
            info.cipher
        );
        check_version(&info)?;
        check_server_certificate(&info, &host)?;
    }
    Ok(())
}

fn check_version(info: &TlsInfo) -> Result<(), CaseError> {
    ensure!(
        matches!(info.version.as_str(), "TLSv1.2" | "TLSv1.3"),
        "the CSMS must use TLS 1.2 or above, used {}",
        info.version
    );
    Ok(())
}

fn check_server_certificate(info: &TlsInfo, host: &str) -> Result<(), CaseError> {
    let cert = info
        .server_certificate
        .as_ref()
        .ok_or_else(|| CaseError::Fail("the CSMS sent no server certificate".into()))?;
    let serial = cert
        .serial_number()
        .to_bn()
        .map_err(|e| CaseError::Fail(e.to_string()))?;
    ensure!(
        serial.num_bits() > 0,
        "the server certificate has no serial number"
    );
    let key = cert
        .public_key()
        .map_err(|e| CaseError::Fail(format!("server certificate key: {e}")))?;
    let bits = key.bits();
    match key.id() {
        openssl::pkey::Id::RSA | openssl::pkey::Id::DSA => {
            ensure!(
                bits >= 2048,
                "RSA/DSA server key has {bits} bits; at least 2048 are required"
            )
        }
        openssl::pkey::Id::EC => {
            ensure!(
                bits >= 224,
                "EC server key has {bits} bits; at least 224 are required"
            )
        }
        other => {
            return Err(CaseError::Fail(format!(
                "unexpected server key type {other:?}"
            )))
        }
    }
    let cn = cert
        .subject_name()
        .entries_by_nid(Nid::COMMONNAME)
        .next()
        .and_then(|e| e.data().to_string().ok());
    ensure!(
        cn.as_deref() == Some(host),
        "the server certificate's subject CN must be the FQDN of the endpoint ({host}), is {cn:?}"
    );
    Ok(())
}

fn host_port(url: &str) -> Result<(String, u16), CaseError> {
    let rest = url
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or_else(|| CaseError::Fail(format!("bad URL {url}")))?;
    let authority = rest.split('/').next().unwrap_or("");
    let (host, port) = authority
        .rsplit_once(':')
        .ok_or_else(|| CaseError::Fail(format!("URL {url} needs an explicit port")))?;
    let port = port
        .parse()
        .map_err(|_| CaseError::Fail(format!("bad port in {url}")))?;
    Ok((
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        port,
    ))
}

/// A random identifierString of 16 to 40 characters (TC_A_03's wrong password).
fn random_identifier_string() -> String {
    const ALPHABET: &[u8] =
        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*-_=:+|@.";
    let mut rng = rand::thread_rng();
    let len = rng.gen_range(16..=40);
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}
