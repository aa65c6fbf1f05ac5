//! Captures of the hosted flow: what each workflow step needs, and the checks every upload
//! passes before it is stored (magic bytes, byte caps, pixel dimensions read from the header
//! before anything decodes the image, EXIF stripped).

use crate::session::SessionNode;
use crate::workflow::Feature;
use serde_json::{json, Value};

/// Largest accepted image (document sides, selfies).
pub const IMAGE_MAX_BYTES: usize = 5 * 1024 * 1024;
/// Largest accepted proof-of-address file (image or PDF).
pub const POA_MAX_BYTES: usize = 15 * 1024 * 1024;
/// Longest accepted image side, and most pixels, read from the header.
pub const MAX_SIDE_PIXELS: usize = 10_000;
pub const MAX_PIXELS: usize = 40_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaptureKind {
    DocumentFront,
    DocumentBack,
    Selfie,
    PoaDocument,
}

impl CaptureKind {
    pub const ALL: [CaptureKind; 4] = [
        CaptureKind::DocumentFront,
        CaptureKind::DocumentBack,
        CaptureKind::Selfie,
        CaptureKind::PoaDocument,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaptureKind::DocumentFront => "document_front",
            CaptureKind::DocumentBack => "document_back",
            CaptureKind::Selfie => "selfie",
            CaptureKind::PoaDocument => "poa_document",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn max_bytes(self) -> usize {
        match self {
            CaptureKind::PoaDocument => POA_MAX_BYTES,
            _ => IMAGE_MAX_BYTES,
        }
    }

    fn accepts(self) -> &'static [&'static str] {
        match self {
            CaptureKind::PoaDocument => {
                &["image/jpeg", "image/png", "image/webp", "application/pdf"]
            }
            _ => &IMAGE_TYPES,
        }
    }
}

/// The captures a step needs: `(kind, required)`.
pub fn step_captures(feature: Feature) -> &'static [(CaptureKind, bool)] {
    match feature {
        // The back is optional: passports have none, cards should send it.
        Feature::Ocr => &[
            (CaptureKind::DocumentFront, true),
            (CaptureKind::DocumentBack, false),
        ],
        Feature::Liveness | Feature::FaceMatch | Feature::AgeEstimation => {
            &[(CaptureKind::Selfie, true)]
        }
        Feature::ProofOfAddress => &[(CaptureKind::PoaDocument, true)],
        _ => &[],
    }
}

/// The hosted flow's steps for these nodes, in workflow order.
pub fn steps_json(
    nodes: &[SessionNode],
    configs: &dyn Fn(&str) -> Option<Value>,
    expected_details: Option<&Value>,
) -> Vec<Value> {
    nodes
        .iter()
        .map(|node| {
            let captures: Vec<Value> = step_captures(node.feature)
                .iter()
                .map(|(kind, required)| {
                    json!({
                        "kind": kind.as_str(),
                        "required": required,
                        "accepts": kind.accepts(),
                        "max_bytes": kind.max_bytes(),
                    })
                })
                .collect();
            let mut step = json!({
                "node_id": node.node_id,
                "feature": node.feature.as_str(),
                "captures": captures,
                // Steps without captures run on the server (AML, IP, database) or on the device
                // (NFC chip reading, phone/e-mail codes).
                "interactive": !step_captures(node.feature).is_empty(),
            });
            if node.feature == Feature::Liveness {
                let method = configs(&node.node_id)
                    .and_then(|c| c.get("face_liveness_method").cloned())
                    .unwrap_or_else(|| json!("PASSIVE"));
                step["liveness_method"] = method;
            }
            if node.feature == Feature::Ocr {
                let config = configs(&node.node_id);
                let config = config.as_ref().and_then(Value::as_object);
                step["document_choice"] = crate::checks::document_choice(
                    config.unwrap_or(&serde_json::Map::new()),
                    expected_details,
                );
            }
            step
        })
        .collect()
}

/// Why an upload was refused: an HTTP status, a machine-readable code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

