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
pub const DEVICE_VALUES: [&str; 5] = ["desktop", "mobile", "tablet", "bot", "other"];
/// Every value `visits.is_bot` accepts (migration 0002: `CHECK (is_bot IN (0, 1))`).
pub const IS_BOT_VALUES: [u8; 2] = [0, 1];

/// The class of device a visit came from, judged from its User-Agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Desktop,
    Mobile,
    Tablet,
    Bot,
    Other,
}

impl Device {
    /// The name stored in `visits.device`: one of [`DEVICE_VALUES`].
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Desktop => "desktop",
            Device::Mobile => "mobile",
            Device::Tablet => "tablet",
            Device::Bot => "bot",
            Device::Other => "other",
        }
    }

    /// Classifies a User-Agent. Bots first: many crawlers also claim a browser.
    /// Command-line HTTP clients count as bots, since no person clicked a link.
    pub fn from_user_agent(ua: &str) -> Device {
        let ua = ua.to_ascii_lowercase();
        let has = |needles: &[&str]| needles.iter().any(|n| ua.contains(n));
        if ua.trim().is_empty() {
            Device::Other
        } else if BotReason::of_lowercase(&ua).is_some() {
            Device::Bot
        } else if has(&["ipad", "tablet", "kindle", "silk/", "playbook"])
            || (ua.contains("android") && !ua.contains("mobile"))
        {
            Device::Tablet
        } else if has(&[
            "mobi",
            "iphone",
            "ipod",
            "android",
            "windows phone",
            "blackberry",
        ]) {
            Device::Mobile
        } else if has(&["windows", "macintosh", "mac os x", "x11", "linux", "cros"]) {
            Device::Desktop
        } else {
            Device::Other
        }
    }
}

/// Why a visit is a bot's: what it was sent for. Link previews and mail scanners fetch
/// a link because someone shared or mailed it, before (or instead of) any person
/// clicking: they never consume a click limit, never pass a password, and are counted
/// apart from clicks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BotReason {
    /// A chat or social app fetching the page to show a card: Slack, X/Twitter,
    /// Facebook, LinkedIn, Discord, WhatsApp, Telegram, iMessage.
    LinkPreview,
    /// A mail security gateway opening every link of a message before delivery.
    EmailScanner,
    /// An uptime or status checker.
    UptimeMonitor,
    /// A command-line or library HTTP client (curl, wget, python-requests, …).
    CommandLine,
    /// A search engine or other crawler.
    Crawler,
}

/// Needles for each reason, lower case, checked in this order: previews and scanners
/// before crawlers, since most of them also say "bot".
const LINK_PREVIEWS: &[&str] = &[
    "slackbot",
    "slack-imgproxy",
    "twitterbot",
    "facebookexternalhit",
    "facebot",
    "facebookcatalog",
    "linkedinbot",
    "discordbot",
    "whatsapp",
    "telegrambot",
    // iMessage's previewer sends Facebook's and Twitter's names (above) or this one.
    "applebot-preview",
    "skypeuripreview",
    "embedly",
    "redditbot",
    "pinterestbot",
    "vkshare",
    "preview",
];
const EMAIL_SCANNERS: &[&str] = &[
    "mimecast",
    "proofpoint",
    "barracuda",
    "messagelabs",
    "forcepoint",
    "trendmicro",
    "ironport",
    "cisco-esa",
    "safelinks",
    "sophos",
    "fireeye",
    "scanner",
];
const UPTIME_MONITORS: &[&str] = &[
    "uptimerobot",
    "pingdom",
    "statuscake",
    "betteruptime",
    "better stack",
    "site24x7",
    "uptime-kuma",
    "hetrixtools",
    "monitor",
];
const COMMAND_LINE: &[&str] = &[
    "curl/",
    "wget/",
    "python-",
    "httpie",
    "go-http-client",
    "okhttp",
    "java/",
    "libwww",
    "axios/",
    "node-fetch",
    "undici",
    "powershell",
    "aiohttp",
];
const CRAWLERS: &[&str] = &["bot", "crawl", "spider", "slurp", "headless"];

