//! The settings forms, rendered and read back: table tests over one full link.

use serde_json::Value;

use super::form::{form_patch, in_form_words};
use super::render::{health_label, settings, Notice};
use crate::domain::controls::{Controls, Routing, SocialCard, Split, Variant};
use crate::domain::link::Link;
use crate::domain::link::{LinkSettings, RedirectStatus};
use crate::domain::link_request::PATCH_FIELDS;
use crate::domain::timestamp::Timestamp;

fn link(controls: Controls, settings: LinkSettings) -> Link {
    Link {
        domain: Default::default(),
        key: crate::domain::key::Key::parse("abc").unwrap(),
        target_url: "https://example.com/".into(),
        is_active: true,
        clicks: 0,
        imported_clicks: 0,
        created_at: Timestamp::from_millis(1_795_290_489_000),
        settings,
        version: 1,
        controls,
        stats_key: "abc".into(),
        health: crate::domain::health::Health::default(),
    }
}

fn full() -> Link {
    let rules = Controls::from_json(
        r#"{"rules": [{"when": {"device": "mobile", "country": ["DE", "AT"],
            "query": {"name": "ref", "value": "tw"}, "after": "2030-01-01T00:00:00Z"},
            "target_url": "https://example.com/m?a=1&b=<2>"}]}"#,
    )
    .unwrap();
    link(
        Controls {
            title: Some("Spring <launch>".into()),
            note: Some("for the newsletter".into()),
            tags: vec!["spring".into(), "email".into()],
            routing: Routing {
                valid_since: Some(Timestamp::from_millis(1_800_000_000_000)),
                fallback_url: Some("https://example.com/fallback".into()),
                password_hash: Some("pbkdf2-sha256$100000$c2FsdA$aGFzaA".into()),
                social_card: Some(SocialCard {
                    title: Some("Card".into()),
                    description: None,
                    image: Some("https://example.com/card.png".into()),
                }),
                crawlable: true,
                split: Some(Split {
                    variants: vec![
                        Variant {
                            target_url: "https://example.com/a".into(),
                            weight: 70,
                        },
                        Variant {
                            target_url: "https://example.com/b".into(),
                            weight: 30,
                        },
                    ],
                    sticky_seconds: 3600,
                }),
                ..rules.routing
            },
        },
        LinkSettings {
            expires_at: Some(Timestamp::from_millis(1_900_000_000_000)),
            max_clicks: Some(5),
            redirect_status: Some(RedirectStatus::TemporaryRedirect),
            forward_query: false,
            dead_link_mode: Some(crate::domain::health::DeadLinkMode::Gone),
        },
    )
}

#[test]
fn every_field_the_owner_patch_accepts_has_a_form() {
    let html = settings(&full(), 302, None);
    for field in PATCH_FIELDS {
        let marker = match *field {
            // The target and (de)activation are the Manage card's, on the page itself.
            "target_url" | "url" | "is_active" => continue,
            "password" => "id=\"new_password\"".to_string(),
            "rules" => "id=\"rules-list\"".to_string(),
            "split" => "id=\"variants-list\"".to_string(),
            "social_card" => "data-card=\"title\"".to_string(),
            "utm" => "data-utm=\"campaign\"".to_string(),
            other => format!("data-field=\"{other}\""),
        };
        assert!(html.contains(&marker), "no form for {field}");
    }
}

#[test]
fn the_forms_show_the_current_values_escaped() {
    let html = settings(&full(), 302, None);
    assert!(html.contains("value=\"Spring &lt;launch&gt;\""));
    assert!(html.contains("value=\"spring, email\""));
    assert!(html.contains(">for the newsletter</textarea>"));
    assert!(html.contains("value=\"5\""));
    assert!(
        html.contains("data-utc=\"2027-01-15T08:00:00Z\" value=\"2027-01-15T08:00\""),
        "{html}"
    );
    assert!(html.contains("<option value=\"307\" selected>"));
    assert!(html.contains("<option value=\"gone\" selected>"));
    assert!(html.contains("value=\"https://example.com/fallback\""));
    assert!(html.contains(
        "name=\"forward_query\" type=\"checkbox\" data-field=\"forward_query\" data-kind=\"bool\">"
    ));
    assert!(html.contains("data-kind=\"bool\" checked><label for=\"crawlable\">"));
    // The rule, with its conditions.
    assert!(html.contains("value=\"https://example.com/m?a=1&amp;b=&lt;2&gt;\""));
    assert!(html.contains("value=\"mobile\" checked>"));
    assert!(html.contains("value=\"DE, AT\""));
    assert!(html.contains("value=\"ref\"") && html.contains("value=\"tw\""));
    assert!(html.contains("data-utc=\"2030-01-01T00:00:00Z\""));
    // The split and its stickiness, in whole days for people and seconds kept.
    assert!(html.contains("value=\"70\"") && html.contains("value=\"30\""));
    assert!(html.contains("value=\"1\" data-shown=\"1\" data-seconds=\"3600\""));
    assert!(html.contains("id=\"remove-split\""));
    assert!(html.contains("value=\"Card\"") && html.contains("card.png"));
}

