//! AML screening results as the API stores and shows them: the `aml_screenings[]` entry of a
//! session (spec §5.10) and the `aml` object of `POST /v3/aml/` (spec §8) share one payload shape.
//! This module holds what is pure about them — parsing the standalone request and the hit-review
//! bodies, applying reviews, adding hits found by ongoing monitoring, and deriving the payload's
//! summary fields — so that the store, the API and the pipeline agree. The screening itself lives
//! in `verity-aml`.
//!
//! Payload fields derived here:
//! - `total_hits`: number of hits;
//! - `score`: the highest `risk_score` among hits that are not `False Positive` (0 without any).
//!   The decision rules grade this number against `aml_score_approve_threshold` /
//!   `aml_score_review_threshold` (spec §7.5 step 4: the status follows the highest non-FP risk
//!   score), exactly as for the sandbox's AML payloads. Each hit keeps its own `match_score`.
//! - `v1_hits`: the hits in the v1 shape (seed 001), for `GET /v1/session/{id}/decision/`.

use crate::fields::{not_a_choice, FieldErrors, ObjectReader};
use crate::rules;
use crate::status::FeatureStatus;
use crate::workflow::Feature;
use serde_json::{json, Map, Value};

/// Didit's hit review statuses (spec §3.10).
pub const REVIEW_STATUSES: [&str; 4] = [
    "Unreviewed",
    "Confirmed Match",
    "False Positive",
    "Inconclusive",
];

pub const FALSE_POSITIVE: &str = "False Positive";

/// One reviewer decision on a hit.
#[derive(Debug, Clone, PartialEq)]
pub struct HitReview {
    pub hit_id: String,
    pub review_status: String,
}

/// `PATCH …/update-aml-hit-status/` or `…/bulk-update-aml-hit-status/`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct HitReviews {
    /// The AML node; the session's first AML node when omitted.
    pub node_id: Option<String>,
    pub reviews: Vec<HitReview>,
}

fn review_status(reader: &mut ObjectReader<'_>) -> Option<String> {
    let status = reader.required_string("review_status", 32)?;
    if REVIEW_STATUSES.contains(&status.as_str()) {
        Some(status)
    } else {
        reader.errors.add("review_status", not_a_choice(&status));
        None
    }
}

impl HitReviews {
    /// `{hit_id, review_status, node_id?}`.
    pub fn parse_single(body: &Map<String, Value>) -> Result<Self, FieldErrors> {
        let mut reader = ObjectReader::new(body);
        let hit_id = reader.required_string("hit_id", 256);
        let status = review_status(&mut reader);
        let node_id = reader.string("node_id", 128);
        let errors = reader.finish();
        let reviews = match (hit_id, status) {
            (Some(hit_id), Some(review_status)) => vec![HitReview {
                hit_id,
                review_status,
            }],
            _ => Vec::new(),
        };
        errors.into_result(HitReviews { node_id, reviews })
    }

    /// `{hit_updates: [{hit_id, review_status}], node_id?}`.
    pub fn parse_bulk(body: &Map<String, Value>) -> Result<Self, FieldErrors> {
        let mut reader = ObjectReader::new(body);
        let updates = reader.value("hit_updates").cloned();
        let node_id = reader.string("node_id", 128);
        let mut errors = reader.finish();
        let mut reviews = Vec::new();
        match updates {
            None => errors.add("hit_updates", crate::fields::REQUIRED),
            Some(Value::Array(items)) if items.is_empty() => {
                errors.add("hit_updates", "This list may not be empty.")
            }
            Some(Value::Array(items)) if items.len() > 500 => errors.add(
                "hit_updates",
                "Ensure this field has no more than 500 elements.",
            ),
            Some(Value::Array(items)) => {
                let mut item_errors = Vec::new();
                let mut any = false;
                for item in &items {
                    let Some(object) = item.as_object() else {
                        item_errors.push(FieldErrors::single(
                            "non_field_errors",
                            "Must be a JSON object.",
                        ));
                        any = true;
                        continue;
                    };
                    let mut reader = ObjectReader::new(object);
                    let hit_id = reader.required_string("hit_id", 256);
                    let status = review_status(&mut reader);
                    let item_error = reader.finish();
                    any |= !item_error.is_empty();
                    item_errors.push(item_error);
                    if let (Some(hit_id), Some(review_status)) = (hit_id, status) {
                        reviews.push(HitReview {
                            hit_id,
                            review_status,
                        });
                    }
                }
                if any {
                    errors.nest_list("hit_updates", item_errors);
                }
            }
            Some(_) => errors.add("hit_updates", "Expected a list of items."),
        }
        errors.into_result(HitReviews { node_id, reviews })
    }
}

