//! `GET /photos?job_id=…[&limit=…][&cursor=…][&order=oldest|newest][&include=pending]`: a job's
//! photos in upload order (oldest first unless `order=newest`), as short-lived presigned GET URLs
//! of the versions the pipeline verified. Only what the pipeline verified is listed: never an
//! upload it has not checked (whoever reported it), one it refused, or anything else under the
//! job's prefix. `include=pending` adds the uploads that are not photos yet (reported and waiting
//! for the check, or refused, with why), without any URL. The cursor is the last photo's listing
//! name (base64url), read only inside the job's own partition. URLs are signed per window
//! (`signing::CacheWindow`), so a refresh returns the same, cached, URLs.

use std::collections::HashSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use lambda_http::http::StatusCode;
use lambda_http::Request;
use s3_presign::{GetPresigner, GetUrlOptions};
use serde::Serialize;

use crate::api::context::ApiContext;
use crate::api::error::ApiError;
use crate::api::request::query_param;
use crate::api::routes::remove_photo;
use crate::api::signing;
use crate::domain::caller::Caller;
use crate::domain::job::JobId;
use crate::store::index::{PendingState, PendingUpload};
use crate::store::records::PhotoRecord;

pub const DEFAULT_LIMIT: i32 = 100;
/// A listing name: `{uuid}.{ext}`.
const MAX_CURSOR_BYTES: usize = 64;

#[derive(Debug, Serialize)]
pub struct PhotoPage {
    pub job_id: String,
    pub photos: Vec<Photo>,
    pub next_cursor: Option<String>,
    /// With `include=pending`: uploads that are not photos (yet), newest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<Vec<Pending>>,
}

#[derive(Debug, Serialize)]
pub struct Pending {
    pub key: String,
    /// `checking` (reported, not yet checked), `rejected`, or `duplicate` (the same bytes as a
    /// listed photo, `duplicate_of`).
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
}

impl From<PendingUpload> for Pending {
    fn from(upload: PendingUpload) -> Self {
        let declared = upload.key.image_type();
        let key = upload.key.to_string();
        match upload.state {
            PendingState::Checking => Pending {
                key,
                state: "checking",
                reason: None,
                message: None,
                duplicate_of: None,
            },
            PendingState::Rejected(why) => Pending {
                key,
                state: "rejected",
                reason: Some(why.code()),
                message: Some(why.message(declared)),
                duplicate_of: None,
            },
            PendingState::Duplicate { of } => Pending {
                key,
                state: "duplicate",
                reason: None,
                message: Some("The same photo is already in this job.".into()),
                duplicate_of: Some(of),
            },
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Photo {
    pub key: String,
    pub url: String,
    pub size: u64,
    /// The SHA-256 (hex) of the stored bytes, as the pipeline read them (photos verified before
    /// hashes were recorded have none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// When S3 stored it.
    pub last_modified: Option<String>,
    pub content_type: &'static str,
    /// `granted` (uploaded through this service) or `imported` (stored before it).
    pub provenance: &'static str,
    /// The pipeline's 320-px JPEG, when it made one (not for HEIC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    /// From the photo's EXIF, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// For the caller's own photo inside the retraction window: until when `DELETE /photos` takes
    /// it back (the capture strip's "Take back").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retractable_until: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub job: JobId,
    pub limit: i32,
    /// The listing name to list after.
    pub start_after: Option<String>,
    /// `order=newest`: the latest upload first (a phone's strip), else the oldest first.
    pub newest_first: bool,
    /// `include=pending`: the uploads that are not photos yet, too.
    pub include_pending: bool,
}

/// `limit` above `page_max` is served `page_max` photos and a cursor: a client that asks for more
/// pages on, it is not refused.
pub fn parse(req: &Request, page_max: i32) -> Result<PageRequest, ApiError> {
    let job_id = query_param(req, "job_id")?.ok_or_else(|| {
        ApiError::bad_request("missing_job_id", "Query parameter `job_id` is required.")
    })?;
    let job = JobId::parse(job_id)?;
    let limit = match query_param(req, "limit")? {
        None => DEFAULT_LIMIT.min(page_max),
        Some(raw) => match raw.parse::<u64>() {
            Ok(n) if n >= 1 => i32::try_from(n).unwrap_or(i32::MAX).min(page_max),
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_limit",
                    "`limit` must be a whole number of photos above 0.",
                ))
            }
        },
    };
    let start_after = query_param(req, "cursor")?.map(decode_cursor).transpose()?;
    let newest_first = match query_param(req, "order")? {
        None | Some("oldest") => false,
        Some("newest") => true,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_order",
                "`order` must be `oldest` or `newest`.",
            ))
        }
    };
    let include_pending = match query_param(req, "include")? {
        None => false,
        Some("pending") => true,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_include",
                "`include` may only be `pending`.",
            ))
        }
    };
    Ok(PageRequest {
        job,
        limit,
        start_after,
        newest_first,
        include_pending,
    })
}

