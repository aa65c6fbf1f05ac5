//! What the report shows, section by section. Decision arrays are rendered generically: fields
//! known for a check get their labels (in a sensible order), and any other scalar or nested field
//! is still listed under a label made from its key, so new fields never silently disappear.

use crate::canvas::{DocumentMeta, Weight};
use crate::format::{self, label, log_type_color, status_color};
use crate::images;
use crate::layout::{
    clean, fit, palette, Cell, Column, GridContent, GridImage, Layout, Style, CONTENT_WIDTH,
    MARGIN_X,
};
use crate::{ReportError, SessionReport};
use pdf_writer::Date;
use serde_json::{Map, Value};
use verity_domain::review::ActivityType;

/// A kind of check: its decision array, its title and its known fields (dotted paths reach into
/// nested objects), in display order.
struct CheckKind {
    key: &'static str,
    title: &'static str,
    fields: &'static [(&'static str, &'static str)],
}

const CHECKS: &[CheckKind] = &[
    CheckKind {
        key: "id_verifications",
        title: "ID verification",
        fields: &[
            ("full_name", "Full name"),
            ("first_name", "First name"),
            ("last_name", "Last name"),
            ("date_of_birth", "Date of birth"),
            ("age", "Age"),
            ("gender", "Gender"),
            ("nationality", "Nationality"),
            ("place_of_birth", "Place of birth"),
            ("marital_status", "Marital status"),
            ("document_type", "Document type"),
            ("document_subtype", "Document subtype"),
            ("document_number", "Document number"),
            ("personal_number", "Personal number"),
            ("issuing_state_name", "Issuing state"),
            ("issuing_state", "Issuing state code"),
            ("date_of_issue", "Date of issue"),
            ("expiration_date", "Expiry date"),
            ("address", "Address"),
            ("formatted_address", "Formatted address"),
            ("verification_method", "Verification method"),
            ("assurance", "Assurance"),
        ],
    },
    CheckKind {
        key: "nfc_verifications",
        title: "NFC chip",
        fields: &[
            ("is_nfc_skipped", "Skipped"),
            ("skip_reason", "Skip reason"),
            ("chip_data.first_name", "First name (chip)"),
            ("chip_data.last_name", "Last name (chip)"),
            ("chip_data.birth_date", "Date of birth (chip)"),
            ("chip_data.document_number", "Document number (chip)"),
            ("chip_data.expiration_date", "Expiry date (chip)"),
            ("chip_data.nationality", "Nationality (chip)"),
            ("authenticity.sod_integrity", "SOD integrity"),
            ("authenticity.dg_integrity", "Data group integrity"),
        ],
    },
    CheckKind {
        key: "liveness_checks",
        title: "Liveness",
        fields: &[
            ("method", "Method"),
            ("score", "Liveness score"),
            ("age_estimation", "Estimated age"),
            ("face_quality", "Face quality"),
            ("face_luminance", "Face luminance"),
        ],
    },
    CheckKind {
        key: "face_matches",
        title: "Face match",
        fields: &[
            ("score", "Similarity score"),
            ("source_image_session_id", "Source session"),
        ],
    },
    CheckKind {
        key: "poa_verifications",
        title: "Proof of address",
        fields: &[
            ("document_type", "Document type"),
            ("document_subtype", "Document subtype"),
            ("issuer", "Issuer"),
            ("issue_date", "Issue date"),
            ("expiration_date", "Expiry date"),
            ("name_on_document", "Name on document"),
            ("poa_formatted_address", "Address"),
            ("poa_address", "Address as written"),
            ("issuing_state", "Issuing state"),
            ("document_language", "Language"),
            ("name_match_score_id_verification", "Name match with ID"),
            (
                "name_match_score_expected_details",
                "Name match with expected",
            ),
        ],
    },
    CheckKind {
        key: "document_ai_documents",
        title: "Document AI",
        fields: &[],
    },
    CheckKind {
        key: "phone_verifications",
        title: "Phone verification",
        fields: &[
            ("full_number", "Phone number"),
            ("country_name", "Country"),
            ("carrier.name", "Carrier"),
            ("carrier.type", "Line type"),
            ("is_disposable", "Disposable"),
            ("is_virtual", "Virtual"),
            ("verification_method", "Verification method"),
            ("verification_attempts", "Attempts"),
            ("verified_at", "Verified at"),
        ],
    },
    CheckKind {
        key: "email_verifications",
        title: "Email verification",
        fields: &[
            ("email", "Email"),
            ("is_breached", "Breached"),
            ("is_disposable", "Disposable"),
            ("is_undeliverable", "Undeliverable"),
            ("verification_attempts", "Attempts"),
            ("verified_at", "Verified at"),
        ],
    },
    CheckKind {
        key: "aml_screenings",
        title: "AML screening",
        fields: &[
            ("total_hits", "Total hits"),
            ("score", "Highest match score"),
            ("entity_type", "Entity type"),
            ("screened_data.full_name", "Screened name"),
            ("screened_data.date_of_birth", "Screened date of birth"),
            ("screened_data.nationality", "Screened nationality"),
            ("screened_data.document_number", "Screened document number"),
            ("is_ongoing_monitoring_enabled", "Ongoing monitoring"),
            ("ongoing_monitoring_last_check", "Last monitoring check"),
        ],
    },
    CheckKind {
        key: "ip_analyses",
        title: "IP analysis",
        fields: &[
            ("ip_address", "IP address"),
            ("ip_country", "Country"),
            ("ip_country_code", "Country code"),
            ("ip_state", "Region"),
            ("ip_city", "City"),
            ("latitude", "Latitude"),
            ("longitude", "Longitude"),
            ("time_zone", "Time zone"),
            ("isp", "ISP"),
            ("organization", "Organization"),
            ("is_vpn_or_tor", "VPN or Tor"),
            ("is_data_center", "Data centre"),
            ("device_brand", "Device brand"),
            ("device_model", "Device model"),
            ("platform", "Platform"),
            ("os_family", "Operating system"),
            ("browser_family", "Browser"),
            ("device_fingerprint", "Device fingerprint"),
        ],
    },
    CheckKind {
        key: "database_validations",
        title: "Database validation",
        fields: &[
            ("issuing_state", "Issuing state"),
            ("validation_type", "Validation type"),
            ("match_type", "Match type"),
        ],
    },
    CheckKind {
        key: "questionnaire_responses",
        title: "Questionnaire",
        fields: &[("title", "Title"), ("version", "Version")],
    },
    CheckKind {
        key: "registry_checks",
        title: "Company registry",
        fields: &[],
    },
    CheckKind {
        key: "document_verifications",
        title: "Business documents",
        fields: &[],
    },
    CheckKind {
        key: "key_people_checks",
        title: "Key people",
        fields: &[],
    },
];

