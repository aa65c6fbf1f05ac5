//! OFAC SDN CSV importer (`sdn.csv`: no header, 12 columns, `-0-` = empty),
//! including the free-text Remarks column: aliases, dates of birth,
//! nationality, citizenship and document numbers.

use std::collections::HashMap;
use std::io::Read;

use crate::country::country_code;
use crate::date::PartialDate;
use crate::model::{Dataset, Entity, ImportError, ImportProgress, ImportReport, Schema};

const COLUMNS: usize = 12;

/// Imports an SDN CSV into a new dataset named `name`.
pub fn import_ofac_sdn<R: Read>(
    reader: R,
    name: &str,
    version: &str,
    date: Option<&str>,
) -> (Dataset, ImportReport) {
    import_ofac_sdn_with_progress(reader, name, version, date, &mut |_| {})
}

/// As [`import_ofac_sdn`], calling `progress` every 1,000 rows and at the end.
pub fn import_ofac_sdn_with_progress<R: Read>(
    reader: R,
    name: &str,
    version: &str,
    date: Option<&str>,
    progress: &mut dyn FnMut(ImportProgress),
) -> (Dataset, ImportReport) {
    let mut ds = Dataset::new(name, version, date);
    let mut report = ImportReport::default();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut rec = csv::ByteRecord::new();
    loop {
        let line = rdr.position().line();
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                report.rows_read += 1;
                report.errors.push(ImportError {
                    line: e.position().map(|p| p.line()).unwrap_or(line),
                    message: format!("malformed CSV: {e}"),
                });
                // The csv reader resynchronises at the next record.
                continue;
            }
        }
        let line = rec.position().map(|p| p.line()).unwrap_or(line);
        // The Treasury file ends with a DOS end-of-file marker (0x1A).
        if rec.len() == 1 && rec[0].iter().all(|b| *b == 0x1a || b.is_ascii_whitespace()) {
            report.skip("end-of-file marker");
            continue;
        }
        report.rows_read += 1;
        if report.rows_read.is_multiple_of(1000) {
            progress(ImportProgress {
                rows: report.rows_read,
                bytes: rec.position().map(|p| p.byte()).unwrap_or(0),
            });
        }
        let fields: Vec<String> = rec.iter().map(decode).collect();
        match parse_row(&fields, name) {
            Ok(entity) => {
                if let Some(first) = seen.get(&entity.id) {
                    report.errors.push(ImportError {
                        line,
                        message: format!("duplicate ent_num (first on line {first})"),
                    });
                    continue;
                }
                seen.insert(entity.id.clone(), line);
                ds.entities.push(entity);
                report.entities_imported += 1;
            }
            Err(message) => report.errors.push(ImportError { line, message }),
        }
    }
    progress(ImportProgress {
        rows: report.rows_read,
        bytes: rdr.position().byte(),
    });
    (ds, report)
}

/// SDN files are UTF-8 in practice; older ones were Latin-1, which is
/// decoded byte-for-byte rather than rejected.
fn decode(b: &[u8]) -> String {
    let s = match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => b.iter().map(|&c| c as char).collect(),
    };
    let t = s.trim();
    if t == "-0-" {
        String::new()
    } else {
        t.to_string()
    }
}

fn parse_row(f: &[String], dataset: &str) -> Result<Entity, String> {
    if f.len() != COLUMNS {
        return Err(format!("expected {COLUMNS} columns, found {}", f.len()));
    }
    let ent_num: u64 = f[0]
        .parse()
        .map_err(|_| format!("ent_num {:?} is not a number", f[0]))?;
    let sdn_name = &f[1];
    if sdn_name.is_empty() {
        return Err(format!("ent_num {ent_num}: empty SDN_Name"));
    }
    let schema = match f[2].to_ascii_lowercase().as_str() {
        "individual" => Schema::Person,
        "vessel" => Schema::Vessel,
        "aircraft" => Schema::Airplane,
        "" => Schema::Organization,
        other => return Err(format!("ent_num {ent_num}: unknown SDN_Type {other:?}")),
    };
    let mut e = Entity::new(format!("ofac-sdn-{ent_num}"), schema);
    e.caption = sdn_name.clone();
    e.datasets = vec![dataset.to_string()];
    let p = &mut e.properties;
    p.add("name", sdn_name.as_str());
    if schema == Schema::Person {
        if let Some((last, first)) = sdn_name.split_once(',') {
            p.add("lastName", last.trim());
            p.add("firstName", first.trim());
        }
    }
    p.add("topics", "sanction");
    for prog in f[3]
        .split(']')
        .map(|s| s.trim_matches(|c| c == '[' || c == ' '))
    {
        p.add("program", prog);
    }
    p.add("position", f[4].as_str());
    p.add("callSign", f[5].as_str());
    p.add("type", f[6].as_str());
    p.add("tonnage", f[7].as_str());
    p.add("grossRegisteredTonnage", f[8].as_str());
    if let Some(c) = country_code(&f[9]) {
        p.add("flag", c.to_ascii_lowercase());
    }
    p.add("owner", f[10].as_str());
    parse_remarks(&f[11], &mut e);
    Ok(e)
}

