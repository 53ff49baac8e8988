-- Link controls (issue 11): title, tags, note, validity window, fallback, targeting
-- rules, A/B split and crawlability, as one JSON object per link (src/domain/controls.rs
-- parses it; '{}' is a plain link), and renames.
ALTER TABLE links ADD COLUMN controls TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(controls));
-- The key a renamed link's clicks and statistics stay under: its first key. The
-- analytics rows are keyed by it (migrations-analytics/0001), and it never changes.
-- NULL while the link keeps its first key.
ALTER TABLE links ADD COLUMN stats_key TEXT;
CREATE UNIQUE INDEX links_stats_key ON links (stats_key) WHERE stats_key IS NOT NULL;

-- The former keys of renamed links: each still redirects to (and counts for) its link.
-- A key is either a link's key or an alias, never both: the insert and the rename
-- check this table, and a rename checks links.
CREATE TABLE link_aliases (
    alias   TEXT    PRIMARY KEY
            CHECK (length(alias) BETWEEN 3 AND 64 AND alias NOT GLOB '*[^a-z0-9_-]*'),
    link_id INTEGER NOT NULL REFERENCES links (id)
) WITHOUT ROWID;
CREATE INDEX link_aliases_link ON link_aliases (link_id);
CREATE TRIGGER links_key_not_alias_insert BEFORE INSERT ON links
    WHEN EXISTS (SELECT 1 FROM link_aliases WHERE alias = NEW.key)
    BEGIN SELECT RAISE(ABORT, 'key is an alias of another link'); END;
CREATE TRIGGER links_key_not_alias_update BEFORE UPDATE OF key ON links
    WHEN EXISTS (SELECT 1 FROM link_aliases WHERE alias = NEW.key)
    BEGIN SELECT RAISE(ABORT, 'key is an alias of a link'); END;

-- Password attempts per link ('l:<key>') and per client address ('c:<ip>') in fixed
-- windows of PASSWORD_WINDOW_SECONDS (src/config.rs): an attempt is admitted by one
-- conditional upsert, so concurrent attempts cannot pass the limit. Windows older than
-- a day are pruned by the scheduled job.
CREATE TABLE password_attempts (
    scope  TEXT    NOT NULL CHECK (length(scope) <= 200),
    slot   INTEGER NOT NULL,
    n      INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (scope, slot)
) WITHOUT ROWID;
