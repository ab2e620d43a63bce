//! Block A, Security: Basic authentication (TC_A_01–03), server TLS (TC_A_04, TC_A_06),
//! client certificates (TC_A_07, TC_A_08), password rotation (TC_A_09, TC_A_10), station
//! certificate renewal (TC_A_11, TC_A_14) and the security profile upgrade (TC_A_19).
//!
//! Readings taken where the draft is terse:
//!
//! * A_09/A_10 have no "Before" state, but a CSMS sends nothing to a station that has not been
//!   accepted (B02.FR.01), so the station boots first. "setVariableData\[1\]" is read as "one
//!   entry", as OCPP's own 1-based notation. After the SetVariablesResponse the OCTT reconnects
//!   (A01.FR.03 has the station use the new password at its next connection): it closes and
//!   upgrades again with the new (A_09) or the old (A_10) password.
//! * A_09: the new password is the `attributeValue` of the SetVariablesRequest; it must be a
//!   password a station can accept (16–40 characters, A00.FR.205) since the OCTT accepts it.
//! * A_11: "signed by the provided CSMS Root certificate" (Table 211) is checked against
//!   [`Target::ca`] as a station would before installing it ([`check_issued_chain`]): the
//!   chain verifies for TLS client use, the certificate holds the CSR's key and subject
//!   (CN = station id) and is valid now.
//! * A_14 ends at step 6: the CSMS must only cope with the Rejected answer. The certificate it
//!   sent at step 5 is still checked as in A_11: the station rejecting it is the scenario, a
//!   CSMS sending an unusable one is a defect the tool would otherwise not see.
//! * A_19 from profile 2: the certificate of RenewChargingStationCertificate is checked as in
//!   A_11 before the station uses it at profile 3.
//! * A_19: the three manual actions (profile, priority, reboot) are one operator action,
//!   [`OperatorAction::UpgradeSecurityProfile`]. The reset's type is not validated. At profile 2
//!   the Memory State RenewChargingStationCertificate gives the station the client certificate
//!   it uses at profile 3.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use openssl::asn1::Asn1Time;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, PKeyRef};
use openssl::ssl::SslVersion;
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509PurposeId, X509StoreContext, X509};
use rand::Rng;
use unicharge_ocpp::v201::{
    CertificateSignedRequest, CertificateSignedResponse, CertificateSignedStatusEnumType,
    CertificateSigningUseEnumType, GenericStatusEnumType, MessageTriggerEnumType, ResetRequest,
    SecurityEventNotificationRequest, SetNetworkProfileRequest, SetNetworkProfileResponse,
    SetNetworkProfileStatusEnumType, SetVariableStatusEnumType, SetVariablesRequest,
    SignCertificateRequest, TriggerMessageRequest, TriggerMessageResponse,
    TriggerMessageStatusEnumType,
};

use super::b_provisioning::{accepted_reset, answer_set_variables, check_connection_data};
use super::operator::{Operator, OperatorAction};
use super::{states, CaseError, OperatorTask, Target};
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

/// TC_A_09_CSMS Update Charging Station Password for HTTP Basic Authentication - Accepted
/// (A01.FR.02, A01.FR.03): the CSMS sets SecurityCtrlr.BasicAuthPassword, the OCTT accepts,
/// reconnects with the new password and boots (Accepted).
pub async fn tc_a_09(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    rotate_password(target, operator, true).await
}

/// TC_A_10_CSMS Update Charging Station Password for HTTP Basic Authentication - Rejected
/// (A01.FR.02, A01.FR.04, A01.FR.05): as TC_A_09, but the OCTT rejects the new password and
/// reconnects with the old one, which the CSMS must still accept.
pub async fn tc_a_10(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    rotate_password(target, operator, false).await
}

