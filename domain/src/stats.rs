//! Visit statistics: the reporting window and the shape of the answer.

use std::marker::PhantomData;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::timestamp::{month_label, Timestamp, DAY_MS};

/// Days of history in a statistics answer unless `?days=` says otherwise.
pub const DEFAULT_DAYS: u32 = 30;
pub const MAX_DAYS: u32 = 365;
/// Rows in each "top" list.
pub const TOP: usize = 10;
/// Hours of recent activity in a statistics answer, the current one included. The
/// daily rows keep their hours for as long (the Cron job clears older ones).
pub const RECENT_HOURS: i64 = 48;
pub const HOUR_MS: i64 = 3_600_000;

/// The days a statistics answer covers: `days` whole UTC days ending today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub days: u32,
    /// Midnight UTC of the first day.
    pub since: Timestamp,
    /// When the answer is made: the recent hours end with this one.
    pub now: Timestamp,
}

/// `?days=` outside 1..=365 or not a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidDays(pub String);

impl std::fmt::Display for InvalidDays {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "days must be an integer from 1 to {MAX_DAYS}, got '{}'",
            self.0
        )
    }
}

impl Window {
    pub fn parse(days: Option<&str>, now: Timestamp) -> Result<Window, InvalidDays> {
        let days = match days {
            None => DEFAULT_DAYS,
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|d| (1..=MAX_DAYS).contains(d))
                .ok_or_else(|| InvalidDays(raw.chars().take(20).collect()))?,
        };
        let since =
            Timestamp::from_millis(now.start_of_day().millis() - i64::from(days - 1) * DAY_MS);
        Ok(Window { days, since, now })
    }

    /// The first hour (hours since 1970) of the recent activity.
    pub fn first_recent_hour(&self) -> i64 {
        self.now.millis().div_euclid(HOUR_MS) - RECENT_HOURS + 1
    }

    /// One entry per hour of the last [`RECENT_HOURS`], oldest first, the current
    /// (unfinished) hour last; hours without clicks as 0. `counts` are (hour number since
    /// 1970, clicks) pairs from storage, in any order; hours outside are ignored.
    pub fn by_hour(&self, counts: &[(i64, i64)]) -> Vec<HourClicks> {
        let first = self.first_recent_hour();
        (first..first + RECENT_HOURS)
            .map(|hour| HourClicks {
                hour: Timestamp::from_millis(hour * HOUR_MS).to_rfc3339(),
                clicks: counts
                    .iter()
                    .filter(|(h, _)| *h == hour)
                    .map(|(_, c)| c)
                    .sum(),
            })
            .collect()
    }

    /// One entry per day of the window, oldest first, with days without clicks as 0.
    /// `counts` are (day number since 1970, clicks) pairs from storage, in any order;
    /// `visitors` (day, estimated unique visitors) pairs.
    pub fn by_day(&self, counts: &[(i64, i64)], visitors: &[(i64, u64)]) -> Vec<DayClicks> {
        let first = self.since.millis().div_euclid(DAY_MS);
        (0..i64::from(self.days))
            .map(|i| {
                let day = first + i;
                let clicks = counts
                    .iter()
                    .filter(|(d, _)| *d == day)
                    .map(|(_, c)| c)
                    .sum();
                DayClicks {
                    date: Timestamp::from_millis(day * DAY_MS).date(),
                    clicks,
                    visitors: visitors
                        .iter()
                        .filter(|(d, _)| *d == day)
                        .map(|(_, v)| v)
                        .sum(),
                }
            })
            .collect()
    }
}

/// The clicks of one UTC hour (`hour` is its start, RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HourClicks {
    pub hour: String,
    pub clicks: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayClicks {
    pub date: String,
    pub clicks: i64,
    /// Estimated unique visitors of the day (humans only; see `visitors`).
    pub visitors: u64,
}

/// The clicks of one value of a breakdown (a referrer's host, a country, a device
/// class): one type for every breakdown, written on the wire with the breakdown's own
/// field name (`{"host": …, "clicks": n}`, `{"country": …}`, `{"device": …}`), which
/// the statistics answer has always used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally<B> {
    pub value: String,
    pub clicks: i64,
    breakdown: PhantomData<B>,
}

impl<B> Tally<B> {
    pub fn new(value: impl Into<String>, clicks: i64) -> Tally<B> {
        Tally {
            value: value.into(),
            clicks,
            breakdown: PhantomData,
        }
    }
}

