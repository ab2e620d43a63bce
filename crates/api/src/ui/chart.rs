//! Charts as SVG drawn on the server: no chart library, no CDN, readable without JavaScript.
//! Each chart carries a text alternative (`role="img"` with a label) and its numbers in a
//! table under a disclosure, for screen readers and for copying.

use chrono::{DateTime, Utc};
use maud::{html, Markup};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 32.0;

/// A round upper bound for an axis (1, 2, 2.5 or 5 times a power of ten).
fn nice_max(max: f64) -> f64 {
    if !max.is_finite() || max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    for step in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if max <= step * magnitude {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

fn number(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

/// A line over time: `points` are (time, value), drawn in time order.
/// One point of a time series: when, and the value.
pub type Point = (DateTime<Utc>, f64);

pub fn line_chart(label: &str, unit: &str, points: &[Point]) -> Markup {
    let mut points: Vec<Point> = points
        .iter()
        .filter(|(_, v)| v.is_finite())
        .copied()
        .collect();
    points.sort_by_key(|(t, _)| *t);
    if points.is_empty() {
        return html! { p.empty { (label) ": no samples yet." } };
    }
    let (t0, t1) = (points[0].0, points[points.len() - 1].0);
    let span = (t1 - t0).num_milliseconds().max(1) as f64;
    let min = points
        .iter()
        .map(|p| p.1)
        .fold(f64::INFINITY, f64::min)
        .min(0.0);
    let max = nice_max(points.iter().map(|p| p.1).fold(0.0, f64::max));
    let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let x = |t: DateTime<Utc>| LEFT + plot_w * (t - t0).num_milliseconds() as f64 / span;
    let y = |v: f64| TOP + plot_h * (1.0 - (v - min) / (max - min).max(f64::EPSILON));
    let path: Vec<String> = points
        .iter()
        .map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v)))
        .collect();
    let last = points[points.len() - 1];
    let summary = format!(
        "{label}: {} samples from {} to {}, last {} {unit}",
        points.len(),
        t0.format("%H:%M:%S"),
        t1.format("%H:%M:%S"),
        number(last.1)
    );
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(summary)
                xmlns="http://www.w3.org/2000/svg" {
                title { (summary) }
                line.axis x1=(LEFT) y1=(TOP) x2=(LEFT) y2=(TOP + plot_h) {}
                line.axis x1=(LEFT) y1=(TOP + plot_h) x2=(WIDTH - RIGHT) y2=(TOP + plot_h) {}
                line.grid x1=(LEFT) y1=(TOP) x2=(WIDTH - RIGHT) y2=(TOP) {}
                text.tick x=(LEFT - 6.0) y=(TOP + 4.0) text-anchor="end" { (number(max)) }
                text.tick x=(LEFT - 6.0) y=(TOP + plot_h) text-anchor="end" { (number(min)) }
                text.tick x=(LEFT) y=(HEIGHT - 10.0) { (t0.format("%H:%M:%S").to_string()) }
                text.tick x=(WIDTH - RIGHT) y=(HEIGHT - 10.0) text-anchor="end" { (t1.format("%H:%M:%S").to_string()) }
                text.unit x="4" y=(TOP + 4.0) { (unit) }
                polyline.series points=(path.join(" ")) {}
                @for (t, v) in &points {
                    circle.dot cx=(format!("{:.1}", x(*t))) cy=(format!("{:.1}", y(*v))) r="2.5" {}
                }
            }
            figcaption { (label) " (" (unit) ")" }
            details {
                summary { "Values" }
                table {
                    thead { tr { th scope="col" { "Time (UTC)" } th scope="col" { (unit) } } }
                    tbody {
                        @for (t, v) in &points {
                            tr { td { (t.format("%Y-%m-%d %H:%M:%S").to_string()) } td.num { (number(*v)) } }
                        }
                    }
                }
            }
        }
    }
}

/// Bars with labels, e.g. energy per day.
pub fn bar_chart(label: &str, unit: &str, bars: &[(String, f64)]) -> Markup {
    if bars.is_empty() {
        return html! { p.empty { (label) ": nothing yet." } };
    }
    let max = nice_max(bars.iter().map(|b| b.1).fold(0.0, f64::max));
    let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let slot = plot_w / bars.len() as f64;
    let summary = format!(
        "{label}: {}",
        bars.iter()
            .map(|(k, v)| format!("{k} {} {unit}", number(*v)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(summary)
                xmlns="http://www.w3.org/2000/svg" {
                title { (summary) }
                line.axis x1=(LEFT) y1=(TOP + plot_h) x2=(WIDTH - RIGHT) y2=(TOP + plot_h) {}
                text.tick x=(LEFT - 6.0) y=(TOP + 4.0) text-anchor="end" { (number(max)) }
                text.tick x=(LEFT - 6.0) y=(TOP + plot_h) text-anchor="end" { "0" }
                text.unit x="4" y=(TOP + 4.0) { (unit) }
                @for (i, (key, value)) in bars.iter().enumerate() {
                    @let h = plot_h * (value / max).clamp(0.0, 1.0);
                    @let x0 = LEFT + slot * i as f64 + slot * 0.15;
                    rect.bar x=(format!("{x0:.1}")) y=(format!("{:.1}", TOP + plot_h - h))
                        width=(format!("{:.1}", slot * 0.7)) height=(format!("{h:.1}")) {}
                    text.tick x=(format!("{:.1}", x0 + slot * 0.35)) y=(HEIGHT - 10.0) text-anchor="middle" {
                        (key.get(5..).unwrap_or(key))
                    }
                }
            }
            figcaption { (label) " (" (unit) ")" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.2), 10.0);
        assert_eq!(nice_max(11_000.0), 20_000.0);
        assert_eq!(nice_max(2.4), 2.5);
    }

    #[test]
    fn a_line_chart_plots_each_sample_and_says_what_it_shows() {
        let t0 = DateTime::parse_from_rfc3339("2026-01-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let points = [(t0, 0.0), (t0 + chrono::Duration::minutes(30), 5.0)];
        let svg = line_chart("Energy", "kWh", &points).into_string();
        assert_eq!(svg.matches("<circle").count(), 2, "{svg}");
        assert!(
            svg.contains("2 samples from 10:00:00 to 10:30:00, last 5 kWh"),
            "{svg}"
        );
        // The first sample sits on the left axis at zero, the last at the right edge, top.
        assert!(svg.contains("points=\"64.0,188.0 624.0,12.0\""), "{svg}");
    }
}
