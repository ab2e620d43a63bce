//! Typical messages for tests, benches and the fuzz corpus (not used by the stack itself).

use crate::{app, cmd, Avp, Message, Time, Value, VENDOR_3GPP};

/// A typical Rf ACR as an IMS node sends it: the mandatory AVPs, Event-Timestamp, and
/// Service-Information with a Subscription-Id and IMS-Information.
pub fn typical_acr(record_type: i32, record_number: u32) -> Message {
    let _ = VENDOR_3GPP;
    Message::request(
        cmd::ACCOUNTING,
        app::BASE_ACCOUNTING,
        0x1234_5678,
        0x9abc_def0,
    )
    .with(Avp::utf8("Session-Id", "ctf.example.net;1733486400;42"))
    .with(Avp::identity("Origin-Host", "ctf.example.net"))
    .with(Avp::identity("Origin-Realm", "example.net"))
    .with(Avp::identity("Destination-Realm", "operator.net"))
    .with(Avp::enumerated("Accounting-Record-Type", record_type))
    .with(Avp::u32("Accounting-Record-Number", record_number))
    .with(Avp::u32("Acct-Application-Id", app::BASE_ACCOUNTING))
    .with(Avp::utf8("Service-Context-Id", "32260@3gpp.org"))
    .with(Avp::time("Event-Timestamp", Time(3_942_475_200)))
    .with(Avp::grouped(
        "Service-Information",
        vec![
            Avp::grouped(
                "Subscription-Id",
                vec![
                    Avp::enumerated("Subscription-Id-Type", 0),
                    Avp::utf8("Subscription-Id-Data", "491701234567"),
                ],
            ),
            Avp::grouped(
                "IMS-Information",
                vec![
                    Avp::enumerated("Node-Functionality", 3),
                    Avp::enumerated("Role-Of-Node", 0),
                    Avp::utf8("User-Session-Id", "a84b4c76e66710@pc33.atlanta.example.com"),
                    Avp::utf8("Calling-Party-Address", "sip:alice@example.net"),
                    Avp::utf8("Called-Party-Address", "sip:bob@operator.net"),
                    Avp::utf8("IMS-Charging-Identifier", "icid-0001"),
                ],
            ),
        ],
    ))
}

/// A line-per-AVP dump in the format of `tests/vectors/python_diameter_check.py`, so that our
/// decoding can be compared with python-diameter's line by line. DiameterIdentity and
/// DiameterURI print as octets because python-diameter types them as OctetString.
pub fn dump(m: &Message) -> String {
    use std::fmt::Write;
    let h = &m.header;
    let mut s = format!(
        "cmd={} app={} flags=0x{:02x} hbh={} e2e={}\n",
        h.command_code, h.application_id, h.flags.0, h.hop_by_hop, h.end_to_end
    );
    fn avp(s: &mut String, a: &Avp, indent: usize) {
        let pad = "  ".repeat(indent);
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let _ = write!(
            s,
            "{pad}{}:{} flags=0x{:02x}",
            a.code,
            a.vendor(),
            a.flags.0
        );
        match &a.value {
            Value::Grouped(children) => {
                s.push_str(" grouped\n");
                for c in children {
                    avp(s, c, indent + 1);
                }
                return;
            }
            Value::Integer32(v) | Value::Enumerated(v) => {
                let _ = write!(s, " int {v}");
            }
            Value::Integer64(v) => {
                let _ = write!(s, " int {v}");
            }
            Value::Unsigned32(v) => {
                let _ = write!(s, " int {v}");
            }
            Value::Unsigned64(v) => {
                let _ = write!(s, " int {v}");
            }
            Value::Float32(v) => {
                let _ = write!(s, " float {v:?}");
            }
            Value::Float64(v) => {
                let _ = write!(s, " float {v:?}");
            }
            Value::Time(t) => {
                let _ = write!(s, " time {}", t.0);
            }
            Value::Address(ad) => match ad.ip() {
                Some(ip) => {
                    let _ = write!(s, " address {} {ip}", ad.family);
                }
                None => {
                    let _ = write!(s, " address {} {}", ad.family, hex(&ad.octets));
                }
            },
            Value::Utf8String(t) => {
                let _ = write!(s, " text {t}");
            }
            Value::DiameterIdentity(t) | Value::DiameterUri(t) => {
                let _ = write!(s, " octets {}", hex(t.as_bytes()));
            }
            Value::OctetString(b) | Value::Unknown(b) => {
                let _ = write!(s, " octets {}", hex(b));
            }
        }
        s.push('\n');
    }
    for a in &m.avps {
        avp(&mut s, a, 1);
    }
    s
}

/// The dictionary as a TSV (code, vendor, name, type, M rule), the input of the python check.
pub fn dictionary_tsv() -> String {
    let mut s = String::from("code\tvendor\tname\ttype\tm\n");
    for d in crate::dictionary::AVPS {
        s.push_str(&format!(
            "{}\t{}\t{}\t{:?}\t{:?}\n",
            d.code, d.vendor_id, d.name, d.ty, d.m
        ));
    }
    s
}

