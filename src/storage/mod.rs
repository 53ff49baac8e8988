//! Storage: D1 holds the truth about links; KV caches key -> redirect rule.

pub mod cache;
pub mod clicks;
pub mod counters;
pub mod d1;
pub mod memory;
