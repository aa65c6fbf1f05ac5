//! ICAO 9303 machine readable zone: parsing, check digits and OCR repair.
//!
//! Formats: TD1 (3×30), TD2 (2×36), TD3 (2×44), MRV-A (2×44), MRV-B (2×36).
//! [`parse`] is strict (the lines must be well formed); [`repair_and_parse`] takes
//! OCR output and repairs it by field type and by the check digits, and never
//! "repairs" a field into a value its check digit does not confirm.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::countries::country_name;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MrzFormat {
    #[serde(rename = "TD1")]
    Td1,
    #[serde(rename = "TD2")]
    Td2,
    #[serde(rename = "TD3")]
    Td3,
    #[serde(rename = "MRVA")]
    MrvA,
    #[serde(rename = "MRVB")]
    MrvB,
}

impl MrzFormat {
    pub fn line_len(self) -> usize {
        match self {
            MrzFormat::Td1 => 30,
            MrzFormat::Td2 | MrzFormat::MrvB => 36,
            MrzFormat::Td3 | MrzFormat::MrvA => 44,
        }
    }
    pub fn line_count(self) -> usize {
        match self {
            MrzFormat::Td1 => 3,
            _ => 2,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            MrzFormat::Td1 => "TD1",
            MrzFormat::Td2 => "TD2",
            MrzFormat::Td3 => "TD3",
            MrzFormat::MrvA => "MRVA",
            MrzFormat::MrvB => "MRVB",
        }
    }
    /// Format from the shape of the lines and the document code.
    fn detect(line_count: usize, line_len: usize, first: char) -> Option<MrzFormat> {
        match (line_count, line_len, first) {
            (3, 30, _) => Some(MrzFormat::Td1),
            (2, 44, 'V') => Some(MrzFormat::MrvA),
            (2, 44, _) => Some(MrzFormat::Td3),
            (2, 36, 'V') => Some(MrzFormat::MrvB),
            (2, 36, _) => Some(MrzFormat::Td2),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrzError {
    #[error("MRZ has {0} lines of length {1}: not an ICAO 9303 format")]
    UnknownFormat(usize, usize),
    #[error("MRZ contains a character outside A-Z, 0-9 and '<'")]
    BadCharacter,
}

/// One check digit as printed and as computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckDigit {
    /// The character printed in the MRZ (`'<'` allowed where ICAO allows it).
    pub printed: char,
    pub computed: u8,
    pub valid: bool,
}

impl CheckDigit {
    fn new(data: &str, printed: char, filler_ok: bool) -> Self {
        let computed = check_digit(data);
        // ICAO: an all-filler optional/personal field may carry '<' as its check digit.
        let valid = (printed.to_digit(10) == Some(computed as u32))
            || (filler_ok && printed == '<' && data.chars().all(|c| c == '<'));
        CheckDigit {
            printed,
            computed,
            valid,
        }
    }
}

/// A parsed MRZ. Text fields keep the MRZ spelling with `<` fillers trimmed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mrz {
    pub format: MrzFormat,
    pub lines: Vec<String>,
    pub document_code: String,
    pub issuing_state: String,
    pub document_number: String,
    pub nationality: String,
    pub birth_date_raw: String,
    pub birth_date: Option<NaiveDate>,
    pub expiry_date_raw: String,
    pub expiry_date: Option<NaiveDate>,
    /// `M`, `F` or `U` (ICAO `<` and `X` are both "unspecified").
    pub sex: char,
    pub surname: String,
    pub given_names: String,
    /// The name field was full: ICAO truncation may have happened.
    pub name_truncated: bool,
    pub optional_data: String,
    pub optional_data_2: String,
    /// TD3 personal number (line 2, positions 29–42).
    pub personal_number: String,
    pub document_number_check: CheckDigit,
    pub birth_date_check: CheckDigit,
    pub expiry_date_check: CheckDigit,
    pub personal_number_check: Option<CheckDigit>,
    pub composite_check: Option<CheckDigit>,
    /// Why the name field looks like fillers read as letters (see [`fillers_read_as_letters`]);
    /// such a reading is also an error, since no check digit could vouch for the name.
    pub name_doubt: Option<String>,
    /// Problems that make the MRZ invalid (failed check digits, impossible dates, unknown codes,
    /// a doubtful name).
    pub errors: Vec<String>,
    /// Repairs applied to the OCR text, and soft remarks.
    pub warnings: Vec<String>,
}

impl Mrz {
    /// Every check digit holds and every field parsed.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn mrz_string(&self) -> String {
        self.lines.join("\n")
    }

    /// Document number, birth date and expiry with their check digits: the BAC/PACE key for the chip.
    pub fn mrz_key(&self) -> String {
        let mut num = self.document_number.clone();
        while num.len() < 9 {
            num.push('<');
        }
        format!(
            "{}{}{}{}{}{}",
            num,
            check_digit(&num),
            self.birth_date_raw,
            self.birth_date_check.printed,
            self.expiry_date_raw,
            self.expiry_date_check.printed
        )
    }

    pub fn document_type_display(&self) -> &'static str {
        document_type_display(&self.document_code)
    }

    pub fn issuing_state_name(&self) -> Option<&'static str> {
        country_name(&self.issuing_state)
    }

    pub fn nationality_name(&self) -> Option<&'static str> {
        country_name(&self.nationality)
    }

    /// Number of check digits that hold (used to rank repair candidates).
    /// How many of the check digits hold.
    pub fn valid_checks(&self) -> usize {
        let mut n = [
            self.document_number_check,
            self.birth_date_check,
            self.expiry_date_check,
        ]
        .iter()
        .filter(|c| c.valid)
        .count();
        n += self
            .personal_number_check
            .iter()
            .filter(|c| c.valid)
            .count();
        n += self.composite_check.iter().filter(|c| c.valid).count();
        n
    }
}

/// Display name of a document code, as Didit's `document_type`.
pub fn document_type_display(code: &str) -> &'static str {
    let mut c = code.chars();
    let first = c.next().unwrap_or('<');
    let second = c.next().unwrap_or('<');
    match (first, second) {
        ('P', _) => "Passport",
        ('V', _) => "Visa",
        ('I' | 'A' | 'C', 'R') => "Residence Permit",
        ('I' | 'A' | 'C', _) => "Identity Card",
        _ => "Unknown",
    }
}

