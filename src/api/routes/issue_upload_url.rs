//! `GET /upload-url?job_id=…[&content_type=…][&size=…][&sha256=…][&method=put]`: a presigned POST (a browser
//! form) or, with `method=put` and an exact `size`, a presigned PUT (one request with the photo as
//! its body, for iOS Shortcuts and curl) for one new object. The audit row is written before
//! anything is signed; no row, no credential. Each grant counts against the caller's limits
//! (`GrantQuota`): past one, `429` with `Retry-After`.

use lambda_http::http::StatusCode;
use lambda_http::Request;
use s3_presign::{presign_put, PostForm, PutUrlOptions, UploadPolicy, UtcTime};
use serde::Serialize;

use crate::api::config::ApiConfig;
use crate::api::context::ApiContext;
use crate::api::error::ApiError;
use crate::api::request::query_param;
use crate::api::signing;
use crate::domain::caller::Caller;
use crate::domain::content_hash::ContentHash;
use crate::domain::image_type::ImageType;
use crate::domain::job::{JobId, UploadKey, UploadMethod};
use crate::store::audit::AuditEvent;

#[derive(Debug, Serialize)]
pub struct UploadUrl {
    /// `POST` (send `fields`, then the file, as a multipart form) or `PUT` (send the photo as the
    /// body, with exactly `headers`).
    pub method: &'static str,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<PostForm>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<PutHeaders>,
    pub key: String,
    pub expires_at: String,
    pub max_bytes: u64,
    pub content_type: &'static str,
    /// The SHA-256 (hex) the grant binds, when the request named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// The headers a presigned PUT was signed with: S3 refuses the upload unless they are sent as is.
#[derive(Debug, Serialize)]
pub struct PutHeaders {
    #[serde(rename = "Content-Type")]
    pub content_type: &'static str,
    #[serde(rename = "Content-Length")]
    pub content_length: String,
    #[serde(
        rename = "x-amz-checksum-sha256",
        skip_serializing_if = "Option::is_none"
    )]
    pub checksum_sha256: Option<String>,
}

/// What the query asks for, checked against the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRequest {
    pub job: JobId,
    pub image: ImageType,
    /// The most a POST may carry; exactly what a PUT must carry.
    pub max_bytes: u64,
    pub method: UploadMethod,
    /// The body's SHA-256: S3 then stores no other bytes under the grant.
    pub sha256: Option<ContentHash>,
}

pub fn parse(req: &Request, config: &ApiConfig) -> Result<UploadRequest, ApiError> {
    let job_id = query_param(req, "job_id")?.ok_or_else(|| {
        ApiError::bad_request("missing_job_id", "Query parameter `job_id` is required.")
    })?;
    let job = JobId::parse(job_id)?;
    let image = match query_param(req, "content_type")? {
        None => config.allowed_types[0],
        Some(requested) => {
            let requested = requested.trim().to_ascii_lowercase();
            config
                .allowed_types
                .iter()
                .copied()
                .find(|t| t.mime() == requested)
                .ok_or_else(|| {
                    let allowed: Vec<&str> =
                        config.allowed_types.iter().map(|t| t.mime()).collect();
                    ApiError::unsupported_media_type(
                        "content_type_not_allowed",
                        format!("Photos must be one of: {}.", allowed.join(", ")),
                    )
                })?
        }
    };
    let method = match query_param(req, "method")? {
        None => UploadMethod::Post,
        Some(m) if m.eq_ignore_ascii_case("post") => UploadMethod::Post,
        Some(m) if m.eq_ignore_ascii_case("put") => UploadMethod::Put,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_method",
                "`method` must be post (a form upload) or put (one request with the photo as its body).",
            ))
        }
    };
    // A declared size narrows the signed size range to it; it can never widen it.
    let max_bytes = match query_param(req, "size")? {
        None if method == UploadMethod::Put => {
            return Err(ApiError::bad_request(
                "size_required",
                "method=put needs `size`, the photo's exact length in bytes: S3 checks it.",
            ))
        }
        None => config.max_upload_bytes,
        Some(size) => match size.parse::<u64>() {
            Ok(0) | Err(_) => {
                return Err(ApiError::bad_request(
                    "invalid_size",
                    "`size` must be a whole number of bytes above 0.",
                ))
            }
            Ok(n) if n > config.max_upload_bytes => {
                return Err(ApiError::payload_too_large(
                    "file_too_large",
                    format!("Photos may be at most {} bytes.", config.max_upload_bytes),
                ))
            }
            Ok(n) => n,
        },
    };
    let sha256 = query_param(req, "sha256")?
        .map(|text| {
            ContentHash::parse(text.trim()).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_sha256",
                    "`sha256` must be the photo's SHA-256: 64 hex digits, or 44 characters of base64.",
                )
            })
        })
        .transpose()?;
    Ok(UploadRequest {
        job,
        image,
        max_bytes,
        method,
        sha256,
    })
}

