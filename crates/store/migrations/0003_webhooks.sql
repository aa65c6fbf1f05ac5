-- Webhooks: destinations, the per-destination deliveries of each event, and every attempt.
--
-- The outbox is `session_events` itself: every status change already writes its event in the
-- change's own transaction. `dispatched = 0` marks events not yet fanned out to destinations; the
-- dispatcher turns each into one `webhook_deliveries` row per subscribed destination and marks it.

ALTER TABLE session_events ADD COLUMN dispatched BIGINT NOT NULL DEFAULT 0;
-- Events written before webhooks existed are history, not work.
UPDATE session_events SET dispatched = 1;
CREATE INDEX session_events_undispatched ON session_events (dispatched, created_at);

-- The legacy single-URL settings of `GET|PATCH /v3/webhook/` that are not a destination
-- (capture_method, data_retention_months, allowed_domains), as a JSON object.
ALTER TABLE applications ADD COLUMN webhook_settings TEXT;

CREATE TABLE webhook_destinations (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    label TEXT NOT NULL,
    url TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    webhook_version TEXT NOT NULL,
    -- JSON array of event-type strings.
    subscribed_events TEXT NOT NULL,
    standard_webhooks BIGINT NOT NULL,
    -- The legacy `/v3/webhook/` destination signs with the application's secret: NULL here.
    secret_sealed TEXT,
    -- After a rotation the previous secret keeps signing until `previous_secret_until`.
    previous_secret_sealed TEXT,
    previous_secret_until BIGINT,
    is_legacy BIGINT NOT NULL,
    -- Why the server disabled it (a 410 answer), NULL when enabled or disabled by the user.
    disabled_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (application_id, url)
);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    -- The session event's id: the payload's `event_id`, identical across retries.
    event_id TEXT NOT NULL,
    application_id TEXT NOT NULL,
    destination_id TEXT NOT NULL REFERENCES webhook_destinations (id),
    session_id TEXT,
    webhook_type TEXT NOT NULL,
    -- pending | delivered | failed
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    -- A dispatcher owns the delivery until then; a crashed one's claims expire.
    lease_owner TEXT,
    lease_until BIGINT,
    -- Built at the first attempt and reused by every retry (only `timestamp` changes).
    payload TEXT,
    last_status BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    delivered_at BIGINT,
    UNIQUE (event_id, destination_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_by_session ON webhook_deliveries (session_id, created_at);
CREATE INDEX webhook_deliveries_by_destination ON webhook_deliveries (destination_id, state);

CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
    attempt_no BIGINT NOT NULL,
    url TEXT NOT NULL,
    -- JSON object of the headers sent (signatures, never the secret).
    request_headers TEXT NOT NULL,
    request_body TEXT NOT NULL,
    response_status BIGINT,
    -- The first 4 KiB of the answer.
    response_body TEXT NOT NULL,
    response_truncated BIGINT NOT NULL,
    duration_ms DOUBLE PRECISION NOT NULL,
    -- delivered | retry | disable | give_up
    verdict TEXT NOT NULL,
    error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, attempt_no);
