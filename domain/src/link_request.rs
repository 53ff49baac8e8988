//! Request bodies that create or change a link, parsed from JSON into valid parts.
//! Creation and `PATCH` share every field rule, so a value accepted by one is accepted
//! by the other.

use serde_json::{Map, Value};

use super::controls::{template_name, Controls, ControlsChange};
use super::health::DeadLinkMode;
use super::key::Key;
use super::link::{LinkSettings, RedirectStatus};
use super::target_url::TargetUrl;
use super::timestamp::Timestamp;

// Shared with the other request parsers; re-exported here, where callers have always
// found them.
pub use super::request::{ascii_only, Change, LinkRequestError, TargetPolicy, ToAscii};

impl<T: Copy> Change<T> {
    /// The value after this change of `current`.
    pub fn applied_to(&self, current: Option<T>) -> Option<T> {
        match self {
            Change::Keep => current,
            Change::Clear => None,
            Change::Set(v) => Some(*v),
        }
    }
}

/// A link whose window opens when or after it closes could never be live: refused at
/// creation, and for the state a `PATCH` would leave (its fields with the link's
/// others), with the same words.
pub fn live_window(
    valid_since: Option<Timestamp>,
    expires_at: Option<Timestamp>,
) -> Result<(), LinkRequestError> {
    match (valid_since, expires_at) {
        (Some(since), Some(until)) if since >= until => Err(LinkRequestError::Invalid {
            field: "valid_since",
            why: format!(
                "must be earlier than expires_at ({}): the link could never be live",
                until.to_rfc3339()
            ),
        }),
        _ => Ok(()),
    }
}

/// What a creator asked for, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink {
    pub target: TargetUrl,
    pub custom_key: Option<Key>,
    pub settings: LinkSettings,
    /// Return an existing link made with `reuse` for the same target instead.
    pub reuse: bool,
    pub controls: Controls,
    /// The password asked for, in clear: the handler stores only its hash.
    pub password: Option<String>,
    /// Whether to check the target before answering (`"check"`).
    pub check: CreationCheck,
    /// The domain asked for, by name (`"domain"`), checked by the handler against the
    /// instance's domains; `None`: the domain the request came in on.
    pub domain: Option<String>,
    /// The operator's UTM template to start from (`"utm_template"`, by name), which
    /// the handler looks up; the link's own `utm` fields win over the template's.
    pub utm_template: Option<String>,
}

/// A check of the target at creation: none (the default), one whose result the answer
/// carries (`"check": true`), or one that refuses the link when the target is failing
/// or gone (`"check": "require"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreationCheck {
    None,
    Report,
    Require,
}

/// What an owner or operator asked to change, already validated; `None`/`Keep` fields
/// are left as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPatch {
    pub target: Option<TargetUrl>,
    pub is_active: Option<bool>,
    pub expires_at: Change<Timestamp>,
    pub max_clicks: Change<i64>,
    pub redirect_status: Change<RedirectStatus>,
    pub forward_query: Option<bool>,
    pub controls: ControlsChange,
    /// A new key for the link; the old one stays as an alias.
    pub rename: Option<Key>,
    pub dead_link_mode: Change<DeadLinkMode>,
}

impl LinkPatch {
    /// A change of nothing but these fields (deactivation builds one).
    pub fn only_active(is_active: bool) -> LinkPatch {
        LinkPatch {
            target: None,
            is_active: Some(is_active),
            expires_at: Change::Keep,
            max_clicks: Change::Keep,
            redirect_status: Change::Keep,
            forward_query: None,
            controls: ControlsChange::default(),
            rename: None,
            dead_link_mode: Change::Keep,
        }
    }
}

const CREATE_FIELDS: &[&str] = &[
    "target_url",
    "url",
    "custom_key",
    "expires_at",
    "max_clicks",
    "redirect_status",
    "forward_query",
    "reuse",
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
    "utm_template",
    "dead_link_mode",
    "check",
    "domain",
];
/// Every field `PATCH /admin/{secret_key}` and `PATCH /api/links/{key}` accept.
pub const PATCH_FIELDS: &[&str] = &[
    "target_url",
    "url",
    "is_active",
    "expires_at",
    "max_clicks",
    "redirect_status",
    "forward_query",
    "key",
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
    "dead_link_mode",
];

