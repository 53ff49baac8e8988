//! Click recording for links without a click limit: visits are collected in this
//! isolate and written together, one batch per short window, instead of one D1 write
//! per redirect (work after the response still costs CPU, and D1 takes about 1,000
//! writes/s per database).
//!
//! The first visit of a window makes its own request's `waitUntil` wait out the window
//! and then write everything collected, so every visit is written by a request that is
//! still alive: nothing depends on an idle isolate surviving. With the `CLICKS` queue
//! bound, the batch goes to the queue instead, and the consumer writes it to D1.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use worker::wasm_bindgen::JsValue;
use worker::{console_error, js_sys, Delay, Env, QueueContentType, RawMessageBuilder};

use super::d1::LinkStore;
use crate::config::CLICKS_QUEUE_BINDING;
use crate::domain::random::random_string;
use crate::domain::visit::{PendingVisit, VisitRecord};

/// How long visits are collected before they are written.
pub const FLUSH_WINDOW: Duration = Duration::from_millis(500);
/// Symbols of a visit or batch id: 31^16 ≈ 7 × 10^23, no collision in practice.
const ID_LEN: usize = 16;

// A click batch is JSON text, `{"visits":[<VisitRecord>, ...]}`: the body of one queue
// message (content type `text`), and the unit the D1 write reads with `json_each`. Text
// is one string across the JS boundary, where an object is built field by field, and
// neither the sender nor the consumer parses it: D1 does, once.

thread_local! {
    static PENDING: RefCell<Vec<PendingVisit>> = const { RefCell::new(Vec::new()) };
    static FLUSH_SCHEDULED: Cell<bool> = const { Cell::new(false) };
}

/// Adds a visit to this isolate's window. Returns true when the caller's request must
/// flush the window (it brought the first visit of it); see [`flush_after_window`].
pub fn collect(visit: PendingVisit) -> bool {
    PENDING.with(|p| p.borrow_mut().push(visit));
    !FLUSH_SCHEDULED.with(|s| s.replace(true))
}

