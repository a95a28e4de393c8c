//! Thumbnails: decode (JPEG at the smallest DCT scale that still covers the target, so a 12 MP
//! photo is decoded at 1/8 from its DC coefficients alone, see `jpeg_dc`), turn upright by EXIF orientation, fit the longest edge, encode a JPEG
//! with no metadata at all (a new file: the original's GPS position never reaches it). Declared
//! dimensions are checked against a pixel budget before anything is decoded.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

use crate::domain::image_type::ImageType;
use crate::pipeline::{jpeg_dc, jpeg_markers};
use crate::store::records::{Rejection, ThumbnailStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThumbnailSpec {
    /// Longest edge of the thumbnail, in pixels.
    pub max_edge: u32,
    /// Largest width × height decoded at all (decompression bombs declare billions).
    pub max_pixels: u64,
    /// Largest buffer a decoder may fill before the thumbnail is made: a PNG's or GIF's pixels
    /// at their own depth (a 16-bit RGBA pixel is 8 bytes), a progressive JPEG's coefficients.
    /// What keeps a file inside the pixel budget inside the function's memory too.
    pub max_decoded_bytes: u64,
    pub quality: u8,
}

impl ThumbnailSpec {
    /// The documented defaults: 320 px, 100 MP, 128 MiB decoded, quality 80
    /// (`THUMBNAIL_MAX_EDGE`, `THUMBNAIL_MAX_PIXELS`).
    pub const DEFAULT: ThumbnailSpec = ThumbnailSpec {
        max_edge: 320,
        max_pixels: 100_000_000,
        max_decoded_bytes: 128 << 20,
        quality: 80,
    };
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThumbnailError {
    /// A type no decoder here reads (HEIC, AVIF): the strip shows a placeholder.
    Unsupported,
    /// Declared larger than `max_pixels`, or needing more than `max_decoded_bytes` to decode;
    /// refused before decoding.
    TooLarge { width: u64, height: u64 },
    /// Not decodable as what it claims to be.
    Undecodable(String),
}

impl std::fmt::Display for ThumbnailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ThumbnailError::Unsupported => f.write_str("no decoder for this type"),
            ThumbnailError::TooLarge { width, height } => {
                write!(f, "{width} x {height} is over the pixel budget")
            }
            ThumbnailError::Undecodable(why) => write!(f, "undecodable: {why}"),
        }
    }
}

impl ThumbnailError {
    /// What the record says: a verified photo without a thumbnail, or why it is refused.
    pub fn outcome(&self) -> Result<ThumbnailStatus, Rejection> {
        match self {
            ThumbnailError::Unsupported => Ok(ThumbnailStatus::Unsupported),
            ThumbnailError::TooLarge { .. } => Err(Rejection::DimensionsOverBudget),
            ThumbnailError::Undecodable(_) => Err(Rejection::Undecodable),
        }
    }
}

pub fn make(
    bytes: &[u8],
    kind: ImageType,
    orientation: u16,
    spec: &ThumbnailSpec,
) -> Result<Thumbnail, ThumbnailError> {
    let image = match kind {
        ImageType::Jpeg => decode_jpeg(bytes, spec)?,
        ImageType::Png => decode_other(bytes, ImageFormat::Png, spec)?,
        ImageType::Gif => decode_other(bytes, ImageFormat::Gif, spec)?,
        ImageType::Webp => decode_other(bytes, ImageFormat::WebP, spec)?,
        ImageType::Heic | ImageType::Heif | ImageType::Avif => {
            return Err(ThumbnailError::Unsupported)
        }
    };
    let upright = orient(image, orientation);
    let (w, h) = fit(upright.width(), upright.height(), spec.max_edge);
    // Triangle (bilinear over the whole source footprint) after a 1/8 DCT decode: the source is
    // at most ~2× the target, where a wider kernel buys nothing visible.
    let small = imageops::resize(&upright, w, h, FilterType::Triangle);
    let mut jpeg = Vec::with_capacity((w * h) as usize / 4);
    JpegEncoder::new_with_quality(&mut jpeg, spec.quality)
        .encode_image(&small)
        .map_err(|e| ThumbnailError::Undecodable(e.to_string()))?;
    Ok(Thumbnail {
        jpeg,
        width: w,
        height: h,
    })
}

/// Longest side over shortest side of anything taken for a photo (a panorama is ~10:1). Past it,
/// a resize's first pass keeps the long side: a 16,000,000 × 1 image needed 1.6 GB.
const MAX_ASPECT: u64 = 64;