/// ICAO 9303 character value: digits as themselves, A–Z as 10–35, `<` as 0.
fn char_value(c: char) -> u32 {
    match c {
        '0'..='9' => c as u32 - '0' as u32,
        'A'..='Z' => c as u32 - 'A' as u32 + 10,
        _ => 0,
    }
}

/// ICAO 9303 check digit (weights 7, 3, 1 repeating, modulo 10).
pub fn check_digit(data: &str) -> u8 {
    const W: [u32; 3] = [7, 3, 1];
    (data
        .chars()
        .enumerate()
        .map(|(i, c)| char_value(c) * W[i % 3])
        .sum::<u32>()
        % 10) as u8
}

fn trim_filler(s: &str) -> String {
    s.trim_end_matches('<').to_string()
}

/// Optional data: ICAO pads with `<`; inner `<` are kept as spaces would be ambiguous.
fn clean_optional(s: &str) -> String {
    s.trim_matches('<').to_string()
}

/// Resolve YYMMDD. Birth dates lie in the past; expiry dates may lie up to 50 years ahead.
fn resolve_date(raw: &str, today: NaiveDate, is_birth: bool) -> Option<NaiveDate> {
    if raw.len() != 6 || !raw.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let yy: i32 = raw[0..2].parse().ok()?;
    let mm: u32 = raw[2..4].parse().ok()?;
    let dd: u32 = raw[4..6].parse().ok()?;
    let century = today.year() / 100 * 100;
    let mut year = century + yy;
    if is_birth {
        if NaiveDate::from_ymd_opt(year, mm, dd).is_some_and(|d| d > today) || year > today.year() {
            year -= 100;
        }
    } else if year > today.year() + 50 {
        year -= 100;
    } else if year < today.year() - 50 {
        year += 100;
    }
    NaiveDate::from_ymd_opt(year, mm, dd)
}

/// Split the name field: primary identifier, `<<`, secondary identifier; `<` inside a part is a space.
/// The secondary identifier's parts are separated by single fillers, so it ends at the next `<<`:
/// letters further on are specks in the filler read as characters (measured:
/// `ROSSI<<GIULIA<<<C<<<<<<<<<<<C<K`).
fn split_names(field: &str) -> (String, String) {
    let field = field.trim_end_matches('<');
    let (sur, given) = match field.find("<<") {
        Some(i) => {
            let rest = field[i + 2..].trim_start_matches('<');
            (&field[..i], rest.split("<<").next().unwrap_or(""))
        }
        None => (field, ""),
    };
    let norm = |s: &str| {
        s.split('<')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    (norm(sur), norm(given))
}

/// Letters the recognisers make of a `<` filler (its chevron read as a K, S or X).
const FILLER_LOOKALIKES: [char; 3] = ['K', 'S', 'X'];

/// Why a name reading looks like fillers read as letters, if it does. No check digit covers the
/// name field, so such a reading must never be returned as a name. Measured on real documents:
/// `VADIS SQUOKKKKK` / `K`, `MEULENDIJK KLOESSALBERTINE K SKK KK SKK`,
/// `TRAVELER SHAPPYSS` / `SSSSSSSSSSSSSSSSSSSS`. Real names have fillers between their parts
/// and after them, never three equal letters in a row, and no part made only of a few of the
/// filler's look-alikes.
fn fillers_read_as_letters(field: &str, surname: &str, given_names: &str) -> Option<String> {
    if !field.contains('<') {
        return Some("the name field holds no filler".into());
    }
    for part in surname.split(' ').chain(given_names.split(' ')) {
        let chars: Vec<char> = part.chars().collect();
        if let Some(run) = chars.windows(3).find(|w| w[0] == w[1] && w[1] == w[2]) {
            return Some(format!(
                "'{part}' has a run of {} read where fillers stand",
                run[0]
            ));
        }
        if !chars.is_empty()
            && chars.len() <= 3
            && chars.iter().all(|c| FILLER_LOOKALIKES.contains(c))
        {
            return Some(format!("'{part}' is made of letters a filler is read as"));
        }
    }
    None
}

fn sex_of(c: char) -> Option<char> {
    match c {
        'M' => Some('M'),
        'F' => Some('F'),
        '<' | 'X' => Some('U'),
        _ => None,
    }
}

/// Strict parse of well-formed MRZ lines (exact lengths, MRZ alphabet only).
/// Check digit failures do not fail the parse: they are listed in [`Mrz::errors`].
pub fn parse(lines: &[&str], today: NaiveDate) -> Result<Mrz, MrzError> {
    let len = lines.first().map(|l| l.len()).unwrap_or(0);
    if lines.iter().any(|l| l.len() != len) {
        return Err(MrzError::UnknownFormat(lines.len(), len));
    }
    if lines.iter().any(|l| {
        !l.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '<')
    }) {
        return Err(MrzError::BadCharacter);
    }
    let first = lines.first().and_then(|l| l.chars().next()).unwrap_or('<');
    let format = MrzFormat::detect(lines.len(), len, first)
        .ok_or(MrzError::UnknownFormat(lines.len(), len))?;
    Ok(parse_format(format, lines, today))
}

/// Composite check digit position and the spans it covers.
type Composite = ((usize, usize), Vec<(usize, std::ops::Range<usize>)>);

/// Where each field sits: (line, byte range) or (line, index).
struct Layout {
    names: (usize, std::ops::Range<usize>),
    number: (usize, std::ops::Range<usize>),
    number_check: (usize, usize),
    /// Optional data that may hold the overflow of a long document number.
    optional: (usize, std::ops::Range<usize>),
    optional_2: Option<(usize, std::ops::Range<usize>)>,
    birth: (usize, usize),
    sex: (usize, usize),
    expiry: (usize, usize),
    nationality: (usize, usize),
    personal: Option<(usize, std::ops::Range<usize>)>,
    composite: Option<Composite>,
}

