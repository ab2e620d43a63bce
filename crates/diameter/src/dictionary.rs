//! The dictionary: AVP codes, names, data types and M-bit rules, and the commands.
//!
//! Sources, in order: RFC 6733 (base), RFC 7155 (NASREQ, the successor of the RFC 4005 the
//! seed cites), RFC 8506 (credit control; it obsoletes RFC 4006 and keeps its AVP names and
//! codes), 3GPP TS 32.299 Rel-10 (vendor 10415) for the AVPs the ETSI TS 103 374-2 TPs use.
//! `tests/vectors.rs` checks every entry against python-diameter's dictionary (an independent
//! implementation), see `tests/vectors/README.md`.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::avp::Value;

/// 3GPP's IANA enterprise number.
pub const VENDOR_3GPP: u32 = 10415;

/// RFC 6733 §4.2/§4.3 data types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvpType {
    OctetString,
    Integer32,
    Integer64,
    Unsigned32,
    Unsigned64,
    Float32,
    Float64,
    Grouped,
    Address,
    Time,
    Utf8String,
    DiameterIdentity,
    DiameterUri,
    Enumerated,
}

impl AvpType {
    /// Whether `value` is a value of this type.
    pub fn accepts(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (AvpType::OctetString, Value::OctetString(_))
                | (AvpType::Integer32, Value::Integer32(_))
                | (AvpType::Integer64, Value::Integer64(_))
                | (AvpType::Unsigned32, Value::Unsigned32(_))
                | (AvpType::Unsigned64, Value::Unsigned64(_))
                | (AvpType::Float32, Value::Float32(_))
                | (AvpType::Float64, Value::Float64(_))
                | (AvpType::Grouped, Value::Grouped(_))
                | (AvpType::Address, Value::Address(_))
                | (AvpType::Time, Value::Time(_))
                | (AvpType::Utf8String, Value::Utf8String(_))
                | (AvpType::DiameterIdentity, Value::DiameterIdentity(_))
                | (AvpType::DiameterUri, Value::DiameterUri(_))
                | (AvpType::Enumerated, Value::Enumerated(_))
        )
    }
}

/// What a definition says about the M bit ("AVP Flag rules" tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagRule {
    Must,
    May,
    MustNot,
}

/// One AVP definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvpDef {
    pub code: u32,
    pub vendor_id: u32,
    pub name: &'static str,
    pub ty: AvpType,
    pub m: FlagRule,
}

use AvpType::*;
use FlagRule::*;

const fn d(code: u32, name: &'static str, ty: AvpType, m: FlagRule) -> AvpDef {
    AvpDef {
        code,
        vendor_id: 0,
        name,
        ty,
        m,
    }
}
const fn v(code: u32, name: &'static str, ty: AvpType) -> AvpDef {
    // TS 32.299 Table 7.2: these 3GPP AVPs carry V and M.
    AvpDef {
        code,
        vendor_id: VENDOR_3GPP,
        name,
        ty,
        m: Must,
    }
}
const fn vm(code: u32, name: &'static str, ty: AvpType) -> AvpDef {
    // 3GPP AVPs added from Rel-8 on (Envelope, Time-Quota-Mechanism, ...): V must, M may;
    // we send them without M so that an older peer may ignore them.
    AvpDef {
        code,
        vendor_id: VENDOR_3GPP,
        name,
        ty,
        m: May,
    }
}

