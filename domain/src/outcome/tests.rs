//! The visit outcome's table tests: every standing, client kind, password verdict and
//! domain fallback the redirect handler can meet.

use std::rc::Rc;

use super::*;
use crate::controls::{Conditions, Routing, Split, TargetingRule, Variant};
use crate::link::RuleControls;

const TARGET: &str = "https://example.com/target";
const OWN: &str = "https://example.com/own-fallback";
const NOT_FOUND: &str = "https://example.com/not-found";
const INACTIVE: &str = "https://example.com/inactive";
const COOKIE: &str = "pw_abc=1.f00; Max-Age=86400; Path=/abc";
const NOW: i64 = 1_800_000_000_000;

fn rule(routing: Option<Routing>) -> RedirectRule {
    RedirectRule {
        target: TARGET.into(),
        version: 1,
        status: None,
        forward_query: false,
        expires_at: None,
        metered: false,
        controls: RuleControls {
            stats_key: None,
            routing: routing.map(Rc::new),
        },
        dead: None,
    }
}

fn plain() -> RedirectRule {
    rule(None)
}

fn protected() -> Routing {
    Routing {
        password_hash: Some("pbkdf2$stored".into()),
        ..Routing::default()
    }
}

fn carded(routing: Routing) -> Routing {
    Routing {
        social_card: Some(SocialCard {
            title: Some("Our launch".into()),
            description: None,
            image: None,
        }),
        ..routing
    }
}

fn dead(mut rule: RedirectRule, mode: Option<DeadLinkMode>) -> RedirectRule {
    rule.dead = Some(DeadTarget {
        since: Timestamp::from_millis(NOW - 86_400_000),
        mode,
    });
    rule
}

fn metered(mut rule: RedirectRule) -> RedirectRule {
    rule.metered = true;
    rule
}

fn browser() -> Visitor<'static> {
    Visitor {
        recorded: true,
        ..Visitor::default()
    }
}

fn bot(reason: BotReason) -> Visitor<'static> {
    Visitor {
        bot: Some(reason),
        ..browser()
    }
}

fn with_password(password: Password) -> Visitor<'static> {
    Visitor {
        password,
        ..browser()
    }
}

fn head() -> Visitor<'static> {
    Visitor::default()
}

fn posted(password: Password) -> Visitor<'static> {
    Visitor {
        posted: true,
        password,
        ..browser()
    }
}

const NO_FALLBACKS: Fallbacks = Fallbacks {
    root: None,
    not_found: None,
    inactive: None,
};

fn fallbacks() -> Fallbacks {
    Fallbacks {
        root: None,
        not_found: Some(NOT_FOUND.into()),
        inactive: Some(INACTIVE.into()),
    }
}

fn site(fallbacks: &Fallbacks) -> Site<'_> {
    Site {
        fallbacks,
        dead_link_mode: DeadLinkMode::Redirect,
        default_status: RedirectStatus::Found,
        now: Timestamp::from_millis(NOW),
    }
}

fn count(record: bool, counted_first: bool, admit: Option<Admit>) -> Count {
    Count {
        record,
        counted_first,
        via: None,
        admit,
    }
}

fn to_target(status: RedirectStatus, count: Count) -> Outcome<'static> {
    Outcome::Redirect(Redirect {
        location: Cow::Borrowed(TARGET),
        status,
        password_cookie: None,
        variant: None,
        crawlable: false,
        count,
    })
}

fn plain_redirect() -> Outcome<'static> {
    to_target(RedirectStatus::Found, count(true, false, None))
}

