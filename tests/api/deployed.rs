//! Each role started as Lambda starts it: the function's own binary, with exactly the environment
//! `template.yaml` gives that function (read from the template for the stack's parameters) and what
//! Lambda itself adds, behind a local Runtime API. Nothing is added by hand, so a setting the
//! template forgets, or one a role wrongly insists on, fails here as it would in AWS.

use serde_json::Value;

use crate::lambda::*;
use crate::support::*;
use qdn_photos::dev::s3_events::notification;
use qdn_photos::dev::test_images::camera_jpeg;

/// Uploads a camera JPEG through the API, then hands the pipeline function, deployed with
/// `params`, the event S3 sends for it; returns the key and what the function answered.
async fn stored_photo_through_the_deployed_pipeline(
    stack: &Stack,
    params: &[(&str, &str)],
) -> (String, String, bool, Value) {
    let app = stack.app(&[]);
    let job = new_job();
    let jpeg = camera_jpeg(640, 480, 1, None, 90);
    let grant = issue(&app, &job, "").await;
    let (status, body) = post_form(&grant, |_| {}, jpeg.clone()).await;
    assert_eq!(status, 201, "{body}");
    let key = grant["key"].as_str().unwrap().to_owned();

    let (addr, api, mut answers) = runtime_api().await;
    let env = stack.lambda_env("PipelineFunction", params);
    let mut function = start_function(&env, &addr);
    let stderr = drain(function.stderr.take());
    let event = notification(&stack.bucket, &[(&key, jpeg.len() as u64, "etag", None)]);
    let (answered, answer) = invoke_json(&api, &mut answers, &mut function, event).await;
    function.start_kill().unwrap();
    function.wait().await.unwrap();
    let logs = String::from_utf8_lossy(&stderr.await.unwrap()).into_owned();
    assert!(answered, "the pipeline failed the event: {answer}\n{logs}");
    (job, key, answered, answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_stacks_pipeline_reads_the_events_bucket_records_and_thumbnails_a_posted_jpeg()
{
    let stack = Stack::get();
    // CreateBucket=true (the default): the template gives the pipeline no UPLOADS_BUCKET.
    assert!(!stack
        .template_env("PipelineFunction", &[])
        .variables
        .contains_key("UPLOADS_BUCKET"));
    let (job, key, _, answer) = stored_photo_through_the_deployed_pipeline(&stack, &[]).await;
    assert_eq!(answer, serde_json::json!(["listed, thumbnail created"]));
    let stored = stack.audit_events(&job, "object_verified").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["key"].as_s().unwrap(), &key);
    assert_eq!(stored[0]["thumbnail"].as_s().unwrap(), "created");
    let thumb = stack.object(&format!("thumbs/{key}/null.jpg")).await;
    assert!(thumb.is_some_and(|t| t.starts_with(&[0xFF, 0xD8, 0xFF])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_reusing_a_bucket_gives_its_pipeline_that_bucket_and_it_processes_its_events() {
    let stack = Stack::get();
    let params = stack.reusing_bucket();
    assert_eq!(
        stack.template_env("PipelineFunction", &params).variables["UPLOADS_BUCKET"],
        stack.bucket
    );
    let (job, _, _, answer) = stored_photo_through_the_deployed_pipeline(&stack, &params).await;
    assert_eq!(answer, serde_json::json!(["listed, thumbnail created"]));
    assert_eq!(stack.audit_events(&job, "object_verified").await.len(), 1);
}

/// Starts `function` without `missing`; returns its exit code and what it printed.
async fn start_without(stack: &Stack, function: &str, missing: &str) -> (Option<i32>, String) {
    let params = [("DashboardOrigin", "http://localhost:8080")];
    let mut env = stack.lambda_env(function, &params);
    assert!(
        env.remove(missing).is_some(),
        "template.yaml gives {function} {missing}"
    );
    // The Runtime API is never reached: a role that refuses to start exits at once.
    let (addr, _api, _answers) = runtime_api().await;
    let out = start_function(&env, &addr)
        .wait_with_output()
        .await
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), printed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_refuses_to_start_without_a_setting_the_template_gives_it() {
    let stack = Stack::get();
    for (function, missing) in [
        ("PipelineFunction", "AUDIT_TABLE"),
        ("PhotosFunction", "AUDIT_TABLE"),
        ("PhotosFunction", "UPLOADS_BUCKET"),
        ("PhotosFunction", "AUTH_MODE"),
        ("ExportFunction", "UPLOADS_BUCKET"),
        ("ExportFunction", "AUDIT_TABLE"),
    ] {
        let (code, printed) = start_without(&stack, function, missing).await;
        assert_eq!(code, Some(1), "{function} without {missing}: {printed}");
        assert!(
            printed.contains(&format!("invalid configuration: {missing}")),
            "{function} without {missing}: {printed}"
        );
    }
}

/// The export function, started with exactly its template environment, builds the export the API
/// queued, from the SQS event Lambda's event source hands it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_function_builds_what_the_api_queued() {
    let stack = Stack::get();
    let queue = stack.own_export_queue().await;
    let app = stack.app(&[("EXPORT_QUEUE_URL", &queue)]);
    let pipeline = stack.pipeline(&[]);
    let job = new_job();
    upload_listed(
        &stack,
        &app,
        &pipeline,
        &job,
        camera_jpeg(640, 480, 2, None, 90),
    )
    .await;
    let (status, asked) = call(
        &app,
        post_json(&format!("/exports?job_id={job}"), &Value::Null),
    )
    .await;
    assert_eq!(status, 202, "{asked}");
    let body = queued_export(&stack, &queue, &job, asked["export_id"].as_str().unwrap()).await;
    let event = serde_json::json!({"Records": [{"messageId": "m-1", "eventSource": "aws:sqs", "body": body}]});

    let (addr, api, mut answers) = runtime_api().await;
    let env = stack.lambda_env("ExportFunction", &[]);
    assert_eq!(env["_HANDLER"], "photo-export");
    let mut function = start_function(&env, &addr);
    let stderr = drain(function.stderr.take());
    let (answered, answer) =
        invoke_json(&api, &mut answers, &mut function, event.to_string()).await;
    function.start_kill().unwrap();
    function.wait().await.unwrap();
    let logs = String::from_utf8_lossy(&stderr.await.unwrap()).into_owned();
    assert!(answered, "the export function failed: {answer}\n{logs}");
    assert_eq!(answer, serde_json::json!(["ready"]));
    let (_, listed) = call(&app, get(&format!("/exports?job_id={job}"))).await;
    assert_eq!(listed["exports"][0]["state"], "ready", "{listed}");
    assert_eq!(listed["exports"][0]["photos"], 1);
}
