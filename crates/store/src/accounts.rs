//! Console users (spec §3.1): registration with an e-mailed code, verification that provisions
//! the user's organization and first application, and the login lockout counters.
//!
//! Codes are stored only as keyed digests bound to the user ([`crate::Sealer::keyed_digest`]) and
//! compared in constant time. Every state change that must not race (issuing a code within its
//! cooldown, spending a guess, verifying once) is a conditional write whose row count decides.

use crate::apps::{insert_application, insert_organization};
use crate::codes::EMAIL_CODES;
use crate::credentials::digests_match;
use crate::error::{corrupt, Result};
use crate::{Application, IssuedCredentials, Organization, Store};
use sqlx::Row;
use verity_domain::account::{
    default_application_name, lockout_seconds, organization_name, AccountPolicy,
    ApplicationMetadata, Email,
};
use verity_domain::ids::{OrganizationId, UserId};
use verity_domain::session::Environment;
use verity_domain::Timestamp;

/// A verified console user.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub organization_id: OrganizationId,
}

/// What `register` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Registration {
    /// A new, unverified account; a code was issued.
    Created(UserId),
    /// The address was registered before but never verified: a new code was issued. The
    /// password is the one of the registration whose code is outstanding; only once that code
    /// has expired (or none was ever sent) does this registration's password replace it.
    Renewed(UserId),
    AlreadyVerified,
    CoolingDown {
        retry_after_seconds: i64,
    },
}

/// What `resend-otp` did.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeIssue {
    Issued(UserId),
    /// Unknown or already verified address: nothing to send.
    NoPendingAccount,
    CoolingDown {
        retry_after_seconds: i64,
    },
}

#[derive(Debug)]
pub enum EmailVerification {
    Verified(Box<VerifiedAccount>),
    /// Wrong code, no outstanding code, or its guesses are used up.
    InvalidCode,
    ExpiredCode,
}

/// A newly verified account with what verification provisioned; the credentials exist nowhere
/// else.
#[derive(Debug)]
pub struct VerifiedAccount {
    pub user: User,
    pub organization: Organization,
    pub application: Application,
    pub credentials: IssuedCredentials,
}

/// An account whose login attempt was counted: what the login needs to decide.
#[derive(Debug, Clone)]
pub struct LoginAccount {
    pub user_id: UserId,
    pub password_hash: String,
    /// `None` until the e-mail address is verified.
    pub organization_id: Option<OrganizationId>,
    /// The lock this attempt started, when it reached a lockout tier: a wrong password is then
    /// answered as locked.
    pub locked_until: Option<Timestamp>,
}

/// What counting a login attempt found.
#[derive(Debug, Clone)]
pub enum LoginAdmission {
    /// Counted; the password may be checked.
    Admitted(LoginAccount),
    /// Refused without checking the password, until then.
    Locked(Timestamp),
    /// No account has this address.
    Unknown,
}

fn user_id_from(row: &sqlx::any::AnyRow) -> Result<UserId> {
    let id: String = row.try_get("id")?;
    UserId::parse(&id).ok_or_else(|| corrupt("user id", &id))
}

fn organization_id_from(text: &str) -> Result<OrganizationId> {
    OrganizationId::parse(text).ok_or_else(|| corrupt("organization id", text))
}

impl Store {
    fn code_digest(&self, user_id: UserId, code: &str) -> String {
        self.sealer
            .keyed_digest(&["email-code", &user_id.to_string(), code])
    }

