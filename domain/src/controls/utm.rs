//! A link's UTM fields (source, medium, campaign, term, content): parsed once from a
//! request or a template, stored with the routing (so the cached rule carries them),
//! and added to the target's query by the redirect.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::request::LinkRequestError;

use super::field::{clip, invalid};

/// The longest UTM value, in characters: campaign names are short labels, and every
/// value travels in each cached rule and each redirect's `Location`.
pub const MAX_UTM_CHARS: usize = 100;

/// The five UTM fields, in the order they are added to a target.
pub const UTM_FIELDS: [&str; 5] = ["source", "medium", "campaign", "term", "content"];

/// A UTM template's name is 1 to this many characters of `a-z 0-9 - _ .`.
pub const MAX_TEMPLATE_NAME_CHARS: usize = 40;

/// A template's name, as `utm_template` and the template API spell it: trimmed, lower
/// case, 1 to [`MAX_TEMPLATE_NAME_CHARS`] of `a-z 0-9 - _ .` (the tag alphabet, so a
/// name is safe in a path).
pub fn template_name(raw: &str) -> Result<String, String> {
    let name = raw.trim().to_ascii_lowercase();
    let fits = !name.is_empty()
        && name.chars().count() <= MAX_TEMPLATE_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if fits {
        Ok(name)
    } else {
        Err(format!(
            "must be 1 to {MAX_TEMPLATE_NAME_CHARS} characters of a-z, 0-9, '-', '_' and '.', got '{}'",
            clip(raw)
        ))
    }
}

/// The body of `POST /api/utm-templates` (`{"name", "utm"}`, `named`) or of `PUT
/// /api/utm-templates/{name}` (`{"utm"}`): the name (when `named`) and the fields.
pub fn template_body(body: &[u8], named: bool) -> Result<(Option<String>, Utm), LinkRequestError> {
    const CREATE: &[&str] = &["name", "utm"];
    const REPLACE: &[&str] = &["utm"];
    let allowed = if named { CREATE } else { REPLACE };
    let value: Value =
        serde_json::from_slice(body).map_err(|e| LinkRequestError::NotJson(e.to_string()))?;
    let Value::Object(fields) = value else {
        return Err(LinkRequestError::NotAnObject);
    };
    if let Some(name) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(LinkRequestError::UnknownField {
            name: name.clone(),
            allowed,
        });
    }
    let name = if named {
        let raw = match fields.get("name") {
            Some(Value::String(raw)) => raw,
            Some(_) => {
                return Err(LinkRequestError::WrongType {
                    field: "name",
                    expected: "a string",
                })
            }
            None => return Err(invalid("name", "is required")),
        };
        Some(template_name(raw).map_err(|why| invalid("name", why))?)
    } else {
        None
    };
    let utm = match fields.get("utm") {
        None | Some(Value::Null) => return Err(invalid("utm", "is required")),
        Some(v) => Utm::parse(v, "utm")?,
    };
    Ok((name, utm))
}

/// A link's UTM fields; at least one is set (an empty set is no UTM at all).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Utm {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub term: Option<String>,
    pub content: Option<String>,
}

