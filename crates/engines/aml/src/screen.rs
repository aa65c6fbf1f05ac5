//! Screening: request and configuration in, Didit-shaped results out, plus
//! the [`Screener`] that swaps dataset versions atomically.

use std::sync::Arc;

use arc_swap::ArcSwap;
use rphonetic::DoubleMetaphone;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::country::country_code;
use crate::date::{dob_score, PartialDate};
use crate::index::{name_kind, DatasetIndex};
use crate::matcher::{compare_names, NameMatch, QueryName};
use crate::model::{DatasetMeta, Entity, EntityType, Properties};
use crate::normalize::{normalize_doc_number, NameKind};

/// Workflow / request configuration (spec §7.3 `AML` keys, §8 `/v3/aml/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScreeningConfig {
    pub aml_name_weight: f64,
    pub aml_dob_weight: f64,
    pub aml_country_weight: f64,
    /// Hits below this `match_score` are `False Positive`, others `Unreviewed`.
    pub aml_match_score_threshold: f64,
    /// Highest non-FP `risk_score` below this → Approved.
    pub aml_score_approve_threshold: f64,
    /// Highest non-FP `risk_score` at or above this → Declined; between → In Review.
    pub aml_score_review_threshold: f64,
    /// Candidates whose best name similarity (0–100) is below this are not
    /// reported at all, not even as False Positive.
    pub min_name_score: f64,
    /// At most this many hits are returned (best first).
    pub max_hits: usize,
}

impl Default for ScreeningConfig {
    fn default() -> Self {
        ScreeningConfig {
            aml_name_weight: 60.0,
            aml_dob_weight: 25.0,
            aml_country_weight: 15.0,
            aml_match_score_threshold: 93.0,
            aml_score_approve_threshold: 80.0,
            aml_score_review_threshold: 100.0,
            min_name_score: 85.0,
            max_hits: 20,
        }
    }
}

/// What is screened (spec §8 `/v3/aml/` inputs, or a session's extracted data).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScreeningRequest {
    pub full_name: String,
    #[serde(default)]
    pub entity_type: EntityType,
    /// `YYYY-MM-DD` (or a `YYYY` / `YYYY-MM` prefix).
    #[serde(default)]
    pub date_of_birth: Option<String>,
    /// ISO alpha-2 or alpha-3 (names are accepted too).
    #[serde(default)]
    pub nationality: Option<String>,
    #[serde(default)]
    pub document_number: Option<String>,
}

