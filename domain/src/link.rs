//! A stored short link, its redirect settings, and whether it may redirect right now.

use std::borrow::Cow;
use std::rc::Rc;

use super::address::{Domain, LinkName};
use super::controls::{Controls, Routing};
use super::health::{DeadLinkMode, DeadTarget, Health};
use super::key::Key;
use super::timestamp::Timestamp;

/// The HTTP status a link redirects with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectStatus {
    MovedPermanently,
    Found,
    TemporaryRedirect,
    PermanentRedirect,
}

impl RedirectStatus {
    pub const ALLOWED: &'static str = "301, 302, 307 or 308";

    pub fn from_code(code: i64) -> Option<RedirectStatus> {
        match code {
            301 => Some(RedirectStatus::MovedPermanently),
            302 => Some(RedirectStatus::Found),
            307 => Some(RedirectStatus::TemporaryRedirect),
            308 => Some(RedirectStatus::PermanentRedirect),
            _ => None,
        }
    }

    pub fn code(self) -> u16 {
        match self {
            RedirectStatus::MovedPermanently => 301,
            RedirectStatus::Found => 302,
            RedirectStatus::TemporaryRedirect => 307,
            RedirectStatus::PermanentRedirect => 308,
        }
    }

    /// Permanent redirects may be cached by browsers; temporary ones are not.
    pub fn is_permanent(self) -> bool {
        matches!(
            self,
            RedirectStatus::MovedPermanently | RedirectStatus::PermanentRedirect
        )
    }
}

/// How a link behaves, as its creator set it: one type from the creation request to
/// the stored row and back, so no layer copies these field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSettings {
    pub expires_at: Option<Timestamp>,
    pub max_clicks: Option<i64>,
    /// `None`: the deployment's default (`DEFAULT_REDIRECT_STATUS`).
    pub redirect_status: Option<RedirectStatus>,
    pub forward_query: bool,
    /// What visitors get once the target is dead; `None`: the instance's
    /// `DEAD_LINK_MODE`.
    pub dead_link_mode: Option<DeadLinkMode>,
}

impl Default for LinkSettings {
    /// A plain link: no expiry, no click limit, the default status, queries forwarded.
    fn default() -> LinkSettings {
        LinkSettings {
            expires_at: None,
            max_clicks: None,
            redirect_status: None,
            forward_query: true,
            dead_link_mode: None,
        }
    }
}

/// One row of the `links` table, minus the secret hash, which never leaves storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The domain it lives on; its key is unique there.
    pub domain: Domain,
    pub key: Key,
    pub target_url: String,
    pub is_active: bool,
    pub clicks: i64,
    /// The part of `clicks` counted at another shortener before the link was imported.
    pub imported_clicks: i64,
    pub created_at: Timestamp,
    pub settings: LinkSettings,
    /// Bumped by every change to the row's redirect behaviour; the cache checks it.
    pub version: i64,
    /// Title, tags, note and routing controls (issue 11); default for a plain link.
    pub controls: Controls,
    /// The name its clicks and statistics are kept under: the link's first name
    /// ([`LinkName::qualified`]), which a rename leaves in place.
    pub stats_key: String,
    /// What the last checks of the target saw.
    pub health: Health,
}

/// Whether a link redirects, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Active,
    Deactivated,
    Expired,
    Exhausted,
    /// Its `valid_since` has not come yet.
    Scheduled,
}

impl Link {
    pub fn state(&self, now: Timestamp) -> LinkState {
        if !self.is_active {
            LinkState::Deactivated
        } else if self.controls.routing.valid_since.is_some_and(|at| now < at) {
            LinkState::Scheduled
        } else if self.settings.expires_at.is_some_and(|at| at <= now) {
            LinkState::Expired
        } else if self
            .settings
            .max_clicks
            .is_some_and(|max| self.clicks >= max)
        {
            LinkState::Exhausted
        } else {
            LinkState::Active
        }
    }

