//! The audit log: one DynamoDB row per issued credential, reported completion and checked object,
//! written in one transaction with its index rows (a GRANT row per issued key, a COMPLETED row
//! per reported key, an OBJECT row per checked version: see [`crate::store::keys`]). Every row is written with a condition so that no other write
//! can ever overwrite an existing row; the SDK's own retry of the same transaction (its first
//! attempt may have landed before a timeout) matches on `audit_id` and succeeds, rather than
//! being mistaken for a collision.
//!
//! Routes say *what* happened ([`AuditEvent`]); how that becomes rows is decided here alone.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::builders::PutBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use s3_presign::UtcTime;
use uuid::Uuid;

use crate::domain::caller::{Caller, RequestMeta};
use crate::domain::content_hash::ContentHash;
use crate::domain::job::{JobId, UploadKey, UploadMethod};
use crate::store::error::{Dependency, StoreError};
use crate::store::keys::{
    audit_sort_key, completed_sort_key, export_sort_key, grant_sort_key, hash_sort_key,
    object_sort_key, partition_key, photo_sort_key, EXPORT, HASH, OBJECT, PHOTO,
};
use crate::store::quota::{Counter, CounterError};
use crate::store::records::{
    checked_attributes, object_attributes, removal_attributes, ExportState, ObjectFacts,
    ObjectRecord, PhotoRecord, RemovalKind, StoredObject, Tombstone, Verdict,
};

/// What happened, with the facts the row keeps about it.
#[derive(Debug, Clone, Copy)]
pub enum AuditEvent<'a> {
    /// A presigned POST was issued (written before it is signed: no row, no credential).
    UploadUrlIssued {
        key: &'a UploadKey,
        /// POST (a form, up to `max_bytes`) or PUT (exactly `max_bytes`).
        method: UploadMethod,
        max_bytes: u64,
        expires_at: UtcTime,
        /// The body's SHA-256, when the grant binds one.
        sha256: Option<ContentHash>,
    },
    /// Uploads were reported finished, and S3 holds every one of them: as it held them then.
    UploadCompleted {
        objects: &'a [StoredObject],
        total_bytes: i64,
    },
    /// The pipeline checked a stored version: what S3 holds (size, ETag, version, sequencer,
    /// type) and its verdict: verified (with its EXIF and thumbnail), rejected (why), or
    /// superseded by an earlier version of the key.
    ObjectChecked {
        object: &'a ObjectFacts,
        record: &'a ObjectRecord,
        /// Whom the key was granted to; `None` for an object stored before this service.
        uploader: Option<&'a str>,
    },
    /// A client said it uploaded `file_count` files (the legacy body, no keys): its claim,
    /// recorded as such. Nothing was checked against S3.
    UploadReported {
        file_count: u32,
        /// The client's own clock, as it sent it; the row's `at` is the server's.
        client_timestamp: Option<&'a str>,
    },
    /// A listed photo was retracted or erased: its `PHOTO#` row becomes the tombstone, and the
    /// job's claim on its bytes is let go (the same bytes sent again are a photo again).
    PhotoRemoved {
        photo: &'a PhotoRecord,
        kind: RemovalKind,
        reason: Option<&'a str>,
        /// Keys recorded as duplicates of it, whose bytes go with it.
        duplicates: &'a [String],
        /// Whether the job's claim on its bytes is its own (a photo listed before claims were
        /// kept has none to let go).
        holds_claim: bool,
    },
    /// An evidence export of the job was asked for (and queued for the export function).
    ExportRequested { export_id: &'a str },
    /// The export function built it (or refused to): its `EXPORT#` row moves on from `requested`.
    ExportSettled {
        export_id: &'a str,
        /// Who asked, and when: kept on the row.
        requested_by: &'a str,
        requested_at: &'a str,
        state: &'a ExportState,
    },
}

