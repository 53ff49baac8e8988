//! What every request parser shares: the error a refused body gets, the three-way
//! change of a nullable field, and the policy every target obeys. Below the parsers of
//! links, controls, passwords and imports, so that none of them imports another's.

use super::key::KeyError;
use super::target_url::{TargetUrl, TargetUrlError};

/// Names as a sentence lists them: `a, b or c`.
pub fn one_of(names: &[&str]) -> String {
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

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

/// A change to a nullable setting: leave it, clear it, or set it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Change<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_listed_as_a_sentence_lists_them() {
        assert_eq!(one_of(&["a", "b", "c"]), "a, b or c");
        assert_eq!(one_of(&["a"]), "a");
    }
}
