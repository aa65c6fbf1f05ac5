//! Data-transfer sessions (seed 004). The requesting business reads its transfers scoped by its
//! application, like every other resource. The person's side is reached by the session token
//! (the link's secret) and, once ownership is proven, by the browser secret bound to it.
//!
//! The one deliberate cross-tenant read in the store lives here: [`Store::verified_identity`]
//! loads an Approved session of another application of the same environment, only of the
//! requester's own organization or of an issuer the operator trusts, never one changed by hand,
//! and it is called only for the session the person proved to own; [`Store::answer_transfer`]
//! then copies nothing but the consented scopes' data and pictures to the requesting application.

use crate::budgets::{
    exhausted_digest, refund_digest, spend_digest, Exhausted, TRANSFER_CODE_GUESSES,
};
use crate::codes::TRANSFER_CODES;
use crate::credentials::{digest, digests_match};
use crate::error::{corrupt, not_found, Result};
use crate::{placeholders, Application, Store};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Row};
use verity_domain::account::{AccountPolicy, Email, MAX_CODE_ATTEMPTS};
use verity_domain::data_transfer::{
    is_picture_kind, IdentityValues, NewTransfer, Scopes, StoredPicture, Transfer, TransferStatus,
    TrustedIssuers, HAND_CHANGES,
};
use verity_domain::decision::FeatureResult;
use verity_domain::ids::{ApplicationId, OrganizationId, SessionId, SessionToken, TransferId};
use verity_domain::session::{Environment, Session};
use verity_domain::status::SessionStatus;
use verity_domain::workflow::Feature;
use verity_domain::Timestamp;

const COLUMNS: &str = "id, application_id, session_token, scope, vendor_data, status, \
    source_session_id, proven_at, decided_at, created_at, updated_at, expires_at";

fn transfer_from_row(row: &sqlx::any::AnyRow) -> Result<Transfer> {
    let text = |column: &str| -> Result<String> { Ok(row.try_get::<String, _>(column)?) };
    let id = text("id")?;
    let app = text("application_id")?;
    let token = text("session_token")?;
    let scope = text("scope")?;
    let status = text("status")?;
    let source: Option<String> = row.try_get("source_session_id")?;
    let time = |column: &str| -> Result<Option<Timestamp>> {
        Ok(row
            .try_get::<Option<i64>, _>(column)?
            .map(Timestamp::from_micros))
    };
    Ok(Transfer {
        id: TransferId::parse(&id).ok_or_else(|| corrupt("transfer id", &id))?,
        application_id: ApplicationId::parse(&app)
            .ok_or_else(|| corrupt("application id", &app))?,
        token: SessionToken::parse(&token).ok_or_else(|| corrupt("transfer token", &token))?,
        scopes: Scopes::parse(&scope).map_err(|_| corrupt("transfer scope", &scope))?,
        vendor_data: row.try_get("vendor_data")?,
        status: TransferStatus::parse(&status)
            .ok_or_else(|| corrupt("transfer status", &status))?,
        source_session_id: source
            .as_deref()
            .map(|s| SessionId::parse(s).ok_or_else(|| corrupt("session id", s)))
            .transpose()?,
        proven_at: time("proven_at")?,
        decided_at: time("decided_at")?,
        created_at: Timestamp::from_micros(row.try_get("created_at")?),
        updated_at: Timestamp::from_micros(row.try_get("updated_at")?),
        expires_at: Timestamp::from_micros(row.try_get("expires_at")?),
    })
}

/// What checking an ownership code found.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeCheck {
    /// The code was right and named a verified identity: ownership is proven and bound to the
    /// browser whose secret was given.
    Proven,
    /// Wrong, used up, or no outstanding code (or the address matched no verified identity).
    Invalid,
    Expired,
    /// Too many wrong guesses for this address across transfers: not compared.
    LockedOut(Exhausted),
}

/// What asking for an ownership code did.
#[derive(Debug, Clone, PartialEq)]
pub enum TransferCodeIssue {
    Issued,
    /// A code was sent for this transfer less than the cooldown ago.
    CoolingDown {
        retry_after_seconds: i64,
    },
    /// Too many wrong guesses for this address across transfers: no code until it resets.
    LockedOut(Exhausted),
}

/// A verified identity: the Approved session, its results and its pictures.
#[derive(Debug, Clone)]
pub struct VerifiedIdentity {
    pub session: Session,
    pub results: Vec<FeatureResult>,
    pub pictures: Vec<StoredPicture>,
}