fn hits_mut(payload: &mut Map<String, Value>) -> &mut Vec<Value> {
    let hits = payload.entry("hits").or_insert_with(|| json!([]));
    if !hits.is_array() {
        *hits = json!([]);
    }
    hits.as_array_mut().expect("hits is an array")
}

fn hit_id(hit: &Value) -> Option<&str> {
    hit.get("id").and_then(Value::as_str)
}

/// Applies reviews to a payload's hits. Returns `(hit_id, previous review_status)` per review;
/// an unknown hit id is a field error and nothing is applied.
pub fn apply_reviews(
    payload: &mut Map<String, Value>,
    reviews: &[HitReview],
) -> Result<Vec<(String, String)>, FieldErrors> {
    let hits = hits_mut(payload);
    let mut errors = FieldErrors::new();
    for review in reviews {
        if !hits
            .iter()
            .any(|h| hit_id(h) == Some(review.hit_id.as_str()))
        {
            errors.add(
                "hit_id",
                format!("No hit with id {:?} in this screening.", review.hit_id),
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut previous = Vec::new();
    for review in reviews {
        for hit in hits.iter_mut() {
            if hit_id(hit) == Some(review.hit_id.as_str()) {
                let before = hit
                    .get("review_status")
                    .and_then(Value::as_str)
                    .unwrap_or("Unreviewed")
                    .to_owned();
                hit["review_status"] = json!(review.review_status);
                previous.push((review.hit_id.clone(), before));
            }
        }
    }
    Ok(previous)
}

/// Appends the hits whose entity id the payload does not hold yet (ongoing monitoring: a hit
/// already reviewed keeps its review). Returns the ids added.
pub fn add_hits(payload: &mut Map<String, Value>, new_hits: Vec<Value>) -> Vec<String> {
    let hits = hits_mut(payload);
    let mut added = Vec::new();
    for hit in new_hits {
        let Some(id) = hit_id(&hit).map(str::to_owned) else {
            continue;
        };
        if hits.iter().any(|h| hit_id(h) == Some(id.as_str())) {
            continue;
        }
        hits.push(hit);
        added.push(id);
    }
    added
}

fn is_possible_match(hit: &Value) -> bool {
    hit.get("review_status").and_then(Value::as_str) != Some(FALSE_POSITIVE)
}

/// The v1 hit (seed 001) of a current-shape hit.
pub fn v1_hit(hit: &Value) -> Value {
    let score = hit
        .get("match_score")
        .and_then(Value::as_f64)
        .map(|s| (s / 100.0 * 10_000.0).round() / 10_000.0);
    json!({
        "id": hit.get("id"),
        "url": null,
        "match": is_possible_match(hit),
        "score": score,
        "target": true,
        "caption": hit.get("caption"),
        "datasets": hit.get("datasets"),
        "features": hit.get("features"),
        "first_seen": hit.get("first_seen"),
        "last_seen": hit.get("last_seen"),
        "last_change": hit.get("last_change"),
        "properties": hit.get("properties"),
    })
}

/// Recomputes `total_hits`, `score` and `v1_hits` from the hits (see the module docs).
pub fn refresh(payload: &mut Map<String, Value>) {
    let hits = hits_mut(payload).clone();
    let score = hits
        .iter()
        .filter(|h| is_possible_match(h))
        .filter_map(|h| h.get("risk_score").and_then(Value::as_f64))
        .fold(0.0, f64::max);
    payload.insert("total_hits".into(), json!(hits.len()));
    payload.insert("score".into(), json!(score));
    payload.insert(
        "v1_hits".into(),
        Value::Array(hits.iter().map(v1_hit).collect()),
    );
}

/// Refreshes the payload and judges it again with the decision rules (its warnings are
/// replaced); returns the node's status. Used after reviews and monitoring, where no engine
/// risk is involved (a screening that could not run has no hits to review or add to).
pub fn rejudge(
    node_id: &str,
    config: &Map<String, Value>,
    payload: &mut Map<String, Value>,
) -> FeatureStatus {
    refresh(payload);
    let (status, warnings) = rules::evaluate(Feature::Aml, node_id, config, payload, &[]);
    payload.insert("warnings".into(), Value::Array(warnings));
    status
}

/// Whether a stored AML payload asked for ongoing monitoring.
pub fn is_monitored(payload: &Map<String, Value>) -> bool {
    payload
        .get("is_ongoing_monitoring_enabled")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The AML keys of a workflow node config (spec §7.3) that a standalone request may override.
pub const CONFIG_KEYS: [&str; 6] = [
    "aml_name_weight",
    "aml_dob_weight",
    "aml_country_weight",
    "aml_match_score_threshold",
    "aml_score_approve_threshold",
    "aml_score_review_threshold",
];

/// `POST /v3/aml/` (spec §8), validated.
#[derive(Debug, Clone, PartialEq)]
pub struct StandaloneRequest {
    pub full_name: String,
    /// `person` or `company`.
    pub entity_type: String,
    pub date_of_birth: Option<String>,
    pub nationality: Option<String>,
    pub document_number: Option<String>,
    /// The AML node config: defaults of [`Feature::Aml`] with the request's overrides.
    pub config: Map<String, Value>,
    pub include_adverse_media: bool,
    pub include_ongoing_monitoring: bool,
    pub save_api_request: bool,
    pub vendor_data: Option<String>,
    pub metadata: Option<Value>,
}

fn valid_birth_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [y] => digits(y, 4),
        [y, m] => digits(y, 4) && digits(m, 2) && (1..=12).contains(&m.parse::<u32>().unwrap_or(0)),
        [_, _, _] => crate::timestamp::parse_date(text).is_some(),
        _ => false,
    }
}

impl StandaloneRequest {
    pub fn parse(body: &Map<String, Value>) -> Result<Self, FieldErrors> {
        let mut reader = ObjectReader::new(body);
        let full_name = reader.required_string("full_name", 512);
        let entity_type = reader.string("entity_type", 16);
        let date_of_birth = reader.string("date_of_birth", 10);
        let nationality = reader.string("nationality", 3);
        let document_number = reader.string("document_number", 64);
        let numbers: Vec<(&'static str, Option<&Value>)> = CONFIG_KEYS
            .iter()
            .map(|key| (*key, reader.value(key)))
            .collect();
        let adverse = reader.bool("include_adverse_media");
        let monitoring = reader.bool("include_ongoing_monitoring");
        let save = reader.bool("save_api_request");
        let vendor_data = reader.string("vendor_data", 1024);
        let metadata = reader.value("metadata").cloned();
        let mut errors = reader.finish();

        if full_name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            errors.add("full_name", "This field may not be blank.");
        }
        let entity_type = match entity_type.as_deref() {
            None => "person".to_owned(),
            Some(t @ ("person" | "company")) => t.to_owned(),
            Some(other) => {
                errors.add("entity_type", not_a_choice(other));
                String::new()
            }
        };
        if let Some(date) = &date_of_birth {
            if !valid_birth_date(date) {
                errors.add(
                    "date_of_birth",
                    "Date has wrong format. Use YYYY-MM-DD (or YYYY-MM, YYYY).",
                );
            }
        }
        if let Some(code) = &nationality {
            if !(code.len() == 2 || code.len() == 3)
                || !code.bytes().all(|b| b.is_ascii_alphabetic())
            {
                errors.add(
                    "nationality",
                    "Enter an ISO 3166-1 alpha-2 or alpha-3 country code (e.g. ES or ESP).",
                );
            }
        }
        let mut config = Feature::Aml
            .default_config()
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (key, value) in numbers {
            let Some(value) = value else { continue };
            match value.as_f64() {
                Some(n) if (0.0..=100.0).contains(&n) => {
                    config.insert(key.to_owned(), value.clone());
                }
                Some(_) => errors.add(key, "Ensure this value is between 0 and 100."),
                None => errors.add(key, "A valid number is required."),
            }
        }
        let number = |key: &str| config.get(key).and_then(Value::as_f64).unwrap_or(0.0);
        let weights = ["aml_name_weight", "aml_dob_weight", "aml_country_weight"];
        if weights.iter().all(|w| !errors.contains(w))
            && (weights.iter().map(|w| number(w)).sum::<f64>() - 100.0).abs() > 1e-6
        {
            errors.add(
                "non_field_errors",
                "aml_name_weight, aml_dob_weight and aml_country_weight must sum to 100.",
            );
        }
        if number("aml_score_approve_threshold") > number("aml_score_review_threshold") {
            errors.add(
                "aml_score_approve_threshold",
                "Must not exceed aml_score_review_threshold.",
            );
        }
        let save_api_request = save.unwrap_or(true);
        let include_ongoing_monitoring = monitoring.unwrap_or(false);
        if include_ongoing_monitoring && !save_api_request {
            errors.add(
                "include_ongoing_monitoring",
                "Ongoing monitoring needs save_api_request: a screening that is not stored cannot be monitored.",
            );
        }
        if metadata.as_ref().is_some_and(|m| !m.is_object()) {
            errors.add("metadata", "Must be a JSON object.");
        }
        config.insert(
            "is_ongoing_monitoring_enabled".into(),
            json!(include_ongoing_monitoring),
        );
        errors.into_result(StandaloneRequest {
            full_name: full_name.unwrap_or_default().trim().to_owned(),
            entity_type,
            date_of_birth,
            nationality: nationality.map(|n| n.to_ascii_uppercase()),
            document_number,
            config,
            include_adverse_media: adverse.unwrap_or(false),
            include_ongoing_monitoring,
            save_api_request,
            vendor_data,
            metadata,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn payload() -> Map<String, Value> {
        object(json!({
            "hits": [
                {"id": "a", "match_score": 97.0, "risk_score": 100.0, "review_status": "Unreviewed"},
                {"id": "b", "match_score": 95.0, "risk_score": 80.0, "review_status": "Unreviewed"},
                {"id": "c", "match_score": 88.0, "risk_score": 100.0, "review_status": "False Positive"}
            ]
        }))
    }

    #[test]
    fn score_is_the_highest_risk_of_possible_matches() {
        let config = object(Feature::Aml.default_config());
        let mut p = payload();
        assert_eq!(
            rejudge("feature_aml", &config, &mut p),
            FeatureStatus::Declined
        );
        assert_eq!(p["score"], json!(100.0));
        assert_eq!(p["total_hits"], json!(3));
        assert_eq!(p["v1_hits"][2]["match"], json!(false));
        assert_eq!(p["v1_hits"][0]["score"], json!(0.97));
        assert_eq!(p["warnings"][0]["risk"], "POSSIBLE_MATCH_FOUND");
        assert_eq!(p["warnings"][0]["log_type"], "error");

        let reviews = [HitReview {
            hit_id: "a".into(),
            review_status: FALSE_POSITIVE.into(),
        }];
        let previous = apply_reviews(&mut p, &reviews).unwrap();
        assert_eq!(previous, vec![("a".to_owned(), "Unreviewed".to_owned())]);
        assert_eq!(
            rejudge("feature_aml", &config, &mut p),
            FeatureStatus::InReview
        );
        assert_eq!(p["score"], json!(80.0));

        let reviews = [HitReview {
            hit_id: "b".into(),
            review_status: FALSE_POSITIVE.into(),
        }];
        apply_reviews(&mut p, &reviews).unwrap();
        assert_eq!(
            rejudge("feature_aml", &config, &mut p),
            FeatureStatus::Approved
        );
        assert_eq!(p["score"], json!(0.0));
        assert_eq!(p["warnings"], json!([]));
    }

    #[test]
    fn unknown_hits_are_refused_and_nothing_changes() {
        let mut p = payload();
        let reviews = [
            HitReview {
                hit_id: "a".into(),
                review_status: "Confirmed Match".into(),
            },
            HitReview {
                hit_id: "zz".into(),
                review_status: "Confirmed Match".into(),
            },
        ];
        let errors = apply_reviews(&mut p, &reviews).unwrap_err();
        assert!(errors.contains("hit_id"));
        assert_eq!(p["hits"][0]["review_status"], "Unreviewed");
    }

    #[test]
    fn monitoring_adds_only_unknown_entities() {
        let mut p = payload();
        let added = add_hits(
            &mut p,
            vec![
                json!({"id": "a", "review_status": "Unreviewed"}),
                json!({"id": "d", "review_status": "Unreviewed"}),
            ],
        );
        assert_eq!(added, vec!["d".to_owned()]);
        assert_eq!(p["hits"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn hit_review_bodies() {
        let single = HitReviews::parse_single(&object(
            json!({"hit_id": "x", "review_status": "Confirmed Match"}),
        ))
        .unwrap();
        assert_eq!(single.reviews.len(), 1);
        let errors = HitReviews::parse_single(&object(json!({"review_status": "Maybe"})))
            .unwrap_err()
            .to_json();
        assert!(errors.get("hit_id").is_some() && errors.get("review_status").is_some());
        let bulk = HitReviews::parse_bulk(&object(json!({
            "node_id": "feature_aml",
            "hit_updates": [{"hit_id": "x", "review_status": "False Positive"}, {"hit_id": "y", "review_status": "Inconclusive"}]
        })))
        .unwrap();
        assert_eq!(bulk.reviews.len(), 2);
        assert_eq!(bulk.node_id.as_deref(), Some("feature_aml"));
        let errors = HitReviews::parse_bulk(&object(json!({
            "hit_updates": [{"hit_id": "x"}, {"hit_id": "y", "review_status": "Inconclusive"}]
        })))
        .unwrap_err()
        .to_json();
        assert_eq!(
            errors["hit_updates"][0]["review_status"],
            json!([crate::fields::REQUIRED])
        );
        assert!(HitReviews::parse_bulk(&object(json!({"hit_updates": []}))).is_err());
    }

    #[test]
    fn standalone_request_validation() {
        let ok = StandaloneRequest::parse(&object(json!({
            "full_name": "Ivan Petrov", "date_of_birth": "1970", "nationality": "ru",
            "aml_name_weight": 70, "aml_dob_weight": 20, "aml_country_weight": 10,
            "include_ongoing_monitoring": true
        })))
        .unwrap();
        assert_eq!(ok.entity_type, "person");
        assert_eq!(ok.nationality.as_deref(), Some("RU"));
        assert_eq!(ok.config["aml_name_weight"], json!(70));
        assert_eq!(ok.config["is_ongoing_monitoring_enabled"], json!(true));
        assert!(ok.save_api_request);

        let errors = StandaloneRequest::parse(&object(json!({
            "entity_type": "vessel", "date_of_birth": "1970-13-01", "nationality": "R1",
            "aml_name_weight": 90, "aml_match_score_threshold": 120, "colour": "red",
            "include_ongoing_monitoring": true, "save_api_request": false
        })))
        .unwrap_err()
        .to_json();
        for field in [
            "full_name",
            "entity_type",
            "date_of_birth",
            "nationality",
            "aml_match_score_threshold",
            "non_field_errors",
            "colour",
            "include_ongoing_monitoring",
        ] {
            assert!(errors.get(field).is_some(), "{field}: {errors}");
        }
    }
}
