//! Reviews and the session event timeline.

use crate::error::{corrupt, Result};
use crate::Store;
use sqlx::Row;
use verity_domain::ids::{ApplicationId, SessionId};
use verity_domain::review::{ActivityType, Review, ReviewNote, SessionEvent};
use verity_domain::status::SessionStatus;
use verity_domain::Timestamp;

pub(crate) async fn insert_review(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    app: ApplicationId,
    review: &Review,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO reviews (id, session_id, application_id, activity_type, actor, previous_status, new_status, comment, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(review.id.to_string())
    .bind(review.session_id.to_string())
    .bind(app.to_string())
    .bind(review.activity_type.as_str())
    .bind(&review.actor)
    .bind(review.previous_status.map(|s| s.as_str()))
    .bind(review.new_status.map(|s| s.as_str()))
    .bind(&review.comment)
    .bind(review.created_at.micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn insert_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    app: ApplicationId,
    event: &SessionEvent,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO session_events (id, session_id, application_id, event_type, previous_status, status, data, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(event.id.to_string())
    .bind(event.session_id.to_string())
    .bind(app.to_string())
    .bind(&event.event_type)
    .bind(event.previous_status.map(|s| s.as_str()))
    .bind(event.status.map(|s| s.as_str()))
    .bind(event.data.as_ref().map(|d| d.to_string()))
    .bind(event.created_at.micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn optional_status(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<SessionStatus>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| SessionStatus::parse(&t).ok_or_else(|| corrupt("status", &t)))
        .transpose()
}

fn review_from_row(row: &sqlx::any::AnyRow, session_id: SessionId) -> Result<Review> {
    let id: String = row.try_get("id")?;
    let activity: String = row.try_get("activity_type")?;
    Ok(Review {
        id: uuid::Uuid::parse_str(&id).map_err(|_| corrupt("review id", &id))?,
        session_id,
        activity_type: ActivityType::parse(&activity)
            .ok_or_else(|| corrupt("activity type", &activity))?,
        actor: row.try_get("actor")?,
        previous_status: optional_status(row, "previous_status")?,
        new_status: optional_status(row, "new_status")?,
        comment: row.try_get("comment")?,
        created_at: Timestamp::from_micros(row.try_get("created_at")?),
    })
}

impl Store {
    /// How many rows of a per-session table belong to the caller's session (checked to exist).
    pub(crate) async fn count_session_rows(
        &self,
        table: &'static str,
        app: ApplicationId,
        session: SessionId,
    ) -> Result<i64> {
        self.session(app, session).await?;
        Ok(sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {table} WHERE session_id = $1 AND application_id = $2"
        ))
        .bind(session.to_string())
        .bind(app.to_string())
        .fetch_one(&self.db.read)
        .await?)
    }

    /// Status-changing reviews of a session, oldest first (the decision's `reviews[]`).
    pub async fn decision_reviews(
        &self,
        app: ApplicationId,
        session: SessionId,
    ) -> Result<Vec<Review>> {
        let rows = sqlx::query(
            "SELECT id, activity_type, actor, previous_status, new_status, comment, created_at FROM reviews \
             WHERE session_id = $1 AND application_id = $2 AND activity_type = 'STATUS_CHANGE' ORDER BY created_at",
        )
        .bind(session.to_string())
        .bind(app.to_string())
        .fetch_all(&self.db.read)
        .await?;
        rows.iter()
            .map(|row| review_from_row(row, session))
            .collect()
    }

    /// One page of a session's review activity and its total.
    pub async fn list_reviews(
        &self,
        app: ApplicationId,
        session: SessionId,
        newest_first: bool,
        limit: i64,
        offset: i64,
    ) -> Result<(i64, Vec<Review>)> {
        let count = self.count_session_rows("reviews", app, session).await?;
        let order = if newest_first { "DESC" } else { "ASC" };
        let rows = sqlx::query(&format!(
            "SELECT id, activity_type, actor, previous_status, new_status, comment, created_at FROM reviews \
             WHERE session_id = $1 AND application_id = $2 ORDER BY created_at {order}, id LIMIT $3 OFFSET $4"
        ))
        .bind(session.to_string())
        .bind(app.to_string())
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.db.read)
        .await?;
        let reviews = rows
            .iter()
            .map(|row| review_from_row(row, session))
            .collect::<Result<_>>()?;
        Ok((count, reviews))
    }

    /// Adds a note. A note never changes the session's real status.
    pub async fn add_review_note(
        &self,
        app: ApplicationId,
        session: SessionId,
        note: &ReviewNote,
        actor: &str,
    ) -> Result<Review> {
        let current = self.session(app, session).await?;
        let review = Review {
            id: uuid::Uuid::new_v4(),
            session_id: session,
            activity_type: ActivityType::Note,
            actor: actor.to_owned(),
            previous_status: Some(current.status),
            new_status: note.new_status,
            comment: Some(note.comment.clone()),
            created_at: Timestamp::now(),
        };
        let mut tx = self.db.write.begin().await?;
        insert_review(&mut tx, app, &review).await?;
        tx.commit().await?;
        Ok(review)
    }

    /// One page of a session's timeline (oldest first) and its total.
    pub async fn list_events(
        &self,
        app: ApplicationId,
        session: SessionId,
        limit: i64,
        offset: i64,
    ) -> Result<(i64, Vec<SessionEvent>)> {
        let count = self
            .count_session_rows("session_events", app, session)
            .await?;
        let rows = sqlx::query(
            "SELECT id, event_type, previous_status, status, data, created_at FROM session_events \
             WHERE session_id = $1 AND application_id = $2 ORDER BY created_at, id LIMIT $3 OFFSET $4",
        )
        .bind(session.to_string())
        .bind(app.to_string())
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.db.read)
        .await?;
        let events = rows
            .iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                let data: Option<String> = row.try_get("data")?;
                Ok(SessionEvent {
                    id: uuid::Uuid::parse_str(&id).map_err(|_| corrupt("event id", &id))?,
                    session_id: session,
                    event_type: row.try_get("event_type")?,
                    previous_status: optional_status(row, "previous_status")?,
                    status: optional_status(row, "status")?,
                    data: data.map(|d| serde_json::from_str(&d)).transpose()?,
                    created_at: Timestamp::from_micros(row.try_get("created_at")?),
                })
            })
            .collect::<Result<_>>()?;
        Ok((count, events))
    }
}
