-- Reusable UTM templates of the operator API (issue 28): a name and the UTM fields a
-- link created with `utm_template` starts from (src/storage/utm_templates.rs). The
-- name rule mirrors domain/controls/utm.rs (`template_name`); `fields` is the JSON
-- object `Utm::to_value` writes.
CREATE TABLE utm_templates (
    name       TEXT    PRIMARY KEY
               CHECK (length(name) BETWEEN 1 AND 40 AND name NOT GLOB '*[^a-z0-9._-]*'),
    fields     TEXT    NOT NULL CHECK (json_valid(fields) AND json_type(fields) = 'object'),
    created_at INTEGER NOT NULL,
    created_by TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
