//! The one error type. Every failure a request can meet becomes one of these, and each maps to a
//! status and a `{"error":{"code","message"}}` body. Messages are written for the API's users;
//! SDK errors, endpoints and ARNs are logged, never put in a response.

use std::borrow::Cow;

use lambda_http::http::StatusCode;
use serde::Serialize;

use crate::domain::job::InvalidJobId;
pub use crate::store::error::Dependency;
use crate::store::error::StoreError;
use crate::store::quota::{QuotaExceeded, QuotaWindow};
use crate::telemetry::metrics::Failure;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: Cow<'static, str>,
    /// For 409 `objects_missing`: the keys S3 does not have.
    pub missing_keys: Vec<String>,
    /// For 405: the methods the route takes.
    pub allow: Option<&'static str>,
    /// For 503: what was unavailable.
    pub dependency: Option<Dependency>,
    /// For 429: seconds until the limit's window ends (`Retry-After`).
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            missing_keys: Vec::new(),
            allow: None,
            dependency: None,
            retry_after_secs: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Missing or invalid credentials: send `Authorization: Bearer <token>`.",
        )
    }

    pub fn forbidden(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "No such route.")
    }

    /// 404 for a thing the route looks up (the route itself exists).
    pub fn no_such(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn method_not_allowed(allow: &'static str) -> Self {
        ApiError {
            allow: Some(allow),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("This route takes {allow}."),
            )
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn objects_missing(missing_keys: Vec<String>) -> Self {
        ApiError {
            missing_keys,
            ..Self::conflict(
                "objects_missing",
                "Some uploads are not in storage; nothing was recorded. Upload them, then retry.",
            )
        }
    }

    pub fn payload_too_large(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, code, message)
    }

    pub fn unsupported_media_type(
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, code, message)
    }

    /// 429: a per-principal grant limit; nothing was issued or counted.
    pub fn quota_exceeded(exceeded: QuotaExceeded) -> Self {
        let QuotaExceeded {
            window,
            limit,
            retry_after_secs,
        } = exceeded;
        let (code, message) = match window {
            QuotaWindow::Minute => (
                "too_many_grants",
                format!("At most {limit} uploads may be granted to you per minute. Try again in {retry_after_secs} s."),
            ),
            QuotaWindow::JobDay => (
                "job_daily_limit",
                format!("At most {limit} uploads may be granted to you on this job per day (UTC). Try again in {retry_after_secs} s, or ask an administrator to raise the limit."),
            ),
        };
        ApiError {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, code, message)
        }
    }

    pub fn unavailable(dependency: Dependency) -> Self {
        let (code, message) = match dependency {
            Dependency::Storage => (
                "storage_unavailable",
                "Photo storage is temporarily unavailable. Try again shortly.",
            ),
            Dependency::AuditLog => (
                "audit_unavailable",
                "The audit log is temporarily unavailable, so nothing was issued or recorded. Try again shortly.",
            ),
            Dependency::Identity => (
                "auth_unavailable",
                "Sign-in is temporarily unavailable. Try again shortly.",
            ),
            Dependency::Credentials => (
                "credentials_unavailable",
                "Upload signing is temporarily unavailable. Try again shortly.",
            ),
            Dependency::ExportQueue => (
                "export_unavailable",
                "Exports cannot be started right now; the request is recorded. Try again shortly.",
            ),
        };
        ApiError {
            dependency: Some(dependency),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
        }
    }

    /// What the metrics count this error as.
    pub fn failure(&self) -> Failure {
        match (self.status.as_u16(), self.dependency) {
            (401 | 403, _) => Failure::AuthRefused,
            (429, _) => Failure::QuotaRefused,
            (_, Some(dependency)) => dependency.into(),
            (_, None) => Failure::Other,
        }
    }

    /// A bug on our side; never a client's input, never a dependency's outage.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong on our side.",
        )
    }

    /// The JSON body.
    pub fn body(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Envelope<'a> {
            error: Inner<'a>,
        }
        #[derive(Serialize)]
        struct Inner<'a> {
            code: &'a str,
            message: &'a str,
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            missing_keys: &'a [String],
        }
        serde_json::to_vec(&Envelope {
            error: Inner {
                code: self.code,
                message: &self.message,
                missing_keys: &self.missing_keys,
            },
        })
        .unwrap_or_default()
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(dependency) => ApiError::unavailable(dependency),
            StoreError::Duplicate => ApiError::conflict(
                "duplicate_request",
                "This request was already recorded; send a new request.",
            ),
            StoreError::Internal => ApiError::internal(),
            StoreError::QuotaExceeded(exceeded) => ApiError::quota_exceeded(exceeded),
        }
    }
}

impl From<InvalidJobId> for ApiError {
    fn from(err: InvalidJobId) -> Self {
        ApiError::bad_request("invalid_job_id", err.to_string())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::metrics::RequestMetrics;
    use serde_json::{json, Value};

    #[test]
    fn an_error_body_is_the_documented_envelope() {
        let body: Value =
            serde_json::from_slice(&ApiError::bad_request("invalid_job_id", "bad").body()).unwrap();
        assert_eq!(
            body,
            json!({"error": {"code": "invalid_job_id", "message": "bad"}})
        );
    }

    #[test]
    fn a_409_lists_the_keys_s3_does_not_have() {
        let err = ApiError::objects_missing(vec!["jobs/j/a.jpg".into()]);
        assert_eq!(err.status, StatusCode::CONFLICT);
        let body: Value = serde_json::from_slice(&err.body()).unwrap();
        assert_eq!(body["error"]["missing_keys"], json!(["jobs/j/a.jpg"]));
    }

    #[test]
    fn a_503_names_no_internals() {
        for dep in [
            Dependency::Storage,
            Dependency::AuditLog,
            Dependency::Credentials,
            Dependency::ExportQueue,
        ] {
            let err = ApiError::unavailable(dep);
            assert_eq!(err.status, StatusCode::SERVICE_UNAVAILABLE);
            let text = String::from_utf8(err.body()).unwrap().to_lowercase();
            for leak in ["dynamo", "s3", "arn:", "http", "sdk"] {
                assert!(!text.contains(leak), "{text} mentions {leak}");
            }
        }
    }

    #[test]
    fn failures_are_counted_by_what_failed() {
        let cases = [
            (ApiError::unavailable(Dependency::AuditLog), "AuditFailures"),
            (ApiError::unavailable(Dependency::Identity), "AuditFailures"),
            (ApiError::unavailable(Dependency::Storage), "S3Failures"),
            (ApiError::unauthorized(), "AuthRefusals"),
            (ApiError::forbidden("job_forbidden", "x"), "AuthRefusals"),
            (
                ApiError::quota_exceeded(QuotaExceeded {
                    window: QuotaWindow::Minute,
                    limit: 1,
                    retry_after_secs: 1,
                }),
                "QuotaRefusals",
            ),
        ];
        for (err, counted) in cases {
            let values = RequestMetrics::failed(err.failure()).values();
            for (name, _, value) in values {
                assert_eq!(value, u64::from(name == counted), "{} → {name}", err.code);
            }
        }
        let bad_input =
            RequestMetrics::failed(ApiError::bad_request("invalid_job_id", "x").failure());
        assert_eq!(bad_input, RequestMetrics::default());
    }
}
