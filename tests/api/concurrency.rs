//! Many completions at once against the local stack, ten for each of a hundred uploads: each
//! upload is recorded exactly once, every answer for it names that one record, and a completion
//! shed under load is a clean 503 that a retry then answers.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};

use crate::support::*;

const UPLOADS: usize = 100;
const COMPLETIONS_EACH: usize = 10;
/// In flight at once: one process on two cores stands in for a fleet of Lambda instances.
const IN_FLIGHT: usize = 100;
/// A client's retries of a 503, with a growing pause: how many depends on the machine's speed,
/// so the test counts them instead of bounding them tightly.
const MAX_ATTEMPTS: u32 = 20;

/// One client completing: retries a 503 (clean, nothing half-done) until a 201 or a 200.
async fn complete(app: &qdn_photos::api::app::App, body: &Value) -> (u16, String, u32) {
    for attempt in 1..=MAX_ATTEMPTS {
        let (status, resp) = call(app, post_json("/upload-url", body)).await;
        match status.as_u16() {
            code @ (200 | 201) => {
                let audit_id = resp["audit_id"].as_str().unwrap().to_owned();
                return (code, audit_id, attempt - 1);
            }
            503 => {
                let code = resp["error"]["code"].as_str().unwrap();
                assert!(
                    matches!(code, "audit_unavailable" | "storage_unavailable"),
                    "{resp}"
                );
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
            }
            other => panic!("unexpected {other}: {resp}"),
        }
    }
    panic!("no answer after {MAX_ATTEMPTS} attempts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_completions_of_the_same_uploads_record_each_upload_once() {
    let stack = Stack::get();
    // A moto of its own: this flood would otherwise starve every other test's DynamoDB calls.
    let dynamo = OwnDynamo::start(None, &stack).await;
    let app = stack.app_with(
        &[],
        &stack.s3_endpoint,
        &dynamo.endpoint(),
        stack.credentials(),
    );
    let stack = Stack {
        dynamodb_endpoint: dynamo.endpoint(),
        ..stack
    };
    let job = new_job();
    let keys: Vec<String> = stream::iter(0..UPLOADS)
        .map(|i| upload(&app, &job, photo_bytes(i as u8, 100)))
        .buffer_unordered(10)
        .collect()
        .await;

    let bodies: Vec<(String, Value)> = keys
        .iter()
        .flat_map(|key| {
            let body = json!({"job_id": job, "keys": [key]});
            std::iter::repeat_n((key.clone(), body), COMPLETIONS_EACH)
        })
        .collect();
    let results: Vec<(String, (u16, String, u32))> = stream::iter(&bodies)
        .map(|(key, body)| async { (key.clone(), complete(&app, body).await) })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let retries: u32 = results.iter().map(|(_, (_, _, r))| r).sum();
    println!(
        "{} completions, {IN_FLIGHT} in flight: {retries} retried 503s",
        results.len()
    );

    let rows = stack.audit_events(&job, "upload_completed").await;
    assert_eq!(
        rows.len(),
        UPLOADS,
        "one record per upload, however often it was sent"
    );
    let recorded: HashMap<String, String> = rows
        .iter()
        .map(|r| {
            let key = r["keys"].as_l().unwrap()[0].as_s().unwrap().clone();
            (key, r["audit_id"].as_s().unwrap().clone())
        })
        .collect();
    let mut created: HashMap<&str, usize> = HashMap::new();
    for (key, (status, audit_id, _)) in &results {
        assert_eq!(
            &recorded[key], audit_id,
            "every answer names the one record"
        );
        if *status == 201 {
            *created.entry(key).or_default() += 1;
        }
    }
    // A 201 lost to a timeout is answered 200 on the retry, so a key may have no 201; never two.
    assert!(created.values().all(|n| *n == 1), "{created:?}");
    let all_rows = stack.audit_rows(&job).await;
    let sort_keys: HashSet<&String> = all_rows.iter().map(|r| r["sk"].as_s().unwrap()).collect();
    assert_eq!(sort_keys.len(), all_rows.len(), "no two rows share a key");
}
