//! Property: decode ∘ encode = id for generated messages (every data type, vendor ids,
//! nested groups, odd lengths that need padding), and decoding arbitrary octets never panics.

use proptest::prelude::*;
use unicharge_diameter::{dictionary, Avp, AvpFlags, CommandFlags, Header, Message, Time, Value};

fn value_for(ty: dictionary::AvpType) -> BoxedStrategy<Value> {
    use dictionary::AvpType::*;
    match ty {
        OctetString => proptest::collection::vec(any::<u8>(), 0..40)
            .prop_map(Value::OctetString)
            .boxed(),
        Integer32 => any::<i32>().prop_map(Value::Integer32).boxed(),
        Integer64 => any::<i64>().prop_map(Value::Integer64).boxed(),
        Unsigned32 => any::<u32>().prop_map(Value::Unsigned32).boxed(),
        Unsigned64 => any::<u64>().prop_map(Value::Unsigned64).boxed(),
        Float32 => (-1e30f32..1e30).prop_map(Value::Float32).boxed(),
        Float64 => (-1e300f64..1e300).prop_map(Value::Float64).boxed(),
        Time => any::<u32>()
            .prop_map(|t| Value::Time(unicharge_diameter::Time(t)))
            .boxed(),
        Enumerated => any::<i32>().prop_map(Value::Enumerated).boxed(),
        Address => prop_oneof![
            any::<[u8; 4]>().prop_map(|o| Value::Address(unicharge_diameter::Address {
                family: 1,
                octets: o.to_vec()
            })),
            any::<[u8; 16]>().prop_map(|o| Value::Address(unicharge_diameter::Address {
                family: 2,
                octets: o.to_vec()
            })),
            proptest::collection::vec(any::<u8>(), 0..9).prop_map(|o| Value::Address(
                unicharge_diameter::Address {
                    family: 8,
                    octets: o
                }
            )),
        ]
        .boxed(),
        Utf8String => "\\PC{0,20}".prop_map(Value::Utf8String).boxed(),
        DiameterIdentity => "[a-z0-9.]{1,30}".prop_map(Value::DiameterIdentity).boxed(),
        DiameterUri => "aaa://[a-z.]{1,20}:3868"
            .prop_map(Value::DiameterUri)
            .boxed(),
        Grouped => Just(Value::Grouped(vec![])).boxed(),
    }
}

fn leaf() -> BoxedStrategy<Avp> {
    let defs: Vec<_> = dictionary::AVPS
        .iter()
        .filter(|d| d.ty != dictionary::AvpType::Grouped)
        .collect();
    (0..defs.len(), any::<bool>())
        .prop_flat_map(move |(i, m)| {
            let d = defs[i];
            value_for(d.ty).prop_map(move |v| {
                let mut a = Avp::new(d.code, d.vendor_id, v);
                if m && d.m != dictionary::FlagRule::MustNot {
                    a.flags = AvpFlags(a.flags.0 | AvpFlags::MANDATORY);
                }
                a
            })
        })
        .boxed()
}

fn unknown_optional() -> impl Strategy<Value = Avp> {
    (
        5000u32..6000,
        proptest::option::of(1u32..100),
        proptest::collection::vec(any::<u8>(), 0..13),
    )
        .prop_map(|(code, vendor, data)| Avp::new(code, vendor.unwrap_or(0), Value::Unknown(data)))
}

fn avp() -> impl Strategy<Value = Avp> {
    let groups: Vec<_> = dictionary::AVPS
        .iter()
        .filter(|d| d.ty == dictionary::AvpType::Grouped)
        .collect();
    prop_oneof![leaf(), unknown_optional()].prop_recursive(4, 40, 6, move |inner| {
        let groups = groups.clone();
        (0..groups.len(), proptest::collection::vec(inner, 0..6)).prop_map(move |(i, children)| {
            Avp::new(
                groups[i].code,
                groups[i].vendor_id,
                Value::Grouped(children),
            )
        })
    })
}

fn message() -> impl Strategy<Value = Message> {
    (
        any::<u8>(),
        0u32..0x00ff_ffff,
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        proptest::collection::vec(avp(), 0..12),
    )
        .prop_map(|(flags, code, app, hbh, e2e, avps)| {
            let mut flags = CommandFlags(flags);
            if flags.request() {
                flags = flags.with(CommandFlags::ERROR, false);
            }
            Message {
                header: Header {
                    version: 1,
                    length: 0,
                    flags,
                    command_code: code,
                    application_id: app,
                    hop_by_hop: hbh,
                    end_to_end: e2e,
                },
                avps,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_of_encode_is_identity(mut m in message()) {
        let bytes = m.encode();
        prop_assert_eq!(bytes.len() % 4, 0);
        prop_assert_eq!(unicharge_diameter::frame_length(&bytes, u32::MAX).unwrap(), Some(bytes.len()));
        let decoded = Message::decode(&bytes).unwrap();
        m.header.length = bytes.len() as u32;
        prop_assert_eq!(&decoded, &m);
        prop_assert_eq!(decoded.encode(), bytes);
    }

    #[test]
    fn decoding_arbitrary_octets_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Message::decode(&bytes);
        let _ = unicharge_diameter::frame_length(&bytes, 1 << 20);
    }

    #[test]
    fn corrupting_one_octet_of_a_valid_message_never_panics(m in message(), at in any::<prop::sample::Index>(), x in any::<u8>()) {
        let mut bytes = m.encode();
        let i = at.index(bytes.len());
        bytes[i] = x;
        if let Ok(d) = Message::decode(&bytes) {
            // Whatever decodes re-encodes to a frame of the same length.
            prop_assert_eq!(d.encode().len(), bytes.len());
        }
    }
}

#[test]
fn time_converts_both_ways() {
    let t = chrono::DateTime::parse_from_rfc3339("2026-12-06T11:45:00Z")
        .unwrap()
        .to_utc();
    assert_eq!(Time::from_utc(t).to_utc(), t);
    // 2040 lies in NTP era 1.
    let t = chrono::DateTime::parse_from_rfc3339("2040-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    assert_eq!(Time::from_utc(t).to_utc(), t);
}