impl ScreeningRequest {
    pub fn person(full_name: &str) -> Self {
        ScreeningRequest {
            full_name: full_name.to_string(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AmlStatus {
    Approved,
    #[serde(rename = "In Review")]
    InReview,
    Declined,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReviewStatus {
    #[serde(rename = "False Positive")]
    FalsePositive,
    Unreviewed,
    #[serde(rename = "Confirmed Match")]
    ConfirmedMatch,
    Inconclusive,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreBreakdown {
    pub name_score: f64,
    pub name_weight: f64,
    /// `None` when either side has no date of birth (its weight is then 0
    /// and the others are renormalised).
    pub dob_score: Option<f64>,
    pub dob_weight: f64,
    pub country_score: Option<f64>,
    pub country_weight: f64,
    /// The document-number "golden key" matched: `match_score` is 100.
    pub document_match: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskLevel {
    pub score: f64,
    pub risk_level: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskView {
    pub categories: RiskLevel,
    pub countries: Option<RiskLevel>,
    pub crimes: Option<RiskLevel>,
}

/// One list membership behind a hit (`pep_matches[]`, `sanction_matches[]`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListMatch {
    pub topic: String,
    pub datasets: Vec<String>,
    pub programs: Vec<String>,
    pub positions: Vec<String>,
}

/// v1 `features` (also kept on current hits for explainability).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchFeatures {
    pub person_name_jaro_winkler: f64,
    pub person_name_phonetic_match: f64,
}

/// A hit in the current shape (spec §5.10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AmlHit {
    pub id: String,
    pub caption: String,
    pub schema: String,
    pub match_score: f64,
    pub risk_score: f64,
    pub review_status: ReviewStatus,
    pub datasets: Vec<String>,
    pub properties: Properties,
    pub score_breakdown: ScoreBreakdown,
    pub risk_view: RiskView,
    pub pep_matches: Vec<ListMatch>,
    pub sanction_matches: Vec<ListMatch>,
    pub warning_matches: Vec<ListMatch>,
    pub adverse_media_matches: Vec<serde_json::Value>,
    pub linked_entities: Vec<serde_json::Value>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub last_change: Option<String>,
    /// The entity name that matched best.
    pub matched_name: String,
    pub features: MatchFeatures,
    /// Name and version of the dataset this hit came from.
    pub dataset_name: String,
    pub dataset_version: String,
}

/// Warning object (spec §5.2 without `node_id`, which the workflow adds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AmlWarning {
    pub feature: String,
    pub risk: String,
    pub additional_data: Option<serde_json::Value>,
    pub log_type: String,
    pub short_description: String,
    pub long_description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreenedData {
    pub full_name: String,
    pub nationality: Option<String>,
    pub date_of_birth: Option<String>,
    pub document_number: Option<String>,
}

/// The AML report (an `aml_screenings[]` item without the workflow-owned
/// fields `node_id` and the ongoing-monitoring dates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AmlScreening {
    pub status: AmlStatus,
    pub total_hits: usize,
    pub entity_type: EntityType,
    /// Highest hit `match_score` (0 without hits).
    pub score: f64,
    pub screened_data: ScreenedData,
    pub hits: Vec<AmlHit>,
    pub warnings: Vec<AmlWarning>,
    /// Every dataset version this answer was computed against.
    pub dataset_versions: Vec<DatasetMeta>,
}

/// v1 hit (seed 001 shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct V1Hit {
    pub id: String,
    pub url: Option<String>,
    #[serde(rename = "match")]
    pub is_match: bool,
    /// 0–1.
    pub score: f64,
    pub target: bool,
    pub caption: String,
    pub datasets: Vec<String>,
    pub features: MatchFeatures,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub last_change: Option<String>,
    pub properties: Properties,
}

/// v1 `aml` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct V1Aml {
    pub status: AmlStatus,
    pub total_hits: usize,
    pub score: f64,
    pub hits: Vec<V1Hit>,
}

impl AmlHit {
    pub fn to_v1(&self) -> V1Hit {
        V1Hit {
            id: self.id.clone(),
            url: None,
            is_match: self.review_status != ReviewStatus::FalsePositive,
            score: self.match_score / 100.0,
            target: true,
            caption: self.caption.clone(),
            datasets: self.datasets.clone(),
            features: self.features.clone(),
            first_seen: self.first_seen.clone(),
            last_seen: self.last_seen.clone(),
            last_change: self.last_change.clone(),
            properties: self.properties.clone(),
        }
    }

    pub fn is_possible_match(&self) -> bool {
        self.review_status != ReviewStatus::FalsePositive
    }
}

impl AmlScreening {
    pub fn to_v1(&self) -> V1Aml {
        V1Aml {
            status: self.status,
            total_hits: self.total_hits,
            score: self.score,
            hits: self.hits.iter().map(AmlHit::to_v1).collect(),
        }
    }

    /// Hits that need review (not False Positive).
    pub fn possible_matches(&self) -> impl Iterator<Item = &AmlHit> {
        self.hits.iter().filter(|h| h.is_possible_match())
    }

    /// Possible matches in `self` that `previous` did not have (by entity id),
    /// for ongoing monitoring.
    pub fn new_possible_matches<'a>(&'a self, previous: &AmlScreening) -> Vec<&'a AmlHit> {
        self.possible_matches()
            .filter(|h| !previous.possible_matches().any(|p| p.id == h.id))
            .collect()
    }
}

