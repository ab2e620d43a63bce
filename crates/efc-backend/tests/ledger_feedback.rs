//! Back End Feedback driven by the contract's accounts in the core ledger, over real TCP with
//! the simulator as the Front End: charge reports debit the accounts in the same durable write,
//! the standing chooses obeStatusForDriver, and an OBE out of step gets `setAccount` with what
//! the ledger has available.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use unicharge_core::ledger::{Account, Operation, Request, Unit};
use unicharge_efc::dsrc::set_mmi;
use unicharge_efc::{
    account_status, dis_unit, AccountUpdate, Distance, NewAccountLimit, PaymentFee,
};
use unicharge_efc_backend::transport::{self, Listeners};
use unicharge_efc_backend::{Backend, EfcSettings};
use unicharge_sim::efc::{AccountKind, Bearer, Client, FrontEnd, OnBoardAccount};
use unicharge_store::efc::{EfcAccountLink, EfcContract};
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::Store;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()
}

struct Rig {
    backend: Backend,
    listeners: Listeners,
    _dir: tempfile::TempDir,
}

async fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("efc.sqlite"), Durability::Normal)
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let settings = EfcSettings {
        tcp_listen: Some("127.0.0.1:0".parse().unwrap()),
        http_listen: None,
        ..EfcSettings::default()
    };
    let backend = Backend::with_clock(store, settings.clone().into(), Arc::new(now));
    let listeners = transport::start(backend.clone(), settings.tcp_listen, None, 65_536)
        .await
        .unwrap();
    Rig {
        backend,
        listeners,
        _dir: dir,
    }
}

impl Rig {
    async fn client(&self) -> Client {
        Client::connect(&Bearer::Tcp(self.listeners.tcp_addr.unwrap()))
            .await
            .unwrap()
    }

    async fn open(&self, id: &str, unit: Unit, top_up: Decimal) {
        let store = self.backend.store();
        store
            .ledger_open(&Account::open(id, unit, Decimal::ZERO, now()).unwrap())
            .await
            .unwrap();
        self.top_up(id, "api:initial", top_up).await;
    }

    async fn top_up(&self, id: &str, reference: &str, amount: Decimal) {
        self.backend
            .store()
            .ledger_apply(&Request {
                account: id.into(),
                reference: reference.into(),
                operation: Operation::TopUp { amount },
                at: now(),
            })
            .await
            .unwrap();
    }

    async fn link(&self, fe: &FrontEnd, link: EfcAccountLink) {
        let key = format!(
            "276-{}-0001-1",
            fe.contract.contract_provider.provider_identifier
        );
        self.backend
            .register_contract(EfcContract {
                contract_key: key,
                accounts: vec![link],
                label: String::new(),
                created_at: now(),
            })
            .await
            .unwrap();
    }

    async fn balance(&self, id: &str) -> Decimal {
        let a = self
            .backend
            .store()
            .ledger_account(id)
            .await
            .unwrap()
            .unwrap();
        assert!(a.balance >= a.floor);
        a.balance
    }
}

fn link(account: &str, low_below: Decimal) -> EfcAccountLink {
    EfcAccountLink {
        account: account.into(),
        low_below,
        fee_decimals: 2,
        pay_unit_hex: "03d2".into(),
        sync_obe: true,
    }
}

