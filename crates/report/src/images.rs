//! Session images for the report: decoded under size limits, downscaled, flattened onto white and
//! re-encoded as baseline JPEG. Re-encoding also drops EXIF and any other metadata of the upload.

use crate::canvas::JpegImage;
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageReader, Limits, RgbImage};
use std::io::Cursor;

/// Longest side of an embedded image; ample for a printed A4 slot a third of the page wide.
pub const MAX_SIDE: u32 = 1000;
/// Decoding refuses anything larger: a few bytes of PNG can claim gigapixels.
const MAX_DECODED_SIDE: u32 = 12_000;
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;
const JPEG_QUALITY: u8 = 82;

/// Why an image is shown as a note instead.
pub fn prepare(bytes: &[u8]) -> Result<JpegImage, String> {
    if bytes.is_empty() {
        return Err("No image data.".into());
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| "Image could not be read.".to_owned())?;
    if reader.format().is_none() {
        return Err(format!("Not a JPEG or PNG image ({} bytes).", bytes.len()));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECODED_SIDE);
    limits.max_image_height = Some(MAX_DECODED_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let decoded = reader
        .decode()
        .map_err(|error| format!("Image could not be decoded: {error}."))?;
    let scaled = if decoded.width().max(decoded.height()) > MAX_SIDE {
        decoded.thumbnail(MAX_SIDE, MAX_SIDE)
    } else {
        decoded
    };
    let rgb = flatten(scaled);
    let mut data = Vec::new();
    JpegEncoder::new_with_quality(&mut data, JPEG_QUALITY)
        .encode_image(&rgb)
        .map_err(|error| format!("Image could not be encoded: {error}."))?;
    Ok(JpegImage {
        data,
        width: rgb.width(),
        height: rgb.height(),
    })
}

/// RGB over a white background (JPEG has no alpha channel, and a report page is white).
fn flatten(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    let (width, height) = rgba.dimensions();
    let mut rgb = RgbImage::new(width, height);
    for (src, dst) in rgba.pixels().zip(rgb.pixels_mut()) {
        let [r, g, b, a] = src.0;
        let blend =
            |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        dst.0 = [blend(r), blend(g), blend(b)];
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, Rgba, RgbaImage};

    fn png(width: u32, height: u32, pixel: Rgba<u8>) -> Vec<u8> {
        let image = RgbaImage::from_pixel(width, height, pixel);
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn large_images_are_downscaled_keeping_the_aspect_ratio() {
        let jpeg = prepare(&png(2400, 1200, Rgba([10, 20, 30, 255]))).unwrap();
        assert_eq!((jpeg.width, jpeg.height), (1000, 500));
        assert_eq!(&jpeg.data[..3], &[0xFF, 0xD8, 0xFF]);
        let small = prepare(&png(40, 30, Rgba([10, 20, 30, 255]))).unwrap();
        assert_eq!((small.width, small.height), (40, 30));
    }

    #[test]
    fn transparency_becomes_white() {
        let rgb = flatten(DynamicImage::ImageRgba8(RgbaImage::from_pixel(
            2,
            2,
            Rgba([0, 0, 0, 0]),
        )));
        assert_eq!(rgb.get_pixel(0, 0).0, [255, 255, 255]);
    }

    #[test]
    fn garbage_is_a_note_not_a_panic() {
        assert!(prepare(b"").is_err());
        assert!(prepare(b"hello, not an image").is_err());
        let mut truncated = png(50, 50, Rgba([1, 2, 3, 255]));
        truncated.truncate(truncated.len() / 2);
        assert!(prepare(&truncated).is_err());
        // A PNG header claiming 100,000 × 100,000 pixels is refused before any allocation.
        let mut huge = png(1, 1, Rgba([0, 0, 0, 255]));
        huge[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        huge[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert!(prepare(&huge).is_err());
    }
}
