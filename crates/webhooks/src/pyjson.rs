//! Byte-exact re-implementation of Python's `json.dumps(obj, sort_keys=True, separators=(",", ":"))`
//! over a [`serde_json::Value`].
//!
//! Why our own serializer instead of `serde_json::to_string`:
//! * serde_json renders floats with `ryu` (`1e-7`, `1e16`), Python renders them with `float.__repr__`
//!   (`1e-07`, `1e+16`); the raw-body signature (`X-Signature`) covers those bytes, so they must match.
//! * serde_json never escapes non-ASCII; Didit's raw body uses `ensure_ascii=True` (`\u00e9`, surrogate
//!   pairs for astral characters) while the V2 canonical form keeps Unicode as UTF-8.
//! * Key order: we sort keys ourselves, so the output does not depend on whether some other crate in
//!   the workspace turns on serde_json's `preserve_order` (Cargo unifies features workspace-wide).
//!   Sorting by Rust `str` order is sorting by UTF-8 bytes, which equals Python's code-point order.
//!
//! Why *not* serde_json's `arbitrary_precision`: it would change `Number` for the whole workspace
//! (feature unification) and is not needed. Without it serde_json already keeps the int/float
//! distinction that matters here: `92.0` parses to an f64 (`is_f64()`), `92` to an integer, so
//! `92.0` re-serialises as `92.0` in the raw body and as `92` in the V2 form, exactly like Python.
//! Limitation (documented in the README): integers outside the i64/u64 range parse as f64 without
//! that feature, whereas Python keeps them as exact ints. Verity never produces such numbers.

use serde_json::{Map, Number, Value};
use std::fmt::Write as _;

/// Which of the two Didit serialisations to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonStyle {
    /// Raw wire body: `json.dumps(payload, sort_keys=True, separators=(",",":"), ensure_ascii=True)`.
    RawBody,
    /// X-Signature-V2 canonical form:
    /// `json.dumps(shorten_floats(payload), sort_keys=True, separators=(",",":"), ensure_ascii=False)`.
    CanonicalV2,
}

/// The raw body bytes Didit puts on the wire (ASCII only, floats as Python's `repr`).
pub fn to_raw_body(value: &Value) -> String {
    to_python_json(value, JsonStyle::RawBody)
}

/// The canonical JSON that `X-Signature-V2` is computed over (UTF-8, whole floats as integers).
pub fn to_canonical_v2(value: &Value) -> String {
    to_python_json(value, JsonStyle::CanonicalV2)
}

/// Serialise `value` in the given style.
pub fn to_python_json(value: &Value, style: JsonStyle) -> String {
    to_python_json_stamped(value, style, None, 256)
}

/// Like [`to_python_json`], but if `value` is an object its top-level `timestamp` is written as
/// `timestamp` (inserted if absent) without cloning or mutating the payload: how a stored event is
/// re-signed for each attempt. `capacity` pre-sizes the output (e.g. the other form's length).
pub fn to_python_json_stamped(
    value: &Value,
    style: JsonStyle,
    timestamp: Option<i64>,
    capacity: usize,
) -> String {
    let mut out = String::with_capacity(capacity);
    match (value, timestamp) {
        (Value::Object(map), Some(ts)) => write_object(&mut out, map, style, Some(ts)),
        _ => write_value(&mut out, value, style),
    }
    out
}

fn write_value(out: &mut String, value: &Value, style: JsonStyle) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n, style),
        Value::String(s) => write_string(out, s, style == JsonStyle::RawBody),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item, style);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map, style, None),
    }
}

fn write_object(
    out: &mut String,
    map: &Map<String, Value>,
    style: JsonStyle,
    timestamp: Option<i64>,
) {
    out.push('{');
    // serde_json's default map is a BTreeMap, already in byte (= code point) order; only if some
    // crate in the workspace enables `preserve_order` do we need to sort a copy of the entries.
    let mut keys = map.keys();
    let sorted = match keys.next() {
        None => true,
        Some(first) => keys
            .try_fold(first, |prev, k| {
                (prev.as_bytes() < k.as_bytes()).then_some(k)
            })
            .is_some(),
    };
    if sorted {
        write_entries(out, map.iter(), style, timestamp);
    } else {
        let mut entries: Vec<(&String, &Value)> = map.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        write_entries(out, entries.into_iter(), style, timestamp);
    }
    out.push('}');
}