/// The largest `max_clicks`: 2^53 - 1. The D1 binding carries every number as a
/// JavaScript double, which holds integers exactly only up to this; a larger limit would
/// be stored rounded and read back as another number (or refused on every read).
pub const MAX_CLICKS_LIMIT: i64 = (1 << 53) - 1;

const MAX_CLICKS_EXPECTED: &str = "an integer from 1 to 9007199254740991, or null";

pub(super) type Fields = Map<String, Value>;

fn object(body: &[u8], allowed: &'static [&'static str]) -> Result<Fields, LinkRequestError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| LinkRequestError::NotJson(e.to_string()))?;
    object_value(value, allowed)
}

pub(super) fn object_value(
    value: Value,
    allowed: &'static [&'static str],
) -> Result<Fields, LinkRequestError> {
    let Value::Object(fields) = value else {
        return Err(LinkRequestError::NotAnObject);
    };
    // Unknown fields are refused rather than ignored, so that a typo such as `customKey`
    // fails loudly instead of silently doing something else.
    if let Some(name) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(LinkRequestError::UnknownField {
            name: name.clone(),
            allowed,
        });
    }
    Ok(fields)
}

/// `url` is the field name of the older "tiny url" API; both may be sent if they agree.
pub(super) fn target_field(fields: &Fields) -> Result<Option<&str>, LinkRequestError> {
    let raw = match (fields.get("target_url"), fields.get("url")) {
        (None, None) => return Ok(None),
        (Some(v), None) | (None, Some(v)) => v,
        (Some(a), Some(b)) if a == b => a,
        (Some(_), Some(_)) => return Err(LinkRequestError::ConflictingTargets),
    };
    let field = if fields.contains_key("target_url") {
        "target_url"
    } else {
        "url"
    };
    raw.as_str().map(Some).ok_or(LinkRequestError::WrongType {
        field,
        expected: "a string",
    })
}

pub(super) fn bool_field(
    fields: &Fields,
    field: &'static str,
) -> Result<Option<bool>, LinkRequestError> {
    match fields.get(field) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(LinkRequestError::WrongType {
            field,
            expected: "true or false",
        }),
    }
}

/// Reads a nullable field with `parse`, which sees only non-null values.
pub(super) fn nullable<T>(
    fields: &Fields,
    field: &'static str,
    parse: impl Fn(&Value) -> Result<T, LinkRequestError>,
) -> Result<Change<T>, LinkRequestError> {
    match fields.get(field) {
        None => Ok(Change::Keep),
        Some(Value::Null) => Ok(Change::Clear),
        Some(v) => parse(v).map(Change::Set),
    }
}

fn expires_at(v: &Value, now: Timestamp) -> Result<Timestamp, LinkRequestError> {
    let at = instant(v, "expires_at")?;
    if at <= now {
        return Err(LinkRequestError::Invalid {
            field: "expires_at",
            why: "must be in the future".into(),
        });
    }
    Ok(at)
}

/// An RFC 3339 date-time field, kept to the second.
pub(super) fn instant(v: &Value, field: &'static str) -> Result<Timestamp, LinkRequestError> {
    let raw = v.as_str().ok_or(LinkRequestError::WrongType {
        field,
        expected: "an RFC 3339 date-time string or null",
    })?;
    let at = Timestamp::parse_rfc3339(raw).map_err(|_| LinkRequestError::Invalid {
        field,
        why: format!(
            "must be an RFC 3339 date-time from {} to {}, such as 2030-01-31T12:00:00Z; got '{}'",
            Timestamp::MIN.to_rfc3339(),
            Timestamp::MAX.to_rfc3339(),
            raw.chars().take(64).collect::<String>()
        ),
    })?;
    // Responses show dates to the second; keeping only that much makes the stored
    // instant the one the owner is shown, and the echo parse back to it.
    Ok(at.truncated_to_second())
}

