//! Candidate retrieval and name scoring.

use std::cell::RefCell;

use rphonetic::DoubleMetaphone;
use strsim::{jaro_winkler, osa_distance};

use crate::index::{deletion_keys, phonetic_keys, DatasetIndex};
use crate::normalize::{
    name_tokens, phonetic_equal, token_codes, token_weight, NameKind, TokenCodes,
};

/// Longer queries are truncated: no real name has more tokens, and the
/// per-query bit masks are 16 bits wide.
pub const MAX_QUERY_TOKENS: usize = 16;
/// Below this a token pair counts as "different tokens".
pub const TOKEN_MATCH_MIN: f32 = 0.75;
/// Similarity given to an initial ("V.") against a token it abbreviates.
const INITIAL_SIM: f32 = 0.95;

/// A normalised query name.
#[derive(Debug, Clone)]
pub struct QueryName {
    pub tokens: Vec<QueryToken>,
}

#[derive(Debug, Clone)]
pub struct QueryToken {
    pub text: String,
    pub codes: TokenCodes,
    pub weight: f32,
    pub initial: bool,
}

impl QueryName {
    pub fn new(dm: &DoubleMetaphone, full_name: &str, kind: NameKind) -> QueryName {
        let mut toks = name_tokens(full_name, kind);
        toks.truncate(MAX_QUERY_TOKENS);
        QueryName {
            tokens: toks
                .into_iter()
                .map(|t| QueryToken {
                    codes: token_codes(dm, &t),
                    weight: token_weight(&t),
                    initial: t.len() == 1 && t.as_bytes()[0].is_ascii_alphabetic(),
                    text: t,
                })
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

/// Similarity of two tokens in [0, 1]. Exact → 1; within the typo budget
/// (1 edit from 4 letters, 2 from 8, counted on the longer token) → 0.96 /
/// 0.92; same Double Metaphone code with some spelling overlap, or the same
/// romanisation skeleton → 0.95 (Mohammed / Muhammad, Pedzhman / Pejman);
/// otherwise Jaro-Winkler damped by 0.8, so that similar-looking but
/// different names stay below the match cut-off.
pub fn token_similarity(a: &str, ca: TokenCodes, b: &str, cb: TokenCodes) -> f32 {
    if a == b {
        return 1.0;
    }
    let jw = jaro_winkler(a, b) as f32;
    let mut s = jw * 0.8;
    let max_len = a.len().max(b.len());
    let budget = if max_len >= 8 {
        2
    } else if max_len >= 4 {
        1
    } else {
        0
    };
    if budget > 0 && a.len().abs_diff(b.len()) <= budget {
        let d = osa_distance(a, b);
        if d <= budget {
            s = s.max(1.0 - 0.04 * d as f32);
        }
    }
    if ca.skel != 0 && ca.skel == cb.skel {
        s = s.max(0.95);
    }
    if jw >= 0.7 && phonetic_equal(ca.phon, cb.phon) {
        s = s.max(0.95);
    }
    s
}

/// Phonetic agreement of two tokens (either code kind), for v1 `features`.
pub fn codes_equal(a: TokenCodes, b: TokenCodes) -> bool {
    phonetic_equal(a.phon, b.phon) || (a.skel != 0 && a.skel == b.skel)
}

/// Per-candidate detail of the best name alignment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NameMatch {
    /// Composite name similarity in [0, 1].
    pub score: f32,
    /// Raw Jaro-Winkler averaged over aligned token pairs (v1 `features`).
    pub jaro_winkler: f32,
    /// Share of aligned query tokens with the same phonetic code (v1 `features`).
    pub phonetic: f32,
}

/// Scores a query against one candidate name given the pairwise token
/// similarities (`sim(qi, cj)`), the token lengths and phonetic agreement.
///
/// Alignment is greedy one-to-one by descending similarity, which makes the
/// score independent of token order. Unaligned tokens cost little when only
/// one side has them (a dropped middle name or patronymic) — on the query
/// side only while they are at most half of the query —, more when a single
/// token is aligned, and much more when both sides have them (a different
/// first or last name in the same slot).
pub fn align_score(
    qlens: &[f32],
    clens: &[f32],
    sim: &dyn Fn(usize, usize) -> (f32, f32, bool),
) -> NameMatch {
    // Candidate pairs live on the stack for ordinary names (no allocation
    // on the hot path); very long names fall back to the heap.
    let mut stack = [(0f32, 0usize, 0usize); 64];
    let mut heap = Vec::new();
    let mut len = 0;
    for qi in 0..qlens.len() {
        for cj in 0..clens.len() {
            let (s, _, _) = sim(qi, cj);
            if s >= TOKEN_MATCH_MIN {
                if len < stack.len() {
                    stack[len] = (s, qi, cj);
                } else {
                    if heap.is_empty() {
                        heap.extend_from_slice(&stack);
                    }
                    heap.push((s, qi, cj));
                }
                len += 1;
            }
        }
    }
    let pairs: &mut [(f32, usize, usize)] = if heap.is_empty() {
        &mut stack[..len]
    } else {
        &mut heap
    };
    pairs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut qused = 0u32;
    let mut cused = 0u64;
    let (mut m, mut s, mut jw_sum, mut jw_w, mut phon_n, mut n) =
        (0f32, 0f32, 0f32, 0f32, 0u32, 0u32);
    for &mut (sc, qi, cj) in pairs {
        if qused & (1 << qi) != 0 || cj >= 64 || cused & (1 << cj) != 0 {
            continue;
        }
        qused |= 1 << qi;
        cused |= 1 << cj;
        let w = qlens[qi] + clens[cj];
        m += w;
        s += sc * w;
        let (_, jw, ph) = sim(qi, cj);
        jw_sum += jw * w;
        jw_w += w;
        phon_n += ph as u32;
        n += 1;
    }
    if m == 0.0 {
        return NameMatch::default();
    }
    let uq: f32 = (0..qlens.len())
        .filter(|i| qused & (1 << i) == 0)
        .map(|i| qlens[i])
        .sum();
    let uc: f32 = (0..clens.len())
        .filter(|j| *j >= 64 || cused & (1 << j) == 0)
        .map(|j| clens[j])
        .sum();
    let tq: f32 = qlens.iter().sum();
    let lq = if n >= 2 && uq <= 0.5 * tq { 0.1 } else { 0.5 };
    // Listed names are often longer than what a subject gives (patronymics,
    // tribal names), so the list side keeps the low rate however long.
    let lc = if n >= 2 { 0.1 } else { 0.5 };
    let mut penalty = lq * uq + lc * uc;
    if uq > 0.0 && uc > 0.0 {
        // Leftovers on both sides are a conflict (another name in the same
        // slot), not an omission.
        penalty += 0.5 * (uq + uc);
    }
    NameMatch {
        score: s / (m + penalty),
        jaro_winkler: jw_sum / jw_w,
        phonetic: phon_n as f32 / qlens.len() as f32,
    }
}

/// Effective query token weights: an initial weighs as much as the
/// candidate token it abbreviates (so "V. V. Putin" is not punished for
/// being short), other tokens their `token_weight`.
fn effective_weights(q: &QueryName, ctexts: &[&str], cweights: &[f32]) -> Vec<f32> {
    q.tokens
        .iter()
        .map(|t| {
            if t.initial {
                ctexts
                    .iter()
                    .zip(cweights)
                    .find(|(c, _)| c.as_bytes()[0] == t.text.as_bytes()[0])
                    .map(|(_, w)| *w)
                    .unwrap_or(1.0)
            } else {
                t.weight
            }
        })
        .collect()
}

/// (composite similarity, raw Jaro-Winkler, phonetic agreement) of a query
/// token and a candidate token.
type PairSim = (f32, f32, bool);

fn initial_sim(q: &QueryToken, c: &str) -> PairSim {
    if c == q.text {
        (1.0, 1.0, true)
    } else if c.as_bytes()[0] == q.text.as_bytes()[0] {
        (INITIAL_SIM, INITIAL_SIM, false)
    } else {
        (0.0, 0.0, false)
    }
}

fn pair_sim(q: &QueryToken, c: &str, cc: TokenCodes) -> PairSim {
    if q.initial {
        return initial_sim(q, c);
    }
    let s = token_similarity(&q.text, q.codes, c, cc);
    if s < TOKEN_MATCH_MIN {
        return (0.0, 0.0, false);
    }
    let jw = if s == 1.0 {
        1.0
    } else {
        jaro_winkler(&q.text, c) as f32
    };
    (s, jw, codes_equal(q.codes, cc))
}

/// Compares two normalised names directly, without an index (used for
/// pairwise evaluation and comparisons with other matchers).
pub fn compare_names(q: &QueryName, c: &QueryName) -> NameMatch {
    let ctexts: Vec<&str> = c.tokens.iter().map(|t| t.text.as_str()).collect();
    let cw: Vec<f32> = c.tokens.iter().map(|t| t.weight).collect();
    let qw = effective_weights(q, &ctexts, &cw);
    let sim = |i: usize, j: usize| pair_sim(&q.tokens[i], &c.tokens[j].text, c.tokens[j].codes);
    align_score(&qw, &cw, &sim)
}

/// Scratch buffers reused across queries on one thread (sized to the index).
#[derive(Default)]
struct Scratch {
    name_seen: Vec<bool>,
    touched_names: Vec<u32>,
    /// token id → row in `rows` + 1 (0 = no row yet).
    token_row: Vec<u32>,
    touched_tokens: Vec<u32>,
    /// Cached similarity per (token, query token); negative = not computed.
    rows: Vec<[f32; MAX_QUERY_TOKENS]>,
}

impl Scratch {
    fn row(&mut self, tid: u32) -> usize {
        let slot = &mut self.token_row[tid as usize];
        if *slot == 0 {
            self.rows.push([-1.0; MAX_QUERY_TOKENS]);
            *slot = self.rows.len() as u32;
            self.touched_tokens.push(tid);
        }
        *slot as usize - 1
    }
}

/// `VERITY_AML_TRACE` set: print retrieval statistics to stderr (read once).
fn trace_enabled() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("VERITY_AML_TRACE").is_some())
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// `f32` ordered for a max-heap of negated scores (a min-heap of scores).
#[derive(PartialEq, PartialOrd)]
struct Rev(f32);
impl Eq for Rev {}
#[allow(clippy::derive_ord_xor_partial_ord)]
impl Ord for Rev {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// One candidate name with its alignment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    pub entity: u32,
    pub name: u32,
    pub m: NameMatch,
}

impl DatasetIndex {
    /// Vocabulary tokens that may stand for `q`, with their similarity.
    fn expand_token(
        &self,
        q: &QueryToken,
        keybuf: &mut Vec<u64>,
        ids: &mut Vec<u32>,
        out: &mut Vec<(u32, f32)>,
    ) {
        out.clear();
        keybuf.clear();
        ids.clear();
        deletion_keys(&q.text, keybuf);
        phonetic_keys(q.codes, keybuf);
        if let Some(&id) = self.vocab.get(q.text.as_str()) {
            ids.push(id);
        }
        for &k in keybuf.iter() {
            ids.extend(self.lookup_key(k));
        }
        ids.sort_unstable();
        ids.dedup();
        for &id in ids.iter() {
            let t = &self.tokens[id as usize];
            let s = token_similarity(&q.text, q.codes, &t.text, t.codes);
            out.push((id, if s >= TOKEN_MATCH_MIN { s } else { 0.0 }));
        }
    }

