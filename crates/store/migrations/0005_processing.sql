-- Processing: the durable job queue that runs a session's workflow nodes, and what the hosted
-- flow records (captures live in `media`, rows of kind document_front | document_back | selfie |
-- poa_document).
--
-- A job is enqueued in the same transaction as the flow's submit. A worker leases it
-- (`lease_owner`, `lease_until`; FOR UPDATE SKIP LOCKED on PostgreSQL); each node's result is
-- written in the same transaction as the job's progress (`done_nodes`), conditional on the lease,
-- so a crash never loses a job and never runs a finished node twice. The final status change,
-- its `status.updated` event (the webhook outbox) and `state = 'done'` commit together.

CREATE TABLE processing_jobs (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    application_id TEXT NOT NULL,
    -- queued | waiting_for_engine | done
    state TEXT NOT NULL,
    -- JSON array of the node ids this job runs, in workflow order.
    nodes TEXT NOT NULL,
    -- JSON array of the node ids already written (a prefix of `nodes`).
    done_nodes TEXT NOT NULL,
    -- The feature whose engine is missing while state = 'waiting_for_engine'.
    waiting_for TEXT,
    attempts BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_error TEXT,
    -- The session status the job set.
    outcome TEXT,
    -- Sum of the nodes' processing times, and submit → decided.
    processing_ms DOUBLE PRECISION,
    submitted_at BIGINT NOT NULL,
    finished_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX processing_jobs_due ON processing_jobs (state, created_at);
CREATE INDEX processing_jobs_by_session ON processing_jobs (session_id, created_at);
-- At most one unfinished job per session (a double submit cannot enqueue twice).
CREATE UNIQUE INDEX processing_jobs_one_open ON processing_jobs (session_id) WHERE state <> 'done';

ALTER TABLE feature_results ADD COLUMN processing_ms DOUBLE PRECISION;
ALTER TABLE feature_results ADD COLUMN job_id TEXT;

-- A keyed digest (under the master key) of the verified document's country, type and number:
-- finds duplicated users without storing the number in a searchable column.
ALTER TABLE sessions ADD COLUMN document_digest TEXT;
CREATE INDEX sessions_by_document ON sessions (application_id, document_digest);
-- The device the hosted flow was opened from ({ip_address, user_agent}), for IP analysis.
ALTER TABLE sessions ADD COLUMN device_info TEXT;
