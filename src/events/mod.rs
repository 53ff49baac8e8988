//! The operator's signed event webhooks (`/api/webhooks`): what happened to links
//! (created, updated, deactivated, clicked, dead, recovered), posted to every endpoint
//! that asked for the event, signed with that endpoint's secret exactly as the health
//! webhook is (`health::signed`). With the `EVENTS` queue bound, each delivery is one
//! message of it, retried by the queue (`max_retries`, then its dead-letter queue);
//! without it, sent from the invocation with the health webhook's bounded retries.
//! Clicks go as one delivery per endpoint per click batch, never one per click.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{json, Value};
use worker::wasm_bindgen::JsValue;
use worker::{Env, MessageBatch, MessageExt, QueueContentType, RawMessageBuilder};

use crate::clicks::batch::VisitRecord;
use crate::config::EVENTS_QUEUE_BINDING;
use crate::domain::random::random_string;
use crate::domain::timestamp::Timestamp;
use crate::domain::webhook::Event;
use crate::health::signed::{deliver_to, send, worth_retrying};
use crate::health::Notice;
use crate::log::LogLine;
use crate::storage::database::Database;
use crate::storage::error::StorageError;
use crate::storage::webhooks::{Endpoint, WebhookStore};

/// One delivery as a queue message, and back: the one place that knows this wire
/// format, `{"webhook":"<endpoint id>","event":"…","body":"<the JSON body as text>"}`.
fn to_message(endpoint: &str, notice: &Notice) -> String {
    json!({ "webhook": endpoint, "event": notice.event, "body": notice.body }).to_string()
}

fn from_message(text: &str) -> Option<(String, Notice)> {
    let value: Value = serde_json::from_str(text).ok()?;
    Some((
        value.get("webhook")?.as_str()?.to_string(),
        Notice {
            event: value.get("event")?.as_str()?.to_string(),
            body: value.get("body")?.as_str()?.to_string(),
        },
    ))
}

/// The body of an event: an `id` (the same in every retry, for the receiver to drop
/// repeats), the event's name, when, and the event's own fields.
fn body(event: Event, at: Timestamp, fields: Value) -> Option<String> {
    let id = random_string(20).ok()?;
    let mut body = json!({ "id": id, "event": event.as_str(), "at": at.to_rfc3339() });
    if let (Some(out), Value::Object(fields)) = (body.as_object_mut(), fields) {
        out.extend(fields);
    }
    Some(body.to_string())
}

/// Posts `event` with `fields` to every endpoint that asked for it. Never fails: a
/// failure is logged, and the change that caused the event stands.
pub async fn emit(env: &Env, event: Event, at: Timestamp, fields: Value) {
    let Some(text) = body(event, at, fields) else {
        return;
    };
    let notice = Notice {
        event: event.as_str().to_string(),
        body: text,
    };
    send_to_subscribers(env, event, &notice).await;
}

/// A health notice (`link.dead`, `link.recovered`) for the endpoints that asked for it:
/// the same body the health webhook gets.
pub async fn emit_notice(env: &Env, notice: &Notice) {
    if let Some(event) = Event::parse(&notice.event) {
        send_to_subscribers(env, event, notice).await;
    }
}

/// One `link.clicked` delivery per endpoint for a batch of clicks: their count and
/// each click's key, time, source, campaign, country and device (never an address).
pub async fn emit_clicks(env: &Env, at: Timestamp, records: &[VisitRecord]) {
    let clicks: Vec<Value> = records
        .iter()
        // Link previews and mail scanners fetch before anyone clicks: not clicks.
        .filter(|r| !r.why.as_deref().is_some_and(is_prefetch))
        .map(|r| {
            json!({
                "key": r.key,
                "at": Timestamp::from_millis(r.at).to_rfc3339(),
                "source": r.src.as_deref().unwrap_or(crate::domain::visit::SOURCE_LINK),
                "campaign": r.cmp,
                "country": r.country,
                "device": r.device,
                "bot": r.bot == 1,
            })
        })
        .collect();
    if clicks.is_empty() {
        return;
    }
    let count = clicks.len();
    emit(
        env,
        Event::Clicked,
        at,
        json!({ "count": count, "clicks": clicks }),
    )
    .await;
}

/// Why a bot came, as a record spells it, names a prefetch (`BotReason::is_prefetch`).
fn is_prefetch(why: &str) -> bool {
    use crate::domain::visit::BotReason;
    [BotReason::LinkPreview, BotReason::EmailScanner]
        .iter()
        .any(|r| r.as_str() == why && r.is_prefetch())
}

