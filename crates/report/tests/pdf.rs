//! Renders fixtures and reads them back with poppler (`pdftotext`, `pdfinfo`, `pdftoppm`), as a
//! person's PDF viewer would. Page images land in `$CARGO_TARGET_DIR/test-artifacts/report/`.

mod fixtures;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use verity_report::{render, ReportImage, SessionReport};

fn artifacts_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is `<target dir>/tmp`; the artifacts go beside it.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("test-artifacts/report");
    std::fs::create_dir_all(&dir).expect("create artifacts dir");
    dir
}

fn run(tool: &str, args: &[&str]) -> String {
    let output = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "could not run `{tool}` ({error}); these tests need poppler's tools: \
             apt-get install -y poppler-utils"
            )
        });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "`{tool} {}` failed: {stderr}",
        args.join(" ")
    );
    // Poppler reports malformed structure on stderr and carries on; a report must have none.
    assert!(
        !stderr.contains("Error") && !stderr.contains("Warning"),
        "`{tool} {}` complained: {stderr}",
        args.join(" ")
    );
    String::from_utf8(output.stdout).expect("tool output is UTF-8")
}

/// Writes the PDF as an artifact and returns its path.
fn save(name: &str, bytes: &[u8]) -> PathBuf {
    assert!(bytes.starts_with(b"%PDF-"), "{name}: not a PDF");
    let path = artifacts_dir().join(format!("{name}.pdf"));
    std::fs::write(&path, bytes).expect("write pdf");
    path
}

fn text_of(path: &Path) -> String {
    run("pdftotext", &["-layout", path.to_str().unwrap(), "-"])
}

