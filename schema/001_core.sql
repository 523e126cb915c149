-- lake schema, version 1: parcels, catalogue, signatures, SCL histograms.
--
-- Applied by LakeStore's migrator inside one transaction. The token @SRID@ is replaced by the
-- lake's SRID (chosen at `lake init`, default 3035 ETRS89-LAEA). Geometry columns are registered
-- through SpatiaLite so that QGIS/GDAL see `parcels` and `catalogue` as layers.

SELECT InitSpatialMetaData(0, 'NONE');
SELECT InsertEpsgSrid(4326);
SELECT CASE WHEN @SRID@ <> 4326 THEN InsertEpsgSrid(@SRID@) END;

-- Key/value facts about the file: srid, lake_version, created, schema_version.
CREATE TABLE lake_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per ingest or extraction of one input: what was read and what it did.
CREATE TABLE ingest_log (
    id        INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL,            -- parcels | catalogue | signatures | crops | extract
    source    TEXT NOT NULL,            -- the input file as given
    started   TEXT NOT NULL,            -- ISO-8601 UTC
    finished  TEXT,
    options   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),
    read      INTEGER NOT NULL DEFAULT 0,
    inserted  INTEGER NOT NULL DEFAULT 0,
    updated   INTEGER NOT NULL DEFAULT 0,
    skipped   INTEGER NOT NULL DEFAULT 0,
    rejected  INTEGER NOT NULL DEFAULT 0
);

-- Parcels (LPIS/GSAA polygons). `pid` is lake's internal key; `parcel_id` the source's own.
-- (aoi, year, ptype, parcel_id) identifies a declaration; ptype separates declaration sets
-- (JRC: g = grazing, m = mowing, ...).
CREATE TABLE parcels (
    pid         INTEGER PRIMARY KEY,
    parcel_id   TEXT NOT NULL,
    aoi         TEXT NOT NULL DEFAULT '',
    year        INTEGER NOT NULL DEFAULT 0,
    ptype       TEXT NOT NULL DEFAULT '',
    crop_code   TEXT,
    crop_name   TEXT,
    area        REAL NOT NULL,          -- m², on the ellipsoid or in the equal-area lake SRID
    source      TEXT NOT NULL,          -- file the parcel came from
    attributes  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),  -- all source fields
    UNIQUE (aoi, year, ptype, parcel_id)
);
SELECT AddGeometryColumn('parcels', 'geom', @SRID@, 'MULTIPOLYGON', 'XY', 1);
SELECT CreateSpatialIndex('parcels', 'geom');
CREATE INDEX parcels_by_parcel_id ON parcels (parcel_id);

-- The scene catalogue (JRC dias_catalogue). card: s2 = Sentinel-2 L2A, l1c = Sentinel-2 L1C,
-- bs = Sentinel-1 backscatter, c6 = Sentinel-1 6-day coherence.
-- radiometric_offset is added to stored digital numbers to harmonise them across processing
-- baselines (Sentinel-2 from baseline 04.00 on: -1000).
CREATE TABLE catalogue (
    obsid               INTEGER PRIMARY KEY,
    reference           TEXT NOT NULL UNIQUE,
    obstime             TEXT NOT NULL,  -- ISO-8601 UTC, e.g. 2020-06-15T10:50:31Z
    platform            TEXT,           -- sentinel-2a, sentinel-1b, ...
    sensor              TEXT NOT NULL,  -- JRC two-letter sensor: 2A, 2B, 2C, 1A, 1B, 1C
    card                TEXT NOT NULL CHECK (card IN ('s2', 'l1c', 'bs', 'c6')),
    tile                TEXT,           -- MGRS tile (S2) or datatake (S1)
    relative_orbit      INTEGER,
    cloud_cover         REAL,           -- percent
    processing_baseline TEXT,           -- e.g. 04.00
    radiometric_offset  REAL NOT NULL DEFAULT 0,
    status              TEXT NOT NULL DEFAULT 'ingested'
                        CHECK (status IN ('ingested', 'inprogress', 'extracted')
                               OR status LIKE 'failed:%'),
    assets              TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(assets)),  -- band -> href
    source              TEXT NOT NULL
);
SELECT AddGeometryColumn('catalogue', 'footprint', 4326, 'MULTIPOLYGON', 'XY');
SELECT CreateSpatialIndex('catalogue', 'footprint');
CREATE INDEX catalogue_by_time ON catalogue (obstime);

