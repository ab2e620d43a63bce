//! Block I, Tariff and cost. The operator configures the tariffs through the REST API
//! (`POST /api/v1/tariffs`, `POST /api/v1/tariff-assignments`, as an operator would), the valid
//! idToken of the OCTT configuration is in the store. Beyond the tool's validations, the tests
//! check the amounts against the tariff to the cent — computed by hand here from the tariff and
//! the readings, not by the CSMS's own rating code — and the charge record the CSMS kept, read
//! back through `GET /api/v1/charge-records/{id}`.
//!
//! * TC_I_01 plays the reusable states on the wall clock, so its tariff is energy only (0.30
//!   EUR/kWh + 20 % VAT): a time component would depend on how long the test takes.
//! * TC_I_02 plays a session with a fixed timeline ([`FinalCostConfig`]), so its tariff prices
//!   everything: 0.39 EUR/kWh, 0.02 EUR per charging minute, 0.10 EUR per idle minute, a 0.50
//!   EUR session fee, 19 % VAT.

use std::str::FromStr;
use std::sync::Arc;

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};
use unicharge_core::tokens::IdTokenRecord;
use unicharge_core::StationId;
use unicharge_sim::octt;
use unicharge_sim::octt::i_tariff_cost::{self, CostConfig, FinalCostConfig};

use crate::common::{assert_pass, StationSpec, TestCsms};
use crate::rest_operator::RestOperator;

const CP: &str = "CP001";

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// TC_I_01's tariff: energy only.
fn energy_tariff() -> Value {
    json!({"id": "ENERGY-030", "currency": "EUR", "vatPercent": "20", "pricePerKwh": "0.30",
           "pricePerChargingMinute": "0", "pricePerIdleMinute": "0", "sessionFee": "0"})
}

/// TC_I_02's tariff: every component.
fn full_tariff() -> Value {
    json!({"id": "STD-039", "currency": "EUR", "vatPercent": "19", "pricePerKwh": "0.39",
           "pricePerChargingMinute": "0.02", "pricePerIdleMinute": "0.10", "sessionFee": "0.50"})
}

/// A server with CP001, the operator API, the valid idToken, and (if given) the tariff posted
/// and assigned to CP001 through the API.
async fn start(tariff: Option<Value>, cost_updated: bool) -> (TestCsms, Arc<RestOperator>) {
    let csms = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        if cost_updated {
            s.csms.running_cost = unicharge_csms::config::RunningCost::CostUpdated;
        }
    })
    .await;
    csms.server
        .store
        .upsert_token(&IdTokenRecord {
            id_token: "OCTT-VALID-001".into(),
            kind: "ISO14443".into(),
            status: "Accepted".into(),
            expiry: None,
            group_id_token: None,
        })
        .await
        .unwrap();
    let operator = RestOperator::new(&csms);
    if let Some(tariff) = tariff {
        let id = tariff["id"].clone();
        operator.post("/tariffs", tariff).await.unwrap();
        operator
            .post(
                "/tariff-assignments",
                json!({"tariffId": id, "scope": {"scope": "station", "stationId": CP}}),
            )
            .await
            .unwrap();
    }
    (csms, operator)
}

