//! RFC 6733 §7 error handling of the decoder: each malformed input yields the Result-Code and
//! Failed-AVP the answer needs. Inputs are assembled by hand, octet by octet.

use unicharge_diameter::{
    frame_length, result_code, testing::typical_acr, Avp, AvpFlags, DecodeOptions, FrameError,
    Message, Value,
};

/// A DWR assembled by hand from RFC 6733 §3 and §4.1, independent of our encoder.
const HAND_DWR: &[u8] = &[
    0x01, 0x00, 0x00, 0x30, // version 1, length 48
    0x80, 0x00, 0x01, 0x18, // R, command 280
    0x00, 0x00, 0x00, 0x00, // application 0
    0x00, 0x00, 0x00, 0x2a, // hop-by-hop 42
    0x00, 0x00, 0x00, 0x2b, // end-to-end 43
    0x00, 0x00, 0x01, 0x08, 0x40, 0x00, 0x00, 0x0d, b'p', b'e', b'e', b'r', b'1', 0, 0,
    0, // Origin-Host "peer1" (13 + 3 padding)
    0x00, 0x00, 0x01, 0x28, 0x40, 0x00, 0x00, 0x0b, b'n', b'e', b't',
    0, // Origin-Realm "net" (11 + 1)
];

#[test]
fn hand_assembled_dwr_decodes_and_reencodes() {
    assert_eq!(frame_length(HAND_DWR, 4096), Ok(Some(48)));
    let m = Message::decode(HAND_DWR).unwrap();
    assert_eq!(m.header.command_code, 280);
    assert!(m.is_request());
    assert_eq!(m.header.hop_by_hop, 42);
    assert_eq!(m.origin_host(), Some("peer1"));
    assert_eq!(m.origin_realm(), Some("net"));
    m.check_request().unwrap();
    assert_eq!(m.encode(), HAND_DWR);
}

fn with_avp(extra: &[u8]) -> Vec<u8> {
    let mut b = HAND_DWR.to_vec();
    b.extend_from_slice(extra);
    let len = b.len() as u32;
    b[1..4].copy_from_slice(&len.to_be_bytes()[1..]);
    b
}

#[test]
fn unknown_avp_with_m_bit_is_5001_with_the_avp_in_failed_avp() {
    let b = with_avp(&[0x00, 0x00, 0x27, 0x0f, 0x40, 0x00, 0x00, 0x0c, 1, 2, 3, 4]);
    let e = Message::decode(&b).unwrap_err();
    assert_eq!(e.error.result_code, result_code::DIAMETER_AVP_UNSUPPORTED);
    let failed = e.error.failed_avp.unwrap();
    assert_eq!(
        (failed.code, failed.value),
        (9999, Value::Unknown(vec![1, 2, 3, 4]))
    );
    // Without M it is kept and ignored.
    let b = with_avp(&[0x00, 0x00, 0x27, 0x0f, 0x00, 0x00, 0x00, 0x0c, 1, 2, 3, 4]);
    let m = Message::decode(&b).unwrap();
    assert_eq!(m.avps[2].value, Value::Unknown(vec![1, 2, 3, 4]));
}

#[test]
fn unknown_vendor_avp_with_m_bit_is_5001() {
    // Code 862 is Node-Functionality only for vendor 10415; vendor 99 is unknown.
    let b = with_avp(&[0, 0, 0x03, 0x5e, 0xc0, 0, 0, 0x10, 0, 0, 0, 99, 0, 0, 0, 3]);
    let e = Message::decode(&b).unwrap_err();
    assert_eq!(e.error.result_code, 5001);
    assert_eq!(e.error.failed_avp.unwrap().vendor_id, Some(99));
}

#[test]
fn wrong_fixed_length_is_5014_with_zeroed_example() {
    // Result-Code (Unsigned32) with 5 data octets.
    let b = with_avp(&[
        0, 0, 0x01, 0x0c, 0x40, 0, 0, 0x0d, 0, 0, 7, 0xd1, 9, 0, 0, 0,
    ]);
    let e = Message::decode(&b).unwrap_err();
    assert_eq!(
        e.error.result_code,
        result_code::DIAMETER_INVALID_AVP_LENGTH
    );
    let f = e.error.failed_avp.unwrap();
    assert_eq!((f.code, f.value), (268, Value::Unknown(vec![0; 4])));
}

#[test]
fn avp_length_beyond_the_message_is_5014_not_a_panic() {
    let b = with_avp(&[0, 0, 0x01, 0x0c, 0x40, 0xff, 0xff, 0xff]);
    let e = Message::decode(&b).unwrap_err();
    assert_eq!(e.error.result_code, 5014);
    let b = with_avp(&[0, 0, 0x01, 0x0c, 0x40, 0, 0, 0x04]);
    assert_eq!(Message::decode(&b).unwrap_err().error.result_code, 5014);
    // Vendor flag but no room for the Vendor-ID.
    let b = with_avp(&[0, 0, 0x01, 0x0c, 0xc0, 0, 0, 0x08]);
    assert_eq!(Message::decode(&b).unwrap_err().error.result_code, 5014);
}