fn field_layout(format: MrzFormat) -> Layout {
    match format {
        MrzFormat::Td1 => Layout {
            names: (2, 0..30),
            number: (0, 5..14),
            number_check: (0, 14),
            optional: (0, 15..30),
            optional_2: Some((1, 18..29)),
            birth: (1, 0),
            sex: (1, 7),
            expiry: (1, 8),
            nationality: (1, 15),
            personal: None,
            composite: Some((
                (1, 29),
                vec![(0, 5..30), (1, 0..7), (1, 8..15), (1, 18..29)],
            )),
        },
        _ => {
            let n = format.line_len();
            let (optional, personal, composite) = match format {
                MrzFormat::Td3 => (
                    (1, 28..42),
                    Some((1, 28..42)),
                    Some(((1, 43), vec![(1, 0..10), (1, 13..20), (1, 21..43)])),
                ),
                MrzFormat::Td2 => (
                    (1, 28..35),
                    None,
                    Some(((1, 35), vec![(1, 0..10), (1, 13..20), (1, 21..35)])),
                ),
                _ => ((1, 28..n), None, None),
            };
            Layout {
                names: (0, 5..n),
                number: (1, 0..9),
                number_check: (1, 9),
                optional,
                optional_2: None,
                birth: (1, 13),
                sex: (1, 20),
                expiry: (1, 21),
                nationality: (1, 10),
                personal,
                composite,
            }
        }
    }
}

fn parse_format(format: MrzFormat, lines: &[&str], today: NaiveDate) -> Mrz {
    let lay = field_layout(format);
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let get = |(l, r): &(usize, std::ops::Range<usize>)| -> &str { &lines[*l][r.clone()] };
    let at = |(l, i): (usize, usize)| -> char { lines[l].as_bytes()[i] as char };
    let six = |(l, i): (usize, usize)| -> &str { &lines[l][i..i + 6] };

    let mut number = get(&lay.number).to_string();
    let mut number_check = at(lay.number_check);
    let opt_raw = get(&lay.optional);
    let mut optional_data = clean_optional(opt_raw);
    if number_check == '<' && matches!(format, MrzFormat::Td1 | MrzFormat::Td2) {
        // ICAO 9303-5/-6 §4.2.4: a number longer than 9 characters continues in the optional
        // data; the last character before the first filler is its check digit.
        let ext: String = opt_raw.chars().take_while(|&c| c != '<').collect();
        if ext.len() >= 2 {
            let (more, cd) = ext.split_at(ext.len() - 1);
            number = format!("{number}{more}");
            number_check = cd.chars().next().unwrap_or('<');
            optional_data = clean_optional(&opt_raw[ext.len()..]);
            warnings.push("document number continues in the optional data (long number)".into());
        }
    }
    let document_number_check = CheckDigit::new(&number, number_check, false);

    let birth_raw = six(lay.birth).to_string();
    let expiry_raw = six(lay.expiry).to_string();
    let birth_date_check = CheckDigit::new(&birth_raw, at((lay.birth.0, lay.birth.1 + 6)), false);
    let expiry_date_check =
        CheckDigit::new(&expiry_raw, at((lay.expiry.0, lay.expiry.1 + 6)), false);

    let (personal_number, personal_number_check) = match &lay.personal {
        Some(p) => {
            let data = get(p);
            (
                clean_optional(data),
                Some(CheckDigit::new(data, at((p.0, p.1.end)), true)),
            )
        }
        None => (String::new(), None),
    };
    let composite_check = lay.composite.as_ref().map(|(pos, spans)| {
        let data: String = spans.iter().map(get).collect();
        CheckDigit::new(&data, at(*pos), false)
    });

    let name_field = get(&lay.names);
    let (surname, given_names) = split_names(name_field);
    let name_doubt = fillers_read_as_letters(name_field, &surname, &given_names);
    if let Some(why) = &name_doubt {
        errors.push(format!("name field: {why}"));
    }
    let mut out_lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    // The field as ICAO writes these names; it differs only when specks in the filler were
    // read as letters (see `split_names`), which the reported lines then drop too.
    let mut canonical = format!("{surname}<<{given_names}").replace(' ', "<");
    if given_names.is_empty() {
        canonical.truncate(surname.len());
    }
    let name_truncated = canonical.len() >= name_field.len();
    if name_truncated {
        warnings.push("name field is full: the name may be truncated".into());
    } else {
        canonical.extend(std::iter::repeat_n('<', name_field.len() - canonical.len()));
        if canonical != name_field {
            let (line, range) = &lay.names;
            out_lines[*line].replace_range(range.clone(), &canonical);
            warnings.push("letters in the name field's filler removed".into());
        }
    }
    let sex_c = at(lay.sex);
    if sex_of(sex_c).is_none() {
        errors.push(format!("invalid sex character '{sex_c}'"));
    }
    let (nl, ni) = lay.nationality;

    let mrz = Mrz {
        format,
        lines: out_lines,
        document_code: trim_filler(&lines[0][0..2]),
        issuing_state: trim_filler(&lines[0][2..5]),
        document_number: trim_filler(&number),
        nationality: trim_filler(&lines[nl][ni..ni + 3]),
        birth_date: resolve_date(&birth_raw, today, true),
        birth_date_raw: birth_raw,
        expiry_date: resolve_date(&expiry_raw, today, false),
        expiry_date_raw: expiry_raw,
        sex: sex_of(sex_c).unwrap_or('U'),
        surname,
        given_names,
        name_truncated,
        optional_data: if lay.personal.is_some() {
            String::new()
        } else {
            optional_data
        },
        optional_data_2: lay
            .optional_2
            .as_ref()
            .map(|o| clean_optional(get(o)))
            .unwrap_or_default(),
        personal_number,
        document_number_check,
        birth_date_check,
        expiry_date_check,
        personal_number_check,
        composite_check,
        name_doubt,
        errors: Vec::new(),
        warnings,
    };
    validate(mrz, errors)
}

