//! The clicks-per-day chart, drawn as inline SVG on the server: no chart library, no
//! script, and nothing for the Content-Security-Policy to allow.
//!
//! The SVG has no `viewBox`: across it, positions are percentages of the width it is
//! given; down it, pixels. So text keeps its real size at any width (a scaled 600-unit
//! drawing put 6.5-pixel labels on a phone), and the bars stretch instead.

use super::html::escape;
use crate::domain::stats::DayClicks;

/// The drawing's height in CSS pixels, and its bands from the top.
const HEIGHT: i64 = 200;
/// Room above the plot for the tooltip of the busiest day.
const TOP: i64 = 28;
/// The plot's height.
const PLOT: i64 = 136;
/// Where the day labels sit.
const LABELS_Y: i64 = TOP + PLOT + 20;
/// A day label every this many days, counted back from the last day.
const LABEL_EVERY: usize = 7;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `2026-11-21` as `Nov 21`; anything else as it is.
fn short_date(date: &str) -> String {
    let month = date
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| m.checked_sub(1))
        .and_then(|m| MONTHS.get(m));
    match (month, date.get(8..10).and_then(|d| d.parse::<u8>().ok())) {
        (Some(month), Some(day)) => format!("{month} {day}"),
        _ => date.to_string(),
    }
}

/// A round top for the scale and its step: 1, 2 or 5 times a power of ten, at most
/// four steps, so gridlines fall on numbers people read at a glance.
fn scale(max: i64) -> (i64, i64) {
    let max = max.max(1);
    let mut power = 1_i64;
    loop {
        for step in [power, power * 2, power * 5] {
            let steps = (max + step - 1) / step;
            if steps <= 4 {
                return (steps.max(1) * step, step);
            }
        }
        power = power.saturating_mul(10);
    }
}

/// How far down a count sits, in pixels from the top of the drawing.
fn y_of(clicks: i64, top: i64) -> i64 {
    TOP + PLOT - (clicks * PLOT + top / 2) / top
}

