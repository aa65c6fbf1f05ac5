//! Webhook destinations, the outbox fan-out, delivery claims and the delivery log.
//!
//! Durability comes from the outbox being `session_events`: an event exists iff its status change
//! committed. [`Store::fan_out_events`] turns undispatched events into one delivery per subscribed
//! destination; [`Store::claim_deliveries`] leases due deliveries to one dispatcher (with
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several processes share the work); a dispatcher that
//! dies loses its lease and another one takes the delivery over: at-least-once.

use crate::credentials::random_secret;
use crate::error::{corrupt, not_found, Result};
use crate::sessions::IN_LIST_CHUNK;
use crate::{insert_chunks, padded_in_list, placeholders, values_rows, Dialect, Store};
use serde_json::{Map, Value};
use sqlx::Row;
use std::collections::{HashMap, HashSet};
use verity_domain::ids::{ApplicationId, DeliveryId, DestinationId, SessionId};
use verity_domain::session::Session;
use verity_domain::webhook::{
    check_destination_room, DestinationPatch, DestinationSpec, EventType, LegacyWebhookPatch,
    WebhookVersion,
};
use verity_domain::{FieldErrors, Timestamp};

/// A configured receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    pub id: DestinationId,
    pub application_id: ApplicationId,
    pub label: String,
    pub url: String,
    pub enabled: bool,
    pub webhook_version: WebhookVersion,
    pub subscribed_events: Vec<EventType>,
    pub standard_webhooks: bool,
    /// The destination behind the legacy `GET|PATCH /v3/webhook/`; signs with the application
    /// secret.
    pub is_legacy: bool,
    pub disabled_reason: Option<String>,
    /// While set and in the future, the previous secret still signs (see [`SigningKeys`]).
    pub previous_secret_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Delivery statistics of a destination (spec §3.14 `summary`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DestinationSummary {
    pub total_deliveries: i64,
    pub failed_deliveries: i64,
    pub min_response_ms: Option<f64>,
    pub avg_response_ms: Option<f64>,
    pub max_response_ms: Option<f64>,
    pub last_delivery_at: Option<Timestamp>,
}

/// The secrets a delivery is signed with. During a rotation's overlap the Didit headers are
/// signed with `previous` (receivers still holding the old secret keep verifying) and the
/// Standard Webhooks header carries both signatures; afterwards only `current` signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeys {
    pub current: String,
    pub previous: Option<String>,
}

/// `GET /v3/webhook/`: the legacy destination (if any) and the other legacy settings.
#[derive(Debug, Clone)]
pub struct LegacyWebhook {
    pub destination: Option<Destination>,
    pub settings: Map<String, Value>,
}

/// A delivery leased to one dispatcher.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: DeliveryId,
    pub event_id: uuid::Uuid,
    pub application_id: ApplicationId,
    pub destination_id: DestinationId,
    pub session_id: Option<SessionId>,
    pub webhook_type: String,
    /// Attempts made before this one.
    pub attempts: i64,
    /// The payload built by an earlier attempt, reused so every retry carries the same content.
    pub payload: Option<String>,
    pub lease_owner: String,
}

/// A stored session event, as a payload is built from it.
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    pub status: Option<String>,
    pub data: Option<Value>,
    pub created_at: Timestamp,
}

/// The sessions and events a batch of claims refers to.
#[derive(Debug, Default)]
pub struct PayloadSources {
    pub sessions: HashMap<SessionId, Session>,
    pub events: HashMap<uuid::Uuid, OutboxEvent>,
}

/// One attempt as the delivery log keeps it.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: String,
    pub response_status: Option<u16>,
    pub response_body: String,
    pub response_truncated: bool,
    pub duration_ms: f64,
    /// `delivered`, `retry`, `disable` or `give_up`.
    pub verdict: &'static str,
    pub error: Option<String>,
    pub created_at: Timestamp,
}

/// An attempt made under a claim, waiting to be recorded.
#[derive(Debug, Clone)]
pub struct FinishedAttempt {
    pub claim: ClaimedDelivery,
    /// The payload that was sent; kept on the delivery when it will be retried, so retries send
    /// the same content.
    pub payload: String,
    pub attempt: AttemptRecord,
    pub next: NextStep,
}

/// How many deliveries each destination may still take in a claim: `per_destination` minus
/// those already in flight in this dispatcher (`busy`).
#[derive(Debug, Clone, Default)]
pub struct DestinationCapacity {
    pub per_destination: usize,
    pub busy: HashMap<DestinationId, usize>,
}

/// A claim looks at this many due deliveries per slot it fills: a destination close to its cap
/// takes few of them, and the rest of the slots go to other destinations' deliveries.
const CANDIDATES_PER_CLAIM: i64 = 2;

/// What happens to the delivery after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum NextStep {
    Delivered,
    RetryAt(Timestamp),
    /// Not retried (other 4xx, exhausted schedule, refused target).
    Failed,
    /// 410 Gone: the delivery fails and the destination is disabled with this reason.
    DisableDestination(String),
}

