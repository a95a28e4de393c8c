//! Camera-like test photos (feature `dev`): JPEGs stored sideways with the EXIF orientation,
//! capture time, model and GPS position a phone writes, built from their definitions (the EXIF
//! spec's row/column rules, the TIFF layout) rather than from the code under test.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};

/// The upright photo's quadrants, left to right, top to bottom.
pub const QUADRANTS: [&str; 4] = ["red", "green", "blue", "white"];
const COLORS: [(&str, [u8; 3]); 4] = [
    ("red", [220, 30, 30]),
    ("green", [30, 200, 30]),
    ("blue", [30, 30, 220]),
    ("white", [240, 240, 240]),
];

fn upright_color(x: u32, y: u32, w: u32, h: u32) -> [u8; 3] {
    let quadrant = usize::from(x >= w / 2) + 2 * usize::from(y >= h / 2);
    COLORS[quadrant].1
}

/// A JPEG that *displays* as `width` × `height` quadrants once `orientation` is applied: its
/// pixels are stored as EXIF's 0th-row/0th-column rule for that orientation says a camera stores
/// them. With `gps`, the EXIF block carries that position.
pub fn camera_jpeg(
    width: u32,
    height: u32,
    orientation: u16,
    gps: Option<(f64, f64)>,
    quality: u8,
) -> Vec<u8> {
    let (w, h) = (width, height);
    let transposed = orientation >= 5;
    let (sw, sh) = if transposed { (h, w) } else { (w, h) };
    let stored = RgbImage::from_fn(sw, sh, |x, y| {
        let (dx, dy) = match orientation {
            2 => (w - 1 - x, y),
            3 => (w - 1 - x, h - 1 - y),
            4 => (x, h - 1 - y),
            5 => (y, x),
            6 => (w - 1 - y, x),
            7 => (w - 1 - y, h - 1 - x),
            8 => (y, h - 1 - x),
            _ => (x, y),
        };
        Rgb(upright_color(dx, dy, w, h))
    });
    with_exif(
        &encode(&stored, quality),
        &exif_app1(orientation, "2026:11:24 09:30:05", "QDN Test Camera", gps),
    )
}

/// A small, valid JPEG of exactly `len` bytes whose colour (and so bytes) follow `seed`: comment
/// segments pad it. For tests that need distinct photos the pipeline accepts; `len` ≥ 1,000.
pub fn padded_jpeg(seed: u8, len: usize) -> Vec<u8> {
    let color = [seed.wrapping_mul(37), seed.wrapping_mul(91), seed];
    let small = encode(&RgbImage::from_pixel(16, 16, Rgb(color)), 75);
    assert!(
        len >= small.len() + 4,
        "padded_jpeg needs at least {} bytes",
        small.len() + 4
    );
    let mut out = small[..2].to_vec();
    let mut pad = len - small.len();
    while pad > 0 {
        // A COM segment: marker, 16-bit length (which counts itself), then the text; never
        // leaving less than a segment's 4 bytes to pad.
        const MOST: usize = 65_535 + 2;
        let take = match pad {
            p if p <= MOST => p,
            p if p - MOST < 4 => MOST - 4,
            _ => MOST,
        };
        let body = take - 4;
        out.extend_from_slice(&[0xFF, 0xFE]);
        out.extend_from_slice(&((body + 2) as u16).to_be_bytes());
        out.extend((0..body).map(|i| b'a' + ((i + usize::from(seed)) % 26) as u8));
        pad -= take;
    }
    out.extend_from_slice(&small[2..]);
    out
}

/// A photo-like (noisy, detailed) JPEG of `width` × `height`, for benches: flat test patterns
/// compress to nothing and decode unrealistically fast.
pub fn photo_like_jpeg(width: u32, height: u32, orientation: u16, quality: u8) -> Vec<u8> {
    let mut seed = 0x9E37_79B9u32;
    let image = RgbImage::from_fn(width, height, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let noise = (seed % 48) as u8;
        let base = [
            ((x * 255) / width) as u8,
            ((y * 255) / height) as u8,
            (((x ^ y) >> 3) & 0xFF) as u8,
        ];
        Rgb(base.map(|c| c.saturating_add(noise)))
    });
    with_exif(
        &encode(&image, quality),
        &exif_app1(
            orientation,
            "2026:11:24 09:30:05",
            "QDN Bench Camera",
            Some((47.3769, 8.5417)),
        ),
    )
}

fn encode(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(Cursor::new(&mut out), quality)
        .encode_image(image)
        .expect("an in-memory JPEG encodes");
    out
}

