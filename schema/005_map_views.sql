-- lake schema, version 5: the results on a map without SQL. Spatial views over the parcels,
-- registered in SpatiaLite's views_geometry_columns so that QGIS, ogrinfo and geopandas list
-- them as layers (geometry in the lake SRID, one feature per parcel, keyed by pid — the
-- parcels' rowid, so the parcels' spatial index serves them):
--   lights          the latest light of every scheme (lake decide's `overall`, the crop check,
--                   mowing, rule-based phenology) and the latest heterogeneity flag;
--   mowing_events   the cut dates of the latest markers run that has `mowing` markers.
-- Each view always shows the latest runs; earlier runs stay in decisions/markers (lake report
-- decisions --run N).
CREATE VIEW lights AS
SELECT p.pid AS pid, p.parcel_id AS parcel_id, p.aoi AS aoi, p.year AS year,
       p.crop_code AS crop_code, p.crop_name AS crop_name,
       o.colour AS light, o.reasons AS reasons,
       c.colour AS crop_check, m.colour AS mowing, f.colour AS phenology,
       h.flag AS heterogeneous, h.split_dates AS split_dates,
       p.geom AS geom
FROM parcels p
LEFT JOIN decisions o ON o.pid = p.pid AND o.scheme = 'overall'
     AND o.run_id = (SELECT max(run_id) FROM decisions WHERE scheme = 'overall')
LEFT JOIN decisions c ON c.pid = p.pid AND c.scheme = 'crop'
     AND c.run_id = (SELECT max(run_id) FROM decisions WHERE scheme = 'crop')
LEFT JOIN decisions m ON m.pid = p.pid AND m.scheme = 'mowing'
     AND m.run_id = (SELECT max(run_id) FROM decisions WHERE scheme = 'mowing')
LEFT JOIN decisions f ON f.pid = p.pid AND f.scheme = 'crop-phenology'
     AND f.run_id = (SELECT max(run_id) FROM decisions WHERE scheme = 'crop-phenology')
LEFT JOIN heterogeneity h ON h.pid = p.pid
     AND h.run_id = (SELECT max(run_id) FROM runs WHERE kind = 'heterogeneity' AND status = 'done');

CREATE VIEW mowing_events AS
SELECT p.pid AS pid, p.parcel_id AS parcel_id, p.crop_name AS crop_name,
       count(k.date) AS cuts, group_concat(k.date, ', ') AS cut_dates,
       min(k.date) AS first_cut, max(k.date) AS last_cut, k.run_id AS run_id,
       p.geom AS geom
FROM parcels p
JOIN (SELECT pid, date, run_id FROM markers
      WHERE detector = 'mowing' AND run_id = (SELECT max(run_id) FROM markers WHERE detector = 'mowing')
      ORDER BY pid, date) k ON k.pid = p.pid
GROUP BY p.pid;

INSERT INTO views_geometry_columns (view_name, view_geometry, view_rowid, f_table_name, f_geometry_column, read_only)
VALUES ('lights', 'geom', 'pid', 'parcels', 'geom', 1),
       ('mowing_events', 'geom', 'pid', 'parcels', 'geom', 1);