pub(super) fn max_clicks(v: &Value) -> Result<i64, LinkRequestError> {
    let field = "max_clicks";
    let out_of_range = |got: &dyn std::fmt::Display| LinkRequestError::Invalid {
        field,
        why: format!("must be an integer from 1 to {MAX_CLICKS_LIMIT}, got {got}"),
    };
    let Value::Number(n) = v else {
        return Err(LinkRequestError::WrongType {
            field,
            expected: MAX_CLICKS_EXPECTED,
        });
    };
    if let Some(i) = n.as_i64() {
        return if (1..=MAX_CLICKS_LIMIT).contains(&i) {
            Ok(i)
        } else {
            Err(out_of_range(&i))
        };
    }
    // An integer literal too big for i64 arrives as u64 or, past u64, as an integral
    // f64: it is an integer, only out of range, so it gets the range message and not
    // "wrong type".
    let integral_but_huge = n.is_u64()
        || n.as_f64()
            .is_some_and(|f| f.fract() == 0.0 && f.abs() > MAX_CLICKS_LIMIT as f64);
    if integral_but_huge {
        return Err(out_of_range(n));
    }
    Err(LinkRequestError::WrongType {
        field,
        expected: MAX_CLICKS_EXPECTED,
    })
}

pub(super) fn redirect_status(v: &Value) -> Result<RedirectStatus, LinkRequestError> {
    let field = "redirect_status";
    let n = v.as_i64().ok_or(LinkRequestError::WrongType {
        field,
        expected: "one of 301, 302, 307, 308, or null",
    })?;
    RedirectStatus::from_code(n).ok_or(LinkRequestError::Invalid {
        field,
        why: format!("must be {}, got {n}", RedirectStatus::ALLOWED),
    })
}

fn dead_link_mode(v: &Value) -> Result<DeadLinkMode, LinkRequestError> {
    v.as_str()
        .and_then(DeadLinkMode::parse)
        .ok_or_else(|| LinkRequestError::Invalid {
            field: "dead_link_mode",
            why: format!("must be {}, or null", DeadLinkMode::ALLOWED),
        })
}

fn check(fields: &Fields) -> Result<CreationCheck, LinkRequestError> {
    match fields.get("check") {
        None | Some(Value::Null | Value::Bool(false)) => Ok(CreationCheck::None),
        Some(Value::Bool(true)) => Ok(CreationCheck::Report),
        Some(Value::String(s)) if s == "require" => Ok(CreationCheck::Require),
        Some(_) => Err(LinkRequestError::WrongType {
            field: "check",
            expected: "true, false or \"require\"",
        }),
    }
}

pub(super) fn target(raw: &str, policy: &TargetPolicy) -> Result<TargetUrl, LinkRequestError> {
    policy.accept(raw).map_err(LinkRequestError::Target)
}

/// `Change::Clear` and `Change::Keep` both mean "none" at creation.
pub(super) fn set<T>(change: Change<T>) -> Option<T> {
    match change {
        Change::Set(v) => Some(v),
        Change::Keep | Change::Clear => None,
    }
}

impl NewLink {
    /// Parses a JSON creation body.
    pub fn from_json(
        body: &[u8],
        policy: &TargetPolicy,
        now: Timestamp,
    ) -> Result<NewLink, LinkRequestError> {
        let fields = object(body, CREATE_FIELDS)?;
        NewLink::from_fields(&fields, policy, now)
    }

    /// Parses one already-decoded creation body (an item of a bulk request).
    pub fn from_value(
        value: Value,
        policy: &TargetPolicy,
        now: Timestamp,
    ) -> Result<NewLink, LinkRequestError> {
        let fields = object_value(value, CREATE_FIELDS)?;
        NewLink::from_fields(&fields, policy, now)
    }

