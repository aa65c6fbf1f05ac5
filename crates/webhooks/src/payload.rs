//! Webhook payload shapes (spec §6.3, §6.4) and the event-type vocabulary.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use verity_domain::webhook::{EventType, UnknownEventType, WebhookVersion};

/// Statuses whose webhook carries `decision` (spec §6.3).
pub const DECISION_STATUSES: [&str; 4] = ["Approved", "Declined", "In Review", "Abandoned"];
/// The status whose webhook carries `resubmit_info` instead.
pub const RESUBMITTED: &str = "Resubmitted";

/// Whether a session webhook for `status` includes the `decision` object.
pub fn carries_decision(status: &str) -> bool {
    DECISION_STATUSES.contains(&status)
}

/// KYB additions to the session envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KybFields {
    pub business_session_id: Option<String>,
    pub vendor_business_id: Option<String>,
}

/// Everything a session webhook (`status.updated` / `data.updated`) is built from. `decision` is
/// the caller's `GET /v3/session/{id}/decision/` body (v3 shape for v3 destinations, the singular
/// v2 shape for v2 ones, the v1 model for v1 ones); this crate does not reshape it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEvent {
    /// Stable across retries and fan-out destinations: receivers deduplicate on it.
    pub event_id: String,
    pub webhook_type: EventType,
    /// Attempt time; the dispatcher refreshes it per attempt (see `sign::restamp`).
    pub timestamp: i64,
    /// Event time (unix seconds).
    pub created_at: i64,
    pub application_id: String,
    /// `live` or `sandbox`.
    pub environment: String,
    pub session_id: String,
    /// One of the ten exact status literals, e.g. `In Review`.
    pub status: String,
    pub workflow_id: Option<String>,
    pub workflow_version: Option<i64>,
    pub vendor_data: Option<String>,
    pub metadata: Option<Value>,
    pub decision: Option<Value>,
    /// `{nodes_to_resubmit: [...], reasons: {node_id: text}}` for `Resubmitted`.
    pub resubmit_info: Option<Value>,
    pub kyb: Option<KybFields>,
}

/// The v3 session envelope of spec §6.3. `decision` appears only for Approved / Declined /
/// In Review / Abandoned (and only if the caller supplied it); `resubmit_info` only for Resubmitted.
pub fn session_envelope_v3(ev: &SessionEvent) -> Value {
    let mut m = Map::new();
    m.insert("event_id".into(), ev.event_id.clone().into());
    m.insert("webhook_type".into(), ev.webhook_type.as_str().into());
    m.insert("timestamp".into(), ev.timestamp.into());
    m.insert("created_at".into(), ev.created_at.into());
    m.insert("application_id".into(), ev.application_id.clone().into());
    m.insert("environment".into(), ev.environment.clone().into());
    m.insert("session_id".into(), ev.session_id.clone().into());
    m.insert("status".into(), ev.status.clone().into());
    m.insert("workflow_id".into(), ev.workflow_id.clone().into());
    m.insert("workflow_version".into(), ev.workflow_version.into());
    m.insert("vendor_data".into(), ev.vendor_data.clone().into());
    m.insert(
        "metadata".into(),
        ev.metadata.clone().unwrap_or(Value::Null),
    );
    insert_decision_or_resubmit(&mut m, ev);
    if let Some(kyb) = &ev.kyb {
        m.insert("session_kind".into(), "business".into());
        m.insert(
            "business_session_id".into(),
            kyb.business_session_id.clone().into(),
        );
        m.insert(
            "vendor_business_id".into(),
            kyb.vendor_business_id.clone().into(),
        );
    }
    Value::Object(m)
}

/// The legacy v1 envelope: `{session_id, status, created_at, timestamp, vendor_data, decision?}`
/// (spec §6.3), plus `webhook_type` so v1 receivers can still tell `data.updated` apart; v1
/// receivers ignore unknown keys and the Simple signature needs it.
pub fn session_envelope_v1(ev: &SessionEvent) -> Value {
    let mut m = Map::new();
    m.insert("session_id".into(), ev.session_id.clone().into());
    m.insert("status".into(), ev.status.clone().into());
    m.insert("created_at".into(), ev.created_at.into());
    m.insert("timestamp".into(), ev.timestamp.into());
    m.insert("vendor_data".into(), ev.vendor_data.clone().into());
    m.insert("webhook_type".into(), ev.webhook_type.as_str().into());
    insert_decision_or_resubmit(&mut m, ev);
    Value::Object(m)
}

