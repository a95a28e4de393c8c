//! API Gateway events in and responses out, for the runtime loop in `main.rs`.
//!
//! lambda_http reads an event by trying each event shape in turn (serde's untagged enum buffers
//! the whole document first), allocates every field of the matching one, then re-parses the URL
//! it assembles: 11.9 µs of a 12.4 µs request decision on this project's bench machine. An HTTP
//! API (payload 2.0) event is read here in one pass into only what the function uses, borrowing
//! strings from the event, and becomes the same `lambda_http::Request` (same extensions, same
//! URI) that lambda_http would build. Any other event (a REST API's payload 1.0) still goes
//! through lambda_http's own parser. Responses are laid out as lambda_http lays them out.

use std::borrow::Cow;

use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayProxyResponse, ApiGatewayRequestAuthorizer, ApiGatewayV2httpRequestContext,
    ApiGatewayV2httpResponse,
};
use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::http::header::{HeaderName, HeaderValue, COOKIE, HOST, SET_COOKIE};
use lambda_http::http::{HeaderMap, Method};
use lambda_http::request::{LambdaRequest, RequestContext, RequestOrigin};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::{Deserializer, Error as _, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

/// Which API Gateway sent the event, so the response is laid out as it expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    HttpApi,
    RestApi,
}

/// The event as a request, and where to send the response; an error for anything that is not an
/// API Gateway event (the runtime reports it as the invocation's error).
pub fn parse(raw: &str) -> Result<(Request, Origin), serde_json::Error> {
    match serde_json::from_str::<HttpApiEvent>(raw) {
        Ok(event) if event.version.as_deref() == Some("2.0") => match event.into_request() {
            Some(req) => Ok((req, Origin::HttpApi)),
            None => fallback(raw),
        },
        // A REST API event, or something to let lambda_http judge (and name the error of).
        _ => fallback(raw),
    }
}

fn fallback(raw: &str) -> Result<(Request, Origin), serde_json::Error> {
    let event: LambdaRequest = serde_json::from_str(raw)?;
    let origin = match event.request_origin() {
        RequestOrigin::ApiGatewayV2 => Origin::HttpApi,
        _ => Origin::RestApi,
    };
    Ok((event.into(), origin))
}

/// What the runtime sends back to API Gateway.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ApiResponse {
    HttpApi(ApiGatewayV2httpResponse),
    RestApi(ApiGatewayProxyResponse),
}

/// `resp` in the shape `origin` expects: lambda_http's layout (HTTP API: `Set-Cookie` moved to
/// `cookies`; REST API: every header in `multiValueHeaders`; binary bodies base64-encoded).
pub fn response(origin: Origin, resp: Response<Body>) -> ApiResponse {
    let (parts, body) = resp.into_parts();
    let (is_base64_encoded, body) = match body {
        Body::Empty => (false, None),
        text @ Body::Text(_) => (false, Some(text)),
        binary @ Body::Binary(_) => (true, Some(binary)),
        _ => (false, None),
    };
    let status_code = i64::from(parts.status.as_u16());
    let mut headers = parts.headers;
    match origin {
        Origin::HttpApi => {
            let mut out = ApiGatewayV2httpResponse::default();
            out.cookies = headers
                .get_all(SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_owned))
                .collect();
            headers.remove(SET_COOKIE);
            out.status_code = status_code;
            out.headers = headers;
            out.body = body;
            out.is_base64_encoded = is_base64_encoded;
            ApiResponse::HttpApi(out)
        }
        Origin::RestApi => {
            let mut out = ApiGatewayProxyResponse::default();
            out.status_code = status_code;
            out.multi_value_headers = headers;
            out.body = body;
            out.is_base64_encoded = is_base64_encoded;
            ApiResponse::RestApi(out)
        }
    }
}

