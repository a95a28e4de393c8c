//! `POST /upload-url`: recording finished uploads, checked against what S3 really holds.

use crate::support::*;
use serde_json::json;

async fn uploaded_key(app: &qdn_photos::api::app::App, job: &str, len: usize) -> String {
    upload(app, job, photo_bytes(len as u8, len)).await
}

#[tokio::test]
async fn a_completion_is_one_row_with_its_keys_count_and_bytes() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let job = new_job();
    let keys = vec![
        uploaded_key(&app, &job, 300).await,
        uploaded_key(&app, &job, 700).await,
    ];

    let (status, body) = call(
        &app,
        post_json("/upload-url", &json!({"job_id": job, "keys": keys})),
    )
    .await;
    assert_eq!(status.as_u16(), 201, "{body}");
    assert_eq!(body["file_count"], 2);
    assert_eq!(body["total_bytes"], 1000);
    let audit_id = body["audit_id"].as_str().unwrap();

    let completed = stack.audit_events(&job, "upload_completed").await;
    assert_eq!(completed.len(), 1);
    let row = &completed[0];
    assert_eq!(row["audit_id"].as_s().unwrap(), audit_id);
    assert_eq!(row["file_count"].as_n().unwrap(), "2");
    assert_eq!(row["total_bytes"].as_n().unwrap(), "1000");
    let recorded: Vec<&str> = row["keys"]
        .as_l()
        .unwrap()
        .iter()
        .map(|k| k.as_s().unwrap().as_str())
        .collect();
    assert_eq!(recorded, keys);
    assert_eq!(
        row["principal"].as_s().unwrap(),
        &format!(
            "token:{}",
            &qdn_photos::dev::api_events::token_sha256_hex()[..8]
        )
    );
    assert_eq!(row["source_ip"].as_s().unwrap(), SOURCE_IP);
    assert!(row["expire_at"].as_n().unwrap().parse::<u64>().unwrap() > 1_800_000_000);
    // Plus the two issuance rows; nothing overwritten.
    assert_eq!(stack.audit_rows(&job).await.len(), 3);
}

#[tokio::test]
async fn a_missing_object_is_a_conflict_and_nothing_is_recorded() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let job = new_job();
    let present = uploaded_key(&app, &job, 100).await;
    // Issued but never uploaded.
    let absent = issue(&app, &job, "").await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let rows_before = stack.audit_rows(&job).await.len();

    let (status, body) = call(
        &app,
        post_json(
            "/upload-url",
            &json!({"job_id": job, "keys": [present, absent]}),
        ),
    )
    .await;
    assert_eq!(error_code(status, &body, 409), "objects_missing");
    assert_eq!(body["error"]["missing_keys"], json!([absent]));
    assert_eq!(
        stack.audit_rows(&job).await.len(),
        rows_before,
        "no row for a refused completion"
    );
}

#[tokio::test]
async fn keys_of_another_job_are_refused_before_any_lookup() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let job = new_job();
    let other = uploaded_key(&app, &new_job(), 50).await;
    let (status, body) = call(
        &app,
        post_json("/upload-url", &json!({"job_id": job, "keys": [other]})),
    )
    .await;
    assert_eq!(error_code(status, &body, 400), "invalid_key");
    assert!(stack.audit_rows(&job).await.is_empty());
}

/// The stack's app in shared-token mode, naming its principal `name` (two of these are two people).
fn app_for(stack: &Stack, name: &str) -> qdn_photos::api::app::App {
    stack.app(&[("SHARED_TOKEN_PRINCIPAL", name)])
}

async fn complete(
    app: &qdn_photos::api::app::App,
    job: &str,
    keys: &[&str],
) -> (u16, serde_json::Value) {
    let (status, body) = call(
        app,
        post_json("/upload-url", &json!({"job_id": job, "keys": keys})),
    )
    .await;
    (status.as_u16(), body)
}