    /// Creates an unverified account with a code, or renews an unverified one with a new code
    /// unless a code was sent within the cooldown. A renewal keeps the password while the
    /// pending code is valid: whoever reads the mailbox verifies the registration that mailed
    /// the first code, and a second `register` cannot put its own password on the account.
    pub async fn register_user(
        &self,
        email: &Email,
        password_hash: &str,
        code: &str,
        policy: &AccountPolicy,
        now: Timestamp,
    ) -> Result<Registration> {
        let mut tx = self.db.write.begin().await?;
        let new_id = UserId::random();
        let inserted = sqlx::query(
            "INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(new_id.to_string())
        .bind(email.as_str())
        .bind(password_hash)
        .bind(now.micros())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            self.issue_code(&mut tx, new_id, code, policy, now).await?;
            tx.commit().await?;
            return Ok(Registration::Created(new_id));
        }
        let row = sqlx::query(
            "SELECT u.id, u.verified_at, c.expires_at FROM users u \
             LEFT JOIN email_codes c ON c.user_id = u.id WHERE u.email = $1",
        )
        .bind(email.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if row.try_get::<Option<i64>, _>("verified_at")?.is_some() {
            return Ok(Registration::AlreadyVerified);
        }
        let user_id = user_id_from(&row)?;
        let pending_code_valid = row
            .try_get::<Option<i64>, _>("expires_at")?
            .is_some_and(|expires_at| expires_at > now.micros());
        if let Some(retry_after_seconds) =
            self.issue_code(&mut tx, user_id, code, policy, now).await?
        {
            return Ok(Registration::CoolingDown {
                retry_after_seconds,
            });
        }
        if !pending_code_valid {
            sqlx::query(
                "UPDATE users SET password_hash = $1 WHERE id = $2 AND verified_at IS NULL",
            )
            .bind(password_hash)
            .bind(user_id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Registration::Renewed(user_id))
    }

    /// A new code for an unverified account, unless one was sent within the cooldown.
    pub async fn reissue_email_code(
        &self,
        email: &Email,
        code: &str,
        policy: &AccountPolicy,
        now: Timestamp,
    ) -> Result<CodeIssue> {
        let mut tx = self.db.write.begin().await?;
        let row = sqlx::query("SELECT id FROM users WHERE email = $1 AND verified_at IS NULL")
            .bind(email.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(CodeIssue::NoPendingAccount);
        };
        let user_id = user_id_from(&row)?;
        let issue = match self.issue_code(&mut tx, user_id, code, policy, now).await? {
            Some(retry_after_seconds) => CodeIssue::CoolingDown {
                retry_after_seconds,
            },
            None => CodeIssue::Issued(user_id),
        };
        tx.commit().await?;
        Ok(issue)
    }

    /// Replaces the user's code unless the current one was sent less than the cooldown ago;
    /// then answers the seconds left to wait.
    async fn issue_code(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        user_id: UserId,
        code: &str,
        policy: &AccountPolicy,
        now: Timestamp,
    ) -> Result<Option<i64>> {
        let owner = user_id.to_string();
        EMAIL_CODES
            .issue(tx, &owner, &self.code_digest(user_id, code), policy, now)
            .await
    }

    /// Withdraws a code whose e-mail could not be sent, so that the cooldown does not block a
    /// retry. A newer code (another request) is left alone.
    pub async fn discard_email_code(&self, user_id: UserId, code: &str) -> Result<()> {
        let digest = self.code_digest(user_id, code);
        EMAIL_CODES
            .discard(&self.db.write, &user_id.to_string(), &digest)
            .await
    }

    /// Checks a code and, when it is right, verifies the account and provisions its organization
    /// and first (live) application, all in one transaction. Each check spends one of the code's
    /// [`MAX_CODE_ATTEMPTS`] guesses before comparing, so concurrent guesses cannot exceed them.
    pub async fn verify_email(
        &self,
        email: &Email,
        code: &str,
        now: Timestamp,
    ) -> Result<EmailVerification> {
        let mut tx = self.db.write.begin().await?;
        let row = sqlx::query(
            "SELECT u.id, c.code_digest, c.expires_at FROM users u \
             JOIN email_codes c ON c.user_id = u.id \
             WHERE u.email = $1 AND u.verified_at IS NULL",
        )
        .bind(email.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(EmailVerification::InvalidCode);
        };
        let user_id = user_id_from(&row)?;
        let stored: String = row.try_get("code_digest")?;
        if row.try_get::<i64, _>("expires_at")? <= now.micros() {
            return Ok(EmailVerification::ExpiredCode);
        }
        if !EMAIL_CODES
            .spend_guess(&mut tx, &user_id.to_string(), &stored)
            .await?
        {
            return Ok(EmailVerification::InvalidCode);
        }
        if !digests_match(&stored, &self.code_digest(user_id, code)) {
            tx.commit().await?;
            return Ok(EmailVerification::InvalidCode);
        }

        let organization =
            insert_organization(&mut tx, &organization_name(email), Some(email.as_str())).await?;
        let metadata = ApplicationMetadata::named(&default_application_name(&organization.name));
        let (application, credentials) = insert_application(
            &mut tx,
            &self.sealer,
            organization.id,
            &metadata,
            Environment::Live,
        )
        .await?;
        let verified = sqlx::query(
            "UPDATE users SET verified_at = $1, organization_id = $2 \
             WHERE id = $3 AND verified_at IS NULL",
        )
        .bind(now.micros())
        .bind(organization.id.to_string())
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if verified == 0 {
            // Verified concurrently with the same code: dropping the transaction rolls back the
            // organization and application made here.
            return Ok(EmailVerification::InvalidCode);
        }
        sqlx::query("DELETE FROM email_codes WHERE user_id = $1")
            .bind(user_id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(EmailVerification::Verified(Box::new(VerifiedAccount {
            user: User {
                id: user_id,
                organization_id: organization.id,
            },
            organization,
            application,
            credentials,
        })))
    }

    /// Counts a login attempt on the account *before* its password is checked, refusing it
    /// while the account is locked: one conditional write, so concurrent attempts cannot
    /// outrun the lockout. The attempt that reaches a lockout tier sets the lock itself, so at
    /// most that many attempts are ever checked per lock; a right password then clears the
    /// count ([`Store::record_successful_login`]).
    pub async fn admit_login(&self, email: &Email, now: Timestamp) -> Result<LoginAdmission> {
        let mut tx = self.db.write.begin().await?;
        let row = sqlx::query(
            "UPDATE users SET failed_logins = failed_logins + 1 \
             WHERE email = $1 AND (locked_until IS NULL OR locked_until <= $2) \
             RETURNING id, password_hash, organization_id, failed_logins",
        )
        .bind(email.as_str())
        .bind(now.micros())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            let locked_until: Option<Option<i64>> =
                sqlx::query_scalar("SELECT locked_until FROM users WHERE email = $1")
                    .bind(email.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
            return Ok(match locked_until {
                Some(Some(until)) => LoginAdmission::Locked(Timestamp::from_micros(until)),
                // Unlocked by a concurrent right password since the update looked: refused like
                // a lock of one second.
                Some(None) => LoginAdmission::Locked(now.plus_seconds(1)),
                None => LoginAdmission::Unknown,
            });
        };
        let user_id = user_id_from(&row)?;
        let locked_until =
            lockout_seconds(row.try_get("failed_logins")?).map(|seconds| now.plus_seconds(seconds));
        if let Some(until) = locked_until {
            sqlx::query("UPDATE users SET locked_until = $1 WHERE id = $2")
                .bind(until.micros())
                .bind(user_id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        let organization_id: Option<String> = row.try_get("organization_id")?;
        Ok(LoginAdmission::Admitted(LoginAccount {
            user_id,
            password_hash: row.try_get("password_hash")?,
            organization_id: organization_id
                .as_deref()
                .map(organization_id_from)
                .transpose()?,
            locked_until,
        }))
    }

    /// A right password: the attempts counted so far were the owner's, and any lock they set
    /// ends.
    pub async fn record_successful_login(&self, user_id: UserId) -> Result<()> {
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(user_id.to_string())
            .execute(&self.db.write)
            .await?;
        Ok(())
    }

    /// A verified user, as a console token names them; `None` when the account is gone.
    pub async fn console_user(&self, user_id: UserId) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT organization_id FROM users WHERE id = $1 AND verified_at IS NOT NULL",
        )
        .bind(user_id.to_string())
        .fetch_optional(&self.db.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let organization_id: String = row.try_get("organization_id")?;
        Ok(Some(User {
            id: user_id,
            organization_id: organization_id_from(&organization_id)?,
        }))
    }
}
