//! The audit log's write condition against the DynamoDB-compatible server: the same write twice
//! (the SDK retrying after a lost response) succeeds; any other write to an existing row is refused.

use aws_credential_types::provider::SharedCredentialsProvider;
use qdn_photos::audit::{AuditEvent, AuditRow};
use qdn_photos::context::Context;
use qdn_photos::job::JobId;
use qdn_photos::request::RequestMeta;
use s3_presign::UtcTime;
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn a_retried_write_succeeds_and_no_other_write_overwrites_a_row() {
    let stack = Stack::get();
    let ctx = Context::new(
        stack.config(&[]),
        stack.s3(),
        stack.dynamodb_at(&stack.dynamodb_endpoint, Budget::Function),
        SharedCredentialsProvider::new(stack.credentials()),
    );
    let job = JobId::parse(&new_job()).unwrap();
    let meta = RequestMeta {
        request_id: "req-1".into(),
        source_ip: "192.0.2.1".into(),
        user_agent: "t".into(),
    };
    let row = |audit_id: u128, total_bytes: i64| AuditRow {
        audit_id: Uuid::from_u128(audit_id),
        job: &job,
        principal: "token:test",
        meta: &meta,
        at: UtcTime::from_unix_secs(1_795_432_800),
        expire_at: 1_830_000_000,
        event: AuditEvent::UploadCompleted {
            keys: &[],
            total_bytes,
        },
    };

    ctx.audit.write(&row(1, 100)).await.unwrap();
    ctx.audit
        .write(&row(1, 100))
        .await
        .expect("the same write again succeeds");
    // Same partition and sort key (same time, same request id), another audit id.
    let err = ctx.audit.write(&row(2, 999)).await.unwrap_err();
    assert_eq!((err.status.as_u16(), err.code), (409, "duplicate_request"));

    let rows = stack.audit_rows(job.as_str()).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0]["audit_id"].as_s().unwrap(),
        &Uuid::from_u128(1).to_string()
    );
    assert_eq!(
        rows[0]["total_bytes"].as_n().unwrap(),
        "100",
        "the first row is untouched"
    );
}
