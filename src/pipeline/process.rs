//! One stored version, checked and recorded: the grant (whom the key was issued to, for how
//! many bytes), the stored type, the magic bytes, the pixel budget and a decode (the thumbnail),
//! then the record, then the listing. What S3 stored and this verified is the photo; a client's
//! report lists nothing. A refused version of a granted key is recorded and removed.
//!
//! S3 delivers at least once and in no particular order: a version already recorded is not
//! checked again (an interrupted removal or listing is finished), and of a key's versions the
//! earliest by S3's sequencer is the photo, whichever event arrives first (the listing's
//! condition decides a race); a later one is recorded as superseded and removed.

use std::time::SystemTime;

use uuid::Uuid;

use crate::domain::caller::{Caller, JobScope, RequestMeta};
use crate::domain::content_hash::ContentHash;
use crate::domain::image_type::ImageType;
use crate::domain::job::{thumbnail_key, JobId, UploadKey};
use crate::pipeline::context::PipelineContext;
use crate::pipeline::photo_metadata::{self, PhotoMetadata};
use crate::pipeline::s3_event::StoredEvent;
use crate::pipeline::thumbnail::{self, ThumbnailError, ThumbnailSpec};
use crate::store::audit::AuditEvent;
use crate::store::error::StoreError;
use crate::store::index::{HashClaim, Publication};
use crate::store::records::{
    sequencer_order, ObjectFacts, ObjectRecord, PhotoRecord, Rejection, ThumbnailStatus, Verdict,
};
use crate::store::storage::Storage;
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
    /// Verified and listed, with what became of its thumbnail.
    Listed { thumbnail: ThumbnailStatus },
    /// Recorded as refused, never listed (and removed, where this service granted it).
    Rejected(Rejection),
    /// A later version of a key whose earlier version is the photo: recorded and removed.
    Superseded,
    /// The same bytes as the job's photo under this key: recorded and kept, not listed again.
    Duplicate(String),
    /// A version of a key whose photo was retracted or erased: recorded, removed, never listed.
    Removed,
}

impl Outcome {
    pub fn label(&self) -> String {
        match self {
            Outcome::Ignored(why) => format!("ignored: {why}"),
            Outcome::AlreadyRecorded => "already recorded".into(),
            Outcome::Listed { thumbnail } => format!("listed, thumbnail {}", thumbnail.as_str()),
            Outcome::Rejected(why) => format!("rejected: {}", why.code()),
            Outcome::Superseded => "superseded by an earlier version".into(),
            Outcome::Duplicate(of) => format!("duplicate of {of}"),
            Outcome::Removed => "its photo was removed: removed too".into(),
        }
    }
}

