-- lake schema, version 12: no index of markers by (run_id, detector).
--
-- Every marker a run writes went into three B-trees: the table, (run_id, pid) and
-- (run_id, detector). Under (run_id, detector) a run's rows, written in pid order, land between
-- one another at as many places as the run has detectors, so pages split in the middle instead
-- of filling at the end: the index cost a third of the writing (callgrind, 35,249 markers of the
-- bench lake's mowing run: 729 M instructions with it, 485 M without). What it served, the
-- markers of one run by detector (the run plots), is read through (run_id, pid), which narrows
-- to the run just as well; the detector is then a filter over that run's rows.
DROP INDEX IF EXISTS markers_by_run;
