//! How a link routes beyond its one target (targeting rules, A/B split) and the choice
//! for one visitor: evaluated on every redirect of a link that has them, from the
//! cached rule, with nothing read beyond it.

use crate::timestamp::Timestamp;
use crate::user_agent::{Device, DeviceClass, Os};

use super::card::SocialCard;
use super::utm::Utm;

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
    /// UTM fields the redirect adds to whichever target it chose.
    pub utm: Option<Utm>,
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
            let class = Device::from_user_agent(ua).class();
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

impl Split {
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
