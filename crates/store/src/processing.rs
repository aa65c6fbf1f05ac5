//! The hosted flow's writes (start, captures, submit) and the processing job queue the
//! pipeline drains (see `migrations/0005_processing.sql` for the invariants).
//!
//! Every job write after the claim is conditional on `lease_owner`: a worker that lost its
//! lease (it stalled past `lease_until` and another took over) writes nothing.

use crate::activity::{insert_event, insert_review};
use crate::error::{corrupt, rule, Result};
use crate::{Dialect, Store};
use serde_json::{json, Value};
use sqlx::Row;
use verity_domain::capture::{CaptureKind, CheckedCapture};
use verity_domain::decision::FeatureResult;
use verity_domain::ids::{ApplicationId, SessionId, SessionToken, WorkflowVersionId};
use verity_domain::rerun::RunPlan;
use verity_domain::review::{ActivityType, Review, SessionEvent};
use verity_domain::session::Session;
use verity_domain::status::SessionStatus;
use verity_domain::workflow::{Feature, WorkflowSettings};
use verity_domain::Timestamp;

/// A job leased to one worker.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: String,
    pub session_id: SessionId,
    pub application_id: ApplicationId,
    pub nodes: Vec<String>,
    pub done_nodes: Vec<String>,
    pub attempts: i64,
    pub submitted_at: Timestamp,
    pub lease_owner: String,
    /// The media submit bound to the job; `None` for jobs enqueued before inputs were bound
    /// (their sessions' uploads are refused while the job is open, so the current rows hold).
    pub inputs: Option<BoundInputs>,
}

/// A session's latest job, as the flow's status shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobInfo {
    pub id: String,
    pub state: String,
    pub waiting_for: Option<String>,
    pub nodes: Vec<String>,
    pub done_nodes: Vec<String>,
    pub processing_ms: Option<f64>,
    pub submitted_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

/// A stored capture.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCapture {
    pub kind: CaptureKind,
    pub object_key: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// Hex SHA-256 of the bytes as uploaded (`None` for rows written before digests were kept).
    pub sha256: Option<String>,
}

/// What a job's nodes may read: the session's media as its submit bound them. Uploads are
/// refused while the job is open and every upload is a new object, so these keys never see
/// other bytes; the nodes check the digests all the same and fail closed on a mismatch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoundInputs {
    pub captures: Vec<StoredCapture>,
    /// Liveness frames: object key and digest.
    pub frames: Vec<(String, Option<String>)>,
}

/// A media row as submit binds it (also the JSON of `processing_jobs.inputs`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct MediaRow {
    object_key: String,
    kind: String,
    content_type: String,
    size_bytes: i64,
    sha256: Option<String>,
}

impl MediaRow {
    fn read(row: &sqlx::any::AnyRow) -> Result<MediaRow> {
        Ok(MediaRow {
            object_key: row.try_get("object_key")?,
            kind: row.try_get("kind")?,
            content_type: row.try_get("content_type")?,
            size_bytes: row.try_get("size_bytes")?,
            sha256: row.try_get("sha256")?,
        })
    }
}

impl BoundInputs {
    /// Captures and liveness frames among `rows`; other media (the session's portrait) are
    /// not a person's evidence.
    fn from_rows(rows: Vec<MediaRow>) -> BoundInputs {
        let mut inputs = BoundInputs::default();
        for row in rows {
            if row.kind == crate::liveness::LIVENESS_FRAME_KIND {
                inputs.frames.push((row.object_key, row.sha256));
            } else if let Some(kind) = CaptureKind::parse(&row.kind) {
                inputs.captures.push(StoredCapture {
                    kind,
                    object_key: row.object_key,
                    content_type: row.content_type,
                    size_bytes: row.size_bytes,
                    sha256: row.sha256,
                });
            }
        }
        inputs
    }
}

