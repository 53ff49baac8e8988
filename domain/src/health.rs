//! Link health: what a check of a target observed, the state it puts the link in, when
//! the link is checked next, and what a visitor of a dead link gets. Pure rules; the
//! fetching lives in the worker's `health`, the columns in `storage::health`.

use super::timestamp::Timestamp;

/// Consecutive failed checks (5xx, timeout, unreachable) after which a link is dead.
pub const DEAD_AFTER_FAILURES: u32 = 3;
/// Longest reason kept (the column's CHECK mirrors it).
pub const MAX_REASON_LEN: usize = 200;

const MINUTE_MS: i64 = 60 * 1000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
/// A healthy target is checked again after a day; a dead one too (it may come back).
const HEALTHY_INTERVAL_MS: i64 = 24 * HOUR_MS;
const DEAD_INTERVAL_MS: i64 = 24 * HOUR_MS;
/// Unverifiable targets refuse robots; asking them often only annoys their owners.
const UNVERIFIABLE_INTERVAL_MS: i64 = 3 * 24 * HOUR_MS;
/// A failing target is checked sooner, doubling from this: 10 min, 20 min, then dead.
const FAILING_FIRST_INTERVAL_MS: i64 = 10 * MINUTE_MS;
const FAILING_MAX_INTERVAL_MS: i64 = 6 * HOUR_MS;

/// The health of a link's target, as its last checks saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    /// Never checked.
    Unknown,
    /// Answered 2xx (after at most a few redirects).
    Healthy,
    /// Failed (5xx, timeout, TLS or DNS failure, redirect loop), fewer than
    /// [`DEAD_AFTER_FAILURES`] times in a row.
    Unhealthy,
    /// 404 or 410, or unhealthy [`DEAD_AFTER_FAILURES`] times in a row.
    Dead,
    /// The target keeps robots out (401, 403, 429, other 4xx, a bot wall) or redirects
    /// where this service will not follow: never called dead.
    Unverifiable,
}

impl HealthState {
    pub const ALLOWED: &'static str = "unknown, healthy, unhealthy, dead or unverifiable";

    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Unknown => "unknown",
            HealthState::Healthy => "healthy",
            HealthState::Unhealthy => "unhealthy",
            HealthState::Dead => "dead",
            HealthState::Unverifiable => "unverifiable",
        }
    }

    pub fn parse(raw: &str) -> Option<HealthState> {
        [
            HealthState::Unknown,
            HealthState::Healthy,
            HealthState::Unhealthy,
            HealthState::Dead,
            HealthState::Unverifiable,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// What a visitor of a dead link gets (`DEAD_LINK_MODE`, or the link's own choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLinkMode {
    /// Redirected as if nothing were wrong (the default).
    Redirect,
    /// A page saying the target appears gone since a date, with a button to continue.
    Interstitial,
    /// 410 Gone with the same facts.
    Gone,
}

impl DeadLinkMode {
    pub const ALLOWED: &'static str = "redirect, interstitial or gone";

    pub fn as_str(self) -> &'static str {
        match self {
            DeadLinkMode::Redirect => "redirect",
            DeadLinkMode::Interstitial => "interstitial",
            DeadLinkMode::Gone => "gone",
        }
    }

    pub fn parse(raw: &str) -> Option<DeadLinkMode> {
        [
            DeadLinkMode::Redirect,
            DeadLinkMode::Interstitial,
            DeadLinkMode::Gone,
        ]
        .into_iter()
        .find(|m| m.as_str() == raw)
    }
}

/// What one check saw at the end of its redirects, or why it saw nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// The final answer's status; `bot_wall` when it was a challenge page
    /// (`cf-mitigated: challenge`), whatever its status.
    Answered { status: u16, bot_wall: bool },
    /// No answer within the check's time.
    Timeout,
    /// The connection failed (DNS, TLS, refused); the runtime's message.
    Unreachable(String),
    /// More redirects than a check follows, or a loop.
    TooManyRedirects,
    /// A redirect to an address the target rules refuse (private, own host, blocked);
    /// not followed. The rule that refused it.
    RedirectRefused(String),
}

/// How an observation counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Healthy,
    /// A failure that may pass (5xx, timeout): dead only after several in a row.
    Failing,
    /// The target says it is gone (404, 410): dead at once.
    Gone,
    Unverifiable,
}

impl Observation {
    pub fn verdict(&self) -> Verdict {
        match self {
            Observation::Answered { bot_wall: true, .. } => Verdict::Unverifiable,
            Observation::Answered { status, .. } => match status {
                200..=399 => Verdict::Healthy,
                404 | 410 => Verdict::Gone,
                // 401, 403, 429, 451 and any other refusal: the target exists, or may,
                // but will not show itself to a robot.
                400..=499 => Verdict::Unverifiable,
                _ => Verdict::Failing,
            },
            Observation::Timeout | Observation::Unreachable(_) | Observation::TooManyRedirects => {
                Verdict::Failing
            }
            Observation::RedirectRefused(_) => Verdict::Unverifiable,
        }
    }