fn page_count(path: &Path) -> usize {
    let info = run("pdfinfo", &[path.to_str().unwrap()]);
    info.lines()
        .find_map(|line| line.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count in pdfinfo output:\n{info}"))
}

/// Renders every page at 60 dpi for a person to look at; returns how many PNGs were written.
fn snapshot(name: &str, path: &Path) -> usize {
    let dir = artifacts_dir();
    for entry in std::fs::read_dir(&dir).expect("list artifacts").flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.starts_with(&format!("{name}-")) && file.ends_with(".png") {
            std::fs::remove_file(entry.path()).expect("remove old page image");
        }
    }
    let prefix = dir.join(name);
    run(
        "pdftoppm",
        &[
            "-r",
            "60",
            "-png",
            path.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    std::fs::read_dir(&dir)
        .expect("list artifacts")
        .flatten()
        .filter(|entry| {
            let file = entry.file_name().to_string_lossy().into_owned();
            file.starts_with(&format!("{name}-")) && file.ends_with(".png")
        })
        .count()
}

fn assert_contains_all(text: &str, expected: &[&str]) {
    let missing: Vec<&&str> = expected.iter().filter(|e| !text.contains(**e)).collect();
    assert!(missing.is_empty(), "missing {missing:?} in:\n{text}");
}

const HEADINGS: &[&str] = &[
    "Identity verification report",
    "Session",
    "Checks overview",
    "Reviews",
    "Check details",
    "Images",
    "Timeline",
];

#[test]
fn rich_report_shows_every_section_and_value() {
    let report = fixtures::rich();
    let bytes = render(&report).expect("render");
    let path = save("rich", &bytes);
    let text = text_of(&path);

    assert_contains_all(&text, HEADINGS);
    assert_contains_all(
        &text,
        &[
            // Header and session fields.
            "Nordlys Bank AS",
            "Onboarding · live",
            fixtures::SESSION_ID,
            "1042",
            "customer-8841",
            "KYC + AML (version 3)",
            "2025-03-02 09:14:05 UTC",
            "Approved",
            // Checks.
            "ID verification",
            "Liveness",
            "Face match",
            "AML screening",
            "IP analysis",
            // Extracted document data, with the Unicode names.
            "Ægir Øster-Ñúñez",
            "Øster-Ñúñez",
            "Иван Петров",
            "Санкт-Петербург",
            "X1234567Q",
            "1987-03-14",
            "2031-06-01",
            "Identity Card",
            "Calle de Colón 12, València",
            "MRZ › Surname",
            "OSTER NUNEZ",
            // Scores and warnings.
            "91.35",
            "96.2",
            "POSSIBLE_DUPLICATED_USER",
            "POSSIBLE_MATCH_FOUND",
            "information",
            "warning",
            // AML hits and their datasets.
            "Hits (2)",
            "OFAC SDN, EU Sanctions",
            "UN Consolidated",
            "False Positive",
            "78.5",
            // IP and location.
            "203.0.113.7",
            "Valencia",
            "Telefónica de España",
            "39.47",
            // Reviews.
            "In Review → Approved",
            "Approved after manual AML review",
            // (a long e-mail address wraps after its `@`)
            "maria.lopez@",
            "nordlys.example",
            // Timeline.
            "aml.screened",
            "Not Started → In Progress",
            // Images.
            "Document front",
            "Document back",
            "Selfie",
            "856 × 540 px",
            // Running header and footer.
            "Page 1 of",
            "Generated 2025-03-02 10:05:00 UTC",
        ],
    );
    // Media links are signed and short-lived; they are never printed.
    assert!(!text.contains("media.example"), "{text}");
    // The hosted-flow link carries the session token.
    assert!(!text.contains("Ab3dE6gH9jK1"));

    let pages = page_count(&path);
    assert!(pages >= 2, "rich report has {pages} page(s)");
    assert!(text.contains(&format!("Page {pages} of {pages}")));
    assert_eq!(snapshot("rich", &path), pages);
}

#[test]
fn minimal_report_says_nothing_has_run() {
    let report = fixtures::minimal();
    let bytes = render(&report).expect("render");
    let path = save("minimal", &bytes);
    let text = text_of(&path);
    assert_contains_all(&text, HEADINGS);
    assert_contains_all(
        &text,
        &[
            "Not Started",
            fixtures::SESSION_ID,
            "customer-8841",
            "ID_VERIFICATION",
            "No checks have run for this session yet.",
            "No reviews yet.",
            "No images were provided for this report.",
            "No events recorded.",
            "Page 1 of 1",
        ],
    );
    assert_eq!(page_count(&path), 1);
    assert_eq!(snapshot("minimal", &path), 1);
}

#[test]
fn fonts_are_embedded_subsets() {
    let path = save("fonts", &render(&fixtures::rich()).expect("render"));
    let fonts = run("pdffonts", &[path.to_str().unwrap()]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(rows.len(), 2, "{fonts}");
    for row in rows {
        // name, type, encoding, emb, sub, uni
        let columns: Vec<&str> = row.split_whitespace().collect();
        assert!(columns[0].contains("+DejaVuSans"), "{row}");
        assert!(row.contains("CID TrueType"), "{row}");
        let flags = &columns[columns.len() - 5..columns.len() - 2];
        assert_eq!(
            flags,
            ["yes", "yes", "yes"],
            "embedded, subset, unicode: {row}"
        );
    }
}

#[test]
fn status_badges_use_the_status_colours() {
    use verity_domain::status::SessionStatus;
    const GREEN: [u8; 3] = [0x15, 0x80, 0x3D];
    const RED: [u8; 3] = [0xB9, 0x1C, 0x1C];
    const AMBER: [u8; 3] = [0xB4, 0x53, 0x09];
    for (status, colour) in [
        (SessionStatus::Approved, GREEN),
        (SessionStatus::Declined, RED),
        (SessionStatus::InReview, AMBER),
    ] {
        let mut report = fixtures::minimal();
        report.session.status = status;
        let name = format!("status-{}", status.as_str().replace(' ', "-"));
        let path = save(&name, &render(&report).expect("render"));
        let prefix = artifacts_dir().join(&name);
        run(
            "pdftoppm",
            &[
                "-r",
                "60",
                "-png",
                "-singlefile",
                path.to_str().unwrap(),
                prefix.to_str().unwrap(),
            ],
        );
        let page = image::open(prefix.with_extension("png"))
            .expect("page image")
            .to_rgb8();
        let count = |rgb: [u8; 3]| {
            page.pixels()
                .filter(|p| p.0.iter().zip(rgb).all(|(a, b)| a.abs_diff(b) <= 10))
                .count()
        };
        // The badge is about 90 × 22 px at 60 dpi; other status colours must not appear.
        assert!(
            count(colour) > 400,
            "{status}: {} pixels of its colour",
            count(colour)
        );
        for other in [GREEN, RED, AMBER].into_iter().filter(|c| *c != colour) {
            assert!(
                count(other) < 20,
                "{status}: {} pixels of {other:?}",
                count(other)
            );
        }
    }
}

#[test]
fn cjk_text_is_extractable_even_without_glyphs() {
    let mut report = fixtures::minimal();
    report.session.vendor_data = Some("王小明-42".into());
    let path = save("cjk", &render(&report).expect("render"));
    assert!(text_of(&path).contains("王小明-42"));
}

#[test]
fn undecodable_images_become_notes() {
    let mut report = fixtures::minimal();
    report.images = vec![
        ReportImage {
            label: "Portrait".into(),
            bytes: b"definitely not an image".to_vec(),
        },
        ReportImage {
            label: "Empty".into(),
            bytes: Vec::new(),
        },
        ReportImage {
            label: "Truncated".into(),
            bytes: fixtures::png(64, 64, [1, 2, 3], [4, 5, 6])[..60].to_vec(),
        },
        ReportImage {
            label: "Fine".into(),
            bytes: fixtures::png(64, 48, [200, 200, 200], [10, 10, 10]),
        },
    ];
    let path = save("bad-images", &render(&report).expect("render"));
    let text = text_of(&path);
    assert_contains_all(
        &text,
        &[
            "Portrait",
            "Not a JPEG or PNG image",
            "No image data.",
            "Truncated",
            "Fine",
            "64 × 48 px",
        ],
    );
    snapshot("bad-images", &path);
}

fn nasty_decision() -> Value {
    let log_types = [
        json!("error"),
        json!("warning"),
        json!("information"),
        Value::Null,
        json!(7),
    ];
    let warnings: Vec<Value> = (0..500)
        .map(|i| {
            json!({
                "risk": format!("RISK_{i}"),
                "log_type": log_types[i % 5],
                "short_description": if i % 7 == 0 { Value::Null } else { json!("Ω ".repeat(i % 40)) },
                "long_description": "x".repeat(i % 300),
                "additional_data": if i % 3 == 0 { json!({"nested": [1, {"a": null}]}) } else { Value::Null },
            })
        })
        .collect();
    let mut deep = json!("bottom");
    for _ in 0..60 {
        deep = json!([{ "level": deep }]);
    }
    let many_keys: serde_json::Map<String, Value> =
        (0..400).map(|i| (format!("key_{i}"), json!(i))).collect();
    json!({
        "session_kind": null,
        "status": ["not", "a", "string"],
        "features": {"weird": true},
        "reviews": "not an array",
        "id_verifications": [
            null,
            7,
            "text",
            [],
            {
                "status": {"nested": "status"},
                "node_id": 12345,
                "first_name": "A".repeat(100_000),
                "last_name": "word ".repeat(20_000),
                "address": "\u{0}\u{1b}[31mred\r\n\ttab\u{200b}zero-width\u{202e}rtl",
                "date_of_birth": "2024-99-99T99:99:99Z",
                "mrz": deep,
                "warnings": warnings,
                "matches": [null, {"session_id": null}, [1, 2], "x"],
                "extra": many_keys,
            }
        ],
        "face_matches": "not an array",
        "liveness_checks": null,
        "aml_screenings": [{
            "hits": [null, 5, {"datasets": {"weird": true}, "caption": ""}, {"properties": {"name": [null, ["x"]]}}],
            "warnings": {"not": "an array"},
            "score": 1e308,
        }],
        "ip_analyses": [{"latitude": "NaN", "status": "Declined", "ip": {"location": {"lat": -0.0}}}],
        "mystery_checks": [{"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}, {"🙂": "emoji 🙂 key"}],
        "": [{"": ""}],
    })
}

#[test]
fn hostile_input_still_gives_a_valid_pdf() {
    let cases: Vec<(&str, Value)> = vec![
        ("null", Value::Null),
        ("array", json!([1, 2, 3])),
        ("string", json!("decision")),
        ("empty", json!({})),
        ("nasty", nasty_decision()),
    ];
    for (name, decision) in cases {
        let mut report: SessionReport = fixtures::rich();
        report.decision = decision;
        report.organization = "Org\u{0}with\ncontrols ".repeat(50);
        report.application = String::new();
        report.reviews[0].comment = Some("c".repeat(50_000));
        report.reviews[1].actor = String::new();
        report.events[2].data = Some(json!({"x": "y ".repeat(10_000)}));
        report.images.push(ReportImage {
            label: "\u{0}".repeat(300),
            bytes: vec![0x89, b'P', b'N', b'G'],
        });
        let bytes = render(&report).unwrap_or_else(|e| panic!("{name}: {e}"));
        let path = save(&format!("hostile-{name}"), &bytes);
        let pages = page_count(&path);
        let text = text_of(&path);
        assert!(text.contains("Check details"), "{name}");
        assert!(text.contains(&format!("Page {pages} of {pages}")), "{name}");
        if name == "nasty" {
            assert!(pages > 10, "500 warnings flow over many pages, got {pages}");
            assert!(text.contains("RISK_499"));
            assert!(text.contains("more characters"));
            assert!(text.contains("Mystery checks"));
            snapshot("hostile-nasty", &path);
        }
    }
}

#[test]
fn same_input_same_bytes() {
    let report = fixtures::rich();
    assert_eq!(render(&report).unwrap(), render(&report).unwrap());
}