impl AuditEvent<'_> {
    pub fn name(&self) -> &'static str {
        match self {
            AuditEvent::UploadUrlIssued { .. } => "upload_url_issued",
            AuditEvent::UploadCompleted { .. } => "upload_completed",
            AuditEvent::UploadReported { .. } => "upload_reported",
            AuditEvent::ObjectChecked { record, .. } => match record.verdict {
                Verdict::Verified(_) => "object_verified",
                Verdict::Rejected(_) => "upload_rejected",
                Verdict::Superseded => "upload_superseded",
                Verdict::Duplicate => "upload_duplicate",
            },
            AuditEvent::PhotoRemoved { kind, .. } => match kind {
                RemovalKind::Retracted => "photo_retracted",
                RemovalKind::Erased => "photo_erased",
            },
            AuditEvent::ExportRequested { .. } => "export_requested",
            AuditEvent::ExportSettled { state, .. } => match state {
                ExportState::Failed { .. } => "export_failed",
                ExportState::Withdrawn { .. } => "export_withdrawn",
                _ => "export_ready",
            },
        }
    }

    fn attributes(&self, item: &mut HashMap<String, AttributeValue>) {
        let mut put = |name: &str, value| {
            item.insert(name.to_owned(), value);
        };
        match *self {
            AuditEvent::UploadUrlIssued {
                key,
                method,
                max_bytes,
                expires_at,
                sha256,
            } => {
                put("key", AttributeValue::S(key.as_str().to_owned()));
                if let Some(hash) = sha256 {
                    put("sha256", AttributeValue::S(hash.hex()));
                }
                put("method", AttributeValue::S(method.as_str().to_owned()));
                put(
                    "content_type",
                    AttributeValue::S(key.image_type().mime().to_owned()),
                );
                put("max_bytes", AttributeValue::N(max_bytes.to_string()));
                put("expires_at", AttributeValue::S(expires_at.rfc3339()));
            }
            AuditEvent::UploadCompleted {
                objects,
                total_bytes,
            } => {
                put("file_count", AttributeValue::N(objects.len().to_string()));
                put("total_bytes", AttributeValue::N(total_bytes.to_string()));
                let keys = objects
                    .iter()
                    .map(|o| AttributeValue::S(o.key.as_str().to_owned()));
                put("keys", AttributeValue::L(keys.collect()));
                let pinned = objects
                    .iter()
                    .map(|o| AttributeValue::M(object_attributes(o)));
                put("objects", AttributeValue::L(pinned.collect()));
            }
            AuditEvent::ObjectChecked {
                object,
                record,
                uploader,
            } => item.extend(checked_attributes(object, record, uploader)),
            AuditEvent::UploadReported {
                file_count,
                client_timestamp,
            } => {
                put("file_count", AttributeValue::N(file_count.to_string()));
                put("verified", AttributeValue::Bool(false));
                if let Some(t) = client_timestamp {
                    put("client_timestamp", AttributeValue::S(t.to_owned()));
                }
            }
            AuditEvent::PhotoRemoved {
                photo,
                kind,
                reason,
                duplicates,
                ..
            } => item.extend(removal_attributes(photo, kind, reason, duplicates)),
            AuditEvent::ExportRequested { export_id } => {
                put("export_id", AttributeValue::S(export_id.to_owned()));
            }
            AuditEvent::ExportSettled {
                export_id, state, ..
            } => {
                put("export_id", AttributeValue::S(export_id.to_owned()));
                item.extend(state.attributes());
            }
        }
    }
}

/// One row: who, which job, when, from where, and the event.
#[derive(Debug, Clone)]
pub struct AuditRow<'a> {
    /// Unique per row (UUID v7); also what makes a retried write recognisable as the same write.
    pub audit_id: Uuid,
    pub job: &'a JobId,
    pub principal: &'a str,
    pub meta: &'a RequestMeta,
    pub at: UtcTime,
    /// Unix time after which DynamoDB's TTL may delete the row.
    pub expire_at: u64,
    pub event: AuditEvent<'a>,
}

