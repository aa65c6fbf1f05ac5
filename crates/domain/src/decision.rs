//! The v3 decision payload (spec §5.1), built from a stored session, the results its nodes
//! produced, and its reviews. v1/v2 shapes are views of the same inputs.

use crate::review::Review;
use crate::session::Session;
use crate::status::FeatureStatus;
use crate::workflow::Feature;
use serde_json::{json, Map, Value};

/// The result one workflow node produced: the entry it contributes to its decision array.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureResult {
    pub node_id: String,
    pub feature: Feature,
    pub status: FeatureStatus,
    /// The array entry (fields of spec §5.4–5.12); `node_id` and `status` are set from above.
    pub payload: Map<String, Value>,
}

/// `GET /v3/session/{id}/decision/`.
///
/// A feature's array appears once one of its nodes has produced a result; until then the key is
/// left out, so it reads as null (`.get()`, `?.`) without being an explicit `null`. Didit's own
/// payload example (seed 003) omits arrays the same way, and the `didit-sdk` client types every
/// array as a list and rejects an explicit `null`.
pub fn v3_decision(
    session: &Session,
    results: &[FeatureResult],
    reviews: &[Review],
    public_base: &str,
) -> Value {
    let mut decision = json!({
        "session_id": session.id,
        "session_kind": "user",
        "session_number": session.number,
        "session_url": session.url(public_base),
        "status": session.status,
        "environment": session.environment.as_str(),
        "workflow_id": session.workflow_id,
        "workflow_version": session.workflow_version,
        "features": session.feature_display_names(),
        "vendor_data": session.vendor_data,
        "metadata": session.metadata,
        "callback": session.callback,
        "callback_method": session.callback_method.as_str(),
        "expected_details": session.expected_details,
        "contact_details": session.contact_details,
        "nfc_skip_reason": null,
        "reviews": reviews.iter().map(Review::to_decision_json).collect::<Vec<_>>(),
        "created_at": session.created_at,
        "expires_at": session.expires_at,
    });
    let object = decision.as_object_mut().expect("decision is an object");
    for result in results {
        let mut entry = result.payload.clone();
        entry.insert("node_id".into(), Value::String(result.node_id.clone()));
        entry.insert(
            "status".into(),
            Value::String(result.status.as_str().into()),
        );
        entry.entry("warnings").or_insert_with(|| json!([]));
        let array = object
            .entry(result.feature.decision_key())
            .or_insert_with(|| json!([]));
        if let Value::Array(items) = array {
            items.push(Value::Object(entry));
        }
    }
    decision
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ids::*;
    use crate::session::{CallbackMethod, Environment, SessionNode};
    use crate::status::SessionStatus;
    use crate::timestamp::Timestamp;

    /// Every plural array of a KYC decision, in the order the spec lists them.
    const DECISION_ARRAYS: [&str; 12] = [
        "id_verifications",
        "nfc_verifications",
        "liveness_checks",
        "face_matches",
        "poa_verifications",
        "document_ai_documents",
        "phone_verifications",
        "email_verifications",
        "aml_screenings",
        "ip_analyses",
        "database_validations",
        "questionnaire_responses",
    ];

    /// A session fixture for the domain's tests.
    pub(crate) fn session() -> Session {
        Session {
            id: SessionId::random(),
            application_id: ApplicationId::random(),
            number: 7,
            token: SessionToken::random(),
            workflow_id: WorkflowId::random(),
            workflow_version_id: WorkflowVersionId::random(),
            workflow_version: 2,
            status: SessionStatus::NotStarted,
            environment: Environment::Live,
            vendor_data: Some("user-1".into()),
            callback: None,
            callback_method: CallbackMethod::Initiator,
            metadata: None,
            language: Some("es".into()),
            contact_details: None,
            expected_details: None,
            sandbox_scenario: None,
            portrait_media_key: None,
            nodes: vec![SessionNode {
                node_id: "feature_ocr".into(),
                feature: Feature::Ocr,
            }],
            resubmit_info: None,
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
            expires_at: Timestamp::now(),
            country: None,
        }
    }

    #[test]
    fn arrays_are_absent_until_a_node_has_run() {
        let session = session();
        let decision = v3_decision(&session, &[], &[], "https://verity.example/");
        for key in DECISION_ARRAYS {
            assert!(decision.get(key).is_none(), "{key}");
        }
        assert_eq!(decision["features"], json!(["ID_VERIFICATION"]));
        assert_eq!(
            decision["session_url"],
            format!(
                "https://verity.example/es/session/{}",
                session.token.as_str()
            )
        );
        let result = FeatureResult {
            node_id: "feature_ocr".into(),
            feature: Feature::Ocr,
            status: FeatureStatus::Approved,
            payload: Map::new(),
        };
        let decision = v3_decision(&session, &[result], &[], "https://verity.example");
        assert_eq!(
            decision["id_verifications"],
            json!([{"node_id": "feature_ocr", "status": "Approved", "warnings": []}])
        );
        assert!(decision.get("liveness_checks").is_none());
    }
}
