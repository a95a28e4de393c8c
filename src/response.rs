//! Building HTTP responses: JSON bodies, error envelopes, and the CORS headers for allowed origins.

use lambda_http::http::header::{
    HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE, VARY, WWW_AUTHENTICATE,
};
use lambda_http::http::{HeaderMap, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::error::ApiError;

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
    if err.status == StatusCode::UNAUTHORIZED {
        resp.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    resp
}

fn with_body(status: StatusCode, bytes: Vec<u8>) -> Response<Body> {
    let mut resp = Response::new(Body::Binary(bytes));
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

/// `origin` if it is one of the `allowed` origins (exact match; no wildcards).
pub fn allowed_origin<'r>(allowed: &[String], origin: Option<&'r str>) -> Option<&'r str> {
    origin.filter(|o| allowed.iter().any(|a| a == o))
}

/// Lets an allowed origin read the response. `Vary: Origin` keeps caches from mixing origins.
pub fn add_cors(headers: &mut HeaderMap, allowed_origin: Option<&str>) {
    headers.insert(VARY, HeaderValue::from_static("Origin"));
    if let Some(value) = allowed_origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        headers.insert("access-control-allow-origin", value);
    }
}

/// The answer to a CORS preflight: 204 for an allowed origin, 403 for any other.
pub fn preflight(allowed_origin: Option<&str>, methods: &'static str) -> Response<Body> {
    if allowed_origin.is_none() {
        return error(&ApiError::forbidden(
            "origin_not_allowed",
            "This origin may not call the API from a browser.",
        ));
    }
    let mut resp = Response::new(Body::Empty);
    *resp.status_mut() = StatusCode::NO_CONTENT;
    let headers = resp.headers_mut();
    headers.insert(
        "access-control-allow-methods",
        HeaderValue::from_static(methods),
    );
    headers.insert(
        "access-control-allow-headers",
        HeaderValue::from_static("authorization, content-type"),
    );
    headers.insert("access-control-max-age", HeaderValue::from_static("600"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_origins_are_allowed() {
        let allowed = vec!["http://localhost:8080".to_owned()];
        assert_eq!(
            allowed_origin(&allowed, Some("http://localhost:8080")),
            Some("http://localhost:8080")
        );
        assert_eq!(
            allowed_origin(&allowed, Some("http://localhost:8081")),
            None
        );
        assert_eq!(allowed_origin(&allowed, Some("null")), None);
        assert_eq!(allowed_origin(&allowed, None), None);
    }

    #[test]
    fn preflight_answers() {
        let ok = preflight(Some("http://localhost:8080"), "GET, POST");
        assert_eq!(ok.status(), StatusCode::NO_CONTENT);
        assert_eq!(ok.headers()["access-control-allow-methods"], "GET, POST");
        assert_eq!(preflight(None, "GET").status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn errors_carry_their_headers() {
        let resp = error(&ApiError::unauthorized());
        assert_eq!(resp.headers()[WWW_AUTHENTICATE], "Bearer");
        assert_eq!(resp.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(resp.headers()[CACHE_CONTROL], "no-store");
        let resp = error(&ApiError::method_not_allowed("GET, OPTIONS"));
        assert_eq!(resp.headers()[ALLOW], "GET, OPTIONS");
    }
}
