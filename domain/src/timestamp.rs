//! Instants as milliseconds since the Unix epoch, and their RFC 3339 (UTC) form.
//!
//! A client's date is accepted only from [`MIN_MILLIS`] to [`MAX_MILLIS`]: from the epoch
//! (the service stores epoch milliseconds and has nothing older to compare with) to the
//! last millisecond of year 9999 (RFC 3339 years have four digits; year 10000 would be
//! written with five and no parser, ours included, would read it back).

/// The earliest instant accepted from a client: 1970-01-01T00:00:00Z.
pub const MIN_MILLIS: i64 = 0;
/// The latest instant accepted from a client: 9999-12-31T23:59:59.999Z.
pub const MAX_MILLIS: i64 = 253_402_300_799_999;

/// A UTC instant with millisecond precision. Stored in D1 as an INTEGER so that SQL can
/// compare and index it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The earliest instant accepted from a client ([`MIN_MILLIS`]).
    pub const MIN: Timestamp = Timestamp(MIN_MILLIS);
    /// The latest instant accepted from a client ([`MAX_MILLIS`]).
    pub const MAX: Timestamp = Timestamp(MAX_MILLIS);

    /// An instant from milliseconds the service produced itself (a clock, a stored
    /// column). Client input goes through [`Timestamp::parse_rfc3339`] or
    /// [`Timestamp::parse_millis`], which check the range.
    pub const fn from_millis(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// The same instant without its milliseconds: the instant that [`Timestamp::to_rfc3339`]
    /// writes. A value kept in this form reads back equal from its own echo.
    pub fn truncated_to_second(self) -> Timestamp {
        Timestamp(self.0 - self.0.rem_euclid(1000))
    }

    /// Parses decimal milliseconds since the epoch, as this service writes them in a
    /// cursor: ASCII digits only (no sign, no spaces), from [`MIN_MILLIS`] to
    /// [`MAX_MILLIS`].
    pub fn parse_millis(raw: &str) -> Result<Timestamp, InvalidTimestamp> {
        // i64's parser would also take a sign; 15 digits already exceed MAX_MILLIS.
        if raw.is_empty() || raw.len() > 15 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidTimestamp);
        }
        let ms: i64 = raw.parse().map_err(|_| InvalidTimestamp)?;
        Timestamp::in_range(ms)
    }

    fn in_range(ms: i64) -> Result<Timestamp, InvalidTimestamp> {
        if (MIN_MILLIS..=MAX_MILLIS).contains(&ms) {
            Ok(Timestamp(ms))
        } else {
            Err(InvalidTimestamp)
        }
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, truncated to the second. For every instant from
    /// [`Timestamp::MIN`] to [`Timestamp::MAX`], [`Timestamp::parse_rfc3339`] reads this
    /// back as [`Timestamp::truncated_to_second`].
    pub fn to_rfc3339(self) -> String {
        rfc3339_of_unix_seconds(self.0.div_euclid(1000))
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for any count of seconds since 1970, in range or not: the
/// CLI writes a source's epoch dates with it and lets the service judge the range.
pub fn rfc3339_of_unix_seconds(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Why a string is not an RFC 3339 date-time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTimestamp;

impl Timestamp {
    /// Parses an RFC 3339 date-time (`2026-12-31T23:59:59Z`, optional fraction, `Z` or
    /// a `±HH:MM` offset; `T`/`Z` in either case, as RFC 3339 §5.6 allows). The instant,
    /// once moved to UTC, must lie from [`Timestamp::MIN`] to [`Timestamp::MAX`]: an
    /// offset can carry a date in year 9999 into year 10000, and that is refused.
    /// Fraction digits beyond the millisecond are dropped (not rounded, so no fraction
    /// can carry the instant into the next second).
    pub fn parse_rfc3339(raw: &str) -> Result<Timestamp, InvalidTimestamp> {
        let b = raw.as_bytes();
        let digits = |range: std::ops::Range<usize>| -> Result<i64, InvalidTimestamp> {
            let part = b.get(range).ok_or(InvalidTimestamp)?;
            if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
                return Err(InvalidTimestamp);
            }
            Ok(part.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
        };
        let sep = |i: usize, allowed: &[u8]| match b.get(i) {
            Some(c) if allowed.contains(c) => Ok(()),
            _ => Err(InvalidTimestamp),
        };
        let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        sep(4, b"-")?;
        sep(7, b"-")?;
        sep(10, b"Tt ")?;
        let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
        sep(13, b":")?;
        sep(16, b":")?;
        let mut i = 19;
        let mut millis = 0;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            i = start;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            // Nine digits (nanoseconds) is the most any clock offers; more would overflow.
            if i - start > 9 {
                return Err(InvalidTimestamp);
            }
            let frac = digits(start..i)?;
            let scale = 10_i64
                .checked_pow((i - start) as u32)
                .ok_or(InvalidTimestamp)?;
            millis = frac.checked_mul(1000).ok_or(InvalidTimestamp)? / scale;
        }
        let offset_minutes = match b.get(i) {
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) if i + 6 == b.len() => {
                sep(i + 3, b":")?;
                let (oh, om) = (digits(i + 1..i + 3)?, digits(i + 4..i + 6)?);
                if oh > 23 || om > 59 {
                    return Err(InvalidTimestamp);
                }
                let m = oh * 60 + om;
                if *sign == b'-' {
                    -m
                } else {
                    m
                }
            }
            _ => return Err(InvalidTimestamp),
        };
        let month_len = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
            2 => 28,
            _ => return Err(InvalidTimestamp),
        };
        // Leap seconds (60) are folded into the next second: epoch milliseconds, like
        // POSIX time, have no place for them. The range check below then applies to the
        // folded instant, so 9999-12-31T23:59:60Z is year 10000 and refused.
        if day < 1 || day > month_len || hour > 23 || minute > 59 || second > 60 {
            return Err(InvalidTimestamp);
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
        Timestamp::in_range(secs * 1000 + millis)
    }

    /// The UTC calendar date, `YYYY-MM-DD`.
    pub fn date(self) -> String {
        let (y, m, d) = civil_from_days(self.0.div_euclid(86_400_000));
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// Midnight UTC of this instant's day.
    pub fn start_of_day(self) -> Timestamp {
        Timestamp(self.0 - self.0.rem_euclid(86_400_000))
    }
}

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// The first day (days since 1970) of the UTC calendar month that holds `day`.
pub fn month_start(day: i64) -> i64 {
    let (y, m, _) = civil_from_days(day);
    days_from_civil(y, i64::from(m), 1)
}

/// The first day of the month after the one that holds `day`.
pub fn next_month_start(day: i64) -> i64 {
    let (y, m, _) = civil_from_days(day);
    if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, i64::from(m) + 1, 1)
    }
}

