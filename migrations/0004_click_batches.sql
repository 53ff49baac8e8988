-- Click batches whose clicks were added to the links' counters: a guard against a
-- queue redelivery counting a batch twice (direct writes, never repeated, write none).
-- One row per batch, not per click; the id starts with the sending time in hex, so
-- rows older than a day (CLICK_GUARD_DAYS) are pruned by a range of the key.
-- `write_id` names the write that claimed the batch: that write alone adds its clicks.
CREATE TABLE click_batches (
    id       TEXT PRIMARY KEY,
    write_id TEXT NOT NULL
) WITHOUT ROWID;
-- The `visits` table above is no longer written: clicks are aggregated in the
-- analytics databases (migrations-analytics/), and the rows it still holds are folded
-- into them by the scheduled job, then deleted from here.
