//! The controls' stored form: one flat JSON object in `links.controls`, and the
//! routing part alone in the cached redirect rule. Written here and read back through
//! the request parser with the target rules off (see [`Controls::from_json`]).

use serde_json::{Map, Value};

use super::parse::ControlsChange;
use super::routing::{Routing, Split, TargetingRule};

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
        if let Some(utm) = &self.utm {
            m.insert("utm".into(), utm.to_value());
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

impl TargetingRule {
    pub(super) fn to_value(&self) -> Value {
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
    pub(super) fn to_value(&self) -> Value {
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
}