/// Category component of the spec's risk model (§7.5 item 4), from FtM topics.
fn category_score(e: &Entity) -> f64 {
    let mut best: f64 = 0.0;
    for t in e.topics() {
        let s = match t.as_str() {
            t if t.starts_with("sanction") => 100.0,
            "crime" | "wanted" | "reg.warn" | "reg.action" | "debarment" | "export.control" => 95.0,
            t if t.starts_with("crime.") => 95.0,
            "role.pep" | "role.rca" | "corp.disqual" | "fin.bank" => 80.0,
            "poi" | "role.oligarch" => 60.0,
            "media" | "adverse.media" => 60.0,
            _ => 55.0,
        };
        best = best.max(s);
    }
    if best == 0.0 {
        55.0 // listed without a category: treat like a businessperson record
    } else {
        best
    }
}

fn risk_level(score: f64) -> String {
    if score >= 80.0 {
        "High"
    } else if score >= 50.0 {
        "Medium"
    } else {
        "Low"
    }
    .to_string()
}

fn list_matches(e: &Entity, pred: &dyn Fn(&str) -> bool) -> Vec<ListMatch> {
    e.topics()
        .iter()
        .filter(|t| pred(t))
        .map(|t| ListMatch {
            topic: t.clone(),
            datasets: e.datasets.clone(),
            programs: e.properties.get("program").to_vec(),
            positions: e.properties.get("position").to_vec(),
        })
        .collect()
}

/// The subject's screenable facts, parsed once per request.
struct Subject {
    query: QueryName,
    dob: Option<PartialDate>,
    country: Option<[u8; 2]>,
    doc: Option<String>,
}

fn subject(dm: &DoubleMetaphone, req: &ScreeningRequest) -> Subject {
    let kind = match req.entity_type {
        EntityType::Person => NameKind::Person,
        EntityType::Company => NameKind::Organization,
    };
    Subject {
        query: QueryName::new(dm, &req.full_name, kind),
        dob: req
            .date_of_birth
            .as_deref()
            .and_then(PartialDate::parse_iso),
        country: req.nationality.as_deref().and_then(country_code).map(|c| {
            let b = c.as_bytes();
            [b[0], b[1]]
        }),
        doc: req
            .document_number
            .as_deref()
            .map(normalize_doc_number)
            .filter(|d| d.len() >= 5),
    }
}

/// The numeric part of a hit, computed for every candidate; the full
/// [`AmlHit`] (which clones the entity's properties) only for those returned.
#[derive(Clone, Copy)]
struct Scored {
    ei: u32,
    nm: NameMatch,
    name_score: f64,
    dob: Option<f64>,
    country: Option<f64>,
    document_match: bool,
    weights: (f64, f64, f64, f64),
    match_score: f64,
    risk_score: f64,
    category: f64,
    criminal: bool,
}

fn score_parts(
    idx: &DatasetIndex,
    ei: u32,
    nm: NameMatch,
    s: &Subject,
    cfg: &ScreeningConfig,
) -> Scored {
    let e = idx.entity(ei as usize);
    let f = &idx.feats[ei as usize];
    let name_score = (nm.score as f64 * 100.0).clamp(0.0, 100.0);
    let dob = s.dob.as_ref().and_then(|d| dob_score(d, &f.dobs));
    let country = s.country.and_then(|c| {
        if f.countries.is_empty() {
            None
        } else if f.countries.contains(&c) {
            Some(100.0)
        } else {
            Some(-50.0)
        }
    });
    let document_match = s
        .doc
        .as_ref()
        .is_some_and(|d| f.docs.iter().any(|x| **x == **d));
    // Weights of missing facts are dropped and the rest renormalised to 100.
    let wn = cfg.aml_name_weight;
    let wd = if dob.is_some() {
        cfg.aml_dob_weight
    } else {
        0.0
    };
    let wc = if country.is_some() {
        cfg.aml_country_weight
    } else {
        0.0
    };
    let total = (wn + wd + wc).max(f64::EPSILON);
    let raw = (name_score * wn + dob.unwrap_or(0.0) * wd + country.unwrap_or(0.0) * wc) / total;
    let match_score = if document_match {
        100.0
    } else {
        raw.clamp(0.0, 100.0)
    };
    let match_score = (match_score * 100.0).round() / 100.0;
    let category = category_score(e);
    // Spec: risk = country×0.30 + category×0.50 + criminal×0.20. We hold no
    // country-risk data, so that part is left out and the rest renormalised;
    // the criminal part only counts when a crime topic is present.
    let criminal = e.has_topic_prefix("crime") || e.topics().iter().any(|t| t == "wanted");
    let risk_score = if criminal {
        (category * 0.5 + 100.0 * 0.2) / 0.7
    } else {
        category
    };
    let risk_score = (risk_score * 100.0).round() / 100.0;
    Scored {
        ei,
        nm,
        name_score,
        dob,
        country,
        document_match,
        weights: (wn, wd, wc, total),
        match_score,
        risk_score,
        category,
        criminal,
    }
}

