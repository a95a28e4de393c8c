//! S3 I/O: what the bucket holds for the keys of a completion. Failures are logged with the SDK's
//! detail and surface as a 503 with none of it.

use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::operation::head_object::{HeadObjectError, HeadObjectOutput};
use aws_sdk_s3::Client;
use futures_util::future::join_all;
use s3_presign::UtcTime;

use crate::domain::job::UploadKey;
use crate::store::error::{Dependency, StoreError};
use crate::store::records::StoredObject;

/// An archive's part: what an export holds in memory while storing it.
pub const ARCHIVE_PART_BYTES: usize = 16 * 1024 * 1024;

/// The uploads bucket, through the client built at cold start.
pub struct Storage {
    client: Client,
    bucket: String,
}

impl Storage {
    pub fn new(client: Client, bucket: String) -> Self {
        Storage { client, bucket }
    }

    /// Each key's current object, or `None` where S3 has none. HEADs run concurrently.
    pub async fn head_objects(
        &self,
        keys: &[UploadKey],
    ) -> Result<Vec<Option<StoredObject>>, StoreError> {
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
            .zip(keys)
            .map(|(result, key)| {
                head_outcome(result).map(|head| {
                    head.map(|head| StoredObject {
                        key: key.clone(),
                        size: head.content_length().unwrap_or(0),
                        etag: head.e_tag().unwrap_or_default().to_owned(),
                        version_id: head.version_id().map(str::to_owned),
                        last_modified: head.last_modified().and_then(utc),
                    })
                })
            })
            .collect()
    }
}

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedObject {
    pub key: String,
    pub size: u64,
    pub etag: Option<String>,
    /// Unix seconds.
    pub last_modified: u64,
}

impl Storage {
    /// Every object under `prefix`, in key order (ListObjectsV2, page by page).
    pub async fn list(&self, prefix: &str) -> Result<Vec<ListedObject>, StoreError> {
        let mut found = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(StoreError::sdk_failure(
                "ListObjectsV2",
                Dependency::Storage,
            ))?;
            found.extend(page.contents().iter().map(|o| ListedObject {
                key: o.key().unwrap_or_default().to_owned(),
                size: o.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                etag: o.e_tag().map(str::to_owned),
                last_modified: o.last_modified().and_then(utc).map_or(0, |t| t.unix_secs),
            }));
        }
        Ok(found)
    }

    /// The current version of `key` (`None` where the bucket keeps no versions, or it is gone).
    pub async fn version_of(&self, key: &str) -> Result<Option<String>, StoreError> {
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        Ok(head_outcome(head)?.and_then(|h| h.version_id().map(str::to_owned)))
    }
}

/// An object's bytes (or their first part) as the pipeline reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectBytes {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
    pub last_modified: Option<UtcTime>,
    /// What else S3 stored with it that a client could set: each header by name (user metadata
    /// as `x-amz-meta-NAME: value`).
    pub stored_headers: Vec<String>,
}

