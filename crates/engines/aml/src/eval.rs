//! Labelled evaluation set generated from a list's own names.
//!
//! Positives are realistic variants of a listed person's name (reordered,
//! dropped middle name, one or two typos, initials, diacritics, another
//! romanisation, Cyrillic script); the case passes when that very entity is
//! reported as a possible match (not False Positive). Negatives are common
//! names and "near names" (a listed name with one token replaced by a
//! clearly different name); a negative passes when nothing is reported as a
//! possible match. Negatives that are themselves a tolerated variant of some
//! listed name (every token equal, within the typo budget, or phonetically
//! equal to a distinct token of that name) are ambiguous and left out.

use std::fmt::Write as _;
use std::sync::Arc;

use rphonetic::DoubleMetaphone;
use serde::Serialize;
use strsim::osa_distance;

use crate::index::DatasetIndex;
use crate::matcher::{token_similarity, QueryName, TOKEN_MATCH_MIN};
use crate::model::{Dataset, Schema};
use crate::normalize::{phonetic_codes, phonetic_equal, token_codes, NameKind};
use crate::screen::{screen_indexes, ScreeningConfig, ScreeningRequest};
use crate::synth::{Rng, FIRST_NAMES, SURNAMES};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Variant {
    Reordered,
    DroppedMiddle,
    Typo1,
    Typo2,
    Initials,
    Diacritics,
    Transliteration,
    Cyrillic,
    CommonName,
    NearName,
}

impl Variant {
    pub const POSITIVE: [Variant; 8] = [
        Variant::Reordered,
        Variant::DroppedMiddle,
        Variant::Typo1,
        Variant::Typo2,
        Variant::Initials,
        Variant::Diacritics,
        Variant::Transliteration,
        Variant::Cyrillic,
    ];
    pub const NEGATIVE: [Variant; 2] = [Variant::CommonName, Variant::NearName];

