//! The image types we store: each one's MIME type and the key extension it gets.

/// An image type we can store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ImageType {
    pub mime: &'static str,
    pub ext: &'static str,
}

/// Raster types only: SVG (scriptable) and anything a browser would render as a page are excluded
/// on purpose, since photo URLs are served `inline` from our bucket's origin.
pub const KNOWN_IMAGE_TYPES: &[ImageType] = &[
    ImageType {
        mime: "image/jpeg",
        ext: "jpg",
    },
    ImageType {
        mime: "image/png",
        ext: "png",
    },
    ImageType {
        mime: "image/heic",
        ext: "heic",
    },
    ImageType {
        mime: "image/heif",
        ext: "heif",
    },
    ImageType {
        mime: "image/webp",
        ext: "webp",
    },
    ImageType {
        mime: "image/avif",
        ext: "avif",
    },
    ImageType {
        mime: "image/gif",
        ext: "gif",
    },
];

impl ImageType {
    pub fn by_mime(mime: &str) -> Option<ImageType> {
        KNOWN_IMAGE_TYPES.iter().copied().find(|t| t.mime == mime)
    }

    pub fn by_ext(ext: &str) -> Option<ImageType> {
        KNOWN_IMAGE_TYPES.iter().copied().find(|t| t.ext == ext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_type_is_found_by_its_mime_type_and_its_extension() {
        for t in KNOWN_IMAGE_TYPES {
            assert_eq!(ImageType::by_ext(t.ext), Some(*t));
            assert_eq!(ImageType::by_mime(t.mime), Some(*t));
        }
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