impl Storage {
    /// `key` at `version` (the latest when `None`): its first `first_bytes` bytes, or all of
    /// it; `None` when S3 no longer has it (deleted, or a version since removed).
    pub async fn read(
        &self,
        key: &str,
        version: Option<&str>,
        first_bytes: Option<u64>,
    ) -> Result<Option<ObjectBytes>, StoreError> {
        let got = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version.map(str::to_owned))
            .set_range(first_bytes.map(|n| format!("bytes=0-{}", n.saturating_sub(1))))
            .send()
            .await;
        let out = match got {
            Ok(out) => out,
            Err(err)
                if err.as_service_error().is_some_and(|e| e.is_no_such_key())
                    || err
                        .raw_response()
                        .is_some_and(|r| r.status().as_u16() == 404) =>
            {
                return Ok(None)
            }
            Err(err) => {
                return Err(StoreError::sdk_failure("GetObject", Dependency::Storage)(
                    err,
                ))
            }
        };
        let content_type = out.content_type().map(str::to_owned);
        let last_modified = out.last_modified().and_then(utc);
        let stored_headers = stored_headers(&out);
        let bytes = out
            .body
            .collect()
            .await
            .map_err(StoreError::sdk_failure(
                "GetObject body",
                Dependency::Storage,
            ))?
            .into_bytes()
            .to_vec();
        Ok(Some(ObjectBytes {
            bytes,
            content_type,
            last_modified,
            stored_headers,
        }))
    }

    /// Whether S3 holds a version of `key` stored before `version` (its list of a key's
    /// versions is newest first).
    pub async fn earlier_version_exists(
        &self,
        key: &str,
        version: Option<&str>,
    ) -> Result<bool, StoreError> {
        let out = self
            .client
            .list_object_versions()
            .bucket(&self.bucket)
            .prefix(key)
            .send()
            .await
            .map_err(StoreError::sdk_failure(
                "ListObjectVersions",
                Dependency::Storage,
            ))?;
        let versions: Vec<&str> = out
            .versions()
            .iter()
            .filter(|v| v.key() == Some(key))
            .filter_map(|v| v.version_id())
            .collect();
        Ok(versions
            .iter()
            .position(|v| Some(*v) == version)
            .is_some_and(|at| at + 1 < versions.len()))
    }

    /// Stores a thumbnail: immutable (its key names the version it shows), cached a year.
    pub async fn put_thumbnail(&self, key: &str, jpeg: Vec<u8>) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("image/jpeg")
            .cache_control("private, max-age=31536000, immutable")
            .body(jpeg.into())
            .send()
            .await
            .map(|_| ())
            .map_err(StoreError::sdk_failure(
                "PutObject (thumbnail)",
                Dependency::Storage,
            ))
    }

    /// Removes one stored version for good (the latest object where the bucket is unversioned);
    /// removing what is already gone succeeds.
    pub async fn delete_version(&self, key: &str, version: Option<&str>) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version.map(str::to_owned))
            .send()
            .await
            .map(|_| ())
            .map_err(StoreError::sdk_failure("DeleteObject", Dependency::Storage))
    }

    /// Stores the archive at `path` under `key`, a part at a time (an archive may be gigabytes;
    /// memory holds one part): one PUT when it fits in a part, else a multipart upload, aborted
    /// if any part fails. Returns the version stored, where the bucket keeps versions.
    pub async fn put_archive(
        &self,
        key: &str,
        path: &std::path::Path,
    ) -> Result<Option<String>, StoreError> {
        use std::io::Read;
        let mut file = std::fs::File::open(path).map_err(|_| StoreError::Internal)?;
        let mut next_part = || -> Result<Vec<u8>, StoreError> {
            let mut part = Vec::with_capacity(ARCHIVE_PART_BYTES);
            (&mut file)
                .take(ARCHIVE_PART_BYTES as u64)
                .read_to_end(&mut part)
                .map_err(|_| StoreError::Internal)?;
            Ok(part)
        };
        let first = next_part()?;
        if first.len() < ARCHIVE_PART_BYTES {
            return self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(key)
                .content_type("application/zip")
                .body(first.into())
                .send()
                .await
                .map(|out| out.version_id().map(str::to_owned))
                .map_err(StoreError::sdk_failure(
                    "PutObject (archive)",
                    Dependency::Storage,
                ));
        }
        let upload = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/zip")
            .send()
            .await
            .map_err(StoreError::sdk_failure(
                "CreateMultipartUpload",
                Dependency::Storage,
            ))?;
        let upload_id = upload.upload_id().ok_or(StoreError::Internal)?.to_owned();
        let mut parts = Vec::new();
        let mut part = first;
        let sent: Result<Option<String>, StoreError> = async {
            while !part.is_empty() {
                let number = parts.len() as i32 + 1;
                let out = self
                    .client
                    .upload_part()
                    .bucket(&self.bucket)
                    .key(key)
                    .upload_id(&upload_id)
                    .part_number(number)
                    .body(std::mem::take(&mut part).into())
                    .send()
                    .await
                    .map_err(StoreError::sdk_failure("UploadPart", Dependency::Storage))?;
                parts.push(
                    aws_sdk_s3::types::CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(out.e_tag().map(str::to_owned))
                        .build(),
                );
                part = next_part()?;
            }
            let done = aws_sdk_s3::types::CompletedMultipartUpload::builder()
                .set_parts(Some(std::mem::take(&mut parts)))
                .build();
            self.client
                .complete_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&upload_id)
                .multipart_upload(done)
                .send()
                .await
                .map(|out| out.version_id().map(str::to_owned))
                .map_err(StoreError::sdk_failure(
                    "CompleteMultipartUpload",
                    Dependency::Storage,
                ))
        }
        .await;
        if sent.is_err() {
            // The bucket's lifecycle rule aborts what this leaves too, a day later.
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await;
        }
        sent
    }

    /// Removes every version and delete marker of `key`, and of everything under `key/` (a
    /// photo's thumbnails live under `thumbs/{key}/`): nothing of it stays in a versioned
    /// bucket. A store that keeps no versions and lists none (Garage) has only current objects
    /// to remove. Returns how many were removed; what is already gone removes nothing.
    pub async fn delete_every_version(&self, key: &str) -> Result<usize, StoreError> {
        self.delete_every_version_where(key, |_| true).await
    }

    /// [`Self::delete_every_version`], of the keys `chosen` picks only.
    pub async fn delete_every_version_where(
        &self,
        key: &str,
        chosen: impl Fn(&str) -> bool,
    ) -> Result<usize, StoreError> {
        let below = format!("{key}/");
        // `key` as a prefix also matches longer keys (`….jpg2`): only the key and what is below.
        let ours = |k: &str| (k == key || k.starts_with(&below)) && chosen(k);
        let mut removed = 0;
        let (mut key_marker, mut version_marker) = (None, None);
        loop {
            let listed = self
                .client
                .list_object_versions()
                .bucket(&self.bucket)
                .prefix(key)
                .set_key_marker(key_marker)
                .set_version_id_marker(version_marker)
                .send()
                .await;
            let page = match listed {
                Ok(page) => page,
                Err(err)
                    if err
                        .raw_response()
                        .is_some_and(|r| r.status().as_u16() == 501) =>
                {
                    for object in self.list(key).await? {
                        if ours(&object.key) {
                            self.delete_version(&object.key, None).await?;
                            removed += 1;
                        }
                    }
                    return Ok(removed);
                }
                Err(err) => {
                    return Err(StoreError::sdk_failure(
                        "ListObjectVersions",
                        Dependency::Storage,
                    )(err))
                }
            };
            let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
            let markers = page
                .delete_markers()
                .iter()
                .map(|m| (m.key(), m.version_id()));
            let found: Vec<(&str, Option<&str>)> = versions
                .chain(markers)
                .filter_map(|(k, v)| Some((k?, v)))
                .filter(|(k, _)| ours(k))
                .collect();
            for (k, version) in found {
                // `null` too, by name: the version stored before versioning was turned on.
                self.delete_version(k, version).await?;
                removed += 1;
            }
            if page.is_truncated() != Some(true) {
                return Ok(removed);
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            version_marker = page.next_version_id_marker().map(str::to_owned);
        }
    }
}

