-- lake schema, version 4: grey decisions (no check exists) and heterogeneity split dates.
-- too few peers in the lake to learn from, or no rule) — which is not the same as yellow
-- (checked, inconclusive). Decisions of every scheme and the overall light (`lake decide`,
-- scheme 'overall', its reasons naming the runs it combined) live in this one table.
CREATE TABLE decisions_v4 (
    run_id     INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    pid        INTEGER NOT NULL,
    scheme     TEXT NOT NULL,
    colour     TEXT NOT NULL CHECK (colour IN ('green', 'yellow', 'red', 'grey')),
    clear_obs  INTEGER NOT NULL,
    reasons    TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(reasons)),
    PRIMARY KEY (run_id, pid, scheme)
) WITHOUT ROWID;
INSERT INTO decisions_v4 SELECT run_id, pid, scheme, colour, clear_obs, reasons FROM decisions;
DROP TABLE decisions;
ALTER TABLE decisions_v4 RENAME TO decisions;
CREATE INDEX decisions_by_pid ON decisions (pid);

-- Heterogeneity (method persistent): on how many clear dates the parcel looked split.
ALTER TABLE heterogeneity ADD COLUMN split_dates INTEGER;
