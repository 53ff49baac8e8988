-- Visits written in batches (coalesced per isolate, or from the click queue) carry an
-- id, so a redelivered batch inserts nothing twice, and the id of the write that
-- inserted them, so that write counts exactly the rows it added.
ALTER TABLE visits ADD COLUMN visit_id TEXT;
ALTER TABLE visits ADD COLUMN batch TEXT;
CREATE UNIQUE INDEX visits_visit_id ON visits (visit_id) WHERE visit_id IS NOT NULL;
CREATE INDEX visits_batch ON visits (batch);
