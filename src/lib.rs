//! An edge URL shortener: a Cloudflare Worker on D1 (source of truth) and KV (cache).
//!
//! The entry point only hands the request to [`handlers::handle`]; the domain types in
//! [`domain`] know nothing of the Workers runtime and are tested natively.

// The domain is its own crate (domain/), so that it cannot import the Workers runtime;
// re-exported under its old module name so that every `crate::domain::...` path in the
// worker keeps resolving.
pub use shortener_domain as domain;

pub mod background;
pub mod clicks;
pub mod clock;
pub mod compat;
pub mod config;
pub mod handlers;
pub mod health;
pub mod http;
pub mod log;
pub mod signin;
pub mod storage;
pub mod web;
pub mod webcrypto;
pub mod whatwg;

use worker::worker_sys::web_sys;
use worker::{event, Context, Env, MessageBatch, Request, ScheduleContext, ScheduledEvent};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<web_sys::Response> {
    handlers::handle(req, env, ctx).await
}

/// Consumer of the optional queues (`CLICKS`, `HEALTH_NOTICES`), by queue name (see
/// `background::queues`). Always `Ok`: each consumer acknowledges or retries its
/// messages itself.
#[event(queue)]
async fn queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> worker::Result<()> {
    background::queues::consume(batch, &env, clock::now()).await;
    Ok(())
}

/// The Cron Trigger (`[triggers] crons`): the upkeep jobs (see `background::upkeep`).
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    background::upkeep::run(&env, clock::now()).await;
}
