//! What the record says about a job's uploads, read back from the audit table. Beside each job's
//! audit rows (`pk = JOB#{job}`), two kinds of index row are written in the same transaction as
//! the audit row they belong to (see [`crate::audit`]):
//!
//! - `sk = GRANT#{file}`: the key was issued, to whom, under which `audit_id`;
//! - `sk = PHOTO#{file}`: the upload was completed, pinned to the size, ETag and version S3 held.
//!
//! `/photos` lists PHOTO rows only, so it shows exactly the photos whose completion was recorded,
//! at the version recorded; nothing another writer put under `jobs/{job}/` appears.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_dynamodb::Client;
use s3_presign::UtcTime;

use crate::error::{ApiError, Dependency};
use crate::job::{JobId, UploadKey};
use crate::storage::StoredObject;

pub const GRANT: &str = "GRANT#";
pub const PHOTO: &str = "PHOTO#";

pub fn partition_key(job: &JobId) -> String {
    format!("JOB#{job}")
}

pub fn grant_sort_key(key: &UploadKey) -> String {
    format!("{GRANT}{}", key.file_name())
}

pub fn photo_sort_key(key: &UploadKey) -> String {
    format!("{PHOTO}{}", key.file_name())
}

/// Key, size, ETag, version and time: what a completion pins of one object, as attributes (of
/// the audit row's `objects` list and of the photo row alike).
pub fn object_attributes(object: &StoredObject) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::with_capacity(6);
    item.insert(
        "key".into(),
        AttributeValue::S(object.key.as_str().to_owned()),
    );
    item.insert("size".into(), AttributeValue::N(object.size.to_string()));
    item.insert("etag".into(), AttributeValue::S(object.etag.clone()));
    if let Some(version) = &object.version_id {
        item.insert("version_id".into(), AttributeValue::S(version.clone()));
    }
    if let Some(t) = object.last_modified {
        item.insert(
            "last_modified".into(),
            AttributeValue::N(t.unix_secs.to_string()),
        );
    }
    item
}

pub const OBJECT: &str = "OBJECT#";

/// `OBJECT#{file}#{version}`: the pipeline's record of one stored version (`null` where the
/// bucket is unversioned), written once however often S3 delivers its event.
pub fn object_sort_key(key: &UploadKey, version: Option<&str>) -> String {
    format!("{OBJECT}{}#{}", key.file_name(), version.unwrap_or("null"))
}

/// Where the thumbnail of one stored version goes: outside `jobs/`, so writing it never
/// triggers the pipeline again.
pub fn thumbnail_key(key: &UploadKey, version: Option<&str>) -> String {
    format!("thumbs/{}/{}.jpg", key.as_str(), version.unwrap_or("null"))
}

/// One stored version, as S3's event and the object itself describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectFacts {
    pub key: UploadKey,
    pub size: u64,
    pub etag: Option<String>,
    pub version_id: Option<String>,
    /// Orders S3's events for one key.
    pub sequencer: Option<String>,
    /// As S3 stored it (the signed one).
    pub content_type: String,
}

impl ObjectFacts {
    pub fn attributes(&self) -> HashMap<String, AttributeValue> {
        let mut item = HashMap::with_capacity(6);
        item.insert(
            "key".into(),
            AttributeValue::S(self.key.as_str().to_owned()),
        );
        item.insert("size".into(), AttributeValue::N(self.size.to_string()));
        item.insert(
            "content_type".into(),
            AttributeValue::S(self.content_type.clone()),
        );
        for (name, value) in [
            ("etag", &self.etag),
            ("version_id", &self.version_id),
            ("sequencer", &self.sequencer),
        ] {
            if let Some(v) = value {
                item.insert(name.to_owned(), AttributeValue::S(v.clone()));
            }
        }
        item
    }
}

/// What the pipeline found in one stored object, as its record keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRecord {
    /// `false`: the bytes were not the declared type; the object was removed.
    pub accepted: bool,
    /// `created`, `unsupported`, `too_large` or `undecodable`.
    pub thumbnail: Option<String>,
    pub thumbnail_key: Option<String>,
    pub captured_at: Option<String>,
    pub location: Option<(f64, f64)>,
    pub camera_model: Option<String>,
}