/// Waits out the window, then writes every visit collected in it.
pub async fn flush_after_window(env: &Env) {
    Delay::from(FLUSH_WINDOW).await;
    // No await between these two lines: a visit collected from now on starts a new
    // window (and a new flush) instead of being left behind.
    FLUSH_SCHEDULED.with(|s| s.set(false));
    let pending = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
    if pending.is_empty() {
        return;
    }
    let mut records = Vec::with_capacity(pending.len());
    for visit in pending {
        match random_string(ID_LEN) {
            Ok(id) => records.push(visit.into_record(id)),
            Err(e) => console_error!("click for key {} was not recorded: {e}", visit.key),
        }
    }
    let count = records.len();
    let result = match messages_under(&records, MAX_MESSAGE_BYTES) {
        Ok(messages) => match env.queue(CLICKS_QUEUE_BINDING) {
            Ok(queue) => send(&queue, messages).await,
            Err(_) => write(env, &messages).await,
        },
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        let mut keys: Vec<&str> = records.iter().map(|r| r.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        console_error!(
            "{count} clicks for keys {} were not recorded: {e}",
            keys.join(", ")
        );
    }
}

/// Sends visits to the click queue in messages under the queue's 128 KB limit: a busy
/// window holds thousands of visits, far more than one message takes.
async fn send(queue: &worker::Queue, messages: Vec<String>) -> Result<(), String> {
    for message in messages {
        let message = RawMessageBuilder::new(JsValue::from_str(&message))
            .build_with_content_type(QueueContentType::Text);
        queue
            .send_raw(message)
            .await
            .map_err(|e| format!("queue send: {e}"))?;
    }
    Ok(())
}

/// Queue messages stay below this many bytes of JSON (the limit is 128 KB).
const MAX_MESSAGE_BYTES: usize = 100_000;

const MESSAGE_START: &str = "{\"visits\":[";
const MESSAGE_END: &str = "]}";

/// The click batches (JSON text) holding `records` in order, each under `limit` bytes
/// (a single record over the limit still gets a batch of its own).
fn messages_under(records: &[VisitRecord], limit: usize) -> Result<Vec<String>, String> {
    let mut messages = Vec::new();
    let mut current = String::from(MESSAGE_START);
    for record in records {
        let json = serde_json::to_string(record).map_err(|e| format!("visit: {e}"))?;
        let empty = current.len() == MESSAGE_START.len();
        if !empty && current.len() + 1 + json.len() + MESSAGE_END.len() > limit {
            current.push_str(MESSAGE_END);
            messages.push(std::mem::replace(&mut current, String::from(MESSAGE_START)));
        } else if !empty {
            current.push(',');
        }
        current.push_str(&json);
    }
    if current.len() > MESSAGE_START.len() {
        current.push_str(MESSAGE_END);
        messages.push(current);
    }
    Ok(messages)
}

/// The click batch in one queue message: JSON text, or (from a sender that predates
/// the text format) a JSON-compatible object, turned into text. Only well-formed JSON
/// passes, so one bad message cannot fail the D1 write of the others.
fn message_text(body: &JsValue) -> Option<String> {
    let text = match body.as_string() {
        Some(text) => text,
        None => js_sys::JSON::stringify(body).ok()?.as_string()?,
    };
    js_sys::JSON::parse(&text).ok().map(|_| text)
}

/// Writes click batches to D1 in one batch write under a fresh batch id; idempotent
/// per visit id.
pub async fn write(env: &Env, batches: &[String]) -> Result<(), String> {
    let batch = random_string(ID_LEN).map_err(|e| e.to_string())?;
    let store = LinkStore::from_env(env).map_err(|e| e.detail())?;
    store
        .record_visits(&format!("[{}]", batches.join(",")), &batch)
        .await
        .map_err(|e| format!("{e:?}"))
}

/// The click-queue consumer: every message of the delivery goes to D1 in one batch
/// write. Success acknowledges them all; a failure asks for redelivery of them all,
/// which the visit ids make harmless. A message that is not JSON can never be written;
/// it is logged and acknowledged with the rest rather than redelivered forever.
pub async fn consume(batch: worker::MessageBatch<String>, env: &Env) -> worker::Result<()> {
    let mut batches = Vec::new();
    for message in batch.raw_iter() {
        match message_text(&message.body()) {
            Some(text) => batches.push(text),
            None => console_error!("click queue message dropped: not a JSON click batch"),
        }
    }
    if batches.is_empty() {
        batch.ack_all();
        return Ok(());
    }
    match write(env, &batches).await {
        Ok(()) => batch.ack_all(),
        Err(e) => {
            console_error!(
                "click batch of {} messages will be redelivered: {e}",
                batches.len()
            );
            batch.retry_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: usize) -> VisitRecord {
        VisitRecord {
            id: format!("visit-{i:08}"),
            key: "abcdefgh".into(),
            at: 1_795_290_489_000,
            referrer_host: Some("news.example.org".into()),
            country: Some("DE".into()),
            device: "desktop".into(),
            bot: 0,
        }
    }

    fn parsed(messages: &[String]) -> Vec<VisitRecord> {
        #[derive(serde::Deserialize)]
        struct ClickBatch {
            visits: Vec<VisitRecord>,
        }
        messages
            .iter()
            .flat_map(|m| serde_json::from_str::<ClickBatch>(m).unwrap().visits)
            .collect()
    }

    #[test]
    fn a_busy_window_is_split_into_messages_under_the_limit_in_order() {
        let records: Vec<VisitRecord> = (0..3000).map(record).collect();
        let messages = messages_under(&records, MAX_MESSAGE_BYTES).unwrap();
        assert!(messages.len() > 1);
        for message in &messages {
            assert!(message.len() < MAX_MESSAGE_BYTES, "{} bytes", message.len());
        }
        assert_eq!(parsed(&messages), records);
    }

    #[test]
    fn a_quiet_window_is_one_message_and_an_empty_one_none() {
        let records: Vec<VisitRecord> = (0..3).map(record).collect();
        let messages = messages_under(&records, MAX_MESSAGE_BYTES).unwrap();
        assert_eq!(messages.len(), 1);
        assert_eq!(parsed(&messages), records);
        assert!(messages_under(&[], MAX_MESSAGE_BYTES).unwrap().is_empty());
    }

    #[test]
    fn a_record_over_the_limit_gets_a_message_of_its_own() {
        let records: Vec<VisitRecord> = (0..3).map(record).collect();
        let messages = messages_under(&records, 10).unwrap();
        assert_eq!(messages.len(), 3);
        assert_eq!(parsed(&messages), records);
    }
}
