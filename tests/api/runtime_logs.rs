//! The function's own binary (the `main` the Lambda zip ships, here in the test profile: nothing
//! about logging differs between profiles) behind a local Lambda Runtime API, at `RUST_LOG=trace`:
//! what the process prints holds no bearer token, JWT, POST policy or signature, although every one
//! of them passed through the runtime (in an event or in a response). lambda_runtime logs each raw
//! event at TRACE; the binary pins the runtime crates at INFO (src/logging.rs).
//!
//! The Runtime API here is the part of AWS's interface the runtime uses: `GET …/invocation/next`
//! hands out the next event, `POST …/invocation/{id}/response` takes the answer.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};

use crate::support::*;

#[derive(Default)]
struct RuntimeApi {
    events: Mutex<VecDeque<(String, String)>>,
    arrived: Notify,
}

async fn serve(
    api: Arc<RuntimeApi>,
    answers: mpsc::UnboundedSender<(String, Value)>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    if path.ends_with("/invocation/next") {
        loop {
            let next = api.events.lock().unwrap().pop_front();
            if let Some((id, event)) = next {
                let deadline = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_millis()
                    + 60_000;
                return Ok(Response::builder()
                    .header("lambda-runtime-aws-request-id", id)
                    .header("lambda-runtime-deadline-ms", deadline.to_string())
                    .header(
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:qdn-photos",
                    )
                    .body(Full::new(Bytes::from(event)))
                    .unwrap());
            }
            api.arrived.notified().await;
        }
    }
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let id = path.split('/').nth(4).unwrap_or_default().to_owned();
    let answer = serde_json::from_slice(&body).unwrap_or(json!({"unparsable": true}));
    let _ = answers.send((format!("{id} {path}"), answer));
    Ok(Response::builder()
        .status(202)
        .body(Full::new(Bytes::new()))
        .unwrap())
}

/// A Runtime API on a free loopback port; returns its address, the event queue and the answers.
async fn runtime_api() -> (
    String,
    Arc<RuntimeApi>,
    mpsc::UnboundedReceiver<(String, Value)>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let api = Arc::new(RuntimeApi::default());
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = api.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (api, tx) = (shared.clone(), tx.clone());
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req| serve(api.clone(), tx.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, api, rx)
}

/// Invokes the function with `event`; returns the API Gateway response it sent back.
async fn invoke(
    api: &RuntimeApi,
    answers: &mut mpsc::UnboundedReceiver<(String, Value)>,
    function: &mut tokio::process::Child,
    event: &ApiEvent,
) -> Value {
    let id = uuid::Uuid::new_v4().to_string();
    api.events
        .lock()
        .unwrap()
        .push_back((id.clone(), event.to_json()));
    // A stored permit: the poller may be between finding the queue empty and waiting.
    api.arrived.notify_one();
    loop {
        if let Ok(Some(status)) = function.try_wait() {
            panic!("the function exited ({status}) instead of answering");
        }
        if let Ok(answer) = tokio::time::timeout(Duration::from_secs(1), answers.recv()).await {
            let (path, answer) = answer.expect("the runtime API is up");
            assert!(
                path.starts_with(&id) && path.ends_with("/response"),
                "{path}: {answer}"
            );
            return answer;
        }
    }
}

/// Everything `pipe` yields until it closes, read as it comes.
fn drain<R>(pipe: Option<R>) -> tokio::task::JoinHandle<Vec<u8>>
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut out = Vec::new();
        if let Some(mut pipe) = pipe {
            tokio::io::AsyncReadExt::read_to_end(&mut pipe, &mut out)
                .await
                .ok();
        }
        out
    })
}

