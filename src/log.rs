//! One log line as one JSON object (`{"level":"error","event":"access.keys","route":"/api/links","status":401,"cause":"..."}`):
//! Workers Logs (`[observability]`) turns each field into one it can filter on. The
//! fields are fixed, so a line can hold a link's key or a route, a status and a cause,
//! and never a token, a password or a client address by accident.

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
    key: Option<&'a str>,
    route: Option<&'a str>,
    status: Option<u16>,
    cause: Option<String>,
}

impl<'a> LogLine<'a> {
    /// A line about `event`, a dotted name such as `access.keys` or `clicks.flush`.
    pub fn new(level: Level, event: &'a str) -> LogLine<'a> {
        LogLine {
            level,
            event,
            key: None,
            route: None,
            status: None,
            cause: None,
        }
    }

    pub fn error(event: &'a str) -> LogLine<'a> {
        LogLine::new(Level::Error, event)
    }

    pub fn warn(event: &'a str) -> LogLine<'a> {
        LogLine::new(Level::Warn, event)
    }

    /// The short link's key the line is about.
    pub fn key(mut self, key: &'a str) -> Self {
        self.key = Some(key);
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
        if let Some(key) = self.key {
            o.insert("key".into(), key.into());
        }
        if let Some(route) = self.route {
            o.insert("route".into(), route.into());
        }
        if let Some(status) = self.status {
            o.insert("status".into(), status.into());
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
