//! The photo pipeline against Garage and moto: objects uploaded through real presigned POSTs, then
//! the handler fed the S3 event payloads AWS would send for them (Garage has no notifications).

use qdn_photos::api::app::App;
use qdn_photos::dev::s3_events::notification as s3_event;
use qdn_photos::dev::test_images::{camera_jpeg, png_declaring, quadrant_colors, QUADRANTS};
use qdn_photos::pipeline::context::PipelineContext;
use qdn_photos::pipeline::handle_event;
use serde_json::json;

use crate::support::*;

/// Uploads `bytes` as `content_type` through a presigned POST; returns the key and its ETag.
async fn upload_as(
    stack: &Stack,
    app: &App,
    job: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> (String, String) {
    let grant = issue(app, job, &format!("&content_type={content_type}")).await;
    let (status, body) = post_form(&grant, |_| {}, bytes).await;
    assert_eq!(status, 201, "{body}");
    let key = grant["key"].as_str().unwrap().to_owned();
    let (_, etag) = stored(stack, &key).await;
    (key, etag)
}

/// What S3 would send for these objects, through the pipeline; the outcomes it logs.
async fn notify(
    stack: &Stack,
    pipeline: &PipelineContext,
    objects: &[(&str, u64, &str)],
) -> Vec<String> {
    let records: Vec<_> = objects.iter().map(|(k, s, e)| (*k, *s, *e, None)).collect();
    handle_event(
        pipeline,
        &s3_event(&stack.bucket, &records),
        "test-invocation",
    )
    .await
    .expect("the pipeline handles the event")
}

fn thumbnail_key(key: &str) -> String {
    format!("thumbs/{key}/null.jpg")
}

#[tokio::test]
async fn a_camera_jpeg_and_a_png_get_upright_thumbnails_without_gps_and_are_listed_with_them() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    // As the default stack deploys it (CreateBucket=true): no UPLOADS_BUCKET of its own.
    let pipeline = stack.pipeline(&[]);
    let job = new_job();
    // Stored sideways (EXIF orientation 6), with a GPS position, as a phone writes it.
    let jpeg = camera_jpeg(640, 480, 6, Some((-33.8568, 151.2153)), 90);
    let (jpeg_key, jpeg_etag) = upload_as(&stack, &app, &job, "image/jpeg", jpeg.clone()).await;
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
        1000,
        500,
        image::Rgb([0, 128, 255]),
    ))
    .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
    .unwrap();
    let (png_key, png_etag) = upload_as(&stack, &app, &job, "image/png", png.clone()).await;

    let outcomes = notify(
        &stack,
        &pipeline,
        &[
            (&jpeg_key, jpeg.len() as u64, &jpeg_etag),
            (&png_key, png.len() as u64, &png_etag),
        ],
    )
    .await;
    assert_eq!(
        outcomes,
        ["listed, thumbnail created", "listed, thumbnail created"]
    );

    // Upright, 320 px on the long edge, no metadata, cached for good.
    let thumb = stack
        .object(&thumbnail_key(&jpeg_key))
        .await
        .expect("a JPEG thumbnail");
    let decoded = image::load_from_memory(&thumb).unwrap().into_rgb8();
    assert_eq!(decoded.dimensions(), (320, 240));
    assert_eq!(quadrant_colors(&decoded), QUADRANTS);
    assert!(
        !thumb.windows(4).any(|w| w == b"Exif"),
        "no EXIF (so no GPS) in the thumbnail"
    );
    let head = stack
        .s3()
        .head_object()
        .bucket(&stack.bucket)
        .key(thumbnail_key(&jpeg_key))
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("image/jpeg"));
    assert_eq!(
        head.cache_control(),
        Some("private, max-age=31536000, immutable")
    );
    let png_thumb = stack
        .object(&thumbnail_key(&png_key))
        .await
        .expect("a PNG thumbnail");
    assert_eq!(
        image::load_from_memory(&png_thumb)
            .unwrap()
            .into_rgb8()
            .dimensions(),
        (320, 160)
    );

    // The evidence, recorded once per stored version.
    let stored = stack.audit_events(&job, "object_verified").await;
    assert_eq!(stored.len(), 2);
    let row = stored
        .iter()
        .find(|r| r["key"].as_s().unwrap() == &jpeg_key)
        .unwrap();
    assert_eq!(row["principal"].as_s().unwrap(), "s3:pipeline");
    assert_eq!(row["captured_at"].as_s().unwrap(), "2026-11-24T09:30:05");
    assert_eq!(row["camera_model"].as_s().unwrap(), "QDN Test Camera");
    assert!(row["latitude"].as_n().unwrap().starts_with("-33.856"));
    assert_eq!(row["etag"].as_s().unwrap(), &jpeg_etag);
    assert_eq!(row["size"].as_n().unwrap(), &jpeg.len().to_string());
    assert!(row["sequencer"].as_s().is_ok());
    assert_eq!(row["content_type"].as_s().unwrap(), "image/jpeg");
    assert_eq!(row["state"].as_s().unwrap(), "verified");
    assert!(row["uploader"].as_s().unwrap().starts_with("token:"));

    // Verified, the photos list (no completion was sent) with working thumbnail URLs, capture
    // time and place.
    let (_, page) = call(&app, get(&format!("/photos?job_id={job}"))).await;
    let photos = page["photos"].as_array().unwrap();
    assert_eq!(photos.len(), 2);
    assert_eq!(photos[0]["captured_at"], "2026-11-24T09:30:05");
    assert!((photos[0]["location"]["latitude"].as_f64().unwrap() + 33.8568).abs() < 1e-4);
    for (photo, expected) in photos.iter().zip([&thumb, &png_thumb]) {
        let url = photo["thumbnail_url"].as_str().expect("a thumbnail_url");
        let resp = reqwest::get(url).await.unwrap();
        assert_eq!(resp.status(), 200, "{url}");
        assert_eq!(&resp.bytes().await.unwrap()[..], &expected[..]);
    }
    assert!(
        photos[1].get("location").is_none(),
        "a PNG has no EXIF position"
    );
}

