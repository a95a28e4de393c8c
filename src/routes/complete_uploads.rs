//! `POST /upload-url` with `{"job_id", "keys": [...]}`: records that uploads finished. Every key
//! must be one the server could have issued for that job, and every object must exist in S3;
//! otherwise nothing is recorded.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request};
use serde::{Deserialize, Serialize};

use crate::app::{App, Caller};
use crate::audit::{self, AuditEvent, EVENT_UPLOAD_COMPLETED};
use crate::error::ApiError;
use crate::request::header;
use crate::storage;
use crate::utc::UtcTime;
use crate::validate;

pub const MAX_KEYS: usize = 50;
/// Far above 50 keys' worth of JSON (~4 KiB), far below what could strain the function.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompletionBody {
    job_id: String,
    keys: Vec<String>,
}

/// A checked completion: a valid job id and 1–50 distinct keys of that job.
#[derive(Debug, PartialEq, Eq)]
pub struct Completion {
    pub job_id: String,
    pub keys: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Recorded {
    pub audit_id: String,
    pub file_count: usize,
    pub total_bytes: i64,
}

pub fn parse(req: &Request) -> Result<Completion, ApiError> {
    if let Some(content_type) = header(req, "content-type") {
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::unsupported_media_type(
                "unsupported_body_type",
                "Send the body as application/json.",
            ));
        }
    }
    let bytes: &[u8] = match req.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "missing_body",
            r#"Send {"job_id": …, "keys": […]}."#,
        ));
    }
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::payload_too_large(
            "body_too_large",
            format!("The body may be at most {MAX_BODY_BYTES} bytes."),
        ));
    }
    let body: CompletionBody = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("The body is not a valid completion: {e}."),
        )
    })?;
    let job_id = validate::job_id(&body.job_id)?.to_owned();
    if body.keys.is_empty() || body.keys.len() > MAX_KEYS {
        return Err(ApiError::bad_request(
            "invalid_key_count",
            format!("`keys` must list 1 to {MAX_KEYS} keys."),
        ));
    }
    for (i, key) in body.keys.iter().enumerate() {
        if !validate::is_upload_key_of(&job_id, key) {
            return Err(ApiError::bad_request(
                "invalid_key",
                format!("keys[{i}] is not an upload key of job `{job_id}`."),
            ));
        }
        if body.keys[..i].contains(key) {
            return Err(ApiError::bad_request(
                "duplicate_key",
                format!("keys[{i}] is listed twice."),
            ));
        }
    }
    Ok(Completion {
        job_id,
        keys: body.keys,
    })
}

pub async fn handle(
    app: &App,
    req: &Request,
    caller: &Caller,
) -> Result<(StatusCode, Recorded), ApiError> {
    let config = app.config();
    let completion = parse(req)?;
    let sizes = storage::object_sizes(app.s3(), &config.uploads_bucket, &completion.keys).await?;
    let missing: Vec<String> = completion
        .keys
        .iter()
        .zip(&sizes)
        .filter(|(_, size)| size.is_none())
        .map(|(key, _)| key.clone())
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::objects_missing(missing));
    }
    let total_bytes: i64 = sizes.iter().flatten().sum();
    let file_count = completion.keys.len();
    let audit_id = uuid::Uuid::now_v7().to_string();
    let now = UtcTime::from_system_time(caller.now);

    audit::record(
        app.dynamodb(),
        &config.audit_table,
        AuditEvent {
            audit_id: &audit_id,
            event: EVENT_UPLOAD_COMPLETED,
            job_id: &completion.job_id,
            principal: &caller.principal,
            meta: &caller.meta,
            at: now,
            expire_at: app.audit_expiry(now),
            attributes: vec![
                ("file_count", AttributeValue::N(file_count.to_string())),
                ("total_bytes", AttributeValue::N(total_bytes.to_string())),
                (
                    "keys",
                    AttributeValue::L(completion.keys.into_iter().map(AttributeValue::S).collect()),
                ),
            ],
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Recorded {
            audit_id,
            file_count,
            total_bytes,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::tests::v2_request;
    use serde_json::json;

    const K1: &str = "jobs/j-1/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg";
    const K2: &str = "jobs/j-1/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6c.png";

    fn post(body: &str) -> Request {
        v2_request(
            "POST",
            "/upload-url",
            json!({"content-type": "application/json"}),
            Some(body),
        )
    }

    fn code_of(body: &str) -> (u16, &'static str) {
        let e = parse(&post(body)).unwrap_err();
        (e.status.as_u16(), e.code)
    }

    #[test]
    fn accepts_a_valid_completion() {
        let c = parse(&post(
            &json!({"job_id": "j-1", "keys": [K1, K2]}).to_string(),
        ))
        .unwrap();
        assert_eq!(
            c,
            Completion {
                job_id: "j-1".into(),
                keys: vec![K1.into(), K2.into()]
            }
        );
    }

    #[test]
    fn refuses_bad_bodies() {
        let other_job = K1.replace("j-1", "j-2");
        let many: Vec<String> = (0..51)
            .map(|i| format!("jobs/j-1/0190a0b2-3c4d-7e8f-9a0b-{i:012}.jpg"))
            .collect();
        let cases = [
            ("", (400, "missing_body")),
            ("{", (400, "invalid_json")),
            ("[]", (400, "invalid_json")),
            (r#"{"job_id": "j-1"}"#, (400, "invalid_json")),
            (
                &json!({"job_id": "j-1", "keys": [K1], "extra": 1}).to_string(),
                (400, "invalid_json"),
            ),
            (
                &json!({"job_id": "../x", "keys": [K1]}).to_string(),
                (400, "invalid_job_id"),
            ),
            (
                &json!({"job_id": "j-1", "keys": []}).to_string(),
                (400, "invalid_key_count"),
            ),
            (
                &json!({"job_id": "j-1", "keys": many}).to_string(),
                (400, "invalid_key_count"),
            ),
            (
                &json!({"job_id": "j-1", "keys": [other_job]}).to_string(),
                (400, "invalid_key"),
            ),
            (
                &json!({"job_id": "j-1", "keys": ["jobs/j-1/../j-2/x.jpg"]}).to_string(),
                (400, "invalid_key"),
            ),
            (
                &json!({"job_id": "j-1", "keys": [K1, K1]}).to_string(),
                (400, "duplicate_key"),
            ),
            (
                &format!(
                    r#"{{"job_id":"j-1","keys":["{}"]}}"#,
                    "a".repeat(MAX_BODY_BYTES)
                ),
                (413, "body_too_large"),
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(code_of(body), expected, "{body:.80}");
        }
    }

    #[test]
    fn refuses_non_json_bodies() {
        let req = v2_request(
            "POST",
            "/upload-url",
            json!({"content-type": "text/plain"}),
            Some("{}"),
        );
        assert_eq!(parse(&req).unwrap_err().status.as_u16(), 415);
        // No content type at all is taken as JSON (curl -d sends form-urlencoded, so it is named).
        let req = v2_request(
            "POST",
            "/upload-url",
            json!({}),
            Some(&json!({"job_id": "j-1", "keys": [K1]}).to_string()),
        );
        assert!(parse(&req).is_ok());
    }
}
