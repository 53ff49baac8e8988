-- The secret of the current UTC day for counting unique visitors (issue 28): a visitor
-- is a keyed hash of (client address, User-Agent, link) under this key, and only a
-- sketch entry derived from the hash is stored (daily.visitors on the analytics
-- shards). The key is 32 random bytes made by the first isolate that flushes clicks
-- that day, never derived from anything longer-lived, and deleted by the Cron job once
-- its day is over: after that no one can compute a visitor's entry again. One row a
-- day at most, and at most two rows at any time (today's, and yesterday's until the
-- next Cron run). day = epoch ms / 86,400,000.
CREATE TABLE day_keys (
    day    INTEGER PRIMARY KEY,
    secret TEXT    NOT NULL CHECK (length(secret) = 64)
);
