//! The audit log's write conditions against the DynamoDB-compatible server: the same transaction
//! twice (the SDK retrying after a lost response) succeeds; any other write to an existing row,
//! audit or index, is refused and writes nothing.

use aws_credential_types::provider::SharedCredentialsProvider;
use qdn_photos::api::context::ApiContext;
use qdn_photos::domain::caller::RequestMeta;
use qdn_photos::domain::image_type::ImageType;
use qdn_photos::domain::job::{JobId, UploadKey};
use qdn_photos::store::audit::{AuditEvent, AuditRow};
use qdn_photos::store::records::StoredObject;
use s3_presign::UtcTime;
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn a_retried_write_succeeds_and_no_other_write_overwrites_a_row() {
    let stack = Stack::get();
    let ctx = ApiContext::new(
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
    let stored = |key: &UploadKey| StoredObject {
        key: key.clone(),
        size: 100,
        etag: "\"e\"".into(),
        version_id: None,
        last_modified: None,
    };
    let jpeg = ImageType::by_mime("image/jpeg").unwrap();
    let photo = [stored(&UploadKey::generate(&job, jpeg))];
    let other_photo = [stored(&UploadKey::generate(&job, jpeg))];
    let row =
        |audit_id, total_bytes, objects| completion(&job, &meta, audit_id, total_bytes, objects);

    assert!(ctx.audit.write(&row(1, 100, &photo)).await.unwrap());
    assert!(
        ctx.audit.write(&row(1, 100, &photo)).await.unwrap(),
        "the same write again succeeds"
    );
    // Same partition and sort key (same time, same request id), another audit id.
    assert!(!ctx.audit.write(&row(2, 999, &other_photo)).await.unwrap());
    // Another event completing the same photo: refused as a whole, its audit row not written.
    let mut later = row(3, 999, &photo);
    later.at = UtcTime::from_unix_secs(1_795_432_801);
    assert!(!ctx.audit.write(&later).await.unwrap());

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
    let photos = stack.index_rows(job.as_str(), "COMPLETED#").await;
    assert_eq!(photos.len(), 1, "the refused writes left no completion row");
    assert_eq!(photos[0]["audit_id"], rows[0]["audit_id"]);
}

fn completion<'a>(
    job: &'a JobId,
    meta: &'a RequestMeta,
    audit_id: u128,
    total_bytes: i64,
    objects: &'a [StoredObject],
) -> AuditRow<'a> {
    AuditRow {
        audit_id: Uuid::from_u128(audit_id),
        job,
        principal: "token:test",
        meta,
        at: UtcTime::from_unix_secs(1_795_432_800),
        expire_at: 1_830_000_000,
        event: AuditEvent::UploadCompleted {
            objects,
            total_bytes,
        },
    }
}
