-- The JRC CbM tables in PostgreSQL/PostGIS, as `lake push` writes them and `lake pull` reads
-- them ("Essential CbM tables" and "Database for JRC CbM" in the JRC documentation).
--
-- Tokens: @SCHEMA@ the schema of the parcel set's tables (JRC: a country code; default public),
-- @PREFIX@ the parcel table's name (default `<aoi>_<year>`), @SRID@ the parcels' EPSG code.
-- Every statement may run again: a push into a database that has the tables changes nothing.
-- The general tables (the scene catalogue) live in `public`, as in the JRC's database.

CREATE TABLE IF NOT EXISTS public.dias_catalogue (
    id serial NOT NULL PRIMARY KEY,
    obstime timestamp without time zone NOT NULL,
    reference character varying(120) NOT NULL,
    sensor character(2) NOT NULL,
    card character(2) NOT NULL,
    status character varying(24) DEFAULT 'ingested'::character varying NOT NULL,
    footprint public.geometry(Polygon, 4326)
);
CREATE UNIQUE INDEX IF NOT EXISTS dias_catalogue_reference_idx ON public.dias_catalogue USING btree (reference);
CREATE INDEX IF NOT EXISTS dias_catalogue_footprint_idx ON public.dias_catalogue USING gist (footprint);

-- What lake knows of a scene beyond the JRC columns (lake's `catalogue`): one row per scene.
-- `footprint` keeps a multi-part footprint whole (dias_catalogue holds its first polygon).
CREATE TABLE IF NOT EXISTS public.dias_catalogue_lake (
    id integer PRIMARY KEY REFERENCES public.dias_catalogue (id) ON DELETE CASCADE,
    platform text,
    tile text,
    relative_orbit integer,
    cloud_cover real,
    processing_baseline text,
    radiometric_offset real NOT NULL DEFAULT 0,
    assets json NOT NULL DEFAULT '{}',
    source text,
    footprint public.geometry(MultiPolygon, 4326)
);

CREATE SCHEMA IF NOT EXISTS @SCHEMA@;

-- Parcels: ogc_fid is the key the signature tables' pid refers to; id, name and code are the
-- columns the JRC RESTful server's configuration names by default (parcel_id, crop_name,
-- crop_code).
CREATE TABLE IF NOT EXISTS @SCHEMA@.@PREFIX@ (
    ogc_fid integer PRIMARY KEY,
    id text NOT NULL,
    ptype text NOT NULL DEFAULT '',
    code text,
    name text,
    area double precision,
    attributes json NOT NULL DEFAULT '{}',
    wkb_geometry public.geometry(MultiPolygon, @SRID@)
);
CREATE UNIQUE INDEX IF NOT EXISTS @PREFIX@_id_idx ON @SCHEMA@.@PREFIX@ (id, ptype);
CREATE INDEX IF NOT EXISTS @PREFIX@_geom_idx ON @SCHEMA@.@PREFIX@ USING gist (wkb_geometry);

-- Signatures per card (s2, bs, c6): the JRC form, statistics as stored digital numbers.
CREATE TABLE IF NOT EXISTS @SCHEMA@.@PREFIX@_s2_signatures (
    pid integer, obsid integer, band character(3),
    count real, mean real, std real, min real, max real, p25 real, p50 real, p75 real);
CREATE TABLE IF NOT EXISTS @SCHEMA@.@PREFIX@_bs_signatures (LIKE @SCHEMA@.@PREFIX@_s2_signatures);
CREATE TABLE IF NOT EXISTS @SCHEMA@.@PREFIX@_c6_signatures (LIKE @SCHEMA@.@PREFIX@_s2_signatures);

-- Sentinel-2 scene classification histograms: {"class": pixels, …}.
CREATE TABLE IF NOT EXISTS @SCHEMA@.@PREFIX@_s2_hists (pid integer, obsid integer, hist json);

-- JSON columns are `json` (the text as lake wrote it, so that a pull gives it back byte for byte).
-- lake's own results, keyed by the run's uid (the same in every lake and database it reaches).
CREATE TABLE IF NOT EXISTS @SCHEMA@.@PREFIX@_lake_runs (
    uid text PRIMARY KEY,
    kind text NOT NULL,
    started text NOT NULL,
    finished text,
    lake_version text NOT NULL,
    options text NOT NULL DEFAULT '',
    inputs json NOT NULL DEFAULT '{}',
    summary json NOT NULL DEFAULT '{}',
    status text NOT NULL
);
CREATE TABLE IF NOT EXISTS @SCHEMA@.@PREFIX@_lake_markers (
    run_uid text NOT NULL REFERENCES @SCHEMA@.@PREFIX@_lake_runs (uid) ON DELETE CASCADE,
    pid integer NOT NULL,
    signal text NOT NULL, detector text NOT NULL, kind text NOT NULL,
    start_date date NOT NULL, date date NOT NULL, end_date date NOT NULL,
    value_start real, value_end real, magnitude real, confidence real NOT NULL,
    details json NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS @PREFIX@_lake_markers_pidx ON @SCHEMA@.@PREFIX@_lake_markers (pid);
CREATE TABLE IF NOT EXISTS @SCHEMA@.@PREFIX@_lake_decisions (
    run_uid text NOT NULL REFERENCES @SCHEMA@.@PREFIX@_lake_runs (uid) ON DELETE CASCADE,
    pid integer NOT NULL,
    scheme text NOT NULL,
    colour text NOT NULL,
    clear_obs integer NOT NULL,
    reasons json NOT NULL DEFAULT '[]',
    PRIMARY KEY (run_uid, pid, scheme)
);
CREATE TABLE IF NOT EXISTS @SCHEMA@.@PREFIX@_lake_heterogeneity (
    run_uid text NOT NULL REFERENCES @SCHEMA@.@PREFIX@_lake_runs (uid) ON DELETE CASCADE,
    pid integer NOT NULL,
    crop_group text, n_obs integer NOT NULL,
    cv real, qd real, qskew real, score real, rank integer, flag integer NOT NULL, split_dates integer,
    PRIMARY KEY (run_uid, pid)
);

-- What each push brought: when, from which lake, how many rows of each table.
CREATE TABLE IF NOT EXISTS @SCHEMA@.@PREFIX@_lake_pushes (
    pushed timestamp with time zone NOT NULL DEFAULT now(),
    lake text NOT NULL,
    lake_version text NOT NULL,
    counts jsonb NOT NULL
);