fn eur(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

fn credit_limit(cents: u16) -> Option<AccountUpdate> {
    let mut l = NewAccountLimit::default();
    l.new_credit_limit = Some(PaymentFee {
        payment_fee_amount: cents,
        payment_fee_unit: vec![0x03, 0xd2].into(),
    });
    Some(AccountUpdate::SetAccount(l))
}

/// The simulator charges 1.25 EUR (125 cents) per report.
#[tokio::test]
async fn credit_account_debited_by_reports_drives_the_driver_display() {
    let rig = rig().await;
    let mut fe = FrontEnd::new(42, &[0xB0, 1], 901);
    fe.account = Some(OnBoardAccount {
        kind: AccountKind::Credit,
        remaining: 500,
        threshold: 250,
        reload_value: 100,
    });
    rig.open("c1-eur", Unit::Money("EUR".into()), eur(500))
        .await;
    rig.link(&fe, link("c1-eur", eur(250))).await;
    let mut c = rig.client().await;

    // 5.00 → 3.75 → 2.50: ok, and the OBE (ok) is in step: nothing to change.
    for left in [375, 250] {
        let (r, crr) = fe.report(&mut c, now()).await.unwrap();
        assert_eq!(r.account_status, Some(account_status::OK));
        assert_eq!(crr.obe_status_for_driver, Some(set_mmi::OK));
        assert_eq!(crr.account_update, None);
        assert_eq!(rig.balance("c1-eur").await, eur(left));
    }
    // 1.25 left: low. The OBE still says ok: its limit is set to what the ledger has.
    let (_, crr) = fe.report(&mut c, now()).await.unwrap();
    assert_eq!(rig.balance("c1-eur").await, eur(125));
    assert_eq!(
        crr.obe_status_for_driver,
        Some(set_mmi::OK),
        "low: policy ok"
    );
    assert_eq!(crr.account_update, credit_limit(125));
    // Nothing left: contact the operator; the OBE (low) is set to 0.
    let (r, crr) = fe.report(&mut c, now()).await.unwrap();
    assert_eq!(r.account_status, Some(account_status::LOW));
    assert_eq!(rig.balance("c1-eur").await, Decimal::ZERO);
    assert_eq!(crr.obe_status_for_driver, Some(set_mmi::CONTACT_OPERATOR));
    assert_eq!(crr.account_update, credit_limit(0));
    // Driving on empty: the usage is booked as shortfall, the balance stays at the floor.
    let (r, crr) = fe.report(&mut c, now()).await.unwrap();
    assert_eq!(r.account_status, Some(account_status::EMPTY));
    assert_eq!(crr.obe_status_for_driver, Some(set_mmi::CONTACT_OPERATOR));
    assert_eq!(crr.account_update, None, "the OBE is in step (empty)");
    let last = &rig
        .backend
        .store()
        .ledger_movements("c1-eur", 1)
        .await
        .unwrap()[0];
    assert_eq!((last.amount, last.shortfall), (Decimal::ZERO, eur(125)));
    assert!(
        last.reference
            .starts_with(&format!("efc:{}:4@", fe.obe_key())),
        "traceable to the report: {}",
        last.reference
    );

    // The operator tops up 10.00: the next report is debited and the OBE gets 8.75.
    rig.top_up("c1-eur", "api:pay-1", eur(1000)).await;
    let (r, crr) = fe.report(&mut c, now()).await.unwrap();
    assert_eq!(rig.balance("c1-eur").await, eur(875));
    assert_eq!(crr.obe_status_for_driver, Some(set_mmi::OK));
    assert_eq!(crr.account_update, credit_limit(875));
    // The same report again (retransmission): the stored answer, not a second debit.
    let again = c.exchange(&fe.frame(&r)).await.unwrap();
    assert_eq!(fe.accept(&r, &again).unwrap(), crr);
    assert_eq!(rig.balance("c1-eur").await, eur(875));

    // Books: balance = top-ups − debited, every report one movement.
    let history = rig
        .backend
        .store()
        .ledger_movements("c1-eur", 100)
        .await
        .unwrap();
    assert_eq!(history.len(), 2 + 6);
    let debited: Decimal = history
        .iter()
        .filter(|m| m.reference.starts_with("efc:"))
        .map(|m| m.amount)
        .sum();
    assert_eq!(eur(1500) - debited, eur(875));
}

/// A distance account in metres: the simulator drives 12 km per report (DistanceUnit km).
#[tokio::test]
async fn distance_account_is_debited_in_metres_and_sets_the_distance_limit() {
    let rig = rig().await;
    let mut fe = FrontEnd::new(42, &[0xB0, 2], 902);
    fe.account = Some(OnBoardAccount {
        kind: AccountKind::Distance,
        remaining: 100_000,
        threshold: 15_000,
        reload_value: 1_000,
    });
    rig.open("c2-m", Unit::Distance, Decimal::from(30_000))
        .await;
    rig.link(&fe, link("c2-m", Decimal::from(15_000))).await;
    let mut c = rig.client().await;
    let (_, crr) = fe.report(&mut c, now()).await.unwrap();
    assert_eq!(rig.balance("c2-m").await, Decimal::from(18_000));
    assert_eq!(crr.account_update, None);
    let (_, crr) = fe.report(&mut c, now()).await.unwrap();
    assert_eq!(rig.balance("c2-m").await, Decimal::from(6_000));
    let mut limit = NewAccountLimit::default();
    limit.new_distance_limit = Some(Distance {
        dist: 6_000,
        dis_unit: dis_unit::METRES,
    });
    assert_eq!(crr.account_update, Some(AccountUpdate::SetAccount(limit)));
    assert_eq!(fe.account.as_ref().unwrap().remaining, 6_000);
    let (_, crr) = fe.report(&mut c, now()).await.unwrap();
    assert_eq!(rig.balance("c2-m").await, Decimal::ZERO);
    assert_eq!(crr.obe_status_for_driver, Some(set_mmi::CONTACT_OPERATOR));
}

/// A contract without ledger accounts keeps the policy by reported account status.
#[tokio::test]
async fn without_ledger_accounts_the_reported_status_policy_applies() {
    let rig = rig().await;
    let mut fe = FrontEnd::new(42, &[0xB0, 3], 903);
    let mut c = rig.client().await;
    let (_, crr) = fe.report(&mut c, now()).await.unwrap();
    assert_eq!(crr.obe_status_for_driver, Some(set_mmi::OK));
    assert_eq!(crr.account_update, None);
}

/// An `authenticatedUsageStatement` inside a plain report: verified with the key of the OBE
/// its keyDerivationID names, it is recorded and charged; with a bad MAC it is recorded empty,
/// not charged, and the report carries a violation (driver told nok).
#[tokio::test]
async fn authenticated_usage_statements_are_charged_only_when_their_mac_verifies() {
    use unicharge_efc::auth::{self, KeyRef};
    use unicharge_efc::UsageStatementEntry;
    use unicharge_store::efc::EfcObe;

    let rig = rig().await;
    let mut fe = FrontEnd::new(42, &[0xB0, 4], 904);
    let key = vec![7u8; 32];
    rig.backend
        .register_obe(EfcObe {
            obe_key: fe.obe_key(),
            mac_key_hex: Some(hex::encode(&key)),
            require_auth: false,
            label: String::new(),
            created_at: now(),
        })
        .await
        .unwrap();
    rig.open("c4-eur", Unit::Money("EUR".into()), eur(1000))
        .await;
    rig.link(&fe, link("c4-eur", Decimal::ZERO)).await;
    let key_ref = KeyRef {
        master_key_ref: 1,
        key_derivation_id: fe.obe_key().into_bytes(),
    };
    let mut c = rig.client().await;

    let seal = |fe: &mut FrontEnd, with: &[u8]| {
        let mut r = fe.next_report(now());
        let UsageStatementEntry::UsageStatement(us) = r.usage_statement_list[0].clone() else {
            unreachable!()
        };
        r.usage_statement_list = vec![UsageStatementEntry::AuthenticatedUsageStatement(
            auth::authenticate_usage_statement(&us, with, &key_ref).unwrap(),
        )];
        r
    };

    let good = seal(&mut fe, &key);
    let answer = c.exchange(&fe.frame(&good)).await.unwrap();
    let crr = fe.accept(&good, &answer).unwrap();
    assert_eq!(crr.obe_status_for_driver, Some(set_mmi::OK));
    let stored = &rig
        .backend
        .store()
        .efc_reports(Some(&fe.obe_key()), 1)
        .await
        .unwrap()[0];
    assert!(stored.violations.is_empty(), "{:?}", stored.violations);
    let record = &stored.charge_records[0];
    assert_eq!(
        (
            record.authenticated,
            record.fee_excl_vat,
            record.usage_statement_id
        ),
        (Some(true), Some(125), Some(1))
    );
    assert_eq!(rig.balance("c4-eur").await, eur(875));

    let forged = seal(&mut fe, &[9u8; 32]);
    let answer = c.exchange(&fe.frame(&forged)).await.unwrap();
    let crr = fe.accept(&forged, &answer).unwrap();
    assert_eq!(crr.obe_status_for_driver, Some(set_mmi::NOK));
    let stored = &rig
        .backend
        .store()
        .efc_reports(Some(&fe.obe_key()), 1)
        .await
        .unwrap()[0];
    assert_eq!(stored.violations.len(), 1);
    assert!(
        stored.violations[0].contains("does not verify"),
        "{:?}",
        stored.violations
    );
    assert_eq!(stored.charge_records[0].authenticated, Some(false));
    assert_eq!(stored.charge_records[0].fee_excl_vat, None);
    assert_eq!(rig.balance("c4-eur").await, eur(875), "not charged");
}
