//! What a submit runs. A node's verdict is made on evidence: the captures its step takes and
//! the results of other nodes it reads (face match compares the selfie with the portrait the
//! document node cropped; AML screens the name and birth date the document node read). On a
//! resubmission the person takes the reopened steps' captures again, and every node whose
//! evidence changed, directly or through another node, is judged again: a verdict never
//! outlives the inputs it was made on.

use crate::capture::{step_captures, CaptureKind};
use crate::session::{Session, SessionNode};
use crate::workflow::Feature;
use serde_json::Value;

/// The other nodes' results a feature's verdict reads.
pub fn results_read(feature: Feature) -> &'static [Feature] {
    match feature {
        // The document portrait is the reference of face match.
        Feature::FaceMatch => &[Feature::Ocr],
        // Screened, validated or read against the identity the document node extracted.
        Feature::Aml | Feature::DatabaseValidation | Feature::Nfc => &[Feature::Ocr],
        // Name and address compared with the identity document.
        Feature::ProofOfAddress => &[Feature::Ocr],
        // Distances from the document's and the proof of address's locations.
        Feature::IpAnalysis => &[Feature::Ocr, Feature::ProofOfAddress],
        _ => &[],
    }
}

fn takes(feature: Feature, kinds: &[CaptureKind]) -> bool {
    step_captures(feature)
        .iter()
        .any(|(kind, _)| kinds.contains(kind))
}

/// The nodes a reviewer reopened (`resubmit_info.nodes_to_resubmit`), or `None` on a first run.
fn reopened(session: &Session) -> Option<Vec<&SessionNode>> {
    let named: Vec<&str> = session
        .resubmit_info
        .as_ref()?
        .get("nodes_to_resubmit")?
        .as_array()?
        .iter()
        .filter_map(|n| n.get("node_id").and_then(Value::as_str))
        .collect();
    Some(
        session
            .nodes
            .iter()
            .filter(|n| named.contains(&n.node_id.as_str()))
            .collect(),
    )
}

/// What the next submit of a session takes and runs, in workflow order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPlan {
    /// The captures the person (re)takes; the others are kept from the earlier submit.
    pub captures: Vec<CaptureKind>,
    /// The steps the hosted flow shows: the reopened nodes and every node that takes one of
    /// those captures (a new selfie is a new liveness check).
    pub steps: Vec<String>,
    /// The nodes the job runs: the steps and, transitively, every node reading their results.
    pub nodes: Vec<String>,
}

impl RunPlan {
    pub fn of(session: &Session) -> RunPlan {
        let Some(reopened) = reopened(session) else {
            let all: Vec<String> = session.nodes.iter().map(|n| n.node_id.clone()).collect();
            let mut captures: Vec<CaptureKind> = Vec::new();
            for node in &session.nodes {
                for (kind, _) in step_captures(node.feature) {
                    if !captures.contains(kind) {
                        captures.push(*kind);
                    }
                }
            }
            return RunPlan {
                captures,
                steps: all.clone(),
                nodes: all,
            };
        };
        let mut captures: Vec<CaptureKind> = Vec::new();
        for node in &reopened {
            for (kind, _) in step_captures(node.feature) {
                if !captures.contains(kind) {
                    captures.push(*kind);
                }
            }
        }
        let steps: Vec<&SessionNode> = session
            .nodes
            .iter()
            .filter(|n| {
                reopened.iter().any(|r| r.node_id == n.node_id) || takes(n.feature, &captures)
            })
            .collect();
        let mut run: Vec<&SessionNode> = steps.clone();
        // The fixed point of "reads a result of a node that runs": at most one pass per node.
        loop {
            let before = run.len();
            for node in &session.nodes {
                let reads_rerun = results_read(node.feature)
                    .iter()
                    .any(|read| run.iter().any(|r| r.feature == *read));
                if reads_rerun && !run.iter().any(|r| r.node_id == node.node_id) {
                    run.push(node);
                }
            }
            if run.len() == before {
                break;
            }
        }
        let in_order = |chosen: &[&SessionNode]| -> Vec<String> {
            session
                .nodes
                .iter()
                .filter(|n| chosen.iter().any(|c| c.node_id == n.node_id))
                .map(|n| n.node_id.clone())
                .collect()
        };
        RunPlan {
            captures,
            steps: in_order(&steps),
            nodes: in_order(&run),
        }
    }

