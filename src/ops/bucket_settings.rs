//! Reads an existing bucket's settings, one GET per setting, none of them changing anything:
//! what `check-bucket` judges and `setup-bucket` merges into. The SDK's own types are kept, so a
//! configuration read here is written back unchanged apart from what `setup-bucket` adds.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{CorsRule, LifecycleRule, NotificationConfiguration};
use aws_sdk_s3::Client;

/// What the bucket's configuration calls answered: `Ok(None)` = not configured, `Err(code)` = the
/// server would not say (not implemented, or refused).
pub type Reading<T> = Result<Option<T>, String>;

#[derive(Debug, Clone, PartialEq)]
pub struct BucketSettings {
    pub versioning: Reading<String>,
    /// BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets.
    pub public_access_block: Reading<[bool; 4]>,
    pub default_encryption: Reading<String>,
    pub policy: Reading<String>,
    pub cors: Reading<Vec<CorsRule>>,
    /// Every target: the pipeline's Lambda and whatever else the bucket notifies.
    pub notification: Reading<NotificationConfiguration>,
    pub lifecycle: Reading<Vec<LifecycleRule>>,
}

pub async fn read_settings(s3: &Client, bucket: &str) -> BucketSettings {
    let versioning = match s3.get_bucket_versioning().bucket(bucket).send().await {
        Ok(out) => Ok(out.status().map(|s| s.as_str().to_owned())),
        Err(err) => Err(code_of(&err)),
    };
    let public_access_block = match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(out) => Ok(out.public_access_block_configuration().map(|c| {
            [
                c.block_public_acls().unwrap_or(false),
                c.ignore_public_acls().unwrap_or(false),
                c.block_public_policy().unwrap_or(false),
                c.restrict_public_buckets().unwrap_or(false),
            ]
        })),
        Err(err) => absent_if(&err, "NoSuchPublicAccessBlockConfiguration"),
    };
    let default_encryption = match s3.get_bucket_encryption().bucket(bucket).send().await {
        Ok(out) => Ok(out
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .map(|d| d.sse_algorithm().as_str().to_owned())),
        Err(err) => absent_if(&err, "ServerSideEncryptionConfigurationNotFoundError"),
    };
    let policy = match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => Ok(out.policy().map(str::to_owned)),
        Err(err) => absent_if(&err, "NoSuchBucketPolicy"),
    };
    let cors = match s3.get_bucket_cors().bucket(bucket).send().await {
        Ok(out) => Ok(Some(out.cors_rules().to_vec())),
        Err(err) => absent_if(&err, "NoSuchCORSConfiguration"),
    };
    let notification = match s3
        .get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => Ok(Some(
            NotificationConfiguration::builder()
                .set_topic_configurations(Some(out.topic_configurations().to_vec()))
                .set_queue_configurations(Some(out.queue_configurations().to_vec()))
                .set_lambda_function_configurations(Some(
                    out.lambda_function_configurations().to_vec(),
                ))
                .set_event_bridge_configuration(out.event_bridge_configuration().cloned())
                .build(),
        )),
        Err(err) => Err(code_of(&err)),
    };
    let lifecycle = match s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => Ok(Some(out.rules().to_vec())),
        Err(err) => absent_if(&err, "NoSuchLifecycleConfiguration"),
    };
    BucketSettings {
        versioning,
        public_access_block,
        default_encryption,
        policy,
        cors,
        notification,
        lifecycle,
    }
}

pub fn code_of<E: ProvideErrorMetadata>(err: &E) -> String {
    // No code: the server answered something that is not an S3 error, or nothing at all.
    err.code().unwrap_or("no S3 answer").to_owned()
}

/// `Ok(None)` when S3 says the setting was never configured; the error's code otherwise.
fn absent_if<T, E: ProvideErrorMetadata>(err: &E, not_configured: &str) -> Reading<T> {
    match err.code() {
        Some(code) if code == not_configured => Ok(None),
        _ => Err(code_of(err)),
    }
}
