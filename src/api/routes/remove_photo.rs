//! `DELETE /photos?job_id=…&key=…[&reason=…]`: a listed photo leaves the job. Its uploader may
//! retract it within the retraction window (a photo taken by mistake); a job's admin (every job in
//! scope: the admin group, a `*` token) may erase it at any time, with a reason (an erasure
//! request). Either way the tombstone and its audit row are written first (who, when, why, the
//! hash of what went), then the job's open exports are withdrawn (their archives hold copies),
//! then every stored version of the photo, of its thumbnails, of its recorded duplicates and of
//! the job's archives is removed. A repeated request (a lost answer, a removal cut short) finds
//! the tombstone, finishes the removal and answers the same.

use lambda_http::http::StatusCode;
use lambda_http::Request;
use s3_presign::UtcTime;
use serde::Serialize;

use crate::api::context::ApiContext;
use crate::api::error::ApiError;
use crate::api::request::query_param;
use crate::api::routes::list_exports::archive_kept;
use crate::domain::caller::{Caller, JobScope};
use crate::domain::job::{archive_export_id, v7_secs, JobId, UploadKey, ARCHIVES_PREFIX};
use crate::store::audit::AuditEvent;
use crate::store::error::StoreError;
use crate::store::index::Listing;
use crate::store::records::{ExportState, PhotoRecord, RemovalKind, Tombstone};
use crate::store::storage::Storage;

/// Long enough for a sentence or two, short enough to stay a reason.
pub const MAX_REASON_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovalRequest {
    pub job: JobId,
    pub key: UploadKey,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Removed {
    pub job_id: String,
    pub key: String,
    /// `retracted` or `erased`.
    pub removal: &'static str,
    pub removed_by: String,
    pub removed_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The SHA-256 of the bytes removed, as the pipeline had recorded them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub audit_id: String,
    /// Other keys of the job with the same bytes, removed with it.
    pub duplicates: Vec<String>,
}

pub fn parse(req: &Request) -> Result<RemovalRequest, ApiError> {
    let job_id = query_param(req, "job_id")?.ok_or_else(|| {
        ApiError::bad_request("missing_job_id", "Query parameter `job_id` is required.")
    })?;
    let job = JobId::parse(job_id)?;
    let raw_key = query_param(req, "key")?.ok_or_else(|| {
        ApiError::bad_request(
            "missing_key",
            "Query parameter `key` is required: the photo's key, as /photos lists it.",
        )
    })?;
    let key = UploadKey::parse_stored(&job, raw_key).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_key",
            "`key` must be one of this job's photo keys, as /photos lists it.",
        )
    })?;
    let reason = match query_param(req, "reason")?.map(str::trim) {
        None | Some("") => None,
        Some(text) if text.chars().count() > MAX_REASON_CHARS => {
            return Err(ApiError::bad_request(
                "invalid_reason",
                format!("`reason` may be at most {MAX_REASON_CHARS} characters."),
            ))
        }
        Some(text) if text.chars().any(char::is_control) => {
            return Err(ApiError::bad_request(
                "invalid_reason",
                "`reason` must be one line of text.",
            ))
        }
        Some(text) => Some(text.to_owned()),
    };
    Ok(RemovalRequest { job, key, reason })
}

/// Until when `caller` may retract `photo`: its uploader, inside the window from S3 storing it.
pub fn retractable_until(
    caller: &Caller,
    photo: &PhotoRecord,
    window_secs: u64,
) -> Option<UtcTime> {
    let stored = photo.object.last_modified?;
    let is_uploader = photo.uploader.as_deref() == Some(caller.principal.as_str());
    let until = UtcTime::from_unix_secs(stored.unix_secs + window_secs);
    let now = UtcTime::from_system_time(caller.now);
    (is_uploader && window_secs > 0 && now.unix_secs < until.unix_secs).then_some(until)
}

/// Whether `caller` may remove `photo`, and how: an admin giving a reason erases; its uploader
/// within the window retracts (an admin's own recent photo too, reason or not).
pub fn decide(
    caller: &Caller,
    photo: &PhotoRecord,
    reason: Option<&str>,
    window_secs: u64,
) -> Result<RemovalKind, ApiError> {
    let is_admin = caller.scope == JobScope::All;
    if is_admin && reason.is_some() {
        return Ok(RemovalKind::Erased);
    }
    if retractable_until(caller, photo, window_secs).is_some() {
        return Ok(RemovalKind::Retracted);
    }
    let is_uploader = photo.uploader.as_deref() == Some(caller.principal.as_str());
    match (is_admin, is_uploader) {
        (true, _) => Err(ApiError::bad_request(
            "reason_required",
            "Erasing a photo needs a `reason`, kept in its record.",
        )),
        (false, true) if window_secs == 0 => Err(ApiError::forbidden(
            "retract_window_passed",
            "Photos cannot be retracted here; ask the job's admin to erase it.",
        )),
        (false, true) => Err(ApiError::forbidden(
            "retract_window_passed",
            format!(
                "Photos can be retracted within {} minutes of upload; ask the job's admin to erase it.",
                window_secs / 60
            ),
        )),
        (false, false) => Err(ApiError::forbidden(
            "not_your_photo",
            "Only the photo's uploader may retract it; the job's admin may erase it, with a reason.",
        )),
    }
}