/// What the person answered.
pub enum TransferAnswer {
    /// The consented data (already limited to the scopes) and the pictures to copy.
    Consent {
        shared: serde_json::Value,
        pictures: Vec<StoredPicture>,
    },
    Refuse,
}

/// A consented picture, as the requesting business fetches it.
#[derive(Debug, Clone)]
pub struct SharedPicture {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// `%"<address>"%`, with LIKE's wildcards escaped: candidates to check exactly afterwards.
fn quoted_like_pattern(email: &Email) -> String {
    let mut pattern = String::from("%\"");
    for c in email.as_str().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push_str("\"%");
    pattern
}

/// The conditions on `s` (a session) and `a` (its application) of an eligible transfer source,
/// with parameters from `$first`: status, environment, the `organizations` source organizations,
/// then the hand-change activity types. [`bind_eligible_source`] binds them in that order.
fn eligible_source(first: usize, organizations: usize) -> String {
    format!(
        "s.status = ${first} AND s.environment = ${} AND a.organization_id IN ({}) \
         AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.session_id = s.id AND r.activity_type IN ({}))",
        first + 1,
        placeholders(first + 2, organizations),
        placeholders(first + 2 + organizations, HAND_CHANGES.len()),
    )
}

fn bind_eligible_source<'q>(
    mut query: Query<'q, Any, AnyArguments<'q>>,
    environment: Environment,
    organizations: &[OrganizationId],
) -> Query<'q, Any, AnyArguments<'q>> {
    query = query
        .bind(SessionStatus::Approved.as_str())
        .bind(environment.as_str());
    for organization in organizations {
        query = query.bind(organization.to_string());
    }
    for activity in HAND_CHANGES {
        query = query.bind(activity.as_str());
    }
    query
}

impl Store {
    fn transfer_code_digest(&self, id: TransferId, code: &str) -> String {
        self.sealer
            .keyed_digest(&["transfer-code", &id.to_string(), code])
    }

