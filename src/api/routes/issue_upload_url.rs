//! Grants: presigned uploads of new objects, each audited before it is signed (no row, no
//! credential), each counted against the caller's limits (`GrantQuota`: past one, `429` with
//! `Retry-After`).
//!
//! - `GET /upload-url?job_id=…[&content_type=…][&size=…][&sha256=…][&method=put]`: one grant. A
//!   presigned POST (a browser form) or, with `method=put` and an exact `size`, a presigned PUT
//!   (one request with the photo as its body, for iOS Shortcuts and curl).
//! - `POST /upload-url` with `{"job_id", "files": [{"size", "content_type", "sha256"}, …]}`: up to
//!   [`MAX_BATCH`] grants in one request, all or none (one transaction of every audit row, grant
//!   row and counter), in the order asked.

use lambda_http::http::StatusCode;
use lambda_http::Request;
use s3_presign::{presign_put, PostForm, PutUrlOptions, UploadPolicy, UtcTime};
use serde::{Deserialize, Serialize};

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

/// Grants per batch: each is two rows of one transaction (DynamoDB takes 100 items), with room.
pub const MAX_BATCH: usize = 20;

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

/// A batch's answer: one grant per file, in the order asked.
#[derive(Debug, Serialize)]
pub struct Grants {
    pub job_id: String,
    pub grants: Vec<UploadUrl>,
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

/// One file's grant, checked against the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileGrant {
    pub image: ImageType,
    /// The most a POST may carry; exactly what a PUT must carry.
    pub max_bytes: u64,
    /// The body's SHA-256: S3 then stores no other bytes under the grant.
    pub sha256: Option<ContentHash>,
}

/// What a request asks for: one grant (the query) or a batch (the body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRequest {
    pub job: JobId,
    pub method: UploadMethod,
    pub files: Vec<FileGrant>,
    /// Answered as [`Grants`] (a body asked) rather than one [`UploadUrl`] (a query asked).
    pub batch: bool,
}