pub async fn handle(
    ctx: &ApiContext,
    caller: &Caller,
    input: RemovalRequest,
) -> Result<(StatusCode, Removed), ApiError> {
    let RemovalRequest { job, key, reason } = input;
    let tombstone = match ctx.index.listing_of(&job, &key).await? {
        None => {
            return Err(ApiError::no_such(
                "photo_not_found",
                format!("Job `{job}` lists no photo `{key}`."),
            ))
        }
        Some(Listing::Removed(tombstone)) => tombstone,
        Some(Listing::Photo(photo)) => {
            let kind = decide(
                caller,
                &photo,
                reason.as_deref(),
                ctx.config.retract_window_secs,
            )?;
            record_removal(ctx, caller, &job, &photo, kind, reason.as_deref()).await?
        }
    };
    withdraw_exports(ctx, caller, &job, &tombstone).await?;
    remove_bytes(&ctx.storage, &job, &tombstone).await?;
    Ok((
        StatusCode::OK,
        Removed {
            job_id: job.to_string(),
            key: tombstone.key.to_string(),
            removal: tombstone.kind.as_str(),
            removed_by: tombstone.removed_by,
            removed_at: tombstone.removed_at,
            reason: tombstone.reason,
            sha256: tombstone.sha256.map(|h| h.hex()),
            audit_id: tombstone.audit_id,
            duplicates: tombstone.duplicates,
        },
    ))
}

/// Writes the tombstone over the listed photo, with its audit row, and reads it back. Another
/// removal that won the race is answered as this one's; a photo listed anew since it was read
/// (a version published in between) is a 409 to retry.
async fn record_removal(
    ctx: &ApiContext,
    caller: &Caller,
    job: &JobId,
    photo: &PhotoRecord,
    kind: RemovalKind,
    reason: Option<&str>,
) -> Result<Tombstone, ApiError> {
    let key = &photo.object.key;
    let duplicates = ctx.index.duplicates_of(job, key).await?;
    let holds_claim = match &photo.object.sha256 {
        Some(hash) => ctx.index.hash_holder(job, hash).await?.as_deref() == Some(key.as_str()),
        None => false,
    };
    let event = AuditEvent::PhotoRemoved {
        photo,
        kind,
        reason,
        duplicates: &duplicates,
        holds_claim,
    };
    match ctx.audit.record(caller, job, event).await {
        Ok(_) | Err(StoreError::Duplicate) => {}
        Err(other) => return Err(other.into()),
    }
    match ctx.index.listing_of(job, key).await? {
        Some(Listing::Removed(tombstone)) => Ok(tombstone),
        _ => Err(ApiError::conflict(
            "photo_changed",
            "The photo changed while it was being removed; nothing was removed. Try again.",
        )),
    }
}

/// The newest exports a removal looks at: more than a week of them is more than anyone asks for,
/// and the archives of any older ones go with the job's others all the same.
const EXPORTS_LOOKED_AT: i32 = 100;
/// How long after its tombstone's audit id was made the tombstone may still have been on its way
/// (it is written within the API's request): an export asked for later reads it and holds none
/// of the photo, so it is neither withdrawn nor deleted, by this removal or a repeat of it.
const TOMBSTONE_MARGIN_SECS: u64 = 60;

/// Whether an export asked for at `export_id`'s time may hold the photo `tombstone` removed.
/// An id that tells no time may (fail closed).
fn may_hold(export_id: &str, tombstone: &Tombstone) -> bool {
    match (v7_secs(export_id), v7_secs(&tombstone.audit_id)) {
        (Some(asked), Some(removed)) => asked < removed + TOMBSTONE_MARGIN_SECS,
        _ => true,
    }
}