    fn from_fields(
        fields: &Fields,
        policy: &TargetPolicy,
        now: Timestamp,
    ) -> Result<NewLink, LinkRequestError> {
        let raw_target = target_field(fields)?.ok_or(LinkRequestError::MissingTarget)?;
        let custom_key = match fields.get("custom_key") {
            None | Some(Value::Null) => None,
            Some(Value::String(raw)) => Some(Key::parse(raw).map_err(LinkRequestError::Key)?),
            Some(_) => {
                return Err(LinkRequestError::WrongType {
                    field: "custom_key",
                    expected: "a string or null",
                })
            }
        };
        let expires_at = set(nullable(fields, "expires_at", |v| expires_at(v, now))?);
        let max_clicks = set(nullable(fields, "max_clicks", max_clicks)?);
        let redirect_status = set(nullable(fields, "redirect_status", redirect_status)?);
        let forward_query = bool_field(fields, "forward_query")?.unwrap_or(true);
        let reuse = bool_field(fields, "reuse")?.unwrap_or(false);
        let dead_link_mode = set(nullable(fields, "dead_link_mode", dead_link_mode)?);
        let check = check(fields)?;
        let domain = match fields.get("domain") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name.clone()),
            Some(_) => {
                return Err(LinkRequestError::WrongType {
                    field: "domain",
                    expected: "a string (a domain this service serves) or null",
                })
            }
        };
        let utm_template = match fields.get("utm_template") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => {
                Some(
                    template_name(name).map_err(|why| LinkRequestError::Invalid {
                        field: "utm_template",
                        why,
                    })?,
                )
            }
            Some(_) => {
                return Err(LinkRequestError::WrongType {
                    field: "utm_template",
                    expected: "a template's name or null",
                })
            }
        };
        let target = target(raw_target, policy)?;
        let mut controls = ControlsChange::from_fields(fields, policy)?;
        live_window(controls.valid_since.applied_to(None), expires_at)?;
        let password = match std::mem::take(&mut controls.password) {
            Change::Set(p) => Some(p),
            Change::Keep | Change::Clear => None,
        };
        // A reused link is shared by everyone who shortens the same target, so it can
        // carry nothing personal: no chosen key, no expiry, no click limit, no controls.
        if reuse
            && (custom_key.is_some()
                || expires_at.is_some()
                || max_clicks.is_some()
                || !controls.is_empty()
                || password.is_some()
                || utm_template.is_some())
        {
            return Err(LinkRequestError::Invalid {
                field: "reuse",
                why: "cannot be combined with custom_key, expires_at, max_clicks or link controls (title, tags, note, valid_since, fallback_url, crawlable, rules, split, password, social_card, utm, utm_template)".into(),
            });
        }
        Ok(NewLink {
            target,
            custom_key,
            settings: LinkSettings {
                expires_at,
                max_clicks,
                redirect_status,
                forward_query,
                dead_link_mode,
            },
            reuse,
            controls: controls.into_new(),
            password,
            check,
            domain,
            utm_template,
        })
    }
}

impl LinkPatch {
    /// Parses a JSON `PATCH` body; at least one field must be present.
    pub fn from_json(
        body: &[u8],
        policy: &TargetPolicy,
        now: Timestamp,
    ) -> Result<LinkPatch, LinkRequestError> {
        let fields = object(body, PATCH_FIELDS)?;
        if fields.is_empty() {
            return Err(LinkRequestError::NothingToChange);
        }
        let target = match target_field(&fields)? {
            Some(raw) => Some(target(raw, policy)?),
            None => None,
        };
        Ok(LinkPatch {
            target,
            is_active: bool_field(&fields, "is_active")?,
            expires_at: nullable(&fields, "expires_at", |v| expires_at(v, now))?,
            max_clicks: nullable(&fields, "max_clicks", max_clicks)?,
            redirect_status: nullable(&fields, "redirect_status", redirect_status)?,
            forward_query: bool_field(&fields, "forward_query")?,
            controls: ControlsChange::from_fields(&fields, policy)?,
            rename: match fields.get("key") {
                None => None,
                Some(Value::String(raw)) => Some(Key::parse(raw).map_err(LinkRequestError::Key)?),
                Some(_) => {
                    return Err(LinkRequestError::WrongType {
                        field: "key",
                        expected: "a string",
                    })
                }
            },
            dead_link_mode: nullable(&fields, "dead_link_mode", dead_link_mode)?,
        })
    }
}

#[cfg(test)]
mod tests;
