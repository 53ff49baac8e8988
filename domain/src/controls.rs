//! A link's optional controls: its title, tags and private note, and how it routes
//! (validity window, fallback, targeting rules, A/B split, crawlability). Parsed once
//! from a request body; the routing part travels in the cached redirect rule, so a
//! redirect reads nothing more than it does for a plain link.

use serde_json::{Map, Value};

use super::link_request::{Change, LinkRequestError, TargetPolicy};
use super::password::{parse_password, PasswordHash};
use super::timestamp::Timestamp;
use super::visit::Device;

/// At most this many tags per link (the issue's bound).
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

/// Everything optional about a link beyond its settings; stored as one flat JSON
/// object in `links.controls` (migration 0007), so SQL reaches each control by a
/// one-step path (`$.tags`, `$.crawlable`). An absent field is the plain behaviour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Controls {
    pub title: Option<String>,
    pub note: Option<String>,
    pub tags: Vec<String>,
    pub routing: Routing,
}

impl Controls {
    /// The stored form: one flat JSON object with only the controls that are set. Built
    /// as a `Value` (which the service already serializes) rather than derived, to keep
    /// the wasm small.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        if let Some(t) = &self.title {
            m.insert("title".into(), t.as_str().into());
        }
        if let Some(n) = &self.note {
            m.insert("note".into(), n.as_str().into());
        }
        if !self.tags.is_empty() {
            m.insert("tags".into(), self.tags.clone().into());
        }
        self.routing.write(&mut m);
        Value::Object(m)
    }

    /// The stored JSON text.
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    /// Reads the stored JSON text: the same fields a request sends, already checked, so
    /// targets are taken as stored (a target rule made stricter later must not make a
    /// stored link unreadable). Walked by hand from a `Value`, which request bodies
    /// already need: derived deserializers for these types cost the wasm about 15 KB.
    pub fn from_json(json: &str) -> Result<Controls, String> {
        let value: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let Value::Object(fields) = value else {
            return Err("controls are not a JSON object".into());
        };
        ControlsChange::parse(&fields, None)
            .map(ControlsChange::into_new)
            .map_err(|e| e.to_string())
    }
}

impl Routing {
    /// The routing alone in the stored form (what the cached rule carries).
    pub fn to_json(&self) -> String {
        let mut m = Map::new();
        self.write(&mut m);
        Value::Object(m).to_string()
    }

    fn write(&self, m: &mut Map<String, Value>) {
        if let Some(t) = self.valid_since {
            m.insert("valid_since".into(), t.to_rfc3339().into());
        }
        if let Some(f) = &self.fallback_url {
            m.insert("fallback_url".into(), f.as_str().into());
        }
        if self.crawlable {
            m.insert("crawlable".into(), true.into());
        }
        if let Some(h) = &self.password_hash {
            m.insert("password_hash".into(), h.as_str().into());
        }
        if let Some(card) = &self.social_card {
            m.insert("social_card".into(), card.to_value());
        }
        if let Some(rules) = self.rules_value() {
            m.insert("rules".into(), rules);
        }
        if let Some(split) = self.split_value() {
            m.insert("split".into(), split);
        }
    }

    /// The rules as the API shows them, if any.
    pub fn rules_value(&self) -> Option<Value> {
        (!self.rules.is_empty())
            .then(|| Value::Array(self.rules.iter().map(TargetingRule::to_value).collect()))
    }

    /// The split as the API shows it, if any.
    pub fn split_value(&self) -> Option<Value> {
        self.split.as_ref().map(Split::to_value)
    }

    /// Reads [`Routing::to_json`]'s text.
    pub fn from_json(json: &str) -> Result<Routing, String> {
        Controls::from_json(json).map(|c| c.routing)
    }
}

/// How a link routes beyond its one target: the part of [`Controls`] a redirect needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routing {
    /// Before this instant the link does not redirect yet.
    pub valid_since: Option<Timestamp>,
    /// Where an expired or exhausted link sends visitors instead of answering 410.
    pub fallback_url: Option<String>,
    /// The link's password, as stored (`PasswordHash::encode`), never the password.
    pub password_hash: Option<String>,
    /// What a link-preview bot is shown instead of the redirect.
    pub social_card: Option<SocialCard>,
    /// Search engines may index the redirect (no `X-Robots-Tag: noindex`).
    pub crawlable: bool,
    /// Tried in order; the first whose conditions all match chooses the target.
    pub rules: Vec<TargetingRule>,
    /// When no rule matched: one of 2 to 4 weighted targets, sticky per visitor.
    pub split: Option<Split>,
}

/// One targeting rule: conditions, all of which must hold, and the target they choose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetingRule {
    pub when: Conditions,
    pub target_url: String,
}

/// The conditions of a rule. A listed value matches when the visitor has any of them;
/// an absent condition always holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    pub device: Vec<DeviceClass>,
    pub os: Vec<Os>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Vec<String>,
    /// Language tags, lower case: `de` matches `de`, `de-AT`…; `pt-br` only `pt-BR`.
    pub language: Vec<String>,
    pub query: Option<QueryCondition>,
    /// Holds from this instant on.
    pub after: Option<Timestamp>,
    /// Holds until this instant (exclusive).
    pub before: Option<Timestamp>,
}

