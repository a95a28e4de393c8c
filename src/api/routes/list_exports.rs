//! `GET /exports?job_id=…`: the job's newest evidence exports, newest first: who asked and when,
//! and each one's state: `requested` (being built), `ready` (photos, size, the manifest's SHA-256
//! to hand over apart from the archive, and a short-lived download URL), `expired` (the archive
//! is kept [`ARCHIVE_DAYS`] days), `failed` or `withdrawn` (a photo in it was removed), each with
//! why.

use lambda_http::http::StatusCode;
use s3_presign::{GetPresigner, GetUrlOptions, UtcTime};
use serde::Serialize;

use crate::api::context::ApiContext;
use crate::api::error::ApiError;
use crate::api::routes::request_export::ExportRequest;
use crate::domain::caller::Caller;
use crate::domain::job::{v7_secs, ARCHIVE_DAYS};
use crate::store::records::ExportState;

/// Whether the archive of an export asked for at `export_id`'s time is still kept at `now`.
pub fn archive_kept(export_id: &str, now: UtcTime) -> bool {
    v7_secs(export_id).is_some_and(|at| now.unix_secs.saturating_sub(at) < ARCHIVE_DAYS * 86_400)
}

/// The exports one page lists.
const SHOWN: i32 = 20;

#[derive(Debug, Serialize)]
pub struct Exports {
    pub job_id: String,
    pub exports: Vec<Export>,
}

#[derive(Debug, Serialize)]
pub struct Export {
    pub export_id: String,
    /// `requested`, `ready`, `expired`, `failed` or `withdrawn`.
    pub state: &'static str,
    pub requested_by: String,
    pub requested_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photos: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

pub async fn handle(
    ctx: &ApiContext,
    caller: &Caller,
    input: ExportRequest,
) -> Result<(StatusCode, Exports), ApiError> {
    let config = &ctx.config;
    let job = input.job;
    let rows = ctx.index.exports(&job, SHOWN).await?;
    let creds = ctx.signing.credentials().await?;
    let (session, expires_secs) = ctx.signing.window_session(
        &creds,
        caller.now,
        config.photo_url_window_secs,
        config.photo_url_ttl_secs,
    )?;
    let now = UtcTime::from_system_time(caller.now);
    let exports = rows
        .into_iter()
        .map(|row| {
            let mut export = Export {
                state: row.state.name(),
                requested_by: row.requested_by,
                requested_at: row.requested_at,
                photos: None,
                size: None,
                manifest_sha256: None,
                url: None,
                reason: None,
                export_id: row.export_id,
            };
            match row.state {
                ExportState::Requested => {}
                ExportState::Failed { reason } | ExportState::Withdrawn { reason } => {
                    export.reason = Some(reason)
                }
                ExportState::Ready {
                    archive_key,
                    size,
                    photos,
                    manifest_sha256,
                } => {
                    export.photos = Some(photos);
                    export.size = Some(size);
                    export.manifest_sha256 = Some(manifest_sha256);
                    if archive_kept(&export.export_id, now) {
                        let disposition = format!(
                            "attachment; filename=\"{job}-evidence-{}.zip\"",
                            &export.export_id[..8]
                        );
                        let options = GetUrlOptions {
                            expires_secs,
                            response_cache_control: Some("private, no-store"),
                            response_content_disposition: Some(&disposition),
                            x_id: Some("GetObject"),
                        };
                        let presigner =
                            GetPresigner::new(&session, &config.bucket_endpoint, &options);
                        export.url = Some(presigner.presign(&archive_key));
                    } else {
                        export.state = "expired";
                    }
                }
            }
            export
        })
        .collect();
    Ok((
        StatusCode::OK,
        Exports {
            job_id: job.to_string(),
            exports,
        },
    ))
}
