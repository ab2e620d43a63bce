//! Block I, Tariff and cost. The CSMS holds a tariff for the station (energy only, so the
//! expected amounts do not depend on how long the test takes): 0.30 EUR/kWh + 20 % VAT, and the
//! valid idToken of the OCTT configuration. Beyond the tool's validations, the tests check the
//! amounts against the tariff to the cent and the charge record the CSMS kept.

use std::str::FromStr;

use rust_decimal::Decimal;
use unicharge_core::tariff::{Tariff, TariffAssignment, TariffScope};
use unicharge_core::tokens::IdTokenRecord;
use unicharge_core::StationId;
use unicharge_sim::octt;
use unicharge_sim::octt::i_tariff_cost::{self, CostConfig};

use crate::common::{assert_pass, StationSpec, TestCsms};

const CP: &str = "CP001";

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn tariff() -> Tariff {
    Tariff {
        id: "ENERGY-030".into(),
        currency: "EUR".into(),
        vat_percent: dec("20"),
        price_per_kwh: dec("0.30"),
        price_per_charging_minute: Decimal::ZERO,
        price_per_idle_minute: Decimal::ZERO,
        session_fee: Decimal::ZERO,
        valid_from: None,
        valid_to: None,
        display_text: Vec::new(),
    }
}

/// A server with CP001, the valid idToken and (if `priced`) the tariff assigned to CP001.
async fn start(priced: bool, cost_updated: bool) -> TestCsms {
    let csms = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        if cost_updated {
            s.csms.running_cost = unicharge_csms::config::RunningCost::CostUpdated;
        }
    })
    .await;
    let store = &csms.server.store;
    store
        .upsert_token(&IdTokenRecord {
            id_token: "OCTT-VALID-001".into(),
            kind: "ISO14443".into(),
            status: "Accepted".into(),
            expiry: None,
            group_id_token: None,
        })
        .await
        .unwrap();
    if priced {
        store.put_tariff(&tariff()).await.unwrap();
        store
            .add_tariff_assignment(&TariffAssignment {
                tariff_id: "ENERGY-030".into(),
                scope: TariffScope::Station {
                    station_id: CP.into(),
                },
            })
            .await
            .unwrap();
    }
    csms
}

/// Default delivery: the running cost in every TransactionEventResponse. Registers 1000 Wh then
/// 2500 Wh: 0.00 after the first sample (no energy yet), then 1.5 kWh × 0.30 = 0.45 + 0.09 VAT.
#[tokio::test]
async fn tc_i_01_csms() {
    let csms = start(true, false).await;
    assert_pass(
        "TC_I_01_CSMS",
        octt::run("TC_I_01_CSMS", &csms.target(CP, 1), None).await,
    );
    let (_, costs) = i_tariff_cost::tc_i_01(&csms.target(CP, 1), &CostConfig::default())
        .await
        .unwrap();
    let shown: Vec<_> = costs.iter().map(|c| c.in_response).collect();
    assert_eq!(shown, vec![Some(dec("0.00")), Some(dec("0.54"))]);
    assert!(costs.iter().all(|c| c.cost_updated.is_none()));
}

/// `running_cost = "cost-updated"`: responses without totalCost, each followed by a
/// CostUpdatedRequest for the transaction with the running cost.
#[tokio::test]
async fn tc_i_01_csms_with_cost_updated_requests() {
    let csms = start(true, true).await;
    let (session, costs) = i_tariff_cost::tc_i_01(&csms.target(CP, 1), &CostConfig::default())
        .await
        .unwrap();
    assert!(costs.iter().all(|c| c.in_response.is_none()));
    let sent: Vec<_> = costs.iter().map(|c| c.cost_updated).collect();
    assert_eq!(sent, vec![Some(dec("0.00")), Some(dec("0.54"))]);
    // The CSMS's own calls are in the command log (written once each answer is in: wait for
    // the last one to land).
    let mut cost_updates = Vec::new();
    for _ in 0..250 {
        cost_updates = csms
            .server
            .store
            .commands(&StationId::new(CP).unwrap(), 50)
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.action == "CostUpdated")
            .collect();
        if cost_updates.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(cost_updates.len(), 2);
    assert!(cost_updates
        .iter()
        .all(|c| c.request.contains(&session.transaction_id)
            && c.requested_by.as_deref() == Some("csms")));
}

/// The Ended answer carries the final cost (no energy reported: 0.00), and the charge record is
/// stored with the tariff.
#[tokio::test]
async fn tc_i_02_csms() {
    let csms = start(true, false).await;
    assert_pass(
        "TC_I_02_CSMS",
        octt::run("TC_I_02_CSMS", &csms.target(CP, 1), None).await,
    );
    let (session, total) = i_tariff_cost::tc_i_02(&csms.target(CP, 1)).await.unwrap();
    assert_eq!(total, dec("0.00"));
    let record = csms
        .server
        .store
        .charge_record(&format!("{CP}:{}", session.transaction_id))
        .await
        .unwrap()
        .expect("a charge record for the ended transaction");
    assert_eq!(record.tariff_id.as_deref(), Some("ENERGY-030"));
    assert_eq!(record.stopped_reason.as_deref(), Some("EVDisconnected"));
    assert_eq!(record.id_token.as_deref(), Some("OCTT-VALID-001"));
    assert_eq!(record.cost.unwrap().total_incl_vat, dec("0.00"));
}

/// Without any tariff the final answer still carries totalCost (0: charging was free), and the
/// charge record has no cost breakdown.
#[tokio::test]
async fn tc_i_02_csms_free_charging() {
    let csms = start(false, false).await;
    let (session, total) = i_tariff_cost::tc_i_02(&csms.target(CP, 1)).await.unwrap();
    assert_eq!(total, Decimal::ZERO);
    let record = csms
        .server
        .store
        .charge_record(&format!("{CP}:{}", session.transaction_id))
        .await
        .unwrap()
        .unwrap();
    assert!(record.cost.is_none() && record.tariff_id.is_none());
}