/// A delivery with its attempts, for the delivery log.
#[derive(Debug, Clone)]
pub struct DeliveryLog {
    pub id: DeliveryId,
    pub event_id: uuid::Uuid,
    pub destination_id: DestinationId,
    pub session_id: Option<SessionId>,
    pub webhook_type: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    pub attempt_log: Vec<StoredAttempt>,
}

#[derive(Debug, Clone)]
pub struct StoredAttempt {
    pub attempt_no: i64,
    pub url: String,
    pub request_headers: String,
    pub request_body: String,
    pub response_status: Option<i64>,
    pub response_body: String,
    pub response_truncated: bool,
    pub duration_ms: f64,
    pub verdict: String,
    pub error: Option<String>,
    pub created_at: Timestamp,
}

const DESTINATION_COLUMNS: &str =
    "id, application_id, label, url, enabled, webhook_version, subscribed_events, \
     standard_webhooks, is_legacy, disabled_reason, previous_secret_until, created_at, updated_at";

const LEGACY_EVENTS: [EventType; 2] = [EventType::StatusUpdated, EventType::DataUpdated];

fn destination_from_row(row: &sqlx::any::AnyRow) -> Result<Destination> {
    let id: String = row.try_get("id")?;
    let app: String = row.try_get("application_id")?;
    let version: String = row.try_get("webhook_version")?;
    let events: String = row.try_get("subscribed_events")?;
    let events: Vec<EventType> =
        serde_json::from_str(&events).map_err(|_| corrupt("subscribed events", &events))?;
    let previous_until: Option<i64> = row.try_get("previous_secret_until")?;
    Ok(Destination {
        id: DestinationId::parse(&id).ok_or_else(|| corrupt("destination id", &id))?,
        application_id: ApplicationId::parse(&app).ok_or_else(|| corrupt("application", &app))?,
        label: row.try_get("label")?,
        url: row.try_get("url")?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        webhook_version: WebhookVersion::parse(&version)
            .ok_or_else(|| corrupt("webhook version", &version))?,
        subscribed_events: events,
        standard_webhooks: row.try_get::<i64, _>("standard_webhooks")? != 0,
        is_legacy: row.try_get::<i64, _>("is_legacy")? != 0,
        disabled_reason: row.try_get("disabled_reason")?,
        previous_secret_until: previous_until.map(Timestamp::from_micros),
        created_at: Timestamp::from_micros(row.try_get("created_at")?),
        updated_at: Timestamp::from_micros(row.try_get("updated_at")?),
    })
}

fn duplicate_url() -> crate::Error {
    FieldErrors::single(
        "url",
        "webhook destination with this application and url already exists.",
    )
    .into()
}

fn events_json(events: &[EventType]) -> Result<String> {
    Ok(serde_json::to_string(events)?)
}

impl Store {
    async fn url_taken(
        &self,
        app: ApplicationId,
        url: &str,
        except: Option<DestinationId>,
    ) -> Result<bool> {
        let existing: Option<String> = sqlx::query_scalar(
            "SELECT id FROM webhook_destinations WHERE application_id = $1 AND url = $2",
        )
        .bind(app.to_string())
        .bind(url)
        .fetch_optional(&self.db.read)
        .await?;
        Ok(existing.is_some_and(|id| Some(id) != except.map(|e| e.to_string())))
    }

    /// Creates a destination and returns it with its new secret (shown once on creation; later
    /// reads show it again only to API-key callers, as Didit does).
    /// At most `max_destinations` per application ([`check_destination_room`]).
    pub async fn create_destination(
        &self,
        app: ApplicationId,
        spec: &DestinationSpec,
        max_destinations: usize,
    ) -> Result<(Destination, String)> {
        self.insert_destination(app, spec, false, max_destinations)
            .await
    }

