//! PDF417 Reed–Solomon error correction over GF(929) that uses erasures.
//!
//! rxing's decoder corrects errors only: it accepts an erasure list but never uses it, so a
//! code with `k` check codewords is repaired only when at most `k / 2` codewords are wrong.
//! A soft reader knows which codewords it is least sure of; marking `f` of them as erasures
//! (their values unknown, positions known) lets the code repair `e` errors elsewhere as long as
//! `2e + f ≤ k`, which doubles the capacity when the doubts are well placed.
//!
//! Conventions are PDF417's (ISO/IEC 15438 and zxing): the field is the integers modulo 929
//! with generator 3, the first codeword is the highest-degree coefficient, and the code's
//! generator polynomial has the roots 3¹ … 3ᵏ.

use std::sync::OnceLock;

const MODULUS: u32 = 929;

/// Powers and logarithms of the generator 3 in GF(929).
struct Field {
    exp: [u32; MODULUS as usize],
    log: [u32; MODULUS as usize],
}

fn field() -> &'static Field {
    static F: OnceLock<Field> = OnceLock::new();
    F.get_or_init(|| {
        let mut f = Field {
            exp: [0; MODULUS as usize],
            log: [0; MODULUS as usize],
        };
        let mut x = 1;
        for i in 0..MODULUS as usize {
            f.exp[i] = x;
            x = x * 3 % MODULUS;
        }
        for i in 0..MODULUS as usize - 1 {
            f.log[f.exp[i] as usize] = i as u32;
        }
        f
    })
}

fn mul(a: u32, b: u32) -> u32 {
    a * b % MODULUS
}

fn sub(a: u32, b: u32) -> u32 {
    (a + MODULUS - b) % MODULUS
}

fn inv(a: u32) -> u32 {
    let f = field();
    f.exp[((MODULUS - 1 - f.log[a as usize]) % (MODULUS - 1)) as usize]
}

/// 3^e for any exponent (the multiplicative group has order 928).
fn pow3(e: i64) -> u32 {
    field().exp[e.rem_euclid(MODULUS as i64 - 1) as usize]
}

/// Horner's rule: value at `x` of the polynomial whose coefficients come highest degree first.
fn horner<'a>(highest_first: impl Iterator<Item = &'a u32>, x: u32) -> u32 {
    highest_first.fold(0, |acc, &c| (mul(acc, x) + c) % MODULUS)
}

/// Value of a polynomial given lowest degree first.
fn eval(poly: &[u32], x: u32) -> u32 {
    horner(poly.iter().rev(), x)
}

/// Syndromes S_1 … S_k of a word (first codeword highest degree): its values at 3¹ … 3ᵏ, all
/// zero for a code word. Stored lowest first, as the polynomial S(x) = Σ S_{i+1} xⁱ.
fn syndromes_of(word: &[u32], check: usize) -> Vec<u32> {
    (1..=check)
        .map(|i| horner(word.iter(), pow3(i as i64)))
        .collect()
}