/// A query parameter that must be present, or present with this value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryCondition {
    pub name: String,
    pub value: Option<String>,
}

/// The device classes a rule can name (bots are never targeted: they get the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceClass {
    Desktop,
    Mobile,
    Tablet,
}

/// Operating systems a rule can name, judged from the User-Agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Ios,
    Android,
    Windows,
    Macos,
    Linux,
    Chromeos,
}

impl DeviceClass {
    fn as_str(self) -> &'static str {
        match self {
            DeviceClass::Desktop => "desktop",
            DeviceClass::Mobile => "mobile",
            DeviceClass::Tablet => "tablet",
        }
    }

    fn parse(raw: &str) -> Option<DeviceClass> {
        match raw.to_ascii_lowercase().as_str() {
            "desktop" => Some(DeviceClass::Desktop),
            "mobile" => Some(DeviceClass::Mobile),
            "tablet" => Some(DeviceClass::Tablet),
            _ => None,
        }
    }
}

impl Os {
    fn as_str(self) -> &'static str {
        match self {
            Os::Ios => "ios",
            Os::Android => "android",
            Os::Windows => "windows",
            Os::Macos => "macos",
            Os::Linux => "linux",
            Os::Chromeos => "chromeos",
        }
    }

    fn parse(raw: &str) -> Option<Os> {
        match raw.to_ascii_lowercase().as_str() {
            "ios" => Some(Os::Ios),
            "android" => Some(Os::Android),
            "windows" => Some(Os::Windows),
            "macos" => Some(Os::Macos),
            "linux" => Some(Os::Linux),
            "chromeos" => Some(Os::Chromeos),
            _ => None,
        }
    }

    /// The system a User-Agent claims. iOS before macOS (iPads may say "Mac OS X"),
    /// Android before Linux (Android says "Linux").
    pub fn of(user_agent: &str) -> Option<Os> {
        let ua = user_agent.to_ascii_lowercase();
        if ua.contains("iphone") || ua.contains("ipad") || ua.contains("ipod") {
            Some(Os::Ios)
        } else if ua.contains("android") {
            Some(Os::Android)
        } else if ua.contains("cros") {
            Some(Os::Chromeos)
        } else if ua.contains("windows") {
            Some(Os::Windows)
        } else if ua.contains("mac os x") || ua.contains("macintosh") {
            Some(Os::Macos)
        } else if ua.contains("linux") || ua.contains("x11") {
            Some(Os::Linux)
        } else {
            None
        }
    }
}

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
    fn to_value(&self) -> Value {
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

fn social_card(v: &Value, policy: Option<&TargetPolicy>) -> Result<SocialCard, LinkRequestError> {
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

/// An A/B split: weighted targets, and how long a visitor keeps the one drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub variants: Vec<Variant>,
    pub sticky_seconds: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub target_url: String,
    pub weight: u32,
}

/// What a visitor brings that rules can test; read from the request only for links
/// that have rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct Visitor<'a> {
    pub user_agent: Option<&'a str>,
    pub country: Option<&'a str>,
    pub accept_language: Option<&'a str>,
    /// The raw query string, without `?`.
    pub query: &'a str,
}

/// Which part of a link chose the target: recorded with the click for the statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Default,
    /// The rule at this position (0-based).
    Rule(usize),
    /// The variant at this position (0-based).
    Variant(usize),
}

impl Via {
    /// The name statistics show: `default`, `rule-1`, `variant-2` (1-based, as people
    /// count the entries they wrote).
    pub fn label(self) -> String {
        match self {
            Via::Default => "default".into(),
            Via::Rule(i) => format!("rule-{}", i + 1),
            Via::Variant(i) => format!("variant-{}", i + 1),
        }
    }
}

impl Conditions {
    fn holds(&self, visitor: &Visitor, now: Timestamp) -> bool {
        if self.after.is_some_and(|t| now < t) || self.before.is_some_and(|t| now >= t) {
            return false;
        }
        if !self.country.is_empty() {
            let country = visitor.country.unwrap_or_default();
            if !self.country.iter().any(|c| c.eq_ignore_ascii_case(country)) {
                return false;
            }
        }
        let ua = visitor.user_agent.unwrap_or_default();
        if !self.device.is_empty() {
            let class = match Device::from_user_agent(ua) {
                Device::Desktop => Some(DeviceClass::Desktop),
                Device::Mobile => Some(DeviceClass::Mobile),
                Device::Tablet => Some(DeviceClass::Tablet),
                Device::Bot | Device::Other => None,
            };
            if !class.is_some_and(|c| self.device.contains(&c)) {
                return false;
            }
        }
        if !self.os.is_empty() && !Os::of(ua).is_some_and(|os| self.os.contains(&os)) {
            return false;
        }
        if !self.language.is_empty()
            && !accepted_languages(visitor.accept_language.unwrap_or_default()).any(|tag| {
                self.language
                    .iter()
                    .any(|want| language_matches(want, &tag))
            })
        {
            return false;
        }
        if let Some(q) = &self.query {
            let found = url::form_urlencoded::parse(visitor.query.as_bytes()).any(|(k, v)| {
                k == q.name.as_str() && q.value.as_deref().is_none_or(|want| v == want)
            });
            if !found {
                return false;
            }
        }
        true
    }
}

