//! `qdn-photos pipeline-standin`: a stand-in for S3 bucket notifications, for `make dev` only.
//! Garage sends no notifications, so this polls the bucket's `jobs/` prefix once a second, turns
//! each new object into the S3 event JSON AWS would send, and hands it to the pipeline's handler
//! in this process. Objects already there when it starts are left alone. In AWS the bucket's
//! notification invokes the pipeline function instead.

use std::collections::HashSet;
use std::time::Duration;

use crate::dev::s3_events::notification;
use crate::pipeline::context::PipelineContext;
use crate::pipeline::handle_event;

/// Watches `bucket` through `s3` and feeds what appears to the pipeline role's `ctx`.
pub async fn run(
    ctx: &PipelineContext,
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    interval: Duration,
) -> ! {
    let mut seen: HashSet<(String, String)> = HashSet::new();
    eprintln!("pipeline stand-in: watching s3://{bucket}/jobs/ every {interval:?} (a local stand-in for S3 event notifications)");
    let mut first = true;
    loop {
        let mut new = Vec::new();
        let mut pages = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix("jobs/")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let Ok(page) = page else {
                eprintln!("pipeline stand-in: listing failed; retrying");
                break;
            };
            for object in page.contents() {
                let key = object.key().unwrap_or_default().to_owned();
                let etag = object.e_tag().unwrap_or_default().to_owned();
                let size = object
                    .size()
                    .and_then(|s| u64::try_from(s).ok())
                    .unwrap_or(0);
                if seen.insert((key.clone(), etag.clone())) {
                    new.push((key, size, etag));
                }
            }
        }
        for (key, size, etag) in new.iter().filter(|_| !first) {
            let event = notification(bucket, &[(key, *size, etag, None)]);
            match handle_event(ctx, &event, "standin").await {
                Ok(outcomes) => eprintln!("pipeline stand-in: {key}: {}", outcomes.join(", ")),
                Err(err) => {
                    eprintln!("pipeline stand-in: {key}: {err} (will retry)");
                    seen.remove(&(key.clone(), etag.clone()));
                }
            }
        }
        first = false;
        tokio::time::sleep(interval).await;
    }
}
