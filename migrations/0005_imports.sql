-- Links brought in from another shortener (POST /api/links/import). A link's historical
-- click count is added to `clicks`, so its limits and totals see it, and recorded here
-- as imported: it was never a visit, so no day, referrer or country is invented for it,
-- and the daily aggregates hold only clicks counted by this service. `imported_at` is
-- when the link arrived (NULL for a link made here); its `created_at` keeps the source's.
ALTER TABLE links ADD COLUMN imported_clicks INTEGER NOT NULL DEFAULT 0 CHECK (imported_clicks >= 0);
ALTER TABLE links ADD COLUMN imported_at INTEGER;
