//! Our encoder checked by an independent decoder: Wireshark's Diameter dissector, through
//! `tshark`. Every test vector (Rf, Ro, base) and a Ro CCR / CCA carrying the credit-control
//! AVPs that matter most (MSCC, Tariff-Time-Change, Tariff-Change-Usage, Final-Unit-Indication,
//! G-S-U-Pool-Reference, Cost-Information) is written into a pcap as one TCP segment to port
//! 3868; tshark must read the same header, the same AVP tree (code, flags, vendor, length, in
//! order) and the same value for every AVP its dictionary names, with no malformed packet and
//! no error-level expert info.
//!
//! Without tshark the test says so and passes; CI sets `UNICHARGE_REQUIRE_TSHARK=1` (after
//! `apt-get install tshark`) so that there it must run.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::process::Command;

use unicharge_diameter::{app, cmd, testing, Avp, Message, Time, Value};

/// Wireshark's severity of an error-level expert item (PI_ERROR).
const PI_ERROR: u32 = 0x0080_0000;
/// Separates repeated occurrences of a field in `-T fields` output; no vector contains it.
const AGG: char = '^';

fn tshark() -> Option<PathBuf> {
    let path = std::env::var_os("UNICHARGE_TSHARK").map_or_else(|| "tshark".into(), PathBuf::from);
    let found = Command::new(&path)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(path);
    }
    assert!(
        std::env::var_os("UNICHARGE_REQUIRE_TSHARK").is_none(),
        "UNICHARGE_REQUIRE_TSHARK is set but `tshark` does not run: apt-get install tshark \
         (or point UNICHARGE_TSHARK at it)"
    );
    eprintln!("tshark not found: the Wireshark cross-check is skipped (apt-get install tshark)");
    None
}

/// A Ro CCR-Update reporting usage split at a tariff switch, and a CCA granting with a pool,
/// a tariff switch, a final unit indication with redirect, and a cost.
fn credit_control_messages() -> Vec<(&'static str, Message)> {
    let ccr = Message::request(cmd::CREDIT_CONTROL, app::CREDIT_CONTROL, 0x51, 0x5152_5354)
        .with(Avp::utf8("Session-Id", "ctf.example.net;1733486400;77"))
        .with(Avp::identity("Origin-Host", "ctf.example.net"))
        .with(Avp::identity("Origin-Realm", "example.net"))
        .with(Avp::identity("Destination-Realm", "operator.net"))
        .with(Avp::u32("Auth-Application-Id", app::CREDIT_CONTROL))
        .with(Avp::utf8("Service-Context-Id", "32260@3gpp.org"))
        .with(Avp::enumerated("CC-Request-Type", 2))
        .with(Avp::u32("CC-Request-Number", 3))
        .with(Avp::grouped(
            "Subscription-Id",
            vec![
                Avp::enumerated("Subscription-Id-Type", 0),
                Avp::utf8("Subscription-Id-Data", "491701234567"),
            ],
        ))
        .with(Avp::enumerated("Multiple-Services-Indicator", 1))
        .with(Avp::grouped(
            "Multiple-Services-Credit-Control",
            vec![
                Avp::grouped(
                    "Used-Service-Unit",
                    vec![
                        Avp::enumerated("Tariff-Change-Usage", 0),
                        Avp::u32("CC-Time", 40),
                    ],
                ),
                Avp::grouped(
                    "Used-Service-Unit",
                    vec![
                        Avp::enumerated("Tariff-Change-Usage", 1),
                        Avp::u32("CC-Time", 20),
                    ],
                ),
                Avp::grouped("Requested-Service-Unit", vec![Avp::u32("CC-Time", 60)]),
                Avp::u32("Rating-Group", 10),
                Avp::u32("Service-Identifier", 1000),
            ],
        ));
    let cca = Message::answer_to(&ccr)
        .with(Avp::u32("Result-Code", 2001))
        .with(Avp::identity("Origin-Host", "ocf.operator.net"))
        .with(Avp::identity("Origin-Realm", "operator.net"))
        .with(Avp::u32("Auth-Application-Id", app::CREDIT_CONTROL))
        .with(Avp::enumerated("CC-Request-Type", 2))
        .with(Avp::u32("CC-Request-Number", 3))
        .with(Avp::enumerated("CC-Session-Failover", 1))
        .with(Avp::enumerated("Credit-Control-Failure-Handling", 1))
        .with(Avp::grouped(
            "Multiple-Services-Credit-Control",
            vec![
                Avp::grouped(
                    "Granted-Service-Unit",
                    vec![
                        Avp::time("Tariff-Time-Change", Time(3_942_478_800)),
                        Avp::u32("CC-Time", 60),
                    ],
                ),
                Avp::u32("Rating-Group", 10),
                Avp::u32("Validity-Time", 3600),
                Avp::u32("Result-Code", 2001),
                Avp::grouped(
                    "G-S-U-Pool-Reference",
                    vec![
                        Avp::u32("G-S-U-Pool-Identifier", 7),
                        Avp::enumerated("CC-Unit-Type", 0),
                        Avp::grouped(
                            "Unit-Value",
                            vec![
                                Avp::named("Value-Digits", Value::Integer64(25)),
                                Avp::named("Exponent", Value::Integer32(-1)),
                            ],
                        ),
                    ],
                ),
                Avp::grouped(
                    "Final-Unit-Indication",
                    vec![
                        Avp::enumerated("Final-Unit-Action", 1),
                        Avp::grouped(
                            "Redirect-Server",
                            vec![
                                Avp::enumerated("Redirect-Address-Type", 2),
                                Avp::utf8("Redirect-Server-Address", "http://topup.operator.net/"),
                            ],
                        ),
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
                        Avp::named("Value-Digits", Value::Integer64(1234)),
                        Avp::named("Exponent", Value::Integer32(-2)),
                    ],
                ),
                Avp::u32("Currency-Code", 978),
            ],
        ));
    vec![
        ("ccr_update_tariff_change", ccr),
        ("cca_pool_fui_cost", cca),
    ]
}

