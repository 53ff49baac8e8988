//! A link brought in from another shortener: one item of an operator import, parsed
//! with the rules of creation (`link_request`), plus what only an import carries: the
//! link's own creation date, its historical click count and its active flag.

use serde_json::Value;

use super::controls::{parse_tags, parse_title, MAX_TITLE_CHARS};
use super::key::Key;
use super::link::LinkSettings;
use super::link_request::{
    bool_field, instant, max_clicks, nullable, object_value, redirect_status, set, target,
    target_field, LinkRequestError, TargetPolicy, MAX_CLICKS_LIMIT,
};
use super::target_url::TargetUrl;
use super::timestamp::Timestamp;

/// Items accepted in one import call: all of them go to D1 in one batch.
pub const MAX_IMPORT_ITEMS: usize = 1000;

/// Every field an imported item may have (`url` is `target_url`'s alias); the CLI maps
/// a CSV's columns to these.
pub const IMPORT_FIELDS: &[&str] = &[
    "key",
    "target_url",
    "url",
    "created_at",
    "clicks",
    "is_active",
    "expires_at",
    "max_clicks",
    "redirect_status",
    "forward_query",
    "title",
    "tags",
];

/// What an existing key gets from an import that names it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConflict {
    /// Left as it is and reported as existing: an import never overwrites by default,
    /// so running it twice (or resuming it) changes nothing.
    Skip,
    /// Target, settings, creation date and imported clicks replaced by the import's.
    Update,
}

impl OnConflict {
    /// Both modes, the default first.
    pub const ALL: [OnConflict; 2] = [OnConflict::Skip, OnConflict::Update];

    /// The name `?on_conflict=` takes.
    pub const fn as_str(self) -> &'static str {
        match self {
            OnConflict::Skip => "skip",
            OnConflict::Update => "update",
        }
    }

    /// `skip` (the default) or `update`.
    pub fn parse(raw: Option<&str>) -> Option<OnConflict> {
        match raw {
            None | Some("") => Some(OnConflict::Skip),
            Some(name) => OnConflict::ALL.into_iter().find(|c| c.as_str() == name),
        }
    }
}

/// One imported link, valid by the creation rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedLink {
    pub key: Key,
    pub target: TargetUrl,
    pub settings: LinkSettings,
    pub is_active: bool,
    /// When the link was made at its source; `None`: now.
    pub created_at: Option<Timestamp>,
    /// Clicks counted at the source: they land in the counter, marked as imported,
    /// and never as visits (no day, referrer or country is invented for them).
    pub clicks: i64,
    /// Stored in the link's controls, with the same rules as at creation.
    pub title: Option<String>,
    pub tags: Vec<String>,
}

impl ImportedLink {
    /// Parses one item of an import. The target, key and settings obey the rules of
    /// creation; two differ on purpose: `expires_at` may lie in the past (a link that
    /// had already expired at its source comes over expired, not refused), and
    /// `created_at` may not lie in the future.
    pub fn from_value(
        value: Value,
        policy: &TargetPolicy,
        now: Timestamp,
    ) -> Result<ImportedLink, LinkRequestError> {
        let fields = object_value(value, IMPORT_FIELDS)?;
        let key = match fields.get("key") {
            Some(Value::String(raw)) => Key::parse(raw).map_err(|e| LinkRequestError::Invalid {
                field: "key",
                why: format!("is not an acceptable key: {e}"),
            })?,
            None | Some(Value::Null) => {
                return Err(LinkRequestError::Invalid {
                    field: "key",
                    why: "is required: an import keeps each link's key".into(),
                })
            }
            Some(_) => {
                return Err(LinkRequestError::WrongType {
                    field: "key",
                    expected: "a string",
                })
            }
        };
        let raw_target = target_field(&fields)?.ok_or(LinkRequestError::MissingTarget)?;
        let created_at = set(nullable(&fields, "created_at", |v| {
            instant(v, "created_at")
        })?);
        if created_at.is_some_and(|at| at > now) {
            return Err(LinkRequestError::Invalid {
                field: "created_at",
                why: "must not be in the future".into(),
            });
        }
        let clicks = set(nullable(&fields, "clicks", clicks)?).unwrap_or(0);
        let settings = LinkSettings {
            expires_at: set(nullable(&fields, "expires_at", |v| {
                instant(v, "expires_at")
            })?),
            max_clicks: set(nullable(&fields, "max_clicks", max_clicks)?),
            redirect_status: set(nullable(&fields, "redirect_status", redirect_status)?),
            forward_query: bool_field(&fields, "forward_query")?.unwrap_or(true),
            dead_link_mode: None,
        };
        Ok(ImportedLink {
            key,
            target: target(raw_target, policy)?,
            settings,
            is_active: bool_field(&fields, "is_active")?.unwrap_or(true),
            created_at,
            clicks,
            title: set(nullable(&fields, "title", clipped_title)?),
            tags: set(nullable(&fields, "tags", parse_tags)?).unwrap_or_default(),
        })
    }
}

