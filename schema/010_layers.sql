-- lake schema, version 10: every result on a map, per event and per run, with no SQL.
--
-- Layers of one feature per parcel (the latest run) are views over the parcels, keyed by pid,
-- so the parcels' spatial index serves them: lights and mowing_events (version 5), and now
--   heterogeneity_latest  the latest heterogeneity run: score, rank, flag, split dates;
--   foi_latest            the latest FOI run: pixels, heterogeneous, cardinality, clusters.
-- Layers of one feature per result row (per event, per run) cannot be keyed by pid — a parcel
-- has several events and several runs — so they sit at the parcel's point, keyed by the row:
--   events                every marker event of each detector's latest run;
--   events_all_runs       every marker event of every run (filter on run_id for one run);
--   decisions_all_runs    every decision of every run, one per run, parcel and scheme (each run
--                         decides one scheme), keyed by run_id · 2³² + pid.
-- Their points come from parcel_points (one point on each parcel's surface, in the lake SRID,
-- kept by triggers whatever writes the parcels). parcel_points has no spatial index on
-- purpose: GDAL and QGIS filter a view by its base table's index through the view's key, which
-- for these layers is the result row, not the parcel. foi_clusters gets the spatial index it
-- lacked. Default QGIS styles as in version 9.
CREATE TABLE parcel_points (
    pid INTEGER PRIMARY KEY
);
SELECT AddGeometryColumn('parcel_points', 'geom', @SRID@, 'POINT', 'XY');
INSERT INTO parcel_points (pid, geom) SELECT pid, ST_PointOnSurface(geom) FROM parcels;

-- One point on the surface for both the WGS 84 point of version 7 and parcel_points: the
-- version 7 triggers are replaced by triggers that work it out once.
DROP TRIGGER parcels_point_on_insert;
DROP TRIGGER parcels_point_on_update;
CREATE TRIGGER parcels_point_on_insert AFTER INSERT ON parcels
BEGIN
    INSERT OR REPLACE INTO parcel_points (pid, geom) VALUES (NEW.pid, ST_PointOnSurface(NEW.geom));
    UPDATE parcels SET (lon, lat) = (SELECT X(p), Y(p) FROM (SELECT Transform(geom, 4326) AS p FROM parcel_points WHERE pid = NEW.pid))
    WHERE pid = NEW.pid;
END;
CREATE TRIGGER parcels_point_on_update AFTER UPDATE OF geom ON parcels
BEGIN
    INSERT OR REPLACE INTO parcel_points (pid, geom) VALUES (NEW.pid, ST_PointOnSurface(NEW.geom));
    UPDATE parcels SET (lon, lat) = (SELECT X(p), Y(p) FROM (SELECT Transform(geom, 4326) AS p FROM parcel_points WHERE pid = NEW.pid))
    WHERE pid = NEW.pid;
END;
CREATE TRIGGER parcels_point_on_delete AFTER DELETE ON parcels
BEGIN
    DELETE FROM parcel_points WHERE pid = OLD.pid;
END;

SELECT CreateSpatialIndex('foi_clusters', 'geom');

CREATE VIEW heterogeneity_latest AS
SELECT p.pid AS pid, p.parcel_id AS parcel_id, p.aoi AS aoi, p.year AS year,
       p.crop_code AS crop_code, p.crop_name AS crop_name,
       h.run_id AS run_id, h.crop_group AS crop_group, h.n_obs AS n_obs, h.cv AS cv, h.qd AS qd,
       h.qskew AS qskew, h.score AS score, h.rank AS rank, h.flag AS flag, h.split_dates AS split_dates,
       p.geom AS geom
FROM parcels p
JOIN heterogeneity h ON h.pid = p.pid
     AND h.run_id = (SELECT max(run_id) FROM runs WHERE kind = 'heterogeneity' AND status = 'done');

CREATE VIEW foi_latest AS
SELECT p.pid AS pid, p.parcel_id AS parcel_id, p.aoi AS aoi, p.year AS year,
       p.crop_code AS crop_code, p.crop_name AS crop_name,
       f.run_id AS run_id, f.pixels AS pixels, f.heterogeneous AS heterogeneous,
       f.cardinality AS cardinality, f.clusters AS clusters,
       p.geom AS geom
FROM parcels p
JOIN foi_parcels f ON f.pid = p.pid
     AND f.run_id = (SELECT max(run_id) FROM runs WHERE kind = 'foi' AND status = 'done');

