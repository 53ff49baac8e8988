//! The controls' table tests: parsing, routing and the stored form together, as a
//! request and a redirect meet them.

use serde_json::Value;

use super::*;
use crate::request::{LinkRequestError, TargetPolicy};
use crate::timestamp::Timestamp;

const POLICY: TargetPolicy = TargetPolicy {
    own_hosts: &["sho.rt"],
    blocked_hosts: &[],
    to_ascii: crate::link_request::ascii_only,
};
const NOW: Timestamp = Timestamp::from_millis(1_795_290_489_000);

fn change(body: &str) -> Result<ControlsChange, LinkRequestError> {
    let Value::Object(fields) = serde_json::from_str(body).unwrap() else {
        panic!("not an object")
    };
    ControlsChange::from_fields(&fields, &POLICY)
}

fn routing(body: &str) -> Routing {
    change(body).unwrap().into_new().routing
}

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148";
const WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0";

#[test]
fn tags_are_normalized_deduplicated_and_bounded() {
    let tags = parse_tags(&serde_json::json!([
        " Spring Sale ",
        "spring-sale",
        "A.b_c"
    ]))
    .unwrap();
    assert_eq!(tags, vec!["spring-sale", "a.b_c"]);
    assert!(parse_tags(&serde_json::json!(["ok", ""])).is_err());
    assert!(parse_tags(&serde_json::json!(["no/slash"])).is_err());
    assert!(parse_tags(&serde_json::json!(["x".repeat(33)])).is_err());
    let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    assert!(parse_tags(&serde_json::json!(eleven)).is_err());
    assert!(parse_tags(&serde_json::json!("one")).is_err());
}

#[test]
fn a_title_is_trimmed_one_line_and_bounded() {
    assert_eq!(
        parse_title(&serde_json::json!("  Hello ")).unwrap(),
        "Hello"
    );
    assert!(parse_title(&serde_json::json!("a\nb")).is_err());
    assert!(parse_title(&serde_json::json!("x".repeat(201))).is_err());
    assert!(parse_title(&serde_json::json!("   ")).is_err());
}

#[test]
fn the_first_rule_whose_conditions_all_hold_wins_else_the_default() {
    let r = routing(
        r#"{"rules": [
            {"when": {"os": "ios", "country": "DE"}, "target_url": "https://a.example/ios-de"},
            {"when": {"device": "mobile"}, "target_url": "https://a.example/mobile"},
            {"when": {"language": "fr"}, "target_url": "https://a.example/fr"},
            {"when": {"query": {"name": "ref", "value": "tw"}}, "target_url": "https://a.example/tw"}
        ]}"#,
    );
    let pick = |ua: Option<&'static str>,
                cc: Option<&'static str>,
                lang: Option<&'static str>,
                q: &'static str| {
        let v = Visitor {
            user_agent: ua,
            country: cc,
            accept_language: lang,
            query: q,
        };
        let (target, via) = r.choose("https://a.example/default", &v, NOW, None, 0);
        (target.to_string(), via)
    };
    assert_eq!(pick(Some(IPHONE), Some("DE"), None, "").1, Via::Rule(0));
    assert_eq!(pick(Some(IPHONE), Some("US"), None, "").1, Via::Rule(1));
    assert_eq!(
        pick(Some(WINDOWS), None, Some("fr-CA;q=0.8, en"), "").1,
        Via::Rule(2)
    );
    assert_eq!(
        pick(Some(WINDOWS), None, Some("fr;q=0, en"), "").1,
        Via::Default
    );
    assert_eq!(
        pick(Some(WINDOWS), None, None, "a=1&ref=tw").1,
        Via::Rule(3)
    );
    assert_eq!(pick(Some(WINDOWS), None, None, "ref=fb").1, Via::Default);
    assert_eq!(pick(None, None, None, "").0, "https://a.example/default");
}

#[test]
fn date_conditions_bound_a_rule_in_time() {
    let r = routing(
        r#"{"rules": [{"when": {"after": "2026-01-01T00:00:00Z", "before": "2026-02-01T00:00:00Z"}, "target_url": "https://a.example/jan"}]}"#,
    );
    let v = Visitor::default();
    let at = |s: &str| Timestamp::parse_rfc3339(s).unwrap();
    assert_eq!(
        r.choose(
            "https://d.example/",
            &v,
            at("2026-01-15T00:00:00Z"),
            None,
            0
        )
        .1,
        Via::Rule(0)
    );
    assert_eq!(
        r.choose(
            "https://d.example/",
            &v,
            at("2026-02-01T00:00:00Z"),
            None,
            0
        )
        .1,
        Via::Default
    );
    assert_eq!(
        r.choose(
            "https://d.example/",
            &v,
            at("2025-12-31T23:59:59Z"),
            None,
            0
        )
        .1,
        Via::Default
    );
}

