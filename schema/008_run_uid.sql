-- lake schema, version 8: every run gets an identity that survives copying it to another lake
-- (`lake subset`, `lake merge`) or to PostgreSQL (`lake push`): run_id is local to one file,
-- uid (32 hex digits, random) is the same wherever the run goes, so that a run brought back is
-- recognised and not stored twice.
ALTER TABLE runs ADD COLUMN uid TEXT;
UPDATE runs SET uid = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX runs_by_uid ON runs (uid);
CREATE TRIGGER runs_uid_on_insert AFTER INSERT ON runs WHEN NEW.uid IS NULL
BEGIN
    UPDATE runs SET uid = lower(hex(randomblob(16))) WHERE run_id = NEW.run_id;
END;
