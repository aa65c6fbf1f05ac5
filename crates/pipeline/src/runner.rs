//! The seam where verification engines plug in: a [`NodeRunner`] turns one workflow node's
//! inputs (the session, the node's config, the stored captures, earlier nodes' results) into
//! what it observed — the node's payload in its §5.4–5.12 shape and the risks it saw. The
//! pipeline, not the runner, applies the cross-checks and the decision rules, so an engine and
//! the sandbox are judged alike.

use async_trait::async_trait;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use verity_domain::decision::FeatureResult;
use verity_domain::rules::Risk;
use verity_domain::session::Session;
use verity_domain::workflow::{Feature, WorkflowFeature};
use verity_store::{MediaStore, StoredCapture};

/// Everything a runner may read. Media bytes are fetched from `media` by the captures' keys.
pub struct NodeInput<'a> {
    pub session: &'a Session,
    pub node: &'a WorkflowFeature,
    pub captures: &'a [StoredCapture],
    /// Results of the session's nodes already decided (this run's and, on a resubmission,
    /// the kept ones), in workflow order.
    pub prior: &'a [FeatureResult],
    pub media: &'a MediaStore,
    /// `{ip_address, user_agent}` of the device that opened the flow.
    pub device_info: Option<&'a Value>,
    /// `GET /v3/session/{id}/media/{name}/` base for this session, for the payload's image URLs.
    pub media_base: &'a str,
}

impl NodeInput<'_> {
    /// The URL under which a stored capture (or `portrait`) is served to API callers.
    pub fn media_url(&self, name: &str) -> String {
        format!("{}/{name}/", self.media_base)
    }

    pub fn has_capture(&self, kind: verity_domain::capture::CaptureKind) -> bool {
        self.captures.iter().any(|c| c.kind == kind)
    }

    pub fn prior_of(&self, feature: Feature) -> Option<&FeatureResult> {
        self.prior.iter().find(|r| r.feature == feature)
    }
}

/// Media name (`GET /v3/session/{id}/media/document_portrait/`) of the portrait the document
/// engine crops from the ID document: the OCR node's `portrait_image`, and the face-match
/// node's reference.
pub const DOCUMENT_PORTRAIT: &str = "document_portrait";

/// Object key of a session's [`DOCUMENT_PORTRAIT`] (JPEG). It sits under the session's media
/// prefix, so deleting the session deletes it.
pub fn document_portrait_key(session: &Session) -> String {
    format!(
        "{}/{}/derived/{DOCUMENT_PORTRAIT}.jpg",
        session.application_id, session.id
    )
}

/// What a runner observed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeOutput {
    /// The node's decision entry without `node_id`, `status` and `warnings` (set by the pipeline).
    pub payload: Map<String, Value>,
    /// Risks the engine itself detected (an attack, an unreadable document…).
    pub risks: Vec<Risk>,
}

#[async_trait]
pub trait NodeRunner: Send + Sync {
    async fn run(&self, input: &NodeInput<'_>) -> anyhow::Result<NodeOutput>;

    /// Whether the engine can run now. An engine whose data is loaded at run time (the AML
    /// screener before its first dataset version) answers false until then, and its nodes park
    /// as if it were absent.
    fn available(&self) -> bool {
        true
    }
}

/// The engines available to live sessions, by feature. A live node whose feature has no
/// engine here parks its job (`waiting_for_engine`) instead of producing anything.
#[derive(Clone, Default)]
pub struct Engines {
    runners: HashMap<Feature, Arc<dyn NodeRunner>>,
}

impl Engines {
    pub fn register(&mut self, feature: Feature, runner: Arc<dyn NodeRunner>) {
        self.runners.insert(feature, runner);
    }

    pub fn get(&self, feature: Feature) -> Option<&Arc<dyn NodeRunner>> {
        self.runners.get(&feature)
    }

    pub fn features(&self) -> Vec<Feature> {
        self.runners.keys().copied().collect()
    }

    /// Features whose engine can run now (see [`NodeRunner::available`]).
    pub fn available_features(&self) -> Vec<Feature> {
        self.runners
            .iter()
            .filter(|(_, runner)| runner.available())
            .map(|(feature, _)| *feature)
            .collect()
    }
}
