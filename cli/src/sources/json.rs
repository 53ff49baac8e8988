//! JSON sources: API answers saved to a file. A file may hold one answer, several
//! concatenated (one per page), JSON Lines, or a bare array; each top-level value is
//! read, its links taken from where the source's API puts them, and dropped before the
//! next value is read.

use std::io::Read;

use serde_json::{Map, Value};

use crate::date;
use crate::exit::Failure;
use crate::record::{key_of, Record, Refused, Row};

/// Whose JSON shape to expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Bitly,
    Shlink,
    Kutt,
    Sink,
    Shortener,
}

impl Flavor {
    /// The links of one top-level value: the array the source's list call answers
    /// with, a bare array, or a single link object.
    fn links(self, value: Value) -> Vec<Value> {
        let pointer = match self {
            // {"links": [...], "pagination": {...}}
            Flavor::Bitly => "/links",
            // {"shortUrls": {"data": [...], "pagination": {...}}}
            Flavor::Shlink => "/shortUrls/data",
            // {"limit":…, "skip":…, "total":…, "data": [...]}
            Flavor::Kutt => "/data",
            // {"version": "1.0", "exportedAt":…, "count":…, "links": [...], "cursor":…}
            Flavor::Sink => "/links",
            Flavor::Shortener => "",
        };
        let mut value = value;
        match value {
            Value::Array(items) => items,
            Value::Object(_) if !pointer.is_empty() => {
                match value.pointer_mut(pointer).map(Value::take) {
                    Some(Value::Array(items)) => items,
                    _ => vec![value],
                }
            }
            other => vec![other],
        }
    }

    /// One link object as a record, or why it cannot be one; `None` for a line that
    /// is not a link (this service's export ends with a completion line).
    fn record(self, link: &Value) -> Option<Result<Record, Refused>> {
        let Value::Object(o) = link else {
            return Some(Err(Refused {
                key: String::new(),
                target_url: String::new(),
                reason: "not a JSON object".into(),
            }));
        };
        if self == Flavor::Shortener && (o.contains_key("export") || o.contains_key("error")) {
            return None;
        }
        let (key, target) = match self {
            Flavor::Bitly => (
                text(o, "id")
                    .or_else(|| text(o, "link"))
                    .map(|k| key_of(&k)),
                text(o, "long_url"),
            ),
            Flavor::Shlink => (text(o, "shortCode"), text(o, "longUrl")),
            Flavor::Kutt => (text(o, "address"), text(o, "target")),
            Flavor::Sink => (text(o, "slug"), text(o, "url")),
            Flavor::Shortener => (text(o, "key"), text(o, "target_url")),
        };
        let key = key.unwrap_or_default();
        let target_url = target.unwrap_or_default();
        Some(fill(self, o, key, target_url))
    }
}

fn fill(
    flavor: Flavor,
    o: &Map<String, Value>,
    key: String,
    target_url: String,
) -> Result<Record, Refused> {
    let refuse = |reason: String| Refused {
        key: key.clone(),
        target_url: target_url.clone(),
        reason,
    };
    if key.is_empty() {
        return Err(refuse("no key in this link".into()));
    }
    if target_url.is_empty() {
        return Err(refuse("no target URL in this link".into()));
    }
    let date = |name: &str| -> Result<Option<String>, Refused> {
        match o.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => {
                date::normalize(&n.to_string()).map_err(|e| refuse(format!("{name}: {e}")))
            }
            Some(Value::String(s)) => {
                date::normalize(s).map_err(|e| refuse(format!("{name}: {e}")))
            }
            Some(_) => Err(refuse(format!("{name} is not a date"))),
        }
    };
    let count = |v: Option<&Value>| v.and_then(Value::as_u64);
    let mut r = Record {
        key: key.clone(),
        target_url: target_url.clone(),
        ..Record::default()
    };
    match flavor {
        Flavor::Bitly => {
            r.created_at = date("created_at")?;
            r.title = text(o, "title");
            r.tags = strings(o.get("tags"));
            // Bitlinks carry no click count; a file enriched with one is honoured.
            r.clicks = count(o.get("clicks")).or(count(o.get("total_clicks")));
        }
        Flavor::Shlink => {
            r.created_at = date("dateCreated")?;
            r.title = text(o, "title");
            r.tags = strings(o.get("tags"));
            r.clicks = count(o.get("visitsSummary").and_then(|v| v.get("total")))
                .or(count(o.get("visitsCount")));
            r.forward_query = o.get("forwardQuery").and_then(Value::as_bool);
            if let Some(Value::Object(meta)) = o.get("meta") {
                r.expires_at = match meta.get("validUntil") {
                    Some(Value::String(s)) => {
                        date::normalize(s).map_err(|e| refuse(format!("validUntil: {e}")))?
                    }
                    _ => None,
                };
                r.max_clicks = count(meta.get("maxVisits"));
            }
        }
        Flavor::Kutt => {
            r.created_at = date("created_at")?;
            r.expires_at = date("expire_in")?;
            r.title = text(o, "description");
            r.clicks = count(o.get("visit_count"));
        }
        Flavor::Sink => {
            // Sink stores dates as Unix seconds.
            r.created_at = date("createdAt")?;
            r.expires_at = date("expiration")?;
            r.title = text(o, "title").or_else(|| text(o, "comment"));
        }
        Flavor::Shortener => {
            r.created_at = date("created_at")?;
            r.expires_at = date("expires_at")?;
            r.clicks = count(o.get("clicks"));
            r.is_active = o.get("is_active").and_then(Value::as_bool);
            r.max_clicks = count(o.get("max_clicks"));
            r.redirect_status = o
                .get("redirect_status")
                .and_then(Value::as_u64)
                .and_then(|n| u16::try_from(n).ok());
            r.forward_query = o.get("forward_query").and_then(Value::as_bool);
            r.title = text(o, "title");
            r.tags = strings(o.get("tags"));
        }
    }
    Ok(r)
}

