//! Data model: FollowTheMoney-shaped entities grouped in versioned datasets.

use std::borrow::Cow;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

/// The FollowTheMoney schemata the screener understands. Other schemata in an
/// FtM export (Address, Sanction, Ownership, …) describe relations, not
/// screenable parties, and are counted as skipped by the importer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Schema {
    Person,
    Company,
    Organization,
    LegalEntity,
    Vessel,
    Airplane,
}

impl Schema {
    pub fn parse(s: &str) -> Option<Schema> {
        Some(match s {
            "Person" => Schema::Person,
            "Company" => Schema::Company,
            "Organization" => Schema::Organization,
            "LegalEntity" => Schema::LegalEntity,
            "Vessel" => Schema::Vessel,
            "Airplane" => Schema::Airplane,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Schema::Person => "Person",
            Schema::Company => "Company",
            Schema::Organization => "Organization",
            Schema::LegalEntity => "LegalEntity",
            Schema::Vessel => "Vessel",
            Schema::Airplane => "Airplane",
        }
    }

    /// Whether a screening request of `entity_type` should consider this schema.
    /// `LegalEntity` is FtM's common parent, so it can be either.
    pub fn matches_type(self, entity_type: EntityType) -> bool {
        match entity_type {
            EntityType::Person => matches!(self, Schema::Person | Schema::LegalEntity),
            EntityType::Company => !matches!(self, Schema::Person),
        }
    }

    /// Organisation-like names get legal-form stripping.
    pub fn is_organization(self) -> bool {
        matches!(
            self,
            Schema::Company | Schema::Organization | Schema::LegalEntity
        )
    }
}

/// Didit's `entity_type` on `/v3/aml/` and in `aml_screenings[]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EntityType {
    #[default]
    Person,
    Company,
}

/// FtM properties: an ordered list of (property, values). A small vector
/// instead of a BTreeMap, and well-known property names as `&'static str`
/// instead of a heap string each: a million entities with ~5 properties
/// would otherwise spend hundreds of MB on tree nodes and key copies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(from = "std::collections::BTreeMap<String, Vec<String>>")]
pub struct Properties(Vec<(Cow<'static, str>, Vec<String>)>);

/// FtM property names interned as static strings.
const KNOWN_PROPS: &[&str] = &[
    "name",
    "alias",
    "weakAlias",
    "previousName",
    "firstName",
    "lastName",
    "middleName",
    "fatherName",
    "birthDate",
    "deathDate",
    "birthPlace",
    "nationality",
    "citizenship",
    "country",
    "jurisdiction",
    "idNumber",
    "passportNumber",
    "taxNumber",
    "registrationNumber",
    "topics",
    "gender",
    "position",
    "notes",
    "program",
    "callSign",
    "type",
    "tonnage",
    "grossRegisteredTonnage",
    "flag",
    "owner",
    "address",
    "email",
    "website",
    "sourceUrl",
    "summary",
    "title",
    "imoNumber",
    "mmsi",
    "incorporationDate",
    "legalForm",
    "status",
];

fn intern(key: &str) -> Cow<'static, str> {
    match KNOWN_PROPS.iter().find(|k| **k == key) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(key.to_string()),
    }
}

impl From<std::collections::BTreeMap<String, Vec<String>>> for Properties {
    fn from(m: std::collections::BTreeMap<String, Vec<String>>) -> Self {
        Properties(m.into_iter().map(|(k, v)| (intern(&k), v)).collect())
    }
}

impl Properties {
    pub fn new() -> Self {
        Properties(Vec::new())
    }

    pub fn get(&self, key: &str) -> &[String] {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
            .unwrap_or(&[])
    }

    /// Adds a value unless it is empty or already present (FtM values are sets).
    pub fn add(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, vals)) => {
                if !vals.iter().any(|v| v == value) {
                    vals.push(value.to_string());
                }
            }
            None => self.0.push((intern(key), vec![value.to_string()])),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v.as_slice()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sorted copy, so that two equal entities compare equal regardless of
    /// the order their source listed properties and values in.
    pub fn canonical(&self) -> Vec<(String, Vec<String>)> {
        let mut v: Vec<(String, Vec<String>)> = self
            .0
            .iter()
            .map(|(k, vals)| {
                let mut vals = vals.clone();
                vals.sort();
                (k.to_string(), vals)
            })
            .collect();
        v.sort();
        v
    }
}

