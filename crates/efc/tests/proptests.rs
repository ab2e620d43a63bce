//! decode ∘ encode = id over generated ADUs, and decoding arbitrary bytes never panics.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use proptest::prelude::*;
use rasn::types::{Integer, OctetString};
use unicharge_efc::dsrc::{ContextVersion, CountryCode};
use unicharge_efc::*;

fn time() -> impl Strategy<Value = DateTime<FixedOffset>> {
    (0i64..4_102_444_800).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap().fixed_offset())
}

fn octets(max: usize) -> impl Strategy<Value = OctetString> {
    prop::collection::vec(any::<u8>(), 0..max).prop_map(OctetString::from)
}

fn provider() -> impl Strategy<Value = Provider> {
    (0u16..1024, 0u16..16384).prop_map(|(c, p)| Provider {
        country_code: CountryCode::from_u16(c),
        provider_identifier: p,
    })
}

fn contract() -> impl Strategy<Value = EfcContextMark> {
    (provider(), any::<[u8; 2]>(), 0u8..128).prop_map(|(p, t, v)| EfcContextMark {
        contract_provider: p,
        type_of_contract: OctetString::from(t.to_vec()),
        context_version: ContextVersion::new(v),
    })
}

fn fee() -> impl Strategy<Value = PaymentFee> {
    (any::<u16>(), any::<[u8; 2]>()).prop_map(|(a, u)| PaymentFee {
        payment_fee_amount: a,
        payment_fee_unit: OctetString::from(u.to_vec()),
    })
}

fn distance() -> impl Strategy<Value = Distance> {
    (any::<u32>(), any::<u8>()).prop_map(|(dist, dis_unit)| Distance { dist, dis_unit })
}

fn period() -> impl Strategy<Value = Period> {
    (time(), time()).prop_map(|(b, e)| Period {
        begin_of_period: b,
        end_of_period: e,
    })
}

fn tariff() -> impl Strategy<Value = TariffClassDescription> {
    (
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u16>()),
        proptest::option::of(any::<u16>()),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u8>()),
    )
        .prop_map(|(a, b, c, d, e)| TariffClassDescription {
            tariff_class_id: a,
            local_vehicle_class: b,
            time_class: c,
            location_class: d,
            user_class: e,
        })
}

fn integer() -> impl Strategy<Value = Integer> {
    any::<i64>().prop_map(Integer::from)
}

fn usage_statement() -> impl Strategy<Value = UsageStatementEntry> {
    (
        proptest::option::of(any::<u16>()),
        proptest::option::of(provider()),
        proptest::option::of((period(), fee(), proptest::option::of(fee()))),
        proptest::option::of((
            proptest::option::of(period()),
            proptest::option::of(tariff()),
            proptest::option::of(distance()),
            proptest::option::of(integer()),
        )),
        proptest::option::of(prop::collection::vec(
            (
                any::<u32>(),
                proptest::option::of(time()),
                proptest::option::of(tariff()),
            ),
            0..3,
        )),
        proptest::option::of(any::<bool>()),
        proptest::option::of(octets(20)),
    )
        .prop_map(|(id, tc, agg, session, objects, no_usage, extra)| {
            let mut us = UsageStatement::default();
            us.usage_statement_id = id;
            us.toll_context = tc;
            us.aggregated_fee = agg.map(|(p, f, v)| AggregatedFee {
                time_period_covered: p,
                fee_excl_vat: f,
                sum_vat: v,
            });
            us.aggregated_single_tariff_class_session = session.map(|(p, t, d, n)| {
                let mut s = AggregatedSingleTariffClassSession::default();
                s.time_period_covered = p;
                s.current_tariff_class = t;
                s.total_distance_covered = d;
                s.number_of_detected_events = n;
                s
            });
            us.list_of_charge_objects = objects.map(|v| {
                v.into_iter()
                    .map(|(designation, used, class)| DetectedChargeObject {
                        charge_object_id: ChargeObjectId {
                            charge_report_final_recipient: None,
                            charge_object_designation: designation,
                        },
                        sub_object_number: None,
                        time_when_used: used,
                        mileage_when_used: None,
                        current_tariff_class: class,
                        vehicle_description: None,
                        obe_status: None,
                        fee_excl_vat: None,
                        sum_vat: None,
                        charge_obj_detection_mode: None,
                    })
                    .collect()
            });
            us.no_usage = no_usage;
            us.additional_usage_information = extra;
            UsageStatementEntry::UsageStatement(us)
        })
}

