//! Every key shape of the audit table, in one place. All of a job's rows share one partition
//! (`JOB#{job}`); beside its audit rows (`{time}#{request id}`) are the index rows written in the
//! same transaction:
//!
//! - `GRANT#{file}`: the key was issued, to whom, under which `audit_id`;
//! - `PHOTO#{file}`: the upload was completed, pinned to the size, ETag and version S3 held;
//! - `OBJECT#{file}#{version}`: what the pipeline found in one stored version.
//!
//! Tokens live in a partition of their own (`TOKENS`, `TOKEN#{sha256 hex}`).

use s3_presign::UtcTime;

use crate::domain::job::{JobId, UploadKey};

pub const GRANT: &str = "GRANT#";
pub const PHOTO: &str = "PHOTO#";

pub fn partition_key(job: &JobId) -> String {
    format!("JOB#{job}")
}

pub fn grant_sort_key(key: &UploadKey) -> String {
    format!("{GRANT}{}", key.file_name())
}

pub fn photo_sort_key(key: &UploadKey) -> String {
    format!("{PHOTO}{}", key.file_name())
}

pub const OBJECT: &str = "OBJECT#";

/// `OBJECT#{file}#{version}`: the pipeline's record of one stored version (`null` where the
/// bucket is unversioned), written once however often S3 delivers its event.
pub fn object_sort_key(key: &UploadKey, version: Option<&str>) -> String {
    format!("{OBJECT}{}#{}", key.file_name(), version.unwrap_or("null"))
}

/// `{RFC 3339 millis}#{request id}`: an audit row's sort key, time-ordered within the job and
/// unique per request.
pub fn audit_sort_key(at: UtcTime, request_id: &str) -> String {
    format!("{}#{}", at.rfc3339_millis(), request_id)
}

/// The one partition of every token row.
pub const TOKENS: &str = "TOKENS";

/// `TOKEN#{sha256 hex}`: a token's row, named by its digest (the token itself is never stored).
pub fn token_sort_key(digest: &[u8; 32]) -> String {
    format!("TOKEN#{}", hex::encode(digest))
}
