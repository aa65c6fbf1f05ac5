//! Durable budgets: limits that protect people — codes mailed to an address, wrong guesses at
//! an address's codes, registrations and logins per client IP — counted in the database, so that
//! every server process shares them and a restart does not reset them. (Limits that only protect
//! one process's CPU stay in memory, in the API crate.)
//!
//! Each (scope, key) has one fixed window that starts with its first use. A use is counted by
//! one atomic upsert *before* the guarded work, refused uses included, so concurrent requests
//! cannot overrun the limit between a check and a write. Keys are stored as keyed digests
//! ([`crate::Sealer::keyed_digest`]), never as the address or IP itself. Ended windows are deleted
//! whenever a new window starts.

use crate::error::Result;
use crate::Store;
use sqlx::Row;
use verity_domain::Timestamp;

/// At most `limit` uses per key in a window of `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// What is counted (`login-ip`, `transfer-code-mail`, …): each scope has its own counters.
    pub scope: &'static str,
    pub limit: u32,
    pub window_seconds: i64,
}

/// A budget with no use left until `resets_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted {
    pub limit: u32,
    pub resets_at: Timestamp,
}

impl Exhausted {
    /// Whole seconds until the window ends, at least 1.
    pub fn retry_after_seconds(&self, now: Timestamp) -> i64 {
        (self.resets_at.micros() - now.micros() + 999_999)
            .div_euclid(1_000_000)
            .max(1)
    }
}

/// Wrong guesses at ownership codes per address, across all transfers: past it no code is
/// issued for the address and outstanding ones are refused until the window ends.
pub const TRANSFER_CODE_GUESSES: Budget = Budget {
    scope: "transfer-code-guesses",
    limit: 10,
    window_seconds: 24 * 3600,
};

impl Store {
    /// The stored key of `key` under `scope`.
    pub(crate) fn budget_digest(&self, scope: &str, key: &str) -> String {
        self.sealer.keyed_digest(&["budget", scope, key])
    }

    /// Counts one use of `budget` by `key`; `Err(Exhausted)` when it is over the limit.
    pub async fn spend_budget(
        &self,
        budget: Budget,
        key: &str,
        now: Timestamp,
    ) -> Result<std::result::Result<(), Exhausted>> {
        let digest = self.budget_digest(budget.scope, key);
        let mut conn = self.db.write.acquire().await?;
        spend_digest(&mut conn, budget, &digest, now).await
    }
}

/// Counts one use under an already digested key (callers inside a transaction pass it).
pub(crate) async fn spend_digest(
    conn: &mut sqlx::AnyConnection,
    budget: Budget,
    digest: &str,
    now: Timestamp,
) -> Result<std::result::Result<(), Exhausted>> {
    let row = sqlx::query(
        "INSERT INTO budgets (scope, key_digest, used, window_ends_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (scope, key_digest) DO UPDATE SET \
         used = CASE WHEN budgets.window_ends_at <= $4 THEN 1 ELSE budgets.used + 1 END, \
         window_ends_at = CASE WHEN budgets.window_ends_at <= $4 \
         THEN excluded.window_ends_at ELSE budgets.window_ends_at END \
         RETURNING used, window_ends_at",
    )
    .bind(budget.scope)
    .bind(digest)
    .bind(now.plus_seconds(budget.window_seconds).micros())
    .bind(now.micros())
    .fetch_one(&mut *conn)
    .await?;
    let used: i64 = row.try_get("used")?;
    if used == 1 {
        sqlx::query("DELETE FROM budgets WHERE window_ends_at <= $1")
            .bind(now.micros())
            .execute(&mut *conn)
            .await?;
    }
    if used > i64::from(budget.limit) {
        return Ok(Err(Exhausted {
            limit: budget.limit,
            resets_at: Timestamp::from_micros(row.try_get("window_ends_at")?),
        }));
    }
    Ok(Ok(()))
}

/// Whether the budget is used up, without counting a use.
pub(crate) async fn exhausted_digest(
    conn: &mut sqlx::AnyConnection,
    budget: Budget,
    digest: &str,
    now: Timestamp,
) -> Result<Option<Exhausted>> {
    let row = sqlx::query(
        "SELECT used, window_ends_at FROM budgets \
         WHERE scope = $1 AND key_digest = $2 AND window_ends_at > $3",
    )
    .bind(budget.scope)
    .bind(digest)
    .bind(now.micros())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let used: i64 = row.try_get("used")?;
    Ok((used >= i64::from(budget.limit)).then_some(Exhausted {
        limit: budget.limit,
        resets_at: Timestamp::from_micros(row.try_get("window_ends_at")?),
    }))
}

/// Gives back a use that turned out not to count (a right guess is not a wrong one).
pub(crate) async fn refund_digest(
    conn: &mut sqlx::AnyConnection,
    budget: Budget,
    digest: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE budgets SET used = used - 1 WHERE scope = $1 AND key_digest = $2 AND used > 0",
    )
    .bind(budget.scope)
    .bind(digest)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
