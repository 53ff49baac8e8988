-- Several domains per instance (issue 14): a link belongs to a domain, and a key is
-- unique within its domain, so `go.example.com/docs` and `sho.rt/docs` are two links.
-- `domain` is '' for the instance's primary domain (BASE_URL's host, or any host not
-- listed in DOMAINS), so changing BASE_URL never orphans a link; other domains are
-- stored by their lower-case ASCII host name.
--
-- SQLite cannot change a UNIQUE constraint in place, so `links` is rebuilt. Its two
-- child tables are rebuilt first, pointing at the new table: dropping a parent that
-- still has children violates the foreign keys D1 enforces (tried: D1 rolls the whole
-- migration back, `defer_foreign_keys` or not). Renaming the new parent rewrites the
-- children's references to the final name.
--
-- `stats_key` becomes NOT NULL: every link's clicks and statistics are kept under one
-- name, its first key qualified by its domain (`key`, or `host/key` off the primary
-- domain), so a click finds its link by one unique index whatever domain it came in on.

CREATE TABLE links_v9 (
    id                INTEGER PRIMARY KEY,
    domain            TEXT    NOT NULL DEFAULT ''
                      CHECK (domain = '' OR (length(domain) BETWEEN 1 AND 253
                             AND domain NOT GLOB '*[^a-z0-9.-]*')),
    key               TEXT    NOT NULL
                      CHECK (length(key) BETWEEN 3 AND 64 AND key NOT GLOB '*[^a-z0-9_-]*'),
    target_url        TEXT    NOT NULL
                      CHECK (length(target_url) <= 2048
                             AND (substr(target_url, 1, 7) = 'http://' OR substr(target_url, 1, 8) = 'https://')),
    secret_hash       TEXT    NOT NULL UNIQUE
                      CHECK (length(secret_hash) = 64 AND secret_hash NOT GLOB '*[^0-9a-f]*'),
    is_active         INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    clicks            INTEGER NOT NULL DEFAULT 0 CHECK (clicks >= 0),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    expires_at        INTEGER,
    max_clicks        INTEGER CHECK (max_clicks IS NULL OR max_clicks >= 1),
    redirect_status   INTEGER CHECK (redirect_status IS NULL OR redirect_status IN (301, 302, 307, 308)),
    forward_query     INTEGER NOT NULL DEFAULT 1 CHECK (forward_query IN (0, 1)),
    reuse             INTEGER NOT NULL DEFAULT 0 CHECK (reuse IN (0, 1)),
    target_hash       TEXT,
    target_host       TEXT,
    version           INTEGER NOT NULL DEFAULT 1,
    bot_clicks        INTEGER NOT NULL DEFAULT 0 CHECK (bot_clicks >= 0),
    first_click_at    INTEGER,
    last_click_at     INTEGER,
    imported_clicks   INTEGER NOT NULL DEFAULT 0 CHECK (imported_clicks >= 0),
    imported_at       INTEGER,
    health_state      TEXT    NOT NULL DEFAULT 'unknown'
                      CHECK (health_state IN ('unknown', 'healthy', 'unhealthy', 'dead', 'unverifiable')),
    health_checked_at INTEGER,
    health_status     INTEGER CHECK (health_status IS NULL OR health_status BETWEEN 100 AND 599),
    health_reason     TEXT    CHECK (health_reason IS NULL OR length(health_reason) <= 200),
    health_since      INTEGER,
    health_failures   INTEGER NOT NULL DEFAULT 0 CHECK (health_failures >= 0),
    health_due_at     INTEGER NOT NULL DEFAULT 0,
    dead_link_mode    TEXT    CHECK (dead_link_mode IS NULL OR dead_link_mode IN ('redirect', 'interstitial', 'gone')),
    controls          TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(controls)),
    stats_key         TEXT    NOT NULL UNIQUE CHECK (length(stats_key) BETWEEN 3 AND 318),
    created_by        TEXT,
    UNIQUE (domain, key)
);

INSERT INTO links_v9 (id, domain, key, target_url, secret_hash, is_active, clicks, created_at,
    updated_at, expires_at, max_clicks, redirect_status, forward_query, reuse, target_hash,
    target_host, version, bot_clicks, first_click_at, last_click_at, imported_clicks,
    imported_at, health_state, health_checked_at, health_status, health_reason, health_since,
    health_failures, health_due_at, dead_link_mode, controls, stats_key, created_by)
