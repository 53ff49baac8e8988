//! What one counted visit records: never the IP address, only coarse facts.
//!
//! Everything here comes from the visitor (User-Agent, Referer) or the edge
//! (`CF-IPCountry`), so any bytes at all must classify, and the record they become must
//! satisfy the `visits` table's CHECK constraints: a write of a batch fails as a whole,
//! and one odd header must never cost the other visits in it. The constraints are the
//! consts below, each next to the column it guards.

/// `visits.referrer_host` holds at most this many characters (migration 0002:
/// `CHECK (referrer_host IS NULL OR length(referrer_host) <= 255)`; SQLite's `length()`
/// counts characters, not bytes). A longer host is dropped, not cut: a cut host names
/// some other site.
pub const REFERRER_HOST_MAX_CHARS: usize = 255;
/// `visits.country` is exactly this many characters (migration 0002:
/// `CHECK (country IS NULL OR length(country) = 2)`).
pub const COUNTRY_CODE_CHARS: usize = 2;
/// What Cloudflare sends in `CF-IPCountry` when it knows no country; stored as none, so
/// that statistics count it with the visits that had no header at all.
pub const UNKNOWN_COUNTRY: &str = "XX";
/// Every value `visits.device` accepts (migration 0002:
/// `CHECK (device IN ('desktop', 'mobile', 'tablet', 'bot', 'other'))`).
pub const DEVICE_VALUES: [&str; 5] = [
    Device::Desktop.as_str(),
    Device::Mobile.as_str(),
    Device::Tablet.as_str(),
    Device::Bot.as_str(),
    Device::Other.as_str(),
];
/// Every value `visits.is_bot` accepts (migration 0002: `CHECK (is_bot IN (0, 1))`).
pub const IS_BOT_VALUES: [u8; 2] = [0, 1];

// The User-Agent's classes live with the other readings of that header; re-exported
// here, where the visit record has always named them.
pub use super::user_agent::{BotReason, Device};

/// The host of a `Referer` header, lower case and without the root's trailing dot, or
/// `None` for a direct visit or an unusable header (not an http(s) URL, no host, longer
/// than [`REFERRER_HOST_MAX_CHARS`]). Only the host is kept: paths and queries of the
/// referring page are the visitor's business.
pub fn referrer_host(referer: Option<&str>) -> Option<String> {
    let url = url::Url::parse(referer?.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    // The WHATWG parser already lower-cases and punycodes http(s) hosts; checking again
    // keeps what is stored independent of that parser's version.
    let host = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
    let usable = !host.is_empty()
        && host.chars().count() <= REFERRER_HOST_MAX_CHARS
        && host.bytes().all(|b| b.is_ascii_graphic());
    usable.then_some(host)
}

/// An ISO 3166-1 alpha-2 code in upper case, or `None` for anything else: Cloudflare's
/// `XX` (unknown) and `T1` (Tor, not a country) included.
fn country_code(raw: &str) -> Option<String> {
    let code = raw.trim().to_ascii_uppercase();
    let is_code = code.chars().count() == COUNTRY_CODE_CHARS
        && code.bytes().all(|b| b.is_ascii_uppercase())
        && code != UNKNOWN_COUNTRY;
    is_code.then_some(code)
}

/// A visit as it will be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub referrer_host: Option<String>,
    /// Two-letter country code from the edge, absent locally.
    pub country: Option<String>,
    pub device: Device,
    /// Why it is a bot's visit, for a bot.
    pub bot_reason: Option<BotReason>,
}

impl Visit {
    /// Classifies the raw facts of one visit; never fails, whatever the headers hold.
    pub fn new(user_agent: Option<&str>, referer: Option<&str>, country: Option<String>) -> Visit {
        Visit {
            referrer_host: referrer_host(referer),
            country: country.as_deref().and_then(country_code),
            device: Device::from_user_agent(user_agent.unwrap_or_default()),
            bot_reason: BotReason::of(user_agent.unwrap_or_default()),
        }
    }

    /// True when the User-Agent is a crawler or a command-line client.
    pub fn is_bot(&self) -> bool {
        self.device == Device::Bot
    }
}

/// A visit as the redirect saw it: the raw facts, kept for after the response, when
/// they are classified (`clicks::batch::VisitRecord::new`). Nothing here is parsed on
/// the redirect path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingVisit {
    pub key: String,
    pub at: i64,
    pub user_agent: Option<String>,
    /// The client's address (`CF-Connecting-IP`), only ever hashed under the day's key
    /// for the unique-visitor sketch (`domain::visitors`), never stored or logged.
    pub address: Option<String>,
    pub referer: Option<String>,
    pub country: Option<String>,
    /// The link's counters already hold this click (a click-limited link counts before
    /// it redirects); only the statistics are still owed it.
    pub counted: bool,
    /// The targeting rule or split variant that chose the target (`Via::label`), for a
    /// link that has them.
    pub via: Option<String>,
    /// The visit came through the link's QR code (its marked URL, `/{key}/scan`).
    pub qr: bool,
    /// The link's UTM campaign, for a link that has one.
    pub campaign: Option<String>,
}

