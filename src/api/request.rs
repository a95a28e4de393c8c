//! Reading what the router and handlers need from a lambda_http request: the route path, query
//! parameters (each at most once), and who/where/which-request facts for the audit log.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use crate::api::error::ApiError;
use crate::domain::caller::RequestMeta;

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
pub fn request_meta(req: &Request) -> RequestMeta {
    {
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
mod tests {
    use super::*;
    use crate::dev::api_events::{ApiEvent, SOURCE_IP};

    #[test]
    fn the_route_path_drops_the_stage_and_a_trailing_slash() {
        let staged = ApiEvent::get("/prod/photos/").stage("prod").request();
        assert_eq!(route_path(&staged), "/photos");
        assert_eq!(
            route_path(&ApiEvent::get("/upload-url").request()),
            "/upload-url"
        );
        assert_eq!(route_path(&ApiEvent::get("/").request()), "/");
        // A path that merely starts with the stage's letters keeps them.
        let production = ApiEvent::get("/production").stage("prod").request();
        assert_eq!(route_path(&production), "/production");
    }

    #[test]
    fn a_query_parameter_may_appear_at_most_once() {
        let req = ApiEvent::get("/photos").request();
        assert_eq!(query_param(&req, "job_id").unwrap(), None);
        let req = ApiEvent::get("/photos?job_id=a&limit=5").request();
        assert_eq!(query_param(&req, "job_id").unwrap(), Some("a"));
        let req = ApiEvent::get("/photos?job_id=a&job_id=b").request();
        assert_eq!(
            query_param(&req, "job_id").unwrap_err().code,
            "repeated_parameter"
        );
    }

    #[test]
    fn request_meta_comes_from_the_request_context() {
        let event = ApiEvent::get("/photos").header("user-agent", "Mozilla/5.0");
        let meta = request_meta(&event.request());
        assert!(!meta.request_id.is_empty());
        assert_eq!(meta.source_ip, SOURCE_IP);
        assert_eq!(meta.user_agent, "Mozilla/5.0");
        let long = "x".repeat(5000);
        let req = ApiEvent::get("/photos")
            .header("user-agent", &long)
            .request();
        assert_eq!(request_meta(&req).user_agent.len(), MAX_USER_AGENT_CHARS);
    }
}