/// An HTTP API event, as far as the function reads it. Unknown fields are skipped unread.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HttpApiEvent<'a> {
    #[serde(borrow)]
    version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    raw_path: Cow<'a, str>,
    #[serde(borrow, default)]
    raw_query_string: Cow<'a, str>,
    #[serde(default, deserialize_with = "header_map")]
    headers: HeaderMap,
    #[serde(borrow, default)]
    cookies: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    body: Option<Cow<'a, str>>,
    #[serde(default)]
    is_base64_encoded: bool,
    #[serde(borrow)]
    request_context: HttpApiContext<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HttpApiContext<'a> {
    #[serde(borrow)]
    request_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    stage: Option<Cow<'a, str>>,
    #[serde(borrow)]
    domain_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    http: HttpDescription<'a>,
    authorizer: Option<ApiGatewayRequestAuthorizer>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HttpDescription<'a> {
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(borrow)]
    path: Option<Cow<'a, str>>,
    #[serde(borrow)]
    protocol: Option<Cow<'a, str>>,
    #[serde(borrow)]
    source_ip: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user_agent: Option<Cow<'a, str>>,
}

impl HttpApiEvent<'_> {
    /// `None` for what lambda_http would refuse (a method HTTP has no name for).
    fn into_request(self) -> Option<Request> {
        let ctx = self.request_context;
        let stage = ctx.stage.as_deref();
        // lambda_http's URI: https://{host}{stage-prefixed path}?{raw query}.
        let host = self
            .headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .or(ctx.domain_name.as_deref());
        let scheme = self
            .headers
            .get("x-forwarded-proto")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("https");
        let mut uri = String::with_capacity(96 + self.raw_path.len() + self.raw_query_string.len());
        if let Some(host) = host {
            uri.push_str(scheme);
            uri.push_str("://");
            uri.push_str(host);
        }
        let staged = match stage {
            Some(stage) if stage != "$default" && !stage_ignored() => {
                let prefixed = self
                    .raw_path
                    .strip_prefix('/')
                    .and_then(|p| p.strip_prefix(stage))
                    .is_some_and(|rest| rest.starts_with('/'));
                (!prefixed).then_some(stage)
            }
            _ => None,
        };
        if let Some(stage) = staged {
            uri.push('/');
            uri.push_str(stage);
        }
        uri.push_str(&self.raw_path);
        if !self.raw_query_string.is_empty() {
            uri.push('?');
            uri.push_str(&self.raw_query_string);
        }
        let query: QueryMap = self.raw_query_string.parse().unwrap_or_default();

        let method = Method::from_bytes(ctx.http.method.as_bytes()).ok()?;
        let mut context = ApiGatewayV2httpRequestContext::default();
        context.request_id = ctx.request_id.map(Cow::into_owned);
        context.stage = ctx.stage.map(Cow::into_owned);
        context.domain_name = ctx.domain_name.map(Cow::into_owned);
        context.authorizer = ctx.authorizer;
        context.http.method = method.clone();
        context.http.path = ctx.http.path.map(Cow::into_owned);
        context.http.protocol = ctx.http.protocol.map(Cow::into_owned);
        context.http.source_ip = ctx.http.source_ip.map(Cow::into_owned);
        context.http.user_agent = ctx.http.user_agent.map(Cow::into_owned);

        let mut headers = self.headers;
        if !self.cookies.is_empty() {
            if let Ok(cookie) = HeaderValue::from_str(&self.cookies.join("; ")) {
                headers.insert(COOKIE, cookie);
            }
        }
        let body = self.body.as_deref().map_or_else(Body::default, |b| {
            Body::from_maybe_encoded(self.is_base64_encoded, b)
        });
        let mut req = Request::new(body);
        *req.method_mut() = method;
        // An unparsable URI (API Gateway sends none) leaves `/`: routing reads the raw path.
        *req.uri_mut() = uri.parse().unwrap_or_default();
        *req.headers_mut() = headers;
        Some(
            req.with_raw_http_path(self.raw_path.into_owned())
                .with_query_string_parameters(query)
                .with_request_context(RequestContext::ApiGatewayV2(context)),
        )
    }
}

/// lambda_http's switch for serving a named stage without its prefix in the path.
fn stage_ignored() -> bool {
    std::env::var_os("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH").is_some()
}