/// How long an isolate keeps the list of endpoints: every click batch and link change
/// would otherwise read D1 once more. A registration or deletion in this isolate
/// clears it at once ([`forget_endpoints`]); other isolates follow within this time.
const ENDPOINTS_TTL_MS: i64 = 10_000;

thread_local! {
    static ENDPOINTS: RefCell<Option<(Timestamp, Rc<Vec<Endpoint>>)>> = const { RefCell::new(None) };
}

/// Drops this isolate's copy of the endpoint list (after a registration or deletion).
pub fn forget_endpoints() {
    ENDPOINTS.with(|e| e.borrow_mut().take());
}

/// Every registered endpoint, from this isolate's copy while it is fresh.
async fn endpoints(env: &Env) -> Result<Rc<Vec<Endpoint>>, StorageError> {
    let now = crate::clock::now();
    let fresh = ENDPOINTS.with(|e| {
        e.borrow()
            .as_ref()
            .filter(|(at, _)| now.millis() - at.millis() < ENDPOINTS_TTL_MS)
            .map(|(_, list)| list.clone())
    });
    if let Some(list) = fresh {
        return Ok(list);
    }
    let list = Rc::new(WebhookStore::on(Database::from_env(env)?).list().await?);
    ENDPOINTS.with(|e| *e.borrow_mut() = Some((now, list.clone())));
    Ok(list)
}

async fn send_to_subscribers(env: &Env, event: Event, notice: &Notice) {
    let endpoints = endpoints(env).await.map(|all| {
        all.iter()
            .filter(|e| e.events.contains(&event))
            .cloned()
            .collect::<Vec<_>>()
    });
    let endpoints = match endpoints {
        Ok(endpoints) => endpoints,
        Err(e) => {
            LogLine::error("events")
                .message("event webhooks: endpoints not read; the event is not sent")
                .action(event.as_str())
                .cause(e)
                .emit();
            return;
        }
    };
    if endpoints.is_empty() {
        return;
    }
    if let Ok(queue) = env.queue(EVENTS_QUEUE_BINDING) {
        let messages = endpoints
            .iter()
            .map(|e| {
                RawMessageBuilder::new(JsValue::from_str(&to_message(&e.id, notice)))
                    .build_with_content_type(QueueContentType::Text)
            })
            .collect::<Vec<_>>();
        match queue.send_raw_batch(messages).await {
            Ok(()) => return,
            Err(e) => LogLine::error("events")
                .message("event webhooks: queueing failed, sending now")
                .action(event.as_str())
                .cause(e)
                .emit(),
        }
    }
    for endpoint in &endpoints {
        deliver_to(&endpoint.url, &endpoint.secret, notice).await;
    }
}

/// The `EVENTS` queue's consumer: one attempt per delivery. A success, a final refusal
/// or a delivery to an endpoint deleted since is acknowledged; a failure worth repeating
/// is retried by the queue, which after `max_retries` moves it to the dead-letter
/// queue. Never fails (see `background::queues`).
pub async fn consume(delivery: MessageBatch<String>, env: &Env) {
    let store = Database::from_env(env).map(WebhookStore::on);
    for message in delivery.raw_iter() {
        let parsed = message.body().as_string().and_then(|t| from_message(&t));
        let Some((id, notice)) = parsed else {
            LogLine::error("events.queue")
                .message("event webhooks: a message that does not parse was dropped")
                .emit();
            message.ack();
            continue;
        };
        let endpoint: Result<Option<Endpoint>, String> = match &store {
            Ok(store) => store.get(&id).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match endpoint {
            Ok(Some(endpoint)) => {
                let result = send(&endpoint.url, &endpoint.secret, &notice).await;
                if worth_retrying(result, &notice, 1) {
                    message.retry();
                } else {
                    message.ack();
                }
            }
            // Deleted since: nobody wants it any more.
            Ok(None) => message.ack(),
            Err(e) => {
                LogLine::error("events.queue")
                    .message("event webhooks: endpoint not read; the delivery is retried")
                    .action(notice.event.as_str())
                    .cause(e)
                    .emit();
                message.retry();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_delivery_reads_back_as_it_was_sent() {
        let notice = Notice {
            event: "link.created".into(),
            body: r#"{"id":"x"}"#.into(),
        };
        let (id, back) = from_message(&to_message("wh_1", &notice)).unwrap();
        assert_eq!(id, "wh_1");
        assert_eq!(
            (back.event.as_str(), back.body.as_str()),
            ("link.created", r#"{"id":"x"}"#)
        );
        assert!(from_message(r#"{"health_notice":1,"event":"x","body":"y"}"#).is_none());
    }
}
