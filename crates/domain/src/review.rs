//! Reviews (the audit trail of manual decisions and notes) and the session event timeline.

use crate::fields::{not_a_choice, FieldErrors, ObjectReader};
use crate::ids::SessionId;
use crate::status::{ManualStatus, SessionStatus};
use crate::timestamp::Timestamp;
use crate::workflow::Feature;
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// Who a change is attributed to when it came through an API key (spec §5.1).
pub const API_CLIENT: &str = "API Client";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityType {
    StatusChange,
    Note,
    /// A correction of extracted data (`update-data`, spec §3.10).
    DataUpdate,
    /// A node status override (`features/{node_id}/update-status`, spec §3.10).
    FeatureStatusChange,
}

impl ActivityType {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityType::StatusChange => "STATUS_CHANGE",
            ActivityType::Note => "NOTE",
            ActivityType::DataUpdate => "DATA_UPDATE",
            ActivityType::FeatureStatusChange => "FEATURE_STATUS_CHANGE",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "STATUS_CHANGE" => Some(ActivityType::StatusChange),
            "NOTE" => Some(ActivityType::Note),
            "DATA_UPDATE" => Some(ActivityType::DataUpdate),
            "FEATURE_STATUS_CHANGE" => Some(ActivityType::FeatureStatusChange),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub id: Uuid,
    pub session_id: SessionId,
    pub activity_type: ActivityType,
    pub actor: String,
    pub previous_status: Option<SessionStatus>,
    /// For notes this echoes what the caller sent; a note never changes the real status.
    pub new_status: Option<SessionStatus>,
    pub comment: Option<String>,
    pub created_at: Timestamp,
}

impl Review {
    /// The row of `GET /v3/sessions/{id}/reviews/` (spec §3.9).
    pub fn to_activity_json(&self) -> Value {
        json!({
            "uuid": self.id,
            "activity_type": self.activity_type.as_str(),
            "actor_display": self.actor,
            "actor_email": null,
            "actor_type": "API_KEY",
            "previous_status": self.previous_status,
            "new_status": self.new_status,
            "comment": self.comment,
            "mentioned_emails": [],
            "previous_value": null,
            "new_value": null,
            "changed_fields": [],
            "metadata": {},
            "created_at": self.created_at,
        })
    }

    /// The compact entry of a decision's `reviews[]`.
    pub fn to_decision_json(&self) -> Value {
        json!({
            "user": self.actor,
            "new_status": self.new_status,
            "comment": self.comment,
            "created_at": self.created_at,
        })
    }
}

/// Body of `POST /v3/sessions/{id}/reviews/`: a note, optionally echoing a status.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewNote {
    pub comment: String,
    pub new_status: Option<SessionStatus>,
}

impl ReviewNote {
    pub fn parse(body: &Map<String, Value>) -> Result<Self, FieldErrors> {
        let mut reader = ObjectReader::new(body);
        let comment = reader.required_string("comment", 5000);
        let status = reader.string("new_status", 32);
        let mut errors = reader.finish();
        let new_status = status.and_then(|text| {
            let parsed = SessionStatus::parse(&text);
            if parsed.is_none() {
                errors.add("new_status", not_a_choice(&text));
            }
            parsed
        });
        if comment.as_deref().is_some_and(|c| c.trim().is_empty()) {
            errors.add("comment", "This field may not be blank.");
        }
        errors.into_result(ReviewNote {
            comment: comment.unwrap_or_default(),
            new_status,
        })
    }
}

/// A node to redo after `Resubmitted`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResubmitNode {
    pub node_id: String,
    pub feature: Feature,
}

/// Body of `PATCH /v3/session/{id}/update-status/` (spec §3.5).
#[derive(Debug, Clone, PartialEq)]
pub struct StatusUpdate {
    pub new_status: ManualStatus,
    pub comment: Option<String>,
    pub nodes_to_resubmit: Option<Vec<ResubmitNode>>,
}

impl StatusUpdate {
    /// `allow_resubmit` is false for the v1 endpoint, which only knows Approved and Declined.
    pub fn parse(body: &Map<String, Value>, allow_resubmit: bool) -> Result<Self, FieldErrors> {
        let mut reader = ObjectReader::new(body);
        let status = reader.required_string("new_status", 32);
        let comment = reader.string("comment", 5000);
        let nodes = reader.value("nodes_to_resubmit").cloned();
        let send_email = if allow_resubmit {
            reader.bool("send_email")
        } else {
            None
        };
        if allow_resubmit {
            reader.string("email_address", 254);
            reader.string("email_language", 8);
        }
        let mut errors = reader.finish();
        let new_status = status.and_then(|text| match ManualStatus::parse(&text) {
            Some(ManualStatus::Resubmitted) if !allow_resubmit => {
                errors.add("new_status", not_a_choice(&text));
                None
            }
            Some(parsed) => Some(parsed),
            None => {
                errors.add("new_status", not_a_choice(&text));
                None
            }
        });
        if send_email == Some(true) {
            errors.add(
                "send_email",
                "Sending decision emails is not available: this server has no mail delivery configured.",
            );
        }
        let nodes_to_resubmit = nodes.and_then(|value| match parse_resubmit_nodes(&value) {
            Ok(nodes) => Some(nodes),
            Err(list_errors) => {
                errors.nest_list("nodes_to_resubmit", list_errors);
                if !errors.contains("nodes_to_resubmit") {
                    errors.add(
                        "nodes_to_resubmit",
                        "Expected a list of {node_id, feature} objects.",
                    );
                }
                None
            }
        });
        let new_status = new_status.unwrap_or(ManualStatus::Approved);
        errors.into_result(StatusUpdate {
            new_status,
            comment,
            nodes_to_resubmit,
        })
    }
}

