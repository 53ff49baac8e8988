//! Storage operation counters for the benchmark: how many D1 statements and KV calls
//! the worker made in this isolate. Counting is a relaxed atomic add; the counts are
//! only shown when the `BENCH_COUNTERS` var is "1".

use std::sync::atomic::{AtomicU64, Ordering};

use worker::D1Result;

static D1_STATEMENTS: AtomicU64 = AtomicU64::new(0);
static KV_READS: AtomicU64 = AtomicU64::new(0);
static KV_WRITES: AtomicU64 = AtomicU64::new(0);
static KV_DELETES: AtomicU64 = AtomicU64::new(0);
static CLICK_ROWS_READ: AtomicU64 = AtomicU64::new(0);
static CLICK_ROWS_WRITTEN: AtomicU64 = AtomicU64::new(0);
static STATS_ROWS_READ: AtomicU64 = AtomicU64::new(0);

pub fn d1_statements(n: u64) {
    D1_STATEMENTS.fetch_add(n, Ordering::Relaxed);
}

/// Rows D1 reports reading and writing for a click write's statements (both
/// databases): reads must grow with the batch, never with a link's history; writes are
/// what D1 bills.
pub fn click_rows(results: &[D1Result]) {
    for meta in results.iter().filter_map(|r| r.meta().ok().flatten()) {
        let (read, written) = (meta.rows_read.unwrap_or(0), meta.rows_written.unwrap_or(0));
        CLICK_ROWS_READ.fetch_add(read as u64, Ordering::Relaxed);
        CLICK_ROWS_WRITTEN.fetch_add(written as u64, Ordering::Relaxed);
    }
}

/// Rows D1 reports reading for a statistics answer's breakdown.
pub fn stats_rows_read(n: u64) {
    STATS_ROWS_READ.fetch_add(n, Ordering::Relaxed);
}

pub fn kv_read() {
    KV_READS.fetch_add(1, Ordering::Relaxed);
}

pub fn kv_write() {
    KV_WRITES.fetch_add(1, Ordering::Relaxed);
}

pub fn kv_delete() {
    KV_DELETES.fetch_add(1, Ordering::Relaxed);
}

/// The counts so far, as the benchmark reads them.
pub fn snapshot() -> serde_json::Value {
    serde_json::json!({
        "d1_statements": D1_STATEMENTS.load(Ordering::Relaxed),
        "kv_reads": KV_READS.load(Ordering::Relaxed),
        "kv_writes": KV_WRITES.load(Ordering::Relaxed),
        "kv_deletes": KV_DELETES.load(Ordering::Relaxed),
        "click_rows_read": CLICK_ROWS_READ.load(Ordering::Relaxed),
        "click_rows_written": CLICK_ROWS_WRITTEN.load(Ordering::Relaxed),
        "stats_rows_read": STATS_ROWS_READ.load(Ordering::Relaxed),
    })
}
