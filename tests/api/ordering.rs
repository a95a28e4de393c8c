//! One record whatever the order: S3's events arrive late, twice and out of order, and clients'
//! completions race them. Of a key's versions the earliest (by S3's sequencer) is the photo; a
//! later one (a re-POST under a grant still valid) is recorded as superseded, never listed, and
//! removed where the bucket keeps versions. Versions need moto's S3 (Garage keeps none).

use futures_util::stream::{self, StreamExt};
use qdn_photos::api::app::App;
use qdn_photos::dev::s3_events::notification;
use qdn_photos::dev::test_images::padded_jpeg;
use qdn_photos::pipeline::context::PipelineContext;
use qdn_photos::pipeline::handle_event;
use serde_json::{json, Value};

use crate::support::*;

/// Pairs of (completion, event) run at once.
const PAIRS: usize = 50;
/// In flight at once, as a fleet of Lambda instances would be.
const IN_FLIGHT: usize = 10;

async fn complete(app: &App, job: &str, key: &str) -> (u16, Value) {
    let (status, body) = call(
        app,
        post_json("/upload-url", &json!({"job_id": job, "keys": [key]})),
    )
    .await;
    (status.as_u16(), body)
}

/// Lambda retries an invocation that failed (a dependency slow under load): so does this.
async fn deliver_event(pipeline: &PipelineContext, event: &str) -> Vec<String> {
    for _ in 0..5 {
        if let Ok(outcomes) = handle_event(pipeline, event, "ordering").await {
            return outcomes;
        }
    }
    panic!("the pipeline failed the event five times");
}

