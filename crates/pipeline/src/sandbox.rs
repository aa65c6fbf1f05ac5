//! The sandbox runner (spec §9.4): mocks every engine. It never looks at pixels; the session's
//! scenario decides what each mocked engine *observes*, and the payloads are complete and
//! realistic (names, document number, dates, a valid MRZ, image URLs of the stored captures,
//! scores, hits). Whether that observation declines, needs review or passes is decided by the
//! pipeline's cross-checks and rules, exactly as for a live session.
//!
//! The identity is derived from the session: `expected_details` when given (so an approved
//! sandbox session matches what the caller expects), otherwise one of a few sample people
//! chosen by the session id. The document number is `expected_details.identification_number`
//! when given, else unique per session: sandbox sessions flag each other as duplicated users
//! only when the caller gives them the same number.

use crate::runner::{NodeInput, NodeOutput, NodeRunner};
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use time::{Date, Duration, OffsetDateTime};
use verity_domain::capture::CaptureKind;
use verity_domain::checks::{fold_ascii, mrz_check_digit};
use verity_domain::rules::Risk;
use verity_domain::sandbox::{choose, Scenario};
use verity_domain::workflow::Feature;

pub struct SandboxRunner;

/// The person a sandbox session verifies.
#[derive(Debug, Clone)]
struct Identity {
    first_name: String,
    last_name: String,
    gender: String,
    nationality: String,
    issuing_state: String,
    date_of_birth: Date,
    address: String,
    city: String,
    postal_code: String,
    document_number: String,
    email: Option<String>,
    phone: Option<String>,
}

const PEOPLE: [(&str, &str, &str, &str, &str, &str, &str); 4] = [
    (
        "Elena",
        "Martínez García",
        "F",
        "ESP",
        "Calle de Alcalá 48, 3º B",
        "Madrid",
        "28014",
    ),
    (
        "Lukas",
        "Schneider",
        "M",
        "DEU",
        "Torstraße 112",
        "Berlin",
        "10119",
    ),
    (
        "Amélie",
        "Durand",
        "F",
        "FRA",
        "12 Rue des Martyrs",
        "Paris",
        "75009",
    ),
    (
        "Tomás",
        "Novák",
        "M",
        "CZE",
        "Vinohradská 1511/230",
        "Praha",
        "10000",
    ),
];

