//! Cross-checks (spec §9.3, issue 8): what the decision engine derives from a node's extracted
//! data, the session's `expected_details` and the node's config, whoever extracted the data (an
//! engine or the sandbox). They return [`Risk`]s; [`crate::rules`] gives them their actions.
//!
//! Choices:
//! * `minimum_age` of an OCR node defaults to 18 when the workflow does not set it (UNCERTAIN:
//!   the spec lists the key without a default).
//! * Names compare case-, accent- and order-insensitively on word tokens; a proof of address
//!   whose name shares some but not all tokens is a partial match and still a mismatch.
//! * A proof of address is compared with `expected_details.address` when given, else with the
//!   address on the session's identity document.
//! * `documents_allowed` is `{COUNTRY_ALPHA3: [type codes or display names] | true}`; `{}` or
//!   null allows everything; the key `"*"` applies to every country.

use crate::rules::Risk;
use crate::timestamp::parse_date;
use serde_json::{json, Map, Value};
use time::Date;

pub const DEFAULT_MINIMUM_AGE: i64 = 18;
/// A proof of address older than this is `EXPIRED_DOCUMENT` (spec: "> 90 days old").
pub const DEFAULT_POA_MAX_AGE_DAYS: i64 = 90;

fn text<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Display name (spec §5.4 `document_type`) → type code of `expected_document_types`.
pub fn document_type_code(display: &str) -> Option<&'static str> {
    match display.to_ascii_lowercase().as_str() {
        "passport" | "p" => Some("P"),
        "identity card" | "id" | "id card" => Some("ID"),
        "driver's license" | "drivers license" | "driving license" | "dl" => Some("DL"),
        "residence permit" | "rp" => Some("RP"),
        "health insurance card" | "hic" => Some("HIC"),
        "tax card" | "tc" => Some("TC"),
        "social security card" | "ssc" => Some("SSC"),
        _ => None,
    }
}

/// Whole years between `birth` and `today`.
pub fn age_on(birth: Date, today: Date) -> i64 {
    let mut age = i64::from(today.year() - birth.year());
    if (today.month() as u8, today.day()) < (birth.month() as u8, birth.day()) {
        age -= 1;
    }
    age
}

/// Lower-case ASCII with the common Latin accents folded (`Martínez` → `martinez`).
pub fn fold_ascii(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'Á' | 'À' | 'Â' | 'Ä' | 'Ã' | 'Å' => {
                'a'
            }
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'Ó' | 'Ò' | 'Ô' | 'Ö' | 'Õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' | 'Ú' | 'Ù' | 'Û' | 'Ü' => 'u',
            'ñ' | 'Ñ' => 'n',
            'ç' | 'Ç' => 'c',
            other => other.to_ascii_lowercase(),
        })
        .collect()
}

/// Word tokens of a name: lower-case ASCII letters and digits, accents folded, sorted.
fn name_tokens(name: &str) -> Vec<String> {
    let folded: String = fold_ascii(name)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    let mut tokens: Vec<String> = folded.split_whitespace().map(str::to_owned).collect();
    tokens.sort();
    tokens
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameMatch {
    Full,
    Partial,
    None,
}

pub fn compare_names(a: &str, b: &str) -> NameMatch {
    let (a, b) = (name_tokens(a), name_tokens(b));
    if a.is_empty() || b.is_empty() {
        return NameMatch::None;
    }
    if a == b {
        return NameMatch::Full;
    }
    if a.iter().any(|t| b.contains(t)) {
        NameMatch::Partial
    } else {
        NameMatch::None
    }
}

/// ICAO 9303 check digit of an MRZ field.
pub fn mrz_check_digit(field: &str) -> Option<u32> {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let mut sum = 0;
    for (i, c) in field.chars().enumerate() {
        let value = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            '<' => 0,
            _ => return None,
        };
        sum += value * WEIGHTS[i % 3];
    }
    Some(sum % 10)
}

fn digit_at(line: &str, index: usize) -> Option<u32> {
    line.chars().nth(index).and_then(|c| c.to_digit(10))
}

