//! Sessions: creation (with `vendor_data` idempotency), lookups scoped by application, listing
//! with filters, manual status changes, deletion with media, and the expiry sweep.

use crate::activity::{insert_event, insert_review};
use crate::apps::Application;
use crate::error::{corrupt, not_found, rule, Result};
use crate::Store;
use sqlx::Row;
use std::time::Duration;
use verity_domain::decision::FeatureResult;
use verity_domain::fields::FieldErrors;
use verity_domain::ids::{ApplicationId, SessionId, SessionToken, WorkflowId, WorkflowVersionId};
use verity_domain::review::{ActivityType, Review, SessionEvent, StatusUpdate};
use verity_domain::session::{CallbackMethod, Environment, NewSession, Session, SessionNode};
use verity_domain::status::{FeatureStatus, ManualStatus, SessionStatus};
use verity_domain::workflow::Feature;
use verity_domain::Timestamp;

/// Ids per `IN (…)` list, well under both engines' parameter limits.
pub(crate) const IN_LIST_CHUNK: usize = 512;

const COLUMNS: &str = "id, application_id, session_number, session_token, workflow_id, \
    workflow_version_id, workflow_version, status, environment, vendor_data, callback, \
    callback_method, metadata, language, contact_details, expected_details, sandbox_scenario, \
    portrait_media_key, nodes, resubmit_info, created_at, updated_at, expires_at, country";

fn json_column(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<serde_json::Value>> {
    let text: Option<String> = row.try_get(column)?;
    Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
}

fn to_json_text(value: &Option<serde_json::Value>) -> Option<String> {
    value.as_ref().map(|v| v.to_string())
}

fn session_from_row(row: &sqlx::any::AnyRow) -> Result<Session> {
    let text = |column: &str| -> Result<String> { Ok(row.try_get::<String, _>(column)?) };
    let id = text("id")?;
    let app = text("application_id")?;
    let token = text("session_token")?;
    let workflow_id = text("workflow_id")?;
    let version_id = text("workflow_version_id")?;
    let status = text("status")?;
    let environment = text("environment")?;
    let method = text("callback_method")?;
    let nodes = text("nodes")?;
    Ok(Session {
        id: SessionId::parse(&id).ok_or_else(|| corrupt("session id", &id))?,
        application_id: ApplicationId::parse(&app)
            .ok_or_else(|| corrupt("application id", &app))?,
        number: row.try_get("session_number")?,
        token: SessionToken::parse(&token).ok_or_else(|| corrupt("session token", &token))?,
        workflow_id: WorkflowId::parse(&workflow_id)
            .ok_or_else(|| corrupt("workflow id", &workflow_id))?,
        workflow_version_id: WorkflowVersionId::parse(&version_id)
            .ok_or_else(|| corrupt("workflow uuid", &version_id))?,
        workflow_version: row.try_get("workflow_version")?,
        status: SessionStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        environment: Environment::parse(&environment)
            .ok_or_else(|| corrupt("environment", &environment))?,
        vendor_data: row.try_get("vendor_data")?,
        callback: row.try_get("callback")?,
        callback_method: CallbackMethod::parse(&method)
            .ok_or_else(|| corrupt("callback method", &method))?,
        metadata: json_column(row, "metadata")?,
        language: row.try_get("language")?,
        contact_details: json_column(row, "contact_details")?,
        expected_details: json_column(row, "expected_details")?,
        sandbox_scenario: row.try_get("sandbox_scenario")?,
        portrait_media_key: row.try_get("portrait_media_key")?,
        nodes: serde_json::from_str::<Vec<SessionNode>>(&nodes)?,
        resubmit_info: json_column(row, "resubmit_info")?,
        created_at: Timestamp::from_micros(row.try_get("created_at")?),
        updated_at: Timestamp::from_micros(row.try_get("updated_at")?),
        expires_at: Timestamp::from_micros(row.try_get("expires_at")?),
        country: row.try_get("country")?,
    })
}

/// Sort order of `GET /v3/sessions/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SessionOrdering {
    #[default]
    NewestFirst,
    OldestFirst,
}

/// Filters of `GET /v3/sessions/`, already parsed.
#[derive(Debug, Clone, Default)]
pub struct SessionFilters {
    pub statuses: Vec<SessionStatus>,
    pub vendor_data: Option<String>,
    pub workflow_id: Option<WorkflowId>,
    pub created_from: Option<Timestamp>,
    pub created_before: Option<Timestamp>,
    /// Issuing country of the verified document (alpha-3).
    pub country: Option<String>,
    /// Free text: a part of `vendor_data`, or an exact session id or number.
    pub search: Option<String>,
    pub ordering: SessionOrdering,
    pub limit: i64,
    pub offset: i64,
}

