//! The inner `AuthenticatedUsageStatement` MAC against vectors computed independently: the
//! MACs in `testdata/usage-statement-mac.json` were computed by Python's `hmac` module
//! (HMAC-SHA-256) over the usage statement's UPER octets (see `testdata/gen_us_mac.py`).

use chrono::{TimeZone, Utc};
use rasn::types::OctetString;
use unicharge_efc::auth::{self, KeyRef};
use unicharge_efc::*;

const VECTORS: &str = include_str!("../testdata/usage-statement-mac.json");

fn field(name: &str) -> Vec<u8> {
    let key = format!("\"{name}\": \"");
    let i = VECTORS.find(&key).unwrap() + key.len();
    hex::decode(&VECTORS[i..i + VECTORS[i..].find('"').unwrap()]).unwrap()
}

fn statement() -> UsageStatement {
    let begin = Utc
        .with_ymd_and_hms(2026, 12, 6, 11, 45, 0)
        .unwrap()
        .fixed_offset();
    let end = Utc
        .with_ymd_and_hms(2026, 12, 6, 12, 0, 0)
        .unwrap()
        .fixed_offset();
    let mut us = UsageStatement::default();
    us.usage_statement_id = Some(7);
    us.aggregated_fee = Some(AggregatedFee {
        time_period_covered: Period {
            begin_of_period: begin,
            end_of_period: end,
        },
        fee_excl_vat: PaymentFee {
            payment_fee_amount: 125,
            payment_fee_unit: OctetString::from_static(&[0x03, 0xd2]),
        },
        sum_vat: None,
    });
    us
}

fn key_ref() -> KeyRef {
    KeyRef {
        master_key_ref: 1,
        key_derivation_id: b"42:a0ff".to_vec(),
    }
}

#[test]
fn the_usage_statement_mac_matches_python_hmac() {
    let per = encode(&statement()).unwrap();
    assert_eq!(hex::encode(&per), hex::encode(field("usageStatementPer")));
    let wrapped =
        auth::authenticate_usage_statement(&statement(), &field("key"), &key_ref()).unwrap();
    let auth::KeyRef { .. } = auth::key_ref(&wrapped.message_authenticator).unwrap();
    let MessageAuthenticator::Mac(m) = &wrapped.message_authenticator else {
        unreachable!()
    };
    assert_eq!(m.authenticator.as_raw_slice(), field("mac").as_slice());
    assert_eq!(
        auth::open_usage_statement(&wrapped, &field("key")).unwrap(),
        statement()
    );
}

#[test]
fn a_wrong_key_or_a_changed_octet_does_not_verify() {
    let wrapped =
        auth::authenticate_usage_statement(&statement(), &field("key"), &key_ref()).unwrap();
    let err = auth::open_usage_statement(&wrapped, &field("otherKey")).unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");
    let mut bytes = wrapped.usage_statement_per.as_raw_slice().to_vec();
    bytes[3] ^= 0x01;
    let tampered = AuthenticatedUsageStatement {
        usage_statement_per: rasn::types::BitString::from_vec(bytes),
        message_authenticator: wrapped.message_authenticator.clone(),
    };
    assert!(auth::open_usage_statement(&tampered, &field("key")).is_err());
    // The MAC computed by Python with the other key is a different tag.
    let MessageAuthenticator::Mac(m) = &wrapped.message_authenticator else {
        unreachable!()
    };
    assert_ne!(
        m.authenticator.as_raw_slice(),
        field("macOtherKey").as_slice()
    );
}