#[tokio::test]
async fn a_completion_pins_each_objects_size_and_etag_and_a_repeat_returns_the_same_record() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let job = new_job();
    let keys = [
        uploaded_key(&app, &job, 300).await,
        uploaded_key(&app, &job, 700).await,
    ];
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();

    let (status, first) = complete(&app, &job, &keys).await;
    assert_eq!(status, 201, "{first}");
    for _ in 0..3 {
        let (status, again) = complete(&app, &job, &keys).await;
        assert_eq!(
            status, 200,
            "a repeat is answered, not recorded again: {again}"
        );
        assert_eq!(again, first, "same audit_id, same totals");
    }
    let rows = stack.audit_events(&job, "upload_completed").await;
    assert_eq!(rows.len(), 1);
    let pinned = rows[0]["objects"].as_l().unwrap();
    let head = stack
        .s3()
        .head_object()
        .bucket(&stack.bucket)
        .key(keys[0])
        .send()
        .await
        .unwrap();
    let first_object = pinned[0].as_m().unwrap();
    assert_eq!(first_object["etag"].as_s().unwrap(), head.e_tag().unwrap());
    assert_eq!(first_object["size"].as_n().unwrap(), "300");
    let photos = stack.index_rows(&job, "COMPLETED#").await;
    assert_eq!(photos.len(), 2);
    assert!(photos.iter().all(|p| p["audit_id"] == rows[0]["audit_id"]));

    // One of them again beside a new one: a mix of completions is refused as a whole.
    let fresh = uploaded_key(&app, &job, 10).await;
    let (status, body) = complete(&app, &job, &[keys[0], &fresh]).await;
    assert_eq!(
        error_code(status.try_into().unwrap(), &body, 409),
        "already_completed"
    );
    assert_eq!(stack.audit_events(&job, "upload_completed").await.len(), 1);
}

#[tokio::test]
async fn only_the_principal_a_key_was_issued_to_may_complete_it() {
    let stack = Stack::get();
    let (alice, bob) = (app_for(&stack, "alice"), app_for(&stack, "bob"));
    let job = new_job();
    let key = uploaded_key(&alice, &job, 100).await;
    let (status, body) = complete(&bob, &job, &[&key]).await;
    assert_eq!(
        error_code(status.try_into().unwrap(), &body, 403),
        "upload_forbidden"
    );
    assert_eq!(complete(&alice, &job, &[&key]).await.0, 201);

    // A well-formed key the server never issued.
    let never = format!("jobs/{job}/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg");
    let (status, body) = complete(&alice, &job, &[&never]).await;
    assert_eq!(
        error_code(status.try_into().unwrap(), &body, 409),
        "unknown_upload"
    );
    assert_eq!(stack.audit_events(&job, "upload_completed").await.len(), 1);
}

/// Garage has no versioning, so this test runs against moto's S3 (the stack's moto serves every
/// service on one port). moto checks no signatures, which this test does not need: it is about
/// which version a photo URL names, and S3 serving that version after the key is written again.
#[tokio::test]
async fn the_legacy_body_is_recorded_as_the_clients_unverified_report() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let job = new_job();
    // What the dashboard deployed before this service sends: no keys, a count and its own clock.
    let claimed_time = "2020-01-02T03:04:05.678Z";
    let (status, body) = call(
        &app,
        post_json(
            "/upload-url",
            &json!({"job_id": job, "file_count": 3, "timestamp": claimed_time}),
        ),
    )
    .await;
    assert_eq!(status.as_u16(), 202, "{body}");
    assert_eq!(body["verified"], false);
    assert_eq!(body["file_count"], 3);

    let reports = stack.audit_events(&job, "upload_reported").await;
    assert_eq!(reports.len(), 1);
    let row = &reports[0];
    assert_eq!(
        row["audit_id"].as_s().unwrap(),
        body["audit_id"].as_str().unwrap()
    );
    assert_eq!(row["file_count"].as_n().unwrap(), "3");
    assert_eq!(row["verified"].as_bool().unwrap(), &false);
    assert_eq!(row["client_timestamp"].as_s().unwrap(), claimed_time);
    // The row's time is the server's, not the client's claim.
    let at = row["at"].as_s().unwrap();
    assert_eq!(at, body["recorded_at"].as_str().unwrap());
    assert!(at.as_str() > "2026-01-01", "{at}");
    assert!(row.get("keys").is_none());
    // A report is no completion: nothing becomes listable, no index row is written.
    assert!(stack
        .audit_events(&job, "upload_completed")
        .await
        .is_empty());
    assert_eq!(stack.audit_rows(&job).await.len(), 1);
    let (status, photos) = call(&app, get(&format!("/photos?job_id={job}"))).await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(photos["photos"], json!([]));

    // Without the timestamp it is still a report; unknown fields are still refused.
    let (status, _) = call(
        &app,
        post_json("/upload-url", &json!({"job_id": job, "file_count": 1})),
    )
    .await;
    assert_eq!(status.as_u16(), 202);
    let (status, body) = call(
        &app,
        post_json(
            "/upload-url",
            &json!({"job_id": job, "file_count": 1, "uploaded_by": "x"}),
        ),
    )
    .await;
    assert_eq!(error_code(status, &body, 400), "invalid_json");
    assert_eq!(stack.audit_events(&job, "upload_reported").await.len(), 2);
}
