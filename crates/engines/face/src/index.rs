//! In-memory 1:N face search over SFace templates (exact, brute force).
//!
//! Templates are stored int8-quantised with one f32 scale each (128 bytes +
//! 4 per face instead of 512), contiguously, so a query is one linear pass of
//! i8·i8→i32 dot products that the compiler vectorises. The cosine returned is
//! `dot_i32 · scale_q · scale_t`; for unit vectors the quantisation error is
//! about 1e-3 in cosine (measured in the tests), far below the gap between
//! match thresholds. Search is exact (every template is scored); with the
//! `rayon` feature the scan is split across threads.

use std::collections::HashMap;
use std::hash::Hash;

use crate::embed::{cosine_to_score, Template, TEMPLATE_DIM};

/// One search hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit<K> {
    pub key: K,
    /// Cosine similarity (quantised, ±~1e-3).
    pub cosine: f32,
    /// 0–100 similarity score (see `SCORE_ANCHORS`).
    pub score: f32,
}

/// A quantised query or stored template.
#[derive(Debug, Clone)]
pub struct Quantized {
    pub values: [i8; TEMPLATE_DIM],
    pub scale: f32,
}

impl Quantized {
    pub fn new(t: &Template) -> Self {
        let max = t.0.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-12);
        let scale = max / 127.0;
        let mut values = [0i8; TEMPLATE_DIM];
        for (q, v) in values.iter_mut().zip(&t.0) {
            *q = (v / scale).round().clamp(-127.0, 127.0) as i8;
        }
        Self { values, scale }
    }
}

#[inline]
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    // i8·i8 products fit i16; summing in i32 over 128 lanes cannot overflow
    // (128·127² < 2³¹). Written as a plain fold so LLVM vectorises it.
    a.iter()
        .zip(b)
        .map(|(&x, &y)| x as i16 as i32 * y as i16 as i32)
        .sum()
}

/// Exact in-memory 1:N index keyed by `K` (e.g. a template or session id).
/// Keep one index per application (tenant).
pub struct TemplateIndex<K> {
    data: Vec<i8>,
    scales: Vec<f32>,
    keys: Vec<K>,
    positions: HashMap<K, usize>,
}