/// Collect every reason the MRZ cannot be trusted.
fn validate(mut mrz: Mrz, mut errors: Vec<String>) -> Mrz {
    let checks = [
        ("document number", Some(mrz.document_number_check)),
        ("birth date", Some(mrz.birth_date_check)),
        ("expiry date", Some(mrz.expiry_date_check)),
        ("personal number", mrz.personal_number_check),
        ("composite", mrz.composite_check),
    ];
    for (name, c) in checks {
        if let Some(c) = c {
            if !c.valid {
                errors.push(format!(
                    "{name} check digit '{}' does not match computed {}",
                    c.printed, c.computed
                ));
            }
        }
    }
    if mrz.birth_date.is_none() {
        errors.push(format!(
            "birth date '{}' is not a valid date",
            mrz.birth_date_raw
        ));
    }
    if mrz.expiry_date.is_none() {
        errors.push(format!(
            "expiry date '{}' is not a valid date",
            mrz.expiry_date_raw
        ));
    }
    if country_name(&mrz.issuing_state).is_none() {
        errors.push(format!(
            "unknown issuing state code '{}'",
            mrz.issuing_state
        ));
    }
    if country_name(&mrz.nationality).is_none() {
        errors.push(format!("unknown nationality code '{}'", mrz.nationality));
    }
    if mrz.document_number.is_empty() {
        errors.push("document number is empty".into());
    }
    mrz.errors = errors;
    mrz
}

// ---------------------------------------------------------------------------
// OCR repair
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// A–Z and `<` only (document code, country codes, names).
    Alpha,
    /// 0–9 only (dates).
    Num,
    /// Check digit: 0–9, or `<` where ICAO allows it.
    Check,
    /// Any MRZ character (document number, optional data).
    AlphaNum,
    Sex,
}

/// Character kind of each position, per format.
fn layout(format: MrzFormat) -> Vec<Vec<Kind>> {
    use Kind::*;
    let fill = |v: &mut Vec<Kind>, k: Kind, n: usize| v.extend(std::iter::repeat_n(k, n));
    match format {
        MrzFormat::Td1 => {
            let mut l0 = Vec::new();
            fill(&mut l0, Alpha, 5);
            fill(&mut l0, AlphaNum, 9);
            fill(&mut l0, AlphaNum, 1); // check digit or '<' on overflow
            fill(&mut l0, AlphaNum, 15);
            let mut l1 = Vec::new();
            fill(&mut l1, Num, 6);
            fill(&mut l1, Check, 1);
            fill(&mut l1, Sex, 1);
            fill(&mut l1, Num, 6);
            fill(&mut l1, Check, 1);
            fill(&mut l1, Alpha, 3);
            fill(&mut l1, AlphaNum, 11);
            fill(&mut l1, Check, 1);
            vec![l0, l1, vec![Alpha; 30]]
        }
        _ => {
            let n = format.line_len();
            let mut l0 = Vec::new();
            fill(&mut l0, Alpha, n);
            let mut l1 = Vec::new();
            fill(&mut l1, AlphaNum, 9);
            fill(
                &mut l1,
                if format == MrzFormat::Td2 {
                    AlphaNum
                } else {
                    Check
                },
                1,
            );
            fill(&mut l1, Alpha, 3);
            fill(&mut l1, Num, 6);
            fill(&mut l1, Check, 1);
            fill(&mut l1, Sex, 1);
            fill(&mut l1, Num, 6);
            fill(&mut l1, Check, 1);
            fill(&mut l1, AlphaNum, n - 28);
            if format == MrzFormat::Td3 {
                l1[42] = Check;
                l1[43] = Check;
            }
            if format == MrzFormat::Td2 {
                l1[35] = Check;
            }
            vec![l0, l1]
        }
    }
}

/// OCR look-alikes: (letter, digit).
const CONFUSIONS: &[(char, char)] = &[
    ('O', '0'),
    ('D', '0'),
    ('Q', '0'),
    ('I', '1'),
    ('L', '1'),
    ('Z', '2'),
    ('S', '5'),
    ('B', '8'),
    ('G', '6'),
    ('T', '7'),
    ('A', '4'),
];

fn to_digit_like(c: char) -> char {
    CONFUSIONS
        .iter()
        .find(|(l, _)| *l == c)
        .map(|(_, d)| *d)
        .unwrap_or(c)
}

fn to_letter_like(c: char) -> char {
    // The first listed letter wins (0 → O, not D or Q).
    CONFUSIONS
        .iter()
        .find(|(_, d)| *d == c)
        .map(|(l, _)| *l)
        .unwrap_or(c)
}

/// Alternatives of an ambiguous alphanumeric character (itself first).
fn alternatives(c: char) -> Vec<char> {
    let mut v = vec![c];
    if c.is_ascii_digit() {
        // 0 stands for O most often; D/Q are rarer OCR slips.
        for (l, d) in CONFUSIONS {
            if *d == c && !v.contains(l) {
                v.push(*l);
            }
        }
    } else if let Some(d) = CONFUSIONS.iter().find(|(l, _)| *l == c).map(|(_, d)| *d) {
        v.push(d);
    }
    v
}

/// `K` and `<` look alike to the recogniser (measured: "BER<<H" read as "BERK<H") and a name
/// line has no check digit, so only independent evidence (the printed zone) can confirm a
/// repair: these are the line's readings with `K`s next to a filler (from `names_from` on) put
/// back as `<`, fewest changes first; at most four such `K`s are considered.
pub fn filler_k_variants(line: &str, names_from: usize) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let filler_at = |i: Option<usize>| i.and_then(|i| chars.get(i)) == Some(&'<');
    let ks: Vec<usize> = (names_from..chars.len())
        .filter(|&i| chars[i] == 'K' && (filler_at(i.checked_sub(1)) || filler_at(Some(i + 1))))
        .take(4)
        .collect();
    let mut subsets: Vec<u32> = (1..1u32 << ks.len()).collect();
    subsets.sort_by_key(|m| m.count_ones());
    subsets
        .into_iter()
        .map(|mask| {
            let mut c = chars.clone();
            for (bit, &i) in ks.iter().enumerate() {
                if mask & (1 << bit) != 0 {
                    c[i] = '<';
                }
            }
            c.into_iter().collect()
        })
        .collect()
}

/// Map OCR output to the MRZ alphabet.
pub fn normalize_line(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = c.to_ascii_uppercase();
        match c {
            'A'..='Z' | '0'..='9' | '<' => out.push(c),
            '«' | '《' | '‹' | '〈' | '＜' | '(' | '{' | '[' => out.push('<'),
            _ => {}
        }
    }
    out
}

