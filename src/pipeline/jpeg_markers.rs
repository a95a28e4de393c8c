//! A JPEG's structure, read before any decoder sees it: every frame header and how many scans,
//! walked segment by segment (a segment's payload is skipped by its length, so an EXIF thumbnail's
//! own markers are never mistaken for the file's) and through each scan's entropy data (where a
//! marker is the only `0xFF` not followed by `0x00` or a restart). What a decoder would only meet
//! later, after seconds of work on a small first frame, is refused here from a few hundred bytes.

/// One frame header (SOFn).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub marker: u8,
    pub width: u16,
    pub height: u16,
    pub components: u8,
    /// What a decoder holding every coefficient (progressive) or sample (lossless) of the image
    /// keeps in memory: two bytes per value of each component at its own sampling.
    pub coefficient_bytes: u64,
}

impl Frame {
    /// Progressive (SOF2, 6, 10, 14) or lossless (SOF3, 7, 11, 15): decoded whole, never scaled.
    pub fn decoded_whole(&self) -> bool {
        matches!(self.marker & 0x03, 0x02 | 0x03)
    }
}

/// What the walk found up to the end of the image (or of the bytes): the one frame a photo has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub frame: Frame,
    pub scans: usize,
    /// Bytes of entropy-coded data in all scans: what the pixels are decoded from.
    pub entropy_bytes: usize,
}

/// Why a file is refused before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NotJpeg,
    /// A segment runs past the end of the file, or a frame header is cut short.
    Truncated,
    NoFrame,
    /// A second frame header (hierarchical JPEG, or a frame spliced in after the first).
    SeveralFrames,
    /// More scans than [`MAX_SCANS`]: each progressive scan is another pass over the image.
    TooManyScans,
}

impl Refusal {
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::NotJpeg => "not a JPEG",
            Refusal::Truncated => "a segment is cut short",
            Refusal::NoFrame => "no frame header",
            Refusal::SeveralFrames => "more than one frame header",
            Refusal::TooManyScans => "more scans than any camera writes",
        }
    }
}

/// A progressive JPEG from a camera or libjpeg has about 10 scans; the most any encoder writes
/// by default is well under this.
pub const MAX_SCANS: usize = 64;

fn is_frame_marker(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF)
}

