//! What a photo's EXIF says that matters as field-service evidence: when it was taken, where, with
//! what camera; and how it must be turned to stand upright (read for the thumbnail, then dropped).

use exif::{In, Reader, Tag, Value};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhotoMetadata {
    /// `2026-11-24T09:30:00` (with `+01:00` when the camera recorded its offset).
    pub captured_at: Option<String>,
    /// Decimal degrees: latitude, longitude.
    pub location: Option<(f64, f64)>,
    pub camera_model: Option<String>,
    /// EXIF orientation 1–8 (1 = upright).
    pub orientation: u16,
}

/// Reads the EXIF block of a JPEG from its first bytes (EXIF sits in APP1, right after SOI).
/// Anything missing or malformed is simply absent: metadata is evidence, never a reason to fail.
pub fn read(head: &[u8]) -> PhotoMetadata {
    let Ok(exif) = Reader::new().read_from_container(&mut std::io::Cursor::new(head)) else {
        return PhotoMetadata {
            orientation: 1,
            ..Default::default()
        };
    };
    let text = |tag| {
        exif.get_field(tag, In::PRIMARY)
            .and_then(|f| match &f.value {
                Value::Ascii(parts) => parts
                    .first()
                    .map(|p| String::from_utf8_lossy(p).trim().to_owned())
                    .filter(|s| !s.is_empty()),
                _ => None,
            })
    };
    let orientation = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|o| u16::try_from(o).ok())
        .filter(|o| (1..=8).contains(o))
        .unwrap_or(1);
    let captured_at = text(Tag::DateTimeOriginal)
        .or_else(|| text(Tag::DateTime))
        .and_then(|t| exif_time(&t))
        .map(
            |t| match text(Tag::OffsetTimeOriginal).filter(|o| is_offset(o)) {
                Some(offset) => t + &offset,
                None => t,
            },
        );
    let coordinate = |value_tag, ref_tag, negative: &[u8]| -> Option<f64> {
        let field = exif.get_field(value_tag, In::PRIMARY)?;
        let Value::Rational(parts) = &field.value else {
            return None;
        };
        let [d, m, s] = parts.get(..3)? else {
            return None;
        };
        let degrees = d.to_f64() + m.to_f64() / 60.0 + s.to_f64() / 3600.0;
        let sign = match exif.get_field(ref_tag, In::PRIMARY).map(|f| &f.value) {
            Some(Value::Ascii(r)) if r.first().is_some_and(|r| r.as_slice() == negative) => -1.0,
            _ => 1.0,
        };
        Some(sign * degrees).filter(|v| v.is_finite())
    };
    let location = coordinate(Tag::GPSLatitude, Tag::GPSLatitudeRef, b"S")
        .zip(coordinate(Tag::GPSLongitude, Tag::GPSLongitudeRef, b"W"))
        .filter(|(lat, lon)| lat.abs() <= 90.0 && lon.abs() <= 180.0);
    PhotoMetadata {
        captured_at,
        location,
        camera_model: text(Tag::Model),
        orientation,
    }
}

/// `2026:11:24 09:30:00` → `2026-11-24T09:30:00`; anything else (cameras write `0000:00:00 …`
/// or blanks when unset) is no time.
fn exif_time(t: &str) -> Option<String> {
    let b = t.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shaped = b.len() >= 19
        && digits(0..4)
        && b[4] == b':'
        && digits(5..7)
        && b[7] == b':'
        && digits(8..10)
        && b[10] == b' '
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    (shaped && &t[0..4] != "0000")
        .then(|| format!("{}-{}-{}T{}", &t[0..4], &t[5..7], &t[8..10], &t[11..19]))
}

fn is_offset(o: &str) -> bool {
    let b = o.as_bytes();
    b.len() == 6
        && matches!(b[0], b'+' | b'-')
        && b[1..3].iter().all(u8::is_ascii_digit)
        && b[3] == b':'
        && b[4..6].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A JPEG APP1 EXIF segment (big-endian TIFF) with the given orientation, capture time,
    /// model and GPS position, for tests and benches that need a camera-like file.
    pub fn exif_segment(
        orientation: u16,
        time: &str,
        model: &str,
        gps: Option<(f64, f64)>,
    ) -> Vec<u8> {
        crate::dev::test_images::exif_app1(orientation, time, model, gps)
    }

    fn jpeg_head(app1: &[u8]) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        b.extend_from_slice(app1);
        b.extend_from_slice(&[0xFF, 0xD9]);
        b
    }

    #[test]
    fn time_place_camera_and_orientation_are_read() {
        let head = jpeg_head(&exif_segment(
            6,
            "2026:11:24 09:30:05",
            "iPhone 15 Pro",
            Some((-33.8568, 151.2153)),
        ));
        let m = read(&head);
        assert_eq!(m.orientation, 6);
        assert_eq!(m.captured_at.as_deref(), Some("2026-11-24T09:30:05"));
        assert_eq!(m.camera_model.as_deref(), Some("iPhone 15 Pro"));
        let (lat, lon) = m.location.unwrap();
        assert!(
            (lat + 33.8568).abs() < 1e-4 && (lon - 151.2153).abs() < 1e-4,
            "{lat} {lon}"
        );
    }

    #[test]
    fn missing_or_malformed_metadata_is_absent_never_an_error() {
        let none = read(&[0xFF, 0xD8, 0xFF, 0xD9]);
        assert_eq!(
            none,
            PhotoMetadata {
                orientation: 1,
                ..Default::default()
            }
        );
        assert_eq!(read(b"not a jpeg").orientation, 1);
        let unset = read(&jpeg_head(&exif_segment(
            9,
            "0000:00:00 00:00:00",
            "",
            None,
        )));
        assert_eq!(
            (
                unset.orientation,
                unset.captured_at,
                unset.camera_model,
                unset.location
            ),
            (1, None, None, None)
        );
        assert_eq!(exif_time("2026:11:24 09:30"), None);
        assert_eq!(exif_time("2026-11-24 09:30:00"), None);
    }
}