/// Top-level arrays of the decision that are not checks.
const NOT_CHECKS: &[&str] = &["reviews", "features", "events", "activity_reviews"];

/// Item fields shown in the check's title line or its warnings table.
const SHOWN_APART: &[&str] = &["node_id", "status", "warnings"];

/// Media fields are signed, short-lived URLs: a printed link is useless, and the images
/// themselves come in as bytes.
const MEDIA: &[&str] = &[
    "portrait_image",
    "front_image",
    "back_image",
    "front_video",
    "back_video",
    "full_front_image",
    "full_back_image",
    "front_image_camera_front",
    "back_image_camera_front",
    "reference_image",
    "video_url",
    "source_image",
    "target_image",
    "signature_image",
    "document_file",
    "match_image_url",
    "registry_portrait",
];

/// Fields the checks overview reads a score from, in order of preference.
const SCORE_FIELDS: &[&str] = &["score", "match_score", "face_match_score"];

/// Entries of a nested list of objects shown before the rest is counted.
const MAX_NESTED_ENTRIES: usize = 25;
/// Parts a flattened label may have (`IP › Distance from ID document`); objects below that are
/// shown in one line (`Distance: 3.2 · Unit: km`).
const MAX_LABEL_PARTS: usize = 2;
/// Column shares of the label/value grids: session fields (ids need the wide left column) and
/// check fields (longer labels).
const SESSION_GRID: [f32; 4] = [0.13, 0.41, 0.15, 0.31];
const FIELD_GRID: [f32; 4] = [0.2, 0.3, 0.2, 0.3];
/// Rows of other fields, and nested lists, one check shows; a real payload has far fewer.
const MAX_OTHER_FIELDS: usize = 150;
const MAX_LISTS: usize = 20;