/// What one invocation did, for its metrics line.
pub fn metrics(outcomes: &[Outcome]) -> RequestMetrics {
    let mut m = RequestMetrics::default();
    for outcome in outcomes {
        match outcome {
            Outcome::Listed { thumbnail } => {
                m.photos_stored += 1;
                m.thumbnails_created += u64::from(*thumbnail == ThumbnailStatus::Created);
            }
            Outcome::Rejected(_) | Outcome::Superseded | Outcome::Removed => {
                m.uploads_rejected += 1
            }
            Outcome::Ignored(_) | Outcome::AlreadyRecorded | Outcome::Duplicate(_) => {}
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

/// One stored version to check: from an S3 event, or from a listing (`import`, `reprocess`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub job: JobId,
    pub key: UploadKey,
    pub size: u64,
    pub etag: Option<String>,
    pub version_id: Option<String>,
    /// As [`sequencer_order`] pads it.
    pub sequencer: String,
    /// What stored it, for the audit row's user agent: `s3 ObjectCreated:Post`, `import`.
    pub via: String,
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
        let outcome = process_event(ctx, spec, event, &format!("{invocation}:{i}")).await?;
        tracing::info!(key = %event.key, version = event.version_id.as_deref().unwrap_or("null"), outcome = %outcome.label(), "processed");
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

async fn process_event(
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
    let candidate = Candidate {
        job,
        key,
        size: event.size,
        etag: event.etag.clone(),
        version_id: event.version_id.clone(),
        sequencer: sequencer_order(event.sequencer.as_deref().unwrap_or_default()),
        via: format!("s3 {}", event.event_name),
    };
    check(ctx, spec, &storage, &candidate, request_id).await
}

/// Checks and records one stored version, and lists it if it is the key's photo.
pub async fn check(
    ctx: &PipelineContext,
    spec: &ThumbnailSpec,
    storage: &Storage,
    candidate: &Candidate,
    request_id: &str,
) -> Result<Outcome, StoreError> {
    let Candidate { job, key, .. } = candidate;
    let version = candidate.version_id.as_deref();
    let caller = Caller {
        principal: PRINCIPAL.to_owned(),
        scope: JobScope::All,
        meta: RequestMeta {
            request_id: request_id.to_owned(),
            source_ip: String::new(),
            user_agent: candidate.via.clone(),
        },
        now: SystemTime::now(),
    };
    let steps = Steps {
        ctx,
        storage,
        caller: &caller,
        job,
    };
    if let Some((earlier, photo)) = ctx
        .index
        .object_record(job, key, version, &candidate.sequencer)
        .await?
    {
        // Finish what an interrupted run started: the removal, or the listing. (A duplicate
        // has nothing left to do: it is kept and never listed.)
        match (earlier.verdict, photo) {
            (Verdict::Verified(_), Some(photo)) => {
                steps.publish(&photo).await?;
            }
            (Verdict::Rejected(_) | Verdict::Superseded, _) if key.is_granted() => {
                storage.delete_version(key.as_str(), version).await?;
            }
            _ => {}
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
    let mut facts = ObjectFacts {
        key: key.clone(),
        size: candidate.size,
        etag: candidate.etag.clone(),
        version_id: candidate.version_id.clone(),
        sequencer: candidate.sequencer.clone(),
        content_type: head
            .content_type
            .clone()
            .unwrap_or_else(|| declared.mime().to_owned()),
        last_modified: head.last_modified,
        sha256: None,
    };
    let grant = if key.is_granted() {
        match ctx.index.grant(job, key).await? {
            None => return steps.refuse(&facts, None, Rejection::NotGranted).await,
            Some(grant) => Some(grant),
        }
    } else {
        None
    };
    let bound_sha256 = grant.as_ref().and_then(|g| g.sha256);
    let uploader = grant.as_ref().map(|g| g.principal.clone());
    if grant
        .as_ref()
        .is_some_and(|g| g.max_bytes.is_some_and(|max| facts.size > max))
    {
        return steps
            .refuse(&facts, uploader, Rejection::OverGrantedSize)
            .await;
    }
    // What this service granted was signed with its type; what came before it may carry any.
    if key.is_granted() && !facts.content_type.eq_ignore_ascii_case(declared.mime()) {
        return steps
            .refuse(&facts, uploader, Rejection::WrongContentType)
            .await;
    }
    // A grant signs the type, the length and (a POST) `x-amz-meta-job-id`; anything else stored
    // with the object was a client's unsigned header.
    let signed = format!("x-amz-meta-job-id: {}", job.as_str());
    if key.is_granted() && head.stored_headers.iter().any(|h| *h != signed) {
        return steps
            .refuse(&facts, uploader, Rejection::UnsignedHeaders)
            .await;
    }
    if !declared.matches_magic(&head.bytes) {
        return steps
            .refuse(&facts, uploader, Rejection::NotDeclaredType)
            .await;
    }
    // The whole version, hashed: the record's SHA-256 whatever the verdict from here on.
    let whole = if (head.bytes.len() as u64) < HEAD_BYTES {
        head.bytes
    } else {
        match storage.read(key.as_str(), version, None).await? {
            Some(object) => object.bytes,
            None => return Ok(Outcome::Ignored("no longer in S3")),
        }
    };
    let sha256 = ContentHash::of(&whole);
    facts.sha256 = Some(sha256);
    // S3 refuses other bytes under a grant that binds a hash; this catches a store that does not.
    if bound_sha256.is_some_and(|bound| bound != sha256) {
        return steps
            .refuse(&facts, uploader, Rejection::ContentMismatch)
            .await;
    }
    if version.is_some()
        && storage
            .earlier_version_exists(key.as_str(), version)
            .await?
    {
        // That earlier version is the photo once checked; this one is never shown.
        return steps.supersede(facts, uploader).await;
    }

    let metadata = if declared == ImageType::Jpeg {
        photo_metadata::read(&whole)
    } else {
        PhotoMetadata {
            orientation: 1,
            ..Default::default()
        }
    };
    let made = match declared {
        ImageType::Jpeg | ImageType::Png | ImageType::Gif | ImageType::Webp => {
            thumbnail::make(&whole, declared, metadata.orientation, spec)
        }
        ImageType::Heic | ImageType::Heif | ImageType::Avif => Err(ThumbnailError::Unsupported),
    };
    let thumb = match made {
        Ok(thumb) => Some(thumb),
        Err(err) => {
            if let ThumbnailError::Undecodable(why) = &err {
                tracing::warn!(key = %key, error = %why, "undecodable");
            }
            match err.outcome() {
                Ok(_) => None,
                Err(why) => return steps.refuse(&facts, uploader, why).await,
            }
        }
    };
    // A photo: unless the job already lists these bytes under another key.
    let claim = ctx.index.claim_hash(job, &sha256, key).await?;
    if let HashClaim::HeldBy(of) = claim {
        return steps.duplicate(facts, uploader, of, &metadata).await;
    }
    let (thumbnail, thumb_key) = match thumb {
        Some(thumb) => {
            let thumb_key = thumbnail_key(key, version);
            storage.put_thumbnail(&thumb_key, thumb.jpeg).await?;
            (ThumbnailStatus::Created, Some(thumb_key))
        }
        None => (ThumbnailStatus::Unsupported, None),
    };
    let record = ObjectRecord {
        verdict: Verdict::Verified(thumbnail),
        thumbnail_key: thumb_key,
        captured_at: metadata.captured_at,
        location: metadata.location,
        camera_model: metadata.camera_model,
        duplicate_of: None,
    };
    let Some(audit_id) = steps
        .record(&caller, &facts, &record, uploader.as_deref())
        .await?
    else {
        return Ok(Outcome::AlreadyRecorded);
    };
    let photo = PhotoRecord {
        audit_id: audit_id.to_string(),
        object: facts,
        record,
        uploader,
    };
    Ok(match steps.publish(&photo).await? {
        Published::Listed => Outcome::Listed { thumbnail },
        Published::Superseded => Outcome::Superseded,
        Published::Removed => Outcome::Removed,
    })
}

/// The record's writes for one candidate.
struct Steps<'a> {
    ctx: &'a PipelineContext,
    storage: &'a Storage,
    caller: &'a Caller,
    job: &'a JobId,
}

impl Steps<'_> {
    /// Records the refusal, then removes a granted version (recorded first: a retry after a
    /// failed removal finds the record and removes again; the other order could lose it).
    /// Objects stored before this service are left where they are.
    async fn refuse(
        &self,
        facts: &ObjectFacts,
        uploader: Option<String>,
        why: Rejection,
    ) -> Result<Outcome, StoreError> {
        let record = ObjectRecord::of(Verdict::Rejected(why));
        let first = self
            .record(self.caller, facts, &record, uploader.as_deref())
            .await?
            .is_some();
        if facts.key.is_granted() {
            self.storage
                .delete_version(facts.key.as_str(), facts.version_id.as_deref())
                .await?;
        }
        tracing::warn!(key = %facts.key, reason = why.code(), "upload rejected");
        Ok(if first {
            Outcome::Rejected(why)
        } else {
            Outcome::AlreadyRecorded
        })
    }

    /// Records `facts` as superseded (over its verified record, if it had one) and removes the
    /// version and its thumbnail.
    async fn supersede(
        &self,
        facts: ObjectFacts,
        uploader: Option<String>,
    ) -> Result<Outcome, StoreError> {
        let record = ObjectRecord::of(Verdict::Superseded);
        // A row of its own: this run may have written its verification row a moment ago, under
        // the same request id and time.
        let mut caller = self.caller.clone();
        caller.meta.request_id.push_str("/superseded");
        self.record(&caller, &facts, &record, uploader.as_deref())
            .await?;
        let version = facts.version_id.as_deref();
        // Where the bucket keeps no versions the later bytes replaced the photo's: removing
        // them would remove the photo (see docs/pipeline.md).
        if version.is_some() {
            self.storage
                .delete_version(facts.key.as_str(), version)
                .await?;
            self.storage
                .delete_version(&thumbnail_key(&facts.key, version), None)
                .await?;
        }
        tracing::warn!(key = %facts.key, "a later version of a listed key: superseded");
        Ok(Outcome::Superseded)
    }

    /// Records `facts` as a duplicate of the job's photo under `of` (who sent it, when, with
    /// what EXIF), and keeps its bytes: nothing an uploader sent is lost, and it is listed once.
    async fn duplicate(
        &self,
        facts: ObjectFacts,
        uploader: Option<String>,
        of: String,
        metadata: &PhotoMetadata,
    ) -> Result<Outcome, StoreError> {
        let record = ObjectRecord {
            captured_at: metadata.captured_at.clone(),
            location: metadata.location,
            camera_model: metadata.camera_model.clone(),
            duplicate_of: Some(of.clone()),
            ..ObjectRecord::of(Verdict::Duplicate)
        };
        let first = self
            .record(self.caller, &facts, &record, uploader.as_deref())
            .await?
            .is_some();
        tracing::info!(key = %facts.key, of = %of, "the same bytes as a listed photo: a duplicate");
        Ok(if first {
            Outcome::Duplicate(of)
        } else {
            Outcome::AlreadyRecorded
        })
    }

    /// Writes the version's record (and its audit row) as `caller`: the row's audit id, or
    /// `None` where the version's record already exists.
    async fn record(
        &self,
        caller: &Caller,
        facts: &ObjectFacts,
        record: &ObjectRecord,
        uploader: Option<&str>,
    ) -> Result<Option<Uuid>, StoreError> {
        let row = self.ctx.audit.row(
            caller,
            self.job,
            AuditEvent::ObjectChecked {
                object: facts,
                record,
                uploader,
            },
        );
        Ok(self.ctx.audit.write(&row).await?.then_some(row.audit_id))
    }

    /// Lists a verified photo, unless an earlier version of its key is the photo (this one is
    /// then superseded) or the key's photo was removed (these bytes go too). A later version it
    /// displaces is superseded in turn.
    async fn publish(&self, photo: &PhotoRecord) -> Result<Published, StoreError> {
        match self.ctx.index.publish(self.job, photo).await? {
            Publication::Listed { displaced } => {
                if let Some(later) = displaced {
                    self.supersede(later.object, later.uploader).await?;
                }
                Ok(Published::Listed)
            }
            Publication::AlreadyListed => Ok(Published::Listed),
            Publication::Superseded { .. } => {
                self.supersede(photo.object.clone(), photo.uploader.clone())
                    .await?;
                Ok(Published::Superseded)
            }
            Publication::Removed(tombstone) => {
                let (key, version) = (&photo.object.key, photo.object.version_id.as_deref());
                self.storage.delete_version(key.as_str(), version).await?;
                if let Some(thumb) = &photo.record.thumbnail_key {
                    self.storage.delete_every_version(thumb).await?;
                }
                tracing::warn!(key = %key, removal = tombstone.kind.as_str(), "a version of a removed photo: removed too");
                Ok(Published::Removed)
            }
        }
    }
}

/// What became of a verified version at the listing.
enum Published {
    Listed,
    Superseded,
    Removed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_counts_where_it_belongs() {
        let m = metrics(&[
            Outcome::Listed {
                thumbnail: ThumbnailStatus::Created,
            },
            Outcome::Listed {
                thumbnail: ThumbnailStatus::Unsupported,
            },
            Outcome::Rejected(Rejection::NotDeclaredType),
            Outcome::Superseded,
            Outcome::AlreadyRecorded,
            Outcome::Ignored("not an upload key"),
        ]);
        assert_eq!(
            (m.photos_stored, m.thumbnails_created, m.uploads_rejected),
            (2, 1, 2)
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
