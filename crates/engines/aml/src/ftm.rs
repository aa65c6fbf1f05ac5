//! FollowTheMoney JSON-lines importer (OpenSanctions `entities.ftm.json`).

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

use serde::Deserialize;

use crate::model::{
    Dataset, Entity, ImportError, ImportProgress, ImportReport, Properties, Schema,
};

#[derive(Deserialize)]
struct RawEntity {
    id: Option<String>,
    schema: Option<String>,
    caption: Option<String>,
    #[serde(default)]
    properties: BTreeMap<String, Vec<serde_json::Value>>,
    #[serde(default)]
    datasets: Vec<String>,
    first_seen: Option<String>,
    last_seen: Option<String>,
    last_change: Option<String>,
}

/// Imports FtM entities, one JSON object per line, into a new dataset.
/// Non-screenable schemata are counted in `report.skipped`; malformed lines,
/// entities without id or name and duplicate ids are listed in `report.errors`.
pub fn import_ftm<R: BufRead>(
    reader: R,
    name: &str,
    version: &str,
    date: Option<&str>,
) -> (Dataset, ImportReport) {
    import_ftm_with_progress(reader, name, version, date, &mut |_| {})
}

/// As [`import_ftm`], calling `progress` every 10,000 lines and at the end.
pub fn import_ftm_with_progress<R: BufRead>(
    mut reader: R,
    name: &str,
    version: &str,
    date: Option<&str>,
    progress: &mut dyn FnMut(ImportProgress),
) -> (Dataset, ImportReport) {
    let mut ds = Dataset::new(name, version, date);
    let mut report = ImportReport::default();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut line = String::new();
    let mut lineno = 0u64;
    let mut bytes = 0u64;
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(n) => bytes += n as u64,
            Err(e) => {
                report.errors.push(ImportError {
                    line: lineno + 1,
                    message: format!("read error: {e}"),
                });
                break;
            }
        }
        lineno += 1;
        if lineno.is_multiple_of(10_000) {
            progress(ImportProgress {
                rows: lineno,
                bytes,
            });
        }
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        report.rows_read += 1;
        match parse_line(text, name) {
            Ok(Some(entity)) => {
                if let Some(first) = seen.get(&entity.id) {
                    report.errors.push(ImportError {
                        line: lineno,
                        message: format!("duplicate id {:?} (first on line {first})", entity.id),
                    });
                    continue;
                }
                seen.insert(entity.id.clone(), lineno);
                ds.entities.push(entity);
                report.entities_imported += 1;
            }
            Ok(None) => {}
            Err(Skip::Schema(s)) => report.skip(&s),
            Err(Skip::Error(message)) => report.errors.push(ImportError {
                line: lineno,
                message,
            }),
        }
    }
    progress(ImportProgress {
        rows: lineno,
        bytes,
    });
    (ds, report)
}

enum Skip {
    Schema(String),
    Error(String),
}

fn parse_line(text: &str, dataset: &str) -> Result<Option<Entity>, Skip> {
    let raw: RawEntity =
        serde_json::from_str(text).map_err(|e| Skip::Error(format!("invalid JSON: {e}")))?;
    let id = raw
        .id
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Skip::Error("missing \"id\"".into()))?;
    let schema_name = raw
        .schema
        .ok_or_else(|| Skip::Error(format!("entity {id:?}: missing \"schema\"")))?;
    let Some(schema) = Schema::parse(&schema_name) else {
        return Err(Skip::Schema(schema_name));
    };
    let mut props = Properties::new();
    for (key, values) in raw.properties {
        for v in values {
            let s = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                other => {
                    return Err(Skip::Error(format!(
                        "entity {id:?}: property {key:?} has a non-scalar value {other}"
                    )))
                }
            };
            props.add(&key, s);
        }
    }
    let mut entity = Entity::new(id, schema);
    entity.properties = props;
    entity.caption = raw.caption.unwrap_or_default();
    entity.datasets = if raw.datasets.is_empty() {
        vec![dataset.to_string()]
    } else {
        raw.datasets
    };
    entity.first_seen = raw.first_seen;
    entity.last_seen = raw.last_seen;
    entity.last_change = raw.last_change;
    let names = entity.names();
    if names.is_empty() {
        return Err(Skip::Error(format!("entity {:?}: no name", entity.id)));
    }
    if entity.caption.is_empty() {
        entity.caption = names[0].clone();
    }
    Ok(Some(entity))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_and_reports_bad_lines() {
        let data = r#"{"id":"p1","schema":"Person","properties":{"name":["Ivan Petrov"],"birthDate":["1970-01-02"],"topics":["sanction"]},"datasets":["test"]}
not json
{"id":"s1","schema":"Sanction","properties":{"entity":["p1"]}}

{"schema":"Person","properties":{"name":["No Id"]}}
{"id":"p1","schema":"Person","properties":{"name":["Dup"]}}
{"id":"c1","schema":"Company","properties":{"name":["Acme LLC"],"country":["ru"]}}
{"id":"p2","schema":"Person","properties":{"firstName":["Anna"],"lastName":["Ivanova"]}}
{"id":"p3","schema":"Person","properties":{"nationality":["ru"]}}
"#;
        let (ds, rep) = import_ftm(data.as_bytes(), "test", "v1", Some("2024-01-01"));
        assert_eq!(ds.entities.len(), 3);
        assert_eq!(rep.entities_imported, 3);
        assert_eq!(rep.rows_read, 8);
        assert_eq!(rep.skipped, vec![("Sanction".to_string(), 1)]);
        let lines: Vec<u64> = rep.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 5, 6, 9], "{:?}", rep.errors);
        assert_eq!(ds.entities[2].names(), vec!["Anna Ivanova".to_string()]);
        assert_eq!(ds.entities[0].caption, "Ivan Petrov");
    }
}
