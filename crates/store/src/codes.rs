//! One-time codes mailed to people, kept one per owner as keyed digests: console registration
//! (`email_codes`, owned by a user) and data-transfer ownership proofs (`data_transfer_codes`,
//! owned by a transfer). Both tables share the columns `code_digest`, `sent_at`, `expires_at`
//! and `failed_attempts`; every change that must not race is a conditional write whose row
//! count decides.

use crate::error::Result;
use verity_domain::account::{AccountPolicy, MAX_CODE_ATTEMPTS};
use verity_domain::Timestamp;

pub(crate) struct CodeTable {
    table: &'static str,
    owner: &'static str,
}

pub(crate) const EMAIL_CODES: CodeTable = CodeTable {
    table: "email_codes",
    owner: "user_id",
};

pub(crate) const TRANSFER_CODES: CodeTable = CodeTable {
    table: "data_transfer_codes",
    owner: "transfer_id",
};

impl CodeTable {
    /// Replaces the owner's code unless the current one was sent less than the cooldown ago;
    /// then answers the seconds left to wait.
    pub(crate) async fn issue(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        owner: &str,
        digest: &str,
        policy: &AccountPolicy,
        now: Timestamp,
    ) -> Result<Option<i64>> {
        let (table, column) = (self.table, self.owner);
        let cooldown_start = now.plus_seconds(-policy.resend_cooldown_seconds);
        let written = sqlx::query(&format!(
            "INSERT INTO {table} ({column}, code_digest, sent_at, expires_at, failed_attempts) \
             VALUES ($1, $2, $3, $4, 0) \
             ON CONFLICT ({column}) DO UPDATE SET code_digest = excluded.code_digest, \
             sent_at = excluded.sent_at, expires_at = excluded.expires_at, failed_attempts = 0 \
             WHERE {table}.sent_at <= $5"
        ))
        .bind(owner)
        .bind(digest)
        .bind(now.micros())
        .bind(now.plus_seconds(policy.code_ttl_seconds).micros())
        .bind(cooldown_start.micros())
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if written == 1 {
            return Ok(None);
        }
        let sent_at: i64 =
            sqlx::query_scalar(&format!("SELECT sent_at FROM {table} WHERE {column} = $1"))
                .bind(owner)
                .fetch_one(&mut **tx)
                .await?;
        let wait_micros = sent_at - cooldown_start.micros();
        Ok(Some((wait_micros + 999_999).div_euclid(1_000_000).max(1)))
    }

    /// Withdraws a code whose e-mail could not be sent, so that the cooldown does not block a
    /// retry. A newer code (another request) is left alone.
    pub(crate) async fn discard(
        &self,
        db: &sqlx::AnyPool,
        owner: &str,
        digest: &str,
    ) -> Result<()> {
        sqlx::query(&format!(
            "DELETE FROM {} WHERE {} = $1 AND code_digest = $2",
            self.table, self.owner
        ))
        .bind(owner)
        .bind(digest)
        .execute(db)
        .await?;
        Ok(())
    }

    /// Spends one of the [`MAX_CODE_ATTEMPTS`] guesses of the code whose digest is `stored`,
    /// before it is compared, so that concurrent guesses cannot exceed them; `false` when none
    /// is left.
    pub(crate) async fn spend_guess(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        owner: &str,
        stored: &str,
    ) -> Result<bool> {
        let spent = sqlx::query(&format!(
            "UPDATE {} SET failed_attempts = failed_attempts + 1 \
             WHERE {} = $1 AND code_digest = $2 AND failed_attempts < $3",
            self.table, self.owner
        ))
        .bind(owner)
        .bind(stored)
        .bind(MAX_CODE_ATTEMPTS)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        Ok(spent == 1)
    }
}