pub async fn handle(
    ctx: &ApiContext,
    caller: &Caller,
    upload: UploadRequest,
) -> Result<(StatusCode, UploadUrl), ApiError> {
    let config = &ctx.config;
    let creds = ctx.signing.credentials().await?;
    let session = ctx.signing.session(&creds, caller.now);
    let validity = signing::validity_secs(&session, config.upload_url_ttl_secs)?;
    let expires_at = UtcTime::from_unix_secs(session.now().unix_secs + validity);
    let key = UploadKey::generate(&upload.job, upload.image);

    // Counted with its audit row: over a limit, nothing is issued, audited or counted.
    let counters = config.grant_quota.counters(
        &caller.principal,
        &upload.job,
        UtcTime::from_system_time(caller.now),
    );
    ctx.audit
        .record_counted(
            caller,
            &upload.job,
            AuditEvent::UploadUrlIssued {
                key: &key,
                method: upload.method,
                max_bytes: upload.max_bytes,
                expires_at,
                sha256: upload.sha256,
            },
            &counters,
            1,
        )
        .await?;

    let checksum = upload.sha256.map(|hash| hash.base64());
    let (url, fields, headers) = match upload.method {
        UploadMethod::Post => {
            let fields = ctx.signing.presign_post(
                &session,
                &UploadPolicy {
                    bucket: &config.uploads_bucket,
                    key: key.as_str(),
                    content_type: upload.image.mime(),
                    metadata: &[("x-amz-meta-job-id", upload.job.as_str())],
                    max_bytes: upload.max_bytes,
                    expires_at,
                    checksum_sha256: checksum.as_deref(),
                },
            );
            (config.bucket_endpoint.post_url(), Some(fields), None)
        }
        UploadMethod::Put => {
            let url = presign_put(
                &session,
                &config.bucket_endpoint,
                key.as_str(),
                &PutUrlOptions {
                    expires_secs: validity,
                    content_type: upload.image.mime(),
                    content_length: upload.max_bytes,
                    checksum_sha256: checksum.as_deref(),
                },
            );
            let headers = PutHeaders {
                content_type: upload.image.mime(),
                content_length: upload.max_bytes.to_string(),
                checksum_sha256: checksum.clone(),
            };
            (url, None, Some(headers))
        }
    };
    Ok((
        StatusCode::OK,
        UploadUrl {
            method: upload.method.as_str(),
            url,
            fields,
            headers,
            key: key.to_string(),
            expires_at: expires_at.rfc3339(),
            max_bytes: upload.max_bytes,
            content_type: upload.image.mime(),
            sha256: upload.sha256.map(|hash| hash.hex()),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev::api_events::{config, ApiEvent};

    fn parse_query(query: &str) -> Result<UploadRequest, ApiError> {
        let config = config(&[("MAX_UPLOAD_BYTES", "1000")]);
        parse(
            &ApiEvent::get(&format!("/upload-url?{query}")).request(),
            &config,
        )
    }

    #[test]
    fn the_first_allowed_type_and_the_configured_limit_are_the_defaults() {
        let upload = parse_query("job_id=j-1").unwrap();
        assert_eq!(upload.job.as_str(), "j-1");
        assert_eq!(upload.image.mime(), "image/jpeg");
        assert_eq!(upload.max_bytes, 1000);
    }

    #[test]
    fn a_declared_size_narrows_the_limit_and_never_widens_it() {
        assert_eq!(parse_query("job_id=j-1&size=10").unwrap().max_bytes, 10);
        assert_eq!(parse_query("job_id=j-1&size=1000").unwrap().max_bytes, 1000);
        assert_eq!(
            parse_query("job_id=j-1&size=1001").unwrap_err().code,
            "file_too_large"
        );
        for bad in ["0", "-1", "1.5", "big", ""] {
            assert_eq!(
                parse_query(&format!("job_id=j-1&size={bad}"))
                    .unwrap_err()
                    .code,
                "invalid_size",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_put_needs_its_exact_size_and_any_other_method_is_refused() {
        let put = parse_query("job_id=j-1&method=put&size=10").unwrap();
        assert_eq!((put.method, put.max_bytes), (UploadMethod::Put, 10));
        assert_eq!(
            parse_query("job_id=j-1&method=PUT&size=1000")
                .unwrap()
                .method,
            UploadMethod::Put
        );
        assert_eq!(
            parse_query("job_id=j-1&method=post").unwrap().method,
            UploadMethod::Post
        );
        assert_eq!(
            parse_query("job_id=j-1").unwrap().method,
            UploadMethod::Post
        );
        for (query, code) in [
            ("job_id=j-1&method=put", "size_required"),
            ("job_id=j-1&method=put&size=0", "invalid_size"),
            ("job_id=j-1&method=put&size=1001", "file_too_large"),
            ("job_id=j-1&method=get", "invalid_method"),
            ("job_id=j-1&method=", "invalid_method"),
            ("job_id=j-1&method=put&method=post", "repeated_parameter"),
        ] {
            assert_eq!(parse_query(query).unwrap_err().code, code, "{query}");
        }
    }

    #[test]
    fn a_requested_type_must_be_allowed() {
        let png = parse_query("job_id=j-1&content_type=IMAGE/PNG").unwrap();
        assert_eq!(png.image.mime(), "image/png");
        for bad in ["text/html", "image/svg%2Bxml", "image/gif"] {
            let err = parse_query(&format!("job_id=j-1&content_type={bad}")).unwrap_err();
            assert_eq!(
                (err.status.as_u16(), err.code),
                (415, "content_type_not_allowed")
            );
        }
    }
}