    pub fn is_positive(self) -> bool {
        !matches!(self, Variant::CommonName | Variant::NearName)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalCase {
    pub query: String,
    pub variant: Variant,
    /// Entity id that must be reported (positives); `None` for negatives.
    pub expected: Option<String>,
    /// The listed name a variant was made from.
    pub source: String,
}

/// A listed person name split into words, in natural order (given names
/// first), with the index of the surname's first word when known.
struct Parsed {
    given: Vec<String>,
    surname: Vec<String>,
}

fn title(w: &str) -> String {
    let lower = w.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    let mut up = true;
    for c in lower.chars() {
        if up {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        up = !c.is_alphanumeric();
    }
    out
}

fn parse_name(name: &str) -> Option<Parsed> {
    if name.chars().any(|c| c.is_ascii_digit()) || !name.is_ascii() {
        return None;
    }
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| w.chars().any(|c| c.is_alphabetic()))
            .map(title)
            .collect()
    };
    let (given, surname) = match name.split_once(',') {
        Some((last, first)) => (words(first), words(last)),
        None => {
            let mut w = words(name);
            let last = w.pop()?;
            (w, vec![last])
        }
    };
    let letters: usize = given.iter().chain(&surname).map(|w| w.len()).sum();
    if given.is_empty() || surname.is_empty() || letters < 7 {
        return None;
    }
    Some(Parsed { given, surname })
}

impl Parsed {
    fn natural(&self) -> Vec<String> {
        self.given
            .iter()
            .chain(self.surname.iter())
            .cloned()
            .collect()
    }
}

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";

/// One random keyboard-agnostic edit (substitute, delete, insert or
/// transpose) at a position after the first letter.
fn typo(rng: &mut Rng, w: &str) -> String {
    let mut c: Vec<char> = w.chars().collect();
    let n = c.len();
    let pos = 1 + rng.below(n - 1);
    let letter = LOWER[rng.below(26)] as char;
    match rng.below(4) {
        0 => {
            let mut l = letter;
            while l.eq_ignore_ascii_case(&c[pos]) {
                l = LOWER[rng.below(26)] as char;
            }
            c[pos] = l;
        }
        1 => {
            c.remove(pos);
        }
        2 => c.insert(pos, letter),
        _ => {
            let p = pos.min(n - 2).max(1);
            if c[p].eq_ignore_ascii_case(&c[p + 1]) {
                c[p] = letter;
            } else {
                c.swap(p, p + 1);
            }
        }
    }
    c.into_iter().collect()
}

fn add_diacritics(rng: &mut Rng, s: &str) -> String {
    let mut changed = false;
    let mut out: String = s
        .chars()
        .map(|c| {
            let d = match c {
                'a' => 'á',
                'e' => 'é',
                'i' => 'í',
                'o' => 'ö',
                'u' => 'ü',
                'n' => 'ñ',
                'c' => 'ç',
                's' => 'š',
                'z' => 'ž',
                _ => c,
            };
            if d != c && rng.chance(0.4) {
                changed = true;
                d
            } else {
                c
            }
        })
        .collect();
    if !changed {
        out = out.replacen('a', "ä", 1);
    }
    out
}

/// Romanisation differences seen between lists (Arabic, Persian, Russian
/// and other sources transliterated by different conventions).
const ROMANISATIONS: &[(&str, &str)] = &[
    ("mohammed", "muhammad"),
    ("muhammad", "mohammed"),
    ("mohammad", "muhammad"),
    ("ahmed", "ahmad"),
    ("ahmad", "ahmed"),
    ("hussein", "husayn"),
    ("husayn", "hussein"),
    ("hassan", "hasan"),
    ("yusuf", "youssef"),
    ("abdul", "abdel"),
    ("abd", "abdul"),
    ("ou", "u"),
    ("oo", "u"),
    ("ei", "ey"),
    ("iy", "y"),
    ("ya", "ia"),
    ("kh", "h"),
    ("ph", "f"),
    ("v", "w"),
    ("w", "v"),
    ("ck", "k"),
    ("q", "k"),
    ("y", "i"),
    ("i", "y"),
    ("ee", "i"),
    ("dj", "j"),
    ("sch", "sh"),
    ("aa", "a"),
];

fn romanise(rng: &mut Rng, words: &[String]) -> Option<Vec<String>> {
    let start = rng.below(words.len());
    for k in 0..words.len() {
        let i = (start + k) % words.len();
        let lower = words[i].to_lowercase();
        let rules: Vec<&(&str, &str)> = ROMANISATIONS
            .iter()
            .filter(|(from, _)| lower[1..].contains(from) || lower == *from)
            .collect();
        if rules.is_empty() {
            continue;
        }
        let (from, to) = rules[rng.below(rules.len())];
        let new = if lower == *from {
            to.to_string()
        } else {
            // Keep the first letter: romanisations differ inside words.
            format!("{}{}", &lower[..1], lower[1..].replacen(from, to, 1))
        };
        let mut out = words.to_vec();
        out[i] = title(&new);
        return Some(out);
    }
    None
}

/// Latin → Cyrillic, as a Russian-language source would write a name.
fn to_cyrillic(s: &str) -> String {
    const DIGRAPHS: &[(&str, &str)] = &[
        ("shch", "щ"),
        ("kh", "х"),
        ("sh", "ш"),
        ("ch", "ч"),
        ("zh", "ж"),
        ("ts", "ц"),
        ("ya", "я"),
        ("yu", "ю"),
        ("yo", "ё"),
        ("ph", "ф"),
    ];
    let lower = s.to_lowercase();
    let b = lower.as_str();
    let mut out = String::new();
    let mut i = 0;
    'outer: while i < b.len() {
        for (lat, cyr) in DIGRAPHS {
            if b[i..].starts_with(lat) {
                out.push_str(cyr);
                i += lat.len();
                continue 'outer;
            }
        }
        let c = b[i..].chars().next().unwrap_or(' ');
        let m = match c {
            'a' => "а",
            'b' => "б",
            'v' | 'w' => "в",
            'g' => "г",
            'd' => "д",
            'e' => "е",
            'z' => "з",
            'i' => "и",
            'y' => "й",
            'k' | 'c' | 'q' => "к",
            'l' => "л",
            'm' => "м",
            'n' => "н",
            'o' => "о",
            'p' => "п",
            'r' => "р",
            's' => "с",
            't' => "т",
            'u' => "у",
            'f' => "ф",
            'h' => "х",
            'j' => "дж",
            'x' => "кс",
            other => {
                out.push(other);
                i += other.len_utf8();
                continue;
            }
        };
        out.push_str(m);
        i += c.len_utf8();
    }
    out
}

