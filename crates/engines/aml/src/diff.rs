//! Differences between two versions of a dataset, for ongoing monitoring:
//! stored subjects are re-screened against only what was added or changed.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use serde::Serialize;

use crate::index::DatasetIndex;
use crate::model::{Dataset, Entity};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatasetDiff {
    pub dataset: String,
    pub from_version: String,
    pub to_version: String,
    /// Entity ids present only in the new version.
    pub added: Vec<String>,
    /// Entity ids whose screenable content (schema, caption, properties)
    /// differs; `first_seen` / `last_seen` churn is ignored.
    pub changed: Vec<String>,
    /// Entity ids no longer listed.
    pub removed: Vec<String>,
}

fn fingerprint(e: &Entity) -> u64 {
    let mut h = DefaultHasher::new();
    e.schema.hash(&mut h);
    e.caption.hash(&mut h);
    e.properties.canonical().hash(&mut h);
    h.finish()
}

/// Compares two versions of the same dataset by entity id.
pub fn diff_datasets(old: &Dataset, new: &Dataset) -> DatasetDiff {
    let old_fp: HashMap<&str, u64> = old
        .entities
        .iter()
        .map(|e| (e.id.as_str(), fingerprint(e)))
        .collect();
    let mut added = Vec::new();
    let mut changed = Vec::new();
    let mut present = std::collections::HashSet::new();
    for e in &new.entities {
        present.insert(e.id.as_str());
        match old_fp.get(e.id.as_str()) {
            None => added.push(e.id.clone()),
            Some(&fp) if fp != fingerprint(e) => changed.push(e.id.clone()),
            Some(_) => {}
        }
    }
    let removed = old
        .entities
        .iter()
        .filter(|e| !present.contains(e.id.as_str()))
        .map(|e| e.id.clone())
        .collect();
    DatasetDiff {
        dataset: new.name.clone(),
        from_version: old.version.clone(),
        to_version: new.version.clone(),
        added,
        changed,
        removed,
    }
}

impl DatasetDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }

    /// The added and changed entities of `new` as a dataset of their own
    /// (same name and version as `new`).
    pub fn delta_dataset(&self, new: &Dataset) -> Dataset {
        let wanted: std::collections::HashSet<&str> = self
            .added
            .iter()
            .chain(self.changed.iter())
            .map(String::as_str)
            .collect();
        Dataset {
            name: new.name.clone(),
            version: new.version.clone(),
            date: new.date.clone(),
            imported_at: new.imported_at.clone(),
            entities: new
                .entities
                .iter()
                .filter(|e| wanted.contains(e.id.as_str()))
                .cloned()
                .collect(),
        }
    }

    /// A small index over the delta: screen every monitored subject against
    /// it with [`crate::screen_indexes`] to find new hits cheaply.
    pub fn delta_index(&self, new: &Dataset) -> DatasetIndex {
        DatasetIndex::build(self.delta_dataset(new))
    }
}