/// Every AVP this node understands, sorted by (vendor, code) for binary search.
pub static AVPS: &[AvpDef] = &[
    // RFC 6733 base, RFC 7155 NASREQ
    d(1, "User-Name", Utf8String, Must),
    d(11, "Filter-Id", Utf8String, Must),
    d(25, "Class", OctetString, Must),
    d(27, "Session-Timeout", Unsigned32, Must),
    d(33, "Proxy-State", OctetString, Must),
    d(44, "Acct-Session-Id", OctetString, Must),
    d(50, "Acct-Multi-Session-Id", Utf8String, Must),
    d(55, "Event-Timestamp", Time, Must),
    d(85, "Acct-Interim-Interval", Unsigned32, Must),
    d(257, "Host-IP-Address", Address, Must),
    d(258, "Auth-Application-Id", Unsigned32, Must),
    d(259, "Acct-Application-Id", Unsigned32, Must),
    d(260, "Vendor-Specific-Application-Id", Grouped, Must),
    d(261, "Redirect-Host-Usage", Enumerated, Must),
    d(262, "Redirect-Max-Cache-Time", Unsigned32, Must),
    d(263, "Session-Id", Utf8String, Must),
    d(264, "Origin-Host", DiameterIdentity, Must),
    d(265, "Supported-Vendor-Id", Unsigned32, Must),
    d(266, "Vendor-Id", Unsigned32, Must),
    d(267, "Firmware-Revision", Unsigned32, MustNot),
    d(268, "Result-Code", Unsigned32, Must),
    d(269, "Product-Name", Utf8String, MustNot),
    d(270, "Session-Binding", Unsigned32, Must),
    d(271, "Session-Server-Failover", Enumerated, Must),
    d(272, "Multi-Round-Time-Out", Unsigned32, Must),
    d(273, "Disconnect-Cause", Enumerated, Must),
    d(274, "Auth-Request-Type", Enumerated, Must),
    d(276, "Auth-Grace-Period", Unsigned32, Must),
    d(277, "Auth-Session-State", Enumerated, Must),
    d(278, "Origin-State-Id", Unsigned32, Must),
    d(279, "Failed-AVP", Grouped, Must),
    d(280, "Proxy-Host", DiameterIdentity, Must),
    d(281, "Error-Message", Utf8String, MustNot),
    d(282, "Route-Record", DiameterIdentity, Must),
    d(283, "Destination-Realm", DiameterIdentity, Must),
    d(284, "Proxy-Info", Grouped, Must),
    d(285, "Re-Auth-Request-Type", Enumerated, Must),
    d(287, "Accounting-Sub-Session-Id", Unsigned64, Must),
    d(291, "Authorization-Lifetime", Unsigned32, Must),
    d(292, "Redirect-Host", DiameterUri, Must),
    d(293, "Destination-Host", DiameterIdentity, Must),
    d(294, "Error-Reporting-Host", DiameterIdentity, MustNot),
    d(295, "Termination-Cause", Enumerated, Must),
    d(296, "Origin-Realm", DiameterIdentity, Must),
    d(297, "Experimental-Result", Grouped, Must),
    d(298, "Experimental-Result-Code", Unsigned32, Must),
    d(299, "Inband-Security-Id", Unsigned32, Must),
    // RFC 8506 credit control
    d(411, "CC-Correlation-Id", OctetString, May),
    d(412, "CC-Input-Octets", Unsigned64, Must),
    d(413, "CC-Money", Grouped, Must),
    d(414, "CC-Output-Octets", Unsigned64, Must),
    d(415, "CC-Request-Number", Unsigned32, Must),
    d(416, "CC-Request-Type", Enumerated, Must),
    d(417, "CC-Service-Specific-Units", Unsigned64, Must),
    d(418, "CC-Session-Failover", Enumerated, Must),
    d(419, "CC-Sub-Session-Id", Unsigned64, Must),
    d(420, "CC-Time", Unsigned32, Must),
    d(421, "CC-Total-Octets", Unsigned64, Must),
    d(422, "Check-Balance-Result", Enumerated, Must),
    d(423, "Cost-Information", Grouped, Must),
    d(424, "Cost-Unit", Utf8String, Must),
    d(425, "Currency-Code", Unsigned32, Must),
    d(426, "Credit-Control", Enumerated, Must),
    d(427, "Credit-Control-Failure-Handling", Enumerated, Must),
    d(428, "Direct-Debiting-Failure-Handling", Enumerated, Must),
    d(429, "Exponent", Integer32, Must),
    d(430, "Final-Unit-Indication", Grouped, Must),
    d(431, "Granted-Service-Unit", Grouped, Must),
    d(432, "Rating-Group", Unsigned32, Must),
    d(433, "Redirect-Address-Type", Enumerated, Must),
    d(434, "Redirect-Server", Grouped, Must),
    d(435, "Redirect-Server-Address", Utf8String, Must),
    d(436, "Requested-Action", Enumerated, Must),
    d(437, "Requested-Service-Unit", Grouped, Must),
    // IPFilterRule is derived from OctetString (RFC 6733 §4.3.1).
    d(438, "Restriction-Filter-Rule", OctetString, Must),
    d(439, "Service-Identifier", Unsigned32, Must),
    d(440, "Service-Parameter-Info", Grouped, May),
    d(441, "Service-Parameter-Type", Unsigned32, May),
    d(442, "Service-Parameter-Value", OctetString, May),
    d(443, "Subscription-Id", Grouped, Must),
    d(444, "Subscription-Id-Data", Utf8String, Must),
    d(445, "Unit-Value", Grouped, Must),
    d(446, "Used-Service-Unit", Grouped, Must),
    d(447, "Value-Digits", Integer64, Must),
    d(448, "Validity-Time", Unsigned32, Must),
    d(449, "Final-Unit-Action", Enumerated, Must),
    d(450, "Subscription-Id-Type", Enumerated, Must),
    d(451, "Tariff-Time-Change", Time, Must),
    d(452, "Tariff-Change-Usage", Enumerated, Must),
    d(453, "G-S-U-Pool-Identifier", Unsigned32, Must),
    d(454, "CC-Unit-Type", Enumerated, Must),
    d(455, "Multiple-Services-Indicator", Enumerated, Must),
    d(456, "Multiple-Services-Credit-Control", Grouped, Must),
    d(457, "G-S-U-Pool-Reference", Grouped, Must),
    d(458, "User-Equipment-Info", Grouped, May),
    d(459, "User-Equipment-Info-Type", Enumerated, May),
    d(460, "User-Equipment-Info-Value", OctetString, May),
    d(461, "Service-Context-Id", Utf8String, Must),
    // RFC 6733 accounting
    d(480, "Accounting-Record-Type", Enumerated, Must),
    d(483, "Accounting-Realtime-Required", Enumerated, Must),
    d(485, "Accounting-Record-Number", Unsigned32, Must),
    // 3GPP TS 32.299 Rel-10 (vendor 10415)
    v(823, "Event-Type", Grouped),
    v(824, "SIP-Method", Utf8String),
    v(825, "Event", Utf8String),
    v(829, "Role-Of-Node", Enumerated),
    v(830, "User-Session-Id", Utf8String),
    v(831, "Calling-Party-Address", Utf8String),
    v(832, "Called-Party-Address", Utf8String),
    v(833, "Time-Stamps", Grouped),
    v(834, "SIP-Request-Timestamp", Time),
    v(835, "SIP-Response-Timestamp", Time),
    v(841, "IMS-Charging-Identifier", Utf8String),
    v(862, "Node-Functionality", Enumerated),
    v(868, "Time-Quota-Threshold", Unsigned32),
    v(869, "Volume-Quota-Threshold", Unsigned32),
    v(870, "Trigger-Type", Enumerated),
    v(871, "Quota-Holding-Time", Unsigned32),
    v(872, "Reporting-Reason", Enumerated),
    v(873, "Service-Information", Grouped),
    v(874, "PS-Information", Grouped),
    v(876, "IMS-Information", Grouped),
    v(881, "Quota-Consumption-Time", Unsigned32),
    vm(1226, "Unit-Quota-Threshold", Unsigned32),
    vm(1256, "Service-Generic-Information", Grouped),
    vm(1264, "Trigger", Grouped),
    vm(1265, "Base-Time-Interval", Unsigned32),
    vm(1266, "Envelope", Grouped),
    vm(1267, "Envelope-End-Time", Time),
    vm(1268, "Envelope-Reporting", Enumerated),
    vm(1269, "Envelope-Start-Time", Time),
    vm(1270, "Time-Quota-Mechanism", Grouped),
    vm(1271, "Time-Quota-Type", Enumerated),
    vm(1278, "Offline-Charging", Grouped),
    vm(2021, "Remaining-Balance", Grouped),
    vm(2022, "Refund-Information", OctetString),
];

