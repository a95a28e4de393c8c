//! What the pipeline works with, built once at cold start: its configuration, the S3 client, the
//! audit log and its index. It has no bucket of its own: each S3 event names one, and
//! [`PipelineContext::bucket_for`] gives the one storage every S3 call of that record goes through.

use aws_config::SdkConfig;

use crate::pipeline::config::PipelineConfig;
use crate::store::audit::AuditLog;
use crate::store::clients;
use crate::store::index::PhotoIndex;
use crate::store::storage::Storage;

pub struct PipelineContext {
    pub config: PipelineConfig,
    s3: aws_sdk_s3::Client,
    pub audit: AuditLog,
    pub index: PhotoIndex,
}

impl PipelineContext {
    pub fn new(
        config: PipelineConfig,
        s3: aws_sdk_s3::Client,
        dynamodb: aws_sdk_dynamodb::Client,
    ) -> Self {
        let table = &config.common.audit_table;
        PipelineContext {
            index: PhotoIndex::new(dynamodb.clone(), table.clone()),
            audit: AuditLog::new(dynamodb, table.clone(), config.common.audit_retention_days),
            s3,
            config,
        }
    }

    /// The production wiring: clients from one shared SDK configuration.
    pub fn from_sdk_config(config: PipelineConfig, sdk: &SdkConfig) -> Self {
        let s3 = clients::s3_client(sdk, config.common.force_path_style);
        PipelineContext::new(config, s3, clients::dynamodb_client(sdk))
    }

    /// The bucket an event names, or `None` where the configuration names another one.
    pub fn bucket_for(&self, bucket: &str) -> Option<Storage> {
        match &self.config.only_bucket {
            Some(only) if only != bucket => None,
            _ => Some(Storage::new(self.s3.clone(), bucket.to_owned())),
        }
    }
}
