//! `qdn-photos import` and `reprocess`, run as operators run them, over a bucket holding what the
//! Lambda before this service wrote (`jobs/{job}/{uuid4}.jpg`, no grant): the same checks as the
//! pipeline, imported photos listed beside new ones, idempotent, and resumable after a kill.

use std::process::Stdio;

use qdn_photos::dev::test_images::padded_jpeg;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::*;

async fn import(args: &[&str]) -> (Option<i32>, String, String) {
    command(args, &[]).await
}

async fn command(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_qdn-photos"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .await
        .expect("the binary runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// What the old Lambda wrote: a v4 key, the browser's content type.
async fn legacy(stack: &Stack, job: &str, bytes: Vec<u8>) -> String {
    let key = format!("jobs/{job}/{}.jpg", uuid::Uuid::new_v4());
    stack
        .s3()
        .put_object()
        .bucket(&stack.bucket)
        .key(&key)
        .content_type("binary/octet-stream")
        .body(bytes.into())
        .send()
        .await
        .unwrap();
    key
}

async fn listing(stack: &Stack, job: &str) -> serde_json::Value {
    let (status, page) = call(
        &stack.app(&[]),
        get(&format!("/photos?job_id={job}&include=pending")),
    )
    .await;
    assert_eq!(status.as_u16(), 200, "{page}");
    page
}

#[tokio::test]
async fn import_registers_older_photos_once_refuses_a_non_image_and_a_second_run_changes_nothing() {
    let stack = Stack::get();
    let job = new_job();
    let mut photos = Vec::new();
    for seed in 1..=3 {
        photos.push(legacy(&stack, &job, padded_jpeg(seed, 2000)).await);
    }
    let text = legacy(&stack, &job, b"meter reading: 4711".to_vec()).await;
    let notes = format!("jobs/{job}/notes.txt");
    stack
        .s3()
        .put_object()
        .bucket(&stack.bucket)
        .key(&notes)
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    let prefix = format!("jobs/{job}/");

    let (code, out, err) = import(&["import", "--prefix", &prefix, "--dry-run"]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains(
            "would see: 5 object(s): 1 skipped (not a {uuid}.{ext} photo key), 4 would import"
        ),
        "{out}"
    );
    assert!(
        stack.audit_rows(&job).await.is_empty(),
        "a dry run writes nothing"
    );

    let (code, out, err) = import(&["import", "--prefix", &prefix]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("done: 5 object(s): 3 imported, 1 rejected: not_declared_type, 1 skipped"),
        "{out}"
    );
    assert!(err.contains("[5/5]"), "a progress line per object: {err}");
    let page = listing(&stack, &job).await;
    let mut listed: Vec<&str> = page["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["provenance"], "imported");
            assert!(p["thumbnail_url"].is_string());
            p["key"].as_str().unwrap()
        })
        .collect();
    listed.sort();
    photos.sort();
    assert_eq!(listed, photos);
    assert_eq!(page["pending"][0]["key"], text.as_str());
    assert_eq!(page["pending"][0]["reason"], "not_declared_type");
    assert!(
        stack.object(&text).await.is_some(),
        "an older object is never removed"
    );

    let rows = stack.audit_rows(&job).await.len();
    let (code, out, _) = import(&["import", "--prefix", &prefix]).await;
    assert_eq!(code, Some(0));
    assert!(
        out.contains("done: 5 object(s): 4 already recorded, 1 skipped"),
        "{out}"
    );
    assert_eq!(stack.audit_rows(&job).await.len(), rows, "nothing changed");

    // New uploads list beside the imported ones; grants still issue only v7 keys.
    let app = stack.app(&[]);
    let fresh = upload_listed(
        &stack,
        &app,
        &stack.pipeline(&[]),
        &job,
        padded_jpeg(9, 2000),
    )
    .await;
    let page = listing(&stack, &job).await;
    assert_eq!(page["photos"].as_array().unwrap().len(), 4);
    assert_eq!(page["photos"][3]["key"], fresh.as_str(), "the newest last");
    assert_eq!(page["photos"][3]["provenance"], "granted");
}

#[tokio::test]
async fn an_import_killed_midway_finishes_on_the_next_run() {
    let stack = Stack::get();
    let job = new_job();
    for seed in 1..=6 {
        legacy(&stack, &job, padded_jpeg(seed, 150_000)).await;
    }
    let prefix = format!("jobs/{job}/");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_qdn-photos"))
        .args(["import", "--prefix", &prefix])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    // Killed as soon as the first photo is through, wherever the second one is.
    while let Some(line) = lines.next_line().await.unwrap() {
        if line.starts_with("[1/6]") {
            break;
        }
    }
    child.kill().await.unwrap();

    let (code, out, err) = import(&["import", "--prefix", &prefix]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    let page = listing(&stack, &job).await;
    assert_eq!(page["photos"].as_array().unwrap().len(), 6, "{out}");
    assert_eq!(page["pending"], serde_json::json!([]));
    assert!(out.contains("6 object(s)"), "{out}");
    let (_, out, _) = import(&["import", "--prefix", &prefix]).await;
    assert!(
        out.contains("done: 6 object(s): 6 already recorded"),
        "{out}"
    );
}

/// An event that never arrived (or was dropped): `reprocess` runs the pipeline over the job.
#[tokio::test]
async fn reprocess_lists_a_granted_upload_whose_event_never_came() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let job = new_job();
    let key = upload_completed(&app, &job, padded_jpeg(4, 2000)).await;
    assert_eq!(
        listing(&stack, &job).await["pending"][0]["state"],
        "checking"
    );
    let (code, out, err) = import(&["reprocess", "--job", &job]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("1 listed, thumbnail created"), "{out}");
    let page = listing(&stack, &job).await;
    assert_eq!(page["photos"][0]["key"], key.as_str());
    assert_eq!(page["pending"], serde_json::json!([]));
    let (code, _, err) = import(&["reprocess", "--job", "../x"]).await;
    assert_eq!(code, Some(2), "{err}");
}

/// An event the pipeline failed after Lambda's retries waits in the on-failure queue (moto's SQS
/// here) as Lambda's destination record; `redrive` processes it and deletes it, and leaves what it
/// cannot process.
#[tokio::test]
async fn redrive_replays_a_failed_event_from_the_queue_and_deletes_only_what_it_recorded() {
    let stack = Stack::get();
    let app = stack.app(&[]);
    let moto = stack.dynamodb_endpoint.clone();
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(
            &Budget::Test.sdk_config(&stack.region, stack.credentials()),
        )
        .endpoint_url(&moto)
        .build(),
    );
    let queue = sqs
        .create_queue()
        .queue_name(format!("pipeline-failures-{}", &new_job()[2..]))
        .send()
        .await
        .unwrap();
    let queue_url = queue.queue_url().unwrap();
    let job = new_job();
    let bytes = padded_jpeg(6, 2000);
    let key = upload(&app, &job, bytes.clone()).await;
    let event =
        qdn_photos::dev::s3_events::notification(&stack.bucket, &[(&key, 2000, "\"e\"", None)]);
    let record = format!(
        r#"{{"version":"1.0","timestamp":"2026-12-02T08:00:00.000Z","requestContext":{{"requestId":"r-1","condition":"RetriesExhausted","approximateInvokeCount":3}},"requestPayload":{event},"responseContext":{{"statusCode":200,"functionError":"Unhandled"}},"responsePayload":{{"errorMessage":"audit log unavailable"}}}}"#
    );
    for body in [record.as_str(), "not an event"] {
        sqs.send_message()
            .queue_url(queue_url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }

    let sqs_endpoint = [("AWS_ENDPOINT_URL_SQS", moto.as_str())];
    let (code, out, err) = command(&["redrive", "--queue-url", queue_url], &sqs_endpoint).await;
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("1 event(s) processed and deleted, 1 left in the queue"),
        "{out}"
    );
    assert!(
        err.contains("listed, thumbnail created")
            && err.contains("not a Lambda destination record"),
        "{err}"
    );
    let page = listing(&stack, &job).await;
    assert_eq!(page["photos"][0]["key"], key.as_str());
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let count = |name: aws_sdk_sqs::types::QueueAttributeName| -> u32 {
        attributes.attributes().unwrap()[&name].parse().unwrap()
    };
    use aws_sdk_sqs::types::QueueAttributeName as A;
    assert_eq!(
        count(A::ApproximateNumberOfMessages) + count(A::ApproximateNumberOfMessagesNotVisible),
        1,
        "only the unreadable message is left"
    );
}