CREATE VIEW events_all_runs AS
SELECT m.rowid AS fid, m.run_id AS run_id, p.parcel_id AS parcel_id, p.aoi AS aoi, p.year AS year,
       p.crop_code AS crop_code, p.crop_name AS crop_name,
       m.detector AS detector, m.signal AS signal, m.kind AS kind, m.date AS date,
       m.start_date AS start_date, m.end_date AS end_date, m.value_start AS value_start,
       m.value_end AS value_end, m.magnitude AS magnitude, m.confidence AS confidence,
       m.details AS details, pt.geom AS geom
FROM markers m
JOIN parcels p ON p.pid = m.pid
JOIN parcel_points pt ON pt.pid = m.pid;

CREATE VIEW events AS
SELECT e.* FROM events_all_runs e
JOIN (SELECT detector, max(run_id) AS run_id FROM markers GROUP BY detector) l
     ON l.detector = e.detector AND l.run_id = e.run_id;

CREATE VIEW decisions_all_runs AS
SELECT d.run_id * 4294967296 + d.pid AS fid, d.run_id AS run_id, d.scheme AS scheme,
       p.parcel_id AS parcel_id, p.aoi AS aoi, p.year AS year,
       p.crop_code AS crop_code, p.crop_name AS crop_name,
       d.colour AS light, d.clear_obs AS clear_obs, d.reasons AS reasons, pt.geom AS geom
FROM decisions d
JOIN parcels p ON p.pid = d.pid
JOIN parcel_points pt ON pt.pid = d.pid;

INSERT INTO views_geometry_columns (view_name, view_geometry, view_rowid, f_table_name, f_geometry_column, read_only)
VALUES ('heterogeneity_latest', 'geom', 'pid', 'parcels', 'geom', 1),
       ('foi_latest', 'geom', 'pid', 'parcels', 'geom', 1),
       ('events_all_runs', 'geom', 'fid', 'parcel_points', 'geom', 1),
       ('events', 'geom', 'fid', 'parcel_points', 'geom', 1),
       ('decisions_all_runs', 'geom', 'fid', 'parcel_points', 'geom', 1);

INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner)
SELECT '', '', 'events', 'geom', 'lake marker events', '<!DOCTYPE qgis PUBLIC ''http://mrcc.com/qgis.dtd'' ''SYSTEM''><qgis version="3.28.0" styleCategories="Symbology"><renderer-v2 type="categorizedSymbol" attr="detector" symbollevels="0" enableorderby="0" forceraster="0" referencescale="-1"><categories><category symbol="0" value="mowing" label="mowing" render="true"/><category symbol="1" value="harvest" label="harvest" render="true"/><category symbol="2" value="" label="other detectors" render="true"/></categories><symbols><symbol type="marker" name="0" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleMarker" pass="0" locked="0" enabled="1"><Option type="Map"><Option type="QString" name="color" value="106,27,154,255"/><Option type="QString" name="name" value="circle"/><Option type="QString" name="outline_color" value="35,35,35,255"/><Option type="QString" name="size" value="2.6"/></Option><prop k="color" v="106,27,154,255"/><prop k="name" v="circle"/><prop k="outline_color" v="35,35,35,255"/><prop k="size" v="2.6"/></layer></symbol><symbol type="marker" name="1" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleMarker" pass="0" locked="0" enabled="1"><Option type="Map"><Option type="QString" name="color" value="230,126,34,255"/><Option type="QString" name="name" value="circle"/><Option type="QString" name="outline_color" value="35,35,35,255"/><Option type="QString" name="size" value="2.6"/></Option><prop k="color" v="230,126,34,255"/><prop k="name" v="circle"/><prop k="outline_color" v="35,35,35,255"/><prop k="size" v="2.6"/></layer></symbol><symbol type="marker" name="2" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleMarker" pass="0" locked="0" enabled="1"><Option type="Map"><Option type="QString" name="color" value="33,150,243,255"/><Option type="QString" name="name" value="circle"/><Option type="QString" name="outline_color" value="35,35,35,255"/><Option type="QString" name="size" value="2.6"/></Option><prop k="color" v="33,150,243,255"/><prop k="name" v="circle"/><prop k="outline_color" v="35,35,35,255"/><prop k="size" v="2.6"/></layer></symbol></symbols></renderer-v2></qgis>', '', 1,
       'Every event of each detector''s latest run, at the parcel', 'lake'