/// The language tags of an `Accept-Language` header, lower case, except those the
/// visitor refused with `q=0`.
fn accepted_languages(header: &str) -> impl Iterator<Item = String> + '_ {
    header.split(',').filter_map(|part| {
        let mut pieces = part.split(';');
        let tag = pieces.next()?.trim().to_ascii_lowercase();
        // q=0, q=0.0, q=0.000: refused. Compared as text: parsing a float would
        // bring core's float parser into the wasm for this one test.
        let refused = pieces.any(|p| {
            p.trim().strip_prefix("q=").is_some_and(|q| {
                let q = q.trim();
                let (int, frac) = q.split_once('.').unwrap_or((q, ""));
                int == "0" && frac.bytes().all(|b| b == b'0')
            })
        });
        (!tag.is_empty() && tag != "*" && !refused).then_some(tag)
    })
}

/// `de` matches `de` and `de-at`; `de-at` matches only `de-at`.
fn language_matches(want: &str, tag: &str) -> bool {
    tag == want
        || (tag.len() > want.len()
            && tag.starts_with(want)
            && tag.as_bytes().get(want.len()) == Some(&b'-'))
}

impl Routing {
    /// True when the link routes like a plain link: nothing to cache beyond the target.
    pub fn is_plain(&self) -> bool {
        *self == Routing::default()
    }

    /// The target for this visitor: the first rule whose conditions all hold, else a
    /// split variant (the visitor's sticky one if still valid, else drawn by `roll`,
    /// any number), else `default`.
    pub fn choose<'a>(
        &'a self,
        default: &'a str,
        visitor: &Visitor,
        now: Timestamp,
        sticky: Option<usize>,
        roll: u32,
    ) -> (&'a str, Via) {
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.when.holds(visitor, now) {
                return (&rule.target_url, Via::Rule(i));
            }
        }
        if let Some(split) = &self.split {
            let index = sticky
                .filter(|i| *i < split.variants.len())
                .unwrap_or_else(|| split.draw(roll));
            if let Some(v) = split.variants.get(index) {
                return (&v.target_url, Via::Variant(index));
            }
        }
        (default, Via::Default)
    }
}

impl TargetingRule {
    fn to_value(&self) -> Value {
        let c = &self.when;
        let mut m = Map::new();
        let list = |items: Vec<&str>| Value::Array(items.into_iter().map(Value::from).collect());
        if !c.device.is_empty() {
            m.insert(
                "device".into(),
                list(c.device.iter().map(|d| d.as_str()).collect()),
            );
        }
        if !c.os.is_empty() {
            m.insert("os".into(), list(c.os.iter().map(|o| o.as_str()).collect()));
        }
        if !c.country.is_empty() {
            m.insert(
                "country".into(),
                list(c.country.iter().map(String::as_str).collect()),
            );
        }
        if !c.language.is_empty() {
            m.insert(
                "language".into(),
                list(c.language.iter().map(String::as_str).collect()),
            );
        }
        if let Some(q) = &c.query {
            let mut qm = Map::new();
            qm.insert("name".into(), q.name.as_str().into());
            if let Some(v) = &q.value {
                qm.insert("value".into(), v.as_str().into());
            }
            m.insert("query".into(), Value::Object(qm));
        }
        if let Some(t) = c.after {
            m.insert("after".into(), t.to_rfc3339().into());
        }
        if let Some(t) = c.before {
            m.insert("before".into(), t.to_rfc3339().into());
        }
        let mut rule = Map::new();
        rule.insert("when".into(), Value::Object(m));
        rule.insert("target_url".into(), self.target_url.as_str().into());
        Value::Object(rule)
    }
}

impl Split {
    fn to_value(&self) -> Value {
        let variants = self
            .variants
            .iter()
            .map(|v| {
                let mut m = Map::new();
                m.insert("target_url".into(), v.target_url.as_str().into());
                m.insert("weight".into(), v.weight.into());
                Value::Object(m)
            })
            .collect();
        let mut m = Map::new();
        m.insert("variants".into(), Value::Array(variants));
        m.insert("sticky_seconds".into(), self.sticky_seconds.into());
        Value::Object(m)
    }

    /// The variant `roll` lands on, each in proportion to its weight. The sum is at most
    /// 4,000, so the modulo bias over a u32 is below one in a million.
    pub fn draw(&self, roll: u32) -> usize {
        let total: u32 = self.variants.iter().map(|v| v.weight).sum();
        if total == 0 {
            return 0;
        }
        let mut point = roll % total;
        for (i, v) in self.variants.iter().enumerate() {
            if point < v.weight {
                return i;
            }
            point -= v.weight;
        }
        0
    }
}

