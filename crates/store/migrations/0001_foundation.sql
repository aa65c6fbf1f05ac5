-- One schema for SQLite and PostgreSQL: only TEXT, BIGINT and DOUBLE PRECISION columns, ids as
-- hyphenated UUID text, timestamps as microseconds since the Unix epoch, JSON as text.

CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    contact_email TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    environment TEXT NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    client_secret_digest TEXT NOT NULL,
    -- The webhook signing secret must be usable for HMAC, so it is sealed (AES-256-GCM under the
    -- master key) rather than digested.
    webhook_secret_sealed TEXT NOT NULL,
    default_workflow_id TEXT,
    session_counter BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE workflows (
    id TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (id),
    version BIGINT NOT NULL,
    publication TEXT NOT NULL,
    settings TEXT NOT NULL,
    deleted_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (workflow_id, version)
);
CREATE INDEX workflows_by_application ON workflows (application_id, workflow_id, version);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    session_number BIGINT NOT NULL,
    session_token TEXT NOT NULL UNIQUE,
    workflow_id TEXT NOT NULL,
    workflow_version_id TEXT NOT NULL,
    workflow_version BIGINT NOT NULL,
    status TEXT NOT NULL,
    environment TEXT NOT NULL,
    vendor_data TEXT,
    callback TEXT,
    callback_method TEXT NOT NULL,
    metadata TEXT,
    language TEXT,
    contact_details TEXT,
    expected_details TEXT,
    sandbox_scenario TEXT,
    portrait_media_key TEXT,
    nodes TEXT NOT NULL,
    resubmit_info TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    UNIQUE (application_id, session_number)
);
CREATE INDEX sessions_by_created ON sessions (application_id, created_at);
CREATE INDEX sessions_by_vendor ON sessions (application_id, vendor_data);
CREATE INDEX sessions_by_expiry ON sessions (status, expires_at);

CREATE TABLE feature_results (
    session_id TEXT NOT NULL REFERENCES sessions (id),
    node_id TEXT NOT NULL,
    feature TEXT NOT NULL,
    status TEXT NOT NULL,
    payload TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, node_id)
);

CREATE TABLE reviews (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    application_id TEXT NOT NULL,
    activity_type TEXT NOT NULL,
    actor TEXT NOT NULL,
    previous_status TEXT,
    new_status TEXT,
    comment TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX reviews_by_session ON reviews (session_id, created_at);

CREATE TABLE session_events (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    application_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    previous_status TEXT,
    status TEXT,
    data TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX session_events_by_session ON session_events (session_id, created_at);

CREATE TABLE media (
    object_key TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    application_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX media_by_session ON media (session_id);

-- What was deleted, when and by whom; never personal data.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    application_id TEXT,
    action TEXT NOT NULL,
    subject_id TEXT,
    detail TEXT,
    created_at BIGINT NOT NULL
);

-- Server-wide settings written once (bootstrap marker, generated signing keys).
CREATE TABLE server_state (
    state_key TEXT PRIMARY KEY,
    state_value TEXT NOT NULL
);
