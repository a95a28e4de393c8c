//! `GET /photos?job_id=…[&limit=…][&cursor=…][&order=oldest|newest]`: a job's completed photos in
//! upload order (oldest first unless `order=newest`), as short-lived presigned GET URLs of the
//! versions their completion recorded. Objects that were uploaded but never completed, and
//! anything else under the job's prefix, are not listed. The cursor is the last key of the
//! previous page (base64url), so it can only ever point inside the job's own prefix. URLs are
//! signed per window (`signing::CacheWindow`), so a refresh returns the same, cached, URLs.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use lambda_http::http::StatusCode;
use lambda_http::Request;
use s3_presign::{GetPresigner, GetUrlOptions};
use serde::Serialize;

use crate::api::context::ApiContext;
use crate::api::error::ApiError;
use crate::api::request::query_param;
use crate::api::signing::{self, CacheWindow};
use crate::domain::caller::Caller;
use crate::domain::job::JobId;
use crate::store::records::{ObjectRecord, PhotoRecord};

pub const DEFAULT_LIMIT: i32 = 100;
pub const MAX_LIMIT: i32 = 1000;
const MAX_KEY_BYTES: usize = 1024;

#[derive(Debug, Serialize)]
pub struct PhotoPage {
    pub job_id: String,
    pub photos: Vec<Photo>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Photo {
    pub key: String,
    pub url: String,
    pub size: i64,
    pub last_modified: Option<String>,
    pub content_type: &'static str,
    /// The pipeline's 320-px JPEG, when it made one (not for HEIC, not yet processed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    /// From the photo's EXIF, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
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
    /// The key to list after, already checked to lie inside the job's prefix.
    pub start_after: Option<String>,
    /// `order=newest`: the latest upload first (a phone's strip), else the oldest first.
    pub newest_first: bool,
}

pub fn parse(req: &Request) -> Result<PageRequest, ApiError> {
    let job_id = query_param(req, "job_id")?.ok_or_else(|| {
        ApiError::bad_request("missing_job_id", "Query parameter `job_id` is required.")
    })?;
    let job = JobId::parse(job_id)?;
    let limit = match query_param(req, "limit")? {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<i32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_limit",
                    format!("`limit` must be a whole number from 1 to {MAX_LIMIT}."),
                )
            })?,
    };
    let start_after = query_param(req, "cursor")?
        .map(|c| decode_cursor(&job, c))
        .transpose()?;
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
    Ok(PageRequest {
        job,
        limit,
        start_after,
        newest_first,
    })
}

pub fn encode_cursor(last_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_key)
}

fn decode_cursor(job: &JobId, cursor: &str) -> Result<String, ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "invalid_cursor",
            "`cursor` must be a `next_cursor` from this job's listing.",
        )
    };
    if cursor.len() > MAX_KEY_BYTES * 2 {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let key = String::from_utf8(bytes).map_err(|_| invalid())?;
    let inside_job = key
        .strip_prefix(&job.prefix())
        .is_some_and(|rest| !rest.is_empty());
    if inside_job && key.len() <= MAX_KEY_BYTES {
        Ok(key)
    } else {
        Err(invalid())
    }
}

