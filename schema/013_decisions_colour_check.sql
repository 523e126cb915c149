-- lake schema, version 13: the decisions' colour checked by comparisons, not by an IN list.
--
-- SQLite evaluates `CHECK (colour IN ('green', 'yellow', 'red', 'grey'))` by building a
-- temporary index of the four words for every row inserted: 10,000 instructions a row, more than
-- the row's own insert (callgrind: 200,000 decisions 3.54 G instructions with it, 1.50 G with
-- the comparisons). A markers run writes one decision per parcel. The same rule, the same
-- table otherwise; its rows are copied over. Views that read `decisions` name it, and keep
-- naming it after the rename (legacy_alter_table: the rename leaves them as they are).
PRAGMA legacy_alter_table = ON;
CREATE TABLE decisions_v13 (
    run_id     INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    pid        INTEGER NOT NULL,
    scheme     TEXT NOT NULL,
    colour     TEXT NOT NULL CHECK (colour = 'green' OR colour = 'yellow' OR colour = 'red' OR colour = 'grey'),
    clear_obs  INTEGER NOT NULL,
    reasons    TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(reasons)),
    PRIMARY KEY (run_id, pid, scheme)
) WITHOUT ROWID;
INSERT INTO decisions_v13 SELECT run_id, pid, scheme, colour, clear_obs, reasons FROM decisions;
DROP TABLE decisions;
ALTER TABLE decisions_v13 RENAME TO decisions;
CREATE INDEX decisions_by_pid ON decisions (pid);
PRAGMA legacy_alter_table = OFF;
