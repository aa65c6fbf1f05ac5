//! Accuracy evaluation on the synthetic corpus (used by the corpus test and the
//! `evaluate` example).

use std::time::Instant;

use chrono::NaiveDate;
use serde::Serialize;

use crate::synth::{self, Assets, CorpusItem, DocKind};
use crate::{DocumentEngine, DocumentReading, ReadOptions};

#[derive(Debug, Clone, Serialize)]
pub struct ItemResult {
    pub index: usize,
    pub kind: DocKind,
    pub mrz_expected: bool,
    /// Every MRZ character equals the ground truth and every check digit holds.
    pub mrz_correct: bool,
    /// The MRZ lines the engine read (repaired), when it found an MRZ.
    pub mrz_read: Option<String>,
    pub pdf417_expected: bool,
    pub pdf417_decoded: bool,
    /// The engine reported a PDF417 it located but could not read (`unread_barcode`).
    pub pdf417_unread: bool,
    /// The engine vouched for the data (`data_verified`).
    pub verified: bool,
    /// Verified, yet some reported field differs from the ground truth.
    pub verified_but_wrong: Vec<String>,
    pub warnings: Vec<String>,
    pub millis: f64,
    pub error: Option<String>,
}

/// Issue 5's accuracy targets: the share of MRZ documents read fully correct and of licence
/// backs whose PDF417 is decoded.
pub const MRZ_TARGET: f64 = 0.98;
pub const PDF417_TARGET: f64 = 0.95;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub documents: usize,
    pub mrz_documents: usize,
    pub mrz_correct: usize,
    pub pdf417_documents: usize,
    pub pdf417_decoded: usize,
    pub verified: usize,
    pub verified_but_wrong: usize,
    /// Documents reported to hold an unread PDF417 although they hold none or it was read.
    pub phantom_unread_pdf417: usize,
    pub median_ms_per_document: f64,
    pub items: Vec<ItemResult>,
}

impl Report {
    pub fn mrz_accuracy(&self) -> f64 {
        self.mrz_correct as f64 / self.mrz_documents.max(1) as f64
    }
    pub fn pdf417_rate(&self) -> f64 {
        self.pdf417_decoded as f64 / self.pdf417_documents.max(1) as f64
    }
}

fn key(s: &str) -> String {
    synth::transliterate(s)
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .collect()
}

/// Fields the engine reported that contradict the ground truth.
pub fn wrong_fields(r: &DocumentReading, t: &synth::GroundTruth) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut check = |name: &str, got: Option<String>, want: &[String]| {
        if let Some(g) = got {
            if !want.contains(&g) {
                wrong.push(format!("{name}: got {g:?}, want {want:?}"));
            }
        }
    };
    check(
        "document_number",
        r.document_number.clone(),
        std::slice::from_ref(&t.document_number),
    );
    check(
        "date_of_birth",
        r.date_of_birth.clone(),
        &[t.birth_date.to_string()],
    );
    check(
        "expiration_date",
        r.expiration_date.clone(),
        &[t.expiry_date.to_string()],
    );
    check("gender", r.gender.clone(), &[t.sex.to_string()]);
    check(
        "last_name",
        r.last_name.as_deref().map(key),
        &[key(&t.surname), key(&t.mrz_surname)],
    );
    check(
        "first_name",
        r.first_name.as_deref().map(key),
        &[key(&t.given_names), key(&t.mrz_given_names)],
    );
    if t.kind != DocKind::UsDrivingLicence {
        let iso = |c: &str| {
            if c == "D" {
                "DEU".to_string()
            } else {
                c.to_string()
            }
        };
        check(
            "issuing_state",
            r.issuing_state.clone(),
            &[iso(&t.issuing_state)],
        );
        check("nationality", r.nationality.clone(), &[iso(&t.nationality)]);
    }
    wrong
}

