-- Signed event webhooks (issue 28): endpoints the operator registers through
-- /api/webhooks (src/storage/webhooks.rs). `events` is a JSON list of event names
-- (domain/webhook.rs); `secret` signs each delivery (HMAC-SHA256, as the health
-- webhook's WEBHOOK_SECRET) and is shown once, at creation; it must be kept readable
-- because every delivery is signed with it.
CREATE TABLE webhooks (
    id         TEXT    PRIMARY KEY CHECK (id GLOB 'wh_*' AND length(id) = 23),
    url        TEXT    NOT NULL CHECK (length(url) BETWEEN 9 AND 2048),
    events     TEXT    NOT NULL CHECK (json_valid(events) AND json_type(events) = 'array'
                                       AND json_array_length(events) BETWEEN 1 AND 6),
    secret     TEXT    NOT NULL CHECK (length(secret) >= 32),
    created_at INTEGER NOT NULL,
    created_by TEXT    NOT NULL
) WITHOUT ROWID;