#[test]
fn a_link_that_does_not_redirect_sends_the_visitor_to_its_own_fallback_then_the_domains_else_says_why(
) {
    use LinkState::{Deactivated, Exhausted, Expired, Scheduled};
    let none = NO_FALLBACKS;
    let some = fallbacks();
    let stopped = |state, fallback| Standing::Stopped { state, fallback };
    #[rustfmt::skip]
    let cases: [(&str, Standing<'_>, Visitor<'_>, &Fallbacks, Closed<'_>); 16] = [
        ("an expired link with a fallback goes there", stopped(Expired, Some(OWN)), browser(), &some, Closed::LinkFallback(OWN)),
        ("an exhausted link with a fallback goes there", stopped(Exhausted, Some(OWN)), browser(), &some, Closed::LinkFallback(OWN)),
        ("a link's own fallback applies to the form's POST too", stopped(Expired, Some(OWN)), posted(Password::Absent), &none, Closed::LinkFallback(OWN)),
        ("an expired link without one goes to the domain's inactive fallback", stopped(Expired, None), browser(), &some, Closed::DomainFallback(INACTIVE)),
        ("a deactivated link ignores its own fallback", stopped(Deactivated, Some(OWN)), browser(), &some, Closed::DomainFallback(INACTIVE)),
        ("a link not yet valid ignores its own fallback", stopped(Scheduled, Some(OWN)), browser(), &some, Closed::DomainFallback(INACTIVE)),
        ("a HEAD meets the domain's fallback like a GET", stopped(Deactivated, None), head(), &some, Closed::DomainFallback(INACTIVE)),
        ("a deactivated link on a domain without fallbacks is gone", stopped(Deactivated, Some(OWN)), browser(), &none, Closed::Gone(Deactivated)),
        ("an expired link without any fallback is gone", stopped(Expired, None), browser(), &none, Closed::Gone(Expired)),
        ("an exhausted link without any fallback is gone", stopped(Exhausted, None), bot(BotReason::LinkPreview), &none, Closed::Gone(Exhausted)),
        ("a link not yet valid without fallbacks says so", stopped(Scheduled, None), browser(), &none, Closed::Gone(Scheduled)),
        ("the form's POST never meets the domain's fallback", stopped(Deactivated, None), posted(Password::Absent), &some, Closed::Gone(Deactivated)),
        ("a missing key goes to the domain's not_found fallback", Standing::Missing, browser(), &some, Closed::DomainFallback(NOT_FOUND)),
        ("a missing key on a domain without fallbacks is not found", Standing::Missing, browser(), &none, Closed::Missing),
        ("the form's POST to a missing key is not found", Standing::Missing, posted(Password::Absent), &some, Closed::Missing),
        ("a blocked target is blocked, whatever the domain says", Standing::Blocked, browser(), &some, Closed::Blocked),
    ];
    for (case, standing, visitor, fallbacks, expected) in cases {
        let site = site(fallbacks);
        assert_eq!(
            decide(standing, &visitor, &site),
            Outcome::Closed(expected),
            "{case}"
        );
    }
    assert_eq!(missing(false, &some), Closed::DomainFallback(NOT_FOUND));
    assert_eq!(missing(true, &some), Closed::Missing);
}

#[test]
fn a_blocked_host_stops_a_live_link_and_nothing_else_does() {
    let rule = plain();
    let blocked = vec!["example.com".to_string()];
    let other = vec!["evil.example".to_string()];
    assert_eq!(Standing::live(&rule, &blocked), Standing::Blocked);
    assert_eq!(Standing::live(&rule, &other), Standing::Live(&rule));
    assert_eq!(Standing::live(&rule, &[]), Standing::Live(&rule));
}

#[test]
fn a_plain_link_redirects_every_visitor_with_its_status_and_counts_a_get() {
    let fallbacks = NO_FALLBACKS;
    let site = site(&fallbacks);
    let rule = plain();
    let mut permanent = plain();
    permanent.status = Some(RedirectStatus::PermanentRedirect);
    #[rustfmt::skip]
    let cases: [(&str, &RedirectRule, Visitor<'_>, Outcome<'_>); 6] = [
        ("a browser is redirected and its visit recorded", &rule, browser(), plain_redirect()),
        ("a HEAD is redirected and nothing recorded", &rule, head(), to_target(RedirectStatus::Found, count(false, false, None))),
        ("a link preview of a plain link is redirected", &rule, bot(BotReason::LinkPreview), plain_redirect()),
        ("a crawler is redirected", &rule, bot(BotReason::Crawler), plain_redirect()),
        ("the link's own status wins over the default", &permanent, browser(), to_target(RedirectStatus::PermanentRedirect, count(true, false, None))),
        ("a POST to a link without a password is refused", &rule, posted(Password::Accepted(COOKIE.into())), Outcome::MethodNotAllowed),
    ];
    for (case, rule, visitor, expected) in cases {
        assert_eq!(
            decide(Standing::Live(rule), &visitor, &site),
            expected,
            "{case}"
        );
    }
}

#[test]
fn the_visitors_query_is_forwarded_only_when_the_link_says_so() {
    let fallbacks = NO_FALLBACKS;
    let site = site(&fallbacks);
    let mut forwarding = plain();
    forwarding.forward_query = true;
    let visitor = Visitor {
        targeting: Targeting {
            query: "utm=1",
            ..Targeting::default()
        },
        ..browser()
    };
    let Outcome::Redirect(redirect) = decide(Standing::Live(&forwarding), &visitor, &site) else {
        panic!("a redirect");
    };
    assert_eq!(redirect.location, "https://example.com/target?utm=1");
    let plain = plain();
    let Outcome::Redirect(redirect) = decide(Standing::Live(&plain), &visitor, &site) else {
        panic!("a redirect");
    };
    assert_eq!(redirect.location, TARGET);
}

#[test]
fn a_protected_link_asks_for_its_password_until_it_is_given() {
    let fallbacks = NO_FALLBACKS;
    let site = site(&fallbacks);
    let rule = rule(Some(protected()));
    // A link with controls records which part chose its target: here the default.
    let passed = |password_cookie| {
        Outcome::Redirect(Redirect {
            location: Cow::Borrowed(TARGET),
            status: RedirectStatus::Found,
            password_cookie,
            variant: None,
            crawlable: false,
            count: Count {
                via: Some(Via::Default),
                ..count(true, false, None)
            },
        })
    };
    #[rustfmt::skip]
    let cases: [(&str, Visitor<'_>, Outcome<'_>); 9] = [
        ("no password and no cookie: the gate", with_password(Password::Absent), Outcome::PasswordGate { wrong: false }),
        ("a wrong password: the gate, saying so", with_password(Password::Wrong), Outcome::PasswordGate { wrong: true }),
        ("too many attempts: wait", with_password(Password::Throttled(42)), Outcome::TooManyAttempts(42)),
        ("a valid cookie: the redirect, no new cookie", with_password(Password::Remembered), passed(None)),
        ("the right password: the redirect and its cookie", with_password(Password::Accepted(COOKIE.into())), passed(Some(COOKIE))),
        ("the form's right password: a 302 and the cookie", posted(Password::Accepted(COOKIE.into())), passed(Some(COOKIE))),
        ("the form's wrong password: the gate", posted(Password::Wrong), Outcome::PasswordGate { wrong: true }),
        ("a link preview without a card: the gate", bot(BotReason::LinkPreview), Outcome::PasswordGate { wrong: false }),
        ("a crawler: the gate", bot(BotReason::Crawler), Outcome::PasswordGate { wrong: false }),
    ];
    for (case, visitor, expected) in cases {
        assert_eq!(
            decide(Standing::Live(&rule), &visitor, &site),
            expected,
            "{case}"
        );
    }
}

#[test]
fn after_the_password_form_the_browser_gets_a_302_whatever_the_links_status() {
    let fallbacks = NO_FALLBACKS;
    let site = site(&fallbacks);
    let mut rule = rule(Some(protected()));
    rule.status = Some(RedirectStatus::PermanentRedirect);
    let form = posted(Password::Remembered);
    let header = with_password(Password::Remembered);
    let status = |visitor| match decide(Standing::Live(&rule), visitor, &site) {
        Outcome::Redirect(redirect) => redirect.status,
        other => panic!("a redirect, not {other:?}"),
    };
    assert_eq!(status(&form), RedirectStatus::Found);
    assert_eq!(status(&header), RedirectStatus::PermanentRedirect);
}

#[test]
fn a_link_preview_gets_the_links_card_and_spends_no_click() {
    let fallbacks = NO_FALLBACKS;
    let site = site(&fallbacks);
    let carded = rule(Some(carded(Routing::default())));
    let metered_card = metered(rule(Some(carded_routing())));
    let card = carded
        .routing()
        .and_then(|r| r.social_card.as_ref())
        .unwrap();
    let preview = bot(BotReason::LinkPreview);
    assert_eq!(
        decide(Standing::Live(&carded), &preview, &site),
        Outcome::Card {
            card,
            count: count(true, false, None)
        },
        "a link preview gets the card"
    );
    assert_eq!(
        decide(Standing::Live(&metered_card), &preview, &site),
        Outcome::Card {
            card,
            count: count(true, false, Some(Admit::Check))
        },
        "a click-limited link's card only checks the counters"
    );
    for (case, visitor) in [
        ("a person", browser()),
        ("a mail scanner", bot(BotReason::EmailScanner)),
        ("a crawler", bot(BotReason::Crawler)),
    ] {
        let outcome = decide(Standing::Live(&carded), &visitor, &site);
        assert!(
            matches!(outcome, Outcome::Redirect(_)),
            "{case} is redirected"
        );
    }
}

fn carded_routing() -> Routing {
    carded(Routing::default())
}

#[test]
fn a_protected_links_card_goes_to_a_link_preview_without_a_password() {
    let fallbacks = NO_FALLBACKS;
    let site = site(&fallbacks);
    let rule = rule(Some(carded(protected())));
    let preview = bot(BotReason::LinkPreview);
    assert!(matches!(
        decide(Standing::Live(&rule), &preview, &site),
        Outcome::Card { .. }
    ));
    assert_eq!(
        decide(Standing::Live(&rule), &browser(), &site),
        Outcome::PasswordGate { wrong: false }
    );
}

#[test]
fn a_dead_link_in_interstitial_or_gone_mode_answers_with_its_facts_after_the_password() {
    let fallbacks = NO_FALLBACKS;
    let instance = site(&fallbacks);
    let gone_site = Site {
        dead_link_mode: DeadLinkMode::Gone,
        ..instance
    };
    let own_mode = dead(plain(), Some(DeadLinkMode::Interstitial));
    let instance_mode = dead(plain(), None);
    let own_redirect = dead(plain(), Some(DeadLinkMode::Redirect));
    let mut with_fallback = dead(
        rule(Some(Routing {
            fallback_url: Some(OWN.into()),
            ..Routing::default()
        })),
        Some(DeadLinkMode::Gone),
    );
    with_fallback.status = None;
    let locked = dead(rule(Some(protected())), Some(DeadLinkMode::Interstitial));
    let limited = metered(dead(plain(), Some(DeadLinkMode::Gone)));
    let dead_end = |rule: &RedirectRule, fallback, mode| {
        Outcome::DeadEnd(DeadEnd {
            target: TARGET,
            fallback,
            dead: rule.dead.unwrap(),
            mode,
            admit: rule.metered.then_some(Admit::Check),
        })
    };
    #[rustfmt::skip]
    let cases: [(&str, &RedirectRule, &Site<'_>, Visitor<'_>, Outcome<'_>); 9] = [
        ("the link's own mode wins over the instance's", &own_mode, &gone_site, browser(), dead_end(&own_mode, None, DeadLinkMode::Interstitial)),
        ("without one, the instance's mode applies", &instance_mode, &gone_site, browser(), dead_end(&instance_mode, None, DeadLinkMode::Gone)),
        ("in redirect mode, a dead link redirects", &instance_mode, &instance, browser(), plain_redirect()),
        ("a link may keep redirecting in a gone instance", &own_redirect, &gone_site, browser(), plain_redirect()),
        ("the owner's fallback is offered", &with_fallback, &instance, browser(), dead_end(&with_fallback, Some(OWN), DeadLinkMode::Gone)),
        ("a HEAD gets the same answer", &own_mode, &instance, head(), dead_end(&own_mode, None, DeadLinkMode::Interstitial)),
        ("a protected one asks for the password first", &locked, &instance, browser(), Outcome::PasswordGate { wrong: false }),
        ("then names its target", &locked, &instance, with_password(Password::Remembered), dead_end(&locked, None, DeadLinkMode::Interstitial)),
        ("a click-limited one asks its counters first, spending nothing", &limited, &instance, browser(), dead_end(&limited, None, DeadLinkMode::Gone)),
    ];
    for (case, rule, site, visitor, expected) in cases {
        assert_eq!(
            decide(Standing::Live(rule), &visitor, site),
            expected,
            "{case}"
        );
    }
}

#[test]
fn a_link_preview_at_a_protected_dead_link_with_a_card_meets_the_password_gate() {
    let fallbacks = NO_FALLBACKS;
    let site = site(&fallbacks);
    let preview = bot(BotReason::LinkPreview);
    for mode in [DeadLinkMode::Interstitial, DeadLinkMode::Gone] {
        let rule = dead(rule(Some(carded(protected()))), Some(mode));
        assert_eq!(
            decide(Standing::Live(&rule), &preview, &site),
            Outcome::PasswordGate { wrong: false },
            "{mode:?}"
        );
    }
    let open = dead(
        rule(Some(carded_routing())),
        Some(DeadLinkMode::Interstitial),
    );
    assert!(
        matches!(
            decide(Standing::Live(&open), &preview, &site),
            Outcome::DeadEnd(_)
        ),
        "without a password, the dead-link facts come before the card"
    );
}

#[test]
fn a_view_of_a_click_limited_link_asks_its_counters_first() {
    let limited = metered(plain());
    let plain = plain();
    assert_eq!(view_admission(Standing::Live(&limited)), Some(Admit::Check));
    assert_eq!(view_admission(Standing::Live(&plain)), None);
    assert_eq!(view_admission(Standing::Missing), None);
}

#[test]
fn a_click_limited_link_asks_its_counters_to_spend_a_click_or_only_to_check() {
    let fallbacks = NO_FALLBACKS;
    let site = site(&fallbacks);
    let rule = metered(plain());
    #[rustfmt::skip]
    let cases: [(&str, Visitor<'_>, Count); 5] = [
        ("a person's GET spends a click, counted first", browser(), count(true, true, Some(Admit::Spend))),
        ("a HEAD only checks and records nothing", head(), count(false, true, Some(Admit::Check))),
        ("a link preview only checks", bot(BotReason::LinkPreview), count(true, false, Some(Admit::Check))),
        ("a mail scanner only checks", bot(BotReason::EmailScanner), count(true, false, Some(Admit::Check))),
        ("a crawler spends a click like anyone", bot(BotReason::Crawler), count(true, true, Some(Admit::Spend))),
    ];
    for (case, visitor, expected) in cases {
        let outcome = decide(Standing::Live(&rule), &visitor, &site);
        assert_eq!(outcome.count(), Some(expected), "{case}");
        assert_eq!(outcome.admission(), expected.admit, "{case}");
    }
    let plain = plain();
    assert_eq!(
        decide(Standing::Live(&plain), &browser(), &site).admission(),
        None
    );
}

#[test]
fn targeting_rules_and_splits_choose_the_target_and_remember_a_newly_drawn_variant() {
    let fallbacks = NO_FALLBACKS;
    let site = site(&fallbacks);
    let split = Routing {
        split: Some(Split {
            variants: vec![
                Variant {
                    target_url: "https://example.com/a".into(),
                    weight: 1,
                },
                Variant {
                    target_url: "https://example.com/b".into(),
                    weight: 1,
                },
            ],
            sticky_seconds: 3600,
        }),
        crawlable: true,
        ..Routing::default()
    };
    let ruled = Routing {
        rules: vec![TargetingRule {
            when: Conditions {
                country: vec!["DE".into()],
                ..Conditions::default()
            },
            target_url: "https://example.com/de".into(),
        }],
        ..Routing::default()
    };
    let split_rule = rule(Some(split));
    let ruled_rule = rule(Some(ruled));
    let redirect = |rule, visitor| match decide(Standing::Live(rule), visitor, &site) {
        Outcome::Redirect(redirect) => redirect,
        other => panic!("a redirect, not {other:?}"),
    };
    let (new, returning, person) = (
        Visitor {
            roll: 1,
            ..browser()
        },
        Visitor {
            sticky: Some(0),
            ..browser()
        },
        browser(),
    );
    let in_germany = Visitor {
        targeting: Targeting {
            country: Some("DE"),
            ..Targeting::default()
        },
        ..browser()
    };
    let drawn = redirect(&split_rule, &new);
    let kept = redirect(&split_rule, &returning);
    let german = redirect(&ruled_rule, &in_germany);
    let elsewhere = redirect(&ruled_rule, &person);

    assert_eq!(
        (
            drawn.location.as_ref(),
            drawn.variant,
            drawn.count.via,
            drawn.crawlable
        ),
        (
            "https://example.com/b",
            Some((1, 3600)),
            Some(Via::Variant(1)),
            true
        ),
        "a new visitor draws a variant and is told to keep it"
    );
    assert_eq!(
        (kept.location.as_ref(), kept.variant, kept.count.via),
        ("https://example.com/a", None, Some(Via::Variant(0))),
        "a returning visitor keeps theirs, with no new cookie"
    );
    assert_eq!(
        (german.location.as_ref(), german.count.via),
        ("https://example.com/de", Some(Via::Rule(0))),
        "the first rule that holds chooses"
    );
    assert_eq!(
        (elsewhere.location.as_ref(), elsewhere.count.via),
        (TARGET, Some(Via::Default)),
        "no rule holds: the link's target"
    );
}

#[test]
fn peek_shows_the_target_or_the_own_fallback_but_never_a_protected_links_target() {
    let open = plain();
    let locked = rule(Some(protected()));
    let stopped = |state, fallback| Standing::Stopped { state, fallback };
    #[rustfmt::skip]
    let cases: [(&str, Standing<'_>, Sight<'_>); 7] = [
        ("a live link shows its target", Standing::Live(&open), Sight::Destination(TARGET)),
        ("a protected link shows none", Standing::Live(&locked), Sight::Protected),
        ("an exhausted link shows its own fallback", stopped(LinkState::Exhausted, Some(OWN)), Sight::Destination(OWN)),
        ("a deactivated link shows nothing", stopped(LinkState::Deactivated, Some(OWN)), Sight::Hidden(Closed::Gone(LinkState::Deactivated))),
        ("an expired link without a fallback shows nothing", stopped(LinkState::Expired, None), Sight::Hidden(Closed::Gone(LinkState::Expired))),
        ("a blocked link shows nothing", Standing::Blocked, Sight::Hidden(Closed::Blocked)),
        ("a missing link shows nothing", Standing::Missing, Sight::Hidden(Closed::Missing)),
    ];
    for (case, standing, expected) in cases {
        assert_eq!(sight(standing), expected, "{case}");
    }
}

/// Every rule shape a visit can find: plain, protected, carded, dead, click-limited
/// and routed, alone and combined.
fn every_rule() -> Vec<RedirectRule> {
    let mut rules = Vec::new();
    for protected_link in [false, true] {
        for card in [false, true] {
            for mode in [
                None,
                Some(DeadLinkMode::Interstitial),
                Some(DeadLinkMode::Gone),
                Some(DeadLinkMode::Redirect),
            ] {
                for limited in [false, true] {
                    for fallback in [false, true] {
                        let mut routing = if protected_link {
                            protected()
                        } else {
                            Routing::default()
                        };
                        if card {
                            routing = carded(routing);
                        }
                        if fallback {
                            routing.fallback_url = Some(OWN.into());
                        }
                        let mut rule = rule((!routing.is_plain()).then_some(routing));
                        rule.metered = limited;
                        if let Some(mode) = mode {
                            rule = dead(rule, Some(mode));
                        }
                        rules.push(rule);
                    }
                }
            }
        }
    }
    rules
}

/// Every kind of client a visit can come from, with every password verdict.
fn every_visitor() -> Vec<Visitor<'static>> {
    let passwords = [
        Password::Absent,
        Password::Remembered,
        Password::Accepted(COOKIE.into()),
        Password::Wrong,
        Password::Throttled(7),
    ];
    let bots = [
        None,
        Some(BotReason::LinkPreview),
        Some(BotReason::EmailScanner),
        Some(BotReason::UptimeMonitor),
        Some(BotReason::CommandLine),
        Some(BotReason::Crawler),
    ];
    let mut visitors = Vec::new();
    for (posted, recorded) in [(false, true), (false, false), (true, true)] {
        for bot in bots {
            for password in &passwords {
                visitors.push(Visitor {
                    posted,
                    recorded,
                    bot,
                    password: password.clone(),
                    ..Visitor::default()
                });
            }
        }
    }
    visitors
}

#[test]
fn every_combination_the_handler_can_meet_gets_one_consistent_answer() {
    let rules = every_rule();
    let some = fallbacks();
    let sites = [site(&NO_FALLBACKS), site(&some)];
    let mut combinations = 0;
    for rule in &rules {
        let standings = [
            Standing::Live(rule),
            Standing::Blocked,
            Standing::Stopped {
                state: LinkState::Exhausted,
                fallback: rule.fallback(),
            },
            Standing::Stopped {
                state: LinkState::Deactivated,
                fallback: rule.fallback(),
            },
            Standing::Missing,
        ];
        for standing in standings {
            for visitor in &every_visitor() {
                for site in &sites {
                    combinations += 1;
                    let outcome = decide(standing, visitor, site);
                    let case = format!("{standing:?} {visitor:?} -> {outcome:?}");
                    let live = matches!(standing, Standing::Live(_));
                    // Only a live link answers from its rule; the others are closed.
                    assert_eq!(live, !matches!(outcome, Outcome::Closed(_)), "{case}");
                    // Only a forwarded visit (or its card) is counted.
                    assert_eq!(
                        outcome.count().is_some(),
                        matches!(outcome, Outcome::Redirect(_) | Outcome::Card { .. }),
                        "{case}"
                    );
                    if let Some(count) = outcome.count() {
                        assert_eq!(count.record, visitor.recorded, "{case}");
                        assert_eq!(count.admit.is_some(), rule.metered, "{case}");
                        if count.admit == Some(Admit::Spend) {
                            assert!(visitor.recorded && !visitor.prefetch(), "{case}");
                        }
                    }
                    // The form's POST never meets a domain's fallback, and gets a 302.
                    if visitor.posted {
                        assert!(
                            !matches!(outcome, Outcome::Closed(Closed::DomainFallback(_))),
                            "{case}"
                        );
                        if let Outcome::Redirect(redirect) = &outcome {
                            assert_eq!(redirect.status, RedirectStatus::Found, "{case}");
                        }
                        if live && !rule.is_protected() {
                            assert_eq!(outcome, Outcome::MethodNotAllowed, "{case}");
                        }
                    }
                    // A redirect of a protected link follows a password that passed.
                    if let Outcome::Redirect(redirect) = &outcome {
                        if rule.is_protected() {
                            assert!(
                                matches!(
                                    visitor.password,
                                    Password::Remembered | Password::Accepted(_)
                                ),
                                "{case}"
                            );
                        }
                        assert_eq!(
                            redirect.password_cookie.is_some(),
                            rule.is_protected()
                                && matches!(visitor.password, Password::Accepted(_)),
                            "{case}"
                        );
                    }
                    // No answer names the target unless every gate passed: the link
                    // is live here, its password (if any) was given, and a
                    // click-limited link's counters are asked before it goes out.
                    if matches!(outcome, Outcome::Redirect(_) | Outcome::DeadEnd(_)) {
                        assert!(live, "{case}");
                        if rule.is_protected() {
                            assert!(
                                matches!(
                                    visitor.password,
                                    Password::Remembered | Password::Accepted(_)
                                ),
                                "{case}"
                            );
                        }
                        assert_eq!(outcome.admission().is_some(), rule.metered, "{case}");
                    }
                    // A card goes to link previews only, and never names the target.
                    if let Outcome::Card { .. } = outcome {
                        assert_eq!(visitor.bot, Some(BotReason::LinkPreview), "{case}");
                    }
                    assert_eq!(
                        outcome.answers_live(),
                        matches!(
                            outcome,
                            Outcome::Redirect(_) | Outcome::Card { .. } | Outcome::DeadEnd(_)
                        ),
                        "{case}"
                    );
                }
            }
        }
    }
    assert_eq!(
        combinations,
        rules.len() * 5 * every_visitor().len() * sites.len()
    );
}