/// One rendered check: its kind's title, the array key and the item.
struct CheckItem<'a> {
    title: String,
    item: &'a Value,
    fields: &'static [(&'static str, &'static str)],
}

pub fn render(report: &SessionReport) -> Result<Vec<u8>, ReportError> {
    let empty = Map::new();
    let decision = report.decision.as_object().unwrap_or(&empty);
    let checks = collect_checks(decision);
    let mut layout = Layout::new();

    title_block(&mut layout, report);
    session_section(&mut layout, report, decision);
    overview_section(&mut layout, &checks);
    reviews_section(&mut layout, report);
    details_section(&mut layout, &checks);
    images_section(&mut layout, report);
    timeline_section(&mut layout, report);

    let session = &report.session;
    let header = format!(
        "{} · {} ({})",
        report.organization,
        report.application,
        session.environment.as_str()
    );
    let canvas = layout.finish_pages(
        &header,
        "Identity verification report",
        &format!(
            "Session {} · Generated {}",
            session.id,
            format::timestamp(report.generated_at)
        ),
    );
    let title = format!("Verification report – session {}", session.id);
    let subject = format!(
        "Session #{} of {} ({})",
        session.number, report.application, report.organization
    );
    canvas.finish(&DocumentMeta {
        title: &title,
        subject: &subject,
        created: pdf_date(report.generated_at),
    })
}

fn pdf_date(ts: verity_domain::Timestamp) -> Date {
    // `to_iso` always gives `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    let iso = ts.to_iso();
    let part = |range: std::ops::Range<usize>| {
        iso.get(range)
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0)
    };
    Date::new(part(0..4))
        .month(part(5..7) as u8)
        .day(part(8..10) as u8)
        .hour(part(11..13) as u8)
        .minute(part(14..16) as u8)
        .second(part(17..19) as u8)
        .utc_offset_hour(0)
}

/// Known arrays in the spec's order, then any other array of the decision.
fn collect_checks(decision: &Map<String, Value>) -> Vec<CheckItem<'_>> {
    let mut checks = Vec::new();
    for kind in CHECKS {
        if let Some(Value::Array(items)) = decision.get(kind.key) {
            checks.extend(items.iter().map(|item| CheckItem {
                title: kind.title.to_owned(),
                item,
                fields: kind.fields,
            }));
        }
    }
    for (key, value) in decision {
        let known = CHECKS.iter().any(|kind| kind.key == key) || NOT_CHECKS.contains(&key.as_str());
        // Arrays of plain values are not results of a check.
        if let (false, Value::Array(items)) = (known, value) {
            if !items.iter().any(Value::is_object) {
                continue;
            }
            checks.extend(items.iter().map(|item| CheckItem {
                title: label(key),
                item,
                fields: &[],
            }));
        }
    }
    checks
}

fn title_block(layout: &mut Layout, report: &SessionReport) {
    let status = report.session.status.as_str();
    let top = layout.y();
    let badge_width = layout.badge_width(status, 11.0);
    let text_width = CONTENT_WIDTH - badge_width - 16.0;
    let org = fit(&clean(&report.organization), Weight::Bold, 10.0, text_width);
    layout.canvas.text(
        MARGIN_X,
        top + 10.0,
        &org,
        Weight::Bold,
        10.0,
        palette::MUTED,
    );
    layout.canvas.text(
        MARGIN_X,
        top + 36.0,
        "Identity verification report",
        Weight::Bold,
        21.0,
        palette::INK,
    );
    let app = format!(
        "{} · {} environment · session #{}",
        report.application,
        report.session.environment.as_str(),
        report.session.number
    );
    let app = fit(&clean(&app), Weight::Regular, 10.0, text_width);
    layout.canvas.text(
        MARGIN_X,
        top + 54.0,
        &app,
        Weight::Regular,
        10.0,
        palette::MUTED,
    );
    layout.canvas.text(
        MARGIN_X + CONTENT_WIDTH - badge_width,
        top + 10.0,
        "Final status",
        Weight::Regular,
        8.0,
        palette::MUTED,
    );
    layout.badge(
        MARGIN_X + CONTENT_WIDTH,
        top + 18.0,
        status,
        status_color(status),
        11.0,
    );
    layout.advance(64.0);
}

