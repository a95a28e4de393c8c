//! The AWS SDK clients, built once at cold start. Timeouts and retries are explicit so that an
//! unreachable or stalled S3/DynamoDB yields a 503 well inside the function's timeout.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;

use crate::config::ConfigError;

/// Per attempt 2 s, per call at most 5 s (two attempts): a dead dependency costs ≤ 5 s per call.
pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(1000))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(5))
        .build()
}

pub fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(2)
}

/// How long a call may take: a function answers within its own timeout (a 503 beats a hung
/// request); an operator command has a person waiting who prefers a late answer to none (an
/// import of thousands of photos must not stop at one slow response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallBudget {
    Function,
    Operator,
}

impl CallBudget {
    pub fn timeouts_and_retries(self) -> (TimeoutConfig, RetryConfig) {
        match self {
            CallBudget::Function => (timeout_config(), retry_config()),
            CallBudget::Operator => (
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .operation_timeout(Duration::from_secs(120))
                    .build(),
                RetryConfig::standard().with_max_attempts(5),
            ),
        }
    }
}

/// The shared SDK configuration from the environment (credentials chain, `AWS_ENDPOINT_URL_*`).
pub async fn load_sdk_config(region: &str, budget: CallBudget) -> SdkConfig {
    let (timeouts, retries) = budget.timeouts_and_retries();
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .timeout_config(timeouts)
        .retry_config(retries)
        .load()
        .await
}

pub fn s3_client(sdk: &SdkConfig, force_path_style: bool) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(force_path_style)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

pub fn dynamodb_client(sdk: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk)
}

/// The credentials the SDK found (Lambda's role session, or the local stack's keys).
pub fn credentials(sdk: &SdkConfig) -> Result<SharedCredentialsProvider, ConfigError> {
    sdk.credentials_provider().ok_or_else(|| ConfigError {
        variable: "AWS_ACCESS_KEY_ID",
        problem: "no AWS credentials provider could be configured".into(),
    })
}
