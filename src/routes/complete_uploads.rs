//! `POST /upload-url` with `{"job_id", "keys": [...]}`: records that uploads finished. Every key
//! must be one the server could have issued for that job, and every object must exist in S3;
//! otherwise nothing is recorded.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request};
use serde::{Deserialize, Serialize};

use crate::audit::AuditEvent;
use crate::auth::Caller;
use crate::context::Context;
use crate::error::ApiError;
use crate::job::{JobId, UploadKey};
use crate::request::header;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub job: JobId,
    pub keys: Vec<UploadKey>,
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
    let job = JobId::parse(&body.job_id)?;
    if body.keys.is_empty() || body.keys.len() > MAX_KEYS {
        return Err(ApiError::bad_request(
            "invalid_key_count",
            format!("`keys` must list 1 to {MAX_KEYS} keys."),
        ));
    }
    let mut keys = Vec::with_capacity(body.keys.len());
    for (i, raw) in body.keys.iter().enumerate() {
        let key = UploadKey::parse(&job, raw).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_key",
                format!("keys[{i}] is not an upload key of job `{job}`."),
            )
        })?;
        if keys.contains(&key) {
            return Err(ApiError::bad_request(
                "duplicate_key",
                format!("keys[{i}] is listed twice."),
            ));
        }
        keys.push(key);
    }
    Ok(Completion { job, keys })
}

pub async fn handle(
    ctx: &Context,
    caller: &Caller,
    completion: Completion,
) -> Result<(StatusCode, Recorded), ApiError> {
    let sizes = ctx.storage.object_sizes(&completion.keys).await?;
    let missing: Vec<String> = completion
        .keys
        .iter()
        .zip(&sizes)
        .filter(|(_, size)| size.is_none())
        .map(|(key, _)| key.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::objects_missing(missing));
    }
    let total_bytes: i64 = sizes.iter().flatten().sum();
    let audit_id = ctx
        .audit
        .record(
            caller,
            &completion.job,
            AuditEvent::UploadCompleted {
                keys: &completion.keys,
                total_bytes,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Recorded {
            audit_id: audit_id.to_string(),
            file_count: completion.keys.len(),
            total_bytes,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::ApiEvent;
    use serde_json::json;

    const K1: &str = "jobs/j-1/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg";
    const K2: &str = "jobs/j-1/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6c.png";

    fn post(body: &str) -> Request {
        ApiEvent::post("/upload-url")
            .header("content-type", "application/json")
            .body(body)
            .request()
    }

    fn code_of(body: &str) -> (u16, &'static str) {
        let e = parse(&post(body)).unwrap_err();
        (e.status.as_u16(), e.code)
    }

    #[test]
    fn a_valid_completion_is_its_job_and_its_keys_in_order() {
        let c = parse(&post(
            &json!({"job_id": "j-1", "keys": [K1, K2]}).to_string(),
        ))
        .unwrap();
        assert_eq!(c.job.as_str(), "j-1");
        let keys: Vec<&str> = c.keys.iter().map(UploadKey::as_str).collect();
        assert_eq!(keys, [K1, K2]);
    }

    #[test]
    fn every_malformed_body_gets_its_own_400_or_413() {
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
    fn a_body_that_is_not_json_is_415_and_an_unnamed_one_is_taken_as_json() {
        let req = ApiEvent::post("/upload-url")
            .header("content-type", "text/plain")
            .body("{}")
            .request();
        assert_eq!(parse(&req).unwrap_err().status.as_u16(), 415);
        // No content type at all is taken as JSON (curl -d sends form-urlencoded, so it is named).
        let req = ApiEvent::post("/upload-url")
            .body(&json!({"job_id": "j-1", "keys": [K1]}).to_string())
            .request();
        assert!(parse(&req).is_ok());
    }
}