/// The definition of (code, vendor), if this node knows it.
pub fn lookup(code: u32, vendor_id: u32) -> Option<&'static AvpDef> {
    AVPS.binary_search_by(|d| (d.vendor_id, d.code).cmp(&(vendor_id, code)))
        .ok()
        .map(|i| &AVPS[i])
}

/// The definition with this name.
pub fn by_name(name: &str) -> Option<&'static AvpDef> {
    static BY_NAME: OnceLock<HashMap<&'static str, &'static AvpDef>> = OnceLock::new();
    BY_NAME
        .get_or_init(|| AVPS.iter().map(|d| (d.name, d)).collect())
        .get(name)
        .copied()
}

/// Application ids (IANA "Application IDs").
pub mod app {
    /// Common messages: CER/CEA, DWR/DWA, DPR/DPA.
    pub const COMMON: u32 = 0;
    /// Diameter base accounting: Rf offline charging runs on it (TS 32.299 §6.1).
    pub const BASE_ACCOUNTING: u32 = 3;
    /// Diameter credit control: Ro online charging (TS 32.299 §6.3).
    pub const CREDIT_CONTROL: u32 = 4;
    /// Relay (RFC 6733 §2.4), advertised by agents that relay every application.
    pub const RELAY: u32 = 0xffff_ffff;
}

