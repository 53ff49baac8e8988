//! Storage: D1 holds the truth about links; KV caches key -> target for redirects.

pub mod cache;
pub mod d1;
