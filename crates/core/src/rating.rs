//! Rating: what a [`Usage`] costs under a [`Tariff`], exactly.
//!
//! Money is never a binary float here: every amount is a [`Decimal`], every intermediate
//! product is exact, and rounding happens once per component, half-up, to the currency's minor
//! unit. The rule is spelled out on [`rate`] so that anyone holding a charge record and its
//! tariff — a driver, an auditor, a roaming partner — can recompute the bill by hand and get
//! the same cents. The same function rates a running session (OCPP
//! `TransactionEventResponse.totalCost` while charging) and the final one, so the last running
//! cost and the charge record agree.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::metering::Usage;
use crate::tariff::{currency_minor_units, Tariff, MAX_PRICE};

/// Energy beyond this (1 TWh, a thousand times a realistic maximum) is priced as this much.
/// Together with [`MAX_RATED_SECONDS`] and [`MAX_PRICE`] it bounds every intermediate value far
/// below `Decimal`'s limit (≈ 7.9 × 10²⁸), which is what makes [`rate`] unable to overflow.
pub const MAX_RATED_ENERGY_WH: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0); // 10^12

/// Durations beyond this (10¹⁰ s, about 317 years) are priced as this long; see
/// [`MAX_RATED_ENERGY_WH`].
pub const MAX_RATED_SECONDS: i64 = 10_000_000_000;

/// The cost of a session, per component, in `currency`'s major unit (e.g. euros), each amount
/// rounded to the currency's minor unit (see [`rate`] for the exact rule).
///
/// Serialized with camelCase names and amounts as decimal strings (`"3.70"`), which survive
/// every JSON parser unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostBreakdown {
    pub currency: String,
    /// Energy component, excluding VAT.
    pub energy: Decimal,
    /// Charging-time component, excluding VAT.
    pub charging_time: Decimal,
    /// Idle-time (parking) component, excluding VAT.
    pub idle_time: Decimal,
    /// Session fee, excluding VAT.
    pub session_fee: Decimal,
    /// Sum of the four components above.
    pub total_excl_vat: Decimal,
    /// VAT on `total_excl_vat`.
    pub vat: Decimal,
    /// `total_excl_vat + vat`: what the driver pays.
    pub total_incl_vat: Decimal,
}

impl CostBreakdown {
    /// A zero cost in `currency`, amounts at the currency's minor-unit scale (`0.00` for EUR).
    pub fn zero(currency: &str) -> Self {
        let mut zero = Decimal::ZERO;
        zero.rescale(currency_minor_units(currency));
        CostBreakdown {
            currency: currency.to_string(),
            energy: zero,
            charging_time: zero,
            idle_time: zero,
            session_fee: zero,
            total_excl_vat: zero,
            vat: zero,
            total_incl_vat: zero,
        }
    }
}

/// Rate `usage` under `tariff`.
///
/// The rule, with `d` the currency's minor-unit decimals ([`currency_minor_units`]: 2 for EUR,
/// 0 for JPY, 3 for KWD) and `round` meaning round half away from zero to `d` decimals
/// (0.005 → 0.01 for EUR; never banker's rounding):
///
/// ```text
/// energy         = round(energy_wh / 1000 × price_per_kwh)
/// charging_time  = round(charging_seconds / 60 × price_per_charging_minute)
/// idle_time      = round(idle_seconds / 60 × price_per_idle_minute)
/// session_fee    = round(session_fee)
/// total_excl_vat = energy + charging_time + idle_time + session_fee
/// vat            = round(total_excl_vat × vat_percent / 100)
/// total_incl_vat = total_excl_vat + vat
/// ```
///
/// Each `round` sees the exact quotient: the products are computed exactly and the division
/// by 1000, 60 or 100 is folded into the rounding (quotient and remainder), so 90 s at
/// 0.05/min is exactly 0.075 → 0.08, not 0.0749999… → 0.07. Rounding per component, before
/// VAT, is what lets the breakdown add up to the total to the cent.
///
/// Example: 12.345 kWh at 0.30 EUR/kWh, 20 % VAT: energy = round(3.7035) = 3.70,
/// vat = round(0.74) = 0.74, total_incl_vat = 4.44.
///
/// The session fee is charged for every rated session, including one that delivered nothing;
/// a caller that waives it for failed sessions does so before calling.
///
/// Never negative and never panics: negative usage or prices count as zero, VAT is clamped to
/// 0..=100, and inputs beyond [`MAX_RATED_ENERGY_WH`], [`MAX_RATED_SECONDS`] and
/// [`MAX_PRICE`] are priced at those bounds (only corrupt data or a tariff that fails
/// [`Tariff::validate`] gets there). Within the bounds no intermediate can overflow. The
/// result is exact whenever each product fits `Decimal`'s 28 significant digits — for example
/// for energy up to 10⁹ Wh with 3 decimals, durations up to 10 years and prices up to 10⁴ with
/// 6 decimals (property-tested against integer arithmetic); beyond that the last of 28 digits
/// may round before the final rounding to minor units.
pub fn rate(tariff: &Tariff, usage: &Usage) -> CostBreakdown {
    let inputs = Inputs::bounded(tariff, usage);
    // Unreachable fallback: `compute` cannot fail on bounded inputs (largest intermediate
    // ≈ 10²⁵, property-tested on arbitrary inputs), but a bill of zero beats a panic.
    compute(&inputs).unwrap_or_else(|| CostBreakdown::zero(&tariff.currency))
}

