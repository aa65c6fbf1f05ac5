//! The worker loop: claim jobs (leased), run each job's remaining nodes in workflow order,
//! write every node's result together with the job's progress, then decide the session.

use crate::evaluate::{judge, Context};
use crate::runner::{Engines, NodeInput, NodeRunner, TamperedInput};
use crate::sandbox::SandboxRunner;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use verity_domain::decision::FeatureResult;
use verity_domain::rules;
use verity_domain::session::Environment;
use verity_domain::status::SessionStatus;
use verity_domain::workflow::{Feature, WorkflowFeature};
use verity_domain::Timestamp;
use verity_store::{ClaimedJob, NodeWrite, Store};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Jobs processed at once by this process.
    pub concurrency: usize,
    /// How often the queue is polled for other processes' submits and expired leases.
    pub poll_interval: Duration,
    /// How long a claim lasts without progress; each finished node extends it.
    pub lease: Duration,
    /// Base of the API's absolute URLs (image URLs in payloads).
    pub public_url: String,
    /// Simulated engine latency per sandbox node (zero by default): lets a sandbox show the
    /// processing screen, and lets tests kill a server mid-job.
    pub sandbox_delay: Duration,
}

#[derive(Clone)]
pub struct Worker {
    store: Store,
    engines: Arc<Engines>,
    config: WorkerConfig,
    owner: String,
}

/// How a job run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnd {
    Decided,
    /// A live node has no engine in this deployment.
    Parked(Feature),
    /// Another worker holds the job now; this one wrote nothing more.
    LeaseLost,
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

impl Worker {
    pub fn new(store: Store, engines: Engines, config: WorkerConfig) -> Self {
        Self {
            store,
            engines: Arc::new(engines),
            config,
            owner: format!("pipeline-{}", uuid::Uuid::new_v4()),
        }
    }

