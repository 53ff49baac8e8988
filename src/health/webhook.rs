//! The operator's webhook (`HEALTH_WEBHOOK_URL`, signed with `WEBHOOK_SECRET`): one
//! signed POST when a link turns dead or recovers, retried a few times within the
//! invocation that noticed it. Payload and signature are documented in docs/health.md.

use std::time::Duration;

use futures_util::future::{select, Either};
use serde_json::json;
use worker::{console_error, console_warn, AbortController, Delay, Fetch, Headers, Request};

use super::probe::outbound;

use crate::config::Config;
use crate::domain::health::{Health, Transition};
use crate::domain::link::Link;
use crate::domain::random::random_string;
use crate::domain::signature::{sign, SIGNATURE_HEADER};
use crate::domain::timestamp::Timestamp;

/// Attempts per notice, and the pause before each retry. Bounded so the invocation
/// that noticed the change (a Cron run or a request's `waitUntil`) ends in seconds.
const ATTEMPTS: usize = 3;
const BACKOFF_MS: [u64; ATTEMPTS - 1] = [500, 2_000];
/// Time one delivery attempt may take.
const ATTEMPT_TIMEOUT_MS: u64 = 5_000;

/// A notice owed to the operator: its event name and its JSON body, made once so every
/// retry sends the same bytes (and the same `id`, for the receiver to drop repeats).
#[derive(Debug, Clone)]
pub struct Notice {
    pub event: &'static str,
    pub body: String,
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
            "url": origin.map(|o| format!("{o}/{}", link.key)),
            "target_url": link.target_url,
            "state": health.state.as_str(),
            "previous_state": before.state.as_str(),
            "since": health.since.map(Timestamp::to_rfc3339),
            "status_code": health.status_code,
            "reason": health.reason,
        });
        Some(Notice {
            event: transition.event(),
            body: body.to_string(),
        })
    }
}

/// Sends `notice` to the configured webhook, retrying network failures, 5xx, 408 and
/// 429; gives up (and logs) after [`ATTEMPTS`]. Nothing happens without a webhook.
pub async fn deliver(config: &Config, notice: &Notice) {
    let Some((url, secret)) = &config.health_webhook else {
        return;
    };
    for attempt in 0..ATTEMPTS {
        if let Some(pause) = attempt.checked_sub(1).and_then(|i| BACKOFF_MS.get(i)) {
            Delay::from(Duration::from_millis(*pause)).await;
        }
        match send(url, secret, notice).await {
            Ok(status) if (200..300).contains(&status) => return,
            Ok(status) if status != 408 && status != 429 && status < 500 => {
                console_error!(
                    "health webhook refused {} with {status}; not retried",
                    notice.event
                );
                return;
            }
            Ok(status) => console_warn!("health webhook attempt {}: {status}", attempt + 1),
            Err(e) => console_warn!("health webhook attempt {}: {e}", attempt + 1),
        }
    }
    console_error!(
        "health webhook: {} not delivered after {ATTEMPTS} attempts",
        notice.event
    );
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
        headers.set("X-Shortener-Event", notice.event)?;
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
