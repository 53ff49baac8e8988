-- Recent activity by the hour (issue 28): a link's clicks per UTC hour of the day, as a
-- JSON object "<hour 0..23>" -> clicks, merged in the same upsert as the day's clicks
-- (no row written beyond the daily row's). Kept while the statistics show it (the last
-- 48 hours); the Cron job empties it on older rows (src/clicks/maintenance.rs).
ALTER TABLE daily ADD COLUMN hours TEXT NOT NULL DEFAULT '{}'
    CHECK (json_valid(hours) AND json_type(hours) = 'object');
