//! Dates as other shorteners write them, turned into RFC 3339 for the import endpoint
//! (which checks the range). The service stores UTC; a date without an offset (YOURLS's
//! MySQL `DATETIME`) is taken as UTC.

use shortener_domain::timestamp::rfc3339_of_unix_seconds;

/// RFC 3339 (`2019-05-01T10:00:00Z`) from the forms the sources use, or `None` for an
/// empty or zero date (MySQL's `0000-00-00 00:00:00`). An unreadable date is an error.
pub fn normalize(raw: &str) -> Result<Option<String>, String> {
    let s = raw.trim();
    if s.is_empty() || s.starts_with("0000-00-00") {
        return Ok(None);
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = s.parse().map_err(|_| format!("unreadable date '{s}'"))?;
        return Ok(Some(from_epoch(n)));
    }
    let b = s.as_bytes();
    let date_ok = b.len() >= 10
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && s.get(..4)
            .is_some_and(|y| y.bytes().all(|c| c.is_ascii_digit()));
    if !date_ok {
        return Err(format!("unreadable date '{s}'"));
    }
    if b.len() == 10 {
        return Ok(Some(format!("{s}T00:00:00Z")));
    }
    // `2019-05-01 10:00:00` (MySQL) uses a space; RFC 3339 allows it, the service too,
    // but the `T` keeps the output plain.
    let mut out = String::with_capacity(s.len() + 6);
    out.push_str(s.get(..10).unwrap_or_default());
    out.push('T');
    let rest = s.get(11..).unwrap_or_default();
    // Bitly writes offsets as `+0000`; RFC 3339 wants `+00:00`.
    let (time, offset) = match rest.rfind(['+', '-', 'Z', 'z']) {
        Some(i) => (
            rest.get(..i).unwrap_or_default(),
            rest.get(i..).unwrap_or_default(),
        ),
        None => (rest, ""),
    };
    out.push_str(time);
    match offset.len() {
        0 => out.push('Z'),
        5 if !offset.contains(':') => {
            out.push_str(offset.get(..3).unwrap_or_default());
            out.push(':');
            out.push_str(offset.get(3..).unwrap_or_default());
        }
        _ => out.push_str(offset),
    }
    Ok(Some(out))
}

/// Seconds (or, from 10^11 on, milliseconds) since 1970 as RFC 3339 UTC, by the
/// service's own calendar arithmetic.
fn from_epoch(n: i64) -> String {
    let secs = if n >= 100_000_000_000 { n / 1000 } else { n };
    rfc3339_of_unix_seconds(secs)
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn each_source_form_becomes_rfc_3339() {
        let cases = [
            ("2019-05-01T10:00:00Z", "2019-05-01T10:00:00Z"),
            ("2019-05-01T10:00:00.123Z", "2019-05-01T10:00:00.123Z"),
            ("2019-05-01T10:00:00+0000", "2019-05-01T10:00:00+00:00"),
            ("2019-05-01T12:00:00+02:00", "2019-05-01T12:00:00+02:00"),
            ("2019-05-01 10:00:00", "2019-05-01T10:00:00Z"),
            ("2019-05-01", "2019-05-01T00:00:00Z"),
            ("1556704800", "2019-05-01T10:00:00Z"),
            ("1556704800000", "2019-05-01T10:00:00Z"),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize(raw).unwrap().as_deref(), Some(want), "{raw}");
        }
    }

    #[test]
    fn empty_and_zero_dates_are_none_and_junk_is_an_error() {
        assert_eq!(normalize("").unwrap(), None);
        assert_eq!(normalize("0000-00-00 00:00:00").unwrap(), None);
        assert!(normalize("yesterday").is_err());
        assert!(normalize("01/05/2019").is_err());
    }
}
