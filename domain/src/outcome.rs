//! What a visit to a short link gets: one pure decision over plain facts (what the
//! lookup found, what the visitor brought, what the domain and the instance say),
//! tested natively as a table. The redirect handler gathers the facts, asks
//! [`decide`], counts the visit and renders the [`Outcome`]; peek and the QR code ask
//! [`sight`] whether the target may be shown.

use std::borrow::Cow;

use super::controls::{SocialCard, Via, Visitor as Targeting};
use super::domains::Fallbacks;
use super::health::{DeadLinkMode, DeadTarget};
use super::link::{with_forwarded_query, LinkState, RedirectRule, RedirectStatus};
use super::target_url::{host_is_blocked, host_of};
use super::timestamp::Timestamp;
use super::visit::BotReason;

/// What the lookup found under the visited name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing<'a> {
    /// The link redirects by this rule, as far as the lookup knows: a click-limited
    /// link's counters have the last word ([`Outcome::admission`]).
    Live(&'a RedirectRule),
    /// The link's target host was blocked by the operator after the link was made.
    Blocked,
    /// The link exists but does not redirect now: why, and the fallback URL its owner
    /// set, if any (it applies only to the expired and the exhausted).
    Stopped {
        state: LinkState,
        fallback: Option<&'a str>,
    },
    /// No link has this name here.
    Missing,
}

impl<'a> Standing<'a> {
    /// A rule the lookup found live, unless its host is on the operator's blocklist:
    /// cached or not, a blocked host stops redirecting at once. No URL parsing.
    pub fn live(rule: &'a RedirectRule, blocked_hosts: &[String]) -> Standing<'a> {
        if !blocked_hosts.is_empty() && host_is_blocked(host_of(&rule.target), blocked_hosts) {
            Standing::Blocked
        } else {
            Standing::Live(rule)
        }
    }
}

/// What the visitor's password came to. Asked only of a protected link; every other
/// link's visitor is `Absent`, which no decision reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Password {
    /// No valid remember cookie and no password offered (a prefetch's never counts).
    #[default]
    Absent,
    /// A valid remember cookie.
    Remembered,
    /// The right password; the `Set-Cookie` value that remembers it.
    Accepted(String),
    /// A wrong password.
    Wrong,
    /// Too many attempts for this link or from this client: retry after this many seconds.
    Throttled(u32),
}

/// What the visitor brought, read from the request only as far as the link needs it:
/// a plain link's visitor carries no bot reason, no password and no cookie.
#[derive(Debug, Clone, Default)]
pub struct Visitor<'a> {
    /// The password form was posted (`POST /{key}`): not a GET or HEAD.
    pub posted: bool,
    /// A visit record is kept if the visitor is forwarded (GET and the form's POST;
    /// HEAD counts nothing).
    pub recorded: bool,
    /// Why a bot came; read only for links with controls or a click limit.
    pub bot: Option<BotReason>,
    /// Read only for links with a password.
    pub password: Password,
    /// What targeting rules test, and the query string forwarded to the target.
    pub targeting: Targeting<'a>,
    /// The A/B variant the visitor's cookie names, if any (split links only).
    pub sticky: Option<usize>,
    /// A random number that draws a variant for a split link's new visitor.
    pub roll: u32,
}

impl Visitor<'_> {
    /// Previews and mail scanners fetch before any person clicks: they never pass a
    /// password and spend no click.
    fn prefetch(&self) -> bool {
        self.bot.is_some_and(BotReason::is_prefetch)
    }
}

/// What the instance and the request's domain say, and when.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    /// Where the request's domain sends visitors who reach no live link.
    pub fallbacks: &'a Fallbacks,
    /// `DEAD_LINK_MODE`, for links that set no mode of their own.
    pub dead_link_mode: DeadLinkMode,
    /// The status of links that set none.
    pub default_status: RedirectStatus,
    pub now: Timestamp,
}

/// A click-limited link's counters must admit the visit before the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Spend one click; refused once the limit is reached.
    Spend,
    /// Spend nothing, only learn whether the link still redirects (HEAD, a prefetch).
    Check,
}

/// How a visit that was answered from the live rule is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    /// A visit record is kept (not for HEAD).
    pub record: bool,
    /// The click counters already hold this visit when its record is written: its
    /// admission spent the click.
    pub counted_first: bool,
    /// Which part of a routed link chose the target.
    pub via: Option<Via>,
    /// The counters must admit the visit first (links with `max_clicks`).
    pub admit: Option<Admit>,
}

/// The redirect a visitor gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect<'a> {
    /// The chosen target, with the visitor's query when the link forwards it.
    pub location: Cow<'a, str>,
    pub status: RedirectStatus,
    /// The cookie that remembers a right password, to set.
    pub password_cookie: Option<&'a str>,
    /// A newly drawn A/B variant to remember: its index and the cookie's lifetime in
    /// seconds.
    pub variant: Option<(usize, u32)>,
    /// Search engines may index the redirect (no `X-Robots-Tag: noindex`).
    pub crawlable: bool,
    pub count: Count,
}

