//! Input rules: job ids, the image types we store, and the shape of the keys the server generates.
//! Everything a client sends that ends up in a key or a policy passes through here first.

use uuid::Uuid;

use crate::error::ApiError;

pub const MAX_JOB_ID_LEN: usize = 64;

/// An image type we can store: its MIME type and the key extension it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

pub fn image_type_by_mime(mime: &str) -> Option<ImageType> {
    KNOWN_IMAGE_TYPES.iter().copied().find(|t| t.mime == mime)
}

pub fn image_type_by_ext(ext: &str) -> Option<ImageType> {
    KNOWN_IMAGE_TYPES.iter().copied().find(|t| t.ext == ext)
}

/// 1–64 characters of `[A-Za-z0-9_-]`: safe in a key, a policy and a DynamoDB key as it is.
pub fn job_id(raw: &str) -> Result<&str, ApiError> {
    let valid = !raw.is_empty()
        && raw.len() <= MAX_JOB_ID_LEN
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(raw)
    } else {
        Err(ApiError::bad_request(
            "invalid_job_id",
            "job_id must be 1-64 characters of letters, digits, '_' or '-'.",
        ))
    }
}

/// `jobs/{job_id}/`, the prefix every object of a job lives under.
pub fn job_prefix(job_id: &str) -> String {
    format!("jobs/{job_id}/")
}

/// `jobs/{job_id}/{uuid v7}.{ext}`: time-ordered, so a listing is in upload order.
pub fn new_upload_key(job_id: &str, id: Uuid, image: ImageType) -> String {
    let mut key = String::with_capacity(6 + job_id.len() + 1 + 36 + 1 + image.ext.len());
    key.push_str("jobs/");
    key.push_str(job_id);
    key.push('/');
    key.push_str(id.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
    key.push('.');
    key.push_str(image.ext);
    key
}

/// Whether `key` is one the server could have generated for `job_id`.
pub fn is_upload_key_of(job_id: &str, key: &str) -> bool {
    let Some(name) = key
        .strip_prefix("jobs/")
        .and_then(|rest| rest.strip_prefix(job_id))
        .and_then(|rest| rest.strip_prefix('/'))
    else {
        return false;
    };
    let Some((id, ext)) = name.split_once('.') else {
        return false;
    };
    let is_v7_lower_hyphenated = id.len() == 36
        && !id.bytes().any(|b| b.is_ascii_uppercase())
        && Uuid::try_parse(id).is_ok_and(|u| u.get_version_num() == 7);
    is_v7_lower_hyphenated && image_type_by_ext(ext).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids() {
        for ok in ["j-12345", "A_b-9", &"x".repeat(64)] {
            assert_eq!(job_id(ok).unwrap(), ok);
        }
        for bad in [
            "",
            "..",
            "a/b",
            "a%2Fb",
            "jöb",
            "j\u{2010}1",
            "a b",
            "a.b",
            &"x".repeat(65),
            "j\0",
        ] {
            let err = job_id(bad).unwrap_err();
            assert_eq!(
                (err.status.as_u16(), err.code),
                (400, "invalid_job_id"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn generated_keys_validate_and_sort_by_time() {
        let jpeg = image_type_by_mime("image/jpeg").unwrap();
        let keys: Vec<String> = (0..200)
            .map(|_| new_upload_key("j-1", Uuid::now_v7(), jpeg))
            .collect();
        for key in &keys {
            assert!(
                key.starts_with("jobs/j-1/") && key.ends_with(".jpg"),
                "{key}"
            );
            assert!(is_upload_key_of("j-1", key), "{key}");
            assert!(!is_upload_key_of("j-2", key));
            assert!(!is_upload_key_of("j", key), "prefix of another job id");
        }
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(sorted, keys, "v7 keys list in creation order");
    }

    #[test]
    fn foreign_keys_are_refused() {
        let v4 = Uuid::from_u128(0x0190a0b2_3c4d_4e8f_9a0b_1c2d3e4f5a6b);
        let v7 = "0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b";
        assert!(is_upload_key_of("j", &format!("jobs/j/{v7}.png")));
        for bad in [
            format!("jobs/j/{v7}.exe"),
            format!("jobs/j/{v7}.svg"),
            format!("jobs/j/{v7}"),
            format!("jobs/j/{}.jpg", v7.to_uppercase()),
            format!("jobs/j/{}.jpg", v7.replace('-', "")),
            format!("jobs/j/{}.jpg", v4.hyphenated()),
            format!("jobs/j/../k/{v7}.jpg"),
            format!("jobs/j/x/{v7}.jpg"),
            format!("/jobs/j/{v7}.jpg"),
            format!("jobs/j/{v7}.jpg.jpg"),
        ] {
            assert!(!is_upload_key_of("j", &bad), "{bad}");
        }
    }

    #[test]
    fn every_known_type_round_trips() {
        for t in KNOWN_IMAGE_TYPES {
            assert_eq!(image_type_by_ext(t.ext), Some(*t));
            assert_eq!(image_type_by_mime(t.mime), Some(*t));
        }
        assert_eq!(image_type_by_mime("image/svg+xml"), None);
        assert_eq!(image_type_by_mime("text/html"), None);
    }
}
