-- lake schema, version 11: markers indexed by (run_id, pid) instead of (pid, run_id).
--
-- A markers run writes its rows in pid order. Under (pid, run_id) each run's entries fell
-- between every earlier run's, so a run touched every page of that index and grew slower as runs
-- accumulated in the lake (on the 20,000-parcel bench lake the writing took 0.25 s on a fresh
-- lake and 0.5 s with 25 runs in it). Under (run_id, pid) a run's entries are appended. One
-- parcel's markers are read run by run: one probe of this index per run.
DROP INDEX IF EXISTS markers_by_pid;
CREATE INDEX IF NOT EXISTS markers_by_run_pid ON markers (run_id, pid);
