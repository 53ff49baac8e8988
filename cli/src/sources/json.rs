//! JSON sources: API answers saved to a file. A file may hold one answer, several
//! concatenated (one per page), JSON Lines, or a bare array; each top-level value is
//! read, its links taken from where the source's API puts them, and dropped before the
//! next value is read. The first value is checked against the source's shape before
//! any row is made, so a file of another format stops the run with what was expected
//! and what was found.
//!
//! The shapes, from each source's own definition:
//! - Bitly: `GET /v4/groups/{group_guid}/bitlinks` answers `{"links": [BitlinkBody],
//!   "pagination": {"total", "size", "page", "prev", "next"}}`; a `BitlinkBody` has
//!   `id` (`bit.ly/3xYzAbC`, domain and the random code), `link`, `long_url`, `title`,
//!   `tags`, `created_at` (`2006-03-12T16:29:46+0000`), `archived`, `deeplinks` and
//!   `custom_bitlinks` (full URLs of the custom back-halves:
//!   `https://chauncey.ly/documentation`). Bitly's OpenAPI document, schemas `Bitlinks`,
//!   `BitlinkUpdate`, `Pagination` (https://dev.bitly.com/api-reference, operation
//!   `getBitlinksByGroup`). Bitlinks carry no click count.
//! - Shlink: `GET /rest/v3/short-urls` answers `{"shortUrls": {"data": [ShortUrl],
//!   "pagination": {...}}}`; a `ShortUrl` has `shortCode` (which may hold `/`: Shlink
//!   allows multi-segment slugs), `shortUrl`, `longUrl`, `dateCreated`,
//!   `visitsSummary.total`, `tags`, `meta.validSince|validUntil|maxVisits`, `domain`
//!   (`null` for the default domain), `title`, `forwardQuery` (shlinkio/shlink
//!   `docs/swagger`, https://api-spec.shlink.io/).
//! - Kutt: `GET /api/v2/links` answers `{"total", "limit", "skip", "data": [link]}`, a
//!   link being the `links` row through `sanitize.link` (thedevs-network/kutt
//!   `server/handlers/links.handler.js`, `server/utils/utils.js`,
//!   `server/queries/link.queries.js`): `id` (the uuid), `address`, `domain` (the custom
//!   domain's host, or `null` for the default), `target`, `description`, `visit_count`,
//!   `created_at`, `expire_in`, `banned`, `password` (only `true`/`false`), `link`.
//! - Sink: the dashboard's export (`{"version", "exportedAt", "count", "links": [link],
//!   "cursor", "list_complete"}`) and `GET /api/link/list` (`{"links": [...], "cursor",
//!   "list_complete"}`); a link is ccbikai/Sink `schemas/link.ts`'s `LinkSchema`: `id`,
//!   `url`, `slug`, `comment`, `title`, `description`, `image`, `createdAt`,
//!   `updatedAt` and `expiration` in Unix seconds. `tags` (a list of strings) is read
//!   when present; the schema read (64dedd4) has none, so its shape is assumed.
//! - Dub: `GET /api/links` answers a bare array of `LinkSchema` objects (dubinc/dub
//!   `apps/web/lib/zod/schemas/links.ts`): `domain`, `key` (`_root` for a domain's own
//!   root), `url`, `title`, `description`, `tags` (`[{"id", "name", "color"}]`),
//!   `createdAt`, `clicks`, `expiresAt`, `disabledAt`, `archived`, `password`,
//!   `comments`, `shortLink`.
//! - This service's own `export links` (JSON Lines, ending with a completion line).

use std::io::Read;

use serde_json::{Map, Value};

use super::short_link::{unfit_key, ShortLink};
use super::tags;
use crate::date;
use crate::exit::Failure;
use crate::record::{Record, Refused, Row};

/// Whose JSON shape to expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Bitly,
    Shlink,
    Kutt,
    Sink,
    Dub,
    Shortener,
}

/// One link as read: the record (or why not), its source domain and notes.
struct Read1 {
    parsed: Result<Record, Refused>,
    domain: Option<String>,
    notes: Vec<String>,
}

