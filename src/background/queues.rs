//! The queue consumer: one entry for every queue this worker consumes, dispatched by
//! the name of the queue that delivered the batch, as the workers-rs queue example
//! does. Each queue carries one kind of message: `CLICKS` click batches, and
//! `HEALTH_NOTICES` link health notices for the operator's webhook.
//!
//! Never returns `Err`: the glue workers-rs generates panics on it, which resets the
//! instance under every request it serves. Each consumer acknowledges or retries its
//! messages itself.

use worker::{Env, MessageBatch, MessageExt};

use crate::clicks;
use crate::config::{Config, CLICKS_QUEUE_NAME, HEALTH_QUEUE_NAME};
use crate::domain::timestamp::Timestamp;
use crate::health;
use crate::log::LogLine;

/// Hands a delivery to its queue's consumer. A queue this worker does not know (a
/// name changed in `wrangler.toml` but not in `config`) is retried, not misread: its
/// messages end in the dead-letter queue, if one is set, rather than being lost.
pub async fn consume(delivery: MessageBatch<String>, env: &Env, now: Timestamp) {
    let queue = delivery.queue();
    match queue.as_str() {
        CLICKS_QUEUE_NAME => clicks::consume(delivery, env, now).await,
        HEALTH_QUEUE_NAME => health_notices(delivery, env).await,
        other => {
            LogLine::error("queue")
                .message("no consumer for this queue here; the delivery is retried")
                .action(other)
                .emit();
            delivery.retry_all();
        }
    }
}

/// The health-notice consumer: one delivery attempt per notice, each message
/// acknowledged or retried on its own (see `health::queued`).
async fn health_notices(delivery: MessageBatch<String>, env: &Env) {
    let config = Config::get(env);
    for message in delivery.raw_iter() {
        let Some(text) = message.body().as_string() else {
            LogLine::error("health.queue")
                .message("health notice queue: a message that is not text was dropped")
                .emit();
            message.ack();
            continue;
        };
        if health::queued::consume(env, &config, &text).await {
            message.ack();
        } else {
            message.retry();
        }
    }
}
