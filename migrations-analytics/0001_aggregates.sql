-- The analytics database (binding ANALYTICS, or one of its shards ANALYTICS_n): what
-- the statistics read, kept apart from the links database so analytics can never fill
-- it. Rows are keyed by the link's key, which never changes. See docs/scaling.md.

-- Clicks of a link per UTC day (day = epoch ms / 86,400,000), and how they split by
-- dimension: `dims` is a JSON object of "<dim>:<value>" -> clicks, where dim is r
-- (referrer host, '' for a direct visit), c (country, '' when unknown) or d (device).
-- At most VALUES_PER_DAY values per dimension (src/clicks/analytics.rs); the rest of
-- that day counts under "<dim>:~other". One row per link and day, whatever the
-- dimensions: a flush writes one row per link it saw, and the statistics of a window
-- read one row per day.
CREATE TABLE daily (
    link_key TEXT    NOT NULL,
    day      INTEGER NOT NULL,
    clicks   INTEGER NOT NULL CHECK (clicks >= 0),
    bots     INTEGER NOT NULL CHECK (bots >= 0),
    dims     TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(dims)),
    PRIMARY KEY (link_key, day)
) WITHOUT ROWID;
-- Pruning past AGGREGATE_RETENTION_DAYS deletes by day. One index entry per new
-- (link, day) row; updates of a day's clicks leave it alone.
CREATE INDEX daily_day ON daily (day);

-- Click batches applied here: a guard against a queue redelivery (see click_batches in
-- the links database).
CREATE TABLE applied_batches (
    id       TEXT PRIMARY KEY,
    write_id TEXT NOT NULL
) WITHOUT ROWID;

-- Raw visits of the last VISIT_RETENTION_DAYS (0, the default: none). Never an IP
-- address. Pruned by the scheduled job, oldest id first.
CREATE TABLE visits (
    id            INTEGER PRIMARY KEY,
    link_key      TEXT    NOT NULL,
    at            INTEGER NOT NULL,
    referrer_host TEXT CHECK (referrer_host IS NULL OR length(referrer_host) <= 255),
    country       TEXT CHECK (country IS NULL OR length(country) = 2),
    device        TEXT    NOT NULL CHECK (device IN ('desktop', 'mobile', 'tablet', 'bot', 'other')),
    is_bot        INTEGER NOT NULL CHECK (is_bot IN (0, 1))
);
CREATE INDEX visits_link_at ON visits (link_key, at);
