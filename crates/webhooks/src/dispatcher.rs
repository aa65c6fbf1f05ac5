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
use crate::held::Held;
use crate::payload::{carries_decision, session_payload, SessionEvent, RESUBMITTED};
use crate::retry::RetrySchedule;
use crate::sign::{sign_attempt, SignOptions, SignedPayload, WebhookSecret};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use verity_domain::decision::v3_decision;
use verity_domain::ids::{DestinationId, SessionId};
use verity_domain::legacy::{v1_decision, v2_decision};
use verity_domain::webhook::{EventType, WebhookVersion};
use verity_domain::Timestamp;
use verity_store::{
    AttemptRecord, ClaimedDelivery, Destination, DestinationCapacity, FinishedAttempt, NextStep,
    PayloadSources, SigningKeys, Store,
};

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
    /// The delivery client's timeout per attempt; claims are leased for long enough to cover the
    /// deliveries held ahead of it.
    pub delivery_timeout: Duration,
    /// Base of the `session_url` in decisions.
    pub public_url: String,
}

pub struct Dispatcher {
    store: Store,
    client: DeliveryClient,
    config: DispatcherConfig,
    /// Identifies this process's leases.
    owner: String,
}

const FAN_OUT_BATCH: i64 = 256;
/// A dispatcher holds up to this many rounds of deliveries per slot (one in flight, the rest
/// ready), so the last one held waits at most `HELD_ROUNDS - 1` delivery timeouts before it is
/// sent; its lease covers that and its own attempt.
const HELD_ROUNDS: usize = 4;
/// Deliveries per claim at most: larger claims save little and scan more candidates.
const CLAIM_MAX: usize = 128;
/// Lease time beyond the held rounds and the attempt, for recording it.
const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// Attempts recorded per transaction at most.
const RECORD_BATCH: usize = 512;
/// How long the recorder waits for more attempts to write together.
const RECORD_LINGER: Duration = Duration::from_millis(2);

/// A destination and its signing keys, loaded once per claim for all its deliveries.
struct Target {
    destination: Destination,
    keys: SigningKeys,
}

/// A claimed delivery with what it is built and sent from.
struct Prepared {
    target: Arc<Target>,
    sources: Arc<PayloadSources>,
    claim: ClaimedDelivery,
}

/// The outcome of one claim; `full` when the claim's limit cut it short (more may be due).
#[derive(Default)]
struct Claimed {
    deliveries: Vec<Prepared>,
    full: bool,
}

