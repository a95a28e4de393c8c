//! The index rows (see [`crate::store::keys`]): the state of a completion's keys, grants, what
//! the pipeline recorded of a stored version, the listing (written here, by the pipeline only),
//! pages of it, and the uploads that are not photos yet.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue};
use aws_sdk_dynamodb::Client;

use crate::domain::content_hash::ContentHash;
use crate::domain::job::{JobId, UploadKey};
use crate::store::error::{Dependency, StoreError};
use crate::store::keys::{
    completed_sort_key, export_sort_key, grant_sort_key, hash_sort_key, object_prefix,
    object_sort_key, partition_key, photo_sort_key, COMPLETED, EXPORT, OBJECT, PHOTO,
};
use crate::store::records::{
    CompletionRecord, ExportRecord, GrantRecord, ObjectRecord, PhotoRecord, Rejection, Tombstone,
    UploadState, Verdict,
};

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
        let wanted: Vec<_> = keys
            .iter()
            .flat_map(|k| [grant_sort_key(k), completed_sort_key(k)])
            .map(|sk| self.item_key(job, sk))
            .collect();
        // At most 50 keys → 100 items: one BatchGetItem.
        let found = self.batch_get(wanted).await?;
        Ok(keys
            .iter()
            .map(|k| UploadState {
                issued_to: found
                    .get(&grant_sort_key(k))
                    .and_then(GrantRecord::from_item)
                    .map(|g| g.principal),
                completed: found
                    .get(&completed_sort_key(k))
                    .and_then(|item| CompletionRecord::from_item(job, item)),
            })
            .collect())
    }

    /// The grant of `key`, if this service issued it (and its row has not expired).
    pub async fn grant(
        &self,
        job: &JobId,
        key: &UploadKey,
    ) -> Result<Option<GrantRecord>, StoreError> {
        Ok(self
            .get(job, grant_sort_key(key))
            .await?
            .as_ref()
            .and_then(GrantRecord::from_item))
    }

    /// What the pipeline recorded of one stored version, and the photo it makes if verified. A
    /// row that does not parse reads as `Err(Internal)`, never as "not yet recorded" (which
    /// would check it again).
    pub async fn object_record(
        &self,
        job: &JobId,
        key: &UploadKey,
        version: Option<&str>,
        sequencer: &str,
    ) -> Result<Option<(ObjectRecord, Option<PhotoRecord>)>, StoreError> {
        let Some(item) = self
            .get(job, object_sort_key(key, version, sequencer))
            .await?
        else {
            return Ok(None);
        };
        let record = ObjectRecord::from_item(&item).ok_or(StoreError::Internal)?;
        Ok(Some((record, PhotoRecord::from_item(job, &item))))
    }

    /// Whether any version of `key` has a record (an imported key is imported once).
    pub async fn any_version_recorded(
        &self,
        job: &JobId,
        key: &UploadKey,
    ) -> Result<bool, StoreError> {
        let found = self.rows_with_prefix(job, &object_prefix(key), 1).await?;
        Ok(!found.is_empty())
    }

    /// Lists `photo` unless an earlier version of its key (by sequencer) is listed. Written
    /// with a condition, so two versions racing each other end with the earlier one listed,
    /// whichever wrote first.
    pub async fn publish(
        &self,
        job: &JobId,
        photo: &PhotoRecord,
    ) -> Result<Publication, StoreError> {
        let sk = photo_sort_key(&photo.listing_name());
        let mut item = photo.attributes();
        item.insert("pk".into(), AttributeValue::S(partition_key(job)));
        item.insert("sk".into(), AttributeValue::S(sk.clone()));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            // A tombstone (no sequencer, another state) is never listed over.
            .condition_expression(
                "attribute_not_exists(pk) OR (#state = :verified AND sequencer > :mine)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":verified", AttributeValue::S("verified".into()))
            .expression_attribute_values(":mine", AttributeValue::S(photo.object.sequencer.clone()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match put {
            Ok(out) => Ok(Publication::Listed {
                displaced: out
                    .attributes()
                    .and_then(|old| PhotoRecord::from_item(job, old)),
            }),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                let row = self.get(job, sk).await?.ok_or(StoreError::Internal)?;
                if let Some(tombstone) = Tombstone::from_item(job, &row) {
                    return Ok(Publication::Removed(tombstone));
                }
                let listed = PhotoRecord::from_item(job, &row).ok_or(StoreError::Internal)?;
                Ok(if listed.object.sequencer == photo.object.sequencer {
                    Publication::AlreadyListed
                } else {
                    Publication::Superseded { by: listed }
                })
            }
            Err(err) => Err(StoreError::sdk_failure(
                "photo PutItem",
                Dependency::AuditLog,
            )(err)),
        }
    }

    /// Claims `hash` in `job` for `key`: `Ours` if no other key holds it (or `key` already does:
    /// a retried run), else the key that does. Conditional, so of two uploads of the same bytes
    /// racing each other exactly one is the photo.
    pub async fn claim_hash(
        &self,
        job: &JobId,
        hash: &ContentHash,
        key: &UploadKey,
    ) -> Result<HashClaim, StoreError> {
        let sk = hash_sort_key(hash);
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(partition_key(job)))
            .item("sk", AttributeValue::S(sk.clone()))
            .item("key", AttributeValue::S(key.as_str().to_owned()))
            .condition_expression(
                "attribute_not_exists(pk) OR attribute_not_exists(#key) OR #key = :key",
            )
            .expression_attribute_names("#key", "key")
            .expression_attribute_values(":key", AttributeValue::S(key.as_str().to_owned()))
            .send()
            .await;
        match put {
            Ok(_) => Ok(HashClaim::Ours),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                let holder = self
                    .get(job, sk)
                    .await?
                    .and_then(|item| item.get("key")?.as_s().ok().cloned())
                    .ok_or(StoreError::Internal)?;
                Ok(HashClaim::HeldBy(holder))
            }
            Err(err) => Err(StoreError::sdk_failure(
                "hash PutItem",
                Dependency::AuditLog,
            )(err)),
        }
    }

    /// The key whose claim on `hash` the job holds, if any.
    pub async fn hash_holder(
        &self,
        job: &JobId,
        hash: &ContentHash,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(job, hash_sort_key(hash))
            .await?
            .and_then(|item| item.get("key")?.as_s().ok().cloned()))
    }

    /// The listing row of `key`: its photo, its tombstone, or `None` (never listed, or not yet).
    /// A granted key's listing name is its file name; an imported one's is found through its
    /// verified version records.
    pub async fn listing_of(
        &self,
        job: &JobId,
        key: &UploadKey,
    ) -> Result<Option<Listing>, StoreError> {
        let names = if key.is_granted() {
            vec![key.file_name().to_owned()]
        } else {
            self.rows_with_prefix(job, &object_prefix(key), PENDING_SCAN)
                .await?
                .iter()
                .filter_map(|item| PhotoRecord::from_item(job, item))
                .map(|version| version.listing_name())
                .collect()
        };
        for name in names {
            let Some(row) = self.get(job, photo_sort_key(&name)).await? else {
                continue;
            };
            if let Some(tombstone) = Tombstone::from_item(job, &row) {
                return Ok(Some(Listing::Removed(tombstone)));
            }
            if let Some(photo) = PhotoRecord::from_item(job, &row) {
                return Ok(Some(Listing::Photo(photo)));
            }
        }
        Ok(None)
    }

    /// The job's keys recorded as duplicates of `key` (every page of its version records).
    pub async fn duplicates_of(
        &self,
        job: &JobId,
        key: &UploadKey,
    ) -> Result<Vec<String>, StoreError> {
        let mut rows = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :object)")
            .filter_expression("#state = :duplicate AND duplicate_of = :key")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pk", AttributeValue::S(partition_key(job)))
            .expression_attribute_values(":object", AttributeValue::S(OBJECT.into()))
            .expression_attribute_values(":duplicate", AttributeValue::S("duplicate".into()))
            .expression_attribute_values(":key", AttributeValue::S(key.as_str().to_owned()))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut found = Vec::new();
        while let Some(row) = rows.next().await {
            let row = row.map_err(StoreError::sdk_failure(
                "duplicates Query",
                Dependency::AuditLog,
            ))?;
            found.extend(row.get("key").and_then(|k| k.as_s().ok()).cloned());
        }
        found.sort();
        found.dedup();
        Ok(found)
    }

    /// The job's newest `limit` exports, newest first.
    pub async fn exports(&self, job: &JobId, limit: i32) -> Result<Vec<ExportRecord>, StoreError> {
        let rows = self.rows_with_prefix(job, EXPORT, limit).await?;
        Ok(rows.iter().filter_map(ExportRecord::from_item).collect())
    }

    /// One export's row.
    pub async fn export(
        &self,
        job: &JobId,
        export_id: &str,
    ) -> Result<Option<ExportRecord>, StoreError> {
        Ok(self
            .get(job, export_sort_key(export_id))
            .await?
            .as_ref()
            .and_then(ExportRecord::from_item))
    }

    /// The job's uploads that are not (or not yet) photos: reported but unchecked, or rejected.
    /// Reads at most [`PENDING_SCAN`] rows of each kind, newest first.
    pub async fn pending(&self, job: &JobId) -> Result<Vec<PendingUpload>, StoreError> {
        // Three independent reads, at once. The pipeline records a verified version, then lists
        // it: in between (or after a run that stopped there) the upload is still being checked,
        // not gone, which the listing rows tell.
        let (completed, objects, photos) = tokio::try_join!(
            self.rows_with_prefix(job, COMPLETED, PENDING_SCAN),
            self.rows_with_prefix(job, OBJECT, PENDING_SCAN),
            self.rows_with_prefix(job, PHOTO, PENDING_SCAN),
        )?;
        // Listed photos and tombstones alike.
        let listed: HashSet<String> = photos
            .iter()
            .filter_map(|item| item.get("key")?.as_s().ok().cloned())
            .collect();
        // A removed photo's duplicates went with it: nothing of them is pending.
        let removed: HashSet<String> = photos
            .iter()
            .filter_map(|item| Tombstone::from_item(job, item))
            .flat_map(|tombstone| tombstone.duplicates)
            .collect();
        // Per key: how it was settled without becoming a photo, or `None` (a photo, or to be).
        let mut checked: HashMap<String, Option<PendingState>> = HashMap::new();
        for item in &objects {
            let (Some(key), Some(record)) = (
                item.get("key").and_then(|v| v.as_s().ok()),
                ObjectRecord::from_item(item),
            ) else {
                continue;
            };
            let settled = match record.verdict {
                Verdict::Rejected(why) => Some(PendingState::Rejected(why)),
                Verdict::Duplicate => Some(PendingState::Duplicate {
                    of: record.duplicate_of.unwrap_or_default(),
                }),
                Verdict::Verified(_) | Verdict::Superseded => None,
            };
            // A key with any version not refused is a photo (or becomes one): not pending.
            let photo = settled.is_none();
            let entry = checked.entry(key.clone()).or_insert(settled);
            if photo {
                *entry = None;
            }
        }
        let mut pending: Vec<PendingUpload> = completed
            .iter()
            .filter_map(|item| CompletionRecord::from_item(job, item))
            .filter(|c| {
                let key = c.object.key.as_str();
                match checked.get(key) {
                    None => true,
                    Some(rejected) => rejected.is_none() && !listed.contains(key),
                }
            })
            .map(|c| PendingUpload {
                key: c.object.key,
                state: PendingState::Checking,
            })
            .collect();
        pending.extend(checked.into_iter().filter_map(|(key, settled)| {
            if removed.contains(&key) {
                return None;
            }
            Some(PendingUpload {
                key: UploadKey::parse_stored(job, &key)?,
                state: settled?,
            })
        }));
        pending.sort_by(|a, b| b.key.as_str().cmp(a.key.as_str()));
        Ok(pending)
    }

    /// Up to `limit` of the job's rows whose sort key starts with `prefix`, last first.
    async fn rows_with_prefix(
        &self,
        job: &JobId,
        prefix: &str,
        limit: i32,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(partition_key(job)))
            .expression_attribute_values(":prefix", AttributeValue::S(prefix.into()))
            .scan_index_forward(false)
            .limit(limit)
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::sdk_failure("index Query", Dependency::AuditLog))?;
        Ok(out.items().to_vec())
    }

    fn item_key(&self, job: &JobId, sk: String) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("pk".to_owned(), AttributeValue::S(partition_key(job))),
            ("sk".to_owned(), AttributeValue::S(sk)),
        ])
    }

    async fn get(
        &self,
        job: &JobId,
        sk: String,
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.item_key(job, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::sdk_failure("GetItem", Dependency::AuditLog))?;
        Ok(out.item().cloned())
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

    /// One page of the job's listing in upload order, or the reverse when `newest_first`,
    /// after the row named `start_after` (a listing name): its photos, its tombstones, and
    /// where the next page starts if more may follow.
    pub async fn photo_page(
        &self,
        job: &JobId,
        limit: i32,
        start_after: Option<&str>,
        newest_first: bool,
    ) -> Result<ListingPage, StoreError> {
        let start = start_after.map(|name| self.item_key(job, photo_sort_key(name)));
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :photo)")
            .expression_attribute_values(":pk", AttributeValue::S(partition_key(job)))
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
        let rows = &items[..items.len().min(page_len)];
        // Past the page's rows, or cut short by DynamoDB's 1 MB: more may follow, after the last
        // row read (a tombstone too: a page of them must still move the cursor on).
        let more = items.len() > page_len || page.last_evaluated_key().is_some();
        let next_after = rows
            .last()
            .and_then(|item| item.get("sk")?.as_s().ok()?.strip_prefix(PHOTO))
            .filter(|_| more)
            .map(str::to_owned);
        Ok(ListingPage {
            photos: rows
                .iter()
                .filter_map(|item| PhotoRecord::from_item(job, item))
                .collect(),
            removed: rows
                .iter()
                .filter_map(|item| Tombstone::from_item(job, item))
                .collect(),
            next_after,
        })
    }
}

