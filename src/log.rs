//! One log line as one JSON object (`{"level":"error","event":"access.keys","route":"/api/links","status":401,"cause":"..."}`):
//! Workers Logs (`[observability]`) turns each field into one it can filter on. Every
//! line the worker writes goes through here. The fields are fixed, so a line can hold a
//! link's key, an operator's key id, a route, a status, counts, a fixed message and a
//! cause, and never a token, a password, a referrer or a client address by accident:
//! there is no field for free text but the message (`&'static str`, so it is written
//! in the code, not taken from a request) and the cause (the error a call returned).

use serde_json::{Map, Value};

/// How serious a line is; `error` and `warn` go to the console's error and warning
/// streams, which Workers Logs marks as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warn,
    Info,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
        }
    }
}

/// Longest cause kept: a cause is a sentence, not a body.
const MAX_CAUSE_CHARS: usize = 500;

/// A line to log, built field by field, then [`LogLine::emit`]ted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine<'a> {
    level: Level,
    event: &'a str,
    message: Option<&'static str>,
    key: Option<&'a str>,
    keys: Vec<&'a str>,
    actor: Option<&'a str>,
    action: Option<&'a str>,
    target: Option<&'a str>,
    host: Option<&'a str>,
    route: Option<&'a str>,
    status: Option<u16>,
    counts: Vec<(&'static str, u64)>,
    cause: Option<String>,
}

impl<'a> LogLine<'a> {
    /// A line about `event`, a dotted name such as `access.keys` or `clicks.flush`.
    pub fn new(level: Level, event: &'a str) -> LogLine<'a> {
        LogLine {
            level,
            event,
            message: None,
            key: None,
            keys: Vec::new(),
            actor: None,
            action: None,
            target: None,
            host: None,
            route: None,
            status: None,
            counts: Vec::new(),
            cause: None,
        }
    }

    pub fn info(event: &'a str) -> LogLine<'a> {
        LogLine::new(Level::Info, event)
    }

    pub fn error(event: &'a str) -> LogLine<'a> {
        LogLine::new(Level::Error, event)
    }

    pub fn warn(event: &'a str) -> LogLine<'a> {
        LogLine::new(Level::Warn, event)
    }

    /// What happened, in words a person reads first; fixed in the code.
    pub fn message(mut self, text: &'static str) -> Self {
        self.message = Some(text);
        self
    }

    /// The short link's key the line is about.
    pub fn key(mut self, key: &'a str) -> Self {
        self.key = Some(key);
        self
    }

    /// The short links' keys the line is about (a batch's).
    pub fn keys(mut self, keys: Vec<&'a str>) -> Self {
        self.keys = keys;
        self
    }

    /// Who acted: an API key's id (`key_...`), `root` or a signed-in person; never a
    /// token.
    pub fn actor(mut self, id: &'a str) -> Self {
        self.actor = Some(id);
        self
    }

    /// What was being done or sent: an audit action, a notice's event.
    pub fn action(mut self, action: &'a str) -> Self {
        self.action = Some(action);
        self
    }

    /// What an operator's action was about: a link's key, an API key's id.
    pub fn target(mut self, target: Option<&'a str>) -> Self {
        self.target = target;
        self
    }

    /// The host a request went to (a target's, a webhook's): never its path or query,
    /// which may carry a token.
    pub fn host(mut self, host: &'a str) -> Self {
        self.host = Some(host);
        self
    }

    /// A named count (`clicks`, `visits_pruned`, ...).
    pub fn count(mut self, name: &'static str, n: u64) -> Self {
        self.counts.push((name, n));
        self
    }

    /// The route or path (never with its query, which may carry a secret).
    pub fn route(mut self, route: &'a str) -> Self {
        self.route = Some(route.split('?').next().unwrap_or_default());
        self
    }

    pub fn status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// What went wrong, in words (the caller's error's `Display`).
    pub fn cause(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string().chars().take(MAX_CAUSE_CHARS).collect());
        self
    }

    /// The line as JSON text, one line.
    pub fn to_json(&self) -> String {
        let mut o = Map::new();
        o.insert("level".into(), self.level.as_str().into());
        o.insert("event".into(), self.event.into());
        if let Some(message) = self.message {
            o.insert("message".into(), message.into());
        }
        if let Some(key) = self.key {
            o.insert("key".into(), key.into());
        }
        if !self.keys.is_empty() {
            o.insert("keys".into(), self.keys.clone().into());
        }
        if let Some(actor) = self.actor {
            o.insert("actor".into(), actor.into());
        }
        if let Some(action) = self.action {
            o.insert("action".into(), action.into());
        }
        if let Some(target) = self.target {
            o.insert("target".into(), target.into());
        }
        if let Some(host) = self.host {
            o.insert("host".into(), host.into());
        }
        if let Some(route) = self.route {
            o.insert("route".into(), route.into());
        }
        if let Some(status) = self.status {
            o.insert("status".into(), status.into());
        }
        for (name, n) in &self.counts {
            o.insert((*name).into(), (*n).into());
        }
        if let Some(cause) = &self.cause {
            o.insert("cause".into(), cause.as_str().into());
        }
        Value::Object(o).to_string()
    }

    /// Writes the line to the runtime's console.
    pub fn emit(&self) {
        let line = self.to_json();
        match self.level {
            Level::Error => worker::console_error!("{line}"),
            Level::Warn => worker::console_warn!("{line}"),
            Level::Info => worker::console_log!("{line}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_json_object_with_only_the_fields_given() {
        let line = LogLine::error("access.keys")
            .route("/api/links")
            .status(401)
            .cause("status 502");
        let parsed: Value = serde_json::from_str(&line.to_json()).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"level": "error", "event": "access.keys", "route": "/api/links", "status": 401, "cause": "status 502"})
        );
        assert_eq!(
            LogLine::warn("x").key("docs").to_json(),
            r#"{"event":"x","key":"docs","level":"warn"}"#
        );
    }

    #[test]
    fn every_field_lands_under_its_own_name() {
        let line = LogLine::info("upkeep")
            .message("upkeep done")
            .keys(vec!["a", "b"])
            .actor("key_abc")
            .action("link.dead")
            .host("example.com")
            .count("visits_pruned", 3)
            .count("links_checked", 0)
            .to_json();
        assert_eq!(
            serde_json::from_str::<Value>(&line).unwrap(),
            serde_json::json!({"level": "info", "event": "upkeep", "message": "upkeep done",
                "keys": ["a", "b"], "actor": "key_abc", "action": "link.dead",
                "host": "example.com", "visits_pruned": 3, "links_checked": 0})
        );
    }

    #[test]
    fn a_cause_with_newlines_or_quotes_stays_on_one_line() {
        let text = LogLine::error("e").cause("a\n\"b\"").to_json();
        assert!(!text.contains('\n'));
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap()["cause"],
            "a\n\"b\""
        );
    }

    #[test]
    fn a_route_never_carries_its_query_and_a_cause_is_bounded() {
        let line = LogLine::error("e")
            .route("/admin/x?password=hunter2")
            .cause("c".repeat(2_000));
        let text = line.to_json();
        assert!(!text.contains("hunter2"));
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["cause"].as_str().unwrap().len(), MAX_CAUSE_CHARS);
    }
}