/// Rating inputs after clamping to the documented bounds.
#[derive(Debug)]
struct Inputs<'a> {
    currency: &'a str,
    minor_units: u32,
    vat_percent: Decimal,
    price_per_kwh: Decimal,
    price_per_charging_minute: Decimal,
    price_per_idle_minute: Decimal,
    session_fee: Decimal,
    energy_wh: Decimal,
    charging_seconds: Decimal,
    idle_seconds: Decimal,
}

impl<'a> Inputs<'a> {
    fn bounded(tariff: &'a Tariff, usage: &Usage) -> Self {
        let price = |p: Decimal| p.clamp(Decimal::ZERO, MAX_PRICE);
        let seconds = |s: i64| Decimal::from(s.clamp(0, MAX_RATED_SECONDS));
        Inputs {
            currency: &tariff.currency,
            minor_units: currency_minor_units(&tariff.currency),
            vat_percent: tariff
                .vat_percent
                .clamp(Decimal::ZERO, Decimal::ONE_HUNDRED),
            price_per_kwh: price(tariff.price_per_kwh),
            price_per_charging_minute: price(tariff.price_per_charging_minute),
            price_per_idle_minute: price(tariff.price_per_idle_minute),
            session_fee: price(tariff.session_fee),
            energy_wh: usage.energy_wh.clamp(Decimal::ZERO, MAX_RATED_ENERGY_WH),
            charging_seconds: seconds(usage.charging_seconds),
            idle_seconds: seconds(usage.idle_seconds),
        }
    }
}

fn compute(i: &Inputs<'_>) -> Option<CostBreakdown> {
    let d = i.minor_units;
    let sixty = Decimal::from(60);
    let energy = div_round(
        i.energy_wh.checked_mul(i.price_per_kwh)?,
        Decimal::ONE_THOUSAND,
        d,
    )?;
    let charging_time = div_round(
        i.charging_seconds
            .checked_mul(i.price_per_charging_minute)?,
        sixty,
        d,
    )?;
    let idle_time = div_round(
        i.idle_seconds.checked_mul(i.price_per_idle_minute)?,
        sixty,
        d,
    )?;
    let session_fee = div_round(i.session_fee, Decimal::ONE, d)?;
    let total_excl_vat = energy
        .checked_add(charging_time)?
        .checked_add(idle_time)?
        .checked_add(session_fee)?;
    let vat = div_round(
        total_excl_vat.checked_mul(i.vat_percent)?,
        Decimal::ONE_HUNDRED,
        d,
    )?;
    let total_incl_vat = total_excl_vat.checked_add(vat)?;
    Some(CostBreakdown {
        currency: i.currency.to_string(),
        energy,
        charging_time,
        idle_time,
        session_fee,
        total_excl_vat,
        vat,
        total_incl_vat,
    })
}

