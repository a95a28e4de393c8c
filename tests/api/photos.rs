//! `GET /photos`: the job's verified photos in upload order, pagination, and presigned GET URLs
//! that the real S3 server honours (and refuses once tampered with). Only what the pipeline
//! verified is listed: not an upload it has not checked (whoever reported it), not an object
//! another writer put in the prefix.

use qdn_photos::api::app::App;
use qdn_photos::dev::test_images::padded_jpeg;
use qdn_photos::pipeline::context::PipelineContext;

use crate::support::*;

/// Uploads, completes and delivers a `len`-byte JPEG made from `seed`; returns the key and the
/// bytes.
async fn upload_seeded(
    (stack, app, pipeline): (&Stack, &App, &PipelineContext),
    job: &str,
    seed: u8,
    len: usize,
) -> (String, Vec<u8>) {
    let bytes = padded_jpeg(seed, len);
    (
        upload_listed(stack, app, pipeline, job, bytes.clone()).await,
        bytes,
    )
}

#[tokio::test]
async fn a_jobs_photos_list_in_upload_order_with_urls_serving_their_bytes() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let pipeline = stack.pipeline(&[]);
    let parts = (&stack, &app, &pipeline);
    let job = new_job();
    let mut uploaded = Vec::new();
    for seed in 0..3 {
        uploaded.push(upload_seeded(parts, &job, seed, 1000 + usize::from(seed) * 100).await);
    }
    // Another job's photo must never appear.
    upload_seeded(parts, &new_job(), 9, 1000).await;

    let (status, page) = call(&app, get(&format!("/photos?job_id={job}"))).await;
    assert_eq!(status.as_u16(), 200, "{page}");
    assert_eq!(page["job_id"], job.as_str());
    assert_eq!(
        photo_keys(&page),
        uploaded.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>()
    );
    assert!(page["next_cursor"].is_null());
    for (photo, (_, bytes)) in page["photos"].as_array().unwrap().iter().zip(&uploaded) {
        assert_eq!(photo["size"], bytes.len());
        assert_eq!(photo["content_type"], "image/jpeg");
        assert!(photo["last_modified"].as_str().unwrap().ends_with('Z'));
        let (status, body, disposition) = download(photo["url"].as_str().unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!(&body, bytes, "URL serves exactly the uploaded bytes");
        assert_eq!(disposition.as_deref(), Some("inline"));
    }
}

#[tokio::test]
async fn pages_follow_each_other_through_next_cursor_oldest_or_newest_first() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let pipeline = stack.pipeline(&[]);
    let parts = (&stack, &app, &pipeline);
    let job = new_job();
    let mut expected = Vec::new();
    for seed in 0..5 {
        expected.push(upload_seeded(parts, &job, seed, 1000).await.0);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("/photos?job_id={job}&limit=2&cursor={c}"),
            None => format!("/photos?job_id={job}&limit=2"),
        };
        let (status, page) = call(&app, get(&query)).await;
        assert_eq!(status.as_u16(), 200, "{page}");
        pages += 1;
        let page_keys = photo_keys(&page);
        assert!(page_keys.len() <= 2);
        seen.extend(page_keys);
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected);
    // A page that ends on the last photo says so: no cursor to an empty page.
    for limit in [5, 6] {
        let (_, page) = call(&app, get(&format!("/photos?job_id={job}&limit={limit}"))).await;
        assert_eq!(photo_keys(&page).len(), 5);
        assert!(page["next_cursor"].is_null(), "limit {limit}: {page}");
    }

    // Newest first (a phone's strip): the same photos the other way round, through the cursor.
    let mut newest = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = call(
            &app,
            get(&format!(
                "/photos?job_id={job}&limit=2&order=newest{cursor}"
            )),
        )
        .await;
        assert_eq!(status.as_u16(), 200, "{page}");
        newest.extend(photo_keys(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    expected.reverse();
    assert_eq!(newest, expected);
}

/// A refreshed strip must cost no image bytes: inside one window every listing hands out the same
/// URLs, signed at the window's start for the window plus the TTL, and S3 serves them with a
/// `Cache-Control` that lets the browser keep them.
#[tokio::test]
async fn photo_urls_repeat_within_their_window_and_s3_serves_them_cacheable() {
    const WINDOW: u64 = 3600;
    let stack = Stack::get();
    let app = stack.app(&[
        ("PHOTO_URL_WINDOW_SECS", "3600"),
        ("PHOTO_URL_TTL_SECS", "900"),
    ]);
    let pipeline = stack.pipeline(&[]);
    let parts = (&stack, &app, &pipeline);
    let job = new_job();
    let (_, bytes) = upload_seeded(parts, &job, 7, 1000).await;
    let window_start = || {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        now - now % WINDOW
    };
    // Two listings inside one window (listed again should the clock cross a boundary between them).
    let (start, first, second) = loop {
        let start = window_start();
        let (_, first) = call(&app, get(&format!("/photos?job_id={job}"))).await;
        let (_, second) = call(&app, get(&format!("/photos?job_id={job}"))).await;
        if window_start() == start {
            break (start, first, second);
        }
    };
    assert_eq!(first["photos"], second["photos"], "byte-identical URLs");
    let url = first["photos"][0]["url"].as_str().unwrap();
    let signed_at = s3_presign::UtcTime::from_unix_secs(start).amz_date();
    let signed_at = std::str::from_utf8(&signed_at).unwrap();
    assert!(url.contains(&format!("X-Amz-Date={signed_at}&")), "{url}");
    assert!(url.contains("X-Amz-Expires=4500&"), "{url}");
    let resp = reqwest::get(url).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()["cache-control"],
        "private, max-age=4500, immutable"
    );
    assert_eq!(resp.bytes().await.unwrap().to_vec(), bytes);
}

