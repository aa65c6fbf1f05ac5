//! Webhook configuration vocabulary (spec §3.14, §6.4): event types, payload versions, and the
//! parsers of the destination and legacy single-URL bodies.

use crate::fields::{not_a_choice, FieldErrors, ObjectReader};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use std::str::FromStr;

/// The complete set of `subscribed_events` strings (spec §6.4; no wildcards).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "status.updated")]
    StatusUpdated,
    #[serde(rename = "data.updated")]
    DataUpdated,
    #[serde(rename = "user.status.updated")]
    UserStatusUpdated,
    #[serde(rename = "user.data.updated")]
    UserDataUpdated,
    #[serde(rename = "business.status.updated")]
    BusinessStatusUpdated,
    #[serde(rename = "business.data.updated")]
    BusinessDataUpdated,
    #[serde(rename = "activity.created")]
    ActivityCreated,
    #[serde(rename = "transaction.created")]
    TransactionCreated,
    #[serde(rename = "transaction.status.updated")]
    TransactionStatusUpdated,
    #[serde(rename = "travel_rule.status.updated")]
    TravelRuleStatusUpdated,
}

impl EventType {
    pub const ALL: [EventType; 10] = [
        Self::StatusUpdated,
        Self::DataUpdated,
        Self::UserStatusUpdated,
        Self::UserDataUpdated,
        Self::BusinessStatusUpdated,
        Self::BusinessDataUpdated,
        Self::ActivityCreated,
        Self::TransactionCreated,
        Self::TransactionStatusUpdated,
        Self::TravelRuleStatusUpdated,
    ];

    /// What a destination created without `subscribed_events` receives. The spec is UNCERTAIN
    /// (one source: "subscribes to nothing", the MCP server: "omit to receive all"); a destination
    /// that silently receives nothing is a trap, so Verity subscribes it to every event.
    pub const DEFAULT_SUBSCRIPTION: [EventType; 10] = Self::ALL;

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StatusUpdated => "status.updated",
            Self::DataUpdated => "data.updated",
            Self::UserStatusUpdated => "user.status.updated",
            Self::UserDataUpdated => "user.data.updated",
            Self::BusinessStatusUpdated => "business.status.updated",
            Self::BusinessDataUpdated => "business.data.updated",
            Self::ActivityCreated => "activity.created",
            Self::TransactionCreated => "transaction.created",
            Self::TransactionStatusUpdated => "transaction.status.updated",
            Self::TravelRuleStatusUpdated => "travel_rule.status.updated",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown webhook event type {0:?}")]
pub struct UnknownEventType(pub String);

impl FromStr for EventType {
    type Err = UnknownEventType;
    /// Exact, case-sensitive match (Didit answers 400 for anything else).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| UnknownEventType(s.to_owned()))
    }
}

/// A destination's `webhook_version`: the v1 envelope, the v3 envelope around the singular v2
/// decision, or the v3 envelope and decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WebhookVersion {
    V1,
    V2,
    #[default]
    V3,
}

impl WebhookVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
            Self::V3 => "v3",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "v1" => Some(Self::V1),
            "v2" => Some(Self::V2),
            "v3" => Some(Self::V3),
            _ => None,
        }
    }
}

/// Longest accepted destination URL.
pub const MAX_URL_LEN: usize = 2048;
/// Default overlap after a secret rotation: the previous secret keeps signing for a day.
pub const DEFAULT_ROTATION_OVERLAP_SECONDS: i64 = 86_400;
const MAX_ROTATION_OVERLAP_SECONDS: i64 = 30 * 86_400;

/// A new destination (`POST /v3/webhook/destinations/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationSpec {
    pub label: String,
    pub url: String,
    pub enabled: bool,
    pub webhook_version: WebhookVersion,
    pub subscribed_events: Vec<EventType>,
    /// Also send the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
    /// `webhook-signature`). A Verity extension; Didit receivers ignore them.
    pub standard_webhooks: bool,
}

/// A partial update (`PATCH /v3/webhook/destinations/{uuid}/`); `None` keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DestinationPatch {
    pub label: Option<String>,
    pub url: Option<String>,
    pub enabled: Option<bool>,
    pub webhook_version: Option<WebhookVersion>,
    pub subscribed_events: Option<Vec<EventType>>,
    pub standard_webhooks: Option<bool>,
    /// `rotate_secret_key: true`: a new secret is generated and shown once; the previous one keeps
    /// signing for `rotation_overlap_seconds` (see the store's signing-key rules).
    pub rotate_secret: Option<RotationOverlap>,
}

/// How long the previous secret stays in use after a rotation (0 = retired immediately).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationOverlap {
    pub seconds: i64,
}

