//! Verity document engine: reads identity documents offline.
//!
//! - [`mrz`]: ICAO 9303 MRZ parsing, check digits and OCR repair (TD1, TD2, TD3, MRV-A/B).
//! - [`text_lines`] and [`mrz_glyph`]: the MRZ without neural networks (morphological line
//!   locator, OCR-B glyph matching), tried before PP-OCR; the morphological lines also carry
//!   the printed zone when the MRZ is read so.
//! - [`ocr`]: PP-OCRv4 detection and recognition run by tract (pure Rust).
//! - [`barcode`]: PDF417/QR decoding (rxing) and AAMVA parsing.
//! - [`engine`]: [`DocumentEngine::read`] turns images into a [`DocumentReading`].
//! - [`synth`]: the synthetic corpus used by tests, evaluation and benchmarks.

pub mod barcode;
mod correlation;
pub mod countries;
pub mod engine;
pub mod eval;
pub mod layout;
pub mod mrz;
pub mod mrz_glyph;
pub mod ocr;
mod pdf417_ec;
pub mod quality;
pub mod synth;
pub mod text_lines;

pub use engine::{
    DocumentEngine, DocumentReading, LoadError, MrzReport, ReadError, ReadOptions, VisualZone,
    Warning,
};
pub use quality::QualityScore;
