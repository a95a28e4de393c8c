//! Hostile files a few lines can make (feature `dev`): the review's cases, each small, each built
//! here from the format's definition, so tests and the fuzz corpus can refuse them by name.

use crate::dev::test_images::photo_like_jpeg;

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, marker];
    out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A frame header: 8-bit samples, `height` × `width`, three components with 2×2 luma.
fn frame(marker: u8, width: u16, height: u16) -> Vec<u8> {
    let mut payload = vec![8];
    payload.extend_from_slice(&height.to_be_bytes());
    payload.extend_from_slice(&width.to_be_bytes());
    payload.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    segment(marker, &payload)
}

/// 28 bytes that open like a JPEG (SOI, a JFIF header) and hold a frame header of one byte: its
/// declared length is 3, so the width and height it must carry are not there.
pub fn truncated_jpeg() -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    out.extend_from_slice(&segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    out.extend_from_slice(&segment(0xC0, &[8]));
    out.extend_from_slice(&[0xFF, 0xC4, 0x00]);
    assert_eq!(out.len(), 28);
    out
}

/// A small, decodable photo with a second frame header spliced in: right after its first
/// (`after_scan` false: a decoder sizes its scan by one and meets the other) or after its scan,
/// before the end (a decoder that checked the first header then decodes the second). The first
/// declares `width` × `height`, the second `later_width` × `later_height`.
pub fn second_frame(
    width: u32,
    height: u32,
    later_width: u16,
    later_height: u16,
    after_scan: bool,
) -> Vec<u8> {
    let photo = photo_like_jpeg(width, height, 1, 75);
    let at = if after_scan {
        photo.len() - 2
    } else {
        let sof = photo.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        sof + 2 + usize::from(u16::from_be_bytes([photo[sof + 2], photo[sof + 3]]))
    };
    let mut out = photo[..at].to_vec();
    out.extend_from_slice(&frame(0xC0, later_width, later_height));
    out.extend_from_slice(&photo[at..]);
    out
}

/// A progressive-shaped JPEG (SOF2) of `width` × `height` with `scans` DC scans of one byte of
/// entropy data each: what a scan bomb looks like to a marker walk (thousands of scans in a few
/// kilobytes, each another pass over the whole image for a decoder).
pub fn progressive_jpeg(width: u16, height: u16, scans: usize) -> Vec<u8> {
    scanned_jpeg(0xC2, width, height, scans, 1)
}

/// A baseline JPEG declaring `width` × `height` whose one scan has a single byte of entropy data:
/// a decoder reads the missing rest as zeros, so ~150 bytes buy the whole image's decoding.
pub fn starved_jpeg(width: u16, height: u16) -> Vec<u8> {
    scanned_jpeg(0xC0, width, height, 1, 1)
}

/// The same with `entropy_bytes` of (zero) entropy data: past the pipeline's floor of a byte per
/// 4,096 pixels, the most decoding work a file inside every budget can ask for.
pub fn fed_jpeg(width: u16, height: u16, entropy_bytes: usize) -> Vec<u8> {
    scanned_jpeg(0xC0, width, height, 1, entropy_bytes)
}

fn scanned_jpeg(sof: u8, width: u16, height: u16, scans: usize, entropy_bytes: usize) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    for table in [0u8, 1] {
        out.extend_from_slice(&segment(0xDB, &[[table].as_slice(), &[1u8; 64]].concat()));
    }
    out.extend_from_slice(&frame(sof, width, height));
    for table in [0x00, 0x10] {
        let mut dht = vec![table, 1];
        dht.extend_from_slice(&[0; 15]);
        dht.push(0);
        out.extend_from_slice(&segment(0xC4, &dht));
    }
    // Baseline: every coefficient (Se 63); progressive: the DC scan (Se 0).
    let spectral_end = if sof == 0xC0 { 63 } else { 0 };
    for _ in 0..scans {
        out.extend_from_slice(&segment(
            0xDA,
            &[3, 1, 0x00, 2, 0x00, 3, 0x00, 0, spectral_end, 0],
        ));
        out.extend(std::iter::repeat_n(0x00, entropy_bytes));
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// A complete PNG of `width` × `height` zero pixels, `bit_depth` 8 or 16, `color_type` 0 (grey),
/// 2 (RGB) or 6 (RGBA): its IDAT is one fixed-Huffman deflate block of back-references (13 bits per 258
/// bytes), so a file of ~100 KB decodes to hundreds of megabytes.
pub fn zero_png(width: u32, height: u32, bit_depth: u8, color_type: u8) -> Vec<u8> {
    let channels: u64 = match color_type {
        2 => 3,
        6 => 4,
        _ => 1,
    };
    let row = 1 + u64::from(width) * channels * u64::from(bit_depth / 8);
    let raw = row * u64::from(height);
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[bit_depth, color_type, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (&b"IHDR"[..], ihdr),
        (b"IDAT", zlib_zeros(raw)),
        (b"IEND", Vec::new()),
    ] {
        png.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(&data);
        png.extend_from_slice(&chunk);
        png.extend_from_slice(&crate::dev::test_images::crc32(&chunk).to_be_bytes());
    }
    png
}

/// zlib: `len` zero bytes as one fixed-Huffman block: a literal 0, then length-258 copies at
/// distance 1, the rest as literals.
fn zlib_zeros(len: u64) -> Vec<u8> {
    let mut bits = BitWriter::default();
    bits.put(0b1, 1); // final block
    bits.put(0b01, 2); // fixed Huffman
    let literal_zero = |bits: &mut BitWriter| bits.put_code(0b0011_0000, 8);
    let mut left = len;
    if left > 0 {
        literal_zero(&mut bits);
        left -= 1;
    }
    while left >= 258 {
        bits.put_code(0b1100_0101, 8); // length 258 (symbol 285)
        bits.put_code(0b00000, 5); // distance 1
        left -= 258;
    }
    for _ in 0..left {
        literal_zero(&mut bits);
    }
    bits.put_code(0, 7); // end of block
    let mut out = vec![0x78, 0x01];
    out.extend_from_slice(&bits.finish());
    // Adler-32 of zeros: a stays 1, b grows by 1 per byte.
    let b = u32::try_from(len % 65_521).unwrap();
    out.extend_from_slice(&((b << 16) | 1).to_be_bytes());
    out
}

#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u32,
    used: u32,
}

