//! The photo pipeline role: the same binary as the API, run as a second function on the bucket's
//! `s3:ObjectCreated:*` events for `jobs/`. [`run`] reads [`config::PipelineConfig`], builds
//! [`context::PipelineContext`] and handles events until the runtime stops.

pub mod config;
pub mod context;
pub mod jpeg_dc;
pub mod jpeg_markers;
pub mod photo_metadata;
pub mod process;
pub mod s3_event;
pub mod thumbnail;

use lambda_runtime::{service_fn, Error, LambdaEvent};

use crate::config::{stop, Env};
use crate::store::clients::{load_sdk_config, CallBudget};
use crate::telemetry::metrics::{Failure, RequestMetrics};
use context::PipelineContext;

/// The pipeline function's cold start and invocation loop.
pub async fn run() -> Result<(), Error> {
    let config = config::PipelineConfig::from_env(&Env::process()).unwrap_or_else(stop);
    let sdk = load_sdk_config(&config.common.region, CallBudget::Function).await;
    let ctx = PipelineContext::from_sdk_config(config, &sdk);
    let ctx = &ctx;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<serde_json::value::RawValue>>| async move {
            handle_event(ctx, event.payload.get(), &event.context.request_id).await
        },
    ))
    .await
}

/// One invocation of the pipeline function: the S3 event's records processed, their outcomes
/// for the log. `Err` fails the invocation, and Lambda retries it (asynchronous invocations are
/// retried twice): for an event that is not an S3 notification, or S3/DynamoDB failing.
pub async fn handle_event(
    ctx: &PipelineContext,
    json: &str,
    invocation: &str,
) -> Result<Vec<String>, Error> {
    let events = s3_event::parse(json)?;
    let result = process::handle(ctx, &ctx.config.thumbnail, &events, invocation).await;
    let metrics = match &result {
        Ok(outcomes) => process::metrics(outcomes),
        Err(err) => RequestMetrics::failed(err.dependency().map_or(Failure::Other, Failure::from)),
    };
    if let Some(target) = &ctx.config.common.metrics {
        target.publish(&metrics);
    }
    Ok(result?.iter().map(process::Outcome::label).collect())
}
