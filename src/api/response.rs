//! Building HTTP responses: JSON bodies and error envelopes.

use lambda_http::http::header::{
    HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE,
};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::api::error::ApiError;

/// A JSON response. `no-store`: bodies carry presigned URLs, which are credentials.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => with_body(status, bytes),
        Err(err) => {
            tracing::error!(error = %err, "response serialization failed");
            error(&ApiError::internal())
        }
    }
}

pub fn error(err: &ApiError) -> Response<Body> {
    let mut resp = with_body(err.status, err.body());
    if let Some(allow) = err.allow {
        resp.headers_mut()
            .insert(ALLOW, HeaderValue::from_static(allow));
    }
    if let Some(secs) = err.retry_after_secs {
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    if err.status == StatusCode::UNAUTHORIZED {
        resp.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    resp
}

fn with_body(status: StatusCode, bytes: Vec<u8>) -> Response<Body> {
    // JSON is UTF-8: sent as text, not base64 (a binary body is base64-encoded for API Gateway).
    let body = String::from_utf8(bytes).map_or_else(|e| Body::Binary(e.into_bytes()), Body::Text);
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::quota::{QuotaExceeded, QuotaWindow};

    #[test]
    fn errors_carry_json_no_store_and_their_own_headers() {
        let resp = error(&ApiError::unauthorized());
        assert_eq!(resp.headers()[WWW_AUTHENTICATE], "Bearer");
        assert_eq!(resp.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(resp.headers()[CACHE_CONTROL], "no-store");
        let resp = error(&ApiError::method_not_allowed("GET, OPTIONS"));
        assert_eq!(resp.headers()[ALLOW], "GET, OPTIONS");
        let resp = error(&ApiError::quota_exceeded(QuotaExceeded {
            window: QuotaWindow::JobDay,
            limit: 500,
            retry_after_secs: 3600,
        }));
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[RETRY_AFTER], "3600");
        let body: serde_json::Value = match resp.body() {
            Body::Text(text) => serde_json::from_str(text).unwrap(),
            other => panic!("not a text body: {other:?}"),
        };
        assert_eq!(body["error"]["code"], "job_daily_limit");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3600 s"));
    }
}