impl BitWriter {
    /// `count` bits of `value`, least significant first (deflate's header fields).
    fn put(&mut self, value: u32, count: u32) {
        self.acc |= value << self.used;
        self.used += count;
        while self.used >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.used -= 8;
        }
    }

    /// A Huffman code, most significant bit first.
    fn put_code(&mut self, code: u32, count: u32) {
        let reversed = code.reverse_bits() >> (32 - count);
        self.put(reversed, count);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.used > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A GIF whose one frame fills a `width` × `height` canvas with a handful of LZW bytes.
pub fn gif_canvas(width: u16, height: u16) -> Vec<u8> {
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&width.to_le_bytes());
    gif.extend_from_slice(&height.to_le_bytes());
    gif.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
    gif.push(0x2C);
    gif.extend_from_slice(&[0, 0, 0, 0]);
    gif.extend_from_slice(&width.to_le_bytes());
    gif.extend_from_slice(&height.to_le_bytes());
    gif.extend_from_slice(&[0, 2, 2, 0x4C, 0x01, 0, 0x3B]);
    gif
}

/// A lossless WebP (VP8L) header, with alpha, declaring `width` × `height` (each below 16,384).
pub fn webp_declaring(width: u32, height: u32) -> Vec<u8> {
    let bits = (width - 1) | ((height - 1) << 14) | (1 << 28);
    let mut vp8l = vec![0x2F];
    vp8l.extend_from_slice(&bits.to_le_bytes());
    vp8l.extend_from_slice(&[0; 7]);
    let mut riff = b"WEBP".to_vec();
    riff.extend_from_slice(b"VP8L");
    riff.extend_from_slice(&u32::try_from(vp8l.len()).unwrap().to_le_bytes());
    riff.extend_from_slice(&vp8l);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&u32::try_from(riff.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&riff);
    out
}

/// Files inside every budget that cost the most each budget allows: what `make bench` measures
/// the release binary on beside the refused corpus.
pub fn edge_cases() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        // 100 MP (the pixel budget) of baseline JPEG with just enough entropy data.
        (
            "edge-baseline-10000x10000.jpg",
            fed_jpeg(10_000, 10_000, 10_000 * 10_000 / 4_096 + 1),
        ),
        // 38.5 MP of progressive JPEG (115 MB of coefficients, under 128 MiB), 64 scans fed
        // just enough data.
        (
            "edge-progressive-7000x5500.jpg",
            scanned_jpeg(0xC2, 7_000, 5_500, 64, 7_000 * 5_500 / 4_096 / 64 + 1),
        ),
        // 21 MP of 8-bit RGB PNG: 63 MB decoded and its 63 MB RGB copy, under 128 MiB.
        ("edge-rgb-7000x3000.png", zero_png(7_000, 3_000, 8, 2)),
        // The widest panorama allowed (64:1) at the same byte budget.
        ("edge-panorama-36000x560.png", zero_png(36_000, 560, 8, 2)),
    ]
}

/// The review's cases and what each is built to do, by the name the corpus gives its file.
pub fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("truncated-frame-header.jpg", truncated_jpeg()),
        (
            "second-frame-header.jpg",
            second_frame(2_600, 16, 2_600, 64, false),
        ),
        (
            "later-frame-65535x65535.jpg",
            second_frame(64, 48, 65_535, 65_535, true),
        ),
        (
            "progressive-5000-scans.jpg",
            progressive_jpeg(4_032, 3_024, 5_000),
        ),
        (
            "starved-baseline-10000x10000.jpg",
            starved_jpeg(10_000, 10_000),
        ),
        (
            "starved-progressive-10000x10000.jpg",
            progressive_jpeg(10_000, 10_000, 1),
        ),
        ("rgba16-4000x4000.png", zero_png(4_000, 4_000, 16, 6)),
        ("grey-16000000x1.png", zero_png(16_000_000, 1, 8, 0)),
        ("gif-canvas-10000x10000.gif", gif_canvas(10_000, 10_000)),
        ("webp-16383x6000.webp", webp_declaring(16_383, 6_000)),
    ]
}
