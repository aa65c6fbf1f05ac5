//! The per-dataset search index: a token vocabulary with posting lists, and
//! fuzzy keys (symmetric-deletion variants and Double Metaphone codes) that
//! map a misspelt or transliterated query token to the vocabulary tokens it
//! may stand for.

use std::hash::Hasher;

use rphonetic::DoubleMetaphone;
use rustc_hash::{FxHashMap, FxHasher};

use crate::country::country_code;
use crate::date::PartialDate;
use crate::model::{Dataset, DatasetMeta, Entity, Schema, COUNTRY_PROPS, DOC_PROPS};
use crate::normalize::{
    name_tokens, normalize_doc_number, token_codes, token_weight, NameKind, TokenCodes,
};

/// Key namespaces, so a deletion variant never collides with a phonetic code.
const KEY_DELETE: u8 = b'D';
const KEY_PHONETIC: u8 = b'P';

pub(crate) struct TokenInfo {
    pub text: Box<str>,
    pub codes: TokenCodes,
    pub weight: f32,
    /// Name ids containing this token, ascending.
    pub postings: Vec<u32>,
    /// Name ids whose only non-honorific token is this one (a subset of
    /// `postings`; see the retrieval plan in `matcher.rs`).
    pub alone: Vec<u32>,
}

/// Per-entity facts used in scoring, parsed once at build time.
#[derive(Default)]
pub(crate) struct EntityFeatures {
    pub dobs: Vec<PartialDate>,
    pub countries: Vec<[u8; 2]>,
    pub docs: Vec<Box<str>>,
}

/// An immutable, searchable snapshot of one dataset version.
pub struct DatasetIndex {
    pub(crate) dataset: Dataset,
    pub(crate) meta: DatasetMeta,
    pub(crate) feats: Vec<EntityFeatures>,
    pub(crate) name_entity: Vec<u32>,
    pub(crate) name_offsets: Vec<u32>,
    pub(crate) name_tokens: Vec<u32>,
    pub(crate) tokens: Vec<TokenInfo>,
    /// `tokens[i].weight`, stored densely: the retrieval bound reads it for
    /// every touched name, and a compact array stays in cache.
    pub(crate) token_weights: Vec<f32>,
    /// First byte of each token (initials are compared against it).
    pub(crate) token_first: Vec<u8>,
    pub(crate) vocab: FxHashMap<Box<str>, u32>,
    /// (key hash, token id), sorted: binary-searched at query time. A flat
    /// sorted vector costs 16 bytes per key instead of a hash map's ~80.
    pub(crate) keys: Vec<(u64, u32)>,
    pub(crate) docs: FxHashMap<Box<str>, Vec<u32>>,
}

pub(crate) fn name_kind(schema: Schema) -> NameKind {
    match schema {
        Schema::Person => NameKind::Person,
        s if s.is_organization() => NameKind::Organization,
        _ => NameKind::Other,
    }
}

pub(crate) fn key_hash(tag: u8, bytes: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write_u8(tag);
    h.write(bytes);
    h.finish()
}

/// Deletion keys of a token: the token itself and every variant with one
/// character removed. Two tokens within one edit (insert, delete,
/// substitute, transpose) — and many within two — share a key.
pub(crate) fn deletion_keys(token: &str, out: &mut Vec<u64>) {
    let b = token.as_bytes();
    out.push(key_hash(KEY_DELETE, b));
    if b.len() < 3 {
        return;
    }
    let mut buf = Vec::with_capacity(b.len());
    for i in 0..b.len() {
        if i > 0 && b[i] == b[i - 1] {
            continue; // same variant as the previous deletion
        }
        buf.clear();
        buf.extend_from_slice(&b[..i]);
        buf.extend_from_slice(&b[i + 1..]);
        out.push(key_hash(KEY_DELETE, &buf));
    }
}

/// Phonetic keys: the Double Metaphone codes and the romanisation skeleton.
pub(crate) fn phonetic_keys(codes: TokenCodes, out: &mut Vec<u64>) {
    for c in codes.phon {
        if c != 0 {
            out.push(key_hash(KEY_PHONETIC, &c.to_le_bytes()));
        }
    }
    if codes.skel != 0 {
        out.push(codes.skel);
    }
}

