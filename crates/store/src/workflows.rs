//! Workflow versions. A workflow keeps its `workflow_id` for life; every change stores a new
//! version with its own `uuid`, so sessions stay pinned to the version they were created on.

use crate::error::{corrupt, not_found, Result};
use crate::Store;
use sqlx::Row;
use verity_domain::ids::{ApplicationId, WorkflowId, WorkflowVersionId};
use verity_domain::workflow::{Publication, WorkflowSettings};
use verity_domain::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub struct StoredWorkflow {
    pub version_id: WorkflowVersionId,
    pub workflow_id: WorkflowId,
    pub version: i64,
    pub settings: WorkflowSettings,
    pub is_default: bool,
    pub is_archived: bool,
    /// When the first version was created.
    pub created_at: Timestamp,
    /// When this version was created.
    pub updated_at: Timestamp,
}

const COLUMNS: &str = "w.id, w.workflow_id, w.version, w.settings, w.deleted_at, w.created_at, \
    (SELECT MIN(f.created_at) FROM workflows f WHERE f.workflow_id = w.workflow_id) AS first_created_at, \
    a.default_workflow_id";

fn from_row(row: &sqlx::any::AnyRow) -> Result<StoredWorkflow> {
    let id: String = row.try_get("id")?;
    let workflow_id: String = row.try_get("workflow_id")?;
    let settings: String = row.try_get("settings")?;
    let default: Option<String> = row.try_get("default_workflow_id")?;
    let deleted_at: Option<i64> = row.try_get("deleted_at")?;
    Ok(StoredWorkflow {
        version_id: WorkflowVersionId::parse(&id).ok_or_else(|| corrupt("workflow uuid", &id))?,
        workflow_id: WorkflowId::parse(&workflow_id)
            .ok_or_else(|| corrupt("workflow id", &workflow_id))?,
        version: row.try_get("version")?,
        settings: serde_json::from_str(&settings)?,
        is_default: default.as_deref() == Some(workflow_id.as_str()),
        is_archived: deleted_at.is_some(),
        created_at: Timestamp::from_micros(row.try_get("first_created_at")?),
        updated_at: Timestamp::from_micros(row.try_get("created_at")?),
    })
}

