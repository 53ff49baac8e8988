//! The per-isolate click window for links without a click limit: visits are collected
//! in this isolate and written together, one batch per short window, instead of one D1
//! write per redirect (work after the response still costs CPU, and D1 takes about
//! 1,000 writes/s per database).
//!
//! The first visit of a window makes its own request's `waitUntil` wait out the window
//! and then write everything collected, so every visit is written by a request that is
//! still alive: nothing depends on an idle isolate surviving. With the `CLICKS` queue
//! bound, the batch goes to the queue instead, and the consumer writes it to D1.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use worker::{Delay, Env};

use super::batch::{batch_id, batches_under, VisitRecord, MAX_MESSAGE_BYTES};
use super::queue;
use super::visitors;
use super::writer::{ClickWriter, ID_LEN};
use crate::config::{Config, CLICKS_QUEUE_BINDING};
use crate::domain::random::random_string;
use crate::domain::timestamp::Timestamp;
use crate::domain::visit::PendingVisit;
use crate::log::LogLine;
use crate::storage::database::Database;

/// How long visits are collected before they are written.
pub const FLUSH_WINDOW: Duration = Duration::from_millis(500);

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

/// Waits out the window, then writes every visit collected in it: to the click queue
/// when it is bound, else to D1 directly.
pub async fn flush_after_window(env: &Env, now: impl Fn() -> Timestamp) {
    Delay::from(FLUSH_WINDOW).await;
    // No await between these two lines: a visit collected from now on starts a new
    // window (and a new flush) instead of being left behind.
    FLUSH_SCHEDULED.with(|s| s.set(false));
    let pending = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
    if pending.is_empty() {
        return;
    }
    let config = Config::get(env);
    let now = now();
    // The visitors are hashed here, before the batch goes to the queue or to D1, so
    // no address leaves the isolate.
    let day_key = visitors::today(env, now).await;
    let records: Vec<VisitRecord> = pending
        .into_iter()
        .map(|p| VisitRecord::new(p, day_key.as_ref()))
        .collect();
    let ids = || {
        random_string(ID_LEN)
            .map(|random| batch_id(now.millis(), &random))
            .map_err(|e| e.to_string())
    };
    let result = match batches_under(&records, config.analytics_shards, MAX_MESSAGE_BYTES, ids) {
        Ok(batches) => match env.queue(CLICKS_QUEUE_BINDING) {
            Ok(transport) => queue::send(&transport, batches).await,
            Err(_) => match Database::from_env(env) {
                Ok(db) => ClickWriter::on(db)
                    .write(env, &config, &batches, now, false)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            },
        },
        Err(e) => Err(e),
    };
    if result.is_ok() {
        crate::events::emit_clicks(env, now, &records).await;
    }
    if let Err(e) = result {
        let mut keys: Vec<&str> = records.iter().map(|r| r.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        LogLine::error("clicks.flush")
            .message("clicks were not recorded")
            .count("clicks", records.len() as u64)
            .keys(keys)
            .cause(e)
            .emit();
    }
}