impl Flavor {
    /// Where the source's list call puts its links, and the shape in words.
    fn envelope(self) -> (&'static str, &'static str) {
        match self {
            Flavor::Bitly => (
                "/links",
                "a page of Bitly's GET /v4/groups/{guid}/bitlinks ({\"links\": [{\"id\", \"long_url\", \"custom_bitlinks\", ...}], \"pagination\": {...}})",
            ),
            Flavor::Shlink => (
                "/shortUrls/data",
                "a page of Shlink's GET /rest/v3/short-urls ({\"shortUrls\": {\"data\": [{\"shortCode\", \"longUrl\", ...}]}})",
            ),
            Flavor::Kutt => (
                "/data",
                "a page of Kutt's GET /api/v2/links ({\"data\": [{\"address\", \"target\", ...}], \"total\", ...})",
            ),
            Flavor::Sink => (
                "/links",
                "Sink's export ({\"links\": [{\"slug\", \"url\", ...}], \"cursor\", ...})",
            ),
            Flavor::Dub => (
                "",
                "Dub's GET /api/links answer ([{\"domain\", \"key\", \"url\", ...}])",
            ),
            Flavor::Shortener => (
                "",
                "this service's export (JSON Lines of {\"key\", \"target_url\", ...})",
            ),
        }
    }

    /// True when a link object carries the fields that name this source's links.
    fn looks_like_link(self, o: &Map<String, Value>) -> bool {
        let has = |f: &str| o.contains_key(f);
        match self {
            Flavor::Bitly => has("long_url"),
            Flavor::Shlink => has("longUrl") || has("shortCode"),
            Flavor::Kutt => has("address") || has("target"),
            Flavor::Sink => has("slug"),
            Flavor::Dub => has("key") && has("url"),
            Flavor::Shortener => has("target_url") || has("export"),
        }
    }