/// Corrects `codewords` in place, treating the positions in `erasures` as unknown, and returns
/// how many codewords were changed. Refuses (returns `None`, codewords untouched) a correction
/// the code cannot explain (`2·errors + erasures > check`) and one that a random word would
/// also get with odds above `max_false_accept`: after `f` erasures, a decoder that corrects
/// up to `e` errors accepts a random word with odds of about C(n − f, e)·928^e / 929^(check − f),
/// so the few check codewords left after many erasures are kept for detection.
pub fn correct(
    codewords: &mut [u32],
    check: usize,
    erasures: &[usize],
    max_false_accept: f64,
) -> Option<usize> {
    let n = codewords.len();
    if n == 0 || n >= MODULUS as usize || check > n || erasures.iter().any(|&p| p >= n) {
        return None;
    }
    // Locator of position p: X = 3^(n−1−p).
    let locator = |p: usize| pow3((n - 1 - p) as i64);
    let received: Vec<u32> = codewords.iter().map(|&c| c % MODULUS).collect();
    let syndromes = syndromes_of(&received, check);
    let f = erasures.len();
    let plausible = |errors: usize| {
        false_accept_odds(n - f, errors, check.saturating_sub(f)) <= max_false_accept
    };
    if f > check || !plausible(0) {
        return None;
    }
    if syndromes.iter().all(|&s| s == 0) {
        return Some(0);
    }
    // Berlekamp–Massey started from the erasure locator Γ(x) = Π (1 − X_j x).
    let mut lambda = vec![1u32];
    for &p in erasures {
        let x = locator(p);
        let mut next = vec![0u32; lambda.len() + 1];
        for (i, &c) in lambda.iter().enumerate() {
            next[i] = (next[i] + c) % MODULUS;
            next[i + 1] = sub(next[i + 1], mul(c, x));
        }
        lambda = next;
    }
    let mut prior = lambda.clone();
    let mut length = f;
    for r in f..check {
        let discrepancy = (0..lambda.len().min(r + 1)).fold(0, |acc, j| {
            (acc + mul(lambda[j], syndromes[r - j])) % MODULUS
        });
        // prior ← x·prior in both branches; lambda ← lambda − Δ·x·prior.
        prior.insert(0, 0);
        if discrepancy == 0 {
            continue;
        }
        let mut next = lambda.clone();
        next.resize(next.len().max(prior.len()), 0);
        for (i, &c) in prior.iter().enumerate() {
            next[i] = sub(next[i], mul(discrepancy, c));
        }
        if 2 * length <= r + f {
            length = r + 1 + f - length;
            let scale = inv(discrepancy);
            prior = lambda.iter().map(|&c| mul(c, scale)).collect();
        }
        lambda = next;
    }
    while lambda.len() > 1 && lambda[lambda.len() - 1] == 0 {
        lambda.pop();
    }
    let degree = lambda.len() - 1;
    if degree != length || degree < f || 2 * (degree - f) + f > check || !plausible(degree - f) {
        return None;
    }
    // Ω(x) = Λ(x)·S(x) mod x^k.
    let mut omega = vec![0u32; check];
    for (i, &l) in lambda.iter().enumerate() {
        for (j, &s) in syndromes.iter().enumerate().take(check - i.min(check)) {
            omega[i + j] = (omega[i + j] + mul(l, s)) % MODULUS;
        }
    }
    let derivative: Vec<u32> = lambda
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, &c)| mul(i as u32 % MODULUS, c))
        .collect();
    // Chien search over the code's positions; every root must be one of them.
    let positions: Vec<usize> = (0..n)
        .filter(|&p| eval(&lambda, inv(locator(p))) == 0)
        .collect();
    if positions.len() != degree {
        return None;
    }
    // Forney (first root 3¹): Y = −Ω(X⁻¹) / Λ'(X⁻¹).
    let mut corrected = received;
    for &p in &positions {
        let x_inv = inv(locator(p));
        let denominator = eval(&derivative, x_inv);
        if denominator == 0 {
            return None;
        }
        let magnitude = sub(0, mul(eval(&omega, x_inv), inv(denominator)));
        corrected[p] = sub(corrected[p], magnitude);
    }
    if syndromes_of(&corrected, check).iter().any(|&s| s != 0) {
        return None;
    }
    let changed = codewords
        .iter()
        .zip(&corrected)
        .filter(|(a, b)| a != b)
        .count();
    codewords.copy_from_slice(&corrected);
    Some(changed)
}

