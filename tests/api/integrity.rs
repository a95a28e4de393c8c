//! End-to-end content integrity (issue 24 point 1): a grant that names the photo's SHA-256 binds
//! it, so S3 (Garage enforces `x-amz-checksum-sha256` on POST and PUT) stores no other bytes; the
//! pipeline hashes what S3 holds, records it, refuses a mismatch (for a store that does not
//! enforce it, here a write past the grant), and `/photos` shows the hash.

use aws_sdk_s3::primitives::ByteStream;
use qdn_photos::dev::s3_events::notification;
use qdn_photos::dev::test_images::padded_jpeg;
use qdn_photos::domain::content_hash::ContentHash;
use qdn_photos::pipeline::handle_event;

use crate::support::*;

/// A PUT with a grant's `headers` (Content-Length is the body's own).
async fn put(url: &str, headers: &serde_json::Value, bytes: Vec<u8>) -> (u16, String) {
    let headers: Vec<(&str, &str)> = headers
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, _)| *name != "Content-Length")
        .map(|(name, value)| (name.as_str(), value.as_str().unwrap()))
        .collect();
    put_to_s3(url, &headers, bytes).await
}

#[tokio::test]
async fn a_hash_bound_post_grant_takes_only_its_bytes_and_the_photo_lists_its_hash() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let pipeline = stack.pipeline(&[]);
    let job = new_job();
    let photo = padded_jpeg(41, 3000);
    let hash = ContentHash::of(&photo);
    let grant = issue(&app, &job, &format!("&sha256={}", hash.hex())).await;
    assert_eq!(grant["sha256"], hash.hex());
    assert_eq!(grant["fields"]["x-amz-checksum-algorithm"], "SHA256");
    assert_eq!(grant["fields"]["x-amz-checksum-sha256"], hash.base64());
    let issued = stack.audit_events(&job, "upload_url_issued").await;
    assert_eq!(issued[0]["sha256"].as_s().unwrap(), &hash.hex());

    // Other bytes of the same length and type: S3 refuses them, and stores nothing.
    let mut other = photo.clone();
    let last = other.len() - 3;
    other[last] ^= 0xFF;
    let (status, body) = post_form(&grant, |_| {}, other).await;
    assert_refused(status, &body);
    let key = grant["key"].as_str().unwrap();
    assert_eq!(stack.object(key).await, None);
    // The policy binds the hash: a form that drops the checksum fields is refused too.
    let (status, body) = post_form(
        &grant,
        |fields| fields.retain(|(name, _)| !name.starts_with("x-amz-checksum")),
        padded_jpeg(42, 3000),
    )
    .await;
    assert_refused(status, &body);

    let (status, body) = post_form(&grant, |_| {}, photo).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        deliver(&stack, &pipeline, key).await,
        ["listed, thumbnail created"]
    );
    let (_, page) = call(&app, get(&format!("/photos?job_id={job}"))).await;
    assert_eq!(page["photos"][0]["sha256"], hash.hex());
    let checked = stack.audit_events(&job, "object_verified").await;
    assert_eq!(checked[0]["sha256"].as_s().unwrap(), &hash.hex());
}

#[tokio::test]
async fn a_hash_bound_put_grant_signs_the_checksum_header_and_takes_only_its_bytes() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let job = new_job();
    let photo = padded_jpeg(43, 2500);
    let hash = ContentHash::of(&photo);
    // Base64, as S3 writes it, is taken as well as hex.
    let grant = issue(
        &app,
        &job,
        &format!("&method=put&size=2500&sha256={}", urlencode(&hash.base64())),
    )
    .await;
    let headers = &grant["headers"];
    assert_eq!(headers["x-amz-checksum-sha256"], hash.base64());
    let url = grant["url"].as_str().unwrap();
    assert!(url.contains("x-amz-checksum-sha256"), "signed: {url}");
    let key = grant["key"].as_str().unwrap();

    let mut other = photo.clone();
    other[100] ^= 1;
    let (status, body) = put(url, headers, other).await;
    assert_refused(status, &body);
    // Without the signed header the signature does not match.
    let mut unsigned = headers.clone();
    unsigned
        .as_object_mut()
        .unwrap()
        .remove("x-amz-checksum-sha256");
    let (status, body) = put(url, &unsigned, photo.clone()).await;
    assert_refused(status, &body);
    assert_eq!(stack.object(key).await, None);

    let (status, body) = put(url, headers, photo.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(stack.object(key).await, Some(photo));
}