fn text(o: &Map<String, Value>, name: &str) -> Option<String> {
    o.get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Rows of a JSON source, one top-level value in memory at a time.
pub fn rows<R: Read + 'static>(
    reader: R,
    flavor: Flavor,
) -> Box<dyn Iterator<Item = Result<Row, Failure>>> {
    let values = serde_json::Deserializer::from_reader(reader).into_iter::<Value>();
    let mut number = 0_u64;
    Box::new(
        values
            .flat_map(
                move |value| -> Box<dyn Iterator<Item = Result<Value, Failure>>> {
                    match value {
                        Ok(v) => Box::new(flavor.links(v).into_iter().map(Ok)),
                        Err(e) => Box::new(std::iter::once(Err(Failure::Input(format!(
                            "not valid JSON: {e}"
                        ))))),
                    }
                },
            )
            .filter_map(move |link| match link {
                Err(e) => Some(Err(e)),
                Ok(link) => flavor.record(&link).map(|parsed| {
                    number += 1;
                    Ok(Row { number, parsed })
                }),
            }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, flavor: Flavor) -> Vec<Result<Record, Refused>> {
        rows(std::io::Cursor::new(text.to_string().into_bytes()), flavor)
            .map(|r| r.unwrap().parsed)
            .collect()
    }

    #[test]
    fn pages_saved_one_after_another_are_all_read() {
        let page = |k: &str| {
            format!(
                r#"{{"data": [{{"address": "{k}", "target": "https://example.com/{k}", "visit_count": 2}}]}}"#
            )
        };
        let got = read(&format!("{}\n{}", page("a1c"), page("b2c")), Flavor::Kutt);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].as_ref().unwrap().key, "b2c");
    }

    #[test]
    fn shlink_visits_expiry_and_limit_come_from_their_own_places() {
        let got = read(
            r#"{"shortUrls": {"data": [{"shortCode": "abc", "longUrl": "https://example.com/", "dateCreated": "2019-05-01T10:00:00+00:00",
                "visitsSummary": {"total": 9, "nonBots": 7, "bots": 2}, "tags": ["t"],
                "meta": {"validSince": null, "validUntil": "2030-01-01T00:00:00+00:00", "maxVisits": 100}, "forwardQuery": false}]}}"#,
            Flavor::Shlink,
        );
        let r = got[0].as_ref().unwrap();
        assert_eq!(r.clicks, Some(9));
        assert_eq!(r.max_clicks, Some(100));
        assert_eq!(r.expires_at.as_deref(), Some("2030-01-01T00:00:00+00:00"));
        assert_eq!(r.forward_query, Some(false));
    }

    #[test]
    fn the_completion_line_of_an_export_is_not_a_link() {
        let got = read(
            "{\"key\":\"abc\",\"target_url\":\"https://example.com/\",\"clicks\":3}\n{\"export\":\"complete\",\"links\":1,\"skipped\":0}\n",
            Flavor::Shortener,
        );
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn a_link_without_a_target_is_refused_with_the_reason() {
        let got = read(r#"[{"slug": "abc"}]"#, Flavor::Sink);
        assert!(got[0].as_ref().unwrap_err().reason.contains("no target"));
    }
}
