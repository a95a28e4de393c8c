//! The image types we store: each one's MIME type and the key extension it gets.

/// An image type we can store. Raster types only: SVG (scriptable) and anything a browser would
/// render as a page are excluded on purpose, since photo URLs are served `inline` from our
/// bucket's origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageType {
    Jpeg,
    Png,
    Heic,
    Heif,
    Webp,
    Avif,
    Gif,
}

/// Every type, in the order the default allow-list names them.
pub const KNOWN_IMAGE_TYPES: &[ImageType] = &[
    ImageType::Jpeg,
    ImageType::Png,
    ImageType::Heic,
    ImageType::Heif,
    ImageType::Webp,
    ImageType::Avif,
    ImageType::Gif,
];

/// ISO BMFF `ftyp` brands (major or compatible) that make a file each container type.
const HEIF_BRANDS: &[&[u8; 4]] = &[
    b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1",
];
const AVIF_BRANDS: &[&[u8; 4]] = &[b"avif", b"avis"];

impl ImageType {
    /// Whether `head` (the object's first bytes, at least 32 when the object has them) starts
    /// the way a file of this type must: the bytes S3 stored, not the header the client declared.
    pub fn matches_magic(self, head: &[u8]) -> bool {
        match self {
            ImageType::Jpeg => head.starts_with(&[0xFF, 0xD8, 0xFF]),
            ImageType::Png => head.starts_with(b"\x89PNG\r\n\x1a\n"),
            ImageType::Gif => head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a"),
            ImageType::Webp => head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP",
            ImageType::Heic | ImageType::Heif => has_ftyp_brand(head, HEIF_BRANDS),
            ImageType::Avif => has_ftyp_brand(head, AVIF_BRANDS),
        }
    }

    /// The MIME type S3 stores and the policy signs.
    pub fn mime(self) -> &'static str {
        match self {
            ImageType::Jpeg => "image/jpeg",
            ImageType::Png => "image/png",
            ImageType::Heic => "image/heic",
            ImageType::Heif => "image/heif",
            ImageType::Webp => "image/webp",
            ImageType::Avif => "image/avif",
            ImageType::Gif => "image/gif",
        }
    }

    /// The extension its keys get.
    pub fn ext(self) -> &'static str {
        match self {
            ImageType::Jpeg => "jpg",
            ImageType::Png => "png",
            ImageType::Heic => "heic",
            ImageType::Heif => "heif",
            ImageType::Webp => "webp",
            ImageType::Avif => "avif",
            ImageType::Gif => "gif",
        }
    }

    pub fn by_mime(mime: &str) -> Option<ImageType> {
        KNOWN_IMAGE_TYPES.iter().copied().find(|t| t.mime() == mime)
    }

    pub fn by_ext(ext: &str) -> Option<ImageType> {
        KNOWN_IMAGE_TYPES.iter().copied().find(|t| t.ext() == ext)
    }
}

/// An ISO BMFF file opens with its `ftyp` box: size, `ftyp`, major brand, minor version, then
/// compatible brands up to the box's end. Any of them naming one of `brands` will do.
fn has_ftyp_brand(head: &[u8], brands: &[&[u8; 4]]) -> bool {
    if head.len() < 16 || &head[4..8] != b"ftyp" {
        return false;
    }
    let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let end = size.clamp(16, head.len());
    let major = std::iter::once(&head[8..12]);
    let compatible = head[16..end].chunks_exact(4);
    major
        .chain(compatible)
        .any(|brand| brands.iter().any(|b| &b[..] == brand))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_type_is_found_by_its_mime_type_and_its_extension() {
        for t in KNOWN_IMAGE_TYPES {
            assert_eq!(ImageType::by_ext(t.ext()), Some(*t));
            assert_eq!(ImageType::by_mime(t.mime()), Some(*t));
        }
    }

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut b = (size as u32).to_be_bytes().to_vec();
        b.extend_from_slice(b"ftyp");
        b.extend_from_slice(major);
        b.extend_from_slice(&[0, 0, 0, 0]);
        for c in compatible {
            b.extend_from_slice(*c);
        }
        b.extend_from_slice(&[0, 0, 0, 8, b'm', b'e', b't', b'a']);
        b
    }

    #[test]
    fn each_type_knows_its_own_magic_and_no_other() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE1, 0, 0x10].to_vec();
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        let gif = b"GIF89a\x01\0\x01\0".to_vec();
        let webp = b"RIFF\x24\0\0\0WEBPVP8 ".to_vec();
        let iphone_heic = ftyp(b"heic", &[b"mif1", b"heic"]);
        let heif = ftyp(b"mif1", &[b"heic"]);
        let avif = ftyp(b"avif", &[b"avif", b"mif1", b"miaf"]);
        let samples: [(&str, &[u8]); 7] = [
            ("jpg", &jpeg),
            ("png", &png),
            ("gif", &gif),
            ("webp", &webp),
            ("heic", &iphone_heic),
            ("heif", &heif),
            ("avif", &avif),
        ];
        for (ext, bytes) in samples {
            let t = ImageType::by_ext(ext).unwrap();
            assert!(t.matches_magic(bytes), "{ext}");
        }
        let jpeg_type = ImageType::by_ext("jpg").unwrap();
        for (name, bytes) in [
            ("text", &b"hello, this is not a photo at all"[..]),
            ("html", b"<!doctype html><script>alert(1)</script>"),
            ("svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
            ("empty", b""),
            ("png", &png),
        ] {
            assert!(!jpeg_type.matches_magic(bytes), "{name} is no JPEG");
        }
        // AVIF is no HEIC, HEIC no AVIF; a truncated or lying box is neither.
        assert!(!ImageType::by_ext("heic")
            .unwrap()
            .matches_magic(&avif[..20]));
        assert!(!ImageType::by_ext("avif")
            .unwrap()
            .matches_magic(&iphone_heic));
        assert!(!ImageType::by_ext("heic")
            .unwrap()
            .matches_magic(&iphone_heic[..10]));
        let mut mp4 = ftyp(b"isom", &[b"iso2", b"mp41"]);
        assert!(!ImageType::by_ext("heic").unwrap().matches_magic(&mp4));
        mp4[3] = 0xFF; // a box size past the bytes read is cut to what there is
        assert!(!ImageType::by_ext("heic").unwrap().matches_magic(&mp4));
    }

    #[test]
    fn scriptable_and_page_types_are_unknown() {
        for mime in [
            "image/svg+xml",
            "text/html",
            "application/xhtml+xml",
            "image/jpg",
        ] {
            assert_eq!(ImageType::by_mime(mime), None, "{mime}");
        }
    }
}