    async fn insert_destination(
        &self,
        app: ApplicationId,
        spec: &DestinationSpec,
        is_legacy: bool,
        max_destinations: usize,
    ) -> Result<(Destination, String)> {
        if self.url_taken(app, &spec.url, None).await? {
            return Err(duplicate_url());
        }
        let id = DestinationId::random();
        let now = Timestamp::now();
        let secret = random_secret();
        let sealed = (!is_legacy).then(|| self.sealer.seal(secret.as_bytes()));
        let mut tx = self.db.write.begin().await?;
        // Concurrent creates of one application count one after the other (SQLite has a single
        // writer; PostgreSQL locks the application's row).
        if self.db.dialect == Dialect::Postgres {
            sqlx::query("SELECT id FROM applications WHERE id = $1 FOR UPDATE")
                .bind(app.to_string())
                .execute(&mut *tx)
                .await?;
        }
        let existing: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_destinations WHERE application_id = $1",
        )
        .bind(app.to_string())
        .fetch_one(&mut *tx)
        .await?;
        check_destination_room(
            usize::try_from(existing).unwrap_or(usize::MAX),
            max_destinations,
        )?;
        let inserted = sqlx::query(
            "INSERT INTO webhook_destinations (id, application_id, label, url, enabled, webhook_version, \
             subscribed_events, standard_webhooks, secret_sealed, is_legacy, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(id.to_string())
        .bind(app.to_string())
        .bind(&spec.label)
        .bind(&spec.url)
        .bind(spec.enabled as i64)
        .bind(spec.webhook_version.as_str())
        .bind(events_json(&spec.subscribed_events)?)
        .bind(spec.standard_webhooks as i64)
        .bind(sealed)
        .bind(is_legacy as i64)
        .bind(now.micros())
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => tx.commit().await?,
            // Lost a race with a concurrent create of the same URL.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(duplicate_url()),
            Err(e) => return Err(e.into()),
        }
        let destination = self.destination(app, id).await?;
        let secret = if is_legacy {
            self.webhook_secret(app).await?
        } else {
            secret
        };
        Ok((destination, secret))
    }

    /// Every destination of the application (the legacy one included), oldest first.
    pub async fn destinations(&self, app: ApplicationId) -> Result<Vec<Destination>> {
        let rows = sqlx::query(&format!(
            "SELECT {DESTINATION_COLUMNS} FROM webhook_destinations WHERE application_id = $1 ORDER BY created_at, id"
        ))
        .bind(app.to_string())
        .fetch_all(&self.db.read)
        .await?;
        rows.iter().map(destination_from_row).collect()
    }

    /// One destination of this application; another application's id is `NotFound`.
    pub async fn destination(&self, app: ApplicationId, id: DestinationId) -> Result<Destination> {
        let row = sqlx::query(&format!(
            "SELECT {DESTINATION_COLUMNS} FROM webhook_destinations WHERE id = $1 AND application_id = $2"
        ))
        .bind(id.to_string())
        .bind(app.to_string())
        .fetch_optional(&self.db.read)
        .await?
        .ok_or_else(not_found)?;
        destination_from_row(&row)
    }

    /// The secrets that sign deliveries to `destination` now.
    pub async fn signing_keys(&self, destination: &Destination) -> Result<SigningKeys> {
        if destination.is_legacy {
            return Ok(SigningKeys {
                current: self.webhook_secret(destination.application_id).await?,
                previous: None,
            });
        }
        let row = sqlx::query(
            "SELECT secret_sealed, previous_secret_sealed, previous_secret_until FROM webhook_destinations WHERE id = $1",
        )
        .bind(destination.id.to_string())
        .fetch_optional(&self.db.read)
        .await?
        .ok_or_else(not_found)?;
        let open = |sealed: String| -> Result<String> {
            let bytes = self.sealer.open(&sealed)?;
            Ok(String::from_utf8(bytes).map_err(anyhow::Error::from)?)
        };
        let current: Option<String> = row.try_get("secret_sealed")?;
        let previous: Option<String> = row.try_get("previous_secret_sealed")?;
        let until: Option<i64> = row.try_get("previous_secret_until")?;
        let overlapping = until.is_some_and(|u| u > Timestamp::now().micros());
        Ok(SigningKeys {
            current: open(current.ok_or_else(|| corrupt("destination secret", "NULL"))?)?,
            previous: previous.filter(|_| overlapping).map(open).transpose()?,
        })
    }

    /// Applies a partial update; returns the destination and, after a rotation, the new secret.
    pub async fn update_destination(
        &self,
        app: ApplicationId,
        id: DestinationId,
        patch: &DestinationPatch,
    ) -> Result<(Destination, Option<String>)> {
        let current = self.destination(app, id).await?;
        if current.is_legacy && patch.rotate_secret.is_some() {
            return Err(FieldErrors::single(
                "rotate_secret_key",
                "The legacy destination signs with the application secret: rotate it with PATCH /v3/webhook/.",
            )
            .into());
        }
        if let Some(url) = &patch.url {
            if self.url_taken(app, url, Some(id)).await? {
                return Err(duplicate_url());
            }
        }
        let now = Timestamp::now();
        let enabled = patch.enabled.unwrap_or(current.enabled);
        // Re-enabling clears the server's reason for disabling.
        let disabled_reason = if enabled {
            None
        } else {
            current.disabled_reason.clone()
        };
        let mut tx = self.db.write.begin().await?;
        sqlx::query(
            "UPDATE webhook_destinations SET label = $1, url = $2, enabled = $3, webhook_version = $4, \
             subscribed_events = $5, standard_webhooks = $6, disabled_reason = $7, updated_at = $8 \
             WHERE id = $9 AND application_id = $10",
        )
        .bind(patch.label.as_ref().unwrap_or(&current.label))
        .bind(patch.url.as_ref().unwrap_or(&current.url))
        .bind(enabled as i64)
        .bind(patch.webhook_version.unwrap_or(current.webhook_version).as_str())
        .bind(events_json(
            patch
                .subscribed_events
                .as_deref()
                .unwrap_or(&current.subscribed_events),
        )?)
        .bind(patch.standard_webhooks.unwrap_or(current.standard_webhooks) as i64)
        .bind(disabled_reason)
        .bind(now.micros())
        .bind(id.to_string())
        .bind(app.to_string())
        .execute(&mut *tx)
        .await?;
        let mut new_secret = None;
        if let Some(overlap) = patch.rotate_secret {
            let secret = random_secret();
            sqlx::query(
                "UPDATE webhook_destinations SET previous_secret_sealed = secret_sealed, \
                 previous_secret_until = $1, secret_sealed = $2 WHERE id = $3",
            )
            .bind(now.plus_seconds(overlap.seconds).micros())
            .bind(self.sealer.seal(secret.as_bytes()))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
            new_secret = Some(secret);
        }
        tx.commit().await?;
        Ok((self.destination(app, id).await?, new_secret))
    }

    /// Deletes a destination with its deliveries and their log.
    pub async fn delete_destination(&self, app: ApplicationId, id: DestinationId) -> Result<()> {
        self.destination(app, id).await?;
        let mut tx = self.db.write.begin().await?;
        delete_destination_rows(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Delivery statistics of one destination.
    pub async fn destination_summary(&self, id: DestinationId) -> Result<DestinationSummary> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS total, \
             COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) AS failed, \
             MAX(delivered_at) AS last_delivery_at \
             FROM webhook_deliveries WHERE destination_id = $1",
        )
        .bind(id.to_string())
        .fetch_one(&self.db.read)
        .await?;
        let timing = sqlx::query(
            "SELECT MIN(a.duration_ms) AS min_ms, AVG(a.duration_ms) AS avg_ms, MAX(a.duration_ms) AS max_ms \
             FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id \
             WHERE d.destination_id = $1 AND a.response_status IS NOT NULL",
        )
        .bind(id.to_string())
        .fetch_one(&self.db.read)
        .await?;
        let last: Option<i64> = row.try_get("last_delivery_at")?;
        Ok(DestinationSummary {
            total_deliveries: row.try_get("total")?,
            failed_deliveries: row.try_get("failed")?,
            min_response_ms: timing.try_get("min_ms")?,
            avg_response_ms: timing.try_get("avg_ms")?,
            max_response_ms: timing.try_get("max_ms")?,
            last_delivery_at: last.map(Timestamp::from_micros),
        })
    }

    /// The legacy single-URL configuration.
    pub async fn legacy_webhook(&self, app: ApplicationId) -> Result<LegacyWebhook> {
        let settings: Option<String> =
            sqlx::query_scalar("SELECT webhook_settings FROM applications WHERE id = $1")
                .bind(app.to_string())
                .fetch_optional(&self.db.read)
                .await?
                .ok_or_else(not_found)?;
        let settings = match settings {
            Some(text) => match serde_json::from_str(&text)? {
                Value::Object(map) => map,
                _ => return Err(corrupt("webhook settings", &text)),
            },
            None => Map::new(),
        };
        let destination = self
            .destinations(app)
            .await?
            .into_iter()
            .find(|d| d.is_legacy);
        Ok(LegacyWebhook {
            destination,
            settings,
        })
    }

    /// Applies `PATCH /v3/webhook/`: the URL maps onto the legacy destination (created, moved,
    /// or deleted for `null`), `rotate_secret_key` replaces the application secret at once.
    pub async fn update_legacy_webhook(
        &self,
        app: ApplicationId,
        patch: &LegacyWebhookPatch,
        max_destinations: usize,
    ) -> Result<LegacyWebhook> {
        let current = self.legacy_webhook(app).await?;
        match (&patch.webhook_url, &current.destination) {
            (Some(None), Some(existing)) => self.delete_destination(app, existing.id).await?,
            (Some(Some(url)), None) => {
                let spec = DestinationSpec {
                    label: "Legacy webhook".into(),
                    url: url.clone(),
                    enabled: true,
                    webhook_version: patch.webhook_version.unwrap_or_default(),
                    subscribed_events: LEGACY_EVENTS.to_vec(),
                    standard_webhooks: false,
                };
                self.insert_destination(app, &spec, true, max_destinations)
                    .await?;
            }
            (url, Some(existing)) => {
                let change = DestinationPatch {
                    url: url.clone().flatten(),
                    webhook_version: patch.webhook_version,
                    ..DestinationPatch::default()
                };
                self.update_destination(app, existing.id, &change).await?;
            }
            (None | Some(None), None) => {}
        }
        let mut settings = current.settings;
        settings.extend(patch.settings.clone());
        let mut tx = self.db.write.begin().await?;
        sqlx::query("UPDATE applications SET webhook_settings = $1 WHERE id = $2")
            .bind(Value::Object(settings).to_string())
            .bind(app.to_string())
            .execute(&mut *tx)
            .await?;
        if patch.rotate_secret_key {
            sqlx::query("UPDATE applications SET webhook_secret_sealed = $1 WHERE id = $2")
                .bind(self.sealer.seal(random_secret().as_bytes()))
                .bind(app.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.legacy_webhook(app).await
    }

    /// Fans undispatched events out: one pending delivery per enabled destination subscribed to
    /// the event's type, and the event marked dispatched, in one transaction. Returns how many
    /// events were handled.
    pub async fn fan_out_events(&self, limit: i64) -> Result<usize> {
        let mut tx = self.db.write.begin().await?;
        let lock = match self.db.dialect {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let rows = sqlx::query(&format!(
            "SELECT id, application_id, session_id, event_type FROM session_events \
             WHERE dispatched = 0 ORDER BY created_at, id LIMIT $1{lock}"
        ))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let now = Timestamp::now().micros();
        let mut by_app: HashMap<String, Vec<(String, Vec<EventType>)>> = HashMap::new();
        let mut ids = Vec::with_capacity(rows.len());
        let mut deliveries = Vec::with_capacity(rows.len());
        for row in &rows {
            let event_id: String = row.try_get("id")?;
            let app: String = row.try_get("application_id")?;
            let session: String = row.try_get("session_id")?;
            let event_type: String = row.try_get("event_type")?;
            if !by_app.contains_key(&app) {
                let destinations = sqlx::query(
                    "SELECT id, subscribed_events FROM webhook_destinations WHERE application_id = $1 AND enabled = 1",
                )
                .bind(&app)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|d| {
                    let events: String = d.try_get("subscribed_events")?;
                    Ok((
                        d.try_get::<String, _>("id")?,
                        serde_json::from_str::<Vec<EventType>>(&events)
                            .map_err(|_| corrupt("subscribed events", &events))?,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
                by_app.insert(app.clone(), destinations);
            }
            let kind: Option<EventType> = event_type.parse().ok();
            for (destination, events) in &by_app[&app] {
                if kind.is_some_and(|k| events.contains(&k)) {
                    deliveries.push(NewDelivery {
                        event_id: event_id.clone(),
                        application_id: app.clone(),
                        destination_id: destination.clone(),
                        session_id: session.clone(),
                        webhook_type: event_type.clone(),
                    });
                }
            }
            ids.push(event_id);
        }
        for chunk in insert_chunks(&deliveries) {
            let sql = format!(
                "INSERT INTO webhook_deliveries (id, event_id, application_id, destination_id, session_id, \
                 webhook_type, state, attempts, next_attempt_at, created_at, updated_at) VALUES {}",
                values_rows(chunk.len(), DELIVERY_COLUMNS)
            );
            let mut insert = sqlx::query(&sql);
            for delivery in chunk {
                insert = insert
                    .bind(DeliveryId::time_ordered().to_string())
                    .bind(&delivery.event_id)
                    .bind(&delivery.application_id)
                    .bind(&delivery.destination_id)
                    .bind(&delivery.session_id)
                    .bind(&delivery.webhook_type)
                    .bind("pending")
                    .bind(0i64)
                    .bind(now)
                    .bind(now)
                    .bind(now);
            }
            insert.execute(&mut *tx).await?;
        }
        let mark_sql = format!(
            "UPDATE session_events SET dispatched = 1 WHERE id IN ({})",
            placeholders(1, ids.len())
        );
        let mut mark = sqlx::query(&mark_sql);
        for id in &ids {
            mark = mark.bind(id);
        }
        mark.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(ids.len())
    }

    /// Leases up to `limit` due deliveries of enabled destinations to `owner` until
    /// `lease_until`, at most `capacity.per_destination` of them per destination (less for the
    /// destinations in `capacity.busy`, none for those already at the cap), so that a backlog for
    /// one receiver is never claimed only to be given back. Expired leases of a dispatcher that
    /// died are taken over: a lease also moves the delivery's `next_attempt_at` to its end, so
    /// leased deliveries leave the front of the due index (claims do not walk past them) and come
    /// due again exactly when their lease runs out.
    pub async fn claim_deliveries(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
        capacity: &DestinationCapacity,
    ) -> Result<Vec<ClaimedDelivery>> {
        let lock = match self.db.dialect {
            Dialect::Postgres => " FOR UPDATE OF w SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let full: Vec<DestinationId> = capacity
            .busy
            .iter()
            .filter(|(_, n)| **n >= capacity.per_destination)
            .map(|(d, _)| *d)
            .collect();
        let partial: Vec<(DestinationId, i64)> = capacity
            .busy
            .iter()
            .filter(|(_, n)| **n < capacity.per_destination)
            .map(|(d, n)| (*d, (capacity.per_destination - n) as i64))
            .collect();
        // $1 owner, $2 lease_until, $3 now, $4 candidates, $5 per-destination cap, $6 limit,
        // then the full destinations, then (destination, remaining) pairs.
        let mut next = 7;
        let skip_clause = if full.is_empty() {
            String::new()
        } else {
            let clause = format!(
                " AND w.destination_id NOT IN ({})",
                placeholders(next, full.len())
            );
            next += full.len();
            clause
        };
        let cap = if partial.is_empty() {
            "$5".to_owned()
        } else {
            let arms: String = (0..partial.len())
                .map(|i| format!(" WHEN ${} THEN ${}", next + 2 * i, next + 2 * i + 1))
                .collect();
            format!("CASE destination_id{arms} ELSE $5 END")
        };
        // The candidates are locked (PostgreSQL) in a CTE because row locks and window functions
        // cannot share a query level.
        let sql = format!(
            "WITH candidates AS (\
               SELECT w.id, w.destination_id, w.next_attempt_at FROM webhook_deliveries w \
               JOIN webhook_destinations d ON d.id = w.destination_id AND d.enabled = 1 \
               WHERE w.state = 'pending' AND w.next_attempt_at <= $3 \
               AND (w.lease_until IS NULL OR w.lease_until < $3){skip_clause} \
               ORDER BY w.next_attempt_at LIMIT $4{lock}), \
             ranked AS (SELECT id, destination_id, next_attempt_at, ROW_NUMBER() OVER \
               (PARTITION BY destination_id ORDER BY next_attempt_at, id) AS place FROM candidates) \
             UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2, next_attempt_at = $2 WHERE id IN (\
               SELECT id FROM ranked WHERE place <= {cap} ORDER BY next_attempt_at LIMIT $6) \
             RETURNING id, event_id, application_id, destination_id, session_id, webhook_type, attempts, payload"
        );
        let mut query = sqlx::query(&sql)
            .bind(owner)
            .bind(lease_until.micros())
            .bind(now.micros())
            .bind(limit.saturating_mul(CANDIDATES_PER_CLAIM))
            .bind(capacity.per_destination as i64)
            .bind(limit);
        for id in &full {
            query = query.bind(id.to_string());
        }
        for (id, remaining) in &partial {
            query = query.bind(id.to_string()).bind(*remaining);
        }
        let rows = query.fetch_all(&self.db.write).await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                let event: String = row.try_get("event_id")?;
                let app: String = row.try_get("application_id")?;
                let destination: String = row.try_get("destination_id")?;
                let session: Option<String> = row.try_get("session_id")?;
                Ok(ClaimedDelivery {
                    id: DeliveryId::parse(&id).ok_or_else(|| corrupt("delivery id", &id))?,
                    event_id: uuid::Uuid::parse_str(&event)
                        .map_err(|_| corrupt("event id", &event))?,
                    application_id: ApplicationId::parse(&app)
                        .ok_or_else(|| corrupt("application", &app))?,
                    destination_id: DestinationId::parse(&destination)
                        .ok_or_else(|| corrupt("destination", &destination))?,
                    session_id: session.as_deref().and_then(SessionId::parse),
                    webhook_type: row.try_get("webhook_type")?,
                    attempts: row.try_get("attempts")?,
                    payload: row.try_get("payload")?,
                    lease_owner: owner.to_owned(),
                })
            })
            .collect()
    }

    /// What the payloads of freshly claimed deliveries are built from (claims that carry a
    /// payload from an earlier attempt need nothing), read in one query per table rather than
    /// per delivery.
    pub async fn payload_sources(&self, claims: &[ClaimedDelivery]) -> Result<PayloadSources> {
        let fresh: Vec<&ClaimedDelivery> = claims.iter().filter(|c| c.payload.is_none()).collect();
        let mut session_ids: Vec<SessionId> = fresh.iter().filter_map(|c| c.session_id).collect();
        session_ids.sort_unstable();
        session_ids.dedup();
        let sessions = self
            .sessions_by_ids(&session_ids)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        let mut events = HashMap::with_capacity(fresh.len());
        for chunk in fresh.chunks(IN_LIST_CHUNK) {
            let ids: Vec<String> = chunk.iter().map(|c| c.event_id.to_string()).collect();
            let ids = padded_in_list(&ids);
            let sql = format!(
                "SELECT id, status, data, created_at FROM session_events WHERE id IN ({})",
                placeholders(1, ids.len())
            );
            let mut query = sqlx::query(&sql);
            for id in &ids {
                query = query.bind(id);
            }
            for row in query.fetch_all(&self.db.read).await? {
                let id: String = row.try_get("id")?;
                let data: Option<String> = row.try_get("data")?;
                let event = OutboxEvent {
                    status: row.try_get("status")?,
                    data: data.map(|d| serde_json::from_str(&d)).transpose()?,
                    created_at: Timestamp::from_micros(row.try_get("created_at")?),
                };
                events.insert(
                    uuid::Uuid::parse_str(&id).map_err(|_| corrupt("event id", &id))?,
                    event,
                );
            }
        }
        Ok(PayloadSources { sessions, events })
    }

    /// Records finished attempts and moves their deliveries on, in one transaction (a dispatcher
    /// batches them so SQLite's single writer commits once for many deliveries). An attempt is
    /// only recorded if this dispatcher still holds the delivery's lease; the result says, per
    /// attempt, whether it was (false: another dispatcher took over and nothing was written).
    pub async fn record_attempts(&self, finished: &[FinishedAttempt]) -> Result<Vec<bool>> {
        let mut recorded = vec![false; finished.len()];
        let mut attempts_to_insert = Vec::with_capacity(finished.len());
        // Delivered attempts, the bulk of the traffic, are closed together: one UPDATE per lease
        // owner and response status (usually one). The rest keep their own statement.
        let mut delivered: HashMap<(&str, Option<u16>), Vec<usize>> = HashMap::new();
        let mut tx = self.db.write.begin().await?;
        for (index, finished_attempt) in finished.iter().enumerate() {
            let FinishedAttempt {
                claim,
                payload,
                attempt,
                next,
            } = finished_attempt;
            let now = attempt.created_at.micros();
            let (state, next_at) = match next {
                NextStep::Delivered => {
                    delivered
                        .entry((claim.lease_owner.as_str(), attempt.response_status))
                        .or_default()
                        .push(index);
                    continue;
                }
                NextStep::RetryAt(at) => ("pending", at.micros()),
                NextStep::Failed | NextStep::DisableDestination(_) => ("failed", now),
            };
            let updated = sqlx::query(
                "UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, next_attempt_at = $2, \
                 lease_owner = NULL, lease_until = NULL, payload = COALESCE(payload, $3), last_status = $4, \
                 last_error = $5, updated_at = $6 WHERE id = $7 AND lease_owner = $8",
            )
            .bind(state)
            .bind(next_at)
            .bind(payload)
            .bind(attempt.response_status.map(i64::from))
            .bind(&attempt.error)
            .bind(now)
            .bind(claim.id.to_string())
            .bind(&claim.lease_owner)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 0 {
                continue;
            }
            recorded[index] = true;
            attempts_to_insert.push(index);
            if let NextStep::DisableDestination(reason) = next {
                sqlx::query(
                    "UPDATE webhook_destinations SET enabled = 0, disabled_reason = $1, updated_at = $2 WHERE id = $3",
                )
                .bind(reason)
                .bind(now)
                .bind(claim.destination_id.to_string())
                .execute(&mut *tx)
                .await?;
            }
        }
        // A delivered delivery keeps no payload of its own: its attempt holds the exact body
        // (a manual resend copies it back). `delivered_at` is when the batch is recorded, a few
        // milliseconds after the attempt's own `created_at`.
        let now = Timestamp::now().micros();
        for ((owner, status), indexes) in delivered {
            for chunk in indexes.chunks(IN_LIST_CHUNK) {
                let ids: Vec<String> = chunk
                    .iter()
                    .map(|&i| finished[i].claim.id.to_string())
                    .collect();
                let padded = padded_in_list(&ids);
                let sql = format!(
                    "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, \
                     next_attempt_at = $1, lease_owner = NULL, lease_until = NULL, last_status = $2, \
                     last_error = NULL, updated_at = $1, delivered_at = $1 \
                     WHERE lease_owner = $3 AND id IN ({}) RETURNING id",
                    placeholders(4, padded.len())
                );
                let mut query = sqlx::query(&sql)
                    .bind(now)
                    .bind(status.map(i64::from))
                    .bind(owner);
                for id in &padded {
                    query = query.bind(id);
                }
                let closed = query
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|row| row.try_get::<String, _>("id"))
                    .collect::<std::result::Result<HashSet<String>, _>>()?;
                for (&index, id) in chunk.iter().zip(&ids) {
                    if closed.contains(id) {
                        recorded[index] = true;
                        attempts_to_insert.push(index);
                    }
                }
            }
        }
        insert_attempts(&mut tx, finished, &attempts_to_insert).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    /// Gives claimed deliveries back untouched (the dispatcher is shutting down, or could not
    /// load their destination), so they are picked up again at once.
    pub async fn release_deliveries(&self, claims: &[ClaimedDelivery]) -> Result<()> {
        // One owner per dispatcher; group anyway so a mixed slice stays correct.
        let mut by_owner: HashMap<&str, Vec<String>> = HashMap::new();
        for claim in claims {
            by_owner
                .entry(claim.lease_owner.as_str())
                .or_default()
                .push(claim.id.to_string());
        }
        for (owner, ids) in by_owner {
            let sql = format!(
                "UPDATE webhook_deliveries SET lease_owner = NULL, lease_until = NULL, next_attempt_at = $2 \
                 WHERE lease_owner = $1 AND id IN ({})",
                placeholders(3, ids.len())
            );
            let mut query = sqlx::query(&sql)
                .bind(owner)
                .bind(Timestamp::now().micros());
            for id in &ids {
                query = query.bind(id);
            }
            query.execute(&self.db.write).await?;
        }
        Ok(())
    }

    /// One page of a session's deliveries (newest first) and the total.
    pub async fn session_deliveries(
        &self,
        app: ApplicationId,
        session: SessionId,
        limit: i64,
        offset: i64,
    ) -> Result<(i64, Vec<DeliveryLog>)> {
        let count = self
            .count_session_rows("webhook_deliveries", app, session)
            .await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM webhook_deliveries WHERE session_id = $1 AND application_id = $2 \
             ORDER BY created_at DESC, id LIMIT $3 OFFSET $4",
        )
        .bind(session.to_string())
        .bind(app.to_string())
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.db.read)
        .await?;
        let mut logs = Vec::with_capacity(ids.len());
        for id in ids {
            let id = DeliveryId::parse(&id).ok_or_else(|| corrupt("delivery id", &id))?;
            logs.push(self.session_delivery(app, session, id).await?);
        }
        Ok((count, logs))
    }

    /// One delivery of a session with every attempt; a delivery of another session is `NotFound`.
    pub async fn session_delivery(
        &self,
        app: ApplicationId,
        session: SessionId,
        id: DeliveryId,
    ) -> Result<DeliveryLog> {
        let row = sqlx::query(
            "SELECT id, event_id, destination_id, session_id, webhook_type, state, attempts, next_attempt_at, \
             last_status, last_error, created_at, delivered_at FROM webhook_deliveries \
             WHERE id = $1 AND session_id = $2 AND application_id = $3",
        )
        .bind(id.to_string())
        .bind(session.to_string())
        .bind(app.to_string())
        .fetch_optional(&self.db.read)
        .await?
        .ok_or_else(not_found)?;
        let attempts = sqlx::query(
            "SELECT attempt_no, url, request_headers, request_body, response_status, response_body, \
             response_truncated, duration_ms, verdict, error, created_at FROM webhook_attempts \
             WHERE delivery_id = $1 ORDER BY attempt_no",
        )
        .bind(id.to_string())
        .fetch_all(&self.db.read)
        .await?
        .iter()
        .map(|a| {
            Ok(StoredAttempt {
                attempt_no: a.try_get("attempt_no")?,
                url: a.try_get("url")?,
                request_headers: a.try_get("request_headers")?,
                request_body: a.try_get("request_body")?,
                response_status: a.try_get("response_status")?,
                response_body: a.try_get("response_body")?,
                response_truncated: a.try_get::<i64, _>("response_truncated")? != 0,
                duration_ms: a.try_get("duration_ms")?,
                verdict: a.try_get("verdict")?,
                error: a.try_get("error")?,
                created_at: Timestamp::from_micros(a.try_get("created_at")?),
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let event: String = row.try_get("event_id")?;
        let destination: String = row.try_get("destination_id")?;
        let delivered_at: Option<i64> = row.try_get("delivered_at")?;
        Ok(DeliveryLog {
            id,
            event_id: uuid::Uuid::parse_str(&event).map_err(|_| corrupt("event id", &event))?,
            destination_id: DestinationId::parse(&destination)
                .ok_or_else(|| corrupt("destination", &destination))?,
            session_id: Some(session),
            webhook_type: row.try_get("webhook_type")?,
            state: row.try_get("state")?,
            attempts: row.try_get("attempts")?,
            next_attempt_at: Timestamp::from_micros(row.try_get("next_attempt_at")?),
            last_status: row.try_get("last_status")?,
            last_error: row.try_get("last_error")?,
            created_at: Timestamp::from_micros(row.try_get("created_at")?),
            delivered_at: delivered_at.map(Timestamp::from_micros),
            attempt_log: attempts,
        })
    }

    /// Manual resend: the delivery becomes due now with the same `event_id` and payload; its
    /// earlier attempts stay in the log.
    pub async fn resend_delivery(
        &self,
        app: ApplicationId,
        session: SessionId,
        id: DeliveryId,
    ) -> Result<DeliveryLog> {
        self.session_delivery(app, session, id).await?;
        let now = Timestamp::now().micros();
        // A delivered delivery's body lives in its last attempt: resend exactly that.
        sqlx::query(
            "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $1, lease_owner = NULL, \
             lease_until = NULL, updated_at = $1, payload = COALESCE(payload, (SELECT a.request_body \
             FROM webhook_attempts a WHERE a.delivery_id = webhook_deliveries.id \
             ORDER BY a.attempt_no DESC LIMIT 1)) WHERE id = $2 AND application_id = $3",
        )
        .bind(now)
        .bind(id.to_string())
        .bind(app.to_string())
        .execute(&self.db.write)
        .await?;
        self.outbox.notify_one();
        self.session_delivery(app, session, id).await
    }
}

const ATTEMPT_COLUMNS: usize = 13;
const DELIVERY_COLUMNS: usize = 11;

/// A pending delivery the fan-out creates: one per event and subscribed destination.
struct NewDelivery {
    event_id: String,
    application_id: String,
    destination_id: String,
    session_id: String,
    webhook_type: String,
}

/// Inserts the attempt rows of `finished[indexes]`, several rows per statement.
async fn insert_attempts(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    finished: &[FinishedAttempt],
    indexes: &[usize],
) -> Result<()> {
    for chunk in insert_chunks(indexes) {
        let sql = format!(
            "INSERT INTO webhook_attempts (id, delivery_id, attempt_no, url, request_headers, request_body, \
             response_status, response_body, response_truncated, duration_ms, verdict, error, created_at) \
             VALUES {}",
            values_rows(chunk.len(), ATTEMPT_COLUMNS)
        );
        let mut query = sqlx::query(&sql);
        for &index in chunk {
            let FinishedAttempt { claim, attempt, .. } = &finished[index];
            let headers: Map<String, Value> = attempt
                .request_headers
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                .collect();
            // Time-ordered for the same reason as delivery ids.
            query = query
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(claim.id.to_string())
                .bind(claim.attempts + 1)
                .bind(attempt.url.clone())
                .bind(Value::Object(headers).to_string())
                .bind(attempt.request_body.clone())
                .bind(attempt.response_status.map(i64::from))
                .bind(attempt.response_body.clone())
                .bind(attempt.response_truncated as i64)
                .bind(attempt.duration_ms)
                .bind(attempt.verdict)
                .bind(attempt.error.clone())
                .bind(attempt.created_at.micros());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

async fn delete_destination_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: DestinationId,
) -> Result<()> {
    sqlx::query(
        "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE destination_id = $1)",
    )
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM webhook_deliveries WHERE destination_id = $1")
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM webhook_destinations WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Removes a deleted session's deliveries and their log (request bodies hold personal data).
pub(crate) async fn delete_session_deliveries(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    session: SessionId,
) -> Result<()> {
    sqlx::query(
        "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE session_id = $1)",
    )
    .bind(session.to_string())
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM webhook_deliveries WHERE session_id = $1")
        .bind(session.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