    /// Retrieves and scores candidate names for `q`. Guarantee: a name that
    /// contains, in any order, at least half of the query's non-initial
    /// tokens, each spelt within one edit (or sharing a phonetic code or
    /// romanisation skeleton), is always retrieved.
    ///
    /// With `keep_top = Some(k)`, a candidate whose score bound is below the
    /// k-th best name score seen so far is not scored (only safe when the
    /// caller ranks by name score alone).
    pub(crate) fn candidates(
        &self,
        q: &QueryName,
        min_score: f32,
        keep_top: Option<usize>,
        filter: &dyn Fn(u32) -> bool,
    ) -> Vec<Candidate> {
        SCRATCH.with(|s| self.candidates_with(q, min_score, keep_top, filter, &mut s.borrow_mut()))
    }

    fn candidates_with(
        &self,
        q: &QueryName,
        min_score: f32,
        keep_top: Option<usize>,
        filter: &dyn Fn(u32) -> bool,
        sc: &mut Scratch,
    ) -> Vec<Candidate> {
        if sc.name_seen.len() < self.name_entity.len() {
            sc.name_seen.resize(self.name_entity.len(), false);
        }
        if sc.token_row.len() < self.tokens.len() {
            sc.token_row.resize(self.tokens.len(), 0);
        }
        sc.rows.clear();
        let nq = q.tokens.len();
        let (mut keybuf, mut ids, mut exp) = (Vec::new(), Vec::new(), Vec::new());
        // (query token, total postings) for the retrieval plan.
        let mut cost: Vec<(usize, usize)> = Vec::new();
        let mut expansions: Vec<Vec<u32>> = vec![Vec::new(); nq];
        let trace = trace_enabled();
        let t0 = std::time::Instant::now();
        let mut looked_at = 0usize;
        for (qi, qt) in q.tokens.iter().enumerate() {
            if qt.initial {
                continue;
            }
            self.expand_token(qt, &mut keybuf, &mut ids, &mut exp);
            looked_at += exp.len();
            let mut total = 0usize;
            for &(tid, s) in &exp {
                let r = sc.row(tid);
                sc.rows[r][qi] = s;
                if s > 0.0 {
                    total += self.tokens[tid as usize].postings.len();
                    expansions[qi].push(tid);
                }
            }
            cost.push((qi, total));
        }
        let active = cost.len();
        let mut out = Vec::new();
        if active > 0 {
            // Pruning bound. With k aligned tokens of (query) weight a, the
            // query's unaligned weight u and the candidate's unaligned weight
            // uc, `align_score` is at most 2a / (2a + λ(u + uc)) with λ as
            // there. Candidates that cannot reach `min_score` (with 10 %
            // slack for length differences) are skipped before scoring.
            let f = (min_score * 0.9).clamp(0.0, 0.99);
            let qw: Vec<f32> = q.tokens.iter().map(|t| t.weight).collect();
            let total: f32 = cost.iter().map(|&(qi, _)| qw[qi]).sum();
            let can_pass = |a: f32, k: u32, uc: f32| -> bool {
                let u = total - a;
                let lq = if k >= 2 && u <= 0.5 * total { 0.1 } else { 0.5 };
                let lc = if k >= 2 { 0.1 } else { 0.5 };
                let conflict = if u > 0.0 && uc > 0.0 {
                    0.5 * (u + uc)
                } else {
                    0.0
                };
                2.0 * a * (1.0 - f) >= f * (lq * u + lc * uc + conflict)
            };
            // The same bound as a score (no slack), for top-k pruning.
            let bound = |a: f32, k: u32, uc: f32| -> f32 {
                let u = (total - a).max(0.0);
                let lq = if k >= 2 && u <= 0.5 * total { 0.1 } else { 0.5 };
                let lc = if k >= 2 { 0.1 } else { 0.5 };
                let conflict = if u > 0.0 && uc > 0.0 {
                    0.5 * (u + uc)
                } else {
                    0.0
                };
                if a <= 0.0 {
                    0.0
                } else {
                    // + 0.02: token lengths differ slightly between sides.
                    2.0 * a / (2.0 * a + lq * u + lc * uc + conflict) + 0.02
                }
            };
            // Min-heap of the best name scores so far (as Reverse order).
            let mut top_scores: std::collections::BinaryHeap<Rev> =
                std::collections::BinaryHeap::new();
            // Least aligned query weight any passing candidate has (uc = 0):
            // either at least half the query with λ = 0.1, or enough to beat
            // λ = 0.5.
            let a_min = (0.5 * total).min(0.5 * f * total / (2.0 * (1.0 - f) + 0.5 * f));
            // Walk the rarest tokens; the most common ones can stay unwalked
            // as long as together they weigh less than `a_min`, since a
            // candidate holding only those cannot pass.
            cost.sort_by_key(|&(_, c)| c);
            let mut unwalked = 0.0f32;
            let mut cut = cost.len();
            while cut > 1 && unwalked + qw[cost[cut - 1].0] < a_min {
                unwalked += qw[cost[cut - 1].0];
                cut -= 1;
            }
            let walk: Vec<usize> = cost[..cut].iter().map(|&(qi, _)| qi).collect();
            if trace {
                eprintln!(
                    "trace: expansion {:.2?}, {looked_at} vocabulary tokens compared",
                    t0.elapsed()
                );
                for (qi, c) in &cost {
                    eprintln!(
                        "trace: token {:?} expansions {} postings {} walked {}",
                        q.tokens[*qi].text,
                        expansions[*qi].len(),
                        c,
                        walk.contains(qi)
                    );
                }
            }
            // When every token is walked, names reached only through the
            // most common one align that token alone (k = 1, every other
            // query token unaligned, so any extra candidate token is a
            // conflict). If the bound leaves them less than one letter of
            // extra weight, only names consisting of that token can pass,
            // and its short "alone" list replaces its full posting list.
            let alone_only = |qi: usize| -> bool {
                // (Initials could align further tokens of such names.)
                if cut != active || active < 2 || active != nq || Some(qi) != walk.last().copied() {
                    return false;
                }
                let a = qw[qi];
                2.0 * a * (1.0 - f) / f - (total - a) < 1.0
            };
            for &qi in &walk {
                let alone = alone_only(qi);
                for &tid in &expansions[qi] {
                    let t = &self.tokens[tid as usize];
                    let postings = if alone { &t.alone } else { &t.postings };
                    for &nid in postings {
                        let seen = &mut sc.name_seen[nid as usize];
                        if !*seen {
                            *seen = true;
                            sc.touched_names.push(nid);
                        }
                    }
                }
            }
            let initials: Vec<u8> = q
                .tokens
                .iter()
                .filter(|t| t.initial)
                .map(|t| t.text.as_bytes()[0])
                .collect();
            let mut simm: Vec<PairSim> = Vec::new();
            let mut cw: Vec<f32> = Vec::new();
            let mut ctexts: Vec<&str> = Vec::new();
            // Many listed names repeat exactly (common names, aliases shared
            // by several entries): score each token sequence once.
            let mut memo: rustc_hash::FxHashMap<&[u32], NameMatch> =
                rustc_hash::FxHashMap::default();
            let touched = std::mem::take(&mut sc.touched_names);
            for &nid in &touched {
                let ctoks = self.name_tokens_of(nid);
                // Bound from key-retrieved tokens only.
                // Upper bounds on aligned weight and pair count: alignment is
                // one-to-one, so neither side can be counted twice.
                let mut mask = 0u32;
                let mut uc = 0.0f32;
                let mut ui = 0.0f32;
                let (mut a_cand, mut k_cand) = (0.0f32, 0u32);
                for &t in ctoks {
                    let row = sc.token_row[t as usize];
                    let mut best = 0.0f32;
                    if row != 0 {
                        for (qi, v) in sc.rows[row as usize - 1].iter().enumerate().take(nq) {
                            if *v > 0.0 {
                                mask |= 1 << qi;
                                best = best.max(qw[qi]);
                            }
                        }
                    }
                    if best > 0.0 {
                        a_cand += best;
                        k_cand += 1;
                    } else if initials.is_empty()
                        || !initials.contains(&self.token_first[t as usize])
                    {
                        uc += self.token_weights[t as usize];
                    } else {
                        // a token an initial may stand for: possibly aligned
                        ui += self.token_weights[t as usize];
                    }
                }
                let a_query: f32 = (0..nq)
                    .filter(|qi| mask & (1 << qi) != 0)
                    .map(|qi| qw[qi])
                    .sum();
                let k = mask.count_ones().min(k_cand);
                let a = a_query.min(a_cand);
                if mask == 0 || !can_pass(a, k, uc) {
                    continue;
                }
                if let Some(top) = keep_top {
                    let ub = bound(a + ui, k + u32::from(ui > 0.0), uc);
                    if top_scores.len() >= top && ub < top_scores.peek().map_or(0.0, |r| -r.0) {
                        continue;
                    }
                }
                let entity = self.name_entity[nid as usize];
                if !filter(entity) {
                    continue;
                }
                if let Some(m) = memo.get(ctoks) {
                    out.push(Candidate {
                        entity,
                        name: nid,
                        m: *m,
                    });
                    continue;
                }
                // Full similarity matrix; pairs the keys did not connect
                // (e.g. two edits in a short token) are computed directly and
                // cached for the next candidate sharing the token.
                simm.clear();
                for qt in q.tokens.iter().enumerate() {
                    let (qi, qt) = qt;
                    for &t in ctoks {
                        let tok = &self.tokens[t as usize];
                        let p = if qt.initial {
                            initial_sim(qt, &tok.text)
                        } else {
                            let r = sc.row(t);
                            let mut s = sc.rows[r][qi];
                            if s < 0.0 {
                                // Not key-retrieved: everything within one
                                // edit or with a shared code already was, so
                                // only long tokens (two-edit budget) can
                                // still reach the cut-off.
                                let (la, lb) = (qt.text.len(), tok.text.len());
                                s = if la >= 7 && lb >= 7 && la.abs_diff(lb) <= 2 {
                                    token_similarity(&qt.text, qt.codes, &tok.text, tok.codes)
                                } else {
                                    0.0
                                };
                                if s < TOKEN_MATCH_MIN {
                                    s = 0.0;
                                }
                                sc.rows[r][qi] = s;
                            }
                            if s <= 0.0 {
                                (0.0, 0.0, false)
                            } else {
                                // The raw Jaro-Winkler feature is only needed
                                // for returned hits: `screen` recomputes it
                                // with `compare_names`.
                                (s, s, codes_equal(qt.codes, tok.codes))
                            }
                        };
                        simm.push(p);
                    }
                }
                let nc = ctoks.len();
                cw.clear();
                cw.extend(ctoks.iter().map(|&t| self.tokens[t as usize].weight));
                ctexts.clear();
                ctexts.extend(ctoks.iter().map(|&t| &*self.tokens[t as usize].text));
                let ew = effective_weights(q, &ctexts, &cw);
                let m = align_score(&ew, &cw, &|qi, cj| simm[qi * nc + cj]);
                memo.insert(ctoks, m);
                if let Some(top) = keep_top {
                    top_scores.push(Rev(-m.score));
                    if top_scores.len() > top {
                        top_scores.pop();
                    }
                }
                out.push(Candidate {
                    entity,
                    name: nid,
                    m,
                });
            }
            if trace {
                eprintln!("trace: total {:.2?}", t0.elapsed());
                eprintln!(
                    "trace: touched {} passed-bound {} distinct-scored {}",
                    touched.len(),
                    out.len(),
                    memo.len()
                );
            }
            sc.touched_names = touched;
        }
        for nid in sc.touched_names.drain(..) {
            sc.name_seen[nid as usize] = false;
        }
        for tid in sc.touched_tokens.drain(..) {
            sc.token_row[tid as usize] = 0;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(a: &str, b: &str) -> f32 {
        let dm = DoubleMetaphone::default();
        let q = QueryName::new(&dm, a, NameKind::Person);
        let c = QueryName::new(&dm, b, NameKind::Person);
        compare_names(&q, &c).score
    }

    #[test]
    fn token_similarity_levels() {
        let dm = DoubleMetaphone::default();
        let s = |a: &str, b: &str| token_similarity(a, token_codes(&dm, a), b, token_codes(&dm, b));
        assert_eq!(s("putin", "putin"), 1.0);
        assert!((s("hassan", "hasan") - 0.96).abs() < 1e-6);
        assert!(s("mohammed", "muhammad") >= 0.95);
        assert!(s("hassan", "ibrahim") < TOKEN_MATCH_MIN);
        assert!(s("petrov", "ivanov") < TOKEN_MATCH_MIN);
        // Two edits only allowed for long tokens.
        assert!(s("abdullah", "abdalah") >= 0.92);
        assert!(s("omar", "amir") < TOKEN_MATCH_MIN);
    }

    #[test]
    fn name_scores() {
        assert!((score("Vladimir Putin", "PUTIN, Vladimir") - 1.0).abs() < 1e-6);
        // dropped patronymic: small penalty
        let s = score("Vladimir Putin", "Vladimir Vladimirovich Putin");
        assert!(s > 0.93 && s < 1.0, "{s}");
        // extra middle name on the query side
        assert!(score("Vladimir Vladimirovich Putin", "Putin Vladimir") > 0.93);
        // one typo
        assert!(score("Vladimir Puttin", "Vladimir Putin") > 0.95);
        // initials
        assert!(score("V V Putin", "Vladimir Vladimirovich Putin") > 0.93);
        // a different surname in the same slot is not a match
        assert!(score("Vladimir Ivanov", "Vladimir Putin") < 0.7);
        assert!(score("Ali Hassan Ibrahim", "Ali Hassan Mahmoud") < 0.85);
        // honorifics on one side only do not matter
        assert!(score("Haji Naway", "NAWAY, Haji Ali") > 0.93);
        assert!(score("Sheikh Omar Bakri", "Omar Bakri") > 0.97);
        // single-letter tokens equal to a listed single-letter surname
        assert!(score("In O", "O, In Chun") > 0.93);
        // a single shared token is not enough
        assert!(score("Putin", "Vladimir Putin") < 0.8);
        assert!(score("Anna Smith", "Ivan Petrov") == 0.0);
    }
}