WHERE NOT EXISTS (SELECT 1 FROM layer_styles WHERE f_table_name = 'events' AND useAsDefault);
INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner)
SELECT '', '', 'events_all_runs', 'geom', 'lake marker events', '<!DOCTYPE qgis PUBLIC ''http://mrcc.com/qgis.dtd'' ''SYSTEM''><qgis version="3.28.0" styleCategories="Symbology"><renderer-v2 type="categorizedSymbol" attr="detector" symbollevels="0" enableorderby="0" forceraster="0" referencescale="-1"><categories><category symbol="0" value="mowing" label="mowing" render="true"/><category symbol="1" value="harvest" label="harvest" render="true"/><category symbol="2" value="" label="other detectors" render="true"/></categories><symbols><symbol type="marker" name="0" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleMarker" pass="0" locked="0" enabled="1"><Option type="Map"><Option type="QString" name="color" value="106,27,154,255"/><Option type="QString" name="name" value="circle"/><Option type="QString" name="outline_color" value="35,35,35,255"/><Option type="QString" name="size" value="2.6"/></Option><prop k="color" v="106,27,154,255"/><prop k="name" v="circle"/><prop k="outline_color" v="35,35,35,255"/><prop k="size" v="2.6"/></layer></symbol><symbol type="marker" name="1" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleMarker" pass="0" locked="0" enabled="1"><Option type="Map"><Option type="QString" name="color" value="230,126,34,255"/><Option type="QString" name="name" value="circle"/><Option type="QString" name="outline_color" value="35,35,35,255"/><Option type="QString" name="size" value="2.6"/></Option><prop k="color" v="230,126,34,255"/><prop k="name" v="circle"/><prop k="outline_color" v="35,35,35,255"/><prop k="size" v="2.6"/></layer></symbol><symbol type="marker" name="2" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleMarker" pass="0" locked="0" enabled="1"><Option type="Map"><Option type="QString" name="color" value="33,150,243,255"/><Option type="QString" name="name" value="circle"/><Option type="QString" name="outline_color" value="35,35,35,255"/><Option type="QString" name="size" value="2.6"/></Option><prop k="color" v="33,150,243,255"/><prop k="name" v="circle"/><prop k="outline_color" v="35,35,35,255"/><prop k="size" v="2.6"/></layer></symbol></symbols></renderer-v2></qgis>', '', 1,
       'Every marker event of every run, at the parcel (filter on run_id)', 'lake'
WHERE NOT EXISTS (SELECT 1 FROM layer_styles WHERE f_table_name = 'events_all_runs' AND useAsDefault);
INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner)
SELECT '', '', 'decisions_all_runs', 'geom', 'lake decisions', '<!DOCTYPE qgis PUBLIC ''http://mrcc.com/qgis.dtd'' ''SYSTEM''><qgis version="3.28.0" styleCategories="Symbology"><renderer-v2 type="categorizedSymbol" attr="light" symbollevels="0" enableorderby="0" forceraster="0" referencescale="-1"><categories><category symbol="0" value="green" label="green: confirmed" render="true"/><category symbol="1" value="yellow" label="yellow: inconclusive" render="true"/><category symbol="2" value="red" label="red: rejected" render="true"/><category symbol="3" value="grey" label="grey: no check exists" render="true"/></categories><symbols><symbol type="marker" name="0" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleMarker" pass="0" locked="0" enabled="1"><Option type="Map"><Option type="QString" name="color" value="76,175,80,255"/><Option type="QString" name="name" value="circle"/><Option type="QString" name="outline_color" value="35,35,35,255"/><Option type="QString" name="size" value="2.6"/></Option><prop k="color" v="76,175,80,255"/><prop k="name" v="circle"/><prop k="outline_color" v="35,35,35,255"/><prop k="size" v="2.6"/></layer></symbol><symbol type="marker" name="1" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleMarker" pass="0" locked="0" enabled="1"><Option type="Map"><Option type="QString" name="color" value="253,216,53,255"/><Option type="QString" name="name" value="circle"/><Option type="QString" name="outline_color" value="35,35,35,255"/><Option type="QString" name="size" value="2.6"/></Option><prop k="color" v="253,216,53,255"/><prop k="name" v="circle"/><prop k="outline_color" v="35,35,35,255"/><prop k="size" v="2.6"/></layer></symbol><symbol type="marker" name="2" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleMarker" pass="0" locked="0" enabled="1"><Option type="Map"><Option type="QString" name="color" value="229,57,53,255"/><Option type="QString" name="name" value="circle"/><Option type="QString" name="outline_color" value="35,35,35,255"/><Option type="QString" name="size" value="2.6"/></Option><prop k="color" v="229,57,53,255"/><prop k="name" v="circle"/><prop k="outline_color" v="35,35,35,255"/><prop k="size" v="2.6"/></layer></symbol><symbol type="marker" name="3" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleMarker" pass="0" locked="0" enabled="1"><Option type="Map"><Option type="QString" name="color" value="158,158,158,255"/><Option type="QString" name="name" value="circle"/><Option type="QString" name="outline_color" value="35,35,35,255"/><Option type="QString" name="size" value="2.6"/></Option><prop k="color" v="158,158,158,255"/><prop k="name" v="circle"/><prop k="outline_color" v="35,35,35,255"/><prop k="size" v="2.6"/></layer></symbol></symbols></renderer-v2></qgis>', '', 1,
       'Every decision of every run, at the parcel (filter on run_id or scheme)', 'lake'