fn clicks(v: &Value) -> Result<i64, LinkRequestError> {
    match v.as_i64() {
        Some(n) if (0..=MAX_CLICKS_LIMIT).contains(&n) => Ok(n),
        _ => Err(LinkRequestError::Invalid {
            field: "clicks",
            why: format!("must be an integer from 0 to {MAX_CLICKS_LIMIT}"),
        }),
    }
}

/// A source's title, on one line and cut to the longest title kept: other shorteners
/// store page titles of any length, and Shlink titles or spreadsheet cells can hold
/// line breaks; neither is a reason to leave a link behind.
fn clipped_title(v: &Value) -> Result<String, LinkRequestError> {
    match v.as_str() {
        Some(raw) => parse_title(&Value::from(
            one_line(raw)
                .chars()
                .take(MAX_TITLE_CHARS)
                .collect::<String>(),
        )),
        None => parse_title(v),
    }
}

/// `raw` with every run of whitespace and control characters (line breaks, tabs)
/// turned into one space, trimmed: a title a link can hold.
fn one_line(raw: &str) -> String {
    raw.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: Timestamp = Timestamp::from_millis(1_795_290_489_000);
    const POLICY: TargetPolicy = TargetPolicy {
        own_hosts: &["sho.rt"],
        blocked_hosts: &[],
        to_ascii: crate::link_request::ascii_only,
    };

    fn import(value: Value) -> Result<ImportedLink, LinkRequestError> {
        ImportedLink::from_value(value, &POLICY, NOW)
    }

    #[test]
    fn a_full_item_keeps_its_key_date_clicks_and_settings() {
        let link = import(json!({
            "key": "Docs-2019", "target_url": "https://example.com/docs",
            "created_at": "2019-05-01T10:00:00.250Z", "clicks": 1234,
            "is_active": false, "expires_at": "2020-01-01T00:00:00Z", "max_clicks": 5000,
            "redirect_status": 301, "forward_query": false,
            "title": "Docs", "tags": [" a ", "b"]
        }))
        .unwrap();
        assert_eq!(link.key.as_str(), "docs-2019");
        assert_eq!(
            link.created_at.map(Timestamp::to_rfc3339).as_deref(),
            Some("2019-05-01T10:00:00Z")
        );
        assert_eq!(link.clicks, 1234);
        assert!(!link.is_active);
        assert_eq!(link.settings.max_clicks, Some(5000));
        assert_eq!(link.settings.redirect_status.map(|s| s.code()), Some(301));
        assert!(!link.settings.forward_query);
        assert_eq!(link.title.as_deref(), Some("Docs"));
        assert_eq!(link.tags, vec!["a", "b"]);
    }

    #[test]
    fn a_title_with_line_breaks_and_runs_of_spaces_is_kept_on_one_line() {
        let link = import(json!({"key": "abc", "target_url": "https://example.com/",
                                 "title": "  Spring\r\nsale \t 2025\u{7}! "}))
        .unwrap();
        assert_eq!(link.title.as_deref(), Some("Spring sale 2025 !"));
    }

    #[test]
    fn a_minimal_item_is_an_active_link_with_no_clicks_made_now() {
        let link = import(json!({"key": "abc", "url": "https://example.com/"})).unwrap();
        assert_eq!(link.created_at, None);
        assert_eq!(link.clicks, 0);
        assert!(link.is_active);
        assert_eq!(link.settings, LinkSettings::default());
    }

    #[test]
    fn an_expiry_in_the_past_is_kept_because_the_link_had_expired_at_its_source() {
        let link = import(json!({"key": "old", "target_url": "https://example.com/",
                                 "expires_at": "2001-01-01T00:00:00Z"}))
        .unwrap();
        assert!(link.settings.expires_at.is_some_and(|at| at < NOW));
    }

    #[test]
    fn items_breaking_a_creation_rule_are_refused_with_the_field_named() {
        let cases = [
            (json!({"target_url": "https://example.com/"}), "key"),
            (
                json!({"key": "a b", "target_url": "https://example.com/"}),
                "key",
            ),
            (
                json!({"key": "admin", "target_url": "https://example.com/"}),
                "reserved",
            ),
            (json!({"key": "abc"}), "target_url"),
            (
                json!({"key": "abc", "target_url": "ftp://example.com/"}),
                "http",
            ),
            (
                json!({"key": "abc", "target_url": "https://sho.rt/x"}),
                "shortener itself",
            ),
            (
                json!({"key": "abc", "target_url": "https://example.com/", "clicks": -1}),
                "clicks",
            ),
            (
                json!({"key": "abc", "target_url": "https://example.com/", "clicks": 1.5}),
                "clicks",
            ),
            (
                json!({"key": "abc", "target_url": "https://example.com/", "max_clicks": 0}),
                "max_clicks",
            ),
            (
                json!({"key": "abc", "target_url": "https://example.com/", "redirect_status": 303}),
                "redirect_status",
            ),
            (
                json!({"key": "abc", "target_url": "https://example.com/", "created_at": "2999-01-01T00:00:00Z"}),
                "future",
            ),
            (
                json!({"key": "abc", "target_url": "https://example.com/", "created_at": "yesterday"}),
                "created_at",
            ),
            (
                json!({"key": "abc", "target_url": "https://example.com/", "tags": "a,b"}),
                "tags",
            ),
            (
                json!({"key": "abc", "target_url": "https://example.com/", "tags": (0..11).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
                "tags",
            ),
            (
                json!({"key": "abc", "target_url": "https://example.com/", "title": 7}),
                "title",
            ),
            (
                json!({"key": "abc", "target_url": "https://example.com/", "secret": "x"}),
                "unknown field",
            ),
        ];
        for (value, expected) in cases {
            let e = import(value.clone()).unwrap_err();
            assert!(e.to_string().contains(expected), "{value}: {e}");
        }
    }

    #[test]
    fn on_conflict_is_skip_unless_update_is_asked_for() {
        assert_eq!(OnConflict::parse(None), Some(OnConflict::Skip));
        assert_eq!(OnConflict::parse(Some("skip")), Some(OnConflict::Skip));
        assert_eq!(OnConflict::parse(Some("update")), Some(OnConflict::Update));
        assert_eq!(OnConflict::parse(Some("overwrite")), None);
    }

    #[test]
    fn the_migration_guide_states_the_title_and_tag_limits_of_this_code() {
        use crate::controls::{MAX_TAGS, MAX_TAG_CHARS};
        let guide = include_str!("../../docs/migrate.md").replace("\n  ", " ");
        for said in [
            format!("cuts a title to {MAX_TITLE_CHARS} characters"),
            format!("up to {MAX_TAGS} tags of 1 to {MAX_TAG_CHARS} characters"),
        ] {
            assert!(guide.contains(&said), "docs/migrate.md should say: {said}");
        }
    }
}