/// Normalizes one tag: trimmed, lower case, inner spaces as `-`; 1 to
/// [`MAX_TAG_CHARS`] of `a-z 0-9 - _ .`.
pub fn normalize_tag(raw: &str) -> Result<String, String> {
    let tag: String = raw
        .trim()
        .to_ascii_lowercase()
        .split_ascii_whitespace()
        .collect::<Vec<_>>()
        .join("-");
    if tag.is_empty() || tag.chars().count() > MAX_TAG_CHARS {
        return Err(format!(
            "tag '{}' must be 1 to {MAX_TAG_CHARS} characters",
            clip(raw)
        ));
    }
    if !tag
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "tag '{}' may hold only letters a-z, digits, '-', '_' and '.'",
            clip(raw)
        ));
    }
    Ok(tag)
}

fn clip(raw: &str) -> String {
    raw.chars().take(64).collect()
}

/// Parses `tags`: a list of at most [`MAX_TAGS`] strings, normalized, duplicates
/// dropped, order kept. Shared by creation, `PATCH`, bulk and the operator import.
pub fn parse_tags(value: &Value) -> Result<Vec<String>, LinkRequestError> {
    let field = "tags";
    let items = value.as_array().ok_or(LinkRequestError::WrongType {
        field,
        expected: "a list of strings",
    })?;
    let mut tags: Vec<String> = Vec::new();
    for item in items {
        let raw = item.as_str().ok_or(LinkRequestError::WrongType {
            field,
            expected: "a list of strings",
        })?;
        let tag = normalize_tag(raw).map_err(|why| LinkRequestError::Invalid { field, why })?;
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(LinkRequestError::Invalid {
            field,
            why: format!("may hold at most {MAX_TAGS} tags, got {}", tags.len()),
        });
    }
    Ok(tags)
}

/// Parses `title` (1 to [`MAX_TITLE_CHARS`] characters, trimmed, one line). Shared by
/// creation, `PATCH`, bulk and the operator import.
pub fn parse_title(value: &Value) -> Result<String, LinkRequestError> {
    text(value, "title", MAX_TITLE_CHARS, false)
}

fn text(
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

/// The request fields that set controls, as JSON names.
pub const FIELDS: &[&str] = &[
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
];

/// A change to the controls, field by field, as a `PATCH` (or a creation) asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControlsChange {
    pub title: Change<String>,
    pub note: Change<String>,
    pub tags: Change<Vec<String>>,
    pub valid_since: Change<Timestamp>,
    pub fallback_url: Change<String>,
    pub crawlable: Change<bool>,
    pub rules: Change<Vec<TargetingRule>>,
    pub split: Change<Split>,
    /// The password a request sets, in clear: never stored. The handler derives its
    /// hash ([`ControlsChange::password_hash`]) before anything is written.
    pub password: Change<String>,
    /// The stored form of the password: read from storage, or set by the handler.
    pub password_hash: Change<String>,
    pub social_card: Change<SocialCard>,
}

impl ControlsChange {
    /// Reads the control fields of a request body (other fields are not looked at).
    /// Every target obeys the same rules as the link's own target.
    pub fn from_fields(
        fields: &Map<String, Value>,
        policy: &TargetPolicy,
    ) -> Result<ControlsChange, LinkRequestError> {
        ControlsChange::parse(fields, Some(policy))
    }