/// A dead link's answer in `interstitial` or `gone` mode: the checked target, the
/// owner's fallback (if any), since when it seems gone, and the mode in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadEnd<'a> {
    pub target: &'a str,
    pub fallback: Option<&'a str>,
    pub dead: DeadTarget,
    pub mode: DeadLinkMode,
    /// A click-limited link's counters must say it still redirects.
    pub admit: Option<Admit>,
}

/// The one answer a visit gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// Forwarded to the target (3xx).
    Redirect(Redirect<'a>),
    /// A link-preview bot gets the link's own card (200), which names no target.
    Card { card: &'a SocialCard, count: Count },
    /// The target checks found dead: a page or JSON naming it (200 or 410). Nothing
    /// is counted: the visitor was not forwarded.
    DeadEnd(DeadEnd<'a>),
    /// The link's password is asked for (401; a form for browsers); `wrong` when one
    /// was offered.
    PasswordGate { wrong: bool },
    /// Too many password attempts (429): retry after this many seconds.
    TooManyAttempts(u32),
    /// A POST to a link that has no password form (405).
    MethodNotAllowed,
    /// No live link: where the visitor goes instead, or why not.
    Closed(Closed<'a>),
}

/// A visit that reaches no live link: where it goes instead, or why not. Nothing is
/// counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed<'a> {
    /// An expired or exhausted link's own fallback (302).
    LinkFallback(&'a str),
    /// The request's domain's fallback for a missing or inactive link (302).
    DomainFallback(&'a str),
    /// The link exists but does not redirect now (410; 404 while not yet valid).
    Gone(LinkState),
    /// The target's host is blocked (410).
    Blocked,
    /// No link has this name (404).
    Missing,
}

impl Outcome<'_> {
    /// How the visit is counted, for an outcome that forwards or stands in for the
    /// target (a redirect, a card); `None` for every other answer.
    pub fn count(&self) -> Option<Count> {
        match self {
            Outcome::Redirect(redirect) => Some(redirect.count),
            Outcome::Card { count, .. } => Some(*count),
            _ => None,
        }
    }

    /// What the click counters of a click-limited link must say before this answer
    /// goes out; when they refuse, the visit is decided again with what they said.
    pub fn admission(&self) -> Option<Admit> {
        match self {
            Outcome::DeadEnd(dead_end) => dead_end.admit,
            _ => self.count().and_then(|count| count.admit),
        }
    }

    /// The answer came from the link's live rule (so a cache fill a D1 read owes is
    /// made after it).
    pub fn answers_live(&self) -> bool {
        matches!(
            self,
            Outcome::Redirect(_) | Outcome::Card { .. } | Outcome::DeadEnd(_)
        )
    }
}

/// The link's own fallback applies to the expired and the exhausted only: a
/// deactivated or not yet valid link was not used up, it was switched off.
fn own_fallback(state: LinkState, fallback: Option<&str>) -> Option<&str> {
    fallback.filter(|_| matches!(state, LinkState::Expired | LinkState::Exhausted))
}

/// A visit (a GET or HEAD: `posted` is false) or the password form's POST to a name no
/// link has: the domain's `not_found` fallback for a visit, else 404. Also the answer
/// to a visitor at a path that names nothing.
pub fn missing(posted: bool, fallbacks: &Fallbacks) -> Closed<'_> {
    match fallbacks.not_found.as_deref() {
        Some(url) if !posted => Closed::DomainFallback(url),
        _ => Closed::Missing,
    }
}

/// Where a visit goes that finds the link stopped: its own fallback, then the domain's
/// `inactive` fallback (never for the password form's POST), else why not.
fn stopped<'a>(
    state: LinkState,
    fallback: Option<&'a str>,
    posted: bool,
    fallbacks: &'a Fallbacks,
) -> Closed<'a> {
    match (own_fallback(state, fallback), fallbacks.inactive.as_deref()) {
        (Some(url), _) => Closed::LinkFallback(url),
        (None, Some(url)) if !posted => Closed::DomainFallback(url),
        (None, _) => Closed::Gone(state),
    }
}

