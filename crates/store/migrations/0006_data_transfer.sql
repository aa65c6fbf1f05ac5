-- Data-transfer sessions (seed 004): a business asks for scopes of a person's verified identity;
-- the person proves ownership of an earlier Approved session (a code e-mailed to its address)
-- and consents or refuses. Versions 0005 and 0006 were developed in parallel.

CREATE TABLE data_transfers (
    id TEXT PRIMARY KEY,
    -- The requesting application: every API lookup is scoped by it.
    application_id TEXT NOT NULL REFERENCES applications (id),
    session_token TEXT NOT NULL UNIQUE,
    -- Canonical space-separated scopes.
    scope TEXT NOT NULL,
    vendor_data TEXT,
    status TEXT NOT NULL,
    -- The Approved session (of any application) whose owner proved control of its e-mail.
    -- No foreign key: deleting that session must stay possible.
    source_session_id TEXT,
    -- SHA-256 of the secret handed to the browser that proved ownership (an HttpOnly cookie):
    -- only that browser sees the values and answers.
    browser_digest TEXT,
    proven_at BIGINT,
    -- The consented data, sealed (AES-256-GCM under the master key), frozen at consent.
    shared_data TEXT,
    decided_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX data_transfers_by_application ON data_transfers (application_id, created_at);

-- The one outstanding ownership code of a transfer. Only a keyed digest bound to the transfer is
-- kept. candidate_session_id is the Approved session the address matched when the code was
-- sent; NULL when it matched none (a code is then never sent, but the page cannot tell).
CREATE TABLE data_transfer_codes (
    transfer_id TEXT PRIMARY KEY REFERENCES data_transfers (id),
    candidate_session_id TEXT,
    code_digest TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    failed_attempts BIGINT NOT NULL DEFAULT 0
);

-- The requesting business's own copies of consented pictures.
CREATE TABLE data_transfer_media (
    transfer_id TEXT NOT NULL REFERENCES data_transfers (id),
    name TEXT NOT NULL,
    object_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    PRIMARY KEY (transfer_id, name)
);
