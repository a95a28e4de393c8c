//! The audit log's write condition against the DynamoDB-compatible server: the same write twice
//! (the SDK retrying after a lost response) succeeds; any other write to an existing row is refused.

mod support;

use aws_sdk_dynamodb::types::AttributeValue;
use qdn_photos::audit::{record, AuditEvent, EVENT_UPLOAD_COMPLETED};
use qdn_photos::request::RequestMeta;
use qdn_photos::utc::UtcTime;
use support::*;

fn event<'a>(
    audit_id: &'a str,
    job: &'a str,
    meta: &'a RequestMeta,
    files: &str,
) -> AuditEvent<'a> {
    AuditEvent {
        audit_id,
        event: EVENT_UPLOAD_COMPLETED,
        job_id: job,
        principal: "token:test",
        meta,
        at: UtcTime::from_unix_secs(1_795_432_800),
        expire_at: 1_830_000_000,
        attributes: vec![("file_count", AttributeValue::N(files.to_owned()))],
    }
}

#[tokio::test]
async fn retries_are_idempotent_and_rows_are_never_overwritten() {
    let stack = Stack::get();
    let dynamodb = stack.dynamodb();
    let job = new_job();
    let meta = RequestMeta {
        request_id: "req-1".into(),
        source_ip: "192.0.2.1".into(),
        user_agent: "t".into(),
    };

    record(&dynamodb, &stack.table, event("id-1", &job, &meta, "1"))
        .await
        .unwrap();
    record(&dynamodb, &stack.table, event("id-1", &job, &meta, "1"))
        .await
        .expect("the same write again succeeds");
    let err = record(&dynamodb, &stack.table, event("id-2", &job, &meta, "9"))
        .await
        .unwrap_err();
    assert_eq!((err.status.as_u16(), err.code), (409, "duplicate_request"));

    let rows = stack.audit_rows(&job).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["audit_id"].as_s().unwrap(), "id-1");
    assert_eq!(
        rows[0]["file_count"].as_n().unwrap(),
        "1",
        "the first row is untouched"
    );
}
