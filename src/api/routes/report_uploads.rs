//! `POST /upload-url` with the dashboard's older body `{"job_id", "file_count", "timestamp"}`, no
//! keys. Recorded as what it is: the client's own, unverified report (`upload_reported`, 202), at
//! the server's time, with the client's timestamp kept beside it as a claim. It never counts as a
//! completion and never makes a photo listable.

use lambda_http::http::StatusCode;
use s3_presign::UtcTime;
use serde::Serialize;

use crate::api::context::ApiContext;
use crate::api::error::ApiError;
use crate::domain::caller::Caller;
use crate::domain::job::JobId;
use crate::store::audit::AuditEvent;

/// The most files one legacy report may claim (a job drawer holds far fewer photos).
pub const MAX_REPORTED_FILES: u32 = 1000;

/// A legacy body: the client says it uploaded `file_count` files to `job`, at `client_timestamp`.
/// Nothing in it can be checked against S3, so it is recorded as a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientReport {
    pub job: JobId,
    pub file_count: u32,
    pub client_timestamp: Option<String>,
}

/// The answer to a legacy report: recorded, and said to be unverified.
#[derive(Debug, Serialize)]
pub struct ReportRecorded {
    pub audit_id: String,
    pub file_count: u32,
    pub verified: bool,
    pub recorded_at: String,
}

pub fn parse_report(
    job: JobId,
    file_count: u32,
    timestamp: Option<String>,
) -> Result<ClientReport, ApiError> {
    if file_count == 0 || file_count > MAX_REPORTED_FILES {
        return Err(ApiError::bad_request(
            "invalid_file_count",
            format!("`file_count` must be 1 to {MAX_REPORTED_FILES}."),
        ));
    }
    if let Some(t) = &timestamp {
        if !is_rfc3339(t) {
            return Err(ApiError::bad_request(
                "invalid_timestamp",
                "`timestamp` must be an RFC 3339 time, e.g. 2026-11-24T09:30:00Z.",
            ));
        }
    }
    Ok(ClientReport {
        job,
        file_count,
        client_timestamp: timestamp,
    })
}

/// `2026-11-24T09:30:00Z`, with optional fractional seconds and a `Z` or `±HH:MM` offset: what
/// `Date.toISOString()` and every other RFC 3339 writer produce. Only checked, never interpreted.
fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |range: std::ops::Range<usize>, max: u32| {
        b.get(range.clone())
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
            && s[range].parse::<u32>().is_ok_and(|n| n <= max)
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let date_time = num(0..4, 9999)
        && at(4, b'-')
        && num(5..7, 12)
        && at(7, b'-')
        && num(8..10, 31)
        && (at(10, b'T') || at(10, b't'))
        && num(11..13, 23)
        && at(13, b':')
        && num(14..16, 59)
        && at(16, b':')
        && num(17..19, 60);
    if !date_time || s.len() > 40 {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &frac[digits..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit())
                && (h1 - b'0') * 10 + (h2 - b'0') <= 23
                && (m1 - b'0') * 10 + (m2 - b'0') <= 59
        }
        _ => false,
    }
}

/// Records a legacy report as the client's claim: 202, since nothing was verified.
pub async fn handle(
    ctx: &ApiContext,
    caller: &Caller,
    report: ClientReport,
) -> Result<(StatusCode, ReportRecorded), ApiError> {
    let audit_id = ctx
        .audit
        .record(
            caller,
            &report.job,
            AuditEvent::UploadReported {
                file_count: report.file_count,
                client_timestamp: report.client_timestamp.as_deref(),
            },
        )
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        ReportRecorded {
            audit_id: audit_id.to_string(),
            file_count: report.file_count,
            verified: false,
            recorded_at: UtcTime::from_system_time(caller.now).rfc3339_millis(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc_3339_or_refused() {
        for good in [
            "2026-11-24T09:30:00Z",
            "2026-11-24t09:30:00z",
            "2026-11-24T09:30:00.1Z",
            "2026-11-24T09:30:00.123456789+05:30",
            "2026-11-24T23:59:60-08:00",
        ] {
            assert!(is_rfc3339(good), "{good}");
        }
        for bad in [
            "",
            "2026-11-24",
            "2026-11-24 09:30:00Z",
            "2026-13-24T09:30:00Z",
            "2026-11-24T24:30:00Z",
            "2026-11-24T09:30:00",
            "2026-11-24T09:30:00.Z",
            "2026-11-24T09:30:00+5:30",
            "2026-11-24T09:30:00+05:30x",
            "+026-11-24T09:30:00Z",
            "２026-11-24T09:30:00Z",
            "2026-11-24T09:30:00.1234567890123456789012Z",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }
}