fn check_budget(width: u64, height: u64, spec: &ThumbnailSpec) -> Result<(), ThumbnailError> {
    if width == 0 || height == 0 {
        return Err(ThumbnailError::Undecodable("zero-sized image".into()));
    }
    if width.saturating_mul(height) > spec.max_pixels
        || width.max(height) / width.min(height) > MAX_ASPECT
    {
        return Err(ThumbnailError::TooLarge { width, height });
    }
    Ok(())
}

/// Pixels per byte of entropy-coded data beyond which a JPEG is taken as cut short: 24× what a
/// flat single-colour 12 MP image needs (progressive, the densest encoding measured).
const MAX_PIXELS_PER_BYTE: u64 = 4096;

fn decode_jpeg(bytes: &[u8], spec: &ThumbnailSpec) -> Result<RgbImage, ThumbnailError> {
    // The whole structure first: one frame within the budget, a bounded number of scans. A
    // decoder meets a later frame or the thousandth scan only after the work on the earlier ones.
    let layout = jpeg_markers::layout(bytes)
        .map_err(|refusal| ThumbnailError::Undecodable(refusal.reason().into()))?;
    let frame = layout.frame;
    let (width, height) = (u64::from(frame.width), u64::from(frame.height));
    check_budget(width, height, spec)?;
    if frame.decoded_whole() && frame.coefficient_bytes > spec.max_decoded_bytes {
        return Err(ThumbnailError::TooLarge { width, height });
    }
    // Entropy data that ends early is decoded as zeros to the last pixel: a few hundred bytes
    // would buy the whole pixel budget's work. A flat grey photo needs a byte per ~170 pixels.
    if width * height > 1 << 20
        && width * height / MAX_PIXELS_PER_BYTE > layout.entropy_bytes as u64
    {
        return Err(ThumbnailError::Undecodable(
            "the compressed data ends long before the image does".into(),
        ));
    }
    let bad = |e: jpeg_decoder::Error| ThumbnailError::Undecodable(e.to_string());
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(bad)?;
    let info = decoder
        .info()
        .ok_or_else(|| ThumbnailError::Undecodable("no frame".into()))?;
    check_budget(u64::from(info.width), u64::from(info.height), spec)?;
    // Big enough that 1/8 still covers the thumbnail (a phone photo): the DC-only decoder, at
    // the entropy-decoding floor; anything it does not handle falls through to jpeg-decoder.
    if u32::from(info.width.max(info.height)) / 8 >= spec.max_edge {
        if let Some(dc) = jpeg_dc::decode(bytes) {
            return RgbImage::from_raw(dc.width, dc.height, dc.rgb)
                .ok_or_else(|| ThumbnailError::Undecodable("short pixel data".into()));
        }
    }
    let edge = u16::try_from(spec.max_edge).unwrap_or(u16::MAX);
    let (w, h) = decoder.scale(edge, edge).map_err(bad)?;
    let pixels = decoder.decode().map_err(bad)?;
    let (w, h) = (u32::from(w), u32::from(h));
    let rgb = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => pixels,
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        jpeg_decoder::PixelFormat::L16 => pixels
            .chunks_exact(2)
            .flat_map(|l| [l[0], l[0], l[0]])
            .collect(),
        jpeg_decoder::PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|p| {
                let k = u16::from(p[3]);
                [p[0], p[1], p[2]].map(|c| ((u16::from(c) * k) / 255) as u8)
            })
            .collect(),
    };
    RgbImage::from_raw(w, h, rgb)
        .ok_or_else(|| ThumbnailError::Undecodable("short pixel data".into()))
}

fn decode_other(
    bytes: &[u8],
    format: ImageFormat,
    spec: &ThumbnailSpec,
) -> Result<RgbImage, ThumbnailError> {
    let bad = |e: image::ImageError| ThumbnailError::Undecodable(e.to_string());
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(spec.max_decoded_bytes);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(bad)?;
    let (w, h) = decoder.dimensions();
    check_budget(u64::from(w), u64::from(h), spec)?;
    // The pixels at their own depth and their RGB copy (3 bytes a pixel), before any work.
    let rgb_bytes = u64::from(w) * u64::from(h) * 3;
    if decoder.total_bytes().saturating_add(rgb_bytes) > spec.max_decoded_bytes {
        return Err(ThumbnailError::TooLarge {
            width: u64::from(w),
            height: u64::from(h),
        });
    }
    let image = DynamicImage::from_decoder(decoder).map_err(bad)?;
    Ok(image.into_rgb8())
}

/// EXIF orientation 1–8 applied: the thumbnail stands as the camera's user saw it.
fn orient(image: RgbImage, orientation: u16) -> RgbImage {
    match orientation {
        2 => imageops::flip_horizontal(&image),
        3 => imageops::rotate180(&image),
        4 => imageops::flip_vertical(&image),
        5 => imageops::flip_horizontal(&imageops::rotate90(&image)),
        6 => imageops::rotate90(&image),
        7 => imageops::flip_horizontal(&imageops::rotate270(&image)),
        8 => imageops::rotate270(&image),
        _ => image,
    }
}