/// What a deletion answers (spec §3.6).
#[derive(Debug, Clone, PartialEq)]
pub struct DeletedSession {
    pub session_id: SessionId,
    pub session_number: i64,
}

/// Values bound to a dynamically built query, in placeholder order.
enum Arg {
    Text(String),
    Int(i64),
}

fn bind_all<'q>(
    sql: &'q str,
    args: &[Arg],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut query = sqlx::query(sql);
    for arg in args {
        query = match arg {
            Arg::Text(text) => query.bind(text.clone()),
            Arg::Int(number) => query.bind(*number),
        };
    }
    query
}

impl Store {
    /// Creates a session on the latest published version of the workflow, or returns the caller's
    /// unfinished session for the same `vendor_data` on that version (spec §3.2 idempotency), after
    /// overwriting its `callback` and `metadata`. The flag is `true` when a session was reused.
    pub async fn create_session(
        &self,
        app: &Application,
        input: NewSession,
    ) -> Result<(Session, bool)> {
        let workflow = self
            .published_workflow(app.id, input.workflow_id)
            .await?
            .ok_or_else(|| {
                FieldErrors::single(
                    "workflow_id",
                    format!(
                        "Object with workflow_id={} does not exist.",
                        input.workflow_id
                    ),
                )
            })?;
        if input.sandbox_scenario.is_some() && app.environment == Environment::Live {
            return Err(FieldErrors::single(
                "sandbox_scenario",
                "Sandbox scenarios are only accepted by sandbox applications.",
            )
            .into());
        }
        if let Some(scenario) = input
            .sandbox_scenario
            .as_deref()
            .and_then(verity_domain::sandbox::scenario)
        {
            let features: Vec<Feature> = workflow
                .settings
                .features
                .iter()
                .map(|f| f.feature)
                .collect();
            scenario
                .check_workflow(&features)
                .map_err(|message| FieldErrors::single("sandbox_scenario", message))?;
        }
        let now = Timestamp::now();
        let id = SessionId::random();
        let portrait_key = match &input.portrait_image {
            Some(image) => {
                let key = format!("{}/{}/portrait.{}", app.id, id, image.extension());
                self.media.put(&key, image.bytes.clone()).await?;
                Some(key)
            }
            None => None,
        };
        let result = self
            .insert_session(app, &input, &workflow, id, portrait_key.clone(), now)
            .await;
        let reused = matches!(&result, Ok((_, true)));
        if let (Some(key), true) = (&portrait_key, result.is_err() || reused) {
            // The upload belongs to no session; never leave personal data behind.
            if let Err(error) = self.media.delete(key).await {
                tracing::error!(%error, "could not remove an orphaned portrait upload");
            }
        }
        result
    }

