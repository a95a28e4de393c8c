//! One export built: the archive `qdn-photos export` writes (every original at its pinned version
//! checked against its recorded SHA-256, thumbnails, manifest, contact sheet, manifest hash), into
//! the scratch directory, then stored at `exports/{job}/{export id}.zip`, then its `EXPORT#` row
//! settled with an audit row. S3 holding other bytes than the record vouches for settles it
//! `failed` (no retry mends that); an outage fails the invocation, for the queue to try again.
//! An export withdrawn while it was built (a photo removed meanwhile) keeps no archive.

use std::path::Path;
use std::time::SystemTime;

use s3_presign::UtcTime;

use crate::domain::caller::{Caller, JobScope, RequestMeta};
use crate::domain::job::{archive_key, JobId};
use crate::evidence::archive::{self, ArchiveError};
use crate::exports::ExportsContext;
use crate::store::audit::AuditEvent;
use crate::store::error::StoreError;
use crate::store::export_queue::ExportMessage;
use crate::store::records::{ExportRecord, ExportState};

/// The principal of the rows the export function writes.
pub const PRINCIPAL: &str = "lambda:export";

/// Builds the export `message` names; what became of it, for the log.
pub async fn build(
    ctx: &ExportsContext,
    message: &ExportMessage,
    scratch: &Path,
) -> Result<String, StoreError> {
    let Ok(job) = JobId::parse(&message.job_id) else {
        return Ok("ignored: not a job id".into());
    };
    let Some(row) = ctx.index.export(&job, &message.export_id).await? else {
        return Ok("ignored: no such export".into());
    };
    if row.state != ExportState::Requested {
        // A message delivered again after the export was settled (or withdrawn).
        return Ok(format!("already {}", row.state.name()));
    }
    let built = assemble(ctx, &job, &row.export_id, scratch).await?;
    settle(ctx, &job, &row, built).await
}

/// An archive assembled and stored, or the reason there is none; not yet settled.
#[derive(Debug)]
pub struct Built {
    pub state: ExportState,
    /// The archive's version, where the bucket keeps versions.
    pub stored_version: Option<String>,
}

/// Writes the archive into `scratch` and stores it. `Err` for an outage (or a full disk), which
/// the queue may get past by trying again.
pub async fn assemble(
    ctx: &ExportsContext,
    job: &JobId,
    export_id: &str,
    scratch: &Path,
) -> Result<Built, StoreError> {
    let file = scratch.join(format!("{export_id}.zip"));
    let now = UtcTime::from_system_time(SystemTime::now());
    let built = archive::write(
        &ctx.index,
        &ctx.storage,
        &ctx.config.bucket,
        job,
        &file,
        now,
    )
    .await;
    match built {
        Ok(done) => {
            let key = archive_key(job, export_id);
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            let stored = ctx.storage.put_archive(&key, &file).await;
            let _ = std::fs::remove_file(&file);
            Ok(Built {
                stored_version: stored?,
                state: ExportState::Ready {
                    archive_key: key,
                    size,
                    photos: done.photos as u64,
                    manifest_sha256: done.manifest_sha256,
                },
            })
        }
        Err(err) => match err {
            ArchiveError::Store(store) => Err(store),
            ArchiveError::Disk(_) => {
                tracing::warn!(error = %err, "export: the archive could not be written");
                Err(StoreError::Internal)
            }
            ArchiveError::Unvouched(reason) => Ok(Built {
                state: ExportState::Failed { reason },
                stored_version: None,
            }),
        },
    }
}

/// Settles the requested export `row` as `built`, with its audit row; what became of it, for the
/// log.
pub async fn settle(
    ctx: &ExportsContext,
    job: &JobId,
    row: &ExportRecord,
    built: Built,
) -> Result<String, StoreError> {
    let export_id = &row.export_id;
    let caller = Caller {
        principal: PRINCIPAL.into(),
        scope: JobScope::All,
        meta: RequestMeta {
            request_id: format!("export-{export_id}"),
            source_ip: String::new(),
            user_agent: "sqs export".into(),
        },
        now: SystemTime::now(),
    };
    let event = AuditEvent::ExportSettled {
        export_id,
        requested_by: &row.requested_by,
        requested_at: &row.requested_at,
        state: &built.state,
    };
    match ctx.audit.record(&caller, job, event).await {
        Ok(_) => Ok(built.state.name().into()),
        // Settled already: by this export's own earlier try, or withdrawn meanwhile, when what
        // this try stored must go (the removal that withdrew it may have swept the prefix first).
        Err(StoreError::Duplicate) => match ctx.index.export(job, export_id).await? {
            Some(ExportRecord {
                state: ExportState::Withdrawn { .. },
                ..
            }) => {
                if let ExportState::Ready { archive_key, .. } = &built.state {
                    ctx.storage
                        .delete_version(archive_key, built.stored_version.as_deref())
                        .await?;
                }
                Ok("withdrawn while it was built; its archive removed".into())
            }
            _ => Ok(built.state.name().into()),
        },
        Err(err) => Err(err),
    }
}