/// Default delivery: the running cost in every TransactionEventResponse. Registers 1000 Wh then
/// 2500 Wh: 0.00 after the first sample (no energy yet), then 1.5 kWh × 0.30 = 0.45 + 0.09 VAT.
#[tokio::test]
async fn tc_i_01_csms() {
    let (csms, _operator) = start(Some(energy_tariff()), false).await;
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
    let (csms, _operator) = start(Some(energy_tariff()), true).await;
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

/// Half away from zero to the cent, as the tariff's rules say (0.005 → 0.01).
fn cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The Ended answer carries the final cost of the session of [`FinalCostConfig::default`]
/// under the full tariff, and the charge record read through the API holds the same usage and
/// breakdown.
///
/// By hand, from the timeline (seconds after the start) and the register readings:
///
/// | | |
/// |---|---|
/// | energy | 19 905.75 − 12 000 Wh = 7.90575 kWh × 0.39 = 3.0832425 → **3.08** |
/// | charging | 60 s → 2 790 s = 2 730 s = 45.5 min × 0.02 = **0.91** |
/// | idle | 30 s → 60 s and 2 790 s → 2 940 s = 180 s = 3 min × 0.10 = **0.30** |
/// | session fee | **0.50** |
/// | excl. VAT | 3.08 + 0.91 + 0.30 + 0.50 = **4.79** |
/// | VAT 19 % | 0.9101 → **0.91** |
/// | total | **5.70** |
///
/// A CSMS that lost the Ended event's own reading (the register at 19 837.25 Wh: 3.06, total
/// 5.68), the idle time before charging (2.5 min: 0.25), the session fee or the VAT answers
/// something else.
#[tokio::test]
async fn tc_i_02_csms() {
    let (csms, operator) = start(Some(full_tariff()), false).await;
    assert_pass(
        "TC_I_02_CSMS",
        octt::run("TC_I_02_CSMS", &csms.target(CP, 1), None).await,
    );
    // The same session again, two hours earlier: the run above played the same timeline on the
    // same EVSE, and the CSMS keeps one reading per EVSE, instant, measurand and context.
    let mut config = FinalCostConfig::default();
    config.start -= chrono::TimeDelta::hours(2);
    let (session, total) = i_tariff_cost::tc_i_02(&csms.target(CP, 1), &config)
        .await
        .unwrap();

    // The same numbers, derived from the configuration the scenario played.
    let energy_wh = config.end_wh - config.begin_wh;
    let charging_s = config.charging_stopped_at - config.charging_at;
    let idle_s = (config.charging_at - config.plugged_in_at)
        + (config.ended_at - config.charging_stopped_at);
    assert_eq!((energy_wh, charging_s, idle_s), (dec("7905.75"), 2730, 180));
    let energy = cents(energy_wh / dec("1000") * dec("0.39"));
    let charging = cents(Decimal::from(charging_s) / dec("60") * dec("0.02"));
    let idle = cents(Decimal::from(idle_s) / dec("60") * dec("0.10"));
    let fee = dec("0.50");
    let excl = energy + charging + idle + fee;
    let vat = cents(excl * dec("0.19"));
    assert_eq!(
        [energy, charging, idle, fee, excl, vat, excl + vat],
        ["3.08", "0.91", "0.30", "0.50", "4.79", "0.91", "5.70"].map(dec)
    );
    assert_eq!(
        total,
        dec("5.70"),
        "TransactionEventResponse.totalCost on Ended"
    );

    let record = operator
        .get(&format!(
            "/charge-records/{CP}%3A{}",
            session.transaction_id
        ))
        .await
        .unwrap();
    assert_eq!(record["tariffId"], "STD-039", "{record}");
    assert_eq!(record["stoppedReason"], "EVDisconnected");
    assert_eq!(record["idToken"], "OCTT-VALID-001");
    assert_eq!(
        record["startedAt"]
            .as_str()
            .map(|t| t.parse::<chrono::DateTime<chrono::Utc>>().unwrap()),
        Some(config.start),
        "{record}"
    );
    assert_eq!(
        record["endedAt"]
            .as_str()
            .map(|t| t.parse::<chrono::DateTime<chrono::Utc>>().unwrap()),
        Some(config.at(config.ended_at)),
        "{record}"
    );
    let usage = &record["usage"];
    assert_eq!(
        usage["energyWh"].as_str().map(dec),
        Some(energy_wh),
        "{usage}"
    );
    assert_eq!(usage["chargingSeconds"], charging_s, "{usage}");
    assert_eq!(usage["idleSeconds"], idle_s, "{usage}");
    assert_eq!(usage["energyWentBackwards"], false, "{usage}");
    let cost = &record["cost"];
    assert_eq!(cost["currency"], "EUR", "{cost}");
    // Amounts are decimal strings at the currency's scale: compared as written.
    for (field, amount) in [
        ("energy", "3.08"),
        ("chargingTime", "0.91"),
        ("idleTime", "0.30"),
        ("sessionFee", "0.50"),
        ("totalExclVat", "4.79"),
        ("vat", "0.91"),
        ("totalInclVat", "5.70"),
    ] {
        assert_eq!(cost[field], amount, "{field} in {cost}");
    }
}

/// Without any tariff the final answer still carries totalCost (0: charging was free), and the
/// charge record, with the session's energy, has no tariff and no cost breakdown.
#[tokio::test]
async fn tc_i_02_csms_free_charging() {
    let (csms, operator) = start(None, false).await;
    let (session, total) = i_tariff_cost::tc_i_02(&csms.target(CP, 1), &FinalCostConfig::default())
        .await
        .unwrap();
    assert_eq!(total, Decimal::ZERO);
    let record = operator
        .get(&format!(
            "/charge-records/{CP}%3A{}",
            session.transaction_id
        ))
        .await
        .unwrap();
    assert_eq!(record["tariffId"], Value::Null, "{record}");
    assert_eq!(record["cost"], Value::Null, "{record}");
    assert_eq!(
        record["usage"]["energyWh"].as_str().map(dec),
        Some(dec("7905.75"))
    );
}