fn parse_resubmit_nodes(value: &Value) -> Result<Vec<ResubmitNode>, Vec<FieldErrors>> {
    let Value::Array(items) = value else {
        return Err(Vec::new());
    };
    let mut nodes = Vec::new();
    let mut item_errors = Vec::new();
    for item in items {
        let Some(object) = item.as_object() else {
            item_errors.push(FieldErrors::single(
                "non_field_errors",
                "Must be an object.",
            ));
            continue;
        };
        let mut reader = ObjectReader::new(object);
        let node_id = reader.required_string("node_id", 128);
        let feature = reader.required_string("feature", 64);
        let mut node_errors = reader.finish();
        let feature = feature.and_then(|text| {
            let parsed = Feature::parse(&text);
            match parsed {
                Some(f) if f.is_kyb() => {
                    node_errors.add("feature", format!("{text} cannot be resubmitted."));
                    None
                }
                Some(f) => Some(f),
                None => {
                    node_errors.add("feature", not_a_choice(&text));
                    None
                }
            }
        });
        if let (Some(node_id), Some(feature)) = (node_id, feature) {
            nodes.push(ResubmitNode { node_id, feature });
        }
        item_errors.push(node_errors);
    }
    if item_errors.iter().any(|e| !e.is_empty()) {
        Err(item_errors)
    } else {
        Ok(nodes)
    }
}

/// One entry of a session's timeline (`GET /v3/session/{id}/events/`). Status changes are
/// `status.updated`, the event name webhooks use; creation is the first of them.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEvent {
    pub id: Uuid,
    pub session_id: SessionId,
    pub event_type: String,
    pub previous_status: Option<SessionStatus>,
    pub status: Option<SessionStatus>,
    pub data: Option<Value>,
    pub created_at: Timestamp,
}

pub const STATUS_UPDATED: &str = "status.updated";

impl SessionEvent {
    pub fn status_change(
        session_id: SessionId,
        previous: Option<SessionStatus>,
        status: SessionStatus,
        data: Option<Value>,
    ) -> Self {
        Self {
            id: Uuid::new_v4(),
            session_id,
            event_type: STATUS_UPDATED.to_owned(),
            previous_status: previous,
            status: Some(status),
            data,
            created_at: Timestamp::now(),
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "uuid": self.id,
            "event_type": self.event_type,
            "previous_status": self.previous_status,
            "status": self.status,
            "data": self.data,
            "created_at": self.created_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_update(body: Value, allow_resubmit: bool) -> Result<StatusUpdate, Value> {
        StatusUpdate::parse(body.as_object().unwrap(), allow_resubmit).map_err(|e| e.to_json())
    }

    #[test]
    fn status_update_accepts_the_three_manual_statuses() {
        let update = status_update(
            json!({"new_status": "Resubmitted", "comment": "blurry",
            "nodes_to_resubmit": [{"node_id": "feature_ocr", "feature": "ID_VERIFICATION"}]}),
            true,
        )
        .unwrap();
        assert_eq!(update.new_status, ManualStatus::Resubmitted);
        assert_eq!(update.nodes_to_resubmit.unwrap()[0].feature, Feature::Ocr);
    }

    #[test]
    fn status_update_refusals() {
        assert_eq!(
            status_update(json!({"new_status": "In Review"}), true).unwrap_err(),
            json!({"new_status": ["\"In Review\" is not a valid choice."]})
        );
        assert_eq!(
            status_update(json!({"new_status": "Resubmitted"}), false).unwrap_err(),
            json!({"new_status": ["\"Resubmitted\" is not a valid choice."]})
        );
        assert_eq!(
            status_update(json!({}), true).unwrap_err(),
            json!({"new_status": ["This field is required."]})
        );
        let err = status_update(
            json!({"new_status": "Resubmitted",
            "nodes_to_resubmit": [{"node_id": "x", "feature": "KYB_REGISTRY"}]}),
            true,
        )
        .unwrap_err();
        assert_eq!(
            err["nodes_to_resubmit"][0]["feature"],
            json!(["KYB_REGISTRY cannot be resubmitted."])
        );
    }

    #[test]
    fn review_notes_need_a_comment() {
        let note = ReviewNote::parse(
            json!({"comment": "checked", "new_status": "Approved"})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(note.new_status, Some(SessionStatus::Approved));
        assert!(ReviewNote::parse(json!({"comment": "  "}).as_object().unwrap()).is_err());
        assert!(ReviewNote::parse(json!({}).as_object().unwrap()).is_err());
    }
}