/// Validates the check digits of a TD3 (passport, 2 × 44) or TD1 (ID card, 3 × 30) MRZ.
/// `None` when the string is neither shape.
pub fn mrz_is_valid(mrz: &str) -> Option<bool> {
    let lines: Vec<&str> = mrz.lines().map(str::trim).collect();
    let field = |line: &str, from: usize, to: usize| line.get(from..to).map(str::to_owned);
    let check = |value: Option<String>, digit: Option<u32>| -> bool {
        matches!((value.as_deref().and_then(mrz_check_digit), digit), (Some(a), Some(b)) if a == b)
    };
    match lines.as_slice() {
        [_, line2] if line2.len() == 44 => {
            let number = check(field(line2, 0, 9), digit_at(line2, 9));
            let birth = check(field(line2, 13, 19), digit_at(line2, 19));
            let expiry = check(field(line2, 21, 27), digit_at(line2, 27));
            let composite = [
                field(line2, 0, 10),
                field(line2, 13, 20),
                field(line2, 21, 43),
            ]
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .map(|parts| parts.concat());
            let final_ok = check(composite, digit_at(line2, 43));
            Some(number && birth && expiry && final_ok)
        }
        [line1, line2, _] if line1.len() == 30 && line2.len() == 30 => {
            let number = check(field(line1, 5, 14), digit_at(line1, 14));
            let birth = check(field(line2, 0, 6), digit_at(line2, 6));
            let expiry = check(field(line2, 8, 14), digit_at(line2, 14));
            let composite = [
                field(line1, 5, 30),
                field(line2, 0, 7),
                field(line2, 8, 15),
                field(line2, 18, 29),
            ]
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .map(|parts| parts.concat());
            let final_ok = check(composite, digit_at(line2, 29));
            Some(number && birth && expiry && final_ok)
        }
        _ => None,
    }
}

fn allowed_by(config: &Map<String, Value>, country: Option<&str>, code: Option<&str>) -> bool {
    let Some(Value::Object(allowed)) = config.get("documents_allowed") else {
        return true;
    };
    if allowed.is_empty() {
        return true;
    }
    let rule = country
        .and_then(|c| allowed.get(c))
        .or_else(|| allowed.get("*"));
    match rule {
        None => false,
        Some(Value::Bool(all)) => *all,
        Some(Value::Array(types)) => code.is_some_and(|code| {
            types
                .iter()
                .filter_map(Value::as_str)
                .any(|t| document_type_code(t) == Some(code) || t == code)
        }),
        Some(_) => false,
    }
}

/// Document types the hosted flow can capture, in the order it offers them.
pub const CAPTURABLE_DOCUMENT_TYPES: [&str; 4] = ["P", "ID", "DL", "RP"];

/// What the hosted flow's document-choice step may offer: the countries `documents_allowed`
/// names, each with the type codes it allows, and the types offered for any other country
/// (`"*"`, or everything when the workflow does not restrict countries) — all intersected with
/// the session's `expected_document_types`. The decision still checks the document itself
/// (DOCUMENT_NOT_SUPPORTED_FOR_APPLICATION); this only keeps the person from choosing a
/// document that cannot pass.
///
/// ```json
/// {"other_countries": ["P", "ID"],
///  "countries": [{"code": "FRA", "alpha2": "FR", "name": "France", "types": ["P"]}]}
/// ```
/// `other_countries` is empty when only the listed countries are accepted.
pub fn document_choice(config: &Map<String, Value>, expected: Option<&Value>) -> Value {
    let expected: Option<Vec<&str>> = expected
        .and_then(|e| e.get("expected_document_types"))
        .and_then(Value::as_array)
        .filter(|types| !types.is_empty())
        .map(|types| types.iter().filter_map(Value::as_str).collect());
    let offered = |rule: Option<&Value>| -> Vec<&'static str> {
        CAPTURABLE_DOCUMENT_TYPES
            .into_iter()
            .filter(|code| expected.as_ref().is_none_or(|e| e.contains(code)))
            .filter(|code| match rule {
                None | Some(Value::Bool(true)) => true,
                Some(Value::Array(types)) => types
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|t| t.eq_ignore_ascii_case(code) || document_type_code(t) == Some(*code)),
                Some(_) => false,
            })
            .collect()
    };
    let allowed = match config.get("documents_allowed") {
        Some(Value::Object(allowed)) if !allowed.is_empty() => allowed,
        _ => return json!({"other_countries": offered(None), "countries": []}),
    };
    let other_countries = allowed
        .get("*")
        .map(|rule| offered(Some(rule)))
        .unwrap_or_default();
    let mut countries: Vec<Value> = allowed
        .iter()
        .filter(|(code, _)| code.as_str() != "*")
        .filter_map(|(code, rule)| {
            let types = offered(Some(rule));
            let country = celes::Country::from_alpha3(code).ok();
            (!types.is_empty()).then(|| {
                json!({
                    "code": code,
                    "alpha2": country.map(|c| c.alpha2),
                    "name": country.map_or(code.as_str(), |c| c.long_name),
                    "types": types,
                })
            })
        })
        .collect();
    countries.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    json!({"other_countries": other_countries, "countries": countries})
}