/// Raw IPv4 pcap (LINKTYPE_RAW), one packet per message, each its own TCP stream to 3868.
fn pcap(messages: &[Vec<u8>]) -> Vec<u8> {
    // Global header: magic, version 2.4, zone, sigfigs, snaplen, link type.
    let mut out = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    for v in [0u32, 0, 262_144, 101] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (i, m) in messages.iter().enumerate() {
        let mut tcp = Vec::with_capacity(20);
        tcp.extend_from_slice(&(40_000 + i as u16).to_be_bytes());
        tcp.extend_from_slice(&3868u16.to_be_bytes());
        tcp.extend_from_slice(&1u32.to_be_bytes()); // seq
        tcp.extend_from_slice(&1u32.to_be_bytes()); // ack
        tcp.extend_from_slice(&[5 << 4, 0x18]); // data offset 5 words; PSH, ACK
        tcp.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]); // window, checksum, urgent
        let total = 20 + tcp.len() + m.len();
        let mut ip = vec![0x45, 0];
        ip.extend_from_slice(&(total as u16).to_be_bytes());
        ip.extend_from_slice(&[0, 0, 0, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 2]);
        let len = total as u32;
        for v in [i as u32, 0, len, len] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&ip);
        out.extend_from_slice(&tcp);
        out.extend_from_slice(m);
    }
    out
}

/// What we expect tshark to print for one message, field by field.
#[derive(Default)]
struct Expected {
    codes: Vec<String>,
    lens: Vec<String>,
    flags: Vec<String>,
    vendors: Vec<String>,
    /// AVP name → its values in tree order (only the types printed as plain text).
    values: BTreeMap<&'static str, Vec<String>>,
}

fn walk(avps: &[Avp], e: &mut Expected) {
    for a in avps {
        e.codes.push(a.code.to_string());
        e.lens.push(a.encoded_len().to_string());
        e.flags.push(format!("0x{:02x}", a.flags.0));
        if let Some(v) = a.vendor_id {
            e.vendors.push(v.to_string());
        }
        let text = match &a.value {
            Value::Grouped(children) => {
                walk(children, e);
                None
            }
            Value::Utf8String(s) | Value::DiameterIdentity(s) | Value::DiameterUri(s) => {
                Some(s.clone())
            }
            Value::Unsigned32(v) => Some(v.to_string()),
            Value::Unsigned64(v) => Some(v.to_string()),
            Value::Integer32(v) | Value::Enumerated(v) => Some(v.to_string()),
            Value::Integer64(v) => Some(v.to_string()),
            _ => None,
        };
        if let Some(t) = text {
            e.values.entry(a.name()).or_default().push(t);
        }
    }
}

