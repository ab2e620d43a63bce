//! Byte-for-byte agreement with an independent codec: vectors produced by Python asn1tools from
//! ISO's module texts (`testdata/gen_vectors.py`), plus the known vector of PROVENANCE.md.

use rasn::types::{BitString, OctetString};
use unicharge_efc::dsrc::{set_mmi, CountryCode};
use unicharge_efc::*;

const VECTORS: &str = include_str!("../testdata/asn1tools-vectors.json");

fn vectors() -> Vec<(String, String, Vec<u8>)> {
    // A tiny reader for our own generator's output (name/type/hex objects), no JSON dependency.
    let mut out = Vec::new();
    let mut rest = VECTORS;
    while let Some(i) = rest.find("\"name\": \"") {
        rest = &rest[i + 9..];
        let name = rest[..rest.find('"').unwrap()].to_string();
        let i = rest.find("\"type\": \"").unwrap();
        rest = &rest[i + 9..];
        let ty = rest[..rest.find('"').unwrap()].to_string();
        let i = rest.find("\"hex\": \"").unwrap();
        rest = &rest[i + 8..];
        let hex = &rest[..rest.find('"').unwrap()];
        out.push((name, ty, hex::decode(hex).unwrap()));
    }
    out
}

fn roundtrip<T: rasn::Decode + rasn::Encode + std::fmt::Debug>(name: &str, bytes: &[u8]) {
    let value: T = decode(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let again = encode(&value).unwrap();
    assert_eq!(hex::encode(&again), hex::encode(bytes), "{name}: {value:?}");
}

#[test]
fn every_asn1tools_vector_round_trips_byte_for_byte() {
    let all = vectors();
    assert_eq!(all.len(), 19, "the generator's vector count changed");
    for (name, ty, bytes) in &all {
        if let Some(canonical) = name.strip_prefix("noncanonical_") {
            // BASIC-PER input decodes to the same value as its canonical form.
            let a: ChargeReportResponse = decode(bytes).unwrap();
            let b: ChargeReportResponse = decode(&vector(canonical)).unwrap();
            assert_eq!(a, b, "{name}");
            continue;
        }
        match ty.as_str() {
            "ChargeReport" => roundtrip::<ChargeReport>(name, bytes),
            "ChargeReportResponse" => roundtrip::<ChargeReportResponse>(name, bytes),
            "AuthenticatedChargeReport" => roundtrip::<AuthenticatedChargeReport>(name, bytes),
            other => panic!("unknown type {other}"),
        }
    }
}

fn vector(name: &str) -> Vec<u8> {
    vectors().into_iter().find(|v| v.0 == name).unwrap().2
}

fn provider() -> Provider {
    Provider {
        country_code: CountryCode::from_u16(276),
        provider_identifier: 1234,
    }
}

fn contract() -> EfcContextMark {
    EfcContextMark {
        contract_provider: provider(),
        type_of_contract: OctetString::from_static(&[0, 1]),
        context_version: unicharge_efc::dsrc::ContextVersion::new(3),
    }
}

#[test]
fn provenance_known_vector_crr_ack_counter_7() {
    let mut crr = ChargeReportResponse::default();
    crr.data_received = Some(DataReceived::ChargeReportCounter(7));
    crr.obe_status_for_driver = Some(set_mmi::OK);
    assert_eq!(hex::encode(encode(&crr).unwrap()), "2a0000000700");
    assert_eq!(
        decode::<ChargeReportResponse>(&hex::decode("2a0000000700").unwrap()).unwrap(),
        crr
    );
}

#[test]
fn hand_built_values_match_asn1tools() {
    let mut crr = ChargeReportResponse::default();
    crr.data_received = Some(DataReceived::ChargeReportCounter(8));
    let mut limit = NewAccountLimit::default();
    limit.new_credit_limit = Some(PaymentFee {
        payment_fee_amount: 500,
        payment_fee_unit: OctetString::from_static(&[0x03, 0xd2]),
    });
    crr.account_update = Some(AccountUpdate::SetAccount(limit));
    assert_eq!(encode(&crr).unwrap(), vector("crr_set_credit_limit"));

    let mut crr = ChargeReportResponse::default();
    let mut limit = NewAccountLimit::default();
    limit.new_event_limit = Some((-5).into());
    crr.account_update = Some(AccountUpdate::SetAccount(limit));
    assert_eq!(
        encode(&crr).unwrap(),
        vector("crr_set_event_limit_negative")
    );

    let mut crr = ChargeReportResponse::default();
    let mut reload = ReloadAccount::default();
    reload.reload_old_event_limit = Some(true);
    crr.account_update = Some(AccountUpdate::ReloadAccount(reload));
    assert_eq!(encode(&crr).unwrap(), vector("crr_reload_event"));

    let report = ChargeReport::new(contract());
    assert_eq!(encode(&report).unwrap(), vector("cr_minimal"));

    let auth: AuthenticatedChargeReport = decode(&vector("auth_cr_minimal")).unwrap();
    assert_eq!(
        auth.charge_report_per,
        BitString::from_vec(vector("cr_minimal"))
    );
    let MessageAuthenticator::Mac(mac) = &auth.message_authenticator else {
        unreachable!()
    };
    assert_eq!(mac.master_key_ref, 1.into());
    assert_eq!(&mac.key_derivation_id[..], b"OBE-0001");
    assert_eq!(
        mac.algorithm_identifier.algorithm.as_ref(),
        unicharge_efc::auth::HMAC_SHA256_OID
    );
}

#[test]
fn decoded_full_report_has_the_generator_values() {
    let report: ChargeReport = decode(&vector("cr_full")).unwrap();
    assert_eq!(report.charge_report_counter, Some(4294967295));
    assert_eq!(report.mileage.as_ref().unwrap().dist, 16777210);
    assert_eq!(report.account_status, Some(account_status::LOW));
    assert_eq!(report.service_provider_contract, contract());
    assert_eq!(report.usage_statement_list.len(), 2);
    let UsageStatementEntry::UsageStatement(us) = &report.usage_statement_list[0] else {
        panic!("first entry is a plain usage statement")
    };
    assert_eq!(us.usage_statement_id, Some(1));
    let raw = us.list_of_raw_usage_data.as_ref().unwrap();
    let nmea = raw.raw_data_list[0].nmea_data.as_ref().unwrap();
    assert_eq!(nmea.altitude.as_ref().unwrap().as_bytes(), b"-0012");
    assert_eq!(
        raw.raw_data_list[0]
            .measured_position
            .as_ref()
            .unwrap()
            .altitude
            .as_ref()
            .unwrap()
            .altitude,
        -12
    );
    let ccc = &report.list_of_ccc_attributes.as_ref().unwrap()[0];
    assert_eq!(
        ccc.dist_rec_status.as_ref().unwrap().deviation_from_gnss,
        -3
    );
    let country = &report
        .service_provider_contract
        .contract_provider
        .country_code;
    assert_eq!(country.to_u16(), 276);
}

#[test]
fn truncated_report_names_the_field() {
    let full = vector("cr_full");
    let mut named = 0;
    for cut in 1..full.len() {
        match decode::<ChargeReport>(&full[..cut]) {
            Err(AduError::Decode { field, detail }) => {
                assert!(!detail.is_empty());
                if !field.is_empty() {
                    named += 1;
                }
            }
            Ok(_) => {} // a prefix can be a shorter valid report only by accident; never panics
            Err(other) => panic!("unexpected error kind {other}"),
        }
    }
    assert!(
        named > full.len() / 2,
        "most truncations name a field ({named})"
    );
    let err = decode::<ChargeReport>(&full[..40]).unwrap_err().to_string();
    assert!(err.contains("ChargeReport."), "{err}");
}

#[test]
fn trailing_octets_are_rejected() {
    let mut bytes = vector("crr_ack_counter_7");
    bytes.push(0);
    let err = decode::<ChargeReportResponse>(&bytes).unwrap_err();
    assert!(err.to_string().contains("1 octets after the end"), "{err}");
}

#[test]
fn dsrc_usage_data_is_rejected_by_name() {
    // A usage statement whose listOfDsrcUsageData is present with one entry.
    let mut us = UsageStatement::default();
    us.usage_statement_id = Some(1);
    let mut report = ChargeReport::new(contract());
    report
        .usage_statement_list
        .push(UsageStatementEntry::UsageStatement(us));
    let mut bytes = encode(&report).unwrap();
    // Flip on listOfDsrcUsageData's presence bit: it is the 8th optional bit of UsageStatement.
    // Rather than compute offsets, search: every bit flip must give an error or a value, never a panic.
    let mut saw_dsrc = false;
    for byte in 0..bytes.len() {
        for bit in 0..8 {
            bytes[byte] ^= 1 << bit;
            if let Err(e) = decode::<ChargeReport>(&bytes) {
                if e.to_string().contains("listOfDsrcUsageData") {
                    saw_dsrc = true;
                }
            }
            bytes[byte] ^= 1 << bit;
        }
    }
    assert!(
        saw_dsrc,
        "some flip reaches listOfDsrcUsageData and is named"
    );
}

/// The fuzz target's invariants (fuzz/fuzz_targets/efc_adu.rs) over the committed seeds and
/// every single-bit flip of them: runs in CI without cargo-fuzz.
#[test]
fn fuzz_invariants_hold_on_seeds_and_bit_flips() {
    use unicharge_efc::adu::Adu;
    let kind = |ty: &str| match ty {
        "ChargeReport" => 0x01u8,
        "AuthenticatedChargeReport" => 0x02,
        _ => 0x81,
    };
    let mut checked = 0;
    for (_, ty, bytes) in vectors() {
        let mut frame = vec![kind(&ty)];
        frame.extend_from_slice(&bytes);
        // Every bit of the small vectors; every 5th bit of the large ones (test time).
        let step = if frame.len() > 64 { 5 } else { 1 };
        for i in (0..frame.len() * 8).step_by(step) {
            let mut f = frame.clone();
            if i > 0 {
                f[(i - 1) / 8] ^= 1 << ((i - 1) % 8);
            }
            match Adu::from_frame(&f) {
                Err(e) => assert!(matches!(e, AduError::Decode { .. }), "{e}"),
                Ok(adu) => {
                    let re = adu.to_frame().expect("a decoded ADU re-encodes");
                    let again = Adu::from_frame(&re).expect("canonical re-encoding decodes");
                    assert_eq!(again, adu);
                    assert_eq!(again.to_frame().unwrap(), re);
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 2000, "{checked}");
}
