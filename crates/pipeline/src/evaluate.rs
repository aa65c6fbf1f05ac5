//! Judging one node: the runner's observed risks plus the cross-checks of its feature, each
//! given its action by the decision rules, become the node's warnings and status.

use crate::runner::NodeOutput;
use serde_json::{Map, Value};
use time::Date;
use verity_domain::checks::{age_estimation_checks, document_checks, poa_checks};
use verity_domain::decision::FeatureResult;
use verity_domain::rules;
use verity_domain::workflow::{Feature, WorkflowFeature};

/// What the cross-checks compare a node with.
pub struct Context<'a> {
    pub expected_details: Option<&'a Value>,
    pub today: Date,
    /// Another session of the application with the same identity document.
    pub duplicate_of: Option<&'a str>,
    /// The session's identity-document entry, for proof-of-address checks.
    pub id_document: Option<&'a Map<String, Value>>,
}

/// The node's result: payload with `warnings`, and the feature status the rules give it.
pub fn judge(node: &WorkflowFeature, output: NodeOutput, context: &Context<'_>) -> FeatureResult {
    let NodeOutput {
        mut payload,
        mut risks,
    } = output;
    let config = &node.config;
    let derived = match node.feature {
        Feature::Ocr => document_checks(
            &payload,
            config,
            context.expected_details,
            context.today,
            context.duplicate_of,
        ),
        Feature::ProofOfAddress => poa_checks(
            &payload,
            config,
            context.expected_details,
            context.id_document,
            context.today,
        ),
        Feature::AgeEstimation => age_estimation_checks(&payload, config),
        _ => Vec::new(),
    };
    for risk in derived {
        if !risks.iter().any(|r| r.code == risk.code) {
            risks.push(risk);
        }
    }
    let (status, warnings) = rules::evaluate(node.feature, &node.node_id, config, &payload, &risks);
    payload.insert("warnings".into(), Value::Array(warnings));
    payload.remove("node_id");
    payload.remove("status");
    FeatureResult {
        node_id: node.node_id.clone(),
        feature: node.feature,
        status,
        payload,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::date;
    use verity_domain::rules::Risk;
    use verity_domain::status::FeatureStatus;

    fn node(feature: Feature, config: Value) -> WorkflowFeature {
        WorkflowFeature {
            feature,
            node_id: format!("feature_{}", feature.as_str().to_ascii_lowercase()),
            label: None,
            config: config.as_object().unwrap().clone(),
        }
    }

    fn context() -> Context<'static> {
        Context {
            expected_details: None,
            today: date!(2025 - 06 - 01),
            duplicate_of: None,
            id_document: None,
        }
    }

    #[test]
    fn duplicated_user_follows_its_configured_action() {
        let payload = json!({"first_name": "A", "last_name": "B", "document_number": "1", "date_of_birth": "1990-01-01", "expiration_date": "2030-01-01"});
        let output = NodeOutput {
            payload: payload.as_object().unwrap().clone(),
            risks: vec![],
        };
        let mut ctx = context();
        ctx.duplicate_of = Some("other-session");
        for (action, status, log_type) in [
            ("no_action", FeatureStatus::Approved, "information"),
            ("review", FeatureStatus::InReview, "warning"),
            ("decline", FeatureStatus::Declined, "error"),
        ] {
            let ocr = node(Feature::Ocr, json!({"duplicated_user_action": action}));
            let result = judge(&ocr, output.clone(), &ctx);
            assert_eq!(result.status, status);
            let warning = &result.payload["warnings"][0];
            assert_eq!(warning["risk"], "POSSIBLE_DUPLICATED_USER");
            assert_eq!(warning["log_type"], log_type);
            assert_eq!(
                warning["additional_data"]["duplicated_session_id"],
                "other-session"
            );
        }
    }

    #[test]
    fn engine_risks_and_scores_combine() {
        let liveness = node(Feature::Liveness, json!({}));
        let output = NodeOutput {
            payload: json!({"score": 12.0}).as_object().unwrap().clone(),
            risks: vec![Risk::new("LIVENESS_FACE_ATTACK")],
        };
        let result = judge(&liveness, output, &context());
        assert_eq!(result.status, FeatureStatus::Declined);
        let risks: Vec<&str> = result.payload["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["risk"].as_str().unwrap())
            .collect();
        assert_eq!(risks, ["LIVENESS_FACE_ATTACK", "LOW_LIVENESS_SCORE"]);
    }
}
