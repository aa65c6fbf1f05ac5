//! The seam where verification engines plug in: a [`NodeRunner`] turns one workflow node's
//! inputs (the session, the node's config, the stored captures, earlier nodes' results) into
//! what it observed — the node's payload in its §5.4–5.12 shape and the risks it saw. The
//! pipeline, not the runner, applies the cross-checks and the decision rules, so an engine and
//! the sandbox are judged alike.

use async_trait::async_trait;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use verity_domain::capture::CaptureKind;
use verity_domain::decision::FeatureResult;
use verity_domain::rules::Risk;
use verity_domain::session::Session;
use verity_domain::workflow::{Feature, WorkflowFeature};
use verity_store::{sha256_hex, BoundInputs, MediaStore, StoredCapture};

/// A bound input whose bytes no longer match the digest taken at upload (or that submit never
/// bound): the node fails closed and the worker sends the session to review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TamperedInput(pub String);

impl std::fmt::Display for TamperedInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "input integrity: {}", self.0)
    }
}

impl std::error::Error for TamperedInput {}

/// Everything a runner may read. Media bytes are read only through [`NodeInput::capture_bytes`]
/// and [`NodeInput::frame_bytes`], which return the objects submit bound to the job and check
/// their digests.
pub struct NodeInput<'a> {
    pub session: &'a Session,
    pub node: &'a WorkflowFeature,
    pub bound: &'a BoundInputs,
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

    pub fn capture(&self, kind: CaptureKind) -> Option<&StoredCapture> {
        self.bound.captures.iter().find(|c| c.kind == kind)
    }

    pub fn has_capture(&self, kind: CaptureKind) -> bool {
        self.capture(kind).is_some()
    }

    /// The bytes of the bound capture of `kind` (`None` when the person sent none).
    pub async fn capture_bytes(&self, kind: CaptureKind) -> anyhow::Result<Option<Vec<u8>>> {
        let Some(capture) = self.capture(kind) else {
            return Ok(None);
        };
        read_bound(self.media, &capture.object_key, capture.sha256.as_deref())
            .await
            .map(Some)
    }

    /// The bytes of a liveness frame; a frame submit did not bind is refused.
    pub async fn frame_bytes(&self, object_key: &str) -> anyhow::Result<Vec<u8>> {
        let Some((_, sha256)) = self.bound.frames.iter().find(|(key, _)| key == object_key) else {
            return Err(TamperedInput(format!(
                "liveness frame {object_key} was not bound at submit"
            ))
            .into());
        };
        read_bound(self.media, object_key, sha256.as_deref()).await
    }

    pub fn prior_of(&self, feature: Feature) -> Option<&FeatureResult> {
        self.prior.iter().find(|r| r.feature == feature)
    }
}

/// Reads a bound object and checks it against the digest taken at upload.
async fn read_bound(
    media: &MediaStore,
    object_key: &str,
    sha256: Option<&str>,
) -> anyhow::Result<Vec<u8>> {
    let bytes = media.get(object_key).await?.ok_or_else(|| {
        anyhow::anyhow!("the bound object {object_key} is missing from the media store")
    })?;
    match sha256 {
        Some(expected) if sha256_hex(&bytes) != expected => {
            Err(TamperedInput(format!("{object_key} changed after submit")).into())
        }
        _ => Ok(bytes),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bound_object_whose_bytes_changed_fails_closed() {
        let dir = tempfile::tempdir().unwrap();
        let media = MediaStore::from_url(dir.path().to_str().unwrap()).unwrap();
        media.put("a/selfie", b"submitted".to_vec()).await.unwrap();
        let digest = sha256_hex(b"submitted");
        let read = read_bound(&media, "a/selfie", Some(&digest)).await.unwrap();
        assert_eq!(read, b"submitted");
        media.put("a/selfie", b"swapped".to_vec()).await.unwrap();
        let error = read_bound(&media, "a/selfie", Some(&digest))
            .await
            .unwrap_err();
        assert!(error.downcast_ref::<TamperedInput>().is_some(), "{error:#}");
    }
}
