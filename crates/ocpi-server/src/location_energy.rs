//! Location energy reports, a unicharge extension module (`unicharge_ocpi::location_energy`,
//! B7.4), CPO role: a grid operator reads, per location it may see and per interval, the energy
//! the location's meters took ([`list`]). Computed from the meter values the stations reported
//! (the same samples the operator API lists), when asked; nothing is stored for it.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, Query, State};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use unicharge_ocpi::location_energy::{
    EnergySource, LocationEnergyReport, DEFAULT_INTERVAL, MAX_INTERVAL, MAX_INTERVALS, MIN_INTERVAL,
};
use unicharge_store::{MeterValueFilter, MeterValueRecord};

use crate::auth::Registered;
use crate::reply::{Answer, Reply};
use crate::{locations, scope, Ocpi};

/// Samples read per station for one request at most: the latest up to the window's end. A day
/// of one sample a minute on ten EVSEs with ten measurands each is 144,000; a station that
/// reports more than this within the window has its earliest intervals undercounted (logged).
const SAMPLES_PER_STATION: u32 = 200_000;

/// The intervals of one request: `count` intervals of `length` from `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub length: Duration,
    pub count: usize,
}

impl Window {
    /// From the query: `interval` seconds (default 15 minutes); `date_from` / `date_to` widened
    /// to whole intervals (counted from the Unix epoch, so quarter hours start at :00, :15 …);
    /// `date_to` defaults to now, `date_from` to four intervals before it.
    pub fn of(
        interval: Option<&str>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Window, String> {
        let seconds = match interval {
            None => DEFAULT_INTERVAL,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|s| (MIN_INTERVAL..=MAX_INTERVAL).contains(s) && s % 60 == 0)
                .ok_or_else(|| {
                    format!(
                        "interval {text:?}: give whole minutes in seconds, from {MIN_INTERVAL} \
                         to {MAX_INTERVAL} (900 = 15 minutes)"
                    )
                })?,
        };
        let length = Duration::seconds(i64::from(seconds));
        let to = to.unwrap_or(now);
        let from = from.unwrap_or(to - length * 4);
        if from >= to {
            return Err("date_from must be before date_to".into());
        }
        let step = i64::from(seconds);
        let start = from.timestamp().div_euclid(step) * step;
        // Up to the next boundary at or after `to` (a fraction of a second counts).
        let secs = to.timestamp() + i64::from(to.timestamp_subsec_nanos() > 0);
        let end = (secs + step - 1).div_euclid(step) * step;
        let count = (end - start) / step;
        if count > MAX_INTERVALS {
            return Err(format!(
                "{count} intervals asked for; at most {MAX_INTERVALS}: shorten date_from .. \
                 date_to or lengthen the interval"
            ));
        }
        Ok(Window {
            start: DateTime::from_timestamp(start, 0).ok_or("date_from out of range")?,
            length,
            count: count as usize,
        })
    }

    fn end(&self) -> DateTime<Utc> {
        self.start + self.length * self.count as i32
    }
}

/// An energy register reading: when, Wh.
type Reading = (DateTime<Utc>, Decimal);

/// Energy (Wh) and the meters that took some, per interval of a window.
#[derive(Debug, Clone, PartialEq)]
pub struct Intervals {
    pub wh: Vec<Decimal>,
    pub meters: Vec<BTreeSet<(String, i64, String)>>,
}

impl Intervals {
    pub fn new(window: &Window) -> Self {
        Intervals {
            wh: vec![Decimal::ZERO; window.count],
            meters: vec![BTreeSet::new(); window.count],
        }
    }

    /// Add one station's samples: each meter's energy register readings (an EVSE's per
    /// transaction, or the station's main meter, evseId 0, which then stands for the whole
    /// station), the energy between two readings spread evenly over the time between them.
    /// A register that went backwards (a meter reset) adds nothing for that step.
    pub fn add_station(&mut self, window: &Window, station: &str, samples: &[MeterValueRecord]) {
        let main_meter = samples
            .iter()
            .any(|s| s.evse_id == 0 && s.billing_reading().is_some());
        let mut series: BTreeMap<(i64, String), Vec<Reading>> = BTreeMap::new();
        for s in samples {
            if (s.evse_id == 0) != main_meter {
                continue;
            }
            if let Some(reading) = s.billing_reading() {
                let key = (s.evse_id, s.transaction_id.clone().unwrap_or_default());
                series
                    .entry(key)
                    .or_default()
                    .push((reading.timestamp, reading.wh));
            }
        }
        for ((evse, transaction), mut readings) in series {
            readings.sort_by_key(|(at, _)| *at);
            let meter = (station.to_string(), evse, transaction);
            for pair in readings.windows(2) {
                let ((t0, w0), (t1, w1)) = (pair[0], pair[1]);
                if w1 > w0 {
                    self.spread(window, &meter, t0, t1, w1 - w0);
                }
            }
        }
    }

