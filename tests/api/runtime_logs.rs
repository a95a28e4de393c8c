//! The function's own binary (the `main` the Lambda zip ships, here in the test profile: nothing
//! about logging differs between profiles) behind a local Lambda Runtime API, at `RUST_LOG=trace`:
//! what the process prints holds no bearer token, JWT, POST policy or signature, although every one
//! of them passed through the runtime (in an event or in a response). lambda_runtime logs each raw
//! event at TRACE; the binary pins the runtime crates at INFO (src/logging.rs).

use serde_json::{json, Value};

use qdn_photos::dev::test_images::padded_jpeg;

use crate::lambda::*;
use crate::support::*;

fn body_of(response: &Value) -> Value {
    serde_json::from_str(response["body"].as_str().unwrap_or("null"))
        .unwrap_or_else(|e| panic!("{e}: {response}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_trace_level_the_runtimes_logs_hold_no_token_jwt_policy_or_signature_and_whole_metrics()
{
    let stack = Stack::get();
    let job = new_job();
    let token =
        qdn_photos::store::tokens::TokenStore::new(stack.dynamodb(), stack.table.clone(), 0)
            .create(
                "runtime-test",
                &qdn_photos::domain::caller::JobScope::All,
                None,
                std::time::SystemTime::now(),
            )
            .await
            .unwrap()
            .token;
    // Shaped like a real JWT: API Gateway passes the Authorization header through to the function.
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZWNoLTQyIn0.c2lnbmF0dXJlLW9mLXRoZS1qd3QtdGhhdC1tdXN0LW5vdC1iZS1sb2dnZWQ";

    let (addr, api, mut answers) = runtime_api().await;
    // The API function as template.yaml deploys it with per-person tokens, and what Lambda adds.
    let mut env = stack.lambda_env(
        "PhotosFunction",
        &[
            ("DashboardOrigin", "http://localhost:8080"),
            ("AuthMode", "tokens"),
        ],
    );
    // Asking for TRACE everywhere, the runtime crates by name too.
    env.insert(
        "RUST_LOG".into(),
        "trace,lambda_runtime=trace,lambda_http=trace".into(),
    );
    assert_eq!(
        env["METRICS_NAMESPACE"], "QDNPhotos",
        "the template's default"
    );
    let mut function = start_function(&env, &addr);
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
    assert_eq!(post_form(&grant, |_| {}, padded_jpeg(3, 1000)).await.0, 201);
    let completion = ApiEvent::post("/upload-url")
        .bearer(&token)
        .json(&json!({"job_id": job, "keys": [grant["key"]]}));
    assert_eq!(
        invoke(&api, &mut answers, &mut function, &completion).await["statusCode"],
        201
    );
    deliver(&stack, &stack.pipeline(&[]), grant["key"].as_str().unwrap()).await;
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
    assert_eq!(counted("BytesCompleted"), [0, 1000, 0, 0]);
    assert_eq!(counted("AuthRefusals"), [0, 0, 0, 1]);
    assert!(emf.iter().all(|doc| doc["FunctionName"] == "PhotosFunction"
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