fn write_entries<'a>(
    out: &mut String,
    entries: impl Iterator<Item = (&'a String, &'a Value)>,
    style: JsonStyle,
    mut timestamp: Option<i64>,
) {
    let ascii = style == JsonStyle::RawBody;
    let mut first = true;
    let write_ts = |out: &mut String, first: &mut bool, ts: i64| {
        if !std::mem::take(first) {
            out.push(',');
        }
        out.push_str("\"timestamp\":");
        out.push_str(itoa::Buffer::new().format(ts));
    };
    for (k, v) in entries {
        if let Some(ts) = timestamp {
            // Keys arrive sorted: emit the override where "timestamp" belongs in the order.
            match k.as_bytes().cmp(b"timestamp") {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => {
                    write_ts(out, &mut first, ts);
                    timestamp = None;
                    continue;
                }
                std::cmp::Ordering::Greater => {
                    write_ts(out, &mut first, ts);
                    timestamp = None;
                }
            }
        }
        if !std::mem::take(&mut first) {
            out.push(',');
        }
        write_string(out, k, ascii);
        out.push(':');
        write_value(out, v, style);
    }
    if let Some(ts) = timestamp {
        write_ts(out, &mut first, ts);
    }
}

fn write_number(out: &mut String, n: &Number, style: JsonStyle) {
    if let Some(i) = n.as_i64() {
        out.push_str(itoa::Buffer::new().format(i));
    } else if let Some(u) = n.as_u64() {
        out.push_str(itoa::Buffer::new().format(u));
    } else if let Some(f) = n.as_f64() {
        if style == JsonStyle::CanonicalV2 && f.is_finite() && f.fract() == 0.0 {
            // Python: `int(f)` for `f.is_integer()`; `int` is exact, e.g. int(1e300) has 301 digits.
            // Rust's `{:.0}` prints the exact decimal value of the f64 too. `-0.0` → `0` like int(-0.0).
            if f == 0.0 {
                out.push('0');
            } else {
                let _ = write!(out, "{f:.0}");
            }
        } else {
            write_python_float_repr(out, f);
        }
    } else {
        // Unreachable without `arbitrary_precision`; keep serde_json's rendering as a fallback.
        let _ = write!(out, "{n}");
    }
}

/// Python's `float.__repr__` (`repr` style 'r' of `PyOS_double_to_string`): the shortest digit string
/// that round-trips, in positional notation when the decimal exponent is in `-4 <= exp < 16`,
/// otherwise scientific with a signed, at-least-two-digit exponent; positional always has a `.`.
pub fn write_python_float_repr(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    // Digits: `ryu` gives the shortest string that round-trips and, among equally short ones, the
    // one closest to the exact binary value — the same choice as Python's repr (David Gay's dtoa,
    // mode 0). Rust's own `{}`/`{:e}` does not always pick the closest last digit
    // (1369152078910407.2 vs .3); tests/json_differential.rs caught that against CPython.
    let mut buf = ryu::Buffer::new();
    let (negative, digits, decpt) = decimal_digits(buf.format_finite(f));
    if negative {
        out.push('-');
    }
    if !(-4 < decpt && decpt <= 16) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = decpt - 1;
        let _ = write!(out, "e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    } else if decpt <= 0 {
        out.push_str("0.");
        for _ in 0..(-decpt) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let decpt = decpt as usize;
        if decpt >= digits.len() {
            out.push_str(&digits);
            for _ in 0..(decpt - digits.len()) {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            out.push_str(&digits[..decpt]);
            out.push('.');
            out.push_str(&digits[decpt..]);
        }
    }
}

/// Splits any decimal rendering (`-0.00012`, `92.0`, `1.5e300`, `1e-7`) into sign, significant
/// digits without leading/trailing zeros, and `decpt` such that value = 0.DIGITS × 10^decpt.
fn decimal_digits(text: &str) -> (bool, String, i32) {
    let (negative, text) = match text.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, text),
    };
    let (mantissa, exp) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().expect("float exponent")),
        None => (text, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut decpt = int_part.len() as i32 + exp;
    let all: String = [int_part, frac_part].concat();
    let trimmed = all.trim_start_matches('0');
    decpt -= (all.len() - trimmed.len()) as i32;
    let digits = trimmed.trim_end_matches('0');
    if digits.is_empty() {
        return (negative, "0".to_owned(), 1);
    }
    (negative, digits.to_owned(), decpt)
}

/// Bytes that start an escape: `"`, `\\`, C0 controls; in ASCII mode also DEL and every non-ASCII
/// byte (a lookup table keeps the hot loop branch-light, as serde_json does).
static NEEDS_ESCAPE_UTF8: [bool; 256] = escape_table(false);
static NEEDS_ESCAPE_ASCII: [bool; 256] = escape_table(true);

const fn escape_table(ascii: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = b < 0x20 || b == b'"' as usize || b == b'\\' as usize || (ascii && b >= 0x7f);
        b += 1;
    }
    t
}

