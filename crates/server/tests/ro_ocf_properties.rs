//! Issue 14's property through the OCF itself, with ADR 0046's memory in the way: for any
//! interleaving of CCRs of several sessions on one account, answered by two OCF nodes sharing
//! one store (each holding sessions and the account in memory), with retransmissions to either
//! node, operator top-ups in between and requests of two sessions racing, the account is
//! debited exactly the rated used units — once — and never goes below its floor.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use proptest::prelude::*;
use rust_decimal::Decimal;
use unicharge_core::ledger::{Account, Operation, Request, Unit};
use unicharge_core::online::{OnlineTariff, QuotaUnit, Subscriber, TariffSwitch};
use unicharge_diameter::cc::{CcRequestType, Ccr, Mscc, ServiceUnit};
use unicharge_diameter::rf::SubscriptionId;
use unicharge_diameter::{CommandFlags, Message};
use unicharge_server::diameter::ro::{Ocf, OcfConfig};
use unicharge_server::settings::RoSettings;
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::Store;

const ACCOUNT: &str = "prop";
const MSISDN: &str = "4915100000077";
const VOICE: u32 = 10;
/// Per 60 s block: 0.10 before the switch, 0.05 after.
const BEFORE: i64 = 10;
const AFTER: i64 = 5;

#[derive(Debug, Clone)]
enum Step {
    /// The session's next CCR (INITIAL, two UPDATEs, TERMINATION) to node `node`, reporting
    /// `used` seconds on side `side` (0 before the switch, 1 after, 2 not said: before).
    Next {
        session: usize,
        node: usize,
        used: u64,
        side: u8,
    },
    /// Two sessions' next CCRs at once, one on each node.
    Race { a: usize, b: usize, used: u64 },
    /// The session's last CCR again, T flag set, to node `node`.
    Retransmit { session: usize, node: usize },
    /// The operator tops the account up (a movement neither node planned).
    TopUp { cents: i64 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..3usize, 0..2usize, 0..200u64, 0..3u8)
            .prop_map(|(session, node, used, side)| Step::Next { session, node, used, side }),
        1 => (0..3usize, 0..3usize, 0..200u64).prop_map(|(a, b, used)| Step::Race { a, b, used }),
        2 => (0..3usize, 0..2usize).prop_map(|(session, node)| Step::Retransmit { session, node }),
        1 => (1..500i64).prop_map(|cents| Step::TopUp { cents }),
    ]
}

struct Session {
    id: String,
    /// CCRs sent so far (the next CC-Request-Number).
    sent: u32,
    last: Option<Message>,
    last_answer: Option<Message>,
    /// What its answered reports cost.
    rated: Decimal,
}

fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

fn ccr(s: &Session, used: u64, side: u8) -> Option<(Ccr, Decimal)> {
    let request_type = match s.sent {
        0 => CcRequestType::Initial,
        1 | 2 => CcRequestType::Update,
        3 => CcRequestType::Termination,
        _ => return None,
    };
    let mut mscc = Mscc {
        rating_group: Some(VOICE),
        ..Default::default()
    };
    if request_type != CcRequestType::Termination {
        mscc.requested = Some(ServiceUnit {
            cc_time: Some(120),
            ..Default::default()
        });
    }
    let mut cost = Decimal::ZERO;
    if request_type != CcRequestType::Initial {
        mscc.used = vec![ServiceUnit {
            cc_time: Some(used as u32),
            tariff_change_usage: (side < 2).then_some(i32::from(side)),
            ..Default::default()
        }];
        let price = if side == 1 { AFTER } else { BEFORE };
        cost = Decimal::from(used.div_ceil(60)) * cents(price);
    }
    Some((
        Ccr {
            session_id: s.id.clone(),
            origin_host: "ctf.prop".into(),
            origin_realm: "prop".into(),
            destination_realm: "ocf.prop".into(),
            service_context_id: "32260@3gpp.org".into(),
            request_type,
            request_number: s.sent,
            requested_action: None,
            event_timestamp: None,
            subscription_ids: vec![SubscriptionId {
                kind: 0,
                data: MSISDN.into(),
            }],
            mscc: vec![mscc],
        },
        cost,
    ))
}