impl Dispatcher {
    pub fn new(store: Store, client: DeliveryClient, config: DispatcherConfig) -> Self {
        Self {
            store,
            client,
            config,
            owner: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// Runs until `stop` flips, then gives back the deliveries it holds but has not started, lets
    /// those in flight finish (each is bounded by the client's timeout) and records them, so that
    /// none is left leased.
    pub async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let this = Arc::new(self);
        let (record, finished_attempts) = mpsc::channel(RECORD_BATCH * 2);
        let recorder = tokio::spawn(record_attempts(this.store.clone(), finished_attempts));
        let claim_wake = Arc::new(tokio::sync::Notify::new());
        let fan_out = tokio::spawn(fan_out_events(
            this.store.clone(),
            this.config.poll_interval,
            claim_wake.clone(),
            stop.clone(),
        ));
        let per_destination = this.config.per_destination;
        let hold_total = this.config.concurrency * HELD_ROUNDS;
        let mut held: Held<Prepared> = Held::new(per_destination, per_destination * HELD_ROUNDS);
        let mut tasks: JoinSet<DestinationId> = JoinSet::new();
        let mut claiming: Option<JoinHandle<(DestinationCapacity, Claimed)>> = None;
        // New events and the poll (due retries, other processes' events) ask for a claim; so do
        // a destination that has sent half of what it holds, and, after a claim that was cut
        // short by its limit, half of all the room coming free.
        let mut claim_due = true;
        let mut backlog = false;
        let mut next_poll = Instant::now() + this.config.poll_interval;
        loop {
            while held.in_flight() < this.config.concurrency {
                let Some(prepared) = held.start_next() else {
                    break;
                };
                tasks.spawn(deliver(this.clone(), prepared, record.clone()));
            }
            let free = hold_total.saturating_sub(held.held());
            if claiming.is_none()
                && free > 0
                && (claim_due || held.take_refill_due() || (backlog && free >= hold_total / 2))
            {
                let room = free.min(CLAIM_MAX);
                claim_due = false;
                next_poll = Instant::now() + this.config.poll_interval;
                let (this, capacity) = (this.clone(), held.capacity());
                claiming = Some(tokio::spawn(async move {
                    let claimed = this.claim(room, &capacity).await;
                    (capacity, claimed)
                }));
            }
            tokio::select! {
                _ = claim_wake.notified() => claim_due = true,
                Some(done) = tasks.join_next(), if !tasks.is_empty() => finished(&mut held, done),
                claimed = async { claiming.as_mut().expect("guarded").await }, if claiming.is_some() => {
                    claiming = None;
                    if let Ok((capacity, claimed)) = claimed {
                        backlog = claimed.full;
                        held.accept_claim(&capacity, claimed.deliveries.into_iter().map(|p| (p.claim.destination_id, p)));
                    }
                }
                _ = tokio::time::sleep_until(next_poll.into()) => claim_due = true,
                _ = stop.changed() => break,
            }
            while let Some(done) = tasks.try_join_next() {
                finished(&mut held, done);
            }
        }
        if let Some(claim) = claiming {
            if let Ok((_, claimed)) = claim.await {
                for prepared in claimed.deliveries {
                    held.push(prepared.claim.destination_id, prepared);
                }
            }
        }
        let unsent: Vec<ClaimedDelivery> =
            held.drain_ready().into_iter().map(|p| p.claim).collect();
        if let Err(error) = this.store.release_deliveries(&unsent).await {
            tracing::warn!(error = %error, "releasing deliveries failed");
        }
        while tasks.join_next().await.is_some() {}
        drop(record);
        let _ = recorder.await;
        let _ = fan_out.await;
    }

    /// Leases up to `limit` due deliveries within `capacity`, and reads what their payloads
    /// are built from and their destinations.
    async fn claim(&self, limit: usize, capacity: &DestinationCapacity) -> Claimed {
        let now = Timestamp::now();
        let lease = self.config.delivery_timeout * (HELD_ROUNDS as u32 + 1) + LEASE_MARGIN;
        let lease_until = Timestamp::from_micros(now.micros() + lease.as_micros() as i64);
        let claims = match self
            .store
            .claim_deliveries(&self.owner, now, lease_until, limit as i64, capacity)
            .await
        {
            Ok(claims) => claims,
            Err(error) => {
                tracing::warn!(error = %error, "claiming webhook deliveries failed");
                return Claimed::default();
            }
        };
        let full = claims.len() == limit;
        let (sources, claims) = self.payload_sources(claims).await;
        let mut deliveries = Vec::with_capacity(claims.len());
        for (target, claims) in self.targets(claims).await {
            deliveries.extend(claims.into_iter().map(|claim| Prepared {
                target: target.clone(),
                sources: sources.clone(),
                claim,
            }));
        }
        Claimed { deliveries, full }
    }

    /// Reads what the claims' payloads are built from; if that fails, the claims are given back
    /// for the next pass.
    async fn payload_sources(
        &self,
        claims: Vec<ClaimedDelivery>,
    ) -> (Arc<PayloadSources>, Vec<ClaimedDelivery>) {
        match self.store.payload_sources(&claims).await {
            Ok(sources) => (Arc::new(sources), claims),
            Err(error) => {
                tracing::warn!(error = %error, "reading webhook payload sources failed");
                if let Err(error) = self.store.release_deliveries(&claims).await {
                    tracing::warn!(error = %error, "releasing deliveries failed");
                }
                (Arc::default(), Vec::new())
            }
        }
    }

    /// Groups claims by destination and loads each destination and its keys once. Claims whose
    /// destination cannot be loaded are given back (a deleted destination's deliveries go with
    /// it; anything else is retried on the next pass).
    async fn targets(
        &self,
        claims: Vec<ClaimedDelivery>,
    ) -> Vec<(Arc<Target>, Vec<ClaimedDelivery>)> {
        let mut grouped: HashMap<DestinationId, Vec<ClaimedDelivery>> = HashMap::new();
        for claim in claims {
            grouped.entry(claim.destination_id).or_default().push(claim);
        }
        let mut targets = Vec::with_capacity(grouped.len());
        for (id, claims) in grouped {
            let app = claims[0].application_id;
            let loaded = match self.store.destination(app, id).await {
                Ok(destination) => self
                    .store
                    .signing_keys(&destination)
                    .await
                    .map(|keys| Target { destination, keys }),
                Err(error) => Err(error),
            };
            match loaded {
                Ok(target) => targets.push((Arc::new(target), claims)),
                Err(error) => {
                    tracing::warn!(error = %error, destination = %id, "loading a webhook destination failed");
                    if let Err(error) = self.store.release_deliveries(&claims).await {
                        tracing::warn!(error = %error, "releasing deliveries failed");
                    }
                }
            }
        }
        targets
    }
}

fn finished(held: &mut Held<Prepared>, done: Result<DestinationId, tokio::task::JoinError>) {
    match done {
        Ok(destination) => held.finished(destination),
        // A panicking delivery keeps its slot counted; its lease expires and another pass retries.
        Err(error) => tracing::error!(error = %error, "webhook delivery task failed"),
    }
}

/// Fans committed events out to their destinations' deliveries: at once when this process
/// commits one, by polling for other processes' events, and wakes the claimer after each pass.
async fn fan_out_events(
    store: Store,
    poll_interval: Duration,
    claim_wake: Arc<tokio::sync::Notify>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let more = match store.fan_out_events(FAN_OUT_BATCH).await {
            Ok(n) => n as i64 == FAN_OUT_BATCH,
            Err(error) => {
                tracing::warn!(error = %error, "webhook fan-out failed");
                false
            }
        };
        // Also after an empty pass: a manual resend queues a delivery without an event.
        claim_wake.notify_one();
        if more {
            continue;
        }
        tokio::select! {
            _ = store.outbox.notified() => {}
            _ = tokio::time::sleep(poll_interval) => {}
            _ = stop.changed() => break,
        }
    }
}

