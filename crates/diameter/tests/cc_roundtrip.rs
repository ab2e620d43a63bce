//! RFC 8506 CCR / CCA as typed messages: for generated requests and answers, typed → Message →
//! octets → Message → typed is the identity; and the RFC 8506 errors for a broken CCR.

use proptest::prelude::*;
use unicharge_diameter::cc::{
    CcMoney, CcRequestType, Cca, Ccr, FinalUnitIndication, GsuPoolReference, Mscc, RequestedAction,
    ServiceUnit,
};
use unicharge_diameter::rf::SubscriptionId;
use unicharge_diameter::{result_code, Avp, Message, Time};

fn request_type() -> impl Strategy<Value = CcRequestType> {
    prop_oneof![
        Just(CcRequestType::Initial),
        Just(CcRequestType::Update),
        Just(CcRequestType::Termination),
        Just(CcRequestType::Event),
    ]
}

fn unit() -> impl Strategy<Value = ServiceUnit> {
    (
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u32>().prop_map(Time)),
        proptest::option::of(0..3i32),
        proptest::option::of(
            (
                any::<i64>(),
                -6..6i32,
                proptest::option::of(prop_oneof![Just(978u32), Just(840u32)]),
            )
                .prop_map(|(value_digits, exponent, currency_code)| CcMoney {
                    value_digits,
                    // Exponent 0 is sent as absent, which reads back as 0.
                    exponent,
                    currency_code,
                }),
        ),
    )
        .prop_map(|(t, tot, i, o, s, ttc, tcu, money)| ServiceUnit {
            cc_time: t,
            cc_money: money,
            cc_total_octets: tot,
            cc_input_octets: i,
            cc_output_octets: o,
            cc_service_specific_units: s,
            tariff_time_change: ttc,
            tariff_change_usage: tcu,
        })
}

fn mscc() -> impl Strategy<Value = Mscc> {
    (
        proptest::option::of(any::<u32>()),
        proptest::collection::vec(any::<u32>(), 0..3),
        proptest::option::of(unit()),
        proptest::option::of(unit()),
        proptest::collection::vec(unit(), 0..3),
        proptest::collection::vec(
            (
                any::<u32>(),
                0..6i32,
                any::<i64>(),
                proptest::option::of(-6..6i32),
            ),
            0..2,
        ),
        proptest::option::of(any::<u32>()),
        proptest::option::of(prop_oneof![
            Just(2001u32),
            Just(4010),
            Just(4011),
            Just(4012)
        ]),
        proptest::option::of((
            0..3i32,
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..20), 0..2),
            proptest::option::of((0..4i32, "[a-z:/.]{1,30}")),
        )),
    )
        .prop_map(|(rg, sids, req, gr, used, pools, vt, rc, fui)| Mscc {
            rating_group: rg,
            service_identifiers: sids,
            requested: req,
            granted: gr,
            used,
            gsu_pool_reference: pools
                .into_iter()
                .map(
                    |(pool_id, unit_type, value_digits, exponent)| GsuPoolReference {
                        pool_id,
                        unit_type,
                        value_digits,
                        exponent,
                    },
                )
                .collect(),
            validity_time: vt,
            result_code: rc,
            final_unit_indication: fui.map(|(action, rules, redirect)| FinalUnitIndication {
                action,
                restriction_filter_rules: rules,
                redirect_server: redirect,
            }),
        })
}

fn ccr() -> impl Strategy<Value = Ccr> {
    (
        "[a-z0-9.;]{1,40}",
        request_type(),
        any::<u32>(),
        proptest::option::of(prop_oneof![
            Just(RequestedAction::DirectDebiting),
            Just(RequestedAction::RefundAccount),
            Just(RequestedAction::CheckBalance),
            Just(RequestedAction::PriceEnquiry),
        ]),
        proptest::option::of(any::<u32>().prop_map(Time)),
        proptest::collection::vec((0..5i32, "[0-9]{5,15}"), 0..3),
        proptest::collection::vec(mscc(), 0..4),
    )
        .prop_map(|(sid, rt, rn, ra, ts, subs, mscc)| Ccr {
            session_id: sid,
            origin_host: "ctf.example.net".into(),
            origin_realm: "example.net".into(),
            destination_realm: "operator.net".into(),
            service_context_id: "32260@3gpp.org".into(),
            request_type: rt,
            request_number: rn,
            requested_action: ra,
            event_timestamp: ts,
            subscription_ids: subs
                .into_iter()
                .map(|(kind, data)| SubscriptionId { kind, data })
                .collect(),
            mscc,
        })
}

fn wire(m: &Message) -> Message {
    Message::decode(&m.encode()).expect("our own encoding decodes")
}

proptest! {
    #[test]
    fn ccr_typed_to_wire_and_back_is_the_identity(c in ccr()) {
        let m = wire(&c.to_message());
        prop_assert!(m.check_request().is_ok(), "{:?}", m.check_request());
        prop_assert_eq!(Ccr::parse(&m).unwrap(), c);
    }

    #[test]
    fn cca_typed_to_wire_and_back_is_the_identity(
        c in ccr(),
        code in prop_oneof![Just(2001u32), Just(4012), Just(5030), Just(5031)],
        failover in proptest::option::of(0..2i32),
        handling in proptest::option::of(0..3i32),
        validity in proptest::option::of(any::<u32>()),
        mscc in proptest::collection::vec(mscc(), 0..3),
    ) {
        let request = wire(&c.to_message());
        let cca = Cca {
            session_id: c.session_id.clone(),
            result_code: code,
            origin_host: "ocf.operator.net".into(),
            origin_realm: "operator.net".into(),
            request_type: c.request_type,
            request_number: c.request_number,
            cc_session_failover: failover,
            credit_control_failure_handling: handling,
            validity_time: validity,
            mscc,
        };
        let m = wire(&cca.to_message(&request));
        prop_assert_eq!(m.header.end_to_end, request.header.end_to_end);
        prop_assert_eq!(Cca::parse(&m).unwrap(), cca);
    }
}

fn minimal() -> Message {
    Ccr {
        session_id: "ctf;1".into(),
        origin_host: "ctf.example.net".into(),
        origin_realm: "example.net".into(),
        destination_realm: "operator.net".into(),
        service_context_id: "32260@3gpp.org".into(),
        request_type: CcRequestType::Initial,
        request_number: 0,
        requested_action: None,
        event_timestamp: None,
        subscription_ids: vec![],
        mscc: vec![],
    }
    .to_message()
}

#[test]
fn a_ccr_without_cc_request_number_is_5005_naming_the_avp() {
    let mut m = minimal();
    m.avps.retain(|a| a.name() != "CC-Request-Number");
    let e = Ccr::parse(&m).unwrap_err();
    assert_eq!(e.result_code, result_code::DIAMETER_MISSING_AVP);
    assert_eq!(e.failed_avp.unwrap().name(), "CC-Request-Number");
}

#[test]
fn a_ccr_with_an_unknown_cc_request_type_is_5004_with_the_avp() {
    let mut m = minimal();
    m.avps.retain(|a| a.name() != "CC-Request-Type");
    m.push(Avp::enumerated("CC-Request-Type", 9));
    let e = Ccr::parse(&m).unwrap_err();
    assert_eq!(e.result_code, result_code::DIAMETER_INVALID_AVP_VALUE);
    assert_eq!(e.failed_avp.unwrap().as_i32(), Some(9));
}