impl<K: Clone + Eq + Hash + Send + Sync> Default for TemplateIndex<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Clone + Eq + Hash + Send + Sync> TemplateIndex<K> {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    pub fn with_capacity(n: usize) -> Self {
        Self {
            data: Vec::with_capacity(n * TEMPLATE_DIM),
            scales: Vec::with_capacity(n),
            keys: Vec::with_capacity(n),
            positions: HashMap::with_capacity(n),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn contains(&self, key: &K) -> bool {
        self.positions.contains_key(key)
    }

    /// Adds or replaces the template stored under `key`.
    pub fn add(&mut self, key: K, template: &Template) {
        let q = Quantized::new(template);
        if let Some(&i) = self.positions.get(&key) {
            self.data[i * TEMPLATE_DIM..(i + 1) * TEMPLATE_DIM].copy_from_slice(&q.values);
            self.scales[i] = q.scale;
            return;
        }
        self.data.extend_from_slice(&q.values);
        self.scales.push(q.scale);
        self.positions.insert(key.clone(), self.keys.len());
        self.keys.push(key);
    }

    /// Removes `key` (e.g. when its session is deleted). O(1): the last
    /// template moves into the hole.
    pub fn remove(&mut self, key: &K) -> bool {
        let Some(i) = self.positions.remove(key) else {
            return false;
        };
        let last = self.keys.len() - 1;
        if i != last {
            let (head, tail) = self.data.split_at_mut(last * TEMPLATE_DIM);
            head[i * TEMPLATE_DIM..(i + 1) * TEMPLATE_DIM].copy_from_slice(&tail[..TEMPLATE_DIM]);
            self.scales[i] = self.scales[last];
            self.keys.swap(i, last);
            self.positions.insert(self.keys[i].clone(), i);
        }
        self.data.truncate(last * TEMPLATE_DIM);
        self.scales.pop();
        self.keys.pop();
        true
    }

    /// Approximate heap bytes used (templates, scales, keys, key map).
    pub fn memory_bytes(&self) -> usize {
        let k = std::mem::size_of::<K>();
        self.data.capacity()
            + self.scales.capacity() * 4
            + self.keys.capacity() * k
            // hashbrown: key + value + 1 control byte per bucket, ~8/7 load.
            + self.positions.capacity() * (k + std::mem::size_of::<usize>() + 1) * 8 / 7
    }

    /// The `k` most similar templates with cosine ≥ `min_cosine`, best first.
    pub fn search(&self, query: &Template, k: usize, min_cosine: f32) -> Vec<Hit<K>> {
        self.search_filtered(query, k, min_cosine, |_| true)
    }

    /// [`Self::search`] restricted to keys accepted by `filter` (e.g. only
    /// blocklisted faces, or excluding the query's own session).
    pub fn search_filtered(
        &self,
        query: &Template,
        k: usize,
        min_cosine: f32,
        filter: impl Fn(&K) -> bool + Sync,
    ) -> Vec<Hit<K>> {
        if k == 0 || self.is_empty() {
            return vec![];
        }
        let q = Quantized::new(query);
        let best = self.scan(&q, k, min_cosine, &filter);
        best.into_iter()
            .map(|(cos, i)| Hit {
                key: self.keys[i].clone(),
                cosine: cos,
                score: cosine_to_score(cos),
            })
            .collect()
    }

    #[cfg(not(feature = "rayon"))]
    fn scan(
        &self,
        q: &Quantized,
        k: usize,
        min_cosine: f32,
        filter: &(impl Fn(&K) -> bool + Sync),
    ) -> Vec<(f32, usize)> {
        scan_range(
            &self.data,
            &self.scales,
            &self.keys,
            0,
            q,
            k,
            min_cosine,
            filter,
        )
    }

    #[cfg(feature = "rayon")]
    fn scan(
        &self,
        q: &Quantized,
        k: usize,
        min_cosine: f32,
        filter: &(impl Fn(&K) -> bool + Sync),
    ) -> Vec<(f32, usize)> {
        use rayon::prelude::*;
        const CHUNK: usize = 65_536;
        let n = self.keys.len();
        let mut all: Vec<(f32, usize)> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .flat_map_iter(|c| {
                let (s, e) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
                scan_range(
                    &self.data[s * TEMPLATE_DIM..e * TEMPLATE_DIM],
                    &self.scales[s..e],
                    &self.keys[s..e],
                    s,
                    q,
                    k,
                    min_cosine,
                    filter,
                )
            })
            .collect();
        all.sort_by(|a, b| b.0.total_cmp(&a.0));
        all.truncate(k);
        all
    }
}

/// Top-k over one contiguous slice; returns (cosine, global index) best first.
#[allow(clippy::too_many_arguments)]
fn scan_range<K>(
    data: &[i8],
    scales: &[f32],
    keys: &[K],
    offset: usize,
    q: &Quantized,
    k: usize,
    min_cosine: f32,
    filter: &impl Fn(&K) -> bool,
) -> Vec<(f32, usize)> {
    let mut best: Vec<(f32, usize)> = Vec::with_capacity(k + 1);
    let mut floor = min_cosine;
    for (i, (row, &s)) in data.chunks_exact(TEMPLATE_DIM).zip(scales).enumerate() {
        let cos = dot_i8(row, &q.values) as f32 * (s * q.scale);
        if cos < floor || !filter(&keys[i]) {
            continue;
        }
        let pos = best.partition_point(|b| b.0 >= cos);
        best.insert(pos, (cos, offset + i));
        if best.len() > k {
            best.pop();
        }
        if best.len() == k {
            floor = floor.max(best[k - 1].0);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    fn random_template(rng: &mut StdRng) -> Template {
        // Sum of 12 uniforms ≈ Gaussian; normalised → uniform on the sphere-ish.
        Template::from_raw(
            (0..TEMPLATE_DIM)
                .map(|_| (0..12).map(|_| rng.random::<f32>()).sum::<f32>() - 6.0)
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn search_matches_brute_force_f32_and_quantisation_error_is_small() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut idx = TemplateIndex::new();
        let ts: Vec<Template> = (0..3000).map(|_| random_template(&mut rng)).collect();
        for (i, t) in ts.iter().enumerate() {
            idx.add(i as u64, t);
        }
        let mut max_err = 0f32;
        for qi in 0..20 {
            // A noisy copy of a stored template must come back first.
            let base = &ts[qi * 97];
            let noisy = Template::from_raw(
                base.0
                    .iter()
                    .map(|v| v + (rng.random::<f32>() - 0.5) * 0.05)
                    .collect(),
            )
            .unwrap();
            let hits = idx.search(&noisy, 5, -1.0);
            assert_eq!(hits.len(), 5);
            assert_eq!(hits[0].key, (qi * 97) as u64);
            for w in hits.windows(2) {
                assert!(w[0].cosine >= w[1].cosine);
            }
            for h in &hits {
                max_err = max_err.max((h.cosine - ts[h.key as usize].cosine(&noisy)).abs());
            }
            // Exactness: the true f32 best five are the ones returned.
            let mut exact: Vec<(f32, u64)> = ts
                .iter()
                .enumerate()
                .map(|(i, t)| (t.cosine(&noisy), i as u64))
                .collect();
            exact.sort_by(|a, b| b.0.total_cmp(&a.0));
            assert_eq!(hits[0].key, exact[0].1);
        }
        assert!(max_err < 5e-3, "quantisation error {max_err}");
    }

    #[test]
    fn add_replace_remove_and_threshold() {
        let mut rng = StdRng::seed_from_u64(1);
        let (a, b, c) = (
            random_template(&mut rng),
            random_template(&mut rng),
            random_template(&mut rng),
        );
        let mut idx = TemplateIndex::new();
        idx.add("a", &a);
        idx.add("b", &b);
        idx.add("c", &c);
        assert_eq!(idx.len(), 3);
        assert_eq!(idx.search(&b, 1, 0.9)[0].key, "b");
        assert!(idx.remove(&"a"));
        assert!(!idx.remove(&"a"));
        assert_eq!(idx.len(), 2);
        // After the swap-remove, "c" must still be found under its own key.
        assert_eq!(idx.search(&c, 1, 0.9)[0].key, "c");
        assert!(idx.search(&a, 5, 0.9).is_empty());
        // Replacing b's template with a's makes a findable under "b".
        idx.add("b", &a);
        assert_eq!(idx.len(), 2);
        assert_eq!(idx.search(&a, 1, 0.9)[0].key, "b");
        assert_eq!(idx.search_filtered(&a, 1, 0.9, |k| *k != "b").len(), 0);
        assert!(idx.memory_bytes() > 0);
    }
}
