//! The AML screening engine in the server (issue 7): the dataset versions this process has
//! installed, the `AML` node runner, the standalone screening used by `POST /v3/aml/`, and the
//! dataset watcher that installs newer versions and runs ongoing monitoring.
//!
//! ```text
//! verity aml import FILE ──▶ media store (raw file) + aml_datasets row (monitoring: pending)
//!                                  │ every process polls (aml.poll_seconds)
//!                                  ▼
//! AmlSync: parse + index off the async threads ──▶ Screener::install (atomic swap: a screening
//!          in flight finishes on the old version)
//!          claim the version's monitoring (lease) ──▶ diff with the previous version, index the
//!          delta, re-screen every monitored session node and standalone check against it
//!          ──tx──▶ new hits + node status + session status (§4.2) + status.updated (outbox)
//! ```
//!
//! Datasets are data, not model files: with none imported the engine exists but is not ready —
//! live AML nodes park (`waiting_for_engine`) and resume when a first version is installed, and
//! `POST /v3/aml/` answers 503.

use crate::runner::{NodeInput, NodeOutput, NodeRunner};
use anyhow::Context as _;
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use verity_aml::{
    diff_datasets, import_ftm_with_progress, import_ofac_sdn_with_progress, screen_indexes,
    AmlScreening, Dataset, DatasetIndex, DatasetMeta, EntityType, ImportProgress, ImportReport,
    Screener, ScreeningConfig, ScreeningRequest,
};
use verity_domain::aml as domain;
use verity_domain::rules::Risk;
use verity_domain::workflow::Feature;
use verity_domain::Timestamp;
use verity_store::{AmlChange, AmlDataset, Store};

/// The two file formats the importer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetFormat {
    /// FollowTheMoney entities, one JSON object per line (OpenSanctions exports).
    Ftm,
    /// The US Treasury's OFAC SDN CSV (`sdn.csv`).
    OfacSdn,
}

impl DatasetFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetFormat::Ftm => "ftm",
            DatasetFormat::OfacSdn => "ofac-sdn",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ftm" => Some(DatasetFormat::Ftm),
            "ofac-sdn" | "ofac" | "sdn" => Some(DatasetFormat::OfacSdn),
            _ => None,
        }
    }

    /// FtM lines start with `{`; the SDN CSV starts with a numeric `ent_num`.
    pub fn detect(bytes: &[u8]) -> Option<Self> {
        let first = bytes
            .iter()
            .copied()
            .find(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF)?;
        match first {
            b'{' => Some(DatasetFormat::Ftm),
            b'0'..=b'9' | b'"' => Some(DatasetFormat::OfacSdn),
            _ => None,
        }
    }
}

/// Parses a dataset file. Every row is imported, skipped for a stated reason, or reported with
/// its line number in the returned report.
pub fn parse_dataset(
    bytes: &[u8],
    format: DatasetFormat,
    name: &str,
    version: &str,
    date: Option<&str>,
    progress: &mut dyn FnMut(ImportProgress),
) -> (Dataset, ImportReport) {
    match format {
        DatasetFormat::Ftm => import_ftm_with_progress(bytes, name, version, date, progress),
        DatasetFormat::OfacSdn => {
            import_ofac_sdn_with_progress(bytes, name, version, date, progress)
        }
    }
}

/// The library's configuration from a workflow node's (or a standalone request's) AML keys;
/// missing keys keep Didit's defaults.
pub fn screening_config(config: &Map<String, Value>) -> ScreeningConfig {
    let mut out = ScreeningConfig::default();
    let number = |key: &str| config.get(key).and_then(Value::as_f64);
    if let Some(v) = number("aml_name_weight") {
        out.aml_name_weight = v;
    }
    if let Some(v) = number("aml_dob_weight") {
        out.aml_dob_weight = v;
    }
    if let Some(v) = number("aml_country_weight") {
        out.aml_country_weight = v;
    }
    if let Some(v) = number("aml_match_score_threshold") {
        out.aml_match_score_threshold = v;
    }
    if let Some(v) = number("aml_score_approve_threshold") {
        out.aml_score_approve_threshold = v;
    }
    if let Some(v) = number("aml_score_review_threshold") {
        out.aml_score_review_threshold = v;
    }
    out
}

