//! Shared by the integration tests: the local stack (started by `make test` / `scripts/stack.sh`),
//! the real [`App`] wired to it, API Gateway events, and a browser-like multipart POST to S3.
#![allow(dead_code)] // each test binary uses its own subset

use std::collections::HashMap;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request};
use qdn_photos::app::App;
use qdn_photos::clients::{retry_config, timeout_config};
use qdn_photos::config::Config;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const TOKEN: &str = "integration-test-token";

/// The running local stack, from the variables `scripts/stack.sh` writes to `.stack/env`.
#[derive(Clone, Debug)]
pub struct Stack {
    pub s3_endpoint: String,
    pub dynamodb_endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
    pub bucket: String,
    pub table: String,
}

impl Stack {
    pub fn get() -> Stack {
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} is not set: run the tests with `make test`, which starts the local stack")
            })
        };
        Stack {
            s3_endpoint: var("AWS_ENDPOINT_URL_S3"),
            dynamodb_endpoint: var("AWS_ENDPOINT_URL_DYNAMODB"),
            access_key: var("AWS_ACCESS_KEY_ID"),
            secret_key: var("AWS_SECRET_ACCESS_KEY"),
            region: var("AWS_REGION"),
            bucket: var("UPLOADS_BUCKET"),
            table: var("AUDIT_TABLE"),
        }
    }

    pub fn credentials(&self) -> Credentials {
        Credentials::new(
            &self.access_key,
            &self.secret_key,
            None,
            None,
            "local-stack",
        )
    }

    fn sdk_config(&self, creds: Credentials) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .credentials_provider(SharedCredentialsProvider::new(creds))
            .timeout_config(timeout_config())
            .retry_config(retry_config())
            .build()
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        self.s3_at(&self.s3_endpoint, self.credentials())
    }

    pub fn s3_at(&self, endpoint: &str, creds: Credentials) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk_config(creds))
            .endpoint_url(endpoint)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        self.dynamodb_at(&self.dynamodb_endpoint)
    }

    pub fn dynamodb_at(&self, endpoint: &str) -> aws_sdk_dynamodb::Client {
        let conf = aws_sdk_dynamodb::config::Builder::from(&self.sdk_config(self.credentials()))
            .endpoint_url(endpoint)
            .build();
        aws_sdk_dynamodb::Client::from_conf(conf)
    }

    /// The configuration `make dev` would give, plus `overrides`.
    pub fn config(&self, overrides: &[(&str, &str)]) -> Config {
        let token_hash: String = Sha256::digest(TOKEN)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut vars: HashMap<String, String> = [
            ("UPLOADS_BUCKET", self.bucket.as_str()),
            ("AUDIT_TABLE", &self.table),
            ("AWS_REGION", &self.region),
            ("AWS_ENDPOINT_URL_S3", &self.s3_endpoint),
            ("S3_FORCE_PATH_STYLE", "true"),
            ("AUTH_TOKEN_SHA256", &token_hash),
            ("ALLOWED_ORIGINS", "http://localhost:8080"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in overrides {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        Config::from_lookup(|name| vars.get(name).cloned()).expect("test configuration is valid")
    }

    pub fn app(&self, overrides: &[(&str, &str)]) -> App {
        self.app_with(
            overrides,
            &self.s3_endpoint,
            &self.dynamodb_endpoint,
            self.credentials(),
        )
    }

    pub fn app_with(
        &self,
        overrides: &[(&str, &str)],
        s3: &str,
        dynamodb: &str,
        creds: Credentials,
    ) -> App {
        App::new(
            self.config(overrides),
            self.s3_at(s3, creds.clone()),
            self.dynamodb_at(dynamodb),
            SharedCredentialsProvider::new(creds),
        )
    }

    /// All of a job's audit rows, oldest first (every page of the query).
    pub async fn audit_rows(
        &self,
        job_id: &str,
    ) -> Vec<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let mut rows = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .dynamodb()
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(
                    ":pk",
                    aws_sdk_dynamodb::types::AttributeValue::S(format!("JOB#{job_id}")),
                )
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("query audit rows");
            rows.extend(page.items().iter().cloned());
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return rows;
            }
        }
    }

    pub async fn object(&self, key: &str) -> Option<Vec<u8>> {
        match self
            .s3()
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Some(out.body.collect().await.unwrap().into_bytes().to_vec()),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => None,
            Err(err) => panic!(
                "GetObject {key}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&err)
            ),
        }
    }
}

