//! What one counted visit records: never the IP address, only coarse facts.

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
        } else if has(&[
            "bot",
            "crawl",
            "spider",
            "slurp",
            "facebookexternalhit",
            "preview",
            "curl/",
            "wget/",
            "python-",
            "httpie",
            "go-http-client",
            "okhttp",
            "java/",
            "headless",
            "libwww",
            "axios/",
            "node-fetch",
            "undici",
            "monitor",
            "scanner",
        ]) {
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

/// The host of a `Referer` header, or `None` for a direct visit or an unusable header.
/// Only the host is kept: paths and queries of the referring page are the visitor's
/// business.
pub fn referrer_host(referer: Option<&str>) -> Option<String> {
    let url = url::Url::parse(referer?.trim()).ok()?;
    match url.scheme() {
        "http" | "https" => url.host_str().map(|h| h.trim_end_matches('.').to_string()),
        _ => None,
    }
}

/// A visit as it will be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub referrer_host: Option<String>,
    /// Two-letter country code from the edge, absent locally.
    pub country: Option<String>,
    pub device: Device,
}

impl Visit {
    pub fn new(user_agent: Option<&str>, referer: Option<&str>, country: Option<String>) -> Visit {
        Visit {
            referrer_host: referrer_host(referer),
            country: country.filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic())),
            device: Device::from_user_agent(user_agent.unwrap_or_default()),
        }
    }

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