/// The headers a PUT may set on the object besides its type and length, as S3 returns them.
fn stored_headers(out: &aws_sdk_s3::operation::get_object::GetObjectOutput) -> Vec<String> {
    let mut found: Vec<String> = [
        ("Content-Encoding", out.content_encoding()),
        ("Content-Disposition", out.content_disposition()),
        ("Content-Language", out.content_language()),
        ("Cache-Control", out.cache_control()),
        ("Expires", out.expires_string()),
        (
            "x-amz-website-redirect-location",
            out.website_redirect_location(),
        ),
    ]
    .into_iter()
    .filter(|(_, value)| value.is_some_and(|v| !v.is_empty()))
    .map(|(name, _)| name.to_owned())
    .collect();
    if out.tag_count().is_some_and(|n| n > 0) {
        found.push("x-amz-tagging".into());
    }
    let mut metadata: Vec<String> = out
        .metadata()
        .into_iter()
        .flatten()
        .map(|(name, value)| format!("x-amz-meta-{name}: {value}"))
        .collect();
    metadata.sort();
    found.extend(metadata);
    found
}

fn utc(t: &aws_sdk_s3::primitives::DateTime) -> Option<UtcTime> {
    u64::try_from(t.secs()).ok().map(UtcTime::from_unix_secs)
}

/// A HEAD's answer: the object, no object (404), or 503. S3 answers a HEAD of a missing key with
/// 404 only to a caller allowed `s3:ListBucket` on the bucket, and with 403 otherwise; the
/// template grants it, so a 403 here is a real refusal (a broken role or bucket policy) and is
/// never mistaken for "not uploaded yet".
fn head_outcome(
    result: Result<
        HeadObjectOutput,
        SdkError<HeadObjectError, aws_sdk_s3::config::http::HttpResponse>,
    >,
) -> Result<Option<HeadObjectOutput>, StoreError> {
    match result {
        Ok(head) => Ok(Some(head)),
        Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
        Err(err) => {
            let status = err.raw_response().map(|r| r.status().as_u16());
            if status == Some(403) {
                tracing::error!(error = %DisplayErrorContext(&err), "HeadObject refused (403): the role needs s3:GetObject on jobs/* and s3:ListBucket on the bucket");
            } else {
                tracing::warn!(error = %DisplayErrorContext(&err), "HeadObject failed");
            }
            Err(StoreError::Unavailable(Dependency::Storage))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::config::http::HttpResponse;
    use aws_sdk_s3::primitives::SdkBody;
    use aws_sdk_s3::types::error::NotFound;
    use aws_smithy_runtime_api::http::StatusCode;

    fn refused(
        status: u16,
        error: HeadObjectError,
    ) -> Result<Option<HeadObjectOutput>, StoreError> {
        let response = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        head_outcome(Err(SdkError::service_error(error, response)))
    }

    // No local S3 server emulates IAM, so what AWS answers without s3:ListBucket is fed in here.
    #[test]
    fn a_404_is_a_missing_object_and_a_403_is_an_outage_never_a_missing_object() {
        let not_found = HeadObjectError::NotFound(NotFound::builder().build());
        assert_eq!(refused(404, not_found), Ok(None));
        let forbidden = HeadObjectError::generic(
            aws_sdk_s3::error::ErrorMetadata::builder()
                .code("Forbidden")
                .build(),
        );
        let err = refused(403, forbidden).unwrap_err();
        assert_eq!(err, StoreError::Unavailable(Dependency::Storage));
        let head = HeadObjectOutput::builder().content_length(5).build();
        assert!(head_outcome(Ok(head)).unwrap().is_some());
    }
}
