//! Turning decision JSON values into short, readable text: numbers without float noise, booleans
//! as Yes/No, timestamps as `YYYY-MM-DD HH:MM:SS UTC`, keys as sentence-case labels.

use crate::canvas::Color;
use crate::layout::palette;
use serde_json::Value;
use verity_domain::Timestamp;

/// Most entries an array value lists before summarising the rest.
const MAX_LIST_ITEMS: usize = 20;
/// Nesting shown inside one value; deeper levels print as `…` (and recursion stays bounded).
const MAX_NESTING: usize = 4;

/// `2024-07-28 06:46:39 UTC`.
pub fn timestamp(ts: Timestamp) -> String {
    let iso = ts.to_iso();
    format!("{} {} UTC", &iso[..10], &iso[11..19])
}

/// `2024-07-28 06:46:39`, for table columns headed "(UTC)".
pub fn table_time(ts: Timestamp) -> String {
    let iso = ts.to_iso();
    format!("{} {}", &iso[..10], &iso[11..19])
}

/// A value as one line of text; `None` for nulls and empty containers (nothing to show).
pub fn value(value: &Value) -> Option<String> {
    value_at(value, 0)
}

fn value_at(value: &Value, depth: usize) -> Option<String> {
    if depth > MAX_NESTING {
        return Some("…".into());
    }
    match value {
        Value::Null => None,
        Value::Bool(true) => Some("Yes".into()),
        Value::Bool(false) => Some("No".into()),
        Value::Number(number) => Some(match number.as_f64() {
            Some(f) if number.is_f64() => float(f),
            _ => number.to_string(),
        }),
        Value::String(text) => {
            let text = text.trim();
            if text.is_empty() {
                None
            } else {
                Some(date_time(text).unwrap_or_else(|| text.to_owned()))
            }
        }
        Value::Array(items) => {
            let shown: Vec<String> = items
                .iter()
                .take(MAX_LIST_ITEMS)
                .filter_map(|item| match item {
                    Value::Object(_) | Value::Array(_) => Some(compact_at(item, depth + 1)),
                    scalar => value_at(scalar, depth + 1),
                })
                .collect();
            if shown.is_empty() {
                return None;
            }
            let mut text = shown.join(", ");
            if items.len() > MAX_LIST_ITEMS {
                text.push_str(&format!(" … and {} more", items.len() - MAX_LIST_ITEMS));
            }
            Some(text)
        }
        Value::Object(map) if map.is_empty() => None,
        Value::Object(_) => Some(compact_at(value, depth)),
    }
}

/// A nested object or array in one line: `key: value · key: value`.
fn compact_at(value: &Value, depth: usize) -> String {
    if depth > MAX_NESTING {
        return "…".into();
    }
    match value {
        Value::Object(map) => map
            .iter()
            .take(MAX_LIST_ITEMS)
            .filter_map(|(key, item)| {
                let text = match item {
                    Value::Object(_) => Some(format!("{{{}}}", compact_at(item, depth + 1))),
                    other => value_at(other, depth + 1),
                }?;
                Some(format!("{}: {text}", label(key)))
            })
            .collect::<Vec<_>>()
            .join(" · "),
        other => value_at(other, depth).unwrap_or_default(),
    }
}

/// Two decimals at most, trailing zeros dropped (`87.5`, `0.12`, `93`).
pub fn float(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    // Past what a score or a coordinate can be, digits are noise.
    if f.abs() >= 1e15 {
        return format!("{f:e}");
    }
    let text = format!("{f:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// ISO-8601 datetimes in a frilier form; dates and anything else are left as they are.
fn date_time(text: &str) -> Option<String> {
    if text.len() < 19 || text.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    Timestamp::parse_iso(text).map(timestamp)
}

/// `date_of_birth` → `Date of birth`; `ip_country_code` → `IP country code`.
pub fn label(key: &str) -> String {
    let words: Vec<String> = key
        .split(['_', '-', ' '])
        .filter(|w| !w.is_empty())
        .enumerate()
        .map(|(i, word)| match word.to_ascii_lowercase().as_str() {
            "id" | "ip" | "aml" | "mrz" | "poa" | "nfc" | "vpn" | "iban" | "url" | "os" | "dob"
            | "pep" | "uuid" | "bic" | "kyc" | "kyb" | "sod" | "dg" | "isp" => {
                word.to_ascii_uppercase()
            }
            lower if i == 0 => {
                let mut chars = lower.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect())
                    .unwrap_or_default()
            }
            lower => lower.to_owned(),
        })
        .collect();
    if key.trim().is_empty() {
        "(unnamed)".into()
    } else if words.is_empty() {
        key.to_owned()
    } else {
        words.join(" ")
    }
}

/// The colour of a session or feature status literal.
pub fn status_color(status: &str) -> Color {
    match status {
        "Approved" => palette::GREEN,
        "Declined" => palette::RED,
        "In Review" => palette::AMBER,
        "In Progress" | "Awaiting User" => palette::BLUE,
        "Resubmitted" => palette::PURPLE,
        _ => palette::GREY,
    }
}

/// The colour of a warning's `log_type`.
pub fn log_type_color(log_type: &str) -> Color {
    match log_type {
        "error" => palette::RED,
        "warning" => palette::AMBER,
        "information" => palette::BLUE,
        _ => palette::GREY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars() {
        assert_eq!(value(&json!(null)), None);
        assert_eq!(value(&json!(true)).unwrap(), "Yes");
        assert_eq!(value(&json!(87.50)).unwrap(), "87.5");
        assert_eq!(value(&json!(0.123_456)).unwrap(), "0.12");
        assert_eq!(value(&json!(93)).unwrap(), "93");
        assert_eq!(value(&json!(-0.001)).unwrap(), "0");
        assert_eq!(value(&json!(1e308)).unwrap(), "1e308");
        assert_eq!(value(&json!("  ")), None);
        assert_eq!(value(&json!("1990-05-01")).unwrap(), "1990-05-01");
        assert_eq!(
            value(&json!("2024-07-28T06:46:39.354573Z")).unwrap(),
            "2024-07-28 06:46:39 UTC"
        );
        assert_eq!(
            value(&json!("2024-07-28Tnonsense")).unwrap(),
            "2024-07-28Tnonsense"
        );
    }

    #[test]
    fn containers() {
        assert_eq!(value(&json!(["ESP", "FRA"])).unwrap(), "ESP, FRA");
        assert_eq!(value(&json!([])), None);
        assert_eq!(value(&json!({})), None);
        assert_eq!(
            value(&json!({"lat": 40.4, "lng": -3.7, "x": null})).unwrap(),
            "Lat: 40.4 · Lng: -3.7"
        );
        let many: Vec<i32> = (0..30).collect();
        assert!(value(&json!(many)).unwrap().ends_with("… and 10 more"));
        assert_eq!(
            value(&json!([[1, 2], {"a": {"b": 1}}])).unwrap(),
            "1, 2, A: {B: 1}"
        );
        let mut deep = json!("bottom");
        for _ in 0..500 {
            deep = json!([{ "k": deep }]);
        }
        assert!(value(&deep).unwrap().contains('…'));
    }

    #[test]
    fn labels() {
        assert_eq!(label("date_of_birth"), "Date of birth");
        assert_eq!(label("ip_country_code"), "IP country code");
        assert_eq!(label("is_vpn_or_tor"), "Is VPN or tor");
        assert_eq!(label("___"), "___");
        assert_eq!(label("ÿ_ß"), "Ÿ ß");
    }
}