/// Python's `json` string encoder: `encode_basestring_ascii` (`ascii = true`) or `encode_basestring`.
fn write_string(out: &mut String, s: &str, ascii: bool) {
    out.push('"');
    let bytes = s.as_bytes();
    // Scan bytes and copy runs that need no escaping in one go (the common case). Non-ASCII
    // bytes only matter in ASCII mode, where the whole UTF-8 sequence is decoded and escaped.
    let mut run_start = 0;
    let mut i = 0;
    let table = if ascii {
        &NEEDS_ESCAPE_ASCII
    } else {
        &NEEDS_ESCAPE_UTF8
    };
    while i < bytes.len() {
        let b = bytes[i];
        if !table[b as usize] {
            i += 1;
            continue;
        }
        out.push_str(&s[run_start..i]);
        if b >= 0x80 {
            let ch = s[i..].chars().next().expect("i is a char boundary");
            let mut units = [0u16; 2];
            // Python escapes with lower-case hex, astral characters as a UTF-16 surrogate pair.
            for unit in ch.encode_utf16(&mut units) {
                push_u_escape(out, *unit);
            }
            i += ch.len_utf8();
        } else {
            match b {
                b'"' => out.push_str("\\\""),
                b'\\' => out.push_str("\\\\"),
                b'\n' => out.push_str("\\n"),
                b'\r' => out.push_str("\\r"),
                b'\t' => out.push_str("\\t"),
                0x08 => out.push_str("\\b"),
                0x0c => out.push_str("\\f"),
                _ => push_u_escape(out, b as u16),
            }
            i += 1;
        }
        run_start = i;
    }
    out.push_str(&s[run_start..]);
    out.push('"');
}

fn push_u_escape(out: &mut String, unit: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str("\\u");
    for shift in [12, 8, 4, 0] {
        out.push(HEX[((unit >> shift) & 0xf) as usize] as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn repr(f: f64) -> String {
        let mut s = String::new();
        write_python_float_repr(&mut s, f);
        s
    }

    #[test]
    fn float_repr_matches_python() {
        // Expected strings are what CPython 3.11 `repr()` prints.
        let cases: &[(f64, &str)] = &[
            (92.0, "92.0"),
            (0.1, "0.1"),
            (1e-7, "1e-07"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012345"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1234567890123456.7, "1234567890123456.8"),
            (12345678901234567.0, "1.2345678901234568e+16"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (1.5e300, "1.5e+300"),
            (5e-324, "5e-324"),
            (-2.5, "-2.5"),
            (95.4, "95.4"),
            (1369152078910407.2, "1369152078910407.2"),
            (72687867469309.12, "72687867469309.12"),
            (1e22, "1e+22"),
            (123456789.125, "123456789.125"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ];
        for (f, want) in cases {
            assert_eq!(repr(*f), *want, "repr({f:?})");
        }
    }

    #[test]
    fn raw_and_canonical_differ_only_where_python_differs() {
        let v =
            json!({"b": 92.0, "a": "Jos\u{e9} \u{1F600}", "c": [1, 0.5, {"z": 1e300, "y": -0.0}]});
        assert_eq!(
            to_raw_body(&v),
            r#"{"a":"Jos\u00e9 \ud83d\ude00","b":92.0,"c":[1,0.5,{"y":-0.0,"z":1e+300}]}"#
        );
        let canonical = to_canonical_v2(&v);
        assert!(canonical.starts_with("{\"a\":\"Jos\u{e9} \u{1F600}\",\"b\":92,\"c\":[1,0.5,{\"y\":0,\"z\":1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160}]}"), "{canonical}");
    }

    #[test]
    fn stamped_timestamp_replaces_or_inserts_in_sorted_position() {
        let with = json!({"a": 1, "timestamp": 5, "z": {"timestamp": 9}});
        let stamped = to_python_json_stamped(&with, JsonStyle::RawBody, Some(77), 0);
        assert_eq!(stamped, r#"{"a":1,"timestamp":77,"z":{"timestamp":9}}"#);
        let mut restamped = with.clone();
        restamped["timestamp"] = json!(77);
        assert_eq!(stamped, to_raw_body(&restamped));
        for v in [
            json!({}),
            json!({"a": 1}),
            json!({"zz": 1}),
            json!({"a": 1, "u": 2}),
        ] {
            let mut expected = v.clone();
            expected["timestamp"] = json!(3);
            assert_eq!(
                to_python_json_stamped(&v, JsonStyle::CanonicalV2, Some(3), 0),
                to_canonical_v2(&expected)
            );
        }
        assert_eq!(
            to_python_json_stamped(&json!([1]), JsonStyle::RawBody, Some(3), 0),
            "[1]"
        );
    }

    #[test]
    fn escapes_like_python() {
        let v = json!("q\"b\\n\n\r\t\u{8}\u{c}\u{1}\u{7f}/\u{2028}");
        assert_eq!(to_raw_body(&v), r#""q\"b\\n\n\r\t\b\f\u0001\u007f/\u2028""#);
        assert_eq!(
            to_canonical_v2(&v),
            "\"q\\\"b\\\\n\\n\\r\\t\\b\\f\\u0001\u{7f}/\u{2028}\""
        );
    }

    #[test]
    fn keys_sorted_by_code_point() {
        let v = json!({"é": 1, "z": 2, "Z": 3, "a": 4, "😀": 5, "中": 6});
        assert_eq!(
            to_canonical_v2(&v),
            "{\"Z\":3,\"a\":4,\"z\":2,\"é\":1,\"中\":6,\"😀\":5}"
        );
    }
}