/// Publish after verification: a reported upload is "checking" (no URL) until the pipeline has
/// verified what S3 stored; an object another writer put in the prefix is never listed.
#[tokio::test]
async fn only_verified_uploads_are_listed_never_a_reported_unchecked_one_or_another_writers() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let pipeline = stack.pipeline(&[]);
    let parts = (&stack, &app, &pipeline);
    let job = new_job();
    let (listed, _) = upload_seeded(parts, &job, 1, 1000).await;
    let reported = upload_completed(&app, &job, padded_jpeg(2, 1000)).await;
    // Another writer (ops tooling, a leaked key) puts an HTML page where a photo would be.
    let foreign = format!("jobs/{job}/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg");
    stack
        .s3()
        .put_object()
        .bucket(&stack.bucket)
        .key(&foreign)
        .content_type("text/html")
        .body(b"<script>alert(1)</script>".to_vec().into())
        .send()
        .await
        .unwrap();
    let (status, page) = call(&app, get(&format!("/photos?job_id={job}"))).await;
    assert_eq!(status.as_u16(), 200, "{page}");
    assert_eq!(photo_keys(&page), std::slice::from_ref(&listed));
    assert!(page.get("pending").is_none(), "only when asked for");

    let with_pending = format!("/photos?job_id={job}&include=pending");
    let (_, page) = call(&app, get(&with_pending)).await;
    assert_eq!(photo_keys(&page), std::slice::from_ref(&listed));
    assert_eq!(
        page["pending"],
        serde_json::json!([{"key": reported, "state": "checking"}])
    );

    // S3's events arrive: the reported photo is verified and listed, the foreign object refused
    // (no grant names it) and never listed.
    assert_eq!(
        deliver(&stack, &pipeline, &reported).await,
        ["listed, thumbnail created"]
    );
    assert_eq!(
        deliver(&stack, &pipeline, &foreign).await,
        ["rejected: not_granted"]
    );
    let (_, page) = call(&app, get(&with_pending)).await;
    assert_eq!(photo_keys(&page), [listed, reported]);
    assert_eq!(page["pending"][0]["key"], foreign.as_str());
    assert_eq!(page["pending"][0]["state"], "rejected");
    assert_eq!(page["pending"][0]["reason"], "not_granted");
    assert_eq!(page["pending"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_empty_job_lists_nothing() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let (status, page) = call(&app, get(&format!("/photos?job_id={}", new_job()))).await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(page["photos"], serde_json::json!([]));
    assert!(page["next_cursor"].is_null());
}

#[tokio::test]
async fn s3_refuses_tampered_expired_or_foreign_photo_urls() {
    let stack = Stack::get();
    let job = new_job();
    // A one-second window: the URL dies within two seconds (window plus TTL).
    let app = stack.app(&[("PHOTO_URL_TTL_SECS", "1"), ("PHOTO_URL_WINDOW_SECS", "1")]);
    let pipeline = stack.pipeline(&[]);
    let (key, _) = upload_seeded((&stack, &app, &pipeline), &job, 1, 1000).await;
    let (_, page) = call(&app, get(&format!("/photos?job_id={job}"))).await;
    let url = page["photos"][0]["url"].as_str().unwrap().to_owned();

    let other_key = url.replace(
        &key,
        &format!("jobs/{job}/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg"),
    );
    assert!(url.contains("X-Amz-Expires=2&"), "{url}");
    let longer = url.replace("X-Amz-Expires=2&", "X-Amz-Expires=3600&");
    let attachment = url.replace(
        "response-content-disposition=inline",
        "response-content-disposition=attachment",
    );
    for tampered in [other_key, longer, attachment] {
        let (status, _, _) = download(&tampered).await;
        assert!(
            (400..500).contains(&status),
            "tampered URL served: {status}"
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let (status, _, _) = download(&url).await;
    assert!((400..500).contains(&status), "expired URL served: {status}");

    // The same URL signed with the right key id but another secret.
    let forged = s3_presign::StaticCredentials::new(&stack.access_key, "wrong-secret-wrong-secret");
    let signer = s3_presign::Signer::new(stack.region.clone());
    let session = signer.session(&forged, std::time::SystemTime::now());
    let forged_url = s3_presign::presign_get(
        &session,
        &stack.config(&[]).bucket_endpoint,
        &key,
        &s3_presign::GetUrlOptions {
            expires_secs: 600,
            response_cache_control: None,
            response_content_disposition: Some("inline"),
            x_id: Some("GetObject"),
        },
    );
    let (status, _, _) = download(&forged_url).await;
    assert!(
        (400..500).contains(&status),
        "URL signed with a wrong secret served: {status}"
    );
}
