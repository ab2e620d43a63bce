//! Credit control (RFC 8506 with 3GPP TS 32.299 Ro): the CCR and CCA as typed messages, read
//! once from a [`Message`] and written back to one. No accounts, no rating: the OCF that
//! answers CCRs lives elsewhere (issue 14); this is the codec level both the OCF and the CTF
//! client share.
//!
//! What is typed: the session and request identity (CC-Request-Type / -Number,
//! Requested-Action), subscribers, and Multiple-Services-Credit-Control with its service
//! units (Requested / Granted / Used-Service-Unit with time, volume and service-specific
//! units, Tariff-Time-Change, Tariff-Change-Usage), Rating-Group, Service-Identifier,
//! Validity-Time, a per-MSCC Result-Code, Final-Unit-Indication and G-S-U-Pool-Reference.

pub mod quota;

use crate::avp::{Avp, Time, Value};
use crate::dictionary::{app, cmd};
use crate::error::{result_code, AvpError};
use crate::message::Message;
use crate::rf::SubscriptionId;

/// Diameter Credit-Control application id (RFC 8506 §1.3).
pub const CREDIT_CONTROL_APPLICATION: u32 = app::CREDIT_CONTROL;

/// CC-Request-Type (RFC 8506 §8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CcRequestType {
    Initial = 1,
    Update = 2,
    Termination = 3,
    Event = 4,
}

impl CcRequestType {
    pub fn from_i32(v: i32) -> Option<Self> {
        Some(match v {
            1 => Self::Initial,
            2 => Self::Update,
            3 => Self::Termination,
            4 => Self::Event,
            _ => return None,
        })
    }
}

/// Requested-Action (RFC 8506 §8.41), for EVENT requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestedAction {
    DirectDebiting = 0,
    RefundAccount = 1,
    CheckBalance = 2,
    PriceEnquiry = 3,
}

impl RequestedAction {
    pub fn from_i32(v: i32) -> Option<Self> {
        Some(match v {
            0 => Self::DirectDebiting,
            1 => Self::RefundAccount,
            2 => Self::CheckBalance,
            3 => Self::PriceEnquiry,
            _ => return None,
        })
    }
}

/// CC-Money (RFC 8506 §8.22): Value-Digits × 10^Exponent in the currency of Currency-Code
/// (ISO 4217 numeric; absent: the one the parties agreed on).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CcMoney {
    pub value_digits: i64,
    pub exponent: i32,
    pub currency_code: Option<u32>,
}

impl CcMoney {
    fn to_avp(self) -> Avp {
        let mut value = vec![Avp::named(
            "Value-Digits",
            crate::Value::Integer64(self.value_digits),
        )];
        if self.exponent != 0 {
            value.push(Avp::named(
                "Exponent",
                crate::Value::Integer32(self.exponent),
            ));
        }
        let mut c = vec![Avp::grouped("Unit-Value", value)];
        if let Some(code) = self.currency_code {
            c.push(Avp::u32("Currency-Code", code));
        }
        Avp::grouped("CC-Money", c)
    }

    fn from_avp(a: &Avp) -> Option<CcMoney> {
        let value = a.child("Unit-Value")?;
        Some(CcMoney {
            value_digits: value.child("Value-Digits")?.as_i64()?,
            exponent: value.child("Exponent").and_then(Avp::as_i32).unwrap_or(0),
            currency_code: a.child("Currency-Code").and_then(Avp::as_u32),
        })
    }
}

/// The content of a Requested-, Granted- or Used-Service-Unit (RFC 8506 §8.17–8.19).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceUnit {
    pub cc_time: Option<u32>,
    /// A money quota (RFC 8506 §8.22).
    pub cc_money: Option<CcMoney>,
    pub cc_total_octets: Option<u64>,
    pub cc_input_octets: Option<u64>,
    pub cc_output_octets: Option<u64>,
    pub cc_service_specific_units: Option<u64>,
    /// Granted-Service-Unit: when the tariff changes (RFC 8506 §8.20).
    pub tariff_time_change: Option<Time>,
    /// Used-Service-Unit: before (0), after (1) or across (2) the tariff change (§8.27).
    pub tariff_change_usage: Option<i32>,
}

