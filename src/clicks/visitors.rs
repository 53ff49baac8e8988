//! The day key the click window hashes visitors under, kept in the isolate's memory for
//! its day: one links-database round trip per isolate per day, made by the flush after
//! the window, never by a redirect. A new day drops yesterday's key from memory.

use std::cell::RefCell;

use worker::Env;

use crate::domain::timestamp::{Timestamp, DAY_MS};
use crate::domain::visitors::DayKey;
use crate::log::LogLine;
use crate::storage::database::Database;
use crate::storage::day_keys::DayKeys;
use crate::storage::error::StorageError;

thread_local! {
    static KEY: RefCell<Option<(i64, DayKey)>> = const { RefCell::new(None) };
}

/// Today's key, or `None` when it cannot be had (then the window's visits are counted
/// as clicks but not as visitors, and the failure is logged).
pub async fn today(env: &Env, now: Timestamp) -> Option<DayKey> {
    let day = now.millis().div_euclid(DAY_MS);
    let cached = KEY.with(|k| {
        k.borrow()
            .as_ref()
            .filter(|(d, _)| *d == day)
            .map(|(_, key)| key.clone())
    });
    if cached.is_some() {
        return cached;
    }
    match fetch(env, day).await {
        Ok(key) => {
            KEY.with(|k| *k.borrow_mut() = Some((day, key.clone())));
            Some(key)
        }
        Err(e) => {
            KEY.with(|k| *k.borrow_mut() = None);
            LogLine::error("clicks.day_key")
                .message("unique visitors of this window were not counted")
                .cause(e)
                .emit();
            None
        }
    }
}

async fn fetch(env: &Env, day: i64) -> Result<DayKey, StorageError> {
    let fresh = DayKey::generate().map_err(|e| StorageError::new("day key", e))?;
    DayKeys::on(Database::from_env(env)?)
        .of_day(day, &fresh)
        .await
}
