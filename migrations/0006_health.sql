-- Link health (issue 12): what the last checks of the target saw, and when to check it
-- again. The CHECK constraints mirror src/domain/health.rs.
ALTER TABLE links ADD COLUMN health_state TEXT NOT NULL DEFAULT 'unknown'
    CHECK (health_state IN ('unknown', 'healthy', 'unhealthy', 'dead', 'unverifiable'));
ALTER TABLE links ADD COLUMN health_checked_at INTEGER;
ALTER TABLE links ADD COLUMN health_status INTEGER
    CHECK (health_status IS NULL OR health_status BETWEEN 100 AND 599);
ALTER TABLE links ADD COLUMN health_reason TEXT
    CHECK (health_reason IS NULL OR length(health_reason) <= 200);
-- Since when health_state holds.
ALTER TABLE links ADD COLUMN health_since INTEGER;
-- Failed checks in a row (three make a link dead).
ALTER TABLE links ADD COLUMN health_failures INTEGER NOT NULL DEFAULT 0 CHECK (health_failures >= 0);
-- When the scheduled checks look at the link next; 0 (never checked) sorts first.
ALTER TABLE links ADD COLUMN health_due_at INTEGER NOT NULL DEFAULT 0;
-- What a visitor of the link gets once it is dead; NULL: the instance's DEAD_LINK_MODE.
ALTER TABLE links ADD COLUMN dead_link_mode TEXT
    CHECK (dead_link_mode IS NULL OR dead_link_mode IN ('redirect', 'interstitial', 'gone'));

-- The scheduled checks take the stalest active links first: a range scan of this index.
CREATE INDEX links_health_due ON links (health_due_at) WHERE is_active = 1;
-- The operator's list filtered by state, newest first.
CREATE INDEX links_health_created ON links (health_state, created_at DESC, key DESC);