/// The payload for a destination of the given version (v2 = v3 envelope around a v2 decision).
pub fn session_payload(version: WebhookVersion, ev: &SessionEvent) -> Value {
    match version {
        WebhookVersion::V1 => session_envelope_v1(ev),
        WebhookVersion::V2 | WebhookVersion::V3 => session_envelope_v3(ev),
    }
}

/// Common fields of an entity (user/business) event. Entity payloads are flat (spec §6.4: no
/// `data`/`event` wrapper); `event_id` and `timestamp` are added because receivers deduplicate on
/// the former and check the freshness of the latter (didit-sdk requires an integer `timestamp`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityEventBase {
    pub event_id: String,
    pub webhook_type: EventType,
    pub timestamp: i64,
    pub created_at: i64,
    pub application_id: String,
    pub environment: String,
    /// The entity's `vendor_data` (user/business id on the customer side).
    pub vendor_data: Option<String>,
    /// The entity's uuid.
    pub uuid: String,
}

fn entity_base(base: &EntityEventBase) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("event_id".into(), base.event_id.clone().into());
    m.insert("webhook_type".into(), base.webhook_type.as_str().into());
    m.insert("timestamp".into(), base.timestamp.into());
    m.insert("created_at".into(), base.created_at.into());
    m.insert("application_id".into(), base.application_id.clone().into());
    m.insert("environment".into(), base.environment.clone().into());
    m.insert("vendor_data".into(), base.vendor_data.clone().into());
    m.insert("uuid".into(), base.uuid.clone().into());
    m
}

/// `user.status.updated` / `business.status.updated`: `status` and `previous_status`
/// (`ACTIVE` / `FLAGGED` / `BLOCKED`), no reason.
pub fn entity_status_payload(base: &EntityEventBase, status: &str, previous_status: &str) -> Value {
    let mut m = entity_base(base);
    m.insert("status".into(), status.into());
    m.insert("previous_status".into(), previous_status.into());
    Value::Object(m)
}

/// `user.data.updated` / `business.data.updated`: `changed_fields[]` and
/// `changes{field: {previous, current}}`, given as `(field, previous, current)`.
pub fn entity_data_payload(base: &EntityEventBase, changes: &[(&str, Value, Value)]) -> Value {
    let mut m = entity_base(base);
    m.insert(
        "changed_fields".into(),
        changes.iter().map(|(f, _, _)| Value::from(*f)).collect(),
    );
    let mut by_field = Map::new();
    for (field, previous, current) in changes {
        let mut change = Map::new();
        change.insert("previous".into(), previous.clone());
        change.insert("current".into(), current.clone());
        by_field.insert((*field).to_owned(), Value::Object(change));
    }
    m.insert("changes".into(), Value::Object(by_field));
    Value::Object(m)
}

