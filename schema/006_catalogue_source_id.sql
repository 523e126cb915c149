-- lake schema, version 6: the scene's id in the catalogue it came from. JRC signature tables
-- name scenes by `obsid`, the id of the agency's dias_catalogue row; a dias_catalogue CSV with an
-- `id` column keeps it here, and signature rows whose obsid is such an id find their scene.
ALTER TABLE catalogue ADD COLUMN source_id INTEGER;
CREATE INDEX catalogue_by_source_id ON catalogue (source_id);
