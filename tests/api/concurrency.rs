//! Many completions at once against the local stack: every 201 has its own audit row, none is
//! overwritten, and a completion shed under load is a clean 503 that a retry then records.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};

use crate::support::*;

const COMPLETIONS: usize = 1000;
/// In flight at once: one process on two cores stands in for a fleet of Lambda instances.
const IN_FLIGHT: usize = 100;
/// A client's retries of a 503, with a growing pause: how many depends on the machine's speed,
/// so the test counts them instead of bounding them tightly.
const MAX_ATTEMPTS: u32 = 20;

/// One client completing: retries a 503 (clean, nothing half-done) until a 201.
async fn complete(app: &qdn_photos::app::App, body: &Value) -> (String, u32) {
    for attempt in 1..=MAX_ATTEMPTS {
        let (status, resp) = call(app, post_json("/upload-url", body)).await;
        match status.as_u16() {
            201 => return (resp["audit_id"].as_str().unwrap().to_owned(), attempt - 1),
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
    panic!("no 201 after {MAX_ATTEMPTS} attempts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_completions_each_get_their_own_row() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let job = new_job();
    let key = upload(&app, &job, photo_bytes(1, 100)).await;

    let body = json!({"job_id": job, "keys": [key]});
    let results: Vec<(String, u32)> = stream::iter(0..COMPLETIONS)
        .map(|_| complete(&app, &body))
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let audit_ids: HashSet<String> = results.iter().map(|(id, _)| id.clone()).collect();
    let retries: u32 = results.iter().map(|(_, r)| r).sum();
    println!("{COMPLETIONS} completions, {IN_FLIGHT} in flight: {retries} retried 503s");
    assert_eq!(audit_ids.len(), COMPLETIONS, "every 201 names its own row");

    let rows = stack.audit_events(&job, "upload_completed").await;
    let recorded: HashSet<String> = rows
        .iter()
        .map(|r| r["audit_id"].as_s().unwrap().clone())
        .collect();
    // Every 201 has its row. (A row whose 201 was lost to a timeout may exist too: the client saw
    // a 503 and retried, so the log over-reports rather than under-reports.)
    assert!(
        audit_ids.is_subset(&recorded),
        "{} 201s have no row",
        audit_ids.difference(&recorded).count()
    );
    assert!(recorded.len() <= COMPLETIONS + retries as usize);
    let all_rows = stack.audit_rows(&job).await;
    let sort_keys: HashSet<&String> = all_rows.iter().map(|r| r["sk"].as_s().unwrap()).collect();
    assert_eq!(sort_keys.len(), all_rows.len(), "no two rows share a key");
}
