//! Reads of the index rows (see [`crate::store::keys`]): the state of a completion's keys, what
//! the pipeline recorded of a stored version, and pages of a job's photos.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_dynamodb::Client;

use crate::domain::job::{JobId, UploadKey};
use crate::store::error::{Dependency, StoreError};
use crate::store::keys::{grant_sort_key, object_sort_key, partition_key, photo_sort_key, PHOTO};
use crate::store::records::{ObjectRecord, PhotoRecord, UploadState};

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
    ) -> Result<Vec<UploadState>, StoreError> {
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
    ) -> Result<Vec<Option<ObjectRecord>>, StoreError> {
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
    ) -> Result<HashMap<String, HashMap<String, AttributeValue>>, StoreError> {
        let mut found = HashMap::with_capacity(wanted.len());
        for chunk in wanted.chunks(100) {
            let mut pending = chunk.to_vec();
            for round in 0.. {
                if pending.is_empty() {
                    break;
                }
                if round == 5 {
                    tracing::warn!("BatchGetItem left items unprocessed five times");
                    return Err(StoreError::Unavailable(Dependency::AuditLog));
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .build()
                    .map_err(|_| StoreError::Internal)?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(StoreError::sdk_failure(
                        "BatchGetItem",
                        Dependency::AuditLog,
                    ))?;
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
    ) -> Result<(Vec<PhotoRecord>, bool), StoreError> {
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
            .map_err(StoreError::sdk_failure("photo Query", Dependency::AuditLog))?;
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
