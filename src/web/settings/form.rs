//! Reading back a settings form posted without the script: what it asks for, as the
//! JSON body of the owner's `PATCH`, and the API's errors put in the form's words. The
//! forms themselves are rendered in `render.rs`.

use serde_json::{Map, Value};

use super::render::{utc_minute, SETTINGS_FORM};
use crate::domain::link::Link;

/// What a form posted without the script may name in its `form` field, posted as
/// `application/x-www-form-urlencoded` to the page's own URL (see [`form_patch`]): the
/// one settings form, or one of its parts alone (the names of the forms the page had
/// before it had one Save, still read, so a page open in an old tab saves too).
pub const PLAIN_FORMS: [&str; 8] = [
    SETTINGS_FORM,
    "limits",
    "behaviour",
    "about",
    "password-form",
    "card-form",
    "utm-form",
    "rename",
];

/// Why a posted form was not read: the form, when it names a known one, and a sentence.
pub type FormRefused = (Option<&'static str>, String);

/// What a settings form that was posted without the script asks for, as the JSON body
/// of the owner's `PATCH`: only the fields whose value differs from what the page
/// showed (so saving one field of a link that has expired does not resend its past
/// expiry), an emptied field as `null`. Instants come as `datetime-local` values,
/// which without the script are shown and read in UTC. `Err` is a sentence for the
/// form named, when there is one.
pub fn form_patch(
    pairs: &[(String, String)],
    link: &Link,
) -> Result<(&'static str, Map<String, Value>), FormRefused> {
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim());
    let form = get("form")
        .and_then(|f| PLAIN_FORMS.into_iter().find(|p| *p == f))
        .ok_or((
            None,
            "This form cannot be saved without JavaScript.".to_string(),
        ))?;
    let mut patch = Map::new();
    // Sends `field` when the form's value differs from the one the page showed.
    let put = |patch: &mut Map<String, Value>,
               field: &str,
               shown: String,
               sent: Option<&str>,
               kind: Kind| {
        let sent = sent.unwrap_or("");
        if sent != shown {
            patch.insert(field.into(), kind.value(sent));
        }
    };
    let whole = form == SETTINGS_FORM;
    let parts: &[&str] = if whole {
        &PLAIN_FORMS[1..]
    } else {
        std::slice::from_ref(&form)
    };
    for part in parts {
        match *part {
            "limits" => {
                put(
                    &mut patch,
                    "valid_since",
                    utc_minute(link.controls.routing.valid_since),
                    get("valid_since"),
                    Kind::Instant,
                );
                put(
                    &mut patch,
                    "expires_at",
                    utc_minute(link.settings.expires_at),
                    get("expires_at"),
                    Kind::Instant,
                );
                put(
                    &mut patch,
                    "max_clicks",
                    link.settings
                        .max_clicks
                        .map_or(String::new(), |m| m.to_string()),
                    get("max_clicks"),
                    Kind::Int,
                );
            }
            "behaviour" => {
                let status = link
                    .settings
                    .redirect_status
                    .map_or(String::new(), |s| s.code().to_string());
                put(
                    &mut patch,
                    "redirect_status",
                    status,
                    get("redirect_status"),
                    Kind::Int,
                );
                let mode = link.settings.dead_link_mode.map_or("", |m| m.as_str());
                put(
                    &mut patch,
                    "dead_link_mode",
                    mode.to_string(),
                    get("dead_link_mode"),
                    Kind::Text,
                );
                let fallback = link
                    .controls
                    .routing
                    .fallback_url
                    .clone()
                    .unwrap_or_default();
                put(
                    &mut patch,
                    "fallback_url",
                    fallback,
                    get("fallback_url"),
                    Kind::Text,
                );
                // An unticked box is not sent at all.
                let forward = get("forward_query").is_some();
                let crawl = get("crawlable").is_some();
                if forward != link.settings.forward_query {
                    patch.insert("forward_query".into(), forward.into());
                }
                if crawl != link.controls.routing.crawlable {
                    patch.insert("crawlable".into(), crawl.into());
                }
            }
            "about" => {
                put(
                    &mut patch,
                    "title",
                    link.controls.title.clone().unwrap_or_default(),
                    get("title"),
                    Kind::Text,
                );
                put(
                    &mut patch,
                    "note",
                    link.controls.note.clone().unwrap_or_default(),
                    get("note"),
                    Kind::Text,
                );
                let tags: Vec<&str> = get("tags")
                    .unwrap_or("")
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .collect();
                if tags.join(", ") != link.controls.tags.join(", ") {
                    let value = if tags.is_empty() {
                        Value::Null
                    } else {
                        tags.into()
                    };
                    patch.insert("tags".into(), value);
                }
            }
            "password-form" => {
                if get("remove").is_some() {
                    patch.insert("password".into(), Value::Null);
                } else {
                    // A password is sent as typed: spaces are part of it.
                    let typed = pairs
                        .iter()
                        .find(|(k, _)| k == "password")
                        .map_or("", |(_, v)| v.as_str());
                    // In the whole form an empty password keeps the link's as it is.
                    if typed.is_empty() && !whole {
                        return Err((Some(form), "Enter the new password.".into()));
                    }
                    if !typed.is_empty() {
                        patch.insert("password".into(), typed.into());
                    }
                }
            }
            "card-form" => {
                let card = link.controls.routing.social_card.as_ref();
                let parts = [
                    ("title", card.and_then(|c| c.title.as_deref())),
                    ("description", card.and_then(|c| c.description.as_deref())),
                    ("image", card.and_then(|c| c.image.as_deref())),
                ];
                if let Some(value) = object_field(&parts, |name| get(&format!("card_{name}"))) {
                    patch.insert("social_card".into(), value);
                }
            }
            "utm-form" => {
                let utm = link.controls.routing.utm.as_ref();
                let parts = [
                    ("source", utm.and_then(|u| u.source.as_deref())),
                    ("medium", utm.and_then(|u| u.medium.as_deref())),
                    ("campaign", utm.and_then(|u| u.campaign.as_deref())),
                    ("term", utm.and_then(|u| u.term.as_deref())),
                    ("content", utm.and_then(|u| u.content.as_deref())),
                ];
                if let Some(value) = object_field(&parts, |name| get(&format!("utm_{name}"))) {
                    patch.insert("utm".into(), value);
                }
            }
            _ => put(
                &mut patch,
                "key",
                link.key.as_str().to_string(),
                get("key"),
                Kind::Text,
            ),
        }
    }
    Ok((form, patch))
}