fn charge_report() -> impl Strategy<Value = ChargeReport> {
    (
        contract(),
        proptest::option::of((any::<u16>(), octets(16))),
        proptest::option::of(time()),
        proptest::option::of(period()),
        prop::collection::vec(usage_statement(), 0..4),
        proptest::option::of(any::<u8>()),
        proptest::option::of(any::<u32>()),
        proptest::option::of(distance()),
        proptest::option::of(fee()),
        proptest::option::of(provider()),
    )
        .prop_map(
            |(c, obe, tor, rp, list, status, counter, mileage, vat, toll)| {
                let mut r = ChargeReport::new(c);
                r.obe_id = obe.map(|(m, e)| ObeId {
                    manufacturer_id: m,
                    equipment_obu_id: e,
                });
                r.time_of_report = tor;
                r.report_period = rp;
                r.usage_statement_list = list;
                r.account_status = status;
                r.charge_report_counter = counter;
                r.mileage = mileage;
                r.sum_vat_for_this_session = vat;
                r.toll_context = toll;
                r
            },
        )
}

fn account_update() -> impl Strategy<Value = AccountUpdate> {
    prop_oneof![
        (
            proptest::option::of(fee()),
            proptest::option::of(distance()),
            proptest::option::of(time()),
            proptest::option::of(integer())
        )
            .prop_map(|(c, d, t, e)| {
                let mut l = NewAccountLimit::default();
                l.new_credit_limit = c;
                l.new_distance_limit = d;
                l.new_time_limit = t;
                l.new_event_limit = e;
                AccountUpdate::SetAccount(l)
            }),
        (
            proptest::option::of(fee()),
            proptest::option::of(distance()),
            proptest::option::of((any::<u32>(), any::<u8>())),
            proptest::option::of(integer())
        )
            .prop_map(|(c, d, dur, e)| {
                let mut a = AddToAccount::default();
                a.add_credit = c;
                a.add_distance = d;
                a.add_duration = dur.map(|(dur, dur_unit)| Duration { dur, dur_unit });
                a.add_events = e;
                AccountUpdate::AddToAccount(a)
            }),
        prop::array::uniform5(proptest::option::of(any::<bool>())).prop_map(|f| {
            let mut r = ReloadAccount::default();
            r.reload_old_credit_amount = f[0];
            r.reload_old_distance_limit = f[1];
            r.reload_old_time_limit = f[2];
            r.reload_old_duration_limit = f[3];
            r.reload_old_event_limit = f[4];
            AccountUpdate::ReloadAccount(r)
        }),
    ]
}

fn response() -> impl Strategy<Value = ChargeReportResponse> {
    (
        proptest::option::of(provider()),
        proptest::option::of(prop_oneof![
            time().prop_map(DataReceived::TimeOfReport),
            distance().prop_map(DataReceived::Mileage),
            any::<u32>().prop_map(DataReceived::ChargeReportCounter),
        ]),
        proptest::option::of(octets(4).prop_map(VersionId::BasicVersionId)),
        proptest::option::of(any::<u8>()),
        proptest::option::of(account_update()),
    )
        .prop_map(|(s, d, v, o, a)| {
            let mut r = ChargeReportResponse::default();
            r.charge_report_resp_sender = s;
            r.data_received = d;
            r.versions_response = v;
            r.obe_status_for_driver = o;
            r.account_update = a;
            r
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn charge_report_round_trips(report in charge_report()) {
        let bytes = encode(&report).unwrap();
        prop_assert_eq!(decode::<ChargeReport>(&bytes).unwrap(), report);
    }

    #[test]
    fn charge_report_response_round_trips(crr in response()) {
        let bytes = encode(&crr).unwrap();
        prop_assert_eq!(decode::<ChargeReportResponse>(&bytes).unwrap(), crr);
    }

    #[test]
    fn authenticated_report_verifies_and_tamper_fails(report in charge_report(), key in prop::collection::vec(any::<u8>(), 1..40), flip in any::<usize>()) {
        let key_ref = auth::KeyRef { master_key_ref: 1, key_derivation_id: b"obe".to_vec() };
        let wrapped = auth::authenticate_charge_report(&report, &key, &key_ref).unwrap();
        let bytes = encode(&wrapped).unwrap();
        let back: AuthenticatedChargeReport = decode(&bytes).unwrap();
        prop_assert_eq!(auth::open_charge_report(&back, &key).unwrap(), report);
        let mut per = back.charge_report_per.clone().into_vec();
        let i = flip % per.len();
        per[i] ^= 1;
        let tampered = AuthenticatedChargeReport { charge_report_per: rasn::types::BitString::from_vec(per), message_authenticator: back.message_authenticator.clone() };
        prop_assert!(matches!(auth::open_charge_report(&tampered, &key), Err(AduError::Authentication(_))));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        for result in [decode::<ChargeReport>(&bytes).map(|_| ()), decode::<ChargeReportResponse>(&bytes).map(|_| ()), decode::<AuthenticatedChargeReport>(&bytes).map(|_| ()), adu::Adu::from_frame(&bytes).map(|_| ())] {
            if let Err(e) = result {
                let is_decode = matches!(e, AduError::Decode { .. });
                prop_assert!(is_decode, "{}", e);
            }
        }
    }
}