async fn setup() -> (tempfile::TempDir, Arc<dyn Store>, [Arc<Ocf>; 2]) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&dir.path().join("ro.db"), Durability::Normal)
            .await
            .unwrap(),
    );
    let now = Utc::now();
    store
        .ledger_open(
            &Account::open(ACCOUNT, Unit::Money("EUR".into()), Decimal::ZERO, now).unwrap(),
        )
        .await
        .unwrap();
    store
        .ledger_apply(&Request {
            account: ACCOUNT.into(),
            reference: "start".into(),
            operation: Operation::TopUp {
                amount: cents(10_000),
            },
            at: now,
        })
        .await
        .unwrap();
    store
        .ro_put_subscriber(&Subscriber {
            id_type: "END_USER_E164".into(),
            id_data: MSISDN.into(),
            account: ACCOUNT.into(),
            barred: false,
        })
        .await
        .unwrap();
    store
        .ro_put_tariff(&OnlineTariff {
            id: "voice".into(),
            rating_group: Some(VOICE),
            service_identifier: None,
            unit: QuotaUnit::Time,
            currency: "EUR".into(),
            price: cents(BEFORE),
            block: 60,
            max_grant: Some(3600),
            default_grant: 120,
            switch: Some(TariffSwitch {
                at: now + chrono::Duration::hours(1),
                price: cents(AFTER),
            }),
        })
        .await
        .unwrap();
    let config = OcfConfig::from_settings(
        &RoSettings::default(),
        "ocf.prop",
        "ocf.prop",
        Duration::from_secs(5),
    )
    .unwrap();
    let nodes = [
        Ocf::new(config.clone(), store.clone()),
        Ocf::new(config, store.clone()),
    ];
    (dir, store, nodes)
}

/// Sends the session's next CCR to `node`; every CCR of these sessions must be answered 2001.
async fn next(ocf: &Ocf, s: &mut Session, used: u64, side: u8) {
    let Some((c, cost)) = ccr(s, used, side) else {
        return;
    };
    let m = c.to_message();
    let a = ocf.on_ccr(m.clone()).await.expect("a CCA");
    assert_eq!(a.result_code(), Some(2001), "{a:?}");
    s.sent += 1;
    s.rated += cost;
    s.last = Some(m);
    s.last_answer = Some(a);
}

fn run(steps: Vec<Step>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let (_dir, store, nodes) = setup().await;
        let mut sessions: Vec<Session> = (0..3)
            .map(|i| Session {
                id: format!("ctf.prop;{i}"),
                sent: 0,
                last: None,
                last_answer: None,
                rated: Decimal::ZERO,
            })
            .collect();
        let mut topped = Decimal::ZERO;
        for (i, step) in steps.into_iter().enumerate() {
            match step {
                Step::Next {
                    session,
                    node,
                    used,
                    side,
                } => {
                    next(&nodes[node], &mut sessions[session], used, side).await;
                }
                Step::Race { a, b, used } if a != b => {
                    let (x, y) = if a < b {
                        let (l, r) = sessions.split_at_mut(b);
                        (&mut l[a], &mut r[0])
                    } else {
                        let (l, r) = sessions.split_at_mut(a);
                        (&mut r[0], &mut l[b])
                    };
                    tokio::join!(next(&nodes[0], x, used, 0), next(&nodes[1], y, used, 1));
                }
                Step::Race { .. } => {}
                Step::Retransmit { session, node } => {
                    let s = &sessions[session];
                    let (Some(m), Some(first)) = (&s.last, &s.last_answer) else {
                        continue;
                    };
                    let mut again = m.clone();
                    again.header.flags = again.header.flags.with(CommandFlags::RETRANSMIT, true);
                    let a = nodes[node].on_ccr(again).await.expect("a CCA");
                    assert_eq!(a.avps, first.avps, "the stored answer, not a new one");
                }
                Step::TopUp { cents: c } => {
                    store
                        .ledger_apply(&Request {
                            account: ACCOUNT.into(),
                            reference: format!("top-up-{i}"),
                            operation: Operation::TopUp { amount: cents(c) },
                            at: Utc::now(),
                        })
                        .await
                        .unwrap();
                    topped += cents(c);
                }
            }
        }
        let account = store.ledger_account(ACCOUNT).await.unwrap().unwrap();
        let rated: Decimal = sessions.iter().map(|s| s.rated).sum();
        assert_eq!(
            account.balance,
            cents(10_000) + topped - rated,
            "debited exactly the rated used units, once"
        );
        assert!(account.balance >= account.floor);
        let mut held = Decimal::ZERO;
        for s in &sessions {
            let row = store.ro_session(&s.id).await.unwrap();
            match row {
                Some(row) => {
                    assert_eq!(row.data.debited, s.rated, "session {}", s.id);
                    assert_eq!(row.last_request_number, i64::from(s.sent) - 1);
                    held += row.data.grants.iter().map(|g| g.reserved).sum::<Decimal>();
                }
                None => assert_eq!(s.sent, 0),
            }
        }
        assert_eq!(account.reserved, held, "reserved = the open grants");
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn ro_ocf_two_nodes_debit_exactly_once(steps in prop::collection::vec(step(), 1..40)) {
        run(steps);
    }
}