pub async fn handle(
    ctx: &ApiContext,
    caller: &Caller,
    page: PageRequest,
) -> Result<(StatusCode, PhotoPage), ApiError> {
    let config = &ctx.config;
    let (records, more) = ctx
        .index
        .photo_page(
            &page.job,
            page.limit,
            page.start_after.as_deref(),
            page.newest_first,
        )
        .await?;
    let creds = ctx.signing.credentials().await?;
    let window = CacheWindow::containing(
        caller.now,
        config.photo_url_window_secs,
        config.photo_url_ttl_secs,
    );
    let session = ctx.signing.session(&creds, window.signed_at);
    let expires_secs = window.validity_secs(&session, caller.now)?;
    let cache_control = signing::photo_cache_control(expires_secs);
    let next_cursor = more
        .then(|| records.last().map(|p| encode_cursor(p.object.key.as_str())))
        .flatten();
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
    // What the pipeline found in each pinned version: its thumbnail and evidence, or that its
    // bytes were not a photo (such a version was removed and is not listed).
    let pinned: Vec<_> = records
        .iter()
        .map(|p| (&p.object.key, p.object.version_id.as_deref()))
        .collect();
    let found = ctx.index.object_records(&page.job, &pinned).await?;
    let photos = records
        .into_iter()
        .zip(found)
        .filter(|(_, found)| found.as_ref().is_none_or(|r| r.accepted))
        .map(|(PhotoRecord { object, .. }, found)| {
            let found = found.unwrap_or_else(ObjectRecord::unprocessed);
            Photo {
                // Pinned to the completed version: a later POST to the key cannot change the photo.
                url: presigner.presign_version(object.key.as_str(), object.version_id.as_deref()),
                size: object.size,
                last_modified: object.last_modified.map(|t| t.rfc3339()),
                content_type: object.key.image_type().mime(),
                key: object.key.to_string(),
                thumbnail_url: found.thumbnail_key.map(|k| presigner.presign(&k)),
                captured_at: found.captured_at,
                location: found.location.map(|(latitude, longitude)| Location {
                    latitude,
                    longitude,
                }),
            }
        })
        .collect();
    Ok((
        StatusCode::OK,
        PhotoPage {
            job_id: page.job.to_string(),
            photos,
            next_cursor,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev::api_events::ApiEvent;

    fn get(query: &str) -> Request {
        ApiEvent::get(&format!("/photos?{query}")).request()
    }

    #[test]
    fn the_limit_defaults_to_100_and_must_lie_in_1_to_1000() {
        assert_eq!(parse(&get("job_id=j")).unwrap().limit, DEFAULT_LIMIT);
        assert_eq!(parse(&get("job_id=j&limit=1000")).unwrap().limit, 1000);
        for bad in ["0", "1001", "-1", "ten", "1.5", "99999999999"] {
            assert_eq!(
                parse(&get(&format!("job_id=j&limit={bad}")))
                    .unwrap_err()
                    .code,
                "invalid_limit",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_cursor_can_only_point_inside_its_own_job() {
        let key = "jobs/j-1/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg";
        let req = get(&format!("job_id=j-1&cursor={}", encode_cursor(key)));
        assert_eq!(parse(&req).unwrap().start_after.as_deref(), Some(key));
        for bad in [
            encode_cursor("jobs/j-2/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg"),
            encode_cursor("jobs/j-1/"),
            encode_cursor("jobs/j-10/x.jpg"),
            "not%20base64!".to_owned(),
            URL_SAFE_NO_PAD.encode([0xff, 0xfe]),
            "A".repeat(5000),
        ] {
            let err = parse(&get(&format!("job_id=j-1&cursor={bad}"))).unwrap_err();
            assert_eq!(err.code, "invalid_cursor", "{bad:.40}");
        }
    }

    #[test]
    fn the_order_is_oldest_first_unless_newest_is_asked_for() {
        assert!(!parse(&get("job_id=j")).unwrap().newest_first);
        assert!(!parse(&get("job_id=j&order=oldest")).unwrap().newest_first);
        assert!(parse(&get("job_id=j&order=newest")).unwrap().newest_first);
        for bad in ["desc", "NEWEST", "", "newest%00"] {
            let err = parse(&get(&format!("job_id=j&order={bad}"))).unwrap_err();
            assert_eq!(err.code, "invalid_order", "{bad}");
        }
    }

    #[test]
    fn the_job_id_is_required_checked_and_single() {
        assert_eq!(parse(&get("limit=5")).unwrap_err().code, "missing_job_id");
        assert_eq!(
            parse(&get("job_id=a%2Fb")).unwrap_err().code,
            "invalid_job_id"
        );
        assert_eq!(
            parse(&get("job_id=a&job_id=b")).unwrap_err().code,
            "repeated_parameter"
        );
    }
}
