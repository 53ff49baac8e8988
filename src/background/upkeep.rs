//! The Cron Trigger's upkeep (`[triggers] crons` in `wrangler.toml`): every scheduled
//! job, called from here. Each is bounded per run, logs its own failure and never
//! stops the others; the entry returns nothing, so nothing else would report it.

use worker::Env;

use crate::clicks::maintenance::{
    fold_legacy_visits, fold_months, prune_all_guards, prune_days, prune_hours, prune_visits,
};
use crate::config::{Config, PASSWORD_WINDOW_SECONDS};
use crate::domain::timestamp::{Timestamp, DAY_MS};
use crate::health;
use crate::log::LogLine;
use crate::storage::attempts::Attempts;
use crate::storage::database::Database;
use crate::storage::day_keys::DayKeys;
use crate::storage::error::StorageError;

/// What one run did, for the log and the tests.
#[derive(Debug, Default)]
pub struct Upkeep {
    pub visits_pruned: usize,
    pub days_pruned: usize,
    pub guards_pruned: usize,
    pub visits_folded: usize,
    pub links_checked: usize,
    pub day_keys_forgotten: usize,
    pub hours_cleared: usize,
    pub days_folded: usize,
}

/// Runs every job once. `wrangler.toml` sets one schedule and every job runs on it,
/// whatever its spelling; a job that needs its own pace would get its own schedule,
/// told apart here by `ScheduledEvent::cron()`.
pub async fn run(env: &Env, now: Timestamp) -> Upkeep {
    let config = Config::get(env);
    let mut done = Upkeep::default();
    match prune_visits(env, &config, now).await {
        Ok(n) => done.visits_pruned = n,
        Err(e) => LogLine::error("upkeep.visits")
            .message("upkeep: pruning raw visits failed")
            .cause(e)
            .emit(),
    }
    match prune_days(env, &config, now).await {
        Ok(n) => done.days_pruned = n,
        Err(e) => LogLine::error("upkeep.days")
            .message("upkeep: pruning daily aggregates failed")
            .cause(e)
            .emit(),
    }
    // After the prune, so a day past the retention is deleted rather than folded.
    match fold_months(env, &config, now).await {
        Ok(n) => done.days_folded = n,
        Err(e) => LogLine::error("upkeep.months")
            .message("upkeep: folding old days into months failed")
            .cause(e)
            .emit(),
    }
    match prune_hours(env, &config, now).await {
        Ok(n) => done.hours_cleared = n,
        Err(e) => LogLine::error("upkeep.hours")
            .message("upkeep: clearing past hours failed")
            .cause(e)
            .emit(),
    }
    match prune_all_guards(env, &config, now).await {
        Ok(n) => done.guards_pruned = n,
        Err(e) => LogLine::error("upkeep.guards")
            .message("upkeep: pruning batch guards failed")
            .cause(e)
            .emit(),
    }
    // First of all: a day's visitor key must not outlive its day by more than a run.
    match forget_day_keys(env, now).await {
        Ok(n) => done.day_keys_forgotten = n,
        Err(e) => LogLine::error("upkeep.day_keys")
            .message("upkeep: forgetting past day keys failed")
            .cause(e)
            .emit(),
    }
    if let Err(e) = prune_password_attempts(env, now).await {
        LogLine::error("upkeep.password_attempts")
            .message("upkeep: pruning password attempts failed")
            .cause(e)
            .emit();
    }
    match fold_legacy_visits(env, &config, now).await {
        Ok(n) => done.visits_folded = n,
        Err(e) => LogLine::error("upkeep.fold")
            .message("upkeep: folding visits into the aggregates failed")
            .cause(e)
            .emit(),
    }
    match health::run_scheduled(env, now).await {
        Ok(n) => done.links_checked = n,
        Err(e) => LogLine::error("upkeep.health")
            .message("upkeep: checking link health failed")
            .cause(e)
            .emit(),
    }
    LogLine::info("upkeep")
        .message("upkeep done")
        .count("visits_pruned", done.visits_pruned as u64)
        .count("days_pruned", done.days_pruned as u64)
        .count("guards_pruned", done.guards_pruned as u64)
        .count("visits_folded", done.visits_folded as u64)
        .count("links_checked", done.links_checked as u64)
        .count("day_keys_forgotten", done.day_keys_forgotten as u64)
        .count("hours_cleared", done.hours_cleared as u64)
        .count("days_folded", done.days_folded as u64)
        .emit();
    done
}

/// Deletes the visitor keys of days before today (`storage::day_keys`).
async fn forget_day_keys(env: &Env, now: Timestamp) -> Result<usize, StorageError> {
    DayKeys::on(Database::from_env(env)?)
        .forget_before(now.millis().div_euclid(DAY_MS))
        .await
}

/// Deletes the link-password attempt windows older than a day. One row per client or
/// link that tried a password in a 15-minute window: a small table, so one statement
/// a run.
async fn prune_password_attempts(env: &Env, now: Timestamp) -> Result<usize, StorageError> {
    let day_ago_slot = (now.millis() / 1000 - DAY_MS / 1000).div_euclid(PASSWORD_WINDOW_SECONDS);
    Attempts::on(Database::from_env(env)?)
        .prune(day_ago_slot)
        .await
}