/// Checks of an identity document's extracted fields (`id_verifications[]` entry).
/// `duplicate_of` is another session of the application that verified the same document.
pub fn document_checks(
    payload: &Map<String, Value>,
    config: &Map<String, Value>,
    expected: Option<&Value>,
    today: Date,
    duplicate_of: Option<&str>,
) -> Vec<Risk> {
    let mut risks = Vec::new();
    let first = text(payload, "first_name");
    let last = text(payload, "last_name");
    let full = text(payload, "full_name");
    if first.is_none() && last.is_none() && full.is_none() {
        risks.push(Risk::new("NAME_NOT_DETECTED"));
    }
    if text(payload, "document_number").is_none() {
        risks.push(Risk::new("DOCUMENT_NUMBER_NOT_DETECTED"));
    }
    let mut invalid_date = false;
    let mut date = |key: &str| -> Option<Date> {
        let raw = text(payload, key)?;
        let parsed = parse_date(raw);
        if parsed.is_none() {
            invalid_date = true;
        }
        parsed
    };
    let birth = date("date_of_birth");
    let expiry = date("expiration_date");
    let issue = date("date_of_issue");
    if text(payload, "date_of_birth").is_none() {
        risks.push(Risk::new("DATE_OF_BIRTH_NOT_DETECTED"));
    }
    if birth.is_some_and(|b| b > today) || matches!((issue, expiry), (Some(i), Some(e)) if i > e) {
        invalid_date = true;
    }
    if invalid_date {
        risks.push(Risk::new("INVALID_DATE"));
    }
    match expiry {
        None if text(payload, "expiration_date").is_none() => {
            risks.push(Risk::new("EXPIRATION_DATE_NOT_DETECTED"))
        }
        Some(expiry) if expiry < today => risks.push(Risk::with_data(
            "DOCUMENT_EXPIRED",
            json!({"expiration_date": expiry.to_string()}),
        )),
        _ => {}
    }
    if let Some(birth) = birth.filter(|b| *b <= today) {
        let minimum = config
            .get("minimum_age")
            .and_then(Value::as_i64)
            .unwrap_or(DEFAULT_MINIMUM_AGE);
        let age = age_on(birth, today);
        if age < minimum {
            risks.push(Risk::with_data(
                "MINIMUM_AGE_NOT_MET",
                json!({"age": age, "minimum_age": minimum}),
            ));
        }
    }
    if let Some(mrz) = payload
        .get("mrz")
        .and_then(Value::as_object)
        .and_then(|m| text(m, "mrz_string"))
    {
        if mrz_is_valid(mrz) == Some(false) {
            risks.push(Risk::new("MRZ_VALIDATION_FAILED"));
        }
    }
    let country = text(payload, "issuing_state");
    let code = text(payload, "document_type").and_then(document_type_code);
    let expected_types_ok = expected
        .and_then(|e| e.get("expected_document_types"))
        .and_then(Value::as_array)
        .is_none_or(|types| {
            types.is_empty() || code.is_some_and(|c| types.iter().any(|t| t.as_str() == Some(c)))
        });
    if !allowed_by(config, country, code) || !expected_types_ok {
        risks.push(Risk::with_data(
            "DOCUMENT_NOT_SUPPORTED_FOR_APPLICATION",
            json!({"issuing_state": country, "document_type": code}),
        ));
    }
    if let Some(expected) = expected.and_then(Value::as_object) {
        let wanted_name = [text(expected, "first_name"), text(expected, "last_name")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if !wanted_name.is_empty() {
            let found = full.map(str::to_owned).unwrap_or_else(|| {
                [first, last]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ")
            });
            if compare_names(&wanted_name, &found) != NameMatch::Full {
                risks.push(Risk::new("FULL_NAME_MISMATCH_WITH_PROVIDED"));
            }
        }
        if let Some(wanted) = text(expected, "date_of_birth").and_then(parse_date) {
            if birth != Some(wanted) {
                risks.push(Risk::new("DOB_MISMATCH_WITH_PROVIDED"));
            }
        }
        if let Some(wanted) = text(expected, "gender") {
            if text(payload, "gender") != Some(wanted) {
                risks.push(Risk::new("GENDER_MISMATCH_WITH_PROVIDED"));
            }
        }
        let wanted_country = text(expected, "id_country")
            .or_else(|| text(expected, "country").filter(|c| c.len() == 3));
        if let Some(wanted) = wanted_country {
            if country != Some(wanted) {
                risks.push(Risk::with_data(
                    "DOCUMENT_COUNTRY_MISMATCH",
                    json!({"expected": wanted, "found": country}),
                ));
            }
        }
    }
    if let Some(other) = duplicate_of {
        risks.push(Risk::with_data(
            "POSSIBLE_DUPLICATED_USER",
            json!({"duplicated_session_id": other}),
        ));
    }
    risks
}

/// Checks of a proof of address against the expected details and the identity document.
pub fn poa_checks(
    payload: &Map<String, Value>,
    config: &Map<String, Value>,
    expected: Option<&Value>,
    id_document: Option<&Map<String, Value>>,
    today: Date,
) -> Vec<Risk> {
    let mut risks = Vec::new();
    let expected = expected.and_then(Value::as_object);
    let address = text(payload, "poa_address");
    if address.is_none() {
        risks.push(Risk::new("MISSING_ADDRESS_INFORMATION"));
    }
    match text(payload, "issue_date").map(parse_date) {
        None => risks.push(Risk::new("UNABLE_TO_EXTRACT_ISSUE_DATE")),
        Some(None) => risks.push(Risk::new("UNABLE_TO_VALIDATE_DOCUMENT_AGE")),
        Some(Some(issued)) if issued > today => risks.push(Risk::new("FUTURE_ISSUE_DATE")),
        Some(Some(issued)) => {
            let max_days = config
                .get("poa_document_age_months")
                .and_then(Value::as_i64)
                .map_or(DEFAULT_POA_MAX_AGE_DAYS, |months| months * 30);
            if (today - issued).whole_days() > max_days {
                risks.push(Risk::with_data(
                    "EXPIRED_DOCUMENT",
                    json!({"issue_date": issued.to_string()}),
                ));
            }
        }
    }
    if let Some(name) = text(payload, "name_on_document") {
        if let Some(expected) = expected {
            let wanted = [text(expected, "first_name"), text(expected, "last_name")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            if !wanted.is_empty() && compare_names(&wanted, name) != NameMatch::Full {
                risks.push(Risk::new("NAME_MISMATCH_WITH_PROVIDED"));
            }
        }
        if let Some(id_name) = id_document.and_then(|d| text(d, "full_name")) {
            if compare_names(id_name, name) != NameMatch::Full {
                risks.push(Risk::new("NAME_MISMATCH_ID_VERIFICATION"));
            }
        }
    }
    let reference = expected
        .and_then(|e| text(e, "address"))
        .or_else(|| id_document.and_then(|d| text(d, "address")));
    if let (Some(found), Some(reference)) = (address, reference) {
        if name_tokens(found) != name_tokens(reference) {
            risks.push(Risk::with_data(
                "ADDRESS_MISMATCH_WITH_PROVIDED",
                json!({"provided": reference}),
            ));
        }
    }
    risks
}

/// Age estimation against the node's `minimum_age`.
pub fn age_estimation_checks(
    payload: &Map<String, Value>,
    config: &Map<String, Value>,
) -> Vec<Risk> {
    match payload.get("age_estimation").and_then(Value::as_f64) {
        None => vec![Risk::new("AGE_NOT_DETECTED")],
        Some(age) => {
            let minimum = config
                .get("minimum_age")
                .and_then(Value::as_i64)
                .unwrap_or(DEFAULT_MINIMUM_AGE);
            if age < minimum as f64 {
                vec![Risk::with_data(
                    "AGE_BELOW_MINIMUM",
                    json!({"age_estimation": age, "minimum_age": minimum}),
                )]
            } else {
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn document_choice_follows_documents_allowed_and_expected_types() {
        let open = document_choice(&Map::new(), None);
        assert_eq!(
            open,
            json!({"other_countries": ["P", "ID", "DL", "RP"], "countries": []})
        );

        let config = object(json!({"documents_allowed": {
            "FRA": ["P", "Identity Card"], "ESP": true, "DEU": ["HIC"], "USA": false
        }}));
        let choice = document_choice(&config, None);
        assert_eq!(choice["other_countries"], json!([]));
        let countries = choice["countries"].as_array().unwrap();
        // Germany allows only a type the flow cannot capture, the USA nothing: not offered.
        assert_eq!(countries.len(), 2);
        assert_eq!(countries[0]["code"], "FRA");
        assert_eq!(countries[0]["alpha2"], "FR");
        assert_eq!(countries[0]["types"], json!(["P", "ID"]));
        assert_eq!(countries[1]["code"], "ESP");
        assert_eq!(countries[1]["types"], json!(["P", "ID", "DL", "RP"]));

        let expected = json!({"expected_document_types": ["P"]});
        let config = object(json!({"documents_allowed": {"*": ["P", "DL"], "ESP": ["ID"]}}));
        let choice = document_choice(&config, Some(&expected));
        assert_eq!(choice["other_countries"], json!(["P"]));
        assert_eq!(choice["countries"], json!([]));
    }

    use super::*;
    use time::macros::date;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn codes(risks: &[Risk]) -> Vec<&str> {
        risks.iter().map(|r| r.code.as_str()).collect()
    }

    const TODAY: Date = date!(2025 - 06 - 01);

    fn good_document() -> Map<String, Value> {
        object(json!({
            "first_name": "Elena", "last_name": "Martínez García", "full_name": "Elena Martínez García",
            "document_number": "X1234567", "date_of_birth": "1990-04-12", "expiration_date": "2030-01-01",
            "date_of_issue": "2020-01-01", "issuing_state": "ESP", "document_type": "Identity Card", "gender": "F"
        }))
    }

    #[test]
    fn a_clean_document_raises_nothing() {
        let expected = json!({"first_name": "ELENA", "last_name": "martinez garcia", "date_of_birth": "1990-04-12", "gender": "F", "id_country": "ESP"});
        let risks = document_checks(&good_document(), &Map::new(), Some(&expected), TODAY, None);
        assert!(risks.is_empty(), "{risks:?}");
    }

    #[test]
    fn each_document_cross_check() {
        let mut doc = good_document();
        doc.insert("expiration_date".into(), json!("2024-01-01"));
        doc.insert("date_of_birth".into(), json!("2010-01-01"));
        let expected = json!({"first_name": "John", "last_name": "Smith", "date_of_birth": "1990-04-12", "gender": "M", "id_country": "FRA"});
        let config = object(json!({"documents_allowed": {"FRA": ["P"]}}));
        let risks = document_checks(&doc, &config, Some(&expected), TODAY, Some("abc"));
        assert_eq!(
            codes(&risks),
            [
                "DOCUMENT_EXPIRED",
                "MINIMUM_AGE_NOT_MET",
                "DOCUMENT_NOT_SUPPORTED_FOR_APPLICATION",
                "FULL_NAME_MISMATCH_WITH_PROVIDED",
                "DOB_MISMATCH_WITH_PROVIDED",
                "GENDER_MISMATCH_WITH_PROVIDED",
                "DOCUMENT_COUNTRY_MISMATCH",
                "POSSIBLE_DUPLICATED_USER"
            ]
        );
        assert_eq!(
            risks[7].additional_data,
            Some(json!({"duplicated_session_id": "abc"}))
        );
        let allowed = object(json!({"ESP": ["ID", "Passport"]}));
        let config = object(json!({"documents_allowed": allowed, "minimum_age": 21}));
        let risks = document_checks(&good_document(), &config, None, TODAY, None);
        assert!(risks.is_empty(), "{risks:?}");
        let mut young = good_document();
        young.insert("date_of_birth".into(), json!("2005-01-01"));
        assert_eq!(
            codes(&document_checks(&young, &config, None, TODAY, None)),
            ["MINIMUM_AGE_NOT_MET"]
        );
    }

    #[test]
    fn missing_and_impossible_fields() {
        let doc = object(json!({"date_of_birth": "1990-13-45", "document_type": "Passport"}));
        let risks = document_checks(&doc, &Map::new(), None, TODAY, None);
        assert_eq!(
            codes(&risks),
            [
                "NAME_NOT_DETECTED",
                "DOCUMENT_NUMBER_NOT_DETECTED",
                "INVALID_DATE",
                "EXPIRATION_DATE_NOT_DETECTED"
            ]
        );
    }

    #[test]
    fn mrz_check_digits() {
        // ICAO 9303 specimen (Utopia passport).
        let good = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
        assert_eq!(mrz_is_valid(good), Some(true));
        let bad = good.replace("7408122", "7408123");
        assert_eq!(mrz_is_valid(&bad), Some(false));
        let td1 = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<";
        assert_eq!(mrz_is_valid(td1), Some(true));
        assert_eq!(mrz_is_valid("nonsense"), None);
    }

    #[test]
    fn proof_of_address_checks() {
        let id = object(json!({"full_name": "Elena Martinez", "address": "Calle Mayor 1, Madrid"}));
        let poa = object(
            json!({"poa_address": "Calle Mayor 1, Madrid", "issue_date": "2025-05-01", "name_on_document": "Elena Martinez"}),
        );
        assert!(poa_checks(&poa, &Map::new(), None, Some(&id), TODAY).is_empty());
        let moved = object(
            json!({"poa_address": "Rue de Rivoli 5, Paris", "issue_date": "2024-01-01", "name_on_document": "E. Martinez"}),
        );
        let expected = json!({"first_name": "Elena", "last_name": "Martinez"});
        assert_eq!(
            codes(&poa_checks(
                &moved,
                &Map::new(),
                Some(&expected),
                Some(&id),
                TODAY
            )),
            [
                "EXPIRED_DOCUMENT",
                "NAME_MISMATCH_WITH_PROVIDED",
                "NAME_MISMATCH_ID_VERIFICATION",
                "ADDRESS_MISMATCH_WITH_PROVIDED"
            ]
        );
        let future = object(json!({"issue_date": "2026-01-01"}));
        assert_eq!(
            codes(&poa_checks(&future, &Map::new(), None, None, TODAY)),
            ["MISSING_ADDRESS_INFORMATION", "FUTURE_ISSUE_DATE"]
        );
    }

    #[test]
    fn ages_and_names() {
        assert_eq!(age_on(date!(2000 - 06 - 02), TODAY), 24);
        assert_eq!(age_on(date!(2000 - 06 - 01), TODAY), 25);
        assert_eq!(compare_names("José PÉREZ", "perez jose"), NameMatch::Full);
        assert_eq!(compare_names("José Pérez", "J. Perez"), NameMatch::Partial);
        assert_eq!(compare_names("Ana", "Bob"), NameMatch::None);
        let config = object(json!({"minimum_age": 18}));
        assert_eq!(
            codes(&age_estimation_checks(
                &object(json!({"age_estimation": 15.5})),
                &config
            )),
            ["AGE_BELOW_MINIMUM"]
        );
        assert!(
            age_estimation_checks(&object(json!({"age_estimation": 31.0})), &config).is_empty()
        );
    }
}