impl AuditRow<'_> {
    /// `JOB#{job_id}`: all of a job's rows in one partition.
    pub fn partition_key(&self) -> String {
        partition_key(self.job)
    }

    /// `{RFC 3339 millis}#{request id}`: time-ordered within the job, unique per request.
    pub fn sort_key(&self) -> String {
        audit_sort_key(self.at, &self.meta.request_id)
    }

    pub fn to_item(&self) -> HashMap<String, AttributeValue> {
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let mut item = HashMap::with_capacity(16);
        item.insert("pk".into(), AttributeValue::S(self.partition_key()));
        item.insert("sk".into(), AttributeValue::S(self.sort_key()));
        item.insert(
            "audit_id".into(),
            AttributeValue::S(self.audit_id.to_string()),
        );
        item.insert("event".into(), s(self.event.name()));
        item.insert("job_id".into(), s(self.job.as_str()));
        item.insert("principal".into(), s(self.principal));
        item.insert("source_ip".into(), s(&self.meta.source_ip));
        item.insert("user_agent".into(), s(&self.meta.user_agent));
        item.insert("request_id".into(), s(&self.meta.request_id));
        item.insert("at".into(), AttributeValue::S(self.at.rfc3339_millis()));
        item.insert(
            "expire_at".into(),
            AttributeValue::N(self.expire_at.to_string()),
        );
        self.event.attributes(&mut item);
        item
    }

    /// The index rows written with this row: a GRANT per issued key, a COMPLETED per reported
    /// one, an OBJECT per checked version. Each carries this row's `audit_id`, which is what
    /// makes a retried write match itself.
    pub fn index_items(&self) -> Vec<HashMap<String, AttributeValue>> {
        let base = |sk: String| {
            let mut item = HashMap::with_capacity(12);
            item.insert("pk".to_owned(), AttributeValue::S(self.partition_key()));
            item.insert("sk".to_owned(), AttributeValue::S(sk));
            item.insert(
                "audit_id".to_owned(),
                AttributeValue::S(self.audit_id.to_string()),
            );
            item.insert(
                "principal".to_owned(),
                AttributeValue::S(self.principal.to_owned()),
            );
            item.insert("at".to_owned(), AttributeValue::S(self.at.rfc3339_millis()));
            item
        };
        match self.event {
            AuditEvent::UploadUrlIssued {
                key,
                method,
                max_bytes,
                sha256,
                ..
            } => {
                let mut grant = base(grant_sort_key(key));
                if let Some(hash) = sha256 {
                    grant.insert("sha256".into(), AttributeValue::S(hash.hex()));
                }
                grant.insert("key".into(), AttributeValue::S(key.as_str().to_owned()));
                grant.insert("method".into(), AttributeValue::S(method.as_str().into()));
                grant.insert("max_bytes".into(), AttributeValue::N(max_bytes.to_string()));
                // The grant only has to outlive a late completion, as long as the audit row.
                grant.insert(
                    "expire_at".into(),
                    AttributeValue::N(self.expire_at.to_string()),
                );
                vec![grant]
            }
            // Lasts as long as the grant: it answers a repeated completion, it lists nothing.
            AuditEvent::UploadCompleted { objects, .. } => objects
                .iter()
                .map(|object| {
                    let mut completed = base(completed_sort_key(&object.key));
                    completed.extend(object_attributes(object));
                    completed.insert(
                        "expire_at".into(),
                        AttributeValue::N(self.expire_at.to_string()),
                    );
                    completed
                })
                .collect(),
            AuditEvent::UploadReported { .. } => Vec::new(),
            // One per stored version, whatever S3 redelivers; as lasting as the photo.
            AuditEvent::ObjectChecked {
                object,
                record,
                uploader,
            } => {
                let sk =
                    object_sort_key(&object.key, object.version_id.as_deref(), &object.sequencer);
                let mut marker = base(sk);
                marker.extend(checked_attributes(object, record, uploader));
                vec![marker]
            }
            // Lasting, like the photo it replaces; the hash row is kept without its key.
            AuditEvent::PhotoRemoved {
                photo,
                kind,
                reason,
                duplicates,
                holds_claim,
            } => {
                let mut tombstone = base(photo_sort_key(&photo.listing_name()));
                tombstone.extend(removal_attributes(photo, kind, reason, duplicates));
                tombstone.insert("state".into(), AttributeValue::S(Tombstone::STATE.into()));
                let released = photo
                    .object
                    .sha256
                    .filter(|_| holds_claim)
                    .map(|hash| base(hash_sort_key(&hash)));
                std::iter::once(tombstone).chain(released).collect()
            }
            AuditEvent::ExportRequested { export_id } => {
                let at = self.at.rfc3339_millis();
                let state = ExportState::Requested;
                vec![self.export_row(export_id, self.principal, &at, &state, base)]
            }
            AuditEvent::ExportSettled {
                export_id,
                requested_by,
                requested_at,
                state,
            } => vec![self.export_row(export_id, requested_by, requested_at, state, base)],
        }
    }

    /// The `EXPORT#` row: who asked, when, and where the export stands; kept as long as the record.
    fn export_row(
        &self,
        export_id: &str,
        requested_by: &str,
        requested_at: &str,
        state: &ExportState,
        base: impl Fn(String) -> HashMap<String, AttributeValue>,
    ) -> HashMap<String, AttributeValue> {
        let mut row = base(export_sort_key(export_id));
        row.insert("export_id".into(), AttributeValue::S(export_id.to_owned()));
        row.insert(
            "requested_by".into(),
            AttributeValue::S(requested_by.to_owned()),
        );
        row.insert(
            "requested_at".into(),
            AttributeValue::S(requested_at.to_owned()),
        );
        row.insert(
            "expire_at".into(),
            AttributeValue::N(self.expire_at.to_string()),
        );
        row.extend(state.attributes());
        row
    }

    /// What an existing row at `sk` this row may replace (see [`Guard`]).
    fn guard(&self, sk: &str) -> Guard {
        match self.event {
            AuditEvent::ObjectChecked { record, .. }
                if record.verdict == Verdict::Superseded && sk.starts_with(OBJECT) =>
            {
                Guard::VerifiedRecord
            }
            AuditEvent::PhotoRemoved { photo, .. } if sk.starts_with(PHOTO) => Guard::ListedPhoto {
                verified_audit_id: photo.audit_id.clone(),
            },
            AuditEvent::PhotoRemoved { photo, .. } if sk.starts_with(HASH) => Guard::HashClaim {
                key: photo.object.key.as_str().to_owned(),
            },
            AuditEvent::ExportSettled {
                state: ExportState::Withdrawn { .. },
                ..
            } if sk.starts_with(EXPORT) => Guard::OpenExport,
            AuditEvent::ExportSettled { .. } if sk.starts_with(EXPORT) => Guard::RequestedExport,
            _ => Guard::NoOtherRow,
        }
    }
}

