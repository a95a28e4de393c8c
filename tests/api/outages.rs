//! Fail closed: with DynamoDB or S3 down, every route answers a 503 JSON error in bounded time,
//! no upload URL is issued without its audit row, and service resumes when the server returns.

use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::json;

/// The function's timeout in template.yaml. The SDK budget (2 s per attempt, two attempts, 5 s
/// per call) must answer a 503 inside it; without that budget a stalled dependency hangs for good.
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(10);

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
async fn with_s3_down_a_completion_is_503_and_issuing_and_listing_go_on() {
    let stack = Stack::get();
    let (_held, dead) = dead_port();
    let app = stack.app_with(&[], &dead, &stack.dynamodb_endpoint, stack.credentials());
    let job = new_job();
    // Issuing signs offline and listing reads the record: neither needs S3 to answer.
    let key = issue(&app, &job, "").await["key"].clone();
    let (status, body) = call(&app, get(&format!("/photos?job_id={job}"))).await;
    assert_eq!(status.as_u16(), 200, "{body}");
    let started = Instant::now();
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
        stack
            .audit_events(&job, "upload_completed")
            .await
            .is_empty(),
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
    let key = issue(&app, &job, "").await["key"].clone();
    let started = Instant::now();
    let (status, body) = call(
        &app,
        post_json("/upload-url", &json!({"job_id": job, "keys": [key]})),
    )
    .await;
    assert_eq!(error_code(status, &body, 503), "storage_unavailable");
    assert!(
        started.elapsed() < FUNCTION_TIMEOUT,
        "stalled S3 took {:?}",
        started.elapsed()
    );
    task.abort();
}