/// An object field (a card, the UTM fields) from its form's inputs: `None` when no
/// input differs from what the page showed (`parts`: each name and its shown value),
/// else the filled inputs as an object, or `null` when all are empty.
fn object_field<'a>(
    parts: &[(&str, Option<&str>)],
    get: impl Fn(&str) -> Option<&'a str>,
) -> Option<Value> {
    let mut sent = Map::new();
    let mut changed = false;
    for (name, shown) in parts {
        let value = get(name).unwrap_or("");
        changed |= value != shown.unwrap_or("");
        if !value.is_empty() {
            sent.insert((*name).into(), value.into());
        }
    }
    changed.then(|| {
        if sent.is_empty() {
            Value::Null
        } else {
            Value::Object(sent)
        }
    })
}

/// How a form's text becomes the JSON the API takes; empty is always `null`.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    /// A whole number (the click limit, the status); anything else goes as text, for
    /// the API to refuse in its own words.
    Int,
    /// A `datetime-local` value, read as UTC.
    Instant,
}

impl Kind {
    fn value(self, sent: &str) -> Value {
        if sent.is_empty() {
            return Value::Null;
        }
        match self {
            Kind::Int => sent
                .parse::<i64>()
                .map_or_else(|_| sent.into(), Value::from),
            Kind::Instant => utc_input(sent).map_or_else(|| sent.into(), Value::from),
            Kind::Text => sent.into(),
        }
    }
}

/// A `datetime-local` value (`2030-01-31T12:00`, seconds optional) as RFC 3339 in UTC.
fn utc_input(sent: &str) -> Option<String> {
    let b = sent.as_bytes();
    let shaped = matches!(b.len(), 16 | 19)
        && b.get(4) == Some(&b'-')
        && b.get(10) == Some(&b'T')
        && b.get(13) == Some(&b':');
    shaped.then(|| {
        if b.len() == 16 {
            format!("{sent}:00Z")
        } else {
            format!("{sent}Z")
        }
    })
}

/// The API's field names as the forms call them, for an error shown without the script.
const LABELS: [(&str, &str); 13] = [
    ("social_card.image", "the card image URL"),
    ("social_card.title", "the card title"),
    ("social_card", "the social card"),
    ("valid_since", "the start"),
    ("expires_at", "the expiry"),
    ("max_clicks", "the click limit"),
    ("redirect_status", "the redirect status"),
    ("dead_link_mode", "the dead-target choice"),
    ("fallback_url", "the fallback URL"),
    ("password", "the password"),
    ("title", "the title"),
    ("tags", "the tags"),
    ("key", "the key"),
];

/// An API error in the form's words: `field 'max_clicks' must be …` as
/// `The click limit must be …` (what `/static/admin.js` does with the script).
pub fn in_form_words(detail: &str) -> String {
    let mut text = detail.to_string();
    for (field, words) in LABELS {
        text = text.replace(&format!("field '{field}'"), words);
    }
    let mut chars = text.chars();
    chars.next().map_or(String::new(), |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
