//! The controls' limits and the readers every control field shares: one line of text,
//! an instant, a target, and the error that names the field.

use serde_json::Value;

use crate::request::{LinkRequestError, TargetPolicy};
use crate::timestamp::Timestamp;

/// At most this many tags per link (the bound).
pub const MAX_TAGS: usize = 10;
/// A tag is 1 to this many characters of `a-z 0-9 - _ .` after normalization.
pub const MAX_TAG_CHARS: usize = 32;
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_NOTE_CHARS: usize = 2_000;
/// Targeting rules per link. Every redirect of the link may evaluate all of them, so
/// the bound is the redirect's worst case; 20 covers per-country and per-device sets.
pub const MAX_RULES: usize = 20;
/// Values one condition may list (countries, languages, devices, systems).
pub const MAX_VALUES: usize = 20;
pub const MIN_VARIANTS: usize = 2;
pub const MAX_VARIANTS: usize = 4;
/// A variant's weight: a whole number from 1 to this; shares are weight / sum.
pub const MAX_WEIGHT: u32 = 1_000;
/// How long a visitor keeps their variant when the link does not say: 30 days.
pub const DEFAULT_STICKY_SECONDS: u32 = 30 * 24 * 3600;
/// The longest a visitor's variant may be kept: a year.
pub const MAX_STICKY_SECONDS: u32 = 365 * 24 * 3600;

pub(super) fn clip(raw: &str) -> String {
    raw.chars().take(64).collect()
}

pub(super) fn text(
    value: &Value,
    field: &'static str,
    max: usize,
    multiline: bool,
) -> Result<String, LinkRequestError> {
    let raw = value.as_str().ok_or(LinkRequestError::WrongType {
        field,
        expected: "a string or null",
    })?;
    let trimmed = raw.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > max {
        return Err(LinkRequestError::Invalid {
            field,
            why: format!("must be 1 to {max} characters, got {chars}"),
        });
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\t')))
    {
        return Err(LinkRequestError::Invalid {
            field,
            why: "must not contain control characters".into(),
        });
    }
    Ok(trimmed.to_string())
}

pub(super) fn invalid(field: &'static str, why: impl Into<String>) -> LinkRequestError {
    LinkRequestError::Invalid {
        field,
        why: why.into(),
    }
}

pub(super) fn instant(v: &Value, field: &'static str) -> Result<Timestamp, LinkRequestError> {
    let raw = v.as_str().ok_or(LinkRequestError::WrongType {
        field,
        expected: "an RFC 3339 date-time string or null",
    })?;
    Timestamp::parse_rfc3339(raw)
        .map(Timestamp::truncated_to_second)
        .map_err(|_| {
            invalid(
                field,
                format!(
                    "must be an RFC 3339 date-time such as 2030-01-31T12:00:00Z; got '{}'",
                    clip(raw)
                ),
            )
        })
}

pub(super) fn target(
    v: &Value,
    field: &'static str,
    policy: Option<&TargetPolicy>,
) -> Result<String, LinkRequestError> {
    let raw = v.as_str().ok_or(LinkRequestError::WrongType {
        field,
        expected: "a URL string",
    })?;
    let Some(policy) = policy else {
        return Ok(raw.to_string());
    };
    let url = policy
        .accept(raw)
        .map_err(|e| invalid(field, format!("is not an accepted target: {e}")))?;
    Ok(url.as_str().to_string())
}
