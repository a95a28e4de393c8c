//! What every route works with, built once at cold start: the configuration, the authenticator,
//! the uploads bucket, the audit log and its photo index, and the signer. Handed to the routes;
//! they never reach back into the app.

use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;

use crate::api::auth::Authenticator;
use crate::api::config::{ApiConfig, AuthMode};
use crate::api::signing::Signing;
use crate::config::ConfigError;
use crate::store::audit::AuditLog;
use crate::store::clients;
use crate::store::export_queue::ExportQueue;
use crate::store::index::PhotoIndex;
use crate::store::storage::Storage;
use crate::store::tokens::TokenStore;

pub struct ApiContext {
    pub config: ApiConfig,
    pub auth: Authenticator,
    pub storage: Storage,
    pub audit: AuditLog,
    pub index: PhotoIndex,
    pub signing: Signing,
    /// Where `POST /exports` queues an export (`EXPORT_QUEUE_URL`); `None`: no exports here.
    pub exports: Option<ExportQueue>,
}

impl ApiContext {
    pub fn new(
        config: ApiConfig,
        s3: aws_sdk_s3::Client,
        dynamodb: aws_sdk_dynamodb::Client,
        credentials: SharedCredentialsProvider,
    ) -> Self {
        let cache_secs = match config.auth {
            AuthMode::Tokens { cache_secs } => cache_secs,
            _ => 0,
        };
        let table = &config.common.audit_table;
        ApiContext {
            auth: Authenticator::new(
                config.auth.clone(),
                TokenStore::new(dynamodb.clone(), table.clone(), cache_secs),
            ),
            storage: Storage::new(s3, config.uploads_bucket.clone()),
            index: PhotoIndex::new(dynamodb.clone(), table.clone()),
            audit: AuditLog::new(dynamodb, table.clone(), config.common.audit_retention_days),
            signing: Signing::new(credentials, &config.common.region),
            exports: None,
            config,
        }
    }

    /// Exports queued on `sqs`, where the configuration names a queue.
    pub fn with_export_queue(mut self, sqs: aws_sdk_sqs::Client) -> Self {
        self.exports = self
            .config
            .export_queue_url
            .clone()
            .map(|url| ExportQueue::new(sqs, url));
        self
    }

    /// The production wiring: clients and credentials from one shared SDK configuration.
    pub fn from_sdk_config(config: ApiConfig, sdk: &SdkConfig) -> Result<Self, ConfigError> {
        let credentials = clients::credentials(sdk)?;
        let s3 = clients::s3_client(sdk, config.common.force_path_style);
        let dynamodb = clients::dynamodb_client(sdk);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        Ok(ApiContext::new(config, s3, dynamodb, credentials).with_export_queue(sqs))
    }
}