pub fn encode_cursor(listing_name: &str) -> String {
    URL_SAFE_NO_PAD.encode(listing_name)
}

fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "invalid_cursor",
            "`cursor` must be a `next_cursor` from this job's listing.",
        )
    };
    if cursor.len() > MAX_CURSOR_BYTES * 2 {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let name = String::from_utf8(bytes).map_err(|_| invalid())?;
    let plain = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.';
    if !name.is_empty() && name.len() <= MAX_CURSOR_BYTES && name.bytes().all(plain) {
        Ok(name)
    } else {
        Err(invalid())
    }
}

/// The pending uploads, less any the page lists: one published after the pending read.
fn not_on_page<'a>(
    pending: Vec<PendingUpload>,
    page_keys: impl IntoIterator<Item = &'a str>,
) -> Vec<Pending> {
    let listed: HashSet<&str> = page_keys.into_iter().collect();
    pending
        .into_iter()
        .filter(|upload| !listed.contains(upload.key.as_str()))
        .map(Pending::from)
        .collect()
}

pub async fn handle(
    ctx: &ApiContext,
    caller: &Caller,
    page: PageRequest,
) -> Result<(StatusCode, PhotoPage), ApiError> {
    let config = &ctx.config;
    // Pending first, then the page: a photo published between the two reads is then on the page
    // (or still pending), never in neither. Read the other way round it was in neither, and the
    // capture page stopped watching for it (seen in CI: 150 uploads, one strip short).
    let pending = if page.include_pending {
        Some(ctx.index.pending(&page.job).await?)
    } else {
        None
    };
    let listing = ctx
        .index
        .photo_page(
            &page.job,
            page.limit,
            page.start_after.as_deref(),
            page.newest_first,
        )
        .await?;
    let creds = ctx.signing.credentials().await?;
    let (session, expires_secs) = ctx.signing.window_session(
        &creds,
        caller.now,
        config.photo_url_window_secs,
        config.photo_url_ttl_secs,
    )?;
    let cache_control = signing::photo_cache_control(expires_secs);
    let next_cursor = listing.next_after.as_deref().map(encode_cursor);
    let presigner = GetPresigner::new(
        &session,
        &config.bucket_endpoint,
        &GetUrlOptions {
            expires_secs,
            response_cache_control: Some(&cache_control),
            response_content_disposition: Some("inline"),
            x_id: Some("GetObject"),
        },
    );
    let pending = pending.map(|pending| {
        not_on_page(
            pending,
            listing.photos.iter().map(|photo| photo.object.key.as_str()),
        )
    });
    let photos = listing
        .photos
        .into_iter()
        .map(|photo| {
            let retractable_until =
                remove_photo::retractable_until(caller, &photo, config.retract_window_secs)
                    .map(|t| t.rfc3339());
            let PhotoRecord { object, record, .. } = photo;
            Photo {
                // Pinned to the verified version: a later POST to the key cannot change the photo.
                url: presigner.presign_version(object.key.as_str(), object.version_id.as_deref()),
                size: object.size,
                sha256: object.sha256.map(|hash| hash.hex()),
                last_modified: object.last_modified.map(|t| t.rfc3339()),
                content_type: object.key.image_type().mime(),
                provenance: object.key.provenance(),
                key: object.key.to_string(),
                thumbnail_url: record.thumbnail_key.map(|k| presigner.presign(&k)),
                captured_at: record.captured_at,
                location: record.location.map(|(latitude, longitude)| Location {
                    latitude,
                    longitude,
                }),
                retractable_until,
            }
        })
        .collect();
    Ok((
        StatusCode::OK,
        PhotoPage {
            job_id: page.job.to_string(),
            photos,
            next_cursor,
            pending,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev::api_events::ApiEvent;
    use crate::domain::job::UploadKey;
    use crate::store::records::Rejection;

    fn get(query: &str) -> Request {
        ApiEvent::get(&format!("/photos?{query}")).request()
    }

    #[test]
    fn an_upload_the_page_lists_is_not_pending_as_well() {
        let job = JobId::parse("j-1").unwrap();
        let key = |uuid: &str| UploadKey::parse_stored(&job, &format!("jobs/j-1/{uuid}.jpg"));
        let (published, checking, refused) = (
            "0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b",
            "0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6c",
            "0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6d",
        );
        let pending = [
            (published, PendingState::Checking),
            (checking, PendingState::Checking),
            (refused, PendingState::Rejected(Rejection::NotDeclaredType)),
        ]
        .map(|(uuid, state)| PendingUpload {
            key: key(uuid).unwrap(),
            state,
        });
        let page = [key(published).unwrap().to_string()];
        let left = not_on_page(pending.into(), page.iter().map(String::as_str));
        let left: Vec<_> = left.iter().map(|p| (p.key.as_str(), p.state)).collect();
        assert_eq!(
            left,
            [
                (key(checking).unwrap().as_str(), "checking"),
                (key(refused).unwrap().as_str(), "rejected"),
            ]
        );
    }

    #[test]
    fn the_limit_defaults_to_100_and_is_served_at_most_the_page_max() {
        assert_eq!(parse(&get("job_id=j"), 200).unwrap().limit, DEFAULT_LIMIT);
        assert_eq!(parse(&get("job_id=j"), 50).unwrap().limit, 50);
        assert_eq!(parse(&get("job_id=j&limit=7"), 200).unwrap().limit, 7);
        for over in ["201", "1000", "99999999999"] {
            let limit = parse(&get(&format!("job_id=j&limit={over}")), 200);
            assert_eq!(limit.unwrap().limit, 200, "{over}");
        }
        for bad in ["0", "-1", "ten", "1.5", ""] {
            assert_eq!(
                parse(&get(&format!("job_id=j&limit={bad}")), 200)
                    .unwrap_err()
                    .code,
                "invalid_limit",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_cursor_is_a_listing_name_and_nothing_else() {
        let name = "0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg";
        let req = get(&format!("job_id=j-1&cursor={}", encode_cursor(name)));
        assert_eq!(
            parse(&req, 1000).unwrap().start_after.as_deref(),
            Some(name)
        );
        for bad in [
            encode_cursor("jobs/j-2/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg"),
            encode_cursor("PHOTO#x"),
            encode_cursor(""),
            encode_cursor(&"a".repeat(65)),
            "not%20base64!".to_owned(),
            URL_SAFE_NO_PAD.encode([0xff, 0xfe]),
            "A".repeat(5000),
        ] {
            let err = parse(&get(&format!("job_id=j-1&cursor={bad}")), 1000).unwrap_err();
            assert_eq!(err.code, "invalid_cursor", "{bad:.40}");
        }
    }

    #[test]
    fn pending_uploads_are_included_only_when_asked_for() {
        assert!(!parse(&get("job_id=j"), 1000).unwrap().include_pending);
        assert!(
            parse(&get("job_id=j&include=pending"), 1000)
                .unwrap()
                .include_pending
        );
        for bad in ["all", "", "PENDING"] {
            let err = parse(&get(&format!("job_id=j&include={bad}")), 1000).unwrap_err();
            assert_eq!(err.code, "invalid_include", "{bad}");
        }
    }

    #[test]
    fn the_order_is_oldest_first_unless_newest_is_asked_for() {
        assert!(!parse(&get("job_id=j"), 1000).unwrap().newest_first);
        assert!(
            !parse(&get("job_id=j&order=oldest"), 1000)
                .unwrap()
                .newest_first
        );
        assert!(
            parse(&get("job_id=j&order=newest"), 1000)
                .unwrap()
                .newest_first
        );
        for bad in ["desc", "NEWEST", "", "newest%00"] {
            let err = parse(&get(&format!("job_id=j&order={bad}")), 1000).unwrap_err();
            assert_eq!(err.code, "invalid_order", "{bad}");
        }
    }

    #[test]
    fn the_job_id_is_required_checked_and_single() {
        assert_eq!(
            parse(&get("limit=5"), 1000).unwrap_err().code,
            "missing_job_id"
        );
        assert_eq!(
            parse(&get("job_id=a%2Fb"), 1000).unwrap_err().code,
            "invalid_job_id"
        );
        assert_eq!(
            parse(&get("job_id=a&job_id=b"), 1000).unwrap_err().code,
            "repeated_parameter"
        );
    }
}