async fn rotate_password(
    target: &Target,
    operator: Arc<dyn Operator>,
    accept: bool,
) -> Result<(), CaseError> {
    target.require_profile(&[1, 2])?;
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::RotateBasicAuthPassword,
        "have the CSMS send SetVariablesRequest SecurityCtrlr.BasicAuthPassword",
    );
    let (id, request) = task
        .expect_call::<SetVariablesRequest>(&mut station)
        .await?;
    let status = if accept {
        SetVariableStatusEnumType::Accepted
    } else {
        SetVariableStatusEnumType::Rejected
    };
    answer_set_variables(&mut station, &id, &request, status).await?;
    ensure!(
        request.set_variable_data.len() == 1,
        "step 1: SetVariablesRequest must carry one setVariableData, carried {}",
        request.set_variable_data.len()
    );
    let data = &request.set_variable_data[0];
    ensure!(
        data.variable.name == "BasicAuthPassword",
        "step 1: SetVariablesRequest variable.name must be \"BasicAuthPassword\", was {:?}",
        data.variable.name
    );
    ensure!(
        data.component.name == "SecurityCtrlr",
        "step 1: SetVariablesRequest component.name must be \"SecurityCtrlr\", was {:?}",
        data.component.name
    );
    let new_password = data.attribute_value.clone();
    if accept {
        let length = new_password.chars().count();
        ensure!(
            (16..=40).contains(&length),
            "step 1: the new BasicAuthPassword must have 16 to 40 characters (A00.FR.205), \
             had {length}"
        );
    }
    task.finish(target.timeout).await?;
    station.close().await;

    let mut reconnect = target.clone();
    if accept {
        reconnect.password = Some(new_password);
    }
    let mut station = reconnect.connect().await.map_err(|e| {
        CaseError::Fail(format!(
            "step 4: the CSMS must accept the {} password: {e}",
            if accept { "new" } else { "old" }
        ))
    })?;
    states::booted(&mut station, &reconnect).await?;
    station.close().await;
    Ok(())
}

/// TC_A_11_CSMS Update Charging Station Certificate by request of CSMS - Success - Charging
/// Station Certificate (A02.FR.11, A02.FR.14, F06.FR.01): Reusable State
/// RenewChargingStationCertificate, and the certificate chain the CSMS sends must be issued,
/// from the CSR, by the CSMS Root certificate the OCTT is configured with.
pub async fn tc_a_11(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    target.require_profile(&[3])?;
    let ca = target
        .ca
        .clone()
        .ok_or_else(|| CaseError::NotApplicable("no CSMS Root certificate configured".into()))?;
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let renewed =
        states::renew_charging_station_certificate(&mut station, target, operator).await?;
    station.close().await;
    check_issued_chain(
        &renewed.certificate_chain,
        &ca,
        &target.station_id,
        &renewed.key,
    )
}

