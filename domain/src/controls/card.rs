//! A link's own preview card: what a link-preview bot is shown instead of the
//! redirect; its type, stored form and request parsing.

use serde_json::{Map, Value};

use crate::request::{LinkRequestError, TargetPolicy};

use super::field::{clip, invalid, target, text, MAX_TITLE_CHARS};

/// A link's own preview card: the page a chat app's link-preview bot gets instead of
/// the redirect, so the card shows what the owner chose (and a protected link's card
/// shows nothing of its target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocialCard {
    pub title: Option<String>,
    pub description: Option<String>,
    /// An http(s) URL that obeys the target rules.
    pub image: Option<String>,
}

pub const MAX_CARD_DESCRIPTION_CHARS: usize = 500;

impl SocialCard {
    /// The card as the API shows it: the parts that are set.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        for (name, v) in [
            ("title", &self.title),
            ("description", &self.description),
            ("image", &self.image),
        ] {
            if let Some(v) = v {
                m.insert(name.into(), v.as_str().into());
            }
        }
        Value::Object(m)
    }
}

pub(super) fn social_card(
    v: &Value,
    policy: Option<&TargetPolicy>,
) -> Result<SocialCard, LinkRequestError> {
    let field = "social_card";
    let Value::Object(m) = v else {
        return Err(LinkRequestError::WrongType {
            field,
            expected: "an object {\"title\", \"description\", \"image\"} or null",
        });
    };
    if let Some(name) = m
        .keys()
        .find(|k| !matches!(k.as_str(), "title" | "description" | "image"))
    {
        return Err(invalid(
            field,
            format!(
                "has only 'title', 'description' and 'image', not '{}'",
                clip(name)
            ),
        ));
    }
    let opt = |name: &str| m.get(name).filter(|v| !v.is_null());
    let card = SocialCard {
        title: opt("title")
            .map(|v| text(v, "social_card.title", MAX_TITLE_CHARS, false))
            .transpose()?,
        description: opt("description")
            .map(|v| {
                text(
                    v,
                    "social_card.description",
                    MAX_CARD_DESCRIPTION_CHARS,
                    false,
                )
            })
            .transpose()?,
        image: opt("image")
            .map(|v| target(v, "social_card.image", policy))
            .transpose()?,
    };
    if card.title.is_none() && card.description.is_none() && card.image.is_none() {
        return Err(invalid(
            field,
            "needs at least one of title, description and image",
        ));
    }
    Ok(card)
}
