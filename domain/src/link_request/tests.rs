//! Creation and `PATCH` bodies: the table tests of every field rule.
use super::*;

const NOW: Timestamp = Timestamp::from_millis(1_795_290_489_000);

const POLICY: TargetPolicy = TargetPolicy {
    own_hosts: &["sho.rt"],
    blocked_hosts: &[],
    to_ascii: ascii_only,
};

fn create(body: &str) -> Result<NewLink, LinkRequestError> {
    NewLink::from_json(body.as_bytes(), &POLICY, NOW)
}

fn patch(body: &str) -> Result<LinkPatch, LinkRequestError> {
    LinkPatch::from_json(body.as_bytes(), &POLICY, NOW)
}

#[test]
fn a_link_that_could_never_be_live_is_refused() {
    let body = |since: &str, until: &str| {
        format!(
            r#"{{"target_url": "https://a.example/", "valid_since": "{since}", "expires_at": "{until}"}}"#
        )
    };
    let later = body("2031-01-02T00:00:00Z", "2031-01-01T00:00:00Z");
    let same = body("2031-01-01T00:00:00Z", "2031-01-01T00:00:00Z");
    let fine = body("2031-01-01T00:00:00Z", "2031-01-02T00:00:00Z");
    for refused in [later, same] {
        let e = create(&refused).unwrap_err();
        assert!(!e.is_malformed_body(), "a 400, not a 422");
        assert!(
            e.to_string().contains("must be earlier than expires_at"),
            "{e}"
        );
    }
    assert!(create(&fine).is_ok());
    // The combined state of a PATCH: each side kept, cleared or set.
    let t = |s: &str| Timestamp::parse_rfc3339(s).unwrap();
    let (a, b) = (t("2031-01-01T00:00:00Z"), t("2031-01-02T00:00:00Z"));
    for (since, until, ok) in [
        (
            Change::Set(b).applied_to(Some(a)),
            Change::Keep.applied_to(Some(a)),
            false,
        ),
        (
            Change::Keep.applied_to(Some(a)),
            Change::Set(a).applied_to(Some(b)),
            false,
        ),
        (
            Change::Clear.applied_to(Some(b)),
            Change::Keep.applied_to(Some(a)),
            true,
        ),
        (
            Change::Keep.applied_to(Some(a)),
            Change::Clear.applied_to(Some(a)),
            true,
        ),
        (
            Change::Set(a).applied_to(None),
            Change::Keep.applied_to(Some(b)),
            true,
        ),
    ] {
        assert_eq!(live_window(since, until).is_ok(), ok, "{since:?} {until:?}");
    }
}