/// A job id of its own for each test, so tests never see each other's objects or rows.
pub fn new_job() -> String {
    format!("t-{}", uuid::Uuid::new_v4().simple())
}

/// An API Gateway HTTP API (payload 2.0) event, parsed exactly as the Lambda runtime parses it.
pub fn event(method: &str, path_and_query: &str, headers: Value, body: Option<&str>) -> Request {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let event = json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": "localhost",
            "requestId": uuid::Uuid::new_v4().to_string(), "routeKey": format!("{method} {path}"),
            "stage": "$default", "time": "23/Nov/2026:10:00:00 +0000", "timeEpoch": 1_795_432_800_000_i64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "198.51.100.23",
                     "userAgent": "qdn-photos-tests"}
        },
        "body": body,
        "isBase64Encoded": false
    });
    lambda_http::request::from_str(&event.to_string()).expect("valid API Gateway event")
}

pub fn authed() -> Value {
    json!({"authorization": format!("Bearer {TOKEN}"), "user-agent": "qdn-photos-tests"})
}

pub fn get(path_and_query: &str) -> Request {
    event("GET", path_and_query, authed(), None)
}

pub fn post_json(path: &str, body: &Value) -> Request {
    let mut headers = authed();
    headers["content-type"] = json!("application/json");
    event("POST", path, headers, Some(&body.to_string()))
}

/// Calls the handler; returns the status and the JSON body (every response must be JSON).
pub async fn call(app: &App, req: Request) -> (StatusCode, Value) {
    let resp = app.handle(req).await;
    let status = resp.status();
    assert_eq!(
        resp.headers()["content-type"],
        "application/json",
        "every response is JSON"
    );
    let bytes = match resp.body() {
        Body::Binary(b) => b.clone(),
        Body::Text(t) => t.clone().into_bytes(),
        _ => Vec::new(),
    };
    let body =
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {bytes:?}"));
    (status, body)
}

/// Asserts the documented error envelope and returns its code.
pub fn error_code(status: StatusCode, body: &Value, expected_status: u16) -> String {
    assert_eq!(status.as_u16(), expected_status, "body: {body}");
    let error = &body["error"];
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message in {body}"
    );
    error["code"].as_str().expect("error.code").to_owned()
}

/// Asks for an upload URL for `job_id`, asserting success.
pub async fn issue(app: &App, job_id: &str, query: &str) -> Value {
    let (status, body) = call(app, get(&format!("/upload-url?job_id={job_id}{query}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Issues a URL for `job_id` and uploads `bytes` with it, asserting S3's 201; returns the key.
pub async fn upload(app: &App, job_id: &str, bytes: Vec<u8>) -> String {
    let grant = issue(app, job_id, "").await;
    let (status, body) = post_form(&grant, |_| {}, bytes).await;
    assert_eq!(status, 201, "{body}");
    grant["key"].as_str().unwrap().to_owned()
}

/// What a browser sends: the returned fields in order (with `edit` applied), then the file.
pub async fn post_form(
    grant: &Value,
    edit: impl FnOnce(&mut Vec<(String, String)>),
    file: Vec<u8>,
) -> (u16, String) {
    let mut fields: Vec<(String, String)> = grant["fields"]
        .as_object()
        .expect("fields")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string field").to_owned()))
        .collect();
    edit(&mut fields);
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text(name, value);
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(file).file_name("photo.jpg"),
    );
    let resp = reqwest::Client::new()
        .post(grant["url"].as_str().expect("url"))
        .multipart(form)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("POST to S3");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

pub fn set_field(fields: &mut [(String, String)], name: &str, value: &str) {
    let field = fields
        .iter_mut()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no field {name}"));
    field.1 = value.to_owned();
}

/// Deterministic bytes that look nothing like each other from one seed to the next.
pub fn photo_bytes(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}
