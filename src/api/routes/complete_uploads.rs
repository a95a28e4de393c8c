//! `POST /upload-url` with `{"job_id", "keys": [...]}`: records that uploads finished. Every key
//! must be one the server issued to this caller for that job, and every object must exist in S3;
//! otherwise nothing is recorded. The record pins each object's size, ETag and version.
//!
//! The same route takes the deployed dashboard's older body (`file_count`, no keys), and a batch
//! of grants asked for (`files`): which fields are present decides which one a body is; see
//! [`report_uploads`](super::report_uploads) and [`issue_upload_url`].

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request};
use serde::{Deserialize, Serialize};

use crate::api::config::ApiConfig;
use crate::api::context::ApiContext;
use crate::api::error::ApiError;
use crate::api::request::header;
use crate::api::routes::issue_upload_url::{self, UploadRequest};
use crate::api::routes::report_uploads::{parse_report, ClientReport};
use crate::domain::caller::Caller;
use crate::domain::job::{JobId, UploadKey};
use crate::store::audit::AuditEvent;
use crate::store::records::{CompletionRecord, StoredObject, UploadState};

pub const MAX_KEYS: usize = 50;
/// Far above 50 keys' worth of JSON (~4 KiB), far below what could strain the function.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Both body shapes; which fields are present decides which one it is.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompletionBody {
    job_id: String,
    keys: Option<Vec<String>>,
    file_count: Option<u32>,
    timestamp: Option<String>,
}

/// What a `POST /upload-url` body is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostedUploads {
    Completion(Completion),
    Report(ClientReport),
    /// `files`: a batch of grants asked for (`issue_upload_url`).
    Grants(UploadRequest),
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

pub fn parse(req: &Request, config: &ApiConfig) -> Result<PostedUploads, ApiError> {
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
    if asks_for_grants(bytes) {
        return issue_upload_url::parse_batch(bytes, config).map(PostedUploads::Grants);
    }
    let body: CompletionBody = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("The body is not a valid completion: {e}."),
        )
    })?;
    let job = JobId::parse(&body.job_id)?;
    let keys = match (body.keys, body.file_count, body.timestamp) {
        (Some(keys), None, None) => keys,
        (None, Some(file_count), timestamp) => {
            return parse_report(job, file_count, timestamp).map(PostedUploads::Report)
        }
        (Some(_), _, _) => {
            return Err(ApiError::bad_request(
                "mixed_completion",
                "Send `keys` (a completion S3 confirms) or `file_count` (an unverified report), not both.",
            ))
        }
        (None, None, _) => {
            return Err(ApiError::bad_request(
                "missing_keys",
                r#"Send {"job_id": …, "keys": […]} with the keys of the finished uploads."#,
            ))
        }
    };
    parse_keys(job, &keys).map(PostedUploads::Completion)
}

/// A JSON object with a `files` member: grants asked for, not uploads reported.
fn asks_for_grants(body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        files: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Probe>(body).is_ok_and(|probe| probe.files.is_some())
}