/// One bar per day under gridlines with their counts, the days labelled along the
/// bottom. Each day is a focusable group named by its date and count, whose count also
/// shows above the bar on hover and on keyboard focus (CSS, no script).
pub fn clicks_per_day(days: &[DayClicks]) -> String {
    let max = days.iter().map(|d| d.clicks).max().unwrap_or(0);
    let total: i64 = days.iter().map(|d| d.clicks).sum();
    let (top, step) = scale(max);
    let summary = if total == 0 {
        format!("Clicks per day: none in {} days", days.len())
    } else {
        format!(
            "Clicks per day: {total} in {} days, at most {max} a day",
            days.len()
        )
    };
    let mut svg = format!(
        "<svg class=\"chart\" width=\"100%\" height=\"{HEIGHT}\" role=\"group\" \
         aria-label=\"{summary}\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    // Gridlines with their counts, written just above each line at the left edge.
    let mut at = 0;
    while at <= top {
        let y = y_of(at, top);
        let unit = match (at == top, top) {
            (false, _) => "",
            (true, 1) => " click",
            (true, _) => " clicks",
        };
        svg.push_str(&format!(
            "<line class=\"grid{}\" x1=\"0\" y1=\"{y}\" x2=\"100%\" y2=\"{y}\" stroke=\"#c8c8c8\"/>\
             <text class=\"tick\" x=\"2\" y=\"{}\" font-size=\"13\" fill=\"#555\">{at}{unit}</text>",
            if at == 0 { " axis" } else { "" },
            y - 4
        ));
        at += step;
    }
    // Geometry across in tenths of a percent, in integers: formatting floats would pull
    // about 14 KB of float-printing code into the wasm for this one chart.
    let n = days.len().max(1) as i64;
    let slot = 1000 / n;
    let bar = (slot * 7 / 10).max(1);
    let last = days.len().saturating_sub(1);
    for (i, day) in days.iter().enumerate() {
        let x = i as i64 * slot;
        let y = y_of(day.clicks, top);
        let centre = x + slot / 2;
        // Tips near an edge are anchored to it, so they are not cut off.
        let (tip_x, anchor) = if i < 3 {
            (format!("{}%", tenths(x)), "start")
        } else if i + 3 > last {
            (format!("{}%", tenths(x + slot)), "end")
        } else {
            (format!("{}%", tenths(centre)), "middle")
        };
        let name = format!(
            "{}: {} {}",
            short_date(&day.date),
            day.clicks,
            if day.clicks == 1 { "click" } else { "clicks" }
        );
        svg.push_str(&format!(
            "<g class=\"day\" tabindex=\"0\" role=\"img\" aria-label=\"{name}, {date}\">\
             <title>{name}</title>\
             <rect class=\"hit\" x=\"{hx}%\" y=\"{TOP}\" width=\"{hw}%\" height=\"{PLOT}\" fill=\"transparent\"/>\
             <rect class=\"bar\" x=\"{bx}%\" y=\"{y}\" width=\"{bw}%\" height=\"{h}\" fill=\"#2f6fdf\"/>\
             <text class=\"tip\" x=\"{tip_x}\" y=\"{ty}\" text-anchor=\"{anchor}\" font-size=\"13\">{name}</text></g>",
            name = escape(&name),
            date = escape(&day.date),
            hx = tenths(x),
            hw = tenths(slot),
            bx = tenths(x + (slot - bar) / 2),
            bw = tenths(bar),
            h = TOP + PLOT - y,
            ty = (y - 6).max(14),
        ));
        if (last - i).is_multiple_of(LABEL_EVERY) {
            svg.push_str(&format!(
                "<text class=\"label\" x=\"{tip_x}\" y=\"{LABELS_Y}\" text-anchor=\"{anchor}\" \
                 font-size=\"13\" fill=\"#555\">{}</text>",
                escape(&short_date(&day.date))
            ));
        }
    }
    if total == 0 && !days.is_empty() {
        // An empty window says so, rather than bars of nothing.
        svg.push_str(&format!(
            "<text class=\"empty\" x=\"50%\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\" fill=\"#555\">\
             No clicks in this period</text>",
            TOP + PLOT / 2
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// The chart's numbers as a table, folded under it: what a screen reader (or anyone
/// wanting exact figures) reads instead of the bars.
pub fn clicks_table(days: &[DayClicks]) -> String {
    let rows: String = days
        .iter()
        .map(|d| {
            format!(
                "<tr><td><time datetime=\"{date}\">{date}</time></td><td class=\"num\">{}</td></tr>",
                d.clicks,
                date = escape(&d.date)
            )
        })
        .collect();
    format!(
        "<details class=\"chart-table\"><summary>Clicks per day as a table</summary>\
         <table><thead><tr><th scope=\"col\">Day</th><th scope=\"col\" class=\"num\">Clicks</th></tr></thead>\
         <tbody>{rows}</tbody></table></details>"
    )
}

/// `1234` tenths as `123.4`.
fn tenths(v: i64) -> String {
    format!("{}.{}", v / 10, (v % 10).abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, clicks: i64) -> DayClicks {
        DayClicks {
            date: date.into(),
            clicks,
            visitors: 0,
        }
    }

    #[test]
    fn bars_are_scaled_to_a_round_top_with_gridlines_at_each_step() {
        let svg = clicks_per_day(&[
            day("2026-11-20", 0),
            day("2026-11-21", 4),
            day("2026-11-22", 2),
        ]);
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 3);
        // 4 clicks: a scale of 0..4 in steps of 1, the busiest day fills the plot.
        assert!(svg.contains("height=\"136\" fill=\"#2f6fdf\""), "{svg}");
        assert!(svg.contains("height=\"68\" fill=\"#2f6fdf\""));
        assert!(svg.contains("height=\"0\" fill=\"#2f6fdf\""));
        assert_eq!(svg.matches("<line class=\"grid").count(), 5);
        assert!(svg.contains(">4 clicks</text>") && svg.contains(">0</text>"));
        assert!(svg.contains("6 in 3 days"));
    }

    #[test]
    fn the_scale_is_one_two_or_five_times_a_power_of_ten() {
        for (max, want) in [
            (0, (1, 1)),
            (1, (1, 1)),
            (3, (3, 1)),
            (4, (4, 1)),
            (5, (6, 2)),
            (7, (8, 2)),
            (9, (10, 5)),
            (17, (20, 5)),
            (30, (30, 10)),
            (31, (40, 10)),
            (99, (100, 50)),
            (1234, (1500, 500)),
        ] {
            assert_eq!(scale(max), want, "{max}");
        }
    }

    #[test]
    fn every_day_is_focusable_and_named_by_its_date_and_clicks() {
        let svg = clicks_per_day(&[day("2026-11-20", 1), day("2026-11-21", 4)]);
        assert_eq!(
            svg.matches("<g class=\"day\" tabindex=\"0\" role=\"img\"")
                .count(),
            2
        );
        assert!(
            svg.contains("aria-label=\"Nov 21: 4 clicks, 2026-11-21\""),
            "{svg}"
        );
        assert!(svg.contains("aria-label=\"Nov 20: 1 click, 2026-11-20\""));
        assert!(svg.contains("<text class=\"tip\""));
        // Labels are drawn at a real size: no viewBox scales them down on a phone.
        assert!(!svg.contains("viewBox"));
        assert!(svg.contains(">Nov 21</text>"));
    }

    #[test]
    fn a_month_of_days_labels_every_seventh_day_back_from_the_last() {
        let days: Vec<DayClicks> = (1..=30)
            .map(|d| day(&format!("2026-11-{d:02}"), d))
            .collect();
        let svg = clicks_per_day(&days);
        let labels: Vec<&str> = svg
            .split("<text class=\"label\"")
            .skip(1)
            .filter_map(|s| s.split('>').nth(1))
            .map(|s| s.trim_end_matches("</text"))
            .collect();
        assert_eq!(labels, ["Nov 2", "Nov 9", "Nov 16", "Nov 23", "Nov 30"]);
    }

    #[test]
    fn an_empty_window_draws_an_empty_chart() {
        let svg = clicks_per_day(&[]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("<rect"));
        let quiet = clicks_per_day(&[day("2026-11-20", 0), day("2026-11-21", 0)]);
        assert!(quiet.contains("No clicks in this period"), "{quiet}");
        assert!(quiet.contains("none in 2 days"));
    }

    #[test]
    fn the_table_holds_every_day_and_its_clicks() {
        let table = clicks_table(&[day("2026-11-20", 0), day("2026-11-21", 4)]);
        assert!(table.contains("<summary>Clicks per day as a table</summary>"));
        assert_eq!(table.matches("<tr><td>").count(), 2);
        assert!(table.contains(
            "<tr><td><time datetime=\"2026-11-21\">2026-11-21</time></td><td class=\"num\">4</td></tr>"
        ));
    }
}