#[tokio::test]
async fn a_text_file_posted_as_a_jpeg_is_rejected_removed_and_never_listed_and_its_uploader_told() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    // As the default stack deploys it (CreateBucket=true): no UPLOADS_BUCKET of its own.
    let pipeline = stack.pipeline(&[]);
    let job = new_job();
    let spoof = b"<html><script>alert(document.cookie)</script></html>".to_vec();
    let (key, etag) = upload_as(&stack, &app, &job, "image/jpeg", spoof.clone()).await;
    // Completed before the pipeline got to it: the listing must still drop it.
    let (status, _) = call(
        &app,
        post_json("/upload-url", &json!({"job_id": job, "keys": [key]})),
    )
    .await;
    assert_eq!(status.as_u16(), 201);

    let outcomes = notify(&stack, &pipeline, &[(&key, spoof.len() as u64, &etag)]).await;
    assert_eq!(outcomes, ["rejected: not_declared_type"]);
    assert_eq!(stack.object(&key).await, None, "the object is gone");
    assert_eq!(stack.object(&thumbnail_key(&key)).await, None);
    let rejected = stack.audit_events(&job, "upload_rejected").await;
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["key"].as_s().unwrap(), &key);
    assert_eq!(rejected[0]["state"].as_s().unwrap(), "rejected");
    assert_eq!(rejected[0]["reason"].as_s().unwrap(), "not_declared_type");
    let (_, page) = call(&app, get(&format!("/photos?job_id={job}&include=pending"))).await;
    assert_eq!(page["photos"], json!([]));
    assert_eq!(
        page["pending"],
        json!([{"key": key, "state": "rejected", "reason": "not_declared_type",
                "message": "The file is not a JPG."}])
    );

    // Posted again with the same grant and not yet completed: the completion finds nothing.
    let (key2, etag2) = upload_as(&stack, &app, &job, "image/jpeg", spoof.clone()).await;
    assert_eq!(
        notify(&stack, &pipeline, &[(&key2, spoof.len() as u64, &etag2)]).await,
        ["rejected: not_declared_type"]
    );
    let (status, body) = call(
        &app,
        post_json("/upload-url", &json!({"job_id": job, "keys": [key2]})),
    )
    .await;
    assert_eq!(error_code(status, &body, 409), "objects_missing");
}