fn seed(input: &NodeInput<'_>) -> [u8; 32] {
    Sha256::digest(input.session.id.to_string().as_bytes()).into()
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

fn years_ago(years: i32) -> Date {
    let today = today();
    today
        .replace_year(today.year() - years)
        .unwrap_or_else(|_| today - Duration::days(365 * i64::from(years)))
}

fn identity(input: &NodeInput<'_>, scenario: &Scenario) -> Identity {
    let hash = seed(input);
    let person = PEOPLE[usize::from(hash[0]) % PEOPLE.len()];
    let expected = input.session.expected_details.as_ref();
    let wanted = |key: &str| {
        expected
            .and_then(|e| e.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let contact = |key: &str| {
        input
            .session
            .contact_details
            .as_ref()
            .and_then(|c| c.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let birth = match scenario.slug {
        "decline_minimum_age" => years_ago(16),
        _ => wanted("date_of_birth")
            .and_then(|d| verity_domain::timestamp::parse_date(&d))
            .unwrap_or_else(|| years_ago(30 + i32::from(hash[1] % 20))),
    };
    let number = format!(
        "{}{:07}",
        char::from(b'A' + hash[2] % 26),
        u32::from_be_bytes([0, hash[3], hash[4], hash[5]]) % 10_000_000
    );
    Identity {
        first_name: wanted("first_name").unwrap_or_else(|| person.0.to_owned()),
        last_name: wanted("last_name").unwrap_or_else(|| person.1.to_owned()),
        gender: wanted("gender").unwrap_or_else(|| person.2.to_owned()),
        nationality: wanted("nationality").unwrap_or_else(|| person.3.to_owned()),
        issuing_state: wanted("id_country")
            .or_else(|| wanted("country").filter(|c| c.len() == 3))
            .unwrap_or_else(|| person.3.to_owned()),
        date_of_birth: birth,
        address: wanted("address")
            .unwrap_or_else(|| format!("{}, {} {}", person.4, person.6, person.5)),
        city: person.5.to_owned(),
        postal_code: person.6.to_owned(),
        document_number: wanted("identification_number").unwrap_or(number),
        email: contact("email"),
        phone: contact("phone"),
    }
}

impl Identity {
    fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

fn mrz_field(text: &str, width: usize) -> String {
    let mut field: String = fold_ascii(text)
        .to_ascii_uppercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '<' })
        .collect();
    field.truncate(width);
    format!("{field:<<width$}")
}

fn yymmdd(date: Date) -> String {
    format!(
        "{:02}{:02}{:02}",
        date.year() % 100,
        date.month() as u8,
        date.day()
    )
}

fn digit(field: &str) -> String {
    mrz_check_digit(field).map_or("<".to_owned(), |d| d.to_string())
}

/// A TD3 (passport) MRZ with valid check digits; `corrupt` breaks the birth-date digit.
fn passport_mrz(id: &Identity, expiry: Date, corrupt: bool) -> String {
    let names = format!(
        "{}<<{}",
        mrz_field(&id.last_name, 39).trim_end_matches('<'),
        mrz_field(&id.first_name, 39).trim_end_matches('<')
    );
    let line1 = format!("P<{}{}", id.issuing_state, mrz_field(&names, 39));
    let number = mrz_field(&id.document_number, 9);
    let birth = yymmdd(id.date_of_birth);
    let expiry = yymmdd(expiry);
    let optional = "<".repeat(14);
    let mut birth_digit = digit(&birth);
    if corrupt {
        let wrong = (birth_digit.parse::<u32>().unwrap_or(0) + 1) % 10;
        birth_digit = wrong.to_string();
    }
    let part1 = format!("{number}{}{}", digit(&number), id.nationality);
    let part2 = format!("{birth}{birth_digit}{}", id.gender);
    let part3 = format!("{expiry}{}{optional}{}", digit(&expiry), digit(&optional));
    let composite = format!("{}{}{}", &part1[..10], &part2[..7], &part3);
    let line2 = format!("{part1}{part2}{part3}{}", digit(&composite));
    format!("{line1}\n{line2}")
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

impl SandboxRunner {
    fn document(&self, input: &NodeInput<'_>, scenario: &Scenario, id: &Identity) -> NodeOutput {
        let today = today();
        if scenario.slug == "decline_could_not_recognize_document" {
            return NodeOutput {
                payload: object(json!({
                    "environment": "sandbox",
                    "verification_method": "document",
                    "assurance": "documentary",
                    "document_type": null,
                    "front_image": input.media_url("document_front"),
                    "back_image": input.has_capture(CaptureKind::DocumentBack).then(|| input.media_url("document_back")),
                    "front_image_quality_score": {"focus_score": 21.0, "brightness_score": 40.0, "brightness_issue": "too_dark", "is_document_fully_visible": false, "resolution_score": 35.0, "overall_score": 24.0},
                })),
                risks: vec![Risk::new("COULD_NOT_DETECT_DOCUMENT_TYPE")],
            };
        }
        let (issued, expiry) = if scenario.slug == "decline_document_expired" {
            (today - Duration::days(3830), today - Duration::days(180))
        } else {
            (today - Duration::days(1100), today + Duration::days(2550))
        };
        let mrz = passport_mrz(id, expiry, scenario.slug == "decline_mrz_validation");
        let age = verity_domain::checks::age_on(id.date_of_birth, today);
        let state_name = country_name(&id.issuing_state);
        let mut payload = object(json!({
            "environment": "sandbox",
            "verification_method": "document",
            "assurance": "documentary",
            "document_type": "Passport",
            "document_subtype": null,
            "document_number": id.document_number,
            "personal_number": null,
            "portrait_image": input.media_url("document_front"),
            "front_image": input.media_url("document_front"),
            "back_image": input.has_capture(CaptureKind::DocumentBack).then(|| input.media_url("document_back")),
            "full_front_image": input.media_url("document_front"),
            "date_of_birth": id.date_of_birth.to_string(),
            "age": age,
            "expiration_date": expiry.to_string(),
            "date_of_issue": issued.to_string(),
            "issuing_state": id.issuing_state,
            "issuing_state_name": state_name,
            "first_name": id.first_name,
            "last_name": id.last_name,
            "full_name": id.full_name(),
            "gender": id.gender,
            "address": id.address,
            "formatted_address": id.address,
            "parsed_address": {"street_1": id.address.split(',').next().unwrap_or_default(), "street_2": null, "city": id.city, "region": null, "postal_code": id.postal_code, "country": id.issuing_state},
            "place_of_birth": id.city,
            "marital_status": "UNKNOWN",
            "nationality": id.nationality,
            "extra_fields": {},
            "mrz": {
                "surname": mrz_field(&id.last_name, 39).trim_end_matches('<').replace('<', " "),
                "name": mrz_field(&id.first_name, 39).trim_end_matches('<').replace('<', " "),
                "country": id.issuing_state, "nationality": id.nationality,
                "birth_date": yymmdd(id.date_of_birth), "expiry_date": yymmdd(expiry), "sex": id.gender,
                "document_type": "P", "document_number": id.document_number,
                "mrz_type": "TD3", "mrz_string": mrz,
            },
            "front_image_quality_score": {"focus_score": 92.4, "brightness_score": 88.1, "brightness_issue": null, "is_document_fully_visible": true, "resolution_score": 95.0, "overall_score": 91.8},
            "front_image_camera_front_face_match_score": null,
            "extra_files": [],
            "matches": [],
        }));
        // The data-transfer feature reads the verified contact details from here.
        payload.insert("email".into(), json!(id.email));
        payload.insert("phone".into(), json!(id.phone));
        NodeOutput {
            payload,
            risks: Vec::new(),
        }
    }

    fn liveness(&self, input: &NodeInput<'_>, scenario: &Scenario, id: &Identity) -> NodeOutput {
        let attack = scenario.slug == "decline_liveness_attack";
        let method = input.node.liveness_method();
        let age = verity_domain::checks::age_on(id.date_of_birth, today()) as f64 + 0.6;
        let payload = object(json!({
            "environment": "sandbox",
            "method": method,
            "score": if attack { 11.5 } else { 97.3 },
            "reference_image": input.media_url("selfie"),
            "video_url": null,
            "age_estimation": age,
            "face_quality": 88.0,
            "face_luminance": 61.0,
            "matches": [],
        }));
        let risks = if attack {
            vec![Risk::with_data(
                "LIVENESS_FACE_ATTACK",
                json!({"attack_type": "screen_replay"}),
            )]
        } else {
            Vec::new()
        };
        NodeOutput { payload, risks }
    }

    fn face_match(&self, input: &NodeInput<'_>, scenario: &Scenario) -> NodeOutput {
        let reference = input
            .prior_of(Feature::Ocr)
            .and_then(|ocr| ocr.payload.get("portrait_image"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                input
                    .session
                    .portrait_media_key
                    .as_ref()
                    .map(|_| input.media_url("portrait"))
            });
        let score = match scenario.slug {
            "decline_face_match_low_similarity" => 18.0,
            "review_face_match_borderline" => 52.0,
            _ => 94.1,
        };
        let risks = if reference.is_none() {
            vec![Risk::new("NO_REFERENCE_IMAGE")]
        } else {
            Vec::new()
        };
        let payload = object(json!({
            "environment": "sandbox",
            "score": if reference.is_some() { json!(score) } else { Value::Null },
            "source_image_session_id": null,
            "source_image": reference,
            "target_image": input.media_url("selfie"),
        }));
        NodeOutput { payload, risks }
    }

    fn aml(&self, scenario: &Scenario, id: &Identity) -> NodeOutput {
        let hit = |risk: f64, caption: &str, datasets: Value, topic: &str| {
            json!({
                "id": format!("sandbox-{}", scenario.slug),
                "caption": caption,
                "match_score": 97,
                "risk_score": risk,
                "review_status": "Unreviewed",
                "datasets": datasets,
                "properties": {"name": [id.full_name()], "alias": [], "country": [id.nationality.to_ascii_lowercase()], "birthDate": [id.date_of_birth.to_string()], "topics": [topic]},
                "score_breakdown": {"name_score": 100, "name_weight": 60, "dob_score": 100, "dob_weight": 25, "country_score": 100, "country_weight": 15},
                "risk_view": {"categories": {"score": risk, "risk_level": if risk >= 100.0 { "high" } else { "medium" }}},
                "pep_matches": if topic.starts_with("role") { json!([{"position": "Member of Parliament", "country": id.nationality}]) } else { json!([]) },
                "sanction_matches": if topic == "sanction" { json!([{"program": "SANDBOX-SDN", "authority": "Sandbox Sanctions Office"}]) } else { json!([]) },
                "warning_matches": [],
                "adverse_media_matches": [],
                "linked_entities": [],
                "first_seen": "2021-03-01",
                "last_seen": today().to_string(),
            })
        };
        let hits = match scenario.slug {
            "decline_aml_hit" => vec![hit(
                100.0,
                &id.full_name(),
                json!(["Sandbox Consolidated Sanctions"]),
                "sanction",
            )],
            "review_aml_possible_match" => vec![hit(
                88.0,
                &id.full_name(),
                json!(["Sandbox PEP Registry"]),
                "role.pep",
            )],
            _ => Vec::new(),
        };
        let score = hits
            .iter()
            .filter_map(|h| h["risk_score"].as_f64())
            .fold(0.0, f64::max);
        let v1_hits: Vec<Value> = hits
            .iter()
            .map(|h| json!({"id": h["id"], "caption": h["caption"], "match": true, "score": score / 100.0, "datasets": h["datasets"], "properties": h["properties"], "first_seen": h["first_seen"], "last_seen": h["last_seen"]}))
            .collect();
        NodeOutput {
            payload: object(json!({
                "environment": "sandbox",
                "total_hits": hits.len(),
                "entity_type": "person",
                "score": score,
                "screened_data": {"full_name": id.full_name(), "nationality": id.nationality, "date_of_birth": id.date_of_birth.to_string(), "document_number": id.document_number},
                "is_ongoing_monitoring_enabled": false,
                "ongoing_monitoring_last_check": null,
                "next_ongoing_monitoring_bill_date": null,
                "hits": hits,
                "v1_hits": v1_hits,
            })),
            risks: Vec::new(),
        }
    }

    fn ip(&self, input: &NodeInput<'_>, scenario: &Scenario, id: &Identity) -> NodeOutput {
        let device = input.device_info;
        let field = |key: &str| {
            device
                .and_then(|d| d.get(key))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let blocked = scenario.slug == "decline_ip_blocklist";
        NodeOutput {
            payload: object(json!({
                "environment": "sandbox",
                "device_brand": null, "device_model": null,
                "browser_family": "Chrome", "os_family": "Linux", "platform": "desktop",
                "device_fingerprint": hex::encode(&seed(input)[..8]),
                "ip_address": field("ip_address"),
                "user_agent": field("user_agent"),
                "ip_country": country_name(&id.issuing_state), "ip_country_code": &id.issuing_state[..2],
                "ip_state": null, "ip_city": id.city,
                "latitude": 40.4168, "longitude": -3.7038,
                "isp": "Sandbox Telecom", "organization": "Sandbox Telecom",
                "is_vpn_or_tor": false, "is_data_center": false,
                "time_zone": "Europe/Madrid", "time_zone_offset": "+0100",
                "ip": {"location": {"latitude": 40.4168, "longitude": -3.7038}, "distance_from_id_document": null, "distance_from_poa_document": null},
                "matches": [],
            })),
            risks: if blocked {
                vec![Risk::with_data(
                    "IP_ADDRESS_IN_BLOCKLIST",
                    json!({"ip_address": field("ip_address")}),
                )]
            } else {
                Vec::new()
            },
        }
    }

    fn poa(&self, input: &NodeInput<'_>, scenario: &Scenario, id: &Identity) -> NodeOutput {
        let today = today();
        let elsewhere = "221B Baker Street, London NW1 6XE";
        let address = if scenario.slug == "decline_poa_address_mismatch" {
            elsewhere.to_owned()
        } else {
            id.address.clone()
        };
        let name = if scenario.slug == "review_poa_partial_match" {
            format!(
                "{}. {}",
                id.first_name.chars().next().unwrap_or('X'),
                id.last_name
            )
        } else {
            id.full_name()
        };
        // With nothing to compare the address to (no expected address, no identity document
        // before it), the mocked engine reports the mismatch it was told to observe.
        let has_reference = input
            .session
            .expected_details
            .as_ref()
            .and_then(|e| e.get("address"))
            .is_some()
            || input.prior_of(Feature::Ocr).is_some();
        let risks = if scenario.slug == "decline_poa_address_mismatch" && !has_reference {
            vec![Risk::new("ADDRESS_MISMATCH_WITH_PROVIDED")]
        } else {
            Vec::new()
        };
        NodeOutput {
            payload: object(json!({
                "environment": "sandbox",
                "document_file": input.media_url("poa_document"),
                "issuing_state": id.issuing_state,
                "document_type": "UTILITY_BILL",
                "document_subtype": "electricity",
                "document_language": "en",
                "document_metadata": {"file_size": input.capture(CaptureKind::PoaDocument).map(|c| c.size_bytes), "content_type": input.capture(CaptureKind::PoaDocument).map(|c| c.content_type.clone()), "is_tampered": false, "is_signed": false, "processed_by_known_editor": false, "has_different_creation_mod_date": false},
                "issuer": "Sandbox Energy Ltd.",
                "issue_date": (today - Duration::days(21)).to_string(),
                "expiration_date": null,
                "poa_address": address,
                "poa_formatted_address": address,
                "poa_parsed_address": {"street_1": address.split(',').next().unwrap_or_default(), "city": if address == elsewhere { "London" } else { id.city.as_str() }, "country": if address == elsewhere { "GBR" } else { id.issuing_state.as_str() }},
                "name_on_document": name,
                "extra_fields": {},
                "extra_files": [],
                "detected_codes": [],
            })),
            risks,
        }
    }

    fn nfc(&self, scenario: &Scenario, id: &Identity) -> NodeOutput {
        let verified = scenario.slug != "decline_nfc_chip_not_verified";
        NodeOutput {
            payload: object(json!({
                "environment": "sandbox",
                "is_nfc_skipped": false,
                "skip_reason": null,
                "portrait_image": null,
                "signature_image": null,
                "chip_data": {"document_type": "P", "issuing_country": id.issuing_state, "document_number": id.document_number, "first_name": id.first_name, "last_name": id.last_name, "birth_date": id.date_of_birth.to_string(), "gender": id.gender, "nationality": id.nationality},
                "authenticity": {"sod_integrity": verified, "dg_integrity": verified},
                "certificate_summary": {"issuer": format!("CSCA {}", id.issuing_state), "subject": format!("DS {}", id.issuing_state), "serial_number": "5A17", "not_valid_before": "2022-01-01", "not_valid_after": "2032-01-01"},
            })),
            risks: if verified {
                Vec::new()
            } else {
                vec![Risk::new("NFC_CHIP_NOT_VERIFIED")]
            },
        }
    }

    fn database(&self, scenario: &Scenario, id: &Identity) -> NodeOutput {
        let found = scenario.slug != "decline_database_no_match";
        let outcome = if found { "MATCH" } else { "NO_MATCH" };
        NodeOutput {
            payload: object(json!({
                "environment": "sandbox",
                "issuing_state": id.issuing_state,
                "validation_type": "one_by_one",
                "match_type": if found { "full_match" } else { "no_match" },
                "screened_data": {"full_name": id.full_name(), "date_of_birth": id.date_of_birth.to_string(), "document_number": id.document_number},
                "validations": [{"service_id": "sandbox-registry", "service_name": "Sandbox Civil Registry", "validation": "name_and_document", "outcome_code": outcome, "outcome_detail": null, "source_data": null}],
            })),
            risks: if found {
                Vec::new()
            } else {
                vec![Risk::new("DATABASE_VALIDATION_NO_MATCH")]
            },
        }
    }

    fn contact(&self, feature: Feature, id: &Identity) -> NodeOutput {
        let now = OffsetDateTime::now_utc();
        let verified_at = now
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let payload = if feature == Feature::PhoneVerification {
            let number = id
                .phone
                .clone()
                .unwrap_or_else(|| "+15550100000".to_owned());
            json!({
                "environment": "sandbox",
                "phone_number_prefix": &number[..2.min(number.len())],
                "phone_number": number.get(2..).unwrap_or_default(),
                "full_number": number,
                "country_code": &id.issuing_state[..2],
                "carrier": {"name": "Sandbox Mobile", "type": "mobile"},
                "is_disposable": false, "is_virtual": false,
                "verification_method": "sms", "verification_attempts": 1,
                "verified_at": verified_at, "lifecycle": [], "matches": [],
            })
        } else {
            json!({
                "environment": "sandbox",
                "email": id.email.clone().unwrap_or_else(|| "user@sandbox.example".to_owned()),
                "is_breached": false, "breaches": [], "is_disposable": false, "is_undeliverable": false,
                "verification_attempts": 1, "verified_at": verified_at, "lifecycle": [], "matches": [],
            })
        };
        NodeOutput {
            payload: object(payload),
            risks: Vec::new(),
        }
    }
}

fn country_name(alpha3: &str) -> &'static str {
    match alpha3 {
        "ESP" => "Spain",
        "DEU" => "Germany",
        "FRA" => "France",
        "CZE" => "Czechia",
        "GBR" => "United Kingdom",
        "USA" => "United States",
        "ITA" => "Italy",
        "PRT" => "Portugal",
        "MEX" => "Mexico",
        "BRA" => "Brazil",
        _ => "Unknown",
    }
}

#[async_trait]
impl NodeRunner for SandboxRunner {
    async fn run(&self, input: &NodeInput<'_>) -> anyhow::Result<NodeOutput> {
        let session = input.session;
        let scenario = choose(
            session.sandbox_scenario.as_deref(),
            session.contact_details.as_ref(),
        );
        let id = identity(input, scenario);
        Ok(match input.node.feature {
            Feature::Ocr => self.document(input, scenario, &id),
            Feature::Liveness => self.liveness(input, scenario, &id),
            Feature::AgeEstimation => {
                let mut output = self.liveness(input, scenario, &id);
                output.payload.insert("method".into(), json!("PASSIVE"));
                output
            }
            Feature::FaceMatch => self.face_match(input, scenario),
            Feature::Aml => self.aml(scenario, &id),
            Feature::IpAnalysis => self.ip(input, scenario, &id),
            Feature::ProofOfAddress => self.poa(input, scenario, &id),
            Feature::Nfc => self.nfc(scenario, &id),
            Feature::DatabaseValidation => self.database(scenario, &id),
            Feature::PhoneVerification | Feature::EmailVerification => {
                self.contact(input.node.feature, &id)
            }
            Feature::Questionnaire => NodeOutput {
                payload: object(json!({
                    "environment": "sandbox",
                    "questionnaire_id": input.node.config.get("questionnaire_uuid"),
                    "title": "Sandbox questionnaire",
                    "sections": [],
                })),
                risks: Vec::new(),
            },
            Feature::DocumentAi => NodeOutput {
                payload: object(json!({"environment": "sandbox", "items": []})),
                risks: Vec::new(),
            },
            Feature::KybRegistry | Feature::KybDocuments | Feature::KybKeyPeople => {
                anyhow::bail!("business (KYB) steps are not supported")
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_domain::checks::mrz_is_valid;

    fn person() -> Identity {
        Identity {
            first_name: "Elena".into(),
            last_name: "Martínez García".into(),
            gender: "F".into(),
            nationality: "ESP".into(),
            issuing_state: "ESP".into(),
            date_of_birth: time::macros::date!(1990 - 04 - 12),
            address: "Calle de Alcalá 48, 28014 Madrid".into(),
            city: "Madrid".into(),
            postal_code: "28014".into(),
            document_number: "X1234567".into(),
            email: None,
            phone: None,
        }
    }

    #[test]
    fn generated_mrz_validates_unless_corrupted() {
        let expiry = time::macros::date!(2031 - 01 - 01);
        let good = passport_mrz(&person(), expiry, false);
        let lines: Vec<&str> = good.lines().collect();
        assert_eq!((lines[0].len(), lines[1].len()), (44, 44), "{good}");
        assert!(
            lines[0].starts_with("P<ESPMARTINEZ<GARCIA<<ELENA<"),
            "{good}"
        );
        assert_eq!(mrz_is_valid(&good), Some(true), "{good}");
        assert_eq!(
            mrz_is_valid(&passport_mrz(&person(), expiry, true)),
            Some(false)
        );
    }
}