pub fn parse(req: &Request, config: &ApiConfig) -> Result<UploadRequest, ApiError> {
    let job_id = query_param(req, "job_id")?.ok_or_else(|| {
        ApiError::bad_request("missing_job_id", "Query parameter `job_id` is required.")
    })?;
    let job = JobId::parse(job_id)?;
    let method = parse_method(query_param(req, "method")?)?;
    let size = match query_param(req, "size")? {
        None => None,
        Some(size) => Some(size.parse::<u64>().map_err(|_| invalid_size())?),
    };
    let file = check_file(
        config,
        method,
        query_param(req, "content_type")?,
        size,
        query_param(req, "sha256")?,
    )?;
    Ok(UploadRequest {
        job,
        method,
        files: vec![file],
        batch: false,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchBody {
    job_id: String,
    files: Vec<FileBody>,
    method: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBody {
    size: u64,
    content_type: Option<String>,
    sha256: String,
}

/// A batch body (`files` present; `complete_uploads::parse` tells the shapes apart).
pub fn parse_batch(body: &[u8], config: &ApiConfig) -> Result<UploadRequest, ApiError> {
    let body: BatchBody = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("The body is not a valid grant request: {e}."),
        )
    })?;
    let job = JobId::parse(&body.job_id)?;
    let method = parse_method(body.method.as_deref())?;
    if body.files.is_empty() || body.files.len() > MAX_BATCH {
        return Err(ApiError::bad_request(
            "invalid_file_count",
            format!("`files` must list 1 to {MAX_BATCH} files."),
        ));
    }
    let files = body
        .files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            check_file(
                config,
                method,
                file.content_type.as_deref(),
                Some(file.size),
                Some(&file.sha256),
            )
            .map_err(|mut err| {
                err.message = format!("files[{i}]: {}", err.message).into();
                err
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(UploadRequest {
        job,
        method,
        files,
        batch: true,
    })
}

fn parse_method(method: Option<&str>) -> Result<UploadMethod, ApiError> {
    match method {
        None => Ok(UploadMethod::Post),
        Some(m) if m.eq_ignore_ascii_case("post") => Ok(UploadMethod::Post),
        Some(m) if m.eq_ignore_ascii_case("put") => Ok(UploadMethod::Put),
        Some(_) => Err(ApiError::bad_request(
            "invalid_method",
            "`method` must be post (a form upload) or put (one request with the photo as its body).",
        )),
    }
}

fn invalid_size() -> ApiError {
    ApiError::bad_request(
        "invalid_size",
        "`size` must be a whole number of bytes above 0.",
    )
}

/// One file's type, size and hash against the configuration. A declared size narrows the signed
/// size range to it; it can never widen it.
fn check_file(
    config: &ApiConfig,
    method: UploadMethod,
    content_type: Option<&str>,
    size: Option<u64>,
    sha256: Option<&str>,
) -> Result<FileGrant, ApiError> {
    let image = match content_type {
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
    let max_bytes = match size {
        None if method == UploadMethod::Put => {
            return Err(ApiError::bad_request(
                "size_required",
                "method=put needs `size`, the photo's exact length in bytes: S3 checks it.",
            ))
        }
        None => config.max_upload_bytes,
        Some(0) => return Err(invalid_size()),
        Some(n) if n > config.max_upload_bytes => {
            return Err(ApiError::payload_too_large(
                "file_too_large",
                format!("Photos may be at most {} bytes.", config.max_upload_bytes),
            ))
        }
        Some(n) => n,
    };
    let sha256 = sha256
        .map(|text| {
            ContentHash::parse(text.trim()).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_sha256",
                    "`sha256` must be the photo's SHA-256: 64 hex digits, or 44 characters of base64.",
                )
            })
        })
        .transpose()?;
    Ok(FileGrant {
        image,
        max_bytes,
        sha256,
    })
}

/// Audits every grant (and counts them) in one transaction, then signs them: all or none.
pub async fn handle(
    ctx: &ApiContext,
    caller: &Caller,
    upload: UploadRequest,
) -> Result<(StatusCode, Vec<UploadUrl>), ApiError> {
    let config = &ctx.config;
    let creds = ctx.signing.credentials().await?;
    let session = ctx.signing.session(&creds, caller.now);
    let validity = signing::validity_secs(&session, config.upload_url_ttl_secs)?;
    let expires_at = UtcTime::from_unix_secs(session.now().unix_secs + validity);
    let keys: Vec<UploadKey> = upload
        .files
        .iter()
        .map(|file| UploadKey::generate(&upload.job, file.image))
        .collect();
    // A row per grant, each under its own request id (`{id}/1`, `{id}/2`…): unique sort keys.
    let callers: Vec<Caller> = (0..keys.len())
        .map(|i| {
            let mut each = caller.clone();
            if i > 0 {
                each.meta.request_id = format!("{}/{i}", caller.meta.request_id);
            }
            each
        })
        .collect();
    let acts: Vec<(&Caller, AuditEvent)> = callers
        .iter()
        .zip(&keys)
        .zip(&upload.files)
        .map(|((each, key), file)| {
            let event = AuditEvent::UploadUrlIssued {
                key,
                method: upload.method,
                max_bytes: file.max_bytes,
                expires_at,
                sha256: file.sha256,
            };
            (each, event)
        })
        .collect();
    let counters = config.grant_quota.counters(
        &caller.principal,
        &upload.job,
        UtcTime::from_system_time(caller.now),
    );
    let count = u32::try_from(keys.len()).unwrap_or(u32::MAX);
    ctx.audit
        .record_counted(&upload.job, &acts, &counters, count)
        .await?;

    let grants = keys
        .iter()
        .zip(&upload.files)
        .map(|(key, file)| {
            let checksum = file.sha256.map(|hash| hash.base64());
            let (url, fields, headers) = match upload.method {
                UploadMethod::Post => {
                    let fields = ctx.signing.presign_post(
                        &session,
                        &UploadPolicy {
                            bucket: &config.uploads_bucket,
                            key: key.as_str(),
                            content_type: file.image.mime(),
                            metadata: &[("x-amz-meta-job-id", upload.job.as_str())],
                            max_bytes: file.max_bytes,
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
                            content_type: file.image.mime(),
                            content_length: file.max_bytes,
                            checksum_sha256: checksum.as_deref(),
                        },
                    );
                    let headers = PutHeaders {
                        content_type: file.image.mime(),
                        content_length: file.max_bytes.to_string(),
                        checksum_sha256: checksum.clone(),
                    };
                    (url, None, Some(headers))
                }
            };
            UploadUrl {
                method: upload.method.as_str(),
                url,
                fields,
                headers,
                key: key.to_string(),
                expires_at: expires_at.rfc3339(),
                max_bytes: file.max_bytes,
                content_type: file.image.mime(),
                sha256: file.sha256.map(|hash| hash.hex()),
            }
        })
        .collect();
    Ok((StatusCode::OK, grants))
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
        assert_eq!(upload.files[0].image.mime(), "image/jpeg");
        assert_eq!(upload.files[0].max_bytes, 1000);
    }

    #[test]
    fn a_declared_size_narrows_the_limit_and_never_widens_it() {
        assert_eq!(
            parse_query("job_id=j-1&size=10").unwrap().files[0].max_bytes,
            10
        );
        assert_eq!(
            parse_query("job_id=j-1&size=1000").unwrap().files[0].max_bytes,
            1000
        );
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
        assert_eq!(
            (put.method, put.files[0].max_bytes),
            (UploadMethod::Put, 10)
        );
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
        assert_eq!(png.files[0].image.mime(), "image/png");
        for bad in ["text/html", "image/svg%2Bxml", "image/gif"] {
            let err = parse_query(&format!("job_id=j-1&content_type={bad}")).unwrap_err();
            assert_eq!(
                (err.status.as_u16(), err.code),
                (415, "content_type_not_allowed")
            );
        }
    }

    #[test]
    fn a_batch_names_each_file_and_says_which_one_is_wrong() {
        let config = config(&[("MAX_UPLOAD_BYTES", "1000")]);
        let hash = ContentHash::of(b"photo").hex();
        let body = |files: serde_json::Value| {
            serde_json::to_vec(&serde_json::json!({"job_id": "j-1", "files": files})).unwrap()
        };
        let two = body(serde_json::json!([
            {"size": 10, "content_type": "image/png", "sha256": hash},
            {"size": 1000, "sha256": hash},
        ]));
        let batch = parse_batch(&two, &config).unwrap();
        assert!(batch.batch);
        assert_eq!(batch.method, UploadMethod::Post);
        let files: Vec<(&str, u64)> = batch
            .files
            .iter()
            .map(|f| (f.image.mime(), f.max_bytes))
            .collect();
        assert_eq!(files, [("image/png", 10), ("image/jpeg", 1000)]);
        assert!(batch
            .files
            .iter()
            .all(|f| f.sha256 == ContentHash::parse(&hash)));

        let err = parse_batch(
            &body(serde_json::json!([
                {"size": 10, "sha256": hash},
                {"size": 10, "sha256": "nope"},
            ])),
            &config,
        )
        .unwrap_err();
        assert_eq!(err.code, "invalid_sha256");
        assert!(err.message.starts_with("files[1]: "), "{}", err.message);
        for (files, code) in [
            (serde_json::json!([]), "invalid_file_count"),
            (
                serde_json::json!(vec![
                    serde_json::json!({"size": 1, "sha256": hash});
                    MAX_BATCH + 1
                ]),
                "invalid_file_count",
            ),
            (
                serde_json::json!([{"size": 0, "sha256": hash}]),
                "invalid_size",
            ),
            (
                serde_json::json!([{"size": 1, "sha256": hash, "key": "x"}]),
                "invalid_json",
            ),
        ] {
            assert_eq!(parse_batch(&body(files), &config).unwrap_err().code, code);
        }
    }
}
