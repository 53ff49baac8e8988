//! The Cron Trigger's upkeep (`[triggers] crons` in `wrangler.toml`): every scheduled
//! job, called from here. Each is bounded per run, logs its own failure and never
//! stops the others; the entry returns nothing, so nothing else would report it.

use worker::{console_error, console_log, Env};

use crate::clicks::maintenance::{
    fold_legacy_visits, prune_all_guards, prune_days, prune_hours, prune_visits,
};
use crate::config::{Config, PASSWORD_WINDOW_SECONDS};
use crate::domain::timestamp::{Timestamp, DAY_MS};
use crate::health;
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
}

/// Runs every job once. `wrangler.toml` sets one schedule and every job runs on it,
/// whatever its spelling; a job that needs its own pace would get its own schedule,
/// told apart here by `ScheduledEvent::cron()`.
pub async fn run(env: &Env, now: Timestamp) -> Upkeep {
    let config = Config::get(env);
    let mut done = Upkeep::default();
    match prune_visits(env, &config, now).await {
        Ok(n) => done.visits_pruned = n,
        Err(e) => console_error!("upkeep: pruning raw visits failed: {e}"),
    }
    match prune_days(env, &config, now).await {
        Ok(n) => done.days_pruned = n,
        Err(e) => console_error!("upkeep: pruning daily aggregates failed: {e}"),
    }
    match prune_hours(env, &config, now).await {
        Ok(n) => done.hours_cleared = n,
        Err(e) => console_error!("upkeep: clearing past hours failed: {e}"),
    }
    match prune_all_guards(env, &config, now).await {
        Ok(n) => done.guards_pruned = n,
        Err(e) => console_error!("upkeep: pruning batch guards failed: {e}"),
    }
    // First of all: a day's visitor key must not outlive its day by more than a run.
    match forget_day_keys(env, now).await {
        Ok(n) => done.day_keys_forgotten = n,
        Err(e) => console_error!("upkeep: forgetting past day keys failed: {e}"),
    }
    if let Err(e) = prune_password_attempts(env, now).await {
        console_error!("upkeep: pruning password attempts failed: {e}");
    }
    match fold_legacy_visits(env, &config, now).await {
        Ok(n) => done.visits_folded = n,
        Err(e) => console_error!("upkeep: folding visits into the aggregates failed: {e}"),
    }
    match health::run_scheduled(env, now).await {
        Ok(n) => done.links_checked = n,
        Err(e) => console_error!("upkeep: checking link health failed: {e}"),
    }
    console_log!(
        "upkeep: {} raw visits pruned, {} days of aggregates pruned, {} batch guards pruned, {} visits folded, {} links checked, {} day keys forgotten, {} days of hours cleared",
        done.visits_pruned,
        done.days_pruned,
        done.guards_pruned,
        done.visits_folded,
        done.links_checked,
        done.day_keys_forgotten,
        done.hours_cleared
    );
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
