//! The one API Gateway event builder, shared by unit tests, integration tests, the fuzz target
//! and the benches (feature `dev`). Events are read by `event::parse`, exactly as the
//! function reads what API Gateway sends.

use lambda_http::Request;
use serde_json::{json, Map, Value};

/// Where test requests come from (a documentation address, RFC 5737).
pub const SOURCE_IP: &str = "198.51.100.23";

/// An API Gateway event under construction: HTTP API (payload 2.0) unless [`ApiEvent::rest_api`].
#[derive(Debug, Clone)]
pub struct ApiEvent {
    method: String,
    path: String,
    query: String,
    headers: Map<String, Value>,
    body: Option<String>,
    authorizer: Option<Value>,
    stage: String,
    request_id: String,
    rest_api: bool,
}

impl ApiEvent {
    /// `method` on `path_and_query` (`/photos?job_id=j-1`; the query as a client would encode it).
    pub fn new(method: &str, path_and_query: &str) -> Self {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        ApiEvent {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers: Map::new(),
            body: None,
            authorizer: None,
            stage: "$default".to_owned(),
            request_id: uuid::Uuid::now_v7().to_string(),
            rest_api: false,
        }
    }

    pub fn get(path_and_query: &str) -> Self {
        Self::new("GET", path_and_query)
    }

    pub fn post(path_and_query: &str) -> Self {
        Self::new("POST", path_and_query)
    }

    pub fn delete(path_and_query: &str) -> Self {
        Self::new("DELETE", path_and_query)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .insert(name.to_ascii_lowercase(), Value::String(value.to_owned()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn body(mut self, body: &str) -> Self {
        self.body = Some(body.to_owned());
        self
    }

    /// `body` as JSON, with `Content-Type: application/json`.
    pub fn json(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(&body.to_string())
    }

    /// `requestContext.authorizer`, as API Gateway fills it in after its authorizer ran.
    pub fn authorizer(mut self, authorizer: Value) -> Self {
        self.authorizer = Some(authorizer);
        self
    }

    /// A named stage, whose name API Gateway puts in front of the path.
    pub fn stage(mut self, stage: &str) -> Self {
        self.stage = stage.to_owned();
        self
    }

    /// A REST API (payload 1.0) event instead.
    pub fn rest_api(mut self) -> Self {
        self.rest_api = true;
        self
    }

    pub fn to_json(&self) -> String {
        let event = if self.rest_api {
            self.rest_event()
        } else {
            self.http_event()
        };
        event.to_string()
    }

    fn http_event(&self) -> Value {
        let route_key = format!("{} {}", self.method, self.path);
        let mut context = json!({
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com",
            "requestId": self.request_id, "routeKey": route_key, "stage": self.stage,
            "time": "23/Nov/2026:10:00:00 +0000", "timeEpoch": 1_795_432_800_000_i64,
            "http": {"method": self.method, "path": self.path, "protocol": "HTTP/1.1",
                     "sourceIp": SOURCE_IP, "userAgent": "qdn-photos-tests"}
        });
        if let Some(authorizer) = &self.authorizer {
            context["authorizer"] = authorizer.clone();
        }
        json!({
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": self.path,
            "rawQueryString": self.query,
            "headers": self.headers,
            "requestContext": context,
            "body": self.body,
            "isBase64Encoded": false
        })
    }

    fn rest_event(&self) -> Value {
        let mut params: Map<String, Value> = Map::new();
        for (name, value) in form_urlencoded(&self.query) {
            let values = params.entry(name).or_insert_with(|| json!([]));
            if let Value::Array(values) = values {
                values.push(Value::String(value));
            }
        }
        let mut context = json!({
            "stage": self.stage, "requestId": self.request_id, "resourcePath": self.path,
            "httpMethod": self.method, "identity": {"sourceIp": SOURCE_IP}
        });
        if let Some(authorizer) = &self.authorizer {
            context["authorizer"] = authorizer.clone();
        }
        json!({
            "resource": self.path, "path": self.path, "httpMethod": self.method,
            "headers": self.headers,
            "multiValueQueryStringParameters": if params.is_empty() { Value::Null } else { Value::Object(params) },
            "requestContext": context,
            "body": self.body,
            "isBase64Encoded": false
        })
    }

    /// The event as the function reads it (`event::parse`, as in production); `Err` where it
    /// refuses the event.
    pub fn try_request(&self) -> Result<Request, lambda_http::Error> {
        crate::api::event::parse(&self.to_json())
            .map(|(req, _)| req)
            .map_err(Into::into)
    }

    pub fn request(&self) -> Request {
        self.try_request()
            .unwrap_or_else(|e| panic!("not a valid API Gateway event ({e}): {}", self.to_json()))
    }
}

/// `a=1&b=x%20y` → pairs, percent-decoded (REST APIs deliver the query already split).
fn form_urlencoded(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// The bearer token whose hash [`config`] accepts.
pub const TOKEN: &str = "integration-test-token";

/// The hex SHA-256 of [`TOKEN`], as `AUTH_TOKEN_SHA256` takes it.
pub fn token_sha256_hex() -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(TOKEN.as_bytes()))
}

/// A DynamoDB client that is never meant to be reached (for code paths that do no I/O).
pub fn offline_dynamodb() -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

/// An authenticator in `mode` whose token store is [`offline_dynamodb`].
pub fn offline_authenticator(
    mode: crate::api::config::AuthMode,
) -> crate::api::auth::Authenticator {
    crate::api::auth::Authenticator::new(
        mode,
        crate::store::tokens::TokenStore::new(offline_dynamodb(), "qdn-audit".into(), 0),
    )
}

/// [`decide`](crate::api::app::decide) without I/O, for the modes that do none (jwt, shared-token):
/// the property tests, the fuzz target and the benches decide exactly as the handler does.
pub struct OfflineDecider {
    pub config: crate::api::config::ApiConfig,
    auth: crate::api::auth::Authenticator,
}

impl OfflineDecider {
    pub fn new(config: crate::api::config::ApiConfig) -> Self {
        let auth = offline_authenticator(config.auth.clone());
        OfflineDecider { config, auth }
    }

    pub fn decide(
        &self,
        req: &Request,
    ) -> Result<crate::api::app::Decision, crate::api::error::ApiError> {
        use futures_util::FutureExt;
        crate::api::app::decide(&self.config, &self.auth, req)
            .now_or_never()
            .expect("only tokens mode waits, and it is not used offline")
    }
}

/// A valid configuration for tests: bucket `qdn-uploads`, table `qdn-audit`, region us-east-1,
/// bearer [`TOKEN`], origin `http://localhost:8080`, then `overrides` (an empty value unsets).
pub fn config(overrides: &[(&str, &str)]) -> crate::api::config::ApiConfig {
    let token = token_sha256_hex();
    let defaults = [
        ("UPLOADS_BUCKET", "qdn-uploads"),
        ("AUDIT_TABLE", "qdn-audit"),
        ("AWS_REGION", "us-east-1"),
        ("AUTH_TOKEN_SHA256", token.as_str()),
        ("ALLOWED_ORIGINS", "http://localhost:8080"),
    ];
    let lookup = |name: &str| {
        overrides
            .iter()
            .rev()
            .chain(defaults.iter())
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    };
    let config = crate::api::config::ApiConfig::from_env(&crate::config::Env::new(&lookup));
    config.unwrap_or_else(|err| panic!("test configuration: {err}"))
}