pub fn evaluate_item(
    engine: &DocumentEngine,
    item: &CorpusItem,
    index: usize,
    today: NaiveDate,
    opts: &ReadOptions,
) -> ItemResult {
    let t = &item.truth;
    let start = Instant::now();
    let res = engine.read(
        &item.front,
        item.back.as_deref(),
        &ReadOptions {
            today: Some(today),
            ..opts.clone()
        },
    );
    let millis = start.elapsed().as_secs_f64() * 1000.0;
    let mrz_expected = !t.mrz_lines.is_empty();
    let pdf417_expected = t.barcode_payload.is_some();
    match res {
        Ok(r) => {
            let mrz_correct = mrz_expected
                && r.mrz
                    .as_ref()
                    .is_some_and(|m| m.valid && m.mrz_string == t.mrz_lines.join("\n"));
            let pdf417_decoded = t
                .barcode_payload
                .as_ref()
                .is_some_and(|p| r.barcodes.iter().any(|b| &b.data == p));
            let wrong = if r.data_verified {
                wrong_fields(&r, t)
            } else {
                Vec::new()
            };
            ItemResult {
                index,
                kind: t.kind,
                mrz_expected,
                mrz_correct,
                mrz_read: r.mrz.as_ref().map(|m| m.mrz_string.clone()),
                pdf417_expected,
                pdf417_decoded,
                pdf417_unread: r.unread_barcode.is_some(),
                verified: r.data_verified,
                verified_but_wrong: wrong,
                warnings: r.warnings.iter().map(|w| w.risk.clone()).collect(),
                millis,
                error: None,
            }
        }
        Err(e) => ItemResult {
            index,
            kind: t.kind,
            mrz_expected,
            mrz_correct: false,
            mrz_read: None,
            pdf417_expected,
            pdf417_decoded: false,
            pdf417_unread: false,
            verified: false,
            verified_but_wrong: Vec::new(),
            warnings: Vec::new(),
            millis,
            error: Some(e.to_string()),
        },
    }
}

/// A line describing what went wrong with an item (MRZ read next to the truth), or None if
/// nothing did.
pub fn failure_line(r: &ItemResult, item: &CorpusItem) -> Option<String> {
    let mrz_missed = r.mrz_expected && !r.mrz_correct;
    let pdf417_missed = r.pdf417_expected && !r.pdf417_decoded;
    if !mrz_missed && !pdf417_missed && r.verified_but_wrong.is_empty() {
        return None;
    }
    let mut line = format!(
        "doc {} {:?}: mrz_ok={} pdf_ok={} wrong={:?} warnings={:?} err={:?}",
        r.index, r.kind, r.mrz_correct, r.pdf417_decoded, r.verified_but_wrong, r.warnings, r.error
    );
    if mrz_missed {
        line.push_str(&format!(
            "\n  want {:?}\n  read {:?}",
            item.truth.mrz_lines.join("\n"),
            r.mrz_read
        ));
    }
    Some(line)
}

/// Generate the documents `indices` of the corpus of `seed` and read each one.
pub fn evaluate(
    engine: &DocumentEngine,
    assets: &Assets,
    indices: impl IntoIterator<Item = usize>,
    seed: u64,
    today: NaiveDate,
    opts: &ReadOptions,
    mut progress: impl FnMut(&ItemResult, &CorpusItem),
) -> Report {
    let mut items = Vec::new();
    for i in indices {
        let item = synth::corpus_item(assets, seed, i, today);
        let r = evaluate_item(engine, &item, i, today, opts);
        progress(&r, &item);
        items.push(r);
    }
    let mut times: Vec<f64> = items.iter().map(|i| i.millis).collect();
    times.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    Report {
        documents: items.len(),
        mrz_documents: items.iter().filter(|i| i.mrz_expected).count(),
        mrz_correct: items.iter().filter(|i| i.mrz_correct).count(),
        pdf417_documents: items.iter().filter(|i| i.pdf417_expected).count(),
        pdf417_decoded: items.iter().filter(|i| i.pdf417_decoded).count(),
        verified: items.iter().filter(|i| i.verified).count(),
        verified_but_wrong: items
            .iter()
            .filter(|i| !i.verified_but_wrong.is_empty())
            .count(),
        phantom_unread_pdf417: items
            .iter()
            .filter(|i| i.pdf417_unread && (!i.pdf417_expected || i.pdf417_decoded))
            .count(),
        median_ms_per_document: times.get(times.len() / 2).copied().unwrap_or(0.0),
        items,
    }
}
