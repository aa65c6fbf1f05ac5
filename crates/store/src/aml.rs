//! AML screening data: imported dataset versions (`aml_datasets`, raw files in the media store),
//! the leased ongoing-monitoring runs, standalone screenings (`aml_checks`), and the writes that
//! change a session's AML result (hit reviews, monitoring hits) together with the session status,
//! its review and its `status.updated` event in one transaction. See
//! `migrations/0007_aml.sql`.

use crate::activity::{insert_event, insert_review};
use crate::error::{corrupt, not_found, rule, Result};
use crate::{Dialect, Store};
use serde_json::{json, Map, Value};
use sqlx::Row;
use verity_domain::ids::{ApplicationId, SessionId, WorkflowVersionId};
use verity_domain::review::{ActivityType, Review, SessionEvent};
use verity_domain::rules::session_status;
use verity_domain::status::{FeatureStatus, SessionStatus};
use verity_domain::workflow::{Feature, WorkflowSettings};
use verity_domain::Timestamp;

/// One imported version of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct AmlDataset {
    pub id: String,
    pub name: String,
    pub version: String,
    /// `ftm` or `ofac-sdn`.
    pub format: String,
    pub published_on: Option<String>,
    pub imported_at: Timestamp,
    pub entity_count: i64,
    pub error_count: i64,
    pub source_digest: String,
    pub file_key: String,
    pub size_bytes: i64,
    pub previous_version: Option<String>,
    pub monitoring_state: String,
    pub monitoring_summary: Option<Value>,
}

/// What the importer records.
#[derive(Debug, Clone)]
pub struct NewAmlDataset {
    pub name: String,
    pub version: String,
    pub format: String,
    pub published_on: Option<String>,
    pub entity_count: i64,
    pub error_count: i64,
    pub source_digest: String,
    pub size_bytes: i64,
}

/// A session's AML node whose result asked for ongoing monitoring.
#[derive(Debug, Clone)]
pub struct MonitoredNode {
    pub application_id: ApplicationId,
    pub session_id: SessionId,
    pub node_id: String,
    pub workflow_version_id: WorkflowVersionId,
    pub payload: Map<String, Value>,
}