impl ServiceUnit {
    fn to_avp(&self, name: &str) -> Avp {
        let mut c = vec![];
        if let Some(t) = self.tariff_time_change {
            c.push(Avp::time("Tariff-Time-Change", t));
        }
        if let Some(v) = self.cc_time {
            c.push(Avp::u32("CC-Time", v));
        }
        if let Some(m) = self.cc_money {
            c.push(m.to_avp());
        }
        for (n, v) in [
            ("CC-Total-Octets", self.cc_total_octets),
            ("CC-Input-Octets", self.cc_input_octets),
            ("CC-Output-Octets", self.cc_output_octets),
            ("CC-Service-Specific-Units", self.cc_service_specific_units),
        ] {
            if let Some(v) = v {
                c.push(Avp::u64(n, v));
            }
        }
        if let Some(v) = self.tariff_change_usage {
            c.push(Avp::enumerated("Tariff-Change-Usage", v));
        }
        Avp::grouped(name, c)
    }

    fn from_avp(a: &Avp) -> ServiceUnit {
        let u64_of = |n: &str| a.child(n).and_then(Avp::as_u64);
        ServiceUnit {
            cc_time: a.child("CC-Time").and_then(Avp::as_u32),
            cc_money: a.child("CC-Money").and_then(CcMoney::from_avp),
            cc_total_octets: u64_of("CC-Total-Octets"),
            cc_input_octets: u64_of("CC-Input-Octets"),
            cc_output_octets: u64_of("CC-Output-Octets"),
            cc_service_specific_units: u64_of("CC-Service-Specific-Units"),
            tariff_time_change: a.child("Tariff-Time-Change").and_then(Avp::as_time),
            tariff_change_usage: a.child("Tariff-Change-Usage").and_then(Avp::as_i32),
        }
    }
}

/// Final-Unit-Indication (RFC 8506 §8.34): what to do when the granted units are the last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalUnitIndication {
    /// Final-Unit-Action: 0 TERMINATE, 1 REDIRECT, 2 RESTRICT_ACCESS.
    pub action: i32,
    /// Restriction-Filter-Rule (IPFilterRule text) for RESTRICT_ACCESS.
    pub restriction_filter_rules: Vec<Vec<u8>>,
    /// Redirect-Server (Redirect-Address-Type, Redirect-Server-Address) for REDIRECT.
    pub redirect_server: Option<(i32, String)>,
}

/// G-S-U-Pool-Reference (RFC 8506 §8.30): the credit pool a grant draws from, with the
/// multiplier (Unit-Value = Value-Digits × 10^Exponent) for this rating group's units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GsuPoolReference {
    pub pool_id: u32,
    /// CC-Unit-Type: 0 TIME, 1 MONEY, 2 TOTAL-OCTETS, 3 INPUT-OCTETS, 4 OUTPUT-OCTETS,
    /// 5 SERVICE-SPECIFIC-UNITS.
    pub unit_type: i32,
    pub value_digits: i64,
    pub exponent: Option<i32>,
}

/// One Multiple-Services-Credit-Control (RFC 8506 §8.16).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mscc {
    pub rating_group: Option<u32>,
    pub service_identifiers: Vec<u32>,
    pub requested: Option<ServiceUnit>,
    pub granted: Option<ServiceUnit>,
    pub used: Vec<ServiceUnit>,
    pub gsu_pool_reference: Vec<GsuPoolReference>,
    pub validity_time: Option<u32>,
    pub result_code: Option<u32>,
    pub final_unit_indication: Option<FinalUnitIndication>,
}

impl Mscc {
    /// The MSCC AVP with `extra` children appended (TS 32.299 additions the typed struct does
    /// not carry: Quota-Holding-Time, thresholds, Trigger, Envelope-Reporting, …).
    pub fn to_avp_with(&self, extra: Vec<Avp>) -> Avp {
        let mut a = self.to_avp();
        if let Value::Grouped(children) = &mut a.value {
            children.extend(extra);
        }
        a
    }