/// A string borrowed from the event unless it holds escapes.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// Headers straight into a `HeaderMap`; a name or value HTTP cannot carry fails the event, as it
/// fails lambda_http's.
fn header_map<'de, D: Deserializer<'de>>(deserializer: D) -> Result<HeaderMap, D::Error> {
    struct Headers;
    impl<'de> Visitor<'de> for Headers {
        type Value = HeaderMap;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map of header names to strings")
        }
        fn visit_unit<E>(self) -> Result<HeaderMap, E> {
            Ok(HeaderMap::new())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderMap, A::Error> {
            let mut headers = HeaderMap::with_capacity(map.size_hint().unwrap_or(16));
            while let Some((Text(name), Text(value))) = map.next_entry()? {
                let name = HeaderName::from_bytes(name.as_bytes()).map_err(A::Error::custom)?;
                let value = HeaderValue::from_str(&value).map_err(A::Error::custom)?;
                headers.append(name, value);
            }
            Ok(headers)
        }
    }
    deserializer.deserialize_any(Headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::request::{header, query_param, request_meta, route_path};
    use crate::dev::api_events::ApiEvent;
    use serde_json::{json, Value};

    /// Everything the function reads of a request, as lambda_http builds it and as we do.
    fn seen(req: &Request) -> Value {
        let ctx = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(c)) => json!({
                "request_id": c.request_id, "stage": c.stage, "domain": c.domain_name,
                "method": c.http.method.as_str(), "path": c.http.path,
                "source_ip": c.http.source_ip, "user_agent": c.http.user_agent,
                "authorizer": serde_json::to_value(&c.authorizer).unwrap(),
            }),
            Some(RequestContext::ApiGatewayV1(c)) => json!({
                "request_id": c.request_id, "stage": c.stage,
                "source_ip": c.identity.source_ip,
                "authorizer": serde_json::to_value(&c.authorizer).unwrap(),
            }),
            other => json!(format!("{other:?}")),
        };
        let mut query: Vec<(String, Vec<String>)> = req
            .query_string_parameters_ref()
            .map(|q| {
                q.iter()
                    .map(|(k, _)| {
                        (
                            k.to_owned(),
                            q.all(k).unwrap().iter().map(|v| v.to_string()).collect(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        query.sort();
        query.dedup();
        let headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("?").to_owned()))
            .collect();
        json!({
            "method": req.method().as_str(), "uri": req.uri().to_string(),
            "raw_path": req.raw_http_path(), "route": route_path(req),
            "query": query, "job_id": query_param(req, "job_id").map_err(|e| e.code),
            "headers": headers, "origin": header(req, "origin"),
            "body": format!("{:?}", req.body()),
            "meta": format!("{:?}", request_meta(req)),
            "context": ctx,
        })
    }

    fn assert_same_as_lambda_http(raw: &str) {
        let Ok(reference) = lambda_http::request::from_str(raw) else {
            assert!(
                parse(raw).is_err(),
                "lambda_http refuses it, so must we: {raw}"
            );
            return;
        };
        let (ours, origin) = parse(raw).unwrap();
        assert_eq!(seen(&ours), seen(&reference), "{raw}");
        let expected = if raw.contains(r#""version":"2.0""#) || raw.contains(r#""version": "2.0""#)
        {
            Origin::HttpApi
        } else {
            Origin::RestApi
        };
        assert_eq!(origin, expected, "{raw}");
    }

    #[test]
    fn every_sample_event_reads_as_lambda_http_reads_it() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/events");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                assert_same_as_lambda_http(&std::fs::read_to_string(&path).unwrap());
                checked += 1;
            }
        }
        assert!(checked >= 10, "{checked} events");
    }

    #[test]
    fn odd_requests_read_as_lambda_http_reads_them() {
        let claims =
            json!({"jwt": {"claims": {"sub": "u-1", "custom:jobs": "[j-1 j-2]"}, "scopes": null}});
        let events = [
            ApiEvent::get("/photos?job_id=j-1&job_id=j-2&x=%20a+b&empty=&flag"),
            ApiEvent::get("/prod/photos?job_id=j-1").stage("prod"),
            ApiEvent::get("/photos/?job_id=j%2D1").stage("prod"),
            ApiEvent::post("/upload-url")
                .header("Content-Type", "application/json; charset=utf-8")
                .header("origin", "https://dash.example.com")
                .header("x-forwarded-proto", "http")
                .body(r#"{"job_id":"j-1","keys":["é\"\\"]}"#),
            ApiEvent::new("OPTIONS", "/upload-url").header("access-control-request-method", "POST"),
            ApiEvent::get("/photos?job_id=j-1")
                .bearer("t0k\u{e9}n")
                .authorizer(claims.clone()),
            ApiEvent::get("/photos?job_id=j-1").authorizer(json!({"lambda": {"user": "x"}})),
            ApiEvent::get("/upload-url?job_id=j-1")
                .header("bad header", "x")
                .header("x-ctl", "a\u{7}b"),
            ApiEvent::get("/photos?job_id=j-1")
                .rest_api()
                .authorizer(json!({"claims": {"sub": "u"}})),
        ];
        for event in events {
            assert_same_as_lambda_http(&event.to_json());
        }
        // Base64 bodies, cookies and a missing host, straight from JSON.
        let mut raw: Value =
            serde_json::from_str(&ApiEvent::post("/upload-url").to_json()).unwrap();
        raw["body"] = json!("eyJqb2JfaWQiOiJqLTEifQ==");
        raw["isBase64Encoded"] = json!(true);
        raw["cookies"] = json!(["a=1", "b=2"]);
        raw["headers"] = json!({});
        raw["requestContext"]
            .as_object_mut()
            .unwrap()
            .remove("domainName");
        assert_same_as_lambda_http(&raw.to_string());
    }

    #[test]
    fn an_unparsable_uri_is_no_panic() {
        // lambda_http's own reading panics on these (its URI must parse); ours routes by raw path.
        for (path, query, route) in [
            ("/photos", "job_id=j 1", "/photos"),
            ("/pho tos", "", "/pho tos"),
            ("/photos", "a=\u{7f}", "/photos"),
        ] {
            let mut raw: Value = serde_json::from_str(&ApiEvent::get("/photos").to_json()).unwrap();
            raw["rawPath"] = json!(path);
            raw["rawQueryString"] = json!(query);
            let (req, _) = parse(&raw.to_string()).unwrap();
            assert_eq!(route_path(&req), route, "{path}?{query}");
        }
    }

    #[test]
    fn what_is_not_an_api_gateway_event_is_an_error() {
        for raw in [
            "",
            "{",
            "[]",
            r#"{"version":"2.0"}"#,
            r#"{"Records":[]}"#,
            "null",
        ] {
            assert!(parse(raw).is_err(), "{raw}");
        }
        let mut bad_method: Value =
            serde_json::from_str(&ApiEvent::get("/photos").to_json()).unwrap();
        bad_method["requestContext"]["http"]["method"] = json!("G E T");
        assert!(parse(&bad_method.to_string()).is_err());
    }

    #[test]
    fn responses_are_laid_out_for_the_api_that_asked() {
        let resp = Response::builder()
            .status(201)
            .header("content-type", "application/json")
            .header("set-cookie", "a=1")
            .header("vary", "origin")
            .body(Body::Text("{}".into()))
            .unwrap();
        let http = serde_json::to_value(response(Origin::HttpApi, resp)).unwrap();
        assert_eq!(http["statusCode"], 201);
        assert_eq!(
            http["headers"],
            json!({"content-type": "application/json", "vary": "origin"})
        );
        assert_eq!(http["cookies"], json!(["a=1"]));
        assert_eq!(
            (http["body"].clone(), http["isBase64Encoded"].clone()),
            (json!("{}"), json!(false))
        );

        let resp = Response::builder()
            .status(200)
            .header("vary", "origin")
            .body(Body::Binary(vec![0, 255]))
            .unwrap();
        let rest = serde_json::to_value(response(Origin::RestApi, resp)).unwrap();
        assert_eq!(rest["statusCode"], 200);
        assert_eq!(rest["multiValueHeaders"], json!({"vary": ["origin"]}));
        assert_eq!(
            (rest["body"].clone(), rest["isBase64Encoded"].clone()),
            (json!("AP8="), json!(true))
        );
    }
}
