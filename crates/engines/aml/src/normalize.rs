//! Name normalisation: NFKC, transliteration to Latin, case and punctuation
//! folding, honorific and legal-form stripping. Token order is preserved
//! here (the compact form needs it); matching is order-independent.

use any_ascii::any_ascii_char;
use rphonetic::DoubleMetaphone;
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// What kind of party a name belongs to: decides which noise words are removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Person,
    Organization,
    /// Vessels, aircraft, unknown: only case/punctuation folding.
    Other,
}

/// Titles and honorifics that say little about identity.
const HONORIFICS: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "prof",
    "professor",
    "sir",
    "dame",
    "lord",
    "lady",
    "sheikh",
    "shaikh",
    "shaykh",
    "sheik",
    "cheikh",
    "sheykh",
    "haji",
    "hajji",
    "hadji",
    "hajj",
    "alhaj",
    "alhajj",
    "mullah",
    "mulla",
    "maulana",
    "mawlawi",
    "maulvi",
    "molvi",
    "mawlana",
    "gen",
    "general",
    "col",
    "colonel",
    "capt",
    "captain",
    "lt",
    "lieutenant",
    "maj",
    "brig",
    "brigadier",
    "adm",
    "admiral",
    "sgt",
    "eng",
    "engr",
    "hon",
    "rev",
    "reverend",
    "excellency",
];

/// Single-token legal forms (after punctuation removal, so "S.A." is "sa").
const LEGAL_FORMS: &[&str] = &[
    "llc",
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "gmbh",
    "ag",
    "sa",
    "sarl",
    "srl",
    "spa",
    "sas",
    "sl",
    "bv",
    "nv",
    "plc",
    "ooo",
    "zao",
    "oao",
    "pao",
    "ao",
    "tov",
    "jsc",
    "ojsc",
    "cjsc",
    "pjsc",
    "llp",
    "lp",
    "kg",
    "kft",
    "zrt",
    "nyrt",
    "asa",
    "ab",
    "oy",
    "oyj",
    "fze",
    "fzco",
    "fzc",
    "fzllc",
    "fzco",
    "pte",
    "pty",
    "bhd",
    "sdn",
    "doo",
    "eood",
    "ood",
    "sro",
    "spzoo",
    "ltda",
    "eirl",
    "sac",
    "saa",
    "sae",
    "wll",
    "psc",
    "lllp",
    "cv",
    "sapi",
    "de",
    "gie",
    "ulc",
    "pvt",
    "private",
    "public",
    "est",
    "establishment",
];

/// Multi-token legal forms, stripped as phrases.
const LEGAL_PHRASES: &[&[&str]] = &[
    &["limited", "liability", "company"],
    &["limited", "liability", "partnership"],
    &["joint", "stock", "company"],
    &["open", "joint", "stock", "company"],
    &["closed", "joint", "stock", "company"],
    &["public", "joint", "stock", "company"],
    &["obshchestvo", "s", "ogranichennoy", "otvetstvennostyu"],
    &["sp", "z", "o", "o"],
    &["s", "de", "rl"],
];

/// Transliterates to ASCII. CJK ideograph runs are romanised per syllable and
/// regrouped the way Chinese names are usually written in Latin script
/// (family name, then the given name as one word: 习近平 → "Xi Jinping").
pub fn transliterate(input: &str) -> String {
    let nfkc: String = if is_nfkc_quick(input.chars()) == IsNormalized::Yes {
        input.to_string()
    } else {
        input.nfkc().collect()
    };
    if nfkc.is_ascii() {
        return nfkc;
    }
    // any_ascii renders Greek "ου" letter by letter as "oy"; names are
    // romanised with "ou" (Papadopoulos), so fix the digraph first.
    let nfkc = if nfkc.contains(['υ', 'Υ', 'ύ']) {
        nfkc.replace("ου", "ou")
            .replace("ού", "ou")
            .replace("ΟΥ", "OU")
            .replace("Ου", "Ou")
    } else {
        nfkc
    };
    let mut out = String::with_capacity(nfkc.len() + 8);
    let mut cjk_run: Vec<&'static str> = Vec::new();
    let flush = |run: &mut Vec<&'static str>, out: &mut String| {
        if run.is_empty() {
            return;
        }
        out.push(' ');
        if (2..=4).contains(&run.len()) {
            out.push_str(run[0]);
            out.push(' ');
            for s in &run[1..] {
                out.push_str(s);
            }
        } else {
            for s in run.iter() {
                out.push_str(s);
                out.push(' ');
            }
        }
        out.push(' ');
        run.clear();
    };
    for c in nfkc.chars() {
        if is_cjk_ideograph(c) {
            cjk_run.push(any_ascii_char(c));
            continue;
        }
        flush(&mut cjk_run, &mut out);
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(any_ascii_char(c));
        }
    }
    flush(&mut cjk_run, &mut out);
    out
}

