//! The PDF report of one verification session (`GET /v3/session/{id}/generate-pdf/`).
//!
//! [`render`] is a pure function: a [`SessionReport`] in, PDF bytes out, no I/O and no clock (the
//! caller passes `generated_at`), so the same input always gives the same bytes.
//!
//! The report, in order: a title block with the organization, application and final status; the
//! session's fields; an overview table of every check that ran; the reviews; one block per check
//! (status, scores, extracted data, warnings, AML hits, nested arrays); the images; the timeline.
//! Every page carries a header and a footer with the session id, the generation time and
//! "Page N of M".
//!
//! Inside the crate: `canvas` writes PDF objects (subset DejaVu fonts with ToUnicode maps, so text
//! is real, selectable and extractable; JPEG images), `layout` flows blocks down pages and wraps
//! text, `format` turns JSON values into readable text, `images` decodes and downscales uploads,
//! and `sections` decides what the report shows.
//!
//! `tests/pdf.rs` renders fixtures, checks them with poppler's `pdftotext` and `pdfinfo`, and
//! writes PNGs of every page to `$CARGO_TARGET_DIR/test-artifacts/report/` for a person to look at.

mod canvas;
mod format;
mod images;
mod layout;
mod sections;

use serde_json::Value;
use verity_domain::review::{Review, SessionEvent};
use verity_domain::session::Session;
use verity_domain::Timestamp;

/// Everything one report shows. Built by the caller from the stored session; nothing is fetched.
#[derive(Debug, Clone)]
pub struct SessionReport {
    pub organization: String,
    /// The application's name; its environment is the session's (`session.environment`).
    pub application: String,
    /// The workflow's label, when the caller has it (the session only pins its id and version).
    pub workflow_name: Option<String>,
    pub session: Session,
    /// The v3 decision exactly as `GET /v3/session/{id}/decision/` answers it.
    pub decision: Value,
    pub reviews: Vec<Review>,
    pub events: Vec<SessionEvent>,
    /// Document front/back, portrait, selfie… as uploaded (JPEG or PNG).
    pub images: Vec<ReportImage>,
    pub generated_at: Timestamp,
}

/// An image to embed. Undecodable bytes are reported on the page, never an error.
#[derive(Debug, Clone)]
pub struct ReportImage {
    pub label: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Subsetting a bundled font failed; not expected with the fonts this crate ships.
    #[error("font subsetting failed: {0}")]
    Font(String),
}

/// Renders the report as a PDF document.
pub fn render(report: &SessionReport) -> Result<Vec<u8>, ReportError> {
    sections::render(report)
}
