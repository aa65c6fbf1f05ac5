-- Face templates (issue 6): one SFace embedding per session's selfie, searched 1:N within its
-- application for duplicates (DUPLICATED_FACE / POSSIBLE_DUPLICATED_FACE), the blocklist
-- (FACE_IN_BLOCKLIST) and POST /v3/face-search/. A template is biometric personal data: it is
-- sealed (AES-256-GCM under the master key) and deleted with its session.

CREATE TABLE face_templates (
    id TEXT PRIMARY KEY,
    -- Every lookup is scoped by it: templates are never compared across applications.
    application_id TEXT NOT NULL REFERENCES applications (id),
    session_id TEXT NOT NULL,
    -- What the template was computed from: 'selfie' (the session's selfie capture).
    source TEXT NOT NULL,
    -- 128 little-endian f32, sealed.
    template TEXT NOT NULL,
    -- 1 when the face is on the application's blocklist.
    blocklisted BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX face_templates_by_session ON face_templates (session_id, source);
CREATE INDEX face_templates_by_application ON face_templates (application_id, created_at);
