//! Face templates (`migrations/0008_face_templates.sql`): one sealed embedding per session's
//! selfie, read back per application for 1:N search (duplicates, blocklist, face search).
//!
//! The store does not know what a template is: it keeps the engine's bytes, sealed, and hands
//! them back. Every read and write is scoped by the application; deleting a session deletes its
//! templates (`sessions::delete_session`).

use crate::error::{corrupt, Result};
use crate::Store;
use sqlx::Row;
use verity_domain::ids::{ApplicationId, SessionId};
use verity_domain::Timestamp;

/// A stored template with what a match report shows of its session.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFaceTemplate {
    pub session_id: SessionId,
    pub session_number: i64,
    pub vendor_data: Option<String>,
    pub session_status: String,
    pub blocklisted: bool,
    pub created_at: Timestamp,
    /// The engine's template bytes, unsealed.
    pub template: Vec<u8>,
}

impl Store {
    /// Stores (or replaces) the template of `session`'s `source` image.
    pub async fn put_face_template(
        &self,
        app: ApplicationId,
        session: SessionId,
        source: &str,
        template: &[u8],
    ) -> Result<()> {
        let sealed = self.sealer.seal(template);
        let mut tx = self.db.write.begin().await?;
        // A replaced template keeps its blocklist mark: the face is the session's, not the image's.
        let blocklisted: Option<i64> = sqlx::query_scalar(
            "SELECT blocklisted FROM face_templates WHERE session_id = $1 AND source = $2 AND application_id = $3",
        )
        .bind(session.to_string())
        .bind(source)
        .bind(app.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM face_templates WHERE session_id = $1 AND source = $2 AND application_id = $3")
            .bind(session.to_string())
            .bind(source)
            .bind(app.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO face_templates (id, application_id, session_id, source, template, blocklisted, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(app.to_string())
        .bind(session.to_string())
        .bind(source)
        .bind(sealed)
        .bind(blocklisted.unwrap_or(0))
        .bind(Timestamp::now().micros())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every template of the application (blocklisted ones included), oldest first.
    pub async fn face_templates(&self, app: ApplicationId) -> Result<Vec<StoredFaceTemplate>> {
        let rows = sqlx::query(
            "SELECT t.session_id, s.session_number, s.vendor_data, s.status, t.blocklisted, t.template, t.created_at \
             FROM face_templates t JOIN sessions s ON s.id = t.session_id AND s.application_id = t.application_id \
             WHERE t.application_id = $1 ORDER BY t.created_at, t.id",
        )
        .bind(app.to_string())
        .fetch_all(&self.db.read)
        .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("session_id")?;
                let sealed: String = row.try_get("template")?;
                Ok(StoredFaceTemplate {
                    session_id: SessionId::parse(&id).ok_or_else(|| corrupt("session id", &id))?,
                    session_number: row.try_get("session_number")?,
                    vendor_data: row.try_get("vendor_data")?,
                    session_status: row.try_get("status")?,
                    blocklisted: row.try_get::<i64, _>("blocklisted")? != 0,
                    created_at: Timestamp::from_micros(row.try_get("created_at")?),
                    template: self.sealer.open(&sealed)?,
                })
            })
            .collect()
    }

    /// Marks (or unmarks) the faces of `session` as blocklisted. False when the session has no
    /// face template (nothing to block). Marking again keeps the first time.
    pub async fn set_face_blocklisted(
        &self,
        app: ApplicationId,
        session: SessionId,
        blocklisted: bool,
    ) -> Result<bool> {
        let now = Timestamp::now().micros();
        let done = sqlx::query(
            "UPDATE face_templates SET blocklisted = $1,              blocklisted_at = CASE WHEN $1 = 1 THEN COALESCE(blocklisted_at, $2) ELSE NULL END              WHERE session_id = $3 AND application_id = $4",
        )
        .bind(i64::from(blocklisted))
        .bind(now)
        .bind(session.to_string())
        .bind(app.to_string())
        .execute(&self.db.write)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The application's blocklisted faces, most recently blocklisted first.
    pub async fn blocklisted_faces(&self, app: ApplicationId) -> Result<Vec<BlocklistedFace>> {
        let rows = sqlx::query(
            "SELECT t.session_id, s.session_number, MIN(t.blocklisted_at) AS blocklisted_at \
             FROM face_templates t JOIN sessions s ON s.id = t.session_id AND s.application_id = t.application_id \
             WHERE t.application_id = $1 AND t.blocklisted = 1 \
             GROUP BY t.session_id, s.session_number ORDER BY blocklisted_at DESC",
        )
        .bind(app.to_string())
        .fetch_all(&self.db.read)
        .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("session_id")?;
                Ok(BlocklistedFace {
                    session_id: SessionId::parse(&id).ok_or_else(|| corrupt("session id", &id))?,
                    session_number: row.try_get("session_number")?,
                    blocklisted_at: Timestamp::from_micros(
                        row.try_get::<Option<i64>, _>("blocklisted_at")?
                            .unwrap_or(0),
                    ),
                })
            })
            .collect()
    }
}

/// A session whose face is on the application's blocklist.
#[derive(Debug, Clone, PartialEq)]
pub struct BlocklistedFace {
    pub session_id: SessionId,
    pub session_number: i64,
    pub blocklisted_at: Timestamp,
}
