//! The scheduled checks, one step of the Cron Trigger's upkeep: the stalest active
//! links, at most `HEALTH_CHECKS_PER_RUN` of them, checked at the same time.

use futures_util::future::join_all;
use worker::Env;

use super::check::Checker;
use super::webhook;
use crate::config::Config;
use crate::domain::link_request::TargetPolicy;
use crate::domain::timestamp::{Timestamp, DAY_MS};
use crate::log::LogLine;
use crate::storage::error::StorageError;
use crate::storage::links::LinkStore;

/// Expired and exhausted links are set aside this long, this many per run.
const PARK_DAYS: i64 = 30;
const PARK_PER_RUN: u32 = 500;

/// Checks the links due at `now`; how many were checked. Outbound requests are bounded
/// by `HEALTH_CHECKS_PER_RUN` × `MAX_REQUESTS_PER_CHECK`, plus the webhook's.
pub async fn run_scheduled(env: &Env, now: Timestamp) -> Result<usize, StorageError> {
    let config = Config::get(env);
    if config.health_checks_per_run == 0 {
        return Ok(0);
    }
    let store = LinkStore::from_env(env)?;
    let until = Timestamp::from_millis(now.millis() + PARK_DAYS * DAY_MS);
    if let Err(e) = store.park_unreachable(now, until, PARK_PER_RUN).await {
        LogLine::error("health.park")
            .message("health: setting aside expired and exhausted links failed")
            .cause(e)
            .emit();
    }
    let due = store
        .due_for_check(now, config.health_checks_per_run)
        .await?;
    let own_hosts: Vec<&str> = config.base_host.as_deref().into_iter().collect();
    let checker = Checker {
        env,
        config: &config,
        policy: TargetPolicy {
            own_hosts: &own_hosts,
            blocked_hosts: &config.blocked_hosts,
            to_ascii: crate::whatwg::to_ascii,
        },
        origin: config.base_url.as_deref(),
    };
    let results = join_all(due.iter().map(|link| checker.check(&store, link))).await;
    let mut checked = 0;
    let mut notices = Vec::new();
    for result in results {
        match result {
            Ok(done) => {
                checked += 1;
                notices.extend(done.notice);
            }
            Err(e) => LogLine::error("health.record")
                .message("health: recording a check failed")
                .cause(e)
                .emit(),
        }
    }
    // One after the other: a run rarely has more than one, and a second `join_all`
    // would be a second copy of its machinery in the wasm.
    for notice in &notices {
        webhook::dispatch(env, &config, notice).await;
    }
    Ok(checked)
}
