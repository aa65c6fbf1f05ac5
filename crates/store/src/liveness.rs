//! ACTIVE_3D liveness challenges (`migrations/0012_liveness_challenges.sql`): what the server
//! asked a session's hosted flow to do, and the frames that came back.
//!
//! The store keeps the challenge as the engine's JSON without reading it; it enforces what
//! must hold whatever the engine decides: a session has at most a fixed number of challenges
//! (each new one is another draw of the random sequence), frames arrive once per challenge and
//! only while the session is In Progress, and the arrival time is the server's.

use crate::error::{corrupt, rule, Result};
use crate::processing::{record_activity, refuse_if_submitted, sha256_hex};
use crate::Store;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use verity_domain::ids::SessionId;
use verity_domain::session::Session;
use verity_domain::Timestamp;

/// The media kind of a liveness frame (not a [`verity_domain::capture::CaptureKind`]: frames
/// are never listed as the flow's captures).
pub const LIVENESS_FRAME_KIND: &str = "liveness_frame";

/// One stored frame: where its bytes are and when it was taken, in milliseconds after the
/// challenge was issued (the page's clock, bounded by the server's: see
/// [`Store::submit_liveness_frames`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LivenessFrame {
    pub object_key: String,
    pub offset_ms: u64,
}

/// A challenge as issued, with its frames once they arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct LivenessChallenge {
    pub nonce: String,
    pub session_id: SessionId,
    /// The engine's challenge (`verity_face::ActiveChallenge`) as JSON.
    pub challenge: Value,
    pub issued_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
    pub frames: Vec<LivenessFrame>,
}

/// Outcome of asking for a new challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeIssue {
    /// Recorded; this many more may be issued to the session.
    Issued { remaining: usize },
    /// The session already had its `limit` challenges.
    Exhausted,
}

/// Where a session's liveness frames are kept.
pub(crate) fn frames_prefix(session: &Session) -> String {
    format!("{}/{}/liveness/", session.application_id, session.id)
}

/// Each submission's frames are new objects (`upload`), so a refused repeat for the same
/// challenge can never overwrite the frames a job was bound to.
fn frame_key(session: &Session, nonce: &str, upload: &str, index: usize) -> String {
    format!("{}{nonce}/{upload}/{index:03}.jpg", frames_prefix(session))
}

