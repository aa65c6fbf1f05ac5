-- Durable budgets: limits that protect people (codes mailed to an address, guesses at codes,
-- registrations and logins per client IP) counted in the database, so every server process
-- shares them and a restart does not reset them. Versions 0015 and 0016 were developed in
-- parallel.

-- One fixed window per (scope, key): the window starts with its first use and `used` counts
-- every use in it, refused ones included.
CREATE TABLE budgets (
    scope TEXT NOT NULL,
    -- Keyed digest of the key (an e-mail address, a client IP): never the value itself.
    key_digest TEXT NOT NULL,
    used BIGINT NOT NULL,
    window_ends_at BIGINT NOT NULL,
    PRIMARY KEY (scope, key_digest)
);
-- Ended windows are deleted whenever a new window starts.
CREATE INDEX budgets_by_window_end ON budgets (window_ends_at);

-- Keyed digest of the address an ownership code was requested for: wrong guesses count against
-- the address across all transfers. NULL for codes issued before this version.
ALTER TABLE data_transfer_codes ADD COLUMN address_digest TEXT;
