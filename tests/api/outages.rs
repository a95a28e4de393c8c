//! Fail closed: with DynamoDB or S3 down, every route answers a 503 JSON error in bounded time,
//! no upload URL is issued without its audit row, and service resumes when the server returns.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use serde_json::json;

/// The function's timeout in template.yaml. The SDK budget (2 s per attempt, two attempts, 5 s
/// per call) must answer a 503 inside it; without that budget a stalled dependency hangs for good.
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(10);

/// A moto server of this test's own, so stopping it disturbs no other test.
struct OwnDynamo {
    port: u16,
    child: Option<Child>,
}

impl OwnDynamo {
    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts moto on a free port (any port when `port` is `None`), checking that what answers
    /// there is this moto: another process may take a port between our choosing it and moto
    /// binding it, and then moto exits and we choose again.
    async fn start(port: Option<u16>, stack: &Stack) -> OwnDynamo {
        for _ in 0..10 {
            let port = port.unwrap_or_else(|| {
                let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                listener.local_addr().unwrap().port()
            });
            let child = Command::new("moto_server")
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("moto_server on PATH (make test puts it there)");
            let mut own = OwnDynamo {
                port,
                child: Some(child),
            };
            if own.answers().await {
                own.create_table(stack).await;
                return own;
            }
            own.stop();
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("moto did not start on a free port in 10 tries");
    }

    /// Whether this moto process is up and answering its own API (not some other listener).
    async fn answers(&mut self) -> bool {
        let url = format!("{}/moto-api/", self.endpoint());
        let client = reqwest::Client::new();
        for _ in 0..600 {
            let exited = self
                .child
                .as_mut()
                .is_none_or(|c| c.try_wait().ok().flatten().is_some());
            if exited {
                return false;
            }
            let ok = client
                .get(&url)
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    async fn create_table(&self, stack: &Stack) {
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .unwrap()
        };
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap()
        };
        stack
            .dynamodb_at(&self.endpoint(), Budget::Test)
            .create_table()
            .table_name(&stack.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .attribute_definitions(attr("pk"))
            .attribute_definitions(attr("sk"))
            .send()
            .await
            .expect("create table");
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

impl Drop for OwnDynamo {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn with_dynamodb_down_nothing_is_issued_and_service_resumes_after() {
    let stack = Stack::get();
    let mut dynamo = OwnDynamo::start(None, &stack).await;
    let port = dynamo.port;
    let app = stack.app_with(
        &[],
        &stack.s3_endpoint,
        &dynamo.endpoint(),
        stack.credentials(),
    );
    let job = new_job();
    issue(&app, &job, "").await;

    dynamo.stop();
    let started = Instant::now();
    let (status, body) = call(&app, get(&format!("/upload-url?job_id={job}"))).await;
    assert_eq!(error_code(status, &body, 503), "audit_unavailable");
    assert!(
        body.get("url").is_none() && body.get("fields").is_none(),
        "no credential without audit: {body}"
    );
    assert!(
        started.elapsed() < FUNCTION_TIMEOUT,
        "503 took {:?}",
        started.elapsed()
    );
    let text = body.to_string();
    assert!(
        !text.contains("127.0.0.1") && !text.contains(&port.to_string()),
        "leaks endpoint: {text}"
    );

    // A completion with real objects cannot be recorded either.
    let grant = issue(&stack.app(&[]), &job, "").await;
    assert_eq!(post_form(&grant, |_| {}, photo_bytes(1, 10)).await.0, 201);
    let (status, body) = call(
        &app,
        post_json(
            "/upload-url",
            &json!({"job_id": job, "keys": [grant["key"]]}),
        ),
    )
    .await;
    assert_eq!(error_code(status, &body, 503), "audit_unavailable");

    let _dynamo = OwnDynamo::start(Some(port), &stack).await;
    issue(&app, &job, "").await;
}

#[tokio::test]
async fn with_s3_down_every_route_that_needs_it_is_503() {
    let stack = Stack::get();
    let (_held, dead) = dead_port();
    let app = stack.app_with(&[], &dead, &stack.dynamodb_endpoint, stack.credentials());
    let job = new_job();
    let started = Instant::now();
    let (status, body) = call(&app, get(&format!("/photos?job_id={job}"))).await;
    assert_eq!(error_code(status, &body, 503), "storage_unavailable");
    assert!(
        started.elapsed() < FUNCTION_TIMEOUT,
        "took {:?}",
        started.elapsed()
    );
    let started = Instant::now();
    let key = format!("jobs/{job}/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg");
    let (status, body) = call(
        &app,
        post_json("/upload-url", &json!({"job_id": job, "keys": [key]})),
    )
    .await;
    assert_eq!(error_code(status, &body, 503), "storage_unavailable");
    assert!(
        started.elapsed() < FUNCTION_TIMEOUT,
        "took {:?}",
        started.elapsed()
    );
    assert!(
        stack.audit_rows(&job).await.is_empty(),
        "nothing recorded while S3 is down"
    );
}

#[tokio::test]
async fn expired_credentials_issue_nothing() {
    let stack = Stack::get();
    let expired = aws_credential_types::Credentials::new(
        &stack.access_key,
        &stack.secret_key,
        Some("token".into()),
        Some(std::time::SystemTime::now() - Duration::from_secs(5)),
        "expired",
    );
    let app = stack.app_with(&[], &stack.s3_endpoint, &stack.dynamodb_endpoint, expired);
    let job = new_job();
    let (status, body) = call(&app, get(&format!("/upload-url?job_id={job}"))).await;
    assert_eq!(error_code(status, &body, 503), "credentials_unavailable");
    assert!(stack.audit_rows(&job).await.is_empty());
}

/// A TCP endpoint that accepts connections and never answers: the worst kind of slow dependency.
async fn black_hole() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (format!("http://{addr}"), task)
}

#[tokio::test]
async fn a_stalled_dependency_is_503_before_the_function_times_out() {
    let stack = Stack::get();
    let (stalled, task) = black_hole().await;
    let job = new_job();

    let app = stack.app_with(&[], &stack.s3_endpoint, &stalled, stack.credentials());
    let started = Instant::now();
    let (status, body) = call(&app, get(&format!("/upload-url?job_id={job}"))).await;
    assert_eq!(error_code(status, &body, 503), "audit_unavailable");
    assert!(body.get("fields").is_none());
    let took = started.elapsed();
    assert!(took < FUNCTION_TIMEOUT, "stalled DynamoDB took {took:?}");

    let app = stack.app_with(&[], &stalled, &stack.dynamodb_endpoint, stack.credentials());
    let started = Instant::now();
    let (status, body) = call(&app, get(&format!("/photos?job_id={job}"))).await;
    assert_eq!(error_code(status, &body, 503), "storage_unavailable");
    assert!(
        started.elapsed() < FUNCTION_TIMEOUT,
        "stalled S3 took {:?}",
        started.elapsed()
    );
    task.abort();
}
