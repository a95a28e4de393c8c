//! `POST /upload-url`: recording finished uploads, checked against what S3 really holds.

use crate::support::*;
use serde_json::json;

async fn uploaded_key(app: &qdn_photos::app::App, job: &str, len: usize) -> String {
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
        &format!("token:{}", &qdn_photos::test_util::token_sha256_hex()[..8])
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
