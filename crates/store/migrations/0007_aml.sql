-- AML screening data and standalone screenings (issue 7). One schema for SQLite and PostgreSQL.
--
-- `aml_datasets`: one row per imported version of a sanctions / PEP dataset. The raw file lives in
-- the media store under `file_key` (local files or S3), so every server process — one SQLite
-- process or several on one PostgreSQL — loads the same bytes and swaps the newest version in.
-- Ongoing monitoring of a version (re-screening monitored subjects against what changed since
-- `previous_version`) is claimed with a lease like a processing job: `pending` → `running`
-- (owner, lease) → `done`; `none` when there was no previous version to compare with.

CREATE TABLE aml_datasets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    -- ftm | ofac-sdn
    format TEXT NOT NULL,
    -- Publication / capture date of the data (YYYY-MM-DD) when the operator gave one.
    published_on TEXT,
    imported_at BIGINT NOT NULL,
    entity_count BIGINT NOT NULL,
    -- Rows reported as errors at import (line numbers were printed by the importer).
    error_count BIGINT NOT NULL,
    -- SHA-256 (hex) of the raw file.
    source_digest TEXT NOT NULL,
    file_key TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    -- The version this one replaced (NULL for the first import of the name).
    previous_version TEXT,
    -- none | pending | running | done
    monitoring_state TEXT NOT NULL,
    monitoring_owner TEXT,
    monitoring_lease_until BIGINT,
    -- JSON summary of the finished monitoring run (subjects screened, new hits, moved sessions).
    monitoring_summary TEXT,
    UNIQUE (name, version)
);
CREATE INDEX aml_datasets_by_name ON aml_datasets (name, imported_at);
CREATE INDEX aml_datasets_monitoring ON aml_datasets (monitoring_state, imported_at);

-- Standalone screenings (`POST /v3/aml/`), kept so that `include_ongoing_monitoring` can
-- re-screen them and `GET /v3/aml/{request_id}/` can show their current hits.
CREATE TABLE aml_checks (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    vendor_data TEXT,
    metadata TEXT,
    -- JSON: the screening request and the configuration it was screened with.
    request TEXT NOT NULL,
    -- JSON: the `aml` object answered (hits updated by monitoring).
    result TEXT NOT NULL,
    status TEXT NOT NULL,
    ongoing_monitoring BIGINT NOT NULL,
    last_checked_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX aml_checks_by_application ON aml_checks (application_id, created_at);
CREATE INDEX aml_checks_monitored ON aml_checks (ongoing_monitoring);