    /// The name clicks are counted and aggregated under (see [`Link::stats_key`]).
    pub fn stats_key(&self) -> &str {
        &self.stats_key
    }

    /// Its domain and its current key.
    pub fn name(&self) -> LinkName {
        LinkName::new(self.domain.clone(), self.key.clone())
    }

    /// Whether it was renamed: its statistics are kept under its first name.
    pub fn was_renamed(&self) -> bool {
        self.stats_key != self.name().qualified()
    }
}

/// What a redirect needs to know about a link: the part of it that is cached in KV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectRule {
    pub target: String,
    pub version: i64,
    pub status: Option<RedirectStatus>,
    pub forward_query: bool,
    pub expires_at: Option<Timestamp>,
    /// The link has `max_clicks`: every visit must be admitted by D1 before redirecting.
    pub metered: bool,
    /// What issue 11's controls add to the redirect; default for a plain link.
    pub controls: RuleControls,
    /// Set only while the target is dead: a healthy link's redirect checks one `None`.
    pub dead: Option<DeadTarget>,
}

/// The controls a redirect needs, kept apart so a plain link's rule stays as small and
/// cheap to clone as before: no routing, no stats key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleControls {
    /// Counted under this key instead of the one visited (a renamed link, or an alias).
    pub stats_key: Option<String>,
    /// Shared: the isolate's cache hands out a clone of the rule on every redirect.
    pub routing: Option<Rc<Routing>>,
}

impl RuleControls {
    /// The rule controls of `link` as visited under `visited`.
    pub fn of(link: &Link, visited: &str) -> RuleControls {
        let stats_key = link.stats_key();
        RuleControls {
            stats_key: (stats_key != visited).then(|| stats_key.to_string()),
            routing: (!link.controls.routing.is_plain())
                .then(|| Rc::new(link.controls.routing.clone())),
        }
    }
}

impl RedirectRule {
    /// The rule of `link`, as visited under its current name.
    pub fn of(link: &Link) -> RedirectRule {
        RedirectRule::visited_as(link, &link.name().qualified())
    }

    /// The rule of `link`, as visited under `visited` (the qualified name of its key
    /// or of one of its aliases, see [`LinkName::qualified`]).
    pub fn visited_as(link: &Link, visited: &str) -> RedirectRule {
        RedirectRule {
            target: link.target_url.clone(),
            version: link.version,
            status: link.settings.redirect_status,
            forward_query: link.settings.forward_query,
            expires_at: link.settings.expires_at,
            metered: link.settings.max_clicks.is_some(),
            controls: RuleControls::of(link, visited),
            dead: link.health.dead_target(link.settings.dead_link_mode),
        }
    }

    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// Its `valid_since` has not come yet.
    pub fn is_scheduled(&self, now: Timestamp) -> bool {
        self.routing()
            .and_then(|r| r.valid_since)
            .is_some_and(|at| now < at)
    }

    pub fn routing(&self) -> Option<&Routing> {
        self.controls.routing.as_deref()
    }

    /// The link asks for a password before it redirects.
    pub fn is_protected(&self) -> bool {
        self.routing().is_some_and(|r| r.password_hash.is_some())
    }

    /// Where an expired or exhausted link sends visitors, if it says.
    pub fn fallback(&self) -> Option<&str> {
        self.routing().and_then(|r| r.fallback_url.as_deref())
    }

    /// The key a visit is counted under.
    pub fn stats_key<'a>(&'a self, visited: &'a str) -> &'a str {
        self.controls.stats_key.as_deref().unwrap_or(visited)
    }
}