fn insert_decision_or_resubmit(m: &mut Map<String, Value>, ev: &SessionEvent) {
    if carries_decision(&ev.status) {
        if let Some(d) = &ev.decision {
            m.insert("decision".into(), d.clone());
        }
    } else if ev.status == RESUBMITTED {
        if let Some(r) = &ev.resubmit_info {
            m.insert("resubmit_info".into(), r.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(status: &str) -> SessionEvent {
        SessionEvent {
            event_id: "9c0c8b8a-1111-4222-9333-444444444444".into(),
            webhook_type: EventType::StatusUpdated,
            timestamp: 1774970000,
            created_at: 1774969994,
            application_id: "11111111-2222-3333-4444-555555555555".into(),
            environment: "live".into(),
            session_id: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee".into(),
            status: status.into(),
            workflow_id: Some("22222222-3333-4444-5555-666666666666".into()),
            workflow_version: Some(4),
            vendor_data: Some("user-123".into()),
            metadata: Some(json!({"plan": "premium"})),
            decision: Some(json!({"status": status, "id_verifications": []})),
            resubmit_info: Some(
                json!({"nodes_to_resubmit": ["id_verification_1"], "reasons": {"id_verification_1": "blurry"}}),
            ),
            kyb: None,
        }
    }

    #[test]
    fn event_types_round_trip_and_reject_unknown() {
        for e in EventType::ALL {
            assert_eq!(e.as_str().parse::<EventType>(), Ok(e));
            assert_eq!(serde_json::to_value(e).unwrap(), json!(e.as_str()));
        }
        assert!("status.*".parse::<EventType>().is_err());
        assert!("Status.Updated".parse::<EventType>().is_err());
    }

    #[test]
    fn v3_envelope_matches_spec_example() {
        let v = session_envelope_v3(&event("Approved"));
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "application_id",
                "created_at",
                "decision",
                "environment",
                "event_id",
                "metadata",
                "session_id",
                "status",
                "timestamp",
                "vendor_data",
                "webhook_type",
                "workflow_id",
                "workflow_version"
            ]
        );
        assert_eq!(v["webhook_type"], "status.updated");
        assert_eq!(v["workflow_version"], 4);
        assert_eq!(v["decision"]["status"], "Approved");
    }

    #[test]
    fn decision_only_for_terminal_review_statuses_and_resubmit_info_for_resubmitted() {
        for s in ["Approved", "Declined", "In Review", "Abandoned"] {
            let v = session_envelope_v3(&event(s));
            assert!(v.get("decision").is_some(), "{s}");
            assert!(v.get("resubmit_info").is_none(), "{s}");
        }
        for s in [
            "Not Started",
            "In Progress",
            "Expired",
            "Kyc Expired",
            "Awaiting User",
        ] {
            let v = session_envelope_v3(&event(s));
            assert!(
                v.get("decision").is_none() && v.get("resubmit_info").is_none(),
                "{s}"
            );
        }
        let v = session_envelope_v3(&event("Resubmitted"));
        assert!(v.get("decision").is_none());
        assert_eq!(
            v["resubmit_info"]["nodes_to_resubmit"][0],
            "id_verification_1"
        );
    }

    #[test]
    fn flat_entity_payloads() {
        let base = EntityEventBase {
            event_id: "e".into(),
            webhook_type: EventType::UserStatusUpdated,
            timestamp: 10,
            created_at: 9,
            application_id: "app".into(),
            environment: "live".into(),
            vendor_data: Some("user-7".into()),
            uuid: "u-7".into(),
        };
        let v = entity_status_payload(&base, "FLAGGED", "ACTIVE");
        assert_eq!(v["webhook_type"], "user.status.updated");
        assert_eq!(
            (v["status"].as_str(), v["previous_status"].as_str()),
            (Some("FLAGGED"), Some("ACTIVE"))
        );
        assert!(v.get("data").is_none() && v.get("event").is_none() && v.get("reason").is_none());
        let base = EntityEventBase {
            webhook_type: EventType::UserDataUpdated,
            ..base
        };
        let v = entity_data_payload(
            &base,
            &[
                ("display_name", json!("Jo"), json!("Jo\u{eb}")),
                ("session_count", json!(1), json!(2)),
            ],
        );
        assert_eq!(
            v["changed_fields"],
            json!(["display_name", "session_count"])
        );
        assert_eq!(
            v["changes"]["session_count"],
            json!({"previous": 1, "current": 2})
        );
    }

    #[test]
    fn v1_envelope_and_kyb_fields() {
        let v = session_payload(WebhookVersion::V1, &event("Declined"));
        assert_eq!(v["decision"]["status"], "Declined");
        assert!(v.get("application_id").is_none());
        let mut ev = event("Approved");
        ev.kyb = Some(KybFields {
            business_session_id: Some("b".into()),
            vendor_business_id: None,
        });
        let v = session_payload(WebhookVersion::V3, &ev);
        assert_eq!(v["session_kind"], "business");
        assert_eq!(v["vendor_business_id"], Value::Null);
        assert_eq!(
            serde_json::to_value(WebhookVersion::V2).unwrap(),
            json!("v2")
        );
    }
}