fn positive(rng: &mut Rng, p: &Parsed, v: Variant) -> Option<String> {
    let nat = p.natural();
    let words: Vec<String> = match v {
        Variant::Reordered => {
            // Natural order, or surname-first without a comma when the list
            // already writes names naturally.
            if nat.len() < 2 {
                return None;
            }
            let mut w = p.surname.clone();
            w.extend(p.given.iter().cloned());
            if rng.chance(0.5) {
                nat
            } else {
                w
            }
        }
        Variant::DroppedMiddle => {
            if p.given.len() < 2 {
                return None;
            }
            let mut g = p.given.clone();
            g.remove(1 + rng.below(g.len() - 1));
            g.into_iter().chain(p.surname.iter().cloned()).collect()
        }
        Variant::Typo1 => {
            let cands: Vec<usize> = (0..nat.len()).filter(|&i| nat[i].len() >= 4).collect();
            if cands.is_empty() {
                return None;
            }
            let mut w = nat.clone();
            let i = cands[rng.below(cands.len())];
            w[i] = typo(rng, &w[i]);
            w
        }
        Variant::Typo2 => {
            let cands: Vec<usize> = (0..nat.len()).filter(|&i| nat[i].len() >= 4).collect();
            let mut w = nat.clone();
            if cands.len() >= 2 {
                let a = cands[rng.below(cands.len())];
                let mut b = cands[rng.below(cands.len())];
                while b == a {
                    b = cands[rng.below(cands.len())];
                }
                w[a] = typo(rng, &w[a]);
                w[b] = typo(rng, &w[b]);
            } else {
                let long: Vec<usize> = (0..nat.len()).filter(|&i| nat[i].len() >= 8).collect();
                if long.is_empty() {
                    return None;
                }
                let i = long[rng.below(long.len())];
                let once = typo(rng, &w[i]);
                w[i] = typo(rng, &once);
            }
            w
        }
        Variant::Initials => p
            .given
            .iter()
            .map(|g| format!("{}.", &g[..1]))
            .chain(p.surname.iter().cloned())
            .collect(),
        Variant::Diacritics => vec![add_diacritics(rng, &nat.join(" "))],
        Variant::Transliteration => romanise(rng, &nat)?,
        Variant::Cyrillic => vec![title(&to_cyrillic(&nat.join(" ")))],
        _ => return None,
    };
    Some(words.join(" "))
}

/// Whether `query` is a tolerated variant of some listed name (see module
/// docs). Candidate names come from the index, whose retrieval covers every
/// name such a rule can match.
fn is_variant_of_listed(dm: &DoubleMetaphone, idx: &DatasetIndex, query: &str) -> bool {
    let q = QueryName::new(dm, query, NameKind::Person);
    let all = |_: u32| true;
    idx.candidates(&q, 0.5, None, &all).into_iter().any(|c| {
        let toks: Vec<&str> = idx
            .name_tokens_of(c.name)
            .iter()
            .map(|&t| &*idx.tokens[t as usize].text)
            .collect();
        covers(dm, &q, &toks)
    })
}

fn covers(dm: &DoubleMetaphone, q: &QueryName, list: &[&str]) -> bool {
    if q.tokens.len() < 2 && list.len() >= 2 {
        return false;
    }
    let mut used = vec![false; list.len()];
    q.tokens.iter().all(|qt| {
        let found = list.iter().enumerate().position(|(j, l)| {
            !used[j]
                && (qt.text == *l
                    || osa_distance(&qt.text, l) <= 1 && qt.text.len().min(l.len()) >= 4
                    || token_similarity(&qt.text, qt.codes, l, token_codes(dm, l))
                        >= TOKEN_MATCH_MIN
                    || phonetic_equal(qt.codes.phon, phonetic_codes(dm, l)))
        });
        match found {
            Some(j) => {
                used[j] = true;
                true
            }
            None => false,
        }
    })
}