/// A breakdown of clicks, named by the field its values are written under.
pub trait TallyField {
    const FIELD: &'static str;
}

/// Clicks by referrer host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByReferrer {}
/// Clicks by country.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByCountry {}
/// Clicks by device class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByDevice {}
/// Clicks by how they came (`qr`, `link`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BySource {}
/// Clicks by the link's UTM campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByCampaign {}

impl TallyField for ByReferrer {
    const FIELD: &'static str = "host";
}
impl TallyField for ByCountry {
    const FIELD: &'static str = "country";
}
impl TallyField for ByDevice {
    const FIELD: &'static str = "device";
}
impl TallyField for BySource {
    const FIELD: &'static str = "source";
}
impl TallyField for ByCampaign {
    const FIELD: &'static str = "campaign";
}

impl<B: TallyField> Serialize for Tally<B> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry(B::FIELD, &self.value)?;
        map.serialize_entry("clicks", &self.clicks)?;
        map.end()
    }
}

pub type HostClicks = Tally<ByReferrer>;
pub type CountryClicks = Tally<ByCountry>;
pub type DeviceClicks = Tally<ByDevice>;
pub type SourceClicks = Tally<BySource>;
pub type CampaignClicks = Tally<ByCampaign>;

/// A link's exact counters, from its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    pub clicks: i64,
    pub bots: i64,
    pub first_click_at: Option<Timestamp>,
    pub last_click_at: Option<Timestamp>,
}

/// A link's clicks over a window, from the daily aggregates: (day number since 1970,
/// clicks) pairs, and (stored value, clicks) pairs per dimension, busiest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Breakdown {
    pub by_day: Vec<(i64, i64)>,
    pub referrers: Vec<(String, i64)>,
    pub countries: Vec<(String, i64)>,
    pub devices: Vec<(String, i64)>,
    /// Per targeting rule or split variant (`rule-1`, `variant-2`, `default`).
    pub served_by: Vec<(String, i64)>,
    /// Bot visits by why they came (`link-preview`, `crawler`, …).
    pub bot_reasons: Vec<(String, i64)>,
    /// Clicks by how they came (`qr`, `link`).
    pub sources: Vec<(String, i64)>,
    /// Clicks by the link's UTM campaign at the time of the click.
    pub campaigns: Vec<(String, i64)>,
    /// Clicks per hour of the recent days: (hour number since 1970, clicks).
    pub by_hour: Vec<(i64, i64)>,
    /// Estimated unique visitors per day: (day number since 1970, visitors).
    pub visitors_by_day: Vec<(i64, u64)>,
    /// Estimated unique visitors over the whole window: the union of its days'
    /// sketches, not their sum.
    pub visitors: u64,
    /// Months the window reaches whose days were folded into one row (see
    /// `clicks::maintenance::fold_months`): (day number of the month's first day,
    /// clicks, estimated unique visitors).
    pub by_month: Vec<(i64, i64, u64)>,
}

/// The clicks of a month whose days were folded into one row: counted whole in any
/// window that reaches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthClicks {
    /// `YYYY-MM`.
    pub month: String,
    pub clicks: i64,
    pub visitors: u64,
}

/// How the aggregates spell an absent value, and the bucket of a day's values past the
/// kept ones (see `clicks::analytics`).
pub const NO_VALUE: &str = "";
pub const OTHER_VALUE: &str = "~other";

/// The name a statistics answer shows for a stored dimension value.
fn shown(value: String, absent: &str) -> String {
    match value.as_str() {
        NO_VALUE => absent.to_string(),
        OTHER_VALUE => "(other)".to_string(),
        _ => value,
    }
}

/// The answer of `GET /admin/{secret_key}/stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub clicks: i64,
    pub humans: i64,
    pub bots: i64,
    pub first_click_at: Option<String>,
    pub last_click_at: Option<String>,
    pub days: u32,
    /// Estimated unique human visitors over the window (`domain::visitors`): within
    /// `visitors::small_count_bound` of the exact count up to a few thousand, within
    /// 1.6% (one standard error) above.
    pub visitors: u64,
    pub by_day: Vec<DayClicks>,
    /// Months older than the daily rows kept (days folded into months by the Cron
    /// job) that the window reaches, counted whole; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_month: Vec<MonthClicks>,
    /// Clicks in each of the last 48 hours, whatever `days` is: the current hour last.
    pub by_hour: Vec<HourClicks>,
    pub referrers: Vec<HostClicks>,
    pub countries: Vec<CountryClicks>,
    pub devices: Vec<DeviceClicks>,
    /// Clicks by how they came: `qr` (the link's QR code) or `link` (the short URL).
    pub sources: Vec<SourceClicks>,
    /// Clicks by the link's UTM campaign when they were made; empty for a link that
    /// never had one.
    pub campaigns: Vec<CampaignClicks>,
    /// Clicks per targeting rule or split variant; empty for a link without them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub served_by: Vec<ServedClicks>,
    /// Bot visits in the window by why they came. Link previews and mail scanners are
    /// counted here only: they are not clicks (not in `clicks`, `bots` or any split).
    pub bots_by_reason: Vec<BotVisits>,
}

