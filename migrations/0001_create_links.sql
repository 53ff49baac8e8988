-- Links: one row per short link. The CHECK constraints mirror the domain rules in
-- src/domain so that no code path can store a row the service would refuse.
CREATE TABLE links (
    id          INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE
                CHECK (length(key) BETWEEN 3 AND 64 AND key NOT GLOB '*[^a-z0-9_-]*'),
    target_url  TEXT    NOT NULL
                CHECK (length(target_url) <= 2048
                       AND (substr(target_url, 1, 7) = 'http://' OR substr(target_url, 1, 8) = 'https://')),
    secret_hash TEXT    NOT NULL UNIQUE
                CHECK (length(secret_hash) = 64 AND secret_hash NOT GLOB '*[^0-9a-f]*'),
    is_active   INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    clicks      INTEGER NOT NULL DEFAULT 0 CHECK (clicks >= 0),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