impl BotReason {
    /// The name stored with a visit and shown in statistics.
    pub fn as_str(self) -> &'static str {
        match self {
            BotReason::LinkPreview => "link-preview",
            BotReason::EmailScanner => "email-scanner",
            BotReason::UptimeMonitor => "uptime-monitor",
            BotReason::CommandLine => "command-line",
            BotReason::Crawler => "crawler",
        }
    }

    /// Why this User-Agent is a bot's, or `None` for a person's browser (or nothing).
    pub fn of(user_agent: &str) -> Option<BotReason> {
        BotReason::of_lowercase(&user_agent.to_ascii_lowercase())
    }

    fn of_lowercase(ua: &str) -> Option<BotReason> {
        let has = |needles: &[&str]| needles.iter().any(|n| ua.contains(n));
        if has(LINK_PREVIEWS) {
            Some(BotReason::LinkPreview)
        } else if has(EMAIL_SCANNERS) {
            Some(BotReason::EmailScanner)
        } else if has(UPTIME_MONITORS) {
            Some(BotReason::UptimeMonitor)
        } else if has(COMMAND_LINE) {
            Some(BotReason::CommandLine)
        } else if has(CRAWLERS) {
            Some(BotReason::Crawler)
        } else {
            None
        }
    }

    /// Fetches made on someone's behalf before any person clicks: they consume no
    /// click limit and are counted apart from clicks.
    pub fn is_prefetch(self) -> bool {
        matches!(self, BotReason::LinkPreview | BotReason::EmailScanner)
    }
}

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
    pub referer: Option<String>,
    pub country: Option<String>,
    /// The link's counters already hold this click (a click-limited link counts before
    /// it redirects); only the statistics are still owed it.
    pub counted: bool,
    /// The targeting rule or split variant that chose the target (`Via::label`), for a
    /// link that has them.
    pub via: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_are_classified_by_device() {
        let cases = [
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36", Device::Desktop),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15", Device::Desktop),
            ("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", Device::Desktop),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", Device::Mobile),
            ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36", Device::Mobile),
            ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", Device::Tablet),
            ("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 Chrome/120.0 Safari/537.36", Device::Tablet),
            ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", Device::Bot),
            ("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) Chrome/120 Mobile Safari/537.36 (compatible; Googlebot/2.1)", Device::Bot),
            ("facebookexternalhit/1.1", Device::Bot),
            ("curl/8.5.0", Device::Bot),
            ("python-requests/2.31", Device::Bot),
            ("Mozilla/5.0 HeadlessChrome/120.0", Device::Bot),
            ("", Device::Other),
            ("SomethingElse/1.0", Device::Other),
        ];
        for (ua, want) in cases {
            assert_eq!(Device::from_user_agent(ua), want, "{ua}");
        }
    }

    #[test]
    fn bots_are_told_apart_by_why_they_came() {
        let cases = [
            ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", BotReason::LinkPreview),
            ("Twitterbot/1.0", BotReason::LinkPreview),
            ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", BotReason::LinkPreview),
            ("LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", BotReason::LinkPreview),
            ("Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", BotReason::LinkPreview),
            ("WhatsApp/2.23.20.0 A", BotReason::LinkPreview),
            ("TelegramBot (like TwitterBot)", BotReason::LinkPreview),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0", BotReason::LinkPreview),
            ("Mozilla/5.0 (compatible; Mimecast/1.0)", BotReason::EmailScanner),
            ("Proofpoint URL Defense", BotReason::EmailScanner),
            ("Barracuda Sentinel (EE)", BotReason::EmailScanner),
            ("Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", BotReason::UptimeMonitor),
            ("Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", BotReason::UptimeMonitor),
            ("curl/8.5.0", BotReason::CommandLine),
            ("python-requests/2.31", BotReason::CommandLine),
            ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", BotReason::Crawler),
            ("Mozilla/5.0 HeadlessChrome/120.0", BotReason::Crawler),
        ];
        for (ua, want) in cases {
            assert_eq!(BotReason::of(ua), Some(want), "{ua}");
            assert_eq!(Device::from_user_agent(ua), Device::Bot, "{ua}");
        }
        assert_eq!(
            BotReason::of("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile"),
            None
        );
        assert!(BotReason::LinkPreview.is_prefetch() && BotReason::EmailScanner.is_prefetch());
        assert!(!BotReason::Crawler.is_prefetch());
    }

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