/// How a click reached the link, as the statistics name it: through its QR code, or
/// the plain short URL. Stored as the `s:` dimension of the daily aggregate.
pub const SOURCE_QR: &str = "qr";
pub const SOURCE_LINK: &str = "link";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_referrer_host_is_kept() {
        assert_eq!(
            referrer_host(Some("https://news.example.com/a/b?q=secret")),
            Some("news.example.com".into())
        );
        assert_eq!(
            referrer_host(Some("https://Example.COM./")),
            Some("example.com".into())
        );
        assert_eq!(referrer_host(None), None);
        assert_eq!(referrer_host(Some("")), None);
        assert_eq!(referrer_host(Some("not a url")), None);
        assert_eq!(referrer_host(Some("android-app://com.example")), None);
    }

    /// True when `v` satisfies every CHECK constraint of the `visits` table.
    fn fits_the_table(v: &Visit) -> bool {
        v.referrer_host
            .as_ref()
            .is_none_or(|h| h.chars().count() <= REFERRER_HOST_MAX_CHARS)
            && v.country
                .as_ref()
                .is_none_or(|c| c.chars().count() == COUNTRY_CODE_CHARS)
            && DEVICE_VALUES.contains(&v.device.as_str())
            && IS_BOT_VALUES.contains(&u8::from(v.is_bot()))
    }

    fn record(ua: Option<&str>, referer: Option<&str>, country: Option<&str>) -> Visit {
        Visit::new(ua, referer, country.map(Into::into))
    }

    #[test]
    fn the_constraint_consts_are_the_ones_in_the_migration() {
        let sql = include_str!("../../migrations/0002_link_controls_and_visits.sql");
        let devices = DEVICE_VALUES.map(|d| format!("'{d}'")).join(", ");
        let bots = IS_BOT_VALUES.map(|b| b.to_string()).join(", ");
        for clause in [
            format!("length(referrer_host) <= {REFERRER_HOST_MAX_CHARS})"),
            format!("length(country) = {COUNTRY_CODE_CHARS})"),
            format!("device IN ({devices}))"),
            format!("is_bot IN ({bots}))"),
        ] {
            assert!(sql.contains(&clause), "{clause}");
        }
    }

    #[test]
    fn every_device_is_stored_under_a_name_the_table_accepts() {
        let all = [
            Device::Desktop,
            Device::Mobile,
            Device::Tablet,
            Device::Bot,
            Device::Other,
        ];
        assert_eq!(all.map(Device::as_str), DEVICE_VALUES);
    }

    #[test]
    fn country_codes_are_two_ascii_letters_in_upper_case_or_none() {
        let cases = [
            ("DE", Some("DE")),
            ("de", Some("DE")),
            ("dE", Some("DE")),
            (" US\t", Some("US")),
            ("XX", None),
            ("xx", None),
            ("T1", None),
            ("", None),
            ("D", None),
            ("DEU", None),
            ("1A", None),
            ("D-", None),
            ("ÄÖ", None),
            ("Ä", None),
            ("D\u{0}", None),
            ("ＤＥ", None),
        ];
        for (raw, want) in cases {
            let r = record(None, None, Some(raw));
            assert_eq!(r.country.as_deref(), want, "{raw:?}");
            assert!(fits_the_table(&r), "{raw:?}");
        }
    }

    #[test]
    fn referrer_hosts_are_lower_case_and_short_enough_for_the_table_or_none() {
        let longest = format!("{}.com", "a".repeat(REFERRER_HOST_MAX_CHARS - 4));
        let cases = [
            (
                "HTTPS://NEWS.Example.COM/Path",
                Some("news.example.com".to_string()),
            ),
            ("https://example.com.../", Some("example.com".into())),
            // Browsers send punycode hosts in Referer (a header is ASCII); the parser
            // here has no Unicode tables (Cargo.toml), so a raw Unicode host is unusable.
            (
                "https://xn--bcher-kva.example/",
                Some("xn--bcher-kva.example".into()),
            ),
            ("https://bücher.example/", None),
            ("http://[2001:DB8::1]:8080/", Some("[2001:db8::1]".into())),
            ("http://192.0.2.1/", Some("192.0.2.1".into())),
            (&format!("https://{longest}/"), Some(longest.clone())),
            (&format!("https://a{longest}/"), None),
            (&format!("https://{}/", "é".repeat(300)), None),
            ("https://./", None),
            ("http:///", None),
            ("https://", None),
            ("ftp://example.com/", None),
            ("data:text/plain,hi", None),
            ("\u{0}\u{7f}\u{fffd}", None),
        ];
        for (raw, want) in cases {
            let r = record(None, Some(raw), None);
            assert_eq!(r.referrer_host, want, "{raw:?}");
            assert!(fits_the_table(&r), "{raw:?}");
        }
    }

    #[test]
    fn any_header_bytes_classify_into_a_visit_that_fits_the_table() {
        // A deterministic spread of odd headers: long, empty, control characters,
        // multi-byte letters whose lower case is longer, and near-misses of real values.
        let alphabet: Vec<char> = "aZ09 ./:-_[]%@?#\t\u{0}\u{7f}éİẞﬀ\u{fffd}😀KkTt1Xx"
            .chars()
            .collect();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let mut samples: Vec<String> = vec![
            String::new(),
            "Mozilla/5.0 ".repeat(2_000),
            "https://".to_string() + &"a.".repeat(200) + "com/",
            "https://".to_string() + &"İ".repeat(200) + ".com/",
        ];
        for _ in 0..3_000 {
            let len = next(40);
            let mut s: String = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
            if next(3) == 0 {
                s.insert_str(0, "https://");
            }
            samples.push(s);
        }
        for (i, ua) in samples.iter().enumerate() {
            let referer = &samples[(i * 7 + 3) % samples.len()];
            let country = &samples[(i * 13 + 5) % samples.len()];
            let r = record(Some(ua), Some(referer), Some(country));
            assert!(fits_the_table(&r), "{r:?}");
        }
    }

    #[test]
    fn countries_must_be_two_letters() {
        assert_eq!(
            Visit::new(None, None, Some("DE".into())).country,
            Some("DE".into())
        );
        assert_eq!(Visit::new(None, None, Some("XYZ".into())).country, None);
        assert_eq!(Visit::new(None, None, Some("T1".into())).country, None);
        assert!(Visit::new(Some("curl/8"), None, None).is_bot());
    }
}
