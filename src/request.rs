//! Reading what the router and handlers need from a lambda_http request: the route path, query
//! parameters (each at most once), and who/where/which-request facts for the audit log.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use crate::error::ApiError;

/// Longest user agent kept in an audit row; the rest is cut (rows have a size limit).
const MAX_USER_AGENT_CHARS: usize = 512;

/// The request path without an API Gateway stage prefix (`/prod/photos` → `/photos`) or trailing `/`.
pub fn route_path(req: &Request) -> &str {
    let raw = req.raw_http_path();
    let raw = if raw.is_empty() {
        req.uri().path()
    } else {
        raw
    };
    let stage = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.stage.as_deref(),
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.stage.as_deref(),
        _ => None,
    };
    let without_stage = stage
        .filter(|s| *s != "$default")
        .and_then(|s| raw.strip_prefix('/')?.strip_prefix(s))
        .filter(|rest| rest.starts_with('/'))
        .unwrap_or(raw);
    match without_stage.strip_suffix('/') {
        Some("") | None => without_stage,
        Some(trimmed) => trimmed,
    }
}

/// The single value of query parameter `name`; a repeated parameter is ambiguous, so it is refused.
pub fn query_param<'r>(req: &'r Request, name: &str) -> Result<Option<&'r str>, ApiError> {
    let Some(params) = req.query_string_parameters_ref() else {
        return Ok(None);
    };
    match params.all(name).as_deref() {
        None | Some([]) => Ok(None),
        Some([one]) => Ok(Some(one)),
        Some(_) => Err(ApiError::bad_request(
            "repeated_parameter",
            format!("Query parameter `{name}` may appear only once."),
        )),
    }
}

pub fn header<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Who asked, from where, with what, and under which request id: the audit row's context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMeta {
    pub request_id: String,
    pub source_ip: String,
    pub user_agent: String,
}

impl RequestMeta {
    pub fn of(req: &Request) -> Self {
        let (context_request_id, source_ip) = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => {
                (ctx.request_id.clone(), ctx.http.source_ip.clone())
            }
            Some(RequestContext::ApiGatewayV1(ctx)) => {
                (ctx.request_id.clone(), ctx.identity.source_ip.clone())
            }
            _ => (None, None),
        };
        // Lambda's request id is what CloudWatch logs carry, so prefer it for cross-referencing.
        let request_id = req
            .lambda_context_ref()
            .map(|c| c.request_id.clone())
            .filter(|id| !id.is_empty())
            .or(context_request_id)
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        RequestMeta {
            request_id,
            source_ip: source_ip.unwrap_or_else(|| "unknown".into()),
            user_agent: header(req, "user-agent")
                .unwrap_or("")
                .chars()
                .take(MAX_USER_AGENT_CHARS)
                .collect(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// An API Gateway HTTP API (payload v2) event, parsed the way the runtime parses it.
    pub fn v2_request(
        method: &str,
        path_and_query: &str,
        headers: serde_json::Value,
        body: Option<&str>,
    ) -> Request {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let event = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": query,
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com",
                "requestId": "req-ctx-1", "routeKey": "$default", "stage": "$default",
                "time": "23/Nov/2026:10:00:00 +0000", "timeEpoch": 1_795_432_800_000_i64,
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                         "sourceIp": "203.0.113.7", "userAgent": "ua"}
            },
            "body": body,
            "isBase64Encoded": false
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    #[test]
    fn strips_stage_and_trailing_slash() {
        let event = json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/prod/photos/", "rawQueryString": "",
            "requestContext": {"stage": "prod", "requestId": "r", "timeEpoch": 0,
                "http": {"method": "GET", "path": "/prod/photos/", "sourceIp": "1.2.3.4"}},
            "isBase64Encoded": false
        });
        let req = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert_eq!(route_path(&req), "/photos");
        assert_eq!(
            route_path(&v2_request("GET", "/upload-url", json!({}), None)),
            "/upload-url"
        );
        assert_eq!(route_path(&v2_request("GET", "/", json!({}), None)), "/");
        // A path that merely starts with the stage's letters keeps them.
        let event = json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/production", "rawQueryString": "",
            "requestContext": {"stage": "prod", "requestId": "r", "timeEpoch": 0,
                "http": {"method": "GET", "path": "/production", "sourceIp": "1.2.3.4"}},
            "isBase64Encoded": false
        });
        assert_eq!(
            route_path(&lambda_http::request::from_str(&event.to_string()).unwrap()),
            "/production"
        );
    }

    #[test]
    fn query_params_are_single_valued() {
        let req = v2_request("GET", "/photos", json!({}), None);
        assert_eq!(query_param(&req, "job_id").unwrap(), None);
        let req = v2_request("GET", "/photos?job_id=a&limit=5", json!({}), None);
        assert_eq!(query_param(&req, "job_id").unwrap(), Some("a"));
        let req = v2_request("GET", "/photos?job_id=a&job_id=b", json!({}), None);
        assert_eq!(
            query_param(&req, "job_id").unwrap_err().code,
            "repeated_parameter"
        );
    }

    #[test]
    fn meta_comes_from_the_request_context() {
        let req = v2_request("GET", "/photos", json!({"user-agent": "Mozilla/5.0"}), None);
        let meta = RequestMeta::of(&req);
        assert_eq!(meta.request_id, "req-ctx-1");
        assert_eq!(meta.source_ip, "203.0.113.7");
        assert_eq!(meta.user_agent, "Mozilla/5.0");
        let long = "x".repeat(5000);
        let req = v2_request("GET", "/photos", json!({ "user-agent": long }), None);
        assert_eq!(RequestMeta::of(&req).user_agent.len(), MAX_USER_AGENT_CHARS);
    }
}