pub(crate) async fn insert_workflow_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    application_id: ApplicationId,
    workflow_id: WorkflowId,
    version: i64,
    settings: &WorkflowSettings,
    now: i64,
) -> Result<WorkflowVersionId> {
    let version_id = WorkflowVersionId::random();
    let publication = match settings.status {
        Publication::Draft => "draft",
        Publication::Published => "published",
    };
    sqlx::query(
        "INSERT INTO workflows (id, workflow_id, application_id, version, publication, settings, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(version_id.to_string())
    .bind(workflow_id.to_string())
    .bind(application_id.to_string())
    .bind(version)
    .bind(publication)
    .bind(serde_json::to_string(settings)?)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(version_id)
}

impl Store {
    /// Latest version of every live workflow of the application, newest first.
    pub async fn list_workflows(&self, app: ApplicationId) -> Result<Vec<StoredWorkflow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM workflows w JOIN applications a ON a.id = w.application_id \
             WHERE w.application_id = $1 AND w.deleted_at IS NULL \
             AND w.version = (SELECT MAX(v.version) FROM workflows v WHERE v.workflow_id = w.workflow_id) \
             ORDER BY first_created_at DESC, w.workflow_id"
        );
        let rows = sqlx::query(&sql)
            .bind(app.to_string())
            .fetch_all(&self.db.read)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// A workflow by its stable `workflow_id` (latest version) or by a version `uuid`.
    pub async fn workflow(&self, app: ApplicationId, id: &str) -> Result<StoredWorkflow> {
        let sql = format!(
            "SELECT {COLUMNS} FROM workflows w JOIN applications a ON a.id = w.application_id \
             WHERE w.application_id = $1 AND w.deleted_at IS NULL AND (w.id = $2 OR w.workflow_id = $2) \
             ORDER BY (CASE WHEN w.id = $2 THEN 0 ELSE 1 END), w.version DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(app.to_string())
            .bind(id)
            .fetch_optional(&self.db.read)
            .await?
            .ok_or_else(not_found)?;
        from_row(&row)
    }

    /// The version new sessions of `workflow_id` are pinned to: the latest published one.
    pub async fn published_workflow(
        &self,
        app: ApplicationId,
        workflow_id: WorkflowId,
    ) -> Result<Option<StoredWorkflow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM workflows w JOIN applications a ON a.id = w.application_id \
             WHERE w.application_id = $1 AND w.workflow_id = $2 AND w.deleted_at IS NULL \
             AND w.publication = 'published' ORDER BY w.version DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(app.to_string())
            .bind(workflow_id.to_string())
            .fetch_optional(&self.db.read)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The application's default workflow (used when a v1 create omits `features`).
    pub async fn default_workflow_id(&self, app: ApplicationId) -> Result<Option<WorkflowId>> {
        let id: Option<String> =
            sqlx::query_scalar("SELECT default_workflow_id FROM applications WHERE id = $1")
                .bind(app.to_string())
                .fetch_optional(&self.db.read)
                .await?
                .flatten();
        Ok(id.as_deref().and_then(WorkflowId::parse))
    }

    /// Stores a new workflow (version 1) or a new version of an existing one.
    pub async fn save_workflow(
        &self,
        app: ApplicationId,
        existing: Option<&StoredWorkflow>,
        settings: &WorkflowSettings,
        make_default: Option<bool>,
    ) -> Result<StoredWorkflow> {
        let workflow_id = existing.map_or_else(WorkflowId::random, |w| w.workflow_id);
        let mut tx = self.db.write.begin().await?;
        let version: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM workflows WHERE workflow_id = $1",
        )
        .bind(workflow_id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        let version_id = insert_workflow_version(
            &mut tx,
            app,
            workflow_id,
            version,
            settings,
            Timestamp::now().micros(),
        )
        .await?;
        match make_default {
            Some(true) => {
                sqlx::query("UPDATE applications SET default_workflow_id = $1 WHERE id = $2")
                    .bind(workflow_id.to_string())
                    .bind(app.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            Some(false) => {
                sqlx::query(
                    "UPDATE applications SET default_workflow_id = NULL WHERE id = $1 AND default_workflow_id = $2",
                )
                .bind(app.to_string())
                .bind(workflow_id.to_string())
                .execute(&mut *tx)
                .await?;
            }
            None => {}
        }
        tx.commit().await?;
        self.workflow(app, &version_id.to_string()).await
    }

    /// Archives every version; sessions already pinned to one keep working.
    pub async fn delete_workflow(&self, app: ApplicationId, id: &str) -> Result<()> {
        let workflow = self.workflow(app, id).await?;
        let mut tx = self.db.write.begin().await?;
        sqlx::query(
            "UPDATE workflows SET deleted_at = $1 WHERE application_id = $2 AND workflow_id = $3",
        )
        .bind(Timestamp::now().micros())
        .bind(app.to_string())
        .bind(workflow.workflow_id.to_string())
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE applications SET default_workflow_id = NULL WHERE id = $1 AND default_workflow_id = $2")
            .bind(app.to_string())
            .bind(workflow.workflow_id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// The workflow a v1 `features` string stands for, created on first use under a fixed label
    /// so that every v1 session with the same string shares it.
    pub async fn legacy_workflow(
        &self,
        app: ApplicationId,
        label: &str,
        settings: &WorkflowSettings,
    ) -> Result<StoredWorkflow> {
        if let Some(existing) = self
            .list_workflows(app)
            .await?
            .into_iter()
            .find(|w| w.settings.label == label && w.settings.status == Publication::Published)
        {
            return Ok(existing);
        }
        self.save_workflow(app, None, settings, None).await
    }
}
