//! The durable dispatcher: fans committed session events out to destinations, leases due
//! deliveries, signs and POSTs them, and records every attempt.
//!
//! Guarantees (see `verity_store::webhooks` for the storage half):
//! - at-least-once: an event exists only if its change committed, and a delivery leaves the
//!   `pending` state only when an attempt's outcome is recorded; a process killed mid-delivery
//!   loses its lease and the delivery is taken over after `lease`;
//! - several processes can share one PostgreSQL: claims use `FOR UPDATE SKIP LOCKED`, and a late
//!   record from a process whose lease expired is ignored;
//! - a slow receiver cannot hold up the others: at most `per_destination` of the `concurrency`
//!   in-flight deliveries go to one destination.

use crate::delivery::{DeliveryAttempt, DeliveryClient, DeliveryOutcome, FailureKind, Verdict};
use crate::payload::{carries_decision, session_payload, SessionEvent, RESUBMITTED};
use crate::retry::RetrySchedule;
use crate::sign::{sign_attempt, SignOptions, SignedPayload, WebhookSecret};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use verity_domain::decision::v3_decision;
use verity_domain::ids::{DestinationId, SessionId};
use verity_domain::legacy::{v1_decision, v2_decision};
use verity_domain::webhook::{EventType, WebhookVersion};
use verity_domain::Timestamp;
use verity_store::{AttemptRecord, ClaimedDelivery, Destination, NextStep, SigningKeys, Store};

/// How the dispatcher behaves; the server builds it from its configuration.
#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    pub schedule: RetrySchedule,
    /// Deliveries in flight in this process.
    pub concurrency: usize,
    /// Of those, at most this many to one destination.
    pub per_destination: usize,
    /// How often the outbox is polled when nothing in this process signalled (other processes'
    /// changes, due retries).
    pub poll_interval: Duration,
    /// How long a claim lasts; longer than the delivery timeout.
    pub lease: Duration,
    /// Base of the `session_url` in decisions.
    pub public_url: String,
}

pub struct Dispatcher {
    store: Store,
    client: DeliveryClient,
    config: Arc<DispatcherConfig>,
    /// Identifies this process's leases.
    owner: String,
}

const FAN_OUT_BATCH: i64 = 256;