WHERE NOT EXISTS (SELECT 1 FROM layer_styles WHERE f_table_name = 'decisions_all_runs' AND useAsDefault);
INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner)
SELECT '', '', 'heterogeneity_latest', 'geom', 'lake heterogeneity', '<!DOCTYPE qgis PUBLIC ''http://mrcc.com/qgis.dtd'' ''SYSTEM''><qgis version="3.28.0" styleCategories="Symbology"><renderer-v2 type="categorizedSymbol" attr="flag" symbollevels="0" enableorderby="0" forceraster="0" referencescale="-1"><categories><category symbol="0" value="1" label="flagged: not one crop" render="true"/><category symbol="1" value="0" label="one crop" render="true"/></categories><symbols><symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleFill" pass="0" locked="0" enabled="1"><Option type="Map"><Option type="QString" name="color" value="255,112,67,200"/><Option type="QString" name="outline_color" value="35,35,35,255"/><Option type="QString" name="outline_width" value="0.26"/><Option type="QString" name="style" value="solid"/></Option><prop k="color" v="255,112,67,200"/><prop k="outline_color" v="35,35,35,255"/><prop k="outline_width" v="0.26"/><prop k="style" v="solid"/></layer></symbol><symbol type="fill" name="1" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleFill" pass="0" locked="0" enabled="1"><Option type="Map"><Option type="QString" name="color" value="255,255,255,0"/><Option type="QString" name="outline_color" value="35,35,35,255"/><Option type="QString" name="outline_width" value="0.26"/><Option type="QString" name="style" value="solid"/></Option><prop k="color" v="255,255,255,0"/><prop k="outline_color" v="35,35,35,255"/><prop k="outline_width" v="0.26"/><prop k="style" v="solid"/></layer></symbol></symbols></renderer-v2></qgis>', '', 1,
       'The latest heterogeneity run: flagged parcels in orange', 'lake'
WHERE NOT EXISTS (SELECT 1 FROM layer_styles WHERE f_table_name = 'heterogeneity_latest' AND useAsDefault);
INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner)
SELECT '', '', 'foi_latest', 'geom', 'lake FOI', '<!DOCTYPE qgis PUBLIC ''http://mrcc.com/qgis.dtd'' ''SYSTEM''><qgis version="3.28.0" styleCategories="Symbology"><renderer-v2 type="categorizedSymbol" attr="heterogeneous" symbollevels="0" enableorderby="0" forceraster="0" referencescale="-1"><categories><category symbol="0" value="1" label="flagged: not one crop" render="true"/><category symbol="1" value="0" label="one crop" render="true"/></categories><symbols><symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleFill" pass="0" locked="0" enabled="1"><Option type="Map"><Option type="QString" name="color" value="255,112,67,200"/><Option type="QString" name="outline_color" value="35,35,35,255"/><Option type="QString" name="outline_width" value="0.26"/><Option type="QString" name="style" value="solid"/></Option><prop k="color" v="255,112,67,200"/><prop k="outline_color" v="35,35,35,255"/><prop k="outline_width" v="0.26"/><prop k="style" v="solid"/></layer></symbol><symbol type="fill" name="1" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleFill" pass="0" locked="0" enabled="1"><Option type="Map"><Option type="QString" name="color" value="255,255,255,0"/><Option type="QString" name="outline_color" value="35,35,35,255"/><Option type="QString" name="outline_width" value="0.26"/><Option type="QString" name="style" value="solid"/></Option><prop k="color" v="255,255,255,0"/><prop k="outline_color" v="35,35,35,255"/><prop k="outline_width" v="0.26"/><prop k="style" v="solid"/></layer></symbol></symbols></renderer-v2></qgis>', '', 1,
       'The latest FOI run: heterogeneous parcels in orange', 'lake'
WHERE NOT EXISTS (SELECT 1 FROM layer_styles WHERE f_table_name = 'foi_latest' AND useAsDefault);
