//! `qdn-photos pipeline-standin`: a stand-in for S3 bucket notifications, for `make dev` only.
//! Garage sends no notifications, so this polls the bucket's `jobs/` prefix once a second, turns
//! each new object into the S3 event JSON AWS would send, and hands it to the pipeline's handler
//! in this process. Objects already there when it starts are left alone. In AWS the bucket's
//! notification invokes the pipeline function instead. It also stands in for Lambda's SQS event
//! source: each export request on the export queue goes to the export role's handler.

use std::collections::HashSet;
use std::time::Duration;

use crate::dev::s3_events::notification;
use crate::pipeline::context::PipelineContext;
use crate::pipeline::handle_event;

/// Watches `bucket` and feeds what appears to the pipeline role's `ctx`.
pub async fn run(ctx: &PipelineContext, bucket: &str, interval: Duration) -> ! {
    let mut seen: HashSet<(String, Option<String>)> = HashSet::new();
    eprintln!("pipeline stand-in: watching s3://{bucket}/jobs/ every {interval:?} (a local stand-in for S3 event notifications)");
    let storage = ctx
        .bucket_for(bucket)
        .expect("the pipeline serves this bucket");
    let mut first = true;
    loop {
        let listed = storage.list("jobs/").await.unwrap_or_else(|err| {
            eprintln!("pipeline stand-in: listing failed ({err}); retrying");
            Vec::new()
        });
        let new: Vec<_> = listed
            .into_iter()
            .filter(|o| seen.insert((o.key.clone(), o.etag.clone())))
            .collect();
        for object in new.iter().filter(|_| !first) {
            let etag = object.etag.as_deref().unwrap_or_default();
            let event = notification(bucket, &[(&object.key, object.size, etag, None)]);
            match handle_event(ctx, &event, "standin").await {
                Ok(outcomes) => {
                    eprintln!("pipeline stand-in: {}: {}", object.key, outcomes.join(", "))
                }
                Err(err) => {
                    eprintln!("pipeline stand-in: {}: {err} (will retry)", object.key);
                    seen.remove(&(object.key.clone(), object.etag.clone()));
                }
            }
        }
        first = false;
        tokio::time::sleep(interval).await;
    }
}

/// Takes export requests off `queue_url` and hands each, as the SQS event Lambda would send, to
/// the export role's `ctx`; a request it fails comes back after the queue's visibility timeout.
pub async fn run_exports(
    ctx: &crate::exports::ExportsContext,
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
) -> ! {
    eprintln!(
        "export stand-in: watching {queue_url} (a local stand-in for Lambda's SQS event source)"
    );
    loop {
        // Short polls: moto answers one request at a time, so a long poll would hold up every
        // DynamoDB call of the stack behind it.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let received = sqs.receive_message().queue_url(queue_url).send().await;
        let Ok(received) = received else {
            continue;
        };
        for message in received.messages() {
            let body = message.body().unwrap_or_default();
            let event = serde_json::json!({"Records": [{"eventSource": "aws:sqs", "body": body}]});
            match crate::exports::handle_event(ctx, &event.to_string()).await {
                Ok(outcomes) => {
                    eprintln!("export stand-in: {}", outcomes.join(", "));
                    if let Some(handle) = message.receipt_handle() {
                        let _ = sqs
                            .delete_message()
                            .queue_url(queue_url)
                            .receipt_handle(handle)
                            .send()
                            .await;
                    }
                }
                Err(err) => eprintln!("export stand-in: {err} (the queue hands it back later)"),
            }
        }
    }
}