fn session_section(layout: &mut Layout, report: &SessionReport, decision: &Map<String, Value>) {
    let session = &report.session;
    layout.section("Session");
    let workflow = match &report.workflow_name {
        Some(name) => format!("{name} (version {})", session.workflow_version),
        None => format!("Version {}", session.workflow_version),
    };
    let features = session.feature_display_names().join(", ");
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "—".into());
    // Filled row by row: ids sit in the wide left column.
    let mut pairs: Vec<(String, String)> = vec![
        ("Session ID".into(), session.id.to_string()),
        ("Number".into(), session.number.to_string()),
        ("Workflow ID".into(), session.workflow_id.to_string()),
        ("Status".into(), session.status.as_str().into()),
        ("Workflow".into(), workflow),
        ("Environment".into(), session.environment.as_str().into()),
        ("Vendor data".into(), or_dash(session.vendor_data.clone())),
        ("Language".into(), or_dash(session.language.clone())),
        (
            "Features".into(),
            or_dash((!features.is_empty()).then_some(features)),
        ),
        (
            "Session kind".into(),
            or_dash(decision.get("session_kind").and_then(format::value)),
        ),
        ("Created".into(), format::timestamp(session.created_at)),
        ("Updated".into(), format::timestamp(session.updated_at)),
        ("Expires".into(), format::timestamp(session.expires_at)),
        ("ID country".into(), or_dash(session.country.clone())),
    ];
    if let Some(reason) = decision.get("nfc_skip_reason").and_then(format::value) {
        pairs.push(("NFC skip reason".into(), reason));
    }
    layout.field_grid(&pairs, SESSION_GRID);

    let mut provided = Vec::new();
    for (key, title) in [
        ("expected_details", "Expected"),
        ("contact_details", "Contact"),
        ("metadata", "Metadata"),
    ] {
        let value = decision.get(key).or(match key {
            "expected_details" => session.expected_details.as_ref(),
            "contact_details" => session.contact_details.as_ref(),
            _ => session.metadata.as_ref(),
        });
        match value {
            Some(object @ Value::Object(_)) => flatten_object(object, title, 1, &mut provided, &[]),
            Some(other) => {
                provided.extend(format::value(other).map(|text| (title.to_owned(), text)))
            }
            None => {}
        }
    }
    if !provided.is_empty() {
        layout.caption("Details provided when the session was created");
        layout.field_grid(&provided, FIELD_GRID);
    }
}