fn is_cjk_ideograph(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x2A6DF)
}

/// Lower-cases and splits into alphanumeric tokens. Dots and apostrophes are
/// deleted rather than treated as separators so that "S.A." → "sa" and
/// "O'Neil" → "oneil"; all other punctuation separates tokens.
pub fn tokenize(input: &str) -> Vec<String> {
    let ascii = transliterate(input);
    let mut tokens = Vec::new();
    let mut cur = String::new();
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            cur.push(c.to_ascii_lowercase());
        } else if matches!(c, '.' | '\'' | '`' | '\u{2019}') {
            // joined, see above
        } else if !cur.is_empty() {
            tokens.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens
}

/// Tokens of a name with noise words removed. Never returns an empty list
/// for a non-empty name: if stripping would remove everything, the plain
/// tokens are kept (a company called "Limited Co" is still screenable).
pub fn name_tokens(input: &str, kind: NameKind) -> Vec<String> {
    let tokens = tokenize(input);
    let stripped: Vec<String> = match kind {
        // Honorifics are kept (in some lists "Haji" is part of the name) but
        // weigh almost nothing in matching, see `token_weight`.
        NameKind::Person => tokens.clone(),
        NameKind::Organization => strip_legal_forms(&tokens),
        NameKind::Other => tokens.clone(),
    };
    if stripped.is_empty() {
        tokens
    } else {
        stripped
    }
}

fn strip_legal_forms(tokens: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    'outer: while i < tokens.len() {
        for phrase in LEGAL_PHRASES {
            let n = phrase.len();
            if i + n <= tokens.len()
                && tokens[i..i + n]
                    .iter()
                    .zip(phrase.iter())
                    .all(|(a, b)| a == b)
            {
                i += n;
                continue 'outer;
            }
        }
        if !LEGAL_FORMS.contains(&tokens[i].as_str()) {
            out.push(tokens[i].clone());
        }
        i += 1;
    }
    out
}

/// True for titles and honorifics (Mr, Dr, Sheikh, Hajji, …).
pub fn is_honorific(token: &str) -> bool {
    HONORIFICS.contains(&token)
}

/// Matching weight of a token: its length, except for honorifics, which
/// may be present on one side only without changing who is meant.
pub fn token_weight(token: &str) -> f32 {
    if is_honorific(token) {
        0.3
    } else {
        token.len() as f32
    }
}

/// A romanisation-insensitive skeleton: folds spellings that different
/// transliteration conventions produce for the same sound (dzh/j, kh/h,
/// w/v, ou/u, y/i, c/k, doubled letters, …). Kozlov / Kozlow,
/// Pedzhman / Pejman and Wahhab / Vakhkhab get the same skeleton.
pub fn skeleton(token: &str) -> String {
    let mut s = token.to_string();
    for (from, to) in [
        ("dzh", "j"),
        ("zh", "j"),
        ("dj", "j"),
        ("kh", "h"),
        ("gh", "g"),
        ("ph", "f"),
        ("th", "t"),
        ("ck", "k"),
        ("ou", "u"),
        ("oo", "u"),
        ("ee", "i"),
        ("w", "v"),
        ("y", "i"),
        ("q", "k"),
        ("c", "k"),
        ("x", "ks"),
        ("'", ""),
    ] {
        if s.contains(from) {
            s = s.replace(from, to);
        }
    }
    let mut out = String::with_capacity(s.len());
    let mut prev = '\0';
    for ch in s.chars() {
        if ch != prev {
            out.push(ch);
        }
        prev = ch;
    }
    // Word-final "h" is often dropped in romanisation (Abdullah / Abdulla).
    if out.len() > 3 && out.ends_with('h') {
        out.pop();
    }
    out
}

/// Phonetic identity of a token: Double Metaphone codes and the skeleton hash.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenCodes {
    pub phon: [u32; 2],
    pub skel: u64,
}

pub fn token_codes(dm: &DoubleMetaphone, token: &str) -> TokenCodes {
    let skel = if token.len() >= 2 {
        crate::index::key_hash(b'S', skeleton(token).as_bytes())
    } else {
        0
    };
    TokenCodes {
        phon: phonetic_codes(dm, token),
        skel,
    }
}