    pub fn status_code(&self) -> Option<u16> {
        match self {
            Observation::Answered { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A short human reason, kept with the state.
    pub fn reason(&self) -> String {
        let reason = match self {
            Observation::Answered { bot_wall: true, .. } => "bot challenge".to_string(),
            Observation::Answered { status, .. } => format!("HTTP {status}"),
            Observation::Timeout => "timeout".to_string(),
            Observation::Unreachable(why) => format!("unreachable: {why}"),
            Observation::TooManyRedirects => "too many redirects or a redirect loop".to_string(),
            Observation::RedirectRefused(why) => format!("redirect not followed: {why}"),
        };
        truncate(reason, MAX_REASON_LEN)
    }
}

/// A runtime's failed fetch in words a link's owner reads on the admin page. The raw
/// message (workerd's "internal error; reference = …", a DNS code) helps no one there:
/// it goes to the log.
pub fn unreachable_in_words(raw: &str) -> &'static str {
    let raw = raw.to_ascii_lowercase();
    if raw.contains("dns") || raw.contains("resolve") || raw.contains("name not") {
        "its host name could not be found"
    } else if raw.contains("tls") || raw.contains("ssl") || raw.contains("certificate") {
        "its secure connection (TLS) failed"
    } else if raw.contains("refused") {
        "it refused the connection"
    } else {
        "the connection to it failed"
    }
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// A link's health as stored with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub state: HealthState,
    pub checked_at: Option<Timestamp>,
    pub status_code: Option<u16>,
    pub reason: Option<String>,
    /// Since when `state` holds (the first check that saw it).
    pub since: Option<Timestamp>,
    /// Failed checks in a row.
    pub failures: u32,
}

impl Default for Health {
    fn default() -> Health {
        Health {
            state: HealthState::Unknown,
            checked_at: None,
            status_code: None,
            reason: None,
            since: None,
            failures: 0,
        }
    }
}

/// A change worth telling the operator about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The link turned dead.
    Died,
    /// The link was dead and is not any more.
    Recovered,
}

impl Transition {
    /// The webhook event name.
    pub fn event(self) -> &'static str {
        match self {
            Transition::Died => "link.dead",
            Transition::Recovered => "link.recovered",
        }
    }
}

impl Health {
    /// The health after a check that saw `seen` at `now`.
    pub fn after(&self, seen: &Observation, now: Timestamp) -> Health {
        let failures = match seen.verdict() {
            Verdict::Failing | Verdict::Gone => self.failures.saturating_add(1),
            Verdict::Healthy | Verdict::Unverifiable => 0,
        };
        let state = match seen.verdict() {
            Verdict::Healthy => HealthState::Healthy,
            Verdict::Unverifiable => HealthState::Unverifiable,
            Verdict::Gone => HealthState::Dead,
            // A dead link stays dead while it keeps failing in another way.
            Verdict::Failing if self.state == HealthState::Dead => HealthState::Dead,
            Verdict::Failing if failures >= DEAD_AFTER_FAILURES => HealthState::Dead,
            Verdict::Failing => HealthState::Unhealthy,
        };
        Health {
            state,
            checked_at: Some(now),
            status_code: seen.status_code(),
            reason: Some(seen.reason()),
            since: if state == self.state {
                self.since.or(Some(now))
            } else {
                Some(now)
            },
            failures,
        }
    }

    /// What changed between `self` and `next` that the operator hears about.
    pub fn transition_to(&self, next: &Health) -> Option<Transition> {
        match (
            self.state == HealthState::Dead,
            next.state == HealthState::Dead,
        ) {
            (false, true) => Some(Transition::Died),
            (true, false) => Some(Transition::Recovered),
            _ => None,
        }
    }

    /// When the scheduled checks should look at this link again: failing links sooner,
    /// healthy ones seldom, never-checked ones now.
    pub fn next_check(&self, now: Timestamp) -> Timestamp {
        let wait = match self.state {
            HealthState::Unknown => 0,
            HealthState::Healthy => HEALTHY_INTERVAL_MS,
            HealthState::Dead => DEAD_INTERVAL_MS,
            HealthState::Unverifiable => UNVERIFIABLE_INTERVAL_MS,
            HealthState::Unhealthy => {
                let doublings = self.failures.saturating_sub(1).min(10);
                (FAILING_FIRST_INTERVAL_MS << doublings).min(FAILING_MAX_INTERVAL_MS)
            }
        };
        Timestamp::from_millis(now.millis().saturating_add(wait))
    }