fn read_events(reader: &mut ObjectReader<'_>) -> Option<Vec<EventType>> {
    let value = reader.value("subscribed_events")?;
    let Value::Array(items) = value else {
        reader
            .errors
            .add("subscribed_events", "Expected a list of items.");
        return None;
    };
    if items.is_empty() {
        reader
            .errors
            .add("subscribed_events", "This list may not be empty.");
        return None;
    }
    let mut events = Vec::with_capacity(items.len());
    for item in items {
        match item.as_str().map(EventType::from_str) {
            Some(Ok(event)) if !events.contains(&event) => events.push(event),
            Some(Ok(_)) => {}
            Some(Err(UnknownEventType(text))) => {
                reader.errors.add("subscribed_events", not_a_choice(&text))
            }
            None => reader
                .errors
                .add("subscribed_events", "Each item must be a string."),
        }
    }
    Some(events)
}

fn read_version(reader: &mut ObjectReader<'_>) -> Option<WebhookVersion> {
    let text = reader.string("webhook_version", 8)?;
    let version = WebhookVersion::parse(&text);
    if version.is_none() {
        reader.errors.add("webhook_version", not_a_choice(&text));
    }
    version
}

fn read_url(reader: &mut ObjectReader<'_>, required: bool) -> Option<String> {
    let url = if required {
        reader.required_string("url", MAX_URL_LEN)
    } else {
        reader.string("url", MAX_URL_LEN)
    }?;
    if url.trim().is_empty() {
        reader.errors.add("url", "This field may not be blank.");
        return None;
    }
    Some(url)
}

fn read_label(reader: &mut ObjectReader<'_>) -> Option<String> {
    let label = reader.string("label", 255)?;
    if label.trim().is_empty() {
        reader.errors.add("label", "This field may not be blank.");
        return None;
    }
    Some(label)
}

/// Refuses a new destination when the application already has `max`: every session event is
/// delivered to each destination, so an unbounded number would amplify traffic against a third
/// party and turn each event into a storm of outbox writes.
pub fn check_destination_room(existing: usize, max: usize) -> Result<(), crate::Error> {
    if existing >= max {
        return Err(crate::Error::Rule(format!(
            "An application can have at most {max} webhook destinations; delete one first."
        )));
    }
    Ok(())
}

/// Parses a create body. `label` defaults to the URL's text (Didit requires it; Verity is
/// lenient because the legacy single-URL API has no label).
pub fn parse_destination(body: &Map<String, Value>) -> Result<DestinationSpec, FieldErrors> {
    let mut reader = ObjectReader::new(body);
    let label = read_label(&mut reader);
    let url = read_url(&mut reader, true);
    let enabled = reader.bool("enabled").unwrap_or(true);
    let webhook_version = read_version(&mut reader).unwrap_or_default();
    let subscribed_events =
        read_events(&mut reader).unwrap_or_else(|| EventType::DEFAULT_SUBSCRIPTION.to_vec());
    let standard_webhooks = reader.bool("standard_webhooks").unwrap_or(false);
    let errors = reader.finish();
    let url = url.unwrap_or_default();
    errors.into_result(DestinationSpec {
        label: label.unwrap_or_else(|| url.clone()),
        url,
        enabled,
        webhook_version,
        subscribed_events,
        standard_webhooks,
    })
}

/// Parses a partial update.
pub fn parse_destination_patch(body: &Map<String, Value>) -> Result<DestinationPatch, FieldErrors> {
    let mut reader = ObjectReader::new(body);
    let mut patch = DestinationPatch {
        label: read_label(&mut reader),
        url: read_url(&mut reader, false),
        enabled: reader.bool("enabled"),
        webhook_version: read_version(&mut reader),
        subscribed_events: read_events(&mut reader),
        standard_webhooks: reader.bool("standard_webhooks"),
        rotate_secret: None,
    };
    let rotate = reader.bool("rotate_secret_key").unwrap_or(false);
    let overlap = reader.integer("rotation_overlap_seconds", 0, MAX_ROTATION_OVERLAP_SECONDS);
    if rotate {
        patch.rotate_secret = Some(RotationOverlap {
            seconds: overlap.unwrap_or(DEFAULT_ROTATION_OVERLAP_SECONDS),
        });
    } else if overlap.is_some() {
        reader.errors.add(
            "rotation_overlap_seconds",
            "Only allowed together with rotate_secret_key: true.",
        );
    }
    reader.finish().into_result(patch)
}

/// `capture_method` of the legacy app configuration.
pub const CAPTURE_METHODS: [&str; 3] = ["mobile", "desktop", "both"];

/// `PATCH /v3/webhook/` (the legacy single-URL configuration, spec §3.14).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LegacyWebhookPatch {
    /// `Some(None)`: `webhook_url: null` disables the legacy destination.
    pub webhook_url: Option<Option<String>>,
    pub webhook_version: Option<WebhookVersion>,
    /// The application secret is replaced at once (Didit: "old secret invalid immediately").
    pub rotate_secret_key: bool,
    /// The other legacy settings, validated, to merge into the stored ones.
    pub settings: Map<String, Value>,
}

