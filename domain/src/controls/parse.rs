//! The control fields of a request body (and of the stored object): the tag and title
//! rules, and [`ControlsChange`], the change a request asks for.

use serde_json::{Map, Value};

use crate::password::{parse_password, PasswordHash};
use crate::request::{Change, LinkRequestError, TargetPolicy};
use crate::timestamp::Timestamp;

use super::card::{social_card, SocialCard};
use super::field::{
    clip, instant, invalid, target, text, MAX_NOTE_CHARS, MAX_TAGS, MAX_TAG_CHARS, MAX_TITLE_CHARS,
};
use super::parse_rules::{rules, split};
use super::routing::{Split, TargetingRule};
use super::stored::Controls;
use super::utm::Utm;

/// Normalizes one tag: trimmed, lower case, inner spaces as `-`; 1 to
/// [`MAX_TAG_CHARS`] of `a-z 0-9 - _ .`.
pub fn normalize_tag(raw: &str) -> Result<String, String> {
    let tag: String = raw
        .trim()
        .to_ascii_lowercase()
        .split_ascii_whitespace()
        .collect::<Vec<_>>()
        .join("-");
    if tag.is_empty() || tag.chars().count() > MAX_TAG_CHARS {
        return Err(format!(
            "tag '{}' must be 1 to {MAX_TAG_CHARS} characters",
            clip(raw)
        ));
    }
    if !tag
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "tag '{}' may hold only letters a-z, digits, '-', '_' and '.'",
            clip(raw)
        ));
    }
    Ok(tag)
}

/// Parses `tags`: a list of at most [`MAX_TAGS`] strings, normalized, duplicates
/// dropped, order kept. Shared by creation, `PATCH`, bulk and the operator import.
pub fn parse_tags(value: &Value) -> Result<Vec<String>, LinkRequestError> {
    let field = "tags";
    let items = value.as_array().ok_or(LinkRequestError::WrongType {
        field,
        expected: "a list of strings",
    })?;
    let mut tags: Vec<String> = Vec::new();
    for item in items {
        let raw = item.as_str().ok_or(LinkRequestError::WrongType {
            field,
            expected: "a list of strings",
        })?;
        let tag = normalize_tag(raw).map_err(|why| LinkRequestError::Invalid { field, why })?;
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(LinkRequestError::Invalid {
            field,
            why: format!("may hold at most {MAX_TAGS} tags, got {}", tags.len()),
        });
    }
    Ok(tags)
}

/// Parses `title` (1 to [`MAX_TITLE_CHARS`] characters, trimmed, one line). Shared by
/// creation, `PATCH`, bulk and the operator import.
pub fn parse_title(value: &Value) -> Result<String, LinkRequestError> {
    text(value, "title", MAX_TITLE_CHARS, false)
}

/// The request fields that set controls, as JSON names.
pub const FIELDS: &[&str] = &[
    "title",
    "tags",
    "note",
    "valid_since",
    "fallback_url",
    "crawlable",
    "rules",
    "split",
    "password",
    "social_card",
    "utm",
];

/// A change to the controls, field by field, as a `PATCH` (or a creation) asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControlsChange {
    pub title: Change<String>,
    pub note: Change<String>,
    pub tags: Change<Vec<String>>,
    pub valid_since: Change<Timestamp>,
    pub fallback_url: Change<String>,
    pub crawlable: Change<bool>,
    pub rules: Change<Vec<TargetingRule>>,
    pub split: Change<Split>,
    /// The password a request sets, in clear: never stored. The handler derives its
    /// hash ([`ControlsChange::password_hash`]) before anything is written.
    pub password: Change<String>,
    /// The stored form of the password: read from storage, or set by the handler.
    pub password_hash: Change<String>,
    pub social_card: Change<SocialCard>,
    pub utm: Change<Utm>,
}

impl ControlsChange {
    /// Reads the control fields of a request body (other fields are not looked at).
    /// Every target obeys the same rules as the link's own target.
    pub fn from_fields(
        fields: &Map<String, Value>,
        policy: &TargetPolicy,
    ) -> Result<ControlsChange, LinkRequestError> {
        ControlsChange::parse(fields, Some(policy))
    }

