-- Which domains each audit record concerns (issue 24), so that an admin key limited to
-- some domains reads only their records: a JSON array of stored domain names ('' for
-- the primary), or NULL for a record about the whole instance (an unlimited key, a
-- batch of unknown domains), which only unlimited admins read.
ALTER TABLE audit_log ADD COLUMN domains TEXT
    CHECK (domains IS NULL OR (json_valid(domains) AND json_type(domains) = 'array'));

-- Records written before: a link's record names it `host/key` (or `key` on the
-- primary domain); a key's record takes the key's own limit.
UPDATE audit_log SET domains = json_array(
        CASE WHEN instr(target, '/') > 0 THEN substr(target, 1, instr(target, '/') - 1) ELSE '' END)
    WHERE action IN ('link.update', 'link.deactivate') AND target IS NOT NULL;
UPDATE audit_log SET domains = (SELECT k.domains FROM api_keys k WHERE k.id = audit_log.target)
    WHERE action IN ('key.create', 'key.revoke');