async fn listed(app: &App, job: &str) -> Vec<Value> {
    let (status, page) = call(app, get(&format!("/photos?job_id={job}&limit=1000"))).await;
    assert_eq!(status.as_u16(), 200, "{page}");
    page["photos"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_completion_before_the_event_and_an_event_before_the_completion_end_the_same() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let pipeline = stack.pipeline(&[]);
    let job = new_job();

    // Completion first: 201, not listed, then the event lists it.
    let first = upload(&app, &job, padded_jpeg(1, 1000)).await;
    let (status, body) = complete(&app, &job, &first).await;
    assert_eq!(status, 201, "{body}");
    assert!(listed(&app, &job).await.is_empty());
    assert_eq!(
        deliver(&stack, &pipeline, &first).await,
        ["listed, thumbnail created"]
    );

    // The event first: listed at once, and the completion after it is still a 201 (its record).
    let second = upload(&app, &job, padded_jpeg(2, 1000)).await;
    assert_eq!(
        deliver(&stack, &pipeline, &second).await,
        ["listed, thumbnail created"]
    );
    let (status, body) = complete(&app, &job, &second).await;
    assert_eq!(status, 201, "{body}");

    // Never a completion (the phone died): listed all the same.
    let third = upload(&app, &job, padded_jpeg(3, 1000)).await;
    deliver(&stack, &pipeline, &third).await;

    let photos = listed(&app, &job).await;
    let keys: Vec<&str> = photos.iter().map(|p| p["key"].as_str().unwrap()).collect();
    assert_eq!(keys, [first.as_str(), second.as_str(), third.as_str()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_and_events_racing_each_other_list_every_photo_once() {
    let stack = Stack::get();
    // Ten at a time load moto (one request at a time) past the function's 2 s budget on a busy
    // machine; the order of the records, which this tests, does not depend on that budget.
    let app = stack.app_under_load(&[]);
    let pipeline = stack.pipeline_under_load(&[]);
    let job = new_job();
    let uploads: Vec<(String, String)> = stream::iter(0..PAIRS)
        .map(|i| {
            let (app, job, stack) = (&app, &job, &stack);
            async move {
                let bytes = padded_jpeg(i as u8, 1000 + i);
                let key = upload(app, job, bytes.clone()).await;
                let (size, etag) = stored(stack, &key).await;
                let event = notification(&stack.bucket, &[(&key, size, &etag, None)]);
                (key, event)
            }
        })
        .buffered(IN_FLIGHT)
        .collect()
        .await;

    // Each upload's completion, its event and the same event again, all at once.
    let answers: Vec<(u16, Vec<String>)> = stream::iter(&uploads)
        .map(|(key, event)| {
            let (app, job, pipeline) = (&app, &job, &pipeline);
            async move {
                let (completion, first, again) = tokio::join!(
                    async {
                        loop {
                            match complete(app, job, key).await {
                                (503, _) => continue,
                                (status, _) => break status,
                            }
                        }
                    },
                    deliver_event(pipeline, event),
                    deliver_event(pipeline, event),
                );
                let mut outcomes = [first, again].concat();
                outcomes.sort();
                (completion, outcomes)
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    for (completion, outcomes) in &answers {
        assert_eq!(*completion, 201);
        assert_eq!(
            outcomes,
            &["already recorded", "listed, thumbnail created"],
            "one delivery lists, the other finds it recorded"
        );
    }
    let photos = listed(&app, &job).await;
    let mut keys: Vec<&str> = photos.iter().map(|p| p["key"].as_str().unwrap()).collect();
    let mut expected: Vec<&str> = uploads.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort();
    expected.sort();
    assert_eq!(keys, expected, "every photo listed exactly once");
    let verified = stack.audit_events(&job, "object_verified").await;
    assert_eq!(verified.len(), PAIRS, "one verification row per photo");
}

/// A re-POST under a grant still valid stores a second version; its event arrives first. The
/// earlier version is the photo, the later is never listed and is removed.
#[tokio::test]
async fn of_two_versions_whose_events_arrive_newest_first_the_earliest_is_the_photo() {
    let stack = Stack::get();
    let moto = stack.dynamodb_endpoint.clone();
    let (bucket, s3) = stack.versioned_bucket().await;
    let app = stack.app_with(
        &[("UPLOADS_BUCKET", &bucket), ("AWS_ENDPOINT_URL_S3", &moto)],
        &moto,
        &stack.dynamodb_endpoint,
        stack.credentials(),
    );
    let pipeline = stack.pipeline_on(&[], &moto);
    let job = new_job();
    let grant = issue(&app, &job, "").await;
    let key = grant["key"].as_str().unwrap();
    let first = padded_jpeg(1, 1000);
    let later = padded_jpeg(2, 1500);
    let mut events = Vec::new();
    for bytes in [&first, &later] {
        let (status, body) = post_form(&grant, |_| {}, bytes.clone()).await;
        assert!((200..300).contains(&status), "{body}");
        let head = s3
            .head_object()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        let size = bytes.len() as u64;
        let stored_version = (key, size, head.e_tag().unwrap(), head.version_id());
        // Made in the order of the stores: the sequencers grow.
        events.push(notification(&bucket, &[stored_version]));
    }
    let (status, body) = complete(&app, &job, key).await;
    assert_eq!(status, 201, "{body}");

    assert_eq!(
        deliver_event(&pipeline, &events[1]).await,
        ["superseded by an earlier version"]
    );
    assert!(listed(&app, &job).await.is_empty(), "never shown");
    assert_eq!(
        deliver_event(&pipeline, &events[0]).await,
        ["listed, thumbnail created"]
    );
    // A late duplicate of the newer event changes nothing.
    assert_eq!(
        deliver_event(&pipeline, &events[1]).await,
        ["already recorded"]
    );

    let photos = listed(&app, &job).await;
    assert_eq!(photos.len(), 1);
    assert_eq!(photos[0]["size"], first.len());
    let (_, served, _) = download(photos[0]["url"].as_str().unwrap()).await;
    assert_eq!(served, first, "the earliest bytes");
    let versions = s3
        .list_object_versions()
        .bucket(&bucket)
        .prefix(key)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 1, "the later version is removed");
    let superseded = stack.audit_events(&job, "upload_superseded").await;
    assert_eq!(superseded.len(), 1);
    assert_eq!(superseded[0]["size"].as_n().unwrap(), "1500");
}

/// Where the bucket keeps no versions (Garage, as an unversioned bucket) the events still decide
/// one record: the earlier sequencer is the photo, even when its event arrives second.
#[tokio::test]
async fn on_an_unversioned_bucket_the_earlier_sequencer_wins_whichever_arrives_first() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let pipeline = stack.pipeline(&[]);
    let job = new_job();
    let grant = issue(&app, &job, "").await;
    let key = grant["key"].as_str().unwrap();
    let mut events = Vec::new();
    for seed in [1, 2] {
        let bytes = padded_jpeg(seed, 1000);
        assert_eq!(post_form(&grant, |_| {}, bytes.clone()).await.0, 201);
        let size = bytes.len() as u64;
        events.push(notification(
            &stack.bucket,
            &[(key, size, "\"etag\"", None)],
        ));
    }
    assert_eq!(
        deliver_event(&pipeline, &events[1]).await,
        ["listed, thumbnail created"]
    );
    assert_eq!(
        deliver_event(&pipeline, &events[0]).await,
        ["listed, thumbnail created"]
    );
    assert_eq!(listed(&app, &job).await.len(), 1);
    let superseded = stack.audit_events(&job, "upload_superseded").await;
    assert_eq!(superseded.len(), 1, "the later store, displaced");
    let rows = stack.index_rows(&job, "PHOTO#").await;
    assert_eq!(rows.len(), 1);
    let sequencer = |event: &str| {
        let json: Value = serde_json::from_str(event).unwrap();
        json["Records"][0]["s3"]["object"]["sequencer"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(rows[0]["sequencer"]
        .as_s()
        .unwrap()
        .ends_with(&sequencer(&events[0])));
}