    fn to_avp(&self) -> Avp {
        let mut c = vec![];
        if let Some(g) = &self.granted {
            c.push(g.to_avp("Granted-Service-Unit"));
        }
        if let Some(r) = &self.requested {
            c.push(r.to_avp("Requested-Service-Unit"));
        }
        c.extend(self.used.iter().map(|u| u.to_avp("Used-Service-Unit")));
        c.extend(
            self.service_identifiers
                .iter()
                .map(|s| Avp::u32("Service-Identifier", *s)),
        );
        if let Some(r) = self.rating_group {
            c.push(Avp::u32("Rating-Group", r));
        }
        for p in &self.gsu_pool_reference {
            let mut unit = vec![Avp::named("Value-Digits", Value::Integer64(p.value_digits))];
            if let Some(e) = p.exponent {
                unit.push(Avp::named("Exponent", Value::Integer32(e)));
            }
            c.push(Avp::grouped(
                "G-S-U-Pool-Reference",
                vec![
                    Avp::u32("G-S-U-Pool-Identifier", p.pool_id),
                    Avp::enumerated("CC-Unit-Type", p.unit_type),
                    Avp::grouped("Unit-Value", unit),
                ],
            ));
        }
        if let Some(v) = self.validity_time {
            c.push(Avp::u32("Validity-Time", v));
        }
        if let Some(r) = self.result_code {
            c.push(Avp::u32("Result-Code", r));
        }
        if let Some(f) = &self.final_unit_indication {
            let mut fc = vec![Avp::enumerated("Final-Unit-Action", f.action)];
            fc.extend(
                f.restriction_filter_rules
                    .iter()
                    .map(|r| Avp::octets("Restriction-Filter-Rule", r.clone())),
            );
            if let Some((kind, address)) = &f.redirect_server {
                fc.push(Avp::grouped(
                    "Redirect-Server",
                    vec![
                        Avp::enumerated("Redirect-Address-Type", *kind),
                        Avp::utf8("Redirect-Server-Address", address.clone()),
                    ],
                ));
            }
            c.push(Avp::grouped("Final-Unit-Indication", fc));
        }
        Avp::grouped("Multiple-Services-Credit-Control", c)
    }

    fn from_avp(a: &Avp) -> Mscc {
        let named = |n: &'static str| {
            a.children()
                .unwrap_or_default()
                .iter()
                .filter(move |c| c.name() == n)
        };
        Mscc {
            rating_group: a.child("Rating-Group").and_then(Avp::as_u32),
            service_identifiers: named("Service-Identifier")
                .filter_map(Avp::as_u32)
                .collect(),
            requested: a.child("Requested-Service-Unit").map(ServiceUnit::from_avp),
            granted: a.child("Granted-Service-Unit").map(ServiceUnit::from_avp),
            used: named("Used-Service-Unit")
                .map(ServiceUnit::from_avp)
                .collect(),
            gsu_pool_reference: named("G-S-U-Pool-Reference")
                .filter_map(|p| {
                    let unit = p.child("Unit-Value")?;
                    Some(GsuPoolReference {
                        pool_id: p.child("G-S-U-Pool-Identifier")?.as_u32()?,
                        unit_type: p.child("CC-Unit-Type")?.as_i32()?,
                        value_digits: unit.child("Value-Digits")?.as_i64()?,
                        exponent: unit.child("Exponent").and_then(Avp::as_i32),
                    })
                })
                .collect(),
            validity_time: a.child("Validity-Time").and_then(Avp::as_u32),
            result_code: a.child("Result-Code").and_then(Avp::as_u32),
            final_unit_indication: a.child("Final-Unit-Indication").and_then(|f| {
                Some(FinalUnitIndication {
                    action: f.child("Final-Unit-Action")?.as_i32()?,
                    restriction_filter_rules: f
                        .children()
                        .unwrap_or_default()
                        .iter()
                        .filter(|c| c.name() == "Restriction-Filter-Rule")
                        .filter_map(|c| c.as_bytes().map(<[u8]>::to_vec))
                        .collect(),
                    redirect_server: f.child("Redirect-Server").and_then(|r| {
                        Some((
                            r.child("Redirect-Address-Type")?.as_i32()?,
                            r.child("Redirect-Server-Address")?.as_str()?.to_owned(),
                        ))
                    }),
                })
            }),
        }
    }
}

fn subscription_avp(s: &SubscriptionId) -> Avp {
    Avp::grouped(
        "Subscription-Id",
        vec![
            Avp::enumerated("Subscription-Id-Type", s.kind),
            Avp::utf8("Subscription-Id-Data", s.data.clone()),
        ],
    )
}

