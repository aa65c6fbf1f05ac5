//! Session images for the report: decoded under size limits, downscaled, flattened onto white and
//! re-encoded as baseline JPEG. Re-encoding also drops EXIF and any other metadata of the upload.

use crate::canvas::JpegImage;
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageReader, Limits, RgbImage};
use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Longest side of an embedded image; ample for a printed A4 slot a third of the page wide.
/// Larger images are reduced by a whole factor, so they end up between 500 and 1000 pixels.
pub const MAX_SIDE: u32 = 1000;
/// Decoding refuses anything larger: a few bytes of PNG can claim gigapixels.
const MAX_DECODED_SIDE: u32 = 12_000;
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;
const JPEG_QUALITY: u8 = 82;

/// Prepares every image, in parallel: decoding a phone photo takes tens of milliseconds, most of
/// a report's time, and the images do not depend on each other.
pub fn prepare_all(images: &[&[u8]]) -> Vec<Result<JpegImage, String>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(images.len());
    if workers <= 1 {
        return images.iter().map(|bytes| prepare_guarded(bytes)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, Result<JpegImage, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(bytes) = images.get(index) else {
                            break done;
                        };
                        done.push((index, prepare_guarded(bytes)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().unwrap_or_default())
            .collect()
    });
    done.sort_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, result)| result).collect()
}

/// A decoder bug on hostile bytes must cost one image, not the report.
fn prepare_guarded(bytes: &[u8]) -> Result<JpegImage, String> {
    catch_unwind(AssertUnwindSafe(|| prepare(bytes)))
        .unwrap_or_else(|_| Err("Image could not be decoded.".into()))
}

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
    let mut rgb = flatten(decoded);
    let longest = rgb.width().max(rgb.height());
    if longest > MAX_SIDE {
        // Averaging whole blocks is far cheaper than a general resampler on a 12-megapixel
        // photo, and lands between half of MAX_SIDE and MAX_SIDE.
        let factor = longest.div_ceil(MAX_SIDE);
        rgb = match box_reduce(&rgb, factor) {
            Some(reduced) => reduced,
            // Thinner than one block (a 5000 × 1 strip): let the resampler handle it.
            None => {
                let fit = |side: u32| {
                    (u64::from(side) * u64::from(MAX_SIDE) / u64::from(longest)).max(1) as u32
                };
                image::imageops::thumbnail(&rgb, fit(rgb.width()), fit(rgb.height()))
            }
        };
    }
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

/// Each `factor` × `factor` block becomes its average; a partial block at the right or bottom edge
/// is dropped (under `factor` pixels). `None` when the image is smaller than one block.
fn box_reduce(image: &RgbImage, factor: u32) -> Option<RgbImage> {
    let (width, height) = (image.width() / factor, image.height() / factor);
    if width == 0 || height == 0 {
        return None;
    }
    let block = factor as usize;
    let stride = image.width() as usize * 3;
    let area = (block * block) as u32;
    let mut out = Vec::with_capacity(width as usize * height as usize * 3);
    let mut sums = vec![0u32; width as usize * 3];
    for rows in image
        .as_raw()
        .chunks_exact(stride * block)
        .take(height as usize)
    {
        sums.fill(0);
        for row in rows.chunks_exact(stride) {
            for (sum, pixels) in sums.chunks_exact_mut(3).zip(row.chunks_exact(block * 3)) {
                for pixel in pixels.chunks_exact(3) {
                    sum[0] += u32::from(pixel[0]);
                    sum[1] += u32::from(pixel[1]);
                    sum[2] += u32::from(pixel[2]);
                }
            }
        }
        out.extend(sums.iter().map(|sum| ((sum + area / 2) / area) as u8));
    }
    RgbImage::from_raw(width, height, out)
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
        assert_eq!((jpeg.width, jpeg.height), (800, 400));
        let jpeg = prepare(&png(4032, 3024, Rgba([10, 20, 30, 255]))).unwrap();
        assert_eq!((jpeg.width, jpeg.height), (806, 604));
        let jpeg = prepare(&png(1001, 1001, Rgba([10, 20, 30, 255]))).unwrap();
        assert_eq!((jpeg.width, jpeg.height), (500, 500));
        let strip = prepare(&png(5000, 1, Rgba([10, 20, 30, 255]))).unwrap();
        assert_eq!((strip.width, strip.height), (1000, 1));
        assert_eq!(&jpeg.data[..3], &[0xFF, 0xD8, 0xFF]);
        let small = prepare(&png(40, 30, Rgba([10, 20, 30, 255]))).unwrap();
        assert_eq!((small.width, small.height), (40, 30));
    }

    #[test]
    fn box_reduction_averages_blocks() {
        let image = RgbImage::from_fn(5, 4, |x, y| {
            image::Rgb([if (x + y) % 2 == 0 { 0 } else { 200 }, x as u8 * 10, 7])
        });
        let reduced = box_reduce(&image, 2).unwrap();
        assert_eq!(reduced.dimensions(), (2, 2));
        assert_eq!(reduced.get_pixel(0, 0).0, [100, 5, 7]);
        assert_eq!(reduced.get_pixel(1, 1).0, [100, 25, 7]);
        assert!(box_reduce(&image, 5).is_none());
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
    fn parallel_preparation_keeps_the_order() {
        let inputs: Vec<Vec<u8>> = (1..=7)
            .map(|n| {
                if n == 4 {
                    b"junk".to_vec()
                } else {
                    png(n * 10, 5, Rgba([0, 0, 0, 255]))
                }
            })
            .collect();
        let slices: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
        let widths: Vec<Option<u32>> = prepare_all(&slices)
            .into_iter()
            .map(|result| result.ok().map(|jpeg| jpeg.width))
            .collect();
        assert_eq!(
            widths,
            [
                Some(10),
                Some(20),
                Some(30),
                None,
                Some(50),
                Some(60),
                Some(70)
            ]
        );
        assert!(prepare_all(&[]).is_empty());
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