fn refuse(status: u16, code: &'static str, message: impl Into<String>) -> CaptureError {
    CaptureError {
        status,
        code,
        message: message.into(),
    }
}

/// An upload that passed every check, EXIF removed.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedCapture {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        return Some("application/pdf");
    }
    match crate::session::sniff_image(bytes) {
        Some("image/tiff") | None => None,
        other => other,
    }
}

/// Checks an upload for `kind`: size, type by magic bytes, pixel dimensions (header only).
pub fn check_capture(kind: CaptureKind, bytes: Vec<u8>) -> Result<CheckedCapture, CaptureError> {
    check_upload(bytes, kind.accepts(), kind.max_bytes())
}

/// Image types any uploaded picture may have.
pub const IMAGE_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

/// Checks an uploaded file: at most `max_bytes`, one of `accepts` by its magic bytes, and an
/// image's pixel dimensions read from its header (before anything decodes it); JPEG and PNG
/// metadata (EXIF, XMP, text) removed.
pub fn check_upload(
    bytes: Vec<u8>,
    accepts: &[&str],
    max_bytes: usize,
) -> Result<CheckedCapture, CaptureError> {
    if bytes.is_empty() {
        return Err(refuse(400, "empty_upload", "The upload is empty."));
    }
    if bytes.len() > max_bytes {
        let limit = if max_bytes >= 1024 * 1024 {
            format!("{} MB", max_bytes / (1024 * 1024))
        } else {
            format!("{} KB", max_bytes / 1024)
        };
        return Err(refuse(
            413,
            "file_too_large",
            format!("The file is larger than {limit}."),
        ));
    }
    let Some(content_type) = sniff(&bytes).filter(|t| accepts.contains(t)) else {
        return Err(refuse(
            415,
            "unsupported_file_type",
            format!("Upload one of: {}.", accepts.join(", ")),
        ));
    };
    if content_type == "application/pdf" {
        return Ok(CheckedCapture {
            bytes,
            content_type,
            width: None,
            height: None,
        });
    }
    let size = imagesize::blob_size(&bytes)
        .map_err(|_| refuse(400, "unreadable_image", "The image header cannot be read."))?;
    if size.width == 0 || size.height == 0 {
        return Err(refuse(400, "unreadable_image", "The image has no pixels."));
    }
    if size.width > MAX_SIDE_PIXELS
        || size.height > MAX_SIDE_PIXELS
        || size.width.saturating_mul(size.height) > MAX_PIXELS
    {
        return Err(refuse(
            413,
            "image_dimensions_too_large",
            format!(
                "The image is {}×{} pixels; the limit is {MAX_SIDE_PIXELS} per side and {} megapixels.",
                size.width,
                size.height,
                MAX_PIXELS / 1_000_000
            ),
        ));
    }
    let bytes = match content_type {
        "image/jpeg" => strip_jpeg_metadata(&bytes)
            .ok_or_else(|| refuse(400, "unreadable_image", "The JPEG structure is damaged."))?,
        "image/png" => strip_png_metadata(&bytes)
            .ok_or_else(|| refuse(400, "unreadable_image", "The PNG structure is damaged."))?,
        _ => bytes,
    };
    Ok(CheckedCapture {
        bytes,
        content_type,
        width: u32::try_from(size.width).ok(),
        height: u32::try_from(size.height).ok(),
    })
}

/// Drops APP1 (EXIF, XMP) and comment segments of a JPEG; everything from the first scan on
/// is copied as is.
fn strip_jpeg_metadata(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(bytes.get(..2)?);
    let mut at = 2;
    loop {
        let marker = *bytes.get(at + 1)?;
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        if marker == 0xDA || marker == 0xD9 {
            out.extend_from_slice(&bytes[at..]);
            return Some(out);
        }
        let length = usize::from(u16::from_be_bytes([
            *bytes.get(at + 2)?,
            *bytes.get(at + 3)?,
        ]));
        let end = at.checked_add(2 + length)?;
        let segment = bytes.get(at..end)?;
        if marker != 0xE1 && marker != 0xFE {
            out.extend_from_slice(segment);
        }
        at = end;
    }
}

