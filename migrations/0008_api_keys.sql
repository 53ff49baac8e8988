-- Named API keys for the operator API (ADMIN_TOKEN stays the bootstrap root key). A
-- token is shown once; only its SHA-256 is stored. `id` is the public name of a key
-- (in lists, the audit log and links.created_by); revoking sets revoked_at.
CREATE TABLE api_keys (
    id           TEXT    PRIMARY KEY CHECK (length(id) = 16 AND substr(id, 1, 4) = 'key_'),
    name         TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 400),
    role         TEXT    NOT NULL CHECK (role IN ('admin', 'creator', 'reader', 'stats')),
    token_hash   TEXT    NOT NULL UNIQUE
                 CHECK (length(token_hash) = 64 AND token_hash NOT GLOB '*[^0-9a-f]*'),
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER
) WITHOUT ROWID;

-- Which operator created a link ('root' or an API key id); NULL for links made on the
-- public page or POST /url. A creator key sees and changes only its own links.
ALTER TABLE links ADD COLUMN created_by TEXT;
CREATE INDEX links_created_by ON links (created_by, created_at) WHERE created_by IS NOT NULL;

-- Every operator write: who made it, what it did, to what, and what changed (never a
-- secret or a token). Listed newest first by id.
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    actor  TEXT    NOT NULL,
    action TEXT    NOT NULL,
    target TEXT,
    detail TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
