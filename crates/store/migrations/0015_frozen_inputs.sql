-- Inputs frozen at submit (docs/security.md): every upload is a new object whose SHA-256 is
-- kept with its media row; submit binds the session's media rows (key and digest) to the job,
-- uploads are refused while a job is open, and every node reads the bound objects and checks
-- their digests. Rows written before this migration have no digest.
ALTER TABLE media ADD COLUMN sha256 TEXT;
-- JSON array of the media rows bound at submit: [{object_key, kind, content_type, size_bytes, sha256}].
ALTER TABLE processing_jobs ADD COLUMN inputs TEXT;
-- Who set a node's status by hand (a reviewer's override), until the engines judge it again.
ALTER TABLE feature_results ADD COLUMN overridden_by TEXT;