fn overview_section(layout: &mut Layout, checks: &[CheckItem<'_>]) {
    layout.section("Checks overview");
    if checks.is_empty() {
        layout.paragraph(
            "No checks have run for this session yet.",
            Weight::Regular,
            9.0,
            palette::MUTED,
        );
        return;
    }
    let columns = [
        Column {
            title: "Check",
            share: 0.3,
        },
        Column {
            title: "Node",
            share: 0.24,
        },
        Column {
            title: "Status",
            share: 0.18,
        },
        Column {
            title: "Score",
            share: 0.12,
        },
        Column {
            title: "Warnings",
            share: 0.16,
        },
    ];
    let rows: Vec<Vec<Cell>> = checks
        .iter()
        .map(|check| {
            let status = item_status(check.item);
            let score = SCORE_FIELDS
                .iter()
                .find_map(|key| check.item.get(key).filter(|v| v.is_number()))
                .and_then(format::value)
                .unwrap_or_else(|| "—".into());
            let warnings = warnings_of(check.item);
            let worst = worst_log_type(&warnings);
            vec![
                Cell::styled(check.title.clone(), Style::Bold),
                Cell::styled(
                    text_at(check.item, "node_id").unwrap_or_else(|| "—".into()),
                    Style::Muted,
                ),
                Cell::styled(status.clone(), Style::Colored(status_color(&status))),
                Cell::new(score),
                match worst {
                    Some(log_type) => Cell::styled(
                        warnings.len().to_string(),
                        Style::Colored(log_type_color(log_type)),
                    ),
                    None => Cell::new(warnings.len().to_string()),
                },
            ]
        })
        .collect();
    layout.table(&columns, &rows, true);
}

fn reviews_section(layout: &mut Layout, report: &SessionReport) {
    layout.section("Reviews");
    if report.reviews.is_empty() {
        layout.paragraph("No reviews yet.", Weight::Regular, 9.0, palette::MUTED);
        return;
    }
    let columns = [
        Column {
            title: "Time (UTC)",
            share: 0.21,
        },
        Column {
            title: "Actor",
            share: 0.18,
        },
        Column {
            title: "Change",
            share: 0.26,
        },
        Column {
            title: "Comment",
            share: 0.35,
        },
    ];
    let rows: Vec<Vec<Cell>> = report
        .reviews
        .iter()
        .map(|review| {
            let change = match review.activity_type {
                ActivityType::StatusChange => {
                    let text = match (review.previous_status, review.new_status) {
                        (Some(from), Some(to)) => format!("{from} → {to}"),
                        (None, Some(to)) => format!("→ {to}"),
                        (_, None) => "Status change".into(),
                    };
                    let color = review
                        .new_status
                        .map_or(palette::GREY, |s| status_color(s.as_str()));
                    Cell::styled(text, Style::Colored(color))
                }
                ActivityType::Note => match review.new_status {
                    Some(status) => Cell::new(format!("Note (status given: {status})")),
                    None => Cell::new("Note"),
                },
                ActivityType::DataUpdate => Cell::new("Data corrected"),
                ActivityType::FeatureStatusChange => Cell::new("Check status changed"),
            };
            vec![
                Cell::new(format::table_time(review.created_at)),
                Cell::styled(review.actor.clone(), Style::Bold),
                change,
                Cell::new(review.comment.clone().unwrap_or_else(|| "—".into())),
            ]
        })
        .collect();
    layout.table(&columns, &rows, true);
}

fn details_section(layout: &mut Layout, checks: &[CheckItem<'_>]) {
    layout.section("Check details");
    if checks.is_empty() {
        layout.paragraph(
            "Nothing to show: no check has produced a result.",
            Weight::Regular,
            9.0,
            palette::MUTED,
        );
        return;
    }
    for check in checks {
        check_block(layout, check);
    }
}

fn check_block(layout: &mut Layout, check: &CheckItem<'_>) {
    let Some(item) = check.item.as_object() else {
        layout.subsection(&check.title, "", None);
        layout.paragraph(
            &format!(
                "Unreadable entry (not an object): {}",
                format::value(check.item).unwrap_or_else(|| check.item.to_string())
            ),
            Weight::Regular,
            8.5,
            palette::MUTED,
        );
        return;
    };
    let status = item_status(check.item);
    let node = text_at(check.item, "node_id").unwrap_or_default();
    layout.subsection(&check.title, &node, Some((&status, status_color(&status))));

    let mut consumed: Vec<String> = Vec::new();
    let mut known = Vec::new();
    for (path, name) in check.fields {
        consumed.push((*path).to_owned());
        if let Some(text) = lookup(check.item, path).and_then(format::value) {
            known.push(((*name).to_owned(), text));
        }
    }
    let mut other = Vec::new();
    let mut lists: Vec<(&str, &Vec<Value>)> = Vec::new();
    for (key, value) in item {
        if SHOWN_APART.contains(&key.as_str())
            || MEDIA.contains(&key.as_str())
            || consumed.iter().any(|c| c == key)
        {
            continue;
        }
        match value {
            Value::Array(entries) if entries.iter().any(Value::is_object) => {
                lists.push((key, entries));
            }
            Value::Object(_) => {
                let prefix = label(key);
                let nested_consumed: Vec<&str> = consumed
                    .iter()
                    .filter_map(|c| {
                        c.strip_prefix(key.as_str())
                            .and_then(|rest| rest.strip_prefix('.'))
                    })
                    .collect();
                flatten_object(value, &prefix, 1, &mut other, &nested_consumed);
            }
            scalar => {
                if let Some(text) = format::value(scalar) {
                    other.push((label(key), text));
                }
            }
        }
    }

    if other.len() > MAX_OTHER_FIELDS {
        let hidden = other.len() - MAX_OTHER_FIELDS;
        other.truncate(MAX_OTHER_FIELDS);
        other.push(("…".into(), format!("{hidden} more fields not shown")));
    }
    let hidden_lists = lists.len().saturating_sub(MAX_LISTS);
    lists.truncate(MAX_LISTS);

    if !known.is_empty() {
        layout.field_grid(&known, FIELD_GRID);
    }
    if !other.is_empty() {
        layout.caption(if known.is_empty() {
            "Fields"
        } else {
            "Other fields"
        });
        layout.field_grid(&other, FIELD_GRID);
    }
    warnings_table(layout, &warnings_of(check.item));
    for (key, entries) in lists {
        if key == "hits" {
            hits_table(layout, entries);
        } else {
            nested_list(layout, key, entries);
        }
    }
    if hidden_lists > 0 {
        layout.paragraph(
            &format!("{hidden_lists} more lists not shown."),
            Weight::Regular,
            8.5,
            palette::MUTED,
        );
    }
    if known.is_empty() && other.is_empty() && warnings_of(check.item).is_empty() {
        layout.paragraph("No details reported.", Weight::Regular, 8.5, palette::MUTED);
    }
    layout.advance(6.0);
}

fn warnings_table(layout: &mut Layout, warnings: &[&Value]) {
    if warnings.is_empty() {
        return;
    }
    layout.caption(&format!("Warnings ({})", warnings.len()));
    let columns = [
        Column {
            title: "Risk",
            share: 0.33,
        },
        Column {
            title: "Level",
            share: 0.14,
        },
        Column {
            title: "Description",
            share: 0.53,
        },
    ];
    let rows: Vec<Vec<Cell>> = warnings
        .iter()
        .map(|warning| {
            if !warning.is_object() {
                return vec![
                    Cell::new(format::value(warning).unwrap_or_else(|| "—".into())),
                    Cell::new("—"),
                    Cell::new(""),
                ];
            }
            let risk = text_at(warning, "risk").unwrap_or_else(|| "—".into());
            let log_type = text_at(warning, "log_type").unwrap_or_else(|| "—".into());
            let short = text_at(warning, "short_description");
            let long = text_at(warning, "long_description");
            let mut description = match (short, long) {
                (Some(short), Some(long)) if short != long => format!("{short}\n{long}"),
                (Some(text), _) | (None, Some(text)) => text,
                (None, None) => String::new(),
            };
            if let Some(extra) = warning.get("additional_data").and_then(format::value) {
                description.push_str(&format!("\n{extra}"));
            }
            vec![
                Cell::styled(risk, Style::Bold),
                Cell::styled(log_type.clone(), Style::Colored(log_type_color(&log_type))),
                Cell::new(description),
            ]
        })
        .collect();
    layout.table(&columns, &rows, true);
}

/// AML hits: who matched, how well, and in which datasets.
fn hits_table(layout: &mut Layout, hits: &[Value]) {
    layout.caption(&format!("Hits ({})", hits.len()));
    let columns = [
        Column {
            title: "Name",
            share: 0.24,
        },
        Column {
            title: "Match",
            share: 0.09,
        },
        Column {
            title: "Risk",
            share: 0.09,
        },
        Column {
            title: "Review",
            share: 0.14,
        },
        Column {
            title: "Datasets",
            share: 0.28,
        },
        Column {
            title: "Countries",
            share: 0.16,
        },
    ];
    let rows: Vec<Vec<Cell>> = hits
        .iter()
        .map(|hit| {
            let name = text_at(hit, "caption")
                .or_else(|| lookup(hit, "properties.name").and_then(format::value))
                .or_else(|| text_at(hit, "id"))
                .unwrap_or_else(|| "—".into());
            let score = ["match_score", "score"]
                .iter()
                .find_map(|key| hit.get(key).and_then(format::value))
                .unwrap_or_else(|| "—".into());
            let datasets = hit
                .get("datasets")
                .and_then(format::value)
                .unwrap_or_else(|| "—".into());
            let countries = lookup(hit, "properties.country")
                .and_then(format::value)
                .unwrap_or_else(|| "—".into());
            vec![
                Cell::styled(name, Style::Bold),
                Cell::new(score),
                Cell::new(
                    hit.get("risk_score")
                        .and_then(format::value)
                        .unwrap_or_else(|| "—".into()),
                ),
                Cell::new(text_at(hit, "review_status").unwrap_or_else(|| "—".into())),
                Cell::new(datasets),
                Cell::new(countries),
            ]
        })
        .collect();
    layout.table(&columns, &rows, true);
}

/// Any other list of objects (matches, breaches, lifecycle, validations…): one row per entry.
fn nested_list(layout: &mut Layout, key: &str, entries: &[Value]) {
    layout.caption(&format!("{} ({})", label(key), entries.len()));
    let mut pairs: Vec<(String, String)> = entries
        .iter()
        .take(MAX_NESTED_ENTRIES)
        .enumerate()
        .map(|(n, entry)| {
            let text = format::value(entry).unwrap_or_else(|| "—".into());
            (format!("#{}", n + 1), text)
        })
        .collect();
    if entries.len() > MAX_NESTED_ENTRIES {
        pairs.push((
            "…".into(),
            format!(
                "{} more entries not shown",
                entries.len() - MAX_NESTED_ENTRIES
            ),
        ));
    }
    layout.key_values(&pairs);
}

fn images_section(layout: &mut Layout, report: &SessionReport) {
    layout.section("Images");
    if report.images.is_empty() {
        layout.paragraph(
            "No images were provided for this report.",
            Weight::Regular,
            9.0,
            palette::MUTED,
        );
        return;
    }
    let bytes: Vec<&[u8]> = report.images.iter().map(|i| i.bytes.as_slice()).collect();
    let prepared = images::prepare_all(&bytes);
    let grid: Vec<GridImage> = report
        .images
        .iter()
        .zip(prepared)
        .map(|(image, prepared)| GridImage {
            label: image.label.clone(),
            content: match prepared {
                Ok(jpeg) => {
                    let (width, height) = (jpeg.width, jpeg.height);
                    let index = layout.canvas.add_image(jpeg);
                    GridContent::Image {
                        index,
                        width,
                        height,
                    }
                }
                Err(note) => GridContent::Note(note),
            },
        })
        .collect();
    layout.image_grid(&grid);
}

fn timeline_section(layout: &mut Layout, report: &SessionReport) {
    layout.section("Timeline");
    if report.events.is_empty() {
        layout.paragraph("No events recorded.", Weight::Regular, 9.0, palette::MUTED);
        return;
    }
    let columns = [
        Column {
            title: "Time (UTC)",
            share: 0.21,
        },
        Column {
            title: "Event",
            share: 0.25,
        },
        Column {
            title: "Status",
            share: 0.27,
        },
        Column {
            title: "Details",
            share: 0.27,
        },
    ];
    let rows: Vec<Vec<Cell>> = report
        .events
        .iter()
        .map(|event| {
            let status = match (event.previous_status, event.status) {
                (Some(from), Some(to)) => Cell::styled(
                    format!("{from} → {to}"),
                    Style::Colored(status_color(to.as_str())),
                ),
                (None, Some(to)) => {
                    Cell::styled(to.as_str(), Style::Colored(status_color(to.as_str())))
                }
                (_, None) => Cell::styled("—", Style::Muted),
            };
            let details = event
                .data
                .as_ref()
                .and_then(format::value)
                .unwrap_or_default();
            vec![
                Cell::new(format::table_time(event.created_at)),
                Cell::styled(event.event_type.clone(), Style::Bold),
                status,
                Cell::styled(details, Style::Muted),
            ]
        })
        .collect();
    layout.table(&columns, &rows, true);
}

fn item_status(item: &Value) -> String {
    text_at(item, "status").unwrap_or_else(|| "Unknown".into())
}

fn text_at(item: &Value, key: &str) -> Option<String> {
    item.get(key).and_then(format::value)
}

/// `a.b.c` inside nested objects.
fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |value, key| value.get(key))
}