fn body_of(response: &Value) -> Value {
    serde_json::from_str(response["body"].as_str().unwrap_or("null"))
        .unwrap_or_else(|e| panic!("{e}: {response}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_trace_level_the_runtimes_logs_hold_no_token_jwt_policy_or_signature_and_whole_metrics()
{
    let stack = Stack::get();
    let job = new_job();
    let token = qdn_photos::tokens::TokenStore::new(stack.dynamodb(), stack.table.clone(), 0)
        .create(
            "runtime-test",
            &qdn_photos::auth::JobScope::All,
            None,
            std::time::SystemTime::now(),
        )
        .await
        .unwrap()
        .token;
    // Shaped like a real JWT: API Gateway passes the Authorization header through to the function.
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZWNoLTQyIn0.c2lnbmF0dXJlLW9mLXRoZS1qd3QtdGhhdC1tdXN0LW5vdC1iZS1sb2dnZWQ";

    let (addr, api, mut answers) = runtime_api().await;
    let mut function = tokio::process::Command::new(env!("CARGO_BIN_EXE_qdn-photos"))
        .env("AWS_LAMBDA_RUNTIME_API", &addr)
        .env("AWS_LAMBDA_FUNCTION_NAME", "qdn-photos")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "test")
        // Asking for TRACE everywhere, the runtime crates by name too.
        .env("RUST_LOG", "trace,lambda_runtime=trace,lambda_http=trace")
        .env("AUTH_MODE", "tokens")
        .env("METRICS_NAMESPACE", "QDNPhotos")
        .env("ALLOWED_ORIGINS", "http://localhost:8080")
        .env_remove("AUTH_TOKEN_SHA256")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the function binary");
    // Drained as it runs: at TRACE the function writes far more than a pipe holds.
    let stdout = drain(function.stdout.take());
    let stderr = drain(function.stderr.take());

    let grant = body_of(
        &invoke(
            &api,
            &mut answers,
            &mut function,
            &ApiEvent::get(&format!("/upload-url?job_id={job}")).bearer(&token),
        )
        .await,
    );
    let policy = grant["fields"]["policy"]
        .as_str()
        .expect("a grant")
        .to_owned();
    let post_signature = grant["fields"]["x-amz-signature"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(post_form(&grant, |_| {}, photo_bytes(3, 64)).await.0, 201);
    let completion = ApiEvent::post("/upload-url")
        .bearer(&token)
        .json(&json!({"job_id": job, "keys": [grant["key"]]}));
    assert_eq!(
        invoke(&api, &mut answers, &mut function, &completion).await["statusCode"],
        201
    );
    let page = body_of(
        &invoke(
            &api,
            &mut answers,
            &mut function,
            &ApiEvent::get(&format!("/photos?job_id={job}")).bearer(&token),
        )
        .await,
    );
    let url = page["photos"][0]["url"].as_str().unwrap();
    let get_signature = url.split("X-Amz-Signature=").nth(1).unwrap()[..64].to_owned();
    let refused = invoke(
        &api,
        &mut answers,
        &mut function,
        &ApiEvent::get(&format!("/photos?job_id={job}")).bearer(jwt),
    )
    .await;
    assert_eq!(refused["statusCode"], 401);

    function.start_kill().unwrap();
    function.wait().await.unwrap();
    let stdout = String::from_utf8_lossy(&stdout.await.unwrap()).into_owned();
    let logs = format!(
        "{stdout}{}",
        String::from_utf8_lossy(&stderr.await.unwrap())
    );

    // One EMF line per invocation, whole among the TRACE output, counting what each request did.
    let emf: Vec<Value> = stdout
        .lines()
        .filter(|line| line.starts_with('{') && line.contains(r#""_aws":{"#))
        .map(|line| serde_json::from_str(line).expect("an EMF line is one JSON document"))
        .collect();
    let counted = |name: &str| {
        emf.iter()
            .map(|doc| doc[name].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(counted("UrlsIssued"), [1, 0, 0, 0]);
    assert_eq!(counted("Completions"), [0, 1, 0, 0]);
    assert_eq!(counted("BytesCompleted"), [0, 64, 0, 0]);
    assert_eq!(counted("AuthRefusals"), [0, 0, 0, 1]);
    assert!(emf.iter().all(|doc| doc["FunctionName"] == "qdn-photos"
        && doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "QDNPhotos"));
    // TRACE was on: the function's own and the SDK's most verbose lines are there.
    assert!(logs.contains("handled") && logs.contains("TRACE"), "{logs}");
    for (what, secret) in [
        ("bearer token", token.as_str()),
        ("JWT", jwt),
        ("POST policy", policy.as_str()),
        ("POST signature", post_signature.as_str()),
        ("GET signature", get_signature.as_str()),
        ("secret key", stack.secret_key.as_str()),
    ] {
        assert!(!logs.contains(secret), "the logs contain the {what}");
    }
}
