-- Issuing country (ISO 3166-1 alpha-3) of the session's verified identity document; set when an
-- ID verification result is stored, filterable in GET /v3/sessions/?country=.
ALTER TABLE sessions ADD COLUMN country TEXT;
CREATE INDEX sessions_by_country ON sessions (application_id, country);
