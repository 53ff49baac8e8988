//! Event webhooks an operator registers: the events they can ask for, and the
//! registration request (`POST /api/webhooks`), parsed once.

use serde_json::Value;

use crate::request::LinkRequestError;

/// An event a webhook endpoint can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Created,
    Updated,
    Deactivated,
    /// A batch of clicks: one delivery per endpoint per click batch.
    Clicked,
    Dead,
    Recovered,
}

impl Event {
    pub const ALL: [Event; 6] = [
        Event::Created,
        Event::Updated,
        Event::Deactivated,
        Event::Clicked,
        Event::Dead,
        Event::Recovered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Created => "link.created",
            Event::Updated => "link.updated",
            Event::Deactivated => "link.deactivated",
            Event::Clicked => "link.clicked",
            Event::Dead => "link.dead",
            Event::Recovered => "link.recovered",
        }
    }

    pub fn parse(raw: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == raw)
    }
}

/// The longest endpoint URL accepted.
pub const MAX_ENDPOINT_URL_BYTES: usize = 2048;

/// A registration, already checked: where to post and which events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<Event>,
}

const FIELDS: &[&str] = &["url", "events"];
const EVENTS_EXPECTED: &str = "a list of event names: link.created, link.updated, link.deactivated, link.clicked, link.dead, link.recovered";

impl NewEndpoint {
    /// Parses `{"url", "events"}`. The URL must be `https`; plain `http` only to
    /// `127.0.0.1` or `localhost` when `local` (an instance served from this machine,
    /// for development), as the health webhook is used locally.
    pub fn from_json(body: &[u8], local: bool) -> Result<NewEndpoint, LinkRequestError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| LinkRequestError::NotJson(e.to_string()))?;
        let Value::Object(fields) = value else {
            return Err(LinkRequestError::NotAnObject);
        };
        if let Some(name) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(LinkRequestError::UnknownField {
                name: name.clone(),
                allowed: FIELDS,
            });
        }
        let invalid = |field, why: &str| LinkRequestError::Invalid {
            field,
            why: why.to_string(),
        };
        let raw = match fields.get("url") {
            Some(Value::String(raw)) => raw.trim(),
            Some(_) => {
                return Err(LinkRequestError::WrongType {
                    field: "url",
                    expected: "an https URL",
                })
            }
            None => return Err(invalid("url", "is required")),
        };
        if raw.len() > MAX_ENDPOINT_URL_BYTES {
            return Err(invalid("url", "must be at most 2048 bytes"));
        }
        let url = url::Url::parse(raw).map_err(|_| invalid("url", "is not a URL"))?;
        let host = url.host_str().unwrap_or_default();
        let allowed = match url.scheme() {
            "https" => !host.is_empty(),
            "http" => local && matches!(host, "127.0.0.1" | "localhost"),
            _ => false,
        };
        if !allowed {
            return Err(invalid(
                "url",
                "must be an https URL (http only to 127.0.0.1 on a local instance)",
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("url", "must not carry credentials"));
        }
        let list = match fields.get("events") {
            Some(Value::Array(list)) => list,
            Some(_) => {
                return Err(LinkRequestError::WrongType {
                    field: "events",
                    expected: EVENTS_EXPECTED,
                })
            }
            None => return Err(invalid("events", "is required")),
        };
        let mut events = Vec::new();
        for item in list {
            let event = item.as_str().and_then(Event::parse).ok_or_else(|| {
                invalid(
                    "events",
                    &format!("must name only known events ({EVENTS_EXPECTED})"),
                )
            })?;
            if !events.contains(&event) {
                events.push(event);
            }
        }
        if events.is_empty() {
            return Err(invalid("events", "must name at least one event"));
        }
        Ok(NewEndpoint {
            url: url.as_str().to_string(),
            events,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str, local: bool) -> Result<NewEndpoint, LinkRequestError> {
        NewEndpoint::from_json(body.as_bytes(), local)
    }

    #[test]
    fn an_https_endpoint_with_known_events_is_accepted() {
        let e = parse(
            r#"{"url": "https://hooks.example/in", "events": ["link.created", "link.clicked", "link.created"]}"#,
            false,
        )
        .unwrap();
        assert_eq!(e.url, "https://hooks.example/in");
        assert_eq!(e.events, vec![Event::Created, Event::Clicked]);
    }

    #[test]
    fn plain_http_is_accepted_only_to_this_machine_on_a_local_instance() {
        let body = r#"{"url": "http://127.0.0.1:9000/hook", "events": ["link.dead"]}"#;
        assert!(parse(body, true).is_ok());
        assert!(parse(body, false).is_err());
        let remote = r#"{"url": "http://hooks.example/hook", "events": ["link.dead"]}"#;
        assert!(parse(remote, true).is_err());
    }

    #[test]
    fn bad_registrations_are_refused() {
        for body in [
            r#"{"url": "ftp://hooks.example/", "events": ["link.dead"]}"#,
            r#"{"url": "https://u:p@hooks.example/", "events": ["link.dead"]}"#,
            r#"{"url": "https://hooks.example/", "events": []}"#,
            r#"{"url": "https://hooks.example/", "events": ["link.exploded"]}"#,
            r#"{"url": "https://hooks.example/", "events": "link.dead"}"#,
            r#"{"url": "https://hooks.example/"}"#,
            r#"{"events": ["link.dead"]}"#,
            r#"{"url": "https://hooks.example/", "events": ["link.dead"], "secret": "x"}"#,
            r#"[]"#,
        ] {
            assert!(parse(body, true).is_err(), "{body}");
        }
    }

    #[test]
    fn every_event_reads_back_from_its_name() {
        for e in Event::ALL {
            assert_eq!(Event::parse(e.as_str()), Some(e));
        }
    }
}
