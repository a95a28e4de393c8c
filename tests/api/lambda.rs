//! A local Lambda Runtime API, and the function's own binary behind it: the part of AWS's
//! interface the runtime uses (`GET …/invocation/next` hands out the next event,
//! `POST …/invocation/{id}/response` or `…/error` takes the answer).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};

use crate::support::ApiEvent;

#[derive(Default)]
pub struct RuntimeApi {
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
pub async fn runtime_api() -> (
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

/// Invokes the function with the event `json`; returns whether it answered (`true`) or reported
/// an error (`false`), and what it sent back.
pub async fn invoke_json(
    api: &RuntimeApi,
    answers: &mut mpsc::UnboundedReceiver<(String, Value)>,
    function: &mut tokio::process::Child,
    json: String,
) -> (bool, Value) {
    let id = uuid::Uuid::new_v4().to_string();
    api.events.lock().unwrap().push_back((id.clone(), json));
    // A stored permit: the poller may be between finding the queue empty and waiting.
    api.arrived.notify_one();
    loop {
        if let Ok(Some(status)) = function.try_wait() {
            panic!("the function exited ({status}) instead of answering");
        }
        if let Ok(answer) = tokio::time::timeout(Duration::from_secs(1), answers.recv()).await {
            let (path, answer) = answer.expect("the runtime API is up");
            assert!(path.starts_with(&id), "{path}: {answer}");
            return (path.ends_with("/response"), answer);
        }
    }
}

/// Invokes the function with an API Gateway `event`; returns the response it sent back.
pub async fn invoke(
    api: &RuntimeApi,
    answers: &mut mpsc::UnboundedReceiver<(String, Value)>,
    function: &mut tokio::process::Child,
    event: &ApiEvent,
) -> Value {
    let (answered, answer) = invoke_json(api, answers, function, event.to_json()).await;
    assert!(answered, "the function reported an error: {answer}");
    answer
}

/// The function's binary with exactly `env` (nothing inherited) and the Runtime API at `addr`,
/// as Lambda starts it; its output piped.
pub fn start_function(
    env: &std::collections::HashMap<String, String>,
    addr: &str,
) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_qdn-photos"))
        .env_clear()
        .envs(env)
        .env("AWS_LAMBDA_RUNTIME_API", addr)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the function binary")
}

/// Everything `pipe` yields until it closes, read as it comes.
pub fn drain<R>(pipe: Option<R>) -> tokio::task::JoinHandle<Vec<u8>>
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
