-- Per-link controls (expiry, click limit, redirect status, query forwarding, dedupe),
-- a version for cache validation, counters for the statistics, and one row per visit.

ALTER TABLE links ADD COLUMN expires_at INTEGER;
ALTER TABLE links ADD COLUMN max_clicks INTEGER CHECK (max_clicks IS NULL OR max_clicks >= 1);
ALTER TABLE links ADD COLUMN redirect_status INTEGER
    CHECK (redirect_status IS NULL OR redirect_status IN (301, 302, 307, 308));
ALTER TABLE links ADD COLUMN forward_query INTEGER NOT NULL DEFAULT 1 CHECK (forward_query IN (0, 1));
-- 1 when made with "reuse": true and not edited since; only such links are shared.
ALTER TABLE links ADD COLUMN reuse INTEGER NOT NULL DEFAULT 0 CHECK (reuse IN (0, 1));
-- SHA-256 hex of the normalized target: the dedupe lookup key.
ALTER TABLE links ADD COLUMN target_hash TEXT;
-- The target's host, for the operator's filter.
ALTER TABLE links ADD COLUMN target_host TEXT;
-- Bumped by every change to how the link redirects; a cache fill is checked against it.
ALTER TABLE links ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE links ADD COLUMN bot_clicks INTEGER NOT NULL DEFAULT 0 CHECK (bot_clicks >= 0);
ALTER TABLE links ADD COLUMN first_click_at INTEGER;
ALTER TABLE links ADD COLUMN last_click_at INTEGER;

-- At most one shared link per target: concurrent "reuse" creations converge on one row.
CREATE UNIQUE INDEX links_reuse_target ON links (target_hash) WHERE reuse = 1 AND is_active = 1;
-- Keyset pagination, newest first, overall and per target host.
CREATE INDEX links_created ON links (created_at DESC, key DESC);
CREATE INDEX links_host_created ON links (target_host, created_at DESC, key DESC);

CREATE TABLE visits (
    id            INTEGER PRIMARY KEY,
    link_id       INTEGER NOT NULL REFERENCES links (id),
    at            INTEGER NOT NULL,
    referrer_host TEXT CHECK (referrer_host IS NULL OR length(referrer_host) <= 255),
    country       TEXT CHECK (country IS NULL OR length(country) = 2),
    device        TEXT    NOT NULL CHECK (device IN ('desktop', 'mobile', 'tablet', 'bot', 'other')),
    is_bot        INTEGER NOT NULL CHECK (is_bot IN (0, 1))
);
-- Every statistics query reads one link's visits in a time window through this index.
CREATE INDEX visits_link_at ON visits (link_id, at);
