-- lake schema, version 7: each parcel's point on its surface in WGS 84 (lon, lat), kept by
-- triggers whatever writes the geometry, so that finding and showing a parcel needs neither
-- SpatiaLite nor PROJ (`lake query parcel` starts without loading them).
ALTER TABLE parcels ADD COLUMN lon REAL;
ALTER TABLE parcels ADD COLUMN lat REAL;
UPDATE parcels SET (lon, lat) = (SELECT X(p), Y(p) FROM (SELECT Transform(ST_PointOnSurface(parcels.geom), 4326) AS p));
CREATE TRIGGER parcels_point_on_insert AFTER INSERT ON parcels
BEGIN
    UPDATE parcels SET (lon, lat) = (SELECT X(p), Y(p) FROM (SELECT Transform(ST_PointOnSurface(NEW.geom), 4326) AS p))
    WHERE pid = NEW.pid;
END;
CREATE TRIGGER parcels_point_on_update AFTER UPDATE OF geom ON parcels
BEGIN
    UPDATE parcels SET (lon, lat) = (SELECT X(p), Y(p) FROM (SELECT Transform(ST_PointOnSurface(NEW.geom), 4326) AS p))
    WHERE pid = NEW.pid;
END;
