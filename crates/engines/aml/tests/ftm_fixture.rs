//! Always-run end-to-end test on a small generated FollowTheMoney fixture:
//! import, scoring rules, Didit hit shapes, monitoring across two versions.

use serde_json::{json, Value};
use verity_aml::{
    diff_datasets, import_ftm, AmlStatus, DatasetIndex, EntityType, ReviewStatus, Screener,
    ScreeningConfig, ScreeningRequest,
};

fn entity(id: &str, schema: &str, props: Value, seen: &str) -> String {
    json!({
        "id": id,
        "schema": schema,
        "caption": props["name"][0],
        "properties": props,
        "datasets": ["fixture"],
        "first_seen": seen,
        "last_seen": "2024-05-01T00:00:00",
        "last_change": seen,
    })
    .to_string()
}

fn fixture_v1() -> String {
    [
        entity(
            "p-kozlov",
            "Person",
            json!({"name": ["Kozlov Sergey Alexandrovich"], "alias": ["Козлов Сергей Александрович"],
                   "birthDate": ["1975-03-14"], "nationality": ["ru"], "passportNumber": ["7512 345678"],
                   "topics": ["sanction"]}),
            "2023-06-23T12:02:51",
        ),
        entity(
            "p-pep",
            "Person",
            json!({"name": ["Maria Elena Gonzalez Ruiz"], "birthDate": ["1961"], "nationality": ["mx"],
                   "topics": ["role.pep"], "position": ["Senator"]}),
            "2022-01-01T00:00:00",
        ),
        entity(
            "c-romashka",
            "Company",
            json!({"name": ["ООО Ромашка"], "alias": ["Romashka LLC"], "country": ["ru"], "topics": ["sanction"]}),
            "2023-01-01T00:00:00",
        ),
        entity(
            "v-ship",
            "Vessel",
            json!({"name": ["Ocean Star"], "flag": ["pa"], "topics": ["sanction"]}),
            "2023-01-01T00:00:00",
        ),
        r#"{"id":"s-1","schema":"Sanction","properties":{"entity":["p-kozlov"]}}"#.to_string(),
    ]
    .join("\n")
}

fn fixture_v2() -> String {
    let mut v = fixture_v1();
    v.push('\n');
    v.push_str(&entity(
        "p-new",
        "Person",
        json!({"name": ["Ahmad Khalil Haddad"], "birthDate": ["1980-07-01"], "nationality": ["lb"],
               "topics": ["crime.terror", "sanction"]}),
        "2024-05-02T00:00:00",
    ));
    v.push('\n');
    v.push_str("{broken json\n");
    v
}

fn screener(data: &str, version: &str) -> (Screener, verity_aml::Dataset) {
    let (ds, report) = import_ftm(data.as_bytes(), "fixture", version, Some("2024-05-01"));
    assert_eq!(report.skipped, vec![("Sanction".to_string(), 1)]);
    let s = Screener::new();
    s.install(DatasetIndex::build(ds.clone()));
    (s, ds)
}