/// The month of `day` as `YYYY-MM`.
pub fn month_label(day: i64) -> String {
    let (y, m, _) = civil_from_days(day);
    format!("{y:04}-{m:02}")
}

/// Days since 1970-01-01 of a proleptic Gregorian date (inverse of `civil_from_days`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Converts days since 1970-01-01 to a proleptic Gregorian date
/// (Howard Hinnant's `civil_from_days`, exact for every i64 day we can meet).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    // d is in 1..=31 and m in 1..=12 by construction.
    (y, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_belongs_to_the_month_that_starts_on_or_before_it() {
        let d = |y, m, day| days_from_civil(y, m, day);
        for (day, start, next, label) in [
            (d(2026, 12, 7), d(2026, 12, 1), d(2027, 1, 1), "2026-12"),
            (d(2026, 12, 1), d(2026, 12, 1), d(2027, 1, 1), "2026-12"),
            (d(2024, 2, 29), d(2024, 2, 1), d(2024, 3, 1), "2024-02"),
            (d(1970, 1, 31), 0, d(1970, 2, 1), "1970-01"),
        ] {
            assert_eq!(month_start(day), start, "{label}");
            assert_eq!(next_month_start(day), next, "{label}");
            assert_eq!(month_label(day), label);
        }
    }

    #[test]
    fn known_instants_format_as_rfc3339_utc() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (999, "1970-01-01T00:00:00Z"),
            (951_782_400_000, "2000-02-29T00:00:00Z"),
            (1_795_290_489_123, "2026-11-21T19:48:09Z"),
            (4_102_444_799_000, "2099-12-31T23:59:59Z"),
            (-1000, "1969-12-31T23:59:59Z"),
        ];
        for (ms, want) in cases {
            assert_eq!(Timestamp::from_millis(ms).to_rfc3339(), want, "{ms}");
        }
    }

    #[test]
    fn rfc3339_strings_parse_to_the_right_instant() {
        let cases = [
            ("1970-01-01T00:00:00Z", 0),
            ("2000-02-29T00:00:00Z", 951_782_400_000),
            ("2026-11-21T19:48:09.123Z", 1_795_290_489_123),
            ("2026-11-21t19:48:09.1234567z", 1_795_290_489_123),
            ("2026-11-21T20:48:09+01:00", 1_795_290_489_000),
            ("2026-11-21T14:18:09-05:30", 1_795_290_489_000),
            ("2026-11-21 19:48:09Z", 1_795_290_489_000),
        ];
        for (raw, ms) in cases {
            assert_eq!(
                Timestamp::parse_rfc3339(raw),
                Ok(Timestamp::from_millis(ms)),
                "{raw}"
            );
        }
    }

    #[test]
    fn formatting_and_parsing_round_trip() {
        for ms in [0, 1_795_290_489_000, 4_102_444_799_000, 951_782_400_000] {
            let t = Timestamp::from_millis(ms);
            assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()), Ok(t));
        }
    }

    #[test]
    fn malformed_or_impossible_date_times_are_rejected() {
        for raw in [
            "",
            "tomorrow",
            "2026-11-21",
            "2026-11-21T19:48",
            "2026-11-21T19:48:09",
            "2026-11-21T19:48:09+0100",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-11-21T24:00:00Z",
            "2026-11-21T19:60:00Z",
            "2026-11-21T19:48:09.Z",
            "2026-11-21T19:48:09ZZ",
            "+2026-11-21T19:48:09Z",
            "2026-11-21T19:48:09+24:00",
            "２０２６-11-21T19:48:09Z",
            "2026-11-21T19:48:09.1234567890123456789012Z",
        ] {
            assert_eq!(
                Timestamp::parse_rfc3339(raw),
                Err(InvalidTimestamp),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn the_range_is_the_epoch_to_the_last_millisecond_of_year_9999() {
        assert_eq!(Timestamp::MIN.to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp::MAX.to_rfc3339(), "9999-12-31T23:59:59Z");
        assert_eq!(
            Timestamp::parse_rfc3339("9999-12-31T23:59:59.999Z"),
            Ok(Timestamp::MAX)
        );
        assert_eq!(
            Timestamp::parse_rfc3339("10000-01-01T00:00:00Z"),
            Err(InvalidTimestamp)
        );
        assert_eq!(MAX_MILLIS + 1, days_from_civil(10_000, 1, 1) * DAY_MS);
        assert_eq!(MIN_MILLIS, days_from_civil(1970, 1, 1) * DAY_MS);
    }

    #[test]
    fn offsets_that_carry_a_date_past_either_end_of_the_range_are_refused() {
        for raw in [
            "1969-12-31T23:59:59.999Z",
            "1970-01-01T00:00:00+00:01",
            "1970-01-01T00:59:59+01:00",
            "1970-01-01T23:58:59+23:59",
            "1970-01-01T00:00:00.000+23:59",
            "9999-12-31T23:59:59-00:01",
            "9999-12-31T00:01:00-23:59",
            "9999-12-31T23:59:60Z",
            "9999-12-31T23:59:59.9999999-00:01",
            "0000-01-01T00:00:00Z",
            "0000-01-01T00:00:00+23:59",
            "1000-06-15T12:00:00Z",
            "1969-12-31T23:59:59Z",
        ] {
            assert_eq!(
                Timestamp::parse_rfc3339(raw),
                Err(InvalidTimestamp),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn every_accepted_date_time_echoes_in_a_form_that_parses_back_to_the_same_second() {
        let cases = [
            ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),
            ("1969-12-31T23:00:00-01:00", "1970-01-01T00:00:00Z"),
            ("1969-12-31T00:01:00-23:59", "1970-01-01T00:00:00Z"),
            ("1969-12-31T23:59:60Z", "1970-01-01T00:00:00Z"),
            ("1970-01-01T23:59:00+23:59", "1970-01-01T00:00:00Z"),
            ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"),
            ("9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59Z"),
            ("9999-12-31T00:00:59-23:59", "9999-12-31T23:59:59Z"),
            ("2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z"),
            ("2016-12-31T23:59:60.5+00:00", "2017-01-01T00:00:00Z"),
            ("2000-02-29T23:59:59.9999-00:30", "2000-03-01T00:29:59Z"),
            ("2026-11-21t19:48:09.123456789z", "2026-11-21T19:48:09Z"),
            ("2026-11-21 19:48:09-00:00", "2026-11-21T19:48:09Z"),
        ];
        for (raw, echo) in cases {
            let t = Timestamp::parse_rfc3339(raw).unwrap();
            assert!((Timestamp::MIN..=Timestamp::MAX).contains(&t), "{raw:?}");
            assert_eq!(t.to_rfc3339(), echo, "{raw:?}");
            assert_eq!(
                Timestamp::parse_rfc3339(&t.to_rfc3339()),
                Ok(t.truncated_to_second()),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn every_instant_in_the_range_round_trips_through_its_rfc3339_form() {
        // The ends, the days around them, leap days, and a spread of pseudo-random instants.
        let mut instants = vec![MIN_MILLIS, MAX_MILLIS, MAX_MILLIS - 999, 951_782_400_000];
        let days = [
            days_from_civil(1970, 1, 1),
            days_from_civil(1970, 3, 1),
            days_from_civil(2000, 2, 29),
            days_from_civil(2100, 2, 28),
            days_from_civil(9996, 2, 29),
            days_from_civil(9999, 1, 1),
            days_from_civil(9999, 12, 31),
        ];
        for day in days {
            for ms in [0, 999, DAY_MS - 1] {
                instants.push(day * DAY_MS + ms);
            }
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            instants.push(((x >> 11) % (MAX_MILLIS as u64 + 1)) as i64);
        }
        for ms in instants {
            let t = Timestamp::from_millis(ms);
            assert!((Timestamp::MIN..=Timestamp::MAX).contains(&t), "{ms}");
            let text = t.to_rfc3339();
            assert_eq!(text.len(), 20, "{ms}: {text}");
            assert_eq!(
                Timestamp::parse_rfc3339(&text),
                Ok(t.truncated_to_second()),
                "{ms}: {text}"
            );
        }
    }

    #[test]
    fn truncating_to_the_second_drops_only_the_milliseconds() {
        let cases = [
            (0, 0),
            (999, 0),
            (1_000, 1_000),
            (1_795_290_489_123, 1_795_290_489_000),
            (MAX_MILLIS, MAX_MILLIS - 999),
            (-1, -1_000),
        ];
        for (ms, want) in cases {
            assert_eq!(
                Timestamp::from_millis(ms).truncated_to_second(),
                Timestamp::from_millis(want),
                "{ms}"
            );
        }
    }

    #[test]
    fn millisecond_strings_parse_only_as_unsigned_digits_within_the_range() {
        for (raw, ms) in [
            ("0", 0),
            ("1795290489123", 1_795_290_489_123),
            ("253402300799999", MAX_MILLIS),
        ] {
            assert_eq!(
                Timestamp::parse_millis(raw),
                Ok(Timestamp::from_millis(ms)),
                "{raw}"
            );
        }
        for raw in [
            "",
            "-1",
            "+5",
            " 5",
            "5 ",
            "1e3",
            "1.5",
            "253402300800000",
            "9223372036854775807",
            "99999999999999999999999",
            "１２",
        ] {
            assert_eq!(
                Timestamp::parse_millis(raw),
                Err(InvalidTimestamp),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn dates_and_day_starts_are_utc() {
        let t = Timestamp::from_millis(1_795_290_489_123);
        assert_eq!(t.date(), "2026-11-21");
        assert_eq!(t.start_of_day().to_rfc3339(), "2026-11-21T00:00:00Z");
    }
}