impl ObjectRecord {
    /// No record yet: the pipeline has not (or not yet) seen this version.
    pub fn unprocessed() -> Self {
        ObjectRecord {
            accepted: true,
            thumbnail: None,
            thumbnail_key: None,
            captured_at: None,
            location: None,
            camera_model: None,
        }
    }

    pub fn attributes(&self) -> HashMap<String, AttributeValue> {
        let mut item = HashMap::with_capacity(8);
        item.insert("accepted".into(), AttributeValue::Bool(self.accepted));
        let mut text = |name: &str, value: &Option<String>| {
            if let Some(v) = value {
                item.insert(name.to_owned(), AttributeValue::S(v.clone()));
            }
        };
        text("thumbnail", &self.thumbnail);
        text("thumbnail_key", &self.thumbnail_key);
        text("captured_at", &self.captured_at);
        text("camera_model", &self.camera_model);
        if let Some((lat, lon)) = self.location {
            item.insert("latitude".into(), AttributeValue::N(format!("{lat:.7}")));
            item.insert("longitude".into(), AttributeValue::N(format!("{lon:.7}")));
        }
        item
    }

    pub fn from_item(item: &HashMap<String, AttributeValue>) -> Self {
        let s = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let f = |name: &str| item.get(name)?.as_n().ok()?.parse::<f64>().ok();
        ObjectRecord {
            accepted: item
                .get("accepted")
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(true),
            thumbnail: s("thumbnail"),
            thumbnail_key: s("thumbnail_key"),
            captured_at: s("captured_at"),
            location: f("latitude").zip(f("longitude")),
            camera_model: s("camera_model"),
        }
    }
}

/// A completed upload, as recorded: the object as it was pinned, and the completion's audit id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoRecord {
    pub audit_id: String,
    pub object: StoredObject,
}

impl PhotoRecord {
    fn from_item(job: &JobId, item: &HashMap<String, AttributeValue>) -> Option<PhotoRecord> {
        let s = |name: &str| item.get(name)?.as_s().ok().cloned();
        let n = |name: &str| item.get(name)?.as_n().ok()?.parse::<i64>().ok();
        Some(PhotoRecord {
            audit_id: s("audit_id")?,
            object: StoredObject {
                key: UploadKey::parse(job, &s("key")?)?,
                size: n("size")?,
                etag: s("etag")?,
                version_id: s("version_id"),
                last_modified: n("last_modified")
                    .and_then(|t| u64::try_from(t).ok())
                    .map(UtcTime::from_unix_secs),
            },
        })
    }
}

/// What the record holds for one key of a completion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadState {
    /// Whom the key was issued to; `None` when the server never issued it (or its row expired).
    pub issued_to: Option<String>,
    pub completed: Option<PhotoRecord>,
}

/// The index rows of the audit table, through the client built at cold start.
pub struct PhotoIndex {
    client: Client,
    table: String,
}

impl PhotoIndex {
    pub fn new(client: Client, table: String) -> Self {
        PhotoIndex { client, table }
    }

    /// Each key's grant and completion (strongly consistent: a completion just written is seen).
    pub async fn upload_states(
        &self,
        job: &JobId,
        keys: &[UploadKey],
    ) -> Result<Vec<UploadState>, ApiError> {
        let pk = partition_key(job);
        let item_key = |sk: String| {
            HashMap::from([
                ("pk".to_owned(), AttributeValue::S(pk.clone())),
                ("sk".to_owned(), AttributeValue::S(sk)),
            ])
        };
        let mut wanted: Vec<HashMap<String, AttributeValue>> = keys
            .iter()
            .flat_map(|k| [item_key(grant_sort_key(k)), item_key(photo_sort_key(k))])
            .collect();
        // At most 50 keys → 100 items: one BatchGetItem.
        let found = self.batch_get(std::mem::take(&mut wanted)).await?;
        Ok(keys
            .iter()
            .map(|k| UploadState {
                issued_to: found
                    .get(&grant_sort_key(k))
                    .and_then(|item| item.get("principal")?.as_s().ok().cloned()),
                completed: found
                    .get(&photo_sort_key(k))
                    .and_then(|item| PhotoRecord::from_item(job, item)),
            })
            .collect())
    }