impl Utm {
    fn slots(&self) -> [(&'static str, &Option<String>); 5] {
        [
            ("source", &self.source),
            ("medium", &self.medium),
            ("campaign", &self.campaign),
            ("term", &self.term),
            ("content", &self.content),
        ]
    }

    /// The fields as the API shows and stores them: only those that are set.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        for (name, v) in self.slots() {
            if let Some(v) = v {
                m.insert(name.into(), v.as_str().into());
            }
        }
        Value::Object(m)
    }

    /// Reads `{"source": …, …}` for the field `field` (`utm`, or a template's
    /// `fields`): an object of the five names, each a string of 1 to
    /// [`MAX_UTM_CHARS`] characters without control characters, or null.
    pub fn parse(v: &Value, field: &'static str) -> Result<Utm, LinkRequestError> {
        let Value::Object(m) = v else {
            return Err(LinkRequestError::WrongType {
                field,
                expected: "an object {\"source\", \"medium\", \"campaign\", \"term\", \"content\"} or null",
            });
        };
        if let Some(name) = m.keys().find(|k| !UTM_FIELDS.contains(&k.as_str())) {
            return Err(invalid(
                field,
                format!(
                    "has only 'source', 'medium', 'campaign', 'term' and 'content', not '{}'",
                    clip(name)
                ),
            ));
        }
        let one = |name: &str| -> Result<Option<String>, LinkRequestError> {
            let Some(v) = m.get(name).filter(|v| !v.is_null()) else {
                return Ok(None);
            };
            let raw = v
                .as_str()
                .ok_or_else(|| invalid(field, format!("'{name}' must be a string or null")))?;
            let value = raw.trim();
            let chars = value.chars().count();
            if chars == 0 || chars > MAX_UTM_CHARS {
                return Err(invalid(
                    field,
                    format!("'{name}' must be 1 to {MAX_UTM_CHARS} characters, got {chars}"),
                ));
            }
            if value.chars().any(char::is_control) {
                return Err(invalid(
                    field,
                    format!("'{name}' must not contain control characters"),
                ));
            }
            Ok(Some(value.to_string()))
        };
        let utm = Utm {
            source: one("source")?,
            medium: one("medium")?,
            campaign: one("campaign")?,
            term: one("term")?,
            content: one("content")?,
        };
        if utm == Utm::default() {
            return Err(invalid(
                field,
                "must set at least one of 'source', 'medium', 'campaign', 'term' and 'content' (null removes them all)",
            ));
        }
        Ok(utm)
    }

    /// These fields, with `over`'s set fields taking their place: a link's own fields
    /// over its template's.
    pub fn overlaid(&self, over: &Utm) -> Utm {
        let pick = |a: &Option<String>, b: &Option<String>| b.clone().or_else(|| a.clone());
        Utm {
            source: pick(&self.source, &over.source),
            medium: pick(&self.medium, &over.medium),
            campaign: pick(&self.campaign, &over.campaign),
            term: pick(&self.term, &over.term),
            content: pick(&self.content, &over.content),
        }
    }

    /// `location` with `utm_<name>=<value>` added for each set field whose parameter
    /// the URL does not already have: what the target (or the visitor's forwarded
    /// query) already says wins, so a target built with its own tracking is never
    /// rewritten. Added before any `#fragment`.
    pub fn add_to<'a>(&self, location: Cow<'a, str>) -> Cow<'a, str> {
        let (base, fragment) = match location.find('#') {
            Some(i) => location.split_at(i),
            None => (location.as_ref(), ""),
        };
        let query = base.split_once('?').map_or("", |(_, q)| q);
        let present = |name: &str| {
            query
                .split('&')
                .any(|pair| pair.split('=').next() == Some(name))
        };
        let mut added = String::new();
        for (name, value) in self.slots() {
            let Some(value) = value else { continue };
            let param = format!("utm_{name}");
            if present(&param) {
                continue;
            }
            if !added.is_empty() {
                added.push('&');
            }
            added.push_str(&param);
            added.push('=');
            added.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
        }
        if added.is_empty() {
            return location;
        }
        let joiner = match base.find('?') {
            None => "?",
            Some(i) if i + 1 == base.len() => "",
            Some(_) => "&",
        };
        Cow::Owned(format!("{base}{joiner}{added}{fragment}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn utm(v: Value) -> Utm {
        Utm::parse(&v, "utm").unwrap()
    }

    #[test]
    fn the_fields_are_added_to_a_target_without_a_query() {
        let u = utm(json!({"source": "news letter", "medium": "email", "campaign": "spring"}));
        assert_eq!(
            u.add_to(Cow::Borrowed("https://example.com/p")),
            "https://example.com/p?utm_source=news+letter&utm_medium=email&utm_campaign=spring"
        );
    }

    #[test]
    fn a_parameter_the_target_already_has_is_kept_and_not_added_again() {
        let u = utm(json!({"source": "x", "campaign": "spring"}));
        assert_eq!(
            u.add_to(Cow::Borrowed(
                "https://example.com/p?utm_source=theirs&a=1#top"
            )),
            "https://example.com/p?utm_source=theirs&a=1&utm_campaign=spring#top"
        );
    }

    #[test]
    fn a_target_that_has_every_parameter_is_returned_unchanged() {
        let u = utm(json!({"source": "x"}));
        let target = "https://example.com/?utm_source=y";
        assert!(matches!(u.add_to(Cow::Borrowed(target)), Cow::Borrowed(t) if t == target));
    }

    #[test]
    fn values_are_trimmed_and_bounded() {
        assert_eq!(
            utm(json!({"term": "  shoes "})).term.as_deref(),
            Some("shoes")
        );
        let long = "a".repeat(MAX_UTM_CHARS + 1);
        for bad in [
            json!({"source": ""}),
            json!({"source": long}),
            json!({"source": 3}),
            json!({"source": "a\nb"}),
            json!({"sauce": "x"}),
            json!({}),
            json!({"source": null}),
            json!("spring"),
        ] {
            assert!(Utm::parse(&bad, "utm").is_err(), "{bad}");
        }
    }

    #[test]
    fn a_template_name_is_a_lower_case_label() {
        assert_eq!(template_name(" Spring-2027 ").as_deref(), Ok("spring-2027"));
        for bad in ["", "a b", "x/y", &"a".repeat(MAX_TEMPLATE_NAME_CHARS + 1)] {
            assert!(template_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_template_body_names_the_template_and_its_fields() {
        let (name, u) = template_body(
            br#"{"name": "Spring", "utm": {"campaign": "spring"}}"#,
            true,
        )
        .unwrap();
        assert_eq!(name.as_deref(), Some("spring"));
        assert_eq!(u.campaign.as_deref(), Some("spring"));
        let (none, _) = template_body(br#"{"utm": {"source": "x"}}"#, false).unwrap();
        assert_eq!(none, None);
        for (bad, named) in [
            (&br#"{"utm": {"source": "x"}}"#[..], true),
            (br#"{"name": "a", "utm": {"source": "x"}}"#, false),
            (br#"{"name": "a b", "utm": {"source": "x"}}"#, true),
            (br#"{"name": "a"}"#, true),
            (br#"{"name": "a", "utm": {}}"#, true),
            (br#"[]"#, true),
            (br#"{"#, true),
        ] {
            assert!(
                template_body(bad, named).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_link_s_own_fields_win_over_its_template_s() {
        let template = utm(json!({"source": "t", "medium": "email"}));
        let own = utm(json!({"source": "own"}));
        assert_eq!(
            template.overlaid(&own).to_value(),
            json!({"source": "own", "medium": "email"})
        );
    }
}
