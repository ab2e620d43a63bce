//! Rf offline charging (3GPP TS 32.299 §6.1 on Diameter base accounting, RFC 6733 §9): the
//! ACR as typed data ([`Acr`]), the CDF ([`cdf`]) and the CTF client ([`ctf`]).

pub mod cdf;
pub mod ctf;

use crate::avp::{Avp, Time};
use crate::error::{result_code, AvpError};
use crate::message::Message;

/// Accounting-Record-Type (RFC 6733 §9.8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    Event = 1,
    Start = 2,
    Interim = 3,
    Stop = 4,
}

impl RecordType {
    pub fn from_i32(v: i32) -> Option<RecordType> {
        Some(match v {
            1 => RecordType::Event,
            2 => RecordType::Start,
            3 => RecordType::Interim,
            4 => RecordType::Stop,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            RecordType::Event => "EVENT_RECORD",
            RecordType::Start => "START_RECORD",
            RecordType::Interim => "INTERIM_RECORD",
            RecordType::Stop => "STOP_RECORD",
        }
    }
}

/// Subscription-Id (RFC 8506 §8.46): type (0 END_USER_E164, 1 IMSI, 2 SIP_URI, 3 NAI,
/// 4 PRIVATE) and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionId {
    pub kind: i32,
    pub data: String,
}

impl SubscriptionId {
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            0 => "END_USER_E164",
            1 => "END_USER_IMSI",
            2 => "END_USER_SIP_URI",
            3 => "END_USER_NAI",
            4 => "END_USER_PRIVATE",
            _ => "UNKNOWN",
        }
    }
}

/// What the CDF needs of an Accounting-Request, read once and typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Acr {
    pub session_id: String,
    pub origin_host: String,
    pub origin_realm: String,
    pub record_type: RecordType,
    pub record_number: u32,
    pub event_timestamp: Option<Time>,
    pub service_context_id: Option<String>,
    /// Subscription-Id at the top level or inside Service-Information (TS 32.299 puts it in
    /// Service-Information; the TPs write both).
    pub subscription_ids: Vec<SubscriptionId>,
    /// IMS-Information / Node-Functionality (TS 32.299 §7.2.124), e.g. 3 = MRFC.
    pub node_functionality: Option<i32>,
    pub user_name: Option<String>,
    /// Requested Acct-Interim-Interval, if the CTF sent one.
    pub acct_interim_interval: Option<u32>,
}

impl Acr {
    /// Reads an ACR that passed [`Message::check_request`]. Errors are the answers RFC 6733
    /// asks for: 5005 for a missing Acct-Application-Id (TS 32.299 makes it mandatory), 5004
    /// for an Accounting-Record-Type outside 1..=4 or an Acct-Application-Id other than 3.
    pub fn parse(m: &Message) -> Result<Acr, AvpError> {
        let text = |name: &str| m.str(name).map(str::to_owned).unwrap_or_default();
        let rt_avp = m.avp("Accounting-Record-Type");
        let record_type = rt_avp
            .and_then(Avp::as_i32)
            .and_then(RecordType::from_i32)
            .ok_or_else(|| {
                AvpError::new(
                    result_code::DIAMETER_INVALID_AVP_VALUE,
                    rt_avp.cloned(),
                    "Accounting-Record-Type must be 1 (EVENT) to 4 (STOP)",
                )
            })?;
        match m.avp("Acct-Application-Id") {
            None => {
                return Err(AvpError::new(
                    result_code::DIAMETER_MISSING_AVP,
                    Some(Avp::u32("Acct-Application-Id", 0)),
                    "Acct-Application-Id is mandatory in an Rf ACR (TS 32.299 §6.2.2)",
                ))
            }
            Some(a) if a.as_u32() != Some(crate::app::BASE_ACCOUNTING) => {
                return Err(AvpError::new(
                    result_code::DIAMETER_INVALID_AVP_VALUE,
                    Some(a.clone()),
                    "Acct-Application-Id must be 3 on Rf",
                ))
            }
            Some(_) => {}
        }
        let si = m.avp("Service-Information");
        let mut subscription_ids: Vec<SubscriptionId> = m
            .avps_named("Subscription-Id")
            .chain(
                si.and_then(|s| s.children())
                    .into_iter()
                    .flatten()
                    .filter(|a| a.name() == "Subscription-Id"),
            )
            .filter_map(|s| {
                Some(SubscriptionId {
                    kind: s
                        .child("Subscription-Id-Type")
                        .and_then(Avp::as_i32)
                        .unwrap_or(0),
                    data: s.child("Subscription-Id-Data")?.as_str()?.to_owned(),
                })
            })
            .collect();
        subscription_ids.dedup();
        Ok(Acr {
            session_id: text("Session-Id"),
            origin_host: text("Origin-Host"),
            origin_realm: text("Origin-Realm"),
            record_type,
            record_number: m.u32("Accounting-Record-Number").unwrap_or(0),
            event_timestamp: m.avp("Event-Timestamp").and_then(Avp::as_time),
            service_context_id: m.str("Service-Context-Id").map(str::to_owned),
            subscription_ids,
            node_functionality: si
                .and_then(|s| s.child("IMS-Information"))
                .and_then(|i| i.child("Node-Functionality"))
                .and_then(Avp::as_i32),
            user_name: m.str("User-Name").map(str::to_owned),
            acct_interim_interval: m.u32("Acct-Interim-Interval"),
        })
    }
}