impl DatasetIndex {
    /// Builds the index. Cost is linear in the number of names plus the
    /// number of distinct tokens times their length.
    pub fn build(dataset: Dataset) -> DatasetIndex {
        let dm = DoubleMetaphone::default();
        let mut vocab: FxHashMap<Box<str>, u32> = FxHashMap::default();
        let mut tokens: Vec<TokenInfo> = Vec::new();
        let mut name_entity = Vec::with_capacity(dataset.entities.len() * 2);
        let mut name_offsets = vec![0u32];
        let mut name_tokens_flat: Vec<u32> = Vec::with_capacity(dataset.entities.len() * 6);
        let mut feats = Vec::with_capacity(dataset.entities.len());
        let mut docs: FxHashMap<Box<str>, Vec<u32>> = FxHashMap::default();
        let mut seen_names: Vec<Vec<u32>> = Vec::new();

        for (ei, entity) in dataset.entities.iter().enumerate() {
            let ei = ei as u32;
            feats.push(entity_features(entity));
            for d in &feats[ei as usize].docs {
                docs.entry(d.clone()).or_default().push(ei);
            }
            let kind = name_kind(entity.schema);
            seen_names.clear();
            for name in entity.names() {
                let toks = name_tokens(&name, kind);
                if toks.is_empty() {
                    continue;
                }
                let mut ids: Vec<u32> = toks
                    .iter()
                    .map(|t| {
                        if let Some(&id) = vocab.get(t.as_str()) {
                            return id;
                        }
                        let id = tokens.len() as u32;
                        let text: Box<str> = t.as_str().into();
                        vocab.insert(text.clone(), id);
                        tokens.push(TokenInfo {
                            weight: token_weight(&text),
                            text,
                            codes: TokenCodes::default(),
                            postings: Vec::new(),
                            alone: Vec::new(),
                        });
                        id
                    })
                    .collect();
                // "ABBAS, Abu" and "Abu Abbas" are one name for matching.
                let mut sorted = ids.clone();
                sorted.sort_unstable();
                if seen_names.contains(&sorted) {
                    continue;
                }
                seen_names.push(sorted);
                let nid = name_entity.len() as u32;
                name_entity.push(ei);
                for &t in &ids {
                    let p = &mut tokens[t as usize].postings;
                    if p.last() != Some(&nid) {
                        p.push(nid);
                    }
                }
                let mut real = ids.iter().filter(|&&t| tokens[t as usize].weight >= 1.0);
                if let (Some(&only), None) = (real.next(), real.next()) {
                    tokens[only as usize].alone.push(nid);
                }
                name_tokens_flat.append(&mut ids);
                name_offsets.push(name_tokens_flat.len() as u32);
            }
        }

        let mut keys: Vec<(u64, u32)> = Vec::with_capacity(tokens.len() * 9);
        let mut buf = Vec::new();
        for (id, tok) in tokens.iter_mut().enumerate() {
            tok.codes = token_codes(&dm, &tok.text);
            buf.clear();
            deletion_keys(&tok.text, &mut buf);
            phonetic_keys(tok.codes, &mut buf);
            keys.extend(buf.iter().map(|&k| (k, id as u32)));
        }
        keys.sort_unstable();
        keys.dedup();
        keys.shrink_to_fit();
        for t in tokens.iter_mut() {
            t.postings.shrink_to_fit();
            t.alone.shrink_to_fit();
        }

        let meta = dataset.meta();
        let token_weights = tokens.iter().map(|t| t.weight).collect();
        let token_first = tokens.iter().map(|t| t.text.as_bytes()[0]).collect();
        DatasetIndex {
            token_weights,
            token_first,
            dataset,
            meta,
            feats,
            name_entity,
            name_offsets,
            name_tokens: name_tokens_flat,
            tokens,
            vocab,
            keys,
            docs,
        }
    }

    pub fn meta(&self) -> &DatasetMeta {
        &self.meta
    }

    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    pub fn entity(&self, idx: usize) -> &Entity {
        &self.dataset.entities[idx]
    }

    pub fn name_count(&self) -> usize {
        self.name_entity.len()
    }

    pub fn vocabulary_size(&self) -> usize {
        self.tokens.len()
    }

    pub(crate) fn name_tokens_of(&self, nid: u32) -> &[u32] {
        let a = self.name_offsets[nid as usize] as usize;
        let b = self.name_offsets[nid as usize + 1] as usize;
        &self.name_tokens[a..b]
    }

    /// Token ids stored under `key`.
    pub(crate) fn lookup_key(&self, key: u64) -> impl Iterator<Item = u32> + '_ {
        let start = self.keys.partition_point(|&(k, _)| k < key);
        self.keys[start..]
            .iter()
            .take_while(move |&&(k, _)| k == key)
            .map(|&(_, t)| t)
    }
}

fn entity_features(e: &Entity) -> EntityFeatures {
    let mut f = EntityFeatures::default();
    for d in e.properties.get("birthDate") {
        if let Some(d) = PartialDate::parse_iso(d) {
            if !f.dobs.contains(&d) {
                f.dobs.push(d);
            }
        }
    }
    for p in COUNTRY_PROPS {
        for c in e.properties.get(p) {
            if let Some(code) = country_code(c) {
                let b = code.as_bytes();
                let code = [b[0], b[1]];
                if !f.countries.contains(&code) {
                    f.countries.push(code);
                }
            }
        }
    }
    for p in DOC_PROPS {
        for d in e.properties.get(p) {
            let n = normalize_doc_number(d);
            // Very short numbers are not distinctive enough for a golden key.
            if n.len() >= 5 && !f.docs.iter().any(|x| **x == *n) {
                f.docs.push(n.into());
            }
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deletion_keys_link_single_edits() {
        let keys = |s: &str| {
            let mut v = Vec::new();
            deletion_keys(s, &mut v);
            v
        };
        let share = |a: &str, b: &str| keys(a).iter().any(|k| keys(b).contains(k));
        assert!(share("hassan", "hasan")); // deletion
        assert!(share("hassan", "hassen")); // substitution
        assert!(share("hassan", "hasasn")); // transposition
        assert!(share("hassan", "hassann")); // insertion
        assert!(!share("hassan", "ibrahim"));
    }
}
