-- ACTIVE_3D liveness (issues 4 and 6): the random head-pose challenge the server issued to a
-- session's hosted flow, and the frames the person sent back for it. The challenge itself
-- (steps, nonce, time window, thresholds) is verity_face::ActiveChallenge as JSON; a challenge
-- takes frames once. Frames are media rows of kind 'liveness_frame' (deleted with the session).

CREATE TABLE liveness_challenges (
    nonce TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    challenge TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    -- When the frames arrived (server clock), NULL until then.
    submitted_at BIGINT,
    -- JSON array of {"object_key", "offset_ms"}: offsets from the challenge's issue, in order.
    frames TEXT
);
CREATE INDEX liveness_challenges_by_session ON liveness_challenges (session_id, issued_at);

-- When a session's face was put on the application's blocklist (POST /v3/blocklist/add/).
ALTER TABLE face_templates ADD COLUMN blocklisted_at BIGINT;