#[test]
fn check_and_dead_link_mode_are_parsed_at_creation_and_the_mode_in_a_patch() {
    let plain = create(r#"{"target_url": "https://a.example/"}"#).unwrap();
    assert_eq!(plain.check, CreationCheck::None);
    assert_eq!(plain.settings.dead_link_mode, None);
    let asked =
        create(r#"{"target_url": "https://a.example/", "check": true, "dead_link_mode": "gone"}"#)
            .unwrap();
    assert_eq!(asked.check, CreationCheck::Report);
    assert_eq!(asked.settings.dead_link_mode, Some(DeadLinkMode::Gone));
    let required = create(r#"{"target_url": "https://a.example/", "check": "require"}"#).unwrap();
    assert_eq!(required.check, CreationCheck::Require);
    for bad in [r#""yes""#, "1", "[]"] {
        let e = create(&format!(
            r#"{{"target_url": "https://a.example/", "check": {bad}}}"#
        ))
        .unwrap_err();
        assert!(e.is_malformed_body(), "{bad}: {e}");
    }
    let e =
        create(r#"{"target_url": "https://a.example/", "dead_link_mode": "vanish"}"#).unwrap_err();
    assert!(
        !e.is_malformed_body() && e.to_string().contains("interstitial"),
        "{e}"
    );
    assert_eq!(
        patch(r#"{"dead_link_mode": "interstitial"}"#)
            .unwrap()
            .dead_link_mode,
        Change::Set(DeadLinkMode::Interstitial)
    );
    assert_eq!(
        patch(r#"{"dead_link_mode": null}"#).unwrap().dead_link_mode,
        Change::Clear
    );
    assert!(
        patch(r#"{"check": true}"#).is_err(),
        "check is for creation only"
    );
}

#[test]
fn an_unknown_field_is_refused_with_every_accepted_field_named() {
    let e = create(r#"{"target_url": "https://example.com/", "customKey": "x"}"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown field 'customKey'; accepted fields are target_url (alias url), custom_key, \
         expires_at, max_clicks, redirect_status, forward_query, reuse, title, tags, note, \
         valid_since, fallback_url, crawlable, rules, split, password, social_card, utm, \
         utm_template, dead_link_mode, check, domain"
    );
    let e = patch(r#"{"reuse": true}"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown field 'reuse'; accepted fields are target_url (alias url), is_active, \
         expires_at, max_clicks, redirect_status, forward_query, key, title, tags, note, \
         valid_since, fallback_url, crawlable, rules, split, password, social_card, utm, \
         dead_link_mode"
    );
}

#[test]
fn blocked_hosts_are_refused_at_creation_and_in_a_patch() {
    let blocked = vec!["evil.example".to_string()];
    let policy = TargetPolicy {
        own_hosts: &[],
        blocked_hosts: &blocked,
        to_ascii: ascii_only,
    };
    let body = br#"{"target_url": "https://www.evil.example/x"}"#;
    let e = NewLink::from_json(body, &policy, NOW).unwrap_err();
    assert!(
        !e.is_malformed_body() && e.to_string().contains("blocked"),
        "{e}"
    );
    assert!(LinkPatch::from_json(body, &policy, NOW).is_err());
}

#[test]
fn internationalized_hosts_go_through_the_runtime_mapping_and_every_rule_after() {
    // Stands in for the runtime's URL parser, which the black-box tests exercise.
    fn runtime(raw: &str) -> Option<String> {
        match raw {
            "https://bücher.example/" => Some("https://xn--bcher-kva.example/".into()),
            "https://bücher.sho.rt/" => Some("https://sho.rt/".into()),
            _ => None,
        }
    }
    let policy = TargetPolicy {
        to_ascii: runtime,
        ..POLICY
    };
    let new = |raw: &str| {
        let body = format!(r#"{{"target_url": "{raw}"}}"#);
        NewLink::from_json(body.as_bytes(), &policy, NOW)
    };
    assert_eq!(
        new("https://bücher.example/").unwrap().target.as_str(),
        "https://xn--bcher-kva.example/"
    );
    // What the mapping returns meets the same rules: here, not this service itself.
    assert!(new("https://bücher.sho.rt/")
        .unwrap_err()
        .to_string()
        .contains("this shortener"));
    assert!(new("https://例え.jp/")
        .unwrap_err()
        .to_string()
        .contains("internationalized"));
    assert!(create(r#"{"target_url": "https://bücher.example/"}"#).is_err());
}

#[test]
fn a_target_alone_is_enough_and_gets_the_defaults() {
    let link = create(r#"{"target_url": "https://example.com"}"#).unwrap();
    assert_eq!(link.target.as_str(), "https://example.com/");
    assert_eq!(link.custom_key, None);
    assert_eq!(link.settings.expires_at, None);
    assert_eq!(link.settings.max_clicks, None);
    assert_eq!(link.settings.redirect_status, None);
    assert!(link.settings.forward_query);
    assert!(!link.reuse);
}

#[test]
fn url_is_an_alias_for_target_url() {
    let link = create(r#"{"url": "https://example.com/a"}"#).unwrap();
    assert_eq!(link.target.as_str(), "https://example.com/a");
    let same = r#"{"url": "https://example.com/a", "target_url": "https://example.com/a"}"#;
    assert!(create(same).is_ok());
    let differ = r#"{"url": "https://example.com/a", "target_url": "https://example.com/b"}"#;
    assert_eq!(create(differ), Err(LinkRequestError::ConflictingTargets));
}

#[test]
fn every_setting_is_accepted_at_creation() {
    let link = create(
        r#"{"target_url": "https://example.com", "custom_key": "My-Key",
            "expires_at": "2030-01-01T00:00:00Z", "max_clicks": 10,
            "redirect_status": 308, "forward_query": false}"#,
    )
    .unwrap();
    assert_eq!(link.custom_key.unwrap().as_str(), "my-key");
    assert_eq!(
        link.settings.expires_at.unwrap().to_rfc3339(),
        "2030-01-01T00:00:00Z"
    );
    assert_eq!(link.settings.max_clicks, Some(10));
    assert_eq!(
        link.settings.redirect_status,
        Some(RedirectStatus::PermanentRedirect)
    );
    assert!(!link.settings.forward_query);
    let nulls = create(
        r#"{"target_url": "https://example.com", "custom_key": null, "expires_at": null,
            "max_clicks": null, "redirect_status": null}"#,
    )
    .unwrap();
    assert_eq!(
        (
            nulls.custom_key,
            nulls.settings.expires_at,
            nulls.settings.max_clicks
        ),
        (None, None, None)
    );
}

#[test]
fn malformed_bodies_are_reported_as_such() {
    for body in [
        "",
        "{",
        "target_url=https://example.com",
        "[]",
        "\"https://example.com\"",
        "null",
        "{}",
        r#"{"target_url": 5}"#,
        r#"{"target_url": null}"#,
        r#"{"url": ["https://a.com"]}"#,
        r#"{"target_url": "https://a.com", "custom_key": 7}"#,
        r#"{"target_url": "https://a.com", "customKey": "x"}"#,
        r#"{"target_url": "https://a.com", "is_active": false}"#,
        r#"{"target_url": "https://a.com", "max_clicks": "10"}"#,
        r#"{"target_url": "https://a.com", "max_clicks": 1.5}"#,
        r#"{"target_url": "https://a.com", "redirect_status": "301"}"#,
        r#"{"target_url": "https://a.com", "expires_at": 1893456000}"#,
        r#"{"target_url": "https://a.com", "forward_query": "yes"}"#,
        r#"{"target_url": "https://a.com", "reuse": 1}"#,
    ] {
        let e = create(body).unwrap_err();
        assert!(e.is_malformed_body(), "{body:?} gave {e:?}");
    }
}

#[test]
fn bad_values_are_rule_errors_not_malformed_bodies() {
    for body in [
        r#"{"target_url": "javascript:alert(1)"}"#,
        r#"{"target_url": "https://sho.rt/x"}"#,
        r#"{"target_url": "https://a.com", "custom_key": "admin"}"#,
        r#"{"target_url": "https://a.com", "custom_key": "a b"}"#,
        r#"{"target_url": "https://a.com", "custom_key": "ab"}"#,
        r#"{"target_url": "https://a.com", "max_clicks": 0}"#,
        r#"{"target_url": "https://a.com", "max_clicks": -3}"#,
        r#"{"target_url": "https://a.com", "redirect_status": 303}"#,
        r#"{"target_url": "https://a.com", "expires_at": "tomorrow"}"#,
        r#"{"target_url": "https://a.com", "expires_at": "2020-01-01T00:00:00Z"}"#,
        r#"{"target_url": "https://a.com", "reuse": true, "custom_key": "mine"}"#,
        r#"{"target_url": "https://a.com", "reuse": true, "max_clicks": 3}"#,
    ] {
        let e = create(body).unwrap_err();
        assert!(!e.is_malformed_body(), "{body:?} gave {e:?}");
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn max_clicks_is_accepted_from_1_to_2_pow_53_minus_1() {
    assert_eq!(MAX_CLICKS_LIMIT, 9_007_199_254_740_991);
    assert_eq!(MAX_CLICKS_LIMIT as f64 as i64, MAX_CLICKS_LIMIT);
    for n in ["1", "2", "1000", "9007199254740991"] {
        let body = format!(r#"{{"target_url": "https://a.com", "max_clicks": {n}}}"#);
        assert_eq!(
            create(&body)
                .unwrap()
                .settings
                .max_clicks
                .map(|m| m.to_string()),
            Some(n.to_string())
        );
        let body = format!(r#"{{"max_clicks": {n}}}"#);
        assert!(matches!(patch(&body).unwrap().max_clicks, Change::Set(_)));
    }
}

#[test]
fn max_clicks_outside_the_range_is_a_rule_error_that_names_the_range() {
    for n in [
        "0",
        "-1",
        "9007199254740992",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551615",
        "18446744073709551616",
        "100000000000000000000000",
        "-9223372036854775808",
        "-9223372036854775809",
        "1e16",
        "-1e300",
    ] {
        for e in [
            create(&format!(
                r#"{{"target_url": "https://a.com", "max_clicks": {n}}}"#
            ))
            .unwrap_err(),
            patch(&format!(r#"{{"max_clicks": {n}}}"#)).unwrap_err(),
        ] {
            assert!(!e.is_malformed_body(), "{n} gave {e:?}");
            assert!(
                e.to_string()
                    .contains("must be an integer from 1 to 9007199254740991"),
                "{n} gave {e}"
            );
        }
    }
}

#[test]
fn a_max_clicks_that_is_not_an_integer_is_a_malformed_body_naming_the_range() {
    assert!(MAX_CLICKS_EXPECTED.contains(&MAX_CLICKS_LIMIT.to_string()));
    for v in ["1.5", "10.0", "1e3", "\"10\"", "true", "[1]", "{}"] {
        let e = create(&format!(
            r#"{{"target_url": "https://a.com", "max_clicks": {v}}}"#
        ))
        .unwrap_err();
        assert!(e.is_malformed_body(), "{v} gave {e:?}");
        assert!(e.to_string().contains("9007199254740991"), "{v} gave {e}");
    }
}

#[test]
fn expires_at_outside_the_four_digit_years_is_a_rule_error_that_names_the_range() {
    for raw in [
        "9999-12-31T23:59:60Z",
        "9999-12-31T23:59:59-00:01",
        "10000-01-01T00:00:00Z",
        "2030-01-01",
    ] {
        let body = format!(r#"{{"target_url": "https://a.com", "expires_at": "{raw}"}}"#);
        let e = create(&body).unwrap_err();
        assert!(!e.is_malformed_body(), "{raw} gave {e:?}");
        assert!(
            e.to_string()
                .contains("from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z"),
            "{raw} gave {e}"
        );
    }
    let long = "9".repeat(5000);
    let e = create(&format!(
        r#"{{"target_url": "https://a.com", "expires_at": "{long}"}}"#
    ))
    .unwrap_err();
    assert!(e.to_string().len() < 300, "{e}");
}

#[test]
fn an_accepted_expiry_is_kept_to_the_second_so_its_echo_parses_back_to_it() {
    for (raw, echo) in [
        ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59Z"),
        ("9999-12-31T00:00:59.5-23:59", "9999-12-31T23:59:59Z"),
        ("2030-01-01T00:00:00.250+00:00", "2030-01-01T00:00:00Z"),
        ("2030-06-30T23:59:60Z", "2030-07-01T00:00:00Z"),
    ] {
        let body = format!(r#"{{"target_url": "https://a.com", "expires_at": "{raw}"}}"#);
        let at = create(&body).unwrap().settings.expires_at.unwrap();
        assert_eq!(at.to_rfc3339(), echo, "{raw}");
        assert_eq!(Timestamp::parse_rfc3339(echo), Ok(at), "{raw}");
        let patched = patch(&format!(r#"{{"expires_at": "{raw}"}}"#)).unwrap();
        assert_eq!(patched.expires_at, Change::Set(at), "{raw}");
    }
}

#[test]
fn a_patch_names_only_what_changes() {
    let p = patch(r#"{"is_active": false}"#).unwrap();
    assert_eq!(p.is_active, Some(false));
    assert_eq!(p.target, None);
    assert_eq!(
        (p.expires_at, p.max_clicks, p.redirect_status),
        (Change::Keep, Change::Keep, Change::Keep)
    );
    let p =
        patch(r#"{"url": "https://b.com/x", "max_clicks": null, "redirect_status": 301}"#).unwrap();
    assert_eq!(p.target.unwrap().as_str(), "https://b.com/x");
    assert_eq!(p.max_clicks, Change::Clear);
    assert_eq!(
        p.redirect_status,
        Change::Set(RedirectStatus::MovedPermanently)
    );
}

#[test]
fn a_patch_follows_the_creation_rules() {
    assert_eq!(patch("{}"), Err(LinkRequestError::NothingToChange));
    assert!(patch("[]").unwrap_err().is_malformed_body());
    assert!(patch(r#"{"custom_key": "x"}"#)
        .unwrap_err()
        .is_malformed_body());
    assert!(patch(r#"{"reuse": true}"#).unwrap_err().is_malformed_body());
    assert!(patch(r#"{"is_active": "no"}"#)
        .unwrap_err()
        .is_malformed_body());
    assert!(!patch(r#"{"target_url": "ftp://a.com/"}"#)
        .unwrap_err()
        .is_malformed_body());
    assert!(!patch(r#"{"max_clicks": 0}"#)
        .unwrap_err()
        .is_malformed_body());
    assert!(!patch(r#"{"expires_at": "2001-01-01T00:00:00Z"}"#)
        .unwrap_err()
        .is_malformed_body());
}
