-- Old days folded into months (issue 28): the Cron job folds a link's daily rows of
-- months that ended before the previous one into one row per link and month (clicks
-- and bots summed, dims summed and capped per dimension, visitor sketches united,
-- hours dropped) and deletes the days, so thirteen months of statistics keep about one
-- row per link and month instead of one per day (src/clicks/maintenance.rs,
-- docs/scaling.md). month = the day number (epoch ms / 86,400,000) of the month's
-- first UTC day. Written only by the Cron job.
CREATE TABLE monthly (
    link_key TEXT    NOT NULL,
    month    INTEGER NOT NULL,
    clicks   INTEGER NOT NULL CHECK (clicks >= 0),
    bots     INTEGER NOT NULL CHECK (bots >= 0),
    dims     TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(dims) AND json_type(dims) = 'object'),
    visitors TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(visitors) AND json_type(visitors) = 'object'),
    PRIMARY KEY (link_key, month)
) WITHOUT ROWID;
-- The retention prune finds old months through this, without reading the others.
CREATE INDEX monthly_month ON monthly (month);
