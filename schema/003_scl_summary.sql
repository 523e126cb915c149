-- lake schema, version 3: a per-parcel summary of the SCL histograms, so that whole-lake
-- analyses (markers, heterogeneity) read one row per parcel instead of one per scene.
--
-- `scl_hist` stays the truth. `scl_summary.data` holds, per scene of the parcel, which SCL
-- classes have pixels (bit k set when ck > 0): enough to screen clouds with any class set.
-- Format (Sources/LakeStore/Signatures/SCLSummary.swift): u8 version 1 · varint n ·
-- n × (varint obsid delta, varint class mask), sorted by obsid.
--
-- Any change to scl_hist, by lake or by anyone else's SQL, marks the parcel in `scl_dirty`
-- (triggers below); a dirty parcel's summary is not trusted and readers go to scl_hist.
-- lake rebuilds dirty summaries at the end of every command that writes histograms and before
-- every analysis run.
CREATE TABLE scl_summary (
    pid   INTEGER PRIMARY KEY REFERENCES parcels (pid) ON DELETE CASCADE,
    data  BLOB NOT NULL
);
CREATE TABLE scl_dirty (
    pid   INTEGER PRIMARY KEY
);
CREATE TRIGGER scl_hist_inserted AFTER INSERT ON scl_hist
BEGIN
    INSERT OR IGNORE INTO scl_dirty (pid) VALUES (new.pid);
END;
CREATE TRIGGER scl_hist_updated AFTER UPDATE ON scl_hist
BEGIN
    INSERT OR IGNORE INTO scl_dirty (pid) VALUES (old.pid), (new.pid);
END;
CREATE TRIGGER scl_hist_deleted AFTER DELETE ON scl_hist
BEGIN
    INSERT OR IGNORE INTO scl_dirty (pid) VALUES (old.pid);
END;

-- Histograms already in the file get their summaries at the next rebuild.
INSERT OR IGNORE INTO scl_dirty (pid) SELECT DISTINCT pid FROM scl_hist;