    /// `policy: None`: stored values, whose targets were checked when they were set.
    fn parse(
        fields: &Map<String, Value>,
        policy: Option<&TargetPolicy>,
    ) -> Result<ControlsChange, LinkRequestError> {
        let get = |name: &'static str| -> Change<&Value> {
            match fields.get(name) {
                None => Change::Keep,
                Some(Value::Null) => Change::Clear,
                Some(v) => Change::Set(v),
            }
        };
        Ok(ControlsChange {
            title: get("title").try_map(parse_title)?,
            note: get("note").try_map(|v| text(v, "note", MAX_NOTE_CHARS, true))?,
            tags: get("tags").try_map(parse_tags)?,
            valid_since: get("valid_since").try_map(|v| instant(v, "valid_since"))?,
            fallback_url: get("fallback_url").try_map(|v| target(v, "fallback_url", policy))?,
            crawlable: get("crawlable").try_map(|v| {
                v.as_bool().ok_or(LinkRequestError::WrongType {
                    field: "crawlable",
                    expected: "true or false",
                })
            })?,
            rules: get("rules").try_map(|v| rules(v, policy))?,
            split: get("split").try_map(|v| split(v, policy))?,
            social_card: get("social_card").try_map(|v| social_card(v, policy))?,
            // A request sets a password; storage holds only its hash.
            password: match policy {
                Some(_) => get("password").try_map(parse_password)?,
                None => Change::Keep,
            },
            password_hash: match policy {
                Some(_) => Change::Keep,
                None => get("password_hash").try_map(|v| {
                    v.as_str()
                        .filter(|h| PasswordHash::parse(h).is_some())
                        .map(str::to_string)
                        .ok_or_else(|| invalid("password_hash", "is not a stored password"))
                })?,
            },
        })
    }

    /// True when the change names no control at all.
    pub fn is_empty(&self) -> bool {
        *self == ControlsChange::default()
    }

    /// The controls of a new link.
    pub fn into_new(self) -> Controls {
        let mut controls = Controls::default();
        self.apply(&mut controls);
        controls
    }

    /// Applies this change to `controls`.
    pub fn apply(self, c: &mut Controls) {
        fn put<T>(slot: &mut Option<T>, change: Change<T>) {
            match change {
                Change::Keep => {}
                Change::Clear => *slot = None,
                Change::Set(v) => *slot = Some(v),
            }
        }
        put(&mut c.title, self.title);
        put(&mut c.note, self.note);
        put(&mut c.routing.valid_since, self.valid_since);
        put(&mut c.routing.fallback_url, self.fallback_url);
        put(&mut c.routing.split, self.split);
        put(&mut c.routing.password_hash, self.password_hash);
        put(&mut c.routing.social_card, self.social_card);
        match self.tags {
            Change::Keep => {}
            Change::Clear => c.tags.clear(),
            Change::Set(tags) => c.tags = tags,
        }
        match self.rules {
            Change::Keep => {}
            Change::Clear => c.routing.rules.clear(),
            Change::Set(rules) => c.routing.rules = rules,
        }
        match self.crawlable {
            Change::Keep => {}
            Change::Clear => c.routing.crawlable = false,
            Change::Set(b) => c.routing.crawlable = b,
        }
    }

    /// Each changed control as (JSON path, new JSON value or `None` to remove), for an
    /// update that changes only these paths of the stored object, atomically in SQL.
    pub fn json_paths(&self) -> Vec<(&'static str, Option<String>)> {
        fn one<T>(
            out: &mut Vec<(&'static str, Option<String>)>,
            path: &'static str,
            change: &Change<T>,
            value: impl Fn(&T) -> Option<Value>,
        ) {
            match change {
                Change::Keep => {}
                Change::Clear => out.push((path, None)),
                // An empty list or `false` is stored as no field at all.
                Change::Set(v) => out.push((path, value(v).map(|v| v.to_string()))),
            }
        }
        let text = |s: &String| Some(Value::from(s.as_str()));
        let mut out = Vec::new();
        one(&mut out, "$.title", &self.title, text);
        one(&mut out, "$.note", &self.note, text);
        one(&mut out, "$.tags", &self.tags, |t| {
            (!t.is_empty()).then(|| t.clone().into())
        });
        one(&mut out, "$.valid_since", &self.valid_since, |t| {
            Some(t.to_rfc3339().into())
        });
        one(&mut out, "$.fallback_url", &self.fallback_url, text);
        one(&mut out, "$.crawlable", &self.crawlable, |b| {
            b.then_some(Value::Bool(true))
        });
        one(&mut out, "$.rules", &self.rules, |r| {
            (!r.is_empty()).then(|| Value::Array(r.iter().map(TargetingRule::to_value).collect()))
        });
        one(&mut out, "$.split", &self.split, |s| Some(s.to_value()));
        one(&mut out, "$.password_hash", &self.password_hash, text);
        one(&mut out, "$.social_card", &self.social_card, |c| {
            Some(c.to_value())
        });
        out
    }
}

impl<T> Change<T> {
    fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Change<U>, E> {
        Ok(match self {
            Change::Keep => Change::Keep,
            Change::Clear => Change::Clear,
            Change::Set(v) => Change::Set(f(v)?),
        })
    }
}

fn invalid(field: &'static str, why: impl Into<String>) -> LinkRequestError {
    LinkRequestError::Invalid {
        field,
        why: why.into(),
    }
}

