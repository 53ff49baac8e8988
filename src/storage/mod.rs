//! Storage: D1 holds the truth about links; KV and the isolate's memory cache each
//! link's redirect rule. Storage reports its own errors ([`error::StorageError`]).

pub mod attempts;
pub mod audit;
pub mod cache;
pub mod counters;
pub mod database;
pub mod day_keys;
pub mod error;
pub mod health;
pub mod import;
pub mod keys;
pub mod links;
pub mod listing;
pub mod memory;
pub mod rules;
pub mod utm_templates;
pub mod webhooks;