    /// Runs until `stop` turns true, then waits for the jobs in flight (graceful shutdown).
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        match self
            .store
            .requeue_waiting(&self.engines.available_features())
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "resumed jobs that waited for an engine"),
            Err(error) => tracing::warn!(%error, "could not resume parked jobs"),
        }
        let slots = Arc::new(Semaphore::new(self.config.concurrency.max(1)));
        let mut tasks = JoinSet::new();
        loop {
            let free = slots.available_permits();
            if free > 0 {
                let now = Timestamp::now();
                let until = now.plus_micros(micros(self.config.lease));
                match self
                    .store
                    .claim_jobs(&self.owner, now, until, free as i64)
                    .await
                {
                    Ok(jobs) => {
                        for job in jobs {
                            let permit = slots.clone().acquire_owned().await;
                            let worker = self.clone();
                            tasks.spawn(async move {
                                let _permit = permit;
                                worker.process(job).await;
                            });
                        }
                    }
                    Err(error) => tracing::warn!(%error, "claiming processing jobs failed"),
                }
            }
            tokio::select! {
                _ = stop.changed() => break,
                _ = self.store.processing.notified() => {}
                _ = tokio::time::sleep(self.config.poll_interval) => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn process(&self, job: ClaimedJob) {
        match self.run_job(&job).await {
            Ok(JobEnd::Decided) => {}
            Ok(JobEnd::Parked(feature)) => tracing::info!(
                job = %job.id,
                feature = feature.as_str(),
                "job parked: no engine for this step in this deployment"
            ),
            Ok(JobEnd::LeaseLost) => {
                tracing::warn!(job = %job.id, "lease lost; another worker continues")
            }
            Err(error) if error.downcast_ref::<TamperedInput>().is_some() => {
                // Fail closed: no verdict is made on evidence that changed after submit; a
                // person looks at the case.
                tracing::error!(job = %job.id, error = %format!("{error:#}"), "a bound input changed after submit; the session goes to review");
                let total_ms =
                    (Timestamp::now().micros() - job.submitted_at.micros()) as f64 / 1000.0;
                if let Err(error) = self
                    .store
                    .finish_job(&job, SessionStatus::InReview, total_ms)
                    .await
                {
                    tracing::warn!(%error, "could not finish a job whose inputs changed");
                }
            }
            Err(error) => {
                let backoff = 2i64
                    .saturating_pow(job.attempts.clamp(0, 8) as u32)
                    .min(300);
                tracing::warn!(job = %job.id, attempts = job.attempts, error = %format!("{error:#}"), "job failed; retrying later");
                let retry_at = Timestamp::now().plus_seconds(backoff);
                if let Err(error) = self
                    .store
                    .release_job(&job, &format!("{error:#}"), retry_at)
                    .await
                {
                    tracing::warn!(%error, "could not release a failed job");
                }
            }
        }
        // Another job may be waiting for this slot.
        self.store.processing.notify_one();
    }

    /// Runs one claimed job to its end. Public for tests and benchmarks.
    pub async fn run_job(&self, job: &ClaimedJob) -> anyhow::Result<JobEnd> {
        let store = &self.store;
        let session = store.session(job.application_id, job.session_id).await?;
        let settings = store
            .pinned_workflow(job.application_id, session.workflow_version_id)
            .await?;
        let bound = match &job.inputs {
            Some(inputs) => inputs.clone(),
            // Enqueued before submit bound its inputs: the session's uploads are refused while
            // the job is open, so its current media are frozen from here on.
            None => store.media_inputs(session.id).await?,
        };
        let device_info = store.device_info(session.id).await?;
        let mut results = store.feature_results(&session).await?;
        let media_base = format!(
            "{}/v3/session/{}/media",
            self.config.public_url.trim_end_matches('/'),
            session.id
        );
        let sandbox = SandboxRunner;
        let mut done = job.done_nodes.clone();
        for node_id in job.nodes.iter().filter(|id| !job.done_nodes.contains(id)) {
            let node = settings.node(node_id).cloned().or_else(|| {
                // A node of the session that the pinned settings lack (cannot happen for
                // sessions created by this server): run it with the default config.
                session
                    .nodes
                    .iter()
                    .find(|n| &n.node_id == node_id)
                    .map(|n| WorkflowFeature {
                        feature: n.feature,
                        node_id: n.node_id.clone(),
                        label: None,
                        config: n
                            .feature
                            .default_config()
                            .as_object()
                            .cloned()
                            .unwrap_or_default(),
                    })
            });
            let Some(node) = node else {
                anyhow::bail!("node {node_id} is not part of the session's workflow");
            };
            let runner: &dyn NodeRunner = match session.environment {
                Environment::Sandbox => &sandbox,
                Environment::Live => match self.engines.get(node.feature) {
                    Some(engine) if engine.available() => engine.as_ref(),
                    _ => {
                        return Ok(if store.park_job(job, node.feature).await? {
                            JobEnd::Parked(node.feature)
                        } else {
                            JobEnd::LeaseLost
                        });
                    }
                },
            };
            let started = Instant::now();
            let input = NodeInput {
                session: &session,
                node: &node,
                bound: &bound,
                prior: &results,
                media: &store.media,
                device_info: device_info.as_ref(),
                media_base: &media_base,
            };
            if session.environment == Environment::Sandbox && !self.config.sandbox_delay.is_zero() {
                tokio::time::sleep(self.config.sandbox_delay).await;
            }
            let output = runner.run(&input).await?;
            let digest = (node.feature == verity_domain::workflow::Feature::Ocr)
                .then(|| document_identity(&output.payload))
                .flatten()
                .map(|(country, kind, number)| {
                    (
                        country.clone(),
                        store.document_digest(session.application_id, &country, &kind, &number),
                    )
                });
            let duplicate = match &digest {
                Some((_, digest)) => {
                    store
                        .duplicate_document(session.application_id, session.id, digest)
                        .await?
                }
                None => None,
            };
            let id_document = results
                .iter()
                .find(|r| r.feature == Feature::Ocr)
                .map(|r| r.payload.clone());
            let context = Context {
                expected_details: session.expected_details.as_ref(),
                today: time::OffsetDateTime::now_utc().date(),
                duplicate_of: duplicate.as_deref(),
                id_document: id_document.as_ref(),
            };
            let result = judge(&node, output, &context);
            let processing_ms = started.elapsed().as_secs_f64() * 1000.0;
            done.push(node_id.clone());
            let write = NodeWrite {
                result: result.clone(),
                processing_ms,
                country: digest.as_ref().map(|(country, _)| country.clone()),
                document_digest: digest.map(|(_, d)| d),
            };
            let until = Timestamp::now().plus_micros(micros(self.config.lease));
            if !store.record_node(job, &done, &write, until).await? {
                return Ok(JobEnd::LeaseLost);
            }
            replace_result(&mut results, result);
        }
        let statuses = session
            .nodes
            .iter()
            .filter_map(|n| results.iter().find(|r| r.node_id == n.node_id))
            .map(|r| r.status);
        let outcome = rules::session_status(statuses)
            .ok_or_else(|| anyhow::anyhow!("the session's workflow has no node to decide on"))?;
        let total_ms = (Timestamp::now().micros() - job.submitted_at.micros()) as f64 / 1000.0;
        Ok(if store.finish_job(job, outcome, total_ms).await? {
            JobEnd::Decided
        } else {
            JobEnd::LeaseLost
        })
    }
}

fn replace_result(results: &mut Vec<FeatureResult>, result: FeatureResult) {
    match results.iter_mut().find(|r| r.node_id == result.node_id) {
        Some(slot) => *slot = result,
        None => results.push(result),
    }
}

/// (issuing state, document type, number) of an identity-document payload, if all are known.
fn document_identity(
    payload: &serde_json::Map<String, serde_json::Value>,
) -> Option<(String, String, String)> {
    let text = |key: &str| payload.get(key)?.as_str().map(str::to_owned);
    Some((
        text("issuing_state")?,
        text("document_type")?,
        text("document_number")?,
    ))
}