#[tokio::test]
async fn a_redelivered_event_writes_nothing_new_and_foreign_keys_are_ignored() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    // As the default stack deploys it (CreateBucket=true): no UPLOADS_BUCKET of its own.
    let pipeline = stack.pipeline(&[]);
    let job = new_job();
    let jpeg = camera_jpeg(64, 48, 1, None, 90);
    let (key, etag) = upload_as(&stack, &app, &job, "image/jpeg", jpeg.clone()).await;
    let event = s3_event(&stack.bucket, &[(&key, jpeg.len() as u64, &etag, None)]);
    let first = handle_event(&pipeline, &event, "t").await.unwrap();
    assert_eq!(first, ["listed, thumbnail created"]);
    let rows = stack.audit_rows(&job).await.len();
    let thumb = stack.object(&thumbnail_key(&key)).await;

    // The event again, then its record twice in one event: S3 delivers at least once.
    let mut doubled: serde_json::Value = serde_json::from_str(&event).unwrap();
    let record = doubled["Records"][0].clone();
    doubled["Records"] = json!([record, record]);
    let mut again = handle_event(&pipeline, &event, "t").await.unwrap();
    again.extend(
        handle_event(&pipeline, &doubled.to_string(), "t")
            .await
            .unwrap(),
    );
    assert_eq!(again, ["already recorded"; 3]);
    assert_eq!(stack.audit_rows(&job).await.len(), rows, "no new row");
    assert_eq!(stack.object(&thumbnail_key(&key)).await, thumb);

    // Its own thumbnails, other prefixes, other buckets, keys it never issues: untouched.
    let thumbs = thumbnail_key(&key);
    let never_issued = format!("jobs/{job}/site photo.jpg");
    let outcomes = notify(
        &stack,
        &pipeline,
        &[
            (&thumbs, 10, "e"),
            ("uploads/x.jpg", 10, "e"),
            (&never_issued, 10, "e"),
        ],
    )
    .await;
    assert_eq!(
        outcomes,
        [
            "ignored: not an upload key",
            "ignored: not an upload key",
            "ignored: not an upload key"
        ]
    );
    // A stack that reuses a bucket processes that bucket's events only.
    let reused = stack.pipeline(&stack.reusing_bucket());
    let other_bucket = s3_event("someone-elses-bucket", &[(key.as_str(), 10, "e", None)]);
    let outcomes = handle_event(&reused, &other_bucket, "t").await.unwrap();
    assert_eq!(outcomes, ["ignored: another bucket"]);
    // Not an S3 event at all: an error, so Lambda reports it.
    let api_event = get("/photos?job_id=j-1").to_json();
    assert!(handle_event(&reused, &api_event, "t").await.is_err());
    assert_eq!(stack.audit_rows(&job).await.len(), rows);
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_from_its_header_and_heic_is_listed_without_thumbnail() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    // As the default stack deploys it (CreateBucket=true): no UPLOADS_BUCKET of its own.
    let pipeline = stack.pipeline(&[]);
    let job = new_job();
    // 100,000 × 100,000 pixels declared in 57 bytes: decoding it would need 30 GB.
    let bomb = png_declaring(100_000, 100_000);
    let (bomb_key, bomb_etag) = upload_as(&stack, &app, &job, "image/png", bomb.clone()).await;
    // An iPhone HEIC's opening box: a real type, which nothing here decodes.
    let mut heic = vec![0, 0, 0, 24];
    heic.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
    heic.extend_from_slice(&[0u8; 64]);
    let (heic_key, heic_etag) = upload_as(&stack, &app, &job, "image/heic", heic.clone()).await;

    let outcomes = notify(
        &stack,
        &pipeline,
        &[
            (&bomb_key, bomb.len() as u64, &bomb_etag),
            (&heic_key, heic.len() as u64, &heic_etag),
        ],
    )
    .await;
    assert_eq!(
        outcomes,
        [
            "rejected: dimensions_over_budget",
            "listed, thumbnail unsupported"
        ]
    );
    assert_eq!(stack.object(&thumbnail_key(&bomb_key)).await, None);
    assert_eq!(
        stack.object(&bomb_key).await,
        None,
        "a refused upload is removed"
    );
    let verified = stack.audit_events(&job, "object_verified").await;
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0]["thumbnail"].as_s().unwrap(), "unsupported");
    let (_, page) = call(&app, get(&format!("/photos?job_id={job}"))).await;
    assert_eq!(page["photos"][0]["key"], heic_key.as_str());
    assert!(page["photos"][0].get("thumbnail_url").is_none());
}