/// What this visit gets. A link that does not redirect now (not yet valid, expired, out
/// of clicks, deactivated, on another domain, blocked) sends the visitor to its own
/// fallback, then to the domain's, else answers why. A live link answers, in this
/// order: a POST where no password form is (405); the password gate before every
/// answer that names the target; the dead-link answer; a link preview's card; the
/// redirect, with its status, forwarded query and cookies. Every answer from a
/// click-limited link waits for its counters ([`Outcome::admission`]), which decide
/// the visit again when they refuse it.
pub fn decide<'a>(
    standing: Standing<'a>,
    visitor: &'a Visitor<'a>,
    site: &Site<'a>,
) -> Outcome<'a> {
    let rule = match standing {
        Standing::Live(rule) => rule,
        Standing::Blocked => return Outcome::Closed(Closed::Blocked),
        Standing::Stopped { state, fallback } => {
            return Outcome::Closed(stopped(state, fallback, visitor.posted, site.fallbacks));
        }
        Standing::Missing => return Outcome::Closed(missing(visitor.posted, site.fallbacks)),
    };
    let routing = rule.routing();
    // Only a protected link has a form to post to; a POST elsewhere counts nothing.
    if visitor.posted && !rule.is_protected() {
        return Outcome::MethodNotAllowed;
    }
    let prefetch = visitor.prefetch();
    let card = match (visitor.bot, routing) {
        (Some(BotReason::LinkPreview), Some(routing)) => routing.social_card.as_ref(),
        _ => None,
    };
    // One `None` check for every link whose target is not dead.
    let dead_end = rule
        .dead
        .map(|dead| (dead, dead.mode_or(site.dead_link_mode)))
        .filter(|(_, mode)| *mode != DeadLinkMode::Redirect);
    // Every answer that names the target waits for the password: the redirect and the
    // dead-link facts. A link preview's card names none, so it alone goes out without
    // one (a preview never passes a password).
    let mut password_cookie = None;
    if rule.is_protected() && (card.is_none() || dead_end.is_some()) {
        match &visitor.password {
            Password::Absent => return Outcome::PasswordGate { wrong: false },
            Password::Wrong => return Outcome::PasswordGate { wrong: true },
            Password::Throttled(after) => return Outcome::TooManyAttempts(*after),
            Password::Remembered => {}
            Password::Accepted(cookie) => password_cookie = Some(cookie.as_str()),
        }
    }
    if let Some((dead, mode)) = dead_end {
        return Outcome::DeadEnd(DeadEnd {
            target: &rule.target,
            fallback: rule.fallback(),
            dead,
            mode,
            // Not forwarded, so no click is spent; but a link out of clicks names its
            // target no more than it redirects.
            admit: rule.metered.then_some(Admit::Check),
        });
    }
    let count = |via| Count {
        record: visitor.recorded,
        counted_first: rule.metered && !prefetch,
        via,
        // A prefetch or a HEAD is only told whether the link still redirects.
        admit: rule.metered.then_some(if visitor.recorded && !prefetch {
            Admit::Spend
        } else {
            Admit::Check
        }),
    };
    if let Some(card) = card {
        return Outcome::Card {
            card,
            count: count(None),
        };
    }
    let (target, via, variant) = match routing {
        None => (rule.target.as_str(), None, None),
        Some(routing) => {
            let (target, via) = routing.choose(
                &rule.target,
                &visitor.targeting,
                site.now,
                visitor.sticky,
                visitor.roll,
            );
            let variant = match (via, &routing.split) {
                (Via::Variant(i), Some(split)) if visitor.sticky != Some(i) => {
                    Some((i, split.sticky_seconds))
                }
                _ => None,
            };
            (target, Some(via), variant)
        }
    };
    let location = if rule.forward_query {
        with_forwarded_query(target, visitor.targeting.query)
    } else {
        Cow::Borrowed(target)
    };
    // Added last, and only where the URL has no such parameter yet: the target's own
    // and the visitor's forwarded ones win.
    let location = match routing.and_then(|r| r.utm.as_ref()) {
        Some(utm) => utm.add_to(location),
        None => location,
    };
    // After the password form's POST the browser must GET the target: 302, whatever
    // the link's own status (a 307 or 308 would repeat the POST there).
    let status = match rule.status {
        _ if visitor.posted => RedirectStatus::Found,
        Some(status) => status,
        None => site.default_status,
    };
    Outcome::Redirect(Redirect {
        location,
        status,
        password_cookie,
        variant,
        crawlable: routing.is_some_and(|r| r.crawlable),
        count: count(via),
    })
}

/// What peek and the QR code may show of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sight<'a> {
    /// Where the link sends a visitor now: its target, or an expired or exhausted
    /// link's own fallback.
    Destination(&'a str),
    /// A password-protected link: its target is shown to no one who has not given the
    /// password.
    Protected,
    /// Not shown: why (410 blocked, 410 gone, 404 not yet valid or missing).
    Hidden(Closed<'a>),
}

/// What a click-limited link's counters must say before a view (peek, QR) is decided:
/// a cached rule does not know how many clicks are left, and a link out of clicks
/// shows no more than a visit would get. Nothing is spent.
pub fn view_admission(standing: Standing<'_>) -> Option<Admit> {
    match standing {
        Standing::Live(rule) if rule.metered => Some(Admit::Check),
        _ => None,
    }
}

/// What peek and the QR code may show of the link the lookup found (and its counters,
/// [`view_admission`]). They are no visit:
/// the domain's fallbacks do not apply.
pub fn sight(standing: Standing<'_>) -> Sight<'_> {
    match standing {
        Standing::Live(rule) if rule.is_protected() => Sight::Protected,
        Standing::Live(rule) => Sight::Destination(&rule.target),
        Standing::Blocked => Sight::Hidden(Closed::Blocked),
        Standing::Stopped { state, fallback } => match own_fallback(state, fallback) {
            Some(url) => Sight::Destination(url),
            None => Sight::Hidden(Closed::Gone(state)),
        },
        Standing::Missing => Sight::Hidden(Closed::Missing),
    }
}

#[cfg(test)]
mod tests;
