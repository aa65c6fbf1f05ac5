-- When the person last acted on the hosted flow (opened the page, started, uploaded), in
-- microseconds. The expiry sweep moves `In Progress` sessions idle for longer than the
-- configured limit to `Abandoned`; NULL (sessions from before this column) falls back to
-- `updated_at`.
ALTER TABLE sessions ADD COLUMN last_activity_at BIGINT;