    /// The links of one top-level value: the array the source's list call answers
    /// with, a bare array, or a single link object.
    fn links(self, value: Value) -> Vec<Value> {
        let (pointer, _) = self.envelope();
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

    /// Whether the first top-level value of the file is this source's shape: its links
    /// (or the value itself) must be objects with the source's own field names.
    fn check(self, first: &Value) -> Result<(), String> {
        let (pointer, _) = self.envelope();
        let sample = match first {
            Value::Array(items) => items.first(),
            Value::Object(_) if !pointer.is_empty() => match first.pointer(pointer) {
                Some(Value::Array(items)) => items.first(),
                _ => Some(first),
            },
            other => Some(other),
        };
        match sample {
            None => Ok(()),
            Some(Value::Object(o)) if self.looks_like_link(o) => Ok(()),
            Some(_) => Err(describe(first)),
        }
    }

    /// One link object as a record, or why it cannot be one; `None` for a line that
    /// is not a link (this service's export ends with a completion line).
    fn read(self, link: &Value) -> Option<Read1> {
        let Value::Object(o) = link else {
            return Some(Read1 {
                parsed: Err(Refused {
                    key: String::new(),
                    target_url: String::new(),
                    reason: "not a JSON object".into(),
                }),
                domain: None,
                notes: Vec::new(),
            });
        };
        if self == Flavor::Shortener && (o.contains_key("export") || o.contains_key("error")) {
            return None;
        }
        let mut notes = Vec::new();
        let (short, target) = match self {
            Flavor::Bitly => (bitly_key(o, &mut notes), text(o, "long_url")),
            Flavor::Shlink => (
                ShortLink {
                    domain: text(o, "domain")
                        .or_else(|| text(o, "shortUrl").and_then(|u| ShortLink::parse(&u).domain)),
                    key: text(o, "shortCode").unwrap_or_default(),
                },
                text(o, "longUrl"),
            ),
            Flavor::Kutt => (
                ShortLink {
                    domain: text(o, "domain")
                        .or_else(|| text(o, "link").and_then(|u| ShortLink::parse(&u).domain)),
                    key: text(o, "address").unwrap_or_default(),
                },
                text(o, "target"),
            ),
            Flavor::Sink => (
                ShortLink {
                    domain: None,
                    key: text(o, "slug").unwrap_or_default(),
                },
                text(o, "url"),
            ),
            Flavor::Dub => (
                ShortLink {
                    domain: text(o, "domain"),
                    key: text(o, "key").unwrap_or_default(),
                },
                text(o, "url"),
            ),
            Flavor::Shortener => (
                ShortLink {
                    // This service names its primary domain "default".
                    domain: text(o, "domain").filter(|d| d != "default"),
                    key: text(o, "key").unwrap_or_default(),
                },
                text(o, "target_url"),
            ),
        };
        let domain = short.domain.map(|d| d.to_ascii_lowercase());
        let parsed = fill(self, o, short.key, target.unwrap_or_default(), &mut notes);
        Some(Read1 {
            parsed,
            domain,
            notes,
        })
    }
}

/// A Bitly link's key as its owner knows it: the first custom back-half when it has
/// one (the random code then cannot come along: the import takes no aliases, so it is
/// named in a note), else the code of its `id`.
fn bitly_key(o: &Map<String, Value>, notes: &mut Vec<String>) -> ShortLink {
    let code = text(o, "id")
        .or_else(|| text(o, "link"))
        .map(|raw| ShortLink::parse(&raw));
    let customs: Vec<ShortLink> = strings(o.get("custom_bitlinks"))
        .iter()
        .map(|raw| ShortLink::parse(raw))
        .filter(|l| !l.key.is_empty())
        .collect();
    let Some((first, others)) = customs.split_first() else {
        return code.unwrap_or(ShortLink {
            domain: None,
            key: String::new(),
        });
    };
    if let Some(code) = code.filter(|c| c != first) {
        notes.push(format!(
            "Bitly code {}/{} not kept as an alias: the link is imported under its custom back-half, and this service's import takes no aliases",
            code.domain.as_deref().unwrap_or_default(),
            code.key
        ));
    }
    for other in others {
        notes.push(format!(
            "custom link {}/{} not kept: a link is imported under its first custom back-half",
            other.domain.as_deref().unwrap_or_default(),
            other.key
        ));
    }
    first.clone()
}

fn fill(
    flavor: Flavor,
    o: &Map<String, Value>,
    key: String,
    target_url: String,
    notes: &mut Vec<String>,
) -> Result<Record, Refused> {
    let refuse = |reason: String| Refused {
        key: key.clone(),
        target_url: target_url.clone(),
        reason,
    };
    if key.is_empty() {
        return Err(refuse("no key in this link".into()));
    }
    if let Some(why) = unfit_key(&key) {
        return Err(refuse(why));
    }
    if flavor == Flavor::Dub && key == "_root" {
        return Err(refuse(
            "Dub's '_root' link is its domain's own root, not a key; set the domain's root fallback instead (docs/teams.md)".into(),
        ));
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
    let mut raw_tags = strings(o.get("tags"));
    match flavor {
        Flavor::Bitly => {
            r.created_at = date("created_at")?;
            r.title = text(o, "title");
            // Bitlinks carry no click count; a file enriched with one is honoured.
            r.clicks = count(o.get("clicks")).or(count(o.get("total_clicks")));
            if o.get("deeplinks")
                .and_then(Value::as_array)
                .is_some_and(|d| !d.is_empty())
            {
                notes.push("Bitly deep links not kept: links here have one target".into());
            }
        }
        Flavor::Shlink => {
            r.created_at = date("dateCreated")?;
            r.title = text(o, "title");
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
                if let Some(since) = meta.get("validSince").and_then(Value::as_str) {
                    notes.push(format!(
                        "validSince {since} not kept: links here have no start date"
                    ));
                }
            }
            if let Some(Value::Object(devices)) = o.get("deviceLongUrls") {
                if devices.values().any(|v| !v.is_null()) {
                    notes.push("Shlink device long URLs not kept: set targeting rules after the import (docs/controls.md)".into());
                }
            }
        }
        Flavor::Kutt => {
            r.created_at = date("created_at")?;
            r.expires_at = date("expire_in")?;
            r.title = text(o, "description");
            r.clicks = count(o.get("visit_count"));
            if o.get("banned").and_then(Value::as_bool) == Some(true) {
                r.is_active = Some(false);
                notes.push("banned at Kutt: imported switched off".into());
            }
            if o.get("password").and_then(Value::as_bool) == Some(true) {
                notes.push("password not kept: Kutt's API says only that there is one; set it again after the import".into());
            }
        }
        Flavor::Sink => {
            // Sink stores dates as Unix seconds.
            r.created_at = date("createdAt")?;
            r.expires_at = date("expiration")?;
            r.title = text(o, "title").or_else(|| text(o, "comment"));
            if text(o, "title").is_some() && text(o, "comment").is_some() {
                notes.push("Sink comment not kept: the title is kept instead".into());
            }
            if text(o, "description").is_some() || text(o, "image").is_some() {
                notes.push("Sink link preview (description, image) not kept".into());
            }
        }
        Flavor::Dub => {
            r.created_at = date("createdAt")?;
            r.expires_at = date("expiresAt")?;
            r.title = text(o, "title");
            r.clicks = count(o.get("clicks"));
            if !matches!(o.get("disabledAt"), None | Some(Value::Null)) {
                r.is_active = Some(false);
            }
            raw_tags = match o.get("tags") {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|t| t.get("name").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect(),
                _ => Vec::new(),
            };
            if text(o, "password").is_some() {
                notes.push(
                    "password not kept: the import takes none; set it again after the import"
                        .into(),
                );
            }
            if text(o, "comments").is_some() {
                notes.push("Dub comments not kept".into());
            }
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
        }
    }
    let (kept, dropped) = tags::fit(raw_tags);
    r.tags = kept;
    notes.extend(dropped);
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

/// A JSON value in a few words, for "found ...": its kind, its first field names, and
/// the field names of the first object in its first list.
pub fn describe(v: &Value) -> String {
    let fields = |o: &Map<String, Value>| {
        let names: Vec<&str> = o.keys().take(6).map(String::as_str).collect();
        let more = if o.len() > 6 { ", ..." } else { "" };
        format!("{}{more}", names.join(", "))
    };
    match v {
        Value::Object(o) => {
            let inner = o.iter().find_map(|(name, v)| match v {
                Value::Array(items) => match items.first() {
                    Some(Value::Object(first)) => Some(format!(
                        "; its '{name}' lists objects with {}",
                        fields(first)
                    )),
                    _ => None,
                },
                Value::Object(nested) => Some(format!("; its '{name}' holds {}", fields(nested))),
                _ => None,
            });
            format!(
                "a JSON object with {}{}",
                fields(o),
                inner.unwrap_or_default()
            )
        }
        Value::Array(items) => match items.first() {
            Some(Value::Object(first)) => {
                format!("a JSON list of objects with {}", fields(first))
            }
            _ => "a JSON list".into(),
        },
        Value::String(_) => "a JSON string".into(),
        Value::Number(_) => "a JSON number".into(),
        Value::Bool(_) | Value::Null => "a JSON literal".into(),
    }
}

/// Rows of a JSON source, one top-level value in memory at a time; the first value is
/// read and checked here, so a file of another shape is refused before any row.
pub fn rows<R: Read + 'static>(
    reader: R,
    flavor: Flavor,
) -> Result<Box<dyn Iterator<Item = Result<Row, Failure>>>, Failure> {
    let mut values = serde_json::Deserializer::from_reader(reader).into_iter::<Value>();
    let (_, expected) = flavor.envelope();
    let first = match values.next() {
        None => {
            return Err(Failure::Input(format!(
                "expected {expected}; found an empty file"
            )))
        }
        Some(Err(e)) => {
            return Err(Failure::Input(format!(
                "expected {expected}; found text that is not JSON ({e})"
            )))
        }
        Some(Ok(v)) => v,
    };
    flavor
        .check(&first)
        .map_err(|found| Failure::Input(format!("expected {expected}; found {found}")))?;
    let mut number = 0_u64;
    Ok(Box::new(
        std::iter::once(Ok(first))
            .chain(values)
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
                Ok(link) => flavor.read(&link).map(|one| {
                    number += 1;
                    Ok(Row {
                        number,
                        parsed: one.parsed,
                        domain: one.domain,
                        notes: one.notes,
                    })
                }),
            }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, flavor: Flavor) -> Vec<Result<Record, Refused>> {
        rows(std::io::Cursor::new(text.to_string().into_bytes()), flavor)
            .unwrap()
            .map(|r| r.unwrap().parsed)
            .collect()
    }

    fn full(text: &str, flavor: Flavor) -> Vec<Row> {
        rows(std::io::Cursor::new(text.to_string().into_bytes()), flavor)
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    #[test]
    fn a_bitlink_is_imported_under_its_custom_back_half_and_its_code_is_named() {
        let got = full(
            r#"{"links": [{"id": "bit.ly/2xk7pqr", "link": "https://bit.ly/2xk7pqr",
                "custom_bitlinks": ["https://go.example.com/spring-sale", "https://go.example.com/sale"],
                "long_url": "https://example.com/", "tags": ["Summer Sale"], "created_at": "2020-01-01T00:00:00+0000"},
               {"id": "bit.ly/3abcdef", "long_url": "https://example.com/2", "custom_bitlinks": []}],
               "pagination": {"next": "", "page": 1, "size": 50, "total": 2, "prev": ""}}"#,
            Flavor::Bitly,
        );
        let first = got[0].parsed.as_ref().unwrap();
        assert_eq!(first.key, "spring-sale");
        assert_eq!(first.tags, vec!["summer-sale"]);
        assert_eq!(got[0].domain.as_deref(), Some("go.example.com"));
        assert!(got[0].notes[0].contains("bit.ly/2xk7pqr not kept as an alias"));
        assert!(got[0].notes[1].contains("go.example.com/sale not kept"));
        assert_eq!(got[1].parsed.as_ref().unwrap().key, "3abcdef");
        assert_eq!(got[1].domain.as_deref(), Some("bit.ly"));
        assert!(got[1].notes.is_empty());
    }

    #[test]
    fn a_multi_segment_short_code_is_refused_with_the_reason_not_shortened() {
        let got = read(
            r#"{"shortUrls": {"data": [{"shortCode": "events/2025", "longUrl": "https://example.com/"}]}}"#,
            Flavor::Shlink,
        );
        let refused = got[0].as_ref().unwrap_err();
        assert_eq!(refused.key, "events/2025");
        assert!(refused.reason.contains("several path segments"));
    }

    #[test]
    fn a_file_of_another_source_is_refused_with_what_was_expected_and_found() {
        let kutt = r#"{"total": 1, "limit": 10, "skip": 0, "data": [{"address": "abc", "target": "https://example.com/"}]}"#;
        let Err(Failure::Input(why)) = rows(
            std::io::Cursor::new(kutt.as_bytes().to_vec()),
            Flavor::Shlink,
        ) else {
            panic!("a Kutt page read as Shlink must be an input error");
        };
        assert!(why.starts_with("expected a page of Shlink's"), "{why}");
        assert!(why.contains("found a JSON object with data, limit, skip, total; its 'data' lists objects with address, target"), "{why}");
        assert!(rows(
            std::io::Cursor::new(b"keyword,url\n".to_vec()),
            Flavor::Kutt
        )
        .is_err());
        assert!(rows(std::io::Cursor::new(Vec::new()), Flavor::Sink).is_err());
    }

    #[test]
    fn dub_links_keep_domain_tags_clicks_and_a_disabled_link_comes_over_off() {
        let got = full(
            r#"[{"id": "link_1", "domain": "dub.sh", "key": "launch", "url": "https://example.com/", "title": "Launch",
                 "tags": [{"id": "t1", "name": "Product", "color": "blue"}], "createdAt": "2024-03-01T10:00:00.000Z",
                 "clicks": 12, "disabledAt": "2024-05-01T00:00:00.000Z", "archived": false},
                {"id": "link_2", "domain": "dub.sh", "key": "_root", "url": "https://example.com/"}]"#,
            Flavor::Dub,
        );
        let r = got[0].parsed.as_ref().unwrap();
        assert_eq!(
            (r.key.as_str(), r.clicks, r.is_active),
            ("launch", Some(12), Some(false))
        );
        assert_eq!(r.tags, vec!["product"]);
        assert_eq!(got[0].domain.as_deref(), Some("dub.sh"));
        assert!(got[1].parsed.as_ref().unwrap_err().reason.contains("_root"));
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
