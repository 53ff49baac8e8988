//! The clicks-per-day chart, drawn as inline SVG on the server: no chart library, no
//! script, and nothing for the Content-Security-Policy to allow.

use super::html::escape;
use crate::domain::stats::DayClicks;

const WIDTH: usize = 600;
const HEIGHT: usize = 160;
const TOP: usize = 16;
const BOTTOM: usize = 20;

/// One bar per day, scaled to the busiest day, each with a `<title>` tooltip.
pub fn clicks_per_day(days: &[DayClicks]) -> String {
    let max = days.iter().map(|d| d.clicks).max().unwrap_or(0).max(1);
    let total: i64 = days.iter().map(|d| d.clicks).sum();
    // Geometry in tenths of a unit, in integers: formatting floats would pull about
    // 14 KB of float-printing code into the wasm for this one chart.
    let n = days.len().max(1) as i64;
    let slot = WIDTH as i64 * 10 / n;
    let bar = (slot * 8 / 10).max(10);
    let plot = (HEIGHT - TOP - BOTTOM) as i64 * 10;
    let base = (HEIGHT - BOTTOM) as i64 * 10;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-label=\"Clicks per day: {total} in {} days, at most {max} a day\" \
         xmlns=\"http://www.w3.org/2000/svg\">",
        days.len()
    );
    svg.push_str(&format!(
        "<line x1=\"0\" y1=\"{y}\" x2=\"{WIDTH}\" y2=\"{y}\" stroke=\"#c8c8c8\"/>",
        y = HEIGHT - BOTTOM
    ));
    for (i, day) in (0_i64..).zip(days) {
        let h = (day.clicks * plot + max / 2) / max;
        let x = i * slot + (slot - bar) / 2;
        svg.push_str(&format!(
            "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#2f6fdf\">\
             <title>{}: {} clicks</title></rect>",
            tenths(x),
            tenths(base - h),
            tenths(bar),
            tenths(h),
            escape(&day.date),
            day.clicks
        ));
    }
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        // An empty window says so, rather than a scale over nothing.
        let scale = if total == 0 {
            "No clicks in this period".to_string()
        } else {
            format!("{max} max")
        };
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{HEIGHT}\" font-size=\"12\" fill=\"#555\">{}</text>\
             <text x=\"{WIDTH}\" y=\"{HEIGHT}\" font-size=\"12\" fill=\"#555\" text-anchor=\"end\">{}</text>\
             <text x=\"0\" y=\"12\" font-size=\"12\" fill=\"#555\">{scale}</text>",
            escape(&first.date),
            escape(&last.date)
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
        }
    }

    #[test]
    fn bars_are_scaled_to_the_busiest_day() {
        let svg = clicks_per_day(&[
            day("2026-11-20", 0),
            day("2026-11-21", 4),
            day("2026-11-22", 2),
        ]);
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 3);
        assert!(svg.contains("height=\"124.0\""), "{svg}"); // the busiest day fills the plot
        assert!(svg.contains("height=\"62.0\""));
        assert!(svg.contains("height=\"0.0\""));
        assert!(svg.contains("2026-11-21: 4 clicks"));
        assert!(svg.contains("6 in 3 days"));
    }

    #[test]
    fn an_empty_window_draws_an_empty_chart() {
        let svg = clicks_per_day(&[]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("<rect"));
        let quiet = clicks_per_day(&[day("2026-11-20", 0), day("2026-11-21", 0)]);
        assert!(
            quiet.contains("No clicks in this period") && !quiet.contains("max"),
            "{quiet}"
        );
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
