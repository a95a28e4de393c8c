//! CORS, decided in this one place: which origin may read a response, what a preflight is
//! answered, and the headers every response carries. Mirrors the HTTP API's `CorsConfiguration`
//! in template.yaml, so a browser sees the same answers locally as behind API Gateway.

use lambda_http::http::header::{HeaderValue, VARY};
use lambda_http::http::{HeaderMap, StatusCode};
use lambda_http::{Body, Request, Response};

use crate::api::error::ApiError;
use crate::api::request::header;
use crate::api::response;

/// The request's `Origin` if it is one of the `allowed` origins (exact match; no wildcards).
pub fn allowed_origin<'r>(allowed: &[String], req: &'r Request) -> Option<&'r str> {
    header(req, "origin").filter(|o| allowed.iter().any(|a| a == o))
}

/// Lets an allowed origin read the response. `Vary: Origin` keeps caches from mixing origins.
pub fn add_headers(headers: &mut HeaderMap, allowed_origin: Option<&str>) {
    headers.insert(VARY, HeaderValue::from_static("Origin"));
    if let Some(value) = allowed_origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        headers.insert("access-control-allow-origin", value);
        // The capture page waits as long as a 429 says.
        headers.insert(
            "access-control-expose-headers",
            HeaderValue::from_static("retry-after"),
        );
    }
}

/// The answer to a preflight for a route that takes `methods`: 204 for an allowed origin, 403
/// for any other.
pub fn preflight(allowed_origin: Option<&str>, methods: &'static str) -> Response<Body> {
    if allowed_origin.is_none() {
        return response::error(&ApiError::forbidden(
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
    use crate::dev::api_events::ApiEvent;

    fn from(origin: &str) -> Request {
        ApiEvent::get("/photos").header("origin", origin).request()
    }

    #[test]
    fn only_listed_origins_are_allowed_exactly() {
        let allowed = vec!["http://localhost:8080".to_owned()];
        let ok = from("http://localhost:8080");
        assert_eq!(allowed_origin(&allowed, &ok), Some("http://localhost:8080"));
        for other in [
            "http://localhost:8081",
            "null",
            "http://localhost:8080/",
            "HTTP://localhost:8080",
        ] {
            assert_eq!(allowed_origin(&allowed, &from(other)), None, "{other}");
        }
        assert_eq!(
            allowed_origin(&allowed, &ApiEvent::get("/photos").request()),
            None
        );
    }

    #[test]
    fn a_preflight_is_204_for_an_allowed_origin_and_403_for_any_other() {
        let ok = preflight(Some("http://localhost:8080"), "GET, POST");
        assert_eq!(ok.status(), StatusCode::NO_CONTENT);
        assert_eq!(ok.headers()["access-control-allow-methods"], "GET, POST");
        assert_eq!(preflight(None, "GET").status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn responses_name_the_allowed_origin_and_vary_on_origin() {
        let mut headers = HeaderMap::new();
        add_headers(&mut headers, Some("http://localhost:8080"));
        assert_eq!(
            headers["access-control-allow-origin"],
            "http://localhost:8080"
        );
        assert_eq!(headers[VARY], "Origin");
        let mut headers = HeaderMap::new();
        add_headers(&mut headers, None);
        assert!(headers.get("access-control-allow-origin").is_none());
        assert_eq!(headers[VARY], "Origin");
    }
}