/// The condition of each row's `Put`: besides the row's own retry (same `audit_id`), which
/// existing row it may write over. Any other existing row fails the whole transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Guard {
    /// None: evidence is never overwritten.
    NoOtherRow,
    /// A version found superseded after it was verified: its verified record.
    VerifiedRecord,
    /// A removal's tombstone: the listed photo it read, and nothing else (not a tombstone, not
    /// a later version listed since).
    ListedPhoto { verified_audit_id: String },
    /// A removal lets go of the job's claim on the photo's bytes: held by its key, or by none.
    HashClaim { key: String },
    /// A built (or refused) export: its row as requested, never one settled already.
    RequestedExport,
    /// A withdrawn export: its row as requested or built, never one refused or withdrawn.
    OpenExport,
}

impl Guard {
    fn apply(self, put: PutBuilder) -> PutBuilder {
        const OWN_OR_NEW: &str = "attribute_not_exists(pk) OR audit_id = :audit_id";
        match self {
            Guard::NoOtherRow => put.condition_expression(OWN_OR_NEW),
            Guard::VerifiedRecord => put
                .condition_expression(format!("{OWN_OR_NEW} OR #state = :verified"))
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":verified", AttributeValue::S("verified".into())),
            Guard::ListedPhoto { verified_audit_id } => put
                .condition_expression(
                    "audit_id = :audit_id OR (#state = :verified AND audit_id = :listed)",
                )
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":verified", AttributeValue::S("verified".into()))
                .expression_attribute_values(":listed", AttributeValue::S(verified_audit_id)),
            Guard::HashClaim { key } => put
                .condition_expression(format!("{OWN_OR_NEW} OR #key = :key"))
                .expression_attribute_names("#key", "key")
                .expression_attribute_values(":key", AttributeValue::S(key)),
            Guard::RequestedExport => put
                .condition_expression("audit_id = :audit_id OR #state = :requested")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":requested", AttributeValue::S("requested".into())),
            Guard::OpenExport => put
                .condition_expression("audit_id = :audit_id OR #state IN (:requested, :ready)")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":requested", AttributeValue::S("requested".into()))
                .expression_attribute_values(":ready", AttributeValue::S("ready".into())),
        }
    }
}