    pub async fn create_transfer(
        &self,
        app: ApplicationId,
        input: &NewTransfer,
        ttl_seconds: i64,
        now: Timestamp,
    ) -> Result<Transfer> {
        let transfer = Transfer {
            id: TransferId::random(),
            application_id: app,
            token: SessionToken::random(),
            scopes: input.scopes.clone(),
            vendor_data: input.vendor_data.clone(),
            status: TransferStatus::Pending,
            source_session_id: None,
            proven_at: None,
            decided_at: None,
            created_at: now,
            updated_at: now,
            expires_at: now.plus_seconds(ttl_seconds),
        };
        sqlx::query(
            "INSERT INTO data_transfers (id, application_id, session_token, scope, vendor_data, \
             status, created_at, updated_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(transfer.id.to_string())
        .bind(app.to_string())
        .bind(transfer.token.as_str())
        .bind(transfer.scopes.to_scope_string())
        .bind(&transfer.vendor_data)
        .bind(transfer.status.as_str())
        .bind(now.micros())
        .bind(now.micros())
        .bind(transfer.expires_at.micros())
        .execute(&self.db.write)
        .await?;
        Ok(transfer)
    }

    /// A transfer of this application; another application's id is `NotFound`.
    pub async fn transfer(&self, app: ApplicationId, id: TransferId) -> Result<Transfer> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM data_transfers WHERE id = $1 AND application_id = $2"
        ))
        .bind(id.to_string())
        .bind(app.to_string())
        .fetch_optional(&self.db.read)
        .await?
        .ok_or_else(not_found)?;
        transfer_from_row(&row)
    }

    /// The transfer a link names (the token is the link's secret).
    pub async fn transfer_by_token(&self, token: &str) -> Result<Option<Transfer>> {
        let Some(token) = SessionToken::parse(token) else {
            return Ok(None);
        };
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM data_transfers WHERE session_token = $1"
        ))
        .bind(token.as_str())
        .fetch_optional(&self.db.read)
        .await?;
        row.as_ref().map(transfer_from_row).transpose()
    }

    /// The most recent eligible source (see [`Store::verified_identity`]) whose ownership address
    /// ([`IdentityValues::ownership_email`]) is `email`. A coarse LIKE finds candidates, which are
    /// then checked exactly.
    pub async fn approved_session_for_email(
        &self,
        email: &Email,
        requester: &Application,
        trusted: &TrustedIssuers,
    ) -> Result<Option<SessionId>> {
        let sources = trusted.sources_for(requester.organization_id);
        let query = format!(
            "SELECT s.id FROM sessions s JOIN applications a ON a.id = s.application_id \
             WHERE {} AND (LOWER(s.contact_details) LIKE $1 ESCAPE '\\' OR EXISTS (SELECT 1 \
             FROM feature_results f WHERE f.session_id = s.id AND f.feature = $2 \
             AND LOWER(f.payload) LIKE $1 ESCAPE '\\')) ORDER BY s.updated_at DESC LIMIT 20",
            eligible_source(3, sources.len())
        );
        let query = sqlx::query(&query)
            .bind(quoted_like_pattern(email))
            .bind(Feature::EmailVerification.as_str());
        let rows = bind_eligible_source(query, requester.environment, &sources)
            .fetch_all(&self.db.read)
            .await?;
        for row in rows {
            let id: String = row.try_get("id")?;
            let id = SessionId::parse(&id).ok_or_else(|| corrupt("session id", &id))?;
            let Some(identity) = self.verified_identity(id, requester, trusted).await? else {
                continue;
            };
            let owner = IdentityValues::ownership_email(&identity.session, &identity.results);
            if owner.as_deref() == Some(email.as_str()) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// An eligible source session for a transfer `requester` asked for, with its results and
    /// pictures; `None` once it is no longer one or no longer exists. Eligible: Approved, of
    /// the requester's environment, of the requester's organization or one `trusted` lists, and
    /// never changed by hand ([`HAND_CHANGES`]). Only for the session a person proved to own (see
    /// the module documentation).
    pub async fn verified_identity(
        &self,
        id: SessionId,
        requester: &Application,
        trusted: &TrustedIssuers,
    ) -> Result<Option<VerifiedIdentity>> {
        let sources = trusted.sources_for(requester.organization_id);
        let query = format!(
            "SELECT s.application_id FROM sessions s JOIN applications a ON a.id = s.application_id \
             WHERE s.id = $1 AND {}",
            eligible_source(2, sources.len())
        );
        let query = sqlx::query(&query).bind(id.to_string());
        let row = bind_eligible_source(query, requester.environment, &sources)
            .fetch_optional(&self.db.read)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let app: String = row.try_get("application_id")?;
        let app = ApplicationId::parse(&app).ok_or_else(|| corrupt("application id", &app))?;
        let session = self.session(app, id).await?;
        let results = self.feature_results(&session).await?;
        let rows = sqlx::query(
            "SELECT object_key, kind, content_type FROM media WHERE session_id = $1 ORDER BY kind",
        )
        .bind(id.to_string())
        .fetch_all(&self.db.read)
        .await?;
        let mut pictures = Vec::new();
        for row in rows {
            let kind: String = row.try_get("kind")?;
            if is_picture_kind(&kind) {
                pictures.push(StoredPicture {
                    name: kind,
                    object_key: row.try_get("object_key")?,
                    content_type: row.try_get("content_type")?,
                });
            }
        }
        Ok(Some(VerifiedIdentity {
            session,
            results,
            pictures,
        }))
    }

    /// Records a new ownership code for the transfer (replacing an earlier one), for `email`,
    /// unless one was sent within the cooldown or the address is locked out by wrong guesses
    /// ([`TRANSFER_CODE_GUESSES`], counted across all transfers). An open transfer moves to
    /// `in_progress`.
    pub async fn issue_transfer_code(
        &self,
        transfer: &Transfer,
        email: &Email,
        candidate: Option<SessionId>,
        code: &str,
        policy: &AccountPolicy,
        now: Timestamp,
    ) -> Result<TransferCodeIssue> {
        let mut tx = self.db.write.begin().await?;
        let address = self.budget_digest(TRANSFER_CODE_GUESSES.scope, email.as_str());
        if let Some(exhausted) =
            exhausted_digest(&mut tx, TRANSFER_CODE_GUESSES, &address, now).await?
        {
            return Ok(TransferCodeIssue::LockedOut(exhausted));
        }
        let owner = transfer.id.to_string();
        let digest = self.transfer_code_digest(transfer.id, code);
        if let Some(retry_after_seconds) = TRANSFER_CODES
            .issue(&mut tx, &owner, &digest, policy, now)
            .await?
        {
            return Ok(TransferCodeIssue::CoolingDown {
                retry_after_seconds,
            });
        }
        sqlx::query(
            "UPDATE data_transfer_codes SET candidate_session_id = $1, address_digest = $2 \
             WHERE transfer_id = $3",
        )
        .bind(candidate.map(|c| c.to_string()))
        .bind(&address)
        .bind(&owner)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE data_transfers SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
        )
        .bind(TransferStatus::InProgress.as_str())
        .bind(now.micros())
        .bind(transfer.id.to_string())
        .bind(TransferStatus::Pending.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(TransferCodeIssue::Issued)
    }

    /// Withdraws a code whose e-mail could not be sent, so the cooldown does not block a retry.
    pub async fn discard_transfer_code(&self, id: TransferId, code: &str) -> Result<()> {
        let digest = self.transfer_code_digest(id, code);
        TRANSFER_CODES
            .discard(&self.db.write, &id.to_string(), &digest)
            .await
    }

    /// When the transfer's outstanding code was sent, if there is one that has not expired.
    pub async fn outstanding_transfer_code(
        &self,
        id: TransferId,
        now: Timestamp,
    ) -> Result<Option<Timestamp>> {
        let sent: Option<i64> = sqlx::query_scalar(
            "SELECT sent_at FROM data_transfer_codes WHERE transfer_id = $1 AND expires_at > $2 \
             AND failed_attempts < $3",
        )
        .bind(id.to_string())
        .bind(now.micros())
        .bind(MAX_CODE_ATTEMPTS)
        .fetch_optional(&self.db.read)
        .await?;
        Ok(sent.map(Timestamp::from_micros))
    }

    /// Checks a code. Each check spends one of the code's [`MAX_CODE_ATTEMPTS`] guesses and one
    /// of its address's [`TRANSFER_CODE_GUESSES`] before comparing (a right guess is given
    /// back). A right code binds the matched session and the browser secret's digest to the
    /// open transfer, and uses the code up.
    pub async fn verify_transfer_code(
        &self,
        transfer: &Transfer,
        code: &str,
        browser_secret: &str,
        now: Timestamp,
    ) -> Result<CodeCheck> {
        let mut tx = self.db.write.begin().await?;
        let row = sqlx::query(
            "SELECT candidate_session_id, code_digest, expires_at, address_digest \
             FROM data_transfer_codes WHERE transfer_id = $1",
        )
        .bind(transfer.id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(CodeCheck::Invalid);
        };
        let stored: String = row.try_get("code_digest")?;
        if row.try_get::<i64, _>("expires_at")? <= now.micros() {
            return Ok(CodeCheck::Expired);
        }
        if !TRANSFER_CODES
            .spend_guess(&mut tx, &transfer.id.to_string(), &stored)
            .await?
        {
            return Ok(CodeCheck::Invalid);
        }
        let address: Option<String> = row.try_get("address_digest")?;
        if let Some(address) = &address {
            if let Err(exhausted) =
                spend_digest(&mut tx, TRANSFER_CODE_GUESSES, address, now).await?
            {
                tx.commit().await?;
                return Ok(CodeCheck::LockedOut(exhausted));
            }
        }
        let candidate: Option<String> = row.try_get("candidate_session_id")?;
        let right = digests_match(&stored, &self.transfer_code_digest(transfer.id, code));
        let Some(candidate) = candidate.filter(|_| right) else {
            tx.commit().await?;
            return Ok(CodeCheck::Invalid);
        };
        let bound = sqlx::query(
            "UPDATE data_transfers SET source_session_id = $1, browser_digest = $2, proven_at = $3, \
             status = $4, updated_at = $3 WHERE id = $5 AND status IN ($6, $4) AND expires_at > $3",
        )
        .bind(&candidate)
        .bind(digest(browser_secret))
        .bind(now.micros())
        .bind(TransferStatus::InProgress.as_str())
        .bind(transfer.id.to_string())
        .bind(TransferStatus::Pending.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if bound == 0 {
            return Ok(CodeCheck::Invalid);
        }
        if let Some(address) = &address {
            refund_digest(&mut tx, TRANSFER_CODE_GUESSES, address).await?;
        }
        sqlx::query("DELETE FROM data_transfer_codes WHERE transfer_id = $1")
            .bind(transfer.id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(CodeCheck::Proven)
    }

    /// Whether `browser_secret` is the one bound to the transfer when ownership was proven.
    pub async fn transfer_browser_matches(
        &self,
        id: TransferId,
        browser_secret: &str,
    ) -> Result<bool> {
        let stored: Option<Option<String>> =
            sqlx::query_scalar("SELECT browser_digest FROM data_transfers WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.db.read)
                .await?;
        Ok(stored
            .flatten()
            .is_some_and(|stored| digests_match(&stored, &digest(browser_secret))))
    }

    /// Records the person's answer on an open, proven transfer, from the browser that proved
    /// ownership. Consent copies the pictures under the requesting application first, then
    /// stores the sealed data and the copies' records with the status change in one
    /// transaction. `false` when the transfer was no longer open (answered, or expired).
    pub async fn answer_transfer(
        &self,
        transfer: &Transfer,
        browser_secret: &str,
        answer: TransferAnswer,
        now: Timestamp,
    ) -> Result<bool> {
        if !self
            .transfer_browser_matches(transfer.id, browser_secret)
            .await?
        {
            return Ok(false);
        }
        let (status, sealed, pictures) = match answer {
            TransferAnswer::Consent { shared, pictures } => (
                TransferStatus::Confirmed,
                Some(self.sealer.seal(shared.to_string().as_bytes())),
                pictures,
            ),
            TransferAnswer::Refuse => (TransferStatus::Declined, None, Vec::new()),
        };
        let prefix = format!("{}/data-transfers/{}", transfer.application_id, transfer.id);
        let mut copies = Vec::new();
        for picture in &pictures {
            let Some(bytes) = self.media.get(&picture.object_key).await? else {
                continue;
            };
            let key = format!("{prefix}/{}", picture.name);
            let size = bytes.len() as i64;
            self.media.put(&key, bytes).await?;
            copies.push((picture, key, size));
        }
        let mut tx = self.db.write.begin().await?;
        let changed = sqlx::query(
            "UPDATE data_transfers SET status = $1, shared_data = $2, decided_at = $3, updated_at = $3 \
             WHERE id = $4 AND status = $5 AND source_session_id IS NOT NULL AND expires_at > $3",
        )
        .bind(status.as_str())
        .bind(sealed)
        .bind(now.micros())
        .bind(transfer.id.to_string())
        .bind(TransferStatus::InProgress.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            drop(tx);
            self.media.delete_prefix(&prefix).await?;
            return Ok(false);
        }
        for (picture, key, size) in copies {
            sqlx::query(
                "INSERT INTO data_transfer_media (transfer_id, name, object_key, content_type, size_bytes) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(transfer.id.to_string())
            .bind(&picture.name)
            .bind(key)
            .bind(&picture.content_type)
            .bind(size)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The consented data of a confirmed transfer of this application; `None` otherwise.
    pub async fn shared_transfer_data(
        &self,
        app: ApplicationId,
        id: TransferId,
    ) -> Result<Option<serde_json::Value>> {
        let sealed: Option<Option<String>> = sqlx::query_scalar(
            "SELECT shared_data FROM data_transfers WHERE id = $1 AND application_id = $2",
        )
        .bind(id.to_string())
        .bind(app.to_string())
        .fetch_optional(&self.db.read)
        .await?;
        let Some(sealed) = sealed.ok_or_else(not_found)? else {
            return Ok(None);
        };
        let plain = self.sealer.open(&sealed)?;
        Ok(Some(serde_json::from_slice(&plain)?))
    }

    /// A consented picture of a transfer of this application.
    pub async fn transfer_picture(
        &self,
        app: ApplicationId,
        id: TransferId,
        name: &str,
    ) -> Result<SharedPicture> {
        let row = sqlx::query(
            "SELECT m.object_key, m.content_type FROM data_transfer_media m \
             JOIN data_transfers t ON t.id = m.transfer_id \
             WHERE m.transfer_id = $1 AND t.application_id = $2 AND m.name = $3",
        )
        .bind(id.to_string())
        .bind(app.to_string())
        .bind(name)
        .fetch_optional(&self.db.read)
        .await?
        .ok_or_else(not_found)?;
        let key: String = row.try_get("object_key")?;
        let bytes = self.media.get(&key).await?.ok_or_else(not_found)?;
        Ok(SharedPicture {
            content_type: row.try_get("content_type")?,
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards_and_quote_the_address() {
        let email = Email::parse("a_b%c@example.org").unwrap();
        assert_eq!(quoted_like_pattern(&email), "%\"a\\_b\\%c@example.org\"%");
    }
}