/// Withdraws every export of the job that may hold the photo and is being built or whose
/// archive is kept, each with its own audit row (`export_withdrawn`, by the remover): an archive
/// holds copies of the photos, and one being built may have read this photo before its
/// tombstone. An export settling after this finds its row withdrawn and removes what it stored;
/// one settling before has its archive removed by [`remove_bytes`].
async fn withdraw_exports(
    ctx: &ApiContext,
    caller: &Caller,
    job: &JobId,
    tombstone: &Tombstone,
) -> Result<(), StoreError> {
    let now = UtcTime::from_system_time(caller.now);
    let reason = format!(
        "{} was {} after this export was asked for.",
        tombstone.key,
        tombstone.kind.as_str()
    );
    let state = ExportState::Withdrawn { reason };
    for export in ctx.index.exports(job, EXPORTS_LOOKED_AT).await? {
        if !may_hold(&export.export_id, tombstone) {
            continue;
        }
        let open = match export.state {
            ExportState::Requested => true,
            ExportState::Ready { .. } => archive_kept(&export.export_id, now),
            ExportState::Failed { .. } | ExportState::Withdrawn { .. } => false,
        };
        if !open {
            continue;
        }
        // One audit row per export: its own request id keeps the rows apart.
        let mut withdrawer = caller.clone();
        withdrawer.meta.request_id =
            format!("{}/withdraw/{}", caller.meta.request_id, export.export_id);
        let event = AuditEvent::ExportSettled {
            export_id: &export.export_id,
            requested_by: &export.requested_by,
            requested_at: &export.requested_at,
            state: &state,
        };
        match ctx.audit.record(&withdrawer, job, event).await {
            // Duplicate: settled `failed` or withdrawn by another removal since it was read.
            Ok(_) | Err(StoreError::Duplicate) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// Every version of the photo, of its thumbnails and of its duplicates (and theirs), and the
/// job's evidence archives that may hold copies of it (an export asked for afterwards has none).
async fn remove_bytes(
    storage: &Storage,
    job: &JobId,
    tombstone: &Tombstone,
) -> Result<(), StoreError> {
    let keys = std::iter::once(tombstone.key.as_str())
        .chain(tombstone.duplicates.iter().map(String::as_str));
    for key in keys {
        storage.delete_every_version(key).await?;
        storage
            .delete_every_version(&format!("thumbs/{key}"))
            .await?;
    }
    let archive_may_hold = |key: &str| may_hold(archive_export_id(key), tombstone);
    storage
        .delete_every_version_where(&format!("{ARCHIVES_PREFIX}{job}"), archive_may_hold)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev::api_events::ApiEvent;
    use crate::domain::caller::RequestMeta;
    use crate::domain::content_hash::ContentHash;
    use crate::store::records::{ObjectFacts, ObjectRecord, ThumbnailStatus, Verdict};
    use std::time::{Duration, SystemTime};

    const KEY: &str = "jobs/j-1/0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b.jpg";
    const STORED: u64 = 1_795_432_000;

    fn caller(principal: &str, scope: JobScope, minutes_after: u64) -> Caller {
        Caller {
            principal: principal.into(),
            scope,
            meta: RequestMeta {
                request_id: "r-1".into(),
                source_ip: "192.0.2.1".into(),
                user_agent: "test".into(),
            },
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(STORED + minutes_after * 60),
        }
    }

    fn photo(uploader: Option<&str>) -> PhotoRecord {
        let job = JobId::parse("j-1").unwrap();
        PhotoRecord {
            audit_id: "a-1".into(),
            object: ObjectFacts {
                key: UploadKey::parse_stored(&job, KEY).unwrap(),
                size: 10,
                etag: None,
                version_id: Some("v1".into()),
                sequencer: "0A".into(),
                content_type: "image/jpeg".into(),
                last_modified: Some(UtcTime::from_unix_secs(STORED)),
                sha256: Some(ContentHash::of(b"photo")),
            },
            record: ObjectRecord::of(Verdict::Verified(ThumbnailStatus::Created)),
            uploader: uploader.map(str::to_owned),
        }
    }

    fn worker() -> JobScope {
        JobScope::Jobs(vec![JobId::parse("j-1").unwrap()])
    }

    #[test]
    fn the_uploader_retracts_within_the_window_and_not_after() {
        let mine = photo(Some("jwt:alice"));
        let decide_at =
            |minutes, reason| decide(&caller("jwt:alice", worker(), minutes), &mine, reason, 3600);
        assert_eq!(decide_at(59, None), Ok(RemovalKind::Retracted));
        assert_eq!(decide_at(0, Some("blurred")), Ok(RemovalKind::Retracted));
        let late = decide_at(60, None).unwrap_err();
        assert_eq!(
            (late.status.as_u16(), late.code),
            (403, "retract_window_passed")
        );
        assert!(late.message.contains("60 minutes"), "{}", late.message);
        // A window of 0 turns retraction off.
        let off = decide(&caller("jwt:alice", worker(), 0), &mine, None, 0).unwrap_err();
        assert_eq!(off.code, "retract_window_passed");
    }

    #[test]
    fn the_uploader_is_told_until_when_and_nobody_else_is() {
        let mine = photo(Some("jwt:alice"));
        let until = retractable_until(&caller("jwt:alice", worker(), 5), &mine, 3600);
        assert_eq!(until, Some(UtcTime::from_unix_secs(STORED + 3600)));
        assert_eq!(
            retractable_until(&caller("jwt:bob", JobScope::All, 5), &mine, 3600),
            None
        );
        assert_eq!(
            retractable_until(&caller("jwt:alice", worker(), 60), &mine, 3600),
            None
        );
        assert_eq!(
            retractable_until(&caller("jwt:alice", worker(), 0), &mine, 0),
            None
        );
    }

    #[test]
    fn someone_elses_photo_is_refused_and_an_admin_erases_only_with_a_reason() {
        let alices = photo(Some("jwt:alice"));
        let bob = caller("jwt:bob", worker(), 1);
        let refused = decide(&bob, &alices, None, 3600).unwrap_err();
        assert_eq!(
            (refused.status.as_u16(), refused.code),
            (403, "not_your_photo")
        );
        // A worker's reason changes nothing: erasure is the admin's.
        assert_eq!(
            decide(&bob, &alices, Some("face"), 3600).unwrap_err().code,
            "not_your_photo"
        );
        let admin = caller("jwt:office", JobScope::All, 10_000);
        assert_eq!(
            decide(&admin, &alices, Some("a face"), 3600),
            Ok(RemovalKind::Erased)
        );
        let no_reason = decide(&admin, &alices, None, 3600).unwrap_err();
        assert_eq!(
            (no_reason.status.as_u16(), no_reason.code),
            (400, "reason_required")
        );
        // An imported photo has no uploader: only an admin removes it.
        let imported = photo(None);
        assert_eq!(
            decide(&bob, &imported, None, 3600).unwrap_err().code,
            "not_your_photo"
        );
        assert_eq!(
            decide(&admin, &imported, Some("x"), 0),
            Ok(RemovalKind::Erased)
        );
    }

    #[test]
    fn a_removal_names_a_key_of_its_job_and_at_most_one_line_of_reason() {
        let parse_query =
            |query: &str| parse(&ApiEvent::delete(&format!("/photos?{query}")).request());
        let ok = parse_query(&format!("job_id=j-1&key={KEY}&reason=%20a%20face%20")).unwrap();
        assert_eq!(
            (ok.key.as_str(), ok.reason.as_deref()),
            (KEY, Some("a face"))
        );
        assert_eq!(
            parse_query(&format!("job_id=j-1&key={KEY}&reason="))
                .unwrap()
                .reason,
            None
        );
        for (query, code) in [
            (format!("key={KEY}"), "missing_job_id"),
            ("job_id=j-1".to_owned(), "missing_key"),
            (format!("job_id=j-2&key={KEY}"), "invalid_key"),
            (
                "job_id=j-1&key=jobs/j-1/../j-2/x.jpg".to_owned(),
                "invalid_key",
            ),
            (
                format!("job_id=j-1&key={KEY}&reason=a%0Ab"),
                "invalid_reason",
            ),
            (
                format!("job_id=j-1&key={KEY}&reason={}", "x".repeat(501)),
                "invalid_reason",
            ),
            (
                format!("job_id=j-1&key={KEY}&key={KEY}"),
                "repeated_parameter",
            ),
        ] {
            let err = parse_query(&query).unwrap_err();
            assert_eq!((err.status.as_u16(), err.code), (400, code), "{query:.60}");
        }
    }

    #[test]
    fn only_exports_asked_for_before_the_tombstone_could_be_written_may_hold_the_photo() {
        let at = |secs: u64| {
            uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, secs, 0)).to_string()
        };
        let tombstone = Tombstone {
            kind: RemovalKind::Erased,
            key: photo(None).object.key,
            version_id: None,
            sha256: None,
            uploader: None,
            removed_by: "jwt:office".into(),
            removed_at: "2026-11-23T11:00:00.000Z".into(),
            reason: Some("wrong house".into()),
            audit_id: at(STORED),
            verified_audit_id: "a-1".into(),
            duplicates: vec![],
        };
        assert!(may_hold(&at(STORED - 3600), &tombstone));
        assert!(may_hold(
            &at(STORED + TOMBSTONE_MARGIN_SECS - 1),
            &tombstone
        ));
        assert!(!may_hold(&at(STORED + TOMBSTONE_MARGIN_SECS), &tombstone));
        assert!(may_hold("earlier", &tombstone), "an id that tells no time");
        let untimed = Tombstone {
            audit_id: "a-2".into(),
            ..tombstone
        };
        assert!(may_hold(&at(STORED + 86_400), &untimed));
    }
}