/// The messages whose encodings are committed under `tests/vectors/` (name, message).
pub fn vector_messages() -> Vec<(&'static str, Message)> {
    use crate::{result_code, Address};
    let mut event = typical_acr(1, 0);
    event.header.hop_by_hop = 1;
    let mut start = typical_acr(2, 0);
    start.header.hop_by_hop = 2;
    let interim = typical_acr(3, 1);
    let mut stop = typical_acr(4, 2);
    stop.header.flags = stop
        .header
        .flags
        .with(crate::CommandFlags::RETRANSMIT, true);
    let mut aca = Message::answer_to(&interim);
    aca.push(Avp::u32("Result-Code", result_code::DIAMETER_SUCCESS))
        .push(Avp::identity("Origin-Host", "cdf.operator.net"))
        .push(Avp::identity("Origin-Realm", "operator.net"))
        .push(Avp::enumerated("Accounting-Record-Type", 3))
        .push(Avp::u32("Accounting-Record-Number", 1))
        .push(Avp::u32("Acct-Application-Id", app::BASE_ACCOUNTING))
        .push(Avp::u32("Acct-Interim-Interval", 300));
    let cer = Message::request(cmd::CAPABILITIES_EXCHANGE, app::COMMON, 0x10, 0x20)
        .with(Avp::identity("Origin-Host", "ctf.example.net"))
        .with(Avp::identity("Origin-Realm", "example.net"))
        .with(Avp::address(
            "Host-IP-Address",
            Address::from(std::net::IpAddr::from([192, 0, 2, 1])),
        ))
        .with(Avp::u32("Vendor-Id", 0))
        .with(Avp::utf8("Product-Name", "unicharge"))
        .with(Avp::u32("Supported-Vendor-Id", VENDOR_3GPP))
        .with(Avp::u32("Acct-Application-Id", app::BASE_ACCOUNTING))
        .with(Avp::u32("Firmware-Revision", 1));
    let dwr = Message::request(cmd::DEVICE_WATCHDOG, app::COMMON, 0x11, 0x21)
        .with(Avp::identity("Origin-Host", "ctf.example.net"))
        .with(Avp::identity("Origin-Realm", "example.net"));
    let asr = Message::request(cmd::ABORT_SESSION, app::BASE_ACCOUNTING, 0x12, 0x22)
        .with(Avp::utf8("Session-Id", "ctf.example.net;1733486400;42"))
        .with(Avp::identity("Origin-Host", "cdf.operator.net"))
        .with(Avp::identity("Origin-Realm", "operator.net"))
        .with(Avp::identity("Destination-Realm", "example.net"))
        .with(Avp::identity("Destination-Host", "ctf.example.net"))
        .with(Avp::u32("Auth-Application-Id", app::BASE_ACCOUNTING));
    let ccr = Message::request(cmd::CREDIT_CONTROL, app::CREDIT_CONTROL, 0x13, 0x23)
        .with(Avp::utf8("Session-Id", "ctf.example.net;1733486400;43"))
        .with(Avp::identity("Origin-Host", "ctf.example.net"))
        .with(Avp::identity("Origin-Realm", "example.net"))
        .with(Avp::identity("Destination-Realm", "operator.net"))
        .with(Avp::u32("Auth-Application-Id", app::CREDIT_CONTROL))
        .with(Avp::utf8("Service-Context-Id", "32260@3gpp.org"))
        .with(Avp::enumerated("CC-Request-Type", 2))
        .with(Avp::u32("CC-Request-Number", 1))
        .with(Avp::grouped(
            "Multiple-Services-Credit-Control",
            vec![
                Avp::grouped(
                    "Used-Service-Unit",
                    vec![
                        Avp::u32("CC-Time", 60),
                        Avp::u64("CC-Total-Octets", 1 << 33),
                        Avp::enumerated("Tariff-Change-Usage", 0),
                    ],
                ),
                Avp::u32("Service-Identifier", 1),
                Avp::enumerated("Reporting-Reason", 3),
                Avp::grouped(
                    "Envelope",
                    vec![
                        Avp::time("Envelope-Start-Time", Time(3_942_475_200)),
                        Avp::time("Envelope-End-Time", Time(3_942_475_260)),
                    ],
                ),
            ],
        ))
        .with(Avp::grouped(
            "Cost-Information",
            vec![
                Avp::grouped(
                    "Unit-Value",
                    vec![
                        Avp::named("Value-Digits", crate::Value::Integer64(-1234)),
                        Avp::named("Exponent", crate::Value::Integer32(-2)),
                    ],
                ),
                Avp::u32("Currency-Code", 978),
            ],
        ));
    vec![
        ("acr_event", event),
        ("acr_start", start),
        ("acr_interim", interim),
        ("acr_stop_retransmitted", stop),
        ("aca_interim", aca),
        ("cer", cer),
        ("dwr", dwr),
        ("asr", asr),
        ("ccr_update", ccr),
    ]
}