    fn spread(
        &mut self,
        window: &Window,
        meter: &(String, i64, String),
        t0: DateTime<Utc>,
        t1: DateTime<Utc>,
        wh: Decimal,
    ) {
        let span = (t1 - t0).num_milliseconds();
        // Only the intervals the step touches: the one holding t0 up to the one holding t1.
        let length = window.length.num_milliseconds();
        let index = |t: DateTime<Utc>| (t - window.start).num_milliseconds().div_euclid(length);
        let first = index(t0).max(0);
        let last = index(t1).min(window.count as i64 - 1);
        for i in first..=last {
            let i = i as usize;
            let a = window.start + window.length * i as i32;
            let b = a + window.length;
            let share = if span == 0 {
                // Two readings at one instant: the step belongs to the interval holding it.
                wh
            } else {
                let overlap = (t1.min(b) - t0.max(a)).num_milliseconds();
                if overlap <= 0 {
                    continue;
                }
                wh * Decimal::from(overlap) / Decimal::from(span)
            };
            self.wh[i] += share;
            self.meters[i].insert(meter.clone());
        }
    }
}

/// Wh as kWh with exactly three decimals (Wh resolution), e.g. `3.600`.
pub fn kwh(wh: Decimal) -> Decimal {
    let mut kwh = (wh / Decimal::ONE_THOUSAND).round_dp(3);
    kwh.rescale(3);
    kwh
}

