//! Instants as milliseconds since the Unix epoch, and their RFC 3339 (UTC) form.

/// A UTC instant with millisecond precision. Stored in D1 as an INTEGER so that SQL can
/// compare and index it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, truncated to the second.
    pub fn to_rfc3339(self) -> String {
        let secs = self.0.div_euclid(1000);
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }
}

/// Why a string is not an RFC 3339 date-time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTimestamp;

impl Timestamp {
    /// Parses an RFC 3339 date-time (`2026-12-31T23:59:59Z`, optional fraction, `Z` or
    /// a `±HH:MM` offset; `T`/`Z` in either case, as RFC 3339 §5.6 allows).
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
        // Leap seconds (60) are folded into the next second.
        if day < 1 || day > month_len || hour > 23 || minute > 59 || second > 60 {
            return Err(InvalidTimestamp);
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
        Ok(Timestamp(secs * 1000 + millis))
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
    fn dates_and_day_starts_are_utc() {
        let t = Timestamp::from_millis(1_795_290_489_123);
        assert_eq!(t.date(), "2026-11-21");
        assert_eq!(t.start_of_day().to_rfc3339(), "2026-11-21T00:00:00Z");
    }
}