/// `(w, h)` scaled so the longest edge is at most `max_edge`, never enlarged, never 0.
fn fit(w: u32, h: u32, max_edge: u32) -> (u32, u32) {
    let longest = w.max(h);
    if longest <= max_edge {
        return (w, h);
    }
    let scale = |x: u32| {
        ((u64::from(x) * u64::from(max_edge) + u64::from(longest) / 2) / u64::from(longest)).max(1)
            as u32
    };
    (scale(w), scale(h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev::test_images::{camera_jpeg, quadrant_colors, QUADRANTS};

    const SPEC: ThumbnailSpec = ThumbnailSpec::DEFAULT;

    fn jpeg() -> ImageType {
        ImageType::by_ext("jpg").unwrap()
    }

    #[test]
    fn the_longest_edge_fits_and_nothing_is_enlarged() {
        assert_eq!(fit(4032, 3024, 320), (320, 240));
        assert_eq!(fit(3024, 4032, 320), (240, 320));
        assert_eq!(fit(100, 50, 320), (100, 50));
        assert_eq!(fit(10_000, 1, 320), (320, 1));
    }

    #[test]
    fn every_orientation_stands_the_photo_upright() {
        // Stored sideways as cameras do, tagged with how to turn it; upright it reads QUADRANTS.
        for orientation in 1..=8u16 {
            let file = camera_jpeg(640, 480, orientation, None, 90);
            let thumb = make(&file, jpeg(), orientation, &SPEC).unwrap();
            assert_eq!(
                (thumb.width, thumb.height),
                (320, 240),
                "orientation {orientation}"
            );
            let decoded = image::load_from_memory(&thumb.jpeg).unwrap().into_rgb8();
            assert_eq!(
                quadrant_colors(&decoded),
                QUADRANTS,
                "orientation {orientation}"
            );
        }
    }

    #[test]
    fn the_thumbnail_carries_no_metadata() {
        let file = camera_jpeg(640, 480, 1, Some((51.5, -0.12)), 90);
        let thumb = make(&file, jpeg(), 1, &SPEC).unwrap();
        assert!(thumb.jpeg.starts_with(&[0xFF, 0xD8]));
        assert!(
            !thumb.jpeg.windows(4).any(|w| w == b"Exif"),
            "no EXIF segment"
        );
        assert_eq!(
            crate::pipeline::photo_metadata::read(&thumb.jpeg).location,
            None
        );
    }

    #[test]
    fn png_gif_and_webp_are_thumbnailed_and_heic_is_unsupported() {
        let image = DynamicImage::ImageRgb8(RgbImage::from_fn(800, 400, |x, _| {
            image::Rgb([(x % 256) as u8, 0, 0])
        }));
        for (ext, format) in [
            ("png", ImageFormat::Png),
            ("gif", ImageFormat::Gif),
            ("webp", ImageFormat::WebP),
        ] {
            let mut bytes = Vec::new();
            image
                .write_to(&mut Cursor::new(&mut bytes), format)
                .unwrap();
            let thumb = make(&bytes, ImageType::by_ext(ext).unwrap(), 1, &SPEC).unwrap();
            assert_eq!((thumb.width, thumb.height), (320, 160), "{ext}");
        }
        let heic = ImageType::by_ext("heic").unwrap();
        assert_eq!(
            make(b"....ftypheic", heic, 1, &SPEC),
            Err(ThumbnailError::Unsupported)
        );
    }

    #[test]
    fn a_bomb_is_refused_from_its_header_before_decoding() {
        // A PNG header declaring 100,000 × 100,000 pixels and no pixel data at all.
        let png = crate::dev::test_images::png_declaring(100_000, 100_000);
        let png_type = ImageType::by_ext("png").unwrap();
        assert_eq!(
            make(&png, png_type, 1, &SPEC),
            Err(ThumbnailError::TooLarge {
                width: 100_000,
                height: 100_000
            })
        );
        // A JPEG whose SOF declares 60,000 × 60,000.
        let mut big = camera_jpeg(64, 64, 1, None, 90);
        let sof = big.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        big[sof + 5..sof + 7].copy_from_slice(&60_000u16.to_be_bytes());
        big[sof + 7..sof + 9].copy_from_slice(&60_000u16.to_be_bytes());
        assert_eq!(
            make(&big, jpeg(), 1, &SPEC),
            Err(ThumbnailError::TooLarge {
                width: 60_000,
                height: 60_000
            })
        );
    }

    #[test]
    fn a_file_that_is_not_its_type_is_undecodable_and_rejected() {
        let err = make(b"hello, not a photo", jpeg(), 1, &SPEC).unwrap_err();
        assert_eq!(err.outcome(), Err(Rejection::Undecodable));
        let heic = make(b"....ftypheic", ImageType::Heic, 1, &SPEC).unwrap_err();
        assert_eq!(heic.outcome(), Ok(ThumbnailStatus::Unsupported));
    }

    #[test]
    fn every_file_of_the_hostile_corpus_is_refused_from_its_headers() {
        use crate::dev::hostile_images::corpus;
        let too_large = |e: &ThumbnailError| matches!(e, ThumbnailError::TooLarge { .. });
        let because = |why: &'static str| {
            move |e: &ThumbnailError| *e == ThumbnailError::Undecodable(why.into())
        };
        type Expect = Box<dyn Fn(&ThumbnailError) -> bool>;
        let expected: Vec<(&str, Expect)> = vec![
            (
                "truncated-frame-header.jpg",
                Box::new(because("a segment is cut short")),
            ),
            (
                "second-frame-header.jpg",
                Box::new(because("more than one frame header")),
            ),
            (
                "later-frame-65535x65535.jpg",
                Box::new(because("more than one frame header")),
            ),
            (
                "progressive-5000-scans.jpg",
                Box::new(because("more scans than any camera writes")),
            ),
            (
                "starved-baseline-10000x10000.jpg",
                Box::new(because(
                    "the compressed data ends long before the image does",
                )),
            ),
            // 10,000² of coefficients held whole: 300 MB.
            ("starved-progressive-10000x10000.jpg", Box::new(too_large)),
            // Inside the pixel budget, 8 bytes a pixel: 128 MB, then the RGB copy.
            ("rgba16-4000x4000.png", Box::new(too_large)),
            ("grey-16000000x1.png", Box::new(too_large)),
            ("gif-canvas-10000x10000.gif", Box::new(too_large)),
            ("webp-16383x6000.webp", Box::new(too_large)),
        ];
        let files = corpus();
        assert_eq!(files.len(), expected.len());
        for ((name, bytes), (expected_name, expect)) in files.iter().zip(&expected) {
            assert_eq!(name, expected_name);
            let ext = name.rsplit('.').next().unwrap();
            let kind = ImageType::by_ext(ext).unwrap();
            assert!(
                kind.matches_magic(bytes),
                "{name} passes the magic-byte check"
            );
            let err = make(bytes, kind, 1, &SPEC).unwrap_err();
            assert!(expect(&err), "{name}: {err}");
            assert!(err.outcome().is_err(), "{name}");
        }
    }

    #[test]
    fn a_photo_inside_the_budgets_still_gets_its_thumbnail() {
        // 12 MP as a PNG (8-bit RGB: 36 MB and its copy) and the widest panorama allowed.
        for (w, h) in [(4_000, 3_000), (6_400, 100)] {
            let png = crate::dev::hostile_images::zero_png(w, h, 8, 0);
            let thumb = make(&png, ImageType::Png, 1, &SPEC).unwrap();
            assert_eq!(thumb.width.max(thumb.height), 320, "{w}x{h}");
        }
    }

    #[test]
    fn hostile_jpegs_are_refused_from_their_structure_never_a_panic() {
        use crate::dev::hostile_images as hostile;
        let undecodable = |bytes: &[u8]| match make(bytes, jpeg(), 1, &SPEC) {
            Err(ThumbnailError::Undecodable(why)) => why,
            other => panic!("{other:?}"),
        };
        // A frame header cut short: `jpeg_dc::decode` panicked on it (an out-of-range read).
        assert_eq!(
            undecodable(&hostile::truncated_jpeg()),
            "a segment is cut short"
        );
        // A small first frame and a 65,535 × 65,535 one after its scan: seconds and hundreds of
        // MB in a general decoder, when only the first header was checked.
        assert_eq!(
            undecodable(&hostile::second_frame(64, 48, 65_535, 65_535, true)),
            "more than one frame header"
        );
        // A second header before the scan, in a photo big enough for the DC-only decoder (which
        // then read its planes out of range).
        let spliced = hostile::second_frame(2_600, 16, 2_600, 64, false);
        assert_eq!(undecodable(&spliced), "more than one frame header");
        assert!(crate::pipeline::jpeg_dc::decode(&spliced).is_none());
        assert_eq!(
            undecodable(&hostile::progressive_jpeg(4_032, 3_024, 5_000)),
            "more scans than any camera writes"
        );
        assert!(crate::pipeline::jpeg_dc::decode(&hostile::truncated_jpeg()).is_none());
    }
}