/// The stored payload of a screening: the library's current shape (spec §5.10) without the
/// status and warnings (the decision rules set those), with the monitoring fields and the
/// derived `score` / `total_hits` / `v1_hits` (see `verity_domain::aml`).
pub fn result_payload(screening: &AmlScreening, monitored: bool) -> Map<String, Value> {
    let mut payload = match serde_json::to_value(screening) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    payload.remove("status");
    payload.remove("warnings");
    payload.insert("is_ongoing_monitoring_enabled".into(), json!(monitored));
    payload.insert(
        "ongoing_monitoring_last_check".into(),
        if monitored {
            json!(Timestamp::now())
        } else {
            Value::Null
        },
    );
    // Monitoring is not billed in a self-hosted server.
    payload.insert("next_ongoing_monitoring_bill_date".into(), Value::Null);
    domain::refresh(&mut payload);
    payload
}

/// Whether the library could not screen (no dataset, or a name that normalises to nothing).
pub fn could_not_screen(screening: &AmlScreening) -> bool {
    screening
        .warnings
        .iter()
        .any(|w| w.risk == "COULD_NOT_PERFORM_AML_SCREENING")
}

/// The screening request of a stored payload's `screened_data` (for re-screening).
pub fn request_from_payload(payload: &Map<String, Value>) -> Option<ScreeningRequest> {
    let data = payload.get("screened_data")?;
    let text = |key: &str| {
        data.get(key)
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
            .map(str::to_owned)
    };
    Some(ScreeningRequest {
        full_name: text("full_name")?,
        entity_type: match payload.get("entity_type").and_then(Value::as_str) {
            Some("company") => EntityType::Company,
            _ => EntityType::Person,
        },
        date_of_birth: text("date_of_birth"),
        nationality: text("nationality"),
        document_number: text("document_number"),
    })
}

/// The installed dataset versions and their stored rows.
#[derive(Default)]
pub struct AmlEngine {
    screener: Screener,
    rows: Mutex<HashMap<String, AmlDataset>>,
    /// Versions replaced by a newer one whose monitoring has not run yet: the diff needs them.
    retired: Mutex<HashMap<(String, String), Arc<DatasetIndex>>>,
}

impl AmlEngine {
    pub fn new() -> Self {
        Self::default()
    }

    /// At least one dataset version is installed.
    pub fn is_ready(&self) -> bool {
        !self.screener.datasets().is_empty()
    }

    pub fn datasets(&self) -> Vec<DatasetMeta> {
        self.screener.datasets()
    }