/// The session's media rows, oldest first (inside `executor`'s transaction when it is one).
async fn media_rows<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    session: SessionId,
) -> Result<Vec<MediaRow>> {
    let rows = sqlx::query(
        "SELECT object_key, kind, content_type, size_bytes, sha256 FROM media \
         WHERE session_id = $1 ORDER BY created_at",
    )
    .bind(session.to_string())
    .fetch_all(executor)
    .await?;
    rows.iter().map(MediaRow::read).collect()
}

/// Hex SHA-256 of an upload, kept with its media row.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// What a submit did.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    pub job_id: String,
    /// False when an unfinished job already existed (an idempotent repeat).
    pub enqueued: bool,
}

/// One node's result as the pipeline writes it.
#[derive(Debug, Clone)]
pub struct NodeWrite {
    pub result: FeatureResult,
    pub processing_ms: f64,
    /// Issuing country (alpha-3) and keyed document digest of an identity document.
    pub country: Option<String>,
    pub document_digest: Option<String>,
}

fn string_list(text: &str) -> Result<Vec<String>> {
    Ok(serde_json::from_str(text)?)
}

/// Every upload is a new object: a key bound to a job never sees other bytes.
fn capture_key(app: ApplicationId, session: SessionId, kind: CaptureKind) -> String {
    format!(
        "{app}/{session}/captures/{}/{}",
        kind.as_str(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Refuses a change to a submitted session's evidence: while a processing job is open, its
/// inputs are frozen (checked inside the transaction that holds the session row).
pub(crate) async fn refuse_if_submitted(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    session: SessionId,
    what: &str,
) -> Result<()> {
    let open: Option<String> = sqlx::query_scalar(
        "SELECT id FROM processing_jobs WHERE session_id = $1 AND state <> 'done'",
    )
    .bind(session.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    match open {
        Some(_) => Err(crate::error::Error::Domain(verity_domain::Error::Conflict(
            format!(
                "{what} is refused: this session was submitted and its captures are frozen until it is decided or a resubmission reopens the step."
            ),
        ))),
        None => Ok(()),
    }
}

/// Records the person's activity on an `In Progress` session inside `tx` (keeping it from
/// being abandoned, and locking its row on PostgreSQL); false when the session is not
/// `In Progress`.
pub(crate) async fn record_activity(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    session: SessionId,
    at: Timestamp,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE sessions SET last_activity_at = $1 WHERE id = $2 AND status = 'In Progress'",
    )
    .bind(at.micros())
    .bind(session.to_string())
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

/// Deletes the session's media rows of `kind` inside `tx`; returns their object keys, which the
/// caller deletes after committing.
async fn take_capture_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    session: SessionId,
    kind: CaptureKind,
) -> Result<Vec<String>> {
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT object_key FROM media WHERE session_id = $1 AND kind = $2")
            .bind(session.to_string())
            .bind(kind.as_str())
            .fetch_all(&mut **tx)
            .await?;
    sqlx::query("DELETE FROM media WHERE session_id = $1 AND kind = $2")
        .bind(session.to_string())
        .bind(kind.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(keys)
}

impl Store {
    /// The session a hosted-flow token opens (any application: the token is the credential).
    pub async fn session_by_token(&self, token: &str) -> Result<Option<Session>> {
        let Some(token) = SessionToken::parse(token) else {
            return Ok(None);
        };
        let id: Option<(String, String)> =
            sqlx::query_as("SELECT id, application_id FROM sessions WHERE session_token = $1")
                .bind(token.as_str())
                .fetch_optional(&self.db.read)
                .await?;
        let Some((id, app)) = id else {
            return Ok(None);
        };
        let (Some(id), Some(app)) = (SessionId::parse(&id), ApplicationId::parse(&app)) else {
            return Err(corrupt("session row", &id));
        };
        Ok(Some(self.session(app, id).await?))
    }

    /// The workflow version a session is pinned to, even if the workflow was since deleted.
    pub async fn pinned_workflow(
        &self,
        app: ApplicationId,
        version: WorkflowVersionId,
    ) -> Result<WorkflowSettings> {
        let settings: String = sqlx::query_scalar(
            "SELECT settings FROM workflows WHERE id = $1 AND application_id = $2",
        )
        .bind(version.to_string())
        .bind(app.to_string())
        .fetch_optional(&self.db.read)
        .await?
        .ok_or_else(|| corrupt("pinned workflow", &version.to_string()))?;
        Ok(serde_json::from_str(&settings)?)
    }

    /// Opens the flow: `Not Started` or `Resubmitted` → `In Progress` with its event (the
    /// webhook fires); any other status is left as is (idempotent). Coming back from
    /// `Resubmitted`, the captures of the nodes to redo are discarded so they are taken again.
    pub async fn start_flow(&self, session: &Session, device_info: Value) -> Result<Session> {
        let previous = session.status;
        if !matches!(
            previous,
            SessionStatus::NotStarted | SessionStatus::Resubmitted
        ) {
            return Ok(session.clone());
        }
        let now = Timestamp::now();
        let redo: Vec<CaptureKind> = if previous == SessionStatus::Resubmitted {
            RunPlan::of(session).captures
        } else {
            Vec::new()
        };
        let mut tx = self.db.write.begin().await?;
        let changed = sqlx::query(
            "UPDATE sessions SET status = 'In Progress', device_info = $1, updated_at = $2, \
             last_activity_at = $2 WHERE id = $3 AND status = $4",
        )
        .bind(device_info.to_string())
        .bind(now.micros())
        .bind(session.id.to_string())
        .bind(previous.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            // Someone else started it (or it moved on): answer what it is now.
            drop(tx);
            return self.session(session.application_id, session.id).await;
        }
        let mut discarded = Vec::new();
        for kind in &redo {
            discarded.extend(take_capture_rows(&mut tx, session.id, *kind).await?);
        }
        // A selfie taken again means a new liveness challenge: the earlier ones (and their
        // frames) go, so the new attempt has its own budget and its own frames.
        let redo_liveness = redo.contains(&CaptureKind::Selfie);
        if redo_liveness {
            crate::liveness::forget_challenges(&mut tx, session.id).await?;
        }
        let event = SessionEvent::status_change(
            session.id,
            Some(previous),
            SessionStatus::InProgress,
            None,
        );
        insert_event(&mut tx, session.application_id, &event).await?;
        tx.commit().await?;
        self.outbox.notify_one();
        for key in discarded {
            self.media.delete(&key).await?;
        }
        if redo_liveness {
            self.media
                .delete_prefix(&crate::liveness::frames_prefix(session))
                .await?;
        }
        self.session(session.application_id, session.id).await
    }

    /// Records that the person opened the hosted page of an `In Progress` session.
    pub async fn record_flow_activity(&self, session: SessionId) -> Result<()> {
        sqlx::query(
            "UPDATE sessions SET last_activity_at = $1 WHERE id = $2 AND status = 'In Progress'",
        )
        .bind(Timestamp::now().micros())
        .bind(session.to_string())
        .execute(&self.db.write)
        .await?;
        Ok(())
    }

    /// Stores (or replaces) one capture of an `In Progress` session that is not submitted.
    pub async fn store_capture(
        &self,
        session: &Session,
        kind: CaptureKind,
        capture: CheckedCapture,
    ) -> Result<StoredCapture> {
        let key = capture_key(session.application_id, session.id, kind);
        let size = capture.bytes.len() as i64;
        let sha256 = sha256_hex(&capture.bytes);
        self.media.put(&key, capture.bytes).await?;
        let now = Timestamp::now();
        let mut tx = self.db.write.begin().await?;
        // An upload is the person's activity: it keeps the session from being abandoned.
        let open = record_activity(&mut tx, session.id, now).await?;
        let refusal = if open {
            refuse_if_submitted(&mut tx, session.id, "Uploading")
                .await
                .err()
        } else {
            Some(rule(
                "Captures are accepted only while the session is In Progress.",
            ))
        };
        if let Some(refusal) = refusal {
            drop(tx);
            self.media.delete(&key).await?;
            return Err(refusal);
        }
        let replaced = take_capture_rows(&mut tx, session.id, kind).await?;
        sqlx::query(
            "INSERT INTO media (object_key, session_id, application_id, kind, content_type, size_bytes, created_at, sha256) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&key)
        .bind(session.id.to_string())
        .bind(session.application_id.to_string())
        .bind(kind.as_str())
        .bind(capture.content_type)
        .bind(size)
        .bind(now.micros())
        .bind(&sha256)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        for old in replaced {
            self.media.delete(&old).await?;
        }
        Ok(StoredCapture {
            kind,
            object_key: key,
            content_type: capture.content_type.to_owned(),
            size_bytes: size,
            sha256: Some(sha256),
        })
    }

    /// The session's stored captures.
    pub async fn captures(&self, session: SessionId) -> Result<Vec<StoredCapture>> {
        Ok(self.media_inputs(session).await?.captures)
    }

    /// The session's current captures and liveness frames.
    pub async fn media_inputs(&self, session: SessionId) -> Result<BoundInputs> {
        Ok(BoundInputs::from_rows(
            media_rows(&self.db.read, session).await?,
        ))
    }

    /// Enqueues the session's processing in the same transaction that checks it is
    /// `In Progress`; a repeat while a job is unfinished answers that job.
    pub async fn submit_flow(&self, session: &Session, nodes: &[String]) -> Result<Submitted> {
        let now = Timestamp::now();
        let mut tx = self.db.write.begin().await?;
        // Locks the session row (PostgreSQL): concurrent submits queue here.
        let open = sqlx::query(
            "UPDATE sessions SET updated_at = $1 WHERE id = $2 AND status = 'In Progress'",
        )
        .bind(now.micros())
        .bind(session.id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let existing: Option<String> = sqlx::query_scalar(
            "SELECT id FROM processing_jobs WHERE session_id = $1 AND state <> 'done'",
        )
        .bind(session.id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(job_id) = existing {
            return Ok(Submitted {
                job_id,
                enqueued: false,
            });
        }
        if open == 0 {
            // The caller saw In Progress, but a job has decided the session since: a repeat of
            // the submit that started it, not an error.
            let decided: Option<String> = sqlx::query_scalar(
                "SELECT id FROM processing_jobs WHERE session_id = $1 ORDER BY created_at DESC LIMIT 1",
            )
            .bind(session.id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            return match decided {
                Some(job_id) if session.status == SessionStatus::InProgress => Ok(Submitted {
                    job_id,
                    enqueued: false,
                }),
                _ => Err(rule("Only a session In Progress can be submitted.")),
            };
        }
        // The evidence is bound in the transaction that holds the session row: an upload
        // either committed before (and is bound) or is refused after (the job is open).
        let bound = media_rows(&mut *tx, session.id).await?;
        let job_id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO processing_jobs (id, session_id, application_id, state, nodes, done_nodes, attempts, \
             submitted_at, created_at, updated_at, inputs) VALUES ($1, $2, $3, 'queued', $4, '[]', 0, $5, $5, $5, $6)",
        )
        .bind(&job_id)
        .bind(session.id.to_string())
        .bind(session.application_id.to_string())
        .bind(serde_json::to_string(nodes)?)
        .bind(now.micros())
        .bind(serde_json::to_string(&bound)?)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.processing.notify_one();
        Ok(Submitted {
            job_id,
            enqueued: true,
        })
    }

    /// The session's most recent job.
    pub async fn latest_job(&self, session: SessionId) -> Result<Option<JobInfo>> {
        let row = sqlx::query(
            "SELECT id, state, waiting_for, nodes, done_nodes, processing_ms, submitted_at, finished_at \
             FROM processing_jobs WHERE session_id = $1 ORDER BY created_at DESC LIMIT 1",
        )
        .bind(session.to_string())
        .fetch_optional(&self.db.read)
        .await?;
        row.map(|row| {
            let nodes: String = row.try_get("nodes")?;
            let done: String = row.try_get("done_nodes")?;
            let finished: Option<i64> = row.try_get("finished_at")?;
            Ok(JobInfo {
                id: row.try_get("id")?,
                state: row.try_get("state")?,
                waiting_for: row.try_get("waiting_for")?,
                nodes: string_list(&nodes)?,
                done_nodes: string_list(&done)?,
                processing_ms: row.try_get("processing_ms")?,
                submitted_at: Timestamp::from_micros(row.try_get("submitted_at")?),
                finished_at: finished.map(Timestamp::from_micros),
            })
        })
        .transpose()
    }

    /// Leases up to `limit` queued jobs to `owner` until `lease_until`; jobs of a worker that
    /// died (its lease expired) are taken over.
    pub async fn claim_jobs(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<ClaimedJob>> {
        let lock = match self.db.dialect {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let sql = format!(
            "UPDATE processing_jobs SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 WHERE id IN (\
               SELECT id FROM processing_jobs WHERE state = 'queued' \
               AND (lease_until IS NULL OR lease_until < $3) ORDER BY created_at LIMIT $4{lock}) \
             RETURNING id, session_id, application_id, nodes, done_nodes, attempts, submitted_at, inputs"
        );
        let rows = sqlx::query(&sql)
            .bind(owner)
            .bind(lease_until.micros())
            .bind(now.micros())
            .bind(limit)
            .fetch_all(&self.db.write)
            .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                let session: String = row.try_get("session_id")?;
                let app: String = row.try_get("application_id")?;
                let nodes: String = row.try_get("nodes")?;
                let done: String = row.try_get("done_nodes")?;
                let inputs: Option<String> = row.try_get("inputs")?;
                Ok(ClaimedJob {
                    session_id: SessionId::parse(&session)
                        .ok_or_else(|| corrupt("job session", &session))?,
                    application_id: ApplicationId::parse(&app)
                        .ok_or_else(|| corrupt("job application", &app))?,
                    nodes: string_list(&nodes)?,
                    done_nodes: string_list(&done)?,
                    attempts: row.try_get("attempts")?,
                    submitted_at: Timestamp::from_micros(row.try_get("submitted_at")?),
                    lease_owner: owner.to_owned(),
                    inputs: inputs
                        .as_deref()
                        .map(serde_json::from_str)
                        .transpose()?
                        .map(BoundInputs::from_rows),
                    id,
                })
            })
            .collect()
    }

    /// Writes one node's result and the job's progress in one transaction, and extends the
    /// lease. False (nothing written) when the lease was lost.
    pub async fn record_node(
        &self,
        job: &ClaimedJob,
        done_nodes: &[String],
        write: &NodeWrite,
        lease_until: Timestamp,
    ) -> Result<bool> {
        let now = Timestamp::now();
        let mut tx = self.db.write.begin().await?;
        let held = sqlx::query(
            "UPDATE processing_jobs SET done_nodes = $1, lease_until = $2, updated_at = $3 \
             WHERE id = $4 AND lease_owner = $5 AND state = 'queued'",
        )
        .bind(serde_json::to_string(done_nodes)?)
        .bind(lease_until.micros())
        .bind(now.micros())
        .bind(&job.id)
        .bind(&job.lease_owner)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if held == 0 {
            return Ok(false);
        }
        let result = &write.result;
        let previous = sqlx::query(
            "SELECT status, overridden_by FROM feature_results WHERE session_id = $1 AND node_id = $2",
        )
        .bind(job.session_id.to_string())
        .bind(&result.node_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(previous) = previous {
            let overridden_by: Option<String> = previous.try_get("overridden_by")?;
            if let Some(reviewer) = overridden_by {
                // A reviewer's verdict on earlier evidence is replaced, never silently: the
                // case's activity says whose status the engines' new one supersedes.
                let status: String = previous.try_get("status")?;
                let review = Review {
                    id: uuid::Uuid::new_v4(),
                    session_id: job.session_id,
                    activity_type: ActivityType::FeatureStatusChange,
                    actor: "Verity".to_owned(),
                    previous_status: Some(SessionStatus::InProgress),
                    new_status: Some(SessionStatus::InProgress),
                    comment: Some(format!(
                        "{}: {status} (set by {reviewer}) → {}: judged again on the resubmitted evidence.",
                        result.node_id,
                        result.status.as_str()
                    )),
                    created_at: now,
                };
                insert_review(&mut tx, job.application_id, &review).await?;
            }
        }
        sqlx::query("DELETE FROM feature_results WHERE session_id = $1 AND node_id = $2")
            .bind(job.session_id.to_string())
            .bind(&result.node_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO feature_results (session_id, node_id, feature, status, payload, updated_at, processing_ms, job_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(job.session_id.to_string())
        .bind(&result.node_id)
        .bind(result.feature.as_str())
        .bind(result.status.as_str())
        .bind(Value::Object(result.payload.clone()).to_string())
        .bind(now.micros())
        .bind(write.processing_ms)
        .bind(&job.id)
        .execute(&mut *tx)
        .await?;
        if write.country.is_some() || write.document_digest.is_some() {
            sqlx::query(
                "UPDATE sessions SET country = COALESCE($1, country), document_digest = COALESCE($2, document_digest) WHERE id = $3",
            )
            .bind(&write.country)
            .bind(&write.document_digest)
            .bind(job.session_id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Parks a job whose next node has no engine in this deployment. The session stays
    /// `In Progress`; [`Store::requeue_waiting`] resumes it once an engine is registered.
    pub async fn park_job(&self, job: &ClaimedJob, feature: Feature) -> Result<bool> {
        let parked = sqlx::query(
            "UPDATE processing_jobs SET state = 'waiting_for_engine', waiting_for = $1, lease_owner = NULL, \
             lease_until = NULL, updated_at = $2 WHERE id = $3 AND lease_owner = $4 AND state = 'queued'",
        )
        .bind(feature.as_str())
        .bind(Timestamp::now().micros())
        .bind(&job.id)
        .bind(&job.lease_owner)
        .execute(&self.db.write)
        .await?
        .rows_affected();
        Ok(parked == 1)
    }

    /// Puts parked jobs waiting for one of `features` back in the queue. Returns how many.
    pub async fn requeue_waiting(&self, features: &[Feature]) -> Result<u64> {
        if features.is_empty() {
            return Ok(0);
        }
        let names: Vec<String> = (0..features.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "UPDATE processing_jobs SET state = 'queued', waiting_for = NULL, updated_at = $1 \
             WHERE state = 'waiting_for_engine' AND waiting_for IN ({})",
            names.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(Timestamp::now().micros());
        for feature in features {
            query = query.bind(feature.as_str());
        }
        let moved = query.execute(&self.db.write).await?.rows_affected();
        if moved > 0 {
            self.processing.notify_one();
        }
        Ok(moved)
    }

    /// Hands a job back after a failure; it is retried once `retry_at` passes.
    pub async fn release_job(
        &self,
        job: &ClaimedJob,
        error: &str,
        retry_at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE processing_jobs SET lease_owner = NULL, lease_until = $1, last_error = $2, updated_at = $3 \
             WHERE id = $4 AND lease_owner = $5",
        )
        .bind(retry_at.micros())
        .bind(error)
        .bind(Timestamp::now().micros())
        .bind(&job.id)
        .bind(&job.lease_owner)
        .execute(&self.db.write)
        .await?;
        Ok(())
    }

    /// Finishes a job: the session moves from `In Progress` to `outcome` with its
    /// `status.updated` event (the webhook outbox) in the same transaction as `state = 'done'`.
    /// A session that left `In Progress` meanwhile keeps its status. False when the lease was
    /// lost (nothing written).
    pub async fn finish_job(
        &self,
        job: &ClaimedJob,
        outcome: SessionStatus,
        processing_ms: f64,
    ) -> Result<bool> {
        let now = Timestamp::now();
        let mut tx = self.db.write.begin().await?;
        let held = sqlx::query(
            "UPDATE processing_jobs SET state = 'done', outcome = $1, processing_ms = $2, finished_at = $3, \
             updated_at = $3, lease_owner = NULL, lease_until = NULL WHERE id = $4 AND lease_owner = $5 AND state = 'queued'",
        )
        .bind(outcome.as_str())
        .bind(processing_ms)
        .bind(now.micros())
        .bind(&job.id)
        .bind(&job.lease_owner)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if held == 0 {
            return Ok(false);
        }
        let moved = sqlx::query(
            "UPDATE sessions SET status = $1, updated_at = $2 WHERE id = $3 AND status = 'In Progress'",
        )
        .bind(outcome.as_str())
        .bind(now.micros())
        .bind(job.session_id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved == 1 {
            let event = SessionEvent::status_change(
                job.session_id,
                Some(SessionStatus::InProgress),
                outcome,
                Some(json!({"processing_ms": processing_ms})),
            );
            insert_event(&mut tx, job.application_id, &event).await?;
        }
        tx.commit().await?;
        if moved == 1 {
            self.outbox.notify_one();
        }
        Ok(true)
    }

    /// The keyed digest that identifies an identity document within an application.
    pub fn document_digest(
        &self,
        app: ApplicationId,
        country: &str,
        document_type: &str,
        number: &str,
    ) -> String {
        let number: String = number
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        self.sealer.keyed_digest(&[
            "document",
            &app.to_string(),
            country,
            document_type,
            &number,
        ])
    }

    /// Another session of the application (the oldest) whose verified document has this digest.
    pub async fn duplicate_document(
        &self,
        app: ApplicationId,
        session: SessionId,
        digest: &str,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM sessions WHERE application_id = $1 AND document_digest = $2 AND id <> $3 \
             ORDER BY created_at LIMIT 1",
        )
        .bind(app.to_string())
        .bind(digest)
        .bind(session.to_string())
        .fetch_optional(&self.db.read)
        .await?)
    }

    /// `{ip_address, user_agent}` recorded when the flow was opened.
    pub async fn device_info(&self, session: SessionId) -> Result<Option<Value>> {
        let text: Option<Option<String>> =
            sqlx::query_scalar("SELECT device_info FROM sessions WHERE id = $1")
                .bind(session.to_string())
                .fetch_optional(&self.db.read)
                .await?;
        Ok(text
            .flatten()
            .map(|t| serde_json::from_str(&t))
            .transpose()?)
    }

    /// Arms a sandbox scenario on a `Not Started` session of this application.
    pub async fn arm_sandbox(
        &self,
        app: ApplicationId,
        session: SessionId,
        slug: &str,
    ) -> Result<()> {
        let armed = sqlx::query(
            "UPDATE sessions SET sandbox_scenario = $1, updated_at = $2 \
             WHERE id = $3 AND application_id = $4 AND status = 'Not Started'",
        )
        .bind(slug)
        .bind(Timestamp::now().micros())
        .bind(session.to_string())
        .bind(app.to_string())
        .execute(&self.db.write)
        .await?
        .rows_affected();
        if armed == 0 {
            return Err(rule(
                "A scenario can be armed only while the session is Not Started.",
            ));
        }
        Ok(())
    }
}