impl Dispatcher {
    pub fn new(store: Store, client: DeliveryClient, config: DispatcherConfig) -> Self {
        Self {
            store,
            client,
            config: Arc::new(config),
            owner: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// Runs until `stop` flips, then lets the deliveries in flight finish (each is bounded by the
    /// client's timeout) so that none is left leased.
    pub async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut tasks: JoinSet<DestinationId> = JoinSet::new();
        let mut busy: HashMap<DestinationId, usize> = HashMap::new();
        loop {
            let mut more = false;
            match self.store.fan_out_events(FAN_OUT_BATCH).await {
                Ok(n) => more |= n as i64 == FAN_OUT_BATCH,
                Err(error) => tracing::warn!(error = %error, "webhook fan-out failed"),
            }
            let free = self.config.concurrency.saturating_sub(tasks.len());
            if free > 0 {
                match self.claim(free, &busy).await {
                    Ok(claims) => {
                        more |= claims.len() == free;
                        for claim in claims {
                            let count = busy.entry(claim.destination_id).or_default();
                            if *count >= self.config.per_destination {
                                if let Err(error) = self.store.release_delivery(&claim).await {
                                    tracing::warn!(error = %error, "releasing a delivery failed");
                                }
                                continue;
                            }
                            *count += 1;
                            tasks.spawn(deliver(
                                self.store.clone(),
                                self.client.clone(),
                                self.config.clone(),
                                claim,
                            ));
                        }
                    }
                    Err(error) => {
                        tracing::warn!(error = %error, "claiming webhook deliveries failed")
                    }
                }
            }
            let pause = if more && tasks.len() < self.config.concurrency {
                Duration::ZERO
            } else {
                self.config.poll_interval
            };
            tokio::select! {
                _ = self.store.outbox.notified() => {}
                Some(done) = tasks.join_next(), if !tasks.is_empty() => finished(&mut busy, done),
                _ = tokio::time::sleep(pause) => {}
                _ = stop.changed() => break,
            }
            while let Some(done) = tasks.try_join_next() {
                finished(&mut busy, done);
            }
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn claim(
        &self,
        limit: usize,
        busy: &HashMap<DestinationId, usize>,
    ) -> verity_store::Result<Vec<ClaimedDelivery>> {
        let skip: Vec<DestinationId> = busy
            .iter()
            .filter(|(_, n)| **n >= self.config.per_destination)
            .map(|(d, _)| *d)
            .collect();
        let now = Timestamp::now();
        let lease_until =
            Timestamp::from_micros(now.micros() + self.config.lease.as_micros() as i64);
        self.store
            .claim_deliveries(&self.owner, now, lease_until, limit as i64, &skip)
            .await
    }
}

fn finished(
    busy: &mut HashMap<DestinationId, usize>,
    done: Result<DestinationId, tokio::task::JoinError>,
) {
    match done {
        Ok(destination) => {
            if let Some(count) = busy.get_mut(&destination) {
                *count -= 1;
                if *count == 0 {
                    busy.remove(&destination);
                }
            }
        }
        // A panicking delivery keeps its slot counted; its lease expires and another pass retries.
        Err(error) => tracing::error!(error = %error, "webhook delivery task failed"),
    }
}

async fn deliver(
    store: Store,
    client: DeliveryClient,
    config: Arc<DispatcherConfig>,
    claim: ClaimedDelivery,
) -> DestinationId {
    if let Err(error) = attempt(&store, &client, &config, &claim).await {
        tracing::warn!(error = %error, delivery = %claim.id, "webhook attempt not recorded");
        if let Err(error) = store.release_delivery(&claim).await {
            tracing::warn!(error = %error, "releasing a delivery failed");
        }
    }
    claim.destination_id
}

fn is_not_found(error: &verity_store::Error) -> bool {
    matches!(
        error,
        verity_store::Error::Domain(verity_domain::Error::NotFound)
    )
}

async fn attempt(
    store: &Store,
    client: &DeliveryClient,
    config: &DispatcherConfig,
    claim: &ClaimedDelivery,
) -> verity_store::Result<()> {
    let destination = store
        .destination(claim.application_id, claim.destination_id)
        .await?;
    let payload_text = match &claim.payload {
        Some(text) => text.clone(),
        None => match build_session_payload(store, &config.public_url, claim, &destination).await {
            Ok(payload) => serde_json::to_string(&payload)?,
            // The session was deleted after the event: its deliveries went with it.
            Err(error) if is_not_found(&error) => return Ok(()),
            Err(error) => return Err(error),
        },
    };
    let payload: Value = serde_json::from_str(&payload_text)?;
    let keys = store.signing_keys(&destination).await?;
    let now = Timestamp::now();
    let signed = sign_with_keys(
        &keys,
        &payload,
        now.unix_seconds(),
        destination
            .standard_webhooks
            .then(|| claim.event_id.to_string()),
    );
    let outcome = client
        .deliver(DeliveryAttempt {
            url: &destination.url,
            payload: &signed,
            test_webhook: false,
        })
        .await;
    let attempt_no = claim.attempts as u32 + 1;
    let next = match outcome.verdict {
        Verdict::Delivered => NextStep::Delivered,
        Verdict::Retry { after } => match config.schedule.next_delay_random(attempt_no, after) {
            Some(delay) => NextStep::RetryAt(Timestamp::from_micros(
                Timestamp::now().micros() + delay.as_micros() as i64,
            )),
            None => NextStep::Failed,
        },
        Verdict::Disable => {
            NextStep::DisableDestination("The receiver answered 410 Gone.".to_owned())
        }
        Verdict::GiveUp => NextStep::Failed,
    };
    let record = attempt_record(&destination.url, &signed, &outcome, now);
    if !store
        .record_attempt(claim, &payload_text, &record, &next)
        .await?
    {
        tracing::info!(delivery = %claim.id, "lease lost before the attempt was recorded");
    }
    Ok(())
}

/// Signs for one attempt. During a rotation overlap the Didit headers use the previous secret and
/// `webhook-signature` carries both (Standard Webhooks allows several, space-separated).
pub fn sign_with_keys(
    keys: &SigningKeys,
    payload: &Value,
    timestamp: i64,
    standard_webhooks_id: Option<String>,
) -> SignedPayload {
    let options = SignOptions {
        standard_webhooks_id,
    };
    let primary = keys.previous.as_deref().unwrap_or(&keys.current);
    let mut signed = sign_attempt(&WebhookSecret::new(primary), payload, timestamp, &options);
    if keys.previous.is_some() && options.standard_webhooks_id.is_some() {
        let next = sign_attempt(
            &WebhookSecret::new(keys.current.as_str()),
            payload,
            timestamp,
            &options,
        );
        if let (Some(old), Some(new)) = (signed.headers.standard.as_mut(), next.headers.standard) {
            old.signature = format!("{} {}", new.signature, old.signature);
        }
    }
    signed
}

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Delivered => "delivered",
        Verdict::Retry { .. } => "retry",
        Verdict::Disable => "disable",
        Verdict::GiveUp => "give_up",
    }
}

fn describe_failure(failure: &FailureKind) -> String {
    match failure {
        FailureKind::Timeout => "timed out".to_owned(),
        FailureKind::Connect(detail) => format!("connection failed: {detail}"),
        FailureKind::Forbidden(detail) => format!("target refused: {detail}"),
        FailureKind::Other(detail) => detail.clone(),
    }
}

/// What the delivery log keeps of one attempt.
pub fn attempt_record(
    url: &str,
    signed: &SignedPayload,
    outcome: &DeliveryOutcome,
    at: Timestamp,
) -> AttemptRecord {
    AttemptRecord {
        url: url.to_owned(),
        request_headers: outcome.request_headers.clone(),
        request_body: String::from_utf8_lossy(&signed.body).into_owned(),
        response_status: outcome.status,
        response_body: outcome.response_body.clone(),
        response_truncated: outcome.response_truncated,
        duration_ms: outcome.duration.as_secs_f64() * 1000.0,
        verdict: verdict_name(outcome.verdict),
        error: outcome.failure.as_ref().map(describe_failure),
        created_at: at,
    }
}

/// The session envelope of a delivery, in its destination's version. The envelope's `status` is
/// the event's; `decision` (Approved, Declined, In Review, Abandoned) is built when the first
/// attempt is made and then kept, so every retry carries the same content.
async fn build_session_payload(
    store: &Store,
    public_url: &str,
    claim: &ClaimedDelivery,
    destination: &Destination,
) -> verity_store::Result<Value> {
    let session_id: SessionId = claim
        .session_id
        .ok_or(verity_store::Error::Domain(verity_domain::Error::NotFound))?;
    let session = store.session(claim.application_id, session_id).await?;
    let event = store.outbox_event(claim.event_id).await?;
    let status = event
        .status
        .unwrap_or_else(|| session.status.as_str().to_owned());
    let decision = if carries_decision(&status) {
        let results = store.feature_results(&session).await?;
        let reviews = store
            .decision_reviews(claim.application_id, session_id)
            .await?;
        let build = match destination.webhook_version {
            WebhookVersion::V1 => v1_decision,
            WebhookVersion::V2 => v2_decision,
            WebhookVersion::V3 => v3_decision,
        };
        Some(build(&session, &results, &reviews, public_url))
    } else {
        None
    };
    let webhook_type = claim
        .webhook_type
        .parse()
        .unwrap_or(EventType::StatusUpdated);
    let event = SessionEvent {
        event_id: claim.event_id.to_string(),
        webhook_type,
        timestamp: Timestamp::now().unix_seconds(),
        created_at: event.created_at.unix_seconds(),
        application_id: claim.application_id.to_string(),
        environment: session.environment.as_str().to_owned(),
        session_id: session_id.to_string(),
        resubmit_info: (status == RESUBMITTED).then_some(event.data).flatten(),
        status,
        workflow_id: Some(session.workflow_id.to_string()),
        workflow_version: Some(session.workflow_version),
        vendor_data: session.vendor_data.clone(),
        metadata: session.metadata.clone(),
        decision,
        kyb: None,
    };
    Ok(session_payload(destination.webhook_version, &event))
}

/// The canned payload of a test delivery ("Try Webhook"): a session envelope for a session that
/// does not exist, with the given status and a minimal decision, marked by the
/// `X-Didit-Test-Webhook: true` header when sent.
pub fn test_payload(
    application_id: &str,
    environment: &str,
    version: WebhookVersion,
    status: &str,
) -> Value {
    let session_id = uuid::Uuid::new_v4().to_string();
    let now = Timestamp::now().unix_seconds();
    let decision = carries_decision(status).then(|| {
        json!({
            "session_id": session_id,
            "session_number": 0,
            "status": status,
            "vendor_data": "verity-test-webhook",
            "features": [],
            "reviews": [],
        })
    });
    let event = SessionEvent {
        event_id: uuid::Uuid::new_v4().to_string(),
        webhook_type: EventType::StatusUpdated,
        timestamp: now,
        created_at: now,
        application_id: application_id.to_owned(),
        environment: environment.to_owned(),
        session_id,
        status: status.to_owned(),
        workflow_id: None,
        workflow_version: None,
        vendor_data: Some("verity-test-webhook".to_owned()),
        metadata: None,
        resubmit_info: (status == RESUBMITTED)
            .then(|| json!({"nodes_to_resubmit": [], "reasons": {}})),
        decision,
        kyb: None,
    };
    session_payload(version, &event)
}