/// Builds up to `per_variant` positives of each kind and `per_negative`
/// negatives of each kind from the Person entities of `idx`'s dataset.
pub fn generate_cases(
    idx: &DatasetIndex,
    per_variant: usize,
    per_negative: usize,
    seed: u64,
) -> Vec<EvalCase> {
    let dm = DoubleMetaphone::default();
    let mut rng = Rng::new(seed);
    let ds: &Dataset = idx.dataset();
    let mut people: Vec<(String, String, Parsed)> = ds
        .entities
        .iter()
        .filter(|e| e.schema == Schema::Person)
        .filter_map(|e| parse_name(&e.caption).map(|p| (e.id.clone(), e.caption.clone(), p)))
        .collect();
    // Deterministic shuffle.
    for i in (1..people.len()).rev() {
        let j = rng.below(i + 1);
        people.swap(i, j);
    }
    let mut cases = Vec::new();
    for v in Variant::POSITIVE {
        let mut n = 0;
        for (id, caption, p) in &people {
            if n >= per_variant {
                break;
            }
            if let Some(q) = positive(&mut rng, p, v) {
                cases.push(EvalCase {
                    query: q,
                    variant: v,
                    expected: Some(id.clone()),
                    source: caption.clone(),
                });
                n += 1;
            }
        }
    }
    // Common names.
    let mut n = 0;
    let mut tries = 0;
    while n < per_negative && tries < per_negative * 20 {
        tries += 1;
        let mut parts = vec![rng.pick(FIRST_NAMES).to_string()];
        if rng.chance(0.3) {
            parts.push(rng.pick(FIRST_NAMES).to_string());
        }
        parts.push(rng.pick(SURNAMES).to_string());
        let q = parts.join(" ");
        if cases.iter().any(|c: &EvalCase| c.query == q) || is_variant_of_listed(&dm, idx, &q) {
            continue;
        }
        cases.push(EvalCase {
            query: q,
            variant: Variant::CommonName,
            expected: None,
            source: String::new(),
        });
        n += 1;
    }
    // Near names: a listed name whose surname (all of its words) is replaced
    // by a clearly different one, or, for one-word surnames, one given name.
    let mut n = 0;
    let pool: Vec<&str> = FIRST_NAMES.iter().chain(SURNAMES.iter()).copied().collect();
    for (_, caption, p) in people.iter().rev() {
        if n >= per_negative {
            break;
        }
        let replace_surname = rng.chance(0.7);
        let old: Vec<String> = if replace_surname {
            p.surname.iter().map(|w| w.to_lowercase()).collect()
        } else {
            vec![p.given[0].to_lowercase()]
        };
        let mut replacement = None;
        for _ in 0..20 {
            let r = rng.pick(&pool).to_lowercase();
            let rp = phonetic_codes(&dm, &r);
            if old
                .iter()
                .all(|o| osa_distance(&r, o) >= 3 && !phonetic_equal(rp, phonetic_codes(&dm, o)))
            {
                replacement = Some(title(&r));
                break;
            }
        }
        let Some(r) = replacement else { continue };
        let words: Vec<String> = if replace_surname {
            p.given.iter().cloned().chain(std::iter::once(r)).collect()
        } else {
            std::iter::once(r)
                .chain(p.given[1..].iter().cloned())
                .chain(p.surname.iter().cloned())
                .collect()
        };
        let q = words.join(" ");
        if is_variant_of_listed(&dm, idx, &q) {
            continue;
        }
        cases.push(EvalCase {
            query: q,
            variant: Variant::NearName,
            expected: None,
            source: caption.clone(),
        });
        n += 1;
    }
    cases
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct VariantStats {
    pub cases: usize,
    pub correct: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct EvalReport {
    pub true_positives: usize,
    pub false_negatives: usize,
    pub false_positives: usize,
    pub true_negatives: usize,
    /// Per variant kind: (kind, cases, passed).
    pub per_variant: Vec<(Variant, VariantStats)>,
    /// Up to 25 failed cases with the best reported hit (caption, match_score).
    pub failures: Vec<(EvalCase, Option<(String, f64)>)>,
}

impl EvalReport {
    pub fn precision(&self) -> f64 {
        let d = self.true_positives + self.false_positives;
        if d == 0 {
            1.0
        } else {
            self.true_positives as f64 / d as f64
        }
    }

    pub fn recall(&self) -> f64 {
        let d = self.true_positives + self.false_negatives;
        if d == 0 {
            1.0
        } else {
            self.true_positives as f64 / d as f64
        }
    }

    /// The confusion table and per-variant pass rates as text.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "                 predicted hit   predicted clear");
        let _ = writeln!(
            s,
            "actual match     {:>13}   {:>15}",
            self.true_positives, self.false_negatives
        );
        let _ = writeln!(
            s,
            "actual non-match {:>13}   {:>15}",
            self.false_positives, self.true_negatives
        );
        let _ = writeln!(
            s,
            "precision {:.4}  recall {:.4}",
            self.precision(),
            self.recall()
        );
        for (v, st) in &self.per_variant {
            let _ = writeln!(
                s,
                "  {:<16} {:>6} cases  {:>6} passed  ({:.2}%)",
                format!("{v:?}"),
                st.cases,
                st.correct,
                100.0 * st.correct as f64 / st.cases.max(1) as f64
            );
        }
        s
    }
}

/// Screens every case name-only with `cfg` and tallies the outcome.
pub fn evaluate(
    indexes: &[Arc<DatasetIndex>],
    cases: &[EvalCase],
    cfg: &ScreeningConfig,
) -> EvalReport {
    let mut r = EvalReport::default();
    for c in cases {
        let res = screen_indexes(indexes, &ScreeningRequest::person(&c.query), cfg);
        let best = res.hits.first().map(|h| (h.caption.clone(), h.match_score));
        let ok = match &c.expected {
            Some(id) => {
                let found = res.possible_matches().any(|h| &h.id == id);
                if found {
                    r.true_positives += 1;
                } else {
                    r.false_negatives += 1;
                }
                found
            }
            None => {
                let clear = res.possible_matches().next().is_none();
                if clear {
                    r.true_negatives += 1;
                } else {
                    r.false_positives += 1;
                }
                clear
            }
        };
        let entry = match r.per_variant.iter_mut().find(|(v, _)| *v == c.variant) {
            Some((_, st)) => st,
            None => {
                r.per_variant.push((c.variant, VariantStats::default()));
                &mut r.per_variant.last_mut().expect("just pushed").1
            }
        };
        entry.cases += 1;
        if ok {
            entry.correct += 1;
        } else if r.failures.len() < 25 {
            r.failures.push((c.clone(), best));
        }
    }
    r
}

/// Where the OFAC SDN snapshots live: `$VERITY_OFAC_SDN_DIR`, else the
/// project's `shared/data/ofac-sdn/` next to the repository. `None` when the
/// folder (with both snapshots) is absent.
pub fn ofac_data_dir() -> Option<std::path::PathBuf> {
    let dir = match std::env::var_os("VERITY_OFAC_SDN_DIR") {
        Some(d) => std::path::PathBuf::from(d),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../../shared/data/ofac-sdn"),
    };
    let ok = dir.join("sdn-2024-04-26.csv").is_file() && dir.join("sdn-2024-05-03.csv").is_file();
    ok.then_some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_generators() {
        let mut rng = Rng::new(3);
        let p = parse_name("AL-ZOMOR, Abboud Abdul Latif Hassan").unwrap();
        assert_eq!(
            p.natural(),
            ["Abboud", "Abdul", "Latif", "Hassan", "Al-Zomor"]
        );
        assert_eq!(
            positive(&mut rng, &p, Variant::Initials).unwrap(),
            "A. A. L. H. Al-Zomor"
        );
        let t = positive(&mut rng, &p, Variant::Typo1).unwrap();
        assert_ne!(t, p.natural().join(" "));
        assert_eq!(to_cyrillic("Ivan Petrov"), "ивaн петров".replace('a', "а"));
        assert!(parse_name("BANCO 123").is_none());
    }
}