fn build_hit(
    idx: &DatasetIndex,
    p: &Scored,
    matched_name: String,
    cfg: &ScreeningConfig,
) -> AmlHit {
    let e = idx.entity(p.ei as usize);
    let Scored {
        nm,
        name_score,
        dob,
        country,
        document_match,
        match_score,
        risk_score,
        category,
        criminal,
        ..
    } = *p;
    let (wn, wd, wc, total) = p.weights;
    let review_status = if match_score < cfg.aml_match_score_threshold {
        ReviewStatus::FalsePositive
    } else {
        ReviewStatus::Unreviewed
    };
    let pct = |w: f64| (w / total * 10000.0).round() / 100.0;
    AmlHit {
        id: e.id.clone(),
        caption: e.caption.clone(),
        schema: e.schema.as_str().to_string(),
        match_score,
        risk_score,
        review_status,
        datasets: e.datasets.clone(),
        properties: e.properties.clone(),
        score_breakdown: ScoreBreakdown {
            name_score: (name_score * 100.0).round() / 100.0,
            name_weight: pct(wn),
            dob_score: dob,
            dob_weight: pct(wd),
            country_score: country,
            country_weight: pct(wc),
            document_match,
        },
        risk_view: RiskView {
            categories: RiskLevel {
                score: category,
                risk_level: risk_level(category),
            },
            countries: None,
            crimes: criminal.then(|| RiskLevel {
                score: 100.0,
                risk_level: risk_level(100.0),
            }),
        },
        pep_matches: list_matches(e, &|t| t.starts_with("role.pep") || t == "role.rca"),
        sanction_matches: list_matches(e, &|t| t.starts_with("sanction")),
        warning_matches: list_matches(e, &|t| {
            t.starts_with("crime") || t.starts_with("reg.") || t == "wanted" || t == "debarment"
        }),
        adverse_media_matches: Vec::new(),
        linked_entities: Vec::new(),
        first_seen: e.first_seen.clone(),
        last_seen: e.last_seen.clone(),
        last_change: e.last_change.clone(),
        matched_name,
        features: MatchFeatures {
            person_name_jaro_winkler: (nm.jaro_winkler as f64 * 1e4).round() / 1e4,
            person_name_phonetic_match: (nm.phonetic as f64 * 1e4).round() / 1e4,
        },
        dataset_name: idx.meta.name.clone(),
        dataset_version: idx.meta.version.clone(),
    }
}

fn warning(risk: &str, log_type: &str, short: &str, long: &str) -> AmlWarning {
    AmlWarning {
        feature: "AML".into(),
        risk: risk.into(),
        additional_data: None,
        log_type: log_type.into(),
        short_description: short.into(),
        long_description: long.into(),
    }
}

