//! Many completions at once against the local stack: every 201 has its own audit row, none is
//! overwritten, and nothing else is written.

mod support;

use std::collections::HashSet;

use futures_util::stream::{self, StreamExt};
use serde_json::json;
use support::*;

const COMPLETIONS: usize = 1000;
/// In flight at once: one process on two cores stands in for a fleet of Lambda instances.
const IN_FLIGHT: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_completions_each_get_their_row() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let job = new_job();
    let key = upload(&app, &job, photo_bytes(1, 100)).await;

    let body = json!({"job_id": job, "keys": [key]});
    let results: Vec<_> = stream::iter(0..COMPLETIONS)
        .map(|_| call(&app, post_json("/upload-url", &body)))
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let mut audit_ids = HashSet::new();
    let mut shed = 0;
    for (status, body) in &results {
        // Under this load (2 cores, one-process servers) a dependency may time out; that must be a
        // clean 503, never a half success.
        match status.as_u16() {
            201 => assert!(audit_ids.insert(body["audit_id"].as_str().unwrap().to_owned())),
            503 => {
                let code = body["error"]["code"].as_str().unwrap();
                assert!(
                    matches!(code, "audit_unavailable" | "storage_unavailable"),
                    "{body}"
                );
                shed += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    println!(
        "{COMPLETIONS} completions, {IN_FLIGHT} in flight: {} recorded (201), {shed} shed (503)",
        audit_ids.len()
    );
    assert!(
        audit_ids.len() >= COMPLETIONS / 2,
        "only {} of {COMPLETIONS} recorded",
        audit_ids.len()
    );

    let rows = stack.audit_rows(&job).await;
    let recorded: HashSet<String> = rows
        .iter()
        .filter(|r| r["event"].as_s().unwrap() == "upload_completed")
        .map(|r| r["audit_id"].as_s().unwrap().clone())
        .collect();
    // Every 201 has its row. (A row whose 201 was lost to a timeout may exist: the client saw a 503
    // and retries, so the log over-reports rather than under-reports.)
    assert!(
        audit_ids.is_subset(&recorded),
        "{} 201s have no row",
        audit_ids.difference(&recorded).count()
    );
    assert!(recorded.len() <= COMPLETIONS);
    let sort_keys: HashSet<&String> = rows.iter().map(|r| r["sk"].as_s().unwrap()).collect();
    assert_eq!(sort_keys.len(), rows.len(), "no two rows share a key");
}