#[test]
fn a_split_draws_in_proportion_to_its_weights_and_keeps_a_sticky_choice() {
    let r = routing(
        r#"{"split": {"variants": [{"target_url": "https://a.example/a", "weight": 70}, {"target_url": "https://a.example/b", "weight": 30}]}}"#,
    );
    let split = r.split.as_ref().unwrap();
    assert_eq!(split.sticky_seconds, DEFAULT_STICKY_SECONDS);
    let mut counts = [0u32; 2];
    for roll in 0..10_000u32 {
        counts[split.draw(roll)] += 1;
    }
    assert_eq!(counts, [7_000, 3_000]);
    let v = Visitor::default();
    assert_eq!(
        r.choose("https://d.example/", &v, NOW, Some(1), 0).1,
        Via::Variant(1)
    );
    // A sticky index the split no longer has is redrawn.
    assert_eq!(
        r.choose("https://d.example/", &v, NOW, Some(7), 0).1,
        Via::Variant(0)
    );
}

#[test]
fn bad_controls_are_refused_with_the_field_named() {
    for (body, needle) in [
        (
            r#"{"rules": [{"when": {}, "target_url": "https://a.example/"}]}"#,
            "at least one condition",
        ),
        (
            r#"{"rules": [{"when": {"planet": "mars"}, "target_url": "https://a.example/"}]}"#,
            "unknown",
        ),
        (
            r#"{"rules": [{"when": {"device": "car"}, "target_url": "https://a.example/"}]}"#,
            "device",
        ),
        (
            r#"{"rules": [{"when": {"country": "DEU"}, "target_url": "https://a.example/"}]}"#,
            "two-letter",
        ),
        (
            r#"{"rules": [{"when": {"device": "mobile"}, "target_url": "https://sho.rt/x"}]}"#,
            "target",
        ),
        (
            r#"{"rules": [{"when": {"device": "mobile"}, "target_url": "javascript:alert(1)"}]}"#,
            "target",
        ),
        (
            r#"{"split": {"variants": [{"target_url": "https://a.example/", "weight": 1}]}}"#,
            "2 to 4",
        ),
        (
            r#"{"split": {"variants": [{"target_url": "https://a.example/", "weight": 0}, {"target_url": "https://b.example/", "weight": 1}]}}"#,
            "weight",
        ),
        (r#"{"fallback_url": "ftp://a.example/"}"#, "fallback_url"),
        (r#"{"valid_since": "tomorrow"}"#, "valid_since"),
    ] {
        let e = change(body).unwrap_err();
        assert!(e.to_string().contains(needle), "{body}: {e}");
    }
    let many: Vec<Value> = (0..21)
        .map(|_| serde_json::json!({"when": {"device": "mobile"}, "target_url": "https://a.example/"}))
        .collect();
    let body = serde_json::json!({ "rules": many }).to_string();
    assert!(change(&body)
        .unwrap_err()
        .to_string()
        .contains("at most 20"));
}

#[test]
fn controls_round_trip_through_their_stored_json() {
    let c = change(
        r#"{"title": "T", "tags": ["a"], "note": "n\nm", "valid_since": "2026-01-01T00:00:00Z",
            "fallback_url": "https://f.example/", "crawlable": true,
            "rules": [{"when": {"os": ["ios", "android"], "after": "2026-01-01T00:00:00Z"}, "target_url": "https://a.example/"}],
            "split": {"variants": [{"target_url": "https://a.example/a", "weight": 1}, {"target_url": "https://a.example/b", "weight": 2}], "sticky_seconds": 60}}"#,
    )
    .unwrap()
    .into_new();
    let json = c.to_json();
    assert!(!json.contains('\n'), "the cached rule keeps it on one line");
    assert_eq!(Controls::from_json(&json).unwrap(), c);
    assert_eq!(Controls::default().to_json(), "{}");
    let routing = c.routing.to_json();
    assert!(!routing.contains('\n'));
    assert_eq!(Routing::from_json(&routing).unwrap(), c.routing);
}

#[test]
fn a_patch_changes_only_the_paths_it_names() {
    let paths = change(r#"{"title": "x", "tags": [], "crawlable": false, "split": null}"#)
        .unwrap()
        .json_paths();
    assert_eq!(
        paths,
        vec![
            ("$.title", Some("\"x\"".to_string())),
            ("$.tags", None),
            ("$.crawlable", None),
            ("$.split", None),
        ]
    );
    assert!(change("{}").unwrap().is_empty());
}
