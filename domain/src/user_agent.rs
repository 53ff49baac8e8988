//! What a User-Agent header says, and the one place that spells it: the device class
//! (stored with each visit and named by targeting rules), the operating system (named
//! by rules) and, for a bot, why it came. Any bytes at all classify.

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
    /// The name stored in `visits.device` (one of `visit::DEVICE_VALUES`) and, for the
    /// three a rule can name, the name a rule uses.
    pub const fn as_str(self) -> &'static str {
        match self {
            Device::Desktop => "desktop",
            Device::Mobile => "mobile",
            Device::Tablet => "tablet",
            Device::Bot => "bot",
            Device::Other => "other",
        }
    }

    /// The class a targeting rule can name, or `None` for a bot or an unknown device
    /// (rules never match those).
    pub fn class(self) -> Option<DeviceClass> {
        match self {
            Device::Desktop => Some(DeviceClass::Desktop),
            Device::Mobile => Some(DeviceClass::Mobile),
            Device::Tablet => Some(DeviceClass::Tablet),
            Device::Bot | Device::Other => None,
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

/// The device classes a rule can name (bots are never targeted: they get the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceClass {
    Desktop,
    Mobile,
    Tablet,
}

/// Operating systems a rule can name, judged from the User-Agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Ios,
    Android,
    Windows,
    Macos,
    Linux,
    Chromeos,
}

impl DeviceClass {
    /// Every class, in the order the API and the forms list them.
    pub const ALL: [DeviceClass; 3] = [
        DeviceClass::Desktop,
        DeviceClass::Mobile,
        DeviceClass::Tablet,
    ];

    /// The device a class names: its name is that device's stored name.
    pub const fn device(self) -> Device {
        match self {
            DeviceClass::Desktop => Device::Desktop,
            DeviceClass::Mobile => Device::Mobile,
            DeviceClass::Tablet => Device::Tablet,
        }
    }

    /// The name a rule uses, which is the stored name of the device.
    pub const fn as_str(self) -> &'static str {
        self.device().as_str()
    }

    /// A class by its name, in any case.
    pub fn parse(raw: &str) -> Option<DeviceClass> {
        DeviceClass::ALL
            .into_iter()
            .find(|c| raw.eq_ignore_ascii_case(c.as_str()))
    }
}

impl Os {
    /// Every system, in the order the API and the forms list them.
    pub const ALL: [Os; 6] = [
        Os::Ios,
        Os::Android,
        Os::Windows,
        Os::Macos,
        Os::Linux,
        Os::Chromeos,
    ];

    /// The name a rule uses.
    pub const fn as_str(self) -> &'static str {
        match self {
            Os::Ios => "ios",
            Os::Android => "android",
            Os::Windows => "windows",
            Os::Macos => "macos",
            Os::Linux => "linux",
            Os::Chromeos => "chromeos",
        }
    }

    /// A system by its name, in any case.
    pub fn parse(raw: &str) -> Option<Os> {
        Os::ALL
            .into_iter()
            .find(|os| raw.eq_ignore_ascii_case(os.as_str()))
    }

    /// The system a User-Agent claims. iOS before macOS (iPads may say "Mac OS X"),
    /// Android before Linux (Android says "Linux").
    pub fn of(user_agent: &str) -> Option<Os> {
        let ua = user_agent.to_ascii_lowercase();
        if ua.contains("iphone") || ua.contains("ipad") || ua.contains("ipod") {
            Some(Os::Ios)
        } else if ua.contains("android") {
            Some(Os::Android)
        } else if ua.contains("cros") {
            Some(Os::Chromeos)
        } else if ua.contains("windows") {
            Some(Os::Windows)
        } else if ua.contains("mac os x") || ua.contains("macintosh") {
            Some(Os::Macos)
        } else if ua.contains("linux") || ua.contains("x11") {
            Some(Os::Linux)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148";
    const WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0";

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
    fn operating_systems_are_told_apart() {
        assert_eq!(Os::of(IPHONE), Some(Os::Ios));
        assert_eq!(Os::of(WINDOWS), Some(Os::Windows));
        assert_eq!(
            Os::of("Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile"),
            Some(Os::Android)
        );
        assert_eq!(
            Os::of("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0)"),
            Some(Os::Macos)
        );
        assert_eq!(Os::of("curl/8.0"), None);
    }

    #[test]
    fn a_rule_s_class_and_system_names_read_back_in_any_case() {
        for c in DeviceClass::ALL {
            assert_eq!(DeviceClass::parse(&c.as_str().to_uppercase()), Some(c));
            assert_eq!(c.device().class(), Some(c));
        }
        for os in Os::ALL {
            assert_eq!(Os::parse(&os.as_str().to_uppercase()), Some(os));
        }
        assert_eq!(DeviceClass::parse("bot"), None);
        assert_eq!(Os::parse("beos"), None);
    }
}