/// `jpeg` with `app1` inserted right after SOI, where cameras put EXIF.
pub fn with_exif(jpeg: &[u8], app1: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(jpeg.len() + app1.len());
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Which of the four colours sits at the centre of each quadrant of `image`.
pub fn quadrant_colors(image: &RgbImage) -> [&'static str; 4] {
    let (w, h) = image.dimensions();
    [
        (w / 4, h / 4),
        (3 * w / 4, h / 4),
        (w / 4, 3 * h / 4),
        (3 * w / 4, 3 * h / 4),
    ]
    .map(|(x, y)| {
        let p = image.get_pixel(x, y).0;
        COLORS
            .iter()
            .min_by_key(|(_, c)| {
                (0..3)
                    .map(|i| (i32::from(p[i]) - i32::from(c[i])).pow(2))
                    .sum::<i32>()
            })
            .map(|(name, _)| *name)
            .unwrap_or("?")
    })
}

/// One TIFF IFD entry: tag, type (2 ASCII, 3 SHORT, 4 LONG, 5 RATIONAL), count, value bytes.
type Entry = (u16, u16, u32, Vec<u8>);

/// An APP1 `Exif` segment, big-endian TIFF: IFD0 (Model, Orientation, pointers), the Exif IFD
/// (DateTimeOriginal) and, with `gps`, the GPS IFD (latitude/longitude with their N/S, E/W refs).
pub fn exif_app1(orientation: u16, time: &str, model: &str, gps: Option<(f64, f64)>) -> Vec<u8> {
    let ascii = |s: &str| {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        v
    };
    let exif_ifd: Vec<Entry> = vec![(0x9003, 2, (time.len() + 1) as u32, ascii(time))];
    let gps_ifd: Option<Vec<Entry>> = gps.map(|(lat, lon)| {
        let dms = |v: f64| {
            let v = v.abs();
            let d = v.trunc();
            let m = ((v - d) * 60.0).trunc();
            let s = ((v - d) * 60.0 - m) * 60.0;
            [
                (d as u32, 1u32),
                (m as u32, 1),
                ((s * 10_000.0).round() as u32, 10_000),
            ]
            .iter()
            .flat_map(|(n, d)| n.to_be_bytes().into_iter().chain(d.to_be_bytes()))
            .collect::<Vec<u8>>()
        };
        vec![
            (1, 2, 2, ascii(if lat < 0.0 { "S" } else { "N" })),
            (2, 5, 3, dms(lat)),
            (3, 2, 2, ascii(if lon < 0.0 { "W" } else { "E" })),
            (4, 5, 3, dms(lon)),
        ]
    });
    let ifd0 = |exif_at: u32, gps_at: u32| {
        let mut e: Vec<Entry> = Vec::new();
        if !model.is_empty() {
            e.push((0x0110, 2, (model.len() + 1) as u32, ascii(model)));
        }
        e.push((0x0112, 3, 1, orientation.to_be_bytes().to_vec()));
        e.push((0x8769, 4, 1, exif_at.to_be_bytes().to_vec()));
        if gps_ifd.is_some() {
            e.push((0x8825, 4, 1, gps_at.to_be_bytes().to_vec()));
        }
        e
    };
    // Lay out once to learn the sizes, then again with the real offsets.
    let ifd0_len = ifd(&ifd0(0, 0), 8).len() as u32;
    let exif_at = 8 + ifd0_len;
    let exif_bytes = ifd(&exif_ifd, exif_at);
    let gps_at = exif_at + exif_bytes.len() as u32;
    let mut tiff = b"MM\0*\0\0\0\x08".to_vec();
    tiff.extend(ifd(&ifd0(exif_at, gps_at), 8));
    tiff.extend(exif_bytes);
    if let Some(g) = &gps_ifd {
        tiff.extend(ifd(g, gps_at));
    }
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend(tiff);
    app1
}

/// One IFD at TIFF offset `at`: count, entries, next-IFD 0, then values longer than 4 bytes.
fn ifd(entries: &[Entry], at: u32) -> Vec<u8> {
    let mut head = (entries.len() as u16).to_be_bytes().to_vec();
    let mut data = Vec::new();
    let data_at = at + 2 + 12 * entries.len() as u32 + 4;
    for (tag, kind, count, value) in entries {
        head.extend_from_slice(&tag.to_be_bytes());
        head.extend_from_slice(&kind.to_be_bytes());
        head.extend_from_slice(&count.to_be_bytes());
        if value.len() <= 4 {
            let mut inline = value.clone();
            inline.resize(4, 0);
            head.extend(inline);
        } else {
            head.extend_from_slice(&(data_at + data.len() as u32).to_be_bytes());
            data.extend_from_slice(value);
            if data.len() % 2 == 1 {
                data.push(0);
            }
        }
    }
    head.extend_from_slice(&[0, 0, 0, 0]);
    head.extend(data);
    head
}

/// A PNG that declares `width` × `height` pixels and carries none: the IHDR, an empty IDAT and
/// the end, everything a reader needs to report the size (a decompression bomb's header).
pub fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&width.to_be_bytes());
    png.extend_from_slice(&height.to_be_bytes());
    png.extend_from_slice(&[8, 2, 0, 0, 0]);
    let crc = crc32(&png[12..29]);
    png.extend_from_slice(&crc.to_be_bytes());
    for chunk in [&b"IDAT"[..], b"IEND"] {
        png.extend_from_slice(&[0, 0, 0, 0]);
        png.extend_from_slice(chunk);
        png.extend_from_slice(&crc32(chunk).to_be_bytes());
    }
    png
}

/// CRC-32 (PNG's), for hand-made PNG chunks.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_jpegs_have_the_asked_length_and_decode() {
        for len in [1_000, 65_541, 65_542, 140_000] {
            let bytes = padded_jpeg(3, len);
            assert_eq!(bytes.len(), len);
            let image = image::load_from_memory(&bytes).unwrap();
            assert_eq!(image.width(), 16);
        }
        assert_ne!(padded_jpeg(1, 2_000), padded_jpeg(2, 2_000));
    }
}
