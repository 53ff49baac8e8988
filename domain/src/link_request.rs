//! Request bodies that create or change a link, parsed from JSON into valid parts.
//! Creation and `PATCH` share every field rule, so a value accepted by one is accepted
//! by the other.

use serde_json::{Map, Value};

use super::controls::{Controls, ControlsChange};
use super::health::DeadLinkMode;
use super::key::{Key, KeyError};
use super::link::{LinkSettings, RedirectStatus};
use super::target_url::{TargetUrl, TargetUrlError};

/// What a target must satisfy beyond the URL rules: not this service's own hosts, not
/// the operator's blocklist; and how a host that needs Unicode mapping is mapped.
#[derive(Debug, Clone, Copy)]
pub struct TargetPolicy<'a> {
    pub own_hosts: &'a [&'a str],
    pub blocked_hosts: &'a [String],
    /// The runtime's WHATWG URL parser: a URL in ASCII form (punycode host), or `None`
    /// if it refuses the URL. The `url` crate here carries no Unicode tables (48 KB gzip
    /// of wasm; see Cargo.toml), so it hands such hosts to this.
    pub to_ascii: ToAscii,
}

/// Maps a URL to its ASCII serialization, as a WHATWG URL parser does.
pub type ToAscii = fn(&str) -> Option<String>;

/// A [`ToAscii`] that maps nothing: internationalized hosts are refused.
pub fn ascii_only(_: &str) -> Option<String> {
    None
}
use super::timestamp::Timestamp;

/// A change to a nullable setting: leave it, clear it, or set it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Change<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

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

/// Why a body was refused. A malformed body (not JSON, wrong shape or types) is 422;
/// a well-formed body whose values break a rule is 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkRequestError {
    NotJson(String),
    NotAnObject,
    MissingTarget,
    ConflictingTargets,
    UnknownField {
        name: String,
        /// The fields the body may have, as the parser knows them.
        allowed: &'static [&'static str],
    },
    WrongType {
        field: &'static str,
        expected: &'static str,
    },
    NothingToChange,
    Target(TargetUrlError),
    Key(KeyError),
    Invalid {
        field: &'static str,
        why: String,
    },
}

impl LinkRequestError {
    /// True when the body itself is malformed rather than carrying a bad value.
    pub fn is_malformed_body(&self) -> bool {
        !matches!(self, Self::Target(_) | Self::Key(_) | Self::Invalid { .. })
    }
}

impl std::fmt::Display for LinkRequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotJson(why) => write!(f, "request body is not valid JSON: {why}"),
            Self::NotAnObject => f.write_str("request body must be a JSON object"),
            Self::MissingTarget => f.write_str("field 'target_url' is required"),
            Self::ConflictingTargets => {
                f.write_str("fields 'target_url' and 'url' are aliases; send one of them")
            }
            Self::UnknownField { name, allowed } => {
                write!(
                    f,
                    "unknown field '{name}'; accepted fields are {}",
                    accepted(allowed)
                )
            }
            Self::WrongType { field, expected } => write!(f, "field '{field}' must be {expected}"),
            Self::NothingToChange => f.write_str("request body names no field to change"),
            Self::Target(e) => e.fmt(f),
            Self::Key(e) => e.fmt(f),
            Self::Invalid { field, why } => write!(f, "field '{field}' {why}"),
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
    "dead_link_mode",
];

/// The largest `max_clicks`: 2^53 - 1. The D1 binding carries every number as a
/// JavaScript double, which holds integers exactly only up to this; a larger limit would
/// be stored rounded and read back as another number (or refused on every read).
pub const MAX_CLICKS_LIMIT: i64 = (1 << 53) - 1;

const MAX_CLICKS_EXPECTED: &str = "an integer from 1 to 9007199254740991, or null";

pub(super) type Fields = Map<String, Value>;

/// The accepted fields as an error names them: `url` as the alias of `target_url`.
fn accepted(allowed: &[&str]) -> String {
    allowed
        .iter()
        .filter(|f| **f != "url")
        .map(|f| match *f {
            "target_url" if allowed.contains(&"url") => "target_url (alias url)",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(", ")
}

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

impl TargetPolicy<'_> {
    /// `raw` as a target this service accepts: every URL field of a link (its target,
    /// rule and split targets, fallback, card image) goes through here.
    pub fn accept(&self, raw: &str) -> Result<TargetUrl, TargetUrlError> {
        let target = match TargetUrl::parse(raw, self.own_hosts) {
            Err(TargetUrlError::NeedsUnicode) => (self.to_ascii)(raw)
                .ok_or(TargetUrlError::NeedsUnicode)
                .and_then(|ascii| TargetUrl::parse(&ascii, self.own_hosts)),
            parsed => parsed,
        }?;
        target.check_blocklist(self.blocked_hosts)?;
        Ok(target)
    }
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
                || password.is_some())
        {
            return Err(LinkRequestError::Invalid {
                field: "reuse",
                why: "cannot be combined with custom_key, expires_at, max_clicks or link controls (title, tags, note, valid_since, fallback_url, crawlable, rules, split, password, social_card)".into(),
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
mod tests {
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
        let asked = create(
            r#"{"target_url": "https://a.example/", "check": true, "dead_link_mode": "gone"}"#,
        )
        .unwrap();
        assert_eq!(asked.check, CreationCheck::Report);
        assert_eq!(asked.settings.dead_link_mode, Some(DeadLinkMode::Gone));
        let required =
            create(r#"{"target_url": "https://a.example/", "check": "require"}"#).unwrap();
        assert_eq!(required.check, CreationCheck::Require);
        for bad in [r#""yes""#, "1", "[]"] {
            let e = create(&format!(
                r#"{{"target_url": "https://a.example/", "check": {bad}}}"#
            ))
            .unwrap_err();
            assert!(e.is_malformed_body(), "{bad}: {e}");
        }
        let e = create(r#"{"target_url": "https://a.example/", "dead_link_mode": "vanish"}"#)
            .unwrap_err();
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
             valid_since, fallback_url, crawlable, rules, split, password, social_card, \
             dead_link_mode, check, domain"
        );
        let e = patch(r#"{"reuse": true}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown field 'reuse'; accepted fields are target_url (alias url), is_active, \
             expires_at, max_clicks, redirect_status, forward_query, key, title, tags, note, \
             valid_since, fallback_url, crawlable, rules, split, password, social_card, \
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
        let p = patch(r#"{"url": "https://b.com/x", "max_clicks": null, "redirect_status": 301}"#)
            .unwrap();
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
}
