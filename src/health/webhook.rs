//! The operator's webhook (`HEALTH_WEBHOOK_URL`, signed with `WEBHOOK_SECRET`): one
//! signed POST when a link turns dead or recovers. With the `HEALTH_NOTICES` queue
//! bound, the notice travels through it and failed deliveries are sent again later with
//! growing delays; without it, they are retried a few times within the invocation that noticed
//! the change. Payload, signature and retries are documented in docs/health.md.

use std::time::Duration;

use futures_util::future::{select, Either};
use serde_json::json;
use worker::wasm_bindgen::JsValue;
use worker::{
    AbortController, Delay, Env, Fetch, Headers, QueueContentType, RawMessageBuilder, Request,
};

use super::probe::outbound;
use crate::config::{Config, HEALTH_QUEUE_BINDING};
use crate::domain::health::{Health, Transition};
use crate::domain::link::Link;
use crate::domain::random::random_string;
use crate::domain::signature::{sign, SIGNATURE_HEADER};
use crate::domain::timestamp::Timestamp;
use crate::log::LogLine;

/// Attempts per notice, and the pause before each retry. Bounded so the invocation
/// that noticed the change (a Cron run or a request's `waitUntil`) ends in seconds.
const ATTEMPTS: usize = 3;
const BACKOFF_MS: [u64; ATTEMPTS - 1] = [500, 2_000];
/// Time one delivery attempt may take.
const ATTEMPT_TIMEOUT_MS: u64 = 5_000;
/// Through the queue: the delay before each new attempt after a failed one (six
/// attempts over about seven hours, so a receiver down for an afternoon still hears).
const QUEUED_BACKOFF_SECONDS: [u32; 5] = [5, 60, 600, 3_600, 21_600];

/// A notice owed to the operator: its event name and its JSON body, made once so every
/// retry sends the same bytes (and the same `id`, for the receiver to drop repeats).
#[derive(Debug, Clone)]
pub struct Notice {
    pub event: String,
    pub body: String,
}

/// A notice as a queue message, and back: the one place that knows this wire format,
/// `{"health_notice":<attempts made>,"event":"…","body":"<the JSON body as text>"}`.
/// Built and read as a `serde_json::Value`, which the service links anyway: derived
/// (de)serializers for it would cost more wasm than they save.
fn to_message(notice: &Notice, attempts: usize) -> String {
    // Written by hand: a `Value` object would sort its keys, and the format has kept
    // this order since notices shared the click queue.
    let text = |s: &str| serde_json::Value::from(s).to_string();
    format!(
        "{{\"health_notice\":{attempts},\"event\":{},\"body\":{}}}",
        text(&notice.event),
        text(&notice.body)
    )
}

fn from_message(text: &str) -> Option<(Notice, usize)> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let attempts = usize::try_from(value.get("health_notice")?.as_u64()?).ok()?;
    let notice = Notice {
        event: value.get("event")?.as_str()?.to_string(),
        body: value.get("body")?.as_str()?.to_string(),
    };
    Some((notice, attempts))
}

impl Notice {
    /// The notice of `link` turning dead or recovering at `at`.
    pub fn new(
        transition: Transition,
        before: &Health,
        link: &Link,
        origin: Option<&str>,
        at: Timestamp,
    ) -> Option<Notice> {
        let id = random_string(20).ok()?;
        let health = &link.health;
        let body = json!({
            "id": id,
            "event": transition.event(),
            "at": at.to_rfc3339(),
            "key": link.key.as_str(),
            // A link off the primary domain lives at its own host (null: the primary).
            "domain": link.domain.host(),
            "url": match link.domain.host() {
                Some(host) => Some(format!("https://{host}/{}", link.key)),
                None => origin.map(|o| format!("{o}/{}", link.key)),
            },
            "target_url": link.target_url,
            "state": health.state.as_str(),
            "previous_state": before.state.as_str(),
            "since": health.since.map(Timestamp::to_rfc3339),
            "status_code": health.status_code,
            "reason": health.reason,
        });
        Some(Notice {
            event: transition.event().to_string(),
            body: body.to_string(),
        })
    }
}

/// Sends `notice` to the configured webhook: through the `HEALTH_NOTICES` queue when
/// it is bound (falling back to sending here if the queue refuses it), else from here with
/// bounded retries. Nothing happens without a webhook.
pub async fn dispatch(env: &Env, config: &Config, notice: &Notice) {
    if config.health_webhook.is_none() {
        return;
    }
    if let Ok(queue) = env.queue(HEALTH_QUEUE_BINDING) {
        match enqueue(&queue, notice, 0, 0).await {
            Ok(()) => return,
            Err(e) => LogLine::error("health.webhook")
                .message("health webhook: queueing failed, sending now")
                .action(notice.event.as_str())
                .cause(e)
                .emit(),
        }
    }
    deliver(config, notice).await;
}

async fn enqueue(
    queue: &worker::Queue,
    notice: &Notice,
    attempts: usize,
    delay_seconds: u32,
) -> Result<(), String> {
    let message = RawMessageBuilder::new(JsValue::from_str(&to_message(notice, attempts)))
        .delay_seconds(delay_seconds)
        .build_with_content_type(QueueContentType::Text);
    queue.send_raw(message).await.map_err(|e| e.to_string())
}

