//! The body of a link-creation request, parsed from JSON into valid parts.

use serde_json::{Map, Value};

use super::key::{Key, KeyError};
use super::target_url::{TargetUrl, TargetUrlError};

/// What a creator asked for, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink {
    pub target: TargetUrl,
    pub custom_key: Option<Key>,
}

/// Why a creation body was refused. The first group is a malformed body (422); the
/// second is a well-formed body whose values break a rule (400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewLinkError {
    NotJson(String),
    NotAnObject,
    MissingTarget,
    TargetNotString,
    ConflictingTargets,
    CustomKeyNotString,
    UnknownField(String),
    Target(TargetUrlError),
    Key(KeyError),
}

impl NewLinkError {
    /// True when the body itself is malformed rather than carrying a bad value.
    pub fn is_malformed_body(&self) -> bool {
        !matches!(self, Self::Target(_) | Self::Key(_))
    }
}

impl std::fmt::Display for NewLinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotJson(why) => write!(f, "request body is not valid JSON: {why}"),
            Self::NotAnObject => f.write_str("request body must be a JSON object"),
            Self::MissingTarget => f.write_str("field 'target_url' is required"),
            Self::TargetNotString => f.write_str("field 'target_url' must be a string"),
            Self::ConflictingTargets => {
                f.write_str("fields 'target_url' and 'url' are aliases; send one of them")
            }
            Self::CustomKeyNotString => f.write_str("field 'custom_key' must be a string or null"),
            Self::UnknownField(name) => write!(
                f,
                "unknown field '{name}'; accepted fields are 'target_url' (alias 'url') and 'custom_key'"
            ),
            Self::Target(e) => e.fmt(f),
            Self::Key(e) => e.fmt(f),
        }
    }
}

const FIELDS: &[&str] = &["target_url", "url", "custom_key"];

impl NewLink {
    /// Parses a JSON body. Unknown fields are refused rather than ignored, so that a typo
    /// such as `customKey` fails loudly instead of silently producing a random key.
    pub fn from_json(body: &[u8], own_hosts: &[&str]) -> Result<NewLink, NewLinkError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| NewLinkError::NotJson(e.to_string()))?;
        let Value::Object(fields) = value else {
            return Err(NewLinkError::NotAnObject);
        };
        if let Some(name) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(NewLinkError::UnknownField(name.clone()));
        }
        let raw_target = target_field(&fields)?;
        let custom_key = match fields.get("custom_key") {
            None | Some(Value::Null) => None,
            Some(Value::String(raw)) => Some(Key::parse(raw).map_err(NewLinkError::Key)?),
            Some(_) => return Err(NewLinkError::CustomKeyNotString),
        };
        let target = TargetUrl::parse(raw_target, own_hosts).map_err(NewLinkError::Target)?;
        Ok(NewLink { target, custom_key })
    }
}

/// `url` is the field name of the older "tiny url" API; both may be sent if they agree.
fn target_field(fields: &Map<String, Value>) -> Result<&str, NewLinkError> {
    match (fields.get("target_url"), fields.get("url")) {
        (None, None) => Err(NewLinkError::MissingTarget),
        (Some(v), None) | (None, Some(v)) => as_str(v),
        (Some(a), Some(b)) if a == b => as_str(a),
        (Some(_), Some(_)) => Err(NewLinkError::ConflictingTargets),
    }
}

fn as_str(v: &Value) -> Result<&str, NewLinkError> {
    v.as_str().ok_or(NewLinkError::TargetNotString)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<NewLink, NewLinkError> {
        NewLink::from_json(body.as_bytes(), &["sho.rt"])
    }

    #[test]
    fn a_target_alone_is_enough() {
        let link = parse(r#"{"target_url": "https://example.com"}"#).unwrap();
        assert_eq!(link.target.as_str(), "https://example.com/");
        assert_eq!(link.custom_key, None);
    }

    #[test]
    fn url_is_an_alias_for_target_url() {
        let link = parse(r#"{"url": "https://example.com/a"}"#).unwrap();
        assert_eq!(link.target.as_str(), "https://example.com/a");
        let same = r#"{"url": "https://example.com/a", "target_url": "https://example.com/a"}"#;
        assert!(parse(same).is_ok());
        let differ = r#"{"url": "https://example.com/a", "target_url": "https://example.com/b"}"#;
        assert_eq!(parse(differ), Err(NewLinkError::ConflictingTargets));
    }

    #[test]
    fn a_custom_key_is_lower_cased_and_null_means_none() {
        let link =
            parse(r#"{"target_url": "https://example.com", "custom_key": "My-Key"}"#).unwrap();
        assert_eq!(link.custom_key.unwrap().as_str(), "my-key");
        let link = parse(r#"{"target_url": "https://example.com", "custom_key": null}"#).unwrap();
        assert_eq!(link.custom_key, None);
    }

    #[test]
    fn malformed_bodies_are_reported_as_such() {
        type Check = fn(&NewLinkError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("", |e| matches!(e, NewLinkError::NotJson(_))),
            ("{", |e| matches!(e, NewLinkError::NotJson(_))),
            ("target_url=https://example.com", |e| {
                matches!(e, NewLinkError::NotJson(_))
            }),
            ("[]", |e| *e == NewLinkError::NotAnObject),
            ("\"https://example.com\"", |e| {
                *e == NewLinkError::NotAnObject
            }),
            ("null", |e| *e == NewLinkError::NotAnObject),
            ("{}", |e| *e == NewLinkError::MissingTarget),
            (r#"{"target_url": 5}"#, |e| {
                *e == NewLinkError::TargetNotString
            }),
            (r#"{"target_url": null}"#, |e| {
                *e == NewLinkError::TargetNotString
            }),
            (r#"{"target_url": ["https://a.com"]}"#, |e| {
                *e == NewLinkError::TargetNotString
            }),
            (r#"{"target_url": "https://a.com", "custom_key": 7}"#, |e| {
                *e == NewLinkError::CustomKeyNotString
            }),
            (
                r#"{"target_url": "https://a.com", "customKey": "x"}"#,
                |e| matches!(e, NewLinkError::UnknownField(f) if f == "customKey"),
            ),
        ];
        for (body, check) in cases {
            let e = parse(body).unwrap_err();
            assert!(check(&e), "{body:?} gave {e:?}");
            assert!(e.is_malformed_body(), "{body:?}");
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
        ] {
            let e = parse(body).unwrap_err();
            assert!(!e.is_malformed_body(), "{body:?} gave {e:?}");
        }
    }
}
