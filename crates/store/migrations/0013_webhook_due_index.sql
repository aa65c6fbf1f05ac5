-- The claim's index holds pending deliveries only (delivered and failed ones leave it, so it
-- stays the size of the backlog) and covers every column the claim reads, so choosing
-- candidates reads no table rows (`state` is listed too: older SQLite versions do not count a
-- partial index's own condition as covered). A claimed delivery's `next_attempt_at` moves to its
-- lease's end, so in-flight deliveries are not at the front of it either.
DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_due
    ON webhook_deliveries (next_attempt_at, destination_id, lease_until, id, state)
    WHERE state = 'pending';