/// Variants of `line` with exactly `len` characters, obtained by growing or shrinking
/// runs of `<` (CTC decoding collapses repeated fillers) or the end of the line.
fn length_variants(line: &str, len: usize) -> Vec<String> {
    let n = line.len();
    if n == len {
        return vec![line.to_string()];
    }
    let bytes = line.as_bytes();
    // Runs of '<' as (start, end).
    let mut runs = Vec::new();
    let mut i = 0;
    while i < n {
        if bytes[i] == b'<' {
            let s = i;
            while i < n && bytes[i] == b'<' {
                i += 1;
            }
            runs.push((s, i));
        } else {
            i += 1;
        }
    }
    // Preference order matters: ties between variants are resolved in favour of the first.
    // Collapsed fillers are most likely in the longest run, which is usually the last.
    let mut order: Vec<usize> = (0..runs.len()).collect();
    order.sort_by_key(|&r| {
        (
            std::cmp::Reverse(runs[r].1 - runs[r].0),
            std::cmp::Reverse(runs[r].0),
        )
    });
    let mut out = Vec::new();
    if n < len {
        let k = len - n;
        let fill = "<".repeat(k);
        for &r in &order {
            let e = runs[r].1;
            out.push(format!("{}{}{}", &line[..e], fill, &line[e..]));
        }
        out.push(format!("{line}{fill}"));
        // Split the missing fillers across the two longest runs (both collapsed).
        if runs.len() >= 2 && k >= 2 {
            let (a, b) = (
                runs[order[0]].1.min(runs[order[1]].1),
                runs[order[0]].1.max(runs[order[1]].1),
            );
            for first in 1..k {
                out.push(format!(
                    "{}{}{}{}{}",
                    &line[..a],
                    "<".repeat(first),
                    &line[a..b],
                    "<".repeat(k - first),
                    &line[b..]
                ));
            }
        }
    } else {
        let k = n - len;
        for &r in &order {
            let (s, e) = runs[r];
            if e - s > k {
                out.push(format!("{}{}", &line[..s], &line[s + k..]));
            }
        }
        // Spurious characters at either end (a border or a stray mark read as text).
        out.push(line[..len].to_string());
        out.push(line[k..].to_string());
    }
    out.dedup();
    out
}

/// Repair by position kind: digits in letter fields and letters in digit fields.
fn repair_kinds(lines: &[String], format: MrzFormat, notes: &mut Vec<String>) -> Vec<String> {
    let lay = layout(format);
    lines
        .iter()
        .zip(lay.iter())
        .enumerate()
        .map(|(li, (line, kinds))| {
            line.chars()
                .zip(kinds.iter())
                .enumerate()
                .map(|(pi, (c, k))| {
                    let r = match k {
                        Kind::Alpha => to_letter_like(c),
                        Kind::Num => to_digit_like(c),
                        Kind::Check if c != '<' => to_digit_like(c),
                        Kind::Sex => match c {
                            'H' | 'N' => 'M',
                            'E' | 'P' => 'F',
                            _ => c,
                        },
                        _ => c,
                    };
                    if r != c {
                        notes.push(format!(
                            "line {} position {}: '{}' read as '{}'",
                            li + 1,
                            pi + 1,
                            c,
                            r
                        ));
                    }
                    r
                })
                .collect()
        })
        .collect()
}

/// Try look-alike substitutions inside `range` of `line` so that `ok` holds,
/// preferring the fewest substitutions. Gives up (returns None) when too ambiguous.
fn search_field<F: Fn(&[String]) -> bool>(
    lines: &[String],
    li: usize,
    range: std::ops::Range<usize>,
    ok: F,
) -> Option<(Vec<String>, usize)> {
    let chars: Vec<char> = lines[li].chars().collect();
    let amb: Vec<(usize, Vec<char>)> = range
        .filter_map(|i| {
            let a = alternatives(chars[i]);
            (a.len() > 1).then_some((i, a))
        })
        .collect();
    if amb.len() > 10 {
        return None;
    }
    // Enumerate by number of substitutions, 1 and 2 (more would make a wrong value plausible).
    let mut best: Option<Vec<String>> = None;
    let mut found = 0;
    for subs in 1..=2usize {
        let mut combos: Vec<Vec<(usize, char)>> = Vec::new();
        for (ai, (i, alts)) in amb.iter().enumerate() {
            for &a in &alts[1..] {
                if subs == 1 {
                    combos.push(vec![(*i, a)]);
                } else {
                    for (j, alts2) in amb.iter().skip(ai + 1) {
                        for &b in &alts2[1..] {
                            combos.push(vec![(*i, a), (*j, b)]);
                        }
                    }
                }
            }
        }
        for combo in combos {
            let mut c2 = chars.clone();
            for (i, a) in &combo {
                c2[*i] = *a;
            }
            let mut cand = lines.to_vec();
            cand[li] = c2.into_iter().collect();
            if ok(&cand) {
                found += 1;
                if best.is_none() {
                    best = Some(cand);
                }
            }
        }
        if found > 0 {
            // Two different repairs with the same cost both satisfy the check: refuse to guess.
            return if found == 1 {
                best.map(|b| (b, subs))
            } else {
                None
            };
        }
    }
    None
}

/// Character positions covered by each check digit: (line, range, check line, check index, filler_ok).
fn check_spans(format: MrzFormat) -> Vec<(usize, std::ops::Range<usize>, usize, usize, bool)> {
    match format {
        MrzFormat::Td1 => vec![
            (0, 5..14, 0, 14, false),
            (1, 0..6, 1, 6, false),
            (1, 8..14, 1, 14, false),
        ],
        MrzFormat::Td3 => vec![
            (1, 0..9, 1, 9, false),
            (1, 13..19, 1, 19, false),
            (1, 21..27, 1, 27, false),
            (1, 28..42, 1, 42, true),
        ],
        _ => vec![
            (1, 0..9, 1, 9, false),
            (1, 13..19, 1, 19, false),
            (1, 21..27, 1, 27, false),
        ],
    }
}