    /// The stored rows of the installed versions.
    pub fn installed_rows(&self) -> Vec<AmlDataset> {
        let rows = self.rows.lock().expect("rows lock");
        let mut out: Vec<AmlDataset> = rows.values().cloned().collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    fn installed_version(&self, name: &str) -> Option<String> {
        self.screener
            .dataset(name)
            .map(|i| i.meta().version.clone())
    }

    /// Installs a built index (atomic swap) for its stored row; keeps the replaced version until
    /// the new one's monitoring has compared them.
    pub fn install(&self, row: AmlDataset, index: DatasetIndex) {
        if let Some(old) = self.screener.install(index) {
            let key = (old.meta().name.clone(), old.meta().version.clone());
            self.retired.lock().expect("retired lock").insert(key, old);
        }
        self.rows
            .lock()
            .expect("rows lock")
            .insert(row.name.clone(), row);
    }

    /// Screens on the calling thread (CPU work: call it from a blocking thread).
    pub fn screen(&self, request: &ScreeningRequest, config: &ScreeningConfig) -> AmlScreening {
        self.screener.screen(request, config)
    }

    /// Screens on a blocking thread, off the async runtime.
    pub async fn screen_blocking(
        self: &Arc<Self>,
        request: ScreeningRequest,
        config: ScreeningConfig,
    ) -> anyhow::Result<AmlScreening> {
        let engine = self.clone();
        tokio::task::spawn_blocking(move || engine.screen(&request, &config))
            .await
            .context("AML screening panicked")
    }

    fn index_of(&self, name: &str, version: &str) -> Option<Arc<DatasetIndex>> {
        if let Some(index) = self.screener.dataset(name) {
            if index.meta().version == version {
                return Some(index);
            }
        }
        self.retired
            .lock()
            .expect("retired lock")
            .get(&(name.to_owned(), version.to_owned()))
            .cloned()
    }

    fn forget_retired(&self, name: &str, version: &str) {
        self.retired
            .lock()
            .expect("retired lock")
            .remove(&(name.to_owned(), version.to_owned()));
    }
}

/// The person a session's AML node screens: the identity document's data when an ID
/// verification ran before it, else the session's `expected_details`.
fn session_subject(input: &NodeInput<'_>) -> Option<ScreeningRequest> {
    let text = |value: Option<&Value>, key: &str| {
        value
            .and_then(|v| v.get(key))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    let name_of = |value: Option<&Value>| {
        text(value, "full_name").or_else(|| {
            let parts: Vec<String> = ["first_name", "last_name"]
                .iter()
                .filter_map(|k| text(value, k))
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
    };
    if let Some(document) = input.prior_of(Feature::Ocr) {
        let payload = Value::Object(document.payload.clone());
        if let Some(full_name) = name_of(Some(&payload)) {
            return Some(ScreeningRequest {
                full_name,
                entity_type: EntityType::Person,
                date_of_birth: text(Some(&payload), "date_of_birth"),
                nationality: text(Some(&payload), "nationality"),
                document_number: text(Some(&payload), "document_number"),
            });
        }
    }
    let expected = input.session.expected_details.as_ref();
    Some(ScreeningRequest {
        full_name: name_of(expected)?,
        entity_type: EntityType::Person,
        date_of_birth: text(expected, "date_of_birth"),
        nationality: text(expected, "nationality"),
        document_number: text(expected, "identification_number"),
    })
}

/// The live `AML` node: screens the session's person against the installed datasets.
pub struct AmlRunner {
    pub engine: Arc<AmlEngine>,
}

#[async_trait]
impl NodeRunner for AmlRunner {
    async fn run(&self, input: &NodeInput<'_>) -> anyhow::Result<NodeOutput> {
        let monitored = input
            .node
            .config
            .get("is_ongoing_monitoring_enabled")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let Some(request) = session_subject(input) else {
            // Nothing to screen: no document name and no expected name.
            let mut payload = result_payload(
                &self
                    .engine
                    .screen(&ScreeningRequest::default(), &ScreeningConfig::default()),
                false,
            );
            payload.insert("is_ongoing_monitoring_enabled".into(), json!(false));
            return Ok(NodeOutput {
                payload,
                risks: vec![Risk::with_data(
                    "COULD_NOT_PERFORM_AML_SCREENING",
                    json!({"reason": "no name to screen: no ID verification result and no expected_details name"}),
                )],
            });
        };
        let config = screening_config(&input.node.config);
        let screening = self.engine.screen_blocking(request, config).await?;
        let risks = if could_not_screen(&screening) {
            vec![Risk::new("COULD_NOT_PERFORM_AML_SCREENING")]
        } else {
            Vec::new()
        };
        // A subject that could not be screened is not monitored: there is nothing to compare.
        let payload = result_payload(&screening, monitored && risks.is_empty());
        Ok(NodeOutput { payload, risks })
    }

    fn available(&self) -> bool {
        self.engine.is_ready()
    }
}

/// What one monitoring run did, stored with the dataset version.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct MonitoringSummary {
    pub dataset: String,
    pub from_version: String,
    pub to_version: String,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub sessions_screened: usize,
    pub sessions_with_new_hits: usize,
    pub sessions_moved: usize,
    pub standalone_screened: usize,
    pub standalone_with_new_hits: usize,
}

/// Keeps this process's installed versions in step with the database and runs ongoing
/// monitoring for new versions (any process may; runs are leased).
#[derive(Clone)]
pub struct AmlSync {
    store: Store,
    engine: Arc<AmlEngine>,
    owner: String,
}

impl AmlSync {
    pub fn new(store: Store, engine: Arc<AmlEngine>) -> Self {
        Self {
            store,
            engine,
            owner: format!("aml-{}", uuid::Uuid::new_v4()),
        }
    }

    async fn load(&self, row: &AmlDataset) -> anyhow::Result<Dataset> {
        let bytes = self
            .store
            .media
            .get(&row.file_key)
            .await?
            .with_context(|| {
                format!(
                    "the file of dataset {} {} is missing from the media store",
                    row.name, row.version
                )
            })?;
        let format = DatasetFormat::parse(&row.format)
            .with_context(|| format!("unknown dataset format {:?}", row.format))?;
        let row = row.clone();
        tokio::task::spawn_blocking(move || {
            let (mut dataset, _) = parse_dataset(
                &bytes,
                format,
                &row.name,
                &row.version,
                row.published_on.as_deref(),
                &mut |_| {},
            );
            // The answer names when the version was imported, not when this process parsed it.
            dataset.imported_at = row.imported_at.to_iso();
            dataset
        })
        .await
        .context("parsing a dataset panicked")
    }

    /// Installs the newest version of every dataset that this process does not have yet.
    /// Returns how many versions were installed.
    pub async fn install_newer(&self) -> anyhow::Result<usize> {
        let was_ready = self.engine.is_ready();
        let mut installed = 0;
        for row in self.store.latest_aml_datasets().await? {
            if self.engine.installed_version(&row.name).as_deref() == Some(row.version.as_str()) {
                continue;
            }
            let dataset = self.load(&row).await?;
            let index = tokio::task::spawn_blocking(move || DatasetIndex::build(dataset))
                .await
                .context("indexing a dataset panicked")?;
            tracing::info!(
                dataset = %row.name,
                version = %row.version,
                entities = row.entity_count,
                "AML dataset version installed"
            );
            self.engine.install(row, index);
            installed += 1;
        }
        if !was_ready && self.engine.is_ready() {
            // Live AML nodes parked while no dataset existed can run now.
            self.store.requeue_waiting(&[Feature::Aml]).await?;
        }
        Ok(installed)
    }

    /// Runs every monitoring run this process can claim. Returns their summaries.
    pub async fn monitor_pending(&self) -> anyhow::Result<Vec<MonitoringSummary>> {
        let mut done = Vec::new();
        loop {
            let now = Timestamp::now();
            let lease = now.plus_seconds(600);
            let Some(row) = self
                .store
                .claim_aml_monitoring(&self.owner, now, lease)
                .await?
            else {
                return Ok(done);
            };
            match self.monitor(&row).await {
                Ok(summary) => {
                    tracing::info!(
                        dataset = %summary.dataset,
                        from = %summary.from_version,
                        to = %summary.to_version,
                        added = summary.added,
                        changed = summary.changed,
                        screened = summary.sessions_screened + summary.standalone_screened,
                        new_hits = summary.sessions_with_new_hits + summary.standalone_with_new_hits,
                        moved = summary.sessions_moved,
                        "AML ongoing monitoring run finished"
                    );
                    self.store
                        .finish_aml_monitoring(
                            &row.id,
                            &self.owner,
                            &serde_json::to_value(&summary)?,
                        )
                        .await?;
                    if let Some(previous) = &row.previous_version {
                        self.engine.forget_retired(&row.name, previous);
                    }
                    done.push(summary);
                }
                Err(error) => {
                    tracing::warn!(dataset = %row.name, version = %row.version, error = %format!("{error:#}"), "AML monitoring run failed; retrying later");
                    self.store
                        .release_aml_monitoring(
                            &row.id,
                            &self.owner,
                            Timestamp::now().plus_seconds(60),
                        )
                        .await?;
                    return Ok(done);
                }
            }
        }
    }

    async fn dataset_of(&self, row: &AmlDataset) -> anyhow::Result<Arc<Dataset>> {
        if let Some(index) = self.engine.index_of(&row.name, &row.version) {
            return Ok(Arc::new(index.dataset().clone()));
        }
        Ok(Arc::new(self.load(row).await?))
    }

    /// One monitoring run: the subjects monitored before this version are screened against
    /// what it added or changed; new possible matches are stored and move the sessions.
    async fn monitor(&self, row: &AmlDataset) -> anyhow::Result<MonitoringSummary> {
        let previous_version = row
            .previous_version
            .clone()
            .context("a monitoring run needs a previous version")?;
        let previous = self
            .store
            .aml_dataset(&row.name, &previous_version)
            .await?
            .with_context(|| format!("previous version {previous_version} is not recorded"))?;
        let new = self.dataset_of(row).await?;
        let old = self.dataset_of(&previous).await?;
        let (diff, delta) = {
            let (new, old) = (new.clone(), old.clone());
            tokio::task::spawn_blocking(move || {
                let diff = diff_datasets(&old, &new);
                let delta = diff.delta_index(&new);
                (diff, Arc::new(delta))
            })
            .await
            .context("diffing datasets panicked")?
        };
        let meta = new.meta();
        let mut summary = MonitoringSummary {
            dataset: row.name.clone(),
            from_version: previous_version,
            to_version: row.version.clone(),
            added: diff.added.len(),
            changed: diff.changed.len(),
            removed: diff.removed.len(),
            ..MonitoringSummary::default()
        };
        let change = AmlChange::Monitoring {
            dataset: row.name.clone(),
            version: row.version.clone(),
        };
        let mut configs: HashMap<(String, String), Map<String, Value>> = HashMap::new();
        for node in self.store.monitored_aml_nodes().await? {
            let Some(request) = request_from_payload(&node.payload) else {
                continue;
            };
            let key = (node.workflow_version_id.to_string(), node.node_id.clone());
            if !configs.contains_key(&key) {
                let settings = self
                    .store
                    .pinned_workflow(node.application_id, node.workflow_version_id)
                    .await?;
                let config = settings
                    .node(&node.node_id)
                    .map(|n| n.config.clone())
                    .unwrap_or_default();
                configs.insert(key.clone(), config);
            }
            let config = screening_config(&configs[&key]);
            summary.sessions_screened += 1;
            let new_hits = screen_delta(&delta, request, config, &node.payload).await?;
            let checked_at = Timestamp::now();
            if new_hits.is_empty() {
                self.store
                    .touch_aml_monitoring(node.session_id, &node.node_id, checked_at)
                    .await?;
                continue;
            }
            summary.sessions_with_new_hits += 1;
            let meta = meta.clone();
            let outcome = self
                .store
                .change_aml_result(
                    node.application_id,
                    node.session_id,
                    Some(&node.node_id),
                    &change,
                    move |payload, config, node_id| {
                        domain::add_hits(payload, new_hits);
                        record_version(payload, &meta);
                        payload.insert("ongoing_monitoring_last_check".into(), json!(checked_at));
                        Ok((domain::rejudge(node_id, config, payload), ()))
                    },
                )
                .await;
            match outcome {
                Ok(change) if change.session_status != change.previous_session_status => {
                    summary.sessions_moved += 1
                }
                Ok(_) => {}
                // A session deleted or re-opened meanwhile is simply not monitored any more.
                Err(verity_store::Error::Domain(_)) => {}
                Err(error) => return Err(error.into()),
            }
        }
        for check in self.store.monitored_aml_checks().await? {
            let Some(request) = request_from_payload(&check.result) else {
                continue;
            };
            let node_config = check
                .request
                .get("config")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            summary.standalone_screened += 1;
            let new_hits = screen_delta(
                &delta,
                request,
                screening_config(&node_config),
                &check.result,
            )
            .await?;
            let mut result = check.result.clone();
            result.insert(
                "ongoing_monitoring_last_check".into(),
                json!(Timestamp::now()),
            );
            if !new_hits.is_empty() {
                summary.standalone_with_new_hits += 1;
                domain::add_hits(&mut result, new_hits);
                record_version(&mut result, &meta);
            }
            let status = domain::rejudge("aml", &node_config, &mut result);
            result.insert("status".into(), json!(status.as_str()));
            self.store
                .update_aml_check(&check.id, &result, status.as_str())
                .await?;
        }
        Ok(summary)
    }

    /// Installs newer versions and runs monitoring every `interval` until `stop`.
    pub async fn run(self, interval: Duration, mut stop: watch::Receiver<bool>) {
        loop {
            if let Err(error) = self.install_newer().await {
                tracing::warn!(error = %format!("{error:#}"), "installing AML datasets failed");
            }
            if let Err(error) = self.monitor_pending().await {
                tracing::warn!(error = %format!("{error:#}"), "AML monitoring failed");
            }
            tokio::select! {
                _ = stop.changed() => break,
                _ = tokio::time::sleep(interval) => {}
            }
        }
    }
}

/// Replaces this dataset's entry of the payload's `dataset_versions` by the new version.
fn record_version(payload: &mut Map<String, Value>, meta: &DatasetMeta) {
    let entry = serde_json::to_value(meta).unwrap_or(Value::Null);
    let versions = payload
        .entry("dataset_versions")
        .or_insert_with(|| json!([]));
    if let Value::Array(items) = versions {
        items.retain(|v| v.get("name").and_then(Value::as_str) != Some(meta.name.as_str()));
        items.push(entry);
    }
}

/// Screens a monitored subject against a delta index; returns the possible matches it did not
/// have yet, as stored hit objects (named with the full version, not the delta).
async fn screen_delta(
    delta: &Arc<DatasetIndex>,
    request: ScreeningRequest,
    config: ScreeningConfig,
    stored: &Map<String, Value>,
) -> anyhow::Result<Vec<Value>> {
    let index = delta.clone();
    let screening = tokio::task::spawn_blocking(move || {
        screen_indexes(std::slice::from_ref(&index), &request, &config)
    })
    .await
    .context("AML screening panicked")?;
    let known: Vec<&str> = stored
        .get("hits")
        .and_then(Value::as_array)
        .map(|hits| {
            hits.iter()
                .filter_map(|h| h.get("id").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    Ok(screening
        .possible_matches()
        .filter(|h| !known.contains(&h.id.as_str()))
        .filter_map(|h| serde_json::to_value(h).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_detected() {
        assert_eq!(
            DatasetFormat::detect(b"\n{\"id\": \"x\"}"),
            Some(DatasetFormat::Ftm)
        );
        assert_eq!(
            DatasetFormat::detect(b"36,\"AEROCARIBBEAN AIRLINES\",-0-"),
            Some(DatasetFormat::OfacSdn)
        );
        assert_eq!(DatasetFormat::detect(b"<html>"), None);
        assert_eq!(DatasetFormat::detect(b""), None);
    }

    #[test]
    fn workflow_keys_configure_the_screening() {
        let config = json!({"aml_name_weight": 70, "aml_dob_weight": 20, "aml_country_weight": 10, "aml_match_score_threshold": 90});
        let c = screening_config(config.as_object().unwrap());
        assert_eq!(
            (c.aml_name_weight, c.aml_dob_weight, c.aml_country_weight),
            (70.0, 20.0, 10.0)
        );
        assert_eq!(c.aml_match_score_threshold, 90.0);
        assert_eq!(c.aml_score_review_threshold, 100.0);
    }

    #[test]
    fn payload_scores_by_risk_and_names_its_versions() {
        let data = r#"{"id":"p1","schema":"Person","properties":{"name":["Ivan Petrovich Sidorov"],"birthDate":["1970-01-02"],"nationality":["ru"],"topics":["sanction"]}}
{"id":"p2","schema":"Person","properties":{"name":["Maria Lopez Garcia"],"topics":["role.pep"]}}
"#;
        let (dataset, report) = parse_dataset(
            data.as_bytes(),
            DatasetFormat::Ftm,
            "fixture",
            "v1",
            Some("2024-01-01"),
            &mut |_| {},
        );
        assert!(report.errors.is_empty());
        let engine = AmlEngine::new();
        assert!(!engine.is_ready());
        let index = DatasetIndex::build(dataset);
        engine.screener.install(index);
        let request = ScreeningRequest {
            full_name: "Ivan Sidorov".into(),
            date_of_birth: Some("1970-01-02".into()),
            nationality: Some("RUS".into()),
            ..Default::default()
        };
        let screening = engine.screen(&request, &ScreeningConfig::default());
        let payload = result_payload(&screening, true);
        assert_eq!(payload["total_hits"], json!(1));
        assert_eq!(payload["score"], json!(100.0), "{payload:?}");
        assert_eq!(payload["hits"][0]["id"], "p1");
        assert_eq!(payload["dataset_versions"][0]["version"], "v1");
        assert_eq!(payload["dataset_versions"][0]["date"], "2024-01-01");
        assert_eq!(payload["is_ongoing_monitoring_enabled"], json!(true));
        assert!(payload.get("status").is_none());
        assert_eq!(
            request_from_payload(&payload).unwrap().full_name,
            "Ivan Sidorov"
        );
    }
}