/// `numerator / divisor` rounded half away from zero to `dp` decimals, exactly, for
/// `numerator >= 0` and a positive integer `divisor`.
///
/// Works in units of 10^-dp: `n = numerator × 10^dp` (a scale shift, no rounding), split into
/// `q × divisor + r` with `0 <= r < divisor`, and `q` is rounded up when `2r >= divisor`. No
/// inexact quotient is ever formed, so a value like 0.075 cannot turn into 0.07499….
fn div_round(numerator: Decimal, divisor: Decimal, dp: u32) -> Option<Decimal> {
    let mut n = numerator;
    let scale = n.scale();
    if scale >= dp {
        n.set_scale(scale - dp).ok()?;
    } else {
        n.set_scale(0).ok()?;
        n = n.checked_mul(Decimal::try_from_i128_with_scale(10i128.pow(dp - scale), 0).ok()?)?;
    }
    let r = n.checked_rem(divisor)?;
    // n - r is an exact multiple of divisor, so this division is exact.
    let mut q = n.checked_sub(r)?.checked_div(divisor)?.round();
    if r.checked_mul(Decimal::TWO)? >= divisor {
        q = q.checked_add(Decimal::ONE)?;
    }
    q.set_scale(dp).ok()?;
    // q is an integer count of minor units; giving it scale dp divides by 10^dp exactly.
    // `set_scale` needs q's own scale to be 0, which `round()` guarantees.
    Some(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn tariff(currency: &str, vat: &str, kwh: &str, ch: &str, idle: &str, fee: &str) -> Tariff {
        Tariff {
            id: "T".into(),
            currency: currency.into(),
            vat_percent: dec(vat),
            price_per_kwh: dec(kwh),
            price_per_charging_minute: dec(ch),
            price_per_idle_minute: dec(idle),
            session_fee: dec(fee),
            valid_from: None,
            valid_to: None,
            display_text: vec![],
        }
    }

    fn usage(wh: &str, charging: i64, idle: i64) -> Usage {
        Usage {
            energy_wh: dec(wh),
            charging_seconds: charging,
            idle_seconds: idle,
            energy_went_backwards: false,
        }
    }

    /// (energy, charging, idle, fee, excl, vat, incl) as strings, scale included.
    fn amounts(c: &CostBreakdown) -> [String; 7] {
        [
            c.energy,
            c.charging_time,
            c.idle_time,
            c.session_fee,
            c.total_excl_vat,
            c.vat,
            c.total_incl_vat,
        ]
        .map(|d| d.to_string())
    }

    #[test]
    fn eur_example_from_the_doc() {
        let c = rate(
            &tariff("EUR", "20", "0.30", "0", "0", "0"),
            &usage("12345", 0, 0),
        );
        assert_eq!(
            amounts(&c),
            ["3.70", "0.00", "0.00", "0.00", "3.70", "0.74", "4.44"]
        );
        assert_eq!(c.currency, "EUR");
    }

    #[test]
    fn every_component_eur() {
        // 20.5 kWh × 0.39 = 7.995 → 8.00; 1 h 30 s charging × 0.05/min = 3.025 → 3.03;
        // 90 s idle × 0.05/min = 0.075 → 0.08 (half-up, exact); fee 0.495 → 0.50;
        // excl = 11.61; VAT 19 % = 2.2059 → 2.21; incl = 13.82
        let c = rate(
            &tariff("EUR", "19", "0.39", "0.05", "0.05", "0.495"),
            &usage("20500", 3630, 90),
        );
        assert_eq!(
            amounts(&c),
            ["8.00", "3.03", "0.08", "0.50", "11.61", "2.21", "13.82"]
        );
    }

    #[test]
    fn thirds_of_a_minute_round_from_the_exact_value() {
        // 61 s × 0.10/min = 0.101666… → 0.10; 20 s × 0.10 = 0.0333… → 0.03;
        // 40 s × 0.10 = 0.0666… → 0.07
        let t = tariff("EUR", "0", "0", "0.10", "0.10", "0");
        assert_eq!(rate(&t, &usage("0", 61, 20)).charging_time, dec("0.10"));
        assert_eq!(rate(&t, &usage("0", 61, 20)).idle_time, dec("0.03"));
        assert_eq!(rate(&t, &usage("0", 40, 0)).charging_time, dec("0.07"));
        // midpoint: 3 s × 0.10/min = 0.005 → 0.01 (banker's would give 0.00)
        assert_eq!(rate(&t, &usage("0", 3, 0)).charging_time, dec("0.01"));
    }

    #[test]
    fn jpy_has_no_decimals() {
        // 12.345 kWh × 35 = 432.075 → 432; 30 min × 10 = 300; fee 100;
        // excl 832; VAT 10 % = 83.2 → 83; incl 915
        let c = rate(
            &tariff("JPY", "10", "35", "10", "0", "100"),
            &usage("12345", 1800, 0),
        );
        assert_eq!(amounts(&c), ["432", "300", "0", "100", "832", "83", "915"]);
        // 0.5 yen rounds up
        let c = rate(&tariff("JPY", "0", "1", "0", "0", "0"), &usage("500", 0, 0));
        assert_eq!(c.total_incl_vat.to_string(), "1");
    }

    #[test]
    fn kwd_has_three_decimals() {
        // 12.345 kWh × 0.0155 = 0.1913475 → 0.191; 10 min × 0.0045 = 0.045;
        // 15 s idle × 0.002 = 0.0005 → 0.001; excl 0.237; VAT 5 % = 0.01185 → 0.012;
        // incl 0.249
        let c = rate(
            &tariff("KWD", "5", "0.0155", "0.0045", "0.002", "0"),
            &usage("12345", 600, 15),
        );
        assert_eq!(
            amounts(&c),
            ["0.191", "0.045", "0.001", "0.000", "0.237", "0.012", "0.249"]
        );
    }

    #[test]
    fn backwards_or_negative_usage_costs_nothing() {
        let t = tariff("EUR", "20", "0.30", "0.05", "0.10", "0");
        let mut u = usage("-5000", -60, -3600);
        u.energy_went_backwards = true;
        let c = rate(&t, &u);
        assert_eq!(c, CostBreakdown::zero("EUR"));
        assert_eq!(c.total_incl_vat.to_string(), "0.00");
    }

    #[test]
    fn invalid_tariff_values_are_clamped_not_billed_negative() {
        let t = tariff("EUR", "-20", "-0.30", "-1", "-1", "-5");
        assert_eq!(
            rate(&t, &usage("10000", 600, 600)),
            CostBreakdown::zero("EUR")
        );
        let t = tariff("EUR", "150", "0", "0", "0", "1");
        assert_eq!(rate(&t, &usage("0", 0, 0)).total_incl_vat, dec("2.00"));
    }

    #[test]
    fn bounds_are_what_the_docs_say() {
        assert_eq!(MAX_RATED_ENERGY_WH, Decimal::from(1_000_000_000_000i64));
        assert_eq!(MAX_PRICE, Decimal::from(1_000_000_000i64));
    }

    #[test]
    fn extreme_values_do_not_panic() {
        let t = tariff(
            "EUR",
            "100",
            "79228162514264337593543950335",
            "79228162514264337593543950335",
            "79228162514264337593543950335",
            "79228162514264337593543950335",
        );
        let u = Usage {
            energy_wh: Decimal::MAX,
            charging_seconds: i64::MAX,
            idle_seconds: i64::MAX,
            energy_went_backwards: false,
        };
        let c = rate(&t, &u);
        assert!(c.total_incl_vat > Decimal::ZERO);
        assert!(compute(&Inputs::bounded(&t, &u)).is_some());
    }

    #[test]
    fn serde_amounts_are_strings() {
        let c = rate(
            &tariff("EUR", "20", "0.30", "0", "0", "0"),
            &usage("12345", 0, 0),
        );
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"totalInclVat\":\"4.44\""), "{json}");
        assert!(json.contains("\"chargingTime\":\"0.00\""), "{json}");
        assert_eq!(serde_json::from_str::<CostBreakdown>(&json).unwrap(), c);
    }

    // ---- properties ----

    /// Any Decimal the type can hold: every sign, scale and magnitude.
    fn any_decimal() -> impl Strategy<Value = Decimal> {
        (
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            any::<bool>(),
            0u32..=28,
        )
            .prop_map(|(lo, mid, hi, neg, scale)| Decimal::from_parts(lo, mid, hi, neg, scale))
    }

    fn any_currency() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["EUR", "JPY", "KWD", "CLF", "XYZ"])
    }

    fn any_tariff() -> impl Strategy<Value = Tariff> {
        (
            any_currency(),
            any_decimal(),
            any_decimal(),
            any_decimal(),
            any_decimal(),
            any_decimal(),
        )
            .prop_map(|(cur, vat, kwh, ch, idle, fee)| Tariff {
                id: "T".into(),
                currency: cur.into(),
                vat_percent: vat,
                price_per_kwh: kwh,
                price_per_charging_minute: ch,
                price_per_idle_minute: idle,
                session_fee: fee,
                valid_from: None,
                valid_to: None,
                display_text: vec![],
            })
    }

    fn any_usage() -> impl Strategy<Value = Usage> {
        (any_decimal(), any::<i64>(), any::<i64>(), any::<bool>()).prop_map(
            |(wh, ch, idle, back)| Usage {
                energy_wh: wh,
                charging_seconds: ch,
                idle_seconds: idle,
                energy_went_backwards: back,
            },
        )
    }

    /// Realistic valid tariffs: prices up to 10^4 with 6 decimals, VAT 0..=100 with 2.
    fn realistic_tariff() -> impl Strategy<Value = (Tariff, [i128; 5])> {
        let price = 0i64..=10_000_000_000;
        (
            any_currency(),
            0i64..=10_000,
            price.clone(),
            price.clone(),
            price.clone(),
            price,
        )
            .prop_map(|(cur, vat, kwh, ch, idle, fee)| {
                let t = Tariff {
                    id: "T".into(),
                    currency: cur.into(),
                    vat_percent: Decimal::new(vat, 2),
                    price_per_kwh: Decimal::new(kwh, 6),
                    price_per_charging_minute: Decimal::new(ch, 6),
                    price_per_idle_minute: Decimal::new(idle, 6),
                    session_fee: Decimal::new(fee, 6),
                    valid_from: None,
                    valid_to: None,
                    display_text: vec![],
                };
                (t, [vat, kwh, ch, idle, fee].map(i128::from))
            })
    }

    const TEN_YEARS_S: i64 = 10 * 366 * 24 * 3600;

    /// Realistic usage: up to 10^9 Wh with 3 decimals (as milli-Wh), up to 10 years.
    fn realistic_usage() -> impl Strategy<Value = (Usage, i128)> {
        (
            0i64..=1_000_000_000_000,
            0i64..=TEN_YEARS_S,
            0i64..=TEN_YEARS_S,
        )
            .prop_map(|(mwh, ch, idle)| {
                let u = Usage {
                    energy_wh: Decimal::new(mwh, 3),
                    charging_seconds: ch,
                    idle_seconds: idle,
                    energy_went_backwards: false,
                };
                (u, i128::from(mwh))
            })
    }

    /// Half-up rounding of the non-negative rational num/den, in integers.
    fn round_half_up(num: i128, den: i128) -> i128 {
        (2 * num + den) / (2 * den)
    }

    fn check_sums(c: &CostBreakdown) -> Result<(), TestCaseError> {
        let sum = c.energy + c.charging_time + c.idle_time + c.session_fee;
        prop_assert_eq!(c.total_excl_vat, sum);
        prop_assert_eq!(c.total_incl_vat, sum + c.vat);
        for amount in [
            c.energy,
            c.charging_time,
            c.idle_time,
            c.session_fee,
            c.total_excl_vat,
            c.vat,
            c.total_incl_vat,
        ] {
            prop_assert!(amount >= Decimal::ZERO, "negative amount {amount} in {c:?}");
            prop_assert_eq!(amount.scale(), currency_minor_units(&c.currency));
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any input at all — negative, backwards, huge, invalid tariff — rates without panic,
        /// never below zero, adds up exactly, and never needs the zero fallback.
        #[test]
        fn never_negative_and_adds_up_for_any_input(t in any_tariff(), u in any_usage()) {
            prop_assert!(compute(&Inputs::bounded(&t, &u)).is_some());
            let c = rate(&t, &u);
            check_sums(&c)?;
        }

        /// Exactness: on the realistic range the result equals the same rule computed in plain
        /// integers (minor units, i128), i.e. no Decimal step rounded anywhere.
        #[test]
        fn exact_against_integer_arithmetic(
            (t, [vat, kwh, ch, idle, fee]) in realistic_tariff(),
            (u, mwh) in realistic_usage(),
        ) {
            let c = rate(&t, &u);
            check_sums(&c)?;
            let dp = currency_minor_units(&t.currency);
            let unit = 10i128.pow(dp);
            // prices are in 10^-6, energy in 10^-3 Wh, VAT in 10^-2 %
            let energy = round_half_up(mwh * kwh * unit, 1_000 * 1_000 * 1_000_000);
            let charging =
                round_half_up(i128::from(u.charging_seconds) * ch * unit, 60 * 1_000_000);
            let idling = round_half_up(i128::from(u.idle_seconds) * idle * unit, 60 * 1_000_000);
            let fee_minor = round_half_up(fee * unit, 1_000_000);
            let excl = energy + charging + idling + fee_minor;
            let vat_minor = round_half_up(excl * vat, 10_000);
            let d = |v: i128| Decimal::from_i128_with_scale(v, dp);
            prop_assert_eq!(c.energy, d(energy));
            prop_assert_eq!(c.charging_time, d(charging));
            prop_assert_eq!(c.idle_time, d(idling));
            prop_assert_eq!(c.session_fee, d(fee_minor));
            prop_assert_eq!(c.vat, d(vat_minor));
            prop_assert_eq!(c.total_incl_vat, d(excl + vat_minor));
        }

        /// More usage never costs less, component by component and in total.
        #[test]
        fn monotone_in_usage(
            (t, _) in realistic_tariff(),
            (a, _) in realistic_usage(),
            (b, _) in realistic_usage(),
        ) {
            let lo = Usage {
                energy_wh: a.energy_wh.min(b.energy_wh),
                charging_seconds: a.charging_seconds.min(b.charging_seconds),
                idle_seconds: a.idle_seconds.min(b.idle_seconds),
                energy_went_backwards: false,
            };
            let hi = Usage {
                energy_wh: a.energy_wh.max(b.energy_wh),
                charging_seconds: a.charging_seconds.max(b.charging_seconds),
                idle_seconds: a.idle_seconds.max(b.idle_seconds),
                energy_went_backwards: false,
            };
            let (cl, ch) = (rate(&t, &lo), rate(&t, &hi));
            prop_assert!(cl.energy <= ch.energy);
            prop_assert!(cl.charging_time <= ch.charging_time);
            prop_assert!(cl.idle_time <= ch.idle_time);
            prop_assert!(cl.vat <= ch.vat);
            prop_assert!(cl.total_incl_vat <= ch.total_incl_vat);
        }

        /// Monotone on arbitrary inputs too (where clamping takes over).
        #[test]
        fn monotone_for_any_input(t in any_tariff(), a in any_usage(), b in any_usage()) {
            let (lo, hi) = if rate(&t, &a).total_incl_vat <= rate(&t, &b).total_incl_vat {
                (a, b)
            } else {
                (b, a)
            };
            // growing every field of the cheaper usage to at least the other's never lowers it
            let grown = Usage {
                energy_wh: lo.energy_wh.max(hi.energy_wh),
                charging_seconds: lo.charging_seconds.max(hi.charging_seconds),
                idle_seconds: lo.idle_seconds.max(hi.idle_seconds),
                energy_went_backwards: false,
            };
            prop_assert!(rate(&t, &grown).total_incl_vat >= rate(&t, &hi).total_incl_vat);
            prop_assert!(rate(&t, &grown).total_incl_vat >= rate(&t, &lo).total_incl_vat);
        }

        /// A zero tariff costs nothing, whatever the usage and VAT.
        #[test]
        fn zero_tariff_costs_zero(cur in any_currency(), vat in any_decimal(), u in any_usage()) {
            let t = Tariff {
                id: "Z".into(),
                currency: cur.into(),
                vat_percent: vat,
                price_per_kwh: Decimal::ZERO,
                price_per_charging_minute: Decimal::ZERO,
                price_per_idle_minute: Decimal::ZERO,
                session_fee: Decimal::ZERO,
                valid_from: None,
                valid_to: None,
                display_text: vec![],
            };
            prop_assert_eq!(rate(&t, &u), CostBreakdown::zero(cur));
        }

        /// Scaling: doubling every price at 0 % VAT at most doubles each component, off by at
        /// most one minor unit (one rounding each side), and kWh × 1000 Wh equals a whole kWh.
        #[test]
        fn scaling_within_one_minor_unit(
            (t, _) in realistic_tariff(),
            (u, _) in realistic_usage(),
        ) {
            let mut t1 = t.clone();
            t1.vat_percent = Decimal::ZERO;
            t1.price_per_kwh = (t1.price_per_kwh / Decimal::TWO).round_dp(6);
            let mut t2 = t1.clone();
            t2.price_per_kwh = t1.price_per_kwh * Decimal::TWO;
            let (c1, c2) = (rate(&t1, &u), rate(&t2, &u));
            let unit = Decimal::new(1, currency_minor_units(&t.currency));
            prop_assert!((c2.energy - c1.energy * Decimal::TWO).abs() <= unit);
        }
    }
}