/// Appends the visitor's query string to the target's own query, keeping the target's
/// fragment last: `https://a.com/p?x=1#top` + `utm=1` → `https://a.com/p?x=1&utm=1#top`.
/// String work only: this runs on every redirect, and without a visitor query (the
/// usual case) it borrows the target instead of copying it.
pub fn with_forwarded_query<'a>(target: &'a str, visitor_query: &str) -> Cow<'a, str> {
    let visitor_query = visitor_query.trim_start_matches('?');
    if visitor_query.is_empty() {
        return Cow::Borrowed(target);
    }
    let (base, fragment) = match target.find('#') {
        Some(i) => target.split_at(i),
        None => (target, ""),
    };
    let joiner = match base.find('?') {
        None => "?",
        Some(i) if i + 1 == base.len() => "",
        Some(_) => "&",
    };
    Cow::Owned(format!("{base}{joiner}{visitor_query}{fragment}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> Link {
        Link {
            domain: Domain::primary(),
            key: Key::parse("abc").unwrap(),
            target_url: "https://example.com/".into(),
            is_active: true,
            clicks: 3,
            imported_clicks: 0,
            created_at: Timestamp::from_millis(0),
            settings: LinkSettings::default(),
            version: 1,
            controls: Controls::default(),
            stats_key: "abc".into(),
            health: Health::default(),
        }
    }

    #[test]
    fn a_link_is_active_until_deactivated_expired_or_exhausted() {
        let now = Timestamp::from_millis(1_000);
        assert_eq!(link().state(now), LinkState::Active);
        assert_eq!(
            Link {
                is_active: false,
                ..link()
            }
            .state(now),
            LinkState::Deactivated
        );
        let expired = Link {
            settings: LinkSettings {
                expires_at: Some(Timestamp::from_millis(1_000)),
                ..LinkSettings::default()
            },
            ..link()
        };
        assert_eq!(expired.state(now), LinkState::Expired);
        let later = Link {
            settings: LinkSettings {
                expires_at: Some(Timestamp::from_millis(1_001)),
                ..LinkSettings::default()
            },
            ..link()
        };
        assert_eq!(later.state(now), LinkState::Active);
        assert_eq!(
            Link {
                settings: LinkSettings {
                    max_clicks: Some(3),
                    ..LinkSettings::default()
                },
                ..link()
            }
            .state(now),
            LinkState::Exhausted
        );
        assert_eq!(
            Link {
                settings: LinkSettings {
                    max_clicks: Some(4),
                    ..LinkSettings::default()
                },
                ..link()
            }
            .state(now),
            LinkState::Active
        );
    }

    #[test]
    fn only_the_four_redirect_statuses_are_accepted() {
        for code in [301, 302, 307, 308] {
            assert_eq!(
                RedirectStatus::from_code(code).map(|s| i64::from(s.code())),
                Some(code)
            );
        }
        for code in [200, 300, 303, 304, 305, 306, 309, 0, -302] {
            assert_eq!(RedirectStatus::from_code(code), None, "{code}");
        }
        assert!(RedirectStatus::MovedPermanently.is_permanent());
        assert!(RedirectStatus::PermanentRedirect.is_permanent());
        assert!(!RedirectStatus::Found.is_permanent());
        assert!(!RedirectStatus::TemporaryRedirect.is_permanent());
    }

    #[test]
    fn the_visitor_query_is_appended_to_the_targets_query() {
        let cases = [
            ("https://a.com/", "", "https://a.com/"),
            ("https://a.com/", "utm=1", "https://a.com/?utm=1"),
            ("https://a.com/p?x=1", "utm=1", "https://a.com/p?x=1&utm=1"),
            ("https://a.com/p?", "utm=1", "https://a.com/p?utm=1"),
            ("https://a.com/p#top", "utm=1", "https://a.com/p?utm=1#top"),
            (
                "https://a.com/p?x=1#top?no",
                "a=b&c=d",
                "https://a.com/p?x=1&a=b&c=d#top?no",
            ),
            ("https://a.com/", "?utm=1", "https://a.com/?utm=1"),
        ];
        for (target, query, want) in cases {
            assert_eq!(
                with_forwarded_query(target, query),
                want,
                "{target} + {query}"
            );
        }
    }
}