/// Records finished attempts in batches: whatever has arrived while the previous batch was
/// being written goes into the next transaction. A delivery stays leased until its attempt is
/// recorded, so no other pass picks it up meanwhile; if the process dies first, the lease expires
/// and the delivery is attempted again (at-least-once).
async fn record_attempts(store: Store, mut finished: mpsc::Receiver<FinishedAttempt>) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while finished.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        // Attempts finish one at a time; lingering briefly turns many small transactions on the
        // single SQLite writer into a few larger ones. Only the log entry waits: the delivery's
        // slot is already free, and it stays leased until recorded.
        let linger = tokio::time::sleep(RECORD_LINGER);
        tokio::pin!(linger);
        while batch.len() < RECORD_BATCH {
            let room = RECORD_BATCH - batch.len();
            tokio::select! {
                received = finished.recv_many(&mut batch, room) => if received == 0 { break },
                _ = &mut linger => break,
            }
        }
        match store.record_attempts(&batch).await {
            Ok(recorded) => {
                for (attempt, kept) in batch.iter().zip(recorded) {
                    if !kept {
                        tracing::info!(delivery = %attempt.claim.id, "lease lost before the attempt was recorded");
                    }
                }
            }
            Err(error) => {
                tracing::warn!(error = %error, attempts = batch.len(), "recording webhook attempts failed; they will be retried")
            }
        }
        batch.clear();
    }
}

async fn deliver(
    dispatcher: Arc<Dispatcher>,
    prepared: Prepared,
    record: mpsc::Sender<FinishedAttempt>,
) -> DestinationId {
    let Dispatcher {
        store,
        client,
        config,
        ..
    } = &*dispatcher;
    let Prepared {
        target,
        sources,
        claim,
    } = prepared;
    let destination_id = claim.destination_id;
    match attempt(store, client, config, &target, &sources, &claim).await {
        Ok(Some((payload, attempt, next))) => {
            let finished = FinishedAttempt {
                claim,
                payload,
                attempt,
                next,
            };
            // The recorder only stops after every delivery task has ended.
            let _ = record.send(finished).await;
        }
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(error = %error, delivery = %claim.id, "webhook attempt failed before sending");
            if let Err(error) = store.release_deliveries(std::slice::from_ref(&claim)).await {
                tracing::warn!(error = %error, "releasing a delivery failed");
            }
        }
    }
    destination_id
}

fn is_not_found(error: &verity_store::Error) -> bool {
    matches!(
        error,
        verity_store::Error::Domain(verity_domain::Error::NotFound)
    )
}

/// Builds (first attempt) or reuses the payload, signs and sends it. `None` when the session
/// was deleted after its event (its deliveries went with it).
async fn attempt(
    store: &Store,
    client: &DeliveryClient,
    config: &DispatcherConfig,
    target: &Target,
    sources: &PayloadSources,
    claim: &ClaimedDelivery,
) -> verity_store::Result<Option<(String, AttemptRecord, NextStep)>> {
    let destination = &target.destination;
    let (payload_text, payload) = match &claim.payload {
        Some(text) => (text.clone(), serde_json::from_str::<Value>(text)?),
        None => match build_session_payload(store, sources, &config.public_url, claim, destination)
            .await
        {
            Ok(payload) => (serde_json::to_string(&payload)?, payload),
            Err(error) if is_not_found(&error) => return Ok(None),
            Err(error) => return Err(error),
        },
    };
    let now = Timestamp::now();
    let signed = sign_with_keys(
        &target.keys,
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
    Ok(Some((payload_text, record, next)))
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
    sources: &PayloadSources,
    public_url: &str,
    claim: &ClaimedDelivery,
    destination: &Destination,
) -> verity_store::Result<Value> {
    let not_found = || verity_store::Error::Domain(verity_domain::Error::NotFound);
    let session_id: SessionId = claim.session_id.ok_or_else(not_found)?;
    let session = sources
        .sessions
        .get(&session_id)
        .filter(|s| s.application_id == claim.application_id)
        .ok_or_else(not_found)?;
    let event = sources
        .events
        .get(&claim.event_id)
        .cloned()
        .ok_or_else(not_found)?;
    let status = event
        .status
        .unwrap_or_else(|| session.status.as_str().to_owned());
    let decision = if carries_decision(&status) {
        let results = store.feature_results(session).await?;
        let reviews = store
            .decision_reviews(claim.application_id, session_id)
            .await?;
        let build = match destination.webhook_version {
            WebhookVersion::V1 => v1_decision,
            WebhookVersion::V2 => v2_decision,
            WebhookVersion::V3 => v3_decision,
        };
        Some(build(session, &results, &reviews, public_url))
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
