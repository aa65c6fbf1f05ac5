//! Reviewer corrections (spec §3.10), each written with its review and timeline event in one
//! transaction: data edits emit `data.updated`; a node status override re-derives the session
//! status and emits `status.updated` when it moves.

use crate::activity::{insert_event, insert_review};
use crate::error::{corrupt, not_found, rule, Result};
use crate::Store;
use serde_json::{json, Map, Value};
use sqlx::Row;
use verity_domain::corrections::{DataUpdate, FeatureStatusUpdate};
use verity_domain::ids::{ApplicationId, SessionId};
use verity_domain::review::{ActivityType, Review, SessionEvent};
use verity_domain::rules::session_status;
use verity_domain::status::{FeatureStatus, SessionStatus};
use verity_domain::workflow::Feature;
use verity_domain::Timestamp;

pub const DATA_UPDATED: &str = "data.updated";

/// What a node status override did.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureStatusChange {
    pub node_id: String,
    pub feature: Feature,
    pub previous: FeatureStatus,
    pub session_status: SessionStatus,
}

impl Store {
    /// Edits the extracted data of an identity-document or proof-of-address node (the one
    /// named, else the first of its feature). Returns the node id and the fields that changed.
    pub async fn update_node_data(
        &self,
        app: ApplicationId,
        id: SessionId,
        update: &DataUpdate,
        actor: &str,
    ) -> Result<(String, Vec<String>)> {
        let session = self.session(app, id).await?;
        let step = update.step_name();
        let node = match &update.node_id {
            Some(node_id) => session
                .nodes
                .iter()
                .find(|n| &n.node_id == node_id && n.feature == update.feature)
                .ok_or_else(|| rule(format!("{node_id} is not a {step} step of this session.")))?,
            None => session
                .nodes
                .iter()
                .find(|n| n.feature == update.feature)
                .ok_or_else(|| rule(format!("This session has no {step} step.")))?,
        };
        let now = Timestamp::now();
        let mut tx = self.db.write.begin().await?;
        let payload: Option<String> = sqlx::query_scalar(
            "SELECT payload FROM feature_results WHERE session_id = $1 AND node_id = $2",
        )
        .bind(id.to_string())
        .bind(&node.node_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(payload) = payload else {
            return Err(rule(format!(
                "The {step} step has no result to correct yet."
            )));
        };
        let mut payload: Map<String, Value> = serde_json::from_str(&payload)?;
        let changed = update.apply(&mut payload);
        sqlx::query(
            "UPDATE feature_results SET payload = $1, updated_at = $2 WHERE session_id = $3 AND node_id = $4",
        )
        .bind(Value::Object(payload).to_string())
        .bind(now.micros())
        .bind(id.to_string())
        .bind(&node.node_id)
        .execute(&mut *tx)
        .await?;
        let review = Review {
            id: uuid::Uuid::new_v4(),
            session_id: id,
            activity_type: ActivityType::DataUpdate,
            actor: actor.to_owned(),
            previous_status: Some(session.status),
            new_status: Some(session.status),
            comment: Some(format!("{}: {}", node.node_id, changed.join(", "))),
            created_at: now,
        };
        insert_review(&mut tx, app, &review).await?;
        let mut event = SessionEvent::status_change(
            id,
            Some(session.status),
            session.status,
            Some(json!({"node_id": node.node_id, "updated_fields": changed})),
        );
        event.event_type = DATA_UPDATED.to_owned();
        insert_event(&mut tx, app, &event).await?;
        tx.commit().await?;
        self.outbox.notify_one();
        Ok((node.node_id.clone(), changed))
    }

    /// Overrides one node's status; the session's status is derived again from its nodes and,
    /// when it moves, changes with a `status.updated` event.
    pub async fn update_feature_status(
        &self,
        app: ApplicationId,
        id: SessionId,
        node_id: &str,
        update: &FeatureStatusUpdate,
        actor: &str,
    ) -> Result<FeatureStatusChange> {
        let session = self.session(app, id).await?;
        if !session.status.is_decided() {
            return Err(rule(format!(
                "Wrong Current Status: a session that is {} has no decided steps to update.",
                session.status
            )));
        }
        let node_id = match node_id {
            // Didit's literal for single-node (non-graph) workflows.
            "default" => session
                .nodes
                .first()
                .map(|n| n.node_id.clone())
                .ok_or_else(not_found)?,
            other => other.to_owned(),
        };
        let now = Timestamp::now();
        let mut tx = self.db.write.begin().await?;
        let rows = sqlx::query(
            "SELECT node_id, feature, status FROM feature_results WHERE session_id = $1",
        )
        .bind(id.to_string())
        .fetch_all(&mut *tx)
        .await?;
        let mut statuses = Vec::new();
        let mut target = None;
        for row in &rows {
            let node: String = row.try_get("node_id")?;
            let feature: String = row.try_get("feature")?;
            let status: String = row.try_get("status")?;
            let status =
                FeatureStatus::parse(&status).ok_or_else(|| corrupt("feature status", &status))?;
            if node == node_id {
                let feature =
                    Feature::parse(&feature).ok_or_else(|| corrupt("feature", &feature))?;
                target = Some((feature, status));
                statuses.push(update.new_status);
            } else {
                statuses.push(status);
            }
        }
        let (feature, previous) = target.ok_or_else(not_found)?;
        sqlx::query("UPDATE feature_results SET status = $1, updated_at = $2, overridden_by = $3 WHERE session_id = $4 AND node_id = $5")
            .bind(update.new_status.as_str())
            .bind(now.micros())
            .bind(actor)
            .bind(id.to_string())
            .bind(&node_id)
            .execute(&mut *tx)
            .await?;
        let review = Review {
            id: uuid::Uuid::new_v4(),
            session_id: id,
            activity_type: ActivityType::FeatureStatusChange,
            actor: actor.to_owned(),
            previous_status: Some(session.status),
            new_status: Some(session.status),
            comment: Some(match &update.comment {
                Some(comment) => format!(
                    "{node_id}: {} → {}. {comment}",
                    previous.as_str(),
                    update.new_status.as_str()
                ),
                None => format!(
                    "{node_id}: {} → {}",
                    previous.as_str(),
                    update.new_status.as_str()
                ),
            }),
            created_at: now,
        };
        insert_review(&mut tx, app, &review).await?;
        let next = session_status(statuses).unwrap_or(session.status);
        if next != session.status {
            let moved = sqlx::query(
                "UPDATE sessions SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
            )
            .bind(next.as_str())
            .bind(now.micros())
            .bind(id.to_string())
            .bind(session.status.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 0 {
                return Err(rule(
                    "The session's status changed while this request was processed; retry.",
                ));
            }
            let event = SessionEvent::status_change(
                id,
                Some(session.status),
                next,
                Some(json!({"node_id": node_id, "feature_status": update.new_status.as_str()})),
            );
            insert_event(&mut tx, app, &event).await?;
        }
        tx.commit().await?;
        self.outbox.notify_one();
        Ok(FeatureStatusChange {
            node_id,
            feature,
            previous,
            session_status: next,
        })
    }
}
