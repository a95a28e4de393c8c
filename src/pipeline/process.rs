//! One S3 event, record by record: verify the bytes against the declared type (a ranged GET),
//! read the EXIF evidence, make the thumbnail, and record it all once per stored version. A
//! mismatch removes that version and records the rejection. S3 delivers at least once and in no
//! particular order: a version already recorded is skipped (after finishing an interrupted
//! rejection), and two deliveries racing each other write one record (the audit transaction's
//! conditions).

use std::time::SystemTime;

use crate::domain::caller::{Caller, JobScope, RequestMeta};
use crate::domain::image_type::ImageType;
use crate::domain::job::{thumbnail_key, JobId, UploadKey};
use crate::pipeline::context::PipelineContext;
use crate::pipeline::photo_metadata::{self, PhotoMetadata};
use crate::pipeline::s3_event::StoredEvent;
use crate::pipeline::thumbnail::{self, ThumbnailError, ThumbnailSpec};
use crate::store::audit::AuditEvent;
use crate::store::error::StoreError;
use crate::store::records::{ObjectFacts, ObjectRecord, ThumbnailStatus};
use crate::telemetry::metrics::RequestMetrics;

/// Enough for the magic number, and for a JPEG's EXIF block (APP1 holds at most 64 KiB).
const HEAD_BYTES: u64 = 128 * 1024;

/// The principal of every row the pipeline writes.
pub const PRINCIPAL: &str = "s3:pipeline";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not an object this service issued (another bucket, outside `jobs/`, not an upload key),
    /// or no longer in S3.
    Ignored(&'static str),
    /// This version's record exists: a redelivered event.
    AlreadyRecorded,
    /// Recorded, with what became of its thumbnail.
    Stored { thumbnail: ThumbnailStatus },
    /// The bytes were not the declared type: recorded, and the version removed.
    Rejected,
}

impl Outcome {
    pub fn label(&self) -> String {
        match self {
            Outcome::Ignored(why) => format!("ignored: {why}"),
            Outcome::AlreadyRecorded => "already recorded".into(),
            Outcome::Stored { thumbnail } => format!("stored, thumbnail {}", thumbnail.as_str()),
            Outcome::Rejected => "rejected".into(),
        }
    }
}

/// What one invocation did, for its metrics line.
pub fn metrics(outcomes: &[Outcome]) -> RequestMetrics {
    let mut m = RequestMetrics::default();
    for outcome in outcomes {
        match outcome {
            Outcome::Stored { thumbnail } => {
                m.photos_stored += 1;
                m.thumbnails_created += u64::from(*thumbnail == ThumbnailStatus::Created);
            }
            Outcome::Rejected => m.uploads_rejected += 1,
            Outcome::Ignored(_) | Outcome::AlreadyRecorded => {}
        }
    }
    m
}

/// The job and upload key a stored key names, if it is one this service issues.
pub fn upload_key_of(key: &str) -> Option<(JobId, UploadKey)> {
    let job = JobId::parse(key.strip_prefix("jobs/")?.split('/').next()?).ok()?;
    let upload = UploadKey::parse(&job, key)?;
    Some((job, upload))
}