/// The audit table, through the client built at cold start.
pub struct AuditLog {
    client: Client,
    table: String,
    retention_days: u64,
}

impl AuditLog {
    pub fn new(client: Client, table: String, retention_days: u64) -> Self {
        AuditLog {
            client,
            table,
            retention_days,
        }
    }

    /// When a row written at `at` may be removed by DynamoDB's TTL.
    pub fn expiry(&self, at: UtcTime) -> u64 {
        at.unix_secs + self.retention_days * 86_400
    }

    /// The row for `event`, by `caller`, on `job`, now.
    pub fn row<'a>(
        &self,
        caller: &'a Caller,
        job: &'a JobId,
        event: AuditEvent<'a>,
    ) -> AuditRow<'a> {
        let at = UtcTime::from_system_time(caller.now);
        AuditRow {
            audit_id: Uuid::now_v7(),
            job,
            principal: &caller.principal,
            meta: &caller.meta,
            at,
            expire_at: self.expiry(at),
            event,
        }
    }

    /// Records `event` and returns the new row's `audit_id`; `Duplicate` if any of its rows exists.
    pub async fn record(
        &self,
        caller: &Caller,
        job: &JobId,
        event: AuditEvent<'_>,
    ) -> Result<Uuid, StoreError> {
        let row = self.row(caller, job, event);
        if !self.transact(std::slice::from_ref(&row), &[], 0).await? {
            return Err(StoreError::Duplicate);
        }
        Ok(row.audit_id)
    }

    /// Records every act (each its own row, by its own caller) and adds `count` to each of
    /// `counters`, all in one transaction: all of it or nothing. `QuotaExceeded` (nothing written)
    /// if any counter would pass its limit.
    pub async fn record_counted(
        &self,
        job: &JobId,
        acts: &[(&Caller, AuditEvent<'_>)],
        counters: &[Counter],
        count: u32,
    ) -> Result<(), StoreError> {
        let rows: Vec<AuditRow> = acts
            .iter()
            .map(|(caller, event)| self.row(caller, job, *event))
            .collect();
        if !self.transact(&rows, counters, count).await? {
            return Err(StoreError::Duplicate);
        }
        Ok(())
    }

    /// Writes `row` and its index rows in one transaction, never over another event's row.
    /// `Ok(false)`: some row already belongs to another event, and nothing was written.
    pub async fn write(&self, row: &AuditRow<'_>) -> Result<bool, StoreError> {
        self.transact(std::slice::from_ref(row), &[], 0).await
    }

    /// Each row's `Put`s: the row and its index rows, each under its [`Guard`].
    fn puts(&self, row: &AuditRow<'_>) -> Result<Vec<TransactWriteItem>, StoreError> {
        let audit_id = AttributeValue::S(row.audit_id.to_string());
        std::iter::once(row.to_item())
            .chain(row.index_items())
            .map(|item| {
                let sk = item.get("sk").and_then(|v| v.as_s().ok());
                let guard = sk.map_or(Guard::NoOtherRow, |sk| row.guard(sk));
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .expression_attribute_values(":audit_id", audit_id.clone());
                let put = guard.apply(put).build().map_err(|_| StoreError::Internal)?;
                Ok(TransactWriteItem::builder().put(put).build())
            })
            .collect()
    }

    async fn transact(
        &self,
        rows: &[AuditRow<'_>],
        counters: &[Counter],
        count: u32,
    ) -> Result<bool, StoreError> {
        let mut items = Vec::new();
        for row in rows {
            items.extend(self.puts(row)?);
        }
        let row_items = items.len();
        for counter in counters {
            let update = counter.add(&self.table, count).map_err(|e| match e {
                CounterError::Exceeded(exceeded) => StoreError::QuotaExceeded(exceeded),
                CounterError::Store(err) => err,
            })?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(true),
            Err(err) => err,
        };
        let failed_conditions: Vec<usize> = match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(c)) => c
                .cancellation_reasons()
                .iter()
                .enumerate()
                .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                .map(|(i, _)| i)
                .collect(),
            _ => Vec::new(),
        };
        // A full window is told apart from a row that exists by the item whose condition failed.
        if let Some(counter) = failed_conditions
            .iter()
            .find_map(|&i| i.checked_sub(row_items).and_then(|c| counters.get(c)))
        {
            return Err(StoreError::QuotaExceeded(counter.exceeded()));
        }
        if !failed_conditions.is_empty() {
            tracing::warn!("an audit or index row already exists; refusing to overwrite it");
            return Ok(false);
        }
        Err(StoreError::sdk_failure(
            "audit TransactWriteItems",
            Dependency::AuditLog,
        )(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::image_type::ImageType;

    fn meta() -> RequestMeta {
        RequestMeta {
            request_id: "req-1".into(),
            source_ip: "203.0.113.7".into(),
            user_agent: "ua".into(),
        }
    }

    fn row<'a>(job: &'a JobId, meta: &'a RequestMeta, event: AuditEvent<'a>) -> AuditRow<'a> {
        let mut at = UtcTime::from_unix_secs(1_795_432_800);
        at.millis = 5;
        AuditRow {
            audit_id: Uuid::from_u128(0x019ab3c4_0000_7000_8000_000000000001),
            job,
            principal: "jwt:u",
            meta,
            at,
            expire_at: 1_830_000_000,
            event,
        }
    }

    #[test]
    fn every_row_carries_who_which_job_when_and_from_where() {
        let job = JobId::parse("j-1").unwrap();
        let meta = meta();
        let row = row(
            &job,
            &meta,
            AuditEvent::UploadCompleted {
                objects: &[],
                total_bytes: 0,
            },
        );
        assert_eq!(row.sort_key(), "2026-11-23T11:20:00.005Z#req-1");
        let item = row.to_item();
        let s = |name: &str| item[name].as_s().unwrap().as_str();
        assert_eq!(s("pk"), "JOB#j-1");
        assert_eq!(s("audit_id"), "019ab3c4-0000-7000-8000-000000000001");
        assert_eq!(s("principal"), "jwt:u");
        assert_eq!(s("source_ip"), "203.0.113.7");
        assert_eq!(s("at"), "2026-11-23T11:20:00.005Z");
        assert_eq!(item["expire_at"].as_n().unwrap(), "1830000000");
    }

    #[test]
    fn an_issued_url_row_names_the_key_type_size_and_expiry() {
        let job = JobId::parse("j-1").unwrap();
        let meta = meta();
        let key = UploadKey::generate(&job, ImageType::by_mime("image/png").unwrap());
        let item = row(
            &job,
            &meta,
            AuditEvent::UploadUrlIssued {
                key: &key,
                method: UploadMethod::Post,
                max_bytes: 1234,
                expires_at: UtcTime::from_unix_secs(1_795_433_700),
                sha256: None,
            },
        )
        .to_item();
        assert_eq!(item["event"].as_s().unwrap(), "upload_url_issued");
        assert_eq!(item["key"].as_s().unwrap(), key.as_str());
        assert_eq!(item["content_type"].as_s().unwrap(), "image/png");
        assert_eq!(item["max_bytes"].as_n().unwrap(), "1234");
        assert_eq!(item["expires_at"].as_s().unwrap(), "2026-11-23T11:35:00Z");
    }

    fn stored(key: UploadKey, size: i64, version: Option<&str>) -> StoredObject {
        StoredObject {
            key,
            size,
            etag: format!("\"etag-{size}\""),
            version_id: version.map(str::to_owned),
            last_modified: Some(UtcTime::from_unix_secs(1_795_432_000)),
        }
    }

    #[test]
    fn a_completion_row_pins_each_object_and_writes_a_completed_row_per_key() {
        let job = JobId::parse("j-1").unwrap();
        let meta = meta();
        let jpeg = ImageType::by_mime("image/jpeg").unwrap();
        let objects = [
            stored(UploadKey::generate(&job, jpeg), 600, Some("v1")),
            stored(UploadKey::generate(&job, jpeg), 400, None),
        ];
        let row = row(
            &job,
            &meta,
            AuditEvent::UploadCompleted {
                objects: &objects,
                total_bytes: 1000,
            },
        );
        let item = row.to_item();
        assert_eq!(item["event"].as_s().unwrap(), "upload_completed");
        assert_eq!(item["file_count"].as_n().unwrap(), "2");
        assert_eq!(item["total_bytes"].as_n().unwrap(), "1000");
        let pinned = item["objects"].as_l().unwrap();
        let first = pinned[0].as_m().unwrap();
        assert_eq!(first["key"].as_s().unwrap(), objects[0].key.as_str());
        assert_eq!(first["etag"].as_s().unwrap(), "\"etag-600\"");
        assert_eq!(first["version_id"].as_s().unwrap(), "v1");
        assert!(!pinned[1].as_m().unwrap().contains_key("version_id"));

        let photos = row.index_items();
        assert_eq!(photos.len(), 2);
        for (photo, object) in photos.iter().zip(&objects) {
            assert_eq!(photo["pk"].as_s().unwrap(), "JOB#j-1");
            assert_eq!(
                photo["sk"].as_s().unwrap(),
                &format!("COMPLETED#{}", object.key.file_name())
            );
            assert_eq!(photo["audit_id"], item["audit_id"]);
            assert_eq!(photo["size"].as_n().unwrap(), &object.size.to_string());
            assert_eq!(
                photo["expire_at"], item["expire_at"],
                "as long as its audit row"
            );
        }
    }

    #[test]
    fn an_issued_url_writes_a_grant_row_naming_its_principal() {
        let job = JobId::parse("j-1").unwrap();
        let meta = meta();
        let key = UploadKey::generate(&job, ImageType::by_mime("image/png").unwrap());
        let row = row(
            &job,
            &meta,
            AuditEvent::UploadUrlIssued {
                key: &key,
                method: UploadMethod::Post,
                max_bytes: 1,
                expires_at: UtcTime::from_unix_secs(1_795_433_700),
                sha256: Some(ContentHash::of(b"x")),
            },
        );
        let grants = row.index_items();
        assert_eq!(grants.len(), 1);
        assert_eq!(
            grants[0]["sk"].as_s().unwrap(),
            &format!("GRANT#{}", key.file_name())
        );
        assert_eq!(grants[0]["principal"].as_s().unwrap(), "jwt:u");
        assert_eq!(grants[0]["max_bytes"].as_n().unwrap(), "1");
        assert_eq!(grants[0]["method"].as_s().unwrap(), "POST");
        assert_eq!(grants[0]["expire_at"].as_n().unwrap(), "1830000000");
        assert_eq!(
            grants[0]["sha256"].as_s().unwrap(),
            &ContentHash::of(b"x").hex()
        );
    }

    #[test]
    fn a_built_export_settles_only_a_requested_row_and_a_withdrawal_also_a_ready_one() {
        let job = JobId::parse("j-1").unwrap();
        let meta = meta();
        let settled = |state| {
            let row = row(
                &job,
                &meta,
                AuditEvent::ExportSettled {
                    export_id: "e-1",
                    requested_by: "jwt:office",
                    requested_at: "2026-11-23T11:00:00.000Z",
                    state,
                },
            );
            let export_row = row.index_items().remove(0);
            let sk = export_row["sk"].as_s().unwrap().clone();
            (
                row.event.name(),
                export_row["state"].clone(),
                row.guard(&sk),
            )
        };
        let ready = ExportState::Ready {
            archive_key: "exports/j-1/e-1.zip".into(),
            size: 1,
            photos: 1,
            manifest_sha256: "00".into(),
        };
        let (event, state, guard) = settled(&ready);
        assert_eq!(
            (event, state.as_s().unwrap().as_str()),
            ("export_ready", "ready")
        );
        assert_eq!(guard, Guard::RequestedExport);
        let withdrawn = ExportState::Withdrawn {
            reason: "jobs/j-1/x.jpg was erased after this export was asked for.".into(),
        };
        let (event, state, guard) = settled(&withdrawn);
        assert_eq!(
            (event, state.as_s().unwrap().as_str()),
            ("export_withdrawn", "withdrawn")
        );
        assert_eq!(guard, Guard::OpenExport);
    }
}