fn instant(v: &Value, field: &'static str) -> Result<Timestamp, LinkRequestError> {
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

fn target(
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

fn strings(v: &Value, field: &'static str) -> Result<Vec<String>, LinkRequestError> {
    let list = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or(LinkRequestError::WrongType {
                field,
                expected: "a string or a list of strings",
            })?,
        _ => {
            return Err(LinkRequestError::WrongType {
                field,
                expected: "a string or a list of strings",
            })
        }
    };
    if list.is_empty() || list.len() > MAX_VALUES {
        return Err(invalid(
            field,
            format!("must list 1 to {MAX_VALUES} values"),
        ));
    }
    Ok(list)
}

const CONDITION_FIELDS: &str = "device, os, country, language, query, after, before";

fn conditions(v: &Value) -> Result<Conditions, LinkRequestError> {
    let field = "rules";
    let Value::Object(map) = v else {
        return Err(LinkRequestError::WrongType {
            field: "rules[].when",
            expected: "an object of conditions",
        });
    };
    let mut c = Conditions::default();
    for (name, value) in map {
        match name.as_str() {
            "device" => {
                c.device = strings(value, "rules[].when.device")?
                    .iter()
                    .map(|d| {
                        DeviceClass::parse(d).ok_or_else(|| {
                            invalid(
                                field,
                                format!("device '{}' is not desktop, mobile or tablet", clip(d)),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?
            }
            "os" => {
                c.os = strings(value, "rules[].when.os")?
                    .iter()
                    .map(|d| {
                        Os::parse(d).ok_or_else(|| {
                            invalid(
                                field,
                                format!(
                                "os '{}' is not ios, android, windows, macos, linux or chromeos",
                                clip(d)
                            ),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?
            }
            "country" => {
                c.country = strings(value, "rules[].when.country")?
                    .iter()
                    .map(|cc| {
                        let up = cc.trim().to_ascii_uppercase();
                        if up.len() == 2 && up.bytes().all(|b| b.is_ascii_uppercase()) {
                            Ok(up)
                        } else {
                            Err(invalid(
                                field,
                                format!("country '{}' is not a two-letter code", clip(cc)),
                            ))
                        }
                    })
                    .collect::<Result<_, _>>()?
            }
            "language" => {
                c.language = strings(value, "rules[].when.language")?
                    .iter()
                    .map(|l| {
                        let low = l.trim().to_ascii_lowercase();
                        let ok = !low.is_empty()
                            && low.len() <= 35
                            && low.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
                        if ok {
                            Ok(low)
                        } else {
                            Err(invalid(
                                field,
                                format!("language '{}' is not a language tag", clip(l)),
                            ))
                        }
                    })
                    .collect::<Result<_, _>>()?
            }
            "query" => {
                let shape = LinkRequestError::WrongType {
                    field: "rules[].when.query",
                    expected: "an object {\"name\": string, \"value\": string (optional)}",
                };
                let Value::Object(m) = value else {
                    return Err(shape);
                };
                let name = m.get("name").and_then(Value::as_str).ok_or(shape.clone())?;
                let value = match m.get("value") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(v)) => Some(v.clone()),
                    Some(_) => return Err(shape),
                };
                if m.keys().any(|k| k != "name" && k != "value") {
                    return Err(shape);
                }
                let q = QueryCondition {
                    name: name.to_string(),
                    value,
                };
                if q.name.is_empty()
                    || q.name.len() > 100
                    || q.value.as_ref().is_some_and(|v| v.len() > 500)
                {
                    return Err(invalid(
                        field,
                        "query name must be 1 to 100 bytes, value at most 500",
                    ));
                }
                c.query = Some(q);
            }
            "after" => c.after = Some(instant(value, "rules[].when.after")?),
            "before" => c.before = Some(instant(value, "rules[].when.before")?),
            other => {
                return Err(invalid(
                    field,
                    format!(
                        "condition '{}' is unknown; conditions are {CONDITION_FIELDS}",
                        clip(other)
                    ),
                ))
            }
        }
    }
    if c == Conditions::default() {
        return Err(invalid(
            field,
            "each rule needs at least one condition in 'when'",
        ));
    }
    Ok(c)
}

fn rules(v: &Value, policy: Option<&TargetPolicy>) -> Result<Vec<TargetingRule>, LinkRequestError> {
    let field = "rules";
    let items = v.as_array().ok_or(LinkRequestError::WrongType {
        field,
        expected: "a list of {\"when\": {...}, \"target_url\": \"...\"}",
    })?;
    if items.len() > MAX_RULES {
        return Err(invalid(
            field,
            format!("may hold at most {MAX_RULES} rules, got {}", items.len()),
        ));
    }
    items
        .iter()
        .map(|item| {
            let Value::Object(map) = item else {
                return Err(LinkRequestError::WrongType {
                    field,
                    expected: "a list of {\"when\": {...}, \"target_url\": \"...\"}",
                });
            };
            if let Some(name) = map
                .keys()
                .find(|k| !matches!(k.as_str(), "when" | "target_url"))
            {
                return Err(invalid(
                    field,
                    format!(
                        "a rule has only 'when' and 'target_url', not '{}'",
                        clip(name)
                    ),
                ));
            }
            let when = conditions(map.get("when").unwrap_or(&Value::Null))?;
            let target_url = target(
                map.get("target_url").unwrap_or(&Value::Null),
                "rules[].target_url",
                policy,
            )?;
            Ok(TargetingRule { when, target_url })
        })
        .collect()
}

fn split(v: &Value, policy: Option<&TargetPolicy>) -> Result<Split, LinkRequestError> {
    let field = "split";
    let shape = LinkRequestError::WrongType {
        field,
        expected:
            "an object {\"variants\": [{\"target_url\", \"weight\"}, ...], \"sticky_seconds\"}",
    };
    let Value::Object(map) = v else {
        return Err(shape);
    };
    if let Some(name) = map
        .keys()
        .find(|k| !matches!(k.as_str(), "variants" | "sticky_seconds"))
    {
        return Err(invalid(
            field,
            format!(
                "has only 'variants' and 'sticky_seconds', not '{}'",
                clip(name)
            ),
        ));
    }
    let items = map
        .get("variants")
        .and_then(Value::as_array)
        .ok_or(shape.clone())?;
    if !(MIN_VARIANTS..=MAX_VARIANTS).contains(&items.len()) {
        return Err(invalid(
            field,
            format!(
                "needs {MIN_VARIANTS} to {MAX_VARIANTS} variants, got {}",
                items.len()
            ),
        ));
    }
    let variants = items
        .iter()
        .map(|item| {
            let Value::Object(m) = item else {
                return Err(shape.clone());
            };
            let target_url = target(
                m.get("target_url").unwrap_or(&Value::Null),
                "split.variants[].target_url",
                policy,
            )?;
            let weight = m
                .get("weight")
                .and_then(Value::as_u64)
                .filter(|w| (1..=u64::from(MAX_WEIGHT)).contains(w))
                .ok_or_else(|| {
                    invalid(
                        field,
                        format!("each variant needs a weight from 1 to {MAX_WEIGHT}"),
                    )
                })?;
            Ok(Variant {
                target_url,
                weight: weight as u32,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let sticky_seconds = match map.get("sticky_seconds") {
        None | Some(Value::Null) => DEFAULT_STICKY_SECONDS,
        Some(s) => s
            .as_u64()
            .filter(|s| (1..=u64::from(MAX_STICKY_SECONDS)).contains(s))
            .ok_or_else(|| {
                invalid(
                    field,
                    format!("sticky_seconds must be from 1 to {MAX_STICKY_SECONDS}"),
                )
            })? as u32,
    };
    Ok(Split {
        variants,
        sticky_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: TargetPolicy = TargetPolicy {
        own_hosts: &["sho.rt"],
        blocked_hosts: &[],
        to_ascii: crate::link_request::ascii_only,
    };
    const NOW: Timestamp = Timestamp::from_millis(1_795_290_489_000);

    fn change(body: &str) -> Result<ControlsChange, LinkRequestError> {
        let Value::Object(fields) = serde_json::from_str(body).unwrap() else {
            panic!("not an object")
        };
        ControlsChange::from_fields(&fields, &POLICY)
    }

    fn routing(body: &str) -> Routing {
        change(body).unwrap().into_new().routing
    }

    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148";
    const WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0";

    #[test]
    fn tags_are_normalized_deduplicated_and_bounded() {
        let tags = parse_tags(&serde_json::json!([
            " Spring Sale ",
            "spring-sale",
            "A.b_c"
        ]))
        .unwrap();
        assert_eq!(tags, vec!["spring-sale", "a.b_c"]);
        assert!(parse_tags(&serde_json::json!(["ok", ""])).is_err());
        assert!(parse_tags(&serde_json::json!(["no/slash"])).is_err());
        assert!(parse_tags(&serde_json::json!(["x".repeat(33)])).is_err());
        let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        assert!(parse_tags(&serde_json::json!(eleven)).is_err());
        assert!(parse_tags(&serde_json::json!("one")).is_err());
    }

    #[test]
    fn a_title_is_trimmed_one_line_and_bounded() {
        assert_eq!(
            parse_title(&serde_json::json!("  Hello ")).unwrap(),
            "Hello"
        );
        assert!(parse_title(&serde_json::json!("a\nb")).is_err());
        assert!(parse_title(&serde_json::json!("x".repeat(201))).is_err());
        assert!(parse_title(&serde_json::json!("   ")).is_err());
    }

    #[test]
    fn the_first_rule_whose_conditions_all_hold_wins_else_the_default() {
        let r = routing(
            r#"{"rules": [
                {"when": {"os": "ios", "country": "DE"}, "target_url": "https://a.example/ios-de"},
                {"when": {"device": "mobile"}, "target_url": "https://a.example/mobile"},
                {"when": {"language": "fr"}, "target_url": "https://a.example/fr"},
                {"when": {"query": {"name": "ref", "value": "tw"}}, "target_url": "https://a.example/tw"}
            ]}"#,
        );
        let pick = |ua: Option<&'static str>,
                    cc: Option<&'static str>,
                    lang: Option<&'static str>,
                    q: &'static str| {
            let v = Visitor {
                user_agent: ua,
                country: cc,
                accept_language: lang,
                query: q,
            };
            let (target, via) = r.choose("https://a.example/default", &v, NOW, None, 0);
            (target.to_string(), via)
        };
        assert_eq!(pick(Some(IPHONE), Some("DE"), None, "").1, Via::Rule(0));
        assert_eq!(pick(Some(IPHONE), Some("US"), None, "").1, Via::Rule(1));
        assert_eq!(
            pick(Some(WINDOWS), None, Some("fr-CA;q=0.8, en"), "").1,
            Via::Rule(2)
        );
        assert_eq!(
            pick(Some(WINDOWS), None, Some("fr;q=0, en"), "").1,
            Via::Default
        );
        assert_eq!(
            pick(Some(WINDOWS), None, None, "a=1&ref=tw").1,
            Via::Rule(3)
        );
        assert_eq!(pick(Some(WINDOWS), None, None, "ref=fb").1, Via::Default);
        assert_eq!(pick(None, None, None, "").0, "https://a.example/default");
    }

    #[test]
    fn date_conditions_bound_a_rule_in_time() {
        let r = routing(
            r#"{"rules": [{"when": {"after": "2026-01-01T00:00:00Z", "before": "2026-02-01T00:00:00Z"}, "target_url": "https://a.example/jan"}]}"#,
        );
        let v = Visitor::default();
        let at = |s: &str| Timestamp::parse_rfc3339(s).unwrap();
        assert_eq!(
            r.choose(
                "https://d.example/",
                &v,
                at("2026-01-15T00:00:00Z"),
                None,
                0
            )
            .1,
            Via::Rule(0)
        );
        assert_eq!(
            r.choose(
                "https://d.example/",
                &v,
                at("2026-02-01T00:00:00Z"),
                None,
                0
            )
            .1,
            Via::Default
        );
        assert_eq!(
            r.choose(
                "https://d.example/",
                &v,
                at("2025-12-31T23:59:59Z"),
                None,
                0
            )
            .1,
            Via::Default
        );
    }

    #[test]
    fn a_split_draws_in_proportion_to_its_weights_and_keeps_a_sticky_choice() {
        let r = routing(
            r#"{"split": {"variants": [{"target_url": "https://a.example/a", "weight": 70}, {"target_url": "https://a.example/b", "weight": 30}]}}"#,
        );
        let split = r.split.as_ref().unwrap();
        assert_eq!(split.sticky_seconds, DEFAULT_STICKY_SECONDS);
        let mut counts = [0u32; 2];
        for roll in 0..10_000u32 {
            counts[split.draw(roll)] += 1;
        }
        assert_eq!(counts, [7_000, 3_000]);
        let v = Visitor::default();
        assert_eq!(
            r.choose("https://d.example/", &v, NOW, Some(1), 0).1,
            Via::Variant(1)
        );
        // A sticky index the split no longer has is redrawn.
        assert_eq!(
            r.choose("https://d.example/", &v, NOW, Some(7), 0).1,
            Via::Variant(0)
        );
    }

    #[test]
    fn bad_controls_are_refused_with_the_field_named() {
        for (body, needle) in [
            (
                r#"{"rules": [{"when": {}, "target_url": "https://a.example/"}]}"#,
                "at least one condition",
            ),
            (
                r#"{"rules": [{"when": {"planet": "mars"}, "target_url": "https://a.example/"}]}"#,
                "unknown",
            ),
            (
                r#"{"rules": [{"when": {"device": "car"}, "target_url": "https://a.example/"}]}"#,
                "device",
            ),
            (
                r#"{"rules": [{"when": {"country": "DEU"}, "target_url": "https://a.example/"}]}"#,
                "two-letter",
            ),
            (
                r#"{"rules": [{"when": {"device": "mobile"}, "target_url": "https://sho.rt/x"}]}"#,
                "target",
            ),
            (
                r#"{"rules": [{"when": {"device": "mobile"}, "target_url": "javascript:alert(1)"}]}"#,
                "target",
            ),
            (
                r#"{"split": {"variants": [{"target_url": "https://a.example/", "weight": 1}]}}"#,
                "2 to 4",
            ),
            (
                r#"{"split": {"variants": [{"target_url": "https://a.example/", "weight": 0}, {"target_url": "https://b.example/", "weight": 1}]}}"#,
                "weight",
            ),
            (r#"{"fallback_url": "ftp://a.example/"}"#, "fallback_url"),
            (r#"{"valid_since": "tomorrow"}"#, "valid_since"),
        ] {
            let e = change(body).unwrap_err();
            assert!(e.to_string().contains(needle), "{body}: {e}");
        }
        let many: Vec<Value> = (0..21)
            .map(|_| serde_json::json!({"when": {"device": "mobile"}, "target_url": "https://a.example/"}))
            .collect();
        let body = serde_json::json!({ "rules": many }).to_string();
        assert!(change(&body)
            .unwrap_err()
            .to_string()
            .contains("at most 20"));
    }

    #[test]
    fn controls_round_trip_through_their_stored_json() {
        let c = change(
            r#"{"title": "T", "tags": ["a"], "note": "n\nm", "valid_since": "2026-01-01T00:00:00Z",
                "fallback_url": "https://f.example/", "crawlable": true,
                "rules": [{"when": {"os": ["ios", "android"], "after": "2026-01-01T00:00:00Z"}, "target_url": "https://a.example/"}],
                "split": {"variants": [{"target_url": "https://a.example/a", "weight": 1}, {"target_url": "https://a.example/b", "weight": 2}], "sticky_seconds": 60}}"#,
        )
        .unwrap()
        .into_new();
        let json = c.to_json();
        assert!(!json.contains('\n'), "the cached rule keeps it on one line");
        assert_eq!(Controls::from_json(&json).unwrap(), c);
        assert_eq!(Controls::default().to_json(), "{}");
        let routing = c.routing.to_json();
        assert!(!routing.contains('\n'));
        assert_eq!(Routing::from_json(&routing).unwrap(), c.routing);
    }

    #[test]
    fn a_patch_changes_only_the_paths_it_names() {
        let paths = change(r#"{"title": "x", "tags": [], "crawlable": false, "split": null}"#)
            .unwrap()
            .json_paths();
        assert_eq!(
            paths,
            vec![
                ("$.title", Some("\"x\"".to_string())),
                ("$.tags", None),
                ("$.crawlable", None),
                ("$.split", None),
            ]
        );
        assert!(change("{}").unwrap().is_empty());
    }

    #[test]
    fn operating_systems_are_told_apart() {
        assert_eq!(Os::of(IPHONE), Some(Os::Ios));
        assert_eq!(Os::of(WINDOWS), Some(Os::Windows));
        assert_eq!(
            Os::of("Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile"),
            Some(Os::Android)
        );
        assert_eq!(
            Os::of("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0)"),
            Some(Os::Macos)
        );
        assert_eq!(Os::of("curl/8.0"), None);
    }
}
