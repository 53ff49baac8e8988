//! The optional click queue (`CLICKS`): sending a window's batches, and the consumer
//! that writes delivered batches to D1 (called by `background::queues`).

use worker::wasm_bindgen::JsValue;
use worker::{js_sys, Env, MessageBatch, Queue, QueueContentType, RawMessageBuilder};

use super::batch::with_id;
use super::writer::ClickWriter;
use crate::config::Config;
use crate::domain::timestamp::Timestamp;
use crate::log::LogLine;
use crate::storage::database::Database;

/// Sends click batches to the queue, one message each (every batch is under the
/// queue's 128 KB message limit; see `batch::MAX_MESSAGE_BYTES`).
pub async fn send(queue: &Queue, batches: Vec<String>) -> Result<(), String> {
    for batch in batches {
        let message = RawMessageBuilder::new(JsValue::from_str(&batch))
            .build_with_content_type(QueueContentType::Text);
        queue
            .send_raw(message)
            .await
            .map_err(|e| format!("queue send: {e}"))?;
    }
    Ok(())
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

/// The click-queue consumer: every message of the delivery goes to D1 in one batch
/// write. Success acknowledges them all; a failure asks for redelivery of them all,
/// which the batch guards make harmless (see `writer`). A message that is not JSON can
/// never be written; it is logged and acknowledged with the rest rather than
/// redelivered forever. The queue carries click batches only (health notices have
/// their own, see `background::queues`).
pub async fn consume(delivery: MessageBatch<String>, env: &Env, now: Timestamp) {
    let mut batches = Vec::new();
    for message in delivery.raw_iter() {
        match message_text(&message.body()) {
            Some(text) => batches.push(with_id(text)),
            None => LogLine::error("clicks.queue")
                .message("click queue message dropped: not a JSON click batch")
                .emit(),
        }
    }
    if batches.is_empty() {
        delivery.ack_all();
        return;
    }
    let written = match Database::from_env(env) {
        Ok(db) => {
            ClickWriter::on(db)
                .write(env, &Config::get(env), &batches, now, true)
                .await
        }
        Err(e) => Err(e),
    };
    match written {
        Ok(()) => delivery.ack_all(),
        Err(e) => {
            LogLine::error("clicks.queue")
                .message("click batch will be redelivered")
                .count("messages", batches.len() as u64)
                .cause(e)
                .emit();
            delivery.retry_all();
        }
    }
}
