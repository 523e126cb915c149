-- lake schema, version 2: crop groups, analysis runs and their results (markers, decisions,
-- heterogeneity, FOI assessment).
--
-- Every result row carries the run that produced it; `runs` keeps the run's full options text,
-- the lake version and the inputs it read, so that any figure can be traced and reproduced.

-- National crop code → crop group (e.g. the EuroCrops HCAT code and name). aoi '' applies to
-- every AOI; a row for a specific AOI takes precedence.
CREATE TABLE crop_map (
    aoi         TEXT NOT NULL DEFAULT '',
    crop_code   TEXT NOT NULL,
    crop_name   TEXT,
    group_code  TEXT NOT NULL,
    group_name  TEXT,
    source      TEXT,
    PRIMARY KEY (aoi, crop_code)
) WITHOUT ROWID;

-- One row per analysis run (markers, heterogeneity, foi, phenology).
CREATE TABLE runs (
    run_id       INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    started      TEXT NOT NULL,                 -- ISO-8601 UTC
    finished     TEXT,
    lake_version TEXT NOT NULL,
    options      TEXT NOT NULL DEFAULT '',      -- the options as given (YAML or JSON text)
    inputs       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(inputs)),
    summary      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(summary)),
    status       TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed'))
);

-- Dated events found in a parcel's index series.
CREATE TABLE markers (
    run_id      INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    pid         INTEGER NOT NULL,
    signal      TEXT NOT NULL,                  -- ndvi, bsi, vv …
    detector    TEXT NOT NULL,                  -- the detector's name in the options
    kind        TEXT NOT NULL,                  -- drop | rise | threshold | state | gap
    start_date  TEXT NOT NULL,
    date        TEXT NOT NULL,                  -- the main date of the event
    end_date    TEXT NOT NULL,
    value_start REAL,
    value_end   REAL,
    magnitude   REAL,
    confidence  REAL NOT NULL,
    details     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details))
);
CREATE INDEX markers_by_pid ON markers (pid, run_id);
CREATE INDEX markers_by_run ON markers (run_id, detector);

-- Traffic-light decisions per parcel and scheme, with their reasons.
CREATE TABLE decisions (
    run_id     INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    pid        INTEGER NOT NULL,
    scheme     TEXT NOT NULL,
    colour     TEXT NOT NULL CHECK (colour IN ('green', 'yellow', 'red')),
    clear_obs  INTEGER NOT NULL,
    reasons    TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(reasons)),
    PRIMARY KEY (run_id, pid, scheme)
) WITHOUT ROWID;
CREATE INDEX decisions_by_pid ON decisions (pid);

-- Heterogeneity measures from signatures in each parcel's crop-group window.
CREATE TABLE heterogeneity (
    run_id      INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    pid         INTEGER NOT NULL,
    crop_group  TEXT,
    n_obs       INTEGER NOT NULL,
    cv          REAL,                           -- std / mean
    qd          REAL,                           -- (p75 − p25) / (p75 + p25)
    qskew       REAL,                           -- (p75 + p25 − 2·p50) / (p75 − p25)
    score       REAL,                           -- robust z of cv within (aoi, crop group)
    rank        INTEGER,                        -- 1 = most heterogeneous
    flag        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, pid)
) WITHOUT ROWID;

-- FOI assessment (JRC v2): per parcel and thematic class, pixels and share; clusters of
-- connected pixels of one class as (class, size) and polygons.
CREATE TABLE foi_classes (
    run_id   INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    pid      INTEGER NOT NULL,
    class    INTEGER NOT NULL,
    pixels   INTEGER NOT NULL,
    share    REAL NOT NULL,                    -- percent of the parcel's pixels
    PRIMARY KEY (run_id, pid, class)
) WITHOUT ROWID;

CREATE TABLE foi_parcels (
    run_id        INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    pid           INTEGER NOT NULL,
    pixels        INTEGER NOT NULL,
    heterogeneous INTEGER NOT NULL,
    cardinality   INTEGER NOT NULL,            -- flag: more than one large cluster
    clusters      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(clusters)),   -- [[class, size], …]
    PRIMARY KEY (run_id, pid)
) WITHOUT ROWID;

CREATE TABLE foi_clusters (
    id      INTEGER PRIMARY KEY,
    run_id  INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    pid     INTEGER NOT NULL,
    class   INTEGER NOT NULL,
    pixels  INTEGER NOT NULL
);
SELECT AddGeometryColumn('foi_clusters', 'geom', @SRID@, 'MULTIPOLYGON', 'XY');

-- Each parcel with its crop group: the AOI's own mapping first, then the general one, else the
-- crop code itself.
CREATE VIEW parcel_groups AS
SELECT p.pid, p.parcel_id, p.aoi, p.year, p.ptype, p.crop_code, p.crop_name,
       coalesce(a.group_code, g.group_code, p.crop_code) AS group_code,
       coalesce(a.group_name, g.group_name, p.crop_name, p.crop_code) AS group_name
FROM parcels p
LEFT JOIN crop_map a ON a.aoi = p.aoi AND a.aoi <> '' AND a.crop_code = p.crop_code
LEFT JOIN crop_map g ON g.aoi = '' AND g.crop_code = p.crop_code;