/// One page of a job's listing.
#[derive(Debug, Clone, PartialEq)]
pub struct ListingPage {
    pub photos: Vec<PhotoRecord>,
    /// The page's tombstones: photos retracted or erased.
    pub removed: Vec<Tombstone>,
    /// The listing name the next page starts after; `None` on the last page.
    pub next_after: Option<String>,
}

/// Rows of each kind `include=pending` reads, newest first: far more than a job's open uploads.
pub const PENDING_SCAN: i32 = 500;

/// What [`PhotoIndex::publish`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Publication {
    /// Listed; `displaced` is a later version of the key that was listed before it.
    Listed { displaced: Option<PhotoRecord> },
    /// This version is listed already (a retry).
    AlreadyListed,
    /// An earlier version of the key is the photo.
    Superseded { by: PhotoRecord },
    /// The key's photo was retracted or erased: nothing of it is listed again.
    Removed(Tombstone),
}

/// An upload that is not a photo (yet): `rejected: None` while the pipeline has not checked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUpload {
    pub key: UploadKey,
    pub state: PendingState,
}

/// Where an upload that is not a photo stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingState {
    /// Reported, not yet checked (or checked and not yet listed).
    Checking,
    Rejected(Rejection),
    /// The same bytes as the job's photo under `of`.
    Duplicate {
        of: String,
    },
}

/// What the listing holds for a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Listing {
    Photo(PhotoRecord),
    Removed(Tombstone),
}

/// Who holds a job's claim on some bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashClaim {
    Ours,
    /// The key of the job's photo with these bytes.
    HeldBy(String),
}