#[test]
fn wireshark_dissects_our_encodings_as_we_meant_them() {
    let Some(tshark) = tshark() else { return };
    let mut messages = testing::vector_messages();
    messages.extend(credit_control_messages());
    let encoded: Vec<Vec<u8>> = messages.iter().map(|(_, m)| m.encode()).collect();

    let dir = std::env::temp_dir().join(format!("unicharge-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("vectors.pcap");
    std::fs::write(&file, pcap(&encoded)).unwrap();

    // The fields tshark knows, so that only AVP names its dictionary has are asked for.
    let fields = Command::new(&tshark)
        .args(["-G", "fields"])
        .output()
        .unwrap();
    let known: HashSet<String> = String::from_utf8_lossy(&fields.stdout)
        .lines()
        .filter_map(|l| l.split('\t').nth(2).map(str::to_owned))
        .filter(|f| f.starts_with("diameter."))
        .collect();

    let expected: Vec<Expected> = messages
        .iter()
        .map(|(_, m)| {
            let mut e = Expected::default();
            walk(&m.avps, &mut e);
            e
        })
        .collect();
    let mut names: Vec<&'static str> = expected
        .iter()
        .flat_map(|e| e.values.keys().copied())
        .filter(|n| known.contains(&format!("diameter.{n}")))
        .collect();
    names.sort_unstable();
    names.dedup();

    let structural = [
        "diameter.cmd.code",
        "diameter.flags.request",
        "diameter.flags.T",
        "diameter.applicationId",
        "diameter.hopbyhopid",
        "diameter.endtoendid",
        "diameter.length",
        "diameter.avp.code",
        "diameter.avp.len",
        "diameter.avp.flags",
        "diameter.avp.vendorId",
        "_ws.malformed",
        "_ws.expert.severity",
        "_ws.expert.message",
    ];
    let mut cmd = Command::new(&tshark);
    cmd.arg("-r").arg(&file).args([
        "-n",
        "-d",
        "tcp.port==3868,diameter",
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
    ]);
    cmd.arg(format!("aggregator={AGG}"));
    for f in structural {
        cmd.args(["-e", f]);
    }
    for n in &names {
        cmd.arg("-e").arg(format!("diameter.{n}"));
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        messages.len(),
        "one dissected packet per message"
    );

    let split = |s: &str| -> Vec<String> {
        if s.is_empty() {
            vec![]
        } else {
            s.split(AGG).map(str::to_owned).collect()
        }
    };
    let mut compared = 0usize;
    let mut problems = Vec::new();
    for (((name, m), e), line) in messages.iter().zip(&expected).zip(&lines) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(
            cols.len(),
            structural.len() + names.len(),
            "{name}: columns"
        );
        let col = |f: &str| cols[structural.iter().position(|s| *s == f).unwrap()];
        let mut check = |what: &str, got: Vec<String>, want: Vec<String>| {
            compared += want.len();
            if got != want {
                problems.push(format!("{name}: {what}: tshark {got:?}, we {want:?}"));
            }
        };
        let h = &m.header;
        check(
            "command code",
            split(col("diameter.cmd.code")),
            vec![h.command_code.to_string()],
        );
        let request = h.flags.request();
        let flag = |b: bool| if b { "1" } else { "0" }.to_owned();
        let flag_text = |s: &str| match s {
            "True" | "1" => "1".to_owned(),
            "False" | "0" => "0".to_owned(),
            other => other.to_owned(),
        };
        check(
            "R flag",
            split(col("diameter.flags.request"))
                .iter()
                .map(|s| flag_text(s))
                .collect(),
            vec![flag(request)],
        );
        check(
            "T flag",
            split(col("diameter.flags.T"))
                .iter()
                .map(|s| flag_text(s))
                .collect(),
            vec![flag(h.flags.retransmit())],
        );
        check(
            "application id",
            split(col("diameter.applicationId")),
            vec![h.application_id.to_string()],
        );
        check(
            "hop-by-hop",
            split(col("diameter.hopbyhopid")),
            vec![format!("0x{:08x}", h.hop_by_hop)],
        );
        check(
            "end-to-end",
            split(col("diameter.endtoendid")),
            vec![format!("0x{:08x}", h.end_to_end)],
        );
        check(
            "length",
            split(col("diameter.length")),
            vec![encoded_len(m).to_string()],
        );
        check(
            "AVP codes",
            split(col("diameter.avp.code")),
            e.codes.clone(),
        );
        check(
            "AVP lengths",
            split(col("diameter.avp.len")),
            e.lens.clone(),
        );
        check(
            "AVP flags",
            split(col("diameter.avp.flags")),
            e.flags.clone(),
        );
        check(
            "AVP vendors",
            split(col("diameter.avp.vendorId")),
            e.vendors.clone(),
        );
        for (i, n) in names.iter().enumerate() {
            let got = split(cols[structural.len() + i]);
            let want = e.values.get(n).cloned().unwrap_or_default();
            check(n, got, want);
        }
        if !col("_ws.malformed").is_empty() {
            problems.push(format!("{name}: tshark says malformed"));
        }
        let severities = split(col("_ws.expert.severity"));
        let messages_ = split(col("_ws.expert.message"));
        for (s, msg) in severities
            .iter()
            .zip(messages_.iter().chain(std::iter::repeat(&String::new())))
        {
            if s.parse::<u32>().is_ok_and(|s| s >= PI_ERROR) {
                problems.push(format!("{name}: tshark error: {msg}"));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        problems.is_empty(),
        "Wireshark reads our octets differently:\n{}",
        problems.join("\n")
    );
    assert!(
        names.len() >= 40 && compared >= 400,
        "too little compared to mean anything: {} AVP names, {compared} values",
        names.len()
    );
    eprintln!(
        "tshark agreed on {} messages, {} AVP names, {compared} values",
        messages.len(),
        names.len()
    );
}

fn encoded_len(m: &Message) -> usize {
    m.encode().len()
}