#[test]
fn screening_rules_and_hit_shape() {
    let (s, _) = screener(&fixture_v1(), "v1");
    let cfg = ScreeningConfig::default();

    // Name only, Cyrillic input against a Latin entry (and vice versa).
    let r = s.screen(&ScreeningRequest::person("Сергей Козлов"), &cfg);
    assert_eq!(r.hits[0].id, "p-kozlov");
    assert_eq!(r.status, AmlStatus::Declined);

    // DOB and nationality agree: full marks, weights 60/25/15.
    let full = ScreeningRequest {
        full_name: "Sergey Kozlov".into(),
        date_of_birth: Some("1975-03-14".into()),
        nationality: Some("RUS".into()),
        ..Default::default()
    };
    let r = s.screen(&full, &cfg);
    let h = &r.hits[0];
    assert_eq!(h.review_status, ReviewStatus::Unreviewed);
    assert_eq!(h.score_breakdown.dob_score, Some(100.0));
    assert_eq!(h.score_breakdown.country_score, Some(100.0));
    assert_eq!(
        (
            h.score_breakdown.name_weight,
            h.score_breakdown.dob_weight,
            h.score_breakdown.country_weight
        ),
        (60.0, 25.0, 15.0)
    );

    // Same name, different date of birth: demoted to False Positive, and
    // the node is approved.
    let other = ScreeningRequest {
        date_of_birth: Some("1990-01-01".into()),
        ..full.clone()
    };
    let r = s.screen(&other, &cfg);
    assert_eq!(r.hits[0].review_status, ReviewStatus::FalsePositive);
    assert_eq!(r.hits[0].score_breakdown.dob_score, Some(-100.0));
    assert_eq!(r.status, AmlStatus::Approved);
    assert!(r.warnings.is_empty());

    // Golden key: the passport number matches whatever the spelling.
    let doc = ScreeningRequest {
        full_name: "S. Kozlow".into(),
        document_number: Some("7512345678".into()),
        ..Default::default()
    };
    let r = s.screen(&doc, &cfg);
    assert!(r.hits[0].score_breakdown.document_match);
    assert_eq!(r.hits[0].match_score, 100.0);

    // A PEP hit goes to review, not decline (risk 80 with default thresholds).
    let r = s.screen(&ScreeningRequest::person("Maria Elena Gonzalez Ruiz"), &cfg);
    assert_eq!(r.status, AmlStatus::InReview);
    assert_eq!(r.warnings[0].log_type, "warning");
    assert_eq!(r.hits[0].pep_matches[0].positions, ["Senator"]);

    // Companies: legal forms and script do not matter; people are not
    // matched against companies.
    let company = ScreeningRequest {
        full_name: "Romashka, OOO".into(),
        entity_type: EntityType::Company,
        ..Default::default()
    };
    let r = s.screen(&company, &cfg);
    assert_eq!(r.hits[0].id, "c-romashka");
    let r = s.screen(&ScreeningRequest::person("Romashka"), &cfg);
    assert!(r.hits.iter().all(|h| h.id != "c-romashka"));

    // Someone unrelated is clear.
    let r = s.screen(&ScreeningRequest::person("John Smith"), &cfg);
    assert_eq!(r.status, AmlStatus::Approved);
    assert_eq!(r.total_hits, 0);

    // Didit shapes: current hit and v1 hit.
    let r = s.screen(&full, &cfg);
    let v: Value = serde_json::to_value(&r).expect("json");
    for key in [
        "status",
        "total_hits",
        "entity_type",
        "score",
        "screened_data",
        "hits",
        "warnings",
        "dataset_versions",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let hit = &v["hits"][0];
    for key in [
        "id",
        "caption",
        "match_score",
        "risk_score",
        "review_status",
        "datasets",
        "properties",
        "score_breakdown",
        "risk_view",
        "pep_matches",
        "sanction_matches",
        "warning_matches",
        "adverse_media_matches",
        "linked_entities",
        "first_seen",
        "last_seen",
    ] {
        assert!(hit.get(key).is_some(), "hit missing {key}");
    }
    assert_eq!(hit["review_status"], "Unreviewed");
    assert_eq!(hit["properties"]["nationality"][0], "ru");
    assert_eq!(v["status"], "Declined");
    assert_eq!(v["dataset_versions"][0]["version"], "v1");
    let v1 = serde_json::to_value(r.to_v1()).expect("json");
    assert_eq!(v1["hits"][0]["match"], true);
    assert_eq!(v1["hits"][0]["target"], true);
    let score = v1["hits"][0]["score"].as_f64().expect("score");
    assert!((0.0..=1.0).contains(&score));
    assert!(v1["hits"][0]["features"]["person_name_jaro_winkler"]
        .as_f64()
        .is_some());
    assert!(v1["hits"][0]["features"]["person_name_phonetic_match"]
        .as_f64()
        .is_some());
}

#[test]
fn no_data_means_could_not_screen() {
    let s = Screener::new();
    let r = s.screen(
        &ScreeningRequest::person("Anyone"),
        &ScreeningConfig::default(),
    );
    assert_eq!(r.status, AmlStatus::InReview);
    assert_eq!(r.warnings[0].risk, "COULD_NOT_PERFORM_AML_SCREENING");
    let (s, _) = screener(&fixture_v1(), "v1");
    let r = s.screen(
        &ScreeningRequest::person("  ...  "),
        &ScreeningConfig::default(),
    );
    assert_eq!(r.warnings[0].risk, "COULD_NOT_PERFORM_AML_SCREENING");
}

#[test]
fn monitoring_across_versions() {
    let (s, v1) = screener(&fixture_v1(), "v1");
    let (v2, report) = import_ftm(fixture_v2().as_bytes(), "fixture", "v2", Some("2024-05-02"));
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].line, 7);
    let cfg = ScreeningConfig::default();
    let subject = ScreeningRequest {
        full_name: "Ahmed Khalil Hadad".into(),
        date_of_birth: Some("1980-07-01".into()),
        ..Default::default()
    };
    let before = s.screen(&subject, &cfg);
    assert_eq!(before.status, AmlStatus::Approved);

    let diff = diff_datasets(&v1, &v2);
    assert_eq!(diff.added, ["p-new"]);
    assert!(diff.changed.is_empty() && diff.removed.is_empty());
    let delta = std::sync::Arc::new(diff.delta_index(&v2));
    let monitored = verity_aml::screen_indexes(&[delta], &subject, &cfg);
    assert_eq!(monitored.hits[0].id, "p-new");
    assert_eq!(monitored.status, AmlStatus::Declined);

    s.install(DatasetIndex::build(v2));
    let after = s.screen(&subject, &cfg);
    let new = after.new_possible_matches(&before);
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].id, "p-new");
    assert_eq!(new[0].warning_matches[0].topic, "crime.terror");
    assert_eq!(after.dataset_versions[0].version, "v2");
}