/// Splits Remarks into `;`-separated facts and maps the recognised ones to
/// FtM properties; everything else is kept verbatim in `notes`.
pub fn parse_remarks(remarks: &str, e: &mut Entity) {
    for raw in split_remarks(remarks) {
        let item = raw.trim().trim_end_matches('.').trim();
        if item.is_empty() {
            continue;
        }
        let item_noalt = item.strip_prefix("alt. ").unwrap_or(item);
        if let Some(rest) = strip_any(item, &["a.k.a.", "n.k.a."]) {
            if let Some(alias) = quoted(rest) {
                e.properties.add("alias", alias);
                continue;
            }
        }
        if let Some(rest) = item.strip_prefix("f.k.a.") {
            if let Some(alias) = quoted(rest) {
                e.properties.add("previousName", alias);
                continue;
            }
        }
        if let Some(rest) = item_noalt.strip_prefix("DOB ") {
            let dates = parse_dob(rest);
            if !dates.is_empty() {
                for d in dates {
                    e.properties.add("birthDate", d);
                }
                continue;
            }
        }
        if let Some(rest) = item_noalt.strip_prefix("POB ") {
            e.properties.add("birthPlace", rest);
            continue;
        }
        if let Some(rest) = item_noalt.strip_prefix("nationality ") {
            add_country(e, "nationality", rest);
            continue;
        }
        if let Some(rest) = item_noalt.strip_prefix("citizen ") {
            add_country(e, "citizenship", rest);
            continue;
        }
        if let Some(rest) = item_noalt.strip_prefix("Gender ") {
            e.properties.add("gender", rest.to_ascii_lowercase());
            continue;
        }
        if let Some((prop, value)) = document(item_noalt) {
            e.properties.add(prop, value);
            continue;
        }
        e.properties.add("notes", item);
    }
}

/// Splits on `;` except inside single-quoted aliases.
fn split_remarks(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quote = false;
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            // An apostrophe inside a word (ABU-'UMAR) does not open a quote:
            // only one preceded by a space or at the start does.
            b'\'' if !in_quote && (i == 0 || bytes[i - 1] == b' ') => in_quote = true,
            b'\''
                if in_quote
                    && (i + 1 == bytes.len()
                        || matches!(bytes[i + 1], b';' | b'.' | b' ' | b',' | b')')) =>
            {
                in_quote = false
            }
            b';' if !in_quote => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn strip_any<'a>(s: &'a str, prefixes: &[&str]) -> Option<&'a str> {
    prefixes.iter().find_map(|p| s.strip_prefix(p))
}

fn quoted(s: &str) -> Option<&str> {
    let a = s.find('\'')?;
    let b = s.rfind('\'')?;
    (b > a + 1).then(|| s[a + 1..b].trim())
}

fn add_country(e: &mut Entity, prop: &str, text: &str) {
    match country_code(text) {
        Some(c) => e.properties.add(prop, c.to_ascii_lowercase()),
        // Unresolvable country text is kept so that nothing is lost.
        None => e.properties.add(prop, text),
    }
}

/// Recognises "Passport X (Country)", "National ID No. X (Country)",
/// "Tax ID No. X", "Registration Number X", "Cedula No. X" and similar.
fn document(item: &str) -> Option<(&'static str, String)> {
    const LABELS: &[(&str, &str)] = &[
        ("Passport No.", "passportNumber"),
        ("Passport", "passportNumber"),
        ("Diplomatic Passport", "passportNumber"),
        ("National ID No.", "idNumber"),
        ("Identification Number", "idNumber"),
        ("Personal ID Card", "idNumber"),
        ("Cedula No.", "idNumber"),
        ("Kenyan ID No.", "idNumber"),
        ("D.N.I.", "idNumber"),
        ("C.U.R.P. #", "idNumber"),
        ("SSN", "idNumber"),
        ("Tax ID No.", "taxNumber"),
        ("RFC", "taxNumber"),
        ("NIT #", "taxNumber"),
        ("Registration Number", "registrationNumber"),
        ("Registration ID", "registrationNumber"),
        ("Company Number", "registrationNumber"),
    ];
    for (label, prop) in LABELS {
        if let Some(rest) = item.strip_prefix(label) {
            if !rest.starts_with(' ') {
                continue;
            }
            let value = rest.split('(').next().unwrap_or("").trim();
            let value = value.split(" issued").next().unwrap_or(value).trim();
            let value = value.split(" expires").next().unwrap_or(value).trim();
            if value.is_empty() || !value.bytes().any(|b| b.is_ascii_digit()) {
                return None;
            }
            return Some((prop, value.to_string()));
        }
    }
    None
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn parse_simple_date(s: &str) -> Option<PartialDate> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let month = |m: &str| {
        MONTHS
            .iter()
            .position(|x| m.to_ascii_lowercase().starts_with(x))
            .map(|i| i as u8 + 1)
    };
    let year = |y: &str| y.parse::<u16>().ok().filter(|y| (1000..=2999).contains(y));
    match parts.as_slice() {
        [y] => Some(PartialDate {
            year: year(y)?,
            month: None,
            day: None,
        }),
        [m, y] => Some(PartialDate {
            year: year(y)?,
            month: Some(month(m)?),
            day: None,
        }),
        [d, m, y] => Some(PartialDate {
            year: year(y)?,
            month: Some(month(m)?),
            day: Some(d.parse::<u8>().ok().filter(|d| (1..=31).contains(d))?),
        }),
        _ => None,
    }
}