fn parse_keys(job: JobId, raw_keys: &[String]) -> Result<Completion, ApiError> {
    if raw_keys.is_empty() || raw_keys.len() > MAX_KEYS {
        return Err(ApiError::bad_request(
            "invalid_key_count",
            format!("`keys` must list 1 to {MAX_KEYS} keys."),
        ));
    }
    let mut keys = Vec::with_capacity(raw_keys.len());
    for (i, raw) in raw_keys.iter().enumerate() {
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

/// Records the completion once. The keys must have been issued to this caller (403) and be in S3
/// (409 `objects_missing`). Sending the same keys again answers the first record (200, same
/// `audit_id`) and writes nothing, whatever S3 holds now; keys already completed by another
/// request are 409 `already_completed`.
pub async fn handle(
    ctx: &ApiContext,
    caller: &Caller,
    completion: Completion,
) -> Result<(StatusCode, Recorded), ApiError> {
    let states = ctx
        .index
        .upload_states(&completion.job, &completion.keys)
        .await?;
    check_issued_to(caller, &completion.keys, &states)?;
    if let Some(earlier) = already_recorded(&completion.keys, &states)? {
        return Ok((StatusCode::OK, earlier));
    }

    let objects = ctx.storage.head_objects(&completion.keys).await?;
    let missing: Vec<String> = completion
        .keys
        .iter()
        .zip(&objects)
        .filter(|(_, object)| object.is_none())
        .map(|(key, _)| key.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::objects_missing(missing));
    }
    let objects: Vec<StoredObject> = objects.into_iter().flatten().collect();
    let total_bytes: i64 = objects.iter().map(|o| o.size).sum();
    let row = ctx.audit.row(
        caller,
        &completion.job,
        AuditEvent::UploadCompleted {
            objects: &objects,
            total_bytes,
        },
    );
    if ctx.audit.write(&row).await? {
        return Ok((
            StatusCode::CREATED,
            Recorded {
                audit_id: row.audit_id.to_string(),
                file_count: objects.len(),
                total_bytes,
            },
        ));
    }
    // A concurrent request completed some of these keys first: answer as a retry would.
    let states = ctx
        .index
        .upload_states(&completion.job, &completion.keys)
        .await?;
    match already_recorded(&completion.keys, &states)? {
        Some(earlier) => Ok((StatusCode::OK, earlier)),
        None => Err(ApiError::internal()),
    }
}

/// 403 unless every key was issued to this caller; 409 for a key the server has no grant for.
fn check_issued_to(
    caller: &Caller,
    keys: &[UploadKey],
    states: &[UploadState],
) -> Result<(), ApiError> {
    for (key, state) in keys.iter().zip(states) {
        match &state.issued_to {
            Some(principal) if *principal == caller.principal => {}
            Some(_) => {
                return Err(ApiError::forbidden(
                    "upload_forbidden",
                    format!("`{key}` was issued to someone else; only they can complete it."),
                ))
            }
            None => {
                return Err(ApiError::conflict(
                    "unknown_upload",
                    format!(
                    "`{key}` was not issued by this service (or so long ago its grant expired)."
                ),
                ))
            }
        }
    }
    Ok(())
}

/// The earlier record, when one completion already holds every key; `None` when none of them is
/// completed; 409 for a mix (the client merged keys of different completions).
fn already_recorded(
    keys: &[UploadKey],
    states: &[UploadState],
) -> Result<Option<Recorded>, ApiError> {
    let completed: Vec<&CompletionRecord> =
        states.iter().filter_map(|s| s.completed.as_ref()).collect();
    let Some(first) = completed.first() else {
        return Ok(None);
    };
    if completed.len() == keys.len() && completed.iter().all(|p| p.audit_id == first.audit_id) {
        return Ok(Some(Recorded {
            audit_id: first.audit_id.clone(),
            file_count: completed.len(),
            total_bytes: completed.iter().map(|p| p.object.size).sum(),
        }));
    }
    Err(ApiError::conflict(
        "already_completed",
        format!(
            "{} of these keys were already completed by another request; send only the others.",
            completed.len()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev::api_events::{config, ApiEvent};
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
        let e = parse(&post(body), &config(&[])).unwrap_err();
        (e.status.as_u16(), e.code)
    }

    #[test]
    fn a_valid_completion_is_its_job_and_its_keys_in_order() {
        let c = completion(&post(
            &json!({"job_id": "j-1", "keys": [K1, K2]}).to_string(),
        ));
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
            (r#"{"job_id": "j-1"}"#, (400, "missing_keys")),
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

    fn completion(req: &Request) -> Completion {
        match parse(req, &config(&[])).unwrap() {
            PostedUploads::Completion(c) => c,
            other => panic!("not a completion: {other:?}"),
        }
    }

    #[test]
    fn the_legacy_body_is_a_report_and_never_a_completion() {
        let report = |body: serde_json::Value| match parse(&post(&body.to_string()), &config(&[])) {
            Ok(PostedUploads::Report(r)) => Ok(r),
            Ok(other) => panic!("not a report: {other:?}"),
            Err(e) => Err((e.status.as_u16(), e.code)),
        };
        let r = report(
            json!({"job_id": "j-12345", "file_count": 3, "timestamp": "2026-11-24T09:30:00.123Z"}),
        )
        .unwrap();
        assert_eq!(
            (r.job.as_str(), r.file_count, r.client_timestamp.as_deref()),
            ("j-12345", 3, Some("2026-11-24T09:30:00.123Z"))
        );
        let r = report(json!({"job_id": "j-1", "file_count": 1})).unwrap();
        assert_eq!(r.client_timestamp, None);
        for (body, expected) in [
            (
                json!({"job_id": "j-1", "file_count": 0}),
                (400, "invalid_file_count"),
            ),
            (
                json!({"job_id": "j-1", "file_count": 1001}),
                (400, "invalid_file_count"),
            ),
            (
                json!({"job_id": "j-1", "file_count": -1}),
                (400, "invalid_json"),
            ),
            (
                json!({"job_id": "j-1", "file_count": "3"}),
                (400, "invalid_json"),
            ),
            (
                json!({"job_id": "j-1", "file_count": 2, "timestamp": "yesterday"}),
                (400, "invalid_timestamp"),
            ),
            (
                json!({"job_id": "j-1", "file_count": 2, "user": "x"}),
                (400, "invalid_json"),
            ),
            (
                json!({"job_id": "j-1", "file_count": 1, "keys": [K1]}),
                (400, "mixed_completion"),
            ),
            (
                json!({"job_id": "j-1", "keys": [K1], "timestamp": "2026-11-24T09:30:00Z"}),
                (400, "mixed_completion"),
            ),
            (
                json!({"job_id": "j-1", "timestamp": "2026-11-24T09:30:00Z"}),
                (400, "missing_keys"),
            ),
            (
                json!({"job_id": "../j", "file_count": 1}),
                (400, "invalid_job_id"),
            ),
        ] {
            assert_eq!(report(body.clone()).unwrap_err(), expected, "{body}");
        }
    }

    #[test]
    fn a_body_that_is_not_json_is_415_and_an_unnamed_one_is_taken_as_json() {
        let req = ApiEvent::post("/upload-url")
            .header("content-type", "text/plain")
            .body("{}")
            .request();
        assert_eq!(parse(&req, &config(&[])).unwrap_err().status.as_u16(), 415);
        // No content type at all is taken as JSON (curl -d sends form-urlencoded, so it is named).
        let req = ApiEvent::post("/upload-url")
            .body(&json!({"job_id": "j-1", "keys": [K1]}).to_string())
            .request();
        assert!(parse(&req, &config(&[])).is_ok());
    }
}