fn span_ok(lines: &[String], span: &(usize, std::ops::Range<usize>, usize, usize, bool)) -> bool {
    let (li, r, cl, ci, filler_ok) = span;
    let data = &lines[*li][r.clone()];
    let printed = lines[*cl].as_bytes()[*ci] as char;
    CheckDigit::new(data, printed, *filler_ok).valid
}

/// Repair one exact-length candidate using the check digits; returns the parsed MRZ.
fn repair_candidate(lines: Vec<String>, format: MrzFormat, today: NaiveDate) -> Option<Mrz> {
    let mut notes = Vec::new();
    let mut lines = repair_kinds(&lines, format, &mut notes);
    // Each check digit guards its own field: repair alphanumeric fields against it.
    for span in check_spans(format) {
        if span_ok(&lines, &span) {
            continue;
        }
        let (li, r, _, _, _) = span.clone();
        if let Some((fixed, _)) = search_field(&lines, li, r, |c| span_ok(c, &span)) {
            notes.push(format!("line {} repaired by check digit", li + 1));
            lines = fixed;
        }
    }
    let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
    let mut mrz = parse(&refs, today).ok()?;
    // Optional data is guarded only by the composite check digit.
    if mrz.composite_check.is_some_and(|c| !c.valid) {
        let opt_range = match format {
            MrzFormat::Td1 => Some((0usize, 15..30)),
            MrzFormat::Td2 => Some((1, 28..35)),
            _ => None,
        };
        let mut extra = opt_range.into_iter().collect::<Vec<_>>();
        if format == MrzFormat::Td1 {
            extra.push((1, 18..29));
        }
        for (li, r) in extra {
            let ok = |c: &[String]| {
                let refs: Vec<&str> = c.iter().map(|s| s.as_str()).collect();
                parse(&refs, today).is_ok_and(|m| m.composite_check.is_some_and(|cc| cc.valid))
            };
            if let Some((fixed, _)) = search_field(&lines, li, r, ok) {
                notes.push(format!(
                    "line {} optional data repaired by composite check digit",
                    li + 1
                ));
                let refs: Vec<&str> = fixed.iter().map(|s| s.as_str()).collect();
                mrz = parse(&refs, today).ok()?;
                break;
            }
        }
    }
    mrz.warnings.extend(notes);
    Some(mrz)
}