/// Odds that a uniformly random word lies within `errors` of some code word of a code with
/// `redundancy` check symbols over `n` positions: C(n, errors)·928^errors / 929^redundancy.
fn false_accept_odds(n: usize, errors: usize, redundancy: usize) -> f64 {
    let q = MODULUS as f64;
    let ln_choose: f64 = (0..errors)
        .map(|i| ((n - i) as f64).ln() - ((i + 1) as f64).ln())
        .sum();
    (ln_choose + errors as f64 * (q - 1.0).ln() - redundancy as f64 * q.ln()).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid PDF417 code word sequence (length descriptor, data, check codewords) made by
    /// rxing's encoder, so the conventions are checked against an independent implementation.
    fn valid(data_len: usize, level: u32, seed: u64) -> (Vec<u32>, usize) {
        let mut state = seed;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) % 900) as u32
        };
        let mut data: Vec<u32> = vec![data_len as u32 + 1];
        data.extend((0..data_len).map(|_| next()));
        let text: String = data.iter().map(|&c| char::from_u32(c).unwrap()).collect();
        let check =
            rxing::pdf417::encoder::pdf_417_error_correction::generateErrorCorrection(&text, level)
                .unwrap();
        let k = check.chars().count();
        data.extend(check.chars().map(|c| c as u32));
        (data, k)
    }

    fn damage(cw: &mut [u32], positions: &[usize]) {
        for &p in positions {
            cw[p] = (cw[p] + 1 + p as u32 * 7) % MODULUS;
        }
    }

    #[test]
    fn rxing_codes_have_zero_syndromes_and_stay_untouched() {
        let (mut cw, k) = valid(120, 3, 1);
        let copy = cw.clone();
        assert_eq!(correct(&mut cw, k, &[], 1.0), Some(0));
        assert_eq!(cw, copy);
    }

    #[test]
    fn corrects_errors_up_to_half_the_check_codewords() {
        let (good, k) = valid(150, 3, 2);
        assert_eq!(k, 16);
        let mut cw = good.clone();
        damage(&mut cw, &[0, 3, 40, 77, 100, 140, 151, 160]);
        assert_eq!(correct(&mut cw, k, &[], 1.0), Some(8));
        assert_eq!(cw, good);
        // One more error is beyond the code: refused, never "corrected" to something else.
        let mut cw = good.clone();
        damage(&mut cw, &[0, 3, 40, 77, 100, 140, 151, 160, 161]);
        let before = cw.clone();
        assert_eq!(correct(&mut cw, k, &[], 1.0), None);
        assert_eq!(cw, before);
    }

    #[test]
    fn erasures_double_the_capacity() {
        let (good, k) = valid(150, 3, 3);
        // 12 erased (10 of them wrong) and 2 unflagged errors: 2·2 + 12 = 16 = k.
        let erased = [1, 5, 9, 20, 33, 47, 58, 61, 90, 91, 120, 165];
        let mut cw = good.clone();
        damage(&mut cw, &erased[..10]);
        damage(&mut cw, &[70, 130]);
        assert_eq!(correct(&mut cw, k, &erased, 1.0), Some(12));
        assert_eq!(cw, good);
        // Without the erasure list the same damage is beyond the code.
        let mut cw = good.clone();
        damage(&mut cw, &erased[..10]);
        damage(&mut cw, &[70, 130]);
        assert_eq!(correct(&mut cw, k, &[], 1.0), None);
    }

    #[test]
    fn few_check_codewords_left_are_kept_for_detection() {
        let (good, k) = valid(60, 2, 4);
        assert_eq!(k, 8);
        let mut cw = good.clone();
        damage(&mut cw, &[2, 30, 50, 61]);
        // Four errors fill an 8-check code: a random word is accepted with odds of ~10⁻⁶.
        assert!(false_accept_odds(cw.len(), 4, k) > 1e-6);
        assert_eq!(correct(&mut cw.clone(), k, &[], 1e-6), None);
        assert_eq!(correct(&mut cw, k, &[], 1.0), Some(4));
        assert_eq!(cw, good);
        // Seven of eight check codewords' worth erased: one left, odds 1/929.
        let erased = [0, 1, 2, 3, 4, 5, 6];
        assert_eq!(correct(&mut good.clone(), k, &erased, 1e-6), None);
        assert_eq!(correct(&mut good.clone(), k, &erased, 1.0), Some(0));
    }

    #[test]
    fn random_damage_is_either_repaired_or_refused() {
        for seed in 0..200u64 {
            let (good, k) = valid(40 + (seed as usize % 80), 1 + (seed % 5) as u32, seed);
            let n = good.len();
            let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            let mut pick = || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % n as u64) as usize
            };
            let errors: Vec<usize> = (0..(seed % 12) as usize).map(|_| pick()).collect();
            let erased: Vec<usize> = (0..(seed % 9) as usize).map(|_| pick()).collect();
            let mut erased_unique = erased.clone();
            erased_unique.sort();
            erased_unique.dedup();
            let mut cw = good.clone();
            damage(&mut cw, &errors);
            if correct(&mut cw, k, &erased_unique, 1e-6).is_some() {
                assert_eq!(cw, good, "seed {seed}: repaired to a different code word");
            }
        }
    }
}
