//! Logs never carry secrets: a whole session (issue, upload, complete, list, a 401, an outage) is
//! logged at the most verbose level, and no bearer token, signature, secret key or session token
//! appears in what was written.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;
use support::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn logs_never_contain_tokens_signatures_or_keys() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let stack = Stack::get();
    let session_token = "FwoGZXIvYXdzEJr-session-token-that-must-not-be-logged";
    let creds = aws_credential_types::Credentials::new(
        &stack.access_key,
        &stack.secret_key,
        Some(session_token.into()),
        None,
        "logged",
    );
    let app = stack.app_with(&[], &stack.s3_endpoint, &stack.dynamodb_endpoint, creds);
    let job = new_job();
    let grant = issue(&app, &job, "").await;
    let signature = grant["fields"]["x-amz-signature"]
        .as_str()
        .unwrap()
        .to_owned();
    let policy = grant["fields"]["policy"].as_str().unwrap().to_owned();
    let (status, _) = post_form(&grant, |_| {}, photo_bytes(1, 50)).await;
    assert_eq!(status, 201);
    let key = grant["key"].as_str().unwrap();
    let (status, _) = call(
        &app,
        post_json("/upload-url", &json!({"job_id": job, "keys": [key]})),
    )
    .await;
    assert_eq!(status.as_u16(), 201);
    let (_, page) = call(&app, get(&format!("/photos?job_id={job}"))).await;
    let url = page["photos"][0]["url"].as_str().unwrap().to_owned();
    let get_signature = url.split("X-Amz-Signature=").nth(1).unwrap()[..64].to_owned();
    app.handle(event(
        "GET",
        "/photos?job_id=x",
        json!({"authorization": "Bearer guessed-wrong-token"}),
        None,
    ))
    .await;
    // An outage makes the SDK's error text reach the logs: it must not bring credentials with it.
    let dead = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );
    let down = stack.app_with(&[], &stack.s3_endpoint, &dead, stack.credentials());
    let (status, _) = call(&down, get(&format!("/upload-url?job_id={job}"))).await;
    assert_eq!(status.as_u16(), 503);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("handled") && logs.contains("audit PutItem failed"),
        "logging was captured:\n{logs}"
    );
    for (what, secret) in [
        ("bearer token", TOKEN),
        ("wrong bearer token", "guessed-wrong-token"),
        ("secret key", stack.secret_key.as_str()),
        ("session token", session_token),
        ("POST signature", signature.as_str()),
        ("POST policy", policy.as_str()),
        ("GET signature", get_signature.as_str()),
    ] {
        assert!(!logs.contains(secret), "the logs contain the {what}");
    }
}