-- Band dictionary: signatures refer to bands by a small integer.
CREATE TABLE bands (
    band_id INTEGER PRIMARY KEY CHECK (band_id BETWEEN 1 AND 255),
    name    TEXT NOT NULL UNIQUE
);
INSERT INTO bands (band_id, name) VALUES
    (1, 'B01'), (2, 'B02'), (3, 'B03'), (4, 'B04'), (5, 'B05'), (6, 'B06'), (7, 'B07'),
    (8, 'B08'), (9, 'B8A'), (10, 'B09'), (11, 'B10'), (12, 'B11'), (13, 'B12'),
    (20, 'VV'), (21, 'VH'), (22, 'HH'), (23, 'HV'), (30, 'NDVI');

-- Signatures: per (parcel, scene, band) count, mean, std, min, max, p25, p50, p75, exact to
-- float32, as digital numbers of the product (the catalogue's radiometric_offset is applied
-- when they are read).
--
-- Storage is log-structured so that both parcel-ordered and scene-ordered arrival load fast and
-- one parcel's series is one contiguous read:
--  * signatures_pending: new rows as they arrive, one row per (pid, obsid) with all bands;
--  * signatures_packed:  one compressed, column-encoded series per parcel (format in
--    Sources/LakeStore/Signatures/SeriesCodec.swift); pending rows are merged into it.
-- A row in pending replaces the same (obsid, band) in packed. Readers see both.
CREATE TABLE signatures_packed (
    pid   INTEGER PRIMARY KEY REFERENCES parcels (pid) ON DELETE CASCADE,
    nrows INTEGER NOT NULL,             -- (obsid, band) rows in data
    data  BLOB NOT NULL
);
CREATE TABLE signatures_pending (
    pid   INTEGER NOT NULL REFERENCES parcels (pid) ON DELETE CASCADE,
    obsid INTEGER NOT NULL REFERENCES catalogue (obsid) ON DELETE CASCADE,
    data  BLOB NOT NULL                 -- per band: band_id u8, 8 × float32 little-endian
);
CREATE INDEX signatures_pending_by_pid ON signatures_pending (pid);

-- Sentinel-2 scene classification (SCL) histogram per parcel and scene: pixel counts per class.
-- 0 no data, 1 saturated/defective, 2 dark area, 3 cloud shadow, 4 vegetation, 5 bare soil,
-- 6 water, 7 unclassified, 8 cloud medium prob., 9 cloud high prob., 10 thin cirrus, 11 snow.
CREATE TABLE scl_hist (
    pid   INTEGER NOT NULL REFERENCES parcels (pid) ON DELETE CASCADE,
    obsid INTEGER NOT NULL REFERENCES catalogue (obsid) ON DELETE CASCADE,
    c0 INTEGER NOT NULL DEFAULT 0, c1 INTEGER NOT NULL DEFAULT 0, c2 INTEGER NOT NULL DEFAULT 0,
    c3 INTEGER NOT NULL DEFAULT 0, c4 INTEGER NOT NULL DEFAULT 0, c5 INTEGER NOT NULL DEFAULT 0,
    c6 INTEGER NOT NULL DEFAULT 0, c7 INTEGER NOT NULL DEFAULT 0, c8 INTEGER NOT NULL DEFAULT 0,
    c9 INTEGER NOT NULL DEFAULT 0, c10 INTEGER NOT NULL DEFAULT 0, c11 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (pid, obsid)
) WITHOUT ROWID;