/// Processes every record; an S3 or DynamoDB failure fails the whole event, so Lambda retries
/// it, and what was already recorded is skipped on the retry.
pub async fn handle(
    ctx: &PipelineContext,
    spec: &ThumbnailSpec,
    events: &[StoredEvent],
    invocation: &str,
) -> Result<Vec<Outcome>, StoreError> {
    let mut outcomes = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        let outcome = process(ctx, spec, event, &format!("{invocation}:{i}")).await?;
        tracing::info!(key = %event.key, version = event.version_id.as_deref().unwrap_or("null"), outcome = %outcome.label(), "processed");
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

async fn process(
    ctx: &PipelineContext,
    spec: &ThumbnailSpec,
    event: &StoredEvent,
    request_id: &str,
) -> Result<Outcome, StoreError> {
    // Every S3 call for this record goes through this one storage, on the event's bucket.
    let Some(storage) = ctx.bucket_for(&event.bucket) else {
        return Ok(Outcome::Ignored("another bucket"));
    };
    let Some((job, key)) = upload_key_of(&event.key) else {
        return Ok(Outcome::Ignored("not an upload key"));
    };
    let version = event.version_id.as_deref();
    if let Some(Some(earlier)) = ctx
        .index
        .object_records(&job, &[(&key, version)])
        .await?
        .pop()
    {
        if !earlier.accepted {
            // A rejection recorded before its delete landed: finish it.
            storage.delete_version(key.as_str(), version).await?;
        }
        return Ok(Outcome::AlreadyRecorded);
    }
    let Some(head) = storage
        .read(key.as_str(), version, Some(HEAD_BYTES))
        .await?
    else {
        return Ok(Outcome::Ignored("no longer in S3"));
    };
    let declared = key.image_type();
    let facts = ObjectFacts {
        key: key.clone(),
        size: event.size,
        etag: event.etag.clone(),
        version_id: event.version_id.clone(),
        sequencer: event.sequencer.clone(),
        content_type: head
            .content_type
            .clone()
            .unwrap_or_else(|| declared.mime().to_owned()),
    };
    let caller = Caller {
        principal: PRINCIPAL.to_owned(),
        scope: JobScope::All,
        meta: RequestMeta {
            request_id: request_id.to_owned(),
            source_ip: String::new(),
            user_agent: format!("s3 {}", event.event_name),
        },
        now: SystemTime::now(),
    };

    if !declared.matches_magic(&head.bytes) {
        let record = ObjectRecord {
            accepted: false,
            ..ObjectRecord::unprocessed()
        };
        let row = ctx.audit.row(
            &caller,
            &job,
            AuditEvent::UploadRejected {
                object: &facts,
                record: &record,
            },
        );
        // Recorded first, then removed: a retry after a failed delete finds the record and
        // deletes again; the other order could lose the record.
        let first = ctx.audit.write(&row).await?;
        storage.delete_version(key.as_str(), version).await?;
        tracing::warn!(key = %key, declared = declared.mime(), "upload rejected: its bytes are not its declared type");
        return Ok(if first {
            Outcome::Rejected
        } else {
            Outcome::AlreadyRecorded
        });
    }

    let metadata = if declared == ImageType::Jpeg {
        photo_metadata::read(&head.bytes)
    } else {
        PhotoMetadata {
            orientation: 1,
            ..Default::default()
        }
    };
    let made = match declared {
        ImageType::Jpeg | ImageType::Png | ImageType::Gif | ImageType::Webp => {
            let whole = if (head.bytes.len() as u64) < HEAD_BYTES {
                Some(head.bytes)
            } else {
                storage
                    .read(key.as_str(), version, None)
                    .await?
                    .map(|o| o.bytes)
            };
            let Some(whole) = whole else {
                return Ok(Outcome::Ignored("no longer in S3"));
            };
            thumbnail::make(&whole, declared, metadata.orientation, spec)
        }
        ImageType::Heic | ImageType::Heif | ImageType::Avif => Err(ThumbnailError::Unsupported),
    };
    let (status, thumb_key) = match made {
        Ok(thumb) => {
            let thumb_key = thumbnail_key(&key, version);
            storage.put_thumbnail(&thumb_key, thumb.jpeg).await?;
            (ThumbnailStatus::Created, Some(thumb_key))
        }
        Err(err) => {
            if let ThumbnailError::Undecodable(why) = &err {
                tracing::warn!(key = %key, error = %why, "no thumbnail: undecodable");
            }
            (err.status(), None)
        }
    };
    let record = ObjectRecord {
        accepted: true,
        thumbnail: Some(status),
        thumbnail_key: thumb_key,
        captured_at: metadata.captured_at,
        location: metadata.location,
        camera_model: metadata.camera_model,
    };
    let row = ctx.audit.row(
        &caller,
        &job,
        AuditEvent::ObjectStored {
            object: &facts,
            record: &record,
        },
    );
    Ok(if ctx.audit.write(&row).await? {
        Outcome::Stored { thumbnail: status }
    } else {
        Outcome::AlreadyRecorded
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_counts_where_it_belongs() {
        let m = metrics(&[
            Outcome::Stored {
                thumbnail: ThumbnailStatus::Created,
            },
            Outcome::Stored {
                thumbnail: ThumbnailStatus::Unsupported,
            },
            Outcome::Rejected,
            Outcome::AlreadyRecorded,
            Outcome::Ignored("not an upload key"),
        ]);
        assert_eq!(
            (m.photos_stored, m.thumbnails_created, m.uploads_rejected),
            (2, 1, 1)
        );
        assert_eq!(m.urls_issued + m.completions + m.audit_failures, 0);
    }

    #[test]
    fn only_keys_this_service_issues_are_processed() {
        let (job, key) =
            upload_key_of("jobs/j-1/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg").unwrap();
        assert_eq!(
            (job.as_str(), key.image_type().mime()),
            ("j-1", "image/jpeg")
        );
        for other in [
            "thumbs/jobs/j-1/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg/null.jpg",
            "jobs/j-1/photo.jpg",
            "jobs/j 1/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg",
            "jobs/j-1/sub/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg",
            "jobs/j-1/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.svg",
            "other/j-1/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg",
            "",
        ] {
            assert!(upload_key_of(other).is_none(), "{other}");
        }
    }
}