impl Serialize for Properties {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// One screenable party. Mirrors an FtM entity; `topics` and `datasets` are
/// kept both here (for fast access) and, for topics, in `properties`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub id: String,
    pub schema: Schema,
    pub caption: String,
    pub properties: Properties,
    pub datasets: Vec<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub last_change: Option<String>,
}

/// Name-bearing properties, in FtM terms.
pub const NAME_PROPS: &[&str] = &["name", "alias", "weakAlias", "previousName"];
/// Country-bearing properties compared against the subject's nationality.
pub const COUNTRY_PROPS: &[&str] = &["nationality", "citizenship", "country", "jurisdiction"];
/// Document-number properties used as the "golden key".
pub const DOC_PROPS: &[&str] = &[
    "idNumber",
    "passportNumber",
    "taxNumber",
    "registrationNumber",
];

impl Entity {
    pub fn new(id: impl Into<String>, schema: Schema) -> Self {
        Entity {
            id: id.into(),
            schema,
            caption: String::new(),
            properties: Properties::new(),
            datasets: Vec::new(),
            first_seen: None,
            last_seen: None,
            last_change: None,
        }
    }

    /// All names to screen against: explicit names and aliases, plus
    /// "firstName lastName" when only the parts are given.
    pub fn names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in NAME_PROPS {
            for v in self.properties.get(p) {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
        }
        let first = self.properties.get("firstName");
        let last = self.properties.get("lastName");
        if out.is_empty() {
            if let (Some(f), Some(l)) = (first.first(), last.first()) {
                out.push(format!("{f} {l}"));
            }
        }
        if out.is_empty() && !self.caption.is_empty() {
            out.push(self.caption.clone());
        }
        out
    }

    pub fn topics(&self) -> &[String] {
        self.properties.get("topics")
    }

    pub fn has_topic_prefix(&self, prefix: &str) -> bool {
        self.topics().iter().any(|t| t.starts_with(prefix))
    }
}

/// Describes one imported version of a dataset; every screening answer lists
/// the metas it was computed against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetMeta {
    pub name: String,
    /// Operator-chosen version label (e.g. the publication date or a hash).
    pub version: String,
    /// Date the data was published / captured (YYYY-MM-DD), when known.
    pub date: Option<String>,
    /// When this process imported it (RFC 3339, UTC).
    pub imported_at: String,
    pub entity_count: usize,
}

/// A named, versioned set of entities.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: String,
    pub version: String,
    pub date: Option<String>,
    pub imported_at: String,
    pub entities: Vec<Entity>,
}

impl Dataset {
    pub fn new(name: &str, version: &str, date: Option<&str>) -> Self {
        Dataset {
            name: name.to_string(),
            version: version.to_string(),
            date: date.map(str::to_string),
            imported_at: now_rfc3339(),
            entities: Vec::new(),
        }
    }

    pub fn meta(&self) -> DatasetMeta {
        DatasetMeta {
            name: self.name.clone(),
            version: self.version.clone(),
            date: self.date.clone(),
            imported_at: self.imported_at.clone(),
            entity_count: self.entities.len(),
        }
    }
}

/// One rejected input row. Line numbers are 1-based physical lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportError {
    pub line: u64,
    pub message: String,
}

/// Outcome of an import: nothing is dropped silently, every row is either
/// imported, skipped for a stated reason, or listed in `errors`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub rows_read: u64,
    pub entities_imported: u64,
    /// Rows that are valid but not screenable (e.g. FtM `Sanction` or
    /// `Address` records), counted per schema.
    pub skipped: Vec<(String, u64)>,
    pub errors: Vec<ImportError>,
}

impl ImportReport {
    pub(crate) fn skip(&mut self, what: &str) {
        match self.skipped.iter_mut().find(|(k, _)| k == what) {
            Some((_, n)) => *n += 1,
            None => self.skipped.push((what.to_string(), 1)),
        }
    }

    pub fn error_count(&self) -> usize {
        self.errors.len()
    }
}

/// Progress of a running import, for CLI progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    pub rows: u64,
    pub bytes: u64,
}

/// Current UTC time as RFC 3339 without pulling a date crate in.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil conversion.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_844), (2024, 5, 1));
    }

    #[test]
    fn properties_are_sets() {
        let mut p = Properties::new();
        p.add("name", "A");
        p.add("name", "A");
        p.add("name", " ");
        assert_eq!(p.get("name"), &["A".to_string()]);
        assert!(p.get("alias").is_empty());
    }
}