fn subscriptions(m: &Message) -> Vec<SubscriptionId> {
    m.avps_named("Subscription-Id")
        .filter_map(|s| {
            Some(SubscriptionId {
                kind: s.child("Subscription-Id-Type")?.as_i32()?,
                data: s.child("Subscription-Id-Data")?.as_str()?.to_owned(),
            })
        })
        .collect()
}

/// A Credit-Control-Request (RFC 8506 §3.1, TS 32.299 §6.4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ccr {
    pub session_id: String,
    pub origin_host: String,
    pub origin_realm: String,
    pub destination_realm: String,
    pub service_context_id: String,
    pub request_type: CcRequestType,
    pub request_number: u32,
    pub requested_action: Option<RequestedAction>,
    pub event_timestamp: Option<Time>,
    pub subscription_ids: Vec<SubscriptionId>,
    pub mscc: Vec<Mscc>,
}

impl Ccr {
    /// The request (hop-by-hop and end-to-end 0: the peer layer assigns them).
    pub fn to_message(&self) -> Message {
        let mut m = Message::request(cmd::CREDIT_CONTROL, CREDIT_CONTROL_APPLICATION, 0, 0)
            .with(Avp::utf8("Session-Id", self.session_id.clone()))
            .with(Avp::identity("Origin-Host", self.origin_host.clone()))
            .with(Avp::identity("Origin-Realm", self.origin_realm.clone()))
            .with(Avp::identity(
                "Destination-Realm",
                self.destination_realm.clone(),
            ))
            .with(Avp::u32("Auth-Application-Id", CREDIT_CONTROL_APPLICATION))
            .with(Avp::utf8(
                "Service-Context-Id",
                self.service_context_id.clone(),
            ))
            .with(Avp::enumerated("CC-Request-Type", self.request_type as i32))
            .with(Avp::u32("CC-Request-Number", self.request_number));
        for s in &self.subscription_ids {
            m.push(subscription_avp(s));
        }
        if let Some(a) = self.requested_action {
            m.push(Avp::enumerated("Requested-Action", a as i32));
        }
        if let Some(t) = self.event_timestamp {
            m.push(Avp::time("Event-Timestamp", t));
        }
        if !self.mscc.is_empty() {
            m.push(Avp::enumerated("Multiple-Services-Indicator", 1));
        }
        for x in &self.mscc {
            m.push(x.to_avp());
        }
        m
    }

    /// Reads a CCR that passed [`Message::check_request`]. Errors are the answers RFC 8506
    /// asks for: 5005 for a missing CC-Request-Type / -Number, Service-Context-Id or
    /// Auth-Application-Id, 5004 for a value out of range.
    pub fn parse(m: &Message) -> Result<Ccr, AvpError> {
        // Failed-AVP carries the missing AVP with an empty value (RFC 6733 §7.5).
        let missing = |_name: &str, placeholder: Avp| {
            AvpError::new(
                result_code::DIAMETER_MISSING_AVP,
                Some(placeholder),
                "a mandatory AVP of the CCR is missing (RFC 8506 §3.1)",
            )
        };
        match m.avp("Auth-Application-Id") {
            None => {
                return Err(missing(
                    "Auth-Application-Id",
                    Avp::u32("Auth-Application-Id", 0),
                ))
            }
            Some(a) if a.as_u32() != Some(CREDIT_CONTROL_APPLICATION) => {
                return Err(AvpError::new(
                    result_code::DIAMETER_INVALID_AVP_VALUE,
                    Some(a.clone()),
                    "Auth-Application-Id must be 4 in a CCR",
                ))
            }
            Some(_) => {}
        }
        let rt = m
            .avp("CC-Request-Type")
            .ok_or_else(|| missing("CC-Request-Type", Avp::enumerated("CC-Request-Type", 0)))?;
        let request_type = rt
            .as_i32()
            .and_then(CcRequestType::from_i32)
            .ok_or_else(|| {
                AvpError::new(
                    result_code::DIAMETER_INVALID_AVP_VALUE,
                    Some(rt.clone()),
                    "CC-Request-Type must be 1 (INITIAL) to 4 (EVENT)",
                )
            })?;
        let request_number = m
            .u32("CC-Request-Number")
            .ok_or_else(|| missing("CC-Request-Number", Avp::u32("CC-Request-Number", 0)))?;
        let service_context_id = m
            .str("Service-Context-Id")
            .ok_or_else(|| missing("Service-Context-Id", Avp::utf8("Service-Context-Id", "")))?
            .to_owned();
        let requested_action =
            match m.avp("Requested-Action") {
                None => None,
                Some(a) => Some(a.as_i32().and_then(RequestedAction::from_i32).ok_or_else(
                    || {
                        AvpError::new(
                            result_code::DIAMETER_INVALID_AVP_VALUE,
                            Some(a.clone()),
                            "Requested-Action must be 0 to 3",
                        )
                    },
                )?),
            };
        let text = |name: &str| m.str(name).map(str::to_owned).unwrap_or_default();
        Ok(Ccr {
            session_id: text("Session-Id"),
            origin_host: text("Origin-Host"),
            origin_realm: text("Origin-Realm"),
            destination_realm: text("Destination-Realm"),
            service_context_id,
            request_type,
            request_number,
            requested_action,
            event_timestamp: m.avp("Event-Timestamp").and_then(Avp::as_time),
            subscription_ids: subscriptions(m),
            mscc: m
                .avps_named("Multiple-Services-Credit-Control")
                .map(Mscc::from_avp)
                .collect(),
        })
    }
}

