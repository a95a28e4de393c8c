//! `POST /exports?job_id=…`: an evidence export of the job (the archive `qdn-photos export`
//! writes: originals at their pinned versions checked against their hashes, manifest, contact
//! sheet, manifest hash), built by the export function outside this request. Audited first, then
//! queued: `202` with the export's id, which `GET /exports` follows. An export of the job already
//! asked for and still being built (younger than [`IN_FLIGHT_SECS`]) is answered instead of a
//! second one: asking again does not build the job twice.

use lambda_http::http::StatusCode;
use lambda_http::Request;
use s3_presign::UtcTime;
use serde::Serialize;
use uuid::Uuid;

use crate::api::context::ApiContext;
use crate::api::error::ApiError;
use crate::api::request::query_param;
use crate::domain::caller::Caller;
use crate::domain::job::{v7_secs, JobId};
use crate::store::audit::AuditEvent;
use crate::store::records::{ExportRecord, ExportState};

/// How long a requested export counts as being built: an export function's longest run.
pub const IN_FLIGHT_SECS: u64 = 15 * 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRequest {
    pub job: JobId,
}

#[derive(Debug, Serialize)]
pub struct Requested {
    pub job_id: String,
    pub export_id: String,
    pub state: &'static str,
    pub requested_by: String,
    pub requested_at: String,
}

/// `job_id`, as every route reads it.
pub fn parse(req: &Request) -> Result<ExportRequest, ApiError> {
    let job_id = query_param(req, "job_id")?.ok_or_else(|| {
        ApiError::bad_request("missing_job_id", "Query parameter `job_id` is required.")
    })?;
    Ok(ExportRequest {
        job: JobId::parse(job_id)?,
    })
}

/// The export still being built, if one was asked for less than [`IN_FLIGHT_SECS`] ago.
pub fn in_flight(exports: &[ExportRecord], now: UtcTime) -> Option<&ExportRecord> {
    exports.iter().find(|e| {
        e.state == ExportState::Requested
            && v7_secs(&e.export_id)
                .is_some_and(|at| now.unix_secs.saturating_sub(at) < IN_FLIGHT_SECS)
    })
}

pub async fn handle(
    ctx: &ApiContext,
    caller: &Caller,
    input: ExportRequest,
) -> Result<(StatusCode, Requested), ApiError> {
    let job = input.job;
    let queue = ctx.exports.as_ref().ok_or_else(|| {
        ApiError::no_such(
            "exports_off",
            "Evidence exports are not set up on this deployment.",
        )
    })?;
    let now = UtcTime::from_system_time(caller.now);
    let recent = ctx.index.exports(&job, 5).await?;
    if let Some(building) = in_flight(&recent, now) {
        return Ok((StatusCode::ACCEPTED, requested(&job, building.clone())));
    }
    let export_id = Uuid::now_v7().to_string();
    let event = AuditEvent::ExportRequested {
        export_id: &export_id,
    };
    ctx.audit.record(caller, &job, event).await?;
    // What the row just written says: asked for by the caller, at the request's time.
    let row = ExportRecord {
        export_id,
        requested_by: caller.principal.clone(),
        requested_at: now.rfc3339_millis(),
        state: ExportState::Requested,
    };
    if let Err(err) = queue.send(&job, &row.export_id).await {
        // Not left "requested" for good: a retry asks for a new one.
        let failed = ExportState::Failed {
            reason: "The export could not be queued.".into(),
        };
        let settled = AuditEvent::ExportSettled {
            export_id: &row.export_id,
            requested_by: &row.requested_by,
            requested_at: &row.requested_at,
            state: &failed,
        };
        let mut later = caller.clone();
        later.meta.request_id.push_str("/unqueued");
        let _ = ctx.audit.record(&later, &job, settled).await;
        return Err(err.into());
    }
    Ok((StatusCode::ACCEPTED, requested(&job, row)))
}

fn requested(job: &JobId, row: ExportRecord) -> Requested {
    Requested {
        job_id: job.to_string(),
        export_id: row.export_id,
        state: row.state.name(),
        requested_by: row.requested_by,
        requested_at: row.requested_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_796_220_000;

    /// An export asked for `minutes_ago`.
    fn export(state: ExportState, minutes_ago: u64) -> ExportRecord {
        let at = uuid::Timestamp::from_unix(uuid::NoContext, NOW - minutes_ago * 60, 0);
        ExportRecord {
            export_id: Uuid::new_v7(at).to_string(),
            requested_by: "jwt:office".into(),
            requested_at: String::new(),
            state,
        }
    }

    #[test]
    fn only_a_requested_export_younger_than_a_run_is_in_flight() {
        let now = UtcTime::from_unix_secs(NOW);
        let young = export(ExportState::Requested, 10);
        assert_eq!(v7_secs(&young.export_id), Some(NOW - 600));
        assert_eq!(in_flight(std::slice::from_ref(&young), now), Some(&young));
        assert_eq!(in_flight(&[export(ExportState::Requested, 20)], now), None);
        let failed = ExportState::Failed { reason: "x".into() };
        assert_eq!(in_flight(&[export(failed, 1)], now), None);
        assert_eq!(v7_secs("not-a-uuid"), None);
    }
}