#[tokio::test]
async fn other_bytes_under_a_hash_bound_grant_are_refused_by_the_pipeline_where_storage_took_them()
{
    let stack = Stack::get();
    let app = stack.app(&[]);
    let pipeline = stack.pipeline(&[]);
    let job = new_job();
    let photo = padded_jpeg(44, 3000);
    let grant = issue(
        &app,
        &job,
        &format!("&sha256={}", ContentHash::of(&photo).hex()),
    )
    .await;
    let key = grant["key"].as_str().unwrap();
    // A store that does not check the hash: the bytes written past the grant, as that store
    // would have taken them (same key, type and job metadata, another photo).
    let other = padded_jpeg(45, 3000);
    stack
        .s3()
        .put_object()
        .bucket(&stack.bucket)
        .key(key)
        .content_type("image/jpeg")
        .metadata("job-id", &job)
        .body(ByteStream::from(other.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        deliver(&stack, &pipeline, key).await,
        ["rejected: content_mismatch"]
    );
    let rejected = stack.audit_events(&job, "upload_rejected").await;
    assert_eq!(
        rejected[0]["sha256"].as_s().unwrap(),
        &ContentHash::of(&other).hex(),
        "the record keeps the hash of what was refused"
    );
    assert_eq!(stack.object(key).await, None, "removed");
    let (_, page) = call(&app, get(&format!("/photos?job_id={job}&include=pending"))).await;
    assert_eq!(page["photos"], serde_json::json!([]));
    assert_eq!(page["pending"][0]["reason"], "content_mismatch");
}

fn urlencode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test]
async fn the_same_bytes_uploaded_twice_to_a_job_are_listed_once_and_the_second_is_recorded_as_its_duplicate(
) {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let pipeline = stack.pipeline(&[]);
    let (job, other_job) = (new_job(), new_job());
    let photo = padded_jpeg(46, 2800);
    let first = upload_listed(&stack, &app, &pipeline, &job, photo.clone()).await;
    // The offline queue sending it again after a lost answer: a new grant, a new key.
    let again = upload_completed(&app, &job, photo.clone()).await;
    let (size, etag) = stored(&stack, &again).await;
    let event = notification(&stack.bucket, &[(&again, size, &etag, None)]);
    let handle = || handle_event(&pipeline, &event, "test-delivery");
    let outcome = format!("duplicate of {first}");
    assert_eq!(handle().await.unwrap(), [outcome.as_str()]);
    // The same event delivered again: nothing new.
    assert_eq!(handle().await.unwrap(), ["already recorded"]);

    let (_, page) = call(&app, get(&format!("/photos?job_id={job}&include=pending"))).await;
    let listed: Vec<&str> = page["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [first.as_str()], "shown once");
    assert_eq!(page["pending"][0]["key"], again);
    assert_eq!(page["pending"][0]["state"], "duplicate");
    assert_eq!(page["pending"][0]["duplicate_of"], first);
    // Recorded, not lost: who sent it and when, and its bytes are still stored.
    let rows = stack.audit_events(&job, "upload_duplicate").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["key"].as_s().unwrap(), &again);
    assert_eq!(rows[0]["duplicate_of"].as_s().unwrap(), &first);
    assert!(rows[0]["uploader"].as_s().is_ok_and(|u| !u.is_empty()));
    assert_eq!(
        rows[0]["sha256"].as_s().unwrap(),
        &ContentHash::of(&photo).hex()
    );
    assert_eq!(stack.object(&again).await, Some(photo.clone()));

    // Another job is another record: the same bytes are its photo too.
    upload_listed(&stack, &app, &pipeline, &other_job, photo).await;
}
