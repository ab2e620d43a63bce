//! The per-message cost of the OCPP layer on the CSMS hot path: parse an OCPP-J frame, validate
//! its payload against the official schema, deserialize it into the typed request; and the
//! answer's way back (serialize, validate, frame).

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use unicharge_ocpp::v201::{
    BootNotificationRequest, NotifyEventRequest, StatusNotificationRequest,
};
use unicharge_ocpp::{Direction, Frame, Validator};

const BOOT: &str = r#"[2,"19223201","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"SingleSocketCharger","vendorName":"VendorX","serialNumber":"SN-0001","firmwareVersion":"1.2.3"}}]"#;
const STATUS: &str = r#"[2,"19223202","StatusNotification",{"timestamp":"2026-11-21T10:00:00Z","connectorStatus":"Available","evseId":1,"connectorId":1}]"#;
const EVENT: &str = r#"[2,"19223203","NotifyEvent",{"generatedAt":"2026-11-21T10:00:00Z","seqNo":0,"eventData":[{"eventId":1,"timestamp":"2026-11-21T10:00:00Z","trigger":"Delta","actualValue":"Available","component":{"name":"Connector","evse":{"id":1,"connectorId":1}},"variable":{"name":"AvailabilityState"},"eventNotificationType":"HardWiredNotification"}]}]"#;

fn inbound<T: serde::de::DeserializeOwned>(text: &str) -> T {
    let Ok(Frame::Call {
        action, payload, ..
    }) = Frame::parse(text)
    else {
        panic!("bench frames are valid")
    };
    Validator::global()
        .validate(&action, Direction::Request, &payload)
        .unwrap();
    serde_json::from_value(payload).unwrap()
}

fn benches(c: &mut Criterion) {
    Validator::global();
    let mut group = c.benchmark_group("inbound: parse + validate + deserialize");
    group.bench_function("BootNotification", |b| {
        b.iter(|| inbound::<BootNotificationRequest>(black_box(BOOT)))
    });
    group.bench_function("StatusNotification", |b| {
        b.iter(|| inbound::<StatusNotificationRequest>(black_box(STATUS)))
    });
    group.bench_function("NotifyEvent", |b| {
        b.iter(|| inbound::<NotifyEventRequest>(black_box(EVENT)))
    });
    group.finish();

    let response = serde_json::json!({"currentTime": "2026-11-21T10:00:00Z", "interval": 300, "status": "Accepted"});
    c.bench_function("outbound: validate + frame BootNotificationResponse", |b| {
        b.iter(|| {
            Validator::global()
                .validate(
                    "BootNotification",
                    Direction::Response,
                    black_box(&response),
                )
                .unwrap();
            Frame::CallResult {
                id: "19223201".into(),
                payload: response.clone(),
            }
            .to_text()
        })
    });
}

criterion_group!(ocpp_j, benches);
criterion_main!(ocpp_j);