/// A stored standalone screening.
#[derive(Debug, Clone)]
pub struct AmlCheck {
    pub id: String,
    pub application_id: ApplicationId,
    pub vendor_data: Option<String>,
    pub metadata: Option<Value>,
    pub request: Value,
    pub result: Map<String, Value>,
    pub ongoing_monitoring: bool,
    pub last_checked_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// Why a session's AML result changes.
#[derive(Debug, Clone)]
pub enum AmlChange {
    /// A reviewer marked hits (spec §3.10); the session status is derived again from its nodes.
    HitReview { actor: String },
    /// Ongoing monitoring found new hits in a dataset version; the session moves only as spec
    /// §4.2 lets monitoring move it: Approved → In Review / Declined, In Review → Declined.
    Monitoring { dataset: String, version: String },
}

/// What a change to an AML result did.
#[derive(Debug, Clone, PartialEq)]
pub struct AmlResultChange<T> {
    pub node_id: String,
    pub node_status: FeatureStatus,
    pub previous_session_status: SessionStatus,
    pub session_status: SessionStatus,
    /// What the caller's edit returned.
    pub edit: T,
}

const DATASET_COLUMNS: &str = "id, name, version, format, published_on, imported_at, entity_count, \
    error_count, source_digest, file_key, size_bytes, previous_version, monitoring_state, monitoring_summary";

fn dataset_from_row(row: &sqlx::any::AnyRow) -> Result<AmlDataset> {
    let summary: Option<String> = row.try_get("monitoring_summary")?;
    Ok(AmlDataset {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        version: row.try_get("version")?,
        format: row.try_get("format")?,
        published_on: row.try_get("published_on")?,
        imported_at: Timestamp::from_micros(row.try_get("imported_at")?),
        entity_count: row.try_get("entity_count")?,
        error_count: row.try_get("error_count")?,
        source_digest: row.try_get("source_digest")?,
        file_key: row.try_get("file_key")?,
        size_bytes: row.try_get("size_bytes")?,
        previous_version: row.try_get("previous_version")?,
        monitoring_state: row.try_get("monitoring_state")?,
        monitoring_summary: summary.map(|s| serde_json::from_str(&s)).transpose()?,
    })
}

fn check_from_row(row: &sqlx::any::AnyRow) -> Result<AmlCheck> {
    let app: String = row.try_get("application_id")?;
    let metadata: Option<String> = row.try_get("metadata")?;
    let request: String = row.try_get("request")?;
    let result: String = row.try_get("result")?;
    let monitored: i64 = row.try_get("ongoing_monitoring")?;
    let checked: Option<i64> = row.try_get("last_checked_at")?;
    Ok(AmlCheck {
        id: row.try_get("id")?,
        application_id: ApplicationId::parse(&app)
            .ok_or_else(|| corrupt("application id", &app))?,
        vendor_data: row.try_get("vendor_data")?,
        metadata: metadata.map(|m| serde_json::from_str(&m)).transpose()?,
        request: serde_json::from_str(&request)?,
        result: serde_json::from_str(&result)?,
        ongoing_monitoring: monitored != 0,
        last_checked_at: checked.map(Timestamp::from_micros),
        created_at: Timestamp::from_micros(row.try_get("created_at")?),
    })
}

/// Media key of a dataset file: under `aml-datasets/`, apart from every application's media.
pub fn dataset_file_key(name: &str, version: &str, digest: &str, format: &str) -> String {
    let safe = |text: &str| -> String {
        text.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let extension = if format == "ftm" { "jsonl" } else { "csv" };
    format!(
        "aml-datasets/{}/{}-{}.{extension}",
        safe(name),
        safe(version),
        &digest[..digest.len().min(16)]
    )
}

impl Store {
    /// Records an imported version: the raw file first (so a row never names a missing file),
    /// then the row, with `previous_version` set to the newest version before it and ongoing
    /// monitoring `pending` when there is one. A file identical to the newest version's is
    /// refused (nothing changed), as is a version label already taken.
    pub async fn import_aml_dataset(
        &self,
        new: &NewAmlDataset,
        bytes: Vec<u8>,
    ) -> Result<AmlDataset> {
        if let Some(latest) = self.latest_aml_dataset(&new.name).await? {
            if latest.source_digest == new.source_digest {
                return Err(rule(format!(
                    "This file is already the newest version of dataset {:?} (version {:?}).",
                    new.name, latest.version
                )));
            }
        }
        let key = dataset_file_key(&new.name, &new.version, &new.source_digest, &new.format);
        self.media.put(&key, bytes).await?;
        let now = Timestamp::now();
        let mut tx = self.db.write.begin().await?;
        let taken: Option<String> =
            sqlx::query_scalar("SELECT id FROM aml_datasets WHERE name = $1 AND version = $2")
                .bind(&new.name)
                .bind(&new.version)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Err(rule(format!(
                "Dataset {:?} already has a version {:?}; give another with --version.",
                new.name, new.version
            )));
        }
        let previous: Option<String> = sqlx::query_scalar(
            "SELECT version FROM aml_datasets WHERE name = $1 ORDER BY imported_at DESC LIMIT 1",
        )
        .bind(&new.name)
        .fetch_optional(&mut *tx)
        .await?;
        let state = if previous.is_some() {
            "pending"
        } else {
            "none"
        };
        let id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO aml_datasets (id, name, version, format, published_on, imported_at, entity_count, \
             error_count, source_digest, file_key, size_bytes, previous_version, monitoring_state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&id)
        .bind(&new.name)
        .bind(&new.version)
        .bind(&new.format)
        .bind(&new.published_on)
        .bind(now.micros())
        .bind(new.entity_count)
        .bind(new.error_count)
        .bind(&new.source_digest)
        .bind(&key)
        .bind(new.size_bytes)
        .bind(&previous)
        .bind(state)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.aml_dataset(&new.name, &new.version)
            .await?
            .ok_or_else(not_found)
    }

    pub async fn aml_dataset(&self, name: &str, version: &str) -> Result<Option<AmlDataset>> {
        let row = sqlx::query(&format!(
            "SELECT {DATASET_COLUMNS} FROM aml_datasets WHERE name = $1 AND version = $2"
        ))
        .bind(name)
        .bind(version)
        .fetch_optional(&self.db.read)
        .await?;
        row.as_ref().map(dataset_from_row).transpose()
    }

    pub async fn latest_aml_dataset(&self, name: &str) -> Result<Option<AmlDataset>> {
        let row = sqlx::query(&format!(
            "SELECT {DATASET_COLUMNS} FROM aml_datasets WHERE name = $1 ORDER BY imported_at DESC LIMIT 1"
        ))
        .bind(name)
        .fetch_optional(&self.db.read)
        .await?;
        row.as_ref().map(dataset_from_row).transpose()
    }

    /// Every imported version, oldest first.
    pub async fn aml_datasets(&self) -> Result<Vec<AmlDataset>> {
        let rows = sqlx::query(&format!(
            "SELECT {DATASET_COLUMNS} FROM aml_datasets ORDER BY imported_at, name"
        ))
        .fetch_all(&self.db.read)
        .await?;
        rows.iter().map(dataset_from_row).collect()
    }

    /// The newest version of every dataset name.
    pub async fn latest_aml_datasets(&self) -> Result<Vec<AmlDataset>> {
        let all = self.aml_datasets().await?;
        let mut latest: Vec<AmlDataset> = Vec::new();
        for row in all {
            match latest.iter_mut().find(|d| d.name == row.name) {
                Some(slot) => *slot = row,
                None => latest.push(row),
            }
        }
        Ok(latest)
    }

    /// Leases the oldest version whose monitoring is pending (or whose runner's lease expired),
    /// provided no older version of the same dataset is still waiting: versions are compared in
    /// import order, one run per dataset at a time.
    pub async fn claim_aml_monitoring(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<AmlDataset>> {
        let lock = match self.db.dialect {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let sql = format!(
            "UPDATE aml_datasets SET monitoring_state = 'running', monitoring_owner = $1, monitoring_lease_until = $2 \
             WHERE id IN (SELECT d.id FROM aml_datasets d WHERE (d.monitoring_state = 'pending' \
               OR (d.monitoring_state = 'running' AND d.monitoring_lease_until < $3)) \
               AND NOT EXISTS (SELECT 1 FROM aml_datasets p WHERE p.name = d.name AND p.imported_at < d.imported_at \
                 AND (p.monitoring_state = 'pending' OR (p.monitoring_state = 'running' AND p.id <> d.id))) \
               ORDER BY d.imported_at LIMIT 1{lock}) \
             RETURNING id"
        );
        let id: Option<String> = sqlx::query_scalar(&sql)
            .bind(owner)
            .bind(lease_until.micros())
            .bind(now.micros())
            .fetch_optional(&self.db.write)
            .await?;
        let Some(id) = id else { return Ok(None) };
        let row = sqlx::query(&format!(
            "SELECT {DATASET_COLUMNS} FROM aml_datasets WHERE id = $1"
        ))
        .bind(&id)
        .fetch_one(&self.db.write)
        .await?;
        Ok(Some(dataset_from_row(&row)?))
    }

    /// Ends a monitoring run this owner holds. False when the lease was lost.
    pub async fn finish_aml_monitoring(
        &self,
        id: &str,
        owner: &str,
        summary: &Value,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE aml_datasets SET monitoring_state = 'done', monitoring_owner = NULL, monitoring_lease_until = NULL, \
             monitoring_summary = $1 WHERE id = $2 AND monitoring_owner = $3 AND monitoring_state = 'running'",
        )
        .bind(summary.to_string())
        .bind(id)
        .bind(owner)
        .execute(&self.db.write)
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    /// Hands a failed monitoring run back (retried once `retry_at` passes).
    pub async fn release_aml_monitoring(
        &self,
        id: &str,
        owner: &str,
        retry_at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE aml_datasets SET monitoring_lease_until = $1 WHERE id = $2 AND monitoring_owner = $3",
        )
        .bind(retry_at.micros())
        .bind(id)
        .bind(owner)
        .execute(&self.db.write)
        .await?;
        Ok(())
    }

    /// Every live session's AML node result that asked for ongoing monitoring, in decided
    /// sessions (Approved, In Review, Declined). Sandbox results are never re-screened.
    pub async fn monitored_aml_nodes(&self) -> Result<Vec<MonitoredNode>> {
        let rows = sqlx::query(
            "SELECT s.application_id, s.id AS session_id, s.workflow_version_id, r.node_id, r.payload \
             FROM feature_results r JOIN sessions s ON s.id = r.session_id \
             WHERE r.feature = 'AML' AND s.environment = 'live' \
             AND s.status IN ('Approved', 'In Review', 'Declined') ORDER BY s.created_at",
        )
        .fetch_all(&self.db.read)
        .await?;
        let mut out = Vec::new();
        for row in rows {
            let payload: String = row.try_get("payload")?;
            let payload: Map<String, Value> = serde_json::from_str(&payload)?;
            if !verity_domain::aml::is_monitored(&payload) {
                continue;
            }
            let app: String = row.try_get("application_id")?;
            let session: String = row.try_get("session_id")?;
            let version: String = row.try_get("workflow_version_id")?;
            out.push(MonitoredNode {
                application_id: ApplicationId::parse(&app)
                    .ok_or_else(|| corrupt("application id", &app))?,
                session_id: SessionId::parse(&session)
                    .ok_or_else(|| corrupt("session id", &session))?,
                workflow_version_id: WorkflowVersionId::parse(&version)
                    .ok_or_else(|| corrupt("workflow uuid", &version))?,
                node_id: row.try_get("node_id")?,
                payload,
            });
        }
        Ok(out)
    }

    /// Changes one AML node result of a session with `edit` (which receives the payload and the
    /// node's workflow config and returns the node's new status), then derives the session status
    /// again and writes result, review and `status.updated` event in one transaction. On
    /// PostgreSQL the result row is locked for the read-modify-write (SQLite's single writer
    /// serialises it anyway), so a reviewer and a monitoring run never overwrite each other.
    pub async fn change_aml_result<T>(
        &self,
        app: ApplicationId,
        id: SessionId,
        node_id: Option<&str>,
        change: &AmlChange,
        edit: impl FnOnce(
            &mut Map<String, Value>,
            &Map<String, Value>,
            &str,
        ) -> Result<(FeatureStatus, T)>,
    ) -> Result<AmlResultChange<T>> {
        let session = self.session(app, id).await?;
        let node = match node_id {
            Some(node_id) => session
                .nodes
                .iter()
                .find(|n| n.node_id == node_id && n.feature == Feature::Aml)
                .ok_or_else(|| rule(format!("{node_id} is not an AML step of this session.")))?,
            None => session
                .nodes
                .iter()
                .find(|n| n.feature == Feature::Aml)
                .ok_or_else(|| rule("This session has no AML step."))?,
        };
        let settings: WorkflowSettings = self
            .pinned_workflow(app, session.workflow_version_id)
            .await?;
        let config = settings
            .node(&node.node_id)
            .map(|n| n.config.clone())
            .unwrap_or_else(|| {
                Feature::Aml
                    .default_config()
                    .as_object()
                    .cloned()
                    .unwrap_or_default()
            });
        let lock = match self.db.dialect {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        };
        let now = Timestamp::now();
        let mut tx = self.db.write.begin().await?;
        let current: Option<String> = sqlx::query_scalar(&format!(
            "SELECT status FROM sessions WHERE id = $1 AND application_id = $2{lock}"
        ))
        .bind(id.to_string())
        .bind(app.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let current = current.ok_or_else(not_found)?;
        let current = SessionStatus::parse(&current).ok_or_else(|| corrupt("status", &current))?;
        if !current.is_decided() {
            return Err(rule(format!(
                "Wrong Current Status: a session that is {current} has no decided AML result to update."
            )));
        }
        let rows = sqlx::query(&format!(
            "SELECT node_id, status, payload FROM feature_results WHERE session_id = $1{lock}"
        ))
        .bind(id.to_string())
        .fetch_all(&mut *tx)
        .await?;
        let mut statuses = Vec::new();
        let mut target = None;
        for row in &rows {
            let row_node: String = row.try_get("node_id")?;
            let status: String = row.try_get("status")?;
            let status =
                FeatureStatus::parse(&status).ok_or_else(|| corrupt("feature status", &status))?;
            if row_node == node.node_id {
                let payload: String = row.try_get("payload")?;
                target = Some(serde_json::from_str::<Map<String, Value>>(&payload)?);
            } else {
                statuses.push(status);
            }
        }
        let mut payload =
            target.ok_or_else(|| rule("The AML step has no result to update yet."))?;
        let (node_status, edited) = edit(&mut payload, &config, &node.node_id)?;
        statuses.push(node_status);
        sqlx::query(
            "UPDATE feature_results SET status = $1, payload = $2, updated_at = $3 WHERE session_id = $4 AND node_id = $5",
        )
        .bind(node_status.as_str())
        .bind(Value::Object(payload).to_string())
        .bind(now.micros())
        .bind(id.to_string())
        .bind(&node.node_id)
        .execute(&mut *tx)
        .await?;
        let derived = session_status(statuses).unwrap_or(current);
        let next = match change {
            AmlChange::HitReview { .. } => derived,
            AmlChange::Monitoring { .. } => match (current, derived) {
                (SessionStatus::Approved, SessionStatus::InReview | SessionStatus::Declined) => {
                    derived
                }
                (SessionStatus::InReview, SessionStatus::Declined) => derived,
                _ => current,
            },
        };
        let (actor, comment, data) = match change {
            AmlChange::HitReview { actor } => (
                actor.clone(),
                format!(
                    "{}: AML hit review → {}",
                    node.node_id,
                    node_status.as_str()
                ),
                json!({"node_id": node.node_id, "reason": "aml_hit_review"}),
            ),
            AmlChange::Monitoring { dataset, version } => (
                "Ongoing AML monitoring".to_owned(),
                format!(
                    "{}: new possible matches in {dataset} {version} → {}",
                    node.node_id,
                    node_status.as_str()
                ),
                json!({"node_id": node.node_id, "reason": "aml_ongoing_monitoring", "dataset": dataset, "dataset_version": version}),
            ),
        };
        let review = Review {
            id: uuid::Uuid::new_v4(),
            session_id: id,
            activity_type: if next != current {
                ActivityType::StatusChange
            } else {
                ActivityType::FeatureStatusChange
            },
            actor,
            previous_status: Some(current),
            new_status: Some(next),
            comment: Some(comment),
            created_at: now,
        };
        insert_review(&mut tx, app, &review).await?;
        if next != current {
            sqlx::query(
                "UPDATE sessions SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
            )
            .bind(next.as_str())
            .bind(now.micros())
            .bind(id.to_string())
            .bind(current.as_str())
            .execute(&mut *tx)
            .await?;
            let event = SessionEvent::status_change(id, Some(current), next, Some(data));
            insert_event(&mut tx, app, &event).await?;
        }
        tx.commit().await?;
        if next != current {
            self.outbox.notify_one();
        }
        Ok(AmlResultChange {
            node_id: node.node_id.clone(),
            node_status,
            previous_session_status: current,
            session_status: next,
            edit: edited,
        })
    }

    /// Stores a standalone screening.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_aml_check(
        &self,
        app: ApplicationId,
        id: &str,
        vendor_data: Option<&str>,
        metadata: Option<&Value>,
        request: &Value,
        result: &Map<String, Value>,
        status: &str,
        ongoing_monitoring: bool,
    ) -> Result<Timestamp> {
        let now = Timestamp::now();
        sqlx::query(
            "INSERT INTO aml_checks (id, application_id, vendor_data, metadata, request, result, status, \
             ongoing_monitoring, last_checked_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9)",
        )
        .bind(id)
        .bind(app.to_string())
        .bind(vendor_data)
        .bind(metadata.map(|m| m.to_string()))
        .bind(request.to_string())
        .bind(Value::Object(result.clone()).to_string())
        .bind(status)
        .bind(i64::from(ongoing_monitoring))
        .bind(now.micros())
        .execute(&self.db.write)
        .await?;
        Ok(now)
    }

    /// A standalone screening of this application; another application's id is `NotFound`.
    pub async fn aml_check(&self, app: ApplicationId, id: &str) -> Result<AmlCheck> {
        let row = sqlx::query(
            "SELECT id, application_id, vendor_data, metadata, request, result, ongoing_monitoring, last_checked_at, created_at \
             FROM aml_checks WHERE id = $1 AND application_id = $2",
        )
        .bind(id)
        .bind(app.to_string())
        .fetch_optional(&self.db.read)
        .await?
        .ok_or_else(not_found)?;
        check_from_row(&row)
    }

    /// Every standalone screening with ongoing monitoring.
    pub async fn monitored_aml_checks(&self) -> Result<Vec<AmlCheck>> {
        let rows = sqlx::query(
            "SELECT id, application_id, vendor_data, metadata, request, result, ongoing_monitoring, last_checked_at, created_at \
             FROM aml_checks WHERE ongoing_monitoring = 1 ORDER BY created_at",
        )
        .fetch_all(&self.db.read)
        .await?;
        rows.iter().map(check_from_row).collect()
    }

    /// Replaces a standalone screening's result (monitoring found new hits, or only checked).
    pub async fn update_aml_check(
        &self,
        id: &str,
        result: &Map<String, Value>,
        status: &str,
    ) -> Result<()> {
        let now = Timestamp::now();
        sqlx::query(
            "UPDATE aml_checks SET result = $1, status = $2, last_checked_at = $3, updated_at = $3 WHERE id = $4",
        )
        .bind(Value::Object(result.clone()).to_string())
        .bind(status)
        .bind(now.micros())
        .bind(id)
        .execute(&self.db.write)
        .await?;
        Ok(())
    }

    /// Marks a session AML node as checked by monitoring without other change (in a transaction
    /// that locks the row on PostgreSQL, so a concurrent hit review is never overwritten).
    pub async fn touch_aml_monitoring(
        &self,
        session: SessionId,
        node_id: &str,
        checked_at: Timestamp,
    ) -> Result<()> {
        let lock = match self.db.dialect {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        };
        let mut tx = self.db.write.begin().await?;
        let payload: Option<String> = sqlx::query_scalar(&format!(
            "SELECT payload FROM feature_results WHERE session_id = $1 AND node_id = $2{lock}"
        ))
        .bind(session.to_string())
        .bind(node_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(payload) = payload else {
            return Ok(());
        };
        let mut payload: Map<String, Value> = serde_json::from_str(&payload)?;
        payload.insert("ongoing_monitoring_last_check".into(), json!(checked_at));
        sqlx::query(
            "UPDATE feature_results SET payload = $1 WHERE session_id = $2 AND node_id = $3",
        )
        .bind(Value::Object(payload).to_string())
        .bind(session.to_string())
        .bind(node_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