/// Parses an OFAC DOB expression into FtM date prefixes: exact dates,
/// month-years, years, "circa YYYY" (YYYY±1) and "A to B" ranges (every
/// year of the range, at most 15).
pub fn parse_dob(s: &str) -> Vec<String> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix("circa ") {
        return match parse_simple_date(rest) {
            Some(d) => (d.year - 1..=d.year + 1).map(|y| y.to_string()).collect(),
            None => Vec::new(),
        };
    }
    if let Some((a, b)) = s.split_once(" to ") {
        let (Some(a), Some(b)) = (parse_simple_date(a), parse_simple_date(b)) else {
            return Vec::new();
        };
        if a.year == b.year && a.month.is_some() && a.month == b.month {
            return vec![format!("{:04}-{:02}", a.year, a.month.unwrap_or(1))];
        }
        if b.year < a.year || b.year - a.year > 15 {
            return Vec::new();
        }
        return (a.year..=b.year).map(|y| y.to_string()).collect();
    }
    parse_simple_date(s)
        .map(|d| vec![d.to_string()])
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dob_expressions() {
        assert_eq!(parse_dob("10 Dec 1948"), ["1948-12-10"]);
        assert_eq!(parse_dob("1946"), ["1946"]);
        assert_eq!(parse_dob("Dec 1960"), ["1960-12"]);
        assert_eq!(parse_dob("circa 1951"), ["1950", "1951", "1952"]);
        assert_eq!(parse_dob("1960 to 1962"), ["1960", "1961", "1962"]);
        assert_eq!(parse_dob("01 Jan 1960 to 31 Dec 1961"), ["1960", "1961"]);
        assert_eq!(parse_dob("06 Mar 1960 to 10 Mar 1960"), ["1960-03"]);
        assert!(parse_dob("unknown").is_empty());
    }

    #[test]
    fn parses_rows_and_remarks() {
        let csv = "2676,\"AL ZAWAHIRI, Dr. Ayman\",\"individual\",\"SDGT\",\"Leader\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB 19 Jun 1951; POB Giza, Egypt; Passport 1084010 (Egypt); alt. Passport 19820215; nationality Egypt; a.k.a. 'ABU-'UMAR'; National ID No. 12345 (Egypt); Gender Male.\"\n\
306,\"BANCO NACIONAL DE CUBA\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"a.k.a. 'BNC'.\"\n\
xx,\"BAD\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n\
307,\"SHORT ROW\",-0-\n\
308,\"\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n\
\x1a";
        let (ds, rep) = import_ofac_sdn(csv.as_bytes(), "ofac", "2024-05-03", Some("2024-05-03"));
        assert_eq!(ds.entities.len(), 2);
        assert_eq!(rep.rows_read, 5);
        let lines: Vec<u64> = rep.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5], "{:?}", rep.errors);
        assert_eq!(rep.skipped, vec![("end-of-file marker".to_string(), 1)]);
        let z = &ds.entities[0];
        assert_eq!(z.schema, Schema::Person);
        assert_eq!(z.properties.get("birthDate"), ["1951-06-19"]);
        assert_eq!(z.properties.get("passportNumber"), ["1084010", "19820215"]);
        assert_eq!(z.properties.get("nationality"), ["eg"]);
        assert_eq!(z.properties.get("alias"), ["ABU-'UMAR"]);
        assert_eq!(z.properties.get("idNumber"), ["12345"]);
        assert_eq!(z.properties.get("gender"), ["male"]);
        assert_eq!(z.properties.get("birthPlace"), ["Giza, Egypt"]);
        assert_eq!(z.properties.get("lastName"), ["AL ZAWAHIRI"]);
        let b = &ds.entities[1];
        assert_eq!(b.schema, Schema::Organization);
        assert_eq!(b.properties.get("alias"), ["BNC"]);
        assert_eq!(b.properties.get("program"), ["CUBA"]);
    }
}