/// Screens `req` against the given dataset indexes. This is the whole
/// engine; [`Screener`] only adds the atomically swappable set of indexes.
pub fn screen_indexes(
    indexes: &[Arc<DatasetIndex>],
    req: &ScreeningRequest,
    cfg: &ScreeningConfig,
) -> AmlScreening {
    let dm = DoubleMetaphone::default();
    let s = subject(&dm, req);
    let screened_data = ScreenedData {
        full_name: req.full_name.clone(),
        nationality: req.nationality.clone(),
        date_of_birth: req.date_of_birth.clone(),
        document_number: req.document_number.clone(),
    };
    let dataset_versions: Vec<DatasetMeta> = indexes.iter().map(|i| i.meta.clone()).collect();
    if indexes.is_empty() || s.query.is_empty() {
        let why = if indexes.is_empty() {
            "No sanctions or PEP dataset is loaded, so the subject could not be screened."
        } else {
            "The name to screen is empty after normalisation."
        };
        return AmlScreening {
            status: AmlStatus::InReview,
            total_hits: 0,
            entity_type: req.entity_type,
            score: 0.0,
            screened_data,
            hits: Vec::new(),
            warnings: vec![warning(
                "COULD_NOT_PERFORM_AML_SCREENING",
                "warning",
                "Could not perform AML screening",
                why,
            )],
            dataset_versions,
        };
    }
    // (index position, scored, how to name the matched name)
    let mut scored: Vec<(usize, Scored, Result<u32, String>)> = Vec::new();
    for (ii, idx) in indexes.iter().enumerate() {
        let entity_type = req.entity_type;
        let filter = |ei: u32| idx.entity(ei as usize).schema.matches_type(entity_type);
        let mut best: FxHashMap<u32, (NameMatch, u32)> = FxHashMap::default();
        // Name-only requests rank by name score alone, so the index may skip
        // candidates that cannot enter the top; with DOB, country or a
        // document the ranking can change, so everything is scored.
        let name_only = s.dob.is_none() && s.country.is_none() && s.doc.is_none();
        let keep_top = name_only.then_some(cfg.max_hits.max(10) * 4);
        for c in idx.candidates(
            &s.query,
            (cfg.min_name_score / 100.0) as f32,
            keep_top,
            &filter,
        ) {
            let e = best.entry(c.entity).or_insert((c.m, c.name));
            if c.m.score > e.0.score {
                *e = (c.m, c.name);
            }
        }
        for (ei, (m, nid)) in best {
            if m.score as f64 * 100.0 >= cfg.min_name_score {
                scored.push((ii, score_parts(idx, ei, m, &s, cfg), Ok(nid)));
            }
        }
        // Golden key: a document-number match is a hit whatever the name.
        if let Some(doc) = &s.doc {
            for &ei in idx
                .docs
                .get(doc.as_str())
                .map(|v| v.as_slice())
                .unwrap_or(&[])
            {
                if scored.iter().any(|(i, p, _)| *i == ii && p.ei == ei) || !filter(ei) {
                    continue;
                }
                let e = idx.entity(ei as usize);
                let kind = name_kind(e.schema);
                let (m, n) = e
                    .names()
                    .into_iter()
                    .map(|n| (compare_names(&s.query, &QueryName::new(&dm, &n, kind)), n))
                    .max_by(|a, b| a.0.score.total_cmp(&b.0.score))
                    .unwrap_or_default();
                scored.push((ii, score_parts(idx, ei, m, &s, cfg), Err(n)));
            }
        }
    }
    scored.sort_by(|a, b| {
        b.1.match_score
            .total_cmp(&a.1.match_score)
            .then_with(|| b.1.risk_score.total_cmp(&a.1.risk_score))
            .then_with(|| {
                let ida = &indexes[a.0].entity(a.1.ei as usize).id;
                ida.cmp(&indexes[b.0].entity(b.1.ei as usize).id)
            })
    });
    scored.truncate(cfg.max_hits);
    let hits: Vec<AmlHit> = scored
        .iter()
        .map(|(ii, p, name)| {
            let idx = &indexes[*ii];
            let matched = match name {
                Ok(nid) => idx
                    .name_tokens_of(*nid)
                    .iter()
                    .map(|&t| &*idx.tokens[t as usize].text)
                    .collect::<Vec<_>>()
                    .join(" "),
                Err(n) => n.clone(),
            };
            // v1 features (raw Jaro-Winkler, phonetic agreement) for the
            // returned hits only; the retrieval path skips them.
            let e = idx.entity(p.ei as usize);
            let f = compare_names(
                &s.query,
                &QueryName::new(&dm, &matched, name_kind(e.schema)),
            );
            let mut p = *p;
            p.nm.jaro_winkler = f.jaro_winkler;
            p.nm.phonetic = f.phonetic;
            build_hit(idx, &p, matched, cfg)
        })
        .collect();
    let max_risk = hits
        .iter()
        .filter(|h| h.is_possible_match())
        .map(|h| h.risk_score)
        .reduce(f64::max);
    let status = match max_risk {
        None => AmlStatus::Approved,
        Some(r) if r >= cfg.aml_score_review_threshold => AmlStatus::Declined,
        Some(r) if r >= cfg.aml_score_approve_threshold => AmlStatus::InReview,
        Some(_) => AmlStatus::Approved,
    };
    let mut warnings = Vec::new();
    if max_risk.is_some() {
        let log_type = match status {
            AmlStatus::Declined => "error",
            AmlStatus::InReview => "warning",
            AmlStatus::Approved => "information",
        };
        warnings.push(warning(
            "POSSIBLE_MATCH_FOUND",
            log_type,
            "Possible match found in AML screening",
            "The Anti-Money Laundering (AML) screening process identified potential matches with watchlists or high-risk databases, requiring further review.",
        ));
    }
    AmlScreening {
        status,
        total_hits: hits.len(),
        entity_type: req.entity_type,
        score: hits.first().map(|h| h.match_score).unwrap_or(0.0),
        screened_data,
        hits,
        warnings,
        dataset_versions,
    }
}