/// Handles a notice delivered by the queue: one attempt; after a failure that may pass,
/// the notice is queued again with the next delay. Returns `false` only when that
/// could not be done, so the consumer has the queue redeliver the message instead.
pub async fn consume(env: &Env, config: &Config, text: &str) -> bool {
    let Some((notice, made)) = from_message(text) else {
        LogLine::error("health.webhook")
            .message("health webhook: a queued notice that does not parse was dropped")
            .emit();
        return true;
    };
    let Some((url, secret)) = &config.health_webhook else {
        return true;
    };
    let notice = &notice;
    let attempts = made + 1;
    if !worth_retrying(send(url, secret, notice).await, notice, attempts) {
        return true;
    }
    let Some(delay) = QUEUED_BACKOFF_SECONDS.get(made) else {
        LogLine::error("health.webhook")
            .message("health webhook: not delivered after its last attempt")
            .action(notice.event.as_str())
            .count("attempts", attempts as u64)
            .emit();
        return true;
    };
    let requeued = match env.queue(HEALTH_QUEUE_BINDING) {
        Ok(queue) => enqueue(&queue, notice, attempts, *delay).await,
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = &requeued {
        LogLine::error("health.webhook")
            .message("health webhook: requeueing failed")
            .action(notice.event.as_str())
            .cause(e)
            .emit();
    }
    requeued.is_ok()
}

/// Logs one attempt's outcome; whether another attempt is worth it (a network failure,
/// a timeout, 5xx, 408 or 429). Any 2xx is success; any other answer is final.
fn worth_retrying(result: Result<u16, String>, notice: &Notice, attempt: usize) -> bool {
    match result {
        Ok(status) if (200..300).contains(&status) => false,
        Ok(status) if status != 408 && status != 429 && status < 500 => {
            LogLine::error("health.webhook")
                .message("health webhook refused the notice; not retried")
                .action(notice.event.as_str())
                .status(status)
                .emit();
            false
        }
        Ok(status) => {
            LogLine::warn("health.webhook")
                .message("health webhook attempt failed; retried")
                .action(notice.event.as_str())
                .count("attempt", attempt as u64)
                .status(status)
                .emit();
            true
        }
        Err(e) => {
            LogLine::warn("health.webhook")
                .message("health webhook attempt failed; retried")
                .action(notice.event.as_str())
                .count("attempt", attempt as u64)
                .cause(e)
                .emit();
            true
        }
    }
}

/// Sends `notice` from this invocation, retrying what may pass, at most [`ATTEMPTS`]
/// times; then logs the failure.
pub async fn deliver(config: &Config, notice: &Notice) {
    let Some((url, secret)) = &config.health_webhook else {
        return;
    };
    for attempt in 0..ATTEMPTS {
        if let Some(pause) = attempt.checked_sub(1).and_then(|i| BACKOFF_MS.get(i)) {
            Delay::from(Duration::from_millis(*pause)).await;
        }
        if !worth_retrying(send(url, secret, notice).await, notice, attempt + 1) {
            return;
        }
    }
    LogLine::error("health.webhook")
        .message("health webhook: not delivered after its last attempt")
        .action(notice.event.as_str())
        .count("attempts", ATTEMPTS as u64)
        .emit();
}

/// One signed POST; the status it got.
async fn send(url: &str, secret: &str, notice: &Notice) -> Result<u16, String> {
    let sent_at = crate::clock::now().millis() / 1000;
    let build = || -> worker::Result<Request> {
        let headers = Headers::new();
        headers.set("Content-Type", "application/json")?;
        headers.set(
            "User-Agent",
            concat!(
                env!("CARGO_PKG_NAME"),
                "-webhook/",
                env!("CARGO_PKG_VERSION")
            ),
        )?;
        headers.set("X-Shortener-Event", &notice.event)?;
        headers.set(
            SIGNATURE_HEADER,
            &sign(secret.as_bytes(), sent_at, notice.body.as_bytes()),
        )?;
        outbound(url, "POST", &headers, Some(&notice.body))
    };
    let request = build().map_err(|e| e.to_string())?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Box::pin(async move { Fetch::Request(request).send_with_signal(&signal).await });
    let timer = Delay::from(Duration::from_millis(ATTEMPT_TIMEOUT_MS));
    match select(fetch, timer).await {
        Either::Left((Ok(res), _)) => Ok(res.status_code()),
        Either::Left((Err(e), _)) => Err(e.to_string()),
        Either::Right(_) => {
            controller.abort();
            Err("timed out".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_notice_reads_back_as_it_was_sent() {
        let notice = Notice {
            event: "link.dead".into(),
            body: r#"{"id":"x"}"#.into(),
        };
        let text = to_message(&notice, 2);
        assert!(text.starts_with("{\"health_notice\":2,"), "{text}");
        let (back, attempts) = from_message(&text).unwrap();
        assert_eq!(attempts, 2);
        assert_eq!(
            (back.event.as_str(), back.body.as_str()),
            ("link.dead", r#"{"id":"x"}"#)
        );
        assert!(from_message(r#"{"health_notice":"x"}"#).is_none());
        assert!(from_message(r#"{"batch":"b","shard":0,"visits":[]}"#).is_none());
    }
}
