//! Batch grants (issue 24 point 2): `POST /upload-url` with `files` grants up to 20 uploads in one
//! request, each audited as a single grant is, all or none, each bound to its size, type and hash.

use qdn_photos::dev::test_images::padded_jpeg;
use qdn_photos::domain::content_hash::ContentHash;
use serde_json::{json, Value};

use crate::support::*;

fn file(bytes: &[u8]) -> Value {
    json!({"size": bytes.len(), "content_type": "image/jpeg", "sha256": ContentHash::of(bytes).hex()})
}

#[tokio::test]
async fn one_request_grants_each_file_in_order_each_audited_and_bound_to_its_hash() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let pipeline = stack.pipeline(&[]);
    let job = new_job();
    let photos: Vec<Vec<u8>> = (0..3)
        .map(|i| padded_jpeg(60 + i, 2000 + 100 * i as usize))
        .collect();
    let body = json!({"job_id": job, "files": photos.iter().map(|p| file(p)).collect::<Vec<_>>()});
    let (status, answer) = call(&app, post_json("/upload-url", &body)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["job_id"], job);
    let grants = answer["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 3);
    for (grant, photo) in grants.iter().zip(&photos) {
        assert_eq!(grant["method"], "POST");
        assert_eq!(grant["max_bytes"], photo.len());
        assert_eq!(grant["sha256"], ContentHash::of(photo).hex());
        assert_eq!(
            grant["fields"]["x-amz-checksum-sha256"],
            ContentHash::of(photo).base64()
        );
    }
    // Each grant its own audit row and grant row, as a single grant's.
    let issued = stack.audit_events(&job, "upload_url_issued").await;
    assert_eq!(issued.len(), 3);
    let mut keys: Vec<&str> = grants.iter().map(|g| g["key"].as_str().unwrap()).collect();
    let mut audited: Vec<&str> = issued
        .iter()
        .map(|r| r["key"].as_s().unwrap().as_str())
        .collect();
    keys.sort();
    audited.sort();
    assert_eq!(keys, audited);
    keys.dedup();
    assert_eq!(keys.len(), 3, "three keys");

    // A grant takes only its own photo: the second photo under the first grant is refused.
    let (status, text) = post_form(&grants[0], |_| {}, photos[1].clone()).await;
    assert_refused(status, &text);
    for (grant, photo) in grants.iter().zip(&photos) {
        let (status, text) = post_form(grant, |_| {}, photo.clone()).await;
        assert_eq!(status, 201, "{text}");
    }
    let keys: Vec<&str> = grants.iter().map(|g| g["key"].as_str().unwrap()).collect();
    let (status, recorded) = call(
        &app,
        post_json("/upload-url", &json!({"job_id": job, "keys": keys})),
    )
    .await;
    assert_eq!(status, 201, "{recorded}");
    for key in &keys {
        assert_eq!(
            deliver(&stack, &pipeline, key).await,
            ["listed, thumbnail created"]
        );
    }
}

#[tokio::test]
async fn a_batch_is_all_or_nothing() {
    let stack = Stack::get();
    let app = stack.app(&[("MAX_UPLOAD_BYTES", "5000")]);
    let job = new_job();
    let ok = file(&padded_jpeg(70, 2000));
    let too_large =
        json!({"size": 5001, "content_type": "image/jpeg", "sha256": ContentHash::of(b"x").hex()});
    let bad_type =
        json!({"size": 10, "content_type": "text/html", "sha256": ContentHash::of(b"x").hex()});
    let no_hash = json!({"size": 10, "content_type": "image/jpeg"});
    for (files, status, code) in [
        (vec![ok.clone(), too_large], 413, "file_too_large"),
        (vec![ok.clone(), bad_type], 415, "content_type_not_allowed"),
        (vec![ok.clone(), no_hash], 400, "invalid_json"),
        (vec![], 400, "invalid_file_count"),
        (vec![ok.clone(); 21], 400, "invalid_file_count"),
    ] {
        let (got, body) = call(
            &app,
            post_json("/upload-url", &json!({"job_id": job, "files": files})),
        )
        .await;
        assert_eq!(error_code(got, &body, status), code);
        if code != "invalid_json" && code != "invalid_file_count" {
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("files[1]: "),
                "{body}"
            );
        }
    }
    assert!(
        stack
            .audit_events(&job, "upload_url_issued")
            .await
            .is_empty(),
        "nothing issued"
    );

    // Past the minute's limit with the batch: none of it is issued.
    let limited = stack.app_deployed_with(&[("GrantsPerMinute", "2")], &[]);
    let other_job = new_job();
    let three = json!({"job_id": other_job, "files": [ok.clone(), ok.clone(), ok.clone()]});
    let (got, body) = call(&limited, post_json("/upload-url", &three)).await;
    assert_eq!(error_code(got, &body, 429), "too_many_grants");
    assert!(stack
        .audit_events(&other_job, "upload_url_issued")
        .await
        .is_empty());
}

#[tokio::test]
async fn a_put_batch_signs_each_files_length_type_and_hash() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let job = new_job();
    let photo = padded_jpeg(71, 2100);
    let body = json!({"job_id": job, "method": "put", "files": [file(&photo)]});
    let (status, answer) = call(&app, post_json("/upload-url", &body)).await;
    assert_eq!(status, 200, "{answer}");
    let grant = &answer["grants"][0];
    assert_eq!(grant["method"], "PUT");
    assert_eq!(
        grant["headers"],
        json!({"Content-Type": "image/jpeg", "Content-Length": "2100",
               "x-amz-checksum-sha256": ContentHash::of(&photo).base64()})
    );
}