/// The walk; refuses at the first thing no photo has.
pub fn layout(data: &[u8]) -> Result<Layout, Refusal> {
    if data.get(..2) != Some(&[0xFF, 0xD8]) {
        return Err(Refusal::NotJpeg);
    }
    let mut frame = None;
    let mut scans = 0;
    let mut entropy_bytes = 0;
    let mut pos = 2;
    loop {
        // Fill bytes (0xFF) may pad before a marker; anything else between segments is junk a
        // decoder skips too.
        while pos < data.len() && data[pos] != 0xFF {
            pos += 1;
        }
        while pos < data.len() && data[pos] == 0xFF {
            pos += 1;
        }
        let Some(&marker) = data.get(pos) else {
            break; // the bytes end: a decoder reports what is missing
        };
        pos += 1;
        match marker {
            0xD9 => break,
            0x01 | 0xD0..=0xD7 => continue, // standalone markers
            // `FF 00` is no marker (a stuffed byte): junk to skip, as decoders do. Read as a
            // segment, its "length" could hide the frame header a decoder then finds.
            0x00 => continue,
            _ => {}
        }
        let len = match data.get(pos..pos + 2) {
            Some(&[a, b]) => usize::from(u16::from_be_bytes([a, b])),
            _ => return Err(Refusal::Truncated),
        };
        if len < 2 {
            return Err(Refusal::Truncated);
        }
        let segment = data.get(pos + 2..pos + len).ok_or(Refusal::Truncated)?;
        pos += len;
        if is_frame_marker(marker) {
            if frame.is_some() {
                return Err(Refusal::SeveralFrames);
            }
            let header = segment.get(..6).ok_or(Refusal::Truncated)?;
            let (height, width, components) = (
                u16::from_be_bytes([header[1], header[2]]),
                u16::from_be_bytes([header[3], header[4]]),
                header[5],
            );
            let sampling: Vec<(u64, u64)> = segment[6..]
                .chunks_exact(3)
                .take(usize::from(components))
                .map(|c| (u64::from(c[1] >> 4).max(1), u64::from(c[1] & 0x0F).max(1)))
                .collect();
            let h_max = sampling.iter().map(|s| s.0).max().unwrap_or(1);
            let v_max = sampling.iter().map(|s| s.1).max().unwrap_or(1);
            let coefficient_bytes = sampling
                .iter()
                .map(|&(h, v)| {
                    (u64::from(width) * h).div_ceil(h_max)
                        * (u64::from(height) * v).div_ceil(v_max)
                        * 2
                })
                .sum();
            frame = Some(Frame {
                marker,
                height,
                width,
                components,
                coefficient_bytes,
            });
        } else if marker == 0xDA {
            scans += 1;
            if scans > MAX_SCANS {
                return Err(Refusal::TooManyScans);
            }
            // The entropy-coded data: up to the next marker that is not a stuffed byte or a
            // restart marker.
            let start = pos;
            while pos + 1 < data.len() {
                if data[pos] == 0xFF && !matches!(data[pos + 1], 0x00 | 0xD0..=0xD7 | 0xFF) {
                    break;
                }
                pos += 1;
            }
            entropy_bytes += pos - start;
        }
    }
    let frame = frame.ok_or(Refusal::NoFrame)?;
    Ok(Layout {
        frame,
        scans,
        entropy_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev::hostile_images as hostile;
    use crate::dev::test_images::{camera_jpeg, photo_like_jpeg};

    #[test]
    fn a_camera_photo_has_one_frame_and_one_scan_and_its_exif_thumbnail_is_not_counted() {
        let photo = camera_jpeg(640, 480, 1, Some((-33.8568, 151.2153)), 90);
        let found = layout(&photo).unwrap();
        assert_eq!(
            found.frame,
            Frame {
                marker: 0xC0,
                width: 640,
                height: 480,
                components: 3,
                // 4:4:4 (the image crate's encoder): three full-size planes, two bytes a value.
                coefficient_bytes: 640 * 480 * 3 * 2,
            }
        );
        assert!(!found.frame.decoded_whole());
        assert_eq!(found.scans, 1);
        assert!(found.entropy_bytes > 1000 && found.entropy_bytes < photo.len());
        // An EXIF block holding a whole JPEG (as cameras embed their own thumbnail).
        let inner = photo_like_jpeg(32, 24, 1, 80);
        let mut app1 = vec![0xFF, 0xE1];
        app1.extend_from_slice(&u16::try_from(inner.len() + 2).unwrap().to_be_bytes());
        app1.extend_from_slice(&inner);
        let mut wrapped = photo[..2].to_vec();
        wrapped.extend_from_slice(&app1);
        wrapped.extend_from_slice(&photo[2..]);
        assert_eq!(layout(&wrapped).unwrap(), found);
    }

    #[test]
    fn ff_00_between_segments_is_junk_never_a_segment_hiding_the_frame() {
        // Found by the jpeg_differential fuzz target: after fill bytes, `FF 00 01 00` was read
        // as a 256-byte segment, skipping the frame header jpeg-decoder reads.
        let photo = photo_like_jpeg(64, 48, 1, 80);
        let mut junk = photo[..2].to_vec();
        junk.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0x00, 0x01, 0x00, 0x00]);
        junk.extend_from_slice(&photo[2..]);
        let found = layout(&junk).unwrap();
        assert_eq!((found.frame.width, found.frame.height), (64, 48));
        let mut reference = jpeg_decoder::Decoder::new(&junk[..]);
        reference.read_info().unwrap();
        let info = reference.info().unwrap();
        assert_eq!((info.width, info.height), (64, 48));
        // The DC-only decoder walks segments the same way.
        let dc = crate::pipeline::jpeg_dc::decode(&junk).map(|d| (d.width, d.height));
        assert_eq!(
            dc,
            crate::pipeline::jpeg_dc::decode(&photo).map(|d| (d.width, d.height))
        );
        assert!(dc.is_some());
    }

    #[test]
    fn a_progressive_photo_counts_its_scans() {
        let progressive = hostile::progressive_jpeg(64, 48, 10);
        let found = layout(&progressive).unwrap();
        assert_eq!((found.frame.marker, found.scans), (0xC2, 10));
        assert!(found.frame.decoded_whole());
    }

    #[test]
    fn what_no_photo_has_is_refused_before_decoding() {
        assert_eq!(layout(b"GIF89a"), Err(Refusal::NotJpeg));
        assert_eq!(layout(&hostile::truncated_jpeg()), Err(Refusal::Truncated));
        assert_eq!(
            layout(&hostile::second_frame(64, 64, 65_535, 65_535, true)),
            Err(Refusal::SeveralFrames)
        );
        assert_eq!(
            layout(&hostile::second_frame(64, 64, 64, 64, false)),
            Err(Refusal::SeveralFrames)
        );
        assert_eq!(
            layout(&hostile::progressive_jpeg(64, 48, MAX_SCANS + 1)),
            Err(Refusal::TooManyScans)
        );
        assert_eq!(layout(&[0xFF, 0xD8, 0xFF, 0xD9]), Err(Refusal::NoFrame));
    }

    #[test]
    fn any_bytes_are_walked_without_a_panic() {
        let good = photo_like_jpeg(160, 120, 1, 85);
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2_000 {
            let mut bytes = good.clone();
            for _ in 0..1 + next() % 8 {
                let i = (next() as usize) % bytes.len();
                bytes[i] = next() as u8;
            }
            bytes.truncate(2 + (next() as usize) % bytes.len());
            let _ = layout(&bytes);
        }
    }
}