/// A Credit-Control-Answer (RFC 8506 §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cca {
    pub session_id: String,
    pub result_code: u32,
    pub origin_host: String,
    pub origin_realm: String,
    pub request_type: CcRequestType,
    pub request_number: u32,
    /// CC-Session-Failover: 0 NOT_SUPPORTED, 1 SUPPORTED.
    pub cc_session_failover: Option<i32>,
    /// Credit-Control-Failure-Handling: 0 TERMINATE, 1 CONTINUE, 2 RETRY_AND_TERMINATE.
    pub credit_control_failure_handling: Option<i32>,
    pub validity_time: Option<u32>,
    pub mscc: Vec<Mscc>,
}

impl Cca {
    /// The answer to `request` (identifiers copied from it).
    pub fn to_message(&self, request: &Message) -> Message {
        // answer_to copies the request's Session-Id; one Session-Id only (RFC 6733 §8.8).
        let mut m = Message::answer_to(request);
        if m.session_id().is_none() {
            m.push(Avp::utf8("Session-Id", self.session_id.clone()));
        }
        let mut m = m
            .with(Avp::u32("Result-Code", self.result_code))
            .with(Avp::identity("Origin-Host", self.origin_host.clone()))
            .with(Avp::identity("Origin-Realm", self.origin_realm.clone()))
            .with(Avp::u32("Auth-Application-Id", CREDIT_CONTROL_APPLICATION))
            .with(Avp::enumerated("CC-Request-Type", self.request_type as i32))
            .with(Avp::u32("CC-Request-Number", self.request_number));
        if let Some(v) = self.cc_session_failover {
            m.push(Avp::enumerated("CC-Session-Failover", v));
        }
        if let Some(v) = self.credit_control_failure_handling {
            m.push(Avp::enumerated("Credit-Control-Failure-Handling", v));
        }
        if let Some(v) = self.validity_time {
            m.push(Avp::u32("Validity-Time", v));
        }
        for x in &self.mscc {
            m.push(x.to_avp());
        }
        m
    }

    /// Reads a CCA; `None` when Result-Code or CC-Request-Type / -Number is missing.
    pub fn parse(m: &Message) -> Option<Cca> {
        Some(Cca {
            session_id: m.session_id()?.to_owned(),
            result_code: m.result_code()?,
            origin_host: m.origin_host()?.to_owned(),
            origin_realm: m.origin_realm()?.to_owned(),
            request_type: CcRequestType::from_i32(m.i32("CC-Request-Type")?)?,
            request_number: m.u32("CC-Request-Number")?,
            cc_session_failover: m.i32("CC-Session-Failover"),
            credit_control_failure_handling: m.i32("Credit-Control-Failure-Handling"),
            validity_time: m.u32("Validity-Time"),
            mscc: m
                .avps_named("Multiple-Services-Credit-Control")
                .map(Mscc::from_avp)
                .collect(),
        })
    }
}