#[test]
fn a_password_is_never_shown_only_whether_there_is_one() {
    let html = settings(&full(), 302, None);
    assert!(!html.contains("pbkdf2") && !html.contains("aGFzaA"));
    assert!(
        html.contains("asks visitors for a password") && html.contains("id=\"remove-password\"")
    );
    let plain = settings(
        &link(Controls::default(), LinkSettings::default()),
        301,
        None,
    );
    assert!(plain.contains("has no password") && !plain.contains("id=\"remove-password\""));
    // A plain link: empty forms, two empty variants to start a split, no rules.
    assert!(plain.contains("The service's default (301)"));
    assert_eq!(plain.matches("<li class=\"variant\">").count(), 3);
    assert_eq!(plain.matches("<li class=\"rule\">").count(), 1);
    assert!(!plain.contains("id=\"remove-split\""));
}

#[test]
fn the_health_card_says_the_state_in_words_and_offers_a_check() {
    let html = settings(
        &link(Controls::default(), LinkSettings::default()),
        302,
        None,
    );
    assert!(html.contains("id=\"health-state\">Not checked yet</span>"));
    assert!(html.contains("<button type=\"button\" id=\"check-now\">Check now</button>"));
    assert_eq!(health_label("unhealthy"), "Failing");
}

fn pairs(raw: &[(&str, &str)]) -> Vec<(String, String)> {
    raw.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn sent(link: &Link, raw: &[(&str, &str)]) -> Value {
    let (_, fields) = form_patch(&pairs(raw), link).unwrap();
    Value::Object(fields)
}

#[test]
fn a_form_posted_without_the_script_sends_only_what_differs_from_the_page() {
    let link = full();
    // The page's own values, sent back untouched: nothing to change. The expiry is
    // not resent, so a link whose expiry has passed can still be saved.
    let limits = [
        ("form", "limits"),
        ("valid_since", "2027-01-15T08:00"),
        ("expires_at", "2030-03-17T17:46"),
        ("max_clicks", "5"),
    ];
    assert_eq!(sent(&link, &limits), serde_json::json!({}));
    // Changed and emptied fields: numbers as numbers, times as UTC, empty as null.
    let changed = [
        ("form", "limits"),
        ("valid_since", ""),
        ("expires_at", "2031-01-01T10:00"),
        ("max_clicks", "7"),
    ];
    assert_eq!(
        sent(&link, &changed),
        serde_json::json!({"valid_since": null, "expires_at": "2031-01-01T10:00:00Z", "max_clicks": 7})
    );
    // A value that is no number goes as text, for the API to refuse in its words.
    let odd = [("form", "limits"), ("max_clicks", "1.5")];
    assert_eq!(sent(&link, &odd)["max_clicks"], "1.5");
}

#[test]
fn unticked_boxes_and_the_defaults_of_the_selects_are_read_as_the_page_meant() {
    let link = full();
    let behaviour = [
        ("form", "behaviour"),
        ("redirect_status", ""),
        ("dead_link_mode", "gone"),
        ("fallback_url", "https://example.com/fallback"),
        ("forward_query", "on"),
    ];
    assert_eq!(
        sent(&link, &behaviour),
        serde_json::json!({"redirect_status": null, "forward_query": true, "crawlable": false})
    );
    let about = [
        ("form", "about"),
        ("title", "Spring <launch>"),
        ("tags", "spring, email, new"),
        ("note", ""),
    ];
    assert_eq!(
        sent(&link, &about),
        serde_json::json!({"tags": ["spring", "email", "new"], "note": null})
    );
    let card = [
        ("form", "card-form"),
        ("card_title", ""),
        ("card_description", ""),
        ("card_image", ""),
    ];
    assert_eq!(sent(&link, &card), serde_json::json!({"social_card": null}));
    let utm = [
        ("form", "utm-form"),
        ("utm_source", "news"),
        ("utm_campaign", " spring "),
    ];
    assert_eq!(
        sent(&link, &utm),
        serde_json::json!({"utm": {"source": "news", "campaign": "spring"}})
    );
    let rename = [("form", "rename"), ("key", "new-key")];
    assert_eq!(sent(&link, &rename), serde_json::json!({"key": "new-key"}));
}

#[test]
fn a_password_is_set_as_typed_or_removed_and_an_unknown_form_is_refused() {
    let link = full();
    let set = [("form", "password-form"), ("password", " two words ")];
    assert_eq!(
        sent(&link, &set),
        serde_json::json!({"password": " two words "})
    );
    let remove = [("form", "password-form"), ("password", ""), ("remove", "1")];
    assert_eq!(sent(&link, &remove), serde_json::json!({"password": null}));
    let empty = [("form", "password-form"), ("password", "")];
    assert_eq!(
        form_patch(&pairs(&empty), &link).unwrap_err(),
        (Some("password-form"), "Enter the new password.".to_string())
    );
    for form in ["rules-form", "split-form", "nonsense"] {
        let (named, _) = form_patch(&pairs(&[("form", form)]), &link).unwrap_err();
        assert_eq!(named, None, "{form}");
    }
}

#[test]
fn api_errors_are_put_in_the_form_s_words() {
    assert_eq!(
        in_form_words("field 'max_clicks' must be an integer from 1 to 9, got 0"),
        "The click limit must be an integer from 1 to 9, got 0"
    );
    assert_eq!(
        in_form_words("field 'social_card.image' is not an accepted target"),
        "The card image URL is not an accepted target"
    );
    assert_eq!(
        in_form_words("custom_key 'x' is already taken"),
        "Custom_key 'x' is already taken"
    );
}

#[test]
fn a_notice_fills_the_form_s_error_or_status_line() {
    let notice = Notice {
        text: "The click limit <must> be".into(),
        error: true,
    };
    let html = settings(&full(), 302, Some(&notice));
    assert!(html.contains(
        "id=\"settings-error\" role=\"alert\" tabindex=\"-1\">The click limit &lt;must&gt; be</p>"
    ));
    let saved = Notice {
        text: "Saved.".into(),
        error: false,
    };
    let html = settings(&full(), 302, Some(&saved));
    assert!(html.contains("id=\"settings-saved\" role=\"status\">Saved.</p>"));
    assert!(html.contains("id=\"settings-error\" role=\"alert\" tabindex=\"-1\" hidden></p>"));
}

#[test]
fn the_settings_are_one_form_in_the_dashboard_s_sections_with_one_save() {
    let html = settings(&full(), 302, None);
    assert_eq!(html.matches("<form ").count(), 1);
    assert!(html.contains("<form id=\"settings\" class=\"control link-form\" method=\"post\" novalidate><input type=\"hidden\" name=\"form\" value=\"settings\">"));
    assert_eq!(
        html.matches("type=\"submit\"").count(),
        2,
        "Save, and Remove password"
    );
    let legends: Vec<&str> = html
        .split("<fieldset class=\"group\">")
        .skip(1)
        .filter_map(|s| s.split("<legend>").nth(1)?.split('<').next())
        .collect();
    // The dashboard's link form has the same sections in the same order
    // (tests/browser-link-view.test.mjs).
    assert_eq!(
        legends,
        [
            "Link",
            "Access",
            "Routing",
            "Appearance",
            "Campaign",
            "Health"
        ]
    );
}

#[test]
fn the_summary_names_every_control_that_is_set() {
    let html = settings(&full(), 302, None);
    let summary = html
        .split("<ul id=\"settings-summary-list\">")
        .nth(1)
        .and_then(|s| s.split("</ul>").next())
        .unwrap();
    for said in [
        "Title: Spring &lt;launch&gt;",
        "Tags: spring, email",
        "A private note",
        "Password protected",
        "Starts <time",
        "Expires <time",
        "Click limit: 5",
        "Redirect status: 307",
        "Search engines may index it",
        "Fallback: https://example.com/fallback",
        "When the target is dead: say it is gone",
        "1 targeting rule",
        "A/B split: 70× https://example.com/a, 30× https://example.com/b",
        "Social card: Card",
    ] {
        assert!(summary.contains(said), "{said} not in {summary}");
    }
    let plain = settings(
        &link(Controls::default(), LinkSettings::default()),
        301,
        None,
    );
    let plain = plain.split("settings-summary-list\">").nth(1).unwrap();
    // A plain link: only the status it redirects with (the service's own).
    assert!(
        plain.starts_with("<li>Redirect status: 301</li></ul>"),
        "{plain}"
    );
}

#[test]
fn the_whole_form_posted_sends_what_differs_in_every_section_and_an_empty_password_keeps_it() {
    let link = full();
    let whole = [
        ("form", "settings"),
        ("title", "Autumn"),
        ("tags", "spring, email"),
        ("note", "for the newsletter"),
        ("key", "abc"),
        ("password", ""),
        ("valid_since", "2027-01-15T08:00"),
        ("expires_at", ""),
        ("max_clicks", "6"),
        ("redirect_status", "307"),
        ("dead_link_mode", "gone"),
        ("fallback_url", "https://example.com/fallback"),
        ("crawlable", "on"),
        ("card_title", "Card"),
        ("card_image", "https://example.com/card.png"),
    ];
    let sent_whole = sent(&link, &whole);
    assert_eq!(sent_whole.get("title"), Some(&serde_json::json!("Autumn")));
    assert_eq!(sent_whole.get("max_clicks"), Some(&serde_json::json!(6)));
    assert_eq!(sent_whole.get("password"), None);
    assert_eq!(sent_whole.get("key"), None);
    assert_eq!(sent_whole.get("social_card"), None);
    let mut removed = whole.to_vec();
    removed.push(("remove", "1"));
    assert_eq!(
        sent(&link, &removed).get("password"),
        Some(&serde_json::Value::Null)
    );
}