    /// Whether the hosted flow takes this capture now.
    pub fn takes(&self, kind: CaptureKind) -> bool {
        self.captures.contains(&kind)
    }

    /// The required captures of the plan's steps that are not among `stored`, by name.
    pub fn missing(&self, session: &Session, stored: &[CaptureKind]) -> Vec<&'static str> {
        let mut missing: Vec<&'static str> = Vec::new();
        for node in session
            .nodes
            .iter()
            .filter(|n| self.steps.contains(&n.node_id))
        {
            for (kind, required) in step_captures(node.feature) {
                if *required && !stored.contains(kind) && !missing.contains(&kind.as_str()) {
                    missing.push(kind.as_str());
                }
            }
        }
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn session(features: &[(&str, Feature)], reopened: Option<&[&str]>) -> Session {
        let mut session = crate::decision::tests::session();
        session.nodes = features
            .iter()
            .map(|(id, feature)| SessionNode {
                node_id: (*id).to_owned(),
                feature: *feature,
            })
            .collect();
        session.resubmit_info = reopened.map(|nodes| {
            json!({"nodes_to_resubmit": nodes.iter().map(|n| json!({"node_id": n})).collect::<Vec<_>>()})
        });
        session
    }

    const KYC: &[(&str, Feature)] = &[
        ("feature_ocr", Feature::Ocr),
        ("feature_liveness", Feature::Liveness),
        ("feature_face_match", Feature::FaceMatch),
        ("feature_aml", Feature::Aml),
        ("feature_poa", Feature::ProofOfAddress),
    ];

    #[test]
    fn a_first_submit_takes_and_runs_everything() {
        let plan = RunPlan::of(&session(KYC, None));
        assert_eq!(plan.nodes.len(), 5);
        assert_eq!(plan.steps, plan.nodes);
        assert_eq!(
            plan.captures,
            [
                CaptureKind::DocumentFront,
                CaptureKind::DocumentBack,
                CaptureKind::Selfie,
                CaptureKind::PoaDocument
            ]
        );
    }

    #[test]
    fn a_new_document_rejudges_everything_that_read_it() {
        let plan = RunPlan::of(&session(KYC, Some(&["feature_ocr"])));
        assert_eq!(
            plan.captures,
            [CaptureKind::DocumentFront, CaptureKind::DocumentBack]
        );
        assert_eq!(plan.steps, ["feature_ocr"]);
        assert_eq!(
            plan.nodes,
            [
                "feature_ocr",
                "feature_face_match",
                "feature_aml",
                "feature_poa"
            ],
            "the selfie is kept, its liveness verdict too"
        );
    }

    #[test]
    fn a_new_selfie_is_checked_for_liveness_again() {
        let plan = RunPlan::of(&session(KYC, Some(&["feature_face_match"])));
        assert_eq!(plan.captures, [CaptureKind::Selfie]);
        assert_eq!(plan.steps, ["feature_liveness", "feature_face_match"]);
        assert_eq!(plan.nodes, plan.steps);
        assert!(!plan.takes(CaptureKind::DocumentFront));
    }

    #[test]
    fn results_are_followed_transitively() {
        let features = &[
            ("feature_ocr", Feature::Ocr),
            ("feature_poa", Feature::ProofOfAddress),
            ("feature_ip", Feature::IpAnalysis),
        ];
        let plan = RunPlan::of(&session(features, Some(&["feature_ocr"])));
        assert_eq!(plan.nodes, ["feature_ocr", "feature_poa", "feature_ip"]);
        assert_eq!(plan.steps, ["feature_ocr"]);
    }

    #[test]
    fn missing_lists_only_required_captures_of_the_steps() {
        let s = session(KYC, Some(&["feature_ocr"]));
        let plan = RunPlan::of(&s);
        assert_eq!(plan.missing(&s, &[]), ["document_front"]);
        assert!(plan.missing(&s, &[CaptureKind::DocumentFront]).is_empty());
    }
}
