//! `GET /upload-url?job_id=…[&content_type=…][&size=…]`: a presigned POST for one new object.
//! The audit row is written before anything is signed; no row, no credential.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::http::StatusCode;
use lambda_http::Request;
use serde::Serialize;
use uuid::Uuid;

use crate::app::{App, Caller};
use crate::audit::{self, AuditEvent, EVENT_UPLOAD_URL_ISSUED};
use crate::config::Config;
use crate::error::ApiError;
use crate::post_policy::{presign_post, PostForm, UploadPolicy};
use crate::request::query_param;
use crate::utc::UtcTime;
use crate::validate::{self, ImageType};

#[derive(Debug, Serialize)]
pub struct UploadUrl {
    pub url: String,
    pub fields: PostForm,
    pub key: String,
    pub expires_at: String,
    pub max_bytes: u64,
    pub content_type: &'static str,
}

/// What the query asks for, checked against the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadRequest<'r> {
    pub job_id: &'r str,
    pub image: ImageType,
    pub max_bytes: u64,
}

pub fn parse<'r>(req: &'r Request, config: &Config) -> Result<UploadRequest<'r>, ApiError> {
    let job_id = query_param(req, "job_id")?.ok_or_else(|| {
        ApiError::bad_request("missing_job_id", "Query parameter `job_id` is required.")
    })?;
    let job_id = validate::job_id(job_id)?;
    let image = match query_param(req, "content_type")? {
        None => config.allowed_types[0],
        Some(requested) => {
            let requested = requested.trim().to_ascii_lowercase();
            config
                .allowed_types
                .iter()
                .copied()
                .find(|t| t.mime == requested)
                .ok_or_else(|| {
                    let allowed: Vec<&str> = config.allowed_types.iter().map(|t| t.mime).collect();
                    ApiError::unsupported_media_type(
                        "content_type_not_allowed",
                        format!("Photos must be one of: {}.", allowed.join(", ")),
                    )
                })?
        }
    };
    // A declared size narrows the signed size range to it; it can never widen it.
    let max_bytes = match query_param(req, "size")? {
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
    Ok(UploadRequest {
        job_id,
        image,
        max_bytes,
    })
}

pub async fn handle(
    app: &App,
    req: &Request,
    caller: &Caller,
) -> Result<(StatusCode, UploadUrl), ApiError> {
    let config = app.config();
    let upload = parse(req, config)?;
    let creds = app.credentials().await?;
    let session = app.signer().session(&creds, caller.now);
    let validity = session
        .validity_secs(config.upload_url_ttl_secs)
        .ok_or_else(App::credentials_expired)?;
    let now = session.now();
    let expires_at = UtcTime::from_unix_secs(now.unix_secs + validity);
    let key = validate::new_upload_key(upload.job_id, Uuid::now_v7(), upload.image);

    audit::record(
        app.dynamodb(),
        &config.audit_table,
        AuditEvent {
            audit_id: &Uuid::now_v7().to_string(),
            event: EVENT_UPLOAD_URL_ISSUED,
            job_id: upload.job_id,
            principal: &caller.principal,
            meta: &caller.meta,
            at: now,
            expire_at: app.audit_expiry(now),
            attributes: vec![
                ("key", AttributeValue::S(key.clone())),
                (
                    "content_type",
                    AttributeValue::S(upload.image.mime.to_owned()),
                ),
                ("max_bytes", AttributeValue::N(upload.max_bytes.to_string())),
                ("expires_at", AttributeValue::S(expires_at.rfc3339())),
            ],
        },
    )
    .await?;

    let fields = presign_post(
        &session,
        &UploadPolicy {
            bucket: &config.uploads_bucket,
            key: &key,
            content_type: upload.image.mime,
            job_id: upload.job_id,
            max_bytes: upload.max_bytes,
            expires_at,
        },
    );
    Ok((
        StatusCode::OK,
        UploadUrl {
            url: config.bucket_endpoint.post_url(),
            fields,
            key,
            expires_at: expires_at.rfc3339(),
            max_bytes: upload.max_bytes,
            content_type: upload.image.mime,
        },
    ))
}