#[test]
fn invalid_utf8_is_5004() {
    // Session-Id with 0xff 0xfe.
    let b = with_avp(&[0, 0, 0x01, 0x07, 0x40, 0, 0, 0x0a, 0xff, 0xfe, 0, 0]);
    let e = Message::decode(&b).unwrap_err();
    assert_eq!(e.error.result_code, result_code::DIAMETER_INVALID_AVP_VALUE);
    assert_eq!(e.error.failed_avp.unwrap().code, 263);
}

#[test]
fn error_inside_grouped_is_reported_wrapped_in_its_parent() {
    let mut acr = typical_acr(3, 1);
    // Subscription-Id-Type inside Subscription-Id inside Service-Information with 2 octets.
    let bytes = acr.encode();
    let needle = [0, 0, 0x01, 0xc2, 0x40, 0, 0, 0x0c, 0, 0, 0, 0];
    let at = bytes.windows(12).position(|w| w == needle).unwrap();
    let mut bad = bytes.clone();
    bad[at + 7] = 0x0a; // length 10: 2 data octets
    let e = Message::decode(&bad).unwrap_err();
    assert_eq!(e.error.result_code, 5014);
    assert_eq!(e.session_id.as_deref(), acr.session_id());
    let f = e.error.failed_avp.unwrap();
    assert_eq!(f.name(), "Service-Information");
    assert_eq!(f.children().unwrap()[0].name(), "Subscription-Id");
    acr.avps.clear();
}

#[test]
fn header_errors() {
    let mut b = HAND_DWR.to_vec();
    b[0] = 2;
    assert_eq!(Message::decode(&b).unwrap_err().error.result_code, 5011);
    let mut b = HAND_DWR.to_vec();
    b[4] |= 0x20; // E bit on a request
    assert_eq!(Message::decode(&b).unwrap_err().error.result_code, 3008);
    let mut b = HAND_DWR.to_vec();
    b[4] |= 0x40; // P bit on DWR, whose CCF has no PXY
    let m = Message::decode(&b).unwrap();
    assert_eq!(m.check_request().unwrap_err().result_code, 3008);
    // Length field not matching the frame.
    let mut b = HAND_DWR.to_vec();
    b.extend_from_slice(&[0; 4]);
    assert_eq!(Message::decode(&b).unwrap_err().error.result_code, 5015);
    assert_eq!(
        frame_length(&[1, 0, 0, 8], 4096),
        Err(FrameError::TooShort(8))
    );
    assert_eq!(
        frame_length(&[1, 0xff, 0, 0], 4096),
        Err(FrameError::TooLong(0xff0000, 4096))
    );
    assert_eq!(frame_length(&[1, 0], 4096), Ok(None));
    assert!(Message::decode(&[1, 0, 0]).is_err());
}

#[test]
fn forbidden_m_bit_is_3009_when_strict() {
    // Product-Name with M.
    let b = with_avp(&[0, 0, 0x01, 0x0d, 0x40, 0, 0, 0x09, b'x', 0, 0, 0]);
    assert!(Message::decode(&b).is_ok());
    let strict = DecodeOptions {
        reject_forbidden_m_bit: true,
    };
    let e = Message::decode_with(&b, strict).unwrap_err();
    assert_eq!(e.error.result_code, result_code::DIAMETER_INVALID_AVP_BITS);
}

#[test]
fn missing_and_repeated_required_avps() {
    let mut acr = typical_acr(2, 0);
    acr.avps.retain(|a| a.name() != "Destination-Realm");
    let e = acr.check_request().unwrap_err();
    assert_eq!(e.result_code, result_code::DIAMETER_MISSING_AVP);
    assert_eq!(e.failed_avp.unwrap().code, 283);
    let mut acr = typical_acr(2, 0);
    acr.push(Avp::u32("Accounting-Record-Number", 9));
    assert_eq!(acr.check_request().unwrap_err().result_code, 5009);
}

#[test]
fn error_answer_has_e_bit_for_protocol_errors_and_failed_avp() {
    let req = Message::decode(HAND_DWR).unwrap();
    let err = unicharge_diameter::AvpError::new(3008, None, "x");
    let a = Message::error_answer(&req.header, Some("s;1"), &err, "cdf", "realm");
    let a = Message::decode(&a.encode()).unwrap();
    assert!(a.header.flags.error() && !a.is_request());
    assert_eq!(a.header.hop_by_hop, 42);
    assert_eq!(a.result_code(), Some(3008));
    assert_eq!(a.session_id(), Some("s;1"));
    let err = unicharge_diameter::AvpError::new(
        5001,
        Some(Avp::new(9999, 0, Value::Unknown(vec![1]))),
        "x",
    );
    let a = Message::error_answer(&req.header, None, &err, "cdf", "realm");
    let a = Message::decode(&a.encode()).unwrap();
    assert!(!a.header.flags.error());
    let failed = a.avp("Failed-AVP").unwrap().children().unwrap();
    assert_eq!(failed[0].code, 9999);
    assert_eq!(failed[0].flags, AvpFlags(0));
}
