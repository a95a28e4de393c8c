//! Logs never carry secrets: a whole session (issue, upload, complete, list, a 401, an outage) is
//! logged at the most verbose level, and no bearer token, signature, secret key or session token
//! appears in what was written.

use std::cell::Cell;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::json;
use tracing_subscriber::filter::dynamic_filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

use qdn_photos::dev::test_images::padded_jpeg;

use crate::support::*;

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

thread_local! {
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
}

/// Everything logged at any level on a thread that is capturing. The subscriber is the process's
/// global one (a thread-scoped one misses events whose callsites other test threads registered
/// first); other threads' events are filtered out, per event, before they are formatted.
fn captured_logs() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(move || writer.clone())
            .with_filter(dynamic_filter_fn(|_, _| CAPTURING.with(Cell::get)));
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
            .expect("only this test sets a global subscriber");
        captured
    })
}

#[tokio::test(flavor = "current_thread")]
async fn logs_never_contain_tokens_signatures_policies_or_keys() {
    let captured = captured_logs();
    CAPTURING.with(|c| c.set(true));

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
    let (status, _) = post_form(&grant, |_| {}, padded_jpeg(1, 1000)).await;
    assert_eq!(status, 201);
    let key = grant["key"].as_str().unwrap();
    let (status, _) = call(
        &app,
        post_json("/upload-url", &json!({"job_id": job, "keys": [key]})),
    )
    .await;
    assert_eq!(status.as_u16(), 201);
    deliver(&stack, &stack.pipeline(&[]), key).await;
    let (_, page) = call(&app, get(&format!("/photos?job_id={job}"))).await;
    let url = page["photos"][0]["url"].as_str().unwrap().to_owned();
    let get_signature = url.split("X-Amz-Signature=").nth(1).unwrap()[..64].to_owned();
    app.handle(
        ApiEvent::get("/photos?job_id=x")
            .bearer("guessed-wrong-token")
            .request(),
    )
    .await;
    // An outage makes the SDK's error text reach the logs: it must not bring credentials with it.
    let (_held, dead) = dead_port();
    let down = stack.app_with(&[], &stack.s3_endpoint, &dead, stack.credentials());
    let (status, _) = call(&down, get(&format!("/upload-url?job_id={job}"))).await;
    assert_eq!(status.as_u16(), 503);

    CAPTURING.with(|c| c.set(false));
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("handled") && logs.contains("audit TransactWriteItems failed"),
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
