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

use serde::{Deserialize, Serialize};
use worker::{console_error, Delay, Env};

use super::d1::LinkStore;
use crate::config::CLICKS_QUEUE_BINDING;
use crate::domain::random::random_string;
use crate::domain::visit::{PendingVisit, VisitRecord};

/// How long visits are collected before they are written.
pub const FLUSH_WINDOW: Duration = Duration::from_millis(500);
/// Symbols of a visit or batch id: 31^16 ≈ 7 × 10^23, no collision in practice.
const ID_LEN: usize = 16;

/// The body of one click-queue message: the visits of one window of one isolate.
#[derive(Debug, Serialize, Deserialize)]
pub struct ClickBatch {
    pub visits: Vec<VisitRecord>,
}

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
    let result = match env.queue(CLICKS_QUEUE_BINDING) {
        Ok(queue) => send(&queue, &records).await,
        Err(_) => write(env, &records).await,
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
async fn send(queue: &worker::Queue, records: &[VisitRecord]) -> Result<(), String> {
    for chunk in chunks_under(records, MAX_MESSAGE_BYTES) {
        queue
            .send(ClickBatch {
                visits: chunk.to_vec(),
            })
            .await
            .map_err(|e| format!("queue send: {e}"))?;
    }
    Ok(())
}

/// Queue messages stay below this many bytes of JSON (the limit is 128 KB).
const MAX_MESSAGE_BYTES: usize = 100_000;

/// Splits `records` into consecutive runs whose JSON stays under `limit` bytes.
fn chunks_under(records: &[VisitRecord], limit: usize) -> Vec<&[VisitRecord]> {
    let mut chunks = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (i, record) in records.iter().enumerate() {
        // The record's JSON plus a separating comma.
        let len = serde_json::to_vec(record).map_or(limit, |v| v.len()) + 1;
        if size + len > limit && i > start {
            chunks.extend(records.get(start..i));
            start = i;
            size = 0;
        }
        size += len;
    }
    chunks.extend(records.get(start..).filter(|rest| !rest.is_empty()));
    chunks
}

/// Writes visits to D1 in one batch under a fresh batch id; idempotent per visit id.
pub async fn write(env: &Env, records: &[VisitRecord]) -> Result<(), String> {
    let batch = random_string(ID_LEN).map_err(|e| e.to_string())?;
    let store = LinkStore::from_env(env).map_err(|e| e.detail())?;
    store
        .record_visits(records, &batch)
        .await
        .map_err(|e| format!("{e:?}"))
}

/// The click-queue consumer: every message of the delivery goes to D1 in one batch
/// write. Success acknowledges them all; a failure asks for redelivery of them all,
/// which the visit ids make harmless.
pub async fn consume(batch: worker::MessageBatch<ClickBatch>, env: &Env) -> worker::Result<()> {
    let messages = batch.messages()?;
    let records: Vec<VisitRecord> = messages
        .into_iter()
        .flat_map(|m| m.into_body().visits)
        .collect();
    match write(env, &records).await {
        Ok(()) => batch.ack_all(),
        Err(e) => {
            console_error!(
                "click batch of {} visits will be redelivered: {e}",
                records.len()
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

    #[test]
    fn a_busy_window_is_split_into_messages_under_the_limit_in_order() {
        let records: Vec<VisitRecord> = (0..3000).map(record).collect();
        let chunks = chunks_under(&records, MAX_MESSAGE_BYTES);
        assert!(chunks.len() > 1);
        for chunk in &chunks {
            let body = serde_json::to_vec(&ClickBatch {
                visits: chunk.to_vec(),
            })
            .unwrap();
            assert!(body.len() < 128_000, "{} bytes", body.len());
        }
        let rejoined: Vec<&VisitRecord> = chunks.iter().flat_map(|c| c.iter()).collect();
        assert_eq!(rejoined.len(), records.len());
        assert!(rejoined.iter().zip(&records).all(|(a, b)| *a == b));
    }

    #[test]
    fn a_quiet_window_is_one_message_and_an_empty_one_none() {
        let records: Vec<VisitRecord> = (0..3).map(record).collect();
        assert_eq!(chunks_under(&records, MAX_MESSAGE_BYTES).len(), 1);
        assert!(chunks_under(&[], MAX_MESSAGE_BYTES).is_empty());
    }
}
