//! What every route works with, built once at cold start: the configuration, the authenticator,
//! the uploads bucket, the audit log and its photo index, and the signer. Handed to the routes; they never reach back into the app.

use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;

use crate::audit::AuditLog;
use crate::auth::Authenticator;
use crate::clients;
use crate::config::{AuthMode, Config, ConfigError};
use crate::photo_index::PhotoIndex;
use crate::signing::Signing;
use crate::storage::Storage;
use crate::tokens::TokenStore;

pub struct Context {
    pub config: Config,
    pub auth: Authenticator,
    pub storage: Storage,
    pub audit: AuditLog,
    pub index: PhotoIndex,
    pub signing: Signing,
}

impl Context {
    pub fn new(
        config: Config,
        s3: aws_sdk_s3::Client,
        dynamodb: aws_sdk_dynamodb::Client,
        credentials: SharedCredentialsProvider,
    ) -> Self {
        let cache_secs = match config.auth {
            AuthMode::Tokens { cache_secs } => cache_secs,
            _ => 0,
        };
        Context {
            auth: Authenticator::new(
                config.auth.clone(),
                TokenStore::new(dynamodb.clone(), config.audit_table.clone(), cache_secs),
            ),
            storage: Storage::new(s3, config.uploads_bucket.clone()),
            index: PhotoIndex::new(dynamodb.clone(), config.audit_table.clone()),
            audit: AuditLog::new(
                dynamodb,
                config.audit_table.clone(),
                config.audit_retention_days,
            ),
            signing: Signing::new(credentials, &config.region),
            config,
        }
    }

    /// The production wiring: clients and credentials from one shared SDK configuration.
    pub fn from_sdk_config(config: Config, sdk: &SdkConfig) -> Result<Self, ConfigError> {
        let credentials = sdk.credentials_provider().ok_or_else(|| ConfigError {
            variable: "AWS_ACCESS_KEY_ID",
            problem: "no AWS credentials provider could be configured".into(),
        })?;
        let s3 = clients::s3_client(sdk, config.force_path_style);
        let dynamodb = clients::dynamodb_client(sdk);
        Ok(Context::new(config, s3, dynamodb, credentials))
    }
}