    /// The part of a dead link's health its redirect needs, or `None` for every other
    /// state (their redirect does nothing extra).
    pub fn dead_target(&self, mode: Option<DeadLinkMode>) -> Option<DeadTarget> {
        (self.state == HealthState::Dead).then(|| DeadTarget {
            since: self
                .since
                .or(self.checked_at)
                .unwrap_or(Timestamp::from_millis(0)),
            mode,
        })
    }
}

/// What the cached redirect rule of a dead link carries: since when it is dead, and
/// the link's own mode (`None`: the instance's `DEAD_LINK_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadTarget {
    pub since: Timestamp,
    pub mode: Option<DeadLinkMode>,
}

impl DeadTarget {
    pub fn mode_or(&self, default: DeadLinkMode) -> DeadLinkMode {
        self.mode.unwrap_or(default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp::from_millis(1_795_290_489_000);

    fn at(minutes: i64) -> Timestamp {
        Timestamp::from_millis(T0.millis() + minutes * MINUTE_MS)
    }

    fn answered(status: u16) -> Observation {
        Observation::Answered {
            status,
            bot_wall: false,
        }
    }

    fn after_all(start: Health, seen: &[Observation]) -> Health {
        seen.iter()
            .enumerate()
            .fold(start, |h, (i, o)| h.after(o, at(i as i64)))
    }

    #[test]
    fn each_answer_and_failure_is_classified() {
        let cases = [
            (answered(200), Verdict::Healthy),
            (answered(204), Verdict::Healthy),
            (answered(206), Verdict::Healthy),
            (answered(304), Verdict::Healthy),
            (answered(404), Verdict::Gone),
            (answered(410), Verdict::Gone),
            (answered(401), Verdict::Unverifiable),
            (answered(403), Verdict::Unverifiable),
            (answered(429), Verdict::Unverifiable),
            (answered(400), Verdict::Unverifiable),
            (answered(500), Verdict::Failing),
            (answered(503), Verdict::Failing),
            (answered(599), Verdict::Failing),
            (
                Observation::Answered {
                    status: 503,
                    bot_wall: true,
                },
                Verdict::Unverifiable,
            ),
            (Observation::Timeout, Verdict::Failing),
            (Observation::Unreachable("dns".into()), Verdict::Failing),
            (Observation::TooManyRedirects, Verdict::Failing),
            (
                Observation::RedirectRefused("private address".into()),
                Verdict::Unverifiable,
            ),
        ];
        for (seen, want) in cases {
            assert_eq!(seen.verdict(), want, "{seen:?}");
        }
    }

    #[test]
    fn a_404_or_410_is_dead_at_once() {
        for status in [404, 410] {
            let h = Health::default().after(&answered(status), T0);
            assert_eq!(h.state, HealthState::Dead);
            assert_eq!(h.status_code, Some(status));
            assert_eq!(h.since, Some(T0));
            assert_eq!(h.reason.as_deref(), Some(format!("HTTP {status}").as_str()));
        }
    }

    #[test]
    fn failures_make_a_link_unhealthy_then_dead_after_three_in_a_row() {
        let h = after_all(Health::default(), &[answered(500)]);
        assert_eq!((h.state, h.failures), (HealthState::Unhealthy, 1));
        let h = after_all(Health::default(), &[answered(500), Observation::Timeout]);
        assert_eq!((h.state, h.failures), (HealthState::Unhealthy, 2));
        assert_eq!(h.since, Some(at(0)), "unhealthy since the first failure");
        let h = after_all(
            Health::default(),
            &[answered(500), Observation::Timeout, answered(502)],
        );
        assert_eq!((h.state, h.failures), (HealthState::Dead, 3));
        assert_eq!(h.since, Some(at(2)), "dead since the third failure");
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let h = after_all(
            Health::default(),
            &[answered(500), answered(500), answered(200), answered(500)],
        );
        assert_eq!((h.state, h.failures), (HealthState::Unhealthy, 1));
    }

    #[test]
    fn a_dead_link_stays_dead_while_it_fails_and_recovers_on_success() {
        let dead = Health::default().after(&answered(404), at(0));
        let still = dead.after(&answered(500), at(1));
        assert_eq!(still.state, HealthState::Dead);
        assert_eq!(still.since, Some(at(0)), "dead since the first 404");
        assert_eq!(dead.transition_to(&still), None);
        let back = still.after(&answered(200), at(2));
        assert_eq!((back.state, back.failures), (HealthState::Healthy, 0));
        assert_eq!(back.since, Some(at(2)));
        assert_eq!(still.transition_to(&back), Some(Transition::Recovered));
    }

    #[test]
    fn unverifiable_targets_are_never_called_dead() {
        let h = after_all(
            Health::default(),
            &[answered(403), answered(429), answered(401), answered(403)],
        );
        assert_eq!((h.state, h.failures), (HealthState::Unverifiable, 0));
        assert_eq!(h.since, Some(at(0)));
    }

    #[test]
    fn transitions_are_reported_only_into_and_out_of_dead() {
        let healthy = Health::default().after(&answered(200), T0);
        let dead = healthy.after(&answered(410), T0);
        assert_eq!(
            Health::default().transition_to(&healthy),
            None,
            "unknown to healthy"
        );
        assert_eq!(healthy.transition_to(&dead), Some(Transition::Died));
        assert_eq!(dead.transition_to(&dead), None);
        let unhealthy = healthy.after(&answered(500), T0);
        assert_eq!(healthy.transition_to(&unhealthy), None);
        let walled = dead.after(&answered(403), T0);
        assert_eq!(dead.transition_to(&walled), Some(Transition::Recovered));
        assert_eq!(Transition::Died.event(), "link.dead");
        assert_eq!(Transition::Recovered.event(), "link.recovered");
    }

    #[test]
    fn failing_links_are_checked_sooner_and_healthy_ones_seldom() {
        let wait = |h: &Health| h.next_check(T0).millis() - T0.millis();
        assert_eq!(wait(&Health::default()), 0);
        let once = Health::default().after(&answered(500), T0);
        let twice = once.after(&answered(500), T0);
        assert_eq!(wait(&once), 10 * MINUTE_MS);
        assert_eq!(wait(&twice), 20 * MINUTE_MS);
        let healthy = Health::default().after(&answered(200), T0);
        assert_eq!(wait(&healthy), 24 * HOUR_MS);
        let walled = Health::default().after(&answered(403), T0);
        assert!(wait(&walled) > wait(&healthy));
        let dead = Health::default().after(&answered(404), T0);
        assert!(wait(&dead) > wait(&twice));
        let many = Health {
            state: HealthState::Unhealthy,
            failures: 40,
            ..Health::default()
        };
        assert_eq!(wait(&many), FAILING_MAX_INTERVAL_MS);
    }

    #[test]
    fn only_a_dead_link_carries_a_dead_target_in_its_rule() {
        let healthy = Health::default().after(&answered(200), T0);
        assert_eq!(healthy.dead_target(Some(DeadLinkMode::Gone)), None);
        let dead = healthy.after(&answered(404), at(5));
        let target = dead.dead_target(None).unwrap();
        assert_eq!(target.since, at(5));
        assert_eq!(
            target.mode_or(DeadLinkMode::Interstitial),
            DeadLinkMode::Interstitial
        );
        let own = dead.dead_target(Some(DeadLinkMode::Gone)).unwrap();
        assert_eq!(own.mode_or(DeadLinkMode::Redirect), DeadLinkMode::Gone);
    }

    #[test]
    fn states_and_modes_round_trip_through_their_names() {
        for s in [
            HealthState::Unknown,
            HealthState::Healthy,
            HealthState::Unhealthy,
            HealthState::Dead,
            HealthState::Unverifiable,
        ] {
            assert_eq!(HealthState::parse(s.as_str()), Some(s));
        }
        for m in [
            DeadLinkMode::Redirect,
            DeadLinkMode::Interstitial,
            DeadLinkMode::Gone,
        ] {
            assert_eq!(DeadLinkMode::parse(m.as_str()), Some(m));
        }
        for junk in ["", "Dead", "DEAD", "ok", "redirect "] {
            assert_eq!(HealthState::parse(junk), None, "{junk:?}");
        }
        assert_eq!(DeadLinkMode::parse("Gone"), None);
    }

    #[test]
    fn a_failed_connection_is_told_in_words_without_the_runtime_s_reference() {
        for (raw, words) in [
            (
                "Error: internal error; reference = 0123abcd",
                "the connection to it failed",
            ),
            (
                "TypeError: Network connection lost.",
                "the connection to it failed",
            ),
            ("DNS lookup failed", "its host name could not be found"),
            (
                "Error: TLS peer's certificate is not trusted",
                "its secure connection (TLS) failed",
            ),
            ("connect ECONNREFUSED", "it refused the connection"),
        ] {
            assert_eq!(unreachable_in_words(raw), words, "{raw}");
            let reason = Observation::Unreachable(words.into()).reason();
            assert!(
                !reason.contains("reference") && !reason.contains("Error"),
                "{reason}"
            );
        }
    }

    #[test]
    fn long_reasons_are_cut_on_a_character_boundary() {
        let seen = Observation::Unreachable("é".repeat(300));
        let reason = seen.reason();
        assert!(reason.len() <= MAX_REASON_LEN);
        assert!(reason.starts_with("unreachable: é"));
    }
}