/// Parse OCR'd MRZ lines (2 or 3, any length), repairing look-alike characters and
/// collapsed filler runs where the check digits confirm the repair.
pub fn repair_and_parse(raw_lines: &[String], today: NaiveDate) -> Result<Mrz, MrzError> {
    let lines: Vec<String> = raw_lines
        .iter()
        .map(|l| normalize_line(l))
        .filter(|l| !l.is_empty())
        .collect();
    let format = match lines.len() {
        3 => MrzFormat::Td1,
        2 => {
            // The longer line decides: OCR drops characters (collapsed fillers) but rarely adds them.
            let longest = lines[0].len().max(lines[1].len());
            let first = lines[0].chars().next().unwrap_or('<');
            let long = longest >= 40;
            match (long, first) {
                (true, 'V') => MrzFormat::MrvA,
                (true, _) => MrzFormat::Td3,
                (false, 'V') => MrzFormat::MrvB,
                (false, _) => MrzFormat::Td2,
            }
        }
        n => {
            return Err(MrzError::UnknownFormat(
                n,
                lines.first().map(|l| l.len()).unwrap_or(0),
            ))
        }
    };
    let len = format.line_len();
    let variants: Vec<Vec<String>> = lines.iter().map(|l| length_variants(l, len)).collect();
    // Cartesian product of per-line variants (small: a few per line).
    let mut combos: Vec<Vec<String>> = vec![Vec::new()];
    for v in &variants {
        let mut next = Vec::new();
        for c in &combos {
            for x in v {
                let mut c2 = c.clone();
                c2.push(x.clone());
                next.push(c2);
            }
        }
        combos = next;
        if combos.len() > 400 {
            combos.truncate(400);
        }
    }
    let mut best: Option<Mrz> = None;
    for combo in combos {
        // A filler inserted in the wrong place moves fixed fields; the check digits decide.
        if let Some(m) = repair_candidate(combo, format, today) {
            let better = match &best {
                None => true,
                Some(b) => {
                    (
                        m.is_valid(),
                        m.valid_checks(),
                        std::cmp::Reverse(m.errors.len()),
                    ) > (
                        b.is_valid(),
                        b.valid_checks(),
                        std::cmp::Reverse(b.errors.len()),
                    )
                }
            };
            if better {
                best = Some(m);
            }
        }
    }
    let mut mrz = best.ok_or(MrzError::UnknownFormat(lines.len(), len))?;
    let raw_joined: Vec<String> = lines.clone();
    if mrz.lines != raw_joined {
        mrz.warnings
            .push("MRZ text repaired from OCR output".into());
    }
    Ok(mrz)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    // ICAO 9303 Part 4 Appendix A specimen (TD3).
    const TD3_L1: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
    const TD3_L2: &str = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";
    // ICAO 9303 Part 5 specimen (TD1).
    const TD1: [&str; 3] = [
        "I<UTOD231458907<<<<<<<<<<<<<<<",
        "7408122F1204159UTO<<<<<<<<<<<6",
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    ];
    // ICAO 9303 Part 6 specimen (TD2).
    const TD2: [&str; 2] = [
        "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
        "D231458907UTO7408122F1204159<<<<<<<6",
    ];
    // ICAO 9303 Part 7 specimens (MRV-A and MRV-B).
    const MRVA: [&str; 2] = [
        "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L8988901C4XXX4009078F96121096ZE184226B<<<<<<",
    ];
    const MRVB: [&str; 2] = [
        "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
        "L8988901C4XXX4009078F9612109<<<<<<<<",
    ];

    #[test]
    fn check_digit_examples() {
        assert_eq!(check_digit("L898902C3"), 6);
        assert_eq!(check_digit("740812"), 2);
        assert_eq!(check_digit("120415"), 9);
        assert_eq!(check_digit("ZE184226B<<<<<"), 1);
        assert_eq!(check_digit("<<<<<<<<<"), 0);
    }

    #[test]
    fn td3_specimen() {
        let m = parse(&[TD3_L1, TD3_L2], today()).unwrap();
        assert!(m.is_valid(), "{:?}", m.errors);
        assert_eq!(m.format, MrzFormat::Td3);
        assert_eq!(m.document_code, "P");
        assert_eq!(m.issuing_state, "UTO");
        assert_eq!(m.surname, "ERIKSSON");
        assert_eq!(m.given_names, "ANNA MARIA");
        assert_eq!(m.document_number, "L898902C3");
        assert_eq!(m.nationality, "UTO");
        assert_eq!(m.birth_date, NaiveDate::from_ymd_opt(1974, 8, 12));
        assert_eq!(m.expiry_date, NaiveDate::from_ymd_opt(2012, 4, 15));
        assert_eq!(m.sex, 'F');
        assert_eq!(m.personal_number, "ZE184226B");
        assert_eq!(m.composite_check.unwrap().printed, '0');
        assert!(m.personal_number_check.unwrap().valid);
        assert_eq!(m.mrz_key(), "L898902C367408122120415 9".replace(' ', ""));
        assert_eq!(m.document_type_display(), "Passport");
    }

    #[test]
    fn td1_specimen() {
        let m = parse(&TD1, today()).unwrap();
        assert!(m.is_valid(), "{:?}", m.errors);
        assert_eq!(m.format, MrzFormat::Td1);
        assert_eq!(m.document_number, "D23145890");
        assert_eq!(m.surname, "ERIKSSON");
        assert_eq!(m.given_names, "ANNA MARIA");
        assert_eq!(m.nationality, "UTO");
        assert_eq!(m.sex, 'F');
        assert_eq!(m.document_type_display(), "Identity Card");
    }

    #[test]
    fn td2_specimen() {
        let m = parse(&TD2, today()).unwrap();
        assert!(m.is_valid(), "{:?}", m.errors);
        assert_eq!(m.format, MrzFormat::Td2);
        assert_eq!(m.document_number, "D23145890");
        assert_eq!(m.given_names, "ANNA MARIA");
    }

    #[test]
    fn mrv_specimens() {
        let a = parse(&MRVA, today()).unwrap();
        assert!(a.is_valid(), "{:?}", a.errors);
        assert_eq!(a.format, MrzFormat::MrvA);
        assert_eq!(a.document_number, "L8988901C");
        assert_eq!(a.nationality, "XXX");
        assert_eq!(a.birth_date, NaiveDate::from_ymd_opt(1940, 9, 7));
        assert_eq!(a.expiry_date, NaiveDate::from_ymd_opt(1996, 12, 10));
        assert_eq!(a.optional_data, "6ZE184226B");
        assert!(a.composite_check.is_none());
        assert_eq!(a.document_type_display(), "Visa");
        let b = parse(&MRVB, today()).unwrap();
        assert!(b.is_valid(), "{:?}", b.errors);
        assert_eq!(b.format, MrzFormat::MrvB);
    }

    #[test]
    fn td1_document_number_overflow() {
        // 12-character number: 9 in place, check position '<', then "456" + check digit in optional data.
        let num = "D23145890456";
        let cd = check_digit(num);
        let l1 = format!("I<UTOD23145890<456{cd}<<<<<<<<<<<");
        let l2_body = "7408122F1204159UTO<<<<<<<<<<<";
        let comp = check_digit(&format!(
            "{}{}{}{}",
            &l1[5..30],
            &l2_body[0..7],
            &l2_body[8..15],
            &l2_body[18..29]
        ));
        let l2 = format!("{l2_body}{comp}");
        let m = parse(&[&l1, &l2, TD1[2]], today()).unwrap();
        assert!(m.is_valid(), "{:?}", m.errors);
        assert_eq!(m.document_number, num);
        assert_eq!(m.optional_data, "");
    }

    #[test]
    fn filler_only_names_and_filler_check_digit() {
        // Personal number all filler with '<' as its check digit is valid (ICAO 9303-4 §4.2.2).
        let l2_body = "L898902C36UTO7408122F1204159<<<<<<<<<<<<<<<";
        let comp = check_digit(&format!(
            "{}{}{}",
            &l2_body[0..10],
            &l2_body[13..20],
            &l2_body[21..43]
        ));
        let l2 = format!("{l2_body}{comp}");
        let l1 = "P<UTO<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<";
        let m = parse(&[l1, &l2], today()).unwrap();
        assert!(m.is_valid(), "{:?}", m.errors);
        assert_eq!(m.surname, "");
        assert_eq!(m.given_names, "");
        assert_eq!(m.personal_number, "");
        assert_eq!(m.personal_number_check.unwrap().printed, '<');
    }

    #[test]
    fn bad_check_digit_is_reported() {
        let l2 = TD3_L2.replace("L898902C36", "L898902C35");
        let m = parse(&[TD3_L1, &l2], today()).unwrap();
        assert!(!m.is_valid());
        assert!(m.errors.iter().any(|e| e.contains("document number")));
    }

    #[test]
    fn century_resolution() {
        let t = today();
        assert_eq!(
            resolve_date("260101", t, true),
            NaiveDate::from_ymd_opt(2026, 1, 1)
        );
        assert_eq!(
            resolve_date("261201", t, true),
            NaiveDate::from_ymd_opt(1926, 12, 1)
        );
        assert_eq!(
            resolve_date("300101", t, true),
            NaiveDate::from_ymd_opt(1930, 1, 1)
        );
        assert_eq!(
            resolve_date("360101", t, false),
            NaiveDate::from_ymd_opt(2036, 1, 1)
        );
        assert_eq!(
            resolve_date("990101", t, false),
            NaiveDate::from_ymd_opt(1999, 1, 1)
        );
        assert_eq!(resolve_date("991301", t, false), None);
        assert_eq!(resolve_date("99<<01", t, true), None);
    }

    #[test]
    fn german_d_code() {
        let l1 = "IDD<<T220001293<<<<<<<<<<<<<<<";
        let body = "6408125<2010315D<<<<<<<<<<<<<";
        let comp = check_digit(&format!(
            "{}{}{}{}",
            &l1[5..30],
            &body[0..7],
            &body[8..15],
            &body[18..29]
        ));
        let l2 = format!("{body}{comp}");
        let l3 = "MUSTERMANN<<ERIKA<<<<<<<<<<<<<";
        let m = parse(&[l1, &l2, l3], today()).unwrap();
        assert!(m.is_valid(), "{:?}", m.errors);
        assert_eq!(m.issuing_state, "D");
        assert_eq!(m.issuing_state_name(), Some("Germany"));
        assert_eq!(m.sex, 'U');
    }

    #[test]
    fn repair_ocr_confusions() {
        // UTO read as UT0, ERIKSSON as ERIKSS0N, fillers collapsed, a digit/letter swap in the number.
        let l1 = "P<UT0ERIKSS0N<<ANNA<MARIA<<<<<<<<<<<<".to_string();
        let l2 = "L8989O2C36UT07408122F12O4159ZE184226B<<<<10".to_string();
        let m = repair_and_parse(&[l1, l2], today()).unwrap();
        assert!(m.is_valid(), "{:?} {:?}", m.errors, m.lines);
        assert_eq!(m.lines, vec![TD3_L1.to_string(), TD3_L2.to_string()]);
        assert_eq!(m.surname, "ERIKSSON");
        assert_eq!(m.issuing_state, "UTO");
    }

    #[test]
    fn repair_td1_with_spaces_and_guillemets() {
        let lines = vec![
            "I<UTOD23145890 7<<<<<<<<<<<<<<<".to_string(),
            "74O8122F12O4159UT0«<<<<<<<<<<6".to_string(),
            "ERIKSS0N<<ANNA<MAR1A<<<<<<<<<<".to_string(),
        ];
        let m = repair_and_parse(&lines, today()).unwrap();
        assert!(m.is_valid(), "{:?} {:?}", m.errors, m.lines);
        assert_eq!(m.given_names, "ANNA MARIA");
        assert_eq!(m.document_number, "D23145890");
    }

    #[test]
    fn unrepairable_reports_failure_not_a_guess() {
        // Birth date digit misread as another digit: no look-alike repair applies.
        let l2 = TD3_L2.replace("7408122", "7408172");
        let m = repair_and_parse(&[TD3_L1.to_string(), l2], today()).unwrap();
        assert!(!m.is_valid());
        assert!(m.errors.iter().any(|e| e.contains("birth date")));
    }

    #[test]
    fn specks_after_the_given_names_are_not_names() {
        assert_eq!(
            split_names("ROSSI<<GIULIA<<<C<<<<<<<<<<<C<K"),
            ("ROSSI".into(), "GIULIA".into())
        );
        assert_eq!(
            split_names("VAN<DEN<BERG<<PIETER<JAN<<<<<"),
            ("VAN DEN BERG".into(), "PIETER JAN".into())
        );
        // An extra filler read in the separator does not lose the given names.
        assert_eq!(
            split_names("SMITH<<<JOHN<<<<"),
            ("SMITH".into(), "JOHN".into())
        );
    }

    #[test]
    fn filler_k_variants_fewest_changes_first() {
        let v = filler_k_variants("P<UTOKAN<KATE<<K<<<", 5);
        // The issuing state's letters are not names; KAN's K borders no filler.
        assert_eq!(v.len(), 3);
        assert_eq!(v[0], "P<UTOKAN<<ATE<<K<<<");
        assert_eq!(v[1], "P<UTOKAN<KATE<<<<<<");
        assert_eq!(v[2], "P<UTOKAN<<ATE<<<<<<");
        assert!(filler_k_variants("I<UTOD231458907<<<<<<<<<<<<<<<", 0).is_empty());
    }

    /// TD3 line 1 of the specimen with another name field (39 characters, filler-padded).
    fn td3_named(names: &str) -> String {
        format!("P<UTO{names:<<39}")
    }

    #[test]
    fn fillers_read_as_letters_are_never_a_name() {
        // The garbage readings measured on real documents, rebuilt on the specimen (every
        // check digit holds, so only the name rule can refuse them).
        for field in [
            "VADIS<SQUOKKKKK<<K",
            "MEULENDIJK<<KLOESSALBERTINE<K<SKK<KK<SKK",
            "TRAVELER<SHAPPYSS<<SSSSSSSSSSSSSSSSSSSS",
            "ERIKSSONKKANNAKMARIAKKKKKKKKKKKKKKKKKKK",
        ] {
            let l1 = td3_named(&field[..field.len().min(39)]);
            let m = parse(&[&l1, TD3_L2], today()).unwrap();
            assert!(!m.is_valid(), "{field}: {} / {}", m.surname, m.given_names);
            assert!(m.name_doubt.is_some(), "{field}");
            assert!(
                m.errors.iter().any(|e| e.starts_with("name field")),
                "{:?}",
                m.errors
            );
        }
    }

    #[test]
    fn real_names_with_doubled_letters_and_short_parts_are_kept() {
        for (field, surname, given) in [
            ("ERIKSSON<<ANNA<MARIA", "ERIKSSON", "ANNA MARIA"),
            ("ROSSI<<GIULIA<ALESSIA", "ROSSI", "GIULIA ALESSIA"),
            ("NGUYEN<<VAN<AN", "NGUYEN", "VAN AN"),
            ("XU<<LI", "XU", "LI"),
            ("O<BRIEN<<SEAN", "O BRIEN", "SEAN"),
        ] {
            let l1 = td3_named(field);
            let m = parse(&[&l1, TD3_L2], today()).unwrap();
            assert!(m.is_valid(), "{field}: {:?}", m.errors);
            assert_eq!(
                (m.surname.as_str(), m.given_names.as_str()),
                (surname, given)
            );
        }
    }

    #[test]
    fn long_name_truncation_flag() {
        let l1 = "P<UTOVANDERWOUDENBERGHE<<ALEXANDRA<KATHERINE";
        assert_eq!(l1.len(), 44);
        let m = parse(&[l1, TD3_L2], today()).unwrap();
        assert!(m.name_truncated);
        assert_eq!(m.given_names, "ALEXANDRA KATHERINE");
    }
}