/// Removes the session's challenges and their frames' media rows (a resubmitted selfie starts
/// over); the caller deletes the objects under [`frames_prefix`] after committing.
pub(crate) async fn forget_challenges(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    session: SessionId,
) -> Result<()> {
    sqlx::query("DELETE FROM liveness_challenges WHERE session_id = $1")
        .bind(session.to_string())
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM media WHERE session_id = $1 AND kind = $2")
        .bind(session.to_string())
        .bind(LIVENESS_FRAME_KIND)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn parse_row(row: &sqlx::any::AnyRow) -> Result<LivenessChallenge> {
    let session_id: String = row.try_get("session_id")?;
    let challenge: String = row.try_get("challenge")?;
    let frames: Option<String> = row.try_get("frames")?;
    Ok(LivenessChallenge {
        nonce: row.try_get("nonce")?,
        session_id: SessionId::parse(&session_id)
            .ok_or_else(|| corrupt("liveness challenge session id", &session_id))?,
        challenge: serde_json::from_str(&challenge)
            .map_err(|_| corrupt("liveness challenge", &challenge))?,
        issued_at: Timestamp::from_micros(row.try_get("issued_at")?),
        submitted_at: row
            .try_get::<Option<i64>, _>("submitted_at")?
            .map(Timestamp::from_micros),
        frames: match frames {
            Some(text) => {
                serde_json::from_str(&text).map_err(|_| corrupt("liveness frames", &text))?
            }
            None => Vec::new(),
        },
    })
}

const COLUMNS: &str = "nonce, session_id, challenge, issued_at, submitted_at, frames";

impl Store {
    /// Records a challenge issued at `issued_at` to an `In Progress` session, unless the
    /// session already had `limit` challenges.
    pub async fn issue_liveness_challenge(
        &self,
        session: &Session,
        nonce: &str,
        challenge: &Value,
        issued_at: Timestamp,
        limit: usize,
    ) -> Result<ChallengeIssue> {
        let mut tx = self.db.write.begin().await?;
        // Locks the session row (PostgreSQL): two concurrent requests cannot both take the
        // last challenge.
        if !record_activity(&mut tx, session.id, issued_at).await? {
            return Err(rule(
                "Liveness challenges are issued only while the session is In Progress.",
            ));
        }
        refuse_if_submitted(&mut tx, session.id, "A liveness challenge").await?;
        let issued: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM liveness_challenges WHERE session_id = $1")
                .bind(session.id.to_string())
                .fetch_one(&mut *tx)
                .await?;
        let issued = issued as usize;
        if issued >= limit {
            return Ok(ChallengeIssue::Exhausted);
        }
        sqlx::query(
            "INSERT INTO liveness_challenges (nonce, session_id, challenge, issued_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(nonce)
        .bind(session.id.to_string())
        .bind(challenge.to_string())
        .bind(issued_at.micros())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ChallengeIssue::Issued {
            remaining: limit - issued - 1,
        })
    }

    /// The session's challenge with this nonce.
    pub async fn liveness_challenge(
        &self,
        session: SessionId,
        nonce: &str,
    ) -> Result<Option<LivenessChallenge>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM liveness_challenges WHERE session_id = $1 AND nonce = $2"
        ))
        .bind(session.to_string())
        .bind(nonce)
        .fetch_optional(&self.db.read)
        .await?;
        row.as_ref().map(parse_row).transpose()
    }

    /// The session's most recent challenge that received frames.
    pub async fn submitted_liveness(
        &self,
        session: SessionId,
    ) -> Result<Option<LivenessChallenge>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM liveness_challenges WHERE session_id = $1 AND submitted_at IS NOT NULL \
             ORDER BY submitted_at DESC LIMIT 1"
        ))
        .bind(session.to_string())
        .fetch_optional(&self.db.read)
        .await?;
        row.as_ref().map(parse_row).transpose()
    }

    /// Stores the frames of challenge `nonce` (JPEG bytes with their offsets, in order) and
    /// marks it submitted at `received_at`. Refused when the challenge already took frames or
    /// the session is no longer In Progress; nothing is kept then.
    pub async fn submit_liveness_frames(
        &self,
        session: &Session,
        nonce: &str,
        frames: Vec<(Vec<u8>, u64)>,
        received_at: Timestamp,
    ) -> Result<Vec<LivenessFrame>> {
        let mut stored = Vec::with_capacity(frames.len());
        let mut sizes = Vec::with_capacity(frames.len());
        let upload = uuid::Uuid::new_v4().simple().to_string();
        for (index, (bytes, offset_ms)) in frames.into_iter().enumerate() {
            let object_key = frame_key(session, nonce, &upload, index);
            sizes.push((bytes.len() as i64, sha256_hex(&bytes)));
            self.media.put(&object_key, bytes).await?;
            stored.push(LivenessFrame {
                object_key,
                offset_ms,
            });
        }
        let mut tx = self.db.write.begin().await?;
        let open = record_activity(&mut tx, session.id, received_at).await?;
        let submitted = if open {
            refuse_if_submitted(&mut tx, session.id, "Sending liveness frames")
                .await
                .err()
        } else {
            None
        };
        if let Some(refusal) = submitted {
            drop(tx);
            for frame in &stored {
                self.media.delete(&frame.object_key).await?;
            }
            return Err(refusal);
        }
        let taken = open
            && sqlx::query(
                "UPDATE liveness_challenges SET submitted_at = $1, frames = $2 \
                 WHERE nonce = $3 AND session_id = $4 AND submitted_at IS NULL",
            )
            .bind(received_at.micros())
            .bind(serde_json::to_string(&stored).expect("frames serialise"))
            .bind(nonce)
            .bind(session.id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
        if !taken {
            drop(tx);
            for frame in &stored {
                self.media.delete(&frame.object_key).await?;
            }
            return Err(rule(if open {
                "This liveness challenge already received its frames: ask for a new one."
            } else {
                "Liveness frames are accepted only while the session is In Progress."
            }));
        }
        for (frame, (size, sha256)) in stored.iter().zip(sizes) {
            sqlx::query(
                "INSERT INTO media (object_key, session_id, application_id, kind, content_type, size_bytes, created_at, sha256) \
                 VALUES ($1, $2, $3, $4, 'image/jpeg', $5, $6, $7)",
            )
            .bind(&frame.object_key)
            .bind(session.id.to_string())
            .bind(session.application_id.to_string())
            .bind(LIVENESS_FRAME_KIND)
            .bind(size)
            .bind(received_at.micros())
            .bind(sha256)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(stored)
    }
}