/// A document number reduced to upper-case alphanumerics: "92/664" and
/// "92 664" compare equal.
pub fn normalize_doc_number(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Double Metaphone primary and alternate codes packed into `u32`s (codes
/// are at most 4 ASCII characters). 0 means "no code".
pub fn phonetic_codes(dm: &DoubleMetaphone, token: &str) -> [u32; 2] {
    if token.len() < 2 || token.bytes().any(|b| b.is_ascii_digit()) {
        return [0, 0];
    }
    let r = dm.double_metaphone(token);
    let p = pack(&r.primary());
    let a = pack(&r.alternate());
    [p, if a == p { 0 } else { a }]
}

fn pack(code: &str) -> u32 {
    code.bytes()
        .take(4)
        .fold(0u32, |acc, b| (acc << 8) | u32::from(b))
}

/// True when two tokens share a Double Metaphone code.
pub fn phonetic_equal(a: [u32; 2], b: [u32; 2]) -> bool {
    a[0] != 0 && (a[0] == b[0] || a[0] == b[1] || (a[1] != 0 && (a[1] == b[0] || a[1] == b[1])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str, k: NameKind) -> Vec<String> {
        name_tokens(s, k)
    }

    #[test]
    fn case_punctuation_and_diacritics() {
        assert_eq!(
            toks("AL-ZOMOR, Abboud", NameKind::Person),
            ["al", "zomor", "abboud"]
        );
        assert_eq!(
            toks("José  Müller-Lüdenscheidt", NameKind::Person),
            ["jose", "muller", "ludenscheidt"]
        );
        assert_eq!(toks("O'Neil", NameKind::Person), ["oneil"]);
        // NFKC folds compatibility forms (full-width letters, ligatures).
        assert_eq!(toks("ＪＯＨＮ ﬁtz", NameKind::Person), ["john", "fitz"]);
    }

    #[test]
    fn transliterates_scripts() {
        assert_eq!(
            toks("Козлов Сергей Александрович", NameKind::Person),
            ["kozlov", "sergey", "aleksandrovich"]
        );
        assert_eq!(
            toks("Γιώργος Παπαδόπουλος", NameKind::Person),
            ["giorgos", "papadopoulos"]
        );
        assert_eq!(toks("习近平", NameKind::Person), ["xi", "jinping"]);
        let arabic = toks("محمد", NameKind::Person);
        assert_eq!(arabic.len(), 1);
        assert!(arabic[0].starts_with('m'), "{arabic:?}");
        let hebrew = toks("דוד", NameKind::Person);
        assert_eq!(hebrew.len(), 1);
        assert!(hebrew[0].starts_with('d'), "{hebrew:?}");
    }

    #[test]
    fn honorifics_weigh_little() {
        assert_eq!(
            toks("Dr. Ayman AL ZAWAHIRI", NameKind::Person),
            ["dr", "ayman", "al", "zawahiri"]
        );
        assert!(token_weight("sheikh") < 1.0 && token_weight("hajji") < 1.0);
        assert_eq!(token_weight("omar"), 4.0);
    }

    #[test]
    fn skeletons_fold_romanisations() {
        assert_eq!(skeleton("pedzhman"), skeleton("pejman"));
        assert_eq!(skeleton("vakhkhab"), skeleton("wahhab"));
        assert_eq!(skeleton("kozlow"), skeleton("kozlov"));
        assert_eq!(skeleton("abdulla"), skeleton("abdullah"));
        assert_ne!(skeleton("petrov"), skeleton("ivanov"));
    }

    #[test]
    fn strips_legal_forms() {
        assert_eq!(
            toks("ANGLO-CARIBBEAN CO., LTD.", NameKind::Organization),
            ["anglo", "caribbean"]
        );
        assert_eq!(
            toks("Banco Nacional S.A.", NameKind::Organization),
            ["banco", "nacional"]
        );
        assert_eq!(toks("ООО Ромашка", NameKind::Organization), ["romashka"]);
        assert_eq!(
            toks("Acme Limited Liability Company", NameKind::Organization),
            ["acme"]
        );
        assert_eq!(toks("Siemens GmbH", NameKind::Organization), ["siemens"]);
        assert_eq!(toks("Limited", NameKind::Organization), ["limited"]);
    }

    #[test]
    fn doc_numbers() {
        assert_eq!(normalize_doc_number("92/664"), "92664");
        assert_eq!(normalize_doc_number(" t-321 642 "), "T321642");
    }

    #[test]
    fn phonetics() {
        let dm = DoubleMetaphone::default();
        let a = phonetic_codes(&dm, "mohammed");
        let b = phonetic_codes(&dm, "muhammad");
        assert!(phonetic_equal(a, b));
        let c = phonetic_codes(&dm, "petrov");
        assert!(!phonetic_equal(a, c));
        assert_eq!(phonetic_codes(&dm, "x"), [0, 0]);
    }
}