/// Command codes.
pub mod cmd {
    pub const CAPABILITIES_EXCHANGE: u32 = 257;
    pub const RE_AUTH: u32 = 258;
    pub const ACCOUNTING: u32 = 271;
    pub const CREDIT_CONTROL: u32 = 272;
    pub const ABORT_SESSION: u32 = 274;
    pub const SESSION_TERMINATION: u32 = 275;
    pub const DEVICE_WATCHDOG: u32 = 280;
    pub const DISCONNECT_PEER: u32 = 282;
}

/// One command as its CCF (Command Code Format) describes it: whether P may be set, and the
/// fixed/required AVPs of its request and answer.
#[derive(Debug, Clone, Copy)]
pub struct CommandDef {
    pub code: u32,
    pub request_name: &'static str,
    pub answer_name: &'static str,
    /// The CCF header has `PXY`: the P bit is allowed (for CER/DWR/DPR it must be clear).
    pub proxiable: bool,
    /// AVPs that must appear exactly once in the request.
    pub request_required: &'static [&'static str],
    /// AVPs that must appear exactly once in the answer (when the E bit is clear).
    pub answer_required: &'static [&'static str],
}

pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        code: cmd::CAPABILITIES_EXCHANGE,
        request_name: "Capabilities-Exchange-Request",
        answer_name: "Capabilities-Exchange-Answer",
        proxiable: false,
        request_required: &["Origin-Host", "Origin-Realm", "Vendor-Id", "Product-Name"],
        answer_required: &[
            "Result-Code",
            "Origin-Host",
            "Origin-Realm",
            "Vendor-Id",
            "Product-Name",
        ],
    },
    CommandDef {
        code: cmd::DEVICE_WATCHDOG,
        request_name: "Device-Watchdog-Request",
        answer_name: "Device-Watchdog-Answer",
        proxiable: false,
        request_required: &["Origin-Host", "Origin-Realm"],
        answer_required: &["Result-Code", "Origin-Host", "Origin-Realm"],
    },
    CommandDef {
        code: cmd::DISCONNECT_PEER,
        request_name: "Disconnect-Peer-Request",
        answer_name: "Disconnect-Peer-Answer",
        proxiable: false,
        request_required: &["Origin-Host", "Origin-Realm", "Disconnect-Cause"],
        answer_required: &["Result-Code", "Origin-Host", "Origin-Realm"],
    },
    CommandDef {
        code: cmd::ACCOUNTING,
        request_name: "Accounting-Request",
        answer_name: "Accounting-Answer",
        proxiable: true,
        request_required: &[
            "Session-Id",
            "Origin-Host",
            "Origin-Realm",
            "Destination-Realm",
            "Accounting-Record-Type",
            "Accounting-Record-Number",
        ],
        answer_required: &[
            "Session-Id",
            "Result-Code",
            "Origin-Host",
            "Origin-Realm",
            "Accounting-Record-Type",
            "Accounting-Record-Number",
        ],
    },
    CommandDef {
        code: cmd::CREDIT_CONTROL,
        request_name: "Credit-Control-Request",
        answer_name: "Credit-Control-Answer",
        proxiable: true,
        request_required: &[
            "Session-Id",
            "Origin-Host",
            "Origin-Realm",
            "Destination-Realm",
            "Auth-Application-Id",
            "CC-Request-Type",
            "CC-Request-Number",
        ],
        answer_required: &[
            "Session-Id",
            "Result-Code",
            "Origin-Host",
            "Origin-Realm",
            "Auth-Application-Id",
            "CC-Request-Type",
            "CC-Request-Number",
        ],
    },
    CommandDef {
        code: cmd::ABORT_SESSION,
        request_name: "Abort-Session-Request",
        answer_name: "Abort-Session-Answer",
        proxiable: true,
        request_required: &[
            "Session-Id",
            "Origin-Host",
            "Origin-Realm",
            "Destination-Realm",
            "Destination-Host",
            "Auth-Application-Id",
        ],
        answer_required: &["Session-Id", "Result-Code", "Origin-Host", "Origin-Realm"],
    },
    CommandDef {
        code: cmd::RE_AUTH,
        request_name: "Re-Auth-Request",
        answer_name: "Re-Auth-Answer",
        proxiable: true,
        request_required: &[
            "Session-Id",
            "Origin-Host",
            "Origin-Realm",
            "Destination-Realm",
            "Destination-Host",
            "Auth-Application-Id",
            "Re-Auth-Request-Type",
        ],
        answer_required: &["Session-Id", "Result-Code", "Origin-Host", "Origin-Realm"],
    },
    CommandDef {
        code: cmd::SESSION_TERMINATION,
        request_name: "Session-Termination-Request",
        answer_name: "Session-Termination-Answer",
        proxiable: true,
        request_required: &[
            "Session-Id",
            "Origin-Host",
            "Origin-Realm",
            "Destination-Realm",
            "Auth-Application-Id",
            "Termination-Cause",
        ],
        answer_required: &["Session-Id", "Result-Code", "Origin-Host", "Origin-Realm"],
    },
];

/// The definition of a command code.
pub fn command(code: u32) -> Option<&'static CommandDef> {
    COMMANDS.iter().find(|c| c.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avps_sorted_and_unique() {
        for w in AVPS.windows(2) {
            assert!(
                (w[0].vendor_id, w[0].code) < (w[1].vendor_id, w[1].code),
                "{} / {} out of order",
                w[0].name,
                w[1].name
            );
        }
        assert_eq!(by_name("Session-Id").map(|d| d.code), Some(263));
        assert_eq!(
            lookup(862, VENDOR_3GPP).map(|d| d.name),
            Some("Node-Functionality")
        );
        assert_eq!(lookup(862, 0), None);
    }
}