/// What a station checks before it installs a CertificateSignedRequest's chain (A02.FR.14:
/// "verify the validity of the signed certificate"), all against `ca`, the CSMS Root
/// certificate the OCTT is configured with:
///
/// * the chain (PEM, leaf first) verifies up to a certificate in `ca` (OpenSSL's X509 store,
///   which also checks every certificate's validity period and signature), for the TLS client
///   purpose the station will use it for (a leaf whose extendedKeyUsage excludes clientAuth
///   fails);
/// * the leaf holds the public key of the CSR the station sent (`csr_key`): a certificate for
///   another key is useless to the station, whose private key stays with it;
/// * the leaf's subject CN is the station id (the CSR's subject, A00.FR.405);
/// * the leaf is valid now (said separately so the failure names it).
///
/// Presence alone proves nothing: a CSMS that answered with its own server certificate, a
/// certificate from another CA, or one for a key it generated itself must fail here.
pub fn check_issued_chain<T: HasPublic>(
    chain_pem: &str,
    ca: &Path,
    station_id: &str,
    csr_key: &PKeyRef<T>,
) -> Result<(), CaseError> {
    let fail = |what: String| CaseError::Fail(what);
    let chain = X509::stack_from_pem(chain_pem.as_bytes()).map_err(|e| {
        fail(format!(
            "CertificateSignedRequest.certificateChain is not PEM: {e}"
        ))
    })?;
    let (leaf, intermediates) = chain
        .split_first()
        .ok_or_else(|| fail("CertificateSignedRequest.certificateChain is empty".into()))?;
    let roots = std::fs::read(ca)
        .map_err(|e| CaseError::NotApplicable(format!("reading {}: {e}", ca.display())))
        .and_then(|pem| {
            X509::stack_from_pem(&pem)
                .map_err(|e| CaseError::NotApplicable(format!("{} is not PEM: {e}", ca.display())))
        })?;
    let now = Asn1Time::days_from_now(0).map_err(|e| fail(format!("reading the clock: {e}")))?;
    ensure!(
        leaf.not_before() <= now && now < leaf.not_after(),
        "the issued certificate must be valid now; it is valid from {} to {}",
        leaf.not_before(),
        leaf.not_after()
    );
    ensure!(
        leaf.public_key().is_ok_and(|k| k.public_eq(csr_key)),
        "the issued certificate must hold the public key of the CSR the station sent"
    );
    let cn = leaf
        .subject_name()
        .entries_by_nid(Nid::COMMONNAME)
        .next()
        .and_then(|e| e.data().to_string().ok());
    ensure!(
        cn.as_deref() == Some(station_id),
        "the issued certificate's subject CN must be the CSR's ({station_id}), was {cn:?}"
    );
    let verified = (|| -> Result<Result<(), String>, openssl::error::ErrorStack> {
        let mut store = X509StoreBuilder::new()?;
        for root in roots {
            store.add_cert(root)?;
        }
        store.set_purpose(X509PurposeId::SSL_CLIENT)?;
        let store = store.build();
        let mut untrusted = Stack::new()?;
        for cert in intermediates {
            untrusted.push(cert.clone())?;
        }
        let mut context = X509StoreContext::new()?;
        context.init(&store, leaf, &untrusted, |c| {
            Ok(match c.verify_cert()? {
                true => Ok(()),
                false => Err(c.error().error_string().to_string()),
            })
        })
    })()
    .map_err(|e| fail(format!("verifying the certificate chain: {e}")))?;
    if let Err(reason) = verified {
        return Err(fail(format!(
            "CertificateSignedRequest.certificateChain does not verify against the CSMS Root \
             certificate for TLS client use: {reason}"
        )));
    }
    Ok(())
}