fn warnings_of(item: &Value) -> Vec<&Value> {
    match item.get("warnings") {
        Some(Value::Array(warnings)) => warnings.iter().collect(),
        _ => Vec::new(),
    }
}

fn worst_log_type(warnings: &[&Value]) -> Option<&'static str> {
    ["error", "warning", "information"]
        .into_iter()
        .find(|level| {
            warnings
                .iter()
                .any(|w| w.get("log_type").and_then(Value::as_str) == Some(level))
        })
}

/// A nested object as labelled rows, `Prefix › Key`; `parts` counts the parts of `prefix`, and
/// `skip` names keys already shown (relative to this object).
fn flatten_object(
    value: &Value,
    prefix: &str,
    parts: usize,
    out: &mut Vec<(String, String)>,
    skip: &[&str],
) {
    let Value::Object(map) = value else {
        return;
    };
    for (key, item) in map {
        if skip.contains(&key.as_str()) || MEDIA.contains(&key.as_str()) {
            continue;
        }
        let name = format!("{prefix} › {}", label(key));
        match item {
            Value::Object(_) if parts + 1 < MAX_LABEL_PARTS => {
                let nested: Vec<&str> = skip
                    .iter()
                    .filter_map(|s| {
                        s.strip_prefix(key.as_str())
                            .and_then(|r| r.strip_prefix('.'))
                    })
                    .collect();
                flatten_object(item, &name, parts + 1, out, &nested);
            }
            other => {
                if let Some(text) = format::value(other) {
                    out.push((name, text));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn checks_come_in_spec_order_then_unknown_arrays() {
        let decision = json!({
            "zeta_checks": [{"status": "Approved"}],
            "ip_analyses": [{"status": "Approved"}],
            "id_verifications": [{"status": "Declined"}, {"status": "Approved"}],
            "reviews": [{"user": "x"}],
            "features": ["ID_VERIFICATION"],
            "status": ["not", "objects"],
        });
        let checks = collect_checks(decision.as_object().unwrap());
        let titles: Vec<&str> = checks.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "ID verification",
                "ID verification",
                "IP analysis",
                "Zeta checks"
            ]
        );
    }

    #[test]
    fn nested_objects_flatten_with_labels() {
        let mut out = Vec::new();
        flatten_object(
            &json!({"surname": "ØSTER", "deep": {"deeper": 1}, "skip": 1, "front_image": "u"}),
            "MRZ",
            1,
            &mut out,
            &["skip"],
        );
        assert_eq!(
            out,
            vec![
                ("MRZ › Deep".to_owned(), "Deeper: 1".to_owned()),
                ("MRZ › Surname".to_owned(), "ØSTER".to_owned()),
            ]
        );
    }

    #[test]
    fn worst_warning_wins() {
        let warnings = [
            json!({"log_type": "information"}),
            json!({"log_type": "error"}),
        ];
        let refs: Vec<&Value> = warnings.iter().collect();
        assert_eq!(worst_log_type(&refs), Some("error"));
        assert_eq!(worst_log_type(&[]), None);
    }

    #[test]
    fn pdf_dates_come_from_the_timestamp() {
        let ts = verity_domain::Timestamp::parse_iso("2024-07-28T06:46:39Z").unwrap();
        let mut pdf = pdf_writer::Pdf::new();
        pdf.document_info(pdf_writer::Ref::new(1))
            .creation_date(pdf_date(ts));
        let bytes = pdf.finish();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("D:20240728064639Z"), "{text}");
    }
}
