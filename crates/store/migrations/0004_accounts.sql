-- Console accounts (programmatic registration, spec §3.1) and the editable metadata of
-- applications. Version 0003 belongs to a change developed in parallel; sqlx only needs
-- versions to be unique and applied in increasing order, not contiguous.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    -- Lower-cased; one mailbox is one account.
    email TEXT NOT NULL UNIQUE,
    -- argon2id PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
    password_hash TEXT NOT NULL,
    -- Set when the e-mail address is verified, together with organization_id: verification
    -- provisions the user's organization and its first application.
    organization_id TEXT REFERENCES organizations (id),
    verified_at BIGINT,
    -- Consecutive failed logins and the end of the current lockout (progressive lockout).
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX users_by_organization ON users (organization_id);

-- The one outstanding e-mail verification code of an unverified user. Only a keyed digest
-- (HMAC-SHA256 under a key derived from the master key) is kept: six characters are too few for
-- a plain digest to resist brute force from a copy of the database.
CREATE TABLE email_codes (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    code_digest TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    failed_attempts BIGINT NOT NULL DEFAULT 0
);

ALTER TABLE applications ADD COLUMN website_url TEXT;
-- JSON array of strings.
ALTER TABLE applications ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE applications ADD COLUMN terms_url TEXT;
ALTER TABLE applications ADD COLUMN privacy_url TEXT;
ALTER TABLE applications ADD COLUMN description TEXT;
CREATE INDEX applications_by_organization ON applications (organization_id, created_at);
