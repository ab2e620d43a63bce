//! Test vectors checked against python-diameter 0.9.0, an independent implementation.
//!
//! `tests/vectors/*.hex` are our encodings; `*.hex.python-dump` is python-diameter's decoding
//! of them (written by `tests/vectors/python_diameter_check.py`); `py_*.hex` were encoded by
//! python-diameter. Regenerate ours with `UPDATE_VECTORS=1 cargo test -p unicharge-diameter
//! --test vectors`, then rerun the python script (see the README there).

use std::path::PathBuf;

use unicharge_diameter::testing::{dictionary_tsv, dump, vector_messages};
use unicharge_diameter::{dictionary, Message};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn update() -> bool {
    std::env::var_os("UPDATE_VECTORS").is_some()
}

fn read_hex(name: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    hex::decode(text.trim()).unwrap()
}

#[test]
fn our_encodings_match_committed_vectors_and_python_diameter_decodes_them_alike() {
    for (name, msg) in vector_messages() {
        let bytes = msg.encode();
        let file = format!("{name}.hex");
        if update() {
            std::fs::write(dir().join(&file), hex::encode(&bytes) + "\n").unwrap();
            continue;
        }
        assert_eq!(
            hex::encode(&bytes),
            hex::encode(read_hex(&file)),
            "{file} changed"
        );
        let decoded = Message::decode(&bytes).unwrap();
        let mut expected = msg.clone();
        expected.header.length = bytes.len() as u32;
        assert_eq!(decoded, expected, "{name}: decode of encode");
        let python = std::fs::read_to_string(dir().join(format!("{file}.python-dump")))
            .unwrap_or_else(|e| panic!("{file}.python-dump missing ({e}); run the python script"));
        assert_eq!(
            dump(&decoded),
            python,
            "{name}: python-diameter decodes it differently"
        );
    }
}

#[test]
fn python_diameter_encodings_decode_and_reencode_identically() {
    let acr = read_hex("py_acr_start.hex");
    let m = Message::decode(&acr).unwrap();
    m.check_request().unwrap();
    assert_eq!(m.header.command_code, 271);
    assert_eq!(m.header.hop_by_hop, 0x0102_0304);
    assert_eq!(m.session_id(), Some("pyctf.example.org;1;1"));
    assert_eq!(m.origin_host(), Some("pyctf.example.org"));
    assert_eq!(m.i32("Accounting-Record-Type"), Some(2));
    assert_eq!(m.u32("Acct-Application-Id"), Some(3));
    assert_eq!(
        m.avp("Accounting-Sub-Session-Id").and_then(|a| a.as_u64()),
        Some((1 << 40) + 5)
    );
    // 2024-12-06T11:00:00Z
    let ts = m.avp("Event-Timestamp").unwrap().as_time().unwrap();
    assert_eq!(ts.to_utc().to_rfc3339(), "2024-12-06T11:00:00+00:00");
    let si = m.avp("Service-Information").unwrap();
    let nf = si
        .child("IMS-Information")
        .unwrap()
        .child("Node-Functionality")
        .unwrap();
    assert_eq!(nf.as_i32(), Some(3));
    assert_eq!(
        si.child("Subscription-Id")
            .unwrap()
            .child("Subscription-Id-Data")
            .unwrap()
            .as_str(),
        Some("491709876543")
    );
    assert_eq!(
        m.encode(),
        acr,
        "re-encoding python-diameter's ACR changes octets"
    );

    let cer = read_hex("py_cer.hex");
    let m = Message::decode(&cer).unwrap();
    m.check_request().unwrap();
    let ips: Vec<String> = m
        .avps_named("Host-IP-Address")
        .map(|a| a.as_address().unwrap().ip().unwrap().to_string())
        .collect();
    assert_eq!(ips, ["192.0.2.7", "2001:db8::7"]);
    let vsai = m.avp("Vendor-Specific-Application-Id").unwrap();
    assert_eq!(vsai.child("Auth-Application-Id").unwrap().as_u32(), Some(4));
    assert_eq!(m.encode(), cer);
}

/// Names, types and M-bit rules of our dictionary against python-diameter's. Differences are
/// listed with the reason we keep ours.
#[test]
fn dictionary_agrees_with_python_diameter() {
    if update() {
        std::fs::write(dir().join("our-dictionary.tsv"), dictionary_tsv()).unwrap();
        return;
    }
    assert_eq!(
        std::fs::read_to_string(dir().join("our-dictionary.tsv")).unwrap(),
        dictionary_tsv(),
        "our-dictionary.tsv is stale: UPDATE_VECTORS=1 and rerun the python script"
    );
    let python = std::fs::read_to_string(dir().join("python-dictionary.tsv")).unwrap();
    let mut differences = Vec::new();
    for line in python.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let (code, vendor): (u32, u32) = (f[0].parse().unwrap(), f[1].parse().unwrap());
        let ours = dictionary::lookup(code, vendor).unwrap();
        if f[2] == "-" {
            differences.push(format!(
                "{code}:{vendor} {} unknown to python-diameter",
                ours.name
            ));
            continue;
        }
        use dictionary::AvpType::*;
        let py_type = match ours.ty {
            OctetString | DiameterIdentity | DiameterUri => "AvpOctetString",
            Integer32 => "AvpInteger32",
            Integer64 => "AvpInteger64",
            Unsigned32 => "AvpUnsigned32",
            Unsigned64 => "AvpUnsigned64",
            Float32 => "AvpFloat32",
            Float64 => "AvpFloat64",
            Grouped => "AvpGrouped",
            Address => "AvpAddress",
            Time => "AvpTime",
            Utf8String => "AvpUtf8String",
            Enumerated => "AvpEnumerated",
        };
        if f[2] != ours.name {
            differences.push(format!(
                "{code}:{vendor} name {} vs python {}",
                ours.name, f[2]
            ));
        }
        // Enumerated is derived from Integer32 (RFC 6733 §4.3.1): same octets on the wire.
        let compatible = f[3] == py_type || (ours.ty == Enumerated && f[3] == "AvpInteger32");
        if !compatible {
            differences.push(format!(
                "{code}:{vendor} {} type {:?} vs python {}",
                ours.name, ours.ty, f[3]
            ));
        }
        let py_m = f[4] == "True";
        if py_m != (ours.m == dictionary::FlagRule::Must) {
            differences.push(format!(
                "{code}:{vendor} {} M {:?} vs python mandatory={}",
                ours.name, ours.m, f[4]
            ));
        }
    }
    let expected: Vec<String> = std::fs::read_to_string(dir().join("dictionary-differences.txt"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split(" -- ").next().unwrap().to_string())
        .collect();
    assert_eq!(differences, expected, "differences from python-diameter changed; each must be explained in dictionary-differences.txt");
}
