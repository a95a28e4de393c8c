//! The deployed QDN dashboard's own flow, as its client runs it: GET `/upload-url`, a native form
//! POST to S3, then the legacy report (`{job_id, file_count, timestamp}`, no keys), then a refresh
//! of the strip. The report proves nothing and lists nothing; S3's event for what Garage stored,
//! through the pipeline role, lists the photo. The same holds for an upload never reported.

use qdn_photos::dev::test_images::camera_jpeg;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn the_dashboards_own_flow_lists_its_photo_once_verified_reported_or_not() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let pipeline = stack.pipeline(&[]);
    let job = new_job();

    let photo = camera_jpeg(640, 480, 1, None, 85);
    let grant = issue(&app, &job, "").await;
    let (status, body) = post_form(&grant, |_| {}, photo.clone()).await;
    assert_eq!(status, 201, "{body}");
    let key = grant["key"].as_str().unwrap();
    let (status, report) = call(
        &app,
        post_json(
            "/upload-url",
            &json!({"job_id": job, "file_count": 1, "timestamp": "2026-12-02T08:00:00.000Z"}),
        ),
    )
    .await;
    assert_eq!(status.as_u16(), 202, "{report}");

    // The strip refreshed before S3's event was processed: nothing unverified is handed out.
    let (_, page) = call(&app, get(&format!("/photos?job_id={job}"))).await;
    assert_eq!(page["photos"], json!([]));

    assert_eq!(
        deliver(&stack, &pipeline, key).await,
        ["listed, thumbnail created"]
    );
    // A second photo whose client never reported it (the phone died after the upload).
    let unreported = upload(&app, &job, camera_jpeg(480, 640, 1, None, 85)).await;
    deliver(&stack, &pipeline, &unreported).await;

    let (status, page) = call(&app, get(&format!("/photos?job_id={job}"))).await;
    assert_eq!(status.as_u16(), 200, "{page}");
    let photos = page["photos"].as_array().unwrap();
    let keys: Vec<&str> = photos.iter().map(|p| p["key"].as_str().unwrap()).collect();
    assert_eq!(keys, [key, unreported.as_str()]);
    for listed in photos {
        assert_eq!(listed["provenance"], "granted");
        let (status, thumb, _) = download(listed["thumbnail_url"].as_str().unwrap()).await;
        assert_eq!(status, 200);
        assert!(image::load_from_memory(&thumb).is_ok(), "a real thumbnail");
    }
    let (_, served, _) = download(photos[0]["url"].as_str().unwrap()).await;
    assert_eq!(served, photo, "the stored bytes, verified");
}

#[tokio::test]
async fn an_upload_recorded_verified_but_not_yet_listed_is_still_checking_until_listed() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let pipeline = stack.pipeline(&[]);
    let job = new_job();
    let key = upload_completed(&app, &job, camera_jpeg(64, 48, 1, None, 85)).await;
    let (size, etag) = stored(&stack, &key).await;
    let event =
        qdn_photos::dev::s3_events::notification(&stack.bucket, &[(&key, size, &etag, None)]);
    let handle = || qdn_photos::pipeline::handle_event(&pipeline, &event, "dashboard-test");
    assert_eq!(handle().await.unwrap(), ["listed, thumbnail created"]);
    // The pipeline writes the verified record, then the listing row: a run that stopped between
    // the two (or a look in between) leaves the record without its row.
    let file = key.rsplit('/').next().unwrap();
    stack
        .dynamodb()
        .delete_item()
        .table_name(&stack.table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("JOB#{job}")),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("PHOTO#{file}")),
        )
        .send()
        .await
        .unwrap();
    let pending = |page: &serde_json::Value| page["pending"].clone();
    let (_, page) = call(&app, get(&format!("/photos?job_id={job}&include=pending"))).await;
    assert_eq!(page["photos"], json!([]), "{page}");
    assert_eq!(
        pending(&page),
        json!([{"key": key, "state": "checking"}]),
        "not gone: checking"
    );

    // The same event again (Lambda's retry, or redrive) finds the record and lists the photo.
    assert_eq!(handle().await.unwrap(), ["already recorded"]);
    let (_, page) = call(&app, get(&format!("/photos?job_id={job}&include=pending"))).await;
    assert_eq!(page["photos"][0]["key"], key.as_str(), "{page}");
    assert_eq!(pending(&page), json!([]));
}

#[tokio::test]
async fn a_photo_published_while_the_strip_looks_is_on_the_page_or_still_pending_never_neither() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let pipeline = stack.pipeline(&[]);
    let job = new_job();
    let mut keys = Vec::new();
    for width in 64..72 {
        keys.push(upload_completed(&app, &job, camera_jpeg(width, 48, 1, None, 85)).await);
    }
    let mut events = Vec::new();
    for key in &keys {
        let (size, etag) = stored(&stack, key).await;
        events.push(qdn_photos::dev::s3_events::notification(
            &stack.bucket,
            &[(key, size, &etag, None)],
        ));
    }
    // The pipeline lists the photos one by one while the capture page's strip looks, as it does
    // until nothing is checking: a photo in neither list would end its watch one photo short.
    let publishing = async {
        for event in &events {
            qdn_photos::pipeline::handle_event(&pipeline, event, "race-test")
                .await
                .unwrap();
        }
    };
    let looking = async {
        let keys_in = |page: &serde_json::Value, list: &str| -> Vec<String> {
            let rows = page[list].as_array().unwrap();
            rows.iter()
                .map(|row| row["key"].as_str().unwrap().to_owned())
                .collect()
        };
        loop {
            let query = format!("/photos?job_id={job}&include=pending&order=newest");
            let (_, page) = call(&app, get(&query)).await;
            let (listed, pending) = (keys_in(&page, "photos"), keys_in(&page, "pending"));
            for key in &keys {
                let places = listed.contains(key) as u8 + pending.contains(key) as u8;
                assert_eq!(places, 1, "{key} on the page or pending, once: {page}");
            }
            if listed.len() == keys.len() {
                break;
            }
        }
    };
    tokio::join!(publishing, looking);
}