/// Holds the current dataset indexes. Screening reads a snapshot without
/// locking; [`Screener::install`] replaces one dataset in a single atomic
/// pointer swap, so a screening in flight finishes on the version it
/// started with and the next one sees the new version.
pub struct Screener {
    indexes: ArcSwap<Vec<Arc<DatasetIndex>>>,
}

impl Default for Screener {
    fn default() -> Self {
        Self::new()
    }
}

impl Screener {
    pub fn new() -> Self {
        Screener {
            indexes: ArcSwap::from_pointee(Vec::new()),
        }
    }

    /// Installs (or replaces, by dataset name) an index and returns the
    /// version it replaced. Build the index first, off the request path.
    pub fn install(&self, index: DatasetIndex) -> Option<Arc<DatasetIndex>> {
        let index = Arc::new(index);
        let mut replaced = None;
        self.indexes.rcu(|cur| {
            let mut next: Vec<Arc<DatasetIndex>> = Vec::with_capacity(cur.len() + 1);
            replaced = None;
            for i in cur.iter() {
                if i.meta.name == index.meta.name {
                    replaced = Some(i.clone());
                } else {
                    next.push(i.clone());
                }
            }
            next.push(index.clone());
            next.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
            next
        });
        replaced
    }

    /// Removes a dataset; returns it if it was installed.
    pub fn remove(&self, name: &str) -> Option<Arc<DatasetIndex>> {
        let mut removed = None;
        self.indexes.rcu(|cur| {
            removed = cur.iter().find(|i| i.meta.name == name).cloned();
            cur.iter()
                .filter(|i| i.meta.name != name)
                .cloned()
                .collect::<Vec<_>>()
        });
        removed
    }

    /// The installed dataset versions.
    pub fn datasets(&self) -> Vec<DatasetMeta> {
        self.indexes.load().iter().map(|i| i.meta.clone()).collect()
    }

    /// The installed index of a dataset (e.g. to diff against a new import).
    pub fn dataset(&self, name: &str) -> Option<Arc<DatasetIndex>> {
        self.indexes
            .load()
            .iter()
            .find(|i| i.meta.name == name)
            .cloned()
    }

    pub fn screen(&self, req: &ScreeningRequest, cfg: &ScreeningConfig) -> AmlScreening {
        let snapshot = self.indexes.load_full();
        screen_indexes(&snapshot, req, cfg)
    }
}

/// Pairwise name similarity (0–100) of a subject name and an entity (best
/// over the entity's names), without an index: for reviewing a single pair
/// and for comparisons with other matchers.
pub fn name_similarity(full_name: &str, entity_type: EntityType, entity: &Entity) -> f64 {
    let dm = DoubleMetaphone::default();
    let kind = match entity_type {
        EntityType::Person => NameKind::Person,
        EntityType::Company => NameKind::Organization,
    };
    let q = QueryName::new(&dm, full_name, kind);
    let ekind = name_kind(entity.schema);
    entity
        .names()
        .iter()
        .map(|n| compare_names(&q, &QueryName::new(&dm, n, ekind)).score as f64 * 100.0)
        .fold(0.0, f64::max)
}
