//! What can go wrong in the store, in the store's own words: which dependency failed, never an
//! HTTP status. The API maps these to 503s (`api::error`); the pipeline fails the invocation.

use crate::store::quota::QuotaExceeded;
use crate::telemetry::metrics::Failure;

/// Which dependency failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    Storage,
    AuditLog,
    Credentials,
    /// The token table, read to authenticate a per-person token.
    Identity,
    /// The queue of evidence exports (SQS).
    ExportQueue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreError {
    /// S3 or DynamoDB did not answer, or refused: try again later.
    Unavailable(Dependency),
    /// Another event's row is already where this one would go; nothing was written.
    Duplicate,
    /// A request could not even be built (a bug on our side, never an outage).
    Internal,
    /// A grant counter is full for its window; nothing was written.
    QuotaExceeded(QuotaExceeded),
}

impl StoreError {
    /// What was unavailable, if that is what went wrong.
    pub fn dependency(&self) -> Option<Dependency> {
        match self {
            StoreError::Unavailable(dependency) => Some(*dependency),
            StoreError::Duplicate | StoreError::Internal | StoreError::QuotaExceeded(_) => None,
        }
    }

    /// For `map_err` on an SDK call: logs the failure of `what` with the SDK's whole cause chain
    /// (which goes no further than the log) and answers `Unavailable(dependency)`.
    pub fn sdk_failure<E: std::error::Error>(
        what: &'static str,
        dependency: Dependency,
    ) -> impl FnOnce(E) -> StoreError {
        move |err| {
            tracing::warn!(error = %aws_sdk_s3::error::DisplayErrorContext(&err), "{what} failed");
            StoreError::Unavailable(dependency)
        }
    }
}

/// What the alarms count an unavailable dependency as. The token table and the photo index live
/// in the audit table too.
impl From<Dependency> for Failure {
    fn from(dependency: Dependency) -> Self {
        match dependency {
            Dependency::AuditLog | Dependency::Identity => Failure::AuditLog,
            Dependency::Storage => Failure::Storage,
            Dependency::Credentials | Dependency::ExportQueue => Failure::Other,
        }
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Unavailable(dependency) => write!(f, "{dependency:?} is unavailable"),
            StoreError::Duplicate => f.write_str("the row exists already"),
            StoreError::Internal => f.write_str("a request to the store could not be built"),
            StoreError::QuotaExceeded(q) => {
                write!(f, "the {:?} grant limit ({}) is reached", q.window, q.limit)
            }
        }
    }
}

impl std::error::Error for StoreError {}