/// Drops `eXIf`, `tEXt`, `zTXt` and `iTXt` chunks of a PNG.
fn strip_png_metadata(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(bytes.get(..8)?);
    let mut at = 8;
    while at < bytes.len() {
        let length = u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
        let kind = bytes.get(at + 4..at + 8)?;
        let end = at.checked_add(12)?.checked_add(length)?;
        let chunk = bytes.get(at..end)?;
        if !matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt") {
            out.extend_from_slice(chunk);
        }
        at = end;
        if kind == b"IEND" {
            break;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG header (signature + IHDR) claiming the given size, plus IEND.
    pub fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        png.extend_from_slice(&13u32.to_be_bytes());
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&width.to_be_bytes());
        png.extend_from_slice(&height.to_be_bytes());
        png.extend_from_slice(&[8, 2, 0, 0, 0]);
        png.extend_from_slice(&[0, 0, 0, 0]); // CRC (not checked here)
        png.extend_from_slice(&0u32.to_be_bytes());
        png.extend_from_slice(b"IEND");
        png.extend_from_slice(&[0xAE, 0x42, 0x60, 0x82]);
        png
    }

    #[test]
    fn refusals_carry_codes() {
        let err = |kind, bytes| check_capture(kind, bytes).unwrap_err().code;
        assert_eq!(err(CaptureKind::Selfie, vec![]), "empty_upload");
        assert_eq!(
            err(CaptureKind::Selfie, b"GIF89a....".to_vec()),
            "unsupported_file_type"
        );
        assert_eq!(
            err(CaptureKind::Selfie, b"%PDF-1.7".to_vec()),
            "unsupported_file_type"
        );
        assert_eq!(
            err(CaptureKind::Selfie, vec![0xFF; IMAGE_MAX_BYTES + 1]),
            "file_too_large"
        );
        assert_eq!(
            err(CaptureKind::DocumentFront, png_header(100_000, 100_000)),
            "image_dimensions_too_large"
        );
        assert_eq!(
            err(CaptureKind::DocumentFront, png_header(8_000, 8_000)),
            "image_dimensions_too_large"
        );
        assert!(check_capture(CaptureKind::PoaDocument, b"%PDF-1.7\n...".to_vec()).is_ok());
        let ok = check_capture(CaptureKind::DocumentFront, png_header(640, 400)).unwrap();
        assert_eq!(
            (ok.width, ok.height, ok.content_type),
            (Some(640), Some(400), "image/png")
        );
    }

    #[test]
    fn exif_is_stripped_from_jpeg_and_png() {
        // SOI, APP0 (JFIF), APP1 (EXIF), SOF0 8x8, SOS, data, EOI.
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x07, b'J', b'F', b'I', b'F', 0]);
        jpeg.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x08, b'E', b'x', b'i', b'f', 0, 0]);
        jpeg.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x0B, 8, 0, 8, 0, 8, 1, 1, 0x11, 0]);
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 1, 2, 3, 0xFF, 0xD9]);
        let checked = check_capture(CaptureKind::Selfie, jpeg.clone()).unwrap();
        assert_eq!(checked.bytes.len(), jpeg.len() - 10);
        assert!(!checked.bytes.windows(4).any(|w| w == b"Exif"));
        let mut png = png_header(4, 4);
        let iend = png.split_off(png.len() - 12);
        png.extend_from_slice(&4u32.to_be_bytes());
        png.extend_from_slice(b"eXIf");
        png.extend_from_slice(b"GPS!");
        png.extend_from_slice(&[0, 0, 0, 0]);
        png.extend_from_slice(&iend);
        let checked = check_capture(CaptureKind::Selfie, png).unwrap();
        assert_eq!(checked.bytes, png_header(4, 4));
    }
}
