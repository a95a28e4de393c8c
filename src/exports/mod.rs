//! The export role: the same binary as a third function, fed by the export queue (SQS) that
//! `POST /exports` writes to. [`run`] reads [`ExportsConfig`], builds [`ExportsContext`] and
//! builds each requested archive (see [`build`]) until the runtime stops.

pub mod build;
pub mod config;

use std::path::PathBuf;

use aws_config::SdkConfig;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde::Deserialize;

use crate::config::{stop, Env};
use crate::store::audit::AuditLog;
use crate::store::clients::{self, load_sdk_config, CallBudget};
use crate::store::export_queue::ExportMessage;
use crate::store::index::PhotoIndex;
use crate::store::storage::Storage;
pub use config::ExportsConfig;

/// What the export function works with, built once at cold start.
pub struct ExportsContext {
    pub config: ExportsConfig,
    pub storage: Storage,
    pub audit: AuditLog,
    pub index: PhotoIndex,
}

impl ExportsContext {
    pub fn new(
        config: ExportsConfig,
        s3: aws_sdk_s3::Client,
        dynamodb: aws_sdk_dynamodb::Client,
    ) -> Self {
        let table = &config.common.audit_table;
        ExportsContext {
            storage: Storage::new(s3, config.bucket.clone()),
            index: PhotoIndex::new(dynamodb.clone(), table.clone()),
            audit: AuditLog::new(dynamodb, table.clone(), config.common.audit_retention_days),
            config,
        }
    }

    pub fn from_sdk_config(config: ExportsConfig, sdk: &SdkConfig) -> Self {
        let s3 = clients::s3_client(sdk, config.common.force_path_style);
        ExportsContext::new(config, s3, clients::dynamodb_client(sdk))
    }

    fn scratch(&self) -> PathBuf {
        self.config.scratch_dir.clone()
    }
}

/// The export function's cold start and invocation loop. An export takes its own time (minutes
/// for a large job): the SDK gets an operator's patience, not the API's two seconds.
pub async fn run() -> Result<(), Error> {
    let config = ExportsConfig::from_env(&Env::process()).unwrap_or_else(stop);
    let sdk = load_sdk_config(&config.common.region, CallBudget::Operator).await;
    let ctx = ExportsContext::from_sdk_config(config, &sdk);
    let ctx = &ctx;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            handle_event(ctx, &event.payload.to_string()).await
        },
    ))
    .await
}

#[derive(Deserialize)]
struct SqsEvent {
    #[serde(rename = "Records")]
    records: Vec<SqsRecord>,
}

#[derive(Deserialize)]
struct SqsRecord {
    body: String,
}

/// One invocation: each queued export built (the event source hands one at a time). `Err` leaves
/// the message on the queue for another try, and its dead-letter queue keeps it after the last.
pub async fn handle_event(ctx: &ExportsContext, json: &str) -> Result<Vec<String>, Error> {
    let event: SqsEvent = serde_json::from_str(json)?;
    let mut outcomes = Vec::with_capacity(event.records.len());
    for record in event.records {
        let Ok(message) = serde_json::from_str::<ExportMessage>(&record.body) else {
            tracing::warn!("an export message that is not one: dropped");
            outcomes.push("ignored: not an export message".to_owned());
            continue;
        };
        let outcome = build::build(ctx, &message, &ctx.scratch()).await?;
        tracing::info!(job = %message.job_id, export = %message.export_id, outcome = %outcome, "export");
        outcomes.push(outcome);
    }
    Ok(outcomes)
}