    async fn insert_session(
        &self,
        app: &Application,
        input: &NewSession,
        workflow: &crate::StoredWorkflow,
        id: SessionId,
        portrait_key: Option<String>,
        now: Timestamp,
    ) -> Result<(Session, bool)> {
        let mut tx = self.db.write.begin().await?;
        // Taking the next number locks the application row: concurrent creates for the same
        // vendor_data then see each other's sessions, and numbers are handed out without gaps
        // (a reused session gives its number back inside the same transaction).
        let number: i64 = sqlx::query_scalar(
            "UPDATE applications SET session_counter = session_counter + 1 WHERE id = $1 RETURNING session_counter",
        )
        .bind(app.id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        if let Some(vendor_data) = &input.vendor_data {
            let sql = format!(
                "SELECT {COLUMNS} FROM sessions WHERE application_id = $1 AND vendor_data = $2 \
                 AND workflow_version_id = $3 AND status IN ('Not Started', 'In Progress', 'Resubmitted', 'Awaiting User') \
                 ORDER BY created_at DESC LIMIT 1"
            );
            let existing = sqlx::query(&sql)
                .bind(app.id.to_string())
                .bind(vendor_data)
                .bind(workflow.version_id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(row) = existing {
                let mut session = session_from_row(&row)?;
                session.callback = input.callback.clone();
                session.metadata = input.metadata.clone();
                session.updated_at = now;
                sqlx::query(
                    "UPDATE applications SET session_counter = session_counter - 1 WHERE id = $1",
                )
                .bind(app.id.to_string())
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE sessions SET callback = $1, metadata = $2, updated_at = $3 WHERE id = $4")
                    .bind(&session.callback)
                    .bind(to_json_text(&session.metadata))
                    .bind(now.micros())
                    .bind(session.id.to_string())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                return Ok((session, true));
            }
        }
        let session = Session {
            id,
            application_id: app.id,
            number,
            token: SessionToken::random(),
            workflow_id: workflow.workflow_id,
            workflow_version_id: workflow.version_id,
            workflow_version: workflow.version,
            status: SessionStatus::NotStarted,
            environment: app.environment,
            vendor_data: input.vendor_data.clone(),
            callback: input.callback.clone(),
            callback_method: input.callback_method,
            metadata: input.metadata.clone(),
            language: input.language.clone(),
            contact_details: input.contact_details.clone(),
            expected_details: input.expected_details.clone(),
            sandbox_scenario: input.sandbox_scenario.clone(),
            portrait_media_key: portrait_key,
            nodes: workflow
                .settings
                .features
                .iter()
                .map(|node| SessionNode {
                    node_id: node.node_id.clone(),
                    feature: node.feature,
                })
                .collect(),
            resubmit_info: None,
            created_at: now,
            updated_at: now,
            expires_at: now.plus_seconds(workflow.settings.session_expiration_time),
            country: None,
        };
        sqlx::query(&format!(
            "INSERT INTO sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
             $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)"
        ))
        .bind(session.id.to_string())
        .bind(session.application_id.to_string())
        .bind(session.number)
        .bind(session.token.as_str())
        .bind(session.workflow_id.to_string())
        .bind(session.workflow_version_id.to_string())
        .bind(session.workflow_version)
        .bind(session.status.as_str())
        .bind(session.environment.as_str())
        .bind(&session.vendor_data)
        .bind(&session.callback)
        .bind(session.callback_method.as_str())
        .bind(to_json_text(&session.metadata))
        .bind(&session.language)
        .bind(to_json_text(&session.contact_details))
        .bind(to_json_text(&session.expected_details))
        .bind(&session.sandbox_scenario)
        .bind(&session.portrait_media_key)
        .bind(serde_json::to_string(&session.nodes)?)
        .bind(Option::<String>::None)
        .bind(now.micros())
        .bind(now.micros())
        .bind(session.expires_at.micros())
        .bind(&session.country)
        .execute(&mut *tx)
        .await?;
        if let (Some(key), Some(image)) = (&session.portrait_media_key, &input.portrait_image) {
            sqlx::query(
                "INSERT INTO media (object_key, session_id, application_id, kind, content_type, size_bytes, created_at) \
                 VALUES ($1, $2, $3, 'portrait_image', $4, $5, $6)",
            )
            .bind(key)
            .bind(session.id.to_string())
            .bind(app.id.to_string())
            .bind(image.content_type)
            .bind(image.bytes.len() as i64)
            .bind(now.micros())
            .execute(&mut *tx)
            .await?;
        }
        let event = SessionEvent::status_change(session.id, None, SessionStatus::NotStarted, None);
        insert_event(&mut tx, app.id, &event).await?;
        tx.commit().await?;
        self.outbox.notify_one();
        Ok((session, false))
    }

    /// A session of this application; another application's id is `NotFound`.
    pub async fn session(&self, app: ApplicationId, id: SessionId) -> Result<Session> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM sessions WHERE id = $1 AND application_id = $2"
        ))
        .bind(id.to_string())
        .bind(app.to_string())
        .fetch_optional(&self.db.read)
        .await?
        .ok_or_else(not_found)?;
        session_from_row(&row)
    }

    /// Sessions by id across applications, for background work that already holds a scoped
    /// reference (a delivery claim); callers check `application_id`. Missing ids are left out.
    pub(crate) async fn sessions_by_ids(&self, ids: &[SessionId]) -> Result<Vec<Session>> {
        let mut sessions = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IN_LIST_CHUNK) {
            let chunk = crate::padded_in_list(chunk);
            let sql = format!(
                "SELECT {COLUMNS} FROM sessions WHERE id IN ({})",
                crate::placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in &chunk {
                query = query.bind(id.to_string());
            }
            for row in query.fetch_all(&self.db.read).await? {
                sessions.push(session_from_row(&row)?);
            }
        }
        Ok(sessions)
    }

    /// Results of the session's nodes, in the order of its workflow.
    pub async fn feature_results(&self, session: &Session) -> Result<Vec<FeatureResult>> {
        let rows = sqlx::query(
            "SELECT node_id, feature, status, payload FROM feature_results WHERE session_id = $1",
        )
        .bind(session.id.to_string())
        .fetch_all(&self.db.read)
        .await?;
        let mut results = rows
            .iter()
            .map(|row| {
                let feature: String = row.try_get("feature")?;
                let status: String = row.try_get("status")?;
                let payload: String = row.try_get("payload")?;
                Ok(FeatureResult {
                    node_id: row.try_get("node_id")?,
                    feature: Feature::parse(&feature)
                        .ok_or_else(|| corrupt("feature", &feature))?,
                    status: FeatureStatus::parse(&status)
                        .ok_or_else(|| corrupt("feature status", &status))?,
                    payload: serde_json::from_str(&payload)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let position = |node_id: &str| session.nodes.iter().position(|n| n.node_id == node_id);
        results.sort_by_key(|r| position(&r.node_id));
        Ok(results)
    }

    /// One page of the application's sessions and the total count matching the filters.
    pub async fn list_sessions(
        &self,
        app: ApplicationId,
        filters: &SessionFilters,
    ) -> Result<(i64, Vec<Session>)> {
        let mut clauses = vec!["application_id = $1".to_owned()];
        let mut args = vec![Arg::Text(app.to_string())];
        let next = |args: &mut Vec<Arg>, arg: Arg| {
            args.push(arg);
            format!("${}", args.len())
        };
        if !filters.statuses.is_empty() {
            let placeholders: Vec<String> = filters
                .statuses
                .iter()
                .map(|s| next(&mut args, Arg::Text(s.as_str().to_owned())))
                .collect();
            clauses.push(format!("status IN ({})", placeholders.join(", ")));
        }
        if let Some(vendor_data) = &filters.vendor_data {
            let p = next(&mut args, Arg::Text(vendor_data.clone()));
            clauses.push(format!("vendor_data = {p}"));
        }
        if let Some(workflow_id) = filters.workflow_id {
            let p = next(&mut args, Arg::Text(workflow_id.to_string()));
            clauses.push(format!("workflow_id = {p}"));
        }
        if let Some(from) = filters.created_from {
            let p = next(&mut args, Arg::Int(from.micros()));
            clauses.push(format!("created_at >= {p}"));
        }
        if let Some(before) = filters.created_before {
            let p = next(&mut args, Arg::Int(before.micros()));
            clauses.push(format!("created_at < {p}"));
        }
        if let Some(country) = &filters.country {
            let p = next(&mut args, Arg::Text(country.clone()));
            clauses.push(format!("country = {p}"));
        }
        if let Some(search) = &filters.search {
            let escaped = search
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let like = next(&mut args, Arg::Text(format!("%{escaped}%")));
            let exact = next(&mut args, Arg::Text(search.trim().to_owned()));
            clauses.push(format!(
                "(LOWER(COALESCE(vendor_data, '')) LIKE {like} ESCAPE '\\' OR id = {exact} OR CAST(session_number AS TEXT) = {exact})"
            ));
        }
        let where_sql = clauses.join(" AND ");
        let count_sql = format!("SELECT COUNT(*) AS n FROM sessions WHERE {where_sql}");
        let count: i64 = bind_all(&count_sql, &args)
            .fetch_one(&self.db.read)
            .await?
            .try_get("n")?;
        let order = match filters.ordering {
            SessionOrdering::NewestFirst => "created_at DESC, session_number DESC",
            SessionOrdering::OldestFirst => "created_at ASC, session_number ASC",
        };
        let mut page_args = args;
        let limit = next(&mut page_args, Arg::Int(filters.limit));
        let offset = next(&mut page_args, Arg::Int(filters.offset));
        let page_sql = format!(
            "SELECT {COLUMNS} FROM sessions WHERE {where_sql} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
        );
        let rows = bind_all(&page_sql, &page_args)
            .fetch_all(&self.db.read)
            .await?;
        let sessions = rows
            .iter()
            .map(session_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok((count, sessions))
    }

    /// A manual status change (spec §3.5), recorded as a review and a `status.updated` event.
    pub async fn update_status(
        &self,
        app: ApplicationId,
        id: SessionId,
        update: &StatusUpdate,
        actor: &str,
    ) -> Result<Session> {
        let mut session = self.session(app, id).await?;
        session
            .status
            .check_manual_transition(update.new_status)
            .map_err(|e| rule(e.to_string()))?;
        let resubmit_info = match update.new_status {
            ManualStatus::Resubmitted => Some(self.resubmit_info(&session, update).await?),
            _ => None,
        };
        let previous = session.status;
        let now = Timestamp::now();
        let mut tx = self.db.write.begin().await?;
        // Conditional on the status we checked: a concurrent change makes this a no-op.
        let changed = sqlx::query(
            "UPDATE sessions SET status = $1, resubmit_info = $2, updated_at = $3 \
             WHERE id = $4 AND application_id = $5 AND status = $6",
        )
        .bind(update.new_status.status().as_str())
        .bind(to_json_text(&resubmit_info))
        .bind(now.micros())
        .bind(id.to_string())
        .bind(app.to_string())
        .bind(previous.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(rule(
                "The session's status changed while this request was processed; retry.",
            ));
        }
        session.status = update.new_status.status();
        session.resubmit_info = resubmit_info.clone();
        session.updated_at = now;
        let review = Review {
            id: uuid::Uuid::new_v4(),
            session_id: id,
            activity_type: ActivityType::StatusChange,
            actor: actor.to_owned(),
            previous_status: Some(previous),
            new_status: Some(session.status),
            comment: update.comment.clone(),
            created_at: now,
        };
        insert_review(&mut tx, app, &review).await?;
        let event = SessionEvent::status_change(id, Some(previous), session.status, resubmit_info);
        insert_event(&mut tx, app, &event).await?;
        tx.commit().await?;
        self.outbox.notify_one();
        Ok(session)
    }

    /// `resubmit_info{nodes_to_resubmit, reasons}`: the named nodes (each must belong to the
    /// session's workflow), or else every node whose result needs redoing.
    async fn resubmit_info(
        &self,
        session: &Session,
        update: &StatusUpdate,
    ) -> Result<serde_json::Value> {
        let nodes: Vec<SessionNode> = match &update.nodes_to_resubmit {
            Some(requested) if !requested.is_empty() => {
                let mut errors = FieldErrors::new();
                for node in requested {
                    let known = session
                        .nodes
                        .iter()
                        .any(|n| n.node_id == node.node_id && n.feature == node.feature);
                    if !known {
                        errors.add(
                            "nodes_to_resubmit",
                            format!(
                                "Node {} ({}) is not a step of this session's workflow.",
                                node.node_id,
                                node.feature.as_str()
                            ),
                        );
                    }
                }
                errors.into_result(())?;
                requested
                    .iter()
                    .map(|n| SessionNode {
                        node_id: n.node_id.clone(),
                        feature: n.feature,
                    })
                    .collect()
            }
            _ => {
                let results = self.feature_results(session).await?;
                let redo: Vec<SessionNode> = results
                    .iter()
                    .filter(|r| {
                        matches!(
                            r.status,
                            FeatureStatus::Declined
                                | FeatureStatus::InReview
                                | FeatureStatus::NotFinished
                                | FeatureStatus::Expired
                        )
                    })
                    .map(|r| SessionNode {
                        node_id: r.node_id.clone(),
                        feature: r.feature,
                    })
                    .collect();
                if redo.is_empty() {
                    return Err(rule("No features found that need resubmission"));
                }
                redo
            }
        };
        let reason = update.comment.clone().unwrap_or_default();
        let reasons: serde_json::Map<String, serde_json::Value> = nodes
            .iter()
            .map(|n| (n.node_id.clone(), serde_json::Value::String(reason.clone())))
            .collect();
        Ok(serde_json::json!({
            "nodes_to_resubmit": nodes.iter().map(|n| serde_json::json!({"node_id": n.node_id, "feature": n.feature.as_str()})).collect::<Vec<_>>(),
            "reasons": reasons,
        }))
    }

    /// Deletes a session, its results, timeline and media. Media go first: if removing them
    /// fails, nothing else is deleted and the caller may retry. An audit row without personal
    /// data records the deletion.
    pub async fn delete_session(
        &self,
        app: ApplicationId,
        id: SessionId,
    ) -> Result<DeletedSession> {
        let session = self.session(app, id).await?;
        self.media.delete_prefix(&format!("{app}/{id}")).await?;
        let mut tx = self.db.write.begin().await?;
        crate::webhooks::delete_session_deliveries(&mut tx, id).await?;
        for table in [
            "media",
            "feature_results",
            "reviews",
            "session_events",
            "processing_jobs",
            // Biometric templates and liveness challenges go with their session (issue 6).
            "face_templates",
            "liveness_challenges",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE session_id = $1"))
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM sessions WHERE id = $1 AND application_id = $2")
            .bind(id.to_string())
            .bind(app.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO audit_log (id, application_id, action, subject_id, detail, created_at) VALUES ($1, $2, 'session.deleted', $3, $4, $5)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(app.to_string())
        .bind(id.to_string())
        .bind(serde_json::json!({"session_number": session.number}).to_string())
        .bind(Timestamp::now().micros())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(DeletedSession {
            session_id: id,
            session_number: session.number,
        })
    }

    /// Deletes the listed session numbers (unknown ones are skipped), or every session.
    pub async fn delete_sessions(
        &self,
        app: ApplicationId,
        numbers: Option<&[i64]>,
    ) -> Result<Vec<DeletedSession>> {
        let ids: Vec<String> = match numbers {
            None => {
                sqlx::query_scalar("SELECT id FROM sessions WHERE application_id = $1")
                    .bind(app.to_string())
                    .fetch_all(&self.db.read)
                    .await?
            }
            Some(numbers) => {
                let mut ids = Vec::new();
                for number in numbers {
                    let id: Option<String> = sqlx::query_scalar(
                        "SELECT id FROM sessions WHERE application_id = $1 AND session_number = $2",
                    )
                    .bind(app.to_string())
                    .bind(*number)
                    .fetch_optional(&self.db.read)
                    .await?;
                    ids.extend(id);
                }
                ids
            }
        };
        let mut deleted = Vec::with_capacity(ids.len());
        for id in ids {
            let id = SessionId::parse(&id).ok_or_else(|| corrupt("session id", &id))?;
            match self.delete_session(app, id).await {
                Ok(done) => deleted.push(done),
                // Deleted concurrently by someone else: nothing left to do.
                Err(crate::Error::Domain(verity_domain::Error::NotFound)) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(deleted)
    }

    /// Moves sessions past `expires_at`: never opened → `Expired`, opened but unfinished →
    /// `Abandoned`; and `In Progress` sessions whose person has not acted on the hosted flow for
    /// `inactivity_limit` → `Abandoned`. Submitted sessions (with an unfinished processing job)
    /// are never moved. Safe to run from several processes: each move is conditional on the status
    /// it read. Returns how many sessions moved.
    pub async fn expire_sessions(
        &self,
        now: Timestamp,
        inactivity_limit: Duration,
    ) -> Result<usize> {
        let idle_since =
            now.micros() - i64::try_from(inactivity_limit.as_micros()).unwrap_or(i64::MAX);
        let rows = sqlx::query(
            "SELECT id, application_id, status FROM sessions \
             WHERE (status IN ('Not Started', 'In Progress') AND expires_at <= $1 \
                    OR status = 'In Progress' AND COALESCE(last_activity_at, updated_at) <= $2) \
             AND NOT EXISTS (SELECT 1 FROM processing_jobs j WHERE j.session_id = sessions.id AND j.state <> 'done') \
             LIMIT 500",
        )
        .bind(now.micros())
        .bind(idle_since)
        .fetch_all(&self.db.read)
        .await?;
        let mut moved = 0;
        for row in rows {
            let id: String = row.try_get("id")?;
            let app: String = row.try_get("application_id")?;
            let status: String = row.try_get("status")?;
            let (Some(id), Some(app), Some(previous)) = (
                SessionId::parse(&id),
                ApplicationId::parse(&app),
                SessionStatus::parse(&status),
            ) else {
                return Err(corrupt("session row", &id));
            };
            let next = if previous == SessionStatus::NotStarted {
                SessionStatus::Expired
            } else {
                SessionStatus::Abandoned
            };
            debug_assert!(previous.can_move_automatically_to(next));
            let mut tx = self.db.write.begin().await?;
            let changed = sqlx::query(
                "UPDATE sessions SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
            )
            .bind(next.as_str())
            .bind(now.micros())
            .bind(id.to_string())
            .bind(previous.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 1 {
                insert_event(
                    &mut tx,
                    app,
                    &SessionEvent::status_change(id, Some(previous), next, None),
                )
                .await?;
                tx.commit().await?;
                self.outbox.notify_one();
                moved += 1;
            }
        }
        Ok(moved)
    }
}