/// TC_A_14_CSMS Update Charging Station Certificate by request of CSMS - Invalid certificate:
/// TriggerMessage SignChargingStationCertificate (answered Accepted), SignCertificateRequest
/// with a CSR (the answer must be Accepted), then the CSMS's CertificateSignedRequest is
/// answered Rejected.
pub async fn tc_a_14(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    target.require_profile(&[3])?;
    let ca = target
        .ca
        .clone()
        .ok_or_else(|| CaseError::NotApplicable("no CSMS Root certificate configured".into()))?;
    let (key, csr) = states::station_csr(&target.station_id)
        .map_err(|e| CaseError::Fail(format!("generating the CSR: {e}")))?;
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::RenewStationCertificate,
        "have the CSMS send TriggerMessageRequest SignChargingStationCertificate",
    );
    let (id, trigger) = task
        .expect_call::<TriggerMessageRequest>(&mut station)
        .await?;
    station
        .respond::<TriggerMessageRequest>(
            &id,
            &TriggerMessageResponse {
                custom_data: None,
                status: TriggerMessageStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await?;
    ensure!(
        trigger.requested_message == MessageTriggerEnumType::SignChargingStationCertificate,
        "step 1: TriggerMessageRequest.requestedMessage must be SignChargingStationCertificate, \
         was {}",
        trigger.requested_message.as_str()
    );
    let answer = station
        .call(&SignCertificateRequest {
            custom_data: None,
            csr,
            certificate_type: Some(CertificateSigningUseEnumType::ChargingStationCertificate),
        })
        .await?;
    ensure!(
        answer.status == GenericStatusEnumType::Accepted,
        "step 4: SignCertificateResponse.status must be Accepted, was {}",
        answer.status.as_str()
    );
    let (id, signed) = station.expect_call::<CertificateSignedRequest>().await?;
    station
        .respond::<CertificateSignedRequest>(
            &id,
            &CertificateSignedResponse {
                custom_data: None,
                status: CertificateSignedStatusEnumType::Rejected,
                status_info: None,
            },
        )
        .await?;
    task.finish(target.timeout).await?;
    station.close().await;
    check_issued_chain(&signed.certificate_chain, &ca, &target.station_id, &key)
        .map_err(|e| e.at_step(5))
}

/// TC_A_19_CSMS Upgrade Charging Station Security Profile - Accepted (A05.FR.04, A05.FR.07).
/// From profile 1 or 2 (at 2 after RenewChargingStationCertificate): the operator moves the
/// station one profile up; the OCTT accepts the SetNetworkProfileRequest (validated: the
/// configured connection data at profile + 1), the SetVariablesRequest
/// OCPPCommCtrlr.NetworkConfigurationPriority (its value must list the slot of step 1) and the
/// ResetRequest; it reconnects at profile + 1 (accepted, Booted), then at the old profile,
/// which the CSMS must refuse.
pub async fn tc_a_19(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    target.require_profile(&[1, 2])?;
    let old = target.security_profile;
    let new = old + 1;
    target.url(new)?;
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut upgraded = target.clone();
    upgraded.security_profile = new;
    let mut files = None;
    if old == 2 {
        let renewed =
            states::renew_charging_station_certificate(&mut station, target, operator.clone())
                .await?;
        if let Some(ca) = &target.ca {
            check_issued_chain(
                &renewed.certificate_chain,
                ca,
                &target.station_id,
                &renewed.key,
            )?;
        }
        let written = CertificateFiles::write(&target.station_id, &renewed)?;
        upgraded.client_cert = Some((written.cert.clone(), written.key.clone()));
        files = Some(written);
    }

    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::UpgradeSecurityProfile {
            security_profile: new,
            configuration_slot: target.configuration_slot,
        },
        "have the CSMS upgrade the security profile",
    );
    let (id, profile) = task
        .expect_call::<SetNetworkProfileRequest>(&mut station)
        .await?;
    station
        .respond::<SetNetworkProfileRequest>(
            &id,
            &SetNetworkProfileResponse {
                custom_data: None,
                status: SetNetworkProfileStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await?;
    check_connection_data(&profile, target, new).map_err(|e| e.at_step(1))?;

    let (id, priority) = task
        .expect_call::<SetVariablesRequest>(&mut station)
        .await?;
    answer_set_variables(
        &mut station,
        &id,
        &priority,
        SetVariableStatusEnumType::Accepted,
    )
    .await?;
    let entry = priority.set_variable_data.iter().find(|d| {
        d.component.name == "OCPPCommCtrlr" && d.variable.name == "NetworkConfigurationPriority"
    });
    let Some(entry) = entry else {
        return Err(CaseError::Fail(
            "step 3: SetVariablesRequest must set component.name \"OCPPCommCtrlr\" \
             variable.name \"NetworkConfigurationPriority\""
                .into(),
        ));
    };
    let slot = profile.configuration_slot.to_string();
    ensure!(
        entry.attribute_value.split(',').any(|s| s.trim() == slot),
        "step 3: NetworkConfigurationPriority {:?} must contain the configurationSlot {slot} of \
         step 1",
        entry.attribute_value
    );

    let (id, _reset) = task.expect_call::<ResetRequest>(&mut station).await?;
    station
        .respond::<ResetRequest>(&id, &accepted_reset())
        .await?;
    task.finish(target.timeout).await?;
    station.close().await;

    let result = async {
        let mut station = upgraded.connect().await.map_err(|e| {
            CaseError::Fail(format!(
                "step 8: the CSMS must accept the connection at security profile {new}: {e}"
            ))
        })?;
        states::booted(&mut station, &upgraded).await?;
        station.close().await;
        expect_refused(
            &target.options(old)?,
            &format!("the old security profile {old}"),
        )
        .await
        .map_err(|e| e.at_step(11))
    }
    .await;
    drop(files);
    result
}

/// A renewed certificate chain and its key in files, as the TLS connector needs them; removed
/// when dropped.
struct CertificateFiles {
    cert: PathBuf,
    key: PathBuf,
}

impl CertificateFiles {
    fn write(station_id: &str, renewed: &states::RenewedCertificate) -> Result<Self, CaseError> {
        let fail = |e: &dyn std::fmt::Display| {
            CaseError::Fail(format!("writing the renewed certificate: {e}"))
        };
        let tag: u64 = rand::thread_rng().gen();
        let dir = std::env::temp_dir();
        let cert = dir.join(format!("unicharge-sim-{station_id}-{tag:016x}.pem"));
        let key = dir.join(format!("unicharge-sim-{station_id}-{tag:016x}.key.pem"));
        let key_pem = renewed
            .key
            .private_key_to_pem_pkcs8()
            .map_err(|e| fail(&e))?;
        std::fs::write(&cert, &renewed.certificate_chain).map_err(|e| fail(&e))?;
        std::fs::write(&key, key_pem).map_err(|e| fail(&e))?;
        Ok(CertificateFiles { cert, key })
    }
}

impl Drop for CertificateFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.cert);
        let _ = std::fs::remove_file(&self.key);
    }
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::octt::stub::{failure, Stub};
    use crate::octt::{run, Verdict};

    #[tokio::test]
    async fn password_rotation_reconnects_with_the_new_or_old_password() {
        for case in ["TC_A_09_CSMS", "TC_A_10_CSMS"] {
            let stub = Stub::start().await;
            let verdict = run(case, &stub.target(), Some(stub.operator())).await;
            assert_eq!(verdict, Verdict::Pass, "{case}");
            let boots = stub
                .calls()
                .into_iter()
                .filter(|(a, _)| a == "BootNotification")
                .count();
            assert_eq!(boots, 2, "booted, then booted again after reconnecting");
        }
    }

    #[tokio::test]
    async fn password_rotation_validations() {
        let stub = Stub::start().await;
        let component = stub.operator_with(|_, p| {
            p["setVariableData"][0]["component"]["name"] = json!("OCPPCommCtrlr")
        });
        let message = failure(tc_a_09(&stub.target(), component).await);
        assert!(message.contains("SecurityCtrlr"), "{message}");

        let stub = Stub::start().await;
        let short = stub
            .operator_with(|_, p| p["setVariableData"][0]["attributeValue"] = json!("too-short"));
        let message = failure(tc_a_09(&stub.target(), short).await);
        assert!(message.contains("16 to 40"), "{message}");

        let stub = Stub::start().await;
        let mut target = stub.target();
        target.security_profile = 3;
        let result = tc_a_09(&target, stub.operator()).await;
        assert!(
            matches!(result, Err(CaseError::NotApplicable(_))),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn certificate_cases_need_profile_3_and_a_19_profile_1_or_2() {
        let stub = Stub::start().await;
        let target = stub.target();
        for result in [
            tc_a_11(&target, stub.operator()).await,
            tc_a_14(&target, stub.operator()).await,
        ] {
            assert!(
                matches!(result, Err(CaseError::NotApplicable(_))),
                "{result:?}"
            );
        }
        let mut target = stub.target();
        target.security_profile = 3;
        let result = tc_a_19(&target, stub.operator()).await;
        assert!(
            matches!(result, Err(CaseError::NotApplicable(_))),
            "{result:?}"
        );
    }

    #[test]
    fn issued_chains_must_verify_up_to_the_configured_root() {
        use openssl::asn1::Asn1Time;
        use openssl::hash::MessageDigest;
        use openssl::pkey::{PKey, Private};
        use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage};
        use openssl::x509::{X509Builder, X509NameBuilder};

        struct Spec<'a> {
            cn: &'a str,
            issuer: Option<(&'a X509, &'a PKey<Private>)>,
            /// Validity: from `days.0` to `days.1` days from now.
            days: (i64, i64),
            server_only: bool,
        }
        let issue = |spec: Spec| {
            let key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
            let mut name = X509NameBuilder::new().unwrap();
            name.append_entry_by_nid(Nid::COMMONNAME, spec.cn).unwrap();
            let name = name.build();
            let mut b = X509Builder::new().unwrap();
            b.set_version(2).unwrap();
            b.set_subject_name(&name).unwrap();
            b.set_issuer_name(spec.issuer.map_or(&name, |(c, _)| c.subject_name()))
                .unwrap();
            b.set_pubkey(&key).unwrap();
            let at = |days: i64| Asn1Time::from_unix(Utc::now().timestamp() + days * 86_400);
            b.set_not_before(&at(spec.days.0).unwrap()).unwrap();
            b.set_not_after(&at(spec.days.1).unwrap()).unwrap();
            if spec.issuer.is_none() {
                b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
                    .unwrap();
            }
            if spec.server_only {
                b.append_extension(ExtendedKeyUsage::new().server_auth().build().unwrap())
                    .unwrap();
            }
            b.sign(
                spec.issuer.map_or(&key, |(_, k)| k),
                MessageDigest::sha256(),
            )
            .unwrap();
            (b.build(), key)
        };
        let (root, root_key) = issue(Spec {
            cn: "root",
            issuer: None,
            days: (0, 30),
            server_only: false,
        });
        let (other_root, other_key) = issue(Spec {
            cn: "other root",
            issuer: None,
            days: (0, 30),
            server_only: false,
        });
        let leaf = |issuer, days, server_only| {
            issue(Spec {
                cn: "CP001",
                issuer: Some(issuer),
                days,
                server_only,
            })
        };
        let dir = std::env::temp_dir().join(format!("unicharge-sim-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = dir.join("root.pem");
        std::fs::write(&ca, root.to_pem().unwrap()).unwrap();
        let pem = |c: &X509| String::from_utf8(c.to_pem().unwrap()).unwrap();

        let (good, key) = leaf((&root, &root_key), (0, 30), false);
        assert_eq!(check_issued_chain(&pem(&good), &ca, "CP001", &key), Ok(()));
        let message = failure(check_issued_chain(&pem(&good), &ca, "CP002", &key));
        assert!(message.contains("CN"), "{message}");
        let (_, someone_elses_key) = leaf((&root, &root_key), (0, 30), false);
        let message = failure(check_issued_chain(
            &pem(&good),
            &ca,
            "CP001",
            &someone_elses_key,
        ));
        assert!(message.contains("public key of the CSR"), "{message}");
        let (foreign, key) = leaf((&other_root, &other_key), (0, 30), false);
        let message = failure(check_issued_chain(&pem(&foreign), &ca, "CP001", &key));
        assert!(message.contains("does not verify"), "{message}");
        let (expired, key) = leaf((&root, &root_key), (-30, -1), false);
        let message = failure(check_issued_chain(&pem(&expired), &ca, "CP001", &key));
        assert!(message.contains("valid now"), "{message}");
        let (server_only, key) = leaf((&root, &root_key), (0, 30), true);
        let message = failure(check_issued_chain(&pem(&server_only), &ca, "CP001", &key));
        assert!(message.contains("does not verify"), "{message}");
        let message = failure(check_issued_chain("", &ca, "CP001", &key));
        assert!(
            message.contains("empty") || message.contains("PEM"),
            "{message}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
