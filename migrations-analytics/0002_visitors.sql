-- Unique visitors per link and day (issue 28): a HyperLogLog sketch of 4,096 registers
-- as a JSON object "<register 0..4095>" -> rank (1..53), the empty registers left out,
-- merged in the same upsert as the day's clicks (src/clicks/analytics.rs), so it costs
-- no row written beyond the daily row's. Never an address or a hash: a register is 12
-- bits of a keyed hash and a rank, what a dense sketch holds anyway, under a key
-- (day_keys in the links database) that is deleted once its day is over. See
-- domain/src/visitors.rs and docs/scaling.md.
ALTER TABLE daily ADD COLUMN visitors TEXT NOT NULL DEFAULT '{}'
    CHECK (json_valid(visitors) AND json_type(visitors) = 'object');
