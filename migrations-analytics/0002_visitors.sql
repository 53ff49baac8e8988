-- Unique visitors per link and day (issue 28): a HyperLogLog sketch as a JSON object,
-- merged in the same upsert as the day's clicks (src/clicks/analytics.rs), so it costs
-- no row written beyond the daily row's. Sparse while small: "s<25-bit index>" -> rank,
-- one entry per distinct visitor, up to 2,048 entries; dense after: "<register 0..4095>"
-- -> rank. Never an address or a hash: an entry is 25 bits of a keyed hash whose key
-- (day_keys in the links database) is deleted once its day is over. See
-- domain/src/visitors.rs and docs/scaling.md.
ALTER TABLE daily ADD COLUMN visitors TEXT NOT NULL DEFAULT '{}'
    CHECK (json_valid(visitors) AND json_type(visitors) = 'object');