pub fn parse_legacy_webhook_patch(
    body: &Map<String, Value>,
) -> Result<LegacyWebhookPatch, FieldErrors> {
    let mut reader = ObjectReader::new(body);
    let webhook_url = if body.get("webhook_url").is_some_and(Value::is_null) {
        reader.value("webhook_url");
        Some(None)
    } else {
        reader
            .string("webhook_url", MAX_URL_LEN)
            .map(|url| (!url.trim().is_empty()).then_some(url))
    };
    let webhook_version = read_version(&mut reader);
    let rotate_secret_key = reader.bool("rotate_secret_key").unwrap_or(false);
    let mut settings = Map::new();
    if let Some(method) = reader.string("capture_method", 16) {
        if CAPTURE_METHODS.contains(&method.as_str()) {
            settings.insert("capture_method".into(), method.into());
        } else {
            reader.errors.add("capture_method", not_a_choice(&method));
        }
    }
    if body
        .get("data_retention_months")
        .is_some_and(Value::is_null)
    {
        settings.insert("data_retention_months".into(), Value::Null);
    }
    if let Some(months) = reader.integer("data_retention_months", 1, 120) {
        settings.insert("data_retention_months".into(), months.into());
    }
    if let Some(value) = reader.value("allowed_domains") {
        match value.as_array() {
            Some(items) if items.iter().all(|d| d.as_str().is_some_and(is_domain)) => {
                settings.insert("allowed_domains".into(), value.clone());
            }
            _ => reader.errors.add(
                "allowed_domains",
                "Expected a list of domain names such as \"example.com\".",
            ),
        }
    }
    reader.finish().into_result(LegacyWebhookPatch {
        webhook_url,
        webhook_version,
        rotate_secret_key,
        settings,
    })
}

fn is_domain(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn every_event_type_round_trips_through_its_wire_string() {
        for event in EventType::ALL {
            assert_eq!(event.as_str().parse::<EventType>(), Ok(event));
            assert_eq!(serde_json::to_value(event).unwrap(), json!(event.as_str()));
        }
        assert!("Status.Updated".parse::<EventType>().is_err());
        assert!("*".parse::<EventType>().is_err());
    }

    #[test]
    fn destination_defaults_and_validation() {
        let spec =
            parse_destination(&object(json!({"url": "https://hooks.example.com/x"}))).unwrap();
        assert_eq!(spec.label, "https://hooks.example.com/x");
        assert!(spec.enabled);
        assert_eq!(spec.webhook_version, WebhookVersion::V3);
        assert_eq!(spec.subscribed_events, EventType::ALL.to_vec());

        let errors = parse_destination(&object(json!({
            "subscribed_events": ["status.updated", "session.created"],
            "webhook_version": "v4",
            "colour": "red"
        })))
        .unwrap_err()
        .to_json();
        assert_eq!(errors["url"], json!(["This field is required."]));
        assert_eq!(
            errors["subscribed_events"],
            json!(["\"session.created\" is not a valid choice."])
        );
        assert_eq!(
            errors["webhook_version"],
            json!(["\"v4\" is not a valid choice."])
        );
        assert!(errors.get("colour").is_some());

        let empty = parse_destination(&object(
            json!({"url": "https://a.b", "subscribed_events": []}),
        ))
        .unwrap_err()
        .to_json();
        assert_eq!(
            empty["subscribed_events"],
            json!(["This list may not be empty."])
        );
    }

    #[test]
    fn patch_reads_only_what_is_given_and_rotation_overlap() {
        let patch = parse_destination_patch(&object(json!({"enabled": false}))).unwrap();
        assert_eq!(
            patch,
            DestinationPatch {
                enabled: Some(false),
                ..Default::default()
            }
        );
        let rotate = parse_destination_patch(&object(json!({"rotate_secret_key": true}))).unwrap();
        assert_eq!(
            rotate.rotate_secret,
            Some(RotationOverlap {
                seconds: DEFAULT_ROTATION_OVERLAP_SECONDS
            })
        );
        let immediate = parse_destination_patch(&object(
            json!({"rotate_secret_key": true, "rotation_overlap_seconds": 0}),
        ))
        .unwrap();
        assert_eq!(
            immediate.rotate_secret,
            Some(RotationOverlap { seconds: 0 })
        );
        assert!(parse_destination_patch(&object(json!({"rotation_overlap_seconds": 10}))).is_err());
    }

    #[test]
    fn legacy_patch_distinguishes_null_from_absent() {
        let disable = parse_legacy_webhook_patch(&object(json!({"webhook_url": null}))).unwrap();
        assert_eq!(disable.webhook_url, Some(None));
        let keep = parse_legacy_webhook_patch(&object(json!({"capture_method": "both"}))).unwrap();
        assert_eq!(keep.webhook_url, None);
        assert_eq!(keep.settings["capture_method"], json!("both"));
        let errors = parse_legacy_webhook_patch(&object(json!({
            "capture_method": "tablet",
            "data_retention_months": 0,
            "allowed_domains": ["ok.example.com", "not a domain"]
        })))
        .unwrap_err()
        .to_json();
        assert!(errors.get("capture_method").is_some());
        assert!(errors.get("data_retention_months").is_some());
        assert!(errors.get("allowed_domains").is_some());
    }
}
