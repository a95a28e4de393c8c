//! Every key shape of the audit table, in one place. All of a job's rows share one partition
//! (`JOB#{job}`); beside its audit rows (`{time}#{request id}`) are the index rows written in the
//! same transaction:
//!
//! - `GRANT#{file}`: the key was issued, to whom, for how many bytes, under which `audit_id`;
//! - `COMPLETED#{file}`: a client reported the upload finished, pinned to what S3 held then;
//! - `OBJECT#{file}#{version}`: what the pipeline found in one stored version (verified,
//!   rejected, or superseded by an earlier version of the key);
//! - `PHOTO#{listing name}`: the photo, listed: the earliest verified version of a key. Only the
//!   pipeline writes it, and the listing reads nothing else; a retraction or erasure writes its
//!   tombstone over it (`state = removed`), which lists nothing and is never listed over.
//! - `HASH#{sha256}`: the key a job's photo with those bytes is listed under (duplicates); without
//!   a key once that photo is removed.
//! - `EXPORT#{export id}`: an evidence export asked for through the API: requested, then ready
//!   (its archive's key, size and manifest hash) or failed (why).
//!
//! Tokens live in a partition of their own (`TOKENS`, `TOKEN#{sha256 hex}`), and each principal's
//! grant counters in theirs (`QUOTA#{principal}`): the only rows the API updates, never a job's.

use s3_presign::UtcTime;

use crate::domain::content_hash::ContentHash;
use crate::domain::job::{JobId, UploadKey};
use crate::store::quota::QuotaWindow;

pub const GRANT: &str = "GRANT#";
pub const COMPLETED: &str = "COMPLETED#";
pub const PHOTO: &str = "PHOTO#";

pub fn partition_key(job: &JobId) -> String {
    format!("JOB#{job}")
}

pub fn grant_sort_key(key: &UploadKey) -> String {
    format!("{GRANT}{}", key.file_name())
}

pub fn completed_sort_key(key: &UploadKey) -> String {
    format!("{COMPLETED}{}", key.file_name())
}

/// `PHOTO#{listing name}` (see [`UploadKey::listing_name`]): listing order is upload order.
pub fn photo_sort_key(listing_name: &str) -> String {
    format!("{PHOTO}{listing_name}")
}

pub const OBJECT: &str = "OBJECT#";
pub const HASH: &str = "HASH#";
pub const EXPORT: &str = "EXPORT#";

/// `EXPORT#{export id}` (a UUID v7: newest last).
pub fn export_sort_key(export_id: &str) -> String {
    format!("{EXPORT}{export_id}")
}

/// `HASH#{sha256 hex}`: which key a job lists for these bytes (the first verified): a second
/// upload of the same bytes is that photo's duplicate.
pub fn hash_sort_key(hash: &ContentHash) -> String {
    format!("{HASH}{}", hash.hex())
}

/// `OBJECT#{file}#{version}`: the pipeline's record of one stored version, written once however
/// often S3 delivers its event. Where the bucket is unversioned, `null.{sequencer}`: each
/// overwrite of the key is then still a version of its own in the record.
pub fn object_sort_key(key: &UploadKey, version: Option<&str>, sequencer: &str) -> String {
    match version {
        Some(version) => format!("{OBJECT}{}#{version}", key.file_name()),
        None => format!("{OBJECT}{}#null.{sequencer}", key.file_name()),
    }
}

/// Every version's record of one key: the prefix of its `OBJECT#` rows.
pub fn object_prefix(key: &UploadKey) -> String {
    format!("{OBJECT}{}#", key.file_name())
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

/// `QUOTA#{principal}`: one principal's grant counters.
pub fn quota_partition_key(principal: &str) -> String {
    format!("QUOTA#{principal}")
}

/// `MINUTE#{yyyy-mm-ddThh:mm}` (every job) or `DAY#{yyyy-mm-dd}#JOB#{job}`: the counter of the
/// window that starts at `start`.
pub fn quota_sort_key(window: QuotaWindow, job: &JobId, start: UtcTime) -> String {
    let minute = &start.rfc3339()[..16];
    match window {
        QuotaWindow::Minute => format!("MINUTE#{minute}"),
        QuotaWindow::JobDay => format!("DAY#{}#{}", &minute[..10], partition_key(job)),
    }
}