/// `GET {x-unicharge-locationenergy}?date_from&date_to&interval&offset&limit`: a report per
/// visible, shared, published location and interval, ordered by location then interval.
pub async fn list(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path(version): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Answer {
    let version = scope::version(&version)?;
    let query = locations::list_query(&pairs)?;
    let interval = pairs
        .iter()
        .find(|(k, _)| k == "interval")
        .map(|(_, v)| v.as_str());
    let now = Utc::now();
    let window =
        Window::of(interval, query.dates.from, query.dates.to, now).map_err(Reply::invalid)?;
    let filter = MeterValueFilter {
        transaction_id: None,
        evse_id: None,
        limit: SAMPLES_PER_STATION,
        until: Some(window.end()),
    };
    let mut reports = Vec::new();
    for (row, _) in locations::shared_published(&ocpi, &caller).await? {
        let mut intervals = Intervals::new(&window);
        for station in &row.stations {
            let samples = ocpi
                .store()
                .meter_values(station, &filter)
                .await
                .map_err(Reply::server_error)?;
            if samples.len() as u32 >= SAMPLES_PER_STATION
                && samples.first().is_some_and(|s| s.timestamp > window.start)
            {
                tracing::warn!(station = %station, location = %row.id,
                    "more samples in the window than one report reads; its first intervals \
                     are undercounted");
            }
            intervals.add_station(&window, station.as_str(), &samples);
        }
        for i in 0..window.count {
            let period_start = window.start + window.length * i as i32;
            reports.push(LocationEnergyReport {
                country_code: row.party.country_code.clone(),
                party_id: row.party.party_id.clone(),
                location_id: row.id.clone(),
                period_start,
                period_end: period_start + window.length,
                energy_kwh: kwh(intervals.wh[i]),
                source: EnergySource::CombinedMeters,
                meters_active: intervals.meters[i].len() as u32,
                last_updated: now,
            });
        }
    }
    let total = reports.len() as u64;
    let page = query.page(ocpi.settings().max_page);
    let range = page.range(total);
    let endpoint = format!(
        "{}/{}/cpo/{}",
        ocpi.base_url(),
        version.as_str(),
        unicharge_ocpi::location_energy::MODULE_ID
    );
    Ok(
        Reply::ok(&reports[range.start as usize..range.end as usize].to_vec())
            .with_headers(page.headers(&endpoint, &query, total)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicharge_core::StationId;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn reading(evse: i64, tx: Option<&str>, time: &str, wh: i64) -> MeterValueRecord {
        MeterValueRecord {
            station_id: StationId::new("CP1").unwrap(),
            evse_id: evse,
            transaction_id: tx.map(str::to_string),
            timestamp: at(time),
            context: "Sample.Periodic".into(),
            measurand: "Energy.Active.Import.Register".into(),
            phase: None,
            location: None,
            unit: Some("Wh".into()),
            multiplier: 0,
            value: Decimal::from(wh),
            wh: Some(Decimal::from(wh)),
            signed: false,
            signed_data: None,
            source: "MeterValues".into(),
            energy_backwards: false,
        }
    }

    #[test]
    fn windows_are_whole_intervals_from_the_epoch() {
        let now = at("2026-12-07T10:07:30Z");
        let w = Window::of(None, None, None, now).unwrap();
        assert_eq!(w.start, at("2026-12-07T09:00:00Z"));
        assert_eq!((w.count, w.end()), (5, at("2026-12-07T10:15:00Z")));
        let w = Window::of(
            Some("3600"),
            Some(at("2026-12-07T08:30:00Z")),
            Some(at("2026-12-07T10:00:00Z")),
            now,
        )
        .unwrap();
        assert_eq!((w.start, w.count), (at("2026-12-07T08:00:00Z"), 2));
        for bad in ["0", "30", "901", "90000", "x"] {
            assert!(Window::of(Some(bad), None, None, now).is_err(), "{bad}");
        }
        let week = Some(at("2026-11-30T00:00:00Z"));
        assert!(Window::of(Some("60"), week, None, now).is_err(), "too many");
        assert!(
            Window::of(None, Some(now), Some(now), now).is_err(),
            "empty"
        );
    }

    #[test]
    fn energy_between_readings_is_spread_over_the_intervals_it_spans() {
        let window = Window::of(
            None,
            Some(at("2026-12-07T10:00:00Z")),
            Some(at("2026-12-07T10:45:00Z")),
            at("2026-12-07T11:00:00Z"),
        )
        .unwrap();
        let mut intervals = Intervals::new(&window);
        let samples = [
            reading(1, Some("A"), "2026-12-07T10:00:00Z", 10_000),
            reading(1, Some("A"), "2026-12-07T10:20:00Z", 14_000),
            reading(1, Some("A"), "2026-12-07T10:30:00Z", 15_500),
            // Another EVSE, another transaction: 600 Wh within the first quarter.
            reading(2, Some("B"), "2026-12-07T10:05:00Z", 0),
            reading(2, Some("B"), "2026-12-07T10:10:00Z", 600),
            // A reset: nothing counted for the step down.
            reading(2, Some("B"), "2026-12-07T10:12:00Z", 100),
        ];
        intervals.add_station(&window, "CP1", &samples);
        let kwh_text: Vec<String> = intervals.wh.iter().map(|wh| kwh(*wh).to_string()).collect();
        assert_eq!(kwh_text, ["3.600", "2.500", "0.000"]);
        let active: Vec<usize> = intervals.meters.iter().map(BTreeSet::len).collect();
        assert_eq!(active, [2, 1, 0]);
    }

    #[test]
    fn a_main_meter_stands_for_the_whole_station() {
        let window = Window::of(
            None,
            Some(at("2026-12-07T10:00:00Z")),
            Some(at("2026-12-07T10:15:00Z")),
            at("2026-12-07T11:00:00Z"),
        )
        .unwrap();
        let mut intervals = Intervals::new(&window);
        let samples = [
            reading(0, None, "2026-12-07T10:00:00Z", 50_000),
            reading(1, Some("A"), "2026-12-07T10:00:00Z", 0),
            reading(1, Some("A"), "2026-12-07T10:15:00Z", 2_000),
            reading(0, None, "2026-12-07T10:15:00Z", 52_500),
        ];
        intervals.add_station(&window, "CP1", &samples);
        assert_eq!(intervals.wh, [Decimal::from(2_500)]);
    }
}
