-- A job whose render finished (encoding or storing now) is marked, so a worker dying then is not held
-- against it; a worker's row names its process, so a successor on the same host knows it died.

ALTER TABLE jobs ADD COLUMN rendered_at DOUBLE PRECISION;
ALTER TABLE workers ADD COLUMN pid INTEGER;
