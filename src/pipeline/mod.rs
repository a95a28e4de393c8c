//! The photo pipeline: the same binary as the API, run as a second function on the bucket's
//! `s3:ObjectCreated:*` events for `jobs/` (see `main.rs` for how the role is chosen).

pub mod jpeg_dc;
pub mod photo_metadata;
pub mod process;
pub mod s3_event;
pub mod standin;
#[cfg(any(test, feature = "test-util"))]
pub mod test_images;
pub mod thumbnail;

use crate::context::Context;
use crate::metrics::RequestMetrics;

/// One invocation of the pipeline function: the S3 event's records processed, their outcomes
/// for the log. `Err` fails the invocation, and Lambda retries it (asynchronous invocations are
/// retried twice): for an event that is not an S3 notification, or S3/DynamoDB failing.
pub async fn handle_event(
    ctx: &Context,
    json: &str,
    invocation: &str,
) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    let events = s3_event::parse(json)?;
    let result = process::handle(ctx, &ctx.config.thumbnail, &events, invocation).await;
    let metrics = match &result {
        Ok(outcomes) => process::metrics(outcomes),
        Err(err) => RequestMetrics::failed(err),
    };
    if let Some(target) = &ctx.config.metrics {
        target.publish(&metrics);
    }
    Ok(result?.iter().map(process::Outcome::label).collect())
}