    /// What the pipeline recorded of each (key, version): thumbnail, evidence, or rejection.
    pub async fn object_records(
        &self,
        job: &JobId,
        objects: &[(&UploadKey, Option<&str>)],
    ) -> Result<Vec<Option<ObjectRecord>>, ApiError> {
        let pk = partition_key(job);
        let wanted = objects
            .iter()
            .map(|(key, version)| {
                HashMap::from([
                    ("pk".to_owned(), AttributeValue::S(pk.clone())),
                    (
                        "sk".to_owned(),
                        AttributeValue::S(object_sort_key(key, *version)),
                    ),
                ])
            })
            .collect();
        let found = self.batch_get(wanted).await?;
        Ok(objects
            .iter()
            .map(|(key, version)| {
                found
                    .get(&object_sort_key(key, *version))
                    .map(ObjectRecord::from_item)
            })
            .collect())
    }

    /// Items by key, consistently read, 100 per BatchGetItem (DynamoDB's limit), retrying what
    /// DynamoDB leaves unprocessed; keyed by `sk` (all wanted items share one partition).
    async fn batch_get(
        &self,
        wanted: Vec<HashMap<String, AttributeValue>>,
    ) -> Result<HashMap<String, HashMap<String, AttributeValue>>, ApiError> {
        let mut found = HashMap::with_capacity(wanted.len());
        for chunk in wanted.chunks(100) {
            let mut pending = chunk.to_vec();
            for round in 0.. {
                if pending.is_empty() {
                    break;
                }
                if round == 5 {
                    tracing::warn!("BatchGetItem left items unprocessed five times");
                    return Err(ApiError::unavailable(Dependency::AuditLog));
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .build()
                    .map_err(|_| ApiError::internal())?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(ApiError::sdk_failure("BatchGetItem", Dependency::AuditLog))?;
                for item in out
                    .responses()
                    .and_then(|r| r.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    if let Some(sk) = item.get("sk").and_then(|v| v.as_s().ok()) {
                        found.insert(sk.clone(), item.clone());
                    }
                }
                if let Some(left) = out.unprocessed_keys().and_then(|u| u.get(&self.table)) {
                    pending = left.keys().to_vec();
                }
            }
        }
        Ok(found)
    }

    /// One page of the job's completed photos in key (= upload) order, or the reverse when
    /// `newest_first`, after `start_after` (a key of this job). Returns the photos and whether more
    /// may follow.
    pub async fn photo_page(
        &self,
        job: &JobId,
        limit: i32,
        start_after: Option<&str>,
        newest_first: bool,
    ) -> Result<(Vec<PhotoRecord>, bool), ApiError> {
        let pk = partition_key(job);
        let start = start_after.map(|key| {
            let file = key.rsplit('/').next().unwrap_or_default();
            HashMap::from([
                ("pk".to_owned(), AttributeValue::S(pk.clone())),
                ("sk".to_owned(), AttributeValue::S(format!("{PHOTO}{file}"))),
            ])
        });
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :photo)")
            .expression_attribute_values(":pk", AttributeValue::S(pk))
            .expression_attribute_values(":photo", AttributeValue::S(PHOTO.into()))
            .set_exclusive_start_key(start)
            .scan_index_forward(!newest_first)
            // One more than the page: DynamoDB also sets LastEvaluatedKey when a page ends exactly
            // on the last item, which would hand out a cursor to an empty page.
            .limit(limit.saturating_add(1))
            .consistent_read(true)
            .send()
            .await
            .map_err(ApiError::sdk_failure("photo Query", Dependency::AuditLog))?;
        let items = page.items();
        let page_len = usize::try_from(limit).unwrap_or(0);
        // Past the page's items, or cut short by DynamoDB's 1 MB: more may follow.
        let more = items.len() > page_len || page.last_evaluated_key().is_some();
        let photos = items
            .iter()
            .take(page_len)
            .filter_map(|item| PhotoRecord::from_item(job, item))
            .collect();
        Ok((photos, more))
    }
}
