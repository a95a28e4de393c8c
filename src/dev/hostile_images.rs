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
    let mut out = vec![0xFF, 0xD8];
    out.extend_from_slice(&segment(0xDB, &[[0u8].as_slice(), &[1u8; 64]].concat()));
    out.extend_from_slice(&frame(0xC2, width, height));
    let mut dht = vec![0x00, 1];
    dht.extend_from_slice(&[0; 15]);
    dht.push(0);
    out.extend_from_slice(&segment(0xC4, &dht));
    for _ in 0..scans {
        out.extend_from_slice(&segment(0xDA, &[3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 0, 0]));
        out.push(0x00);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}
