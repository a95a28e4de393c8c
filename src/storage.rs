//! S3 I/O behind two small methods. Failures are logged with the SDK's detail and surface as a
//! 503 with none of it.

use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::Client;
use futures_util::future::join_all;
use s3_presign::UtcTime;

use crate::error::{ApiError, Dependency};
use crate::job::UploadKey;

/// The uploads bucket, through the client built at cold start.
pub struct Storage {
    client: Client,
    bucket: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub key: String,
    pub size: i64,
    pub last_modified: Option<UtcTime>,
}

impl Storage {
    pub fn new(client: Client, bucket: String) -> Self {
        Storage { client, bucket }
    }

    /// One page of objects under `prefix`, in key order, starting after `start_after`.
    /// Returns the objects and whether more follow.
    pub async fn list_page(
        &self,
        prefix: &str,
        max_keys: i32,
        start_after: Option<&str>,
    ) -> Result<(Vec<StoredObject>, bool), ApiError> {
        let page = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .max_keys(max_keys)
            .set_start_after(start_after.map(str::to_owned))
            .send()
            .await
            .map_err(|err| {
                tracing::warn!(error = %DisplayErrorContext(&err), "ListObjectsV2 failed");
                ApiError::unavailable(Dependency::Storage)
            })?;
        let objects = page
            .contents()
            .iter()
            .filter_map(|o| {
                Some(StoredObject {
                    key: o.key()?.to_owned(),
                    size: o.size().unwrap_or(0),
                    last_modified: o
                        .last_modified()
                        .and_then(|t| u64::try_from(t.secs()).ok())
                        .map(UtcTime::from_unix_secs),
                })
            })
            .collect();
        Ok((objects, page.is_truncated().unwrap_or(false)))
    }

    /// The size of each object, or `None` where S3 has no such object. HEADs run concurrently.
    pub async fn object_sizes(&self, keys: &[UploadKey]) -> Result<Vec<Option<i64>>, ApiError> {
        let heads = keys.iter().map(|key| {
            self.client
                .head_object()
                .bucket(&self.bucket)
                .key(key.as_str())
                .send()
        });
        join_all(heads)
            .await
            .into_iter()
            .map(|result| match result {
                Ok(head) => Ok(Some(head.content_length().unwrap_or(0))),
                Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
                Err(err) => {
                    tracing::warn!(error = %DisplayErrorContext(&err), "HeadObject failed");
                    Err(ApiError::unavailable(Dependency::Storage))
                }
            })
            .collect()
    }
}