    /// `policy: None`: stored values, whose targets were checked when they were set.
    pub(super) fn parse(
        fields: &Map<String, Value>,
        policy: Option<&TargetPolicy>,
    ) -> Result<ControlsChange, LinkRequestError> {
        let get = |name: &'static str| -> Change<&Value> {
            match fields.get(name) {
                None => Change::Keep,
                Some(Value::Null) => Change::Clear,
                Some(v) => Change::Set(v),
            }
        };
        Ok(ControlsChange {
            title: get("title").try_map(parse_title)?,
            note: get("note").try_map(|v| text(v, "note", MAX_NOTE_CHARS, true))?,
            tags: get("tags").try_map(parse_tags)?,
            valid_since: get("valid_since").try_map(|v| instant(v, "valid_since"))?,
            fallback_url: get("fallback_url").try_map(|v| target(v, "fallback_url", policy))?,
            crawlable: get("crawlable").try_map(|v| {
                v.as_bool().ok_or(LinkRequestError::WrongType {
                    field: "crawlable",
                    expected: "true or false",
                })
            })?,
            rules: get("rules").try_map(|v| rules(v, policy))?,
            split: get("split").try_map(|v| split(v, policy))?,
            social_card: get("social_card").try_map(|v| social_card(v, policy))?,
            utm: get("utm").try_map(|v| Utm::parse(v, "utm"))?,
            // A request sets a password; storage holds only its hash.
            password: match policy {
                Some(_) => get("password").try_map(parse_password)?,
                None => Change::Keep,
            },
            password_hash: match policy {
                Some(_) => Change::Keep,
                None => get("password_hash").try_map(|v| {
                    v.as_str()
                        .filter(|h| PasswordHash::parse(h).is_some())
                        .map(str::to_string)
                        .ok_or_else(|| invalid("password_hash", "is not a stored password"))
                })?,
            },
        })
    }

    /// True when the change names no control at all.
    pub fn is_empty(&self) -> bool {
        *self == ControlsChange::default()
    }

    /// The controls of a new link.
    pub fn into_new(self) -> Controls {
        let mut controls = Controls::default();
        self.apply(&mut controls);
        controls
    }

    /// Applies this change to `controls`.
    pub fn apply(self, c: &mut Controls) {
        fn put<T>(slot: &mut Option<T>, change: Change<T>) {
            match change {
                Change::Keep => {}
                Change::Clear => *slot = None,
                Change::Set(v) => *slot = Some(v),
            }
        }
        put(&mut c.title, self.title);
        put(&mut c.note, self.note);
        put(&mut c.routing.valid_since, self.valid_since);
        put(&mut c.routing.fallback_url, self.fallback_url);
        put(&mut c.routing.split, self.split);
        put(&mut c.routing.password_hash, self.password_hash);
        put(&mut c.routing.social_card, self.social_card);
        put(&mut c.routing.utm, self.utm);
        match self.tags {
            Change::Keep => {}
            Change::Clear => c.tags.clear(),
            Change::Set(tags) => c.tags = tags,
        }
        match self.rules {
            Change::Keep => {}
            Change::Clear => c.routing.rules.clear(),
            Change::Set(rules) => c.routing.rules = rules,
        }
        match self.crawlable {
            Change::Keep => {}
            Change::Clear => c.routing.crawlable = false,
            Change::Set(b) => c.routing.crawlable = b,
        }
    }

    /// Each changed control as (JSON path, new JSON value or `None` to remove), for an
    /// update that changes only these paths of the stored object, atomically in SQL.
    pub fn json_paths(&self) -> Vec<(&'static str, Option<String>)> {
        fn one<T>(
            out: &mut Vec<(&'static str, Option<String>)>,
            path: &'static str,
            change: &Change<T>,
            value: impl Fn(&T) -> Option<Value>,
        ) {
            match change {
                Change::Keep => {}
                Change::Clear => out.push((path, None)),
                // An empty list or `false` is stored as no field at all.
                Change::Set(v) => out.push((path, value(v).map(|v| v.to_string()))),
            }
        }
        let text = |s: &String| Some(Value::from(s.as_str()));
        let mut out = Vec::new();
        one(&mut out, "$.title", &self.title, text);
        one(&mut out, "$.note", &self.note, text);
        one(&mut out, "$.tags", &self.tags, |t| {
            (!t.is_empty()).then(|| t.clone().into())
        });
        one(&mut out, "$.valid_since", &self.valid_since, |t| {
            Some(t.to_rfc3339().into())
        });
        one(&mut out, "$.fallback_url", &self.fallback_url, text);
        one(&mut out, "$.crawlable", &self.crawlable, |b| {
            b.then_some(Value::Bool(true))
        });
        one(&mut out, "$.rules", &self.rules, |r| {
            (!r.is_empty()).then(|| Value::Array(r.iter().map(TargetingRule::to_value).collect()))
        });
        one(&mut out, "$.split", &self.split, |s| Some(s.to_value()));
        one(&mut out, "$.password_hash", &self.password_hash, text);
        one(&mut out, "$.social_card", &self.social_card, |c| {
            Some(c.to_value())
        });
        one(&mut out, "$.utm", &self.utm, |u| Some(u.to_value()));
        out
    }
}

impl<T> Change<T> {
    fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Change<U>, E> {
        Ok(match self {
            Change::Keep => Change::Keep,
            Change::Clear => Change::Clear,
            Change::Set(v) => Change::Set(f(v)?),
        })
    }
}