/// The visits of bots that came for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BotVisits {
    pub reason: String,
    pub visits: i64,
}

/// The clicks one targeting rule or split variant served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServedClicks {
    pub via: String,
    pub clicks: i64,
}

impl Stats {
    /// The answer from a link's counters and its aggregates over `window`.
    pub fn assemble(totals: &Totals, window: &Window, breakdown: Breakdown) -> Stats {
        let fmt = |t: Option<Timestamp>| t.map(Timestamp::to_rfc3339);
        Stats {
            clicks: totals.clicks,
            humans: totals.clicks - totals.bots,
            bots: totals.bots,
            first_click_at: fmt(totals.first_click_at),
            last_click_at: fmt(totals.last_click_at),
            days: window.days,
            visitors: breakdown.visitors,
            by_day: window.by_day(&breakdown.by_day, &breakdown.visitors_by_day),
            by_month: breakdown
                .by_month
                .iter()
                .map(|&(month, clicks, visitors)| MonthClicks {
                    month: month_label(month),
                    clicks,
                    visitors,
                })
                .collect(),
            by_hour: window.by_hour(&breakdown.by_hour),
            referrers: breakdown
                .referrers
                .into_iter()
                .map(|(v, clicks)| HostClicks::new(shown(v, "direct"), clicks))
                .collect(),
            countries: breakdown
                .countries
                .into_iter()
                .map(|(v, clicks)| CountryClicks::new(shown(v, "unknown"), clicks))
                .collect(),
            devices: breakdown
                .devices
                .into_iter()
                .map(|(v, clicks)| DeviceClicks::new(shown(v, "other"), clicks))
                .collect(),
            sources: breakdown
                .sources
                .into_iter()
                .map(|(v, clicks)| SourceClicks::new(shown(v, "link"), clicks))
                .collect(),
            campaigns: breakdown
                .campaigns
                .into_iter()
                .map(|(v, clicks)| CampaignClicks::new(shown(v, "none"), clicks))
                .collect(),
            served_by: breakdown
                .served_by
                .into_iter()
                .map(|(v, clicks)| ServedClicks {
                    via: shown(v, "default"),
                    clicks,
                })
                .collect(),
            bots_by_reason: breakdown
                .bot_reasons
                .into_iter()
                .map(|(reason, visits)| BotVisits { reason, visits })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_breakdown_s_tally_is_written_under_its_own_field_name() {
        let json = |v: serde_json::Value| v.to_string();
        assert_eq!(
            json(serde_json::to_value(HostClicks::new("direct", 3)).unwrap()),
            r#"{"clicks":3,"host":"direct"}"#
        );
        assert_eq!(
            json(serde_json::to_value(CountryClicks::new("DE", 2)).unwrap()),
            r#"{"clicks":2,"country":"DE"}"#
        );
        assert_eq!(
            json(serde_json::to_value(DeviceClicks::new("mobile", 1)).unwrap()),
            r#"{"clicks":1,"device":"mobile"}"#
        );
    }

    #[test]
    fn absent_values_and_the_overflow_bucket_get_readable_names() {
        let totals = Totals {
            clicks: 5,
            bots: 1,
            first_click_at: Some(Timestamp::from_millis(0)),
            last_click_at: None,
        };
        let window = Window::parse(Some("1"), NOW).unwrap();
        let stats = Stats::assemble(
            &totals,
            &window,
            Breakdown {
                by_day: vec![(NOW.millis() / DAY_MS, 5)],
                referrers: vec![
                    ("".into(), 3),
                    ("~other".into(), 1),
                    ("a.example".into(), 1),
                ],
                countries: vec![("".into(), 4), ("DE".into(), 1)],
                devices: vec![("mobile".into(), 5)],
                served_by: vec![("rule-1".into(), 2)],
                bot_reasons: vec![("crawler".into(), 1)],
                sources: vec![("qr".into(), 3), ("link".into(), 2)],
                campaigns: vec![("spring".into(), 4), ("~other".into(), 1)],
                by_hour: vec![(NOW.millis() / HOUR_MS, 5)],
                visitors_by_day: vec![(NOW.millis() / DAY_MS, 3)],
                visitors: 3,
                by_month: vec![(0, 7, 2)],
            },
        );
        assert_eq!(
            stats.by_month,
            [MonthClicks {
                month: "1970-01".into(),
                clicks: 7,
                visitors: 2
            }]
        );
        assert_eq!((stats.clicks, stats.humans, stats.bots), (5, 4, 1));
        assert_eq!(
            stats.first_click_at.as_deref(),
            Some("1970-01-01T00:00:00Z")
        );
        assert_eq!(stats.by_day.first().map(|d| d.clicks), Some(5));
        assert_eq!(stats.by_day.first().map(|d| d.visitors), Some(3));
        assert_eq!(stats.visitors, 3);
        assert_eq!(stats.by_hour.len(), 48);
        assert_eq!(
            stats.by_hour.last(),
            Some(&HourClicks {
                hour: "2026-11-21T19:00:00Z".into(),
                clicks: 5
            })
        );
        let hosts: Vec<&str> = stats.referrers.iter().map(|r| r.value.as_str()).collect();
        assert_eq!(hosts, ["direct", "(other)", "a.example"]);
        assert_eq!(
            stats.countries.first().map(|c| c.value.as_str()),
            Some("unknown")
        );
        let campaigns: Vec<&str> = stats.campaigns.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(campaigns, ["spring", "(other)"]);
        assert_eq!(
            serde_json::to_value(&stats.sources).unwrap(),
            serde_json::json!([{"source": "qr", "clicks": 3}, {"source": "link", "clicks": 2}])
        );
    }

    const NOW: Timestamp = Timestamp::from_millis(1_795_290_489_000); // 2026-11-21T19:48:09Z

    #[test]
    fn the_window_defaults_to_30_days_ending_today() {
        let w = Window::parse(None, NOW).unwrap();
        assert_eq!(w.days, 30);
        assert_eq!(w.since.to_rfc3339(), "2026-10-23T00:00:00Z");
        let one = Window::parse(Some("1"), NOW).unwrap();
        assert_eq!(one.since.to_rfc3339(), "2026-11-21T00:00:00Z");
    }

    #[test]
    fn days_outside_1_to_365_are_refused() {
        for raw in ["0", "366", "-1", "abc", "", "1.5", "99999999999"] {
            assert!(Window::parse(Some(raw), NOW).is_err(), "{raw:?}");
        }
        assert!(Window::parse(Some("365"), NOW).is_ok());
    }

    #[test]
    fn the_recent_hours_are_the_last_48_ending_with_the_current_one() {
        let w = Window::parse(Some("1"), NOW).unwrap();
        let now_hour = NOW.millis() / HOUR_MS;
        let hours = w.by_hour(&[
            (now_hour, 2),
            (now_hour - 47, 1),
            (now_hour - 48, 9),
            (now_hour + 1, 9),
        ]);
        assert_eq!(hours.len(), 48);
        assert_eq!(
            hours.first().map(|h| (h.hour.as_str(), h.clicks)),
            Some(("2026-11-19T20:00:00Z", 1))
        );
        assert_eq!(
            hours.last().map(|h| (h.hour.as_str(), h.clicks)),
            Some(("2026-11-21T19:00:00Z", 2))
        );
        assert_eq!(hours.iter().map(|h| h.clicks).sum::<i64>(), 3);
        assert_eq!(w.first_recent_hour(), now_hour - 47);
    }

    #[test]
    fn by_day_fills_missing_days_with_zero() {
        let w = Window::parse(Some("3"), NOW).unwrap();
        let today = NOW.millis() / DAY_MS;
        let days = w.by_day(
            &[(today, 4), (today - 2, 1), (today - 10, 99)],
            &[(today, 2), (today - 10, 50)],
        );
        assert_eq!(
            days,
            vec![
                DayClicks {
                    date: "2026-11-19".into(),
                    clicks: 1,
                    visitors: 0
                },
                DayClicks {
                    date: "2026-11-20".into(),
                    clicks: 0,
                    visitors: 0
                },
                DayClicks {
                    date: "2026-11-21".into(),
                    clicks: 4,
                    visitors: 2
                },
            ]
        );
    }
}