SELECT id, '', key, target_url, secret_hash, is_active, clicks, created_at,
    updated_at, expires_at, max_clicks, redirect_status, forward_query, reuse, target_hash,
    target_host, version, bot_clicks, first_click_at, last_click_at, imported_clicks,
    imported_at, health_state, health_checked_at, health_status, health_reason, health_since,
    health_failures, health_due_at, dead_link_mode, controls, COALESCE(stats_key, key), created_by
FROM links;

-- A former key is an alias within its link's domain.
CREATE TABLE link_aliases_v9 (
    domain  TEXT    NOT NULL DEFAULT '',
    alias   TEXT    NOT NULL
            CHECK (length(alias) BETWEEN 3 AND 64 AND alias NOT GLOB '*[^a-z0-9_-]*'),
    link_id INTEGER NOT NULL REFERENCES links_v9 (id),
    PRIMARY KEY (domain, alias)
) WITHOUT ROWID;
INSERT INTO link_aliases_v9 (domain, alias, link_id) SELECT '', alias, link_id FROM link_aliases;

-- The raw visits recorded before the analytics databases (folded into them by the
-- scheduled upkeep); only their parent changes.
CREATE TABLE visits_v9 (
    id            INTEGER PRIMARY KEY,
    link_id       INTEGER NOT NULL REFERENCES links_v9 (id),
    at            INTEGER NOT NULL,
    referrer_host TEXT CHECK (referrer_host IS NULL OR length(referrer_host) <= 255),
    country       TEXT CHECK (country IS NULL OR length(country) = 2),
    device        TEXT    NOT NULL CHECK (device IN ('desktop', 'mobile', 'tablet', 'bot', 'other')),
    is_bot        INTEGER NOT NULL CHECK (is_bot IN (0, 1)),
    visit_id      TEXT,
    batch         TEXT
);
INSERT INTO visits_v9 (id, link_id, at, referrer_host, country, device, is_bot, visit_id, batch)
SELECT id, link_id, at, referrer_host, country, device, is_bot, visit_id, batch FROM visits;

DROP TABLE visits;
DROP TABLE link_aliases;
DROP TABLE links;
ALTER TABLE links_v9 RENAME TO links;
ALTER TABLE link_aliases_v9 RENAME TO link_aliases;
ALTER TABLE visits_v9 RENAME TO visits;

-- The indexes of 0002-0008, with a shared target reused only within its domain.
CREATE UNIQUE INDEX links_reuse_target ON links (domain, target_hash) WHERE reuse = 1 AND is_active = 1;
CREATE INDEX links_created ON links (created_at DESC, key DESC);
CREATE INDEX links_host_created ON links (target_host, created_at DESC, key DESC);
CREATE INDEX links_health_due ON links (health_due_at) WHERE is_active = 1;
CREATE INDEX links_health_created ON links (health_state, created_at DESC, key DESC);
CREATE INDEX links_created_by ON links (created_by, created_at) WHERE created_by IS NOT NULL;
-- The operator list filtered by domain.
CREATE INDEX links_domain_created ON links (domain, created_at DESC, key DESC);
CREATE INDEX link_aliases_link ON link_aliases (link_id);
CREATE INDEX visits_link_at ON visits (link_id, at);
CREATE UNIQUE INDEX visits_visit_id ON visits (visit_id) WHERE visit_id IS NOT NULL;
CREATE INDEX visits_batch ON visits (batch);

-- A key is a link's key or an alias within a domain, never both (as in 0007).
CREATE TRIGGER links_key_not_alias_insert BEFORE INSERT ON links
    WHEN EXISTS (SELECT 1 FROM link_aliases WHERE domain = NEW.domain AND alias = NEW.key)
    BEGIN SELECT RAISE(ABORT, 'key is an alias of another link'); END;
CREATE TRIGGER links_key_not_alias_update BEFORE UPDATE OF key ON links
    WHEN EXISTS (SELECT 1 FROM link_aliases WHERE domain = NEW.domain AND alias = NEW.key)
    BEGIN SELECT RAISE(ABORT, 'key is an alias of a link'); END;

-- An API key may be limited to some domains: a JSON array of domain names ('' is the
-- primary domain); NULL reaches every domain.
ALTER TABLE api_keys ADD COLUMN domains TEXT
    CHECK (domains IS NULL OR (json_valid(domains) AND json_type(domains) = 'array'));
